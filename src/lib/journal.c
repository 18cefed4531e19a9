/*
 * journal.c - the verdict journal's writer (journal.h): the bounded queue
 * the daemon's loop fills, and the writer thread that empties it into
 * SQLite, one transaction per batch, and prunes.
 *
 * Exports journal_open, journal_close, journal_now, journal_put,
 * journal_outcome, journal_stats and the journal_record_* builders.
 *
 * The queue is a ring of cap records with one producer (the loop) and one
 * consumer (the writer), and no lock: the loop copies a record into the
 * slot at head and publishes it by advancing head (release); the writer
 * reads every slot from tail to head (acquire), writes them in one
 * transaction straight from the ring, and only then advances tail, which
 * gives the slots back.  So the loop never waits, not for SQLite and not
 * for a writer thread that was preempted holding a lock (a mutex shared
 * with a thread of lower priority would make the loop wait for it).  The
 * loop wakes the writer (an eventfd) only when it said it is idle; after
 * a batch the writer pauses JOURNAL_GATHER_MS to let the next one gather
 * (fewer, larger transactions).  The counters are atomics: the loop
 * counts what a full ring loses, the writer what the database loses and
 * what it wrote.
 *
 * The writer runs JOURNAL_NICE lower than the loop that started it: when
 * the CPU is short (a flood of new addresses), verdicts come first and the
 * writer catches up after, the queue holding what comes meanwhile (what
 * does not fit is counted lost).  SQLite's memory statistics are off (a
 * global mutex per allocation otherwise).
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
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
#define JOURNAL_NICE		10	/* the writer's nice, above the loop's */
#define JOURNAL_ROWS		16	/* rows an INSERT writes at once */
#define JOURNAL_ACOLS		15	/* attempt's columns */
#define JOURNAL_FCOLS		3	/* finding's */

struct journal {
	enum journal_daemon daemon;
	struct conf_journal cj;
	int64_t offset_s;		/* SMTPGATE_CLOCK_OFFSET */
	size_t cap;			/* records per array */

	struct journal_record *ring;	/* cap slots */
	atomic_uint_fast64_t head;	/* records ever put (the loop's) */
	atomic_uint_fast64_t tail;	/* records ever taken (the writer's) */
	atomic_bool idle;		/* the writer sleeps: wake it */
	atomic_bool stop;		/* journal_close: drain and end */
	int wake_fd;			/* eventfd: the writer's wake-up */

	pthread_t thread;
	atomic_uint_fast64_t written;
	atomic_uint_fast64_t lost;
	atomic_uint_fast64_t streak;	/* lost since the last write */

	/* the writer thread's alone */
	sqlite3 *db;
	/* [0]: one row, [1]: JOURNAL_ROWS rows a statement */
	sqlite3_stmt *ins_attempt[2], *ins_finding[2], *ins_outcome, *max_id;
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

static void
journal_wake(struct journal *j)
{
	uint64_t one = 1;

	/* A full counter (never: the writer reads it) changes nothing. */
	(void)!write(j->wake_fd, &one, sizeof one);
}

void
journal_put(struct journal *j, const struct journal_record *r)
{
	uint64_t h;

	if (j == NULL)
		return;
	h = atomic_load_explicit(&j->head, memory_order_relaxed);
	if (h - atomic_load_explicit(&j->tail, memory_order_acquire) >=
	    j->cap) {
		journal_lose(j, 1, "queue full (the writer is behind)");
		return;
	}
	memcpy(&j->ring[h % j->cap], r, sizeof *r);
	atomic_store(&j->head, h + 1);		/* seq_cst: before idle */
	if (atomic_load(&j->idle) && atomic_exchange(&j->idle, false))
		journal_wake(j);
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
	s->queued = atomic_load(&((struct journal *)j)->head) -
	    atomic_load(&((struct journal *)j)->tail);
}

/* ---- the writer thread ---- */

static void
journal_db_close(struct journal *j)
{
	for (int k = 0; k < 2; k++) {
		sqlite3_finalize(j->ins_attempt[k]);
		sqlite3_finalize(j->ins_finding[k]);
		j->ins_attempt[k] = j->ins_finding[k] = NULL;
	}
	sqlite3_finalize(j->ins_outcome);
	sqlite3_finalize(j->max_id);
	j->ins_outcome = j->max_id = NULL;
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

/*
 * INSERT INTO attempt of 1 and of JOURNAL_ROWS rows ("VALUES (?,...),
 * (?,...)"), the same for finding.  Many rows a statement: a third of
 * SQLite's work a record is the statement's own, whatever its rows.
 */
static int
journal_prepare_inserts(struct journal *j)
{
	static const char *const head[2] = {
		"INSERT INTO attempt (id, t, addr, daemon, verdict, enforced, "
		"accepted, reason, ptr, ptr_class, fcrdns, dnsbl_score, helo, "
		"mail_domain, spf_helo) VALUES ",
		"INSERT INTO finding (attempt, rule, action) VALUES ",
	};
	static const char *const row[2] = {
		"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", "(?,?,?)",
	};
	char sql[64 * JOURNAL_ROWS + 256];

	for (int t = 0; t < 2; t++) {
		for (int k = 0; k < 2; k++) {
			size_t off = (size_t)snprintf(sql, sizeof sql, "%s",
			    head[t]);
			int rows = k == 0 ? 1 : JOURNAL_ROWS;
			sqlite3_stmt **st = t == 0 ? &j->ins_attempt[k] :
			    &j->ins_finding[k];

			for (int r = 0; r < rows && off < sizeof sql; r++)
				off += (size_t)snprintf(sql + off,
				    sizeof sql - off, "%s%s", r ? "," : "",
				    row[t]);
			if (off >= sizeof sql || sqlite3_prepare_v2(j->db, sql,
			    -1, st, NULL) != SQLITE_OK)
				return -1;
		}
	}
	return 0;
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
	if (journal_prepare_inserts(j) == -1 ||
	    sqlite3_prepare_v2(j->db, "INSERT INTO outcome (t, addr, kind) "
	    "VALUES (?1, ?2, ?3)", -1, &j->ins_outcome, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "SELECT ifnull(max(id), 0) FROM attempt",
	    -1, &j->max_id, NULL) != SQLITE_OK) {
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
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Attempts and findings gathered for the multi-row INSERTs. */
struct journal_rows {
	const struct journal_record *a[JOURNAL_ROWS];	/* attempts */
	int64_t aid[JOURNAL_ROWS];			/* and their ids */
	size_t na;
	struct {
		int64_t attempt;
		const char *rule;		/* in its record, in the ring */
		int len;
		enum action action;
	} f[JOURNAL_ROWS];
	size_t nf;
};

/* Attempt r as row k of st (parameters 15k+1..15k+15). */
static void
journal_bind_attempt(sqlite3_stmt *st, int k, const struct journal_record *r,
    int64_t id)
{
	int b = JOURNAL_ACOLS * k;

	sqlite3_bind_int64(st, b + 1, id);
	sqlite3_bind_int64(st, b + 2, r->t_s);
	sqlite3_bind_text(st, b + 3, r->addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 4,
	    journal_daemon_name[r->daemon == JOURNAL_SNIFF], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, b + 5, r->verdict != NULL ? r->verdict : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, b + 6, r->enforced);
	sqlite3_bind_int(st, b + 7, r->accepted);
	sqlite3_bind_text(st, b + 8, r->reason != NULL ? r->reason : "", -1,
	    SQLITE_STATIC);
	journal_bind_text(st, b + 9, r->has & JOURNAL_HAS_PTR, r->ptr);
	journal_bind_text(st, b + 10, r->has & JOURNAL_HAS_PTR_CLASS,
	    r->ptr_class);
	journal_bind_text(st, b + 11, r->has & JOURNAL_HAS_FCRDNS, r->fcrdns);
	if (r->has & JOURNAL_HAS_SCORE)
		sqlite3_bind_int(st, b + 12, r->dnsbl_score);
	else
		sqlite3_bind_null(st, b + 12);
	journal_bind_text(st, b + 13, r->has & JOURNAL_HAS_HELO, r->helo);
	journal_bind_text(st, b + 14, r->has & JOURNAL_HAS_MAIL_DOMAIN,
	    r->mail_domain);
	journal_bind_text(st, b + 15, r->has & JOURNAL_HAS_SPF_HELO,
	    r->spf_helo);
}

/* The attempts gathered: all in one statement when there are
 * JOURNAL_ROWS, else one at a time. */
static int
journal_flush_attempts(struct journal *j, struct journal_rows *w)
{
	bool many = w->na == JOURNAL_ROWS;

	for (size_t i = 0; i < w->na; i++) {
		sqlite3_stmt *st = j->ins_attempt[many];

		journal_bind_attempt(st, many ? (int)i : 0, w->a[i], w->aid[i]);
		if (!many && journal_step(st) == -1)
			return -1;
	}
	if (many && journal_step(j->ins_attempt[1]) == -1)
		return -1;
	w->na = 0;
	return 0;
}

/* The findings gathered, after the attempts they point to (the foreign
 * key is checked at once). */
static int
journal_flush_findings(struct journal *j, struct journal_rows *w)
{
	bool many = w->nf == JOURNAL_ROWS;

	if (journal_flush_attempts(j, w) == -1)
		return -1;
	for (size_t i = 0; i < w->nf; i++) {
		sqlite3_stmt *st = j->ins_finding[many];
		int b = many ? JOURNAL_FCOLS * (int)i : 0;

		sqlite3_bind_int64(st, b + 1, w->f[i].attempt);
		sqlite3_bind_text(st, b + 2, w->f[i].rule, w->f[i].len,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, b + 3, action_name(w->f[i].action), -1,
		    SQLITE_STATIC);
		if (!many && journal_step(st) == -1)
			return -1;
	}
	if (many && journal_step(j->ins_finding[1]) == -1)
		return -1;
	w->nf = 0;
	return 0;
}

/* Record r into w (flushing what filled up); id: its attempt id. */
static int
journal_write_one(struct journal *j, struct journal_rows *w,
    const struct journal_record *r, int64_t id)
{
	sqlite3_stmt *st;
	const char *rule;

	if (r->kind == JOURNAL_OUTCOME) {
		st = j->ins_outcome;
		sqlite3_bind_int64(st, 1, r->t_s);
		sqlite3_bind_text(st, 2, r->addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->outcome != NULL ? r->outcome : "",
		    -1, SQLITE_STATIC);
		return journal_step(st);
	}
	w->a[w->na] = r;
	w->aid[w->na++] = id;
	if (w->na == JOURNAL_ROWS && journal_flush_attempts(j, w) == -1)
		return -1;
	rule = r->rules;
	for (size_t i = 0; i < r->nfindings && i < JOURNAL_FINDINGS_MAX; i++) {
		size_t left = r->rules_len - (size_t)(rule - r->rules);
		size_t len = strnlen(rule, left);

		if (len >= left)
			break;		/* never past the names written */
		w->f[w->nf].attempt = id;
		w->f[w->nf].rule = rule;
		w->f[w->nf].len = (int)len;
		w->f[w->nf++].action = (enum action)r->action[i];
		if (w->nf == JOURNAL_ROWS && journal_flush_findings(j, w) == -1)
			return -1;
		rule += len + 1;
	}
	return 0;
}

/* One transaction for the n records from ring slot from on; every
 * record lost when it fails. */
static void
journal_write(struct journal *j, uint64_t from, size_t n)
{
	struct journal_rows w;
	uint64_t was;
	int64_t id;

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
	/* Ids given here, not by SQLite: a finding's row needs its attempt's
	 * id before that attempt's row is written.  BEGIN IMMEDIATE holds
	 * the write lock, so no other daemon adds rows meanwhile. */
	if (sqlite3_step(j->max_id) != SQLITE_ROW) {
		sqlite3_reset(j->max_id);
		snprintf(j->why, sizeof j->why, "max(id): %s",
		    sqlite3_errmsg(j->db));
		goto fail;
	}
	id = sqlite3_column_int64(j->max_id, 0);
	sqlite3_reset(j->max_id);
	w.na = w.nf = 0;
	for (size_t i = 0; i < n; i++) {
		const struct journal_record *r = &j->ring[(from + i) % j->cap];

		if (journal_write_one(j, &w, r, r->kind == JOURNAL_ATTEMPT ?
		    ++id : 0) == -1)
			goto insert_fail;
	}
	if (journal_flush_findings(j, &w) == -1)
		goto insert_fail;
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
insert_fail:
	snprintf(j->why, sizeof j->why, "insert: %s", sqlite3_errmsg(j->db));
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

/* Sleep until woken (journal_wake) or ms pass; clear the wake-up. */
static void
journal_sleep(struct journal *j, int ms)
{
	struct pollfd p = { .fd = j->wake_fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) > 0)
		(void)!read(j->wake_fd, &v, sizeof v);
}

static void *
journal_thread(void *arg)
{
	struct journal *j = arg;
	uint64_t tail = atomic_load(&j->tail), head;
	bool stop;

	/* This thread alone (Linux: a thread's nice is its own). */
	errno = 0;
	if (nice(JOURNAL_NICE) == -1 && errno != 0)
		log_warn("journal: nice %d", JOURNAL_NICE);
	journal_housekeep(j, true);
	if (j->db == NULL)
		log_warnx("journal: %s: %s (tried again every %ds)",
		    j->cj.file, j->why, JOURNAL_RETRY_S);
	for (;;) {
		stop = atomic_load(&j->stop);
		head = atomic_load(&j->head);
		if (head == tail) {
			if (stop)
				break;
			/* Say idle, then look again: a put in between either
			 * sees idle and wakes us, or is seen here. */
			atomic_store(&j->idle, true);
			if (atomic_load(&j->head) == tail &&
			    !atomic_load(&j->stop))
				journal_sleep(j, 1000);
			atomic_store(&j->idle, false);
			journal_housekeep(j, false);
			continue;
		}
		journal_housekeep(j, false);
		journal_write(j, tail, (size_t)(head - tail));
		tail = head;
		atomic_store_explicit(&j->tail, tail, memory_order_release);
		/* Let the next batch gather (journal_close cuts it short). */
		if (!stop)
			journal_sleep(j, JOURNAL_GATHER_MS);
	}
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
	/* Before SQLite's first use in the process, else refused: harmless. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* Untouched pages of the ring cost nothing until a burst fills them
	 * (calloc of this size maps them zeroed). */
	if ((j->ring = calloc(j->cap, sizeof *j->ring)) == NULL)
		goto nomem;
	if ((j->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		rc = errno;
		snprintf(err, errlen, "journal: %s: eventfd: %s", cj->file,
		    strerror(rc));
		goto fail;
	}
	snprintf(j->why, sizeof j->why, "not opened yet");
	if ((rc = pthread_create(&j->thread, NULL, journal_thread, j)) != 0) {
		snprintf(err, errlen, "journal: %s: pthread_create: %s",
		    cj->file, strerror(rc));
		close(j->wake_fd);
		goto fail;
	}
	return j;
nomem:
	rc = ENOMEM;
	snprintf(err, errlen, "journal: %s: out of memory for a queue of %u",
	    cj->file, cj->queue);
fail:
	if (j != NULL) {
		free(j->ring);
		free(j);
	}
	errno = rc;
	return NULL;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	atomic_store(&j->stop, true);
	journal_wake(j);
	pthread_join(j->thread, NULL);
	close(j->wake_fd);
	free(j->ring);
	free(j);
}
