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
#include "../tests/unit/nflog_fixture.h"
#include "pkt.h"
#include "sniff_int.h"

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

		(void)nflog_fixture_msg(m[2 * i], 256, NF_INET_LOCAL_OUT, srv,
		    cl, 25, port, 0x12, isn, 1, 0, 0);
		(void)nflog_fixture_msg(m[2 * i + 1], 256, NF_INET_LOCAL_IN,
		    cl, srv, port, 25, 0x10, 1, isn + 1, 0, 0);
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
