/*
 * test_evloop.c - the event loop: timer order, cancel, deferred calls,
 * descriptor readiness, deleting a descriptor from its own callback.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_time_order),
		cmocka_unit_test(test_equal_times_keep_order),
		cmocka_unit_test(test_defer_runs_next_turn),
		cmocka_unit_test(test_fd_readiness_and_self_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
