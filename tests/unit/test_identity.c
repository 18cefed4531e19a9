/*
 * test_identity.c - the pure parts of smtpgatectl identity, table-driven:
 * host name labels, escaping, TXT answers read as SPF (split records),
 * the SMTP greeting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cases.h"
#include "identity.h"

/* ---- labels ---- */

struct lcase {
	const char *name;
	const char *host;
	unsigned want;
};

static const struct lcase lcases[] = {
	{ "three labels", "mail.example.com", 3 },
	{ "two labels", "example.com", 2 },
	{ "a trailing dot", "mail.example.com.", 3 },
	{ "one label", "localhost", 1 },
	{ "empty", "", 0 },
	{ "an empty label", "mail..example.com", 0 },
	{ "a leading dot", ".example.com", 0 },
	{ "a space", "mail example.com", 0 },
	{ "an address literal", "[192.0.2.1]", 0 },
	{ "a 64-byte label",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	  0 },
	{ "an IPv4 address", "192.0.2.1", 0 },
	{ "digits inside, a name at the end", "1.2.3.example", 4 },
	{ "digits and hyphens", "198-51-100-12.dynamic.example.net", 4 },
};

static void
test_labels(void **state)
{
	const struct lcase *c = *state;
	unsigned got = identity_labels(c->host);

	if (got != c->want)
		fail_msg("%s: \"%s\": got %u labels, want %u", c->name,
		    c->host, got, c->want);
}

/* ---- escape ---- */

static void
test_escape(void **state)
{
	char out[16];

	(void)state;
	assert_string_equal(identity_escape((const unsigned char *)
	    "a\"b\\c\x01\xff", 7, out, sizeof(out)), "a\\\"b\\\\c\\x01\\xff");
	/* Cut to fit, never inside an escape. */
	assert_string_equal(identity_escape((const unsigned char *)
	    "abcdefghijklm\x01", 14, out, sizeof(out)), "abcdefghijklm");
	assert_string_equal(identity_escape((const unsigned char *)"", 0, out,
	    1), "");
}

/* ---- SPF from TXT ---- */

struct scase {
	const char *name;
	const char *recs;	/* records "|"-separated, strings in each
				 * "/"-separated */
	size_t want_nspf, want_nbroken;
	int want_rec;
	size_t want_glued;
	const char *want_joined, *want_spaced;
	char want_all;
	bool want_redirect;
};

static const struct scase scases[] = {
	{ "one record", "v=spf1 a -all", 1, 0, 0, 0, "v=spf1 a -all",
	  "v=spf1 a -all", '-', false },
	{ "split with the spaces kept", "v=spf1 /a /-all", 1, 0, 0, 0,
	  "v=spf1 a -all", "v=spf1  a  -all", '-', false },
	{ "split without spaces: no SPF record", "v=spf1/a/-all", 0, 1, 0, 2,
	  "v=spf1a-all", "v=spf1 a -all", 0, false },
	{ "split inside the terms: SPF, glued once", "v=spf1 a/-all", 1, 0, 0,
	  1, "v=spf1 a-all", "v=spf1 a -all", 0, false },
	{ "a long record split mid-term reads right",
	  "v=spf1 include:_spf.exa/mple.test ~all", 1, 0, 0, 1,
	  "v=spf1 include:_spf.example.test ~all",
	  "v=spf1 include:_spf.exa mple.test ~all", '~', false },
	{ "neutral", "v=spf1 mx ?all", 1, 0, 0, 0, "v=spf1 mx ?all",
	  "v=spf1 mx ?all", '?', false },
	{ "a bare all is pass", "v=spf1 all", 1, 0, 0, 0, "v=spf1 all",
	  "v=spf1 all", '+', false },
	{ "upper case version and ALL", "V=SPF1 -ALL", 1, 0, 0, 0,
	  "V=SPF1 -ALL", "V=SPF1 -ALL", '-', false },
	{ "redirect", "v=spf1 redirect=_spf.example.test", 1, 0, 0, 0,
	  "v=spf1 redirect=_spf.example.test",
	  "v=spf1 redirect=_spf.example.test", 0, true },
	{ "spf10 is no SPF record", "v=spf10 -all", 0, 0, -1, 0, "", "", 0,
	  false },
	{ "other TXT records first", "google-site-verification=x|v=spf1 -all",
	  1, 0, 1, 0, "v=spf1 -all", "v=spf1 -all", '-', false },
	{ "two SPF records", "v=spf1 -all|v=spf1 a -all", 2, 0, 0, 0,
	  "v=spf1 -all", "v=spf1 -all", '-', false },
	{ "a broken one, then an SPF one: the SPF one described",
	  "v=spf1/-all|v=spf1 a ~all", 1, 1, 1, 0, "v=spf1 a ~all",
	  "v=spf1 a ~all", '~', false },
	{ "no TXT record reads as SPF", "hello|world", 0, 0, -1, 0, "", "", 0,
	  false },
};

/* Build a dns_txt from the case's notation. */
static void
txt_build(const char *recs, struct dns_txt *t)
{
	const char *p = recs;

	memset(t, 0, sizeof(*t));
	t->status = DNS_OK;
	t->nrecords = 1;
	t->rec[0].nstrings = 1;
	t->rec[0].s[0].off = 0;
	for (; *p != '\0'; p++) {
		struct dns_txt_record *r = &t->rec[t->nrecords - 1];

		if (*p == '|') {
			r = &t->rec[t->nrecords++];
			r->nstrings = 1;
			r->s[0].off = (uint16_t)t->used;
			continue;
		}
		if (*p == '/') {
			r->s[r->nstrings].off = (uint16_t)t->used;
			r->nstrings++;
			continue;
		}
		t->text[t->used++] = (unsigned char)*p;
		r->s[r->nstrings - 1].len++;
	}
}

static void
test_spf(void **state)
{
	const struct scase *c = *state;
	static struct dns_txt t;
	struct identity_spf s;

	txt_build(c->recs, &t);
	identity_spf_read(&t, &s);
	if (s.nspf != c->want_nspf || s.nbroken != c->want_nbroken ||
	    s.rec != c->want_rec || s.glued != c->want_glued ||
	    strcmp(s.joined, c->want_joined) != 0 ||
	    strcmp(s.spaced, c->want_spaced) != 0 || s.all != c->want_all ||
	    s.redirect != c->want_redirect)
		fail_msg("%s: got nspf=%zu nbroken=%zu rec=%d glued=%zu "
		    "joined='%s' spaced='%s' all='%c' redirect=%d; want %zu %zu "
		    "%d %zu '%s' '%s' '%c' %d", c->name, s.nspf, s.nbroken,
		    s.rec, s.glued, s.joined, s.spaced, s.all ? s.all : '0',
		    s.redirect, c->want_nspf, c->want_nbroken, c->want_rec,
		    c->want_glued, c->want_joined, c->want_spaced,
		    c->want_all ? c->want_all : '0', c->want_redirect);
}

/* ---- the greeting ---- */

struct bcase {
	const char *name;
	const char *in;
	enum identity_banner_state want;
	unsigned want_code;
	size_t want_lines;
	const char *want_name, *want_first;
};

static const struct bcase bcases[] = {
	{ "one line", "220 mail.example.test ESMTP\r\n", IDENTITY_BANNER_DONE,
	  220, 1, "mail.example.test", "220 mail.example.test ESMTP" },
	{ "bare LF, name upper case", "220 MAIL.Example.TEST\n",
	  IDENTITY_BANNER_DONE, 220, 1, "mail.example.test",
	  "220 MAIL.Example.TEST" },
	{ "multi-line", "220-mx.example.test hello\r\n220-more\r\n220 end\r\n",
	  IDENTITY_BANNER_DONE, 220, 3, "mx.example.test",
	  "220-mx.example.test hello" },
	{ "not complete yet", "220-mx.example.test\r\n220 en",
	  IDENTITY_BANNER_PARTIAL, 220, 1, "mx.example.test",
	  "220-mx.example.test" },
	{ "nothing yet", "", IDENTITY_BANNER_PARTIAL, 0, 0, "", "" },
	{ "a refusal", "554 5.7.1 no thanks\r\n", IDENTITY_BANNER_DONE, 554,
	  1, "", "554 5.7.1 no thanks" },
	{ "an address literal is no name", "220 [192.0.2.1] ESMTP\r\n",
	  IDENTITY_BANNER_DONE, 220, 1, "", "220 [192.0.2.1] ESMTP" },
	{ "code alone", "220\r\n", IDENTITY_BANNER_DONE, 220, 1, "", "220" },
	{ "hostile bytes escaped", "220 mx.example.test \x1b[31m\xff\r\n",
	  IDENTITY_BANNER_DONE, 220, 1, "mx.example.test",
	  "220 mx.example.test \\x1b[31m\\xff" },
	{ "not a reply", "SSH-2.0-OpenSSH_9.2\r\n",
	  IDENTITY_BANNER_MALFORMED, 0, 0, "", "SSH-2.0-OpenSSH_9.2" },
	{ "codes that change", "220-a.example.test\r\n421 bye\r\n",
	  IDENTITY_BANNER_MALFORMED, 220, 1, "a.example.test",
	  "220-a.example.test" },
	{ "a fourth byte that is no separator", "2200 x\r\n",
	  IDENTITY_BANNER_MALFORMED, 0, 0, "", "2200 x" },
};

static void
test_banner(void **state)
{
	const struct bcase *c = *state;
	struct identity_banner b;

	identity_banner_parse((const unsigned char *)c->in, strlen(c->in), &b);
	if (b.state != c->want || b.code != c->want_code ||
	    b.lines != c->want_lines || strcmp(b.name, c->want_name) != 0 ||
	    strcmp(b.first, c->want_first) != 0)
		fail_msg("%s: got state %d code %u lines %zu name '%s' first "
		    "'%s'; want %d %u %zu '%s' '%s'", c->name, b.state, b.code,
		    b.lines, b.name, b.first, c->want, c->want_code,
		    c->want_lines, c->want_name, c->want_first);
	if ((b.state == IDENTITY_BANNER_MALFORMED) != (b.why != NULL))
		fail_msg("%s: why and state disagree", c->name);
}

/* A greeting longer than IDENTITY_BANNER_MAX: only the bound is read. */
static void
test_banner_bound(void **state)
{
	static unsigned char buf[IDENTITY_BANNER_MAX * 2];
	struct identity_banner b;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "220-", 4);
	buf[sizeof(buf) - 1] = '\n';
	identity_banner_parse(buf, sizeof(buf), &b);
	assert_int_equal(b.state, IDENTITY_BANNER_PARTIAL);
	assert_true(strlen(b.first) < sizeof(b.first));
}

int
main(void)
{
#define NT (sizeof(lcases) / sizeof(lcases[0]) + sizeof(scases) / \
	    sizeof(scases[0]) + sizeof(bcases) / sizeof(bcases[0]) + 2)
	struct CMUnitTest t[NT];
	char names[NT][96];
	size_t n = 0;

	CASES(lcases, test_labels);
	CASES(scases, test_spf);
	CASES(bcases, test_banner);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_escape);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_banner_bound);
	return _cmocka_run_group_tests("identity", t, n, NULL, NULL);
}
