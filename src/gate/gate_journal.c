/*
 * gate_journal.c - what the gate writes into the verdict journal
 * (journal.h): one attempt row per verdict, with every finding and the
 * action its rule is configured with; a 'retried' outcome for each sender
 * the kernel passed on its retry; an 'allowed' outcome for each prefix an
 * allow-list reload added.
 *
 * Exports gate_journal_open (gate.h), gate_journal_verdict,
 * gate_journal_retried and gate_journal_allowed (gate_int.h).  The journal
 * is opened after the privileges are dropped (smtpgated.c) and closed by
 * gate_free; g->journal NULL (the journal off, or not open yet) makes
 * every hook return at once.
 *
 * Rule names (smtpgate.conf(5), JOURNAL): verdict_reason_name of each
 * finding but dnswl, which is recorded as its zones: dnsbl:ZONE for a zone
 * whose answer counted a positive weight (the dnsbl action when the score
 * reached dnsbl_threshold, else log), dnswl:ZONE for a negative one
 * (accept when the allow threshold passed the client, else log).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "allowlist.h"
#include "gate.h"
#include "gate_int.h"
#include "journal.h"
#include "log.h"

/* The action [gate] configures for the rule behind finding r. */
static enum action
gate_journal_action(const struct conf_gate *cg, enum verdict_reason r)
{
	switch (r) {
	case VERDICT_R_DNSBL:		return cg->dnsbl;
	case VERDICT_R_NO_PTR:		return cg->no_ptr;
	case VERDICT_R_DNS_ERROR:	return cg->dns_error;
	case VERDICT_R_GENERIC:		return cg->generic_ptr;
	case VERDICT_R_STATIC:		return cg->static_ptr;
	case VERDICT_R_FCRDNS:		return cg->fcrdns;
	case VERDICT_R_INVALID_PTR:	return cg->invalid_ptr;
	case VERDICT_R_DNSWL:		return ACTION_ACCEPT;
	default:			return ACTION_LOG;
	}
}

/* named|generic|static|invalid for a PTR found; none|unknown|error. */
static const char *
gate_journal_class(const struct findings *f, const struct findings_judgment *j)
{
	switch (j->vf.ptr) {
	case VERDICT_PTR_NONE:
		return "none";
	case VERDICT_PTR_UNKNOWN:
		return "unknown";
	case VERDICT_PTR_ERROR:
		return "error";
	case VERDICT_PTR_FOUND:
		break;
	}
	if (f->ptr_bad)
		return "invalid";
	switch (j->vf.cls) {
	case PTR_NAMED:		return "named";
	case PTR_GENERIC:	return "generic";
	case PTR_STATIC_GENERIC: return "static";
	case PTR_INVALID:	return "invalid";
	}
	return "unknown";
}

void
gate_journal_verdict(struct gate_lookup *lk,
    const struct findings_judgment *j)
{
	struct journal *jn = lk->g->journal;
	const struct findings *f = &lk->f;
	const struct conf_gate *cg = &lk->cfg->conf.gate;
	const struct verdict *v = &j->v;
	struct journal_record r;
	char a[ADDR_STRLEN], rule[DNSBL_ZONE_MAX + 8];
	bool dnsbl_hit = false, dnswl = false;

	if (jn == NULL)
		return;
	journal_record_init(&r, jn, addr_ntop(&f->client, a));
	r.verdict = verdict_action_name(v->action);
	r.enforced = cg->enforce;
	r.accepted = v->action == ACTION_ACCEPT || !cg->enforce;
	r.reason = v->nreasons > 0 ? verdict_reason_name(v->reason[0]) : "";
	if (j->name != NULL) {
		snprintf(r.ptr, sizeof r.ptr, "%s", j->name);
		r.has |= JOURNAL_HAS_PTR;
	} else if (f->ptr_bad && f->nbad > 0) {
		snprintf(r.ptr, sizeof r.ptr, "%s", f->bad);
		r.has |= JOURNAL_HAS_PTR;
	}
	r.ptr_class = gate_journal_class(f, j);
	r.fcrdns = j->vf.fcrdns == VERDICT_FCRDNS_PASS ? "pass" :
	    j->vf.fcrdns == VERDICT_FCRDNS_FAIL ? "fail" : "unknown";
	r.dnsbl_score = f->dnsbl_score;
	r.has |= JOURNAL_HAS_PTR_CLASS | JOURNAL_HAS_FCRDNS | JOURNAL_HAS_SCORE;
	for (size_t i = 0; i < v->nreasons; i++) {
		if (v->reason[i] == VERDICT_R_DNSWL) {
			dnswl = true;
			continue;
		}
		if (v->reason[i] == VERDICT_R_DNSBL)
			dnsbl_hit = true;
		(void)journal_record_finding(&r,
		    verdict_reason_name(v->reason[i]),
		    gate_journal_action(cg, v->reason[i]));
	}
	for (size_t z = 0; z < cg->dnsbl_sites.nzones && z < DNSBL_MAX_SITES;
	    z++) {
		/* dnsbl = off: its zones are no rule either */
		if (f->zscore[z] == 0 || (f->zscore[z] > 0 &&
		    cg->dnsbl == ACTION_OFF))
			continue;
		snprintf(rule, sizeof rule, "%s:%s", f->zscore[z] > 0 ?
		    "dnsbl" : "dnswl", cg->dnsbl_sites.zone[z]);
		if (journal_record_finding(&r, rule, f->zscore[z] > 0 ?
		    (dnsbl_hit ? cg->dnsbl : ACTION_LOG) :
		    (dnswl ? ACTION_ACCEPT : ACTION_LOG)) == -1)
			break;
	}
	journal_put(jn, &r);
}

void
gate_journal_retried(struct gate *g, const struct addr *a)
{
	char s[ADDR_STRLEN];

	if (g->journal != NULL)
		journal_outcome(g->journal, addr_ntop(a, s), "retried");
}

/* "198.51.100.0/24", or the address alone for a host prefix. */
static void
gate_journal_prefix(const struct prefix *p, char *buf, size_t len)
{
	char s[ADDR_STRLEN];
	unsigned host = p->a.family == AF_INET ? 32 : 128;

	addr_ntop(&p->a, s);
	if (p->len == host)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%s/%u", s, p->len);
}

static int
gate_journal_prefix_cmp(const void *x, const void *y)
{
	const struct prefix *a = x, *b = y;
	int c;

	if (a->a.family != b->a.family)
		return a->a.family < b->a.family ? -1 : 1;
	if ((c = memcmp(&a->a, &b->a, sizeof a->a)) != 0)
		return c;
	return (int)a->len - (int)b->len;
}

/*
 * The allow file's prefixes now, sorted into a fresh array (*n of them),
 * or NULL (*n 0) when the file cannot be read.
 */
static struct prefix *
gate_journal_allow_load(struct gate *g, size_t *n)
{
	const char *path = g->cfg->conf.nft.allow_file;
	struct allowlist l;
	struct prefix *p;
	char err[512];
	int64_t now = (int64_t)time(NULL);

	*n = 0;
	allowlist_init(&l);
	if (allowlist_load(path, true, NULL, &l, err, sizeof err) == -1)
		return NULL;
	if ((p = calloc(l.n + 1, sizeof *p)) == NULL) {
		allowlist_free(&l);
		return NULL;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.e[i].expires == 0 || l.e[i].expires > now)
			p[(*n)++] = l.e[i].p;
	allowlist_free(&l);
	qsort(p, *n, sizeof *p, gate_journal_prefix_cmp);
	return p;
}

void
gate_journal_allowed(struct gate *g)
{
	struct prefix *now;
	size_t n;
	char s[ADDR_STRLEN + 8];

	if (g->journal == NULL)
		return;
	if ((now = gate_journal_allow_load(g, &n)) == NULL)
		return;		/* the apply logged why already */
	for (size_t i = 0; i < n; i++) {
		if (g->allowed != NULL && bsearch(&now[i], g->allowed,
		    g->nallowed, sizeof now[i], gate_journal_prefix_cmp) !=
		    NULL)
			continue;
		gate_journal_prefix(&now[i], s, sizeof s);
		journal_outcome(g->journal, s, "allowed");
	}
	free(g->allowed);
	g->allowed = now;
	g->nallowed = n;
}

void
gate_journal_open(struct gate *g, const struct conf_journal *cj)
{
	char err[512];

	if (g->journal != NULL)
		return;
	g->journal = journal_open(cj, JOURNAL_GATE, err, sizeof err);
	if (g->journal == NULL) {
		if (err[0] != '\0')
			log_warnx("%s (verdicts are not journaled)", err);
		return;
	}
	/* What is allowed already is no news: only later additions are. */
	g->allowed = gate_journal_allow_load(g, &g->nallowed);
	log_info("journal: %s (retention %us, max_size %llu, queue %u)",
	    cj->file, cj->retention_s, (unsigned long long)cj->max_size,
	    cj->queue);
}

void
gate_journal_close(struct gate *g)
{
	journal_close(g->journal);
	g->journal = NULL;
	free(g->allowed);
	g->allowed = NULL;
	g->nallowed = 0;
}
