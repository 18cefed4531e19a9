/*
 * reply.h - refusals that say why: the one SMTP line smtpgated's responder
 * (src/gate/gate_reply.c) sends a refused client, and the local ports that
 * tell the responder which line.
 *
 * Pure: no I/O.  Shared by smtpgated (the responder and the map elements
 * it adds), smtpgate-nft (the nat rules) and smtpgatectl (check).
 *
 * How a refused client reaches the responder (smtpgate.conf(5), REPLIES):
 * the kernel redirects its connection in the nat prerouting chain "reply"
 * of our table, by the source address, to one local port per (kind,
 * rule): reply_port + kind * REPLY_RULE_MAX + rule.  The port is the only
 * thing the responder knows about a client beside its address, so it
 * keeps no state per client: the reason lives in the kernel (the map
 * reply4/reply6: address -> port, with the verdict's timeout; the
 * sniffer's offend4/offend6 -> the port of REPLY_RULE_OFFEND).
 */
#ifndef SMTPGATE_REPLY_H
#define SMTPGATE_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "verdict.h"

/* What the line says: 554 (refused for good) or 421 (try again later). */
enum reply_kind {
	REPLY_REJECT,
	REPLY_TEMPFAIL,
	REPLY_KIND_MAX
};

/* Why, one text each ([gate] reply_text_<name>). */
enum reply_rule {
	REPLY_RULE_DNSBL,
	REPLY_RULE_NO_PTR,
	REPLY_RULE_INVALID_PTR,
	REPLY_RULE_GENERIC_PTR,
	REPLY_RULE_STATIC_PTR,
	REPLY_RULE_FCRDNS,
	REPLY_RULE_DNS_ERROR,
	REPLY_RULE_OFFEND,		/* the sniffer's ban (offend4/6) */
	REPLY_RULE_MAX
};

_Static_assert(REPLY_RULE_MAX == CONF_REPLY_RULES, "conf.h's count");

/* Ports from reply_port on: one per kind and rule. */
#define REPLY_PORTS		(REPLY_KIND_MAX * REPLY_RULE_MAX)
/* The longest line (RFC 5321 4.5.3.1.5: 512 octets with CRLF). */
#define REPLY_LINE_MAX		512

/* "no_ptr", ... (the key's suffix); NULL past the end. */
const char *reply_rule_name(enum reply_rule r);
/* The built-in text of r ("has no PTR record"). */
const char *reply_rule_default(enum reply_rule r);

/* The port of (kind, rule) from base. */
uint16_t reply_port(uint16_t base, enum reply_kind k, enum reply_rule r);
/* The (kind, rule) of a local port; false when it is none of ours. */
bool reply_of_port(uint16_t base, uint16_t port, enum reply_kind *k,
    enum reply_rule *r);

/*
 * The line for client (its address as text, IPv4-mapped IPv6 addresses
 * already as IPv4), CRLF-terminated, into buf:
 *   554 5.7.1 Service unavailable; client [192.0.2.7] has no PTR record
 *   421 4.7.0 Try again later; client [192.0.2.7] has no PTR record
 * with "; see URL" when url is not empty.  text: the rule's text.  Its
 * length (without a NUL), or 0 when it would not fit len or
 * REPLY_LINE_MAX.
 */
size_t reply_line(char *buf, size_t len, enum reply_kind k, const char *text,
    const char *client, const char *url);

/* The rule whose text explains a verdict reason; false for one that
 * refuses nobody (dnswl). */
bool reply_rule_of_reason(enum verdict_reason why, enum reply_rule *r);

/*
 * What the responder answers a client the gate judged v, with [gate]
 * reply = smtp (gate_apply.c follows this; smtpgatectl check says it): a
 * cached reject gets the 554 line of its deciding reason (for deny_ttl),
 * a tempfail the 421 line (until retry_min; then the retry rules pass
 * it).  false, no line: an accept, a drop (the SYN dropped silently), a
 * reject not cached (it rests on missing knowledge: a reset, so that its
 * next SYN comes back to a new lookup), a verdict without a reason.
 */
bool reply_for_verdict(const struct verdict *v, enum reply_kind *k,
    enum reply_rule *r);

/*
 * A text or URL from the configuration: printable ASCII (0x20-0x7e), no
 * more than CONF_REPLY_TEXT_MAX - 1 bytes (url: empty allowed).  0, or -1
 * with why.
 */
int reply_text_check(const char *s, bool empty_ok, char *why, size_t whylen);

#endif
