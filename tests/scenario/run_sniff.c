/*
 * run_sniff - replays the scenarios of tests/scenario/sniff/ against the
 * core of smtpgate-sniffd (sniff.h), its queue, resolver, kernel sets, SPF
 * helpers, conntrack and sock_diag faked (fake.h), in virtual time
 * (scn.h).  The state file and the control socket are real, in the
 * scenario's directory.
 *
 * Written against sniff.h and the little of sniff_int.h a runner needs
 * (the control socket to ask, the save counter to wait for), not against
 * the sniffer's internal functions.
 *
 * The sniffer's own steps, beside scn.c's:
 *   conn NAME from ADDR:PORT to ADDR:PORT
 *       a session (no packet); its client's sequence numbers start at 1000
 *   send ID NAME "BYTES" [gap N] [seq N] [flags F] [server S]
 *       the client's next segment (C escapes; flags default PA) queued
 *       with packet id ID; gap N leaves N bytes unsent before it; seq N
 *       sends it at sequence number N instead (its first byte is 1000),
 *       the next segment following the furthest byte sent; server S is
 *       what the server had sent when it came, as the ruleset marks it
 *       (synack: its SYN-ACK only, banner: one packet since, more: no
 *       mark, the default); its acknowledgment number grows by 100 with
 *       every segment (a reply came before it) unless "ack same" keeps
 *       the last one (nothing came from the server since)
 *   fin ID NAME | rst ID NAME
 *   conntrack NAME packets N [state S] | conntrack NAME gone
 *       what conntrack says of the session from now on (S: established,
 *       fin_wait, close_wait, last_ack, time_wait, close, or a number)
 *   cut NAME | cut NAME fails gone | no cuts
 *       the session was cut (taken); a later cut of it finds it gone;
 *       no cut nobody took
 *   spf HELO | spf answer HELO RESULT | spf auto HELO RESULT | no spf
 *       an SPF check of the HELO identity is out (seen); answer it; answer
 *       every check of it; no check nobody expected
 *   control "VERB [ARGS]" [/RE/]
 *       ask the control socket; its answer is "ok" and, with /RE/, a
 *       line of it matches (VERB error ...: the answer is an error)
 *   restart
 *       sniff_free, then sniff_new with the same configuration
 *   cluster event|total|shared ..., no cluster
 *       [cluster]'s siblings and what the sniffer shared (fake_cluster.c)
 *   wait saved N
 *       wait (in real time, up to 10 s) until N state saves are done
 * start is sniff_new, stop sniff_free, reload sniff_reload, stats the
 * control socket's "stats".
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter/nf_conntrack_tcp.h>

#include "control.h"
#include "fake.h"
#include "marks.h"
#include "pkt.h"
#include "scn.h"
#include "sniff.h"
#include "sniff_int.h"

#define RSNIFF_CONNS		32
#define RSNIFF_WAIT_MS		10000

struct rsniff_conn {
	char name[32];
	struct addr client, local;
	uint16_t cport, lport;
	uint32_t seq;			/* the client's next sequence number */
	uint32_t ack;			/* its acknowledgment number: what it
					 * has received from the server */
};

static struct {
	struct sniff *s;
	struct conf conf;		/* for restart */
	struct rsniff_conn conn[RSNIFF_CONNS];
	size_t nconn;
} rsniff;

static void
rsniff_journal(struct scn *sc)
{
	struct conf_journal cj = rsniff.conf.journal;

	if (cj.file[0] == '\0')
		return;
	snprintf(cj.file, sizeof cj.file, "%.200s/journal.db", scn_dir(sc));
	sniff_journal_open(rsniff.s, &cj);
}

static int
rsniff_start(struct scn *sc, const struct conf *c, char *err, size_t errlen)
{
	rsniff.conf = *c;
	rsniff.s = sniff_new(scn_ev(sc), c, err, errlen);
	if (rsniff.s == NULL)
		return -1;
	/* The real journal, in the scenario's directory (sniff_new's copy
	 * of the configuration names it). */
	rsniff_journal(sc);
	return 0;
}

static void
rsniff_stop(struct scn *sc)
{
	(void)sc;
	sniff_free(rsniff.s);
	rsniff.s = NULL;
}

static int
rsniff_reload(struct scn *sc, const char *path, char *err, size_t errlen)
{
	(void)sc;
	return sniff_reload(rsniff.s, path, err, errlen);
}

/* The control socket's answer to request, as smtpgatectl would read it;
 * malloc'ed, or NULL. */
static char *
rsniff_ask(const char *request)
{
	char line[CONTROL_LINE_MAX + 2], *reply = NULL;
	size_t len;

	snprintf(line, sizeof(line), "%s\n", request);
	if (control_answer(rsniff.s->ctl, line, strlen(line), &reply,
	    &len) != 1)
		return NULL;
	return reply;
}

static void
rsniff_stats(struct scn *sc, char *buf, size_t len)
{
	char *reply = rsniff_ask("stats");
	const char *nl;

	(void)sc;
	buf[0] = '\0';
	if (reply == NULL)
		return;
	if ((nl = strchr(reply, '\n')) != NULL)
		snprintf(buf, len, "%.*s", (int)strcspn(nl + 1, "\n"), nl + 1);
	free(reply);
}

static struct rsniff_conn *
rsniff_conn(struct scn *sc, const char *name)
{
	for (size_t i = 0; i < rsniff.nconn; i++)
		if (strcmp(rsniff.conn[i].name, name) == 0)
			return &rsniff.conn[i];
	scn_fail(sc, "no session %s (declare it with conn)", name);
	return NULL;
}

/* conn NAME from ADDR:PORT to ADDR:PORT */
static int
rsniff_step_conn(struct scn *sc, int argc, char **argv)
{
	struct rsniff_conn *c;

	if (argc != 6 || strcmp(argv[2], "from") != 0 ||
	    strcmp(argv[4], "to") != 0)
		return scn_fail(sc, "usage: conn NAME from ADDR:PORT to "
		    "ADDR:PORT");
	if (rsniff.nconn == RSNIFF_CONNS)
		return scn_fail(sc, "more than %d sessions", RSNIFF_CONNS);
	c = &rsniff.conn[rsniff.nconn];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", argv[1]);
	if (scn_addr_port(argv[3], &c->client, &c->cport) == -1 ||
	    c->cport == 0 || scn_addr_port(argv[5], &c->local, &c->lport) == -1 ||
	    c->lport == 0 || c->client.family != c->local.family)
		return scn_fail(sc, "bad addresses (want ADDR:PORT, one "
		    "family)");
	c->seq = 1000;
	c->ack = 5000;
	rsniff.nconn++;
	return 0;
}

static int
rsniff_send(struct scn *sc, unsigned long long id, struct rsniff_conn *c,
    uint8_t flags, uint32_t mark, const uint8_t *payload, size_t plen)
{
	uint8_t pkt[8192];
	uint16_t hw;
	size_t len;

	if (!scn_running(sc))
		return scn_fail(sc, "not started");
	if ((len = scn_packet(pkt, sizeof(pkt), &c->client, c->cport,
	    &c->local, c->lport, flags, c->seq, payload, plen, &hw)) == 0)
		return scn_fail(sc, "cannot build the packet");
	{
		/* The ACK number: the TCP header follows a bare IP header. */
		size_t t = c->client.family == AF_INET ? 20 : 40;

		if (len < t + 12)
			return scn_fail(sc, "packet too short for its ACK");
		pkt[t + 8] = (uint8_t)(c->ack >> 24);
		pkt[t + 9] = (uint8_t)(c->ack >> 16);
		pkt[t + 10] = (uint8_t)(c->ack >> 8);
		pkt[t + 11] = (uint8_t)c->ack;
	}
	if (fake_queue_inject((uint32_t)id, hw, mark, pkt, len) == -1)
		return scn_fail(sc, "packet id %llu used already, or no queue "
		    "bound", id);
	c->seq += (uint32_t)plen + ((flags & (PKT_TCP_FIN | PKT_TCP_SYN)) ?
	    1 : 0);
	return 0;
}

/* send ID NAME "BYTES" [gap N] [seq N] [flags F] [server S] [ack same] */
static int
rsniff_step_send(struct scn *sc, int argc, char **argv)
{
	unsigned long long id, gap = 0, at = 0;
	bool has_at = false;
	struct rsniff_conn *c;
	uint8_t data[4096];
	ssize_t n;
	int flags = PKT_TCP_PSH | PKT_TCP_ACK;
	uint32_t mark = 0;
	bool ack_same = false;

	if (argc < 4 || (argc - 4) % 2 != 0 ||
	    scn_number(argv[1], UINT32_MAX, &id) == -1)
		return scn_fail(sc, "usage: send ID NAME \"BYTES\" [gap N] "
		    "[seq N] [flags F] [server synack|banner|more] [ack same]");
	if ((c = rsniff_conn(sc, argv[2])) == NULL)
		return -1;
	if ((n = scn_unescape(argv[3], data, sizeof(data))) < 0)
		return scn_fail(sc, "bad escape in the bytes");
	for (int i = 4; i < argc; i += 2) {
		if (strcmp(argv[i], "gap") == 0 &&
		    scn_number(argv[i + 1], 1u << 30, &gap) == 0)
			continue;
		if (strcmp(argv[i], "seq") == 0 &&
		    scn_number(argv[i + 1], UINT32_MAX, &at) == 0) {
			has_at = true;
			continue;
		}
		if (strcmp(argv[i], "flags") == 0 &&
		    (flags = scn_tcp_flags(argv[i + 1])) != -1)
			continue;
		if (strcmp(argv[i], "server") == 0 &&
		    (strcmp(argv[i + 1], "synack") == 0 ||
		    strcmp(argv[i + 1], "banner") == 0 ||
		    strcmp(argv[i + 1], "more") == 0)) {
			mark = argv[i + 1][0] == 's' ? MARK_SRV_SYNACK :
			    argv[i + 1][0] == 'b' ? MARK_SRV_BANNER : 0;
			continue;
		}
		if (strcmp(argv[i], "ack") == 0 &&
		    strcmp(argv[i + 1], "same") == 0) {
			ack_same = true;
			continue;
		}
		return scn_fail(sc, "bad %s %s", argv[i], argv[i + 1]);
	}
	if (!ack_same)
		c->ack += 100;
	if (has_at) {
		/* Anywhere in the stream (a head after its tail, a
		 * retransmission); the next segment follows the furthest. */
		uint32_t next = c->seq;

		c->seq = (uint32_t)at;
		if (rsniff_send(sc, id, c, (uint8_t)flags, mark, data,
		    (size_t)n) == -1)
			return -1;
		if ((int32_t)(next - c->seq) > 0)
			c->seq = next;
		return 0;
	}
	c->seq += (uint32_t)gap;
	return rsniff_send(sc, id, c, (uint8_t)flags, mark, data, (size_t)n);
}

/* fin ID NAME | rst ID NAME */
static int
rsniff_step_end(struct scn *sc, int argc, char **argv)
{
	unsigned long long id;
	struct rsniff_conn *c;

	if (argc != 3 || scn_number(argv[1], UINT32_MAX, &id) == -1)
		return scn_fail(sc, "usage: %s ID NAME", argv[0]);
	if ((c = rsniff_conn(sc, argv[2])) == NULL)
		return -1;
	return rsniff_send(sc, id, c, strcmp(argv[0], "fin") == 0 ?
	    PKT_TCP_FIN | PKT_TCP_ACK : PKT_TCP_RST, 0, NULL, 0);
}

static const struct {
	const char *name;
	uint8_t state;
} rsniff_tcp_states[] = {
	{ "established", TCP_CONNTRACK_ESTABLISHED },
	{ "fin_wait", TCP_CONNTRACK_FIN_WAIT },
	{ "close_wait", TCP_CONNTRACK_CLOSE_WAIT },
	{ "last_ack", TCP_CONNTRACK_LAST_ACK },
	{ "time_wait", TCP_CONNTRACK_TIME_WAIT },
	{ "close", TCP_CONNTRACK_CLOSE },
};

/* conntrack NAME packets N [state S] | conntrack NAME gone */
static int
rsniff_step_conntrack(struct scn *sc, int argc, char **argv)
{
	unsigned long long pkts;
	uint8_t state = TCP_CONNTRACK_ESTABLISHED;
	struct rsniff_conn *c;

	if (argc < 3 || (c = rsniff_conn(sc, argv[1])) == NULL)
		return argc < 3 ? scn_fail(sc, "usage: conntrack NAME packets "
		    "N [state S] | conntrack NAME gone") : -1;
	if (argc == 3 && strcmp(argv[2], "gone") == 0) {
		fake_ct_set(&c->client, c->cport, -ENOENT, false, 0, 0);
		return 0;
	}
	if ((argc != 4 && argc != 6) || strcmp(argv[2], "packets") != 0 ||
	    scn_number(argv[3], UINT32_MAX, &pkts) == -1)
		return scn_fail(sc, "usage: conntrack NAME packets N [state S]");
	if (argc == 6) {
		size_t i;
		unsigned long long v;

		for (i = 0; i < sizeof(rsniff_tcp_states) /
		    sizeof(rsniff_tcp_states[0]); i++)
			if (strcmp(argv[5], rsniff_tcp_states[i].name) == 0)
				break;
		if (strcmp(argv[4], "state") != 0)
			return scn_fail(sc, "want state S, got %s", argv[4]);
		if (i < sizeof(rsniff_tcp_states) / sizeof(rsniff_tcp_states[0]))
			state = rsniff_tcp_states[i].state;
		else if (scn_number(argv[5], 255, &v) == 0)
			state = (uint8_t)v;
		else
			return scn_fail(sc, "unknown state %s", argv[5]);
	}
	fake_ct_set(&c->client, c->cport, 0, true, pkts, state);
	return 0;
}

/* cut NAME | cut NAME fails gone */
static int
rsniff_step_cut(struct scn *sc, int argc, char **argv)
{
	struct rsniff_conn *c;
	char why[1200];

	if ((argc != 2 && argc != 4) || (c = rsniff_conn(sc, argv[1])) == NULL)
		return argc != 2 && argc != 4 ? scn_fail(sc, "usage: cut NAME "
		    "[fails gone]") : -1;
	if (argc == 4) {
		if (strcmp(argv[2], "fails") != 0 || strcmp(argv[3], "gone") != 0)
			return scn_fail(sc, "usage: cut NAME fails gone");
		fake_cut_set(&c->client, c->cport, -ENOENT);
		return 0;
	}
	if (fake_cut_take(&c->client, c->cport, why, sizeof(why)) == -1)
		return scn_fail(sc, "got no cut of %s (%s), want one", argv[1],
		    why);
	return 0;
}

/* spf HELO | spf answer HELO RESULT | spf auto HELO RESULT */
static int
rsniff_step_spf(struct scn *sc, int argc, char **argv)
{
	char why[1200];
	int r;

	if (argc == 2) {
		if (fake_spf_expect(argv[1], why, sizeof(why)) == -1)
			return scn_fail(sc, "got no such check (%s), want one",
			    why);
		return 0;
	}
	if (argc != 4 || (strcmp(argv[1], "answer") != 0 &&
	    strcmp(argv[1], "auto") != 0))
		return scn_fail(sc, "usage: spf HELO | spf answer|auto HELO "
		    "RESULT");
	if ((r = fake_spf_parse(argv[3])) == -1)
		return scn_fail(sc, "unknown result %s", argv[3]);
	if (strcmp(argv[1], "auto") == 0) {
		fake_spf_rule(argv[2], r);
		return 0;
	}
	if (fake_spf_answer(argv[2], r, why, sizeof(why)) == -1)
		return scn_fail(sc, "got no such check out (%s), want one", why);
	return 0;
}

/* no cuts | no spf; anything else is scn.c's */
static int
rsniff_step_no(struct scn *sc, int argc, char **argv)
{
	char buf[2048];
	size_t n;

	if (argc == 2 && strcmp(argv[1], "cuts") == 0) {
		if ((n = fake_cut_untaken(buf, sizeof(buf))) > 0)
			return scn_fail(sc, "got %zu cuts no step took (%s), "
			    "want none", n, buf);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "spf") == 0) {
		if ((n = fake_spf_unseen(buf, sizeof(buf))) > 0)
			return scn_fail(sc, "got %zu SPF checks no step "
			    "expected (%s), want none", n, buf);
		return 0;
	}
	return scn_fail(sc, "usage: no cuts|spf");
}

/* control "VERB [ARGS]" [/RE/] | control "VERB" error [/RE/] */
static int
rsniff_step_control(struct scn *sc, int argc, char **argv)
{
	bool error = argc >= 3 && strcmp(argv[2], "error") == 0;
	const char *pat = argc == (error ? 4 : 3) ? argv[argc - 1] : NULL;
	char *reply, *line, *save = NULL;
	regex_t re;
	bool hit = false, ok;

	if (argc < 2 || argc > 4 || (argc == 4 && !error))
		return scn_fail(sc, "usage: control \"VERB ARGS\" [error] "
		    "[/RE/]");
	if (!scn_running(sc))
		return scn_fail(sc, "not started");
	if ((reply = rsniff_ask(argv[1])) == NULL)
		return scn_fail(sc, "got no answer, want one");
	ok = strncmp(reply, "ok\n", 3) == 0;
	if (ok == error) {
		int rc = scn_fail(sc, "got \"%.*s\", want %s",
		    (int)strcspn(reply, "\n"), reply, error ? "an error" : "ok");

		free(reply);
		return rc;
	}
	if (pat == NULL) {
		free(reply);
		return 0;
	}
	if (scn_regex(sc, pat, &re) == -1) {
		free(reply);
		return -1;
	}
	{
		char *copy = strdup(reply);

		for (line = strtok_r(reply, "\n", &save); line != NULL &&
		    !hit; line = strtok_r(NULL, "\n", &save))
			hit = regexec(&re, line, 0, NULL, 0) == 0;
		regfree(&re);
		free(reply);
		if (!hit) {
			int rc = scn_fail(sc, "got no line like %s in the "
			    "answer \"%.1500s\", want one", pat,
			    copy != NULL ? copy : "?");

			free(copy);
			return rc;
		}
		free(copy);
	}
	return 0;
}

static int
rsniff_step_restart(struct scn *sc, int argc, char **argv)
{
	char err[CONF_ERR_MAX];

	(void)argc;
	(void)argv;
	if (!scn_running(sc))
		return scn_fail(sc, "not started");
	sniff_free(rsniff.s);
	if ((rsniff.s = sniff_new(scn_ev(sc), &rsniff.conf, err,
	    sizeof(err))) == NULL) {
		/* Nothing runs now: the end of the scenario must not free. */
		scn_stop_lost(sc);
		return scn_fail(sc, "got \"%s\", want a start", err);
	}
	rsniff_journal(sc);
	return 0;
}

static int64_t
rsniff_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait saved N: the child writing the state file ends in real time. */
static int
rsniff_step_wait(struct scn *sc, int argc, char **argv)
{
	unsigned long long want;
	int64_t until = rsniff_real_ms() + RSNIFF_WAIT_MS;

	if (argc != 3 || strcmp(argv[1], "saved") != 0 ||
	    scn_number(argv[2], 1000000, &want) == -1)
		return scn_fail(sc, "usage: wait saved N");
	if (!scn_running(sc))
		return scn_fail(sc, "not started");
	while (rsniff.s->st.state_saves + rsniff.s->st.state_errors < want) {
		if (rsniff_real_ms() > until)
			return scn_fail(sc, "got %llu saves and %llu failed "
			    "after %d ms, want %llu saves",
			    (unsigned long long)rsniff.s->st.state_saves,
			    (unsigned long long)rsniff.s->st.state_errors,
			    RSNIFF_WAIT_MS, want);
		if (evloop_turn(scn_ev(sc), 20) == -1)
			return scn_fail(sc, "evloop_turn: %s", strerror(errno));
	}
	if (rsniff.s->st.state_saves < want)
		return scn_fail(sc, "got %llu failed saves, want none",
		    (unsigned long long)rsniff.s->st.state_errors);
	return 0;
}

static const struct scn_step rsniff_steps[] = {
	{ "no cluster", fake_cluster_step_none },
	{ "cluster", fake_cluster_step },
	{ "conn", rsniff_step_conn },
	{ "send", rsniff_step_send },
	{ "fin", rsniff_step_end },
	{ "rst", rsniff_step_end },
	{ "conntrack", rsniff_step_conntrack },
	{ "cut", rsniff_step_cut },
	{ "spf", rsniff_step_spf },
	{ "no cuts", rsniff_step_no },
	{ "no spf", rsniff_step_no },
	{ "control", rsniff_step_control },
	{ "restart", rsniff_step_restart },
	{ "wait", rsniff_step_wait },
	{ NULL, NULL },
};

static const char *const rsniff_defaults[] = {
	"dns.resolvers=127.0.0.1:53",
	"nft.allow_file=@TMP@/allow",
	"gate.control_socket=@TMP@/gated.sock",
	"sniffer.state_file=@TMP@/state/sniffd.state",
	"sniffer.control_socket=@TMP@/sniffd.sock",
	"sniffer.my_hostnames=mx.example.net",
	"sniffer.my_addresses=192.0.2.1",
	NULL,
};

int
main(int argc, char *argv[])
{
	static const struct scn_daemon d = {
		.name = "sniff",
		.defaults = rsniff_defaults,
		.start = rsniff_start,
		.stop = rsniff_stop,
		.reload = rsniff_reload,
		.stats = rsniff_stats,
		.steps = rsniff_steps,
	};

	return scn_main(argc, argv, &d);
}
