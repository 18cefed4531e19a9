/*
 * verdict.c - turn one lookup's findings into the gate's verdict.
 * See verdict.h for the rules; this file is pure and unit-tested.
 */
#include <stdio.h>
#include <string.h>

#include "verdict.h"

static const char *const verdict_reason_names[VERDICT_R_MAX] = {
	[VERDICT_R_DNSWL] = "dnswl",
	[VERDICT_R_DNSBL] = "dnsbl",
	[VERDICT_R_NO_PTR] = "no-ptr",
	[VERDICT_R_DNS_ERROR] = "dns-error",
	[VERDICT_R_GENERIC] = "generic-ptr",
	[VERDICT_R_STATIC] = "static-ptr",
	[VERDICT_R_FCRDNS] = "fcrdns",
	[VERDICT_R_INVALID_PTR] = "invalid-ptr",
};

const char *
verdict_reason_name(enum verdict_reason r)
{
	return r < VERDICT_R_MAX ? verdict_reason_names[r] : "?";
}

bool
verdict_weak(const struct verdict *v)
{
	return v->action == ACTION_ACCEPT && v->nreasons > 0 &&
	    v->reason[0] != VERDICT_R_DNSWL;
}

const char *
verdict_action_name(enum action a)
{
	switch (a) {
	case ACTION_REJECT:
		return "reject";
	case ACTION_DROP:
		return "drop";
	case ACTION_TEMPFAIL:
		return "tempfail";
	default:
		return "accept";
	}
}

/*
 * reject > drop > tempfail > everything that lets the client in: a
 * tempfail is a refusal with a second chance, weaker than a refusal
 * without one.
 */
static int
verdict_severity(enum action a)
{
	switch (a) {
	case ACTION_REJECT:
		return 3;
	case ACTION_DROP:
		return 2;
	case ACTION_TEMPFAIL:
		return 1;
	default:
		return 0;
	}
}

struct verdict_hit {
	enum verdict_reason r;
	enum action a;
};

void
verdict_decide(const struct conf_gate *g, const struct verdict_findings *f,
    struct verdict *out)
{
	struct verdict_hit hit[VERDICT_R_MAX];
	size_t nhit = 0, best = 0;
	bool dns_error = false, invalid;

	memset(out, 0, sizeof(*out));
	out->action = ACTION_ACCEPT;
	out->cache = true;

	if (g->dnsbl_allow_threshold < 0 &&
	    f->dnsbl_score <= g->dnsbl_allow_threshold) {
		out->reason[out->nreasons++] = VERDICT_R_DNSWL;
		return;
	}

#define VERDICT_HIT(cond, why, act) do {				\
	if ((cond) && (act) != ACTION_OFF) {				\
		hit[nhit].r = (why);					\
		hit[nhit].a = (act);					\
		nhit++;							\
	}								\
} while (0)

	VERDICT_HIT(f->dnsbl_score >= g->dnsbl_threshold &&
	    g->dnsbl_sites.nsites > 0, VERDICT_R_DNSBL, g->dnsbl);
	VERDICT_HIT(f->ptr == VERDICT_PTR_NONE, VERDICT_R_NO_PTR, g->no_ptr);
	/* A name that is no host name needs no forward look to judge. */
	invalid = f->ptr == VERDICT_PTR_FOUND && f->cls == PTR_INVALID;
	VERDICT_HIT(invalid, VERDICT_R_INVALID_PTR, g->invalid_ptr);
	dns_error = f->ptr == VERDICT_PTR_UNKNOWN ||
	    f->ptr == VERDICT_PTR_ERROR ||
	    (f->ptr == VERDICT_PTR_FOUND && !invalid &&
	    f->fcrdns == VERDICT_FCRDNS_UNKNOWN);
	VERDICT_HIT(dns_error, VERDICT_R_DNS_ERROR, g->dns_error);
	if (f->ptr == VERDICT_PTR_FOUND) {
		VERDICT_HIT(f->cls == PTR_GENERIC, VERDICT_R_GENERIC,
		    g->generic_ptr);
		VERDICT_HIT(f->cls == PTR_STATIC_GENERIC, VERDICT_R_STATIC,
		    g->static_ptr);
		VERDICT_HIT(f->fcrdns == VERDICT_FCRDNS_FAIL,
		    VERDICT_R_FCRDNS, g->fcrdns);
	}
#undef VERDICT_HIT

	for (size_t i = 1; i < nhit; i++)
		if (verdict_severity(hit[i].a) > verdict_severity(hit[best].a))
			best = i;
	if (nhit > 0) {
		out->action = verdict_severity(hit[best].a) > 0 ?
		    hit[best].a : ACTION_ACCEPT;
		out->reason[out->nreasons++] = hit[best].r;
		for (size_t i = 0; i < nhit; i++)
			if (i != best)
				out->reason[out->nreasons++] = hit[i].r;
	}
	/*
	 * Missing knowledge is not cached: a dns-error verdict, or an accept
	 * while something failed to answer, gets a fresh look next time.
	 * A tempfail is remembered all the same (in wait and retry, not in a
	 * verdict cache): its memory is the second chance itself.
	 */
	if (nhit > 0 && hit[best].r == VERDICT_R_DNS_ERROR)
		out->cache = false;
	if (out->action == ACTION_ACCEPT && (dns_error || f->dnsbl_incomplete))
		out->cache = false;
}

void
verdict_reasons_format(const struct verdict *v, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (v->nreasons == 0) {
		snprintf(buf, len, "ok");
		return;
	}
	for (size_t i = 0; i < v->nreasons && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		    verdict_reason_name(v->reason[i]));
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
