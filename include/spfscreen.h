/*
 * spfscreen.h - screen TXT records before libspf2 compiles them.
 *
 * libspf2 1.2.10 (Debian 12) compiles each term of a record into a 511-byte
 * area of a 4 KiB stack buffer; a term whose compiled macros reach the end
 * of that area underflows the space left for the literal that follows
 * (upstream commit d14abff), and a long literal then runs off the stack.
 * The same compiler handles exp= explanation strings, from a TXT record the
 * attacker also controls.  The helper process that runs libspf2 is
 * sandboxed whatever happens; this screen keeps such records from reaching
 * the compiler at all.
 *
 * An SPF record ("v=spf1" followed by a space or the end) is refused when
 *   - it is longer than SPFSCREEN_RECORD_MAX bytes (RFC 7208 section 3.4:
 *     records are meant to fit in a 512-byte UDP answer; 1 KiB leaves
 *     room for every record seen in practice), or
 *   - one of its terms (a space-separated word) is longer than
 *     SPFSCREEN_TERM_MAX (a domain-spec names at most a 253-byte domain,
 *     RFC 7208 section 7.3; a literal longer than that cannot be one), or
 *   - a term holds more than SPFSCREEN_MACROS_MAX macro expansions.
 * With at most 12 expansions and 253 bytes, a term compiles to well under
 * 511 bytes, so the underflow cannot happen.  A refused SPF record makes
 * the check a permerror (RFC 7208 section 4.6: a record that cannot be
 * read).  Any other TXT record that holds a macro ('%') and is longer than
 * SPFSCREEN_TERM_MAX or has more expansions is left out of the answer: it
 * can only matter as an explanation string, which smtpgate never uses.
 * Pure functions.
 */
#ifndef SMTPGATE_SPFSCREEN_H
#define SMTPGATE_SPFSCREEN_H

#include <stdbool.h>
#include <stddef.h>

#define SPFSCREEN_RECORD_MAX	1024
#define SPFSCREEN_TERM_MAX	253
#define SPFSCREEN_MACROS_MAX	12

enum spfscreen_verdict {
	SPFSCREEN_OK,		/* pass it to libspf2 */
	SPFSCREEN_REFUSE,	/* an SPF record we will not compile */
	SPFSCREEN_DROP,		/* another TXT record, left out */
};

/* Is txt (len bytes) an SPF version 1 record (case-insensitive)? */
bool spfscreen_is_spf(const char *txt, size_t len);
/*
 * Judge one TXT record (its strings concatenated, len bytes, may hold any
 * byte).  *why (may be NULL) names the fault for a refusal or a drop.
 */
enum spfscreen_verdict spfscreen_txt(const char *txt, size_t len,
    const char **why);

#endif
