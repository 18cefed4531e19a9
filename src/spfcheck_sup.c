/*
 * spfcheck_sup.c - the client's side of the SPF helpers' supervisor
 * (spfproc.c): its control socket (s->ctl, SOCK_SEQPACKET), on which it
 * announces each worker with the worker's socket (WORKER_UP, SCM_RIGHTS)
 * and each death (WORKER_DOWN), and takes our KILL requests (contract in
 * spfcheck_int.h).
 *
 * Every message is checked like a worker's (spfwire_decode, one
 * descriptor exactly with WORKER_UP and none otherwise, a slot we have,
 * a socket); a bad one is counted (protocol) and dropped, its descriptor
 * closed.  When the supervisor exits, the socket reads end-of-file: SPF
 * checks then answer temperror until the daemon restarts.  At start,
 * spfcheck_sup_wait blocks (the loop is not running yet) until the first
 * worker is up, so a sandbox that cannot be built stops the start; at
 * shutdown spfcheck_sup_close closes the socket, which ends the
 * supervisor and its workers, and reaps it briefly.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spfcheck_int.h"

#define SPFCHECK_START_WAIT_MS	5000	/* for the first worker at start */

static const char *
spfcheck_sup_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "ended (status %#x)", (unsigned)status);
	return buf;
}

static void
spfcheck_sup_worker_up(struct spfcheck *s, const struct spfwire_msg *m,
    int fd)
{
	struct stat sb;

	if (m->u.worker.slot >= s->nworkers || fd < 0 ||
	    fstat(fd, &sb) == -1 || !S_ISSOCK(sb.st_mode) ||
	    m->u.worker.pid <= 0) {
		s->st.protocol++;
		log_warnx("spf: the supervisor announced a bad worker (slot %u "
		    "of %u, pid %d, fd %d%s)", (unsigned)m->u.worker.slot,
		    (unsigned)s->nworkers, (int)m->u.worker.pid, fd,
		    fd >= 0 ? ", not a socket" : "");
		if (fd >= 0)
			close(fd);
		return;
	}
	spfcheck_worker_attach(s, m->u.worker.slot, (pid_t)m->u.worker.pid,
	    fd);
}

static void
spfcheck_sup_worker_down(struct spfcheck *s, const struct spfwire_msg *m)
{
	struct spfcheck_worker *w;
	char how[96];

	if (m->u.worker.slot >= s->nworkers)
		return;
	w = &s->w[m->u.worker.slot];
	spfcheck_sup_status(m->u.worker.status, how, sizeof(how));
	/* A retired worker exits 0 with nothing to do: not news. */
	if (!(WIFEXITED(m->u.worker.status) &&
	    WEXITSTATUS(m->u.worker.status) == 0)) {
		s->st.deaths++;
		spfcheck_worker_trouble(s, (pid_t)m->u.worker.pid, how);
	}
	if (w->fd >= 0 && w->pid == (pid_t)m->u.worker.pid)
		spfcheck_worker_gone(s, w, false, how);
}

static void
spfcheck_sup_dead(struct spfcheck *s)
{
	if (s->sup_dead)
		return;
	s->sup_dead = true;
	if (!s->freeing)
		log_warnx("spf: the helper supervisor exited; SPF checks "
		    "answer temperror until the daemon restarts");
	if (s->ctl_registered)
		evloop_fd_del(s->ev, s->ctl);
	s->ctl_registered = false;
	spfcheck_job_pump_soon(s);
}

/* One message from the supervisor, with the descriptor it carries: 1, 0
 * (nothing to read, or a bad message dropped), or -1 (it is gone). */
static int
spfcheck_sup_read(struct spfcheck *s, bool block)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { .iov_base = s->buf, .iov_len = sizeof(s->buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	struct spfwire_msg m;
	const char *why;
	int fd = -1, nfd = 0;
	ssize_t n;

	n = recvmsg(s->ctl, &mh, MSG_CMSG_CLOEXEC | (block ? 0 :
	    MSG_DONTWAIT));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; CMSG_LEN((i + 1) * sizeof(int)) <=
		    c->cmsg_len; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (nfd++ == 0)
				fd = f;
			else
				close(f);
		}
	}
	if (n <= 0) {
		if (fd >= 0)
			close(fd);
		spfcheck_sup_dead(s);
		return -1;
	}
	why = nfd > 1 ? "more than one descriptor" :
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? "truncated" : NULL;
	if (why == NULL && spfwire_decode(s->buf, (size_t)n, &m, &why) == -1 &&
	    why == NULL)
		why = "undecodable";
	if (why == NULL && (m.type == SPFWIRE_WORKER_UP) != (fd >= 0))
		why = fd >= 0 ? "a descriptor with a message that takes none" :
		    "a worker without its descriptor";
	if (why != NULL) {
		s->st.protocol++;
		log_warnx("spf: bad message of %zd bytes from the supervisor: "
		    "%s", n, why);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (m.type == SPFWIRE_WORKER_UP)
		spfcheck_sup_worker_up(s, &m, fd);
	else if (m.type == SPFWIRE_WORKER_DOWN)
		spfcheck_sup_worker_down(s, &m);
	return 1;
}

static void
spfcheck_sup_readable(int fd, uint32_t events, void *arg)
{
	struct spfcheck *s = arg;

	(void)fd;
	(void)events;
	while (!s->sup_dead && spfcheck_sup_read(s, false) > 0)
		;
}

int
spfcheck_sup_wait(struct spfcheck *s, char *err, size_t errlen)
{
	int64_t until;

	/* Wait for the first worker: a sandbox that cannot be built stops
	 * the start, with the supervisor's reason on stderr. */
	until = evloop_clock_us() / 1000 + SPFCHECK_START_WAIT_MS;
	while (s->st.workers_up == 0) {
		struct pollfd pfd = { .fd = s->ctl, .events = POLLIN };
		int64_t left = until - evloop_clock_us() / 1000;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 ||
		    spfcheck_sup_read(s, true) == -1) {
			snprintf(err, errlen, "spf: the helper processes did "
			    "not start (their reason, if any, is on stderr)");
			return -1;
		}
	}
	if (evloop_fd_add(s->ev, s->ctl, EPOLLIN, spfcheck_sup_readable, s) ==
	    -1) {
		snprintf(err, errlen, "spf: epoll add: %s", strerror(errno));
		return -1;
	}
	s->ctl_registered = true;
	return 0;
}

void
spfcheck_sup_kill(struct spfcheck *s, const struct spfcheck_worker *w)
{
	struct spfwire_msg m = { .type = SPFWIRE_KILL };

	if (s->sup_dead)
		return;
	m.u.worker.slot = w->slot;
	m.u.worker.pid = (int32_t)w->pid;
	if (spfcheck_send(s, s->ctl, &m) == -1)
		log_warn("spf: ask the supervisor to kill worker %d",
		    (int)w->pid);
}

void
spfcheck_sup_close(struct spfcheck *s)
{
	if (s->ctl >= 0) {
		if (s->ctl_registered)
			evloop_fd_del(s->ev, s->ctl);
		close(s->ctl);	/* the supervisor kills its workers, exits */
		s->ctl = -1;
		s->ctl_registered = false;
	}
	/* Reap it when it is ours (not after a daemon's fork), briefly. */
	for (int i = 0; s->sup_pid > 0 && i < 40; i++) {
		pid_t r = waitpid(s->sup_pid, NULL, WNOHANG);

		if (r == s->sup_pid || (r == -1 && errno == ECHILD))
			break;
		if (i == 39) {
			kill(s->sup_pid, SIGKILL);
			(void)waitpid(s->sup_pid, NULL, 0);
			break;
		}
		usleep(25000);
	}
}
