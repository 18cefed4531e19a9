/*
 * smtpproto.h - the passive protocol tests of one SMTP session, pure (no
 * I/O): pregreet, pipelining where the client cannot know it is offered,
 * a non-SMTP first command, bare LF line endings.  Postfix's postscreen
 * judges these by speaking SMTP itself (which forces every new client to
 * reconnect); here they are read from the client's segments and from
 * what the server had sent when each segment reached the gateway.
 *
 * What the server had sent is the conntrack entry's reply-direction
 * packet count at the moment the client's segment passed the input hook
 * (the ruleset turns it into a packet mark, marks.h, so it is exact and
 * costs the server nothing: no packet of the server is ever held or
 * queued).  Packet 1 of the reply direction is the SYN-ACK; the next one
 * the server sends unasked is its banner; the one after that its first
 * reply (or an ACK).  A count can only be too high for these tests
 * (retransmitted SYN-ACKs, a banner in two packets, a pure ACK before a
 * reply): each test then finds nothing, so no legitimate client is ever
 * judged by a miscount.
 *
 * The caller feeds, for each client segment that brings bytes not read
 * before, in order (smtpcmd_fresh), smtpproto_segment with what the
 * server had sent and the segment's acknowledgment number, then each line the reassembler reports for it
 * (smtpproto_line, with smtpcmd's bare_lf and more).  Each returns the
 * findings it made now (SMTPPROTO_* bits); every finding is made once a
 * session.
 *
 *   pregreet    the session's first bytes came while the server had sent
 *               nothing but its SYN-ACK (before the banner left: "order"),
 *               or, with the session's times (smtpproto_times, from the
 *               copies the ruleset's log rules make: the server's SYN-ACK
 *               going out, the handshake's ACK coming in), the
 *               client sent them before it could have read the banner:
 *                 "ack"  their segment acknowledges no byte of the server
 *                        (its ACK number is the SYN-ACK's sequence + 1):
 *                        the client's stack had received nothing of the
 *                        banner when it sent them.  Exact.
 *                 "rtt"  they came sooner after the banner left than
 *                        the handshake's own round trip allows: rtt =
 *                        ACK's arrival - SYN-ACK's departure, pregreet
 *                        when first_bytes < banner + rtt - tolerance,
 *                        tolerance = max(rtt / 4, 2 ms) (jitter, a round
 *                        trip shorter than the handshake's).  The banner
 *                        cannot leave before the handshake's ACK came
 *                        (the server's accept() returns then), so the
 *                        ACK's arrival stands for the banner's departure:
 *                        a lower bound, so the test can only find less.
 *               A session whose times are missing (a copy lost, the rules
 *               absent) is judged by the order alone, never guessed.
 *   pipelining  a command sent before the reply to the one before it
 *               could have come, when the client cannot know PIPELINING
 *               is offered: more bytes after a line in the same segment
 *               before an EHLO was answered (right after the banner, or
 *               after HELO, whose reply offers no extensions), or a
 *               segment after a complete command whose acknowledgment
 *               number is that of the command's own segment (the client
 *               had received no byte from the server since it sent the
 *               command: exact, whatever the server sent), or that came
 *               while the server had sent no packet since its banner.
 *               After the reply to EHLO, pipelining is allowed (RFC
 *               2920).
 *   non-smtp    the first command is GET, POST, HEAD, CONNECT or USER.
 *   bare-lf     a command line ended in LF without CR (RFC 5321 2.3.8).
 */
#ifndef SMTPGATE_SMTPPROTO_H
#define SMTPGATE_SMTPPROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "smtpcmd.h"

/* What the server had sent when a client segment reached the gateway. */
enum smtpproto_server {
	SMTPPROTO_SRV_SYNACK,	/* its SYN-ACK only: no banner yet */
	SMTPPROTO_SRV_BANNER,	/* one packet since: the banner */
	SMTPPROTO_SRV_MORE,	/* more, or not known */
};

#define SMTPPROTO_PREGREET	0x1u
#define SMTPPROTO_PIPELINING	0x2u
#define SMTPPROTO_NONSMTP	0x4u
#define SMTPPROTO_BARE_LF	0x8u

/* Why a pipelining finding was made (for the log). */
enum smtpproto_pipe {
	SMTPPROTO_PIPE_NONE,
	SMTPPROTO_PIPE_BANNER,	/* before the reply to a command sent
				 * after the banner (no EHLO answered) */
	SMTPPROTO_PIPE_HELO,	/* after HELO: PIPELINING never offered */
	SMTPPROTO_PIPE_EHLO,	/* before the reply to EHLO */
};

/* Why pregreet was found (for the log). */
enum smtpproto_greet {
	SMTPPROTO_GREET_NONE,
	SMTPPROTO_GREET_ORDER,	/* before the banner left */
	SMTPPROTO_GREET_ACK,	/* acknowledging nothing of the server */
	SMTPPROTO_GREET_RTT,	/* sooner than the round trip allows */
};

#define SMTPPROTO_RTT_TOL_MIN_US	2000	/* the tolerance's floor */

/*
 * The times of one session for the round-trip test, CLOCK_MONOTONIC
 * microseconds, 0 where not known.  Each is on the side that can only
 * make a finding less likely: the SYN-ACK's departure is when the
 * sniffer read its copy (the kernel stamps no outgoing copy; at or after
 * it left: the round trip comes out shorter), the ACK's arrival is the
 * kernel's own time of it, the first bytes' arrival is when the sniffer
 * read them (at or after they came).
 */
struct smtpproto_times {
	int64_t synack_us;	/* the server's SYN-ACK left, at most */
	int64_t ack_us;		/* the client's handshake ACK came */
	bool have_isn;		/* isn is known */
	uint32_t isn;		/* the server's initial sequence number */
};

/* What the round-trip test worked with (for the log); 0: not known. */
struct smtpproto_rtt {
	int64_t rtt_us;		/* ACK's arrival - SYN-ACK's departure */
	int64_t gap_us;		/* first bytes - the handshake ACK (the
				 * earliest the banner can have left) */
	int64_t tol_us;		/* the tolerance used */
};

struct smtpproto {
	bool seg_seen;		/* a segment with bytes came */
	bool answered;		/* the server sent a packet after its
				 * banner while a command was complete */
	bool greeting;		/* a HELO/EHLO completed, reply not seen */
	bool greeted;		/* a HELO/EHLO completed */
	bool ehlo;		/* the last greeting was EHLO */
	bool pipelining_ok;	/* EHLO answered: pipelining allowed */
	uint32_t lines;		/* command lines completed */
	uint32_t seg_ack;	/* the current segment's ACK number */
	uint32_t cmd_ack;	/* that of the segment where the last
				 * command line completed */
	unsigned found;		/* SMTPPROTO_* made so far */
	enum smtpproto_pipe pipe;	/* why pipelining was found */
	enum smtpproto_server first;	/* at the first segment */
	enum smtpproto_greet greet;	/* why pregreet was found */
	struct smtpproto_rtt rtt;	/* the round-trip test's figures */
};

void smtpproto_init(struct smtpproto *p);
/* A client segment with fresh bytes (its TCP acknowledgment number ack),
 * before its lines: findings made. */
unsigned smtpproto_segment(struct smtpproto *p, enum smtpproto_server srv,
    uint32_t ack);
/*
 * The round-trip test of the session's first segment (after its
 * smtpproto_segment; later, when its times come later): t its times,
 * at_us when that segment came (the same clock; an upper bound is safe),
 * ack its acknowledgment number.  The
 * finding made (SMTPPROTO_PREGREET or 0); p->greet and p->rtt say why.
 */
unsigned smtpproto_times_judge(struct smtpproto *p,
    const struct smtpproto_times *t, int64_t at_us, uint32_t ack);
/* The pure rule of it, without a session: its verdict (GREET_NONE: clean
 * or not known) and the figures in *out. */
enum smtpproto_greet smtpproto_rtt_rule(const struct smtpproto_times *t,
    int64_t at_us, uint32_t ack, struct smtpproto_rtt *out);
/* "order", "ack", "rtt", "-". */
const char *smtpproto_greet_name(enum smtpproto_greet g);
/* One line it completed (smtpcmd's verb, bare_lf, more): findings made. */
unsigned smtpproto_line(struct smtpproto *p, enum smtpcmd_verb v,
    bool bare_lf, bool more);
/* "banner", "helo", "ehlo", "-". */
const char *smtpproto_pipe_name(enum smtpproto_pipe w);
/* "synack", "banner", "more". */
const char *smtpproto_server_name(enum smtpproto_server s);

#endif
