/*
 * run_gate - replays the scenarios of tests/scenario/gate/ against the SYN gate of
 * smtpgated (gate.h), its queue, resolver, kernel sets and kernel watch
 * faked (fake.h), in virtual time (scn.h).
 *
 * The gate's own steps, beside scn.c's:
 *   syn ID from ADDR[:PORT] [to ADDR[:PORT]] [mark M] [flags F]
 *       a TCP SYN (flags F instead: "SA", "A", ...) queued with packet
 *       id ID; the port defaults to 40000, the destination to 192.0.2.1:25
 *       or [2001:db8::1]:25
 *   packet ID RAW HEX
 *       any bytes as a queued IPv4 packet (a malformed one, say)
 *   cluster event|total|shared ..., no cluster
 *       [cluster]'s siblings and what the gate shared (fake_cluster.c)
 *   allow reload | allow unshare PREFIX [fails /RE/]
 *       the control verbs allow-reload and allow-unshare
 * start is gate_new, stop gate_free, reload gate_reload, stats
 * gate_stats_format.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fake.h"
#include "gate.h"
#include "pkt.h"
#include "scn.h"

static int
rgate_start(struct scn *sc, const struct conf *c, char *err, size_t errlen)
{
	struct conf_journal cj = c->journal;
	char dir[512];
	struct gate *g;

	/* The state directory the package makes (share_allow's file). */
	snprintf(dir, sizeof dir, "%.400s/state", scn_dir(sc));
	(void)mkdir(dir, 0755);
	g = gate_new(scn_ev(sc), c, err, errlen);
	scn_set_ctx(sc, g);
	if (g == NULL)
		return -1;
	/* [cluster] through fake_cluster.c, as smtpgated starts it. */
	if (gate_cluster_start(g, err, errlen) == -1) {
		gate_free(g);
		scn_set_ctx(sc, NULL);
		return -1;
	}
	/* The real journal, in the scenario's directory: every verdict's
	 * row is built and written as the daemon does it. */
	if (cj.file[0] != '\0') {
		snprintf(cj.file, sizeof cj.file, "%.200s/journal.db",
		    scn_dir(sc));
		gate_journal_open(g, &cj);
	}
	return 0;
}

static void
rgate_stop(struct scn *sc)
{
	gate_free(scn_ctx(sc));
	scn_set_ctx(sc, NULL);
}

static int
rgate_reload(struct scn *sc, const char *path, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return gate_reload(scn_ctx(sc), path);
}

static void
rgate_stats(struct scn *sc, char *buf, size_t len)
{
	gate_stats_format(scn_ctx(sc), buf, len);
}

static int
rgate_inject(struct scn *sc, unsigned long long id, uint16_t hw,
    uint32_t mark, const uint8_t *pkt, size_t len)
{
	if (!scn_running(sc))
		return scn_fail(sc, "not started");
	if (fake_queue_inject((uint32_t)id, hw, mark, pkt, len) == -1)
		return scn_fail(sc, "packet id %llu used already, or no queue "
		    "bound", id);
	return 0;
}

static int
rgate_step_syn(struct scn *sc, int argc, char **argv)
{
	unsigned long long id, mark = 0;
	struct addr src, dst;
	uint16_t sport, dport = 25, hw;
	uint8_t pkt[128];
	int flags = PKT_TCP_SYN;
	bool have_dst = false;
	size_t len;

	if (argc < 4 || scn_number(argv[1], UINT32_MAX, &id) == -1 ||
	    strcmp(argv[2], "from") != 0 ||
	    scn_addr_port(argv[3], &src, &sport) == -1)
		return scn_fail(sc, "usage: syn ID from ADDR[:PORT] [to "
		    "ADDR[:PORT]] [mark M] [flags F]");
	for (int i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "to") == 0) {
			if (scn_addr_port(argv[i + 1], &dst, &dport) == -1)
				return scn_fail(sc, "bad address %s",
				    argv[i + 1]);
			if (dport == 0)
				dport = 25;
			have_dst = true;
		} else if (strcmp(argv[i], "mark") == 0) {
			if (scn_number(argv[i + 1], UINT32_MAX, &mark) == -1)
				return scn_fail(sc, "bad mark %s", argv[i + 1]);
		} else if (strcmp(argv[i], "flags") == 0) {
			if ((flags = scn_tcp_flags(argv[i + 1])) == -1)
				return scn_fail(sc, "bad flags %s", argv[i + 1]);
		} else {
			return scn_fail(sc, "unknown word %s", argv[i]);
		}
	}
	if ((argc - 4) % 2 != 0)
		return scn_fail(sc, "a word without its value");
	if (sport == 0)
		sport = 40000;
	if (!have_dst && addr_parse(src.family == AF_INET6 ? "2001:db8::1" :
	    "192.0.2.1", &dst) == -1)
		return scn_fail(sc, "addr_parse");
	if ((len = scn_packet(pkt, sizeof(pkt), &src, sport, &dst, dport,
	    (uint8_t)flags, 1000, NULL, 0, &hw)) == 0)
		return scn_fail(sc, "cannot build the packet (families "
		    "differ?)");
	return rgate_inject(sc, id, hw, (uint32_t)mark, pkt, len);
}

static int
rgate_step_packet(struct scn *sc, int argc, char **argv)
{
	unsigned long long id;
	uint8_t pkt[1024];
	size_t n;

	if (argc != 4 || scn_number(argv[1], UINT32_MAX, &id) == -1 ||
	    strcmp(argv[2], "RAW") != 0 || (n = strlen(argv[3])) % 2 != 0 ||
	    n / 2 > sizeof(pkt))
		return scn_fail(sc, "usage: packet ID RAW HEX");
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(argv[3] + 2 * i, "%2x", &v) != 1)
			return scn_fail(sc, "bad hex");
		pkt[i] = (uint8_t)v;
	}
	return rgate_inject(sc, id, 0x0800, 0, pkt, n / 2);
}

/*
 * allow reload | allow unshare PREFIX [fails /RE/]: the control verbs
 * allow-reload (gate_allow_reload) and allow-unshare (share_allow).
 */
static int
rgate_step_allow(struct scn *sc, int argc, char **argv)
{
	char err[512] = "";
	regex_t re;
	int rc, want_fail = 0, m;

	if (!scn_running(sc))
		return scn_fail(sc, "not started");
	if (argc >= 2 && strcmp(argv[1], "reload") == 0 && (argc == 2 ||
	    (argc == 4 && strcmp(argv[2], "fails") == 0)))
		want_fail = argc == 4 ? 2 : 0;	/* where "fails" is */
	else if (argc >= 3 && strcmp(argv[1], "unshare") == 0 && (argc == 3 ||
	    (argc == 5 && strcmp(argv[3], "fails") == 0)))
		want_fail = argc == 5 ? 3 : 0;
	else
		return scn_fail(sc, "usage: allow reload | allow unshare PREFIX "
		    "[fails /RE/]");
	if (strcmp(argv[1], "reload") == 0)
		rc = gate_allow_reload(scn_ctx(sc), err, sizeof(err));
	else
		rc = gate_cluster_allow_unshare(scn_ctx(sc), argv[2], err,
		    sizeof(err));
	if (want_fail == 0) {
		if (rc != 0)
			return scn_fail(sc, "got an error: %s", err);
		return 0;
	}
	if (rc == 0)
		return scn_fail(sc, "got success, want an error");
	if (scn_regex(sc, argv[want_fail + 1], &re) == -1)
		return -1;
	m = regexec(&re, err, 0, NULL, 0);
	regfree(&re);
	if (m != 0)
		return scn_fail(sc, "got \"%s\", want a match", err);
	return 0;
}

static const struct scn_step rgate_steps[] = {
	{ "allow", rgate_step_allow },
	{ "no cluster", fake_cluster_step_none },
	{ "cluster", fake_cluster_step },
	{ "syn", rgate_step_syn },
	{ "packet", rgate_step_packet },
	{ NULL, NULL },
};

static const char *const rgate_defaults[] = {
	"dns.resolvers=127.0.0.1:53",
	"nft.allow_file=@TMP@/allow",
	"gate.control_socket=@TMP@/gated.sock",
	"sniffer.state_file=@TMP@/state/sniffd.state",
	"sniffer.control_socket=@TMP@/sniffd.sock",
	NULL,
};

int
main(int argc, char *argv[])
{
	static const struct scn_daemon d = {
		.name = "gate",
		.defaults = rgate_defaults,
		.start = rgate_start,
		.stop = rgate_stop,
		.reload = rgate_reload,
		.stats = rgate_stats,
		.steps = rgate_steps,
	};

	return scn_main(argc, argv, &d);
}
