/*
 * control.c - the daemons' control socket (server in the event loop) and
 * the one-shot client smtpgatectl uses.  Protocol in control.h.
 *
 * Each connection has a fixed buffer for its request and a growing one for
 * the reply; a connection that has not sent its line within
 * CONTROL_TIMEOUT_MS, or sends a longer line, is answered with an error
 * and closed.  At most CONTROL_MAX_CONNS connections are open at once; more
 * are refused at accept time.
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

#define CONTROL_MAX_VERBS	16
#define CONTROL_MAX_CONNS	16
#define CONTROL_TIMEOUT_MS	5000
#define CONTROL_REPLY_MAX	(16 * 1024 * 1024)	/* a listing of many bans */

struct control_reply {
	char *buf;		/* "ok\n" or "error: ...\n" then data lines */
	size_t len, cap;
	int failed;		/* an error was set */
	int oom;		/* ran out of memory building it */
};

struct control_conn {
	struct control *c;
	int fd;
	char req[CONTROL_LINE_MAX + 1];
	size_t reqlen;
	struct control_reply rep;
	size_t sent;
	int writing;		/* request handled, reply going out */
	struct ev_timer *timer;
};

struct control {
	struct evloop *ev;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct {
		char verb[32];
		control_handler h;
		void *arg;
	} verbs[CONTROL_MAX_VERBS];
	size_t nverbs;
	struct control_conn *conns[CONTROL_MAX_CONNS];
};

/* Reply buffer */
static void
control_reply_vappend(struct control_reply *r, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (r->oom)
		return;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (r->len + (size_t)n + 2 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + (size_t)n + 2)
			cap *= 2;
		char *b = cap <= CONTROL_REPLY_MAX ? realloc(r->buf, cap) : NULL;
		if (b == NULL) {
			r->oom = 1;
			return;
		}
		r->buf = b;
		r->cap = cap;
	}
	vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
	r->len += (size_t)n;
	r->buf[r->len++] = '\n';
	r->buf[r->len] = '\0';
}

static void
control_reply_append(struct control_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	control_reply_vappend(r, fmt, ap);
	va_end(ap);
}

void
control_reply_line(struct control_reply *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	va_start(ap, fmt);
	control_reply_vappend(r, fmt, ap);
	va_end(ap);
}

void
control_reply_error(struct control_reply *r, const char *fmt, ...)
{
	va_list ap;
	char why[512];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->len = 0;
	r->oom = 0;
	r->failed = 1;
	control_reply_append(r, "error: %s", why);
}

/* Connections */
static void
control_conn_close(struct control_conn *k)
{
	struct control *c = k->c;

	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i] == k)
			c->conns[i] = NULL;
	if (k->timer != NULL)
		evloop_timer_cancel(c->ev, k->timer);
	evloop_fd_del(c->ev, k->fd);
	close(k->fd);
	free(k->rep.buf);
	free(k);
}

static void
control_conn_timeout(void *arg)
{
	struct control_conn *k = arg;

	k->timer = NULL;
	control_conn_close(k);
}

/* Split the request line (len bytes, NUL-terminated) into words; refuse
 * what is not printable ASCII, a NUL byte included. */
static int
control_split(char *line, size_t len, char *argv[], int max)
{
	char *save = NULL;
	int argc = 0;

	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return -1;
	for (char *tok = strtok_r(line, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (argc == max)
			return -1;
		argv[argc++] = tok;
	}
	return argc;
}

/* One request line (len bytes, NUL-terminated, no line end) to its
 * reply. */
static void
control_dispatch(struct control *c, char *line, size_t len,
    struct control_reply *rep)
{
	char *argv[CONTROL_MAX_ARGS];
	int argc;

	/* The "ok" line first; an error replaces the whole reply. */
	control_reply_append(rep, "ok");
	argc = control_split(line, len, argv, CONTROL_MAX_ARGS);
	if (argc <= 0) {
		control_reply_error(rep, "bad request");
		return;
	}
	for (size_t i = 0; i < c->nverbs; i++) {
		if (strcmp(c->verbs[i].verb, argv[0]) == 0) {
			c->verbs[i].h(c->verbs[i].arg, argc, argv, rep);
			if (rep->oom)
				control_reply_error(rep, "reply too large");
			return;
		}
	}
	control_reply_error(rep, "unknown command '%s'", argv[0]);
}

/*
 * What the server makes of the bytes a client has sent so far: req holds
 * reqlen of them (NUL-terminated; at most CONTROL_LINE_MAX are ever read).
 * True when the reply in rep is complete: the first line was dispatched
 * (what follows its LF is never read), or CONTROL_LINE_MAX bytes came
 * without one.  False when more bytes are needed.
 */
static bool
control_take(struct control *c, char *req, size_t reqlen,
    struct control_reply *rep)
{
	char *nl = memchr(req, '\n', reqlen);

	if (nl != NULL) {
		*nl = '\0';
		if (nl > req && nl[-1] == '\r')
			*--nl = '\0';
		control_dispatch(c, req, (size_t)(nl - req), rep);
		return true;
	}
	if (reqlen >= CONTROL_LINE_MAX) {
		control_reply_error(rep, "request longer than %d bytes",
		    CONTROL_LINE_MAX);
		return true;
	}
	return false;
}

static void
control_conn_write(struct control_conn *k)
{
	while (k->sent < k->rep.len) {
		ssize_t n = send(k->fd, k->rep.buf + k->sent,
		    k->rep.len - k->sent, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			break;
		}
		k->sent += (size_t)n;
	}
	control_conn_close(k);
}

static void
control_conn_io(int fd, uint32_t events, void *arg)
{
	struct control_conn *k = arg;

	if (k->writing) {
		control_conn_write(k);
		return;
	}
	(void)events;
	for (;;) {
		ssize_t n = read(fd, k->req + k->reqlen,
		    sizeof(k->req) - 1 - k->reqlen);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			control_conn_close(k);
			return;
		}
		k->reqlen += (size_t)n;
		k->req[k->reqlen] = '\0';
		if (control_take(k->c, k->req, k->reqlen, &k->rep))
			break;
	}
	k->writing = 1;
	if (evloop_fd_mod(k->c->ev, fd, EPOLLOUT) == -1) {
		control_conn_close(k);
		return;
	}
	control_conn_write(k);
}

static void
control_accept(int fd, uint32_t events, void *arg)
{
	struct control *c = arg;
	struct control_conn *k;
	size_t slot;
	int s;

	(void)events;
	while ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		for (slot = 0; slot < CONTROL_MAX_CONNS; slot++)
			if (c->conns[slot] == NULL)
				break;
		if (slot == CONTROL_MAX_CONNS ||
		    (k = calloc(1, sizeof(*k))) == NULL) {
			close(s);
			continue;
		}
		k->c = c;
		k->fd = s;
		k->timer = evloop_timer_at(c->ev, evloop_now_ms(c->ev) +
		    CONTROL_TIMEOUT_MS, control_conn_timeout, k);
		if (k->timer == NULL ||
		    evloop_fd_add(c->ev, s, EPOLLIN, control_conn_io, k) == -1) {
			if (k->timer != NULL)
				evloop_timer_cancel(c->ev, k->timer);
			close(s);
			free(k);
			continue;
		}
		c->conns[slot] = k;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		log_warn("control: accept on %s", c->path);
}

/* Split path into its directory (buf) and its last component. */
static const char *
control_split_path(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, len, ".");
		return path;
	}
	if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return slash + 1;
}

/*
 * Create the socket's directory if missing (mode 0750, group gid when not
 * -1, so that the group's members can reach the socket, as under systemd's
 * RuntimeDirectory).  The new directory is changed through a descriptor
 * opened without following a link.
 */
static int
control_mkdir(const char *path, gid_t gid, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;

	(void)control_split_path(path, dir, sizeof(dir));
	if (strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0)
		return 0;
	if (mkdir(dir, 0750) == -1) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, errlen, "control: mkdir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (gid == (gid_t)-1)
		return 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("control: chgrp smtpgate %s: open", dir);
		return 0;
	}
	if (fchown(fd, (uid_t)-1, gid) == -1)
		log_warn("control: chgrp smtpgate %s: fchown", dir);
	close(fd);	/* was left open when fchown failed */
	return 0;
}

/*
 * Give the socket file just bound the group gid.  Not chown(2) by path:
 * the directory may be writable by the daemon's user (systemd's
 * RuntimeDirectory is), and between bind and chown, or from an earlier
 * run, a link put in the socket's place would have carried root's chown
 * to any file.  fchown(2) on the socket descriptor changes the socket's
 * own inode, not the file bind made, so the file is changed relative to
 * its directory with AT_SYMLINK_NOFOLLOW, and only while it is a socket.
 */
static void
control_chgrp(const char *path, gid_t gid)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *base = control_split_path(path, dir, sizeof(dir));
	struct stat st;
	int dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("control: chgrp smtpgate %s: open %s", path, dir);
		return;
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("control: chgrp smtpgate %s: stat", path);
	else if (!S_ISSOCK(st.st_mode))
		log_warnx("control: chgrp smtpgate %s: no longer a socket "
		    "(replaced since bind?): left alone", path);
	else if (st.st_gid != gid && fchownat(dfd, base, (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) == -1)
		log_warn("control: chgrp smtpgate %s", path);
	close(dfd);
}

struct control *
control_new(struct evloop *ev)
{
	struct control *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ev = ev;
	c->fd = -1;
	return c;
}

int
control_answer(struct control *c, const char *data, size_t len,
    char **reply, size_t *replylen)
{
	char req[CONTROL_LINE_MAX + 1];
	struct control_reply rep = { 0 };
	size_t n = len < CONTROL_LINE_MAX ? len : CONTROL_LINE_MAX;

	*reply = NULL;
	*replylen = 0;
	memcpy(req, data, n);
	req[n] = '\0';
	if (!control_take(c, req, n, &rep)) {
		free(rep.buf);
		return 0;	/* the client closed before its line ended */
	}
	if (rep.buf == NULL)
		return -1;	/* out of memory for even the error */
	*reply = rep.buf;
	*replylen = rep.len;
	return 1;
}

struct control *
control_open(struct evloop *ev, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *c;
	struct group *gr;
	gid_t gid;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control: socket path too long: %s",
		    path);
		return NULL;
	}
	gid = (gr = getgrnam("smtpgate")) != NULL ? gr->gr_gid : (gid_t)-1;
	if (control_mkdir(path, gid, err, errlen) == -1)
		return NULL;
	if ((c = control_new(ev)) == NULL) {
		snprintf(err, errlen, "control: out of memory");
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		snprintf(err, errlen, "control: socket: %s", strerror(errno));
		free(c);
		return NULL;
	}
	/*
	 * A socket file left by a daemon that died is replaced; a live
	 * daemon on it would answer a connect, so refuse to steal it.
	 */
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		snprintf(err, errlen, "control: %s: another daemon answers "
		    "there", path);
		goto fail;
	}
	close(c->fd);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path);
	mode_t old = umask(0117);
	int rc = c->fd == -1 ? -1 :
	    bind(c->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1 || listen(c->fd, CONTROL_MAX_CONNS) == -1) {
		snprintf(err, errlen, "control: bind %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (gid != (gid_t)-1)
		control_chgrp(path, gid);
	if (evloop_fd_add(ev, c->fd, EPOLLIN, control_accept, c) == -1) {
		snprintf(err, errlen, "control: epoll: %s", strerror(errno));
		unlink(path);
		goto fail;
	}
	return c;
fail:
	if (c->fd != -1)
		close(c->fd);
	free(c);
	return NULL;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i] != NULL)
			control_conn_close(c->conns[i]);
	if (c->fd != -1) {
		evloop_fd_del(c->ev, c->fd);
		close(c->fd);
		unlink(c->path);
	}
	free(c);
}

int
control_register(struct control *c, const char *verb, control_handler h,
    void *arg)
{
	if (c->nverbs == CONTROL_MAX_VERBS ||
	    strlen(verb) >= sizeof(c->verbs[0].verb))
		return -1;
	snprintf(c->verbs[c->nverbs].verb, sizeof(c->verbs[0].verb), "%s",
	    verb);
	c->verbs[c->nverbs].h = h;
	c->verbs[c->nverbs].arg = arg;
	c->nverbs++;
	return 0;
}

/* Client side */
static int64_t
control_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
control_wait(int fd, short what, int64_t until)
{
	struct pollfd p = { .fd = fd, .events = what };
	int64_t left = until - control_ms();

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	int n = poll(&p, 1, (int)left);
	if (n == 0)
		errno = ETIMEDOUT;
	return n == 1 ? 0 : -1;
}

int
control_request(const char *path, const char *request, char *buf, size_t len,
    int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int64_t until = control_ms() + timeout_ms;
	size_t got = 0, reqlen = strlen(request), sent = 0;
	int fd, rc = -1, saved;
	char line[CONTROL_LINE_MAX + 2];

	if (len == 0 || reqlen > CONTROL_LINE_MAX ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(line, sizeof(line), "%s\n", request);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto out;
	while (sent < reqlen + 1) {
		if (control_wait(fd, POLLOUT, until) == -1)
			goto out;
		ssize_t n = send(fd, line + sent, reqlen + 1 - sent,
		    MSG_NOSIGNAL);
		if (n == -1)
			goto out;
		sent += (size_t)n;
	}
	for (;;) {
		if (control_wait(fd, POLLIN, until) == -1)
			goto out;
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == len - 1) {
			errno = EMSGSIZE;
			goto out;
		}
	}
	buf[got] = '\0';
	if (strncmp(buf, "ok\n", 3) == 0) {
		memmove(buf, buf + 3, got - 3 + 1);
		rc = 0;
	} else if (strncmp(buf, "error: ", 7) == 0) {
		memmove(buf, buf + 7, got - 7 + 1);
		buf[strcspn(buf, "\n")] = '\0';
		rc = 1;
	} else {
		errno = EPROTO;
	}
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
