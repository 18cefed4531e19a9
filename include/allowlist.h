/*
 * allowlist.h - the allow list: senders never gated, kept in one plain
 * file ([nft] allow_file, default /etc/smtpgate/allow.list) and applied to
 * the kernel's interval sets allow4/allow6.
 *
 * File format, one entry a line ('#' starts a comment line, blank lines
 * are skipped):
 *   PREFIX [expires=EPOCH] [added=EPOCH] [# COMMENT]
 * PREFIX is an address or ADDR/LEN with no host bits set (prefix_parse);
 * EPOCH is seconds since the epoch; COMMENT runs to the end of the line,
 * printable text without control characters.  smtpgatectl writes the file
 * in exactly this form; an admin may edit it by hand.  A faulty line makes
 * the whole file faulty ("FILE:LINE: reason"): nothing is applied from a
 * file that is not understood.
 *
 * Overlaps: the file keeps what the admin wrote (a /32 inside an allowed
 * /24 stays its own entry, so deleting the /24 leaves it allowed).  Only
 * the kernel's copy is merged: allowlist_wanted drops every prefix that
 * lies inside another, since the kernel refuses overlapping intervals.
 *
 * Writers (smtpgatectl) hold an exclusive flock on "FILE.lock" from
 * before they read until after they renamed the new file into place, so
 * two concurrent changes never lose one another; readers need no lock
 * (the rename is atomic: atomicfile.h writes PATH.tmp.XXXXXX, mode 0644,
 * and renames it over PATH).
 *
 * Memory: a struct allowlist owns its entry array; allowlist_free it.
 */
#ifndef SMTPGATE_ALLOWLIST_H
#define SMTPGATE_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "conf.h"

/*
 * Bounds.  A list at ALLOWLIST_MAX costs its reader about 220 bytes an
 * entry while it is held (struct allow_entry keeps its comment inline),
 * some 220 MB for a million; applying it adds about 70 bytes a prefix of
 * netlink batch for a moment (bench/scale.sh (s2) measures 100,000).
 */
#define ALLOWLIST_MAX		1000000	/* entries in the file at most */
#define ALLOWLIST_COMMENT_MAX	160	/* comment bytes, with the NUL */
#define ALLOWLIST_FILE_MAX	(64 * 1024 * 1024)	/* file size at most */
#define ALLOWLIST_LINE_MAX	512	/* one line, bytes */

struct allow_entry {
	struct prefix p;
	int64_t expires;		/* epoch seconds; 0: never */
	int64_t added;			/* epoch seconds; 0: unknown */
	char comment[ALLOWLIST_COMMENT_MAX];	/* "" when none */
};

struct allowlist {
	struct allow_entry *e;
	size_t n, cap;
};

void allowlist_init(struct allowlist *l);
void allowlist_free(struct allowlist *l);

/*
 * Parse text[0..len) (need not be NUL-terminated) into l (emptied first).
 * 0, or -1 with "NAME:LINE: reason" in err (NAME labels the source);
 * l is empty then.
 */
int allowlist_parse(const char *name, const char *text, size_t len,
    struct allowlist *l, char *err, size_t errlen);

/*
 * Read path into l.  A missing file is an empty list when missing_ok
 * (*missing set true when missing is not NULL).  0, or -1 with err and
 * errno (EINVAL: content refused; else the system's cause).  The path
 * must name a regular file: a symbolic link is not followed (ELOOP), and
 * a FIFO or device is refused without blocking on it, so the daemon's
 * loop never waits on what was planted there.
 */
int allowlist_load(const char *path, bool missing_ok, bool *missing,
    struct allowlist *l, char *err, size_t errlen);
/* The same for a file an admin names (smtpgatectl allow import): a
 * symbolic link is followed; it must exist. */
int allowlist_import_file(const char *path, struct allowlist *l, char *err,
    size_t errlen);

/* The file text of l into a new heap string (NULL on out of memory). */
char *allowlist_format(const struct allowlist *l);

/*
 * Write l to path atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory.  Mode 0644.  0 or -1 with err.
 */
int allowlist_save(const char *path, const struct allowlist *l, char *err,
    size_t errlen);

/*
 * Take the writers' lock of path ("path.lock", created mode 0600), waiting
 * for it at most timeout_ms.  Returns the lock's descriptor (close it to
 * release), or -1 with err.
 */
int allowlist_lock(const char *path, int timeout_ms, char *err,
    size_t errlen);

/*
 * Check a comment: printable, no control characters, shorter than
 * ALLOWLIST_COMMENT_MAX.  NULL when fine, else the reason.
 */
const char *allowlist_comment_check(const char *s);

/*
 * Parse an entry's lifetime, "90s", "30m", "12h", "7d", "2w" (or bare
 * seconds), into seconds (1 s .. ALLOWLIST_EXPIRES_MAX): the syntax of
 * every duration, conf_parse_duration.  0 or -1.
 */
#define ALLOWLIST_EXPIRES_MAX	(INT64_C(10) * 366 * 86400)	/* 10 years */
int allowlist_duration_parse(const char *s, int64_t *out);

/* Index of the entry with exactly prefix p, or -1. */
ssize_t allowlist_find(const struct allowlist *l, const struct prefix *p);
/* Index of the first entry other than exactly p that contains p, or -1. */
ssize_t allowlist_covering(const struct allowlist *l, const struct prefix *p);

/*
 * Add e; an entry with the same prefix is replaced (its comment and
 * expiry updated; *replaced true).  0, or -1 when the list is full
 * (ALLOWLIST_MAX) or out of memory.
 */
int allowlist_add(struct allowlist *l, const struct allow_entry *e,
    bool *replaced);
/*
 * Add every entry of in (each prefix once, as allowlist_parse makes it)
 * to l: an entry of l with the same prefix is replaced in place (counted
 * in *updated), the others are appended in in's order (*added).  Sorts an
 * index, so a 100,000-entry import costs no more than its sort.  0, or -1
 * (errno E2BIG when l would pass ALLOWLIST_MAX: l is unchanged then;
 * ENOMEM).
 */
int allowlist_merge(struct allowlist *l, const struct allowlist *in,
    size_t *added, size_t *updated);
/* Delete the entry with exactly prefix p.  0, or -1 when there is none. */
int allowlist_del(struct allowlist *l, const struct prefix *p);
/* Drop entries expired at now; returns how many. */
size_t allowlist_prune(struct allowlist *l, int64_t now);

/*
 * What the kernel's allow sets must hold at now: loopback (127.0.0.0/8,
 * ::1/128), the trusted networks, and every entry not expired, with every
 * prefix that lies inside another (or repeats it) dropped, sorted by
 * family then address.  out has room for outcap prefixes.  Returns the
 * count, or -1 when outcap is too small.  *next_expiry (may be NULL): the
 * earliest future expiry of an entry, 0 when none.
 */
ssize_t allowlist_wanted(const struct allowlist *l, const struct conf_gate *g,
    int64_t now, struct prefix *out, size_t outcap, int64_t *next_expiry);

/*
 * Replace the contents of allow4/allow6 in table with wanted[0..n) in one
 * batch (nftset_replace).  0, or -1 with err (errno from nftset_replace).
 */
int allowlist_apply(const char *table, const struct prefix *wanted, size_t n,
    char *err, size_t errlen);

/*
 * Load c's allow file (missing = empty) and apply it with c's trusted
 * networks.  For the daemon (start and reload) and smtpgatectl.  0, or -1
 * with err (nothing applied when the file was refused).  *napplied: the
 * entries in force; *next_expiry as for allowlist_wanted.
 */
int allowlist_apply_conf(const struct conf *c, int64_t now, size_t *napplied,
    int64_t *next_expiry, char *err, size_t errlen);

#endif
