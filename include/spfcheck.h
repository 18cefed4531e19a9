/*
 * spfcheck.h - SPF checks (RFC 7208) for the event loop, evaluated by
 * libspf2 in sandboxed helper processes (spfproc.h), never in the caller.
 *
 * spfcheck_new spawns the helpers: call it during the privileged set-up,
 * before the daemon sheds its capabilities (the helpers then take a uid of
 * their own; see sandbox.h).  It owns a resolver context of its own on the
 * caller's loop (c-ares, the [dns] resolvers) and fetches the helpers'
 * DNS answers through it.  A worker never waits for DNS: told that an
 * answer is not known yet, it abandons the run; the check is run again,
 * replaying its answers, once the answer is in (spfcheck_worker.c
 * explains).  A silent nameserver therefore delays only the checks that
 * need it.
 *
 * A check (spfcheck_query) is answered once, through the loop, never inside
 * spfcheck_query:
 *   - by its worker's result;
 *   - SPFCHECK_TEMPERROR at its deadline (the worker is then told that
 *     every further lookup failed, and killed if it is not done 2 s
 *     later), when it expired while waiting for a worker, or when its
 *     worker died (counted, logged once per streak of deaths);
 *   - SPFCHECK_CANCELLED from spfcheck_free.
 * Checks of the same identity from the same client share one evaluation.
 * A client (an IPv4 address, an IPv6 /64) has at most max_per_client
 * checks at once and runs on at most half the workers at a time, and
 * SPFCHECK_QUEUE_MAX checks exist in all; beyond that
 * spfcheck_query refuses (-1, EAGAIN), and the caller counts it.  Shutdown
 * never waits on libspf2: spfcheck_free closes the helpers' sockets and
 * the supervisor kills its workers.
 */
#ifndef SMTPGATE_SPFCHECK_H
#define SMTPGATE_SPFCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "evloop.h"

#define SPFCHECK_QUEUE_MAX	4096	/* checks waiting for a worker */
#define SPFCHECK_NAME_MAX	254
#define SPFCHECK_SENDER_MAX	321
#define SPFCHECK_KILL_GRACE_MS	2000	/* past the deadline: kill */

enum spfcheck_result {
	SPFCHECK_PASS,
	SPFCHECK_FAIL,
	SPFCHECK_SOFTFAIL,
	SPFCHECK_NEUTRAL,
	SPFCHECK_NONE,		/* no SPF record */
	SPFCHECK_TEMPERROR,	/* DNS trouble, deadline, helper died */
	SPFCHECK_PERMERROR,	/* a record that cannot be read (or that
				 * the screen refused) */
	SPFCHECK_CANCELLED,	/* shutting down */
};

struct spfcheck_opts {
	unsigned workers;		/* helper processes, 1..32 */
	unsigned max_per_client;	/* checks at once per client */
	const char *user;		/* "" = a dynamic uid */
	bool screen;			/* screen records (tests turn it off to
					 * show the sandbox alone) */
};

struct spfcheck_stats {
	uint64_t checks;		/* evaluations started */
	uint64_t joined;		/* queries that joined one under way */
	uint64_t refused;		/* per-client cap or queue full */
	uint64_t expired;		/* deadline passed before a worker */
	uint64_t timeouts;		/* deadline passed while running */
	uint64_t deaths;		/* workers that died */
	uint64_t kills;			/* workers killed past the deadline */
	uint64_t screened;		/* records refused unread */
	uint64_t protocol;		/* helper messages we refused */
	uint64_t dns_queries;		/* lookups fetched for the helpers */
	uint64_t replays;		/* runs stopped for an answer */
	uint32_t workers_up;		/* workers ready now */
};

/* One check: the identity, the client and when its answer is due. */
struct spfcheck_req {
	struct addr client;
	const char *helo;		/* the HELO/EHLO domain */
	const char *mail_from;		/* NULL: the HELO identity
					 * (postmaster@helo); else the MAIL
					 * FROM address ("" = null sender) */
	int64_t deadline_ms;		/* absolute, evloop_now_ms clock */
};

struct spfcheck;

typedef void (*spfcheck_cb)(void *arg, enum spfcheck_result r);

/*
 * Spawn the helpers (sandbox_pick for o->user; no capability survives in
 * them).  NULL with "spf: ..." in err.  info (may be NULL, 128 bytes)
 * receives a line for the start-up log: the helpers' uid and workers.
 */
struct spfcheck *spfcheck_new(struct evloop *ev, const struct conf_dns *dns,
    const struct spfcheck_opts *o, char *info, char *err, size_t errlen);
void spfcheck_free(struct spfcheck *s);
/* New resolvers (reload): queries under way finish on the old ones.
 * 0, or -1 with err (the old ones stay). */
int spfcheck_set_dns(struct spfcheck *s, const struct conf_dns *dns,
    char *err, size_t errlen);
/* New limits (reload): the number of workers cannot change. */
void spfcheck_set_max_per_client(struct spfcheck *s, unsigned n);

/* 0, or -1 (errno EAGAIN: a cap; EINVAL: a name too long). */
int spfcheck_query(struct spfcheck *s, const struct spfcheck_req *q,
    spfcheck_cb cb, void *arg);

const struct spfcheck_stats *spfcheck_stats(const struct spfcheck *s);

/* "pass", "fail", "softfail", "neutral", "none", "temperror",
 * "permerror", "cancelled". */
const char *spfcheck_name(enum spfcheck_result r);

#endif
