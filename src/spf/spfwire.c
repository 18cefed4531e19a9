/*
 * spfwire.c - encode and decode the SPF helper messages (contract in
 * spfwire.h).  A writer and a reader over a byte buffer, each checking
 * every length against what is left; multi-byte numbers in network order.
 */
#include <string.h>
#include <sys/socket.h>

#include "spfwire.h"

struct spfwire_w {
	uint8_t *p;
	size_t len, off;
	bool bad;
};

struct spfwire_r {
	const uint8_t *p;
	size_t len, off;
	const char *why;		/* first fault, or NULL */
};

static void
spfwire_put(struct spfwire_w *w, const void *src, size_t n)
{
	if (w->bad || n > w->len - w->off) {
		w->bad = true;
		return;
	}
	memcpy(w->p + w->off, src, n);
	w->off += n;
}

static void
spfwire_put_u8(struct spfwire_w *w, uint8_t v)
{
	spfwire_put(w, &v, 1);
}

static void
spfwire_put_u16(struct spfwire_w *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	spfwire_put(w, b, 2);
}

static void
spfwire_put_u32(struct spfwire_w *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	spfwire_put(w, b, 4);
}

/* A NUL-terminated string within max bytes (NUL included). */
static void
spfwire_put_str(struct spfwire_w *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n >= max) {
		w->bad = true;
		return;
	}
	spfwire_put_u16(w, (uint16_t)n);
	spfwire_put(w, s, n);
}

static const uint8_t *
spfwire_get(struct spfwire_r *r, size_t n)
{
	const uint8_t *p;

	if (r->why != NULL)
		return NULL;
	if (n > r->len - r->off) {
		r->why = "short message";
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t
spfwire_get_u8(struct spfwire_r *r)
{
	const uint8_t *p = spfwire_get(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint16_t
spfwire_get_u16(struct spfwire_r *r)
{
	const uint8_t *p = spfwire_get(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t
spfwire_get_u32(struct spfwire_r *r)
{
	const uint8_t *p = spfwire_get(r, 4);

	return p != NULL ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3] : 0;
}

/* A string into out (max bytes with its NUL). */
static void
spfwire_get_str(struct spfwire_r *r, char *out, size_t max)
{
	uint16_t n = spfwire_get_u16(r);
	const uint8_t *p;

	out[0] = '\0';
	if (r->why != NULL)
		return;
	if ((size_t)n >= max) {
		r->why = "string too long";
		return;
	}
	if ((p = spfwire_get(r, n)) == NULL)
		return;
	if (memchr(p, '\0', n) != NULL) {
		r->why = "NUL in string";
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
spfwire_put_addr(struct spfwire_w *w, const struct addr *a)
{
	if (a->family != AF_INET && a->family != AF_INET6) {
		w->bad = true;
		return;
	}
	spfwire_put_u8(w, a->family == AF_INET ? 4 : 6);
	spfwire_put(w, a->b, 16);
}

static void
spfwire_get_addr(struct spfwire_r *r, struct addr *a)
{
	uint8_t fam = spfwire_get_u8(r);
	const uint8_t *p = spfwire_get(r, 16);

	memset(a, 0, sizeof(*a));
	if (p == NULL)
		return;
	if (fam == 4) {
		addr_from_v4(a, p);
		if (memcmp(a->b, p, 16) != 0)	/* bytes 4..15 must be zero */
			r->why = "bad address";
	} else if (fam == 6) {
		addr_from_v6(a, p);
		if (a->family != AF_INET6)	/* a mapped address sent as 6 */
			r->why = "bad address";
	} else {
		r->why = "bad address family";
	}
}

size_t
spfwire_encode(const struct spfwire_msg *m, uint8_t *buf, size_t len)
{
	struct spfwire_w w = { .p = buf, .len = len };

	spfwire_put_u8(&w, m->type);
	spfwire_put_u8(&w, SPFWIRE_VERSION);
	spfwire_put_u16(&w, 0);
	spfwire_put_u32(&w, m->id);
	switch (m->type) {
	case SPFWIRE_CHECK:
		if (m->u.check.identity > SPFWIRE_ID_MAILFROM)
			return 0;
		spfwire_put_u8(&w, m->u.check.identity);
		spfwire_put_addr(&w, &m->u.check.client);
		spfwire_put_str(&w, m->u.check.helo, SPFWIRE_NAME_MAX);
		spfwire_put_str(&w, m->u.check.sender, SPFWIRE_SENDER_MAX);
		spfwire_put_u32(&w, m->u.check.deadline_ms);
		break;
	case SPFWIRE_DNSQ:
		spfwire_put_u16(&w, m->u.dnsq.qtype);
		spfwire_put_str(&w, m->u.dnsq.name, SPFWIRE_NAME_MAX);
		break;
	case SPFWIRE_DNSA:
		if (m->u.dnsa.status >= SPFWIRE_DNS_MAX ||
		    (m->u.dnsa.len > 0 && m->u.dnsa.answer == NULL))
			return 0;
		spfwire_put_u8(&w, m->u.dnsa.status);
		spfwire_put_u16(&w, m->u.dnsa.len);
		if (m->u.dnsa.len > 0)
			spfwire_put(&w, m->u.dnsa.answer, m->u.dnsa.len);
		break;
	case SPFWIRE_RESULT:
		if (m->u.result.result >= SPFWIRE_R_MAX)
			return 0;
		if (m->u.result.flags & ~(SPFWIRE_RF_SCREENED |
		    SPFWIRE_RF_INCOMPLETE))
			return 0;
		spfwire_put_u8(&w, m->u.result.result);
		spfwire_put_u8(&w, m->u.result.flags);
		spfwire_put_str(&w, m->u.result.reason, SPFWIRE_REASON_MAX);
		break;
	case SPFWIRE_WORKER_UP:
	case SPFWIRE_WORKER_DOWN:
	case SPFWIRE_KILL:
		spfwire_put_u32(&w, m->u.worker.slot);
		spfwire_put_u32(&w, (uint32_t)m->u.worker.pid);
		spfwire_put_u32(&w, (uint32_t)m->u.worker.status);
		break;
	default:
		return 0;
	}
	return w.bad ? 0 : w.off;
}

int
spfwire_decode(const uint8_t *buf, size_t len, struct spfwire_msg *m,
    const char **why)
{
	struct spfwire_r r = { .p = buf, .len = len };
	uint8_t v;
	uint16_t reserved;

	memset(m, 0, sizeof(*m));
	m->type = spfwire_get_u8(&r);
	v = spfwire_get_u8(&r);
	reserved = spfwire_get_u16(&r);
	m->id = spfwire_get_u32(&r);
	if (r.why == NULL && v != SPFWIRE_VERSION)
		r.why = "bad version";
	else if (r.why == NULL && reserved != 0)
		r.why = "reserved bits set";
	if (r.why != NULL)
		goto out;
	switch (m->type) {
	case SPFWIRE_CHECK:
		m->u.check.identity = spfwire_get_u8(&r);
		spfwire_get_addr(&r, &m->u.check.client);
		spfwire_get_str(&r, m->u.check.helo, SPFWIRE_NAME_MAX);
		spfwire_get_str(&r, m->u.check.sender, SPFWIRE_SENDER_MAX);
		m->u.check.deadline_ms = spfwire_get_u32(&r);
		if (r.why == NULL && m->u.check.identity > SPFWIRE_ID_MAILFROM)
			r.why = "bad identity";
		break;
	case SPFWIRE_DNSQ:
		m->u.dnsq.qtype = spfwire_get_u16(&r);
		spfwire_get_str(&r, m->u.dnsq.name, SPFWIRE_NAME_MAX);
		break;
	case SPFWIRE_DNSA:
		m->u.dnsa.status = spfwire_get_u8(&r);
		m->u.dnsa.len = spfwire_get_u16(&r);
		m->u.dnsa.answer = spfwire_get(&r, m->u.dnsa.len);
		if (r.why == NULL && m->u.dnsa.status >= SPFWIRE_DNS_MAX)
			r.why = "bad code";
		break;
	case SPFWIRE_RESULT:
		m->u.result.result = spfwire_get_u8(&r);
		m->u.result.flags = spfwire_get_u8(&r);
		spfwire_get_str(&r, m->u.result.reason, SPFWIRE_REASON_MAX);
		if (r.why == NULL && (m->u.result.result >= SPFWIRE_R_MAX ||
		    (m->u.result.flags & ~(SPFWIRE_RF_SCREENED |
		    SPFWIRE_RF_INCOMPLETE))))
			r.why = "bad code";
		break;
	case SPFWIRE_WORKER_UP:
	case SPFWIRE_WORKER_DOWN:
	case SPFWIRE_KILL:
		m->u.worker.slot = spfwire_get_u32(&r);
		m->u.worker.pid = (int32_t)spfwire_get_u32(&r);
		m->u.worker.status = (int32_t)spfwire_get_u32(&r);
		break;
	default:
		r.why = "unknown type";
		break;
	}
	if (r.why == NULL && r.off != len)
		r.why = "trailing bytes";
out:
	if (why != NULL)
		*why = r.why;
	return r.why == NULL ? 0 : -1;
}

const char *
spfwire_result_name(uint8_t r)
{
	static const char *const names[SPFWIRE_R_MAX] = {
		[SPFWIRE_R_PASS] = "pass",
		[SPFWIRE_R_FAIL] = "fail",
		[SPFWIRE_R_SOFTFAIL] = "softfail",
		[SPFWIRE_R_NEUTRAL] = "neutral",
		[SPFWIRE_R_NONE] = "none",
		[SPFWIRE_R_TEMPERROR] = "temperror",
		[SPFWIRE_R_PERMERROR] = "permerror",
	};

	return r < SPFWIRE_R_MAX ? names[r] : "?";
}
