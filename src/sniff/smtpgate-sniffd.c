/*
 * smtpgate-sniffd - the greeting-time sniffer: judges HELO/EHLO and MAIL
 * FROM of each SMTP session and bans repeat offenders.
 *
 * Start-up order: parse arguments, load the configuration (refusing a bad
 * file with FILE:LINE: reason before anything is bound), set up the event
 * loop and the sniffer (state file, nft writer, resolver, SPF workers,
 * control socket, queue), detach unless -f, become user smtpgate when
 * started as root and keep CAP_NET_ADMIN alone, then run the loop until
 * SIGTERM/SIGINT.  SIGHUP reloads, SIGUSR1 logs counters.  The steps both
 * daemons share are in daemon.h.
 */
#include <signal.h>
#include <stdio.h>

#include "conf.h"
#include "daemon.h"
#include "evloop.h"
#include "log.h"
#include "sniff.h"

struct sniffd {
	struct daemon_ctx dc;		/* loop, arguments, config path */
	struct sniff *sniff;
};

static void
sniffd_signal(int signo, void *arg)
{
	struct sniffd *d = arg;
	char err[CONF_ERR_MAX];

	switch (signo) {
	case SIGHUP:
		if (sniff_reload(d->sniff, d->dc.conf_path, err, sizeof(err)) ==
		    -1)
			log_warnx("reload failed: %s", err);
		break;
	case SIGUSR1:
		sniff_log_stats(d->sniff);
		break;
	}
}

int
main(int argc, char *argv[])
{
	static struct sniffd d = { .dc.name = "smtpgate-sniffd" };
	static struct conf conf;	/* large: keep it off the stack */
	char err[CONF_ERR_MAX];

	daemon_init(&d.dc, argc, argv, &conf, sniffd_signal, &d);
	if ((d.sniff = sniff_new(d.dc.ev, &conf, err, sizeof(err))) == NULL)
		daemon_setup_failed(&d.dc, err);
	/* CAP_NET_ADMIN serves the queue, the sets, conntrack questions and
	 * sock_diag's destroy (cut_session); nothing else is needed from
	 * here on, and no uid 0 either. */
	daemon_detach(&d.dc);

	log_info("started queue=%u table=%s strikes=%u window=%u timeout=%u "
	    "timeout_max=%u state=%s enforce=%s", conf.sniffer.queue,
	    conf.nft.table, conf.sniffer.offender_strikes,
	    conf.sniffer.offender_window_s, conf.sniffer.offender_timeout_s,
	    conf.sniffer.offender_timeout_max_s, conf.sniffer.state_file,
	    conf.sniffer.enforce ? "yes" : "no (observe mode: nobody banned "
	    "or cut, bans logged with enforced=no)");
	if (conf.sniffer.packets == 0)
		log_warnx("[sniffer] packets = 0: the ruleset queues nothing "
		    "to this daemon (smtpgate-nft leaves the sniffer's rules "
		    "out)");
	if (evloop_run(d.dc.ev) == -1)
		log_warnx("event loop failed");
	sniff_free(d.sniff);
	daemon_fini(&d.dc);
	log_info("stopped");
	return 0;
}
