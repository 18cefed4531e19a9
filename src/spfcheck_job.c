/*
 * spfcheck_job.c - the jobs of the SPF helpers' client: one evaluation
 * each, shared by the queries of the same question from the same client,
 * capped per client prefix, queued for the workers and answered once
 * (contract in spfcheck_int.h).
 *
 * Ownership.  A job is created by spfcheck_job_add and lives until it is
 * answered and nothing refers to it any more: not the FIFO, not a worker,
 * not a fetch (c-ares cannot cancel; the fetch's callback finds the job).
 * It is answered once (its waiters called, oldest first), possibly before
 * its worker or its fetch is done with it; spfcheck_job_release frees it
 * when the last of them lets go.  A client entry counts the jobs of one
 * client prefix (an IPv4 address, an IPv6 /64) and lists them for
 * sharing; it goes with its last job.
 *
 * The FIFO holds the jobs waiting for a worker.  The pump runs from the
 * loop (a zero timer), never inside the call that queued a job: it hands
 * jobs to idle workers in order, skipping a job whose client already
 * holds max_running workers, and drops the jobs answered while waiting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "log.h"
#include "spfcheck_int.h"

#define SPFCHECK_CACHE_BYTES	(256 * 1024)	/* answers kept per job */

/* ---- clients ---- */

/* The client's key: IPv4 address, IPv6 /64 (one host's usual share). */
static void
spfcheck_job_client_key(const struct addr *a, struct addr *key)
{
	*key = *a;
	if (a->family == AF_INET6)
		memset(key->b + 8, 0, 8);
}

/* Keyed with a random key at start: an attacker cannot aim for a chain. */
static size_t
spfcheck_job_client_slot(const struct spfcheck *s, const struct addr *key)
{
	return addr_hash(&s->hash_key, key) & (SPFCHECK_CLIENT_BUCKETS - 1);
}

static struct spfcheck_client *
spfcheck_job_client_find(struct spfcheck *s, const struct addr *key)
{
	for (struct spfcheck_client *c = s->bucket[spfcheck_job_client_slot(s,
	    key)]; c != NULL; c = c->next)
		if (addr_eq(&c->key, key))
			return c;
	return NULL;
}

static void
spfcheck_job_client_unlink(struct spfcheck *s, struct spfcheck_client *c)
{
	struct spfcheck_client **p = &s->bucket[spfcheck_job_client_slot(s,
	    &c->key)];

	for (; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c);
}

/* ---- jobs ---- */

void
spfcheck_job_answer(struct spfcheck *s, struct spfcheck_job *j,
    enum spfcheck_result r)
{
	struct spfcheck_waiter *wt, *next;

	if (j->answered)
		return;
	j->answered = true;
	if (j->timer != NULL) {
		evloop_timer_cancel(s->ev, j->timer);
		j->timer = NULL;
	}
	if (r == SPFCHECK_TEMPERROR || r == SPFCHECK_PERMERROR)
		log_debug("spf: %s for %s", spfcheck_name(r),
		    j->chk.identity == SPFWIRE_ID_HELO ? j->chk.helo :
		    j->chk.sender);
	for (wt = j->waiters; wt != NULL; wt = next) {
		next = wt->next;
		wt->cb(wt->arg, r);
		free(wt);
	}
	j->waiters = NULL;
	j->wtail = &j->waiters;
}

void
spfcheck_job_release(struct spfcheck *s, struct spfcheck_job *j)
{
	struct spfcheck_client *c = j->cl;

	if (!j->answered || j->fetching || j->state == SPFCHECK_QUEUED ||
	    j->state == SPFCHECK_RUNNING)
		return;
	for (struct spfcheck_job **p = &c->jobs; *p != NULL;
	    p = &(*p)->cnext)
		if (*p == j) {
			*p = j->cnext;
			break;
		}
	if (--c->n == 0)
		spfcheck_job_client_unlink(s, c);
	for (size_t i = 0; i < j->nans; i++)
		free(j->ans[i].bytes);
	free(j->ans);
	free(j);
	s->njobs--;
}

const struct spfcheck_answer *
spfcheck_job_cached(const struct spfcheck_job *j, uint16_t qtype,
    const char *name)
{
	for (size_t i = 0; i < j->nans; i++)
		if (j->ans[i].qtype == qtype &&
		    strcasecmp(j->ans[i].name, name) == 0)
			return &j->ans[i];
	return NULL;
}

int
spfcheck_job_keep(struct spfcheck_job *j, const struct spfcheck_answer *a,
    const unsigned char *bytes)
{
	struct spfcheck_answer *e;

	if (j->nans == j->capans) {
		size_t cap = j->capans ? j->capans * 2 : 8;

		if (cap > SPFPROC_DNS_MAX)
			cap = SPFPROC_DNS_MAX;
		if (cap <= j->nans ||
		    (e = realloc(j->ans, cap * sizeof(*e))) == NULL)
			return -1;
		j->ans = e;
		j->capans = cap;
	}
	e = &j->ans[j->nans];
	*e = *a;
	e->bytes = NULL;
	if (a->len > 0) {
		if (j->ans_bytes + a->len > SPFCHECK_CACHE_BYTES ||
		    (e->bytes = malloc(a->len)) == NULL)
			return -1;
		memcpy(e->bytes, bytes, a->len);
		j->ans_bytes += a->len;
	}
	j->nans++;
	return 0;
}

static void
spfcheck_job_deadline(void *arg)
{
	struct spfcheck_job *j = arg;
	struct spfcheck *s = j->s;

	j->timer = NULL;
	if (j->state == SPFCHECK_QUEUED)
		s->st.expired++;
	else
		s->st.timeouts++;
	spfcheck_job_answer(s, j, SPFCHECK_TEMPERROR);
	if (j->state == SPFCHECK_RUNNING) {
		/* Its worker gets a grace to finish, then goes. */
		spfcheck_worker_grace(s, j);
		return;
	}
	if (j->state == SPFCHECK_PARKED)
		j->state = SPFCHECK_OVER;
	if (j->state == SPFCHECK_QUEUED)
		spfcheck_job_pump_soon(s);	/* it leaves the FIFO there */
	spfcheck_job_release(s, j);
}

int
spfcheck_job_add(struct spfcheck *s, const struct spfcheck_req *q,
    uint8_t ident, const char *sender, struct spfcheck_waiter *wt)
{
	struct spfcheck_client *c;
	struct spfcheck_job *j;
	struct addr key;

	spfcheck_job_client_key(&q->client, &key);
	if ((c = spfcheck_job_client_find(s, &key)) != NULL) {
		for (j = c->jobs; j != NULL; j = j->cnext) {
			if (j->answered || j->chk.identity != ident ||
			    !addr_eq(&j->chk.client, &q->client) ||
			    strcmp(j->chk.helo, q->helo) != 0 ||
			    strcmp(j->chk.sender, sender) != 0)
				continue;
			/* The same question: one answer serves both. */
			*j->wtail = wt;
			j->wtail = &wt->next;
			s->st.joined++;
			return 0;
		}
		if (c->n >= s->max_per_client) {
			s->st.refused++;
			errno = EAGAIN;
			return -1;
		}
	}
	if (s->njobs >= SPFCHECK_QUEUE_MAX ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		s->st.refused++;
		errno = EAGAIN;
		return -1;
	}
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			free(j);
			return -1;
		}
		c->key = key;
		c->next = s->bucket[spfcheck_job_client_slot(s, &key)];
		s->bucket[spfcheck_job_client_slot(s, &key)] = c;
	}
	if ((j->timer = evloop_timer_at(s->ev, q->deadline_ms,
	    spfcheck_job_deadline, j)) == NULL) {
		if (c->n == 0)
			spfcheck_job_client_unlink(s, c);
		free(j);
		return -1;
	}
	j->s = s;
	j->id = ++s->next_id;
	j->cl = c;
	j->cnext = c->jobs;
	c->jobs = j;
	c->n++;
	s->njobs++;
	j->chk.identity = ident;
	j->chk.client = q->client;
	memcpy(j->chk.helo, q->helo, strlen(q->helo) + 1);
	memcpy(j->chk.sender, sender, strlen(sender) + 1);
	j->deadline_ms = q->deadline_ms;
	j->waiters = wt;
	j->wtail = &wt->next;
	spfcheck_fetch_first(s, j);
	return 0;
}

/* ---- the queue ---- */

void
spfcheck_job_enqueue(struct spfcheck *s, struct spfcheck_job *j, bool front)
{
	j->state = SPFCHECK_QUEUED;
	if (front) {
		j->qnext = s->qhead;
		s->qhead = j;
		if (s->qtail == &s->qhead)
			s->qtail = &j->qnext;
	} else {
		j->qnext = NULL;
		*s->qtail = j;
		s->qtail = &j->qnext;
	}
	s->nqueued++;
	spfcheck_job_pump_soon(s);
}

/* Hand waiting jobs to idle workers, a client at most max_running at
 * once; drop what was answered while waiting. */
static void
spfcheck_job_pump(void *arg)
{
	struct spfcheck *s = arg;
	struct spfcheck_job **p = &s->qhead, *j;

	s->pump = NULL;
	while ((j = *p) != NULL) {
		struct spfcheck_worker *w;

		if (j->answered || s->sup_dead) {
			*p = j->qnext;
			s->nqueued--;
			spfcheck_job_answer(s, j, SPFCHECK_TEMPERROR);
			j->state = SPFCHECK_OVER;
			spfcheck_job_release(s, j);
			continue;
		}
		if ((w = spfcheck_worker_find_idle(s)) == NULL)
			break;
		if (j->cl->running >= s->max_running) {
			p = &j->qnext;	/* its client has its share now */
			continue;
		}
		*p = j->qnext;
		s->nqueued--;
		spfcheck_worker_run(s, w, j);
		p = &s->qhead;	/* the list may have changed */
	}
	/* The tail pointer follows the last job still queued. */
	s->qtail = &s->qhead;
	while (*s->qtail != NULL)
		s->qtail = &(*s->qtail)->qnext;
}

void
spfcheck_job_pump_soon(struct spfcheck *s)
{
	if (s->pump == NULL && !s->freeing)
		s->pump = evloop_timer_at(s->ev, evloop_now_ms(s->ev),
		    spfcheck_job_pump, s);
}

void
spfcheck_job_cancel_all(struct spfcheck *s)
{
	struct spfcheck_job *j;

	while ((j = s->qhead) != NULL) {
		s->qhead = j->qnext;
		j->state = SPFCHECK_OVER;
		spfcheck_job_answer(s, j, SPFCHECK_CANCELLED);
		spfcheck_job_release(s, j);
	}
	spfcheck_worker_close_all(s);
	/* Parked jobs: answered now, freed as their fetches come back
	 * cancelled from dns_free. */
	for (size_t b = 0; b < SPFCHECK_CLIENT_BUCKETS; b++)
		for (struct spfcheck_client *c = s->bucket[b]; c != NULL;
		    c = c->next)
			for (j = c->jobs; j != NULL; j = j->cnext)
				spfcheck_job_answer(s, j, SPFCHECK_CANCELLED);
}
