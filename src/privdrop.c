/*
 * privdrop.c - keep CAP_NET_ADMIN, drop every other capability
 * (privdrop.h).  Exports privdrop_net_admin.
 *
 * Order matters: the bounding set can only be reduced while CAP_SETPCAP
 * is still effective, so it goes first; capset then removes CAP_SETPCAP
 * with the rest.  no_new_privs keeps an exec (there is none) from gaining
 * anything back.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

static int
privdrop_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return (int)syscall(SYS_capget, &h, d);
}

int
privdrop_net_admin(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	const uint32_t keep = 1u << CAP_NET_ADMIN;	/* CAP_NET_ADMIN < 32 */
	int cap;

	memset(d, 0, sizeof(d));
	if (privdrop_get(d) == -1) {
		snprintf(err, errlen, "privdrop: capget: %s", strerror(errno));
		return -1;
	}
	if (!(d[0].permitted & keep)) {
		snprintf(err, errlen, "privdrop: CAP_NET_ADMIN is not "
		    "permitted (run as root or with AmbientCapabilities="
		    "CAP_NET_ADMIN)");
		return -1;
	}
	if ((d[0].permitted & ~keep) == 0 && d[1].permitted == 0)
		return 0;	/* nothing beyond CAP_NET_ADMIN */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
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
	d[0].permitted = d[0].effective = keep;
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "privdrop: capset: %s", strerror(errno));
		return -1;
	}
	/* Check: a silent failure here would leave root's full power. */
	memset(d, 0, sizeof(d));
	if (privdrop_get(d) == -1 || d[0].permitted != keep ||
	    d[1].permitted != 0 || d[0].effective != keep) {
		snprintf(err, errlen, "privdrop: capabilities not as set");
		return -1;
	}
	return 1;
}
