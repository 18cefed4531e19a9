/*
 * test_nflog.c - nfnetlink_log's messages (nflog.h, nflog_msg.c) without
 * a kernel: the config message built and read back attribute by
 * attribute; packet messages as the kernel sends them (an output copy
 * without a time, an input copy with one, the attributes newer kernels
 * add) parsed, and broken ones refused with their reason.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "netlink.h"
#include "nflog.h"

static void
test_config(void **state)
{
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	const struct nlmsghdr *nlh;
	const struct nfgenmsg *nfg;
	const struct nlattr *a;
	unsigned seen = 0;

	(void)state;
	assert_non_null(b);
	assert_int_equal(nflog_config_build(b, 7, 128), 0);
	assert_int_equal(nl_batch_count(b), 1);
	assert_string_equal(nl_batch_label(b, 0), "bind nflog group 7");
	nlh = nl_batch_msg(b, 0);
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG) ||
	    !(nlh->nlmsg_flags & NLM_F_ACK))
		fail_msg("got type 0x%x flags 0x%x, want an acked config "
		    "message", nlh->nlmsg_type, nlh->nlmsg_flags);
	nfg = mnl_nlmsg_get_payload(nlh);
	if (ntohs(nfg->res_id) != 7 || nfg->nfgen_family != AF_UNSPEC)
		fail_msg("got group %u family %u, want 7 and AF_UNSPEC",
		    ntohs(nfg->res_id), nfg->nfgen_family);
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		const uint8_t *v = mnl_attr_get_payload(a);

		switch (mnl_attr_get_type(a)) {
		case NFULA_CFG_CMD:
			if (v[0] != NFULNL_CFG_CMD_BIND)
				fail_msg("got command %u, want bind", v[0]);
			seen |= 1;
			break;
		case NFULA_CFG_MODE: {
			struct nfulnl_msg_config_mode m;

			memcpy(&m, v, sizeof(m));
			if (ntohl(m.copy_range) != 128 ||
			    m.copy_mode != NFULNL_COPY_PACKET)
				fail_msg("got copy %u mode %u, want 128 packet",
				    ntohl(m.copy_range), m.copy_mode);
			seen |= 2;
			break;
		}
		case NFULA_CFG_QTHRESH:
			if (ntohl(mnl_attr_get_u32(a)) != NFLOG_QTHRESH)
				fail_msg("got queue threshold %u, want %u",
				    ntohl(mnl_attr_get_u32(a)), NFLOG_QTHRESH);
			seen |= 4;
			break;
		case NFULA_CFG_TIMEOUT:
			if (ntohl(mnl_attr_get_u32(a)) != NFLOG_FLUSH_CS)
				fail_msg("got flush timeout %u, want %u",
				    ntohl(mnl_attr_get_u32(a)), NFLOG_FLUSH_CS);
			seen |= 8;
			break;
		case NFULA_CFG_NLBUFSIZ:
			if (ntohl(mnl_attr_get_u32(a)) != NFLOG_NLBUFSIZ)
				fail_msg("got buffer %u, want %u",
				    ntohl(mnl_attr_get_u32(a)), NFLOG_NLBUFSIZ);
			seen |= 16;
			break;
		default:
			fail_msg("an attribute %u we did not ask for",
			    mnl_attr_get_type(a));
		}
	}
	if (seen != 31)
		fail_msg("got attributes 0x%x, want bind, mode, qthresh, "
		    "timeout and buffer (0x1f)", seen);
	nl_batch_free(b);
}

/* A packet message into buf: hook, then the attributes asked for. */
struct pmsg {
	const char *name;
	bool hdr, ts, mark, payload, unknown, short_ts;
	int trunc;			/* bytes cut off the message's end */
	const char *want_why;		/* NULL: parses */
};

static const struct pmsg pcases[] = {
	{ "an output copy (no time)", true, false, false, true, false, false,
	    0, NULL },
	{ "an input copy with its time and mark", true, true, true, true,
	    false, false, 0, NULL },
	{ "an attribute of a newer kernel is skipped", true, true, false, true,
	    true, false, 0, NULL },
	{ "no packet header", false, true, false, true, false, false, 0,
	    "no packet header" },
	{ "a short timestamp", true, true, false, true, false, true, 0,
	    "bad timestamp" },
	{ "the last attribute cut", true, true, false, true, false, false, 6,
	    "bad attribute" },
};

static const uint8_t packet[40] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6 };

static size_t
pmsg_build(const struct pmsg *k, uint8_t *buf, size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(1);
	if (k->hdr) {
		struct nfulnl_msg_packet_hdr ph = { htons(0x0800),
		    k->ts ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT, 0 };

		mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	}
	if (k->mark)
		mnl_attr_put_u32(nlh, NFULA_MARK, htonl(0x00530000));
	if (k->ts) {
		struct nfulnl_msg_packet_timestamp ts = {
			htobe64(1700000000), htobe64(250000) };

		mnl_attr_put(nlh, NFULA_TIMESTAMP, k->short_ts ? 8 :
		    sizeof(ts), &ts);
	}
	if (k->unknown)
		mnl_attr_put_u32(nlh, NFULA_MAX + 5, 0);
	if (k->payload)
		mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(packet), packet);
	nlh->nlmsg_len -= (uint32_t)k->trunc;
	return nlh->nlmsg_len;
}

static void
test_parse(void **state)
{
	const struct pmsg *k = *state;
	uint8_t buf[512] __attribute__((aligned(8)));
	struct nflog_packet p;
	const char *why = NULL;
	int rc;

	(void)pmsg_build(k, buf, sizeof(buf));
	rc = nflog_parse((const struct nlmsghdr *)buf, &p, &why);
	if (k->want_why == NULL) {
		if (rc != 0)
			fail_msg("%s: got \"%s\", want a packet", k->name, why);
		if (p.hook != (k->ts ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT) ||
		    p.hw_protocol != 0x0800 || p.len != sizeof(packet) ||
		    p.payload == NULL || memcmp(p.payload, packet,
		    sizeof(packet)) != 0)
			fail_msg("%s: got hook %u proto 0x%x len %zu, want the "
			    "packet as built", k->name, p.hook, p.hw_protocol,
			    p.len);
		if (p.has_ts != k->ts || (k->ts && p.ts_us !=
		    1700000000LL * 1000000 + 250000))
			fail_msg("%s: got time %d %lld, want %d", k->name,
			    p.has_ts, (long long)p.ts_us, k->ts);
		if (p.mark != (k->mark ? 0x00530000u : 0))
			fail_msg("%s: got mark 0x%x", k->name, p.mark);
	} else if (rc != -1 || why == NULL || strcmp(why, k->want_why) != 0) {
		fail_msg("%s: got rc %d \"%s\", want \"%s\"", k->name, rc,
		    why ? why : "", k->want_why);
	}
}

static void
test_not_packet(void **state)
{
	uint8_t buf[64] __attribute__((aligned(8))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nflog_packet p;
	const char *why = NULL;

	(void)state;
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | 0;
	if (nflog_parse(nlh, &p, &why) != -1 || strcmp(why,
	    "not a packet message") != 0)
		fail_msg("a queue message: got \"%s\"", why ? why : "");
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	if (nflog_parse(nlh, &p, &why) != -1 || strcmp(why, "truncated") != 0)
		fail_msg("no nfgenmsg: got \"%s\"", why ? why : "");
}

int
main(void)
{
	struct CMUnitTest t[sizeof(pcases) / sizeof(pcases[0]) + 2];
	size_t n = 0;

	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_config);
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_parse);
		t[n].name = pcases[i].name;
		t[n].initial_state = (void *)&pcases[i];
		n++;
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_not_packet);
	return _cmocka_run_group_tests("nflog", t, n, NULL, NULL);
}
