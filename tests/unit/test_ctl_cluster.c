/*
 * test_ctl_cluster.c - smtpgatectl cluster status: the daemons' answers
 * to the verb "cluster" (control_cluster.c's lines) rendered as text and
 * JSON, with a daemon unreachable, off, or answering garbage, and the
 * exit code each gives.  Table-driven: each case's output is compared
 * whole ("got X, want Y").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cases.h"
#include "ctl.h"

#define UP_GATE "state=up server=127.0.0.1:6379 since_ms=1764650000000 " \
    "node=a shared=3 received=2 applied=2 refused=1 expired=0 backlog=0 " \
    "lost=0 reconnects=1 timeouts=0 errors=0 resynced=4 failovers=0 " \
    "siblings=1\nsibling=b last_ms=1764650001000 lag_ms=12\n"

struct render_case {
	const char *name;
	enum ctl_format fmt;
	struct ctl_cluster_answer a[2];
	int want_rc;
	const char *want;
};

static const struct render_case render_cases[] = {
	{ "text: up with a sibling, sniffer unreachable", CTL_FMT_TEXT, {
	    { "gate", "smtpgated", 0, UP_GATE },
	    { "sniffer", "smtpgate-sniffd", -1, "" } }, CTL_OK,
	  "smtpgated:\n"
	  "  state            up\n"
	  "  server           127.0.0.1:6379\n"
	  "  since_ms         1764650000000\n"
	  "  node             a\n"
	  "  shared           3\n"
	  "  received         2\n"
	  "  applied          2\n"
	  "  refused          1\n"
	  "  expired          0\n"
	  "  backlog          0\n"
	  "  lost             0\n"
	  "  reconnects       1\n"
	  "  timeouts         0\n"
	  "  errors           0\n"
	  "  resynced         4\n"
	  "  failovers        0\n"
	  "  siblings         1\n"
	  "  sibling          b last_ms=1764650001000 lag_ms=12\n"
	  "smtpgate-sniffd:\n"
	  "  state            unreachable\n" },
	{ "json: up with a sibling, sniffer off", CTL_FMT_JSON, {
	    { "gate", "smtpgated", 0, UP_GATE },
	    { "sniffer", "smtpgate-sniffd", 0, "state=off\n" } }, CTL_OK,
	  "{\n"
	  " \"gate\": {\"state\": \"up\", \"server\": \"127.0.0.1:6379\", "
	  "\"since_ms\": 1764650000000, \"node\": \"a\", \"shared\": 3, "
	  "\"received\": 2, \"applied\": 2, \"refused\": 1, \"expired\": 0, "
	  "\"backlog\": 0, \"lost\": 0, \"reconnects\": 1, \"timeouts\": 0, "
	  "\"errors\": 0, \"resynced\": 4, \"failovers\": 0, "
	  "\"siblings\": [{\"node\": \"b\", \"last_ms\": 1764650001000, "
	  "\"lag_ms\": 12}]},\n"
	  " \"sniffer\": {\"state\": \"off\"}\n"
	  "}\n" },
	{ "json: both unreachable", CTL_FMT_JSON, {
	    { "gate", "smtpgated", -1, "" },
	    { "sniffer", "smtpgate-sniffd", -1, "" } }, CTL_UNREACHABLE,
	  "{\n"
	  " \"gate\": {\"state\": \"unreachable\"},\n"
	  " \"sniffer\": {\"state\": \"unreachable\"}\n"
	  "}\n" },
	{ "text: an unknown verb, the other unreachable", CTL_FMT_TEXT, {
	    { "gate", "smtpgated", 1, "unknown verb \"cluster\"" },
	    { "sniffer", "smtpgate-sniffd", -1, "" } }, CTL_REFUSED,
	  "smtpgated:\n"
	  "  state            error\n"
	  "  error            unknown verb \"cluster\"\n"
	  "smtpgate-sniffd:\n"
	  "  state            unreachable\n" },
	{ "json: garbage is an error, the other off", CTL_FMT_JSON, {
	    { "gate", "smtpgated", 0, "state=up\nnot a record\n" },
	    { "sniffer", "smtpgate-sniffd", 0, "state=off\n" } }, CTL_OK,
	  "{\n"
	  " \"gate\": {\"state\": \"error\", \"error\": \"field is not "
	  "key=value\"},\n"
	  " \"sniffer\": {\"state\": \"off\"}\n"
	  "}\n" },
	{ "text: no state field is an error", CTL_FMT_TEXT, {
	    { "gate", "smtpgated", 0, "shared=1\n" },
	    { "sniffer", "smtpgate-sniffd", 0, "" } }, CTL_REFUSED,
	  "smtpgated:\n"
	  "  state            error\n"
	  "  error            no state field\n"
	  "smtpgate-sniffd:\n"
	  "  state            error\n"
	  "  error            an empty answer\n" },
};

static void
test_render(void **state)
{
	const struct render_case *k = *state;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int rc;

	assert_non_null(f);
	rc = ctl_cluster_render(f, k->fmt, k->a, 2);
	assert_int_equal(fclose(f), 0);
	if (strcmp(out, k->want) != 0)
		fail_msg("%s: got\n%s\nwant\n%s", k->name, out, k->want);
	if (rc != k->want_rc)
		fail_msg("%s: got exit %d, want %d", k->name, rc, k->want_rc);
	free(out);
}

#define N(x)	(sizeof(x) / sizeof((x)[0]))

int
main(void)
{
	struct CMUnitTest t[N(render_cases)];
	char names[N(render_cases)][96];
	size_t n = 0;

	CASES(render_cases, test_render);
	return _cmocka_run_group_tests("ctl_cluster", t, n, NULL, NULL);
}
