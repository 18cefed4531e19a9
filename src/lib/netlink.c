/*
 * netlink.c - netlink sockets: sending batches, reading and matching the
 * answers by sequence number, waiting under deadlines (netlink.h).
 *
 * Exports the nl_* functions of netlink.h but the nl_batch_* ones, which
 * build batches and read their results (nl_batch.c; both share
 * netlink_int.h).  Order: nl_open (or nl_adopt), nl_set_other if the
 * socket also carries messages nobody asked for; then any number of
 * batches (nl_batch_new, nl_batch_put + nl_batch_add per message) sent
 * with nl_exchange or nl_send + nl_process; nl_close.
 * A batch owns its buffer, its labels and its results; the socket owns its
 * descriptor, receive buffer, sequence numbers and the list of batches in
 * flight (linked, not owned).
 *
 * Life of a batch: built (messages with sequence number 0) -> nl_send
 * stamps seq0.. and links it in flight -> each answer read is matched by
 * sequence number to one message (or the frame) -> settled when every
 * answer it is due is in (and, for messages that are not acked, once the
 * socket was read empty after the send), when its deadline passes, or when
 * answers were lost -> unlinked, queued for its done callback, which runs
 * at the end of the nl_process step that settled it.
 *
 * Answers are walked here, message by message, and matched before any
 * callback sees them; a data message goes to its batch's callback through
 * mnl_cb_run2 with that message's own sequence number and our port id,
 * and its result is checked.  Bytes after the last whole message of a
 * datagram, a datagram cut by the buffer, an error message too short for
 * its header and a sender other than the kernel are counted as malformed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>

#include "netlink.h"
#include "netlink_int.h"

struct nl_sock {
	int fd;			/* non-blocking, ours to close */
	uint32_t portid;	/* the port id the kernel gave us */
	uint32_t seq;		/* next sequence number, never 0 */
	bool adopted;		/* a test's descriptor: any sender */
	int sndbuf;		/* the send buffer we know of, bytes */
	uint8_t *rbuf;		/* one datagram */
	size_t rlen;		/* its size, bytes */
	unsigned drains;	/* reads that found the socket empty */
	struct nl_batch *flight;	/* in flight, oldest first */
	struct nl_batch *done_head, *done_tail;	/* settled, not called */
	nl_other_cb other;	/* messages no batch waits for, or NULL */
	void *other_arg;
	struct nl_stats st;
};

static int64_t
nl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- errors ---------------------------------------------------------- */

struct nl_ext_ctx {
	char *ext;
	size_t extlen;
};

static int
nl_ext_attr(const struct nlattr *a, void *data)
{
	struct nl_ext_ctx *x = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(x->ext, x->extlen, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

int
nl_error_decode(const struct nlmsghdr *nlh, char *ext, size_t extlen)
{
	const struct nlmsgerr *me;
	size_t off;

	if (ext != NULL && extlen > 0)
		ext[0] = '\0';
	if (nlh->nlmsg_len < NLMSG_HDRLEN ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*me))
		return -1;
	me = mnl_nlmsg_get_payload(nlh);
	/*
	 * Extended ack attributes follow the error and the request it echoes
	 * (only its header when the socket has NETLINK_CAP_ACK).
	 */
	if (ext != NULL && extlen > 0 && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		off = sizeof(*me);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
		    me->msg.nlmsg_len > NLMSG_HDRLEN)
			off += NLMSG_ALIGN(me->msg.nlmsg_len - NLMSG_HDRLEN);
		if (off <= mnl_nlmsg_get_payload_len(nlh)) {
			struct nl_ext_ctx x = { ext, extlen };

			(void)mnl_attr_parse(nlh, (unsigned)off, nl_ext_attr,
			    &x);
		}
	}
	/* An errno is 1..4095; anything else is not one. */
	if (me->error == 0)
		return 0;
	return me->error < 0 && me->error > -4096 ? -me->error : EPROTO;
}

/* --- sockets --------------------------------------------------------- */

static struct nl_sock *
nl_sock_new(int fd, uint32_t portid, size_t rbuf)
{
	struct nl_sock *s;
	socklen_t sl;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->rlen = rbuf ? rbuf : NL_RCVBUF_DEFAULT;
	if ((s->rbuf = malloc(s->rlen)) == NULL) {
		free(s);
		return NULL;
	}
	s->fd = fd;
	s->portid = portid;
	/* Never 0: mnl_cb_run takes 0 as "any". */
	s->seq = (uint32_t)time(NULL);
	if (s->seq == 0)
		s->seq = 1;
	sl = sizeof(s->sndbuf);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, &sl) == -1)
		s->sndbuf = 0;
	return s;
}

static const char *
nl_bus_name(int bus)
{
	switch (bus) {
	case NETLINK_NETFILTER:
		return "netfilter";
	case NETLINK_SOCK_DIAG:
		return "sock_diag";
	}
	return "(other bus)";
}

struct nl_sock *
nl_open(int bus, size_t rbuf, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(sa);
	struct nl_sock *s;
	int fd, one = 1, e;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, bus);
	if (fd == -1) {
		snprintf(err, errlen, "netlink socket %s: %s", nl_bus_name(bus),
		    strerror(errno));
		return NULL;
	}
	/* Port id 0: the kernel gives us one of our own. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == -1 ||
	    sl != sizeof(sa) || sa.nl_family != AF_NETLINK) {
		e = errno ? errno : EINVAL;
		snprintf(err, errlen, "netlink socket %s: bind: %s",
		    nl_bus_name(bus), strerror(e));
		close(fd);
		errno = e;
		return NULL;
	}
	/* Harmless where refused: smaller errors, and the kernel's reason. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if ((s = nl_sock_new(fd, sa.nl_pid, rbuf)) == NULL) {
		e = errno;
		snprintf(err, errlen, "netlink socket %s: %s", nl_bus_name(bus),
		    strerror(e));
		close(fd);
		errno = e;
		return NULL;
	}
	return s;
}

struct nl_sock *
nl_adopt(int fd, uint32_t portid, size_t rbuf, char *err, size_t errlen)
{
	struct nl_sock *s = nl_sock_new(fd, portid, rbuf);

	if (s == NULL) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		return NULL;
	}
	s->adopted = true;
	return s;
}

void
nl_close(struct nl_sock *s)
{
	struct nl_batch *b, *next;

	if (s == NULL)
		return;
	/* What is in flight or settled is dropped, nobody called back. */
	for (b = s->flight; b != NULL; b = next) {
		next = b->next;
		b->sock = NULL;
		b->next = NULL;
	}
	for (b = s->done_head; b != NULL; b = next) {
		next = b->next;
		b->sock = NULL;
		b->next = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s->rbuf);
	free(s);
}

int
nl_fd(const struct nl_sock *s)
{
	return s->fd;
}

uint32_t
nl_portid(const struct nl_sock *s)
{
	return s->portid;
}

int
nl_set_rcvbuf(struct nl_sock *s, int bytes)
{
	int got = 0;
	socklen_t sl = sizeof(got);

	/* FORCE passes net.core.rmem_max, with CAP_NET_ADMIN only. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
	    sizeof(bytes)) == -1)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bytes,
		    sizeof(bytes));
	if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &sl) == -1)
		return -1;
	return got;
}

void
nl_set_other(struct nl_sock *s, nl_other_cb cb, void *arg)
{
	s->other = cb;
	s->other_arg = arg;
}

const struct nl_stats *
nl_stats(const struct nl_sock *s)
{
	return &s->st;
}

size_t
nl_inflight(const struct nl_sock *s)
{
	size_t n = 0;

	for (const struct nl_batch *b = s->flight; b != NULL; b = b->next)
		n++;
	return n;
}

/* --- in flight ------------------------------------------------------- */

void
nl_unlink(struct nl_batch *b)
{
	struct nl_sock *s = b->sock;
	struct nl_batch **pp, *prev = NULL;

	for (pp = &s->flight; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			goto out;
		}
	for (pp = &s->done_head; *pp != NULL; prev = *pp, pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			if (s->done_tail == b)
				s->done_tail = prev;
			break;
		}
out:
	b->next = NULL;
	b->sock = NULL;
}

/*
 * b is settled: messages still without an answer get why (0 for those
 * that were never to be answered and so were taken); off the in-flight
 * list, onto the done list.
 */
static void
nl_settle(struct nl_sock *s, struct nl_batch *b, int why)
{
	struct nl_batch **pp;

	for (size_t i = 0; i < b->n; i++) {
		struct nl_msg *m = &b->msg[i];

		if (m->answered)
			continue;
		if (m->want)
			m->error = why ? why : ETIMEDOUT;
		else
			m->error = why;
	}
	b->settled = true;
	for (pp = &s->flight; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	b->next = NULL;
	if (s->done_tail != NULL)
		s->done_tail->next = b;
	else
		s->done_head = b;
	s->done_tail = b;
}

/*
 * Settle what can be: drained says the socket was just read empty.  A
 * batch whose every message was answered is settled whatever was lost
 * elsewhere; one that relies on silence (messages not acked) is not, once
 * answers were lost: those messages settle as ENOBUFS, outcome unknown.
 */
static void
nl_settle_ready(struct nl_sock *s, bool drained)
{
	struct nl_batch *b, *next;

	for (b = s->flight; b != NULL; b = next) {
		bool after_send = s->drains != b->drain0;

		next = b->next;
		if (b->got == b->want && b->want == b->n)
			nl_settle(s, b, 0);
		else if (b->lost) {
			if (drained && after_send)
				nl_settle(s, b, ENOBUFS);
		} else if (b->got == b->want && after_send) {
			nl_settle(s, b, 0);
		}
	}
}

static void
nl_expire(struct nl_sock *s, int64_t now, bool all)
{
	struct nl_batch *b, *next;

	for (b = s->flight; b != NULL; b = next) {
		next = b->next;
		if (all || now >= b->deadline_ms) {
			s->st.timeouts++;
			nl_settle(s, b, b->lost ? ENOBUFS : ETIMEDOUT);
		}
	}
}

/* Call back the settled batches, oldest first; a callback may send. */
static void
nl_run_done(struct nl_sock *s)
{
	struct nl_batch *b;

	while ((b = s->done_head) != NULL) {
		s->done_head = b->next;
		if (s->done_head == NULL)
			s->done_tail = NULL;
		b->next = NULL;
		b->sock = NULL;
		if (b->done != NULL)
			b->done(b->arg, b);
	}
}

int
nl_send(struct nl_sock *s, struct nl_batch *b, mnl_cb_t data,
    nl_done_cb done, void *arg, int timeout_ms)
{
	size_t len, i;
	ssize_t sent;
	uint32_t seq;

	if (b->sock != NULL)
		nl_unlink(b);
	b->settled = false;
	b->send_error = 0;
	b->frame_error = 0;
	b->lost = false;
	b->got = 0;
	b->ext_id = SIZE_MAX;
	b->ext[0] = '\0';
	if (b->broken || (b->n == 0 && b->frame == NL_FRAME_NONE)) {
		b->send_error = b->broken ? ENOMEM : EINVAL;
		errno = b->send_error;
		return -1;
	}
	b->nseq = (uint32_t)b->n + (b->frame == NL_FRAME_NONE ? 0 :
	    b->frame == NL_FRAME_NFT ? 2 : 1);
	/* A range that would wrap past 0 starts again at 1. */
	if (s->seq + b->nseq < s->seq)
		s->seq = 1;
	b->seq0 = seq = s->seq;
	s->seq += b->nseq;
	if (s->seq == 0)
		s->seq = 1;

	len = b->len;
	if (b->frame != NL_FRAME_NONE)
		((struct nlmsghdr *)(void *)b->buf)->nlmsg_seq = seq++;
	b->want = 0;
	for (i = 0; i < b->n; i++) {
		struct nl_msg *m = &b->msg[i];
		struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)(b->buf +
		    m->off);

		nlh->nlmsg_seq = seq++;
		nlh->nlmsg_pid = 0;
		m->error = 0;
		m->answered = false;
		m->want = m->ack || m->dump;
		if (m->want)
			b->want++;
	}
	if (b->frame == NL_FRAME_NFT) {
		/* nl_batch_grow always keeps room for it. */
		nl_batch_frame_put(b->buf + len, NFNL_MSG_BATCH_END);
		((struct nlmsghdr *)(void *)(b->buf + len))->nlmsg_seq = seq;
		len += NL_FRAME_LEN;
	}
	/* One sendmsg must hold the batch: raise the send buffer (root). */
	if (len + 4096 > (size_t)s->sndbuf && len < (size_t)INT32_MAX / 2) {
		int want = (int)(len + 65536);
		socklen_t sl = sizeof(s->sndbuf);

		if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &want,
		    sizeof(want)) == -1)
			(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &want,
			    sizeof(want));
		(void)getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, &sl);
	}
	/* Unaddressed: a netlink socket's default peer is the kernel. */
	do
		sent = send(s->fd, b->buf, len, 0);
	while (sent == -1 && errno == EINTR);
	if (sent == -1 || (size_t)sent != len) {
		b->send_error = sent == -1 ? errno : EMSGSIZE;
		for (i = 0; i < b->n; i++)
			b->msg[i].error = b->send_error;
		errno = b->send_error;
		return -1;
	}
	s->st.sends++;
	s->st.msgs += b->n;
	b->data = data;
	b->done = done;
	b->arg = arg;
	b->drain0 = s->drains;
	b->deadline_ms = nl_now_ms() + (timeout_ms > 0 ? timeout_ms :
	    NL_WAIT_MS);
	b->sock = s;
	/* Appended: the list stays oldest first. */
	struct nl_batch **pp = &s->flight;
	while (*pp != NULL)
		pp = &(*pp)->next;
	b->next = NULL;
	*pp = b;
	return 0;
}

int
nl_send_untracked(struct nl_sock *s, struct nlmsghdr *nlh)
{
	ssize_t sent;

	nlh->nlmsg_seq = s->seq++;
	if (s->seq == 0)
		s->seq = 1;
	sent = send(s->fd, nlh, nlh->nlmsg_len, 0);
	if (sent == -1)
		return -1;
	if ((size_t)sent != nlh->nlmsg_len) {
		errno = EMSGSIZE;
		return -1;
	}
	s->st.sends++;
	return 0;
}

/* --- answers --------------------------------------------------------- */

static struct nl_batch *
nl_batch_of(struct nl_sock *s, uint32_t seq)
{
	/* Few batches are in flight: a walk.  Unsigned differences cope
	 * with the sequence wrapping. */
	for (struct nl_batch *b = s->flight; b != NULL; b = b->next)
		if (seq - b->seq0 < b->nseq)
			return b;
	return NULL;
}

static void
nl_answered(struct nl_batch *b, struct nl_msg *m, int error)
{
	if (m->answered)
		return;			/* a second answer: the first counts */
	/* A refusal of a message that was not acked settles it too. */
	if (!m->want) {
		m->want = true;
		b->want++;
	}
	m->answered = true;
	m->error = error;
	if (m->want)
		b->got++;
}

/* A data message of batch b, for message m: b's callback, checked. */
static void
nl_data(struct nl_sock *s, struct nl_batch *b, struct nl_msg *m,
    const struct nlmsghdr *nlh)
{
	int rc;

	if (b->data == NULL || m->answered)
		return;
	errno = 0;
	rc = mnl_cb_run2(nlh, nlh->nlmsg_len, nlh->nlmsg_seq, s->portid,
	    b->data, b->arg, NULL, 0);
	if (rc == MNL_CB_ERROR) {
		/* EINTR: the dump was interrupted (NLM_F_DUMP_INTR). */
		nl_answered(b, m, errno ? errno : EBADMSG);
	} else if (rc == MNL_CB_STOP) {
		nl_answered(b, m, 0);
	}
}

/* One message read: to its batch, or to the other handler. */
static void
nl_dispatch(struct nl_sock *s, const struct nlmsghdr *nlh)
{
	struct nl_batch *b;
	struct nl_msg *m;
	char ext[NL_EXT_MAX];
	uint32_t k;
	int error;

	if (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != s->portid) {
		s->st.malformed++;
		return;
	}
	if (nlh->nlmsg_seq == 0 || (b = nl_batch_of(s, nlh->nlmsg_seq)) ==
	    NULL) {
		if (nlh->nlmsg_seq == 0)
			s->st.unsolicited++;
		else
			s->st.stale++;
		if (s->other != NULL)
			s->other(s->other_arg, nlh);
		return;
	}
	k = nlh->nlmsg_seq - b->seq0;
	if (b->frame != NL_FRAME_NONE) {
		if (k == 0 || k > b->n) {	/* the begin or end message */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				error = nl_error_decode(nlh, NULL, 0);
				if (error == -1)
					s->st.malformed++;
				else if (error != 0 && b->frame_error == 0)
					b->frame_error = error;
			}
			return;
		}
		k--;
	}
	m = &b->msg[k];
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		if ((error = nl_error_decode(nlh, ext, sizeof(ext))) == -1) {
			s->st.malformed++;
			return;
		}
		if (error != 0) {
			s->st.refused++;
			if (b->ext_id == SIZE_MAX && ext[0] != '\0') {
				b->ext_id = k;
				snprintf(b->ext, sizeof(b->ext), "%s", ext);
			}
		}
		nl_answered(b, m, error);
		break;
	case NLMSG_DONE:
		error = 0;
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
			int e;

			memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
			error = e < 0 && e > -4096 ? -e : 0;
		}
		if (m->dump)
			nl_answered(b, m, error);
		break;
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		break;
	default:
		nl_data(s, b, m, nlh);
		break;
	}
}

/*
 * Walk one datagram's messages; what is left over is malformed.  Not with
 * mnl_nlmsg_ok/mnl_nlmsg_next: libmnl 1.0.4 compares the length as an
 * int, so a header claiming more than 2 GiB passes and the walk leaves
 * the buffer.
 */
static void
nl_datagram(struct nl_sock *s, const uint8_t *buf, size_t n)
{
	size_t off = 0, step;

	while (n - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(const
		    void *)(buf + off);

		/* A header cut short, or a length past the end. */
		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > n - off) {
			s->st.malformed++;
			return;
		}
		nl_dispatch(s, nlh);
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= n - off)
			return;		/* the last may lack its padding */
		off += step;
	}
	if (off < n)
		s->st.malformed++;	/* bytes too few for a header */
}

/*
 * One recvmsg.  1 when a datagram (or ENOBUFS) was handled, 0 when the
 * socket was empty, -1 on a socket error (errno).
 */
static int
nl_read_one(struct nl_sock *s)
{
	struct sockaddr_nl sa;
	struct iovec iov = { s->rbuf, s->rlen };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;

	n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			s->drains++;
			return 0;
		}
		if (errno == EINTR)
			return 1;
		if (errno == ENOBUFS) {
			/* The kernel dropped messages to us: every batch in
			 * flight may have lost answers. */
			s->st.enobufs++;
			for (struct nl_batch *b = s->flight; b != NULL;
			    b = b->next)
				b->lost = true;
			return 1;
		}
		return -1;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		s->st.malformed++;	/* rlen too small: not ours to guess */
		return 1;
	}
	/* Only the kernel (port 0) speaks to us. */
	if (!s->adopted && (msg.msg_namelen != sizeof(sa) ||
	    sa.nl_family != AF_NETLINK || sa.nl_pid != 0)) {
		s->st.malformed++;
		return 1;
	}
	nl_datagram(s, s->rbuf, (size_t)n);
	return 1;
}

int
nl_process(struct nl_sock *s, unsigned max)
{
	unsigned got = 0;
	int rc = 0;

	for (;;) {
		if (max != 0 && got == max)
			break;
		rc = nl_read_one(s);
		if (rc <= 0)
			break;
		got++;
		if (s->flight != NULL)
			nl_settle_ready(s, false);
	}
	if (rc == 0 && s->flight != NULL)
		nl_settle_ready(s, true);
	if (s->flight != NULL)
		nl_expire(s, nl_now_ms(), false);
	nl_run_done(s);
	if (rc == -1)
		return -1;
	return (int)got;
}

/* Block until b (or, b NULL, everything) is settled, or deadline_ms. */
static int
nl_wait_for(struct nl_sock *s, const struct nl_batch *b, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	for (;;) {
		/* One datagram at a time: a flood of other messages (queued
		 * packets) must not hide that ours settled. */
		int rc = nl_process(s, 1);

		if (rc == -1)
			return -1;
		if (b != NULL ? b->settled : s->flight == NULL)
			return 0;
		if (rc > 0)
			continue;
		int64_t left = deadline_ms - nl_now_ms();

		if (left <= 0) {
			/* b's deadline is deadline_ms: it expires alone. */
			nl_expire(s, nl_now_ms(), b == NULL);
			nl_run_done(s);
			return 0;
		}
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
	}
}

int
nl_wait(struct nl_sock *s, int timeout_ms)
{
	return nl_wait_for(s, NULL, nl_now_ms() + timeout_ms);
}

/* nl_exchange's own batch needs no callback: settled is enough. */
static void
nl_exchange_done(void *arg, struct nl_batch *b)
{
	(void)arg;
	(void)b;
}

int
nl_exchange(struct nl_sock *s, struct nl_batch *b, mnl_cb_t data, void *arg,
    int timeout_ms, char *err, size_t errlen)
{
	int e;

	if (timeout_ms <= 0)
		timeout_ms = NL_WAIT_MS;
	if (nl_send(s, b, data, nl_exchange_done, arg, timeout_ms) == -1) {
		e = errno;
		nl_batch_why(b, err, errlen);
		errno = e;
		return -1;
	}
	if (nl_wait_for(s, b, b->deadline_ms) == -1) {
		e = errno;
		if (b->n == 1)
			snprintf(err, errlen, "%s: recv: %s", b->labels +
			    b->msg[0].label, strerror(e));
		else
			snprintf(err, errlen, "recv answers of %zu messages: "
			    "%s", b->n, strerror(e));
		if (b->sock != NULL)
			nl_unlink(b);
		errno = e;
		return -1;
	}
	if (nl_batch_ok(b))
		return 0;
	e = nl_batch_why(b, err, errlen);
	errno = e ? e : EIO;
	return -1;
}
