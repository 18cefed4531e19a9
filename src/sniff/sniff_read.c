/*
 * sniff_read.c - reading one session: which sessions are read, the
 * reassembly of their payload into command lines (smtpcmd.h), and the
 * lines kept for judging once the packet has its verdict (contract in
 * sniff_int.h).
 *
 * A packet is read before its verdict, because reassembly takes a
 * microsecond or two and tells whether this very packet ends the session
 * (the first MAIL FROM, STARTTLS, DATA, too many lines, bytes that cannot
 * be placed, the window's last packet), so that it can carry the mark;
 * the judgments (DNS, SPF, logs) wait until the verdict is sent
 * (sniff_read_judge).  At most SNIFF_PENDING_MAX HELO/MAIL lines of one
 * packet are kept; the rest are counted as overload.
 *
 * A flow is read from its first data (sniff_read_first): data that begins
 * with HELO or EHLO, or any data when conntrack says the client has sent
 * no more than SNIFF_START_PKTS packets; a session joined in the middle
 * (after a restart, or pushed out by max_flows) could put a message body
 * line where a command is expected, so it is read only when its data
 * begins with a command and is never judged trickle.
 *
 * The protocol tests (smtpproto.h: pregreet, pipelining, non-smtp,
 * bare-lf) run on a session read from its start, as its bytes are
 * reassembled: each segment that brings fresh bytes in order is judged
 * with what the server had sent when it came, which the ruleset put in
 * its packet mark (marks.h, from conntrack's reply-direction count: no
 * packet of the server is ever queued, so nothing is delayed), then each
 * line with its line ending and whether more of its segment followed.
 * Their findings wait in pd like the lines, and are judged after the
 * verdict (sniff_strike_hit) once the packet's HELO lines were, so that
 * the log line names the HELO.
 *
 * The one struct sniff_pending (s->pending, 8 KiB) is reused for every
 * packet: the queue callback is never re-entered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "marks.h"
#include "sniff_int.h"

#define SNIFF_PENDING_MAX	8	/* HELO/MAIL lines judged per packet */
#define SNIFF_START_PKTS	5	/* a session's first data comes within
					 * its client's first packets */

/* The lines of one packet worth judging, kept until its verdict is sent. */
struct sniff_pending {
	struct sniff_flow *f;
	enum smtpcmd_lack trickle;	/* a trickle finding to judge */
	bool proto_on;			/* a protocol test is on */
	unsigned proto;			/* SMTPPROTO_* findings to judge */
	char verb[12];			/* non-smtp: the verb, printable */
	size_t n;
	struct {
		enum smtpcmd_verb v;
		size_t len;
		char arg[SMTPCMD_LINE_MAX];
	} line[SNIFF_PENDING_MAX];
};

struct sniff_pending *
sniff_read_pending_new(void)
{
	return calloc(1, sizeof(struct sniff_pending));
}

static void
sniff_read_line(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct sniff_pending *pd = ctx;
	struct sniff *s = pd->f->s;

	s->st.lines++;
	if (v == SMTPCMD_TOOLONG)
		s->st.toolong++;
	if (pd->proto_on && pd->f->from_start) {
		unsigned n = smtpproto_line(&pd->f->proto, v,
		    pd->f->cmd->bare_lf, pd->f->cmd->more);

		if (n & SMTPPROTO_NONSMTP) {
			size_t i;

			for (i = 0; i < len && i + 1 < sizeof(pd->verb); i++)
				pd->verb[i] = arg[i] > ' ' && arg[i] < 0x7f ?
				    arg[i] : '?';
			pd->verb[i] = '\0';
		}
		pd->proto |= n;
	}
	if (v != SMTPCMD_HELO && v != SMTPCMD_EHLO && v != SMTPCMD_MAIL)
		return;
	if (pd->n == SNIFF_PENDING_MAX || len > SMTPCMD_LINE_MAX) {
		s->st.overload++;
		return;
	}
	pd->line[pd->n].v = v;
	pd->line[pd->n].len = len;
	memcpy(pd->line[pd->n].arg, arg, len);
	pd->n++;
}

/* Reassemble p's payload; the lines to judge go to pd. */
static void
sniff_read_payload(struct sniff *s, struct sniff_flow *f, const struct pkt *p,
    struct sniff_pending *pd)
{
	enum smtpcmd_end e;

	e = smtpcmd_feed(f->cmd, p->seq, p->payload, p->payload_len,
	    sniff_read_line, pd);
	if (e == SMTPCMD_READING)
		return;
	/* Reading ended before a greeting: 64 lines of padding, or bytes
	 * that could not be placed. */
	pd->trickle = sniff_trickle_lack(s, f);
	f->done = true;
	if (e == SMTPCMD_END_STARTTLS)
		s->st.starttls++;
	else if (e == SMTPCMD_END_DATA)
		s->st.data++;
	else if (e == SMTPCMD_LOST)
		s->st.lost++;
	if (log_get_verbose() > 0) {
		char ip[ADDR_STRLEN];
		log_debug("sniff: %s:%u done (%s)", addr_ntop(&f->src, ip),
		    f->sport, smtpcmd_end_name(e));
	}
}

/*
 * The first data of flow f.  A session is read from its start: a HELO or
 * EHLO there is its start; other data is its start when conntrack says
 * the client has sent no more than SNIFF_START_PKTS packets (SYN, the
 * handshake's ACK, an ACK of the banner, this one), whatever the data
 * says (NOOP, junk, an empty line, the tail of a command sent first).  A
 * session joined in the middle could put a message body line where a
 * command is expected: it is read only when its data begins with a
 * command, and never judged trickle (what it lacks was said before we
 * joined).
 */
static void
sniff_read_first(struct sniff *s, struct sniff_flow *f, const struct pkt *p)
{
	struct sniff_ct ct;

	if (smtpcmd_opens_greeting(p->payload, p->payload_len)) {
		f->from_start = true;
		return;
	}
	if (sniff_ct_ask(s, f, &ct) == 0 && ct.counted &&
	    ct.packets <= SNIFF_START_PKTS) {
		f->from_start = true;
		return;
	}
	if (smtpcmd_opens_command(p->payload, p->payload_len))
		return;
	s->st.late++;
	f->done = true;
}

/* Is any of the protocol tests on? */
static bool
sniff_read_proto_on(const struct sniff *s)
{
	const enum action *r = s->conf.sniffer.rule;

	return r[RULE_PREGREET] != ACTION_OFF ||
	    r[RULE_PIPELINING] != ACTION_OFF ||
	    r[RULE_NON_SMTP] != ACTION_OFF || r[RULE_BARE_LF] != ACTION_OFF;
}

/* What the server had sent when a packet with this mark came (marks.h). */
static enum smtpproto_server
sniff_read_server(uint32_t mark)
{
	switch (mark & MARK_MASK) {
	case MARK_SRV_SYNACK:	return SMTPPROTO_SRV_SYNACK;
	case MARK_SRV_BANNER:	return SMTPPROTO_SRV_BANNER;
	default:		return SMTPPROTO_SRV_MORE;
	}
}

/*
 * The round-trip part of pregreet, at the session's first data: judged
 * with its handshake's copies (sniff_rtt.c) and when this packet was read
 * (s->pkt_us: at or after it came) and its ACK number, now or when the
 * copies come.  No copies, no judgment: the order test stands alone.
 */
static unsigned
sniff_read_times(struct sniff *s, struct sniff_flow *f, const struct pkt *p)
{
	if (s->conf.sniffer.rule[RULE_PREGREET] == ACTION_OFF ||
	    s->nflog == NULL || (f->proto.found & SMTPPROTO_PREGREET))
		return 0;
	return sniff_rtt_first(s, f, s->pkt_us, p->ack);
}

/* Queued packets the sniffer reads per session: ct original packets 3..N
 * of the ruleset. */
static uint32_t
sniff_read_window(const struct sniff *s)
{
	return s->conf.sniffer.packets > 2 ? s->conf.sniffer.packets - 2 : 0;
}

void
sniff_read_packet(struct sniff *s, struct sniff_flow *f, const struct pkt *p,
    uint32_t mark, bool fin, struct sniff_pending *pd)
{
	pd->f = f;
	pd->n = 0;
	pd->trickle = SMTPCMD_LACKS_NOTHING;
	pd->proto = 0;
	pd->proto_on = sniff_read_proto_on(s);
	f->npkts++;
	if (!f->done && p->payload_len > 0 && !f->cmd->started)
		sniff_read_first(s, f, p);
	if (!f->done && p->payload_len > 0 && !p->truncated) {
		if (pd->proto_on && f->from_start && smtpcmd_fresh(f->cmd,
		    p->seq, p->payload_len)) {
			bool first = !f->proto.seg_seen;

			pd->proto |= smtpproto_segment(&f->proto,
			    sniff_read_server(mark), p->ack);
			if (first)
				pd->proto |= sniff_read_times(s, f, p);
		}
		sniff_read_payload(s, f, p, pd);
	}
	if (!f->done) {
		uint32_t w = sniff_read_window(s);
		bool last = w > 0 && f->npkts >= w;

		/* The ruleset queues no more of the session after the
		 * window's last packet. */
		pd->trickle = sniff_trickle_packet(s, f, last, fin);
		if (last)
			f->done = true;
	}
}

void
sniff_read_pregreet(struct sniff *s, struct sniff_flow *f)
{
	const struct smtpproto_rtt *t = &f->proto.rtt;
	enum smtpproto_greet g = f->proto.greet;
	char extra[96];

	if (s->conf.sniffer.rule[RULE_PREGREET] == ACTION_OFF)
		return;
	s->st.pregreets++;
	if (g == SMTPPROTO_GREET_ACK)
		s->st.pregreet_ack++;
	else if (g == SMTPPROTO_GREET_RTT)
		s->st.pregreet_rtt++;
	if (g == SMTPPROTO_GREET_ORDER)
		snprintf(extra, sizeof(extra), " server=synack");
	else if (t->tol_us > 0)
		snprintf(extra, sizeof(extra), " server=banner why=%s "
		    "rtt_ms=%.1f gap_ms=%.1f", smtpproto_greet_name(g),
		    (double)t->rtt_us / 1000, (double)t->gap_us / 1000);
	else
		snprintf(extra, sizeof(extra), " server=banner why=%s",
		    smtpproto_greet_name(g));
	sniff_strike_hit(s, f->ss, RULE_PREGREET, extra);
}

/* The protocol tests' findings of one packet, each a rule hit. */
static void
sniff_read_proto_judge(struct sniff *s, struct sniff_flow *f,
    const struct sniff_pending *pd)
{
	const enum action *r = s->conf.sniffer.rule;
	unsigned found = pd->proto;
	char extra[64];

	/* Counted only when the rule is on (the others ran the tests). */
	if (r[RULE_PREGREET] == ACTION_OFF)
		found &= ~SMTPPROTO_PREGREET;
	if (r[RULE_PIPELINING] == ACTION_OFF)
		found &= ~SMTPPROTO_PIPELINING;
	if (r[RULE_NON_SMTP] == ACTION_OFF)
		found &= ~SMTPPROTO_NONSMTP;
	if (r[RULE_BARE_LF] == ACTION_OFF)
		found &= ~SMTPPROTO_BARE_LF;
	if (found & SMTPPROTO_PREGREET)
		sniff_read_pregreet(s, f);
	if (found & SMTPPROTO_PIPELINING) {
		s->st.protocol++;
		snprintf(extra, sizeof(extra), " after=%s",
		    smtpproto_pipe_name(f->proto.pipe));
		sniff_strike_hit(s, f->ss, RULE_PIPELINING, extra);
	}
	if (found & SMTPPROTO_NONSMTP) {
		s->st.protocol++;
		snprintf(extra, sizeof(extra), " command=%s", pd->verb[0] ?
		    pd->verb : "-");
		sniff_strike_hit(s, f->ss, RULE_NON_SMTP, extra);
	}
	if (found & SMTPPROTO_BARE_LF) {
		s->st.protocol++;
		sniff_strike_hit(s, f->ss, RULE_BARE_LF, "");
	}
}

void
sniff_read_judge(struct sniff *s, struct sniff_pending *pd)
{
	struct sniff_flow *f = pd->f;

	if (pd->trickle != SMTPCMD_LACKS_NOTHING)
		sniff_trickle_judge(s, f, pd->trickle);
	for (size_t i = 0; i < pd->n; i++) {
		if (pd->line[i].v != SMTPCMD_MAIL) {
			sniff_judge_helo(s, f->ss, pd->line[i].arg,
			    pd->line[i].len);
		} else if (!f->ss->mail_judged) {
			/* Only the first transaction's sender is judged. */
			f->ss->mail_judged = true;
			sniff_judge_mail(s, f->ss, pd->line[i].arg,
			    pd->line[i].len);
		}
	}
	if (pd->proto != 0)
		sniff_read_proto_judge(s, f, pd);
}
