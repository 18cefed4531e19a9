/*
 * allowshare.h - the shared allow list of [cluster] share_allow = yes:
 * the prefixes the gateways of a site allow through `smtpgatectl allow`,
 * each with the node that shared it, as smtpgated keeps it in memory and
 * in a file of its own (smtpgated(8) CLUSTER).
 *
 * The allow file ([nft] allow_file) stays each gateway's local truth: the
 * daemon never writes it (it runs as user smtpgate, the file is root's).
 * What share_allow = yes writes is this list's copy, ALLOWSHARE_FILE in
 * the directory of [sniffer] state_file (/var/lib/smtpgate/allow.shared),
 * one entry a line:
 *   PREFIX NODE
 * ('#' starts a comment line).  The kernel's allow sets hold the union of
 * the allow file and this list.
 *
 * Bounds: at most ALLOWLIST_MAX entries (the allow file's own bound), and
 * no prefix wider than ALLOWSHARE_MIN4 (IPv4) or ALLOWSHARE_MIN6 (IPv6):
 * a sibling's entry is never let widen the allow sets beyond that.
 *
 * Pure parts (check, set, del, diff, parse, format) touch no file; load
 * and save do (save through atomicfile.h).  A struct allowshare owns its
 * entries, sorted by family, address, length; allowshare_free it.
 */
#ifndef SMTPGATE_ALLOWSHARE_H
#define SMTPGATE_ALLOWSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "cluster.h"

#define ALLOWSHARE_FILE		"allow.shared"
#define ALLOWSHARE_MIN4		8	/* an IPv4 prefix at least /8 */
#define ALLOWSHARE_MIN6		16	/* an IPv6 prefix at least /16 */

struct allowshare_entry {
	struct prefix p;
	char node[CLUSTER_NODE_MAX];	/* the gateway that shared it */
	bool seen;			/* delivered since the resync began
					 * (allowshare_see); never saved */
};

struct allowshare {
	struct allowshare_entry *e;
	size_t n, cap;
};

void allowshare_init(struct allowshare *s);
void allowshare_free(struct allowshare *s);

/* NULL when p may be a shared entry, else why not ("wider than /8"). */
const char *allowshare_check(const struct prefix *p);

/* Index of exactly p, or -1. */
ssize_t allowshare_find(const struct allowshare *s, const struct prefix *p);

/*
 * p is shared by node: 1 when added, 0 when it was there (its node now
 * node), -1 with errno EINVAL (allowshare_check refused it, or node is
 * no node name), E2BIG (ALLOWLIST_MAX entries already) or ENOMEM.
 */
int allowshare_set(struct allowshare *s, const struct prefix *p,
    const char *node);
/* Remove p: 0, or -1 when it is not there. */
int allowshare_del(struct allowshare *s, const struct prefix *p);

/*
 * What changed from old[0..nold) to cur[0..ncur) (each sorted by
 * prefix_cmp, no repeats): the prefixes of cur not in old into
 * added (room for ncur), those of old not in cur into removed (room for
 * nold), with their counts.
 */
void allowshare_diff(const struct prefix *old, size_t nold,
    const struct prefix *cur, size_t ncur, struct prefix *added,
    size_t *nadded, struct prefix *removed, size_t *nremoved);

/*
 * A resync's bookkeeping (cluster_on_sync): at its begin every entry is
 * unseen (allowshare_unsee), each entry it delivers is seen
 * (allowshare_see: 0, or -1 when p is not in s).  At its done,
 * allowshare_sweep removes every unseen entry of a node other than node
 * from s, copying at most room of them into gone (the rest removed all
 * the same): the count removed.  allowshare_unheld then writes into out
 * (room for nmine) those of mine[0..nmine) (prefix_cmp order) that
 * no seen entry of s holds, whichever node's: their count.
 */
void allowshare_unsee(struct allowshare *s);
int allowshare_see(struct allowshare *s, const struct prefix *p);
size_t allowshare_sweep(struct allowshare *s, const char *node,
    struct allowshare_entry *gone, size_t room);
size_t allowshare_unheld(const struct allowshare *s,
    const struct prefix *mine, size_t nmine, struct prefix *out);

/* Parse text[0..len) (hostile) into s (emptied first): 0, or -1 with
 * "NAME:LINE: reason" in err and s empty. */
int allowshare_parse(const char *name, const char *text, size_t len,
    struct allowshare *s, char *err, size_t errlen);
/* The file text of s into a new heap string (NULL on out of memory). */
char *allowshare_format(const struct allowshare *s);

/* Its file's path under c: ALLOWSHARE_FILE in the directory of
 * [sniffer] state_file.  0, or -1 when it does not fit in len. */
struct conf;
int allowshare_path(const struct conf *c, char *buf, size_t len);

/*
 * The allow file's entries l and the shared ones e[0..n) as one list
 * (out, allowlist_init'ed by the caller, allowlist_free it), for
 * allowlist_wanted: a shared entry never expires.  Not bounded by
 * ALLOWLIST_MAX.  0, or -1 out of memory.
 */
struct allowlist;
int allowshare_union(const struct allowlist *l,
    const struct allowshare_entry *e, size_t n, struct allowlist *out);

/* Read path into s; a missing file is an empty list.  0, or -1 with
 * err. */
int allowshare_load(const char *path, struct allowshare *s, char *err,
    size_t errlen);
/* Write s to path atomically, mode 0644.  0, or -1 with err. */
int allowshare_save(const char *path, const struct allowshare *s, char *err,
    size_t errlen);

#endif
