/*
 * fake_queue.c - include/queue.h for the scenario tests: an NFQUEUE whose
 * packets come from the script and whose verdicts are recorded (fake.h).
 *
 * Exports every function of queue.h that queue.c does (queue_config_build
 * is the real one, queue_config.c) and the fake_queue_* helpers.
 *
 * Packets a step injects are delivered from the loop (the queue's
 * eventfd), oldest first, as queue.c hands over what it reads.  Each
 * verdict is kept as text for a step to take; a verdict for a packet the
 * queue never delivered, or a second one for the same packet, is trouble
 * (the kernel would answer ENOENT: a verdict lost, or a packet judged
 * twice).  queue_close records what the kernel still held as "unbind"
 * (dropped there).  The fault hook of queue_set_fault works as queue.c's:
 * a send that fails waits on a retry list, tried again every 5 ms.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake.h"
#include "marks.h"
#include "queue.h"

#define FAKE_QUEUE_RETRY_MS	5

enum fake_pkt_state {
	FP_QUEUED,		/* injected, not delivered yet */
	FP_HELD,		/* delivered: the kernel waits for a verdict */
	FP_RETRY,		/* its verdict waits for another send */
	FP_JUDGED,		/* verdict given */
};

struct fake_pkt {
	struct fake_pkt *next;		/* every packet injected, in order */
	struct queue *q;
	uint32_t id;
	uint16_t hw_protocol;
	uint32_t mark;
	uint8_t *data;
	size_t len;
	enum fake_pkt_state state;
	char verdict[64];		/* FP_JUDGED, FP_RETRY: what it got */
	bool taken;			/* a step took the verdict */
};

struct queue {
	struct evloop *ev;
	uint16_t num;
	queue_cb cb;
	void *arg;
	int efd;			/* readable: packets are queued */
	struct queue_stats st;
	queue_fault_fn fault;
	void *fault_arg;
	struct ev_timer *retry;
};

static struct {
	struct queue *open;		/* the queue bound now */
	struct fake_pkt *head, *tail;
} fake_queue;

static struct fake_pkt *
fake_queue_pkt(uint32_t id)
{
	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void
fake_queue_readable(int fd, uint32_t events, void *arg)
{
	struct queue *q = arg;
	uint64_t n;

	(void)events;
	(void)read(fd, &n, sizeof(n));
	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next) {
		struct queue_packet qp;

		if (p->q != q || p->state != FP_QUEUED)
			continue;
		p->state = FP_HELD;
		q->st.packets++;
		qp.id = p->id;
		qp.hw_protocol = p->hw_protocol;
		qp.mark = p->mark;
		qp.payload = p->data;
		qp.len = p->len;
		q->cb(q->arg, &qp);
	}
}

int
fake_queue_inject(uint32_t id, uint16_t hw_protocol, uint32_t mark,
    const uint8_t *data, size_t len)
{
	struct queue *q = fake_queue.open;
	struct fake_pkt *p;
	uint64_t one = 1;

	if (q == NULL || fake_queue_pkt(id) != NULL)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->data = malloc(len > 0 ? len : 1)) == NULL) {
		free(p);
		return -1;
	}
	memcpy(p->data, data, len);
	p->q = q;
	p->id = id;
	p->hw_protocol = hw_protocol;
	p->mark = mark;
	p->len = len;
	p->state = FP_QUEUED;
	if (fake_queue.tail != NULL)
		fake_queue.tail->next = p;
	else
		fake_queue.head = p;
	fake_queue.tail = p;
	if (write(q->efd, &one, sizeof(one)) != sizeof(one))
		fake_trouble("queue: eventfd write: %s", strerror(errno));
	return 0;
}

/* ---- queue.h ---- */

struct queue *
queue_open(struct evloop *ev, uint16_t num, uint32_t maxlen, uint32_t copy,
    queue_cb cb, void *arg, char *err, size_t errlen)
{
	struct queue *q;

	(void)maxlen;
	(void)copy;
	if (fake_queue.open != NULL) {
		snprintf(err, errlen, "nfq: bind queue %u: a fake queue is "
		    "bound already", num);
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "nfq: bind queue %u: %s", num,
		    strerror(errno));
		return NULL;
	}
	q->ev = ev;
	q->num = num;
	q->cb = cb;
	q->arg = arg;
	if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    evloop_fd_add(ev, q->efd, EPOLLIN, fake_queue_readable, q) == -1) {
		snprintf(err, errlen, "nfq: bind queue %u: %s", num,
		    strerror(errno));
		if (q->efd != -1)
			close(q->efd);
		free(q);
		return NULL;
	}
	q->st.rcvbuf_bytes = 1 << 20;
	fake_queue.open = q;
	return q;
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	/* The unbind drops what the kernel still holds for us. */
	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next) {
		if (p->q != q)
			continue;
		if (p->state == FP_QUEUED || p->state == FP_HELD ||
		    p->state == FP_RETRY) {
			p->state = FP_JUDGED;
			snprintf(p->verdict, sizeof(p->verdict), "unbind");
		}
		p->q = NULL;
	}
	if (q->retry != NULL)
		evloop_timer_cancel(q->ev, q->retry);
	evloop_fd_del(q->ev, q->efd);
	close(q->efd);
	if (fake_queue.open == q)
		fake_queue.open = NULL;
	free(q);
}

static void fake_queue_retry(void *arg);

/* One send of p's verdict: taken, or kept for a retry when the fault
 * hook says the send failed.  0 either way, as queue.c's. */
static int
fake_queue_send(struct queue *q, struct fake_pkt *p)
{
	int e = q->fault != NULL ? q->fault(q->fault_arg) : 0;

	if (e != 0) {
		q->st.send_failed++;
		if (p->state != FP_RETRY) {
			p->state = FP_RETRY;
			q->st.deferred++;
			q->st.retry_pending++;
		}
		if (q->retry == NULL)
			q->retry = evloop_timer_at(q->ev, fake_now_ms() +
			    FAKE_QUEUE_RETRY_MS, fake_queue_retry, q);
		return 0;
	}
	if (p->state == FP_RETRY)
		q->st.retry_pending--;
	p->state = FP_JUDGED;
	return 0;
}

static void
fake_queue_retry(void *arg)
{
	struct queue *q = arg;

	q->retry = NULL;
	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next)
		if (p->q == q && p->state == FP_RETRY)
			(void)fake_queue_send(q, p);
}

static int
fake_queue_verdict(struct queue *q, uint32_t id, const char *text)
{
	struct fake_pkt *p = fake_queue_pkt(id);

	if (p == NULL || p->state == FP_QUEUED || p->q != q) {
		fake_trouble("queue: verdict %s for packet %u, which the queue "
		    "did not deliver", text, id);
		errno = ENOENT;
		return -1;
	}
	if (p->state == FP_JUDGED || p->state == FP_RETRY) {
		fake_trouble("queue: packet %u: a second verdict (%s) after %s",
		    id, text, p->verdict);
		return 0;
	}
	snprintf(p->verdict, sizeof(p->verdict), "%s", text);
	return fake_queue_send(q, p);
}

int
queue_verdict(struct queue *q, uint32_t id, enum queue_verdict v,
    uint32_t mark)
{
	char text[64];

	switch (v) {
	case QUEUE_ACCEPT:
		snprintf(text, sizeof(text), "accept");
		break;
	case QUEUE_DROP:
		snprintf(text, sizeof(text), "drop");
		break;
	case QUEUE_REJECT:
		if (mark != 0)
			snprintf(text, sizeof(text), "reject mark 0x%08x",
			    mark);
		else
			snprintf(text, sizeof(text), "reject");
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	return fake_queue_verdict(q, id, text);
}

int
queue_verdict_mark(struct queue *q, uint32_t id, bool repeat, uint32_t mark)
{
	char text[64];

	snprintf(text, sizeof(text), "%s mark 0x%08x", repeat ? "repeat" :
	    "accept", mark);
	return fake_queue_verdict(q, id, text);
}

const struct queue_stats *
queue_stats(const struct queue *q)
{
	return &q->st;
}

void
queue_set_fault(struct queue *q, queue_fault_fn fn, void *arg)
{
	q->fault = fn;
	q->fault_arg = arg;
}

int
queue_kernel_stats(const struct queue *q, struct queue_kernel *k)
{
	memset(k, 0, sizeof(*k));
	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next) {
		if (p->q != q)
			continue;
		if (p->state == FP_HELD || p->state == FP_RETRY ||
		    p->state == FP_QUEUED)
			k->held++;
		if (p->id > k->id_sequence)
			k->id_sequence = p->id;
	}
	return 0;
}

/* ---- steps ---- */

bool
fake_queue_take(uint32_t id, char *buf, size_t len)
{
	struct fake_pkt *p = fake_queue_pkt(id);

	if (p == NULL || p->taken || p->state != FP_JUDGED)
		return false;
	p->taken = true;
	snprintf(buf, len, "%s", p->verdict);
	return true;
}

size_t
fake_queue_untaken(char *buf, size_t len)
{
	size_t off = 0, n = 0;

	buf[0] = '\0';
	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next) {
		int k;

		if (p->taken || p->state != FP_JUDGED)
			continue;
		n++;
		k = snprintf(buf + off, len - off, "%spacket %u %s",
		    off ? ", " : "", p->id, p->verdict);
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	return n;
}

size_t
fake_queue_held(void)
{
	size_t n = 0;

	for (struct fake_pkt *p = fake_queue.head; p != NULL; p = p->next)
		if (p->state == FP_HELD || p->state == FP_RETRY)
			n++;
	return n;
}
