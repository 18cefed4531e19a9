/*
 * test_sniff_rtt.c - the sniffer's records of the handshake copies
 * (sniff_rtt.c), white-box, without a kernel: copies fed as nfnetlink_log
 * messages, the session's first data judged with them at once or, when
 * it came first, when the handshake ACK's copy comes; spoiled copies and
 * missing ones leave the session to the order test; the records are
 * bounded by max_flows.  The rule itself is test_smtpproto.c's.  Findings
 * are read from the flow's protocol state (the rule's action is off, so
 * no strike machinery runs).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "nflog.h"
#include "nflog_fixture.h"
#include "sniff_int.h"

#define ISN	0xfffffff0u
#define SRV	0xc0000201u	/* 192.0.2.1 */
#define CL	0xcb007128u	/* 203.0.113.40 */

static struct sniff *
sniff_fixture(uint32_t max_flows)
{
	struct sniff *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_non_null(s->ev = evloop_new());
	s->conf.sniffer.max_flows = max_flows;
	s->conf.sniffer.rule[RULE_PREGREET] = ACTION_OFF;
	assert_int_equal(siphash_key_random(&s->flow_key), 0);
	assert_int_equal(sniff_flow_init(s), 0);
	assert_int_equal(sniff_rtt_init(s), 0);
	return s;
}

static void
sniff_fixture_free(struct sniff *s)
{
	sniff_flow_free_all(s);
	sniff_rtt_free_all(s);
	free(s->bucket);
	evloop_free(s->ev);
	free(s);
}

/* One copy: hook, the client's port, flags, seq, ack; in: stamped
 * ts_ago_us before now (CLOCK_REALTIME), as the kernel stamps input. */
static void
copy(struct sniff *s, uint8_t hook, uint16_t cport, uint8_t flags,
    uint32_t seq, uint32_t ack, size_t payload, int64_t ts_ago_us,
    int64_t read_us)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	bool out = hook == NF_INET_LOCAL_OUT;
	struct nflog_packet lp;
	const char *why;

	(void)nflog_fixture_msg(buf, sizeof(buf), hook, htonl(out ? SRV : CL),
	    htonl(out ? CL : SRV), out ? 25 : cport, out ? cport : 25, flags,
	    seq, ack, payload, ts_ago_us);
	assert_int_equal(nflog_parse((struct nlmsghdr *)buf, &lp, &why), 0);
	sniff_rtt_copy(s, &lp, read_us);
}

/* The client's flow on cport, as its first queued packet makes it. */
static struct sniff_flow *
flow(struct sniff *s, uint16_t cport)
{
	struct pkt p;
	uint32_t src = htonl(CL), dst = htonl(SRV);
	struct sniff_flow *f;

	memset(&p, 0, sizeof(p));
	addr_from_v4(&p.src, (const uint8_t *)&src);
	addr_from_v4(&p.dst, (const uint8_t *)&dst);
	p.sport = cport;
	p.dport = 25;
	assert_non_null(f = sniff_flow_new(s, &p));
	return f;
}

#define MS	1000

/* A 150 ms handshake, the data 30 ms after the ACK: rtt; the copies
 * before the data. */
static void
test_at_once(void **state)
{
	struct sniff *s = sniff_fixture(64);
	int64_t now = evloop_clock_us();
	struct sniff_flow *f;
	unsigned n;

	(void)state;
	/* The ACK came 30 ms ago, its copy read 1 ms after (its stamp is
	 * what counts). */
	copy(s, NF_INET_LOCAL_OUT, 40000, 0x12, ISN, 1, 0, 0, now - 180 * MS);
	copy(s, NF_INET_LOCAL_IN, 40000, 0x10, 1, ISN + 1, 0, 1 * MS,
	    now - 29 * MS);
	f = flow(s, 40000);
	n = sniff_rtt_first(s, f, now, ISN + 1 + 30);
	if (n != SMTPPROTO_PREGREET || f->proto.greet != SMTPPROTO_GREET_RTT ||
	    f->rtt_wait)
		fail_msg("got findings 0x%x why %s waiting %d, want pregreet "
		    "(rtt), not waiting", n, smtpproto_greet_name(
		    f->proto.greet), f->rtt_wait);
	if (f->proto.rtt.rtt_us < 148 * MS || f->proto.rtt.rtt_us > 152 * MS)
		fail_msg("got rtt %lld us, want about 150 ms",
		    (long long)f->proto.rtt.rtt_us);
	assert_int_equal(sniff_rtt_count(s), 0);	/* judged: freed */
	sniff_fixture_free(s);
}

/* The data before the copies (they wait in the kernel's batch): the flow
 * waits, and the ACK's copy judges it (ack: nothing acknowledged). */
static void
test_deferred(void **state)
{
	struct sniff *s = sniff_fixture(64);
	int64_t now = evloop_clock_us();
	struct sniff_flow *f = flow(s, 40001);

	(void)state;
	if (sniff_rtt_first(s, f, now - 5 * MS, ISN + 1) != 0 || !f->rtt_wait)
		fail_msg("no record: got a finding or no wait");
	assert_int_equal(s->st.rtt_waited, 1);
	copy(s, NF_INET_LOCAL_OUT, 40001, 0x12, ISN, 1, 0, 0, now);
	if (!f->rtt_wait)
		fail_msg("the SYN-ACK's copy alone ended the wait");
	copy(s, NF_INET_LOCAL_IN, 40001, 0x10, 1, ISN + 1, 0, 6 * MS, now);
	if (!(f->proto.found & SMTPPROTO_PREGREET) ||
	    f->proto.greet != SMTPPROTO_GREET_ACK || f->rtt_wait)
		fail_msg("after the ACK's copy: got found 0x%x why %s waiting "
		    "%d, want pregreet (ack)", f->proto.found,
		    smtpproto_greet_name(f->proto.greet), f->rtt_wait);
	sniff_fixture_free(s);
}

/* The clean twin, deferred: the data acknowledged the banner and came a
 * round trip after the ACK. */
static void
test_deferred_clean(void **state)
{
	struct sniff *s = sniff_fixture(64);
	int64_t now = evloop_clock_us();
	struct sniff_flow *f = flow(s, 40002);

	(void)state;
	(void)sniff_rtt_first(s, f, now - 1 * MS, ISN + 1 + 30);
	copy(s, NF_INET_LOCAL_OUT, 40002, 0x12, ISN, 1, 0, 0, now - 300 * MS);
	copy(s, NF_INET_LOCAL_IN, 40002, 0x10, 1, ISN + 1, 0, 150 * MS, now);
	if (f->proto.found != 0 || f->rtt_wait || sniff_rtt_count(s) != 0)
		fail_msg("got found 0x%x waiting %d records %zu, want none",
		    f->proto.found, f->rtt_wait, sniff_rtt_count(s));
	sniff_fixture_free(s);
}

/* A retransmitted SYN-ACK spoils the times: no rtt finding, though the
 * timing alone would make one; the ISN's proof still holds. */
static void
test_spoiled(void **state)
{
	struct sniff *s = sniff_fixture(64);
	int64_t now = evloop_clock_us();
	struct sniff_flow *f;

	(void)state;
	copy(s, NF_INET_LOCAL_OUT, 40003, 0x12, ISN, 1, 0, 0, now - 1180 * MS);
	copy(s, NF_INET_LOCAL_OUT, 40003, 0x12, ISN, 1, 0, 0, now - 180 * MS);
	copy(s, NF_INET_LOCAL_IN, 40003, 0x10, 1, ISN + 1, 0, 30 * MS,
	    now - 30 * MS);
	f = flow(s, 40003);
	if (sniff_rtt_first(s, f, now, ISN + 1 + 30) != 0)
		fail_msg("spoiled times made a finding (%s)",
		    smtpproto_greet_name(f->proto.greet));
	f = flow(s, 40004);
	copy(s, NF_INET_LOCAL_OUT, 40004, 0x12, ISN, 1, 0, 0, now);
	copy(s, NF_INET_LOCAL_OUT, 40004, 0x12, ISN, 1, 0, 0, now);
	copy(s, NF_INET_LOCAL_IN, 40004, 0x10, 1, ISN + 1, 0, 0, now);
	if (sniff_rtt_first(s, f, now, ISN + 1) != SMTPPROTO_PREGREET)
		fail_msg("spoiled times: the ISN's proof made no finding");
	sniff_fixture_free(s);
}

/* max_flows records at most; the oldest goes. */
static void
test_bounded(void **state)
{
	struct sniff *s = sniff_fixture(16);
	int64_t now = evloop_clock_us();

	(void)state;
	for (uint16_t p = 0; p < 100; p++)
		copy(s, NF_INET_LOCAL_OUT, (uint16_t)(41000 + p), 0x12, ISN, 1,
		    0, 0, now);
	if (sniff_rtt_count(s) != 16 || s->st.rtt_evicted != 84)
		fail_msg("got %zu records, %llu evicted, want 16 and 84",
		    sniff_rtt_count(s), (unsigned long long)s->st.rtt_evicted);
	sniff_fixture_free(s);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_at_once),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_deferred_clean),
		cmocka_unit_test(test_spoiled),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests_name("sniff_rtt", t, NULL, NULL);
}
