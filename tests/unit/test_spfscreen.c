/*
 * test_spfscreen.c - the TXT screen before libspf2: each case is a record
 * (built from parts, so the limits are tested at their edges) and the
 * verdict it must get.
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
#include "spfscreen.h"

struct screen_case {
	const char *name;
	const char *head;	/* then rep copies of unit, then tail */
	const char *unit;
	size_t rep;
	const char *tail;
	enum spfscreen_verdict want;
};

static const struct screen_case cases[] = {
	{ "plain record", "v=spf1 ip4:192.0.2.0/24 -all", "", 0, "",
	    SPFSCREEN_OK },
	{ "version alone", "v=spf1", "", 0, "", SPFSCREEN_OK },
	{ "upper-case version", "V=SPF1 -all", "", 0, "", SPFSCREEN_OK },
	{ "not SPF: version glued", "v=spf1-all", "%{d}", 60, "",
	    SPFSCREEN_DROP },
	{ "macros as used in practice", "v=spf1 exists:%{ir}.%{l1r+-}._spf."
	    "%{d} -all", "", 0, "", SPFSCREEN_OK },
	/* The libspf2 stack overflow (CVE-2023-42118's record). */
	{ "127 macros then a long literal", "v=spf1 a:", "%{d}", 127,
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    " -all", SPFSCREEN_REFUSE },
	{ "12 macros in a term", "v=spf1 a:", "%{d}", 12, " -all",
	    SPFSCREEN_OK },
	{ "13 macros in a term", "v=spf1 a:", "%{d}", 13, " -all",
	    SPFSCREEN_REFUSE },
	{ "12 macros in each of two terms", "v=spf1 a:%{d}%{d}%{d}%{d}%{d}"
	    "%{d}%{d}%{d}%{d}%{d}%{d}%{d} exists:", "%{i}", 12, " -all",
	    SPFSCREEN_OK },
	{ "escapes are not macros", "v=spf1 exists:", "%%", 60, ".x -all",
	    SPFSCREEN_OK },
	{ "term of 253 bytes", "v=spf1 a:", "x", 251, " -all", SPFSCREEN_OK },
	{ "term of 254 bytes", "v=spf1 a:", "x", 252, " -all",
	    SPFSCREEN_REFUSE },
	/* 6 + 72 * 14 = 1014 bytes, then spaces up to the limit. */
	{ "record of 1024 bytes", "v=spf1", " ip4:192.0.2.1", 72,
	    "          ", SPFSCREEN_OK },
	{ "record of 1025 bytes", "v=spf1", " ip4:192.0.2.1", 72,
	    "           ", SPFSCREEN_REFUSE },
	{ "unterminated macro counts", "v=spf1 a:", "%{", 13, "",
	    SPFSCREEN_REFUSE },
	{ "explanation text", "See http://%{d}/why.html?s=%{S}&i=%{I}", "",
	    0, "", SPFSCREEN_OK },
	{ "long text without macros", "google-site-verification=", "a", 2000,
	    "", SPFSCREEN_OK },
	{ "explanation with too many macros", "x ", "%{d}", 13, "",
	    SPFSCREEN_DROP },
	{ "explanation too long", "x %{d} ", "y", 250, "", SPFSCREEN_DROP },
};

static void
test_screen_case(void **state)
{
	const struct screen_case *c = *state;
	size_t ul = strlen(c->unit), n = strlen(c->head) + ul * c->rep +
	    strlen(c->tail);
	char *buf = malloc(n + 1), *p = buf;	/* exact size: ASan sees past */
	const char *why = NULL;
	enum spfscreen_verdict got;

	assert_non_null(buf);
	p += sprintf(p, "%s", c->head);
	for (size_t i = 0; i < c->rep; i++)
		p += sprintf(p, "%s", c->unit);
	sprintf(p, "%s", c->tail);
	got = spfscreen_txt(buf, n, &why);
	if (got != c->want)
		fail_msg("%s (%zu bytes): got %d (%s), want %d", c->name, n, got,
		    why ? why : "-", c->want);
	if (got != SPFSCREEN_OK && why == NULL)
		fail_msg("%s: no reason given", c->name);
	free(buf);
}

static void
test_screen_binary(void **state)
{
	/* Any byte, a NUL included, is read within the length only. */
	static const char rec[] = "v=spf1 a:\0%{d}%{d}%{d}%{d}%{d}%{d}%{d}"
	    "%{d}%{d}%{d}%{d}%{d}%{d}%{d}";
	char *b = malloc(sizeof(rec) - 1);

	(void)state;
	memcpy(b, rec, sizeof(rec) - 1);
	assert_int_equal(spfscreen_txt(b, sizeof(rec) - 1, NULL),
	    SPFSCREEN_REFUSE);
	assert_int_equal(spfscreen_txt(b, 9, NULL), SPFSCREEN_OK);
	assert_true(spfscreen_is_spf(b, 6));
	assert_false(spfscreen_is_spf(b, 5));
	free(b);
}

int
main(void)
{
	struct CMUnitTest t[64];
	char names[64][96];
	size_t n = 0;

	CASES(cases, test_screen_case);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_screen_binary);
	return _cmocka_run_group_tests("spfscreen", t, n, NULL, NULL);
}
