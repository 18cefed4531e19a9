/*
 * nftrules_rule.c - the rules of smtpgate's table (nftrules_int.h): chain
 * gate's, in the order of nft/smtpgate.nft, chain sniff's, and the probe's
 * one queue rule.  Each rule is composed of nftexpr.c's expressions and
 * sent as one message labelled with the rule as nft writes it
 * ("add rule \"ip saddr @deny4 counter reject with tcp reset\""), so a
 * refusal names the rule.
 *
 * Hazard: the rules here and nft/smtpgate.nft must stay the same table;
 * the e2e tests compare `nft list table` of both on kernels with queue,
 * and tests/golden/ruleset-*.txt hold the messages built here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "addr.h"
#include "marks.h"
#include "nftexpr.h"
#include "nftrules_int.h"
#include "reply.h"

/* TCP flag bits as in the header's flags byte (offset 13). */
#define NFTRULES_TCP_FIN	0x01
#define NFTRULES_TCP_SYN	0x02
#define NFTRULES_TCP_RST	0x04
#define NFTRULES_TCP_ACK	0x10
/* Conntrack directions (the kernel's enum ip_conntrack_dir). */
#define NFTRULES_CT_ORIGINAL	0
#define NFTRULES_CT_REPLY	1

enum nftrules_verdict { V_ACCEPT, V_DROP, V_RESET };

/*
 * Finish r (its expressions already in; failed: one could not be made) as
 * a message in b, labelled with text.  Frees r.  Its message id, or -1.
 */
static int
nftrules_rule_add(struct nl_batch *b, struct nftnl_rule *r, int failed,
    const char *text)
{
	struct nlmsghdr *nlh;
	int id = -1;

	if (failed)
		nl_batch_fail(b);
	else if ((nlh = nftrules_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE |
	    NLM_F_APPEND)) != NULL) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		id = nl_batch_add(b, "add rule \"%s\"", text);
	}
	nftnl_rule_free(r);
	return id;
}

static struct nftnl_rule *
nftrules_rule_new(const char *table, const char *chain)
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
nftrules_rule_verdict(struct nftnl_rule *r, enum nftrules_verdict v)
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

/* "tcp dport @gated_ports" (sport: "tcp sport"; invert: "!= @"). */
static int
nftrules_rule_gated(struct nftnl_rule *r, bool sport, bool invert)
{
	int f;

	f = nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, sport ? 0 : 2,
	    2);
	f |= nftexpr_lookup(r, "gated_ports", NFTRULES_SET_PORTS, invert);
	return f;
}

/* What a chain leaves alone first: "meta l4proto != tcp accept"
 * (gated: "tcp dport != @gated_ports accept"). */
static int
nftrules_rule_not_ours(struct nl_batch *b, const char *table,
    const char *chain, bool gated)
{
	struct nftnl_rule *r;
	int f;

	if ((r = nftrules_rule_new(table, chain)) == NULL)
		return -1;
	if (gated)
		f = nftrules_rule_gated(r, false, true);
	else {
		f = nftexpr_meta(r, NFT_META_L4PROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_NEQ, IPPROTO_TCP);
	}
	f |= nftexpr_verdict(r, NF_ACCEPT);
	(void)nftrules_rule_add(b, r, f, gated ? "tcp dport != @gated_ports "
	    "accept" : "meta l4proto != tcp accept");
	return 0;
}

/*
 * A session's packet N of one direction on a gated port, of one family:
 * out, "tcp sport @gated_ports ct direction reply ct reply packets N";
 * else "tcp dport @gated_ports ct original packets N".
 */
static int
nftrules_rule_nth(struct nftnl_rule *r, bool out, bool v6, uint64_t n)
{
	int f;

	f = nftexpr_meta(r, NFT_META_NFPROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	f |= nftrules_rule_gated(r, out, false);
	if (out) {
		f |= nftexpr_ct(r, NFT_CT_DIRECTION, -1);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, NFTRULES_CT_REPLY);
	}
	/* n in host order, as nft compares. */
	f |= nftexpr_ct(r, NFT_CT_PKTS, out ? NFTRULES_CT_REPLY :
	    NFTRULES_CT_ORIGINAL);
	f |= nftexpr_cmp(r, NFT_CMP_EQ, &n, sizeof(n));
	return f;
}

/*
 * "ip saddr @set counter VERDICT" or its ip6 twin; net64: the /64 sets,
 * "ip6 saddr & ffff:ffff:ffff:ffff:: @set" (the set holds the address with
 * its interface identifier zeroed); unless (not NULL, not with net64):
 * "ip saddr @set ip saddr != @unless counter VERDICT".
 */
static void
nftrules_rule_saddr(struct nl_batch *b, const char *table,
    const char *set, uint32_t id, bool v6, bool net64,
    const char *unless, uint32_t unless_id, enum nftrules_verdict v)
{
	static const uint8_t mask64[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff };
	struct nftnl_rule *r = nftrules_rule_new(table, NFTRULES_CHAIN);
	char text[NL_LABEL_MAX], not[64];
	int f = 0;

	if (r == NULL) {
		nl_batch_fail(b);
		return;
	}
	snprintf(not, sizeof(not), " %s saddr != @%s", v6 ? "ip6" : "ip",
	    unless != NULL ? unless : "");
	snprintf(text, sizeof(text), "%s%s saddr%s @%s%s counter %s",
	    v == V_RESET ? "meta l4proto tcp " : "", v6 ? "ip6" : "ip",
	    net64 ? " & ffff:ffff:ffff:ffff::" : "", set,
	    unless != NULL ? not : "", v == V_ACCEPT ? "accept" :
	    v == V_DROP ? "drop" : "reject with tcp reset");
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
	if (unless != NULL) {
		/* As nft builds it: the address loaded again. */
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 :
		    12, v6 ? 16 : 4);
		f |= nftexpr_lookup(r, unless, unless_id, true);
	}
	f |= nftexpr_counter(r);
	f |= nftrules_rule_verdict(r, v);
	(void)nftrules_rule_add(b, r, f, text);
}

/* The mask of a prefix length, as nft writes it: "255.255.255.0",
 * "ffff:ffff:ffff:ffff::". */
static void
nftrules_rule_mask(uint8_t *mask, unsigned bytes, unsigned plen, char *text,
    size_t len)
{
	struct addr m = { .family = bytes == 4 ? AF_INET : AF_INET6 };

	memset(mask, 0, bytes);
	for (unsigned i = 0; i < plen && i < bytes * 8; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	memcpy(m.b, mask, bytes);
	(void)addr_ntop(&m, text);
	(void)len;
}

/*
 * tempfail's two rules per family (retry.h): a key in wait is an early
 * retry, reset (nothing written: the clock is not reset); a key in retry
 * passes, and its address enters pass from the packet path, so the next
 * SYN is a plain pass.  Each notes the address for smtpgated's log line
 * (early4/6, retried4/6: gate_retry.c).  "ip saddr & 255.255.255.0 @wait4 counter reject
 * with tcp reset", "ip saddr & 255.255.255.0 @retry4 add @pass4 { ip
 * saddr timeout 3600s } counter accept" (no mask when the key is the
 * address).
 */
static void
nftrules_rule_retry(struct nl_batch *b, const struct nftrules_conf *c,
    bool v6, bool early)
{
	struct nftnl_rule *r = nftrules_rule_new(c->table, NFTRULES_CHAIN);
	unsigned bytes = v6 ? 16 : 4, plen = v6 ? c->retry_plen6 :
	    c->retry_plen4;
	bool masked = plen < bytes * 8;
	uint8_t mask[16];
	char mtext[ADDR_STRLEN], mpart[ADDR_STRLEN + 4] = "";
	char text[NL_LABEL_MAX];
	const char *ip = v6 ? "ip6" : "ip";
	int f = 0;

	if (r == NULL) {
		nl_batch_fail(b);
		return;
	}
	nftrules_rule_mask(mask, bytes, plen, mtext, sizeof(mtext));
	if (masked)
		snprintf(mpart, sizeof(mpart), " & %s", mtext);
	if (early) {
		snprintf(text, sizeof(text), "meta l4proto tcp %s saddr%s "
		    "@wait%d add @early%d { %s saddr } counter reject with tcp "
		    "reset", ip, mpart, v6 ? 6 : 4, v6 ? 6 : 4, ip);
		f |= nftexpr_meta(r, NFT_META_L4PROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	} else {
		snprintf(text, sizeof(text), "%s saddr%s @retry%d add @pass%d "
		    "{ %s saddr timeout %us } add @retried%d { %s saddr } "
		    "counter accept", ip, mpart, v6 ? 6 : 4, v6 ? 6 : 4, ip,
		    c->pass_ttl_s, v6 ? 6 : 4, ip);
	}
	f |= nftexpr_meta(r, NFT_META_NFPROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12,
	    bytes);
	if (masked)
		f |= nftexpr_and(r, mask, bytes);
	if (early) {
		f |= nftexpr_lookup(r, v6 ? "wait6" : "wait4",
		    v6 ? NFTRULES_SET_WAIT6 : NFTRULES_SET_WAIT4, false);
		/* A note for smtpgated's log line (gate_retry.c). */
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    v6 ? 8 : 12, bytes);
		f |= nftexpr_dynset_add(r, v6 ? "early6" : "early4",
		    v6 ? NFTRULES_SET_EARLY6 : NFTRULES_SET_EARLY4, 0);
		f |= nftexpr_counter(r);
		f |= nftexpr_reset(r);
	} else {
		f |= nftexpr_lookup(r, v6 ? "retry6" : "retry4",
		    v6 ? NFTRULES_SET_RETRY6 : NFTRULES_SET_RETRY4, false);
		/* The whole address again: pass holds addresses. */
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    v6 ? 8 : 12, bytes);
		f |= nftexpr_dynset_add(r, v6 ? "pass6" : "pass4",
		    v6 ? NFTRULES_SET_PASS6 : NFTRULES_SET_PASS4,
		    (uint64_t)c->pass_ttl_s * 1000);
		f |= nftexpr_dynset_add(r, v6 ? "retried6" : "retried4",
		    v6 ? NFTRULES_SET_RETRIED6 : NFTRULES_SET_RETRIED4, 0);
		f |= nftexpr_counter(r);
		f |= nftexpr_verdict(r, NF_ACCEPT);
	}
	(void)nftrules_rule_add(b, r, f, text);
}

/* "tcp dport LO-HI ct status dnat" into r: a SYN redirected to one of the
 * responder's ports. */
static int
nftrules_rule_to_responder(struct nftnl_rule *r, const struct nftrules_conf *c)
{
	uint16_t lo = htons(c->reply_port), hi = htons((uint16_t)(c->reply_port +
	    REPLY_PORTS - 1));
	uint32_t dnat = 0x20, zero = 0;		/* IPS_DST_NAT */
	int f;

	f = nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	f |= nftexpr_cmp(r, NFT_CMP_GTE, &lo, sizeof(lo));
	f |= nftexpr_cmp(r, NFT_CMP_LTE, &hi, sizeof(hi));
	f |= nftexpr_ct(r, NFT_CT_STATUS, -1);
	f |= nftexpr_and(r, &dnat, sizeof(dnat));
	f |= nftexpr_cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
	return f;
}

/* Rules 3b of chain gate: the responder listens -> accept; else reset. */
static void
nftrules_rule_reply_syn(struct nl_batch *b, const struct nftrules_conf *c)
{
	struct nftnl_rule *r;
	char text[NL_LABEL_MAX];
	uint8_t zero = 0;
	int f;

	for (int listen = 1; listen >= 0; listen--) {
		if ((r = nftrules_rule_new(c->table, NFTRULES_CHAIN)) == NULL) {
			nl_batch_fail(b);
			return;
		}
		f = nftrules_rule_to_responder(r, c);
		if (listen) {
			f |= nftexpr_socket_transparent(r);
			f |= nftexpr_cmp(r, NFT_CMP_EQ, &zero, 1);
			f |= nftexpr_counter(r);
			f |= nftexpr_verdict(r, NF_ACCEPT);
		} else {
			f |= nftexpr_counter(r);
			f |= nftexpr_reset(r);
		}
		snprintf(text, sizeof(text), "tcp dport %u-%u ct status dnat "
		    "%scounter %s", c->reply_port, c->reply_port +
		    REPLY_PORTS - 1, listen ? "socket transparent 0 " : "",
		    listen ? "accept" : "reject with tcp reset");
		(void)nftrules_rule_add(b, r, f, text);
	}
}

/*
 * The round-trip part of pregreet (smtpproto.h): copies, never a queue,
 * of the packets that time a session's handshake, to the nfnetlink_log
 * group numbered as the sniffer's queue.  out: the server's reply packet
 * 1 (its SYN-ACK) in chain sniff_out, "tcp sport @gated_ports ct
 * direction reply ct reply packets 1 ip daddr != @allow4 log group 1
 * snaplen 128"; else the client's packet 2 (the handshake's ACK) in chain
 * gate, "tcp dport @gated_ports ct original packets 2 ip saddr != @allow4
 * log group 1 snaplen 128".  No queue-threshold: the sniffer's own (its
 * batches, nflog.h) applies.
 */
static void
nftrules_rule_copy(struct nl_batch *b, const struct nftrules_conf *c,
    bool out, bool v6)
{
	struct nftnl_rule *r = nftrules_rule_new(c->table, out ?
	    NFTRULES_OUT_CHAIN : NFTRULES_CHAIN);
	char text[NL_LABEL_MAX];
	const char *ip = v6 ? "ip6" : "ip";
	int f;

	if (r == NULL) {
		nl_batch_fail(b);
		return;
	}
	f = nftrules_rule_nth(r, out, v6, out ? 1 : 2);
	/* daddr going out, saddr coming in: the client. */
	f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? (out ? 24 : 8) :
	    (out ? 16 : 12), v6 ? 16 : 4);
	f |= nftexpr_lookup(r, v6 ? "allow6" : "allow4",
	    v6 ? NFTRULES_SET_ALLOW6 : NFTRULES_SET_ALLOW4, true);
	f |= nftexpr_log_group(r, c->sniff_queue, NFTRULES_COPY_SNAPLEN);
	if (out)
		snprintf(text, sizeof(text), "tcp sport @gated_ports ct direction "
		    "reply ct reply packets 1 %s daddr != @allow%d log group %u "
		    "snaplen %u", ip, v6 ? 6 : 4, c->sniff_queue,
		    NFTRULES_COPY_SNAPLEN);
	else
		snprintf(text, sizeof(text), "tcp dport @gated_ports ct original "
		    "packets 2 %s saddr != @allow%d log group %u snaplen %u", ip,
		    v6 ? 6 : 4, c->sniff_queue, NFTRULES_COPY_SNAPLEN);
	(void)nftrules_rule_add(b, r, f, text);
}

/*
 * [sniffer] banner_hold_ms: the server's reply packet 2 of a session (its
 * banner; conntrack has counted it already, at priority -200) to a client
 * smtpgated put in hold4/6 is queued to the sniffer's hold queue, which
 * accepts it banner_hold_ms later (sniff_hold.c); bypass: no sniffer, no
 * hold.  "tcp sport @gated_ports ct direction reply ct reply packets 2
 * ip daddr @hold4 delete @hold4 { ip daddr } counter queue num 2 bypass":
 * the element goes with the first banner held, so a client is held once
 * (its later sessions come from the pass cache).  Only that packet: while it
 * is held the server's TCP does not retransmit it (its clone is still in
 * a host queue), and nothing else of the server waits.
 */
static void
nftrules_rule_hold(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q, bool v6)
{
	struct nftnl_rule *r = nftrules_rule_new(c->table, NFTRULES_OUT_CHAIN);
	char text[NL_LABEL_MAX];
	int f;

	if (r == NULL) {
		nl_batch_fail(b);
		return;
	}
	f = nftrules_rule_nth(r, true, v6, 2);
	f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16,
	    v6 ? 16 : 4);
	f |= nftexpr_lookup(r, v6 ? "hold6" : "hold4",
	    v6 ? NFTRULES_SET_HOLD6 : NFTRULES_SET_HOLD4, false);
	/* Held once: the element goes with the first banner it holds, so
	 * the client's next session (from the pass cache) is not held. */
	f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16,
	    v6 ? 16 : 4);
	f |= nftexpr_dynset_del(r, v6 ? "hold6" : "hold4",
	    v6 ? NFTRULES_SET_HOLD6 : NFTRULES_SET_HOLD4);
	f |= nftexpr_counter(r);
	f |= nftexpr_queue(r, c->hold_queue, q);
	snprintf(text, sizeof(text), "tcp sport @gated_ports ct direction "
	    "reply ct reply packets 2 %s daddr @hold%d delete @hold%d { %s "
	    "daddr } counter queue num %u bypass (%s)", v6 ? "ip6" : "ip",
	    v6 ? 6 : 4, v6 ? 6 : 4, v6 ? "ip6" : "ip", c->hold_queue,
	    nftrules_queue_name(q));
	(void)nftrules_rule_add(b, r, f, text);
}

void
nftrules_rule_sniff_out(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q)
{
	nftrules_rule_copy(b, c, true, false);
	nftrules_rule_copy(b, c, true, true);
	if (c->banner_hold) {
		nftrules_rule_hold(b, c, q, false);
		nftrules_rule_hold(b, c, q, true);
	}
}

/* Chain gate's rules, in the order of nft/smtpgate.nft. */
void
nftrules_rule_gate(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q)
{
	/*
	 * Passes first, unless the sniffer banned the address since (its
	 * ban refuses it at once, not when its pass ends): the repeat SYN
	 * of a passed client, the common case, costs two hash lookups and
	 * not the allow list's interval lookup besides (2-3% of a SYN's
	 * path with 100,000 prefixes, bench/scale.sh (s1)).  The verdicts
	 * are those of allow, bans, passes in that order: an allowed
	 * address is accepted either way, a banned one meets its ban after
	 * the allow rule.  Passes before the /64s: an address that passed
	 * is not caught by its /64.
	 */
	static const struct {
		const char *set;
		uint32_t id;
		bool v6, net64;
		const char *unless;
		uint32_t unless_id;
		enum nftrules_verdict v;
	} saddr[] = {
		{ "pass4", NFTRULES_SET_PASS4, false, false, "offend4",
		    NFTRULES_SET_OFFEND4, V_ACCEPT },
		{ "pass6", NFTRULES_SET_PASS6, true, false, "offend6",
		    NFTRULES_SET_OFFEND6, V_ACCEPT },
		{ "allow4", NFTRULES_SET_ALLOW4, false, false, NULL, 0,
		    V_ACCEPT },
		{ "allow6", NFTRULES_SET_ALLOW6, true, false, NULL, 0,
		    V_ACCEPT },
		{ "offend4", NFTRULES_SET_OFFEND4, false, false, NULL, 0,
		    V_RESET },
		{ "offend6", NFTRULES_SET_OFFEND6, true, false, NULL, 0,
		    V_RESET },
		{ "deny4", NFTRULES_SET_DENY4, false, false, NULL, 0, V_RESET },
		{ "deny6", NFTRULES_SET_DENY6, true, false, NULL, 0, V_RESET },
		{ "denynet6", NFTRULES_SET_DENYNET6, true, true, NULL, 0,
		    V_RESET },
		{ "drop4", NFTRULES_SET_DROP4, false, false, NULL, 0, V_DROP },
		{ "drop6", NFTRULES_SET_DROP6, true, false, NULL, 0, V_DROP },
		{ "dropnet6", NFTRULES_SET_DROPNET6, true, true, NULL, 0,
		    V_DROP },
	};
	/* meta mark is a host-order u32 in the register. */
	uint32_t mark_mask = MARK_MASK, mark_reject = MARK_REJECT;
	uint8_t tcpmask = NFTRULES_TCP_FIN | NFTRULES_TCP_SYN |
	    NFTRULES_TCP_RST | NFTRULES_TCP_ACK;
	struct nftnl_rule *r;
	char text[NL_LABEL_MAX];
	size_t i;
	int f;

	/* 1. Reset what smtpgated rejected (NF_REPEAT + MARK_REJECT). */
	if ((r = nftrules_rule_new(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_meta(r, NFT_META_MARK);
	f |= nftexpr_and(r, &mark_mask, sizeof(mark_mask));
	f |= nftexpr_cmp(r, NFT_CMP_EQ, &mark_reject, sizeof(mark_reject));
	f |= nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_counter(r);
	f |= nftexpr_reset(r);
	(void)nftrules_rule_add(b, r, f, "meta mark & 0x00ff0000 == "
	    "0x00510000 meta l4proto tcp counter reject with tcp reset");

	/*
	 * 1b. smtpgate-sniffd is done with a session: it repeated a packet
	 * with MARK_SNIFFED; remember that in the conntrack mark (a verdict
	 * cannot set it on this kernel) so rule 2b stops queueing.
	 */
	if (c->sniff_packets > 0) {
		uint32_t mark_sniffed = MARK_SNIFFED;

		if ((r = nftrules_rule_new(c->table, NFTRULES_CHAIN)) == NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_MARK);
		f |= nftexpr_and(r, &mark_mask, sizeof(mark_mask));
		f |= nftexpr_cmp(r, NFT_CMP_EQ, &mark_sniffed,
		    sizeof(mark_sniffed));
		f |= nftexpr_meta(r, NFT_META_MARK);
		f |= nftexpr_ct_set_mark(r);
		f |= nftexpr_counter(r);
		f |= nftexpr_verdict(r, NF_ACCEPT);
		(void)nftrules_rule_add(b, r, f, "meta mark & 0x00ff0000 == "
		    "0x00520000 ct mark set meta mark counter accept");

		/* 2b. The first packets of each session after the
		 * handshake (the SYN is packet 1 and stays with the gate;
		 * the handshake's ACK is packet 2, and holding it would delay
		 * every session's start) go to chain sniff, which returns
		 * what the sniffer has no business with. */
		if ((r = nftrules_rule_new(c->table, NFTRULES_CHAIN)) == NULL)
			goto oom;
		f = nftrules_rule_gated(r, false, false);
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
		(void)nftrules_rule_add(b, r, f, text);

		/* 2c. [sniffer] pregreet on: the handshake's ACK copied to
		 * the sniffer (its arrival times the round trip). */
		if (c->sniff_copies) {
			nftrules_rule_copy(b, c, false, false);
			nftrules_rule_copy(b, c, false, true);
		}
	}

	/* 2. Not TCP: not ours. */
	if (nftrules_rule_not_ours(b, c->table, NFTRULES_CHAIN, false) == -1)
		goto oom;

	/* 3. Only new SYNs. */
	if ((r = nftrules_rule_new(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_meta(r, NFT_META_L4PROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, IPPROTO_TCP);
	f |= nftexpr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	f |= nftexpr_and(r, &tcpmask, 1);
	f |= nftexpr_cmp_u8(r, NFT_CMP_NEQ, NFTRULES_TCP_SYN);
	f |= nftexpr_verdict(r, NF_ACCEPT);
	(void)nftrules_rule_add(b, r, f, "tcp flags & (fin|syn|rst|ack) "
	    "!= syn accept");

	/* 3b. [gate|sniffer] reply = smtp: a SYN the reply chain redirected
	 * to the responder's ports passes when the responder listens, and
	 * is reset when it does not (smtpgated down: fail open, and the
	 * client learns so at once, whatever the admin's own filter does
	 * with closed ports). */
	if (c->reply_gate || c->reply_sniff)
		nftrules_rule_reply_syn(b, c);

	/* 4. Only gated ports. */
	if (nftrules_rule_not_ours(b, c->table, NFTRULES_CHAIN, true) == -1)
		goto oom;

	/* 5. The sets: passes not banned since, allow, bans, the rest. */
	for (i = 0; i < sizeof(saddr) / sizeof(saddr[0]); i++)
		nftrules_rule_saddr(b, c->table, saddr[i].set, saddr[i].id,
		    saddr[i].v6, saddr[i].net64, saddr[i].unless,
		    saddr[i].unless_id, saddr[i].v);

	/* 5b. tempfail's second chance, after every refusal: a sender
	 * cached as refused for another reason stays refused. */
	for (int v6 = 0; v6 <= 1; v6++) {
		nftrules_rule_retry(b, c, v6, true);
		nftrules_rule_retry(b, c, v6, false);
	}

	/* 6. Everything else waits for smtpgated. */
	if ((r = nftrules_rule_new(c->table, NFTRULES_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_counter(r);
	f |= nftexpr_queue(r, c->queue, q);
	snprintf(text, sizeof(text), "counter queue num %u bypass (%s)",
	    c->queue, nftrules_queue_name(q));
	(void)nftrules_rule_add(b, r, f, text);
	return;
oom:
	nl_batch_fail(b);
}

/*
 * Chain sniff (regular, jumped to from gate): return allow-listed sources
 * and pure ACKs (no payload: IP length = TCP header, for the usual header
 * lengths 20 and 32; other ACKs are queued and cost only a verdict), queue
 * the rest to the sniffer with bypass.  The chain is created before chain
 * gate so that a dump lists gate's SYN queue rule last (nftrules_status
 * reports it).
 */
void
nftrules_rule_sniff(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q)
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
	struct nftnl_rule *r;
	char text[NL_LABEL_MAX];
	size_t i;
	int f;

	for (int v6 = 0; v6 <= 1; v6++) {
		if ((r = nftrules_rule_new(c->table, NFTRULES_SNIFF_CHAIN)) ==
		    NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_NFPROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 :
		    NFPROTO_IPV4);
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    v6 ? 8 : 12, v6 ? 16 : 4);
		f |= nftexpr_lookup(r, v6 ? "allow6" : "allow4",
		    v6 ? NFTRULES_SET_ALLOW6 : NFTRULES_SET_ALLOW4, false);
		f |= nftexpr_jump(r, NULL);
		snprintf(text, sizeof(text), "%s saddr @allow%d return",
		    v6 ? "ip6" : "ip", v6 ? 6 : 4);
		(void)nftrules_rule_add(b, r, f, text);
	}
	for (i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		uint16_t be = htons(acks[i].len);

		if ((r = nftrules_rule_new(c->table, NFTRULES_SNIFF_CHAIN)) ==
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
		(void)nftrules_rule_add(b, r, f, text);
	}
	/*
	 * What the server had sent when this client packet came: its
	 * conntrack reply-direction packet count (accounting is on: chain
	 * gate's ct packets match turned it on) into the packet mark, which
	 * the queue hands the sniffer.  Packet 1 is the SYN-ACK, 2 the
	 * banner; the server's packets are counted at output before they
	 * leave, so the count is exact for the pregreet and pipelining
	 * tests (smtpproto.h), and no packet of the server is ever queued
	 * or held: the banner is never delayed.
	 */
	for (unsigned n = 1; n <= 2; n++) {
		uint32_t keep = ~MARK_MASK, stage = n == 1 ? MARK_SRV_SYNACK :
		    MARK_SRV_BANNER;
		uint64_t count = n;	/* host order, as nft compares it */

		if ((r = nftrules_rule_new(c->table, NFTRULES_SNIFF_CHAIN)) ==
		    NULL)
			goto oom;
		f = nftexpr_ct(r, NFT_CT_PKTS, 1);
		f |= nftexpr_cmp(r, NFT_CMP_EQ, &count, sizeof(count));
		f |= nftexpr_meta(r, NFT_META_MARK);
		f |= nftexpr_mask_xor(r, &keep, &stage, sizeof(stage));
		f |= nftexpr_meta_set(r, NFT_META_MARK);
		snprintf(text, sizeof(text), "ct reply packets %u meta mark set "
		    "meta mark & 0xff00ffff | 0x%08x", n, stage);
		(void)nftrules_rule_add(b, r, f, text);
	}
	if ((r = nftrules_rule_new(c->table, NFTRULES_SNIFF_CHAIN)) == NULL)
		goto oom;
	f = nftexpr_counter(r);
	f |= nftexpr_queue(r, c->sniff_queue, q);
	snprintf(text, sizeof(text), "counter queue num %u bypass (%s)",
	    c->sniff_queue, nftrules_queue_name(q));
	(void)nftrules_rule_add(b, r, f, text);
	return;
oom:
	nl_batch_fail(b);
}

/* "ip saddr @SET accept" (or ip6) in chain reply.  0, or -1 (b broken). */
static int
nftrules_rule_reply_keep(struct nl_batch *b, const struct nftrules_conf *c,
    const char *set, uint32_t id, bool v6)
{
	struct nftnl_rule *r;
	char text[NL_LABEL_MAX];
	int f;

	if ((r = nftrules_rule_new(c->table, NFTRULES_REPLY_CHAIN)) == NULL)
		return -1;
	f = nftexpr_meta(r, NFT_META_NFPROTO);
	f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12,
	    v6 ? 16 : 4);
	f |= nftexpr_lookup(r, set, id, false);
	f |= nftexpr_verdict(r, NF_ACCEPT);
	snprintf(text, sizeof(text), "%s saddr @%s accept", v6 ? "ip6" : "ip",
	    set);
	(void)nftrules_rule_add(b, r, f, text);
	return 0;
}

/*
 * Chain reply (nat prerouting, reply.h): a new connection to a gated port
 * from a source the gate refused (map reply4/reply6: address -> port) or
 * the sniffer banned (offend4/offend6, [sniffer] reply = smtp) is
 * redirected to the responder's port for its reason.  NAT is decided at a
 * connection's first packet, before chain gate, so the gate's own refusal
 * of a first SYN cannot redirect it: smtpgated drops that SYN instead and
 * the client's retransmit (about 1 s later) comes here.  Allow-listed
 * sources are never redirected; passed ones only when the sniffer banned
 * them since.
 */
void
nftrules_rule_reply(struct nl_batch *b, const struct nftrules_conf *c)
{
	/* Left alone: allow-listed always; passed ones after the bans (a
	 * sniffer's ban is newer evidence than a pass). */
	static const struct {
		const char *set;
		uint32_t id;
		bool v6;
	} allow[] = {
		{ "allow4", NFTRULES_SET_ALLOW4, false },
		{ "allow6", NFTRULES_SET_ALLOW6, true },
	}, pass[] = {
		{ "pass4", NFTRULES_SET_PASS4, false },
		{ "pass6", NFTRULES_SET_PASS6, true },
	};
	struct nftnl_rule *r;
	char text[NL_LABEL_MAX];
	int f;

	/* Not a TCP connection to a gated port: not ours. */
	if (nftrules_rule_not_ours(b, c->table, NFTRULES_REPLY_CHAIN,
	    false) == -1 || nftrules_rule_not_ours(b, c->table,
	    NFTRULES_REPLY_CHAIN, true) == -1)
		goto oom;

	for (size_t i = 0; i < 2; i++)
		if (nftrules_rule_reply_keep(b, c, allow[i].set, allow[i].id,
		    allow[i].v6) == -1)
			goto oom;
	/* The sniffer's bans: one port. */
	for (int v6 = 0; c->reply_sniff && v6 <= 1; v6++) {
		uint16_t port = reply_port(c->reply_port, REPLY_REJECT,
		    REPLY_RULE_OFFEND);

		if ((r = nftrules_rule_new(c->table, NFTRULES_REPLY_CHAIN)) ==
		    NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_NFPROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 :
		    NFPROTO_IPV4);
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    v6 ? 8 : 12, v6 ? 16 : 4);
		f |= nftexpr_lookup(r, v6 ? "offend6" : "offend4",
		    v6 ? NFTRULES_SET_OFFEND6 : NFTRULES_SET_OFFEND4, false);
		f |= nftexpr_counter(r);
		f |= nftexpr_imm_port(r, port);
		f |= nftexpr_redir(r);
		snprintf(text, sizeof(text), "%s saddr @offend%d counter "
		    "redirect to :%u", v6 ? "ip6" : "ip", v6 ? 6 : 4, port);
		(void)nftrules_rule_add(b, r, f, text);
	}
	for (size_t i = 0; i < 2; i++)
		if (nftrules_rule_reply_keep(b, c, pass[i].set, pass[i].id,
		    pass[i].v6) == -1)
			goto oom;
	/* The gate's refusals: the map gives the port. */
	for (int v6 = 0; c->reply_gate && v6 <= 1; v6++) {
		if ((r = nftrules_rule_new(c->table, NFTRULES_REPLY_CHAIN)) ==
		    NULL)
			goto oom;
		f = nftexpr_meta(r, NFT_META_NFPROTO);
		f |= nftexpr_cmp_u8(r, NFT_CMP_EQ, v6 ? NFPROTO_IPV6 :
		    NFPROTO_IPV4);
		f |= nftexpr_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
		    v6 ? 8 : 12, v6 ? 16 : 4);
		f |= nftexpr_lookup_map(r, v6 ? "reply6" : "reply4",
		    v6 ? NFTRULES_SET_REPLY6 : NFTRULES_SET_REPLY4);
		f |= nftexpr_counter(r);
		f |= nftexpr_redir(r);
		snprintf(text, sizeof(text), "counter redirect to :%s saddr "
		    "map @reply%d", v6 ? "ip6" : "ip", v6 ? 6 : 4);
		(void)nftrules_rule_add(b, r, f, text);
	}
	return;
oom:
	nl_batch_fail(b);
}

int
nftrules_rule_probe(struct nl_batch *b)
{
	struct nftnl_rule *r;

	if ((r = nftrules_rule_new(NFTRULES_PROBE_TABLE,
	    NFTRULES_PROBE_CHAIN)) == NULL) {
		nl_batch_fail(b);
		return -1;
	}
	return nftrules_rule_add(b, r, nftexpr_queue(r, 0,
	    NFTRULES_QUEUE_NATIVE), "queue num 0 bypass");
}
