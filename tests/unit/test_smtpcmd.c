/*
 * test_smtpcmd.c - the command reassembler over scripted segment streams.
 *
 * Each case is a list of segments (sequence offset from an ISN near the
 * wrap, bytes) and the lines the callback must report, rendered as
 * "VERB:arg" joined by '|', plus the end state.  Every segment is copied
 * to a heap block of exactly its length so ASan catches reads past it.
 * Separate tests cover a line over the limit, the lines bound, the
 * out-of-order buffer's bound, and smtpcmd_parse on single lines.  The
 * cases of issue 8's evasions (one byte per segment, commands before
 * EHLO, out of order then filled, a gap never filled, overlapping
 * retransmissions) check what the session lacks as well.  A table of
 * first data checks smtpcmd_opens_greeting and smtpcmd_opens_command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtpcmd.h"

#define ISN	0xfffffff0u	/* streams cross the 32-bit wrap */

struct seg {
	int32_t off;		/* from ISN; INT32_MIN ends the list */
	const char *data;
	size_t len;		/* 0: strlen(data) */
};

struct cmd_case {
	const char *name;
	struct seg segs[8];
	const char *want;	/* "HELO:x|MAIL:dom|..." */
	enum smtpcmd_end end;
	const char *lack;	/* smtpcmd_lack_name; NULL: not checked */
};

#define END	{ INT32_MIN, NULL, 0 }

static const struct cmd_case cases[] = {
	{ "one command", { { 0, "HELO localhost\r\n", 0 }, END },
	    "HELO:localhost", SMTPCMD_READING, NULL },
	{ "bare LF ends a line", { { 0, "EHLO a.b\n", 0 }, END },
	    "EHLO:a.b", SMTPCMD_READING, NULL },
	{ "split across segments", { { 0, "HE", 0 }, { 2, "LO loc", 0 },
	    { 8, "alhost\r", 0 }, { 15, "\n", 0 }, END },
	    "HELO:localhost", SMTPCMD_READING, NULL },
	{ "pipelined in one segment", { { 0, "EHLO a.example\r\nMAIL FROM:"
	    "<x@b.example> SIZE=10\r\nRCPT TO:<y@c>\r\n", 0 }, END },
	    "EHLO:a.example|MAIL:b.example", SMTPCMD_END_MAIL, NULL },
	{ "retransmission skipped", { { 0, "HELO abc\r\n", 0 },
	    { 0, "HELO abc\r\n", 0 }, { 5, "abc\r\nQUIT\r\n", 0 }, END },
	    "HELO:abc|OTHER:", SMTPCMD_READING, NULL },
	{ "partly new retransmission", { { 0, "HELO ab", 0 },
	    { 5, "abc.d\r\n", 0 }, END }, "HELO:abc.d", SMTPCMD_READING, NULL },
	{ "gap: the segment beyond it waits", { { 0, "HELO a\r\n", 0 },
	    { 20, "HELO b\r\n", 0 }, END }, "HELO:a", SMTPCMD_READING,
	    "nothing" },
	{ "STARTTLS stops reading", { { 0, "EHLO a.b\r\nSTARTTLS\r\n"
	    "HELO localhost\r\n", 0 }, END }, "EHLO:a.b|STARTTLS:",
	    SMTPCMD_END_STARTTLS, NULL },
	{ "nothing after STARTTLS", { { 0, "starttls\r\n", 0 },
	    { 10, "HELO x\r\n", 0 }, END }, "STARTTLS:",
	    SMTPCMD_END_STARTTLS, NULL },
	{ "DATA stops reading", { { 0, "RCPT TO:<a@b>\r\nDATA\r\nHELO evil"
	    "\r\n", 0 }, END }, "OTHER:|DATA:", SMTPCMD_END_DATA, NULL },
	{ "MAIL FROM stops reading", { { 0, "EHLO a.b\r\nMAIL FROM:<>\r\n"
	    "RSET\r\nHELO localhost\r\n", 0 }, END }, "EHLO:a.b|MAIL:",
	    SMTPCMD_END_MAIL, NULL },
	{ "BDAT stops reading", { { 0, "BDAT 10 LAST\r\nHELO x\r\n", 0 },
	    END }, "DATA:", SMTPCMD_END_DATA, NULL },
	{ "second HELO reported too", { { 0, "HELO localhost\r\nEHLO "
	    "mail.example.org\r\n", 0 }, END },
	    "HELO:localhost|EHLO:mail.example.org", SMTPCMD_READING, NULL },
	{ "blanks around the HELO argument", { { 0, "helo \t a.b  \t\r\n",
	    0 }, END }, "HELO:a.b", SMTPCMD_READING, NULL },
	{ "HELO without argument", { { 0, "HELO\r\n", 0 }, END }, "HELO:",
	    SMTPCMD_READING, NULL },
	{ "HELOX is not HELO", { { 0, "HELOX a\r\n", 0 }, END }, "OTHER:",
	    SMTPCMD_READING, NULL },
	{ "NUL inside a line", { { 0, "HELO a\0b\r\n", 10 }, END },
	    "HELO:a?b", SMTPCMD_READING, NULL },
	{ "empty segment", { { 0, "", 0 }, { 0, "HELO a\r\n", 0 }, END },
	    "HELO:a", SMTPCMD_READING, NULL },
	{ "no line end yet", { { 0, "HELO localhost", 0 }, END }, "",
	    SMTPCMD_READING, NULL },
	{ "MAIL FROM without brackets", { { 0, "MAIL FROM:x@y.z\r\n", 0 },
	    END }, "MAIL:y.z", SMTPCMD_END_MAIL, NULL },
	{ "MAIL FROM source route", { { 0, "MAIL FROM:<@a,@b:u@d.e>\r\n",
	    0 }, END }, "MAIL:d.e", SMTPCMD_END_MAIL, NULL },

	/* Evasions of issue 8: commands before HELO/EHLO are read past. */
	{ "NOOP before EHLO", { { 0, "NOOP\r\n", 0 },
	    { 6, "EHLO localhost\r\n", 0 }, END }, "OTHER:|EHLO:localhost",
	    SMTPCMD_READING, "nothing" },
	{ "RSET before EHLO, one segment", { { 0, "RSET\r\nEHLO "
	    "localhost\r\n", 0 }, END }, "OTHER:|EHLO:localhost",
	    SMTPCMD_READING, "nothing" },
	{ "junk and an empty line before HELO", { { 0, "XYZZY\r\n\r\n",
	    0 }, { 9, "HELO a\r\n", 0 }, END }, "OTHER:|OTHER:|HELO:a",
	    SMTPCMD_READING, "nothing" },
	{ "only NOOP so far lacks the greeting", { { 0, "NOOP\r\n", 0 },
	    END }, "OTHER:", SMTPCMD_READING, "greeting" },
	{ "half a HELO lacks the greeting", { { 0, "HELO loc", 0 }, END },
	    "", SMTPCMD_READING, "greeting" },
	/* Out of order: kept, read once the gap is filled. */
	{ "out of order, then filled", { { 0, "EH", 0 }, { 8, "alhost\r\n",
	    0 }, { 2, "LO loc", 0 }, END }, "EHLO:localhost",
	    SMTPCMD_READING, "nothing" },
	{ "two out of order, filled in between", { { 0, "EHLO a", 0 },
	    { 13, "e\r\n", 0 }, { 10, "mpl", 0 }, { 6, ".exa", 0 },
	    END }, "EHLO:a.example", SMTPCMD_READING, "nothing" },
	{ "gap never filled lacks bytes", { { 0, "EHLO loc", 0 },
	    { 10, "st\r\n", 0 }, END }, "", SMTPCMD_READING, "bytes" },
	{ "gap after the greeting lacks nothing", { { 0, "EHLO a.b\r\n",
	    0 }, { 20, "MAIL FROM:<x@y.z>\r\n", 0 }, END }, "EHLO:a.b",
	    SMTPCMD_READING, "nothing" },
	{ "overlapping retransmission", { { 0, "EHLO lo", 0 },
	    { 5, "localh", 0 }, { 9, "lhost\r\n", 0 }, END },
	    "EHLO:localhost", SMTPCMD_READING, "nothing" },
	{ "held segments overlapping each other", { { 0, "EH", 0 },
	    { 6, "oca", 0 }, { 5, "localhost\r\n", 0 }, { 2, "LO ", 0 },
	    END }, "EHLO:localhost", SMTPCMD_READING, "nothing" },
	{ "a held segment sent twice", { { 0, "EH", 0 }, { 5, "x.y\r\n", 0 },
	    { 5, "x.y\r\n", 0 }, { 2, "LO ", 0 }, END }, "EHLO:x.y",
	    SMTPCMD_READING, "nothing" },
	{ "retransmission covering the held bytes", { { 0, "EH", 0 },
	    { 8, "alhost\r\n", 0 }, { 0, "EHLO localhost\r\n", 0 }, END },
	    "EHLO:localhost", SMTPCMD_READING, "nothing" },
	{ "the tail first hides the greeting", { { 8, "alhost\r\n", 0 },
	    { 0, "EHLO loc", 0 }, END }, "OTHER:", SMTPCMD_LOST, "bytes" },
	{ "after the greeting, bytes before the start are old", { { 6,
	    "HELO a.b\r\n", 0 }, { 0, "NOOP\r\n", 0 }, { 16, "QUIT\r\n",
	    0 }, END }, "HELO:a.b|OTHER:", SMTPCMD_READING, "nothing" },
	{ "MAIL FROM without a greeting lacks nothing", { { 0,
	    "MAIL FROM:<a@b.c>\r\n", 0 }, END }, "MAIL:b.c",
	    SMTPCMD_END_MAIL, "nothing" },
	{ "nothing read lacks nothing", { END }, "", SMTPCMD_READING,
	    "nothing" },
	{ "HTTP and proxy verbs are no SMTP", { { 0, "GET / HTTP/1.0\r\n"
	    "CONNECT a:25 HTTP/1.1\r\nPOST /x\r\nHEAD /\r\nUSER me\r\n"
	    "get\r\nGETX\r\n", 0 }, END },
	    "NONSMTP:|NONSMTP:|NONSMTP:|NONSMTP:|NONSMTP:|NONSMTP:|OTHER:",
	    SMTPCMD_READING, NULL },
};

static const char *
verb_name(enum smtpcmd_verb v)
{
	switch (v) {
	case SMTPCMD_HELO: return "HELO";
	case SMTPCMD_EHLO: return "EHLO";
	case SMTPCMD_MAIL: return "MAIL";
	case SMTPCMD_STARTTLS: return "STARTTLS";
	case SMTPCMD_DATA: return "DATA";
	case SMTPCMD_NONSMTP: return "NONSMTP";
	case SMTPCMD_OTHER: return "OTHER";
	case SMTPCMD_TOOLONG: return "TOOLONG";
	}
	return "?";
}

struct got {
	char buf[4096];
	size_t ncalls;
};

/* Render a line; OTHER and TOOLONG without argument, NUL as '?'. */
static void
record(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct got *g = ctx;
	size_t off = strlen(g->buf);

	g->ncalls++;
	snprintf(g->buf + off, sizeof(g->buf) - off, "%s%s:", off ? "|" : "",
	    verb_name(v));
	if (v == SMTPCMD_OTHER || v == SMTPCMD_TOOLONG || v == SMTPCMD_DATA ||
	    v == SMTPCMD_STARTTLS || v == SMTPCMD_NONSMTP)
		return;
	off = strlen(g->buf);
	for (size_t i = 0; i < len && off + 1 < sizeof(g->buf); i++)
		g->buf[off++] = arg[i] ? arg[i] : '?';
	g->buf[off] = '\0';
}

static enum smtpcmd_end
feed(struct smtpcmd *c, uint32_t seq, const char *data, size_t len,
    struct got *g)
{
	char *copy = malloc(len ? len : 1);
	enum smtpcmd_end e;

	assert_non_null(copy);
	memcpy(copy, data, len);
	e = smtpcmd_feed(c, seq, (const uint8_t *)copy, len, record, g);
	free(copy);
	return e;
}

static void
test_case(void **state)
{
	const struct cmd_case *k = *state;
	struct smtpcmd c;
	struct got g = { .buf = "" };
	enum smtpcmd_end e = SMTPCMD_READING;

	smtpcmd_init(&c);
	for (size_t i = 0; k->segs[i].off != INT32_MIN; i++) {
		const struct seg *s = &k->segs[i];
		size_t len = s->len ? s->len : strlen(s->data);

		e = feed(&c, ISN + (uint32_t)s->off, s->data, len, &g);
	}
	if (strcmp(g.buf, k->want) != 0)
		fail_msg("%s: got lines \"%s\", want \"%s\"", k->name, g.buf,
		    k->want);
	if (e != k->end)
		fail_msg("%s: got end %s, want %s", k->name,
		    smtpcmd_end_name(e), smtpcmd_end_name(k->end));
	if (k->lack != NULL &&
	    strcmp(smtpcmd_lack_name(smtpcmd_lack(&c)), k->lack) != 0)
		fail_msg("%s: got lack %s, want %s", k->name,
		    smtpcmd_lack_name(smtpcmd_lack(&c)), k->lack);
}

/* More beyond a gap than the buffer holds ends the reading; before the
 * greeting that is a lack of bytes, after it nothing. */
static void
test_ooo_overflow(void **state)
{
	static char big[SMTPCMD_OOO_BYTES + 1];
	struct smtpcmd c;
	struct got g = { .buf = "" };
	enum smtpcmd_end e;

	(void)state;
	memset(big, 'x', sizeof(big));
	smtpcmd_init(&c);
	feed(&c, ISN, "EHLO a", 6, &g);
	e = feed(&c, ISN + 100, big, sizeof(big), &g);
	if (e != SMTPCMD_LOST || smtpcmd_lack(&c) != SMTPCMD_LACKS_BYTES)
		fail_msg("before the greeting: got %s/%s, want lost/bytes",
		    smtpcmd_end_name(e), smtpcmd_lack_name(smtpcmd_lack(&c)));
	smtpcmd_init(&c);
	feed(&c, ISN, "EHLO a.b\r\n", 10, &g);
	for (int i = 0; i < SMTPCMD_OOO_SEGS; i++)
		feed(&c, ISN + 100 + (uint32_t)i * 10, "NOOP\r\n", 6, &g);
	e = feed(&c, ISN + 200, "NOOP\r\n", 6, &g);
	if (e != SMTPCMD_LOST || smtpcmd_lack(&c) != SMTPCMD_LACKS_NOTHING)
		fail_msg("after the greeting, %d segments held: got %s/%s, "
		    "want lost/nothing", SMTPCMD_OOO_SEGS + 1,
		    smtpcmd_end_name(e), smtpcmd_lack_name(smtpcmd_lack(&c)));
}

/* Reading ends after SMTPCMD_MAX_LINES lines without a HELO: the greeting
 * is lacking (NOOP padding hid it before). */
static void
test_lines_without_greeting(void **state)
{
	struct smtpcmd c;
	struct got g = { .buf = "" };
	char pad[SMTPCMD_MAX_LINES * 6 + 32];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < SMTPCMD_MAX_LINES; i++, n += 6)
		memcpy(pad + n, "NOOP\r\n", 6);
	memcpy(pad + n, "EHLO localhost\r\n", 16);
	n += 16;
	smtpcmd_init(&c);
	if (feed(&c, ISN, pad, n, &g) != SMTPCMD_END_LINES ||
	    smtpcmd_lack(&c) != SMTPCMD_LACKS_GREETING)
		fail_msg("got %s/%s, want lines/greeting",
		    smtpcmd_end_name(c.end),
		    smtpcmd_lack_name(smtpcmd_lack(&c)));
}

/* A line over the limit is reported once, skipped, and reading goes on. */
static void
test_too_long(void **state)
{
	size_t n = 100 * 1024;
	char *big = malloc(n);
	struct smtpcmd c;
	struct got g = { .buf = "" };
	uint32_t seq = ISN;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	smtpcmd_init(&c);
	for (size_t off = 0; off < n; off += 1400) {
		size_t len = n - off < 1400 ? n - off : 1400;
		feed(&c, seq, big + off, len, &g);
		seq += (uint32_t)len;
	}
	feed(&c, seq, "\r\nHELO a.b\r\n", 12, &g);
	free(big);
	if (strcmp(g.buf, "TOOLONG:|HELO:a.b") != 0)
		fail_msg("got \"%s\", want \"TOOLONG:|HELO:a.b\"", g.buf);
	if (c.len != 0)
		fail_msg("got %zu bytes buffered, want 0", c.len);
}

/* One byte per segment gives the same lines as one segment. */
static void
test_trickle(void **state)
{
	const char *s = "EHLO mail.example.org\r\nMAIL FROM:<a@b.example>\r\n"
	    "HELO x\r\n";
	struct smtpcmd c;
	struct got g = { .buf = "" };

	(void)state;
	smtpcmd_init(&c);
	for (size_t i = 0; i < strlen(s); i++)
		feed(&c, ISN + (uint32_t)i, s + i, 1, &g);
	if (strcmp(g.buf, "EHLO:mail.example.org|MAIL:b.example") != 0)
		fail_msg("got \"%s\"", g.buf);
}

/* Reading ends after SMTPCMD_MAX_LINES lines. */
static void
test_max_lines(void **state)
{
	struct smtpcmd c;
	struct got g = { .buf = "" };
	enum smtpcmd_end e = SMTPCMD_READING;
	uint32_t seq = ISN;

	(void)state;
	smtpcmd_init(&c);
	for (int i = 0; i < SMTPCMD_MAX_LINES + 10; i++) {
		e = feed(&c, seq, "NOOP\r\n", 6, &g);
		seq += 6;
	}
	if (e != SMTPCMD_END_LINES)
		fail_msg("got end %s, want lines", smtpcmd_end_name(e));
	if (g.ncalls != SMTPCMD_MAX_LINES)
		fail_msg("got %zu lines, want %d", g.ncalls, SMTPCMD_MAX_LINES);
}

/* A session's first data: a greeting, a command, or neither. */
struct opens_case {
	const char *name;
	const char *data;
	size_t len;		/* 0: strlen(data) */
	bool greeting;		/* smtpcmd_opens_greeting */
	bool command;		/* smtpcmd_opens_command */
};

static const struct opens_case opens_cases[] = {
	{ "HELO and a name", "HELO a.example\r\n", 0, true, true },
	{ "EHLO in lower case, line end", "ehlo\r\n", 0, true, true },
	{ "mixed case, tab", "eHlO\ta", 0, true, true },
	{ "the verb alone", "EHLO", 0, true, true },
	{ "bare LF after the verb", "HELO\n", 0, true, true },
	{ "a trickled beginning", "EH", 0, true, true },
	{ "one byte of a greeting", "h", 0, true, true },
	{ "one byte of NOOP only", "N", 0, false, true },
	{ "NOOP", "NOOP\r\n", 0, false, true },
	{ "RSET before a CR", "RSET\r", 0, false, true },
	{ "QUIT", "quit", 0, false, true },
	{ "VRFY with an argument", "VRFY postmaster\r\n", 0, false, true },
	{ "a longer word", "HELOX a\r\n", 0, false, false },
	{ "MAIL FROM first", "MAIL FROM:<a@b.example>\r\n", 0, false,
	    false },
	{ "message body text", "Subject: hi\r\n", 0, false, false },
	{ "NUL in the verb", "H\0LO a", 6, false, false },
	{ "NUL after the verb", "HELO\0a", 6, false, false },
	{ "empty", "", 0, true, true },
};

static void
test_opens(void **state)
{
	const struct opens_case *c = *state;
	size_t len = c->len ? c->len : strlen(c->data);
	uint8_t *buf = malloc(len ? len : 1);
	bool g, k;

	assert_non_null(buf);
	memcpy(buf, c->data, len);
	g = smtpcmd_opens_greeting(buf, len);
	k = smtpcmd_opens_command(buf, len);
	free(buf);
	if (g != c->greeting)
		fail_msg("%s: greeting: got %d, want %d", c->name, g,
		    c->greeting);
	if (k != c->command)
		fail_msg("%s: command: got %d, want %d", c->name, k,
		    c->command);
}

/* Per line, inside the callback: bare_lf and more. */
struct flags_got {
	const struct smtpcmd *c;
	char buf[64];
};

static void
record_flags(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct flags_got *g = ctx;
	size_t off = strlen(g->buf);

	(void)v;
	(void)arg;
	(void)len;
	snprintf(g->buf + off, sizeof(g->buf) - off, "%s%s%s", off ? "|" : "",
	    g->c->bare_lf ? "lf" : "crlf", g->c->more ? "+" : "");
}

static void
test_line_flags(void **state)
{
	static const struct {
		const char *name;
		const char *segs[3];
		const char *want;
	} k[] = {
		{ "one line", { "EHLO a\r\n" }, "crlf" },
		{ "bare LF", { "EHLO a\n" }, "lf" },
		{ "pipelined", { "EHLO a\r\nMAIL FROM:<>\r\n" }, "crlf+|crlf" },
		{ "pipelined, bare", { "EHLO a\nQUIT\n" }, "lf+|lf" },
		{ "tail only is more", { "EHLO a\r\nMA", "IL\r\n" },
		    "crlf+|crlf" },
		{ "line per segment", { "NOOP\r\n", "EHLO a\r\n" },
		    "crlf|crlf" },
		{ "empty bare line", { "\n" }, "lf" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct smtpcmd c;
		struct flags_got g = { .c = &c, .buf = "" };
		uint32_t seq = ISN;

		smtpcmd_init(&c);
		for (size_t j = 0; j < 3 && k[i].segs[j] != NULL; j++) {
			size_t len = strlen(k[i].segs[j]);

			(void)smtpcmd_feed(&c, seq, (const uint8_t *)
			    k[i].segs[j], len, record_flags, &g);
			seq += (uint32_t)len;
		}
		if (strcmp(g.buf, k[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", k[i].name,
			    g.buf, k[i].want);
		if (c.bare_lf || c.more)
			fail_msg("%s: flags left set after the callback",
			    k[i].name);
	}
}

/* smtpcmd_fresh: in order with new bytes, or not. */
static void
test_fresh(void **state)
{
	struct smtpcmd c;
	struct got g = { .buf = "" };

	(void)state;
	smtpcmd_init(&c);
	if (!smtpcmd_fresh(&c, ISN, 4) || smtpcmd_fresh(&c, ISN, 0))
		fail_msg("before the first segment: got not fresh, want fresh "
		    "(and an empty one never)");
	feed(&c, ISN, "EHLO", 4, &g);
	if (smtpcmd_fresh(&c, ISN, 4))
		fail_msg("a retransmission: got fresh, want not");
	if (!smtpcmd_fresh(&c, ISN + 2, 4))
		fail_msg("partly new: got not fresh, want fresh");
	if (!smtpcmd_fresh(&c, ISN + 4, 4))
		fail_msg("the next bytes: got not fresh, want fresh");
	if (smtpcmd_fresh(&c, ISN + 5, 4))
		fail_msg("beyond a gap: got fresh, want not");
	feed(&c, ISN + 4, " a\r\nMAIL FROM:<>\r\n", 18, &g);
	if (smtpcmd_fresh(&c, ISN + 22, 4))
		fail_msg("after the end: got fresh, want not");
}

int
main(void)
{
	struct CMUnitTest t[sizeof(cases) / sizeof(cases[0]) +
	    sizeof(opens_cases) / sizeof(opens_cases[0]) + 7];
	char names[sizeof(opens_cases) / sizeof(opens_cases[0])][96];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_case);
		t[n].name = cases[i].name;
		t[n].initial_state = (void *)&cases[i];
		n++;
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_too_long);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_line_flags);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_fresh);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_trickle);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_max_lines);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_ooo_overflow);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_lines_without_greeting);
	for (size_t i = 0; i < sizeof(opens_cases) / sizeof(opens_cases[0]);
	    i++) {
		snprintf(names[i], sizeof(names[i]), "opens: %s",
		    opens_cases[i].name);
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_opens);
		t[n].name = names[i];
		t[n].initial_state = (void *)&opens_cases[i];
		n++;
	}
	return _cmocka_run_group_tests("smtpcmd", t, n, NULL, NULL);
}
