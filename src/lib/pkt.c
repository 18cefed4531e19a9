/*
 * pkt.c - read the addresses, ports and flags of an IPv4 or IPv6 TCP packet
 * as NFQUEUE hands it over (the buffer starts at the IP header).
 *
 * Exports pkt_parse only.  No state, no allocation: the result points into
 * the caller's buffer and lives as long as it does.
 *
 * The buffer is hostile.  Every length field is checked against the bytes
 * actually present, and the smaller of the two bounds what follows:
 * NFQUEUE's copy range legitimately cuts a packet short of its IP length
 * (pkt.truncated then says so), while an IP length shorter than the buffer
 * means the bytes past it are not part of the packet.  An IP length smaller
 * than the IP header itself is a lie and refused.
 *
 * Fragments: only a first fragment carries the TCP header, so a fragment
 * offset other than zero is refused; a first fragment (MF set, offset 0)
 * is read like any packet as long as its TCP header is whole.
 */
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

#define PKT_IPPROTO_HOPOPTS	0
#define PKT_IPPROTO_TCP		6
#define PKT_IPPROTO_ROUTING	43
#define PKT_IPPROTO_FRAGMENT	44
#define PKT_IPPROTO_ESP		50
#define PKT_IPPROTO_AH		51
#define PKT_IPPROTO_NONE	59
#define PKT_IPPROTO_DSTOPTS	60

#define PKT_IP4_HDR_MIN		20
#define PKT_IP6_HDR		40
#define PKT_TCP_HDR_MIN		20
/*
 * A legitimate packet carries a handful of extension headers at most
 * (RFC 8200 section 4.1 recommends an order with each header once, the
 * destination options twice).  The bound stops a chain of tiny headers
 * from costing more than it should.
 */
#define PKT_IP6_EXT_MAX		8

static uint16_t
pkt_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
pkt_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
pkt_addr4(struct addr *a, const uint8_t *b)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->b, b, 4);
}

/* ::ffff:a.b.c.d becomes IPv4 so that every later stage sees one form. */
static void
pkt_addr6(struct addr *a, const uint8_t *b)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (memcmp(b, mapped, sizeof(mapped)) == 0) {
		pkt_addr4(a, b + 12);
		return;
	}
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	memcpy(a->b, b, 16);
}

/* The TCP header at buf[off..end). */
static int
pkt_tcp(const uint8_t *buf, size_t off, size_t end, struct pkt *out,
    const char **why)
{
	const uint8_t *t = buf + off;
	size_t doff;

	if (end < off || end - off < PKT_TCP_HDR_MIN) {
		*why = "truncated tcp header";
		return -1;
	}
	doff = (size_t)(t[12] >> 4) * 4;
	if (doff < PKT_TCP_HDR_MIN) {
		*why = "bad tcp data offset";
		return -1;
	}
	if (doff > end - off) {
		*why = "truncated tcp options";
		return -1;
	}
	out->sport = pkt_be16(t);
	out->dport = pkt_be16(t + 2);
	out->seq = pkt_be32(t + 4);
	out->ack = pkt_be32(t + 8);
	out->tcp_flags = t[13];
	out->payload = t + doff;
	out->payload_len = end - off - doff;
	return 0;
}

static int
pkt_parse4(const uint8_t *buf, size_t len, struct pkt *out, const char **why)
{
	size_t ihl, total, end;
	uint16_t frag;

	if (len < PKT_IP4_HDR_MIN) {
		*why = "truncated ip header";
		return -1;
	}
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < PKT_IP4_HDR_MIN) {
		*why = "bad ip header length";
		return -1;
	}
	if (ihl > len) {
		*why = "truncated ip options";
		return -1;
	}
	total = pkt_be16(buf + 2);
	if (total < ihl) {
		*why = "bad ip total length";
		return -1;
	}
	end = total < len ? total : len;
	out->truncated = total > len;
	/* Offset in 8-byte units in the low 13 bits; MF alone is fine. */
	frag = pkt_be16(buf + 6);
	if ((frag & 0x1fff) != 0) {
		*why = "fragment";
		return -1;
	}
	if (buf[9] != PKT_IPPROTO_TCP) {
		*why = "not tcp";
		return -1;
	}
	pkt_addr4(&out->src, buf + 12);
	pkt_addr4(&out->dst, buf + 16);
	return pkt_tcp(buf, ihl, end, out, why);
}

static int
pkt_parse6(const uint8_t *buf, size_t len, struct pkt *out, const char **why)
{
	size_t plen, end, off, hlen;
	uint8_t next;
	int n;

	if (len < PKT_IP6_HDR) {
		*why = "truncated ip header";
		return -1;
	}
	plen = pkt_be16(buf + 4);
	/* Zero means a jumbogram (RFC 2675); no SYN needs one. */
	if (plen == 0) {
		*why = "bad ip payload length";
		return -1;
	}
	end = PKT_IP6_HDR + plen;
	out->truncated = end > len;
	if (end > len)
		end = len;
	next = buf[6];
	off = PKT_IP6_HDR;
	for (n = 0;; n++) {
		if (next == PKT_IPPROTO_TCP)
			break;
		if (n == PKT_IP6_EXT_MAX) {
			*why = "too many extension headers";
			return -1;
		}
		switch (next) {
		case PKT_IPPROTO_HOPOPTS:
			/* RFC 8200 4.3: only right after the IPv6 header. */
			if (n != 0) {
				*why = "misplaced hop-by-hop header";
				return -1;
			}
			/* FALLTHROUGH */
		case PKT_IPPROTO_ROUTING:
		case PKT_IPPROTO_DSTOPTS:
			if (end - off < 2) {
				*why = "truncated extension header";
				return -1;
			}
			/* Length in 8-octet units, not counting the first. */
			hlen = ((size_t)buf[off + 1] + 1) * 8;
			break;
		case PKT_IPPROTO_FRAGMENT:
			if (end - off < 8) {
				*why = "truncated extension header";
				return -1;
			}
			if ((pkt_be16(buf + off + 2) >> 3) != 0) {
				*why = "fragment";
				return -1;
			}
			hlen = 8;
			break;
		case PKT_IPPROTO_AH:
			if (end - off < 2) {
				*why = "truncated extension header";
				return -1;
			}
			/* RFC 4302 2.2: 4-octet units, minus 2. */
			hlen = ((size_t)buf[off + 1] + 2) * 4;
			break;
		case PKT_IPPROTO_ESP:
			*why = "esp";
			return -1;
		case PKT_IPPROTO_NONE:
			*why = "no next header";
			return -1;
		default:
			*why = "not tcp";
			return -1;
		}
		if (hlen > end - off) {
			*why = "truncated extension header";
			return -1;
		}
		next = buf[off];
		off += hlen;
	}
	pkt_addr6(&out->src, buf + 8);
	pkt_addr6(&out->dst, buf + 24);
	return pkt_tcp(buf, off, end, out, why);
}

int
pkt_parse(const uint8_t *buf, size_t len, struct pkt *out, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (buf == NULL || len < 1) {
		*why = "truncated ip header";
		return -1;
	}
	switch (buf[0] >> 4) {
	case 4:
		return pkt_parse4(buf, len, out, why);
	case 6:
		return pkt_parse6(buf, len, out, why);
	default:
		*why = "bad ip version";
		return -1;
	}
}
