/*
 * dns.c - c-ares driven by the event loop.
 *
 * c-ares 1.18 (Debian 12) has no event thread and no ares_process_fds, so
 * the glue is: the socket-state callback registers c-ares' sockets with
 * epoll; readiness calls ares_process_fd; one loop timer follows
 * ares_timeout and, when it fires, ares_process_fd with no sockets runs the
 * retransmits and timeouts.  Answers are parsed here into a fixed-size
 * struct dns_result, so callers never see wire data.
 *
 * Ownership: each query carries a small heap context freed after its
 * callback.  The channel is never destroyed inside a c-ares callback:
 * retiring defers destruction to the loop.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
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

struct dns {
	struct evloop *ev;
	ares_channel ch;
	struct ev_timer *timer;		/* next c-ares timeout, or NULL */
	int64_t timer_ms;		/* when timer fires */
	int socks[DNS_MAX_SOCKS];	/* sockets registered with the loop */
	size_t nsocks;
	int retired;			/* free when inflight reaches 0 */
	int freeing;			/* inside dns_free */
	struct dns_stats st;
};

struct dns_query {
	struct dns *d;
	enum dns_type type;
	dns_cb cb;
	dns_raw_cb raw_cb;	/* dns_query_raw: no parsing here */
	void *arg;
};

static void dns_schedule(struct dns *d);

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
	if (tvp == NULL) {
		if (d->timer != NULL) {
			evloop_timer_cancel(d->ev, d->timer);
			d->timer = NULL;
		}
		return;
	}
	/* Round up: firing a millisecond early would spin on a busy loop. */
	when = evloop_now_ms(d->ev) + (int64_t)tvp->tv_sec * 1000 +
	    (tvp->tv_usec + 999) / 1000;
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

struct dns *
dns_new(struct evloop *ev, const struct conf_dns *c, char *err, size_t errlen)
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
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_RCVBUF;
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

/* Copy a name from c-ares, lower-cased, refusing over-long ones. */
static int
dns_copy_name(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n == 0 || n >= DNS_NAME_MAX)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		char ch = src[i];
		dst[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	return 0;
}

static int
dns_seen_name(const struct dns_result *r, const char *name)
{
	for (size_t i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], name) == 0)
			return 1;
	return 0;
}

static void
dns_parse_ptr(const unsigned char *abuf, int alen, struct dns_result *r)
{
	struct hostent *he = NULL;
	unsigned char dummy[16] = { 0 };
	int rc;

	rc = ares_parse_ptr_reply(abuf, alen, dummy, 4, AF_INET, &he);
	if (rc == ARES_ENODATA) {
		r->status = DNS_NODATA;
		return;
	}
	if (rc != ARES_SUCCESS || he == NULL) {
		r->status = DNS_ERROR;
		r->error = ares_strerror(rc);
		return;
	}
	if (he->h_name != NULL && dns_copy_name(r->names[r->nnames],
	    he->h_name) == 0)
		r->nnames++;
	/* c-ares 1.18 lists the first name among the aliases too. */
	for (char **al = he->h_aliases; al != NULL && *al != NULL &&
	    r->nnames < DNS_MAX_NAMES; al++) {
		if (dns_copy_name(r->names[r->nnames], *al) == 0 &&
		    !dns_seen_name(r, r->names[r->nnames]))
			r->nnames++;
	}
	ares_free_hostent(he);
	if (r->nnames == 0)
		r->status = DNS_NODATA;
}

static void
dns_parse_addrs(const unsigned char *abuf, int alen, enum dns_type type,
    struct dns_result *r)
{
	int rc, n = DNS_MAX_ADDRS;

	if (type == DNS_A) {
		struct ares_addrttl at[DNS_MAX_ADDRS];
		rc = ares_parse_a_reply(abuf, alen, NULL, at, &n);
		if (rc == ARES_SUCCESS)
			for (int i = 0; i < n; i++)
				addr_from_v4(&r->addrs[r->naddrs++],
				    (const uint8_t *)&at[i].ipaddr);
	} else {
		struct ares_addr6ttl at[DNS_MAX_ADDRS];
		rc = ares_parse_aaaa_reply(abuf, alen, NULL, at, &n);
		if (rc == ARES_SUCCESS)
			for (int i = 0; i < n; i++)
				addr_from_v6(&r->addrs[r->naddrs++],
				    (const uint8_t *)&at[i].ip6addr);
	}
	if (rc == ARES_ENODATA) {
		r->status = DNS_NODATA;
	} else if (rc != ARES_SUCCESS) {
		r->status = DNS_ERROR;
		r->error = ares_strerror(rc);
	} else if (r->naddrs == 0) {
		r->status = DNS_NODATA;
	}
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
		st = abuf != NULL && alen > 0 ? DNS_OK : DNS_ERROR;
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

static void
dns_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_query *q = arg;
	struct dns *d = q->d;
	struct dns_result r;

	(void)timeouts;
	if (q->raw_cb != NULL) {
		dns_answer_raw(q, status, abuf, alen);
		return;
	}
	r.status = DNS_OK;
	r.error = NULL;
	r.nnames = 0;
	r.naddrs = 0;
	switch (status) {
	case ARES_SUCCESS:
		if (q->type == DNS_PTR)
			dns_parse_ptr(abuf, alen, &r);
		else
			dns_parse_addrs(abuf, alen, q->type, &r);
		break;
	case ARES_ENOTFOUND:
		r.status = DNS_NXDOMAIN;
		break;
	case ARES_ENODATA:
		r.status = DNS_NODATA;
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

int
dns_query(struct dns *d, const char *name, enum dns_type type, dns_cb cb,
    void *arg)
{
	static const int qtype[] = {
		[DNS_PTR] = ns_t_ptr, [DNS_A] = ns_t_a, [DNS_AAAA] = ns_t_aaaa,
	};
	struct dns_query *q;

	if ((q = malloc(sizeof(*q))) == NULL)
		return -1;
	q->d = d;
	q->type = type;
	q->cb = cb;
	q->raw_cb = NULL;
	q->arg = arg;
	d->st.queries++;
	d->st.inflight++;
	ares_query(d->ch, name, ns_c_in, qtype[type], dns_answer, q);
	dns_schedule(d);
	return 0;
}

int
dns_query_raw(struct dns *d, const char *name, int qtype, dns_raw_cb cb,
    void *arg)
{
	struct dns_query *q;

	if ((q = malloc(sizeof(*q))) == NULL)
		return -1;
	q->d = d;
	q->type = DNS_A;	/* unused */
	q->cb = NULL;
	q->raw_cb = cb;
	q->arg = arg;
	d->st.queries++;
	d->st.inflight++;
	ares_query(d->ch, name, ns_c_in, qtype, dns_answer, q);
	dns_schedule(d);
	return 0;
}

const struct dns_stats *
dns_stats(const struct dns *d)
{
	return &d->st;
}
