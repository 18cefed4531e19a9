/*
 * ctl_check.c - smtpgatectl check IP [--helo NAME] [--mail-from ADDR]:
 * every check of the gate, live, explained step by step.
 *
 * Exports ctl_check_main.  Runs the daemon's own modules on an event loop
 * in this process: dns (c-ares, the [dns] resolvers) with the [gate]
 * deadline_ms, and the gate's own decision path, findings.c (the PTR
 * status, FCrDNS, the class from ptrclass, DNSBL scoring, verdict_decide,
 * the DNSBL health judgment), so the verdict printed is the one smtpgated
 * reaches for the same answers.  Like the gate it asks the PTR and every
 * DNSBL at once, then the forward (A/AAAA) records of the PTR names
 * findings_ptr names; it also repeats the gate's DNSBL health probe
 * (127.0.0.2 listed, 127.0.0.1 not) and leaves out a zone the gate would
 * have disabled.  Here are the queries and the explanation; what the
 * answers mean is findings.c's alone.
 * With --helo it adds smtpgate-sniffd's HELO rules: the ones without DNS
 * (helo_judge) and, when none of those is broken (the daemon looks no
 * further then either), the ones the daemon judges from DNS and SPF
 * answers, through the daemon's own helo_facts_judge: the HELO name's
 * A/AAAA, its registered domain (libpsl, psl_latest like the daemon), the
 * client's PTR status from the gate's query, SPF for postmaster@HELO and
 * for up to HELO_PTR_SPF_MAX PTR names (spfcheck).  With --mail-from the
 * domain's A answer goes through helo_mail_judge.  Only the rules that
 * judge a session (pregreet, pipelining, non-smtp, bare-lf, trickle:
 * ctl_check_session_rules) are left out.  Nothing is changed anywhere.
 * In observe mode ([gate] or [sniffer] enforce = no) a line says so
 * (JSON: "enforced", and "enforced" in "helo"); what follows it is what
 * enforce = yes would do.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowlist.h"
#include "ctl.h"
#include "ctl_sets.h"
#include "dns.h"
#include "dnsbl.h"
#include "evloop.h"
#include "findings.h"
#include "gate.h"
#include "helo.h"
#include "ptrclass.h"
#include "reply.h"
#include "retry.h"
#include "spfcheck.h"
#include "verdict.h"

enum ctl_q_kind { Q_PTR, Q_FWD, Q_BL, Q_PROBE2, Q_PROBE1, Q_HELO4, Q_HELO6,
	Q_REG, Q_MF4, Q_MF6 };

struct ctl_answer {
	bool done;			/* answered before the deadline */
	struct dns_result r;
};

struct ctl_check;

struct ctl_q {
	struct ctl_check *k;
	enum ctl_q_kind kind;
	unsigned idx;
};

/* One SPF check: of the HELO (idx HELO_PTR_SPF_MAX) or of PTR name idx. */
struct ctl_spfq {
	struct ctl_check *k;
	unsigned idx;
};

struct ctl_check {
	struct ctl *c;
	struct evloop *ev;
	struct dns *dns;
	struct spfcheck *spfc;
	struct addr a;
	unsigned due;			/* queries outstanding */
	bool over;			/* deadline passed: ignore answers */
	int64_t deadline_ms;		/* evloop clock, as the gate's */
	struct findings f;		/* the gate's, from the answers in time
					 * (DNSBL zones added once judged
					 * healthy, ctl_check_report) */
	struct ctl_answer ptr;		/* the answers as they came, shown */
	struct ctl_answer fwd[DNS_MAX_NAMES];
	struct ctl_answer bl[DNSBL_MAX_SITES];
	struct ctl_answer probe2[DNSBL_MAX_SITES], probe1[DNSBL_MAX_SITES];
	struct ctl_answer helo[2], mf[2];	/* A, AAAA */
	struct ctl_answer reg;		/* A of the HELO's registered domain */
	unsigned spf_due;		/* SPF checks outstanding */
	int spf;			/* spfcheck_result or HELO_PENDING */
	size_t nptr_spf;		/* PTR names under SPF check */
	int spf_ptr[HELO_PTR_SPF_MAX];	/* spfcheck_result or HELO_PENDING */
	struct ctl_spfq spfq[HELO_PTR_SPF_MAX + 1];
	struct ctl_q q[1 + DNS_MAX_NAMES + 3 * DNSBL_MAX_SITES + 5];
	size_t nq;
	const char *helo_arg, *mf_arg;
	uint32_t helo_mask;		/* rules broken without DNS */
	char helo_name[HELO_NAME_MAX];	/* "" when not a host name */
	bool dns_rules;			/* the DNS/SPF rules are judged */
	bool has_regdom;		/* helo_name has a registered domain */
	bool psl_missing;		/* no public suffix list: no-domain
					 * cannot be judged */
	char regdom[HELO_NAME_MAX];
	char mf_domain[HELO_NAME_MAX];
};

static void ctl_check_answer(void *arg, const struct dns_result *r);
static void ctl_check_spf_ask(struct ctl_check *k, const char *name,
    unsigned idx);

static void
ctl_check_ask(struct ctl_check *k, const char *name, enum dns_type type,
    enum ctl_q_kind kind, unsigned idx)
{
	struct ctl_q *q;

	if (k->nq == sizeof(k->q) / sizeof(k->q[0]))
		return;
	q = &k->q[k->nq++];
	q->k = k;
	q->kind = kind;
	q->idx = idx;
	k->due++;
	dns_query_until(k->dns, name, type, k->deadline_ms, ctl_check_answer,
	    q);
}

static void
ctl_check_answer(void *arg, const struct dns_result *r)
{
	struct ctl_q *q = arg;
	struct ctl_check *k = q->k;
	struct ctl_answer *ans = NULL;

	k->due--;
	if (!k->over && r->status != DNS_CANCELLED) {
		switch (q->kind) {
		case Q_PTR: ans = &k->ptr; break;
		case Q_FWD: ans = &k->fwd[q->idx]; break;
		case Q_BL: ans = &k->bl[q->idx]; break;
		case Q_PROBE2: ans = &k->probe2[q->idx]; break;
		case Q_PROBE1: ans = &k->probe1[q->idx]; break;
		case Q_HELO4: ans = &k->helo[0]; break;
		case Q_HELO6: ans = &k->helo[1]; break;
		case Q_REG: ans = &k->reg; break;
		case Q_MF4: ans = &k->mf[0]; break;
		case Q_MF6: ans = &k->mf[1]; break;
		}
		ans->done = true;
		ans->r = *r;	/* r.error is a static string (dns.h) */
		if (q->kind == Q_FWD)
			findings_fwd(&k->f, q->idx, r);
		if (q->kind == Q_PTR) {
			size_t n = findings_ptr(&k->f, r);

			for (size_t i = 0; i < n; i++)
				ctl_check_ask(k, k->f.names[i],
				    findings_fwd_type(&k->f), Q_FWD,
				    (unsigned)i);
		}
		if (q->kind == Q_PTR && r->status == DNS_OK) {
			/* The daemon checks the SPF of its first PTR names
			 * as HELO identities (spf-ptr-fail). */
			for (size_t i = 0; k->spfc != NULL && k->dns_rules &&
			    i < r->nnames && i < HELO_PTR_SPF_MAX; i++)
				ctl_check_spf_ask(k, r->names[i], (unsigned)i);
		}
	}
	if (k->due == 0 && k->spf_due == 0)
		evloop_break(k->ev);
}

static void
ctl_check_spf(void *arg, enum spfcheck_result r)
{
	struct ctl_spfq *q = arg;
	struct ctl_check *k = q->k;

	k->spf_due--;
	if (!k->over && r != SPFCHECK_CANCELLED) {
		if (q->idx == HELO_PTR_SPF_MAX)
			k->spf = (int)r;
		else
			k->spf_ptr[q->idx] = (int)r;
	}
	if (k->due == 0 && k->spf_due == 0)
		evloop_break(k->ev);
}

/* SPF of postmaster@name for the client: of the HELO (idx
 * HELO_PTR_SPF_MAX) or of PTR name idx. */
static void
ctl_check_spf_ask(struct ctl_check *k, const char *name, unsigned idx)
{
	struct ctl_spfq *q = &k->spfq[idx];

	q->k = k;
	q->idx = idx;
	if (idx < HELO_PTR_SPF_MAX && k->nptr_spf <= idx)
		k->nptr_spf = idx + 1;
	struct spfcheck_req r = { .client = k->a, .helo = name,
	    .mail_from = NULL, .deadline_ms = evloop_now_ms(k->ev) +
	    k->c->conf.gate.deadline_ms };

	k->spf_due++;
	if (spfcheck_query(k->spfc, &r, ctl_check_spf, q) == -1)
		k->spf_due--;	/* queue full: stays without an answer */
}

static void
ctl_check_deadline(void *arg)
{
	struct ctl_check *k = arg;

	k->over = true;
	evloop_break(k->ev);
}

static const char *
ctl_check_status(const struct ctl_answer *a)
{
	if (!a->done)
		return "no answer before the deadline";
	switch (a->r.status) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "NXDOMAIN";
	case DNS_NODATA: return "no records";
	case DNS_BADNAME: return "answered, but no name is a host name";
	case DNS_ERROR: return a->r.error != NULL ? a->r.error : "error";
	default: return "cancelled";
	}
}

/* The IPv4 answers of a DNSBL query, host order (for the entries). */
static size_t
ctl_check_v4(const struct ctl_answer *a, uint32_t *out)
{
	size_t n = 0;

	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs; i++)
		if (a->r.addrs[i].family == AF_INET)
			out[n++] = addr_v4(&a->r.addrs[i]);
	return n;
}

/*
 * The gate's health judgment of zone z from the probe (findings_health):
 * NULL when healthy or unknown (the gate then queries the zone), else why
 * the gate disables it, in buf.
 */
static const char *
ctl_check_health(const struct ctl_check *k, size_t z, char *buf, size_t len)
{
	return findings_health_why(k->probe2[z].done ? &k->probe2[z].r : NULL,
	    k->probe1[z].done ? &k->probe1[z].r : NULL, buf, len);
}

/* Start the run: issue every query, then run the loop to the deadline. */
static int
ctl_check_run(struct ctl_check *k)
{
	const struct conf_gate *g = &k->c->conf.gate;
	const struct dnsbl_sites *s = &g->dnsbl_sites;
	char name[ADDR_REVNAME_MAX];
	struct addr probe;
	const uint8_t two[4] = { 127, 0, 0, 2 }, one[4] = { 127, 0, 0, 1 };

	int rc;

	if ((rc = ctl_lookups_dns(k->c, "check", k->ev, &k->dns)) != CTL_OK)
		return rc;
	k->spf = HELO_PENDING;
	for (size_t i = 0; i < HELO_PTR_SPF_MAX; i++)
		k->spf_ptr[i] = HELO_PENDING;
	if (k->dns_rules) {
		if ((rc = ctl_lookups_spf(k->c, "check", k->ev,
		    HELO_PTR_SPF_MAX + 1, &k->spfc)) != CTL_OK)
			return rc;
		ctl_check_spf_ask(k, k->helo_name, HELO_PTR_SPF_MAX);
	}
	k->deadline_ms = evloop_now_ms(k->ev) + g->deadline_ms;
	if (evloop_timer_at(k->ev, k->deadline_ms, ctl_check_deadline, k) ==
	    NULL) {
		fprintf(stderr, "smtpgatectl: check: out of memory\n");
		return CTL_SYSERR;
	}
	findings_init(&k->f, g, &k->a);
	if (addr_reverse_name(&k->a, NULL, name, sizeof(name)) > 0)
		ctl_check_ask(k, name, DNS_PTR, Q_PTR, 0);
	for (size_t z = 0; z < s->nzones; z++) {
		if (addr_reverse_name(&k->a, s->zone[z], name,
		    sizeof(name)) > 0)
			ctl_check_ask(k, name, DNS_A, Q_BL, (unsigned)z);
		addr_from_v4(&probe, two);
		if (addr_reverse_name(&probe, s->zone[z], name,
		    sizeof(name)) > 0)
			ctl_check_ask(k, name, DNS_A, Q_PROBE2, (unsigned)z);
		addr_from_v4(&probe, one);
		if (addr_reverse_name(&probe, s->zone[z], name,
		    sizeof(name)) > 0)
			ctl_check_ask(k, name, DNS_A, Q_PROBE1, (unsigned)z);
	}
	if (k->dns_rules) {
		ctl_check_ask(k, k->helo_name, DNS_A, Q_HELO4, 0);
		ctl_check_ask(k, k->helo_name, DNS_AAAA, Q_HELO6, 0);
		/* When the name is its registered domain, its A answers. */
		if (k->has_regdom && strcmp(k->regdom, k->helo_name) != 0)
			ctl_check_ask(k, k->regdom, DNS_A, Q_REG, 0);
	}
	if (k->mf_domain[0] != '\0') {
		ctl_check_ask(k, k->mf_domain, DNS_A, Q_MF4, 0);
		ctl_check_ask(k, k->mf_domain, DNS_AAAA, Q_MF6, 0);
	}
	/* Every answer comes from the loop (dns.h, spfcheck.h). */
	if (k->due > 0 || k->spf_due > 0)
		(void)evloop_run(k->ev);
	k->over = true;
	return CTL_OK;
}

/* The addresses of an answer, space-separated. */
static void
ctl_check_names(FILE *f, const struct ctl_answer *a)
{
	char ip[ADDR_STRLEN];

	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs; i++)
		fprintf(f, "%s%s", i ? " " : "", addr_ntop(&a->r.addrs[i], ip));
}

/* The addresses of an answer as the JSON array member key. */
static void
ctl_check_names_json(struct ctl_json *j, const char *key,
    const struct ctl_answer *a)
{
	char ip[ADDR_STRLEN];

	ctl_json_arr(j, key);
	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs; i++)
		ctl_json_str(j, NULL, addr_ntop(&a->r.addrs[i], ip));
	ctl_json_end(j);
}

/* The sniffer's action for rule r, as configured. */
static const char *
ctl_check_rule_action(const struct ctl_check *k, enum conf_rule r)
{
	return action_name(k->c->conf.sniffer.rule[r]);
}

/* Is the client in an active entry of the allow file? */
static bool
ctl_check_allowed(const struct ctl_check *k, char *by, size_t len)
{
	struct allowlist l;
	char err[512], a[ADDR_STRLEN];
	bool found = false;

	allowlist_init(&l);
	if (allowlist_load(k->c->conf.nft.allow_file, true, NULL, &l, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "smtpgatectl: warning: %s\n", err);
		return false;
	}
	for (size_t i = 0; i < l.n && !found; i++) {
		const struct allow_entry *e = &l.e[i];

		if ((e->expires == 0 || e->expires > k->c->now) &&
		    e->p.a.family == k->a.family &&
		    prefix_contains(&e->p, &k->a)) {
			snprintf(by, len, "%s/%u", addr_ntop(&e->p.a, a),
			    e->p.len);
			found = true;
		}
	}
	allowlist_free(&l);
	return found;
}

/* An answer as the daemon's facts hold it: missing is HELO_PENDING. */
static int
ctl_check_st(const struct ctl_answer *a)
{
	return a->done ? (int)a->r.status : HELO_PENDING;
}

/* The daemon's DNS/SPF rules of the HELO from the answers in. */
static uint32_t
ctl_check_helo_dns(const struct ctl_check *k)
{
	struct addr addrs[2 * DNS_MAX_ADDRS];
	struct helo_facts f;

	if (!k->dns_rules)
		return 0;
	memset(&f, 0, sizeof(f));
	f.client = k->a;
	f.st_a = ctl_check_st(&k->helo[0]);
	f.st_aaaa = ctl_check_st(&k->helo[1]);
	for (size_t i = 0; i < 2; i++)
		for (size_t j = 0; k->helo[i].done && k->helo[i].r.status ==
		    DNS_OK && j < k->helo[i].r.naddrs && j < DNS_MAX_ADDRS;
		    j++)
			addrs[f.naddrs++] = k->helo[i].r.addrs[j];
	f.addrs = addrs;
	f.has_regdom = k->has_regdom;
	f.regdom_is_name = strcmp(k->regdom, k->helo_name) == 0;
	f.st_reg = ctl_check_st(&k->reg);
	f.st_ptr = ctl_check_st(&k->ptr);
	f.spf = k->spf;
	f.nptr = k->nptr_spf;
	memcpy(f.spf_ptr, k->spf_ptr, sizeof(f.spf_ptr));
	return helo_facts_judge(&k->c->conf.sniffer, &f, NULL);
}

static const char *
ctl_check_spf_text(int r)
{
	return r == HELO_PENDING ? "no answer" :
	    spfcheck_name((enum spfcheck_result)r);
}

/* The sniffer's rules that judge a session, not a name: its timing and
 * its bytes (smtpproto.h, sniff_trickle.c).  check has no session. */
static const enum conf_rule ctl_check_session_rules[] = {
	RULE_PREGREET, RULE_PIPELINING, RULE_NON_SMTP, RULE_BARE_LF,
	RULE_TRICKLE,
};
#define CTL_CHECK_SESSION_RULES \
	(sizeof(ctl_check_session_rules) / sizeof(ctl_check_session_rules[0]))

/* What check leaves out of the sniffer's rules, ", "-separated, in buf. */
static const char *
ctl_check_not_evaluated(const struct ctl_check *k, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "%s", k->psl_missing &&
	    k->dns_rules ? "no-domain (no public suffix list), " : "");

	for (size_t i = 0; i < CTL_CHECK_SESSION_RULES && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? ", " : "", conf_rule_name(ctl_check_session_rules[i]));
	return buf;
}

static void
ctl_check_rules_text(FILE *f, const struct ctl_check *k, uint32_t mask)
{
	for (int r = 0; r < RULE_MAX; r++)
		if (mask & (1u << r))
			fprintf(f, "  rule %s: broken, action %s\n",
			    conf_rule_name(r), ctl_check_rule_action(k, r));
}

static void
ctl_check_rules_json(struct ctl_json *j, const struct ctl_check *k,
    uint32_t mask)
{
	ctl_json_arr(j, "rules");
	for (int r = 0; r < RULE_MAX; r++) {
		if (!(mask & (1u << r)))
			continue;
		ctl_json_obj(j, NULL);
		ctl_json_str(j, "rule", conf_rule_name(r));
		ctl_json_str(j, "action", ctl_check_rule_action(k, r));
		ctl_json_end(j);
	}
	ctl_json_end(j);
}

/* The --helo part, as text. */
static void
ctl_check_helo_text(FILE *f, const struct ctl_check *k, uint32_t broken)
{
	char notev[160];

	fprintf(f, "helo %s: %s\n", k->helo_name[0] ? k->helo_name :
	    "(not a host name)", broken ? "breaks rules" : "no rule broken");
	if (k->dns_rules) {
		size_t n = 0;

		fprintf(f, "  addresses:");
		for (size_t i = 0; i < 2; i++)
			if (k->helo[i].done && k->helo[i].r.status == DNS_OK &&
			    k->helo[i].r.naddrs > 0) {
				fputc(' ', f);
				ctl_check_names(f, &k->helo[i]);
				n++;
			}
		fprintf(f, "%s (A: %s; AAAA: %s)\n", n ? "" : " none",
		    ctl_check_status(&k->helo[0]),
		    ctl_check_status(&k->helo[1]));
		if (!k->has_regdom)
			fprintf(f, "  registered domain: %s\n", k->psl_missing ?
			    "unknown (no public suffix list)" :
			    "none (a public suffix)");
		else if (strcmp(k->regdom, k->helo_name) == 0)
			fprintf(f, "  registered domain: %s (the name itself)"
			    "\n", k->regdom);
		else
			fprintf(f, "  registered domain: %s: %s\n", k->regdom,
			    ctl_check_status(&k->reg));
		fprintf(f, "  spf of postmaster@%s: %s\n", k->helo_name,
		    ctl_check_spf_text(k->spf));
		for (size_t i = 0; i < k->nptr_spf; i++)
			fprintf(f, "  spf of postmaster@%s (PTR name): %s\n",
			    k->ptr.r.names[i], ctl_check_spf_text(
			    k->spf_ptr[i]));
	} else if (k->helo_name[0] != '\0') {
		fprintf(f, "  (DNS and SPF rules not judged: the sniffer "
		    "looks no further at a HELO that breaks a rule without "
		    "DNS)\n");
	}
	ctl_check_rules_text(f, k, broken);
	if (!k->c->conf.sniffer.enforce)
		fprintf(f, "  observe mode ([sniffer] enforce = no): a strike "
		    "is counted and logged, nobody is banned or cut\n");
	fprintf(f, "  (not evaluated here: %s)\n", ctl_check_not_evaluated(k,
	    notev, sizeof(notev)));
}

/* The --helo part, as the JSON object member "helo". */
static void
ctl_check_helo_json(struct ctl_json *j, const struct ctl_check *k,
    uint32_t broken)
{
	ctl_json_obj(j, "helo");
	ctl_json_str(j, "name", k->helo_name);
	ctl_json_bool(j, "dns_rules_judged", k->dns_rules);
	ctl_json_str(j, "spf", ctl_check_spf_text(k->spf));
	ctl_json_str(j, "registered_domain", k->dns_rules && k->has_regdom ?
	    k->regdom : NULL);
	ctl_json_arr(j, "ptr_spf");
	for (size_t i = 0; i < k->nptr_spf; i++) {
		ctl_json_obj(j, NULL);
		ctl_json_str(j, "name", k->ptr.r.names[i]);
		ctl_json_str(j, "spf", ctl_check_spf_text(k->spf_ptr[i]));
		ctl_json_end(j);
	}
	ctl_json_end(j);
	ctl_check_rules_json(j, k, broken);
	ctl_json_bool(j, "enforced", k->c->conf.sniffer.enforce);
	ctl_json_arr(j, "not_evaluated");
	for (size_t i = 0; i < CTL_CHECK_SESSION_RULES; i++)
		ctl_json_str(j, NULL, conf_rule_name(
		    ctl_check_session_rules[i]));
	if (k->psl_missing && k->dns_rules)
		ctl_json_str(j, NULL, "no-domain");
	ctl_json_end(j);
	ctl_json_end(j);
}

/* What check found, judged: the gate's findings and the zones it skips. */
struct ctl_check_out {
	struct findings_judgment j;
	bool retry_known;		/* the kernel holds the retry key */
	struct retry_status retry;	/* ... and says this of it */
	const char *sick[DNSBL_MAX_SITES];	/* why the gate disables zone z,
						 * NULL: it asks the zone */
	char sickbuf[DNSBL_MAX_SITES][128];
	bool trusted, allowed;
	char allowed_by[64];
	uint32_t broken, mbroken;	/* sniffer rules: HELO, MAIL FROM */
	char net[ADDR_STRLEN + 4];	/* the /64 cached, "" when none */
};

/*
 * The DNSBL answers of the zones the gate would ask (its health probe
 * passed or proved nothing) into the findings, then the gate's judgment.
 */
static void
ctl_check_judge(struct ctl_check *k, const struct ptrclass *pc,
    struct ctl_check_out *o)
{
	const struct dnsbl_sites *s = &k->c->conf.gate.dnsbl_sites;

	for (size_t z = 0; z < s->nzones; z++) {
		o->sick[z] = ctl_check_health(k, z, o->sickbuf[z],
		    sizeof(o->sickbuf[z]));
		if (o->sick[z] != NULL)
			continue;
		findings_dnsbl_ask(&k->f, z);
		if (k->bl[z].done)
			(void)findings_dnsbl(&k->f, z, &k->bl[z].r);
	}
	findings_judge(&k->f, pc, &o->j);
	o->trusted = conf_trusted(&k->c->conf.gate, &k->a);
	o->allowed = ctl_check_allowed(k, o->allowed_by,
	    sizeof(o->allowed_by));
	o->broken = k->helo_mask | ctl_check_helo_dns(k);
	o->mbroken = k->mf_domain[0] != '\0' ?
	    helo_mail_judge(ctl_check_st(&k->mf[0])) : 0;
	o->net[0] = '\0';
	if (o->j.net64 && o->j.v.cache && !o->trusted && !o->allowed) {
		struct addr net;
		char ip[ADDR_STRLEN];

		addr_mask(&net, &k->a, 64);
		snprintf(o->net, sizeof(o->net), "%s/64", addr_ntop(&net, ip));
	}
}

/* Would the gate tempfail this client (not trusted, not allowed)? */
static bool
ctl_check_tempfail(const struct ctl_check_out *o)
{
	return !o->trusted && !o->allowed &&
	    o->j.v.action == ACTION_TEMPFAIL;
}

static const char *
ctl_check_verdict(const struct ctl_check_out *o)
{
	return o->trusted || o->allowed ? "accept" :
	    verdict_action_name(o->j.v.action);
}

static bool
ctl_check_cached(const struct ctl_check_out *o)
{
	return o->j.v.cache && !o->trusted && !o->allowed;
}

/*
 * What a refused client hears (reply.h): "line" (reply = smtp, and the
 * verdict is one the responder answers), "reset", "drop", or NULL for a
 * client that is not refused.  line: the responder's line whenever the
 * verdict is one it answers, with reply = smtp or not (without CRLF;
 * "" else), port its port.
 */
static const char *
ctl_check_reply(const struct ctl_check *k, const struct ctl_check_out *o,
    char *line, size_t len, uint16_t *port)
{
	const struct conf_gate *g = &k->c->conf.gate;
	enum reply_kind rk;
	enum reply_rule rr;
	char ip[ADDR_STRLEN];
	size_t n;

	line[0] = '\0';
	*port = 0;
	if (o->trusted || o->allowed || o->j.v.action == ACTION_ACCEPT)
		return NULL;
	if (o->j.v.action == ACTION_DROP)
		return "drop";
	if (!reply_for_verdict(&o->j.v, &rk, &rr))
		return "reset";
	n = reply_line(line, len, rk, g->reply_text[rr], addr_ntop(&k->a, ip),
	    g->reply_url);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*port = reply_port(g->reply_port, rk, rr);
	return g->reply_smtp && n > 0 ? "line" : "reset";
}

/* The reply lines of the text report. */
static void
ctl_check_reply_text(FILE *f, const struct ctl_check *k,
    const struct ctl_check_out *o)
{
	const struct conf_gate *g = &k->c->conf.gate;
	char line[REPLY_LINE_MAX + 1];
	uint16_t port;
	const char *how = ctl_check_reply(k, o, line, sizeof(line), &port);

	if (how == NULL)
		return;
	if (strcmp(how, "drop") == 0)
		fprintf(f, "  reply: none, the SYN is dropped silently\n");
	else if (strcmp(how, "line") == 0)
		fprintf(f, "  reply = smtp: the responder answers (at the SYN's "
		    "retransmit, port %u) %s: \"%s\"\n", port,
		    o->j.v.action == ACTION_TEMPFAIL ? "until retry_min" :
		    "for deny_ttl", line);
	else if (line[0] != '\0')
		fprintf(f, "  reply = %s: a TCP reset (with reply = smtp: "
		    "\"%s\")\n", g->reply_smtp ? "smtp" : "reset", line);
	else
		fprintf(f, "  reply: a TCP reset (%s)\n", g->reply_smtp ?
		    "a reject that is not cached is never answered by the "
		    "responder" : "reply = reset");
}

static void
ctl_check_text(FILE *f, struct ctl_check *k, const struct ctl_check_out *o)
{
	const struct conf_gate *g = &k->c->conf.gate;
	const struct dnsbl_sites *s = &g->dnsbl_sites;
	const struct findings *fd = &k->f;
	const struct findings_judgment *j = &o->j;
	char ip[ADDR_STRLEN], reasons[128];

	fprintf(f, "check %s (configuration %s, deadline %u ms)\n",
	    addr_ntop(&k->a, ip), k->c->conf_path, g->deadline_ms);
	if (o->trusted)
		fprintf(f, "trusted: yes, inside trusted_networks or "
		    "loopback: the gate never queues it\n");
	if (o->allowed)
		fprintf(f, "allowed: yes, allow list entry %s: the "
		    "kernel accepts it before the gate\n", o->allowed_by);
	fprintf(f, "PTR: %s", ctl_check_status(&k->ptr));
	if (fd->ptr_bad) {
		fprintf(f, ": %s (%s", fd->bad, fd->bad_why);
		if (fd->nbad > 1)
			fprintf(f, ", %zu names", fd->nbad);
		fputc(')', f);
	} else if (fd->ptr == VERDICT_PTR_FOUND) {
		fprintf(f, ":");
		for (size_t i = 0; i < fd->nnames; i++)
			fprintf(f, " %s", fd->names[i]);
	}
	fputc('\n', f);
	for (size_t i = 0; i < fd->nfwd; i++) {
		fprintf(f, "  forward %s %s: %s", fd->names[i],
		    k->a.family == AF_INET ? "A" : "AAAA",
		    ctl_check_status(&k->fwd[i]));
		if (k->fwd[i].done && k->fwd[i].r.status == DNS_OK) {
			fputs(" ", f);
			ctl_check_names(f, &k->fwd[i]);
		}
		fprintf(f, " -> %s\n", fd->fwd[i] == FINDINGS_FWD_CONFIRMS ?
		    "confirms the client" : "does not confirm");
	}
	fprintf(f, "fcrdns: %s\n", j->vf.fcrdns == VERDICT_FCRDNS_PASS ?
	    "pass" : j->vf.fcrdns == VERDICT_FCRDNS_FAIL ? "fail" :
	    fd->ptr_bad ? "not checked (no host name to confirm)" :
	    fd->ptr == VERDICT_PTR_FOUND ? "unknown (a lookup failed)" :
	    "not checked (no PTR name)");
	if (j->name != NULL)
		fprintf(f, "class: %s%s%s (name judged: %s%s)\n",
		    ptrclass_name(j->pv.cls), j->pv.reason[0] ? ", " : "",
		    j->pv.reason, j->name, j->confirmed >= 0 ?
		    ", forward-confirmed" : "");
	for (size_t z = 0; z < s->nzones; z++) {
		uint32_t ans[DNS_MAX_ADDRS];
		size_t n = ctl_check_v4(&k->bl[z], ans);

		fprintf(f, "dnsbl %s: ", s->zone[z]);
		if (o->sick[z] != NULL) {
			fprintf(f, "skipped: the gate disables this list "
			    "(%s)\n", o->sick[z]);
			continue;
		}
		if (k->bl[z].done && k->bl[z].r.status == DNS_OK) {
			fputs("answers ", f);
			ctl_check_names(f, &k->bl[z]);
		} else {
			fputs(fd->zone[z] == FINDINGS_ZONE_CLEAR ?
			    "not listed" : ctl_check_status(&k->bl[z]), f);
		}
		fprintf(f, " -> weight %d\n", fd->zscore[z]);
		/* Which entries the answers match (dnsbl_score_zone counts
		 * each once). */
		for (size_t i = 0; i < s->nsites; i++) {
			bool hit = false;

			if (s->site[i].zone != z)
				continue;
			for (size_t a = 0; a < n; a++)
				hit |= dnsbl_site_match(&s->site[i], ans[a]);
			fprintf(f, "  entry %s: %s\n", s->site[i].text,
			    hit ? "matches" : "no match");
		}
	}
	fprintf(f, "dnsbl score: %d (dnsbl_threshold %d, "
	    "dnsbl_allow_threshold %d)%s\n", fd->dnsbl_score,
	    g->dnsbl_threshold, g->dnsbl_allow_threshold,
	    j->vf.dnsbl_incomplete ? ", incomplete: a list failed or did "
	    "not answer (an accept is not cached)" : "");
	if (k->helo_arg != NULL)
		ctl_check_helo_text(f, k, o->broken);
	if (k->mf_arg != NULL) {
		fprintf(f, "mail from %s: domain %s %s\n", k->mf_arg,
		    k->mf_domain[0] ? k->mf_domain :
		    "(none: not a qualified host name)",
		    k->mf_domain[0] == '\0' ? "not looked up" :
		    o->mbroken ? "does not exist (NXDOMAIN)" :
		    (k->mf[0].done && k->mf[0].r.naddrs) ||
		    (k->mf[1].done && k->mf[1].r.naddrs) ?
		    "has addresses" : "has no A/AAAA records (MX "
		    "not looked up by check)");
		ctl_check_rules_text(f, k, o->mbroken);
	}
	verdict_reasons_format(&j->v, reasons, sizeof(reasons));
	fprintf(f, "verdict: %s reason=%s cache=%s\n", ctl_check_verdict(o),
	    o->trusted ? "trusted" : o->allowed ? "allowed" : reasons,
	    ctl_check_cached(o) ? "yes" : "no");
	if (!g->enforce)
		fprintf(f, "  observe mode ([gate] enforce = no): smtpgated "
		    "logs this verdict with enforced=no and accepts the client "
		    "(a refusal is cached as a pass, for deny_ttl); the other "
		    "lines say what enforce = yes would do\n");
	if (o->net[0] != '\0')
		fprintf(f, "  cached for the client's /64: %s in %s6 "
		    "(cache_v6_network)\n", o->net, j->v.action ==
		    ACTION_REJECT ? "denynet" : "dropnet");
	if (ctl_check_tempfail(o)) {
		char advice[512];

		fprintf(f, "  %s\n", retry_advice(&k->c->conf.gate, &k->a,
		    NULL, advice, sizeof(advice)));
		if (o->retry_known)
			fprintf(f, "  now: %s\n", retry_advice(&k->c->conf.gate,
			    &k->a, &o->retry, advice, sizeof(advice)));
		else
			fprintf(f, "  (smtpgatectl cache list shows a waiting "
			    "sender and when it may pass)\n");
	}
	ctl_check_reply_text(f, k, o);
}

static void
ctl_check_json(FILE *f, struct ctl_check *k, const struct ctl_check_out *o)
{
	const struct conf_gate *g = &k->c->conf.gate;
	const struct dnsbl_sites *s = &g->dnsbl_sites;
	const struct findings *fd = &k->f;
	const struct findings_judgment *j = &o->j;
	struct ctl_json js;
	char ip[ADDR_STRLEN];

	ctl_json_init(&js, f);
	ctl_json_obj(&js, NULL);
	ctl_json_str(&js, "ip", addr_ntop(&k->a, ip));
	ctl_json_bool(&js, "trusted", o->trusted);
	ctl_json_int(&js, "deadline_ms", g->deadline_ms);
	ctl_json_obj(&js, "ptr");
	ctl_json_str(&js, "status", ctl_check_status(&k->ptr));
	ctl_json_arr(&js, "names");
	for (size_t i = 0; fd->ptr == VERDICT_PTR_FOUND && i < fd->nnames; i++)
		ctl_json_str(&js, NULL, fd->names[i]);
	ctl_json_end(&js);
	ctl_json_str(&js, "bad_name", fd->ptr_bad ? fd->bad : NULL);
	ctl_json_end(&js);
	ctl_json_arr(&js, "forward");
	for (size_t i = 0; i < fd->nfwd; i++) {
		ctl_json_obj(&js, NULL);
		ctl_json_str(&js, "name", fd->names[i]);
		ctl_json_str(&js, "status", ctl_check_status(&k->fwd[i]));
		ctl_check_names_json(&js, "addrs", &k->fwd[i]);
		ctl_json_bool(&js, "confirms",
		    fd->fwd[i] == FINDINGS_FWD_CONFIRMS);
		ctl_json_end(&js);
	}
	ctl_json_end(&js);
	ctl_json_str(&js, "fcrdns", j->vf.fcrdns == VERDICT_FCRDNS_PASS ?
	    "pass" : j->vf.fcrdns == VERDICT_FCRDNS_FAIL ? "fail" :
	    "unknown");
	ctl_json_str(&js, "class", j->name != NULL ?
	    ptrclass_name(j->pv.cls) : NULL);
	if (j->name != NULL) {
		ctl_json_str(&js, "class_reason", j->pv.reason);
		ctl_json_str(&js, "name_judged", j->name);
	}
	ctl_json_arr(&js, "dnsbl");
	for (size_t z = 0; z < s->nzones; z++) {
		ctl_json_obj(&js, NULL);
		ctl_json_str(&js, "zone", s->zone[z]);
		ctl_json_str(&js, "status", ctl_check_status(&k->bl[z]));
		ctl_check_names_json(&js, "answers", &k->bl[z]);
		ctl_json_int(&js, "weight", fd->zscore[z]);
		ctl_json_str(&js, "disabled", o->sick[z]);
		ctl_json_end(&js);
	}
	ctl_json_end(&js);
	ctl_json_int(&js, "dnsbl_score", fd->dnsbl_score);
	ctl_json_bool(&js, "dnsbl_incomplete", j->vf.dnsbl_incomplete);
	if (k->helo_arg == NULL)
		ctl_json_str(&js, "helo", NULL);
	else
		ctl_check_helo_json(&js, k, o->broken);
	if (k->mf_arg == NULL) {
		ctl_json_str(&js, "mail_from", NULL);
	} else {
		ctl_json_obj(&js, "mail_from");
		ctl_json_str(&js, "domain", k->mf_domain);
		ctl_check_rules_json(&js, k, o->mbroken);
		ctl_json_end(&js);
	}
	ctl_json_str(&js, "allowed_by", o->allowed ? o->allowed_by : NULL);
	ctl_json_str(&js, "verdict", ctl_check_verdict(o));
	ctl_json_bool(&js, "enforced", g->enforce);
	ctl_json_arr(&js, "reasons");
	if (o->trusted || o->allowed)
		ctl_json_str(&js, NULL, o->trusted ? "trusted" : "allowed");
	for (size_t i = 0; !o->trusted && !o->allowed && i < j->v.nreasons;
	    i++)
		ctl_json_str(&js, NULL, verdict_reason_name(j->v.reason[i]));
	ctl_json_end(&js);
	ctl_json_bool(&js, "cache", ctl_check_cached(o));
	ctl_json_str(&js, "cache_net", o->net[0] != '\0' ? o->net : NULL);
	if (ctl_check_tempfail(o)) {
		const struct conf_gate *rg = &k->c->conf.gate;
		char key[ADDR_STRLEN + 8], kt[ADDR_STRLEN];
		struct addr ka;

		retry_key(rg, &k->a, &ka);
		snprintf(key, sizeof(key), "%s/%u", addr_ntop(&ka, kt),
		    retry_key_plen(rg, ka.family));
		ctl_json_obj(&js, "retry");
		ctl_json_str(&js, "key", key);
		ctl_json_int(&js, "min_s", rg->retry_min_s);
		ctl_json_int(&js, "window_s", rg->retry_window_s);
		ctl_json_int(&js, "pass_ttl_s", rg->pass_ttl_s);
		ctl_json_str(&js, "state", o->retry_known ?
		    retry_phase_name(o->retry.phase) : NULL);
		if (o->retry_known) {
			ctl_json_int(&js, "pass_in_s",
			    (long long)((o->retry.pass_in_ms + 999) / 1000));
			ctl_json_int(&js, "window_left_s",
			    (long long)(o->retry.window_left_ms / 1000));
		}
		ctl_json_end(&js);
	}
	{
		char line[REPLY_LINE_MAX + 1];
		uint16_t port;
		const char *how = ctl_check_reply(k, o, line, sizeof(line),
		    &port);

		if (how == NULL) {
			ctl_json_str(&js, "reply", NULL);
		} else {
			ctl_json_obj(&js, "reply");
			ctl_json_str(&js, "mode", g->reply_smtp ? "smtp" :
			    "reset");
			ctl_json_str(&js, "answer", how);
			ctl_json_str(&js, "line", line[0] ? line : NULL);
			if (port != 0)
				ctl_json_int(&js, "port", port);
			else
				ctl_json_str(&js, "port", NULL);
			ctl_json_end(&js);
		}
	}
	ctl_json_end(&js);
}

static int
ctl_check_report(struct ctl_check *k, struct ptrclass *pc)
{
	static struct ctl_check_out o;	/* large: off the stack */

	memset(&o, 0, sizeof(o));
	ctl_check_judge(k, pc, &o);
	/* Where a tempfailed client stands now, when the kernel says. */
	if (ctl_check_tempfail(&o))
		o.retry_known = ctl_retry_lookup(k->c, &k->a, &o.retry) == 1;
	if (k->c->fmt == CTL_FMT_JSON)
		ctl_check_json(stdout, k, &o);
	else
		ctl_check_text(stdout, k, &o);
	return CTL_OK;
}

int
ctl_check_main(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ctl_check k;	/* large: off the stack */
	struct ptrclass *pc = NULL;
	psl_ctx_t *psl;
	int ch, rc;

	memset(&k, 0, sizeof(k));
	k.c = c;
	optind = 0;	/* glibc: 0 re-initialises (main used "+" ordering) */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			k.helo_arg = optarg;
			break;
		case 'M':
			k.mf_arg = optarg;
			break;
		default:
			fprintf(stderr, "usage: smtpgatectl check IP [--helo "
			    "NAME] [--mail-from ADDR] [--json]\n");
			return CTL_BADINPUT;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: smtpgatectl check IP [--helo NAME] "
		    "[--mail-from ADDR] [--json]\n");
		return CTL_BADINPUT;
	}
	if (addr_parse(argv[optind], &k.a) == -1) {
		fprintf(stderr, "smtpgatectl: check: \"%.64s\": not an IPv4 "
		    "or IPv6 address\n", argv[optind]);
		return CTL_BADINPUT;
	}
	if (k.helo_arg != NULL && (strlen(k.helo_arg) > 512)) {
		fprintf(stderr, "smtpgatectl: check: --helo: longer than 512 "
		    "bytes\n");
		return CTL_BADINPUT;
	}
	if (k.mf_arg != NULL && strlen(k.mf_arg) > 512) {
		fprintf(stderr, "smtpgatectl: check: --mail-from: longer "
		    "than 512 bytes\n");
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	if (k.mf_arg != NULL) {
		static const struct conf_sniffer none;
		const char *at = strrchr(k.mf_arg, '@');

		/* Like the daemon: only a syntactically valid, qualified
		 * domain is looked up. */
		if (at != NULL && helo_judge(&none, at + 1, strlen(at + 1),
		    k.mf_domain) != 0)
			k.mf_domain[0] = '\0';
	}
	if (k.helo_arg != NULL) {
		k.helo_mask = helo_judge(&c->conf.sniffer, k.helo_arg,
		    strlen(k.helo_arg), k.helo_name);
		/* The daemon asks DNS only about a name that broke no rule
		 * without it. */
		k.dns_rules = k.helo_mask == 0 && k.helo_name[0] != '\0';
	}
	if (k.dns_rules) {
		if ((psl = psl_latest(NULL)) == NULL) {
			fprintf(stderr, "smtpgatectl: check: psl_latest: no "
			    "public suffix list: no-domain not judged\n");
			k.psl_missing = true;
		} else {
			k.has_regdom = helo_registered_domain(psl,
			    k.helo_name, k.regdom) == 0;
			psl_free(psl);
		}
	}
	if ((rc = ctl_lookups_open(c, "check", &pc, &k.ev)) != CTL_OK)
		return rc;
	rc = ctl_check_run(&k);
	if (rc == CTL_OK)
		rc = ctl_check_report(&k, pc);
	ctl_lookups_close(k.dns, k.spfc, k.ev, pc);
	return rc;
}
