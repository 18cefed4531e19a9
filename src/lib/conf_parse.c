/*
 * conf_parse.c - the value syntaxes of the configuration, shared by the
 * file's setters (conf_keys.c) and the command lines (smtpgatectl's
 * --expires and -t), so a duration or a number reads alike everywhere.
 *
 * Exports conf_parse_number and conf_parse_duration (conf.h) and the
 * helpers of conf_int.h.  Pure: no state, no I/O.  Every parser writes
 * its reason into why and nothing else (the caller adds where).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

/* Digits beyond this are out of any range we have; stops overflow. */
#define CONF_PARSE_BIG	((long long)1 << 40)

int
conf_parse_number(const char *v, long long min, long long max,
    long long *out, char *why, size_t whylen)
{
	const char *p = v;
	bool neg = false;
	long long n = 0;

	if (*p == '-' && min < 0) {
		neg = true;
		p++;
	}
	if (*p == '\0')
		goto bad;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
		if (n > CONF_PARSE_BIG)
			goto range;
	}
	if (neg)
		n = -n;
	if (n < min || n > max)
		goto range;
	*out = n;
	return 0;
bad:
	snprintf(why, whylen, "'%s' is not a number (want %lld..%lld)", v, min,
	    max);
	return -1;
range:
	snprintf(why, whylen, "'%s' out of range %lld..%lld", v, min, max);
	return -1;
}

const char *
conf_parse_duration_text(long long s, char *buf, size_t len)
{
	if (s != 0 && s % 86400 == 0)
		snprintf(buf, len, "%lldd", s / 86400);
	else if (s != 0 && s % 3600 == 0)
		snprintf(buf, len, "%lldh", s / 3600);
	else if (s != 0 && s % 60 == 0)
		snprintf(buf, len, "%lldm", s / 60);
	else
		snprintf(buf, len, "%llds", s);
	return buf;
}

int
conf_parse_duration(const char *v, long long min, long long max,
    long long *out, char *why, size_t whylen)
{
	char num[32], lo[32], hi[32], dummy[8];
	size_t len = strlen(v);
	long long n, mult = 1;

	if (len > 0 && len < sizeof num) {
		switch (v[len - 1]) {
		case 's': mult = 1; len--; break;
		case 'm': mult = 60; len--; break;
		case 'h': mult = 3600; len--; break;
		case 'd': mult = 86400; len--; break;
		case 'w': mult = 7 * 86400; len--; break;
		default: break;
		}
	}
	conf_parse_duration_text(min, lo, sizeof lo);
	conf_parse_duration_text(max, hi, sizeof hi);
	if (len == 0 || len >= sizeof num)
		goto bad;
	memcpy(num, v, len);
	num[len] = '\0';
	if (strspn(num, "0123456789") != len)
		goto bad;
	if (conf_parse_number(num, 0, max, &n, dummy, sizeof dummy) != 0 ||
	    n * mult < min || n * mult > max) {
		snprintf(why, whylen, "'%s' out of range %s..%s", v, lo, hi);
		return -1;
	}
	*out = n * mult;
	return 0;
bad:
	snprintf(why, whylen, "'%s' is not a duration (want seconds, or a "
	    "number with s, m, h, d or w, %s..%s)", v, lo, hi);
	return -1;
}

int
conf_parse_bool(const char *v, bool *out, char *why, size_t whylen)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(why, whylen, "'%s' is not yes or no", v);
	return -1;
}

static bool
conf_parse_is_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',';
}

int
conf_parse_each(const char *v, int (*fn)(void *arg, const char *item,
    char *why, size_t whylen), void *arg, char *why, size_t whylen)
{
	char item[CONF_ITEM_MAX];
	const char *p = v, *start;
	size_t len;

	for (;;) {
		while (conf_parse_is_sep(*p))
			p++;
		if (*p == '\0')
			return 0;
		start = p;
		while (*p != '\0' && !conf_parse_is_sep(*p))
			p++;
		len = (size_t)(p - start);
		if (len >= sizeof item) {
			snprintf(why, whylen, "'%.40s...': item too long", start);
			return -1;
		}
		memcpy(item, start, len);
		item[len] = '\0';
		if (fn(arg, item, why, whylen) != 0)
			return -1;
	}
}

int
conf_parse_port(const char *s, uint16_t *out)
{
	long long n;
	char dummy[8];

	if (conf_parse_number(s, 1, 65535, &n, dummy, sizeof dummy) != 0)
		return -1;
	*out = (uint16_t)n;
	return 0;
}

int
conf_parse_hostname(const char *item, char *out, size_t len, char *why,
    size_t whylen)
{
	size_t n = strlen(item);

	if (n > 0 && item[n - 1] == '.')
		n--;
	if (n == 0 || n >= len) {
		snprintf(why, whylen, "'%s': want a name of 1..%zu characters",
		    item, len - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = item[i];

		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '.') {
			snprintf(why, whylen, "'%s': not a host name", item);
			return -1;
		}
		if (ch == '.' && (i == 0 || item[i - 1] == '.')) {
			snprintf(why, whylen, "'%s': empty label", item);
			return -1;
		}
		out[i] = (char)tolower((unsigned char)ch);
	}
	out[n] = '\0';
	return 0;
}
