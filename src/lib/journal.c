/*
 * journal.c - the verdict journal's writer (journal.h): the bounded queue
 * the daemon's loop fills, and the writer thread that empties it into
 * SQLite, one transaction per batch, and prunes.
 *
 * Exports journal_open, journal_close, journal_now, journal_put,
 * journal_outcome, journal_stats and the journal_record_* builders.
 *
 * The queue is two arrays of cap records: the loop appends to fill under
 * the mutex (a copy of one record, nothing else); the writer swaps fill
 * and its drained spare under the mutex and writes the batch after
 * letting go, so the loop never waits for SQLite.  The loop wakes the
 * writer only when it is idle and the queue was empty; after a batch the
 * writer pauses JOURNAL_GATHER_MS to let the next one gather (fewer,
 * larger transactions).  The counters are atomics: the loop counts what a
 * full queue loses, the writer what the database loses and what it wrote.
 *
 * The database: opened by the writer (never by the loop), WAL,
 * synchronous=NORMAL (a commit is durable at the next checkpoint; a crash
 * loses at most the last moments, never the file's consistency),
 * busy_timeout (the other daemon writes the same file), foreign keys on
 * (a pruned attempt takes its findings).  When it cannot be opened or a
 * batch cannot be written (read-only, full disk, corrupt), the batch is
 * counted lost, the connection closed, and opened again after
 * JOURNAL_RETRY_S; records meanwhile are lost too.
 *
 * Fork: a daemon that forks while the writer runs (bgsave's snapshots, the
 * SPF supervisor) gets a child with none of the journal's threads; the
 * children close every descriptor past their own and never call into
 * this file or SQLite, so nothing of it runs twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "journal.h"
#include "log.h"
#include "privdrop.h"

#define JOURNAL_GATHER_MS	50	/* pause after a batch */
#define JOURNAL_RETRY_S		10	/* an unavailable database, again */
#define JOURNAL_PRUNE_S		300	/* retention and size, this often */
#define JOURNAL_BUSY_MS		5000	/* waits for the other daemon */
#define JOURNAL_PRUNE_ROWS	20000	/* oldest rows deleted at a time */

struct journal {
	enum journal_daemon daemon;
	struct conf_journal cj;
	int64_t offset_s;		/* SMTPGATE_CLOCK_OFFSET */
	size_t cap;			/* records per array */

	pthread_mutex_t mu;		/* guards the rest of this block */
	pthread_cond_t cv;
	struct journal_record *fill;	/* the loop appends here */
	size_t nfill;
	struct journal_record *spare;	/* the writer's, while it writes */
	bool idle;			/* the writer waits for records */
	bool stop;			/* journal_close: drain and end */

	pthread_t thread;
	atomic_uint_fast64_t written;
	atomic_uint_fast64_t lost;
	atomic_uint_fast64_t streak;	/* lost since the last write */

	/* the writer thread's alone */
	sqlite3 *db;
	sqlite3_stmt *ins_attempt, *ins_finding, *ins_outcome;
	int64_t reopen_s;		/* monotonic: try to open again */
	int64_t prune_s;		/* monotonic: prune next */
	char why[256];			/* the last failure, for the log */
};

static int64_t
journal_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t
journal_now(const struct journal *j)
{
	return (int64_t)time(NULL) + (j != NULL ? j->offset_s : 0);
}

/* ---- records ---- */

static const char *const journal_daemon_name[] = { "gate", "sniff" };

void
journal_record_init(struct journal_record *r, const struct journal *j,
    const char *addr)
{
	r->kind = JOURNAL_ATTEMPT;
	r->daemon = j != NULL ? j->daemon : JOURNAL_GATE;
	r->t_s = journal_now(j);
	snprintf(r->addr, sizeof r->addr, "%s", addr);
	r->verdict = "";
	r->enforced = true;
	r->accepted = true;
	r->reason = "";
	r->has = 0;
	r->ptr[0] = '\0';
	r->ptr_class = NULL;
	r->fcrdns = NULL;
	r->dnsbl_score = 0;
	r->helo[0] = '\0';
	r->mail_domain[0] = '\0';
	r->spf_helo = NULL;
	r->nfindings = 0;
	r->rules_len = 0;
	r->outcome = NULL;
}

int
journal_record_finding(struct journal_record *r, const char *rule,
    enum action action)
{
	size_t len = strlen(rule) + 1;

	if (r->nfindings >= JOURNAL_FINDINGS_MAX ||
	    r->rules_len > sizeof r->rules ||
	    len > sizeof r->rules - r->rules_len)
		return -1;
	memcpy(r->rules + r->rules_len, rule, len);
	r->rules_len += len;
	r->action[r->nfindings++] = (uint8_t)action;
	return 0;
}

const char *
journal_record_rule(const struct journal_record *r, size_t i)
{
	const char *p = r->rules;

	for (size_t k = 0; k < i && k < r->nfindings; k++)
		p += strlen(p) + 1;
	return p;
}

void
journal_record_helo(struct journal_record *r, const char *helo, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)helo[i];

		if (c >= 0x21 && c <= 0x7e && c != '\\') {
			if (o + 1 >= sizeof r->helo)
				break;
			r->helo[o++] = (char)c;
		} else {
			if (o + 4 >= sizeof r->helo)
				break;
			r->helo[o++] = '\\';
			r->helo[o++] = 'x';
			r->helo[o++] = hex[c >> 4];
			r->helo[o++] = hex[c & 15];
		}
	}
	r->helo[o] = '\0';
	r->has |= JOURNAL_HAS_HELO;
}

/* ---- the loop's side ---- */

/* Count n records lost; log when a streak starts. */
static void
journal_lose(struct journal *j, uint64_t n, const char *why)
{
	atomic_fetch_add(&j->lost, n);
	if (atomic_fetch_add(&j->streak, n) == 0)
		log_warnx("journal: %s: %s: records lost until it works again",
		    j->cj.file, why);
}

void
journal_put(struct journal *j, const struct journal_record *r)
{
	bool wake = false, full;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	full = j->nfill >= j->cap;
	if (!full) {
		memcpy(&j->fill[j->nfill++], r, sizeof *r);
		wake = j->idle && j->nfill == 1;
	}
	pthread_mutex_unlock(&j->mu);
	if (full)
		journal_lose(j, 1, "queue full (the writer is behind)");
	else if (wake)
		pthread_cond_signal(&j->cv);
}

void
journal_outcome(struct journal *j, const char *addr, const char *kind)
{
	struct journal_record r;

	if (j == NULL)
		return;
	journal_record_init(&r, j, addr);
	r.kind = JOURNAL_OUTCOME;
	r.outcome = kind;
	journal_put(j, &r);
}

void
journal_stats(const struct journal *j, struct journal_stats *s)
{
	memset(s, 0, sizeof *s);
	if (j == NULL)
		return;
	s->written = atomic_load(&((struct journal *)j)->written);
	s->lost = atomic_load(&((struct journal *)j)->lost);
	pthread_mutex_lock(&((struct journal *)j)->mu);
	s->queued = j->nfill;
	pthread_mutex_unlock(&((struct journal *)j)->mu);
}

/* ---- the writer thread ---- */

static void
journal_db_close(struct journal *j)
{
	sqlite3_finalize(j->ins_attempt);
	sqlite3_finalize(j->ins_finding);
	sqlite3_finalize(j->ins_outcome);
	j->ins_attempt = j->ins_finding = j->ins_outcome = NULL;
	if (j->db != NULL)
		sqlite3_close_v2(j->db);
	j->db = NULL;
	j->reopen_s = journal_mono_s() + JOURNAL_RETRY_S;
}

/* Give up on the database: note why, close it, try again later. */
static void
journal_db_fail(struct journal *j, const char *what)
{
	snprintf(j->why, sizeof j->why, "%s: %s", what,
	    j->db != NULL ? sqlite3_errmsg(j->db) : "cannot open");
	journal_db_close(j);
}

static int
journal_db_open(struct journal *j)
{
	char err[512];

	if (sqlite3_open_v2(j->cj.file, &j->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		journal_db_fail(j, "open");
		return -1;
	}
	sqlite3_busy_timeout(j->db, JOURNAL_BUSY_MS);
	if (journal_schema_migrate(j->db, j->cj.file, err, sizeof err) == -1) {
		/* err names the file already; keep the reason alone. */
		const char *p = strstr(err, j->cj.file);

		snprintf(j->why, sizeof j->why, "%.200s",
		    p != NULL ? p + strlen(j->cj.file) + 2 : err);
		journal_db_close(j);
		return -1;
	}
	if (sqlite3_exec(j->db, "PRAGMA synchronous = NORMAL;"
	    "PRAGMA foreign_keys = ON;", NULL, NULL, NULL) != SQLITE_OK) {
		journal_db_fail(j, "pragmas");
		return -1;
	}
	if (sqlite3_prepare_v2(j->db, "INSERT INTO attempt (t, addr, daemon, "
	    "verdict, enforced, accepted, reason, ptr, ptr_class, fcrdns, "
	    "dnsbl_score, helo, mail_domain, spf_helo) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", -1,
	    &j->ins_attempt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "INSERT INTO finding (attempt, rule, "
	    "action) VALUES (?1, ?2, ?3)", -1, &j->ins_finding, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "INSERT INTO outcome (t, addr, kind) "
	    "VALUES (?1, ?2, ?3)", -1, &j->ins_outcome, NULL) != SQLITE_OK) {
		journal_db_fail(j, "prepare");
		return -1;
	}
	return 0;
}

static void
journal_bind_text(sqlite3_stmt *st, int i, bool has, const char *s)
{
	if (has && s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int
journal_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
journal_write_one(struct journal *j, const struct journal_record *r)
{
	sqlite3_stmt *st;
	sqlite3_int64 id;
	const char *rule;

	if (r->kind == JOURNAL_OUTCOME) {
		st = j->ins_outcome;
		sqlite3_bind_int64(st, 1, r->t_s);
		sqlite3_bind_text(st, 2, r->addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->outcome != NULL ? r->outcome : "",
		    -1, SQLITE_STATIC);
		return journal_step(st);
	}
	st = j->ins_attempt;
	sqlite3_bind_int64(st, 1, r->t_s);
	sqlite3_bind_text(st, 2, r->addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, journal_daemon_name[r->daemon == JOURNAL_SNIFF],
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->verdict != NULL ? r->verdict : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 5, r->enforced);
	sqlite3_bind_int(st, 6, r->accepted);
	sqlite3_bind_text(st, 7, r->reason != NULL ? r->reason : "", -1,
	    SQLITE_STATIC);
	journal_bind_text(st, 8, r->has & JOURNAL_HAS_PTR, r->ptr);
	journal_bind_text(st, 9, r->has & JOURNAL_HAS_PTR_CLASS, r->ptr_class);
	journal_bind_text(st, 10, r->has & JOURNAL_HAS_FCRDNS, r->fcrdns);
	if (r->has & JOURNAL_HAS_SCORE)
		sqlite3_bind_int(st, 11, r->dnsbl_score);
	else
		sqlite3_bind_null(st, 11);
	journal_bind_text(st, 12, r->has & JOURNAL_HAS_HELO, r->helo);
	journal_bind_text(st, 13, r->has & JOURNAL_HAS_MAIL_DOMAIN,
	    r->mail_domain);
	journal_bind_text(st, 14, r->has & JOURNAL_HAS_SPF_HELO, r->spf_helo);
	if (journal_step(st) == -1)
		return -1;
	id = sqlite3_last_insert_rowid(j->db);
	rule = r->rules;
	for (size_t i = 0; i < r->nfindings && i < JOURNAL_FINDINGS_MAX; i++) {
		size_t left = r->rules_len - (size_t)(rule - r->rules);
		size_t len = strnlen(rule, left);

		if (len >= left)
			break;		/* never past the names written */
		st = j->ins_finding;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, rule, (int)len, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, action_name((enum action)r->action[i]),
		    -1, SQLITE_STATIC);
		if (journal_step(st) == -1)
			return -1;
		rule += len + 1;
	}
	return 0;
}

/* One transaction for the batch; every record lost when it fails. */
static void
journal_write(struct journal *j, const struct journal_record *rs, size_t n)
{
	uint64_t was;

	if (j->db == NULL) {
		journal_lose(j, n, j->why);
		return;
	}
	if (sqlite3_exec(j->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		journal_db_fail(j, "begin");
		journal_lose(j, n, j->why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (journal_write_one(j, &rs[i]) == -1) {
			snprintf(j->why, sizeof j->why, "insert: %s",
			    sqlite3_errmsg(j->db));
			goto fail;
		}
	}
	if (sqlite3_exec(j->db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(j->why, sizeof j->why, "commit: %s",
		    sqlite3_errmsg(j->db));
		goto fail;
	}
	atomic_fetch_add(&j->written, n);
	if ((was = atomic_exchange(&j->streak, 0)) > 0)
		log_info("journal: %s: writing again after %llu lost",
		    j->cj.file, (unsigned long long)was);
	return;
fail:
	sqlite3_exec(j->db, "ROLLBACK;", NULL, NULL, NULL);
	{
		char why[sizeof j->why];

		memcpy(why, j->why, sizeof why);
		journal_db_close(j);
		memcpy(j->why, why, sizeof why);
	}
	journal_lose(j, n, j->why);
}

static int64_t
journal_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bytes the database's pages in use take (the file once checkpointed). */
static int64_t
journal_used(sqlite3 *db)
{
	int64_t pages = journal_int(db, "PRAGMA page_count;");
	int64_t freep = journal_int(db, "PRAGMA freelist_count;");
	int64_t size = journal_int(db, "PRAGMA page_size;");

	if (pages < 0 || freep < 0 || size < 0)
		return -1;
	return (pages - freep) * size;
}

static int
journal_exec_int(sqlite3 *db, const char *sql, int64_t v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Retention, then size: rows older than retention go; while the pages in
 * use pass max_size, the oldest JOURNAL_PRUNE_ROWS attempts and outcomes
 * go; then the free pages are given back (incremental vacuum) and the WAL
 * checkpointed so the file shrinks.  Each statement its own transaction,
 * so the other daemon waits a moment at most.  At open, every
 * JOURNAL_PRUNE_S, and at close (the tests count on the last one).
 */
static void
journal_prune(struct journal *j)
{
	int64_t cutoff = journal_now(j) - (int64_t)j->cj.retention_s;
	int rounds = 0;

	if (j->db == NULL)
		return;
	if (journal_exec_int(j->db, "DELETE FROM attempt WHERE t < ?1",
	    cutoff) == -1 || journal_exec_int(j->db, "DELETE FROM outcome "
	    "WHERE t < ?1", cutoff) == -1) {
		log_warnx("journal: %s: prune by retention: %s", j->cj.file,
		    sqlite3_errmsg(j->db));
		return;
	}
	while (journal_used(j->db) > (int64_t)j->cj.max_size &&
	    rounds++ < 1000) {
		int64_t a = journal_int(j->db, "SELECT count(*) FROM attempt");
		int64_t o = journal_int(j->db, "SELECT count(*) FROM outcome");
		/* The oldest tenth, at least one row, at most PRUNE_ROWS. */
		int64_t na = a / 10 + 1, no = o / 10 + 1;

		if (a <= 0 && o <= 0)
			break;
		if (na > JOURNAL_PRUNE_ROWS)
			na = JOURNAL_PRUNE_ROWS;
		if (no > JOURNAL_PRUNE_ROWS)
			no = JOURNAL_PRUNE_ROWS;
		if (journal_exec_int(j->db, "DELETE FROM attempt WHERE id IN "
		    "(SELECT id FROM attempt ORDER BY id LIMIT ?1)", na) == -1 ||
		    journal_exec_int(j->db, "DELETE FROM outcome WHERE id IN "
		    "(SELECT id FROM outcome ORDER BY id LIMIT ?1)", no) == -1) {
			log_warnx("journal: %s: prune by size: %s", j->cj.file,
			    sqlite3_errmsg(j->db));
			return;
		}
	}
	if (journal_int(j->db, "PRAGMA freelist_count;") > 0) {
		sqlite3_exec(j->db, "PRAGMA incremental_vacuum;", NULL, NULL,
		    NULL);
		sqlite3_exec(j->db, "PRAGMA wal_checkpoint(TRUNCATE);", NULL,
		    NULL, NULL);
	}
}

/* Open the database when it is closed and due; prune when due. */
static void
journal_housekeep(struct journal *j, bool force)
{
	int64_t now = journal_mono_s();

	if (j->db == NULL && (force || now >= j->reopen_s)) {
		if (journal_db_open(j) == 0)
			j->prune_s = 0;
	}
	if (j->db != NULL && (force || now >= j->prune_s)) {
		journal_prune(j);
		j->prune_s = now + JOURNAL_PRUNE_S;
	}
}

static void
journal_wait_ms(struct journal *j, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	(void)pthread_cond_timedwait(&j->cv, &j->mu, &ts);
}

static void *
journal_thread(void *arg)
{
	struct journal *j = arg;
	struct journal_record *batch;
	size_t n;
	bool stop;

	journal_housekeep(j, true);
	if (j->db == NULL)
		log_warnx("journal: %s: %s (tried again every %ds)",
		    j->cj.file, j->why, JOURNAL_RETRY_S);
	pthread_mutex_lock(&j->mu);
	for (;;) {
		if (j->nfill == 0 && !j->stop) {
			j->idle = true;
			journal_wait_ms(j, 1000);
			j->idle = false;
		}
		batch = j->fill;
		n = j->nfill;
		j->fill = j->spare;
		j->nfill = 0;
		j->spare = batch;
		stop = j->stop;
		pthread_mutex_unlock(&j->mu);

		journal_housekeep(j, false);
		if (n > 0)
			journal_write(j, batch, n);

		pthread_mutex_lock(&j->mu);
		if (stop && j->nfill == 0)
			break;
		/* Let the next batch gather (journal_close cuts it short). */
		if (n > 0 && !j->stop)
			journal_wait_ms(j, JOURNAL_GATHER_MS);
	}
	pthread_mutex_unlock(&j->mu);
	/* Tests count on a last prune: retention and size at close too. */
	journal_housekeep(j, true);
	journal_db_close(j);
	return NULL;
}

/* ---- open, close ---- */

void
journal_prepare(const struct conf_journal *cj)
{
	struct privdrop_user u;
	char dir[PATH_MAX], err[256];
	int fd;

	if (cj->file[0] == '\0' || privdrop_lookup(&u, err, sizeof err) == -1)
		return;
	atomicfile_dir(cj->file, dir, sizeof dir);
	if (mkdir(dir, 0750) == -1) {
		if (errno != EEXIST)
			log_warnx("journal: mkdir %s: %s (verdicts go on, not "
			    "journaled)", dir, strerror(errno));
		return;
	}
	if (!u.change)
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fchown(fd, u.uid, u.gid) == -1)
		log_warnx("journal: chown %s to user %s: %s", dir, u.name,
		    strerror(errno));
	else
		log_info("journal: created %s for user %s", dir, u.name);
	if (fd != -1)
		close(fd);
}

static int64_t
journal_clock_offset(void)
{
	const char *v = getenv("SMTPGATE_CLOCK_OFFSET");
	char *end;
	long long n;

	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < -(1ll << 40) || n > (1ll << 40)) {
		log_warnx("journal: SMTPGATE_CLOCK_OFFSET=%.32s is no number "
		    "of seconds; ignored", v);
		return 0;
	}
	return (int64_t)n;
}

struct journal *
journal_open(const struct conf_journal *cj, enum journal_daemon daemon,
    char *err, size_t errlen)
{
	struct journal *j;
	pthread_condattr_t ca;
	int rc;

	if (cj->file[0] == '\0') {
		if (errlen > 0)
			err[0] = '\0';
		errno = 0;
		return NULL;
	}
	if ((j = calloc(1, sizeof *j)) == NULL)
		goto nomem;
	j->daemon = daemon;
	j->cj = *cj;
	j->cap = cj->queue > 0 ? cj->queue : 1;
	j->offset_s = journal_clock_offset();
	/* Untouched pages of the arrays cost nothing until a burst fills
	 * them (calloc of this size maps them zeroed). */
	j->fill = calloc(j->cap, sizeof *j->fill);
	j->spare = calloc(j->cap, sizeof *j->spare);
	if (j->fill == NULL || j->spare == NULL)
		goto nomem;
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(j->why, sizeof j->why, "not opened yet");
	if ((rc = pthread_create(&j->thread, NULL, journal_thread, j)) != 0) {
		snprintf(err, errlen, "journal: %s: pthread_create: %s",
		    cj->file, strerror(rc));
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
		free(j->fill);
		free(j->spare);
		free(j);
		errno = rc;
		return NULL;
	}
	return j;
nomem:
	snprintf(err, errlen, "journal: %s: out of memory for a queue of %u",
	    cj->file, cj->queue);
	if (j != NULL) {
		free(j->fill);
		free(j->spare);
		free(j);
	}
	errno = ENOMEM;
	return NULL;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = true;
	pthread_mutex_unlock(&j->mu);
	pthread_cond_signal(&j->cv);
	pthread_join(j->thread, NULL);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j->fill);
	free(j->spare);
	free(j);
}
