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
 * The allow list itself is not shared: share_allow = yes is said to be
 * unsupported at start (smtpgated runs as user smtpgate, which cannot
 * rewrite [nft] allow_file).
 *
 * Sharing is an addition: every local verdict happens whatever Redis
 * does (cluster.h).  gate_cluster_start runs once the gate is up (before
 * the daemon detaches: the password file is read as root), gate_free
 * calls gate_cluster_stop.
 *
 * Exports gate_cluster_start, gate_cluster_conn (gate.h),
 * gate_cluster_share, gate_cluster_allow_loaded, gate_cluster_stop,
 * gate_cluster_stats (gate_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "allowlist.h"
#include "cluster.h"
#include "control.h"
#include "gate.h"
#include "gate_int.h"
#include "log.h"

struct gate_cluster {
	struct cluster *c;
	bool share_pass;		/* [cluster] share_pass at start */
	struct prefix *allow;		/* the allow file's entries in force,
					 * by family, length, address */
	size_t nallow;
	struct gate_cluster_stats st;
};

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

void
gate_cluster_allow_loaded(struct gate *g)
{
	struct gate_cluster *gc = g->cl;
	struct allowlist l;
	struct prefix *p;
	char err[512];
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;

	if (gc == NULL)
		return;
	allowlist_init(&l);
	if (allowlist_load(g->cfg->conf.nft.allow_file, true, NULL, &l, err,
	    sizeof(err)) == -1) {
		/* gate_allow_reload applied it a moment ago: a race with a
		 * writer.  The last list read stays. */
		log_warnx("cluster: %s (siblings' verdicts checked against "
		    "the allow list read before)", err);
		return;
	}
	if ((p = calloc(l.n + 1, sizeof(*p))) == NULL) {
		log_warnx("cluster: calloc %zu allow prefixes: out of memory "
		    "(siblings' verdicts checked against the list read "
		    "before)", l.n);
		allowlist_free(&l);
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.e[i].expires == 0 || l.e[i].expires > now)
			p[n++] = l.e[i].p;
	allowlist_free(&l);
	qsort(p, n, sizeof(*p), gate_cluster_prefix_cmp);
	free(gc->allow);
	gc->allow = p;
	gc->nallow = n;
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
	default:
		return;			/* heartbeats; the allow list is not
					 * shared (above) */
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
	g->cl = gc;
	gate_cluster_allow_loaded(g);
	gc->c = cluster_new(g->ev, cc, "gated", CLUSTER_WANT(CLUSTER_DENY) |
	    CLUSTER_WANT(CLUSTER_DROP) | CLUSTER_WANT(CLUSTER_PASS) |
	    CLUSTER_WANT(CLUSTER_HELLO), gate_cluster_event, g, err, errlen);
	if (gc->c == NULL) {
		gate_cluster_stop(g);
		if (err[0] == '\0')
			return 0;
		return -1;
	}
	control_cluster_node(cc, node, sizeof(node));
	log_info("cluster: node %s shares deny and drop verdicts%s; siblings' "
	    "are applied here", node, gc->share_pass ? " and passes" : "");
	if (cc->share_allow)
		log_warnx("cluster: share_allow = yes: smtpgated does not share "
		    "the allow list (it runs as user smtpgate, which cannot "
		    "rewrite %s); allow changes stay local to each gateway",
		    g->cfg->conf.nft.allow_file);
	return 0;
}

void
gate_cluster_stop(struct gate *g)
{
	struct gate_cluster *gc = g->cl;

	if (gc == NULL)
		return;
	cluster_free(gc->c);
	free(gc->allow);
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
