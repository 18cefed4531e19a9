/*
 * fake_nflog.c - include/nflog.h but for its pure messages (nflog_msg.c),
 * in place of nflog.c: a group that binds and never hands a copy, so the
 * sniffer's round-trip test finds no times and the order test stands
 * alone, as when the copies are lost.  The round-trip rule itself is the
 * unit tests' (test_smtpproto.c), the copies through the kernel the e2e
 * test's (t_sniff_pregreet_rtt.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nflog.h"

struct nflog {
	struct nflog_stats st;
};

struct nflog *
nflog_open(struct evloop *ev, uint16_t group, uint32_t copy, nflog_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct nflog *l;

	(void)ev;
	(void)copy;
	(void)cb;
	(void)arg;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "nflog: bind nflog group %u: %s", group,
		    strerror(errno));
		return NULL;
	}
	return l;
}

void
nflog_close(struct nflog *l)
{
	free(l);
}

const struct nflog_stats *
nflog_stats(const struct nflog *l)
{
	return &l->st;
}
