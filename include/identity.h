/*
 * identity.h - the pure parts of smtpgatectl identity (ctl_identity.c):
 * how a receiving gateway reads a sending server's names, SPF record and
 * banner.  No I/O, no allocation; every input is hostile bytes.
 *
 *   identity_labels      labels of a host name (mail.example.com: 3)
 *   identity_escape      bytes as printable ASCII (\xHH, \\, \")
 *   identity_spf_read    a TXT answer read as SPF records are (RFC 7208
 *                        section 4.5): which records are SPF, where the
 *                        strings of a record were split and whether the
 *                        split made it unreadable, the "all" qualifier
 *   identity_banner_parse the server's greeting (RFC 5321 section 4.2):
 *                        complete or not, its code, the name it gives
 *
 * The judgments about the client's PTR (class, FCrDNS) and DNSBL listings
 * are findings.c's and ptrclass's, used by ctl_identity.c as they are.
 */
#ifndef SMTPGATE_IDENTITY_H
#define SMTPGATE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

/*
 * The labels of name (a trailing dot ignored), or 0 when name is no
 * dotted host name: empty, an empty label, a label of more than 63 bytes,
 * a byte outside letters, digits, '-' and '_', a last label of digits
 * alone (192.0.2.1, 5.7.1: no top-level domain is numeric).
 */
unsigned identity_labels(const char *name);

/*
 * b[0..n) into out (outlen > 0 bytes, always terminated): printable ASCII
 * as is but '\\' and '"' escaped, other bytes \xHH; cut to fit, never in
 * the middle of an escape.  Returns out.
 */
char *identity_escape(const unsigned char *b, size_t n, char *out,
    size_t outlen);

#define IDENTITY_SPF_TEXT	600	/* escaped text of a record kept */

/* A TXT answer read for SPF. */
struct identity_spf {
	size_t nspf;			/* records that read as SPF: "v=spf1"
					 * then a space or the end, any case */
	size_t nbroken;			/* records whose strings, joined with
					 * nothing between as receivers read
					 * them, are no SPF record, but joined
					 * with spaces are: split in the wrong
					 * places */
	int rec;			/* the record described below: the
					 * first SPF one, else the first
					 * broken one; -1: neither */
	size_t nstrings;		/* its strings */
	size_t glued;			/* its boundaries where neither string
					 * has a space at the join: the join
					 * makes one term of two */
	bool cut;			/* its strings did not all fit */
	char joined[IDENTITY_SPF_TEXT];	/* as receivers read it, escaped */
	char spaced[IDENTITY_SPF_TEXT];	/* its strings joined by spaces,
					 * escaped */
	char all;			/* its "all" mechanism's qualifier as
					 * read: '+', '-', '~', '?'; 0 none */
	bool redirect;			/* it has a redirect= modifier */
};

/* Read t (an answer of dns_parse_txt, DNS_OK) into *s (every field set). */
void identity_spf_read(const struct dns_txt *t, struct identity_spf *s);

/* ---- the banner ---- */

#define IDENTITY_BANNER_MAX	1024	/* bytes of greeting read at most */
#define IDENTITY_NAME_MAX	254

enum identity_banner_state {
	IDENTITY_BANNER_PARTIAL,	/* no final line yet: read more */
	IDENTITY_BANNER_DONE,		/* the final line is in */
	IDENTITY_BANNER_MALFORMED,	/* a line that is no reply line, or
					 * lines of different codes */
};

struct identity_banner {
	enum identity_banner_state state;
	unsigned code;			/* 220, 554, ...; 0 when unknown */
	size_t lines;			/* lines read */
	char name[IDENTITY_NAME_MAX];	/* the first word of the first line,
					 * lower case, when it is a host name
					 * (identity_labels > 0); else "" */
	char first[IDENTITY_SPF_TEXT];	/* the first line, escaped */
	const char *why;		/* why MALFORMED (static) */
};

/*
 * Parse the greeting in buf[0..len) (what the server sent so far, at most
 * IDENTITY_BANNER_MAX bytes are looked at) into *b.  Lines end in LF (CR
 * before it dropped); each is three digits, then '-' (more follow), ' '
 * or the end of the line, then text.  A last line without its LF is not
 * counted.
 */
void identity_banner_parse(const unsigned char *buf, size_t len,
    struct identity_banner *b);

#endif
