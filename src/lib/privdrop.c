/*
 * privdrop.c - become the daemon's user, keep CAP_NET_ADMIN, drop every
 * other privilege, and check (privdrop.h).  Exports privdrop_lookup,
 * privdrop_may, privdrop_apply and privdrop_net_admin.
 *
 * Order matters: supplementary groups and group ids change while the
 * process is still root (setgroups and setresgid need CAP_SETGID);
 * PR_SET_KEEPCAPS keeps the permitted set across setresuid, which still
 * empties the effective set, so the effective set is raised again from
 * the permitted one before the bounding set is reduced (that needs
 * CAP_SETPCAP effective); capset then removes CAP_SETPCAP with the rest.
 * no_new_privs keeps an exec (there is none) from gaining anything back.
 */
#define _GNU_SOURCE	/* setresuid, getresuid */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

#define PRIVDROP_KEEP	(1u << CAP_NET_ADMIN)	/* CAP_NET_ADMIN < 32 */

static int
privdrop_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	memset(d, 0, 2 * sizeof(*d));
	return (int)syscall(SYS_capget, &h, d);
}

static int
privdrop_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return (int)syscall(SYS_capset, &h, d);
}

int
privdrop_lookup(struct privdrop_user *u, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) {
		u->uid = geteuid();
		u->gid = getegid();
		snprintf(u->name, sizeof(u->name), "uid %lu",
		    (unsigned long)u->uid);
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(PRIVDROP_USER)) == NULL) {
		snprintf(err, errlen, "user %s %s: started as root, the "
		    "daemon runs as that user and will not stay root (create "
		    "it: useradd --system --user-group --home-dir "
		    "/var/lib/smtpgate --shell /usr/sbin/nologin %s)",
		    PRIVDROP_USER, errno != 0 ? "cannot be looked up" :
		    "does not exist", PRIVDROP_USER);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user %s has uid %lu gid %lu: the "
		    "daemon will not run as root under another name",
		    PRIVDROP_USER, (unsigned long)pw->pw_uid,
		    (unsigned long)pw->pw_gid);
		return -1;
	}
	u->change = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", PRIVDROP_USER);
	return 0;
}

bool
privdrop_may(const struct privdrop_user *u, const struct stat *st, int want)
{
	mode_t r = 0, w = 0, x = 0;

	if (u->uid == 0)
		return true;
	if (st->st_uid == u->uid) {
		r = S_IRUSR, w = S_IWUSR, x = S_IXUSR;
	} else if (st->st_gid == u->gid) {
		r = S_IRGRP, w = S_IWGRP, x = S_IXGRP;
	} else {
		r = S_IROTH, w = S_IWOTH, x = S_IXOTH;
	}
	return (!(want & R_OK) || (st->st_mode & r)) &&
	    (!(want & W_OK) || (st->st_mode & w)) &&
	    (!(want & X_OK) || (st->st_mode & x));
}

/* Become u, keeping the permitted capabilities, and raise them again. */
static int
privdrop_switch(const struct privdrop_user *u, char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];

	if (setgroups(1, &u->gid) == -1) {
		snprintf(err, errlen, "privdrop: setgroups %lu: %s",
		    (unsigned long)u->gid, strerror(errno));
		return -1;
	}
	if (setresgid(u->gid, u->gid, u->gid) == -1) {
		snprintf(err, errlen, "privdrop: setresgid %lu: %s",
		    (unsigned long)u->gid, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "privdrop: prctl KEEPCAPS: %s",
		    strerror(errno));
		return -1;
	}
	if (setresuid(u->uid, u->uid, u->uid) == -1) {
		snprintf(err, errlen, "privdrop: setresuid %lu: %s",
		    (unsigned long)u->uid, strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (privdrop_get(d) == -1) {
		snprintf(err, errlen, "privdrop: capget: %s", strerror(errno));
		return -1;
	}
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	if (privdrop_set(d) == -1) {
		snprintf(err, errlen, "privdrop: capset (raise): %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
privdrop_net_admin(char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];
	int cap;

	if (privdrop_get(d) == -1) {
		snprintf(err, errlen, "privdrop: capget: %s", strerror(errno));
		return -1;
	}
	if (!(d[0].permitted & PRIVDROP_KEEP)) {
		snprintf(err, errlen, "privdrop: CAP_NET_ADMIN is not "
		    "permitted (run as root or with AmbientCapabilities="
		    "CAP_NET_ADMIN)");
		return -1;
	}
	if ((d[0].permitted & ~PRIVDROP_KEEP) == 0 && d[1].permitted == 0)
		return 0;	/* nothing beyond CAP_NET_ADMIN */
	/*
	 * The bounding set can only shrink with CAP_SETPCAP.  Started as a
	 * user with a few ambient capabilities (the sniffer's unit gives
	 * CAP_SETUID and CAP_SETGID for its SPF helpers) there is none: the
	 * unit's CapabilityBoundingSet already bounds it, and with
	 * no_new_privs and no exec nothing in it can be gained back.
	 */
	for (cap = 0; (d[0].effective & (1u << CAP_SETPCAP)) &&
	    cap <= CAP_LAST_CAP; cap++) {
		if (cap == CAP_NET_ADMIN)
			continue;
		/* EINVAL: a capability this kernel does not know. */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL) {
			snprintf(err, errlen, "privdrop: prctl CAPBSET_DROP "
			    "%d: %s", cap, strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "privdrop: prctl NO_NEW_PRIVS: %s",
		    strerror(errno));
		return -1;
	}
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = PRIVDROP_KEEP;
	if (privdrop_set(d) == -1) {
		snprintf(err, errlen, "privdrop: capset: %s", strerror(errno));
		return -1;
	}
	/* Check: a silent failure here would leave root's full power. */
	if (privdrop_get(d) == -1 || d[0].permitted != PRIVDROP_KEEP ||
	    d[1].permitted != 0 || d[0].effective != PRIVDROP_KEEP) {
		snprintf(err, errlen, "privdrop: capabilities not as set");
		return -1;
	}
	return 1;
}

/* After the switch: is every id, group and capability set as asked? */
static int
privdrop_check(const struct privdrop_user *u, char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[8];
	int n, cap;

	if (getresuid(&ru, &eu, &su) == -1 || ru != u->uid || eu != u->uid ||
	    su != u->uid) {
		snprintf(err, errlen, "privdrop: user ids not as set (want %lu)",
		    (unsigned long)u->uid);
		return -1;
	}
	if (getresgid(&rg, &eg, &sg) == -1 || rg != u->gid || eg != u->gid ||
	    sg != u->gid) {
		snprintf(err, errlen, "privdrop: group ids not as set (want "
		    "%lu)", (unsigned long)u->gid);
		return -1;
	}
	if ((n = getgroups(8, groups)) != 1 || groups[0] != u->gid) {
		snprintf(err, errlen, "privdrop: supplementary groups not as "
		    "set (got %d, want only %lu)", n, (unsigned long)u->gid);
		return -1;
	}
	if (privdrop_get(d) == -1 || d[0].permitted != PRIVDROP_KEEP ||
	    d[0].effective != PRIVDROP_KEEP || d[0].inheritable != 0 ||
	    d[1].permitted != 0 || d[1].effective != 0 ||
	    d[1].inheritable != 0) {
		snprintf(err, errlen, "privdrop: capabilities not as set");
		return -1;
	}
	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in == -1 && errno == EINVAL)
			break;
		if (in != (cap == CAP_NET_ADMIN)) {
			snprintf(err, errlen, "privdrop: capability %d %s the "
			    "bounding set", cap, in == 1 ? "still in" :
			    "missing from");
			return -1;
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "privdrop: no_new_privs not set");
		return -1;
	}
	/* The last word: root must be out of reach for good. */
	if (setuid(0) != -1 || setgid(0) != -1) {
		snprintf(err, errlen, "privdrop: uid or gid 0 could be taken "
		    "back");
		return -1;
	}
	return 0;
}

int
privdrop_apply(const struct privdrop_user *u, char *err, size_t errlen)
{
	int rc;

	if (u->change && privdrop_switch(u, err, errlen) == -1)
		return -1;
	if ((rc = privdrop_net_admin(err, errlen)) == -1)
		return -1;
	if (u->change) {
		if (privdrop_check(u, err, errlen) == -1)
			return -1;
		rc = 1;
	}
	return rc;
}
