/*
 * findings.h - what the DNS answers about one client mean: the one path
 * from answers to a verdict, for the gate (gate_lookup.c, gate_dnsbl.c)
 * and smtpgatectl check (ctl_check.c) alike.
 *
 * Pure code: no I/O, no clock, no allocation.  A struct findings gathers
 * the answers of one client lookup in whatever order they come: the PTR
 * answer (it says which forward queries to ask), the forward A/AAAA
 * answer of PTR name i, the answer of DNSBL zone z.  An answer that does
 * not come before the deadline is simply never given: what is missing
 * then counts as unknown (PTR), unconfirmed (forward: dns-error), or
 * incomplete (DNSBL), as verdict.h says.  findings_judge turns what is in
 * into the findings verdict_decide takes, the class of the PTR name
 * judged, the verdict, and whether an IPv6 verdict is about the /64;
 * findings_log writes the gate's verdict line from them.
 *
 * A DNSBL's health (RFC 5782 section 5): findings_probe reads the answer
 * to one probe (127.0.0.2 or 127.0.0.1 in the zone), findings_health
 * judges the list from the two.
 *
 * The caller keeps the configuration the findings point to (cg) alive as
 * long as they are used.
 */
#ifndef SMTPGATE_FINDINGS_H
#define SMTPGATE_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "dns.h"
#include "dnsbl.h"
#include "ptrclass.h"
#include "verdict.h"

/* The forward lookup of one PTR name. */
enum findings_fwd {
	FINDINGS_FWD_NONE,	/* not asked (past fcrdns_max_names) */
	FINDINGS_FWD_PENDING,	/* asked, no answer (yet) */
	FINDINGS_FWD_FAILED,	/* SERVFAIL, timeout, ...: proves nothing */
	FINDINGS_FWD_CONFIRMS,	/* an address is the client's */
	FINDINGS_FWD_ELSEWHERE,	/* answered (NXDOMAIN, no records, other
				 * addresses): does not confirm */
};

/* One DNSBL zone's query about the client. */
enum findings_zone {
	FINDINGS_ZONE_OFF,	/* not asked (disabled by its health) */
	FINDINGS_ZONE_PENDING,	/* asked, no answer (yet): incomplete */
	FINDINGS_ZONE_FAILED,	/* SERVFAIL, REFUSED, a failed connection, a
				 * malformed answer: incomplete */
	FINDINGS_ZONE_CLEAR,	/* NXDOMAIN or no records: not listed */
	FINDINGS_ZONE_ANSWERED,	/* addresses, scored (zscore, zerrors) */
};

struct findings {
	const struct conf_gate *cg;	/* judged under this configuration */
	struct addr client;
	/* PTR */
	enum verdict_ptr ptr;		/* VERDICT_PTR_UNKNOWN until answered */
	const char *ptr_error;		/* why VERDICT_PTR_ERROR (static) */
	size_t nnames;			/* host names in the answer */
	char names[DNS_MAX_NAMES][DNS_NAME_MAX];
	bool ptr_bad;			/* answered, no name is a host name
					 * (DNS_BADNAME): class invalid */
	size_t nbad;			/* names that are no host names */
	char bad[DNS_NAME_MAX];		/* the first of them, escaped */
	const char *bad_why;		/* why (static), see dns.h */
	/* forward confirmation of names[0..nfwd) */
	size_t nfwd;
	enum findings_fwd fwd[DNS_MAX_NAMES];
	/* DNSBL, by zone index of cg->dnsbl_sites */
	enum findings_zone zone[DNSBL_MAX_SITES];
	int zscore[DNSBL_MAX_SITES];	/* the weights the zone's answer
					 * counts (0: none) */
	unsigned zerrors[DNSBL_MAX_SITES];	/* operator error answers in
						 * it (never scored) */
	int dnsbl_score;		/* the sum of zscore */
};

/* Empty findings about client under cg: nothing asked, nothing known. */
void findings_init(struct findings *f, const struct conf_gate *cg,
    const struct addr *client);

/*
 * The PTR answer (DNS_CANCELLED changes nothing).  Returns n: the names
 * names[0..n) are to be looked up forward, with type findings_fwd_type,
 * and their answers given to findings_fwd (at most fcrdns_max_names; a
 * name that is no host name has nothing to confirm).
 */
size_t findings_ptr(struct findings *f, const struct dns_result *r);
enum dns_type findings_fwd_type(const struct findings *f);
/* The forward answer for names[i] (DNS_CANCELLED changes nothing). */
void findings_fwd(struct findings *f, size_t i, const struct dns_result *r);

/* Zone z is asked about the client (a zone never asked counts nowhere). */
void findings_dnsbl_ask(struct findings *f, size_t z);
/*
 * Zone z's answer: its state after it (FINDINGS_ZONE_FAILED for an
 * error; DNS_CANCELLED leaves it pending).  Only IPv4 answers count.
 */
enum findings_zone findings_dnsbl(struct findings *f, size_t z,
    const struct dns_result *r);

/* What the findings say, judged. */
struct findings_judgment {
	struct verdict_findings vf;	/* what verdict_decide took */
	struct ptr_verdict pv;		/* the class of the name judged */
	const char *name;		/* the name judged (in the findings),
					 * NULL: none */
	int confirmed;			/* first PTR name that confirmed, -1 */
	struct verdict v;
	bool net64;			/* an IPv6 reject or drop about the
					 * network (no, invalid, generic or
					 * static PTR) with cache_v6_network:
					 * cached for the client's /64 */
};

/* Judge f (pc: the PTR classifier of f's configuration). */
void findings_judge(const struct findings *f, const struct ptrclass *pc,
    struct findings_judgment *j);

/*
 * The gate's verdict line up to its timing (the gate adds ms=, syns= and
 * cached=no): "verdict=reject ip=198.51.100.11 reason=no-ptr ptr=- ..."
 * (smtpgated(8) names the fields); " enforced=no" follows the verdict
 * word when f's configuration observes ([gate] enforce = no).
 */
void findings_log(const struct findings *f, const struct findings_judgment *j,
    char *buf, size_t len);

/* ---- DNSBL health ---- */

enum findings_probe_state {
	FINDINGS_PROBE_PENDING,		/* no answer (yet) */
	FINDINGS_PROBE_FAILED,		/* SERVFAIL, timeout, cancelled, ... */
	FINDINGS_PROBE_ANSWERED,	/* records, NXDOMAIN or no records */
};

/* One health probe's answer, read. */
struct findings_probe {
	enum findings_probe_state state;
	bool listed;			/* the probed address is listed */
	uint32_t error_answer;		/* the first operator error code in
					 * the answer (host order), 0: none */
};

enum findings_health {
	FINDINGS_HEALTH_UNKNOWN,	/* a probe failed or did not answer: a
					 * slow list is no broken one, the
					 * list's state stays as it is */
	FINDINGS_HEALTH_OK,		/* 127.0.0.2 listed, 127.0.0.1 not */
	FINDINGS_HEALTH_ERROR_ANSWER,	/* an error code to either probe: the
					 * list refuses this resolver */
	FINDINGS_HEALTH_NO_TWO,		/* 127.0.0.2 not listed */
	FINDINGS_HEALTH_ONE_LISTED,	/* 127.0.0.1 listed */
};

/*
 * Read the answer r to the probe of 127.0.0.2 (is_two) or 127.0.0.1 into
 * *p.  Listed means an answer dnsbl_answer_kind counts as a listing; for
 * the 127.0.0.1 probe also 127.0.0.1 itself (which no client answer
 * counts), since a list that answers anything in 127/8 for it lists it.
 */
void findings_probe(struct findings_probe *p, bool is_two,
    const struct dns_result *r);
/*
 * Judge a list from its two probes.  For the three verdicts that disable
 * it, why gets the reason as the gate logs it and check shows it ("127.0.0.1
 * listed"); else why is "".
 */
enum findings_health findings_health(const struct findings_probe *two,
    const struct findings_probe *one, char *why, size_t len);
/*
 * Both steps for a reader of the probes' answers (NULL: none came), as
 * smtpgatectl check and identity show a list: why the gate disables it
 * (in why), or NULL when the gate queries it (healthy, or not known).
 */
const char *findings_health_why(const struct dns_result *two,
    const struct dns_result *one, char *why, size_t len);

#endif
