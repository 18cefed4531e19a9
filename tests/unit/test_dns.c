/*
 * test_dns.c - dns_parse, table-driven: wire messages in, status, names or
 * addresses, and the reason out.  Then the query calls on a real context
 * (c-ares with a server nothing answers on) for what c-ares fails at once:
 * no callback runs inside the call that asked, each comes once, from the
 * loop, and dns_free or dns_retire with answers still held behave.
 *
 * Each case writes its message in a small notation (msg_build below) so a
 * row reads like the message it stands for:
 *   H=qd,an,ns,ar        header: id 1, flags 0x8180 (answer, RD, RA)
 *   F=flags,qd,an,ns,ar  header with other flags (TC, rcode, no QR)
 *   N=name               a name in wire form; presentation format, \DDD is
 *                        byte DDD, \X is X, a dot ends a label; "." root
 *   Q=name,type          a question: N=name, type, class IN
 *   P=off                a compression pointer to offset off
 *   W=n  L=n             16- and 32-bit numbers
 *   {  }                 a 16-bit length, then the bytes up to "}"
 *   xHH                  one raw byte
 *   RR=owner,type        N=owner (or "@" for P=12), type, class IN, ttl 60
 *   S=text               a character-string: a length byte, then text
 *                        ('^' stands for a space)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cases.h"
#include "dns.h"
#include "evloop.h"

#define MSG_MAX 70000

struct builder {
	uint8_t *b;
	size_t n;
	size_t open[8];		/* offsets of unclosed { length fields */
	size_t nopen;
};

static void
put8(struct builder *m, unsigned v)
{
	if (m->n < MSG_MAX)
		m->b[m->n++] = (uint8_t)v;
}

static void
put16(struct builder *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

/* A name in presentation format, written in wire form. */
static void
put_name(struct builder *m, const char *s)
{
	size_t lenpos = m->n;

	if (strcmp(s, ".") == 0) {
		put8(m, 0);
		return;
	}
	put8(m, 0);
	while (*s != '\0') {
		if (*s == '.') {
			s++;
			lenpos = m->n;
			if (*s == '\0')
				break;
			put8(m, 0);
			continue;
		}
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '9') {
			put8(m, (unsigned)strtoul((char[]){ s[1], s[2], s[3],
			    0 }, NULL, 10));
			s += 4;
		} else if (s[0] == '\\') {
			put8(m, (uint8_t)s[1]);
			s += 2;
		} else {
			put8(m, (uint8_t)*s++);
		}
		m->b[lenpos]++;
	}
	if (m->b[lenpos] != 0 || m->n == lenpos + 1)
		put8(m, 0);
	else
		m->b[lenpos] = 0;
}

static unsigned
type_code(const char *t)
{
	static const struct { const char *name; unsigned code; } tt[] = {
		{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 },
		{ "PTR", 12 }, { "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 },
		{ "OPT", 41 },
	};
	for (size_t i = 0; i < sizeof(tt) / sizeof(tt[0]); i++)
		if (strcmp(tt[i].name, t) == 0)
			return tt[i].code;
	return (unsigned)strtoul(t, NULL, 0);
}

/* Build the message of spec into out; its length. */
static size_t
msg_build(const char *spec, uint8_t *out)
{
	struct builder m = { .b = out };
	char *copy = strdup(spec), *save = NULL, *tok;

	assert_non_null(copy);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		unsigned a[5] = { 0 };
		char x[256], y[32];

		if (sscanf(tok, "H=%u,%u,%u,%u", &a[0], &a[1], &a[2], &a[3])
		    == 4) {
			put16(&m, 1);
			put16(&m, 0x8180);
			for (int i = 0; i < 4; i++)
				put16(&m, a[i]);
		} else if (sscanf(tok, "F=%i,%u,%u,%u,%u", (int *)&a[4], &a[0],
		    &a[1], &a[2], &a[3]) == 5) {
			put16(&m, 1);
			put16(&m, a[4]);
			for (int i = 0; i < 4; i++)
				put16(&m, a[i]);
		} else if (strncmp(tok, "N=", 2) == 0) {
			put_name(&m, tok + 2);
		} else if (sscanf(tok, "Q=%255[^,],%31s", x, y) == 2) {
			put_name(&m, x);
			put16(&m, type_code(y));
			put16(&m, 1);
		} else if (sscanf(tok, "RR=%255[^,],%31s", x, y) == 2) {
			if (strcmp(x, "@") == 0)
				put16(&m, 0xc00c);
			else
				put_name(&m, x);
			put16(&m, type_code(y));
			put16(&m, 1);
			put16(&m, 0);
			put16(&m, 60);
		} else if (strncmp(tok, "S=", 2) == 0) {
			put8(&m, (unsigned)strlen(tok + 2));
			for (const char *p = tok + 2; *p != '\0'; p++)
				put8(&m, *p == '^' ? ' ' : (uint8_t)*p);
		} else if (sscanf(tok, "P=%u", &a[0]) == 1) {
			put16(&m, 0xc000 | a[0]);
		} else if (sscanf(tok, "W=%i", (int *)&a[0]) == 1) {
			put16(&m, a[0]);
		} else if (sscanf(tok, "L=%u", &a[0]) == 1) {
			put16(&m, a[0] >> 16);
			put16(&m, a[0] & 0xffff);
		} else if (strcmp(tok, "{") == 0) {
			m.open[m.nopen++] = m.n;
			put16(&m, 0);
		} else if (strcmp(tok, "}") == 0) {
			size_t at = m.open[--m.nopen], len = m.n - at - 2;
			m.b[at] = (uint8_t)(len >> 8);
			m.b[at + 1] = (uint8_t)len;
		} else if (sscanf(tok, "x%x", &a[0]) == 1) {
			put8(&m, a[0]);
		} else {
			fail_msg("bad token '%s' in spec", tok);
		}
	}
	free(copy);
	return m.n;
}

struct pcase {
	const char *name;
	enum dns_type type;
	const char *spec;
	enum dns_status want;
	const char *want_text;	/* names or addresses, " "-joined; the bad
				 * name when BADNAME; the error when ERROR */
	const char *want_why;	/* bad_why, or NULL */
	size_t want_nbad;
};

#define QPTR "Q=10.2.0.192.in-addr.arpa,PTR"
#define QA "Q=mail.example.test,A"
#define QAAAA "Q=mail.example.test,AAAA"

static const struct pcase pcases[] = {
	{ "one PTR name", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail.example.test }",
	  DNS_OK, "mail.example.test", NULL, 0 },
	{ "two names, a repeat dropped, lower-cased", DNS_PTR,
	  "H=1,3,0,0 " QPTR " RR=@,PTR { N=Mail.Example.TEST } "
	  "RR=@,PTR { N=mail.example.test } RR=@,PTR { N=mx.example.test }",
	  DNS_OK, "mail.example.test mx.example.test", NULL, 0 },
	{ "target compressed into the question", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { x04 xff x61 x72 x70 P=23 }",
	  DNS_BADNAME, "\\255arp.in-addr.arpa", "non-ascii", 1 },
	{ "target compressed onto an earlier target", DNS_PTR,
	  "H=1,2,0,0 " QPTR " RR=@,PTR { N=mail.example.test } "
	  "RR=@,PTR { x02 x6d x78 P=58 }",
	  DNS_OK, "mail.example.test mx.example.test", NULL, 0 },
	{ "pointers two hops back", DNS_PTR,
	  "H=1,3,0,0 " QPTR " RR=@,PTR { N=mail.example.test } "
	  "RR=@,PTR { x02 x6d x78 P=58 } RR=@,PTR { x03 x77 x77 x77 P=84 }",
	  DNS_OK, "mail.example.test mx.example.test www.mx.example.test",
	  NULL, 0 },
	{ "NUL byte: no host name", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\000x.example.test }",
	  DNS_BADNAME, "mail\\000x.example.test", "control-byte", 1 },
	{ "0xff byte", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\255.example.test }",
	  DNS_BADNAME, "mail\\255.example.test", "non-ascii", 1 },
	{ "space", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\032x.example.test }",
	  DNS_BADNAME, "mail\\032x.example.test", "space", 1 },
	{ "newline", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\010.example.test }",
	  DNS_BADNAME, "mail\\010.example.test", "control-byte", 1 },
	{ "dot inside a label", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\.example.test }",
	  DNS_BADNAME, "mail\\.example.test", "dot-in-label", 1 },
	{ "backslash", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\\\x.example.test }",
	  DNS_BADNAME, "mail\\\\x.example.test", "backslash", 1 },
	{ "DEL byte", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail\\127.example.test }",
	  DNS_BADNAME, "mail\\127.example.test", "control-byte", 1 },
	{ "the root name", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=. }",
	  DNS_BADNAME, ".", "root-name", 1 },
	{ "a bad name beside a good one: the good one counts", DNS_PTR,
	  "H=1,2,0,0 " QPTR " RR=@,PTR { N=a\\000b.example.test } "
	  "RR=@,PTR { N=mail.example.test }",
	  DNS_OK, "mail.example.test", "control-byte", 1 },
	{ "two bad names: the first is shown", DNS_PTR,
	  "H=1,2,0,0 " QPTR " RR=@,PTR { N=a\\032b.example.test } "
	  "RR=@,PTR { N=c\\000d.example.test }",
	  DNS_BADNAME, "a\\032b.example.test", "space", 2 },
	{ "non-LDH but printable names pass to the classifier", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail_1.ex*mple.test }",
	  DNS_OK, "mail_1.ex*mple.test", NULL, 0 },
	{ "RFC 2317 CNAME, then the PTR", DNS_PTR,
	  "H=1,2,0,0 " QPTR " RR=@,CNAME { N=10.0/25.2.0.192.in-addr.arpa } "
	  "RR=10.0/25.2.0.192.in-addr.arpa,PTR { N=mail.example.test }",
	  DNS_OK, "mail.example.test", NULL, 0 },
	{ "a PTR of another name is not ours", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=11.2.0.192.in-addr.arpa,PTR "
	  "{ N=mail.example.test }",
	  DNS_NODATA, "", NULL, 0 },
	{ "owner compared without case", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=10.2.0.192.IN-ADDR.ARPA,PTR "
	  "{ N=mail.example.test }",
	  DNS_OK, "mail.example.test", NULL, 0 },
	{ "more than 8 names: 8 kept", DNS_PTR,
	  "H=1,9,0,0 " QPTR " RR=@,PTR { N=a.t.test } RR=@,PTR { N=b.t.test } "
	  "RR=@,PTR { N=c.t.test } RR=@,PTR { N=d.t.test } "
	  "RR=@,PTR { N=e.t.test } RR=@,PTR { N=f.t.test } "
	  "RR=@,PTR { N=g.t.test } RR=@,PTR { N=h.t.test } "
	  "RR=@,PTR { N=i.t.test }",
	  DNS_OK, "a.t.test b.t.test c.t.test d.t.test e.t.test f.t.test "
	  "g.t.test h.t.test", NULL, 0 },
	{ "no answer records", DNS_PTR, "H=1,0,0,0 " QPTR,
	  DNS_NODATA, "", NULL, 0 },
	{ "NXDOMAIN with its SOA", DNS_PTR,
	  "F=0x8183,1,0,1,0 " QPTR " RR=in-addr.arpa,SOA { N=ns.test "
	  "N=root.test L=1 L=2 L=3 L=4 L=5 }",
	  DNS_NXDOMAIN, "", NULL, 0 },
	{ "SERVFAIL", DNS_PTR, "F=0x8182,1,0,0,0 " QPTR,
	  DNS_ERROR, "SERVFAIL", NULL, 0 },
	{ "REFUSED", DNS_PTR, "F=0x8185,1,0,0,0 " QPTR,
	  DNS_ERROR, "REFUSED", NULL, 0 },
	{ "truncated (TC bit)", DNS_PTR, "F=0x8380,1,0,0,0 " QPTR,
	  DNS_ERROR, "truncated answer", NULL, 0 },
	{ "a query, not an answer", DNS_PTR, "F=0x0100,1,0,0,0 " QPTR,
	  DNS_ERROR, "not an answer", NULL, 0 },
	{ "shorter than a header", DNS_PTR, "W=1 W=0x8180 W=1",
	  DNS_ERROR, "short answer", NULL, 0 },
	{ "no question", DNS_PTR, "H=0,0,0,0",
	  DNS_ERROR, "not one question", NULL, 0 },
	{ "answer to an A question", DNS_PTR, "H=1,0,0,0 " QA,
	  DNS_ERROR, "answer to another question", NULL, 0 },
	{ "cut inside the record", DNS_PTR,
	  "H=1,1,0,0 " QPTR " x0c x00 x0c x00 x01 x00",
	  DNS_ERROR, "malformed record", NULL, 0 },
	{ "record data past the end", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR W=40 N=mail.example.test",
	  DNS_ERROR, "malformed record", NULL, 0 },
	{ "65535 answers announced, one present", DNS_PTR,
	  "H=1,65535,65535,65535 " QPTR " RR=@,PTR { N=mail.example.test }",
	  DNS_ERROR, "malformed record", NULL, 0 },
	{ "bytes after the last record", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail.example.test } x00",
	  DNS_ERROR, "bytes after the last record", NULL, 0 },
	{ "PTR data longer than its name", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { N=mail.example.test x00 }",
	  DNS_ERROR, "malformed PTR", NULL, 0 },
	{ "pointer to itself", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { P=53 }",
	  DNS_ERROR, "malformed PTR", NULL, 0 },
	{ "pointer forward", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { P=60 x00 x00 x00 x00 }",
	  DNS_ERROR, "malformed PTR", NULL, 0 },
	{ "pointer loop through an earlier label", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { x01 x61 P=53 }",
	  DNS_ERROR, "malformed PTR", NULL, 0 },
	{ "owner pointer loop", DNS_PTR,
	  "H=1,1,0,0 " QPTR " P=41 W=12 W=1 L=60 { N=a.test }",
	  DNS_ERROR, "malformed record", NULL, 0 },
	{ "extended label type 0x40", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { x41 x61 x00 }",
	  DNS_ERROR, "malformed PTR", NULL, 0 },
	{ "name longer than 255 bytes", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { "
	  "N=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "a }",
	  DNS_ERROR, "malformed PTR", NULL, 0 },
	{ "name of exactly 255 bytes", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { "
	  "N=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }",
	  DNS_OK,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  NULL, 0 },
	{ "a long bad name is shown cut", DNS_PTR,
	  "H=1,1,0,0 " QPTR " RR=@,PTR { "
	  "N=\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000.\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"
	  "\\000\\000\\000\\000\\000\\000.test }",
	  DNS_BADNAME, NULL, "control-byte", 1 },
	{ "other record types are skipped", DNS_PTR,
	  "H=1,2,0,1 " QPTR " RR=@,TXT { x03 x61 x62 x63 } "
	  "RR=@,PTR { N=mail.example.test } N=. W=41 W=1232 L=0 W=0",
	  DNS_OK, "mail.example.test", NULL, 0 },
	{ "authority and additional records are only checked", DNS_PTR,
	  "H=1,1,1,0 " QPTR " RR=@,PTR { N=mail.example.test } "
	  "RR=in-addr.arpa,NS W=3 x00",
	  DNS_ERROR, "malformed record", NULL, 0 },

	{ "A record", DNS_A,
	  "H=1,1,0,0 " QA " RR=@,A { xc0 x00 x02 x07 }",
	  DNS_OK, "192.0.2.7", NULL, 0 },
	{ "A through a CNAME", DNS_A,
	  "H=1,2,0,0 " QA " RR=@,CNAME { N=relay.example.test } "
	  "RR=relay.example.test,A { xc0 x00 x02 x08 }",
	  DNS_OK, "192.0.2.8", NULL, 0 },
	{ "A of another owner is not ours", DNS_A,
	  "H=1,1,0,0 " QA " RR=other.example.test,A { xc0 x00 x02 x08 }",
	  DNS_NODATA, "", NULL, 0 },
	{ "A with 5 bytes of data", DNS_A,
	  "H=1,1,0,0 " QA " RR=@,A { xc0 x00 x02 x08 x00 }",
	  DNS_ERROR, "malformed A", NULL, 0 },
	{ "more than 16 A: 16 kept", DNS_A,
	  "H=1,17,0,0 " QA " RR=@,A { x7f x00 x00 x01 } RR=@,A { x7f x00 x00 x02 } "
	  "RR=@,A { x7f x00 x00 x03 } RR=@,A { x7f x00 x00 x04 } "
	  "RR=@,A { x7f x00 x00 x05 } RR=@,A { x7f x00 x00 x06 } "
	  "RR=@,A { x7f x00 x00 x07 } RR=@,A { x7f x00 x00 x08 } "
	  "RR=@,A { x7f x00 x00 x09 } RR=@,A { x7f x00 x00 x0a } "
	  "RR=@,A { x7f x00 x00 x0b } RR=@,A { x7f x00 x00 x0c } "
	  "RR=@,A { x7f x00 x00 x0d } RR=@,A { x7f x00 x00 x0e } "
	  "RR=@,A { x7f x00 x00 x0f } RR=@,A { x7f x00 x00 x10 } "
	  "RR=@,A { x7f x00 x00 x11 }",
	  DNS_OK, "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 "
	  "127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10 127.0.0.11 "
	  "127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16", NULL, 0 },
	{ "CNAME chain longer than 8 hops is not followed", DNS_A,
	  "H=1,10,0,0 " QA " RR=@,CNAME { N=c1.test } RR=c1.test,CNAME "
	  "{ N=c2.test } RR=c2.test,CNAME { N=c3.test } RR=c3.test,CNAME "
	  "{ N=c4.test } RR=c4.test,CNAME { N=c5.test } RR=c5.test,CNAME "
	  "{ N=c6.test } RR=c6.test,CNAME { N=c7.test } RR=c7.test,CNAME "
	  "{ N=c8.test } RR=c8.test,CNAME { N=c9.test } RR=c9.test,A "
	  "{ xc0 x00 x02 x09 }",
	  DNS_NODATA, "", NULL, 0 },
	{ "CNAME chain of 8 hops is followed", DNS_A,
	  "H=1,9,0,0 " QA " RR=@,CNAME { N=c1.test } RR=c1.test,CNAME "
	  "{ N=c2.test } RR=c2.test,CNAME { N=c3.test } RR=c3.test,CNAME "
	  "{ N=c4.test } RR=c4.test,CNAME { N=c5.test } RR=c5.test,CNAME "
	  "{ N=c6.test } RR=c6.test,CNAME { N=c7.test } RR=c7.test,CNAME "
	  "{ N=c8.test } RR=c8.test,A { xc0 x00 x02 x09 }",
	  DNS_OK, "192.0.2.9", NULL, 0 },
	{ "a DNSBL answer", DNS_A,
	  "H=1,1,0,0 Q=13.100.51.198.bl.test,A RR=@,A { x7f x00 x00 x02 }",
	  DNS_OK, "127.0.0.2", NULL, 0 },
	{ "AAAA record", DNS_AAAA,
	  "H=1,1,0,0 " QAAAA " RR=@,AAAA { x20 x01 x0d xb8 x00 x0c x00 x00 "
	  "x00 x00 x00 x00 x00 x00 x00 x10 }",
	  DNS_OK, "2001:db8:c::10", NULL, 0 },
	{ "an IPv4-mapped AAAA record stays IPv6", DNS_AAAA,
	  "H=1,1,0,0 " QAAAA " RR=@,AAAA { x00 x00 x00 x00 x00 x00 x00 x00 "
	  "x00 x00 xff xff xc0 x00 x02 x08 }",
	  DNS_OK, "::ffff:192.0.2.8", NULL, 0 },
	{ "AAAA with 4 bytes of data", DNS_AAAA,
	  "H=1,1,0,0 " QAAAA " RR=@,AAAA { xc0 x00 x02 x08 }",
	  DNS_ERROR, "malformed AAAA", NULL, 0 },
	{ "an A record in an AAAA answer is skipped", DNS_AAAA,
	  "H=1,1,0,0 " QAAAA " RR=@,A { xc0 x00 x02 x08 }",
	  DNS_NODATA, "", NULL, 0 },
};

static const char *
status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_ERROR: return "error";
	case DNS_CANCELLED: return "cancelled";
	case DNS_BADNAME: return "badname";
	}
	return "?";
}

/* What a result shows, in the terms of the table. */
static void
shown(const struct dns_result *r, char *buf, size_t len)
{
	size_t off = 0;
	char ip[ADDR_STRLEN];

	buf[0] = '\0';
	if (r->status == DNS_ERROR) {
		snprintf(buf, len, "%s", r->error ? r->error : "(null)");
		return;
	}
	if (r->status == DNS_BADNAME) {
		snprintf(buf, len, "%s", r->bad);
		return;
	}
	for (size_t i = 0; i < r->nnames; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    off ? " " : "", r->names[i]);
	for (size_t i = 0; i < r->naddrs; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    off ? " " : "", addr_ntop(&r->addrs[i], ip));
}

static void
test_parse(void **state)
{
	const struct pcase *c = *state;
	static uint8_t msg[MSG_MAX];
	struct dns_result r;
	char got[2048];
	size_t len = msg_build(c->spec, msg);

	memset(&r, 0xa5, sizeof(r));	/* every field must be set */
	dns_parse(msg, len, c->type, &r);
	shown(&r, got, sizeof(got));
	if (r.status != c->want ||
	    (c->want_text != NULL && strcmp(got, c->want_text) != 0)) {
		print_error("%s: got %s '%s', want %s '%s'\n", c->name,
		    status_name(r.status), got, status_name(c->want),
		    c->want_text ? c->want_text : "(any)");
		fail();
	}
	if (r.nbad != c->want_nbad || (c->want_why == NULL) !=
	    (r.bad_why == NULL) || (c->want_why != NULL &&
	    strcmp(c->want_why, r.bad_why) != 0)) {
		print_error("%s: got nbad=%zu bad_why=%s, want %zu %s\n",
		    c->name, r.nbad, r.bad_why ? r.bad_why : "NULL",
		    c->want_nbad, c->want_why ? c->want_why : "NULL");
		fail();
	}
	if (strlen(r.bad) >= sizeof(r.bad) || strlen(got) >= DNS_NAME_MAX *
	    DNS_MAX_NAMES + DNS_MAX_NAMES)
		fail_msg("%s: text not bounded", c->name);
}

/* ---- TXT: the character-strings kept apart ---- */

struct tcase {
	const char *name;
	const char *spec;
	enum dns_status want;
	const char *want_text;	/* records "|"-joined, each its strings in
				 * quotes; the error when ERROR */
	size_t want_nmore;
};

#define QTXT "Q=mail.example.test,TXT"

static const struct tcase tcases[] = {
	{ "one record, one string",
	  "H=1,1,0,0 " QTXT " RR=@,TXT { S=v=spf1^a^-all }",
	  DNS_OK, "\"v=spf1 a -all\"", 0 },
	{ "one record split in three strings",
	  "H=1,1,0,0 " QTXT " RR=@,TXT { S=v=spf1 S=a S=-all }",
	  DNS_OK, "\"v=spf1\" \"a\" \"-all\"", 0 },
	{ "two records, an empty string kept",
	  "H=1,2,0,0 " QTXT " RR=@,TXT { x00 } RR=@,TXT { S=hi }",
	  DNS_OK, "\"\"|\"hi\"", 0 },
	{ "a record of another owner is left out",
	  "H=1,1,0,0 " QTXT " RR=other.test,TXT { S=hi }",
	  DNS_NODATA, "", 0 },
	{ "through a CNAME",
	  "H=1,2,0,0 " QTXT " RR=@,CNAME { N=spf.example.test } "
	  "RR=spf.example.test,TXT { S=ok }",
	  DNS_OK, "\"ok\"", 0 },
	{ "a string that overruns its record",
	  "H=1,1,0,0 " QTXT " RR=@,TXT { x05 x61 x62 }",
	  DNS_ERROR, "malformed TXT", 0 },
	{ "a record with no string",
	  "H=1,1,0,0 " QTXT " RR=@,TXT { }",
	  DNS_ERROR, "malformed TXT", 0 },
	{ "a malformed record of another owner still refuses the answer",
	  "H=1,1,0,0 " QTXT " RR=other.test,TXT { x09 x61 }",
	  DNS_ERROR, "malformed TXT", 0 },
	{ "NXDOMAIN",
	  "F=0x8183,1,0,0,0 " QTXT, DNS_NXDOMAIN, "", 0 },
	{ "SERVFAIL",
	  "F=0x8182,1,0,0,0 " QTXT, DNS_ERROR, "SERVFAIL", 0 },
	{ "an answer to an A question",
	  "H=1,0,0,0 " QA, DNS_ERROR, "answer to another question", 0 },
	{ "nine records: eight kept, one counted",
	  "H=1,9,0,0 " QTXT " RR=@,TXT { S=a } RR=@,TXT { S=b } "
	  "RR=@,TXT { S=c } RR=@,TXT { S=d } RR=@,TXT { S=e } "
	  "RR=@,TXT { S=f } RR=@,TXT { S=g } RR=@,TXT { S=h } "
	  "RR=@,TXT { S=i }",
	  DNS_OK, "\"a\"|\"b\"|\"c\"|\"d\"|\"e\"|\"f\"|\"g\"|\"h\"",
	  1 },
};

static void
txt_shown(const struct dns_txt *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (t->status == DNS_ERROR) {
		snprintf(buf, len, "%s", t->error ? t->error : "(null)");
		return;
	}
	for (size_t i = 0; i < t->nrecords; i++) {
		const struct dns_txt_record *rec = &t->rec[i];

		if (i > 0 && off + 1 < len)
			buf[off++] = '|';
		for (size_t j = 0; j < rec->nstrings && off < len; j++)
			off += (size_t)snprintf(buf + off, len - off,
			    "%s\"%.*s\"", j ? " " : "", (int)rec->s[j].len,
			    (const char *)t->text + rec->s[j].off);
		buf[off < len ? off : len - 1] = '\0';
	}
}

static void
test_parse_txt(void **state)
{
	const struct tcase *c = *state;
	static uint8_t msg[MSG_MAX];
	static struct dns_txt t;
	char got[2048];
	size_t len = msg_build(c->spec, msg);

	memset(&t, 0xa5, sizeof(t));	/* every field must be set */
	dns_parse_txt(msg, len, &t);
	txt_shown(&t, got, sizeof(got));
	if (t.status != c->want || strcmp(got, c->want_text) != 0 ||
	    t.nmore != c->want_nmore) {
		print_error("%s: got %s '%s' nmore=%zu, want %s '%s' %zu\n",
		    c->name, status_name(t.status), got, t.nmore,
		    status_name(c->want), c->want_text, c->want_nmore);
		fail();
	}
	if ((t.status == DNS_ERROR) != (t.error != NULL))
		fail_msg("%s: error reason and status disagree", c->name);
}

/* A record of more strings than kept is marked cut, never overrun. */
static void
test_parse_txt_cut(void **state)
{
	static uint8_t msg[MSG_MAX];
	static struct dns_txt t;
	char spec[4096];
	size_t off;

	(void)state;
	off = (size_t)snprintf(spec, sizeof(spec), "H=1,1,0,0 " QTXT
	    " RR=@,TXT {");
	for (int i = 0; i < DNS_TXT_MAX_STRINGS + 3; i++)
		off += (size_t)snprintf(spec + off, sizeof(spec) - off,
		    " S=x");
	snprintf(spec + off, sizeof(spec) - off, " }");
	dns_parse_txt(msg, msg_build(spec, msg), &t);
	if (t.status != DNS_OK || t.nrecords != 1 || !t.rec[0].cut ||
	    t.rec[0].nstrings != DNS_TXT_MAX_STRINGS)
		fail_msg("got status %s records %zu cut %d strings %zu; want "
		    "ok 1 1 %d", status_name(t.status), t.nrecords,
		    t.nrecords ? t.rec[0].cut : 0,
		    t.nrecords ? t.rec[0].nstrings : 0, DNS_TXT_MAX_STRINGS);
}

/* Every prefix of a good answer is refused, never read past. */
static void
test_parse_prefixes(void **state)
{
	static uint8_t msg[MSG_MAX];
	size_t len;

	(void)state;
	len = msg_build("H=1,2,0,0 " QPTR " RR=@,CNAME { x02 x31 x30 P=23 } "
	    "RR=10.in-addr.arpa,PTR { N=mail.example.test }", msg);
	for (size_t n = 0; n < len; n++) {
		struct dns_result r;
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, msg, n);	/* exact size: ASan sees overreads */
		dns_parse(copy, n, DNS_PTR, &r);
		free(copy);
		if (r.status != DNS_ERROR) {
			print_error("prefix of %zu bytes: got status %s, want "
			    "error\n", n, status_name(r.status));
			fail();
		}
	}
}

/* ---- the query calls: never a callback inside ---- */

/* A name c-ares refuses to encode (a label of 64 bytes): it fails the
 * query inside ares_query, before any packet is sent. */
#define BADLABEL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct qrun {
	struct evloop *ev;
	struct dns *d;
	bool inside;		/* within a dns_query* call of ours */
	int calls;		/* callbacks so far */
	int called_inside;	/* of them, inside a dns_query* call */
	int want;		/* callbacks to wait for */
	enum dns_status last;
	int chain;		/* queries still to ask from callbacks */
};

static void
qrun_cb(void *arg, const struct dns_result *r)
{
	struct qrun *q = arg;

	q->calls++;
	q->called_inside += q->inside;
	q->last = r->status;
	if (q->chain > 0) {
		/* Asked from a callback: its answer must not come inside
		 * this call either. */
		q->chain--;
		q->want++;
		q->inside = true;
		dns_query(q->d, BADLABEL ".example.test", DNS_A, qrun_cb, q);
		q->inside = false;
	}
	if (q->calls >= q->want)
		evloop_break(q->ev);
}

static void
qrun_raw_cb(void *arg, enum dns_status st, const unsigned char *abuf,
    size_t alen)
{
	struct qrun *q = arg;

	q->calls++;
	q->called_inside += q->inside;
	q->last = st;
	if (abuf != NULL || alen != 0)
		q->last = DNS_OK;	/* an error has no message */
	if (q->calls >= q->want)
		evloop_break(q->ev);
}

static void
qrun_timeout(void *arg)
{
	evloop_break(arg);
}

static void
qrun_open(struct qrun *q)
{
	struct conf_dns c = { .servers = "127.0.0.1:9", .timeout_ms = 500,
	    .tries = 1 };
	char err[256];

	memset(q, 0, sizeof(*q));
	assert_non_null(q->ev = evloop_new());
	q->d = dns_new(q->ev, &c, err, sizeof(err));
	if (q->d == NULL)
		fail_msg("dns_new: %s", err);
}

/* Run the loop until q->want callbacks came, or 5 s. */
static void
qrun_loop(struct qrun *q)
{
	struct ev_timer *t = evloop_timer_at(q->ev, evloop_now_ms(q->ev) +
	    5000, qrun_timeout, q->ev);

	assert_non_null(t);
	if (q->calls < q->want)
		assert_int_equal(evloop_run(q->ev), 0);
	if (q->calls >= q->want)
		evloop_timer_cancel(q->ev, t);
}

static void
test_query_never_inside(void **state)
{
	struct qrun q;

	(void)state;
	qrun_open(&q);
	q.want = 2;
	q.inside = true;
	dns_query_until(q.d, BADLABEL ".example.test", DNS_A, 0, qrun_cb, &q);
	dns_query(q.d, BADLABEL ".example.test", DNS_PTR, qrun_cb, &q);
	q.inside = false;
	if (q.calls != 0)
		fail_msg("got %d callbacks inside dns_query, want 0", q.calls);
	qrun_loop(&q);
	if (q.calls != 2 || q.called_inside != 0 || q.last != DNS_ERROR)
		fail_msg("got %d callbacks (%d inside), last status %d; want "
		    "2, 0 inside, DNS_ERROR", q.calls, q.called_inside, q.last);
	assert_int_equal(dns_stats(q.d)->inflight, 0);
	assert_int_equal(dns_stats(q.d)->errors, 2);
	dns_free(q.d);
	evloop_free(q.ev);
}

static void
test_query_raw_never_inside(void **state)
{
	struct qrun q;

	(void)state;
	qrun_open(&q);
	q.want = 1;
	q.inside = true;
	dns_query_raw(q.d, BADLABEL ".example.test", 16 /* TXT */, 0,
	    qrun_raw_cb, &q);
	q.inside = false;
	if (q.calls != 0)
		fail_msg("got %d callbacks inside dns_query_raw, want 0",
		    q.calls);
	qrun_loop(&q);
	if (q.calls != 1 || q.called_inside != 0 || q.last != DNS_ERROR)
		fail_msg("got %d callbacks (%d inside), status %d; want 1, 0 "
		    "inside, DNS_ERROR without a message", q.calls,
		    q.called_inside, q.last);
	dns_free(q.d);
	evloop_free(q.ev);
}

static void
test_query_from_callback(void **state)
{
	struct qrun q;

	(void)state;
	qrun_open(&q);
	q.want = 1;
	q.chain = 3;	/* each callback asks once more */
	q.inside = true;
	dns_query(q.d, BADLABEL ".example.test", DNS_A, qrun_cb, &q);
	q.inside = false;
	qrun_loop(&q);
	if (q.calls != 4 || q.called_inside != 0)
		fail_msg("got %d callbacks (%d inside a call), want 4, 0",
		    q.calls, q.called_inside);
	dns_free(q.d);
	evloop_free(q.ev);
}

/* dns_free with answers still held: each comes once, cancelled. */
static void
test_query_free_held(void **state)
{
	struct qrun q;

	(void)state;
	qrun_open(&q);
	q.inside = true;
	dns_query(q.d, BADLABEL ".example.test", DNS_A, qrun_cb, &q);
	dns_query_raw(q.d, BADLABEL ".example.test", 16, 0, qrun_raw_cb, &q);
	q.inside = false;
	dns_free(q.d);
	if (q.calls != 2 || q.last != DNS_CANCELLED)
		fail_msg("dns_free: got %d callbacks, last status %d; want 2, "
		    "DNS_CANCELLED", q.calls, q.last);
	evloop_free(q.ev);
}

/* dns_retire with an answer held: delivered, then the context goes
 * (ASan sees a use after free or a leak). */
static void
test_query_retire_held(void **state)
{
	struct qrun q;

	(void)state;
	qrun_open(&q);
	q.want = 1;
	dns_query(q.d, BADLABEL ".example.test", DNS_A, qrun_cb, &q);
	dns_retire(q.d);
	qrun_loop(&q);
	if (q.calls != 1 || q.last != DNS_ERROR)
		fail_msg("retired: got %d callbacks, status %d; want 1, "
		    "DNS_ERROR", q.calls, q.last);
	/* One more turn runs the deferred destruction. */
	q.want = 0;
	assert_int_equal(evloop_defer(q.ev, qrun_timeout, q.ev), 0);
	assert_int_equal(evloop_run(q.ev), 0);
	evloop_free(q.ev);
}

int
main(void)
{
	struct CMUnitTest t[sizeof(pcases) / sizeof(pcases[0]) +
	    sizeof(tcases) / sizeof(tcases[0]) + 7];
	char names[sizeof(pcases) / sizeof(pcases[0]) +
	    sizeof(tcases) / sizeof(tcases[0]) + 7][96];
	size_t n = 0;

	CASES(pcases, test_parse);
	CASES(tcases, test_parse_txt);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_parse_txt_cut);
	t[n].name = "parse_prefixes";
	t[n].test_func = test_parse_prefixes;
	t[n].setup_func = NULL;
	t[n].teardown_func = NULL;
	t[n].initial_state = NULL;
	n++;
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_query_never_inside);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_query_raw_never_inside);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_query_from_callback);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_query_free_held);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_query_retire_held);
	return _cmocka_run_group_tests("dns", t, n, NULL, NULL);
}
