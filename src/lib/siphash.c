/*
 * siphash.c - SipHash-2-4 (siphash.h), written from the paper: J.-P.
 * Aumasson, D. J. Bernstein, "SipHash: a fast short-input PRF", 2012,
 * section 2 (two compression rounds per 8-byte word, four finalisation
 * rounds).  tests/unit/test_siphash.c checks the 64 reference vectors of
 * the paper's appendix (key 00..0f, messages 00, 00 01, ...).
 *
 * Exports siphash24, siphash_key_from_bytes and siphash_key_random.  No
 * state of its own: the caller keeps its key.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

#define SIP_ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound (the paper's figure 2.1). */
#define SIP_ROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
} while (0)

static uint64_t
sip_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

uint64_t
siphash24(const struct siphash_key *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	/* Initialisation: the key xored into "somepseudorandomlygeneratedbytes". */
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ull;
	uint64_t m, last = (uint64_t)(len & 0xff) << 56;
	size_t i, end = len - len % 8;

	/* Compression: each little-endian word m, two rounds. */
	for (i = 0; i < end; i += 8) {
		m = sip_le64(p + i);
		v3 ^= m;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The last word: the 0-7 bytes left, and len mod 256 on top. */
	for (i = 0; i < len % 8; i++)
		last |= (uint64_t)p[end + i] << (8 * i);
	v3 ^= last;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= last;
	/* Finalisation: four rounds. */
	v2 ^= 0xff;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void
siphash_key_from_bytes(struct siphash_key *k, const uint8_t b[16])
{
	k->k0 = sip_le64(b);
	k->k1 = sip_le64(b + 8);
}

int
siphash_key_random(struct siphash_key *k)
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	siphash_key_from_bytes(k, b);
	memset(b, 0, sizeof(b));
	return 0;
}
