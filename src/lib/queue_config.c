/*
 * queue_config.c - the config message of one NFQUEUE (queue.h): bind with
 * copy mode, maximum length and flags in one message, or unbind.  For
 * queue.c, the unit tests and the scenario tests (whose fake queue
 * replaces queue.c only).
 *
 * Exports queue_config_build.  Pure code: it fills a batch, sends nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "netlink.h"
#include "queue.h"

#define QUEUE_CONFIG_BUF	512	/* the message takes about 60 bytes */

int
queue_config_build(struct nl_batch *b, uint16_t num, bool bind,
    uint32_t copy, uint32_t maxlen)
{
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	struct nlmsghdr *nlh = nl_batch_put(b, QUEUE_CONFIG_BUF);

	if (nlh == NULL)
		return -1;
	nlh = nfq_nlmsg_put((char *)nlh, NFQNL_MSG_CONFIG, num);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, bind ? NFQNL_CFG_CMD_BIND :
	    NFQNL_CFG_CMD_UNBIND);
	if (bind) {
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	}
	return nl_batch_add(b, "%s queue %u", bind ? "bind" : "unbind",
	    num) == -1 ? -1 : 0;
}
