/*
 * journal.h - the verdict journal: every judgment of both daemons, and
 * what happened later to an address, in one SQLite database that
 * smtpgatectl report and suspects read (journal_schema.c creates the
 * schema; smtpgate.conf(5), JOURNAL, says what its columns mean).
 *
 * The writer (journal.c).  A daemon opens its journal once, after it has
 * dropped its privileges (the database, its -wal and -shm files belong to
 * the daemon's user), and closes it at exit.  On the loop it fills a
 * fixed-size struct journal_record (journal_record_init, then the fields
 * and journal_record_finding) and hands it to journal_put, which copies
 * it into a bounded queue and returns: it never blocks on the disk and
 * never fails the verdict.  One writer thread per journal takes the whole
 * queue at once (the mutex is held only to push one record or to swap two
 * buffers) and writes it in one transaction.  A full queue, or a database
 * that cannot be opened or written (read-only, full disk, corrupt), counts
 * each record it loses (journal_stats); a streak of losses is logged once
 * when it starts ("journal: ... records lost") and once when writing works
 * again ("journal: writing again after N lost").  The writer thread also
 * prunes, every few minutes: attempts and outcomes older than retention,
 * then the oldest rows while the file is larger than max_size.
 *
 * Time stamps: journal_now, Unix seconds plus SMTPGATE_CLOCK_OFFSET
 * (signed seconds from the environment, read once by journal_open; for
 * tests that need old attempts without waiting).
 *
 * Fork: a child of a daemon (a snapshot, the SPF supervisor) never calls
 * a journal function: the writer thread is not in the child, and the
 * queue's mutex may be held there forever.
 *
 * Threads: journal_put, journal_now, journal_stats from the daemon's loop
 * (one thread); journal_open and journal_close from that same thread.
 */
#ifndef SMTPGATE_JOURNAL_H
#define SMTPGATE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define JOURNAL_SCHEMA_VERSION	1	/* PRAGMA user_version */

#define JOURNAL_ADDR_MAX	64	/* an address or "prefix/len", NUL */
#define JOURNAL_NAME_MAX	256	/* ptr, mail_domain, with the NUL */
#define JOURNAL_HELO_MAX	256	/* helo escaped (<= 255 B), NUL */
#define JOURNAL_FINDINGS_MAX	48	/* findings of one attempt */
#define JOURNAL_RULES_BYTES	1024	/* their rule names, each with its
					 * NUL, one after the other */

enum journal_kind {
	JOURNAL_ATTEMPT,	/* a row of attempt, its findings */
	JOURNAL_OUTCOME,	/* a row of outcome */
};

enum journal_daemon {
	JOURNAL_GATE,		/* 'gate' */
	JOURNAL_SNIFF,		/* 'sniff' */
};

/* Which of the columns that may be NULL hold a value (journal_record.has). */
#define JOURNAL_HAS_PTR		0x01u
#define JOURNAL_HAS_PTR_CLASS	0x02u
#define JOURNAL_HAS_FCRDNS	0x04u
#define JOURNAL_HAS_SCORE	0x08u
#define JOURNAL_HAS_HELO	0x10u
#define JOURNAL_HAS_MAIL_DOMAIN	0x20u
#define JOURNAL_HAS_SPF_HELO	0x40u

/*
 * One row of attempt with its findings, or one row of outcome.  Fixed
 * size, no pointer into the daemon's memory except the static strings
 * (verdict, reason, ptr_class, fcrdns, spf_helo, outcome: string
 * literals or the names of conf.c, ptrclass.c, which live as long as the
 * program).  Text fields are NUL-terminated and cut to their size.
 */
struct journal_record {
	enum journal_kind kind;
	enum journal_daemon daemon;
	int64_t t_s;			/* journal_now at journal_record_init */
	char addr[JOURNAL_ADDR_MAX];	/* addr_format's text, or a prefix */
	/* attempt */
	const char *verdict;		/* accept|reject|drop|tempfail,
					 * clean|strike|ban */
	bool enforced;
	bool accepted;
	const char *reason;		/* the deciding rule, "" none */
	unsigned has;			/* JOURNAL_HAS_* */
	char ptr[JOURNAL_NAME_MAX];
	const char *ptr_class;		/* named|generic|...|error */
	const char *fcrdns;		/* pass|fail|unknown */
	int dnsbl_score;
	char helo[JOURNAL_HELO_MAX];	/* escaped: printable ASCII, \xNN */
	char mail_domain[JOURNAL_NAME_MAX];
	const char *spf_helo;		/* pass|fail|...|temperror */
	/* findings: rule i is the i-th string of rules[] */
	size_t nfindings;
	size_t rules_len;		/* bytes of rules[] used */
	char rules[JOURNAL_RULES_BYTES];
	uint8_t action[JOURNAL_FINDINGS_MAX];	/* enum action of rule i */
	/* outcome */
	const char *outcome;		/* 'retried' | 'allowed' */
};

struct journal;

/* What the writer has done so far (each daemon's stats show them). */
struct journal_stats {
	uint64_t written;		/* records committed */
	uint64_t lost;			/* records dropped: queue full, or the
					 * database unavailable */
	uint64_t queued;		/* in the queue now */
};

/*
 * Before the privileges are dropped (as root): a missing directory of
 * cj->file is created (mode 0750) for the daemon's user, as the sniffer's
 * state directory is.  Never fatal: a failure is logged, and the writer
 * counts its records lost until the directory works.
 */
void journal_prepare(const struct conf_journal *cj);

/*
 * Open the journal cj configures for daemon: reads SMTPGATE_CLOCK_OFFSET,
 * starts the writer thread, which opens (creates, migrates) the database.
 * A database that cannot be opened is no error here: its records are
 * counted lost and the writer tries again now and then.  NULL with err
 * when cj->file is "" (errno 0: the journal is off, err "") or when
 * memory or a thread cannot be had (errno set).
 */
struct journal *journal_open(const struct conf_journal *cj,
    enum journal_daemon daemon, char *err, size_t errlen);
/* Write what is queued (waits for the writer), stop it, free j (NULL: no-op). */
void journal_close(struct journal *j);

/* Unix seconds, plus the clock offset (j NULL: no offset). */
int64_t journal_now(const struct journal *j);

/* An empty attempt record of j's daemon about addr, stamped now. */
void journal_record_init(struct journal_record *r, const struct journal *j,
    const char *addr);
/* Add a finding; -1 (the record unchanged) when there is no room. */
int journal_record_finding(struct journal_record *r, const char *rule,
    enum action action);
/* The i-th finding's rule name (i < nfindings). */
const char *journal_record_rule(const struct journal_record *r, size_t i);
/* Copy the HELO argument (len bytes) escaped: printable ASCII as is, every
 * other byte and '\\' as \xNN, cut to JOURNAL_HELO_MAX - 1 bytes. */
void journal_record_helo(struct journal_record *r, const char *helo,
    size_t len);

/* Queue r (copied).  Never blocks; j NULL: nothing (the journal is off). */
void journal_put(struct journal *j, const struct journal_record *r);
/* Queue an outcome row: kind "retried" or "allowed", addr or prefix text. */
void journal_outcome(struct journal *j, const char *addr, const char *kind);

/* The counters (j NULL: zeros). */
void journal_stats(const struct journal *j, struct journal_stats *s);

/*
 * The schema (journal_schema.c), for the writer and for tests.  Creates
 * or migrates the database db to JOURNAL_SCHEMA_VERSION under BEGIN
 * IMMEDIATE (two daemons starting at once: the second finds it done).
 * 0, or -1 with err ("journal: FILE: migrate: ...").  A database of a
 * newer version is left alone and refused.
 */
struct sqlite3;
int journal_schema_migrate(struct sqlite3 *db, const char *file, char *err,
    size_t errlen);

#endif
