/*
 * test_reply.c - the responder's lines and ports, and which verdicts it
 * answers (reply.h): table-driven, "got X, want Y".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "reply.h"

/* Every (kind, rule) has its own port, and the port leads back to it. */
static void
test_ports(void **state)
{
	static const uint16_t bases[] = { 1024, 7025, 65536 - REPLY_PORTS };
	enum reply_kind k;
	enum reply_rule r;
	bool seen[REPLY_PORTS];

	(void)state;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		memset(seen, 0, sizeof(seen));
		for (int kk = 0; kk < REPLY_KIND_MAX; kk++)
			for (int rr = 0; rr < REPLY_RULE_MAX; rr++) {
				uint16_t p = reply_port(bases[b],
				    (enum reply_kind)kk, (enum reply_rule)rr);

				if (p < bases[b] || p - bases[b] >= REPLY_PORTS)
					fail_msg("base %u kind %d rule %d: got "
					    "port %u, want within %u-%u",
					    bases[b], kk, rr, p, bases[b],
					    bases[b] + REPLY_PORTS - 1);
				if (seen[p - bases[b]])
					fail_msg("port %u twice", p);
				seen[p - bases[b]] = true;
				if (!reply_of_port(bases[b], p, &k, &r) ||
				    (int)k != kk || (int)r != rr)
					fail_msg("port %u: got kind %d rule %d, "
					    "want %d %d", p, k, r, kk, rr);
			}
		if (reply_of_port(bases[b], (uint16_t)(bases[b] - 1), &k, &r) ||
		    reply_of_port(bases[b], (uint16_t)(bases[b] + REPLY_PORTS),
		    &k, &r))
			fail_msg("base %u: a port outside the range was ours",
			    bases[b]);
	}
	/* The layout the documentation states: reject first, then
	 * tempfail; offend is the last of each. */
	assert_int_equal(reply_port(7025, REPLY_REJECT, REPLY_RULE_DNSBL), 7025);
	assert_int_equal(reply_port(7025, REPLY_REJECT, REPLY_RULE_OFFEND),
	    7032);
	assert_int_equal(reply_port(7025, REPLY_TEMPFAIL, REPLY_RULE_NO_PTR),
	    7034);
}

static void
test_lines(void **state)
{
	static const struct {
		const char *name;
		enum reply_kind k;
		const char *text, *client, *url, *want;
	} cases[] = {
		{ "reject no-ptr", REPLY_REJECT, "has no PTR record",
		    "198.51.100.11", "",
		    "554 5.7.1 Service unavailable; client [198.51.100.11] "
		    "has no PTR record\r\n" },
		{ "tempfail no-ptr", REPLY_TEMPFAIL, "has no PTR record",
		    "198.51.100.11", "",
		    "421 4.7.0 Try again later; client [198.51.100.11] has no "
		    "PTR record\r\n" },
		{ "with url", REPLY_REJECT, "is listed in a DNS blocklist",
		    "2001:db8::25", "https://mail.example/why",
		    "554 5.7.1 Service unavailable; client [2001:db8::25] is "
		    "listed in a DNS blocklist; see https://mail.example/why"
		    "\r\n" },
	};
	char buf[REPLY_LINE_MAX + 1];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = reply_line(buf, sizeof(buf), cases[i].k, cases[i].text,
		    cases[i].client, cases[i].url);
		if (n != strlen(cases[i].want) || strcmp(buf, cases[i].want))
			fail_msg("%s: got \"%s\" (%zu), want \"%s\"",
			    cases[i].name, buf, n, cases[i].want);
	}
	/* Too small a buffer: nothing, never a cut line. */
	n = reply_line(buf, 20, REPLY_REJECT, "has no PTR record", "192.0.2.1",
	    "");
	if (n != 0 || buf[0] != '\0')
		fail_msg("short buffer: got %zu \"%s\", want 0 \"\"", n, buf);
}

/* The longest texts the configuration allows still make a legal line. */
static void
test_longest(void **state)
{
	char text[CONF_REPLY_TEXT_MAX], url[CONF_REPLY_TEXT_MAX];
	char buf[REPLY_LINE_MAX + 1];
	size_t n;

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(url, "https://", 8);
	memset(url + 8, 'y', sizeof(url) - 9);
	url[sizeof(url) - 1] = '\0';
	n = reply_line(buf, sizeof(buf), REPLY_TEMPFAIL, text,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", url);
	if (n == 0 || n > REPLY_LINE_MAX)
		fail_msg("longest line: got %zu bytes, want 1-%d", n,
		    REPLY_LINE_MAX);
}

static void
test_texts(void **state)
{
	static const struct {
		const char *s;
		bool empty_ok;
		int want;
	} cases[] = {
		{ "has no PTR record", false, 0 },
		{ "", false, -1 },
		{ "", true, 0 },
		{ "line\r\n550 injected", false, -1 },
		{ "tab\there", false, -1 },
		{ "caf\xc3\xa9", false, -1 },
		{ "del\x7f", false, -1 },
	};
	char why[128];
	char longest[CONF_REPLY_TEXT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = reply_text_check(cases[i].s, cases[i].empty_ok, why,
		    sizeof(why));
		if (got != cases[i].want)
			fail_msg("case %zu \"%s\": got %d, want %d", i,
			    cases[i].s, got, cases[i].want);
	}
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(reply_text_check(longest, false, why, sizeof(why)),
	    -1);
	longest[CONF_REPLY_TEXT_MAX - 1] = '\0';
	assert_int_equal(reply_text_check(longest, false, why, sizeof(why)), 0);
	/* Every built-in text passes its own check. */
	for (int r = 0; r < REPLY_RULE_MAX; r++) {
		if (reply_text_check(reply_rule_default((enum reply_rule)r),
		    false, why, sizeof(why)) != 0)
			fail_msg("built-in text of %s: %s",
			    reply_rule_name((enum reply_rule)r), why);
	}
	assert_null(reply_rule_name(REPLY_RULE_MAX));
}

/*
 * Which verdicts the responder answers, and with which line: a cached
 * reject 554, a tempfail 421, the rule of the deciding reason; an accept,
 * a drop, an uncached reject and a verdict without a reason get no line
 * (gate_apply.c and smtpgatectl check follow this).
 */
static void
test_for_verdict(void **state)
{
	static const struct {
		const char *name;
		struct verdict v;
		bool want;
		enum reply_kind k;
		enum reply_rule r;
		uint16_t port;		/* from 7025 */
		const char *line;	/* client 192.0.2.7, built-in text */
	} cases[] = {
		{ "reject no-ptr cached", { ACTION_REJECT, { VERDICT_R_NO_PTR },
		    1, true }, true, REPLY_REJECT, REPLY_RULE_NO_PTR, 7026,
		    "554 5.7.1 Service unavailable; client [192.0.2.7] has no "
		    "PTR record\r\n" },
		{ "tempfail no-ptr", { ACTION_TEMPFAIL, { VERDICT_R_NO_PTR },
		    1, false }, true, REPLY_TEMPFAIL, REPLY_RULE_NO_PTR, 7034,
		    "421 4.7.0 Try again later; client [192.0.2.7] has no PTR "
		    "record\r\n" },
		{ "reject dnsbl then generic: the first decides",
		    { ACTION_REJECT, { VERDICT_R_DNSBL, VERDICT_R_GENERIC }, 2,
		    true }, true, REPLY_REJECT, REPLY_RULE_DNSBL, 7025,
		    "554 5.7.1 Service unavailable; client [192.0.2.7] is "
		    "listed in a DNS blocklist\r\n" },
		{ "tempfail fcrdns", { ACTION_TEMPFAIL, { VERDICT_R_FCRDNS }, 1,
		    true }, true, REPLY_TEMPFAIL, REPLY_RULE_FCRDNS, 7038,
		    "421 4.7.0 Try again later; client [192.0.2.7] has no PTR "
		    "name that resolves back to it\r\n" },
		{ "reject generic", { ACTION_REJECT, { VERDICT_R_GENERIC }, 1,
		    true }, true, REPLY_REJECT, REPLY_RULE_GENERIC_PTR, 7028,
		    "554 5.7.1 Service unavailable; client [192.0.2.7] has a "
		    "generic PTR name of an access network\r\n" },
		{ "reject not cached (dns error): a reset", { ACTION_REJECT,
		    { VERDICT_R_DNS_ERROR }, 1, false }, false, 0, 0, 0, NULL },
		{ "drop: silent", { ACTION_DROP, { VERDICT_R_GENERIC }, 1, true },
		    false, 0, 0, 0, NULL },
		{ "accept", { ACTION_ACCEPT, { VERDICT_R_DNSWL }, 1, true },
		    false, 0, 0, 0, NULL },
		{ "reject without a reason", { ACTION_REJECT, { 0 }, 0, true },
		    false, 0, 0, 0, NULL },
		{ "reject by dnswl (no text)", { ACTION_REJECT,
		    { VERDICT_R_DNSWL }, 1, true }, false, 0, 0, 0, NULL },
	};
	char buf[REPLY_LINE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum reply_kind k = REPLY_KIND_MAX;
		enum reply_rule r = REPLY_RULE_MAX;
		bool got = reply_for_verdict(&cases[i].v, &k, &r);

		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].name,
			    got ? "a line" : "none",
			    cases[i].want ? "a line" : "none");
		if (!got)
			continue;
		if (k != cases[i].k || r != cases[i].r)
			fail_msg("%s: got kind %d rule %s, want %d %s",
			    cases[i].name, k, reply_rule_name(r), cases[i].k,
			    reply_rule_name(cases[i].r));
		if (reply_port(7025, k, r) != cases[i].port)
			fail_msg("%s: got port %u, want %u", cases[i].name,
			    reply_port(7025, k, r), cases[i].port);
		(void)reply_line(buf, sizeof(buf), k, reply_rule_default(r),
		    "192.0.2.7", "");
		if (strcmp(buf, cases[i].line) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    buf, cases[i].line);
	}
	/* Every reason that can refuse has a rule of its own. */
	for (int w = 0; w < VERDICT_R_MAX; w++) {
		enum reply_rule r;
		bool got = reply_rule_of_reason((enum verdict_reason)w, &r);

		if (got != (w != VERDICT_R_DNSWL))
			fail_msg("reason %s: got %s, want %s",
			    verdict_reason_name((enum verdict_reason)w),
			    got ? "a rule" : "none",
			    w != VERDICT_R_DNSWL ? "a rule" : "none");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_for_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
