/*
 * nl_batch.c - building netlink batches and reading their results
 * (the nl_batch_* functions of netlink.h).
 *
 * A batch owns one buffer of messages (NLMSG_ALIGNed, an nf_tables
 * frame's begin at offset 0 and room kept for its end), the labels in an
 * arena of their own, and per message its offset, whether an answer is
 * due and what came.  Buffers grow by doubling; offsets, not pointers,
 * are kept, since a buffer may move.  Sending and matching are netlink.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>

#include "log.h"
#include "netlink.h"
#include "netlink_int.h"

#define NL_BATCH_CAP0	1024	/* first buffer of a batch, bytes */
#define NL_LABELS_CAP0	256	/* first label arena, bytes */
#define NL_MSGS_CAP0	4

/* --- batches --------------------------------------------------------- */

void
nl_batch_frame_put(uint8_t *p, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(p);
	struct nfgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
}

/* Room for want more bytes (and a frame end) at the end of buf. */
static bool
nl_batch_grow(struct nl_batch *b, size_t want)
{
	size_t need = b->len + want + NL_FRAME_LEN, cap;
	uint8_t *nb;

	if (need <= b->cap)
		return true;
	for (cap = b->cap ? b->cap : NL_BATCH_CAP0; cap < need; cap *= 2)
		if (cap > SIZE_MAX / 4)
			return false;
	/* Offsets, not pointers, into buf: it may move. */
	if ((nb = realloc(b->buf, cap)) == NULL)
		return false;
	b->buf = nb;
	b->cap = cap;
	return true;
}

void
nl_batch_reset(struct nl_batch *b, enum nl_frame f)
{
	if (b->sock != NULL)
		nl_unlink(b);
	b->frame = f;
	b->len = 0;
	b->room = 0;
	b->n = 0;
	b->llen = 0;
	b->broken = false;
	b->seq0 = 0;
	b->nseq = 0;
	b->want = b->got = 0;
	b->lost = false;
	b->settled = false;
	b->frame_error = 0;
	b->send_error = 0;
	b->ext_id = SIZE_MAX;
	b->ext[0] = '\0';
	b->data = NULL;
	b->done = NULL;
	b->arg = NULL;
	if (f != NL_FRAME_NONE) {
		if (!nl_batch_grow(b, NL_FRAME_LEN)) {
			b->broken = true;
			return;
		}
		nl_batch_frame_put(b->buf, NFNL_MSG_BATCH_BEGIN);
		b->len = NL_FRAME_LEN;
	}
}

struct nl_batch *
nl_batch_new(enum nl_frame f)
{
	struct nl_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	nl_batch_reset(b, f);
	if (b->broken) {
		nl_batch_free(b);
		return NULL;
	}
	return b;
}

void
nl_batch_free(struct nl_batch *b)
{
	if (b == NULL)
		return;
	if (b->sock != NULL)
		nl_unlink(b);
	free(b->buf);
	free(b->msg);
	free(b->labels);
	free(b);
}

void *
nl_batch_put(struct nl_batch *b, size_t room)
{
	b->room = 0;
	if (b->broken || room < NLMSG_HDRLEN || room > UINT32_MAX ||
	    !nl_batch_grow(b, NLMSG_ALIGN(room))) {
		b->broken = true;
		return NULL;
	}
	b->put = b->len;
	b->room = room;
	memset(b->buf + b->put, 0, NLMSG_HDRLEN);
	return b->buf + b->put;
}

static int
nl_batch_vadd(struct nl_batch *b, bool dump, const char *fmt, va_list ap)
{
	struct nlmsghdr *nlh;
	struct nl_msg *m;
	int n;

	if (b->broken || b->room == 0) {
		b->broken = true;
		return -1;
	}
	nlh = (struct nlmsghdr *)(void *)(b->buf + b->put);
	/* The builder wrote past the room it asked for: memory is
	 * already corrupt. */
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > b->room)
		log_panic("netlink: a message of %u bytes in a room of %zu",
		    nlh->nlmsg_len, b->room);
	if (b->n == b->capn) {
		size_t cap = b->capn ? b->capn * 2 : NL_MSGS_CAP0;
		struct nl_msg *nm = realloc(b->msg, cap * sizeof(*nm));

		if (nm == NULL)
			goto oom;
		b->msg = nm;
		b->capn = cap;
	}
	if (b->lcap - b->llen < NL_LABEL_MAX) {
		size_t cap = b->lcap ? b->lcap : NL_LABELS_CAP0;
		char *nl;

		while (cap - b->llen < NL_LABEL_MAX)
			cap *= 2;
		if ((nl = realloc(b->labels, cap)) == NULL)
			goto oom;
		b->labels = nl;
		b->lcap = cap;
	}
	m = &b->msg[b->n];
	memset(m, 0, sizeof(*m));
	m->off = (uint32_t)b->put;
	m->label = (uint32_t)b->llen;
	m->dump = dump;
	m->ack = (nlh->nlmsg_flags & NLM_F_ACK) != 0;
	m->want = dump || m->ack;
	n = vsnprintf(b->labels + b->llen, NL_LABEL_MAX, fmt, ap);
	if (n < 0)
		b->labels[b->llen] = '\0';
	b->llen += strlen(b->labels + b->llen) + 1;
	b->len = b->put + NLMSG_ALIGN(nlh->nlmsg_len);
	b->room = 0;
	return (int)b->n++;
oom:
	b->broken = true;
	b->room = 0;
	return -1;
}

int
nl_batch_add(struct nl_batch *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = nl_batch_vadd(b, false, fmt, ap);
	va_end(ap);
	return rc;
}

int
nl_batch_add_dump(struct nl_batch *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = nl_batch_vadd(b, true, fmt, ap);
	va_end(ap);
	return rc;
}

size_t
nl_batch_count(const struct nl_batch *b)
{
	return b->n;
}

bool
nl_batch_broken(const struct nl_batch *b)
{
	return b->broken;
}

void
nl_batch_fail(struct nl_batch *b)
{
	b->broken = true;
	b->room = 0;
}

enum nl_frame
nl_batch_frame(const struct nl_batch *b)
{
	return b->frame;
}

const struct nlmsghdr *
nl_batch_msg(const struct nl_batch *b, size_t id)
{
	if (id >= b->n)
		return NULL;
	return (const struct nlmsghdr *)(const void *)(b->buf + b->msg[id].off);
}

const char *
nl_batch_label(const struct nl_batch *b, size_t id)
{
	if (id >= b->n)
		return NULL;
	return b->labels + b->msg[id].label;
}

/* --- results --------------------------------------------------------- */

bool
nl_batch_ok(const struct nl_batch *b)
{
	if (!b->settled || b->send_error != 0 || b->frame_error != 0 ||
	    b->broken)
		return false;
	for (size_t i = 0; i < b->n; i++)
		if (b->msg[i].error != 0)
			return false;
	return true;
}

int
nl_batch_error(const struct nl_batch *b, size_t id)
{
	return id < b->n ? b->msg[id].error : EINVAL;
}

bool
nl_batch_answered(const struct nl_batch *b, size_t id)
{
	return id < b->n && b->msg[id].answered;
}

int
nl_batch_frame_error(const struct nl_batch *b)
{
	return b->frame_error;
}

bool
nl_batch_lost(const struct nl_batch *b)
{
	return b->lost;
}

int
nl_batch_describe(const struct nl_batch *b, size_t id, char *buf,
    size_t len)
{
	const struct nl_msg *m;
	const char *label;

	if (id >= b->n) {
		snprintf(buf, len, "(no message %zu)", id);
		return EINVAL;
	}
	m = &b->msg[id];
	label = b->labels + m->label;
	if (m->error != 0 && m->answered) {
		if (id == b->ext_id && b->ext[0] != '\0')
			snprintf(buf, len, "%s: %s (kernel: %s)", label,
			    strerror(m->error), b->ext);
		else
			snprintf(buf, len, "%s: %s", label, strerror(m->error));
		return m->error;
	}
	if (m->error == ETIMEDOUT) {
		snprintf(buf, len, "%s: no answer from the kernel", label);
		return m->error;
	}
	if (m->error == ENOBUFS && b->lost) {
		snprintf(buf, len, "%s: answers lost (%s)", label,
		    strerror(ENOBUFS));
		return m->error;
	}
	if (m->error != 0) {
		snprintf(buf, len, "%s: %s", label, strerror(m->error));
		return m->error;
	}
	if (b->frame_error != 0) {
		snprintf(buf, len, "%s: %s batch refused: %s", label,
		    b->frame == NL_FRAME_NONE ? "netlink" : "nf_tables",
		    strerror(b->frame_error));
		return b->frame_error;
	}
	snprintf(buf, len, "%s", label);
	return 0;
}

int
nl_batch_why(const struct nl_batch *b, char *buf, size_t len)
{
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	if (b->broken) {
		snprintf(buf, len, "build batch of %zu messages: %s", b->n,
		    strerror(ENOMEM));
		return ENOMEM;
	}
	if (b->send_error != 0) {
		if (b->n == 1)
			snprintf(buf, len, "%s: sendto: %s", b->labels +
			    b->msg[0].label, strerror(b->send_error));
		else
			snprintf(buf, len, "sendto %s batch of %zu messages "
			    "(%zu bytes): %s", b->frame == NL_FRAME_NONE ?
			    "netlink" : "nf_tables", b->n, b->len,
			    strerror(b->send_error));
		return b->send_error;
	}
	/* A refusal first: it is why the rest went unanswered, if any. */
	for (i = 0; i < b->n; i++)
		if (b->msg[i].error != 0 && b->msg[i].answered)
			return nl_batch_describe(b, i, buf, len);
	if (b->frame_error != 0) {
		snprintf(buf, len, "%s batch: %s", b->frame == NL_FRAME_NONE ?
		    "netlink" : "nf_tables", strerror(b->frame_error));
		return b->frame_error;
	}
	for (i = 0; i < b->n; i++)
		if (b->msg[i].error != 0)
			return nl_batch_describe(b, i, buf, len);
	return 0;
}

