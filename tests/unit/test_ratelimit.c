/*
 * test_ratelimit.c - the per-prefix token buckets (ratelimit.c): bursts,
 * refill, independence of keys, eviction when the table is full, a change
 * of burst and rate, and chosen keys against the table's hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cases.h"

#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

/* One step: take for key at t_ms, want the answer. */
struct rl_step {
	const char *key;
	int64_t t_ms;
	bool want;
};

struct rl_case {
	const char *name;
	size_t max_keys;
	uint32_t burst, rate;
	struct rl_step step[16];	/* until key NULL */
};

static const struct rl_case rl_cases[] = {
	{ "burst then refused", 16, 3, 1, {
	    { "198.51.100.0", 0, true }, { "198.51.100.0", 0, true },
	    { "198.51.100.0", 0, true }, { "198.51.100.0", 0, false },
	    { "198.51.100.0", 999, false }, { "198.51.100.0", 1000, true },
	    { "198.51.100.0", 1000, false } } },
	{ "refill is capped at the burst", 16, 2, 10, {
	    { "198.51.100.0", 0, true }, { "198.51.100.0", 0, true },
	    { "198.51.100.0", 0, false }, { "198.51.100.0", 60000, true },
	    { "198.51.100.0", 60000, true }, { "198.51.100.0", 60000, false } } },
	{ "fractional refill", 16, 1, 4, {
	    { "2001:db8::", 0, true }, { "2001:db8::", 100, false },
	    { "2001:db8::", 249, false }, { "2001:db8::", 250, true } } },
	{ "keys are independent", 16, 1, 1, {
	    { "198.51.100.0", 0, true }, { "198.51.100.0", 0, false },
	    { "203.0.113.0", 0, true }, { "2001:db8::", 0, true },
	    { "203.0.113.0", 0, false } } },
	{ "a full table forgets the least recently used", 2, 1, 1, {
	    { "198.51.100.0", 0, true }, { "203.0.113.0", 0, true },
	    { "198.51.100.0", 0, false },	/* touched: now the newest */
	    { "192.0.2.0", 0, true },		/* evicts 203.0.113.0 */
	    { "198.51.100.0", 0, false },	/* kept */
	    { "203.0.113.0", 0, true } } },	/* forgotten: a fresh bucket */
	{ "time going back refills nothing", 16, 1, 1, {
	    { "198.51.100.0", 5000, true }, { "198.51.100.0", 1000, false },
	    { "198.51.100.0", 5999, false }, { "198.51.100.0", 6000, true } } },
};

static void
test_steps(void **state)
{
	const struct rl_case *c = *state;
	struct ratelimit *rl = ratelimit_new(c->max_keys, c->burst, c->rate);

	assert_non_null(rl);
	for (size_t i = 0; c->step[i].key != NULL; i++) {
		struct addr a;
		bool got;

		assert_int_equal(addr_parse(c->step[i].key, &a), 0);
		got = ratelimit_take(rl, &a, c->step[i].t_ms);
		if (got != c->step[i].want)
			fail_msg("step %zu (%s at %lld ms): got %s, want %s", i,
			    c->step[i].key, (long long)c->step[i].t_ms,
			    got ? "token" : "refused",
			    c->step[i].want ? "token" : "refused");
	}
	ratelimit_free(rl);
}

static void
test_set(void **state)
{
	struct ratelimit *rl = ratelimit_new(4, 10, 1);
	const struct ratelimit_stats *st;
	struct addr a;
	int n = 0;

	(void)state;
	assert_non_null(rl);
	assert_int_equal(addr_parse("198.51.100.0", &a), 0);
	assert_true(ratelimit_take(rl, &a, 0));
	ratelimit_set(rl, 2, 1);		/* 9 left, capped to 2 */
	while (ratelimit_take(rl, &a, 0))
		n++;
	if (n != 2)
		fail_msg("after lowering the burst to 2: got %d tokens, want 2",
		    n);
	st = ratelimit_stats(rl);
	if (st->taken != 3 || st->refused != 1 || st->keys != 1)
		fail_msg("stats: got taken=%llu refused=%llu keys=%zu, want 3 "
		    "1 1", (unsigned long long)st->taken,
		    (unsigned long long)st->refused, st->keys);
	ratelimit_free(rl);
}

/* 2,000 addresses of one /64 sharing the low 16 bits of the old FNV-1a
 * hash (see test_addr.c), as keys of a 65536-key table. */
static void
test_flood(void **state)
{
	const uint16_t prime = 16777619u & 0xffff;
	uint16_t inv = prime, want;
	struct ratelimit *rl = ratelimit_new(65536, 1, 1);
	struct addr a;
	size_t n = 0, chain;

	(void)state;
	assert_non_null(rl);
	for (int i = 0; i < 4; i++)
		inv = (uint16_t)(inv * (uint16_t)(2 - prime * inv));
	want = (uint16_t)(0x1234 * inv);
	assert_int_equal(addr_parse("2001:db8:bad:2::", &a), 0);
	for (uint32_t k = 0; k < 65536 && n < 2000; k++) {
		uint32_t h = 2166136261u;

		a.b[12] = (uint8_t)(k >> 8);
		a.b[13] = (uint8_t)k;
		h = (h ^ a.family) * 16777619u;
		for (size_t i = 0; i < 14; i++)
			h = (h ^ a.b[i]) * 16777619u;
		for (unsigned b14 = 0; b14 < 256 && n < 2000; b14++) {
			uint16_t y = (uint16_t)((h ^ b14) * 16777619u);

			if ((y >> 8) != (want >> 8))
				continue;
			a.b[14] = (uint8_t)b14;
			a.b[15] = (uint8_t)((y ^ want) & 0xff);
			assert_true(ratelimit_take(rl, &a, 0));
			n++;
		}
	}
	assert_int_equal(n, 2000);
	chain = ratelimit_longest_chain(rl);
	if (chain > 8)
		fail_msg("2000 chosen keys: longest chain %zu, want <= 8", chain);
	print_message("2000 chosen keys: longest chain %zu\n", chain);
	ratelimit_free(rl);
}

int
main(void)
{
	static struct CMUnitTest t[32];
	static char names[32][96];
	size_t n = 0;

	CASES(rl_cases, test_steps);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_set);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_flood);
	return _cmocka_run_group_tests("ratelimit", t, n, NULL, NULL);
}
