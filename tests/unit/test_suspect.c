/*
 * test_suspect.c - the signs of a legitimate sender (suspect_score),
 * table-driven, and `smtpgatectl suspects` on a journal built here: an
 * MTA-like retrier with a named PTR ranks above a one-shot bot, which is
 * not listed; hostile PTR names stay out of the allow command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctl_journal.h"
#include "journal_fixture.h"
#include "suspect.h"

#define NOW	1000000000LL

struct scase {
	const char *name;
	int64_t t[12];		/* offsets from 0, ascending; */
	size_t nt;
	const char *ptr, *cls, *fcrdns, *helo, *spf;
	bool dnswl;
	unsigned want_signs;
	unsigned want_tries;
};

static const struct scase cases[] = {
	{ "postfix schedule, named, helo, spf",
	  { 0, 300, 900, 2100, 4500, 8500 }, 6, "mx.example.org", "named",
	  "pass", "MX.Example.Org.", "pass", false,
	  SUSPECT_RETRIES | SUSPECT_NAMED | SUSPECT_HELO | SUSPECT_SPF, 6 },
	{ "one-shot bot", { 0 }, 1, "1-2-3-4.dyn.example.net", "generic",
	  "pass", "localhost", "none", false, 0, 1 },
	{ "a burst is one try", { 0, 1, 2, 3, 5, 8, 13, 21, 34, 55 }, 10,
	  NULL, NULL, NULL, NULL, NULL, false, 0, 1 },
	{ "hammering for hours is one try",
	  { 0, 50, 100, 150, 200, 250, 300 }, 7, NULL, NULL, NULL, NULL, NULL,
	  false, 0, 1 },
	{ "three tries in 50 minutes: too short", { 0, 1500, 3000 }, 3, NULL,
	  NULL, NULL, NULL, NULL, false, 0, 3 },
	{ "three tries in an hour", { 0, 1800, 3600 }, 3, NULL, NULL, NULL,
	  NULL, NULL, false, SUSPECT_RETRIES, 3 },
	{ "two tries only", { 0, 7200 }, 2, NULL, NULL, NULL, NULL, NULL,
	  false, 0, 2 },
	{ "days apart: runs of one", { 0, 86400, 172800, 259200 }, 4, NULL,
	  NULL, NULL, NULL, NULL, false, 0, 1 },
	{ "a run after a pause", { 0, 86400, 87000, 88200, 90600 }, 5, NULL,
	  NULL, NULL, NULL, NULL, false, SUSPECT_RETRIES, 4 },
	{ "unsorted: no schedule", { 0, 3600, 1800 }, 3, NULL, NULL, NULL,
	  NULL, NULL, false, 0, 0 },
	{ "named but not confirmed", { 0 }, 1, "mx.example.org", "named",
	  "fail", NULL, NULL, false, 0, 1 },
	{ "dnswl", { 0 }, 1, NULL, "none", NULL, NULL, NULL, true,
	  SUSPECT_DNSWL, 1 },
	{ "helo differs", { 0 }, 1, "mx.example.org", "named", "pass",
	  "mx.example.org.evil", "fail", false, SUSPECT_NAMED, 1 },
	{ "empty names never match", { 0 }, 1, "", "named", "pass", "",
	  NULL, false, 0, 1 },
	{ "no attempts", { 0 }, 0, NULL, NULL, NULL, NULL, NULL, false, 0, 0 },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scase *c = &cases[i];
		struct suspect_in in = { c->t, c->nt, c->ptr, c->cls,
		    c->fcrdns, c->dnswl, c->helo, c->spf };
		struct suspect_score sc;
		int want_score = 0;

		suspect_score(&in, &sc);
		if (c->want_signs & SUSPECT_RETRIES)
			want_score += SUSPECT_W_RETRIES;
		if (c->want_signs & SUSPECT_NAMED)
			want_score += SUSPECT_W_NAMED;
		if (c->want_signs & SUSPECT_DNSWL)
			want_score += SUSPECT_W_DNSWL;
		if (c->want_signs & SUSPECT_HELO)
			want_score += SUSPECT_W_HELO;
		if (c->want_signs & SUSPECT_SPF)
			want_score += SUSPECT_W_SPF;
		if (sc.signs != c->want_signs || sc.score != want_score ||
		    sc.tries != c->want_tries)
			fail_msg("%s: got signs %#x score %d tries %u, want "
			    "%#x %d %u", c->name, sc.signs, sc.score, sc.tries,
			    c->want_signs, want_score, c->want_tries);
	}
}

static void
test_reasons(void **state)
{
	struct suspect_score sc = { SUSPECT_RETRIES | SUSPECT_NAMED |
	    SUSPECT_DNSWL | SUSPECT_HELO | SUSPECT_SPF, 14, 5, 12240 };
	struct suspect_score none = { 0, 0, 1, 0 };
	char buf[256], small[12];

	(void)state;
	assert_string_equal(suspect_reasons(&sc, buf, sizeof(buf)),
	    "retried 5 times over 3.4 h; named PTR, forward-confirmed; "
	    "DNSWL-listed; HELO is the PTR name; SPF pass for the HELO");
	assert_string_equal(suspect_reasons(&none, buf, sizeof(buf)),
	    "no sign");
	assert_string_equal(suspect_reasons(&sc, small, sizeof(small)),
	    "retried 5 t");
	assert_true(suspect_name_eq("A.b.", "a.B"));
	assert_false(suspect_name_eq("a.b", "a.bc"));
	assert_false(suspect_name_eq(NULL, "a"));
	assert_false(suspect_name_eq(".", ""));
}

static char *
run(struct fx *f, enum ctl_format fmt, int *rc)
{
	struct ctl c;
	struct fx_capture cap;
	char *argv[] = { "suspects", "--journal", f->path, "--since", "1d",
	    NULL };

	memset(&c, 0, sizeof(c));
	c.now = NOW;
	c.fmt = fmt;
	fx_capture_start(&cap);
	*rc = ctl_suspects_main(&c, 5, argv);
	return fx_capture_end(&cap);
}

static void
test_ranking(void **state)
{
	static const int64_t sched[] = { 0, 300, 900, 2100, 4500, 8500 };
	struct fx f;
	char *out, *mta, *half, *line2 = NULL;
	int rc;

	(void)state;
	fx_open(&f, 1);
	/* an MTA-like retrier with a named, confirmed PTR; each try a gate
	 * attempt and a sniffer session (seconds apart: one try) */
	for (size_t i = 0; i < sizeof(sched) / sizeof(sched[0]); i++) {
		int64_t t = NOW - 20000 + sched[i];

		fx_attempt(&f, t, "192.0.2.25", "gate", "tempfail", 0,
		    "dnsbl", "mail.example.org", "named", "pass", NULL, NULL,
		    "dnsbl:tempfail dnsbl:zen.example:tempfail");
		fx_attempt(&f, t + 2, "192.0.2.25", "sniff", "clean", 1, "",
		    NULL, NULL, NULL, "mail.example.org", "pass", NULL);
	}
	/* a one-shot bot: generic PTR, no retry */
	fx_attempt(&f, NOW - 100, "203.0.113.9", "gate", "reject", 0,
	    "generic-ptr", "203-0-113-9.dyn.example.net", "generic", "pass",
	    NULL, NULL, "generic-ptr:reject");
	/* a hammering bot: a hundred attempts in 100 s, no name */
	for (int i = 0; i < 100; i++)
		fx_attempt(&f, NOW - 5000 + i, "203.0.113.10", "gate",
		    "reject", 0, "no-ptr", NULL, "none", "unknown", NULL, NULL,
		    "no-ptr:reject");
	/* half the signs, IPv6, a hostile PTR name that must not reach the
	 * allow command */
	fx_attempt(&f, NOW - 300, "2001:db8::25", "gate", "reject", 0,
	    "fcrdns", "mx\"$(reboot)\n.example.org", "named", "pass", NULL,
	    NULL, "fcrdns:reject");
	/* refused, then allowed: not a suspect any more */
	fx_attempt(&f, NOW - 300, "198.51.100.26", "gate", "reject", 0,
	    "no-ptr", "mx2.example.org", "named", "pass", NULL, NULL,
	    "no-ptr:reject");
	fx_outcome(&f, NOW - 200, "198.51.100.0/24", "allowed");

	out = run(&f, CTL_FMT_TEXT, &rc);
	assert_int_equal(rc, CTL_OK);
	if ((mta = strstr(out, "\n1 ")) == NULL ||
	    strstr(mta, "192.0.2.25") == NULL ||
	    (line2 = strstr(out, "\n2 ")) == NULL ||
	    strstr(line2, "2001:db8::25") == NULL)
		fail_msg("want 192.0.2.25 first, 2001:db8::25 second:\n%s",
		    out);
	assert_non_null(strstr(out, "4 refused addresses in 1d, 2 with signs"));
	assert_null(strstr(out, "203.0.113."));
	assert_null(strstr(out, "198.51.100.26"));
	half = strstr(mta + 1, "\n");	/* the end of the first line */
	assert_true(half != NULL && half == line2);
	assert_non_null(strstr(mta, "retried 6 times over 2.3 h; named PTR, "
	    "forward-confirmed; HELO is the PTR name; SPF pass for the HELO"));
	assert_non_null(strstr(mta, "smtpgatectl allow add 192.0.2.25/32 "
	    "--comment \"suspect, refused by dnsbl: retries named-ptr "
	    "helo=ptr spf-pass (mail.example.org)\""));
	assert_non_null(strstr(line2, "smtpgatectl allow add "
	    "2001:db8::25/128 --comment \"suspect, refused by fcrdns: "
	    "named-ptr\""));
	assert_non_null(strstr(line2, "mx\"$(reboot)?.example.org"));
	free(out);

	out = run(&f, CTL_FMT_JSON, &rc);
	assert_int_equal(rc, CTL_OK);
	if (strstr(out, "[\n {\"rank\": 1, \"score\": 11, "
	    "\"addr\": \"192.0.2.25\", \"ptr\": \"mail.example.org\", "
	    "\"tries\": 6,") == NULL)
		fail_msg("got:\n%s", out);
	assert_non_null(strstr(out, "\"ptr\": \"mx\\\"$(reboot)\\u000a"
	    ".example.org\""));
	free(out);
	fx_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_ranking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
