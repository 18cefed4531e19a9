/*
 * helo.h - the HELO/EHLO rules that need no DNS, and the registered domain
 * of a name (libpsl), for smtpgate-sniffd.  Pure functions over a config.
 *
 * helo_judge looks at the argument of one HELO/EHLO exactly as the client
 * sent it (any bytes, any length) and returns the rules it breaks as a bit
 * mask (1u << RULE_x of conf.h), plus the name in canonical form (lower
 * case, no trailing dot) when it is a syntactically valid host name, which
 * is when the DNS rules apply.  The checks:
 *   bad-syntax       empty, bytes outside printable ASCII or blanks, an
 *                    underscore or other character outside [a-z0-9.-],
 *                    an empty label, a label over 63 or a name over 253
 *                    characters, a label starting or ending with '-', an
 *                    address literal that does not parse;
 *   address-literal  [192.0.2.7] or [IPv6:2001:db8::7];
 *   bare-ip          192.0.2.7 or 2001:db8::7 without brackets;
 *   own-address      either of those naming one of my_addresses;
 *   unqualified      a valid name without a dot (localhost, WIN-ABC123);
 *   own-name         one of my_hostnames;
 *   provider-domain  exactly one of provider_domains (mx.gmail.com is
 *                    not: only the bare registered domain is forged).
 *
 * helo_facts_judge decides the rules that need DNS and SPF answers from
 * the answers gathered (struct helo_facts), for smtpgate-sniffd and for
 * smtpgatectl check alike, so the two cannot tell different stories.
 * helo_mail_judge does the same for the MAIL FROM domain.
 */
#ifndef SMTPGATE_HELO_H
#define SMTPGATE_HELO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpsl.h>

#include "addr.h"
#include "conf.h"

#define HELO_NAME_MAX	254	/* a canonical host name with its NUL */
#define HELO_PTR_SPF_MAX	2	/* PTR names of a client checked with SPF */
#define HELO_PENDING	(-1)	/* a DNS status or SPF result not (yet)
				 * answered: lookup not made, or cut by the
				 * deadline */

/*
 * Judge one HELO argument (helo, len bytes, not NUL-terminated).  name
 * (HELO_NAME_MAX bytes) receives the canonical name, or "" when the
 * argument is not a host name (then no DNS rule applies).  Returns the mask
 * of rules broken (0: none).
 */
uint32_t helo_judge(const struct conf_sniffer *s, const char *helo,
    size_t len, char *name);

/*
 * The registered domain of a canonical name (mail.example.co.uk ->
 * example.co.uk) into out (HELO_NAME_MAX bytes).  0, or -1 when the name
 * has none (it is itself a public suffix).  psl: psl_builtin() or a loaded
 * list.
 */
int helo_registered_domain(const psl_ctx_t *psl, const char *name,
    char *out);

/* Are a and b within the same /24 (IPv4) or /64 (IPv6)? */
bool helo_addr_near(const struct addr *a, const struct addr *b);

/*
 * What the DNS and SPF said about a HELO name from a client.  Every status
 * is an enum dns_status (dns.h), every SPF result an enum spfcheck_result
 * (spfcheck.h), or HELO_PENDING.  The facts point to memory the caller
 * keeps; helo_facts_judge only reads it.
 */
struct helo_facts {
	struct addr client;		/* the address the HELO came from */
	int st_a, st_aaaa;		/* the HELO name's A and AAAA */
	const struct addr *addrs;	/* their addresses, both families */
	size_t naddrs;
	bool has_regdom;		/* the name has a registered domain */
	bool regdom_is_name;		/* ... and it is the name itself: then
					 * st_a answers for it, st_reg unused */
	int st_reg;			/* A of the registered domain */
	int st_ptr;			/* the client's PTR lookup */
	int spf;			/* SPF of postmaster@HELO */
	size_t nptr;			/* PTR names checked with SPF */
	int spf_ptr[HELO_PTR_SPF_MAX];	/* SPF of each (HELO identity) */
};

/* What helo_facts_judge found beyond the mask, for log lines. */
struct helo_facts_detail {
	size_t spf_ptr;			/* the PTR name whose SPF failed (the
					 * first one), when spf-ptr-fail */
	bool near;			/* a HELO address within /24 or /64 of
					 * the client */
	bool match;			/* a HELO address is the client */
};

/*
 * The DNS/SPF rules a HELO name breaks, as a mask of (1u << RULE_x), from
 * the facts only; the actions of s->rule are not looked at (a rule that is
 * off still counts for the rules after it: no-domain silences
 * helo-no-resolve), only spf_softfail_fails and spf_neutral_fails.
 *   spf-fail         spf fails (fail; softfail, neutral as configured);
 *   spf-ptr-fail     the SPF of one of the nptr PTR names fails;
 *   no-domain        the registered domain is NXDOMAIN;
 *   helo-no-resolve  A and AAAA both NXDOMAIN or NODATA (an error or no
 *                    answer proves nothing), and not no-domain;
 *   helo-mismatch    addresses known, none is the client;
 *   no-ptr-far       PTR NXDOMAIN or NODATA, no HELO address near the
 *                    client, and A and AAAA both answered without error
 *                    (the addresses are known, or known absent).
 * A pending fact breaks no rule.  detail may be NULL.
 */
uint32_t helo_facts_judge(const struct conf_sniffer *s,
    const struct helo_facts *f, struct helo_facts_detail *detail);

/*
 * mail-from-no-domain from the A lookup of the MAIL FROM domain (enum
 * dns_status or HELO_PENDING): broken only on NXDOMAIN (NODATA: the name
 * exists; an error or no answer proves nothing).
 */
uint32_t helo_mail_judge(int st_a);

/* Does an SPF result (or HELO_PENDING) count as a failure under s? */
bool helo_spf_fails(const struct conf_sniffer *s, int r);

#endif
