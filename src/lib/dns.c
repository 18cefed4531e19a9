/*
 * dns.c - c-ares driven by the event loop, and our own answer parser.
 *
 * c-ares 1.18 (Debian 12) has no event thread and no ares_process_fds, so
 * the glue is: the socket-state callback registers c-ares' sockets with
 * epoll; readiness calls ares_process_fd; one loop timer follows
 * ares_timeout and, when it fires, ares_process_fd with no sockets runs the
 * retransmits and timeouts.  Answers are parsed by dns_parse (dns_parse.c,
 * pure code the scenario tests' fake resolver uses too) into a fixed-size
 * struct dns_result, so callers never see wire data.
 *
 * Two channels.  The main one behaves as c-ares does by default (failover
 * across servers, TCP when an answer is truncated).  Measured here with a
 * hostile proxy (tests/tools/dnsproxy.py): when one query's UDP answer is
 * truncated and the server then closes the TCP connection, c-ares 1.18
 * resends that query over TCP once per try (so the connection fails again)
 * and ends every query outstanding on the server with ARES_ECONNREFUSED
 * within milliseconds; a SERVFAIL answer from the only server ends with
 * ARES_ECONNREFUSED too (ares_send's initial error_status: process_answer
 * sets none).  A query that ends with ARES_ECONNREFUSED before its
 * deadline is asked once more on the twin channel, a struct dns of its own
 * with ARES_FLAG_IGNTC (never TCP, so no answer can break a connection
 * other queries share) and ARES_FLAG_NOCHECKRESP (SERVFAIL and REFUSED
 * come back as themselves).  The query stays the main context's (stats,
 * inflight, retirement); the twin only carries it.
 *
 * Never inside the call (postscreen's rule, STYLE.md): c-ares 1.18 calls
 * a query's callback inside ares_query when it fails at once (a name it
 * cannot encode, no memory, no server), and one server's failure inside
 * ares_query may end other queries too.  Every callback that c-ares makes
 * while we are inside our own ares_query (d->calls) is held on the ready
 * list with its status and a copy of its answer, and delivered from the
 * loop: the dns timer is then armed for now, and its firing delivers the
 * ready list before c-ares' timeouts run.  A query whose context cannot
 * be allocated is held the same way, in the fixed nostart table, and
 * answered DNS_ERROR from the loop.  So dns_query_until, dns_query and
 * dns_query_raw never fail and never call back; dns_free delivers what is
 * still held as DNS_CANCELLED, with every outstanding query.
 *
 * Ownership: each query carries a small heap context freed after its
 * callback.  The channels are never destroyed inside a c-ares callback:
 * retiring defers destruction to the loop.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <ares.h>

#include "dns.h"
#include "log.h"

#define DNS_MAX_SOCKS	64
#define DNS_RCVBUF	(4 * 1024 * 1024)	/* NOTES: bursts lose answers below */
#define DNS_NOSTART_MAX	256	/* queries without memory, held for a turn */

/* A query that could not even be allocated: answered from the loop. */
struct dns_nostart {
	dns_cb cb;
	dns_raw_cb raw_cb;
	void *arg;
};

struct dns {
	struct evloop *ev;
	ares_channel ch;
	struct ev_timer *timer;		/* next c-ares timeout (now, when
					 * answers are held), or NULL */
	int64_t timer_ms;		/* when timer fires */
	int socks[DNS_MAX_SOCKS];	/* sockets registered with the loop */
	size_t nsocks;
	int retired;			/* free when inflight reaches 0 */
	int freeing;			/* inside dns_free */
	struct dns_stats st;		/* the main context's; unused in twin */
	struct dns *twin;		/* UDP-only channel for retries; NULL
					 * in the twin itself */
	int calls;			/* inside our own ares_query (either
					 * channel): callbacks are deferred */
	struct dns_query *ready_head;	/* answers deferred to the loop, */
	struct dns_query *ready_tail;	/* oldest first (main context only) */
	struct dns_nostart nostart[DNS_NOSTART_MAX];
	size_t nnostart;
};

struct dns_query {
	struct dns *d;			/* the main context, never the twin */
	enum dns_type type;
	int qtype;			/* on the wire (dns_type_wire) */
	dns_cb cb;
	dns_raw_cb raw_cb;		/* dns_query_raw: no parsing here */
	void *arg;
	int64_t deadline_ms;		/* no retry from then on; 0: none */
	bool retried;			/* asked again on the twin already */
	struct dns_query *rnext;	/* on the ready list */
	int status;			/* a deferred answer: c-ares' status, */
	unsigned char *abuf;		/* a copy of its message or NULL, */
	int alen;			/* and its length */
	char name[];			/* as asked, for the retry */
};

static void dns_schedule(struct dns *d);
static void dns_ready_run(struct dns *d, bool cancel);

static void
dns_io(int fd, uint32_t events, void *arg)
{
	struct dns *d = arg;
	ares_socket_t r = ARES_SOCKET_BAD, w = ARES_SOCKET_BAD;

	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		r = fd;
	if (events & EPOLLOUT)
		w = fd;
	ares_process_fd(d->ch, r, w);
	dns_schedule(d);
}

static void
dns_sock_state(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = arg;
	uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	size_t i;

	for (i = 0; i < d->nsocks; i++)
		if (d->socks[i] == fd)
			break;
	if (events == 0) {
		if (i == d->nsocks)
			return;
		evloop_fd_del(d->ev, fd);
		d->socks[i] = d->socks[--d->nsocks];
		return;
	}
	if (i < d->nsocks) {
		if (evloop_fd_mod(d->ev, fd, events) == -1)
			log_warn("dns: epoll mod socket %d", fd);
		return;
	}
	if (d->nsocks == DNS_MAX_SOCKS) {
		/* c-ares opens one socket per server, plus TCP: never this many. */
		log_warnx("dns: more than %d resolver sockets", DNS_MAX_SOCKS);
		return;
	}
	if (evloop_fd_add(d->ev, fd, events, dns_io, d) == -1) {
		log_warn("dns: epoll add socket %d", fd);
		return;
	}
	d->socks[d->nsocks++] = fd;
}

static void
dns_timer_fired(void *arg)
{
	struct dns *d = arg;

	d->timer = NULL;
	dns_ready_run(d, false);
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_schedule(d);
}

/* Keep the loop timer at c-ares' next timeout. */
static void
dns_schedule(struct dns *d)
{
	struct timeval tv, *tvp;
	int64_t when;

	if (d->freeing)
		return;
	tvp = ares_timeout(d->ch, NULL, &tv);
	if (d->ready_head != NULL || d->nnostart > 0) {
		/* Answers held for the loop: due at once. */
		when = evloop_now_ms(d->ev);
	} else if (tvp == NULL) {
		if (d->timer != NULL) {
			evloop_timer_cancel(d->ev, d->timer);
			d->timer = NULL;
		}
		return;
	} else {
		/* Round up: firing a millisecond early would spin on a busy
		 * loop. */
		when = evloop_now_ms(d->ev) + (int64_t)tvp->tv_sec * 1000 +
		    (tvp->tv_usec + 999) / 1000;
	}
	if (d->timer != NULL) {
		if (d->timer_ms <= when)
			return;		/* fires early enough; c-ares re-arms */
		evloop_timer_cancel(d->ev, d->timer);
	}
	d->timer = evloop_timer_at(d->ev, when, dns_timer_fired, d);
	d->timer_ms = when;
	if (d->timer == NULL)
		log_warnx("dns: out of memory for a timer");
}

/* One channel: c-ares with our loop glue and the given extra flags. */
static struct dns *
dns_open(struct evloop *ev, const struct conf_dns *c, int flags, char *err,
    size_t errlen)
{
	struct ares_options o;
	struct dns *d;
	int rc, mask;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		return NULL;
	}
	d->ev = ev;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = dns_sock_state;
	o.sock_state_cb_data = d;
	o.timeout = (int)c->timeout_ms;
	o.tries = (int)c->tries;
	o.socket_receive_buffer_size = DNS_RCVBUF;
	o.flags = flags;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_RCVBUF;
	if (flags != 0)
		mask |= ARES_OPT_FLAGS;
	rc = ares_init_options(&d->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "dns: ares_init_options: %s",
		    ares_strerror(rc));
		free(d);
		return NULL;
	}
	if (c->servers[0] != '\0') {
		rc = ares_set_servers_ports_csv(d->ch, c->servers);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "dns: resolvers '%s': %s",
			    c->servers, ares_strerror(rc));
			ares_destroy(d->ch);
			free(d);
			return NULL;
		}
	}
	return d;
}

static void dns_destroy(struct dns *d);

struct dns *
dns_new(struct evloop *ev, const struct conf_dns *c, char *err, size_t errlen)
{
	struct dns *d;

	/*
	 * STAYOPEN: c-ares otherwise closes its sockets whenever no query is
	 * outstanding and opens them again for the next one (10 system calls
	 * each time; a third of the SPF helpers' DNS cost in bench_spf).
	 */
	if ((d = dns_open(ev, c, ARES_FLAG_STAYOPEN, err, errlen)) == NULL)
		return NULL;
	d->twin = dns_open(ev, c, ARES_FLAG_STAYOPEN | ARES_FLAG_IGNTC |
	    ARES_FLAG_NOCHECKRESP, err, errlen);
	if (d->twin == NULL) {
		dns_destroy(d);
		return NULL;
	}
	return d;
}

static void
dns_destroy(struct dns *d)
{
	d->freeing = 1;
	if (d->timer != NULL) {
		evloop_timer_cancel(d->ev, d->timer);
		d->timer = NULL;
	}
	/* Outstanding callbacks run now, with ARES_EDESTRUCTION. */
	ares_destroy(d->ch);
	for (size_t i = 0; i < d->nsocks; i++)
		evloop_fd_del(d->ev, d->socks[i]);
	/* The twin's queries belong to d: their callbacks still count in
	 * d's stats, so d goes last. */
	if (d->twin != NULL)
		dns_destroy(d->twin);
	/* Answers held for the loop are cancelled like the rest. */
	dns_ready_run(d, true);
	free(d);
}

void
dns_free(struct dns *d)
{
	if (d != NULL)
		dns_destroy(d);
}

static void
dns_retired_free(void *arg)
{
	dns_destroy(arg);
}

void
dns_retire(struct dns *d)
{
	d->retired = 1;
	if (d->st.inflight == 0 && evloop_defer(d->ev, dns_retired_free, d))
		log_warnx("dns: cannot retire resolver context");
}

/* ---- queries ---- */

static void dns_answer(void *arg, int status, int timeouts,
    unsigned char *abuf, int alen);

/* ares_query on channel ch for q, from the main context d: whatever c-ares
 * answers inside is deferred (dns_answer sees d->calls). */
static void
dns_ares_query(struct dns *d, ares_channel ch, struct dns_query *q)
{
	d->calls++;
	ares_query(ch, q->name, ns_c_in, q->qtype, dns_answer, q);
	d->calls--;
}

/*
 * Ask q again on the twin channel, once, before its deadline: c-ares gave
 * up on it with ECONNREFUSED (a server connection failed, or every server
 * answered SERVFAIL/REFUSED).  true when asked.
 */
static bool
dns_retry(struct dns_query *q)
{
	struct dns *d = q->d;

	if (q->retried || d->twin == NULL || d->freeing)
		return false;
	if (q->deadline_ms > 0 && evloop_now_ms(d->ev) >= q->deadline_ms)
		return false;
	q->retried = true;
	d->st.retries++;
	/* Another channel: safe inside a callback of the main one. */
	dns_ares_query(d, d->twin->ch, q);
	dns_schedule(d->twin);
	dns_schedule(d);
	return true;
}

static void
dns_query_done(struct dns_query *q)
{
	struct dns *d = q->d;

	free(q);
	if (d->retired && d->st.inflight == 0 && !d->freeing &&
	    evloop_defer(d->ev, dns_retired_free, d) == -1)
		log_warnx("dns: cannot retire resolver context");
}

static void
dns_answer_raw(struct dns_query *q, int status, const unsigned char *abuf,
    int alen)
{
	struct dns *d = q->d;
	enum dns_status st;

	switch (status) {
	case ARES_SUCCESS:
		/* A truncated answer (the twin channel never goes to TCP)
		 * may lack records: not an answer. */
		st = abuf != NULL && alen >= 12 && !(abuf[2] & 0x02) ?
		    DNS_OK : DNS_ERROR;
		break;
	case ARES_ENOTFOUND:
		st = DNS_NXDOMAIN;
		break;
	case ARES_ENODATA:
		st = DNS_NODATA;
		break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		st = DNS_CANCELLED;
		break;
	case ARES_ETIMEOUT:
		d->st.timeouts++;
		/* FALLTHROUGH */
	default:
		st = DNS_ERROR;
		break;
	}
	if (st == DNS_ERROR)
		d->st.errors++;
	else
		d->st.answers++;
	d->st.inflight--;
	if (st == DNS_OK)
		q->raw_cb(q->arg, st, abuf, (size_t)alen);
	else
		q->raw_cb(q->arg, st, NULL, 0);
	dns_query_done(q);
}

/* q's answer to its caller, now: parsed, counted, q freed. */
static void
dns_deliver(struct dns_query *q, int status, const unsigned char *abuf,
    int alen)
{
	struct dns *d = q->d;
	struct dns_result r;

	if (q->raw_cb != NULL) {
		dns_answer_raw(q, status, abuf, alen);
		return;
	}
	dns_result_init(&r);
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		/* The answer itself says which, TC bit included. */
		if (abuf != NULL && alen > 0) {
			dns_parse(abuf, (size_t)alen, q->type, &r);
			break;
		}
		r.status = status == ARES_ENOTFOUND ? DNS_NXDOMAIN :
		    status == ARES_ENODATA ? DNS_NODATA : DNS_ERROR;
		if (r.status == DNS_ERROR)
			r.error = "empty answer";
		break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		r.status = DNS_CANCELLED;
		break;
	case ARES_ETIMEOUT:
		d->st.timeouts++;
		r.status = DNS_ERROR;
		r.error = "timeout";
		break;
	case ARES_ESERVFAIL:
		r.status = DNS_ERROR;
		r.error = "SERVFAIL";
		break;
	case ARES_EREFUSED:
		r.status = DNS_ERROR;
		r.error = "REFUSED";
		break;
	case ARES_ECONNREFUSED:
		r.status = DNS_ERROR;
		r.error = q->retried ? "no answer after a retry (connection "
		    "failed, or SERVFAIL/REFUSED)" : "connection failed, or "
		    "SERVFAIL/REFUSED";
		break;
	default:
		r.status = DNS_ERROR;
		r.error = ares_strerror(status);
		break;
	}
	if (r.status == DNS_ERROR)
		d->st.errors++;
	else
		d->st.answers++;
	d->st.inflight--;
	q->cb(q->arg, &r);
	dns_query_done(q);
}

/* Hold q's answer for the loop (we are inside our own ares_query). */
static void
dns_defer(struct dns_query *q, int status, const unsigned char *abuf,
    int alen)
{
	struct dns *d = q->d;

	q->status = status;
	q->abuf = NULL;
	q->alen = 0;
	if (abuf != NULL && alen > 0) {
		if ((q->abuf = malloc((size_t)alen)) != NULL) {
			memcpy(q->abuf, abuf, (size_t)alen);
			q->alen = alen;
		} else {
			q->status = ARES_ENOMEM;
		}
	}
	q->rnext = NULL;
	if (d->ready_tail != NULL)
		d->ready_tail->rnext = q;
	else
		d->ready_head = q;
	d->ready_tail = q;
	/* The caller of ares_query arms the timer (dns_schedule). */
}

static void
dns_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_query *q = arg;
	struct dns *d = q->d;

	(void)timeouts;
	if (status == ARES_ECONNREFUSED && dns_retry(q))
		return;
	if (d->calls > 0 && !d->freeing) {
		dns_defer(q, status, abuf, alen);
		return;
	}
	dns_deliver(q, status, abuf, alen);
}

/*
 * Deliver what is held for the loop: the deferred answers as they came
 * (cancel: as DNS_CANCELLED, from dns_free), the queries that could not
 * start as DNS_ERROR.  Only what is held now: answers deferred by the
 * callbacks run here wait for the timer's next firing.
 */
static void
dns_ready_run(struct dns *d, bool cancel)
{
	struct dns_nostart ns[DNS_NOSTART_MAX];
	struct dns_query *q = d->ready_head;
	size_t n = d->nnostart;

	d->ready_head = d->ready_tail = NULL;
	memcpy(ns, d->nostart, n * sizeof(ns[0]));
	d->nnostart = 0;
	while (q != NULL) {
		struct dns_query *next = q->rnext;
		unsigned char *abuf = q->abuf;

		dns_deliver(q, cancel ? ARES_EDESTRUCTION : q->status, abuf,
		    q->alen);
		free(abuf);
		q = next;
	}
	for (size_t i = 0; i < n; i++) {
		d->st.inflight--;
		if (cancel) {
			d->st.answers++;
		} else {
			d->st.errors++;
		}
		if (ns[i].raw_cb != NULL) {
			ns[i].raw_cb(ns[i].arg, cancel ? DNS_CANCELLED :
			    DNS_ERROR, NULL, 0);
		} else {
			struct dns_result r;

			dns_result_init(&r);
			r.status = cancel ? DNS_CANCELLED : DNS_ERROR;
			r.error = cancel ? NULL : "out of memory";
			ns[i].cb(ns[i].arg, &r);
		}
	}
}

/*
 * No memory for a query: its callback still comes, from the loop, with
 * DNS_ERROR.  The table is emptied every loop turn; a whole table of
 * allocations failing within one turn leaves nothing sensible to do but
 * stop (the kernel's queue bypass lets mail through meanwhile).
 */
static void
dns_nostart_push(struct dns *d, dns_cb cb, dns_raw_cb raw_cb, void *arg)
{
	if (d->nnostart == DNS_NOSTART_MAX)
		log_fatalx("dns: out of memory: %d queries could not start "
		    "within one loop turn", DNS_NOSTART_MAX);
	d->nostart[d->nnostart].cb = cb;
	d->nostart[d->nnostart].raw_cb = raw_cb;
	d->nostart[d->nnostart].arg = arg;
	d->nnostart++;
	d->st.queries++;
	d->st.inflight++;
	dns_schedule(d);
}

/* A query for name under way on d's main channel; its callback is set by
 * the caller.  NULL when out of memory. */
static struct dns_query *
dns_query_start(struct dns *d, const char *name, enum dns_type type,
    int qtype, int64_t deadline_ms, void *arg)
{
	size_t len = strlen(name);
	struct dns_query *q;

	if ((q = calloc(1, sizeof(*q) + len + 1)) == NULL)
		return NULL;
	q->d = d;
	q->type = type;
	q->qtype = qtype;
	q->arg = arg;
	q->deadline_ms = deadline_ms;
	memcpy(q->name, name, len + 1);
	return q;
}

static void
dns_query_send(struct dns_query *q)
{
	struct dns *d = q->d;

	d->st.queries++;
	d->st.inflight++;
	dns_ares_query(d, d->ch, q);
	dns_schedule(d);
}

void
dns_query_until(struct dns *d, const char *name, enum dns_type type,
    int64_t deadline_ms, dns_cb cb, void *arg)
{
	struct dns_query *q = dns_query_start(d, name, type, dns_type_wire(type),
	    deadline_ms, arg);

	if (q == NULL) {
		dns_nostart_push(d, cb, NULL, arg);
		return;
	}
	q->cb = cb;
	dns_query_send(q);
}

void
dns_query(struct dns *d, const char *name, enum dns_type type, dns_cb cb,
    void *arg)
{
	dns_query_until(d, name, type, 0, cb, arg);
}

void
dns_query_raw(struct dns *d, const char *name, int qtype,
    int64_t deadline_ms, dns_raw_cb cb, void *arg)
{
	/* type is unused: the answer is not parsed here. */
	struct dns_query *q = dns_query_start(d, name, DNS_A, qtype,
	    deadline_ms, arg);

	if (q == NULL) {
		dns_nostart_push(d, NULL, cb, arg);
		return;
	}
	q->raw_cb = cb;
	dns_query_send(q);
}

const struct dns_stats *
dns_stats(const struct dns *d)
{
	return &d->st;
}
