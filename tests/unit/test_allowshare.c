/*
 * test_allowshare.c - table-driven tests of allowshare.c: the diff of two
 * loads of the allow file, the bounds of a shared entry, set/del keeping
 * the list sorted, the file's parser (hostile lines) and a save/load
 * round trip on a real file.
 *
 * Every table row becomes one named cmocka test, so a failure names its row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowlist.h"
#include "allowshare.h"
#include "conf.h"

/* "a b c" into sorted prefixes; the count. */
static size_t
prefixes(const char *text, struct prefix *out, size_t cap)
{
	char buf[512], *tok, *save;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_true(n < cap);
		assert_int_equal(prefix_parse(tok, &out[n++], NULL), 0);
	}
	qsort(out, n, sizeof(out[0]), prefix_cmp);
	return n;
}

static void
joined(const struct prefix *p, size_t n, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%u",
		    i ? " " : "", addr_ntop(&p[i].a, a), p[i].len);
}

/* ---- diff ---- */

struct diff_case {
	const char *name;
	const char *old, *cur;
	const char *added, *removed;	/* in prefix_cmp order */
};

static const struct diff_case diff_cases[] = {
	{ "both empty", "", "", "", "" },
	{ "first load", "", "192.0.2.0/24 2001:db8::/32",
	    "192.0.2.0/24 2001:db8::/32", "" },
	{ "all gone", "192.0.2.0/24 198.51.100.7/32", "", "",
	    "192.0.2.0/24 198.51.100.7/32" },
	{ "unchanged", "192.0.2.0/24 2001:db8::/32",
	    "2001:db8::/32 192.0.2.0/24", "", "" },
	{ "one added one removed", "192.0.2.0/24 203.0.113.0/24",
	    "192.0.2.0/24 198.51.100.0/24", "198.51.100.0/24",
	    "203.0.113.0/24" },
	{ "length differs", "192.0.2.0/24", "192.0.2.0/25", "192.0.2.0/25",
	    "192.0.2.0/24" },
	{ "families apart", "2001:db8::/32", "192.0.2.0/24", "192.0.2.0/24",
	    "2001:db8::/32" },
	{ "interleaved", "10.0.0.0/8 10.2.0.0/16 10.4.0.0/16",
	    "10.1.0.0/16 10.2.0.0/16 10.5.0.0/16",
	    "10.1.0.0/16 10.5.0.0/16", "10.0.0.0/8 10.4.0.0/16" },
};

static void
test_diff(void **state)
{
	const struct diff_case *c = *state;
	struct prefix old[8], cur[8], add[8], del[8];
	size_t no = prefixes(c->old, old, 8), nc = prefixes(c->cur, cur, 8);
	size_t na, nd;
	char got[512];

	allowshare_diff(old, no, cur, nc, add, &na, del, &nd);
	joined(add, na, got, sizeof(got));
	if (strcmp(got, c->added) != 0)
		fail_msg("%s: added: got \"%s\", want \"%s\"", c->name, got,
		    c->added);
	joined(del, nd, got, sizeof(got));
	if (strcmp(got, c->removed) != 0)
		fail_msg("%s: removed: got \"%s\", want \"%s\"", c->name, got,
		    c->removed);
}

/* ---- bounds ---- */

struct check_case {
	const char *name;
	const char *prefix;
	const char *why;		/* NULL: may be shared */
};

static const struct check_case check_cases[] = {
	{ "v4 /8", "10.0.0.0/8", NULL },
	{ "v4 /7", "10.0.0.0/7", "wider than /8" },
	{ "v4 /1", "128.0.0.0/1", "wider than /8" },
	{ "v4 host", "192.0.2.7", NULL },
	{ "v6 /16", "2001::/16", NULL },
	{ "v6 /15", "2000::/15", "wider than /16" },
	{ "v6 /3", "2000::/3", "wider than /16" },
	{ "v6 host", "2001:db8::25", NULL },
};

static void
test_check(void **state)
{
	const struct check_case *c = *state;
	struct prefix p;
	const char *why;

	assert_int_equal(prefix_parse(c->prefix, &p, NULL), 0);
	why = allowshare_check(&p);
	if ((why == NULL) != (c->why == NULL) || (why != NULL &&
	    strcmp(why, c->why) != 0))
		fail_msg("%s: got %s, want %s", c->name, why ? why : "NULL",
		    c->why ? c->why : "NULL");
}

/* ---- parse ---- */

struct parse_case {
	const char *name;
	const char *text;
	int rc;
	size_t n;
	const char *err;		/* substring, when rc == -1 */
};

static const struct parse_case parse_cases[] = {
	{ "empty", "", 0, 0, NULL },
	{ "comments", "# x\n\n#y\n", 0, 0, NULL },
	{ "two", "192.0.2.0/24 mx2\n2001:db8::/32 mx-3.site\n", 0, 2, NULL },
	{ "no final newline", "192.0.2.0/24 a", 0, 1, NULL },
	{ "no node", "192.0.2.0/24\n", -1, 0, "x:1: want PREFIX NODE" },
	{ "empty node", "192.0.2.0/24 \n", -1, 0, "x:1: bad node name" },
	{ "node with space", "192.0.2.0/24 a b\n", -1, 0,
	    "x:1: bad node name" },
	{ "node too long", "192.0.2.0/24 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    -1, 0, "x:1: bad node name" },
	{ "host bits", "192.0.2.1/24 a\n", -1, 0, "x:1: host bits set" },
	{ "too wide", "0.0.0.0/0 a\n", -1, 0, "x:1: wider than /8" },
	{ "twice", "192.0.2.0/24 a\n192.0.2.0/24 b\n", -1, 0,
	    "x:2: prefix listed twice" },
	{ "nul", "192.0.2.0/24 a\0b\n", -1, 0, "x:1: NUL byte" },
	{ "long line", "192.0.2.0/24 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", -1, 0,
	    "x:1: line too long" },
};

static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct allowshare s;
	char err[256] = "";
	size_t len = strlen(c->text);
	int rc;

	if (strcmp(c->name, "nul") == 0)
		len = sizeof("192.0.2.0/24 a\0b\n") - 1;
	allowshare_init(&s);
	rc = allowshare_parse("x", c->text, len, &s, err, sizeof(err));
	if (rc != c->rc)
		fail_msg("%s: rc got %d, want %d (%s)", c->name, rc, c->rc,
		    err);
	if (rc == 0 && s.n != c->n)
		fail_msg("%s: entries got %zu, want %zu", c->name, s.n, c->n);
	if (rc == -1 && strstr(err, c->err) == NULL)
		fail_msg("%s: err got \"%s\", want \"%s\"", c->name, err,
		    c->err);
	allowshare_free(&s);
}

/* ---- set, del, format, files ---- */

static void
test_set_del(void **state)
{
	struct allowshare s;
	struct prefix p[4];
	char *text;

	(void)state;
	allowshare_init(&s);
	assert_int_equal(prefixes("2001:db8::/32", &p[0], 1), 1);
	assert_int_equal(prefixes("198.51.100.0/24", &p[1], 1), 1);
	assert_int_equal(prefixes("192.0.2.0/24", &p[2], 1), 1);
	assert_int_equal(prefixes("2.0.0.0/7", &p[3], 1), 1);
	assert_int_equal(allowshare_set(&s, &p[0], "a"), 1);
	assert_int_equal(allowshare_set(&s, &p[1], "b"), 1);
	assert_int_equal(allowshare_set(&s, &p[2], "a"), 1);
	assert_int_equal(allowshare_set(&s, &p[1], "c"), 0);	/* node now c */
	assert_int_equal(allowshare_set(&s, &p[3], "a"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(allowshare_set(&s, &p[2], "bad node"), -1);
	assert_int_equal(s.n, 3);
	text = allowshare_format(&s);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n192.0.2.0/24 a\n198.51.100.0/24 c\n"
	    "2001:db8::/32 a\n"));
	free(text);
	assert_int_equal(allowshare_find(&s, &p[1]), 1);
	assert_int_equal(allowshare_del(&s, &p[1]), 0);
	assert_int_equal(allowshare_del(&s, &p[1]), -1);
	assert_int_equal(allowshare_find(&s, &p[1]), -1);
	assert_int_equal(allowshare_find(&s, &p[0]), 1);
	assert_int_equal(s.n, 2);
	allowshare_free(&s);
}

static void
test_full(void **state)
{
	struct allowshare s;
	struct prefix p;
	int rc = 0;

	(void)state;
	allowshare_init(&s);
	assert_int_equal(prefix_parse("10.0.0.0/32", &p, NULL), 0);
	for (unsigned i = 0; i < ALLOWLIST_MAX && rc != -1; i++) {
		p.a.b[1] = (uint8_t)(i >> 16);
		p.a.b[2] = (uint8_t)(i >> 8);
		p.a.b[3] = (uint8_t)i;
		rc = allowshare_set(&s, &p, "a");
	}
	assert_int_equal(rc, 1);
	assert_int_equal(s.n, ALLOWLIST_MAX);
	p.a.b[0] = 11;
	assert_int_equal(allowshare_set(&s, &p, "a"), -1);
	assert_int_equal(errno, E2BIG);
	allowshare_free(&s);
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/test_allowshare.XXXXXX", path[64], err[512];
	struct allowshare s, t;
	struct prefix p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, ALLOWSHARE_FILE);
	allowshare_init(&s);
	allowshare_init(&t);
	/* Missing: empty. */
	assert_int_equal(allowshare_load(path, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(prefix_parse("192.0.2.0/24", &p, NULL), 0);
	assert_int_equal(allowshare_set(&s, &p, "mx1"), 1);
	assert_int_equal(prefix_parse("2001:db8:7::/48", &p, NULL), 0);
	assert_int_equal(allowshare_set(&s, &p, "mx2"), 1);
	assert_int_equal(allowshare_save(path, &s, err, sizeof(err)), 0);
	assert_int_equal(allowshare_load(path, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.e[1].node, "mx2");
	assert_int_equal(allowshare_find(&t, &p), 1);
	/* A symbolic link is not followed. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(allowshare_load(path, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "open"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	allowshare_free(&s);
	allowshare_free(&t);
}

/* The union for allowlist_wanted: a shared prefix inside a local one
 * merges away, the others stand beside the file's. */
static void
test_union(void **state)
{
	static struct conf_gate g;	/* no trusted networks */
	struct allowlist l, u;
	struct allowshare s;
	struct prefix p, want[16];
	char err[256], got[512];
	ssize_t n;

	(void)state;
	allowlist_init(&l);
	allowlist_init(&u);
	allowshare_init(&s);
	assert_int_equal(allowlist_parse("x", "192.0.2.0/24\n"
	    "198.51.100.0/24 expires=100\n", 41, &l, err, sizeof(err)), 0);
	assert_int_equal(prefix_parse("192.0.2.128/25", &p, NULL), 0);
	assert_int_equal(allowshare_set(&s, &p, "b"), 1);
	assert_int_equal(prefix_parse("203.0.113.0/24", &p, NULL), 0);
	assert_int_equal(allowshare_set(&s, &p, "b"), 1);
	assert_int_equal(allowshare_union(&l, s.e, s.n, &u), 0);
	assert_int_equal(u.n, 4);
	n = allowlist_wanted(&u, &g, 200, want, 16, NULL);
	assert_true(n > 0);
	joined(want, (size_t)n, got, sizeof(got));
	assert_string_equal(got, "127.0.0.0/8 192.0.2.0/24 203.0.113.0/24 "
	    "::1/128");
	allowlist_free(&u);
	allowlist_free(&l);
	allowshare_free(&s);
}

static void
test_path(void **state)
{
	static struct conf c;
	char buf[64];

	(void)state;
	snprintf(c.sniffer.state_file, sizeof(c.sniffer.state_file),
	    "/var/lib/smtpgate/sniffer.state");
	assert_int_equal(allowshare_path(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/smtpgate/allow.shared");
	assert_int_equal(allowshare_path(&c, buf, 20), -1);
}

/* A resync's marks: unseen at begin, seen as delivered; at done the
 * siblings' unseen entries go, and this node's prefixes no seen entry
 * holds are told. */
static void
test_sweep(void **state)
{
	struct allowshare s;
	struct allowshare_entry gone[4];
	struct prefix p[5], mine[3], out[3];
	char got[256];
	size_t n, nmine;

	(void)state;
	allowshare_init(&s);
	assert_int_equal(prefixes("192.0.2.0/24", &p[0], 1), 1);
	assert_int_equal(prefixes("198.51.100.0/24", &p[1], 1), 1);
	assert_int_equal(prefixes("203.0.113.0/24", &p[2], 1), 1);
	assert_int_equal(prefixes("2001:db8::/32", &p[3], 1), 1);
	assert_int_equal(prefixes("10.9.0.0/16", &p[4], 1), 1);
	assert_int_equal(allowshare_set(&s, &p[0], "a"), 1);	/* own */
	assert_int_equal(allowshare_set(&s, &p[1], "b"), 1);
	assert_int_equal(allowshare_set(&s, &p[2], "c"), 1);
	assert_int_equal(allowshare_set(&s, &p[3], "a"), 1);	/* own */
	assert_int_equal(allowshare_set(&s, &p[4], "b"), 1);	/* mine too */
	allowshare_see(&s, &p[0]);
	allowshare_unsee(&s);
	for (size_t i = 0; i < s.n; i++)
		assert_false(s.e[i].seen);
	/* Delivered: b's 198.51.100.0/24 and a's 2001:db8::/32. */
	assert_int_equal(allowshare_see(&s, &p[1]), 0);
	assert_int_equal(allowshare_see(&s, &p[3]), 0);
	assert_int_equal(prefixes("100.64.0.0/10", &mine[0], 1), 1);
	assert_int_equal(allowshare_see(&s, &mine[0]), -1);	/* not in s */
	n = allowshare_sweep(&s, "a", gone, 4);
	assert_int_equal(n, 2);			/* c's and b's 10.9/16 */
	assert_int_equal(s.n, 3);
	assert_int_equal(allowshare_find(&s, &p[2]), -1);
	assert_int_equal(allowshare_find(&s, &p[4]), -1);
	assert_true(allowshare_find(&s, &p[0]) >= 0);	/* own: kept */
	joined(&gone[0].p, 1, got, sizeof(got));
	assert_string_equal(got, "10.9.0.0/16");
	assert_string_equal(gone[0].node, "b");
	assert_string_equal(gone[1].node, "c");
	/* Sorted still. */
	for (size_t i = 1; i < s.n; i++)
		assert_true(prefix_cmp(&s.e[i - 1].p, &s.e[i].p) < 0);
	nmine = prefixes("192.0.2.0/24 2001:db8::/32 10.9.0.0/16", mine, 3);
	n = allowshare_unheld(&s, mine, nmine, out);
	joined(out, n, got, sizeof(got));
	assert_string_equal(got, "10.9.0.0/16 192.0.2.0/24");
	/* No room to copy: removed all the same. */
	allowshare_unsee(&s);
	assert_int_equal(allowshare_set(&s, &p[2], "c"), 1);
	assert_int_equal(allowshare_sweep(&s, "b", gone, 0), 3);
	assert_int_equal(s.n, 1);		/* b's own kept */
	assert_string_equal(s.e[0].node, "b");
	allowshare_free(&s);
}

int
main(void)
{
	struct CMUnitTest t[64];
	size_t n = 0, i;

	for (i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ diff_cases[i].name, test_diff,
		    NULL, NULL, (void *)&diff_cases[i] };
	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ check_cases[i].name, test_check,
		    NULL, NULL, (void *)&check_cases[i] };
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ parse_cases[i].name, test_parse,
		    NULL, NULL, (void *)&parse_cases[i] };
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_set_del);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_full);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_files);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_union);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_path);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_sweep);
	assert_true(n <= sizeof(t) / sizeof(t[0]));
	return _cmocka_run_group_tests("allowshare", t, n, NULL, NULL);
}
