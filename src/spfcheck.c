/*
 * spfcheck.c - the client of the SPF helpers: checks queued, shared,
 * capped, run by workers that never wait on the network, their deaths
 * survived (contract in spfcheck.h; the helpers are spfproc.c).
 *
 * Workers never wait for DNS.  libspf2 resolves synchronously, so a worker
 * that waited for a slow nameserver would be lost to every other check for
 * as long as it waits.  Instead each job keeps the answers it has been
 * given (its cache).  When a worker asks for something the job does not
 * have, it is told PENDING: it abandons the run at once (every later lookup
 * fails without asking) and reports the run incomplete.  The job fetches
 * the answer through c-ares on the loop, parked, holding no worker; once
 * the answer is in, the job is queued again and the next run replays the
 * check with every answer so far from the cache, up to the next unknown
 * one.  A check with k lookups costs k+1 short runs (libspf2 evaluates a
 * record in microseconds) and no worker time spent waiting: a nameserver
 * that never answers delays only the checks that need it, until their
 * deadlines.
 *
 * Ownership.  A job is created by spfcheck_query and lives until it is
 * answered and nothing refers to it any more: not the FIFO, not a worker,
 * not a fetch (c-ares cannot cancel; the fetch's callback finds the job).
 * It is answered once (its waiters called, oldest first), possibly before
 * its worker or its fetch is done with it.  A client entry counts the jobs
 * of one client prefix and lists them for sharing; it goes with its last
 * job.  Resolver contexts are ours alone: a replaced one is freed once
 * none of our fetches is left on it.
 *
 * Everything a helper sends is checked (spfwire_decode, the id of the job
 * it runs, one question at a time, the lookup budget, the name and type,
 * INCOMPLETE only after a PENDING): a worker that breaks the protocol is
 * killed, as is one still running SPFCHECK_KILL_GRACE_MS after its job's
 * deadline.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns.h"
#include "log.h"
#include "siphash.h"
#include "spfcheck.h"
#include "spfproc.h"
#include "spfwire.h"

#define SPFCHECK_CLIENT_BUCKETS	1024
#define SPFCHECK_START_WAIT_MS	5000	/* for the first worker at start */
#define SPFCHECK_CACHE_BYTES	(256 * 1024)	/* answers kept per job */

enum spfcheck_state {
	SPFCHECK_QUEUED,	/* in the FIFO */
	SPFCHECK_RUNNING,	/* on a worker */
	SPFCHECK_PARKED,	/* waiting for its fetch, holding nothing */
	SPFCHECK_OVER,		/* answered; waiting for a fetch to return */
};

struct spfcheck_waiter {
	struct spfcheck_waiter *next;
	spfcheck_cb cb;
	void *arg;
};

/* One answer a job was given: replayed to every later run. */
struct spfcheck_answer {
	uint16_t qtype;
	uint8_t status;			/* enum spfwire_dns_status */
	uint16_t len;
	char name[SPFWIRE_NAME_MAX];
	uint8_t *bytes;			/* len bytes, or NULL */
};

struct spfcheck_client {
	struct spfcheck_client *next;	/* hash chain */
	struct addr key;		/* the address, or its /64 */
	unsigned n;			/* jobs of this client */
	unsigned running;		/* of them on a worker */
	struct spfcheck_job *jobs;	/* linked by cnext */
};

struct spfcheck_job {
	struct spfcheck *s;
	uint32_t id;
	enum spfcheck_state state;
	bool answered;
	bool fetching;			/* a fetch is out */
	bool starved;			/* out of budget or memory: every
					 * answer not kept fails */
	struct spfcheck_job *qnext;	/* FIFO */
	struct spfcheck_job *cnext;	/* its client's jobs */
	struct spfcheck_client *cl;
	struct spfwire_check chk;
	int64_t deadline_ms;
	struct ev_timer *timer;		/* the deadline */
	struct spfcheck_waiter *waiters, **wtail;
	struct spfcheck_answer *ans;	/* the cache */
	size_t nans, capans, ans_bytes;
	struct spfcheck_answer want;	/* the fetch (name, type) */
	unsigned runs;
};

struct spfcheck_worker {
	struct spfcheck *s;
	unsigned slot;
	int fd;				/* -1: no worker in the slot */
	pid_t pid;
	struct spfcheck_job *job;	/* the run under way, or NULL: idle */
	bool pending_told;		/* this run was told PENDING */
	bool question;			/* a question awaits its answer */
	struct ev_timer *timer;		/* kill grace past the deadline */
};

struct spfcheck {
	struct evloop *ev;
	struct dns *dns, *old_dns;	/* current; replaced, draining */
	unsigned dns_out, old_dns_out;	/* our fetches on each */
	unsigned max_per_client;
	unsigned max_running;		/* workers one client may hold */
	pid_t sup_pid;
	int ctl;			/* the supervisor's control socket */
	bool sup_dead;
	bool ctl_registered;		/* ctl is in the event loop */
	bool freeing;
	bool failing;			/* in a streak of worker trouble */
	unsigned nworkers;
	struct spfcheck_worker w[SPFPROC_WORKERS_MAX];
	struct spfcheck_job *qhead, **qtail;
	size_t nqueued, njobs;
	struct spfcheck_client *bucket[SPFCHECK_CLIENT_BUCKETS];
	struct siphash_key hash_key;	/* for the client table */
	uint32_t next_id;
	struct ev_timer *pump;		/* a pump is due */
	uint8_t buf[SPFWIRE_MSG_MAX];
	struct spfcheck_stats st;
};

struct spfcheck_fetch {
	struct spfcheck *s;
	struct dns *dns;		/* the context it went to */
	struct spfcheck_job *j;
};

static void spfcheck_pump_soon(struct spfcheck *s);
static void spfcheck_worker_gone(struct spfcheck *s, struct spfcheck_worker *w,
    bool kill_it, const char *why);

static enum spfcheck_result
spfcheck_from_wire(uint8_t r)
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

/* ---- clients ---- */

/* The client's key: IPv4 address, IPv6 /64 (one host's usual share). */
static void
spfcheck_client_key(const struct addr *a, struct addr *key)
{
	*key = *a;
	if (a->family == AF_INET6)
		memset(key->b + 8, 0, 8);
}

/* Keyed with a random key at start: an attacker cannot aim for a chain. */
static size_t
spfcheck_client_slot(const struct spfcheck *s, const struct addr *key)
{
	return addr_hash(&s->hash_key, key) & (SPFCHECK_CLIENT_BUCKETS - 1);
}

static struct spfcheck_client *
spfcheck_client_find(struct spfcheck *s, const struct addr *key)
{
	for (struct spfcheck_client *c = s->bucket[spfcheck_client_slot(s,
	    key)]; c != NULL; c = c->next)
		if (addr_eq(&c->key, key))
			return c;
	return NULL;
}

static void
spfcheck_client_unlink(struct spfcheck *s, struct spfcheck_client *c)
{
	struct spfcheck_client **p = &s->bucket[spfcheck_client_slot(s,
	    &c->key)];

	for (; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c);
}

/* ---- jobs ---- */

/* Call every waiter once, oldest first. */
static void
spfcheck_answer(struct spfcheck *s, struct spfcheck_job *j,
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

/* Free j once it is answered and nothing holds it. */
static void
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
		spfcheck_client_unlink(s, c);
	for (size_t i = 0; i < j->nans; i++)
		free(j->ans[i].bytes);
	free(j->ans);
	free(j);
	s->njobs--;
}

static void
spfcheck_enqueue(struct spfcheck *s, struct spfcheck_job *j, bool front)
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
	spfcheck_pump_soon(s);
}

static const struct spfcheck_answer *
spfcheck_cached(const struct spfcheck_job *j, uint16_t qtype,
    const char *name)
{
	for (size_t i = 0; i < j->nans; i++)
		if (j->ans[i].qtype == qtype &&
		    strcasecmp(j->ans[i].name, name) == 0)
			return &j->ans[i];
	return NULL;
}

/* Keep an answer for the job's later runs.  0, or -1 (budget, memory). */
static int
spfcheck_cache_put(struct spfcheck_job *j, const struct spfcheck_answer *a,
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

/* ---- workers ---- */

static int
spfcheck_send(int fd, const struct spfwire_msg *m, uint8_t *buf)
{
	size_t n = spfwire_encode(m, buf, SPFWIRE_MSG_MAX);

	if (n == 0)
		return -1;
	return send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n ?
	    0 : -1;
}

/* Worker trouble is logged once per streak, which a good answer ends. */
static void
spfcheck_trouble(struct spfcheck *s, pid_t pid, const char *what)
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
spfcheck_worker_idle(struct spfcheck *s, struct spfcheck_worker *w)
{
	struct spfcheck_job *j = w->job;

	if (w->timer != NULL) {
		evloop_timer_cancel(s->ev, w->timer);
		w->timer = NULL;
	}
	w->job = NULL;
	w->pending_told = false;
	w->question = false;
	if (j != NULL) {
		j->cl->running--;
		j->state = SPFCHECK_OVER;
		if (!j->answered && j->fetching)
			j->state = SPFCHECK_PARKED;
		else if (!j->answered)
			spfcheck_enqueue(s, j, true);	/* a fetch came back */
		spfcheck_job_release(s, j);
	}
	spfcheck_pump_soon(s);
}

static void
spfcheck_kill_grace(void *arg)
{
	struct spfcheck_worker *w = arg;

	w->timer = NULL;
	w->s->st.kills++;
	spfcheck_worker_gone(w->s, w, true, "was still running 2 s past its "
	    "check's deadline");
}

/*
 * The worker of w is gone (or is to go): its socket closed, its job
 * answered temperror, the supervisor asked to kill it when kill_it.
 */
static void
spfcheck_worker_gone(struct spfcheck *s, struct spfcheck_worker *w,
    bool kill_it, const char *why)
{
	if (w->fd < 0)
		return;
	if (kill_it && !s->sup_dead) {
		struct spfwire_msg m = { .type = SPFWIRE_KILL };

		m.u.worker.slot = w->slot;
		m.u.worker.pid = (int32_t)w->pid;
		if (spfcheck_send(s->ctl, &m, s->buf) == -1)
			log_warn("spf: ask the supervisor to kill worker %d",
			    (int)w->pid);
	}
	if (kill_it)
		spfcheck_trouble(s, w->pid, why);
	evloop_fd_del(s->ev, w->fd);
	close(w->fd);
	w->fd = -1;
	s->st.workers_up--;
	/* Its check alone answers temperror; the others go on. */
	if (w->job != NULL)
		spfcheck_answer(s, w->job, SPFCHECK_TEMPERROR);
	spfcheck_worker_idle(s, w);
}

static void spfcheck_fetched(void *arg, enum dns_status st,
    const unsigned char *abuf, size_t alen);

/* May a helper ask this?  A name as DNS carries it, a type SPF uses. */
static bool
spfcheck_question_ok(const struct spfwire_dnsq *q)
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

/* Fetch j's wanted answer on the loop; the job holds no worker. */
static void
spfcheck_fetch(struct spfcheck *s, struct spfcheck_job *j)
{
	struct spfcheck_fetch *f = malloc(sizeof(*f));

	s->st.dns_queries++;
	if (f == NULL) {
		/* No fetch: what the job does not have yet fails. */
		j->starved = true;
		if (j->state == SPFCHECK_PARKED)
			spfcheck_enqueue(s, j, true);
		return;
	}
	f->s = s;
	f->dns = s->dns;
	f->j = j;
	j->fetching = true;
	s->dns_out++;
	/* The answer comes from the loop, never inside (dns.h). */
	dns_query_raw(s->dns, j->want.name, j->want.qtype, j->deadline_ms,
	    spfcheck_fetched, f);
}

static void
spfcheck_old_dns_free(void *arg)
{
	struct spfcheck *s = arg;

	if (s->old_dns != NULL && s->old_dns_out == 0) {
		dns_free(s->old_dns);
		s->old_dns = NULL;
	}
}

static void
spfcheck_fetched(void *arg, enum dns_status st, const unsigned char *abuf,
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
	    evloop_defer(s->ev, spfcheck_old_dns_free, s) == -1) {
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
	    spfcheck_cache_put(j, &a, abuf) == -1)
		j->starved = true;	/* past the job's budget */
	if (j->state == SPFCHECK_PARKED && !j->answered && !s->freeing) {
		spfcheck_enqueue(s, j, true);
		return;
	}
	if (j->state == SPFCHECK_PARKED)
		j->state = SPFCHECK_OVER;
	spfcheck_job_release(s, j);
}

static void
spfcheck_worker_dnsq(struct spfcheck *s, struct spfcheck_worker *w,
    const struct spfwire_msg *m)
{
	struct spfcheck_job *j = w->job;
	struct spfwire_msg a = { .type = SPFWIRE_DNSA, .id = m->id };
	const struct spfcheck_answer *c;

	if (j->answered) {
		a.u.dnsa.status = SPFWIRE_DNS_ERROR;	/* too late */
	} else if (!spfcheck_question_ok(&m->u.dnsq)) {
		/* A name no DNS server holds. */
		a.u.dnsa.status = SPFWIRE_DNS_NXDOMAIN;
	} else if ((c = spfcheck_cached(j, m->u.dnsq.qtype,
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
	if (spfcheck_send(w->fd, &a, s->buf) == -1) {
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
		spfcheck_worker_idle(s, w);	/* parked or queued again */
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
		spfcheck_answer(s, j, spfcheck_from_wire(r->result));
	}
	spfcheck_worker_idle(s, w);
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

/* ---- the supervisor ---- */

static const char *
spfcheck_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "ended (status %#x)", (unsigned)status);
	return buf;
}

static void
spfcheck_worker_up(struct spfcheck *s, const struct spfwire_msg *m, int fd)
{
	struct spfcheck_worker *w;
	struct stat sb;

	if (m->u.worker.slot >= s->nworkers || fd < 0 ||
	    fstat(fd, &sb) == -1 || !S_ISSOCK(sb.st_mode) ||
	    m->u.worker.pid <= 0) {
		s->st.protocol++;
		log_warnx("spf: the supervisor announced a bad worker (slot %u "
		    "of %u, pid %d, fd %d%s)", (unsigned)m->u.worker.slot,
		    (unsigned)s->nworkers, (int)m->u.worker.pid, fd,
		    fd >= 0 ? ", not a socket" : "");
		if (fd >= 0)
			close(fd);
		return;
	}
	w = &s->w[m->u.worker.slot];
	if (w->fd >= 0)
		spfcheck_worker_gone(s, w, true, "was replaced");
	if (evloop_fd_add(s->ev, fd, EPOLLIN, spfcheck_worker_readable, w) ==
	    -1) {
		log_warn("spf: epoll add worker %d", (int)m->u.worker.pid);
		close(fd);
		return;
	}
	w->fd = fd;
	w->pid = (pid_t)m->u.worker.pid;
	s->st.workers_up++;
	log_debug("spf: worker %u is pid %d", w->slot, (int)w->pid);
	spfcheck_pump_soon(s);
}

static void
spfcheck_worker_down(struct spfcheck *s, const struct spfwire_msg *m)
{
	struct spfcheck_worker *w;
	char how[96];

	if (m->u.worker.slot >= s->nworkers)
		return;
	w = &s->w[m->u.worker.slot];
	spfcheck_status(m->u.worker.status, how, sizeof(how));
	/* A retired worker exits 0 with nothing to do: not news. */
	if (!(WIFEXITED(m->u.worker.status) &&
	    WEXITSTATUS(m->u.worker.status) == 0)) {
		s->st.deaths++;
		spfcheck_trouble(s, (pid_t)m->u.worker.pid, how);
	}
	if (w->fd >= 0 && w->pid == (pid_t)m->u.worker.pid)
		spfcheck_worker_gone(s, w, false, how);
}

static void
spfcheck_sup_dead(struct spfcheck *s)
{
	if (s->sup_dead)
		return;
	s->sup_dead = true;
	if (!s->freeing)
		log_warnx("spf: the helper supervisor exited; SPF checks "
		    "answer temperror until the daemon restarts");
	if (s->ctl_registered)
		evloop_fd_del(s->ev, s->ctl);
	s->ctl_registered = false;
	spfcheck_pump_soon(s);
}

/* One message from the supervisor, with the descriptor it carries. */
static int
spfcheck_ctl_read(struct spfcheck *s, bool block)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { .iov_base = s->buf, .iov_len = sizeof(s->buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	struct spfwire_msg m;
	const char *why;
	int fd = -1, nfd = 0;
	ssize_t n;

	n = recvmsg(s->ctl, &mh, MSG_CMSG_CLOEXEC | (block ? 0 :
	    MSG_DONTWAIT));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c != NULL;
	    c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; CMSG_LEN((i + 1) * sizeof(int)) <=
		    c->cmsg_len; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (nfd++ == 0)
				fd = f;
			else
				close(f);
		}
	}
	if (n <= 0) {
		if (fd >= 0)
			close(fd);
		spfcheck_sup_dead(s);
		return -1;
	}
	why = nfd > 1 ? "more than one descriptor" :
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? "truncated" : NULL;
	if (why == NULL && spfwire_decode(s->buf, (size_t)n, &m, &why) == -1 &&
	    why == NULL)
		why = "undecodable";
	if (why == NULL && (m.type == SPFWIRE_WORKER_UP) != (fd >= 0))
		why = fd >= 0 ? "a descriptor with a message that takes none" :
		    "a worker without its descriptor";
	if (why != NULL) {
		s->st.protocol++;
		log_warnx("spf: bad message of %zd bytes from the supervisor: "
		    "%s", n, why);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (m.type == SPFWIRE_WORKER_UP)
		spfcheck_worker_up(s, &m, fd);
	else if (m.type == SPFWIRE_WORKER_DOWN)
		spfcheck_worker_down(s, &m);
	return 1;
}

static void
spfcheck_ctl_readable(int fd, uint32_t events, void *arg)
{
	struct spfcheck *s = arg;

	(void)fd;
	(void)events;
	while (!s->sup_dead && spfcheck_ctl_read(s, false) > 0)
		;
}

/* ---- the queue ---- */

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
	spfcheck_answer(s, j, SPFCHECK_TEMPERROR);
	if (j->state == SPFCHECK_RUNNING) {
		/* Its worker gets a grace to finish, then goes. */
		for (unsigned i = 0; i < s->nworkers; i++) {
			struct spfcheck_worker *w = &s->w[i];

			if (w->job == j && w->timer == NULL)
				w->timer = evloop_timer_at(s->ev,
				    evloop_now_ms(s->ev) +
				    SPFCHECK_KILL_GRACE_MS,
				    spfcheck_kill_grace, w);
		}
		return;
	}
	if (j->state == SPFCHECK_PARKED)
		j->state = SPFCHECK_OVER;
	if (j->state == SPFCHECK_QUEUED)
		spfcheck_pump_soon(s);	/* it leaves the FIFO there */
	spfcheck_job_release(s, j);
}

/* Hand waiting jobs to idle workers, a client at most max_running at
 * once; drop what was answered while waiting. */
static void
spfcheck_pump(void *arg)
{
	struct spfcheck *s = arg;
	struct spfcheck_job **p = &s->qhead, *j;

	s->pump = NULL;
	while ((j = *p) != NULL) {
		struct spfcheck_worker *w = NULL;
		struct spfwire_msg m;
		int64_t now = evloop_now_ms(s->ev);

		if (j->answered || s->sup_dead) {
			*p = j->qnext;
			s->nqueued--;
			spfcheck_answer(s, j, SPFCHECK_TEMPERROR);
			j->state = SPFCHECK_OVER;
			spfcheck_job_release(s, j);
			continue;
		}
		for (unsigned i = 0; i < s->nworkers && w == NULL; i++)
			if (s->w[i].fd >= 0 && s->w[i].job == NULL)
				w = &s->w[i];
		if (w == NULL)
			break;
		if (j->cl->running >= s->max_running) {
			p = &j->qnext;	/* its client has its share now */
			continue;
		}
		*p = j->qnext;
		s->nqueued--;
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
		if (spfcheck_send(w->fd, &m, s->buf) == -1)
			spfcheck_worker_gone(s, w, true,
			    "could not be written to");
		p = &s->qhead;	/* the list may have changed */
	}
	/* The tail pointer follows the last job still queued. */
	s->qtail = &s->qhead;
	while (*s->qtail != NULL)
		s->qtail = &(*s->qtail)->qnext;
}

static void
spfcheck_pump_soon(struct spfcheck *s)
{
	if (s->pump == NULL && !s->freeing)
		s->pump = evloop_timer_at(s->ev, evloop_now_ms(s->ev),
		    spfcheck_pump, s);
}

/*
 * A new job: libspf2's first question is always the TXT record of the
 * identity's domain, so fetch it before any worker runs the job (one run
 * saved per check); the job waits parked, holding nothing.  A name the
 * helpers could not ask for goes to the queue as it is.
 */
static void
spfcheck_prefetch(struct spfcheck *s, struct spfcheck_job *j)
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
	if (!spfcheck_question_ok(&q)) {
		spfcheck_enqueue(s, j, false);
		return;
	}
	memset(&j->want, 0, sizeof(j->want));
	j->want.qtype = ns_t_txt;
	memcpy(j->want.name, q.name, sizeof(j->want.name));
	j->state = SPFCHECK_PARKED;
	spfcheck_fetch(s, j);
}

int
spfcheck_query(struct spfcheck *s, const struct spfcheck_req *q,
    spfcheck_cb cb, void *arg)
{
	struct spfcheck_client *c;
	struct spfcheck_waiter *wt;
	struct spfcheck_job *j;
	struct addr key;
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
	spfcheck_client_key(&q->client, &key);
	if ((c = spfcheck_client_find(s, &key)) != NULL) {
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
			free(wt);
			s->st.refused++;
			errno = EAGAIN;
			return -1;
		}
	}
	if (s->njobs >= SPFCHECK_QUEUE_MAX ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		free(wt);
		s->st.refused++;
		errno = EAGAIN;
		return -1;
	}
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			free(wt);
			free(j);
			return -1;
		}
		c->key = key;
		c->next = s->bucket[spfcheck_client_slot(s, &key)];
		s->bucket[spfcheck_client_slot(s, &key)] = c;
	}
	if ((j->timer = evloop_timer_at(s->ev, q->deadline_ms,
	    spfcheck_job_deadline, j)) == NULL) {
		if (c->n == 0)
			spfcheck_client_unlink(s, c);
		free(wt);
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
	spfcheck_prefetch(s, j);
	return 0;
}

/* ---- set-up ---- */

struct spfcheck *
spfcheck_new(struct evloop *ev, const struct conf_dns *dns,
    const struct spfcheck_opts *o, char *info, char *err, size_t errlen)
{
	struct spfproc_opts po;
	struct spfcheck *s;
	int64_t until;

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
	/* Wait for the first worker: a sandbox that cannot be built stops
	 * the start, with the supervisor's reason on stderr. */
	until = evloop_clock_us() / 1000 + SPFCHECK_START_WAIT_MS;
	while (s->st.workers_up == 0) {
		struct pollfd pfd = { .fd = s->ctl, .events = POLLIN };
		int64_t left = until - evloop_clock_us() / 1000;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 ||
		    spfcheck_ctl_read(s, true) == -1) {
			snprintf(err, errlen, "spf: the helper processes did "
			    "not start (their reason, if any, is on stderr)");
			spfcheck_free(s);
			return NULL;
		}
	}
	if (evloop_fd_add(ev, s->ctl, EPOLLIN, spfcheck_ctl_readable, s) ==
	    -1) {
		snprintf(err, errlen, "spf: epoll add: %s", strerror(errno));
		spfcheck_free(s);
		return NULL;
	}
	s->ctl_registered = true;
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
	struct spfcheck_job *j;

	if (s == NULL)
		return;
	if (s->pump != NULL)
		evloop_timer_cancel(s->ev, s->pump);
	s->pump = NULL;
	s->freeing = true;
	/* Answer everything now; nothing waits for libspf2. */
	while ((j = s->qhead) != NULL) {
		s->qhead = j->qnext;
		j->state = SPFCHECK_OVER;
		spfcheck_answer(s, j, SPFCHECK_CANCELLED);
		spfcheck_job_release(s, j);
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct spfcheck_worker *w = &s->w[i];

		if (w->timer != NULL)
			evloop_timer_cancel(s->ev, w->timer);
		w->timer = NULL;
		if ((j = w->job) != NULL) {
			w->job = NULL;
			j->state = SPFCHECK_OVER;
			spfcheck_answer(s, j, SPFCHECK_CANCELLED);
			spfcheck_job_release(s, j);
		}
		if (w->fd >= 0) {
			evloop_fd_del(s->ev, w->fd);
			close(w->fd);
			w->fd = -1;
		}
	}
	/* Parked jobs: answered now, freed as their fetches come back
	 * cancelled from dns_free below. */
	for (size_t b = 0; b < SPFCHECK_CLIENT_BUCKETS; b++)
		for (struct spfcheck_client *c = s->bucket[b]; c != NULL;
		    c = c->next)
			for (j = c->jobs; j != NULL; j = j->cnext)
				spfcheck_answer(s, j, SPFCHECK_CANCELLED);
	if (s->old_dns != NULL)
		dns_free(s->old_dns);
	if (s->dns != NULL)
		dns_free(s->dns);
	if (s->njobs != 0)
		log_warnx("spf: %zu checks left at shutdown", s->njobs);
	if (s->ctl >= 0) {
		if (s->ctl_registered)
			evloop_fd_del(s->ev, s->ctl);
		close(s->ctl);	/* the supervisor kills its workers, exits */
	}
	/* Reap it when it is ours (not after a daemon's fork), briefly. */
	for (int i = 0; s->sup_pid > 0 && i < 40; i++) {
		pid_t r = waitpid(s->sup_pid, NULL, WNOHANG);

		if (r == s->sup_pid || (r == -1 && errno == ECHILD))
			break;
		if (i == 39) {
			kill(s->sup_pid, SIGKILL);
			(void)waitpid(s->sup_pid, NULL, 0);
			break;
		}
		usleep(25000);
	}
	free(s);
}
