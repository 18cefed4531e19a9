/*
 * journal_schema.c - the journal's schema, created and migrated
 * (docs/JOURNAL.md is the contract; journal.h the API).
 *
 * Exports journal_schema_migrate.  The database's PRAGMA user_version is
 * its schema version: 0 is an empty (or new) file, 1 the schema below.
 * Both daemons open the same file and may start at the same moment, so
 * the version is read and the tables are created in one BEGIN IMMEDIATE
 * transaction: the second daemon waits (busy_timeout) for the first and
 * then finds the version current.  auto_vacuum must be set before the
 * file's first page is written (journal_mode=WAL writes it), so it comes
 * first; a version-0 file made without it is vacuumed once into it.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "journal.h"

/* Version 1: docs/JOURNAL.md, verbatim but for the comments. */
static const char journal_schema_v1[] =
	"CREATE TABLE attempt ("
	" id          INTEGER PRIMARY KEY,"
	" t           INTEGER NOT NULL,"
	" addr        TEXT    NOT NULL,"
	" daemon      TEXT    NOT NULL,"
	" verdict     TEXT    NOT NULL,"
	" enforced    INTEGER NOT NULL,"
	" accepted    INTEGER NOT NULL,"
	" reason      TEXT    NOT NULL,"
	" ptr         TEXT,"
	" ptr_class   TEXT,"
	" fcrdns      TEXT,"
	" dnsbl_score INTEGER,"
	" helo        TEXT,"
	" mail_domain TEXT,"
	" spf_helo    TEXT"
	");"
	"CREATE INDEX attempt_t ON attempt(t);"
	"CREATE INDEX attempt_addr ON attempt(addr, daemon, t);"
	"CREATE TABLE finding ("
	" attempt INTEGER NOT NULL REFERENCES attempt(id) ON DELETE CASCADE,"
	" rule    TEXT    NOT NULL,"
	" action  TEXT    NOT NULL"
	");"
	"CREATE INDEX finding_attempt ON finding(attempt);"
	"CREATE TABLE outcome ("
	" id     INTEGER PRIMARY KEY,"
	" t      INTEGER NOT NULL,"
	" addr   TEXT    NOT NULL,"
	" kind   TEXT    NOT NULL"
	");"
	"CREATE INDEX outcome_addr ON outcome(addr);"
	"PRAGMA user_version = 1;";

static int
journal_schema_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
journal_schema_fail(sqlite3 *db, const char *file, const char *what,
    char *err, size_t errlen)
{
	snprintf(err, errlen, "journal: %s: %s: %s", file, what,
	    sqlite3_errmsg(db));
	return -1;
}

int
journal_schema_migrate(sqlite3 *db, const char *file, char *err,
    size_t errlen)
{
	int version = 0, vacuum = 0;

	/* Before the first page: both only take effect on a new file. */
	if (sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL;", NULL, NULL,
	    NULL) != SQLITE_OK)
		return journal_schema_fail(db, file, "auto_vacuum", err,
		    errlen);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL;", NULL, NULL,
	    NULL) != SQLITE_OK)
		return journal_schema_fail(db, file, "journal_mode=WAL", err,
		    errlen);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return journal_schema_fail(db, file, "begin", err, errlen);
	if (journal_schema_int(db, "PRAGMA user_version;", &version) < 0) {
		journal_schema_fail(db, file, "user_version", err, errlen);
		goto rollback;
	}
	if (version > JOURNAL_SCHEMA_VERSION) {
		snprintf(err, errlen, "journal: %s: schema version %d is newer "
		    "than this program's %d", file, version,
		    JOURNAL_SCHEMA_VERSION);
		goto rollback;
	}
	if (version < 1 && sqlite3_exec(db, journal_schema_v1, NULL, NULL,
	    NULL) != SQLITE_OK) {
		journal_schema_fail(db, file, "create version 1", err, errlen);
		goto rollback;
	}
	/* Later versions: if (version < 2) ALTER ...; PRAGMA user_version=2 */
	if (sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		journal_schema_fail(db, file, "commit", err, errlen);
		goto rollback;
	}
	if (version < 1 && journal_schema_int(db, "PRAGMA auto_vacuum;",
	    &vacuum) == 0 && vacuum != 2 &&
	    sqlite3_exec(db, "VACUUM;", NULL, NULL, NULL) != SQLITE_OK)
		return journal_schema_fail(db, file, "vacuum into "
		    "auto_vacuum=incremental", err, errlen);
	return 0;
rollback:
	sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
	return -1;
}
