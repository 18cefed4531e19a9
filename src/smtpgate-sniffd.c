/*
 * smtpgate-sniffd - the greeting-time sniffer: judges HELO/EHLO and MAIL
 * FROM of each SMTP session and bans repeat offenders.
 *
 * Start-up order: parse arguments, load the configuration (refusing a bad
 * file with FILE:LINE: reason before anything is bound), set up the event
 * loop and the sniffer (state file, nft writer, resolver, SPF workers,
 * control socket, queue), detach unless -f, then run the loop until
 * SIGTERM/SIGINT.  SIGHUP reloads, SIGUSR1 logs counters.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>

#include "conf.h"
#include "evloop.h"
#include "log.h"
#include "privdrop.h"
#include "sniff.h"

struct sniffd {
	struct evloop *ev;
	struct sniff *sniff;
	const char *conf_path;
};

static void
usage(void)
{
	fprintf(stderr, "usage: smtpgate-sniffd [-fnv] [-c file]\n"
	    "  -c file  configuration (default %s)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       log debugging detail\n", CONF_PATH_DEFAULT);
	exit(1);
}

static void
sniffd_signal(int signo, void *arg)
{
	struct sniffd *d = arg;
	char err[CONF_ERR_MAX];

	switch (signo) {
	case SIGHUP:
		if (sniff_reload(d->sniff, d->conf_path, err, sizeof(err)) ==
		    -1)
			log_warnx("reload failed: %s", err);
		break;
	case SIGUSR1:
		sniff_log_stats(d->sniff);
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
	struct sniffd d = { .conf_path = CONF_PATH_DEFAULT };
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
		fprintf(stderr, "smtpgate-sniffd: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration ok\n", d.conf_path);
		return 0;
	}
	log_init("smtpgate-sniffd", foreground);
	log_set_verbose(verbose);
	signal(SIGPIPE, SIG_IGN);

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		log_fatalx("ares_library_init failed");
	if ((d.ev = evloop_new()) == NULL)
		log_fatal("evloop_new");
	/* Signals are blocked before the SPF workers start, so they stay
	 * with the loop's signalfd. */
	if (evloop_signal(d.ev, SIGTERM, sniffd_signal, &d) == -1 ||
	    evloop_signal(d.ev, SIGINT, sniffd_signal, &d) == -1 ||
	    evloop_signal(d.ev, SIGHUP, sniffd_signal, &d) == -1 ||
	    evloop_signal(d.ev, SIGUSR1, sniffd_signal, &d) == -1)
		log_fatal("signalfd");
	if ((d.sniff = sniff_new(d.ev, &conf, err, sizeof(err))) == NULL) {
		if (foreground)
			log_warnx("%s", err);
		else
			fprintf(stderr, "smtpgate-sniffd: %s\n", err);
		evloop_free(d.ev);
		ares_library_cleanup();
		return 1;
	}
	if (!foreground && daemon(0, 0) == -1)
		log_fatal("daemon");
	/* CAP_NET_ADMIN serves the queue, the sets and sock_diag's destroy
	 * (cut_session); nothing else is needed from here on. */
	switch (privdrop_net_admin(err, sizeof(err))) {
	case -1:
		log_fatalx("%s", err);
	case 1:
		log_info("dropped every capability but CAP_NET_ADMIN");
		break;
	default:
		break;
	}

	log_info("started queue=%u table=%s strikes=%u window=%u timeout=%u "
	    "timeout_max=%u state=%s", conf.sniffer.queue, conf.nft.table,
	    conf.sniffer.offender_strikes, conf.sniffer.offender_window_s,
	    conf.sniffer.offender_timeout_s,
	    conf.sniffer.offender_timeout_max_s, conf.sniffer.state_file);
	if (conf.sniffer.packets == 0)
		log_warnx("[sniffer] packets = 0: the ruleset queues nothing "
		    "to this daemon (smtpgate-nft leaves the sniffer's rules "
		    "out)");
	if (evloop_run(d.ev) == -1)
		log_warnx("event loop failed");
	sniff_free(d.sniff);
	evloop_free(d.ev);
	ares_library_cleanup();
	log_info("stopped");
	return 0;
}
