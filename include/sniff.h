/*
 * sniff.h - the core of smtpgate-sniffd: queued client packets in, HELO
 * judgments, strikes and bans out.
 *
 * sniff_new takes a loaded configuration, opens the nft writer, loads the
 * state file (putting running bans back into the sets), opens the
 * resolver, the SPF workers and the control socket, binds [sniffer]
 * queue last, and from then on runs from the event loop: every
 * queued packet's payload is reassembled into command lines (smtpcmd),
 * the packet gets its verdict at once (accept; NF_REPEAT with
 * MARK_SNIFFED once the session is done, so the ruleset stops queueing
 * it), and then each HELO/EHLO and the first MAIL FROM is judged (helo
 * rules at once, DNS and SPF rules when their answers came or at
 * deadline_ms).  A strike counts once per session; the strike that
 * reaches offender_strikes bans the address in offend4/offend6; with
 * cut_session a forged session is cut at once (sniff_cut.c).  Strikes
 * and bans persist in the state file, written from a snapshot by a child
 * process (bgsave.h), never on the loop; the control socket serves stats,
 * reload, offenders, forget and forget-all.  A session that never
 * completes its HELO/EHLO while it can be read is judged trickle.
 * sniff_free waits for a running save and writes what is left; no packet
 * is ever held, so none is lost.
 */
#ifndef SMTPGATE_SNIFF_H
#define SMTPGATE_SNIFF_H

#include <stddef.h>

#include "conf.h"
#include "evloop.h"

struct sniff;

struct sniff *sniff_new(struct evloop *ev, const struct conf *c, char *err,
    size_t errlen);
void sniff_free(struct sniff *s);

/* Load path anew; on failure keep the old config.  0, or -1 with err. */
int sniff_reload(struct sniff *s, const char *path, char *err,
    size_t errlen);
/* Log the counters as one "stats key=value ..." line. */
void sniff_log_stats(struct sniff *s);
/*
 * Open the verdict journal (journal.h; sniff_journal.c) after the
 * privileges are dropped and the SPF supervisor forked, so its files
 * belong to the daemon's user and no child starts with its thread.  The
 * journal off, or a failure (logged): judgments go on unjournaled.
 * sniff_free closes it.
 */
void sniff_journal_open(struct sniff *s, const struct conf_journal *cj);

#endif
