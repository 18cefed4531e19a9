/*
 * dns_parse.c - our own parser of DNS answers (RFC 1035 section 4) into a
 * struct dns_result, for the resolver (dns.c), its fake in the scenario
 * tests (tests/scenario/fake_dns.c), the unit tests and fuzz/fuzz_dns.c.
 *
 * Exports dns_parse, dns_parse_txt, dns_result_init and dns_type_wire
 * (dns.h).  Pure code:
 * no I/O, no allocation, safe on hostile bytes.
 *
 * Why our own parser: ares_parse_ptr_reply refuses a whole answer when one
 * name holds a byte that cannot be in a host name, and the caller could
 * only call that resolver trouble; anyone who controls their reverse zone
 * then chose "DNS error" over "no PTR".  dns_parse reports such names as
 * what they are (DNS_BADNAME, the name escaped for logs).
 */
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

static const int dns_qtype[] = {
	[DNS_PTR] = ns_t_ptr, [DNS_A] = ns_t_a, [DNS_AAAA] = ns_t_aaaa,
};

int
dns_type_wire(enum dns_type t)
{
	return dns_qtype[t];
}

/* ---- the answer parser (RFC 1035 section 4) ---- */

#define DNS_HDR_LEN	12
#define DNS_WIRE_MAX	255	/* a name in wire form, root byte included */
#define DNS_CHAIN_MAX	8	/* CNAME hops followed */
#define DNS_T_CNAME	5
#define DNS_C_IN	1

/* One resource record: its owner (wire form, lower case) and data span. */
struct dns_rr {
	uint8_t owner[DNS_WIRE_MAX];
	size_t ownerlen;
	uint16_t type, class;
	size_t rdoff, rdlen;		/* data at msg[rdoff..rdoff+rdlen) */
};

static uint16_t
dns_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Read the name at msg[*off] into out (wire form, uncompressed, ASCII
 * letters lowered) and move *off past it as it lies in place.  Each
 * compression pointer must point before the start of this name and before
 * the previous pointer's target, so reading always ends; the whole name is
 * at most 255 bytes; label types 0x40 and 0x80 are refused.  0 or -1.
 */
static int
dns_name_read(const unsigned char *msg, size_t len, size_t *off,
    uint8_t out[DNS_WIRE_MAX], size_t *outlen)
{
	size_t p = *off, limit = *off, n = 0;
	bool jumped = false;

	for (;;) {
		uint8_t c;

		if (p >= len)
			return -1;
		c = msg[p];
		if (c == 0) {
			out[n++] = 0;	/* the label check left room */
			if (!jumped)
				*off = p + 1;
			*outlen = n;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			size_t t;

			if (p + 1 >= len)
				return -1;
			t = (size_t)(c & 0x3f) << 8 | msg[p + 1];
			if (t >= limit)
				return -1;
			if (!jumped)
				*off = p + 2;
			jumped = true;
			limit = t;
			p = t;
			continue;
		}
		if (c & 0xc0)
			return -1;
		/* The label, its length byte, and room for the root byte. */
		if (p + 1 + c > len || n + 1 + c + 1 > DNS_WIRE_MAX)
			return -1;
		out[n++] = c;
		for (size_t i = 0; i < c; i++) {
			uint8_t b = msg[p + 1 + i];
			out[n++] = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
		}
		p += 1 + c;
	}
}

static bool
dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * The wire name w as text into out[0..outlen): labels joined by dots, a
 * byte no host name can hold written \DDD (a dot inside a label \., a
 * backslash \\), cut to fit.  NULL when no byte needed escaping (the name
 * can be a host name; the PTR classifier judges the rest), else why not.
 */
static const char *
dns_name_text(const uint8_t *w, char *out, size_t outlen)
{
	const char *why = NULL;
	size_t o = 0, i = 0;

	if (w[0] == 0) {
		snprintf(out, outlen, ".");
		return "root-name";
	}
	while (w[i] != 0) {
		uint8_t n = w[i++];

		if (o > 0 && o + 1 < outlen)
			out[o++] = '.';
		for (uint8_t k = 0; k < n; k++, i++) {
			uint8_t b = w[i];
			const char *bwhy = NULL;
			char esc[5];

			if (b < 0x20 || b == 0x7f)
				bwhy = "control-byte";
			else if (b == ' ')
				bwhy = "space";
			else if (b >= 0x80)
				bwhy = "non-ascii";
			else if (b == '.')
				bwhy = "dot-in-label";
			else if (b == '\\')
				bwhy = "backslash";
			if (bwhy == NULL) {
				if (o + 1 < outlen)
					out[o++] = (char)b;
				continue;
			}
			if (why == NULL)
				why = bwhy;
			if (b == '.' || b == '\\')
				snprintf(esc, sizeof(esc), "\\%c", b);
			else
				snprintf(esc, sizeof(esc), "\\%03u", b);
			for (size_t e = 0; esc[e] != '\0'; e++)
				if (o + 1 < outlen)
					out[o++] = esc[e];
		}
	}
	out[o] = '\0';
	return why;
}

/* Read one resource record at msg[*off]; 0 or -1 when malformed. */
static int
dns_rr_read(const unsigned char *msg, size_t len, size_t *off,
    struct dns_rr *rr)
{
	if (dns_name_read(msg, len, off, rr->owner, &rr->ownerlen) == -1)
		return -1;
	if (len - *off < 10)
		return -1;
	rr->type = dns_u16(msg + *off);
	rr->class = dns_u16(msg + *off + 2);
	rr->rdlen = dns_u16(msg + *off + 8);
	rr->rdoff = *off + 10;
	if (len - rr->rdoff < rr->rdlen)
		return -1;
	*off = rr->rdoff + rr->rdlen;
	return 0;
}

/* The name that is the whole data of rr; 0 or -1. */
static int
dns_rdata_name(const unsigned char *msg, const struct dns_rr *rr,
    uint8_t out[DNS_WIRE_MAX], size_t *outlen)
{
	size_t off = rr->rdoff;

	/* Pointers may reach back before the data: read in the message. */
	if (dns_name_read(msg, rr->rdoff + rr->rdlen, &off, out, outlen) == -1)
		return -1;
	return off == rr->rdoff + rr->rdlen ? 0 : -1;
}

static const char *
dns_rcode_text(unsigned rcode)
{
	switch (rcode) {
	case 1: return "FORMERR";
	case 2: return "SERVFAIL";
	case 4: return "NOTIMP";
	case 5: return "REFUSED";
	default: return "error rcode";
	}
}

void
dns_result_init(struct dns_result *r)
{
	r->status = DNS_OK;
	r->error = NULL;
	r->nnames = 0;
	r->nbad = 0;
	r->bad[0] = '\0';
	r->bad_why = NULL;
	r->naddrs = 0;
}

/* Keep PTR target w: a host name into names, else counted as bad. */
static void
dns_take_ptr(struct dns_result *r, const uint8_t *w)
{
	char text[DNS_NAME_MAX];
	const char *why = dns_name_text(w, text, sizeof(text));

	if (why != NULL) {
		if (r->nbad++ == 0) {
			memcpy(r->bad, text, sizeof(r->bad));
			r->bad_why = why;
		}
		return;
	}
	for (size_t i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], text) == 0)
			return;
	if (r->nnames < DNS_MAX_NAMES)
		memcpy(r->names[r->nnames++], text, sizeof(text));
}

/* Where the records of one answer go: a dns_result or a dns_txt. */
struct dns_sink {
	int qtype;			/* the question's type on the wire */
	enum dns_type type;		/* for r */
	struct dns_result *r;		/* PTR, A, AAAA; or NULL */
	struct dns_txt *t;		/* TXT; or NULL */
};

/*
 * Keep the character-strings of TXT record rr (RFC 1035 3.3.14: one or
 * more, each a length byte and that many bytes, filling the data
 * exactly) in t; what does not fit is left out and said (cut, nmore).
 */
static const char *
dns_take_txt(const unsigned char *msg, const struct dns_rr *rr, bool ours,
    struct dns_txt *t)
{
	struct dns_txt_record *rec = NULL;
	size_t p = rr->rdoff, end = rr->rdoff + rr->rdlen;

	if (rr->rdlen == 0)
		return "malformed TXT";
	for (size_t q = p; q < end; q += 1 + msg[q])
		if (q + 1 + msg[q] > end)
			return "malformed TXT";
	if (!ours)
		return NULL;
	if (t->nrecords == DNS_TXT_MAX_RECORDS) {
		t->nmore++;
		return NULL;
	}
	rec = &t->rec[t->nrecords++];
	rec->nstrings = 0;
	rec->cut = false;
	while (p < end) {
		size_t n = msg[p];

		if (rec->nstrings == DNS_TXT_MAX_STRINGS ||
		    n > DNS_TXT_TEXT_MAX - t->used) {
			rec->cut = true;
			break;
		}
		rec->s[rec->nstrings].off = (uint16_t)t->used;
		rec->s[rec->nstrings].len = (uint16_t)n;
		rec->nstrings++;
		memcpy(t->text + t->used, msg + p + 1, n);
		t->used += n;
		p += 1 + n;
	}
	return NULL;
}

/* Keep answer record rr (of the question's type) in k; NULL, or why the
 * record is malformed.  ours: its owner is the question's name or a
 * CNAME target reached from it (only those are kept). */
static const char *
dns_take(const unsigned char *msg, const struct dns_rr *rr, bool ours,
    struct dns_sink *k)
{
	struct dns_result *r = k->r;
	uint8_t w[DNS_WIRE_MAX];
	size_t wlen;

	if (k->t != NULL)
		return dns_take_txt(msg, rr, ours, k->t);
	switch (k->type) {
	case DNS_PTR:
		if (dns_rdata_name(msg, rr, w, &wlen) == -1)
			return "malformed PTR";
		if (ours)
			dns_take_ptr(r, w);
		break;
	case DNS_A:
		if (rr->rdlen != 4)
			return "malformed A";
		if (ours && r->naddrs < DNS_MAX_ADDRS)
			addr_from_v4(&r->addrs[r->naddrs++], msg + rr->rdoff);
		break;
	case DNS_AAAA:
		if (rr->rdlen != 16)
			return "malformed AAAA";
		if (ours && r->naddrs < DNS_MAX_ADDRS)
			/* ::ffff:a.b.c.d stays IPv6: an AAAA answer never
			 * yields an IPv4 address. */
			addr_from_v6_raw(&r->addrs[r->naddrs++],
			    msg + rr->rdoff);
		break;
	}
	return NULL;
}

/*
 * Walk one answer message: the header, the one question (of k->qtype,
 * class IN), every record checked, the answer records of the type given
 * to dns_take.  NULL with *rcode, or why the message is no usable answer.
 */
static const char *
dns_walk(const unsigned char *msg, size_t len, struct dns_sink *k,
    unsigned *rcode)
{
	uint8_t chain[DNS_CHAIN_MAX + 1][DNS_WIRE_MAX];
	size_t chainlen[DNS_CHAIN_MAX + 1], nchain = 1, off = DNS_HDR_LEN;
	unsigned flags, an, total;
	struct dns_rr rr;
	const char *why;

	if (len < DNS_HDR_LEN)
		return "short answer";
	flags = dns_u16(msg + 2);
	*rcode = flags & 0x0f;
	an = dns_u16(msg + 6);
	total = an + dns_u16(msg + 8) + dns_u16(msg + 10);
	if (!(flags & 0x8000))
		return "not an answer";
	if (flags & 0x0200)
		return "truncated answer";
	if (dns_u16(msg + 4) != 1)
		return "not one question";
	if (dns_name_read(msg, len, &off, chain[0], &chainlen[0]) == -1 ||
	    len - off < 4)
		return "malformed question";
	if (dns_u16(msg + off) != k->qtype ||
	    dns_u16(msg + off + 2) != DNS_C_IN)
		return "answer to another question";
	off += 4;
	for (unsigned i = 0; i < total; i++) {
		uint8_t w[DNS_WIRE_MAX];
		size_t wlen;
		bool ours = false;

		if (dns_rr_read(msg, len, &off, &rr) == -1)
			return "malformed record";
		if (i >= an || rr.class != DNS_C_IN)
			continue;	/* authority, additional: only checked */
		for (size_t c = 0; c < nchain && !ours; c++)
			ours = dns_name_eq(rr.owner, rr.ownerlen, chain[c],
			    chainlen[c]);
		if (rr.type == DNS_T_CNAME) {
			if (dns_rdata_name(msg, &rr, w, &wlen) == -1)
				return "malformed CNAME";
			if (nchain <= DNS_CHAIN_MAX && dns_name_eq(rr.owner,
			    rr.ownerlen, chain[nchain - 1],
			    chainlen[nchain - 1])) {
				memcpy(chain[nchain], w, wlen);
				chainlen[nchain++] = wlen;
			}
			continue;
		}
		if (rr.type != k->qtype)
			continue;
		if ((why = dns_take(msg, &rr, ours, k)) != NULL)
			return why;
	}
	if (off != len)
		return "bytes after the last record";
	return NULL;
}

/* dns_parse's work: NULL, or why the message is no usable answer. */
static const char *
dns_parse_msg(const unsigned char *msg, size_t len, enum dns_type type,
    struct dns_result *r)
{
	struct dns_sink k = { .qtype = dns_qtype[type], .type = type,
	    .r = r };
	unsigned rcode = 0;
	const char *why;

	if ((why = dns_walk(msg, len, &k, &rcode)) != NULL)
		return why;
	if (rcode == 3) {
		dns_result_init(r);
		r->status = DNS_NXDOMAIN;
		return NULL;
	}
	if (rcode != 0)
		return dns_rcode_text(rcode);
	if (r->nnames == 0 && r->naddrs == 0)
		r->status = r->nbad > 0 ? DNS_BADNAME : DNS_NODATA;
	return NULL;
}

static void
dns_txt_init(struct dns_txt *t)
{
	t->status = DNS_OK;
	t->error = NULL;
	t->nrecords = 0;
	t->nmore = 0;
	t->used = 0;
}

void
dns_parse_txt(const unsigned char *msg, size_t len, struct dns_txt *t)
{
	struct dns_sink k = { .qtype = DNS_WIRE_TXT, .t = t };
	unsigned rcode = 0;
	const char *why;

	dns_txt_init(t);
	if ((why = dns_walk(msg, len, &k, &rcode)) == NULL && rcode != 0 &&
	    rcode != 3)
		why = dns_rcode_text(rcode);
	if (why != NULL) {
		dns_txt_init(t);
		t->status = DNS_ERROR;
		t->error = why;
		return;
	}
	if (rcode == 3) {
		dns_txt_init(t);
		t->status = DNS_NXDOMAIN;
	} else if (t->nrecords == 0) {
		t->status = DNS_NODATA;
	}
}

void
dns_parse(const unsigned char *msg, size_t len, enum dns_type type,
    struct dns_result *r)
{
	const char *why;

	dns_result_init(r);
	if ((why = dns_parse_msg(msg, len, type, r)) != NULL) {
		dns_result_init(r);
		r->status = DNS_ERROR;
		r->error = why;
	}
}
