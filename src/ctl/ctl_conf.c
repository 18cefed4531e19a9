/*
 * ctl_conf.c - smtpgatectl's configuration, loaded once on first need
 * (ctl_conf in ctl.h), so commands that need none (classify-ptr) and
 * input refused before any lookup never read it.
 */
#include <stdio.h>

#include "ctl.h"

int
ctl_conf(struct ctl *c)
{
	char err[CONF_ERR_MAX];

	if (c->conf_loaded)
		return CTL_OK;
	if (conf_load(c->conf_path, &c->conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpgatectl: %s\n", err);
		return CTL_BADINPUT;
	}
	c->conf_loaded = true;
	return CTL_OK;
}
