/*
 * nftexpr.h - append one nf_tables expression to a libnftnl rule; the
 * building blocks of nftrules_rule.c (and nftexpr_queue_of, which reads a
 * queue expression back, for nftrules_status and gate_watch).
 *
 * Each function returns 0, or -1 when the expression could not be made
 * (out of memory): the rule is then short, and nftrules_rule_add refuses
 * it, so callers OR the results together and check once.
 */
#ifndef SMTPGATE_NFTEXPR_H
#define SMTPGATE_NFTEXPR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>		/* libnftnl's headers need FILE */

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "nftrules.h"

int nftexpr_expr(struct nftnl_rule *r, struct nftnl_expr *e);
int nftexpr_meta(struct nftnl_rule *r, uint32_t key);
int nftexpr_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
    uint32_t len);
int nftexpr_cmp_u8(struct nftnl_rule *r, uint32_t op, uint8_t v);
int nftexpr_and(struct nftnl_rule *r, const void *mask, uint32_t len);
/* reg1 = (reg1 & mask) ^ xor, len bytes (at most 16). */
int nftexpr_mask_xor(struct nftnl_rule *r, const void *mask, const void *xor,
    uint32_t len);
/* meta KEY set reg1 (the packet mark, ...). */
int nftexpr_meta_set(struct nftnl_rule *r, uint32_t key);
int nftexpr_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len);
int nftexpr_lookup(struct nftnl_rule *r, const char *set, uint32_t id,
    bool inv);
int nftexpr_ct(struct nftnl_rule *r, uint32_t key, int dir);
/* "add @set { reg1 timeout T }" from the packet path (T in ms, 0: the
 * set's default). */
int nftexpr_dynset_add(struct nftnl_rule *r, const char *set, uint32_t id,
    uint64_t timeout_ms);
/* "delete @set { reg1 }" from the packet path (a dynamic set). */
int nftexpr_dynset_del(struct nftnl_rule *r, const char *set, uint32_t id);
int nftexpr_ct_set_mark(struct nftnl_rule *r);
int nftexpr_hton64(struct nftnl_rule *r);
int nftexpr_cmp_u64be(struct nftnl_rule *r, uint32_t op, uint64_t v);
int nftexpr_counter(struct nftnl_rule *r);
/* "log group G snaplen S" (nfnetlink_log: a copy, no verdict). */
int nftexpr_log_group(struct nftnl_rule *r, uint16_t group, uint32_t snaplen);
int nftexpr_verdict(struct nftnl_rule *r, int verdict);
int nftexpr_jump(struct nftnl_rule *r, const char *chain);
int nftexpr_reset(struct nftnl_rule *r);
int nftexpr_queue(struct nftnl_rule *r, uint16_t num, enum nftrules_queue q);
/* The responder's rules (reply.h): reg1 = map[reg1]; reg1 = a port
 * (host order, loaded in network order); redirect to the port in reg1;
 * reg1 = the transparent flag of the socket the packet would reach (the
 * rule ends when there is none). */
int nftexpr_lookup_map(struct nftnl_rule *r, const char *map, uint32_t id);
int nftexpr_imm_port(struct nftnl_rule *r, uint16_t port);
int nftexpr_redir(struct nftnl_rule *r);
int nftexpr_socket_transparent(struct nftnl_rule *r);

/*
 * The other way, for rules read back from the kernel: is e a queue (the
 * native expression, or the xtables NFQUEUE target)?  1 with its flavour
 * and queue number, else 0.
 */
int nftexpr_queue_of(struct nftnl_expr *e, enum nftrules_queue *q,
    uint16_t *num);

#endif
