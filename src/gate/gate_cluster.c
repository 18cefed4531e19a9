/*
 * gate_cluster.c - the gate's verdicts shared with the other gateways of
 * the site through Redis ([cluster], cluster.h; smtpgated(8) CLUSTER).
 *
 * Out: every deny and drop verdict gate_apply.c caches in enforce mode
 * (and every pass with share_pass = yes) is shared as it is cached
 * (gate_cluster_share), with the element's TTL and its deciding reason;
 * a verdict cached for an IPv6 /64 is shared as that /64.  Observe mode
 * shares nothing.
 *
 * In: a sibling's verdict (gate_cluster_event, from the loop) goes into
 * the local sets with the TTL it has left (cluster_msg_left): deny4/6,
 * drop4/6, denynet6/dropnet6 for a /64, pass4/6 only with share_pass =
 * yes here.  It is never shared again (it does not pass through
 * gate_apply.c), and never applied over a trusted network, an entry of
 * the allow file in force (gate_cluster_allow_loaded keeps them), or, in
 * observe mode, as a refusal.  With [gate] reply = smtp a sibling's deny
 * of one address also gets the reply4/6 element of its reason
 * (gate_reply_note_shared), so the responder says why as it would here.
 * Each one is logged:
 *   cluster ip=ADDR kind=deny node=B ttl=N reason=R action=applied
 * (action skipped-trusted, skipped-allowed, skipped-observe or expired
 * when it was not applied).
 *
 * The allow list, with share_allow = yes (allowshare.h): the allow file
 * stays the local truth and is never written here (smtpgated runs as
 * user smtpgate, the file is root's).  At each load of it
 * (gate_cluster_allow_loaded, before the sets are replaced) the prefixes
 * in force are compared with the last load's: those added are shared as
 * allow-add, those removed as allow-del when the shared entry is this
 * node's.  Siblings' allow-add/del (and, at a resync, every entry of the
 * shared hash) change the shared list, kept in memory and in the
 * daemon's own file (ALLOWSHARE_FILE beside [sniffer] state_file, saved
 * a second after a change, read at start so a start without Redis keeps
 * the last list); the allow sets are then replaced with the allow file
 * as last read and the shared list (gate_allow_apply, from a timer due
 * now: one replace for a resync's many entries).  A sibling's prefix
 * wider than /8 (IPv4) or /16 (IPv6), or one past ALLOWLIST_MAX shared
 * entries, is refused and counted.  Each change is logged:
 *   cluster prefix=P kind=allow-add node=B action=applied
 * (action shared, refused-wide, refused-full, removed, withdrawn).
 * This node's own entry handed back at a resync that its file no longer
 * lists is withdrawn (an allow-del shared).  A resync's end
 * (cluster_on_sync: begin and done come in order with its entries) says
 * the hash was read whole: a sibling's entry of the shared list it did
 * not hand back is removed (its allow-del was missed while apart), and
 * each prefix of this node's allow file (as of its last load) it did not
 * hold is shared again (Redis came back empty), unless a sibling
 * unshared it (withheld, in memory: a restart shares it again).
 * allow-unshare removes a sibling's entry everywhere
 * (gate_cluster_allow_unshare).
 *
 * Sharing is an addition: every local verdict happens whatever Redis
 * does (cluster.h).  gate_cluster_start runs once the gate is up (before
 * the daemon detaches: the password file is read as root), gate_free
 * calls gate_cluster_stop.
 *
 * Exports gate_cluster_start, gate_cluster_conn, gate_cluster_allow_list,
 * gate_cluster_allow_unshare (gate.h), gate_cluster_share,
 * gate_cluster_allow_loaded, gate_cluster_allow_shared, gate_cluster_stop,
 * gate_cluster_stats (gate_int.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "allowlist.h"
#include "allowshare.h"
#include "atomicfile.h"
#include "cluster.h"
#include "control.h"
#include "gate.h"
#include "gate_int.h"
#include "log.h"

struct gate_cluster {
	struct cluster *c;
	bool share_pass;		/* [cluster] share_pass at start */
	struct prefix *allow;		/* the allow file's entries in force
					 * and the shared ones, by family,
					 * length, address */
	size_t nallow;
	struct gate_cluster_stats st;
	/* share_allow = yes */
	bool share_allow;
	char node[CLUSTER_NODE_MAX];	/* this gateway's name */
	struct allowshare shared;	/* the site's shared allow list */
	char shared_path[PATH_MAX];	/* its file */
	struct prefix *mine;		/* the allow file's prefixes in force
					 * at its last load (prefix_cmp
					 * order): the next diff's base */
	size_t nmine;
	struct allowshare withheld;	/* prefixes of mine a sibling
					 * unshared: not shared again at a
					 * resync (until the file drops and
					 * lists them again, or a restart) */
	struct ev_timer *apply_timer;	/* the index and the allow sets
					 * again, due now */
	bool apply_sets;		/* ... the sets too */
	struct ev_timer *save_timer;	/* the shared file, a second after a
					 * change */
	bool syncing;			/* a resync began, its done awaited */
};

#define GATE_CLUSTER_SAVE_MS	1000

/* Wall clock, ms since the epoch (time(3): the scenarios' clock too). */
static int64_t
gate_cluster_wall_ms(void)
{
	return (int64_t)time(NULL) * 1000;
}

static int
gate_cluster_prefix_cmp(const void *x, const void *y)
{
	const struct prefix *p = x, *q = y;

	if (p->a.family != q->a.family)
		return p->a.family < q->a.family ? -1 : 1;
	if (p->len != q->len)
		return p->len < q->len ? -1 : 1;
	return memcmp(p->a.b, q->a.b, sizeof(p->a.b));
}

static bool
gate_cluster_overlap(const struct prefix *p, const struct prefix *q)
{
	return p->a.family == q->a.family && (prefix_contains(p, &q->a) ||
	    prefix_contains(q, &p->a));
}

/*
 * Does an entry of the allow list overlap subject s?  The list is sorted
 * by family and length: in each group of one length, a prefix no longer
 * than s is found by s masked to it, a longer one by the first entry at
 * or after s's network.
 */
static bool
gate_cluster_allowed(const struct gate_cluster *gc, const struct prefix *s)
{
	size_t i = 0, j;

	while (i < gc->nallow) {
		const struct prefix *g0 = &gc->allow[i];
		size_t lo, hi;

		for (j = i + 1; j < gc->nallow && gc->allow[j].a.family ==
		    g0->a.family && gc->allow[j].len == g0->len; j++)
			;
		if (g0->a.family != s->a.family) {
			i = j;
			continue;
		}
		struct prefix key = { .len = g0->len };
		addr_mask(&key.a, &s->a, g0->len <= s->len ? g0->len : s->len);
		key.a.family = s->a.family;
		/* The first entry of the group not below key. */
		for (lo = i, hi = j; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (gate_cluster_prefix_cmp(&gc->allow[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < j && gate_cluster_overlap(&gc->allow[lo], s))
			return true;
		i = j;
	}
	return false;
}

static bool
gate_cluster_trusted(const struct conf_gate *cg, const struct prefix *s)
{
	if (conf_trusted(cg, &s->a))
		return true;
	for (size_t i = 0; i < cg->ntrusted && i < CONF_MAX_TRUSTED; i++)
		if (gate_cluster_overlap(&cg->trusted[i], s))
			return true;
	return false;
}

/* The index gate_cluster_allowed searches: mine and the shared list. */
static void
gate_cluster_allow_index(struct gate_cluster *gc)
{
	size_t n = 0, cap = gc->nmine + gc->shared.n;
	struct prefix *p;

	if ((p = calloc(cap + 1, sizeof(*p))) == NULL) {
		log_warnx("cluster: calloc %zu allow prefixes: out of memory "
		    "(siblings' verdicts checked against the list read "
		    "before)", cap);
		return;
	}
	for (size_t i = 0; i < gc->nmine; i++)
		p[n++] = gc->mine[i];
	for (size_t i = 0; i < gc->shared.n; i++)
		p[n++] = gc->shared.e[i].p;
	qsort(p, n, sizeof(*p), gate_cluster_prefix_cmp);
	free(gc->allow);
	gc->allow = p;
	gc->nallow = n;
}

static const char *
gate_cluster_prefix_str(const struct prefix *p, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", addr_ntop(&p->a, a), p->len);
	return buf;
}

static void
gate_cluster_allow_log(const struct prefix *p, enum cluster_kind k,
    const char *node, const char *action)
{
	char b[ADDR_STRLEN + 8];

	log_info("cluster prefix=%s kind=%s node=%s action=%s",
	    gate_cluster_prefix_str(p, b, sizeof(b)), cluster_kind_name(k),
	    node, action);
}

/* This node's allow-add or allow-del of p, to the siblings. */
static void
gate_cluster_allow_send(struct gate_cluster *gc, enum cluster_kind k,
    const struct prefix *p)
{
	struct cluster_event e;

	memset(&e, 0, sizeof(e));
	e.kind = k;
	e.p = *p;
	e.a = p->a;
	cluster_share(gc->c, &e);
	gc->st.allow_shared++;
	gate_cluster_allow_log(p, k, gc->node, "shared");
}

static void
gate_cluster_allow_save_due(void *arg)
{
	struct gate_cluster *gc = arg;
	char err[PATH_MAX + 256];

	gc->save_timer = NULL;
	if (allowshare_save(gc->shared_path, &gc->shared, err,
	    sizeof(err)) == -1)
		log_warnx("cluster: %s (the shared allow list is kept in "
		    "memory; saved again at its next change)", err);
}

/* After the changes of a loop turn (a resync's many): the index once,
 * the sets once. */
static void
gate_cluster_allow_apply_due(void *arg)
{
	struct gate *g = arg;
	struct gate_cluster *gc = g->cl;
	char err[512];

	gc->apply_timer = NULL;
	gate_cluster_allow_index(gc);
	if (gc->apply_sets)
		(void)gate_allow_apply(g, err, sizeof(err));	/* logged */
	gc->apply_sets = false;
}

/* The shared list changed: the index and (sets) the allow sets from the
 * loop, now; the file a second later. */
static void
gate_cluster_allow_changed(struct gate *g, bool sets)
{
	struct gate_cluster *gc = g->cl;

	gc->apply_sets |= sets;
	if (gc->apply_timer == NULL)
		gc->apply_timer = evloop_timer_at(g->ev, evloop_now_ms(g->ev),
		    gate_cluster_allow_apply_due, g);
	if (gc->save_timer == NULL)
		gc->save_timer = evloop_timer_at(g->ev, evloop_now_ms(g->ev) +
		    GATE_CLUSTER_SAVE_MS, gate_cluster_allow_save_due, gc);
}

static bool
gate_cluster_mine(const struct gate_cluster *gc, const struct prefix *p)
{
	return gc->nmine > 0 && bsearch(p, gc->mine, gc->nmine,
	    sizeof(*p), prefix_cmp) != NULL;
}

/*
 * p, a prefix of this node's allow file, into the shared list and out to
 * the siblings: true, or false (logged) when it stays local.  Seen at
 * once: a resync under way need not send it again.
 */
static bool
gate_cluster_allow_share(struct gate_cluster *gc, const struct prefix *p)
{
	char b[ADDR_STRLEN + 8];

	if (allowshare_set(&gc->shared, p, gc->node) == -1) {
		log_warnx("cluster: allow %s stays local: %s",
		    gate_cluster_prefix_str(p, b, sizeof(b)),
		    errno == E2BIG ? "the shared list is full" :
		    "out of memory");
		return false;
	}
	(void)allowshare_see(&gc->shared, p);
	gate_cluster_allow_send(gc, CLUSTER_ALLOW_ADD, p);
	return true;
}

/*
 * The allow file just read (cur, sorted) against its last load: what was
 * added is shared (unless too wide for a sibling or the list is full:
 * then it stays local), what was removed is withdrawn when the shared
 * entry is this node's (a sibling's of the same prefix is its own).
 */
static bool
gate_cluster_allow_diff(struct gate_cluster *gc, const struct prefix *cur,
    size_t ncur)
{
	struct prefix *add, *del;
	size_t na, nd;
	bool changed = false;
	char b[ADDR_STRLEN + 8];

	add = calloc(ncur + 1, sizeof(*add));
	del = calloc(gc->nmine + 1, sizeof(*del));
	if (add == NULL || del == NULL) {
		log_warnx("cluster: calloc the allow list's changes: out of "
		    "memory (not shared)");
		free(add);
		free(del);
		return false;
	}
	allowshare_diff(gc->mine, gc->nmine, cur, ncur, add, &na, del, &nd);
	for (size_t i = 0; i < na; i++) {
		const char *why = allowshare_check(&add[i]);
		ssize_t k = allowshare_find(&gc->shared, &add[i]);

		(void)allowshare_del(&gc->withheld, &add[i]);	/* listed anew */

		if (why != NULL) {
			log_warnx("cluster: allow %s stays local: %s, never "
			    "shared", gate_cluster_prefix_str(&add[i], b,
			    sizeof(b)), why);
			continue;
		}
		if (k >= 0 && strcmp(gc->shared.e[k].node, gc->node) == 0)
			continue;	/* shared already */
		if (gate_cluster_allow_share(gc, &add[i]))
			changed = true;
	}
	for (size_t i = 0; i < nd; i++) {
		ssize_t k = allowshare_find(&gc->shared, &del[i]);

		(void)allowshare_del(&gc->withheld, &del[i]);
		if (k < 0 || strcmp(gc->shared.e[k].node, gc->node) != 0)
			continue;
		(void)allowshare_del(&gc->shared, &del[i]);
		gate_cluster_allow_send(gc, CLUSTER_ALLOW_DEL, &del[i]);
		changed = true;
	}
	free(add);
	free(del);
	return changed;
}

void
gate_cluster_allow_loaded(struct gate *g)
{
	struct gate_cluster *gc = g->cl;
	const struct allowlist *l = &g->allow_local;
	struct prefix *p;
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;
	bool changed = false;

	if (gc == NULL)
		return;
	if ((p = calloc(l->n + 1, sizeof(*p))) == NULL) {
		log_warnx("cluster: calloc %zu allow prefixes: out of memory "
		    "(siblings' verdicts checked against the list read "
		    "before)", l->n);
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].expires == 0 || l->e[i].expires > now)
			p[n++] = l->e[i].p;
	qsort(p, n, sizeof(*p), prefix_cmp);
	if (gc->share_allow)
		changed = gate_cluster_allow_diff(gc, p, n);
	free(gc->mine);
	gc->mine = p;
	gc->nmine = n;
	gate_cluster_allow_index(gc);
	if (changed)	/* the caller replaces the sets; the file */
		gate_cluster_allow_changed(g, false);
}

size_t
gate_cluster_allow_shared(const struct gate *g,
    const struct allowshare_entry **e)
{
	if (g->cl == NULL || !g->cl->share_allow) {
		*e = NULL;
		return 0;
	}
	*e = g->cl->shared.e;
	return g->cl->shared.n;
}

/*
 * A sibling's allow-add or allow-del (or, at a resync, an entry of the
 * shared hash, this node's own too).  Repeats of what the list holds
 * change nothing and say nothing: a resync hands back every entry.
 */
static void
gate_cluster_allow_event(struct gate *g, const struct cluster_event *e)
{
	struct gate_cluster *gc = g->cl;
	const char *why;
	ssize_t k = allowshare_find(&gc->shared, &e->p);
	bool own = strcmp(e->node, gc->node) == 0;

	if (!gc->share_allow)
		return;
	if (e->kind == CLUSTER_ALLOW_DEL) {
		/* A prefix of this node's file unshared by a sibling: a
		 * resync's end does not share it again. */
		if (gate_cluster_mine(gc, &e->p))
			(void)allowshare_set(&gc->withheld, &e->p, e->node);
		if (k < 0)
			return;
		(void)allowshare_del(&gc->shared, &e->p);
		gc->st.allow_applied++;
		gate_cluster_allow_log(&e->p, e->kind, e->node, "removed");
		gate_cluster_allow_changed(g, true);
		return;
	}
	if ((why = allowshare_check(&e->p)) != NULL) {
		gc->st.allow_refused++;
		gate_cluster_allow_log(&e->p, e->kind, e->node,
		    "refused-wide");
		return;
	}
	if (own && !gate_cluster_mine(gc, &e->p)) {
		/* Shared by this node, gone from its file since: the
		 * allow-del was lost (a restart without the shared file). */
		if (k >= 0)
			(void)allowshare_del(&gc->shared, &e->p);
		gate_cluster_allow_send(gc, CLUSTER_ALLOW_DEL, &e->p);
		gate_cluster_allow_log(&e->p, e->kind, e->node, "withdrawn");
		gate_cluster_allow_changed(g, k >= 0);
		return;
	}
	if (k >= 0 && strcmp(gc->shared.e[k].node, e->node) == 0) {
		(void)allowshare_see(&gc->shared, &e->p);
		return;
	}
	if (allowshare_set(&gc->shared, &e->p, e->node) == -1) {
		gc->st.allow_refused++;
		gate_cluster_allow_log(&e->p, e->kind, e->node,
		    errno == E2BIG ? "refused-full" : "failed");
		return;
	}
	(void)allowshare_see(&gc->shared, &e->p);
	if (!own)
		gc->st.allow_applied++;
	if (k < 0 || !own)
		gate_cluster_allow_log(&e->p, e->kind, e->node, "applied");
	gate_cluster_allow_changed(g, k < 0);
}

/*
 * A resync's begin and done (cluster_on_sync), in order with its
 * entries.  At begin no shared entry is seen; each allow-add delivered
 * marks its own (gate_cluster_allow_event).  At done the hash was read
 * whole: a sibling's entry it did not hold lost its allow-del while this
 * gateway was apart (or Redis lost it): removed.  This node's own
 * prefixes it did not hold (Redis came back empty) are shared again.
 */
static void
gate_cluster_allow_sync(void *arg, bool done)
{
	struct gate *g = arg;
	struct gate_cluster *gc = g->cl;
	struct allowshare_entry *gone;
	struct prefix *again;
	size_t ngone, nagain, n = gc->shared.n;
	bool changed = false;

	if (!gc->share_allow)
		return;
	if (!done) {
		allowshare_unsee(&gc->shared);
		gc->syncing = true;
		return;
	}
	if (!gc->syncing)
		return;
	gc->syncing = false;
	gone = calloc(n + 1, sizeof(*gone));
	again = calloc(gc->nmine + 1, sizeof(*again));
	if (gone == NULL || again == NULL) {
		log_warnx("cluster: calloc the resync's allow changes: out of "
		    "memory (the shared list kept as it is)");
		free(gone);
		free(again);
		return;
	}
	ngone = allowshare_sweep(&gc->shared, gc->node, gone, n);
	for (size_t i = 0; i < ngone; i++) {
		gc->st.allow_applied++;
		gate_cluster_allow_log(&gone[i].p, CLUSTER_ALLOW_DEL,
		    gone[i].node, "removed");
		changed = true;
	}
	nagain = allowshare_unheld(&gc->shared, gc->mine, gc->nmine, again);
	for (size_t i = 0; i < nagain; i++) {
		if (allowshare_check(&again[i]) != NULL)
			continue;	/* local only: said at its load */
		if (allowshare_find(&gc->withheld, &again[i]) >= 0)
			continue;	/* a sibling unshared it */
		if (gate_cluster_allow_share(gc, &again[i]))
			changed = true;
	}
	free(gone);
	free(again);
	if (changed)
		gate_cluster_allow_changed(g, true);
}

void
gate_cluster_allow_list(const struct gate *g, struct control_reply *r)
{
	const struct gate_cluster *gc = g->cl;
	char b[ADDR_STRLEN + 8];

	if (gc == NULL || !gc->share_allow) {
		control_reply_line(r, "share_allow=no");
		return;
	}
	control_reply_line(r, "share_allow=yes node=%s shared=%zu", gc->node,
	    gc->shared.n);
	for (size_t i = 0; i < gc->shared.n; i++)
		control_reply_line(r, "prefix=%s node=%s", gate_cluster_prefix_str(
		    &gc->shared.e[i].p, b, sizeof(b)), gc->shared.e[i].node);
}

int
gate_cluster_allow_unshare(struct gate *g, const char *text, char *err,
    size_t errlen)
{
	struct gate_cluster *gc = g->cl;
	const char *why = NULL;
	struct prefix p;
	ssize_t k;
	char b[ADDR_STRLEN + 8];

	if (gc == NULL || !gc->share_allow) {
		snprintf(err, errlen, "[cluster] share_allow is off: the allow "
		    "list is not shared");
		return -1;
	}
	if (prefix_parse(text, &p, &why) == -1) {
		snprintf(err, errlen, "\"%.64s\": %s", text, why);
		return -1;
	}
	gate_cluster_prefix_str(&p, b, sizeof(b));
	if ((k = allowshare_find(&gc->shared, &p)) < 0) {
		snprintf(err, errlen, "%s is not a shared entry", b);
		return -1;
	}
	if (gate_cluster_mine(gc, &p)) {
		snprintf(err, errlen, "%s is in this gateway's allow file: "
		    "smtpgatectl allow del removes it", b);
		return -1;
	}
	log_info("cluster: allow %s of node %s unshared from here", b,
	    gc->shared.e[k].node);
	(void)allowshare_del(&gc->shared, &p);
	gate_cluster_allow_send(gc, CLUSTER_ALLOW_DEL, &p);
	gate_cluster_allow_changed(g, true);
	return 0;
}

/* The subject of e as text: an address, or a /64. */
static const char *
gate_cluster_subject(const struct cluster_event *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	if (e->net64)
		snprintf(buf, len, "%s/64", addr_ntop(&e->p.a, a));
	else
		snprintf(buf, len, "%s", addr_ntop(&e->a, a));
	return buf;
}

/* A sibling's verdict: into the sets, or why not; one line each. */
static void
gate_cluster_event(const struct cluster_event *e, void *arg)
{
	struct gate *g = arg;
	struct gate_cluster *gc = g->cl;
	const struct conf_gate *cg = &g->cfg->conf.gate;
	const char *base, *action = "applied";
	struct prefix s;
	char subj[ADDR_STRLEN + 4];
	uint32_t left;

	switch (e->kind) {
	case CLUSTER_DENY:
		base = e->net64 ? "denynet" : "deny";
		break;
	case CLUSTER_DROP:
		base = e->net64 ? "dropnet" : "drop";
		break;
	case CLUSTER_PASS:
		if (!gc->share_pass || e->net64) {
			gc->st.skipped++;
			return;		/* not wanted here: no line */
		}
		base = "pass";
		break;
	case CLUSTER_ALLOW_ADD:
	case CLUSTER_ALLOW_DEL:
		gate_cluster_allow_event(g, e);
		return;
	default:
		return;			/* heartbeats */
	}
	gc->st.received++;
	if (e->net64) {
		s = e->p;
		s.len = 64;
	} else {
		s.a = e->a;
		s.len = e->a.family == AF_INET ? 32 : 128;
	}
	left = cluster_msg_left(e, gate_cluster_wall_ms());
	if (left == 0) {
		action = "expired";
		gc->st.expired++;
	} else if (gate_cluster_trusted(cg, &s)) {
		action = "skipped-trusted";
		gc->st.skipped++;
	} else if (gate_cluster_allowed(gc, &s)) {
		action = "skipped-allowed";
		gc->st.skipped++;
	} else if (!cg->enforce && e->kind != CLUSTER_PASS) {
		action = "skipped-observe";	/* observe mode refuses none */
		gc->st.skipped++;
	} else if (nftset_add(g->nft, base, &s.a, left) == -1) {
		action = "failed";
		gc->st.failed++;
		log_warn("gate: cluster: nftset_add %s %s", base,
		    gate_cluster_subject(e, subj, sizeof(subj)));
	} else {
		gc->st.applied++;
		if (e->kind == CLUSTER_DENY && !e->net64)
			gate_reply_note_shared(g, &e->a, e->reason, left);
	}
	log_info("cluster ip=%s kind=%s node=%s ttl=%u reason=%s action=%s",
	    gate_cluster_subject(e, subj, sizeof(subj)),
	    cluster_kind_name(e->kind), e->node, left,
	    e->reason[0] != '\0' ? e->reason : "-", action);
}

void
gate_cluster_share(struct gate *g, enum cluster_kind kind,
    const struct addr *key, bool net64, uint32_t ttl_s, const char *reason)
{
	struct gate_cluster *gc = g->cl;
	struct cluster_event e;

	if (gc == NULL || ttl_s == 0 || (kind == CLUSTER_PASS &&
	    !gc->share_pass))
		return;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.ttl_s = ttl_s > CLUSTER_TTL_MAX ? CLUSTER_TTL_MAX : ttl_s;
	if (reason != NULL && reason[0] != '\0')
		snprintf(e.reason, sizeof(e.reason), "%s", reason);
	e.a = *key;
	if (net64) {
		e.net64 = true;
		e.p.a = *key;
		e.p.len = 64;
	}
	cluster_share(gc->c, &e);
	gc->st.shared++;
}

/*
 * share_allow = yes at start: the shared list's file read back (its own
 * entries are the first diff's base, so what the allow file gained or
 * lost while the daemon was stopped is shared now), then the allow file
 * again and the sets with both.
 */
static void
gate_cluster_allow_start(struct gate *g)
{
	struct gate_cluster *gc = g->cl;
	char err[PATH_MAX + 256];
	size_t n = 0;

	/* state_file is shorter than PATH_MAX: it fits. */
	if (allowshare_path(&g->cfg->conf, gc->shared_path,
	    sizeof(gc->shared_path)) == -1)
		log_panic("cluster: the shared allow list's path: too long");
	(void)atomicfile_clean_tmp(gc->shared_path, ".tmp.");
	if (allowshare_load(gc->shared_path, &gc->shared, err,
	    sizeof(err)) == -1)
		log_warnx("cluster: %s (starting with an empty shared allow "
		    "list: the resync brings it back)", err);
	free(gc->mine);
	gc->nmine = 0;
	if ((gc->mine = calloc(gc->shared.n + 1, sizeof(*gc->mine))) != NULL)
		for (size_t i = 0; i < gc->shared.n; i++)
			if (strcmp(gc->shared.e[i].node, gc->node) == 0)
				gc->mine[n++] = gc->shared.e[i].p;
	gc->nmine = n;
	log_info("cluster: shared allow list: %zu entr%s from %s",
	    gc->shared.n, gc->shared.n == 1 ? "y" : "ies", gc->shared_path);
	/* Logged there; the sets keep the allow file's alone then. */
	(void)gate_allow_reload(g, err, sizeof(err));
}

int
gate_cluster_start(struct gate *g, char *err, size_t errlen)
{
	const struct conf_cluster *cc = &g->cfg->conf.cluster;
	struct gate_cluster *gc;
	char node[CLUSTER_NODE_MAX];

	err[0] = '\0';
	if (g->cl != NULL || (cc->redis[0] == '\0' && cc->nsentinels == 0))
		return 0;
	if ((gc = calloc(1, sizeof(*gc))) == NULL) {
		snprintf(err, errlen, "cluster: calloc the gate's sharing: "
		    "out of memory");
		return -1;
	}
	gc->share_pass = cc->share_pass;
	gc->share_allow = cc->share_allow;
	control_cluster_node(cc, node, sizeof(node));
	snprintf(gc->node, sizeof(gc->node), "%s", node);
	g->cl = gc;
	gc->c = cluster_new(g->ev, cc, "gated", CLUSTER_WANT(CLUSTER_DENY) |
	    CLUSTER_WANT(CLUSTER_DROP) | CLUSTER_WANT(CLUSTER_PASS) |
	    CLUSTER_WANT(CLUSTER_ALLOW_ADD) | CLUSTER_WANT(CLUSTER_ALLOW_DEL) |
	    CLUSTER_WANT(CLUSTER_HELLO), gate_cluster_event, g, err, errlen);
	if (gc->c == NULL) {
		gate_cluster_stop(g);
		if (err[0] == '\0')
			return 0;
		return -1;
	}
	log_info("cluster: node %s shares deny and drop verdicts%s%s; "
	    "siblings' are applied here", node, gc->share_pass ?
	    " and passes" : "", gc->share_allow ? " and the allow list" : "");
	if (gc->share_allow) {
		cluster_on_sync(gc->c, gate_cluster_allow_sync, g);
		gate_cluster_allow_start(g);
	} else
		gate_cluster_allow_loaded(g);
	return 0;
}

void
gate_cluster_stop(struct gate *g)
{
	struct gate_cluster *gc = g->cl;

	if (gc == NULL)
		return;
	if (gc->apply_timer != NULL)
		evloop_timer_cancel(g->ev, gc->apply_timer);
	if (gc->save_timer != NULL) {
		evloop_timer_cancel(g->ev, gc->save_timer);
		gate_cluster_allow_save_due(gc);	/* the last change */
	}
	cluster_free(gc->c);
	free(gc->allow);
	free(gc->mine);
	allowshare_free(&gc->shared);
	allowshare_free(&gc->withheld);
	free(gc);
	g->cl = NULL;
}

const struct cluster *
gate_cluster_conn(const struct gate *g)
{
	return g->cl != NULL ? g->cl->c : NULL;
}

const struct gate_cluster_stats *
gate_cluster_stats(const struct gate *g)
{
	static const struct gate_cluster_stats none;

	return g->cl != NULL ? &g->cl->st : &none;
}
