/*
 * bgsave.c - a snapshot written by a forked child, reaped through the
 * event loop (contract in bgsave.h).
 *
 * The child reports a failure as text through a pipe (at most
 * BGSAVE_MSG_MAX bytes, below PIPE_BUF, so one write) and its exit
 * status; the parent reads both once the child is reaped.  The child is
 * waited for by its pid only: a wait for any child would also reap
 * processes that are not ours to reap.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgsave.h"
#include "log.h"

#define BGSAVE_MSG_MAX		512
#define BGSAVE_POLL_MS		50	/* without a pidfd */
#define BGSAVE_NICE		10

struct bgsave {
	struct evloop *ev;
	bgsave_done_cb done;
	void *arg;
	pid_t pid;			/* the running child; 0: none */
	int pidfd;			/* its pidfd, -1 when polled */
	int msg_fd;			/* read end of its message pipe */
	struct ev_timer *poll;		/* the poll, without a pidfd */
	int64_t start_us;		/* when it was forked */
};

struct bgsave *
bgsave_new(struct evloop *ev, bgsave_done_cb done, void *arg)
{
	struct bgsave *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->ev = ev;
	b->done = done;
	b->arg = arg;
	b->pidfd = b->msg_fd = -1;
	return b;
}

bool
bgsave_running(const struct bgsave *b)
{
	return b->pid != 0;
}

/*
 * Reap the child if it has ended (or, with block, once it has) and
 * report it.  False when it is still running.
 */
static bool
bgsave_reap(struct bgsave *b, bool block)
{
	char msg[BGSAVE_MSG_MAX + 1] = "";
	int status = 0, rc;
	ssize_t n;
	pid_t r;

	while ((r = waitpid(b->pid, &status, block ? 0 : WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (r == 0)
		return false;
	if (r == -1) {
		/* Not ours any more (reaped elsewhere): say so, move on. */
		snprintf(msg, sizeof(msg), "waitpid %ld: %s", (long)b->pid,
		    strerror(errno));
		status = -1;
	} else if ((n = read(b->msg_fd, msg, BGSAVE_MSG_MAX)) > 0) {
		msg[n] = '\0';
	}
	if (b->pidfd != -1) {
		evloop_fd_del(b->ev, b->pidfd);
		close(b->pidfd);
		b->pidfd = -1;
	}
	if (b->poll != NULL) {
		evloop_timer_cancel(b->ev, b->poll);
		b->poll = NULL;
	}
	close(b->msg_fd);
	b->msg_fd = -1;
	rc = r != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
	    0 : -1;
	if (rc == -1 && msg[0] == '\0') {
		if (r != -1 && WIFSIGNALED(status))
			snprintf(msg, sizeof(msg), "writer %ld killed by "
			    "signal %d", (long)b->pid, WTERMSIG(status));
		else
			snprintf(msg, sizeof(msg), "writer %ld exited with "
			    "status %d", (long)b->pid, r != -1 &&
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	b->pid = 0;
	/* Last: done may start the next child. */
	b->done(b->arg, rc, msg, (evloop_clock_us() - b->start_us) / 1000);
	return true;
}

static void
bgsave_readable(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	(void)bgsave_reap(arg, false);
}

static void
bgsave_poll(void *arg)
{
	struct bgsave *b = arg;

	b->poll = NULL;
	if (bgsave_reap(b, false))
		return;
	b->poll = evloop_timer_at(b->ev, evloop_now_ms(b->ev) +
	    BGSAVE_POLL_MS, bgsave_poll, b);
	if (b->poll == NULL)
		log_warnx("bgsave: out of memory for the poll timer: the "
		    "writer %ld is reaped at shutdown", (long)b->pid);
}

/*
 * The child keeps standard input, output and error and its message pipe
 * (moved to descriptor 3), nothing else: holding the queue's netlink
 * socket after the parent died would keep the queue bound (no bypass,
 * and a restarted daemon could not bind it), and the control socket's
 * listener would take connections nobody answers.
 */
static int
bgsave_child_fds(int msg_fd)
{
	long max;

	if (msg_fd != 3 && dup2(msg_fd, 3) == -1)
		return -1;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4u, ~0u, 0u) == 0)
		return 3;
#endif
	max = sysconf(_SC_OPEN_MAX);
	for (long fd = 4; fd < (max > 0 ? max : 1024); fd++)
		(void)close((int)fd);
	return 3;
}

/* The child: write, report, leave without running exit handlers. */
static __attribute__((noreturn)) void
bgsave_child(int msg_fd, bgsave_write_cb write_cb, void *warg)
{
	char msg[BGSAVE_MSG_MAX] = "";

	if ((msg_fd = bgsave_child_fds(msg_fd)) == -1)
		_exit(2);
	(void)setpriority(PRIO_PROCESS, 0, BGSAVE_NICE);
	if (write_cb(warg, msg, sizeof(msg)) == 0)
		_exit(0);
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "failed (no reason given)");
	if (write(msg_fd, msg, strnlen(msg, sizeof(msg))) == -1)
		_exit(2);
	_exit(1);
}

int
bgsave_start(struct bgsave *b, bgsave_write_cb write_cb, void *warg,
    char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (b->pid != 0) {
		snprintf(err, errlen, "a writer (%ld) is running already",
		    (long)b->pid);
		errno = EBUSY;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	b->start_us = evloop_clock_us();
	if ((pid = fork()) == -1) {
		int saved = errno;

		close(p[0]);
		close(p[1]);
		snprintf(err, errlen, "fork: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		bgsave_child(p[1], write_cb, warg);
	}
	close(p[1]);
	b->pid = pid;
	b->msg_fd = p[0];
	b->pidfd = -1;
#ifdef SYS_pidfd_open
	b->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (b->pidfd != -1 && evloop_fd_add(b->ev, b->pidfd, EPOLLIN,
	    bgsave_readable, b) == -1) {
		close(b->pidfd);
		b->pidfd = -1;
	}
	if (b->pidfd == -1 && (b->poll = evloop_timer_at(b->ev,
	    evloop_now_ms(b->ev) + BGSAVE_POLL_MS, bgsave_poll, b)) == NULL)
		log_warnx("bgsave: no pidfd and no timer: the writer %ld is "
		    "reaped at shutdown", (long)pid);
	return 0;
}

void
bgsave_wait(struct bgsave *b)
{
	if (b->pid != 0)
		(void)bgsave_reap(b, true);
}

void
bgsave_free(struct bgsave *b)
{
	if (b == NULL)
		return;
	bgsave_wait(b);
	free(b);
}
