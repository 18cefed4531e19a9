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
	if (smtpcmd_word(line, len, "DATA") || smtpcmd_word(line, len, "BDAT"))
		return SMTPCMD_DATA;
	return SMTPCMD_OTHER;
}

/* One complete line in c->line: report it and update the end state. */
static void
smtpcmd_line(struct smtpcmd *c, smtpcmd_cb cb, void *ctx)
{
	const char *arg;
	size_t arglen, len = c->len;
	enum smtpcmd_verb v;

	if (len > 0 && c->line[len - 1] == '\r')
		len--;
	v = smtpcmd_parse(c->line, len, &arg, &arglen);
	c->len = 0;
	c->lines++;
	cb(ctx, v, arg, arglen);
	if (v == SMTPCMD_MAIL)
		c->end = SMTPCMD_END_MAIL;
	else if (v == SMTPCMD_STARTTLS)
		c->end = SMTPCMD_END_STARTTLS;
	else if (v == SMTPCMD_DATA)
		c->end = SMTPCMD_END_DATA;
	else if (c->lines >= SMTPCMD_MAX_LINES)
		c->end = SMTPCMD_END_LINES;
}

enum smtpcmd_end
smtpcmd_feed(struct smtpcmd *c, uint32_t seq, const uint8_t *data,
    size_t len, smtpcmd_cb cb, void *ctx)
{
	size_t i;
	int32_t d;

	if (c->end != SMTPCMD_READING || len == 0)
		return c->end;
	if (!c->started) {
		c->started = true;
		c->next_seq = seq;
	}
	d = (int32_t)(seq - c->next_seq);
	if (d > 0) {
		c->end = SMTPCMD_LOST;
		return c->end;
	}
	if (d < 0) {
		/* A retransmission: skip what we have already read. */
		if ((size_t)-(int64_t)d >= len)
			return c->end;
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
			smtpcmd_line(c, cb, ctx);
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
	return c->end;
}
