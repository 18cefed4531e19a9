/*
 * cluster_conn.c - one hiredis asynchronous connection driven by the
 * daemon's evloop: the adapter (hiredis's addRead, delRead, addWrite,
 * delWrite and cleanup hooks onto evloop_fd_add/mod/del, readiness onto
 * redisAsyncHandleRead/Write), the set-up every connection makes (AUTH,
 * CLIENT SETNAME), commands with their deadlines, and a subscription.
 *
 * Exports the cluster_conn_* functions of cluster_int.h.  A connection
 * belongs to its struct cluster; a request belongs to its connection's
 * FIFO from the command until its reply (or the NULL reply of a context
 * going away), and is freed after its callback.  Replies on one
 * connection come in the order the commands went, so the FIFO's head is
 * always the oldest command waiting: its deadline is the connection's.
 * The connect is non-blocking (hiredis with a numeric address makes no
 * DNS query); nothing here waits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cluster_int.h"
#include "evloop.h"
#include "log.h"

struct cluster_req *
cluster_req_new(void)
{
	return calloc(1, sizeof(struct cluster_req));
}

/* A reply past a bound (cluster_reply.c): the link fails, said once;
 * no more reads on it. */
static void
cluster_conn_over(struct cluster_conn *k)
{
	k->c->st.errors++;
	cluster_link_fail(k, "%s: a reply %s; the server is not sound",
	    k->name, k->budget.why);
}

/* ---- the adapter ---- */

static void
cluster_conn_io(int fd, uint32_t events, void *arg)
{
	struct cluster_conn *k = arg;
	redisAsyncContext *ac = k->ac;

	(void)fd;
	if (ac == NULL || k->budget.why[0] != '\0')
		return;
	/* A failed connect shows as EPOLLERR/EPOLLHUP with EPOLLOUT. */
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
		if ((events & EPOLLOUT) || !k->connected)
			redisAsyncHandleWrite(ac);
	}
	/* The write may have ended the context (k->ac then NULL). */
	if (k->ac == ac && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
		redisAsyncHandleRead(ac);
		if (k->ac == ac && cluster_reply_check(ac->c.reader,
		    &k->budget) == -1)
			cluster_conn_over(k);
	}
}

static void
cluster_conn_sync_fd(struct cluster_conn *k)
{
	struct evloop *ev = k->c->ev;

	if (k->ac == NULL || k->fd < 0)
		return;
	if (!k->registered) {
		if (evloop_fd_add(ev, k->fd, k->events, cluster_conn_io,
		    k) == -1) {
			cluster_link_fail(k, "%s: evloop_fd_add: %s", k->name,
			    strerror(errno));
			return;
		}
		k->registered = true;
	} else if (evloop_fd_mod(ev, k->fd, k->events) == -1)
		cluster_link_fail(k, "%s: evloop_fd_mod: %s", k->name,
		    strerror(errno));
}

static void
cluster_conn_add_read(void *privdata)
{
	struct cluster_conn *k = privdata;

	if (!(k->events & EPOLLIN)) {
		k->events |= EPOLLIN;
		cluster_conn_sync_fd(k);
	}
}

static void
cluster_conn_del_read(void *privdata)
{
	struct cluster_conn *k = privdata;

	if (k->events & EPOLLIN) {
		k->events &= ~(uint32_t)EPOLLIN;
		cluster_conn_sync_fd(k);
	}
}

static void
cluster_conn_add_write(void *privdata)
{
	struct cluster_conn *k = privdata;

	if (!(k->events & EPOLLOUT)) {
		k->events |= EPOLLOUT;
		cluster_conn_sync_fd(k);
	}
}

static void
cluster_conn_del_write(void *privdata)
{
	struct cluster_conn *k = privdata;

	if (k->events & EPOLLOUT) {
		k->events &= ~(uint32_t)EPOLLOUT;
		cluster_conn_sync_fd(k);
	}
}

/* The context is gone (hiredis freed it or is freeing it). */
static void
cluster_conn_gone(struct cluster_conn *k)
{
	k->ac = NULL;
	k->connected = false;
	k->ready = false;
	k->ready_deadline_ms = 0;
}

/*
 * hiredis is about to close the descriptor and free the context: the one
 * hook every way out passes (our redisAsyncFree, a failed connect, a
 * failed read or write), after the pending callbacks ran with NULL.  When
 * the server or the network ended it, that is a failure of the link.
 */
static void
cluster_conn_cleanup(void *privdata)
{
	struct cluster_conn *k = privdata;
	redisAsyncContext *ac = k->ac;

	if (k->registered)
		(void)evloop_fd_del(k->c->ev, k->fd);
	k->registered = false;
	k->events = 0;
	k->fd = -1;
	/* A bound's NULL object is hiredis's "out of memory": say which. */
	if (ac != NULL && !k->closing && k->budget.why[0] != '\0')
		cluster_conn_over(k);
	else if (ac != NULL && !k->closing)
		cluster_link_fail(k, "%s: %s", k->name, ac->err &&
		    ac->errstr[0] ? ac->errstr :
		    "connection closed by the server");
	cluster_conn_gone(k);
}

/* ---- connect and disconnect ---- */

static struct cluster_conn *
cluster_conn_of(const redisAsyncContext *ac)
{
	return ac->ev.data;
}

static void
cluster_conn_on_connect(const redisAsyncContext *ac, int status)
{
	struct cluster_conn *k = cluster_conn_of(ac);

	if (k == NULL || k->ac != ac)
		return;
	if (status == REDIS_OK) {
		k->connected = true;
		return;
	}
	/* hiredis frees the context when this returns (cleanup). */
	cluster_link_fail(k, "%s: connect to %s: %s", k->name, k->server,
	    ac->errstr[0] ? ac->errstr : "failed");
}

/* Every way out passed cleanup first, which said what there was to say. */
static void
cluster_conn_on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)ac;
	(void)status;
}

void
cluster_conn_init(struct cluster_conn *k, struct cluster *c,
    enum cluster_role role, const char *name)
{
	memset(k, 0, sizeof *k);
	k->c = c;
	k->role = role;
	k->name = name;
	k->fd = -1;
}

/* AUTH and CLIENT SETNAME answered: a command connection is ready. */
static void
cluster_conn_setname_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster_conn *k = q->k;

	if (r == NULL || k->ac == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_reply(k->c, q->what, r);
		cluster_link_fail(k, "%s: CLIENT SETNAME: %.*s", k->name,
		    (int)r->len, r->str);
		return;
	}
	if (k->role == CLUSTER_ROLE_CMD) {
		k->ready = true;
		k->ready_deadline_ms = 0;
		if (k->on_ready != NULL)
			k->on_ready(k);
	}
}

static void
cluster_conn_auth_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster_conn *k = q->k;

	if (r == NULL || k->ac == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_reply(k->c, "AUTH", r);
		cluster_link_fail(k, "%s: AUTH: %.*s", k->name, (int)r->len,
		    r->str);
	}
}

int
cluster_conn_open(struct cluster_conn *k, const char *host, int port,
    const char *path, bool auth, char *why, size_t whylen)
{
	struct cluster *c = k->c;
	redisAsyncContext *ac;
	const char *argv[3];
	size_t argvlen[3];
	int argc;

	if (path != NULL)
		snprintf(k->server, sizeof k->server, "%s", path);
	else
		snprintf(k->server, sizeof k->server, strchr(host, ':') ?
		    "[%s]:%d" : "%s:%d", host, port);
	ac = path != NULL ? redisAsyncConnectUnix(path) :
	    redisAsyncConnect(host, port);
	if (ac == NULL) {
		snprintf(why, whylen, "%s: connect to %s: out of memory",
		    k->name, k->server);
		return -1;
	}
	if (ac->err) {
		snprintf(why, whylen, "%s: connect to %s: %s", k->name,
		    k->server, ac->errstr);
		redisAsyncFree(ac);
		return -1;
	}
	k->ac = ac;
	k->fd = ac->c.fd;
	cluster_reply_bound(ac->c.reader, &k->budget);
	k->closing = false;
	k->connected = false;
	k->ready = false;
	k->ready_deadline_ms = evloop_now_ms(c->ev) + c->cc.timeout_ms;
	k->last_rx_ms = evloop_now_ms(c->ev);
	ac->ev.data = k;
	ac->ev.addRead = cluster_conn_add_read;
	ac->ev.delRead = cluster_conn_del_read;
	ac->ev.addWrite = cluster_conn_add_write;
	ac->ev.delWrite = cluster_conn_del_write;
	ac->ev.cleanup = cluster_conn_cleanup;
	redisAsyncSetConnectCallback(ac, cluster_conn_on_connect);
	redisAsyncSetDisconnectCallback(ac, cluster_conn_on_disconnect);
	if (k->ac == NULL)
		goto gone;
	cluster_tick_arm(c, k->ready_deadline_ms);

	/* Queued at once: hiredis writes them when the connect is done. */
	if (auth && c->pass[0] != '\0') {
		argc = 0;
		argv[argc] = "AUTH";
		argvlen[argc++] = 4;
		if (c->user[0] != '\0') {
			argv[argc] = c->user;
			argvlen[argc++] = strlen(c->user);
		}
		argv[argc] = c->pass;
		argvlen[argc++] = strlen(c->pass);
		if (cluster_conn_command(k, NULL, cluster_conn_auth_reply,
		    "AUTH", argc, argv, argvlen) != 0)
			goto failed;
	}
	argv[0] = "CLIENT";
	argv[1] = "SETNAME";
	argv[2] = c->client_name;
	argvlen[0] = 6;
	argvlen[1] = 7;
	argvlen[2] = strlen(c->client_name);
	if (cluster_conn_command(k, NULL, cluster_conn_setname_reply,
	    "CLIENT SETNAME", 3, argv, argvlen) != 0)
		goto failed;
	return 0;
failed:
	snprintf(why, whylen, "%s: %s: cannot queue the set-up", k->name,
	    k->server);
	cluster_conn_close(k);
	return -1;
gone:
	snprintf(why, whylen, "%s: connect to %s failed", k->name, k->server);
	return -1;
}

void
cluster_conn_close(struct cluster_conn *k)
{
	redisAsyncContext *ac = k->ac;

	if (ac == NULL)
		return;
	k->closing = true;
	/* Pending callbacks run with NULL now; then cleanup, then free. */
	redisAsyncFree(ac);
	k->closing = false;
	cluster_conn_gone(k);
	k->fd = -1;
	k->registered = false;
	k->events = 0;
}

/* ---- commands ---- */

/* Unlink q, the FIFO's head by the order of replies (any, at teardown). */
static void
cluster_conn_unlink(struct cluster_conn *k, struct cluster_req *q)
{
	struct cluster_req **p = &k->head, *prev = NULL;

	for (; *p != NULL; prev = *p, p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			if (k->tail == q)
				k->tail = prev;
			k->inflight--;
			return;
		}
}

static void
cluster_conn_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct cluster_req *q = privdata;
	struct cluster_conn *k = q->k;

	(void)ac;
	cluster_conn_unlink(k, q);
	if (reply != NULL)
		k->last_rx_ms = evloop_now_ms(k->c->ev);
	q->fn(q, reply);
	free(q);
}

int
cluster_conn_command(struct cluster_conn *k, struct cluster_req *q,
    cluster_reply_fn fn, const char *what, int argc, const char **argv,
    const size_t *argvlen)
{
	struct cluster *c = k->c;

	if (q == NULL && (q = cluster_req_new()) == NULL)
		return -1;
	if (k->ac == NULL || k->closing) {
		free(q);
		return -1;
	}
	q->k = k;
	q->fn = fn;
	q->what = what;
	q->deadline_ms = evloop_now_ms(c->ev) + c->cc.timeout_ms;
	q->next = NULL;
	if (redisAsyncCommandArgv(k->ac, cluster_conn_reply, q, argc, argv,
	    argvlen) != REDIS_OK) {
		free(q);
		return -1;
	}
	if (k->tail != NULL)
		k->tail->next = q;
	else
		k->head = q;
	k->tail = q;
	k->inflight++;
	cluster_tick_arm(c, q->deadline_ms);
	return 0;
}

/*
 * The subscription's callback: ["subscribe", channel, n] once, then
 * ["message", channel, payload] for each message; NULL when the context
 * goes.  Shapes are checked before anything is read.
 */
static void
cluster_conn_sub_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct cluster_conn *k = privdata;
	redisReply *r = reply, *t, *ch, *m;

	if (r == NULL || k->ac != ac)
		return;
	k->last_rx_ms = evloop_now_ms(k->c->ev);
	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_reply(k->c, "SUBSCRIBE", r);
		cluster_link_fail(k, "%s: SUBSCRIBE: %.*s", k->name, (int)r->len,
		    r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;
	t = r->element[0];
	ch = r->element[1];
	m = r->element[2];
	if (t->type != REDIS_REPLY_STRING || ch->type != REDIS_REPLY_STRING)
		return;
	if (t->len == 9 && strncasecmp(t->str, "subscribe", 9) == 0) {
		if (!k->ready) {
			k->ready = true;
			k->ready_deadline_ms = 0;
			if (k->on_ready != NULL)
				k->on_ready(k);
		}
		return;
	}
	if (t->len == 7 && strncasecmp(t->str, "message", 7) == 0 &&
	    m->type == REDIS_REPLY_STRING && k->on_message != NULL)
		k->on_message(k, ch->str, ch->len, m->str, m->len);
}

int
cluster_conn_subscribe(struct cluster_conn *k, const char *channel)
{
	const char *argv[2] = { "SUBSCRIBE", channel };
	size_t argvlen[2] = { 9, strlen(channel) };

	if (k->ac == NULL || k->closing)
		return -1;
	if (redisAsyncCommandArgv(k->ac, cluster_conn_sub_reply, k, 2, argv,
	    argvlen) != REDIS_OK)
		return -1;
	return 0;
}

int64_t
cluster_conn_deadline(const struct cluster_conn *k)
{
	int64_t d = 0;

	if (k->ac == NULL)
		return 0;
	if (k->head != NULL)
		d = k->head->deadline_ms;
	if (k->ready_deadline_ms != 0 && (d == 0 || k->ready_deadline_ms < d))
		d = k->ready_deadline_ms;
	return d;
}

void
cluster_conn_reply_check(struct cluster_req *q, redisReply *r)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		cluster_error_reply(q->k->c, q->what, r);
}
