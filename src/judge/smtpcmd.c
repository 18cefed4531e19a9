/*
 * smtpcmd.c - the client side of an SMTP session, segments to command
 * lines (contract in smtpcmd.h).  Pure: a struct smtpcmd is the whole
 * state, no allocation, every length checked against the bytes present.
 *
 * Sequence numbers wrap: comparisons use the signed 32-bit difference
 * (RFC 1982 serial arithmetic), good while a session's client side stays
 * under 2 GiB, which the ruleset's packet bound guarantees.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "smtpcmd.h"

void
smtpcmd_init(struct smtpcmd *c)
{
	memset(c, 0, sizeof(*c));
}

const char *
smtpcmd_end_name(enum smtpcmd_end e)
{
	switch (e) {
	case SMTPCMD_READING:	return "reading";
	case SMTPCMD_END_MAIL:	return "mail";
	case SMTPCMD_END_STARTTLS: return "starttls";
	case SMTPCMD_END_DATA:	return "data";
	case SMTPCMD_END_LINES:	return "lines";
	case SMTPCMD_LOST:	return "lost";
	}
	return "?";
}

/* Does the line start with word (case-insensitive), then end or blank? */
static bool
smtpcmd_word(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);

	if (len < n || strncasecmp(line, word, n) != 0)
		return false;
	return len == n || line[n] == ' ' || line[n] == '\t';
}

static bool
smtpcmd_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The domain of "MAIL FROM:<local@domain> params": after the last '@'
 * inside the path, up to '>' or a blank.  "" for <> or no '@'. */
static void
smtpcmd_mail_domain(const char *p, size_t len, const char **arg,
    size_t *arglen)
{
	size_t i = 0, end, at = len;

	*arg = p;
	*arglen = 0;
	while (i < len && smtpcmd_blank(p[i]))
		i++;
	if (i < len && p[i] == '<')
		i++;
	for (end = i; end < len && p[end] != '>' && !smtpcmd_blank(p[end]);
	    end++)
		if (p[end] == '@')
			at = end;
	if (at >= end)
		return;
	*arg = p + at + 1;
	*arglen = end - at - 1;
}

enum smtpcmd_verb
smtpcmd_parse(const char *line, size_t len, const char **arg, size_t *arglen)
{
	size_t i;

	*arg = line;
	*arglen = 0;
	if (smtpcmd_word(line, len, "HELO") || smtpcmd_word(line, len,
	    "EHLO")) {
		enum smtpcmd_verb v = (line[0] == 'H' || line[0] == 'h') ?
		    SMTPCMD_HELO : SMTPCMD_EHLO;

		for (i = 4; i < len && smtpcmd_blank(line[i]); i++)
			;
		while (len > i && smtpcmd_blank(line[len - 1]))
			len--;
		*arg = line + i;
		*arglen = len - i;
		return v;
	}
	if (len >= 10 && strncasecmp(line, "MAIL FROM:", 10) == 0) {
		smtpcmd_mail_domain(line + 10, len - 10, arg, arglen);
		return SMTPCMD_MAIL;
	}
	if (smtpcmd_word(line, len, "STARTTLS"))
		return SMTPCMD_STARTTLS;
	/* Scanners, open-proxy probes and misdirected POP3 clients: no
	 * SMTP client ever sends these verbs. */
	if (smtpcmd_word(line, len, "GET") || smtpcmd_word(line, len,
	    "POST") || smtpcmd_word(line, len, "HEAD") ||
	    smtpcmd_word(line, len, "CONNECT") || smtpcmd_word(line, len,
	    "USER")) {
		for (i = 0; i < len && !smtpcmd_blank(line[i]); i++)
			;
		*arglen = i;
		return SMTPCMD_NONSMTP;
	}
	if (smtpcmd_word(line, len, "DATA") || smtpcmd_word(line, len, "BDAT"))
		return SMTPCMD_DATA;
	return SMTPCMD_OTHER;
}

/*
 * Does data begin with one of verbs[0..n) (4 letters, any case), then a
 * blank or the line's end, or with a beginning of one (a trickling
 * client)?
 */
static bool
smtpcmd_opens(const uint8_t *data, size_t len, const char *const *verbs,
    size_t nverbs)
{
	size_t n = len < 4 ? len : 4;
	uint8_t next;

	for (size_t i = 0; i < nverbs; i++) {
		if (strncasecmp((const char *)data, verbs[i], n) != 0)
			continue;
		if (len <= 4)
			return true;
		next = data[4];
		if (next == ' ' || next == '\t' || next == '\r' ||
		    next == '\n')
			return true;
	}
	return false;
}

bool
smtpcmd_opens_greeting(const uint8_t *data, size_t len)
{
	static const char *const v[] = { "HELO", "EHLO" };

	return smtpcmd_opens(data, len, v, sizeof(v) / sizeof(v[0]));
}

bool
smtpcmd_opens_command(const uint8_t *data, size_t len)
{
	static const char *const v[] = { "HELO", "EHLO", "NOOP", "RSET",
	    "HELP", "VRFY", "EXPN", "QUIT" };

	return smtpcmd_opens(data, len, v, sizeof(v) / sizeof(v[0]));
}

/* One complete line in c->line: report it and update the end state; more
 * says whether bytes of its segment follow its LF. */
static void
smtpcmd_line(struct smtpcmd *c, bool more, smtpcmd_cb cb, void *ctx)
{
	const char *arg;
	size_t arglen, len = c->len;
	enum smtpcmd_verb v;

	c->bare_lf = !(len > 0 && c->line[len - 1] == '\r');
	c->more = more;
	if (!c->bare_lf)
		len--;
	v = smtpcmd_parse(c->line, len, &arg, &arglen);
	c->len = 0;
	c->lines++;
	if (v == SMTPCMD_HELO || v == SMTPCMD_EHLO)
		c->greeted = true;
	cb(ctx, v, arg, arglen);
	c->bare_lf = c->more = false;
	if (v == SMTPCMD_MAIL)
		c->end = SMTPCMD_END_MAIL;
	else if (v == SMTPCMD_STARTTLS)
		c->end = SMTPCMD_END_STARTTLS;
	else if (v == SMTPCMD_DATA)
		c->end = SMTPCMD_END_DATA;
	else if (c->lines >= SMTPCMD_MAX_LINES)
		c->end = SMTPCMD_END_LINES;
}

/* Read the bytes of a segment at seq that does not start beyond
 * next_seq: what was read already is skipped. */
static void
smtpcmd_consume(struct smtpcmd *c, uint32_t seq, const uint8_t *data,
    size_t len, smtpcmd_cb cb, void *ctx)
{
	int32_t d = (int32_t)(seq - c->next_seq);
	size_t i;

	if (d < 0) {
		/* A retransmission: skip what we have already read. */
		if ((size_t)-(int64_t)d >= len)
			return;
		data += (size_t)-(int64_t)d;
		len -= (size_t)-(int64_t)d;
	}
	for (i = 0; i < len && c->end == SMTPCMD_READING; i++) {
		uint8_t ch = data[i];

		c->next_seq++;
		if (ch == '\n') {
			if (c->skipping) {
				c->skipping = false;
				c->len = 0;
				c->lines++;
				if (c->lines >= SMTPCMD_MAX_LINES)
					c->end = SMTPCMD_END_LINES;
				continue;
			}
			smtpcmd_line(c, i + 1 < len, cb, ctx);
			continue;
		}
		if (c->skipping)
			continue;
		if (c->len == sizeof(c->line)) {
			c->skipping = true;
			c->len = 0;
			cb(ctx, SMTPCMD_TOOLONG, c->line, 0);
			continue;
		}
		c->line[c->len++] = (char)ch;
	}
}

/* Keep a segment that lies beyond a gap; one that does not fit ends the
 * reading (its bytes would be missing once the gap is filled). */
static void
smtpcmd_hold(struct smtpcmd *c, uint32_t seq, const uint8_t *data,
    size_t len)
{
	for (size_t i = 0; i < c->nooo; i++)
		if (c->ooo[i].seq == seq && c->ooo[i].len >= len)
			return;		/* a retransmission of one held */
	if (c->nooo == SMTPCMD_OOO_SEGS ||
	    len > (size_t)(SMTPCMD_OOO_BYTES - c->ooo_used)) {
		c->end = SMTPCMD_LOST;
		return;
	}
	memcpy(c->ooo_buf + c->ooo_used, data, len);
	c->ooo[c->nooo].seq = seq;
	c->ooo[c->nooo].off = c->ooo_used;
	c->ooo[c->nooo].len = (uint16_t)len;
	c->nooo++;
	c->ooo_used = (uint16_t)(c->ooo_used + len);
}

/* Forget held segment i, closing up the buffer. */
static void
smtpcmd_unhold(struct smtpcmd *c, size_t i)
{
	uint16_t off = c->ooo[i].off, len = c->ooo[i].len;

	memmove(c->ooo_buf + off, c->ooo_buf + off + len,
	    (size_t)(c->ooo_used - off - len));
	c->ooo_used = (uint16_t)(c->ooo_used - len);
	for (size_t k = i + 1; k < c->nooo; k++)
		c->ooo[k - 1] = c->ooo[k];
	c->nooo--;
	for (size_t k = 0; k < c->nooo; k++)
		if (c->ooo[k].off > off)
			c->ooo[k].off = (uint16_t)(c->ooo[k].off - len);
}

/* Read every held segment the stream has reached, in stream order. */
static void
smtpcmd_drain(struct smtpcmd *c, smtpcmd_cb cb, void *ctx)
{
	while (c->end == SMTPCMD_READING && c->nooo > 0) {
		size_t i, best = c->nooo;

		for (i = 0; i < c->nooo; i++)
			if ((int32_t)(c->ooo[i].seq - c->next_seq) <= 0 &&
			    (best == c->nooo || (int32_t)(c->ooo[i].seq -
			    c->ooo[best].seq) < 0))
				best = i;
		if (best == c->nooo)
			return;		/* a gap still before every one */
		/* smtpcmd_consume never holds, so the bytes stay put. */
		smtpcmd_consume(c, c->ooo[best].seq,
		    c->ooo_buf + c->ooo[best].off, c->ooo[best].len, cb, ctx);
		smtpcmd_unhold(c, best);
	}
}

enum smtpcmd_end
smtpcmd_feed(struct smtpcmd *c, uint32_t seq, const uint8_t *data,
    size_t len, smtpcmd_cb cb, void *ctx)
{
	if (c->end != SMTPCMD_READING || len == 0)
		return c->end;
	if (!c->started) {
		c->started = true;
		c->start_seq = c->next_seq = seq;
	}
	if ((int32_t)(seq - c->next_seq) > 0) {
		smtpcmd_hold(c, seq, data, len);
		return c->end;
	}
	/*
	 * Bytes from before the first one read: the stream began earlier
	 * than its first segment here.  Before a HELO/EHLO that hides the
	 * greeting from us (its tail came first); after it, they are old.
	 */
	if ((int32_t)(seq - c->start_seq) < 0 && !c->greeted) {
		c->end = SMTPCMD_LOST;
		return c->end;
	}
	smtpcmd_consume(c, seq, data, len, cb, ctx);
	smtpcmd_drain(c, cb, ctx);
	return c->end;
}

bool
smtpcmd_fresh(const struct smtpcmd *c, uint32_t seq, size_t len)
{
	if (c->end != SMTPCMD_READING || len == 0 || len > INT32_MAX)
		return false;
	if (!c->started)
		return true;
	/* Starts at or before the next byte, and ends past it. */
	return (int32_t)(seq - c->next_seq) <= 0 &&
	    (int32_t)(seq + (uint32_t)len - c->next_seq) > 0;
}

enum smtpcmd_lack
smtpcmd_lack(const struct smtpcmd *c)
{
	if (!c->started || c->greeted)
		return SMTPCMD_LACKS_NOTHING;
	switch (c->end) {
	case SMTPCMD_READING:
		return c->nooo > 0 ? SMTPCMD_LACKS_BYTES :
		    SMTPCMD_LACKS_GREETING;
	case SMTPCMD_END_LINES:
		return SMTPCMD_LACKS_GREETING;
	case SMTPCMD_LOST:
		return SMTPCMD_LACKS_BYTES;
	default:
		return SMTPCMD_LACKS_NOTHING;
	}
}

const char *
smtpcmd_lack_name(enum smtpcmd_lack l)
{
	switch (l) {
	case SMTPCMD_LACKS_NOTHING:	return "nothing";
	case SMTPCMD_LACKS_GREETING:	return "greeting";
	case SMTPCMD_LACKS_BYTES:	return "bytes";
	}
	return "?";
}
