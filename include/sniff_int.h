/*
 * sniff_int.h - what sniff.c (packets, flows, the daemon) and
 * sniff_judge.c (judgments, strikes, bans, the state file) share; not for
 * other modules.
 */
#ifndef SMTPGATE_SNIFF_INT_H
#define SMTPGATE_SNIFF_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libpsl.h>

#include "bgsave.h"
#include "conf.h"
#include "control.h"
#include "dns.h"
#include "evloop.h"
#include "nftset.h"
#include "queue.h"
#include "spfcheck.h"
#include "strikes.h"

#define SNIFF_LAT_BUCKETS	1024	/* verdict latency, 1 us each */
#define SNIFF_CLEAN_SLOTS	65536	/* clean-judgment cache, power of 2 */

/* A clean DNS/SPF judgment of (client, kind, name): direct-mapped, a new
 * entry replaces whatever had its slot.  The name is kept as a 64-bit
 * keyed hash (clean_key): a collision could only skip one lookup, and an
 * attacker cannot make one without the key. */
struct sniff_clean {
	struct addr client;
	uint8_t kind;			/* HELO or MAIL FROM */
	uint64_t name_hash;		/* SipHash of the canonical name */
	int64_t until_ms;		/* 0: empty */
};

/* One SMTP session as the judgments see it; outlives its flow while a
 * judgment still runs. */
struct sniff_session {
	unsigned refs;			/* the flow + running judgments */
	bool struck;			/* a strike was counted already */
	bool mail_judged;		/* first MAIL FROM seen */
	bool cut;			/* cut (cut_session) already */
	struct addr client, local;	/* the session's addresses */
	uint16_t cport, lport;		/* and ports, host order */
	char helo[72];			/* last HELO, printable, for logs */
};

struct sniff_stats {
	uint64_t queued;		/* packets the queue handed us */
	uint64_t malformed;		/* unreadable packets (accepted) */
	uint64_t marked;		/* verdicts with MARK_SNIFFED */
	uint64_t flows;			/* sessions followed */
	uint64_t evicted;		/* flows dropped for max_flows */
	uint64_t loops;			/* marked packets queued again */
	uint64_t expired;		/* flows dropped when idle */
	uint64_t late;			/* joined mid-session: not read */
	uint64_t trusted;		/* trusted clients: not read */
	uint64_t lines, helos, mails;	/* command lines seen */
	uint64_t toolong;		/* lines over the limit */
	uint64_t starttls, data, lost;	/* how sessions ended */
	uint64_t judgments;		/* rule hits judged */
	uint64_t strikes, bans;
	uint64_t dns_queries, spf_queries, spf_errors;
	uint64_t overload;		/* work skipped: limits reached */
	uint64_t clean_hits;		/* DNS/SPF skipped: judged clean */
	uint64_t cuts, cut_errors;	/* sessions cut (cut_session) */
	uint64_t trickles;		/* sessions judged trickle */
	uint64_t lost_packets;		/* queued, never delivered to us
					 * (gaps in the queue's packet ids) */
	uint64_t ct_queries, ct_errors;	/* conntrack questions */
	uint64_t state_saves, state_errors;	/* state file writes */
	uint64_t state_save_ms;		/* the last write's run time */
	uint64_t lat_n;			/* verdict latencies measured */
	uint64_t lat[SNIFF_LAT_BUCKETS + 1];	/* last: >= 1024 us */
	uint64_t lat_max_us;
};

struct sniff {
	struct evloop *ev;
	struct conf conf;		/* current configuration */
	struct queue *q;
	struct nftset *nft;
	struct nl_sock *ct_nl;		/* conntrack questions (sniff_ct.c) */
	struct dns *dns;
	struct spfcheck *spf;
	struct control *ctl;
	psl_ctx_t *psl;
	struct strikes *strikes;
	struct sniff_flow **bucket;	/* flows by 4-tuple */
	size_t nbuckets;		/* power of two */
	struct siphash_key flow_key;	/* random: keys the flows' hash */
	struct siphash_key clean_key;	/* random: keys the clean cache */
	struct sniff_lru {
		struct sniff_flow *head, *tail;	/* oldest first */
	} reading, done;		/* flows being read; flows done */
	size_t nflows;
	struct sniff_flow *suspects;	/* flows read from their start that
					 * still lack their greeting */
	uint64_t loss_gen;		/* bumped when queued packets were lost */
	uint32_t next_qid;		/* the next queued packet's id */
	bool have_qid;			/* next_qid is known */
	size_t njudges;			/* judgments under lookup */
	struct ev_timer *tick;		/* once a second: expiry, state */
	struct sniff_clean *clean;	/* SNIFF_CLEAN_SLOTS */
	struct sniff_pending *pending;	/* one packet's lines to judge */
	unsigned expire_part;		/* the strike records' next part */
	struct bgsave *saver;		/* writes the state file in a child */
	uint64_t save_changes;		/* strikes_changes of its snapshot */
	int64_t next_save_ms;		/* no routine save before this */
	bool save_soon;			/* bans changed: save at the next tick */
	bool closing;			/* sniff_free: start no more saves */
	bool state_failing;		/* the last state save failed */
	struct sniff_stats st;
};

/* sniff_cut.c: destroy the local socket of a session (the MTA sees
 * ECONNABORTED, the client a reset).  0, or -errno (-ENOENT: gone). */
int sniff_cut(const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport);
/* Its message (family fam, 4- or 16-byte addresses) into b: 0 or -1. */
struct nl_batch;
int sniff_cut_build(struct nl_batch *b, int fam, const uint8_t local[16],
    uint16_t lport, const uint8_t remote[16], uint16_t rport);

/* sniff_ct.c: what conntrack knows of a session. */
struct sniff_ct {
	bool counted;			/* accounting on: packets is valid */
	uint64_t packets;		/* the client's packets so far */
	uint8_t tcp_state;		/* TCP_CONNTRACK_* */
};
/* Ask conntrack about client:cport -> local:lport (TCP) on *nlp (opened
 * at the first question; the caller closes it with nl_close).  0 with
 * *out, or -errno (-ENOENT: no such session). */
struct nl_sock;
int sniff_ct_get(struct nl_sock **nlp, const struct addr *client,
    uint16_t cport, const struct addr *local, uint16_t lport,
    struct sniff_ct *out);
/* Its message into b: 0, or -1 (families differ, out of memory). */
int sniff_ct_build(struct nl_batch *b, const struct addr *client,
    uint16_t cport, const struct addr *local, uint16_t lport);

/* sniff_judge.c */
struct strikes_cfg;
void sniff_strikes_cfg(const struct sniff *s, struct strikes_cfg *cfg);
void sniff_session_unref(struct sniff_session *ss);
/* A HELO/EHLO argument (raw bytes) from client in session ss. */
void sniff_judge_helo(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, const char *arg, size_t len);
/* The session's window closed (or its reading ended, or it closed) while
 * it lacked its greeting (lack "greeting") or bytes behind a gap
 * ("bytes"); npkts: its packets the sniffer saw. */
void sniff_judge_trickle(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, const char *lack, uint32_t npkts);
/* The domain of the session's first MAIL FROM. */
void sniff_judge_mail(struct sniff *s, struct sniff_session *ss,
    const struct addr *client, const char *dom, size_t len);
/*
 * State file: load (and re-add live bans to the sets).  Saves are written
 * from a snapshot by a child process (bgsave.h), never on the loop:
 * sniff_state_save asks for one (soon: bans changed, at the next tick;
 * else at most every state_save_interval), sniff_state_tick starts it
 * when due (one at a time; a change during a save is saved by the next),
 * sniff_state_final waits for a running one and writes what is left (at
 * shutdown, off the loop).
 */
int sniff_state_load(struct sniff *s, char *err, size_t errlen);
void sniff_state_save(struct sniff *s, bool soon);
void sniff_state_tick(struct sniff *s);
void sniff_state_final(struct sniff *s);
/* Set up the writer (after sniff_state_load); NULL on out of memory. */
struct bgsave *sniff_state_saver(struct sniff *s);
/* Control verbs offenders, forget, forget-all. */
void sniff_control_register(struct sniff *s);

#endif
