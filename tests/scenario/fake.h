/*
 * fake.h - the fakes the scenario tests link in place of the modules that
 * need root, a kernel or a network, and what the runners (scn.c,
 * run_gate.c, run_sniff.c) ask them.  The way Unbound's testcode replays
 * its daemon against scripted scenarios (fake_event.c, the .rpl files):
 * the real gate and sniffer run, every packet, answer and kernel set is
 * the script's.
 *
 *   fake_clock.c    the virtual clock: the event loop's (evloop_set_clock)
 *                   and the wall clock (time(3) is defined here, so
 *                   strikes, bans and allow-list expiry follow it too)
 *   fake_dns.c      include/dns.h whole: queries wait until a step answers
 *                   them; answers are built as DNS messages and read by
 *                   the real parser (dns_parse.c), hostile ones included
 *   fake_queue.c    include/queue.h but for queue_config_build (pure, in
 *                   queue_config.c): packets come from steps, verdicts are
 *                   recorded, a second verdict for one packet is trouble
 *   fake_nftset.c   include/nftset.h but for the element builders (pure,
 *                   in nftset_elem.c): a model of the kernel's sets, with
 *                   timeouts in virtual time, and a log of the changes
 *   fake_spf.c      include/spfcheck.h but for spfcheck_name (pure, in
 *                   spfcheck_name.c), in place of every spfcheck*.c file
 *                   that does I/O: checks wait for a step's result,
 *                   TEMPERROR at their deadline
 *   fake_kernel.c   the other netlink users the daemons call: gate_watch
 *                   (gate_int.h), sniff_ct_get, sniff_ct_ask and sniff_cut
 *                   (sniff_int.h)
 *   fake_cluster.c  the connection of cluster.h (cluster_new, _share,
 *                   _strike, _stats, ...; the formats of cluster_msg.c are
 *                   the real ones): siblings' messages from steps, what
 *                   the daemon shared recorded
 *
 * A fake that replaces a module defines every symbol the module exports,
 * so the linker never takes the real object from libsmtpgate.a: were it
 * pulled in for anything, its symbols would clash with the fake's.
 *
 * Every fake answers from the event loop (an eventfd of its own, or a
 * timer), never inside the call that asked, as the real modules promise.
 * What a fake finds wrong in how it is used (a verdict given twice, an
 * answer to a query nobody asked, a set change never sent) is reported
 * with fake_trouble; the runner fails the step in which it happened.
 *
 * State: the fakes replace modules whose interfaces carry no test
 * context, so each keeps file-scope state for the one process a scenario
 * runs in (scn.c forks one per scenario file).
 */
#ifndef SMTPGATE_FAKE_H
#define SMTPGATE_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dns.h"

/* ---- the virtual clock (fake_clock.c) ---- */

#define FAKE_CLOCK_START_MS	1000000000LL	/* the loop's clock at start */
#define FAKE_WALL_START_S	1700000000LL	/* time(3) at start */

int64_t fake_now_ms(void);
/* Move the clock to ms (never back). */
void fake_clock_set(int64_t ms);
/* For evloop_set_clock. */
int64_t fake_clock_fn(void *arg);

/* ---- trouble (fake_clock.c) ---- */

void fake_trouble(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The trouble reported since the last call, joined by "; " into buf;
 * false when there was none. */
bool fake_trouble_take(char *buf, size_t len);

/* ---- the resolver (fake_dns.c) ---- */

#define FAKE_RR_MAX		16
#define FAKE_TEXT_MAX		1024	/* a name as written, escapes included */

enum fake_answer_kind {
	FAKE_ANS_WIRE,		/* a message: rcode, flags, records */
	FAKE_ANS_RAW,		/* these bytes as the message */
	FAKE_ANS_TIMEOUT,	/* c-ares gave up: DNS_ERROR "timeout" */
	FAKE_ANS_CONNFAIL,	/* c-ares ended it with ECONNREFUSED */
};

/* One record of an answer; names as written in zone files (\DDD, \.). */
struct fake_rr {
	uint16_t type;			/* 12 PTR, 1 A, 28 AAAA, 5 CNAME */
	char owner[FAKE_TEXT_MAX];	/* "": the question's name */
	char data[FAKE_TEXT_MAX];	/* a name or an address */
};

struct fake_answer {
	enum fake_answer_kind kind;
	unsigned rcode;			/* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN */
	bool tc;			/* the truncated bit */
	size_t nrr;
	struct fake_rr rr[FAKE_RR_MAX];
	uint8_t raw[1024];
	size_t rawlen;
};

/*
 * Answer the oldest query of name and type (wire qtype) that is out and
 * unanswered; it is delivered from the loop.  0, or -1 when no such query
 * is out (then what is out, into why).
 */
int fake_dns_answer(const char *name, int qtype, const struct fake_answer *a,
    char *why, size_t whylen);
/*
 * Is a query of name and type out and unanswered (expect: marks it seen)?
 * 0, or -1 with what is out into why.
 */
int fake_dns_expect(const char *name, int qtype, char *why, size_t whylen);
/* Answer every query of name and type, those out now and those to come,
 * with a, delay_ms after it was asked. */
void fake_dns_rule(const char *name, int qtype, const struct fake_answer *a,
    int64_t delay_ms);
/* The queries asked that no step expected, answered or ruled on, into
 * buf; how many. */
size_t fake_dns_unseen(char *buf, size_t len);
/* How many queries of name and type were asked in all. */
size_t fake_dns_count(const char *name, int qtype);
/* "PTR", "A", ... for a wire qtype, or its number. */
const char *fake_dns_type_name(int qtype, char *buf, size_t len);
/* A wire qtype from "PTR", "A", "AAAA", "TXT", "MX", "CNAME"; -1. */
int fake_dns_type_parse(const char *s);

/* ---- the queue (fake_queue.c) ---- */

/* A packet for the open queue, delivered from the loop.  0, or -1 when no
 * queue is open or id was used already. */
int fake_queue_inject(uint32_t id, uint16_t hw_protocol, uint32_t mark,
    const uint8_t *data, size_t len);
/*
 * The verdict packet id got, not yet taken, as text into buf: "accept",
 * "drop", "reject", "repeat", "accept mark 0x00520000", "repeat mark
 * 0x00520000", "reject mark 0x00000001", "unbind" (the queue closed while
 * the kernel held it).  false when it has none (yet).
 */
bool fake_queue_take(uint32_t id, char *buf, size_t len);
/* The verdicts not taken, into buf; how many. */
size_t fake_queue_untaken(char *buf, size_t len);
/* Packets delivered that have no verdict. */
size_t fake_queue_held(void);

/* ---- the kernel's sets (fake_nftset.c) ---- */

/*
 * Take the first change sent that reads text ("add element pass4
 * 192.0.2.7 timeout 3600s", "delete element offend4 192.0.2.7").  0, or
 * -1 with the changes not taken into why.
 */
int fake_nft_take(const char *text, char *why, size_t whylen);
size_t fake_nft_untaken(char *buf, size_t len);
/*
 * The element key (an address, or ADDR/LEN in an interval set) of set, as
 * the model holds it now: 1 with its timeout (0: none) and the ms left
 * (-1: none), 0 when absent or expired.
 */
int fake_nft_has(const char *set, const char *key, uint64_t *timeout_ms,
    int64_t *left_ms);
/* The elements of set, into buf; how many. */
size_t fake_nft_list(const char *set, char *buf, size_t len);

/* ---- the SPF client (fake_spf.c) ---- */

enum spfcheck_result;
/* Is a check of the HELO identity helo out and unanswered (marks it
 * seen)?  0, or -1 with what is out into why. */
int fake_spf_expect(const char *helo, char *why, size_t whylen);
/* Answer the check of helo (every waiter of it).  0, or -1 with why. */
int fake_spf_answer(const char *helo, int result, char *why, size_t whylen);
/* Answer every check of helo, now and to come, with result. */
void fake_spf_rule(const char *helo, int result);
size_t fake_spf_unseen(char *buf, size_t len);
/* "pass", "fail", ... to a result; -1. */
int fake_spf_parse(const char *s);

/* ---- conntrack and sock_diag (fake_kernel.c) ---- */

/* What conntrack says of the session client:cport (rc 0 or -errno). */
void fake_ct_set(const struct addr *client, uint16_t cport, int rc,
    bool counted, uint64_t packets, uint8_t tcp_state);
/* sniff_cut of client:cport gives rc from now on (0 by default). */
void fake_cut_set(const struct addr *client, uint16_t cport, int rc);
/* Take the cut of client:cport.  0, or -1 with the cuts not taken. */
int fake_cut_take(const struct addr *client, uint16_t cport, char *why,
    size_t whylen);
size_t fake_cut_untaken(char *buf, size_t len);

/* ---- [cluster] (fake_cluster.c) ---- */

/* The steps "cluster event|total|shared ..." and "no cluster" (the
 * runners' tables; tests/scenario/README.md). */
struct scn;
int fake_cluster_step(struct scn *sc, int argc, char **argv);
int fake_cluster_step_none(struct scn *sc, int argc, char **argv);

#endif
