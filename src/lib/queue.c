/*
 * queue.c - one NFQUEUE over the libmnl-based libnetfilter_queue API,
 * driven by the event loop.
 *
 * Exports queue_open, queue_verdict, queue_verdict_mark, queue_stats,
 * queue_set_fault, queue_kernel_stats, queue_close (the config message's
 * builder, queue_config_build, is pure code in queue_config.c, which the
 * scenario tests' fake of this module leaves in place).  Needs an
 * event loop (evloop_new) first; the queue owns its netlink socket (the
 * netlink module's, with its receive buffer) and gives it back in
 * queue_close.  Packets and the kernel's answers to verdicts reach
 * queue_other, the socket's handler for messages no request waits for.
 *
 * Hazards, from NOTES.md and the kernel's nfnetlink_queue:
 *  - A bound queue whose copy mode is not yet set drops packets even with
 *    bypass, so bind, copy mode, maximum length and flags travel in ONE
 *    config message and its ack is awaited (nl_exchange: matched by its
 *    sequence number, under a deadline).
 *  - Packets can arrive between the bind and its ack.  They are answered
 *    NF_REPEAT: the hook runs again, the queue rule queues them again, and
 *    they come back once the caller holds the queue handle.  No callback
 *    runs inside queue_open.
 *  - The kernel answers a verdict for an id it no longer holds with an
 *    ENOENT error message; that is counted in verdict_errors, not fatal.
 *    Verdicts are never acked, so every NLMSG_ERROR that answers no
 *    config request (the socket matches those by sequence number) is
 *    such an answer.
 *  - ENOBUFS from recv means the kernel dropped messages to us (we leave
 *    NETLINK_NO_ENOBUFS unset on purpose so we learn of it); the lost
 *    packets were accepted by FAIL_OPEN or dropped.  Counted (by the
 *    socket), survived.
 *  - The batch verdict message applies to every older id as well; only
 *    single verdicts are sent here, so verdicts may be given in any order.
 *  - The callback must not call queue_close: the receive loop is still
 *    using the queue.  Defer the close with evloop_defer.
 *  - A verdict that does not reach the kernel leaves its packet held and
 *    takes a queue slot for good (at queue_maxlen the kernel's fail-open
 *    lets SYNs through unjudged).  So a failed send is retried: at once for
 *    the transient EAGAIN/ENOBUFS/EINTR, then from the retry list, flushed
 *    by a timer (QUEUE_RETRY_MIN_MS doubling to QUEUE_RETRY_MAX_MS) and at
 *    every readable event, until it goes out or the queue closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "marks.h"
#include "netlink.h"
#include "queue.h"

/* Datagrams read per readable event before other work gets a turn. */
#define QUEUE_BURST		256
/* Room for a packet message beyond the copied payload (attributes). */
#define QUEUE_MSG_OVERHEAD	8192
#define QUEUE_COPY_MAX		65535
/*
 * Socket buffer per packet the kernel may hold (skb truesize, rounded):
 * every packet held could be a message not read yet, so the buffer follows
 * queue_maxlen, up to a maxlen of 131072.
 */
#define QUEUE_RCVBUF_PER_PKT	2048
#define QUEUE_RCVBUF_MIN	(1 << 20)
#define QUEUE_RCVBUF_MAX	(256 << 20)
/* How long queue_open and queue_close wait for the kernel's ack. */
#define QUEUE_ACK_TIMEOUT_MS	2000
/* Small control messages: config (~60 bytes) and verdicts (~40 bytes). */
#define QUEUE_CTL_BUF		512
/* Sends of one verdict before it goes on the retry list. */
#define QUEUE_SEND_TRIES	3
/* Retry list: the timer's first delay, doubling up to the last. */
#define QUEUE_RETRY_MIN_MS	5
#define QUEUE_RETRY_MAX_MS	1000
#define QUEUE_RETRY_CAP0	64

enum queue_state {
	QUEUE_OPENING,		/* bind sent: packets are requeued */
	QUEUE_RUNNING,		/* packets go to the callback */
	QUEUE_CLOSING,		/* unbind sent: packets are being flushed */
};

/* A verdict that waits for another send. */
struct queue_retry {
	uint32_t id;		/* packet id */
	int verdict;		/* NF_ACCEPT, NF_DROP, NF_REPEAT */
	bool set_mark;
	uint32_t mark;
};

struct queue {
	struct evloop *ev;
	struct nl_sock *nl;
	int fd;			/* the netlink socket, registered with ev */
	bool registered;	/* fd is in the event loop */
	uint16_t num;		/* queue number */
	enum queue_state state;
	queue_cb cb;
	void *arg;
	struct queue_stats st;
	uint64_t malformed;	/* packet and error messages we could not
				 * read (the socket counts its own) */
	uint32_t maxlen;	/* packets the kernel holds for us at most */
	struct queue_retry *retry;	/* verdicts waiting for a send */
	size_t nretry, capretry;
	struct ev_timer *retry_timer;	/* next flush, or NULL */
	int64_t retry_delay_ms;		/* its current back-off */
	bool send_failing;		/* a failure was logged, none sent since */
	uint32_t last_id;		/* last packet id received (0: none) */
	queue_fault_fn fault;		/* tests: make sends fail */
	void *fault_arg;
	int procfd;			/* /proc/net/netfilter/nfnetlink_queue,
					 * opened while privileged (it is
					 * 0440 root), or -1 */
};

/* One try at sending a verdict.  0, or -1 with errno. */
static int
queue_send_once(struct queue *q, const struct queue_retry *r)
{
	char buf[QUEUE_CTL_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	int e;

	if (q->fault != NULL && (e = q->fault(q->fault_arg)) != 0) {
		errno = e;
		return -1;
	}
	/* Not acked: a refusal comes back to queue_other. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)r->id, r->verdict);
	if (r->set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, r->mark);
	return nl_send_untracked(q->nl, nlh);
}

static bool
queue_transient(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == EINTR;
}

/* Send r, trying again at once while the failure is transient. */
static int
queue_send_tries(struct queue *q, const struct queue_retry *r)
{
	for (int t = 0; t < QUEUE_SEND_TRIES; t++) {
		if (queue_send_once(q, r) == 0) {
			if (q->send_failing) {
				q->send_failing = false;
				log_info("nfq: queue %u: verdicts go out "
				    "again", q->num);
			}
			return 0;
		}
		q->st.send_failed++;
		if (!queue_transient(errno))
			break;
	}
	if (!q->send_failing) {
		q->send_failing = true;
		log_warnx("nfq: queue %u: verdict for packet %u: sendto: %s "
		    "(kept for a retry; counted in verdict_send_failed)",
		    q->num, r->id, strerror(errno));
	}
	return -1;
}

static void queue_retry_flush(void *arg);

static void
queue_retry_arm(struct queue *q)
{
	if (q->retry_timer != NULL || q->nretry == 0)
		return;
	q->retry_timer = evloop_timer_at(q->ev, evloop_now_ms(q->ev) +
	    q->retry_delay_ms, queue_retry_flush, q);
}

/* Keep r for a later send.  -1 (ENOMEM) when it cannot be kept. */
static int
queue_retry_add(struct queue *q, const struct queue_retry *r)
{
	if (q->nretry == q->capretry) {
		size_t cap = q->capretry ? q->capretry * 2 : QUEUE_RETRY_CAP0;
		struct queue_retry *nr;

		/* One entry per held packet: maxlen (and a margin for the
		 * sends of the opening phase) bounds the list. */
		if (q->capretry >= (size_t)q->maxlen + QUEUE_RETRY_CAP0 ||
		    (nr = realloc(q->retry, cap * sizeof(*nr))) == NULL) {
			q->st.lost++;
			log_warnx("nfq: queue %u: verdict for packet %u lost: "
			    "retry list full (%zu)", q->num, r->id, q->nretry);
			errno = ENOMEM;
			return -1;
		}
		q->retry = nr;
		q->capretry = cap;
	}
	q->retry[q->nretry++] = *r;
	q->st.deferred++;
	q->st.retry_pending = q->nretry;
	queue_retry_arm(q);
	return 0;
}

/*
 * Send what waits, oldest first.  The first that still fails ends the
 * round (the socket will refuse the rest too): it and all after it stay,
 * and the timer backs off.
 */
static void
queue_retry_send(struct queue *q)
{
	size_t i = 0, kept;

	while (i < q->nretry && queue_send_tries(q, &q->retry[i]) == 0)
		i++;
	kept = q->nretry - i;
	if (i > 0)
		memmove(q->retry, q->retry + i, kept * sizeof(*q->retry));
	q->nretry = kept;
	q->st.retry_pending = kept;
	if (kept == 0) {
		q->retry_delay_ms = QUEUE_RETRY_MIN_MS;
	} else if (q->retry_delay_ms < QUEUE_RETRY_MAX_MS) {
		q->retry_delay_ms *= 2;
		if (q->retry_delay_ms > QUEUE_RETRY_MAX_MS)
			q->retry_delay_ms = QUEUE_RETRY_MAX_MS;
	}
}

static void
queue_retry_flush(void *arg)
{
	struct queue *q = arg;

	q->retry_timer = NULL;
	queue_retry_send(q);
	queue_retry_arm(q);
}

static int
queue_send_verdict(struct queue *q, uint32_t id, int verdict, bool set_mark,
    uint32_t mark)
{
	struct queue_retry r = { id, verdict, set_mark, mark };

	if (queue_send_tries(q, &r) == 0)
		return 0;
	return queue_retry_add(q, &r);
}

static void
queue_data(struct queue *q, const struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFQA_MAX + 1];
	const struct nfqnl_msg_packet_hdr *ph;
	struct queue_packet p;

	memset(attr, 0, sizeof(attr));
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) ||
	    nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) {
		q->malformed++;
		return;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	memset(&p, 0, sizeof(p));
	p.id = ntohl(ph->packet_id);
	p.hw_protocol = ntohs(ph->hw_protocol);
	if (attr[NFQA_MARK] != NULL)
		p.mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD] != NULL) {
		p.payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	q->st.packets++;
	/*
	 * Ids are given out one by one and arrive in order; a jump means the
	 * kernel could not deliver the ids in between to our socket.
	 */
	if (p.id - q->last_id - 1 < 0x80000000u)
		q->st.id_gaps += p.id - q->last_id - 1;
	q->last_id = p.id;
	switch (q->state) {
	case QUEUE_OPENING:
		/* Send it round again: it comes back when we are ready. */
		(void)queue_send_verdict(q, p.id, NF_REPEAT, false, 0);
		break;
	case QUEUE_RUNNING:
		q->cb(q->arg, &p);
		break;
	case QUEUE_CLOSING:
		/* The unbind flushes it; a verdict would only get ENOENT. */
		break;
	}
}

/*
 * A message no request waits for: a queued packet, or the kernel's
 * answer to a verdict (verdicts are never acked, so an error is a refusal:
 * ENOENT for a packet it no longer holds), counted, not fatal.
 */
static void
queue_other(void *arg, const struct nlmsghdr *nlh)
{
	struct queue *q = arg;
	int error;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if ((error = nl_error_decode(nlh, NULL, 0)) == -1)
			q->malformed++;
		else if (error != 0)
			q->st.verdict_errors++;
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;			/* NOOP, DONE, OVERRUN: nothing */
	queue_data(q, nlh);
}

/* The socket's counts and ours, in the stats. */
static void
queue_sync_stats(struct queue *q)
{
	const struct nl_stats *ns = nl_stats(q->nl);

	q->st.enobufs = ns->enobufs;
	q->st.malformed = q->malformed + ns->malformed;
}

/* Send a config message (begun in b) and wait for its ack. 0 or -1
 * with "LABEL: CAUSE" in err and errno. */
static int
queue_config(struct queue *q, struct nl_batch *b, char *err, size_t errlen)
{
	int rc, e;

	rc = nl_exchange(q->nl, b, NULL, NULL, QUEUE_ACK_TIMEOUT_MS, err,
	    errlen);
	e = errno;
	queue_sync_stats(q);
	errno = e;
	return rc;
}

static void
queue_readable(int fd, uint32_t events, void *arg)
{
	struct queue *q = arg;

	(void)fd;
	(void)events;
	/* Verdicts that wait go first: each frees a slot of the queue. */
	if (q->nretry > 0)
		queue_retry_send(q);
	/* A socket error other than ENOBUFS (counted) cannot be helped
	 * here; the next readable event tries again. */
	(void)nl_process(q->nl, QUEUE_BURST);
	queue_sync_stats(q);
}

static void
queue_set_rcvbuf(struct queue *q, uint32_t maxlen)
{
	uint64_t want = (uint64_t)maxlen * QUEUE_RCVBUF_PER_PKT;
	int got;

	if (want < QUEUE_RCVBUF_MIN)
		want = QUEUE_RCVBUF_MIN;
	if (want > QUEUE_RCVBUF_MAX)
		want = QUEUE_RCVBUF_MAX;
	if ((got = nl_set_rcvbuf(q->nl, (int)want)) > 0)
		q->st.rcvbuf_bytes = (uint32_t)got;
}

/* The socket (closing it unbinds), the /proc file, the memory. */
static void
queue_free(struct queue *q)
{
	nl_close(q->nl);
	if (q->procfd >= 0)
		close(q->procfd);
	free(q->retry);
	free(q);
}

struct queue *
queue_open(struct evloop *ev, uint16_t num, uint32_t maxlen, uint32_t copy,
    queue_cb cb, void *arg, char *err, size_t errlen)
{
	struct nl_batch *b = NULL;
	struct queue *q;
	char why[256];

	if (maxlen == 0 || cb == NULL) {
		snprintf(err, errlen, "nfq: queue %u: %s", num,
		    maxlen == 0 ? "maximum length 0" : "no callback");
		errno = EINVAL;
		return NULL;
	}
	if (copy == 0 || copy > QUEUE_COPY_MAX)
		copy = QUEUE_COPY_MAX;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		snprintf(err, errlen, "nfq: queue %u: calloc: %s", num,
		    strerror(errno));
		return NULL;
	}
	q->procfd = -1;
	q->ev = ev;
	q->num = num;
	q->cb = cb;
	q->arg = arg;
	q->fd = -1;
	q->state = QUEUE_OPENING;
	q->maxlen = maxlen;
	q->retry_delay_ms = QUEUE_RETRY_MIN_MS;
	/* The receive buffer: one packet message with its payload. */
	q->nl = nl_open(NETLINK_NETFILTER, copy + QUEUE_MSG_OVERHEAD, why,
	    sizeof(why));
	if (q->nl == NULL) {
		snprintf(err, errlen, "nfq: queue %u: %s", num, why);
		goto fail;
	}
	q->fd = nl_fd(q->nl);
	nl_set_other(q->nl, queue_other, q);
	/* Read later, after the daemon has become an unprivileged user. */
	q->procfd = open("/proc/net/netfilter/nfnetlink_queue",
	    O_RDONLY | O_CLOEXEC);
	queue_set_rcvbuf(q, maxlen);

	if ((b = nl_batch_new(NL_FRAME_NONE)) == NULL) {
		snprintf(err, errlen, "nfq: queue %u: malloc: %s", num,
		    strerror(errno));
		goto fail;
	}
	(void)queue_config_build(b, num, true, copy, maxlen);
	if (queue_config(q, b, why, sizeof(why)) < 0) {
		/* The kernel says EPERM for both causes; name them. */
		snprintf(err, errlen, "nfq: %s%s", why, errno == EPERM ?
		    " (needs CAP_NET_ADMIN, or another process holds the "
		    "queue)" : "");
		goto fail;
	}
	nl_batch_free(b);
	b = NULL;
	if (evloop_fd_add(ev, q->fd, EPOLLIN, queue_readable, q) < 0) {
		snprintf(err, errlen, "nfq: queue %u: evloop_fd_add: %s", num,
		    strerror(errno));
		goto fail;
	}
	q->registered = true;
	q->state = QUEUE_RUNNING;
	return q;
fail:
	nl_batch_free(b);
	/* Closing the socket unbinds the queue if the bind went through. */
	queue_free(q);
	return NULL;
}

int
queue_verdict(struct queue *q, uint32_t id, enum queue_verdict v,
    uint32_t mark)
{
	switch (v) {
	case QUEUE_ACCEPT:
		return queue_send_verdict(q, id, NF_ACCEPT, false, 0);
	case QUEUE_DROP:
		return queue_send_verdict(q, id, NF_DROP, false, 0);
	case QUEUE_REJECT:
		/* The packet re-enters the chain; its first rule resets it. */
		return queue_send_verdict(q, id, NF_REPEAT, true,
		    (mark & ~MARK_MASK) | MARK_REJECT);
	}
	errno = EINVAL;
	return -1;
}

const struct queue_stats *
queue_stats(const struct queue *q)
{
	return &q->st;
}

void
queue_close(struct queue *q)
{
	struct nl_batch *b;
	char why[256];

	if (q == NULL)
		return;
	if (q->registered)
		(void)evloop_fd_del(q->ev, q->fd);
	if (q->retry_timer != NULL)
		evloop_timer_cancel(q->ev, q->retry_timer);
	q->retry_timer = NULL;
	/* A last try; what still fails is dropped by the unbind below. */
	if (q->nretry > 0)
		queue_retry_send(q);
	q->state = QUEUE_CLOSING;
	/*
	 * Unbinding drops what the kernel still holds for us (with bypass,
	 * clients' retransmitted SYNs then pass).  Closing the socket would
	 * unbind too; the explicit message only makes it prompt and checked.
	 */
	if ((b = nl_batch_new(NL_FRAME_NONE)) != NULL) {
		(void)queue_config_build(b, q->num, false, 0, 0);
		/* A refusal changes nothing: closing the socket unbinds. */
		(void)queue_config(q, b, why, sizeof(why));
		nl_batch_free(b);
	}
	queue_free(q);
}

int
queue_kernel_stats(const struct queue *q, struct queue_kernel *k)
{
	unsigned num, portid, total, mode, range, drop, udrop, seq;
	char buf[8192], *line, *save = NULL;
	size_t len = 0;
	ssize_t n;

	if (q->procfd < 0) {
		errno = ENOENT;
		return -1;
	}
	/* A seq file reads from the start again after a seek. */
	if (lseek(q->procfd, 0, SEEK_SET) == -1)
		return -1;
	while (len < sizeof(buf) - 1 &&
	    (n = read(q->procfd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	errno = ENOENT;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%u %u %u %u %u %u %u %u", &num, &portid,
		    &total, &mode, &range, &drop, &udrop, &seq) != 8 ||
		    num != q->num)
			continue;
		k->held = total;
		k->dropped = drop;
		k->user_dropped = udrop;
		k->id_sequence = seq;
		return 0;
	}
	return -1;
}

void
queue_set_fault(struct queue *q, queue_fault_fn fn, void *arg)
{
	q->fault = fn;
	q->fault_arg = arg;
}

int
queue_verdict_mark(struct queue *q, uint32_t id, bool repeat, uint32_t mark)
{
	return queue_send_verdict(q, id, repeat ? NF_REPEAT : NF_ACCEPT, true,
	    mark);
}
