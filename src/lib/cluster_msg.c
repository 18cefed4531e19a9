/*
 * cluster_msg.c - the pure formats of cluster.h: a shared change as one
 * line of text, the Redis key of its subject, the TTL it has left.
 *
 * Exports cluster_kind_name, cluster_msg_format, cluster_msg_parse,
 * cluster_msg_key, cluster_msg_left and cluster_msg_switch (a Sentinel's
 * +switch-master, hostile like the rest).  No state, no I/O, no allocation.
 *
 * Everything read back from Redis is hostile (anyone who can reach the
 * server can write to it), so the parser accepts exactly what the
 * formatter writes and nothing else: eight fields, one space between
 * each, no other white space, the version "1", numbers in plain decimal
 * without sign or leading zero, names and reasons from their charsets,
 * addresses and prefixes in the canonical text addr_ntop writes (so that
 * one subject has one key), and every number within its bounds.  What
 * parses formats back to the same bytes (fuzz_cluster checks it).  A
 * refusal names its field, counted from 0 (the version):
 * "field 4: ttl 0 out of 1..34560000".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster.h"

#define CLUSTER_MSG_FIELDS	8
#define CLUSTER_MSG_VERSION	"1"
/* AT, ms since the epoch: from 2001-09-09 to 2286-11-20; anything
 * outside is a clock or a writer gone wrong. */
#define CLUSTER_AT_MIN		1000000000000ll
#define CLUSTER_AT_MAX		9999999999999ll
/* How far in the future a decision may lie (clocks of two gateways). */
#define CLUSTER_SKEW_MS		60000

static const char *const cluster_kind_names[CLUSTER_KIND_MAX] = {
	[CLUSTER_DENY] = "deny",
	[CLUSTER_DROP] = "drop",
	[CLUSTER_PASS] = "pass",
	[CLUSTER_STRIKE] = "strike",
	[CLUSTER_BAN] = "ban",
	[CLUSTER_UNBAN] = "unban",
	[CLUSTER_ALLOW_ADD] = "allow-add",
	[CLUSTER_ALLOW_DEL] = "allow-del",
	[CLUSTER_HELLO] = "hello",
};

const char *
cluster_kind_name(enum cluster_kind k)
{
	return (unsigned)k < CLUSTER_KIND_MAX ? cluster_kind_names[k] : "?";
}

/* ---- what a valid event is (the formatter and the parser agree) ---- */

/* Kinds whose entry lives for TTL seconds; the others carry TTL 0. */
static bool
cluster_msg_has_ttl(enum cluster_kind k)
{
	return k == CLUSTER_DENY || k == CLUSTER_DROP || k == CLUSTER_PASS ||
	    k == CLUSTER_STRIKE || k == CLUSTER_BAN;
}

static bool
cluster_msg_has_count(enum cluster_kind k)
{
	return k == CLUSTER_STRIKE || k == CLUSTER_BAN;
}

static bool
cluster_msg_is_allow(enum cluster_kind k)
{
	return k == CLUSTER_ALLOW_ADD || k == CLUSTER_ALLOW_DEL;
}

/* [A-Za-z0-9._-]{1,max}: a node (and a master) name. */
static bool
cluster_msg_name_ok(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

/* [a-z0-9:.,_-]{1,47}: a verdict's reasons ("no-ptr,fcrdns") or a rule. */
static bool
cluster_msg_reason_ok(const char *s, size_t len)
{
	if (len == 0 || len >= CLUSTER_REASON_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == ':' || ch == '.' || ch == ',' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

/* "-" is no reason; "" stands for it in the event. */
static bool
cluster_msg_reason_valid(const char *r)
{
	size_t len = strnlen(r, CLUSTER_REASON_MAX);

	return len == 0 || (len < CLUSTER_REASON_MAX &&
	    cluster_msg_reason_ok(r, len));
}

/* The subject's text: an address, ADDR/64, a prefix, or "-". */
static bool
cluster_msg_subject(const struct cluster_event *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	int n;

	if (e->kind == CLUSTER_HELLO)
		n = snprintf(buf, len, "-");
	else if (cluster_msg_is_allow(e->kind) || e->net64) {
		if (e->p.a.family != AF_INET && e->p.a.family != AF_INET6)
			return false;
		if (e->p.len > (e->p.a.family == AF_INET ? 32 : 128))
			return false;
		n = snprintf(buf, len, "%s/%u", addr_ntop(&e->p.a, a),
		    e->p.len);
	} else {
		if (e->a.family != AF_INET && e->a.family != AF_INET6)
			return false;
		n = snprintf(buf, len, "%s", addr_ntop(&e->a, a));
	}
	return n > 0 && (size_t)n < len;
}

static bool
cluster_msg_valid(const struct cluster_event *e)
{
	size_t nl;

	if ((unsigned)e->kind >= CLUSTER_KIND_MAX)
		return false;
	nl = strnlen(e->node, CLUSTER_NODE_MAX);
	if (nl >= CLUSTER_NODE_MAX ||
	    !cluster_msg_name_ok(e->node, nl, CLUSTER_NODE_MAX - 1))
		return false;
	if (e->at_ms < CLUSTER_AT_MIN || e->at_ms > CLUSTER_AT_MAX)
		return false;
	if (cluster_msg_has_ttl(e->kind) ?
	    e->ttl_s < 1 || e->ttl_s > CLUSTER_TTL_MAX : e->ttl_s != 0)
		return false;
	if (cluster_msg_has_count(e->kind) ?
	    e->count < 1 || e->count > CLUSTER_COUNT_MAX : e->count != 0)
		return false;
	if (!cluster_msg_reason_valid(e->reason))
		return false;
	if (e->net64 && ((e->kind != CLUSTER_DENY && e->kind != CLUSTER_DROP) ||
	    e->p.a.family != AF_INET6 || e->p.len != 64))
		return false;
	return true;
}

size_t
cluster_msg_format(const struct cluster_event *e, char *buf, size_t len)
{
	char subject[ADDR_STRLEN + 8];
	int n;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (!cluster_msg_valid(e) ||
	    !cluster_msg_subject(e, subject, sizeof subject))
		return 0;
	n = snprintf(buf, len, CLUSTER_MSG_VERSION " %s %s %lld %u %u %s %s",
	    cluster_kind_name(e->kind), e->node, (long long)e->at_ms,
	    e->ttl_s, e->count, e->reason[0] ? e->reason : "-", subject);
	if (n < 0 || (size_t)n >= len || n >= CLUSTER_MSG_MAX) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/* ---- parsing ---- */

struct cluster_msg_field {
	const char *s;		/* inside the parser's NUL-terminated copy */
	size_t len;
};

/* Plain decimal: no sign, no leading zero, at most 13 digits. */
static int
cluster_msg_number(const struct cluster_msg_field *f, long long *out)
{
	long long v = 0;

	if (f->len == 0 || f->len > 13 || (f->s[0] == '0' && f->len > 1))
		return -1;
	for (size_t i = 0; i < f->len; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return -1;
		v = v * 10 + (f->s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
cluster_msg_fault(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cluster_msg_fault(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The subject, field 7, for e's kind (already parsed). */
static int
cluster_msg_parse_subject(const struct cluster_msg_field *f,
    struct cluster_event *e, char *why, size_t whylen)
{
	char text[ADDR_STRLEN + 8], canon[ADDR_STRLEN + 8], a[ADDR_STRLEN];
	const char *reason = NULL;

	if (e->kind == CLUSTER_HELLO) {
		if (f->len != 1 || f->s[0] != '-')
			return cluster_msg_fault(why, whylen, "field 7: a hello's "
			    "subject must be '-'");
		return 0;
	}
	if (f->len >= sizeof text)
		return cluster_msg_fault(why, whylen, "field 7: subject longer "
		    "than %zu characters", sizeof text - 1);
	memcpy(text, f->s, f->len);
	text[f->len] = '\0';
	if (cluster_msg_is_allow(e->kind) || memchr(text, '/', f->len)) {
		if (prefix_parse(text, &e->p, &reason) != 0)
			return cluster_msg_fault(why, whylen, "field 7: '%s': %s",
			    text, reason);
		snprintf(canon, sizeof canon, "%s/%u", addr_ntop(&e->p.a, a),
		    e->p.len);
		if (strcmp(canon, text) != 0)
			return cluster_msg_fault(why, whylen, "field 7: '%s' is "
			    "not written as %s", text, canon);
		e->a = e->p.a;
		if (cluster_msg_is_allow(e->kind))
			return 0;
		if (e->kind != CLUSTER_DENY && e->kind != CLUSTER_DROP)
			return cluster_msg_fault(why, whylen, "field 7: a %s "
			    "names an address, not a network",
			    cluster_kind_name(e->kind));
		if (e->p.a.family != AF_INET6 || e->p.len != 64)
			return cluster_msg_fault(why, whylen, "field 7: '%s': "
			    "a network verdict is an IPv6 /64", text);
		e->net64 = true;
		return 0;
	}
	if (addr_parse(text, &e->a) != 0)
		return cluster_msg_fault(why, whylen, "field 7: '%s' is not an "
		    "address", text);
	addr_ntop(&e->a, canon);
	if (strcmp(canon, text) != 0)
		return cluster_msg_fault(why, whylen, "field 7: '%s' is not "
		    "written as %s", text, canon);
	return 0;
}

static int
cluster_msg_parse_fields(const char *data, size_t len,
    struct cluster_event *e, char *why, size_t whylen)
{
	struct cluster_msg_field f[CLUSTER_MSG_FIELDS];
	char copy[CLUSTER_MSG_MAX];
	size_t i, nf = 0, start = 0;
	long long v;
	int k;

	if (len == 0)
		return cluster_msg_fault(why, whylen, "empty message");
	if (len >= CLUSTER_MSG_MAX)
		return cluster_msg_fault(why, whylen, "message of %zu bytes "
		    "(at most %d)", len, CLUSTER_MSG_MAX - 1);
	/* Bytes checked before anything reads them as text. */
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch < 0x20 || ch > 0x7e)
			return cluster_msg_fault(why, whylen, "byte %zu: 0x%02x "
			    "is not printable ASCII", i, ch);
	}
	memcpy(copy, data, len);
	copy[len] = '\0';
	/* Exactly one space between fields, none around them. */
	for (i = 0; i <= len; i++) {
		if (i < len && copy[i] != ' ')
			continue;
		if (i == start)
			return cluster_msg_fault(why, whylen, "byte %zu: empty "
			    "field (fields are separated by one space)", i);
		if (nf == CLUSTER_MSG_FIELDS)
			return cluster_msg_fault(why, whylen, "more than %d "
			    "fields", CLUSTER_MSG_FIELDS);
		f[nf].s = copy + start;
		f[nf].len = i - start;
		copy[i] = '\0';
		nf++;
		start = i + 1;
	}
	if (nf != CLUSTER_MSG_FIELDS)
		return cluster_msg_fault(why, whylen, "%zu fields (want %d)", nf,
		    CLUSTER_MSG_FIELDS);

	if (strcmp(f[0].s, CLUSTER_MSG_VERSION) != 0)
		return cluster_msg_fault(why, whylen, "field 0: version '%s' "
		    "(want " CLUSTER_MSG_VERSION ")", f[0].s);
	for (k = 0; k < CLUSTER_KIND_MAX; k++)
		if (strcmp(f[1].s, cluster_kind_names[k]) == 0)
			break;
	if (k == CLUSTER_KIND_MAX)
		return cluster_msg_fault(why, whylen, "field 1: unknown kind "
		    "'%s'", f[1].s);
	e->kind = (enum cluster_kind)k;

	if (!cluster_msg_name_ok(f[2].s, f[2].len, CLUSTER_NODE_MAX - 1))
		return cluster_msg_fault(why, whylen, "field 2: node '%s' (want "
		    "[A-Za-z0-9._-], 1..%d characters)", f[2].s,
		    CLUSTER_NODE_MAX - 1);
	memcpy(e->node, f[2].s, f[2].len + 1);

	if (cluster_msg_number(&f[3], &v) != 0 || v < CLUSTER_AT_MIN ||
	    v > CLUSTER_AT_MAX)
		return cluster_msg_fault(why, whylen, "field 3: at '%s' is no "
		    "time in ms since the epoch (%lld..%lld)", f[3].s,
		    CLUSTER_AT_MIN, CLUSTER_AT_MAX);
	e->at_ms = v;

	if (cluster_msg_number(&f[4], &v) != 0)
		return cluster_msg_fault(why, whylen, "field 4: ttl '%s' is not "
		    "a number", f[4].s);
	if (cluster_msg_has_ttl(e->kind) && (v < 1 || v > CLUSTER_TTL_MAX))
		return cluster_msg_fault(why, whylen, "field 4: ttl %lld out "
		    "of 1..%u", v, CLUSTER_TTL_MAX);
	if (!cluster_msg_has_ttl(e->kind) && v != 0)
		return cluster_msg_fault(why, whylen, "field 4: ttl %lld (a %s "
		    "has 0)", v, cluster_kind_name(e->kind));
	e->ttl_s = (uint32_t)v;

	if (cluster_msg_number(&f[5], &v) != 0)
		return cluster_msg_fault(why, whylen, "field 5: count '%s' is "
		    "not a number", f[5].s);
	if (cluster_msg_has_count(e->kind) && (v < 1 ||
	    v > CLUSTER_COUNT_MAX))
		return cluster_msg_fault(why, whylen, "field 5: count %lld out "
		    "of 1..%u", v, CLUSTER_COUNT_MAX);
	if (!cluster_msg_has_count(e->kind) && v != 0)
		return cluster_msg_fault(why, whylen, "field 5: count %lld (a "
		    "%s has 0)", v, cluster_kind_name(e->kind));
	e->count = (uint32_t)v;

	if (f[6].len == 1 && f[6].s[0] == '-')
		e->reason[0] = '\0';
	else if (cluster_msg_reason_ok(f[6].s, f[6].len))
		memcpy(e->reason, f[6].s, f[6].len + 1);
	else
		return cluster_msg_fault(why, whylen, "field 6: reason '%s' "
		    "(want '-' or [a-z0-9:.,_-], 1..%d characters)", f[6].s,
		    CLUSTER_REASON_MAX - 1);

	return cluster_msg_parse_subject(&f[7], e, why, whylen);
}

/* A refused message leaves *e all zero: nothing half-parsed is used. */
int
cluster_msg_parse(const char *data, size_t len, struct cluster_event *e,
    char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(e, 0, sizeof *e);
	if (cluster_msg_parse_fields(data, len, e, why, whylen) == 0)
		return 0;
	memset(e, 0, sizeof *e);
	return -1;
}

/* ---- keys and time ---- */

size_t
cluster_msg_key(const char *prefix, const struct cluster_event *e,
    char *buf, size_t len)
{
	char subject[ADDR_STRLEN + 8];
	int n;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if ((unsigned)e->kind >= CLUSTER_KIND_MAX)
		return 0;
	switch (e->kind) {
	case CLUSTER_HELLO:
		if (!cluster_msg_name_ok(e->node, strnlen(e->node,
		    CLUSTER_NODE_MAX), CLUSTER_NODE_MAX - 1))
			return 0;
		n = snprintf(buf, len, "%snode:%s", prefix, e->node);
		break;
	case CLUSTER_ALLOW_ADD:
	case CLUSTER_ALLOW_DEL:
		n = snprintf(buf, len, "%sallow", prefix);
		break;
	default:
		if (e->net64 && e->kind != CLUSTER_DENY &&
		    e->kind != CLUSTER_DROP)
			return 0;
		if (!cluster_msg_subject(e, subject, sizeof subject))
			return 0;
		n = snprintf(buf, len, "%s%s:%s", prefix,
		    e->kind == CLUSTER_STRIKE ? "s" :
		    e->kind == CLUSTER_BAN || e->kind == CLUSTER_UNBAN ? "b" :
		    e->net64 ? "vn" : "v", subject);
		break;
	}
	if (n < 0 || (size_t)n >= len || n >= CLUSTER_KEY_MAX) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

uint32_t
cluster_msg_left(const struct cluster_event *e, int64_t now_ms)
{
	int64_t end, left;

	if (e->at_ms > now_ms + CLUSTER_SKEW_MS)
		return 0;
	end = e->at_ms + (int64_t)e->ttl_s * 1000;
	if (end <= now_ms)
		return 0;
	/* Rounded up: a second's remainder still counts, never past TTL. */
	left = (end - now_ms + 999) / 1000;
	return left > (int64_t)e->ttl_s ? e->ttl_s : (uint32_t)left;
}

/* ---- a Sentinel's +switch-master ---- */

/* A port: plain decimal 1..65535. */
static int
cluster_msg_port(const char *s, size_t len, int *out)
{
	long v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

int
cluster_msg_switch(const char *data, size_t len, const char *master,
    char *host, int *port, char *why, size_t whylen)
{
	struct cluster_msg_field w[5];
	char ip[ADDR_STRLEN];
	size_t n = 0, i = 0, start;
	struct addr a;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (len == 0 || len >= CLUSTER_MSG_MAX)
		return cluster_msg_fault(why, whylen, "%zu bytes", len);
	for (i = 0; i < len; i++)
		if ((unsigned char)data[i] < 0x20 ||
		    (unsigned char)data[i] > 0x7e)
			return cluster_msg_fault(why, whylen, "byte %zu: 0x%02x "
			    "is not printable ASCII", i, (unsigned char)data[i]);
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && data[i] != ' ')
			continue;
		if (i == start)
			return cluster_msg_fault(why, whylen, "byte %zu: empty "
			    "word", i);
		if (n == 5)
			return cluster_msg_fault(why, whylen, "more than 5 words");
		w[n].s = data + start;
		w[n].len = i - start;
		n++;
		start = i + 1;
	}
	if (n != 5)
		return cluster_msg_fault(why, whylen, "%zu words (want NAME "
		    "OLDIP OLDPORT NEWIP NEWPORT)", n);
	if (w[0].len != strlen(master) || memcmp(w[0].s, master, w[0].len))
		return 0;
	if (w[3].len >= sizeof ip)
		return cluster_msg_fault(why, whylen, "new address too long");
	memcpy(ip, w[3].s, w[3].len);
	ip[w[3].len] = '\0';
	if (addr_parse(ip, &a) != 0)
		return cluster_msg_fault(why, whylen, "'%s' is not a numeric "
		    "address", ip);
	if (cluster_msg_port(w[4].s, w[4].len, port) != 0)
		return cluster_msg_fault(why, whylen, "new port is not "
		    "1..65535");
	addr_ntop(&a, host);
	return 1;
}
