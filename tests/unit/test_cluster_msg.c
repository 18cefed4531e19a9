/*
 * test_cluster_msg.c - the pure formats of cluster.h (cluster_msg.c):
 * every kind formatted, parsed back and formatted again to the same
 * bytes; hostile messages refused, each with its reason; keys; the TTL
 * left.  Table-driven, one named cmocka test per row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cases.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster.h"

#define AT	1764633600000ll		/* 2025-12-02 00:00:00 UTC */

/* ---- round trips: a message that parses formats back to itself ---- */

struct trip_case {
	const char *name;
	const char *msg;
	enum cluster_kind kind;
	uint32_t ttl_s, count;
	const char *reason;
	const char *addr;	/* e->a as addr_ntop writes it */
	bool net64;
	unsigned plen;		/* e->p.len for allow-* and /64 */
};

static const struct trip_case trip_cases[] = {
	{ "deny v4", "1 deny mx1 1764633600000 900 0 generic-ptr 192.0.2.7",
	    CLUSTER_DENY, 900, 0, "generic-ptr", "192.0.2.7", false, 0 },
	{ "deny two reasons", "1 deny mx1 1764633600000 900 0 no-ptr,fcrdns "
	    "192.0.2.7", CLUSTER_DENY, 900, 0, "no-ptr,fcrdns", "192.0.2.7",
	    false, 0 },
	{ "deny v6", "1 deny mx1 1764633600000 900 0 dnsbl 2001:db8::7",
	    CLUSTER_DENY, 900, 0, "dnsbl", "2001:db8::7", false, 0 },
	{ "deny /64", "1 deny mx-2.site 1764633600000 900 0 dnsbl "
	    "2001:db8:1:2::/64", CLUSTER_DENY, 900, 0, "dnsbl", "2001:db8:1:2::",
	    true, 64 },
	{ "drop", "1 drop A_1 1764633600000 60 0 - 198.51.100.1",
	    CLUSTER_DROP, 60, 0, "", "198.51.100.1", false, 0 },
	{ "drop /64", "1 drop a 1764633600000 60 0 - 2001:db8::/64",
	    CLUSTER_DROP, 60, 0, "", "2001:db8::", true, 64 },
	{ "pass", "1 pass a 1764633600000 3600 0 - 203.0.113.9",
	    CLUSTER_PASS, 3600, 0, "", "203.0.113.9", false, 0 },
	{ "strike", "1 strike a 1764633600000 3600 3 own-name 192.0.2.8",
	    CLUSTER_STRIKE, 3600, 3, "own-name", "192.0.2.8", false, 0 },
	{ "ban max", "1 ban a 1764633600000 34560000 1000000 bare-ip 192.0.2.8",
	    CLUSTER_BAN, CLUSTER_TTL_MAX, CLUSTER_COUNT_MAX, "bare-ip",
	    "192.0.2.8", false, 0 },
	{ "unban", "1 unban a 1764633600000 0 0 - 192.0.2.8",
	    CLUSTER_UNBAN, 0, 0, "", "192.0.2.8", false, 0 },
	{ "allow-add v4", "1 allow-add a 1764633600000 0 0 - 192.0.2.0/24",
	    CLUSTER_ALLOW_ADD, 0, 0, "", "192.0.2.0", false, 24 },
	{ "allow-add host", "1 allow-add a 1764633600000 0 0 - 192.0.2.1/32",
	    CLUSTER_ALLOW_ADD, 0, 0, "", "192.0.2.1", false, 32 },
	{ "allow-del v6", "1 allow-del a 1764633600000 0 0 ctl 2001:db8::/32",
	    CLUSTER_ALLOW_DEL, 0, 0, "ctl", "2001:db8::", false, 32 },
	{ "hello", "1 hello gw.example-1 1764633600000 0 0 - -",
	    CLUSTER_HELLO, 0, 0, "", NULL, false, 0 },
	{ "node 63", "1 hello "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789. "
	    "1764633600000 0 0 - -", CLUSTER_HELLO, 0, 0, "", NULL, false, 0 },
	{ "reason 47", "1 deny a 1764633600000 1 0 "
	    "abcdefghijklmnopqrstuvwxyz0123456789:.,_-abcdef 192.0.2.1",
	    CLUSTER_DENY, 1, 0, "abcdefghijklmnopqrstuvwxyz0123456789:.,_-abcdef",
	    "192.0.2.1", false, 0 },
};

static void
test_trip(void **state)
{
	const struct trip_case *c = *state;
	struct cluster_event e, e2;
	char why[128] = "", buf[CLUSTER_MSG_MAX], a[ADDR_STRLEN];
	size_t n;

	if (cluster_msg_parse(c->msg, strlen(c->msg), &e, why, sizeof why) != 0)
		fail_msg("parse \"%s\": got \"%s\", want success", c->msg, why);
	assert_int_equal(e.kind, c->kind);
	assert_int_equal(e.at_ms, AT);
	assert_int_equal(e.ttl_s, c->ttl_s);
	assert_int_equal(e.count, c->count);
	assert_string_equal(e.reason, c->reason);
	assert_int_equal(e.net64, c->net64);
	if (c->addr != NULL)
		assert_string_equal(addr_ntop(&e.a, a), c->addr);
	if (c->plen != 0) {
		assert_int_equal(e.p.len, c->plen);
		assert_string_equal(addr_ntop(&e.p.a, a), c->addr);
	}
	n = cluster_msg_format(&e, buf, sizeof buf);
	if (n != strlen(c->msg) || strcmp(buf, c->msg) != 0)
		fail_msg("format: got \"%s\" (%zu), want \"%s\"", buf, n, c->msg);
	/* Exactly the room it needs, and one byte less. */
	assert_int_equal(cluster_msg_format(&e, buf, n + 1), n);
	assert_int_equal(cluster_msg_format(&e, buf, n), 0);
	assert_string_equal(buf, "");
	assert_int_equal(cluster_msg_parse(c->msg, strlen(c->msg), &e2, NULL,
	    0), 0);
	assert_memory_equal(&e, &e2, sizeof e);
	/* Never reads past len: a message cut short is refused, or is
	 * another message that formats to exactly its bytes. */
	if (cluster_msg_parse(c->msg, strlen(c->msg) - 1, &e2, why,
	    sizeof why) == 0) {
		n = cluster_msg_format(&e2, buf, sizeof buf);
		assert_int_equal(n, strlen(c->msg) - 1);
		assert_memory_equal(buf, c->msg, n);
	}
}

/* ---- hostile messages ---- */

struct bad_case {
	const char *name;
	const char *msg;
	size_t len;		/* 0: strlen */
	const char *why;
};

static const struct bad_case bad_cases[] = {
	{ "empty", "", 0, "empty message" },
	{ "version 2", "2 deny a 1764633600000 900 0 - 192.0.2.1", 0,
	    "field 0: version '2' (want 1)" },
	{ "version 01", "01 deny a 1764633600000 900 0 - 192.0.2.1", 0,
	    "field 0: version '01' (want 1)" },
	{ "kind unknown", "1 block a 1764633600000 900 0 - 192.0.2.1", 0,
	    "field 1: unknown kind 'block'" },
	{ "kind case", "1 DENY a 1764633600000 900 0 - 192.0.2.1", 0,
	    "field 1: unknown kind 'DENY'" },
	{ "two spaces", "1 deny  a 1764633600000 900 0 - 192.0.2.1", 0,
	    "byte 7: empty field (fields are separated by one space)" },
	{ "leading space", " 1 deny a 1764633600000 900 0 - 192.0.2.1", 0,
	    "byte 0: empty field (fields are separated by one space)" },
	{ "trailing space", "1 deny a 1764633600000 900 0 - 192.0.2.1 ", 0,
	    "byte 41: empty field (fields are separated by one space)" },
	{ "tab", "1 deny\ta 1764633600000 900 0 - 192.0.2.1", 0,
	    "byte 6: 0x09 is not printable ASCII" },
	{ "newline", "1 deny a 1764633600000 900 0 - 192.0.2.1\n", 0,
	    "byte 40: 0x0a is not printable ASCII" },
	{ "nul inside", "1 deny a\0 1764633600000 900 0 - 192.0.2.1", 42,
	    "byte 8: 0x00 is not printable ASCII" },
	{ "high byte", "1 deny \xc3\xa9 1764633600000 900 0 - 192.0.2.1", 0,
	    "byte 7: 0xc3 is not printable ASCII" },
	{ "seven fields", "1 deny a 1764633600000 900 0 192.0.2.1", 0,
	    "7 fields (want 8)" },
	{ "nine fields", "1 deny a 1764633600000 900 0 - 192.0.2.1 x", 0,
	    "more than 8 fields" },
	{ "node empty charset", "1 deny a/b 1764633600000 900 0 - 192.0.2.1", 0,
	    "field 2: node 'a/b' (want [A-Za-z0-9._-], 1..63 characters)" },
	{ "node 64", "1 hello "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.x "
	    "1764633600000 0 0 - -", 0,
	    "field 2: node "
	    "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.x' "
	    "(want [A-Za-z0-9._-], 1..63 characters)" },
	{ "at zero", "1 deny a 0 900 0 - 192.0.2.1", 0,
	    "field 3: at '0' is no time in ms since the epoch "
	    "(1000000000000..9999999999999)" },
	{ "at seconds", "1 deny a 1764633600 900 0 - 192.0.2.1", 0,
	    "field 3: at '1764633600' is no time in ms since the epoch "
	    "(1000000000000..9999999999999)" },
	{ "at 14 digits", "1 deny a 17646336000000 900 0 - 192.0.2.1", 0,
	    "field 3: at '17646336000000' is no time in ms since the epoch "
	    "(1000000000000..9999999999999)" },
	{ "at huge", "1 deny a 99999999999999999999999 900 0 - 192.0.2.1", 0,
	    "field 3: at '99999999999999999999999' is no time in ms since the "
	    "epoch (1000000000000..9999999999999)" },
	{ "at negative", "1 deny a -1764633600000 900 0 - 192.0.2.1", 0,
	    "field 3: at '-1764633600000' is no time in ms since the epoch "
	    "(1000000000000..9999999999999)" },
	{ "ttl 0", "1 deny a 1764633600000 0 0 - 192.0.2.1", 0,
	    "field 4: ttl 0 out of 1..34560000" },
	{ "ttl over", "1 ban a 1764633600000 34560001 1 - 192.0.2.1", 0,
	    "field 4: ttl 34560001 out of 1..34560000" },
	{ "ttl leading zero", "1 deny a 1764633600000 0900 0 - 192.0.2.1", 0,
	    "field 4: ttl '0900' is not a number" },
	{ "ttl plus", "1 deny a 1764633600000 +900 0 - 192.0.2.1", 0,
	    "field 4: ttl '+900' is not a number" },
	{ "ttl hex", "1 deny a 1764633600000 0x10 0 - 192.0.2.1", 0,
	    "field 4: ttl '0x10' is not a number" },
	{ "ttl on hello", "1 hello a 1764633600000 5 0 - -", 0,
	    "field 4: ttl 5 (a hello has 0)" },
	{ "ttl on allow", "1 allow-add a 1764633600000 5 0 - 192.0.2.0/24", 0,
	    "field 4: ttl 5 (a allow-add has 0)" },
	{ "count on deny", "1 deny a 1764633600000 900 2 - 192.0.2.1", 0,
	    "field 5: count 2 (a deny has 0)" },
	{ "strike count 0", "1 strike a 1764633600000 900 0 - 192.0.2.1", 0,
	    "field 5: count 0 out of 1..1000000" },
	{ "ban count over", "1 ban a 1764633600000 900 1000001 - 192.0.2.1", 0,
	    "field 5: count 1000001 out of 1..1000000" },
	{ "count word", "1 ban a 1764633600000 900 many - 192.0.2.1", 0,
	    "field 5: count 'many' is not a number" },
	{ "reason upper", "1 deny a 1764633600000 900 0 DNSBL 192.0.2.1", 0,
	    "field 6: reason 'DNSBL' (want '-' or [a-z0-9:.,_-], 1..47 "
	    "characters)" },
	{ "reason 48", "1 deny a 1764633600000 1 0 "
	    "abcdefghijklmnopqrstuvwxyz0123456789:.,_-abcdefg 192.0.2.1", 0,
	    "field 6: reason 'abcdefghijklmnopqrstuvwxyz0123456789:.,_-abcdefg' "
	    "(want '-' or [a-z0-9:.,_-], 1..47 characters)" },
	{ "reason quote", "1 deny a 1764633600000 900 0 a\"b 192.0.2.1", 0,
	    "field 6: reason 'a\"b' (want '-' or [a-z0-9:.,_-], 1..47 "
	    "characters)" },
	{ "address junk", "1 deny a 1764633600000 900 0 - 192.0.2.300", 0,
	    "field 7: '192.0.2.300' is not an address" },
	{ "address name", "1 deny a 1764633600000 900 0 - mx.example", 0,
	    "field 7: 'mx.example' is not an address" },
	{ "address v6 upper", "1 deny a 1764633600000 900 0 - 2001:DB8::1", 0,
	    "field 7: '2001:DB8::1' is not written as 2001:db8::1" },
	{ "address v6 long", "1 deny a 1764633600000 900 0 - "
	    "2001:db8:0:0:0:0:0:1", 0,
	    "field 7: '2001:db8:0:0:0:0:0:1' is not written as 2001:db8::1" },
	{ "address mapped", "1 deny a 1764633600000 900 0 - ::ffff:192.0.2.1",
	    0, "field 7: '::ffff:192.0.2.1' is not written as 192.0.2.1" },
	{ "address zone", "1 deny a 1764633600000 900 0 - fe80::1%eth0", 0,
	    "field 7: 'fe80::1%eth0' is not an address" },
	{ "subject long", "1 deny a 1764633600000 900 0 - "
	    "2001:0db8:0000:0000:0000:0000:0000:0001/128xxxxxxxxxxxxxxxx", 0,
	    "field 7: subject longer than 53 characters" },
	{ "v4 network deny", "1 deny a 1764633600000 900 0 - 192.0.2.0/24", 0,
	    "field 7: '192.0.2.0/24': a network verdict is an IPv6 /64" },
	{ "v6 /48 deny", "1 deny a 1764633600000 900 0 - 2001:db8::/48", 0,
	    "field 7: '2001:db8::/48': a network verdict is an IPv6 /64" },
	{ "/64 pass", "1 pass a 1764633600000 900 0 - 2001:db8::/64", 0,
	    "field 7: a pass names an address, not a network" },
	{ "/64 ban", "1 ban a 1764633600000 900 1 - 2001:db8::/64", 0,
	    "field 7: a ban names an address, not a network" },
	{ "/64 host bits", "1 deny a 1764633600000 900 0 - 2001:db8::1/64", 0,
	    "field 7: '2001:db8::1/64': host bits set" },
	{ "allow bare", "1 allow-add a 1764633600000 0 0 - 192.0.2.1", 0,
	    "field 7: '192.0.2.1' is not written as 192.0.2.1/32" },
	{ "allow length", "1 allow-add a 1764633600000 0 0 - 192.0.2.0/33", 0,
	    "field 7: '192.0.2.0/33': prefix length" },
	{ "allow zero len", "1 allow-del a 1764633600000 0 0 - 192.0.2.0/024",
	    0, "field 7: '192.0.2.0/024': prefix length" },
	{ "hello subject", "1 hello a 1764633600000 0 0 - 192.0.2.1", 0,
	    "field 7: a hello's subject must be '-'" },
	{ "subject dash", "1 deny a 1764633600000 900 0 - -", 0,
	    "field 7: '-' is not an address" },
	{ "too long", "1 deny a 1764633600000 900 0 "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 192.0.2.1", 0,
	    "message of 276 bytes (at most 255)" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	size_t len = c->len ? c->len : strlen(c->msg);
	struct cluster_event e, zero;
	char why[256] = "x";
	char *copy;

	/* A block of exactly len bytes: ASan sees a read past it. */
	copy = test_malloc(len ? len : 1);
	memcpy(copy, c->msg, len);
	memset(&e, 0x5a, sizeof e);
	memset(&zero, 0, sizeof zero);
	if (cluster_msg_parse(copy, len, &e, why, sizeof why) != -1)
		fail_msg("parse \"%s\": got success, want \"%s\"", c->msg,
		    c->why);
	test_free(copy);
	if (strcmp(why, c->why) != 0)
		fail_msg("parse \"%s\":\n got \"%s\"\nwant \"%s\"", c->msg, why,
		    c->why);
	assert_memory_equal(&e, &zero, sizeof e);
	/* A short why is cut, never overrun; NULL is allowed. */
	assert_int_equal(cluster_msg_parse(c->msg, len, &e, why, 4), -1);
	assert_true(strlen(why) <= 3);
	assert_int_equal(cluster_msg_parse(c->msg, len, &e, NULL, 0), -1);
}

/* ---- events the formatter refuses ---- */

static void
good_event(struct cluster_event *e)
{
	memset(e, 0, sizeof *e);
	e->kind = CLUSTER_DENY;
	snprintf(e->node, sizeof e->node, "mx1");
	e->at_ms = AT;
	e->ttl_s = 900;
	assert_int_equal(addr_parse("192.0.2.7", &e->a), 0);
}

static void
test_format_refuses(void **state)
{
	struct cluster_event e;
	char buf[CLUSTER_MSG_MAX];

	(void)state;
	good_event(&e);
	assert_int_not_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	e.kind = CLUSTER_KIND_MAX;
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.node[0] = '\0';
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	snprintf(e.node, sizeof e.node, "a b");
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	memset(e.node, 'a', sizeof e.node);	/* no NUL */
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.ttl_s = 0;
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.ttl_s = CLUSTER_TTL_MAX + 1;
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.count = 1;
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.at_ms = 0;
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	snprintf(e.reason, sizeof e.reason, "Bad Reason");
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.a.family = 0;
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.net64 = true;		/* a v4 /64 */
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.kind = CLUSTER_STRIKE;	/* count 0 */
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	good_event(&e);
	e.kind = CLUSTER_HELLO;		/* ttl 900 */
	assert_int_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	e.ttl_s = 0;
	assert_int_not_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	assert_string_equal(buf, "1 hello mx1 1764633600000 0 0 - -");
	/* An IPv4-mapped address is written as IPv4. */
	good_event(&e);
	assert_int_equal(addr_parse("::ffff:192.0.2.9", &e.a), 0);
	assert_int_not_equal(cluster_msg_format(&e, buf, sizeof buf), 0);
	assert_string_equal(buf, "1 deny mx1 1764633600000 900 0 - 192.0.2.9");
	assert_int_equal(cluster_msg_format(&e, buf, 0), 0);
}

/* ---- keys ---- */

struct key_case {
	const char *name;
	const char *msg;
	const char *prefix;
	const char *want;	/* NULL: 0 (does not fit) */
};

static const struct key_case key_cases[] = {
	{ "verdict", "1 deny a 1764633600000 900 0 - 192.0.2.7", "smtpgate:",
	    "smtpgate:v:192.0.2.7" },
	{ "pass", "1 pass a 1764633600000 900 0 - 2001:db8::7", "p:",
	    "p:v:2001:db8::7" },
	{ "net64", "1 drop a 1764633600000 900 0 - 2001:db8:1:2::/64",
	    "smtpgate:", "smtpgate:vn:2001:db8:1:2::/64" },
	{ "strike", "1 strike a 1764633600000 900 1 - 192.0.2.7", "smtpgate:",
	    "smtpgate:s:192.0.2.7" },
	{ "ban", "1 ban a 1764633600000 900 1 - 192.0.2.7", "smtpgate:",
	    "smtpgate:b:192.0.2.7" },
	{ "unban", "1 unban a 1764633600000 0 0 - 192.0.2.7", "smtpgate:",
	    "smtpgate:b:192.0.2.7" },
	{ "allow", "1 allow-add a 1764633600000 0 0 - 192.0.2.0/24",
	    "smtpgate:", "smtpgate:allow" },
	{ "hello", "1 hello mx-1.site 1764633600000 0 0 - -", "smtpgate:",
	    "smtpgate:node:mx-1.site" },
	{ "no prefix", "1 deny a 1764633600000 900 0 - 192.0.2.7", "",
	    "v:192.0.2.7" },
	{ "too long", "1 deny a 1764633600000 900 0 - 192.0.2.7",
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    NULL },
};

static void
test_key(void **state)
{
	const struct key_case *c = *state;
	struct cluster_event e;
	char buf[CLUSTER_KEY_MAX];
	size_t n;

	assert_int_equal(cluster_msg_parse(c->msg, strlen(c->msg), &e, NULL,
	    0), 0);
	n = cluster_msg_key(c->prefix, &e, buf, sizeof buf);
	if (c->want == NULL) {
		if (n != 0)
			fail_msg("key: got \"%s\", want 0", buf);
		assert_string_equal(buf, "");
		return;
	}
	if (n != strlen(c->want) || strcmp(buf, c->want) != 0)
		fail_msg("key: got \"%s\" (%zu), want \"%s\"", buf, n, c->want);
	assert_int_equal(cluster_msg_key(c->prefix, &e, buf, n), 0);
	assert_int_equal(cluster_msg_key(c->prefix, &e, buf, n + 1), n);
}

/* ---- the TTL left ---- */

struct left_case {
	const char *name;
	int64_t at_ms;
	uint32_t ttl_s;
	int64_t now_ms;
	uint32_t want;
};

static const struct left_case left_cases[] = {
	{ "fresh", AT, 900, AT, 900 },
	{ "half a second", AT, 900, AT + 500, 900 },
	{ "one second", AT, 900, AT + 1000, 899 },
	{ "last ms", AT, 900, AT + 899999, 1 },
	{ "just expired", AT, 900, AT + 900000, 0 },
	{ "long expired", AT, 1, AT + 86400000, 0 },
	{ "future within skew", AT + 60000, 900, AT, 900 },
	{ "future beyond skew", AT + 60001, 900, AT, 0 },
	{ "max ttl", AT, CLUSTER_TTL_MAX, AT + 1, CLUSTER_TTL_MAX },
};

static void
test_left(void **state)
{
	const struct left_case *c = *state;
	struct cluster_event e;
	uint32_t got;

	memset(&e, 0, sizeof e);
	e.at_ms = c->at_ms;
	e.ttl_s = c->ttl_s;
	got = cluster_msg_left(&e, c->now_ms);
	if (got != c->want)
		fail_msg("left(at %lld, ttl %u, now %lld): got %u, want %u",
		    (long long)c->at_ms, c->ttl_s, (long long)c->now_ms, got,
		    c->want);
}

/* ---- a Sentinel's +switch-master ---- */

struct switch_case {
	const char *name;
	const char *msg;
	int rc;
	const char *host;	/* rc 1 */
	int port;
	const char *why;	/* rc -1 */
};

static const struct switch_case switch_cases[] = {
	{ "ours", "mymaster 10.0.0.1 6379 10.0.0.2 6380", 1, "10.0.0.2",
	    6380, NULL },
	{ "v6", "mymaster ::1 6379 2001:DB8::2 6379", 1, "2001:db8::2", 6379,
	    NULL },
	{ "another", "other 10.0.0.1 6379 10.0.0.2 6380", 0, NULL, 0, NULL },
	{ "prefix of ours", "mymaste 10.0.0.1 6379 10.0.0.2 6380", 0, NULL, 0,
	    NULL },
	{ "four words", "mymaster 10.0.0.1 6379 10.0.0.2", -1, NULL, 0,
	    "4 words (want NAME OLDIP OLDPORT NEWIP NEWPORT)" },
	{ "six words", "mymaster 10.0.0.1 6379 10.0.0.2 6380 x", -1, NULL, 0,
	    "more than 5 words" },
	{ "two spaces", "mymaster  10.0.0.1 6379 10.0.0.2 6380", -1, NULL, 0,
	    "byte 9: empty word" },
	{ "name", "mymaster 10.0.0.1 6379 redis-2.example 6380", -1, NULL, 0,
	    "'redis-2.example' is not a numeric address" },
	{ "port 0", "mymaster 10.0.0.1 6379 10.0.0.2 0", -1, NULL, 0,
	    "new port is not 1..65535" },
	{ "port big", "mymaster 10.0.0.1 6379 10.0.0.2 65536", -1, NULL, 0,
	    "new port is not 1..65535" },
	{ "newline", "mymaster 10.0.0.1 6379 10.0.0.2 6380\n", -1, NULL, 0,
	    "byte 36: 0x0a is not printable ASCII" },
	{ "empty", "", -1, NULL, 0, "0 bytes" },
};

static void
test_switch(void **state)
{
	const struct switch_case *c = *state;
	char host[ADDR_STRLEN] = "", why[128] = "";
	size_t len = strlen(c->msg);
	char *copy = test_malloc(len ? len : 1);
	int port = 0, rc;

	memcpy(copy, c->msg, len);
	rc = cluster_msg_switch(copy, len, "mymaster", host, &port, why,
	    sizeof why);
	test_free(copy);
	if (rc != c->rc)
		fail_msg("switch \"%s\": got %d (%s), want %d", c->msg, rc, why,
		    c->rc);
	if (rc == 1) {
		assert_string_equal(host, c->host);
		assert_int_equal(port, c->port);
	}
	if (rc == -1)
		assert_string_equal(why, c->why);
}

static void
test_kind_names(void **state)
{
	static const char *const want[CLUSTER_KIND_MAX] = {
		"deny", "drop", "pass", "strike", "ban", "unban", "allow-add",
		"allow-del", "hello",
	};

	(void)state;
	for (int k = 0; k < CLUSTER_KIND_MAX; k++)
		assert_string_equal(cluster_kind_name((enum cluster_kind)k),
		    want[k]);
	assert_string_equal(cluster_kind_name(CLUSTER_KIND_MAX), "?");
	assert_string_equal(cluster_kind_name((enum cluster_kind)-1), "?");
}

int
main(void)
{
	static struct CMUnitTest t[256];
	static char names[256][96];
	size_t n = 0;

	CASES(trip_cases, test_trip);
	CASES(bad_cases, test_bad);
	CASES(key_cases, test_key);
	CASES(left_cases, test_left);
	CASES(switch_cases, test_switch);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_format_refuses);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_kind_names);
	return _cmocka_run_group_tests("cluster_msg", t, n, NULL, NULL);
}
