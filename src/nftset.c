/*
 * nftset.c - element changes to our nftables sets, in nf_tables batches
 * over one non-blocking netlink socket (libnftnl builds, libmnl carries).
 *
 * Exports the functions of nftset.h.  Order: nftset_open, then any number
 * of nftset_add/del(_prefix) + nftset_flush + nftset_process, then
 * nftset_close.  struct nftset owns its socket and buffers; callers own the
 * strings and addresses they pass (copied at once).
 *
 * Life of a change: queued in pending[] -> written into a batch by
 * nftset_flush (one message per change, own sequence number) -> in
 * flight[] until the socket has been drained once after the batch was
 * sent (see nftset.h: answers are queued during sendmsg) -> settled:
 * applied, or, when the batch failed, queued again as a "single" change
 * that is sent in a batch of its own; a single change that fails is
 * counted in stats.errors and logged, never retried again.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "log.h"
#include "nftset.h"

#define NFTSET_MAX_OPS		4096		/* queued changes at most */
#define NFTSET_BATCH_BYTES	(128 * 1024)	/* one sendmsg, < sk_sndbuf */
#define NFTSET_RCVBUF		(4 * 1024 * 1024) /* room for error bursts */
#define NFTSET_SYNC_WAIT_MS	2000		/* nftset_sync: answer deadline */
#define NFTSET_FULL_MAX		16		/* sets in a full streak at once */

/* A queued or in-flight change. */
struct nftset_op {
	struct nftset_elem e;
	bool single;		/* a retry: goes alone in its own batch */
	uint32_t seq;		/* in flight: this message's sequence number */
	int error;		/* in flight: errno the kernel answered, or 0 */
	bool acked;		/* in flight: ack (error 0) received */
};

/* A batch in flight: ops flight[first .. first+n-1], seqs begin..end. */
struct nftset_batch {
	uint32_t seq_begin;	/* batch-begin message */
	uint32_t seq_end;	/* batch-end message */
	size_t first, n;	/* its ops in flight[] */
	bool failed;		/* an error came for one of its seqs */
	int batch_error;	/* error against the begin/end message */
};

struct nftset {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;			/* next sequence number */
	char table[NFTSET_TABLE_MAX];
	bool ack;			/* nftset_sync: ask for every ack */
	bool lost;			/* ENOBUFS: answers were lost */
	struct nftset_op *pending;	/* NFTSET_MAX_OPS */
	size_t npending;
	struct nftset_op *flight;	/* NFTSET_MAX_OPS */
	size_t nflight;
	struct nftset_batch *batches;	/* NFTSET_MAX_OPS (>= 1 op each) */
	size_t nbatches;
	size_t sync_failed;		/* refused or unanswered during sync */
	char *buf;			/* NFTSET_BATCH_BYTES, send buffer */
	char *rbuf;			/* MNL_SOCKET_BUFFER_SIZE, receive */
	struct nftset_stats stats;
	struct nftset_full {		/* sets that refused adds as full */
		char set[NFTSET_NAME_MAX];
		uint64_t refused;	/* adds refused in this streak */
	} full[NFTSET_FULL_MAX];
	size_t nfull;
};

/* --- message builders ------------------------------------------------ */

static int
nftset_set_name(struct nftset_elem *e, const char *base, int family)
{
	int n;

	n = snprintf(e->set, sizeof(e->set), "%s%c", base,
	    family == AF_INET6 ? '6' : '4');
	return (n < 0 || (size_t)n >= sizeof(e->set)) ? -1 : 0;
}

int
nftset_elem_addr(struct nftset_elem *e, bool del, const char *base,
    const struct addr *a, uint32_t timeout_s)
{
	memset(e, 0, sizeof(*e));
	if (a->family != AF_INET && a->family != AF_INET6)
		return -1;
	if (nftset_set_name(e, base, a->family) == -1)
		return -1;
	e->del = del;
	e->keylen = (uint8_t)addr_len(a);
	memcpy(e->key, a->b, e->keylen);
	if (!del)
		e->timeout_ms = (uint64_t)timeout_s * 1000;
	return 0;
}

int
nftset_elem_prefix(struct nftset_elem *e, bool del, const char *base,
    const struct prefix *p)
{
	struct addr end;

	if (nftset_elem_addr(e, del, base, &p->a, 0) == -1)
		return -1;
	if (p->len > e->keylen * 8)
		return -1;
	e->interval = true;
	if (prefix_end(p, &end)) {
		e->has_end = true;
		memcpy(e->end, end.b, e->keylen);
	}
	return 0;
}

/* Key into one element nest; flags 0 means no flags attribute. */
static int
nftset_put_elem(struct nlmsghdr *nlh, const uint8_t *key, uint8_t keylen,
    uint32_t flags, uint64_t timeout_ms)
{
	struct nftnl_set_elem *el;

	if ((el = nftnl_set_elem_alloc()) == NULL)
		return -1;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, keylen);
	if (flags != 0)
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, flags);
	if (timeout_ms != 0)
		nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	/*
	 * Every nest is NFTA_LIST_ELEM.  (nftnl_set_elems_nlmsg_build_payload
	 * in libnftnl 1.2.4 numbers them 1, 2, ...; the kernel ignores the
	 * nest type but libnftnl's own parser refuses all but the first.)
	 */
	nftnl_set_elem_nlmsg_build(nlh, el, NFTA_LIST_ELEM);
	nftnl_set_elem_free(el);
	return 0;
}

size_t
nftset_build_elem_msg(void *buf, size_t len, const char *table,
    const struct nftset_elem *e, uint32_t seq, bool ack)
{
	struct nlmsghdr *nlh;
	struct nlattr *list;
	uint16_t flags;

	/*
	 * libmnl and libnftnl write without a bound: the bound is
	 * NFTSET_MSG_MAX, and the worst case (64-byte table, 32-byte set,
	 * two 16-byte keys, flags, timeout) is under 300 bytes.
	 */
	if (len < NFTSET_MSG_MAX || strnlen(table, NFTSET_TABLE_MAX) >=
	    NFTSET_TABLE_MAX || strnlen(e->set, NFTSET_NAME_MAX) >=
	    NFTSET_NAME_MAX || e->keylen == 0 || e->keylen > sizeof(e->key))
		return 0;

	flags = e->del ? 0 : NLM_F_CREATE;
	if (ack)
		flags |= NLM_F_ACK;
	nlh = nftnl_nlmsg_build_hdr(buf, e->del ? NFT_MSG_DELSETELEM :
	    NFT_MSG_NEWSETELEM, NFPROTO_INET, flags, seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e->set);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	if (nftset_put_elem(nlh, e->key, e->keylen, 0, e->del ? 0 :
	    e->timeout_ms) == -1)
		return 0;
	if (e->interval && e->has_end && nftset_put_elem(nlh, e->end,
	    e->keylen, NFT_SET_ELEM_INTERVAL_END, 0) == -1)
		return 0;
	mnl_attr_nest_end(nlh, list);
	if (nlh->nlmsg_len > NFTSET_MSG_MAX)	/* cannot happen: see above */
		log_panic("nftset: element message of %u bytes for set %s "
		    "over its room of %d", nlh->nlmsg_len, e->set,
		    NFTSET_MSG_MAX);
	return nlh->nlmsg_len;
}

/* --- socket ------------------------------------------------------------ */

struct nftset *
nftset_open(const char *table, char *err, size_t errlen)
{
	struct nftset *s;
	int one = 1, rcv = NFTSET_RCVBUF;

	if (strnlen(table, NFTSET_TABLE_MAX) >= NFTSET_TABLE_MAX ||
	    table[0] == '\0') {
		snprintf(err, errlen, "nftset: table name \"%.64s\": empty "
		    "or longer than %d bytes", table, NFTSET_TABLE_MAX - 1);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->pending = calloc(NFTSET_MAX_OPS, sizeof(*s->pending))) ==
	    NULL ||
	    (s->flight = calloc(NFTSET_MAX_OPS, sizeof(*s->flight))) == NULL ||
	    (s->batches = calloc(NFTSET_MAX_OPS, sizeof(*s->batches))) ==
	    NULL ||
	    (s->buf = malloc(NFTSET_BATCH_BYTES)) == NULL ||
	    (s->rbuf = malloc(MNL_SOCKET_BUFFER_SIZE)) == NULL) {
		snprintf(err, errlen, "nftset: malloc: %s", strerror(errno));
		goto fail;
	}
	snprintf(s->table, sizeof(s->table), "%s", table);
	if ((s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL) {
		snprintf(err, errlen, "nftset: mnl_socket_open2 netfilter: %s",
		    strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "nftset: mnl_socket_bind netfilter: %s",
		    strerror(errno));
		goto fail;
	}
	/* Larger receive buffer so a burst of errors is not lost; FORCE
	 * needs CAP_NET_ADMIN, which sending needs anyway. */
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcv, sizeof(rcv)) == -1)
		(void)setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET,
		    SO_RCVBUF, &rcv, sizeof(rcv));
	/* Extended acks carry the kernel's reason; harmless if refused. */
	(void)mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Do not echo whole requests in error messages. */
	(void)mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	return s;
fail:
	nftset_close(s);
	return NULL;
}

void
nftset_close(struct nftset *s)
{
	if (s == NULL)
		return;
	if (s->nl != NULL)
		mnl_socket_close(s->nl);
	free(s->pending);
	free(s->flight);
	free(s->batches);
	free(s->buf);
	free(s->rbuf);
	free(s);
}

int
nftset_fd(const struct nftset *s)
{
	return mnl_socket_get_fd(s->nl);
}

const struct nftset_stats *
nftset_stats(const struct nftset *s)
{
	return &s->stats;
}

/* --- full sets ------------------------------------------------------ */

static struct nftset_full *
nftset_full_find(struct nftset *s, const char *set)
{
	for (size_t i = 0; i < s->nfull; i++)
		if (strcmp(s->full[i].set, set) == 0)
			return &s->full[i];
	return NULL;
}

/* An add to a full set was refused: count it, log a streak's start. */
static void
nftset_full_refused(struct nftset *s, const struct nftset_op *op)
{
	struct nftset_full *f = nftset_full_find(s, op->e.set);

	s->stats.full++;
	if (s->ack)
		s->sync_failed++;
	if (f == NULL && s->nfull < NFTSET_FULL_MAX) {
		f = &s->full[s->nfull++];
		snprintf(f->set, sizeof(f->set), "%s", op->e.set);
		f->refused = 0;
		log_warnx("nftset: set %s of table inet %s is full: new "
		    "elements are refused (%s), their verdicts are not cached "
		    "(counted in nft_full; raise the set's size in [nft] and "
		    "run smtpgate-nft install)", op->e.set, s->table,
		    strerror(ENFILE));
	}
	if (f != NULL)
		f->refused++;
}

/* An add was applied: a full streak of its set is over. */
static void
nftset_full_applied(struct nftset *s, const struct nftset_op *op)
{
	struct nftset_full *f;

	if (op->e.del || s->nfull == 0 ||
	    (f = nftset_full_find(s, op->e.set)) == NULL)
		return;
	log_info("nftset: set %s of table inet %s takes new elements again "
	    "(%llu refused while it was full)", f->set, s->table,
	    (unsigned long long)f->refused);
	*f = s->full[--s->nfull];
}

/* --- queueing -------------------------------------------------------- */

static int
nftset_queue(struct nftset *s, const struct nftset_elem *e)
{
	if (s->npending == NFTSET_MAX_OPS) {
		/* Full: send what we have; still full means sending failed
		 * and those changes were dropped and counted. */
		(void)nftset_flush(s);
		if (s->npending == NFTSET_MAX_OPS)
			return -1;
	}
	memset(&s->pending[s->npending], 0, sizeof(s->pending[0]));
	/* An add to a full set would abort its whole batch: send it alone. */
	s->pending[s->npending].single = !e->del && s->nfull > 0 &&
	    nftset_full_find(s, e->set) != NULL;
	if (s->pending[s->npending].single)
		s->stats.elements++;	/* singles are not counted when sent */
	s->pending[s->npending++].e = *e;
	return 0;
}

int
nftset_add(struct nftset *s, const char *base, const struct addr *a,
    uint32_t timeout_s)
{
	struct nftset_elem e;

	if (nftset_elem_addr(&e, false, base, a, timeout_s) == -1) {
		errno = EINVAL;
		return -1;
	}
	return nftset_queue(s, &e);
}

int
nftset_del(struct nftset *s, const char *base, const struct addr *a)
{
	struct nftset_elem e;

	if (nftset_elem_addr(&e, true, base, a, 0) == -1) {
		errno = EINVAL;
		return -1;
	}
	return nftset_queue(s, &e);
}

int
nftset_add_prefix(struct nftset *s, const char *base, const struct prefix *p)
{
	struct nftset_elem e;

	if (nftset_elem_prefix(&e, false, base, p) == -1) {
		errno = EINVAL;
		return -1;
	}
	return nftset_queue(s, &e);
}

int
nftset_del_prefix(struct nftset *s, const char *base, const struct prefix *p)
{
	struct nftset_elem e;

	if (nftset_elem_prefix(&e, true, base, p) == -1) {
		errno = EINVAL;
		return -1;
	}
	return nftset_queue(s, &e);
}

/* "add pass4 192.0.2.1" or "del allow6 2001:db8::/32" for the log. */
static const char *
nftset_elem_str(const struct nftset_elem *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	int af = e->keylen == 16 ? AF_INET6 : AF_INET;

	if (inet_ntop(af, e->key, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (e->interval && e->has_end &&
	    inet_ntop(af, e->end, b, sizeof(b)) != NULL)
		snprintf(buf, len, "%s %s %s-%s(excl)", e->del ? "del" : "add",
		    e->set, a, b);
	else
		snprintf(buf, len, "%s %s %s%s", e->del ? "del" : "add",
		    e->set, a, e->interval ? "-end" : "");
	return buf;
}

static void
nftset_refused(struct nftset *s, const struct nftset_op *op, int error)
{
	char what[160];

	if (error == ENFILE && !op->e.del) {
		nftset_full_refused(s, op);
		return;
	}
	s->stats.errors++;
	if (s->ack)
		s->sync_failed++;
	log_warnx("nftset: %s in table inet %s: %s",
	    nftset_elem_str(&op->e, what, sizeof(what)), s->table,
	    error ? strerror(error) : "no answer");
}

/* --- sending --------------------------------------------------------- */

/*
 * Send one batch holding pending ops [i, j) and move them in flight.
 * On a send failure the ops are dropped and counted as refused.
 */
static int
nftset_send(struct nftset *s, size_t i, size_t j)
{
	struct nftset_batch *b;
	size_t off = 0, k, n;
	ssize_t sent;

	if (s->nbatches == NFTSET_MAX_OPS || s->nflight + (j - i) >
	    NFTSET_MAX_OPS) {
		/* Only when answers could not be read to free flight[]. */
		for (k = i; k < j; k++)
			nftset_refused(s, &s->pending[k], ENOBUFS);
		errno = ENOBUFS;
		return -1;
	}
	b = &s->batches[s->nbatches];
	memset(b, 0, sizeof(*b));
	b->first = s->nflight;
	b->n = j - i;
	b->seq_begin = s->seq++;
	nftnl_batch_begin(s->buf, b->seq_begin);
	off += NLMSG_ALIGN(((struct nlmsghdr *)s->buf)->nlmsg_len);
	for (k = i; k < j; k++) {
		struct nftset_op *op = &s->flight[s->nflight + (k - i)];

		*op = s->pending[k];
		op->seq = s->seq++;
		op->error = 0;
		op->acked = false;
		n = nftset_build_elem_msg(s->buf + off, NFTSET_BATCH_BYTES -
		    off, s->table, &op->e, op->seq, s->ack);
		if (n == 0)		/* callers bound the batch size */
			log_panic("nftset: batch of %zu changes to table "
			    "inet %s overran %d bytes", j - i, s->table,
			    NFTSET_BATCH_BYTES);
		off += NLMSG_ALIGN(n);
		if (!op->single)
			s->stats.elements++;
	}
	b->seq_end = s->seq++;
	nftnl_batch_end(s->buf + off, b->seq_end);
	off += NLMSG_ALIGN(((struct nlmsghdr *)(s->buf + off))->nlmsg_len);

	sent = mnl_socket_sendto(s->nl, s->buf, off);
	if (sent == -1 || (size_t)sent != off) {
		int e = sent == -1 ? errno : EMSGSIZE;

		log_warnx("nftset: sendto batch of %zu changes to table "
		    "inet %s: %s", j - i, s->table, strerror(e));
		s->stats.errors += j - i;
		if (s->ack)
			s->sync_failed += j - i;
		errno = e;
		return -1;
	}
	s->stats.batches++;
	s->nflight += j - i;
	s->nbatches++;
	return 0;
}

static void nftset_drain(struct nftset *s);

int
nftset_flush(struct nftset *s)
{
	/* Room for the begin and end messages (20 bytes each, aligned). */
	const size_t per_batch = (NFTSET_BATCH_BYTES - 64) / NFTSET_MSG_MAX;
	size_t i = 0, j;
	int rc = 0;

	/* Settle what is in flight first: frees flight[] and queues the
	 * single retries of failed batches into pending[]. */
	nftset_drain(s);
	while (i < s->npending) {
		if (s->pending[i].single) {
			j = i + 1;
		} else {
			for (j = i; j < s->npending && j - i < per_batch &&
			    !s->pending[j].single; j++)
				;
		}
		if (s->nflight + (j - i) > NFTSET_MAX_OPS ||
		    s->nbatches == NFTSET_MAX_OPS)
			nftset_drain(s);
		if (nftset_send(s, i, j) == -1)
			rc = -1;
		i = j;
	}
	s->npending = 0;
	return rc;
}

/* --- answers --------------------------------------------------------- */

static struct nftset_batch *
nftset_batch_of(struct nftset *s, uint32_t seq)
{
	size_t i;

	/* Few batches are in flight (one per loop turn): a walk is fine.
	 * Unsigned differences cope with the sequence wrapping. */
	for (i = 0; i < s->nbatches; i++)
		if (seq - s->batches[i].seq_begin <=
		    s->batches[i].seq_end - s->batches[i].seq_begin)
			return &s->batches[i];
	return NULL;
}

static int
nftset_cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct nftset *s = data;
	const struct nlmsgerr *me;
	struct nftset_batch *b;
	uint32_t seq;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*me)) {
		log_warnx("nftset: netlink error message of %u bytes: "
		    "truncated", nlh->nlmsg_len);
		return MNL_CB_OK;
	}
	me = mnl_nlmsg_get_payload(nlh);
	seq = nlh->nlmsg_seq;
	/* An errno is 1..4095; anything else is not one. */
	error = me->error < 0 && me->error > -4096 ? -me->error :
	    (me->error == 0 ? 0 : EPROTO);
	if ((b = nftset_batch_of(s, seq)) == NULL) {
		log_warnx("nftset: answer for unknown sequence %u: %s", seq,
		    error ? strerror(error) : "ack");
		return MNL_CB_OK;
	}
	if (seq == b->seq_begin || seq == b->seq_end) {
		if (error) {
			b->failed = true;
			b->batch_error = error;
		}
		return MNL_CB_OK;
	}
	struct nftset_op *op = &s->flight[b->first + (seq - b->seq_begin -
	    1)];
	if (error) {
		b->failed = true;
		op->error = error;
	} else {
		op->acked = true;
	}
	return MNL_CB_OK;
}

static int
nftset_cb_other(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	log_warnx("nftset: unexpected netlink message type %u, sequence %u",
	    nlh->nlmsg_type, nlh->nlmsg_seq);
	return MNL_CB_OK;
}

/* Read until the socket is empty.  Returns false on a read error. */
static bool
nftset_read(struct nftset *s)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE];
	ssize_t n;
	size_t i;

	for (i = 0; i < NLMSG_MIN_TYPE; i++)
		ctl[i] = NULL;
	ctl[NLMSG_ERROR] = nftset_cb_error;
	for (;;) {
		n = recv(mnl_socket_get_fd(s->nl), s->rbuf,
		    MNL_SOCKET_BUFFER_SIZE, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				log_warnx("nftset: recv netlink answers: %s "
				    "(answers lost)", strerror(errno));
				s->lost = true;
				continue;
			}
			log_warn("nftset: recv netlink answers");
			return false;
		}
		/* seq 0: replies for many sequences arrive here; each is
		 * matched to its batch and message in nftset_cb_error. */
		if (mnl_cb_run2(s->rbuf, (size_t)n, 0, s->portid,
		    nftset_cb_other, s, ctl, NLMSG_MIN_TYPE) == -1)
			log_warn("nftset: parse netlink answers (%zd bytes)",
			    n);
	}
}

/*
 * Settle every batch in flight.  Called after a drain: everything the
 * kernel had to say about them has been read.
 */
static void
nftset_settle(struct nftset *s)
{
	size_t i, k;

	for (i = 0; i < s->nbatches; i++) {
		struct nftset_batch *b = &s->batches[i];
		bool unanswered = false;

		if (!b->failed && s->ack)
			for (k = 0; k < b->n; k++)
				if (!s->flight[b->first + k].acked)
					unanswered = true;
		if (!b->failed && !unanswered && !s->lost) {
			for (k = 0; s->nfull > 0 && k < b->n; k++)
				nftset_full_applied(s, &s->flight[b->first + k]);
			continue;		/* applied */
		}
		for (k = 0; k < b->n; k++) {
			struct nftset_op *op = &s->flight[b->first + k];

			if (op->single) {
				if (op->error || b->failed)
					nftset_refused(s, op, op->error ?
					    op->error : b->batch_error);
				else if (unanswered || s->lost)
					nftset_refused(s, op, 0);
				continue;
			}
			/* Aborted with the batch (or outcome unknown):
			 * once more, alone. */
			if (s->npending < NFTSET_MAX_OPS) {
				s->pending[s->npending] = *op;
				s->pending[s->npending++].single = true;
			} else {
				nftset_refused(s, op, ENOBUFS);
			}
		}
	}
	s->nbatches = 0;
	s->nflight = 0;
	s->lost = false;
}

static void
nftset_drain(struct nftset *s)
{
	if (s->nbatches == 0)
		return;
	if (nftset_read(s))
		nftset_settle(s);
}

void
nftset_process(struct nftset *s)
{
	if (nftset_read(s) && s->nbatches > 0)
		nftset_settle(s);
}

/* Are all batches answered (every message acked or a failure seen)? */
static bool
nftset_answered(const struct nftset *s)
{
	size_t i, k;

	for (i = 0; i < s->nbatches; i++) {
		const struct nftset_batch *b = &s->batches[i];

		if (b->failed)
			continue;
		for (k = 0; k < b->n; k++)
			if (!s->flight[b->first + k].acked)
				return false;
	}
	return true;
}

int
nftset_sync(struct nftset *s)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(s->nl),
	    .events = POLLIN };
	int rc = 0, round;

	s->ack = true;
	s->sync_failed = 0;
	/* Round 1 sends everything; round 2 the retries of failed batches;
	 * a retry is never retried, so round 3 finds nothing to do. */
	for (round = 0; round < 3 && (s->npending > 0 || s->nbatches > 0);
	    round++) {
		struct timespec t0, t;

		if (nftset_flush(s) == -1)
			rc = -1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			if (!nftset_read(s)) {
				rc = -1;
				break;
			}
			if (nftset_answered(s))
				break;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long ms = (t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= NFTSET_SYNC_WAIT_MS)
				break;
			(void)poll(&pfd, 1, (int)(NFTSET_SYNC_WAIT_MS - ms));
		}
		nftset_settle(s);
	}
	s->ack = false;
	if (rc == 0 && s->sync_failed > 0) {
		errno = EIO;
		rc = -1;
	}
	return rc;
}

/* --- whole-set replacement (nftset_replace) -------------------------- */

struct nftset_rctx {
	uint32_t seq_begin, seq_end;	/* the batch's sequence range */
	size_t acks;			/* messages acknowledged */
	int error;			/* first error the kernel answered */
	uint32_t error_seq;		/* and the message it was for */
};

static int
nftset_replace_cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct nftset_rctx *r = data;
	const struct nlmsgerr *me;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*me))
		return MNL_CB_OK;
	me = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_seq - r->seq_begin > r->seq_end - r->seq_begin)
		return MNL_CB_OK;	/* not ours */
	if (me->error == 0) {
		r->acks++;
	} else if (r->error == 0) {
		r->error = me->error < 0 && me->error > -4096 ? -me->error :
		    EPROTO;
		r->error_seq = nlh->nlmsg_seq;
	}
	return MNL_CB_OK;
}

int
nftset_replace(const char *table, const char *const *sets, size_t nsets,
    const struct nftset_elem *elems, size_t nelems, char *err, size_t errlen)
{
	struct mnl_socket *nl = NULL;
	struct nftset_rctx r = { 0 };
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
	char *buf = NULL, *rbuf = NULL;
	size_t cap, off = 0, nmsg = 0, i;
	uint32_t seq, portid;
	int rc = -1, saved = 0, one = 1, sndbuf;
	struct pollfd pfd;
	struct timespec t0, t;

	if (nelems > NFTSET_REPLACE_MAX || nsets > NFTSET_REPLACE_MAX) {
		snprintf(err, errlen, "nftset: replace: %zu elements, at most "
		    "%d", nelems, NFTSET_REPLACE_MAX);
		errno = E2BIG;
		return -1;
	}
	if (strnlen(table, NFTSET_TABLE_MAX) >= NFTSET_TABLE_MAX ||
	    table[0] == '\0') {
		snprintf(err, errlen, "nftset: table name \"%.64s\": empty "
		    "or too long", table);
		errno = EINVAL;
		return -1;
	}
	cap = (nsets + nelems + 2) * NFTSET_MSG_MAX;
	if ((buf = malloc(cap)) == NULL ||
	    (rbuf = malloc(MNL_SOCKET_BUFFER_SIZE)) == NULL) {
		saved = errno;
		snprintf(err, errlen, "nftset: replace: malloc: %s",
		    strerror(errno));
		goto out;
	}
	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		saved = errno;
		snprintf(err, errlen, "nftset: netlink socket: %s",
		    strerror(errno));
		goto out;
	}
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	portid = mnl_socket_get_portid(nl);
	seq = (uint32_t)time(NULL);

	/* begin, the flushes, the adds, end: every message acked */
	r.seq_begin = seq;
	nftnl_batch_begin(buf, seq++);
	off += NLMSG_ALIGN(((struct nlmsghdr *)buf)->nlmsg_len);
	for (i = 0; i < nsets; i++) {
		struct nlmsghdr *nlh;

		if (strnlen(sets[i], NFTSET_NAME_MAX) >= NFTSET_NAME_MAX) {
			snprintf(err, errlen, "nftset: set name \"%.32s\": "
			    "too long", sets[i]);
			saved = EINVAL;
			goto out;
		}
		nlh = nftnl_nlmsg_build_hdr(buf + off, NFT_MSG_DELSETELEM,
		    NFPROTO_INET, NLM_F_ACK, seq++);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i]);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		nmsg++;
	}
	for (i = 0; i < nelems; i++) {
		size_t n = nftset_build_elem_msg(buf + off, cap - off, table,
		    &elems[i], seq++, true);

		if (n == 0) {
			snprintf(err, errlen, "nftset: replace: element %zu "
			    "of set \"%.32s\" cannot be built", i,
			    elems[i].set);
			saved = EINVAL;
			goto out;
		}
		off += NLMSG_ALIGN(n);
		nmsg++;
	}
	r.seq_end = seq;
	nftnl_batch_end(buf + off, seq++);
	off += NLMSG_ALIGN(((struct nlmsghdr *)(buf + off))->nlmsg_len);

	/* One sendmsg must hold the batch: raise the send buffer (root). */
	sndbuf = (int)(off + 65536);
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE,
	    &sndbuf, sizeof(sndbuf));
	if (mnl_socket_sendto(nl, buf, off) != (ssize_t)off) {
		saved = errno ? errno : EMSGSIZE;
		snprintf(err, errlen, "nftset: sendto replace batch of %zu "
		    "messages to table inet %s: %s", nmsg, table,
		    strerror(saved));
		goto out;
	}
	ctl[NLMSG_ERROR] = nftset_replace_cb_error;
	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The kernel answers inside sendmsg; the wait is only a guard. */
	while (r.acks < nmsg && r.error == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= NFTSET_SYNC_WAIT_MS ||
		    poll(&pfd, 1, (int)(NFTSET_SYNC_WAIT_MS - ms)) <= 0)
			break;
		ssize_t n = recv(pfd.fd, rbuf, MNL_SOCKET_BUFFER_SIZE,
		    MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			saved = errno;
			snprintf(err, errlen, "nftset: recv replace answers: "
			    "%s", strerror(errno));
			goto out;
		}
		(void)mnl_cb_run2(rbuf, (size_t)n, 0, portid, NULL, &r, ctl,
		    NLMSG_MIN_TYPE);
	}
	if (r.error != 0) {
		uint32_t k = r.error_seq - r.seq_begin;	/* 1-based message */
		const char *what = k >= 1 && k <= nsets ? sets[k - 1] :
		    k > nsets && k - 1 - nsets < nelems ?
		    elems[k - 1 - nsets].set : "batch";

		saved = r.error;
		snprintf(err, errlen, "nftset: replace sets of table inet %s: "
		    "%s %s: %s", table, k >= 1 && k <= nsets ? "flush" :
		    "add to", what, strerror(r.error));
		goto out;
	}
	if (r.acks < nmsg) {
		saved = ETIMEDOUT;
		snprintf(err, errlen, "nftset: replace sets of table inet %s: "
		    "%zu of %zu answers missing", table, nmsg - r.acks, nmsg);
		goto out;
	}
	rc = 0;
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	free(buf);
	free(rbuf);
	if (rc == -1)
		errno = saved ? saved : EIO;
	return rc;
}
