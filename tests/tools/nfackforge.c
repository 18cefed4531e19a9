/*
 * nfackforge - a bot that forges its acknowledgment number, for the
 * round-trip test of pregreet: the first data segment of each TCP
 * session queued to NFQUEUE number QUEUE gets ADD added to its ACK
 * number (the TCP checksum mended, RFC 1624), so that it acknowledges
 * ADD bytes of the server (its banner) that the client had not received;
 * later segments pass as they are.  Put it in the client's namespace
 * behind an xtables rule that queues the bot's segments to the server:
 * the server's TCP takes the ACK (the banner was sent), and only the
 * timing can tell that the client talked before the banner can have
 * reached it.
 *
 *   nfackforge QUEUE ADD
 *
 * Prints "nfackforge: queue Q add N ready" once bound; runs until killed;
 * IPv4 only.  Exit 1 on a usage or set-up error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define NFACK_PORTS	65536

struct nfack {
	struct mnl_socket *nl;
	uint16_t queue;
	uint32_t add;
	uint8_t seen[NFACK_PORTS];	/* source ports forged once already */
};

/* The TCP checksum after a 32-bit word changed from old to new (RFC
 * 1624, eqn. 3: HC' = ~(~HC + ~m + m'), per 16-bit half). */
static uint16_t
nfack_csum_fix(uint16_t check, uint32_t old, uint32_t new)
{
	uint32_t sum = (uint16_t)~ntohs(check);

	sum += (uint16_t)~(old >> 16) + (uint16_t)~(old & 0xffff);
	sum += (new >> 16) + (new & 0xffff);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int
nfack_verdict(struct nfack *a, uint32_t id, const uint8_t *pkt, size_t len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE + 0x10000];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, a->queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	if (pkt != NULL)
		nfq_nlmsg_verdict_put_pkt(nlh, pkt, (uint32_t)len);
	return mnl_socket_sendto(a->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

static int
nfack_packet(const struct nlmsghdr *nlh, void *data)
{
	struct nfack *a = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;
	uint8_t pkt[0x10000];
	size_t len, ihl, doff;
	uint32_t id, ack, nack;
	uint16_t sport, tot;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	if (attr[NFQA_PAYLOAD] == NULL)
		return nfack_verdict(a, id, NULL, 0) == 0 ? MNL_CB_OK :
		    MNL_CB_ERROR;
	len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	if (len > sizeof(pkt))
		len = sizeof(pkt);
	memcpy(pkt, mnl_attr_get_payload(attr[NFQA_PAYLOAD]), len);
	/* IPv4, TCP, a whole header, data after it. */
	if (len < 20 || (pkt[0] >> 4) != 4 || pkt[9] != 6 ||
	    (ihl = (size_t)(pkt[0] & 0xf) * 4) < 20 || len < ihl + 20)
		return nfack_verdict(a, id, NULL, 0) == 0 ? MNL_CB_OK :
		    MNL_CB_ERROR;
	doff = (size_t)(pkt[ihl + 12] >> 4) * 4;
	tot = (uint16_t)(pkt[2] << 8 | pkt[3]);
	sport = (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
	if (doff < 20 || tot <= ihl + doff || len < tot ||
	    !(pkt[ihl + 13] & 0x10) || a->seen[sport]) {
		return nfack_verdict(a, id, NULL, 0) == 0 ? MNL_CB_OK :
		    MNL_CB_ERROR;
	}
	a->seen[sport] = 1;
	memcpy(&ack, pkt + ihl + 8, 4);
	nack = htonl(ntohl(ack) + a->add);
	memcpy(pkt + ihl + 8, &nack, 4);
	{
		uint16_t check;

		memcpy(&check, pkt + ihl + 16, 2);
		check = nfack_csum_fix(check, ntohl(ack), ntohl(nack));
		memcpy(pkt + ihl + 16, &check, 2);
	}
	fprintf(stderr, "nfackforge: port %u ack %u -> %u\n", sport,
	    ntohl(ack), ntohl(nack));
	return nfack_verdict(a, id, pkt, tot) == 0 ? MNL_CB_OK : MNL_CB_ERROR;
}

int
main(int argc, char *argv[])
{
	static struct nfack a;
	static char buf[0x20000];
	struct nlmsghdr *nlh;
	char *end;
	long q, add;
	ssize_t n;

	if (argc != 3 || (q = strtol(argv[1], &end, 10), *end != '\0') ||
	    q < 0 || q > 65535 || (add = strtol(argv[2], &end, 10),
	    *end != '\0') || add < 1 || add > 65535) {
		fprintf(stderr, "usage: nfackforge QUEUE ADD (1..65535)\n");
		return 1;
	}
	a.queue = (uint16_t)q;
	a.add = (uint32_t)add;
	if ((a.nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(a.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "nfackforge: netlink socket: %s\n",
		    strerror(errno));
		return 1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, a.queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	if (mnl_socket_sendto(a.nl, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, "nfackforge: bind queue %u: %s\n", a.queue,
		    strerror(errno));
		return 1;
	}
	printf("nfackforge: queue %ld add %ld ready\n", q, add);
	fflush(stdout);
	for (;;) {
		if ((n = mnl_socket_recvfrom(a.nl, buf, sizeof(buf))) < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			fprintf(stderr, "nfackforge: recv: %s\n",
			    strerror(errno));
			return 1;
		}
		/* Acks of the config (errors) and packets alike. */
		if (mnl_cb_run(buf, (size_t)n, 0, 0, nfack_packet, &a) < 0 &&
		    errno != 0 && errno != ENOENT)
			fprintf(stderr, "nfackforge: %s\n", strerror(errno));
	}
}
