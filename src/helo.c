/*
 * helo.c - HELO rules that need no DNS, registered domains, nearness of
 * addresses (contract in helo.h).  Pure: no allocation, no state.
 *
 * Hostname syntax is RFC 1123 section 2.1 (letters, digits, hyphens;
 * labels of 1..63; a name of at most 253 characters without its final
 * dot), address literals RFC 5321 section 4.1.3.  A bare address is tested
 * before the hostname syntax because "192.0.2.7" is also a valid name.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "helo.h"

#define R(x)	(1u << (x))

static bool
helo_mine(const struct conf_sniffer *s, const struct addr *a)
{
	for (size_t i = 0; i < s->nmy_addresses && i < CONF_MAX_MYADDRS; i++)
		if (addr_eq(&s->my_addresses[i], a))
			return true;
	return false;
}

/* "[...]": an IPv4 literal, or "IPv6:" and an IPv6 literal. */
static uint32_t
helo_literal(const struct conf_sniffer *s, const char *in, size_t len)
{
	char buf[ADDR_STRLEN + 8];
	struct addr a;
	bool v6 = false;

	if (len >= 5 && strncasecmp(in, "IPv6:", 5) == 0) {
		in += 5;
		len -= 5;
		v6 = true;
	}
	if (len == 0 || len >= sizeof(buf))
		return R(RULE_BAD_SYNTAX);
	memcpy(buf, in, len);
	buf[len] = '\0';
	if (addr_parse(buf, &a) != 0 || strchr(buf, ':') != NULL) {
		/* IPv6 needs its tag, IPv4 must not have one (RFC 5321). */
		if (!(v6 && addr_parse(buf, &a) == 0))
			return R(RULE_BAD_SYNTAX);
	} else if (v6) {
		return R(RULE_BAD_SYNTAX);
	}
	return R(RULE_ADDRESS_LITERAL) |
	    (helo_mine(s, &a) ? R(RULE_OWN_ADDRESS) : 0);
}

/* RFC 1123 name syntax of in (len bytes, any case, optional final dot). */
static bool
helo_hostname(const char *in, size_t len, char *name)
{
	size_t i, label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '.') {
			if (label == 0 || in[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum(ch) || ch == '-') {
			if (ch == '-' && label == 0)
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		name[i] = (char)tolower(ch);
	}
	if (label == 0 || in[len - 1] == '-')
		return false;
	name[len] = '\0';
	return true;
}

uint32_t
helo_judge(const struct conf_sniffer *s, const char *helo, size_t len,
    char *name)
{
	char buf[ADDR_STRLEN];
	struct addr a;
	size_t i;

	name[0] = '\0';
	if (len == 0)
		return R(RULE_BAD_SYNTAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)helo[i] <= ' ' ||
		    (unsigned char)helo[i] >= 0x7f)
			return R(RULE_BAD_SYNTAX);
	if (helo[0] == '[')
		return len >= 2 && helo[len - 1] == ']' ?
		    helo_literal(s, helo + 1, len - 2) : R(RULE_BAD_SYNTAX);
	if (len < sizeof(buf)) {
		memcpy(buf, helo, len);
		buf[len] = '\0';
		if (addr_parse(buf, &a) == 0)
			return R(RULE_BARE_IP) |
			    (helo_mine(s, &a) ? R(RULE_OWN_ADDRESS) : 0);
	}
	if (!helo_hostname(helo, len, name)) {
		name[0] = '\0';
		return R(RULE_BAD_SYNTAX);
	}
	if (strchr(name, '.') == NULL)
		return R(RULE_UNQUALIFIED);
	for (i = 0; i < s->nmy_hostnames && i < CONF_MAX_MYNAMES; i++)
		if (strcmp(name, s->my_hostnames[i]) == 0)
			return R(RULE_OWN_NAME);
	for (i = 0; i < s->nprovider_domains && i < CONF_MAX_PROVIDERS; i++)
		if (strcmp(name, s->provider_domains[i]) == 0)
			return R(RULE_PROVIDER_DOMAIN);
	return 0;
}

int
helo_registered_domain(const psl_ctx_t *psl, const char *name, char *out)
{
	const char *rd;

	if (psl == NULL || name == NULL || strlen(name) >= HELO_NAME_MAX)
		return -1;
	rd = psl_registrable_domain(psl, name);
	if (rd == NULL)
		return -1;
	/* rd points into name: a suffix of it, so it fits. */
	memmove(out, rd, strlen(rd) + 1);
	return 0;
}

bool
helo_addr_near(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return memcmp(a->b, b->b, 3) == 0;
	return memcmp(a->b, b->b, 8) == 0;
}
