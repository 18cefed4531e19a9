/*
 * fuzz_allowshare.c - libFuzzer target over allowshare_parse (the shared
 * allow list's file, allow.shared, and smtpgated's allow-shared lines
 * read back by smtpgatectl) and its format round trip.
 *
 * Input: the text of the file.  Checks the parser's promises: on failure
 * an empty list and a "fuzz:LINE: reason" message; on success every
 * entry within the bounds (allowshare_check), sorted with no repeat, the
 * formatted text parses back to the same list.
 *
 * Build: see tests/run-fuzz.sh.  Corpus: fuzz/corpus/allowshare/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "allowshare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowshare s, t;
	char err[512], *text;

	allowshare_init(&s);
	allowshare_init(&t);
	if (allowshare_parse("fuzz", (const char *)data, size, &s, err,
	    sizeof(err)) != 0) {
		if (s.n != 0 || strncmp(err, "fuzz:", 5) != 0)
			FUZZ_FAIL();
		return 0;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (allowshare_check(&s.e[i].p) != NULL)
			FUZZ_FAIL();
		if (i > 0 && prefix_cmp(&s.e[i - 1].p, &s.e[i].p) >= 0)
			FUZZ_FAIL();
	}
	if ((text = allowshare_format(&s)) == NULL)
		FUZZ_FAIL();
	if (allowshare_parse("again", text, strlen(text), &t, err,
	    sizeof(err)) != 0 || t.n != s.n)
		FUZZ_FAIL();
	for (size_t i = 0; i < s.n; i++)
		if (prefix_cmp(&s.e[i].p, &t.e[i].p) != 0 ||
		    strcmp(s.e[i].node, t.e[i].node) != 0)
			FUZZ_FAIL();
	free(text);
	allowshare_free(&s);
	allowshare_free(&t);
	return 0;
}
