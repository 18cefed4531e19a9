/*
 * nftexpr.c - one nf_tables expression at a time, appended to a libnftnl
 * rule (nftexpr.h).  nftrules_rule.c composes the table's rules from
 * these; nftexpr_queue_of reads a queue expression back.
 */
#include <stdio.h>		/* libnftnl's headers need FILE */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "nftexpr.h"

/*
 * Each helper appends one expression to r.  An allocation failure leaves
 * the rule short, which nftrules_rule_add catches (callers OR the
 * results together).
 */
int
nftexpr_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL)
		return -1;
	nftnl_rule_add_expr(r, e);
	return 0;
}

int
nftexpr_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
    uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_cmp_u8(struct nftnl_rule *r, uint32_t op, uint8_t v)
{
	return nftexpr_cmp(r, op, &v, 1);
}

/* reg1 = reg1 & mask (xor 0), len bytes (at most 16: one IPv6 address). */
int
nftexpr_and(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	uint8_t zero[16] = { 0 };

	if (len > sizeof(zero))
		return -1;
	return nftexpr_mask_xor(r, mask, zero, len);
}

int
nftexpr_mask_xor(struct nftnl_rule *r, const void *mask, const void *xor,
    uint32_t len)
{
	struct nftnl_expr *e;

	if (len > 16)
		return -1;
	if ((e = nftnl_expr_alloc("bitwise")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_meta_set(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_lookup(struct nftnl_rule *r, const char *set, uint32_t id,
    bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
		if (inv)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
			    NFT_LOOKUP_F_INV);
	}
	return nftexpr_expr(r, e);
}

/* From the packet path: add reg1 to set with a timeout (ms; 0: the
 * set's); an element already there is left as it is. */
int
nftexpr_dynset_add(struct nftnl_rule *r, const char *set, uint32_t id,
    uint64_t timeout_ms)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, id);
		if (timeout_ms != 0)
			nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT,
			    timeout_ms);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_dynset_del(struct nftnl_rule *r, const char *set, uint32_t id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP,
		    NFT_DYNSET_OP_DELETE);
		nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, id);
	}
	return nftexpr_expr(r, e);
}

/* reg1 = conntrack key (original direction when dir >= 0). */
int
nftexpr_ct(struct nftnl_rule *r, uint32_t key, int dir)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		if (dir >= 0)
			nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, (uint8_t)dir);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	return nftexpr_expr(r, e);
}

/* ct mark = reg1. */
int
nftexpr_ct_set_mark(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
	}
	return nftexpr_expr(r, e);
}

/* reg1 (a host-order u64 counter) to network order, as nft does before a
 * range compare: cmp compares bytes, so only big-endian orders right. */
int
nftexpr_hton64(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("byteorder");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP,
		    NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 8);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 8);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_cmp_u64be(struct nftnl_rule *r, uint32_t op, uint64_t v)
{
	uint8_t b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)(v & 0xff);
	return nftexpr_cmp(r, op, b, 8);
}

/* "log group G snaplen S": a copy of the packet to nfnetlink_log group
 * G (batched as its listener asked); no verdict. */
int
nftexpr_log_group(struct nftnl_rule *r, uint16_t group, uint32_t snaplen)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (e != NULL) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, snaplen);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_counter(struct nftnl_rule *r)
{
	return nftexpr_expr(r, nftnl_expr_alloc("counter"));
}

int
nftexpr_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
		    (uint32_t)verdict);
	}
	return nftexpr_expr(r, e);
}

/* A jump to (or, chain NULL, a return from) a regular chain. */
int
nftexpr_jump(struct nftnl_rule *r, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
		    (uint32_t)(chain != NULL ? NFT_JUMP : NFT_RETURN));
		if (chain != NULL)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_reset(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
		    NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_queue(struct nftnl_rule *r, uint16_t num, enum nftrules_queue q)
{
	struct nftnl_expr *e;
	struct xt_NFQ_info_v3 *info;

	if (q == NFTRULES_QUEUE_NATIVE) {
		if ((e = nftnl_expr_alloc("queue")) != NULL) {
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
			    NFT_QUEUE_FLAG_BYPASS);
		}
		return nftexpr_expr(r, e);
	}
	/* xtables NFQUEUE target, revision 3, through nft_compat.  libnftnl
	 * takes ownership of info and frees it with the expression. */
	if ((e = nftnl_expr_alloc("target")) == NULL)
		return -1;
	if ((info = calloc(1, sizeof(*info))) == NULL) {
		nftnl_expr_free(e);
		return -1;
	}
	info->queuenum = num;
	info->queues_total = 1;
	info->flags = NFQ_FLAG_BYPASS;
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	return nftexpr_expr(r, e);
}


int
nftexpr_queue_of(struct nftnl_expr *e, enum nftrules_queue *q, uint16_t *num)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const char *tg;
	const struct xt_NFQ_info_v3 *info;
	uint32_t len = 0;

	if (name == NULL)
		return 0;
	if (strcmp(name, "queue") == 0) {
		*q = NFTRULES_QUEUE_NATIVE;
		*num = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
		return 1;
	}
	if (strcmp(name, "target") != 0 ||
	    (tg = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME)) == NULL ||
	    strcmp(tg, "NFQUEUE") != 0)
		return 0;
	*q = NFTRULES_QUEUE_XT;
	*num = 0;
	info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
	/* Revisions 1-3 all start with queuenum. */
	if (info != NULL && len >= sizeof(uint16_t))
		*num = info->queuenum;
	return 1;
}

int
nftexpr_lookup_map(struct nftnl_rule *r, const char *map, uint32_t id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, map);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_imm_port(struct nftnl_rule *r, uint16_t port)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	uint16_t be = htons(port);

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &be, sizeof(be));
	}
	return nftexpr_expr(r, e);
}

/* As nft writes "redirect to :PORT": the port range's minimum in reg1,
 * NF_NAT_RANGE_PROTO_SPECIFIED (2). */
int
nftexpr_redir(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("redir");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN,
		    NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS, 2);
	}
	return nftexpr_expr(r, e);
}

int
nftexpr_socket_transparent(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("socket");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY,
		    NFT_SOCKET_TRANSPARENT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
	}
	return nftexpr_expr(r, e);
}
