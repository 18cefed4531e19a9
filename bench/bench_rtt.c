/*
 * bench_rtt.c - what pregreet's round trip costs the sniffer in its own
 * calls, without the kernel: per session, its two copies (the SYN-ACK
 * going out, the handshake ACK coming in, as nfnetlink_log messages)
 * parsed (nflog_parse, pkt_parse) and filed (sniff_rtt_copy), then the
 * first data judged with its record (sniff_rtt_first), with SESSIONS
 * sessions in flight at once (the records' table full, as under load).  Prints ns per session; the
 * kernel's part (the copies, the sniffer's wake-ups) is bench/sniff.sh's.
 *
 *   bench_rtt [SESSIONS]     (default 50000)
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "nflog.h"
#include "pkt.h"
#include "sniff_int.h"

/* One copy's message: IPv4 + TCP (doff 8, as Linux sends) from a to b. */
static size_t
bench_msg(uint8_t *buf, size_t len, uint8_t hook, uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
    size_t payload)
{
	uint8_t pk[128] = { 0 };
	size_t n = 52 + payload;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nfulnl_msg_packet_hdr ph = { htons(0x0800), hook, 0 };

	pk[0] = 0x45;
	pk[2] = (uint8_t)(n >> 8);
	pk[3] = (uint8_t)n;
	pk[8] = 64;
	pk[9] = 6;
	memcpy(pk + 12, &src, 4);
	memcpy(pk + 16, &dst, 4);
	pk[20] = (uint8_t)(sport >> 8);
	pk[21] = (uint8_t)sport;
	pk[22] = (uint8_t)(dport >> 8);
	pk[23] = (uint8_t)dport;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(pk + 24, &seq, 4);
	memcpy(pk + 28, &ack, 4);
	pk[32] = 0x80;
	pk[33] = flags;
	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	if (hook == NF_INET_LOCAL_IN) {
		struct timespec ts;
		struct nfulnl_msg_packet_timestamp t;

		clock_gettime(CLOCK_REALTIME, &ts);
		t.sec = htobe64((uint64_t)ts.tv_sec);
		t.usec = htobe64((uint64_t)ts.tv_nsec / 1000);
		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(t), &t);
	}
	mnl_attr_put(nlh, NFULA_PAYLOAD, n, pk);
	return nlh->nlmsg_len;
}

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 50000;
	uint8_t (*m)[256];
	struct sniff *s = calloc(1, sizeof(*s));
	struct sniff_flow f;
	uint32_t srv = htonl(0xc0000201), found = 0;
	double t0, t1;

	if (s == NULL || n == 0 || n > 1000000 || (m = aligned_alloc(8,
	    (size_t)n * 2 * 256)) == NULL || (s->ev = evloop_new()) == NULL)
		return 1;
	s->conf.sniffer.max_flows = n;
	if (siphash_key_random(&s->flow_key) == -1 || sniff_flow_init(s) == -1 ||
	    sniff_rtt_init(s) == -1)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		uint32_t cl = htonl(0xc6120000u + i / 50000), isn = i * 7919u;
		uint16_t port = (uint16_t)(1024 + i % 50000);

		(void)bench_msg(m[2 * i], 256, NF_INET_LOCAL_OUT, srv, cl, 25,
		    port, 0x12, isn, 1, 0);
		(void)bench_msg(m[2 * i + 1], 256, NF_INET_LOCAL_IN, cl, srv, port,
		    25, 0x10, 1, isn + 1, 0);
	}
	t0 = bench_now();
	/* All copies first (n sessions' handshakes in flight), then every
	 * session's first data. */
	for (unsigned i = 0; i < n; i++) {
		struct nflog_packet lp;
		const char *why;

		for (int k = 0; k < 2; k++) {
			if (nflog_parse((struct nlmsghdr *)m[2 * i + k], &lp,
			    &why) == -1)
				return 1;
			sniff_rtt_copy(s, &lp, evloop_clock_us());
		}
	}
	for (unsigned i = 0; i < n; i++) {
		memset(&f, 0, sizeof(f));
		f.src.family = f.dst.family = 2;
		addr_from_v4(&f.src, (const uint8_t *)&(uint32_t){ htonl(
		    0xc6120000u + i / 50000) });
		addr_from_v4(&f.dst, (const uint8_t *)&srv);
		f.sport = (uint16_t)(1024 + i % 50000);
		f.dport = 25;
		smtpproto_init(&f.proto);
		found += sniff_rtt_first(s, &f, evloop_clock_us(),
		    i * 7919u + 31) != 0;
	}
	t1 = bench_now();
	printf("bench_rtt sessions=%u records_left=%zu pregreets=%u "
	    "ns_per_session=%.0f\n", n, sniff_rtt_count(s), found,
	    (t1 - t0) / n);
	sniff_rtt_free_all(s);
	free(m);
	return 0;
}
