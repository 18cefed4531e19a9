/*
 * sniff_trickle.c - sessions that never complete their greeting (issue
 * 8): the suspects, their conntrack questions and the trickle finding
 * (contract in sniff_int.h).
 *
 * A flow read from its start (sniff_read.c) that reaches the window's
 * last packet ([sniffer] packets, counted by sniff_read.c or, since pure
 * ACKs are not queued, by conntrack once the flow is silent), whose
 * reading ends, or that closes with a gap, all before a HELO/EHLO
 * completed, is a finding (smtpcmd_lack says what it lacks).  A session
 * that ends without a gap ended normally, whatever it said.  Flows short
 * of their greeting are kept on the list of suspects (s->suspects, linked
 * through the flows: a flow is freed only after sniff_trickle_forget) for
 * the conntrack questions.  No finding while queued packets were lost
 * (loss_gen): a lost one could be the missing bytes.
 */
#include <errno.h>
#include <stdio.h>

#include <linux/netfilter/nf_conntrack_tcp.h>

#include "sniff_int.h"

#define SNIFF_SILENCE_MS	1000	/* a suspect this silent: ask conntrack */
#define SNIFF_CT_EVERY_MS	2000	/* and again after this */

enum smtpcmd_lack
sniff_trickle_lack(const struct sniff *s, const struct sniff_flow *f)
{
	if (!f->from_start || f->loss_gen != s->loss_gen ||
	    s->conf.sniffer.rule[RULE_TRICKLE] == ACTION_OFF)
		return SMTPCMD_LACKS_NOTHING;
	return smtpcmd_lack(f->cmd);
}

enum smtpcmd_lack
sniff_trickle_packet(const struct sniff *s, const struct sniff_flow *f,
    bool last, bool fin)
{
	enum smtpcmd_lack lack = sniff_trickle_lack(s, f);

	if (last || (fin && lack == SMTPCMD_LACKS_BYTES))
		return lack;
	return SMTPCMD_LACKS_NOTHING;
}

void
sniff_trickle_forget(struct sniff *s, struct sniff_flow *f)
{
	if (!f->suspect)
		return;
	if (f->sus_prev != NULL)
		f->sus_prev->sus_next = f->sus_next;
	else
		s->suspects = f->sus_next;
	if (f->sus_next != NULL)
		f->sus_next->sus_prev = f->sus_prev;
	f->sus_prev = f->sus_next = NULL;
	f->suspect = false;
}

void
sniff_trickle_update(struct sniff *s, struct sniff_flow *f)
{
	bool want = !f->done && f->cmd != NULL && f->from_start &&
	    smtpcmd_lack(f->cmd) != SMTPCMD_LACKS_NOTHING;

	if (want == f->suspect)
		return;
	if (!want) {
		sniff_trickle_forget(s, f);
		return;
	}
	f->suspect = true;
	f->sus_prev = NULL;
	f->sus_next = s->suspects;
	if (s->suspects != NULL)
		s->suspects->sus_prev = f;
	s->suspects = f;
	f->ct_next_ms = 0;
}

void
sniff_trickle_judge(struct sniff *s, struct sniff_flow *f,
    enum smtpcmd_lack lack)
{
	char extra[48];

	s->st.trickles++;
	snprintf(extra, sizeof(extra), " lack=%s packets=%u",
	    smtpcmd_lack_name(lack), f->npkts);
	sniff_strike_hit(s, f->ss, RULE_TRICKLE, extra);
}

/*
 * A suspect is read no more: its window closed (conntrack counted more
 * packets than the ruleset queues), it went silent for flow_idle, or it
 * closed (then only a gap is a finding: a session that ends without one
 * ended normally).  Judge what it lacks when judge says so.
 */
void
sniff_trickle_end(struct sniff *s, struct sniff_flow *f, bool judge)
{
	/* Before sniff_flow_touch frees the reassembly buffer. */
	enum smtpcmd_lack lack = sniff_trickle_lack(s, f);

	sniff_trickle_forget(s, f);
	f->done = true;
	sniff_flow_touch(s, f);
	if (judge && lack != SMTPCMD_LACKS_NOTHING)
		sniff_trickle_judge(s, f, lack);
}

/*
 * Suspects silent for a second: the sniffer cannot see the rest of a
 * session whose window has closed (nor pure ACKs, which are not queued),
 * so it asks conntrack how many packets the client has sent.  At most
 * SNIFF_CT_PER_TICK questions a second, each flow every SNIFF_CT_EVERY_MS.
 */
void
sniff_trickle_tick(struct sniff *s, int64_t now)
{
	struct sniff_flow *f, *next;
	unsigned asked = 0;

	for (f = s->suspects; f != NULL && asked < SNIFF_CT_PER_TICK;
	    f = next) {
		struct sniff_ct ct;
		int rc;

		next = f->sus_next;
		if (now - f->last_ms < SNIFF_SILENCE_MS || now < f->ct_next_ms)
			continue;
		f->ct_next_ms = now + SNIFF_CT_EVERY_MS;
		asked++;
		rc = sniff_ct_ask(s, f, &ct);
		if (rc == -ENOENT)
			sniff_trickle_end(s, f, false);		/* gone */
		else if (rc == 0 && ct.counted &&
		    ct.packets > s->conf.sniffer.packets)
			sniff_trickle_end(s, f, true);		/* window */
		else if (rc == 0 && ct.tcp_state >= TCP_CONNTRACK_FIN_WAIT &&
		    ct.tcp_state <= TCP_CONNTRACK_CLOSE)
			/* Closing (its FIN or RST is not queued to us: the
			 * ruleset returns bare ones): only a gap is left. */
			sniff_trickle_end(s, f, smtpcmd_lack(f->cmd) ==
			    SMTPCMD_LACKS_BYTES);
	}
}
