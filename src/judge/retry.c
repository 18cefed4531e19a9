/*
 * retry.c - tempfail's second chance: keys and the reading of the kernel's
 * wait and retry elements.  See retry.h; pure and unit-tested
 * (tests/unit/test_retry.c).
 */
#include <stdio.h>
#include <sys/socket.h>

#include "retry.h"

unsigned
retry_key_plen(const struct conf_gate *g, int family)
{
	if (family == AF_INET)
		return g->retry_by_prefix ? g->retry_prefix4 : 32;
	return g->retry_by_prefix ? g->retry_prefix6 : 128;
}

void
retry_key(const struct conf_gate *g, const struct addr *a, struct addr *key)
{
	addr_mask(key, a, retry_key_plen(g, a->family));
}

void
retry_status_of(const struct retry_elem *wait, const struct retry_elem *retry,
    struct retry_status *out)
{
	*out = (struct retry_status){ .phase = RETRY_NONE };
	if (retry->present) {
		out->age_known = true;
		/* An element dumped in the same millisecond it was added may
		 * show expires == timeout; never a negative age. */
		out->age_ms = retry->timeout_ms > retry->expires_ms ?
		    retry->timeout_ms - retry->expires_ms : 0;
		out->window_left_ms = retry->expires_ms;
		out->phase = RETRY_READY;
	}
	if (wait->present) {
		out->phase = RETRY_WAITING;
		out->pass_in_ms = wait->expires_ms;
	}
}

const char *
retry_phase_name(enum retry_phase p)
{
	switch (p) {
	case RETRY_WAITING:
		return "waiting";
	case RETRY_READY:
		return "ready";
	default:
		return "none";
	}
}

/* Whole seconds, rounded up: "may pass in 3 s" is never too early. */
static unsigned long long
retry_secs_up(uint64_t ms)
{
	return (unsigned long long)((ms + 999) / 1000);
}

const char *
retry_advice(const struct conf_gate *g, const struct addr *a,
    const struct retry_status *st, char *buf, size_t len)
{
	char k[ADDR_STRLEN];
	struct addr key;
	unsigned plen = retry_key_plen(g, a->family);
	unsigned full = a->family == AF_INET ? 32 : 128;
	char from[ADDR_STRLEN + 48];

	retry_key(g, a, &key);
	addr_ntop(&key, k);
	if (plen == full)
		snprintf(from, sizeof from, "from %s itself", k);
	else
		snprintf(from, sizeof from, "from any address of %s/%u", k,
		    plen);
	if (st == NULL || st->phase == RETRY_NONE)
		snprintf(buf, len, "tempfail: this SYN would be refused; a "
		    "retry %s at least %u s and at most %u s later passes in "
		    "the kernel and is cached for %u s (pass_ttl)", from,
		    g->retry_min_s, g->retry_window_s, g->pass_ttl_s);
	else if (st->phase == RETRY_WAITING)
		snprintf(buf, len, "tempfail: waiting; a retry %s passes in "
		    "%llu s (sooner is refused, without resetting the clock), "
		    "until %llu s from now", from,
		    retry_secs_up(st->pass_in_ms),
		    (unsigned long long)(st->window_left_ms / 1000));
	else
		snprintf(buf, len, "tempfail: ready; a retry %s passes now, "
		    "for %llu s more", from,
		    (unsigned long long)(st->window_left_ms / 1000));
	return buf;
}
