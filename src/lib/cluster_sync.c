/*
 * cluster_sync.c - the resync at each (re)connect: the live keys a
 * gateway missed while apart (or before it started), read and delivered
 * as if just published.
 *
 * Exports cluster_sync_start (cluster_int.h).  Order: SCAN MATCH P v:*,
 * then P vn:* (when the daemon wants verdicts), P b:* (bans); for each key
 * a GET and a PTTL, pipelined; then HGETALL P allow (allow kinds wanted,
 * share_allow = yes).  One SCAN batch at a time: the next SCAN goes when
 * every GET/PTTL of the last one is answered, so memory stays bounded by
 * a batch whatever the keyspace holds.  Replies on the connection come in
 * order, so a key's PTTL is answered right after its GET: the GET leaves
 * its parsed value in the sync's slot and the PTTL takes it.
 *
 * Every value is hostile: parsed by cluster_msg_parse, and refused too
 * when it does not belong under its key (a deny under P b:..., a message
 * about 192.0.2.1 under P v:192.0.2.2).  This node's own keys are read but
 * not delivered (it has them); its allow entries are, since at a resync
 * the shared hash is the truth.
 *
 * The daemon hears where it begins and ends (cluster_on_sync): a begin
 * mark into the deliver ring first, a done mark after the last entry
 * offered, only when the resync ran whole (a link lost drops the sync
 * with cluster_down; an HGETALL refused or a delivery not queued gives
 * no done).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "log.h"

struct cluster_sync_pattern {
	const char *glob;		/* after the prefix */
	unsigned kinds;			/* kinds a key under it may hold */
};

static const struct cluster_sync_pattern cluster_sync_patterns[] = {
	{ "v:*", CLUSTER_WANT(CLUSTER_DENY) | CLUSTER_WANT(CLUSTER_DROP) |
	    CLUSTER_WANT(CLUSTER_PASS) },
	{ "vn:*", CLUSTER_WANT(CLUSTER_DENY) | CLUSTER_WANT(CLUSTER_DROP) },
	{ "b:*", CLUSTER_WANT(CLUSTER_BAN) },
};

#define CLUSTER_SYNC_NPATTERNS \
	(sizeof cluster_sync_patterns / sizeof cluster_sync_patterns[0])

static void cluster_sync_step(struct cluster *c);

/* The end; whole: every entry read was offered, so done is told. */
static void
cluster_sync_finish(struct cluster *c, bool whole)
{
	struct cluster_sync_state *s = &c->sync;

	if (whole && !s->lossy)
		cluster_deliver_sync(c, true);
	s->running = false;
	c->st.resynced += s->read;
	log_info("cluster: resync: %llu keys read, %llu applied, %llu "
	    "refused", (unsigned long long)s->read,
	    (unsigned long long)s->applied, (unsigned long long)s->refused);
	cluster_sync_done(c);
}

static void
cluster_sync_refuse(struct cluster *c, const char *key, const char *why)
{
	c->sync.refused++;
	cluster_refuse(c, key, why);
}

/* A live entry read: delivered when wanted, not ours and not run out. */
static void
cluster_sync_offer(struct cluster *c, const char *where,
    struct cluster_event *e, int64_t pttl_ms, bool own_too)
{
	int64_t wall = cluster_wall_ms();
	uint32_t left;

	if (cluster_from_future(e, wall)) {
		cluster_sync_refuse(c, where, "decided ahead of this clock");
		return;
	}
	if (!own_too && strcmp(e->node, c->cc.node) == 0)
		return;
	if (!(c->want & CLUSTER_WANT(e->kind)))
		return;
	if (e->ttl_s != 0) {
		left = cluster_msg_left(e, wall);
		/* A key that expires sooner than its message says. */
		if (pttl_ms > 0 && (pttl_ms + 999) / 1000 < left) {
			int64_t lived = (wall - e->at_ms) / 1000;

			e->ttl_s = (uint32_t)((lived > 0 ? lived : 0) +
			    (pttl_ms + 999) / 1000);
			left = cluster_msg_left(e, wall);
		}
		if (left == 0) {
			c->st.expired++;
			return;
		}
	}
	c->sync.applied++;
	cluster_deliver(c, e);
}

static void
cluster_sync_get_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;
	struct cluster_sync_state *s = &c->sync;
	const struct cluster_sync_pattern *p;
	char why[CLUSTER_KEY_MAX + 64], key[CLUSTER_KEY_MAX] = "";

	s->slot_ok = false;
	if (r == NULL || !s->running)
		return;
	if (r->type == REDIS_REPLY_NIL)
		return;		/* gone since the SCAN */
	s->read++;
	if (r->type != REDIS_REPLY_STRING) {
		if (r->type == REDIS_REPLY_ERROR)
			cluster_error_reply(c, "GET", r);
		cluster_sync_refuse(c, q->key, "not a string value");
		return;
	}
	if (cluster_msg_parse(r->str, r->len, &s->slot, why,
	    sizeof why) != 0) {
		cluster_sync_refuse(c, q->key, why);
		return;
	}
	p = &cluster_sync_patterns[q->tag < CLUSTER_SYNC_NPATTERNS ?
	    q->tag : 0];
	if (!(p->kinds & CLUSTER_WANT(s->slot.kind)) ||
	    cluster_msg_key(c->cc.prefix, &s->slot, key, sizeof key) == 0 ||
	    strcmp(key, q->key) != 0) {
		snprintf(why, sizeof why, "holds a %s for %s",
		    cluster_kind_name(s->slot.kind), key[0] ? key : "?");
		cluster_sync_refuse(c, q->key, why);
		return;
	}
	cluster_accepted(c);
	s->slot_ok = true;
}

static void
cluster_sync_pttl_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;
	struct cluster_sync_state *s = &c->sync;

	if (r == NULL || !s->running)
		return;
	if (s->pending > 0)
		s->pending--;
	if (s->slot_ok && r->type == REDIS_REPLY_INTEGER &&
	    r->integer != -2)
		cluster_sync_offer(c, q->key, &s->slot, r->integer, false);
	s->slot_ok = false;
	if (s->pending == 0 && !s->scanning)
		cluster_sync_step(c);
}

/* Cursors are decimal text, at most 20 digits. */
static bool
cluster_sync_cursor_ok(const redisReply *r)
{
	if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20)
		return false;
	for (size_t i = 0; i < r->len; i++)
		if (r->str[i] < '0' || r->str[i] > '9')
			return false;
	return true;
}

static void
cluster_sync_scan_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;
	struct cluster_sync_state *s = &c->sync;
	const char *argv[2];
	size_t argvlen[2];
	redisReply *keys;

	if (r == NULL || !s->running)
		return;
	s->scanning = false;
	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_reply(c, "SCAN", r);
		cluster_fail(c, "commands: SCAN: %.*s", (int)r->len, r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    !cluster_sync_cursor_ok(r->element[0]) ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		cluster_fail(c, "commands: SCAN: a reply of another shape");
		return;
	}
	memcpy(s->cursor, r->element[0]->str, r->element[0]->len);
	s->cursor[r->element[0]->len] = '\0';
	keys = r->element[1];
	for (size_t i = 0; i < keys->elements && !c->failing; i++) {
		redisReply *k = keys->element[i];
		struct cluster_req *g, *t;

		if (k->type != REDIS_REPLY_STRING || k->len == 0 ||
		    k->len >= CLUSTER_KEY_MAX)
			continue;	/* no key of ours is that long */
		if ((g = cluster_req_new()) == NULL ||
		    (t = cluster_req_new()) == NULL) {
			free(g);
			cluster_fail(c, "resync: out of memory");
			return;
		}
		memcpy(g->key, k->str, k->len);
		g->key[k->len] = '\0';
		memcpy(t->key, g->key, k->len + 1);
		g->tag = t->tag = s->pattern;
		argv[1] = g->key;
		argvlen[1] = k->len;
		argv[0] = "GET";
		argvlen[0] = 3;
		if (cluster_conn_command(&c->cmd, g, cluster_sync_get_reply,
		    "GET", 2, argv, argvlen) != 0) {
			free(t);
			return;
		}
		argv[0] = "PTTL";
		argvlen[0] = 4;
		if (cluster_conn_command(&c->cmd, t, cluster_sync_pttl_reply,
		    "PTTL", 2, argv, argvlen) != 0)
			return;
		s->pending++;
	}
	if (strcmp(s->cursor, "0") == 0)
		s->pattern++;
	if (s->pending == 0)
		cluster_sync_step(c);
}

static void
cluster_sync_allow_reply(struct cluster_req *q, redisReply *r)
{
	struct cluster *c = q->k->c;
	struct cluster_sync_state *s = &c->sync;
	struct cluster_event e;
	char why[160], where[CLUSTER_KEY_MAX + 64], sub[64];

	if (r == NULL || !s->running)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_reply(c, "HGETALL", r);
		cluster_sync_finish(c, false);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
		cluster_sync_refuse(c, q->key, "HGETALL: a reply of another "
		    "shape");
		cluster_sync_finish(c, false);
		return;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		redisReply *f = r->element[i], *v = r->element[i + 1];
		char *sp;

		if (f->type != REDIS_REPLY_STRING || v->type !=
		    REDIS_REPLY_STRING)
			continue;
		s->read++;
		snprintf(where, sizeof where, "%s %.*s", q->key,
		    (int)(f->len > 60 ? 60 : f->len), f->str);
		if (cluster_msg_parse(v->str, v->len, &e, why,
		    sizeof why) != 0) {
			cluster_sync_refuse(c, where, why);
			continue;
		}
		/* The field is the subject: the message's last word. */
		if (cluster_msg_format(&e, why, sizeof why) == 0 ||
		    (sp = strrchr(why, ' ')) == NULL) {
			cluster_sync_refuse(c, where, "not a valid event");
			continue;
		}
		snprintf(sub, sizeof sub, "%s", sp + 1);
		if (e.kind != CLUSTER_ALLOW_ADD || f->len != strlen(sub) ||
		    memcmp(f->str, sub, f->len) != 0) {
			cluster_sync_refuse(c, where, "holds no allow-add of "
			    "its field");
			continue;
		}
		cluster_accepted(c);
		cluster_sync_offer(c, where, &e, -1, true);
	}
	cluster_sync_finish(c, true);
}

/* The next SCAN, the allow hash, or the end. */
static void
cluster_sync_step(struct cluster *c)
{
	struct cluster_sync_state *s = &c->sync;
	char match[CLUSTER_KEY_MAX], count[16];
	const char *argv[6];
	size_t argvlen[6];
	struct cluster_req *q;

	if (!s->running || c->failing)
		return;
	while (s->pattern < CLUSTER_SYNC_NPATTERNS &&
	    !(cluster_sync_patterns[s->pattern].kinds & c->want)) {
		s->pattern++;
		snprintf(s->cursor, sizeof s->cursor, "0");
	}
	if (s->pattern < CLUSTER_SYNC_NPATTERNS) {
		snprintf(match, sizeof match, "%s%s", c->cc.prefix,
		    cluster_sync_patterns[s->pattern].glob);
		snprintf(count, sizeof count, "%d", CLUSTER_SCAN_COUNT);
		argv[0] = "SCAN";
		argv[1] = s->cursor;
		argv[2] = "MATCH";
		argv[3] = match;
		argv[4] = "COUNT";
		argv[5] = count;
		for (int i = 0; i < 6; i++)
			argvlen[i] = strlen(argv[i]);
		s->scanning = true;
		if (cluster_conn_command(&c->cmd, NULL,
		    cluster_sync_scan_reply, "SCAN", 6, argv, argvlen) != 0) {
			s->scanning = false;
			cluster_fail(c, "commands: SCAN: cannot queue it");
		}
		return;
	}
	if (s->pattern == CLUSTER_SYNC_NPATTERNS &&
	    (c->want & CLUSTER_WANT(CLUSTER_ALLOW_ADD))) {
		s->pattern++;
		if ((q = cluster_req_new()) == NULL) {
			cluster_fail(c, "resync: out of memory");
			return;
		}
		snprintf(q->key, sizeof q->key, "%sallow", c->cc.prefix);
		argv[0] = "HGETALL";
		argv[1] = q->key;
		argvlen[0] = 7;
		argvlen[1] = strlen(q->key);
		if (cluster_conn_command(&c->cmd, q, cluster_sync_allow_reply,
		    "HGETALL", 2, argv, argvlen) != 0)
			cluster_fail(c, "commands: HGETALL: cannot queue it");
		return;
	}
	cluster_sync_finish(c, true);
}

void
cluster_sync_start(struct cluster *c)
{
	memset(&c->sync, 0, sizeof c->sync);
	c->sync.running = true;
	snprintf(c->sync.cursor, sizeof c->sync.cursor, "0");
	cluster_deliver_sync(c, false);
	cluster_sync_step(c);
}
