/*
 * control_cluster.c - a daemon's [cluster] sharing as its control socket
 * tells it (the verb "cluster", and the cluster_ fields of "stats"), the
 * same for smtpgated and smtpgate-sniffd (control.h; the lines are
 * CLUSTER.md's and smtpgatectl(8)'s):
 *
 *   state=up server=127.0.0.1:6379 since_ms=... node=A shared=N ...
 *   sibling=B last_ms=... lag_ms=...
 *
 * or "state=off" alone when [cluster] is off (no connection: c NULL).
 * Values are never empty and never hold a space or '=' (a record of
 * control.h): what the configuration allowed there anyway is shown as
 * '?'.
 *
 * Exports control_cluster_reply, control_cluster_stats and
 * control_cluster_node (control.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "control.h"

/* s as a record's value into buf: '?' for a space, '=' or a byte outside
 * printable ASCII, "-" for nothing. */
static const char *
control_cluster_value(const char *s, char *buf, size_t len)
{
	size_t i;

	if (len == 0)
		return "";
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f && s[i] != '=' ? s[i] :
		    '?';
	buf[i] = '\0';
	if (i == 0)
		snprintf(buf, len, "-");
	return buf;
}

void
control_cluster_node(const struct conf_cluster *cc, char *buf, size_t len)
{
	char host[256];

	if (len == 0)
		return;
	if (cc != NULL && cc->node[0] != '\0') {
		snprintf(buf, len, "%s", cc->node);
		return;
	}
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s", host);
}

void
control_cluster_reply(struct control_reply *r, const struct cluster *c,
    const char *node)
{
	const struct cluster_stats *st;
	char server[sizeof(st->server)], nd[CLUSTER_NODE_MAX];

	if (c == NULL) {
		control_reply_line(r, "state=off");
		return;
	}
	st = cluster_stats(c);
	control_reply_line(r, "state=%s server=%s since_ms=%lld node=%s "
	    "shared=%llu received=%llu applied=%llu refused=%llu expired=%llu "
	    "backlog=%llu lost=%llu reconnects=%llu timeouts=%llu errors=%llu "
	    "resynced=%llu failovers=%llu siblings=%zu",
	    cluster_state_name(st->state),
	    control_cluster_value(st->server, server, sizeof(server)),
	    (long long)st->since_ms,
	    control_cluster_value(node, nd, sizeof(nd)),
	    (unsigned long long)st->shared, (unsigned long long)st->received,
	    (unsigned long long)st->applied, (unsigned long long)st->refused,
	    (unsigned long long)st->expired, (unsigned long long)st->backlog,
	    (unsigned long long)st->lost, (unsigned long long)st->reconnects,
	    (unsigned long long)st->timeouts, (unsigned long long)st->errors,
	    (unsigned long long)st->resynced,
	    (unsigned long long)st->failovers, st->nsiblings);
	for (size_t i = 0; i < st->nsiblings && i < CLUSTER_SIBLINGS_MAX;
	    i++)
		control_reply_line(r, "sibling=%s last_ms=%lld lag_ms=%lld",
		    control_cluster_value(st->sibling[i].node, nd, sizeof(nd)),
		    (long long)st->sibling[i].last_ms,
		    (long long)st->sibling[i].lag_ms);
}

size_t
control_cluster_stats(char *buf, size_t len, const struct cluster *c)
{
	static const struct cluster_stats off;	/* all zero: CLUSTER_OFF */
	const struct cluster_stats *st = c != NULL ? cluster_stats(c) : &off;
	int n;

	if (len == 0)
		return 0;
	n = snprintf(buf, len, "cluster_up=%d cluster_shared=%llu "
	    "cluster_received=%llu cluster_applied=%llu cluster_refused=%llu "
	    "cluster_expired=%llu cluster_backlog=%llu cluster_lost=%llu "
	    "cluster_reconnects=%llu cluster_timeouts=%llu "
	    "cluster_errors=%llu cluster_resynced=%llu cluster_failovers=%llu "
	    "cluster_siblings=%zu", st->state == CLUSTER_UP ? 1 : 0,
	    (unsigned long long)st->shared, (unsigned long long)st->received,
	    (unsigned long long)st->applied, (unsigned long long)st->refused,
	    (unsigned long long)st->expired, (unsigned long long)st->backlog,
	    (unsigned long long)st->lost, (unsigned long long)st->reconnects,
	    (unsigned long long)st->timeouts, (unsigned long long)st->errors,
	    (unsigned long long)st->resynced,
	    (unsigned long long)st->failovers, st->nsiblings);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}
