/*
 * reply.c - the responder's lines and ports (reply.h).  Pure.
 *
 * The enhanced status codes are RFC 3463's: 5.7.1 "delivery not
 * authorized, message refused", 4.7.0 "other or undefined security
 * status" (the code large providers use for a deferral of a sender they
 * do not trust yet).  The line is the greeting (RFC 5321 3.1: a server may
 * answer the connection with 554, or 421 when it is going away), so any
 * SMTP client reports it and stops or retries.
 */
#include <stdio.h>
#include <string.h>

#include "reply.h"

static const struct {
	const char *name;
	const char *text;
} reply_rules[REPLY_RULE_MAX] = {
	[REPLY_RULE_DNSBL] = { "dnsbl", "is listed in a DNS blocklist" },
	[REPLY_RULE_NO_PTR] = { "no_ptr", "has no PTR record" },
	[REPLY_RULE_INVALID_PTR] = { "invalid_ptr",
	    "has a PTR record that is no host name" },
	[REPLY_RULE_GENERIC_PTR] = { "generic_ptr",
	    "has a generic PTR name of an access network" },
	[REPLY_RULE_STATIC_PTR] = { "static_ptr",
	    "has a PTR name of a static end-user address" },
	[REPLY_RULE_FCRDNS] = { "fcrdns",
	    "has no PTR name that resolves back to it" },
	[REPLY_RULE_DNS_ERROR] = { "dns_error",
	    "could not be looked up in the DNS" },
	[REPLY_RULE_OFFEND] = { "offend",
	    "broke SMTP rules (forged HELO or protocol abuse)" },
};

const char *
reply_rule_name(enum reply_rule r)
{
	return (unsigned)r < REPLY_RULE_MAX ? reply_rules[r].name : NULL;
}

const char *
reply_rule_default(enum reply_rule r)
{
	return (unsigned)r < REPLY_RULE_MAX ? reply_rules[r].text : "";
}

uint16_t
reply_port(uint16_t base, enum reply_kind k, enum reply_rule r)
{
	return (uint16_t)(base + (unsigned)k * REPLY_RULE_MAX + (unsigned)r);
}

bool
reply_of_port(uint16_t base, uint16_t port, enum reply_kind *k,
    enum reply_rule *r)
{
	unsigned off;

	if (port < base || port - base >= REPLY_PORTS)
		return false;
	off = (unsigned)(port - base);
	*k = (enum reply_kind)(off / REPLY_RULE_MAX);
	*r = (enum reply_rule)(off % REPLY_RULE_MAX);
	return true;
}

size_t
reply_line(char *buf, size_t len, enum reply_kind k, const char *text,
    const char *client, const char *url)
{
	const char *head = k == REPLY_TEMPFAIL ?
	    "421 4.7.0 Try again later" : "554 5.7.1 Service unavailable";
	int n;

	n = snprintf(buf, len, "%s; client [%s] %s%s%s\r\n", head, client,
	    text, url[0] != '\0' ? "; see " : "", url);
	if (n < 0 || (size_t)n >= len || n > REPLY_LINE_MAX) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

int
reply_text_check(const char *s, bool empty_ok, char *why, size_t whylen)
{
	size_t n = strlen(s);

	if (n == 0 && !empty_ok) {
		snprintf(why, whylen, "empty text");
		return -1;
	}
	if (n >= CONF_REPLY_TEXT_MAX) {
		snprintf(why, whylen, "longer than %d characters",
		    CONF_REPLY_TEXT_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			snprintf(why, whylen, "byte 0x%02x at %zu: want "
			    "printable ASCII", (unsigned char)s[i], i + 1);
			return -1;
		}
	return 0;
}

bool
reply_rule_of_reason(enum verdict_reason why, enum reply_rule *r)
{
	switch (why) {
	case VERDICT_R_DNSBL:
		*r = REPLY_RULE_DNSBL;
		return true;
	case VERDICT_R_NO_PTR:
		*r = REPLY_RULE_NO_PTR;
		return true;
	case VERDICT_R_INVALID_PTR:
		*r = REPLY_RULE_INVALID_PTR;
		return true;
	case VERDICT_R_GENERIC:
		*r = REPLY_RULE_GENERIC_PTR;
		return true;
	case VERDICT_R_STATIC:
		*r = REPLY_RULE_STATIC_PTR;
		return true;
	case VERDICT_R_FCRDNS:
		*r = REPLY_RULE_FCRDNS;
		return true;
	case VERDICT_R_DNS_ERROR:
		*r = REPLY_RULE_DNS_ERROR;
		return true;
	case VERDICT_R_DNSWL:
	case VERDICT_R_MAX:
		break;
	}
	return false;
}

bool
reply_for_verdict(const struct verdict *v, enum reply_kind *k,
    enum reply_rule *r)
{
	if (v->action == ACTION_REJECT && v->cache)
		*k = REPLY_REJECT;
	else if (v->action == ACTION_TEMPFAIL)
		*k = REPLY_TEMPFAIL;
	else
		return false;
	return v->nreasons > 0 && reply_rule_of_reason(v->reason[0], r);
}
