/*
 * sandbox.h - confine a helper process that handles attacker-controlled
 * data: a user id of its own, no capabilities, resource limits and a
 * seccomp filter.  For the SPF helpers (spfproc.c), which run libspf2.
 *
 * Order in the child, after fork: sandbox_become (needs CAP_SETUID and
 * CAP_SETGID for another uid; without them the uid stays and only the
 * capabilities go), sandbox_limits, then the process's own set-up, then
 * sandbox_seccomp last.  Each returns 0, or -1 with "call: cause" in err
 * and leaves the process to exit: a half-confined helper never runs.
 *
 * The filters (raw BPF, no libseccomp: a short allow list is easier to
 * audit than a dependency) check the architecture, then allow the system
 * calls a policy needs; a few that libc may try harmlessly (open, stat of a
 * path, socket, ioctl) fail with EACCES; anything else kills the process.
 * SANDBOX_WORKER: read and write on the descriptors it has, memory
 * without PROT_EXEC, clocks, signals to itself, exit.  SANDBOX_SUPERVISOR:
 * that, plus fork, wait, kill, socketpair, passing descriptors, limits and
 * installing the worker filter.
 */
#ifndef SMTPGATE_SANDBOX_H
#define SMTPGATE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The range systemd uses for dynamic users (DynamicUser=). */
#define SANDBOX_DYN_UID_MIN	61184
#define SANDBOX_DYN_UID_MAX	65519

enum sandbox_policy {
	SANDBOX_SUPERVISOR,
	SANDBOX_WORKER,
};

struct sandbox_id {
	uid_t uid;
	gid_t gid;
	bool own;		/* a uid of its own (else the caller's) */
	bool dynamic;		/* picked from the dynamic range */
};

struct sandbox_limits {
	uint32_t nofile;	/* RLIMIT_NOFILE */
	uint32_t nproc;		/* RLIMIT_NPROC; 0 = leave (shared uid) */
	uint32_t cpu_s;		/* RLIMIT_CPU soft (hard +5 s); 0 = leave */
	uint64_t as_bytes;	/* RLIMIT_AS; 0 = leave (sanitizers) */
};

/*
 * Which id a helper will run as.  user "": a dynamic uid (the first in the
 * range, from a fixed start, that no passwd or group entry names), when the
 * caller may switch ids (uid 0 or CAP_SETUID+CAP_SETGID); otherwise the
 * caller's own ids, with own false.  user NAME: that user's uid and primary
 * group, and -1 when it does not exist or the caller cannot switch to it.
 */
int sandbox_pick(const char *user, struct sandbox_id *id, char *err,
    size_t errlen);
/* Switch to id (when own), shed every capability, set no_new_privs,
 * verify. */
int sandbox_become(const struct sandbox_id *id, char *err, size_t errlen);
int sandbox_limits(const struct sandbox_limits *l, char *err, size_t errlen);
int sandbox_seccomp(enum sandbox_policy p, char *err, size_t errlen);

/* Are we built with AddressSanitizer (which needs an unlimited RLIMIT_AS)? */
bool sandbox_asan(void);

#endif
