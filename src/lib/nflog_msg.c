/*
 * nflog_msg.c - the messages of nfnetlink_log (nflog.h): the config
 * message we send and the packet messages the kernel sends us.  Pure
 * code: for nflog.c, the unit tests, the fuzz target (fuzz_nflog) and the
 * scenario tests (whose fake replaces nflog.c only).
 *
 * Exports nflog_config_build and nflog_parse.  The packet message is an
 * nfgenmsg and attributes (NFULA_*); every attribute we read is checked
 * for its exact size, an attribute running past the message is refused,
 * and attributes we do not know are skipped (newer kernels add some).
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "netlink.h"
#include "nflog.h"

#define NFLOG_CONFIG_BUF	256	/* the message takes about 80 bytes */

int
nflog_config_build(struct nl_batch *b, uint16_t group, uint32_t copy)
{
	struct nlmsghdr *nlh = nl_batch_put(b, NFLOG_CONFIG_BUF);
	struct nfgenmsg *nfg;
	struct nfulnl_msg_config_cmd cmd = { NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode;

	if (nlh == NULL)
		return -1;
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	memset(&mode, 0, sizeof(mode));
	mode.copy_range = htonl(copy);
	mode.copy_mode = NFULNL_COPY_PACKET;
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(NFLOG_QTHRESH));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(NFLOG_FLUSH_CS));
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(NFLOG_NLBUFSIZ));
	return nl_batch_add(b, "bind nflog group %u", group) == -1 ? -1 : 0;
}

int
nflog_parse(const struct nlmsghdr *nlh, struct nflog_packet *out,
    const char **why)
{
	const struct nlattr *a;
	const char *end;
	size_t hdrlen = MNL_ALIGN(sizeof(struct nfgenmsg));
	bool have_hdr = false;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) {
		*why = "not a packet message";
		return -1;
	}
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + hdrlen) {
		*why = "truncated";
		return -1;
	}
	/* Walked to the message's own length, not its aligned tail: the
	 * last message of a datagram may end unaligned at its end. */
	end = (const char *)nlh + nlh->nlmsg_len;
	for (a = mnl_nlmsg_get_payload_offset(nlh, hdrlen);
	    mnl_attr_ok(a, (int)(end - (const char *)a));
	    a = mnl_attr_next(a)) {
		uint16_t type = mnl_attr_get_type(a);
		size_t len = mnl_attr_get_payload_len(a);
		const uint8_t *v = mnl_attr_get_payload(a);

		switch (type) {
		case NFULA_PACKET_HDR: {
			struct nfulnl_msg_packet_hdr ph;

			if (len != sizeof(ph))
				goto bad;
			memcpy(&ph, v, sizeof(ph));
			out->hw_protocol = ntohs(ph.hw_protocol);
			out->hook = ph.hook;
			have_hdr = true;
			break;
		}
		case NFULA_TIMESTAMP: {
			struct nfulnl_msg_packet_timestamp ts;
			uint64_t sec, usec;

			if (len != sizeof(ts)) {
				*why = "bad timestamp";
				return -1;
			}
			memcpy(&ts, v, sizeof(ts));
			sec = be64toh(ts.sec);
			usec = be64toh(ts.usec);
			/* Past the year 2^32 s or a microsecond count of a
			 * second or more: not a time. */
			if (sec > UINT32_MAX || usec >= 1000000) {
				*why = "bad timestamp";
				return -1;
			}
			out->has_ts = true;
			out->ts_us = (int64_t)sec * 1000000 + (int64_t)usec;
			break;
		}
		case NFULA_MARK: {
			uint32_t m;

			if (len != sizeof(m)) {
				*why = "bad mark";
				return -1;
			}
			memcpy(&m, v, sizeof(m));
			out->mark = ntohl(m);
			break;
		}
		case NFULA_PAYLOAD:
			out->payload = len > 0 ? v : NULL;
			out->len = len;
			break;
		default:
			break;
		}
	}
	/* The walk stops at an attribute that does not fit: it must have
	 * reached the message's end (or the padding before it). */
	if ((const char *)a < end && end - (const char *)a >= 4)
		goto bad;
	if (!have_hdr) {
		*why = "no packet header";
		return -1;
	}
	return 0;
bad:
	*why = "bad attribute";
	return -1;
}
