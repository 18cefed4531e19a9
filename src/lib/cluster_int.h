/*
 * cluster_int.h - the insides of the cluster module (cluster.h), shared
 * by its files and by no one else:
 *
 *   cluster.c          the lifecycle and state machine, deliveries,
 *                      heartbeat, siblings, the subscription's
 *                      messages: cluster_*
 *   cluster_share.c    sharing, strikes, the backlog: cluster_share,
 *                      cluster_strike, cluster_send, cluster_flush
 *   cluster_conn.c     one hiredis asynchronous connection on the
 *                      daemon's evloop, its commands and their
 *                      deadlines: cluster_conn_*
 *   cluster_sync.c     the resync at each (re)connect: SCAN, GET/PTTL,
 *                      HGETALL: cluster_sync_*
 *   cluster_sentinel.c the master's address from the Sentinels, and
 *                      +switch-master: cluster_sentinel_*
 *   cluster_reply.c    the bounds of a reply, in hiredis's reader:
 *                      cluster_reply_*
 *
 * Hazards of hiredis 0.14 the files keep to (async.c of that version):
 *  - a context is freed by hiredis itself when its connect fails (after
 *    onConnect(REDIS_ERR)) or when a read or write fails (after
 *    onDisconnect); every pending callback then runs with a NULL reply;
 *  - redisAsyncFree called from onConnect or onDisconnect frees at once
 *    what hiredis goes on using: this module never frees a context from a
 *    hiredis callback; it marks the failure (cluster_fail) and a timer
 *    due now closes both connections from the loop;
 *  - a subscribe callback stays registered for every message of its
 *    channel and runs once more with NULL when the context goes;
 *  - its reader bounds nothing: a bulk string grows the read buffer to
 *    the length the server announces, an array header allocates the
 *    element count it announces, and a reply's tree grows for as long as
 *    the server sends.  cluster_reply.c bounds all three (the
 *    CLUSTER_REPLY_* limits below); cluster_conn.c fails the link past
 *    them.
 */
#ifndef SMTPGATE_CLUSTER_INT_H
#define SMTPGATE_CLUSTER_INT_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "allowlist.h"
#include "cluster.h"

/*
 * What one reply from Redis may hold.  The largest a sound server sends
 * is HGETALL of a full shared allow list: two strings per entry
 * (ALLOWLIST_MAX entries), none longer than a key or a message.  The
 * limits leave room above that; past them the server is not sound, and
 * the link fails rather than the daemon's memory.
 */
#define CLUSTER_REPLY_ELEMENTS_MAX	(2 * ALLOWLIST_MAX + 64)	/* an array */
#define CLUSTER_REPLY_STRING_MAX	(64 * 1024)	/* one string, bytes */
#define CLUSTER_REPLY_BYTES_MAX		((size_t)512 << 20)	/* one reply */
#define CLUSTER_READ_SLACK		(64 * 1024)	/* > a read of hiredis, 16 KiB */


/* A reader's bounds at work: the reply being read, and what passed a
 * bound ("" while none). */
struct cluster_reply_budget {
	size_t bytes;			/* the reply so far, with its objects */
	char why[128];			/* "string of N bytes (at most M)" */
};

/* r's object functions bounded, b their account (b outlives r). */
void cluster_reply_bound(redisReader *r, struct cluster_reply_budget *b);
/* After a read into r: 0, or -1 with b->why when the bytes not yet
 * parsed are past one string's bound (a bulk string is read whole before
 * its object is made). */
int cluster_reply_check(const redisReader *r, struct cluster_reply_budget *b);

#define CLUSTER_BACKOFF_MIN_MS	100
#define CLUSTER_BACKOFF_MAX_MS	30000
#define CLUSTER_HELLO_MS	1000	/* heartbeat period */
#define CLUSTER_NODE_TTL_MS	(3 * CLUSTER_HELLO_MS)	/* P node:NODE's PX */
#define CLUSTER_SIBLING_MS	10000	/* a sibling listed this long */
#define CLUSTER_SCAN_COUNT	500	/* SCAN's COUNT hint */
#define CLUSTER_WHY_MAX		256
#define CLUSTER_FLUSH_BATCH	256	/* backlog entries in flight */
#define CLUSTER_DELIVER_BATCH	1024	/* callbacks in one loop turn */
#define CLUSTER_SKEW_MS		60000	/* an AT this far ahead: refused */
/* In the deliver ring only: a resync's begin (count 0) or done (1). */
#define CLUSTER_MARK_SYNC	CLUSTER_KIND_MAX

struct cluster_conn;
struct cluster_req;

/* A command's reply: r NULL when the connection went first. */
typedef void (*cluster_reply_fn)(struct cluster_req *q, redisReply *r);

/* One command waiting for its reply, owned by its connection's FIFO. */
struct cluster_req {
	struct cluster_req *next;
	struct cluster_conn *k;
	cluster_reply_fn fn;
	int64_t deadline_ms;		/* loop clock */
	const char *what;		/* "SET", for messages */
	char key[CLUSTER_KEY_MAX];	/* the key it names, when any */
	unsigned tag;			/* the resync's pattern */
	struct cluster_event e;		/* a strike's event */
};

enum cluster_role { CLUSTER_ROLE_CMD, CLUSTER_ROLE_SUB, CLUSTER_ROLE_SENT };

struct cluster_conn {
	struct cluster *c;
	enum cluster_role role;
	const char *name;		/* "commands", "events", "sentinel" */
	redisAsyncContext *ac;		/* NULL when closed */
	int fd;
	uint32_t events;		/* EPOLLIN | EPOLLOUT wanted */
	bool registered;		/* fd in the loop */
	bool connected;			/* onConnect said OK */
	bool ready;			/* authenticated, named, subscribed */
	bool closing;			/* our own redisAsyncFree runs */
	struct cluster_req *head, *tail;	/* replies awaited, in order */
	size_t inflight;
	int64_t ready_deadline_ms;	/* until ready, else 0 */
	int64_t last_rx_ms;		/* loop clock of its last message */
	char server[128];		/* where it goes */
	struct cluster_reply_budget budget;	/* its reader's bounds */
	/* The subscription (sub, sent): a message of channel. */
	void (*on_message)(struct cluster_conn *k, const char *chan,
	    size_t chanlen, const char *data, size_t len);
	/* Ready: set up and (sub, sent) subscribed. */
	void (*on_ready)(struct cluster_conn *k);
};

/* A growable ring of events (backlog, deliveries). */
struct cluster_ring {
	struct cluster_event *v;
	size_t cap, head, len, max;	/* max: the bound, 0 none */
};

struct cluster_sync_state {
	bool running;
	unsigned pattern;		/* index into the patterns */
	char cursor[32];
	size_t pending;			/* GET/PTTL pairs in flight */
	bool scanning;			/* a SCAN in flight */
	/* The GET just answered, read by the PTTL after it. */
	bool slot_ok;
	struct cluster_event slot;
	uint64_t read, applied, refused;
	bool lossy;			/* a delivery could not be queued */
};

struct cluster {
	struct evloop *ev;
	struct conf_cluster cc;
	char daemon[16];
	unsigned want;			/* kinds delivered */
	cluster_event_cb cb;
	void *arg;
	char client_name[128];		/* CLIENT SETNAME */
	char user[128], pass[256];	/* AUTH; pass "" none */
	char channel[CLUSTER_KEY_MAX];	/* P events */

	/* Where the master is: host and port, or the socket's path. */
	char host[ADDR_STRLEN];
	int port;
	char path[108];

	struct cluster_conn cmd, sub, sent;
	struct cluster_stats st;

	struct ev_timer *tick;		/* deadlines, heartbeat, reconnect */
	int64_t tick_at_ms;
	struct ev_timer *now;		/* deferred work: drop, deliveries */
	int64_t backoff_ms;
	int64_t reconnect_at_ms;	/* 0: none due */
	int64_t hello_at_ms;		/* next heartbeat, 0 none */
	bool failing;			/* cluster_fail ran, drop pending */
	bool freeing;			/* cluster_free runs: nothing kept */
	char fail_why[CLUSTER_WHY_MAX];
	bool lost_logged;		/* this streak's "lost" said */
	bool refused_streak;		/* this streak's "refused" said */
	bool error_streak;
	bool invalid_logged;		/* a share no sibling would take */
	bool ever_up;
	bool failover;			/* reconnect at once: the master moved */
	bool sent_failing;		/* the watch alone goes, from the loop */
	bool sent_lost_logged;
	int64_t sent_retry_at_ms;	/* the watch made again, 0 none */
	int64_t sent_backoff_ms;
	size_t sent_next;		/* the sentinel asked next */

	struct cluster_ring backlog;
	size_t flush_pending;		/* backlog publishes unanswered */
	struct cluster_ring deliver;
	bool *alive;			/* cleared by cluster_free in a cb */
	cluster_sync_cb sync_cb;	/* a resync's begin and done */
	void *sync_arg;
	struct cluster_sync_state sync;
};

/* ---- cluster.c ---- */

/* Wall clock, ms since the epoch. */
int64_t cluster_wall_ms(void);
/* A connection or command failed: both master links are dropped from
 * the loop and made again with backoff.  Safe inside hiredis callbacks. */
void cluster_fail(struct cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Link k failed: cluster_fail, but for the Sentinel's watch while the
 * master's links are up, which alone is made again (with its own
 * backoff).  Safe inside hiredis callbacks. */
void cluster_link_fail(struct cluster_conn *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error reply to what: counted, logged once per streak. */
void cluster_error_reply(struct cluster *c, const char *what,
    const redisReply *r);
/* A value or message refused: counted, logged once per streak. */
void cluster_refuse(struct cluster *c, const char *where, const char *why);
void cluster_accepted(struct cluster *c);
/* Decided more than CLUSTER_SKEW_MS ahead of this clock (cluster.h). */
bool cluster_from_future(const struct cluster_event *e, int64_t wall_ms);
/* Hand e to the daemon's callback from the loop (never inside the call
 * that got it). */
void cluster_deliver(struct cluster *c, const struct cluster_event *e);
/* A resync's begin (done false) or end into the deliver ring. */
void cluster_deliver_sync(struct cluster *c, bool done);
/* Re-arm the tick timer if something is due before it. */
void cluster_tick_arm(struct cluster *c, int64_t when_ms);
/* Open the two master connections (the address is in c). */
void cluster_connect_master(struct cluster *c);
/* Push e (the oldest goes at the bound: *dropped); 0 or -1 (memory). */
int cluster_ring_push(struct cluster_ring *r, const struct cluster_event *e,
    bool *dropped);
bool cluster_ring_pop(struct cluster_ring *r, struct cluster_event *e);
/* The resync is over: the state becomes up. */
void cluster_sync_done(struct cluster *c);
/* "ADDR:PORT" or "[ADDR6]:PORT" (conf_cluster.c's form). 0 or -1. */
int cluster_split_hostport(const char *s, char *host, size_t hostlen,
    int *port);

/* ---- cluster_share.c ---- */

/* e (node and at filled in here): written now when up, else kept. */
void cluster_send(struct cluster *c, const struct cluster_event *e);
/* The backlog's next batch, once the last one is answered. */
void cluster_flush(struct cluster *c);

/* ---- cluster_conn.c ---- */

void cluster_conn_init(struct cluster_conn *k, struct cluster *c,
    enum cluster_role role, const char *name);
/* Start a non-blocking connect to host:port or path (path non-NULL),
 * then AUTH (when c has a password) and CLIENT SETNAME.  0 or -1 with
 * why. */
int cluster_conn_open(struct cluster_conn *k, const char *host, int port,
    const char *path, bool auth, char *why, size_t whylen);
/* Close it now (not from a hiredis callback): pending replies run with
 * NULL, then it is gone. */
void cluster_conn_close(struct cluster_conn *k);
/* Send a command; fn gets its reply.  q may be NULL (one is made).  0 or
 * -1 (not sent: q is freed). */
int cluster_conn_command(struct cluster_conn *k, struct cluster_req *q,
    cluster_reply_fn fn, const char *what, int argc, const char **argv,
    const size_t *argvlen);
/* Subscribe to channel: messages go to k->on_message. */
int cluster_conn_subscribe(struct cluster_conn *k, const char *channel);
/* A new request (zeroed), or NULL. */
struct cluster_req *cluster_req_new(void);
/* The earliest deadline of k (0 none); true when it passed at now. */
int64_t cluster_conn_deadline(const struct cluster_conn *k);
/* An ignorable reply: errors counted. */
void cluster_conn_reply_check(struct cluster_req *q, redisReply *r);

/* ---- cluster_sync.c ---- */

void cluster_sync_start(struct cluster *c);

/* ---- cluster_sentinel.c ---- */

/* Ask the next Sentinel for the master; on its answer connect. */
void cluster_sentinel_start(struct cluster *c);

#endif
