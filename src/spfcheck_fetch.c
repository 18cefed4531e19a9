/*
 * spfcheck_fetch.c - the DNS answers the SPF workers need, fetched by the
 * client through c-ares on the loop while the job is parked, holding no
 * worker (contract in spfcheck_int.h; why in spfcheck_worker.c).
 *
 * A check with k lookups costs k+1 short runs (libspf2 evaluates a record
 * in microseconds) and no worker time spent waiting: a nameserver that
 * never answers delays only the checks that need it, until their
 * deadlines.  The first question of a check is always the TXT record of
 * its identity's domain, so a new job fetches it before any worker runs
 * it (spfcheck_fetch_first: one run saved per check).
 *
 * Ownership.  A fetch (struct spfcheck_fetch) is ours until its callback,
 * which c-ares always calls (DNS_CANCELLED from dns_free at shutdown); it
 * names the resolver context it went to.  The contexts are ours alone: a
 * context replaced on reload (spfcheck_set_dns) is freed, from the loop,
 * once none of our fetches is left on it.
 */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spfcheck_int.h"

struct spfcheck_fetch {
	struct spfcheck *s;
	struct dns *dns;		/* the context it went to */
	struct spfcheck_job *j;
};

static void spfcheck_fetch_done(void *arg, enum dns_status st,
    const unsigned char *abuf, size_t alen);

bool
spfcheck_fetch_ok(const struct spfwire_dnsq *q)
{
	size_t n = strlen(q->name), label = 0;

	switch (q->qtype) {
	case ns_t_a: case ns_t_aaaa: case ns_t_mx: case ns_t_txt:
	case ns_t_ptr:
		break;
	default:
		return false;
	}
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)q->name[i];

		if (ch <= ' ' || ch >= 0x7f || ch == '\\')
			return false;
		if (ch == '.') {
			if (label == 0)
				return false;	/* an empty label */
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return true;
}

void
spfcheck_fetch(struct spfcheck *s, struct spfcheck_job *j)
{
	struct spfcheck_fetch *f = malloc(sizeof(*f));

	s->st.dns_queries++;
	if (f == NULL) {
		/* No fetch: what the job does not have yet fails. */
		j->starved = true;
		if (j->state == SPFCHECK_PARKED)
			spfcheck_job_enqueue(s, j, true);
		return;
	}
	f->s = s;
	f->dns = s->dns;
	f->j = j;
	j->fetching = true;
	s->dns_out++;
	/* The answer comes from the loop, never inside (dns.h). */
	dns_query_raw(s->dns, j->want.name, j->want.qtype, j->deadline_ms,
	    spfcheck_fetch_done, f);
}

/*
 * A new job: libspf2's first question is always the TXT record of the
 * identity's domain, so fetch it before any worker runs the job (one run
 * saved per check); the job waits parked, holding nothing.  A name the
 * helpers could not ask for goes to the queue as it is.
 */
void
spfcheck_fetch_first(struct spfcheck *s, struct spfcheck_job *j)
{
	const char *dom = j->chk.helo, *at;
	struct spfwire_dnsq q;

	if (j->chk.identity == SPFWIRE_ID_MAILFROM && j->chk.sender[0] != '\0')
		dom = (at = strrchr(j->chk.sender, '@')) != NULL ? at + 1 :
		    j->chk.sender;
	memset(&q, 0, sizeof(q));
	q.qtype = ns_t_txt;
	if (strlen(dom) < sizeof(q.name))
		memcpy(q.name, dom, strlen(dom) + 1);
	if (!spfcheck_fetch_ok(&q)) {
		spfcheck_job_enqueue(s, j, false);
		return;
	}
	memset(&j->want, 0, sizeof(j->want));
	j->want.qtype = ns_t_txt;
	memcpy(j->want.name, q.name, sizeof(j->want.name));
	j->state = SPFCHECK_PARKED;
	spfcheck_fetch(s, j);
}

static void
spfcheck_fetch_old_dns_free(void *arg)
{
	struct spfcheck *s = arg;

	if (s->old_dns != NULL && s->old_dns_out == 0) {
		dns_free(s->old_dns);
		s->old_dns = NULL;
	}
}

static void
spfcheck_fetch_done(void *arg, enum dns_status st, const unsigned char *abuf,
    size_t alen)
{
	struct spfcheck_fetch *f = arg;
	struct spfcheck *s;
	struct spfcheck_job *j;
	struct spfcheck_answer a;

	s = f->s;
	j = f->j;
	if (f->dns == s->dns) {
		s->dns_out--;
	} else if (--s->old_dns_out == 0 && !s->freeing &&
	    evloop_defer(s->ev, spfcheck_fetch_old_dns_free, s) == -1) {
		log_warn("spf: evloop_defer the free of the replaced resolver "
		    "context (freed at shutdown)");
	}
	free(f);
	j->fetching = false;
	a = j->want;
	a.len = 0;
	switch (st) {
	case DNS_OK:
		a.status = alen <= SPFWIRE_ANSWER_MAX ? SPFWIRE_DNS_OK :
		    SPFWIRE_DNS_ERROR;
		a.len = alen <= SPFWIRE_ANSWER_MAX ? (uint16_t)alen : 0;
		break;
	case DNS_NXDOMAIN:
		a.status = SPFWIRE_DNS_NXDOMAIN;
		break;
	case DNS_NODATA:
		a.status = SPFWIRE_DNS_NODATA;
		break;
	default:
		a.status = SPFWIRE_DNS_ERROR;
		break;
	}
	if (!j->answered && !s->freeing &&
	    spfcheck_job_keep(j, &a, abuf) == -1)
		j->starved = true;	/* past the job's budget */
	if (j->state == SPFCHECK_PARKED && !j->answered && !s->freeing) {
		spfcheck_job_enqueue(s, j, true);
		return;
	}
	if (j->state == SPFCHECK_PARKED)
		j->state = SPFCHECK_OVER;
	spfcheck_job_release(s, j);
}
