/*
 * sniff_judge.c - judging what a client says: the HELO rules of helo.c at
 * once, the DNS and SPF rules when their answers came (or at the
 * judgment's deadline), strikes and bans (strikes.c) and the state file,
 * and the control verbs about offenders.
 *
 * A judgment (struct sniff_judge) is one HELO or MAIL FROM under lookup.
 * It holds a reference on its session (so "one strike per session" holds
 * across its HELOs) and counts its outstanding queries in refs: c-ares and
 * the SPF workers cannot cancel, so it lives until the last has answered,
 * and it concludes once, when nothing is outstanding or at its deadline.
 * Neither answers inside the call that asks (dns.h, spfcheck.h), so the
 * queries a judgment starts with need no reference of its own; each
 * query's callback context is one of the judgment's own (struct
 * sniff_qctx q[]).
 * What the answers mean is helo.c's business (helo_facts_judge,
 * helo_mail_judge), shared with smtpgatectl check; here they are gathered
 * and acted on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "helo.h"
#include "log.h"
#include "sniff_int.h"

#define SNIFF_PTR_SPF_MAX	HELO_PTR_SPF_MAX /* PTR names checked with SPF */
#define SNIFF_JUDGE_MAX		20000	/* judgments under lookup at once */
#define SNIFF_PENDING		HELO_PENDING	/* a status not yet answered */

enum { J_HELO, J_MAIL };
enum { Q_A, Q_AAAA, Q_REG, Q_PTR, Q_MAILDOM, Q_MAX };

struct sniff_judge;

struct sniff_qctx {
	struct sniff_judge *j;
	int kind;			/* Q_*, -1: SPF of a PTR name */
	unsigned idx;			/* PTR index for SPF of a PTR name */
};

struct sniff_judge {
	struct sniff *s;
	struct sniff_session *ss;
	int kind;			/* J_HELO, J_MAIL */
	struct addr client;
	char name[HELO_NAME_MAX];	/* HELO name or MAIL FROM domain */
	char regdom[HELO_NAME_MAX];	/* registered domain, "" if none */
	unsigned refs;			/* outstanding answers */
	bool done;
	struct ev_timer *deadline;
	int64_t deadline_ms;		/* when the judgment concludes */
	int st_a, st_aaaa, st_reg, st_ptr, st_mail;	/* dns_status */
	struct addr addrs[2 * DNS_MAX_ADDRS];	/* the HELO's A and AAAA */
	size_t naddrs;
	size_t nptr;
	char ptr[SNIFF_PTR_SPF_MAX][DNS_NAME_MAX];
	int spf;			/* spfcheck_result or SNIFF_PENDING */
	int spf_ptr[SNIFF_PTR_SPF_MAX];
	struct sniff_qctx q[Q_MAX];	/* the DNS queries' contexts, by kind */
	struct sniff_qctx spfq[SNIFF_PTR_SPF_MAX];	/* SPF of PTR names */
};

void
sniff_strikes_cfg(const struct sniff *s, struct strikes_cfg *cfg)
{
	cfg->strikes = s->conf.sniffer.offender_strikes;
	cfg->window_s = s->conf.sniffer.offender_window_s;
	cfg->timeout_s = s->conf.sniffer.offender_timeout_s;
	cfg->timeout_max_s = s->conf.sniffer.offender_timeout_max_s;
}

void
sniff_session_unref(struct sniff_session *ss)
{
	if (--ss->refs == 0)
		free(ss);
}

/* Bytes as a log value: printable, no blanks or '=', at most 64. */
static void
sniff_printable(const char *in, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < outlen && i < 64; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[n++] = ch > ' ' && ch < 0x7f && ch != '=' ? (char)ch : '?';
	}
	if (i < len && n + 4 <= outlen) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	if (len == 0 && outlen > 1)
		out[n++] = '-';
	out[n] = '\0';
}

/* A forged session goes no further, whatever its count: cut it and say
 * how in the log line's tail. */
static void
sniff_verdict_cut(struct sniff *s, struct sniff_session *ss, const char *ip,
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
static void
sniff_verdict(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, enum conf_rule rule, const char *extra)
{
	const struct conf_sniffer *cs = &s->conf.sniffer;
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
	sniff_strikes_cfg(s, &cfg);
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
			break;
		case STRIKES_BANNED:
			act = "ban";
			forged = true;
			s->st.strikes++;
			s->st.bans++;
			if (nftset_add(s->nft, "offend", client, timeout) == -1)
				log_warnx("sniff: ban %s: nft batch full", ip);
			sniff_state_save(s, true);
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
	if (forged && cs->cut_session && !ss->cut)
		sniff_verdict_cut(s, ss, ip, tail, sizeof(tail));
	log_info("%s ip=%s helo=%s%s rule=%s strikes=%u/%u action=%s%s",
	    rule == RULE_MAIL_FROM_NO_DOMAIN ? "mail" : "helo", ip,
	    ss->helo[0] ? ss->helo : "-", extra, conf_rule_name(rule), count,
	    cfg.strikes, act, tail);
}

static void sniff_judge_conclude(struct sniff_judge *j);

/* ---- the clean-judgment cache ---- */

static uint64_t
sniff_name_hash(const struct sniff *s, const char *name)
{
	return siphash24(&s->clean_key, name, strlen(name));
}

static struct sniff_clean *
sniff_clean_slot(struct sniff *s, const struct addr *client, int kind,
    uint64_t nh)
{
	uint64_t h = nh ^ ((uint64_t)addr_hash(&s->clean_key, client) << 1) ^
	    (uint64_t)kind;

	h ^= h >> 29;
	return &s->clean[h & (SNIFF_CLEAN_SLOTS - 1)];
}

/* Was (client, kind, name) judged clean within clean_ttl? */
static bool
sniff_clean_hit(struct sniff *s, const struct addr *client, int kind,
    const char *name)
{
	uint64_t nh = sniff_name_hash(s, name);
	struct sniff_clean *c = sniff_clean_slot(s, client, kind, nh);

	if (c->until_ms <= evloop_now_ms(s->ev) || c->kind != kind ||
	    c->name_hash != nh || !addr_eq(&c->client, client))
		return false;
	s->st.clean_hits++;
	return true;
}

static void
sniff_clean_put(struct sniff_judge *j)
{
	struct sniff *s = j->s;
	uint64_t nh = sniff_name_hash(s, j->name);
	struct sniff_clean *c;

	if (s->conf.sniffer.clean_ttl_s == 0)
		return;
	c = sniff_clean_slot(s, &j->client, j->kind, nh);
	c->client = j->client;
	c->kind = (uint8_t)j->kind;
	c->name_hash = nh;
	c->until_ms = evloop_now_ms(s->ev) +
	    (int64_t)s->conf.sniffer.clean_ttl_s * 1000;
}

static void
sniff_judge_unref(struct sniff_judge *j)
{
	if (--j->refs > 0)
		return;
	if (!j->done)
		sniff_judge_conclude(j);
	sniff_session_unref(j->ss);
	j->s->njudges--;
	free(j);
}

static void sniff_on_spf_ptr(void *arg, enum spfcheck_result r);

/* SPF of name as a HELO identity for j's client, due at j's deadline. */
static int
sniff_spf_ask(struct sniff_judge *j, const char *name, spfcheck_cb cb,
    void *arg)
{
	struct spfcheck_req q = { .client = j->client, .helo = name,
	    .mail_from = NULL, .deadline_ms = j->deadline_ms };

	return spfcheck_query(j->s->spf, &q, cb, arg);
}

static void
sniff_on_dns(void *arg, const struct dns_result *r)
{
	struct sniff_qctx *q = arg;
	struct sniff_judge *j = q->j;
	size_t i;

	switch (q->kind) {
	case Q_A:
	case Q_AAAA:
		if (q->kind == Q_A)
			j->st_a = (int)r->status;
		else
			j->st_aaaa = (int)r->status;
		for (i = 0; r->status == DNS_OK && i < r->naddrs &&
		    j->naddrs < sizeof(j->addrs) / sizeof(j->addrs[0]); i++)
			j->addrs[j->naddrs++] = r->addrs[i];
		break;
	case Q_REG:
		j->st_reg = (int)r->status;
		break;
	case Q_MAILDOM:
		j->st_mail = (int)r->status;
		break;
	case Q_PTR:
		j->st_ptr = (int)r->status;
		if (r->status != DNS_OK || j->done)
			break;
		j->nptr = r->nnames < SNIFF_PTR_SPF_MAX ? r->nnames :
		    SNIFF_PTR_SPF_MAX;
		for (i = 0; i < j->nptr; i++) {
			snprintf(j->ptr[i], sizeof(j->ptr[i]), "%s",
			    r->names[i]);
			j->spf_ptr[i] = SNIFF_PENDING;
		}
		if (j->s->conf.sniffer.rule[RULE_SPF_PTR_FAIL] == ACTION_OFF)
			break;
		for (i = 0; i < j->nptr; i++) {
			struct sniff_qctx *sq = &j->spfq[i];

			sq->j = j;
			sq->kind = -1;
			sq->idx = (unsigned)i;
			j->refs++;
			j->s->st.spf_queries++;
			if (sniff_spf_ask(j, j->ptr[i], sniff_on_spf_ptr,
			    sq) == -1) {
				j->s->st.overload++;
				j->refs--;
			}
		}
		break;
	}
	sniff_judge_unref(j);
}

static void
sniff_on_spf(void *arg, enum spfcheck_result r)
{
	struct sniff_judge *j = arg;

	if (r == SPFCHECK_TEMPERROR || r == SPFCHECK_PERMERROR)
		j->s->st.spf_errors++;
	j->spf = (int)r;
	sniff_judge_unref(j);
}

static void
sniff_on_spf_ptr(void *arg, enum spfcheck_result r)
{
	struct sniff_qctx *q = arg;
	struct sniff_judge *j = q->j;

	if (r == SPFCHECK_TEMPERROR || r == SPFCHECK_PERMERROR)
		j->s->st.spf_errors++;
	j->spf_ptr[q->idx] = (int)r;
	sniff_judge_unref(j);
}

static void
sniff_judge_deadline(void *arg)
{
	struct sniff_judge *j = arg;

	j->deadline = NULL;
	sniff_judge_conclude(j);
}

/* The facts of a HELO judgment, as helo_facts_judge takes them. */
static void
sniff_judge_facts(const struct sniff_judge *j, struct helo_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->client = j->client;
	f->st_a = j->st_a;
	f->st_aaaa = j->st_aaaa;
	f->addrs = j->addrs;
	f->naddrs = j->naddrs;
	f->has_regdom = j->regdom[0] != '\0';
	f->regdom_is_name = strcmp(j->regdom, j->name) == 0;
	f->st_reg = j->st_reg;
	f->st_ptr = j->st_ptr;
	f->spf = j->spf;
	f->nptr = j->nptr;
	for (size_t i = 0; i < j->nptr && i < HELO_PTR_SPF_MAX; i++)
		f->spf_ptr[i] = j->spf_ptr[i];
}

static void
sniff_judge_conclude(struct sniff_judge *j)
{
	const struct conf_sniffer *cs = &j->s->conf.sniffer;
	struct helo_facts f;
	struct helo_facts_detail d;
	char extra[96];
	bool complete;
	uint32_t mask;
	uint64_t before;
	size_t i;

	if (j->done)
		return;
	j->done = true;
	if (j->deadline != NULL) {
		evloop_timer_cancel(j->s->ev, j->deadline);
		j->deadline = NULL;
	}
	if (j->kind == J_MAIL) {
		if (helo_mail_judge(j->st_mail) != 0) {
			snprintf(extra, sizeof(extra), " from_domain=%.64s",
			    j->name);
			sniff_verdict(j->s, j->ss, &j->client,
			    RULE_MAIL_FROM_NO_DOMAIN, extra);
		} else if (j->st_mail == DNS_OK || j->st_mail == DNS_NODATA) {
			sniff_clean_put(j);
		}
		return;
	}
	before = j->s->st.judgments;
	sniff_judge_facts(j, &f);
	mask = helo_facts_judge(cs, &f, &d);
	/* In rule order: the first rule that strikes is the one counted. */
	for (unsigned r = 0; r < RULE_MAX; r++) {
		if (!(mask & (1u << r)))
			continue;
		extra[0] = '\0';
		if (r == RULE_SPF_FAIL)
			snprintf(extra, sizeof(extra), " spf=%s",
			    spfcheck_name((enum spfcheck_result)j->spf));
		else if (r == RULE_SPF_PTR_FAIL)
			snprintf(extra, sizeof(extra), " ptr=%.48s spf=%s",
			    j->ptr[d.spf_ptr], spfcheck_name(
			    (enum spfcheck_result)j->spf_ptr[d.spf_ptr]));
		else if (r == RULE_NO_DOMAIN)
			snprintf(extra, sizeof(extra), " domain=%.64s",
			    j->regdom);
		sniff_verdict(j->s, j->ss, &j->client, (enum conf_rule)r,
		    extra);
	}
	/* Clean, with every answer in (not cut by the deadline, no error):
	 * the same name from the same client needs no lookup for a while. */
	complete = j->refs == 0 && j->st_a != DNS_ERROR &&
	    j->st_aaaa != DNS_ERROR && j->st_ptr != DNS_ERROR &&
	    j->st_reg != DNS_ERROR && j->spf != SPFCHECK_TEMPERROR &&
	    (j->spf != SNIFF_PENDING || cs->rule[RULE_SPF_FAIL] == ACTION_OFF);
	for (i = 0; i < j->nptr; i++)
		complete &= j->spf_ptr[i] != SPFCHECK_TEMPERROR &&
		    (j->spf_ptr[i] != SNIFF_PENDING ||
		    cs->rule[RULE_SPF_PTR_FAIL] == ACTION_OFF);
	if (complete && j->s->st.judgments == before)
		sniff_clean_put(j);
}

/* One DNS query of j, of a kind it asks once. */
static void
sniff_query(struct sniff_judge *j, const char *name, enum dns_type type,
    int kind)
{
	struct sniff_qctx *q = &j->q[kind];

	q->j = j;
	q->kind = kind;
	q->idx = 0;
	j->refs++;
	j->s->st.dns_queries++;
	dns_query(j->s->dns, name, type, sniff_on_dns, q);
}

static struct sniff_judge *
sniff_judge_new(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, int kind, const char *name)
{
	struct sniff_judge *j;

	/* A flood of sessions must not grow the lookups without bound: past
	 * the limit only the rules that need no DNS are judged. */
	if (s->njudges >= SNIFF_JUDGE_MAX) {
		s->st.overload++;
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	s->njudges++;
	j->s = s;
	j->ss = ss;
	ss->refs++;
	j->kind = kind;
	j->client = *client;
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->st_a = j->st_aaaa = j->st_reg = j->st_ptr = j->st_mail =
	    SNIFF_PENDING;
	j->spf = SNIFF_PENDING;
	j->deadline_ms = evloop_now_ms(s->ev) + s->conf.sniffer.deadline_ms;
	j->deadline = evloop_timer_at(s->ev, j->deadline_ms,
	    sniff_judge_deadline, j);
	if (j->deadline == NULL) {
		sniff_session_unref(ss);
		s->njudges--;
		free(j);
		return NULL;
	}
	return j;
}

/* Is any rule among the DNS/SPF ones of a HELO on? */
static bool
sniff_dns_rules_on(const struct conf_sniffer *cs)
{
	static const enum conf_rule r[] = { RULE_SPF_FAIL, RULE_SPF_PTR_FAIL,
	    RULE_NO_DOMAIN, RULE_HELO_NO_RESOLVE, RULE_HELO_MISMATCH,
	    RULE_NO_PTR_FAR };

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (cs->rule[r[i]] != ACTION_OFF)
			return true;
	return false;
}

void
sniff_judge_helo(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, const char *arg, size_t len)
{
	const struct conf_sniffer *cs = &s->conf.sniffer;
	char name[HELO_NAME_MAX], rev[ADDR_REVNAME_MAX];
	struct sniff_judge *j;
	uint32_t mask;

	s->st.helos++;
	sniff_printable(arg, len, ss->helo, sizeof(ss->helo));
	mask = helo_judge(cs, arg, len, name);
	for (unsigned r = 0; r < RULE_MAX; r++)
		if (mask & (1u << r))
			sniff_verdict(s, ss, client, (enum conf_rule)r, "");
	/* A HELO already judged forged needs no DNS to say so again. */
	if (mask != 0 || name[0] == '\0' || !sniff_dns_rules_on(cs) ||
	    sniff_clean_hit(s, client, J_HELO, name))
		return;
	if ((j = sniff_judge_new(s, ss, client, J_HELO, name)) == NULL)
		return;
	/* When the name is its registered domain, its A answer says. */
	if (helo_registered_domain(s->psl, name, j->regdom) == 0 &&
	    strcmp(j->regdom, name) != 0)
		sniff_query(j, j->regdom, DNS_A, Q_REG);
	sniff_query(j, name, DNS_A, Q_A);
	sniff_query(j, name, DNS_AAAA, Q_AAAA);
	if (addr_reverse_name(client, NULL, rev, sizeof(rev)) > 0)
		sniff_query(j, rev, DNS_PTR, Q_PTR);
	if (cs->rule[RULE_SPF_FAIL] != ACTION_OFF) {
		j->refs++;
		s->st.spf_queries++;
		/* The A and AAAA queries above are out: refs stays > 0. */
		if (sniff_spf_ask(j, name, sniff_on_spf, j) == -1) {
			s->st.overload++;
			j->refs--;
		}
	}
}

void
sniff_judge_trickle(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, const char *lack, uint32_t npkts)
{
	char extra[48];

	s->st.trickles++;
	snprintf(extra, sizeof(extra), " lack=%s packets=%u", lack, npkts);
	sniff_verdict(s, ss, client, RULE_TRICKLE, extra);
}

void
sniff_judge_mail(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, const char *dom, size_t len)
{
	char name[HELO_NAME_MAX];
	struct sniff_judge *j;
	static const struct conf_sniffer none;

	s->st.mails++;
	if (len == 0 || s->conf.sniffer.rule[RULE_MAIL_FROM_NO_DOMAIN] ==
	    ACTION_OFF)
		return;
	/* Only a syntactically valid, qualified domain is looked up. */
	if (helo_judge(&none, dom, len, name) != 0 || name[0] == '\0' ||
	    sniff_clean_hit(s, client, J_MAIL, name))
		return;
	if ((j = sniff_judge_new(s, ss, client, J_MAIL, name)) == NULL)
		return;
	sniff_query(j, name, DNS_A, Q_MAILDOM);
}

/* ---- state file ---- */

static void
sniff_state_reban(void *arg, const struct strikes_rec *r)
{
	struct sniff *s = arg;
	int64_t now = time(NULL);

	if (r->banned_until > now)
		(void)nftset_add(s->nft, "offend", &r->a,
		    (uint32_t)(r->banned_until - now));
}

int
sniff_state_load(struct sniff *s, char *err, size_t errlen)
{
	size_t bad = 0;
	size_t stale = strikes_clean_tmp(s->conf.sniffer.state_file);

	if (stale > 0)
		log_warnx("state: removed %zu unfinished temporary file%s of "
		    "%s", stale, stale == 1 ? "" : "s",
		    s->conf.sniffer.state_file);
	if (strikes_load(s->strikes, s->conf.sniffer.state_file, &bad, err,
	    errlen) == -1)
		return -1;
	if (bad > 0)
		log_warnx("state: %zu bad lines skipped, first: %s", bad, err);
	/* The sets survive a restart, but not a ruleset reinstall. */
	strikes_each(s->strikes, sniff_state_reban, s);
	log_info("state: %zu records from %s", strikes_count(s->strikes),
	    s->conf.sniffer.state_file);
	return 0;
}

void
sniff_state_save(struct sniff *s, bool soon)
{
	if (soon)
		s->save_soon = true;
}

/* In the child: the snapshot is the table as it was at the fork. */
static int
sniff_state_write(void *arg, char *err, size_t errlen)
{
	struct sniff *s = arg;

	return strikes_save(s->strikes, s->conf.sniffer.state_file, err,
	    errlen);
}

/* A failure is retried every second: say it once per failing streak. */
static void
sniff_state_outcome(struct sniff *s, int rc, const char *err)
{
	if (rc == -1) {
		s->st.state_errors++;
		if (!s->state_failing)
			log_warnx("state: %s (retrying)", err);
		s->state_failing = true;
		s->next_save_ms = evloop_now_ms(s->ev) + 1000;
		return;
	}
	s->st.state_saves++;
	if (s->state_failing)
		log_info("state: saved %s again", s->conf.sniffer.state_file);
	s->state_failing = false;
	s->next_save_ms = evloop_now_ms(s->ev) +
	    (int64_t)s->conf.sniffer.state_save_interval_s * 1000;
}

void
sniff_state_tick(struct sniff *s)
{
	char err[512];

	if (s->closing || bgsave_running(s->saver) ||
	    !strikes_dirty(s->strikes))
		return;
	/* Due at the cadence, or at once when bans changed (unless a
	 * failure waits out its second). */
	if (evloop_now_ms(s->ev) < s->next_save_ms &&
	    (!s->save_soon || s->state_failing))
		return;
	s->save_soon = false;
	s->save_changes = strikes_changes(s->strikes);
	if (bgsave_start(s->saver, sniff_state_write, s, err,
	    sizeof(err)) == -1)
		sniff_state_outcome(s, -1, err);
}

/* The child has been reaped: what it wrote is saved. */
static void
sniff_state_done(void *arg, int rc, const char *err, int64_t ms)
{
	struct sniff *s = arg;

	s->st.state_save_ms = (uint64_t)ms;
	if (rc == 0)
		strikes_mark_saved(s->strikes, s->save_changes);
	sniff_state_outcome(s, rc, err);
	/* Bans changed while it wrote: the next save follows at once. */
	if (rc == 0 && s->save_soon)
		sniff_state_tick(s);
}

void
sniff_state_final(struct sniff *s)
{
	char err[512];

	s->closing = true;
	if (s->saver != NULL)
		bgsave_wait(s->saver);
	if (!strikes_dirty(s->strikes))
		return;
	/* The loop is over: nothing waits on this write any more. */
	if (strikes_save(s->strikes, s->conf.sniffer.state_file, err,
	    sizeof(err)) == -1)
		log_warnx("state: %s: the last changes are lost", err);
}

struct bgsave *
sniff_state_saver(struct sniff *s)
{
	s->next_save_ms = evloop_now_ms(s->ev) +
	    (int64_t)s->conf.sniffer.state_save_interval_s * 1000;
	return s->saver = bgsave_new(s->ev, sniff_state_done, s);
}

/* ---- control verbs ---- */

static void
sniff_ctl_offender(void *arg, const struct strikes_rec *r)
{
	char line[STRIKES_LINE_MAX];

	strikes_format(r, line, sizeof(line));
	control_reply_line(arg, "%s", line);
}

static void
sniff_ctl_offenders(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct sniff *s = arg;

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: offenders");
		return;
	}
	strikes_each(s->strikes, sniff_ctl_offender, r);
}

static void
sniff_unban(void *arg, const struct strikes_rec *r)
{
	struct sniff *s = arg;

	if (r->banned_until > time(NULL))
		(void)nftset_del(s->nft, "offend", &r->a);
}

static void
sniff_ctl_forget(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct sniff *s = arg;
	const struct strikes_rec *rec;
	struct addr a;

	if (argc != 2 || addr_parse(argv[1], &a) != 0) {
		control_reply_error(r, "usage: forget IP");
		return;
	}
	if ((rec = strikes_find(s->strikes, &a)) == NULL) {
		control_reply_error(r, "%s: no strikes or bans", argv[1]);
		return;
	}
	sniff_unban(s, rec);
	strikes_forget(s->strikes, &a);
	sniff_state_save(s, true);
	log_info("forget ip=%s", argv[1]);
}

static void
sniff_ctl_forget_all(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct sniff *s = arg;
	size_t n = strikes_count(s->strikes);

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: forget-all");
		return;
	}
	strikes_forget_all(s->strikes, sniff_unban, s);
	sniff_state_save(s, true);
	log_info("forget-all records=%zu", n);
}

void
sniff_control_register(struct sniff *s)
{
	if (control_register(s->ctl, "offenders", sniff_ctl_offenders, s) ||
	    control_register(s->ctl, "forget", sniff_ctl_forget, s) ||
	    control_register(s->ctl, "forget-all", sniff_ctl_forget_all, s))
		log_panic("control_register: verb table full");
}
