/*
 * sniff_clean.c - the clean-judgment cache: a HELO name or MAIL FROM
 * domain that a client's judgment found clean, with every answer in, is
 * not looked up again for that client for [sniffer] clean_ttl (contract
 * in sniff_int.h).
 *
 * Direct-mapped (SNIFF_CLEAN_SLOTS entries, allocated once by
 * sniff_clean_new and freed with the sniffer): a new entry replaces
 * whatever had its slot.  The name is kept as a 64-bit hash keyed with
 * s->clean_key (random at start): a collision could only skip one
 * lookup, and an attacker cannot make one without the key.
 */
#include <stdlib.h>
#include <string.h>

#include "sniff_int.h"

#define SNIFF_CLEAN_SLOTS	65536	/* power of 2 */

/* A clean DNS/SPF judgment of (client, kind, name). */
struct sniff_clean {
	struct addr client;
	uint8_t kind;			/* enum sniff_judge_kind */
	uint64_t name_hash;		/* SipHash of the canonical name */
	int64_t until_ms;		/* 0: empty */
};

struct sniff_clean *
sniff_clean_new(void)
{
	return calloc(SNIFF_CLEAN_SLOTS, sizeof(struct sniff_clean));
}

static uint64_t
sniff_clean_name_hash(const struct sniff *s, const char *name)
{
	return siphash24(&s->clean_key, name, strlen(name));
}

static struct sniff_clean *
sniff_clean_slot(struct sniff *s, const struct addr *client,
    enum sniff_judge_kind kind, uint64_t nh)
{
	uint64_t h = nh ^ ((uint64_t)addr_hash(&s->clean_key, client) << 1) ^
	    (uint64_t)kind;

	h ^= h >> 29;
	return &s->clean[h & (SNIFF_CLEAN_SLOTS - 1)];
}

bool
sniff_clean_hit(struct sniff *s, const struct addr *client,
    enum sniff_judge_kind kind, const char *name)
{
	uint64_t nh = sniff_clean_name_hash(s, name);
	struct sniff_clean *c = sniff_clean_slot(s, client, kind, nh);

	if (c->until_ms <= evloop_now_ms(s->ev) || c->kind != kind ||
	    c->name_hash != nh || !addr_eq(&c->client, client))
		return false;
	s->st.clean_hits++;
	return true;
}

void
sniff_clean_put(struct sniff *s, const struct addr *client,
    enum sniff_judge_kind kind, const char *name)
{
	uint64_t nh = sniff_clean_name_hash(s, name);
	struct sniff_clean *c;

	if (s->conf.sniffer.clean_ttl_s == 0)
		return;
	c = sniff_clean_slot(s, client, kind, nh);
	c->client = *client;
	c->kind = (uint8_t)kind;
	c->name_hash = nh;
	c->until_ms = evloop_now_ms(s->ev) +
	    (int64_t)s->conf.sniffer.clean_ttl_s * 1000;
}
