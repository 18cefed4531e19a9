/*
 * ctl_sets.h - reading smtpgate's kernel sets for smtpgatectl (cache and
 * offenders listings).  A GETSETELEM dump over its own netlink socket,
 * parsed with libnftnl; nothing is changed.
 */
#ifndef SMTPGATE_CTL_SETS_H
#define SMTPGATE_CTL_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "retry.h"

struct ctl_set_elem {
	struct addr a;			/* the key (IPv4 or IPv6 address) */
	bool interval_end;		/* interval sets: an end element */
	uint64_t timeout_ms;		/* the element's timeout, 0 none */
	uint64_t expires_ms;		/* time left, 0 none */
	uint16_t port;			/* maps to an inet_service (reply4/6):
					 * the value, host order; 0 else */
};

/*
 * Every element of set in table (family inet) into *out (malloc'd, the
 * caller frees it), count in *n.  0, or -1 with err and errno (ENOENT: no
 * such table or set; EPERM: not root).
 */
int ctl_sets_dump(const char *table, const char *set,
    struct ctl_set_elem **out, size_t *n, char *err, size_t errlen);

/*
 * What the kernel holds for a's retry key (wait and retry of its family):
 * 1 found (st filled), 0 not (or no such table or sets), -1 when the
 * sets could not be read (not root, ...).  For check.
 */
struct ctl;
int ctl_retry_lookup(struct ctl *c, const struct addr *a,
    struct retry_status *st);

#endif
