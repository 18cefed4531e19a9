/*
 * test_evloop.c - the event loop: timer order, cancel, deferred calls,
 * descriptor readiness, deleting a descriptor from its own callback, the
 * worst-stall measurement, and turns in virtual time (evloop_set_clock,
 * evloop_turn, evloop_next_ms: what the scenario tests drive it with).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "cases.h"
#include "evloop.h"

struct rec {
	struct evloop *ev;
	char order[64];
	size_t n;
	int stop_after;
};

static void
rec_mark(struct rec *r, char c)
{
	if (r->n + 1 < sizeof(r->order))
		r->order[r->n++] = c;
	if ((int)r->n == r->stop_after)
		evloop_break(r->ev);
}

struct tmark {
	struct rec *r;
	char c;
};

static void
timer_cb(void *arg)
{
	struct tmark *t = arg;

	rec_mark(t->r, t->c);
}

static void
test_timers_fire_in_time_order(void **state)
{
	struct rec r = { 0 };
	struct tmark a = { &r, 'a' }, b = { &r, 'b' }, c = { &r, 'c' },
	    x = { &r, 'x' };

	(void)state;
	r.ev = evloop_new();
	r.stop_after = 3;
	int64_t now = evloop_now_ms(r.ev);
	evloop_timer_at(r.ev, now + 30, timer_cb, &c);
	evloop_timer_at(r.ev, now + 10, timer_cb, &a);
	struct ev_timer *tx = evloop_timer_at(r.ev, now + 15, timer_cb, &x);
	evloop_timer_at(r.ev, now + 20, timer_cb, &b);
	evloop_timer_cancel(r.ev, tx);
	assert_int_equal(evloop_run(r.ev), 0);
	r.order[r.n] = '\0';
	assert_string_equal(r.order, "abc");
	assert_true(evloop_now_ms(r.ev) - now >= 30);
	evloop_free(r.ev);
}

static void
test_equal_times_keep_order(void **state)
{
	struct rec r = { 0 };
	struct tmark m[5];

	(void)state;
	r.ev = evloop_new();
	r.stop_after = 5;
	for (int i = 0; i < 5; i++) {
		m[i].r = &r;
		m[i].c = (char)('1' + i);
		evloop_timer_at(r.ev, evloop_now_ms(r.ev), timer_cb, &m[i]);
	}
	evloop_run(r.ev);
	r.order[r.n] = '\0';
	assert_string_equal(r.order, "12345");
	evloop_free(r.ev);
}

static void
defer_cb(void *arg)
{
	struct tmark *t = arg;

	rec_mark(t->r, t->c);
}

static void
test_defer_runs_next_turn(void **state)
{
	struct rec r = { 0 };
	struct tmark d = { &r, 'd' };

	(void)state;
	r.ev = evloop_new();
	r.stop_after = 1;
	assert_int_equal(evloop_defer(r.ev, defer_cb, &d), 0);
	assert_int_equal(r.n, 0);	/* not inside the call */
	evloop_run(r.ev);
	assert_int_equal(r.n, 1);
	evloop_free(r.ev);
}

struct pipe_ctx {
	struct rec *r;
	int fds[2];
};

static void
pipe_cb(int fd, uint32_t events, void *arg)
{
	struct pipe_ctx *p = arg;
	char buf[8];

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, buf, sizeof(buf)), 1);
	/* Deleting oneself inside the callback must be safe. */
	assert_int_equal(evloop_fd_del(p->r->ev, fd), 0);
	rec_mark(p->r, buf[0]);
}

static void
test_fd_readiness_and_self_delete(void **state)
{
	struct rec r = { 0 };
	struct pipe_ctx p = { .r = &r };

	(void)state;
	r.ev = evloop_new();
	r.stop_after = 1;
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(evloop_fd_add(r.ev, p.fds[0], EPOLLIN, pipe_cb, &p),
	    0);
	assert_int_equal(evloop_fd_add(r.ev, p.fds[0], EPOLLIN, pipe_cb, &p),
	    -1);	/* one registration per fd */
	assert_int_equal(write(p.fds[1], "p", 1), 1);
	evloop_run(r.ev);
	r.order[r.n] = '\0';
	assert_string_equal(r.order, "p");
	assert_int_equal(evloop_fd_del(r.ev, p.fds[0]), -1);
	close(p.fds[0]);
	close(p.fds[1]);
	evloop_free(r.ev);
}

/* Stall cases: what runs long (a timer, a deferred call, a descriptor's
 * callback, the idle hook) and for how long; each must be seen. */
struct stall_case {
	const char *name;
	int kind;		/* 0 timer, 1 defer, 2 fd, 3 idle */
	int busy_ms;
};

static const struct stall_case stall_cases[] = {
	{ "a long timer callback is the worst stall", 0, 30 },
	{ "a long deferred call is the worst stall", 1, 25 },
	{ "a long descriptor callback is the worst stall", 2, 20 },
	{ "a long idle hook is the worst stall", 3, 35 },
};

struct stall {
	struct evloop *ev;
	int busy_ms;
	int fds[2];
};

static void
busy(int ms)
{
	int64_t end = evloop_clock_us() + (int64_t)ms * 1000;

	while (evloop_clock_us() < end)
		;
}

static void
stall_cb(void *arg)
{
	struct stall *st = arg;

	busy(st->busy_ms);
	evloop_break(st->ev);
}

static void
stall_fd_cb(int fd, uint32_t events, void *arg)
{
	char b;

	(void)events;
	(void)read(fd, &b, 1);
	stall_cb(arg);
}

static void
quick_cb(void *arg)
{
	evloop_break(arg);
}

static void
test_stall(void **state)
{
	const struct stall_case *k = *state;
	struct stall st = { .busy_ms = k->busy_ms };
	uint64_t got;

	st.ev = evloop_new();
	assert_non_null(st.ev);
	if (evloop_stall_max_us(st.ev) != 0)
		fail_msg("%s: got %llu us before running, want 0", k->name,
		    (unsigned long long)evloop_stall_max_us(st.ev));
	assert_int_equal(pipe(st.fds), 0);
	switch (k->kind) {
	case 0:
		evloop_timer_at(st.ev, evloop_now_ms(st.ev), stall_cb, &st);
		break;
	case 1:
		evloop_defer(st.ev, stall_cb, &st);
		break;
	case 2:
		evloop_fd_add(st.ev, st.fds[0], EPOLLIN, stall_fd_cb, &st);
		assert_int_equal(write(st.fds[1], "x", 1), 1);
		break;
	case 3:
		evloop_set_idle(st.ev, stall_cb, &st);
		evloop_defer(st.ev, quick_cb, st.ev);
		break;
	}
	evloop_run(st.ev);
	got = evloop_stall_max_us(st.ev);
	if (got < (uint64_t)k->busy_ms * 1000)
		fail_msg("%s: got %llu us, want at least %d000", k->name,
		    (unsigned long long)got, k->busy_ms);
	/* A quick callback afterwards does not lower the maximum. */
	evloop_set_idle(st.ev, NULL, NULL);
	evloop_defer(st.ev, quick_cb, st.ev);
	evloop_run(st.ev);
	if (evloop_stall_max_us(st.ev) < got)
		fail_msg("%s: the maximum fell from %llu to %llu us", k->name,
		    (unsigned long long)got,
		    (unsigned long long)evloop_stall_max_us(st.ev));
	close(st.fds[0]);
	close(st.fds[1]);
	evloop_free(st.ev);
}

static int64_t
virtual_clock(void *arg)
{
	return *(int64_t *)arg;
}

static void
defer_again_cb(void *arg)
{
	struct tmark *t = arg;

	rec_mark(t->r, t->c);
}

/* In virtual time nothing fires before the clock says so, a turn counts
 * what it ran, and evloop_next_ms says when the loop has work next. */
static void
test_virtual_time(void **state)
{
	struct rec r = { 0 };
	struct tmark a = { &r, 'a' }, b = { &r, 'b' }, d = { &r, 'd' };
	int64_t now = 5000000;
	int ran;

	(void)state;
	r.ev = evloop_new();
	assert_non_null(r.ev);
	evloop_set_clock(r.ev, virtual_clock, &now);
	if (evloop_now_ms(r.ev) != now)
		fail_msg("now: got %lld, want %lld",
		    (long long)evloop_now_ms(r.ev), (long long)now);
	if (evloop_next_ms(r.ev) != INT64_MAX)
		fail_msg("next with nothing pending: got %lld, want INT64_MAX",
		    (long long)evloop_next_ms(r.ev));
	evloop_timer_at(r.ev, now + 2500, timer_cb, &b);
	evloop_timer_at(r.ev, now + 1000, timer_cb, &a);
	if (evloop_next_ms(r.ev) != now + 1000)
		fail_msg("next: got %lld, want %lld",
		    (long long)evloop_next_ms(r.ev), (long long)now + 1000);
	if ((ran = evloop_turn(r.ev, 0)) != 0 || r.n != 0)
		fail_msg("turn before the time: got %d callbacks (%s), want 0",
		    ran, r.order);
	now += 999;
	if ((ran = evloop_turn(r.ev, 0)) != 0)
		fail_msg("turn 1 ms early: got %d callbacks, want 0", ran);
	now += 1;
	if ((ran = evloop_turn(r.ev, 0)) != 1 || strcmp(r.order, "a") != 0)
		fail_msg("turn at the time: got %d callbacks (%s), want 1 (a)",
		    ran, r.order);
	/* A deferred call is work now. */
	evloop_defer(r.ev, defer_again_cb, &d);
	if (evloop_next_ms(r.ev) != now)
		fail_msg("next with a deferred call: got %lld, want %lld",
		    (long long)evloop_next_ms(r.ev), (long long)now);
	if ((ran = evloop_turn(r.ev, 0)) != 1 || strcmp(r.order, "ad") != 0)
		fail_msg("deferred: got %d callbacks (%s), want 1 (ad)", ran,
		    r.order);
	now += 10000;
	if ((ran = evloop_turn(r.ev, 0)) != 1 || strcmp(r.order, "adb") != 0)
		fail_msg("late turn: got %d callbacks (%s), want 1 (adb)", ran,
		    r.order);
	if (evloop_now_ms(r.ev) != now)
		fail_msg("now after the turn: got %lld, want %lld",
		    (long long)evloop_now_ms(r.ev), (long long)now);
	evloop_free(r.ev);
}

int
main(void)
{
	struct CMUnitTest t[8 + sizeof(stall_cases) / sizeof(stall_cases[0])];
	char names[8 + sizeof(stall_cases) / sizeof(stall_cases[0])][96];
	size_t n = 0;

	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_timers_fire_in_time_order);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_equal_times_keep_order);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_defer_runs_next_turn);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_fd_readiness_and_self_delete);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_virtual_time);
	CASES(stall_cases, test_stall);
	return _cmocka_run_group_tests("evloop", t, n, NULL, NULL);
}
