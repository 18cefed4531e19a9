/*
 * dnsbl.h - DNSBL/DNSWL sites in Postfix postscreen's syntax, and scoring.
 *
 * Syntax (postscreen_dnsbl_sites): entries separated by white space or
 * commas, each "zone[=filter][*weight]".  The filter has four dotted octets;
 * each octet is a number or a bracketed list of numbers and ranges,
 * "[2..11]", "[1;3;5..7]".  The weight is an integer, default 1, negative
 * for allow lists.  A zone may appear in several entries with different
 * filters; it is queried once and every entry is scored on its own.
 *
 * Meaning (RFC 5782 and list operators' practice): only answers in
 * 127.0.0.0/8 mean anything; 127.0.0.1 never counts; 127.255.255.0/24 and
 * 127.0.0.255 are the error answers operators send to refused or abusive
 * resolvers: they are reported, never scored.  An entry counts its weight
 * once when any answer passes its filter (no filter: any meaningful answer).
 *
 * Pure code: parse once at config load, score per answer set.
 */
#ifndef SMTPGATE_DNSBL_H
#define SMTPGATE_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSBL_MAX_SITES	32
#define DNSBL_ZONE_MAX	254

struct dnsbl_site {
	uint8_t zone;			/* index into dnsbl_sites.zone[] */
	bool has_filter;
	uint8_t octet[4][32];		/* per octet: bitmap of allowed values */
	int weight;
	char text[DNSBL_ZONE_MAX + 64];	/* the entry as written, for logs */
};

struct dnsbl_sites {
	struct dnsbl_site site[DNSBL_MAX_SITES];
	size_t nsites;
	char zone[DNSBL_MAX_SITES][DNSBL_ZONE_MAX + 1];	/* distinct zones */
	size_t nzones;
};

enum dnsbl_answer {
	DNSBL_ANSWER_IGNORED,	/* outside 127/8, or 127.0.0.1 */
	DNSBL_ANSWER_ERROR,	/* operator error code: 127.255.255.x, 127.0.0.255 */
	DNSBL_ANSWER_LISTED,	/* a meaningful listing answer */
};

/*
 * Parse a postscreen_dnsbl_sites value.  On error returns -1, writes
 * "entry 'TEXT': reason" to err and leaves *out with no sites.  An empty
 * or NULL value gives no sites.  Stricter than postscreen where leniency
 * only hides mistakes: a zone is an LDH host name of at most 189
 * characters (so the IPv6 query name fits in 253), no trailing dot, not
 * ending in a numeric label; octets are plain decimal 0..255; a filter
 * whose first octet excludes 127 (it could never match) is refused;
 * |weight| <= 100000; an entry is at most sizeof(site.text) - 1 long.
 * Zones are stored in lower case and compared without case.
 */
int dnsbl_parse(const char *value, struct dnsbl_sites *out, char *err,
    size_t errlen);

/* Classify one A answer (host byte order). */
enum dnsbl_answer dnsbl_answer_kind(uint32_t a);

/*
 * Score the answers (host byte order) received for zone index z: the sum of
 * the weights of the entries for z that match, each entry counted once
 * however many answers it matches.  *errors counts the error answers seen
 * (errors may be NULL).  A z past the zone table scores 0.
 */
int dnsbl_score_zone(const struct dnsbl_sites *s, size_t z,
    const uint32_t *answers, size_t n, int *errors);

/* Does entry i's filter accept answer a?  Only LISTED answers can match.
 * (Exported for tests.) */
bool dnsbl_site_match(const struct dnsbl_site *site, uint32_t a);

#endif
