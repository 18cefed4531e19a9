/*
 * test_ptrclass.c - table-driven tests of the generic-PTR classifier:
 * every address encoding, the lexicon and shapes, input handling, the
 * decision rules, the hard legitimate senders of shared/PTR_NOTES.md that
 * must stay named, the generic schemes keyword lists miss, the provider
 * table (format, errors, forward-confirmation) and IPv6.
 *
 * Every table row becomes one named cmocka test.  Addresses are parsed
 * with inet_pton here so these tests depend on ptrclass alone.  Run from
 * the project root (the provider table is data/ptr-providers.conf).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ptrclass.h"

#define PROVIDERS "data/ptr-providers.conf"

static void t_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		a->family = AF_INET6;
	else
		fail_msg("test address %s does not parse", s);
}

/* One cmocka test per row: the row is the test's state. */
#define ROWS(tests, cases, fn) do {					\
	size_t i_;							\
	for (i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) {	\
		tests[n_].name = cases[i_].name;			\
		tests[n_].test_func = fn;				\
		tests[n_].setup_func = NULL;				\
		tests[n_].teardown_func = NULL;				\
		tests[n_].initial_state = (void *)&cases[i_];		\
		n_++;							\
	}								\
} while (0)

/* ---- address encodings: ptrclass_ip_search ---- */

struct ip_case {
	const char *name;
	const char *addr;
	const char *ptr;	/* lower case, as the classifier passes it */
	int strength;		/* want */
	const char *how;	/* want, or NULL when strength is 0 */
};

static const struct ip_case ip_cases[] = {
	{ "ip dashed", "73.162.12.34", "c-73-162-12-34.hsd1.ca.comcast", 3,
	    "ip-dashed" },
	{ "ip dotted", "109.58.95.218", "109.58.95.218.mobile.3", 3,
	    "ip-dotted" },
	{ "ip dotted reversed", "92.94.76.15", "15.76.94.92.rev.sfr", 3,
	    "ip-dotted-reversed" },
	{ "ip dashed reversed", "198.52.115.74",
	    "74-115-52-198-dedicated.multacom", 3, "ip-dashed-reversed" },
	{ "ip padded 12 digits", "89.144.192.89",
	    "089144192089.atnat0001.highway.a1", 3, "ip-padded" },
	{ "ip padded with prefix word", "60.108.183.144",
	    "softbank060108183144.bbtec", 3, "ip-padded" },
	{ "ip padded dashed", "82.83.139.45", "dsl-082-083-139-045.arcor-ip",
	    3, "ip-dashed" },
	{ "ip concatenated unpadded", "85.100.237.60",
	    "dsl.dynamic8510023760.ttnet.net", 3, "ip-concat" },
	{ "ip concatenated 11 digits", "178.23.221.102",
	    "cust17823221102.jhcomp", 3, "ip-concat" },
	{ "ip mixed separators", "200.109.193.29",
	    "200.109.193-29.dyn.dsl.cantv", 3, "ip-mixed" },
	{ "ip x separator (concat + x)", "167.89.17.173",
	    "o1678917x173.outbound-mail.sendgrid", 3, "ip-mixed" },
	{ "ip letter prefix per octet run", "146.160.37.65",
	    "mo146-160-37-65.air.mopera", 3, "ip-dashed" },
	{ "ip rotated: d then a-b-c", "92.176.185.142",
	    "142.pool92-176-185.dynamic.orange", 3, "ip-rotated-dashed" },
	{ "ip rotated: red- separator", "80.36.22.210",
	    "210.red-80-36-22.staticip.rima-tde", 3, "ip-rotated-dashed" },
	{ "ip rotated: registered domain", "192.99.135.118",
	    "ip118.ip-192-99-135", 3, "ip-rotated-dashed" },
	{ "ip 32-bit integer", "192.0.2.1", "host3221225985.example", 3,
	    "ip-int" },
	{ "ip hex forward", "91.7.26.111", "p5b071a6f.dip0.t-ipconnect", 3,
	    "ip-hex" },
	{ "ip hex with 0x", "147.78.31.200", "0x934e1fc8.cust.fastspeed", 3,
	    "ip-hex" },
	{ "ip hex reversed", "92.32.155.250",
	    "c-fa9b205c.06-131-73766c1.bbcust.telenor", 3, "ip-hex-reversed" },
	{ "ip hex reversed dotted (softlayer)", "169.61.105.91",
	    "5b.69.3da9.ip4.static.sl-reverse", 3, "ip-hex-reversed" },
	{ "ip hex inside a word", "81.82.192.35", "d5152c023.access.telenet",
	    3, "ip-hex" },
	{ "ip three octets b-c-d", "193.77.20.28", "bsn-77-20-28.dynamic.siol",
	    2, "ip3-dashed" },
	{ "ip three octets reversed d-c-b", "80.100.115.160",
	    "fia160-115-100.dsl.hccnet", 2, "ip3-dashed-reversed" },
	{ "ip three octets, two concatenated", "110.37.200.174",
	    "wgpon-37200-174.wateen", 2, "ip3-dashed" },
	{ "ip three octets masked", "58.186.71.139",
	    "58-186-71-xxx-dynamic.hcm.fpt", 2, "ip3-dashed" },
	{ "ip scattered", "79.27.4.209",
	    "host209-4-dynamic.27-79-r.retail.telecomitalia", 2,
	    "ip-scattered" },
	{ "ip last two octets", "88.203.53.184", "c53-184.i05-14.onvol", 1,
	    "ip2-dashed" },
	{ "ip last two padded", "193.171.40.62", "heim-040-62.jkh.uni-linz.ac",
	    1, "ip2-dashed" },
	{ "ip last two concatenated", "79.135.106.101",
	    "mail-106101.protonmail", 1, "ip2-concat" },
	{ "ip last two reversed", "1.2.175.187", "187.175.cetus.link3", 1,
	    "ip2-dotted-reversed" },
	{ "ip counter + last octet", "114.144.245.147",
	    "p3068147-ipxg00a01tokaisakaetozai.aichi.ocn.ne", 1,
	    "ip1-counter" },
	{ "ip counter + padded last octet", "114.157.12.48",
	    "p3411048-ipxg00d01tokaisakaetozai.aichi.ocn.ne", 1,
	    "ip1-counter" },
	{ "ip hex labels, leading zero dropped (softlayer)", "169.62.189.10",
	    "a.bd.3ea9.ip4.static.sl-reverse", 3, "ip-hex-labels" },
	{ "ip last two in hex behind a letter (pppool)", "89.59.100.50",
	    "x6432.x.pppool", 1, "ip2-hex" },
	{ "ip last two in hex, the letter a hex digit", "213.7.85.230",
	    "b55e6.pppool", 1, "ip2-hex" },
	{ "no: hex pair of other octets", "213.7.85.230", "b0755.pppool", 0,
	    NULL },
	{ "no: 4 hex digits not the whole label", "89.59.100.50",
	    "x6432a.example", 0, NULL },
	{ "no: one hex label is not a run across labels", "169.62.189.10",
	    "a9.example", 0, NULL },
	{ "no: last octet alone", "209.85.128.41", "mail-wm1-f41.google", 0,
	    NULL },
	{ "no: octet inside a longer run", "62.149.158.101",
	    "smtpcmd02101.aruba", 0, NULL },
	{ "no: short counter ending in octet", "10.0.0.101",
	    "web02101.example", 0, NULL },
	{ "no: first two octets only", "90.46.24.247",
	    "x.w90-46.abo.wanadoo", 0, NULL },
	{ "no: other address", "203.0.113.9", "1-2-3-4.example", 0, NULL },
	{ "long separator: a-b-c and d elsewhere", "1.2.3.4",
	    "1-2-3-abcdef-4.example", 3, "ip-rotated-dashed" },
	{ "long separator breaks the chain", "1.2.3.4",
	    "1-2-abcdef-3-4.example", 2, "ip-scattered" },
	{ "v6 nibbles forward", "2001:db8:1234:5678::1",
	    "20010db812345678.pool.example", 3, "ip6-nibbles" },
	{ "v6 nibbles reversed (ip6.arpa order)", "2001:db8:1234:5678::1",
	    "8.7.6.5.4.3.2.1.8.b.d.0.1.0.0.2.dyn.example", 3,
	    "ip6-nibbles-reversed" },
	{ "v6 dash groups", "2a02:8109:b6c0:12::5",
	    "2a02-8109-b6c0-12-5.dynamic.example", 3, "ip6-groups" },
	{ "v6 dash groups, doubled separator is ::", "2001:db8:1234::5",
	    "2001-db8-1234--5.dyn.example", 3, "ip6-groups" },
	{ "v6 dash groups, :: too early", "2001:db8:1234:5::5",
	    "2001-db8--5.dyn.example", 0, NULL },
	{ "v6 other /64", "2a02:8109:b6c0:13::5",
	    "2a02-8109-b6c0-12-5.dynamic.example", 0, NULL },
	{ "v6 decimal v4 lookalike is not v6", "2001:db8::1",
	    "1-2-3-4.example", 0, NULL },
};

static void test_ip(void **state)
{
	const struct ip_case *c = *state;
	struct ptrclass_ip ip;
	struct ptrclass_iphit hit;
	struct addr a;

	t_addr(c->addr, &a);
	ptrclass_ip_prepare(&a, &ip);
	ptrclass_ip_search(&ip, c->ptr, strlen(c->ptr), &hit);
	if (hit.strength != c->strength)
		fail_msg("%s for %s: got strength %d (%s), want %d", c->ptr,
		    c->addr, hit.strength, hit.how, c->strength);
	if (c->how != NULL && strcmp(hit.how, c->how) != 0)
		fail_msg("%s for %s: got how %s, want %s", c->ptr, c->addr,
		    hit.how, c->how);
}

/* ---- the lexicon: ptrclass_lex_word ---- */

struct word_case {
	const char *name;
	const char *word;
	bool whole, affix;
	unsigned want;		/* the class bits that must be set */
	unsigned not;		/* the class bits that must be clear */
};

#define T_S PTRCLASS_T_STRONG
#define T_D PTRCLASS_T_DYN
#define T_ST PTRCLASS_T_STATIC
#define T_R PTRCLASS_T_ROLE
#define T_C PTRCLASS_T_CLOUD
#define T_H PTRCLASS_T_HOLDER
#define T_W PTRCLASS_T_WEAK

static const struct word_case word_cases[] = {
	{ "strong dsl", "dsl", true, true, T_S, T_D },
	{ "dial-up async port", "async", false, true, T_S | T_D, 0 },
	{ "dynamic dns", "ddns", true, true, T_S | T_D, 0 },
	{ "vs as a whole part is a virtual server", "vs", true, true, T_C, 0 },
	{ "vs split from digits is nothing", "vs", false, true, 0, T_C },
	{ "mail role outweighs a glued pool", "mailpool", true, true, T_R,
	    T_S },
	{ "a glued pool without a role stays", "ppppool", true, true, T_S, 0 },
	{ "strong dynamic is dyn", "dynamic", true, true, T_S | T_D, 0 },
	{ "strong pool", "pool", true, true, T_S | T_D, 0 },
	{ "strong cable", "cable", true, true, T_S, T_D },
	{ "strong cust split from digits", "cust", false, true, T_S, 0 },
	{ "strong members", "members", true, true, T_S, 0 },
	{ "short cm whole", "cm", true, true, T_S, 0 },
	{ "short cm split from digits is nothing", "cm", false, true, 0, T_S },
	{ "short bb split is nothing", "bb", false, true, 0, T_S },
	{ "affix suffix dsl", "athedsl", true, true, T_S, 0 },
	{ "affix suffix dyn", "mobiledyn", true, true, T_S | T_D, 0 },
	{ "affix prefix dynamic", "dynamicip", true, true, T_S | T_D, 0 },
	{ "affix prefix static", "staticbiz", true, true, T_ST, T_S },
	{ "affix off: strict", "athedsl", true, false, 0, T_S },
	{ "no affix: dynamo", "dynamo", true, true, 0, T_S },
	{ "no affix: dialog", "dialog", true, true, 0, T_S },
	{ "no affix: customs", "customs", true, true, 0, T_S },
	{ "no affix: too short rest", "dsla", true, true, 0, T_S },
	{ "static", "static", true, true, T_ST, T_S | T_D },
	{ "business", "business", true, true, T_ST, T_S },
	{ "weak host", "host", true, true, T_W, T_S },
	{ "weak ip", "ip", true, true, T_W, T_S },
	{ "cloud vmi", "vmi", false, true, T_C, T_S },
	{ "cloud vps", "vps", true, true, T_C, 0 },
	{ "placeholder unused", "unused", true, true, T_H, 0 },
	{ "placeholder reserve", "reserve", true, true, T_H, 0 },
	{ "role mail", "mail", true, true, T_R, T_S },
	{ "role inside word: resqmta", "resqmta", true, true, T_R, 0 },
	{ "role inside word: bsmtp", "bsmtp", true, true, T_R, 0 },
	{ "role prefix mx", "mxchg", true, true, T_R, 0 },
	{ "role prefix out", "outpost", true, true, T_R, 0 },
	{ "role prefix esa", "esa", false, true, T_R, 0 },
	{ "role not as suffix of mx", "vmx", true, true, 0, T_R },
	{ "digits carry no class", "123", true, true, 0, 0xffu },
	{ "unknown word", "woodpecker", true, true, 0, 0xffu },
};

static void test_word(void **state)
{
	const struct word_case *c = *state;
	unsigned got = ptrclass_lex_word(c->word, strlen(c->word), c->whole,
	    c->affix);

	if ((got & c->want) != c->want || (got & c->not) != 0)
		fail_msg("%s (whole %d affix %d): got classes 0x%x, want set "
		    "0x%x and clear 0x%x", c->word, c->whole, c->affix, got,
		    c->want, c->not);
}

static void test_lex_selfcheck(void **state)
{
	const char *bad = ptrclass_lex_selfcheck();

	(void)state;
	if (bad != NULL)
		fail_msg("lexicon invariant broken at \"%s\"", bad);
}

/* ---- shapes: ptrclass_lex_shape ---- */

struct shape_case {
	const char *name;
	const char *label;
	const char *want;	/* NULL: no shape */
};

static const struct shape_case shape_cases[] = {
	{ "rogers cpe mac", "cpe40623100049e-cm9050cac9ddf0", "mac" },
	{ "shaw s0106 mac", "s01068c763f81ca4b", "mac" },
	{ "attbi mac", "h000502e08144", "mac" },
	{ "ovh vps hex id", "vps-0e511917", "hex" },
	{ "decimal only is no hex shape", "089144192089", NULL },
	{ "letters only is no hex shape", "facade-deadbeef", NULL },
	{ "short hex", "a4-3", NULL },
	{ "outlook eop", "mail-db8eur05on2062", NULL },
};

static void test_shape(void **state)
{
	const struct shape_case *c = *state;
	const char *got = ptrclass_lex_shape(c->label, strlen(c->label));

	if ((got == NULL) != (c->want == NULL) ||
	    (got != NULL && strcmp(got, c->want) != 0))
		fail_msg("%s: got %s, want %s", c->label, got ? got : "none",
		    c->want ? c->want : "none");
}

/* ---- access-line shapes: ptrclass_lex_access ---- */

static const struct shape_case access_cases[] = {
	{ "portmaster and port", "pm3-6-39", "nas-port" },
	{ "async port", "async7-9", "nas-port" },
	{ "tnt and port", "tnt1-45", "nas-port" },
	{ "as needs two numbers", "as5-1-23", "nas-port" },
	{ "as with one number is not a port", "as5-1", NULL },
	{ "max alone is a host name", "max", NULL },
	{ "max with a word after", "max2-relay", NULL },
	{ "unknown server word", "web3-6-39", NULL },
	{ "port number too long", "pm3-6-3999", NULL },
	{ "customer code", "ntsitm268057", "customer-code" },
	{ "customer code, hosting vps", "cloudserver083745", "customer-code" },
	{ "customer code, trailing letters", "ab1234567xy", "customer-code" },
	{ "customer code, first hyphen part", "ps379014-a", "customer-code" },
	{ "customer code with a hyphen", "hwsrv-970840", "customer-code" },
	{ "hyphen form must be the whole label", "hwsrv-970840-a", NULL },
	{ "hyphen form with five digits", "srv-97084", NULL },
	{ "five digits are a server count", "sv12123", NULL },
	{ "virusgw10001", "virusgw10001", NULL },
	{ "digits then more digits", "ab123456c7", NULL },
	{ "bare counter", "93804", "counter" },
	{ "short bare number", "003", NULL },
	{ "counter with a word", "93804a", NULL },
};

static void test_access(void **state)
{
	const struct shape_case *c = *state;
	const char *got = ptrclass_lex_access(c->label, strlen(c->label));

	if ((got == NULL) != (c->want == NULL) ||
	    (got != NULL && strcmp(got, c->want) != 0))
		fail_msg("%s: got %s, want %s", c->label, got ? got : "none",
		    c->want ? c->want : "none");
}

/* ---- whole classification ---- */

struct cls_case {
	const char *name;
	const char *addr;
	const char *ptr;
	bool confirmed;
	enum ptr_class want;
	const char *reason;	/* want as a prefix of the reason, or NULL */
};

static struct ptrclass *t_pc;	/* loaded once in the group setup */

static void test_cls(void **state)
{
	const struct cls_case *c = *state;
	struct ptr_verdict v;
	struct addr a;

	t_addr(c->addr, &a);
	memset(&v, 0x55, sizeof(v));
	ptrclass_classify(t_pc, c->ptr, &a, c->confirmed, &v);
	if (memchr(v.reason, '\0', sizeof(v.reason)) == NULL)
		fail_msg("%s: reason not terminated", c->ptr);
	if (v.cls != c->want)
		fail_msg("%s [%s]%s: got %s (%s), want %s", c->ptr, c->addr,
		    c->confirmed ? " confirmed" : "", ptrclass_name(v.cls),
		    v.reason, ptrclass_name(c->want));
	if (c->reason != NULL &&
	    strncmp(v.reason, c->reason, strlen(c->reason)) != 0)
		fail_msg("%s [%s]: got reason %s, want %s...", c->ptr, c->addr,
		    v.reason, c->reason);
}

/* Input handling: case, the root's dot, non-LDH names. */
static const struct cls_case input_cases[] = {
	{ "upper case", "73.162.12.34", "C-73-162-12-34.HSD1.CA.COMCAST.NET",
	    false, PTR_GENERIC, "ip-dashed" },
	{ "trailing dot", "73.162.12.34", "c-73-162-12-34.hsd1.ca.comcast.net.",
	    false, PTR_GENERIC, "ip-dashed" },
	{ "two trailing dots", "192.0.2.1", "mail.example.com..", false,
	    PTR_INVALID, "invalid:empty-label" },
	{ "empty", "192.0.2.1", "", false, PTR_INVALID, "invalid:empty" },
	{ "only a dot", "192.0.2.1", ".", false, PTR_INVALID, "invalid" },
	{ "underscore", "192.0.2.1", "mail_1.example.com", false, PTR_INVALID,
	    "invalid:non-ldh" },
	{ "space", "192.0.2.1", "mail .example.com", false, PTR_INVALID,
	    "invalid:non-ldh" },
	{ "utf-8", "192.0.2.1", "m\xc3\xa4il.example.com", false, PTR_INVALID,
	    "invalid:non-ldh" },
	{ "leading hyphen", "192.0.2.1", "-mail.example.com", false,
	    PTR_INVALID, "invalid:non-ldh" },
	{ "trailing hyphen", "192.0.2.1", "mail-.example.com", false,
	    PTR_INVALID, "invalid:non-ldh" },
	{ "empty label", "192.0.2.1", "mail..example.com", false, PTR_INVALID,
	    "invalid:empty-label" },
	{ "label of 64", "192.0.2.1",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    false, PTR_INVALID, "invalid:label-too-long" },
	{ "single label", "192.0.2.1", "localhost", false, PTR_INVALID,
	    "invalid:single-label" },
	{ "in-addr.arpa as a name", "200.52.74.178",
	    "178.74.52.200.in-addr.arpa", false, PTR_GENERIC, "arpa-name" },
	{ "xn-- label is LDH", "192.0.2.1", "mail.xn--mnchen-3ya.de", false,
	    PTR_NAMED, NULL },
};

/*
 * The hard legitimate senders of PTR_NOTES.md: must stay named.  confirmed
 * is true where the provider table is what saves them (then a twin row
 * without confirmation shows the table is needed).
 */
static const struct cls_case named_cases[] = {
	{ "facebook mail-mxout (provider)", "66.220.144.178",
	    "66-220-144-178.mail-mxout.facebook.com", true, PTR_NAMED,
	    "provider:mail-mxout.facebook.com" },
	{ "facebook mail-mxout unconfirmed is generic", "66.220.144.178",
	    "66-220-144-178.mail-mxout.facebook.com", false, PTR_GENERIC,
	    "ip-dashed" },
	{ "facebook mail-mail (provider)", "66.220.155.151",
	    "66-220-155-151.mail-mail.facebook.com", true, PTR_NAMED,
	    "provider" },
	{ "outlook eop padded", "40.92.75.46",
	    "mail-oln040092075046.outbound.protection.outlook.com", false,
	    PTR_NAMED, "role" },
	{ "outlook eop trailing", "40.107.22.62",
	    "mail-db8eur05on2062.outbound.protection.outlook.com", false,
	    PTR_NAMED, "role" },
	{ "amazon ses", "54.240.4.3", "a4-3.smtp-out.eu-west-1.amazonses.com",
	    false, PTR_NAMED, "role" },
	{ "amazon ses ap", "23.251.234.51",
	    "e234-51.smtp-out.ap-northeast-1.amazonses.com", false, PTR_NAMED,
	    NULL },
	{ "sendgrid full ip (provider)", "167.89.97.77",
	    "o167-89-97-77.outbound-mail.sendgrid.net", true, PTR_NAMED,
	    "provider" },
	{ "sendgrid unconfirmed is generic", "167.89.97.77",
	    "o167-89-97-77.outbound-mail.sendgrid.net", false, PTR_GENERIC,
	    "ip-dashed" },
	{ "sendgrid concatenated (provider)", "167.89.17.173",
	    "o1678917x173.outbound-mail.sendgrid.net", true, PTR_NAMED,
	    "provider" },
	{ "google last octet", "209.85.128.41", "mail-wm1-f41.google.com",
	    false, PTR_NAMED, NULL },
	{ "google nf-out", "64.233.182.167", "nf-out-1516.google.com", false,
	    PTR_NAMED, NULL },
	{ "proton c+d", "79.135.106.101", "mail-106101.protonmail.ch", false,
	    PTR_NAMED, "role" },
	{ "proton 4322", "185.70.43.22", "mail-4322.protonmail.ch", false,
	    PTR_NAMED, NULL },
	{ "qq full ip", "162.62.57.137", "out162-62-57-137.mail.qq.com", false,
	    PTR_NAMED, "role" },
	{ "netease m12-11 (provider)", "220.181.12.11", "m12-11.163.com", true,
	    PTR_NAMED, "provider:163.com" },
	{ "netease qiye", "106.75.155.101", "mail-m155101.qiye.163.com", false,
	    PTR_NAMED, NULL },
	{ "126 m1575", "220.181.15.75", "m1575.mail.126.com", false, PTR_NAMED,
	    NULL },
	{ "139 n169-112", "120.232.169.112", "n169-112.mail.139.com", false,
	    PTR_NAMED, NULL },
	{ "aliyun", "115.124.28.63", "out28-63.mail.aliyun.com", false,
	    PTR_NAMED, NULL },
	{ "sina", "202.108.153.141", "smtp153-141.sina.com.cn", false,
	    PTR_NAMED, NULL },
	{ "mailgun m229-11 (provider)", "159.135.229.11", "m229-11.mailgun.net",
	    true, PTR_NAMED, "provider" },
	{ "mailgun so254-55 (provider)", "198.61.254.55", "so254-55.mailgun.net",
	    true, PTR_NAMED, "provider" },
	{ "sparkpost", "192.174.81.55", "mta-81-55.sparkpostmail.com", false,
	    PTR_NAMED, NULL },
	{ "mandrill", "198.2.132.22", "mail132-22.atl131.mandrillapp.com",
	    false, PTR_NAMED, NULL },
	{ "mailchimp", "205.201.131.42", "mail42.atl301.rsgsv.net", false,
	    PTR_NAMED, NULL },
	{ "postmark", "104.245.209.211", "mta211a-ord.mtasv.net", false,
	    PTR_NAMED, NULL },
	{ "constant contact", "208.75.123.231", "ccm231.constantcontact.com",
	    false, PTR_NAMED, NULL },
	{ "linkedin", "108.174.6.162",
	    "mail362.linkedin.com", false, PTR_NAMED, NULL },
	{ "flowmailer", "185.136.64.228", "mta-64-228.flowmailer.net", false,
	    PTR_NAMED, NULL },
	{ "reachmail", "216.55.88.66", "mail-88-66.reachmail.net", false,
	    PTR_NAMED, NULL },
	{ "simplelogin", "176.119.200.160", "mail-200160.simplelogin.co",
	    false, PTR_NAMED, NULL },
	{ "rediffmail", "119.252.152.37", "pro152-37.mxout.rediffmailpro.com",
	    false, PTR_NAMED, NULL },
	{ "sunet mailfilter", "89.45.235.5",
	    "mailfilter-89-45-235-5.instance.cloud.sunet.se", false, PTR_NAMED,
	    "role" },
	{ "shared hosting kasserver", "85.13.163.10", "dd28616.kasserver.com",
	    false, PTR_NAMED, NULL },
	{ "shared hosting xserver", "103.3.2.124", "sv12123.xserver.jp", false,
	    PTR_NAMED, NULL },
	{ "shared hosting websitewelcome", "192.185.4.11",
	    "cm11.websitewelcome.com", false, PTR_NAMED, NULL },
	{ "shared hosting hosteurope", "80.237.130.20",
	    "wp530.webpack.hosteurope.de", false, PTR_NAMED, NULL },
	{ "shared hosting your-server", "78.46.1.2", "www62.your-server.de",
	    false, PTR_NAMED, NULL },
	{ "comcast own mta", "96.114.154.170",
	    "resqmta-a2p-658780.sys.comcast.net", false, PTR_NAMED, "role" },
	{ "bell own mta", "209.71.212.30", "mta-mtl-002.bell.net", false,
	    PTR_NAMED, NULL },
	{ "orange smtp last octet", "80.12.242.65", "smtp-65.smtpout.orange.fr",
	    false, PTR_NAMED, "role" },
	{ "charter impout", "47.43.20.29", "p-impout004aa.msg.pkvw.co.charter.net",
	    false, PTR_NAMED, NULL },
	{ "mxroute", "108.61.154.1", "mail-108-mta154.mxroute.com", false,
	    PTR_NAMED, NULL },
	{ "nerim", "62.4.1.151", "smtp-151-monday.nerim.net", false, PTR_NAMED,
	    NULL },
	{ "dyn inside registered domain", "192.0.2.10", "mail.dyni.net", false,
	    PTR_NAMED, NULL },
	{ "dyni.net itself", "192.0.2.10", "dyni.net", false, PTR_NAMED, NULL },
	{ "dynamicinternet.com itself", "192.0.2.10", "dynamicinternet.com",
	    false, PTR_NAMED, NULL },
	{ "generaldynamics", "192.0.2.10", "smtp1.generaldynamics.com", false,
	    PTR_NAMED, NULL },
	{ "host word with digits", "57.103.66.155",
	    "p-west1-cluster5-host3-snip4-4.eps.apple.com", false, PTR_NAMED,
	    NULL },
	{ "salesforce hex id under role", "52.14.93.5",
	    "smtp-09b8520736e74aadf.core1.sfdc-8tgtt5.mta.salesforce.com",
	    false, PTR_NAMED, NULL },
	{ "sendgrid dedicated ptr label", "149.72.1.2", "o1.ptr1234.example.com",
	    false, PTR_NAMED, NULL },
	{ "access word away from the address keeps role", "192.0.2.9",
	    "mail.home.pl", false, PTR_NAMED, "role" },
	{ "mout", "212.227.126.1", "mout.gmx.net", false, PTR_NAMED, "role" },
	{ "smarthost", "192.0.2.9", "smarthost.example.org", false, PTR_NAMED,
	    "role" },
	{ "antispam", "192.0.2.9", "antispam.example.org", false, PTR_NAMED,
	    "role" },
	{ "role in the first label with the whole address", "192.0.2.30",
	    "mail-192-0-2-30.company.com", false, PTR_NAMED, "role" },
	{ "own vps with a short number", "192.0.2.9", "vps2.example.com", false,
	    PTR_NAMED, "no-evidence" },
	{ "hex-looking registered domain", "192.0.2.9", "4c0ffee1.com", false,
	    PTR_NAMED, "no-evidence" },
	{ "plain named", "140.211.166.183", "woodpecker.gentoo.org", false,
	    PTR_NAMED, "no-evidence" },
	{ "broadcom relay (operator's table entry)", "144.49.247.19",
	    "address-144-49-247-19.dlp.protect.broadcom.com", true, PTR_NAMED,
	    "provider" },
	/* look-alikes of the access-line shapes */
	{ "host named max, not an access server", "147.32.192.36",
	    "max.feld.cvut.cz", false, PTR_NAMED, "no-evidence" },
	{ "relay pool of an ISP", "208.85.217.141",
	    "mailpool-mx-02.fibernetics.ca", false, PTR_NAMED, "role" },
	{ "shared hosting server, business word with a number",
	    "192.64.117.134", "business122-5.web-hosting.com", false,
	    PTR_NAMED, "no-evidence" },
	{ "company server numbered below a subdomain", "7.182.85.13",
	    "frapeml500005.china.huawei.com", false, PTR_NAMED,
	    "no-evidence" },
	{ "shared hosting, five digits", "203.0.113.20", "sv10438.xserver.jp",
	    false, PTR_NAMED, "no-evidence" },
	{ "own vps named vps", "203.0.113.21", "vps.thesusis.net", false,
	    PTR_NAMED, "no-evidence" },
	{ "kvm with one digit", "203.0.113.22", "kvm5.telegraphics.com.au",
	    false, PTR_NAMED, "no-evidence" },
	{ "vps in the registered domain", "203.0.113.23", "cl6.mikrovps.hu",
	    false, PTR_NAMED, "no-evidence" },
	{ "numbered mail relay", "199.89.3.6", "003.mia.mailroute.net", false,
	    PTR_NAMED, NULL },
	{ "four hex digits that are not the address", "203.0.113.24",
	    "cafe1.example.org", false, PTR_NAMED, "no-evidence" },
	/* an access word that is only a machine's own name */
	{ "a host named usr", "193.232.113.217", "usr.lcm.msu.ru", false,
	    PTR_NAMED, "no-evidence" },
	{ "a host named dsl", "206.222.212.217", "dsl.unpythonic.net", false,
	    PTR_NAMED, "no-evidence" },
	{ "a host named home", "203.0.113.25", "home.keithp.com", false,
	    PTR_NAMED, "no-evidence" },
	{ "a word glued to digits is no name", "203.0.113.26",
	    "usr450-gh1.example.co.uk", false, PTR_GENERIC, "token:usr" },
};

/* Generic schemes, including those keyword lists miss. */
static const struct cls_case generic_cases[] = {
	{ "rogers mac", "99.247.249.188",
	    "cpe40623100049e-cm9050cac9ddf0.cpe.net.cable.rogers.com", false,
	    PTR_GENERIC, NULL },
	{ "shaw mac", "68.146.10.20", "s01068c763f81ca4b.cg.shawcable.net",
	    false, PTR_GENERIC, "shape:mac" },
	/* dial-up access servers and ports */
	{ "portmaster port", "209.250.41.102", "pm3-6-39.apex.net", false,
	    PTR_GENERIC, "shape:nas-port" },
	{ "async port", "128.2.188.71", "async7-9.net.cs.cmu.edu", false,
	    PTR_GENERIC, "token:async" },
	{ "access server and port, no word", "192.0.2.7", "tnt1-45.example.net",
	    false, PTR_GENERIC, "shape:nas-port" },
	{ "async modem pool", "130.237.10.69", "async69.modempool.kth.se",
	    false, PTR_GENERIC, "token:async" },
	/* ppp glued to another word, address in hex */
	{ "pppool low half in hex", "89.59.100.50", "x6432.x.pppool.de",
	    false, PTR_GENERIC, "ip2-hex" },
	{ "pppool low half in hex, bare", "213.7.90.238", "B5aee.pppool.de",
	    false, PTR_GENERIC, "ip2-hex" },
	/* customer codes and hosting providers' VPS names */
	{ "hosting vps customer code", "79.96.129.179",
	    "cloudserver083745.home.pl", false, PTR_GENERIC,
	    "shape:customer-code" },
	{ "dreamhost private server", "173.236.242.160",
	    "ps379014.dreamhost.com", false, PTR_GENERIC,
	    "shape:customer-code" },
	{ "hosting vps, word and counter", "104.168.149.109",
	    "hwsrv-970840.hostwindsdns.com", false, PTR_GENERIC,
	    "shape:customer-code" },
	{ "mail relay with a counter stays named", "96.102.18.1",
	    "resqmta-a2p-658780.sys.comcast.net", false, PTR_NAMED, "role" },
	{ "cloud app server counter", "178.62.255.238",
	    "93804.cloudwaysapps.com", false, PTR_GENERIC, "shape:counter" },
	{ "sakura virtual server", "133.167.78.106",
	    "os3-369-17602.vs.sakura.ne.jp", false, PTR_GENERIC, "cloud:vs" },
	{ "lone dynamic word still a pool", "203.0.113.27",
	    "dhcp.example.net", false, PTR_GENERIC, "token:dhcp" },
	{ "lone word with another access word", "203.0.113.28",
	    "home.dsl.example.net", false, PTR_GENERIC, "token:home" },
	{ "access word below the leftmost label", "131.243.1.2",
	    "apersaud.dhcp.lbl.gov", false, PTR_GENERIC, "token:dhcp" },
	{ "reverse alone is a placeholder", "203.0.113.29",
	    "reverse.rain.network", false, PTR_GENERIC, "placeholder:reverse" },
	{ "isp dynamic dns", "178.169.208.230",
	    "vent.haskovo.ddns.bulsat.com", false, PTR_GENERIC, "token:ddns" },
	{ "softlayer hex labels", "169.62.189.10",
	    "a.bd.3ea9.ip4.static.sl-reverse.com", false, PTR_STATIC_GENERIC,
	    "ip-hex-labels" },
	{ "attbi mac", "24.128.27.103", "h000502e08144.ne.client2.attbi.com",
	    false, PTR_GENERIC, "shape:mac" },
	{ "virgin counter", "80.193.200.194",
	    "cpc154979-craw9-2-0-cust193.16-3.cable.virginm.net", false,
	    PTR_GENERIC, "token" },
	{ "ocn counter", "114.144.245.147",
	    "p3068147-ipxg00a01tokaisakaetozai.aichi.ocn.ne.jp", false,
	    PTR_GENERIC, "ip1-counter" },
	{ "tpnet", "83.4.98.23", "aadu23.neoplus.adsl.tpnet.pl", false,
	    PTR_GENERIC, "token:adsl" },
	{ "orange abo", "90.46.24.247",
	    "lfbn-idf3-1-1070-247.w90-46.abo.wanadoo.fr", false, PTR_GENERIC,
	    "token:abo" },
	{ "mindspring", "69.81.74.44", "user-12l2ihc.cable.mindspring.com",
	    false, PTR_GENERIC, NULL },
	{ "t-online hex", "91.7.26.111", "p5b071a6f.dip0.t-ipconnect.de", false,
	    PTR_GENERIC, "ip-hex" },
	{ "kabel deutschland hex", "95.90.212.7",
	    "ip5f5ad407.dynamic.kabel-deutschland.de", false, PTR_GENERIC,
	    "ip-hex" },
	{ "sky hex", "5.65.200.49", "0541c831.skybroadband.com", false,
	    PTR_GENERIC, "ip-hex" },
	{ "softlayer reversed hex", "169.61.105.91",
	    "5b.69.3da9.ip4.static.sl-reverse.com", false, PTR_STATIC_GENERIC,
	    "ip-hex-reversed" },
	{ "linode", "172.104.24.175", "li1843-175.members.linode.com", false,
	    PTR_GENERIC, "token:members" },
	{ "contabo", "161.97.94.43", "vmi1674562.contaboserver.net", false,
	    PTR_GENERIC, "cloud:vmi" },
	{ "ovh vps", "51.75.1.2", "vps-0e511917.vps.ovh.net", false,
	    PTR_GENERIC, "shape:hex" },
	{ "ovh ip in registered domain", "192.99.135.118",
	    "ip118.ip-192-99-135.net", false, PTR_GENERIC, "ip-rotated" },
	{ "placeholder reserve", "218.242.78.25", "reserve.cableplus.com.cn",
	    false, PTR_GENERIC, "placeholder:reserve" },
	{ "placeholder unused", "80.93.177.1", "unused.rusonyx.ru", false,
	    PTR_GENERIC, "placeholder:unused" },
	{ "placeholder domain", "179.48.2.131", "static-a4telecom.com.br",
	    false, PTR_STATIC_GENERIC, "token:static" },
	{ "placeholder static host part", "14.160.1.2", "static.vnpt.vn",
	    false, PTR_STATIC_GENERIC, "token:static" },
	{ "static word beside a plain word is not enough", "192.0.2.9",
	    "www.static.example.com", false, PTR_NAMED, "no-evidence" },
	{ "rdns placeholder with address", "45.1.2.3",
	    "3-2-1-45.rdns.example.net", false, PTR_GENERIC,
	    "ip-dashed-reversed+token:rdns" },
	{ "localhost placeholder", "192.0.2.9", "localhost.localdomain", false,
	    PTR_GENERIC, "placeholder" },
	{ "fpt masked", "58.186.71.139", "58-186-71-xxx-dynamic.hcm.fpt.vn",
	    false, PTR_GENERIC, "ip3" },
	{ "ttnet concatenated", "85.100.237.60",
	    "dsl.dynamic8510023760.ttnet.net.tr", false, PTR_GENERIC,
	    "ip-concat" },
	{ "balticom partial", "85.254.231.46", "balticom-231-46.balticom.lv",
	    false, PTR_GENERIC, "ip2" },
	{ "tvk partial concatenated", "61.199.215.40", "tvk215040.tvk.ne.jp",
	    false, PTR_GENERIC, "ip2" },
	{ "paltel partial", "213.83.1.157", "s83-1-157.sfi.paltel.net",
	    false, PTR_GENERIC, "ip3" },
	{ "link3 partial reversed", "103.9.175.187", "187.175.cetus.link3.net",
	    false, PTR_GENERIC, "ip2" },
	{ "uni-linz partial", "193.171.40.62", "heim-040-62.jkh.uni-linz.ac.at",
	    false, PTR_GENERIC, "ip2" },
	{ "token without digits", "128.3.131.12", "apersaud.dhcp.lbl.gov",
	    false, PTR_GENERIC, "token:dhcp" },
	{ "dyn in host part beats registered domain", "192.0.2.77",
	    "192-0-2-77.dyn.dyni.net", false, PTR_GENERIC, "ip-dashed" },
	{ "access word vetoes role", "192.0.2.77", "mail-192-0-2-77.dsl.example.net",
	    false, PTR_GENERIC, "ip-dashed+token:dsl" },
	{ "role word in a pool name with the address", "171.5.1.2",
	    "mx-ll-171-5-1-2.dynamic.3bb.co.th", false, PTR_GENERIC,
	    "ip-dashed+token:dynamic" },
	{ "static business class", "24.73.201.194", "rrcs-24-73-201-194.se.biz.rr.com",
	    false, PTR_STATIC_GENERIC, "ip-dashed+static:biz" },
	{ "static with dynamic word stays generic", "80.36.22.210",
	    "210.red-80-36-22.dynamicip.rima-tde.net", false, PTR_GENERIC,
	    "ip-rotated" },
	{ "comcast business static", "198.0.35.241",
	    "198-0-35-241-static.hfc.comcastbusiness.net", false,
	    PTR_STATIC_GENERIC, "ip-dashed+token:hfc+static:static" },
	{ "provider suffix does not cover ISP pool", "73.162.12.34",
	    "c-73-162-12-34.hsd1.ca.comcast.net", true, PTR_GENERIC, NULL },
	{ "provider needs the dot boundary", "192.0.2.5",
	    "192-0-2-5.notgoogle.com", true, PTR_GENERIC, "ip-dashed" },
	{ "v6 pool nibbles", "2001:db8:1234:5678::1",
	    "20010db812345678.pool.example.net", false, PTR_GENERIC,
	    "ip6-nibbles" },
	{ "v6 dash groups", "2a02:8109:b6c0:12::5",
	    "2a02-8109-b6c0-12-5.dynamic.example.de", false, PTR_GENERIC,
	    "ip6-groups" },
	{ "v6 token only", "2a02:8109:b6c0:12::5", "host.dynamic.example.de",
	    false, PTR_GENERIC, "token:dynamic" },
	{ "v6 named", "2001:4860:4864:20::41", "mail-ej1-x641.google.com",
	    false, PTR_NAMED, NULL },
};

/* ---- the provider table file ---- */

struct prov_case {
	const char *name;
	const char *text;	/* the file's contents */
	const char *err;	/* want in the error after the path, or NULL */
};

static const struct prov_case prov_cases[] = {
	{ "comments and blanks", "# c\n\n  example.com  # x\n", NULL },
	{ "leading dot", ".example.com\n", NULL },
	{ "upper case folded", "Example.COM\n", NULL },
	{ "no final newline", "example.com", NULL },
	{ "duplicate", "example.com\nexample.com\n", NULL },
	{ "tld refused", "com\n", ":1: a whole top-level domain" },
	{ "two words", "a.com b.com\n", ":1: one suffix per line" },
	{ "underscore", "\n_dmarc.example.com\n", ":2: not a lower-case LDH" },
	{ "empty label", "a..com\n", ":1: empty label" },
	{ "hyphen start", "-a.com\n", ":1: label starts with a hyphen" },
	{ "hyphen end", "a-.com\n", ":1: label ends with a hyphen" },
	{ "long label", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\n",
	    ":1: label longer than 63" },
	{ "nul byte", "a.com\0x\n", ":1: NUL byte" },
};

static char t_tmpdir[64];

static void test_prov(void **state)
{
	const struct prov_case *c = *state;
	char path[128], err[256], want[256];
	struct ptrclass *pc;
	FILE *f;
	size_t len = strlen(c->text);

	if (strcmp(c->name, "nul byte") == 0)
		len = 8;	/* the text holds a NUL */
	snprintf(path, sizeof(path), "%s/providers", t_tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(c->text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	pc = ptrclass_new(path, err, sizeof(err));
	if (c->err == NULL) {
		struct ptr_verdict v;
		struct addr a;

		if (pc == NULL)
			fail_msg("got error \"%s\", want success", err);
		t_addr("192.0.2.5", &a);
		ptrclass_classify(pc, "192-0-2-5.pool.example.com", &a, true, &v);
		if (v.cls != PTR_NAMED ||
		    strcmp(v.reason, "provider:example.com") != 0)
			fail_msg("got %s (%s), want named provider:example.com",
			    ptrclass_name(v.cls), v.reason);
		ptrclass_free(pc);
		return;
	}
	if (pc != NULL) {
		ptrclass_free(pc);
		fail_msg("loaded, want error \"%s\"", c->err);
	}
	snprintf(want, sizeof(want), "%s%s", path, c->err);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got error \"%s\", want \"%s...\"", err, want);
}

static void test_prov_missing(void **state)
{
	char err[256];
	struct ptrclass *pc;

	(void)state;
	pc = ptrclass_new("/nonexistent/ptr-providers.conf", err, sizeof(err));
	if (pc != NULL) {
		ptrclass_free(pc);
		fail_msg("loaded a missing file");
	}
	if (strstr(err, "/nonexistent/ptr-providers.conf: open:") == NULL)
		fail_msg("got error \"%s\", want the path and \"open:\"", err);
}

/* The built-in table is data/ptr-providers.conf, byte for byte. */
static void test_builtin_is_the_file(void **state)
{
	static char file[1 << 20];
	size_t n;
	FILE *f;

	(void)state;
	f = fopen(PROVIDERS, "r");
	assert_non_null(f);
	n = fread(file, 1, sizeof(file) - 1, f);
	fclose(f);
	file[n] = '\0';
	if (strlen(ptrclass_builtin_table) != n ||
	    memcmp(ptrclass_builtin_table, file, n) != 0)
		fail_msg("got a built-in table of %zu bytes, want %s's %zu "
		    "(rebuild: the object predates the file)",
		    strlen(ptrclass_builtin_table), PROVIDERS, n);
}

/*
 * Built-in alone, extended by a file, replaced by it: which suffixes
 * count.  The file adds esp.example.com; mailgun.net is built in.
 */
static void test_tables(void **state)
{
	static const struct {
		const char *name;
		bool builtin, file;
		const char *want_mailgun, *want_esp;	/* class of each */
	} rows[] = {
		{ "built-in alone", true, false, "named", "generic" },
		{ "built-in extended by a file", true, true, "named", "named" },
		{ "the file replaces it", false, true, "generic", "named" },
		{ "no table", false, false, "generic", "generic" },
	};
	char path[128], err[256];
	struct addr a;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/extra", t_tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# an operator's own sender\nesp.example.com\n", f);
	assert_int_equal(fclose(f), 0);
	t_addr("198.51.100.71", &a);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ptrclass *pc;
		struct ptr_verdict v1, v2;

		pc = ptrclass_new_tables(rows[i].file ? path : NULL,
		    rows[i].builtin, err, sizeof(err));
		if (pc == NULL)
			fail_msg("%s: got error \"%s\"", rows[i].name, err);
		ptrclass_classify(pc, "198-51-100-71.mailgun.net", &a, true,
		    &v1);
		ptrclass_classify(pc, "198-51-100-71.esp.example.com", &a,
		    true, &v2);
		ptrclass_free(pc);
		if (strcmp(ptrclass_name(v1.cls), rows[i].want_mailgun) != 0 ||
		    strcmp(ptrclass_name(v2.cls), rows[i].want_esp) != 0)
			fail_msg("%s: got mailgun %s, esp %s; want %s, %s",
			    rows[i].name, ptrclass_name(v1.cls),
			    ptrclass_name(v2.cls), rows[i].want_mailgun,
			    rows[i].want_esp);
	}
	unlink(path);
	/* A bad file beside the built-in table names the file. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("good.example.com\nbad..example.com\n", f);
	assert_int_equal(fclose(f), 0);
	if (ptrclass_new_tables(path, true, err, sizeof(err)) != NULL)
		fail_msg("loaded a bad file");
	unlink(path);
	if (strstr(err, "/extra:2: empty label") == NULL)
		fail_msg("got error \"%s\", want \"%s:2: empty label\"", err,
		    path);
}

/* No context (no PSL, no table) and no address still classify. */
static void test_null_context(void **state)
{
	struct ptr_verdict v;

	(void)state;
	ptrclass_classify(NULL, "c-73-162-12-34.hsd1.ca.comcast.net", NULL,
	    true, &v);
	if (v.cls != PTR_GENERIC || strcmp(v.reason, "token:hsd") != 0)
		fail_msg("got %s (%s), want generic token:hsd",
		    ptrclass_name(v.cls), v.reason);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ptrclass_name(PTR_NAMED), "named");
	assert_string_equal(ptrclass_name(PTR_GENERIC), "generic");
	assert_string_equal(ptrclass_name(PTR_STATIC_GENERIC), "static-generic");
	assert_string_equal(ptrclass_name(PTR_INVALID), "invalid");
}

static int setup(void **state)
{
	char err[256], path[128];
	FILE *in, *out;
	char line[512];

	(void)state;
	snprintf(t_tmpdir, sizeof(t_tmpdir), "/tmp/test_ptrclass.XXXXXX");
	if (mkdtemp(t_tmpdir) == NULL)
		return -1;
	/* the shipped table plus one operator entry */
	snprintf(path, sizeof(path), "%s/shipped", t_tmpdir);
	if ((in = fopen(PROVIDERS, "r")) == NULL ||
	    (out = fopen(path, "w")) == NULL) {
		fprintf(stderr, "%s: %s\n", PROVIDERS, "cannot copy");
		return -1;
	}
	while (fgets(line, sizeof(line), in) != NULL)
		fputs(line, out);
	fputs("dlp.protect.broadcom.com\n", out);
	fclose(in);
	fclose(out);
	if ((t_pc = ptrclass_new(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ptrclass_new: %s\n", err);
		return -1;
	}
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	ptrclass_free(t_pc);
	snprintf(path, sizeof(path), "%s/providers", t_tmpdir);
	unlink(path);
	rmdir(t_tmpdir);
	return 0;
}

#define NROWS(a) (sizeof(a) / sizeof(a[0]))

int main(void)
{
	static struct CMUnitTest tests[NROWS(ip_cases) + NROWS(word_cases) +
	    NROWS(shape_cases) + NROWS(access_cases) + NROWS(input_cases) + NROWS(named_cases) +
	    NROWS(generic_cases) + NROWS(prov_cases) + 10];
	size_t n_ = 0;

	tests[n_++] = (struct CMUnitTest)cmocka_unit_test(test_lex_selfcheck);
	tests[n_++] = (struct CMUnitTest)cmocka_unit_test(test_names);
	tests[n_++] = (struct CMUnitTest)cmocka_unit_test(test_prov_missing);
	tests[n_++] = (struct CMUnitTest)cmocka_unit_test(test_null_context);
	tests[n_++] = (struct CMUnitTest)cmocka_unit_test(test_builtin_is_the_file);
	tests[n_++] = (struct CMUnitTest)cmocka_unit_test(test_tables);
	ROWS(tests, ip_cases, test_ip);
	ROWS(tests, word_cases, test_word);
	ROWS(tests, shape_cases, test_shape);
	ROWS(tests, access_cases, test_access);
	ROWS(tests, input_cases, test_cls);
	ROWS(tests, named_cases, test_cls);
	ROWS(tests, generic_cases, test_cls);
	ROWS(tests, prov_cases, test_prov);
	return _cmocka_run_group_tests("ptrclass", tests, n_, setup, teardown);
}
