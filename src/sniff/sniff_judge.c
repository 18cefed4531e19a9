/*
 * sniff_judge.c - judging what a client says: the HELO rules of helo.c at
 * once, the DNS and SPF rules when their answers came (or at the
 * judgment's deadline), and the domain of the first MAIL FROM (contract
 * in sniff_int.h).  A rule hit goes to sniff_strike_hit; a clean
 * judgment with every answer in goes to the clean cache (sniff_clean.c),
 * which spares the next one its lookups.
 *
 * A judgment (struct sniff_judge) is one HELO or MAIL FROM under lookup.
 * It holds a reference on its session (so "one strike per session" holds
 * across its HELOs) and counts its outstanding queries in refs: c-ares and
 * the SPF workers cannot cancel, so it lives until the last has answered,
 * and it concludes once, when nothing is outstanding or at its deadline.
 * Neither answers inside the call that asks (dns.h, spfcheck.h), so the
 * queries a judgment starts with need no reference of its own; each
 * query's callback context is one of the judgment's own (struct
 * sniff_judge_q).  At most SNIFF_JUDGE_MAX judgments are under lookup;
 * past that only the rules that need no DNS are judged.
 * What the answers mean is helo.c's business (helo_facts_judge,
 * helo_mail_judge), shared with smtpgatectl check; here they are gathered
 * and acted on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helo.h"
#include "sniff_int.h"

#define SNIFF_PTR_SPF_MAX	HELO_PTR_SPF_MAX /* PTR names checked with SPF */
#define SNIFF_JUDGE_MAX		20000	/* judgments under lookup at once */
#define SNIFF_PENDING		HELO_PENDING	/* a status not yet answered */

/* What a query of a judgment asks: DNS (Q_A..Q_MAILDOM) or SPF; the
 * contexts of the first Q_MAX kinds are j->q[kind], those of Q_SPF_PTR
 * j->spfq[idx]. */
enum { Q_A, Q_AAAA, Q_REG, Q_PTR, Q_MAILDOM, Q_SPF, Q_MAX, Q_SPF_PTR };

struct sniff_judge;

/* The callback context of one query of a judgment. */
struct sniff_judge_q {
	struct sniff_judge *j;
	int kind;			/* Q_* */
	unsigned idx;			/* Q_SPF_PTR: which PTR name */
};

struct sniff_judge {
	struct sniff *s;
	struct sniff_session *ss;
	enum sniff_judge_kind kind;
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
	struct sniff_judge_q q[Q_MAX];	/* the queries' contexts, by kind */
	struct sniff_judge_q spfq[SNIFF_PTR_SPF_MAX];	/* SPF of PTR names */
};

static void sniff_judge_conclude(struct sniff_judge *j);
static void sniff_judge_on_spf(void *arg, enum spfcheck_result r);

/* Bytes as a log value: printable, no blanks or '=', at most 64. */
static void
sniff_judge_printable(const char *in, size_t len, char *out, size_t outlen)
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

static void
sniff_judge_unref(struct sniff_judge *j)
{
	if (--j->refs > 0)
		return;
	if (!j->done)
		sniff_judge_conclude(j);
	sniff_flow_session_unref(j->ss);
	j->s->njudges--;
	free(j);
}

/* SPF of name as a HELO identity for j's client, due at j's deadline,
 * answered to q (an overload when spfcheck refuses it). */
static void
sniff_judge_spf(struct sniff_judge *j, const char *name,
    struct sniff_judge_q *q)
{
	struct spfcheck_req req = { .client = j->ss->client, .helo = name,
	    .mail_from = NULL, .deadline_ms = j->deadline_ms };

	j->refs++;
	j->s->st.spf_queries++;
	if (spfcheck_query(j->s->spf, &req, sniff_judge_on_spf, q) == -1) {
		j->s->st.overload++;
		j->refs--;
	}
}

/* The PTR names came: keep the first few, and check each with SPF. */
static void
sniff_judge_ptr_names(struct sniff_judge *j, const struct dns_result *r)
{
	size_t i;

	j->nptr = r->nnames < SNIFF_PTR_SPF_MAX ? r->nnames :
	    SNIFF_PTR_SPF_MAX;
	for (i = 0; i < j->nptr; i++) {
		snprintf(j->ptr[i], sizeof(j->ptr[i]), "%s", r->names[i]);
		j->spf_ptr[i] = SNIFF_PENDING;
	}
	if (j->s->conf.sniffer.rule[RULE_SPF_PTR_FAIL] == ACTION_OFF)
		return;
	for (i = 0; i < j->nptr; i++) {
		struct sniff_judge_q *sq = &j->spfq[i];

		sq->j = j;
		sq->kind = Q_SPF_PTR;
		sq->idx = (unsigned)i;
		sniff_judge_spf(j, j->ptr[i], sq);
	}
}

static void
sniff_judge_on_dns(void *arg, const struct dns_result *r)
{
	struct sniff_judge_q *q = arg;
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
		if (r->status == DNS_OK && !j->done)
			sniff_judge_ptr_names(j, r);
		break;
	}
	sniff_judge_unref(j);
}

static void
sniff_judge_on_spf(void *arg, enum spfcheck_result r)
{
	struct sniff_judge_q *q = arg;
	struct sniff_judge *j = q->j;

	if (r == SPFCHECK_TEMPERROR || r == SPFCHECK_PERMERROR)
		j->s->st.spf_errors++;
	if (q->kind == Q_SPF)
		j->spf = (int)r;
	else
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
	f->client = j->ss->client;
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

/* Clean, with every answer in (not cut by the deadline, no error): the
 * same name from the same client needs no lookup for a while. */
static bool
sniff_judge_complete(const struct sniff_judge *j)
{
	const struct conf_sniffer *cs = &j->s->conf.sniffer;
	bool complete;

	complete = j->refs == 0 && j->st_a != DNS_ERROR &&
	    j->st_aaaa != DNS_ERROR && j->st_ptr != DNS_ERROR &&
	    j->st_reg != DNS_ERROR && j->spf != SPFCHECK_TEMPERROR &&
	    (j->spf != SNIFF_PENDING || cs->rule[RULE_SPF_FAIL] == ACTION_OFF);
	for (size_t i = 0; i < j->nptr; i++)
		complete &= j->spf_ptr[i] != SPFCHECK_TEMPERROR &&
		    (j->spf_ptr[i] != SNIFF_PENDING ||
		    cs->rule[RULE_SPF_PTR_FAIL] == ACTION_OFF);
	return complete;
}

static void
sniff_judge_conclude(struct sniff_judge *j)
{
	struct helo_facts f;
	struct helo_facts_detail d;
	char extra[96];
	uint32_t mask;
	uint64_t before;

	if (j->done)
		return;
	j->done = true;
	if (j->deadline != NULL) {
		evloop_timer_cancel(j->s->ev, j->deadline);
		j->deadline = NULL;
	}
	if (j->kind == SNIFF_JUDGE_MAIL) {
		if (helo_mail_judge(j->st_mail) != 0) {
			snprintf(extra, sizeof(extra), " from_domain=%.64s",
			    j->name);
			sniff_strike_hit(j->s, j->ss, RULE_MAIL_FROM_NO_DOMAIN,
			    extra);
		} else if (j->st_mail == DNS_OK || j->st_mail == DNS_NODATA) {
			sniff_clean_put(j->s, &j->ss->client, j->kind,
			    j->name);
		}
		return;
	}
	before = j->s->st.judgments;
	sniff_journal_spf(j->s, j->ss, j->spf);
	sniff_judge_facts(j, &f);
	mask = helo_facts_judge(&j->s->conf.sniffer, &f, &d);
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
		sniff_strike_hit(j->s, j->ss, (enum conf_rule)r, extra);
	}
	if (sniff_judge_complete(j) && j->s->st.judgments == before)
		sniff_clean_put(j->s, &j->ss->client, j->kind, j->name);
}

/* One DNS query of j, of a kind it asks once. */
static void
sniff_judge_query(struct sniff_judge *j, const char *name,
    enum dns_type type, int kind)
{
	struct sniff_judge_q *q = &j->q[kind];

	q->j = j;
	q->kind = kind;
	q->idx = 0;
	j->refs++;
	j->s->st.dns_queries++;
	dns_query(j->s->dns, name, type, sniff_judge_on_dns, q);
}

static struct sniff_judge *
sniff_judge_new(struct sniff *s, struct sniff_session *ss,
    enum sniff_judge_kind kind, const char *name)
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
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->st_a = j->st_aaaa = j->st_reg = j->st_ptr = j->st_mail =
	    SNIFF_PENDING;
	j->spf = SNIFF_PENDING;
	j->deadline_ms = evloop_now_ms(s->ev) + s->conf.sniffer.deadline_ms;
	j->deadline = evloop_timer_at(s->ev, j->deadline_ms,
	    sniff_judge_deadline, j);
	if (j->deadline == NULL) {
		sniff_flow_session_unref(ss);
		s->njudges--;
		free(j);
		return NULL;
	}
	return j;
}

/* Is any rule among the DNS/SPF ones of a HELO on? */
static bool
sniff_judge_dns_rules_on(const struct conf_sniffer *cs)
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
sniff_judge_helo(struct sniff *s, struct sniff_session *ss, const char *arg,
    size_t len)
{
	const struct conf_sniffer *cs = &s->conf.sniffer;
	const struct addr *client = &ss->client;
	char name[HELO_NAME_MAX], rev[ADDR_REVNAME_MAX];
	struct sniff_judge *j;
	uint32_t mask;

	s->st.helos++;
	sniff_judge_printable(arg, len, ss->helo, sizeof(ss->helo));
	sniff_journal_helo(s, ss, arg, len);
	mask = helo_judge(cs, arg, len, name);
	for (unsigned r = 0; r < RULE_MAX; r++)
		if (mask & (1u << r))
			sniff_strike_hit(s, ss, (enum conf_rule)r, "");
	/* A HELO already judged forged needs no DNS to say so again. */
	if (mask != 0 || name[0] == '\0' || !sniff_judge_dns_rules_on(cs) ||
	    sniff_clean_hit(s, client, SNIFF_JUDGE_HELO, name))
		return;
	if ((j = sniff_judge_new(s, ss, SNIFF_JUDGE_HELO, name)) == NULL)
		return;
	/* When the name is its registered domain, its A answer says. */
	if (helo_registered_domain(s->psl, name, j->regdom) == 0 &&
	    strcmp(j->regdom, name) != 0)
		sniff_judge_query(j, j->regdom, DNS_A, Q_REG);
	sniff_judge_query(j, name, DNS_A, Q_A);
	sniff_judge_query(j, name, DNS_AAAA, Q_AAAA);
	if (addr_reverse_name(client, NULL, rev, sizeof(rev)) > 0)
		sniff_judge_query(j, rev, DNS_PTR, Q_PTR);
	if (cs->rule[RULE_SPF_FAIL] != ACTION_OFF) {
		/* The A and AAAA queries above are out: refs stays > 0 if
		 * spfcheck refuses. */
		j->q[Q_SPF].j = j;
		j->q[Q_SPF].kind = Q_SPF;
		sniff_judge_spf(j, name, &j->q[Q_SPF]);
	}
}

void
sniff_judge_mail(struct sniff *s, struct sniff_session *ss, const char *dom,
    size_t len)
{
	char name[HELO_NAME_MAX];
	struct sniff_judge *j;
	static const struct conf_sniffer none;

	s->st.mails++;
	sniff_journal_mail(s, ss, dom, len);
	if (len == 0 || s->conf.sniffer.rule[RULE_MAIL_FROM_NO_DOMAIN] ==
	    ACTION_OFF)
		return;
	/* Only a syntactically valid, qualified domain is looked up. */
	if (helo_judge(&none, dom, len, name) != 0 || name[0] == '\0' ||
	    sniff_clean_hit(s, &ss->client, SNIFF_JUDGE_MAIL, name))
		return;
	if ((j = sniff_judge_new(s, ss, SNIFF_JUDGE_MAIL, name)) == NULL)
		return;
	sniff_judge_query(j, name, DNS_A, Q_MAILDOM);
}
