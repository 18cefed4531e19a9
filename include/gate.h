/*
 * gate.h - the SYN gate of smtpgated: queued SYNs in, verdicts out.
 *
 * gate_new takes a loaded configuration, binds the queue, opens the nft
 * writer and the resolver, and from then on runs from the event loop:
 * each queued SYN starts (or joins) the lookup of its source address; the
 * lookup's PTR, forward-confirmation and DNSBL queries run in parallel; the
 * verdict comes when all answered or at deadline_ms, whichever is first, and
 * answers every SYN that waited on it.  The verdict is cached in the kernel
 * sets.  gate_free accepts every SYN still held (fail open) before it goes.
 */
#ifndef SMTPGATE_GATE_H
#define SMTPGATE_GATE_H

#include <stddef.h>

#include "conf.h"
#include "evloop.h"
#include "ptrclass.h"

struct gate;

struct gate *gate_new(struct evloop *ev, const struct conf *c, char *err,
    size_t errlen);
void gate_free(struct gate *g);

/*
 * Load path anew; on failure keep running with the old config, log why
 * and return -1.  1: the configuration was reloaded but the allow list
 * could not be applied (the kernel's allow sets are unchanged).
 */
int gate_reload(struct gate *g, const char *path);
/*
 * Re-read the allow file ([nft] allow_file) and replace the kernel's
 * allow4/allow6 with loopback, trusted_networks and the entries in force
 * (allowlist.h), and with [cluster] share_allow = yes the site's shared
 * list too (allowshare.h; what the file gained or lost is shared first);
 * arm a timer for the next entry to expire.  gate_new and
 * gate_reload call it; so does the control verb allow-reload.  A missing
 * file is an empty list; a faulty one changes nothing.  0, or -1 with err
 * (also logged).
 */
int gate_allow_reload(struct gate *g, char *err, size_t errlen);
/*
 * Open the verdict journal (journal.h; gate_journal.c) after the
 * privileges are dropped, so its files belong to the daemon's user.  The
 * journal off, or a failure (logged): verdicts go on unjournaled.
 * gate_free closes it.
 */
void gate_journal_open(struct gate *g, const struct conf_journal *cj);
/*
 * [cluster] (gate_cluster.c): share this gate's verdicts with the site's
 * other gateways and apply theirs.  Once, after gate_new and before the
 * daemon detaches (the password file is read as root); nothing when
 * [cluster] is off.  0, or -1 with err (the configuration cannot be
 * used).  gate_free stops it.  gate_cluster_conn: the connection, for the
 * control verb cluster (NULL: off).
 */
int gate_cluster_start(struct gate *g, char *err, size_t errlen);
struct cluster;
const struct cluster *gate_cluster_conn(const struct gate *g);

/*
 * [cluster] share_allow = yes (gate_cluster.c): the control verbs.
 * allow-shared: a first line "share_allow=yes node=NODE shared=N" (or
 * "share_allow=no" alone), then "prefix=PREFIX node=NODE" per entry.  allow-unshare PREFIX:
 * a shared entry that is not in this gateway's allow file is removed
 * from the shared list everywhere (an allow-del shared): 0, or -1 with
 * err (not shared, in the allow file here, share_allow off).
 */
struct control_reply;
void gate_cluster_allow_list(const struct gate *g, struct control_reply *r);
int gate_cluster_allow_unshare(struct gate *g, const char *prefix, char *err,
    size_t errlen);
/* Log the counters as one key=value line (gate_stats.c). */
void gate_stats_log(struct gate *g);
/* The same line into buf (for the control socket). */
void gate_stats_format(struct gate *g, char *buf, size_t len);

#endif
