/*
 * privdrop.h - shed every privilege a daemon does not need once its
 * privileged set-up is done (OpenSMTPD's shape: set up first, then drop in
 * one visible place).
 *
 * Started as root (by hand, or by an init without the shipped units), a
 * daemon becomes user PRIVDROP_USER: supplementary groups set to the
 * user's group alone, then setresgid and setresuid to the user's ids with
 * PR_SET_KEEPCAPS, so that the capabilities survive the change of user;
 * then the bounding set loses every capability but CAP_NET_ADMIN,
 * no_new_privs is set, and the permitted and effective sets keep only
 * CAP_NET_ADMIN (NFQUEUE verdicts, nf_tables set writes, sock_diag).
 * Capabilities alone are not enough: a process that keeps uid 0 can
 * still rewrite every root-owned file.  The result is checked (all three
 * user and group ids, the groups, every capability set, and that uid 0
 * cannot be taken back); anything else is a fatal error.  When the user
 * does not exist, privdrop_lookup refuses, and the daemon does not start:
 * it never silently stays root.
 *
 * Under systemd (the shipped units start the daemons as user smtpgate
 * with ambient CAP_NET_ADMIN) there is nothing to switch and privdrop only
 * checks that CAP_NET_ADMIN is there.
 *
 * Order: privdrop_lookup early (before any set-up, so a missing user stops
 * the start at once), the set-up as root (files and directories the user
 * must write are created for it then: privdrop_may checks what exists),
 * then privdrop_apply in the process that will run.  Raw capset(2) and
 * prctl(2): no libcap needed.
 */
#ifndef SMTPGATE_PRIVDROP_H
#define SMTPGATE_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define PRIVDROP_USER	"smtpgate"

/* Who the daemon runs as once set up. */
struct privdrop_user {
	bool change;			/* started as root: become uid/gid */
	uid_t uid;
	gid_t gid;
	char name[32];
};

/*
 * Started as root (effective uid 0): look PRIVDROP_USER up; 0, or -1 with
 * one line in err when it does not exist.  Otherwise the process's own
 * ids, change false.
 */
int privdrop_lookup(struct privdrop_user *u, char *err, size_t errlen);

/*
 * May user u do what want asks (R_OK, W_OK, X_OK, or'ed) on the file whose
 * status is st?  By its mode bits (owner, group, others), as the kernel
 * decides for a process with groups { u->gid }; ACLs are not consulted.
 */
bool privdrop_may(const struct privdrop_user *u, const struct stat *st,
    int want);

/*
 * Become u when u->change, then keep CAP_NET_ADMIN only, and check the
 * result.  1 when something was dropped, 0 when there was nothing to
 * drop, -1 with err when a step failed, CAP_NET_ADMIN is missing, or the
 * result is not as set.
 */
int privdrop_apply(const struct privdrop_user *u, char *err, size_t errlen);

/* Keep CAP_NET_ADMIN only, without changing user (privdrop_apply's second
 * half).  1 dropped, 0 nothing to drop, -1 with err. */
int privdrop_net_admin(char *err, size_t errlen);

#endif
