/*
 * evloop.h - the one event loop of a daemon: epoll for file descriptors,
 * a timer heap, signals through signalfd, and deferred calls.
 *
 * Single-threaded.  Callbacks run from evloop_run only.  evloop_defer queues
 * a call for the next turn of the loop, so a module can answer "at once"
 * without re-entering its caller (postscreen's rule).
 */
#ifndef SMTPGATE_EVLOOP_H
#define SMTPGATE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;
struct ev_timer;

typedef void (*ev_io_cb)(int fd, uint32_t events, void *arg);
typedef void (*ev_cb)(void *arg);
typedef void (*ev_signal_cb)(int signo, void *arg);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *ev);

/* events: EPOLLIN / EPOLLOUT.  One registration per fd. 0 or -1 (errno). */
int evloop_fd_add(struct evloop *ev, int fd, uint32_t events, ev_io_cb cb,
    void *arg);
int evloop_fd_mod(struct evloop *ev, int fd, uint32_t events);
int evloop_fd_del(struct evloop *ev, int fd);

/* Monotonic milliseconds, cached once per loop turn. */
int64_t evloop_now_ms(struct evloop *ev);
/* Monotonic microseconds, read fresh (for measurements). */
int64_t evloop_clock_us(void);

/* A one-shot timer at absolute time when_ms. NULL on out of memory. */
struct ev_timer *evloop_timer_at(struct evloop *ev, int64_t when_ms,
    ev_cb cb, void *arg);
/* Cancel a pending timer (not one that already fired). */
void evloop_timer_cancel(struct evloop *ev, struct ev_timer *t);

/* Run cb(arg) on the next turn. 0 or -1. */
int evloop_defer(struct evloop *ev, ev_cb cb, void *arg);

/* Deliver signo through the loop (blocks it for the process). */
int evloop_signal(struct evloop *ev, int signo, ev_signal_cb cb, void *arg);

/* A hook run at the end of every turn (after I/O and timers), e.g. flushing
 * a netlink batch.  One per loop. */
void evloop_set_idle(struct evloop *ev, ev_cb cb, void *arg);

/*
 * The longest any one callback (a descriptor's, a timer's, a deferred
 * call's, the idle hook's) has run so far, in microseconds: the loop's
 * worst stall, during which nothing else it serves was answered.
 */
uint64_t evloop_stall_max_us(const struct evloop *ev);

/* Run until evloop_break. 0, or -1 when epoll itself fails. */
int evloop_run(struct evloop *ev);
void evloop_break(struct evloop *ev);

/*
 * One turn of the loop (evloop_run makes them one after the other): wait
 * for descriptors at most timeout_ms (0: not at all; -1: until the
 * nearest timer, as evloop_run does), then run the ready descriptors'
 * callbacks, the due timers, the deferred calls and the idle hook.
 * Returns how many callbacks ran (the idle hook not counted), or -1 when
 * epoll fails.
 */
int evloop_turn(struct evloop *ev, int timeout_ms);
/*
 * When the loop has work of its own next: now (the turn's time) when
 * deferred calls wait, else the nearest timer's time; INT64_MAX for none.
 */
int64_t evloop_next_ms(const struct evloop *ev);

/*
 * Virtual time, for tests that replay a daemon against a script
 * (tests/scenario/): the loop's clock (evloop_now_ms, timers) becomes
 * fn(arg), milliseconds that the caller moves forward, and the caller
 * drives the loop with evloop_turn.  NULL: the system's monotonic clock.
 */
typedef int64_t (*evloop_clock_fn)(void *arg);
void evloop_set_clock(struct evloop *ev, evloop_clock_fn fn, void *arg);

#endif
