/*
 * sniff_int.h - what the files of smtpgate-sniffd's core share; not for
 * other modules (their entry points are sniff.h).  One section per file:
 *
 *   sniff.c          set-up, shutdown, reload, the queue callback, the tick
 *   sniff_flow.c     the flow table, its two LRU lists, expiry, sessions
 *   sniff_read.c     which sessions are read, reassembly, the lines to
 *                    judge, the protocol tests (smtpproto.h)
 *   sniff_trickle.c  the suspects, their conntrack questions, trickle
 *   sniff_ct.c       conntrack questions (ctnetlink)
 *   sniff_judge.c    HELO and MAIL FROM judgments and their DNS/SPF lookups
 *   sniff_rtt.c      the times of each session's handshake and banner
 *                    (nfnetlink_log copies), for pregreet's round trip
 *   sniff_hold.c     the banner hold ([sniffer] banner_hold_ms)
 *   sniff_clean.c    the clean-judgment cache
 *   sniff_strike.c   a rule hit: strikes, bans, cuts, the log line; the
 *                    offend sets' one writer
 *   sniff_cut.c      cutting a session (sock_diag)
 *   sniff_state.c    the state file and its background saves
 *   sniff_ctl.c      the control verbs and the stats line
 *   sniff_cluster.c  strikes and bans shared with the site's gateways
 *
 * Everything runs on the one event loop; struct sniff is the daemon's
 * context and every function takes it (or something that leads to it).
 */
#ifndef SMTPGATE_SNIFF_INT_H
#define SMTPGATE_SNIFF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpsl.h>

#include "bgsave.h"
#include "conf.h"
#include "control.h"
#include "dns.h"
#include "evloop.h"
#include "nftset.h"
#include "pkt.h"
#include "queue.h"
#include "siphash.h"
#include "smtpcmd.h"
#include "smtpproto.h"
#include "spfcheck.h"
#include "strikes.h"

#define SNIFF_LAT_BUCKETS	1024	/* verdict latency, 1 us each */
#define SNIFF_CT_PER_TICK	256	/* conntrack questions per tick, and
					 * suspects judged at expiry */

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
	struct sniff_jacc *jacc;	/* its journal row so far, or NULL
					 * (sniff_journal.c) */
};

/* One TCP session the sniffer follows (sniff_flow.c owns its life). */
struct sniff_flow {
	struct sniff *s;
	struct sniff_flow *next;		/* hash chain */
	struct sniff_flow *older, *newer;	/* its LRU list */
	struct sniff_lru *list;			/* reading or done */
	struct addr src, dst;
	uint16_t sport, dport;
	int64_t last_ms;			/* last packet */
	bool done;				/* mark, read no more */
	struct sniff_session *ss;
	struct smtpcmd *cmd;			/* reassembly; NULL once done */
	uint32_t npkts;				/* its packets queued to us */
	uint64_t loss_gen;			/* s->loss_gen at its start */
	bool from_start;			/* read from its first data */
	bool suspect;				/* on s->suspects */
	struct sniff_flow *sus_prev, *sus_next;
	int64_t ct_next_ms;			/* next look in conntrack */
	struct smtpproto proto;			/* the protocol tests, while
						 * read from its start */
	bool rtt_wait;				/* its first data waits for
						 * its handshake's copies */
	int64_t rtt_at_us;			/* when that data came */
	uint32_t rtt_ack;			/* and its ACK number */
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
	uint64_t observed_bans;		/* observe mode: bans not made */
	uint64_t dns_queries, spf_queries, spf_errors;
	uint64_t overload;		/* work skipped: limits reached */
	uint64_t clean_hits;		/* DNS/SPF skipped: judged clean */
	uint64_t cuts, cut_errors;	/* sessions cut (cut_session) */
	uint64_t trickles;		/* sessions judged trickle */
	uint64_t pregreets;		/* sessions that talked first */
	uint64_t protocol;		/* pipelining, non-smtp, bare-lf found */
	uint64_t rtt_copies;		/* nfnetlink_log copies read */
	uint64_t rtt_malformed;		/* copies we could not read */
	uint64_t rtt_missing;		/* first data whose copies never
					 * came: judged by the order alone */
	uint64_t rtt_waited;		/* first data before its copies */
	uint64_t rtt_evicted;		/* records pushed out untaken */
	uint64_t pregreet_ack, pregreet_rtt;	/* pregreets by round trip */
	uint64_t holds;			/* banners held (sniff_hold.c) */
	uint64_t hold_released;		/* held banners accepted */
	uint64_t hold_bypassed;		/* banners let go unheld: the hold
					 * FIFO full, or the hold off */
	uint64_t hold_ms_sum, hold_ms_max;	/* how long they waited */
	uint64_t lost_packets;		/* queued, never delivered to us
					 * (gaps in the queue's packet ids) */
	uint64_t ct_queries, ct_errors;	/* conntrack questions */
	uint64_t state_saves, state_errors;	/* state file writes */
	uint64_t state_save_ms;		/* the last write's run time */
	uint64_t lat_n;			/* verdict latencies measured */
	uint64_t lat[SNIFF_LAT_BUCKETS + 1];	/* last: >= 1024 us */
	uint64_t lat_max_us;
};

struct sniff_cluster_stats {
	uint64_t strikes_shared;	/* local strikes into the shared sum */
	uint64_t strikes_merged;	/* siblings' totals that raised a count */
	uint64_t total_bans;		/* bans made here on a shared total */
	uint64_t bans_shared;		/* bans made here, shared */
	uint64_t bans_applied;		/* siblings' bans applied here */
	uint64_t unbans_shared, unbans_applied;
	uint64_t skipped;		/* trusted client, observe mode */
	uint64_t expired;		/* a sibling's ban with no time left */
	uint64_t full;			/* the strike table was full */
};

struct sniff {
	struct evloop *ev;
	struct conf conf;		/* current configuration */
	struct queue *q;
	struct nflog *nflog;		/* the copies' group, or NULL: the
					 * round-trip test is off */
	struct sniff_rtt *rtt;		/* their records (sniff_rtt.c) */
	struct sniff_hold *hold;	/* the banner hold, or NULL: off */
	int64_t pkt_us;			/* when the queued packet in hand was
					 * read (evloop_clock_us) */
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
	struct sniff_clean *clean;	/* the clean cache (sniff_clean.c) */
	struct sniff_pending *pending;	/* one packet's lines to judge */
	unsigned expire_part;		/* the strike records' next part */
	struct bgsave *saver;		/* writes the state file in a child */
	uint64_t save_changes;		/* strikes_changes of its snapshot */
	int64_t next_save_ms;		/* no routine save before this */
	bool save_soon;			/* bans changed: save at the next tick */
	bool closing;			/* sniff_free: start no more saves */
	bool state_failing;		/* the last state save failed */
	struct sniff_stats st;
	struct journal *journal;	/* the verdict journal, NULL: off */
	struct cluster *cluster;	/* [cluster] sharing, NULL: off */
	char cluster_node[64];		/* this gateway's name in it */
	struct sniff_cluster_stats cst;
};

/* ---- sniff_flow.c: the flow table ---- */

/* The table (s->bucket); 0, or -1 with errno. */
int sniff_flow_init(struct sniff *s);
/* p's flow, or NULL. */
struct sniff_flow *sniff_flow_find(struct sniff *s, const struct pkt *p);
/* A new flow for p with its session, evicting the oldest flow (done ones
 * first) when max_flows are followed; NULL on out of memory. */
struct sniff_flow *sniff_flow_new(struct sniff *s, const struct pkt *p);
/* Put f at the young end of the list its state belongs on; a flow that
 * became done gives back its reassembly buffer (f->cmd = NULL). */
void sniff_flow_touch(struct sniff *s, struct sniff_flow *f);
void sniff_flow_free(struct sniff *s, struct sniff_flow *f);
void sniff_flow_free_all(struct sniff *s);
/* Flows idle for flow_idle (a suspect among them is judged first, at
 * most SNIFF_CT_PER_TICK a tick), done flows past their linger. */
void sniff_flow_expire(struct sniff *s, int64_t now_ms);
/* Drop a reference on a session; the last frees it. */
void sniff_flow_session_unref(struct sniff_session *ss);

/* ---- sniff_read.c: reading a session ---- */

struct sniff_pending;
/* The buffer of one packet's lines to judge (8 KiB); NULL on out of
 * memory, freed with free(). */
struct sniff_pending *sniff_read_pending_new(void);
/* Packet p of flow f (FIN or RST when fin; mark: its packet mark, which
 * says what the server had sent, marks.h): its first data decides
 * whether the session is read, its payload is reassembled, and f->done
 * says whether the verdict carries the mark.  The lines to judge, a
 * trickle finding and the protocol tests' findings go to pd, for
 * sniff_read_judge after the verdict. */
void sniff_read_packet(struct sniff *s, struct sniff_flow *f,
    const struct pkt *p, uint32_t mark, bool fin, struct sniff_pending *pd);
/* A pregreet finding of flow f's session made outside a packet (the
 * round trip's, when its copies came after the data): counted, logged,
 * struck as the rule says. */
void sniff_read_pregreet(struct sniff *s, struct sniff_flow *f);
/* Judge what sniff_read_packet put in pd. */
void sniff_read_judge(struct sniff *s, struct sniff_pending *pd);

/* ---- sniff_rtt.c: the times of handshakes and banners ---- */

struct nflog_packet;
/* The records (s->rtt); 0, or -1 on out of memory. */
int sniff_rtt_init(struct sniff *s);
/* Bind the copies' group when pregreet is on and it is not bound, let
 * it go when pregreet is off (start-up, reload).  Failing is logged: the
 * round-trip test is then off, the order test goes on. */
void sniff_rtt_open(struct sniff *s);
void sniff_rtt_close(struct sniff *s);
/* nflog's callback: one copy, read at read_us. */
void sniff_rtt_copy(void *arg, const struct nflog_packet *lp,
    int64_t read_us);
/* Flow f's first data came at at_us with acknowledgment number ack:
 * judged now with its record when the record is complete, else the flow
 * waits for the handshake ACK's copy (sniff_rtt_copy judges it then and
 * reports through sniff_read_pregreet).  The finding made now. */
unsigned sniff_rtt_first(struct sniff *s, struct sniff_flow *f,
    int64_t at_us, uint32_t ack);
/* Once a second: records no flow took within their time. */
void sniff_rtt_expire(struct sniff *s, int64_t now_ms);
void sniff_rtt_free_all(struct sniff *s);
size_t sniff_rtt_count(const struct sniff *s);

/* ---- sniff_hold.c: the banner hold ---- */

/* Bind the hold queue when banner_hold_ms > 0 and pregreet is on (start,
 * reload), let it go otherwise; failing is logged (the rule's bypass then
 * lets every banner go unheld). */
void sniff_hold_open(struct sniff *s);
/* Accept every held banner now (stop, reload). */
void sniff_hold_release(struct sniff *s);
/* Release, unbind, free. */
void sniff_hold_close(struct sniff *s);
/* Banners held now. */
size_t sniff_hold_count(const struct sniff *s);

/* ---- sniff_trickle.c: sessions short of their greeting ---- */

/* What f lacks, when a trickle finding can be made against it (read from
 * its start, no queued packet lost since, the rule on); else
 * SMTPCMD_LACKS_NOTHING.  f->cmd must still be there. */
enum smtpcmd_lack sniff_trickle_lack(const struct sniff *s,
    const struct sniff_flow *f);
/* After a packet of f that left it still read: the finding to judge when
 * this was the window's last packet (last) or the session's end (fin)
 * with a gap before it, or SMTPCMD_LACKS_NOTHING. */
enum smtpcmd_lack sniff_trickle_packet(const struct sniff *s,
    const struct sniff_flow *f, bool last, bool fin);
/* Put f on the suspects, or take it off, as its state now says. */
void sniff_trickle_update(struct sniff *s, struct sniff_flow *f);
/* Take f off the suspects (it is freed). */
void sniff_trickle_forget(struct sniff *s, struct sniff_flow *f);
/* Suspect f is read no more: done, and judged when judge says so and it
 * lacks something. */
void sniff_trickle_end(struct sniff *s, struct sniff_flow *f, bool judge);
/* Once a second: ask conntrack about the silent suspects. */
void sniff_trickle_tick(struct sniff *s, int64_t now_ms);
/* A trickle finding against f's session: lack is what it lacks. */
void sniff_trickle_judge(struct sniff *s, struct sniff_flow *f,
    enum smtpcmd_lack lack);

/* ---- sniff_ct.c: what conntrack knows of a session ---- */

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
struct nl_batch;
int sniff_ct_build(struct nl_batch *b, const struct addr *client,
    uint16_t cport, const struct addr *local, uint16_t lport);
/* sniff_ct_get about flow f on s->ct_nl, counted (ct_queries, and
 * ct_errors for a failure other than -ENOENT). */
int sniff_ct_ask(struct sniff *s, const struct sniff_flow *f,
    struct sniff_ct *out);

/* ---- sniff_judge.c: judging what a client says ---- */

enum sniff_judge_kind {
	SNIFF_JUDGE_HELO,		/* a HELO/EHLO name */
	SNIFF_JUDGE_MAIL,		/* the domain of a MAIL FROM */
};
/* A HELO/EHLO argument (raw bytes) in session ss. */
void sniff_judge_helo(struct sniff *s, struct sniff_session *ss,
    const char *arg, size_t len);
/* The domain of the session's first MAIL FROM. */
void sniff_judge_mail(struct sniff *s, struct sniff_session *ss,
    const char *dom, size_t len);

/* ---- sniff_clean.c: the clean-judgment cache ---- */

/* The cache's slots (zeroed: empty); NULL on out of memory, freed with
 * free(). */
struct sniff_clean *sniff_clean_new(void);
/* Was (client, kind, name) judged clean within clean_ttl?  A hit is
 * counted (clean_hits). */
bool sniff_clean_hit(struct sniff *s, const struct addr *client,
    enum sniff_judge_kind kind, const char *name);
/* (client, kind, name) was judged clean, with every answer in. */
void sniff_clean_put(struct sniff *s, const struct addr *client,
    enum sniff_judge_kind kind, const char *name);

/* ---- sniff_strike.c: acting on a rule hit ---- */

/* One hit of rule in session ss: counted, struck (once a session),
 * banned, cut, and logged in one line; extra (" key=value"...) goes into
 * that line. */
void sniff_strike_hit(struct sniff *s, struct sniff_session *ss,
    enum conf_rule rule, const char *extra);
/* Once a second: a sixtieth of the strike records expire. */
void sniff_strike_expire(struct sniff *s, int64_t wall);
/* Put r's running ban back into the offend sets (strikes_each). */
void sniff_strike_reban(void *arg, const struct strikes_rec *r);
/* Forget a's strikes and ban: 0, or -1 when it has none. */
int sniff_strike_forget(struct sniff *s, const struct addr *a);
/* Forget every record and ban; the number there was.  The running bans
 * lifted are shared as UNBANs ([cluster]). */
size_t sniff_strike_forget_all(struct sniff *s);
/* The strikes_cfg of the running configuration. */
void sniff_strike_cfg(const struct sniff *s, struct strikes_cfg *cfg);
/* Cut every open session of client a (enforce and cut_session only, as
 * a local ban would); how many. */
size_t sniff_strike_cut_client(struct sniff *s, const struct addr *a);

/* ---- sniff_cluster.c: strikes and bans shared ([cluster]) ---- */

/* Start sharing (sniff_new, before the daemon detaches); nothing when
 * [cluster] is off.  0, or -1 with err.  stop: sniff_free. */
int sniff_cluster_start(struct sniff *s, char *err, size_t errlen);
void sniff_cluster_stop(struct sniff *s);
/* A strike counted here (enforce mode): into the shared sum. */
void sniff_cluster_strike(struct sniff *s, const struct addr *a,
    enum conf_rule rule);
/* A ban made here: its number (bans), its length, the rule (NULL: none). */
void sniff_cluster_ban(struct sniff *s, const struct addr *a, uint32_t bans,
    uint32_t timeout_s, const char *rule);
/* A ban lifted here (forget, forget-all). */
void sniff_cluster_unban(struct sniff *s, const struct addr *a);

/* ---- sniff_cut.c: cutting a session ---- */

/* Destroy the local socket of a session (the MTA sees ECONNABORTED, the
 * client a reset).  0, or -errno (-ENOENT: gone). */
int sniff_cut(const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport);
/* Its message (family fam, 4- or 16-byte addresses) into b: 0 or -1. */
int sniff_cut_build(struct nl_batch *b, int fam, const uint8_t local[16],
    uint16_t lport, const uint8_t remote[16], uint16_t rport);

/* ---- sniff_state.c: the state file ---- */

/*
 * Strikes and bans persist in the state file.  sniff_state_open makes
 * its directory, loads it (putting live bans back into the sets) and sets
 * up the writer; 0, or -1 with err.  Saves are written from a snapshot by
 * a child process (bgsave.h), never on the loop: sniff_state_soon asks
 * for one at the next tick (bans changed; otherwise changes are saved at
 * most every state_save_interval), sniff_state_tick starts it when due
 * (one at a time; a change during a save is saved by the next),
 * sniff_state_close waits for a running one and writes what is left (at
 * shutdown, off the loop; nothing when the state was never loaded).
 */
int sniff_state_open(struct sniff *s, char *err, size_t errlen);
void sniff_state_soon(struct sniff *s);
void sniff_state_tick(struct sniff *s);
void sniff_state_close(struct sniff *s);

/* ---- sniff_ctl.c: the control socket ---- */

/* Register the verbs stats, reload, offenders, forget, forget-all,
 * cluster. */
void sniff_ctl_register(struct sniff *s);
/* The counters as "key=value ..." (the stats verb's reply). */
void sniff_ctl_stats_line(struct sniff *s, char *buf, size_t len);

/* ---- sniff_journal.c: the verdict journal's rows (no-ops while off) ---- */

struct sniff_jacc;
void sniff_journal_helo(struct sniff *s, struct sniff_session *ss,
    const char *arg, size_t len);
void sniff_journal_mail(struct sniff *s, struct sniff_session *ss,
    const char *dom, size_t len);
/* The SPF result of the HELO (enum spfcheck_result; < 0: none). */
void sniff_journal_spf(struct sniff *s, struct sniff_session *ss, int spf);
/* A rule hit, with its action and what sniff_strike_hit did ("strike"). */
void sniff_journal_hit(struct sniff *s, struct sniff_session *ss,
    enum conf_rule rule, enum action action, const char *act);
/* The session's last reference is going: its row, if it has one. */
void sniff_journal_end(struct sniff_session *ss);
void sniff_journal_close(struct sniff *s);

#endif
