/*
 * spfcheck.h - SPF checks (libspf2) off the event loop.
 *
 * libspf2 resolves synchronously, so the checks run in SPFCHECK_THREADS
 * worker threads, each with its own SPF_server (libspf2 servers are not
 * shared between threads).  Requests go to the workers through a bounded
 * queue; answers come back through an eventfd the event loop watches, and
 * every callback runs from the loop, never inside spfcheck_query.
 * The workers start with the first query (after a daemon has forked and
 * dropped its capabilities).  spfcheck_free stops the workers (a check in progress is waited for) and
 * answers every request not yet answered with SPFCHECK_CANCELLED.
 */
#ifndef SMTPGATE_SPFCHECK_H
#define SMTPGATE_SPFCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "evloop.h"

#define SPFCHECK_THREADS	2
#define SPFCHECK_QUEUE_MAX	4096	/* requests waiting at most */
#define SPFCHECK_NAME_MAX	254

enum spfcheck_result {
	SPFCHECK_PASS,
	SPFCHECK_FAIL,
	SPFCHECK_SOFTFAIL,
	SPFCHECK_NEUTRAL,
	SPFCHECK_NONE,		/* no SPF record */
	SPFCHECK_ERROR,		/* temperror, permerror, bad request */
	SPFCHECK_CANCELLED,	/* shutting down */
};

struct spfcheck;

typedef void (*spfcheck_cb)(void *arg, enum spfcheck_result r);

struct spfcheck *spfcheck_new(struct evloop *ev, char *err, size_t errlen);
void spfcheck_free(struct spfcheck *s);

/*
 * Check client against the SPF record of helo as HELO identity (RFC 7208
 * section 2.3: sender postmaster@helo).  0, or -1 when the queue is full
 * or out of memory (cb is then never called).
 */
int spfcheck_query(struct spfcheck *s, const struct addr *client,
    const char *helo, spfcheck_cb cb, void *arg);

/* "pass", "fail", "softfail", "neutral", "none", "error", "cancelled". */
const char *spfcheck_name(enum spfcheck_result r);

#endif
