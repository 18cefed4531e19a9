/*
 * nftset.c - element changes to our nftables sets, in nf_tables batches
 * over one non-blocking netlink socket (libnftnl builds the messages, the
 * netlink module sends them and matches the answers).
 *
 * Exports the functions of nftset.h but the message builders, which are
 * in nftset_elem.c (pure code, which the scenario tests' fake of this
 * module uses too).  Order: nftset_open, then any number
 * of nftset_add/del(_prefix) + nftset_flush + nftset_process, then
 * nftset_close.  struct nftset owns its socket, its batches and buffers;
 * callers own the strings and addresses they pass (copied at once).
 *
 * Life of a change: queued in pending[] -> written into a batch by
 * nftset_flush (one labelled message per change) -> in flight with its
 * batch until the netlink module settles it (for the daemon's unacked
 * changes: once the socket has been read empty after the send, see
 * netlink.h) -> applied, or, when the batch failed (one refusal aborts
 * all of it) or its outcome is unknown (answers lost), queued again as a
 * "single" change that is sent in a batch of its own; a single change
 * that fails is counted in stats.errors and logged, never retried again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#include "log.h"
#include "netlink.h"
#include "nftset.h"

#define NFTSET_MAX_OPS		4096		/* queued changes at most */
#define NFTSET_BATCH_BYTES	(128 * 1024)	/* one sendmsg, < sk_sndbuf */
#define NFTSET_RCVBUF		(4 * 1024 * 1024) /* room for error bursts */
#define NFTSET_SYNC_WAIT_MS	2000		/* nftset_sync: answer deadline */
#define NFTSET_FULL_MAX		16		/* sets in a full streak at once */
/* Changes per batch: the begin and end messages take 40 bytes. */
#define NFTSET_PER_BATCH	((NFTSET_BATCH_BYTES - 64) / NFTSET_MSG_MAX)

/* A queued or in-flight change. */
struct nftset_op {
	struct nftset_elem e;
	bool single;		/* a retry: goes alone in its own batch */
};

/* One nf_tables batch, in flight or kept for reuse. */
struct nftset_batch {
	struct nftset *s;
	struct nl_batch *nb;		/* its messages: message k is ops[k] */
	struct nftset_op *ops;
	size_t n, cap;
	struct nftset_batch *next_free;	/* s->free */
	struct nftset_batch *next_all;	/* s->all: every batch made */
};

struct nftset {
	struct nl_sock *nl;
	char table[NFTSET_TABLE_MAX];
	bool ack;			/* nftset_sync: ask for every ack */
	struct nftset_op *pending;	/* NFTSET_MAX_OPS */
	size_t npending;
	size_t nflight;			/* changes in flight */
	size_t nbatches;		/* batches in flight */
	struct nftset_batch *free;	/* batches to reuse */
	struct nftset_batch *all;
	size_t sync_failed;		/* refused or unanswered during sync */
	uint64_t enobufs_seen;		/* the socket's ENOBUFS count, logged */
	struct nftset_stats stats;
	struct nftset_full {		/* sets that refused adds as full */
		char set[NFTSET_NAME_MAX];
		uint64_t refused;	/* adds refused in this streak */
	} full[NFTSET_FULL_MAX];
	size_t nfull;
};

static void nftset_batch_done(void *arg, struct nl_batch *nb);

/* --- socket ------------------------------------------------------------ */

/* An unknown answer: only after a batch was settled without it. */
static void
nftset_other(void *arg, const struct nlmsghdr *nlh)
{
	struct nftset *s = arg;
	int error = nlh->nlmsg_type == NLMSG_ERROR ?
	    nl_error_decode(nlh, NULL, 0) : -1;

	log_warnx("nftset: table inet %s: answer for unknown sequence %u: %s",
	    s->table, nlh->nlmsg_seq, error > 0 ? strerror(error) :
	    error == 0 ? "ack" : "not an error message");
}

struct nftset *
nftset_open(const char *table, char *err, size_t errlen)
{
	struct nftset *s;
	char why[256];

	if (strnlen(table, NFTSET_TABLE_MAX) >= NFTSET_TABLE_MAX ||
	    table[0] == '\0') {
		snprintf(err, errlen, "nftset: table name \"%.64s\": empty "
		    "or longer than %d bytes", table, NFTSET_TABLE_MAX - 1);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->pending = calloc(NFTSET_MAX_OPS, sizeof(*s->pending))) ==
	    NULL) {
		snprintf(err, errlen, "nftset: malloc: %s", strerror(errno));
		goto fail;
	}
	snprintf(s->table, sizeof(s->table), "%s", table);
	if ((s->nl = nl_open(NETLINK_NETFILTER, 0, why, sizeof(why))) ==
	    NULL) {
		snprintf(err, errlen, "nftset: %s", why);
		goto fail;
	}
	/* Larger receive buffer so a burst of errors is not lost; FORCE
	 * needs CAP_NET_ADMIN, which sending needs anyway. */
	(void)nl_set_rcvbuf(s->nl, NFTSET_RCVBUF);
	nl_set_other(s->nl, nftset_other, s);
	return s;
fail:
	nftset_close(s);
	return NULL;
}

void
nftset_close(struct nftset *s)
{
	struct nftset_batch *b, *next;

	if (s == NULL)
		return;
	/* What is still in flight is dropped without callbacks. */
	nl_close(s->nl);
	for (b = s->all; b != NULL; b = next) {
		next = b->next_all;
		nl_batch_free(b->nb);
		free(b->ops);
		free(b);
	}
	free(s->pending);
	free(s);
}

int
nftset_fd(const struct nftset *s)
{
	return nl_fd(s->nl);
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
nftset_add_port(struct nftset *s, const char *base, const struct addr *a,
    uint16_t port, uint32_t timeout_s)
{
	struct nftset_elem e;
	uint16_t be = htons(port);

	if (nftset_elem_addr(&e, false, base, a, timeout_s) == -1) {
		errno = EINVAL;
		return -1;
	}
	memcpy(e.data, &be, sizeof(be));
	e.datalen = sizeof(be);
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

static void
nftset_refused(struct nftset *s, const struct nftset_op *op, int error,
    const char *why)
{
	if (error == ENFILE && !op->e.del) {
		nftset_full_refused(s, op);
		return;
	}
	s->stats.errors++;
	if (s->ack)
		s->sync_failed++;
	log_warnx("nftset: table inet %s: %s", s->table, why);
}

/* Refused before it was sent (no room, no memory): why in words. */
static void
nftset_refused_here(struct nftset *s, const struct nftset_op *op, int error)
{
	char what[NL_LABEL_MAX], why[NL_LABEL_MAX + 64];

	snprintf(why, sizeof(why), "%s: not sent: %s", nftset_elem_label(
	    &op->e, what, sizeof(what)), strerror(error));
	nftset_refused(s, op, error, why);
}

/* --- batches --------------------------------------------------------- */

/* A batch with room for n changes, empty. */
static struct nftset_batch *
nftset_batch_get(struct nftset *s, size_t n)
{
	struct nftset_batch *b = s->free;

	if (b != NULL) {
		s->free = b->next_free;
	} else {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return NULL;
		if ((b->nb = nl_batch_new(NL_FRAME_NFT)) == NULL) {
			free(b);
			return NULL;
		}
		b->s = s;
		b->next_all = s->all;
		s->all = b;
	}
	b->n = 0;
	nl_batch_reset(b->nb, NL_FRAME_NFT);
	if (b->cap < n) {
		struct nftset_op *ops = realloc(b->ops, n * sizeof(*ops));

		if (ops == NULL) {
			b->next_free = s->free;
			s->free = b;
			return NULL;
		}
		b->ops = ops;
		b->cap = n;
	}
	return b;
}

static void
nftset_batch_put(struct nftset *s, struct nftset_batch *b)
{
	b->next_free = s->free;
	s->free = b;
}

/*
 * Send one batch holding pending ops [i, j) and move them in flight.
 * When it cannot be built or sent the ops are dropped and counted as
 * refused.
 */
static int
nftset_send(struct nftset *s, size_t i, size_t j)
{
	struct nftset_batch *b;
	char what[NL_LABEL_MAX], why[256];
	size_t k;
	int e;

	if (s->nbatches == NFTSET_MAX_OPS || s->nflight + (j - i) >
	    NFTSET_MAX_OPS || (b = nftset_batch_get(s, j - i)) == NULL) {
		/* Only when answers could not be read to free a place, or
		 * out of memory. */
		e = s->nbatches == NFTSET_MAX_OPS || s->nflight + (j - i) >
		    NFTSET_MAX_OPS ? ENOBUFS : ENOMEM;
		for (k = i; k < j; k++)
			nftset_refused_here(s, &s->pending[k], e);
		errno = e;
		return -1;
	}
	for (k = i; k < j; k++) {
		const struct nftset_op *op = &s->pending[k];
		void *p = nl_batch_put(b->nb, NFTSET_MSG_MAX);

		if (p == NULL)
			break;			/* out of memory: broken */
		/* 0 only for an element nftset_elem_* would not make. */
		if (nftset_build_elem_msg(p, NFTSET_MSG_MAX, s->table, &op->e,
		    0, s->ack) == 0)
			log_panic("nftset: table inet %s: set %s: a change "
			    "nftset_elem_* made has no message", s->table,
			    op->e.set);
		if (nl_batch_add(b->nb, "%s", nftset_elem_label(&op->e, what,
		    sizeof(what))) == -1)
			break;
		b->ops[b->n++] = *op;
		if (!op->single)
			s->stats.elements++;
	}
	if (nl_batch_broken(b->nb) || nl_send(s->nl, b->nb, NULL,
	    nftset_batch_done, b, NFTSET_SYNC_WAIT_MS) == -1) {
		e = nl_batch_broken(b->nb) ? ENOMEM : errno;
		nl_batch_why(b->nb, why, sizeof(why));
		log_warnx("nftset: table inet %s: %s", s->table, why);
		s->stats.errors += j - i;
		if (s->ack)
			s->sync_failed += j - i;
		nftset_batch_put(s, b);
		errno = e;
		return -1;
	}
	s->stats.batches++;
	s->nflight += b->n;
	s->nbatches++;
	return 0;
}

/*
 * A batch is settled (called from the netlink module's nl_process, inside
 * nftset_flush, nftset_process or nftset_sync, never inside a send).
 */
static void
nftset_batch_done(void *arg, struct nl_batch *nb)
{
	struct nftset_batch *b = arg;
	struct nftset *s = b->s;
	bool ok = nl_batch_ok(nb);
	char why[NL_LABEL_MAX + 128];

	for (size_t k = 0; k < b->n; k++) {
		struct nftset_op *op = &b->ops[k];
		int e;

		if (ok) {
			if (s->nfull > 0)
				nftset_full_applied(s, op);
			continue;
		}
		if (op->single) {
			if ((e = nl_batch_describe(nb, k, why, sizeof(why))) ==
			    0)
				e = EIO;	/* cannot be: nb is not ok */
			nftset_refused(s, op, e, why);
			continue;
		}
		/* Aborted with the batch (or outcome unknown): once more,
		 * alone. */
		if (s->npending < NFTSET_MAX_OPS) {
			s->pending[s->npending] = *op;
			s->pending[s->npending++].single = true;
		} else {
			nftset_refused_here(s, op, ENOBUFS);
		}
	}
	s->nflight -= b->n;
	s->nbatches--;
	nftset_batch_put(s, b);
}

/* Read the answers there are (non-blocking); settles batches. */
static void
nftset_read(struct nftset *s)
{
	const struct nl_stats *st;

	if (nl_process(s->nl, 0) == -1)
		log_warn("nftset: table inet %s: recv netlink answers",
		    s->table);
	st = nl_stats(s->nl);
	if (st->enobufs != s->enobufs_seen) {
		s->enobufs_seen = st->enobufs;
		log_warnx("nftset: table inet %s: recv netlink answers: %s "
		    "(answers lost)", s->table, strerror(ENOBUFS));
	}
}

int
nftset_flush(struct nftset *s)
{
	size_t i = 0, j;
	int rc = 0, e = 0;

	/* Settle what is in flight first: frees room and queues the single
	 * retries of failed batches into pending[]. */
	if (s->nbatches > 0)
		nftset_read(s);
	while (i < s->npending) {
		if (s->pending[i].single) {
			j = i + 1;
		} else {
			for (j = i; j < s->npending && j - i < NFTSET_PER_BATCH &&
			    !s->pending[j].single; j++)
				;
		}
		if ((s->nflight + (j - i) > NFTSET_MAX_OPS ||
		    s->nbatches == NFTSET_MAX_OPS) && s->nbatches > 0)
			nftset_read(s);
		if (nftset_send(s, i, j) == -1) {
			rc = -1;
			e = errno;
		}
		i = j;
	}
	s->npending = 0;
	if (rc == -1)
		errno = e;
	return rc;
}

void
nftset_process(struct nftset *s)
{
	nftset_read(s);
}

int
nftset_sync(struct nftset *s)
{
	int rc = 0, round;

	s->ack = true;
	s->sync_failed = 0;
	/* Round 1 sends everything; round 2 the retries of failed batches;
	 * a retry is never retried, so round 3 finds nothing to do. */
	for (round = 0; round < 3 && (s->npending > 0 || s->nbatches > 0);
	    round++) {
		if (nftset_flush(s) == -1)
			rc = -1;
		if (nl_wait(s->nl, NFTSET_SYNC_WAIT_MS) == -1) {
			log_warn("nftset: table inet %s: recv netlink answers",
			    s->table);
			rc = -1;
		}
	}
	s->ack = false;
	if (rc == 0 && s->sync_failed > 0) {
		errno = EIO;
		rc = -1;
	}
	return rc;
}

/* --- whole-set replacement (nftset_replace) -------------------------- */

#define NFTSET_REPLACE_CHUNK	4096	/* elements gathered before packing */
#define NFTSET_REPLACE_SETS	64	/* sets flushed in one replacement */

struct nftset_replace {
	char table[NFTSET_TABLE_MAX];
	struct nl_batch *b;
	size_t nsets;			/* flush messages at the batch's start */
	size_t nelems;			/* elements added so far */
	size_t nmsgs;			/* element messages in the batch */
	int error;			/* the first failure, 0: none */
	char why[512];			/* its words */
	struct nftset_elem chunk[NFTSET_REPLACE_CHUNK];	/* not yet packed */
	size_t nchunk;
};

static void
nftset_replace_fail(struct nftset_replace *r, int error, const char *why)
{
	if (r->error != 0)
		return;
	r->error = error;
	snprintf(r->why, sizeof(r->why), "%s", why);
}

/* The gathered elements into messages of the batch, packed. */
static void
nftset_replace_pack(struct nftset_replace *r)
{
	char first[NL_LABEL_MAX], last[NL_LABEL_MAX], why[NL_LABEL_MAX + 64];
	size_t i = 0, k, len;

	while (i < r->nchunk && r->error == 0) {
		const struct nftset_elem *e = &r->chunk[i];
		void *p = nl_batch_put(r->b, NFTSET_PACK_BYTES);

		if (p == NULL) {
			nftset_replace_fail(r, ENOMEM, "nftset: replace: "
			    "malloc: out of memory");
			break;
		}
		len = nftset_build_elems_msg(p, NFTSET_PACK_BYTES, r->table, e,
		    r->nchunk - i, &k, 0, true);
		if (len == 0 || k == 0) {
			snprintf(why, sizeof(why), "nftset: replace: %s cannot "
			    "be built", nftset_elem_label(e, first,
			    sizeof(first)));
			nftset_replace_fail(r, EINVAL, why);
			break;
		}
		/* "add element allow4 11.0.0.0/24" .. its last element */
		(void)nftset_elem_label(e, first, sizeof(first));
		(void)nftset_elem_label(&e[k - 1], last, sizeof(last));
		if (k == 1)
			(void)nl_batch_add(r->b, "%s", first);
		else
			(void)nl_batch_add(r->b, "%s .. %s (%zu elements)",
			    first, strrchr(last, ' ') + 1, k);
		r->nmsgs++;
		i += k;
	}
	r->nchunk = 0;
}

struct nftset_replace *
nftset_replace_begin(const char *table, const char *const *sets,
    size_t nsets, char *err, size_t errlen)
{
	struct nftset_replace *r;

	if (nsets > NFTSET_REPLACE_SETS) {
		snprintf(err, errlen, "nftset: replace: %zu sets, at most %d",
		    nsets, NFTSET_REPLACE_SETS);
		errno = E2BIG;
		return NULL;
	}
	if (strnlen(table, NFTSET_TABLE_MAX) >= NFTSET_TABLE_MAX ||
	    table[0] == '\0') {
		snprintf(err, errlen, "nftset: table name \"%.64s\": empty "
		    "or too long", table);
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->b = nl_batch_new(NL_FRAME_NFT)) == NULL) {
		int e = errno;

		snprintf(err, errlen, "nftset: replace: malloc: %s",
		    strerror(e));
		free(r);
		errno = e;
		return NULL;
	}
	snprintf(r->table, sizeof(r->table), "%s", table);
	/* begin, the flushes, the adds, end: every message acked */
	for (size_t i = 0; i < nsets; i++) {
		struct nlmsghdr *nlh;
		void *p;

		if (strnlen(sets[i], NFTSET_NAME_MAX) >= NFTSET_NAME_MAX) {
			snprintf(err, errlen, "nftset: set name \"%.32s\": "
			    "too long", sets[i]);
			nftset_replace_abort(r);
			errno = EINVAL;
			return NULL;
		}
		if ((p = nl_batch_put(r->b, NFTSET_MSG_MAX)) == NULL)
			break;
		nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_DELSETELEM,
		    NFPROTO_INET, NLM_F_ACK, 0);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i]);
		(void)nl_batch_add(r->b, "flush set %s", sets[i]);
	}
	r->nsets = nsets;
	return r;
}

int
nftset_replace_add(struct nftset_replace *r, const struct nftset_elem *e)
{
	if (r->error != 0)
		return -1;
	if (r->nelems >= NFTSET_REPLACE_MAX) {
		char why[128];

		snprintf(why, sizeof(why), "nftset: replace: more than %d "
		    "elements", NFTSET_REPLACE_MAX);
		nftset_replace_fail(r, E2BIG, why);
		return -1;
	}
	if (r->nchunk == NFTSET_REPLACE_CHUNK)
		nftset_replace_pack(r);
	r->chunk[r->nchunk++] = *e;
	r->nelems++;
	return r->error != 0 ? -1 : 0;
}

void
nftset_replace_abort(struct nftset_replace *r)
{
	if (r == NULL)
		return;
	nl_batch_free(r->b);
	free(r);
}

int
nftset_replace_commit(struct nftset_replace *r, char *err, size_t errlen)
{
	struct nl_sock *nl = NULL;
	char why[512];
	size_t acks;
	int rc = -1, saved = 0;

	nftset_replace_pack(r);
	if (r->error == 0 && nl_batch_broken(r->b))
		nftset_replace_fail(r, ENOMEM, "nftset: replace: malloc: out "
		    "of memory");
	if (r->error != 0) {
		snprintf(err, errlen, "%s", r->why);
		saved = r->error;
		goto out;
	}
	if ((nl = nl_open(NETLINK_NETFILTER, 0, why, sizeof(why))) == NULL) {
		saved = errno;
		snprintf(err, errlen, "nftset: %s", why);
		goto out;
	}
	/* Every message is acked and the kernel answers them all inside
	 * sendmsg, before we read: the default receive buffer holds a few
	 * hundred acks (bench/scale.sh saw ENOBUFS at 500 unpacked allow
	 * prefixes), so make room for all of them (about 1 KiB each as the
	 * socket counts them). */
	acks = r->nmsgs + r->nsets + 2;
	(void)nl_set_rcvbuf(nl, (size_t)NFTSET_RCVBUF > acks * 1024 ?
	    NFTSET_RCVBUF : (int)(acks * 1024));
	/* The kernel answers inside sendmsg; the deadline is only a guard. */
	if (nl_exchange(nl, r->b, NULL, NULL, NFTSET_SYNC_WAIT_MS, why,
	    sizeof(why)) == -1) {
		saved = errno;
		snprintf(err, errlen, "nftset: replace sets of table inet %s: "
		    "%s", r->table, why);
		goto out;
	}
	rc = 0;
out:
	nl_close(nl);
	nftset_replace_abort(r);
	if (rc == -1)
		errno = saved ? saved : EIO;
	return rc;
}

int
nftset_replace(const char *table, const char *const *sets, size_t nsets,
    const struct nftset_elem *elems, size_t nelems, char *err, size_t errlen)
{
	struct nftset_replace *r;

	if (nelems > NFTSET_REPLACE_MAX) {
		snprintf(err, errlen, "nftset: replace: %zu elements, at most "
		    "%d", nelems, NFTSET_REPLACE_MAX);
		errno = E2BIG;
		return -1;
	}
	if ((r = nftset_replace_begin(table, sets, nsets, err, errlen)) ==
	    NULL)
		return -1;
	for (size_t i = 0; i < nelems; i++)
		if (nftset_replace_add(r, &elems[i]) == -1)
			break;
	return nftset_replace_commit(r, err, errlen);
}
