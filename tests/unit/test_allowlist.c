/*
 * test_allowlist.c - table-driven tests of allowlist.c: the line parser,
 * format round trip, add/del/prune, the merge for the kernel (no overlaps),
 * durations, comments, and save/load/lock on real files.
 *
 * Every table row becomes one named cmocka test, so a failure names its row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"

/* ---- parse ---- */

struct parse_case {
	const char *name;
	const char *text;
	int rc;			/* want from allowlist_parse */
	size_t n;		/* entries, when rc == 0 */
	const char *first;	/* first entry as "PREFIX exp COMMENT" */
	const char *err;	/* substring of err, when rc == -1 */
};

static const struct parse_case parse_cases[] = {
	{ "empty", "", 0, 0, NULL, NULL },
	{ "only comments", "# x\n\n   \n#y", 0, 0, NULL, NULL },
	{ "v4 host", "192.0.2.7\n", 0, 1, "192.0.2.7/32 0 ", NULL },
	{ "v4 prefix comment", "192.0.2.0/24 # partner relay\n", 0, 1,
	    "192.0.2.0/24 0 partner relay", NULL },
	{ "v6 prefix expiry", "2001:db8::/32 expires=1900000000 added=5 #x\n",
	    0, 1, "2001:db8::/32 1900000000 x", NULL },
	{ "no final newline", "198.51.100.0/24", 0, 1, "198.51.100.0/24 0 ",
	    NULL },
	{ "crlf", "198.51.100.1\r\n", 0, 1, "198.51.100.1/32 0 ", NULL },
	{ "mapped v6 becomes v4", "::ffff:192.0.2.0/120\n", 0, 1,
	    "192.0.2.0/24 0 ", NULL },
	{ "tabs", "\t192.0.2.1\texpires=7\t# a\tb\n", 0, 1,
	    "192.0.2.1/32 7 a b", NULL },
	{ "two entries", "192.0.2.1\n2001:db8::1\n", 0, 2,
	    "192.0.2.1/32 0 ", NULL },
	{ "not an address", "a\n", -1, 0, NULL, "x:1: not an address" },
	{ "host bits set", "192.0.2.1/24\n", -1, 0, NULL,
	    "x:1: host bits set" },
	{ "prefix too long", "192.0.2.0/33\n", -1, 0, NULL,
	    "x:1: prefix length" },
	{ "v6 prefix too long", "2001:db8::/129\n", -1, 0, NULL,
	    "prefix length" },
	{ "slash zero", "0.0.0.0/0\n", -1, 0, NULL, "allow everyone" },
	{ "duplicate", "192.0.2.1\n192.0.2.1/32\n", -1, 0, NULL,
	    "x:2: 192.0.2.1/32 is listed twice" },
	{ "bad expiry", "192.0.2.1 expires=soon\n", -1, 0, NULL,
	    "expires= wants" },
	{ "negative expiry", "192.0.2.1 expires=-5\n", -1, 0, NULL,
	    "expires= wants" },
	{ "repeated field", "192.0.2.1 expires=5 expires=6\n", -1, 0, NULL,
	    "unknown or repeated" },
	{ "unknown field", "192.0.2.1 foo\n", -1, 0, NULL,
	    "unknown or repeated" },
	{ "control char", "192.0.2.1 # a\033[31m\n", -1, 0, NULL,
	    "control character" },
	{ "nul byte", "192.0.2.1\0\n", -1, 0, NULL, "NUL byte" },
	{ "comment only hash", "  # fine\n#192.0.2.1\n", 0, 0, NULL, NULL },
	{ "line 3 fault", "192.0.2.1\n\n192.0.2.300\n", -1, 0, NULL,
	    "x:3: not an address" },
	{ "first of two repeats", "10.0.0.0/8\n192.0.2.1\n192.0.2.1\n"
	    "10.0.0.0/8\n", -1, 0, NULL, "x:3: 192.0.2.1/32 is listed twice" },
	{ "repeat before a fault", "192.0.2.1\n192.0.2.1\nbad\n", -1, 0,
	    NULL, "x:2: 192.0.2.1/32 is listed twice" },
	{ "fault before a repeat", "192.0.2.1\nbad\n192.0.2.1\n", -1, 0,
	    NULL, "x:2: not an address" },
	{ "same address, other length", "192.0.2.0/24\n192.0.2.0/25\n", 0, 2,
	    "192.0.2.0/24 0 ", NULL },
};

static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct allowlist l;
	char err[256] = "", got[256];
	size_t len = strlen(c->text);
	int rc;

	if (strcmp(c->name, "nul byte") == 0)
		len = 11;
	allowlist_init(&l);
	rc = allowlist_parse("x", c->text, len, &l, err, sizeof(err));
	if (rc != c->rc)
		fail_msg("%s: got rc %d (%s), want %d", c->name, rc, err,
		    c->rc);
	if (rc == 0) {
		if (l.n != c->n)
			fail_msg("%s: got %zu entries, want %zu", c->name,
			    l.n, c->n);
		if (c->first != NULL) {
			char a[ADDR_STRLEN];

			snprintf(got, sizeof(got), "%s/%u %lld %s",
			    addr_ntop(&l.e[0].p.a, a), l.e[0].p.len,
			    (long long)l.e[0].expires, l.e[0].comment);
			if (strcmp(got, c->first) != 0)
				fail_msg("%s: got \"%s\", want \"%s\"",
				    c->name, got, c->first);
		}
	} else {
		if (l.n != 0)
			fail_msg("%s: got %zu entries after a fault, want 0",
			    c->name, l.n);
		if (strstr(err, c->err) == NULL)
			fail_msg("%s: got err \"%s\", want it to hold \"%s\"",
			    c->name, err, c->err);
	}
	allowlist_free(&l);
}

/* ---- format round trip ---- */

static void
test_roundtrip(void **state)
{
	static const char text[] =
	    "192.0.2.0/24 expires=1900000000 added=1800000000 # partner\n"
	    "2001:db8:1::/48 # ipv6 relay, ticket 42\n"
	    "198.51.100.7\n";
	struct allowlist a, b;
	char err[256], *out, *out2;

	(void)state;
	allowlist_init(&a);
	allowlist_init(&b);
	assert_int_equal(allowlist_parse("in", text, sizeof(text) - 1, &a,
	    err, sizeof(err)), 0);
	out = allowlist_format(&a);
	assert_non_null(out);
	if (allowlist_parse("out", out, strlen(out), &b, err,
	    sizeof(err)) != 0)
		fail_msg("formatted text does not parse: %s\n%s", err, out);
	out2 = allowlist_format(&b);
	if (strcmp(out, out2) != 0)
		fail_msg("got second format\n%s\nwant\n%s", out2, out);
	if (strstr(out, "198.51.100.7/32\n") == NULL)
		fail_msg("got\n%s\nwant a canonical /32 line", out);
	free(out);
	free(out2);
	allowlist_free(&a);
	allowlist_free(&b);
}

/* ---- add, del, prune, covering ---- */

static struct allow_entry
entry(const char *p, int64_t exp, const char *comment)
{
	struct allow_entry e;

	memset(&e, 0, sizeof(e));
	if (prefix_parse(p, &e.p, NULL) != 0)
		fail_msg("test prefix %s does not parse", p);
	e.expires = exp;
	snprintf(e.comment, sizeof(e.comment), "%s", comment);
	return e;
}

static void
test_add_del(void **state)
{
	struct allowlist l;
	struct allow_entry e;
	bool replaced;

	(void)state;
	allowlist_init(&l);
	e = entry("192.0.2.0/24", 0, "one");
	assert_int_equal(allowlist_add(&l, &e, &replaced), 0);
	assert_false(replaced);
	e = entry("192.0.2.0/24", 99, "two");
	assert_int_equal(allowlist_add(&l, &e, &replaced), 0);
	if (!replaced || l.n != 1 || strcmp(l.e[0].comment, "two") != 0)
		fail_msg("re-add: got replaced=%d n=%zu comment=%s, want "
		    "1 1 two", replaced, l.n, l.e[0].comment);
	e = entry("192.0.2.7", 50, "");
	assert_int_equal(allowlist_add(&l, &e, &replaced), 0);
	if (allowlist_covering(&l, &e.p) != 0)
		fail_msg("got covering %zd, want 0",
		    allowlist_covering(&l, &e.p));
	if (allowlist_covering(&l, &l.e[0].p) != -1)
		fail_msg("a /24 is not covered by its own /32");
	e = entry("192.0.2.8", 0, "");
	if (allowlist_del(&l, &e.p) != -1)
		fail_msg("del of an absent entry: got 0, want -1");
	assert_int_equal(l.n, 2);
	if (allowlist_prune(&l, 60) != 1 || l.n != 1)
		fail_msg("prune at 60: got n=%zu, want 1", l.n);
	e = entry("192.0.2.0/24", 0, "");
	assert_int_equal(allowlist_del(&l, &e.p), 0);
	assert_int_equal(l.n, 0);
	allowlist_free(&l);
}

/* ---- wanted: loopback + trusted + entries, no overlaps ---- */

struct wanted_case {
	const char *name;
	const char *trusted[4];
	const char *entries[8];
	int64_t expires[8];
	int64_t now;
	const char *want;	/* the prefixes, space separated */
	int64_t next;
};

static const struct wanted_case wanted_cases[] = {
	{ "nothing", { NULL }, { NULL }, { 0 }, 100,
	    "127.0.0.0/8 ::1/128", 0 },
	{ "trusted and entries", { "192.0.2.0/28", NULL },
	    { "198.51.100.7", "2001:db8::/32", NULL }, { 0 }, 100,
	    "127.0.0.0/8 192.0.2.0/28 198.51.100.7/32 ::1/128 2001:db8::/32",
	    0 },
	{ "inside trusted", { "192.0.2.0/24", NULL },
	    { "192.0.2.7", "192.0.2.128/25", NULL }, { 0 }, 100,
	    "127.0.0.0/8 192.0.2.0/24 ::1/128", 0 },
	{ "entry covers trusted", { "192.0.2.0/28", NULL },
	    { "192.0.0.0/16", NULL }, { 0 }, 100,
	    "127.0.0.0/8 192.0.0.0/16 ::1/128", 0 },
	{ "nested chain", { NULL },
	    { "10.1.2.3", "10.1.0.0/16", "10.0.0.0/8", "10.1.2.0/24", NULL },
	    { 0 }, 100, "10.0.0.0/8 127.0.0.0/8 ::1/128", 0 },
	{ "neighbours stay apart", { NULL },
	    { "198.51.100.0/25", "198.51.100.128/25", NULL }, { 0 }, 100,
	    "127.0.0.0/8 198.51.100.0/25 198.51.100.128/25 ::1/128", 0 },
	{ "loopback entry", { NULL }, { "127.0.0.1", "::1", NULL }, { 0 },
	    100, "127.0.0.0/8 ::1/128", 0 },
	{ "expired dropped", { NULL },
	    { "198.51.100.1", "198.51.100.2", "198.51.100.3", NULL },
	    { 100, 300, 200 }, 100,
	    "127.0.0.0/8 198.51.100.2/32 198.51.100.3/32 ::1/128", 200 },
	{ "v6 nested", { "2001:db8:1::/48", NULL },
	    { "2001:db8:1:2::/64", "2001:db8::/32", "2001:db8:2::1", NULL },
	    { 0 }, 100, "127.0.0.0/8 ::1/128 2001:db8::/32", 0 },
};

static void
test_wanted(void **state)
{
	const struct wanted_case *c = *state;
	static struct conf_gate g;
	struct allowlist l;
	struct prefix out[16];
	char got[512] = "", a[ADDR_STRLEN];
	int64_t next = -1;
	ssize_t n;
	size_t i, off = 0;

	memset(&g, 0, sizeof(g));
	for (i = 0; c->trusted[i] != NULL; i++)
		assert_int_equal(prefix_parse(c->trusted[i], &g.trusted[i],
		    NULL), 0);
	g.ntrusted = i;
	allowlist_init(&l);
	for (i = 0; c->entries[i] != NULL; i++) {
		struct allow_entry e = entry(c->entries[i], c->expires[i], "");
		assert_int_equal(allowlist_add(&l, &e, NULL), 0);
	}
	n = allowlist_wanted(&l, &g, c->now, out, 16, &next);
	assert_true(n >= 0);
	for (i = 0; i < (size_t)n; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s/%u",
		    i ? " " : "", addr_ntop(&out[i].a, a), out[i].len);
	if (strcmp(got, c->want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", c->name, got, c->want);
	if (next != c->next)
		fail_msg("%s: got next expiry %lld, want %lld", c->name,
		    (long long)next, (long long)c->next);
	/* No two outputs overlap, whatever the case. */
	for (i = 0; i < (size_t)n; i++)
		for (size_t j = 0; j < (size_t)n; j++)
			if (i != j && out[i].a.family == out[j].a.family &&
			    out[i].len <= out[j].len &&
			    prefix_contains(&out[i], &out[j].a))
				fail_msg("%s: output %zu inside %zu", c->name,
				    j, i);
	if (allowlist_wanted(&l, &g, c->now, out, 1, NULL) != -1)
		fail_msg("%s: outcap 1: got a count, want -1", c->name);
	allowlist_free(&l);
}

/* ---- durations and comments ---- */

struct dur_case {
	const char *in;
	int rc;
	int64_t want;
};

static const struct dur_case dur_cases[] = {
	{ "90", 0, 90 }, { "90s", 0, 90 }, { "30m", 0, 1800 },
	{ "12h", 0, 43200 }, { "7d", 0, 604800 }, { "2w", 0, 1209600 },
	{ "0", -1, 0 }, { "", -1, 0 }, { "d", -1, 0 }, { "-5d", -1, 0 },
	{ "5y", -1, 0 }, { "1.5h", -1, 0 }, { "99999999999d", -1, 0 },
	{ "3000d", 0, 3000 * 86400 }, { "4000w", -1, 0 },
};

static void
test_duration(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		const struct dur_case *c = &dur_cases[i];
		int64_t v = 0;
		int rc = allowlist_duration_parse(c->in, &v);

		if (rc != c->rc || (rc == 0 && v != c->want))
			fail_msg("\"%s\": got rc %d value %lld, want %d %lld",
			    c->in, rc, (long long)v, c->rc,
			    (long long)c->want);
	}
}

static void
test_comment(void **state)
{
	char longc[ALLOWLIST_COMMENT_MAX + 1];

	(void)state;
	memset(longc, 'a', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	if (allowlist_comment_check("partner relay, ticket #42") != NULL)
		fail_msg("plain comment refused");
	if (allowlist_comment_check("bell\a") == NULL ||
	    allowlist_comment_check("new\nline") == NULL ||
	    allowlist_comment_check("del\x7f") == NULL ||
	    allowlist_comment_check(longc) == NULL)
		fail_msg("a control character or long comment was accepted");
	if (allowlist_comment_check("caf\xc3\xa9") != NULL)
		fail_msg("UTF-8 comment refused");
}

/* ---- files: save, load, missing, corrupt, lock ---- */

static void
test_files(void **state)
{
	char dir[] = "/tmp/test_allowlist.XXXXXX", path[128], err[512];
	struct allowlist l, m;
	struct allow_entry e;
	bool missing;
	int fd, fd2;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/allow.list", dir);
	allowlist_init(&l);
	allowlist_init(&m);
	if (allowlist_load(path, true, &missing, &l, err, sizeof(err)) != 0 ||
	    !missing || l.n != 0)
		fail_msg("missing file, missing_ok: got an error or entries");
	if (allowlist_load(path, false, NULL, &l, err, sizeof(err)) != -1 ||
	    errno != ENOENT || strstr(err, "open") == NULL)
		fail_msg("missing file: got \"%s\", want an open error", err);

	e = entry("198.51.100.0/24", 0, "a");
	assert_int_equal(allowlist_add(&l, &e, NULL), 0);
	if (allowlist_save(path, &l, err, sizeof(err)) != 0)
		fail_msg("save: %s", err);
	if (allowlist_load(path, false, &missing, &m, err, sizeof(err)) != 0 ||
	    missing || m.n != 1 || strcmp(m.e[0].comment, "a") != 0)
		fail_msg("load after save: got n=%zu (%s)", m.n, err);

	/* A corrupt file is refused and left as it is. */
	assert_non_null(f = fopen(path, "a"));
	fputs("198.51.100.300\n", f);
	fclose(f);
	if (allowlist_load(path, true, NULL, &m, err, sizeof(err)) != -1 ||
	    errno != EINVAL || strstr(err, ":4: not an address") == NULL ||
	    m.n != 0)
		fail_msg("corrupt: got \"%s\" n=%zu, want line 4 refused",
		    err, m.n);

	/* The lock is exclusive between descriptors. */
	fd = allowlist_lock(path, 100, err, sizeof(err));
	if (fd < 0)
		fail_msg("lock: %s", err);
	fd2 = allowlist_lock(path, 50, err, sizeof(err));
	if (fd2 != -1 || strstr(err, "locked") == NULL)
		fail_msg("second lock: got fd %d \"%s\", want refused", fd2,
		    err);
	close(fd);
	fd2 = allowlist_lock(path, 50, err, sizeof(err));
	if (fd2 < 0)
		fail_msg("lock after release: %s", err);
	close(fd2);

	/* Save into a directory that does not exist: error, no file. */
	snprintf(path, sizeof(path), "%s/none/allow.list", dir);
	if (allowlist_save(path, &l, err, sizeof(err)) != -1 ||
	    strstr(err, "create") == NULL)
		fail_msg("save into missing dir: got \"%s\"", err);

	/* A directory where the file goes: the rename fails, and the message
	 * names the rename, not a write; no temporary file is left. */
	snprintf(path, sizeof(path), "%s/isdir", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/isdir/x", dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/isdir", dir);
	if (allowlist_save(path, &l, err, sizeof(err)) != -1 ||
	    strstr(err, "allow list: rename into place ") == NULL ||
	    strstr(err, "/isdir.tmp.") == NULL ||
	    strstr(err, ": Is a directory") == NULL)
		fail_msg("save over a directory: got \"%s\", want \"allow "
		    "list: rename into place PATH.tmp.X: Is a directory\"", err);
	snprintf(path, sizeof(path), "ls %s | grep -q tmp", dir);
	if (system(path) == 0)
		fail_msg("save over a directory left its temporary file");

	allowlist_free(&l);
	allowlist_free(&m);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

/* ---- planted paths: what sits at the allow file's path instead ---- */

enum plant { P_FIFO, P_SYMLINK, P_DIR, P_DEVNULL_LINK };

struct plant_case {
	const char *name;
	enum plant what;
	int load_rc;		/* want from allowlist_load */
	const char *load_err;	/* substring of its err, when -1 */
	int import_rc;		/* want from allowlist_import_file */
};

static const struct plant_case plant_cases[] = {
	/* A FIFO blocked open(2) of old, and with it the daemon's loop. */
	{ "fifo is refused without blocking", P_FIFO, -1,
	    "not a regular file", -1 },
	{ "symlink to a good list is not followed", P_SYMLINK, -1,
	    "a symbolic link (not followed)", 0 },
	{ "directory is refused", P_DIR, -1, "not a regular file", -1 },
	{ "symlink to /dev/null is not followed", P_DEVNULL_LINK, -1,
	    "a symbolic link", -1 },
};

static void
test_planted(void **state)
{
	const struct plant_case *k = *state;
	char dir[] = "/tmp/test_allowlist.XXXXXX", path[128], good[128];
	char err[512] = "", cmd[160];
	struct allowlist l;
	FILE *f;
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/allow.list", dir);
	snprintf(good, sizeof(good), "%s/good.list", dir);
	allowlist_init(&l);
	assert_non_null(f = fopen(good, "w"));
	fputs("192.0.2.1\n", f);
	fclose(f);
	switch (k->what) {
	case P_FIFO:
		assert_int_equal(mkfifo(path, 0600), 0);
		break;
	case P_SYMLINK:
		assert_int_equal(symlink(good, path), 0);
		break;
	case P_DIR:
		assert_int_equal(mkdir(path, 0700), 0);
		break;
	case P_DEVNULL_LINK:
		assert_int_equal(symlink("/dev/null", path), 0);
		break;
	}
	/* Blocking is the fault: the alarm ends the test if it happens. */
	alarm(5);
	rc = allowlist_load(path, true, NULL, &l, err, sizeof(err));
	if (rc != k->load_rc || (k->load_err != NULL &&
	    strstr(err, k->load_err) == NULL))
		fail_msg("%s: load got %d \"%s\", want %d \"%s\"", k->name, rc,
		    err, k->load_rc, k->load_err ? k->load_err : "");
	err[0] = '\0';
	rc = allowlist_import_file(path, &l, err, sizeof(err));
	if (rc != k->import_rc || (rc == 0 && l.n != 1))
		fail_msg("%s: import got %d \"%s\" n=%zu, want %d", k->name, rc,
		    err, l.n, k->import_rc);
	alarm(0);
	allowlist_free(&l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- large lists: 100,000 entries, repeats, merge ---- */

/* n /24s from 11.0.0.0, every other one, as bench/scale.sh writes them. */
static char *
big_text(size_t n, size_t *len)
{
	char *t = malloc(n * 24 + 1);
	size_t off = 0;

	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = (11u << 24) + (uint32_t)i * 512;

		off += (size_t)sprintf(t + off, "%u.%u.%u.0/24\n", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255);
	}
	*len = off;
	return t;
}

static void
test_large(void **state)
{
	struct allowlist l, in;
	char err[256] = "", *t;
	size_t len, added, updated;

	(void)state;
	t = big_text(100000, &len);
	allowlist_init(&l);
	if (allowlist_parse("big", t, len, &l, err, sizeof(err)) != 0 ||
	    l.n != 100000)
		fail_msg("100,000 /24s: got n=%zu \"%s\", want 100000", l.n,
		    err);
	/* A repeat of line 1 at the last line. */
	while (len > 0 && t[len - 1] == '\n')
		len--;
	while (len > 0 && t[len - 1] != '\n')
		len--;
	memcpy(t + len, "11.0.0.0/24\n", 12);
	len += 12;
	if (allowlist_parse("big", t, len, &l, err, sizeof(err)) != -1 ||
	    strstr(err, "big:100000: 11.0.0.0/24 is listed twice") == NULL)
		fail_msg("repeat at the last line: got \"%s\"", err);
	free(t);

	/* Merge: 3 of 4 new, one updated in place, order kept. */
	t = big_text(50000, &len);
	assert_int_equal(allowlist_parse("l", t, len, &l, err, sizeof(err)),
	    0);
	free(t);
	allowlist_init(&in);
	assert_int_equal(allowlist_parse("in", "11.0.2.0/24 # again\n"
	    "192.0.2.0/24\n2001:db8::/32\n10.0.0.0/8\n", 58, &in, err,
	    sizeof(err)), 0);
	assert_int_equal(allowlist_merge(&l, &in, &added, &updated), 0);
	if (added != 3 || updated != 1 || l.n != 50003)
		fail_msg("merge: got added %zu updated %zu n %zu, want 3 1 "
		    "50003", added, updated, l.n);
	if (strcmp(l.e[1].comment, "again") != 0 || l.e[50000].p.len != 24 ||
	    l.e[50002].p.len != 8)
		fail_msg("merge: entry 1 comment \"%s\", appended lengths %u "
		    "%u: want \"again\" 24 8", l.e[1].comment,
		    l.e[50000].p.len, l.e[50002].p.len);
	/* Again: all four are updates now. */
	assert_int_equal(allowlist_merge(&l, &in, &added, &updated), 0);
	if (added != 0 || updated != 4 || l.n != 50003)
		fail_msg("merge again: got added %zu updated %zu n %zu, want "
		    "0 4 50003", added, updated, l.n);
	allowlist_free(&in);
	allowlist_free(&l);
}

int
main(void)
{
	struct CMUnitTest t[64];
	size_t n = 0, i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ parse_cases[i].name, test_parse,
		    NULL, NULL, (void *)&parse_cases[i] };
	for (i = 0; i < sizeof(wanted_cases) / sizeof(wanted_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ wanted_cases[i].name,
		    test_wanted, NULL, NULL, (void *)&wanted_cases[i] };
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_roundtrip);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_add_del);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_duration);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_comment);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_files);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_large);
	for (i = 0; i < sizeof(plant_cases) / sizeof(plant_cases[0]); i++)
		t[n++] = (struct CMUnitTest){ plant_cases[i].name,
		    test_planted, NULL, NULL, (void *)&plant_cases[i] };
	return _cmocka_run_group_tests("allowlist", t, n, NULL, NULL);
}
