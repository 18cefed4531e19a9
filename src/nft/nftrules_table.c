/*
 * nftrules_table.c - smtpgate's table as objects: the table itself, its
 * sets (with sizes and the allow list's interval flag), their first
 * elements (gated ports; loopback and the trusted networks) and its
 * chains, each one labelled message of an nf_tables batch
 * (nftrules_int.h).  The rules in the chains come from nftrules_rule.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "log.h"
#include "nftrules_int.h"
#include "nftset.h"

#define NFTRULES_TABLE_PRIO	(-10)		/* priority filter - 10 */
#define NFTRULES_NAT_PRIO	(-100)		/* priority dstnat */

/* nft's datatype numbers (src/datatype.h), so `nft list` prints keys. */
#define NFTRULES_TYPE_IPV4	7
#define NFTRULES_TYPE_IPV6	8
#define NFTRULES_TYPE_SERVICE	13

void
nftrules_table_add(struct nl_batch *b, const char *table, bool del)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	if ((t = nftnl_table_alloc()) == NULL) {
		nl_batch_fail(b);
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	if ((nlh = nftrules_msg(b, del ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE,
	    del ? 0 : NLM_F_CREATE)) != NULL) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		(void)nl_batch_add(b, "%s table inet %s", del ? "delete" :
		    "add", table);
	}
	nftnl_table_free(t);
}

/* size 0: no size (the kernel's default: no limit); timeout_ms 0: no
 * default timeout.  A map (NFT_SET_MAP in flags) maps to inet_service
 * values. */
static void
nftrules_table_set(struct nl_batch *b, const char *table, const char *name,
    uint32_t id, uint32_t type, uint32_t keylen, uint32_t flags,
    uint32_t size, uint64_t timeout_ms)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	if ((s = nftnl_set_alloc()) == NULL) {
		nl_batch_fail(b);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
	if (flags != 0)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	if (size != 0)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	if (timeout_ms != 0)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, timeout_ms);
	/*
	 * The kernel's garbage collection walks a timeout set whole, once a
	 * second by default: with a million cached verdicts that walk took
	 * 6% of a two-core machine (bench/scale.sh (s1)).  Expired elements
	 * match no lookup meanwhile (and an add beside one works), so a
	 * slower walk only keeps their memory, and their place in the set's
	 * size, up to NFTRULES_GC_INTERVAL_MS longer.
	 */
	if (flags & NFT_SET_TIMEOUT)
		nftnl_set_set_u32(s, NFTNL_SET_GC_INTERVAL,
		    NFTRULES_GC_INTERVAL_MS);
	if (flags & NFT_SET_MAP) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE,
		    NFTRULES_TYPE_SERVICE);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2);
	}
	if ((nlh = nftrules_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE |
	    NLM_F_EXCL)) != NULL) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		(void)nl_batch_add(b, "add set %s", name);
	}
	nftnl_set_free(s);
}

void
nftrules_table_sets(struct nl_batch *b, const struct nftrules_conf *c)
{
	/* Each kind as an IPv4 and an IPv6 set (id 0: none of that family;
	 * the /64 sets are IPv6 only), in the order of nft/smtpgate.nft. */
	const struct {
		const char *base;
		uint32_t id4, id6, flags, size;
		uint64_t timeout_ms;
	} sets[] = {
		{ "allow", NFTRULES_SET_ALLOW4, NFTRULES_SET_ALLOW6,
		    NFT_SET_INTERVAL, 0, 0 },
		/* dynamic: the retry rules add to them. */
		{ "pass", NFTRULES_SET_PASS4, NFTRULES_SET_PASS6,
		    NFT_SET_TIMEOUT | NFT_SET_EVAL, c->pass_size, 0 },
		{ "deny", NFTRULES_SET_DENY4, NFTRULES_SET_DENY6,
		    NFT_SET_TIMEOUT, c->deny_size, 0 },
		{ "denynet", 0, NFTRULES_SET_DENYNET6, NFT_SET_TIMEOUT,
		    c->deny_size, 0 },
		{ "drop", NFTRULES_SET_DROP4, NFTRULES_SET_DROP6,
		    NFT_SET_TIMEOUT, c->drop_size, 0 },
		{ "dropnet", 0, NFTRULES_SET_DROPNET6, NFT_SET_TIMEOUT,
		    c->drop_size, 0 },
		{ "offend", NFTRULES_SET_OFFEND4, NFTRULES_SET_OFFEND6,
		    NFT_SET_TIMEOUT, c->offend_size, 0 },
		{ "wait", NFTRULES_SET_WAIT4, NFTRULES_SET_WAIT6,
		    NFT_SET_TIMEOUT, c->retry_size, 0 },
		{ "retry", NFTRULES_SET_RETRY4, NFTRULES_SET_RETRY6,
		    NFT_SET_TIMEOUT, c->retry_size, 0 },
		/* The retry rules' notes for smtpgated's log (dynamic). */
		{ "early", NFTRULES_SET_EARLY4, NFTRULES_SET_EARLY6,
		    NFT_SET_TIMEOUT | NFT_SET_EVAL, c->retry_size,
		    NFTRULES_NOTE_TIMEOUT_MS },
		{ "retried", NFTRULES_SET_RETRIED4, NFTRULES_SET_RETRIED6,
		    NFT_SET_TIMEOUT | NFT_SET_EVAL, c->retry_size,
		    NFTRULES_NOTE_TIMEOUT_MS },
		/* [gate] reply = smtp: address -> responder port (reply.h),
		 * one element beside each deny element. */
		{ "reply", NFTRULES_SET_REPLY4, NFTRULES_SET_REPLY6,
		    NFT_SET_MAP | NFT_SET_TIMEOUT, c->deny_size, 0 },
	};
	char name[NFTSET_NAME_MAX];

	/* [sniffer] banner_hold_ms: smtpgated's first-time clients accepted
	 * on weak evidence, for a few seconds (nftrules_int.h). */
	if (c->banner_hold) {
		/* dynamic: the hold rule deletes from them. */
		nftrules_table_set(b, c->table, "hold4", NFTRULES_SET_HOLD4,
		    NFTRULES_TYPE_IPV4, 4, NFT_SET_TIMEOUT | NFT_SET_EVAL,
		    c->offend_size, NFTRULES_HOLD_TIMEOUT_MS);
		nftrules_table_set(b, c->table, "hold6", NFTRULES_SET_HOLD6,
		    NFTRULES_TYPE_IPV6, 16, NFT_SET_TIMEOUT | NFT_SET_EVAL,
		    c->offend_size, NFTRULES_HOLD_TIMEOUT_MS);
	}
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		if ((sets[i].flags & NFT_SET_MAP) && !c->reply_gate)
			continue;
		if (sets[i].id4 != 0) {
			snprintf(name, sizeof(name), "%s4", sets[i].base);
			nftrules_table_set(b, c->table, name, sets[i].id4,
			    NFTRULES_TYPE_IPV4, 4, sets[i].flags, sets[i].size,
			    sets[i].timeout_ms);
		}
		snprintf(name, sizeof(name), "%s6", sets[i].base);
		nftrules_table_set(b, c->table, name, sets[i].id6,
		    NFTRULES_TYPE_IPV6, 16, sets[i].flags, sets[i].size,
		    sets[i].timeout_ms);
	}
	nftrules_table_set(b, c->table, "gated_ports", NFTRULES_SET_PORTS,
	    NFTRULES_TYPE_SERVICE, 2, 0, 0, 0);
}

/* One element message, labelled as nftset labels its own. */
static void
nftrules_table_elem(struct nl_batch *b, const char *table,
    const struct nftset_elem *e)
{
	char what[NL_LABEL_MAX];
	void *p;

	if ((p = nl_batch_put(b, NFTSET_MSG_MAX)) == NULL)
		return;
	if (nftset_build_elem_msg(p, NFTSET_MSG_MAX, table, e, 0, true) == 0) {
		nl_batch_fail(b);
		return;
	}
	(void)nl_batch_add(b, "%s", nftset_elem_label(e, what, sizeof(what)));
}

void
nftrules_table_ports(struct nl_batch *b, const struct nftrules_conf *c)
{
	struct nftset_elem e;
	uint16_t be;

	for (size_t i = 0; i < c->nports; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.set, sizeof(e.set), "gated_ports");
		be = htons(c->ports[i]);
		memcpy(e.key, &be, 2);
		e.keylen = 2;
		nftrules_table_elem(b, c->table, &e);
	}
}

/* Is p inside one of the first n prefixes of list? */
static bool
nftrules_table_covered(const struct prefix *p, const struct prefix *list,
    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].a.family == p->a.family &&
		    list[i].len <= p->len && prefix_contains(&list[i], &p->a))
			return true;
	return false;
}

/*
 * Allow-set elements: loopback and the trusted networks.  The kernel
 * refuses overlapping intervals, and trusted networks may nest (or
 * contain loopback), so only outermost prefixes are sent: shortest first,
 * each skipped when an earlier one covers it.
 */
void
nftrules_table_allow(struct nl_batch *b, const struct nftrules_conf *c)
{
	struct prefix *all, *keep;
	size_t n = 0, i, kept = 0;
	unsigned len;
	const char *why;
	struct nftset_elem e;

	all = calloc(c->ntrusted + 2, sizeof(*all));
	keep = calloc(c->ntrusted + 2, sizeof(*keep));
	if (all == NULL || keep == NULL) {
		nl_batch_fail(b);
		goto out;
	}
	if (prefix_parse("127.0.0.0/8", &all[n++], &why) == -1 ||
	    prefix_parse("::1/128", &all[n++], &why) == -1)
		log_panic("nftrules: loopback prefix: %s", why); /* constant */
	for (i = 0; i < c->ntrusted; i++)
		all[n++] = c->trusted[i];
	/* Shortest first, so a covering prefix is kept before what it
	 * covers; n is a few hundred at most. */
	for (len = 0; len <= 128; len++)
		for (i = 0; i < n; i++)
			if (all[i].len == len &&
			    !nftrules_table_covered(&all[i], keep, kept))
				keep[kept++] = all[i];
	for (i = 0; i < kept; i++) {
		if (nftset_elem_prefix(&e, false, "allow", &keep[i]) == -1) {
			nl_batch_fail(b);
			break;
		}
		nftrules_table_elem(b, c->table, &e);
	}
out:
	free(all);
	free(keep);
}

/* One chain: a base chain of TYPE on HOOK at PRIO, or (TYPE NULL) a
 * regular one. */
static void
nftrules_table_chain_add(struct nl_batch *b, const char *table,
    const char *chain, const char *type, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *ch;
	struct nlmsghdr *nlh;

	if ((ch = nftnl_chain_alloc()) == NULL) {
		nl_batch_fail(b);
		return;
	}
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, chain);
	if (type != NULL) {
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	if ((nlh = nftrules_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE |
	    NLM_F_EXCL)) != NULL) {
		nftnl_chain_nlmsg_build_payload(nlh, ch);
		(void)nl_batch_add(b, "add chain inet %s %s", table, chain);
	}
	nftnl_chain_free(ch);
}

void
nftrules_table_chain(struct nl_batch *b, const char *table, const char *chain,
    bool base)
{
	if (base)
		nftrules_table_chain_add(b, table, chain, "filter",
		    NF_INET_LOCAL_IN, NFTRULES_TABLE_PRIO);
	else
		nftrules_table_chain_add(b, table, chain, NULL, 0, 0);
}

void
nftrules_table_out_chain(struct nl_batch *b, const char *table,
    const char *chain)
{
	nftrules_table_chain_add(b, table, chain, "filter", NF_INET_LOCAL_OUT,
	    NFTRULES_TABLE_PRIO);
}

void
nftrules_table_nat_chain(struct nl_batch *b, const char *table,
    const char *chain)
{
	nftrules_table_chain_add(b, table, chain, "nat", NF_INET_PRE_ROUTING,
	    NFTRULES_NAT_PRIO);
}
