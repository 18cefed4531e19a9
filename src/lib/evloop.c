/*
 * evloop.c - the one event loop: epoll for descriptors, a binary heap of
 * one-shot timers, signals through signalfd, deferred calls, an idle hook.
 *
 * Order of a turn: wait (until the nearest timer), dispatch ready
 * descriptors, fire due timers, run deferred calls (including ones queued
 * while running them, up to a bound so a loop of defers cannot starve I/O),
 * then the idle hook.  Timers and defers own no caller memory; a timer is
 * freed after it fires or when cancelled.
 *
 * Every callback is timed: the longest one so far is the loop's worst
 * stall (evloop_stall_max_us), the time every other descriptor, packets
 * waiting in a queue included, had to wait for it.
 *
 * evloop_run is evloop_turn over and over.  Tests that replay a daemon in
 * virtual time (tests/scenario/) give the loop their own clock
 * (evloop_set_clock) and call evloop_turn themselves, moving the clock to
 * evloop_next_ms between turns: timers then fire in order without
 * anything sleeping.  Stall times stay in real microseconds.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"

#define EVLOOP_MAX_EVENTS	64
#define EVLOOP_MAX_SIGNALS	8
#define EVLOOP_DEFER_ROUNDS	4

struct ev_fd {
	int fd;
	ev_io_cb cb;
	void *arg;
	struct ev_fd *next;
};

struct ev_timer {
	int64_t when_ms;	/* absolute monotonic time */
	uint64_t seq;		/* tie-break: equal times fire in order */
	size_t slot;		/* index in the heap, for cancel */
	ev_cb cb;
	void *arg;
};

struct ev_defer {
	ev_cb cb;
	void *arg;
	struct ev_defer *next;
};

struct evloop {
	int epfd;
	int64_t now_ms;
	int stop;
	struct ev_fd *fds;		/* registrations (few: a list will do) */
	struct ev_fd *dead;		/* deleted this turn, freed after dispatch */
	struct ev_timer **heap;		/* min-heap by (when_ms, seq) */
	size_t nheap, heapcap;
	uint64_t timer_seq;
	struct ev_defer *defer_head, *defer_tail;
	int sigfd;
	sigset_t sigs;
	struct {
		int signo;
		ev_signal_cb cb;
		void *arg;
	} sig[EVLOOP_MAX_SIGNALS];
	size_t nsig;
	ev_cb idle_cb;
	void *idle_arg;
	uint64_t stall_max_us;		/* longest callback so far */
	evloop_clock_fn clock;		/* virtual time (tests), or NULL */
	void *clock_arg;
};

static void evloop_reap(struct evloop *);

/* A callback that began at t0_us has returned. */
static void
evloop_timed(struct evloop *ev, int64_t t0_us)
{
	int64_t d = evloop_clock_us() - t0_us;

	if (d > 0 && (uint64_t)d > ev->stall_max_us)
		ev->stall_max_us = (uint64_t)d;
}

static int64_t
evloop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The loop's clock: the system's monotonic one, or a test's. */
static int64_t
evloop_clock_now(const struct evloop *ev)
{
	return ev->clock != NULL ? ev->clock(ev->clock_arg) :
	    evloop_clock_ms();
}

int64_t
evloop_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct evloop *
evloop_new(void)
{
	struct evloop *ev = calloc(1, sizeof(*ev));

	if (ev == NULL)
		return NULL;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd == -1) {
		free(ev);
		return NULL;
	}
	ev->sigfd = -1;
	sigemptyset(&ev->sigs);
	ev->now_ms = evloop_clock_now(ev);
	return ev;
}

void
evloop_free(struct evloop *ev)
{
	if (ev == NULL)
		return;
	while (ev->fds != NULL) {
		struct ev_fd *f = ev->fds;
		ev->fds = f->next;
		free(f);
	}
	evloop_reap(ev);
	for (size_t i = 0; i < ev->nheap; i++)
		free(ev->heap[i]);
	free(ev->heap);
	while (ev->defer_head != NULL) {
		struct ev_defer *d = ev->defer_head;
		ev->defer_head = d->next;
		free(d);
	}
	if (ev->sigfd != -1)
		close(ev->sigfd);
	close(ev->epfd);
	free(ev);
}

static struct ev_fd *
evloop_fd_find(struct evloop *ev, int fd, struct ev_fd ***linkp)
{
	struct ev_fd **link = &ev->fds;

	for (; *link != NULL; link = &(*link)->next) {
		if ((*link)->fd == fd) {
			if (linkp != NULL)
				*linkp = link;
			return *link;
		}
	}
	return NULL;
}

int
evloop_fd_add(struct evloop *ev, int fd, uint32_t events, ev_io_cb cb,
    void *arg)
{
	struct epoll_event ee = { .events = events };
	struct ev_fd *f;

	if (evloop_fd_find(ev, fd, NULL) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->fd = fd;
	f->cb = cb;
	f->arg = arg;
	ee.data.ptr = f;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
		free(f);
		return -1;
	}
	f->next = ev->fds;
	ev->fds = f;
	return 0;
}

int
evloop_fd_mod(struct evloop *ev, int fd, uint32_t events)
{
	struct ev_fd *f = evloop_fd_find(ev, fd, NULL);
	struct epoll_event ee = { .events = events };

	if (f == NULL) {
		errno = ENOENT;
		return -1;
	}
	ee.data.ptr = f;
	return epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &ee);
}

int
evloop_fd_del(struct evloop *ev, int fd)
{
	struct ev_fd **link, *f = evloop_fd_find(ev, fd, &link);

	if (f == NULL) {
		errno = ENOENT;
		return -1;
	}
	/* The descriptor may already be closed; the registration goes anyway. */
	(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = f->next;
	/*
	 * A ready event for f may still sit in this turn's event array; mark
	 * it dead instead of freeing, and reap it after dispatch.
	 */
	f->fd = -1;
	f->cb = NULL;
	f->next = ev->dead;
	ev->dead = f;
	return 0;
}

static void
evloop_reap(struct evloop *ev)
{
	while (ev->dead != NULL) {
		struct ev_fd *f = ev->dead;
		ev->dead = f->next;
		free(f);
	}
}

int64_t
evloop_now_ms(struct evloop *ev)
{
	return ev->now_ms;
}

/* Heap helpers: order by time, then by creation. */
static int
evloop_timer_less(const struct ev_timer *a, const struct ev_timer *b)
{
	if (a->when_ms != b->when_ms)
		return a->when_ms < b->when_ms;
	return a->seq < b->seq;
}

static void
evloop_heap_set(struct evloop *ev, size_t i, struct ev_timer *t)
{
	ev->heap[i] = t;
	t->slot = i;
}

static void
evloop_heap_up(struct evloop *ev, size_t i)
{
	struct ev_timer *t = ev->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!evloop_timer_less(t, ev->heap[parent]))
			break;
		evloop_heap_set(ev, i, ev->heap[parent]);
		i = parent;
	}
	evloop_heap_set(ev, i, t);
}

static void
evloop_heap_down(struct evloop *ev, size_t i)
{
	struct ev_timer *t = ev->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= ev->nheap)
			break;
		if (c + 1 < ev->nheap &&
		    evloop_timer_less(ev->heap[c + 1], ev->heap[c]))
			c++;
		if (!evloop_timer_less(ev->heap[c], t))
			break;
		evloop_heap_set(ev, i, ev->heap[c]);
		i = c;
	}
	evloop_heap_set(ev, i, t);
}

static void
evloop_heap_remove(struct evloop *ev, size_t i)
{
	struct ev_timer *last = ev->heap[--ev->nheap];

	if (i == ev->nheap)
		return;
	evloop_heap_set(ev, i, last);
	evloop_heap_down(ev, i);
	evloop_heap_up(ev, last->slot);
}

struct ev_timer *
evloop_timer_at(struct evloop *ev, int64_t when_ms, ev_cb cb, void *arg)
{
	struct ev_timer *t;

	if (ev->nheap == ev->heapcap) {
		size_t cap = ev->heapcap ? ev->heapcap * 2 : 256;
		struct ev_timer **h = realloc(ev->heap, cap * sizeof(*h));
		if (h == NULL)
			return NULL;
		ev->heap = h;
		ev->heapcap = cap;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->when_ms = when_ms;
	t->seq = ev->timer_seq++;
	t->cb = cb;
	t->arg = arg;
	ev->heap[ev->nheap++] = t;
	evloop_heap_up(ev, ev->nheap - 1);
	return t;
}

void
evloop_timer_cancel(struct evloop *ev, struct ev_timer *t)
{
	if (t == NULL)
		return;
	if (t->slot >= ev->nheap || ev->heap[t->slot] != t)
		log_panic("evloop: cancel of timer %p (slot %zu of %zu) not "
		    "pending", (void *)t, t->slot, ev->nheap);
	evloop_heap_remove(ev, t->slot);
	free(t);
}

int
evloop_defer(struct evloop *ev, ev_cb cb, void *arg)
{
	struct ev_defer *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	d->cb = cb;
	d->arg = arg;
	if (ev->defer_tail != NULL)
		ev->defer_tail->next = d;
	else
		ev->defer_head = d;
	ev->defer_tail = d;
	return 0;
}

static void
evloop_signal_read(int fd, uint32_t events, void *arg)
{
	struct evloop *ev = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < ev->nsig; i++)
			if (ev->sig[i].signo == (int)si.ssi_signo)
				ev->sig[i].cb((int)si.ssi_signo, ev->sig[i].arg);
	}
}

int
evloop_signal(struct evloop *ev, int signo, ev_signal_cb cb, void *arg)
{
	if (ev->nsig == EVLOOP_MAX_SIGNALS) {
		errno = ENOSPC;
		return -1;
	}
	sigaddset(&ev->sigs, signo);
	if (sigprocmask(SIG_BLOCK, &ev->sigs, NULL) == -1)
		return -1;
	int fd = signalfd(ev->sigfd, &ev->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -1;
	if (ev->sigfd == -1) {
		ev->sigfd = fd;
		if (evloop_fd_add(ev, fd, EPOLLIN, evloop_signal_read, ev) == -1)
			return -1;
	}
	ev->sig[ev->nsig].signo = signo;
	ev->sig[ev->nsig].cb = cb;
	ev->sig[ev->nsig].arg = arg;
	ev->nsig++;
	return 0;
}

void
evloop_set_idle(struct evloop *ev, ev_cb cb, void *arg)
{
	ev->idle_cb = cb;
	ev->idle_arg = arg;
}

uint64_t
evloop_stall_max_us(const struct evloop *ev)
{
	return ev->stall_max_us;
}

void
evloop_break(struct evloop *ev)
{
	ev->stop = 1;
}

/* Due timers, in order; returns how many fired. */
static int
evloop_run_timers(struct evloop *ev)
{
	int ran = 0;

	while (ev->nheap > 0 && ev->heap[0]->when_ms <= ev->now_ms) {
		struct ev_timer *t = ev->heap[0];
		ev_cb cb = t->cb;
		void *arg = t->arg;

		int64_t t0 = evloop_clock_us();

		evloop_heap_remove(ev, 0);
		free(t);
		cb(arg);
		evloop_timed(ev, t0);
		ran++;
	}
	return ran;
}

/* Deferred calls, a few rounds of them; returns how many ran. */
static int
evloop_run_defers(struct evloop *ev)
{
	int ran = 0;

	for (int round = 0; round < EVLOOP_DEFER_ROUNDS; round++) {
		struct ev_defer *d = ev->defer_head;

		if (d == NULL)
			return ran;
		ev->defer_head = ev->defer_tail = NULL;
		while (d != NULL) {
			struct ev_defer *next = d->next;
			int64_t t0 = evloop_clock_us();

			d->cb(d->arg);
			evloop_timed(ev, t0);
			free(d);
			d = next;
			ran++;
		}
	}
	return ran;
}

int64_t
evloop_next_ms(const struct evloop *ev)
{
	if (ev->defer_head != NULL)
		return ev->now_ms;
	if (ev->nheap == 0)
		return INT64_MAX;
	return ev->heap[0]->when_ms;
}

static int
evloop_wait_ms(struct evloop *ev)
{
	int64_t next = evloop_next_ms(ev);

	if (ev->defer_head != NULL)
		return 0;
	if (next == INT64_MAX)
		return -1;
	int64_t d = next - evloop_clock_now(ev);
	if (d < 0)
		return 0;
	if (d > 60000)
		d = 60000;
	return (int)d;
}

void
evloop_set_clock(struct evloop *ev, evloop_clock_fn fn, void *arg)
{
	ev->clock = fn;
	ev->clock_arg = arg;
	ev->now_ms = evloop_clock_now(ev);
}

int
evloop_turn(struct evloop *ev, int timeout_ms)
{
	struct epoll_event events[EVLOOP_MAX_EVENTS];
	int ran = 0;
	int n = epoll_wait(ev->epfd, events, EVLOOP_MAX_EVENTS,
	    timeout_ms < 0 ? evloop_wait_ms(ev) : timeout_ms);

	if (n == -1) {
		if (errno == EINTR)
			return 0;
		log_warn("evloop: epoll_wait");
		return -1;
	}
	ev->now_ms = evloop_clock_now(ev);
	for (int i = 0; i < n; i++) {
		struct ev_fd *f = events[i].data.ptr;

		if (f->cb != NULL) {
			int64_t t0 = evloop_clock_us();

			f->cb(f->fd, events[i].events, f->arg);
			evloop_timed(ev, t0);
			ran++;
		}
	}
	evloop_reap(ev);
	ev->now_ms = evloop_clock_now(ev);
	ran += evloop_run_timers(ev);
	ran += evloop_run_defers(ev);
	if (ev->idle_cb != NULL) {
		int64_t t0 = evloop_clock_us();

		ev->idle_cb(ev->idle_arg);
		evloop_timed(ev, t0);
	}
	return ran;
}

int
evloop_run(struct evloop *ev)
{
	ev->stop = 0;
	while (!ev->stop)
		if (evloop_turn(ev, -1) == -1)
			return -1;
	return 0;
}
