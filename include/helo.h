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
 */
#ifndef SMTPGATE_HELO_H
#define SMTPGATE_HELO_H

#include <stddef.h>
#include <stdint.h>

#include <libpsl.h>

#include "addr.h"
#include "conf.h"

#define HELO_NAME_MAX	254	/* a canonical host name with its NUL */

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

#endif
