/*
 * sniff_cluster.c - strikes and bans shared with the other gateways of
 * the site through Redis ([cluster], cluster.h; smtpgate-sniffd(8)
 * CLUSTER).  Contract in sniff_int.h.
 *
 * Out (from sniff_strike.c, enforce mode only): each strike counted here
 * goes to the shared counter (cluster_strike: weight 1 over
 * offender_window); each ban made here is shared as a BAN whose COUNT is
 * the ban's number (its doubling) and TTL its length; a ban lifted by
 * the control verbs forget and forget-all (smtpgatectl offenders del,
 * flush) is shared as an UNBAN.
 *
 * In: the shared total of a strike (this node's own, or a sibling's)
 * raises the local record to it (strikes_merge); the total that reaches
 * offender_strikes bans here as a local ban would (offend element, state
 * saved soon, the client's open sessions cut with cut_session), and when
 * it was this node's own strike that made the total, the ban is shared.
 * A sibling's BAN bans here for the time it has left (strikes_apply_ban:
 * the record keeps the higher ban number), a sibling's UNBAN lifts the
 * ban; neither is shared again.  Trusted clients are never banned by a
 * sibling.  Observe mode ([sniffer] enforce = no) shares nothing and
 * bans nothing: siblings' strikes and bans are logged as skipped.
 * Lines:
 *   cluster ip=ADDR kind=ban node=B ttl=N count=K action=applied
 *   cluster ip=ADDR kind=strike node=B count=K strikes=K/N action=ban
 *     timeout=T [cut=N]
 *   cluster ip=ADDR kind=unban node=B action=applied
 * (action skipped-trusted, skipped-observe, expired, full otherwise).
 *
 * sniff_cluster_start (sniff_new, before the daemon detaches: the
 * password file is read as root) and sniff_cluster_stop (sniff_free).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "control.h"
#include "log.h"
#include "sniff_int.h"

void
sniff_cluster_strike(struct sniff *s, const struct addr *a,
    enum conf_rule rule)
{
	if (s->cluster == NULL || !s->conf.sniffer.enforce)
		return;
	cluster_strike(s->cluster, a, 1, s->conf.sniffer.offender_window_s,
	    conf_rule_name(rule));
	s->cst.strikes_shared++;
}

void
sniff_cluster_ban(struct sniff *s, const struct addr *a, uint32_t bans,
    uint32_t timeout_s, const char *rule)
{
	struct cluster_event e;

	if (s->cluster == NULL || !s->conf.sniffer.enforce || timeout_s == 0)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = CLUSTER_BAN;
	e.a = *a;
	e.ttl_s = timeout_s > CLUSTER_TTL_MAX ? CLUSTER_TTL_MAX : timeout_s;
	e.count = bans > CLUSTER_COUNT_MAX ? CLUSTER_COUNT_MAX : bans;
	if (rule != NULL)
		snprintf(e.reason, sizeof(e.reason), "%s", rule);
	cluster_share(s->cluster, &e);
	s->cst.bans_shared++;
}

void
sniff_cluster_unban(struct sniff *s, const struct addr *a)
{
	struct cluster_event e;

	if (s->cluster == NULL || !s->conf.sniffer.enforce)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = CLUSTER_UNBAN;
	e.a = *a;
	cluster_share(s->cluster, &e);
	s->cst.unbans_shared++;
}

/* A shared strike total: merged into the record; a ban it brings. */
static void
sniff_cluster_on_strike(struct sniff *s, const struct cluster_event *e,
    const char *ip)
{
	struct strikes_cfg cfg;
	const struct strikes_rec *rec;
	enum conf_rule rule = conf_rule_parse(e->reason);
	uint32_t count = 0, timeout = 0;
	size_t cut;
	bool own = strcmp(e->node, s->cluster_node) == 0;

	if (conf_trusted(&s->conf.gate, &e->a) || !s->conf.sniffer.enforce) {
		s->cst.skipped++;
		log_debug("cluster ip=%s kind=strike node=%s count=%u "
		    "action=%s", ip, e->node, e->count,
		    s->conf.sniffer.enforce ? "skipped-trusted" :
		    "skipped-observe");
		return;
	}
	sniff_strike_cfg(s, &cfg);
	switch (strikes_merge(s->strikes, &e->a, e->count, rule, time(NULL),
	    &cfg, &count, &timeout)) {
	case STRIKES_BANNED:
		break;
	case STRIKES_COUNTED:
		if (!own)
			s->cst.strikes_merged++;
		log_debug("cluster ip=%s kind=strike node=%s count=%u "
		    "strikes=%u/%u action=counted", ip, e->node, e->count,
		    count, cfg.strikes);
		return;
	case STRIKES_FULL:
		s->cst.full++;
		return;
	default:
		return;			/* banned already */
	}
	s->st.bans++;
	s->cst.total_bans++;
	if (nftset_add(s->nft, "offend", &e->a, timeout) == -1)
		log_warnx("sniff: ban %s: nft batch full", ip);
	sniff_state_soon(s);
	cut = sniff_strike_cut_client(s, &e->a);
	log_info("cluster ip=%s kind=strike node=%s count=%u strikes=%u/%u "
	    "action=ban timeout=%u cut=%zu", ip, e->node, e->count, count,
	    cfg.strikes, timeout, cut);
	/* The node whose strike made the total shares the ban; the others
	 * ban on the same total and wait for it. */
	if (own && (rec = strikes_find(s->strikes, &e->a)) != NULL)
		sniff_cluster_ban(s, &e->a, rec->bans, timeout, e->reason[0] ?
		    e->reason : NULL);
}

/* A sibling's ban: applied for the time it has left. */
static void
sniff_cluster_on_ban(struct sniff *s, const struct cluster_event *e,
    const char *ip)
{
	uint32_t left = cluster_msg_left(e, (int64_t)time(NULL) * 1000);
	const char *action = "applied";

	if (left == 0) {
		action = "expired";
		s->cst.expired++;
	} else if (conf_trusted(&s->conf.gate, &e->a)) {
		action = "skipped-trusted";
		s->cst.skipped++;
	} else if (!s->conf.sniffer.enforce) {
		action = "skipped-observe";
		s->cst.skipped++;
	} else if (strikes_apply_ban(s->strikes, &e->a, e->count,
	    (int64_t)time(NULL) + left) == -1) {
		action = "full";
		s->cst.full++;
	} else {
		const struct strikes_rec *rec = strikes_find(s->strikes, &e->a);
		int64_t until = rec != NULL ? rec->banned_until : 0;
		int64_t now = (int64_t)time(NULL);

		/* The element for the record's ban, which may be longer
		 * than the sibling's (a kernel from 6.12 on refreshes an
		 * element's timeout when it is added again). */
		s->cst.bans_applied++;
		if (nftset_add(s->nft, "offend", &e->a, until > now + left ?
		    (uint32_t)(until - now) : left) == -1)
			log_warnx("sniff: ban %s: nft batch full", ip);
		sniff_state_soon(s);
		(void)sniff_strike_cut_client(s, &e->a);
	}
	log_info("cluster ip=%s kind=ban node=%s ttl=%u count=%u action=%s",
	    ip, e->node, left, e->count, action);
}

static void
sniff_cluster_event(const struct cluster_event *e, void *arg)
{
	struct sniff *s = arg;
	char ip[ADDR_STRLEN];

	addr_ntop(&e->a, ip);
	switch (e->kind) {
	case CLUSTER_STRIKE:
		sniff_cluster_on_strike(s, e, ip);
		break;
	case CLUSTER_BAN:
		sniff_cluster_on_ban(s, e, ip);
		break;
	case CLUSTER_UNBAN:
		if (!s->conf.sniffer.enforce) {
			s->cst.skipped++;
			log_info("cluster ip=%s kind=unban node=%s "
			    "action=skipped-observe", ip, e->node);
			break;
		}
		s->cst.unbans_applied++;
		log_info("cluster ip=%s kind=unban node=%s action=%s", ip,
		    e->node, sniff_strike_forget(s, &e->a) == 0 ? "applied" :
		    "unknown");
		break;
	default:
		break;			/* heartbeats */
	}
}

int
sniff_cluster_start(struct sniff *s, char *err, size_t errlen)
{
	const struct conf_cluster *cc = &s->conf.cluster;

	err[0] = '\0';
	if (s->cluster != NULL || (cc->redis[0] == '\0' &&
	    cc->nsentinels == 0))
		return 0;
	control_cluster_node(cc, s->cluster_node, sizeof(s->cluster_node));
	s->cluster = cluster_new(s->ev, cc, "sniffd",
	    CLUSTER_WANT(CLUSTER_STRIKE) | CLUSTER_WANT(CLUSTER_BAN) |
	    CLUSTER_WANT(CLUSTER_UNBAN) | CLUSTER_WANT(CLUSTER_HELLO),
	    sniff_cluster_event, s, err, errlen);
	if (s->cluster == NULL)
		return err[0] == '\0' ? 0 : -1;
	log_info("cluster: node %s shares strikes and bans%s", s->cluster_node,
	    s->conf.sniffer.enforce ? "" : " (observe mode: nothing shared "
	    "nor applied)");
	return 0;
}

void
sniff_cluster_stop(struct sniff *s)
{
	cluster_free(s->cluster);
	s->cluster = NULL;
}
