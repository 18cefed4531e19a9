/*
 * sniff_rtt.c - the times of each session's handshake, for the round-trip
 * part of pregreet (smtpproto.h; contract in sniff_int.h).
 *
 * The ruleset copies (nft `log group`, never a queue: nothing of the
 * server is held) the server's reply packet 1 of each gated session (its
 * SYN-ACK) and the client's packet 2 (the handshake's ACK) to the
 * nfnetlink_log group numbered as [sniffer] queue; nflog.c reads them,
 * in batches (the kernel sends what it has every 10 ms, or at 64 copies:
 * one wake-up for many sessions).  Each copy lands here, in a record
 * keyed by the session's 4-tuple, usually before the session has a flow
 * (the flow starts at the client's first queued packet, its packet 3 or
 * later).  The session's first data (sniff_rtt_first) is judged at once
 * when the record is complete (the ACK's copy is in: the SYN-ACK's comes
 * before it, in the kernel's order); else the flow waits, and the ACK's
 * copy, when it comes, is judged against it (sniff_rtt_copy, from the
 * loop, after the data's verdict: never inside the queue callback).
 *
 * What a copy is:
 *   out, SYN+ACK          the SYN-ACK: when it was read (the kernel
 *                         stamps no outgoing copy: at or after it left,
 *                         so the round trip comes out no longer than it
 *                         was) and the server's ISN; a second one (a
 *                         retransmission) spoils the times
 *   in, ACK, no data      the handshake's ACK: the kernel's own time of
 *                         it (moved to CLOCK_MONOTONIC by the lag between
 *                         its CLOCK_REALTIME stamp and the reading), the
 *                         ISN again
 *   in, other             a retransmitted SYN, data on the ACK: spoiled
 *   anything else         not ours
 *
 * Memory: at most max_flows records, in a hash table keyed with a random
 * key (an attacker cannot aim for a chain) and one list oldest first; the
 * oldest goes when a new session needs the room, a judged record at
 * once, and one no flow took within SNIFF_RTT_TTL_MS at the tick.  A flow
 * keeps no pointer to its record: it looks it up by its 4-tuple.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>

#include "log.h"
#include "nflog.h"
#include "pkt.h"
#include "sniff_int.h"

#define SNIFF_RTT_BUCKETS	16384	/* power of two */
#define SNIFF_RTT_TTL_MS	30000	/* an untaken record lasts this long */
#define SNIFF_RTT_LAG_MAX_US	1000000	/* an input copy's reading lag
					 * past this: its stamp is no use */
#define SNIFF_RTT_COPY_BYTES	128	/* the rules' snaplen; the copies go
					 * to the group numbered as the
					 * sniffer's queue */

struct sniff_rtt_rec {
	struct sniff_rtt_rec *next;		/* hash chain */
	struct sniff_rtt_rec *older, *newer;	/* the age list */
	struct addr client, local;
	uint16_t cport, lport;
	int64_t born_ms;
	bool spoiled;			/* times that cannot be trusted */
	bool acked;			/* the handshake ACK's copy came */
	struct smtpproto_times t;
};

struct sniff_rtt {
	struct sniff_rtt_rec **bucket;
	struct sniff_rtt_rec *head, *tail;	/* oldest first */
	size_t n;
};

int
sniff_rtt_init(struct sniff *s)
{
	if ((s->rtt = calloc(1, sizeof(*s->rtt))) == NULL ||
	    (s->rtt->bucket = calloc(SNIFF_RTT_BUCKETS,
	    sizeof(*s->rtt->bucket))) == NULL) {
		free(s->rtt);
		s->rtt = NULL;
		return -1;
	}
	return 0;
}

static struct sniff_rtt_rec **
sniff_rtt_slot(struct sniff *s, const struct addr *client, uint16_t cport,
    uint16_t lport)
{
	return &s->rtt->bucket[addr_hash_ports(&s->flow_key, client, cport,
	    lport) & (SNIFF_RTT_BUCKETS - 1)];
}

static struct sniff_rtt_rec *
sniff_rtt_find(struct sniff *s, const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport)
{
	for (struct sniff_rtt_rec *r = *sniff_rtt_slot(s, client, cport,
	    lport); r != NULL; r = r->next)
		if (r->cport == cport && r->lport == lport &&
		    addr_eq(&r->client, client) && addr_eq(&r->local, local))
			return r;
	return NULL;
}

static void
sniff_rtt_free(struct sniff *s, struct sniff_rtt_rec *r)
{
	struct sniff_rtt *t = s->rtt;
	struct sniff_rtt_rec **p = sniff_rtt_slot(s, &r->client, r->cport,
	    r->lport);

	for (; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	if (r->older != NULL)
		r->older->newer = r->newer;
	else
		t->head = r->newer;
	if (r->newer != NULL)
		r->newer->older = r->older;
	else
		t->tail = r->older;
	t->n--;
	free(r);
}

static struct sniff_rtt_rec *
sniff_rtt_new(struct sniff *s, const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport)
{
	struct sniff_rtt *t = s->rtt;
	struct sniff_rtt_rec *r, **slot;

	if (t->n >= s->conf.sniffer.max_flows && t->head != NULL) {
		s->st.rtt_evicted++;
		sniff_rtt_free(s, t->head);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->client = *client;
	r->local = *local;
	r->cport = cport;
	r->lport = lport;
	r->born_ms = evloop_now_ms(s->ev);
	slot = sniff_rtt_slot(s, client, cport, lport);
	r->next = *slot;
	*slot = r;
	r->older = t->tail;
	if (t->tail != NULL)
		t->tail->newer = r;
	else
		t->head = r;
	t->tail = r;
	t->n++;
	return r;
}

static int64_t
sniff_rtt_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The server's packet, going out to the client: its SYN-ACK. */
static void
sniff_rtt_out(struct sniff_rtt_rec *r, const struct pkt *p, int64_t read_us)
{
	uint8_t fl = p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST);

	if (fl != (PKT_TCP_SYN | PKT_TCP_ACK))
		return;
	if (r->t.synack_us != 0 || (r->t.have_isn && r->t.isn != p->seq)) {
		r->spoiled = true;	/* retransmitted */
		return;
	}
	r->t.synack_us = read_us;
	r->t.isn = p->seq;
	r->t.have_isn = true;
}

/* The client's packet 2, coming in: the handshake's ACK. */
static void
sniff_rtt_in(struct sniff_rtt_rec *r, const struct nflog_packet *lp,
    const struct pkt *p, int64_t read_us)
{
	int64_t lag;

	if ((p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_RST | PKT_TCP_ACK)) !=
	    PKT_TCP_ACK || p->payload_len > 0 || p->truncated) {
		r->spoiled = true;
		return;
	}
	if (r->t.have_isn && p->ack != r->t.isn + 1) {
		r->spoiled = true;
		return;
	}
	r->t.isn = p->ack - 1;
	r->t.have_isn = true;
	r->acked = true;
	if (!lp->has_ts)
		return;
	lag = sniff_rtt_realtime_us() - lp->ts_us;
	if (lag >= 0 && lag < SNIFF_RTT_LAG_MAX_US)
		r->t.ack_us = read_us - lag;
}

/*
 * Judge flow f's first data (f->rtt_at_us, f->rtt_ack) with record r,
 * once the record is complete (the ACK's copy is in, or r is spoiled),
 * or now for what the ISN alone proves.  The finding made (0: none, or
 * not yet); a complete record is freed and the flow waits no more.
 */
static unsigned
sniff_rtt_judge(struct sniff *s, struct sniff_flow *f, struct sniff_rtt_rec *r)
{
	struct smtpproto_times t = r->t;
	bool complete = r->acked || r->spoiled;
	unsigned n;

	if (r->spoiled)
		t.synack_us = t.ack_us = 0;
	if (!complete)
		t.synack_us = t.ack_us = 0;	/* the ISN's proof only */
	n = smtpproto_times_judge(&f->proto, &t, f->rtt_at_us, f->rtt_ack);
	if (complete || n != 0) {
		f->rtt_wait = false;
		sniff_rtt_free(s, r);
	}
	return n;
}

void
sniff_rtt_copy(void *arg, const struct nflog_packet *lp, int64_t read_us)
{
	struct sniff *s = arg;
	struct sniff_rtt_rec *r;
	struct sniff_flow *f;
	struct pkt p;
	const char *why;
	bool out;

	s->st.rtt_copies++;
	if (lp->payload == NULL || pkt_parse(lp->payload, lp->len, &p,
	    &why) == -1) {
		s->st.rtt_malformed++;
		return;
	}
	out = lp->hook == NF_INET_LOCAL_OUT || lp->hook == NF_INET_POST_ROUTING;
	if (out) {
		r = sniff_rtt_find(s, &p.dst, p.dport, &p.src, p.sport);
		if (r == NULL && (r = sniff_rtt_new(s, &p.dst, p.dport,
		    &p.src, p.sport)) == NULL)
			return;
		sniff_rtt_out(r, &p, read_us);
	} else {
		r = sniff_rtt_find(s, &p.src, p.sport, &p.dst, p.dport);
		if (r == NULL && (r = sniff_rtt_new(s, &p.src, p.sport,
		    &p.dst, p.dport)) == NULL)
			return;
		sniff_rtt_in(r, lp, &p, read_us);
		/* A session whose first data came before this copy. */
		if ((f = sniff_flow_find(s, &p)) != NULL && f->rtt_wait &&
		    sniff_rtt_judge(s, f, r) != 0)
			sniff_read_pregreet(s, f);
	}
}

unsigned
sniff_rtt_first(struct sniff *s, struct sniff_flow *f, int64_t at_us,
    uint32_t ack)
{
	struct sniff_rtt_rec *r;
	unsigned n = 0;

	if (s->rtt == NULL)
		return 0;
	f->rtt_at_us = at_us;
	f->rtt_ack = ack;
	/* Its copies may still be in the kernel's batch: without a record,
	 * or with the SYN-ACK's only, it waits for the ACK's (a copy that
	 * never comes: the order test alone). */
	f->rtt_wait = true;
	if ((r = sniff_rtt_find(s, &f->src, f->sport, &f->dst, f->dport)) !=
	    NULL)
		n = sniff_rtt_judge(s, f, r);
	if (f->rtt_wait)
		s->st.rtt_waited++;
	return n;
}

void
sniff_rtt_expire(struct sniff *s, int64_t now_ms)
{
	while (s->rtt != NULL && s->rtt->head != NULL &&
	    now_ms - s->rtt->head->born_ms >= SNIFF_RTT_TTL_MS)
		sniff_rtt_free(s, s->rtt->head);
}

void
sniff_rtt_free_all(struct sniff *s)
{
	if (s->rtt == NULL)
		return;
	while (s->rtt->head != NULL)
		sniff_rtt_free(s, s->rtt->head);
	free(s->rtt->bucket);
	free(s->rtt);
	s->rtt = NULL;
}

size_t
sniff_rtt_count(const struct sniff *s)
{
	return s->rtt != NULL ? s->rtt->n : 0;
}

void
sniff_rtt_open(struct sniff *s)
{
	bool want = s->conf.sniffer.rule[RULE_PREGREET] != ACTION_OFF &&
	    s->conf.sniffer.packets > 0;
	char err[256];

	if (!want) {
		sniff_rtt_close(s);
		return;
	}
	if (s->nflog != NULL)
		return;
	s->nflog = nflog_open(s->ev, s->conf.sniffer.queue,
	    SNIFF_RTT_COPY_BYTES, sniff_rtt_copy, s, err, sizeof(err));
	if (s->nflog == NULL)
		log_warnx("sniff: pregreet's round-trip test is off (the order "
		    "test goes on): %s", err);
}

void
sniff_rtt_close(struct sniff *s)
{
	nflog_close(s->nflog);
	s->nflog = NULL;
}
