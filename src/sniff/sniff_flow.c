/*
 * sniff_flow.c - the sessions smtpgate-sniffd follows: a hash table by
 * 4-tuple (keyed with a random key: an attacker cannot aim for a chain),
 * two LRU lists (oldest first), expiry, and the session record the
 * judgments share (contract in sniff_int.h).
 *
 * A flow being read is on s->reading; once done it moves to s->done,
 * keeps only its addresses (its reassembly buffer is freed) and lingers
 * SNIFF_DONE_LINGER_MS, to mark packets of its session that were queued
 * before the conntrack mark took effect; one that comes later finds no
 * flow and is marked as joined late (sniff_read.c).  A flow being read
 * ends on FIN or RST (sniff.c), when idle for flow_idle, or when
 * max_flows are followed and a new session needs the oldest place (done
 * flows go first).
 *
 * Memory: a flow owns its reassembly buffer and one reference on its
 * session; a judgment still running holds another, so the session
 * outlives its flow until the last judgment has concluded.  The table is
 * set up by sniff_flow_init and emptied by sniff_flow_free_all; s->bucket
 * itself is freed by sniff_free.
 */
#include <stdlib.h>

#include "sniff_int.h"

#define SNIFF_FLOW_BUCKETS	65536	/* power of two */
#define SNIFF_DONE_LINGER_MS	5000	/* a done flow is kept this long */

int
sniff_flow_init(struct sniff *s)
{
	s->nbuckets = SNIFF_FLOW_BUCKETS;
	s->bucket = calloc(s->nbuckets, sizeof(*s->bucket));
	return s->bucket != NULL ? 0 : -1;
}

static struct sniff_flow **
sniff_flow_slot(struct sniff *s, const struct addr *src, uint16_t sport,
    uint16_t dport)
{
	return &s->bucket[addr_hash_ports(&s->flow_key, src, sport, dport) &
	    (s->nbuckets - 1)];
}

struct sniff_flow *
sniff_flow_find(struct sniff *s, const struct pkt *p)
{
	for (struct sniff_flow *f = *sniff_flow_slot(s, &p->src, p->sport,
	    p->dport); f != NULL; f = f->next)
		if (f->sport == p->sport && f->dport == p->dport &&
		    addr_eq(&f->src, &p->src) && addr_eq(&f->dst, &p->dst))
			return f;
	return NULL;
}

static void
sniff_flow_lru_unlink(struct sniff_flow *f)
{
	struct sniff_lru *l = f->list;

	if (f->older != NULL)
		f->older->newer = f->newer;
	else
		l->head = f->newer;
	if (f->newer != NULL)
		f->newer->older = f->older;
	else
		l->tail = f->older;
	f->older = f->newer = NULL;
}

void
sniff_flow_touch(struct sniff *s, struct sniff_flow *f)
{
	struct sniff_lru *l = f->done ? &s->done : &s->reading;

	if (f->list != NULL)
		sniff_flow_lru_unlink(f);
	if (f->done && f->cmd != NULL) {
		free(f->cmd);
		f->cmd = NULL;
	}
	f->list = l;
	f->older = l->tail;
	f->newer = NULL;
	if (l->tail != NULL)
		l->tail->newer = f;
	else
		l->head = f;
	l->tail = f;
}

void
sniff_flow_session_unref(struct sniff_session *ss)
{
	if (--ss->refs == 0) {
		sniff_journal_end(ss);
		free(ss);
	}
}

void
sniff_flow_free(struct sniff *s, struct sniff_flow *f)
{
	struct sniff_flow **p = sniff_flow_slot(s, &f->src, f->sport,
	    f->dport);

	for (; *p != NULL; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	sniff_flow_lru_unlink(f);
	sniff_trickle_forget(s, f);
	if (f->rtt_wait)
		s->st.rtt_missing++;	/* its copies never came */
	sniff_flow_session_unref(f->ss);
	free(f->cmd);
	free(f);
	s->nflows--;
}

void
sniff_flow_free_all(struct sniff *s)
{
	while (s->reading.head != NULL)
		sniff_flow_free(s, s->reading.head);
	while (s->done.head != NULL)
		sniff_flow_free(s, s->done.head);
}

struct sniff_flow *
sniff_flow_new(struct sniff *s, const struct pkt *p)
{
	struct sniff_flow *f, **slot;

	if (s->nflows >= s->conf.sniffer.max_flows) {
		struct sniff_flow *old = s->done.head != NULL ? s->done.head :
		    s->reading.head;

		if (old != NULL) {
			s->st.evicted++;
			sniff_flow_free(s, old);
		}
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->ss = calloc(1, sizeof(*f->ss))) == NULL ||
	    (f->cmd = malloc(sizeof(*f->cmd))) == NULL) {
		free(f->ss);
		free(f);
		return NULL;
	}
	f->ss->refs = 1;
	f->ss->client = p->src;
	f->ss->local = p->dst;
	f->ss->cport = p->sport;
	f->ss->lport = p->dport;
	f->s = s;
	f->src = p->src;
	f->dst = p->dst;
	f->sport = p->sport;
	f->dport = p->dport;
	f->loss_gen = s->loss_gen;
	smtpcmd_init(f->cmd);
	smtpproto_init(&f->proto);
	slot = sniff_flow_slot(s, &p->src, p->sport, p->dport);
	f->next = *slot;
	*slot = f;
	sniff_flow_touch(s, f);
	s->nflows++;
	s->st.flows++;
	return f;
}

void
sniff_flow_expire(struct sniff *s, int64_t now)
{
	int64_t idle = (int64_t)s->conf.sniffer.flow_idle_s * 1000;
	unsigned judged = 0;

	while (s->reading.head != NULL &&
	    now - s->reading.head->last_ms >= idle) {
		struct sniff_flow *f = s->reading.head;

		s->st.expired++;
		/* Silent for flow_idle in the middle of its greeting: a
		 * pause past our memory would hide the rest. */
		if (f->suspect && judged++ < SNIFF_CT_PER_TICK) {
			sniff_trickle_end(s, f, true);
			continue;
		}
		sniff_flow_free(s, f);
	}
	while (s->done.head != NULL &&
	    now - s->done.head->last_ms >= SNIFF_DONE_LINGER_MS)
		sniff_flow_free(s, s->done.head);
}
