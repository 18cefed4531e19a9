/*
 * nflog.h - one nfnetlink_log group, bound over the netlink module
 * (netlink.h) and read from the event loop: copies of packets that an nft
 * `log group N` rule made, with no verdict (nothing waits for us).
 *
 * nflog_open binds the group with copy mode (copy bytes of each packet),
 * a queue threshold of NFLOG_QTHRESH copies, a flush timeout of 10 ms and
 * a kernel buffer of NFLOG_NLBUFSIZ bytes in one acked config message:
 * the kernel sends what it has in one datagram every 10 ms at the latest
 * (its default is a second), so many copies cost one wake-up.  Each copy
 * is handed to the callback with the time it was read (evloop_clock_us,
 * CLOCK_MONOTONIC) and, for packets of the prerouting, input and forward
 * hooks, the kernel's own time of the packet (CLOCK_REALTIME: the kernel
 * gives none for the output and postrouting hooks).  ENOBUFS (copies
 * lost) is counted by the socket and survived.  Closing the socket
 * unbinds the group.  Only one listener can bind a group (EBUSY).
 *
 * nflog_parse (nflog_msg.c, pure, fuzzed) reads one NFULNL_MSG_PACKET
 * message; nflog_config_build makes the config message (for nflog.c and
 * the tests).
 */
#ifndef SMTPGATE_NFLOG_H
#define SMTPGATE_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "evloop.h"

struct nflog;
struct nl_batch;

#define NFLOG_QTHRESH		64	/* copies the kernel sends at once */
#define NFLOG_FLUSH_CS		1	/* or after this, 1/100 s */
#define NFLOG_NLBUFSIZ		65536	/* its buffer: one datagram, bytes */

struct nflog_packet {
	uint8_t hook;			/* NF_INET_PRE_ROUTING .. POST_ROUTING */
	uint16_t hw_protocol;		/* ETH_P_IP / ETH_P_IPV6, host order */
	bool has_ts;			/* the kernel stamped it */
	int64_t ts_us;			/* that stamp, CLOCK_REALTIME, us */
	uint32_t mark;			/* the packet mark (0 when absent) */
	const uint8_t *payload;		/* from the IP header on, or NULL */
	size_t len;			/* bytes of it copied */
};

struct nflog_stats {
	uint64_t packets;		/* copies handed to the callback */
	uint64_t malformed;		/* messages we could not read */
	uint64_t enobufs;		/* recv said ENOBUFS: copies lost */
};

/* p, read at read_us (CLOCK_MONOTONIC, evloop_clock_us). */
typedef void (*nflog_cb)(void *arg, const struct nflog_packet *p,
    int64_t read_us);

/*
 * Bind group (copy: bytes of each packet, 1..65535).  NULL with "nflog:
 * bind group N: CAUSE" in err (EPERM: no CAP_NET_ADMIN; EBUSY: another
 * listener holds the group; ENOENT or EOPNOTSUPP: no nfnetlink_log in this
 * kernel).  No callback runs inside nflog_open.
 */
struct nflog *nflog_open(struct evloop *ev, uint16_t group, uint32_t copy,
    nflog_cb cb, void *arg, char *err, size_t errlen);
/* Unbind and free (NULL: nothing). */
void nflog_close(struct nflog *l);
const struct nflog_stats *nflog_stats(const struct nflog *l);

/* The config message of group into b, acked, labelled "bind nflog group
 * N": bind, copy mode and range, queue threshold 1, flush timeout.  0, or
 * -1 (out of memory: b broken). */
int nflog_config_build(struct nl_batch *b, uint16_t group, uint32_t copy);

/*
 * One message from the nfnetlink_log socket: 0 with *out (its pointers
 * into nlh), or -1 with *why a static reason: "not a packet message",
 * "truncated", "bad attribute", "no packet header", "bad timestamp",
 * "bad mark".  Lengths are checked against nlh->nlmsg_len, which the
 * caller has checked against the datagram (mnl_nlmsg_ok).
 */
int nflog_parse(const struct nlmsghdr *nlh, struct nflog_packet *out,
    const char **why);

#endif
