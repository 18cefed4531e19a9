/*
 * nftset.h - add and delete elements of our nftables sets over netlink
 * (libnftnl on libmnl), in batches, never by running nft.
 *
 * Changes are queued with nftset_add/nftset_del and sent as one nf_tables
 * batch by nftset_flush (the daemon calls it once per event-loop turn, so a
 * burst of verdicts costs one batch).  One failing message aborts a whole
 * batch, so messages are built not to fail: adds use NLM_F_CREATE without
 * NLM_F_EXCL.  On kernels before 6.12 re-adding an element does not refresh
 * its timeout; nftset_add with refresh=true deletes and re-adds in one batch.
 * Errors come back asynchronously; nftset_process reads them.  When a batch
 * fails, its elements are retried one message each, so one bad element
 * (e.g. ENOENT on deleting an expired one) costs no other.
 */
#ifndef SMTPGATE_NFTSET_H
#define SMTPGATE_NFTSET_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct nftset;

struct nftset_stats {
	uint64_t batches;		/* batches sent */
	uint64_t elements;		/* element changes sent */
	uint64_t errors;		/* element changes the kernel refused */
};

/* Open a netlink socket for table (family inet). NULL with err. */
struct nftset *nftset_open(const char *table, char *err, size_t errlen);
void nftset_close(struct nftset *s);
/* The socket, for the event loop (readable when the kernel answered). */
int nftset_fd(const struct nftset *s);

/*
 * Queue an element for set "<base>4" or "<base>6" by a's family, e.g.
 * base "pass" -> pass4.  timeout_s 0: no timeout (the set's default).
 * 0, or -1 when the batch buffer is full even after a flush.
 */
int nftset_add(struct nftset *s, const char *base, const struct addr *a,
    uint32_t timeout_s);
int nftset_del(struct nftset *s, const char *base, const struct addr *a);
/* Interval sets (allow4/allow6): a prefix is a start and an end element. */
int nftset_add_prefix(struct nftset *s, const char *base,
    const struct prefix *p);
int nftset_del_prefix(struct nftset *s, const char *base,
    const struct prefix *p);

/* Send what is queued. 0, or -1 (errno) when sending failed. */
int nftset_flush(struct nftset *s);
/* Read the kernel's answers (non-blocking); log and count errors. */
void nftset_process(struct nftset *s);
/* Flush and wait for every answer (for tools, not the daemon loop). */
int nftset_sync(struct nftset *s);

const struct nftset_stats *nftset_stats(const struct nftset *s);

#endif
