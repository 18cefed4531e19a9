/*
 * retry.h - tempfail's second chance, as arithmetic: the key a deferred
 * sender is remembered by, and what the kernel's two sets say about it.
 *
 * Pure (no I/O), shared by smtpgated (what it adds), smtpgatectl (cache
 * list, check) and the tests.  The mechanism (smtpgate.conf(5)):
 *  - A tempfail verdict refuses the SYN and adds the sender's key to
 *    wait4/6 with timeout retry_min and to retry4/6 with timeout
 *    retry_window.
 *  - In the kernel, a SYN whose key is in wait is refused (an early retry;
 *    nothing is written, so it does not reset the clock); one whose key is
 *    in retry but no longer in wait passes, and the rule adds its address
 *    to pass4/6 with timeout pass_ttl from the packet path.
 *  - The key: the address, or (retry_key = prefix) the address with all
 *    but its first retry_prefix4 / retry_prefix6 bits zero, so a retry from
 *    a sibling of the same pool counts.
 * Every time here is in milliseconds left or elapsed, as the kernel's
 * element dumps give them (timeout, expires).
 */
#ifndef SMTPGATE_RETRY_H
#define SMTPGATE_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

/* The key's prefix length for a's family: 32 / 128 for retry_key =
 * address. */
unsigned retry_key_plen(const struct conf_gate *g, int family);
/* a's key into *key (may be a). */
void retry_key(const struct conf_gate *g, const struct addr *a,
    struct addr *key);

enum retry_phase {
	RETRY_NONE,		/* not remembered: a SYN is a first contact */
	RETRY_WAITING,		/* too early: a SYN is refused (early) */
	RETRY_READY,		/* a SYN passes (and is cached in pass) */
};

/* One element of a timeout set as the kernel reports it. */
struct retry_elem {
	bool present;
	uint64_t timeout_ms;		/* the element's whole timeout */
	uint64_t expires_ms;		/* time left */
};

struct retry_status {
	enum retry_phase phase;
	uint64_t age_ms;		/* since the first contact was refused;
					 * known when the retry element is */
	bool age_known;
	uint64_t pass_in_ms;		/* WAITING: until a retry passes */
	uint64_t window_left_ms;	/* until the sender is forgotten */
};

/*
 * What the wait and retry elements of one key say.  A wait element alone
 * (the retry element lost: a full set, or deleted) still refuses; a retry
 * element whose wait element is gone passes.
 */
void retry_status_of(const struct retry_elem *wait,
    const struct retry_elem *retry, struct retry_status *out);

/* "waiting" / "ready" / "none". */
const char *retry_phase_name(enum retry_phase p);

/*
 * The advice smtpgatectl check prints for a client the gate would
 * tempfail, from the configuration (and, when st is not NULL, what the
 * kernel holds now): what it must do and when it would pass.  Returns
 * buf.
 */
const char *retry_advice(const struct conf_gate *g, const struct addr *a,
    const struct retry_status *st, char *buf, size_t len);

#endif
