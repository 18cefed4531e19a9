/*
 * gate_watch.c - what the kernel let through without asking the gate, and
 * one log line per flood instead of one per packet.
 *
 * Exports gate_watch_new, gate_watch_free and gate_watch_stats (gate_int.h).
 * gate_new makes the watch once its queue is bound; it owns a netlink
 * socket of its own (non-blocking, in the event loop) and a timer.
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
 * Streaks: each tick compares the counters of what passes unjudged or is
 * refused (unjudged, overflow, rate_limited, dns_waited) with the last tick
 * and logs a line when one starts rising and one when it stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "gate_int.h"
#include "log.h"

#define GATE_WATCH_MS		1000	/* one reading a second */
#define GATE_WATCH_CHAIN	"gate"

enum { GW_UNJUDGED, GW_OVERFLOW, GW_RATE, GW_WAITED, GW_MAX };

struct gate_streak {
	uint64_t last;			/* the counter at the last tick */
	uint64_t start;			/* its value when the streak began */
	int64_t start_ms;
	bool on;
};

struct gate_watch {
	struct gate *g;
	struct mnl_socket *nl;
	int fd;
	uint32_t portid, seq;
	char table[NFTSET_TABLE_MAX];
	uint16_t queue;
	struct ev_timer *tick;
	char *buf;			/* MNL_SOCKET_BUFFER_SIZE */

	bool busy;			/* a dump is under way */
	bool found;			/* the dump had our queue rule */
	uint64_t rule_pkts;		/* its counter in this dump */
	uint64_t rule_handle;		/* and its handle */
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
};

static int
gate_watch_expr(struct nftnl_expr *e, void *data)
{
	struct gate_watch_rule *r = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const struct xt_NFQ_info_v3 *info;
	uint32_t len = 0;

	if (name == NULL)
		return MNL_CB_OK;
	if (strcmp(name, "counter") == 0) {
		r->counted = true;
		r->pkts = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	} else if (strcmp(name, "queue") == 0) {
		if (nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM) == r->queue)
			r->queues = true;
	} else if (strcmp(name, "target") == 0 &&
	    nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME) != NULL &&
	    strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "NFQUEUE") ==
	    0) {
		info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
		/* Revisions 1-3 all start with queuenum. */
		if (info != NULL && len >= sizeof(uint16_t) &&
		    info->queuenum == r->queue)
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

	if (nr == NULL)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, nr) == 0) {
		(void)nftnl_expr_foreach(nr, gate_watch_expr, &r);
		if (nftnl_rule_is_set(nr, NFTNL_RULE_HANDLE))
			handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	}
	nftnl_rule_free(nr);
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

/* A dump is complete: turn the readings into the unjudged counters. */
static void
gate_watch_done(struct gate_watch *w)
{
	struct queue_kernel k;
	uint32_t ids_after = 0;

	w->busy = false;
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

static void
gate_watch_readable(int fd, uint32_t events, void *arg)
{
	struct gate_watch *w = arg;
	ssize_t n;
	int rc;

	(void)fd;
	(void)events;
	for (;;) {
		n = recv(w->fd, w->buf, MNL_SOCKET_BUFFER_SIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			/* ENOBUFS: parts lost; read the rest, retry next tick. */
			gate_watch_warn(w, strerror(errno));
			w->busy = false;
			continue;
		}
		if (!w->busy)
			continue;		/* the rest of an abandoned dump */
		rc = mnl_cb_run(w->buf, (size_t)n, w->seq, w->portid,
		    gate_watch_rule_cb, w);
		if (rc == MNL_CB_STOP) {
			gate_watch_done(w);
		} else if (rc == MNL_CB_ERROR) {
			gate_watch_warn(w, strerror(errno));
			w->busy = false;
		}
	}
}

/* Ask for chain gate's rules, then read the kernel's id counter. */
static void
gate_watch_request(struct gate_watch *w)
{
	char buf[1024] __attribute__((aligned(8)));
	struct queue_kernel k;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;

	if ((r = nftnl_rule_alloc()) == NULL)
		return;
	w->ids_ok = queue_kernel_stats(w->g->q, &k) == 0;
	if (w->ids_ok)
		w->ids_before = k.id_sequence;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, w->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, GATE_WATCH_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (++w->seq == 0)
		w->seq = 1;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
	    NLM_F_DUMP, w->seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	w->found = false;
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0) {
		gate_watch_warn(w, strerror(errno));
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

	if (w == NULL || (w->buf = malloc(MNL_SOCKET_BUFFER_SIZE)) == NULL) {
		snprintf(err, errlen, "gate watch: out of memory");
		goto fail;
	}
	w->g = g;
	w->fd = -1;
	w->queue = c->gate.queue;
	snprintf(w->table, sizeof(w->table), "%s", c->nft.table);
	w->seq = (uint32_t)time(NULL);
	if ((w->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "gate watch: netlink socket: %s",
		    strerror(errno));
		goto fail;
	}
	w->fd = mnl_socket_get_fd(w->nl);
	w->portid = mnl_socket_get_portid(w->nl);
	if (evloop_fd_add(g->ev, w->fd, EPOLLIN, gate_watch_readable, w) ==
	    -1) {
		snprintf(err, errlen, "gate watch: epoll add: %s",
		    strerror(errno));
		mnl_socket_close(w->nl);
		w->nl = NULL;
		goto fail;
	}
	/* The first reading is the base: take it now. */
	gate_watch_request(w);
	w->tick = evloop_timer_at(g->ev, evloop_now_ms(g->ev) + GATE_WATCH_MS,
	    gate_watch_tick, w);
	if (w->tick == NULL) {
		snprintf(err, errlen, "gate watch: out of memory");
		gate_watch_free(w);
		return NULL;
	}
	return w;
fail:
	if (w != NULL) {
		if (w->nl != NULL)
			mnl_socket_close(w->nl);
		free(w->buf);
		free(w);
	}
	return NULL;
}

void
gate_watch_free(struct gate_watch *w)
{
	if (w == NULL)
		return;
	if (w->tick != NULL)
		evloop_timer_cancel(w->g->ev, w->tick);
	if (w->nl != NULL) {
		(void)evloop_fd_del(w->g->ev, w->fd);
		mnl_socket_close(w->nl);
	}
	free(w->buf);
	free(w);
}

const struct gate_watch_stats *
gate_watch_stats(const struct gate_watch *w)
{
	return &w->st;
}
