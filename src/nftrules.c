/*
 * nftrules.c - smtpgate's nftables table, built with libnftnl and sent as
 * one nf_tables batch (see nftrules.h for the table and the functions);
 * the expressions its rules are made of come from nftexpr.c.
 *
 * Every message of a batch carries its own sequence number, NLM_F_ACK and
 * a label ("set deny4", "rule ip saddr @deny4 ... reject"), so an error is
 * reported against the object the kernel refused.  The kernel processes a
 * batch inside sendmsg(), so once the socket is drained (EAGAIN) every
 * answer to the batch has been read.
 *
 * Hazard: the rules here and nft/smtpgate.nft must stay the same table;
 * the e2e tests compare `nft list table` of both on kernels with queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "log.h"
#include "marks.h"
#include "nftexpr.h"
#include "nftrules.h"
#include "nftset.h"

#define NFTRULES_BUF		(256 * 1024)	/* whole batch, bytes */
#define NFTRULES_MSG_ROOM	8192		/* any one message is smaller */
#define NFTRULES_MSGS		1024		/* messages in a batch at most */
#define NFTRULES_LABEL		192
#define NFTRULES_WAIT_MS	2000		/* for the acks of a commit */
#define NFTRULES_CHAIN		"gate"
#define NFTRULES_SNIFF_CHAIN	"sniff"	/* regular chain, from gate */
#define NFTRULES_PROBE_TABLE	"smtpgate_probe"
#define NFTRULES_PRIO		(-10)		/* priority filter - 10 */

/* nft's datatype numbers (src/datatype.h), so `nft list` prints keys. */
#define NFTRULES_TYPE_IPV4	7
#define NFTRULES_TYPE_IPV6	8
#define NFTRULES_TYPE_SERVICE	13

/* TCP flag bits as in the header's flags byte (offset 13). */
#define NFTRULES_TCP_FIN	0x01
#define NFTRULES_TCP_SYN	0x02
#define NFTRULES_TCP_RST	0x04
#define NFTRULES_TCP_ACK	0x10

struct nftrules_batch {
	char *buf;			/* NFTRULES_BUF */
	size_t len;			/* bytes used */
	uint32_t seq0;			/* batch-begin sequence number */
	uint32_t seq;			/* next sequence number */
	size_t nmsg;			/* data messages */
	bool full;			/* a message did not fit */
	char (*label)[NFTRULES_LABEL];	/* per data message */
	int *error;			/* per data message: errno answered */
	bool *acked;			/* per data message: ack answered */
	int batch_error;		/* against begin or end */
};

const char *
nftrules_queue_name(enum nftrules_queue q)
{
	switch (q) {
	case NFTRULES_QUEUE_NATIVE:
		return "native";
	case NFTRULES_QUEUE_XT:
		return "xtables NFQUEUE target";
	case NFTRULES_QUEUE_NONE:
		break;
	}
	return "none";
}

int
nftrules_check_conf(const struct nftrules_conf *c, char *err, size_t errlen)
{
	size_t i, j;

	if (c->table == NULL || c->table[0] == '\0' ||
	    strlen(c->table) >= NFTSET_TABLE_MAX) {
		snprintf(err, errlen, "nft table name: empty or longer than "
		    "%d bytes", NFTSET_TABLE_MAX - 1);
		return -1;
	}
	if (c->nports == 0 || c->nports > 16) {
		snprintf(err, errlen, "gate ports: %zu ports, want 1 to 16",
		    c->nports);
		return -1;
	}
	/* Which ports may be gated is the configuration's rule (conf_keys.c
	 * refuses submission); here only what the rules can be built of. */
	for (i = 0; i < c->nports; i++) {
		if (c->ports[i] == 0) {
			snprintf(err, errlen, "gate ports: port 0 is no port");
			return -1;
		}
		for (j = 0; j < i; j++)
			if (c->ports[j] == c->ports[i]) {
				snprintf(err, errlen, "gate ports: port %u "
				    "twice", c->ports[i]);
				return -1;
			}
	}
	for (i = 0; i < c->ntrusted; i++)
		if (c->trusted[i].a.family != AF_INET &&
		    c->trusted[i].a.family != AF_INET6) {
			snprintf(err, errlen, "gate trusted: entry %zu has no "
			    "address family", i + 1);
			return -1;
		}
	return 0;
}

/* --- the batch ------------------------------------------------------- */

static void
nftrules_batch_free(struct nftrules_batch *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	free(b->label);
	free(b->error);
	free(b->acked);
	free(b);
}

static struct nftrules_batch *
nftrules_batch_new(void)
{
	struct nftrules_batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->buf = malloc(NFTRULES_BUF)) == NULL ||
	    (b->label = calloc(NFTRULES_MSGS, sizeof(*b->label))) == NULL ||
	    (b->error = calloc(NFTRULES_MSGS, sizeof(*b->error))) == NULL ||
	    (b->acked = calloc(NFTRULES_MSGS, sizeof(*b->acked))) == NULL) {
		nftrules_batch_free(b);
		return NULL;
	}
	b->seq0 = (uint32_t)time(NULL);
	b->seq = b->seq0;
	nftnl_batch_begin(b->buf, b->seq++);
	b->len = NLMSG_ALIGN(((struct nlmsghdr *)b->buf)->nlmsg_len);
	return b;
}

/* Room for one more message?  Sets b->full when not. */
static bool
nftrules_room(struct nftrules_batch *b)
{
	if (b->full || b->nmsg == NFTRULES_MSGS ||
	    NFTRULES_BUF - b->len < NFTRULES_MSG_ROOM + 64) {
		b->full = true;
		return false;
	}
	return true;
}

static void
nftrules_label(struct nftrules_batch *b, const char *fmt, const char *arg)
{
	snprintf(b->label[b->nmsg], NFTRULES_LABEL, fmt, arg);
}

/* Start a data message at the end of b; finish it with nftrules_end. */
static struct nlmsghdr *
nftrules_msg(struct nftrules_batch *b, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
	    flags | NLM_F_ACK, b->seq++);
}

static void
nftrules_end(struct nftrules_batch *b, struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > NFTRULES_MSG_ROOM)	/* overran the room */
		log_panic("nftrules: message %zu of %u bytes overran its room "
		    "of %d", b->nmsg, nlh->nlmsg_len, NFTRULES_MSG_ROOM);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->nmsg++;
}

static void
nftrules_add_table(struct nftrules_batch *b, const char *table, bool del)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	if (!nftrules_room(b) || (t = nftnl_table_alloc()) == NULL) {
		b->full = true;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftrules_label(b, del ? "delete table inet %s" : "add table inet %s",
	    table);
	nlh = nftrules_msg(b, del ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE,
	    del ? 0 : NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nftrules_end(b, nlh);
}

/* size 0: no size (the kernel's default: no limit). */
static void
nftrules_add_set(struct nftrules_batch *b, const char *table,
    const char *name, uint32_t id, uint32_t type, uint32_t keylen,
    uint32_t flags, uint32_t size)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	if (!nftrules_room(b) || (s = nftnl_set_alloc()) == NULL) {
		b->full = true;
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
	nftrules_label(b, "add set %s", name);
	nlh = nftrules_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftrules_end(b, nlh);
}

static void
nftrules_add_elem(struct nftrules_batch *b, const char *table,
    const struct nftset_elem *e, const char *what)
{
	size_t n;

	if (!nftrules_room(b))
		return;
	snprintf(b->label[b->nmsg], NFTRULES_LABEL, "add element %s %s",
	    e->set, what);
	n = nftset_build_elem_msg(b->buf + b->len, NFTRULES_BUF - b->len,
	    table, e, b->seq++, true);
	if (n == 0) {
		b->full = true;
		return;
	}
	b->len += NLMSG_ALIGN(n);
	b->nmsg++;
}

static void
nftrules_add_chain(struct nftrules_batch *b, const char *table)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;

	if (!nftrules_room(b) || (c = nftnl_chain_alloc()) == NULL) {
		b->full = true;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFTRULES_CHAIN);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, NFTRULES_PRIO);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftrules_label(b, "add chain inet %s gate", table);
	nlh = nftrules_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nftrules_end(b, nlh);
}

/* --- rules ----------------------------------------------------------- */

enum nftrules_verdict { V_ACCEPT, V_DROP, V_RESET };

struct nftrules_setref {
	const char *name;
	uint32_t id;
};

/* The sets, with their ids in the batch (lookups name them by both). */
enum {
	SET_ALLOW4 = 1, SET_ALLOW6, SET_PASS4, SET_PASS6, SET_DENY4,
	SET_DENY6, SET_DROP4, SET_DROP6, SET_OFFEND4, SET_OFFEND6, SET_PORTS,
	SET_DENYNET6, SET_DROPNET6,
};

/* Finish r (its expressions already in) as a message in b. */
static void
nftrules_add_rule(struct nftrules_batch *b, struct nftnl_rule *r, int failed,
    const char *text)
{
	struct nlmsghdr *nlh;

	if (failed || !nftrules_room(b)) {
		b->full = true;
		nftnl_rule_free(r);
		return;
	}
	nftrules_label(b, "add rule \"%s\"", text);
	nlh = nftrules_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nftrules_end(b, nlh);
}

static struct nftnl_rule *
nftrules_rule(const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r != NULL) {
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	}
	return r;
}

static int
nftrules_end_verdict(struct nftnl_rule *r, enum nftrules_verdict v)
{
	switch (v) {
	case V_ACCEPT:
		return nftexpr_verdict(r, NF_ACCEPT);
	case V_DROP:
		return nftexpr_verdict(r, NF_DROP);
	case V_RESET:
		return nftexpr_reset(r);
	}
	return -1;
}

/*
 * "ip saddr @set counter VERDICT" or its ip6 twin; net64: the /64 sets,
 * "ip6 saddr & ffff:ffff:ffff:ffff:: @set" (the set holds the address with
 * its interface identifier zeroed).
 */
static void
nftrules_saddr_rule(struct nftrules_batch *b, const char *table,
    const char *set, uint32_t id, bool v6, bool net64,
    enum nftrules_verdict v)
{
	static const uint8_t mask64[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff };
	struct nftnl_rule *r = nftrules_rule(table, NFTRULES_CHAIN);
	char text[NFTRULES_LABEL];
	int f = 0;

	if (r == NULL) {
		b->full = true;
		return;
	}
	snprintf(text, sizeof(text), "%s%s saddr%s @%s counter %s",
	    v == V_RESET ? "meta l4proto tcp " : "", v6 ? "ip6" : "ip",
	    net64 ? " & ffff:ffff:ffff:ffff::" : "", set, v == V_ACCEPT ?
	    "accept" : v == V_DROP ? "drop" : "reject with tcp reset");
	if (v == V_RESET) {
		/* As nft writes it: a tcp reset needs a tcp dependency. */
		f |= nftexpr_meta(r, NFT_META_L4PROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	}
	f |= nftexpr_meta(r, NFT_META_NFPROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12,
	    v6 ? 16 : 4);
	if (net64)
		f |= nftexpr_and(r, mask64, sizeof(mask64));
	f |= nftexpr_lookup(r, set, id, false);
	f |= nftexpr_counter(r);
	f |= nftrules_end_verdict(r, v);
	nftrules_add_rule(b, r, f, text);
}

static void
nftrules_add_rules(struct nftrules_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q)
{
	/* Passes first: an address that passed is not caught by its /64. */
	static const struct {
		const char *set;
		uint32_t id;
		bool v6, net64;
		enum nftrules_verdict v;
	} saddr[] = {
		{ "allow4", SET_ALLOW4, false, false, V_ACCEPT },
		{ "allow6", SET_ALLOW6, true, false, V_ACCEPT },
		{ "pass4", SET_PASS4, false, false, V_ACCEPT },
		{ "pass6", SET_PASS6, true, false, V_ACCEPT },
		{ "deny4", SET_DENY4, false, false, V_RESET },
		{ "deny6", SET_DENY6, true, false, V_RESET },
		{ "denynet6", SET_DENYNET6, true, true, V_RESET },
		{ "drop4", SET_DROP4, false, false, V_DROP },
		{ "drop6", SET_DROP6, true, false, V_DROP },
		{ "dropnet6", SET_DROPNET6, true, true, V_DROP },
		{ "offend4", SET_OFFEND4, false, false, V_RESET },
		{ "offend6", SET_OFFEND6, true, false, V_RESET },
	};
	/* meta mark is a host-order u32 in the register. */
	uint32_t mark_mask = MARK_MASK, mark_reject = MARK_REJECT;
	uint8_t tcpmask = NFTRULES_TCP_FIN | NFTRULES_TCP_SYN |
	    NFTRULES_TCP_RST | NFTRULES_TCP_ACK;
	struct nftnl_rule *r;
	char text[NFTRULES_LABEL];
	size_t i;
	int f;

	/* 1. Reset what smtpgated rejected (NF_REPEAT + MARK_REJECT). */
	if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_meta(r, NFT_META_MARK);
	f |= nftexpr_and(r, &mark_mask, sizeof(mark_mask));
	f |= nftexpr_cmp(r, NFT_CMP_EQ, &mark_reject, sizeof(mark_reject));
	f |= nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_counter(r);
	f |= nftexpr_reset(r);
	nftrules_add_rule(b, r, f, "meta mark & 0x00ff0000 == "
	    "0x00510000 meta l4proto tcp counter reject with tcp reset");

	/*
	 * 1b. smtpgate-sniffd is done with a session: it repeated a packet
	 * with MARK_SNIFFED; remember that in the conntrack mark (a verdict
	 * cannot set it on this kernel) so rule 2b stops queueing.
	 */
	if (c->sniff_packets > 0) {
		uint32_t mark_sniffed = MARK_SNIFFED;

		if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_MARK);
		f |= nftexpr_and(r, &mark_mask, sizeof(mark_mask));
		f |= nftexpr_cmp(r, NFT_CMP_EQ, &mark_sniffed,
		    sizeof(mark_sniffed));
		f |= nftexpr_meta(r, NFT_META_MARK);
		f |= nftexpr_ct_set_mark(r);
		f |= nftexpr_counter(r);
		f |= nftexpr_verdict(r, NF_ACCEPT);
		nftrules_add_rule(b, r, f, "meta mark & 0x00ff0000 == "
		    "0x00520000 ct mark set meta mark counter accept");

		/* 2b. The first packets of each session after the
		 * handshake (the SYN is packet 1 and stays with the gate;
		 * the handshake's ACK is packet 2, and holding it would delay
		 * every session's start) go to chain sniff, which returns
		 * what the sniffer has no business with. */
		if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_L4PROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
		f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		f |= nftexpr_lookup(r, "gated_ports", SET_PORTS, false);
		f |= nftexpr_ct(r, NFT_CT_PKTS, 0);
		f |= nftexpr_hton64(r);
		f |= nftexpr_cmp_u64be(r, NFT_CMP_GTE, 3);
		f |= nftexpr_cmp_u64be(r, NFT_CMP_LTE, c->sniff_packets);
		f |= nftexpr_ct(r, NFT_CT_MARK, -1);
		f |= nftexpr_and(r, &mark_mask, sizeof(mark_mask));
		f |= nftexpr_cmp(r, NFT_CMP_NEQ, &mark_sniffed,
		    sizeof(mark_sniffed));
		f |= nftexpr_jump(r, NFTRULES_SNIFF_CHAIN);
		snprintf(text, sizeof(text), "tcp dport @gated_ports ct "
		    "original packets 3-%u ct mark & 0x00ff0000 != 0x00520000 "
		    "jump sniff", c->sniff_packets);
		nftrules_add_rule(b, r, f, text);
	}

	/* 2. Not TCP: not ours. */
	if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_NEQ, IPPROTO_TCP);
	f |= nftexpr_verdict(r, NF_ACCEPT);
	nftrules_add_rule(b, r, f, "meta l4proto != tcp accept");

	/* 3. Only new SYNs. */
	if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	f |= nftexpr_and(r, &tcpmask, 1);
	f |= nftexpr_cmp_u8(r, NFT_CMP_NEQ, NFTRULES_TCP_SYN);
	f |= nftexpr_verdict(r, NF_ACCEPT);
	nftrules_add_rule(b, r, f, "tcp flags & (fin|syn|rst|ack) "
	    "!= syn accept");

	/* 4. Only gated ports. */
	if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	f |= nftexpr_lookup(r, "gated_ports", SET_PORTS, true);
	f |= nftexpr_verdict(r, NF_ACCEPT);
	nftrules_add_rule(b, r, f, "tcp dport != @gated_ports "
	    "accept");

	/* 5. The sets, allow first. */
	for (i = 0; i < sizeof(saddr) / sizeof(saddr[0]); i++)
		nftrules_saddr_rule(b, c->table, saddr[i].set, saddr[i].id,
		    saddr[i].v6, saddr[i].net64, saddr[i].v);

	/* 6. Everything else waits for smtpgated. */
	if ((r = nftrules_rule(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_counter(r);
	f |= nftexpr_queue(r, c->queue, q);
	snprintf(text, sizeof(text), "counter queue num %u bypass (%s)",
	    c->queue, nftrules_queue_name(q));
	nftrules_add_rule(b, r, f, text);
	return;
oom:
	b->full = true;
}

/* Is p inside one of the first n prefixes of list? */
static bool
nftrules_covered(const struct prefix *p, const struct prefix *list,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
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
static void
nftrules_add_allow(struct nftrules_batch *b, const struct nftrules_conf *c)
{
	struct prefix *all, *keep;
	size_t n = 0, i, kept = 0;
	unsigned len;
	char what[ADDR_STRLEN + 8], abuf[ADDR_STRLEN];
	const char *why;
	struct nftset_elem e;

	all = calloc(c->ntrusted + 2, sizeof(*all));
	keep = calloc(c->ntrusted + 2, sizeof(*keep));
	if (all == NULL || keep == NULL) {
		b->full = true;
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
			    !nftrules_covered(&all[i], keep, kept))
				keep[kept++] = all[i];
	for (i = 0; i < kept; i++) {
		if (nftset_elem_prefix(&e, false, "allow", &keep[i]) == -1) {
			b->full = true;
			break;
		}
		snprintf(what, sizeof(what), "%s/%u", addr_ntop(&keep[i].a,
		    abuf), keep[i].len);
		nftrules_add_elem(b, c->table, &e, what);
	}
out:
	free(all);
	free(keep);
}

static void
nftrules_add_ports(struct nftrules_batch *b, const struct nftrules_conf *c)
{
	struct nftset_elem e;
	char what[8];
	size_t i;
	uint16_t be;

	for (i = 0; i < c->nports; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.set, sizeof(e.set), "gated_ports");
		be = htons(c->ports[i]);
		memcpy(e.key, &be, 2);
		e.keylen = 2;
		snprintf(what, sizeof(what), "%u", c->ports[i]);
		nftrules_add_elem(b, c->table, &e, what);
	}
}

/*
 * Chain sniff (regular, jumped to from gate): return allow-listed sources
 * and pure ACKs (no payload: IP length = TCP header, for the usual header
 * lengths 20 and 32; other ACKs are queued and cost only a verdict), queue
 * the rest to the sniffer with bypass.  Created before chain gate so that
 * a dump lists gate's SYN queue rule last (nftrules_status reports it).
 */
static void
nftrules_add_sniff_chain(struct nftrules_batch *b,
    const struct nftrules_conf *c, enum nftrules_queue q)
{
	static const struct {
		bool v6;
		uint16_t len;		/* IPv4 total / IPv6 payload length */
		uint8_t doff;		/* TCP data offset << 4 */
	} acks[] = {
		{ false, 40, 0x50 }, { false, 52, 0x80 },
		{ true, 20, 0x50 }, { true, 32, 0x80 },
	};
	uint8_t doff_mask = 0xf0;
	struct nftnl_chain *ch;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	char text[NFTRULES_LABEL];
	size_t i;
	int f;

	if (!nftrules_room(b) || (ch = nftnl_chain_alloc()) == NULL) {
		b->full = true;
		return;
	}
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, c->table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, NFTRULES_SNIFF_CHAIN);
	nftrules_label(b, "add chain inet %s sniff", c->table);
	nlh = nftrules_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	nftrules_end(b, nlh);

	for (int v6 = 0; v6 <= 1; v6++) {
		if ((r = nftrules_rule(c->table, NFTRULES_SNIFF_CHAIN)) ==
		    NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_NFPROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 :
		    NFPROTO_IPV4);
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    v6 ? 8 : 12, v6 ? 16 : 4);
		f |= nftexpr_lookup(r, v6 ? "allow6" : "allow4",
		    v6 ? SET_ALLOW6 : SET_ALLOW4, false);
		f |= nftexpr_jump(r, NULL);
		snprintf(text, sizeof(text), "%s saddr @allow%d return",
		    v6 ? "ip6" : "ip", v6 ? 6 : 4);
		nftrules_add_rule(b, r, f, text);
	}
	for (i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		uint16_t be = htons(acks[i].len);

		if ((r = nftrules_rule(c->table, NFTRULES_SNIFF_CHAIN)) ==
		    NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_NFPROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, acks[i].v6 ? NFPROTO_IPV6 :
		    NFPROTO_IPV4);
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    acks[i].v6 ? 4 : 2, 2);
		f |= nftexpr_cmp(r, NFT_CMP_EQ, &be, 2);
		f |= nftexpr_meta(r, NFT_META_L4PROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
		f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 12, 1);
		f |= nftexpr_and(r, &doff_mask, 1);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, acks[i].doff);
		f |= nftexpr_jump(r, NULL);
		snprintf(text, sizeof(text), "%s length %u tcp doff %u return",
		    acks[i].v6 ? "ip6" : "ip", acks[i].len, acks[i].doff >> 4);
		nftrules_add_rule(b, r, f, text);
	}
	if ((r = nftrules_rule(c->table, NFTRULES_SNIFF_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_counter(r);
	f |= nftexpr_queue(r, c->sniff_queue, q);
	snprintf(text, sizeof(text), "counter queue num %u bypass (%s)",
	    c->sniff_queue, nftrules_queue_name(q));
	nftrules_add_rule(b, r, f, text);
	return;
oom:
	b->full = true;
}

static void
nftrules_build_install(struct nftrules_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q)
{
	const struct {
		const char *name;
		uint32_t id, type, keylen, flags, size;
	} sets[] = {
		{ "allow4", SET_ALLOW4, NFTRULES_TYPE_IPV4, 4, NFT_SET_INTERVAL,
		    0 },
		{ "allow6", SET_ALLOW6, NFTRULES_TYPE_IPV6, 16, NFT_SET_INTERVAL,
		    0 },
		{ "pass4", SET_PASS4, NFTRULES_TYPE_IPV4, 4, NFT_SET_TIMEOUT,
		    c->pass_size },
		{ "pass6", SET_PASS6, NFTRULES_TYPE_IPV6, 16, NFT_SET_TIMEOUT,
		    c->pass_size },
		{ "deny4", SET_DENY4, NFTRULES_TYPE_IPV4, 4, NFT_SET_TIMEOUT,
		    c->deny_size },
		{ "deny6", SET_DENY6, NFTRULES_TYPE_IPV6, 16, NFT_SET_TIMEOUT,
		    c->deny_size },
		{ "denynet6", SET_DENYNET6, NFTRULES_TYPE_IPV6, 16,
		    NFT_SET_TIMEOUT, c->deny_size },
		{ "drop4", SET_DROP4, NFTRULES_TYPE_IPV4, 4, NFT_SET_TIMEOUT,
		    c->drop_size },
		{ "drop6", SET_DROP6, NFTRULES_TYPE_IPV6, 16, NFT_SET_TIMEOUT,
		    c->drop_size },
		{ "dropnet6", SET_DROPNET6, NFTRULES_TYPE_IPV6, 16,
		    NFT_SET_TIMEOUT, c->drop_size },
		{ "offend4", SET_OFFEND4, NFTRULES_TYPE_IPV4, 4,
		    NFT_SET_TIMEOUT, c->offend_size },
		{ "offend6", SET_OFFEND6, NFTRULES_TYPE_IPV6, 16,
		    NFT_SET_TIMEOUT, c->offend_size },
		{ "gated_ports", SET_PORTS, NFTRULES_TYPE_SERVICE, 2, 0, 0 },
	};
	size_t i;

	/* Add (a no-op when present), delete, create: atomic replace. */
	nftrules_add_table(b, c->table, false);
	nftrules_add_table(b, c->table, true);
	nftrules_add_table(b, c->table, false);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		nftrules_add_set(b, c->table, sets[i].name, sets[i].id,
		    sets[i].type, sets[i].keylen, sets[i].flags, sets[i].size);
	nftrules_add_ports(b, c);
	nftrules_add_allow(b, c);
	if (c->sniff_packets > 0)
		nftrules_add_sniff_chain(b, c, q);
	nftrules_add_chain(b, c->table);
	nftrules_add_rules(b, c, q);
}

/* --- talking to the kernel ------------------------------------------- */

static int
nftrules_cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct nftrules_batch *b = data;
	const struct nlmsgerr *me;
	uint32_t i;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*me))
		return MNL_CB_OK;
	me = mnl_nlmsg_get_payload(nlh);
	error = me->error < 0 && me->error > -4096 ? -me->error :
	    (me->error == 0 ? 0 : EPROTO);
	i = nlh->nlmsg_seq - b->seq0;		/* 0: begin */
	if (i == 0 || i > b->nmsg) {
		if (error != 0 && b->batch_error == 0)
			b->batch_error = error;
		return MNL_CB_OK;
	}
	if (error != 0)
		b->error[i - 1] = error;
	else
		b->acked[i - 1] = true;
	return MNL_CB_OK;
}

/* Read until the socket is empty.  -1 on a read error. */
static int
nftrules_read(struct mnl_socket *nl, struct nftrules_batch *b, char *rbuf)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
	ssize_t n;

	ctl[NLMSG_ERROR] = nftrules_cb_error;
	for (;;) {
		n = recv(mnl_socket_get_fd(nl), rbuf, MNL_SOCKET_BUFFER_SIZE,
		    MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		(void)mnl_cb_run2(rbuf, (size_t)n, 0,
		    mnl_socket_get_portid(nl), NULL, b, ctl, NLMSG_MIN_TYPE);
	}
}

static bool
nftrules_all_acked(const struct nftrules_batch *b)
{
	size_t i;

	for (i = 0; i < b->nmsg; i++)
		if (!b->acked[i])
			return false;
	return true;
}

/*
 * Send b (with the batch end when commit) and collect every answer.
 * 0 when the kernel refused nothing; -1 with err naming the first refused
 * message.  *first_error (may be NULL) gets its errno.
 */
static int
nftrules_send(struct nftrules_batch *b, bool commit, char *err,
    size_t errlen, size_t *failed_msg)
{
	struct mnl_socket *nl;
	char *rbuf = NULL;
	size_t i, len = b->len;
	int rc = -1;

	if (failed_msg != NULL)
		*failed_msg = SIZE_MAX;
	if (b->full) {
		snprintf(err, errlen, "build batch: out of memory or more "
		    "than %d messages", NFTRULES_MSGS);
		return -1;
	}
	if (commit) {
		nftnl_batch_end(b->buf + len, b->seq);
		len += NLMSG_ALIGN(((struct nlmsghdr *)(b->buf + len))->
		    nlmsg_len);
	}
	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL) {
		snprintf(err, errlen, "mnl_socket_open netfilter: %s",
		    strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "mnl_socket_bind netfilter: %s",
		    strerror(errno));
		goto out;
	}
	if ((rbuf = malloc(MNL_SOCKET_BUFFER_SIZE)) == NULL) {
		snprintf(err, errlen, "malloc: %s", strerror(errno));
		goto out;
	}
	if (mnl_socket_sendto(nl, b->buf, len) != (ssize_t)len) {
		snprintf(err, errlen, "sendto nf_tables batch (%zu bytes): %s",
		    len, strerror(errno));
		goto out;
	}
	if (nftrules_read(nl, b, rbuf) == -1) {
		snprintf(err, errlen, "recv nf_tables answers: %s",
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < b->nmsg; i++)
		if (b->error[i] != 0) {
			snprintf(err, errlen, "%s: %s", b->label[i],
			    strerror(b->error[i]));
			if (failed_msg != NULL)
				*failed_msg = i;
			goto out;
		}
	if (b->batch_error != 0) {
		snprintf(err, errlen, "nf_tables batch: %s",
		    strerror(b->batch_error));
		goto out;
	}
	if (commit && !nftrules_all_acked(b)) {
		/* Answers are queued within sendmsg; wait a little anyway
		 * before calling a missing ack an error. */
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl),
		    .events = POLLIN };

		while (!nftrules_all_acked(b) && poll(&pfd, 1,
		    NFTRULES_WAIT_MS) > 0)
			if (nftrules_read(nl, b, rbuf) == -1)
				break;
		for (i = 0; i < b->nmsg; i++)
			if (!b->acked[i] || b->error[i] != 0) {
				snprintf(err, errlen, "%s: %s", b->label[i],
				    b->error[i] ? strerror(b->error[i]) :
				    "no answer from the kernel");
				goto out;
			}
	}
	rc = 0;
out:
	free(rbuf);
	mnl_socket_close(nl);
	return rc;
}

int
nftrules_install(const struct nftrules_conf *c, enum nftrules_queue q,
    bool commit, char *err, size_t errlen)
{
	struct nftrules_batch *b;
	char why[256];
	int rc;

	if (nftrules_check_conf(c, err, errlen) == -1)
		return -1;
	if (q != NFTRULES_QUEUE_NATIVE && q != NFTRULES_QUEUE_XT) {
		snprintf(err, errlen, "install: no queue flavour chosen");
		return -1;
	}
	if ((b = nftrules_batch_new()) == NULL) {
		snprintf(err, errlen, "install: malloc: %s", strerror(errno));
		return -1;
	}
	nftrules_build_install(b, c, q);
	rc = nftrules_send(b, commit, why, sizeof(why), NULL);
	if (rc == -1)
		snprintf(err, errlen, "%s table inet %s: %s", commit ?
		    "install" : "validate", c->table, why);
	nftrules_batch_free(b);
	return rc;
}

int
nftrules_remove(const char *table, char *err, size_t errlen)
{
	struct nftrules_batch *b;
	char why[256];
	int rc;

	if (table == NULL || table[0] == '\0' ||
	    strlen(table) >= NFTSET_TABLE_MAX) {
		snprintf(err, errlen, "remove: bad table name");
		return -1;
	}
	if ((b = nftrules_batch_new()) == NULL) {
		snprintf(err, errlen, "remove: malloc: %s", strerror(errno));
		return -1;
	}
	/* Add (no-op when present) then delete: never ENOENT. */
	nftrules_add_table(b, table, false);
	nftrules_add_table(b, table, true);
	rc = nftrules_send(b, true, why, sizeof(why), NULL);
	if (rc == -1)
		snprintf(err, errlen, "remove table inet %s: %s", table, why);
	nftrules_batch_free(b);
	return rc;
}

int
nftrules_probe(char *err, size_t errlen)
{
	struct nftrules_batch *b;
	struct nftnl_chain *ch;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	size_t failed;
	char why[256];
	int rc;

	if ((b = nftrules_batch_new()) == NULL) {
		snprintf(err, errlen, "probe: malloc: %s", strerror(errno));
		return -1;
	}
	nftrules_add_table(b, NFTRULES_PROBE_TABLE, false);
	if ((ch = nftnl_chain_alloc()) == NULL) {
		b->full = true;
	} else {
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE,
		    NFTRULES_PROBE_TABLE);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, "probe");
		nftrules_label(b, "add chain %s", "probe");
		nlh = nftrules_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
		nftnl_chain_nlmsg_build_payload(nlh, ch);
		nftnl_chain_free(ch);
		nftrules_end(b, nlh);
	}
	if ((r = nftrules_rule(NFTRULES_PROBE_TABLE, "probe")) == NULL)
		b->full = true;
	else
		nftrules_add_rule(b, r, nftexpr_queue(r, 0, NFTRULES_QUEUE_NATIVE),
		    "queue num 0 bypass");
	/* No batch end: validated, answered, discarded. */
	rc = nftrules_send(b, false, why, sizeof(why), &failed);
	if (rc == 0)
		rc = 1;
	else if (failed == 2 && b->error[2] == ENOENT)
		rc = 0;
	else
		snprintf(err, errlen, "probe nft queue expression: %s", why);
	nftrules_batch_free(b);
	return rc;
}

/* --- status ---------------------------------------------------------- */

struct nftrules_status_ctx {
	enum nftrules_queue q;
	uint16_t queue;
};

static int
nftrules_status_expr(struct nftnl_expr *e, void *data)
{
	struct nftrules_status_ctx *st = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const struct xt_NFQ_info_v3 *info;
	uint32_t len = 0;

	if (name == NULL)
		return MNL_CB_OK;
	if (strcmp(name, "queue") == 0) {
		st->q = NFTRULES_QUEUE_NATIVE;
		st->queue = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
	} else if (strcmp(name, "target") == 0 &&
	    nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME) != NULL &&
	    strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "NFQUEUE") ==
	    0) {
		st->q = NFTRULES_QUEUE_XT;
		info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
		/* Revisions 1-3 all start with queuenum. */
		if (info != NULL && len >= sizeof(uint16_t))
			st->queue = info->queuenum;
	}
	return MNL_CB_OK;
}

static int
nftrules_status_rule(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0)
		(void)nftnl_expr_foreach(r, nftrules_status_expr, data);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int
nftrules_status(const char *table, enum nftrules_queue *q, uint16_t *queue,
    char *err, size_t errlen)
{
	struct nftrules_status_ctx st = { NFTRULES_QUEUE_NONE, 0 };
	struct mnl_socket *nl;
	struct nftnl_table *t;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	char *buf;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int rc = -1, ret;

	if (table == NULL || table[0] == '\0' ||
	    strlen(table) >= NFTSET_TABLE_MAX) {
		snprintf(err, errlen, "status: bad table name");
		return -1;
	}
	if ((buf = malloc(MNL_SOCKET_BUFFER_SIZE)) == NULL) {
		snprintf(err, errlen, "status: malloc: %s", strerror(errno));
		return -1;
	}
	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL) {
		snprintf(err, errlen, "status: mnl_socket_open netfilter: %s",
		    strerror(errno));
		free(buf);
		return -1;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "status: mnl_socket_bind netfilter: %s",
		    strerror(errno));
		goto out;
	}
	portid = mnl_socket_get_portid(nl);

	/* The table first: a rule dump of a missing table is just empty. */
	if ((t = nftnl_table_alloc()) == NULL) {
		snprintf(err, errlen, "status: malloc: %s", strerror(errno));
		goto out;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1) {
		snprintf(err, errlen, "status: sendto get table inet %s: %s",
		    table, strerror(errno));
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		ret = n == -1 ? -1 : mnl_cb_run(buf, (size_t)n, seq, portid,
		    NULL, NULL);
	} while (ret == MNL_CB_OK);
	if (ret == -1) {
		if (errno == ENOENT) {
			rc = 0;
			goto out;
		}
		snprintf(err, errlen, "status: get table inet %s: %s", table,
		    strerror(errno));
		goto out;
	}

	seq++;
	if ((r = nftrules_rule(table, NFTRULES_CHAIN)) == NULL) {
		snprintf(err, errlen, "status: malloc: %s", strerror(errno));
		goto out;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
	    NLM_F_DUMP, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1) {
		snprintf(err, errlen, "status: sendto get rules of inet %s: "
		    "%s", table, strerror(errno));
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n == -1) {
			snprintf(err, errlen, "status: recv rules of inet %s: "
			    "%s", table, strerror(errno));
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid,
		    nftrules_status_rule, &st);
		if (ret == MNL_CB_STOP)
			break;
		if (ret == -1) {
			if (errno == ENOENT) {		/* no such table */
				rc = 0;
				goto out;
			}
			snprintf(err, errlen, "status: rules of inet %s: %s",
			    table, strerror(errno));
			goto out;
		}
	}
	*q = st.q;
	*queue = st.queue;
	rc = 1;
out:
	mnl_socket_close(nl);
	free(buf);
	return rc;
}
