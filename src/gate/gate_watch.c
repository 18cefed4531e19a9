/*
 * gate_watch.c - what the kernel let through without asking the gate, and
 * one log line per flood instead of one per packet.
 *
 * Exports gate_watch_new, gate_watch_free and gate_watch_stats (gate_int.h).
 * gate_new makes the watch once its queue is bound; it owns a netlink
 * socket of its own (the netlink module's, non-blocking, in the event
 * loop), the one dump request it reuses, and a timer.
 *
 * The kernel counts a fail-open accept nowhere (NOTES.md): a SYN that meets
 * a full queue is accepted without a packet id, one that meets a full
 * socket buffer after getting one.  So once a second the watch
 *  - asks for a dump of chain gate of our table and takes the packet
 *    counter of the rule that queues to our queue number (the kernel
 *    answers the dump's first part inside sendmsg, so the counter is read
 *    at that moment), and
 *  - reads id_sequence, the last id the kernel gave out, from
 *    /proc/net/netfilter/nfnetlink_queue (queue_kernel_stats), before it
 *    sends the request and again once the dump is complete.
 * SYNs that met a full queue = rule counter - ids given out, both counted
 * from the first reading; SYNs lost to the socket buffer = the ids we never
 * received (queue.c's id_gaps).  Their sum is the stats' "unjudged".
 * A counter is read somewhere between the two id readings (the kernel
 * writes the dump's first part inside sendmsg, the rest as we read, and
 * the queue rule is last in the chain), so the base takes the ids read
 * before and every later reading the ids read after: a SYN arriving in
 * between can make the figure low for one reading, never high, and the
 * figure is kept monotonic.  A rule with a new handle means the table was built
 * anew (smtpgate-nft install), its counter from zero: the readings start
 * over from it, what was counted before is kept.
 *
 * The same dump carries the counters of tempfail's retry rules (the rules
 * that look up wait4/6: early retries refused; retry4/6: retries passed),
 * summed over both families: the kernel decides those SYNs alone, and the
 * counters are how the gate knows of them (retry_early, retry_passed).
 *
 * Streaks: each tick compares the counters of what passes unjudged or is
 * refused (unjudged, overflow, rate_limited, dns_waited) with the last tick
 * and logs a line when one starts rising and one when it stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "gate_int.h"
#include "log.h"
#include "netlink.h"
#include "nftexpr.h"

#define GATE_WATCH_MS		1000	/* one reading a second */
#define GATE_WATCH_WAIT_MS	2000	/* a dump's deadline */
#define GATE_WATCH_CHAIN	"gate"
#define GATE_WATCH_MSG		1024	/* the dump request, bytes */

enum { GW_UNJUDGED, GW_OVERFLOW, GW_RATE, GW_WAITED, GW_MAX };

struct gate_streak {
	uint64_t last;			/* the counter at the last tick */
	uint64_t start;			/* its value when the streak began */
	int64_t start_ms;
	bool on;
};

struct gate_watch {
	struct gate *g;
	struct nl_sock *nl;
	bool registered;		/* its fd is in the event loop */
	struct nl_batch *req;		/* the dump request */
	char table[NFTSET_TABLE_MAX];
	uint16_t queue;
	struct ev_timer *tick;

	bool busy;			/* a dump is under way (req in flight) */
	bool found;			/* the dump had our queue rule */
	uint64_t rule_pkts;		/* its counter in this dump */
	uint64_t rule_handle;		/* and its handle */
	uint64_t early_pkts;		/* the wait rules' counters, summed */
	uint64_t passed_pkts;		/* the retry rules' */
	uint32_t ids_before;		/* id_sequence before the request */
	bool ids_ok;			/* ... and readable */

	bool have_base;			/* rule0 and ids0 are set */
	uint64_t rule0;			/* the first reading */
	uint32_t ids0;
	uint64_t handle0;		/* the rule's handle then */
	uint64_t before;		/* queue_full counted before that */
	bool warned;			/* the counter could not be read */

	struct gate_watch_stats st;
	struct gate_streak streak[GW_MAX];
};

/* --- the dump ------------------------------------------------------- */

struct gate_watch_rule {
	uint16_t queue;			/* ours */
	bool queues;			/* the rule queues to it */
	bool counted;			/* and has a counter */
	uint64_t pkts;
	int retry;			/* looks up wait (1) or retry (2) */
};

static int
gate_watch_expr(struct nftnl_expr *e, void *data)
{
	struct gate_watch_rule *r = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	enum nftrules_queue q;
	uint16_t num;

	if (name != NULL && strcmp(name, "counter") == 0) {
		r->counted = true;
		r->pkts = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	} else if (name != NULL && strcmp(name, "lookup") == 0) {
		const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);

		if (set != NULL && strncmp(set, "wait", 4) == 0)
			r->retry = 1;
		else if (set != NULL && strncmp(set, "retry", 5) == 0)
			r->retry = 2;
	} else if (nftexpr_queue_of(e, &q, &num) == 1 && num == r->queue) {
		r->queues = true;
	}
	return MNL_CB_OK;
}

static int
gate_watch_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gate_watch *w = data;
	struct gate_watch_rule r = { .queue = w->queue };
	struct nftnl_rule *nr = nftnl_rule_alloc();
	uint64_t handle = 0;

	if (nr == NULL) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, nr) == 0) {
		(void)nftnl_expr_foreach(nr, gate_watch_expr, &r);
		if (nftnl_rule_is_set(nr, NFTNL_RULE_HANDLE))
			handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	}
	nftnl_rule_free(nr);
	if (r.retry == 1 && r.counted)
		w->early_pkts += r.pkts;
	else if (r.retry == 2 && r.counted)
		w->passed_pkts += r.pkts;
	if (r.queues && r.counted) {
		w->found = true;
		w->rule_pkts = r.pkts;
		w->rule_handle = handle;
	}
	return MNL_CB_OK;
}

static void
gate_watch_warn(struct gate_watch *w, const char *why)
{
	if (w->warned)
		return;
	w->warned = true;
	log_warnx("gate: cannot read the queue rule's counter of table inet "
	    "%s chain %s: %s; SYNs the kernel lets through unjudged are not "
	    "counted", w->table, GATE_WATCH_CHAIN, why);
}

/*
 * The retry rules' counters, and one line a tick while they rise: the
 * kernel passes and refuses those SYNs without the daemon.
 */
static void
gate_watch_retries(struct gate_watch *w)
{
	uint64_t early = w->early_pkts, passed = w->passed_pkts;

	if (passed > w->st.retry_passed && w->have_base)
		log_info("gate: retry=passed n=%llu (in the kernel, since the "
		    "last reading; retry_passed=%llu)",
		    (unsigned long long)(passed - w->st.retry_passed),
		    (unsigned long long)passed);
	if (early > w->st.retry_early && w->have_base)
		log_info("gate: retry=early n=%llu (refused in the kernel "
		    "before retry_min, since the last reading; "
		    "retry_early=%llu)",
		    (unsigned long long)(early - w->st.retry_early),
		    (unsigned long long)early);
	w->st.retry_early = early;
	w->st.retry_passed = passed;
}

/* A dump is complete: turn the readings into the unjudged counters. */
static void
gate_watch_done(struct gate_watch *w)
{
	struct queue_kernel k;
	uint32_t ids_after = 0;

	w->busy = false;
	gate_watch_retries(w);
	if (w->ids_ok && queue_kernel_stats(w->g->q, &k) == 0) {
		ids_after = k.id_sequence;
		w->st.held = k.held;
	} else {
		w->ids_ok = false;
	}
	if (!w->found || !w->ids_ok) {
		gate_watch_warn(w, !w->found ? "no counted queue rule for our "
		    "queue" : "/proc/net/netfilter/nfnetlink_queue has no line "
		    "for our queue");
		return;
	}
	if (!w->have_base || w->rule_handle != w->handle0 ||
	    w->rule_pkts < w->rule0) {
		/* The first reading, or the table was built anew. */
		w->have_base = true;
		w->rule0 = w->rule_pkts;
		w->ids0 = w->ids_before;
		w->handle0 = w->rule_handle;
		w->before = w->st.queue_full;
		return;
	}
	uint64_t counted = w->rule_pkts - w->rule0;
	uint64_t ids = (uint32_t)(ids_after - w->ids0);
	if (counted > ids && w->before + counted - ids > w->st.queue_full)
		w->st.queue_full = w->before + counted - ids;
}

/* The dump is settled (called from nl_process, never inside the send). */
static void
gate_watch_answered(void *arg, struct nl_batch *b)
{
	struct gate_watch *w = arg;
	char why[NL_LABEL_MAX + 64];

	w->busy = false;
	if (nl_batch_ok(b)) {
		gate_watch_done(w);
		return;
	}
	/* ENOBUFS: parts lost; the rest come as stale answers; the next
	 * tick asks again. */
	nl_batch_why(b, why, sizeof(why));
	gate_watch_warn(w, why);
}

static void
gate_watch_readable(int fd, uint32_t events, void *arg)
{
	struct gate_watch *w = arg;

	(void)fd;
	(void)events;
	if (nl_process(w->nl, 0) == -1)
		gate_watch_warn(w, strerror(errno));
}

/* Ask for chain gate's rules, then read the kernel's id counter. */
static void
gate_watch_request(struct gate_watch *w)
{
	char why[NL_LABEL_MAX + 64];
	struct queue_kernel k;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	if ((r = nftnl_rule_alloc()) == NULL)
		return;
	nl_batch_reset(w->req, NL_FRAME_NONE);
	if ((nlh = nl_batch_put(w->req, GATE_WATCH_MSG)) == NULL) {
		nftnl_rule_free(r);
		return;
	}
	w->ids_ok = queue_kernel_stats(w->g->q, &k) == 0;
	if (w->ids_ok)
		w->ids_before = k.id_sequence;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, w->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, GATE_WATCH_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nlh = nftnl_nlmsg_build_hdr((char *)nlh, NFT_MSG_GETRULE, NFPROTO_INET,
	    NLM_F_DUMP, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	(void)nl_batch_add_dump(w->req, "list rules of inet %s chain %s",
	    w->table, GATE_WATCH_CHAIN);
	w->found = false;
	w->early_pkts = w->passed_pkts = 0;
	if (nl_send(w->nl, w->req, gate_watch_rule_cb, gate_watch_answered, w,
	    GATE_WATCH_WAIT_MS) == -1) {
		nl_batch_why(w->req, why, sizeof(why));
		gate_watch_warn(w, why);
		return;
	}
	w->busy = true;
}

/* --- streaks -------------------------------------------------------- */

static void
gate_watch_streak(struct gate_watch *w, int i, uint64_t now_total)
{
	static const char *const what[GW_MAX] = {
		[GW_UNJUDGED] = "SYNs passed unjudged by the kernel (queue or "
		    "socket buffer full: see queue_maxlen)",
		[GW_OVERFLOW] = "SYNs accepted unjudged (max_pending addresses "
		    "under lookup)",
		[GW_RATE] = "SYNs dropped unjudged (their /24 or /64 over "
		    "lookup_burst and lookup_rate)",
		[GW_WAITED] = "addresses given the dns_error action after "
		    "waiting for a DNS slot until deadline_ms (dns_concurrency)",
	};
	struct gate_streak *s = &w->streak[i];
	int64_t now = evloop_now_ms(w->g->ev);

	if (now_total > s->last && !s->on) {
		s->on = true;
		s->start = s->last;
		s->start_ms = now;
		log_warnx("gate: flood: %llu %s in the last second",
		    (unsigned long long)(now_total - s->last), what[i]);
	} else if (now_total == s->last && s->on) {
		s->on = false;
		log_warnx("gate: flood over: %llu %s in %lld s",
		    (unsigned long long)(now_total - s->start), what[i],
		    (long long)((now - s->start_ms + 500) / 1000));
	}
	s->last = now_total;
}

static void
gate_watch_tick(void *arg)
{
	struct gate_watch *w = arg;
	struct gate *g = w->g;
	const struct queue_stats *qs = queue_stats(g->q);

	w->tick = NULL;
	w->st.sockbuf = qs->id_gaps;
	gate_watch_streak(w, GW_UNJUDGED, w->st.queue_full + w->st.sockbuf);
	gate_watch_streak(w, GW_OVERFLOW, g->st.overflow);
	gate_watch_streak(w, GW_RATE, g->st.rate_limited);
	gate_watch_streak(w, GW_WAITED, g->st.dns_waited);
	/* A dump past its deadline settles here, if nothing was read. */
	if (w->busy && nl_process(w->nl, 0) == -1)
		gate_watch_warn(w, strerror(errno));
	if (!w->busy)
		gate_watch_request(w);
	w->tick = evloop_timer_at(g->ev, evloop_now_ms(g->ev) + GATE_WATCH_MS,
	    gate_watch_tick, w);
}

/* --- life ----------------------------------------------------------- */

struct gate_watch *
gate_watch_new(struct gate *g, char *err, size_t errlen)
{
	struct gate_watch *w = calloc(1, sizeof(*w));
	const struct conf *c = &g->cfg->conf;
	char why[256];

	if (w == NULL || (w->req = nl_batch_new(NL_FRAME_NONE)) == NULL) {
		snprintf(err, errlen, "gate watch: out of memory");
		goto fail;
	}
	w->g = g;
	w->queue = c->gate.queue;
	snprintf(w->table, sizeof(w->table), "%s", c->nft.table);
	if ((w->nl = nl_open(NETLINK_NETFILTER, 0, why, sizeof(why))) ==
	    NULL) {
		snprintf(err, errlen, "gate watch: %s", why);
		goto fail;
	}
	if (evloop_fd_add(g->ev, nl_fd(w->nl), EPOLLIN, gate_watch_readable,
	    w) == -1) {
		snprintf(err, errlen, "gate watch: epoll add: %s",
		    strerror(errno));
		goto fail;
	}
	w->registered = true;
	/* The first reading is the base: take it now. */
	gate_watch_request(w);
	w->tick = evloop_timer_at(g->ev, evloop_now_ms(g->ev) + GATE_WATCH_MS,
	    gate_watch_tick, w);
	if (w->tick == NULL) {
		snprintf(err, errlen, "gate watch: out of memory");
		goto fail;
	}
	return w;
fail:
	gate_watch_free(w);
	return NULL;
}

void
gate_watch_free(struct gate_watch *w)
{
	if (w == NULL)
		return;
	if (w->tick != NULL)
		evloop_timer_cancel(w->g->ev, w->tick);
	if (w->registered)
		(void)evloop_fd_del(w->g->ev, nl_fd(w->nl));
	/* A dump in flight is dropped without its callback. */
	nl_close(w->nl);
	nl_batch_free(w->req);
	free(w);
}

const struct gate_watch_stats *
gate_watch_stats(const struct gate_watch *w)
{
	return &w->st;
}
