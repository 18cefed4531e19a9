/*
 * spfproc.h - the SPF helper processes: a supervisor and its workers,
 * which run libspf2 on records an attacker may control, so that no flaw in
 * libspf2 can reach a process with privileges.
 *
 * spfproc_spawn forks the supervisor from the (privileged) caller, before
 * the caller sheds its privileges.  The supervisor closes every inherited
 * descriptor but its control socket, takes the helper id (sandbox.h: a
 * dynamic uid of its own when the caller may switch ids), drops every
 * capability, limits itself and enters its seccomp filter; it never reads
 * attacker data.  It forks the workers, hands each worker's socket to the
 * caller (SPFWIRE_WORKER_UP with the descriptor), reports their deaths
 * (SPFWIRE_WORKER_DOWN), ends one on request (SPFWIRE_KILL), starts a new
 * one in its place (after a pause that doubles while workers die young),
 * and exits when the control socket closes, killing its workers.
 *
 * A worker confines itself further (memory and CPU limits, the stricter
 * worker filter: no fork, no signals but to itself, no new descriptors)
 * and then answers CHECK messages one at a time.  libspf2 resolves through
 * a DNS layer of ours that asks the client (DNSQ/DNSA: the client's c-ares,
 * the configured resolvers, the check's deadline), parses the raw answers
 * here, and screens TXT records (spfscreen.h) before libspf2 compiles them.
 * An alarm ends a worker whose check runs past its deadline by 2 s; a
 * worker retires after SPFPROC_CHECKS_MAX checks.
 */
#ifndef SMTPGATE_SPFPROC_H
#define SMTPGATE_SPFPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox.h"

#define SPFPROC_WORKERS_MAX	32
#define SPFPROC_CHECKS_MAX	10000	/* checks before a worker retires */
#define SPFPROC_DNS_MAX		128	/* DNS lookups of one check */
#define SPFPROC_MEM_BYTES	(256ull << 20)	/* RLIMIT_AS of a worker */
#define SPFPROC_CPU_S		60	/* RLIMIT_CPU of a worker */

struct spfproc_opts {
	unsigned workers;		/* 1..SPFPROC_WORKERS_MAX */
	struct sandbox_id id;		/* from sandbox_pick */
	bool screen;			/* screen TXT records (always, but in
					 * the tests that show why) */
};

/*
 * Fork the supervisor.  *ctl: the caller's end of the control socket
 * (SOCK_SEQPACKET, close-on-exec); *pid: the supervisor.  0, or -1 with
 * err.  Nothing runs in the caller's process after the fork.
 */
int spfproc_spawn(const struct spfproc_opts *o, int *ctl, pid_t *pid,
    char *err, size_t errlen);

#endif
