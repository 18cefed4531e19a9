/*
 * siphash.h - SipHash-2-4, the keyed hash of Aumasson and Bernstein
 * ("SipHash: a fast short-input PRF", 2012), for hash tables whose keys an
 * attacker chooses (client addresses, HELO names).
 *
 * An unkeyed hash lets an attacker pick keys that share one chain (2,000
 * IPv6 addresses of one /64 collided in the low 16 bits of FNV-1a, and a
 * walk of that chain cost 15 us per SYN).  With a secret random key per
 * table, which keys collide cannot be predicted or learnt from timing.
 *
 * A key is state, not a global: each table draws its own with
 * siphash_key_random when it is created and passes it to every hash.
 */
#ifndef SMTPGATE_SIPHASH_H
#define SMTPGATE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;	/* the 128-bit key, as two little-endian words */
};

/* SipHash-2-4 of len bytes at data under k. */
uint64_t siphash24(const struct siphash_key *k, const void *data, size_t len);

/* The key from 16 bytes, little-endian (the paper's byte order). */
void siphash_key_from_bytes(struct siphash_key *k, const uint8_t b[16]);

/*
 * A fresh random key from getrandom(2) (the kernel's CSPRNG; blocks only
 * before the pool is first seeded at boot).  0, or -1 with errno.
 */
int siphash_key_random(struct siphash_key *k);

#endif
