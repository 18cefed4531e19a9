/*
 * ratelimit.c - token buckets per prefix in a bounded table (ratelimit.h).
 *
 * Exports ratelimit_new, _free, _set, _take, _stats, _longest_chain.  The
 * table owns a fixed pool of entries, allocated at once: a flood of new
 * prefixes costs no allocation and no more memory, only evictions (least
 * recently used first, from the pool's LRU list).  Tokens are kept in
 * thousandths, so a rate of a few a second refills smoothly per
 * millisecond.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RL_MILLI	1000	/* a token in thousandths */

struct rl_entry {
	struct rl_entry *next;		/* hash chain */
	struct rl_entry *older, *newer;	/* LRU list */
	struct addr key;
	uint64_t milli;			/* tokens left, in thousandths */
	int64_t last_ms;		/* last refill */
};

struct ratelimit {
	struct siphash_key hkey;	/* random: keys the chains' hash */
	struct rl_entry **bucket;
	size_t nbuckets;		/* power of two, >= 2 * max */
	struct rl_entry *pool;		/* max entries */
	size_t max, used;		/* pool size; entries ever used */
	struct rl_entry *oldest, *newest;	/* LRU list of used entries */
	uint64_t cap_milli;		/* burst, in thousandths */
	uint64_t rate;			/* tokens a second = thousandths a ms */
	struct ratelimit_stats st;
};

struct ratelimit *
ratelimit_new(size_t max_keys, uint32_t burst, uint32_t rate)
{
	struct ratelimit *rl;

	if (max_keys == 0 || max_keys > ((size_t)1 << 28)) {
		errno = EINVAL;
		return NULL;
	}
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	for (rl->nbuckets = 2; rl->nbuckets < 2 * max_keys; rl->nbuckets *= 2)
		;
	rl->max = max_keys;
	if ((rl->bucket = calloc(rl->nbuckets, sizeof(*rl->bucket))) == NULL ||
	    (rl->pool = calloc(max_keys, sizeof(*rl->pool))) == NULL ||
	    siphash_key_random(&rl->hkey) == -1) {
		int e = errno;

		ratelimit_free(rl);
		errno = e;
		return NULL;
	}
	ratelimit_set(rl, burst, rate);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->bucket);
	free(rl->pool);
	free(rl);
}

void
ratelimit_set(struct ratelimit *rl, uint32_t burst, uint32_t rate)
{
	rl->cap_milli = (uint64_t)burst * RL_MILLI;
	rl->rate = rate;
	for (size_t i = 0; i < rl->used; i++)
		if (rl->pool[i].milli > rl->cap_milli)
			rl->pool[i].milli = rl->cap_milli;
}

static struct rl_entry **
rl_slot(struct ratelimit *rl, const struct addr *key)
{
	return &rl->bucket[addr_hash(&rl->hkey, key) & (rl->nbuckets - 1)];
}

static void
rl_lru_unlink(struct ratelimit *rl, struct rl_entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		rl->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		rl->newest = e->older;
	e->older = e->newer = NULL;
}

static void
rl_lru_push(struct ratelimit *rl, struct rl_entry *e)
{
	e->older = rl->newest;
	e->newer = NULL;
	if (rl->newest != NULL)
		rl->newest->newer = e;
	else
		rl->oldest = e;
	rl->newest = e;
}

/* An entry for a new key: a fresh one from the pool, or the oldest. */
static struct rl_entry *
rl_claim(struct ratelimit *rl)
{
	struct rl_entry *e;

	if (rl->used < rl->max) {
		rl->st.keys = rl->used + 1;
		return &rl->pool[rl->used++];
	}
	e = rl->oldest;
	rl_lru_unlink(rl, e);
	for (struct rl_entry **p = rl_slot(rl, &e->key); *p != NULL;
	    p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	rl->st.evicted++;
	return e;
}

bool
ratelimit_take(struct ratelimit *rl, const struct addr *key, int64_t now_ms)
{
	struct rl_entry **slot = rl_slot(rl, key), *e;

	for (e = *slot; e != NULL; e = e->next)
		if (addr_eq(&e->key, key))
			break;
	if (e == NULL) {
		e = rl_claim(rl);
		e->key = *key;
		e->milli = rl->cap_milli;
		e->last_ms = now_ms;
		e->next = *rl_slot(rl, key);	/* the claim may change chains */
		*rl_slot(rl, key) = e;
	} else {
		rl_lru_unlink(rl, e);
		if (now_ms > e->last_ms) {
			uint64_t add = (uint64_t)(now_ms - e->last_ms) * rl->rate;

			e->milli = add >= rl->cap_milli - e->milli ?
			    rl->cap_milli : e->milli + add;
			e->last_ms = now_ms;
		}
	}
	rl_lru_push(rl, e);
	if (e->milli < RL_MILLI) {
		rl->st.refused++;
		return false;
	}
	e->milli -= RL_MILLI;
	rl->st.taken++;
	return true;
}

const struct ratelimit_stats *
ratelimit_stats(const struct ratelimit *rl)
{
	return &rl->st;
}

size_t
ratelimit_longest_chain(const struct ratelimit *rl)
{
	size_t max = 0;

	for (size_t b = 0; b < rl->nbuckets; b++) {
		size_t n = 0;

		for (const struct rl_entry *e = rl->bucket[b]; e; e = e->next)
			n++;
		if (n > max)
			max = n;
	}
	return max;
}
