/*
 * gate_retry.c - the log lines of tempfail's retries, which the kernel
 * decides without the daemon.
 *
 * The ruleset's retry rules note each source they act on in a dynamic set
 * of its own (nftrules_rule.c): the rule that refuses an early retry adds
 * its address to early4/6, the one that passes a retry to retried4/6
 * (both with a timeout of their own, so they empty themselves while no
 * daemon reads them).  Once a second this file dumps those sets, one dump
 * after the other on its own netlink socket in the event loop (a socket
 * runs one dump at a time), and when they hold anything the wait or retry
 * set of that family too, for the times; logs one line per noted address,
 *   retry=passed ip=203.0.113.52 key=203.0.113.0/24 after=412s
 *   retry=early ip=203.0.113.51 key=203.0.113.0/24 pass_in=288s
 * (after: since the key's first refused SYN, from its retry element's age;
 * "?" when that element is gone), at most GATE_RETRY_LINES a second with
 * one line for the rest; and deletes the noted elements (through the
 * gate's nftset, sent at the end of the turn), so each retry is logged
 * once.  A noted address that retries again before its element is deleted
 * is one line; the counters retry_early and retry_passed (gate_watch.c,
 * the rules' own counters) count every packet.
 *
 * Exports gate_retry_new and gate_retry_free (gate_int.h).  gate_new makes
 * it after the watch; it owns its socket, its one request and its timer.
 * A table without the note sets (built by an older smtpgate-nft) is logged
 * once, and the dumps stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "gate_int.h"
#include "log.h"
#include "netlink.h"
#include "retry.h"

#define GATE_RETRY_MS		1000	/* one drain a second */
#define GATE_RETRY_WAIT_MS	2000	/* a dump's deadline */
#define GATE_RETRY_MSG		512	/* the dump request, bytes */
#define GATE_RETRY_LINES	100	/* log lines a drain at most */
#define GATE_RETRY_MAX		65536	/* elements read from one dump */

/* One element as dumped. */
struct gate_retry_elem {
	struct addr a;
	uint64_t timeout_ms, expires_ms;
};

struct gate_retry_list {
	struct gate_retry_elem *e;
	size_t n, cap;
};

/* The dumps of a drain, in order; a step may be skipped (need). */
enum {
	GR_RETRIED4, GR_RETRIED6, GR_EARLY4, GR_EARLY6, GR_RETRY4, GR_RETRY6,
	GR_WAIT4, GR_WAIT6, GR_STEPS
};

static const char *const gate_retry_sets[GR_STEPS] = {
	"retried4", "retried6", "early4", "early6", "retry4", "retry6",
	"wait4", "wait6",
};

struct gate_retry {
	struct gate *g;
	struct nl_sock *nl;
	bool registered;		/* its fd is in the event loop */
	struct nl_batch *req;
	char table[NFTSET_TABLE_MAX];
	struct ev_timer *tick;
	struct ev_timer *step_timer;	/* the next dump of a drain */
	int step;			/* the dump under way, or GR_STEPS */
	bool busy;
	bool stopped;			/* the table lacks the note sets */
	bool warned;
	bool oom;			/* this dump ran out of memory */
	struct gate_retry_list l[GR_STEPS];
};

static void gate_retry_next(struct gate_retry *r);

static void
gate_retry_step(void *arg)
{
	struct gate_retry *r = arg;

	r->step_timer = NULL;
	gate_retry_next(r);
}

static void
gate_retry_warn(struct gate_retry *r, const char *why)
{
	if (r->warned)
		return;
	r->warned = true;
	log_warnx("gate: cannot read the retry note sets of table inet %s: "
	    "%s; tempfail's retries are counted (retry_early, retry_passed) "
	    "but not logged one by one", r->table, why);
}

static int
gate_retry_elem(const struct nftset_dumped *d, void *arg)
{
	struct gate_retry *r = arg;
	struct gate_retry_list *l = &r->l[r->step];
	struct gate_retry_elem *x;

	if (l->n >= GATE_RETRY_MAX)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct gate_retry_elem *ne = realloc(l->e, cap * sizeof(*ne));

		if (ne == NULL) {
			r->oom = true;
			return -1;
		}
		l->e = ne;
		l->cap = cap;
	}
	x = &l->e[l->n++];
	x->a = d->a;
	x->timeout_ms = d->timeout_ms;
	x->expires_ms = d->expires_ms;
	return 0;
}

static int
gate_retry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gate_retry *r = data;

	if (nftset_dump_elems(nlh, gate_retry_elem, r) == -1 &&
	    errno == ENOMEM)
		r->oom = true;
	return MNL_CB_OK;
}

static const struct gate_retry_elem *
gate_retry_find(const struct gate_retry_list *l, const struct addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (addr_eq(&l->e[i].a, a))
			return &l->e[i];
	return NULL;
}

static struct retry_elem
gate_retry_elem_of(const struct gate_retry_elem *e)
{
	struct retry_elem x = { 0 };

	if (e != NULL)
		x = (struct retry_elem){ true, e->timeout_ms, e->expires_ms };
	return x;
}

/* One noted address: its line (while lines are left), its note deleted. */
static void
gate_retry_note(struct gate_retry *r, bool passed, int fam,
    const struct gate_retry_elem *n, size_t *lines)
{
	const struct conf_gate *cg = &r->g->cfg->conf.gate;
	char ip[ADDR_STRLEN], k[ADDR_STRLEN];
	struct retry_elem we, re;
	struct retry_status st;
	struct addr key;

	retry_key(cg, &n->a, &key);
	we = gate_retry_elem_of(gate_retry_find(&r->l[GR_WAIT4 + fam], &key));
	re = gate_retry_elem_of(gate_retry_find(&r->l[GR_RETRY4 + fam],
	    &key));
	retry_status_of(&we, &re, &st);
	if (*lines < GATE_RETRY_LINES) {
		addr_ntop(&n->a, ip);
		addr_ntop(&key, k);
		if (passed && st.age_known)
			log_info("retry=passed ip=%s key=%s/%u after=%llus", ip,
			    k, retry_key_plen(cg, key.family),
			    (unsigned long long)(st.age_ms / 1000));
		else if (passed)
			log_info("retry=passed ip=%s key=%s/%u after=?", ip, k,
			    retry_key_plen(cg, key.family));
		else
			log_info("retry=early ip=%s key=%s/%u pass_in=%llus", ip,
			    k, retry_key_plen(cg, key.family),
			    (unsigned long long)((st.pass_in_ms + 999) / 1000));
	}
	(*lines)++;
	if (passed)
		gate_journal_retried(r->g, &n->a);
	(void)nftset_del(r->g->nft, passed ? "retried" : "early", &n->a);
}

/* Every dump of the drain is in: log, delete the notes, start afresh. */
static void
gate_retry_drained(struct gate_retry *r)
{
	size_t lines = 0;

	for (int fam = 0; fam < 2; fam++) {
		for (size_t i = 0; i < r->l[GR_RETRIED4 + fam].n; i++)
			gate_retry_note(r, true, fam,
			    &r->l[GR_RETRIED4 + fam].e[i], &lines);
		for (size_t i = 0; i < r->l[GR_EARLY4 + fam].n; i++)
			gate_retry_note(r, false, fam,
			    &r->l[GR_EARLY4 + fam].e[i], &lines);
	}
	if (lines > GATE_RETRY_LINES)
		log_info("retry: %zu more retries noted in the last second "
		    "(not logged one by one)", lines - GATE_RETRY_LINES);
	for (int i = 0; i < GR_STEPS; i++)
		r->l[i].n = 0;
}

/* The dump of step settled (from nl_process, never inside the send). */
static void
gate_retry_answered(void *arg, struct nl_batch *b)
{
	struct gate_retry *r = arg;
	char why[NL_LABEL_MAX + 64];

	r->busy = false;
	if (!nl_batch_ok(b)) {
		/* No such set: a table built before the note sets. */
		if (nl_batch_why(b, why, sizeof(why)) == ENOENT)
			r->stopped = true;
		gate_retry_warn(r, why);
		for (int i = 0; i < GR_STEPS; i++)
			r->l[i].n = 0;
		r->step = GR_STEPS;
		return;
	}
	if (r->oom)
		gate_retry_warn(r, "out of memory");
	r->step++;
	/* The next dump from the loop, not from inside nl_process. */
	r->step_timer = evloop_timer_at(r->g->ev, evloop_now_ms(r->g->ev),
	    gate_retry_step, r);
	if (r->step_timer == NULL)
		r->step = GR_STEPS;
}

/* Is the dump of step needed?  The wait and retry sets only for the
 * notes of their family. */
static bool
gate_retry_needed(const struct gate_retry *r, int step)
{
	if (step >= GR_RETRY4 && step <= GR_RETRY6)
		return r->l[GR_RETRIED4 + (step - GR_RETRY4)].n > 0;
	if (step >= GR_WAIT4)
		return r->l[GR_EARLY4 + (step - GR_WAIT4)].n > 0;
	return true;
}

static void
gate_retry_next(struct gate_retry *r)
{
	char why[NL_LABEL_MAX + 64];
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	while (r->step < GR_STEPS && !gate_retry_needed(r, r->step))
		r->step++;
	if (r->step >= GR_STEPS) {
		gate_retry_drained(r);
		return;
	}
	if ((s = nftnl_set_alloc()) == NULL) {
		r->step = GR_STEPS;
		return;
	}
	nl_batch_reset(r->req, NL_FRAME_NONE);
	if ((nlh = nl_batch_put(r->req, GATE_RETRY_MSG)) == NULL) {
		nftnl_set_free(s);
		r->step = GR_STEPS;
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, r->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, gate_retry_sets[r->step]);
	nlh = nftnl_nlmsg_build_hdr((char *)nlh, NFT_MSG_GETSETELEM,
	    NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	(void)nl_batch_add_dump(r->req, "list set inet %s %s", r->table,
	    gate_retry_sets[r->step]);
	r->oom = false;
	if (nl_send(r->nl, r->req, gate_retry_cb, gate_retry_answered, r,
	    GATE_RETRY_WAIT_MS) == -1) {
		nl_batch_why(r->req, why, sizeof(why));
		gate_retry_warn(r, why);
		r->step = GR_STEPS;
		return;
	}
	r->busy = true;
}

static void
gate_retry_readable(int fd, uint32_t events, void *arg)
{
	struct gate_retry *r = arg;

	(void)fd;
	(void)events;
	if (nl_process(r->nl, 0) == -1)
		gate_retry_warn(r, strerror(errno));
}

static void
gate_retry_tick(void *arg)
{
	struct gate_retry *r = arg;
	struct gate *g = r->g;

	r->tick = NULL;
	/* A dump past its deadline settles here, if nothing was read. */
	if (r->busy && nl_process(r->nl, 0) == -1)
		gate_retry_warn(r, strerror(errno));
	if (!r->busy && r->step_timer == NULL && !r->stopped) {
		r->step = 0;
		gate_retry_next(r);
	}
	r->tick = evloop_timer_at(g->ev, evloop_now_ms(g->ev) + GATE_RETRY_MS,
	    gate_retry_tick, r);
}

struct gate_retry *
gate_retry_new(struct gate *g, char *err, size_t errlen)
{
	struct gate_retry *r = calloc(1, sizeof(*r));
	char why[256];

	if (r == NULL || (r->req = nl_batch_new(NL_FRAME_NONE)) == NULL) {
		snprintf(err, errlen, "gate retry notes: out of memory");
		goto fail;
	}
	r->g = g;
	r->step = GR_STEPS;
	snprintf(r->table, sizeof(r->table), "%s", g->cfg->conf.nft.table);
	if ((r->nl = nl_open(NETLINK_NETFILTER, 0, why, sizeof(why))) ==
	    NULL) {
		snprintf(err, errlen, "gate retry notes: %s", why);
		goto fail;
	}
	if (evloop_fd_add(g->ev, nl_fd(r->nl), EPOLLIN, gate_retry_readable,
	    r) == -1) {
		snprintf(err, errlen, "gate retry notes: epoll add: %s",
		    strerror(errno));
		goto fail;
	}
	r->registered = true;
	r->tick = evloop_timer_at(g->ev, evloop_now_ms(g->ev) + GATE_RETRY_MS,
	    gate_retry_tick, r);
	if (r->tick == NULL) {
		snprintf(err, errlen, "gate retry notes: out of memory");
		goto fail;
	}
	return r;
fail:
	gate_retry_free(r);
	return NULL;
}

void
gate_retry_free(struct gate_retry *r)
{
	if (r == NULL)
		return;
	if (r->tick != NULL)
		evloop_timer_cancel(r->g->ev, r->tick);
	if (r->step_timer != NULL)
		evloop_timer_cancel(r->g->ev, r->step_timer);
	if (r->registered)
		(void)evloop_fd_del(r->g->ev, nl_fd(r->nl));
	nl_close(r->nl);
	nl_batch_free(r->req);
	for (int i = 0; i < GR_STEPS; i++)
		free(r->l[i].e);
	free(r);
}
