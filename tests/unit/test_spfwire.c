/*
 * test_spfwire.c - the SPF helper messages: every type survives a round
 * trip field for field; every fault a hostile helper could send is
 * refused with its reason; the encoder refuses what it cannot carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cases.h"
#include "spfwire.h"

static uint8_t buf[SPFWIRE_MSG_MAX];

static void
test_roundtrip_check(void **state)
{
	struct spfwire_msg m = { .type = SPFWIRE_CHECK, .id = 0xdeadbeef }, d;
	const char *why = "unset";
	size_t n;

	(void)state;
	m.u.check.identity = SPFWIRE_ID_MAILFROM;
	assert_int_equal(addr_parse("2001:db8::7", &m.u.check.client), 0);
	strcpy(m.u.check.helo, "mail.example.org");
	strcpy(m.u.check.sender, "bob+x@example.org");
	m.u.check.deadline_ms = 4999;
	n = spfwire_encode(&m, buf, sizeof(buf));
	assert_true(n > SPFWIRE_HDR_LEN);
	assert_int_equal(spfwire_decode(buf, n, &d, &why), 0);
	assert_null(why);
	assert_int_equal(d.type, SPFWIRE_CHECK);
	assert_int_equal(d.id, 0xdeadbeef);
	assert_int_equal(d.u.check.identity, SPFWIRE_ID_MAILFROM);
	assert_true(addr_eq(&d.u.check.client, &m.u.check.client));
	assert_string_equal(d.u.check.helo, "mail.example.org");
	assert_string_equal(d.u.check.sender, "bob+x@example.org");
	assert_int_equal(d.u.check.deadline_ms, 4999);
	/* Every shorter prefix is refused. */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(spfwire_decode(buf, i, &d, &why), -1);
}

static void
test_roundtrip_others(void **state)
{
	static const uint8_t ans[] = { 1, 2, 3, 0, 255 };
	struct spfwire_msg m, d;
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_DNSQ;
	m.id = 7;
	m.u.dnsq.qtype = 16;
	strcpy(m.u.dnsq.name, "_spf.example.org");
	n = spfwire_encode(&m, buf, sizeof(buf));
	assert_int_equal(spfwire_decode(buf, n, &d, NULL), 0);
	assert_int_equal(d.u.dnsq.qtype, 16);
	assert_string_equal(d.u.dnsq.name, "_spf.example.org");

	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_DNSA;
	m.id = 7;
	m.u.dnsa.status = SPFWIRE_DNS_OK;
	m.u.dnsa.len = sizeof(ans);
	m.u.dnsa.answer = ans;
	n = spfwire_encode(&m, buf, sizeof(buf));
	assert_int_equal(spfwire_decode(buf, n, &d, NULL), 0);
	assert_int_equal(d.u.dnsa.len, sizeof(ans));
	assert_memory_equal(d.u.dnsa.answer, ans, sizeof(ans));

	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_RESULT;
	m.id = 9;
	m.u.result.result = SPFWIRE_R_PERMERROR;
	m.u.result.flags = SPFWIRE_RF_SCREENED;
	strcpy(m.u.result.reason, "SPF term longer than 253 bytes");
	n = spfwire_encode(&m, buf, sizeof(buf));
	assert_int_equal(spfwire_decode(buf, n, &d, NULL), 0);
	assert_int_equal(d.u.result.result, SPFWIRE_R_PERMERROR);
	assert_int_equal(d.u.result.flags, SPFWIRE_RF_SCREENED);
	assert_string_equal(d.u.result.reason, m.u.result.reason);

	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_WORKER_DOWN;
	m.u.worker.slot = 3;
	m.u.worker.pid = 4242;
	m.u.worker.status = 134;
	n = spfwire_encode(&m, buf, sizeof(buf));
	assert_int_equal(spfwire_decode(buf, n, &d, NULL), 0);
	assert_int_equal(d.u.worker.slot, 3);
	assert_int_equal(d.u.worker.pid, 4242);
	assert_int_equal(d.u.worker.status, 134);

	/* The largest DNS answer fits the largest datagram. */
	{
		static uint8_t big[SPFWIRE_ANSWER_MAX];

		memset(&m, 0, sizeof(m));
		m.type = SPFWIRE_DNSA;
		m.u.dnsa.len = SPFWIRE_ANSWER_MAX;
		m.u.dnsa.answer = big;
		n = spfwire_encode(&m, buf, sizeof(buf));
		assert_true(n > SPFWIRE_ANSWER_MAX && n <= SPFWIRE_MSG_MAX);
		assert_int_equal(spfwire_decode(buf, n, &d, NULL), 0);
	}
}

/* A DNSQ datagram built by hand, then corrupted one way per case. */
struct bad_case {
	const char *name;
	size_t off;		/* byte to change, or SIZE_MAX: none */
	uint8_t val;
	int extra;		/* bytes to add (1) or cut (-1) at the end */
	const char *why;
};

static const struct bad_case bad[] = {
	{ "bad version", 1, 2, 0, "bad version" },
	{ "reserved bits", 3, 1, 0, "reserved bits set" },
	{ "unknown type", 0, 99, 0, "unknown type" },
	{ "type zero", 0, 0, 0, "unknown type" },
	{ "string length past the end", 11, 200, 0, "short message" },
	{ "NUL in a string", 14, 0, 0, "NUL in string" },
	{ "trailing byte", SIZE_MAX, 0, 1, "trailing bytes" },
	{ "cut short", SIZE_MAX, 0, -1, "short message" },
	{ "string length at the bound", 10, 1, 0, "string too long" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	struct spfwire_msg m = { .type = SPFWIRE_DNSQ, .id = 1 }, d;
	const char *why = NULL;
	size_t n;

	m.u.dnsq.qtype = 1;
	strcpy(m.u.dnsq.name, "a.example");	/* 9 bytes at offset 12 */
	n = spfwire_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, SPFWIRE_HDR_LEN + 2 + 2 + 9);
	if (c->off != SIZE_MAX)
		buf[c->off] = c->val;
	n = (size_t)((long)n + c->extra);
	if (spfwire_decode(buf, n, &d, &why) != -1)
		fail_msg("%s: decoded", c->name);
	if (why == NULL || strcmp(why, c->why) != 0)
		fail_msg("%s: got '%s', want '%s'", c->name, why ? why : "-",
		    c->why);
}

static void
test_bad_fields(void **state)
{
	struct spfwire_msg m, d;
	const char *why;
	size_t n;

	(void)state;
	/* A result code, flags or identity out of range. */
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_RESULT;
	n = spfwire_encode(&m, buf, sizeof(buf));
	buf[SPFWIRE_HDR_LEN] = SPFWIRE_R_MAX;
	assert_int_equal(spfwire_decode(buf, n, &d, &why), -1);
	assert_string_equal(why, "bad code");
	buf[SPFWIRE_HDR_LEN] = 0;
	buf[SPFWIRE_HDR_LEN + 1] = 0x80;
	assert_int_equal(spfwire_decode(buf, n, &d, &why), -1);

	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_CHECK;
	assert_int_equal(addr_parse("192.0.2.1", &m.u.check.client), 0);
	n = spfwire_encode(&m, buf, sizeof(buf));
	buf[SPFWIRE_HDR_LEN] = 2;			/* identity */
	assert_int_equal(spfwire_decode(buf, n, &d, &why), -1);
	assert_string_equal(why, "bad identity");
	buf[SPFWIRE_HDR_LEN] = 0;
	buf[SPFWIRE_HDR_LEN + 1] = 5;			/* family */
	assert_int_equal(spfwire_decode(buf, n, &d, &why), -1);
	assert_string_equal(why, "bad address family");
	buf[SPFWIRE_HDR_LEN + 1] = 4;
	buf[SPFWIRE_HDR_LEN + 2 + 9] = 1;		/* IPv4 tail not 0 */
	assert_int_equal(spfwire_decode(buf, n, &d, &why), -1);
	assert_string_equal(why, "bad address");
	/* ::ffff:192.0.2.1 sent as an IPv6 address. */
	memset(buf + SPFWIRE_HDR_LEN + 2, 0, 16);
	buf[SPFWIRE_HDR_LEN + 1] = 6;
	buf[SPFWIRE_HDR_LEN + 2 + 10] = 0xff;
	buf[SPFWIRE_HDR_LEN + 2 + 11] = 0xff;
	buf[SPFWIRE_HDR_LEN + 2 + 12] = 192;
	assert_int_equal(spfwire_decode(buf, n, &d, &why), -1);
	assert_string_equal(why, "bad address");
	buf[SPFWIRE_HDR_LEN + 1] = 4;
	memset(buf + SPFWIRE_HDR_LEN + 2, 0, 16);
	buf[SPFWIRE_HDR_LEN + 2] = 192;
	assert_int_equal(spfwire_decode(buf, n, &d, &why), 0);
}

static void
test_encode_refuses(void **state)
{
	struct spfwire_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_DNSQ;
	memset(m.u.dnsq.name, 'a', sizeof(m.u.dnsq.name));	/* no NUL */
	assert_int_equal(spfwire_encode(&m, buf, sizeof(buf)), 0);
	m.type = 42;
	assert_int_equal(spfwire_encode(&m, buf, sizeof(buf)), 0);
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_RESULT;
	m.u.result.flags = 4;
	assert_int_equal(spfwire_encode(&m, buf, sizeof(buf)), 0);
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_CHECK;			/* no address family */
	assert_int_equal(spfwire_encode(&m, buf, sizeof(buf)), 0);
	m.type = SPFWIRE_DNSQ;			/* too small a buffer */
	assert_int_equal(spfwire_encode(&m, buf, 9), 0);
	assert_string_equal(spfwire_result_name(SPFWIRE_R_TEMPERROR),
	    "temperror");
	assert_string_equal(spfwire_result_name(200), "?");
}

int
main(void)
{
	struct CMUnitTest t[32];
	char names[32][96];
	size_t n = 0;

	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_roundtrip_check);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_roundtrip_others);
	CASES(bad, test_bad);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_fields);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_encode_refuses);
	return _cmocka_run_group_tests("spfwire", t, n, NULL, NULL);
}
