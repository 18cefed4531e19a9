/*
 * test_addr.c - table-driven tests of addr.c: parsing, formatting, mapping,
 * reverse names, prefixes, containment, prefix ends, masks, and the
 * keyed hash against a hash flood (test_hash_flood).
 *
 * Every table row becomes one named cmocka test, so a failure names its row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/* ---- addr_parse + addr_ntop round trip ---- */

struct parse_case {
	const char *name;
	const char *in;
	int rc;			/* want from addr_parse */
	int family;		/* want, when rc == 0 */
	const char *text;	/* want from addr_ntop, when rc == 0 */
};

static const struct parse_case parse_cases[] = {
	{ "v4 plain", "192.0.2.1", 0, AF_INET, "192.0.2.1" },
	{ "v4 zero", "0.0.0.0", 0, AF_INET, "0.0.0.0" },
	{ "v4 max", "255.255.255.255", 0, AF_INET, "255.255.255.255" },
	{ "v4 octet 256", "192.0.2.256", -1, 0, NULL },
	{ "v4 three parts", "192.0.2", -1, 0, NULL },
	{ "v4 five parts", "192.0.2.1.5", -1, 0, NULL },
	{ "v4 leading zero", "192.0.2.01", -1, 0, NULL },
	{ "v4 hex", "0xc0.0.2.1", -1, 0, NULL },
	{ "v4 leading space", " 192.0.2.1", -1, 0, NULL },
	{ "v4 trailing space", "192.0.2.1 ", -1, 0, NULL },
	{ "v4 trailing newline", "192.0.2.1\n", -1, 0, NULL },
	{ "v4 trailing junk", "192.0.2.1x", -1, 0, NULL },
	{ "v4 with port", "192.0.2.1:25", -1, 0, NULL },
	{ "v4 with prefix", "192.0.2.0/24", -1, 0, NULL },
	{ "v6 loopback", "::1", 0, AF_INET6, "::1" },
	{ "v6 unspecified", "::", 0, AF_INET6, "::" },
	{ "v6 doc", "2001:db8::1", 0, AF_INET6, "2001:db8::1" },
	{ "v6 uppercase", "2001:DB8::A", 0, AF_INET6, "2001:db8::a" },
	{ "v6 full form", "2001:0db8:0000:0000:0000:0000:0000:0001", 0,
	    AF_INET6, "2001:db8::1" },
	{ "v6 mapped to v4", "::ffff:192.0.2.7", 0, AF_INET, "192.0.2.7" },
	{ "v6 mapped hex to v4", "::ffff:c000:207", 0, AF_INET, "192.0.2.7" },
	{ "v6 compat stays v6", "::192.0.2.7", 0, AF_INET6, "::192.0.2.7" },
	{ "v6 brackets", "[2001:db8::1]", -1, 0, NULL },
	{ "v6 zone id", "fe80::1%eth0", -1, 0, NULL },
	{ "v6 two double colons", "2001::db8::1", -1, 0, NULL },
	{ "v6 nine groups", "1:2:3:4:5:6:7:8:9", -1, 0, NULL },
	{ "v6 group too long", "2001:db8::12345", -1, 0, NULL },
	{ "v6 trailing junk", "2001:db8::1 x", -1, 0, NULL },
	{ "v6 too long text",
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001", -1, 0,
	    NULL },
	{ "empty", "", -1, 0, NULL },
	{ "word", "localhost", -1, 0, NULL },
};

static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct addr a;
	char buf[ADDR_STRLEN];
	int rc;

	memset(&a, 0xaa, sizeof a);
	rc = addr_parse(c->in, &a);
	if (rc != c->rc)
		fail_msg("addr_parse(\"%s\"): got %d, want %d", c->in, rc, c->rc);
	if (rc != 0)
		return;
	if (a.family != c->family)
		fail_msg("addr_parse(\"%s\"): family got %d, want %d", c->in,
		    a.family, c->family);
	addr_ntop(&a, buf);
	if (strcmp(buf, c->text) != 0)
		fail_msg("addr_ntop(addr_parse(\"%s\")): got \"%s\", want \"%s\"",
		    c->in, buf, c->text);
	if (a.family == AF_INET) {
		static const uint8_t zero[12];

		if (memcmp(a.b + 4, zero, 12) != 0)
			fail_msg("addr_parse(\"%s\"): IPv4 bytes 4..15 not zero",
			    c->in);
	}
}

/* ---- reverse names ---- */

struct rev_case {
	const char *name;
	const char *addr;
	const char *zone;
	size_t buflen;
	int rc;			/* -1, or 1 meaning "the length of want" */
	const char *want;
};

static const struct rev_case rev_cases[] = {
	{ "v4 in-addr.arpa", "192.0.2.1", NULL, ADDR_REVNAME_MAX, 1,
	    "1.2.0.192.in-addr.arpa" },
	{ "v4 dnsbl zone", "198.51.100.12", "zen.spamhaus.org",
	    ADDR_REVNAME_MAX, 1, "12.100.51.198.zen.spamhaus.org" },
	{ "v4 mapped input", "::ffff:10.1.2.3", NULL, ADDR_REVNAME_MAX, 1,
	    "3.2.1.10.in-addr.arpa" },
	{ "v6 ip6.arpa", "2001:db8::567:89ab", NULL, ADDR_REVNAME_MAX, 1,
	    "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".ip6.arpa" },
	{ "v6 dnsbl zone", "2001:db8::1", "bl.example",
	    ADDR_REVNAME_MAX, 1,
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".bl.example" },
	{ "v4 exact fit", "192.0.2.1", NULL, sizeof "1.2.0.192.in-addr.arpa",
	    1, "1.2.0.192.in-addr.arpa" },
	{ "v4 one short", "192.0.2.1", NULL,
	    sizeof "1.2.0.192.in-addr.arpa" - 1, -1, NULL },
	{ "v6 too small", "2001:db8::1", NULL, 64, -1, NULL },
	{ "empty zone", "192.0.2.1", "", ADDR_REVNAME_MAX, -1, NULL },
	{ "zero buffer", "192.0.2.1", NULL, 0, -1, NULL },
};

static void
test_reverse(void **state)
{
	const struct rev_case *c = *state;
	struct addr a;
	char buf[ADDR_REVNAME_MAX + 8];
	int rc, want;

	assert_int_equal(addr_parse(c->addr, &a), 0);
	memset(buf, 'Z', sizeof buf);
	rc = addr_reverse_name(&a, c->zone, buf, c->buflen);
	want = c->rc < 0 ? -1 : (int)strlen(c->want);
	if (rc != want)
		fail_msg("addr_reverse_name(%s, %s, len %zu): got %d, want %d",
		    c->addr, c->zone ? c->zone : "NULL", c->buflen, rc, want);
	if (rc < 0) {
		if (c->buflen < sizeof buf && buf[c->buflen] != 'Z')
			fail_msg("addr_reverse_name wrote past its buffer");
		return;
	}
	if (strcmp(buf, c->want) != 0)
		fail_msg("addr_reverse_name(%s): got \"%s\", want \"%s\"",
		    c->addr, buf, c->want);
}

/* ---- prefix_parse ---- */

struct prefix_case {
	const char *name;
	const char *in;
	int rc;
	const char *why;	/* when rc == -1 */
	const char *text;	/* "ADDR/LEN" when rc == 0 */
};

static const struct prefix_case prefix_cases[] = {
	{ "v4 /24", "192.0.2.0/24", 0, NULL, "192.0.2.0/24" },
	{ "v4 /0", "0.0.0.0/0", 0, NULL, "0.0.0.0/0" },
	{ "v4 /32", "192.0.2.1/32", 0, NULL, "192.0.2.1/32" },
	{ "v4 bare host", "192.0.2.1", 0, NULL, "192.0.2.1/32" },
	{ "v4 /8 loopback", "127.0.0.0/8", 0, NULL, "127.0.0.0/8" },
	{ "v4 /33", "192.0.2.0/33", -1, "prefix length", NULL },
	{ "v4 host bits", "192.0.2.1/24", -1, "host bits set", NULL },
	{ "v4 host bits /0", "1.0.0.0/0", -1, "host bits set", NULL },
	{ "v4 empty len", "192.0.2.0/", -1, "prefix length", NULL },
	{ "v4 negative len", "192.0.2.0/-1", -1, "prefix length", NULL },
	{ "v4 plus len", "192.0.2.0/+24", -1, "prefix length", NULL },
	{ "v4 leading zero len", "192.0.2.0/024", -1, "prefix length", NULL },
	{ "v4 junk after len", "192.0.2.0/24x", -1, "prefix length", NULL },
	{ "v4 space after len", "192.0.2.0/24 ", -1, "prefix length", NULL },
	{ "v4 two slashes", "192.0.2.0/24/8", -1, "prefix length", NULL },
	{ "v4 huge len", "192.0.2.0/99999999999", -1, "prefix length", NULL },
	{ "v4 bad address", "192.0.2/24", -1, "not an address", NULL },
	{ "empty", "", -1, "not an address", NULL },
	{ "only slash", "/24", -1, "not an address", NULL },
	{ "v6 /32", "2001:db8::/32", 0, NULL, "2001:db8::/32" },
	{ "v6 /128 bare", "2001:db8::1", 0, NULL, "2001:db8::1/128" },
	{ "v6 /0", "::/0", 0, NULL, "::/0" },
	{ "v6 /129", "2001:db8::/129", -1, "prefix length", NULL },
	{ "v6 host bits", "2001:db8::1/64", -1, "host bits set", NULL },
	{ "v6 /33 host bit", "2001:db8:8000::/32", -1, "host bits set", NULL },
	{ "v6 brackets", "[2001:db8::]/32", -1, "not an address", NULL },
	{ "v6 zone", "fe80::%eth0/64", -1, "not an address", NULL },
	{ "mapped /120 to v4 /24", "::ffff:192.0.2.0/120", 0, NULL,
	    "192.0.2.0/24" },
	{ "mapped bare to v4 /32", "::ffff:192.0.2.9", 0, NULL,
	    "192.0.2.9/32" },
	{ "mapped /96 to v4 /0", "::ffff:0.0.0.0/96", 0, NULL, "0.0.0.0/0" },
	{ "mapped /95", "::ffff:0.0.0.0/95", -1, "host bits set", NULL },
	{ "v4 text /100", "10.0.0.0/100", -1, "prefix length", NULL },
};

static void
test_prefix(void **state)
{
	const struct prefix_case *c = *state;
	struct prefix p;
	const char *why = "(unset)";
	char buf[ADDR_STRLEN], text[ADDR_STRLEN + 8];
	int rc;

	rc = prefix_parse(c->in, &p, &why);
	if (rc != c->rc)
		fail_msg("prefix_parse(\"%s\"): got %d (%s), want %d", c->in, rc,
		    rc ? why : "ok", c->rc);
	if (rc != 0) {
		if (strcmp(why, c->why) != 0)
			fail_msg("prefix_parse(\"%s\"): why got \"%s\", want \"%s\"",
			    c->in, why, c->why);
		return;
	}
	snprintf(text, sizeof text, "%s/%u", addr_ntop(&p.a, buf), p.len);
	if (strcmp(text, c->text) != 0)
		fail_msg("prefix_parse(\"%s\"): got %s, want %s", c->in, text,
		    c->text);
}

/* ---- prefix_contains ---- */

struct contains_case {
	const char *name;
	const char *prefix;
	const char *addr;
	bool want;
};

static const struct contains_case contains_cases[] = {
	{ "v4 inside", "192.0.2.0/24", "192.0.2.200", true },
	{ "v4 first", "192.0.2.0/24", "192.0.2.0", true },
	{ "v4 last", "192.0.2.0/24", "192.0.2.255", true },
	{ "v4 just past", "192.0.2.0/24", "192.0.3.0", false },
	{ "v4 just before", "192.0.2.0/24", "192.0.1.255", false },
	{ "v4 /0 any", "0.0.0.0/0", "203.0.113.9", true },
	{ "v4 /0 not v6", "0.0.0.0/0", "2001:db8::1", false },
	{ "v4 odd length in", "10.64.0.0/10", "10.127.255.255", true },
	{ "v4 odd length out", "10.64.0.0/10", "10.128.0.0", false },
	{ "v4 host match", "192.0.2.1", "192.0.2.1", true },
	{ "v4 host other", "192.0.2.1", "192.0.2.2", false },
	{ "v4 mapped client", "192.0.2.0/24", "::ffff:192.0.2.3", true },
	{ "v6 inside", "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "v6 outside", "2001:db8::/32", "2001:db9::", false },
	{ "v6 /127 in", "2001:db8::/127", "2001:db8::1", true },
	{ "v6 /127 out", "2001:db8::/127", "2001:db8::2", false },
	{ "v6 /0 not v4", "::/0", "192.0.2.1", false },
	{ "v6 /128", "::1", "::1", true },
};

static void
test_contains(void **state)
{
	const struct contains_case *c = *state;
	struct prefix p;
	struct addr a;
	bool got;

	assert_int_equal(prefix_parse(c->prefix, &p, NULL), 0);
	assert_int_equal(addr_parse(c->addr, &a), 0);
	got = prefix_contains(&p, &a);
	if (got != c->want)
		fail_msg("prefix_contains(%s, %s): got %d, want %d", c->prefix,
		    c->addr, got, c->want);
}

/* ---- prefix_end ---- */

struct end_case {
	const char *name;
	const char *prefix;
	const char *want;	/* NULL: no address past it */
};

static const struct end_case end_cases[] = {
	{ "v4 /24", "192.0.2.0/24", "192.0.3.0" },
	{ "v4 /32", "192.0.2.7", "192.0.2.8" },
	{ "v4 /32 carry", "192.0.2.255", "192.0.3.0" },
	{ "v4 /10", "10.64.0.0/10", "10.128.0.0" },
	{ "v4 /8 carry", "10.0.0.0/8", "11.0.0.0" },
	{ "v4 /1 upper half", "128.0.0.0/1", NULL },
	{ "v4 /1 lower half", "0.0.0.0/1", "128.0.0.0" },
	{ "v4 /0", "0.0.0.0/0", NULL },
	{ "v4 last host", "255.255.255.255", NULL },
	{ "v4 last /24", "255.255.255.0/24", NULL },
	{ "v6 /32", "2001:db8::/32", "2001:db9::" },
	{ "v6 /128", "2001:db8::1", "2001:db8::2" },
	{ "v6 /64 carry", "2001:db8:0:ffff::/64", "2001:db8:1::" },
	{ "v6 /0", "::/0", NULL },
	{ "v6 last", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "v6 /3 last", "e000::/3", NULL },
};

static void
test_end(void **state)
{
	const struct end_case *c = *state;
	struct prefix p;
	struct addr e;
	char buf[ADDR_STRLEN];
	bool got;

	assert_int_equal(prefix_parse(c->prefix, &p, NULL), 0);
	memset(&e, 0, sizeof e);
	got = prefix_end(&p, &e);
	if (got != (c->want != NULL))
		fail_msg("prefix_end(%s): got %s, want %s", c->prefix,
		    got ? addr_ntop(&e, buf) : "false",
		    c->want ? c->want : "false");
	if (!got)
		return;
	addr_ntop(&e, buf);
	if (strcmp(buf, c->want) != 0)
		fail_msg("prefix_end(%s): got %s, want %s", c->prefix, buf,
		    c->want);
	if (e.family != p.a.family)
		fail_msg("prefix_end(%s): family changed", c->prefix);
}

/* ---- single-shot checks ---- */

static void
test_eq_hash_len(void **state)
{
	struct addr a, b, c;
	struct siphash_key k = { 1, 2 };

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(addr_parse("::ffff:192.0.2.1", &b), 0);
	assert_int_equal(addr_parse("::192.0.2.1", &c), 0);
	assert_true(addr_eq(&a, &b));
	assert_int_equal(addr_hash(&k, &a), addr_hash(&k, &b));
	assert_false(addr_eq(&a, &c));
	assert_int_equal(addr_len(&a), 4);
	assert_int_equal(addr_len(&c), 16);
	assert_int_equal(addr_v4(&a), 0xc0000201u);
	assert_int_equal(addr_v4(&c), 0);
	assert_int_not_equal(addr_hash(&k, &a), addr_hash(&k, &c));
}

static void
test_from_bytes(void **state)
{
	static const uint8_t v4[4] = { 198, 51, 100, 1 };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 198, 51, 100, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 1 };
	struct addr a, b, c;
	char buf[ADDR_STRLEN];

	(void)state;
	addr_from_v4(&a, v4);
	addr_from_v6(&b, mapped);
	addr_from_v6(&c, v6);
	assert_true(addr_eq(&a, &b));
	assert_int_equal(b.family, AF_INET);
	assert_string_equal(addr_ntop(&c, buf), "2001:db8::1");
	/* An unset family formats as something harmless, not garbage. */
	memset(&a, 0, sizeof a);
	assert_string_equal(addr_ntop(&a, buf), "(family 0)");
}

/* ---- addr_mask ---- */

struct mask_case {
	const char *name;
	const char *in;
	unsigned bits;
	const char *want;
};

static const struct mask_case mask_cases[] = {
	{ "v4 /24", "198.51.100.77", 24, "198.51.100.0" },
	{ "v4 /20", "198.51.100.77", 20, "198.51.96.0" },
	{ "v4 /32", "198.51.100.77", 32, "198.51.100.77" },
	{ "v4 /64 is /32", "198.51.100.77", 64, "198.51.100.77" },
	{ "v4 /0", "198.51.100.77", 0, "0.0.0.0" },
	{ "v6 /64", "2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::" },
	{ "v6 /63", "2001:db8:1:3:3:4:5:6", 63, "2001:db8:1:2::" },
	{ "v6 /128", "2001:db8::1", 128, "2001:db8::1" },
	{ "v6 /48", "2001:db8:1:2::1", 48, "2001:db8:1::" },
};

static void
test_mask(void **state)
{
	const struct mask_case *c = *state;
	struct addr a, m;
	char buf[ADDR_STRLEN];

	assert_int_equal(addr_parse(c->in, &a), 0);
	addr_mask(&m, &a, c->bits);
	if (strcmp(addr_ntop(&m, buf), c->want) != 0)
		fail_msg("addr_mask(%s, %u): got %s, want %s", c->in, c->bits,
		    buf, c->want);
	addr_mask(&a, &a, c->bits);		/* in place */
	assert_true(addr_eq(&a, &m));
}

/* ---- hash flooding ---- */

/* The unkeyed hash the tables used before (FNV-1a over family and bytes). */
static uint32_t
old_fnv(const struct addr *a)
{
	uint32_t h = 2166136261u;

	h = (h ^ a->family) * 16777619u;
	for (size_t i = 0; i < addr_len(a); i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h;
}

#define FLOOD_N		2000
#define FLOOD_BUCKETS	65536	/* the gate's, the strikes' and the flows' */

/*
 * FLOOD_N addresses of 2001:db8:bad:1::/64 whose old hash has the same low
 * 16 bits.  The low 16 bits of FNV-1a depend only on the low 16 bits of
 * its state, so after choosing bytes 12-13 freely, the last two bytes that
 * reach the target can be solved for: the last multiplication by the
 * prime is invertible mod 2^16.
 */
static size_t
flood_addresses(struct addr *out, uint16_t target)
{
	const uint16_t prime = 16777619u & 0xffff;
	uint16_t inv = prime, want;
	struct addr a;
	size_t n = 0;

	for (int i = 0; i < 4; i++)	/* Newton: inv = prime^-1 mod 2^16 */
		inv = (uint16_t)(inv * (uint16_t)(2 - prime * inv));
	want = (uint16_t)(target * inv);	/* state before the last multiply */
	assert_true(addr_parse("2001:db8:bad:1::", &a) == 0);
	for (uint32_t k = 0; k < 65536 && n < FLOOD_N; k++) {
		uint32_t h = 2166136261u;

		a.b[12] = (uint8_t)(k >> 8);
		a.b[13] = (uint8_t)k;
		h = (h ^ a.family) * 16777619u;
		for (size_t i = 0; i < 14; i++)
			h = (h ^ a.b[i]) * 16777619u;
		for (unsigned b14 = 0; b14 < 256 && n < FLOOD_N; b14++) {
			uint16_t y = (uint16_t)((h ^ b14) * 16777619u);

			if ((y >> 8) != (want >> 8))
				continue;
			a.b[14] = (uint8_t)b14;
			a.b[15] = (uint8_t)((y ^ want) & 0xff);
			out[n++] = a;
		}
	}
	return n;
}

static size_t
longest_chain(const uint32_t *hash, size_t n)
{
	static uint16_t count[FLOOD_BUCKETS];
	size_t max = 0;

	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		if (++count[hash[i] & (FLOOD_BUCKETS - 1)] > max)
			max = count[hash[i] & (FLOOD_BUCKETS - 1)];
	return max;
}

/*
 * The attack of issue 8: FLOOD_N chosen addresses of one /64 put into a
 * table of FLOOD_BUCKETS chains indexed by the hash's low 16 bits, as the
 * gate's lookups, the strikes and the sniffer's flows are.  Under the old
 * hash they form one chain of FLOOD_N; under the keyed hash, with any
 * random key, the longest chain is a handful (about 3 is expected).
 */
static void
test_hash_flood(void **state)
{
	static struct addr a[FLOOD_N];
	static uint32_t h[FLOOD_N];
	size_t n, chain;

	(void)state;
	n = flood_addresses(a, 0x5a5a);
	if (n != FLOOD_N)
		fail_msg("flood addresses: got %zu, want %d", n, FLOOD_N);
	for (size_t i = 0; i < n; i++) {
		char buf[ADDR_STRLEN];
		struct addr net;

		addr_mask(&net, &a[i], 64);
		if (strcmp(addr_ntop(&net, buf), "2001:db8:bad:1::") != 0)
			fail_msg("address %zu outside the /64: %s", i, buf);
		for (size_t j = 0; j < i && i < 50; j++)
			assert_false(addr_eq(&a[i], &a[j]));
		h[i] = old_fnv(&a[i]);
	}
	chain = longest_chain(h, n);
	if (chain != FLOOD_N)
		fail_msg("old FNV-1a: longest chain %zu, want %d (all collide)",
		    chain, FLOOD_N);
	for (int round = 0; round < 4; round++) {
		struct siphash_key k;

		assert_int_equal(siphash_key_random(&k), 0);
		for (size_t i = 0; i < n; i++)
			h[i] = addr_hash(&k, &a[i]);
		chain = longest_chain(h, n);
		if (chain > 8)
			fail_msg("keyed hash, round %d: longest chain %zu, want "
			    "<= 8 (about 3 expected)", round, chain);
		print_message("keyed hash, round %d: longest chain %zu of %d "
		    "flood addresses (old hash: %d)\n", round, chain, FLOOD_N,
		    FLOOD_N);
	}
}

/* The key matters: one address, two keys, two hashes (almost surely). */
static void
test_hash_keyed(void **state)
{
	struct siphash_key k1 = { 1, 2 }, k2 = { 1, 3 };
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(addr_hash(&k1, &a), addr_hash(&k1, &a));
	assert_int_not_equal(addr_hash(&k1, &a), addr_hash(&k2, &a));
	assert_int_not_equal(addr_hash_ports(&k1, &a, 1, 25),
	    addr_hash_ports(&k1, &a, 2, 25));
	assert_int_not_equal(addr_hash_ports(&k1, &a, 1, 25),
	    addr_hash(&k1, &a));
}

int
main(void)
{
	static struct CMUnitTest t[256];
	static char names[256][96];
	size_t n = 0;

	CASES(parse_cases, test_parse);
	CASES(rev_cases, test_reverse);
	CASES(prefix_cases, test_prefix);
	CASES(contains_cases, test_contains);
	CASES(end_cases, test_end);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_eq_hash_len);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_from_bytes);
	CASES(mask_cases, test_mask);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_hash_flood);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_hash_keyed);
	return _cmocka_run_group_tests("addr", t, n, NULL, NULL);
}
