/*
 * gate_lookup.c - the gate's per-address lookups: the table of lookups
 * under way, their queries and answers, their deadline and conclusion.
 *
 * One lookup per source address under way (struct gate_lookup, in a hash
 * table keyed with SipHash): every SYN from that address while it runs
 * joins it, and all are answered by its verdict.  A lookup issues its PTR
 * and DNSBL queries at once, and the forward (A/AAAA) queries of the PTR
 * names as soon as those arrive.  It concludes when nothing is
 * outstanding or at its deadline.  Each answer goes into the lookup's
 * findings (findings.h), which say what it means; here are the queries,
 * the counters and logs of failed and erroring lists, and the lifetime.
 *
 * Lifetime: a lookup leaves the hash table when it concludes, but lives on
 * until its last outstanding query has called back (c-ares cannot cancel a
 * query); "refs" counts those queries, plus the wait for a DNS slot
 * (gate_admit.c).  No answer comes inside dns_query (dns.h), so starting
 * the queries needs no reference of its own.  Each query's callback
 * context is one of the lookup's own (q_ptr, q_fwd[], q_bl[]).
 *
 * Exports the gate_lookup_* functions of gate_int.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gate_int.h"
#include "log.h"

static void gate_lookup_answer(void *arg, const struct dns_result *r);

/* Hash table of lookups under way. */
static struct gate_lookup **
gate_lookup_slot(struct gate *g, const struct addr *a)
{
	return &g->bucket[addr_hash(&g->hkey, a) & (g->nbuckets - 1)];
}

struct gate_lookup *
gate_lookup_find(struct gate *g, const struct addr *a)
{
	for (struct gate_lookup *lk = *gate_lookup_slot(g, a); lk != NULL;
	    lk = lk->next)
		if (addr_eq(&lk->a, a))
			return lk;
	return NULL;
}

static void
gate_lookup_unlink(struct gate *g, struct gate_lookup *lk)
{
	for (struct gate_lookup **p = gate_lookup_slot(g, &lk->a); *p;
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
	if (lk->inflight)
		gate_admit_slot_free(lk);
	if (lk->held != lk->inl)
		free(lk->held);
	gate_cfg_unref(lk->cfg);
	free(lk);
}

void
gate_lookup_unref(struct gate_lookup *lk)
{
	if (--lk->refs > 0)
		return;
	if (!lk->done)
		gate_lookup_conclude(lk);
	gate_lookup_free(lk);
}

/* Hold one more SYN on lk. false when it cannot be held. */
bool
gate_lookup_hold(struct gate_lookup *lk, uint32_t id, uint32_t mark)
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

/* Start one query for lk; refs count it until its callback. */
static void
gate_lookup_query(struct gate_lookup *lk, const char *name,
    enum dns_type type, int kind, unsigned idx)
{
	struct gate_qctx *q = kind == GATE_Q_PTR ? &lk->q_ptr :
	    kind == GATE_Q_FWD ? &lk->q_fwd[idx] : &lk->q_bl[idx];

	q->lk = lk;
	q->kind = kind;
	q->idx = idx;
	lk->refs++;
	/* The deadline tells dns whether a retry could still count. */
	dns_query_until(lk->g->dns, name, type, lk->start_ms +
	    lk->cfg->conf.gate.deadline_ms, gate_lookup_answer, q);
}

static void
gate_lookup_on_ptr(struct gate_lookup *lk, const struct dns_result *r)
{
	size_t n = findings_ptr(&lk->f, r);

	if (lk->f.ptr == VERDICT_PTR_ERROR && log_get_verbose() > 0) {
		char ip[ADDR_STRLEN];

		log_debug("gate: PTR of %s: %s", addr_ntop(&lk->a, ip),
		    lk->f.ptr_error);
	}
	if (lk->done)
		return;
	for (size_t i = 0; i < n; i++)
		gate_lookup_query(lk, lk->f.names[i], findings_fwd_type(&lk->f),
		    GATE_Q_FWD, (unsigned)i);
}

static void
gate_lookup_on_dnsbl(struct gate_lookup *lk, unsigned z,
    const struct dns_result *r)
{
	const struct dnsbl_sites *s = &lk->cfg->conf.gate.dnsbl_sites;
	char ip[ADDR_STRLEN], as[ADDR_STRLEN];

	switch (findings_dnsbl(&lk->f, z, r)) {
	case FINDINGS_ZONE_FAILED:
		/* SERVFAIL, REFUSED, a failed connection, a bad answer: the
		 * list said nothing, so the verdict is incomplete. */
		lk->g->st.dnsbl_failed++;
		if (log_get_verbose() > 0)
			log_debug("gate: DNSBL %s for %s: %s", s->zone[z],
			    addr_ntop(&lk->a, ip), r->error ? r->error :
			    "error");
		break;
	case FINDINGS_ZONE_ANSWERED:
		if (lk->f.zerrors[z] == 0)
			break;
		lk->g->st.dnsbl_errors++;
		for (size_t i = 0; i < r->naddrs; i++)
			if (r->addrs[i].family == AF_INET &&
			    dnsbl_answer_kind(addr_v4(&r->addrs[i])) ==
			    DNSBL_ANSWER_ERROR)
				log_warnx("dnsbl-error zone=%s answer=%s ip=%s "
				    "(the list refuses this resolver or the "
				    "zone name is wrong)", s->zone[z],
				    addr_ntop(&r->addrs[i], as),
				    addr_ntop(&lk->a, ip));
		break;
	default:
		break;
	}
}

static void
gate_lookup_answer(void *arg, const struct dns_result *r)
{
	struct gate_qctx *q = arg;
	struct gate_lookup *lk = q->lk;

	switch (q->kind) {
	case GATE_Q_PTR:
		gate_lookup_on_ptr(lk, r);
		break;
	case GATE_Q_FWD:
		findings_fwd(&lk->f, q->idx, r);
		break;
	case GATE_Q_DNSBL:
		gate_lookup_on_dnsbl(lk, q->idx, r);
		break;
	}
	gate_lookup_unref(lk);
}

static void
gate_lookup_deadline(void *arg)
{
	struct gate_lookup *lk = arg;

	/* Nothing outstanding (no query could be named): it goes now.  (A
	 * waiting lookup holds the wait's reference; concluding drops it.) */
	bool idle = lk->refs == 0;

	lk->deadline = NULL;
	lk->g->st.deadline++;
	gate_lookup_conclude(lk);
	if (idle)
		gate_lookup_free(lk);
}

/*
 * The verdict, once: from what the answers said by now (findings.h), to
 * the held SYNs and the kernel's sets (gate_apply.c).  The lookup leaves
 * the table; it lives on while queries are outstanding.
 */
void
gate_lookup_conclude(struct gate_lookup *lk)
{
	struct findings_judgment j;
	bool waited = lk->waiting;

	if (lk->done)
		return;
	lk->done = true;
	if (waited) {
		/* No query was ever sent: the verdict of no answer at all. */
		if (lk->in_fifo)
			gate_admit_wait_unlink(lk->g, lk);
		lk->g->st.dns_waited++;
	}
	if (lk->deadline != NULL) {
		evloop_timer_cancel(lk->g->ev, lk->deadline);
		lk->deadline = NULL;
	}
	gate_lookup_unlink(lk->g, lk);
	findings_judge(&lk->f, lk->cfg->pc, &j);
	gate_apply_verdict(lk, &j);
	if (waited) {
		lk->waiting = false;
		gate_lookup_unref(lk);	/* the wait's reference; may free lk */
	}
}

/*
 * A new address: its lookup, in the table, its deadline running, no
 * reference yet; gate_lookup_queries sends its queries once it has a DNS
 * slot (gate_admit.c).
 */
struct gate_lookup *
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
	findings_init(&lk->f, &c->conf.gate, a);
	lk->deadline = evloop_timer_at(g->ev,
	    lk->start_ms + c->conf.gate.deadline_ms, gate_lookup_deadline, lk);
	if (lk->deadline == NULL) {
		gate_cfg_unref(c);
		free(lk);
		return NULL;
	}
	lk->next = *gate_lookup_slot(g, a);
	*gate_lookup_slot(g, a) = lk;
	g->npending++;
	g->st.lookups++;
	return lk;
}

/*
 * Every first query of lk at once: its PTR, and each DNSBL zone the health
 * probes keep enabled.  The forward queries follow the PTR answer.
 */
void
gate_lookup_queries(struct gate_lookup *lk)
{
	struct gate_cfg *c = lk->cfg;
	const struct dnsbl_sites *s = &c->conf.gate.dnsbl_sites;
	char name[ADDR_REVNAME_MAX];

	if (addr_reverse_name(&lk->a, NULL, name, sizeof(name)) > 0)
		gate_lookup_query(lk, name, DNS_PTR, GATE_Q_PTR, 0);
	for (size_t z = 0; z < s->nzones; z++) {
		if (!c->health[z].enabled || addr_reverse_name(&lk->a,
		    s->zone[z], name, sizeof(name)) <= 0)
			continue;
		findings_dnsbl_ask(&lk->f, z);
		gate_lookup_query(lk, name, DNS_A, GATE_Q_DNSBL, (unsigned)z);
	}
}

/*
 * gate_free: every lookup in the table answered now (its held SYNs
 * accepted: fail open), out of the table and the FIFO; those without
 * outstanding queries freed, the others by their cancelled callbacks.
 */
void
gate_lookup_release_all(struct gate *g)
{
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
			gate_lookup_unlink(g, lk);
			if (lk->waiting) {
				if (lk->in_fifo)
					gate_admit_wait_unlink(g, lk);
				lk->waiting = false;
				lk->refs--;	/* the wait's reference */
			}
			if (lk->refs == 0)
				gate_lookup_free(lk);
		}
	}
}
