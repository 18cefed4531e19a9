/*
 * queue.h - one NFQUEUE, bound with the libmnl-based libnetfilter_queue API
 * and driven by the event loop.
 *
 * queue_open binds the queue and sets copy mode, maximum length and the
 * FAIL_OPEN flag in one config message and checks its ack: a bound queue
 * without copy mode drops even with bypass.  The socket receive buffer is
 * sized for bursts; ENOBUFS (messages lost) is counted and survived.  Each
 * packet is handed to the callback, which must give it a verdict now or
 * later with queue_verdict (single verdicts only: the batch verdict message
 * would apply to every older id too).  ENOENT answers to a verdict for an id
 * the kernel no longer holds are counted, not fatal.
 *
 * A verdict is never forgotten: a send that fails with EAGAIN, ENOBUFS or
 * EINTR is tried again at once (QUEUE_SEND_TRIES in all); one that still
 * fails, or fails otherwise, waits in a retry list that the loop flushes
 * (a timer backing off from 5 ms to 1 s, and every readable event) until
 * the kernel takes it or the queue is closed (closing unbinds, and the
 * kernel drops what it still holds).  The list holds one entry per packet
 * the kernel holds for us, so queue_maxlen bounds it.
 */
#ifndef SMTPGATE_QUEUE_H
#define SMTPGATE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"

struct queue;

struct queue_packet {
	uint32_t id;			/* packet id for the verdict */
	uint16_t hw_protocol;		/* ETH_P_IP / ETH_P_IPV6, host order */
	uint32_t mark;			/* the packet's mark */
	const uint8_t *payload;		/* from the IP header on */
	size_t len;
};

typedef void (*queue_cb)(void *arg, const struct queue_packet *p);

struct queue_stats {
	uint64_t packets;		/* packets received */
	uint64_t enobufs;		/* recv() said ENOBUFS: messages lost */
	uint64_t verdict_errors;	/* the kernel refused a verdict */
	uint64_t send_failed;		/* verdict sendto() calls that failed */
	uint64_t deferred;		/* verdicts put on the retry list */
	uint64_t retry_pending;		/* verdicts on the retry list now */
	uint64_t lost;			/* verdicts that could not be kept for
					 * a retry (no memory): the packet
					 * stays held until the queue closes */
	uint64_t id_gaps;		/* packet ids we never received: the
					 * kernel gave them out but our socket
					 * buffer was full (fail-open accepted
					 * them unjudged) */
	uint64_t malformed;		/* netlink messages we could not read */
	uint32_t rcvbuf_bytes;		/* socket receive buffer the kernel
					 * granted (SO_RCVBUF after sizing) */
};

enum queue_verdict {
	QUEUE_ACCEPT,
	QUEUE_DROP,
	QUEUE_REJECT,	/* NF_REPEAT with MARK_REJECT: our chain resets */
};

/*
 * Bind queue num.  maxlen: packets the kernel holds before FAIL_OPEN
 * accepts.  copy: bytes of payload to copy (headers only need ~128;
 * 0 means the whole packet).  NULL with a message in err, e.g.
 * "nfq: bind queue 0: Operation not permitted".  No callback runs inside
 * queue_open: packets that arrive before the bind is acknowledged are
 * sent round again (NF_REPEAT) and come back later.  The callback must
 * not call queue_close (defer it); it may call queue_verdict.
 */
struct queue *queue_open(struct evloop *ev, uint16_t num, uint32_t maxlen,
    uint32_t copy, queue_cb cb, void *arg, char *err, size_t errlen);
/* Unbind (the kernel drops what it still holds for us) and free. */
void queue_close(struct queue *q);

/* Give packet id its verdict; for QUEUE_REJECT mark is the packet's own
 * mark (bits outside MARK_MASK are kept).  0 when sent or kept for a
 * retry; -1 (errno) for a bad verdict or when it could not be kept. */
int queue_verdict(struct queue *q, uint32_t id, enum queue_verdict v,
    uint32_t mark);

/*
 * Accept packet id with its mark set to mark (the whole 32-bit mark; keep
 * the bits outside MARK_MASK from the packet's own).  repeat false:
 * NF_ACCEPT; repeat true: NF_REPEAT, so the packet re-enters the chain,
 * whose rules can act on the mark (the sniffer's MARK_SNIFFED is copied to
 * the conntrack mark there: a verdict cannot set that mark on this
 * kernel).  0 or -1 (errno).
 */
int queue_verdict_mark(struct queue *q, uint32_t id, bool repeat,
    uint32_t mark);

const struct queue_stats *queue_stats(const struct queue *q);

/*
 * The config message of queue num into b, acked, labelled "bind queue N"
 * or "unbind queue N": a bind carries copy mode (copy bytes), maximum
 * length and the FAIL_OPEN and GSO flags in the same message (see above).
 * For queue_open, queue_close and tests.  0, or -1 (out of memory: b is
 * broken and will not send).
 */
struct nl_batch;
int queue_config_build(struct nl_batch *b, uint16_t num, bool bind,
    uint32_t copy, uint32_t maxlen);

/*
 * For tests: before each verdict send, fn(arg) is asked; 0 sends, an errno
 * makes the send fail with it as if sendto() had.  NULL removes the hook.
 */
typedef int (*queue_fault_fn)(void *arg);
void queue_set_fault(struct queue *q, queue_fault_fn fn, void *arg);

/*
 * The kernel's own counters of our queue, from the line of its number in
 * /proc/net/netfilter/nfnetlink_queue (this network namespace's).  With
 * FAIL_OPEN a full queue accepts without giving the packet an id, and a
 * full socket buffer accepts after giving it one, so rule counter minus
 * id_sequence counts the first and id_gaps the second.
 */
struct queue_kernel {
	uint32_t held;			/* queue_total: waiting for a verdict */
	uint32_t dropped;		/* queue_dropped (not with FAIL_OPEN) */
	uint32_t user_dropped;		/* queue_user_dropped (likewise) */
	uint32_t id_sequence;		/* the last packet id given out */
};
/* 0, or -1 with errno (ENOENT: no line for our queue). */
int queue_kernel_stats(const struct queue *q, struct queue_kernel *k);

#endif
