/*
 * strikes.h - strikes and bans of smtpgate-sniffd: the arithmetic and the
 * state file.  No I/O except strikes_save/strikes_load; time is passed in
 * (seconds since the epoch), so tests need no clock.
 *
 * An address collects strikes; strikes older than the window start over.
 * The strike that reaches cfg.strikes bans the address for
 * timeout * 2^(bans so far), at most timeout_max; its strikes start over.
 * A banned address is not struck again until its ban ends (the kernel set
 * resets its new connections meanwhile).  A record is forgotten when it
 * has neither strikes in the window nor a ban, and its last ban ended more
 * than timeout_max ago (so escalation memory lasts one longest ban).
 * Observe mode (cfg.observe, [sniffer] enforce = no): the strike that
 * would ban is STRIKES_WOULD_BAN; its strikes start over as after a ban,
 * but neither bans nor banned_until change, so the record never holds a
 * ban that was not applied (a later enforce = yes starts from the true
 * history, and the state file shows none).
 *
 * State file (shared with smtpgatectl, see docs/smtpgate-sniffd.8): first
 * line "# smtpgate-sniffd state v1", then one record per line,
 *   ip=198.51.100.7 strikes=1 first=1763900000 last=1763900100
 *   rule=unqualified bans=2 banned_until=1763903700
 * written to a new file PATH.tmp.XXXXXX (mkostemp: a fresh name, never a
 * planted one) in the same directory, fsynced, renamed over PATH, and the
 * directory fsynced (atomicfile.h).  PATH is read without following a
 * symbolic link and only when it is a regular file.
 */
#ifndef SMTPGATE_STRIKES_H
#define SMTPGATE_STRIKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

#define STRIKES_HEADER		"# smtpgate-sniffd state v1"
#define STRIKES_LINE_MAX	256
#define STRIKES_MAX_RECORDS	1000000	/* beyond: new addresses not struck */
#define STRIKES_TMP_SUFFIX	".tmp."	/* then six random characters */

struct strikes_cfg {
	uint32_t strikes;		/* strikes that ban */
	uint32_t window_s;
	uint32_t timeout_s;		/* first ban */
	uint32_t timeout_max_s;
	bool observe;			/* a ban is only told (WOULD_BAN) */
};

struct strikes_rec {
	struct strikes_rec *next;	/* hash chain */
	struct addr a;
	uint32_t strikes;		/* within the current window */
	int64_t first, last;		/* first strike of the window, last */
	enum conf_rule rule;		/* last rule that struck */
	uint32_t bans;			/* bans so far */
	int64_t banned_until;		/* 0: not banned */
	/* [cluster] (strikes_merge; not in the state file): */
	uint32_t shared_seen;		/* the last shared total merged */
	uint32_t shared_spent;		/* the part of it a ban used up */
};

enum strikes_outcome {
	STRIKES_COUNTED,		/* a strike, no ban (yet) */
	STRIKES_BANNED,			/* this strike banned the address */
	STRIKES_ALREADY_BANNED,		/* banned: nothing counted */
	STRIKES_FULL,			/* table full: nothing counted */
	STRIKES_WOULD_BAN,		/* observe: this strike would have
					 * banned; strikes start over, no ban */
};

struct strikes;

struct strikes *strikes_new(void);
void strikes_free(struct strikes *t);

/* The ban length of the (bans + 1)-th ban: timeout * 2^bans, capped. */
uint32_t strikes_timeout(const struct strikes_cfg *cfg, uint32_t bans);

/*
 * Count one strike for a by rule at now.  *count gets the strikes in the
 * window including this one (cfg->strikes when it banned); *timeout_s the
 * ban length when STRIKES_BANNED (or the one it would have been:
 * WOULD_BAN), the remaining ban when ALREADY_BANNED.
 */
enum strikes_outcome strikes_add(struct strikes *t, const struct addr *a,
    enum conf_rule rule, int64_t now, const struct strikes_cfg *cfg,
    uint32_t *count, uint32_t *timeout_s);

/*
 * A strike total shared by the gateways of a site ([cluster]; the sum
 * every gateway's strikes against a made within the window): a's record
 * (made when it has none) takes max(its strikes, total) within its
 * window, rule (RULE_MAX: kept) as its last, and the merge decides a ban
 * exactly as strikes_add would on reaching cfg.strikes, with the
 * record's own doubling.  The outcomes and *count, *timeout_s are
 * strikes_add's (*count the total when it banned); a total at or below
 * the record's count changes nothing and is STRIKES_COUNTED.
 * As a record's strikes start over after a ban, so does its share of the
 * total: what a ban used up (the total when it banned, and every total
 * merged while banned) is subtracted from later totals, until the shared
 * counter starts over itself (a total below the last one merged).
 */
enum strikes_outcome strikes_merge(struct strikes *t, const struct addr *a,
    uint32_t total, enum conf_rule rule, int64_t now,
    const struct strikes_cfg *cfg, uint32_t *count, uint32_t *timeout_s);
/*
 * A ban another gateway made: a's record (made when it has none) is
 * banned until max(its banned_until, until), its ban count max(its own,
 * bans), its strikes start over (the shared total merged so far is used
 * up).  0, or -1 when the table is full.
 */
int strikes_apply_ban(struct strikes *t, const struct addr *a, uint32_t bans,
    int64_t until);

/* The record of a, or NULL. */
const struct strikes_rec *strikes_find(const struct strikes *t,
    const struct addr *a);
/* Forget a (true when it had a record). */
bool strikes_forget(struct strikes *t, const struct addr *a);
/* Forget every record; calls fn for each first when fn is not NULL. */
void strikes_forget_all(struct strikes *t,
    void (*fn)(void *arg, const struct strikes_rec *r), void *arg);
/* Drop records with nothing left to remember at now (see above). */
size_t strikes_expire(struct strikes *t, int64_t now,
    const struct strikes_cfg *cfg);
/* The same over part (0..parts-1) of the table only: a walk of a big
 * table spread over event-loop turns, parts calls for the whole. */
size_t strikes_expire_part(struct strikes *t, int64_t now,
    const struct strikes_cfg *cfg, unsigned part, unsigned parts);
/* Call fn for every record, in no particular order. */
void strikes_each(const struct strikes *t,
    void (*fn)(void *arg, const struct strikes_rec *r), void *arg);
size_t strikes_count(const struct strikes *t);
/* Has anything changed since the last strikes_save (or load)? */
bool strikes_dirty(const struct strikes *t);
/*
 * For a save made elsewhere (a snapshot written by a child process): the
 * count of changes so far, taken with the snapshot, and, once that save
 * succeeded, strikes_mark_saved with it, so that only changes made since
 * leave the table dirty.
 */
uint64_t strikes_changes(const struct strikes *t);
void strikes_mark_saved(struct strikes *t, uint64_t changes);

/* One record as a state-file line (no newline) into buf. */
void strikes_format(const struct strikes_rec *r, char *buf, size_t len);
/* Parse one state-file line (no newline).  0, or -1 with *why. */
int strikes_parse(const char *line, struct strikes_rec *r, const char **why);

/* Write the state file atomically (above).  0, or -1 with "call path:
 * cause". */
int strikes_save(struct strikes *t, const char *path, char *err,
    size_t errlen);
/* Remove temporary files PATH.tmp.XXXXXX left by a save that never
 * finished (a crash); the count removed. */
size_t strikes_clean_tmp(const char *path);
/*
 * Read the state file into t (added to what it holds).  A missing file is
 * an empty state (0).  A bad line is skipped and counted in *bad; the
 * first one is described in err.  -1 with err when the file cannot be
 * read, is not a regular file (a symbolic link is not followed), or its
 * header is wrong.
 */
int strikes_load(struct strikes *t, const char *path, size_t *bad,
    char *err, size_t errlen);

#endif
