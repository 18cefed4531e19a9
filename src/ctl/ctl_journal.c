/*
 * ctl_journal.c - the verdict journal read by smtpgatectl (ctl_journal.h):
 * opened read-only as its file's owner, its schema version checked, and
 * the two queries of `report` and `suspects`: the last attempt of each
 * address and daemon in a window with its findings, and the outcomes.
 *
 * The last attempts come from the index attempt(addr, daemon, t) alone (a
 * covering scan grouped by addr and daemon, max(t) with its rowid), then
 * one lookup by rowid per address and daemon: millions of attempts cost one
 * index scan, not a sort.  Of attempts of one address and daemon in the
 * same second, the one SQLite meets first in the index (the lowest id) is
 * the last.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ctl_journal.h"

static void
ctl_journal_err(const struct ctl_journal *j, const char *what)
{
	fprintf(stderr, "smtpgatectl: journal %s: %s: %s\n", j->path, what,
	    j->db != NULL ? sqlite3_errmsg(j->db) : "out of memory");
}

/* Back to the identity we had before ctl_journal_open. */
static void
ctl_journal_unswitch(struct ctl_journal *j)
{
	if (!j->switched)
		return;
	if (seteuid(j->uid) == -1 || setegid(j->gid) == -1) {
		/* a broken invariant: we were root a moment ago */
		fprintf(stderr, "smtpgatectl: journal %s: back to uid %u: "
		    "%s\n", j->path, (unsigned)j->uid, strerror(errno));
		abort();
	}
	j->switched = false;
}

int
ctl_journal_open(struct ctl_journal *j, const char *path)
{
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int rc, version;

	memset(j, 0, sizeof(*j));
	j->path = path;
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			fprintf(stderr, "smtpgatectl: journal %s: no journal "
			    "yet (the daemons create it when they start)\n",
			    path);
		else
			fprintf(stderr, "smtpgatectl: journal %s: %s\n", path,
			    strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "smtpgatectl: journal %s: not a regular "
		    "file\n", path);
		return -1;
	}
	/*
	 * As root, read as the file's owner: SQLite creates the WAL index
	 * (journal.db-shm) at the first read, owned by whoever reads, and
	 * the daemons (user smtpgate) could not open one owned by root.
	 */
	if (geteuid() == 0 && (sb.st_uid != 0 || sb.st_gid != 0)) {
		j->uid = geteuid();
		j->gid = getegid();
		if (setegid(sb.st_gid) == -1) {
			fprintf(stderr, "smtpgatectl: journal %s: setegid %u: "
			    "%s\n", path, (unsigned)sb.st_gid, strerror(errno));
			return -1;
		}
		j->switched = true;
		if (seteuid(sb.st_uid) == -1) {
			fprintf(stderr, "smtpgatectl: journal %s: seteuid %u: "
			    "%s\n", path, (unsigned)sb.st_uid, strerror(errno));
			if (setegid(j->gid) == -1)
				abort();
			j->switched = false;
			return -1;
		}
	}
	rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		ctl_journal_err(j, "open");
		ctl_journal_close(j);
		return -1;
	}
	sqlite3_busy_timeout(j->db, 5000);
	/* The last attempts are looked up by rowid all over the file: map it
	 * and keep more pages than the default 2 MiB (a read-only mapping). */
	sqlite3_exec(j->db, "PRAGMA mmap_size = 1073741824; "
	    "PRAGMA cache_size = -65536", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(j->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		ctl_journal_err(j, "read the schema version");
		sqlite3_finalize(st);
		ctl_journal_close(j);
		return -1;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != CTL_JOURNAL_VERSION) {
		fprintf(stderr, "smtpgatectl: journal %s: schema version %d, "
		    "this smtpgatectl reads version %d\n", path, version,
		    CTL_JOURNAL_VERSION);
		ctl_journal_close(j);
		return -1;
	}
	return 0;
}

void
ctl_journal_close(struct ctl_journal *j)
{
	if (j->db != NULL)
		sqlite3_close(j->db);
	j->db = NULL;
	ctl_journal_unswitch(j);
}

static char *
ctl_journal_col(sqlite3_stmt *st, int col, bool *oom)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	char *s;

	if (v == NULL)
		return NULL;
	if ((s = strdup((const char *)v)) == NULL)
		*oom = true;
	return s;
}

/*
 * The last attempts, then their findings (LEFT JOIN: one row per finding,
 * or one with rule NULL, the rows of one attempt together).  ?1, ?2: the
 * window.  No ORDER BY: the rows come in the index's (addr, daemon)
 * order, and ctl_tally_finish sorts and merges whatever order they came
 * in (a sort here cost a third of the query).
 */
static const char ctl_journal_q_last[] =
    "SELECT a.addr, a.daemon, a.id, a.t, a.accepted, a.verdict, f.rule,"
    " a.ptr, a.ptr_class, a.fcrdns, a.helo, a.spf_helo, a.reason"
    " FROM (SELECT max(t) AS t, id FROM attempt INDEXED BY attempt_addr"
    "       WHERE t >= ?1 AND t <= ?2 GROUP BY addr, daemon"
    "       ORDER BY addr DESC, daemon DESC) AS l"
    " CROSS JOIN attempt AS a ON a.id = l.id"
    " LEFT JOIN finding AS f ON f.attempt = a.id";

static const char ctl_journal_q_outcome[] =
    "SELECT addr, kind, max(t) FROM outcome WHERE t >= ?1"
    " GROUP BY addr, kind";

int
ctl_journal_fetch(struct ctl_journal *j, int64_t lo, int64_t hi,
    bool with_detail, struct ctl_journal_set *set)
{
	sqlite3_stmt *st = NULL;
	struct ctl_last *l = NULL;
	int64_t cur = 0;
	bool oom = false, any = false;
	int rc;

	memset(set, 0, sizeof(*set));
	set->lo = lo;
	set->hi = hi;
	if (sqlite3_prepare_v2(j->db, ctl_journal_q_last, -1, &st, NULL) !=
	    SQLITE_OK) {
		ctl_journal_err(j, "query the last attempts");
		return -1;
	}
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 2);
		const char *addr = (const char *)sqlite3_column_text(st, 0);
		const char *daemon = (const char *)sqlite3_column_text(st, 1);
		const char *rule = (const char *)sqlite3_column_text(st, 6);

		if (!any || id != cur) {
			struct ctl_addr *a;

			any = true;
			cur = id;
			l = NULL;
			if (addr == NULL || daemon == NULL)
				continue;	/* NOT NULL columns: damage */
			if ((a = ctl_tally_addr(set, addr)) == NULL) {
				oom = true;
				break;
			}
			if (strcmp(daemon, "gate") == 0)
				l = &a->g;
			else if (strcmp(daemon, "sniff") == 0)
				l = &a->s;
			else
				continue;	/* a daemon of a later schema */
			l->present = true;
			l->id = id;
			l->t = sqlite3_column_int64(st, 3);
			l->accepted = sqlite3_column_int(st, 4) != 0;
			l->verdict = ctl_journal_col(st, 5, &oom);
			if (with_detail) {
				l->ptr = ctl_journal_col(st, 7, &oom);
				l->ptr_class = ctl_journal_col(st, 8, &oom);
				l->fcrdns = ctl_journal_col(st, 9, &oom);
				l->helo = ctl_journal_col(st, 10, &oom);
				l->spf_helo = ctl_journal_col(st, 11, &oom);
				l->reason = ctl_journal_col(st, 12, &oom);
			}
		}
		if (l != NULL && rule != NULL &&
		    ctl_tally_finding(set, l, rule) == -1)
			oom = true;
	}
	if (!oom && rc != SQLITE_DONE) {
		ctl_journal_err(j, "read the last attempts");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!oom && sqlite3_prepare_v2(j->db, ctl_journal_q_outcome, -1, &st,
	    NULL) != SQLITE_OK) {
		ctl_journal_err(j, "query the outcomes");
		return -1;
	}
	if (!oom) {
		sqlite3_bind_int64(st, 1, lo);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *addr = (const char *)sqlite3_column_text(st, 0);
			const char *kind = (const char *)sqlite3_column_text(st, 1);

			if (addr != NULL && kind != NULL &&
			    ctl_tally_outcome(set, addr, kind,
			    sqlite3_column_int64(st, 2)) == -1) {
				oom = true;
				break;
			}
		}
		if (!oom && rc != SQLITE_DONE) {
			ctl_journal_err(j, "read the outcomes");
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	if (oom || ctl_tally_finish(set) == -1) {
		fprintf(stderr, "smtpgatectl: journal %s: out of memory\n",
		    j->path);
		return -1;
	}
	return 0;
}

int
ctl_journal_times(struct ctl_journal *j, const char *addr, int64_t lo,
    int64_t hi, int64_t **t, size_t *n)
{
	static const char q[] = "SELECT t FROM attempt WHERE addr = ?1"
	    " AND t >= ?2 AND t <= ?3 ORDER BY t";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	*t = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(j->db, q, -1, &st, NULL) != SQLITE_OK) {
		ctl_journal_err(j, "query an address's attempts");
		return -1;
	}
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			int64_t *nt = realloc(*t, nc * sizeof(*nt));

			if (nt == NULL) {
				fprintf(stderr, "smtpgatectl: journal %s: out "
				    "of memory\n", j->path);
				sqlite3_finalize(st);
				return -1;
			}
			*t = nt;
			cap = nc;
		}
		(*t)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE) {
		ctl_journal_err(j, "read an address's attempts");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

void
ctl_journal_free(struct ctl_journal_set *set)
{
	for (size_t i = 0; i < set->naddr; i++) {
		free(set->addr[i].text);
		ctl_tally_last_free(&set->addr[i].g);
		ctl_tally_last_free(&set->addr[i].s);
	}
	free(set->addr);
	for (size_t i = 0; i < set->nrule; i++)
		free(set->rule[i]);
	free(set->rule);
	free(set->rule_ix);
	free(set->out);
	memset(set, 0, sizeof(*set));
}
