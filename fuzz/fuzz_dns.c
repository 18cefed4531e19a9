/*
 * fuzz_dns.c - libFuzzer target over dns_parse, the answer parser the gate
 * runs on every PTR, A and AAAA answer it receives, and dns_parse_txt,
 * which smtpgatectl identity runs on TXT answers.
 *
 * Input: one byte choosing the query type (low two bits: 0 PTR, 1 A,
 * 2 AAAA, 3 TXT), then the DNS message as it came off the wire.  The
 * message is copied to a buffer of exactly its size, so ASan sees any
 * read past its end.  Checks the result's promises (dns.h): a known
 * status; an error reason exactly when DNS_ERROR; at most DNS_MAX_NAMES
 * names, each a non-empty terminated string of printable ASCII without
 * space or backslash, none repeated; the escaped bad name terminated and
 * printable, with a reason, when DNS_BADNAME; at most DNS_MAX_ADDRS
 * addresses, all of the queried family; names only for PTR, addresses
 * only for A and AAAA.  For TXT: a known status, an error reason exactly
 * when DNS_ERROR, records only when DNS_OK and then at least one, at most
 * DNS_TXT_MAX_RECORDS of at most DNS_TXT_MAX_STRINGS strings, each inside
 * the text used, which is inside the buffer; identity_spf_read of it:
 * counts within the records, texts terminated and printable.
 *
 * Build: tests/run-fuzz.sh (make fuzz FUZZ_TARGETS=fuzz/fuzz_dns.c)
 * Corpus: fuzz/corpus/dns/ (hand-built answers: valid, truncated,
 * compression loops, bad names, huge counts; txt-* the TXT ones)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "dns.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_txt(const unsigned char *msg, size_t len)
{
	static struct dns_txt t;

	memset(&t, 0x5a, sizeof(t));
	dns_parse_txt(msg, len, &t);
	switch (t.status) {
	case DNS_OK:
		if (t.nrecords == 0)
			FUZZ_FAIL();
		/* FALLTHROUGH */
	case DNS_NXDOMAIN: case DNS_NODATA:
		if (t.error != NULL)
			FUZZ_FAIL();
		break;
	case DNS_ERROR:
		if (t.error == NULL)
			FUZZ_FAIL();
		break;
	default:
		FUZZ_FAIL();
	}
	if (t.status != DNS_OK && (t.nrecords || t.nmore || t.used))
		FUZZ_FAIL();
	if (t.nrecords > DNS_TXT_MAX_RECORDS || t.used > DNS_TXT_TEXT_MAX)
		FUZZ_FAIL();
	for (size_t i = 0; i < t.nrecords; i++) {
		const struct dns_txt_record *r = &t.rec[i];

		if (r->nstrings > DNS_TXT_MAX_STRINGS)
			FUZZ_FAIL();
		for (size_t j = 0; j < r->nstrings; j++)
			if ((size_t)r->s[j].off + r->s[j].len > t.used)
				FUZZ_FAIL();
	}
	if (t.status == DNS_OK) {
		struct identity_spf s;

		identity_spf_read(&t, &s);
		if (s.nspf + s.nbroken > t.nrecords ||
		    s.rec >= (int)t.nrecords || (s.rec == -1) !=
		    (s.nspf + s.nbroken == 0))
			FUZZ_FAIL();
		for (size_t i = 0; i < 2; i++) {
			const char *x = i ? s.spaced : s.joined;
			size_t n = strnlen(x, IDENTITY_SPF_TEXT);

			if (n == IDENTITY_SPF_TEXT)
				FUZZ_FAIL();
			for (size_t k = 0; k < n; k++)
				if (x[k] < 0x20 || x[k] >= 0x7f)
					FUZZ_FAIL();
		}
	}
}

static int
fuzz_printable(const char *s, size_t max, int allow_escapes)
{
	size_t n = strnlen(s, max);

	if (n == max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return 0;
		if (c == '\\' && !allow_escapes)
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[3] = { DNS_PTR, DNS_A, DNS_AAAA };
	enum dns_type type;
	struct dns_result r;
	unsigned char *msg;

	if (size < 1)
		return 0;
	if ((msg = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(msg, data + 1, size - 1);
	if ((data[0] & 3) == 3) {
		fuzz_txt(msg, size - 1);
		free(msg);
		return 0;
	}
	type = types[data[0] & 3];
	memset(&r, 0x5a, sizeof(r));
	dns_parse(msg, size - 1, type, &r);
	free(msg);

	switch (r.status) {
	case DNS_OK: case DNS_NXDOMAIN: case DNS_NODATA: case DNS_BADNAME:
		if (r.error != NULL)
			FUZZ_FAIL();
		break;
	case DNS_ERROR:
		if (r.error == NULL || r.nnames || r.naddrs || r.nbad)
			FUZZ_FAIL();
		break;
	default:
		FUZZ_FAIL();	/* dns_parse never cancels */
	}
	if (r.nnames > DNS_MAX_NAMES || r.naddrs > DNS_MAX_ADDRS)
		FUZZ_FAIL();
	if (type != DNS_PTR && (r.nnames || r.nbad))
		FUZZ_FAIL();
	if (type == DNS_PTR && r.naddrs)
		FUZZ_FAIL();
	if (r.status == DNS_OK && r.nnames == 0 && r.naddrs == 0)
		FUZZ_FAIL();
	for (size_t i = 0; i < r.nnames; i++) {
		if (r.names[i][0] == '\0' ||
		    !fuzz_printable(r.names[i], DNS_NAME_MAX, 0))
			FUZZ_FAIL();
		for (size_t j = 0; j < i; j++)
			if (strcmp(r.names[i], r.names[j]) == 0)
				FUZZ_FAIL();
	}
	if (!fuzz_printable(r.bad, DNS_NAME_MAX, 1))
		FUZZ_FAIL();
	if ((r.nbad > 0) != (r.bad_why != NULL) ||
	    (r.status == DNS_BADNAME && (r.nbad == 0 || r.nnames > 0)))
		FUZZ_FAIL();
	for (size_t i = 0; i < r.naddrs; i++)
		if (r.addrs[i].family != (type == DNS_A ? AF_INET : AF_INET6))
			FUZZ_FAIL();
	return 0;
}
