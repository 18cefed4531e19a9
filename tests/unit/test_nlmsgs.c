/*
 * test_nlmsgs.c - the netlink messages smtpgate builds outside nf_tables,
 * built into a batch and parsed back with libmnl (no kernel): the queue's
 * config message (bind with copy mode, maximum length and flags in one
 * message; unbind), the sniffer's conntrack GET by original tuple, and its
 * sock_diag destroy.  Type, flags, header fields, every attribute, label.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>

#include "cases.h"
#include "netlink.h"
#include "queue.h"
#include "sniff_int.h"

/* The attribute of type want among a's nested ones (NULL: none). */
static const struct nlattr *
nested(const struct nlattr *a, uint16_t want)
{
	const struct nlattr *n, *found = NULL;

	mnl_attr_for_each_nested(n, a)
		if (mnl_attr_get_type(n) == want)
			found = n;
	return found;
}

/* The top-level attribute of type want (after the nfgenmsg header). */
static const struct nlattr *
top(const struct nlmsghdr *nlh, uint16_t want)
{
	const struct nlattr *a, *found = NULL;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == want)
			found = a;
	return found;
}

static void
check_label(const char *name, const struct nl_batch *b, const char *want)
{
	if (nl_batch_count(b) != 1)
		fail_msg("%s: messages: got %zu, want 1", name,
		    nl_batch_count(b));
	if (strcmp(nl_batch_label(b, 0), want) != 0)
		fail_msg("%s: label: got \"%s\", want \"%s\"", name,
		    nl_batch_label(b, 0), want);
}

/* --- the queue's config ---------------------------------------------- */

struct qcfg_case {
	const char *name;
	uint16_t num;
	bool bind;
	uint32_t copy, maxlen;
	const char *label;
};

static const struct qcfg_case qcfg_cases[] = {
	{ "bind queue 0", 0, true, 65535, 32768, "bind queue 0" },
	{ "bind queue 65535, small copy", 65535, true, 128, 1, "bind queue "
	    "65535" },
	{ "unbind", 7, false, 0, 0, "unbind queue 7" },
};

static void
test_queue_config(void **state)
{
	const struct qcfg_case *c = *state;
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	const struct nlmsghdr *nlh;
	const struct nfgenmsg *g;
	const struct nlattr *a;
	const struct nfqnl_msg_config_cmd *cmd;
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;

	assert_non_null(b);
	if (queue_config_build(b, c->num, c->bind, c->copy, c->maxlen) != 0)
		fail_msg("%s: queue_config_build failed", c->name);
	check_label(c->name, b, c->label);
	nlh = nl_batch_msg(b, 0);
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG) ||
	    nlh->nlmsg_flags != (NLM_F_REQUEST | NLM_F_ACK))
		fail_msg("%s: type 0x%x flags 0x%x, want config, request|ack",
		    c->name, nlh->nlmsg_type, nlh->nlmsg_flags);
	g = mnl_nlmsg_get_payload(nlh);
	if (ntohs(g->res_id) != c->num)
		fail_msg("%s: queue number: got %u, want %u", c->name,
		    ntohs(g->res_id), c->num);
	if ((a = top(nlh, NFQA_CFG_CMD)) == NULL ||
	    mnl_attr_get_payload_len(a) < sizeof(*cmd))
		fail_msg("%s: no command", c->name);
	cmd = mnl_attr_get_payload(a);
	if (cmd->command != (c->bind ? NFQNL_CFG_CMD_BIND :
	    NFQNL_CFG_CMD_UNBIND))
		fail_msg("%s: command: got %u", c->name, cmd->command);
	if (!c->bind) {
		if (top(nlh, NFQA_CFG_PARAMS) != NULL ||
		    top(nlh, NFQA_CFG_FLAGS) != NULL)
			fail_msg("%s: an unbind carries parameters", c->name);
		nl_batch_free(b);
		return;
	}
	/* Copy mode, length and flags in the bind message itself. */
	if ((a = top(nlh, NFQA_CFG_PARAMS)) == NULL) {
		fail_msg("%s: no copy parameters", c->name);
	} else {
		const struct nfqnl_msg_config_params *p =
		    mnl_attr_get_payload(a);

		if (p->copy_mode != NFQNL_COPY_PACKET ||
		    ntohl(p->copy_range) != c->copy)
			fail_msg("%s: copy mode %u range %u, want %u %u",
			    c->name, p->copy_mode, ntohl(p->copy_range),
			    NFQNL_COPY_PACKET, c->copy);
	}
	if ((a = top(nlh, NFQA_CFG_QUEUE_MAXLEN)) == NULL ||
	    ntohl(mnl_attr_get_u32(a)) != c->maxlen)
		fail_msg("%s: maximum length: want %u", c->name, c->maxlen);
	if ((a = top(nlh, NFQA_CFG_FLAGS)) == NULL ||
	    ntohl(mnl_attr_get_u32(a)) != flags ||
	    (a = top(nlh, NFQA_CFG_MASK)) == NULL ||
	    ntohl(mnl_attr_get_u32(a)) != flags)
		fail_msg("%s: flags and mask: want 0x%x (fail-open, gso)",
		    c->name, flags);
	nl_batch_free(b);
}

/* --- conntrack GET --------------------------------------------------- */

struct ct_case {
	const char *name;
	const char *client, *local;
	uint16_t cport, lport;
	const char *label;
	int rc;
};

static const struct ct_case ct_cases[] = {
	{ "IPv4", "192.0.2.7", "198.51.100.1", 40000, 25,
	    "get conntrack tcp 192.0.2.7:40000 -> 198.51.100.1:25", 0 },
	{ "IPv6", "2001:db8::7", "2001:db8::1", 1025, 2525,
	    "get conntrack tcp [2001:db8::7]:1025 -> [2001:db8::1]:2525", 0 },
	{ "families differ", "192.0.2.7", "2001:db8::1", 1, 25, NULL, -1 },
};

static void
test_ct_get(void **state)
{
	const struct ct_case *c = *state;
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	struct addr cl, lo;
	const struct nlmsghdr *nlh;
	const struct nfgenmsg *g;
	const struct nlattr *t, *ip = NULL, *pr = NULL, *a;
	bool v6;
	size_t alen;

	assert_non_null(b);
	if (addr_parse(c->client, &cl) != 0 || addr_parse(c->local, &lo) != 0)
		fail_msg("%s: bad test addresses", c->name);
	v6 = cl.family == AF_INET6;
	alen = v6 ? 16 : 4;
	if (sniff_ct_build(b, &cl, c->cport, &lo, c->lport) != c->rc)
		fail_msg("%s: sniff_ct_build: want %d", c->name, c->rc);
	if (c->rc != 0) {
		if (nl_batch_count(b) != 0)
			fail_msg("%s: a message was added", c->name);
		nl_batch_free(b);
		return;
	}
	check_label(c->name, b, c->label);
	nlh = nl_batch_msg(b, 0);
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) |
	    IPCTNL_MSG_CT_GET) || nlh->nlmsg_flags != (NLM_F_REQUEST |
	    NLM_F_ACK))
		fail_msg("%s: type 0x%x flags 0x%x", c->name, nlh->nlmsg_type,
		    nlh->nlmsg_flags);
	g = mnl_nlmsg_get_payload(nlh);
	if (g->nfgen_family != cl.family)
		fail_msg("%s: family: got %u, want %d", c->name,
		    g->nfgen_family, cl.family);
	if ((t = top(nlh, CTA_TUPLE_ORIG)) == NULL ||
	    (ip = nested(t, CTA_TUPLE_IP)) == NULL ||
	    (pr = nested(t, CTA_TUPLE_PROTO)) == NULL)
		fail_msg("%s: no original tuple", c->name);
	if ((a = nested(ip, v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC)) == NULL ||
	    mnl_attr_get_payload_len(a) != alen ||
	    memcmp(mnl_attr_get_payload(a), cl.b, alen) != 0)
		fail_msg("%s: source is not the client", c->name);
	if ((a = nested(ip, v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST)) == NULL ||
	    mnl_attr_get_payload_len(a) != alen ||
	    memcmp(mnl_attr_get_payload(a), lo.b, alen) != 0)
		fail_msg("%s: destination is not the local address", c->name);
	if ((a = nested(pr, CTA_PROTO_NUM)) == NULL ||
	    mnl_attr_get_u8(a) != IPPROTO_TCP)
		fail_msg("%s: protocol is not tcp", c->name);
	if ((a = nested(pr, CTA_PROTO_SRC_PORT)) == NULL ||
	    ntohs(mnl_attr_get_u16(a)) != c->cport ||
	    (a = nested(pr, CTA_PROTO_DST_PORT)) == NULL ||
	    ntohs(mnl_attr_get_u16(a)) != c->lport)
		fail_msg("%s: ports: want %u -> %u", c->name, c->cport,
		    c->lport);
	nl_batch_free(b);
}

/* --- sock_diag destroy ----------------------------------------------- */

struct cut_case {
	const char *name;
	int fam;
	const char *local, *remote;
	uint16_t lport, rport;
	const char *label;
};

static const struct cut_case cut_cases[] = {
	{ "IPv4", AF_INET, "198.51.100.1", "192.0.2.7", 25, 40000,
	    "destroy socket tcp 198.51.100.1:25 <- 192.0.2.7:40000" },
	{ "IPv6", AF_INET6, "2001:db8::1", "2001:db8::7", 25, 1025,
	    "destroy socket tcp [2001:db8::1]:25 <- [2001:db8::7]:1025" },
	{ "v4-mapped on a dual-stack socket", AF_INET6, "::ffff:198.51.100.1",
	    "::ffff:192.0.2.7", 25, 40000, "destroy socket tcp "
	    "[::ffff:198.51.100.1]:25 <- [::ffff:192.0.2.7]:40000" },
};

static void
test_cut(void **state)
{
	const struct cut_case *c = *state;
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	uint8_t l[16] = { 0 }, r[16] = { 0 };
	const struct nlmsghdr *nlh;
	const struct inet_diag_req_v2 *req;
	size_t alen = c->fam == AF_INET ? 4 : 16;

	assert_non_null(b);
	if (inet_pton(c->fam, c->local, l) != 1 ||
	    inet_pton(c->fam, c->remote, r) != 1)
		fail_msg("%s: bad test addresses", c->name);
	if (sniff_cut_build(b, c->fam, l, c->lport, r, c->rport) != 0)
		fail_msg("%s: sniff_cut_build failed", c->name);
	check_label(c->name, b, c->label);
	nlh = nl_batch_msg(b, 0);
	if (nlh->nlmsg_type != SOCK_DESTROY || nlh->nlmsg_flags !=
	    (NLM_F_REQUEST | NLM_F_ACK) ||
	    mnl_nlmsg_get_payload_len(nlh) != sizeof(*req))
		fail_msg("%s: type %u flags 0x%x payload %zu", c->name,
		    nlh->nlmsg_type, nlh->nlmsg_flags,
		    mnl_nlmsg_get_payload_len(nlh));
	req = mnl_nlmsg_get_payload(nlh);
	if (req->sdiag_family != c->fam || req->sdiag_protocol !=
	    IPPROTO_TCP || req->idiag_states != ~0u)
		fail_msg("%s: family %u protocol %u states 0x%x", c->name,
		    req->sdiag_family, req->sdiag_protocol, req->idiag_states);
	if (ntohs(req->id.idiag_sport) != c->lport ||
	    ntohs(req->id.idiag_dport) != c->rport)
		fail_msg("%s: ports: got %u <- %u", c->name,
		    ntohs(req->id.idiag_sport), ntohs(req->id.idiag_dport));
	if (memcmp(req->id.idiag_src, l, alen) != 0 ||
	    memcmp(req->id.idiag_dst, r, alen) != 0)
		fail_msg("%s: addresses differ", c->name);
	if (req->id.idiag_cookie[0] != INET_DIAG_NOCOOKIE ||
	    req->id.idiag_cookie[1] != INET_DIAG_NOCOOKIE)
		fail_msg("%s: a cookie was set", c->name);
	nl_batch_free(b);
}

int
main(void)
{
	struct CMUnitTest t[32];
	char names[32][96];
	size_t n = 0;

	CASES(qcfg_cases, test_queue_config);
	CASES(ct_cases, test_ct_get);
	CASES(cut_cases, test_cut);
	return _cmocka_run_group_tests("nlmsgs", t, n, NULL, NULL);
}
