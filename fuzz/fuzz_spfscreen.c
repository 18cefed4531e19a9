/*
 * fuzz_spfscreen.c - libFuzzer target for the TXT screen in front of
 * libspf2.  Any bytes are a record; the verdict must hold what the
 * screen promises: an SPF record it passes is within SPFSCREEN_RECORD_MAX
 * and every term of it within SPFSCREEN_TERM_MAX bytes and
 * SPFSCREEN_MACROS_MAX expansions; a refusal or a drop has a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "spfscreen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	const char *why = NULL;
	enum spfscreen_verdict v;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	v = spfscreen_txt(in, size, &why);
	if (v != SPFSCREEN_OK && why == NULL)
		FUZZ_FAIL();
	if (v == SPFSCREEN_OK && spfscreen_is_spf(in, size)) {
		size_t i = 0;

		if (size > SPFSCREEN_RECORD_MAX)
			FUZZ_FAIL();
		while (i < size) {
			size_t j = i, k = 0;

			while (j < size && in[j] != ' ')
				j++;
			if (j - i > SPFSCREEN_TERM_MAX)
				FUZZ_FAIL();
			for (size_t x = i; x + 1 < j; x++)
				if (in[x] == '%' && in[x + 1] == '{')
					k++, x++;
				else if (in[x] == '%')
					x++;
			if (k > SPFSCREEN_MACROS_MAX)
				FUZZ_FAIL();
			i = j + 1;
		}
	}
	if (v == SPFSCREEN_REFUSE && !spfscreen_is_spf(in, size))
		FUZZ_FAIL();
	free(in);
	return 0;
}
