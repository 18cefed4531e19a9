/*
 * verdict.h - from what the lookups found to what the gate does.
 *
 * Pure: the findings of one client lookup plus the [gate] configuration in;
 * a verdict, the list of findings that count (deciding one first), and
 * whether the verdict may be cached in the kernel's sets out.
 *
 * Rules (documented in smtpgate.conf(5)):
 * - A DNSBL score at or below a negative dnsbl_allow_threshold passes the
 *   client outright ("dnswl"): an allow list vouches for it.
 * - Each finding (dnsbl, no-ptr, invalid-ptr, dns-error, generic-ptr,
 *   static-ptr, fcrdns) is mapped to its configured action; "off" drops
 *   the finding.  invalid-ptr: a PTR record was found but its name is no
 *   host name (class PTR_INVALID: bytes no host name can hold, reported
 *   by dns.c as DNS_BADNAME, or not LDH, judged by ptrclass); that is an
 *   answer, not resolver trouble, so it is never dns-error and needs no
 *   forward confirmation.
 * - The most severe action wins: reject > drop > tempfail > accept (log).
 *   tempfail refuses now and passes a retry (retry.h).  Among equal
 *   severities the earlier finding in the order above decides.
 * - A verdict that rests on missing knowledge is not cached: when dns-error
 *   decides it, or when the client is accepted while a lookup failed or a
 *   DNSBL did not answer completely (dnsbl_incomplete: an error such as
 *   SERVFAIL, REFUSED, a connection failure or a malformed answer, or no
 *   answer by the deadline; NXDOMAIN is a complete "not listed").  The
 *   next SYN deserves a full look.
 */
#ifndef SMTPGATE_VERDICT_H
#define SMTPGATE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "ptrclass.h"

enum verdict_ptr {
	VERDICT_PTR_UNKNOWN,	/* no answer before the deadline */
	VERDICT_PTR_FOUND,	/* a PTR record; cls says whether its name is
				 * a host name (PTR_INVALID: not) */
	VERDICT_PTR_NONE,	/* NXDOMAIN or no PTR record */
	VERDICT_PTR_ERROR,	/* SERVFAIL, refused, timeout */
};

enum verdict_fcrdns {
	VERDICT_FCRDNS_UNKNOWN,	/* not checked or lookups failed */
	VERDICT_FCRDNS_PASS,	/* a PTR name resolves back to the client */
	VERDICT_FCRDNS_FAIL,	/* every checked name resolves elsewhere */
};

struct verdict_findings {
	enum verdict_ptr ptr;
	enum verdict_fcrdns fcrdns;
	enum ptr_class cls;		/* of the name chosen for the verdict */
	int dnsbl_score;
	bool dnsbl_incomplete;		/* a list failed or did not answer in
					 * time */
};

enum verdict_reason {
	VERDICT_R_DNSWL,
	VERDICT_R_DNSBL,
	VERDICT_R_NO_PTR,
	VERDICT_R_DNS_ERROR,
	VERDICT_R_GENERIC,
	VERDICT_R_STATIC,
	VERDICT_R_FCRDNS,
	VERDICT_R_INVALID_PTR,	/* decides after no-ptr (verdict.c) */
	VERDICT_R_MAX
};

struct verdict {
	enum action action;		/* ACTION_ACCEPT, _DROP, _REJECT or
					 * _TEMPFAIL */
	enum verdict_reason reason[VERDICT_R_MAX];	/* deciding first */
	size_t nreasons;
	bool cache;			/* may enter the pass/deny/drop sets
					 * (a tempfail enters wait and retry
					 * whatever this says) */
};

void verdict_decide(const struct conf_gate *g,
    const struct verdict_findings *f, struct verdict *out);
const char *verdict_reason_name(enum verdict_reason r);
/*
 * Did an accept rest on weak evidence ([sniffer] banner_hold_ms)?  True
 * when v accepts although a finding counted (its action was log, or
 * accept for dns-error): the client passed with something against it.
 * A clean accept (no finding) and a DNSWL pass (an allow list vouches)
 * are not weak; a refusal is no accept.
 */
bool verdict_weak(const struct verdict *v);
/* accept/drop/reject/tempfail */
const char *verdict_action_name(enum action a);
/* "no-ptr,fcrdns" or "ok" into buf. */
void verdict_reasons_format(const struct verdict *v, char *buf, size_t len);

#endif
