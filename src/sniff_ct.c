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
 * accounting on).  The kernel answers inside sendto, as for sock_diag
 * (sniff_cut.c): one netlink socket per question, read without waiting.
 * Questions are rare (a session whose first data is not a greeting, one
 * that went silent before completing its HELO) and bounded by the caller.
 * Needs CAP_NET_ADMIN.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "sniff_int.h"

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
sniff_ct_get(const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport, struct sniff_ct *out)
{
	char buf[8192];
	struct sniff_ct_reply r = { .out = out };
	struct mnl_socket *nl;
	struct nlmsghdr *h;
	struct nfgenmsg *g;
	struct nlattr *tuple, *ip, *proto;
	bool v6 = client->family == AF_INET6;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int rc = -EIO;

	memset(out, 0, sizeof(*out));
	if (client->family != local->family)
		return -EINVAL;
	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
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
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) != (ssize_t)h->nlmsg_len) {
		rc = -errno;
		goto out;
	}
	/* The entry, then the ack (or only an error), queued already. */
	while ((n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf),
	    MSG_DONTWAIT)) > 0) {
		int cb = mnl_cb_run(buf, (size_t)n, seq, portid, sniff_ct_msg,
		    &r);

		if (cb == MNL_CB_ERROR) {
			rc = -errno;
			goto out;
		}
		if (cb == MNL_CB_STOP)
			break;
	}
	rc = r.got ? 0 : -ENOENT;
out:
	mnl_socket_close(nl);
	return rc;
}
