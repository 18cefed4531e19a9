/*
 * ctl_out.c - smtpgatectl's records and how they are printed: aligned
 * text for people, JSON for scripts, Prometheus exposition for stats.
 *
 * Exports the ctl_record_*, ctl_table_*, ctl_json_* and ctl_out_*
 * functions of ctl.h: every command's JSON is written by ctl_json_*.
 * Records parsed from a daemon are hostile input: keys and values are
 * checked before they reach a terminal, a JSON document or a metric name.
 */
#define _GNU_SOURCE	/* vasprintf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

void
ctl_record_init(struct ctl_record *r)
{
	memset(r, 0, sizeof(*r));
}

void
ctl_record_free(struct ctl_record *r)
{
	for (size_t i = 0; i < r->nblk; i++)
		free(r->blk[i]);
	free(r->blk);
	free(r->key);
	free(r->val);
	ctl_record_init(r);
}

/* Room for one more field and one more owned block.  0 or -1. */
static int
ctl_record_room(struct ctl_record *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		const char **k, **v;

		if ((k = realloc(r->key, cap * sizeof(*k))) == NULL)
			return -1;
		r->key = k;
		if ((v = realloc(r->val, cap * sizeof(*v))) == NULL)
			return -1;
		r->val = v;
		r->cap = cap;
	}
	if (r->nblk == r->capblk) {
		size_t cap = r->capblk ? r->capblk * 2 : 16;
		char **b = realloc(r->blk, cap * sizeof(*b));

		if (b == NULL)
			return -1;
		r->blk = b;
		r->capblk = cap;
	}
	return 0;
}

void
ctl_record_add(struct ctl_record *r, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v;
	int n;

	if (r->n >= CTL_REC_FIELDS || r->used >= CTL_REC_TEXT ||
	    ctl_record_room(r) == -1)
		return;
	va_start(ap, fmt);
	n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n + 1 > CTL_REC_TEXT - r->used) {
		free(v);
		return;
	}
	r->blk[r->nblk++] = v;
	r->key[r->n] = key;
	r->val[r->n] = v;
	r->n++;
	r->used += (size_t)n + 1;
}

const char *
ctl_record_get(const struct ctl_record *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return NULL;
}

int
ctl_record_parse(const char *line, struct ctl_record *r, const char **why)
{
	size_t len = strlen(line), i;
	char *p, *end, *text;

	ctl_record_free(r);
	if (len + 1 > CTL_REC_TEXT) {
		*why = "record too long";
		return -1;
	}
	if (ctl_record_room(r) == -1 || (text = strdup(line)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	r->blk[r->nblk++] = text;
	r->used = len + 1;
	for (p = text; *p != '\0'; p = end) {
		char *eq;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, " ");
		if (*end == ' ')
			*end++ = '\0';
		if ((eq = strchr(p, '=')) == NULL || eq == p || eq[1] == '\0') {
			*why = "field is not key=value";
			return -1;
		}
		*eq = '\0';
		for (i = 0; p[i] != '\0'; i++)
			if (!((p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
			    p[i] == '-')) {
				*why = "bad character in a key";
				return -1;
			}
		for (i = 0; eq[1 + i] != '\0'; i++) {
			unsigned char c = (unsigned char)eq[1 + i];

			if (c <= 0x20 || c >= 0x7f || c == '=') {
				*why = "bad character in a value";
				return -1;
			}
		}
		if (r->n == CTL_REC_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		if (ctl_record_room(r) == -1) {
			*why = "out of memory";
			return -1;
		}
		r->key[r->n] = p;
		r->val[r->n] = eq + 1;
		r->n++;
	}
	return 0;
}

struct ctl_record *
ctl_table_add(struct ctl_table *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ctl_record *r = realloc(t->r, cap * sizeof(*r));

		if (r == NULL)
			return NULL;
		t->r = r;
		t->cap = cap;
	}
	ctl_record_init(&t->r[t->n]);
	return &t->r[t->n++];
}

void
ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		ctl_record_free(&t->r[i]);
	free(t->r);
	memset(t, 0, sizeof(*t));
}

bool
ctl_out_is_uint(const char *s)
{
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			return false;
	return true;
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t
ctl_out_utf8(const unsigned char *s)
{
	size_t n, i;
	unsigned c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void
ctl_out_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p != '\0') {
		size_t n;

		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = ctl_out_utf8(p)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fprintf(f, "\\u%04x", *p++);	/* Latin-1 guess */
		}
	}
	fputc('"', f);
}

void
ctl_out_json_val(FILE *f, const char *s)
{
	if (ctl_out_is_uint(s))
		fputs(s, f);
	else
		ctl_out_json_str(f, s);
}

void
ctl_json_init(struct ctl_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before a member: its separator, and its key when in an object. */
static void
ctl_json_member(struct ctl_json *j, const char *key)
{
	if (j->depth > 0) {
		bool outer = j->depth == 1;

		if (j->any[j->depth - 1])
			fputc(',', j->f);
		fputs(outer ? "\n " : j->any[j->depth - 1] ? " " : "", j->f);
		j->any[j->depth - 1] = true;
	}
	if (key != NULL) {
		ctl_out_json_str(j->f, key);
		fputs(": ", j->f);
	}
}

static void
ctl_json_open(struct ctl_json *j, const char *key, char open, char close)
{
	ctl_json_member(j, key);
	fputc(open, j->f);
	if (j->depth < CTL_JSON_DEPTH) {
		j->close[j->depth] = close;
		j->any[j->depth] = false;
	}
	j->depth++;
}

void
ctl_json_obj(struct ctl_json *j, const char *key)
{
	ctl_json_open(j, key, '{', '}');
}

void
ctl_json_arr(struct ctl_json *j, const char *key)
{
	ctl_json_open(j, key, '[', ']');
}

void
ctl_json_end(struct ctl_json *j)
{
	unsigned d;

	if (j->depth == 0)
		return;
	d = --j->depth;
	if (d >= CTL_JSON_DEPTH) {
		fputc('}', j->f);	/* past the depth: callers' bug */
		return;
	}
	if (d == 0 && j->any[0])
		fputc('\n', j->f);
	fputc(j->close[d], j->f);
	if (d == 0)
		fputc('\n', j->f);
}

void
ctl_json_str(struct ctl_json *j, const char *key, const char *v)
{
	ctl_json_member(j, key);
	if (v == NULL)
		fputs("null", j->f);
	else
		ctl_out_json_str(j->f, v);
}

void
ctl_json_int(struct ctl_json *j, const char *key, long long v)
{
	ctl_json_member(j, key);
	fprintf(j->f, "%lld", v);
}

void
ctl_json_bool(struct ctl_json *j, const char *key, bool v)
{
	ctl_json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void
ctl_json_val(struct ctl_json *j, const char *key, const char *v)
{
	ctl_json_member(j, key);
	ctl_out_json_val(j->f, v);
}

/* A value for a terminal: bytes outside printable ASCII as '?'. */
static void
ctl_out_text_val(FILE *f, const char *s, int width)
{
	int n = 0;

	for (; *s != '\0'; s++, n++)
		fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', f);
	for (; n < width; n++)
		fputc(' ', f);
}

void
ctl_out_table(FILE *f, enum ctl_format fmt, const struct ctl_table *t)
{
	size_t i, k;

	if (fmt == CTL_FMT_JSON) {
		struct ctl_json j;

		ctl_json_init(&j, f);
		ctl_json_arr(&j, NULL);
		for (i = 0; i < t->n; i++) {
			ctl_json_obj(&j, NULL);
			for (k = 0; k < t->r[i].n; k++)
				ctl_json_val(&j, t->r[i].key[k],
				    t->r[i].val[k]);
			ctl_json_end(&j);
		}
		ctl_json_end(&j);
		return;
	}
	if (t->n == 0) {
		fputs("(none)\n", f);
		return;
	}
	/* Columns of the first record's keys, as wide as their widest. */
	const struct ctl_record *h = &t->r[0];
	int w[CTL_REC_FIELDS];

	for (k = 0; k < h->n; k++) {
		w[k] = (int)strlen(h->key[k]);
		for (i = 0; i < t->n; i++) {
			const char *v = ctl_record_get(&t->r[i], h->key[k]);
			if (v != NULL && (int)strlen(v) > w[k])
				w[k] = (int)strlen(v);
		}
	}
	for (k = 0; k < h->n; k++) {
		ctl_out_text_val(f, h->key[k], k + 1 < h->n ? w[k] + 2 : 0);
	}
	fputc('\n', f);
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < h->n; k++) {
			const char *v = ctl_record_get(&t->r[i], h->key[k]);
			ctl_out_text_val(f, v ? v : "-", k + 1 < h->n ?
			    w[k] + 2 : 0);
		}
		fputc('\n', f);
	}
}

/* Counters that are really levels: no _total, TYPE gauge. */
static bool
ctl_out_gauge(const char *key)
{
	static const char *const gauges[] = {
		"pending", "inflight", "flows", "sessions", "banned",
		"offenders", "strikers", "held", "dns_inflight",
		"verdict_pending", "dns_active", "dns_waiting",
		"reply_open", "reply_open_max", "cluster_up", "cluster_backlog",
		"cluster_siblings",
	};

	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		if (strcmp(key, gauges[i]) == 0)
			return true;
	return false;
}

/*
 * A time in a unit Prometheus does not want ("verdict_p99_us"): the
 * divisor to seconds and the length of the key without its suffix, or 0.
 * Such fields are levels (latencies, ages): gauges in seconds.
 */
static unsigned long long
ctl_out_time_unit(const char *key, size_t *stem)
{
	static const struct {
		const char *suffix;
		unsigned long long div;
	} u[] = { { "_us", 1000000 }, { "_ms", 1000 }, { "_s", 1 } };
	size_t len = strlen(key);

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		size_t sl = strlen(u[i].suffix);

		if (len > sl && strcmp(key + len - sl, u[i].suffix) == 0) {
			*stem = len - sl;
			return u[i].div;
		}
	}
	return 0;
}

void
ctl_out_prom(FILE *f, const char *daemon, const struct ctl_record *r)
{
	char name[128], value[48];

	for (size_t i = 0; i < r->n; i++) {
		const char *k = r->key[i];
		size_t j, off, stem = strlen(k);
		unsigned long long div = ctl_out_time_unit(k, &stem);
		bool gauge = div != 0 || ctl_out_gauge(k);

		if (!ctl_out_is_uint(r->val[i]))
			continue;
		off = (size_t)snprintf(name, sizeof(name), "smtpgate_%s_",
		    daemon);
		/* Metric names allow [a-zA-Z0-9_:]: '-' becomes '_'. */
		for (j = 0; j < stem && off + 16 < sizeof(name); j++)
			name[off++] = k[j] == '-' ? '_' : k[j];
		name[off] = '\0';
		if (div != 0) {
			unsigned long long v = strtoull(r->val[i], NULL, 10);

			snprintf(name + off, sizeof(name) - off, "_seconds");
			if (div == 1)
				snprintf(value, sizeof(value), "%llu", v);
			else
				snprintf(value, sizeof(value), "%llu.%0*llu",
				    v / div, div == 1000 ? 3 : 6, v % div);
		} else {
			if (!gauge)
				snprintf(name + off, sizeof(name) - off,
				    "_total");
			snprintf(value, sizeof(value), "%s", r->val[i]);
		}
		fprintf(f, "# HELP %s %s \"%s\" of %s%s.\n", name,
		    gauge ? "Level" : "Count", k, daemon,
		    div > 1 ? ", in seconds" : "");
		fprintf(f, "# TYPE %s %s\n", name, gauge ? "gauge" : "counter");
		fprintf(f, "%s %s\n", name, value);
	}
}

void
ctl_json_double(struct ctl_json *j, const char *key, double v, int decimals)
{
	ctl_json_member(j, key);
	if (v != v || v > 1e300 || v < -1e300)
		fputs("null", j->f);	/* NaN, infinities: not JSON */
	else
		fprintf(j->f, "%.*f", decimals, v);
}

void
ctl_out_csv_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	bool quote = false;

	for (; *p != '\0'; p++)
		if (*p == ',' || *p == '"' || *p == ' ' || *p < 0x20 ||
		    *p >= 0x7f)
			quote = true;
	if (quote)
		fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0';) {
		size_t n;

		if (*p == '"') {
			fputs("\"\"", f);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\x%02x", *p++);	/* one record, one line */
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = ctl_out_utf8(p)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fprintf(f, "\\x%02x", *p++);
		}
	}
	if (quote)
		fputc('"', f);
}

void
ctl_out_csv(FILE *f, const struct ctl_table *t)
{
	const struct ctl_record *h;
	size_t i, k;

	if (t->n == 0)
		return;
	h = &t->r[0];
	for (k = 0; k < h->n; k++) {
		if (k > 0)
			fputc(',', f);
		ctl_out_csv_str(f, h->key[k]);
	}
	fputc('\n', f);
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < h->n; k++) {
			const char *v = ctl_record_get(&t->r[i], h->key[k]);

			if (k > 0)
				fputc(',', f);
			ctl_out_csv_str(f, v != NULL ? v : "");
		}
		fputc('\n', f);
	}
}
