/*
 * fuzz_allowlist.c - libFuzzer target over allowlist_parse, the format
 * round trip and allowlist_wanted.
 *
 * Input: the text of an allow file.  Checks the parser's promises: on
 * failure an empty list and a "fuzz:LINE: reason" message; on success
 * every entry valid (prefix without host bits, printable comment), the
 * formatted text parses back to the same list, and the kernel's merged
 * set holds no prefix inside another.
 *
 * Build: see tests/run-fuzz.sh.  Corpus: fuzz/corpus/allowlist/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "allowlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf_gate g;	/* no trusted networks */
	struct allowlist l, m;
	struct prefix *want;
	char err[512], *text;
	ssize_t n;

	allowlist_init(&l);
	allowlist_init(&m);
	if (allowlist_parse("fuzz", (const char *)data, size, &l, err,
	    sizeof(err)) != 0) {
		if (l.n != 0 || strncmp(err, "fuzz:", 5) != 0)
			FUZZ_FAIL();
		allowlist_free(&l);
		return 0;
	}
	if (l.n > ALLOWLIST_MAX)
		FUZZ_FAIL();
	for (size_t i = 0; i < l.n; i++) {
		if (allowlist_comment_check(l.e[i].comment) != NULL ||
		    l.e[i].p.len == 0 || l.e[i].p.len >
		    (l.e[i].p.a.family == AF_INET ? 32 : 128))
			FUZZ_FAIL();
		if (allowlist_find(&l, &l.e[i].p) != (ssize_t)i)
			FUZZ_FAIL();	/* duplicates are refused */
	}
	if ((text = allowlist_format(&l)) == NULL)
		FUZZ_FAIL();
	if (allowlist_parse("again", text, strlen(text), &m, err,
	    sizeof(err)) != 0 || m.n != l.n)
		FUZZ_FAIL();
	for (size_t i = 0; i < l.n; i++)
		if (memcmp(&l.e[i], &m.e[i], sizeof(l.e[i])) != 0)
			FUZZ_FAIL();
	free(text);
	want = calloc(l.n + 2, sizeof(*want));
	if (want == NULL)
		FUZZ_FAIL();
	n = allowlist_wanted(&l, &g, 1000000000, want, l.n + 2, NULL);
	if (n < 2)
		FUZZ_FAIL();	/* loopback is always there */
	for (ssize_t i = 0; i < n; i++)
		for (ssize_t j = 0; j < n; j++)
			if (i != j && want[i].a.family == want[j].a.family &&
			    want[i].len <= want[j].len &&
			    prefix_contains(&want[i], &want[j].a))
				FUZZ_FAIL();
	free(want);
	allowlist_free(&l);
	allowlist_free(&m);
	return 0;
}
