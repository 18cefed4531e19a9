/*
 * netlink_int.h - what netlink.c (sockets, answers) and nl_batch.c
 * (building batches, their results) share; not for other modules.
 */
#ifndef SMTPGATE_NETLINK_INT_H
#define SMTPGATE_NETLINK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netfilter/nfnetlink.h>

#include "netlink.h"

#define NL_EXT_MAX	128	/* the kernel's extended ack text, bytes */
#define NL_FRAME_LEN	NLMSG_ALIGN(NLMSG_HDRLEN + sizeof(struct nfgenmsg))

/* One message of a batch. */
struct nl_msg {
	uint32_t off;		/* its header's offset in buf */
	uint32_t label;		/* its label's offset in labels */
	int error;		/* see nl_batch_error */
	bool ack;		/* sent with NLM_F_ACK */
	bool want;		/* an answer is due: acked, a dump, or a
				 * refusal came */
	bool dump;		/* answered by NLMSG_DONE */
	bool answered;		/* the kernel answered it */
};

struct nl_batch {
	enum nl_frame frame;
	uint8_t *buf;		/* the messages, NLMSG_ALIGNed; an
				 * nf_tables frame's begin at 0 */
	size_t len, cap;	/* bytes used, allocated */
	size_t put;		/* offset of the message being written */
	size_t room;		/* ... and its room; 0: none open */
	struct nl_msg *msg;
	size_t n, capn;
	char *labels;		/* NUL-terminated labels, one after another */
	size_t llen, lcap;
	bool broken;		/* out of memory while building */

	/* in flight and results */
	struct nl_sock *sock;	/* in flight on it, or NULL */
	struct nl_batch *next;	/* the socket's in-flight or done list */
	uint32_t seq0;		/* first sequence number (the frame's) */
	uint32_t nseq;		/* sequence numbers it uses */
	size_t want, got;	/* answers due, answers in */
	unsigned drain0;	/* the socket's drain count at send */
	int64_t deadline_ms;	/* monotonic */
	bool lost;		/* ENOBUFS while in flight */
	bool settled;
	int frame_error;	/* against the begin or end message */
	int send_error;		/* sendmsg failed: nothing went out */
	size_t ext_id;		/* message the kernel's text is about */
	char ext[NL_EXT_MAX];	/* that text, or "" */
	mnl_cb_t data;
	nl_done_cb done;
	void *arg;
};

/* nl_batch.c: write the frame's begin or end message (nfnetlink batch,
 * nf_tables) at p, NL_FRAME_LEN bytes. */
void nl_batch_frame_put(uint8_t *p, uint16_t type);
/* netlink.c: take b off the in-flight or done list of its socket. */
void nl_unlink(struct nl_batch *b);

#endif
