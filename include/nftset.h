/*
 * nftset.h - add and delete elements of our nftables sets over netlink
 * (libnftnl on libmnl), in batches, never by running nft.
 *
 * Changes are queued with nftset_add/nftset_del and sent as one nf_tables
 * batch by nftset_flush (the daemon calls it once per event-loop turn, so a
 * burst of verdicts costs one batch).  One failing message aborts a whole
 * batch, so messages are built not to fail: adds use NLM_F_CREATE without
 * NLM_F_EXCL.  On kernels before 6.12 re-adding an element does not refresh
 * its timeout (see Refresh below).
 * Errors come back asynchronously; nftset_process reads them.  When a batch
 * fails, its elements are retried one message each, so one bad element
 * (e.g. ENOENT on deleting an expired one) costs no other.
 *
 * A set at its size refuses adds with ENFILE.  Those are counted in
 * stats.full, not in stats.errors, and logged once per streak: when the
 * first is refused and when an add to that set goes through again.
 * While a set is full its adds travel alone (as the retries do), so they
 * do not abort the batches of other sets.
 *
 * Refresh: this interface has no refresh flag.  Kernels 6.12 and later
 * refresh an element's timeout when it is re-added, which nftset_add does;
 * on older kernels the timeout of an existing element is left as it was.
 *
 * How answers are matched: by the netlink module (netlink.h).  Every
 * message is labelled ("add element pass4 192.0.2.7") and carries its own
 * sequence number.  The kernel processes a batch inside the sendmsg() that
 * carries it, so all answers to a batch are queued on the socket before
 * nftset_flush returns; a read that drains the socket (EAGAIN) therefore
 * settles every batch sent before it.  Adds and deletes carry no
 * NLM_F_ACK in the daemon (only errors come back); nftset_sync asks for an
 * ack of every message and checks each arrived.  A refusal is logged as
 * "nftset: table inet T: add element pass4 192.0.2.7: CAUSE".
 */
#ifndef SMTPGATE_NFTSET_H
#define SMTPGATE_NFTSET_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct nftset;

#define NFTSET_NAME_MAX		32	/* set name with its NUL ("offend6") */
#define NFTSET_TABLE_MAX	64	/* table name with its NUL */
#define NFTSET_MSG_MAX		512	/* one element message at most, bytes */

/*
 * One element change: one NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM message.
 * The unit nftset queues, sends and retries.  Built by nftset_elem_addr or
 * nftset_elem_prefix; exposed so tests can build and parse messages.
 */
struct nftset_elem {
	char set[NFTSET_NAME_MAX];	/* "pass4", "allow6", ... */
	bool del;			/* delete instead of add */
	uint8_t keylen;			/* 4 (IPv4), 16 (IPv6); 1-16 bytes for
					 * other keys (2: inet_service) */
	uint8_t key[16];		/* address, network order */
	bool interval;			/* prefix in an interval set */
	uint8_t plen;			/* interval: its prefix length */
	bool has_end;			/* interval: an end element follows */
	uint8_t end[16];		/* interval: first address past the prefix */
	uint64_t timeout_ms;		/* 0: the set's default (adds only) */
	uint8_t datalen;		/* maps: the value's length, 0: a set */
	uint8_t data[16];		/* maps: the value (a port: 2 bytes,
					 * network order) */
};

struct nftset_stats {
	uint64_t batches;		/* batches sent */
	uint64_t elements;		/* element changes sent */
	uint64_t errors;		/* element changes the kernel refused
					 * (a full set's refusals aside) */
	uint64_t full;			/* adds refused: the set was full */
};

/*
 * Open a non-blocking netlink socket for table (family inet).  NULL with
 * "call: object: cause" in err.  Needs CAP_NET_ADMIN only to send.
 */
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
/* A map element "<base>4"/"<base>6": a -> port (an inet_service value),
 * e.g. reply4 { 192.0.2.7 : 7026 }.  As nftset_add otherwise. */
int nftset_add_port(struct nftset *s, const char *base, const struct addr *a,
    uint16_t port, uint32_t timeout_s);
/* Interval sets (allow4/allow6): a prefix is a start and an end element. */
int nftset_add_prefix(struct nftset *s, const char *base,
    const struct prefix *p);
int nftset_del_prefix(struct nftset *s, const char *base,
    const struct prefix *p);

/* Send what is queued. 0, or -1 (errno) when sending failed. */
int nftset_flush(struct nftset *s);
/* Read the kernel's answers (non-blocking); log and count errors. */
void nftset_process(struct nftset *s);
/*
 * Flush and wait for every answer (for tools, not the daemon loop): every
 * message asks for an ack.  0 when every change was applied; -1 when
 * sending failed (errno), an answer did not come, or the kernel refused a
 * change (errno EIO; stats count them, the log names them).
 */
int nftset_sync(struct nftset *s);

const struct nftset_stats *nftset_stats(const struct nftset *s);

/*
 * Replace the whole content of sets: one nf_tables batch that flushes
 * every set named in sets[] (a DELSETELEM message without elements) and
 * then adds elems[], sent on a netlink socket of its own and waited for
 * (nl_exchange: every message acked), so it does not disturb an open
 * struct nftset.  Consecutive elements of one set travel together in
 * messages of up to NFTSET_PACK_BYTES (about 800 IPv4 prefixes each), so
 * a million elements are about 1,300 messages, one sendmsg of some 50 MB
 * and as many acks; the kernel checks and applies them in one
 * transaction.
 * The kernel applies the batch whole or not at all: a set is never seen
 * empty or half filled, and on any failure it keeps what it held.
 * For interval sets the caller passes prefixes that do not overlap (the
 * kernel refuses overlaps, and that aborts the batch).  At most
 * NFTSET_REPLACE_MAX elements.  0, or -1 with "nftset: ..." in err
 * (naming the refused message: "flush set pass4: ...", "add element
 * allow4 10.0.0.0/8: ...") and
 * errno set (EPERM without CAP_NET_ADMIN, ENOENT when the table or a set
 * is missing, E2BIG when there are too many elements).
 */
#define NFTSET_REPLACE_MAX	1100000	/* the allow list's 1,000,000, the
					 * trusted networks, loopback */
int nftset_replace(const char *table, const char *const *sets, size_t nsets,
    const struct nftset_elem *elems, size_t nelems, char *err, size_t errlen);

/*
 * The same, built one element at a time, so a caller with a million
 * prefixes need not hold a million struct nftset_elem at once:
 * nftset_replace_begin, nftset_replace_add for each element (copied at
 * once), nftset_replace_commit (sends, waits, frees; on any earlier
 * failure it only reports it).  nftset_replace_abort frees unsent.
 */
struct nftset_replace;
struct nftset_replace *nftset_replace_begin(const char *table,
    const char *const *sets, size_t nsets, char *err, size_t errlen);
int nftset_replace_add(struct nftset_replace *r, const struct nftset_elem *e);
int nftset_replace_commit(struct nftset_replace *r, char *err, size_t errlen);
void nftset_replace_abort(struct nftset_replace *r);

/*
 * Message builders, for nftset itself and for tests (no socket needed).
 *
 * nftset_elem_addr: one address for "<base>4"/"<base>6".  timeout_s only
 * counts for adds.  nftset_elem_prefix: a prefix for an interval set (a
 * start element, plus an INTERVAL_END element at prefix_end() unless the
 * prefix reaches the end of the address space).  Both 0, or -1 when the
 * set name would not fit or the address family is unknown.
 */
int nftset_elem_addr(struct nftset_elem *e, bool del, const char *base,
    const struct addr *a, uint32_t timeout_s);
int nftset_elem_prefix(struct nftset_elem *e, bool del, const char *base,
    const struct prefix *p);
/*
 * Write e as one nf_tables message (family NFPROTO_INET) for table into
 * buf with sequence number seq (and NLM_F_ACK when ack).  Returns the
 * message length, or 0 when len < NFTSET_MSG_MAX or table is too long.
 * The message is not wrapped in a batch.
 */
size_t nftset_build_elem_msg(void *buf, size_t len, const char *table,
    const struct nftset_elem *e, uint32_t seq, bool ack);
/*
 * One message holding e[0..*packed): as many of the n changes as fit in
 * min(len, NFTSET_PACK_BYTES) bytes, stopping at the first that is of
 * another set or kind (add or delete, key length, interval, value).
 * Returns the message length, or 0 (then *packed is 0) when
 * len < NFTSET_MSG_MAX, n is 0 or e[0] or table is unfit.
 */
#define NFTSET_PACK_BYTES	32768	/* one packed message at most */
#define NFTSET_ELEM_ROOM	160	/* one change in it at most, bytes */
size_t nftset_build_elems_msg(void *buf, size_t len, const char *table,
    const struct nftset_elem *e, size_t n, size_t *packed, uint32_t seq,
    bool ack);
/*
 * e's label: "add element pass4 192.0.2.7", "delete element allow6
 * 2001:db8::/32", "add element gated_ports 25" (2-byte keys are ports).
 * Returns buf.
 */
const char *nftset_elem_label(const struct nftset_elem *e, char *buf,
    size_t len);

/*
 * nftset_dump.c: the elements of a GETSETELEM answer, decoded once for
 * every reader of the sets (smtpgated's retry notes, smtpgatectl).
 * fn runs for each element whose key is an address (4 or 16 bytes; other
 * keys, such as a port set's, are skipped) and returns 0 to go on or -1
 * to stop.  Returns 0; 1 when nlh is not a set element message; -1 when
 * memory ran out (errno ENOMEM) or fn stopped.
 */
struct nlmsghdr;
struct nftset_dumped {
	struct addr a;			/* the key */
	bool interval_end;		/* interval sets: an end element */
	uint64_t timeout_ms;		/* the element's timeout, 0 none */
	uint64_t expires_ms;		/* time left, 0 none */
	uint16_t port;			/* a map's inet_service value, host
					 * order; 0 none */
};
typedef int (*nftset_dump_fn)(const struct nftset_dumped *d, void *arg);
int nftset_dump_elems(const struct nlmsghdr *nlh, nftset_dump_fn fn,
    void *arg);

#endif
