/*
 * helo.c - HELO rules that need no DNS, registered domains, nearness of
 * addresses (contract in helo.h).  Pure: no allocation, no state.
 *
 * Hostname syntax is RFC 1123 section 2.1 (letters, digits, hyphens;
 * labels of 1..63; a name of at most 253 characters without its final
 * dot), address literals RFC 5321 section 4.1.3.  A bare address is tested
 * before the hostname syntax because "192.0.2.7" is also a valid name.
 *
 * helo_facts_judge is smtpgate-sniffd's judgment of the DNS/SPF rules,
 * moved here so smtpgatectl check reaches the same one; the order of the
 * tests and what an error or a missing answer proves are the daemon's, and
 * its e2e tests (t_sniff_rules.sh) hold them.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns.h"
#include "helo.h"
#include "spfcheck.h"

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

bool
helo_spf_fails(const struct conf_sniffer *s, int r)
{
	return r == SPFCHECK_FAIL ||
	    (r == SPFCHECK_SOFTFAIL && s->spf_softfail_fails) ||
	    (r == SPFCHECK_NEUTRAL && s->spf_neutral_fails);
}

/* NXDOMAIN or NODATA: known absent (an error or no answer is not). */
static bool
helo_absent(int st)
{
	return st == DNS_NXDOMAIN || st == DNS_NODATA;
}

uint32_t
helo_facts_judge(const struct conf_sniffer *s, const struct helo_facts *f,
    struct helo_facts_detail *detail)
{
	struct helo_facts_detail d = { .spf_ptr = 0 };
	uint32_t mask = 0;
	size_t i;

	if (f->spf != HELO_PENDING && helo_spf_fails(s, f->spf))
		mask |= R(RULE_SPF_FAIL);
	for (i = 0; i < f->nptr && i < HELO_PTR_SPF_MAX; i++)
		if (f->spf_ptr[i] != HELO_PENDING &&
		    helo_spf_fails(s, f->spf_ptr[i])) {
			mask |= R(RULE_SPF_PTR_FAIL);
			d.spf_ptr = i;
			break;
		}
	if (f->has_regdom && (f->regdom_is_name ? f->st_a : f->st_reg) ==
	    DNS_NXDOMAIN)
		mask |= R(RULE_NO_DOMAIN);
	/* Both answers are needed to say a name has no address at all. */
	if (!(mask & R(RULE_NO_DOMAIN)) && helo_absent(f->st_a) &&
	    helo_absent(f->st_aaaa))
		mask |= R(RULE_HELO_NO_RESOLVE);
	for (i = 0; f->addrs != NULL && i < f->naddrs; i++) {
		d.match |= addr_eq(&f->addrs[i], &f->client);
		d.near |= helo_addr_near(&f->addrs[i], &f->client);
	}
	if (f->addrs != NULL && f->naddrs > 0 && !d.match)
		mask |= R(RULE_HELO_MISMATCH);
	/*
	 * Far only when the HELO's addresses are known (or known absent).  A
	 * PTR answer that names no host (DNS_BADNAME: NUL, space, a dot in a
	 * label ...) is no PTR either: whoever controls the reverse zone must
	 * not escape the rule by publishing garbage.
	 */
	if ((helo_absent(f->st_ptr) || f->st_ptr == DNS_BADNAME) && !d.near &&
	    f->st_a != HELO_PENDING && f->st_aaaa != HELO_PENDING &&
	    f->st_a != DNS_ERROR && f->st_aaaa != DNS_ERROR)
		mask |= R(RULE_NO_PTR_FAR);
	if (detail != NULL)
		*detail = d;
	return mask;
}

uint32_t
helo_mail_judge(int st_a)
{
	return st_a == DNS_NXDOMAIN ? R(RULE_MAIL_FROM_NO_DOMAIN) : 0;
}
