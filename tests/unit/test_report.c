/*
 * test_report.c - smtpgatectl report's counting on journals built here
 * (journal_fixture.h, the contract's schema): exact counts for both
 * windows, the outcomes (retried after the last attempt counts, before
 * does not; allowed by a containing prefix), IPv6, an empty journal, the
 * schema version and a missing file, and hostile strings in the database
 * through the text table, the CSV and the JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctl_journal.h"
#include "journal.h"
#include "journal_fixture.h"

#define NOW	1000000000LL
#define SINCE	1000LL		/* the window: [NOW - 1000, NOW] */
#define SPLIT	100LL		/* the recent one: [NOW - 100, NOW] */

struct want_row {
	const char *rule;
	unsigned long long trig, acc, rtrig, racc;
};

/* Fetch f's journal over the test window and count it. */
static void
count(struct fx *f, struct ctl_journal_set *set, struct ctl_tally *tl)
{
	struct ctl_journal j;

	assert_int_equal(ctl_journal_open(&j, f->path), 0);
	assert_int_equal(ctl_journal_fetch(&j, NOW - SINCE, NOW, true, set), 0);
	ctl_journal_close(&j);
	assert_int_equal(ctl_tally_count(set, NOW - SPLIT, tl), 0);
}

static void
check_rows(const struct ctl_journal_set *set, const struct ctl_tally *tl,
    const struct want_row *w, size_t n)
{
	if (tl->nrow != n)
		fail_msg("rows: got %zu, want %zu", tl->nrow, n);
	for (size_t i = 0; i < n; i++) {
		const struct ctl_tally_row *r = &tl->row[i];
		const char *name = set->rule[r->rule];

		if (strcmp(name, w[i].rule) != 0 ||
		    r->all.triggered != w[i].trig ||
		    r->all.accepted != w[i].acc ||
		    r->recent.triggered != w[i].rtrig ||
		    r->recent.accepted != w[i].racc)
			fail_msg("row %zu: got %s %llu/%llu recent %llu/%llu, "
			    "want %s %llu/%llu recent %llu/%llu", i, name,
			    r->all.triggered, r->all.accepted,
			    r->recent.triggered, r->recent.accepted, w[i].rule,
			    w[i].trig, w[i].acc, w[i].rtrig, w[i].racc);
	}
}

static void
check_totals(const struct ctl_tally *tl, unsigned long long addrs,
    unsigned long long acc, unsigned long long raddrs,
    unsigned long long racc)
{
	if (tl->all.addresses != addrs || tl->all.accepted != acc ||
	    tl->recent.addresses != raddrs || tl->recent.accepted != racc)
		fail_msg("totals: got %llu/%llu recent %llu/%llu, want "
		    "%llu/%llu recent %llu/%llu", tl->all.addresses,
		    tl->all.accepted, tl->recent.addresses, tl->recent.accepted,
		    addrs, acc, raddrs, racc);
}

/* Both windows, the last attempt of each daemon deciding. */
static void
test_windows(void **state)
{
	struct fx f;
	struct ctl_journal_set set;
	struct ctl_tally tl;
	static const struct want_row want[] = {
		/* triggered desc, then recent triggered, then name */
		{ "fcrdns", 2, 1, 1, 1 },
		{ "unqualified", 1, 0, 1, 0 },
		{ "generic-ptr", 1, 0, 0, 0 },
		{ "no-ptr", 1, 0, 0, 0 },
	};

	(void)state;
	fx_open(&f, 1);
	/* A: refused in the old part only */
	fx_gate(&f, NOW - 500, "192.0.2.1", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	/* B: refused, then accepted later: its last attempt counts */
	fx_gate(&f, NOW - 500, "192.0.2.2", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 50, "192.0.2.2", "accept", 1, "", NULL);
	/* C: a log-mode rule, accepted, recent */
	fx_gate(&f, NOW - 50, "192.0.2.3", "accept", 1, "fcrdns",
	    "fcrdns:log");
	/* D: passed the gate, struck by the sniffer */
	fx_gate(&f, NOW - 31, "192.0.2.4", "accept", 1, "", NULL);
	fx_sniff(&f, NOW - 30, "192.0.2.4", "strike", 0, "unqualified",
	    "unqualified:offend");
	/* E: before the window */
	fx_gate(&f, NOW - 2000, "192.0.2.5", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	/* F: refused by the gate in the old part, a clean sniffer session
	 * recently: refused over the window, accepted over the recent one */
	fx_gate(&f, NOW - 500, "192.0.2.6", "reject", 0, "generic-ptr",
	    "generic-ptr:reject fcrdns:log");
	fx_sniff(&f, NOW - 50, "192.0.2.6", "clean", 1, "", NULL);
	/* G: after now (a clock ahead): not in the window */
	fx_gate(&f, NOW + 10, "192.0.2.7", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	count(&f, &set, &tl);
	check_totals(&tl, 5, 2, 4, 3);
	check_rows(&set, &tl, want, sizeof(want) / sizeof(want[0]));
	ctl_tally_free(&tl);
	ctl_journal_free(&set);
	fx_close(&f);
}

/* 'retried' at or after the last gate attempt accepts it; before, not;
 * it does not undo a sniffer's refusal. 'allowed' by a containing prefix
 * after the later of both attempts accepts either refusal. */
static void
test_outcomes(void **state)
{
	struct fx f;
	struct ctl_journal_set set;
	struct ctl_tally tl;
	static const struct {
		const char *addr;
		bool accepted;
	} want[] = {
		{ "192.0.2.10", true },		/* retried after */
		{ "192.0.2.11", false },	/* retried before */
		{ "192.0.2.12", false },	/* retried, sniffer struck */
		{ "192.0.2.13", true },		/* retried at the same second */
		{ "198.51.100.7", true },	/* allowed /24 after */
		{ "198.51.101.7", false },	/* allowed /24 elsewhere */
		{ "198.51.102.7", false },	/* allowed before the last */
		{ "198.51.103.7", true },	/* allowed after both daemons */
		{ "198.51.104.7", false },	/* allowed between the two */
		{ "2001:db8::1", true },	/* allowed 2001:db8::/32 */
		{ "2001:db8:1::5", true },	/* allowed, other spelling */
		{ "2001:db9::1", false },	/* outside */
	};

	(void)state;
	fx_open(&f, 1);
	fx_gate(&f, NOW - 100, "192.0.2.10", "tempfail", 0, "no-ptr",
	    "no-ptr:tempfail");
	fx_outcome(&f, NOW - 90, "192.0.2.10", "retried");
	fx_gate(&f, NOW - 100, "192.0.2.11", "tempfail", 0, "no-ptr",
	    "no-ptr:tempfail");
	fx_outcome(&f, NOW - 200, "192.0.2.11", "retried");
	fx_gate(&f, NOW - 100, "192.0.2.12", "tempfail", 0, "no-ptr",
	    "no-ptr:tempfail");
	fx_outcome(&f, NOW - 90, "192.0.2.12", "retried");
	fx_sniff(&f, NOW - 80, "192.0.2.12", "strike", 0, "unqualified",
	    "unqualified:offend");
	fx_gate(&f, NOW - 100, "192.0.2.13", "tempfail", 0, "no-ptr",
	    "no-ptr:tempfail");
	fx_outcome(&f, NOW - 100, "192.0.2.13", "retried");

	fx_gate(&f, NOW - 100, "198.51.100.7", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 100, "198.51.101.7", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 100, "198.51.102.7", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 100, "198.51.103.7", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_sniff(&f, NOW - 60, "198.51.103.7", "strike", 0, "own-name",
	    "own-name:offend");
	fx_gate(&f, NOW - 100, "198.51.104.7", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_sniff(&f, NOW - 60, "198.51.104.7", "strike", 0, "own-name",
	    "own-name:offend");
	fx_outcome(&f, NOW - 50, "198.51.100.0/24", "allowed");
	fx_outcome(&f, NOW - 50, "198.51.101.128/25", "allowed");
	fx_outcome(&f, NOW - 150, "198.51.102.0/24", "allowed");
	fx_outcome(&f, NOW - 10, "198.51.103.7", "allowed");
	fx_outcome(&f, NOW - 80, "198.51.104.0/24", "allowed");

	fx_gate(&f, NOW - 100, "2001:db8::1", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 100, "2001:db8:1::5", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 100, "2001:db9::1", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_outcome(&f, NOW - 50, "2001:db8::/32", "allowed");
	fx_outcome(&f, NOW - 50, "2001:DB8:1:0:0:0:0:5", "allowed");
	fx_outcome(&f, NOW - 50, "not-a-prefix", "allowed");
	fx_outcome(&f, NOW - 50, "2001:db9::1", "mystery");
	count(&f, &set, &tl);

	assert_int_equal(set.naddr, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct ctl_addr *a = NULL;
		bool got;

		for (size_t k = 0; k < set.naddr; k++)
			if (strcmp(set.addr[k].text, want[i].addr) == 0)
				a = &set.addr[k];
		if (a == NULL)
			fail_msg("%s: not in the set", want[i].addr);
		got = ctl_tally_accepted(&set, a, set.lo);
		if (got != want[i].accepted)
			fail_msg("%s: accepted got %d, want %d", want[i].addr,
			    got, want[i].accepted);
	}
	assert_int_equal(set.bad_outcomes, 1);
	check_totals(&tl, 12, 6, 12, 6);
	ctl_tally_free(&tl);
	ctl_journal_free(&set);
	fx_close(&f);
}

/* One attempt a second, the same address both daemons, many rules. */
static void
test_many(void **state)
{
	struct fx f;
	struct ctl_journal_set set;
	struct ctl_tally tl;
	char a[64];
	unsigned long long want_acc = 0;

	(void)state;
	fx_open(&f, 1);
	sqlite3_exec(f.db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < 600; i++) {
		snprintf(a, sizeof(a), i % 2 ? "10.0.%d.%d" : "2001:db8::%x:%x",
		    i / 100, i % 100);
		/* three attempts each, the last decides */
		fx_gate(&f, NOW - 900 + i, a, "reject", 0, "no-ptr",
		    "no-ptr:reject");
		fx_gate(&f, NOW - 800 + i, a, "reject", 0, "no-ptr",
		    "no-ptr:reject dnsbl:zen.example:reject");
		if (i % 3 == 0) {
			fx_gate(&f, NOW - 700 + i, a, "accept", 1, "", NULL);
			want_acc++;
		} else {
			fx_gate(&f, NOW - 700 + i, a, "reject", 0, "no-ptr",
			    "no-ptr:reject");
		}
	}
	sqlite3_exec(f.db, "COMMIT", NULL, NULL, NULL);
	count(&f, &set, &tl);
	/* recent window [NOW-100, NOW]: attempts at NOW-700+i for i >= 600:
	 * none */
	check_totals(&tl, 600, want_acc, 0, 0);
	/* dnsbl was on the middle attempts only, never a last one: no row */
	assert_int_equal(tl.nrow, 1);
	assert_string_equal(set.rule[tl.row[0].rule], "no-ptr");
	assert_int_equal(tl.row[0].all.triggered, 400);
	assert_int_equal(tl.row[0].all.accepted, 0);
	ctl_tally_free(&tl);
	ctl_journal_free(&set);
	fx_close(&f);
}

/* Two attempts of one address and daemon in one second: the one journaled
 * later (the higher id) is the last. */
static void
test_ties(void **state)
{
	struct fx f;
	struct ctl_journal_set set;
	struct ctl_tally tl;

	(void)state;
	fx_open(&f, 1);
	fx_gate(&f, NOW - 50, "192.0.2.1", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 50, "192.0.2.1", "accept", 1, "", NULL);
	fx_sniff(&f, NOW - 40, "192.0.2.2", "clean", 1, "", NULL);
	fx_sniff(&f, NOW - 40, "192.0.2.2", "strike", 0, "unqualified",
	    "unqualified:offend");
	fx_gate(&f, NOW - 40, "192.0.2.3", "accept", 1, "", NULL);
	fx_gate(&f, NOW - 30, "192.0.2.3", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 40, "192.0.2.3", "accept", 1, "", NULL);
	count(&f, &set, &tl);
	check_totals(&tl, 3, 1, 3, 1);
	assert_int_equal(tl.nrow, 2);
	assert_string_equal(set.rule[tl.row[0].rule], "no-ptr");
	assert_int_equal(tl.row[0].all.triggered, 1);
	assert_string_equal(set.rule[tl.row[1].rule], "unqualified");
	assert_int_equal(tl.row[1].all.triggered, 1);
	ctl_tally_free(&tl);
	ctl_journal_free(&set);
	fx_close(&f);
}

static void
test_empty(void **state)
{
	struct fx f;
	struct ctl_journal_set set;
	struct ctl_tally tl;

	(void)state;
	fx_open(&f, 1);
	count(&f, &set, &tl);
	check_totals(&tl, 0, 0, 0, 0);
	assert_int_equal(tl.nrow, 0);
	ctl_tally_free(&tl);
	ctl_journal_free(&set);
	fx_close(&f);
}

static void
test_open_faults(void **state)
{
	struct fx f;
	struct ctl_journal j;
	struct ctl c;
	char *argv[] = { "report", "--journal", NULL, NULL };

	(void)state;
	fx_open(&f, 2);
	assert_int_equal(ctl_journal_open(&j, f.path), -1);
	memset(&c, 0, sizeof(c));
	c.now = NOW;
	argv[2] = f.path;
	assert_int_equal(ctl_report_main(&c, 3, argv), CTL_UNREACHABLE);
	fx_close(&f);
	argv[2] = "/nonexistent/journal.db";
	assert_int_equal(ctl_report_main(&c, 3, argv), CTL_UNREACHABLE);
	assert_int_equal(ctl_journal_open(&j, argv[2]), -1);
}

/* Run report with argv, its stdout returned. */
static char *
run(struct fx *f, enum ctl_format fmt, int *rc, const char *a1,
    const char *a2, const char *a3)
{
	struct ctl c;
	struct fx_capture cap;
	char *argv[12];
	int argc = 0;

	memset(&c, 0, sizeof(c));
	c.now = NOW;
	c.fmt = fmt;
	argv[argc++] = "report";
	argv[argc++] = "--journal";
	argv[argc++] = f->path;
	argv[argc++] = "--since";
	argv[argc++] = "1000";
	if (a1 == NULL || strcmp(a1, "--split") != 0) {
		argv[argc++] = "--split";
		argv[argc++] = "100";
	}
	if (a1 != NULL)
		argv[argc++] = (char *)a1;
	if (a2 != NULL)
		argv[argc++] = (char *)a2;
	if (a3 != NULL)
		argv[argc++] = (char *)a3;
	argv[argc] = NULL;
	fx_capture_start(&cap);
	*rc = ctl_report_main(&c, argc, argv);
	return fx_capture_end(&cap);
}

static unsigned
lines(const char *s)
{
	unsigned n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* No byte below 0x20 but newlines, none at or above 0x7f. */
static void
check_clean(const char *what, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n') ||
		    (unsigned char)s[i] >= 0x7f)
			fail_msg("%s: byte 0x%02x at %zu in:\n%s", what,
			    (unsigned char)s[i], i, s);
}

static void
test_hostile(void **state)
{
	static const char evil_rule[] = "evil\"rule,\n\r\x1b[31m\\x";
	static const char evil_addr[] = "1.2.3.4\n\"x\",y";
	struct fx f;
	int64_t id;
	char *out;
	int rc;

	(void)state;
	fx_open(&f, 1);
	id = fx_attempt(&f, NOW - 50, evil_addr, "gate", "reject\x01", 0,
	    "no-ptr", "a\nb", "named", "pass", NULL, NULL, NULL);
	fx_finding(&f, id, evil_rule, "log");
	fx_attempt(&f, NOW - 40, "192.0.2.1", "sniff", "strike", 0,
	    evil_rule, NULL, NULL, NULL, "HELO \"x\"\r\n,\x7f\xff", "pass",
	    NULL);
	fx_finding(&f, 2, evil_rule, "offend");

	out = run(&f, CTL_FMT_TEXT, &rc, NULL, NULL, NULL);
	assert_int_equal(rc, CTL_OK);
	check_clean("text", out);
	/* summary, header, the rule, the totals */
	if (lines(out) != 4)
		fail_msg("text lines: got %u, want 4:\n%s", lines(out), out);
	if (strstr(out, "evil\"rule,???[31m\\x") == NULL)
		fail_msg("got:\n%s", out);
	free(out);

	out = run(&f, CTL_FMT_TEXT, &rc, "--csv", NULL, NULL);
	assert_int_equal(rc, CTL_OK);
	check_clean("csv", out);
	if (lines(out) != 3)
		fail_msg("csv lines: got %u, want 3:\n%s", lines(out), out);
	assert_non_null(strstr(out, "\n\"evil\"\"rule,\\x0a\\x0d\\x1b[31m\\x\","
	    "2,100.0%,0,0.0%,"));
	free(out);

	out = run(&f, CTL_FMT_JSON, &rc, NULL, NULL, NULL);
	assert_int_equal(rc, CTL_OK);
	check_clean("json", out);
	assert_non_null(strstr(out, "\"rule\": \"evil\\\"rule,\\u000a"
	    "\\u000d\\u001b[31m\\\\x\", \"triggered\": 2, "
	    "\"triggered_pct\": 100.00, \"accepted\": 0"));
	free(out);

	/* the addresses behind the row, in all three forms */
	out = run(&f, CTL_FMT_TEXT, &rc, "--rule", evil_rule, NULL);
	assert_int_equal(rc, CTL_OK);
	check_clean("rule text", out);
	if (lines(out) != 3)
		fail_msg("rule lines: got %u, want 3:\n%s", lines(out), out);
	assert_non_null(strstr(out, "1.2.3.4?\"x\",y"));
	assert_non_null(strstr(out, "gate:reject?"));
	free(out);
	out = run(&f, CTL_FMT_TEXT, &rc, "--rule", evil_rule, "--csv");
	check_clean("rule csv", out);
	assert_non_null(strstr(out, "\"1.2.3.4\\x0a\"\"x\"\",y\","));
	if (lines(out) != 3)
		fail_msg("rule csv lines: got %u, want 3:\n%s", lines(out),
		    out);
	free(out);
	out = run(&f, CTL_FMT_JSON, &rc, "--rule", evil_rule, NULL);
	check_clean("rule json", out);
	assert_non_null(strstr(out, "\"addr\": \"1.2.3.4\\u000a\\\"x\\\",y\""));
	assert_non_null(strstr(out, "\"verdict\": \"gate:reject\\u0001\""));
	free(out);
	fx_close(&f);
}

/* The table's figures on the windows' fixture, as a person reads them. */
static void
test_text(void **state)
{
	struct fx f;
	char *out;
	int rc;

	(void)state;
	fx_open(&f, 1);
	fx_gate(&f, NOW - 500, "192.0.2.1", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_gate(&f, NOW - 50, "192.0.2.3", "accept", 1, "fcrdns",
	    "fcrdns:log");
	fx_gate(&f, NOW - 50, "192.0.2.4", "accept", 1, "fcrdns",
	    "fcrdns:log");
	out = run(&f, CTL_FMT_TEXT, &rc, "--split", "100", NULL);
	assert_int_equal(rc, CTL_OK);
	assert_non_null(strstr(out, "3 addresses in 1000s from "
	    "2001-09-09T01:30:00Z, 2 accepted; recent 100s: 2 addresses, "
	    "2 accepted\n"));
	if (strstr(out, "\nfcrdns           2          66.7%       "
	    "2         66.7%      2                 100.0%             "
	    "2                100.0%\n") == NULL)
		fail_msg("got:\n%s", out);
	free(out);
	out = run(&f, CTL_FMT_TEXT, &rc, "--split", "2000", NULL);
	assert_int_equal(rc, CTL_BADINPUT);
	free(out);
	fx_close(&f);
}

/* The writer's own schema (journal_schema_migrate) reads as ours. */
static void
test_writer_schema(void **state)
{
	struct fx f;
	struct ctl_journal_set set;
	struct ctl_tally tl;
	char err[256];

	(void)state;
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/journal.db", f.dir);
	assert_int_equal(sqlite3_open(f.path, &f.db), SQLITE_OK);
	if (journal_schema_migrate(f.db, f.path, err, sizeof(err)) == -1)
		fail_msg("migrate: %s", err);
	fx_gate(&f, NOW - 50, "192.0.2.1", "reject", 0, "no-ptr",
	    "no-ptr:reject");
	fx_sniff(&f, NOW - 40, "2001:db8::1", "clean", 1, "", "spf-fail:log");
	count(&f, &set, &tl);
	check_totals(&tl, 2, 1, 2, 1);
	assert_int_equal(tl.nrow, 2);
	ctl_tally_free(&tl);
	ctl_journal_free(&set);
	fx_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_open_faults),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_writer_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
