/*
 * gate.c - the SYN gate: queued SYNs, per-address lookups, verdicts.
 *
 * One lookup per source address under way (struct gate_lookup, in a hash
 * table): every SYN from that address while it runs joins it, and all are
 * answered by its verdict.  A lookup issues its PTR and DNSBL queries at
 * once, and the forward (A/AAAA) queries of the PTR names as soon as those
 * arrive.  It concludes when nothing is outstanding or at its deadline.
 *
 * Lifetime: a lookup leaves the hash table when it concludes, but lives on
 * until its last outstanding query has called back (c-ares cannot cancel a
 * query); "refs" counts those queries plus the setup in progress (or the
 * wait in the FIFO below).
 *
 * Admission (gate_packet), for the SYN of an address not under lookup:
 *  1. Rate: each IPv4 /24 and IPv6 /64 may start lookup_burst lookups at
 *     once, then lookup_rate a second (ratelimit.h; 65536 prefixes are
 *     remembered, the least recently seen forgotten first).  A SYN beyond
 *     it is dropped, not looked up and not cached, and counted
 *     (rate_limited).  Dropped rather than accepted: a real client
 *     retransmits its SYN about a second later and is judged then, while
 *     accepting unjudged would let whoever floods a prefix walk past the
 *     gate; and a spoofed flood then costs no PTR or DNSBL query (nor the
 *     site's DNSBL quota).
 *  2. max_pending lookups at most (querying or waiting); beyond, the SYN
 *     is accepted unjudged (overflow), as before.
 *  3. Pacing: at most dns_concurrency lookups have queries out at once (a
 *     lookup holds its slot until its last query answered, also past its
 *     deadline: those queries still load the resolver).  The others wait
 *     in a FIFO, started from gate_idle as slots free up (never from
 *     inside a DNS callback, which could nest without bound).  One still
 *     waiting at its deadline concludes with no answer at all: the
 *     dns-error verdict, not cached, counted (dns_waited).  One whose
 *     turn comes with less time left than lookups take now (a moving
 *     average, at most a quarter of deadline_ms) is not started but left
 *     to its deadline: under a flood beyond what the resolver answers, a
 *     FIFO would otherwise spend every slot on lookups that end past their
 *     deadline, and judge none in time.
 *
 * IPv6 verdicts about the network (gate_apply): a reject or drop that an
 * absent, generic or static PTR decided is cached for the client's /64
 * (denynet6/dropnet6) when cache_v6_network is set; passes, and verdicts
 * that rest on the address (DNSBL, fcrdns), stay per address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "addr.h"
#include "allowlist.h"
#include "gate.h"
#include "gate_int.h"
#include "log.h"
#include "marks.h"
#include "pkt.h"
#include "verdict.h"

#define GATE_BUCKETS		65536
#define GATE_HELD_INLINE	4	/* SYNs held without allocating */
#define GATE_HELD_MAX		256	/* more SYNs than this are let through */
#define GATE_QUEUE_COPY		256	/* bytes of each packet we need */
#define GATE_RATE_KEYS		65536	/* prefixes whose lookup rate is kept */

struct gate_held {
	uint32_t id;			/* queue packet id */
	uint32_t mark;			/* its mark, kept on reject */
};

struct gate_lookup {
	struct gate *g;
	struct gate_cfg *cfg;		/* generation it started under */
	struct gate_lookup *next;	/* hash chain */
	struct addr a;
	int64_t start_ms;
	struct ev_timer *deadline;
	unsigned refs;			/* outstanding queries + setup/wait */
	bool done;			/* verdict given */
	bool inflight;			/* holds a DNS slot (queries sent) */
	int64_t qstart_ms;		/* when its queries were sent */
	bool waiting;			/* holds the wait's reference: no
					 * query sent (in the FIFO, or passed
					 * over and left to its deadline) */
	bool in_fifo;			/* in the FIFO for a DNS slot */
	struct gate_lookup *wnext, *wprev;	/* the FIFO */

	struct gate_held inl[GATE_HELD_INLINE];
	struct gate_held *held;		/* inl, or heap when it grew */
	size_t nheld, capheld;

	/* PTR */
	enum verdict_ptr ptr;
	size_t nnames;
	char names[DNS_MAX_NAMES][DNS_NAME_MAX];
	bool ptr_bad;			/* answered, but no name is a host name */
	char bad[DNS_NAME_MAX];		/* the first such name, escaped */
	const char *bad_why;		/* dns_result.bad_why (static) */
	/* forward confirmation, per PTR name */
	unsigned fwd_due;		/* forward answers outstanding */
	int confirmed;			/* index of the confirming name, -1 */
	bool fwd_error;			/* a forward lookup failed */
	/* DNSBL */
	int dnsbl_score;
	unsigned dnsbl_due;		/* zone answers outstanding */
	uint32_t dnsbl_hit;		/* zones that scored, bit per zone */
	uint32_t dnsbl_asked;		/* zones queried, bit per zone */
	uint32_t dnsbl_done;		/* zones that answered completely
					 * (listed, NXDOMAIN, no data) */
};

/* A query's callback context: which lookup, which query. */
struct gate_qctx {
	struct gate_lookup *lk;
	int kind;			/* GATE_Q_* */
	unsigned idx;			/* PTR name index or zone index */
};

enum { GATE_Q_PTR, GATE_Q_FWD, GATE_Q_DNSBL };

static void gate_lookup_conclude(struct gate_lookup *lk, bool by_deadline);

void
gate_cfg_ref(struct gate_cfg *c)
{
	c->refs++;
}

void
gate_cfg_unref(struct gate_cfg *c)
{
	if (--c->refs > 0)
		return;
	ptrclass_free(c->pc);
	free(c);
}

struct ptrclass *
gate_ptrclass_new(const struct conf_gate *cg, char *err, size_t errlen)
{
	struct ptrclass *pc;
	size_t n;

	pc = ptrclass_new_tables(cg->ptr_providers[0] ? cg->ptr_providers :
	    NULL, !cg->ptr_providers_replace, err, errlen);
	if (pc == NULL && cg->ptr_providers[0] != '\0') {
		n = strlen(err);
		snprintf(err + n, errlen - n, " ([gate] ptr_providers)");
	}
	return pc;
}

static struct gate_cfg *
gate_cfg_new(struct gate *g, const struct conf *conf, char *err,
    size_t errlen)
{
	struct gate_cfg *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->conf = *conf;
	c->g = g;
	c->refs = 1;
	/*
	 * A configured table that does not load stops us: big senders whose
	 * names embed their address would be judged generic.
	 */
	if ((c->pc = gate_ptrclass_new(&conf->gate, err, errlen)) == NULL) {
		free(c);
		return NULL;
	}
	for (size_t z = 0; z < DNSBL_MAX_SITES; z++)
		c->health[z].enabled = true;
	return c;
}

/* Hash table of lookups under way. */
static struct gate_lookup **
gate_slot(struct gate *g, const struct addr *a)
{
	return &g->bucket[addr_hash(&g->hkey, a) & (g->nbuckets - 1)];
}

static struct gate_lookup *
gate_find(struct gate *g, const struct addr *a)
{
	for (struct gate_lookup *lk = *gate_slot(g, a); lk; lk = lk->next)
		if (addr_eq(&lk->a, a))
			return lk;
	return NULL;
}

static void
gate_unlink(struct gate *g, struct gate_lookup *lk)
{
	for (struct gate_lookup **p = gate_slot(g, &lk->a); *p;
	    p = &(*p)->next) {
		if (*p == lk) {
			*p = lk->next;
			g->npending--;
			return;
		}
	}
}

static void
gate_lookup_free(struct gate_lookup *lk)
{
	if (lk->inflight) {
		struct gate *g = lk->g;
		int64_t took = evloop_now_ms(g->ev) - lk->qstart_ms;

		g->ninflight--;		/* its slot frees; gate_idle refills */
		g->dns_est_ms = g->dns_est_ms == 0 ? took + 1 :
		    g->dns_est_ms + (took - g->dns_est_ms) / 8;
	}
	if (lk->held != lk->inl)
		free(lk->held);
	gate_cfg_unref(lk->cfg);
	free(lk);
}

static void
gate_lookup_unref(struct gate_lookup *lk)
{
	if (--lk->refs > 0)
		return;
	if (!lk->done)
		gate_lookup_conclude(lk, false);
	gate_lookup_free(lk);
}

/* Hold one more SYN on lk. false when it cannot be held. */
static bool
gate_hold(struct gate_lookup *lk, uint32_t id, uint32_t mark)
{
	if (lk->nheld == lk->capheld) {
		size_t cap = lk->capheld * 2;
		struct gate_held *h;

		if (cap > GATE_HELD_MAX)
			return false;
		if (lk->held == lk->inl) {
			if ((h = malloc(cap * sizeof(*h))) == NULL)
				return false;
			memcpy(h, lk->inl, sizeof(lk->inl));
		} else if ((h = realloc(lk->held, cap * sizeof(*h))) == NULL) {
			return false;
		}
		lk->held = h;
		lk->capheld = cap;
	}
	lk->held[lk->nheld].id = id;
	lk->held[lk->nheld].mark = mark;
	lk->nheld++;
	return true;
}

static void gate_answer(void *arg, const struct dns_result *r);

/* Start one query for lk; refs count it until its callback. */
static void
gate_query(struct gate_lookup *lk, const char *name, enum dns_type type,
    int kind, unsigned idx)
{
	struct gate_qctx *q = malloc(sizeof(*q));

	if (q == NULL) {
		log_warnx("gate: out of memory for a query");
		return;
	}
	q->lk = lk;
	q->kind = kind;
	q->idx = idx;
	lk->refs++;
	if (kind == GATE_Q_FWD) {
		lk->fwd_due++;
	} else if (kind == GATE_Q_DNSBL) {
		lk->dnsbl_due++;
		lk->dnsbl_asked |= 1u << idx;	/* idx < DNSBL_MAX_SITES, 32 */
	}
	/* The deadline tells dns whether a retry could still count. */
	if (dns_query_until(lk->g->dns, name, type, lk->start_ms +
	    lk->cfg->conf.gate.deadline_ms, gate_answer, q) == -1) {
		log_warnx("gate: query %s: out of memory", name);
		struct dns_result r = { .status = DNS_ERROR, .error = "no memory" };
		gate_answer(q, &r);
	}
}

static void
gate_on_ptr(struct gate_lookup *lk, const struct dns_result *r)
{
	switch (r->status) {
	case DNS_OK:
		lk->ptr = VERDICT_PTR_FOUND;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		lk->ptr = VERDICT_PTR_NONE;
		return;
	case DNS_BADNAME:
		/* An answer, not resolver trouble: judged as class invalid,
		 * nothing to confirm forward. */
		lk->ptr = VERDICT_PTR_FOUND;
		lk->ptr_bad = true;
		memcpy(lk->bad, r->bad, sizeof(lk->bad));
		lk->bad_why = r->bad_why;
		return;
	default:
		lk->ptr = VERDICT_PTR_ERROR;
		if (log_get_verbose() > 0) {
			char ip[ADDR_STRLEN];
			log_debug("gate: PTR of %s: %s", addr_ntop(&lk->a, ip),
			    r->error ? r->error : "error");
		}
		return;
	}
	lk->nnames = r->nnames;
	memcpy(lk->names, r->names, sizeof(lk->names[0]) * r->nnames);
	if (lk->done)
		return;
	size_t max = lk->cfg->conf.gate.fcrdns_max_names;
	for (size_t i = 0; i < lk->nnames && i < max; i++)
		gate_query(lk, lk->names[i], lk->a.family == AF_INET ?
		    DNS_A : DNS_AAAA, GATE_Q_FWD, (unsigned)i);
}

static void
gate_on_fwd(struct gate_lookup *lk, unsigned idx, const struct dns_result *r)
{
	lk->fwd_due--;
	if (r->status == DNS_ERROR || r->status == DNS_CANCELLED) {
		lk->fwd_error = true;
		return;
	}
	for (size_t i = 0; i < r->naddrs; i++) {
		if (addr_eq(&r->addrs[i], &lk->a) &&
		    (lk->confirmed < 0 || (int)idx < lk->confirmed))
			lk->confirmed = (int)idx;
	}
}

static void
gate_on_dnsbl(struct gate_lookup *lk, unsigned z, const struct dns_result *r)
{
	const struct dnsbl_sites *s = &lk->cfg->conf.gate.dnsbl_sites;
	uint32_t ans[DNS_MAX_ADDRS];
	size_t n = 0;
	int errors = 0, score;
	char ip[ADDR_STRLEN], as[ADDR_STRLEN];

	lk->dnsbl_due--;
	if (r->status == DNS_NXDOMAIN || r->status == DNS_NODATA) {
		lk->dnsbl_done |= 1u << z;	/* not listed */
		return;
	}
	if (r->status != DNS_OK) {
		/* SERVFAIL, REFUSED, a failed connection, a bad answer: the
		 * list said nothing, so the verdict is incomplete. */
		if (r->status == DNS_CANCELLED)
			return;
		lk->g->st.dnsbl_failed++;
		if (log_get_verbose() > 0)
			log_debug("gate: DNSBL %s for %s: %s", s->zone[z],
			    addr_ntop(&lk->a, ip), r->error ? r->error :
			    "error");
		return;
	}
	lk->dnsbl_done |= 1u << z;
	for (size_t i = 0; i < r->naddrs; i++)
		if (r->addrs[i].family == AF_INET)
			ans[n++] = addr_v4(&r->addrs[i]);
	score = dnsbl_score_zone(s, z, ans, n, &errors);
	if (errors > 0) {
		lk->g->st.dnsbl_errors++;
		for (size_t i = 0; i < n; i++)
			if (dnsbl_answer_kind(ans[i]) == DNSBL_ANSWER_ERROR)
				log_warnx("dnsbl-error zone=%s answer=%s ip=%s "
				    "(the list refuses this resolver or the "
				    "zone name is wrong)", s->zone[z],
				    addr_ntop(&r->addrs[i], as),
				    addr_ntop(&lk->a, ip));
	}
	if (score != 0 && z < 32) {
		lk->dnsbl_score += score;
		lk->dnsbl_hit |= 1u << z;
	}
}

static void
gate_answer(void *arg, const struct dns_result *r)
{
	struct gate_qctx *q = arg;
	struct gate_lookup *lk = q->lk;

	switch (q->kind) {
	case GATE_Q_PTR:
		gate_on_ptr(lk, r);
		break;
	case GATE_Q_FWD:
		gate_on_fwd(lk, q->idx, r);
		break;
	case GATE_Q_DNSBL:
		gate_on_dnsbl(lk, q->idx, r);
		break;
	}
	free(q);
	gate_lookup_unref(lk);
}

static void
gate_deadline(void *arg)
{
	struct gate_lookup *lk = arg;

	lk->deadline = NULL;
	lk->g->st.deadline++;
	gate_lookup_conclude(lk, true);
}

/* What the lookup found, in the terms verdict_decide wants. */
static void
gate_findings(struct gate_lookup *lk, struct verdict_findings *f,
    struct ptr_verdict *pv, const char **name)
{
	memset(f, 0, sizeof(*f));
	f->ptr = lk->ptr;
	f->dnsbl_score = lk->dnsbl_score;
	/* Failed and unanswered lists alike: dnsbl_asked & ~dnsbl_done. */
	f->dnsbl_incomplete = (lk->dnsbl_asked & ~lk->dnsbl_done) != 0;
	f->cls = PTR_NAMED;
	*name = NULL;
	pv->cls = PTR_NAMED;
	pv->reason[0] = '\0';
	if (lk->ptr == VERDICT_PTR_FOUND && lk->ptr_bad) {
		f->cls = pv->cls = PTR_INVALID;
		snprintf(pv->reason, sizeof(pv->reason), "%s", lk->bad_why);
		*name = lk->bad;
		return;
	}
	if (lk->ptr != VERDICT_PTR_FOUND || lk->nnames == 0)
		return;
	if (lk->confirmed >= 0)
		f->fcrdns = VERDICT_FCRDNS_PASS;
	else if (lk->fwd_due == 0 && !lk->fwd_error)
		f->fcrdns = VERDICT_FCRDNS_FAIL;
	else
		f->fcrdns = VERDICT_FCRDNS_UNKNOWN;
	/* Judge the name that confirmed, else the first one. */
	*name = lk->names[lk->confirmed >= 0 ? lk->confirmed : 0];
	ptrclass_classify(lk->cfg->pc, *name, &lk->a, lk->confirmed >= 0, pv);
	f->cls = pv->cls;
}

static void
gate_log_verdict(struct gate_lookup *lk, const struct verdict *v,
    const struct verdict_findings *f, const struct ptr_verdict *pv,
    const char *name)
{
	const struct dnsbl_sites *s = &lk->cfg->conf.gate.dnsbl_sites;
	char ip[ADDR_STRLEN], reasons[128], zones[512] = "", cls[96];
	char failed[512] = "";
	uint32_t incomplete = lk->dnsbl_asked & ~lk->dnsbl_done;
	size_t off = 0, foff = 0;

	verdict_reasons_format(v, reasons, sizeof(reasons));
	for (size_t z = 0; z < s->nzones && z < 32; z++) {
		int n;

		if (lk->dnsbl_hit & (1u << z)) {
			n = snprintf(zones + off, sizeof(zones) - off, "%s%s",
			    off ? "," : " dnsbl=", s->zone[z]);
			if (n > 0 && (size_t)n < sizeof(zones) - off)
				off += (size_t)n;
		}
		if (incomplete & (1u << z)) {
			n = snprintf(failed + foff, sizeof(failed) - foff,
			    "%s%s", foff ? "," : " dnsbl_incomplete=",
			    s->zone[z]);
			if (n > 0 && (size_t)n < sizeof(failed) - foff)
				foff += (size_t)n;
		}
	}
	if (name == NULL)
		snprintf(cls, sizeof(cls), "-");
	else if (pv->cls == PTR_NAMED || pv->reason[0] == '\0')
		snprintf(cls, sizeof(cls), "%s", ptrclass_name(pv->cls));
	else
		snprintf(cls, sizeof(cls), "%s class_reason=%s",
		    ptrclass_name(pv->cls), pv->reason);
	log_info("verdict=%s ip=%s reason=%s ptr=%s fcrdns=%s class=%s "
	    "dnsbl_score=%d%s%s ms=%lld syns=%zu%s",
	    verdict_action_name(v->action), addr_ntop(&lk->a, ip), reasons,
	    name ? name : "-",
	    f->fcrdns == VERDICT_FCRDNS_PASS ? "yes" :
	    f->fcrdns == VERDICT_FCRDNS_FAIL ? "no" : "-",
	    cls, lk->dnsbl_score, zones, failed,
	    (long long)(evloop_now_ms(lk->g->ev) - lk->start_ms), lk->nheld,
	    v->cache ? "" : " cached=no");
}

static void
gate_count(struct gate *g, const struct verdict *v)
{
	g->st.verdicts++;
	if (v->action == ACTION_REJECT)
		g->st.reject++;
	else if (v->action == ACTION_DROP)
		g->st.drop++;
	else
		g->st.accept++;
	for (size_t i = 0; i < v->nreasons; i++)
		if (v->reason[i] < VERDICT_R_MAX)
			g->st.reason[v->reason[i]]++;
}

/*
 * Does the verdict rest on the network rather than on the address?  What
 * the PTR says (none, a generic or static pool name, an invalid one) holds
 * for a whole /64 as a rule; a DNSBL listing or a failed forward check is
 * about the one address, and an error or a DNSWL pass is not a judgment of
 * the network.  Any other finding counts as about the network.
 */
static bool
gate_network_verdict(const struct verdict *v)
{
	if (v->nreasons == 0)
		return false;
	switch (v->reason[0]) {
	case VERDICT_R_DNSBL:
	case VERDICT_R_DNSWL:
	case VERDICT_R_FCRDNS:
	case VERDICT_R_DNS_ERROR:
		return false;
	default:
		return true;
	}
}

/* The kernel learns the verdict twice: for the held SYNs, and in a set. */
static void
gate_apply(struct gate_lookup *lk, const struct verdict *v)
{
	struct gate *g = lk->g;
	const struct conf_gate *cg = &lk->cfg->conf.gate;
	enum queue_verdict qv = v->action == ACTION_REJECT ? QUEUE_REJECT :
	    v->action == ACTION_DROP ? QUEUE_DROP : QUEUE_ACCEPT;

	/* A verdict that cannot go out is logged by queue.c, once. */
	for (size_t i = 0; i < lk->nheld; i++)
		(void)queue_verdict(g->q, lk->held[i].id, qv,
		    lk->held[i].mark);
	if (!v->cache)
		return;
	const char *set = qv == QUEUE_REJECT ? "deny" :
	    qv == QUEUE_DROP ? "drop" : "pass";
	uint32_t ttl = qv == QUEUE_ACCEPT ? cg->pass_ttl_s : cg->deny_ttl_s;
	struct addr key = lk->a;
	if (qv != QUEUE_ACCEPT && lk->a.family == AF_INET6 &&
	    cg->cache_v6_network && gate_network_verdict(v)) {
		addr_mask(&key, &lk->a, 64);
		set = qv == QUEUE_REJECT ? "denynet" : "dropnet";
		g->st.net_cached++;
	}
	if (nftset_add(g->nft, set, &key, ttl) == -1) {
		char a[ADDR_STRLEN];

		log_warn("gate: nftset_add %s %s", set, addr_ntop(&key, a));
	}
}

/* The FIFO of lookups waiting for a DNS slot. */
static void
gate_wait_push(struct gate *g, struct gate_lookup *lk)
{
	lk->waiting = true;
	lk->in_fifo = true;
	lk->wnext = NULL;
	lk->wprev = g->wait_tail;
	if (g->wait_tail != NULL)
		g->wait_tail->wnext = lk;
	else
		g->wait_head = lk;
	g->wait_tail = lk;
	g->nwaiting++;
}

static void
gate_wait_unlink(struct gate *g, struct gate_lookup *lk)
{
	if (lk->wprev != NULL)
		lk->wprev->wnext = lk->wnext;
	else
		g->wait_head = lk->wnext;
	if (lk->wnext != NULL)
		lk->wnext->wprev = lk->wprev;
	else
		g->wait_tail = lk->wprev;
	lk->wnext = lk->wprev = NULL;
	lk->in_fifo = false;
	g->nwaiting--;
}

static void
gate_lookup_conclude(struct gate_lookup *lk, bool by_deadline)
{
	struct verdict_findings f;
	struct ptr_verdict pv;
	struct verdict v;
	const char *name;
	bool waited = lk->waiting;

	(void)by_deadline;
	if (lk->done)
		return;
	lk->done = true;
	if (waited) {
		/* No query was ever sent: the verdict of no answer at all. */
		if (lk->in_fifo)
			gate_wait_unlink(lk->g, lk);
		lk->g->st.dns_waited++;
	}
	if (lk->deadline != NULL) {
		evloop_timer_cancel(lk->g->ev, lk->deadline);
		lk->deadline = NULL;
	}
	gate_unlink(lk->g, lk);
	gate_findings(lk, &f, &pv, &name);
	verdict_decide(&lk->cfg->conf.gate, &f, &v);
	gate_count(lk->g, &v);
	gate_log_verdict(lk, &v, &f, &pv, name);
	gate_apply(lk, &v);
	if (waited) {
		lk->waiting = false;
		gate_lookup_unref(lk);	/* the wait's reference; may free lk */
	}
}

/*
 * A new address: its lookup, in the table, its deadline running, holding
 * the setup reference; gate_lookup_queries sends its queries.
 */
static struct gate_lookup *
gate_lookup_start(struct gate *g, const struct addr *a)
{
	struct gate_cfg *c = g->cfg;
	struct gate_lookup *lk = calloc(1, sizeof(*lk));

	if (lk == NULL)
		return NULL;
	lk->g = g;
	lk->cfg = c;
	gate_cfg_ref(c);
	lk->a = *a;
	lk->start_ms = evloop_now_ms(g->ev);
	lk->held = lk->inl;
	lk->capheld = GATE_HELD_INLINE;
	lk->ptr = VERDICT_PTR_UNKNOWN;
	lk->confirmed = -1;
	lk->deadline = evloop_timer_at(g->ev,
	    lk->start_ms + c->conf.gate.deadline_ms, gate_deadline, lk);
	if (lk->deadline == NULL) {
		gate_cfg_unref(c);
		free(lk);
		return NULL;
	}
	lk->next = *gate_slot(g, a);
	*gate_slot(g, a) = lk;
	g->npending++;
	g->st.lookups++;

	/* The setup holds a reference: answers may arrive inside dns_query. */
	lk->refs = 1;
	return lk;
}

/*
 * Every query of lk at once; it holds a DNS slot until the last has
 * answered.  The caller holds a reference across the call.
 */
static void
gate_lookup_queries(struct gate_lookup *lk)
{
	struct gate_cfg *c = lk->cfg;
	const struct dnsbl_sites *s = &c->conf.gate.dnsbl_sites;
	char name[ADDR_REVNAME_MAX];

	lk->inflight = true;
	lk->qstart_ms = evloop_now_ms(lk->g->ev);
	lk->g->ninflight++;
	if (addr_reverse_name(&lk->a, NULL, name, sizeof(name)) > 0)
		gate_query(lk, name, DNS_PTR, GATE_Q_PTR, 0);
	for (size_t z = 0; z < s->nzones; z++) {
		if (!c->health[z].enabled)
			continue;
		if (addr_reverse_name(&lk->a, s->zone[z], name, sizeof(name)) > 0)
			gate_query(lk, name, DNS_A, GATE_Q_DNSBL, (unsigned)z);
	}
}

/*
 * Start waiting lookups, oldest first, while DNS slots are free.  One with
 * less time left than lookups take now is passed over: it keeps the
 * wait's reference and concludes at its deadline (see the top).
 */
static void
gate_wait_pump(struct gate *g)
{
	int64_t now = evloop_now_ms(g->ev);

	while (g->wait_head != NULL &&
	    g->ninflight < g->cfg->conf.gate.dns_concurrency) {
		struct gate_lookup *lk = g->wait_head;
		int64_t dl = lk->cfg->conf.gate.deadline_ms;
		int64_t need = g->dns_est_ms < dl / 4 ? g->dns_est_ms : dl / 4;

		gate_wait_unlink(g, lk);
		if (lk->start_ms + dl - now < need)
			continue;	/* passed over: left to its deadline */
		lk->waiting = false;
		gate_lookup_queries(lk);
		gate_lookup_unref(lk);	/* the wait's reference */
	}
}

/* May a new lookup start for a's /24 or /64 now? */
static bool
gate_admit(struct gate *g, const struct addr *a)
{
	struct addr net;

	if (g->cfg->conf.gate.lookup_burst == 0)
		return true;
	addr_mask(&net, a, a->family == AF_INET ? 24 : 64);
	return ratelimit_take(g->rate, &net, evloop_now_ms(g->ev));
}

static void
gate_packet(void *arg, const struct queue_packet *p)
{
	struct gate *g = arg;
	struct gate_lookup *lk;
	struct pkt pk;
	const char *why;

	g->st.queued++;
	if ((p->mark & MARK_MASK) == MARK_REJECT) {
		/*
		 * A rejected SYN came back: the ruleset lacks its reset rule.
		 * Drop it rather than loop through the queue forever.
		 */
		g->st.loops++;
		if (g->st.loops == 1)
			log_warnx("gate: a rejected packet was queued again; "
			    "the ruleset's reset rule is missing (dropping)");
		queue_verdict(g->q, p->id, QUEUE_DROP, p->mark);
		return;
	}
	if (pkt_parse(p->payload, p->len, &pk, &why) == -1) {
		/* Fail open: a packet we cannot read is not ours to judge. */
		g->st.malformed++;
		log_debug("gate: packet %u unreadable (%s), accepted", p->id,
		    why);
		queue_verdict(g->q, p->id, QUEUE_ACCEPT, p->mark);
		return;
	}
	if ((pk.tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST |
	    PKT_TCP_FIN)) != PKT_TCP_SYN) {
		g->st.not_syn++;
		queue_verdict(g->q, p->id, QUEUE_ACCEPT, p->mark);
		return;
	}
	if (conf_trusted(&g->cfg->conf.gate, &pk.src)) {
		g->st.trusted++;
		queue_verdict(g->q, p->id, QUEUE_ACCEPT, p->mark);
		return;
	}
	if ((lk = gate_find(g, &pk.src)) != NULL) {
		g->st.coalesced++;
		if (!gate_hold(lk, p->id, p->mark)) {
			g->st.overflow++;
			queue_verdict(g->q, p->id, QUEUE_ACCEPT, p->mark);
		}
		return;
	}
	if (!gate_admit(g, &pk.src)) {
		/* Its prefix is over its rate: the client retransmits. */
		g->st.rate_limited++;
		queue_verdict(g->q, p->id, QUEUE_DROP, p->mark);
		return;
	}
	if (g->npending >= g->cfg->conf.gate.max_pending ||
	    (lk = gate_lookup_start(g, &pk.src)) == NULL) {
		/* Too busy to judge: let it through rather than lose mail. */
		g->st.overflow++;
		queue_verdict(g->q, p->id, QUEUE_ACCEPT, p->mark);
		return;
	}
	/* The first slot is inline: holding the first SYN cannot fail. */
	(void)gate_hold(lk, p->id, p->mark);
	if (g->wait_head != NULL ||
	    g->ninflight >= g->cfg->conf.gate.dns_concurrency) {
		/* No DNS slot: wait in line; the setup reference stays. */
		gate_wait_push(g, lk);
		return;
	}
	gate_lookup_queries(lk);
	/* Drop the setup reference; if every answer came already, the
	 * verdict is given now. */
	gate_lookup_unref(lk);
}

/*
 * Once per loop turn: waiting lookups into the DNS slots freed, then one
 * nft batch for every verdict of the turn.
 */
static void
gate_idle(void *arg)
{
	struct gate *g = arg;

	gate_wait_pump(g);
	/* nftset logs what failed, with its table and cause. */
	(void)nftset_flush(g->nft);
}

static void
gate_nft_readable(int fd, uint32_t events, void *arg)
{
	struct gate *g = arg;

	(void)fd;
	(void)events;
	nftset_process(g->nft);
}

static void
gate_allow_expiry(void *arg)
{
	struct gate *g = arg;
	char err[512];

	g->allow_timer = NULL;
	(void)gate_allow_reload(g, err, sizeof(err));
}

int
gate_allow_reload(struct gate *g, char *err, size_t errlen)
{
	const struct conf *c = &g->cfg->conf;
	int64_t now = (int64_t)time(NULL), next = 0;
	size_t n = 0;

	if (g->allow_timer != NULL) {
		evloop_timer_cancel(g->ev, g->allow_timer);
		g->allow_timer = NULL;
	}
	if (allowlist_apply_conf(c, now, &n, &next, err, errlen) == -1) {
		log_warnx("%s (the kernel's allow sets are unchanged)", err);
		return -1;
	}
	log_info("allow list: %zu entr%s in force from %s", n,
	    n == 1 ? "y" : "ies", c->nft.allow_file);
	/* An expiry needs the sets rebuilt: interval sets have no timeouts. */
	if (next > now)
		g->allow_timer = evloop_timer_at(g->ev, evloop_now_ms(g->ev) +
		    (next - now) * 1000 + 500, gate_allow_expiry, g);
	return 0;
}

struct gate *
gate_new(struct evloop *ev, const struct conf *c, char *err, size_t errlen)
{
	struct gate *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->ev = ev;
	g->nbuckets = GATE_BUCKETS;
	if ((g->bucket = calloc(g->nbuckets, sizeof(*g->bucket))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (siphash_key_random(&g->hkey) == -1) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if ((g->cfg = gate_cfg_new(g, c, err, errlen)) == NULL)
		goto fail;
	if ((g->rate = ratelimit_new(GATE_RATE_KEYS, c->gate.lookup_burst,
	    c->gate.lookup_rate)) == NULL) {
		snprintf(err, errlen, "gate: lookup rate table: %s",
		    strerror(errno));
		goto fail;
	}
	if ((g->dns = dns_new(ev, &c->dns, err, errlen)) == NULL)
		goto fail;
	if ((g->nft = nftset_open(c->nft.table, err, errlen)) == NULL)
		goto fail;
	if (evloop_fd_add(ev, nftset_fd(g->nft), EPOLLIN,
	    gate_nft_readable, g) == -1) {
		snprintf(err, errlen, "epoll add nft socket: %s",
		    strerror(errno));
		goto fail;
	}
	{
		char aerr[512];

		/*
		 * Before the queue is bound, so an allowed sender is never
		 * judged.  Not fatal: the sets keep loopback and
		 * trusted_networks.
		 */
		(void)gate_allow_reload(g, aerr, sizeof(aerr));
	}
	g->q = queue_open(ev, c->gate.queue, c->gate.queue_maxlen,
	    GATE_QUEUE_COPY, gate_packet, g, err, errlen);
	if (g->q == NULL)
		goto fail;
	if ((g->watch = gate_watch_new(g, err, errlen)) == NULL)
		goto fail;
	evloop_set_idle(ev, gate_idle, g);
	gate_dnsbl_start(g->cfg);
	return g;
fail:
	gate_free(g);
	return NULL;
}

void
gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	if (g->allow_timer != NULL)
		evloop_timer_cancel(g->ev, g->allow_timer);
	/* Fail open: every SYN still held goes through now, not after a
	 * retransmit once we are gone. */
	for (size_t b = 0; g->bucket != NULL && b < g->nbuckets; b++) {
		while (g->bucket[b] != NULL) {
			struct gate_lookup *lk = g->bucket[b];
			for (size_t i = 0; i < lk->nheld && g->q; i++)
				queue_verdict(g->q, lk->held[i].id,
				    QUEUE_ACCEPT, lk->held[i].mark);
			lk->done = true;
			if (lk->deadline != NULL)
				evloop_timer_cancel(g->ev, lk->deadline);
			lk->deadline = NULL;
			gate_unlink(g, lk);
			if (lk->waiting) {
				if (lk->in_fifo)
					gate_wait_unlink(g, lk);
				lk->waiting = false;
				lk->refs--;	/* the wait's reference */
			}
			if (lk->refs == 0)
				gate_lookup_free(lk);
		}
	}
	gate_watch_free(g->watch);
	if (g->cfg != NULL)
		gate_dnsbl_stop(g->cfg);
	/* Cancelled callbacks release the lookups still referenced. */
	dns_free(g->dns);
	if (g->q != NULL)
		queue_close(g->q);
	if (g->nft != NULL) {
		/* The last verdicts' set elements must reach the kernel. */
		if (nftset_sync(g->nft) == -1)
			log_warnx("gate: nft: last set changes not all applied");
		evloop_fd_del(g->ev, nftset_fd(g->nft));
		nftset_close(g->nft);
	}
	if (g->cfg != NULL)
		gate_cfg_unref(g->cfg);
	ratelimit_free(g->rate);
	free(g->bucket);
	free(g);
}

int
gate_reload(struct gate *g, const char *path)
{
	struct conf *c = malloc(sizeof(*c));
	struct gate_cfg *nc;
	char err[CONF_ERR_MAX];

	if (c == NULL) {
		log_warn("reload failed: malloc a configuration");
		return -1;
	}
	/* Keys the gate cannot change running ([nft] table, the queue) keep
	 * their values, so the allow sets go to the table it writes. */
	if (conf_reload(path, &g->cfg->conf, CONF_GATED, c, err, sizeof(err),
	    log_warnx) == -1) {
		log_warnx("reload failed: %s", err);
		free(c);
		return -1;
	}
	if ((nc = gate_cfg_new(g, c, err, sizeof(err))) == NULL) {
		log_warnx("reload failed: %s", err);
		free(c);
		return -1;
	}
	const struct conf *old = &g->cfg->conf;
	if (memcmp(&c->dns, &old->dns, sizeof(c->dns)) != 0) {
		struct dns *nd = dns_new(g->ev, &c->dns, err, sizeof(err));
		if (nd == NULL) {
			log_warnx("reload failed: %s", err);
			gate_cfg_unref(nc);
			free(c);
			return -1;
		}
		/* c-ares cannot change servers under running queries. */
		dns_retire(g->dns);
		g->dns = nd;
	}
	free(c);
	gate_dnsbl_stop(g->cfg);
	g->cfg->retired = true;
	gate_cfg_unref(g->cfg);
	g->cfg = nc;
	gate_dnsbl_start(nc);
	ratelimit_set(g->rate, nc->conf.gate.lookup_burst,
	    nc->conf.gate.lookup_rate);
	log_info("reloaded %s", path);
	/* trusted_networks or allow_file may have changed too. */
	if (gate_allow_reload(g, err, sizeof(err)) == -1)
		return 1;
	return 0;
}

/* The counters as one line of key=value fields (logs, control socket). */
void
gate_stats_format(struct gate *g, char *buf, size_t len)
{
	const struct queue_stats *qs = queue_stats(g->q);
	const struct nftset_stats *ns = nftset_stats(g->nft);
	const struct dns_stats *ds = dns_stats(g->dns);
	const struct gate_watch_stats *ws = gate_watch_stats(g->watch);
	const struct {
		const char *name;
		unsigned long long v;
	} f[] = {
		{ "queued", g->st.queued },
		{ "verdicts", g->st.verdicts },
		{ "accept", g->st.accept },
		{ "reject", g->st.reject },
		{ "drop", g->st.drop },
		{ "coalesced", g->st.coalesced },
		{ "lookups", g->st.lookups },
		{ "pending", g->npending },
		{ "no_ptr", g->st.reason[VERDICT_R_NO_PTR] },
		{ "invalid_ptr", g->st.reason[VERDICT_R_INVALID_PTR] },
		{ "generic_ptr", g->st.reason[VERDICT_R_GENERIC] },
		{ "static_ptr", g->st.reason[VERDICT_R_STATIC] },
		{ "fcrdns", g->st.reason[VERDICT_R_FCRDNS] },
		{ "dnsbl", g->st.reason[VERDICT_R_DNSBL] },
		{ "dnswl", g->st.reason[VERDICT_R_DNSWL] },
		{ "dns_errors", g->st.reason[VERDICT_R_DNS_ERROR] },
		{ "deadline", g->st.deadline },
		{ "dnsbl_errors", g->st.dnsbl_errors },
		{ "dnsbl_failed", g->st.dnsbl_failed },
		{ "trusted", g->st.trusted },
		{ "malformed", g->st.malformed },
		{ "not_syn", g->st.not_syn },
		{ "overflow", g->st.overflow },
		{ "unjudged", ws->queue_full + qs->id_gaps },
		{ "unjudged_queue_full", ws->queue_full },
		{ "unjudged_sockbuf", qs->id_gaps },
		{ "held", ws->held },
		{ "rate_limited", g->st.rate_limited },
		{ "dns_active", g->ninflight },
		{ "dns_waiting", g->nwaiting },
		{ "dns_waited", g->st.dns_waited },
		{ "net_cached", g->st.net_cached },
		{ "loops", g->st.loops },
		{ "enobufs", qs->enobufs },
		{ "verdict_errors", qs->verdict_errors },
		{ "verdict_send_failed", qs->send_failed },
		{ "verdict_deferred", qs->deferred },
		{ "verdict_pending", qs->retry_pending },
		{ "verdict_lost", qs->lost },
		{ "dns_queries", ds->queries },
		{ "dns_timeouts", ds->timeouts },
		{ "dns_retries", ds->retries },
		{ "nft_batches", ns->batches },
		{ "nft_elements", ns->elements },
		{ "nft_errors", ns->errors },
		{ "nft_full", ns->full },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%llu",
		    i ? " " : "", f[i].name, f[i].v);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void
gate_log_stats(struct gate *g)
{
	char line[2048];

	gate_stats_format(g, line, sizeof(line));
	log_info("stats %s", line);
}
