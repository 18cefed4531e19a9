/*
 * journal_fixture.h - verdict journals built by the unit tests of report
 * and suspects: the schema of the journal contract (version 1), written
 * with the SQLite API, rows added one call each; and stdout captured
 * around a command's main.  Static functions: include once per test.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char fx_schema[] =
    "PRAGMA auto_vacuum = INCREMENTAL;"
    "CREATE TABLE attempt (id INTEGER PRIMARY KEY, t INTEGER NOT NULL,"
    " addr TEXT NOT NULL, daemon TEXT NOT NULL, verdict TEXT NOT NULL,"
    " enforced INTEGER NOT NULL, accepted INTEGER NOT NULL,"
    " reason TEXT NOT NULL, ptr TEXT, ptr_class TEXT, fcrdns TEXT,"
    " dnsbl_score INTEGER, helo TEXT, mail_domain TEXT, spf_helo TEXT);"
    "CREATE INDEX attempt_t ON attempt(t);"
    "CREATE INDEX attempt_addr ON attempt(addr, daemon, t);"
    "CREATE TABLE finding (attempt INTEGER NOT NULL REFERENCES attempt(id)"
    " ON DELETE CASCADE, rule TEXT NOT NULL, action TEXT NOT NULL);"
    "CREATE INDEX finding_attempt ON finding(attempt);"
    "CREATE TABLE outcome (id INTEGER PRIMARY KEY, t INTEGER NOT NULL,"
    " addr TEXT NOT NULL, kind TEXT NOT NULL);"
    "CREATE INDEX outcome_addr ON outcome(addr);"
    "PRAGMA journal_mode = WAL;";

struct fx {
	char dir[64];
	char path[96];
	sqlite3 *db;
};

/* A new journal of that schema version in a directory of its own. */
static __attribute__((unused)) void
fx_open(struct fx *f, int version)
{
	char sql[64];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_journal.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		abort();
	snprintf(f->path, sizeof(f->path), "%s/journal.db", f->dir);
	if (sqlite3_open(f->path, &f->db) != SQLITE_OK ||
	    sqlite3_exec(f->db, fx_schema, NULL, NULL, NULL) != SQLITE_OK)
		abort();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	if (sqlite3_exec(f->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

static __attribute__((unused)) void
fx_close(struct fx *f)
{
	char p[128];

	if (f->db != NULL)
		sqlite3_close(f->db);
	f->db = NULL;
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
}

static __attribute__((unused)) void
fx_bind(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* One gate attempt; rules: "rule:action" separated by spaces, or NULL.
 * Returns its id. */
static __attribute__((unused)) int64_t
fx_attempt(struct fx *f, int64_t t, const char *addr, const char *daemon,
    const char *verdict, int accepted, const char *reason, const char *ptr,
    const char *ptr_class, const char *fcrdns, const char *helo,
    const char *spf_helo, const char *rules)
{
	sqlite3_stmt *st;
	int64_t id;

	if (sqlite3_prepare_v2(f->db, "INSERT INTO attempt (t, addr, daemon,"
	    " verdict, enforced, accepted, reason, ptr, ptr_class, fcrdns,"
	    " dnsbl_score, helo, mail_domain, spf_helo) VALUES (?, ?, ?, ?,"
	    " 1, ?, ?, ?, ?, ?, 0, ?, NULL, ?)", -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_int64(st, 1, t);
	fx_bind(st, 2, addr);
	fx_bind(st, 3, daemon);
	fx_bind(st, 4, verdict);
	sqlite3_bind_int(st, 5, accepted);
	fx_bind(st, 6, reason);
	fx_bind(st, 7, ptr);
	fx_bind(st, 8, ptr_class);
	fx_bind(st, 9, fcrdns);
	fx_bind(st, 10, helo);
	fx_bind(st, 11, spf_helo);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
	id = sqlite3_last_insert_rowid(f->db);
	if (rules != NULL) {
		char *copy = strdup(rules), *save = NULL, *tok;

		for (tok = strtok_r(copy, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			char *colon = strrchr(tok, ':');

			if (colon == NULL)
				abort();
			*colon = '\0';
			if (sqlite3_prepare_v2(f->db, "INSERT INTO finding VALUES"
			    " (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
				abort();
			sqlite3_bind_int64(st, 1, id);
			fx_bind(st, 2, tok);
			fx_bind(st, 3, colon + 1);
			if (sqlite3_step(st) != SQLITE_DONE)
				abort();
			sqlite3_finalize(st);
		}
		free(copy);
	}
	return id;
}

/* A finding with any bytes in its rule name. */
static __attribute__((unused)) void
fx_finding(struct fx *f, int64_t id, const char *rule, const char *action)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(f->db, "INSERT INTO finding VALUES (?, ?, ?)",
	    -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_int64(st, 1, id);
	fx_bind(st, 2, rule);
	fx_bind(st, 3, action);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
}

#define fx_gate(f, t, addr, verdict, acc, reason, rules)		\
	fx_attempt(f, t, addr, "gate", verdict, acc, reason,		\
	    "host.example.net", "named", "pass", NULL, NULL, rules)
#define fx_sniff(f, t, addr, verdict, acc, reason, rules)		\
	fx_attempt(f, t, addr, "sniff", verdict, acc, reason, NULL, NULL,	\
	    NULL, "host.example.net", "pass", rules)

static __attribute__((unused)) void
fx_outcome(struct fx *f, int64_t t, const char *addr, const char *kind)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(f->db, "INSERT INTO outcome (t, addr, kind)"
	    " VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_int64(st, 1, t);
	fx_bind(st, 2, addr);
	fx_bind(st, 3, kind);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
}

/* stdout into a file while a command runs; fx_capture_end returns what it
 * wrote (the caller frees). */
struct fx_capture {
	int saved;
	FILE *tmp;
};

static __attribute__((unused)) void
fx_capture_start(struct fx_capture *c)
{
	fflush(stdout);
	if ((c->tmp = tmpfile()) == NULL || (c->saved = dup(1)) == -1 ||
	    dup2(fileno(c->tmp), 1) == -1)
		abort();
}

static __attribute__((unused)) char *
fx_capture_end(struct fx_capture *c)
{
	long n;
	char *buf;

	fflush(stdout);
	if (dup2(c->saved, 1) == -1)
		abort();
	close(c->saved);
	n = ftell(c->tmp);
	if (n < 0 || (buf = calloc(1, (size_t)n + 1)) == NULL)
		abort();
	rewind(c->tmp);
	if (n > 0 && fread(buf, 1, (size_t)n, c->tmp) != (size_t)n)
		abort();
	fclose(c->tmp);
	return buf;
}
