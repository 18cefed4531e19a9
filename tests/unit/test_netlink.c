/*
 * test_netlink.c - the netlink module without a kernel: batches built and
 * parsed back (frame, sequence numbers, labels, flags), and answers
 * matched to them from scripted datagrams over an AF_UNIX socketpair that
 * stands where the kernel would: acks, labelled errors, answers out of
 * order, stale sequence numbers, truncated and short messages, the
 * kernel's extended ack text, frame errors, dumps, deadlines.  Lost
 * answers (ENOBUFS) come from the kernel itself: sock_diag questions, which
 * need no privilege, overflowing the smallest receive buffer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>

#include "cases.h"
#include "netlink.h"

#define PORTID		4242u
#define NFT_TYPE(m)	((NFNL_SUBSYS_NFTABLES << 8) | (m))

/* --- the scripted kernel --------------------------------------------- */

struct world {
	int peer;			/* the kernel's end */
	struct nl_sock *s;
	uint32_t seq[64];		/* the sequence numbers last sent */
	uint16_t type[64];
	uint16_t flags[64];
	size_t nsent;			/* messages in the last datagram */
	int done;			/* done callbacks run */
	struct nl_batch *done_b;
	int other;			/* other-handler calls */
	uint32_t other_seq;
	int data;			/* data messages seen */
};

static struct world *
world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	char err[256];
	int sv[2];

	assert_non_null(w);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1)
		fail_msg("socketpair: %s", strerror(errno));
	w->peer = sv[1];
	w->s = nl_adopt(sv[0], PORTID, 0, err, sizeof(err));
	if (w->s == NULL)
		fail_msg("nl_adopt: %s", err);
	return w;
}

static void
world_free(struct world *w)
{
	nl_close(w->s);
	close(w->peer);
	free(w);
}

/* Read what the module sent: one datagram, its messages' headers. */
static void
world_recv(struct world *w)
{
	uint8_t buf[65536];
	const struct nlmsghdr *nlh = (const void *)buf;
	ssize_t n = recv(w->peer, buf, sizeof(buf), MSG_DONTWAIT);
	int len;

	if (n <= 0)
		fail_msg("the module sent nothing: %s", n ? strerror(errno) :
		    "empty");
	w->nsent = 0;
	for (len = (int)n; mnl_nlmsg_ok(nlh, len) && w->nsent < 64;
	    nlh = mnl_nlmsg_next(nlh, &len)) {
		w->seq[w->nsent] = nlh->nlmsg_seq;
		w->type[w->nsent] = nlh->nlmsg_type;
		w->flags[w->nsent] = nlh->nlmsg_flags;
		w->nsent++;
	}
	if (len != 0)
		fail_msg("sent datagram: %d bytes after the last message", len);
}

/* Append an error (error 0: an ack) for seq to buf at *off. */
static void
put_err(uint8_t *buf, size_t *off, uint32_t seq, uint32_t pid, int error,
    const char *ext)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nlmsgerr *me;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = pid;
	me = mnl_nlmsg_put_extra_header(nlh, sizeof(*me));
	me->error = -error;
	me->msg.nlmsg_len = NLMSG_HDRLEN;
	me->msg.nlmsg_seq = seq;
	if (ext != NULL) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext);
	}
	*off += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* A data message (a fake nf_tables NEWRULE) for seq. */
static void
put_data(uint8_t *buf, size_t *off, uint32_t seq, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nfgenmsg *g;

	nlh->nlmsg_type = NFT_TYPE(NFT_MSG_NEWRULE);
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = PORTID;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = 1;
	mnl_attr_put_u32(nlh, 1, 7);
	*off += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void
put_done(uint8_t *buf, size_t *off, uint32_t seq, int error)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	int *e;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = PORTID;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	*e = -error;
	*off += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void
world_send(struct world *w, const uint8_t *buf, size_t len)
{
	if (send(w->peer, buf, len, 0) != (ssize_t)len)
		fail_msg("scripted answer: send: %s", strerror(errno));
}

static void
on_done(void *arg, struct nl_batch *b)
{
	struct world *w = arg;

	w->done++;
	w->done_b = b;
}

static void
on_done_count(void *arg, struct nl_batch *b)
{
	(void)b;
	(*(int *)arg)++;
}

static void
on_other(void *arg, const struct nlmsghdr *nlh)
{
	struct world *w = arg;

	w->other++;
	w->other_seq = nlh->nlmsg_seq;
}

static int
on_data(const struct nlmsghdr *nlh, void *arg)
{
	struct world *w = arg;

	(void)nlh;
	w->data++;
	return MNL_CB_OK;
}

/* A batch of n fake element messages, acked or not, labelled. */
static struct nl_batch *
batch_of(enum nl_frame f, size_t n, bool ack)
{
	struct nl_batch *b = nl_batch_new(f);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		struct nlmsghdr *nlh = nl_batch_put(b, 256);
		struct nfgenmsg *g;

		assert_non_null(nlh);
		nlh = mnl_nlmsg_put_header(nlh);
		nlh->nlmsg_type = NFT_TYPE(NFT_MSG_NEWSETELEM);
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE |
		    (ack ? NLM_F_ACK : 0);
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->nfgen_family = 1;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "pass4");
		if (nl_batch_add(b, "add element pass4 192.0.2.%zu", i + 1) !=
		    (int)i)
			fail_msg("nl_batch_add: got another id, want %zu", i);
	}
	return b;
}

/* --- builders, parsed back ------------------------------------------- */

struct frame_case {
	const char *name;
	enum nl_frame frame;
	size_t n;
	bool ack;
	/* want */
	size_t nsent;			/* messages on the wire */
	bool begin, end;
};

static const struct frame_case frame_cases[] = {
	{ "nf_tables batch", NL_FRAME_NFT, 3, true, 5, true, true },
	{ "nf_tables check: no end", NL_FRAME_NFT_CHECK, 3, true, 4, true,
	    false },
	{ "plain request", NL_FRAME_NONE, 1, true, 1, false, false },
	{ "plain, not acked", NL_FRAME_NONE, 2, false, 2, false, false },
	{ "empty nf_tables batch", NL_FRAME_NFT, 0, false, 2, true, true },
};

static void
test_frame(void **state)
{
	const struct frame_case *c = *state;
	struct world *w = world_new();
	struct nl_batch *b = batch_of(c->frame, c->n, c->ack);
	size_t first = c->begin ? 1 : 0;

	if (nl_send(w->s, b, NULL, on_done, w, 0) != 0)
		fail_msg("%s: nl_send: %s", c->name, strerror(errno));
	if (w->done != 0)
		fail_msg("%s: done called inside nl_send", c->name);
	world_recv(w);
	if (w->nsent != c->nsent)
		fail_msg("%s: messages sent: got %zu, want %zu", c->name,
		    w->nsent, c->nsent);
	for (size_t i = 1; i < w->nsent; i++)
		if (w->seq[i] != w->seq[0] + i)
			fail_msg("%s: message %zu: seq got %u, want %u",
			    c->name, i, w->seq[i], w->seq[0] + (uint32_t)i);
	if (w->seq[0] == 0)
		fail_msg("%s: sequence number 0 sent", c->name);
	if (c->begin && w->type[0] != NFNL_MSG_BATCH_BEGIN)
		fail_msg("%s: first message type: got %u, want batch begin",
		    c->name, w->type[0]);
	if (c->end && w->type[w->nsent - 1] != NFNL_MSG_BATCH_END)
		fail_msg("%s: last message type: got %u, want batch end",
		    c->name, w->type[w->nsent - 1]);
	if (!c->end && w->type[w->nsent - 1] == NFNL_MSG_BATCH_END)
		fail_msg("%s: a batch end was sent", c->name);
	for (size_t i = 0; i < c->n; i++) {
		char want[64];
		const struct nlmsghdr *nlh = nl_batch_msg(b, i);

		snprintf(want, sizeof(want), "add element pass4 192.0.2.%zu",
		    i + 1);
		if (strcmp(nl_batch_label(b, i), want) != 0)
			fail_msg("%s: label %zu: got \"%s\", want \"%s\"",
			    c->name, i, nl_batch_label(b, i), want);
		if (w->type[first + i] != NFT_TYPE(NFT_MSG_NEWSETELEM) ||
		    nlh->nlmsg_seq != w->seq[first + i])
			fail_msg("%s: message %zu: type %u seq %u on the wire",
			    c->name, i, w->type[first + i], w->seq[first + i]);
		if (((w->flags[first + i] & NLM_F_ACK) != 0) != c->ack)
			fail_msg("%s: message %zu: NLM_F_ACK got %d, want %d",
			    c->name, i, (w->flags[first + i] & NLM_F_ACK) != 0,
			    c->ack);
	}
	if (nl_batch_label(b, c->n) != NULL || nl_batch_msg(b, c->n) != NULL)
		fail_msg("%s: a message past the end", c->name);
	nl_batch_free(b);		/* in flight: taken off the socket */
	if (nl_inflight(w->s) != 0)
		fail_msg("%s: in flight after nl_batch_free: %zu", c->name,
		    nl_inflight(w->s));
	world_free(w);
}

/* A second batch numbers on; 0 is never used. */
static void
test_seq_continues(void **state)
{
	struct world *w = world_new();
	struct nl_batch *a = batch_of(NL_FRAME_NFT, 2, true);
	struct nl_batch *b = batch_of(NL_FRAME_NONE, 1, true);
	uint32_t last;

	(void)state;
	assert_int_equal(nl_send(w->s, a, NULL, NULL, NULL, 0), 0);
	world_recv(w);
	last = w->seq[w->nsent - 1];
	assert_int_equal(nl_send(w->s, b, NULL, NULL, NULL, 0), 0);
	world_recv(w);
	if (w->seq[0] != last + 1)
		fail_msg("second batch: seq got %u, want %u", w->seq[0],
		    last + 1);
	if (nl_inflight(w->s) != 2)
		fail_msg("in flight: got %zu, want 2", nl_inflight(w->s));
	nl_batch_free(a);
	nl_batch_free(b);
	world_free(w);
}

/* --- answers --------------------------------------------------------- */

enum step_kind {
	ACK,		/* ack for message arg (-1: begin, -2: end) */
	ERR,		/* error errno for message arg */
	ERR_EXT,	/* error with an extended ack text */
	STALE,		/* an ack for a sequence number before the batch */
	FOREIGN,	/* an ack from another port id */
	TRUNC,		/* a datagram whose message claims more bytes */
	HUGE,		/* ... more than 2 GiB (libmnl's walk takes it) */
	TAIL,		/* a whole ack, then bytes too few for a header */
	SHORT_ERR,	/* an error message too short for its header */
	UNSOL,		/* a sequence-0 message (a queued packet) */
	FLUSH,		/* send the datagram built so far */
};

struct step {
	enum step_kind kind;
	int arg;
	int error;
};

struct answer_case {
	const char *name;
	enum nl_frame frame;
	size_t n;
	bool ack;
	struct step steps[12];
	size_t nsteps;
	/* want */
	bool settled;			/* after nl_process */
	bool ok;
	const char *why;		/* nl_batch_why, "" when ok */
	int errors[4];			/* per message */
	uint64_t stale, malformed, unsolicited;
};

#define S(...)	{ __VA_ARGS__ }

static const struct answer_case answer_cases[] = {
	{ "acks in order", NL_FRAME_NFT, 3, true,
	    S({ ACK, 0, 0 }, { ACK, 1, 0 }, { ACK, 2, 0 }, { FLUSH, 0, 0 }), 4,
	    true, true, "", { 0, 0, 0 }, 0, 0, 0 },
	{ "acks out of order, one datagram each", NL_FRAME_NFT, 3, true,
	    S({ ACK, 2, 0 }, { FLUSH, 0, 0 }, { ACK, 0, 0 }, { FLUSH, 0, 0 },
	    { ACK, 1, 0 }, { FLUSH, 0, 0 }), 6,
	    true, true, "", { 0, 0, 0 }, 0, 0, 0 },
	{ "an error names its message", NL_FRAME_NFT, 3, true,
	    S({ ACK, 0, 0 }, { ERR, 1, ENOENT }, { ACK, 2, 0 },
	    { FLUSH, 0, 0 }), 4,
	    true, false, "add element pass4 192.0.2.2: No such file or "
	    "directory", { 0, ENOENT, 0 }, 0, 0, 0 },
	{ "the kernel's own text", NL_FRAME_NFT, 2, true,
	    S({ ERR_EXT, 0, EINVAL }, { ACK, 1, 0 }, { FLUSH, 0, 0 }), 3,
	    true, false, "add element pass4 192.0.2.1: Invalid argument "
	    "(kernel: key too long)", { EINVAL, 0 }, 0, 0, 0 },
	{ "a stale answer is not ours", NL_FRAME_NFT, 2, true,
	    S({ STALE, 0, 0 }, { ACK, 0, 0 }, { FLUSH, 0, 0 }), 3,
	    false, false, "", { 0, 0 }, 1, 0, 0 },
	{ "stale, then the real acks", NL_FRAME_NFT, 2, true,
	    S({ STALE, 0, 0 }, { ACK, 1, 0 }, { ACK, 0, 0 }, { FLUSH, 0, 0 }), 4,
	    true, true, "", { 0, 0 }, 1, 0, 0 },
	{ "another sender's ack does not count", NL_FRAME_NONE, 1, true,
	    S({ FOREIGN, 0, 0 }, { FLUSH, 0, 0 }), 2,
	    false, false, "", { 0 }, 0, 1, 0 },
	{ "a truncated message is not an answer", NL_FRAME_NONE, 1, true,
	    S({ TRUNC, 0, 0 }), 1,
	    false, false, "", { 0 }, 0, 1, 0 },
	{ "a length past 2 GiB ends the walk", NL_FRAME_NFT, 2, true,
	    S({ HUGE, 0, 0 }), 1,
	    false, false, "", { 0, 0 }, 0, 1, 0 },
	{ "bytes after the last message", NL_FRAME_NONE, 1, true,
	    S({ TAIL, 0, 0 }), 1,
	    true, true, "", { 0 }, 0, 1, 0 },
	{ "a short error message is not an answer", NL_FRAME_NONE, 1, true,
	    S({ SHORT_ERR, 0, 0 }, { FLUSH, 0, 0 }), 2,
	    false, false, "", { 0 }, 0, 1, 0 },
	{ "the commit refused", NL_FRAME_NFT, 2, true,
	    S({ ERR, -1, ENOMEM }, { ACK, 0, 0 }, { ACK, 1, 0 },
	    { FLUSH, 0, 0 }), 4,
	    true, false, "nf_tables batch: Cannot allocate memory", { 0, 0 },
	    0, 0, 0 },
	{ "not acked: taken once read empty", NL_FRAME_NFT, 3, false,
	    S({ UNSOL, 0, 0 }, { FLUSH, 0, 0 }), 2,
	    true, true, "", { 0, 0, 0 }, 0, 0, 1 },
	{ "not acked: the one refused", NL_FRAME_NFT, 3, false,
	    S({ ERR, 2, EEXIST }, { FLUSH, 0, 0 }), 2,
	    true, false, "add element pass4 192.0.2.3: File exists",
	    { 0, 0, EEXIST }, 0, 0, 0 },
	{ "a second answer does not change the first", NL_FRAME_NONE, 1, true,
	    S({ ERR, 0, EPERM }, { ACK, 0, 0 }, { FLUSH, 0, 0 }), 3,
	    true, false, "add element pass4 192.0.2.1: Operation not "
	    "permitted", { EPERM }, 0, 0, 0 },
};

static void
test_answers(void **state)
{
	const struct answer_case *c = *state;
	struct world *w = world_new();
	struct nl_batch *b = batch_of(c->frame, c->n, c->ack);
	uint8_t buf[8192];
	size_t off = 0, first = c->frame == NL_FRAME_NONE ? 0 : 1;
	char why[256];

	nl_set_other(w->s, on_other, w);
	if (nl_send(w->s, b, NULL, on_done, w, 0) != 0)
		fail_msg("%s: nl_send: %s", c->name, strerror(errno));
	world_recv(w);
	for (size_t i = 0; i < c->nsteps; i++) {
		const struct step *st = &c->steps[i];
		size_t k = st->arg == -1 ? 0 : st->arg == -2 ? w->nsent - 1 :
		    first + (size_t)st->arg;

		switch (st->kind) {
		case ACK:
			put_err(buf, &off, w->seq[k], PORTID, 0, NULL);
			break;
		case ERR:
			put_err(buf, &off, w->seq[k], PORTID, st->error, NULL);
			break;
		case ERR_EXT:
			put_err(buf, &off, w->seq[k], PORTID, st->error,
			    "key too long");
			break;
		case STALE:
			put_err(buf, &off, w->seq[0] - 3, PORTID, 0, NULL);
			break;
		case FOREIGN:
			put_err(buf, &off, w->seq[k], PORTID + 1, 0, NULL);
			break;
		case TRUNC: {
			size_t o = 0;

			put_err(buf, &o, w->seq[k], PORTID, 0, NULL);
			((struct nlmsghdr *)(void *)buf)->nlmsg_len += 64;
			world_send(w, buf, o);
			break;
		}
		case HUGE: {
			size_t o = 0;

			put_err(buf, &o, w->seq[k], PORTID, 0, NULL);
			put_err(buf, &o, w->seq[k], PORTID, 0, NULL);
			((struct nlmsghdr *)(void *)(buf + o / 2))->nlmsg_len =
			    0xf4000010u;
			world_send(w, buf, o);
			break;
		}
		case TAIL: {
			size_t o = 0;

			put_err(buf, &o, w->seq[k], PORTID, 0, NULL);
			memset(buf + o, 0xaf, 8);
			world_send(w, buf, o + 8);
			break;
		}
		case SHORT_ERR: {
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + off);

			nlh->nlmsg_type = NLMSG_ERROR;
			nlh->nlmsg_seq = w->seq[k];
			nlh->nlmsg_pid = PORTID;
			mnl_nlmsg_put_extra_header(nlh, 4);	/* errno only */
			off += NLMSG_ALIGN(nlh->nlmsg_len);
			break;
		}
		case UNSOL:
			put_data(buf, &off, 0, 0);
			break;
		case FLUSH:
			world_send(w, buf, off);
			off = 0;
			break;
		}
	}
	if (nl_process(w->s, 0) < 0)
		fail_msg("%s: nl_process: %s", c->name, strerror(errno));
	if ((w->done == 1) != c->settled || w->done > 1)
		fail_msg("%s: done callbacks: got %d, want %d", c->name,
		    w->done, c->settled);
	if (c->settled) {
		if (w->done_b != b)
			fail_msg("%s: done called with another batch", c->name);
		if (nl_batch_ok(b) != c->ok)
			fail_msg("%s: nl_batch_ok: got %d, want %d", c->name,
			    nl_batch_ok(b), c->ok);
		nl_batch_why(b, why, sizeof(why));
		if (strcmp(why, c->why) != 0)
			fail_msg("%s: why: got \"%s\", want \"%s\"", c->name,
			    why, c->why);
		for (size_t i = 0; i < c->n; i++)
			if (nl_batch_error(b, i) != c->errors[i])
				fail_msg("%s: message %zu: error got %d, "
				    "want %d", c->name, i,
				    nl_batch_error(b, i), c->errors[i]);
		if (nl_inflight(w->s) != 0)
			fail_msg("%s: still in flight", c->name);
	} else if (nl_inflight(w->s) != 1) {
		fail_msg("%s: in flight: got %zu, want 1", c->name,
		    nl_inflight(w->s));
	}
	if (nl_stats(w->s)->stale != c->stale)
		fail_msg("%s: stale: got %llu, want %llu", c->name,
		    (unsigned long long)nl_stats(w->s)->stale,
		    (unsigned long long)c->stale);
	if (nl_stats(w->s)->malformed != c->malformed)
		fail_msg("%s: malformed: got %llu, want %llu", c->name,
		    (unsigned long long)nl_stats(w->s)->malformed,
		    (unsigned long long)c->malformed);
	if (nl_stats(w->s)->unsolicited != c->unsolicited ||
	    (uint64_t)w->other != c->stale + c->unsolicited)
		fail_msg("%s: unsolicited got %llu (other handler %d), want "
		    "%llu", c->name,
		    (unsigned long long)nl_stats(w->s)->unsolicited, w->other,
		    (unsigned long long)c->unsolicited);
	nl_batch_free(b);
	world_free(w);
}

/* A dump: parts to the data callback, settled by NLMSG_DONE; what comes
 * after is stale. */
static void
test_dump(void **state)
{
	struct world *w = world_new();
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	struct nlmsghdr *nlh;
	uint8_t buf[4096];
	size_t off = 0;

	(void)state;
	nlh = mnl_nlmsg_put_header(nl_batch_put(b, 128));
	nlh->nlmsg_type = NFT_TYPE(NFT_MSG_GETRULE);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	assert_int_equal(nl_batch_add_dump(b, "list rules of inet t"), 0);
	assert_int_equal(nl_send(w->s, b, on_data, on_done, w, 0), 0);
	world_recv(w);
	put_data(buf, &off, w->seq[0], NLM_F_MULTI);
	put_data(buf, &off, w->seq[0], NLM_F_MULTI);
	world_send(w, buf, off);
	assert_true(nl_process(w->s, 0) >= 0);
	if (w->done != 0 || w->data != 2)
		fail_msg("dump: after two parts: done %d (want 0), data %d "
		    "(want 2)", w->done, w->data);
	off = 0;
	put_data(buf, &off, w->seq[0], NLM_F_MULTI);
	put_done(buf, &off, w->seq[0], 0);
	put_data(buf, &off, w->seq[0], NLM_F_MULTI);	/* after DONE */
	world_send(w, buf, off);
	assert_true(nl_process(w->s, 0) >= 0);
	if (w->done != 1 || !nl_batch_ok(b))
		fail_msg("dump: after DONE: done %d (want 1), ok %d", w->done,
		    nl_batch_ok(b));
	if (w->data != 3)
		fail_msg("dump: data messages got %d, want 3", w->data);
	nl_batch_free(b);
	world_free(w);
}

/* NLMSG_DONE with an error: the dump failed. */
static void
test_dump_error(void **state)
{
	struct world *w = world_new();
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	struct nlmsghdr *nlh;
	uint8_t buf[256];
	size_t off = 0;
	char why[128];

	(void)state;
	nlh = mnl_nlmsg_put_header(nl_batch_put(b, 128));
	nlh->nlmsg_type = NFT_TYPE(NFT_MSG_GETSETELEM);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	assert_int_equal(nl_batch_add_dump(b, "list set inet t pass4"), 0);
	assert_int_equal(nl_send(w->s, b, on_data, on_done, w, 0), 0);
	world_recv(w);
	put_done(buf, &off, w->seq[0], ENOENT);
	world_send(w, buf, off);
	assert_true(nl_process(w->s, 0) >= 0);
	nl_batch_why(b, why, sizeof(why));
	if (w->done != 1 || nl_batch_error(b, 0) != ENOENT ||
	    strcmp(why, "list set inet t pass4: No such file or directory"))
		fail_msg("dump error: done %d, error %d, why \"%s\"", w->done,
		    nl_batch_error(b, 0), why);
	nl_batch_free(b);
	world_free(w);
}

/* A data callback that fails fails its batch with its errno. */
static int
on_data_fail(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	errno = ENOMEM;
	return MNL_CB_ERROR;
}

static void
test_data_fails(void **state)
{
	struct world *w = world_new();
	struct nl_batch *b = batch_of(NL_FRAME_NONE, 1, true);
	uint8_t buf[512];
	size_t off = 0;

	(void)state;
	assert_int_equal(nl_send(w->s, b, on_data_fail, on_done, w, 0), 0);
	world_recv(w);
	put_data(buf, &off, w->seq[0], 0);
	put_err(buf, &off, w->seq[0], PORTID, 0, NULL);
	world_send(w, buf, off);
	assert_true(nl_process(w->s, 0) >= 0);
	if (w->done != 1 || nl_batch_error(b, 0) != ENOMEM)
		fail_msg("data callback error: done %d, error got %d, want %d",
		    w->done, nl_batch_error(b, 0), ENOMEM);
	nl_batch_free(b);
	world_free(w);
}

/* No answer: the deadline settles the batch, in nl_wait too. */
static void
test_deadline(void **state)
{
	struct world *w = world_new();
	struct nl_batch *b = batch_of(NL_FRAME_NFT, 2, true);
	char why[128];

	(void)state;
	assert_int_equal(nl_send(w->s, b, NULL, on_done, w, 30), 0);
	assert_true(nl_process(w->s, 0) >= 0);
	if (w->done != 0)
		fail_msg("deadline: settled before it");
	assert_int_equal(nl_wait(w->s, 2000), 0);
	nl_batch_why(b, why, sizeof(why));
	if (w->done != 1 || nl_batch_error(b, 0) != ETIMEDOUT ||
	    strcmp(why, "add element pass4 192.0.2.1: no answer from the "
	    "kernel") != 0)
		fail_msg("deadline: done %d, error %d, why \"%s\"", w->done,
		    nl_batch_error(b, 0), why);
	if (nl_stats(w->s)->timeouts != 1)
		fail_msg("timeouts: got %llu, want 1",
		    (unsigned long long)nl_stats(w->s)->timeouts);
	nl_batch_free(b);
	world_free(w);
}

/* nl_exchange against a scripted kernel in a child process. */
static void
kernel_child(int fd, int error, bool answer)
{
	uint8_t buf[8192], out[8192];
	const struct nlmsghdr *nlh = (const void *)buf;
	uint32_t seqs[64];
	size_t off = 0, k = 0;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	int len = (int)n;

	if (n <= 0)
		_exit(1);
	if (!answer)
		_exit(0);
	for (; mnl_nlmsg_ok(nlh, len) && k < 64; nlh = mnl_nlmsg_next(nlh,
	    &len))
		if (nlh->nlmsg_flags & NLM_F_ACK)
			seqs[k++] = nlh->nlmsg_seq;
	/* A queued packet first, then the answers in reverse order. */
	put_data(out, &off, 0, 0);
	while (k > 0)
		put_err(out, &off, seqs[--k], PORTID, error, NULL);
	_exit(send(fd, out, off, 0) == (ssize_t)off ? 0 : 1);
}

struct exchange_case {
	const char *name;
	int error;			/* the child's answer */
	bool answer;
	int timeout_ms;
	/* want */
	int rc, err_no;
	const char *err;
};

static const struct exchange_case exchange_cases[] = {
	{ "acked", 0, true, 2000, 0, 0, "" },
	{ "refused", EPERM, true, 2000, -1, EPERM,
	    "add element pass4 192.0.2.1: Operation not permitted" },
	{ "no answer", 0, false, 50, -1, ETIMEDOUT,
	    "add element pass4 192.0.2.1: no answer from the kernel" },
};

static void
test_exchange(void **state)
{
	const struct exchange_case *c = *state;
	struct world *w = world_new();
	struct nl_batch *b = batch_of(NL_FRAME_NFT, 2, true);
	char err[256] = "";
	pid_t pid;
	int rc, e, status;

	nl_set_other(w->s, on_other, w);
	if ((pid = fork()) == 0)
		kernel_child(w->peer, c->error, c->answer);
	rc = nl_exchange(w->s, b, NULL, NULL, c->timeout_ms, err, sizeof(err));
	e = errno;
	waitpid(pid, &status, 0);
	if (rc != c->rc || (rc == -1 && e != c->err_no) ||
	    strcmp(rc == 0 ? "" : err, c->err) != 0)
		fail_msg("%s: got rc %d errno %d \"%s\", want rc %d errno %d "
		    "\"%s\"", c->name, rc, rc ? e : 0, err, c->rc, c->err_no,
		    c->err);
	if (c->answer && w->other != 1)
		fail_msg("%s: the queued packet: other handler got %d, want 1",
		    c->name, w->other);
	nl_batch_free(b);
	world_free(w);
}

/*
 * Lost answers, from the kernel itself: 200 sock_diag questions for a TCP
 * socket that does not exist (each answered ENOENT, no privilege needed)
 * on a socket with the smallest receive buffer.  The answers overflow it:
 * recv says ENOBUFS, the batch settles as lost, its unanswered messages
 * with ENOBUFS, its answered ones with ENOENT.
 */
struct lost_case {
	const char *name;
	bool ack;
};

static const struct lost_case lost_cases[] = {
	{ "acked", true },
	/* Silence no longer means taken once answers were lost. */
	{ "not acked", false },
};

static void
test_lost(void **state)
{
	const struct lost_case *c = *state;
	struct nl_batch *b = nl_batch_new(NL_FRAME_NONE);
	struct nl_sock *s;
	char err[256], why[256];
	size_t answered = 0, lost = 0;
	int done = 0;

	if ((s = nl_open(NETLINK_SOCK_DIAG, 0, err, sizeof(err))) == NULL)
		skip();
	assert_non_null(b);
	(void)nl_set_rcvbuf(s, 1);		/* the kernel's minimum */
	for (int i = 0; i < 200; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl_batch_put(b,
		    256));
		struct inet_diag_req_v2 *req;

		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		nlh->nlmsg_flags = NLM_F_REQUEST | (c->ack ? NLM_F_ACK : 0);
		req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->sdiag_family = AF_INET;
		req->sdiag_protocol = IPPROTO_TCP;
		req->idiag_states = ~0u;
		req->id.idiag_sport = htons(1);
		req->id.idiag_dport = htons((uint16_t)(1 + i));
		req->id.idiag_src[0] = htonl(0x7f0000fe);
		req->id.idiag_dst[0] = htonl(0x7f0000fe);
		req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
		req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
		assert_true(nl_batch_add(b, "get socket %d", i) == i);
	}
	if (nl_send(s, b, NULL, on_done_count, &done, 0) != 0)
		fail_msg("nl_send: %s", strerror(errno));
	assert_true(nl_process(s, 0) >= 0);
	if (nl_stats(s)->enobufs == 0)
		fail_msg("%s: 200 answers fit the smallest buffer: no ENOBUFS",
		    c->name);
	if (done != 1 || !nl_batch_lost(b) || nl_batch_ok(b))
		fail_msg("%s: done %d (want 1), lost %d, ok %d", c->name, done,
		    nl_batch_lost(b), nl_batch_ok(b));
	for (size_t i = 0; i < 200; i++) {
		int e = nl_batch_error(b, i);

		if (nl_batch_answered(b, i) && e == ENOENT)
			answered++;
		else if (!nl_batch_answered(b, i) && e == ENOBUFS)
			lost++;
		else
			fail_msg("%s: message %zu: answered %d error %d, "
			    "want ENOENT answered or ENOBUFS not", c->name, i,
			    nl_batch_answered(b, i), e);
	}
	nl_batch_why(b, why, sizeof(why));
	if (lost == 0 || answered == 0 ||
	    strstr(why, ": No such file or directory") == NULL)
		fail_msg("%s: %zu answered, %zu lost, why \"%s\"", c->name,
		    answered, lost, why);
	for (size_t i = 0; i < 200; i++)
		if (!nl_batch_answered(b, i)) {
			nl_batch_describe(b, i, why, sizeof(why));
			if (strstr(why, ": answers lost (No buffer space "
			    "available)") == NULL)
				fail_msg("a lost message: \"%s\"", why);
			break;
		}
	nl_batch_free(b);
	nl_close(s);
}

/* --- decoding errors ------------------------------------------------- */

struct decode_case {
	const char *name;
	int raw;			/* nlmsgerr.error */
	bool shorten;
	int want;
};

static const struct decode_case decode_cases[] = {
	{ "an ack", 0, false, 0 },
	{ "ENOENT", -ENOENT, false, ENOENT },
	{ "a positive error is none we know", 5, false, EPROTO },
	{ "past the errno range", -5000, false, EPROTO },
	{ "too short", -ENOENT, true, -1 },
};

static void
test_decode(void **state)
{
	const struct decode_case *c = *state;
	uint8_t buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *me;
	int got;

	nlh->nlmsg_type = NLMSG_ERROR;
	me = mnl_nlmsg_put_extra_header(nlh, sizeof(*me));
	me->error = c->raw;
	if (c->shorten)
		nlh->nlmsg_len = NLMSG_HDRLEN + 8;
	got = nl_error_decode(nlh, NULL, 0);
	if (got != c->want)
		fail_msg("%s: got %d, want %d", c->name, got, c->want);
}

int
main(void)
{
	struct CMUnitTest t[64];
	char names[64][96];
	size_t n = 0;

	CASES(frame_cases, test_frame);
	CASES(answer_cases, test_answers);
	CASES(exchange_cases, test_exchange);
	CASES(decode_cases, test_decode);
	CASES(lost_cases, test_lost);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_seq_continues);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_dump);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_dump_error);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_data_fails);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_deadline);
	return _cmocka_run_group_tests("netlink", t, n, NULL, NULL);
}
