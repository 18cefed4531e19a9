/*
 * dnsbl.c - DNSBL/DNSWL sites in Postfix postscreen's syntax, and scoring.
 *
 * Exports dnsbl_parse (once, at configuration load), dnsbl_answer_kind,
 * dnsbl_site_match and dnsbl_score_zone (per answer set).  Pure code: no
 * allocation, no global state; the caller owns every struct.
 *
 * The syntax is postscreen_dnsbl_sites of postconf(5):
 *
 *	zone[=filter][*weight]	separated by white space or commas
 *	filter	= octet "." octet "." octet "." octet
 *	octet	= N | "[" item (";" item)* "]"	item = N | N ".." M
 *
 * with N, M decimal 0..255.  We are stricter than postscreen where its
 * leniency can only hide a mistake: zones must be LDH host names short
 * enough that an IPv6 query name still fits in 253 characters, and a filter
 * whose first octet cannot be 127 is refused, because answers outside
 * 127.0.0.0/8 are ignored and such an entry could never count.
 *
 * A zone named by several entries gets one slot in the distinct zone table
 * (compared without case, stored in lower case) so the caller queries it
 * once; each entry is then scored on its own against that zone's answers,
 * which is what postscreen does for list.dnswl.org-style multi-filter lists.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsbl.h"

/* Longest zone whose IPv6 query name (64 characters of nibbles) fits in
 * the 253 characters a DNS name may have in text. */
#define DNSBL_ZONE_USABLE	(253 - 64)
/* Bound on |weight| so 32 entries can never overflow an int sum. */
#define DNSBL_WEIGHT_MAX	100000

struct dnsbl_err {
	char *buf;
	size_t len;
	const char *entry;
	size_t entrylen;
};

static int
dnsbl_fail(struct dnsbl_err *e, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	int shown = (int)(e->entrylen > 300 ? 300 : e->entrylen);

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (e->buf != NULL && e->len > 0)
		snprintf(e->buf, e->len, "entry '%.*s%s': %s", shown, e->entry,
		    (size_t)shown < e->entrylen ? "..." : "", reason);
	return -1;
}

static bool
dnsbl_is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' ||
	    c == '\f' || c == '\v';
}

/*
 * A zone is a host name: labels of letters, digits and hyphens, 1..63
 * characters, no hyphen first or last (RFC 1123 2.1); not all-numeric at
 * the top (that is an address, not a zone); no root dot.
 */
static int
dnsbl_check_zone(struct dnsbl_err *e, const char *z, size_t len)
{
	size_t i, label = 0, start = 0;
	bool numeric = true;

	if (len == 0)
		return dnsbl_fail(e, "empty zone name");
	if (len > DNSBL_ZONE_USABLE)
		return dnsbl_fail(e, "zone name longer than %d characters",
		    DNSBL_ZONE_USABLE);
	for (i = 0; i <= len; i++) {
		char c = i < len ? z[i] : '.';

		if (c == '.') {
			if (label == 0)
				return dnsbl_fail(e, "empty label in zone name");
			if (z[start] == '-' || z[i - 1] == '-')
				return dnsbl_fail(e, "zone label '%.*s' starts "
				    "or ends with '-'", (int)label, z + start);
			if (i == len && numeric)
				return dnsbl_fail(e, "zone name ends in a "
				    "numeric label");
			label = 0;
			start = i + 1;
			numeric = true;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return dnsbl_fail(e, "bad character '%c' in zone name",
			    isprint((unsigned char)c) ? c : '?');
		if (!isdigit((unsigned char)c))
			numeric = false;
		if (++label > 63)
			return dnsbl_fail(e, "zone label longer than 63 "
			    "characters");
	}
	return 0;
}

/* Strict decimal 0..255 at *pp, no sign, no leading zero; advances *pp. */
static int
dnsbl_number(const char **pp, const char *end, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;
	size_t n = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (++n > 3)
			return -1;
		v = v * 10 + (unsigned)(*p++ - '0');
	}
	if (n == 0 || v > 255 || (n > 1 && **pp == '0'))
		return -1;
	*pp = p;
	*out = v;
	return 0;
}

static void
dnsbl_set_bits(uint8_t bits[32], unsigned lo, unsigned hi)
{
	for (unsigned v = lo; v <= hi; v++)
		bits[v / 8] |= (uint8_t)(1u << (v % 8));
}

static bool
dnsbl_bit(const uint8_t bits[32], unsigned v)
{
	return (bits[v / 8] >> (v % 8)) & 1;
}

/* One octet pattern: N or [item;item...], item N or N..M. */
static int
dnsbl_octet(struct dnsbl_err *e, const char **pp, const char *end,
    uint8_t bits[32], int which)
{
	const char *p = *pp;
	unsigned lo, hi;

	if (p < end && *p != '[') {
		if (dnsbl_number(&p, end, &lo) != 0)
			return dnsbl_fail(e, "filter octet %d: want a number "
			    "0..255 or a [list]", which);
		dnsbl_set_bits(bits, lo, lo);
		*pp = p;
		return 0;
	}
	if (p >= end)
		return dnsbl_fail(e, "filter octet %d missing", which);
	p++;
	for (;;) {
		if (dnsbl_number(&p, end, &lo) != 0)
			return dnsbl_fail(e, "filter octet %d: want a number "
			    "0..255 in the list", which);
		hi = lo;
		if (end - p >= 2 && p[0] == '.' && p[1] == '.') {
			p += 2;
			if (dnsbl_number(&p, end, &hi) != 0)
				return dnsbl_fail(e, "filter octet %d: want a "
				    "number 0..255 after '..'", which);
			if (hi < lo)
				return dnsbl_fail(e, "filter octet %d: range "
				    "%u..%u is backwards", which, lo, hi);
		}
		dnsbl_set_bits(bits, lo, hi);
		if (p < end && *p == ';') {
			p++;
			continue;
		}
		if (p < end && *p == ']') {
			p++;
			break;
		}
		return dnsbl_fail(e, "filter octet %d: want ';' or ']' in the "
		    "list", which);
	}
	*pp = p;
	return 0;
}

static int
dnsbl_filter(struct dnsbl_err *e, const char *p, const char *end,
    struct dnsbl_site *s)
{
	int i;

	if (p == end)
		return dnsbl_fail(e, "empty filter after '='");
	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (p >= end || *p != '.')
				return dnsbl_fail(e, "filter needs four octets "
				    "separated by '.'");
			p++;
		}
		if (dnsbl_octet(e, &p, end, s->octet[i], i + 1) != 0)
			return -1;
	}
	if (p != end)
		return dnsbl_fail(e, "junk after the filter's fourth octet");
	if (!dnsbl_bit(s->octet[0], 127))
		return dnsbl_fail(e, "filter can never match: only answers in "
		    "127.0.0.0/8 count");
	s->has_filter = true;
	return 0;
}

static int
dnsbl_weight(struct dnsbl_err *e, const char *p, const char *end, int *out)
{
	bool neg = false;
	long v = 0;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p == end)
		return dnsbl_fail(e, "weight: want an integer after '*'");
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return dnsbl_fail(e, "weight: want an integer after "
			    "'*'");
		v = v * 10 + (*p - '0');
		if (v > DNSBL_WEIGHT_MAX)
			return dnsbl_fail(e, "weight out of range -%d..%d",
			    DNSBL_WEIGHT_MAX, DNSBL_WEIGHT_MAX);
	}
	*out = (int)(neg ? -v : v);
	return 0;
}

/* Parse one entry [p, end) into a new site of out. */
static int
dnsbl_entry(struct dnsbl_err *e, const char *p, const char *end,
    struct dnsbl_sites *out)
{
	struct dnsbl_site *s;
	const char *zend, *fstart = NULL, *fend, *star;
	char zone[DNSBL_ZONE_MAX + 1];
	size_t zlen, i, z;

	if ((size_t)(end - p) >= sizeof s->text)
		return dnsbl_fail(e, "entry longer than %zu characters",
		    sizeof s->text - 1);
	if (out->nsites >= DNSBL_MAX_SITES)
		return dnsbl_fail(e, "more than %d entries", DNSBL_MAX_SITES);
	s = &out->site[out->nsites];
	memset(s, 0, sizeof *s);
	s->weight = 1;

	/* The zone cannot contain '=' or '*'; the filter cannot contain '*'. */
	star = memchr(p, '*', (size_t)(end - p));
	fend = star != NULL ? star : end;
	zend = memchr(p, '=', (size_t)(fend - p));
	if (zend != NULL)
		fstart = zend + 1;
	else
		zend = fend;
	zlen = (size_t)(zend - p);
	if (dnsbl_check_zone(e, p, zlen) != 0)
		return -1;
	if (fstart != NULL && dnsbl_filter(e, fstart, fend, s) != 0)
		return -1;
	if (star != NULL && dnsbl_weight(e, star + 1, end, &s->weight) != 0)
		return -1;

	for (i = 0; i < zlen; i++)
		zone[i] = (char)tolower((unsigned char)p[i]);
	zone[zlen] = '\0';
	for (z = 0; z < out->nzones; z++)
		if (strcmp(out->zone[z], zone) == 0)
			break;
	if (z == out->nzones) {
		/* Cannot overflow: there are no more zones than sites. */
		memcpy(out->zone[z], zone, zlen + 1);
		out->nzones++;
	}
	s->zone = (uint8_t)z;
	memcpy(s->text, p, (size_t)(end - p));
	s->text[end - p] = '\0';
	out->nsites++;
	return 0;
}

int
dnsbl_parse(const char *value, struct dnsbl_sites *out, char *err,
    size_t errlen)
{
	struct dnsbl_err e = { err, errlen, "", 0 };
	const char *p = value, *start;

	memset(out, 0, sizeof *out);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (value == NULL)
		return 0;
	for (;;) {
		while (*p != '\0' && dnsbl_is_sep(*p))
			p++;
		if (*p == '\0')
			return 0;
		start = p;
		while (*p != '\0' && !dnsbl_is_sep(*p))
			p++;
		e.entry = start;
		e.entrylen = (size_t)(p - start);
		if (dnsbl_entry(&e, start, p, out) != 0) {
			memset(out, 0, sizeof *out);
			return -1;
		}
	}
}

enum dnsbl_answer
dnsbl_answer_kind(uint32_t a)
{
	if ((a >> 24) != 127 || a == 0x7f000001u)
		return DNSBL_ANSWER_IGNORED;
	/*
	 * Spamhaus answers 127.255.255.252-255 to queries through public or
	 * abusive resolvers; other operators use 127.0.0.255.  Scoring them
	 * would block (or allow) every client at once.
	 */
	if ((a & 0xffffff00u) == 0x7fffff00u || a == 0x7f0000ffu)
		return DNSBL_ANSWER_ERROR;
	return DNSBL_ANSWER_LISTED;
}

bool
dnsbl_site_match(const struct dnsbl_site *site, uint32_t a)
{
	if (dnsbl_answer_kind(a) != DNSBL_ANSWER_LISTED)
		return false;
	if (!site->has_filter)
		return true;
	for (int i = 0; i < 4; i++)
		if (!dnsbl_bit(site->octet[i], (a >> (24 - 8 * i)) & 0xff))
			return false;
	return true;
}

int
dnsbl_score_zone(const struct dnsbl_sites *s, size_t z,
    const uint32_t *answers, size_t n, int *errors)
{
	int score = 0, nerr = 0;
	size_t i, j;

	for (j = 0; j < n; j++)
		if (dnsbl_answer_kind(answers[j]) == DNSBL_ANSWER_ERROR)
			nerr++;
	if (errors != NULL)
		*errors = nerr;
	if (z >= s->nzones)
		return 0;
	for (i = 0; i < s->nsites && i < DNSBL_MAX_SITES; i++) {
		if (s->site[i].zone != z)
			continue;
		for (j = 0; j < n; j++)
			if (dnsbl_site_match(&s->site[i], answers[j])) {
				score += s->site[i].weight;
				break;
			}
	}
	return score;
}
