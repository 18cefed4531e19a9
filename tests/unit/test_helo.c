/*
 * test_helo.c - the HELO rules that need no DNS, the DNS/SPF rules from
 * their facts, registered domains and address nearness.
 *
 * The rule table gives a HELO argument (bytes, may hold NUL) and the rules
 * it must break as names joined by ',' ("" for none), plus the canonical
 * name helo_judge must hand to the DNS rules ("" when none applies).  The
 * configuration is the defaults with my_hostnames = mx.example.org and
 * my_addresses = 192.0.2.1, 2001:db8::1.  Registered domains use Debian's
 * public suffix list through psl_latest.
 *
 * The facts table gives what DNS and SPF answered (PEND: no answer) and
 * the rules helo_facts_judge must find, the same ',' list.  The cases
 * marked "was:" are where smtpgatectl check used to judge differently
 * from smtpgate-sniffd before both called helo_facts_judge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "helo.h"
#include "spfcheck.h"

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

/* Short names for the facts table. */
#define PEND	HELO_PENDING
#define OK	DNS_OK
#define NX	DNS_NXDOMAIN
#define ND	DNS_NODATA
#define ERR	DNS_ERROR
#define PASS	SPFCHECK_PASS
#define FAIL	SPFCHECK_FAIL
#define SOFT	SPFCHECK_SOFTFAIL
#define NEUT	SPFCHECK_NEUTRAL
#define NONE	SPFCHECK_NONE
#define SERR	SPFCHECK_TEMPERROR

enum { REG_NONE, REG_SELF, REG_OTHER };	/* the name's registered domain */

struct facts_case {
	const char *name;
	const char *client;
	int st_a, st_aaaa;
	const char *addrs;	/* the HELO's addresses, ' '-separated */
	int reg;		/* REG_* */
	int st_reg, st_ptr, spf;
	size_t nptr;
	int spf_ptr[HELO_PTR_SPF_MAX];
	unsigned flags;		/* F_* */
	const char *rules;	/* broken rules, in enum order */
	size_t want_ptr;	/* the failing PTR name, when spf-ptr-fail */
};

#define F_SOFTFAIL	1u	/* spf_softfail_fails = yes */
#define F_NEUTRAL	2u	/* spf_neutral_fails = yes */
#define F_RULES_OFF	4u	/* every rule's action off */

#define C4	"198.51.100.10"
#define FAR4	"203.0.113.7"
#define NEAR4	"198.51.100.77"

static const struct facts_case facts_cases[] = {
	/* A clean name: every answer in, all agree with the client. */
	{ "facts: clean", C4, OK, ND, C4, REG_OTHER, OK, OK, PASS, 1,
	    { PASS, PEND }, 0, "", 0 },
	{ "facts: nothing answered", C4, PEND, PEND, "", REG_OTHER, PEND,
	    PEND, PEND, 0, { PEND, PEND }, 0, "", 0 },
	/* spf-fail and what counts as failing */
	{ "facts: spf fail", C4, OK, ND, C4, REG_OTHER, OK, OK, FAIL, 0,
	    { PEND, PEND }, 0, "spf-fail", 0 },
	{ "facts: spf softfail, softfail_fails no", C4, OK, ND, C4,
	    REG_OTHER, OK, OK, SOFT, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: spf softfail, softfail_fails yes", C4, OK, ND, C4,
	    REG_OTHER, OK, OK, SOFT, 0, { PEND, PEND }, F_SOFTFAIL,
	    "spf-fail", 0 },
	{ "facts: spf neutral, neutral_fails no", C4, OK, ND, C4, REG_OTHER,
	    OK, OK, NEUT, 0, { PEND, PEND }, F_SOFTFAIL, "", 0 },
	{ "facts: spf neutral, neutral_fails yes", C4, OK, ND, C4,
	    REG_OTHER, OK, OK, NEUT, 0, { PEND, PEND }, F_NEUTRAL,
	    "spf-fail", 0 },
	{ "facts: spf none", C4, OK, ND, C4, REG_OTHER, OK, OK, NONE, 0,
	    { PEND, PEND }, F_SOFTFAIL | F_NEUTRAL, "", 0 },
	{ "facts: spf error proves nothing", C4, OK, ND, C4, REG_OTHER, OK,
	    OK, SERR, 0, { PEND, PEND }, F_SOFTFAIL | F_NEUTRAL, "", 0 },
	{ "facts: spf no answer", C4, OK, ND, C4, REG_OTHER, OK, OK, PEND, 0,
	    { PEND, PEND }, F_SOFTFAIL | F_NEUTRAL, "", 0 },
	/* spf-ptr-fail: the first PTR name whose SPF fails */
	{ "facts: spf of 2nd PTR name fails", C4, OK, ND, C4, REG_OTHER, OK,
	    OK, PASS, 2, { PASS, FAIL }, 0, "spf-ptr-fail", 1 },
	{ "facts: spf of both PTR names fails, first named", C4, OK, ND, C4,
	    REG_OTHER, OK, OK, PASS, 2, { SOFT, FAIL }, F_SOFTFAIL,
	    "spf-ptr-fail", 0 },
	{ "facts: spf of PTR name pending, other passes", C4, OK, ND, C4,
	    REG_OTHER, OK, OK, PASS, 2, { PEND, PASS }, 0, "", 0 },
	{ "facts: spf failure past nptr is not looked at", C4, OK, ND, C4,
	    REG_OTHER, OK, OK, PASS, 1, { PASS, FAIL }, 0, "", 0 },
	{ "facts: spf of PTR name errs", C4, OK, ND, C4, REG_OTHER, OK, OK,
	    PASS, 1, { SERR, PEND }, 0, "", 0 },
	/* no-domain */
	{ "facts: registered domain NXDOMAIN", C4, NX, NX, "", REG_OTHER, NX,
	    OK, NONE, 0, { PEND, PEND }, 0, "no-domain", 0 },
	{ "facts: name is its registered domain, A NXDOMAIN", C4, NX, NX, "",
	    REG_SELF, PEND, OK, NONE, 0, { PEND, PEND }, 0, "no-domain", 0 },
	{ "facts: name is its registered domain, A NODATA", C4, ND, ND, "",
	    REG_SELF, PEND, OK, NONE, 0, { PEND, PEND }, 0,
	    "helo-no-resolve", 0 },
	{ "facts: name is its registered domain, st_reg unused", C4, OK, ND,
	    C4, REG_SELF, NX, OK, PASS, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: no registered domain (public suffix)", C4, NX, NX, "",
	    REG_NONE, NX, OK, NONE, 0, { PEND, PEND }, 0, "helo-no-resolve",
	    0 },
	{ "facts: registered domain errs", C4, NX, NX, "", REG_OTHER, ERR,
	    OK, NONE, 0, { PEND, PEND }, 0, "helo-no-resolve", 0 },
	{ "facts: registered domain no answer, name resolves", C4, OK, ND,
	    C4, REG_OTHER, PEND, OK, PASS, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: no-domain silences helo-no-resolve even when off", C4, NX,
	    NX, "", REG_OTHER, NX, OK, NONE, 0, { PEND, PEND }, F_RULES_OFF,
	    "no-domain", 0 },
	/* helo-no-resolve: both answers, absent */
	{ "facts: A NXDOMAIN, AAAA NODATA", C4, NX, ND, "", REG_OTHER, OK, OK,
	    NONE, 0, { PEND, PEND }, 0, "helo-no-resolve", 0 },
	{ "facts: A NODATA, AAAA NODATA", C4, ND, ND, "", REG_OTHER, OK, OK,
	    NONE, 0, { PEND, PEND }, 0, "helo-no-resolve", 0 },
	{ "facts: was: A error, AAAA NODATA", C4, ERR, ND, "", REG_OTHER, OK,
	    OK, NONE, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: was: A and AAAA error", C4, ERR, ERR, "", REG_OTHER, OK,
	    OK, NONE, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: A NXDOMAIN, AAAA no answer", C4, NX, PEND, "", REG_OTHER,
	    OK, OK, NONE, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: was: A ok but empty, AAAA NODATA", C4, OK, ND, "",
	    REG_OTHER, OK, OK, NONE, 0, { PEND, PEND }, 0, "", 0 },
	/* helo-mismatch */
	{ "facts: resolves elsewhere", C4, OK, ND, FAR4, REG_OTHER, OK, OK,
	    PASS, 0, { PEND, PEND }, 0, "helo-mismatch", 0 },
	{ "facts: one of several addresses is the client", C4, OK, OK,
	    FAR4 " 2001:db8::7 " C4, REG_OTHER, OK, OK, PASS, 0,
	    { PEND, PEND }, 0, "", 0 },
	{ "facts: IPv6 client in AAAA", "2001:db8:c::20", OK, OK,
	    FAR4 " 2001:db8:c::20", REG_OTHER, OK, OK, PASS, 0,
	    { PEND, PEND }, 0, "", 0 },
	{ "facts: was: A elsewhere, AAAA no answer", C4, OK, PEND, FAR4,
	    REG_OTHER, OK, OK, PASS, 0, { PEND, PEND }, 0, "helo-mismatch",
	    0 },
	/* no-ptr-far */
	{ "facts: no PTR, HELO far", C4, OK, ND, FAR4, REG_OTHER, OK, NX,
	    PASS, 0, { PEND, PEND }, 0, "helo-mismatch,no-ptr-far", 0 },
	{ "facts: PTR NODATA, HELO far", C4, OK, ND, FAR4, REG_OTHER, OK, ND,
	    PASS, 0, { PEND, PEND }, 0, "helo-mismatch,no-ptr-far", 0 },
	{ "facts: PTR names no host, HELO far", C4, OK, ND, FAR4, REG_OTHER,
	    OK, DNS_BADNAME, PASS, 0, { PEND, PEND }, 0,
	    "helo-mismatch,no-ptr-far", 0 },
	{ "facts: PTR names no host, HELO near", C4, OK, ND, NEAR4,
	    REG_OTHER, OK, DNS_BADNAME, PASS, 0, { PEND, PEND }, 0,
	    "helo-mismatch", 0 },
	{ "facts: no PTR, HELO in the same /24", C4, OK, ND, NEAR4,
	    REG_OTHER, OK, NX, PASS, 0, { PEND, PEND }, 0, "helo-mismatch",
	    0 },
	{ "facts: no PTR, HELO is the client", C4, OK, ND, C4, REG_OTHER, OK,
	    NX, PASS, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: no PTR, HELO in the same /64", "2001:db8:c::20", ND, OK,
	    "2001:db8:c::99", REG_OTHER, OK, NX, PASS, 0, { PEND, PEND }, 0,
	    "helo-mismatch", 0 },
	{ "facts: no PTR, HELO known to have no address", C4, NX, ND, "",
	    REG_OTHER, OK, NX, NONE, 0, { PEND, PEND }, 0,
	    "helo-no-resolve,no-ptr-far", 0 },
	{ "facts: no PTR, HELO A error", C4, ERR, ND, "", REG_OTHER, OK, NX,
	    NONE, 0, { PEND, PEND }, 0, "", 0 },
	{ "facts: no PTR, HELO AAAA error, A far", C4, OK, ERR, FAR4,
	    REG_OTHER, OK, NX, PASS, 0, { PEND, PEND }, 0, "helo-mismatch",
	    0 },
	{ "facts: no PTR, HELO AAAA no answer, A far", C4, OK, PEND, FAR4,
	    REG_OTHER, OK, NX, PASS, 0, { PEND, PEND }, 0, "helo-mismatch",
	    0 },
	{ "facts: PTR error, HELO far", C4, OK, ND, FAR4, REG_OTHER, OK, ERR,
	    PASS, 0, { PEND, PEND }, 0, "helo-mismatch", 0 },
	{ "facts: PTR no answer, HELO far", C4, OK, ND, FAR4, REG_OTHER, OK,
	    PEND, PASS, 0, { PEND, PEND }, 0, "helo-mismatch", 0 },
	/* several at once, in rule order; actions do not matter */
	{ "facts: everything fails", C4, NX, NX, "", REG_OTHER, NX, NX, FAIL,
	    2, { PASS, FAIL }, 0, "spf-fail,spf-ptr-fail,no-domain,no-ptr-far",
	    1 },
	{ "facts: everything fails, every rule off", C4, NX, NX, "",
	    REG_OTHER, NX, NX, FAIL, 2, { FAIL, PASS }, F_RULES_OFF,
	    "spf-fail,spf-ptr-fail,no-domain,no-ptr-far", 0 },
};

static void
test_facts(void **state)
{
	const struct facts_case *k = *state;
	struct conf_sniffer cs = conf.sniffer;
	struct addr addrs[8];
	struct helo_facts f;
	struct helo_facts_detail d;
	char list[128], *tok, *save = NULL, got[256];
	uint32_t mask;

	memset(&f, 0, sizeof(f));
	assert_int_equal(addr_parse(k->client, &f.client), 0);
	snprintf(list, sizeof(list), "%s", k->addrs);
	for (tok = strtok_r(list, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_true(f.naddrs < 8);
		assert_int_equal(addr_parse(tok, &addrs[f.naddrs]), 0);
		f.naddrs++;
	}
	f.addrs = addrs;
	f.st_a = k->st_a;
	f.st_aaaa = k->st_aaaa;
	f.has_regdom = k->reg != REG_NONE;
	f.regdom_is_name = k->reg == REG_SELF;
	f.st_reg = k->st_reg;
	f.st_ptr = k->st_ptr;
	f.spf = k->spf;
	f.nptr = k->nptr;
	memcpy(f.spf_ptr, k->spf_ptr, sizeof(f.spf_ptr));
	cs.spf_softfail_fails = (k->flags & F_SOFTFAIL) != 0;
	cs.spf_neutral_fails = (k->flags & F_NEUTRAL) != 0;
	for (unsigned r = 0; (k->flags & F_RULES_OFF) && r < RULE_MAX; r++)
		cs.rule[r] = ACTION_OFF;
	d.spf_ptr = 99;
	mask = helo_facts_judge(&cs, &f, &d);
	rules_text(mask, got, sizeof(got));
	if (strcmp(got, k->rules) != 0)
		fail_msg("%s: got rules \"%s\", want \"%s\"", k->name, got,
		    k->rules);
	if ((mask & (1u << RULE_SPF_PTR_FAIL)) && d.spf_ptr != k->want_ptr)
		fail_msg("%s: got failing PTR name %zu, want %zu", k->name,
		    d.spf_ptr, k->want_ptr);
	/* The detail is optional. */
	if (helo_facts_judge(&cs, &f, NULL) != mask)
		fail_msg("%s: got a different mask without detail", k->name);
}

struct mail_case {
	const char *name;
	int st_a;
	const char *rules;
};

static const struct mail_case mail_cases[] = {
	{ "mail: domain NXDOMAIN", NX, "mail-from-no-domain" },
	{ "mail: domain NODATA (exists)", ND, "" },
	{ "mail: domain has an address", OK, "" },
	{ "mail: lookup error", ERR, "" },
	{ "mail: no answer", PEND, "" },
};

static void
test_mail(void **state)
{
	const struct mail_case *k = *state;
	char got[256];

	rules_text(helo_mail_judge(k->st_a), got, sizeof(got));
	if (strcmp(got, k->rules) != 0)
		fail_msg("%s: got rules \"%s\", want \"%s\"", k->name, got,
		    k->rules);
}

#define N(x)	(sizeof(x) / sizeof((x)[0]))

int
main(void)
{
	struct CMUnitTest t[N(helo_cases) + N(regdom_cases) + N(near_cases) +
	    N(facts_cases) + N(mail_cases)];
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
	for (i = 0; i < N(facts_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_facts);
		t[n].name = facts_cases[i].name;
		t[n].initial_state = (void *)&facts_cases[i];
	}
	for (i = 0; i < N(mail_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_mail);
		t[n].name = mail_cases[i].name;
		t[n].initial_state = (void *)&mail_cases[i];
	}
	return _cmocka_run_group_tests("helo", t, n, NULL, NULL);
}
