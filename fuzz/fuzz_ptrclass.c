/*
 * fuzz_ptrclass.c - libFuzzer target for ptrclass_classify().
 *
 * An input is split into a client address and a PTR name, in one of two
 * forms, so the kept corpus can be written by hand and the fuzzer can
 * still reach every byte pattern:
 *   text:   "ADDR<TAB>NAME" (ADDR parsed with inet_pton; the name may hold
 *           any bytes, NUL included, which classify sees up to the NUL);
 *   binary: first byte: bit 0 IPv6, bit 1 forward-confirmed; then 4 or 16
 *           address bytes; the rest is the name.
 * The context (Public Suffix List, the tree's provider table) is built
 * once.  Checks: the class is one of the enum's values and the reason is
 * a terminated string of printable ASCII.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "ptrclass.h"

#define FUZZ_NAME_MAX 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ptrclass *fuzz_ptrclass_ctx(void)
{
	static struct ptrclass *pc;
	static int tried;
	char err[512];

	if (!tried) {
		tried = 1;
		pc = ptrclass_new(SHAREDIR "/ptr-providers.conf", err,
		    sizeof(err));
		if (pc == NULL)
			pc = ptrclass_new("data/ptr-providers.conf", err,
			    sizeof(err));
		if (pc == NULL) {
			fprintf(stderr, "fuzz_ptrclass: %s\n", err);
			FUZZ_FAIL();
		}
	}
	return pc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[FUZZ_NAME_MAX + 1], text[64];
	const uint8_t *tab = memchr(data, '\t', size < 64 ? size : 64);
	struct addr a;
	struct ptr_verdict v;
	bool confirmed = false;
	size_t n, i;

	memset(&a, 0, sizeof(a));
	if (tab != NULL) {
		memcpy(text, data, (size_t)(tab - data));
		text[tab - data] = '\0';
		if (inet_pton(AF_INET, text, a.b) == 1)
			a.family = AF_INET;
		else if (inet_pton(AF_INET6, text, a.b) == 1)
			a.family = AF_INET6;
		else
			a.family = AF_INET;	/* 0.0.0.0 */
		confirmed = true;
		size -= (size_t)(tab + 1 - data);
		data = tab + 1;
	} else {
		size_t alen;

		if (size < 1)
			return 0;
		a.family = (data[0] & 1) ? AF_INET6 : AF_INET;
		confirmed = (data[0] & 2) != 0;
		alen = a.family == AF_INET6 ? 16 : 4;
		if (size < 1 + alen)
			return 0;
		memcpy(a.b, data + 1, alen);
		data += 1 + alen;
		size -= 1 + alen;
	}
	n = size < FUZZ_NAME_MAX ? size : FUZZ_NAME_MAX;
	memcpy(name, data, n);
	name[n] = '\0';

	ptrclass_classify(fuzz_ptrclass_ctx(), name, &a, confirmed, &v);
	if (v.cls != PTR_NAMED && v.cls != PTR_GENERIC &&
	    v.cls != PTR_STATIC_GENERIC && v.cls != PTR_INVALID)
		FUZZ_FAIL();
	if (memchr(v.reason, '\0', sizeof(v.reason)) == NULL)
		FUZZ_FAIL();
	for (i = 0; v.reason[i] != '\0'; i++)
		if (v.reason[i] < 0x20 || v.reason[i] > 0x7e)
			FUZZ_FAIL();
	return 0;
}
