/*
 * sniff.c - smtpgate-sniffd's packets and flows: the queue callback, the
 * per-session reassembly state, expiry, counters, reload and set-up
 * (contract in sniff.h; judgments are in sniff_judge.c).
 *
 * Every packet gets its verdict at once, so mail never waits on the
 * sniffer: its payload is reassembled (microseconds), the verdict sent,
 * and only then are its commands judged (DNS, SPF, logs).  The verdict is
 * accept, or, once the session is done (the first MAIL FROM, STARTTLS,
 * DATA, too many lines, bytes that cannot be placed, the window's last
 * packet, a trusted client, joined late), NF_REPEAT with MARK_SNIFFED,
 * which the ruleset copies to the conntrack mark so that no further packet
 * of the session is queued.
 *
 * Flows are kept in a hash by 4-tuple and in one of two LRU lists (oldest
 * first).  A flow being read ends on FIN or RST, when idle for flow_idle,
 * or when max_flows are followed and a new session needs the oldest
 * place (done flows go first).  A done flow keeps only its addresses (its
 * reassembly buffer is freed) and lingers SNIFF_DONE_LINGER_MS, to mark
 * packets of its session that were queued before the conntrack mark took
 * effect; one that comes later finds no flow and is marked as joined late.
 *
 * A flow is read from its first data (sniff_first_data): data that begins
 * with HELO or EHLO, or any data when conntrack says the client has sent
 * no more than SNIFF_START_PKTS packets; a session joined in the middle
 * (after a restart, or pushed out by max_flows) could put a message body
 * line where a command is expected, so it is read only when its data
 * begins with a command and is never judged trickle.
 *
 * Trickle (issue 8): a flow read from its start that reaches the window's
 * last packet ([sniffer] packets, counted here or, since pure ACKs are
 * not queued, by conntrack once the flow is silent), whose reading ends,
 * or that closes with a gap, all before a HELO/EHLO completed, is a
 * finding (smtpcmd_lack says what it lacks).  Flows short of their
 * greeting are kept on a list of suspects for the conntrack questions.
 * No finding while queued packets were lost (loss_gen).
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter/nf_conntrack_tcp.h>

#include "log.h"
#include "marks.h"
#include "netlink.h"
#include "pkt.h"
#include "privdrop.h"
#include "smtpcmd.h"
#include "sniff.h"
#include "sniff_int.h"

#define SNIFF_BUCKETS		65536
#define SNIFF_QUEUE_COPY	0xffff	/* whole packets: we read payload */
#define SNIFF_EXPIRE_EVERY_S	60	/* strike records: one sweep */
#define SNIFF_DONE_LINGER_MS	5000	/* a done flow is kept this long */
#define SNIFF_START_PKTS	5	/* a session's first data comes within
					 * its client's first packets */
#define SNIFF_SILENCE_MS	1000	/* a suspect this silent: ask conntrack */
#define SNIFF_CT_EVERY_MS	2000	/* and again after this */
#define SNIFF_CT_PER_TICK	256	/* conntrack questions per tick */

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
};

/* ---- flows ---- */

static uint32_t
sniff_hash(const struct sniff *s, const struct addr *src, uint16_t sport,
    uint16_t dport)
{
	return addr_hash_ports(&s->flow_key, src, sport, dport);
}

static struct sniff_flow **
sniff_slot(struct sniff *s, const struct pkt *p)
{
	return &s->bucket[sniff_hash(s, &p->src, p->sport, p->dport) &
	    (s->nbuckets - 1)];
}

static struct sniff_flow *
sniff_find(struct sniff *s, const struct pkt *p)
{
	for (struct sniff_flow *f = *sniff_slot(s, p); f; f = f->next)
		if (f->sport == p->sport && f->dport == p->dport &&
		    addr_eq(&f->src, &p->src) && addr_eq(&f->dst, &p->dst))
			return f;
	return NULL;
}

static void
sniff_lru_unlink(struct sniff_flow *f)
{
	struct sniff_lru *l = f->list;

	if (f->older != NULL)
		f->older->newer = f->newer;
	else
		l->head = f->newer;
	if (f->newer != NULL)
		f->newer->older = f->older;
	else
		l->tail = f->older;
	f->older = f->newer = NULL;
}

/* Put f at the young end of the list its state belongs on; a flow that
 * became done gives back its reassembly buffer. */
static void
sniff_lru_touch(struct sniff *s, struct sniff_flow *f)
{
	struct sniff_lru *l = f->done ? &s->done : &s->reading;

	if (f->list != NULL)
		sniff_lru_unlink(f);
	if (f->done && f->cmd != NULL) {
		free(f->cmd);
		f->cmd = NULL;
	}
	f->list = l;
	f->older = l->tail;
	f->newer = NULL;
	if (l->tail != NULL)
		l->tail->newer = f;
	else
		l->head = f;
	l->tail = f;
}

/* ---- suspects: read from their start, still short of a greeting ---- */

static void
sniff_suspect_unlink(struct sniff *s, struct sniff_flow *f)
{
	if (!f->suspect)
		return;
	if (f->sus_prev != NULL)
		f->sus_prev->sus_next = f->sus_next;
	else
		s->suspects = f->sus_next;
	if (f->sus_next != NULL)
		f->sus_next->sus_prev = f->sus_prev;
	f->sus_prev = f->sus_next = NULL;
	f->suspect = false;
}

/* Can a trickle finding be made against f?  Only when it was read from
 * its session's first data and no queued packet was lost meanwhile (a
 * lost one could be the missing bytes). */
static bool
sniff_trickle_judgeable(const struct sniff *s, const struct sniff_flow *f)
{
	return f->from_start && f->loss_gen == s->loss_gen &&
	    s->conf.sniffer.rule[RULE_TRICKLE] != ACTION_OFF;
}

static void
sniff_suspect_update(struct sniff *s, struct sniff_flow *f)
{
	bool want = !f->done && f->cmd != NULL && f->from_start &&
	    smtpcmd_lack(f->cmd) != SMTPCMD_LACKS_NOTHING;

	if (want == f->suspect)
		return;
	if (!want) {
		sniff_suspect_unlink(s, f);
		return;
	}
	f->suspect = true;
	f->sus_prev = NULL;
	f->sus_next = s->suspects;
	if (s->suspects != NULL)
		s->suspects->sus_prev = f;
	s->suspects = f;
	f->ct_next_ms = 0;
}

static void
sniff_flow_free(struct sniff *s, struct sniff_flow *f)
{
	struct sniff_flow **p = &s->bucket[sniff_hash(s, &f->src, f->sport,
	    f->dport) & (s->nbuckets - 1)];

	for (; *p != NULL; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	sniff_lru_unlink(f);
	sniff_suspect_unlink(s, f);
	sniff_session_unref(f->ss);
	free(f->cmd);
	free(f);
	s->nflows--;
}

static struct sniff_flow *
sniff_flow_new(struct sniff *s, const struct pkt *p)
{
	struct sniff_flow *f;

	if (s->nflows >= s->conf.sniffer.max_flows) {
		struct sniff_flow *old = s->done.head != NULL ? s->done.head :
		    s->reading.head;

		if (old != NULL) {
			s->st.evicted++;
			sniff_flow_free(s, old);
		}
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->ss = calloc(1, sizeof(*f->ss))) == NULL ||
	    (f->cmd = malloc(sizeof(*f->cmd))) == NULL) {
		free(f->ss);
		free(f);
		return NULL;
	}
	f->ss->refs = 1;
	f->ss->client = p->src;
	f->ss->local = p->dst;
	f->ss->cport = p->sport;
	f->ss->lport = p->dport;
	f->s = s;
	f->src = p->src;
	f->dst = p->dst;
	f->sport = p->sport;
	f->dport = p->dport;
	f->loss_gen = s->loss_gen;
	smtpcmd_init(f->cmd);
	f->next = *sniff_slot(s, p);
	*sniff_slot(s, p) = f;
	sniff_lru_touch(s, f);
	s->nflows++;
	s->st.flows++;
	return f;
}

/* ---- reading ---- */

#define SNIFF_PENDING_MAX	8	/* HELO/MAIL lines judged per packet */

/* The lines of one packet worth judging, kept until its verdict is sent. */
struct sniff_pending {
	struct sniff_flow *f;
	enum smtpcmd_lack trickle;	/* a trickle finding to judge */
	size_t n;
	struct {
		enum smtpcmd_verb v;
		size_t len;
		char arg[SMTPCMD_LINE_MAX];
	} line[SNIFF_PENDING_MAX];
};

static void
sniff_line(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct sniff_pending *pd = ctx;
	struct sniff *s = pd->f->s;

	s->st.lines++;
	if (v == SMTPCMD_TOOLONG)
		s->st.toolong++;
	if (v != SMTPCMD_HELO && v != SMTPCMD_EHLO && v != SMTPCMD_MAIL)
		return;
	if (pd->n == SNIFF_PENDING_MAX || len > SMTPCMD_LINE_MAX) {
		s->st.overload++;
		return;
	}
	pd->line[pd->n].v = v;
	pd->line[pd->n].len = len;
	memcpy(pd->line[pd->n].arg, arg, len);
	pd->n++;
}

/* Reassemble p's payload; the lines to judge go to pd. */
static void
sniff_read(struct sniff *s, struct sniff_flow *f, const struct pkt *p,
    struct sniff_pending *pd)
{
	enum smtpcmd_end e;

	e = smtpcmd_feed(f->cmd, p->seq, p->payload, p->payload_len,
	    sniff_line, pd);
	if (e == SMTPCMD_READING)
		return;
	/* Reading ended before a greeting: 64 lines of padding, or bytes
	 * that could not be placed. */
	if (sniff_trickle_judgeable(s, f))
		pd->trickle = smtpcmd_lack(f->cmd);
	f->done = true;
	if (e == SMTPCMD_END_STARTTLS)
		s->st.starttls++;
	else if (e == SMTPCMD_END_DATA)
		s->st.data++;
	else if (e == SMTPCMD_LOST)
		s->st.lost++;
	if (log_get_verbose() > 0) {
		char ip[ADDR_STRLEN];
		log_debug("sniff: %s:%u done (%s)", addr_ntop(&f->src, ip),
		    f->sport, smtpcmd_end_name(e));
	}
}

/* The judgments of one packet's lines, after its verdict. */
static void
sniff_judge_pending(struct sniff *s, struct sniff_pending *pd)
{
	struct sniff_flow *f = pd->f;

	if (pd->trickle != SMTPCMD_LACKS_NOTHING)
		sniff_judge_trickle(s, f->ss, &f->src,
		    smtpcmd_lack_name(pd->trickle), f->npkts);
	for (size_t i = 0; i < pd->n; i++) {
		if (pd->line[i].v != SMTPCMD_MAIL) {
			sniff_judge_helo(s, f->ss, &f->src, pd->line[i].arg,
			    pd->line[i].len);
		} else if (!f->ss->mail_judged) {
			/* Only the first transaction's sender is judged. */
			f->ss->mail_judged = true;
			sniff_judge_mail(s, f->ss, &f->src, pd->line[i].arg,
			    pd->line[i].len);
		}
	}
}

static void
sniff_latency(struct sniff *s, int64_t t0)
{
	int64_t us = evloop_clock_us() - t0;

	if (us < 0)
		us = 0;
	s->st.lat_n++;
	s->st.lat[us < SNIFF_LAT_BUCKETS ? us : SNIFF_LAT_BUCKETS]++;
	if ((uint64_t)us > s->st.lat_max_us)
		s->st.lat_max_us = (uint64_t)us;
}

/*
 * Does the payload begin with one of verbs[0..n) (any case), then a blank
 * or the line's end, or with a beginning of one (a trickling client)?
 */
static bool
sniff_begins(const struct pkt *p, const char *const *verbs, size_t nverbs)
{
	size_t n = p->payload_len < 4 ? p->payload_len : 4;
	uint8_t next;

	for (size_t i = 0; i < nverbs; i++) {
		if (strncasecmp((const char *)p->payload, verbs[i], n) != 0)
			continue;
		if (p->payload_len <= 4)
			return true;
		next = p->payload[4];
		if (next == ' ' || next == '\t' || next == '\r' ||
		    next == '\n')
			return true;
	}
	return false;
}

/* A session's first words: HELO or EHLO. */
static bool
sniff_greeting(const struct pkt *p)
{
	static const char *const v[] = { "HELO", "EHLO" };

	return sniff_begins(p, v, sizeof(v) / sizeof(v[0]));
}

/* A command a client may send before its HELO (RFC 5321 4.1.4), or QUIT. */
static bool
sniff_command(const struct pkt *p)
{
	static const char *const v[] = { "HELO", "EHLO", "NOOP", "RSET",
	    "HELP", "VRFY", "EXPN", "QUIT" };

	return sniff_begins(p, v, sizeof(v) / sizeof(v[0]));
}

/*
 * The first data of flow f.  A session is read from its start: a HELO or
 * EHLO there is its start; other data is its start when conntrack says
 * the client has sent no more than SNIFF_START_PKTS packets (SYN, the
 * handshake's ACK, an ACK of the banner, this one), whatever the data
 * says (NOOP, junk, an empty line, the tail of a command sent first).  A
 * session joined in the middle (after a restart, or pushed out by
 * max_flows) could put a message body line where a command is expected:
 * it is read only when its data begins with a command, and never judged
 * trickle (what it lacks was said before we joined).
 */
static void
sniff_first_data(struct sniff *s, struct sniff_flow *f, const struct pkt *p)
{
	struct sniff_ct ct;
	int rc;

	if (sniff_greeting(p)) {
		f->from_start = true;
		return;
	}
	s->st.ct_queries++;
	rc = sniff_ct_get(&s->ct_nl, &f->src, f->sport, &f->dst, f->dport,
	    &ct);
	if (rc != 0 && rc != -ENOENT)
		s->st.ct_errors++;
	if (rc == 0 && ct.counted && ct.packets <= SNIFF_START_PKTS) {
		f->from_start = true;
		return;
	}
	if (sniff_command(p))
		return;
	s->st.late++;
	f->done = true;
}

/* Queued packets the sniffer reads per session: ct original packets 3..N
 * of the ruleset. */
static uint32_t
sniff_window(const struct sniff *s)
{
	return s->conf.sniffer.packets > 2 ? s->conf.sniffer.packets - 2 : 0;
}

/* The queue numbers its packets in order: a jump means packets queued to
 * us were never delivered (socket full), so a flow's gap may be ours. */
static void
sniff_queue_id(struct sniff *s, uint32_t id)
{
	uint32_t skipped = id - s->next_qid;

	if (s->have_qid && skipped != 0 && skipped < (1u << 31)) {
		s->st.lost_packets += skipped;
		s->loss_gen++;
	}
	s->next_qid = id + 1;
	s->have_qid = true;
}

static void
sniff_packet(void *arg, const struct queue_packet *qp)
{
	struct sniff *s = arg;
	int64_t t0 = evloop_clock_us();
	/* 8 KiB, reused: the callback is never re-entered. */
	struct sniff_pending *pd = s->pending;
	struct sniff_flow *f;
	struct pkt p;
	const char *why;
	bool fin;

	s->st.queued++;
	sniff_queue_id(s, qp->id);
	if ((qp->mark & MARK_MASK) == MARK_SNIFFED) {
		/*
		 * A packet we marked came back: the ruleset lacks the rule
		 * that copies the mark to the conntrack mark (and accepts).
		 * Accept it rather than send it round forever.
		 */
		if (s->st.loops++ == 0)
			log_warnx("sniff: a marked packet was queued again; the "
			    "ruleset's sniffed-mark rule is missing");
		queue_verdict(s->q, qp->id, QUEUE_ACCEPT, qp->mark);
		sniff_latency(s, t0);
		return;
	}
	if (pkt_parse(qp->payload, qp->len, &p, &why) == -1) {
		s->st.malformed++;
		queue_verdict(s->q, qp->id, QUEUE_ACCEPT, qp->mark);
		sniff_latency(s, t0);
		log_debug("sniff: packet %u unreadable (%s), accepted", qp->id,
		    why);
		return;
	}
	fin = (p.tcp_flags & (PKT_TCP_FIN | PKT_TCP_RST)) != 0;
	pd->n = 0;
	pd->trickle = SMTPCMD_LACKS_NOTHING;
	pd->f = f = sniff_find(s, &p);
	if (f == NULL && !fin && (pd->f = f = sniff_flow_new(s, &p)) != NULL &&
	    conf_trusted(&s->conf.gate, &p.src)) {
		s->st.trusted++;
		f->done = true;
	}
	if (f != NULL)
		f->npkts++;
	if (f != NULL && !f->done && p.payload_len > 0 && !f->cmd->started)
		sniff_first_data(s, f, &p);
	/*
	 * Reassembly takes a microsecond or two and tells whether this very
	 * packet ends the session, so it can carry the mark; the judgments
	 * (DNS, SPF, logs) wait until the verdict is sent.
	 */
	if (f != NULL && !f->done && p.payload_len > 0 && !p.truncated)
		sniff_read(s, f, &p, pd);
	if (f != NULL && !f->done) {
		enum smtpcmd_lack lack = smtpcmd_lack(f->cmd);
		uint32_t w = sniff_window(s);
		bool last = w > 0 && f->npkts >= w;

		/*
		 * The window's last packet (the ruleset queues no more of
		 * the session), or the session's end with a gap before it,
		 * and still no greeting: a trickle finding.  A session that
		 * ends without a gap ended normally, whatever it said.
		 */
		if ((last || (fin && lack == SMTPCMD_LACKS_BYTES)) &&
		    lack != SMTPCMD_LACKS_NOTHING &&
		    sniff_trickle_judgeable(s, f))
			pd->trickle = lack;
		if (last)
			f->done = true;
	}
	if (f != NULL && f->done) {
		s->st.marked++;
		queue_verdict_mark(s->q, qp->id, true,
		    (qp->mark & ~MARK_MASK) | MARK_SNIFFED);
	} else {
		queue_verdict(s->q, qp->id, QUEUE_ACCEPT, qp->mark);
	}
	sniff_latency(s, t0);
	if (f == NULL)
		return;
	f->last_ms = evloop_now_ms(s->ev);
	if (!fin) {
		sniff_lru_touch(s, f);
		sniff_suspect_update(s, f);
	}
	sniff_judge_pending(s, pd);
	if (fin)
		sniff_flow_free(s, f);
}

/*
 * A suspect is read no more: its window closed (conntrack counted more
 * packets than the ruleset queues), it went silent for flow_idle, or it
 * closed (then only a gap is a finding: a session that ends without one
 * ended normally).  Judge what it lacks when judge says so.
 */
static void
sniff_suspect_end(struct sniff *s, struct sniff_flow *f, bool judge)
{
	enum smtpcmd_lack lack = smtpcmd_lack(f->cmd);

	sniff_suspect_unlink(s, f);
	f->done = true;
	sniff_lru_touch(s, f);
	if (judge && lack != SMTPCMD_LACKS_NOTHING &&
	    sniff_trickle_judgeable(s, f))
		sniff_judge_trickle(s, f->ss, &f->src, smtpcmd_lack_name(lack),
		    f->npkts);
}

/*
 * Suspects silent for a second: the sniffer cannot see the rest of a
 * session whose window has closed (nor pure ACKs, which are not queued),
 * so it asks conntrack how many packets the client has sent.  At most
 * SNIFF_CT_PER_TICK questions a second, each flow every SNIFF_CT_EVERY_MS.
 */
static void
sniff_suspects_tick(struct sniff *s, int64_t now)
{
	struct sniff_flow *f, *next;
	unsigned asked = 0;

	for (f = s->suspects; f != NULL && asked < SNIFF_CT_PER_TICK;
	    f = next) {
		struct sniff_ct ct;
		int rc;

		next = f->sus_next;
		if (now - f->last_ms < SNIFF_SILENCE_MS || now < f->ct_next_ms)
			continue;
		f->ct_next_ms = now + SNIFF_CT_EVERY_MS;
		asked++;
		s->st.ct_queries++;
		rc = sniff_ct_get(&s->ct_nl, &f->src, f->sport, &f->dst,
		    f->dport, &ct);
		if (rc != 0 && rc != -ENOENT)
			s->st.ct_errors++;
		if (rc == -ENOENT)
			sniff_suspect_end(s, f, false);		/* gone */
		else if (rc == 0 && ct.counted &&
		    ct.packets > s->conf.sniffer.packets)
			sniff_suspect_end(s, f, true);		/* window */
		else if (rc == 0 && ct.tcp_state >= TCP_CONNTRACK_FIN_WAIT &&
		    ct.tcp_state <= TCP_CONNTRACK_CLOSE)
			/* Closing (its FIN or RST is not queued to us: the
			 * ruleset returns bare ones): only a gap is left. */
			sniff_suspect_end(s, f, smtpcmd_lack(f->cmd) ==
			    SMTPCMD_LACKS_BYTES);
	}
}

/* Once a second: idle flows, old strike records, the state file. */
static void
sniff_tick(void *arg)
{
	struct sniff *s = arg;
	int64_t now = evloop_now_ms(s->ev), wall = time(NULL);
	int64_t idle = (int64_t)s->conf.sniffer.flow_idle_s * 1000;
	unsigned judged = 0;

	sniff_suspects_tick(s, now);
	while (s->reading.head != NULL &&
	    now - s->reading.head->last_ms >= idle) {
		struct sniff_flow *f = s->reading.head;

		s->st.expired++;
		/* Silent for flow_idle in the middle of its greeting: a
		 * pause past our memory would hide the rest. */
		if (f->suspect && judged++ < SNIFF_CT_PER_TICK) {
			sniff_suspect_end(s, f, true);
			continue;
		}
		sniff_flow_free(s, f);
	}
	while (s->done.head != NULL &&
	    now - s->done.head->last_ms >= SNIFF_DONE_LINGER_MS)
		sniff_flow_free(s, s->done.head);
	{
		struct strikes_cfg cfg;

		/* A sixtieth of the records each second, the whole table
		 * each minute: one walk of a million took 140 ms. */
		sniff_strikes_cfg(s, &cfg);
		strikes_expire_part(s->strikes, wall, &cfg, s->expire_part,
		    SNIFF_EXPIRE_EVERY_S);
		s->expire_part = (s->expire_part + 1) % SNIFF_EXPIRE_EVERY_S;
	}
	sniff_state_tick(s);
	s->tick = evloop_timer_at(s->ev, now + 1000, sniff_tick, s);
}

static void
sniff_idle(void *arg)
{
	struct sniff *s = arg;

	/* nftset logs what failed, with its table and cause. */
	(void)nftset_flush(s->nft);
}

static void
sniff_nft_readable(int fd, uint32_t events, void *arg)
{
	struct sniff *s = arg;

	(void)fd;
	(void)events;
	nftset_process(s->nft);
}

/* ---- configuration ---- */

/* my_hostnames and my_addresses default to the system's. */
static void
sniff_conf_fill(struct conf *c)
{
	struct conf_sniffer *cs = &c->sniffer;
	struct ifaddrs *ifa, *i;
	char host[256];

	if (cs->nmy_hostnames == 0 && gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		for (char *p = host; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (strlen(host) < CONF_NAME_MAX && host[0] != '\0')
			memcpy(cs->my_hostnames[cs->nmy_hostnames++], host,
			    strlen(host) + 1);
	}
	if (cs->nmy_addresses == 0 && getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL && cs->nmy_addresses <
		    CONF_MAX_MYADDRS; i = i->ifa_next) {
			struct addr *a = &cs->my_addresses[cs->nmy_addresses];

			if (i->ifa_addr == NULL)
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				addr_from_v4(a, (const uint8_t *)&((struct
				    sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
			else if (i->ifa_addr->sa_family == AF_INET6)
				addr_from_v6(a, (const uint8_t *)&((struct
				    sockaddr_in6 *)(void *)i->ifa_addr)->
				    sin6_addr);
			else
				continue;
			cs->nmy_addresses++;
		}
		freeifaddrs(ifa);
	}
}

/*
 * The state file's directory.  A missing one is created (mode 0750) and,
 * when the daemon will change user (started as root), given to that user,
 * who writes the state file from then on.  An existing one is left as it
 * is, but that user must be able to write it, or every save would fail:
 * the daemon refuses to start instead.
 */
static int
sniff_state_dir(const char *path, char *err, size_t errlen)
{
	struct privdrop_user u;
	struct stat st;
	char dir[256];
	char *slash;
	int fd;

	if (privdrop_lookup(&u, err, errlen) == -1)
		return -1;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (mkdir(dir, 0750) == 0) {
		if (!u.change)
			return 0;
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1 || fchown(fd, u.uid, u.gid) == -1) {
			snprintf(err, errlen, "state: chown %s to user %s: "
			    "%s: %s", dir, u.name, fd == -1 ? "open" :
			    "fchown", strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
		log_info("state: created %s for user %s", dir, u.name);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "state: mkdir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!u.change)
		return 0;
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    !privdrop_may(&u, &st, W_OK | X_OK)) {
		snprintf(err, errlen, "state: directory %s is not writable by "
		    "user %s, which the daemon runs as (chown %s %s, or set "
		    "[sniffer] state_file elsewhere)", dir, u.name, u.name,
		    dir);
		return -1;
	}
	return 0;
}

static void sniff_ctl_stats(void *arg, int argc, char *argv[],
    struct control_reply *r);

static void
sniff_ctl_reload(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct sniff *s = arg;
	char err[CONF_ERR_MAX];

	(void)argc;
	(void)argv;
	if (sniff_reload(s, s->conf.path, err, sizeof(err)) == -1)
		control_reply_error(r, "%s", err);
}

struct sniff *
sniff_new(struct evloop *ev, const struct conf *c, char *err, size_t errlen)
{
	struct sniff *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "sniff: calloc the sniffer: %s",
		    strerror(errno));
		return NULL;
	}
	s->ev = ev;
	s->conf = *c;
	sniff_conf_fill(&s->conf);
	s->nbuckets = SNIFF_BUCKETS;
	if (siphash_key_random(&s->flow_key) == -1 ||
	    siphash_key_random(&s->clean_key) == -1) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if ((s->bucket = calloc(s->nbuckets, sizeof(*s->bucket))) == NULL ||
	    (s->clean = calloc(SNIFF_CLEAN_SLOTS, sizeof(*s->clean))) ==
	    NULL || (s->pending = calloc(1, sizeof(*s->pending))) == NULL ||
	    (s->strikes = strikes_new()) == NULL) {
		snprintf(err, errlen, "sniff: the flow, clean and strike "
		    "tables: %s", strerror(errno));
		goto fail;
	}
	if ((s->psl = psl_latest(NULL)) == NULL) {
		snprintf(err, errlen, "psl_latest: no public suffix list");
		goto fail;
	}
	if ((s->nft = nftset_open(c->nft.table, err, errlen)) == NULL)
		goto fail;
	if (evloop_fd_add(ev, nftset_fd(s->nft), EPOLLIN, sniff_nft_readable,
	    s) == -1) {
		snprintf(err, errlen, "sniff: epoll add nft socket of table inet "
		    "%s: %s", c->nft.table, strerror(errno));
		goto fail;
	}
	if (sniff_state_dir(c->sniffer.state_file, err, errlen) == -1 ||
	    sniff_state_load(s, err, errlen) == -1)
		goto fail;
	if (sniff_state_saver(s) == NULL) {
		snprintf(err, errlen, "sniff: state saver of %s: %s",
		    c->sniffer.state_file, strerror(errno));
		goto fail;
	}
	if ((s->dns = dns_new(ev, &c->dns, err, errlen)) == NULL)
		goto fail;
	{
		/* The SPF helpers start now, while we may still give them a
		 * uid of their own: libspf2 never runs in this process. */
		struct spfcheck_opts so = {
			.workers = c->sniffer.spf_workers,
			.max_per_client = c->sniffer.spf_max_per_client,
			.user = strcmp(c->sniffer.spf_user, "dynamic") == 0 ?
			    "" : c->sniffer.spf_user,
			.screen = true,
		};
		char info[128];

		if ((s->spf = spfcheck_new(ev, &c->dns, &so, info, err,
		    errlen)) == NULL)
			goto fail;
		log_info("%s", info);
	}
	if ((s->ctl = control_open(ev, c->sniffer.control_socket, err,
	    errlen)) == NULL)
		goto fail;
	if (control_register(s->ctl, "stats", sniff_ctl_stats, s) ||
	    control_register(s->ctl, "reload", sniff_ctl_reload, s))
		log_panic("control_register: verb table full");
	sniff_control_register(s);
	s->q = queue_open(ev, c->sniffer.queue, c->sniffer.queue_maxlen,
	    SNIFF_QUEUE_COPY, sniff_packet, s, err, errlen);
	if (s->q == NULL)
		goto fail;
	if ((s->tick = evloop_timer_at(ev, evloop_now_ms(ev) + 1000,
	    sniff_tick, s)) == NULL) {
		snprintf(err, errlen, "sniff: evloop_timer_at the tick: %s",
		    strerror(errno));
		goto fail;
	}
	evloop_set_idle(ev, sniff_idle, s);
	return s;
fail:
	sniff_free(s);
	return NULL;
}

void
sniff_free(struct sniff *s)
{
	if (s == NULL)
		return;
	if (s->tick != NULL)
		evloop_timer_cancel(s->ev, s->tick);
	/* Packets are answered as they come: none is held here. */
	if (s->q != NULL)
		queue_close(s->q);
	while (s->reading.head != NULL)
		sniff_flow_free(s, s->reading.head);
	while (s->done.head != NULL)
		sniff_flow_free(s, s->done.head);
	/* Cancelled callbacks release the judgments still running. */
	spfcheck_free(s->spf);
	if (s->dns != NULL)
		dns_free(s->dns);
	if (s->ctl != NULL)
		control_close(s->ctl);
	/* Only once the state was loaded: never save over it unread. */
	if (s->saver != NULL) {
		sniff_state_final(s);
		bgsave_free(s->saver);
	}
	if (s->nft != NULL) {
		if (nftset_sync(s->nft) == -1)
			log_warnx("sniff: nft: last set changes not all "
			    "applied");
		evloop_fd_del(s->ev, nftset_fd(s->nft));
		nftset_close(s->nft);
	}
	nl_close(s->ct_nl);
	strikes_free(s->strikes);
	psl_free(s->psl);
	free(s->bucket);
	free(s->clean);
	free(s->pending);
	free(s);
}

int
sniff_reload(struct sniff *s, const char *path, char *err, size_t errlen)
{
	struct conf *c = malloc(sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "reload: malloc a configuration: %s",
		    strerror(errno));
		return -1;
	}
	/* Keys the sniffer cannot change running (the table, the queue, the
	 * state file, the socket, the SPF helpers) keep their values. */
	if (conf_reload(path, &s->conf, CONF_SNIFFD, c, err, errlen,
	    log_warnx) == -1) {
		free(c);
		return -1;
	}
	sniff_conf_fill(c);
	if (memcmp(&c->dns, &s->conf.dns, sizeof(c->dns)) != 0) {
		struct dns *nd = dns_new(s->ev, &c->dns, err, errlen);

		if (nd == NULL) {
			free(c);
			return -1;
		}
		if (spfcheck_set_dns(s->spf, &c->dns, err, errlen) == -1) {
			dns_free(nd);
			free(c);
			return -1;
		}
		/* c-ares cannot change servers under running queries. */
		dns_retire(s->dns);
		s->dns = nd;
	}
	spfcheck_set_max_per_client(s->spf, c->sniffer.spf_max_per_client);
	s->conf = *c;
	free(c);
	log_info("reloaded %s", path);
	return 0;
}

/* ---- counters ---- */

/* The latency below which a fraction q of the verdicts were given. */
static uint64_t
sniff_lat_quantile(const struct sniff_stats *st, double q)
{
	uint64_t want = (uint64_t)((double)st->lat_n * q), seen = 0;

	if (st->lat_n == 0)
		return 0;
	for (size_t i = 0; i <= SNIFF_LAT_BUCKETS; i++) {
		seen += st->lat[i];
		if (seen > want || seen == st->lat_n)
			return i < SNIFF_LAT_BUCKETS ? i : st->lat_max_us;
	}
	return st->lat_max_us;
}

static void
sniff_stats_format(struct sniff *s, char *buf, size_t len)
{
	const struct sniff_stats *st = &s->st;
	const struct queue_stats *qs = queue_stats(s->q);
	const struct nftset_stats *ns = nftset_stats(s->nft);
	const struct spfcheck_stats *ps = spfcheck_stats(s->spf);

	snprintf(buf, len, "queued=%llu malformed=%llu marked=%llu "
	    "flows=%llu active_flows=%zu evicted=%llu expired=%llu late=%llu "
	    "loops=%llu "
	    "trusted=%llu lines=%llu helos=%llu mails=%llu toolong=%llu "
	    "starttls=%llu data=%llu lost=%llu judgments=%llu strikes=%llu "
	    "bans=%llu offenders=%zu dns_queries=%llu spf_queries=%llu "
	    "spf_errors=%llu overload=%llu clean_hits=%llu cuts=%llu "
	    "cut_errors=%llu trickles=%llu lost_packets=%llu "
	    "ct_queries=%llu ct_errors=%llu state_saves=%llu state_errors=%llu "
	    "state_save_ms=%llu verdict_p50_us=%llu "
	    "verdict_p99_us=%llu verdict_max_us=%llu loop_stall_max_us=%llu "
	    "enobufs=%llu verdict_errors=%llu nft_errors=%llu nft_full=%llu "
	    "spf_checks=%llu "
	    "spf_joined=%llu spf_refused=%llu spf_expired=%llu "
	    "spf_timeouts=%llu spf_deaths=%llu spf_kills=%llu "
	    "spf_screened=%llu spf_protocol=%llu spf_dns_queries=%llu "
	    "spf_replays=%llu spf_workers_up=%u",
	    (unsigned long long)st->queued, (unsigned long long)st->malformed,
	    (unsigned long long)st->marked, (unsigned long long)st->flows,
	    s->nflows, (unsigned long long)st->evicted,
	    (unsigned long long)st->expired, (unsigned long long)st->late,
	    (unsigned long long)st->loops,
	    (unsigned long long)st->trusted, (unsigned long long)st->lines,
	    (unsigned long long)st->helos, (unsigned long long)st->mails,
	    (unsigned long long)st->toolong, (unsigned long long)st->starttls,
	    (unsigned long long)st->data, (unsigned long long)st->lost,
	    (unsigned long long)st->judgments,
	    (unsigned long long)st->strikes, (unsigned long long)st->bans,
	    strikes_count(s->strikes), (unsigned long long)st->dns_queries,
	    (unsigned long long)st->spf_queries,
	    (unsigned long long)st->spf_errors,
	    (unsigned long long)st->overload,
	    (unsigned long long)st->clean_hits,
	    (unsigned long long)st->cuts,
	    (unsigned long long)st->cut_errors,
	    (unsigned long long)st->trickles,
	    (unsigned long long)st->lost_packets,
	    (unsigned long long)st->ct_queries,
	    (unsigned long long)st->ct_errors,
	    (unsigned long long)st->state_saves,
	    (unsigned long long)st->state_errors,
	    (unsigned long long)st->state_save_ms,
	    (unsigned long long)sniff_lat_quantile(st, 0.50),
	    (unsigned long long)sniff_lat_quantile(st, 0.99),
	    (unsigned long long)st->lat_max_us,
	    (unsigned long long)evloop_stall_max_us(s->ev),
	    (unsigned long long)qs->enobufs,
	    (unsigned long long)qs->verdict_errors,
	    (unsigned long long)ns->errors, (unsigned long long)ns->full,
	    (unsigned long long)ps->checks, (unsigned long long)ps->joined,
	    (unsigned long long)ps->refused, (unsigned long long)ps->expired,
	    (unsigned long long)ps->timeouts, (unsigned long long)ps->deaths,
	    (unsigned long long)ps->kills, (unsigned long long)ps->screened,
	    (unsigned long long)ps->protocol,
	    (unsigned long long)ps->dns_queries,
	    (unsigned long long)ps->replays, ps->workers_up);
}

static void
sniff_ctl_stats(void *arg, int argc, char *argv[], struct control_reply *r)
{
	char buf[2048];

	(void)argc;
	(void)argv;
	sniff_stats_format(arg, buf, sizeof(buf));
	control_reply_line(r, "%s", buf);
}

void
sniff_log_stats(struct sniff *s)
{
	char buf[2048];

	sniff_stats_format(s, buf, sizeof(buf));
	log_info("stats %s", buf);
}
