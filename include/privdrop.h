/*
 * privdrop.h - shed every capability a daemon does not need once its
 * privileged set-up is done (OpenSMTPD's shape: set up first, then drop in
 * one visible place).
 *
 * Only when started with capabilities beyond the ones kept (typically as
 * root): the bounding set loses every other capability, no_new_privs is
 * set, and the permitted and effective sets keep only CAP_NET_ADMIN (the
 * NFQUEUE verdicts and the nf_tables set writes need it).  The user id is
 * kept: a root-owned configuration stays readable for reloads.  Under
 * systemd as user smtpgate with ambient CAP_NET_ADMIN there is nothing to
 * drop and privdrop_net_admin only checks that CAP_NET_ADMIN is there.
 * Raw capset(2)/prctl(2): no libcap needed.
 */
#ifndef SMTPGATE_PRIVDROP_H
#define SMTPGATE_PRIVDROP_H

#include <stddef.h>

/*
 * Keep CAP_NET_ADMIN only.  Returns 1 when capabilities were dropped, 0
 * when there was nothing to drop, -1 with err when dropping failed or
 * CAP_NET_ADMIN is missing.
 */
int privdrop_net_admin(char *err, size_t errlen);

#endif
