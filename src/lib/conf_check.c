/*
 * conf_check.c - what no single key settles: the defaults that follow
 * other keys, the rules that span keys, and the files the configuration
 * names.  Every program that reads the file goes through these, so
 * smtpgated -n, smtpgate-sniffd -n, smtpgate-nft and a reload never
 * disagree about a file.
 *
 * Exports conf_check_cross (conf_int.h, for conf_load) and
 * conf_check_files (conf.h).  A rule's fault is reported at the line of
 * the key that breaks it: the one set later when both were set, the one
 * set at all when only one was (the defaults agree with every rule).
 * When several rules fail, the one with the earliest line is reported,
 * as a single key's fault would be.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"
#include "ptrclass.h"
#include "reply.h"

/* One rule's verdict: which key breaks it, and why. */
struct conf_check_fault {
	const char *section;
	const char *name;
	int line;			/* 0: no key set (defaults) */
	char why[CONF_WHY_MAX];
};

static int
conf_check_line(const int *seen, const char *section, const char *name)
{
	size_t i;

	return conf_keys_find(section, name, &i) != NULL ? seen[i] : 0;
}

/*
 * Of the two keys a rule joins, the one that breaks it: the later set
 * one.  Fills f's key and line; returns true when it is the second.
 */
static bool
conf_check_blame(struct conf_check_fault *f, const int *seen,
    const char *s1, const char *n1, const char *s2, const char *n2)
{
	int l1 = conf_check_line(seen, s1, n1), l2 = conf_check_line(seen, s2,
	    n2);
	bool second = l2 >= l1;

	f->section = second ? s2 : s1;
	f->name = second ? n2 : n1;
	f->line = second ? l2 : l1;
	return second;
}

/* [gate] ptr_providers_mode = replace wants a file to replace with. */
static bool
conf_check_providers_mode(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	if (!c->gate.ptr_providers_replace || c->gate.ptr_providers[0] != '\0')
		return true;
	f->section = "gate";
	f->name = "ptr_providers_mode";
	f->line = conf_check_line(seen, "gate", "ptr_providers_mode");
	snprintf(f->why, sizeof f->why, "replace needs a ptr_providers file "
	    "(the built-in table would be replaced by nothing)");
	return false;
}

/* Two daemons cannot bind one queue (the second gets EBUSY), and the
 * ruleset would send SYNs and greetings to the same reader. */
static bool
conf_check_queues(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	if (c->gate.queue != c->sniffer.queue)
		return true;
	if (conf_check_blame(f, seen, "gate", "queue", "sniffer", "queue"))
		snprintf(f->why, sizeof f->why, "%u is [gate] queue too (the "
		    "gate and the sniffer need a queue each)",
		    c->sniffer.queue);
	else
		snprintf(f->why, sizeof f->why, "%u is [sniffer] queue too "
		    "(the gate and the sniffer need a queue each)",
		    c->gate.queue);
	return false;
}

/* The banner hold's queue is a third reader's (sniff_hold.c). */
static bool
conf_check_hold_queue(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	const struct conf_sniffer *s = &c->sniffer;
	bool gate = s->hold_queue == c->gate.queue;

	if (s->banner_hold_ms == 0 || (!gate && s->hold_queue != s->queue))
		return true;
	f->section = "sniffer";
	f->name = "hold_queue";
	f->line = conf_check_line(seen, "sniffer", "hold_queue");
	if (f->line == 0) {
		f->name = "banner_hold_ms";
		f->line = conf_check_line(seen, "sniffer", "banner_hold_ms");
	}
	snprintf(f->why, sizeof f->why, "hold_queue %u is [%s] queue too "
	    "(the held banners need a queue of their own)", s->hold_queue,
	    gate ? "gate" : "sniffer");
	return false;
}

/* A first ban longer than the longest: the doubling could never start. */
static bool
conf_check_offender_timeout(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	const struct conf_sniffer *s = &c->sniffer;
	char t[32], m[32];

	if (s->offender_timeout_s <= s->offender_timeout_max_s)
		return true;
	conf_parse_duration_text(s->offender_timeout_s, t, sizeof t);
	conf_parse_duration_text(s->offender_timeout_max_s, m, sizeof m);
	if (conf_check_blame(f, seen, "sniffer", "offender_timeout",
	    "sniffer", "offender_timeout_max"))
		snprintf(f->why, sizeof f->why, "%s is shorter than "
		    "offender_timeout (%s)", m, t);
	else
		snprintf(f->why, sizeof f->why, "%s is longer than "
		    "offender_timeout_max (%s)", t, m);
	return false;
}

/* A retry must be able to come: retry_min within retry_window. */
static bool
conf_check_retry(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	const struct conf_gate *g = &c->gate;
	char m[32], w[32];

	if (g->retry_min_s < g->retry_window_s)
		return true;
	conf_parse_duration_text(g->retry_min_s, m, sizeof m);
	conf_parse_duration_text(g->retry_window_s, w, sizeof w);
	if (conf_check_blame(f, seen, "gate", "retry_min", "gate",
	    "retry_window"))
		snprintf(f->why, sizeof f->why, "%s is not longer than "
		    "retry_min (%s): no retry could pass", w, m);
	else
		snprintf(f->why, sizeof f->why, "%s is not shorter than "
		    "retry_window (%s): no retry could pass", m, w);
	return false;
}

/* The responder's ports (reply_port and the REPLY_PORTS - 1 after it)
 * are no gated port: a redirected connection would be gated again. */
static bool
conf_check_reply_ports(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	unsigned lo = c->gate.reply_port, hi = lo + REPLY_PORTS - 1;

	for (size_t i = 0; i < c->gate.nports; i++) {
		if (c->gate.ports[i] < lo || c->gate.ports[i] > hi)
			continue;
		(void)conf_check_blame(f, seen, "gate", "ports", "gate",
		    "reply_port");
		snprintf(f->why, sizeof f->why, "gated port %u is one of the "
		    "responder's ports %u-%u", c->gate.ports[i], lo, hi);
		return false;
	}
	return true;
}

/* [cluster] asks one server or the sentinels, never both. */
static bool
conf_check_cluster_server(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	if (c->cluster.redis[0] == '\0' || c->cluster.nsentinels == 0)
		return true;
	if (conf_check_blame(f, seen, "cluster", "redis", "cluster",
	    "sentinel"))
		snprintf(f->why, sizeof f->why, "redis is set too (want redis "
		    "or sentinel, not both)");
	else
		snprintf(f->why, sizeof f->why, "sentinel is set too (want "
		    "redis or sentinel, not both)");
	return false;
}

/* [cluster] sentinel names its master after the hosts. */
static bool
conf_check_cluster_master(const struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	if (c->cluster.nsentinels == 0 || c->cluster.sentinel_master[0])
		return true;
	f->section = "cluster";
	f->name = "sentinel";
	f->line = conf_check_line(seen, "cluster", "sentinel");
	snprintf(f->why, sizeof f->why, "want HOST:PORT ... master NAME (the "
	    "master's name is missing)");
	return false;
}

/*
 * [cluster] node's default: the host name, when it is a node name
 * ([A-Za-z0-9._-]{1,63}); else, with [cluster] on, node must be set.
 */
static bool
conf_check_cluster_node(struct conf *c, const int *seen,
    struct conf_check_fault *f)
{
	struct conf_cluster *cc = &c->cluster;
	char host[256];
	size_t len;

	if (conf_check_line(seen, "cluster", "node") != 0)
		return true;
	cc->node[0] = '\0';
	if (gethostname(host, sizeof host) == 0) {
		host[sizeof host - 1] = '\0';
		len = strlen(host);
		if (len > 0 && len < sizeof cc->node && strspn(host,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-") == len)
			memcpy(cc->node, host, len + 1);
	}
	if (cc->node[0] != '\0' || (cc->redis[0] == '\0' &&
	    cc->nsentinels == 0))
		return true;
	f->section = "cluster";
	f->name = "node";
	f->line = conf_check_line(seen, "cluster", cc->redis[0] ? "redis" :
	    "sentinel");
	snprintf(f->why, sizeof f->why, "the host name '%.80s' is no node "
	    "name ([A-Za-z0-9._-], 1..63 characters): set node", host);
	return false;
}

static bool (*const conf_check_rules[])(const struct conf *, const int *,
    struct conf_check_fault *) = {
	conf_check_providers_mode,
	conf_check_reply_ports,
	conf_check_queues,
	conf_check_hold_queue,
	conf_check_offender_timeout,
	conf_check_retry,
	conf_check_cluster_server,
	conf_check_cluster_master,
};

int
conf_check_cross(struct conf *c, const int *seen, const char *path,
    char *err, size_t errlen)
{
	struct conf_check_fault f, first;
	bool failed = false;

	/* Derived defaults first: the rules judge the values in force. */
	if (conf_check_line(seen, "gate", "invalid_ptr") == 0)
		c->gate.invalid_ptr = c->gate.no_ptr;
	if (!conf_check_cluster_node(c, seen, &f)) {
		first = f;
		failed = true;
	}
	for (size_t i = 0; i < sizeof conf_check_rules /
	    sizeof conf_check_rules[0]; i++) {
		if (conf_check_rules[i](c, seen, &f))
			continue;
		if (!failed || f.line < first.line)
			first = f;
		failed = true;
	}
	if (!failed)
		return 0;
	if (first.line > 0)
		snprintf(err, errlen, "%s:%d: [%s] %s: %s", path, first.line,
		    first.section, first.name, first.why);
	else
		snprintf(err, errlen, "%s: [%s] %s: %s", path, first.section,
		    first.name, first.why);
	return -1;
}

struct ptrclass *
conf_ptrclass_new(const struct conf_gate *g, char *err, size_t errlen)
{
	struct ptrclass *pc;
	size_t n;

	pc = ptrclass_new_tables(g->ptr_providers[0] ? g->ptr_providers :
	    NULL, !g->ptr_providers_replace, err, errlen);
	if (pc == NULL && g->ptr_providers[0] != '\0') {
		n = strlen(err);
		snprintf(err + n, errlen - n, " ([gate] ptr_providers)");
	}
	return pc;
}

int
conf_check_files(const struct conf *c, char *err, size_t errlen)
{
	/* The table the gate and smtpgatectl check would build. */
	struct ptrclass *pc = conf_ptrclass_new(&c->gate, err, errlen);

	if (pc == NULL)
		return -1;
	ptrclass_free(pc);
	return 0;
}
