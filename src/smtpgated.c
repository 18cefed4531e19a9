/*
 * smtpgated - the SYN gate daemon.
 *
 * Start-up order: parse arguments, load the configuration (refusing a bad
 * file with FILE:LINE: reason before anything is bound), set up the event
 * loop and the gate (queue, resolver, nft writer), detach unless -f, then
 * run the loop until SIGTERM/SIGINT.  SIGHUP reloads, SIGUSR1 logs counters.
 * Once everything is bound and open, every capability but CAP_NET_ADMIN
 * is dropped (privdrop.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>

#include "conf.h"
#include "control.h"
#include "evloop.h"
#include "gate.h"
#include "log.h"
#include "privdrop.h"

struct smtpgated {
	struct evloop *ev;
	struct gate *gate;
	struct control *ctl;
	const char *conf_path;
};

static void
smtpgated_ctl_stats(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;
	char line[1024];

	(void)argc;
	(void)argv;
	gate_stats_format(d->gate, line, sizeof(line));
	control_reply_line(r, "%s", line);
}

static void
smtpgated_ctl_reload(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct smtpgated *d = arg;

	(void)argc;
	(void)argv;
	switch (gate_reload(d->gate, d->conf_path)) {
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

static void
usage(void)
{
	fprintf(stderr, "usage: smtpgated [-fnv] [-c file]\n"
	    "  -c file  configuration (default %s)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       log debugging detail\n", CONF_PATH_DEFAULT);
	exit(1);
}

static void
smtpgated_signal(int signo, void *arg)
{
	struct smtpgated *d = arg;

	switch (signo) {
	case SIGHUP:
		gate_reload(d->gate, d->conf_path);
		break;
	case SIGUSR1:
		gate_log_stats(d->gate);
		break;
	default:
		log_info("signal %d: shutting down", signo);
		evloop_break(d->ev);
		break;
	}
}

int
main(int argc, char *argv[])
{
	struct smtpgated d = { .conf_path = CONF_PATH_DEFAULT };
	static struct conf conf;	/* large: keep it off the stack */
	char err[CONF_ERR_MAX];
	int ch, foreground = 0, check = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "c:fnv")) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (conf_load(d.conf_path, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpgated: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration ok\n", d.conf_path);
		return 0;
	}
	log_init("smtpgated", foreground);
	log_set_verbose(verbose);
	signal(SIGPIPE, SIG_IGN);

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		log_fatalx("ares_library_init failed");
	if ((d.ev = evloop_new()) == NULL)
		log_fatal("evloop_new");
	if ((d.gate = gate_new(d.ev, &conf, err, sizeof(err))) == NULL) {
		if (foreground)
			log_warnx("%s", err);
		else
			fprintf(stderr, "smtpgated: %s\n", err);
		evloop_free(d.ev);
		ares_library_cleanup();
		return 1;
	}
	if (evloop_signal(d.ev, SIGTERM, smtpgated_signal, &d) == -1 ||
	    evloop_signal(d.ev, SIGINT, smtpgated_signal, &d) == -1 ||
	    evloop_signal(d.ev, SIGHUP, smtpgated_signal, &d) == -1 ||
	    evloop_signal(d.ev, SIGUSR1, smtpgated_signal, &d) == -1)
		log_fatal("signalfd");
	d.ctl = control_open(d.ev, conf.gate.control_socket, err, sizeof(err));
	if (d.ctl == NULL) {
		/* Not fatal: the gate works without it; smtpgatectl says so. */
		log_warnx("%s", err);
	} else if (control_register(d.ctl, "stats", smtpgated_ctl_stats,
	    &d) == -1 || control_register(d.ctl, "reload",
	    smtpgated_ctl_reload, &d) == -1 || control_register(d.ctl,
	    "allow-reload", smtpgated_ctl_allow_reload, &d) == -1) {
		log_fatalx("control: cannot register commands");
	}
	if (!foreground && daemon(0, 0) == -1)
		log_fatal("daemon");
	switch (privdrop_net_admin(err, sizeof(err))) {
	case -1:
		log_fatalx("%s", err);
	case 1:
		log_info("dropped every capability but CAP_NET_ADMIN");
		break;
	default:
		break;
	}

	log_info("started queue=%u table=%s deadline_ms=%u dnsbl_zones=%zu "
	    "resolvers=%s", conf.gate.queue, conf.nft.table,
	    conf.gate.deadline_ms, conf.gate.dnsbl_sites.nzones,
	    conf.dns.servers[0] ? conf.dns.servers : "resolv.conf");
	if (evloop_run(d.ev) == -1)
		log_warnx("event loop failed");
	control_close(d.ctl);
	gate_free(d.gate);
	evloop_free(d.ev);
	ares_library_cleanup();
	log_info("stopped");
	return 0;
}
