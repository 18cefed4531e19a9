/*
 * queue.c - one NFQUEUE over the libmnl-based libnetfilter_queue API,
 * driven by the event loop.
 *
 * Exports queue_open, queue_verdict, queue_verdict_mark, queue_stats,
 * queue_set_fault, queue_close.  Needs an
 * event loop (evloop_new) first; the queue owns its netlink socket and its
 * receive buffer and gives both back in queue_close.
 *
 * Hazards, from NOTES.md and the kernel's nfnetlink_queue:
 *  - A bound queue whose copy mode is not yet set drops packets even with
 *    bypass, so bind, copy mode, maximum length and flags travel in ONE
 *    config message and its ack is awaited with a real sequence number.
 *  - Packets can arrive between the bind and its ack.  They are answered
 *    NF_REPEAT: the hook runs again, the queue rule queues them again, and
 *    they come back once the caller holds the queue handle.  No callback
 *    runs inside queue_open.
 *  - The kernel answers a verdict for an id it no longer holds with an
 *    ENOENT error message; that is counted in verdict_errors, not fatal.
 *    Verdicts are never acked, so every NLMSG_ERROR seen outside a
 *    config exchange is such an answer.
 *  - ENOBUFS from recv means the kernel dropped messages to us (we leave
 *    NETLINK_NO_ENOBUFS unset on purpose so we learn of it); the lost
 *    packets were accepted by FAIL_OPEN or dropped.  Counted, survived.
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
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	struct mnl_socket *nl;
	int fd;			/* the netlink socket, registered with ev */
	bool registered;	/* fd is in the event loop */
	uint16_t num;		/* queue number */
	uint32_t portid;	/* our netlink port id */
	uint32_t seq;		/* last sequence number sent */
	uint32_t wait_seq;	/* config message whose ack we wait for, or 0 */
	enum queue_state state;
	queue_cb cb;
	void *arg;
	struct queue_stats st;
	uint8_t *buf;		/* receive buffer */
	size_t buflen;		/* its size in bytes */
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

static uint32_t
queue_next_seq(struct queue *q)
{
	if (++q->seq == 0)	/* 0 would match any message in mnl_cb_run */
		q->seq = 1;
	return q->seq;
}

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
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);
	nlh->nlmsg_seq = queue_next_seq(q);
	nfq_nlmsg_verdict_put(nlh, (int)r->id, r->verdict);
	if (r->set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, r->mark);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return 0;
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

/* NLMSG_ERROR: an ack or error for our config, or a refused verdict. */
static int
queue_ctl_error(const struct nlmsghdr *nlh, void *data)
{
	struct queue *q = data;
	const struct nlmsgerr *e;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		q->st.malformed++;
		return MNL_CB_OK;
	}
	e = mnl_nlmsg_get_payload(nlh);
	if (q->wait_seq != 0 && nlh->nlmsg_seq == q->wait_seq) {
		if (e->error == 0)
			return MNL_CB_STOP;
		errno = e->error < 0 ? -e->error : e->error;
		return MNL_CB_ERROR;
	}
	if (e->error != 0)
		q->st.verdict_errors++;
	return MNL_CB_OK;
}

static int
queue_data(const struct nlmsghdr *nlh, void *data)
{
	struct queue *q = data;
	struct nlattr *attr[NFQA_MAX + 1];
	const struct nfqnl_msg_packet_hdr *ph;
	struct queue_packet p;

	memset(attr, 0, sizeof(attr));
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) ||
	    nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) {
		q->st.malformed++;
		return MNL_CB_OK;
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
	return MNL_CB_OK;
}

/*
 * Read one datagram and run its messages.  1 when something was read,
 * 0 when nothing was waiting, -1 on a socket error (errno), and -2 when
 * the ack awaited in wait_seq reported an error (errno).  *stop is set
 * when that ack said yes.
 */
static int
queue_read_one(struct queue *q, bool *stop)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = queue_ctl_error,
	};
	ssize_t n;
	int rc;

	/* MSG_TRUNC: netlink then returns the datagram's real length. */
	n = recv(q->fd, q->buf, q->buflen, MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			return 1;
		if (errno == ENOBUFS) {
			q->st.enobufs++;
			return 1;
		}
		return -1;
	}
	if (n == 0)
		return 0;
	if ((size_t)n > q->buflen) {
		q->st.malformed++;
		return 1;
	}
	rc = mnl_cb_run2(q->buf, (size_t)n, q->wait_seq, q->portid, queue_data,
	    q, ctl, NLMSG_MIN_TYPE);
	if (rc == MNL_CB_STOP && q->wait_seq != 0)
		*stop = true;
	if (rc == MNL_CB_ERROR) {
		if (q->wait_seq != 0 && errno != EPROTO && errno != ESRCH &&
		    errno != EBADMSG)
			return -2;
		q->st.malformed++;
	}
	return 1;
}

/* Send a config message and wait for its ack. 0 or -1 (errno). */
static int
queue_config(struct queue *q, struct nlmsghdr *nlh)
{
	struct timespec t0, t;
	bool stop = false;
	int rc, left, saved;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = queue_next_seq(q);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	q->wait_seq = nlh->nlmsg_seq;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };

		rc = queue_read_one(q, &stop);
		if (rc < 0)
			break;
		if (stop)
			break;
		if (rc > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = QUEUE_ACK_TIMEOUT_MS -
		    (int)((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			errno = ETIMEDOUT;
			rc = -1;
			break;
		}
		if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
			rc = -1;
			break;
		}
	}
	saved = errno;
	q->wait_seq = 0;
	errno = saved;
	return stop ? 0 : -1;
}

static void
queue_readable(int fd, uint32_t events, void *arg)
{
	struct queue *q = arg;
	bool stop = false;
	int i;

	(void)fd;
	(void)events;
	/* Verdicts that wait go first: each frees a slot of the queue. */
	if (q->nretry > 0)
		queue_retry_send(q);
	for (i = 0; i < QUEUE_BURST; i++)
		if (queue_read_one(q, &stop) <= 0)
			break;
}

static void
queue_set_rcvbuf(struct queue *q, uint32_t maxlen)
{
	uint64_t want = (uint64_t)maxlen * QUEUE_RCVBUF_PER_PKT;
	int size, got = 0;
	socklen_t sl = sizeof(got);

	if (want < QUEUE_RCVBUF_MIN)
		want = QUEUE_RCVBUF_MIN;
	if (want > QUEUE_RCVBUF_MAX)
		want = QUEUE_RCVBUF_MAX;
	size = (int)want;
	/* FORCE passes net.core.rmem_max, with CAP_NET_ADMIN only. */
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) < 0)
		(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
	if (getsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &got, &sl) == 0)
		q->st.rcvbuf_bytes = (uint32_t)got;
}

struct queue *
queue_open(struct evloop *ev, uint16_t num, uint32_t maxlen, uint32_t copy,
    queue_cb cb, void *arg, char *err, size_t errlen)
{
	char buf[QUEUE_CTL_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct queue *q;
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	int fl;

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
	q->buflen = copy + QUEUE_MSG_OVERHEAD;
	q->buf = malloc(q->buflen);
	if (q->buf == NULL) {
		snprintf(err, errlen, "nfq: queue %u: malloc %zu: %s", num,
		    q->buflen, strerror(errno));
		goto fail;
	}
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (q->nl == NULL) {
		snprintf(err, errlen, "nfq: queue %u: netlink socket: %s", num,
		    strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "nfq: queue %u: netlink bind: %s", num,
		    strerror(errno));
		goto fail;
	}
	q->fd = mnl_socket_get_fd(q->nl);
	/* Read later, after the daemon has become an unprivileged user. */
	q->procfd = open("/proc/net/netfilter/nfnetlink_queue",
	    O_RDONLY | O_CLOEXEC);
	q->portid = mnl_socket_get_portid(q->nl);
	fl = fcntl(q->fd, F_GETFL);
	if (fl < 0 || fcntl(q->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "nfq: queue %u: fcntl O_NONBLOCK: %s",
		    num, strerror(errno));
		goto fail;
	}
	queue_set_rcvbuf(q, maxlen);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	if (queue_config(q, nlh) < 0) {
		/* The kernel says EPERM for both causes; name them. */
		snprintf(err, errlen, "nfq: bind queue %u: %s%s", num,
		    strerror(errno), errno == EPERM ? " (needs CAP_NET_ADMIN, "
		    "or another process holds the queue)" : "");
		goto fail;
	}
	if (evloop_fd_add(ev, q->fd, EPOLLIN, queue_readable, q) < 0) {
		snprintf(err, errlen, "nfq: queue %u: evloop_fd_add: %s", num,
		    strerror(errno));
		goto fail;
	}
	q->registered = true;
	q->state = QUEUE_RUNNING;
	return q;
fail:
	/* Closing the socket unbinds the queue if the bind went through. */
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	if (q->procfd >= 0)
		close(q->procfd);
	free(q->buf);
	free(q->retry);
	free(q);
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
	char buf[QUEUE_CTL_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

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
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
	(void)queue_config(q, nlh);
	mnl_socket_close(q->nl);
	if (q->procfd >= 0)
		close(q->procfd);
	free(q->buf);
	free(q->retry);
	free(q);
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
