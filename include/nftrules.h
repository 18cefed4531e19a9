/*
 * nftrules.h - build, check and install smtpgate's nftables table (the
 * same table as nft/smtpgate.nft) over netlink with libnftnl, for
 * smtpgate-nft and the end-to-end tests.
 *
 * The table (family inet, name from [nft] table):
 *   sets allow4/allow6 (interval: loopback + trusted networks),
 *   pass/deny/drop/offend 4/6 (timeout, each with its size),
 *   wait4/6 and retry4/6 (timeout: tempfail's retry keys, the address
 *   or its retry_prefix4/6, matched as ip saddr & MASK after offend6:
 *   wait refuses an early retry, retry passes one and adds its address to
 *   pass4/6 from the packet path with timeout pass_ttl; pass4/6 carry the
 *   dynamic flag for that),
 *   denynet6/dropnet6 (timeout: IPv6 /64 networks, keyed by the address
 *   with its last 64 bits zero, matched as ip6 saddr & ffff:ffff:ffff:ffff::
 *   after pass6), gated_ports (inet_service);
 *   with [sniffer] pregreet on, a base chain "sniff_out" (filter, output,
 *   priority -10, policy accept) whose two rules only COPY (nft log
 *   group, nfnetlink_log; never a queue) the server's reply packet 1 of
 *   each session on a gated port (its SYN-ACK) to the sniffer, and in
 *   chain gate two rules copying the client's packet 2 (the handshake's
 *   ACK): the round-trip part of pregreet (smtpproto.h); with
 *   [sniffer] banner_hold_ms > 0 also sets hold4/hold6 (timeout: the
 *   clients smtpgated accepted on weak evidence) and, in chain
 *   sniff_out, a queue rule (to hold_queue, bypass) for the server's
 *   reply packet 2 (its banner) to a client in them: the banner hold;
 *   one base chain "gate" (filter, input, priority -10, policy accept)
 *   with the rules of nft/smtpgate.nft in the same order: the sniffer's
 *   rules (copy MARK_SNIFFED from a repeated packet to the conntrack mark;
 *   queue client packets 3..sniff_packets of each session on a gated port
 *   to sniff_queue with bypass until the conntrack mark says sniffed)
 *   before the "not a SYN: accept" rule, by a jump to the regular chain
 *   "sniff", which returns allow-listed sources and pure ACKs and queues
 *   the rest), and the last rule queueing SYNs
 *   to conf.gate.queue with bypass; every queue rule either by the native nft
 *   `queue` expression or, on kernels without it, by the xtables NFQUEUE
 *   target (revision 3) through nft_compat, in the same chain.
 *
 * Install is one nf_tables batch: add table (no-op if present), delete
 * it, then create everything - atomic, and idempotent.  Without the batch
 * end message the kernel validates every message, answers, and discards
 * all (how nft --check works): that is nftrules_probe and the dry run.
 * The batches go through the netlink module (netlink.h); nftrules_build
 * and its two siblings make them without a socket, for the golden test of
 * the ruleset (tests/unit/test_nftrules.c, tests/golden/ruleset-*.txt).
 *
 * Functions return 0 / -1 (or the documented values) and write
 * "what: object: cause" into err.
 */
#ifndef SMTPGATE_NFTRULES_H
#define SMTPGATE_NFTRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum nftrules_queue {
	NFTRULES_QUEUE_NONE,	/* no queue rule */
	NFTRULES_QUEUE_NATIVE,	/* nft `queue` expression */
	NFTRULES_QUEUE_XT,	/* xtables NFQUEUE target (nft_compat) */
};

/* What the table is built from (normally a struct conf's fields). */
struct nftrules_conf {
	const char *table;		/* inet table name */
	uint16_t queue;			/* NFQUEUE number */
	const uint16_t *ports;		/* gated TCP ports, host order */
	size_t nports;
	const struct prefix *trusted;	/* allow-set prefixes besides loopback */
	size_t ntrusted;
	uint32_t pass_size;		/* elements of pass4 and of pass6 */
	uint32_t deny_size;		/* deny4, deny6, denynet6 */
	uint32_t drop_size;		/* drop4, drop6, dropnet6 */
	uint32_t offend_size;		/* offend4, offend6 */
	uint32_t retry_size;		/* wait4/6, retry4/6 */
	unsigned retry_plen4;		/* tempfail's retry key: prefix length */
	unsigned retry_plen6;		/* (32 / 128: the address) */
	uint32_t pass_ttl_s;		/* a passed retry's pass element */
	uint16_t sniff_queue;		/* smtpgate-sniffd's NFQUEUE number */
	uint32_t sniff_packets;		/* queue client packets 3..this of a
					 * session; 0: no sniffer rules */
	bool sniff_copies;		/* [sniffer] pregreet on: copy each
					 * session's SYN-ACK and handshake ACK
					 * to nfnetlink_log group sniff_queue
					 * (chain sniff_out, chain gate) */
	bool reply_gate;		/* [gate] reply = smtp: maps reply4/6 */
	bool reply_sniff;		/* [sniffer] reply = smtp */
	uint16_t reply_port;		/* the responder's first port */
	bool banner_hold;		/* [sniffer] banner_hold_ms > 0 with
					 * the copies: sets hold4/6, and in
					 * chain sniff_out the banner (reply
					 * packet 2) to a client in them
					 * queued to hold_queue with bypass */
	uint16_t hold_queue;		/* [sniffer] hold_queue */
};

/* The ruleset's fields of a loaded configuration (cf outlives c: c points
 * into it). */
struct conf;
void nftrules_conf_from(struct nftrules_conf *c, const struct conf *cf);

/* "native" / "xtables NFQUEUE target" / "none". */
const char *nftrules_queue_name(enum nftrules_queue q);

/*
 * Check c before touching the kernel: a table name, 1..16 ports, none of
 * them 0 or twice, trusted prefixes with a family.  What may be gated at
 * all (never submission) is the configuration's rule (conf_load).  0, or
 * -1 with err.
 */
int nftrules_check_conf(const struct nftrules_conf *c, char *err,
    size_t errlen);

/*
 * Install the table with queue flavour q (NATIVE or XT).  commit false:
 * send without the batch end, so the kernel validates and discards (dry
 * run).  0, or -1 with err naming the refused object and the cause.
 */
int nftrules_install(const struct nftrules_conf *c, enum nftrules_queue q,
    bool commit, char *err, size_t errlen);

/*
 * The messages of those batches, appended to b (see netlink.h; the frame
 * is b's): nftrules_build the install batch of c (checked with
 * nftrules_check_conf) with queue flavour q, 0 or -1 when out of memory
 * (b broken); nftrules_build_remove the remove batch; nftrules_build_probe
 * the probe's, returning the id of its queue rule message (-1: b broken).
 */
struct nl_batch;
int nftrules_build(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q);
void nftrules_build_remove(struct nl_batch *b, const char *table);
int nftrules_build_probe(struct nl_batch *b);

/* Delete the table if present (not an error when absent). 0 or -1. */
int nftrules_remove(const char *table, char *err, size_t errlen);

/*
 * Does the kernel have the nft `queue` expression?  Validates a throw-away
 * table with a queue rule without committing.  1 yes, 0 no (the queue
 * rule's own message, and only it, answered ENOENT), -1 with err when the
 * probe itself failed (e.g. no CAP_NET_ADMIN).
 */
int nftrules_probe(char *err, size_t errlen);

/*
 * Which queue flavour the installed table's chain uses, and its queue
 * number.  1 installed, 0 no such table, -1 with err.
 */
int nftrules_status(const char *table, enum nftrules_queue *q,
    uint16_t *queue, char *err, size_t errlen);

#endif
