/*
 * cluster.c - sharing between the gateways of a site through Redis
 * (cluster.h): the lifecycle and its states, the failures of the links,
 * the deliveries to the daemon, the heartbeat and the siblings seen, the
 * subscription's messages.
 *
 * Exports cluster_new, cluster_free, cluster_stats and cluster_state_name
 * (cluster.h), and the cluster_* helpers of cluster_int.h for the
 * module's other files; sharing itself is cluster_share.c's.
 *
 * States: CONNECTING (asking the Sentinels, connecting both links),
 * RESYNC (both ready: reading the live keys), UP, DOWN (apart, waiting
 * for the backoff).  Any failure of either link (a connect refused, a
 * command past its deadline, a closed socket, an AUTH refused) drops both
 * and reconnects after the backoff (0.1 s doubling to 30 s; back to 0.1 s
 * once up again): one link alive is no state worth keeping, since a
 * gateway that publishes but cannot hear (or the reverse) is as apart as
 * one with none.  (The Sentinel's watch is the exception: lost while the
 * master's links are up, it alone is made again.)  What is shared while
 * not up waits in the backlog (cluster_share.c).
 *
 * The daemon's callback runs from a timer due now, never inside
 * cluster_share, cluster_strike or a hiredis callback (so the daemon may
 * share, strike or even free the cluster from it).  A timer rather than
 * evloop_defer: a timer can be cancelled when the cluster is freed first.
 * A resync's begin and done (cluster_on_sync) go through the same ring as
 * marks, so the daemon hears them in order with the resync's events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster_int.h"
#include "evloop.h"
#include "log.h"

static void cluster_tick(void *arg);
static void cluster_now(void *arg);

const char *
cluster_state_name(enum cluster_state s)
{
	switch (s) {
	case CLUSTER_OFF:		return "off";
	case CLUSTER_CONNECTING:	return "connecting";
	case CLUSTER_RESYNC:		return "resync";
	case CLUSTER_UP:		return "up";
	case CLUSTER_DOWN:		return "down";
	}
	return "?";
}

int64_t
cluster_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
cluster_set_state(struct cluster *c, enum cluster_state s)
{
	if (c->st.state == s)
		return;
	c->st.state = s;
	c->st.since_ms = cluster_wall_ms();
}

/* ---- rings: the backlog and the deliveries ---- */

/* Push e; when the ring is at its bound, the oldest goes (returned true). */
int
cluster_ring_push(struct cluster_ring *r, const struct cluster_event *e,
    bool *dropped)
{
	*dropped = false;
	if (r->max != 0 && r->len >= r->max) {
		r->head = (r->head + 1) % r->cap;
		r->len--;
		*dropped = true;
	}
	if (r->len == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct cluster_event *v;

		if (r->max != 0 && ncap > r->max)
			ncap = r->max;
		if ((v = malloc(ncap * sizeof *v)) == NULL)
			return -1;
		for (size_t i = 0; i < r->len; i++)
			v[i] = r->v[(r->head + i) % r->cap];
		free(r->v);
		r->v = v;
		r->cap = ncap;
		r->head = 0;
	}
	r->v[(r->head + r->len) % r->cap] = *e;
	r->len++;
	return 0;
}

bool
cluster_ring_pop(struct cluster_ring *r, struct cluster_event *e)
{
	if (r->len == 0)
		return false;
	*e = r->v[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return true;
}

static void
cluster_ring_free(struct cluster_ring *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* ---- timers ---- */

void
cluster_tick_arm(struct cluster *c, int64_t when_ms)
{
	if (when_ms <= 0)
		return;
	if (c->tick != NULL && c->tick_at_ms <= when_ms)
		return;
	if (c->tick != NULL)
		evloop_timer_cancel(c->ev, c->tick);
	c->tick = evloop_timer_at(c->ev, when_ms, cluster_tick, c);
	c->tick_at_ms = c->tick != NULL ? when_ms : 0;
}

static void
cluster_now_arm(struct cluster *c)
{
	if (c->now == NULL)
		c->now = evloop_timer_at(c->ev, evloop_now_ms(c->ev),
		    cluster_now, c);
}

/* ---- failures and refusals ---- */

void
cluster_fail(struct cluster *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failing)
		return;		/* the first reason is the one told */
	c->failing = true;
	va_start(ap, fmt);
	vsnprintf(c->fail_why, sizeof c->fail_why, fmt, ap);
	va_end(ap);
	cluster_now_arm(c);
}

void
cluster_link_fail(struct cluster_conn *k, const char *fmt, ...)
{
	struct cluster *c = k->c;
	char why[CLUSTER_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (k->role != CLUSTER_ROLE_SENT || c->st.state != CLUSTER_UP ||
	    c->failing) {
		cluster_fail(c, "%s", why);
		return;
	}
	if (c->sent_failing)
		return;
	c->sent_failing = true;
	if (!c->sent_lost_logged) {
		c->sent_lost_logged = true;
		log_warnx("cluster: sentinel: lost %s: %s; the master's links "
		    "stay, the watch is made again", k->server, why);
	}
	cluster_now_arm(c);
}

void
cluster_error_reply(struct cluster *c, const char *what, const redisReply *r)
{
	c->st.errors++;
	if (c->error_streak)
		return;
	c->error_streak = true;
	log_warnx("cluster: %s: %s: %.*s", c->st.server, what,
	    (int)(r->len > 200 ? 200 : r->len), r->str ? r->str : "");
}

void
cluster_refuse(struct cluster *c, const char *where, const char *why)
{
	c->st.refused++;
	if (c->refused_streak)
		return;
	c->refused_streak = true;
	log_warnx("cluster: refused %s: %s", where, why);
}

void
cluster_accepted(struct cluster *c)
{
	c->refused_streak = false;
}

bool
cluster_from_future(const struct cluster_event *e, int64_t wall_ms)
{
	return e->at_ms > wall_ms + CLUSTER_SKEW_MS;
}

/* Both links dropped; reconnect after the backoff. */
static void
cluster_down(struct cluster *c)
{
	bool was_up = c->st.state == CLUSTER_UP ||
	    c->st.state == CLUSTER_RESYNC;

	cluster_conn_close(&c->cmd);
	cluster_conn_close(&c->sub);
	cluster_conn_close(&c->sent);
	memset(&c->sync, 0, sizeof c->sync);
	c->flush_pending = 0;
	c->hello_at_ms = 0;
	c->sent_retry_at_ms = 0;
	c->sent_failing = false;
	c->sent_lost_logged = false;
	if (c->cc.nsentinels > 0 && !was_up)
		c->sent_next++;		/* ask the next one */
	/* A failover followed is no loss: its own line said it. */
	if (!c->lost_logged && !c->failover) {
		c->lost_logged = true;
		log_warnx("cluster: lost %s: %s; local operation goes on, "
		    "sharing resumes at reconnect", c->st.server, c->fail_why);
	}
	cluster_set_state(c, CLUSTER_DOWN);
	if (was_up)
		c->backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	c->reconnect_at_ms = evloop_now_ms(c->ev) + (c->failover ? 0 :
	    c->backoff_ms);
	c->failover = false;
	c->backoff_ms *= 2;
	if (c->backoff_ms > CLUSTER_BACKOFF_MAX_MS)
		c->backoff_ms = CLUSTER_BACKOFF_MAX_MS;
	c->failing = false;
	cluster_tick_arm(c, c->reconnect_at_ms);
}

/* ---- deliveries ---- */

void
cluster_deliver(struct cluster *c, const struct cluster_event *e)
{
	bool dropped;

	if (cluster_ring_push(&c->deliver, e, &dropped) != 0) {
		if (c->sync.running)
			c->sync.lossy = true;	/* so no done */
		return;
	}
	cluster_now_arm(c);
}

void
cluster_deliver_sync(struct cluster *c, bool done)
{
	struct cluster_event e;

	if (c->sync_cb == NULL)
		return;
	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_MARK_SYNC;
	e.count = done ? 1 : 0;
	cluster_deliver(c, &e);
}

void
cluster_on_sync(struct cluster *c, cluster_sync_cb fn, void *arg)
{
	if (c == NULL)
		return;
	c->sync_cb = fn;
	c->sync_arg = arg;
}

/* The timer due now: a failure to act on, then the deliveries. */
static void
cluster_now(void *arg)
{
	struct cluster *c = arg;
	struct cluster_event e;
	bool alive = true;

	c->now = NULL;
	if (c->failing)
		cluster_down(c);
	if (c->sent_failing) {
		c->sent_failing = false;
		if (!c->failing && c->st.state == CLUSTER_UP) {
			cluster_conn_close(&c->sent);
			c->sent_next++;
			c->sent_retry_at_ms = evloop_now_ms(c->ev) +
			    c->sent_backoff_ms;
			c->sent_backoff_ms *= 2;
			if (c->sent_backoff_ms > CLUSTER_BACKOFF_MAX_MS)
				c->sent_backoff_ms = CLUSTER_BACKOFF_MAX_MS;
			cluster_tick_arm(c, c->sent_retry_at_ms);
		}
	}
	c->alive = &alive;
	/* A batch a turn: a resync's thousands never hold the loop long. */
	for (size_t i = 0; i < CLUSTER_DELIVER_BATCH &&
	    cluster_ring_pop(&c->deliver, &e); i++) {
		if (e.kind == CLUSTER_MARK_SYNC) {
			if (c->sync_cb != NULL)
				c->sync_cb(c->sync_arg, e.count != 0);
		} else {
			c->st.applied++;
			c->cb(&e, c->arg);
		}
		if (!alive)
			return;		/* freed from the callback */
	}
	c->alive = NULL;
	/* The rest a millisecond on: a timer due now would run again in this
	 * same turn, before any descriptor is served. */
	if (c->deliver.len > 0 && c->now == NULL)
		c->now = evloop_timer_at(c->ev, evloop_now_ms(c->ev) + 1,
		    cluster_now, c);
}

/* ---- the heartbeat and the siblings ---- */

static void
cluster_siblings_prune(struct cluster *c, int64_t wall)
{
	size_t i = 0;

	while (i < c->st.nsiblings) {
		if (wall - c->st.sibling[i].last_ms > CLUSTER_SIBLING_MS) {
			c->st.sibling[i] = c->st.sibling[--c->st.nsiblings];
			continue;
		}
		i++;
	}
}

static void
cluster_sibling_seen(struct cluster *c, const struct cluster_event *e,
    int64_t wall)
{
	struct cluster_sibling *s = NULL;
	size_t i;

	for (i = 0; i < c->st.nsiblings; i++)
		if (strcmp(c->st.sibling[i].node, e->node) == 0) {
			s = &c->st.sibling[i];
			break;
		}
	if (s == NULL) {
		if (c->st.nsiblings < CLUSTER_SIBLINGS_MAX)
			s = &c->st.sibling[c->st.nsiblings++];
		else {
			/* Full: the one heard from longest ago goes. */
			s = &c->st.sibling[0];
			for (i = 1; i < c->st.nsiblings; i++)
				if (c->st.sibling[i].last_ms < s->last_ms)
					s = &c->st.sibling[i];
		}
		snprintf(s->node, sizeof s->node, "%s", e->node);
	}
	s->last_ms = wall;
	s->lag_ms = wall - e->at_ms;
}

static void
cluster_hello(struct cluster *c)
{
	struct cluster_event e;

	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_HELLO;
	cluster_send(c, &e);
}

/* ---- the tick: deadlines, heartbeat, reconnect ---- */

static void
cluster_reconnect(struct cluster *c)
{
	c->reconnect_at_ms = 0;
	cluster_set_state(c, CLUSTER_CONNECTING);
	if (c->cc.nsentinels > 0)
		cluster_sentinel_start(c);
	else
		cluster_connect_master(c);
}

static void
cluster_tick(void *arg)
{
	struct cluster *c = arg;
	int64_t now = evloop_now_ms(c->ev), next = 0, d;
	struct cluster_conn *ks[3] = { &c->cmd, &c->sub, &c->sent };

	c->tick = NULL;
	c->tick_at_ms = 0;
	if (c->reconnect_at_ms != 0 && now >= c->reconnect_at_ms &&
	    !c->failing)
		cluster_reconnect(c);
	if (c->sent_retry_at_ms != 0 && now >= c->sent_retry_at_ms &&
	    !c->failing && c->st.state == CLUSTER_UP) {
		c->sent_retry_at_ms = 0;
		cluster_sentinel_start(c);
	}
	for (size_t i = 0; i < 3 && !c->failing; i++) {
		d = cluster_conn_deadline(ks[i]);
		if (d != 0 && d <= now) {
			c->st.timeouts++;
			cluster_link_fail(ks[i], "%s: %s timed out after %u ms",
			    ks[i]->name, ks[i]->ready ? (ks[i]->head ?
			    ks[i]->head->what : "reply") : "connect",
			    c->cc.timeout_ms);
		}
	}
	/* The subscription hears this node's own heartbeat each second. */
	if (!c->failing && c->st.state == CLUSTER_UP && c->sub.ready &&
	    now - c->sub.last_rx_ms > 3 * CLUSTER_HELLO_MS +
	    (int64_t)c->cc.timeout_ms) {
		c->st.timeouts++;
		cluster_fail(c, "events: nothing heard for %lld ms",
		    (long long)(now - c->sub.last_rx_ms));
	}
	if (!c->failing && c->hello_at_ms != 0 && now >= c->hello_at_ms) {
		c->hello_at_ms = now + CLUSTER_HELLO_MS;
		cluster_siblings_prune(c, cluster_wall_ms());
		cluster_hello(c);
	}
	/* Re-arm at whatever is due first. */
	if (c->reconnect_at_ms != 0)
		next = c->reconnect_at_ms;
	if (c->sent_retry_at_ms != 0 && (next == 0 ||
	    c->sent_retry_at_ms < next))
		next = c->sent_retry_at_ms;
	if (c->hello_at_ms != 0 && (next == 0 || c->hello_at_ms < next))
		next = c->hello_at_ms;
	for (size_t i = 0; i < 3 && !c->failing; i++) {
		d = cluster_conn_deadline(ks[i]);
		if (d != 0 && (next == 0 || d < next))
			next = d;
	}
	/* Never in the past: a due tick would run again at once, forever. */
	if (next != 0 && next <= now)
		next = now + 1;
	cluster_tick_arm(c, next);
}

/* ---- the master's links ---- */

static void cluster_conn_ready(struct cluster_conn *k);

/* A sibling's message on P events. */
static void
cluster_on_message(struct cluster_conn *k, const char *chan, size_t chanlen,
    const char *data, size_t len)
{
	struct cluster *c = k->c;
	struct cluster_event e;
	char why[128];
	int64_t wall;

	if (chanlen != strlen(c->channel) || memcmp(chan, c->channel,
	    chanlen) != 0)
		return;
	if (cluster_msg_parse(data, len, &e, why, sizeof why) != 0) {
		cluster_refuse(c, c->channel, why);
		return;
	}
	wall = cluster_wall_ms();
	if (cluster_from_future(&e, wall)) {
		snprintf(why, sizeof why, "decided %lld ms ahead of this "
		    "clock", (long long)(e.at_ms - wall));
		cluster_refuse(c, c->channel, why);
		return;
	}
	cluster_accepted(c);
	if (strcmp(e.node, c->cc.node) == 0)
		return;		/* our own, heard back */
	c->st.received++;
	cluster_sibling_seen(c, &e, wall);
	if (!(c->want & CLUSTER_WANT(e.kind)))
		return;
	if (e.ttl_s != 0 && cluster_msg_left(&e, wall) == 0) {
		c->st.expired++;
		return;
	}
	cluster_deliver(c, &e);
}

void
cluster_connect_master(struct cluster *c)
{
	char why[CLUSTER_WHY_MAX];
	const char *path = c->path[0] ? c->path : NULL;

	if (path != NULL)
		snprintf(c->st.server, sizeof c->st.server, "%s", path);
	else
		snprintf(c->st.server, sizeof c->st.server, strchr(c->host,
		    ':') ? "[%s]:%d" : "%s:%d", c->host, c->port);
	c->cmd.on_ready = cluster_conn_ready;
	c->sub.on_ready = cluster_conn_ready;
	c->sub.on_message = cluster_on_message;
	if (cluster_conn_open(&c->cmd, c->host, c->port, path, true, why,
	    sizeof why) != 0 ||
	    cluster_conn_open(&c->sub, c->host, c->port, path, true, why,
	    sizeof why) != 0 ||
	    cluster_conn_subscribe(&c->sub, c->channel) != 0) {
		if (!c->failing)
			cluster_fail(c, "%s", why);
		return;
	}
}

/* One link ready; with both, the resync begins. */
static void
cluster_conn_ready(struct cluster_conn *k)
{
	struct cluster *c = k->c;

	if (c->failing || !c->cmd.ready || !c->sub.ready ||
	    c->st.state != CLUSTER_CONNECTING)
		return;
	log_info("cluster: connected to %s (node %s)", c->st.server,
	    c->cc.node);
	c->lost_logged = false;
	c->error_streak = false;
	if (c->ever_up)
		c->st.reconnects++;
	c->ever_up = true;
	cluster_set_state(c, CLUSTER_RESYNC);
	c->hello_at_ms = evloop_now_ms(c->ev);
	cluster_tick_arm(c, c->hello_at_ms);
	cluster_sync_start(c);
}

void
cluster_sync_done(struct cluster *c)
{
	if (c->st.state != CLUSTER_RESYNC)
		return;
	cluster_set_state(c, CLUSTER_UP);
	c->backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	cluster_flush(c);
}

/* ---- lifecycle ---- */

/* "password" or "user password" on the file's first line. */
static int
cluster_read_password(struct cluster *c, const char *path, char *err,
    size_t errlen)
{
	char line[512], *sp;
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "cluster: password_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cluster: password_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	line[n] = '\0';
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (len == 0 || len >= sizeof c->pass) {
		snprintf(err, errlen, "cluster: password_file %s: want "
		    "\"password\" or \"user password\" on its first line", path);
		explicit_bzero(line, sizeof line);
		return -1;
	}
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp = '\0';
		if ((size_t)(sp - line) >= sizeof c->user || sp[1] == '\0' ||
		    strchr(sp + 1, ' ') != NULL) {
			snprintf(err, errlen, "cluster: password_file %s: want "
			    "\"password\" or \"user password\" on its first "
			    "line", path);
			explicit_bzero(line, sizeof line);
			return -1;
		}
		memcpy(c->user, line, (size_t)(sp - line) + 1);
		memcpy(c->pass, sp + 1, strlen(sp + 1) + 1);
	} else
		memcpy(c->pass, line, len + 1);
	explicit_bzero(line, sizeof line);
	return 0;
}

int
cluster_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	long p;
	char *end;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || s[hl - 1] != ']')
			return -1;
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

struct cluster *
cluster_new(struct evloop *ev, const struct conf_cluster *cc,
    const char *daemon, unsigned want, cluster_event_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct cluster *c;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cc->redis[0] == '\0' && cc->nsentinels == 0)
		return NULL;
	if (cb == NULL || daemon == NULL || cc->node[0] == '\0') {
		snprintf(err, errlen, "cluster: no %s", cb == NULL ?
		    "callback" : daemon == NULL ? "daemon name" :
		    "node name ([cluster] node)");
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(err, errlen, "cluster: %s", strerror(errno));
		return NULL;
	}
	c->ev = ev;
	c->cc = *cc;
	snprintf(c->daemon, sizeof c->daemon, "%s", daemon);
	c->want = want;
	if (!cc->share_pass)
		c->want &= ~CLUSTER_WANT(CLUSTER_PASS);
	if (!cc->share_allow)
		c->want &= ~(CLUSTER_WANT(CLUSTER_ALLOW_ADD) |
		    CLUSTER_WANT(CLUSTER_ALLOW_DEL));
	c->cb = cb;
	c->arg = arg;
	snprintf(c->client_name, sizeof c->client_name, "smtpgate-%s-%s",
	    daemon, cc->node);
	snprintf(c->channel, sizeof c->channel, "%sevents", cc->prefix);
	c->backlog.max = cc->backlog;
	cluster_conn_init(&c->cmd, c, CLUSTER_ROLE_CMD, "commands");
	cluster_conn_init(&c->sub, c, CLUSTER_ROLE_SUB, "events");
	cluster_conn_init(&c->sent, c, CLUSTER_ROLE_SENT, "sentinel");
	if (cc->password_file[0] != '\0' &&
	    cluster_read_password(c, cc->password_file, err, errlen) != 0)
		goto fail;
	if (cc->redis[0] == '/')
		snprintf(c->path, sizeof c->path, "%.*s",
		    (int)sizeof c->path - 1, cc->redis);
	else if (cc->redis[0] != '\0' && cluster_split_hostport(cc->redis,
	    c->host, sizeof c->host, &c->port) != 0) {
		snprintf(err, errlen, "cluster: redis '%s': want ADDR:PORT, "
		    "[ADDR6]:PORT or a path", cc->redis);
		goto fail;
	}
	if (cc->nsentinels > 0)
		snprintf(c->st.server, sizeof c->st.server, "sentinel %s",
		    cc->sentinel_master);
	else
		snprintf(c->st.server, sizeof c->st.server, "%.*s",
		    (int)sizeof c->st.server - 1, cc->redis);
	c->backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	c->sent_backoff_ms = CLUSTER_BACKOFF_MIN_MS;
	cluster_set_state(c, CLUSTER_CONNECTING);
	/* The first connect is made from the loop, like every other. */
	c->reconnect_at_ms = evloop_now_ms(ev);
	cluster_tick_arm(c, c->reconnect_at_ms);
	if (c->tick == NULL) {
		snprintf(err, errlen, "cluster: out of memory");
		goto fail;
	}
	return c;
fail:
	explicit_bzero(c->pass, sizeof c->pass);
	free(c);
	return NULL;
}

void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->alive != NULL)
		*c->alive = false;
	c->failing = true;	/* no callback starts anything new */
	c->freeing = true;	/* nor keeps what the link took along */
	cluster_conn_close(&c->cmd);
	cluster_conn_close(&c->sub);
	cluster_conn_close(&c->sent);
	if (c->tick != NULL)
		evloop_timer_cancel(c->ev, c->tick);
	if (c->now != NULL)
		evloop_timer_cancel(c->ev, c->now);
	cluster_ring_free(&c->backlog);
	cluster_ring_free(&c->deliver);
	explicit_bzero(c->pass, sizeof c->pass);
	free(c);
}

/* The siblings listed are those heard from in the last 10 s, even while
 * apart (no heartbeat ticks then): the list is pruned here. */
const struct cluster_stats *
cluster_stats(const struct cluster *c)
{
	static const struct cluster_stats off = { .state = CLUSTER_OFF };

	if (c == NULL)
		return &off;
	cluster_siblings_prune((struct cluster *)(uintptr_t)c,
	    cluster_wall_ms());
	return &c->st;
}
