/*
 * fuzz_pkt.c - libFuzzer target for pkt_parse.
 *
 * The input is a queued packet from the IP header on.  It is copied to a
 * block of exactly its size so ASan sees any read past the end, and a
 * successful parse is checked for the invariants callers rely on: the
 * payload lies inside the buffer, addresses have a known family and IPv4
 * leaves the rest of the address zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_pkt_check_addr(const struct addr *a)
{
	static const uint8_t zero[12];

	if (a->family == AF_INET) {
		if (memcmp(a->b + 4, zero, sizeof(zero)) != 0)
			FUZZ_FAIL();
	} else if (a->family != AF_INET6) {
		FUZZ_FAIL();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	const char *why = NULL;
	struct pkt p;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (pkt_parse(buf, size, &p, &why) == 0) {
		if (p.payload < buf || p.payload > buf + size ||
		    p.payload_len > (size_t)(buf + size - p.payload))
			FUZZ_FAIL();
		fuzz_pkt_check_addr(&p.src);
		fuzz_pkt_check_addr(&p.dst);
	} else if (why == NULL) {
		FUZZ_FAIL();
	}
	free(buf);
	return 0;
}
