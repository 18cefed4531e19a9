/*
 * bench_state.c - how long smtpgate-sniffd's event loop stalls when it
 * saves its state file: the old way (strikes_save on the loop, the whole
 * file written and fsynced while every queued packet waits) against the
 * snapshot a child writes (bgsave: the loop pays only for the fork), in
 * the same run, on the same table.  (smtpgate-sniffd caps its table at
 * 1,000,000 records.)
 *
 *   bench_state [RECORDS [DIR]]     (default 200000 records, DIR .)
 *
 * The table is filled with RECORDS addresses (half IPv4, half IPv6, some
 * banned), as the sniffer's would be after a flood.  Then:
 *   1. synchronous: BENCH_STATE_SAVES strikes_save calls on the loop's
 *      thread, each timed (this is the loop's stall per save);
 *   2. snapshot: an event loop with a 1 ms heartbeat timer that strikes
 *      an address of the table on every beat (so pages change under the
 *      child and copy-on-write is paid), and a save started whenever none
 *      runs,
 *      until BENCH_STATE_SAVES snapshots were written; the loop's worst
 *      callback (evloop_stall_max_us), the worst heartbeat lateness and
 *      the fork's own time are reported.
 * The once-a-minute expiry walk over the table, which also runs on the
 * loop, is timed and shown beside them.
 * The state file goes to DIR/bench_state.state (a real file system: on
 * tmpfs fsync costs nothing) and is removed at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bgsave.h"
#include "evloop.h"
#include "strikes.h"

#define BENCH_STATE_SAVES	5

static const struct strikes_cfg bench_cfg = { 2, 3600, 3600, 7 * 86400,
    false };

struct bench {
	struct evloop *ev;
	struct strikes *t;
	struct bgsave *saver;
	const char *path;
	int saves, failed;
	int64_t next_beat_us;		/* when the heartbeat is due */
	int64_t beat_late_max_us;	/* worst lateness of a beat */
	int64_t fork_us[BENCH_STATE_SAVES + 1], child_ms[BENCH_STATE_SAVES];
	uint32_t next_addr;		/* for the heartbeat's strikes */
	uint32_t records;
};

static void
bench_addr(uint32_t i, struct addr *a)
{
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (i % 2 == 0) {
		b[0] = 10;
		b[1] = (uint8_t)(i >> 16);
		b[2] = (uint8_t)(i >> 8);
		b[3] = (uint8_t)i;
		addr_from_v4(a, b);
	} else {
		b[8] = (uint8_t)(i >> 24);
		b[9] = (uint8_t)(i >> 16);
		b[10] = (uint8_t)(i >> 8);
		b[11] = (uint8_t)i;
		addr_from_v6(a, b);
	}
}

static int
bench_write(void *arg, char *err, size_t errlen)
{
	struct bench *b = arg;

	return strikes_save(b->t, b->path, err, errlen);
}

static void bench_start(struct bench *b);

static void
bench_done(void *arg, int rc, const char *err, int64_t ms)
{
	struct bench *b = arg;

	if (rc != 0) {
		fprintf(stderr, "bench_state: snapshot save: %s\n", err);
		b->failed = 1;
		evloop_break(b->ev);
		return;
	}
	b->child_ms[b->saves++] = ms;
	if (b->saves == BENCH_STATE_SAVES)
		evloop_break(b->ev);
	else
		bench_start(b);
}

static void
bench_start(struct bench *b)
{
	char err[512];
	int64_t t0 = evloop_clock_us();

	if (bgsave_start(b->saver, bench_write, b, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_state: %s\n", err);
		b->failed = 1;
		evloop_break(b->ev);
		return;
	}
	b->fork_us[b->saves] = evloop_clock_us() - t0;
}

/* Every millisecond: one strike (a change under the child's feet). */
static void
bench_beat(void *arg)
{
	struct bench *b = arg;
	int64_t now = evloop_clock_us(), late = now - b->next_beat_us;
	struct addr a;
	uint32_t n, to;

	if (late > b->beat_late_max_us)
		b->beat_late_max_us = late;
	/* An address of the table, spread over it: its page is copied. */
	bench_addr((uint32_t)(((uint64_t)b->next_addr++ * 7919) % b->records),
	    &a);
	(void)strikes_add(b->t, &a, RULE_UNQUALIFIED, 1763900000, &bench_cfg,
	    &n, &to);
	b->next_beat_us = evloop_clock_us() + 1000;
	evloop_timer_at(b->ev, evloop_now_ms(b->ev) + 1, bench_beat, b);
}

static int
bench_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;

	return a < c ? -1 : a > c;
}

static int64_t
bench_median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	return v[n / 2];
}

int
main(int argc, char *argv[])
{
	long records = argc > 1 ? atol(argv[1]) : 200000;
	const char *dir = argc > 2 ? argv[2] : ".";
	char path[4096], err[512];
	struct bench b = { 0 };
	int64_t sync_us[BENCH_STATE_SAVES], sync_max = 0, fork_max = 0;
	int64_t expire_us, expire_part_us;
	uint64_t stall;
	struct stat st;

	if (records < 1 || records > STRIKES_MAX_RECORDS) {
		fprintf(stderr, "usage: bench_state [RECORDS (1..%d) [DIR]]\n",
		    STRIKES_MAX_RECORDS);
		return 2;
	}
	b.records = (uint32_t)records;
	snprintf(path, sizeof(path), "%s/bench_state.state", dir);
	b.path = path;
	if ((b.t = strikes_new()) == NULL || (b.ev = evloop_new()) == NULL ||
	    (b.saver = bgsave_new(b.ev, bench_done, &b)) == NULL) {
		fprintf(stderr, "bench_state: out of memory\n");
		return 1;
	}
	for (long i = 0; i < records; i++) {
		struct addr a;
		uint32_t n, to;

		bench_addr((uint32_t)i, &a);
		(void)strikes_add(b.t, &a, i % 7 == 0 ? RULE_BARE_IP :
		    RULE_UNQUALIFIED, 1763900000 + i % 3600, &bench_cfg, &n,
		    &to);
		if (i % 5 == 0)
			(void)strikes_add(b.t, &a, RULE_OWN_NAME,
			    1763900000 + i % 3600 + 1, &bench_cfg, &n, &to);
	}

	/* 1. The old way: the loop itself writes and fsyncs the file. */
	for (int i = 0; i < BENCH_STATE_SAVES; i++) {
		int64_t t0 = evloop_clock_us();

		if (strikes_save(b.t, path, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_state: %s\n", err);
			return 1;
		}
		sync_us[i] = evloop_clock_us() - t0;
		if (sync_us[i] > sync_max)
			sync_max = sync_us[i];
	}
	if (stat(path, &st) != 0) {
		perror("bench_state: stat");
		return 1;
	}

	/* The expiry walk, which runs on the loop too: the whole table at
	 * once (as it was, every minute), and the sixtieth of it the
	 * sniffer now walks each second. */
	{
		int64_t t0 = evloop_clock_us();

		(void)strikes_expire(b.t, 1763900000 + 60, &bench_cfg);
		expire_us = evloop_clock_us() - t0;
		t0 = evloop_clock_us();
		(void)strikes_expire_part(b.t, 1763900000 + 60, &bench_cfg, 7,
		    60);
		expire_part_us = evloop_clock_us() - t0;
	}

	/* 2. Snapshots written by a child while the loop beats. */
	b.next_beat_us = evloop_clock_us() + 1000;
	evloop_timer_at(b.ev, evloop_now_ms(b.ev) + 1, bench_beat, &b);
	bench_start(&b);
	if (!b.failed)
		evloop_run(b.ev);
	if (b.failed)
		return 1;
	stall = evloop_stall_max_us(b.ev);
	for (int i = 0; i < BENCH_STATE_SAVES; i++)
		if (b.fork_us[i] > fork_max)
			fork_max = b.fork_us[i];

	printf("records                    %ld (state file %.1f MB)\n",
	    records, (double)st.st_size / 1e6);
	printf("synchronous save           median %.1f ms, worst %.1f ms "
	    "(%d saves; the loop stalls this long each time)\n",
	    (double)bench_median(sync_us, BENCH_STATE_SAVES) / 1000,
	    (double)sync_max / 1000, BENCH_STATE_SAVES);
	printf("snapshot save              worst loop stall %.2f ms (fork: "
	    "median %.2f ms, worst %.2f ms), worst heartbeat delay %.2f ms, "
	    "child %" PRId64 " ms per save (%d saves, %" PRIu32 " strikes "
	    "meanwhile)\n", (double)stall / 1000,
	    (double)bench_median(b.fork_us, BENCH_STATE_SAVES) / 1000,
	    (double)fork_max / 1000, (double)b.beat_late_max_us / 1000,
	    bench_median(b.child_ms, BENCH_STATE_SAVES), BENCH_STATE_SAVES,
	    b.next_addr);
	printf("expiry walk                whole table %.1f ms, a sixtieth "
	    "(each second) %.2f ms, on the loop\n", (double)expire_us / 1000,
	    (double)expire_part_us / 1000);
	printf("ratio                      worst stall: snapshot / "
	    "synchronous = %.3f\n", (double)stall / (double)sync_max);
	unlink(path);
	bgsave_free(b.saver);
	evloop_free(b.ev);
	strikes_free(b.t);
	return 0;
}
