/*
 * gate_int.h - what the gate's files (gate.c, gate_admit.c, gate_lookup.c,
 * gate_apply.c, gate_dnsbl.c, gate_watch.c, gate_retry.c, gate_stats.c,
 * gate_reply.c, gate_journal.c, gate_cluster.c) share; not for other
 * modules.
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

#include "allowlist.h"
#include "allowshare.h"
#include "cluster.h"
#include "conf.h"
#include "dns.h"
#include "evloop.h"
#include "findings.h"
#include "nftset.h"
#include "ptrclass.h"
#include "queue.h"
#include "verdict.h"
#include "ratelimit.h"
#include "reply.h"

#define GATE_PROBE_OK_S		300	/* re-probe a healthy list */
#define GATE_PROBE_BAD_S	60	/* re-probe a disabled list */
#define GATE_HELD_INLINE	4	/* SYNs held without allocating */
#define GATE_HELD_MAX		256	/* more SYNs than this are let through */

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
	uint64_t tempfail;		/* ... refused with a second chance */
	uint64_t observed_reject;	/* observe mode (enforce = no): verdicts
					 * that would have refused, accepted */
	uint64_t observed_drop, observed_tempfail;
	uint64_t retry_noted;		/* tempfailed senders entered in the
					 * wait and retry sets */
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
	uint64_t banner_holds;		/* weak accepts put in hold4/6
					 * ([sniffer] banner_hold_ms) */
};

/* gate_watch.c: what the kernel let through unjudged, streak logs. */
struct gate_watch_stats {
	uint64_t queue_full;		/* SYNs the kernel accepted: queue at
					 * queue_maxlen (fail-open) */
	uint64_t sockbuf;		/* ... our socket buffer full */
	uint32_t held;			/* SYNs the kernel holds for us now */
	/* The kernel's retry rules' counters (packets since the table was
	 * installed; 4 and 6 summed): retries refused as early, passed. */
	uint64_t retry_early;
	uint64_t retry_passed;
};

/* gate_reply.c: the responder's counters (smtpgated(8)). */
struct gate_reply_stats {
	uint64_t noted;			/* refusals put in reply4/6 */
	uint64_t sent;			/* lines written */
	uint64_t by_kind[REPLY_KIND_MAX];	/* of those: 554, 421 */
	uint64_t capped;		/* reset: reply_max_conns open */
	uint64_t timeouts;		/* closed at reply_timeout */
	uint64_t cut;			/* closed: client sent too much */
	uint64_t failed;		/* the line could not be written */
	uint64_t accept_errors;		/* accept failed (EMFILE, ...) */
	uint32_t conns_max;		/* most connections open at once */
};
struct gate_reply;

/* gate_cluster.c: siblings' verdicts ([cluster]; smtpgated(8)). */
struct gate_cluster_stats {
	uint64_t shared;		/* verdicts handed to cluster_share */
	uint64_t received;		/* siblings' deny/drop/pass wanted */
	uint64_t applied;		/* ... written into the sets */
	uint64_t skipped;		/* ... not: trusted, allowed, observe
					 * mode, a pass not wanted */
	uint64_t expired;		/* ... no TTL left */
	uint64_t failed;		/* ... the nft batch was full */
	/* share_allow = yes: the allow list's shared entries */
	uint64_t allow_shared;		/* allow-add/del this node shared */
	uint64_t allow_applied;		/* siblings' taken into the list */
	uint64_t allow_refused;		/* ... refused: too wide, list full */
};
struct gate_cluster;

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
	struct gate_retry *retry;	/* tempfail's retries, logged */
	struct ev_timer *allow_timer;	/* next allow-list expiry, or NULL */
	struct allowlist allow_local;	/* the allow file as last read (the
					 * shared list is applied beside it) */
	struct gate_reply *reply;	/* the responder, or NULL (reply =
					 * reset in [gate] and [sniffer]) */
	struct gate_stats st;
	struct journal *journal;	/* the verdict journal, NULL: off */
	struct prefix *allowed;		/* the allow file's prefixes the
					 * journal knows (gate_journal.c) */
	size_t nallowed;
	struct gate_cluster *cl;	/* [cluster] sharing, NULL: off */
};

/* One SYN a lookup holds. */
struct gate_held {
	uint32_t id;			/* queue packet id */
	uint32_t mark;			/* its mark, kept on reject */
};

struct gate_lookup;

/* A query's callback context: which lookup, which query. */
struct gate_qctx {
	struct gate_lookup *lk;
	int kind;			/* GATE_Q_* */
	unsigned idx;			/* PTR name index or zone index */
};

enum { GATE_Q_PTR, GATE_Q_FWD, GATE_Q_DNSBL };

/* The lookup of one source address (gate_lookup.c). */
struct gate_lookup {
	struct gate *g;
	struct gate_cfg *cfg;		/* generation it started under */
	struct gate_lookup *next;	/* hash chain */
	struct addr a;
	int64_t start_ms;
	struct ev_timer *deadline;
	unsigned refs;			/* outstanding queries + the wait */
	bool done;			/* verdict given */
	bool inflight;			/* holds a DNS slot (queries sent) */
	int64_t qstart_ms;		/* when its queries were sent */
	bool waiting;			/* holds the wait's reference: no
					 * query sent (in the FIFO, or passed
					 * over and left to its deadline) */
	bool in_fifo;			/* in the FIFO for a DNS slot */
	struct gate_lookup *wnext, *wprev;	/* the FIFO */

	struct gate_held inl[GATE_HELD_INLINE];
	struct gate_held *held;		/* inl, or heap when it grew */
	size_t nheld, capheld;

	struct findings f;		/* what the answers say (findings.h) */
	/* the queries' callback contexts: each query is asked once */
	struct gate_qctx q_ptr;
	struct gate_qctx q_fwd[DNS_MAX_NAMES];
	struct gate_qctx q_bl[DNSBL_MAX_SITES];
};

/* gate.c: configuration generations. */
void gate_cfg_ref(struct gate_cfg *c);
void gate_cfg_unref(struct gate_cfg *c);

/* gate_admit.c: queued packets in, DNS slots. */
void gate_admit_packet(void *arg, const struct queue_packet *p);
/* Start waiting lookups into the DNS slots freed (the idle turn). */
void gate_admit_pump(struct gate *g);
void gate_admit_wait_unlink(struct gate *g, struct gate_lookup *lk);
void gate_admit_slot_free(struct gate_lookup *lk);

/* gate_lookup.c: lookups by address. */
struct gate_lookup *gate_lookup_find(struct gate *g, const struct addr *a);
/* A new lookup in the table, deadline running, nothing asked; NULL when
 * out of memory. */
struct gate_lookup *gate_lookup_start(struct gate *g, const struct addr *a);
/* Hold one more SYN on lk; false when it cannot be held. */
bool gate_lookup_hold(struct gate_lookup *lk, uint32_t id, uint32_t mark);
void gate_lookup_queries(struct gate_lookup *lk);
void gate_lookup_conclude(struct gate_lookup *lk);
void gate_lookup_unref(struct gate_lookup *lk);
void gate_lookup_release_all(struct gate *g);

/* gate_apply.c: a verdict to the queue, the sets, the counters, the log. */
void gate_apply_verdict(struct gate_lookup *lk,
    const struct findings_judgment *j);

/* gate_reply.c: the responder (reply.h).  new: NULL with err. */
struct gate_reply *gate_reply_new(struct gate *g, char *err, size_t errlen);
void gate_reply_free(struct gate_reply *r);
/* Its counters (all zero for NULL); *open: connections open now. */
const struct gate_reply_stats *gate_reply_stats(const struct gate_reply *r,
    uint32_t *open);
/* A refusal the responder answers (reply_for_verdict, reply.h): the
 * client into reply4/6 for deny_ttl (554) or retry_min (421); returns the
 * verdict for its held SYNs (QUEUE_DROP then, else qv). */
enum queue_verdict gate_reply_note(struct gate_lookup *lk,
    const struct verdict *v, enum queue_verdict qv);

/* A sibling's deny of a for ttl_s (gate_cluster.c): its reply4/6 element
 * when the responder answers its reason (the first of reason's list). */
void gate_reply_note_shared(struct gate *g, const struct addr *a,
    const char *reason, uint32_t ttl_s);

/* gate_cluster.c: verdicts shared with the site's gateways ([cluster]).
 * share: a verdict just cached (key: the address, or the /64 when
 * net64), with its element's TTL and deciding reason (NULL: none); a
 * no-op while [cluster] is off.  allow_loaded: after the allow list was
 * applied, its entries kept to check siblings' verdicts against.  stop:
 * at gate_free. */
void gate_cluster_share(struct gate *g, enum cluster_kind kind,
    const struct addr *key, bool net64, uint32_t ttl_s, const char *reason);
void gate_cluster_allow_loaded(struct gate *g);
/* share_allow = yes: the shared entries to apply beside the allow file
 * (*e, the count; none while it is off). */
size_t gate_cluster_allow_shared(const struct gate *g,
    const struct allowshare_entry **e);

/* gate.c: the allow sets again from the allow file as last read and the
 * shared entries (after a shared change).  0, or -1 with err. */
int gate_allow_apply(struct gate *g, char *err, size_t errlen);
void gate_cluster_stop(struct gate *g);
const struct gate_cluster_stats *gate_cluster_stats(const struct gate *g);

/* gate_dnsbl.c: health probes of the DNSBL zones of a generation. */
void gate_dnsbl_start(struct gate_cfg *c);
void gate_dnsbl_stop(struct gate_cfg *c);

/* gate_watch.c: after the queue is bound; NULL with err. */
struct gate_watch *gate_watch_new(struct gate *g, char *err, size_t errlen);
void gate_watch_free(struct gate_watch *w);
const struct gate_watch_stats *gate_watch_stats(const struct gate_watch *w);

/* gate_retry.c: the kernel's retry notes, one log line each; after the
 * watch, NULL with err. */
struct gate_retry;
struct gate_retry *gate_retry_new(struct gate *g, char *err, size_t errlen);
void gate_retry_free(struct gate_retry *r);

/* gate_journal.c: the verdict journal's rows (no-ops while it is off). */
struct journal;
void gate_journal_verdict(struct gate_lookup *lk,
    const struct findings_judgment *j);
/* A sender the kernel passed on its retry: a 'retried' outcome. */
void gate_journal_retried(struct gate *g, const struct addr *a);
/* After an allow list was applied: an 'allowed' outcome per new prefix. */
void gate_journal_allowed(struct gate *g);
void gate_journal_close(struct gate *g);

#endif
