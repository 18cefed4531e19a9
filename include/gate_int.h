/*
 * gate_int.h - what gate.c and gate_dnsbl.c share; not for other modules.
 *
 * A gate_cfg is one generation of the configuration with what is built
 * from it (the PTR classifier, DNSBL health).  It is reference-counted:
 * lookups and probes started under a generation keep it alive across a
 * reload, so their zone indexes stay meaningful.
 */
#ifndef SMTPGATE_GATE_INT_H
#define SMTPGATE_GATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dns.h"
#include "evloop.h"
#include "findings.h"
#include "nftset.h"
#include "ptrclass.h"
#include "queue.h"
#include "verdict.h"
#include "ratelimit.h"

#define GATE_PROBE_OK_S		300	/* re-probe a healthy list */
#define GATE_PROBE_BAD_S	60	/* re-probe a disabled list */

struct gate_cfg;

/* One probe query's callback context. */
struct gate_probe {
	struct gate_cfg *c;
	unsigned z;			/* zone index */
	bool is_two;			/* the 127.0.0.2 query (else 127.0.0.1) */
};

struct gate_zone_health {
	bool enabled;			/* queried for clients */
	bool probing;			/* a probe is in flight */
	int answers_due;		/* of the probe's two queries */
	struct findings_probe two, one;	/* its answers so far (findings.h) */
	struct ev_timer *timer;		/* next probe */
	void *timer_arg;		/* freed when the timer is cancelled */
	struct gate_probe probe[2];	/* of 127.0.0.2, of 127.0.0.1 */
};

struct gate_cfg {
	struct conf conf;
	struct ptrclass *pc;
	struct gate_zone_health health[DNSBL_MAX_SITES];
	struct gate *g;
	unsigned refs;
	bool retired;			/* replaced by a reload */
};

struct gate_stats {
	uint64_t queued;		/* packets the queue handed us */
	uint64_t malformed;		/* unreadable packets (accepted) */
	uint64_t not_syn;		/* queued but not a new SYN (accepted) */
	uint64_t trusted;		/* from trusted networks (accepted) */
	uint64_t lookups;		/* addresses looked up */
	uint64_t coalesced;		/* SYNs that joined a running lookup */
	uint64_t overflow;		/* SYNs accepted unjudged: too busy */
	uint64_t verdicts;		/* lookups concluded */
	uint64_t accept, reject, drop;	/* verdicts by action */
	uint64_t reason[VERDICT_R_MAX];	/* verdicts by finding (verdict.h) */
	uint64_t deadline;		/* lookups cut by deadline_ms */
	uint64_t dnsbl_errors;		/* DNSBL error answers seen */
	uint64_t dnsbl_failed;		/* DNSBL client queries that failed
					 * (SERVFAIL, REFUSED, connection,
					 * malformed): verdict incomplete */
	uint64_t loops;			/* rejected SYNs queued again */
	uint64_t rate_limited;		/* SYNs of new addresses dropped: their
					 * /24 or /64 was over its lookup rate */
	uint64_t dns_waited;		/* lookups that waited for a DNS slot
					 * until their deadline (dns-error) */
	uint64_t net_cached;		/* IPv6 verdicts cached for the /64 */
};

/* gate_watch.c: what the kernel let through unjudged, streak logs. */
struct gate_watch_stats {
	uint64_t queue_full;		/* SYNs the kernel accepted: queue at
					 * queue_maxlen (fail-open) */
	uint64_t sockbuf;		/* ... our socket buffer full */
	uint32_t held;			/* SYNs the kernel holds for us now */
};

struct gate {
	struct evloop *ev;
	struct gate_cfg *cfg;		/* current generation */
	struct dns *dns;
	struct queue *q;
	struct nftset *nft;
	struct gate_lookup **bucket;	/* lookups under way, by address */
	size_t nbuckets;		/* power of two */
	struct siphash_key hkey;	/* random: keys the buckets' hash */
	uint32_t npending;		/* lookups in the table (all below) */
	uint32_t ninflight;		/* lookups with queries out */
	struct gate_lookup *wait_head;	/* lookups waiting for a DNS slot, */
	struct gate_lookup *wait_tail;	/* oldest first */
	uint32_t nwaiting;
	int64_t dns_est_ms;		/* how long a lookup's queries take
					 * (moving average), 0: not known */
	struct ratelimit *rate;		/* new lookups per /24 and /64 */
	struct gate_watch *watch;
	struct ev_timer *allow_timer;	/* next allow-list expiry, or NULL */
	struct gate_stats st;
};

void gate_cfg_ref(struct gate_cfg *c);
void gate_cfg_unref(struct gate_cfg *c);

/* gate_dnsbl.c: health probes of the DNSBL zones of a generation. */
void gate_dnsbl_start(struct gate_cfg *c);
void gate_dnsbl_stop(struct gate_cfg *c);

/* gate_watch.c: after the queue is bound; NULL with err. */
struct gate_watch *gate_watch_new(struct gate *g, char *err, size_t errlen);
void gate_watch_free(struct gate_watch *w);
const struct gate_watch_stats *gate_watch_stats(const struct gate_watch *w);

#endif
