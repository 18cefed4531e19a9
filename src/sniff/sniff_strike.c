/*
 * sniff_strike.c - acting on a rule hit: the strike (once a session), the
 * ban that the strike reaching offender_strikes brings, the cut of a
 * forged session (cut_session, sniff_cut.c), and the one log line of each
 * hit (contract in sniff_int.h).  The strike records are strikes.c's;
 * this file is the one writer of the offend4/offend6 sets: the bans it
 * adds, the running bans the state file brings back at start
 * (sniff_strike_reban), and the bans the control verbs lift
 * (sniff_strike_forget*).  Every change of a ban asks for a state save at
 * the next tick (sniff_state_soon).
 *
 * Observe mode ([sniffer] enforce = no, reloadable): rules are judged and
 * strikes counted and logged as in enforce mode, but the strike that
 * would ban only says so (action=ban enforced=no, counted in
 * observed_bans): nothing goes into offend4/6 (so no reply either), no
 * session is cut, and the record keeps no ban (strikes.h: WOULD_BAN).
 * Every line of a strike (action strike, ban, banned: what enforce acts
 * on, by a ban or a cut) carries enforced=no.  Bans made before a switch
 * to observe stay in the kernel until they run out (smtpgatectl
 * offenders del/flush lift them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sniff_int.h"

#define SNIFF_EXPIRE_EVERY_S	60	/* strike records: one sweep */

void
sniff_strike_cfg(const struct sniff *s, struct strikes_cfg *cfg)
{
	cfg->strikes = s->conf.sniffer.offender_strikes;
	cfg->window_s = s->conf.sniffer.offender_window_s;
	cfg->timeout_s = s->conf.sniffer.offender_timeout_s;
	cfg->timeout_max_s = s->conf.sniffer.offender_timeout_max_s;
	cfg->observe = !s->conf.sniffer.enforce;
}

/* A forged session goes no further, whatever its count: cut it and say
 * how in the log line's tail. */
static void
sniff_strike_cut(struct sniff *s, struct sniff_session *ss, const char *ip,
    char *tail, size_t len)
{
	size_t off = strlen(tail);
	int rc = sniff_cut(&ss->client, ss->cport, &ss->local, ss->lport);

	ss->cut = true;
	if (rc == 0) {
		s->st.cuts++;
		snprintf(tail + off, len - off, " cut=yes");
		return;
	}
	s->st.cut_errors++;
	snprintf(tail + off, len - off, " cut=%s", rc == -ENOENT ? "gone" :
	    "failed");
	if (rc != -ENOENT)
		log_warnx("sniff: cut %s:%u: sock_diag destroy: %s", ip,
		    ss->cport, strerror(-rc));
}

/*
 * One rule hit: act on it and log one line.  A strike counts once per
 * session: a later hit in the same session is logged with action=seen.
 */
void
sniff_strike_hit(struct sniff *s, struct sniff_session *ss,
    enum conf_rule rule, const char *extra)
{
	const struct conf_sniffer *cs = &s->conf.sniffer;
	const struct addr *client = &ss->client;
	enum action a = cs->rule[rule];
	struct strikes_cfg cfg;
	const struct strikes_rec *rec;
	uint32_t count = 0, timeout = 0;
	char ip[ADDR_STRLEN], tail[48] = "";
	const char *act;
	bool forged = false;		/* struck (or banned): cut it */

	if (a == ACTION_OFF)
		return;
	s->st.judgments++;
	sniff_strike_cfg(s, &cfg);
	addr_ntop(client, ip);
	rec = strikes_find(s->strikes, client);
	count = rec != NULL ? rec->strikes : 0;
	if (conf_trusted(&s->conf.gate, client)) {
		act = "trusted";
	} else if (a == ACTION_LOG) {
		act = "log";
	} else if (ss->struck) {
		act = "seen";
	} else {
		ss->struck = true;
		switch (strikes_add(s->strikes, client, rule, time(NULL), &cfg,
		    &count, &timeout)) {
		case STRIKES_COUNTED:
			act = "strike";
			forged = true;
			s->st.strikes++;
			/* [cluster]: into the shared sum; its total comes
			 * back (sniff_cluster.c) and may ban. */
			sniff_cluster_strike(s, client, rule);
			break;
		case STRIKES_BANNED:
			act = "ban";
			forged = true;
			s->st.strikes++;
			s->st.bans++;
			if (nftset_add(s->nft, "offend", client, timeout) == -1)
				log_warnx("sniff: ban %s: nft batch full", ip);
			sniff_state_soon(s);
			snprintf(tail, sizeof(tail), " timeout=%u", timeout);
			sniff_cluster_strike(s, client, rule);
			if ((rec = strikes_find(s->strikes, client)) != NULL)
				sniff_cluster_ban(s, client, rec->bans, timeout,
				    conf_rule_name(rule));
			break;
		case STRIKES_WOULD_BAN:
			act = "ban";
			forged = true;
			s->st.strikes++;
			s->st.observed_bans++;
			snprintf(tail, sizeof(tail), " timeout=%u", timeout);
			break;
		case STRIKES_ALREADY_BANNED:
			act = "banned";
			forged = true;
			snprintf(tail, sizeof(tail), " timeout=%u", timeout);
			break;
		default:
			act = "full";
			break;
		}
	}
	/* Observe mode: said, not done. */
	if (forged && cs->enforce && cs->cut_session && !ss->cut)
		sniff_strike_cut(s, ss, ip, tail, sizeof(tail));
	log_info("%s ip=%s helo=%s%s rule=%s strikes=%u/%u action=%s%s%s",
	    rule == RULE_MAIL_FROM_NO_DOMAIN ? "mail" : "helo", ip,
	    ss->helo[0] ? ss->helo : "-", extra, conf_rule_name(rule), count,
	    cfg.strikes, act, forged && !cs->enforce ? " enforced=no" : "",
	    tail);
	sniff_journal_hit(s, ss, rule, a, act);
}

void
sniff_strike_expire(struct sniff *s, int64_t wall)
{
	struct strikes_cfg cfg;

	/* A sixtieth of the records each second, the whole table each
	 * minute: one walk of a million took 140 ms. */
	sniff_strike_cfg(s, &cfg);
	strikes_expire_part(s->strikes, wall, &cfg, s->expire_part,
	    SNIFF_EXPIRE_EVERY_S);
	s->expire_part = (s->expire_part + 1) % SNIFF_EXPIRE_EVERY_S;
}

void
sniff_strike_reban(void *arg, const struct strikes_rec *r)
{
	struct sniff *s = arg;
	int64_t now = time(NULL);

	if (r->banned_until > now)
		(void)nftset_add(s->nft, "offend", &r->a,
		    (uint32_t)(r->banned_until - now));
}

static void
sniff_strike_unban(void *arg, const struct strikes_rec *r)
{
	struct sniff *s = arg;

	if (r->banned_until > time(NULL))
		(void)nftset_del(s->nft, "offend", &r->a);
}

int
sniff_strike_forget(struct sniff *s, const struct addr *a)
{
	const struct strikes_rec *rec = strikes_find(s->strikes, a);

	if (rec == NULL)
		return -1;
	sniff_strike_unban(s, rec);
	strikes_forget(s->strikes, a);
	sniff_state_soon(s);
	return 0;
}

/* forget-all: each running ban lifted here is lifted at the siblings
 * too ([cluster]). */
static void
sniff_strike_unban_all(void *arg, const struct strikes_rec *r)
{
	struct sniff *s = arg;

	if (r->banned_until > time(NULL))
		sniff_cluster_unban(s, &r->a);
	sniff_strike_unban(s, r);
}

size_t
sniff_strike_forget_all(struct sniff *s)
{
	size_t n = strikes_count(s->strikes);

	strikes_forget_all(s->strikes, sniff_strike_unban_all, s);
	sniff_state_soon(s);
	return n;
}

size_t
sniff_strike_cut_client(struct sniff *s, const struct addr *a)
{
	const struct conf_sniffer *cs = &s->conf.sniffer;
	struct sniff_lru *lists[] = { &s->reading, &s->done };
	char ip[ADDR_STRLEN], tail[48];
	size_t n = 0;

	if (!cs->enforce || !cs->cut_session)
		return 0;
	addr_ntop(a, ip);
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		for (struct sniff_flow *f = lists[l]->head; f != NULL;
		    f = f->newer) {
			struct sniff_session *ss = f->ss;

			if (ss == NULL || ss->cut || !addr_eq(&ss->client, a))
				continue;
			tail[0] = '\0';
			sniff_strike_cut(s, ss, ip, tail, sizeof(tail));
			n++;
		}
	return n;
}
