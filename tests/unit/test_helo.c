/*
 * test_helo.c - the HELO rules that need no DNS, registered domains and
 * address nearness.
 *
 * The rule table gives a HELO argument (bytes, may hold NUL) and the rules
 * it must break as names joined by ',' ("" for none), plus the canonical
 * name helo_judge must hand to the DNS rules ("" when none applies).  The
 * configuration is the defaults with my_hostnames = mx.example.org and
 * my_addresses = 192.0.2.1, 2001:db8::1.  Registered domains use Debian's
 * public suffix list through psl_latest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helo.h"

static struct conf conf;

struct helo_case {
	const char *name;
	const char *helo;
	size_t len;		/* 0: strlen(helo) */
	const char *rules;	/* broken rules, in enum order */
	const char *canon;	/* canonical name for DNS rules */
};

static const struct helo_case helo_cases[] = {
	{ "clean name", "mail.example.org", 0, "", "mail.example.org" },
	{ "clean name upper case, final dot", "Mail.Example.ORG.", 0, "",
	    "mail.example.org" },
	{ "digits and hyphens", "smtp-01.mx2.example.co.uk", 0, "",
	    "smtp-01.mx2.example.co.uk" },
	{ "localhost", "localhost", 0, "unqualified", "localhost" },
	{ "windows name", "WIN-ABC123", 0, "unqualified", "win-abc123" },
	{ "Mail-Server", "Mail-Server", 0, "unqualified", "mail-server" },
	{ "our host name", "MX.example.org", 0, "own-name", "mx.example.org" },
	{ "our address bare", "192.0.2.1", 0, "own-address,bare-ip", "" },
	{ "our address literal", "[192.0.2.1]", 0,
	    "own-address,address-literal", "" },
	{ "our IPv6 literal", "[IPv6:2001:db8::1]", 0,
	    "own-address,address-literal", "" },
	{ "bare IPv4", "203.0.113.5", 0, "bare-ip", "" },
	{ "bare IPv6", "2001:db8::5", 0, "bare-ip", "" },
	{ "IPv4 literal", "[203.0.113.5]", 0, "address-literal", "" },
	{ "IPv6 literal, tag any case", "[ipv6:2001:db8::5]", 0,
	    "address-literal", "" },
	{ "IPv6 literal without tag", "[2001:db8::5]", 0, "bad-syntax", "" },
	{ "IPv4 literal with IPv6 tag", "[IPv6:203.0.113.5]", 0,
	    "bad-syntax", "" },
	{ "literal not an address", "[mail.example.org]", 0, "bad-syntax",
	    "" },
	{ "unclosed literal", "[203.0.113.5", 0, "bad-syntax", "" },
	{ "underscore", "mail_server.example.org", 0, "bad-syntax", "" },
	{ "empty", "", 0, "bad-syntax", "" },
	{ "empty label", "mail..example.org", 0, "bad-syntax", "" },
	{ "leading dot", ".example.org", 0, "bad-syntax", "" },
	{ "label starts with hyphen", "-mail.example.org", 0, "bad-syntax",
	    "" },
	{ "label ends with hyphen", "mail-.example.org", 0, "bad-syntax", "" },
	{ "label of 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa.org", 0, "bad-syntax", "" },
	{ "label of 63", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaa.org", 0, "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa.org" },
	{ "blank inside", "mail example.org", 0, "bad-syntax", "" },
	{ "NUL byte", "mail\0.example.org", 17, "bad-syntax", "" },
	{ "high bytes", "m\xc3\xa4il.example.org", 0, "bad-syntax", "" },
	{ "slash", "mail/x.example.org", 0, "bad-syntax", "" },
	{ "provider domain", "gmail.com", 0, "provider-domain", "gmail.com" },
	{ "provider domain upper case", "HOTMAIL.COM", 0, "provider-domain",
	    "hotmail.com" },
	{ "provider host name is fine", "mx.gmail.com", 0, "",
	    "mx.gmail.com" },
	{ "provider-like domain is fine", "gmail.com.example.org", 0, "",
	    "gmail.com.example.org" },
};

/* "rule,rule" for a mask, in enum order. */
static void
rules_text(uint32_t mask, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned r = 0; r < RULE_MAX; r++)
		if (mask & (1u << r)) {
			size_t off = strlen(buf);
			snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			    conf_rule_name((enum conf_rule)r));
		}
}

static void
test_helo(void **state)
{
	const struct helo_case *k = *state;
	size_t len = k->len ? k->len : strlen(k->helo);
	char *copy = malloc(len ? len : 1), name[HELO_NAME_MAX], got[256];
	uint32_t mask;

	assert_non_null(copy);
	memcpy(copy, k->helo, len);
	mask = helo_judge(&conf.sniffer, copy, len, name);
	free(copy);
	rules_text(mask, got, sizeof(got));
	if (strcmp(got, k->rules) != 0)
		fail_msg("%s: got rules \"%s\", want \"%s\"", k->name, got,
		    k->rules);
	if (strcmp(name, k->canon) != 0)
		fail_msg("%s: got name \"%s\", want \"%s\"", k->name, name,
		    k->canon);
}

struct regdom_case {
	const char *name;
	const char *host;
	const char *want;	/* NULL: none */
};

static const struct regdom_case regdom_cases[] = {
	{ "two labels", "example.org", "example.org" },
	{ "host in .org", "mail.example.org", "example.org" },
	{ "co.uk", "mail.example.co.uk", "example.co.uk" },
	{ "deep name", "a.b.c.example.com.au", "example.com.au" },
	{ "public suffix itself", "co.uk", NULL },
	{ "top-level label", "com", NULL },
	{ "unknown top level (test world)", "mail.clean.test", "clean.test" },
	{ "private suffix github.io", "user.github.io", "user.github.io" },
};

static void
test_regdom(void **state)
{
	const struct regdom_case *k = *state;
	psl_ctx_t *psl = psl_latest(NULL);
	char out[HELO_NAME_MAX];
	int rc;

	assert_non_null(psl);
	rc = helo_registered_domain(psl, k->host, out);
	psl_free(psl);
	if (k->want == NULL && rc != -1)
		fail_msg("%s: got \"%s\", want none", k->name, out);
	if (k->want != NULL && (rc != 0 || strcmp(out, k->want) != 0))
		fail_msg("%s: got %s, want \"%s\"", k->name,
		    rc == 0 ? out : "none", k->want);
}

struct near_case {
	const char *name, *a, *b;
	bool want;
};

static const struct near_case near_cases[] = {
	{ "same /24", "198.51.100.10", "198.51.100.200", true },
	{ "next /24", "198.51.100.10", "198.51.101.10", false },
	{ "same /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true },
	{ "next /64", "2001:db8:1:2::1", "2001:db8:1:3::1", false },
	{ "families differ", "192.0.2.1", "2001:db8::1", false },
	{ "mapped is IPv4", "::ffff:192.0.2.1", "192.0.2.77", true },
};

static void
test_near(void **state)
{
	const struct near_case *k = *state;
	struct addr a, b;

	assert_int_equal(addr_parse(k->a, &a), 0);
	assert_int_equal(addr_parse(k->b, &b), 0);
	if (helo_addr_near(&a, &b) != k->want)
		fail_msg("%s: got %d, want %d", k->name, !k->want, k->want);
}

#define N(x)	(sizeof(x) / sizeof((x)[0]))

int
main(void)
{
	struct CMUnitTest t[N(helo_cases) + N(regdom_cases) + N(near_cases)];
	size_t n = 0, i;

	conf_defaults(&conf);
	snprintf(conf.sniffer.my_hostnames[0], CONF_NAME_MAX,
	    "mx.example.org");
	conf.sniffer.nmy_hostnames = 1;
	assert_int_equal(addr_parse("192.0.2.1",
	    &conf.sniffer.my_addresses[0]), 0);
	assert_int_equal(addr_parse("2001:db8::1",
	    &conf.sniffer.my_addresses[1]), 0);
	conf.sniffer.nmy_addresses = 2;
	for (i = 0; i < N(helo_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_helo);
		t[n].name = helo_cases[i].name;
		t[n].initial_state = (void *)&helo_cases[i];
	}
	for (i = 0; i < N(regdom_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_regdom);
		t[n].name = regdom_cases[i].name;
		t[n].initial_state = (void *)&regdom_cases[i];
	}
	for (i = 0; i < N(near_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_near);
		t[n].name = near_cases[i].name;
		t[n].initial_state = (void *)&near_cases[i];
	}
	return _cmocka_run_group_tests("helo", t, n, NULL, NULL);
}
