/*
 * pkt.h - parse an IPv4 or IPv6 packet with a TCP header, as NFQUEUE hands
 * it over (starting at the IP header).
 *
 * Nothing in the packet is trusted: every length field is checked against
 * the bytes actually present; IPv6 extension headers are walked with a
 * bound; a non-first fragment has no TCP header and is refused.
 */
#ifndef SMTPGATE_PKT_H
#define SMTPGATE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

struct pkt {
	struct addr src, dst;
	uint16_t sport, dport;		/* host order */
	uint8_t tcp_flags;
	uint32_t seq;			/* host order */
	uint32_t ack;			/* acknowledgment number, host order */
	const uint8_t *payload;		/* TCP payload inside the buffer */
	size_t payload_len;		/* bytes of it present in the buffer */
	bool truncated;			/* the IP length said more than the
					 * buffer held (NFQUEUE copy range) */
};

/*
 * 0 on success; -1 with *why set to a static reason on a packet that cannot
 * be read: "truncated ip header", "bad ip version", "bad ip header length",
 * "truncated ip options", "bad ip total length", "bad ip payload length",
 * "fragment" (offset != 0), "not tcp", "esp", "no next header",
 * "truncated extension header", "misplaced hop-by-hop header",
 * "too many extension headers", "truncated tcp header",
 * "bad tcp data offset", "truncated tcp options".  why may be NULL.
 * IPv4-mapped IPv6 addresses come out as IPv4.  On failure *out is
 * zeroed or partly filled: do not use it.
 */
int pkt_parse(const uint8_t *buf, size_t len, struct pkt *out,
    const char **why);

#endif
