/*
 * sniff_hold.c - the banner hold ([sniffer] banner_hold_ms; contract in
 * sniff_int.h).
 *
 * smtpgated puts a first-time client it accepted on weak evidence in
 * hold4/hold6 for a few seconds (gate_apply.c); the ruleset queues the
 * server's banner to such a client (its reply packet 2, chain sniff_out)
 * to [sniffer] hold_queue, and this file accepts each such packet
 * banner_hold_ms after it came, by one timer on the loop (never a
 * blocking wait).  A client whose first bytes come while its banner is
 * held talked first: conntrack counted the held banner before it was
 * queued, so the order test cannot see it, but the copies' ack test can
 * (its first segment acknowledges no byte of the server: smtpproto.h
 * "ack"), and judges it as ever (sniff_read.c, sniff_rtt.c).  The hold
 * needs those copies: it is on only when pregreet is.
 *
 * What it costs: each held client waits banner_hold_ms once for its
 * banner; the hold rule deletes its hold4/6 element with that banner,
 * so its next sessions (from the pass cache) are not held.  While held, the
 * server's TCP does not retransmit the banner (its clone is still in a
 * host queue), so one packet per held session is all that waits.
 *
 * Bounds: the held packets are a FIFO of [sniffer] queue_maxlen entries
 * (the kernel's own bound for the queue).  A packet that finds it full is
 * accepted at once (bypassed: fail-open, the banner goes unheld), as the
 * kernel does itself when its queue is full.  Every packet waits the same
 * time, so the FIFO's head is always the next one due and one timer
 * suffices.  At stop and at reload every held packet is accepted at once
 * (a reload may change banner_hold_ms; the queue itself is bound at start
 * and let go when the hold is turned off).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sniff_int.h"

#define SNIFF_HOLD_COPY		64	/* bytes copied: nothing is read */

struct sniff_hold_pkt {
	uint32_t id;			/* the queue's packet id */
	uint32_t mark;			/* its mark, given back as it was */
	int64_t in_ms;			/* when it came */
	int64_t due_ms;			/* when it is accepted */
};

struct sniff_hold {
	struct sniff *s;
	struct queue *q;
	struct sniff_hold_pkt *ring;	/* the FIFO, cap entries */
	size_t cap, head, n;
	struct ev_timer *timer;		/* at the head's due time, or NULL */
};

static void
sniff_hold_accept(struct sniff_hold *h, const struct sniff_hold_pkt *p,
    int64_t now_ms)
{
	struct sniff *s = h->s;
	uint64_t waited = now_ms > p->in_ms ? (uint64_t)(now_ms - p->in_ms) : 0;

	/* A verdict that cannot go out is logged by queue.c, once. */
	(void)queue_verdict(h->q, p->id, QUEUE_ACCEPT, p->mark);
	s->st.hold_released++;
	s->st.hold_ms_sum += waited;
	if (waited > s->st.hold_ms_max)
		s->st.hold_ms_max = waited;
}

static void sniff_hold_due(void *arg);

static void
sniff_hold_arm(struct sniff_hold *h)
{
	if (h->timer != NULL || h->n == 0)
		return;
	h->timer = evloop_timer_at(h->s->ev, h->ring[h->head].due_ms,
	    sniff_hold_due, h);
	if (h->timer == NULL) {
		/* Never keep a banner without a timer: let them all go. */
		log_warn("sniff: hold: evloop_timer_at");
		sniff_hold_release(h->s);
	}
}

/* The timer: every packet due goes. */
static void
sniff_hold_due(void *arg)
{
	struct sniff_hold *h = arg;
	int64_t now = evloop_now_ms(h->s->ev);

	h->timer = NULL;
	while (h->n > 0 && h->ring[h->head].due_ms <= now) {
		sniff_hold_accept(h, &h->ring[h->head], now);
		h->head = (h->head + 1) % h->cap;
		h->n--;
	}
	sniff_hold_arm(h);
}

/* The queue's callback: one banner to hold. */
static void
sniff_hold_packet(void *arg, const struct queue_packet *qp)
{
	struct sniff_hold *h = arg;
	struct sniff *s = h->s;
	int64_t now = evloop_now_ms(s->ev);
	uint32_t ms = s->conf.sniffer.banner_hold_ms;
	struct sniff_hold_pkt *p;

	if (ms == 0 || h->n == h->cap) {
		/* Full (or just turned off): fail open, the banner goes. */
		s->st.hold_bypassed++;
		(void)queue_verdict(h->q, qp->id, QUEUE_ACCEPT, qp->mark);
		return;
	}
	p = &h->ring[(h->head + h->n) % h->cap];
	p->id = qp->id;
	p->mark = qp->mark;
	p->in_ms = now;
	p->due_ms = now + ms;
	h->n++;
	s->st.holds++;
	sniff_hold_arm(h);
}

void
sniff_hold_release(struct sniff *s)
{
	struct sniff_hold *h = s->hold;
	int64_t now;

	if (h == NULL)
		return;
	now = evloop_now_ms(s->ev);
	if (h->timer != NULL) {
		evloop_timer_cancel(s->ev, h->timer);
		h->timer = NULL;
	}
	while (h->n > 0) {
		sniff_hold_accept(h, &h->ring[h->head], now);
		h->head = (h->head + 1) % h->cap;
		h->n--;
	}
}

void
sniff_hold_open(struct sniff *s)
{
	const struct conf_sniffer *cs = &s->conf.sniffer;
	bool want = cs->banner_hold_ms > 0 && cs->packets > 0 &&
	    cs->rule[RULE_PREGREET] != ACTION_OFF;
	struct sniff_hold *h;
	char err[256];

	if (!want) {
		sniff_hold_close(s);
		return;
	}
	if (s->hold != NULL)
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->ring = calloc(cs->queue_maxlen, sizeof(*h->ring))) == NULL) {
		log_warn("sniff: the banner hold is off: calloc %u entries",
		    cs->queue_maxlen);
		free(h);
		return;
	}
	h->s = s;
	h->cap = cs->queue_maxlen;
	h->q = queue_open(s->ev, cs->hold_queue, cs->queue_maxlen,
	    SNIFF_HOLD_COPY, sniff_hold_packet, h, err, sizeof(err));
	if (h->q == NULL) {
		/* The rule's bypass lets the banners go unheld. */
		log_warnx("sniff: the banner hold is off: %s", err);
		free(h->ring);
		free(h);
		return;
	}
	s->hold = h;
	log_info("sniff: banners of clients in hold4/6 held %u ms (queue %u)",
	    cs->banner_hold_ms, cs->hold_queue);
}

void
sniff_hold_close(struct sniff *s)
{
	struct sniff_hold *h = s->hold;

	if (h == NULL)
		return;
	/* Every held banner goes before the queue is let go (the kernel
	 * would drop what it still holds). */
	sniff_hold_release(s);
	queue_close(h->q);
	free(h->ring);
	free(h);
	s->hold = NULL;
}

size_t
sniff_hold_count(const struct sniff *s)
{
	return s->hold != NULL ? s->hold->n : 0;
}
