/*
 * identity.c - the pure parts of smtpgatectl identity: host name labels,
 * escaping, a TXT answer read as SPF, the SMTP greeting.  identity.h says
 * what each promises.  No I/O, no allocation.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "identity.h"

unsigned
identity_labels(const char *name)
{
	size_t len = strlen(name), lab = 0;
	unsigned n = 0;
	bool digits = true;	/* the label so far is all digits */

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)name[i] : '.';

		if (c == '.') {
			if (lab == 0 || lab > 63 || (i == len && digits))
				return 0;
			n++;
			lab = 0;
			digits = true;
			continue;
		}
		digits = digits && c >= '0' && c <= '9';
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		lab++;
	}
	return n;
}

char *
identity_escape(const unsigned char *b, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char esc[5];
		size_t el;

		if (b[i] == '\\' || b[i] == '"') {
			esc[0] = '\\';
			esc[1] = (char)b[i];
			el = 2;
		} else if (b[i] >= 0x20 && b[i] < 0x7f) {
			esc[0] = (char)b[i];
			el = 1;
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", b[i]);
			el = 4;
		}
		if (o + el >= outlen)
			break;
		memcpy(out + o, esc, el);
		o += el;
	}
	out[o] = '\0';
	return out;
}

/* Does text[0..n) begin an SPF record: "v=spf1", then a space or the
 * end (RFC 7208 section 4.5; the version is case-insensitive)? */
static bool
identity_is_spf(const unsigned char *text, size_t n)
{
	return n >= 6 && strncasecmp((const char *)text, "v=spf1", 6) == 0 &&
	    (n == 6 || text[6] == ' ');
}

/* The qualifier of the "all" mechanism and a redirect= in the terms of
 * text[0..n) (space-separated, RFC 7208 section 4.6.1). */
static void
identity_spf_terms(const unsigned char *text, size_t n,
    struct identity_spf *s)
{
	size_t i = 0;

	while (i < n) {
		size_t st, len;
		const char *t;

		while (i < n && text[i] == ' ')
			i++;
		st = i;
		while (i < n && text[i] != ' ')
			i++;
		len = i - st;
		t = (const char *)text + st;
		if (len == 3 && strncasecmp(t, "all", 3) == 0 && s->all == 0)
			s->all = '+';
		else if (len == 4 && strchr("+-~?", t[0]) != NULL &&
		    strncasecmp(t + 1, "all", 3) == 0 && s->all == 0)
			s->all = t[0];
		else if (len >= 9 && strncasecmp(t, "redirect=", 9) == 0)
			s->redirect = true;
	}
}

void
identity_spf_read(const struct dns_txt *t, struct identity_spf *s)
{
	/* The text of one record, joined and spaced (a space per join). */
	unsigned char joined[DNS_TXT_TEXT_MAX], spaced[DNS_TXT_TEXT_MAX +
	    DNS_TXT_MAX_STRINGS];
	bool best_is_spf = false;

	memset(s, 0, sizeof(*s));
	s->rec = -1;
	for (size_t r = 0; t->status == DNS_OK && r < t->nrecords; r++) {
		const struct dns_txt_record *rec = &t->rec[r];
		size_t jn = 0, sn = 0, glued = 0;
		bool spf, broken;

		for (size_t k = 0; k < rec->nstrings; k++) {
			const unsigned char *p = t->text + rec->s[k].off;
			size_t len = rec->s[k].len;

			if (k > 0) {
				const struct dns_txt_string *prev =
				    &rec->s[k - 1];

				if (prev->len > 0 && len > 0 &&
				    t->text[prev->off + prev->len - 1] != ' ' &&
				    p[0] != ' ')
					glued++;
				spaced[sn++] = ' ';
			}
			memcpy(joined + jn, p, len);
			memcpy(spaced + sn, p, len);
			jn += len;
			sn += len;
		}
		spf = identity_is_spf(joined, jn);
		broken = !spf && identity_is_spf(spaced, sn);
		s->nspf += spf;
		s->nbroken += broken;
		/* Describe the first SPF record, else the first broken one. */
		if ((spf && !best_is_spf) || (broken && s->rec == -1)) {
			s->rec = (int)r;
			s->nstrings = rec->nstrings;
			s->glued = glued;
			s->cut = rec->cut;
			best_is_spf = spf;
			identity_escape(joined, jn, s->joined,
			    sizeof(s->joined));
			identity_escape(spaced, sn, s->spaced,
			    sizeof(s->spaced));
			s->all = 0;
			s->redirect = false;
			identity_spf_terms(joined, jn, s);
		}
	}
}

/* ---- the greeting ---- */

static bool
identity_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The first word of line[0..n) (after the code and its separator) as a
 * host name, lower case, into out (IDENTITY_NAME_MAX); "" when it is
 * none. */
static void
identity_banner_name(const unsigned char *line, size_t n, char *out)
{
	size_t i = 4, w = 0;

	out[0] = '\0';
	while (i < n && line[i] == ' ')
		i++;
	while (i < n && line[i] != ' ' && line[i] != '\t') {
		unsigned char c = line[i++];

		if (w + 1 >= IDENTITY_NAME_MAX) {
			out[0] = '\0';
			return;
		}
		out[w++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[w] = '\0';
	/* A bracketed address literal or any other word is no name. */
	if (identity_labels(out) == 0)
		out[0] = '\0';
}

void
identity_banner_parse(const unsigned char *buf, size_t len,
    struct identity_banner *b)
{
	size_t p = 0;

	memset(b, 0, sizeof(*b));
	b->state = IDENTITY_BANNER_PARTIAL;
	if (len > IDENTITY_BANNER_MAX)
		len = IDENTITY_BANNER_MAX;
	while (p < len) {
		const unsigned char *line = buf + p, *nl;
		size_t n;
		unsigned code;

		if ((nl = memchr(line, '\n', len - p)) == NULL)
			return;		/* the line is not complete */
		n = (size_t)(nl - line);
		p += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n < 3 || !identity_digit(line[0]) ||
		    !identity_digit(line[1]) || !identity_digit(line[2]) ||
		    (n > 3 && line[3] != ' ' && line[3] != '-')) {
			b->state = IDENTITY_BANNER_MALFORMED;
			b->why = "a line that is no SMTP reply";
			if (b->lines == 0)
				identity_escape(line, n, b->first,
				    sizeof(b->first));
			return;
		}
		code = (unsigned)(line[0] - '0') * 100 +
		    (unsigned)(line[1] - '0') * 10 + (unsigned)(line[2] - '0');
		if (b->lines == 0) {
			b->code = code;
			identity_escape(line, n, b->first, sizeof(b->first));
			identity_banner_name(line, n, b->name);
		} else if (code != b->code) {
			b->state = IDENTITY_BANNER_MALFORMED;
			b->why = "lines of different reply codes";
			return;
		}
		b->lines++;
		if (n == 3 || line[3] == ' ') {
			b->state = IDENTITY_BANNER_DONE;
			return;
		}
	}
}
