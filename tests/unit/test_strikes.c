/*
 * test_strikes.c - strike and ban arithmetic, record expiry, and the state
 * file (format, parse, atomic save, load of good and bad files).
 *
 * The arithmetic table is a script of strikes for one address at given
 * times, each with the outcome, count and timeout it must give, under
 * strikes=2, window=100 s, timeout=10 s, timeout_max=35 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "strikes.h"

static const struct strikes_cfg cfg = { 2, 100, 10, 35, false };
static const struct strikes_cfg observe_cfg = { 2, 100, 10, 35, true };

struct step {
	int64_t t;			/* -1 ends the script */
	enum strikes_outcome want;
	uint32_t count, timeout;
};

struct script {
	const char *name;
	struct step steps[12];
	bool observe;			/* under observe_cfg */
};

#define T0	1763900000
#define END	{ -1, 0, 0, 0 }

static const struct script scripts[] = {
	{ "one strike", { { T0, STRIKES_COUNTED, 1, 0 }, END }, false },
	{ "two strikes ban", { { T0, STRIKES_COUNTED, 1, 0 },
	    { T0 + 5, STRIKES_BANNED, 2, 10 }, END }, false },
	{ "window passes, strikes start over", {
	    { T0, STRIKES_COUNTED, 1, 0 }, { T0 + 100, STRIKES_COUNTED, 1, 0 },
	    { T0 + 150, STRIKES_BANNED, 2, 10 }, END }, false },
	{ "banned: not struck, remaining told", {
	    { T0, STRIKES_COUNTED, 1, 0 }, { T0 + 1, STRIKES_BANNED, 2, 10 },
	    { T0 + 4, STRIKES_ALREADY_BANNED, 0, 7 }, END }, false },
	{ "doubling up to the cap", {
	    { T0, STRIKES_COUNTED, 1, 0 }, { T0, STRIKES_BANNED, 2, 10 },
	    { T0 + 10, STRIKES_COUNTED, 1, 0 },
	    { T0 + 11, STRIKES_BANNED, 2, 20 },
	    { T0 + 31, STRIKES_COUNTED, 1, 0 },
	    { T0 + 31, STRIKES_BANNED, 2, 35 },
	    { T0 + 66, STRIKES_COUNTED, 1, 0 },
	    { T0 + 67, STRIKES_BANNED, 2, 35 }, END }, false },
	{ "strikes after a ban start at one", {
	    { T0, STRIKES_COUNTED, 1, 0 }, { T0, STRIKES_BANNED, 2, 10 },
	    { T0 + 10, STRIKES_COUNTED, 1, 0 }, END }, false },
	/* Observe mode: the would-be ban is told, never made, and does not
	 * double: each is the first ban's length, and nothing is "already
	 * banned" after it. */
	{ "observe: would ban, strikes start over, no doubling", {
	    { T0, STRIKES_COUNTED, 1, 0 }, { T0 + 1, STRIKES_WOULD_BAN, 2, 10 },
	    { T0 + 2, STRIKES_COUNTED, 1, 0 },
	    { T0 + 3, STRIKES_WOULD_BAN, 2, 10 }, END }, true },
};

static void
test_script(void **state)
{
	const struct script *k = *state;
	struct strikes *t = strikes_new();
	struct addr a;
	uint32_t count, timeout;

	assert_non_null(t);
	assert_int_equal(addr_parse("198.51.100.7", &a), 0);
	for (size_t i = 0; k->steps[i].t != -1; i++) {
		const struct step *s = &k->steps[i];
		enum strikes_outcome o = strikes_add(t, &a, RULE_UNQUALIFIED,
		    s->t, k->observe ? &observe_cfg : &cfg, &count, &timeout);

		if (o != s->want || count != s->count || timeout != s->timeout)
			fail_msg("%s: step %zu: got outcome %d count %u "
			    "timeout %u, want %d %u %u", k->name, i, o, count,
			    timeout, s->want, s->count, s->timeout);
	}
	strikes_free(t);
}

static void
test_timeout(void **state)
{
	static const struct { uint32_t bans, want; } c[] = {
		{ 0, 10 }, { 1, 20 }, { 2, 35 }, { 3, 35 }, { 40, 35 },
		{ UINT32_MAX, 35 },
	};
	struct strikes_cfg big = { 2, 3600, 3600, 7 * 86400, false };

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (strikes_timeout(&cfg, c[i].bans) != c[i].want)
			fail_msg("bans %u: got %u, want %u", c[i].bans,
			    strikes_timeout(&cfg, c[i].bans), c[i].want);
	/* Defaults: 1 h, 2 h, ... capped at 7 days (168 h). */
	assert_int_equal(strikes_timeout(&big, 7), 128 * 3600);
	assert_int_equal(strikes_timeout(&big, 8), 7 * 86400);
}

static void
test_expire(void **state)
{
	struct strikes *t = strikes_new();
	struct addr a, b;
	uint32_t n, to;

	(void)state;
	assert_int_equal(addr_parse("198.51.100.7", &a), 0);
	assert_int_equal(addr_parse("2001:db8::7", &b), 0);
	strikes_add(t, &a, RULE_BARE_IP, T0, &cfg, &n, &to);
	strikes_add(t, &b, RULE_BARE_IP, T0 + 80, &cfg, &n, &to);
	/* ban of 10 s, until T0 + 90 */
	strikes_add(t, &b, RULE_BARE_IP, T0 + 80, &cfg, &n, &to);
	assert_int_equal(strikes_expire(t, T0 + 99, &cfg), 0);
	/* a's strike left the window; b's ban memory lasts 35 s past it. */
	assert_int_equal(strikes_expire(t, T0 + 100, &cfg), 1);
	assert_null(strikes_find(t, &a));
	assert_non_null(strikes_find(t, &b));
	assert_int_equal(strikes_expire(t, T0 + 90 + 34, &cfg), 0);
	assert_int_equal(strikes_expire(t, T0 + 90 + 35, &cfg), 1);
	assert_int_equal(strikes_count(t), 0);
	strikes_free(t);
}

/* Observe mode: a would-be ban leaves no ban in the record, so the record
 * expires with its window like one that never banned. */
static void
test_observe_record(void **state)
{
	struct strikes *t = strikes_new();
	const struct strikes_rec *r;
	struct addr a;
	uint32_t n, to;

	(void)state;
	assert_int_equal(addr_parse("198.51.100.8", &a), 0);
	strikes_add(t, &a, RULE_BARE_IP, T0, &observe_cfg, &n, &to);
	assert_int_equal(strikes_add(t, &a, RULE_BARE_IP, T0 + 1,
	    &observe_cfg, &n, &to), STRIKES_WOULD_BAN);
	r = strikes_find(t, &a);
	assert_non_null(r);
	if (r->strikes != 0 || r->bans != 0 || r->banned_until != 0)
		fail_msg("got strikes=%u bans=%u banned_until=%lld, want 0 0 0",
		    r->strikes, r->bans, (long long)r->banned_until);
	/* enforce = yes later: the next strikes ban as a first ban. */
	strikes_add(t, &a, RULE_BARE_IP, T0 + 2, &cfg, &n, &to);
	assert_int_equal(strikes_add(t, &a, RULE_BARE_IP, T0 + 3, &cfg, &n,
	    &to), STRIKES_BANNED);
	assert_int_equal(to, 10);
	strikes_forget_all(t, NULL, NULL);
	/* Left alone, the record goes with its window. */
	strikes_add(t, &a, RULE_BARE_IP, T0, &observe_cfg, &n, &to);
	strikes_add(t, &a, RULE_BARE_IP, T0, &observe_cfg, &n, &to);
	assert_int_equal(strikes_expire(t, T0 + 1, &cfg), 1);
	assert_int_equal(strikes_count(t), 0);
	strikes_free(t);
}

/* The sniffer walks a sixtieth of the table each second: the sixty parts
 * together expire what one whole walk does, each record once. */
static void
test_expire_parts(void **state)
{
	struct strikes *t = strikes_new();
	uint32_t n, to;
	size_t gone = 0;

	(void)state;
	for (uint32_t i = 0; i < 5000; i++) {
		struct addr a;
		uint8_t b4[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
		    (uint8_t)i };

		addr_from_v4(&a, b4);
		strikes_add(t, &a, RULE_BARE_IP, i % 2 ? T0 : T0 + 50, &cfg, &n,
		    &to);
	}
	for (unsigned p = 0; p < 60; p++)
		gone += strikes_expire_part(t, T0 + 120, &cfg, p, 60);
	if (gone != 2500 || strikes_count(t) != 2500)
		fail_msg("got %zu expired, %zu left; want 2500 and 2500", gone,
		    strikes_count(t));
	if (strikes_expire_part(t, T0 + 120, &cfg, 60, 60) != 0)
		fail_msg("a part past the last walked something");
	strikes_free(t);
}

struct parse_case {
	const char *name, *line, *why;	/* why NULL: must parse */
};

static const struct parse_case parse_cases[] = {
	{ "good v4", "ip=198.51.100.7 strikes=1 first=1763900000 "
	    "last=1763900100 rule=unqualified bans=2 banned_until=1763903700",
	    NULL },
	{ "good v6", "ip=2001:db8::7 strikes=0 first=0 last=0 "
	    "rule=mail-from-no-domain bans=0 banned_until=0", NULL },
	{ "unknown rule", "ip=192.0.2.1 strikes=1 first=1 last=1 rule=nope "
	    "bans=0 banned_until=0", "unknown rule" },
	{ "bad ip", "ip=192.0.2 strikes=1 first=1 last=1 rule=bare-ip "
	    "bans=0 banned_until=0", "bad ip" },
	{ "negative", "ip=192.0.2.1 strikes=-1 first=1 last=1 rule=bare-ip "
	    "bans=0 banned_until=0", "bad number" },
	{ "huge", "ip=192.0.2.1 strikes=99999999999 first=1 last=1 "
	    "rule=bare-ip bans=0 banned_until=0", "bad number" },
	{ "missing field", "ip=192.0.2.1 strikes=1 first=1 last=1 "
	    "rule=bare-ip bans=0", "missing fields" },
	{ "trailing field", "ip=192.0.2.1 strikes=1 first=1 last=1 "
	    "rule=bare-ip bans=0 banned_until=0 x=1", "trailing fields" },
	{ "order", "strikes=1 ip=192.0.2.1 first=1 last=1 rule=bare-ip "
	    "bans=0 banned_until=0", "fields out of order or unknown" },
	{ "empty", "", "missing fields" },
};

static void
test_parse(void **state)
{
	const struct parse_case *k = *state;
	struct strikes_rec r;
	const char *why = NULL;
	char back[STRIKES_LINE_MAX];
	int rc = strikes_parse(k->line, &r, &why);

	if (k->why == NULL) {
		if (rc != 0)
			fail_msg("%s: got error \"%s\", want ok", k->name, why);
		strikes_format(&r, back, sizeof(back));
		if (strcmp(back, k->line) != 0)
			fail_msg("%s: round trip got \"%s\", want \"%s\"",
			    k->name, back, k->line);
	} else if (rc != -1 || why == NULL || strcmp(why, k->why) != 0) {
		fail_msg("%s: got %d \"%s\", want error \"%s\"", k->name, rc,
		    why ? why : "", k->why);
	}
}

static void
test_save_load(void **state)
{
	char dir[] = "/tmp/test_strikes.XXXXXX", path[64], tmp[80];
	char err[512];
	struct strikes *t = strikes_new(), *u = strikes_new();
	struct addr a, b;
	uint32_t n, to;
	size_t bad;
	FILE *f;
	const struct strikes_rec *r;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);	/* the old fixed name */
	assert_int_equal(addr_parse("198.51.100.7", &a), 0);
	assert_int_equal(addr_parse("2001:db8::7", &b), 0);
	strikes_add(t, &a, RULE_SPF_FAIL, T0, &cfg, &n, &to);
	strikes_add(t, &b, RULE_OWN_NAME, T0, &cfg, &n, &to);
	strikes_add(t, &b, RULE_OWN_NAME, T0 + 1, &cfg, &n, &to);
	assert_true(strikes_dirty(t));
	if (strikes_save(t, path, err, sizeof(err)) != 0)
		fail_msg("save: %s", err);
	assert_false(strikes_dirty(t));
	assert_int_equal(stat(tmp, &st), -1);	/* renamed away */
	assert_int_equal(strikes_load(u, path, &bad, err, sizeof(err)), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(strikes_count(u), 2);
	r = strikes_find(u, &b);
	assert_non_null(r);
	assert_int_equal(r->bans, 1);
	assert_int_equal(r->banned_until, T0 + 1 + 10);
	assert_int_equal(r->rule, RULE_OWN_NAME);
	strikes_free(u);

	/* Bad lines are skipped and counted; good ones kept. */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\nip=192.0.2.1 strikes=1 first=1 last=1 rule=bare-ip "
	    "bans=0 banned_until=0\ngarbage\nip=192.0.2.1 strikes=1 first=1 "
	    "last=1 rule=bare-ip bans=0 banned_until=0\n", STRIKES_HEADER);
	fclose(f);
	u = strikes_new();
	assert_int_equal(strikes_load(u, path, &bad, err, sizeof(err)), 0);
	assert_int_equal(bad, 2);
	assert_int_equal(strikes_count(u), 1);
	if (strstr(err, ":3: ") == NULL)
		fail_msg("got \"%s\", want the first bad line (3) named", err);
	strikes_free(u);

	/* A wrong header refuses the file; a missing file is empty. */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# something else\n");
	fclose(f);
	u = strikes_new();
	assert_int_equal(strikes_load(u, path, &bad, err, sizeof(err)), -1);
	unlink(path);
	assert_int_equal(strikes_load(u, path, &bad, err, sizeof(err)), 0);
	assert_int_equal(strikes_count(u), 0);
	strikes_free(u);
	strikes_free(t);
	rmdir(dir);
}

/* ---- planted paths: what an attacker who can write the state
 * directory leaves there ---- */

enum plant { P_TMP_LINK, P_TMP_FILE, P_PATH_LINK, P_PATH_FIFO, P_PATH_DIR,
    P_STALE_TMP };

struct plant_case {
	const char *name;
	enum plant what;
	int save_rc, load_rc;	/* want */
	const char *load_err;	/* substring of the load error */
};

static const struct plant_case plant_cases[] = {
	/* The old writer opened PATH.tmp with O_CREAT|O_TRUNC: through the
	 * link, it replaced the victim's contents. */
	{ "symlink at PATH.tmp is never written through", P_TMP_LINK, 0, 0,
	    NULL },
	{ "file at PATH.tmp is left alone", P_TMP_FILE, 0, 0, NULL },
	{ "symlink at PATH is replaced on save, not followed on load",
	    P_PATH_LINK, 0, -1, "a symbolic link (not followed)" },
	{ "FIFO at PATH is refused without blocking", P_PATH_FIFO, 0, -1,
	    "not a regular file" },
	{ "directory at PATH: save fails, load refuses", P_PATH_DIR, -1, -1,
	    "not a regular file" },
	{ "stale temporary files are cleaned", P_STALE_TMP, 0, 0, NULL },
};

static void
test_planted(void **state)
{
	const struct plant_case *k = *state;
	char dir[] = "/tmp/test_strikes.XXXXXX", path[64], tmp[80];
	char victim[80], stale[96], err[512] = "", buf[64] = "", cmd[96];
	struct strikes *t = strikes_new(), *u = strikes_new();
	struct addr a;
	uint32_t n, to;
	size_t bad;
	FILE *f;
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(stale, sizeof(stale), "%s" STRIKES_TMP_SUFFIX "AbC123",
	    path);
	assert_non_null(f = fopen(victim, "w"));
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(addr_parse("198.51.100.7", &a), 0);
	strikes_add(t, &a, RULE_BARE_IP, T0, &cfg, &n, &to);
	switch (k->what) {
	case P_TMP_LINK:
		assert_int_equal(symlink(victim, tmp), 0);
		break;
	case P_TMP_FILE:
		assert_non_null(f = fopen(tmp, "w"));
		fclose(f);
		break;
	case P_PATH_LINK:
		assert_int_equal(symlink(victim, path), 0);
		break;
	case P_PATH_FIFO:
		assert_int_equal(mkfifo(path, 0600), 0);
		break;
	case P_PATH_DIR:
		assert_int_equal(mkdir(path, 0700), 0);
		break;
	case P_STALE_TMP:
		assert_non_null(f = fopen(stale, "w"));
		fclose(f);
		break;
	}
	/* Load first (as the daemon does at start): blocking is the fault,
	 * and the alarm ends the test if it happens. */
	alarm(5);
	if (k->what != P_TMP_LINK && k->what != P_TMP_FILE &&
	    k->what != P_STALE_TMP) {
		rc = strikes_load(u, path, &bad, err, sizeof(err));
		if (rc != k->load_rc || (k->load_err != NULL &&
		    strstr(err, k->load_err) == NULL))
			fail_msg("%s: load got %d \"%s\", want %d \"%s\"",
			    k->name, rc, err, k->load_rc, k->load_err);
	}
	alarm(0);
	if (k->what == P_STALE_TMP) {
		assert_int_equal(strikes_clean_tmp(path), 1);
		if (access(stale, F_OK) == 0)
			fail_msg("%s: %s still there", k->name, stale);
	}
	rc = strikes_save(t, path, err, sizeof(err));
	if (rc != k->save_rc)
		fail_msg("%s: save got %d \"%s\", want %d", k->name, rc, err,
		    k->save_rc);
	assert_non_null(f = fopen(victim, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	if (strcmp(buf, "precious\n") != 0)
		fail_msg("%s: victim got \"%s\", want it untouched", k->name,
		    buf);
	if (rc == 0) {
		struct stat st;

		/* PATH is now a regular file of ours, and it loads. */
		assert_int_equal(lstat(path, &st), 0);
		if (!S_ISREG(st.st_mode) || (st.st_mode & 0777) != 0640)
			fail_msg("%s: got mode %o, want a regular file 0640",
			    k->name, (unsigned)st.st_mode);
		strikes_free(u);
		u = strikes_new();
		if (strikes_load(u, path, &bad, err, sizeof(err)) != 0 ||
		    strikes_count(u) != 1)
			fail_msg("%s: reload got %zu records (%s), want 1",
			    k->name, strikes_count(u), err);
	}
	/* Only PATH, the victim and what the case planted remain: no
	 * temporary file is left behind. */
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -le 3", dir);
	if (system(cmd) != 0)
		fail_msg("%s: files left behind in %s", k->name, dir);
	strikes_free(t);
	strikes_free(u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Changes made while a snapshot is being written elsewhere keep the
 * table dirty after that save is marked done. */
static void
test_changes(void **state)
{
	struct strikes *t = strikes_new();
	struct addr a, b;
	uint32_t n, to;
	uint64_t snap;

	(void)state;
	assert_int_equal(addr_parse("198.51.100.7", &a), 0);
	assert_int_equal(addr_parse("198.51.100.8", &b), 0);
	assert_false(strikes_dirty(t));
	strikes_add(t, &a, RULE_BARE_IP, T0, &cfg, &n, &to);
	assert_true(strikes_dirty(t));
	snap = strikes_changes(t);
	strikes_add(t, &b, RULE_BARE_IP, T0, &cfg, &n, &to);
	strikes_mark_saved(t, snap);
	if (!strikes_dirty(t))
		fail_msg("got clean, want dirty: a change came after the "
		    "snapshot");
	strikes_mark_saved(t, strikes_changes(t));
	assert_false(strikes_dirty(t));
	strikes_forget(t, &a);
	assert_true(strikes_dirty(t));
	strikes_free(t);
}

/*
 * Shared strikes ([cluster]): scripts of local strikes (L), shared totals
 * merged (M total) and siblings' bans applied (B bans until), under
 * strikes=3, window=100 s, timeout=10 s, timeout_max=35 s.  After each
 * step the record must hold strikes, bans and banned_until as given
 * (-1: no record at all).
 */
enum merge_op { MERGE_END, MERGE_L, MERGE_M, MERGE_B };

struct merge_step {
	enum merge_op op;
	int64_t t;
	uint32_t arg;			/* M: the total; B: the ban number */
	int64_t until;			/* B: banned until */
	enum strikes_outcome want;	/* L, M */
	uint32_t count, timeout;	/* L, M */
	int64_t strikes;		/* the record after: -1 none */
	uint32_t bans;
	int64_t banned_until;
};

struct merge_script {
	const char *name;
	struct merge_step steps[10];
	bool observe;
};

static const struct strikes_cfg merge_cfg = { 3, 100, 10, 35, false };
static const struct strikes_cfg merge_observe_cfg = { 3, 100, 10, 35, true };

#define ME	{ MERGE_END, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

static const struct merge_script merge_scripts[] = {
	{ "a total raises the count", {
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_M, T0, 2, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 }, ME },
	    false },
	{ "a total at or below the count changes nothing", {
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_L, T0 + 1, 0, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_M, T0 + 1, 1, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_M, T0 + 1, 2, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 }, ME },
	    false },
	{ "three gateways, one strike each: the total bans", {
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_M, T0, 1, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_M, T0 + 1, 2, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_M, T0 + 2, 3, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 12 },
	    ME }, false },
	{ "a total over the limit bans once, then already banned", {
	    { MERGE_M, T0, 5, 0, STRIKES_BANNED, 5, 10, 0, 1, T0 + 10 },
	    { MERGE_M, T0 + 3, 6, 0, STRIKES_ALREADY_BANNED, 0, 7, 0, 1,
	      T0 + 10 },
	    { MERGE_L, T0 + 4, 0, 0, STRIKES_ALREADY_BANNED, 0, 6, 0, 1,
	      T0 + 10 }, ME }, false },
	{ "the record's own doubling decides the length", {
	    { MERGE_M, T0, 3, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 10 },
	    { MERGE_M, T0 + 20, 6, 0, STRIKES_BANNED, 3, 20, 0, 2, T0 + 40 },
	    { MERGE_M, T0 + 50, 10, 0, STRIKES_BANNED, 4, 35, 0, 3, T0 + 85 },
	    ME }, false },
	{ "after a ban the shared total starts over too", {
	    { MERGE_M, T0, 3, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 10 },
	    { MERGE_M, T0 + 20, 3, 0, STRIKES_COUNTED, 0, 0, 0, 1, 0 },
	    { MERGE_M, T0 + 20, 4, 0, STRIKES_COUNTED, 1, 0, 1, 1, 0 },
	    { MERGE_M, T0 + 21, 5, 0, STRIKES_COUNTED, 2, 0, 2, 1, 0 },
	    { MERGE_M, T0 + 22, 6, 0, STRIKES_BANNED, 3, 20, 0, 2, T0 + 42 },
	    ME }, false },
	{ "totals merged while banned are spent by the ban", {
	    { MERGE_M, T0, 3, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 10 },
	    { MERGE_M, T0 + 5, 5, 0, STRIKES_ALREADY_BANNED, 0, 5, 0, 1,
	      T0 + 10 },
	    { MERGE_M, T0 + 20, 6, 0, STRIKES_COUNTED, 1, 0, 1, 1, 0 }, ME },
	    false },
	{ "a local ban spends the totals that come back banned", {
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_L, T0, 0, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 10 },
	    { MERGE_M, T0, 3, 0, STRIKES_ALREADY_BANNED, 0, 10, 0, 1,
	      T0 + 10 },
	    { MERGE_M, T0 + 20, 4, 0, STRIKES_COUNTED, 1, 0, 1, 1, 0 }, ME },
	    false },
	{ "the shared counter starting over is followed", {
	    { MERGE_M, T0, 3, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 10 },
	    { MERGE_M, T0 + 200, 1, 0, STRIKES_COUNTED, 1, 0, 1, 1, 0 },
	    { MERGE_M, T0 + 201, 2, 0, STRIKES_COUNTED, 2, 0, 2, 1, 0 }, ME },
	    false },
	{ "a sibling's ban spends the total seen", {
	    { MERGE_M, T0, 2, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_B, T0, 1, T0 + 10, 0, 0, 0, 0, 1, T0 + 10 },
	    { MERGE_M, T0 + 20, 3, 0, STRIKES_COUNTED, 1, 0, 1, 1, 0 }, ME },
	    false },
	{ "a total for an unknown address makes its record", {
	    { MERGE_M, T0, 2, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 }, ME },
	    false },
	{ "a total of nothing leaves no record", {
	    { MERGE_M, T0, 0, 0, STRIKES_COUNTED, 0, 0, -1, 0, 0 }, ME },
	    false },
	{ "the window starts over before the merge", {
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_L, T0 + 1, 0, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_M, T0 + 150, 1, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 }, ME },
	    false },
	{ "observe: the total would ban, nothing banned", {
	    { MERGE_M, T0, 2, 0, STRIKES_COUNTED, 2, 0, 2, 0, 0 },
	    { MERGE_M, T0, 3, 0, STRIKES_WOULD_BAN, 3, 10, 0, 0, 0 }, ME },
	    true },
	{ "a sibling's ban: the record banned, its number kept", {
	    { MERGE_L, T0, 0, 0, STRIKES_COUNTED, 1, 0, 1, 0, 0 },
	    { MERGE_B, T0, 2, T0 + 20, 0, 0, 0, 0, 2, T0 + 20 },
	    { MERGE_L, T0 + 5, 0, 0, STRIKES_ALREADY_BANNED, 0, 15, 0, 2,
	      T0 + 20 },
	    { MERGE_M, T0 + 6, 3, 0, STRIKES_ALREADY_BANNED, 0, 14, 0, 2,
	      T0 + 20 }, ME }, false },
	{ "a sibling's ban never shortens nor lowers", {
	    { MERGE_M, T0, 3, 0, STRIKES_BANNED, 3, 10, 0, 1, T0 + 10 },
	    { MERGE_B, T0, 1, T0 + 5, 0, 0, 0, 0, 1, T0 + 10 },
	    { MERGE_B, T0, 0, T0 + 30, 0, 0, 0, 0, 1, T0 + 30 }, ME }, false },
	{ "after a sibling's ban the next one doubles from its number", {
	    { MERGE_B, T0, 2, T0 + 20, 0, 0, 0, 0, 2, T0 + 20 },
	    { MERGE_M, T0 + 30, 3, 0, STRIKES_BANNED, 3, 35, 0, 3, T0 + 65 },
	    ME }, false },
};

static void
test_merge(void **state)
{
	const struct merge_script *k = *state;
	const struct strikes_cfg *c = k->observe ? &merge_observe_cfg :
	    &merge_cfg;
	struct strikes *t = strikes_new();
	struct addr a;

	assert_non_null(t);
	assert_int_equal(addr_parse("2001:db8::7", &a), 0);
	for (size_t i = 0; k->steps[i].op != MERGE_END; i++) {
		const struct merge_step *s = &k->steps[i];
		const struct strikes_rec *r;
		enum strikes_outcome o = 0;
		uint32_t count = 0, timeout = 0;

		if (s->op == MERGE_L)
			o = strikes_add(t, &a, RULE_BARE_IP, s->t, c, &count,
			    &timeout);
		else if (s->op == MERGE_M)
			o = strikes_merge(t, &a, s->arg, RULE_MAX, s->t, c,
			    &count, &timeout);
		else if (strikes_apply_ban(t, &a, s->arg, s->until) != 0)
			fail_msg("%s: step %zu: strikes_apply_ban failed",
			    k->name, i);
		if (s->op != MERGE_B && (o != s->want || count != s->count ||
		    timeout != s->timeout))
			fail_msg("%s: step %zu: got outcome %d count %u "
			    "timeout %u, want %d %u %u", k->name, i, o, count,
			    timeout, s->want, s->count, s->timeout);
		r = strikes_find(t, &a);
		if (s->strikes == -1) {
			if (r != NULL)
				fail_msg("%s: step %zu: got a record, want "
				    "none", k->name, i);
			continue;
		}
		if (r == NULL)
			fail_msg("%s: step %zu: got no record", k->name, i);
		else if (r->strikes != s->strikes || r->bans != s->bans ||
		    r->banned_until != s->banned_until)
			fail_msg("%s: step %zu: got strikes=%u bans=%u "
			    "banned_until=%lld, want %lld %u %lld", k->name, i,
			    r->strikes, r->bans, (long long)r->banned_until,
			    (long long)s->strikes, s->bans,
			    (long long)s->banned_until);
	}
	strikes_free(t);
}

/* A merge keeps the rule when given none, takes the one given. */
static void
test_merge_rule(void **state)
{
	struct strikes *t = strikes_new();
	struct addr a;
	uint32_t count, timeout;

	(void)state;
	assert_non_null(t);
	assert_int_equal(addr_parse("192.0.2.9", &a), 0);
	(void)strikes_add(t, &a, RULE_OWN_NAME, T0, &merge_cfg, &count,
	    &timeout);
	strikes_mark_saved(t, strikes_changes(t));
	assert_int_equal(strikes_merge(t, &a, 1, RULE_SPF_FAIL, T0,
	    &merge_cfg, &count, &timeout), STRIKES_COUNTED);
	assert_false(strikes_dirty(t));		/* nothing new */
	assert_int_equal(strikes_merge(t, &a, 2, RULE_MAX, T0, &merge_cfg,
	    &count, &timeout), STRIKES_COUNTED);
	assert_int_equal(strikes_find(t, &a)->rule, RULE_OWN_NAME);
	assert_true(strikes_dirty(t));
	assert_int_equal(strikes_merge(t, &a, 3, RULE_SPF_FAIL, T0,
	    &merge_cfg, &count, &timeout), STRIKES_BANNED);
	assert_int_equal(strikes_find(t, &a)->rule, RULE_SPF_FAIL);
	strikes_free(t);
}

#define N(x)	(sizeof(x) / sizeof((x)[0]))

int
main(void)
{
	struct CMUnitTest t[N(scripts) + N(parse_cases) + N(plant_cases) +
	    N(merge_scripts) + 7];
	size_t n = 0, i;

	for (i = 0; i < N(scripts); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_script);
		t[n].name = scripts[i].name;
		t[n].initial_state = (void *)&scripts[i];
	}
	for (i = 0; i < N(parse_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_parse);
		t[n].name = parse_cases[i].name;
		t[n].initial_state = (void *)&parse_cases[i];
	}
	for (i = 0; i < N(merge_scripts); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_merge);
		t[n].name = merge_scripts[i].name;
		t[n].initial_state = (void *)&merge_scripts[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_merge_rule);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_timeout);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_expire);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_observe_record);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_expire_parts);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_save_load);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_changes);
	for (i = 0; i < N(plant_cases); i++, n++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_planted);
		t[n].name = plant_cases[i].name;
		t[n].initial_state = (void *)&plant_cases[i];
	}
	return _cmocka_run_group_tests("strikes", t, n, NULL, NULL);
}
