/*
 * sniff_cut.c - cut a session judged forged ([sniffer] cut_session): the
 * local MTA's socket of the session is destroyed through sock_diag
 * (SOCK_DESTROY, as `ss -K` does).  The kernel aborts it: the MTA's next
 * read or write fails with ECONNABORTED, so it frees its process at once,
 * and the client gets a TCP reset.  No sequence numbers are guessed, and
 * it works whenever the judgment comes, at the HELO or seconds later.
 *
 * Needs CAP_NET_ADMIN and a kernel with CONFIG_INET_DIAG_DESTROY.  One
 * netlink socket per cut (cuts are as rare as forgeries), one labelled
 * message, its ack awaited through the netlink module; the kernel answers
 * inside sendmsg, so the wait is only a guard and stays short.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "netlink.h"
#include "sniff_int.h"

#define SNIFF_CUT_WAIT_MS	100	/* the ack's deadline */

/*
 * The SOCK_DESTROY message for the socket local:lport <-> remote:rport of
 * family fam, into b; labelled "destroy socket tcp LOCAL:LPORT <-
 * REMOTE:RPORT".  0, or -1 when out of memory.
 */
int
sniff_cut_build(struct nl_batch *b, int fam, const uint8_t local[16],
    uint16_t lport, const uint8_t remote[16], uint16_t rport)
{
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	size_t alen = fam == AF_INET ? 4 : 16;
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	if ((nlh = nl_batch_put(b, NLMSG_SPACE(sizeof(*req)))) == NULL)
		return -1;
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)fam;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0u;
	req->id.idiag_sport = htons(lport);
	req->id.idiag_dport = htons(rport);
	memcpy(req->id.idiag_src, local, alen);
	memcpy(req->id.idiag_dst, remote, alen);
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (inet_ntop(fam, local, l, sizeof(l)) == NULL)
		snprintf(l, sizeof(l), "?");
	if (inet_ntop(fam, remote, r, sizeof(r)) == NULL)
		snprintf(r, sizeof(r), "?");
	return nl_batch_add(b, fam == AF_INET6 ? "destroy socket tcp "
	    "[%s]:%u <- [%s]:%u" : "destroy socket tcp %s:%u <- %s:%u", l,
	    lport, r, rport) == -1 ? -1 : 0;
}

/* One SOCK_DESTROY; the kernel's answer as 0 or -errno. */
static int
sniff_cut_one(int fam, const uint8_t local[16], uint16_t lport,
    const uint8_t remote[16], uint16_t rport)
{
	struct nl_sock *nl;
	struct nl_batch *b;
	char why[256];
	int rc;

	if ((nl = nl_open(NETLINK_SOCK_DIAG, 0, why, sizeof(why))) == NULL)
		return -errno;
	if ((b = nl_batch_new(NL_FRAME_NONE)) == NULL ||
	    sniff_cut_build(b, fam, local, lport, remote, rport) == -1)
		rc = -ENOMEM;
	else if (nl_exchange(nl, b, NULL, NULL, SNIFF_CUT_WAIT_MS, why,
	    sizeof(why)) == -1)
		rc = -errno;
	else
		rc = 0;
	nl_batch_free(b);
	nl_close(nl);
	return rc;
}

int
sniff_cut(const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport)
{
	uint8_t l6[16] = { [10] = 0xff, [11] = 0xff };
	uint8_t r6[16] = { [10] = 0xff, [11] = 0xff };
	int rc;

	if (client->family != local->family)
		return -EINVAL;
	rc = sniff_cut_one(client->family, local->b, lport, client->b, cport);
	if (rc != -ENOENT || client->family != AF_INET)
		return rc;
	/* An IPv4 client of a dual-stack ([::]) socket: v4-mapped there. */
	memcpy(l6 + 12, local->b, 4);
	memcpy(r6 + 12, client->b, 4);
	return sniff_cut_one(AF_INET6, l6, lport, r6, cport);
}
