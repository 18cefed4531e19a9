/*
 * test_retry.c - tempfail's second chance as arithmetic (retry.h): the
 * keys, what the kernel's wait and retry elements say, and the advice
 * smtpgatectl check prints.  Table-driven, "got X, want Y".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "retry.h"

static void
test_retry_keys(void **state)
{
	static const struct {
		const char *name;
		bool by_prefix;
		unsigned p4, p6;
		const char *addr, *want;
		unsigned want_plen;
	} cases[] = {
		{ "v4 prefix /24", true, 24, 64, "198.51.100.11",
		  "198.51.100.0", 24 },
		{ "v4 sibling, same key", true, 24, 64, "198.51.100.250",
		  "198.51.100.0", 24 },
		{ "v4 prefix /28", true, 28, 64, "198.51.100.27",
		  "198.51.100.16", 28 },
		{ "v4 address", false, 24, 64, "198.51.100.11",
		  "198.51.100.11", 32 },
		{ "v6 prefix /64", true, 24, 64, "2001:db8:1:2:3:4:5:6",
		  "2001:db8:1:2::", 64 },
		{ "v6 prefix /56", true, 24, 56, "2001:db8:1:2ff:3:4:5:6",
		  "2001:db8:1:200::", 56 },
		{ "v6 address", false, 24, 64, "2001:db8:1:2:3:4:5:6",
		  "2001:db8:1:2:3:4:5:6", 128 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf c;
		struct addr a, k;
		char got[ADDR_STRLEN];

		conf_defaults(&c);
		c.gate.retry_by_prefix = cases[i].by_prefix;
		c.gate.retry_prefix4 = cases[i].p4;
		c.gate.retry_prefix6 = cases[i].p6;
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		retry_key(&c.gate, &a, &k);
		addr_ntop(&k, got);
		if (strcmp(got, cases[i].want) != 0 ||
		    retry_key_plen(&c.gate, a.family) != cases[i].want_plen) {
			print_error("%s: got %s/%u, want %s/%u\n",
			    cases[i].name, got,
			    retry_key_plen(&c.gate, a.family),
			    cases[i].want, cases[i].want_plen);
			fail();
		}
	}
}

static void
test_retry_status(void **state)
{
	/* wait: timeout retry_min; retry: timeout retry_window (ms). */
	static const struct {
		const char *name;
		struct retry_elem wait, retry;
		enum retry_phase phase;
		bool age_known;
		uint64_t age_ms, pass_in_ms, left_ms;
	} cases[] = {
		{ "unknown sender", { false, 0, 0 }, { false, 0, 0 },
		  RETRY_NONE, false, 0, 0, 0 },
		{ "just refused", { true, 300000, 300000 },
		  { true, 86400000, 86400000 }, RETRY_WAITING, true, 0, 300000,
		  86400000 },
		{ "early retry at 100 s", { true, 300000, 200000 },
		  { true, 86400000, 86300000 }, RETRY_WAITING, true, 100000,
		  200000, 86300000 },
		{ "ready at 412 s", { false, 0, 0 },
		  { true, 86400000, 85988000 }, RETRY_READY, true, 412000, 0,
		  85988000 },
		{ "wait element alone still refuses", { true, 300000, 1000 },
		  { false, 0, 0 }, RETRY_WAITING, false, 0, 1000, 0 },
		{ "dumped as added: never a negative age", { false, 0, 0 },
		  { true, 86400000, 86400001 }, RETRY_READY, true, 0, 0,
		  86400001 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct retry_status st;

		retry_status_of(&cases[i].wait, &cases[i].retry, &st);
		if (st.phase != cases[i].phase ||
		    st.age_known != cases[i].age_known ||
		    st.age_ms != cases[i].age_ms ||
		    st.pass_in_ms != cases[i].pass_in_ms ||
		    st.window_left_ms != cases[i].left_ms) {
			print_error("%s: got %s age=%llu(%d) pass_in=%llu "
			    "left=%llu, want %s age=%llu(%d) pass_in=%llu "
			    "left=%llu\n", cases[i].name,
			    retry_phase_name(st.phase),
			    (unsigned long long)st.age_ms, st.age_known,
			    (unsigned long long)st.pass_in_ms,
			    (unsigned long long)st.window_left_ms,
			    retry_phase_name(cases[i].phase),
			    (unsigned long long)cases[i].age_ms,
			    cases[i].age_known,
			    (unsigned long long)cases[i].pass_in_ms,
			    (unsigned long long)cases[i].left_ms);
			fail();
		}
	}
}

static void
test_retry_advice(void **state)
{
	static const struct {
		const char *name;
		bool by_prefix;
		const char *addr;
		bool have_st;
		struct retry_status st;
		const char *want;
	} cases[] = {
		{ "first contact, prefix", true, "198.51.100.11", false, { 0 },
		  "tempfail: this SYN would be refused; a retry from any "
		  "address of 198.51.100.0/24 at least 300 s and at most 86400 "
		  "s later passes in the kernel and is cached for 3600 s "
		  "(pass_ttl)" },
		{ "first contact, address", false, "2001:db8::7", false, { 0 },
		  "tempfail: this SYN would be refused; a retry from "
		  "2001:db8::7 itself at least 300 s and at most 86400 s later "
		  "passes in the kernel and is cached for 3600 s (pass_ttl)" },
		{ "waiting, rounds up", true, "198.51.100.11", true,
		  { RETRY_WAITING, 100000, true, 199001, 86300000 },
		  "tempfail: waiting; a retry from any address of "
		  "198.51.100.0/24 passes in 200 s (sooner is refused, without "
		  "resetting the clock), until 86300 s from now" },
		{ "ready", true, "198.51.100.11", true,
		  { RETRY_READY, 412000, true, 0, 85988000 },
		  "tempfail: ready; a retry from any address of "
		  "198.51.100.0/24 passes now, for 85988 s more" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf c;
		struct addr a;
		char got[512];

		conf_defaults(&c);
		c.gate.retry_by_prefix = cases[i].by_prefix;
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		retry_advice(&c.gate, &a, cases[i].have_st ? &cases[i].st :
		    NULL, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0) {
			print_error("%s:\n got  %s\n want %s\n", cases[i].name,
			    got, cases[i].want);
			fail();
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_keys),
		cmocka_unit_test(test_retry_status),
		cmocka_unit_test(test_retry_advice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
