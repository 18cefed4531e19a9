/*
 * smtpproto.c - the passive protocol tests of a session (contract in
 * smtpproto.h).  Pure: struct smtpproto is the whole state.
 *
 * The server's reply-direction packet count distinguishes only its first
 * three packets (SYN-ACK, banner, first reply); past the first reply
 * every segment looks answered, so the cross-segment pipelining test
 * covers the client's first command and the same-segment test the rest.
 */
#include <string.h>

#include "smtpproto.h"

void
smtpproto_init(struct smtpproto *p)
{
	memset(p, 0, sizeof(*p));
	p->first = SMTPPROTO_SRV_MORE;
}

/* Findings in bits not made before; they are made now. */
static unsigned
smtpproto_new(struct smtpproto *p, unsigned bits)
{
	bits &= ~p->found;
	p->found |= bits;
	return bits;
}

/* Pipelining found: after which greeting, if any. */
static unsigned
smtpproto_pipelined(struct smtpproto *p)
{
	unsigned n = smtpproto_new(p, SMTPPROTO_PIPELINING);

	if (n != 0)
		p->pipe = !p->greeted ? SMTPPROTO_PIPE_BANNER : p->ehlo ?
		    SMTPPROTO_PIPE_EHLO : SMTPPROTO_PIPE_HELO;
	return n;
}

unsigned
smtpproto_segment(struct smtpproto *p, enum smtpproto_server srv,
    uint32_t ack)
{
	p->seg_ack = ack;
	if (!p->seg_seen) {
		p->seg_seen = true;
		p->first = srv;
		if (srv != SMTPPROTO_SRV_SYNACK)
			return 0;
		if (!(p->found & SMTPPROTO_PREGREET))
			p->greet = SMTPPROTO_GREET_ORDER;
		return smtpproto_new(p, SMTPPROTO_PREGREET);
	}
	if (p->lines == 0)
		return 0;		/* still inside its first line */
	/* The client had received nothing from the server since it sent
	 * its last command: this was sent before any reply to it came.
	 * (The server's own count cannot tell: it may have sent a bare ACK
	 * of the command before its reply.) */
	if (!p->pipelining_ok && ack == p->cmd_ack)
		return smtpproto_pipelined(p);
	if (!p->answered) {
		/* A command was complete, and the server has sent nothing
		 * since its banner: this was sent before its reply. */
		if (srv != SMTPPROTO_SRV_MORE)
			return smtpproto_pipelined(p);
		p->answered = true;
	}
	/* A segment after the greeting's line, once the server answered:
	 * the client waited for the reply (or we cannot tell). */
	if (p->greeting) {
		p->greeting = false;
		p->pipelining_ok = p->ehlo;
	}
	return 0;
}

enum smtpproto_greet
smtpproto_rtt_rule(const struct smtpproto_times *t, int64_t at_us,
    uint32_t ack, struct smtpproto_rtt *out)
{
	/* Nothing of the server acknowledged: its stack had not received a
	 * byte of the banner (sequence numbers wrap: exact equality). */
	bool unacked = t->have_isn && ack == t->isn + 1;

	memset(out, 0, sizeof(*out));
	if (t->synack_us > 0 && t->ack_us > 0 && at_us > 0) {
		out->rtt_us = t->ack_us - t->synack_us;
		out->gap_us = at_us - t->ack_us;
		/* An ACK before its SYN-ACK left, bytes before the handshake
		 * ended: times that cannot be. */
		if (out->rtt_us <= 0 || out->gap_us < 0)
			out->rtt_us = out->gap_us = 0;
		else
			out->tol_us = out->rtt_us / 4 >
			    SMTPPROTO_RTT_TOL_MIN_US ? out->rtt_us / 4 :
			    SMTPPROTO_RTT_TOL_MIN_US;
	}
	if (unacked)
		return SMTPPROTO_GREET_ACK;
	if (out->tol_us == 0)
		return SMTPPROTO_GREET_NONE;
	/* The banner left at the ACK's arrival or later. */
	return out->gap_us < out->rtt_us - out->tol_us ? SMTPPROTO_GREET_RTT :
	    SMTPPROTO_GREET_NONE;
}

unsigned
smtpproto_times_judge(struct smtpproto *p, const struct smtpproto_times *t,
    int64_t at_us, uint32_t ack)
{
	enum smtpproto_greet g;

	if (p->found & SMTPPROTO_PREGREET)
		return 0;
	g = smtpproto_rtt_rule(t, at_us, ack, &p->rtt);
	if (g == SMTPPROTO_GREET_NONE)
		return 0;
	p->greet = g;
	return smtpproto_new(p, SMTPPROTO_PREGREET);
}

const char *
smtpproto_greet_name(enum smtpproto_greet g)
{
	switch (g) {
	case SMTPPROTO_GREET_ORDER:	return "order";
	case SMTPPROTO_GREET_ACK:	return "ack";
	case SMTPPROTO_GREET_RTT:	return "rtt";
	case SMTPPROTO_GREET_NONE:	break;
	}
	return "-";
}

unsigned
smtpproto_line(struct smtpproto *p, enum smtpcmd_verb v, bool bare_lf,
    bool more)
{
	unsigned n = 0;

	p->cmd_ack = p->seg_ack;
	if (p->lines++ == 0 && v == SMTPCMD_NONSMTP)
		n |= smtpproto_new(p, SMTPPROTO_NONSMTP);
	if (bare_lf && v != SMTPCMD_TOOLONG)
		n |= smtpproto_new(p, SMTPPROTO_BARE_LF);
	if (v == SMTPCMD_HELO || v == SMTPCMD_EHLO) {
		/* Its reply decides what may follow (RFC 2920: EHLO ends a
		 * group); a second greeting asks anew. */
		p->greeting = p->greeted = true;
		p->ehlo = v == SMTPCMD_EHLO;
		p->pipelining_ok = false;
	}
	if (more && !p->pipelining_ok)
		n |= smtpproto_pipelined(p);
	return n;
}

const char *
smtpproto_pipe_name(enum smtpproto_pipe w)
{
	switch (w) {
	case SMTPPROTO_PIPE_BANNER:	return "banner";
	case SMTPPROTO_PIPE_HELO:	return "helo";
	case SMTPPROTO_PIPE_EHLO:	return "ehlo";
	case SMTPPROTO_PIPE_NONE:	break;
	}
	return "-";
}

const char *
smtpproto_server_name(enum smtpproto_server s)
{
	switch (s) {
	case SMTPPROTO_SRV_SYNACK:	return "synack";
	case SMTPPROTO_SRV_BANNER:	return "banner";
	case SMTPPROTO_SRV_MORE:	break;
	}
	return "more";
}
