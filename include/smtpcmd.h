/*
 * smtpcmd.h - reassemble the client side of an SMTP session from TCP
 * segments into command lines, bounded and pure (no I/O, no allocation).
 *
 * Segments are fed with their TCP sequence numbers.  The stream starts at
 * the first segment fed; a retransmitted segment's old bytes are skipped; a
 * segment beyond a gap ends the session (SMTPCMD_LOST: the bytes between
 * are unknown, and a guessed line could strike an innocent client).
 * A line is at most SMTPCMD_LINE_MAX bytes before its LF; a longer one is
 * reported once as SMTPCMD_TOOLONG and skipped up to its LF.  A CR before
 * the LF is dropped; NUL and other bytes are passed on as they are (the
 * HELO rules judge them).  Reading ends for good at the first MAIL FROM
 * (the client has said who it is; every HELO before it was reported), at
 * STARTTLS (the rest is encrypted), at DATA or BDAT (the rest is a message
 * body), and after SMTPCMD_MAX_LINES lines (a client that talks that much
 * is not greeting): the end state then says why.
 */
#ifndef SMTPGATE_SMTPCMD_H
#define SMTPGATE_SMTPCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTPCMD_LINE_MAX	1024	/* bytes of one command line */
#define SMTPCMD_MAX_LINES	64	/* lines read per session */

enum smtpcmd_verb {
	SMTPCMD_HELO,
	SMTPCMD_EHLO,
	SMTPCMD_MAIL,		/* arg: the domain of MAIL FROM, "" for <> */
	SMTPCMD_STARTTLS,
	SMTPCMD_DATA,		/* DATA or BDAT */
	SMTPCMD_OTHER,		/* any other line */
	SMTPCMD_TOOLONG,	/* a line over SMTPCMD_LINE_MAX (no arg) */
};

enum smtpcmd_end {
	SMTPCMD_READING,	/* not done */
	SMTPCMD_END_MAIL,	/* the first MAIL FROM */
	SMTPCMD_END_STARTTLS,
	SMTPCMD_END_DATA,
	SMTPCMD_END_LINES,	/* SMTPCMD_MAX_LINES read */
	SMTPCMD_LOST,		/* a gap in the sequence space */
};

struct smtpcmd {
	bool started;			/* next_seq is valid */
	uint32_t next_seq;		/* sequence number of the next byte */
	char line[SMTPCMD_LINE_MAX];	/* the line so far */
	size_t len;			/* bytes in line */
	bool skipping;			/* inside a too-long line */
	uint32_t lines;			/* lines completed */
	enum smtpcmd_end end;
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
/* Parse one complete line (without CR LF); for tests and the fuzzer. */
enum smtpcmd_verb smtpcmd_parse(const char *line, size_t len,
    const char **arg, size_t *arglen);
/* "mail", "starttls", "data", "lines", "lost", "reading". */
const char *smtpcmd_end_name(enum smtpcmd_end e);

#endif
