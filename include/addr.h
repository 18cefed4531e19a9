/*
 * addr.h - IPv4/IPv6 addresses, prefixes and DNS reverse names.
 *
 * Pure functions: no allocation, no global state, safe on hostile input.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is normalised to IPv4 by every
 * constructor here, so trusted networks, nft sets and DNSBL queries all see
 * one form of a client.
 */
#ifndef SMTPGATE_ADDR_H
#define SMTPGATE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define ADDR_STRLEN 46		/* INET6_ADDRSTRLEN */
#define ADDR_REVNAME_MAX 256	/* 72 for ip6.arpa plus a DNSBL zone */

struct addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t b[16];		/* network order; IPv4 uses b[0..3], rest zero */
};

struct prefix {
	struct addr a;		/* network address, host bits zero */
	uint8_t len;		/* prefix length in bits: 0-32 or 0-128 */
};

/* Parse a textual IPv4 or IPv6 address (no brackets, no port). 0 or -1. */
int addr_parse(const char *s, struct addr *out);
void addr_from_v4(struct addr *out, const uint8_t b[4]);
void addr_from_v6(struct addr *out, const uint8_t b[16]);	/* maps ::ffff: */
/* IPv6 as written, ::ffff: kept: an AAAA record's data is an IPv6
 * address, whatever its bits say. */
void addr_from_v6_raw(struct addr *out, const uint8_t b[16]);
/* Format into buf (ADDR_STRLEN bytes); returns buf. */
const char *addr_ntop(const struct addr *a, char *buf);
bool addr_eq(const struct addr *x, const struct addr *y);
/*
 * Keyed hash of a (family and address bytes), for hash tables of client
 * addresses: SipHash-2-4 under the table's own key (siphash.h), so an
 * attacker cannot choose addresses that share a chain.  addr_hash_ports
 * hashes a with two ports (the sniffer's flows).
 */
uint32_t addr_hash(const struct siphash_key *k, const struct addr *a);
uint32_t addr_hash_ports(const struct siphash_key *k, const struct addr *a,
    uint16_t sport, uint16_t dport);
size_t addr_len(const struct addr *a);		/* 4 or 16 */
/* IPv4 as a host-order integer (0 for IPv6). */
uint32_t addr_v4(const struct addr *a);
/*
 * *out = a with every bit past the first bits cleared (a's network of that
 * length: 24 gives an IPv4 /24, 64 an IPv6 /64); bits beyond the family's
 * width are taken as the width.  out may be a.
 */
void addr_mask(struct addr *out, const struct addr *a, unsigned bits);

/*
 * Reverse name of a: "d.c.b.a.ZONE" or 32 nibbles then ZONE.  zone NULL
 * means in-addr.arpa / ip6.arpa.  Returns the length written (without the
 * NUL), or -1 when buf is too small, zone is "" or a has no family; buf is
 * untouched then.  Used for PTR and DNSBL queries alike (RFC 5782).
 */
int addr_reverse_name(const struct addr *a, const char *zone, char *buf,
    size_t len);

/*
 * Parse "ADDR/LEN" or a bare ADDR (a host prefix).  Host bits set, a length
 * beyond the family's width or trailing junk is refused; *why then names the
 * fault ("host bits set", "prefix length", "not an address").  LEN is plain
 * decimal without sign or leading zero.  ::ffff:a.b.c.d/96..128 becomes the
 * IPv4 prefix a.b.c.d/0..32.  why may be NULL; *out is untouched on error.
 */
int prefix_parse(const char *s, struct prefix *out, const char **why);
bool prefix_contains(const struct prefix *p, const struct addr *a);
/* The order of prefix lists (qsort's and bsearch's comparator, on struct
 * prefix): IPv4 first, then address, then shorter prefix first. */
int prefix_cmp(const void *x, const void *y);
/*
 * The first address past p (for nft interval-set end elements), in p's
 * family and not normalised (so an IPv6 end may lie in ::ffff:0:0/96).
 * Returns false when p reaches the end of the address space (no such
 * address), including len 0.
 */
bool prefix_end(const struct prefix *p, struct addr *out);

#endif
