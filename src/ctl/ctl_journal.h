/*
 * ctl_journal.h - smtpgatectl's reading of the verdict journal (the
 * SQLite database of docs/JOURNAL's schema version 1, written by the
 * daemons), shared by `report` and `suspects`.
 *
 *   ctl_journal.c  open read-only as the file's owner, the schema check,
 *                  the last attempts of every address in a window and the
 *                  outcomes (the only SQL of the two commands but the
 *                  per-address times of suspects)
 *   ctl_tally.c    the counting: pure functions over what ctl_journal
 *                  fetched (which address was accepted, which rules it
 *                  triggered, per window), driven by the unit tests
 *
 * Order: ctl_journal_open, ctl_journal_fetch, ctl_tally_*, then
 * ctl_journal_free and ctl_journal_close.  The fetched set owns all its
 * memory.
 */
#ifndef SMTPGATE_CTL_JOURNAL_H
#define SMTPGATE_CTL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define CTL_JOURNAL_VERSION	1	/* PRAGMA user_version read (journal.h's
				 * JOURNAL_SCHEMA_VERSION: this reader's own) */

struct sqlite3;

/* An open journal and the identity it was opened under. */
struct ctl_journal {
	struct sqlite3 *db;
	const char *path;
	bool switched;		/* euid/egid set to the file's owner */
	uid_t uid;		/* ours before the switch */
	gid_t gid;
};

/*
 * Open path read-only.  As root, the effective ids become the file's owner
 * until ctl_journal_close (SQLite creates the WAL's -shm file at the first
 * read; created by root, the daemons, running as its owner, could no
 * longer open it).  Checks PRAGMA user_version.  0, or -1 after printing
 * one line on stderr ("no journal yet" for a missing file).
 */
int ctl_journal_open(struct ctl_journal *j, const char *path);
void ctl_journal_close(struct ctl_journal *j);

/* One address's last attempt of one daemon in the window. */
struct ctl_last {
	bool present;
	int64_t id;		/* attempt.id */
	int64_t t;		/* attempt.t */
	bool accepted;		/* attempt.accepted */
	char *verdict;		/* attempt.verdict */
	size_t rule0, nrule;	/* its findings: rule_ix[rule0 .. +nrule) */
	/* suspects' columns (NULL when the column is) */
	char *reason, *ptr, *ptr_class, *fcrdns, *helo, *spf_helo;
};

/* One distinct address of the window. */
struct ctl_addr {
	char *text;		/* attempt.addr as stored */
	bool parsed;		/* text is an address (else no outcome applies) */
	struct addr a;
	struct ctl_last g, s;	/* last gate attempt, last sniff attempt */
};

enum ctl_outcome_kind {
	CTL_OUT_RETRIED,
	CTL_OUT_ALLOWED,
};

/* The latest outcome of one kind for one prefix (bare address: /32, /128). */
struct ctl_outcome {
	struct prefix p;
	enum ctl_outcome_kind kind;
	int64_t t;		/* the latest t of that prefix and kind */
};

/* What the journal holds of a window [lo, hi]. */
struct ctl_journal_set {
	int64_t lo, hi;
	struct ctl_addr *addr;	/* sorted by text */
	size_t naddr, capaddr;
	char **rule;		/* distinct rule names, sorted */
	size_t nrule, caprule;
	size_t *rule_ix;	/* the findings: indexes into rule */
	size_t nrule_ix, caprule_ix;
	struct ctl_outcome *out;	/* sorted by (family, len, bytes, kind) */
	size_t nout, capout;
	unsigned outlen[2][129];	/* [v4, v6][len]: outcomes of that length */
	unsigned long long bad_outcomes;	/* outcome.addr not a prefix */
};

/*
 * Fetch the last gate and sniff attempt of every address with an attempt
 * in [lo, hi], their findings, and every outcome at t >= lo.  with_detail
 * fetches the suspects' columns too.  0, or -1 after printing the fault.
 */
int ctl_journal_fetch(struct ctl_journal *j, int64_t lo, int64_t hi,
    bool with_detail, struct ctl_journal_set *set);
void ctl_journal_free(struct ctl_journal_set *set);
/* The times of every attempt of addr (both daemons) in [lo, hi],
 * ascending, into *t (the caller frees).  0, or -1 after printing. */
int ctl_journal_times(struct ctl_journal *j, const char *addr, int64_t lo,
    int64_t hi, int64_t **t, size_t *n);

/* --- building a set (ctl_journal_fetch, and tests without SQLite) ----- */

/*
 * ctl_tally_addr: the address text, the last one added when it has the
 * same text, else a new one (NULL: out of memory); the pointer holds until
 * the next new address.  ctl_tally_finding: one finding of l (an
 * attempt's findings are added one after another).  ctl_tally_outcome:
 * one outcome row ("retried"/"allowed"; others are ignored, an addr that
 * is no prefix counted in bad_outcomes).  0 or -1 (out of memory).
 * ctl_tally_finish: sort what was added; set->lo and hi must be set.
 */
struct ctl_addr *ctl_tally_addr(struct ctl_journal_set *set, const char *text);
int ctl_tally_finding(struct ctl_journal_set *set, struct ctl_last *l,
    const char *rule);
int ctl_tally_outcome(struct ctl_journal_set *set, const char *prefix,
    const char *kind, int64_t t);
int ctl_tally_finish(struct ctl_journal_set *set);
/* Free what a last attempt holds. */
void ctl_tally_last_free(struct ctl_last *l);

/* --- ctl_tally.c: the counting ---------------------------------------- */

/* Is a in the window starting at lo (its last attempts at or after lo)?
 * Its attempts in that window: the last gate and sniff ones when their t
 * >= lo. */
bool ctl_tally_in(const struct ctl_addr *a, int64_t lo);
/* Was a accepted, by the journal's definition, over the window at lo? */
bool ctl_tally_accepted(const struct ctl_journal_set *set,
    const struct ctl_addr *a, int64_t lo);
/* Did a trigger rule r (an index into set->rule) in the window at lo? */
bool ctl_tally_triggered(const struct ctl_journal_set *set,
    const struct ctl_addr *a, size_t r, int64_t lo);
/* The latest outcome of kind containing a, or INT64_MIN. */
int64_t ctl_tally_outcome_t(const struct ctl_journal_set *set,
    const struct addr *a, enum ctl_outcome_kind kind);

struct ctl_tally_count {
	unsigned long long triggered, accepted;
};

struct ctl_tally_row {
	size_t rule;			/* index into set->rule */
	struct ctl_tally_count all, recent;
};

struct ctl_tally_total {
	unsigned long long addresses, accepted;
};

struct ctl_tally {
	struct ctl_tally_total all, recent;	/* the windows' totals */
	struct ctl_tally_row *row;		/* one per rule, sorted */
	size_t nrow;
};

/*
 * Count the set over its window (from set->lo) and the recent one (from
 * recent_lo >= set->lo): per rule the addresses that triggered it and
 * those of them accepted; totals of addresses and accepted ones.  Rows
 * sorted by triggered count (so share) descending, then recent triggered,
 * then name.  0, or -1 out of memory.
 */
int ctl_tally_count(const struct ctl_journal_set *set, int64_t recent_lo,
    struct ctl_tally *out);
void ctl_tally_free(struct ctl_tally *t);

struct ctl;
/* The journal's file into *path: given (--journal), else the
 * configuration's [journal] file.  CTL_OK, or an exit code after printing
 * the fault (an empty file: the journal is off, CTL_UNREACHABLE). */
int ctl_journal_file(struct ctl *c, const char *given, const char **path);

#endif
