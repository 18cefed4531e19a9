/*
 * ptrclass.h - is a PTR name a generic (access-pool) name or a named host?
 *
 * Name + client address + forward-confirmation state in; a class and a short
 * reason with its evidence out ("ip-dashed-reversed", "token:pool").  No
 * allocation per call and no regex engine: the address encodings are
 * precomputed once per call on the stack.  A ptrclass context holds what is
 * loaded once (the Public Suffix List handle, the provider table) and is
 * read-only afterwards, so one context may serve many callers.
 */
#ifndef SMTPGATE_PTRCLASS_H
#define SMTPGATE_PTRCLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum ptr_class {
	PTR_NAMED,		/* a deliberately named host */
	PTR_GENERIC,		/* dynamic / residential / cloud pool name */
	PTR_STATIC_GENERIC,	/* ISP-assigned static or business pool name */
	PTR_INVALID,		/* not an LDH host name */
};

#define PTRCLASS_REASON_MAX 64

struct ptr_verdict {
	enum ptr_class cls;
	char reason[PTRCLASS_REASON_MAX];	/* e.g. "ip-dashed-reversed" */
};

struct ptrclass;

/*
 * Load the classifier.  The provider table (names that embed address
 * digits by design, honoured only when forward-confirmed) is the built-in
 * one when builtin (data/ptr-providers.conf as it was at build time), then
 * the suffixes of the file providers unless it is NULL: a file extends the
 * built-in table, or is the whole table without it.  Returns NULL with a
 * "file:line: reason" message in err ("built-in:line: ..." for the
 * built-in table); errno is then EINVAL for bad table contents, else the
 * system's cause (ENOENT, EACCES, ENOMEM ...).  Create one context at
 * start-up and share it: it is read-only afterwards.
 */
struct ptrclass *ptrclass_new_tables(const char *providers, bool builtin,
    char *err, size_t errlen);
/* ptrclass_new_tables(providers, false, ...): the file alone, or none. */
struct ptrclass *ptrclass_new(const char *providers, char *err, size_t errlen);

/*
 * The built-in provider table: the bytes of data/ptr-providers.conf,
 * NUL-terminated, placed in the object by src/judge/ptrclass_builtin.c at build
 * time (so it is never out of date; tests/unit/test_ptrclass.c checks it
 * against the file all the same).
 */
extern const char ptrclass_builtin_table[];
#define PTRCLASS_BUILTIN_NAME "built-in"
void ptrclass_free(struct ptrclass *pc);

/*
 * Classify name (any case, trailing dot allowed) for client.  Never fails.
 * confirmed: the name's A/AAAA records hold client (FCrDNS passed); only
 * then does the provider table count.  client may be NULL (no address
 * search); pc may be NULL (no provider table, and the registered domain is
 * guessed as the last two labels instead of asked of the Public Suffix
 * List).  Thread-safe for one shared pc.
 */
void ptrclass_classify(const struct ptrclass *pc, const char *name,
    const struct addr *client, bool confirmed, struct ptr_verdict *out);

const char *ptrclass_name(enum ptr_class c);

/*
 * Internals shared by src/ptrclass*.c (ptrclass.c: context, provider table,
 * registered-domain split, decision; ptrclass_ip.c: address encodings;
 * ptrclass_lex.c: tokens, lexicon and shapes).  Declared here so the unit
 * tests can drive each layer on its own; not for other modules.
 */

#define PTRCLASS_NAME_MAX 253	/* longest host name, without the final dot */

/* The client address in every encoding searched for, built once per call. */
struct ptrclass_ip {
	uint8_t family;		/* AF_INET, AF_INET6, or 0 (no address) */
	uint8_t o[4];		/* IPv4 octets a.b.c.d */
	char hex[2][9];		/* IPv4 as 8 hex digits: forward, reversed */
	char integer[11];	/* IPv4 as a decimal 32-bit integer */
	uint16_t g[4];		/* IPv6: the /64 as four 16-bit groups */
	char nib[2][17];	/* IPv6 /64 as 16 nibbles: forward, reversed */
};

/* What the address search found. */
struct ptrclass_iphit {
	int strength;		/* 0 none; 1 last two octets; 2 three octets or
				   all four scattered; 3 the whole address */
	char how[32];		/* "ip-dashed-reversed", "ip3-dotted", "ip-hex" */
};

void ptrclass_ip_prepare(const struct addr *a, struct ptrclass_ip *ip);
/* Search name[0..len) (lower case) for the address. */
void ptrclass_ip_search(const struct ptrclass_ip *ip, const char *name,
    size_t len, struct ptrclass_iphit *hit);

/* Token classes (bit flags). */
#define PTRCLASS_T_STRONG	0x01u	/* access-pool word: dsl pool cable */
#define PTRCLASS_T_DYN		0x02u	/* dynamic assignment: dyn dhcp ppp */
#define PTRCLASS_T_STATIC	0x04u	/* static or business: static biz */
#define PTRCLASS_T_WEAK		0x08u	/* generic-ish but common: host ip */
#define PTRCLASS_T_ROLE		0x10u	/* mail role: mail smtp mx relay */
#define PTRCLASS_T_CLOUD	0x20u	/* virtual machine: vps vmi vm */
#define PTRCLASS_T_HOLDER	0x40u	/* placeholder: unused unassigned */

/*
 * Classes of one token.  whole: the token is a whole dot/hyphen part (not a
 * piece split off at a letter/digit boundary); some short words count only
 * then.  affix: also match the lexicon's words as a prefix or suffix of a
 * longer token ("athedsl", "mobiledyn").
 */
unsigned ptrclass_lex_word(const char *w, size_t len, bool whole, bool affix);

#define PTRCLASS_WORD_MAX 16

/* What the token scan of a host part found. */
struct ptrclass_lexinfo {
	unsigned left;		/* classes seen in the leftmost label */
	unsigned any;		/* classes seen anywhere in the scanned part */
	bool cloud_counter;	/* a cloud word in a label with a 4+ digit run */
	bool left_counter;	/* a 4+ digit run in the leftmost label */
	unsigned plain;		/* words of no class (digit runs not counted) */
	char strong[PTRCLASS_WORD_MAX];	/* first word of each class seen, */
	char role[PTRCLASS_WORD_MAX];	/* for the reason */
	char stat[PTRCLASS_WORD_MAX];
	char cloud[PTRCLASS_WORD_MAX];
	char holder[PTRCLASS_WORD_MAX];
	char cloud_label[PTRCLASS_WORD_MAX];	/* a cloud word that is a whole
						   label: ".vs." ".vps." */
};

/*
 * Split host[0..len) at dots, hyphens and underscores and at letter/digit
 * boundaries, and classify each token.  strict: only whole dot/hyphen parts
 * count, no affixes (used on a registered domain's own label).
 */
void ptrclass_lex_scan(const char *host, size_t len, bool strict,
    struct ptrclass_lexinfo *li);

/*
 * Check the lexicon's invariants (sorted, lengths, affix index).  NULL when
 * sound, else the first word found wrong.  For the unit tests.
 */
const char *ptrclass_lex_selfcheck(void);

/*
 * Shape of one label without a decimal address: "mac" (a 12+ hex-digit run
 * mixing letters and digits, as cable modems' MAC-based names), "hex" (an
 * 8+ run), or NULL.
 */
const char *ptrclass_lex_shape(const char *label, size_t len);

/*
 * Access-line shapes of the leftmost label, which carry no address:
 * "nas-port" (a dial-up access server and port: "pm3-6-39", "async7-9"),
 * "customer-code" (letters, 6+ digits, at most four letters, as the first
 * hyphen part: "ntsitm268057", "cloudserver083745"; or letters, a hyphen
 * and 6+ digits as the whole label: "hwsrv-970840"), "counter" (a bare
 * number of 5+ digits), or NULL.
 */
const char *ptrclass_lex_access(const char *label, size_t len);

#endif
