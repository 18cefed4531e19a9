/*
 * test_dnsbl.c - table-driven tests of dnsbl.c: postscreen_dnsbl_sites
 * parsing (good entries and each kind of bad one with its message), answer
 * classification, filter matching and per-zone scoring.
 *
 * Every table row becomes one named cmocka test.
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

#include "dnsbl.h"

#define IP(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static struct dnsbl_sites sites;	/* 20 KiB: keep it off the stack */

/* ---- parse: good values ---- */

struct good_case {
	const char *name;
	const char *value;
	size_t nsites, nzones;
	const char *dump;	/* "zone|filter?|weight;" per site */
};

static const struct good_case good_cases[] = {
	{ "empty", "", 0, 0, "" },
	{ "only separators", " ,\t,\n ", 0, 0, "" },
	{ "one zone", "zen.spamhaus.org", 1, 1, "zen.spamhaus.org|-|1;" },
	{ "weight", "bl.example.net*2", 1, 1, "bl.example.net|-|2;" },
	{ "negative weight", "list.dnswl.org*-2", 1, 1,
	    "list.dnswl.org|-|-2;" },
	{ "plus weight", "bl.example*+3", 1, 1, "bl.example|-|3;" },
	{ "zero weight", "bl.example*0", 1, 1, "bl.example|-|0;" },
	{ "filter and weight", "zen.spamhaus.org=127.0.0.[2..11]*3", 1, 1,
	    "zen.spamhaus.org|f|3;" },
	{ "brief example",
	    "zen.spamhaus.org=127.0.0.[2..11]*3 bl.example.net*2 "
	    "list.dnswl.org=127.0.[0..255].[1..3]*-2", 3, 3,
	    "zen.spamhaus.org|f|3;bl.example.net|-|2;list.dnswl.org|f|-2;" },
	{ "commas", "a.example,b.example , c.example", 3, 3,
	    "a.example|-|1;b.example|-|1;c.example|-|1;" },
	{ "tabs and newlines", "a.example\t\nb.example", 2, 2,
	    "a.example|-|1;b.example|-|1;" },
	{ "repeated zone shares slot",
	    "list.dnswl.org=127.0.[2..15].0*-2 "
	    "list.dnswl.org=127.0.[2..15].1*-3 bl.example "
	    "LIST.DNSWL.ORG=127.0.[2..15].[2..3]*-4", 4, 2,
	    "list.dnswl.org|f|-2;list.dnswl.org|f|-3;bl.example|-|1;"
	    "list.dnswl.org|f|-4;" },
	{ "semicolon list", "bl.example=127.0.0.[1;3;5..7]", 1, 1,
	    "bl.example|f|1;" },
	{ "all lists", "bl.example=[127].[0..255].[0;1].[2..2]", 1, 1,
	    "bl.example|f|1;" },
	{ "hyphen and digits", "b.barracudacentral.org bl.0spam-x.example", 2, 2,
	    "b.barracudacentral.org|-|1;bl.0spam-x.example|-|1;" },
	{ "single label", "localbl", 1, 1, "localbl|-|1;" },
	{ "63 char label",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
	    1, 1,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x"
	    "|-|1;" },
};

static void
dump_sites(const struct dnsbl_sites *s, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < s->nsites && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s|%s|%d;",
		    s->zone[s->site[i].zone], s->site[i].has_filter ? "f" : "-",
		    s->site[i].weight);
}

static void
test_good(void **state)
{
	const struct good_case *c = *state;
	char err[256] = "", dump[1024];
	size_t i;

	if (dnsbl_parse(c->value, &sites, err, sizeof err) != 0)
		fail_msg("dnsbl_parse(\"%s\"): got error \"%s\", want success",
		    c->value, err);
	if (sites.nsites != c->nsites || sites.nzones != c->nzones)
		fail_msg("dnsbl_parse(\"%s\"): got %zu sites %zu zones, want "
		    "%zu sites %zu zones", c->value, sites.nsites,
		    sites.nzones, c->nsites, c->nzones);
	dump_sites(&sites, dump, sizeof dump);
	if (strcmp(dump, c->dump) != 0)
		fail_msg("dnsbl_parse(\"%s\"): got \"%s\", want \"%s\"",
		    c->value, dump, c->dump);
	for (i = 0; i < sites.nsites; i++)
		if (sites.site[i].zone >= sites.nzones)
			fail_msg("site %zu: zone index %u out of range", i,
			    sites.site[i].zone);
}

/* ---- parse: bad values ---- */

struct bad_case {
	const char *name;
	const char *value;
	const char *msg;	/* a fragment the error must contain */
};

static const struct bad_case bad_cases[] = {
	{ "empty zone with filter", "=127.0.0.2", "entry '=127.0.0.2': empty "
	    "zone name" },
	{ "empty filter", "bl.example=", "empty filter" },
	{ "empty label", "bl..example", "empty label" },
	{ "leading dot", ".bl.example", "empty label" },
	{ "trailing dot", "bl.example.", "empty label" },
	{ "underscore", "bl_x.example", "bad character '_'" },
	{ "hyphen first", "-bl.example", "starts or ends with '-'" },
	{ "hyphen last", "bl-.example", "starts or ends with '-'" },
	{ "numeric top", "192.0.2.1", "numeric label" },
	{ "label 64",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
	    "longer than 63" },
	{ "zone too long",
	    "a123456789.b123456789.c123456789.d123456789.e123456789."
	    "f123456789.g123456789.h123456789.i123456789.j123456789."
	    "k123456789.l123456789.m123456789.n123456789.o123456789."
	    "p123456789.q123456789.r12345.example", "longer than 189" },
	{ "three octets", "bl.example=127.0.2", "four octets" },
	{ "five octets", "bl.example=127.0.0.2.1", "junk after" },
	{ "octet 256", "bl.example=127.0.0.256", "octet 4" },
	{ "leading zero", "bl.example=127.0.0.02", "octet 4" },
	{ "letter octet", "bl.example=127.0.x.2", "octet 3" },
	{ "unclosed list", "bl.example=127.0.0.[2..11", "want ';' or ']'" },
	{ "empty list", "bl.example=127.0.0.[]", "in the list" },
	{ "backwards range", "bl.example=127.0.0.[11..2]", "backwards" },
	{ "range missing end", "bl.example=127.0.0.[2..]", "after '..'" },
	{ "range to 256", "bl.example=127.0.0.[2..256]", "after '..'" },
	{ "comma in list", "bl.example=127.0.0.[1,2]", "want ';' or ']'" },
	{ "never matches", "bl.example=10.0.0.2", "never match" },
	{ "weight empty", "bl.example*", "weight" },
	{ "weight junk", "bl.example*2x", "weight" },
	{ "weight minus only", "bl.example*-", "weight" },
	{ "weight huge", "bl.example*99999999999999999999", "out of range" },
	{ "weight before filter", "bl.example*2=127.0.0.2", "weight" },
	{ "two stars", "bl.example*2*3", "weight" },
	{ "bad second entry", "good.example bad..example",
	    "entry 'bad..example'" },
	{ "too many entries",
	    "a.x b.x c.x d.x e.x f.x g.x h.x i.x j.x k.x l.x m.x n.x o.x p.x "
	    "q.x r.x s.x t.x u.x v.x w.x x.x y.x z.x aa.x ab.x ac.x ad.x ae.x "
	    "af.x ag.x", "entry 'ag.x': more than 32 entries" },
	{ "entry too long",
	    "bl.example=127.0.0.[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;"
	    "19;20;21;22;23;24;25;26;27;28;29;30;31;32;33;34;35;36;37;38;39;40;"
	    "41;42;43;44;45;46;47;48;49;50;51;52;53;54;55;56;57;58;59;60;61;62;"
	    "63;64;65;66;67;68;69;70;71;72;73;74;75;76;77;78;79;80;81;82;83;84;"
	    "85;86;87;88;89;90;91;92;93;94;95;96;97;98;99;100;101;102;103;104;"
	    "105;106;107;108;109;110]", "entry longer than 317" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	char err[512] = "";

	memset(&sites, 0x5a, sizeof sites);
	if (dnsbl_parse(c->value, &sites, err, sizeof err) != -1)
		fail_msg("dnsbl_parse(\"%s\"): got success, want error with "
		    "\"%s\"", c->value, c->msg);
	if (strstr(err, c->msg) == NULL)
		fail_msg("dnsbl_parse(\"%s\"): got \"%s\", want it to contain "
		    "\"%s\"", c->value, err, c->msg);
	if (strncmp(err, "entry '", 7) != 0)
		fail_msg("dnsbl_parse(\"%s\"): got \"%s\", want \"entry '...\"",
		    c->value, err);
	if (sites.nsites != 0 || sites.nzones != 0)
		fail_msg("dnsbl_parse(\"%s\") failed but left %zu sites",
		    c->value, sites.nsites);
}

/* ---- answer classification ---- */

struct kind_case {
	const char *name;
	uint32_t a;
	enum dnsbl_answer want;
};

static const struct kind_case kind_cases[] = {
	{ "127.0.0.2 listed", IP(127, 0, 0, 2), DNSBL_ANSWER_LISTED },
	{ "127.0.0.11 listed", IP(127, 0, 0, 11), DNSBL_ANSWER_LISTED },
	{ "127.0.0.0 listed", IP(127, 0, 0, 0), DNSBL_ANSWER_LISTED },
	{ "127.1.2.3 listed", IP(127, 1, 2, 3), DNSBL_ANSWER_LISTED },
	{ "127.255.254.255 listed", IP(127, 255, 254, 255),
	    DNSBL_ANSWER_LISTED },
	{ "127.0.0.1 ignored", IP(127, 0, 0, 1), DNSBL_ANSWER_IGNORED },
	{ "10.0.0.2 ignored", IP(10, 0, 0, 2), DNSBL_ANSWER_IGNORED },
	{ "128.0.0.2 ignored", IP(128, 0, 0, 2), DNSBL_ANSWER_IGNORED },
	{ "126.255.255.254 ignored", IP(126, 255, 255, 254),
	    DNSBL_ANSWER_IGNORED },
	{ "0.0.0.0 ignored", 0, DNSBL_ANSWER_IGNORED },
	{ "127.255.255.254 error", IP(127, 255, 255, 254), DNSBL_ANSWER_ERROR },
	{ "127.255.255.252 error", IP(127, 255, 255, 252), DNSBL_ANSWER_ERROR },
	{ "127.255.255.0 error", IP(127, 255, 255, 0), DNSBL_ANSWER_ERROR },
	{ "127.255.255.255 error", IP(127, 255, 255, 255), DNSBL_ANSWER_ERROR },
	{ "127.0.0.255 error", IP(127, 0, 0, 255), DNSBL_ANSWER_ERROR },
};

static void
test_kind(void **state)
{
	const struct kind_case *c = *state;
	enum dnsbl_answer got = dnsbl_answer_kind(c->a);

	if (got != c->want)
		fail_msg("dnsbl_answer_kind(%s): got %d, want %d", c->name, got,
		    c->want);
}

/* ---- filter matching ---- */

struct match_case {
	const char *name;
	const char *entry;
	uint32_t a;
	bool want;
};

static const struct match_case match_cases[] = {
	{ "no filter any listing", "bl.example", IP(127, 0, 0, 2), true },
	{ "no filter odd listing", "bl.example", IP(127, 9, 8, 7), true },
	{ "no filter not .1", "bl.example", IP(127, 0, 0, 1), false },
	{ "no filter not error", "bl.example", IP(127, 255, 255, 254), false },
	{ "no filter not outside", "bl.example", IP(10, 0, 0, 2), false },
	{ "range low", "z.example=127.0.0.[2..11]", IP(127, 0, 0, 2), true },
	{ "range high", "z.example=127.0.0.[2..11]", IP(127, 0, 0, 11), true },
	{ "range below", "z.example=127.0.0.[2..11]", IP(127, 0, 0, 1), false },
	{ "range above", "z.example=127.0.0.[2..11]", IP(127, 0, 0, 12),
	    false },
	{ "range other octet", "z.example=127.0.0.[2..11]", IP(127, 0, 1, 2),
	    false },
	{ "list 1", "z.example=127.0.0.[1;3;5..7]", IP(127, 0, 0, 3), true },
	{ "list 6", "z.example=127.0.0.[1;3;5..7]", IP(127, 0, 0, 6), true },
	{ "list 4", "z.example=127.0.0.[1;3;5..7]", IP(127, 0, 0, 4), false },
	{ "list 8", "z.example=127.0.0.[1;3;5..7]", IP(127, 0, 0, 8), false },
	{ "list .1 still ignored", "z.example=127.0.0.[1;3;5..7]",
	    IP(127, 0, 0, 1), false },
	{ "dnswl any class", "list.dnswl.org=127.0.[0..255].[1..3]",
	    IP(127, 0, 15, 3), true },
	{ "dnswl trust 0", "list.dnswl.org=127.0.[0..255].[1..3]",
	    IP(127, 0, 15, 0), false },
	{ "full range error excluded", "z.example=127.[0..255].[0..255].[0..255]",
	    IP(127, 0, 0, 255), false },
	{ "exact", "z.example=127.0.0.4", IP(127, 0, 0, 4), true },
	{ "exact other", "z.example=127.0.0.4", IP(127, 0, 0, 5), false },
};

static void
test_match(void **state)
{
	const struct match_case *c = *state;
	char err[256] = "";
	bool got;

	if (dnsbl_parse(c->entry, &sites, err, sizeof err) != 0)
		fail_msg("dnsbl_parse(\"%s\"): %s", c->entry, err);
	assert_int_equal(sites.nsites, 1);
	got = dnsbl_site_match(&sites.site[0], c->a);
	if (got != c->want)
		fail_msg("dnsbl_site_match(%s, %u.%u.%u.%u): got %d, want %d",
		    c->entry, c->a >> 24, (c->a >> 16) & 255, (c->a >> 8) & 255,
		    c->a & 255, got, c->want);
}

/* ---- scoring ---- */

#define MAXANS 4

struct score_case {
	const char *name;
	const char *value;
	const char *zone;		/* which zone's answers these are */
	uint32_t answers[MAXANS];
	size_t n;
	int score;
	int errors;
};

static const char dnswl[] =
    "list.dnswl.org=127.0.[0..255].0*-2 list.dnswl.org=127.0.[0..255].1*-3 "
    "list.dnswl.org=127.0.[0..255].[2..3]*-4 "
    "zen.spamhaus.org=127.0.0.[2..3]*3 zen.spamhaus.org=127.0.0.[10..11]*2 "
    "zen.spamhaus.org*1";

static const struct score_case score_cases[] = {
	{ "not listed", dnswl, "zen.spamhaus.org", { 0 }, 0, 0, 0 },
	{ "sbl", dnswl, "zen.spamhaus.org", { IP(127, 0, 0, 2) }, 1, 4, 0 },
	{ "pbl", dnswl, "zen.spamhaus.org", { IP(127, 0, 0, 11) }, 1, 3, 0 },
	{ "sbl and pbl", dnswl, "zen.spamhaus.org",
	    { IP(127, 0, 0, 2), IP(127, 0, 0, 10) }, 2, 6, 0 },
	{ "two answers one entry counted once", dnswl, "zen.spamhaus.org",
	    { IP(127, 0, 0, 2), IP(127, 0, 0, 3) }, 2, 4, 0 },
	{ "only catch-all", dnswl, "zen.spamhaus.org", { IP(127, 0, 0, 4) }, 1,
	    1, 0 },
	{ "error answer", dnswl, "zen.spamhaus.org",
	    { IP(127, 255, 255, 254) }, 1, 0, 1 },
	{ "error answers with listing", dnswl, "zen.spamhaus.org",
	    { IP(127, 255, 255, 252), IP(127, 0, 0, 2), IP(127, 0, 0, 255) },
	    3, 4, 2 },
	{ "loopback answer", dnswl, "zen.spamhaus.org", { IP(127, 0, 0, 1) },
	    1, 0, 0 },
	{ "outside answer", dnswl, "zen.spamhaus.org", { IP(192, 0, 2, 2) }, 1,
	    0, 0 },
	{ "dnswl low trust", dnswl, "list.dnswl.org", { IP(127, 0, 5, 0) }, 1,
	    -2, 0 },
	{ "dnswl high trust", dnswl, "list.dnswl.org", { IP(127, 0, 5, 3) }, 1,
	    -4, 0 },
	{ "dnswl two classes", dnswl, "list.dnswl.org",
	    { IP(127, 0, 5, 1), IP(127, 0, 9, 2) }, 2, -7, 0 },
	{ "dnswl .1 ignored", dnswl, "list.dnswl.org", { IP(127, 0, 0, 1) }, 1,
	    0, 0 },
};

static void
test_score(void **state)
{
	const struct score_case *c = *state;
	char err[256] = "";
	size_t z;
	int score, errors = -99;

	if (dnsbl_parse(c->value, &sites, err, sizeof err) != 0)
		fail_msg("dnsbl_parse: %s", err);
	for (z = 0; z < sites.nzones; z++)
		if (strcmp(sites.zone[z], c->zone) == 0)
			break;
	if (z == sites.nzones)
		fail_msg("zone %s not in the table", c->zone);
	score = dnsbl_score_zone(&sites, z, c->answers, c->n, &errors);
	if (score != c->score || errors != c->errors)
		fail_msg("dnsbl_score_zone(%s, %s): got score %d errors %d, "
		    "want score %d errors %d", c->zone, c->name, score, errors,
		    c->score, c->errors);
}

static void
test_score_edges(void **state)
{
	char err[256];
	uint32_t a = IP(127, 0, 0, 2);

	(void)state;
	assert_int_equal(dnsbl_parse("a.example*5 b.example*7", &sites, err,
	    sizeof err), 0);
	assert_int_equal(sites.nzones, 2);
	/* Zone index past the table: nothing counts, no crash. */
	assert_int_equal(dnsbl_score_zone(&sites, 2, &a, 1, NULL), 0);
	assert_int_equal(dnsbl_score_zone(&sites, 99, &a, 1, NULL), 0);
	/* Each zone scores only its own entries. */
	assert_int_equal(dnsbl_score_zone(&sites, 0, &a, 1, NULL), 5);
	assert_int_equal(dnsbl_score_zone(&sites, 1, &a, 1, NULL), 7);
	assert_int_equal(dnsbl_score_zone(&sites, 1, NULL, 0, NULL), 0);
	/* NULL value: no sites. */
	assert_int_equal(dnsbl_parse(NULL, &sites, err, sizeof err), 0);
	assert_int_equal(sites.nsites, 0);
	/* A tiny err buffer is still NUL-terminated and not overrun. */
	{
		char small[8];

		memset(small, 'x', sizeof small);
		assert_int_equal(dnsbl_parse("bad..x", &sites, small, 5), -1);
		assert_int_equal(strlen(small), 4);
		assert_int_equal(small[5], 'x');
	}
}

static void
test_entry_text(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(dnsbl_parse(" Zen.Spamhaus.ORG=127.0.0.[2..11]*3 ,",
	    &sites, err, sizeof err), 0);
	assert_string_equal(sites.site[0].text,
	    "Zen.Spamhaus.ORG=127.0.0.[2..11]*3");
	assert_string_equal(sites.zone[0], "zen.spamhaus.org");
}

int
main(void)
{
	static struct CMUnitTest t[256];
	static char names[256][96];
	size_t n = 0;

	CASES(good_cases, test_good);
	CASES(bad_cases, test_bad);
	CASES(kind_cases, test_kind);
	CASES(match_cases, test_match);
	CASES(score_cases, test_score);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_score_edges);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_entry_text);
	return _cmocka_run_group_tests("dnsbl", t, n, NULL, NULL);
}
