/*
 * nftrules_int.h - what the files of the ruleset installer share; not for
 * other modules.
 *
 *   nftrules.c        the exchanges with the kernel (install, remove,
 *                     probe, status) and the install batch's order
 *   nftrules_table.c  the table, its sets and their elements, its chains
 *   nftrules_rule.c   the rules of chains gate and sniff, and the probe's
 *   nftexpr.c         the expressions the rules are made of
 *
 * Every builder appends labelled messages (NLM_F_ACK, sequence numbers
 * stamped when sent) to a struct nl_batch; one that cannot make its
 * message marks the batch broken (nl_batch_fail), which then does not
 * send.  Messages go out in the order the builders are called.
 */
#ifndef SMTPGATE_NFTRULES_INT_H
#define SMTPGATE_NFTRULES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "netlink.h"
#include "nftrules.h"

#define NFTRULES_MSG_ROOM	8192		/* any one message is smaller */
#define NFTRULES_CHAIN		"gate"
#define NFTRULES_SNIFF_CHAIN	"sniff"	/* regular chain, from gate */
#define NFTRULES_REPLY_CHAIN	"reply"	/* nat prerouting (reply.h) */
#define NFTRULES_OUT_CHAIN	"sniff_out"	/* filter output: copies */
#define NFTRULES_COPY_SNAPLEN	128	/* IPv6 + TCP headers with options */
#define NFTRULES_PROBE_TABLE	"smtpgate_probe"
#define NFTRULES_PROBE_CHAIN	"probe"

/* The sets, with their ids in the batch (lookups name them by both). */
enum nftrules_set_id {
	NFTRULES_SET_ALLOW4 = 1, NFTRULES_SET_ALLOW6, NFTRULES_SET_PASS4,
	NFTRULES_SET_PASS6, NFTRULES_SET_DENY4, NFTRULES_SET_DENY6,
	NFTRULES_SET_DROP4, NFTRULES_SET_DROP6, NFTRULES_SET_OFFEND4,
	NFTRULES_SET_OFFEND6, NFTRULES_SET_PORTS, NFTRULES_SET_DENYNET6,
	NFTRULES_SET_DROPNET6, NFTRULES_SET_WAIT4, NFTRULES_SET_WAIT6,
	NFTRULES_SET_RETRY4, NFTRULES_SET_RETRY6, NFTRULES_SET_EARLY4,
	NFTRULES_SET_EARLY6, NFTRULES_SET_RETRIED4, NFTRULES_SET_RETRIED6,
	NFTRULES_SET_REPLY4, NFTRULES_SET_REPLY6, NFTRULES_SET_HOLD4,
	NFTRULES_SET_HOLD6,
};

/* How long a hold4/6 element lasts, when smtpgated gives none: the
 * handshake and the MTA's banner come well within it (gate_apply.c). */
#define NFTRULES_HOLD_TIMEOUT_MS	5000

/* How long the retry rules' notes (early4/6, retried4/6) last when no
 * smtpgated reads and deletes them (gate_retry.c). */
#define NFTRULES_NOTE_TIMEOUT_MS	(10 * 60 * 1000)
#define NFTRULES_GC_INTERVAL_MS	10000	/* timeout sets: expired elements freed */

/* nftrules.c: start an nf_tables message (family inet, NLM_F_ACK) of
 * NFTRULES_MSG_ROOM bytes at the end of b; NULL when b is broken. */
struct nlmsghdr *nftrules_msg(struct nl_batch *b, uint16_t type,
    uint16_t flags);

/* nftrules_table.c */
/* "add table inet T" (a no-op when present) or "delete table inet T". */
void nftrules_table_add(struct nl_batch *b, const char *table, bool del);
/* The sets of nftrules.h, each with its size. */
void nftrules_table_sets(struct nl_batch *b, const struct nftrules_conf *c);
/* gated_ports' elements, then allow4/allow6's: loopback and the trusted
 * networks, outermost prefixes only. */
void nftrules_table_ports(struct nl_batch *b, const struct nftrules_conf *c);
void nftrules_table_allow(struct nl_batch *b, const struct nftrules_conf *c);
/* A chain: base, the filter input hook at priority -10 with policy
 * accept (gate); else a regular one (sniff, the probe's). */
void nftrules_table_chain(struct nl_batch *b, const char *table,
    const char *chain, bool base);
/* The copies' chain: filter, hook output, priority -10, policy accept. */
void nftrules_table_out_chain(struct nl_batch *b, const char *table,
    const char *chain);
/* The responder's chain: nat, hook prerouting, priority dstnat (-100),
 * policy accept (reply.h). */
void nftrules_table_nat_chain(struct nl_batch *b, const char *table,
    const char *chain);

/* nftrules_rule.c */
void nftrules_rule_gate(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q);
void nftrules_rule_sniff(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q);
/* Chain sniff_out's rules: the server's SYN-ACK copied to the sniffer's
 * nfnetlink_log group (never queued); with the banner hold, the banner
 * to a client in hold4/6 queued (flavour q) to the hold queue. */
void nftrules_rule_sniff_out(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q);
/* Chain reply's rules: refused sources redirected to the responder. */
void nftrules_rule_reply(struct nl_batch *b, const struct nftrules_conf *c);
/* The probe's rule: "queue num 0 bypass" (native).  Its message id, or
 * -1 (b broken). */
int nftrules_rule_probe(struct nl_batch *b);

#endif
