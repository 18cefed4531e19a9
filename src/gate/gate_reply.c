/*
 * gate_reply.c - the responder: refusals that say why ([gate] reply =
 * smtp, [sniffer] reply = smtp; reply.h, smtpgate.conf(5) REPLIES).
 *
 * The kernel redirects a refused client's connection (nat chain reply of
 * our table) to one of REPLY_PORTS local ports, one per (kind, rule); the
 * responder listens on all of them in smtpgated's event loop.  Per
 * connection: accept, write the one line of the port (reply_line) at once,
 * shut the sending side (FIN), then read and discard what the client
 * sends (its QUIT) until it closes, at most GATE_REPLY_READ_MAX bytes and
 * reply_timeout seconds, and close.  It never parses client bytes.  It
 * holds nothing per client beyond the open connection: the reason is the
 * port, the address the socket's peer.  Beyond reply_max_conns
 * connections a new one is reset at once (accept, SO_LINGER 0, close).
 *
 * gate_reply_note (from gate_apply.c) is the other half: a refusal that
 * the responder is to answer puts the client in map reply4/reply6 with
 * the port of its reason, and its SYNs are dropped instead of reset, so
 * that the client's SYN retransmit (about 1 s later) is redirected: NAT
 * is decided at a connection's first packet in prerouting, before the
 * gate's input chain saw it.
 *
 * Exports gate_reply_new, gate_reply_free, gate_reply_note,
 * gate_reply_note_shared (a sibling's deny, gate_cluster.c) and
 * gate_reply_stats (gate_int.h).  gate_new opens it before the queue is
 * bound; gate_free closes it (open connections are closed).
 */
#define _GNU_SOURCE		/* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "gate_int.h"
#include "log.h"
#include "reply.h"

#define GATE_REPLY_ACCEPT_BATCH	64	/* accepts per readable event: the
					 * loop serves others in between */
#define GATE_REPLY_READ_MAX	4096	/* bytes read from a client at most */
#define GATE_REPLY_BACKLOG	4096	/* the kernel's accept queue */

/* One open connection: all the responder holds per client. */
struct gate_reply_conn {
	struct gate_reply *r;
	int fd;
	size_t got;			/* bytes read so far */
	struct ev_timer *timer;		/* reply_timeout */
	struct gate_reply_conn *prev, *next;
};

/* A listening socket's callback context. */
struct gate_reply_listen {
	struct gate_reply *r;
	int fd;
	enum reply_kind kind;
	enum reply_rule rule;
};

struct gate_reply {
	struct gate *g;
	uint16_t base;			/* reply_port at start */
	struct gate_reply_listen l[REPLY_PORTS];
	struct gate_reply_conn *conns;	/* open connections */
	uint32_t nconns;
	bool capped;			/* in a streak of resets at the cap */
	uint64_t capped_streak;		/* resets in that streak */
	struct gate_reply_stats st;
};

static void
gate_reply_close(struct gate_reply_conn *c)
{
	struct gate_reply *r = c->r;

	if (c->timer != NULL)
		evloop_timer_cancel(r->g->ev, c->timer);
	(void)evloop_fd_del(r->g->ev, c->fd);
	(void)close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	r->nconns--;
	free(c);
}

static void
gate_reply_timeout(void *arg)
{
	struct gate_reply_conn *c = arg;

	c->timer = NULL;		/* fired */
	c->r->st.timeouts++;
	gate_reply_close(c);
}

/* What the client sends after our line: read, count, discard. */
static void
gate_reply_readable(int fd, uint32_t events, void *arg)
{
	struct gate_reply_conn *c = arg;
	char buf[1024];
	ssize_t n;

	(void)events;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			c->got += (size_t)n;
			if (c->got > GATE_REPLY_READ_MAX) {
				c->r->st.cut++;
				gate_reply_close(c);
				return;
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		gate_reply_close(c);	/* EOF, or reset by the client */
		return;
	}
}

/* Reset a connection at once: no line, no state. */
static void
gate_reply_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)close(fd);
}

/* The peer's address as the line writes it (IPv4-mapped as IPv4). */
static void
gate_reply_peer(const struct sockaddr_storage *ss, char *out)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (ss->ss_family == AF_INET6)
		addr_from_v6(&a, ((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr.s6_addr);
	else if (ss->ss_family == AF_INET)
		addr_from_v4(&a, (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)ss)->sin_addr.s_addr);
	else {
		snprintf(out, ADDR_STRLEN, "unknown");
		return;
	}
	(void)addr_ntop(&a, out);
}

/* One accepted connection: the line, FIN, then wait for the client's
 * close within the time bound. */
static void
gate_reply_serve(struct gate_reply_listen *l, int fd,
    const struct sockaddr_storage *ss)
{
	struct gate_reply *r = l->r;
	const struct conf_gate *cg = &r->g->cfg->conf.gate;
	struct gate_reply_conn *c;
	char line[REPLY_LINE_MAX + 1], peer[ADDR_STRLEN];
	size_t len;

	gate_reply_peer(ss, peer);
	len = reply_line(line, sizeof(line), l->kind, cg->reply_text[l->rule],
	    peer, cg->reply_url);
	/* A fresh socket's send buffer takes a line whole, or nothing. */
	if (len == 0 || send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)len) {
		r->st.failed++;
		gate_reply_reset(fd);
		return;
	}
	r->st.sent++;
	r->st.by_kind[l->kind]++;
	(void)shutdown(fd, SHUT_WR);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)close(fd);
		return;
	}
	c->r = r;
	c->fd = fd;
	c->timer = evloop_timer_at(r->g->ev, evloop_now_ms(r->g->ev) +
	    (int64_t)cg->reply_timeout_s * 1000, gate_reply_timeout, c);
	if (c->timer == NULL || evloop_fd_add(r->g->ev, fd, EPOLLIN,
	    gate_reply_readable, c) == -1) {
		if (c->timer != NULL)
			evloop_timer_cancel(r->g->ev, c->timer);
		(void)close(fd);
		free(c);
		return;
	}
	c->next = r->conns;
	if (r->conns != NULL)
		r->conns->prev = c;
	r->conns = c;
	r->nconns++;
	if (r->nconns > r->st.conns_max)
		r->st.conns_max = r->nconns;
}

static void
gate_reply_acceptable(int fd, uint32_t events, void *arg)
{
	struct gate_reply_listen *l = arg;
	struct gate_reply *r = l->r;
	struct sockaddr_storage ss;
	socklen_t sl;
	int cfd;

	(void)events;
	for (int i = 0; i < GATE_REPLY_ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE, ENFILE, ENOBUFS: the connection waits in
			 * the backlog; try again next turn. */
			r->st.accept_errors++;
			return;
		}
		if (r->nconns >= r->g->cfg->conf.gate.reply_max_conns) {
			r->st.capped++;
			r->capped_streak++;
			if (!r->capped) {
				r->capped = true;
				log_warnx("reply: %u connections open "
				    "(reply_max_conns): resetting new ones",
				    r->nconns);
			}
			gate_reply_reset(cfd);
			continue;
		}
		if (r->capped) {
			log_info("reply: below reply_max_conns again, %llu "
			    "connections were reset",
			    (unsigned long long)r->capped_streak);
			r->capped = false;
			r->capped_streak = 0;
		}
		gate_reply_serve(l, cfd, &ss);
	}
}

/* A listening socket on [::]:port for both families (0.0.0.0 when the
 * host has no IPv6).  -1 with err. */
static int
gate_reply_listen(uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd, one = 1, zero = 0, v6 = 1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && errno == EAFNOSUPPORT) {
		v6 = 0;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	}
	if (fd == -1) {
		snprintf(err, errlen, "reply: socket for port %u: %s", port,
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if ((v6 ? bind(fd, (struct sockaddr *)&s6, sizeof(s6)) :
	    bind(fd, (struct sockaddr *)&s4, sizeof(s4))) == -1 ||
	    listen(fd, GATE_REPLY_BACKLOG) == -1) {
		snprintf(err, errlen, "reply: bind/listen %s:%u: %s",
		    v6 ? "[::]" : "0.0.0.0", port, strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

struct gate_reply *
gate_reply_new(struct gate *g, char *err, size_t errlen)
{
	struct gate_reply *r = calloc(1, sizeof(*r));
	uint16_t port;

	if (r == NULL) {
		snprintf(err, errlen, "reply: out of memory");
		return NULL;
	}
	r->g = g;
	r->base = g->cfg->conf.gate.reply_port;
	for (size_t i = 0; i < REPLY_PORTS; i++)
		r->l[i].fd = -1;
	for (size_t i = 0; i < REPLY_PORTS; i++) {
		port = (uint16_t)(r->base + i);
		r->l[i].r = r;
		(void)reply_of_port(r->base, port, &r->l[i].kind,
		    &r->l[i].rule);
		if ((r->l[i].fd = gate_reply_listen(port, err, errlen)) == -1)
			goto fail;
		if (evloop_fd_add(g->ev, r->l[i].fd, EPOLLIN,
		    gate_reply_acceptable, &r->l[i]) == -1) {
			snprintf(err, errlen, "reply: epoll add port %u: %s",
			    port, strerror(errno));
			(void)close(r->l[i].fd);
			r->l[i].fd = -1;
			goto fail;
		}
	}
	log_info("reply: responder on ports %u-%u", r->base,
	    r->base + REPLY_PORTS - 1);
	return r;
fail:
	gate_reply_free(r);
	return NULL;
}

void
gate_reply_free(struct gate_reply *r)
{
	if (r == NULL)
		return;
	while (r->conns != NULL)
		gate_reply_close(r->conns);
	for (size_t i = 0; i < REPLY_PORTS; i++)
		if (r->l[i].fd != -1) {
			(void)evloop_fd_del(r->g->ev, r->l[i].fd);
			(void)close(r->l[i].fd);
		}
	free(r);
}

const struct gate_reply_stats *
gate_reply_stats(const struct gate_reply *r, uint32_t *open)
{
	static const struct gate_reply_stats none;

	*open = r != NULL ? r->nconns : 0;
	return r != NULL ? &r->st : &none;
}

/*
 * A refusal the responder answers (reply_for_verdict: a cached reject,
 * a tempfail): the client into reply4/reply6 with its reason's port, for
 * deny_ttl or retry_min; the queue verdict for its held SYNs
 * becomes a drop (their retransmits are redirected).  Anything else, or
 * when the element cannot be queued: qv unchanged (a reset, as with
 * reply = reset).
 */
enum queue_verdict
gate_reply_note(struct gate_lookup *lk, const struct verdict *v,
    enum queue_verdict qv)
{
	const struct conf_gate *cg = &lk->cfg->conf.gate;
	struct gate *g = lk->g;
	enum reply_kind kind;
	enum reply_rule rule;
	uint32_t ttl_s;
	char a[ADDR_STRLEN];

	if (!cg->reply_smtp || g->reply == NULL ||
	    !reply_for_verdict(v, &kind, &rule))
		return qv;
	ttl_s = kind == REPLY_TEMPFAIL ? cg->retry_min_s : cg->deny_ttl_s;
	if (nftset_add_port(g->nft, "reply", &lk->a, reply_port(g->reply->base,
	    kind, rule), ttl_s) == -1) {
		log_warn("gate: nftset_add reply %s", addr_ntop(&lk->a, a));
		return qv;
	}
	g->reply->st.noted++;
	return QUEUE_DROP;
}

/*
 * A sibling's deny of a (gate_cluster.c), reason its deciding reason
 * ("no-ptr", or a list "no-ptr,fcrdns": the first decides): a into
 * reply4/reply6 with that reason's 554 port for ttl_s, as gate_reply_note
 * would have put it had the verdict been made here.  Nothing when the
 * responder is off or the reason is none it explains (dnswl, unknown).
 */
void
gate_reply_note_shared(struct gate *g, const struct addr *a,
    const char *reason, uint32_t ttl_s)
{
	enum reply_rule rule;
	size_t len = strcspn(reason, ",");
	unsigned r;
	char s[ADDR_STRLEN];

	if (!g->cfg->conf.gate.reply_smtp || g->reply == NULL)
		return;
	for (r = 0; r < VERDICT_R_MAX; r++) {
		const char *name = verdict_reason_name((enum verdict_reason)r);

		if (name != NULL && strlen(name) == len &&
		    strncmp(name, reason, len) == 0)
			break;
	}
	if (r == VERDICT_R_MAX ||
	    !reply_rule_of_reason((enum verdict_reason)r, &rule))
		return;
	if (nftset_add_port(g->nft, "reply", a, reply_port(g->reply->base,
	    REPLY_REJECT, rule), ttl_s) == -1) {
		log_warn("gate: nftset_add reply %s", addr_ntop(a, s));
		return;
	}
	g->reply->st.noted++;
}
