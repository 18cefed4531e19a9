/*
 * daemon.c - start-up and shutdown shared by smtpgated and smtpgate-sniffd;
 * the order and its reasons are in daemon.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ares.h>

#include "daemon.h"
#include "log.h"
#include "privdrop.h"

static __attribute__((noreturn)) void
daemon_usage(const struct daemon_ctx *d)
{
	fprintf(stderr, "usage: %s [-fnv] [-c file]\n"
	    "  -c file  configuration (default %s)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       log debugging detail\n", d->name, CONF_PATH_DEFAULT);
	exit(1);
}

/*
 * Reloads read the configuration as the daemon's user: say at start when
 * it could not (the shipped tmpfiles.d and make install give it group
 * smtpgate, mode 0640).
 */
static void
daemon_conf_readable(const struct daemon_ctx *d)
{
	struct stat st;

	if (!d->user.change || stat(d->conf_path, &st) == -1 ||
	    privdrop_may(&d->user, &st, R_OK))
		return;
	log_warnx("%s is not readable by user %s: reloads (SIGHUP, "
	    "smtpgatectl reload) will fail; chgrp %s %s; chmod g+r %s",
	    d->conf_path, d->user.name, d->user.name, d->conf_path,
	    d->conf_path);
	if (!d->foreground)
		fprintf(stderr, "%s: warning: %s is not readable by user %s: "
		    "reloads will fail (chgrp %s, chmod g+r)\n", d->name,
		    d->conf_path, d->user.name, d->user.name);
}

/* SIGTERM, SIGINT: leave the loop; the daemon shuts down after it. */
static void
daemon_stop(int signo, void *arg)
{
	struct daemon_ctx *d = arg;

	log_info("signal %d: shutting down", signo);
	evloop_break(d->ev);
}

void
daemon_init(struct daemon_ctx *d, int argc, char *argv[], struct conf *conf,
    ev_signal_cb on_signal, void *arg)
{
	static const int stops[] = { SIGTERM, SIGINT };
	static const int sigs[] = { SIGHUP, SIGUSR1 };
	char err[CONF_ERR_MAX];
	int ch, check = 0;

	d->conf_path = CONF_PATH_DEFAULT;
	while ((ch = getopt(argc, argv, "c:fnv")) != -1) {
		switch (ch) {
		case 'c':
			d->conf_path = optarg;
			break;
		case 'f':
			d->foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			d->verbose++;
			break;
		default:
			daemon_usage(d);
		}
	}
	if (optind != argc)
		daemon_usage(d);

	if (conf_load(d->conf_path, conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		exit(1);
	}
	/* The same check as smtpgate-nft's, for either daemon. */
	if (check && conf_check_files(conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", d->name, d->conf_path, err);
		exit(1);
	}
	if (check) {
		printf("%s: configuration ok\n", d->conf_path);
		exit(0);
	}
	if (privdrop_lookup(&d->user, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		exit(1);
	}
	log_init(d->name, d->foreground);
	daemon_conf_readable(d);
	log_set_verbose(d->verbose);
	signal(SIGPIPE, SIG_IGN);
	if ((ch = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
		log_fatalx("ares_library_init: %s", ares_strerror(ch));
	if ((d->ev = evloop_new()) == NULL)
		log_fatal("evloop_new");
	/*
	 * Signals are blocked (and go to the loop's signalfd) before any
	 * thread starts, so no thread of ours ever takes one.
	 */
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (evloop_signal(d->ev, stops[i], daemon_stop, d) == -1)
			log_fatal("evloop_signal %s", strsignal(stops[i]));
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (evloop_signal(d->ev, sigs[i], on_signal, arg) == -1)
			log_fatal("evloop_signal %s", strsignal(sigs[i]));
}

void
daemon_setup_failed(struct daemon_ctx *d, const char *err)
{
	if (d->foreground)
		log_warnx("%s", err);
	else
		fprintf(stderr, "%s: %s\n", d->name, err);
	daemon_fini(d);
	exit(1);
}

void
daemon_detach(struct daemon_ctx *d)
{
	char err[256];

	if (!d->foreground && daemon(0, 0) == -1)
		log_fatal("daemon: detach");
	switch (privdrop_apply(&d->user, err, sizeof(err))) {
	case -1:
		log_fatalx("%s", err);
	case 1:
		if (d->user.change)
			log_info("running as user %s (uid %lu gid %lu) with "
			    "CAP_NET_ADMIN only", d->user.name,
			    (unsigned long)d->user.uid,
			    (unsigned long)d->user.gid);
		else
			log_info("dropped every capability but "
			    "CAP_NET_ADMIN");
		break;
	default:
		break;
	}
}

void
daemon_fini(struct daemon_ctx *d)
{
	evloop_free(d->ev);
	d->ev = NULL;
	ares_library_cleanup();
}
