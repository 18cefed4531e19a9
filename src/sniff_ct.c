/*
 * sniff_ct.c - ask conntrack about one session: how many packets its
 * client has sent, and its TCP state (ctnetlink IPCTNL_MSG_CT_GET by the
 * original tuple, client -> local).
 *
 * The sniffer sees only the packets the ruleset queues to it (ct original
 * packets 3 to [sniffer] packets, pure ACKs returned before the queue),
 * so its own count cannot tell when a session's window has closed, nor
 * whether the first data packet it sees is the session's first; the
 * conntrack entry's counters can (the ruleset's ct packets match turns
 * accounting on).  Questions are rare (a session whose first data is not
 * a greeting, one that went silent before completing its HELO) and
 * bounded by the caller, and asked on the event loop, so the answer must
 * not make it wait: the kernel answers a GET inside the sendmsg that asks
 * it, so the exchange finds the entry and the ack already queued; its
 * deadline (SNIFF_CT_WAIT_MS) is only a guard.  One netlink socket serves
 * every question (opened at the first, closed with the sniffer): an answer
 * that came after its deadline is told from the next question's by its
 * sequence number, and dropped.  Needs CAP_NET_ADMIN.
 *
 * sniff_ct_get and sniff_ct_build know nothing of the sniffer (the unit
 * tests build the message alone); sniff_ct_ask is the sniffer's question
 * about one of its flows, counted in its stats.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "netlink.h"
#include "sniff_int.h"

#define SNIFF_CT_WAIT_MS	20	/* the answer's deadline, on the loop */
#define SNIFF_CT_MSG		256	/* the GET message, bytes */
#define SNIFF_CT_RCVBUF		8192	/* one entry and its ack */

struct sniff_ct_reply {
	struct sniff_ct *out;
	bool got;			/* the entry came */
};

static int
sniff_ct_nested(const struct nlattr *a, uint16_t want, const struct nlattr
    **found)
{
	const struct nlattr *n;

	*found = NULL;
	mnl_attr_for_each_nested(n, a)
		if (mnl_attr_get_type(n) == want)
			*found = n;
	return *found != NULL ? 0 : -1;
}

static int
sniff_ct_attr(const struct nlattr *a, void *arg)
{
	struct sniff_ct_reply *r = arg;
	const struct nlattr *n, *t;

	switch (mnl_attr_get_type(a)) {
	case CTA_COUNTERS_ORIG:
		if (sniff_ct_nested(a, CTA_COUNTERS_PACKETS, &n) == 0 &&
		    mnl_attr_validate(n, MNL_TYPE_U64) == 0) {
			r->out->packets = be64toh(mnl_attr_get_u64(n));
			r->out->counted = true;
		}
		break;
	case CTA_PROTOINFO:
		if (sniff_ct_nested(a, CTA_PROTOINFO_TCP, &t) == 0 &&
		    sniff_ct_nested(t, CTA_PROTOINFO_TCP_STATE, &n) == 0 &&
		    mnl_attr_validate(n, MNL_TYPE_U8) == 0)
			r->out->tcp_state = mnl_attr_get_u8(n);
		break;
	}
	return MNL_CB_OK;
}

static int
sniff_ct_msg(const struct nlmsghdr *h, void *arg)
{
	struct sniff_ct_reply *r = arg;

	if (NFNL_MSG_TYPE(h->nlmsg_type) != IPCTNL_MSG_CT_NEW)
		return MNL_CB_OK;
	r->got = true;
	return mnl_attr_parse(h, sizeof(struct nfgenmsg), sniff_ct_attr, r);
}

int
sniff_ct_build(struct nl_batch *b, const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport)
{
	struct nlmsghdr *h;
	struct nfgenmsg *g;
	struct nlattr *tuple, *ip, *proto;
	bool v6 = client->family == AF_INET6;
	char c[ADDR_STRLEN], l[ADDR_STRLEN];

	if (client->family != local->family ||
	    (client->family != AF_INET && client->family != AF_INET6))
		return -1;
	if ((h = nl_batch_put(b, SNIFF_CT_MSG)) == NULL)
		return -1;
	h = mnl_nlmsg_put_header(h);
	h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = (uint8_t)client->family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	tuple = mnl_attr_nest_start(h, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(h, CTA_TUPLE_IP);
	mnl_attr_put(h, v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, v6 ? 16 : 4,
	    client->b);
	mnl_attr_put(h, v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, v6 ? 16 : 4,
	    local->b);
	mnl_attr_nest_end(h, ip);
	proto = mnl_attr_nest_start(h, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(h, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(h, CTA_PROTO_SRC_PORT, htons(cport));
	mnl_attr_put_u16(h, CTA_PROTO_DST_PORT, htons(lport));
	mnl_attr_nest_end(h, proto);
	mnl_attr_nest_end(h, tuple);
	return nl_batch_add(b, v6 ? "get conntrack tcp [%s]:%u -> [%s]:%u" :
	    "get conntrack tcp %s:%u -> %s:%u", addr_ntop(client, c), cport,
	    addr_ntop(local, l), lport) == -1 ? -1 : 0;
}

int
sniff_ct_get(struct nl_sock **nlp, const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport, struct sniff_ct *out)
{
	struct sniff_ct_reply r = { .out = out };
	struct nl_batch *b;
	char why[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (client->family != local->family)
		return -EINVAL;
	if (*nlp == NULL && (*nlp = nl_open(NETLINK_NETFILTER,
	    SNIFF_CT_RCVBUF, why, sizeof(why))) == NULL)
		return -errno;
	if ((b = nl_batch_new(NL_FRAME_NONE)) == NULL ||
	    sniff_ct_build(b, client, cport, local, lport) == -1) {
		nl_batch_free(b);
		return -ENOMEM;
	}
	/* The entry, then the ack (or only an error), queued already. */
	if (nl_exchange(*nlp, b, sniff_ct_msg, &r, SNIFF_CT_WAIT_MS, why,
	    sizeof(why)) == -1)
		rc = -errno;
	else
		rc = r.got ? 0 : -ENOENT;
	nl_batch_free(b);
	return rc;
}

int
sniff_ct_ask(struct sniff *s, const struct sniff_flow *f, struct sniff_ct *out)
{
	int rc;

	s->st.ct_queries++;
	rc = sniff_ct_get(&s->ct_nl, &f->src, f->sport, &f->dst, f->dport,
	    out);
	if (rc != 0 && rc != -ENOENT)
		s->st.ct_errors++;
	return rc;
}
