/*
 * bench_queue.c - bind an NFQUEUE through queue.c and the real event loop,
 * give every packet the same verdict, and report what was seen.
 *
 *   bench_queue [-q NUM] [-m MAXLEN] [-c COPY] [-t SECONDS] [-n PACKETS]
 *               [-f FAILS] [-l] [-b] accept|drop|reject
 *
 * Prints "ready queue NUM" once the queue is bound (scripts wait for it),
 * with -l one line per packet ("pkt id=.. proto=.. mark=0x.. src=..
 * sport=.. dst=.. dport=.. flags=0x.." or "pkt id=.. unparsed: WHY"), and
 * at the end one summary line a script can parse:
 *   packets=N verdicts=N verdict_fail=N parse_fail=N enobufs=N
 *   verdict_errors=N malformed=N rcvbuf=N send_failed=N deferred=N
 *   retry_pending=N lost=N seconds=S pps=R
 * -b also sends a verdict for an id the kernel never gave out after each
 * real one, to see the kernel's ENOENT land in verdict_errors.
 * -f makes the next FAILS verdict sends fail with ENOBUFS (queue.c's
 * fault hook), to see them retried: with -n the program waits for the
 * retry list to empty before it stops.
 * pps counts from the first packet to the last.  Stops after -t seconds
 * (default 10), after -n packets, or on SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "pkt.h"
#include "queue.h"

struct bench {
	struct evloop *ev;
	struct queue *q;
	enum queue_verdict verdict;
	int list;			/* print each packet */
	int bogus;			/* add a verdict for an unknown id */
	uint64_t limit;			/* stop after this many packets, 0 = no */
	unsigned long fails;		/* sends still to fail (-f) */
	uint64_t packets, verdicts, verdict_fail, parse_fail;
	int64_t first_us, last_us;	/* arrival of first and last packet */
};

static void bench_drain(void *arg);

static void
bench_packet(void *arg, const struct queue_packet *p)
{
	struct bench *b = arg;
	struct pkt k;
	const char *why;

	b->last_us = evloop_clock_us();
	if (b->packets++ == 0)
		b->first_us = b->last_us;
	if (pkt_parse(p->payload, p->len, &k, &why) < 0) {
		b->parse_fail++;
		if (b->list)
			printf("pkt id=%u unparsed: %s\n", p->id, why);
	} else if (b->list) {
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

		inet_ntop(k.src.family, k.src.b, s, sizeof(s));
		inet_ntop(k.dst.family, k.dst.b, d, sizeof(d));
		printf("pkt id=%u proto=0x%04x mark=0x%08x src=%s sport=%u "
		    "dst=%s dport=%u flags=0x%02x\n", p->id, p->hw_protocol,
		    p->mark, s, k.sport, d, k.dport, k.tcp_flags);
	}
	if (b->list)
		fflush(stdout);
	if (queue_verdict(b->q, p->id, b->verdict, p->mark) < 0)
		b->verdict_fail++;
	else
		b->verdicts++;
	if (b->bogus)
		(void)queue_verdict(b->q, p->id + 0x40000000u, QUEUE_ACCEPT, 0);
	if (b->limit != 0 && b->packets == b->limit)
		(void)evloop_defer(b->ev, bench_drain, b);
}

static void
bench_stop(void *arg)
{
	struct bench *b = arg;

	evloop_break(b->ev);
}

/* -n reached: stop once no verdict waits for a retry. */
static void
bench_drain(void *arg)
{
	struct bench *b = arg;

	if (queue_stats(b->q)->retry_pending == 0)
		evloop_break(b->ev);
	else if (evloop_timer_at(b->ev, evloop_now_ms(b->ev) + 10,
	    bench_drain, b) == NULL)
		evloop_break(b->ev);
}

static int
bench_fault(void *arg)
{
	struct bench *b = arg;

	if (b->fails == 0)
		return 0;
	b->fails--;
	return ENOBUFS;
}

static void
bench_signal(int signo, void *arg)
{
	(void)signo;
	bench_stop(arg);
}

static void
bench_usage(void)
{
	fprintf(stderr, "usage: bench_queue [-q num] [-m maxlen] [-c copy] "
	    "[-t seconds] [-n packets] [-f fails] [-l] [-b] "
	    "accept|drop|reject\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bench b;
	const struct queue_stats *st;
	unsigned long num = 0, maxlen = 4096, copy = 128, secs = 10;
	char err[256];
	double span;
	int c;

	memset(&b, 0, sizeof(b));
	while ((c = getopt(argc, argv, "q:m:c:t:n:f:lb")) != -1) {
		switch (c) {
		case 'q': num = strtoul(optarg, NULL, 10); break;
		case 'm': maxlen = strtoul(optarg, NULL, 10); break;
		case 'c': copy = strtoul(optarg, NULL, 10); break;
		case 't': secs = strtoul(optarg, NULL, 10); break;
		case 'n': b.limit = strtoull(optarg, NULL, 10); break;
		case 'f': b.fails = strtoul(optarg, NULL, 10); break;
		case 'l': b.list = 1; break;
		case 'b': b.bogus = 1; break;
		default: bench_usage();
		}
	}
	if (optind != argc - 1 || num > 65535 || maxlen == 0 ||
	    maxlen > 1000000 || copy > 65535)
		bench_usage();
	if (strcmp(argv[optind], "accept") == 0)
		b.verdict = QUEUE_ACCEPT;
	else if (strcmp(argv[optind], "drop") == 0)
		b.verdict = QUEUE_DROP;
	else if (strcmp(argv[optind], "reject") == 0)
		b.verdict = QUEUE_REJECT;
	else
		bench_usage();

	log_init("bench_queue", 1);
	b.ev = evloop_new();
	if (b.ev == NULL) {
		perror("bench_queue: evloop_new");
		return 1;
	}
	b.q = queue_open(b.ev, (uint16_t)num, (uint32_t)maxlen,
	    (uint32_t)copy, bench_packet, &b, err, sizeof(err));
	if (b.q == NULL) {
		fprintf(stderr, "bench_queue: %s\n", err);
		return 1;
	}
	if (b.fails > 0)
		queue_set_fault(b.q, bench_fault, &b);
	if (evloop_signal(b.ev, SIGINT, bench_signal, &b) < 0 ||
	    evloop_signal(b.ev, SIGTERM, bench_signal, &b) < 0 ||
	    evloop_timer_at(b.ev, evloop_now_ms(b.ev) + (int64_t)secs * 1000,
	    bench_stop, &b) == NULL) {
		fprintf(stderr, "bench_queue: event loop set-up failed\n");
		return 1;
	}
	printf("ready queue %lu\n", num);
	fflush(stdout);
	if (evloop_run(b.ev) < 0) {
		perror("bench_queue: evloop_run");
		return 1;
	}
	st = queue_stats(b.q);
	span = (double)(b.last_us - b.first_us) / 1e6;
	printf("packets=%llu verdicts=%llu verdict_fail=%llu parse_fail=%llu "
	    "enobufs=%llu verdict_errors=%llu malformed=%llu rcvbuf=%u "
	    "send_failed=%llu deferred=%llu retry_pending=%llu lost=%llu "
	    "seconds=%.3f pps=%.0f\n",
	    (unsigned long long)b.packets, (unsigned long long)b.verdicts,
	    (unsigned long long)b.verdict_fail,
	    (unsigned long long)b.parse_fail,
	    (unsigned long long)st->enobufs,
	    (unsigned long long)st->verdict_errors,
	    (unsigned long long)st->malformed, st->rcvbuf_bytes,
	    (unsigned long long)st->send_failed,
	    (unsigned long long)st->deferred,
	    (unsigned long long)st->retry_pending,
	    (unsigned long long)st->lost, span,
	    span > 0 ? (double)(b.packets - 1) / span : 0.0);
	queue_close(b.q);
	evloop_free(b.ev);
	return 0;
}
