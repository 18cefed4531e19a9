/*
 * dns.h - asynchronous DNS queries through c-ares, driven by the event loop.
 *
 * c-ares 1.18 has no event thread: its socket-state callback registers the
 * sockets with epoll, readiness calls ares_process_fd, and a loop timer
 * follows ares_timeout.  c-ares keeps no per-query deadline and cannot
 * cancel one query, so callers keep their own deadline and must tolerate a
 * callback arriving after they gave up (reference-count what the callback
 * touches).  A callback may run inside dns_query; callers must not assume
 * it does not.  Servers cannot change while queries are outstanding, so a
 * reload that changes them opens a new dns context and retires the old one
 * with dns_retire.
 */
#ifndef SMTPGATE_DNS_H
#define SMTPGATE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "evloop.h"

struct dns;

enum dns_status {
	DNS_OK,			/* answer parsed, records may be zero */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no records of the type */
	DNS_ERROR,		/* SERVFAIL, REFUSED, timeout, bad answer */
	DNS_CANCELLED,		/* shutting down */
};

#define DNS_MAX_NAMES	8	/* PTR names kept per answer */
#define DNS_MAX_ADDRS	16	/* A/AAAA answers kept */
#define DNS_NAME_MAX	254

struct dns_result {
	enum dns_status status;
	const char *error;			/* c-ares reason when DNS_ERROR */
	size_t nnames;				/* PTR */
	char names[DNS_MAX_NAMES][DNS_NAME_MAX];
	size_t naddrs;				/* A / AAAA */
	struct addr addrs[DNS_MAX_ADDRS];
};

enum dns_type { DNS_PTR, DNS_A, DNS_AAAA };

typedef void (*dns_cb)(void *arg, const struct dns_result *r);

struct dns_stats {
	uint64_t queries, answers, errors, timeouts;
	uint64_t inflight;
};

struct dns *dns_new(struct evloop *ev, const struct conf_dns *c, char *err,
    size_t errlen);
/* Free now; outstanding callbacks run with DNS_CANCELLED. */
void dns_free(struct dns *d);
/* Free once the last outstanding query has answered. */
void dns_retire(struct dns *d);

int dns_query(struct dns *d, const char *name, enum dns_type type,
    dns_cb cb, void *arg);

/*
 * A query of any type whose answer is handed over unparsed, for a caller
 * that parses elsewhere (the SPF helpers parse TXT and MX answers inside
 * their sandbox, so the daemon never does).  status is DNS_OK with the
 * answer's bytes, or another status with abuf NULL and alen 0.  The same
 * rules as dns_query: the callback may come late, with DNS_CANCELLED when
 * the context is freed.  0, or -1 when out of memory.
 */
typedef void (*dns_raw_cb)(void *arg, enum dns_status status,
    const unsigned char *abuf, size_t alen);
int dns_query_raw(struct dns *d, const char *name, int qtype, dns_raw_cb cb,
    void *arg);

const struct dns_stats *dns_stats(const struct dns *d);

#endif
