/*
 * cluster.h - what the gateways of one site share through Redis: the
 * gate's verdicts, the sniffer's strikes and bans, allow-list changes
 * ([cluster] in smtpgate.conf(5); the daemons' man pages say what each
 * shares).
 *
 * Sharing is an addition to local operation, never a condition of it.
 * Every local verdict, ban and cache entry happens whether Redis answers,
 * is slow, refuses or is gone; what could not be shared waits in a
 * bounded backlog and is sent on reconnect, what overflowed it is counted
 * (lost).  Redis down is logged once per streak.
 *
 * Transport: hiredis's asynchronous API driven by the daemon's own event
 * loop (evloop.h): no thread, no blocking call.  RESP2 allows no command on
 * a connection in SUBSCRIBE mode, so a daemon holds two: one for commands
 * (SET, INCRBY, SCAN, ...), one subscribed to the site's channel.  Each
 * command has a deadline (timeout_ms); a connection that misses one is
 * closed and reconnected with backoff (0.1 s doubling to 30 s).  With
 * `sentinel`, the master's address is asked of the Sentinels at each
 * (re)connect and a +switch-master message moves both connections.
 *
 * What Redis holds (P is [cluster] prefix, ADDR addr_ntop's text):
 *   P v:ADDR      a verdict: its message (below), PX its remaining TTL
 *   P vn:ADDR/64  a verdict cached for an IPv6 /64
 *   P s:ADDR      strikes summed over the gateways: INCRBY, PEXPIRE window
 *   P b:ADDR      a ban: its message, PX the ban's remaining time
 *   P allow       a hash: prefix text -> its message (share_allow = yes)
 *   P events      the channel every change is published on
 *   P node:NODE   a gateway's heartbeat, PX 3 heartbeats
 * Every value read back (a GET, a SCAN's key, a published message) is
 * parsed by cluster_msg_parse and refused (counted, logged once per
 * streak) unless every field is well formed and within bounds.
 *
 * Message (one line of printable ASCII, fields separated by one space):
 *   "1 KIND NODE AT TTL COUNT REASON SUBJECT"
 *   1        the format's version; another is refused
 *   KIND     deny drop pass strike ban unban allow-add allow-del hello
 *   NODE     the deciding gateway: [A-Za-z0-9._-]{1,63}
 *   AT       its wall clock, ms since the epoch, when it decided
 *   TTL      seconds the entry lives from AT, 1..CLUSTER_TTL_MAX (0 for
 *            allow-*, unban and hello)
 *   COUNT    strike: the shared total; ban: the ban's number (its
 *            doubling); else 0.  At most CLUSTER_COUNT_MAX
 *   REASON   a verdict's reasons ("no-ptr,fcrdns", verdict_reasons_format)
 *            or a rule name: [a-z0-9:.,_-]{1,47}, "-" none
 *   SUBJECT  an address, an IPv6 /64 ("2001:db8:1:2::/64", deny/drop
 *            only), a prefix (allow-*), or "-" (hello)
 */
#ifndef SMTPGATE_CLUSTER_H
#define SMTPGATE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"
#include "evloop.h"

#define CLUSTER_NODE_MAX	64	/* a node name with its NUL */
#define CLUSTER_REASON_MAX	48	/* a reason with its NUL */
#define CLUSTER_MSG_MAX		256	/* a message with its NUL */
#define CLUSTER_KEY_MAX		192	/* a key with its NUL */
#define CLUSTER_TTL_MAX		(400u * 86400u)	/* > offender_timeout_max */
#define CLUSTER_COUNT_MAX	1000000u
#define CLUSTER_SIBLINGS_MAX	64	/* siblings the status remembers */

enum cluster_kind {
	CLUSTER_DENY,		/* the gate refused (reset) */
	CLUSTER_DROP,		/* the gate dropped */
	CLUSTER_PASS,		/* the gate passed (share_pass = yes) */
	CLUSTER_STRIKE,		/* the sniffer struck: COUNT the total */
	CLUSTER_BAN,		/* the sniffer banned: TTL its time */
	CLUSTER_UNBAN,		/* smtpgatectl offenders forget */
	CLUSTER_ALLOW_ADD,	/* smtpgatectl allow add */
	CLUSTER_ALLOW_DEL,	/* smtpgatectl allow del */
	CLUSTER_HELLO,		/* a heartbeat */
	CLUSTER_KIND_MAX
};

/* Which kinds a daemon subscribes to: 1u << kind. */
#define CLUSTER_WANT(k)		(1u << (k))

struct cluster_event {
	enum cluster_kind kind;
	char node[CLUSTER_NODE_MAX];
	int64_t at_ms;			/* wall clock of the decision */
	uint32_t ttl_s;			/* from at_ms */
	uint32_t count;
	char reason[CLUSTER_REASON_MAX];	/* "" when none */
	bool net64;			/* subject is an IPv6 /64 (p) */
	struct addr a;			/* the subject address (/64: masked) */
	struct prefix p;		/* allow-*: the prefix; /64 verdicts */
};

/* cluster_msg.c: pure formats, shared by the daemons, smtpgatectl and the
 * fuzzer. */
const char *cluster_kind_name(enum cluster_kind k);
/* The message of e into buf: its length, or 0 when e is not valid or buf
 * too small. */
size_t cluster_msg_format(const struct cluster_event *e, char *buf,
    size_t len);
/* Parse data[0..len) (not NUL-terminated, hostile).  0, or -1 with the
 * reason ("field 4: ttl 0 out of 1..34560000") in why. */
int cluster_msg_parse(const char *data, size_t len, struct cluster_event *e,
    char *why, size_t whylen);
/* The key of e's subject under prefix ("smtpgate:v:192.0.2.7"): its
 * length, or 0 when it would not fit. */
size_t cluster_msg_key(const char *prefix, const struct cluster_event *e,
    char *buf, size_t len);
/* The TTL left at now_ms of a message decided at at_ms for ttl_s: 0 when
 * expired (or decided in the future beyond a 60 s skew: refused). */
uint32_t cluster_msg_left(const struct cluster_event *e, int64_t now_ms);

/*
 * A Sentinel's +switch-master message, "NAME OLDIP OLDPORT NEWIP NEWPORT"
 * (data[0..len), hostile): 1 with the new master's numeric address (as
 * addr_ntop writes it, ADDR_STRLEN bytes) and port when NAME is master, 0
 * for another master, -1 with why when malformed.
 */
int cluster_msg_switch(const char *data, size_t len, const char *master,
    char *host, int *port, char *why, size_t whylen);

/* cluster.c: the connection. */
struct cluster;

/*
 * A sibling's change (or, during a resync, a live key's) arrived, parsed
 * and checked.  Called from the loop (a timer due now), never inside
 * cluster_share, cluster_strike or a hiredis callback; the callback may
 * share, strike, or cluster_free.  Events of this node itself are not
 * delivered, but for its own strike totals (cluster_strike) and, at a
 * resync, the allow hash's entries (the shared hash is the truth).
 */
typedef void (*cluster_event_cb)(const struct cluster_event *e, void *arg);

/*
 * Start sharing under cc (cc->redis or cc->nsentinels set; else NULL and
 * err ""), asking for the kinds in want (pass only with cc->share_pass,
 * allow-* only with cc->share_allow: the others are dropped from want,
 * and cluster_share ignores them).  cc->node must be set (conf_load fills
 * it from the host name); the password file is read here.  daemon names
 * the connection in Redis (CLIENT SETNAME "smtpgate-<daemon>-<node>").
 * Never blocks: the connection is made from the loop.  NULL with err when
 * cc is unusable or memory ran out.  The process must ignore SIGPIPE
 * (daemon_init does): hiredis 0.14 writes with write(2).
 */
struct cluster *cluster_new(struct evloop *ev, const struct conf_cluster *cc,
    const char *daemon, unsigned want, cluster_event_cb cb, void *arg,
    char *err, size_t errlen);
void cluster_free(struct cluster *c);

/*
 * Where each resync begins and ends, in order with its deliveries: fn
 * (arg, false) before the resync's first event, fn(arg, true) after its
 * last, once the allow hash (when wanted) was read whole and every entry
 * of it handed to the event callback.  From the loop, like the events
 * (never inside a call the daemon made); fn may share.  A resync cut
 * short (a link lost, the hash refused, memory ran out) gives no done:
 * the next one begins again.  fn NULL: none (the default).
 */
typedef void (*cluster_sync_cb)(void *arg, bool done);
void cluster_on_sync(struct cluster *c, cluster_sync_cb fn, void *arg);

/*
 * Share a local decision (e->node and e->at_ms are filled in): SET of its
 * key with the remaining TTL, then PUBLISH; allow-* go to the allow hash.
 * Apart from Redis it waits in the backlog.  Never fails the caller.
 */
void cluster_share(struct cluster *c, const struct cluster_event *e);

/*
 * A strike of weight against a: INCRBY of the shared counter with PEXPIRE
 * window_s, then a published strike with the new total; the total also
 * comes back to this node's callback (kind STRIKE, node this node's) so
 * the sniffer can ban on the shared sum.  Apart: counted locally only.
 */
void cluster_strike(struct cluster *c, const struct addr *a, uint32_t weight,
    uint32_t window_s, const char *rule);

enum cluster_state {
	CLUSTER_OFF,		/* no [cluster] */
	CLUSTER_CONNECTING,
	CLUSTER_RESYNC,		/* connected, reading the live keys */
	CLUSTER_UP,
	CLUSTER_DOWN,		/* apart, reconnecting with backoff */
};

struct cluster_sibling {
	char node[CLUSTER_NODE_MAX];
	int64_t last_ms;		/* wall clock of its last message */
	int64_t lag_ms;			/* received - AT of that message */
};

struct cluster_stats {
	enum cluster_state state;
	char server[128];		/* "host:port" or the socket's path */
	int64_t since_ms;		/* wall clock the state began */
	uint64_t shared;		/* messages published */
	uint64_t received;		/* siblings' messages parsed */
	uint64_t applied;		/* ... handed to the callback */
	uint64_t refused;		/* malformed or out of bounds */
	uint64_t expired;		/* arrived with no TTL left */
	uint64_t backlog;		/* waiting to be shared now */
	uint64_t lost;			/* dropped: the backlog was full (or
					 * off), memory ran out */
	uint64_t reconnects;
	uint64_t timeouts;		/* commands past timeout_ms */
	uint64_t errors;		/* error replies (READONLY, NOAUTH...) */
	uint64_t resynced;		/* live keys read at reconnects */
	uint64_t failovers;		/* master changes followed */
	size_t nsiblings;
	struct cluster_sibling sibling[CLUSTER_SIBLINGS_MAX];
};

const struct cluster_stats *cluster_stats(const struct cluster *c);
const char *cluster_state_name(enum cluster_state s);

#endif
