/*
 * test_journal.c - the verdict journal: the schema created and migrated
 * (new, empty and version-0 files, twice, a newer version refused), a
 * batch written by the writer thread and read back with SQLite, a full
 * queue counts its losses and never blocks (the put path's cost printed),
 * an unavailable database (read-only, corrupt, a missing directory)
 * changes nothing but the counters, pruning by retention and by size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"

static char tmpdir[200];

static void
path_in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void
rm_db(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static int64_t
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The text of the first column of the first row, "NULL" for NULL. */
static void
q_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	snprintf(buf, len, "no row");
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(buf, len, "%s", t != NULL ? (const char *)t : "NULL");
	}
	sqlite3_finalize(st);
}

static sqlite3 *
db_open(const char *path)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static void
conf_for(struct conf_journal *cj, const char *path)
{
	memset(cj, 0, sizeof *cj);
	snprintf(cj->file, sizeof cj->file, "%.255s", path);
	cj->retention_s = 190 * 86400;
	cj->max_size = 1ull << 30;
	cj->queue = 8192;
}

/* ---- schema ---- */

static void
check_v1(const char *path)
{
	sqlite3 *db = db_open(path);
	char buf[64];

	assert_int_equal(q_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(q_int(db, "PRAGMA auto_vacuum"), 2);
	q_text(db, "PRAGMA journal_mode", buf, sizeof buf);
	assert_string_equal(buf, "wal");
	assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('attempt', 'finding', 'outcome')"), 3);
	assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'index' AND name IN ('attempt_t', 'attempt_addr', "
	    "'finding_attempt', 'outcome_addr')"), 4);
	/* no index on finding(rule): no reader needs one, and it cost a
	 * fifth of every record's write */
	assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'index' AND tbl_name = 'finding'"), 1);
	/* every column of the contract, by name */
	assert_int_equal(q_int(db, "SELECT count(*) FROM pragma_table_info("
	    "'attempt') WHERE name IN ('id', 't', 'addr', 'daemon', 'verdict', "
	    "'enforced', 'accepted', 'reason', 'ptr', 'ptr_class', 'fcrdns', "
	    "'dnsbl_score', 'helo', 'mail_domain', 'spf_helo')"), 15);
	sqlite3_close(db);
}

static void
migrate(const char *path, int want)
{
	sqlite3 *db = db_open(path);
	char err[512] = "";
	int rc = journal_schema_migrate(db, path, err, sizeof err);

	if (rc != want)
		fail_msg("migrate %s: got %d (%s), want %d", path, rc, err,
		    want);
	sqlite3_close(db);
}

static void
test_schema_new(void **state)
{
	char path[512];

	(void)state;
	path_in_tmp(path, sizeof path, "new.db");
	rm_db(path);
	migrate(path, 0);
	check_v1(path);
	/* twice: the second finds it current */
	migrate(path, 0);
	check_v1(path);
}

static void
test_schema_empty_file(void **state)
{
	char path[512];
	int fd;

	(void)state;
	path_in_tmp(path, sizeof path, "empty.db");
	rm_db(path);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0644)) >= 0);
	close(fd);
	migrate(path, 0);
	check_v1(path);
}

/* Version 0 made without auto_vacuum (and in rollback mode): migrated. */
static void
test_schema_v0(void **state)
{
	char path[512];
	sqlite3 *db;

	(void)state;
	path_in_tmp(path, sizeof path, "v0.db");
	rm_db(path);
	db = db_open(path);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0; "
	    "PRAGMA page_size = 4096; VACUUM;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(q_int(db, "PRAGMA auto_vacuum"), 0);
	sqlite3_close(db);
	migrate(path, 0);
	check_v1(path);
}

static void
test_schema_newer(void **state)
{
	char path[512];
	sqlite3 *db;

	(void)state;
	path_in_tmp(path, sizeof path, "v9.db");
	rm_db(path);
	db = db_open(path);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9;", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	migrate(path, -1);
	db = db_open(path);
	assert_int_equal(q_int(db, "PRAGMA user_version"), 9);
	assert_int_equal(q_int(db, "SELECT count(*) FROM sqlite_master"), 0);
	sqlite3_close(db);
}

/* ---- records ---- */

static void
gate_record(struct journal_record *r, struct journal *j, const char *addr)
{
	journal_record_init(r, j, addr);
	r->verdict = "reject";
	r->enforced = true;
	r->accepted = false;
	r->reason = "generic-ptr";
	snprintf(r->ptr, sizeof r->ptr, "%s", "host-1-2.dyn.example.net");
	r->ptr_class = "generic";
	r->fcrdns = "pass";
	r->dnsbl_score = -2;
	r->has |= JOURNAL_HAS_PTR | JOURNAL_HAS_PTR_CLASS | JOURNAL_HAS_FCRDNS |
	    JOURNAL_HAS_SCORE;
	assert_int_equal(journal_record_finding(r, "generic-ptr",
	    ACTION_REJECT), 0);
	assert_int_equal(journal_record_finding(r, "dnswl:list.dnswl.test",
	    ACTION_LOG), 0);
}

static void
test_record_builders(void **state)
{
	struct journal_record r;
	char big[300];
	size_t n = 0;

	(void)state;
	journal_record_init(&r, NULL, "192.0.2.1");
	journal_record_helo(&r, "a\\b\x01 c", 6);
	assert_string_equal(r.helo, "a\\x5cb\\x01\\x20c");
	assert_true(r.has & JOURNAL_HAS_HELO);
	memset(big, 'x', sizeof big);
	journal_record_helo(&r, big, sizeof big);
	assert_int_equal(strlen(r.helo), JOURNAL_HELO_MAX - 1);
	/* findings: bounded by count and by bytes, never overrun */
	while (journal_record_finding(&r, "dnsbl:zone-with-a-name.example",
	    ACTION_LOG) == 0)
		n++;
	assert_true(n > 0 && n <= JOURNAL_FINDINGS_MAX);
	assert_int_equal(r.nfindings, n);
	assert_true(r.rules_len <= sizeof r.rules);
	assert_string_equal(journal_record_rule(&r, n - 1),
	    "dnsbl:zone-with-a-name.example");
	printf("# sizeof(struct journal_record) = %zu bytes\n", sizeof r);
}

static void
test_batch_roundtrip(void **state)
{
	struct conf_journal cj;
	struct journal_record r;
	struct journal_stats s;
	struct journal *j;
	char path[512], err[512], buf[256];
	sqlite3 *db;

	(void)state;
	path_in_tmp(path, sizeof path, "batch.db");
	rm_db(path);
	conf_for(&cj, path);
	setenv("SMTPGATE_CLOCK_OFFSET", "-86400", 1);
	j = journal_open(&cj, JOURNAL_GATE, err, sizeof err);
	unsetenv("SMTPGATE_CLOCK_OFFSET");
	assert_non_null(j);
	assert_true(journal_now(j) <= (int64_t)time(NULL) - 86400 + 1);
	gate_record(&r, j, "192.0.2.1");
	journal_put(j, &r);
	journal_record_init(&r, j, "2001:db8::7");
	r.daemon = JOURNAL_SNIFF;
	r.verdict = "strike";
	r.reason = "unqualified";
	r.accepted = true;
	journal_record_helo(&r, "box", 3);
	snprintf(r.mail_domain, sizeof r.mail_domain, "example.org");
	r.has |= JOURNAL_HAS_MAIL_DOMAIN | JOURNAL_HAS_SPF_HELO;
	r.spf_helo = "none";
	assert_int_equal(journal_record_finding(&r, "unqualified",
	    ACTION_OFFEND), 0);
	journal_put(j, &r);
	journal_outcome(j, "198.51.100.0/24", "allowed");
	journal_close(j);

	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM attempt"), 2);
	assert_int_equal(q_int(db, "SELECT count(*) FROM finding"), 3);
	q_text(db, "SELECT daemon || ' ' || verdict || ' ' || enforced || ' ' "
	    "|| accepted || ' ' || reason || ' ' || ptr || ' ' || ptr_class || "
	    "' ' || fcrdns || ' ' || dnsbl_score || ' ' || (helo IS NULL) || "
	    "(mail_domain IS NULL) || (spf_helo IS NULL) FROM attempt WHERE "
	    "addr = '192.0.2.1'", buf, sizeof buf);
	assert_string_equal(buf, "gate reject 1 0 generic-ptr "
	    "host-1-2.dyn.example.net generic pass -2 111");
	q_text(db, "SELECT group_concat(rule || '=' || action, ',') FROM "
	    "(SELECT rule, action FROM finding f JOIN attempt a ON "
	    "a.id = f.attempt WHERE a.addr = '192.0.2.1' ORDER BY rule)", buf,
	    sizeof buf);
	assert_string_equal(buf, "dnswl:list.dnswl.test=log,"
	    "generic-ptr=reject");
	q_text(db, "SELECT daemon || ' ' || verdict || ' ' || helo || ' ' || "
	    "mail_domain || ' ' || spf_helo || ' ' || (ptr IS NULL) || "
	    "(dnsbl_score IS NULL) FROM attempt WHERE addr = '2001:db8::7'",
	    buf, sizeof buf);
	assert_string_equal(buf, "sniff strike box example.org none 11");
	q_text(db, "SELECT addr || ' ' || kind FROM outcome", buf, sizeof buf);
	assert_string_equal(buf, "198.51.100.0/24 allowed");
	/* the clock offset stamped every row */
	assert_true(q_int(db, "SELECT max(t) FROM attempt") <=
	    (int64_t)time(NULL) - 86400 + 1);
	sqlite3_close(db);
	(void)s;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * A queue of 16 and puts as fast as the loop can make them: the writer
 * falls behind, the rest is counted lost, and every put returns at once.
 */
static void
test_overflow(void **state)
{
	struct conf_journal cj;
	struct journal_record r;
	struct journal_stats s;
	struct journal *j;
	char path[512], err[512];
	int64_t t0, worst = 0, total;
	const int n = 200000;

	(void)state;
	path_in_tmp(path, sizeof path, "overflow.db");
	rm_db(path);
	conf_for(&cj, path);
	cj.queue = 16;
	assert_non_null(j = journal_open(&cj, JOURNAL_GATE, err, sizeof err));
	gate_record(&r, j, "192.0.2.9");
	total = mono_ns();
	for (int i = 0; i < n; i++) {
		t0 = mono_ns();
		journal_put(j, &r);
		t0 = mono_ns() - t0;
		if (t0 > worst)
			worst = t0;
	}
	total = mono_ns() - total;
	journal_stats(j, &s);
	assert_true(s.lost > 0);
	journal_close(j);
	printf("# journal_put: %d puts, %.0f ns each on average (clock reads "
	    "included), worst %lld ns; %llu lost of them (queue 16)\n", n,
	    (double)total / n, (long long)worst, (unsigned long long)s.lost);
	{
		sqlite3 *db = db_open(path);

		assert_int_equal(q_int(db, "SELECT count(*) FROM attempt") +
		    (int64_t)s.lost, n);
		sqlite3_close(db);
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The put path when the writer keeps up (the gate's normal case): the
 * record built and queued, timed one by one after a warm-up (the queue's
 * pages touched once), printed, never asserted (a shared machine).
 */
static void
test_put_cost(void **state)
{
	struct conf_journal cj;
	struct journal_record r;
	struct journal_stats s;
	struct journal *j;
	char path[512], err[512];
	enum { N = 4000 };
	static int64_t ns[N];
	int64_t t0;

	(void)state;
	path_in_tmp(path, sizeof path, "cost.db");
	rm_db(path);
	conf_for(&cj, path);
	assert_non_null(j = journal_open(&cj, JOURNAL_GATE, err, sizeof err));
	for (int i = 0; i < 8192; i++) {
		gate_record(&r, j, "192.0.2.10");
		journal_put(j, &r);
	}
	usleep(300000);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			t0 = mono_ns();
			gate_record(&r, j, "192.0.2.10");
			journal_put(j, &r);
			ns[i] = mono_ns() - t0;
		}
		usleep(300000);
	}
	journal_stats(j, &s);
	journal_close(j);
	qsort(ns, N, sizeof ns[0], cmp_i64);
	/* The writer's side: a burst of 20,000 queued at once, then drained
	 * (close waits for the last commit). */
	cj.queue = 20000;
	assert_non_null(j = journal_open(&cj, JOURNAL_GATE, err, sizeof err));
	usleep(200000);		/* opened, migrated, first prune done */
	t0 = mono_ns();
	for (int i = 0; i < 20000; i++) {
		gate_record(&r, j, i & 1 ? "192.0.2.11" : "2001:db8::11");
		journal_put(j, &r);
	}
	journal_close(j);
	t0 = mono_ns() - t0;
	printf("# writer: 20000 records queued and "
	    "committed in %.0f ms: %.1f us a record\n", (double)t0 / 1e6,
	    (double)t0 / 1e3 / 20000);
	printf("# record built and put (writer keeping up): median %lld ns, "
	    "p99 %lld ns, max %lld ns (%d puts; %llu written, %llu lost)\n",
	    (long long)ns[N / 2], (long long)ns[N * 99 / 100],
	    (long long)ns[N - 1], N, (unsigned long long)s.written,
	    (unsigned long long)s.lost);
	journal_stats(NULL, &s);
	assert_int_equal(s.written + s.lost, 0);
}

/* An unavailable database: verdicts (here: the puts) go on, counted. */
static void
unavailable(const char *path, int n)
{
	struct conf_journal cj;
	struct journal_record r;
	struct journal_stats s;
	struct journal *j;
	char err[512];

	conf_for(&cj, path);
	assert_non_null(j = journal_open(&cj, JOURNAL_SNIFF, err, sizeof err));
	gate_record(&r, j, "192.0.2.3");
	for (int i = 0; i < n; i++)
		journal_put(j, &r);
	/* Wait for the writer to have taken them (it counts them lost). */
	for (int i = 0; i < 500; i++) {
		journal_stats(j, &s);
		if (s.lost == (uint64_t)n)
			break;
		usleep(10000);
	}
	journal_stats(j, &s);
	assert_int_equal(s.written, 0);
	assert_int_equal(s.lost, n);
	journal_close(j);
}

static void
test_missing_dir(void **state)
{
	char path[512];

	(void)state;
	path_in_tmp(path, sizeof path, "no/such/dir/j.db");
	unavailable(path, 5);
}

static void
test_corrupt(void **state)
{
	char path[512];
	FILE *f;

	(void)state;
	path_in_tmp(path, sizeof path, "corrupt.db");
	rm_db(path);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < 512; i++)
		fputs("this is no database ", f);
	fclose(f);
	unavailable(path, 7);
}

static void
test_read_only(void **state)
{
	char path[512];
	sqlite3 *db;

	(void)state;
	if (geteuid() == 0)
		skip();		/* root writes a mode 0444 file anyway */
	path_in_tmp(path, sizeof path, "ro.db");
	rm_db(path);
	migrate(path, 0);
	/* back to rollback mode: a WAL file needs -shm writes to be read */
	db = db_open(path);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = DELETE;",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(chmod(path, 0444), 0);
	unavailable(path, 3);
	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM attempt"), 0);
	sqlite3_close(db);
}

static void
test_prune_retention(void **state)
{
	struct conf_journal cj;
	struct journal_record r;
	struct journal *j;
	char path[512], err[512];
	sqlite3 *db;

	(void)state;
	path_in_tmp(path, sizeof path, "retention.db");
	rm_db(path);
	conf_for(&cj, path);
	cj.retention_s = 86400;
	assert_non_null(j = journal_open(&cj, JOURNAL_GATE, err, sizeof err));
	for (int i = 0; i < 10; i++) {
		gate_record(&r, j, i < 6 ? "192.0.2.100" : "192.0.2.200");
		if (i < 6)
			r.t_s -= 86400 + 60;	/* past retention */
		journal_put(j, &r);
	}
	journal_outcome(j, "192.0.2.200", "retried");
	r.kind = JOURNAL_OUTCOME;
	r.outcome = "retried";
	r.t_s -= 2 * 86400;
	journal_put(j, &r);
	journal_close(j);		/* the last prune */
	db = db_open(path);
	assert_int_equal(q_int(db, "SELECT count(*) FROM attempt"), 4);
	assert_int_equal(q_int(db, "SELECT count(*) FROM attempt WHERE "
	    "addr = '192.0.2.100'"), 0);
	/* an attempt's findings go with it */
	assert_int_equal(q_int(db, "SELECT count(*) FROM finding"), 8);
	assert_int_equal(q_int(db, "SELECT count(*) FROM outcome"), 1);
	sqlite3_close(db);
}

static void
test_prune_size(void **state)
{
	struct conf_journal cj;
	struct journal_record r;
	struct journal *j;
	char path[512], err[512];
	const int n = 6000;
	int64_t used, last, count;
	struct stat st;
	sqlite3 *db;

	(void)state;
	path_in_tmp(path, sizeof path, "size.db");
	rm_db(path);
	conf_for(&cj, path);
	cj.max_size = 256 * 1024;
	assert_non_null(j = journal_open(&cj, JOURNAL_GATE, err, sizeof err));
	for (int i = 0; i < n; i++) {
		char a[64];

		snprintf(a, sizeof a, "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		gate_record(&r, j, a);
		journal_put(j, &r);
		if (i % 1000 == 999)
			usleep(100000);	/* within the queue */
	}
	journal_close(j);
	db = db_open(path);
	used = (q_int(db, "PRAGMA page_count") -
	    q_int(db, "PRAGMA freelist_count")) * q_int(db, "PRAGMA page_size");
	count = q_int(db, "SELECT count(*) FROM attempt");
	last = q_int(db, "SELECT count(*) FROM attempt WHERE addr = "
	    "'10.0.23.111'");
	sqlite3_close(db);
	assert_int_equal(stat(path, &st), 0);
	printf("# pruned to %lld rows of %d, %lld bytes in use, file %lld "
	    "bytes (max_size 256K)\n", (long long)count, n, (long long)used,
	    (long long)st.st_size);
	assert_true(count > 0 && count < n);
	assert_true(used <= 256 * 1024);
	assert_true(st.st_size <= 256 * 1024 + 64 * 1024);
	assert_int_equal(last, 1);	/* the newest stays */
}

static void
test_off(void **state)
{
	struct conf_journal cj;
	struct journal_record r;
	char err[64] = "x";

	(void)state;
	conf_for(&cj, "");
	assert_null(journal_open(&cj, JOURNAL_GATE, err, sizeof err));
	assert_string_equal(err, "");
	journal_record_init(&r, NULL, "192.0.2.1");
	journal_put(NULL, &r);
	journal_outcome(NULL, "192.0.2.1", "retried");
	journal_close(NULL);
}

static int
setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/test_journal.XXXXXX",
	    base != NULL ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_new),
		cmocka_unit_test(test_schema_empty_file),
		cmocka_unit_test(test_schema_v0),
		cmocka_unit_test(test_schema_newer),
		cmocka_unit_test(test_record_builders),
		cmocka_unit_test(test_batch_roundtrip),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_put_cost),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_prune_retention),
		cmocka_unit_test(test_prune_size),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
