/*
 * gate_apply.c - a lookup's verdict applied: the counters, the verdict
 * line, the verdicts of the SYNs it held, and the kernel's cache sets.
 *
 * IPv6 verdicts about the network: a reject or drop that an absent,
 * invalid, generic or static PTR decided is cached for the client's /64
 * (denynet6/dropnet6) when cache_v6_network is set (findings_judge says
 * so: net64); passes, and verdicts that rest on the address (DNSBL,
 * fcrdns), stay per address.  A verdict that rests on missing knowledge
 * is not cached at all (verdict.h).
 *
 * A tempfail refuses the held SYNs like a reject and remembers the
 * sender's retry key (retry.h) in wait (timeout retry_min) and retry
 * (timeout retry_window); the kernel decides its retries from them.
 *
 * With [gate] reply = smtp a cached reject also puts the client in map
 * reply4/reply6 (gate_reply_note) and drops its SYNs instead of resetting
 * them: the retransmit is redirected to the responder, which says why.
 *
 * Observe mode ([gate] enforce = no, reloadable): the verdict is counted
 * and logged as in enforce mode (the line says enforced=no; a refusal
 * also counts in observed_reject/_drop/_tempfail, and as an accept), the
 * held SYNs are accepted, and nothing enters deny, denynet6, drop,
 * dropnet6, wait, retry or reply.  A would-be refusal that may be cached
 * is cached as a pass for deny_ttl: its repeat SYNs stay in the kernel
 * as they would in deny, and it is judged (and logged) again at the same
 * pace as in enforce mode.  After a switch to enforce = yes those passes
 * run out within deny_ttl (smtpgatectl cache flush pass ends them now).
 * Every decision is the generation's the lookup started under.
 *
 * [cluster]: each deny, drop (and with share_pass, pass) element cached
 * in enforce mode is shared as it is written, with its TTL and deciding
 * reason (gate_cluster_share); observe mode shares nothing.  Siblings'
 * verdicts are written by gate_cluster.c, never through here, so never
 * shared again.
 *
 * [sniffer] banner_hold_ms > 0 (with pregreet on, as the ruleset has
 * it): a client accepted on weak evidence (verdict_weak: accepted
 * although a finding counted, i.e. one in log mode, or dns-error =
 * accept; never a DNSWL pass or a clean one) enters hold4/hold6 for
 * GATE_HOLD_TTL_S, so the sniffer holds its banner (sniff_hold.c).  Only
 * first-time clients come here: allow-listed and pass-cached ones are
 * accepted by the kernel before the queue; trusted networks are never
 * held.  Observe mode holds nothing.
 *
 * Exports gate_apply_verdict (gate_int.h).
 */
#include "gate_int.h"
#include "log.h"
#include "retry.h"

/* A hold4/6 element's life: from the SYN's accept through the handshake
 * to the MTA's banner, with room for a slow MTA. */
#define GATE_HOLD_TTL_S		5

/* The banner hold of an accepted client (see above). */
static void
gate_apply_hold(struct gate_lookup *lk, const struct verdict *v)
{
	const struct conf *c = &lk->cfg->conf;
	struct gate *g = lk->g;
	char a[ADDR_STRLEN];

	if (c->sniffer.banner_hold_ms == 0 || c->sniffer.packets == 0 ||
	    c->sniffer.rule[RULE_PREGREET] == ACTION_OFF || !verdict_weak(v) ||
	    conf_trusted(&c->gate, &lk->a))
		return;
	/* Sent now, not at the end of the turn: the banner follows the
	 * SYN's accept within a round trip and must find the element (the
	 * kernel applies a batch inside the send; nftset logs a failure). */
	if (nftset_add(g->nft, "hold", &lk->a, GATE_HOLD_TTL_S) == -1) {
		log_warn("gate: nftset_add hold %s", addr_ntop(&lk->a, a));
		return;
	}
	(void)nftset_flush(g->nft);
	g->st.banner_holds++;
}

/* The verdict line: what the findings say, how long it took, and for how
 * many SYNs. */
static void
gate_apply_log(struct gate_lookup *lk, const struct findings_judgment *j)
{
	char line[1536];

	findings_log(&lk->f, j, line, sizeof(line));
	log_info("%s ms=%lld syns=%zu%s", line,
	    (long long)(evloop_now_ms(lk->g->ev) - lk->start_ms), lk->nheld,
	    j->v.cache ? "" : " cached=no");
}

static void
gate_apply_count(struct gate *g, const struct verdict *v, bool enforce)
{
	g->st.verdicts++;
	if (!enforce && v->action != ACTION_ACCEPT) {
		/* Observe mode: what enforce would have done, then accepted. */
		if (v->action == ACTION_REJECT)
			g->st.observed_reject++;
		else if (v->action == ACTION_DROP)
			g->st.observed_drop++;
		else
			g->st.observed_tempfail++;
		g->st.accept++;
	} else if (v->action == ACTION_REJECT)
		g->st.reject++;
	else if (v->action == ACTION_DROP)
		g->st.drop++;
	else if (v->action == ACTION_TEMPFAIL)
		g->st.tempfail++;
	else
		g->st.accept++;
	for (size_t i = 0; i < v->nreasons; i++)
		if (v->reason[i] < VERDICT_R_MAX)
			g->st.reason[v->reason[i]]++;
}

/*
 * The sender's second chance: its key in wait, then in retry, one batch
 * (nftset_flush at the end of the turn).  wait first: a SYN arriving
 * between the two adds is refused, never passed early.
 */
static void
gate_apply_tempfail(struct gate_lookup *lk)
{
	const struct conf_gate *cg = &lk->cfg->conf.gate;
	struct gate *g = lk->g;
	char a[ADDR_STRLEN];
	struct addr key;

	retry_key(cg, &lk->a, &key);
	if (nftset_add(g->nft, "wait", &key, cg->retry_min_s) == -1 ||
	    nftset_add(g->nft, "retry", &key, cg->retry_window_s) == -1) {
		log_warn("gate: nftset_add wait/retry %s", addr_ntop(&key, a));
		return;
	}
	g->st.retry_noted++;
}

/*
 * Observe mode: every held SYN passes, and a verdict that may be cached
 * is cached as a pass (a would-be refusal for deny_ttl, the time its deny
 * element would have lasted).  Nothing else is written.
 */
static void
gate_apply_observe(struct gate_lookup *lk, const struct verdict *v)
{
	const struct conf_gate *cg = &lk->cfg->conf.gate;
	struct gate *g = lk->g;

	for (size_t i = 0; i < lk->nheld; i++)
		(void)queue_verdict(g->q, lk->held[i].id, QUEUE_ACCEPT,
		    lk->held[i].mark);
	if (!v->cache)
		return;
	if (nftset_add(g->nft, "pass", &lk->a, v->action == ACTION_ACCEPT ?
	    cg->pass_ttl_s : cg->deny_ttl_s) == -1) {
		char a[ADDR_STRLEN];

		log_warn("gate: nftset_add pass %s", addr_ntop(&lk->a, a));
	}
}

/*
 * A lookup's verdict, counted and logged; the kernel learns it twice: for
 * the held SYNs, and in a set.
 */
void
gate_apply_verdict(struct gate_lookup *lk,
    const struct findings_judgment *j)
{
	const struct verdict *v = &j->v;
	struct gate *g = lk->g;
	const struct conf_gate *cg = &lk->cfg->conf.gate;
	enum queue_verdict qv = v->action == ACTION_REJECT ||
	    v->action == ACTION_TEMPFAIL ? QUEUE_REJECT :
	    v->action == ACTION_DROP ? QUEUE_DROP : QUEUE_ACCEPT;

	gate_apply_count(g, v, cg->enforce);
	gate_apply_log(lk, j);
	gate_journal_verdict(lk, j);
	if (!cg->enforce) {
		gate_apply_observe(lk, v);
		return;
	}
	/* reply = smtp: a cached reject is answered by the responder (554),
	 * a tempfail too (421) until retry_min, when the retry rules take
	 * over; their SYNs are dropped so the retransmits are redirected
	 * (reply.h). */
	enum queue_verdict hv = gate_reply_note(lk, v, qv);	/* held SYNs */
	/* Before the SYNs go: the banner follows them within a round trip. */
	if (hv == QUEUE_ACCEPT)
		gate_apply_hold(lk, v);
	/* A verdict that cannot go out is logged by queue.c, once. */
	for (size_t i = 0; i < lk->nheld; i++)
		(void)queue_verdict(g->q, lk->held[i].id, hv,
		    lk->held[i].mark);
	if (v->action == ACTION_TEMPFAIL) {
		gate_apply_tempfail(lk);
		return;
	}
	if (!v->cache)
		return;
	const char *set = qv == QUEUE_REJECT ? "deny" :
	    qv == QUEUE_DROP ? "drop" : "pass";
	uint32_t ttl = qv == QUEUE_ACCEPT ? cg->pass_ttl_s : cg->deny_ttl_s;
	struct addr key = lk->a;
	if (j->net64) {
		addr_mask(&key, &lk->a, 64);
		set = qv == QUEUE_REJECT ? "denynet" : "dropnet";
		g->st.net_cached++;
	}
	if (nftset_add(g->nft, set, &key, ttl) == -1) {
		char a[ADDR_STRLEN];

		log_warn("gate: nftset_add %s %s", set, addr_ntop(&key, a));
		return;
	}
	/* The site's other gateways learn it as it is cached ([cluster];
	 * a pass only with share_pass): made here, so shared once. */
	gate_cluster_share(g, qv == QUEUE_REJECT ? CLUSTER_DENY :
	    qv == QUEUE_DROP ? CLUSTER_DROP : CLUSTER_PASS, &key, j->net64,
	    ttl, v->nreasons > 0 ? verdict_reason_name(v->reason[0]) : NULL);
}
