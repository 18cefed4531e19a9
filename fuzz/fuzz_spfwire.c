/*
 * fuzz_spfwire.c - libFuzzer target for the SPF helper messages, which the
 * daemon decodes from helpers that run libspf2 on hostile records (a
 * helper taken over could send anything).
 *
 * Every input is decoded; a message that decodes must encode again to the
 * same bytes (the format has one spelling per message) and decode to the
 * same fields.  The input is copied to a block of exactly its size so ASan
 * sees a read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "spfwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[SPFWIRE_MSG_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = malloc(size ? size : 1);
	struct spfwire_msg m, m2;
	const char *why;
	size_t n;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	if (spfwire_decode(in, size, &m, &why) == 0) {
		n = spfwire_encode(&m, out, sizeof(out));
		if (n != size || memcmp(out, in, size) != 0)
			FUZZ_FAIL();
		if (spfwire_decode(out, n, &m2, &why) != 0 ||
		    m2.type != m.type || m2.id != m.id)
			FUZZ_FAIL();
		if (m.type == SPFWIRE_DNSA && (m.u.dnsa.len != m2.u.dnsa.len ||
		    memcmp(m.u.dnsa.answer, m2.u.dnsa.answer,
		    m.u.dnsa.len) != 0))
			FUZZ_FAIL();
	} else if (why == NULL) {
		FUZZ_FAIL();
	}
	free(in);
	return 0;
}
