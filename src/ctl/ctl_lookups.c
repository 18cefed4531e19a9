/*
 * ctl_lookups.c - what `check` and `identity` run their lookups with: the
 * gate's PTR classifier, an event loop, the resolver and the sniffer's
 * sandboxed SPF helpers (libspf2 never runs in smtpgatectl's process),
 * made and freed the same way for both.  Each failure is printed as
 * "smtpgatectl: CMD: ..." and returned as the exit code it deserves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "dns.h"
#include "evloop.h"
#include "ptrclass.h"
#include "spfcheck.h"

int
ctl_lookups_open(const struct ctl *c, const char *cmd, struct ptrclass **pc,
    struct evloop **ev)
{
	char err[512];

	if ((*pc = conf_ptrclass_new(&c->conf.gate, err, sizeof(err))) ==
	    NULL) {
		int e = errno;	/* fprintf may change errno */

		fprintf(stderr, "smtpgatectl: %s: %s\n", cmd, err);
		return e == EINVAL ? CTL_BADINPUT : CTL_SYSERR;
	}
	if ((*ev = evloop_new()) == NULL) {
		fprintf(stderr, "smtpgatectl: %s: evloop_new: %s\n", cmd,
		    strerror(errno));
		ptrclass_free(*pc);
		*pc = NULL;
		return CTL_SYSERR;
	}
	return CTL_OK;
}

int
ctl_lookups_dns(const struct ctl *c, const char *cmd, struct evloop *ev,
    struct dns **out)
{
	char err[512];

	if ((*out = dns_new(ev, &c->conf.dns, err, sizeof(err))) == NULL) {
		fprintf(stderr, "smtpgatectl: %s: %s\n", cmd, err);
		return CTL_UNREACHABLE;
	}
	return CTL_OK;
}

int
ctl_lookups_spf(const struct ctl *c, const char *cmd, struct evloop *ev,
    unsigned max_per_client, struct spfcheck **out)
{
	const struct conf_sniffer *cs = &c->conf.sniffer;
	struct spfcheck_opts so = { .workers = 2,
	    .max_per_client = max_per_client,
	    .user = strcmp(cs->spf_user, "dynamic") == 0 ? "" : cs->spf_user,
	    .screen = true };
	char err[512];

	if ((*out = spfcheck_new(ev, &c->conf.dns, &so, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "smtpgatectl: %s: %s\n", cmd, err);
		return CTL_SYSERR;
	}
	return CTL_OK;
}

void
ctl_lookups_close(struct dns *dns, struct spfcheck *spfc, struct evloop *ev,
    struct ptrclass *pc)
{
	/* Cancelled callbacks still touch their caller's state: the
	 * resolver goes first. */
	if (dns != NULL)
		dns_free(dns);
	if (spfc != NULL)
		spfcheck_free(spfc);
	if (ev != NULL)
		evloop_free(ev);
	if (pc != NULL)
		ptrclass_free(pc);
}
