/*
 * test_pkt.c - pkt_parse against real byte layouts.
 *
 * Each case starts from one of a few captured-shape packets, optionally
 * patches some bytes and cuts or pads the buffer, then says what pkt_parse
 * must answer.  Every buffer is copied to a heap block of exactly its
 * length, so under ASan a read past the end is caught.  A second table
 * cuts each valid header-only packet at every byte length: all must fail
 * cleanly.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "pkt.h"

/* IPv4 SYN 192.0.2.1:40000 -> 198.51.100.25:25, seq 1000, Linux options. */
static const uint8_t v4_syn[] = {
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x19,
	/* TCP, data offset 10 */
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* The same SYN with 4 bytes of IP options (NOP NOP NOP EOL), IHL 6. */
static const uint8_t v4_opt[] = {
	0x46, 0x00, 0x00, 0x40, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x19,
	0x01, 0x01, 0x01, 0x00,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* IPv4 PSH|ACK carrying "HELO x\r\n" (8 bytes), no TCP options. */
static const uint8_t v4_data[] = {
	0x45, 0x00, 0x00, 0x30, 0x1c, 0x47, 0x40, 0x00, 0x40, 0x06,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x19,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe9, 0x00, 0x00,
	0x00, 0x10, 0x50, 0x18, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	'H', 'E', 'L', 'O', ' ', 'x', '\r', '\n',
};

/* IPv6 SYN [2001:db8::1]:40000 -> [2001:db8::25]:25. */
static const uint8_t v6_syn[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x06, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xa0, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/*
 * IPv6 SYN behind hop-by-hop (PadN), destination options (PadN) and a
 * first fragment header (offset 0, M set).  Offsets: hbh 40, dst 48,
 * frag 56, TCP 64.
 */
static const uint8_t v6_ext[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
	0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,	/* hbh -> dst */
	0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,	/* dst -> frag */
	0x06, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78,	/* frag -> tcp */
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xa0, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* IPv6 SYN behind an AH header: payload len 4 -> (4 + 2) * 4 = 24 bytes. */
static const uint8_t v6_ah[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x33, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
	0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,	/* next tcp, len 4, SPI */
	0x00, 0x00, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd,	/* seq, ICV... */
	0xaa, 0xbb, 0xcc, 0xdd, 0xaa, 0xbb, 0xcc, 0xdd,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xa0, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* A non-first IPv6 fragment (offset 1448 bytes): no TCP header in it. */
static const uint8_t v6_frag2[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x2c, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
	0x06, 0x00, 0x05, 0xa8, 0x12, 0x34, 0x56, 0x78,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0,
};

/* Nine empty destination-options headers, then TCP: one too many. */
static const uint8_t v6_deep[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x3c, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
	0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0, 0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0,
	0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0, 0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0,
	0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0, 0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0,
	0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0, 0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0,
	0x06, 0x00, 0x01, 0x04, 0, 0, 0, 0,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
};

struct patch {
	size_t off;
	uint8_t val;
};

#define MAXPATCH 10

struct pcase {
	const char *name;
	const uint8_t *base;
	size_t base_len;
	size_t len;			/* buffer length; 0 = base_len; more pads */
	struct patch patch[MAXPATCH];
	int npatch;
	const char *why;		/* NULL: must parse */
	/* when it parses: */
	int family;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq;
	size_t payload_len;
	size_t payload_off;		/* offset of the payload in the buffer */
	bool truncated;
};

#define PKT(a) (a), sizeof(a)
#define P(...) { __VA_ARGS__ }
#define SYN4 AF_INET, "192.0.2.1", "198.51.100.25", 40000, 25, PKT_TCP_SYN, 1000
#define SYN6 AF_INET6, "2001:db8::1", "2001:db8::25", 40000, 25, PKT_TCP_SYN, 1000

static const struct pcase cases[] = {
	{ "v4 syn", PKT(v4_syn), 0, {{0}}, 0, NULL, SYN4, 0, 60, false },
	{ "v4 ip options", PKT(v4_opt), 0, {{0}}, 0, NULL, SYN4, 0, 64, false },
	{ "v4 payload", PKT(v4_data), 0, {{0}}, 0, NULL, AF_INET, "192.0.2.1",
	  "198.51.100.25", 40000, 25, PKT_TCP_PSH | PKT_TCP_ACK, 1001, 8, 40,
	  false },
	{ "v4 total length beyond buffer (copy range)", PKT(v4_data), 44,
	  {{0}}, 0, NULL, AF_INET, "192.0.2.1", "198.51.100.25", 40000, 25,
	  PKT_TCP_PSH | PKT_TCP_ACK, 1001, 4, 40, true },
	{ "v4 total length short of buffer: trailing bytes ignored",
	  PKT(v4_data), 0, P({3, 0x2c}), 1, NULL, AF_INET, "192.0.2.1",
	  "198.51.100.25", 40000, 25, PKT_TCP_PSH | PKT_TCP_ACK, 1001, 4, 40,
	  false },
	{ "v4 total length lies high", PKT(v4_syn), 0, P({2, 0xff}, {3, 0xff}),
	  2, NULL, SYN4, 0, 60, true },
	{ "v4 total length below ip header", PKT(v4_syn), 0, P({3, 19}), 1,
	  "bad ip total length", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 total length zero", PKT(v4_syn), 0, P({3, 0}), 1,
	  "bad ip total length", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 total length cuts tcp header", PKT(v4_syn), 0, P({3, 30}), 1,
	  "truncated tcp header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 total length cuts tcp options", PKT(v4_syn), 0, P({3, 50}), 1,
	  "truncated tcp options", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 ihl 4", PKT(v4_syn), 0, P({0, 0x44}), 1, "bad ip header length",
	  0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 ihl 0", PKT(v4_syn), 0, P({0, 0x40}), 1, "bad ip header length",
	  0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 ihl 15 beyond buffer", PKT(v4_syn), 40, P({0, 0x4f}), 1,
	  "truncated ip options", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 ihl 15 leaves no tcp", PKT(v4_syn), 0, P({0, 0x4f}), 1,
	  "truncated tcp header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 tcp data offset 4", PKT(v4_syn), 0, P({32, 0x40}), 1,
	  "bad tcp data offset", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 tcp data offset 0", PKT(v4_syn), 0, P({32, 0x00}), 1,
	  "bad tcp data offset", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 tcp data offset 15 beyond buffer", PKT(v4_syn), 0, P({32, 0xf0}),
	  1, "truncated tcp options", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 tcp data offset 5 with options as payload", PKT(v4_syn), 0,
	  P({32, 0x50}), 1, NULL, SYN4, 20, 40, false },
	{ "v4 non-first fragment", PKT(v4_syn), 0, P({6, 0x00}, {7, 0xb9}), 2,
	  "fragment", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v4 non-first fragment, MF set", PKT(v4_syn), 0,
	  P({6, 0x20}, {7, 0x01}), 2, "fragment", 0, NULL, NULL, 0, 0, 0, 0,
	  0, 0, false },
	{ "v4 first fragment with whole tcp header", PKT(v4_syn), 0,
	  P({6, 0x20}), 1, NULL, SYN4, 0, 60, false },
	{ "v4 first fragment cutting tcp header", PKT(v4_syn), 0,
	  P({6, 0x20}, {3, 36}), 2, "truncated tcp header", 0, NULL, NULL, 0,
	  0, 0, 0, 0, 0, false },
	{ "v4 udp", PKT(v4_syn), 0, P({9, 17}), 1, "not tcp", 0, NULL, NULL,
	  0, 0, 0, 0, 0, 0, false },
	{ "v4 esp", PKT(v4_syn), 0, P({9, 50}), 1, "not tcp", 0, NULL, NULL,
	  0, 0, 0, 0, 0, 0, false },
	{ "ip version 5", PKT(v4_syn), 0, P({0, 0x55}), 1, "bad ip version",
	  0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "ip version 0", PKT(v4_syn), 0, P({0, 0x05}), 1, "bad ip version",
	  0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "empty buffer", PKT(v4_syn), 0, {{0}}, 0, "truncated ip header", 0,
	  NULL, NULL, 0, 0, 0, 0, 0, 0, false },

	{ "v6 syn", PKT(v6_syn), 0, {{0}}, 0, NULL, SYN6, 0, 80, false },
	{ "v6 hop-by-hop + dstopts + first fragment", PKT(v6_ext), 0, {{0}},
	  0, NULL, SYN6, 0, 104, false },
	{ "v6 ah", PKT(v6_ah), 0, {{0}}, 0, NULL, SYN6, 0, 104, false },
	{ "v6 non-first fragment", PKT(v6_frag2), 0, {{0}}, 0, "fragment", 0,
	  NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v6 first fragment header with offset", PKT(v6_ext), 0,
	  P({58, 0x00}, {59, 0x08}), 2, "fragment", 0, NULL, NULL, 0, 0, 0,
	  0, 0, 0, false },
	{ "v6 esp", PKT(v6_syn), 0, P({6, 50}), 1, "esp", 0, NULL, NULL, 0, 0,
	  0, 0, 0, 0, false },
	{ "v6 esp after dstopts", PKT(v6_ext), 0, P({48, 50}), 1, "esp", 0,
	  NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v6 no next header", PKT(v6_syn), 0, P({6, 59}), 1,
	  "no next header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v6 udp", PKT(v6_syn), 0, P({6, 17}), 1, "not tcp", 0, NULL, NULL,
	  0, 0, 0, 0, 0, 0, false },
	{ "v6 icmpv6 after hop-by-hop", PKT(v6_ext), 0, P({40, 58}), 1,
	  "not tcp", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v6 hop-by-hop not first", PKT(v6_ext), 0, P({48, 0}), 1,
	  "misplaced hop-by-hop header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0,
	  false },
	{ "v6 extension length past packet", PKT(v6_ext), 0, P({49, 0xff}), 1,
	  "truncated extension header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0,
	  false },
	{ "v6 ah length past packet", PKT(v6_ah), 0, P({41, 0xff}), 1,
	  "truncated extension header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0,
	  false },
	{ "v6 extension chain too long", PKT(v6_deep), 0, {{0}}, 0,
	  "too many extension headers", 0, NULL, NULL, 0, 0, 0, 0, 0, 0,
	  false },
	/* the first header grows to 16 bytes and swallows the second */
	{ "v6 eight extension headers is fine", PKT(v6_deep), 0,
	  P({41, 0x01}), 1, NULL, AF_INET6, "2001:db8::1", "2001:db8::25",
	  40000, 25, PKT_TCP_SYN, 1000, 0, 132, false },
	{ "v6 payload length zero (jumbo)", PKT(v6_syn), 0, P({5, 0}), 1,
	  "bad ip payload length", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v6 payload length lies high", PKT(v6_syn), 0, P({4, 0xff}), 1, NULL,
	  SYN6, 0, 80, true },
	{ "v6 payload length cuts tcp header", PKT(v6_syn), 0, P({5, 10}), 1,
	  "truncated tcp header", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	{ "v6 payload length cuts extension header", PKT(v6_ext), 0,
	  P({5, 12}), 1, "truncated extension header", 0, NULL, NULL, 0, 0, 0,
	  0, 0, 0, false },
	{ "v6 payload length short of buffer", PKT(v6_syn), 100, {{0}}, 0,
	  NULL, SYN6, 0, 80, false },
	{ "v6 tcp data offset 4", PKT(v6_syn), 0, P({52, 0x40}), 1,
	  "bad tcp data offset", 0, NULL, NULL, 0, 0, 0, 0, 0, 0, false },
	/* src ::ffff:192.0.2.7 (src NULL: checked as 192.0.2.7, IPv4) */
	{ "v6 mapped source becomes v4", PKT(v6_syn), 0,
	  P({8, 0}, {9, 0}, {10, 0}, {11, 0}, {18, 0xff}, {19, 0xff},
	    {20, 192}, {22, 2}, {23, 7}), 9, NULL, AF_INET6, NULL,
	  "2001:db8::25", 40000, 25, PKT_TCP_SYN, 1000, 0, 80, false },
};

static uint8_t *
case_buf(const struct pcase *c, size_t *lenp)
{
	size_t len = c->len ? c->len : c->base_len;
	uint8_t *b;
	int i;

	if (strcmp(c->name, "empty buffer") == 0)
		len = 0;
	b = malloc(len ? len : 1);
	assert_non_null(b);
	memset(b, 0xee, len);
	memcpy(b, c->base, len < c->base_len ? len : c->base_len);
	for (i = 0; i < c->npatch; i++)
		if (c->patch[i].off < len)
			b[c->patch[i].off] = c->patch[i].val;
	*lenp = len;
	return b;
}

static void
want_addr(const char *name, const char *what, const struct addr *got,
    int family, const char *want)
{
	uint8_t b[16] = {0};

	if (inet_pton(family, want, b) != 1)
		fail_msg("%s: bad test address %s", name, want);
	if (got->family != family || memcmp(got->b, b, 16) != 0) {
		char s[64] = "?";

		inet_ntop(got->family, got->b, s, sizeof(s));
		fail_msg("%s: %s got %s (family %d), want %s (family %d)",
		    name, what, s, got->family, want, family);
	}
}

static void
run_case(void **state)
{
	const struct pcase *c = *state;
	const char *why = NULL;
	struct pkt p;
	size_t len;
	uint8_t *b = case_buf(c, &len);
	int rc = pkt_parse(b, len, &p, &why);

	if (c->why != NULL) {
		if (rc != -1)
			fail_msg("%s: got rc %d, want -1 (%s)", c->name, rc,
			    c->why);
		if (why == NULL || strcmp(why, c->why) != 0)
			fail_msg("%s: got why \"%s\", want \"%s\"", c->name,
			    why ? why : "(null)", c->why);
		free(b);
		return;
	}
	if (rc != 0)
		fail_msg("%s: got rc %d (%s), want 0", c->name, rc,
		    why ? why : "(null)");
	if (c->src != NULL)
		want_addr(c->name, "src", &p.src, c->family, c->src);
	else	/* the mapped case */
		want_addr(c->name, "src", &p.src, AF_INET, "192.0.2.7");
	want_addr(c->name, "dst", &p.dst, c->family, c->dst);
	if (p.sport != c->sport || p.dport != c->dport)
		fail_msg("%s: got ports %u->%u, want %u->%u", c->name, p.sport,
		    p.dport, c->sport, c->dport);
	if (p.tcp_flags != c->flags)
		fail_msg("%s: got flags 0x%02x, want 0x%02x", c->name,
		    p.tcp_flags, c->flags);
	if (p.seq != c->seq)
		fail_msg("%s: got seq %u, want %u", c->name, p.seq, c->seq);
	if (p.payload_len != c->payload_len)
		fail_msg("%s: got payload_len %zu, want %zu", c->name,
		    p.payload_len, c->payload_len);
	if (p.payload != b + c->payload_off)
		fail_msg("%s: got payload at %td, want %zu", c->name,
		    p.payload - b, c->payload_off);
	if (p.truncated != c->truncated)
		fail_msg("%s: got truncated %d, want %d", c->name,
		    p.truncated, c->truncated);
	free(b);
}

/* A packet with no TCP payload cut at every shorter length must fail. */
struct tcase {
	const char *name;
	const uint8_t *base;
	size_t len;
};

static const struct tcase truncs[] = {
	{ "cut v4 syn at every length", PKT(v4_syn) },
	{ "cut v4 ip options at every length", PKT(v4_opt) },
	{ "cut v6 syn at every length", PKT(v6_syn) },
	{ "cut v6 extension chain at every length", PKT(v6_ext) },
	{ "cut v6 ah at every length", PKT(v6_ah) },
};

static void
run_trunc(void **state)
{
	const struct tcase *t = *state;
	struct pkt p;
	size_t n;

	for (n = 0; n < t->len; n++) {
		uint8_t *b = malloc(n ? n : 1);
		const char *why = NULL;
		int rc;

		assert_non_null(b);
		memcpy(b, t->base, n);
		rc = pkt_parse(b, n, &p, &why);
		if (rc != -1 || why == NULL)
			fail_msg("%s: length %zu of %zu: got rc %d why %s, "
			    "want -1 with a reason", t->name, n, t->len, rc,
			    why ? why : "(null)");
		free(b);
	}
	/* and the whole packet parses */
	if (pkt_parse(t->base, t->len, &p, NULL) != 0)
		fail_msg("%s: whole packet: got failure, want success",
		    t->name);
}

/* The acknowledgment number, host order (the protocol tests read it). */
static void
run_ack(void **state)
{
	uint8_t b[sizeof(v4_syn)];
	struct pkt p;
	const char *why = NULL;

	(void)state;
	memcpy(b, v4_syn, sizeof(b));
	b[28] = 0x89; b[29] = 0xab; b[30] = 0xcd; b[31] = 0xef;
	if (pkt_parse(b, sizeof(b), &p, &why) != 0)
		fail_msg("ack: got %s, want a parse", why);
	if (p.ack != 0x89abcdefu || p.seq != 1000)
		fail_msg("ack: got ack 0x%08x seq %u, want 0x89abcdef 1000",
		    p.ack, p.seq);
}

int
main(void)
{
	size_t nc = sizeof(cases) / sizeof(cases[0]);
	size_t nt = sizeof(truncs) / sizeof(truncs[0]);
	struct CMUnitTest *tests = calloc(nc + nt + 1, sizeof(*tests));
	size_t i;
	int rc;

	if (tests == NULL)
		return 1;
	for (i = 0; i < nc; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	for (i = 0; i < nt; i++) {
		tests[nc + i].name = truncs[i].name;
		tests[nc + i].test_func = run_trunc;
		tests[nc + i].initial_state = (void *)&truncs[i];
	}
	tests[nc + nt].name = "acknowledgment number";
	tests[nc + nt].test_func = run_ack;
	rc = _cmocka_run_group_tests("pkt", tests, nc + nt + 1, NULL, NULL);
	free(tests);
	return rc;
}
