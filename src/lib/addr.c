/*
 * addr.c - IPv4/IPv6 addresses, prefixes and DNS reverse names.
 *
 * Exports the addr_* and prefix_* functions of addr.h.  Pure code: no
 * allocation, no global state, no initialisation.  Every textual input is
 * treated as hostile: inet_pton does the parsing (it already refuses
 * leading zeros in IPv4 octets, white space, trailing bytes, brackets and
 * "%zone" suffixes); we add length bounds and the strict prefix syntax.
 *
 * One rule runs through the file: an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) becomes plain IPv4 wherever an address is constructed,
 * so a dual-stack socket's view of a client and the kernel's view agree.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

static const uint8_t addr_v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static bool
addr_is_v4mapped(const uint8_t b[16])
{
	return memcmp(b, addr_v4mapped_prefix, sizeof addr_v4mapped_prefix) == 0;
}

void
addr_from_v4(struct addr *out, const uint8_t b[4])
{
	uint8_t tmp[4];

	memcpy(tmp, b, sizeof tmp);
	memset(out, 0, sizeof *out);
	out->family = AF_INET;
	memcpy(out->b, tmp, 4);
}

/* b may point into *out (prefix_parse relies on that): copy it first. */
void
addr_from_v6(struct addr *out, const uint8_t b[16])
{
	uint8_t tmp[16];

	memcpy(tmp, b, sizeof tmp);
	if (addr_is_v4mapped(tmp)) {
		addr_from_v4(out, tmp + 12);
		return;
	}
	addr_from_v6_raw(out, tmp);
}

void
addr_from_v6_raw(struct addr *out, const uint8_t b[16])
{
	uint8_t tmp[16];

	memcpy(tmp, b, sizeof tmp);	/* b may lie in *out */
	memset(out, 0, sizeof *out);
	out->family = AF_INET6;
	memcpy(out->b, tmp, 16);
}

/*
 * Parse without mapping ::ffff:, so prefix_parse can tell which family the
 * text was written in (the prefix length depends on it).
 */
static int
addr_parse_raw(const char *s, struct addr *out)
{
	uint8_t b[16];

	/* inet_pton bounds itself, but refuse absurd lengths before it runs. */
	if (s == NULL || strnlen(s, ADDR_STRLEN) >= ADDR_STRLEN)
		return -1;
	memset(out, 0, sizeof *out);
	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, b) != 1)
			return -1;
		out->family = AF_INET;
		memcpy(out->b, b, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) != 1)
		return -1;
	out->family = AF_INET6;
	memcpy(out->b, b, 16);
	return 0;
}

int
addr_parse(const char *s, struct addr *out)
{
	struct addr a;

	if (addr_parse_raw(s, &a) != 0)
		return -1;
	if (a.family == AF_INET6)
		addr_from_v6(out, a.b);
	else
		*out = a;
	return 0;
}

const char *
addr_ntop(const struct addr *a, char *buf)
{
	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    inet_ntop(a->family, a->b, buf, ADDR_STRLEN) == NULL)
		snprintf(buf, ADDR_STRLEN, "(family %u)", a->family);
	return buf;
}

bool
addr_eq(const struct addr *x, const struct addr *y)
{
	return x->family == y->family &&
	    memcmp(x->b, y->b, addr_len(x)) == 0;
}

/*
 * SipHash over family and address bytes.  The key is the table's: an
 * unkeyed hash (this was FNV-1a) let 2,000 chosen addresses of one IPv6
 * /64 share a chain of the gate's tables.
 */
uint32_t
addr_hash(const struct siphash_key *k, const struct addr *a)
{
	uint8_t b[1 + 16];
	size_t n = addr_len(a);

	b[0] = a->family;
	memcpy(b + 1, a->b, n);
	return (uint32_t)siphash24(k, b, 1 + n);
}

uint32_t
addr_hash_ports(const struct siphash_key *k, const struct addr *a,
    uint16_t sport, uint16_t dport)
{
	uint8_t b[1 + 16 + 4];
	size_t n = addr_len(a);

	b[0] = a->family;
	memcpy(b + 1, a->b, n);
	b[1 + n] = (uint8_t)(sport >> 8);
	b[2 + n] = (uint8_t)sport;
	b[3 + n] = (uint8_t)(dport >> 8);
	b[4 + n] = (uint8_t)dport;
	return (uint32_t)siphash24(k, b, 5 + n);
}

size_t
addr_len(const struct addr *a)
{
	return a->family == AF_INET6 ? 16 : 4;
}

void
addr_mask(struct addr *out, const struct addr *a, unsigned bits)
{
	size_t n = addr_len(a), i;
	struct addr m = *a;

	if (bits > n * 8)
		bits = (unsigned)(n * 8);
	for (i = bits / 8; i < 16; i++)
		m.b[i] = i == bits / 8 && bits % 8 ?
		    (uint8_t)(m.b[i] & (0xff << (8 - bits % 8))) : 0;
	*out = m;
}

uint32_t
addr_v4(const struct addr *a)
{
	if (a->family != AF_INET)
		return 0;
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 |
	    (uint32_t)a->b[2] << 8 | a->b[3];
}

/*
 * RFC 1035 3.5 (in-addr.arpa), RFC 3596 2.5 (ip6.arpa: least significant
 * nibble first), RFC 5782 2.1/2.4 (DNSBL zones use the same order).  An
 * empty zone is refused: "1.2.0.192." would be a different query.
 */
int
addr_reverse_name(const struct addr *a, const char *zone, char *buf,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[72];
	size_t n = 0, zl;
	int i;

	if (a->family == AF_INET) {
		if (zone == NULL)
			zone = "in-addr.arpa";
		n = (size_t)snprintf(tmp, sizeof tmp, "%u.%u.%u.%u.",
		    a->b[3], a->b[2], a->b[1], a->b[0]);
	} else if (a->family == AF_INET6) {
		if (zone == NULL)
			zone = "ip6.arpa";
		for (i = 15; i >= 0; i--) {
			tmp[n++] = hex[a->b[i] & 0x0f];
			tmp[n++] = '.';
			tmp[n++] = hex[a->b[i] >> 4];
			tmp[n++] = '.';
		}
	} else
		return -1;
	zl = strlen(zone);
	if (zl == 0 || len == 0 || n + zl + 1 > len)
		return -1;
	memcpy(buf, tmp, n);
	memcpy(buf + n, zone, zl + 1);
	return (int)(n + zl);
}

/* Zero every bit past len; returns true if any was set. */
static bool
prefix_mask(uint8_t *b, size_t nbytes, unsigned len)
{
	bool had = false;
	size_t i;

	for (i = 0; i < nbytes; i++) {
		unsigned lo = (unsigned)i * 8;
		uint8_t keep;

		if (len >= lo + 8)
			continue;
		keep = len <= lo ? 0 : (uint8_t)(0xff << (8 - (len - lo)));
		if (b[i] & ~keep)
			had = true;
		b[i] &= keep;
	}
	return had;
}

/* Strict decimal prefix length: 1-3 digits, no sign, no leading zero. */
static int
prefix_parse_len(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 3 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
prefix_parse(const char *s, struct prefix *out, const char **why)
{
	char abuf[ADDR_STRLEN];
	const char *slash, *dummy;
	struct prefix p;
	unsigned len, width;
	size_t alen;

	if (why == NULL)
		why = &dummy;
	if (s == NULL) {
		*why = "not an address";
		return -1;
	}
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof abuf) {
		*why = "not an address";
		return -1;
	}
	memcpy(abuf, s, alen);
	abuf[alen] = '\0';
	if (addr_parse_raw(abuf, &p.a) != 0) {
		*why = "not an address";
		return -1;
	}
	width = p.a.family == AF_INET ? 32 : 128;
	if (slash == NULL)
		len = width;
	else if (prefix_parse_len(slash + 1, &len) != 0 || len > width) {
		*why = "prefix length";
		return -1;
	}
	if (prefix_mask(p.a.b, addr_len(&p.a), len)) {
		*why = "host bits set";
		return -1;
	}
	/*
	 * ::ffff:0:0/96 and longer lie inside the mapped space: store them as
	 * IPv4.  A shorter prefix over a mapped address has the ffff bits as
	 * host bits and was refused above.
	 */
	if (p.a.family == AF_INET6 && len >= 96 && addr_is_v4mapped(p.a.b)) {
		addr_from_v6(&p.a, p.a.b);
		len -= 96;
	}
	p.len = (uint8_t)len;
	*out = p;
	return 0;
}

bool
prefix_contains(const struct prefix *p, const struct addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->a.family != a->family)
		return false;
	if (memcmp(p->a.b, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((p->a.b[full] ^ a->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int
prefix_cmp(const void *x, const void *y)
{
	const struct prefix *a = x, *b = y;
	int c;

	if (a->a.family != b->a.family)
		return a->a.family == AF_INET ? -1 : 1;
	if ((c = memcmp(a->a.b, b->a.b, sizeof(a->a.b))) != 0)
		return c;
	return (int)a->len - (int)b->len;
}

bool
prefix_end(const struct prefix *p, struct addr *out)
{
	struct addr e = p->a;
	int i;
	unsigned bit;
	unsigned carry;

	if (p->len == 0)
		return false;
	/* Add 1 at the last bit of the prefix, carrying leftwards. */
	bit = p->len - 1u;
	i = (int)(bit / 8);
	carry = 1u << (7 - bit % 8);
	for (; i >= 0 && carry != 0; i--) {
		unsigned v = e.b[i] + carry;

		e.b[i] = (uint8_t)v;
		carry = v >> 8;
	}
	if (carry != 0)
		return false;
	*out = e;
	return true;
}
