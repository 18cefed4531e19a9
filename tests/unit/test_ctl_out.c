/*
 * test_ctl_out.c - table-driven tests of ctl_out.c: parsing the daemons'
 * key=value records (hostile input), JSON strings and values, the text and
 * JSON tables, and Prometheus exposition lines.
 *
 * Every table row becomes one named cmocka test, so a failure names its row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* Run fn into a memory stream; return the text (caller frees). */
static char *
capture(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

/* ---- record parsing ---- */

struct rec_case {
	const char *name;
	const char *line;
	int rc;
	const char *want;	/* "k=v|k=v" when rc == 0, else why substring */
};

static const struct rec_case rec_cases[] = {
	{ "stats line", "queued=12 verdicts=3 accept=2", 0,
	    "queued=12|verdicts=3|accept=2" },
	{ "empty", "", 0, "" },
	{ "extra blanks", "  a=1   b=2 ", 0, "a=1|b=2" },
	{ "dash and underscore keys", "banned_until=5 spf-ptr=x", 0,
	    "banned_until=5|spf-ptr=x" },
	{ "no equals", "queued", -1, "not key=value" },
	{ "empty key", "=5", -1, "not key=value" },
	{ "empty value", "a=", -1, "not key=value" },
	{ "upper-case key", "Queued=1", -1, "bad character in a key" },
	{ "escape in value", "a=\033[31m", -1, "bad character in a value" },
	{ "second equals", "a=b=c", -1, "bad character in a value" },
	{ "high byte", "a=caf\xc3\xa9", -1, "bad character in a value" },
};

static void
test_record_parse(void **state)
{
	const struct rec_case *c = *state;
	struct ctl_record r = { 0 };
	const char *why = "";
	char got[256] = "";
	size_t off = 0;
	int rc = ctl_record_parse(c->line, &r, &why);

	if (rc != c->rc)
		fail_msg("%s: got rc %d (%s), want %d", c->name, rc, why,
		    c->rc);
	if (rc == -1) {
		ctl_record_free(&r);
		if (strstr(why, c->want) == NULL)
			fail_msg("%s: got why \"%s\", want \"%s\"", c->name,
			    why, c->want);
		return;
	}
	for (size_t i = 0; i < r.n; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s=%s",
		    i ? "|" : "", r.key[i], r.val[i]);
	ctl_record_free(&r);
	if (strcmp(got, c->want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->want);
}

static void
test_record_limits(void **state)
{
	char line[CTL_REC_TEXT * 2];
	struct ctl_record r = { 0 };
	const char *why = "";
	size_t off = 0;

	(void)state;
	/* More fields than a record holds. */
	for (int i = 0; i < CTL_REC_FIELDS + 1; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off,
		    "k%d=1 ", i);
	if (ctl_record_parse(line, &r, &why) != -1)
		fail_msg("%d fields: got accepted, want refused",
		    CTL_REC_FIELDS + 1);
	/* A line longer than the record's text. */
	memset(line, 'a', sizeof(line) - 1);
	line[0] = 'k';
	line[1] = '=';
	line[sizeof(line) - 1] = '\0';
	if (ctl_record_parse(line, &r, &why) != -1 ||
	    strstr(why, "too long") == NULL)
		fail_msg("long line: got \"%s\", want too long", why);
	/* ctl_record_add stops at the bounds instead of growing without. */
	ctl_record_free(&r);
	for (int i = 0; i < CTL_REC_FIELDS + 10; i++)
		ctl_record_add(&r, "k", "%0100d", i);
	if (r.n > CTL_REC_FIELDS || r.used > CTL_REC_TEXT)
		fail_msg("add: got n=%zu used=%zu, want within %d and %d",
		    r.n, r.used, CTL_REC_FIELDS, CTL_REC_TEXT);
	ctl_record_free(&r);
	for (int i = 0; i < CTL_REC_FIELDS + 10; i++)
		ctl_record_add(&r, "k", "%d", i);
	if (r.n != CTL_REC_FIELDS)
		fail_msg("add: got n=%zu, want %d", r.n, CTL_REC_FIELDS);
	ctl_record_free(&r);
}

/* ---- JSON ---- */

struct json_case {
	const char *name;
	const char *in;
	const char *want;
};

static const struct json_case json_cases[] = {
	{ "plain", "abc", "\"abc\"" },
	{ "quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "control", "a\nb\033", "\"a\\u000ab\\u001b\"" },
	{ "del", "\x7f", "\"\\u007f\"" },
	{ "utf8 kept", "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	{ "bad utf8 escaped", "a\xc3(", "\"a\\u00c3(\"" },
	{ "lone continuation", "\x80", "\"\\u0080\"" },
};

static void
json_str(FILE *f, const void *arg)
{
	ctl_out_json_str(f, arg);
}

static void
test_json_str(void **state)
{
	const struct json_case *c = *state;
	char *got = capture(json_str, c->in);

	if (strcmp(got, c->want) != 0)
		fail_msg("%s: got %s, want %s", c->name, got, c->want);
	free(got);
}

static void
test_is_uint(void **state)
{
	static const struct {
		const char *in;
		bool want;
	} t[] = {
		{ "0", true }, { "17", true }, { "9223372036854775807", true },
		{ "", false }, { "01", false }, { "-1", false }, { "1.5", false },
		{ "12345678901234567890", false }, { "1e3", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ctl_out_is_uint(t[i].in) != t[i].want)
			fail_msg("\"%s\": got %d, want %d", t[i].in,
			    !t[i].want, t[i].want);
}

/* ---- tables ---- */

static void
table_json(FILE *f, const void *arg)
{
	ctl_out_table(f, CTL_FMT_JSON, arg);
}

static void
table_text(FILE *f, const void *arg)
{
	ctl_out_table(f, CTL_FMT_TEXT, arg);
}

static void
test_table(void **state)
{
	struct ctl_table t = { 0 };
	struct ctl_record *r;
	char *got;

	(void)state;
	got = capture(table_json, &t);
	if (strcmp(got, "[]\n") != 0)
		fail_msg("empty JSON: got \"%s\", want \"[]\\n\"", got);
	free(got);
	got = capture(table_text, &t);
	if (strcmp(got, "(none)\n") != 0)
		fail_msg("empty text: got \"%s\"", got);
	free(got);

	r = ctl_table_add(&t);
	ctl_record_add(r, "ip", "%s", "192.0.2.7");
	ctl_record_add(r, "left_s", "%d", 30);
	ctl_record_add(r, "comment", "%s", "a \"b\"\n");
	r = ctl_table_add(&t);
	ctl_record_add(r, "ip", "%s", "2001:db8::1");
	ctl_record_add(r, "left_s", "%s", "007");
	got = capture(table_json, &t);
	if (strcmp(got, "[\n {\"ip\": \"192.0.2.7\", \"left_s\": 30, "
	    "\"comment\": \"a \\\"b\\\"\\u000a\"},\n {\"ip\": \"2001:db8::1\", "
	    "\"left_s\": \"007\"}\n]\n") != 0)
		fail_msg("JSON: got\n%s", got);
	free(got);
	got = capture(table_text, &t);
	if (strcmp(got, "ip           left_s  comment\n"
	    "192.0.2.7    30      a \"b\"?\n"
	    "2001:db8::1  007     -\n") != 0)
		fail_msg("text: got\n%s", got);
	free(got);
	ctl_table_free(&t);
}

/* ---- Prometheus ---- */

static void
prom(FILE *f, const void *arg)
{
	ctl_out_prom(f, "gate", arg);
}

static void
test_prom(void **state)
{
	struct ctl_record r = { 0 };
	const char *why;
	char *got;

	(void)state;
	assert_int_equal(ctl_record_parse("queued=5 pending=2 spf-fail=1 "
	    "name=abc p99_us=1500 age_ms=20 up_s=7", &r, &why), 0);
	got = capture(prom, &r);
	if (strcmp(got,
	    "# HELP smtpgate_gate_queued_total Count \"queued\" of "
	    "gate.\n# TYPE smtpgate_gate_queued_total counter\n"
	    "smtpgate_gate_queued_total 5\n"
	    "# HELP smtpgate_gate_pending Level \"pending\" of gate.\n"
	    "# TYPE smtpgate_gate_pending gauge\nsmtpgate_gate_pending 2\n"
	    "# HELP smtpgate_gate_spf_fail_total Count \"spf-fail\" "
	    "of gate.\n# TYPE smtpgate_gate_spf_fail_total counter\n"
	    "smtpgate_gate_spf_fail_total 1\n"
	    "# HELP smtpgate_gate_p99_seconds Level \"p99_us\" of gate, in "
	    "seconds.\n# TYPE smtpgate_gate_p99_seconds gauge\n"
	    "smtpgate_gate_p99_seconds 0.001500\n"
	    "# HELP smtpgate_gate_age_seconds Level \"age_ms\" of gate, in "
	    "seconds.\n# TYPE smtpgate_gate_age_seconds gauge\n"
	    "smtpgate_gate_age_seconds 0.020\n"
	    "# HELP smtpgate_gate_up_seconds Level \"up_s\" of gate.\n"
	    "# TYPE smtpgate_gate_up_seconds gauge\nsmtpgate_gate_up_seconds 7\n")
	    != 0)
		fail_msg("got\n%s", got);
	free(got);
	ctl_record_free(&r);
}

int
main(void)
{
	struct CMUnitTest t[64];
	size_t n = 0, i;

	for (i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ rec_cases[i].name,
		    test_record_parse, NULL, NULL, (void *)&rec_cases[i] };
	for (i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ json_cases[i].name, test_json_str,
		    NULL, NULL, (void *)&json_cases[i] };
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_record_limits);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_is_uint);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_table);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_prom);
	return _cmocka_run_group_tests("ctl_out", t, n, NULL, NULL);
}
