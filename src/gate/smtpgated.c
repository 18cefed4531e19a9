/*
 * smtpgated - the SYN gate daemon.
 *
 * Start-up order: parse arguments, load the configuration (refusing a bad
 * file with FILE:LINE: reason before anything is bound), set up the event
 * loop and the gate (queue, resolver, nft writer), detach unless -f, then
 * run the loop until SIGTERM/SIGINT.  SIGHUP reloads, SIGUSR1 logs counters.
 * Once everything is bound and open, a daemon started as root becomes user
 * smtpgate and every capability but CAP_NET_ADMIN is dropped.  The steps
 * both daemons share are in daemon.h.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "evloop.h"
#include "gate.h"
#include "journal.h"
#include "log.h"

struct smtpgated {
	struct daemon_ctx dc;		/* loop, arguments, config path */
	struct gate *gate;
	struct control *ctl;
	const struct conf *conf;	/* as loaded at start ([cluster] is
					 * restart-only) */
};

/* The gate's counters and the loop's worst stall, as one record. */
static void
smtpgated_stats_format(struct smtpgated *d, char *line, size_t len)
{
	size_t off;

	gate_stats_format(d->gate, line, len);
	off = strlen(line);
	snprintf(line + off, len - off, " loop_stall_max_us=%llu",
	    (unsigned long long)evloop_stall_max_us(d->dc.ev));
}

static void
smtpgated_ctl_stats(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;
	char line[4096];

	(void)argc;
	(void)argv;
	smtpgated_stats_format(d, line, sizeof(line));
	control_reply_line(r, "%s", line);
}

static void
smtpgated_ctl_reload(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;

	(void)argc;
	(void)argv;
	switch (gate_reload(d->gate, d->dc.conf_path)) {
	case -1:
		control_reply_error(r, "reload failed (see the log)");
		break;
	case 1:
		control_reply_error(r, "configuration reloaded, but the allow "
		    "list was not applied (see the log)");
		break;
	}
}

static void
smtpgated_ctl_allow_reload(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;
	char err[512];

	(void)argc;
	(void)argv;
	if (gate_allow_reload(d->gate, err, sizeof(err)) == -1)
		control_reply_error(r, "%s", err);
}

/* [cluster] share_allow: the shared allow list, one entry a line. */
static void
smtpgated_ctl_allow_shared(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: allow-shared");
		return;
	}
	gate_cluster_allow_list(d->gate, r);
}

/* [cluster] share_allow: a sibling's shared entry removed everywhere. */
static void
smtpgated_ctl_allow_unshare(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;
	char err[256];

	if (argc != 2) {
		control_reply_error(r, "usage: allow-unshare PREFIX");
		return;
	}
	if (gate_cluster_allow_unshare(d->gate, argv[1], err,
	    sizeof(err)) == -1)
		control_reply_error(r, "%s", err);
}

/* [cluster]: the connection's state, counters and siblings
 * (control_cluster_reply). */
static void
smtpgated_ctl_cluster(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;
	char node[64];

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: cluster");
		return;
	}
	control_cluster_node(d->conf != NULL ? &d->conf->cluster : NULL, node,
	    sizeof(node));
	control_cluster_reply(r, gate_cluster_conn(d->gate), node);
}

static void
smtpgated_signal(int signo, void *arg)
{
	struct smtpgated *d = arg;

	switch (signo) {
	case SIGHUP:
		gate_reload(d->gate, d->dc.conf_path);
		break;
	case SIGUSR1: {
		char line[4096];

		smtpgated_stats_format(d, line, sizeof(line));
		log_info("stats %s", line);
		break;
	}
	}
}

int
main(int argc, char *argv[])
{
	static struct smtpgated d = { .dc.name = "smtpgated" };
	static struct conf conf;	/* large: keep it off the stack */
	char err[CONF_ERR_MAX];

	daemon_init(&d.dc, argc, argv, &conf, smtpgated_signal, &d);
	d.conf = &conf;
	if ((d.gate = gate_new(d.dc.ev, &conf, err, sizeof(err))) == NULL)
		daemon_setup_failed(&d.dc, err);
	d.ctl = control_open(d.dc.ev, conf.gate.control_socket, err,
	    sizeof(err));
	if (d.ctl == NULL) {
		/* Not fatal: the gate works without it; smtpgatectl says so. */
		log_warnx("%s", err);
	} else if (control_register(d.ctl, "stats", smtpgated_ctl_stats,
	    &d) == -1 || control_register(d.ctl, "reload",
	    smtpgated_ctl_reload, &d) == -1 || control_register(d.ctl,
	    "allow-reload", smtpgated_ctl_allow_reload, &d) == -1 ||
	    control_register(d.ctl, "cluster", smtpgated_ctl_cluster,
	    &d) == -1 || control_register(d.ctl, "allow-shared",
	    smtpgated_ctl_allow_shared, &d) == -1 || control_register(d.ctl,
	    "allow-unshare", smtpgated_ctl_allow_unshare, &d) == -1) {
		/* Six verbs in a table of more: cannot fail. */
		log_panic("control_register: verb table full");
	}
	/* Before detaching: the password file is read as root.  The
	 * connection is made from the loop. */
	if (gate_cluster_start(d.gate, err, sizeof(err)) == -1)
		daemon_setup_failed(&d.dc, err);
	journal_prepare(&conf.journal);
	daemon_detach(&d.dc);
	/* As the daemon's user: the database's files are its own. */
	gate_journal_open(d.gate, &conf.journal);

	log_info("started queue=%u table=%s deadline_ms=%u dnsbl_zones=%zu "
	    "resolvers=%s enforce=%s", conf.gate.queue, conf.nft.table,
	    conf.gate.deadline_ms, conf.gate.dnsbl_sites.nzones,
	    conf.dns.servers[0] ? conf.dns.servers : "resolv.conf",
	    conf.gate.enforce ? "yes" : "no (observe mode: every client "
	    "accepted, verdicts logged with enforced=no)");
	if (evloop_run(d.dc.ev) == -1)
		log_warnx("event loop failed");
	control_close(d.ctl);
	gate_free(d.gate);
	daemon_fini(&d.dc);
	log_info("stopped");
	return 0;
}
