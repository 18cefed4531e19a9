/*
 * spfcheck.c - the client of the SPF helpers: set-up, shutdown, reload
 * and the entry points of spfcheck.h (the contract; what the other
 * spfcheck_*.c files do is listed in spfcheck_int.h; the helpers are
 * spfproc.c).
 *
 * Checks are queued, shared, capped (spfcheck_job.c), run by workers that
 * never wait on the network (spfcheck_worker.c: why), their DNS answers
 * fetched on the loop (spfcheck_fetch.c), the workers' deaths survived
 * (spfcheck_sup.c).
 *
 * Set-up order (spfcheck_new): the helper id (sandbox_pick), our own
 * resolver context, the supervisor forked (spfproc_spawn, before the
 * caller sheds its privileges), then a blocking wait for the first worker
 * and the control socket into the loop.  Shutdown (spfcheck_free) never
 * waits on libspf2: every check is answered SPFCHECK_CANCELLED, the
 * workers' sockets closed, the resolver contexts freed (their fetches come
 * back cancelled), the supervisor's socket closed and the supervisor
 * reaped.  The names of the results are spfcheck_name.c's (pure, kept
 * when the scenario tests' fake takes the place of the spfcheck_*.c
 * files that do I/O).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "log.h"
#include "spfcheck_int.h"

int
spfcheck_send(struct spfcheck *s, int fd, const struct spfwire_msg *m)
{
	size_t n = spfwire_encode(m, s->buf, SPFWIRE_MSG_MAX);

	if (n == 0)
		return -1;
	return send(fd, s->buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)n ? 0 : -1;
}

int
spfcheck_query(struct spfcheck *s, const struct spfcheck_req *q,
    spfcheck_cb cb, void *arg)
{
	struct spfcheck_waiter *wt;
	uint8_t ident = q->mail_from == NULL ? SPFWIRE_ID_HELO :
	    SPFWIRE_ID_MAILFROM;
	const char *sender = q->mail_from != NULL ? q->mail_from : "";

	if (strlen(q->helo) >= SPFWIRE_NAME_MAX ||
	    strlen(sender) >= SPFWIRE_SENDER_MAX ||
	    (q->client.family != AF_INET && q->client.family != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	if ((wt = malloc(sizeof(*wt))) == NULL)
		return -1;
	wt->next = NULL;
	wt->cb = cb;
	wt->arg = arg;
	if (spfcheck_job_add(s, q, ident, sender, wt) == -1) {
		free(wt);
		return -1;
	}
	return 0;
}

struct spfcheck *
spfcheck_new(struct evloop *ev, const struct conf_dns *dns,
    const struct spfcheck_opts *o, char *info, char *err, size_t errlen)
{
	struct spfproc_opts po;
	struct spfcheck *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "spf: out of memory");
		return NULL;
	}
	s->ev = ev;
	s->ctl = -1;
	s->qtail = &s->qhead;
	s->nworkers = o->workers;
	spfcheck_set_max_per_client(s, o->max_per_client);
	for (unsigned i = 0; i < SPFPROC_WORKERS_MAX; i++) {
		s->w[i].s = s;
		s->w[i].slot = i;
		s->w[i].fd = -1;
	}
	if (siphash_key_random(&s->hash_key) == -1) {
		snprintf(err, errlen, "spf: getrandom: %s", strerror(errno));
		free(s);
		return NULL;
	}
	memset(&po, 0, sizeof(po));
	po.workers = o->workers;
	po.screen = o->screen;
	if (sandbox_pick(o->user, &po.id, err, errlen) == -1) {
		free(s);
		return NULL;
	}
	if ((s->dns = dns_new(ev, dns, err, errlen)) == NULL) {
		free(s);
		return NULL;
	}
	if (spfproc_spawn(&po, &s->ctl, &s->sup_pid, err, errlen) == -1) {
		dns_free(s->dns);
		free(s);
		return NULL;
	}
	if (!po.id.own) {
		/* Helpers of our own uid must not be able to trace us. */
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	if (spfcheck_sup_wait(s, err, errlen) == -1) {
		spfcheck_free(s);
		return NULL;
	}
	if (info != NULL)
		snprintf(info, 128, "spf helpers: %u workers, uid %u%s",
		    o->workers, (unsigned)po.id.uid, po.id.dynamic ?
		    " (dynamic)" : po.id.own ? "" : " (the daemon's own: "
		    "no CAP_SETUID/CAP_SETGID to give them one)");
	return s;
}

int
spfcheck_set_dns(struct spfcheck *s, const struct conf_dns *dns, char *err,
    size_t errlen)
{
	struct dns *nd = dns_new(s->ev, dns, err, errlen);

	if (nd == NULL)
		return -1;
	if (s->old_dns != NULL) {
		/* A second change before the first drained: those fetches
		 * answer DNS_CANCELLED now. */
		struct dns *od = s->old_dns;

		s->old_dns = NULL;
		s->old_dns_out = 0;
		dns_free(od);
	}
	s->old_dns = s->dns;
	s->old_dns_out = s->dns_out;
	s->dns = nd;
	s->dns_out = 0;
	if (s->old_dns_out == 0) {
		dns_free(s->old_dns);
		s->old_dns = NULL;
	}
	return 0;
}

void
spfcheck_set_max_per_client(struct spfcheck *s, unsigned n)
{
	s->max_per_client = n ? n : 1;
	/* One client never holds more than half the workers. */
	s->max_running = s->nworkers / 2 ? s->nworkers / 2 : 1;
	if (s->max_running > s->max_per_client)
		s->max_running = s->max_per_client;
}

const struct spfcheck_stats *
spfcheck_stats(const struct spfcheck *s)
{
	return &s->st;
}

void
spfcheck_free(struct spfcheck *s)
{
	if (s == NULL)
		return;
	if (s->pump != NULL)
		evloop_timer_cancel(s->ev, s->pump);
	s->pump = NULL;
	s->freeing = true;
	/* Answer everything now; nothing waits for libspf2. */
	spfcheck_job_cancel_all(s);
	if (s->old_dns != NULL)
		dns_free(s->old_dns);
	if (s->dns != NULL)
		dns_free(s->dns);
	if (s->njobs != 0)
		log_warnx("spf: %zu checks left at shutdown", s->njobs);
	spfcheck_sup_close(s);
	free(s);
}
