/*
 * cluster_share.c - what a gateway writes to Redis: its verdicts, bans
 * and allow changes (a key with the entry's remaining TTL, or the allow
 * hash, then a PUBLISH on P events), its strikes (INCRBY of the shared
 * counter, PEXPIRE NX for the window, then the total published and handed
 * back to the daemon), its heartbeat, and the backlog kept while apart.
 *
 * Exports cluster_share and cluster_strike (cluster.h), cluster_send and
 * cluster_flush (cluster_int.h).  What the daemon hands over is checked
 * first (cluster_msg_format must take it), so the backlog holds only
 * messages a sibling would accept.  Apart from Redis a share waits in the
 * backlog (the oldest goes past its bound, counted lost), and so does one
 * whose publish the link took along unanswered; a strike is not kept
 * (the sniffer counts it locally).  Once up, the backlog goes
 * first, a batch at a time, and new shares queue behind it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "evloop.h"
#include "log.h"

static void cluster_write(struct cluster *c, const struct cluster_event *e,
    bool flushed);

/*
 * What was decided while apart, in its order, a batch at a time: the next
 * batch goes when the last one's publishes are answered, so a full
 * backlog never puts more commands in flight than a deadline can take.
 * Shares made meanwhile queue behind it (cluster_send).
 */
void
cluster_flush(struct cluster *c)
{
	struct cluster_event e;

	/* Entries that send nothing (run out meanwhile) take no turn. */
	while (c->flush_pending == 0 && !c->failing && c->cmd.ac != NULL &&
	    c->backlog.len > 0)
		for (size_t i = 0; i < CLUSTER_FLUSH_BATCH &&
		    cluster_ring_pop(&c->backlog, &e); i++)
			cluster_write(c, &e, true);
	c->st.backlog = c->backlog.len;
}

/* ---- sharing ---- */

/* Keep e (complete) in the backlog for the next link. */
static void
cluster_keep(struct cluster *c, const struct cluster_event *e)
{
	bool dropped;

	if (c->cc.backlog == 0 || cluster_ring_push(&c->backlog, e,
	    &dropped) != 0) {
		c->st.lost++;
		return;
	}
	if (dropped)
		c->st.lost++;
	c->st.backlog = c->backlog.len;
}

/*
 * A publish answered.  NULL: the link went before the answer, and maybe
 * before the SET did its work: the change is kept and written again, key
 * and publish, on the next link (a SET twice and a sibling hearing a
 * change twice are both harmless).  A strike's total is not kept (its
 * INCRBY did count), nor a heartbeat.
 */
static void
cluster_publish_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;

	if (q->tag != 0 && c->flush_pending > 0)
		c->flush_pending--;
	if (r == NULL) {
		if (q->e.kind != CLUSTER_HELLO && q->e.kind !=
		    CLUSTER_STRIKE && !c->freeing)
			cluster_keep(c, &q->e);
		else if (q->e.kind != CLUSTER_HELLO)
			c->st.lost++;
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		cluster_error_reply(c, q->what, r);
	else
		c->st.shared++;
	if (q->tag != 0 && c->flush_pending == 0 && c->backlog.len > 0 &&
	    c->st.state == CLUSTER_UP)
		cluster_flush(c);
}

static void
cluster_publish(struct cluster *c, const struct cluster_event *e,
    const char *msg, size_t len, bool flushed)
{
	const char *argv[3] = { "PUBLISH", c->channel, msg };
	size_t argvlen[3] = { 7, strlen(c->channel), len };
	struct cluster_req *q = cluster_req_new();

	if (q == NULL) {
		c->st.lost++;
		return;
	}
	q->e = *e;
	q->tag = flushed;
	if (cluster_conn_command(&c->cmd, q, cluster_publish_reply,
	    "PUBLISH", 3, argv, argvlen) != 0) {
		c->st.lost++;
		return;
	}
	if (flushed)
		c->flush_pending++;
}

/* Write e (complete) to Redis: its key, then the channel. */
static void
cluster_write(struct cluster *c, const struct cluster_event *e, bool flushed)
{
	char msg[CLUSTER_MSG_MAX], key[CLUSTER_KEY_MAX], px[24], sub[64];
	const char *argv[5];
	size_t argvlen[5], n, kl;
	int64_t left_ms;

	n = cluster_msg_format(e, msg, sizeof msg);
	kl = cluster_msg_key(c->cc.prefix, e, key, sizeof key);
	if (n == 0 || kl == 0) {
		log_warnx("cluster: share of a %s: not a valid event "
		    "(dropped)", cluster_kind_name(e->kind));
		return;
	}
	switch (e->kind) {
	case CLUSTER_DENY:
	case CLUSTER_DROP:
	case CLUSTER_PASS:
	case CLUSTER_BAN:
	case CLUSTER_HELLO:
		left_ms = e->kind == CLUSTER_HELLO ? CLUSTER_NODE_TTL_MS :
		    e->at_ms + (int64_t)e->ttl_s * 1000 - cluster_wall_ms();
		if (left_ms <= 0)
			return;		/* run out while it waited */
		snprintf(px, sizeof px, "%lld", (long long)left_ms);
		argv[0] = "SET";
		argv[1] = key;
		argv[2] = msg;
		argv[3] = "PX";
		argv[4] = px;
		for (int i = 0; i < 5; i++)
			argvlen[i] = strlen(argv[i]);
		argvlen[2] = n;
		(void)cluster_conn_command(&c->cmd, NULL,
		    cluster_conn_reply_check, "SET", 5, argv, argvlen);
		break;
	case CLUSTER_UNBAN: {
		/* The ban and the strikes that made it: a forgotten address
		 * starts over everywhere, not on the old total. */
		struct cluster_event st = *e;
		char skey[CLUSTER_KEY_MAX];
		size_t sl;

		st.kind = CLUSTER_STRIKE;
		sl = cluster_msg_key(c->cc.prefix, &st, skey, sizeof skey);
		argv[0] = "DEL";
		argv[1] = key;
		argv[2] = skey;
		argvlen[0] = 3;
		argvlen[1] = kl;
		argvlen[2] = sl;
		(void)cluster_conn_command(&c->cmd, NULL,
		    cluster_conn_reply_check, "DEL", sl > 0 ? 3 : 2, argv,
		    argvlen);
		break;
	}
	case CLUSTER_ALLOW_ADD:
	case CLUSTER_ALLOW_DEL:
		/* The hash's field is the subject, the message's last word. */
		snprintf(sub, sizeof sub, "%s", strrchr(msg, ' ') + 1);
		argv[0] = e->kind == CLUSTER_ALLOW_ADD ? "HSET" : "HDEL";
		argv[1] = key;
		argv[2] = sub;
		argv[3] = msg;
		argvlen[0] = 4;
		argvlen[1] = kl;
		argvlen[2] = strlen(sub);
		argvlen[3] = n;
		(void)cluster_conn_command(&c->cmd, NULL,
		    cluster_conn_reply_check, argv[0],
		    e->kind == CLUSTER_ALLOW_ADD ? 4 : 3, argv, argvlen);
		break;
	default:
		break;		/* a strike: its counter is cluster_strike's */
	}
	cluster_publish(c, e, msg, n, flushed);
}

/* Kinds this configuration never shares. */
static bool
cluster_kind_shared(const struct cluster *c, enum cluster_kind k)
{
	if (k == CLUSTER_PASS)
		return c->cc.share_pass;
	if (k == CLUSTER_ALLOW_ADD || k == CLUSTER_ALLOW_DEL)
		return c->cc.share_allow;
	return (unsigned)k < CLUSTER_KIND_MAX;
}

/* e complete (node, at): up, it goes now; else to the backlog. */
void
cluster_send(struct cluster *c, const struct cluster_event *e)
{
	struct cluster_event x = *e;

	snprintf(x.node, sizeof x.node, "%s", c->cc.node);
	if (x.at_ms == 0)
		x.at_ms = cluster_wall_ms();
	/* Behind a backlog still being sent, a change waits its turn. */
	if (c->st.state == CLUSTER_UP && !c->failing && c->cmd.ready &&
	    (c->backlog.len == 0 || x.kind == CLUSTER_HELLO)) {
		cluster_write(c, &x, false);
		return;
	}
	if (x.kind == CLUSTER_HELLO && c->st.state == CLUSTER_RESYNC &&
	    c->cmd.ready) {
		cluster_write(c, &x, false);	/* alive while reading */
		return;
	}
	if (x.kind == CLUSTER_HELLO || x.kind == CLUSTER_STRIKE)
		return;		/* never kept */
	cluster_keep(c, &x);
}

/* What the daemon hands over is checked here, before it waits: a
 * message no sibling would take is never kept nor sent (logged once). */
static bool
cluster_share_valid(struct cluster *c, const struct cluster_event *e)
{
	struct cluster_event x = *e;
	char msg[CLUSTER_MSG_MAX], a[ADDR_STRLEN];

	snprintf(x.node, sizeof x.node, "%s", c->cc.node);
	x.at_ms = cluster_wall_ms();
	if (cluster_msg_format(&x, msg, sizeof msg) != 0)
		return true;
	c->st.lost++;
	if (!c->invalid_logged) {
		c->invalid_logged = true;
		log_warnx("cluster: share of %s %s (ttl %u, count %u, reason "
		    "'%.*s'%s): not a valid message, not shared",
		    cluster_kind_name(e->kind), addr_ntop(e->net64 ?
		    &e->p.a : &e->a, a), e->ttl_s, e->count,
		    (int)sizeof e->reason - 1, e->reason, e->net64 ?
		    ", /64" : "");
	}
	return false;
}

void
cluster_share(struct cluster *c, const struct cluster_event *e)
{
	if (c == NULL || !cluster_kind_shared(c, e->kind) ||
	    e->kind == CLUSTER_HELLO || !cluster_share_valid(c, e))
		return;
	cluster_send(c, e);
}

/* ---- strikes ---- */

static void
cluster_strike_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;
	struct cluster_event *e = &q->e;
	char msg[CLUSTER_MSG_MAX];
	size_t n;

	if (r == NULL)
		return;
	if (r->type != REDIS_REPLY_INTEGER) {
		if (r->type == REDIS_REPLY_ERROR)
			cluster_error_reply(c, "INCRBY", r);
		else
			cluster_refuse(c, q->key, "INCRBY: not an integer "
			    "reply");
		return;
	}
	if (r->integer < 1) {
		cluster_refuse(c, q->key, "INCRBY: a total below 1");
		return;
	}
	e->count = r->integer > CLUSTER_COUNT_MAX ? CLUSTER_COUNT_MAX :
	    (uint32_t)r->integer;
	e->at_ms = cluster_wall_ms();
	if ((n = cluster_msg_format(e, msg, sizeof msg)) != 0 &&
	    !c->failing && q->k->ac != NULL)
		cluster_publish(c, e, msg, n, false);
	/* The shared total comes back to this node too (cluster.h). */
	if (c->want & CLUSTER_WANT(CLUSTER_STRIKE))
		cluster_deliver(c, e);
}

void
cluster_strike(struct cluster *c, const struct addr *a, uint32_t weight,
    uint32_t window_s, const char *rule)
{
	char n[16], px[24], probe[CLUSTER_MSG_MAX];
	struct cluster_req *q;
	const char *argv[4];
	size_t argvlen[4];
	size_t kl;

	if (c == NULL || c->st.state != CLUSTER_UP || c->failing ||
	    !c->cmd.ready)
		return;		/* apart: counted locally only */
	if ((q = cluster_req_new()) == NULL)
		return;
	q->e.kind = CLUSTER_STRIKE;
	snprintf(q->e.node, sizeof q->e.node, "%s", c->cc.node);
	q->e.at_ms = cluster_wall_ms();
	q->e.ttl_s = window_s < 1 ? 1 : window_s > CLUSTER_TTL_MAX ?
	    CLUSTER_TTL_MAX : window_s;
	q->e.count = 1;
	q->e.a = *a;
	if (rule != NULL)
		snprintf(q->e.reason, sizeof q->e.reason, "%s", rule);
	kl = cluster_msg_key(c->cc.prefix, &q->e, q->key, sizeof q->key);
	if (kl == 0 || cluster_msg_format(&q->e, probe, sizeof probe) == 0) {
		log_warnx("cluster: strike of %s: not a valid event (rule "
		    "'%s')", q->key[0] ? q->key : "?", rule ? rule : "");
		free(q);
		return;
	}
	snprintf(n, sizeof n, "%u", weight < 1 ? 1 : weight);
	argv[0] = "INCRBY";
	argv[1] = q->key;
	argv[2] = n;
	argvlen[0] = 6;
	argvlen[1] = kl;
	argvlen[2] = strlen(n);
	if (cluster_conn_command(&c->cmd, q, cluster_strike_reply, "INCRBY",
	    3, argv, argvlen) != 0)
		return;
	/* The window runs from the first strike: NX (Redis 7). */
	snprintf(px, sizeof px, "%llu", (unsigned long long)q->e.ttl_s *
	    1000);
	argv[0] = "PEXPIRE";
	argv[2] = px;
	argv[3] = "NX";
	argvlen[0] = 7;
	argvlen[2] = strlen(px);
	argvlen[3] = 2;
	(void)cluster_conn_command(&c->cmd, NULL, cluster_conn_reply_check,
	    "PEXPIRE", 4, argv, argvlen);
}
