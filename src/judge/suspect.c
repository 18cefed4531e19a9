/*
 * suspect.c - the signs of a legitimate sender among refused clients
 * (suspect.h has the definitions): pure functions over what the journal
 * holds of one address.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "suspect.h"

/* The longest run of tries in sorted times t[0..n) (suspect.h): its
 * tries and span; 0 and 0 when t is unsorted. */
static void
suspect_tries(const int64_t *t, size_t n, unsigned *tries, int64_t *span_s)
{
	int64_t run0 = 0, last = 0;	/* the run's first try, its last */
	unsigned cur = 0;
	size_t i;

	*tries = 0;
	*span_s = 0;
	for (i = 0; i < n; i++) {
		if (i > 0 && t[i] < t[i - 1]) {
			*tries = 0;
			*span_s = 0;
			return;
		}
		if (i > 0 && t[i] - t[i - 1] < SUSPECT_TRY_GAP_S)
			continue;	/* the same try */
		if (cur == 0 || t[i] - t[i - 1] > SUSPECT_RUN_GAP_S) {
			cur = 0;
			run0 = t[i];
		}
		cur++;
		last = t[i];
		if (cur > *tries || (cur == *tries && last - run0 > *span_s)) {
			*tries = cur;
			*span_s = last - run0;
		}
	}
}

bool
suspect_name_eq(const char *a, const char *b)
{
	size_t la, lb, i;

	if (a == NULL || b == NULL)
		return false;
	la = strlen(a);
	lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	if (la == 0 || la != lb)
		return false;
	for (i = 0; i < la; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool
suspect_is(const char *v, const char *want)
{
	return v != NULL && strcmp(v, want) == 0;
}

void
suspect_score(const struct suspect_in *in, struct suspect_score *out)
{
	memset(out, 0, sizeof(*out));
	suspect_tries(in->t, in->nt, &out->tries, &out->span_s);
	if (out->tries >= SUSPECT_TRIES && out->span_s >= SUSPECT_SPAN_S) {
		out->signs |= SUSPECT_RETRIES;
		out->score += SUSPECT_W_RETRIES;
	}
	if (suspect_is(in->ptr_class, "named") &&
	    suspect_is(in->fcrdns, "pass") && in->ptr != NULL &&
	    in->ptr[0] != '\0') {
		out->signs |= SUSPECT_NAMED;
		out->score += SUSPECT_W_NAMED;
	}
	if (in->dnswl) {
		out->signs |= SUSPECT_DNSWL;
		out->score += SUSPECT_W_DNSWL;
	}
	if (suspect_name_eq(in->helo, in->ptr)) {
		out->signs |= SUSPECT_HELO;
		out->score += SUSPECT_W_HELO;
	}
	if (suspect_is(in->spf_helo, "pass")) {
		out->signs |= SUSPECT_SPF;
		out->score += SUSPECT_W_SPF;
	}
}

/* Append "; " (unless first) and the formatted text, truncating. */
static void __attribute__((format(printf, 4, 5)))
suspect_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off > 0 && *off + 2 < len) {
		memcpy(buf + *off, "; ", 3);
		*off += 2;
	}
	if (*off + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

const char *
suspect_reasons(const struct suspect_score *s, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (s->signs & SUSPECT_RETRIES)
		suspect_put(buf, len, &off, "retried %u times over %lld.%lld h",
		    s->tries, (long long)(s->span_s / 3600),
		    (long long)(s->span_s % 3600 / 360));
	if (s->signs & SUSPECT_NAMED)
		suspect_put(buf, len, &off, "named PTR, forward-confirmed");
	if (s->signs & SUSPECT_DNSWL)
		suspect_put(buf, len, &off, "DNSWL-listed");
	if (s->signs & SUSPECT_HELO)
		suspect_put(buf, len, &off, "HELO is the PTR name");
	if (s->signs & SUSPECT_SPF)
		suspect_put(buf, len, &off, "SPF pass for the HELO");
	if (off == 0)
		snprintf(buf, len, "no sign");
	return buf;
}
