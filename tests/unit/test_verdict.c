/*
 * test_verdict.c - the verdict rules, table-driven: findings and actions in,
 * verdict, reason list and cacheability out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "verdict.h"

struct vcase {
	const char *name;
	/* configuration changes from the defaults */
	enum action no_ptr, generic, fcrdns, dns_error, dnsbl;
	int allow_threshold;
	bool with_sites;
	/* findings */
	enum verdict_ptr ptr;
	enum verdict_fcrdns fcrdns_f;
	enum ptr_class cls;
	int score;
	bool incomplete;
	/* want */
	const char *verdict;
	const char *reasons;
	bool cache;
	/* invalid_ptr when set, else no_ptr's action (as conf_load does) */
	bool invalid_set;
	enum action invalid;
};

#define D ACTION_REJECT, ACTION_REJECT, ACTION_LOG, ACTION_ACCEPT, ACTION_REJECT

static const struct vcase cases[] = {
	{ "clean named host", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_PASS, PTR_NAMED, 0, false, "accept", "ok", true, false, ACTION_OFF },
	{ "no ptr rejects", D, 0, true, VERDICT_PTR_NONE,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false, "reject", "no-ptr",
	  true, false, ACTION_OFF },
	{ "no ptr off", ACTION_OFF, ACTION_REJECT, ACTION_LOG, ACTION_ACCEPT,
	  ACTION_REJECT, 0, true, VERDICT_PTR_NONE, VERDICT_FCRDNS_UNKNOWN,
	  PTR_NAMED, 0, false, "accept", "ok", true, false, ACTION_OFF },
	{ "no ptr drop", ACTION_DROP, ACTION_REJECT, ACTION_LOG,
	  ACTION_ACCEPT, ACTION_REJECT, 0, true, VERDICT_PTR_NONE,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false, "drop", "no-ptr",
	  true, false, ACTION_OFF },
	{ "generic rejects, fcrdns listed after", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_FAIL, PTR_GENERIC, 0, false,
	  "reject", "generic-ptr,fcrdns", true, false, ACTION_OFF },
	{ "fcrdns fail only logs", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_FAIL, PTR_NAMED, 0, false, "accept", "fcrdns",
	  true, false, ACTION_OFF },
	{ "dnsbl at threshold rejects", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_PASS, PTR_NAMED, 1, false, "reject", "dnsbl", true, false, ACTION_OFF },
	{ "dnsbl without sites never fires", D, 0, false, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_PASS, PTR_NAMED, 1, false, "accept", "ok", true, false, ACTION_OFF },
	{ "dnswl passes a generic host", D, -1, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_FAIL, PTR_GENERIC, -2, false, "accept", "dnswl",
	  true, false, ACTION_OFF },
	{ "negative score above allow threshold does not pass", D, -3, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_FAIL, PTR_GENERIC, -2, false,
	  "reject", "generic-ptr,fcrdns", true, false, ACTION_OFF },
	{ "allow threshold 0 is off", D, 0, true, VERDICT_PTR_NONE,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, -5, false, "reject", "no-ptr",
	  true, false, ACTION_OFF },
	{ "ptr timeout accepts, not cached", D, 0, true, VERDICT_PTR_UNKNOWN,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false, "accept", "dns-error",
	  false, false, ACTION_OFF },
	{ "servfail with dns_error=drop", ACTION_REJECT, ACTION_REJECT,
	  ACTION_LOG, ACTION_DROP, ACTION_REJECT, 0, true, VERDICT_PTR_ERROR,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false, "drop", "dns-error",
	  false, false, ACTION_OFF },
	{ "dnsbl decides over dns error and is cached", D, 0, true,
	  VERDICT_PTR_ERROR, VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 3, false,
	  "reject", "dnsbl,dns-error", true, false, ACTION_OFF },
	{ "forward lookups failed: dns-error", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false, "accept", "dns-error",
	  false, false, ACTION_OFF },
	{ "drop beats log, reject beats drop", ACTION_DROP, ACTION_REJECT,
	  ACTION_LOG, ACTION_ACCEPT, ACTION_LOG, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_FAIL, PTR_GENERIC, 5, false, "reject",
	  "generic-ptr,dnsbl,fcrdns", true, false, ACTION_OFF },
	{ "accept with a silent DNSBL is not cached", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_PASS, PTR_NAMED, 0, true,
	  "accept", "ok", false, false, ACTION_OFF },
	{ "invalid name: invalid-ptr, no_ptr's action, cached", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_FAIL, PTR_INVALID, 0, false,
	  "reject", "invalid-ptr,fcrdns", true, false, ACTION_OFF },
	{ "bad bytes, nothing asked forward: invalid-ptr, never dns-error",
	  D, 0, true, VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID,
	  0, false, "reject", "invalid-ptr", true, false, ACTION_OFF },
	{ "invalid_ptr unset follows no_ptr=drop", ACTION_DROP, ACTION_REJECT,
	  ACTION_LOG, ACTION_ACCEPT, ACTION_REJECT, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID, 0, false,
	  "drop", "invalid-ptr", true, false, ACTION_OFF },
	{ "invalid_ptr=log: accepted and cached", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID, 0, false,
	  "accept", "invalid-ptr", true, true, ACTION_LOG },
	{ "invalid_ptr=off: accepted, not named, cached", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID, 0, false,
	  "accept", "ok", true, true, ACTION_OFF },
	{ "invalid_ptr=reject while no_ptr=log", ACTION_LOG, ACTION_REJECT,
	  ACTION_LOG, ACTION_ACCEPT, ACTION_REJECT, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID, 0, false,
	  "reject", "invalid-ptr", true, true, ACTION_REJECT },
	{ "a generic name is not invalid", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_PASS, PTR_GENERIC, 0, false, "reject", "generic-ptr",
	  true, true, ACTION_OFF },
	{ "a failed DNSBL (SERVFAIL) under a clean host: not cached", D, 0,
	  true, VERDICT_PTR_FOUND, VERDICT_FCRDNS_PASS, PTR_NAMED, 0, true,
	  "accept", "ok", false, false, ACTION_OFF },
	{ "a failed DNSBL under a no-ptr reject: cached", D, 0, true,
	  VERDICT_PTR_NONE, VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, true,
	  "reject", "no-ptr", true, false, ACTION_OFF },
	{ "a failed DNSBL under an invalid name: cached", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID, 0, true,
	  "reject", "invalid-ptr", true, false, ACTION_OFF },
	{ "listed on one list while another failed: cached reject", D, 0,
	  true, VERDICT_PTR_FOUND, VERDICT_FCRDNS_PASS, PTR_NAMED, 3, true,
	  "reject", "dnsbl", true, false, ACTION_OFF },
	{ "a failed DNSBL under a logged finding: not cached", D, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_FAIL, PTR_NAMED, 0, true,
	  "accept", "fcrdns", false, false, ACTION_OFF },
	{ "static generic logs by default", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_PASS, PTR_STATIC_GENERIC, 0, false, "accept",
	  "static-ptr", true, false, ACTION_OFF },
	/* tempfail: reject > drop > tempfail > log */
	{ "no ptr tempfail", ACTION_TEMPFAIL, ACTION_REJECT, ACTION_LOG,
	  ACTION_ACCEPT, ACTION_REJECT, 0, true, VERDICT_PTR_NONE,
	  VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false, "tempfail", "no-ptr",
	  true, false, ACTION_OFF },
	{ "dnsbl reject beats no-ptr tempfail", ACTION_TEMPFAIL,
	  ACTION_REJECT, ACTION_LOG, ACTION_ACCEPT, ACTION_REJECT, 0, true,
	  VERDICT_PTR_NONE, VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 2, false,
	  "reject", "dnsbl,no-ptr", true, false, ACTION_OFF },
	{ "drop beats tempfail", ACTION_TEMPFAIL, ACTION_DROP, ACTION_LOG,
	  ACTION_ACCEPT, ACTION_REJECT, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_FAIL, PTR_GENERIC, 0, false, "drop",
	  "generic-ptr,fcrdns", true, false, ACTION_OFF },
	{ "fcrdns tempfail beats a logged generic name", ACTION_REJECT,
	  ACTION_LOG, ACTION_TEMPFAIL, ACTION_ACCEPT, ACTION_REJECT, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_FAIL, PTR_GENERIC, 0, false,
	  "tempfail", "fcrdns,generic-ptr", true, false, ACTION_OFF },
	{ "dns_error tempfail: not a cached verdict", D, 0, true,
	  VERDICT_PTR_ERROR, VERDICT_FCRDNS_UNKNOWN, PTR_NAMED, 0, false,
	  "accept", "dns-error", false, false, ACTION_OFF },
	{ "dns_error=tempfail decides, not cached as a verdict",
	  ACTION_REJECT, ACTION_REJECT, ACTION_LOG, ACTION_TEMPFAIL,
	  ACTION_REJECT, 0, true, VERDICT_PTR_ERROR, VERDICT_FCRDNS_UNKNOWN,
	  PTR_NAMED, 0, false, "tempfail", "dns-error", false, false,
	  ACTION_OFF },
	{ "dnsbl tempfail", D, 0, true, VERDICT_PTR_FOUND,
	  VERDICT_FCRDNS_PASS, PTR_NAMED, 1, false, "reject", "dnsbl", true,
	  false, ACTION_OFF },
	{ "invalid name follows no_ptr=tempfail", ACTION_TEMPFAIL,
	  ACTION_REJECT, ACTION_LOG, ACTION_ACCEPT, ACTION_REJECT, 0, true,
	  VERDICT_PTR_FOUND, VERDICT_FCRDNS_UNKNOWN, PTR_INVALID, 0, false,
	  "tempfail", "invalid-ptr", true, false, ACTION_OFF },
};

static void
test_verdict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct conf conf;
		struct verdict_findings f = { 0 };
		struct verdict v;
		char reasons[128];

		conf_defaults(&conf);
		conf.gate.no_ptr = c->no_ptr;
		conf.gate.invalid_ptr = c->invalid_set ? c->invalid :
		    c->no_ptr;
		conf.gate.generic_ptr = c->generic;
		conf.gate.static_ptr = ACTION_LOG;
		conf.gate.fcrdns = c->fcrdns;
		conf.gate.dns_error = c->dns_error;
		conf.gate.dnsbl = c->dnsbl;
		conf.gate.dnsbl_threshold = 1;
		conf.gate.dnsbl_allow_threshold = c->allow_threshold;
		conf.gate.dnsbl_sites.nsites = c->with_sites ? 1 : 0;
		f.ptr = c->ptr;
		f.fcrdns = c->fcrdns_f;
		f.cls = c->cls;
		f.dnsbl_score = c->score;
		f.dnsbl_incomplete = c->incomplete;
		verdict_decide(&conf.gate, &f, &v);
		verdict_reasons_format(&v, reasons, sizeof(reasons));
		if (strcmp(verdict_action_name(v.action), c->verdict) != 0 ||
		    strcmp(reasons, c->reasons) != 0 || v.cache != c->cache) {
			print_error("%s: got %s %s cache=%d, want %s %s "
			    "cache=%d\n", c->name,
			    verdict_action_name(v.action), reasons, v.cache,
			    c->verdict, c->reasons, c->cache);
			fail();
		}
	}
}

/* banner_hold_ms's weak evidence: an accept with a finding against it. */
static void
test_verdict_weak(void **state)
{
	static const struct {
		const char *name;
		enum action action;
		enum verdict_reason reason;	/* VERDICT_R_MAX: none */
		bool want;
	} wc[] = {
		{ "clean accept", ACTION_ACCEPT, VERDICT_R_MAX, false },
		{ "generic-ptr logged", ACTION_ACCEPT, VERDICT_R_GENERIC, true },
		{ "fcrdns logged", ACTION_ACCEPT, VERDICT_R_FCRDNS, true },
		{ "dns-error accepted", ACTION_ACCEPT, VERDICT_R_DNS_ERROR,
		    true },
		{ "dnswl vouches", ACTION_ACCEPT, VERDICT_R_DNSWL, false },
		{ "reject is no accept", ACTION_REJECT, VERDICT_R_NO_PTR,
		    false },
		{ "tempfail is no accept", ACTION_TEMPFAIL, VERDICT_R_GENERIC,
		    false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(wc) / sizeof(wc[0]); i++) {
		struct verdict v = { .action = wc[i].action, .cache = true };
		bool got;

		if (wc[i].reason != VERDICT_R_MAX)
			v.reason[v.nreasons++] = wc[i].reason;
		got = verdict_weak(&v);
		if (got != wc[i].want) {
			print_error("%s: got weak=%d, want %d\n", wc[i].name,
			    got, wc[i].want);
			fail();
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_table),
		cmocka_unit_test(test_verdict_weak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
