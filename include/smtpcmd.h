/*
 * smtpcmd.h - reassemble the client side of an SMTP session from TCP
 * segments into command lines, bounded and pure (no I/O, no allocation).
 *
 * Segments are fed with their TCP sequence numbers.  The stream starts at
 * the first segment fed; a retransmitted segment's old bytes are skipped.
 * A segment beyond a gap is kept (up to SMTPCMD_OOO_SEGS segments and
 * SMTPCMD_OOO_BYTES bytes) and read once the gap is filled, as the
 * receiving TCP does; nothing is ever guessed.  Reading ends as
 * SMTPCMD_LOST when a segment beyond a gap does not fit, or when bytes
 * from before the stream's start arrive before the first HELO/EHLO
 * completed (the first segment fed was not the stream's first).  Lines
 * before the first HELO/EHLO (NOOP, RSET, anything) are read past.
 * A line is at most SMTPCMD_LINE_MAX bytes before its LF; a longer one is
 * reported once as SMTPCMD_TOOLONG and skipped up to its LF.  A CR before
 * the LF is dropped; NUL and other bytes are passed on as they are (the
 * HELO rules judge them); while a line is reported, c->bare_lf says it had
 * no CR and c->more that its segment held more bytes after it.  Reading ends for good at the first MAIL FROM
 * (the client has said who it is; every HELO before it was reported), at
 * STARTTLS (the rest is encrypted), at DATA or BDAT (the rest is a message
 * body), and after SMTPCMD_MAX_LINES lines (a client that talks that much
 * is not greeting): the end state then says why.
 *
 * smtpcmd_lack tells what a session still lacks if its reading ended now
 * (the caller knows when its window closes): its first HELO/EHLO, or
 * bytes behind a gap it never filled.  A session that completed a HELO or
 * EHLO, or whose reading ended for a reason of SMTP's own (MAIL FROM,
 * STARTTLS, DATA), lacks nothing.
 *
 * smtpcmd_opens_greeting and smtpcmd_opens_command look at a session's
 * first data alone, before anything is fed: the sniffer reads a session
 * joined in the middle only when it opens with a command.
 */
#ifndef SMTPGATE_SMTPCMD_H
#define SMTPGATE_SMTPCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTPCMD_LINE_MAX	1024	/* bytes of one command line */
#define SMTPCMD_MAX_LINES	64	/* lines read per session */
#define SMTPCMD_OOO_SEGS	4	/* segments kept beyond a gap */
#define SMTPCMD_OOO_BYTES	1536	/* their bytes: one full segment */

enum smtpcmd_verb {
	SMTPCMD_HELO,
	SMTPCMD_EHLO,
	SMTPCMD_MAIL,		/* arg: the domain of MAIL FROM, "" for <> */
	SMTPCMD_STARTTLS,
	SMTPCMD_DATA,		/* DATA or BDAT */
	SMTPCMD_NONSMTP,	/* GET, POST, HEAD, CONNECT, USER: a line of
				 * HTTP, a proxy's or POP3's (arg: the verb) */
	SMTPCMD_OTHER,		/* any other line */
	SMTPCMD_TOOLONG,	/* a line over SMTPCMD_LINE_MAX (no arg) */
};

enum smtpcmd_end {
	SMTPCMD_READING,	/* not done */
	SMTPCMD_END_MAIL,	/* the first MAIL FROM */
	SMTPCMD_END_STARTTLS,
	SMTPCMD_END_DATA,
	SMTPCMD_END_LINES,	/* SMTPCMD_MAX_LINES read */
	SMTPCMD_LOST,		/* bytes that cannot be placed (above) */
};

/* What a session lacks if its reading ends now (smtpcmd_lack). */
enum smtpcmd_lack {
	SMTPCMD_LACKS_NOTHING,
	SMTPCMD_LACKS_GREETING,	/* bytes came, no HELO/EHLO completed */
	SMTPCMD_LACKS_BYTES,	/* before it, a gap not filled (or bytes
				 * that could not be placed) */
};

struct smtpcmd {
	bool started;			/* next_seq, start_seq are valid */
	uint32_t start_seq;		/* the first byte read */
	uint32_t next_seq;		/* sequence number of the next byte */
	char line[SMTPCMD_LINE_MAX];	/* the line so far */
	size_t len;			/* bytes in line */
	bool skipping;			/* inside a too-long line */
	bool greeted;			/* a HELO/EHLO line completed */
	uint32_t lines;			/* lines completed */
	enum smtpcmd_end end;
	/* Of the line being reported, valid inside the callback only: */
	bool bare_lf;			/* it ended in LF without CR */
	bool more;			/* more bytes followed it in its own
					 * segment (pipelined: sent before
					 * its reply could have come) */
	/* Segments beyond a gap, in arrival order, their bytes in ooo_buf. */
	uint8_t nooo;
	uint16_t ooo_used;		/* bytes of ooo_buf in use */
	struct {
		uint32_t seq;
		uint16_t off, len;	/* in ooo_buf */
	} ooo[SMTPCMD_OOO_SEGS];
	uint8_t ooo_buf[SMTPCMD_OOO_BYTES];
};

/* Called for each complete line: arg is not NUL-terminated and may hold
 * NUL bytes; for HELO/EHLO it is the argument with blanks trimmed. */
typedef void (*smtpcmd_cb)(void *ctx, enum smtpcmd_verb v, const char *arg,
    size_t arglen);

void smtpcmd_init(struct smtpcmd *c);
/* Feed one segment.  Calls cb for every line it completes, in order, and
 * stops at the end of the session.  Returns the session's end state. */
enum smtpcmd_end smtpcmd_feed(struct smtpcmd *c, uint32_t seq,
    const uint8_t *data, size_t len, smtpcmd_cb cb, void *ctx);
/* Would a segment at seq of len bytes be read now, in order, and bring
 * bytes not read before?  (A retransmission, or one beyond a gap, would
 * not.)  The protocol tests (smtpproto.h) judge only such segments. */
bool smtpcmd_fresh(const struct smtpcmd *c, uint32_t seq, size_t len);
/* Parse one complete line (without CR LF); for tests and the fuzzer. */
enum smtpcmd_verb smtpcmd_parse(const char *line, size_t len,
    const char **arg, size_t *arglen);
/* Does a session's first data (len bytes, any content) begin with a
 * greeting (HELO, EHLO), or with a command a client may send before it
 * (RFC 5321 4.1.4: those two, NOOP, RSET, HELP, VRFY, EXPN) or QUIT: the
 * verb in any case, then a blank or the line's end, or a beginning of
 * one (a trickling client)?  An empty one does. */
bool smtpcmd_opens_greeting(const uint8_t *data, size_t len);
bool smtpcmd_opens_command(const uint8_t *data, size_t len);
/* "mail", "starttls", "data", "lines", "lost", "reading". */
const char *smtpcmd_end_name(enum smtpcmd_end e);
/* What the session lacks if its reading ends now (above). */
enum smtpcmd_lack smtpcmd_lack(const struct smtpcmd *c);
/* "nothing", "greeting", "bytes". */
const char *smtpcmd_lack_name(enum smtpcmd_lack l);

#endif
