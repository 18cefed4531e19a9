/*
 * gate_admit.c - queued packets into the gate: which SYN starts a lookup,
 * joins one, or passes unjudged, and the pacing of lookups into DNS slots.
 *
 * Admission (gate_admit_packet), for the SYN of an address not under
 * lookup:
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
 *     in a FIFO, started from the loop's idle turn (gate_admit_pump) as
 *     slots free up (never from inside a DNS callback, which could nest
 *     without bound).  One still waiting at its deadline concludes with no
 *     answer at all: the dns-error verdict, not cached, counted
 *     (dns_waited).  One whose turn comes with less time left than lookups
 *     take now (a moving average, at most a quarter of deadline_ms) is not
 *     started but left to its deadline: under a flood beyond what the
 *     resolver answers, a FIFO would otherwise spend every slot on lookups
 *     that end past their deadline, and judge none in time.
 *
 * Exports the gate_admit_* functions of gate_int.h.
 */
#include <sys/socket.h>

#include "gate_int.h"
#include "log.h"
#include "marks.h"
#include "pkt.h"

/* lk takes a DNS slot and sends its queries; it holds the slot until its
 * last query answered (gate_admit_slot_free). */
static void
gate_admit_send(struct gate_lookup *lk)
{
	lk->inflight = true;
	lk->qstart_ms = evloop_now_ms(lk->g->ev);
	lk->g->ninflight++;
	gate_lookup_queries(lk);
}

/* lk's last query answered: its slot frees (the idle turn refills it), and
 * how long it took moves the estimate of what a lookup takes. */
void
gate_admit_slot_free(struct gate_lookup *lk)
{
	struct gate *g = lk->g;
	int64_t took = evloop_now_ms(g->ev) - lk->qstart_ms;

	g->ninflight--;
	g->dns_est_ms = g->dns_est_ms == 0 ? took + 1 :
	    g->dns_est_ms + (took - g->dns_est_ms) / 8;
}

/* The FIFO of lookups waiting for a DNS slot. */
static void
gate_admit_wait_push(struct gate *g, struct gate_lookup *lk)
{
	lk->refs++;		/* the wait's reference */
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

void
gate_admit_wait_unlink(struct gate *g, struct gate_lookup *lk)
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

/*
 * Start waiting lookups, oldest first, while DNS slots are free.  One with
 * less time left than lookups take now is passed over: it keeps the
 * wait's reference and concludes at its deadline (see the top).
 */
void
gate_admit_pump(struct gate *g)
{
	int64_t now = evloop_now_ms(g->ev);

	while (g->wait_head != NULL &&
	    g->ninflight < g->cfg->conf.gate.dns_concurrency) {
		struct gate_lookup *lk = g->wait_head;
		int64_t dl = lk->cfg->conf.gate.deadline_ms;
		int64_t need = g->dns_est_ms < dl / 4 ? g->dns_est_ms : dl / 4;

		gate_admit_wait_unlink(g, lk);
		if (lk->start_ms + dl - now < need)
			continue;	/* passed over: left to its deadline */
		lk->waiting = false;
		gate_admit_send(lk);
		gate_lookup_unref(lk);	/* the wait's reference */
	}
}

/* May a new lookup start for a's /24 or /64 now? */
static bool
gate_admit_rate(struct gate *g, const struct addr *a)
{
	struct addr net;

	if (g->cfg->conf.gate.lookup_burst == 0)
		return true;
	addr_mask(&net, a, a->family == AF_INET ? 24 : 64);
	return ratelimit_take(g->rate, &net, evloop_now_ms(g->ev));
}

void
gate_admit_packet(void *arg, const struct queue_packet *p)
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
	if ((lk = gate_lookup_find(g, &pk.src)) != NULL) {
		g->st.coalesced++;
		if (!gate_lookup_hold(lk, p->id, p->mark)) {
			g->st.overflow++;
			queue_verdict(g->q, p->id, QUEUE_ACCEPT, p->mark);
		}
		return;
	}
	if (!gate_admit_rate(g, &pk.src)) {
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
	(void)gate_lookup_hold(lk, p->id, p->mark);
	if (g->wait_head != NULL ||
	    g->ninflight >= g->cfg->conf.gate.dns_concurrency) {
		/* No DNS slot: wait in line. */
		gate_admit_wait_push(g, lk);
		return;
	}
	gate_admit_send(lk);
}
