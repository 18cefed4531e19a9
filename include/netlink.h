/*
 * netlink.h - smtpgate's one netlink path: sockets that own their port id
 * and sequence numbers, requests built as labelled messages, answers
 * matched to them by sequence number under a deadline, errors decoded once.
 *
 * Every module that talks to the kernel over netlink (nftset, nftrules,
 * queue, gate_watch, ctl_sets, sniff_ct, sniff_cut) builds its messages
 * with libmnl/libnftnl into a struct nl_batch, one message at a time, each
 * closed with a label: a short text naming what it is ("add element pass4
 * 192.0.2.7", "bind queue 0", "add rule \"counter queue num 0 bypass\"").
 * The socket stamps the sequence numbers when it sends, matches every ack,
 * error and data message to its message, and words a refusal once:
 * "LABEL: CAUSE" (the caller puts its own name before it: "nfq: bind
 * queue 0: Operation not permitted").
 *
 * Two ways to wait:
 *  - nl_exchange (tools and start-up): send, then collect every answer of
 *    the batch under a deadline (poll), every mnl_cb_run result checked.
 *  - nl_send + nl_process (the daemons' event loops): send now; the answers
 *    are read when the socket is readable (nl_process), and done(arg, b) is
 *    called once per batch when all of its answers are in.  Never inside
 *    nl_send: a caller is not re-entered by the call that started the work.
 *
 * When is a batch answered?  Netlink kernel sockets handle a request inside
 * the sendmsg() that carries it, so every ack and error for it is queued on
 * our socket before nl_send returns (dumps go on as we read).  A message
 * sent with NLM_F_ACK is answered by its ack or error; a dump by NLMSG_DONE
 * or an error; a message without NLM_F_ACK only tells of a refusal, so it
 * counts as taken once the socket was read empty (EAGAIN) after the send.
 * The daemon's element adds ride on that: no ack per element.
 *
 * Hazards kept here (NOTES.md):
 *  - One refused message aborts a whole nf_tables batch, the acks of the
 *    others notwithstanding: nl_batch_ok is false for all of it.
 *  - NL_FRAME_NFT_CHECK sends a batch without its end message: the kernel
 *    validates every message, answers, and discards everything (how nft
 *    --check works; smtpgate-nft's probe and dry run).
 *  - ENOBUFS from recv means answers were lost: not fatal.  Counted; the
 *    batches in flight then settle with what they got, the rest ENOBUFS.
 *  - Answers nobody waits for (sequence 0: queued packets; a verdict's
 *    ENOENT for a packet the kernel no longer holds; the tail of an
 *    abandoned dump) go to the socket's other handler, never to a batch.
 *  - A bound queue drops until its copy mode is set (queue.c sends bind,
 *    copy mode, length and flags in one acked message through nl_exchange;
 *    packets that arrive before the ack reach the other handler).
 *
 * Memory: a batch belongs to its caller, who frees it (nl_batch_free also
 * takes it off a socket it is in flight on); while in flight the socket
 * only links it.  nl_close drops what is in flight without calling back.
 * Not thread-safe; one socket per event loop or tool.
 */
#ifndef SMTPGATE_NETLINK_H
#define SMTPGATE_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#define NL_LABEL_MAX	192	/* one label with its NUL, bytes */
#define NL_WAIT_MS	2000	/* a batch's deadline unless told */
#define NL_RCVBUF_DEFAULT 32768	/* receive buffer of one recv, bytes */

struct nl_sock;
struct nl_batch;

enum nl_frame {
	NL_FRAME_NONE,		/* plain requests: one or more messages */
	NL_FRAME_NFT,		/* an nf_tables batch, committed */
	NL_FRAME_NFT_CHECK,	/* an nf_tables batch without its end:
				 * validated, answered, discarded */
};

struct nl_stats {
	uint64_t sends;		/* sendmsg calls that went out */
	uint64_t msgs;		/* labelled messages in them */
	uint64_t refused;	/* error answers matched to a message */
	uint64_t stale;		/* answers with a sequence number no batch
				 * in flight has */
	uint64_t unsolicited;	/* sequence 0 messages (queued packets) */
	uint64_t enobufs;	/* recv said ENOBUFS: messages were lost */
	uint64_t malformed;	/* truncated datagrams or messages, short
				 * error messages, other senders */
	uint64_t timeouts;	/* batches settled by their deadline */
};

/* done(arg, b): b settled (see nl_batch_ok and friends); b is the
 * caller's again and may be freed, reset or sent again inside.  Not to
 * close the socket (the walk that called it is still using it). */
typedef void (*nl_done_cb)(void *arg, struct nl_batch *b);
/* A message no batch waits for (see the hazards above). */
typedef void (*nl_other_cb)(void *arg, const struct nlmsghdr *nlh);

/* --- sockets ------------------------------------------------------------ */

/*
 * A non-blocking netlink socket of bus (NETLINK_NETFILTER,
 * NETLINK_SOCK_DIAG), bound to a port id of its own, with NETLINK_CAP_ACK
 * (errors do not echo the request) and NETLINK_EXT_ACK (the kernel's
 * reason comes with them).  rbuf: the largest datagram read in one go
 * (0: NL_RCVBUF_DEFAULT).  NULL with "netlink socket BUS: cause" in err.
 */
struct nl_sock *nl_open(int bus, size_t rbuf, char *err, size_t errlen);
/*
 * For tests: a socket over a descriptor that already carries netlink
 * datagrams (one end of an AF_UNIX socketpair a test scripts), with the
 * port id the answers will name.  Takes fd over (nl_close closes it).
 */
struct nl_sock *nl_adopt(int fd, uint32_t portid, size_t rbuf, char *err,
    size_t errlen);
void nl_close(struct nl_sock *s);
int nl_fd(const struct nl_sock *s);
uint32_t nl_portid(const struct nl_sock *s);
/* Size the kernel's receive queue (SO_RCVBUFFORCE, else SO_RCVBUF).
 * Returns the size granted, or -1 (errno). */
int nl_set_rcvbuf(struct nl_sock *s, int bytes);
/* Where messages no batch waits for go (NULL: counted only). */
void nl_set_other(struct nl_sock *s, nl_other_cb cb, void *arg);
const struct nl_stats *nl_stats(const struct nl_sock *s);
/* Batches in flight. */
size_t nl_inflight(const struct nl_sock *s);

/* --- batches ------------------------------------------------------------ */

/* An empty batch of frame f.  NULL when out of memory. */
struct nl_batch *nl_batch_new(enum nl_frame f);
void nl_batch_free(struct nl_batch *b);
/* Empty b for reuse (not while it is in flight: it is taken off first). */
void nl_batch_reset(struct nl_batch *b, enum nl_frame f);

/*
 * Room for one more message: room bytes at the end of b, where the caller
 * writes one netlink message (mnl_nlmsg_put_header, nfq_nlmsg_put,
 * nftnl_nlmsg_build_hdr ...; its sequence number is stamped at send).
 * NULL when out of memory (b is then broken and will not send).  Finish
 * it with nl_batch_add; a message longer than its room is a broken
 * invariant (abort).
 */
void *nl_batch_put(struct nl_batch *b, size_t room);
/*
 * Close the message begun with nl_batch_put, labelled (printf format, cut
 * at NL_LABEL_MAX).  It is answered if it carries NLM_F_ACK.  Returns its
 * id in b (0, 1, ... in order), or -1 when out of memory.
 */
int nl_batch_add(struct nl_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for a dump request: answered by its parts, then NLMSG_DONE. */
int nl_batch_add_dump(struct nl_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

size_t nl_batch_count(const struct nl_batch *b);
/* A message could not be added (out of memory): b will not send. */
bool nl_batch_broken(const struct nl_batch *b);
/* A builder could not make its message (libnftnl out of memory): mark b
 * broken, as nl_batch_put does when it runs out. */
void nl_batch_fail(struct nl_batch *b);
enum nl_frame nl_batch_frame(const struct nl_batch *b);
/* Message id and its label, for renderers and tests (NULL past the end). */
const struct nlmsghdr *nl_batch_msg(const struct nl_batch *b, size_t id);
const char *nl_batch_label(const struct nl_batch *b, size_t id);

/* --- results (once settled) --------------------------------------------- */

/*
 * Every message taken (acked, or no refusal came), the frame not refused,
 * nothing lost or late.  For NL_FRAME_NFT_CHECK: every message valid.
 */
bool nl_batch_ok(const struct nl_batch *b);
/*
 * Message id: 0 taken; an errno: refused by the kernel when answered,
 * else why no answer came (ETIMEDOUT: past the deadline; ENOBUFS: answers
 * were lost; the errno of a failed send).
 */
int nl_batch_error(const struct nl_batch *b, size_t id);
bool nl_batch_answered(const struct nl_batch *b, size_t id);
/* An error against the frame (nf_tables: a commit that failed). */
int nl_batch_frame_error(const struct nl_batch *b);
/* ENOBUFS came while b was in flight. */
bool nl_batch_lost(const struct nl_batch *b);
/*
 * "LABEL: CAUSE" for message id ("LABEL" when it was taken); the cause is
 * the kernel's errno text (with its extended ack text when it gave one),
 * "no answer from the kernel", "answers lost (...)", or the frame's
 * refusal ("nf_tables batch refused: ...").  Returns the errno that
 * decides the message's fate (its own, else the frame's), or 0.
 */
int nl_batch_describe(const struct nl_batch *b, size_t id, char *buf,
    size_t len);
/*
 * The first failure of b, described as above ("nf_tables batch: CAUSE"
 * when only the frame was refused; "sendto ...: CAUSE" when the send
 * failed).  Returns its errno, or 0 (buf "") when b is ok.
 */
int nl_batch_why(const struct nl_batch *b, char *buf, size_t len);

/* --- sending and answers ------------------------------------------------ */

/*
 * Send b in one sendmsg, sequence numbers stamped (the nf_tables frame
 * added).  data (may be NULL) runs, through mnl_cb_run2 with the message's
 * own sequence number, for each data message that answers b; it may
 * return MNL_CB_STOP (that message is answered) or MNL_CB_ERROR with errno
 * set (b fails with it).  done(arg, b) is called from nl_process once b
 * is settled, or when timeout_ms (0: NL_WAIT_MS) has passed.  0, or -1
 * with errno when nothing was sent (b not in flight, done not called;
 * nl_batch_why says why).
 */
int nl_send(struct nl_sock *s, struct nl_batch *b, mnl_cb_t data,
    nl_done_cb done, void *arg, int timeout_ms);
/*
 * Read what the kernel sent: up to max datagrams (0: until the socket is
 * empty), each message to its batch or to the other handler; then the
 * done callbacks of the batches settled, and of those past their
 * deadline.  Returns the datagrams read (0: none waited), or -1 with errno
 * when the socket failed (ENOBUFS is counted, not failed).
 */
int nl_process(struct nl_sock *s, unsigned max);
/*
 * Block until no batch is in flight, at most timeout_ms; what is still in
 * flight then settles as timed out.  0, or -1 when the socket failed.
 */
int nl_wait(struct nl_sock *s, int timeout_ms);
/*
 * Send b and wait for all of its answers, at most timeout_ms (0:
 * NL_WAIT_MS).  Other batches' callbacks and the other handler may run
 * meanwhile.  0 when nl_batch_ok(b); -1 with nl_batch_why's "LABEL: CAUSE"
 * in err and its errno.
 */
int nl_exchange(struct nl_sock *s, struct nl_batch *b, mnl_cb_t data,
    void *arg, int timeout_ms, char *err, size_t errlen);
/*
 * One message, stamped with the next sequence number, sent and not
 * tracked (verdicts: an error answer reaches the other handler).  0 or -1
 * (errno).
 */
int nl_send_untracked(struct nl_sock *s, struct nlmsghdr *nlh);

/*
 * Decode an NLMSG_ERROR message: its errno (0: an ack), or -1 when it is
 * too short to be one.  ext (may be NULL) gets the kernel's extended ack
 * text, or "".  The one place smtpgate decodes netlink errors.
 */
int nl_error_decode(const struct nlmsghdr *nlh, char *ext, size_t extlen);

#endif
