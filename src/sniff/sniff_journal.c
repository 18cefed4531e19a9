/*
 * sniff_journal.c - what the sniffer writes into the verdict journal
 * (journal.h): one attempt row per judged session, written when the
 * session ends (its flow is gone and its last judgment concluded, the
 * session's last reference: sniff_flow_session_unref), with the HELO, the
 * MAIL FROM domain, the SPF result of the HELO, and every rule the session
 * hit with its configured action (offend or log).
 *
 * Exports sniff_journal_open (sniff.h) and the sniff_journal_* hooks of
 * sniff_int.h.  A session gathers its row in a small record of its own
 * (struct sniff_jacc), allocated at its first HELO, MAIL FROM or rule hit
 * while the journal is on; with the journal off (s->journal NULL) every
 * hook returns at once.  The verdict: ban when a hit banned the client
 * (or found it banned), strike when a rule struck, else clean; accepted
 * unless banned or cut, or always in observe mode (enforce = no).
 */
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "sniff.h"
#include "sniff_int.h"
#include "spfcheck.h"

enum { SJ_CLEAN, SJ_STRIKE, SJ_BAN };

struct sniff_jacc {
	struct journal *j;
	bool enforced;			/* [sniffer] enforce at the last hook */
	uint32_t rules;			/* 1u << conf_rule of each rule hit */
	uint8_t action[RULE_MAX];	/* its enum action */
	enum conf_rule first;		/* the first rule that struck */
	int verdict;			/* SJ_* */
	bool helo, mail;		/* seen */
	int spf;			/* enum spfcheck_result, -1 none */
	char helo_arg[JOURNAL_HELO_MAX];
	size_t helo_len;
	char mail_domain[JOURNAL_NAME_MAX];
};

static struct sniff_jacc *
sniff_journal_acc(struct sniff *s, struct sniff_session *ss)
{
	struct sniff_jacc *a = ss->jacc;

	if (s->journal == NULL)
		return NULL;
	if (a == NULL) {
		if ((a = calloc(1, sizeof *a)) == NULL)
			return NULL;
		a->j = s->journal;
		a->spf = -1;
		a->first = RULE_MAX;
		ss->jacc = a;
	}
	a->enforced = s->conf.sniffer.enforce;
	return a;
}

void
sniff_journal_helo(struct sniff *s, struct sniff_session *ss,
    const char *arg, size_t len)
{
	struct sniff_jacc *a = sniff_journal_acc(s, ss);

	if (a == NULL)
		return;
	/* The last HELO of the session is the one judged last. */
	a->helo = true;
	a->helo_len = len < sizeof a->helo_arg ? len : sizeof a->helo_arg;
	memcpy(a->helo_arg, arg, a->helo_len);
}

void
sniff_journal_mail(struct sniff *s, struct sniff_session *ss,
    const char *dom, size_t len)
{
	struct sniff_jacc *a = sniff_journal_acc(s, ss);
	size_t o = 0;

	if (a == NULL || a->mail)
		return;
	a->mail = true;
	if (len == 0)
		return;		/* MAIL FROM:<>: no domain, NULL */
	/* Printable ASCII, lower case; anything else as '?' (a domain the
	 * rules could look up has no such bytes). */
	for (size_t i = 0; i < len && o + 1 < sizeof a->mail_domain; i++) {
		unsigned char c = (unsigned char)dom[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		a->mail_domain[o++] = c > ' ' && c < 0x7f ? (char)c : '?';
	}
	a->mail_domain[o] = '\0';
}

void
sniff_journal_spf(struct sniff *s, struct sniff_session *ss, int spf)
{
	struct sniff_jacc *a;

	if (spf < 0 || (a = sniff_journal_acc(s, ss)) == NULL)
		return;
	a->spf = spf;
}

void
sniff_journal_hit(struct sniff *s, struct sniff_session *ss,
    enum conf_rule rule, enum action action, const char *act)
{
	struct sniff_jacc *a = sniff_journal_acc(s, ss);

	if (a == NULL || rule >= RULE_MAX)
		return;
	a->rules |= 1u << rule;
	a->action[rule] = (uint8_t)action;
	if (action != ACTION_OFFEND || strcmp(act, "trusted") == 0)
		return;
	if (a->first == RULE_MAX)
		a->first = rule;
	if (strcmp(act, "ban") == 0 || strcmp(act, "banned") == 0)
		a->verdict = SJ_BAN;
	else if (a->verdict == SJ_CLEAN)
		a->verdict = SJ_STRIKE;
}

void
sniff_journal_end(struct sniff_session *ss)
{
	static const char *const verdict[] = { "clean", "strike", "ban" };
	struct sniff_jacc *a = ss->jacc;
	struct journal_record r;
	char ip[ADDR_STRLEN];

	if (a == NULL)
		return;
	ss->jacc = NULL;
	journal_record_init(&r, a->j, addr_ntop(&ss->client, ip));
	r.daemon = JOURNAL_SNIFF;
	r.verdict = verdict[a->verdict];
	r.enforced = a->enforced;
	r.accepted = !a->enforced || (a->verdict != SJ_BAN && !ss->cut);
	r.reason = a->first < RULE_MAX ? conf_rule_name(a->first) : "";
	if (a->helo)
		journal_record_helo(&r, a->helo_arg, a->helo_len);
	if (a->mail_domain[0] != '\0') {
		memcpy(r.mail_domain, a->mail_domain, sizeof r.mail_domain);
		r.has |= JOURNAL_HAS_MAIL_DOMAIN;
	}
	if (a->spf >= 0) {
		r.spf_helo = spfcheck_name((enum spfcheck_result)a->spf);
		r.has |= JOURNAL_HAS_SPF_HELO;
	}
	for (unsigned i = 0; i < RULE_MAX; i++)
		if (a->rules & (1u << i))
			(void)journal_record_finding(&r,
			    conf_rule_name((enum conf_rule)i),
			    (enum action)a->action[i]);
	journal_put(a->j, &r);
	free(a);
}

void
sniff_journal_open(struct sniff *s, const struct conf_journal *cj)
{
	char err[512];

	if (s->journal != NULL)
		return;
	s->journal = journal_open(cj, JOURNAL_SNIFF, err, sizeof err);
	if (s->journal == NULL) {
		if (err[0] != '\0')
			log_warnx("%s (judgments are not journaled)", err);
		return;
	}
	log_info("journal: %s (retention %us, max_size %llu, queue %u)",
	    cj->file, cj->retention_s, (unsigned long long)cj->max_size,
	    cj->queue);
}

void
sniff_journal_close(struct sniff *s)
{
	journal_close(s->journal);
	s->journal = NULL;
}
