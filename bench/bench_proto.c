/*
 * bench_proto.c - what the protocol tests (smtpproto.h: pregreet,
 * pipelining, non-smtp, bare-lf) add to reading a session, in the
 * sniffer's own calls: a Postfix-like session (EHLO after the banner,
 * then MAIL FROM, RCPT TO and DATA pipelined after EHLO's reply) fed
 * segment by segment to smtpcmd, with and without smtpproto_segment and
 * smtpproto_line for each fresh segment and each line, as sniff_read.c
 * makes them.  Runs alternate (off, on, off, on, ...) and the medians are
 * compared, in ns per session.
 *
 *   bench_proto [SESSIONS]     (default 2000000 per run)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtpcmd.h"
#include "smtpproto.h"

#define BENCH_PROTO_RUNS	7

struct bench_ctx {
	bool on;
	struct smtpproto p;
	const struct smtpcmd *c;
	unsigned found;
	size_t lines;
};

static void
bench_line(void *arg, enum smtpcmd_verb v, const char *a, size_t len)
{
	struct bench_ctx *b = arg;

	(void)a;
	(void)len;
	b->lines++;
	if (b->on)
		b->found |= smtpproto_line(&b->p, v, b->c->bare_lf, b->c->more);
}

static double
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per session for n sessions, with the tests on or off. */
static double
bench_run(size_t n, bool on, unsigned *found)
{
	static const char *const seg[] = {
		"EHLO mail.example.org\r\n",
		"MAIL FROM:<alice@example.org> SIZE=1234\r\n"
		    "RCPT TO:<bob@example.net>\r\nDATA\r\n",
	};
	static const enum smtpproto_server srv[] = {
		SMTPPROTO_SRV_BANNER, SMTPPROTO_SRV_MORE,
	};
	size_t lens[2] = { strlen(seg[0]), strlen(seg[1]) };
	struct smtpcmd *c = malloc(sizeof(*c));
	struct bench_ctx b = { .on = on, .c = c };
	double t0;

	if (c == NULL)
		exit(1);
	t0 = bench_now_ns();
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = (uint32_t)i * 7919u;

		smtpcmd_init(c);
		smtpproto_init(&b.p);
		for (size_t k = 0; k < 2; k++) {
			if (on && smtpcmd_fresh(c, seq, lens[k]))
				b.found |= smtpproto_segment(&b.p, srv[k],
				    1000u + (uint32_t)k * 100u);
			(void)smtpcmd_feed(c, seq, (const uint8_t *)seg[k],
			    lens[k], bench_line, &b);
			seq += (uint32_t)lens[k];
		}
	}
	*found |= b.found;
	free(c);
	return (bench_now_ns() - t0) / (double)n;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	double off[BENCH_PROTO_RUNS], on[BENCH_PROTO_RUNS];
	unsigned found = 0;

	if (n == 0)
		n = 1;
	(void)bench_run(n / 10 + 1, true, &found);	/* warm-up */
	for (int r = 0; r < BENCH_PROTO_RUNS; r++) {
		off[r] = bench_run(n, false, &found);
		on[r] = bench_run(n, true, &found);
	}
	qsort(off, BENCH_PROTO_RUNS, sizeof(off[0]), bench_cmp);
	qsort(on, BENCH_PROTO_RUNS, sizeof(on[0]), bench_cmp);
	printf("bench_proto sessions=%zu runs=%d reading_ns=%.1f "
	    "with_tests_ns=%.1f added_ns=%.1f findings=%u\n", n,
	    BENCH_PROTO_RUNS, off[BENCH_PROTO_RUNS / 2], on[BENCH_PROTO_RUNS / 2],
	    on[BENCH_PROTO_RUNS / 2] - off[BENCH_PROTO_RUNS / 2], found);
	return found != 0;	/* the session is clean: nothing to find */
}
