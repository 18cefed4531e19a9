/*
 * fuzz_banner.c - libFuzzer target over identity_banner_parse, which
 * smtpgatectl identity --connect runs on the bytes a server on port 25
 * sends before it is asked anything.
 *
 * Input: the bytes as read.  They are copied to a buffer of exactly
 * their size, so ASan sees any read past the end.  Checks the promises
 * (identity.h): a known state; a reason exactly when malformed; the code
 * below 1000; the name "" or a host name of lower case (identity_labels
 * > 0); the first line escaped: terminated, printable ASCII only; parsing
 * a longer input (more bytes appended) never turns DONE or MALFORMED back
 * into PARTIAL.
 *
 * Build: tests/run-fuzz.sh (make fuzz FUZZ_TARGETS=fuzz/fuzz_banner.c)
 * Corpus: fuzz/corpus/banner/ (greetings: one line, multi-line, partial,
 * refusals, hostile bytes, not SMTP)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_banner_check(const struct identity_banner *b)
{
	size_t n;

	if (b->state != IDENTITY_BANNER_PARTIAL &&
	    b->state != IDENTITY_BANNER_DONE &&
	    b->state != IDENTITY_BANNER_MALFORMED)
		FUZZ_FAIL();
	if ((b->state == IDENTITY_BANNER_MALFORMED) != (b->why != NULL))
		FUZZ_FAIL();
	if (b->code >= 1000)
		FUZZ_FAIL();
	if ((n = strnlen(b->name, sizeof(b->name))) == sizeof(b->name))
		FUZZ_FAIL();
	if (n > 0 && identity_labels(b->name) == 0)
		FUZZ_FAIL();
	for (size_t i = 0; i < n; i++)
		if (b->name[i] >= 'A' && b->name[i] <= 'Z')
			FUZZ_FAIL();
	if ((n = strnlen(b->first, sizeof(b->first))) == sizeof(b->first))
		FUZZ_FAIL();
	for (size_t i = 0; i < n; i++)
		if (b->first[i] < 0x20 || b->first[i] >= 0x7f)
			FUZZ_FAIL();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity_banner b, more;
	unsigned char *buf;

	if ((buf = malloc(size + 8)) == NULL)
		return 0;
	memcpy(buf, data, size);
	identity_banner_parse(buf, size, &b);
	fuzz_banner_check(&b);
	memcpy(buf + size, "220 x\r\n\n", 8);
	identity_banner_parse(buf, size + 8, &more);
	fuzz_banner_check(&more);
	if (b.state != IDENTITY_BANNER_PARTIAL && size <= IDENTITY_BANNER_MAX &&
	    (more.state != b.state || more.code != b.code ||
	    more.lines != b.lines))
		FUZZ_FAIL();
	free(buf);
	return 0;
}
