/*
 * daemon.h - the start-up and shutdown that smtpgated and smtpgate-sniffd
 * share, in the order they must happen:
 *
 *   daemon_init     arguments (-c -f -n -v), the configuration (a bad file
 *                   stops here with FILE:LINE: reason and exit 1; -n
 *                   also loads the files it names, conf_check_files,
 *                   and stops here with exit 0 or 1), the user to run
 *                   as (started as root: user smtpgate, which must
 *                   exist, else exit 1 with one line; privdrop.h), the
 *                   log, c-ares, the event loop; SIGTERM/SIGINT end the
 *                   loop, SIGHUP/SIGUSR1 go to the daemon's handler
 *                   through the loop;
 *   (the daemon binds its queue, opens its sockets, and makes what the
 *   user must write its own: daemon_user says who that is)
 *   daemon_detach   into the background unless -f, then become the user
 *                   and keep only CAP_NET_ADMIN (privdrop.h);
 *   (evloop_run)
 *   daemon_fini     free the loop and c-ares.
 *
 * daemon_setup_failed reports a set-up error where the admin sees it
 * (stderr before detaching, the log with -f) and exits 1.
 */
#ifndef SMTPGATE_DAEMON_H
#define SMTPGATE_DAEMON_H

#include "conf.h"
#include "evloop.h"
#include "privdrop.h"

struct daemon_ctx {
	const char *name;		/* program name, for messages and log */
	const char *conf_path;		/* -c, or the default */
	int foreground;			/* -f */
	int verbose;			/* -v count */
	struct evloop *ev;		/* set by daemon_init */
	struct privdrop_user user;	/* who it runs as after daemon_detach */
};

void daemon_init(struct daemon_ctx *d, int argc, char *argv[],
    struct conf *conf, ev_signal_cb on_signal, void *arg);
void daemon_detach(struct daemon_ctx *d);
__attribute__((noreturn)) void daemon_setup_failed(struct daemon_ctx *d,
    const char *err);
void daemon_fini(struct daemon_ctx *d);

#endif
