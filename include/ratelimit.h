/*
 * ratelimit.h - token buckets per network prefix, in a bounded table: how
 * the gate paces new lookups per IPv4 /24 and IPv6 /64.
 *
 * Each key (an address the caller has masked to its prefix) has a bucket
 * of burst tokens that refills at rate tokens a second; ratelimit_take
 * spends one.  The table holds at most a fixed number of keys; a new key
 * when it is full takes the place of the least recently used one (whose
 * bucket has most likely refilled: a full bucket and no entry mean the
 * same).  Keys are hashed with SipHash under a random key of the table's
 * own, so chosen prefixes cannot share a chain.
 *
 * Single-threaded; times are the caller's monotonic milliseconds.
 */
#ifndef SMTPGATE_RATELIMIT_H
#define SMTPGATE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct ratelimit;

struct ratelimit_stats {
	uint64_t taken;			/* tokens spent */
	uint64_t refused;		/* takes without a token */
	uint64_t evicted;		/* keys pushed out by new ones */
	size_t keys;			/* keys in the table now */
};

/*
 * A table of at most max_keys keys (>= 1), burst tokens per bucket, rate
 * tokens a second.  NULL with errno (ENOMEM, or what getrandom said).
 */
struct ratelimit *ratelimit_new(size_t max_keys, uint32_t burst,
    uint32_t rate);
void ratelimit_free(struct ratelimit *rl);
/* New burst and rate (a reload); buckets keep their tokens, capped. */
void ratelimit_set(struct ratelimit *rl, uint32_t burst, uint32_t rate);

/* Spend one of key's tokens at now_ms: true, or false when it has none. */
bool ratelimit_take(struct ratelimit *rl, const struct addr *key,
    int64_t now_ms);

const struct ratelimit_stats *ratelimit_stats(const struct ratelimit *rl);
/* The longest hash chain now (tests: hash flooding). */
size_t ratelimit_longest_chain(const struct ratelimit *rl);

#endif
