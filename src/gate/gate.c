/*
 * gate.c - the SYN gate of smtpgated: its set-up and shutdown, the
 * configuration generations, reload, the allow list, and the loop's idle
 * turn.  The rest of the gate, one file per concern (gate_int.h):
 *
 *   gate_admit.c   queued packets: admission (rate, max_pending) and the
 *                  pacing of lookups into DNS slots
 *   gate_lookup.c  per-address lookups: the table, their queries and
 *                  answers (into findings.c), deadline, conclusion
 *   gate_apply.c   a verdict to the held SYNs, the kernel's sets, the
 *                  counters and the verdict line
 *   gate_dnsbl.c   the DNSBL health probes
 *   gate_watch.c   what the kernel let through unjudged
 *   gate_retry.c   tempfail's retries the kernel decided, logged
 *   gate_reply.c   the responder: refusals that say why (reply.h)
 *   gate_stats.c   the counters as one line
 *   gate_cluster.c verdicts shared with the site's other gateways
 *                  ([cluster]), siblings' applied
 *
 * What the DNS answers mean is findings.c's (the gate and smtpgatectl
 * check share it); the gate keeps the lifecycle: queries, deadline, held
 * SYNs, applying the verdict.
 *
 * Order: gate_new builds a generation (gate_cfg: the configuration, its
 * PTR classifier and DNSBL health), the lookup table, the resolver, the
 * nft writer, the allow sets (before the queue is bound, so an allowed
 * sender is never judged), then binds the queue and starts the probes.
 * gate_free accepts every SYN still held (fail open) before it goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "allowlist.h"
#include "gate.h"
#include "gate_int.h"
#include "log.h"

#define GATE_BUCKETS		65536
#define GATE_QUEUE_COPY		256	/* bytes of each packet we need */
#define GATE_RATE_KEYS		65536	/* prefixes whose lookup rate is kept */

void
gate_cfg_ref(struct gate_cfg *c)
{
	c->refs++;
}

void
gate_cfg_unref(struct gate_cfg *c)
{
	if (--c->refs > 0)
		return;
	ptrclass_free(c->pc);
	free(c);
}

static struct gate_cfg *
gate_cfg_new(struct gate *g, const struct conf *conf, char *err,
    size_t errlen)
{
	struct gate_cfg *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->conf = *conf;
	c->g = g;
	c->refs = 1;
	/*
	 * A configured table that does not load stops us: big senders whose
	 * names embed their address would be judged generic.
	 */
	if ((c->pc = conf_ptrclass_new(&conf->gate, err, errlen)) == NULL) {
		free(c);
		return NULL;
	}
	for (size_t z = 0; z < DNSBL_MAX_SITES; z++)
		c->health[z].enabled = true;
	return c;
}

/*
 * Once per loop turn: waiting lookups into the DNS slots freed, then one
 * nft batch for every verdict of the turn.
 */
static void
gate_idle(void *arg)
{
	struct gate *g = arg;

	gate_admit_pump(g);
	/* nftset logs what failed, with its table and cause. */
	(void)nftset_flush(g->nft);
}

static void
gate_nft_readable(int fd, uint32_t events, void *arg)
{
	struct gate *g = arg;

	(void)fd;
	(void)events;
	nftset_process(g->nft);
}

static void
gate_allow_expiry(void *arg)
{
	struct gate *g = arg;
	char err[512];

	g->allow_timer = NULL;
	(void)gate_allow_reload(g, err, sizeof(err));
}

/*
 * The kernel's allow sets: loopback, trusted_networks, the entries of the
 * allow file in force (as last read) and, with share_allow = yes, the
 * shared entries (gate_cluster.c), in one replace.  *next: the local
 * file's next expiry.
 */
static int
gate_allow_apply_at(struct gate *g, int64_t now, int64_t *next, char *err,
    size_t errlen)
{
	const struct conf *c = &g->cfg->conf;
	const struct allowlist *l = &g->allow_local;
	const struct allowshare_entry *sh;
	size_t nsh = gate_cluster_allow_shared(g, &sh), cap;
	struct allowlist m;
	struct prefix *want;
	ssize_t n;
	int rc = -1;

	allowlist_init(&m);
	cap = 2 + c->gate.ntrusted + l->n + nsh;
	if (allowshare_union(l, sh, nsh, &m) == -1 ||
	    (want = calloc(cap, sizeof(*want))) == NULL) {
		snprintf(err, errlen, "allow list: calloc %zu prefixes: %s",
		    cap, strerror(errno));
		allowlist_free(&m);
		return -1;
	}
	n = allowlist_wanted(&m, &c->gate, now, want, cap, next);
	if (n < 0)	/* cap counts every prefix allowlist_wanted adds */
		log_panic("allowlist_wanted: no room in %zu prefixes", cap);
	if (allowlist_apply(c->nft.table, want, (size_t)n, err, errlen) == 0)
		rc = 0;
	free(want);
	allowlist_free(&m);
	return rc;
}

int
gate_allow_apply(struct gate *g, char *err, size_t errlen)
{
	int64_t next = 0;

	if (gate_allow_apply_at(g, (int64_t)time(NULL), &next, err,
	    errlen) == -1) {
		log_warnx("%s (the kernel's allow sets are unchanged)", err);
		return -1;
	}
	return 0;
}

int
gate_allow_reload(struct gate *g, char *err, size_t errlen)
{
	const struct conf *c = &g->cfg->conf;
	int64_t now = (int64_t)time(NULL), next = 0;
	const struct allowshare_entry *sh;
	struct allowlist l;
	size_t n = 0, nsh;

	if (g->allow_timer != NULL) {
		evloop_timer_cancel(g->ev, g->allow_timer);
		g->allow_timer = NULL;
	}
	allowlist_init(&l);
	if (allowlist_load(c->nft.allow_file, true, NULL, &l, err,
	    errlen) == -1) {
		log_warnx("%s (the kernel's allow sets are unchanged)", err);
		return -1;
	}
	allowlist_free(&g->allow_local);
	g->allow_local = l;
	/* The changes shared before the sets are replaced: a prefix this
	 * node shared and dropped from its file leaves the shared list. */
	gate_cluster_allow_loaded(g);
	if (gate_allow_apply_at(g, now, &next, err, errlen) == -1) {
		log_warnx("%s (the kernel's allow sets are unchanged)", err);
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.e[i].expires == 0 || l.e[i].expires > now)
			n++;
	if ((nsh = gate_cluster_allow_shared(g, &sh)) > 0)
		log_info("allow list: %zu entr%s in force from %s; shared "
		    "list: %zu entr%s", n, n == 1 ? "y" : "ies",
		    c->nft.allow_file, nsh, nsh == 1 ? "y" : "ies");
	else
		log_info("allow list: %zu entr%s in force from %s", n,
		    n == 1 ? "y" : "ies", c->nft.allow_file);
	gate_journal_allowed(g);
	/* An expiry needs the sets rebuilt: interval sets have no timeouts. */
	if (next > now)
		g->allow_timer = evloop_timer_at(g->ev, evloop_now_ms(g->ev) +
		    (next - now) * 1000 + 500, gate_allow_expiry, g);
	return 0;
}

struct gate *
gate_new(struct evloop *ev, const struct conf *c, char *err, size_t errlen)
{
	struct gate *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->ev = ev;
	g->nbuckets = GATE_BUCKETS;
	if ((g->bucket = calloc(g->nbuckets, sizeof(*g->bucket))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (siphash_key_random(&g->hkey) == -1) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if ((g->cfg = gate_cfg_new(g, c, err, errlen)) == NULL)
		goto fail;
	if ((g->rate = ratelimit_new(GATE_RATE_KEYS, c->gate.lookup_burst,
	    c->gate.lookup_rate)) == NULL) {
		snprintf(err, errlen, "gate: lookup rate table: %s",
		    strerror(errno));
		goto fail;
	}
	if ((g->dns = dns_new(ev, &c->dns, err, errlen)) == NULL)
		goto fail;
	if ((g->nft = nftset_open(c->nft.table, err, errlen)) == NULL)
		goto fail;
	if (evloop_fd_add(ev, nftset_fd(g->nft), EPOLLIN,
	    gate_nft_readable, g) == -1) {
		snprintf(err, errlen, "epoll add nft socket: %s",
		    strerror(errno));
		goto fail;
	}
	if ((c->gate.reply_smtp || c->sniffer.reply_smtp) &&
	    (g->reply = gate_reply_new(g, err, errlen)) == NULL)
		goto fail;
	{
		char aerr[512];

		/*
		 * Before the queue is bound, so an allowed sender is never
		 * judged.  Not fatal: the sets keep loopback and
		 * trusted_networks.
		 */
		(void)gate_allow_reload(g, aerr, sizeof(aerr));
	}
	g->q = queue_open(ev, c->gate.queue, c->gate.queue_maxlen,
	    GATE_QUEUE_COPY, gate_admit_packet, g, err, errlen);
	if (g->q == NULL)
		goto fail;
	if ((g->watch = gate_watch_new(g, err, errlen)) == NULL)
		goto fail;
	if ((g->retry = gate_retry_new(g, err, errlen)) == NULL)
		goto fail;
	evloop_set_idle(ev, gate_idle, g);
	gate_dnsbl_start(g->cfg);
	return g;
fail:
	gate_free(g);
	return NULL;
}

void
gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	if (g->allow_timer != NULL)
		evloop_timer_cancel(g->ev, g->allow_timer);
	/* What waits in its backlog is lost: local operation never
	 * depended on it. */
	gate_cluster_stop(g);
	/* Fail open: every SYN still held goes through now, not after a
	 * retransmit once we are gone. */
	gate_lookup_release_all(g);
	gate_watch_free(g->watch);
	gate_retry_free(g->retry);
	gate_reply_free(g->reply);
	if (g->cfg != NULL)
		gate_dnsbl_stop(g->cfg);
	/* Cancelled callbacks release the lookups still referenced. */
	dns_free(g->dns);
	if (g->q != NULL)
		queue_close(g->q);
	if (g->nft != NULL) {
		/* The last verdicts' set elements must reach the kernel. */
		if (nftset_sync(g->nft) == -1)
			log_warnx("gate: nft: last set changes not all applied");
		evloop_fd_del(g->ev, nftset_fd(g->nft));
		nftset_close(g->nft);
	}
	if (g->cfg != NULL)
		gate_cfg_unref(g->cfg);
	ratelimit_free(g->rate);
	free(g->bucket);
	gate_journal_close(g);
	allowlist_free(&g->allow_local);
	free(g);
}

int
gate_reload(struct gate *g, const char *path)
{
	struct conf *c = malloc(sizeof(*c));
	struct gate_cfg *nc;
	char err[CONF_ERR_MAX];

	if (c == NULL) {
		log_warn("reload failed: malloc a configuration");
		return -1;
	}
	/* Keys the gate cannot change running ([nft] table, the queue) keep
	 * their values, so the allow sets go to the table it writes. */
	if (conf_reload(path, &g->cfg->conf, CONF_GATED, c, err, sizeof(err),
	    log_warnx) == -1) {
		log_warnx("reload failed: %s", err);
		free(c);
		return -1;
	}
	if ((nc = gate_cfg_new(g, c, err, sizeof(err))) == NULL) {
		log_warnx("reload failed: %s", err);
		free(c);
		return -1;
	}
	const struct conf *old = &g->cfg->conf;
	if (memcmp(&c->dns, &old->dns, sizeof(c->dns)) != 0) {
		struct dns *nd = dns_new(g->ev, &c->dns, err, sizeof(err));
		if (nd == NULL) {
			log_warnx("reload failed: %s", err);
			gate_cfg_unref(nc);
			free(c);
			return -1;
		}
		/* c-ares cannot change servers under running queries. */
		dns_retire(g->dns);
		g->dns = nd;
	}
	free(c);
	if (nc->conf.gate.enforce != g->cfg->conf.gate.enforce)
		log_info(nc->conf.gate.enforce ? "reload: [gate] enforce = yes: "
		    "refusing from the next verdict on; passes given in observe "
		    "mode run out within deny_ttl (smtpgatectl cache flush pass "
		    "ends them now)" : "reload: [gate] enforce = no: observe "
		    "mode from the next verdict on; refusals already in the "
		    "kernel's sets run out by their timeouts (smtpgatectl cache "
		    "flush ends them now)");
	gate_dnsbl_stop(g->cfg);
	g->cfg->retired = true;
	gate_cfg_unref(g->cfg);
	g->cfg = nc;
	gate_dnsbl_start(nc);
	ratelimit_set(g->rate, nc->conf.gate.lookup_burst,
	    nc->conf.gate.lookup_rate);
	log_info("reloaded %s", path);
	/* trusted_networks or allow_file may have changed too. */
	if (gate_allow_reload(g, err, sizeof(err)) == -1)
		return 1;
	return 0;
}
