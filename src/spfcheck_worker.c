/*
 * spfcheck_worker.c - the SPF workers as the client sees them: a slot per
 * worker (s->w[], SPFPROC_WORKERS_MAX), a run at a time on each (CHECK
 * out; DNSQ answered at once from the job's answers or with PENDING;
 * RESULT in), deaths and kills (contract in spfcheck_int.h).
 *
 * Workers never wait for DNS.  libspf2 resolves synchronously, so a worker
 * that waited for a slow nameserver would be lost to every other check for
 * as long as it waits.  Instead each job keeps the answers it has been
 * given (spfcheck_job_keep).  When a worker asks for something the job
 * does not have, it is told PENDING: it abandons the run at once (every
 * later lookup fails without asking) and reports the run incomplete.  The
 * job fetches the answer (spfcheck_fetch.c), parked, holding no worker;
 * once the answer is in, the job is queued again and the next run replays
 * the check with every answer so far, up to the next unknown one.
 *
 * Everything a worker sends is checked (spfwire_decode, the id of the job
 * it runs, the lookup budget, the name and type, no question after a
 * PENDING, INCOMPLETE only after a PENDING): a worker that breaks the
 * protocol is killed, as is one still running SPFCHECK_KILL_GRACE_MS after
 * its job's deadline.  Its socket is closed at once and its check alone
 * answers temperror; the supervisor (spfcheck_sup.c) starts another.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "spfcheck_int.h"

static enum spfcheck_result
spfcheck_worker_from_wire(uint8_t r)
{
	switch (r) {
	case SPFWIRE_R_PASS:		return SPFCHECK_PASS;
	case SPFWIRE_R_FAIL:		return SPFCHECK_FAIL;
	case SPFWIRE_R_SOFTFAIL:	return SPFCHECK_SOFTFAIL;
	case SPFWIRE_R_NEUTRAL:		return SPFCHECK_NEUTRAL;
	case SPFWIRE_R_NONE:		return SPFCHECK_NONE;
	case SPFWIRE_R_PERMERROR:	return SPFCHECK_PERMERROR;
	default:			return SPFCHECK_TEMPERROR;
	}
}

void
spfcheck_worker_trouble(struct spfcheck *s, pid_t pid, const char *what)
{
	if (s->failing)
		return;
	s->failing = true;
	log_warnx("spf: worker %d %s; the check it held answers temperror "
	    "(further trouble is counted, not logged, until a check is "
	    "answered again)", (int)pid, what);
}

/* The worker's run is over; its job goes where it belongs. */
static void
spfcheck_worker_done(struct spfcheck *s, struct spfcheck_worker *w)
{
	struct spfcheck_job *j = w->job;

	if (w->timer != NULL) {
		evloop_timer_cancel(s->ev, w->timer);
		w->timer = NULL;
	}
	w->job = NULL;
	w->pending_told = false;
	if (j != NULL) {
		j->cl->running--;
		j->state = SPFCHECK_OVER;
		if (!j->answered && j->fetching)
			j->state = SPFCHECK_PARKED;
		else if (!j->answered)
			spfcheck_job_enqueue(s, j, true); /* a fetch came back */
		spfcheck_job_release(s, j);
	}
	spfcheck_job_pump_soon(s);
}

void
spfcheck_worker_gone(struct spfcheck *s, struct spfcheck_worker *w,
    bool kill_it, const char *why)
{
	if (w->fd < 0)
		return;
	if (kill_it) {
		spfcheck_sup_kill(s, w);
		spfcheck_worker_trouble(s, w->pid, why);
	}
	evloop_fd_del(s->ev, w->fd);
	close(w->fd);
	w->fd = -1;
	s->st.workers_up--;
	/* Its check alone answers temperror; the others go on. */
	if (w->job != NULL)
		spfcheck_job_answer(s, w->job, SPFCHECK_TEMPERROR);
	spfcheck_worker_done(s, w);
}

static void
spfcheck_worker_kill_grace(void *arg)
{
	struct spfcheck_worker *w = arg;

	w->timer = NULL;
	w->s->st.kills++;
	spfcheck_worker_gone(w->s, w, true, "was still running 2 s past its "
	    "check's deadline");
}

void
spfcheck_worker_grace(struct spfcheck *s, struct spfcheck_job *j)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct spfcheck_worker *w = &s->w[i];

		if (w->job == j && w->timer == NULL)
			w->timer = evloop_timer_at(s->ev, evloop_now_ms(s->ev) +
			    SPFCHECK_KILL_GRACE_MS, spfcheck_worker_kill_grace,
			    w);
	}
}

/* A question of w's run: answered from its job's answers, or PENDING and
 * fetched, or refused. */
static void
spfcheck_worker_dnsq(struct spfcheck *s, struct spfcheck_worker *w,
    const struct spfwire_msg *m)
{
	struct spfcheck_job *j = w->job;
	struct spfwire_msg a = { .type = SPFWIRE_DNSA, .id = m->id };
	const struct spfcheck_answer *c;

	if (j->answered) {
		a.u.dnsa.status = SPFWIRE_DNS_ERROR;	/* too late */
	} else if (!spfcheck_fetch_ok(&m->u.dnsq)) {
		/* A name no DNS server holds. */
		a.u.dnsa.status = SPFWIRE_DNS_NXDOMAIN;
	} else if ((c = spfcheck_job_cached(j, m->u.dnsq.qtype,
	    m->u.dnsq.name)) != NULL) {
		a.u.dnsa.status = c->status;
		a.u.dnsa.len = c->len;
		a.u.dnsa.answer = c->bytes;
	} else if (j->nans >= SPFPROC_DNS_MAX || j->fetching || j->starved) {
		a.u.dnsa.status = SPFWIRE_DNS_ERROR;	/* over budget */
	} else {
		/* Not known yet: stop this run, fetch it, run again. */
		a.u.dnsa.status = SPFWIRE_DNS_PENDING;
		memset(&j->want, 0, sizeof(j->want));
		j->want.qtype = m->u.dnsq.qtype;
		memcpy(j->want.name, m->u.dnsq.name,
		    strlen(m->u.dnsq.name) + 1);
		w->pending_told = true;
	}
	if (spfcheck_send(s, w->fd, &a) == -1) {
		spfcheck_worker_gone(s, w, true, "could not be written to");
		return;
	}
	if (a.u.dnsa.status == SPFWIRE_DNS_PENDING)
		spfcheck_fetch(s, j);
}

static void
spfcheck_worker_result(struct spfcheck *s, struct spfcheck_worker *w,
    const struct spfwire_result *r)
{
	struct spfcheck_job *j = w->job;

	if (r->flags & SPFWIRE_RF_INCOMPLETE) {
		s->st.replays++;
		spfcheck_worker_done(s, w);	/* parked or queued again */
		return;
	}
	if (r->flags & SPFWIRE_RF_SCREENED)
		s->st.screened++;
	if (!j->answered) {
		if (s->failing) {
			log_info("spf: checks are answered again (%llu "
			    "worker deaths, %llu kills so far)",
			    (unsigned long long)s->st.deaths,
			    (unsigned long long)s->st.kills);
			s->failing = false;
		}
		if ((r->flags & SPFWIRE_RF_SCREENED) || log_get_verbose() > 0) {
			char ip[ADDR_STRLEN];

			log_info("spf: %s for %s from %s: %s",
			    spfwire_result_name(r->result),
			    j->chk.identity == SPFWIRE_ID_HELO ?
			    j->chk.helo : j->chk.sender,
			    addr_ntop(&j->chk.client, ip), r->reason);
		}
		spfcheck_job_answer(s, j, spfcheck_worker_from_wire(r->result));
	}
	spfcheck_worker_done(s, w);
}

static void
spfcheck_worker_readable(int fd, uint32_t events, void *arg)
{
	struct spfcheck_worker *w = arg;
	struct spfcheck *s = w->s;
	struct spfwire_msg m;
	const char *why = NULL;
	ssize_t n;

	(void)events;
	n = recv(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		spfcheck_worker_gone(s, w, false, "died");
		return;
	}
	if ((size_t)n > sizeof(s->buf))
		why = "oversized message";
	else if (spfwire_decode(s->buf, (size_t)n, &m, &why) == -1)
		;	/* why is set */
	else if (w->job == NULL || m.id != w->job->id)
		why = "message for no check of its own";
	else if (m.type == SPFWIRE_DNSQ && w->pending_told)
		why = "question after PENDING";
	else if (m.type == SPFWIRE_RESULT &&
	    ((m.u.result.flags & SPFWIRE_RF_INCOMPLETE) != 0) !=
	    w->pending_told)
		why = "INCOMPLETE without PENDING, or the reverse";
	else if (m.type != SPFWIRE_DNSQ && m.type != SPFWIRE_RESULT)
		why = "unexpected message type";
	if (why != NULL) {
		s->st.protocol++;
		log_warnx("spf: worker %d broke the protocol (%s)", (int)w->pid,
		    why);
		spfcheck_worker_gone(s, w, true, "broke the protocol");
		return;
	}
	if (m.type == SPFWIRE_DNSQ)
		spfcheck_worker_dnsq(s, w, &m);
	else
		spfcheck_worker_result(s, w, &m.u.result);
}

void
spfcheck_worker_attach(struct spfcheck *s, unsigned slot, pid_t pid, int fd)
{
	struct spfcheck_worker *w = &s->w[slot];

	if (w->fd >= 0)
		spfcheck_worker_gone(s, w, true, "was replaced");
	if (evloop_fd_add(s->ev, fd, EPOLLIN, spfcheck_worker_readable, w) ==
	    -1) {
		log_warn("spf: epoll add worker %d", (int)pid);
		close(fd);
		return;
	}
	w->fd = fd;
	w->pid = pid;
	s->st.workers_up++;
	log_debug("spf: worker %u is pid %d", w->slot, (int)w->pid);
	spfcheck_job_pump_soon(s);
}

struct spfcheck_worker *
spfcheck_worker_find_idle(struct spfcheck *s)
{
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->w[i].fd >= 0 && s->w[i].job == NULL)
			return &s->w[i];
	return NULL;
}

void
spfcheck_worker_run(struct spfcheck *s, struct spfcheck_worker *w,
    struct spfcheck_job *j)
{
	struct spfwire_msg m;
	int64_t now = evloop_now_ms(s->ev);

	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_CHECK;
	m.id = j->id;
	m.u.check = j->chk;
	m.u.check.deadline_ms = j->deadline_ms > now ?
	    (uint32_t)(j->deadline_ms - now) : 0;
	w->job = j;
	w->pending_told = false;
	j->state = SPFCHECK_RUNNING;
	j->cl->running++;
	if (j->runs++ == 0)
		s->st.checks++;
	if (spfcheck_send(s, w->fd, &m) == -1)
		spfcheck_worker_gone(s, w, true, "could not be written to");
}

void
spfcheck_worker_close_all(struct spfcheck *s)
{
	struct spfcheck_job *j;

	for (unsigned i = 0; i < s->nworkers; i++) {
		struct spfcheck_worker *w = &s->w[i];

		if (w->timer != NULL)
			evloop_timer_cancel(s->ev, w->timer);
		w->timer = NULL;
		if ((j = w->job) != NULL) {
			w->job = NULL;
			j->state = SPFCHECK_OVER;
			spfcheck_job_answer(s, j, SPFCHECK_CANCELLED);
			spfcheck_job_release(s, j);
		}
		if (w->fd >= 0) {
			evloop_fd_del(s->ev, w->fd);
			close(w->fd);
			w->fd = -1;
		}
	}
}
