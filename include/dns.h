/*
 * dns.h - asynchronous DNS queries through c-ares, driven by the event loop.
 *
 * c-ares 1.18 has no event thread: its socket-state callback registers the
 * sockets with epoll, readiness calls ares_process_fd, and a loop timer
 * follows ares_timeout.  c-ares keeps no per-query deadline and cannot
 * cancel one query, so callers keep their own deadline and must tolerate a
 * callback arriving after they gave up (reference-count what the callback
 * touches).  A callback never runs inside the call that asked (dns_query,
 * dns_query_until, dns_query_raw): what c-ares answers at once (a name it
 * cannot encode, no memory, no server) and a query that cannot start are
 * delivered from the event loop, so the calls cannot fail and a caller
 * needs no reference of its own across them.  Servers cannot change while
 * queries are outstanding, so a
 * reload that changes them opens a new dns context and retires the old one
 * with dns_retire.
 *
 * Answers are parsed by dns_parse (dns_parse.c: our own bounded parser,
 * not c-ares' ares_parse_*_reply), so callers never see wire data.  A PTR answer whose
 * names are no host names (a NUL, 0xff, space or newline byte, a dot inside
 * a label) is DNS_BADNAME, an answer like any other, never DNS_ERROR.
 *
 * One server connection's failure must not decide other queries: c-ares
 * 1.18 ends every query outstanding on a server with ARES_ECONNREFUSED when
 * that server's connection fails (say a truncated UDP answer, then a TCP
 * connection the server closes), and it ends a query with the same status
 * when every server answered it SERVFAIL or REFUSED.  Such a query is asked
 * once more, on a second channel that never falls back to TCP, if its
 * deadline (dns_query_until) has not passed; dns_stats counts these
 * retries.  Over that channel a truncated answer is DNS_ERROR.
 */
#ifndef SMTPGATE_DNS_H
#define SMTPGATE_DNS_H

#include <stdbool.h>
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
	DNS_ERROR,		/* SERVFAIL, REFUSED, timeout, connection
				 * failure, truncated or malformed answer */
	DNS_CANCELLED,		/* shutting down */
	DNS_BADNAME,		/* PTR answered, but no record names a host:
				 * every name holds a byte no host name can
				 * (nbad, bad, bad_why say which) */
};

#define DNS_MAX_NAMES	8	/* PTR names kept per answer */
#define DNS_MAX_ADDRS	16	/* A/AAAA answers kept */
#define DNS_NAME_MAX	254

struct dns_result {
	enum dns_status status;
	const char *error;			/* reason when DNS_ERROR (static) */
	size_t nnames;				/* PTR: host names, lower case */
	char names[DNS_MAX_NAMES][DNS_NAME_MAX];
	size_t nbad;				/* PTR: names that are no host
						 * names (left out of names) */
	char bad[DNS_NAME_MAX];			/* the first of them, escaped
						 * (\DDD, \.) and cut to fit */
	const char *bad_why;			/* why: "control-byte", "space",
						 * "non-ascii", "dot-in-label",
						 * "backslash", "root-name" */
	size_t naddrs;				/* A / AAAA */
	struct addr addrs[DNS_MAX_ADDRS];
};

enum dns_type { DNS_PTR, DNS_A, DNS_AAAA };

typedef void (*dns_cb)(void *arg, const struct dns_result *r);

struct dns_stats {
	uint64_t queries, answers, errors, timeouts;
	uint64_t retries;	/* queries asked again after ECONNREFUSED */
	uint64_t inflight;
};

struct dns *dns_new(struct evloop *ev, const struct conf_dns *c, char *err,
    size_t errlen);
/* Free now; outstanding callbacks run with DNS_CANCELLED. */
void dns_free(struct dns *d);
/* Free once the last outstanding query has answered. */
void dns_retire(struct dns *d);

/*
 * Ask name's records of type; cb gets the result, always, once, from the
 * loop (out of memory is DNS_ERROR "out of memory").  deadline_ms (evloop
 * clock, absolute) is when the caller stops waiting: a query that a
 * connection failure ended is asked again only before it; 0 means no
 * deadline.  dns_query is dns_query_until with 0.
 */
void dns_query_until(struct dns *d, const char *name, enum dns_type type,
    int64_t deadline_ms, dns_cb cb, void *arg);
void dns_query(struct dns *d, const char *name, enum dns_type type,
    dns_cb cb, void *arg);

/*
 * Parse one answer message msg[0..len) to a query of type into *r (every
 * field set).  The question must be one, of that type, class IN; records
 * count when their owner is the question's name or a CNAME target reached
 * from it (in message order, at most 8 hops).  Compression pointers must
 * point back, each further than the last; names are at most 255 bytes; a
 * record's data must fill its length exactly; no bytes may follow the last
 * record.  Malformed, truncated (TC), SERVFAIL and the like are DNS_ERROR
 * with the reason in r->error; rcode NXDOMAIN is DNS_NXDOMAIN.  In
 * dns_parse.c (pure code), for dns.c, the unit tests, fuzz/fuzz_dns.c and
 * the scenario tests' fake resolver.
 */
void dns_parse(const unsigned char *msg, size_t len, enum dns_type type,
    struct dns_result *r);
/* An empty result: DNS_OK, no names, no addresses, no error. */
void dns_result_init(struct dns_result *r);
/* The query type of t on the wire (PTR 12, A 1, AAAA 28). */
int dns_type_wire(enum dns_type t);

/*
 * A TXT answer with each record's character-strings kept apart (RFC 1035
 * section 3.3.14).  A reader of SPF joins them with nothing between (RFC
 * 7208 section 3.3), so a record published as "v=spf1" "a" "-all" reads
 * "v=spf1a-all": only the separate strings show why.  Strings may hold
 * any byte (NUL included): text[off..off+len), never terminated.
 */
#define DNS_TXT_MAX_RECORDS	8	/* records kept (the rest counted) */
#define DNS_TXT_MAX_STRINGS	32	/* strings kept per record */
#define DNS_TXT_TEXT_MAX	8192	/* bytes of strings kept in all */

struct dns_txt_string {
	uint16_t off, len;		/* text[off..off+len) */
};

struct dns_txt_record {
	size_t nstrings;		/* strings kept */
	bool cut;			/* strings left out (no room) */
	struct dns_txt_string s[DNS_TXT_MAX_STRINGS];
};

struct dns_txt {
	enum dns_status status;		/* OK (records > 0), NXDOMAIN, NODATA,
					 * ERROR */
	const char *error;		/* reason when DNS_ERROR (static) */
	size_t nrecords;		/* records kept */
	size_t nmore;			/* records left out (no room) */
	struct dns_txt_record rec[DNS_TXT_MAX_RECORDS];
	size_t used;			/* bytes of text used */
	unsigned char text[DNS_TXT_TEXT_MAX];
};

/*
 * Parse one answer to a TXT question into *t (every field set), under
 * dns_parse's rules (one question, CNAME chains, pointers back, exact
 * lengths, nothing after the last record); a TXT record with no string
 * or a string that overruns its record is DNS_ERROR "malformed TXT".
 * Pure code, in dns_parse.c; fetch the answer with dns_query_raw and
 * DNS_WIRE_TXT.
 */
#define DNS_WIRE_TXT	16
void dns_parse_txt(const unsigned char *msg, size_t len, struct dns_txt *t);

/*
 * A query of any type whose answer is handed over unparsed, for a caller
 * that parses elsewhere (the SPF helpers parse TXT and MX answers inside
 * their sandbox, so the daemon never does).  status is DNS_OK with the
 * answer's bytes (never a truncated one), or another status with abuf
 * NULL and alen 0.  The same rules as dns_query_until, the retry after a
 * failed connection included: the callback comes from the loop, perhaps
 * late, with DNS_CANCELLED when the context is freed.
 */
typedef void (*dns_raw_cb)(void *arg, enum dns_status status,
    const unsigned char *abuf, size_t alen);
void dns_query_raw(struct dns *d, const char *name, int qtype,
    int64_t deadline_ms, dns_raw_cb cb, void *arg);

const struct dns_stats *dns_stats(const struct dns *d);

#endif
