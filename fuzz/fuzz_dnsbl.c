/*
 * fuzz_dnsbl.c - libFuzzer target over dnsbl_parse and dnsbl_score_zone.
 *
 * Input: a postscreen_dnsbl_sites value, optionally followed by a NUL byte
 * and raw answer bytes (4 per answer, network order).  Checks the parser's
 * invariants on success (zone indexes in range, zones distinct, entry text
 * bounded) and its promises on failure (no sites, an "entry '" message),
 * then scores every zone against the answers.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
 *        fuzz/fuzz_dnsbl.c src/judge/dnsbl.c -o build/fuzz_dnsbl
 * Corpus: fuzz/corpus/dnsbl/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dnsbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsbl_sites s;
	char value[4096], err[512];
	uint32_t answers[16];
	size_t vlen, nans = 0, i, j;
	const uint8_t *nul;

	nul = memchr(data, '\0', size);
	vlen = nul != NULL ? (size_t)(nul - data) : size;
	if (vlen >= sizeof value)
		return 0;
	memcpy(value, data, vlen);
	value[vlen] = '\0';
	if (nul != NULL)
		for (i = vlen + 1; i + 4 <= size && nans < 16; i += 4)
			answers[nans++] = (uint32_t)data[i] << 24 |
			    (uint32_t)data[i + 1] << 16 |
			    (uint32_t)data[i + 2] << 8 | data[i + 3];

	if (dnsbl_parse(value, &s, err, sizeof err) != 0) {
		if (s.nsites != 0 || s.nzones != 0 ||
		    strncmp(err, "entry '", 7) != 0)
			FUZZ_FAIL();
		return 0;
	}
	if (s.nsites > DNSBL_MAX_SITES || s.nzones > s.nsites)
		FUZZ_FAIL();
	for (i = 0; i < s.nsites; i++) {
		if (s.site[i].zone >= s.nzones ||
		    strlen(s.site[i].text) >= sizeof s.site[i].text)
			FUZZ_FAIL();
		/* The filter-less entry must accept every listing answer. */
		for (j = 0; j < nans; j++)
			if (!s.site[i].has_filter &&
			    dnsbl_answer_kind(answers[j]) ==
			    DNSBL_ANSWER_LISTED &&
			    !dnsbl_site_match(&s.site[i], answers[j]))
				FUZZ_FAIL();
	}
	for (i = 0; i < s.nzones; i++) {
		int errors;

		for (j = i + 1; j < s.nzones; j++)
			if (strcmp(s.zone[i], s.zone[j]) == 0)
				FUZZ_FAIL();
		(void)dnsbl_score_zone(&s, i, answers, nans, &errors);
		if (errors < 0 || (size_t)errors > nans)
			FUZZ_FAIL();
	}
	return 0;
}
