/*
 * ctl_identity_steps.c - smtpgatectl identity's judgments: what the
 * answers gathered by ctl_identity.c say, one PASS/WARN/FAIL step each
 * with its reason, and their output (text, or JSON through ctl_out.c).
 *
 * Exports ctl_id_steps and ctl_id_print (ctl_identity.h).  The meaning of
 * the answers is the gate's code, used as it is: findings.c (PTR, forward
 * confirmation, DNSBL scores, the lists' health), ptrclass (through
 * findings_judge), helo_spf_fails; identity.c reads the TXT answer as SPF
 * and the greeting.  Every string that came from DNS or the server is
 * escaped before it enters a step (dns_parse already refuses PTR names
 * with bytes no host name holds).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ctl_identity.h"

/* ---- the steps ---- */

static void ctl_id_step(struct ctl_identity *k, enum ctl_id_result res,
    const char *check, const struct ctl_id_addr *ad, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
ctl_id_step(struct ctl_identity *k, enum ctl_id_result res,
    const char *check, const struct ctl_id_addr *ad, const char *fmt, ...)
{
	struct ctl_id_step *s;
	va_list ap;

	if (res == ID_FAIL)
		k->failed = true;
	if (k->nsteps == CTL_ID_STEPS)
		return;
	s = &k->step[k->nsteps++];
	s->res = res;
	s->check = check;
	s->addr[0] = '\0';
	if (ad != NULL)
		addr_ntop(&ad->a, s->addr);
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
}

static const char *
ctl_id_status(const struct ctl_id_answer *a)
{
	if (!a->done)
		return "no answer before the deadline";
	switch (a->r.status) {
	case DNS_OK: return a->r.naddrs || a->r.nnames ? "ok" : "no records";
	case DNS_NXDOMAIN: return "NXDOMAIN";
	case DNS_NODATA: return "no records";
	case DNS_BADNAME: return "answered, but no name is a host name";
	case DNS_ERROR: return a->r.error != NULL ? a->r.error : "error";
	default: return "cancelled";
	}
}

/* The addresses of an answer, space-separated, into buf. */
static const char *
ctl_id_addrs(const struct ctl_id_answer *a, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "",
		    addr_ntop(&a->r.addrs[i], ip));
	return buf;
}

static bool
ctl_id_answer_has(const struct ctl_id_answer *a, const struct addr *x)
{
	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs; i++)
		if (addr_eq(&a->r.addrs[i], x))
			return true;
	return false;
}

static void
ctl_id_steps_ptr(struct ctl_identity *k, struct ctl_id_addr *ad,
    const struct ptrclass *pc)
{
	const struct findings *f = &ad->f;
	const char *rr = ad->a.family == AF_INET ? "A" : "AAAA";
	struct findings_judgment j;
	char list[DNS_MAX_NAMES * DNS_NAME_MAX], addrs[512], ip[ADDR_STRLEN];
	size_t o = 0;
	unsigned labels;

	if (!ad->ptr.done || (ad->ptr.r.status != DNS_OK &&
	    ad->ptr.r.status != DNS_BADNAME) || (!f->ptr_bad &&
	    f->nnames == 0)) {
		bool absent = ad->ptr.done &&
		    (ad->ptr.r.status == DNS_NXDOMAIN ||
		    ad->ptr.r.status == DNS_NODATA ||
		    ad->ptr.r.status == DNS_OK);

		ctl_id_step(k, ID_FAIL, "ptr", ad, absent ? "no PTR record "
		    "(%s): receivers that want reverse DNS refuse this "
		    "address (smtpgate: no_ptr)" : "the PTR lookup failed "
		    "(%s): receivers cannot judge the address and may defer "
		    "it", ctl_id_status(&ad->ptr));
		return;
	}
	if (f->ptr_bad) {
		ctl_id_step(k, ID_FAIL, "ptr", ad, "the PTR record names no "
		    "host name: %s (%s)", f->bad, f->bad_why);
		return;
	}
	for (size_t i = 0; i < f->nnames; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? " " : "", f->names[i]);
	if (f->nnames > 1)
		ctl_id_step(k, ID_WARN, "ptr", ad, "%zu PTR names: %s "
		    "(receivers may judge any one of them; one is best)",
		    f->nnames, list);
	else
		ctl_id_step(k, ID_PASS, "ptr", ad, "PTR %s", list);
	labels = identity_labels(f->names[0]);
	if (labels >= 3)
		ctl_id_step(k, ID_PASS, "fqdn", ad, "%s has %u labels",
		    f->names[0], labels);
	else
		ctl_id_step(k, ID_FAIL, "fqdn", ad, "%s has %u label%s: "
		    "receivers want a host name of at least three "
		    "(mail.example.com, not example.com)", f->names[0], labels,
		    labels == 1 ? "" : "s");
	findings_judge(f, pc, &j);
	for (size_t i = 0; i < f->nfwd; i++) {
		const struct ctl_id_answer *fw = &ad->fwd[i];
		bool has = fw->done && fw->r.status == DNS_OK &&
		    fw->r.naddrs > 0;

		if (f->fwd[i] == FINDINGS_FWD_CONFIRMS)
			ctl_id_step(k, ID_PASS, "fcrdns", ad, "%s %s %s "
			    "holds the address: forward-confirmed",
			    f->names[i], rr, ctl_id_addrs(fw, addrs,
			    sizeof(addrs)));
		else if (has)
			ctl_id_step(k, j.confirmed >= 0 ? ID_WARN : ID_FAIL,
			    "fcrdns", ad, "%s %s %s does not hold %s: the "
			    "PTR name points elsewhere (not forward-confirmed)",
			    f->names[i], rr, ctl_id_addrs(fw, addrs,
			    sizeof(addrs)), addr_ntop(&ad->a, ip));
		else
			ctl_id_step(k, j.confirmed >= 0 ? ID_WARN : ID_FAIL,
			    "fcrdns", ad, "%s has no %s record (%s): the PTR "
			    "name does not lead back to the address (not "
			    "forward-confirmed)", f->names[i], rr,
			    ctl_id_status(fw));
	}
	if (j.name == NULL)
		return;
	if (j.pv.cls == PTR_NAMED)
		ctl_id_step(k, ID_PASS, "class", ad, "%s is named, not "
		    "generic, by smtpgate's classifier%s", j.name,
		    j.confirmed >= 0 ? "" : " (judged unconfirmed)");
	else
		ctl_id_step(k, ID_FAIL, "class", ad, "%s is %s by smtpgate's "
		    "classifier (%s): receivers that refuse dynamic-looking "
		    "names refuse it (smtpgate: generic_ptr); name the host "
		    "for what it is (mail.example.com)", j.name,
		    ptrclass_name(j.pv.cls), j.pv.reason[0] ? j.pv.reason :
		    "no reason");
}

static void
ctl_id_steps_helo(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct findings *f = &ad->f;
	char a4[512], a6[512];

	if (k->helo[0] == '\0' || k->helo_mask != 0)
		return;		/* said once, before the addresses */
	bool is_ptr = false, resolves;

	for (size_t i = 0; i < f->nnames; i++)
		is_ptr |= strcasecmp(f->names[i], k->helo) == 0;
	resolves = ctl_id_answer_has(&k->helo_a[0], &ad->a) ||
	    ctl_id_answer_has(&k->helo_a[1], &ad->a);
	if (resolves && is_ptr) {
		ctl_id_step(k, ID_PASS, "helo", ad, "HELO %s is the PTR name "
		    "and resolves to the address", k->helo);
		return;
	}
	if (resolves) {
		ctl_id_step(k, ID_PASS, "helo", ad, "HELO %s resolves to the "
		    "address (it is not the PTR name%s%s)", k->helo,
		    f->nnames ? " " : "", f->nnames ? f->names[0] : "");
		return;
	}
	ctl_id_addrs(&k->helo_a[0], a4, sizeof(a4));
	ctl_id_addrs(&k->helo_a[1], a6, sizeof(a6));
	ctl_id_step(k, ID_FAIL, "helo", ad, "HELO %s %s does not resolve to "
	    "the address (A: %s; AAAA: %s): receivers that check the HELO "
	    "name refuse it (smtpgate: helo-mismatch, helo-no-resolve)",
	    k->helo, is_ptr ? "is the PTR name but" :
	    "is not the PTR name and", a4[0] ? a4 :
	    ctl_id_status(&k->helo_a[0]), a6[0] ? a6 :
	    ctl_id_status(&k->helo_a[1]));
}

/* The strings of the TXT record rec, each quoted and escaped, into buf. */
static const char *
ctl_id_txt_strings(const struct dns_txt *t, int rec, char *buf, size_t len)
{
	const struct dns_txt_record *r = &t->rec[rec];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nstrings && o + 4 < len; i++) {
		char esc[IDENTITY_SPF_TEXT];

		identity_escape(t->text + r->s[i].off, r->s[i].len, esc,
		    sizeof(esc));
		o += (size_t)snprintf(buf + o, len - o, "%s\"%s\"", i ? " " :
		    "", esc);
	}
	return buf;
}

static void
ctl_id_steps_spf(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct conf_sniffer *cs = &k->c->conf.sniffer;
	struct identity_spf s;
	char strs[IDENTITY_SPF_TEXT];
	const char *h = k->helo;
	int r = ad->spf;

	if (h[0] == '\0' || k->helo_mask != 0 || k->spfc == NULL)
		return;
	if (!k->txt_done || k->txt_status == DNS_ERROR) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "the TXT lookup of %s "
		    "failed (%s): receivers get temperror", h, !k->txt_done ?
		    "no answer before the deadline" : "error");
		return;
	}
	if (k->txt_status != DNS_OK || k->txt.status != DNS_OK) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "%s has no TXT record "
		    "(%s): no SPF record, SPF of the HELO is none; publish "
		    "\"v=spf1 a -all\" or the like", h,
		    k->txt_status == DNS_NXDOMAIN ||
		    k->txt.status == DNS_NXDOMAIN ? "NXDOMAIN" :
		    k->txt.status == DNS_ERROR ? k->txt.error : "no records");
		return;
	}
	identity_spf_read(&k->txt, &s);
	if (s.nspf == 0 && s.nbroken > 0) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "the SPF record of %s is "
		    "split into %zu strings, %s, which receivers join with "
		    "nothing between (RFC 7208 3.3) into \"%s\": that is no "
		    "SPF record (SPF %s); put the spaces inside the strings: "
		    "\"%s\"", h, s.nstrings, ctl_id_txt_strings(&k->txt,
		    s.rec, strs, sizeof(strs)), s.joined,
		    r == HELO_PENDING ? "unknown" : spfcheck_name(r),
		    s.spaced);
		return;
	}
	if (s.nspf == 0) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "%s has TXT records but "
		    "none begins with \"v=spf1\": no SPF record (SPF %s)", h,
		    r == HELO_PENDING ? "unknown" : spfcheck_name(r));
		return;
	}
	if (s.nspf > 1) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "%s has %zu SPF records: "
		    "receivers answer permerror (RFC 7208 4.5); keep one", h,
		    s.nspf);
		return;
	}
	if (r == HELO_PENDING) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s: no "
		    "verdict before the deadline (record \"%s\")", h,
		    s.joined);
		return;
	}
	if (r == SPFCHECK_PERMERROR && s.glued > 0) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "the SPF record of %s is "
		    "split into %zu strings, %s, joined as receivers read "
		    "them into \"%s\", which does not parse (permerror): a "
		    "space is missing at %s join%s", h, s.nstrings,
		    ctl_id_txt_strings(&k->txt, s.rec, strs, sizeof(strs)),
		    s.joined, s.glued == 1 ? "a" : "each", s.glued == 1 ? "" :
		    "s");
		return;
	}
	switch (r) {
	case SPFCHECK_PASS:
		if (s.all == '~' || s.all == '?')
			ctl_id_step(k, ID_WARN, "spf", ad, "SPF of "
			    "postmaster@%s passes for the address, but the "
			    "record ends in %call: other addresses get %s, "
			    "which receivers with %s = yes (smtpgate's default)"
			    " treat as fail; end it in -all (\"%s\")", h,
			    s.all, s.all == '~' ? "softfail" : "neutral",
			    s.all == '~' ? "spf_softfail_fails" :
			    "spf_neutral_fails", s.joined);
		else if (s.all == '+')
			ctl_id_step(k, ID_WARN, "spf", ad, "SPF of "
			    "postmaster@%s passes, but the record ends in "
			    "+all: it passes every address on the Internet "
			    "(\"%s\")", h, s.joined);
		else
			ctl_id_step(k, ID_PASS, "spf", ad, "SPF of "
			    "postmaster@%s passes for the address (\"%s\")", h,
			    s.joined);
		break;
	case SPFCHECK_SOFTFAIL:
	case SPFCHECK_NEUTRAL:
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s is "
		    "%s for the address (the record ends in %s, \"%s\"): "
		    "receivers with %s = yes treat it as fail (here: %s); "
		    "list the address and end in -all",
		    h, spfcheck_name(r), s.all ? (s.all == '~' ? "~all" :
		    s.all == '?' ? "?all" : s.all == '-' ? "-all" : "all") :
		    "no all", s.joined, r == SPFCHECK_SOFTFAIL ?
		    "spf_softfail_fails" : "spf_neutral_fails",
		    helo_spf_fails(cs, r) ? "yes, refused" : "no");
		break;
	case SPFCHECK_FAIL:
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s fails "
		    "for the address: the record does not list it (\"%s\")",
		    h, s.joined);
		break;
	case SPFCHECK_PERMERROR:
		ctl_id_step(k, ID_FAIL, "spf", ad, "the SPF record of %s does "
		    "not parse (permerror): \"%s\"", h, s.joined);
		break;
	default:
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s: %s "
		    "(\"%s\")", h, spfcheck_name(r), s.joined);
		break;
	}
}

/* The gate's health judgment of zone z (NULL: it asks the zone). */
static const char *
ctl_id_health(const struct ctl_identity *k, size_t z, char *buf, size_t len)
{
	return findings_health_why(k->probe2[z].done ? &k->probe2[z].r : NULL,
	    k->probe1[z].done ? &k->probe1[z].r : NULL, buf, len);
}

static void
ctl_id_steps_dnsbl(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct dnsbl_sites *s = &k->c->conf.gate.dnsbl_sites;
	struct findings *f = &ad->f;

	for (size_t z = 0; z < s->nzones; z++) {
		char sick[128], ans[512];
		enum findings_zone st;

		if (ctl_id_health(k, z, sick, sizeof(sick)) != NULL) {
			ctl_id_step(k, ID_WARN, "dnsbl", ad, "%s not judged: "
			    "the gate disables this list (%s)", s->zone[z],
			    sick);
			continue;
		}
		findings_dnsbl_ask(f, z);
		st = ad->bl[z].done ? findings_dnsbl(f, z, &ad->bl[z].r) :
		    FINDINGS_ZONE_PENDING;
		ctl_id_addrs(&ad->bl[z], ans, sizeof(ans));
		if (st == FINDINGS_ZONE_CLEAR)
			ctl_id_step(k, ID_PASS, "dnsbl", ad, "not listed in "
			    "%s", s->zone[z]);
		else if (st == FINDINGS_ZONE_ANSWERED && f->zscore[z] > 0)
			ctl_id_step(k, ID_FAIL, "dnsbl", ad, "listed in %s "
			    "(answer %s, weight %d; the gate refuses at a score "
			    "of %d): ask the list's operator to delist the "
			    "address", s->zone[z], ans, f->zscore[z],
			    k->c->conf.gate.dnsbl_threshold);
		else if (st == FINDINGS_ZONE_ANSWERED && f->zscore[z] < 0)
			ctl_id_step(k, ID_PASS, "dnsbl", ad, "listed in the "
			    "allow list %s (answer %s, weight %d)", s->zone[z],
			    ans, f->zscore[z]);
		else if (st == FINDINGS_ZONE_ANSWERED && f->zerrors[z] > 0)
			ctl_id_step(k, ID_WARN, "dnsbl", ad, "%s answered an "
			    "operator error code (%s): the list refuses this "
			    "resolver, nothing is known", s->zone[z], ans);
		else if (st == FINDINGS_ZONE_ANSWERED)
			ctl_id_step(k, ID_PASS, "dnsbl", ad, "%s answers %s, "
			    "which no entry of dnsbl_sites counts", s->zone[z],
			    ans);
		else
			ctl_id_step(k, ID_WARN, "dnsbl", ad, "%s: %s (nothing "
			    "known)", s->zone[z], ctl_id_status(&ad->bl[z]));
	}
}

static void
ctl_id_steps_banner(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct findings *f = &ad->f;
	struct identity_banner b;

	if (ad->conn != CONN_DONE) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d: no complete "
		    "greeting before the deadline", CTL_ID_SMTP_PORT);
		return;
	}
	identity_banner_parse(ad->banner, ad->blen, &b);
	if (ad->conn_err != NULL) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d: %s%s%s%s",
		    CTL_ID_SMTP_PORT, ad->conn_err, b.first[0] ? " (read: \"" :
		    "", b.first, b.first[0] ? "\")" : "");
		return;
	}
	if (b.state == IDENTITY_BANNER_MALFORMED) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d: %s: \"%s\"",
		    CTL_ID_SMTP_PORT, b.why, b.first);
		return;
	}
	if (b.code != 220) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d greets with %u, "
		    "not 220: \"%s\"", CTL_ID_SMTP_PORT, b.code, b.first);
		return;
	}
	if (b.name[0] == '\0') {
		ctl_id_step(k, ID_WARN, "banner", ad, "\"%s\" (%lld ms) names "
		    "no host: receivers that compare it with the PTR name "
		    "find nothing", b.first, (long long)ad->ms);
		return;
	}
	for (size_t i = 0; i < f->nnames; i++)
		if (strcmp(b.name, f->names[i]) == 0) {
			ctl_id_step(k, ID_PASS, "banner", ad, "\"%s\" (%lld "
			    "ms) names %s, the PTR name%s", b.first,
			    (long long)ad->ms, b.name,
			    strcasecmp(b.name, k->helo) == 0 ? " and the HELO "
			    "name" : "");
			return;
		}
	if (k->helo[0] != '\0' && strcasecmp(b.name, k->helo) == 0) {
		ctl_id_step(k, ID_WARN, "banner", ad, "\"%s\" (%lld ms) names "
		    "%s, the HELO name but not the PTR name%s%s", b.first,
		    (long long)ad->ms, b.name, f->nnames ? " " : "",
		    f->nnames ? f->names[0] : "");
		return;
	}
	ctl_id_step(k, ID_WARN, "banner", ad, "\"%s\" (%lld ms) names %s, "
	    "neither the PTR name%s%s nor the HELO name%s%s", b.first,
	    (long long)ad->ms, b.name, f->nnames ? " " : "",
	    f->nnames ? f->names[0] : "", k->helo[0] ? " " : "", k->helo);
}

void
ctl_id_steps(struct ctl_identity *k, const struct ptrclass *pc)
{
	char a4[512], a6[512];

	if (!k->target_is_ip) {
		ctl_id_addrs(&k->host[0], a4, sizeof(a4));
		ctl_id_addrs(&k->host[1], a6, sizeof(a6));
		if (k->naddrs == 0)
			ctl_id_step(k, ID_FAIL, "resolve", NULL, "%s has no "
			    "address (A: %s; AAAA: %s)", k->target,
			    ctl_id_status(&k->host[0]),
			    ctl_id_status(&k->host[1]));
		else
			ctl_id_step(k, k->nmore ? ID_WARN : ID_PASS, "resolve",
			    NULL, "%s has A %s, AAAA %s%s", k->target,
			    a4[0] ? a4 : ctl_id_status(&k->host[0]),
			    a6[0] ? a6 : ctl_id_status(&k->host[1]),
			    k->nmore ? " (only the first addresses checked)" :
			    "");
	}
	if (k->helo_raw[0] != '\0' && k->helo_mask != 0) {
		char rules[256];
		size_t o = 0;

		rules[0] = '\0';
		for (int r = 0; r < RULE_MAX; r++)
			if (k->helo_mask & (1u << r))
				o += (size_t)snprintf(rules + o, sizeof(rules) -
				    o, "%s%s", o ? ", " : "",
				    conf_rule_name(r));
		ctl_id_step(k, ID_FAIL, "helo", NULL, "HELO %s (%s) breaks "
		    "the sniffer's rule%s %s%s", k->helo_shown, k->helo_src,
		    strchr(rules, ',') ? "s" : "", rules, k->helo[0] ? "" :
		    ": not a host name; its DNS and SPF checks left out");
	} else if (k->helo_raw[0] != '\0' && k->helo[0] == '\0') {
		ctl_id_step(k, ID_FAIL, "helo", NULL, "HELO %s (%s) is not a "
		    "host name", k->helo_shown, k->helo_src);
	} else if (k->helo[0] != '\0') {
		ctl_id_step(k, ID_PASS, "helo", NULL, "HELO name %s (%s)",
		    k->helo, k->helo_src);
	} else {
		ctl_id_step(k, ID_WARN, "helo", NULL, "no HELO name, its "
		    "checks and SPF left out: %s", k->helo_why);
	}
	for (size_t i = 0; i < k->naddrs; i++) {
		struct ctl_id_addr *ad = &k->addr[i];

		ctl_id_steps_ptr(k, ad, pc);
		ctl_id_steps_helo(k, ad);
		ctl_id_steps_spf(k, ad);
		ctl_id_steps_dnsbl(k, ad);
		if (k->connect)
			ctl_id_steps_banner(k, ad);
	}
}

static const char *
ctl_id_result_name(enum ctl_id_result r)
{
	return r == ID_PASS ? "PASS" : r == ID_WARN ? "WARN" : "FAIL";
}

void
ctl_id_print(const struct ctl_identity *k)
{
	size_t fails = 0, warns = 0;

	for (size_t i = 0; i < k->nsteps; i++) {
		fails += k->step[i].res == ID_FAIL;
		warns += k->step[i].res == ID_WARN;
	}
	if (k->c->fmt == CTL_FMT_JSON) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj(&j, NULL);
		ctl_json_str(&j, "target", k->target);
		ctl_json_str(&j, "helo", k->helo_raw[0] ? k->helo_raw : NULL);
		ctl_json_str(&j, "helo_source", k->helo_raw[0] ?
		    k->helo_src : NULL);
		ctl_json_arr(&j, "addresses");
		for (size_t i = 0; i < k->naddrs; i++) {
			char ip[ADDR_STRLEN];

			ctl_json_str(&j, NULL, addr_ntop(&k->addr[i].a, ip));
		}
		ctl_json_end(&j);
		ctl_json_arr(&j, "steps");
		for (size_t i = 0; i < k->nsteps; i++) {
			const struct ctl_id_step *s = &k->step[i];

			ctl_json_obj(&j, NULL);
			ctl_json_str(&j, "check", s->check);
			ctl_json_str(&j, "address", s->addr[0] ? s->addr :
			    NULL);
			ctl_json_str(&j, "result",
			    ctl_id_result_name(s->res));
			ctl_json_str(&j, "why", s->text);
			ctl_json_end(&j);
		}
		ctl_json_end(&j);
		ctl_json_int(&j, "fail", (long long)fails);
		ctl_json_int(&j, "warn", (long long)warns);
		ctl_json_bool(&j, "ok", fails == 0);
		ctl_json_end(&j);
		return;
	}
	printf("identity %s (configuration %s, deadline %u ms)\n", k->target,
	    k->c->conf_path, k->c->conf.gate.deadline_ms);
	for (size_t i = 0; i < k->nsteps; i++) {
		const struct ctl_id_step *s = &k->step[i];

		printf("%s %-7s %s%s%s\n", ctl_id_result_name(s->res),
		    s->check, s->addr, s->addr[0] ? " " : "", s->text);
	}
	printf("%s: %zu failed, %zu warned, %zu steps\n", fails ? "FAIL" :
	    "PASS", fails, warns, k->nsteps);
}

