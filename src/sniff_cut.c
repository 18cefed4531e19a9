/*
 * sniff_cut.c - cut a session judged forged ([sniffer] cut_session): the
 * local MTA's socket of the session is destroyed through sock_diag
 * (SOCK_DESTROY, as `ss -K` does).  The kernel aborts it: the MTA's next
 * read or write fails with ECONNABORTED, so it frees its process at once,
 * and the client gets a TCP reset.  No sequence numbers are guessed, and
 * it works whenever the judgment comes, at the HELO or seconds later.
 *
 * Needs CAP_NET_ADMIN and a kernel with CONFIG_INET_DIAG_DESTROY.  One
 * netlink socket per cut: cuts are as rare as forgeries.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "sniff_int.h"

/* One SOCK_DESTROY for the socket (local:lport <-> remote:rport) of
 * family fam; the kernel's answer as 0 or -errno. */
static int
sniff_cut_one(int fam, const uint8_t local[16], uint16_t lport,
    const uint8_t remote[16], uint16_t rport)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[512];
	struct nlmsghdr *h;
	ssize_t n;
	int fd, rc = -EIO;
	size_t alen = fam == AF_INET ? 4 : 16;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1)
		return -errno;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DESTROY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = (uint8_t)fam;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	msg.req.id.idiag_sport = htons(lport);
	msg.req.id.idiag_dport = htons(rport);
	memcpy(msg.req.id.idiag_src, local, alen);
	memcpy(msg.req.id.idiag_dst, remote, alen);
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) != (ssize_t)sizeof(msg)) {
		rc = -errno;
		goto out;
	}
	/* The kernel answers inside sendto: the ack is queued already. */
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	h = (struct nlmsghdr *)(void *)buf;
	if ((size_t)n >= sizeof(*h) + sizeof(struct nlmsgerr) &&
	    NLMSG_OK(h, (size_t)n) && h->nlmsg_type == NLMSG_ERROR &&
	    h->nlmsg_seq == 1) {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		rc = e->error;
	}
out:
	close(fd);
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
