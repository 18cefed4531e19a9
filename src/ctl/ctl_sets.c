/*
 * ctl_sets.c - smtpgatectl cache list|del|flush: the verdicts smtpgated
 * cached in the kernel (sets pass, deny, drop; 4 and 6; and the IPv6 /64
 * sets denynet6, dropnet6), and tempfail's senders (wait4/6, retry4/6,
 * keyed by retry key: retry.h), read and changed over netlink.  With
 * [gate] reply = smtp the maps reply4/6 (address -> the responder's port,
 * reply.h) go with them: cache del and flush remove a refused client's
 * element too, else the kernel would go on redirecting it to the 554 or
 * 421 line until the element's timeout.
 *
 * Exports ctl_cache_main and ctl_sets_dump (ctl_sets.h).  Reading is a
 * GETSETELEM dump through the netlink module, parsed by libnftnl; deleting
 * goes through nftset (one batch, every message acked), flushing through
 * nftset_replace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "ctl.h"
#include "ctl_sets.h"
#include "netlink.h"
#include "nftset.h"
#include "reply.h"
#include "retry.h"

#define CTL_SETS_WAIT_MS	5000	/* a dump of 65536 elements */
#define CTL_SETS_MSG		512	/* the dump request, bytes */

/*
 * The gate's cache sets, in listing order.  The net sets hold IPv6 /64s
 * (the address with its last 64 bits zero, matched by the ruleset as
 * ip6 saddr & ffff:ffff:ffff:ffff::): shown and deleted as ADDR/64.
 */
static const struct ctl_cache_set {
	const char *name;	/* the kernel's set */
	const char *base;	/* nftset's name for it: without the family */
	const char *kind;	/* cache flush's word */
	const char *verdict;
	int family;		/* 4 or 6 */
	unsigned net;		/* prefix length of its elements; 0: addresses */
} ctl_cache_sets[] = {
	{ "pass4", "pass", "pass", "accept", 4, 0 },
	{ "pass6", "pass", "pass", "accept", 6, 0 },
	{ "deny4", "deny", "deny", "reject", 4, 0 },
	{ "deny6", "deny", "deny", "reject", 6, 0 },
	{ "denynet6", "denynet", "deny", "reject", 6, 64 },
	{ "drop4", "drop", "drop", "drop", 4, 0 },
	{ "drop6", "drop", "drop", "drop", 6, 0 },
	{ "dropnet6", "dropnet", "drop", "drop", 6, 64 },
};
#define CTL_CACHE_NSETS	(sizeof(ctl_cache_sets) / sizeof(ctl_cache_sets[0]))

struct ctl_dump {
	struct ctl_set_elem *e;
	size_t n, cap;
	bool oom;
};

static int
ctl_sets_elem(const struct nftset_dumped *e, void *arg)
{
	struct ctl_dump *d = arg;
	struct ctl_set_elem *x;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct ctl_set_elem *ne = realloc(d->e, cap * sizeof(*ne));

		if (ne == NULL) {
			d->oom = true;
			return -1;
		}
		d->e = ne;
		d->cap = cap;
	}
	x = &d->e[d->n++];
	x->a = e->a;
	x->interval_end = e->interval_end;
	x->timeout_ms = e->timeout_ms;
	x->expires_ms = e->expires_ms;
	x->port = e->port;
	return 0;
}

static int
ctl_sets_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctl_dump *d = data;

	/* 1: not a set element message. */
	if (nftset_dump_elems(nlh, ctl_sets_elem, d) == -1) {
		d->oom = true;
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
ctl_sets_dump(const char *table, const char *set, struct ctl_set_elem **out,
    size_t *n, char *err, size_t errlen)
{
	struct ctl_dump d = { 0 };
	struct nl_sock *nl = NULL;
	struct nl_batch *b = NULL;
	struct nftnl_set *s = NULL;
	struct nlmsghdr *nlh;
	char why[256];
	int rc = -1, saved = 0;

	*out = NULL;
	*n = 0;
	if ((b = nl_batch_new(NL_FRAME_NONE)) == NULL ||
	    (s = nftnl_set_alloc()) == NULL ||
	    (nlh = nl_batch_put(b, CTL_SETS_MSG)) == NULL) {
		saved = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((nl = nl_open(NETLINK_NETFILTER, 0, why, sizeof(why))) == NULL) {
		saved = errno;
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr((char *)nlh, NFT_MSG_GETSETELEM,
	    NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	(void)nl_batch_add_dump(b, "list set inet %s %s", table, set);
	if (nl_exchange(nl, b, ctl_sets_cb, &d, CTL_SETS_WAIT_MS, why,
	    sizeof(why)) == -1) {
		saved = d.oom ? ENOMEM : errno;
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	*out = d.e;
	*n = d.n;
	d.e = NULL;
	rc = 0;
out:
	nl_close(nl);
	nl_batch_free(b);
	if (s != NULL)
		nftnl_set_free(s);
	free(d.e);
	if (rc == -1)
		errno = saved;
	return rc;
}

/* Exit code for a failed dump, with the message printed. */
static int
ctl_sets_fail(const char *table, const char *err)
{
	int e = errno;	/* the dump's: fprintf may change errno */

	fprintf(stderr, "smtpgatectl: kernel: %s%s\n", err, e == ENOENT ?
	    " (no such table or set: has smtpgate-nft install run?)" :
	    e == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	(void)table;
	return e == ENOMEM ? CTL_SYSERR : CTL_UNREACHABLE;
}

static void
ctl_cache_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl cache list [--json]\n"
	    "       smtpgatectl cache del IP|IPV6-PREFIX/64|RETRY-KEY/LEN\n"
	    "       smtpgatectl cache flush [pass|deny|drop|tempfail]\n");
}

/*
 * One row of cache list.  Streamed, set by set, not gathered into a
 * ctl_table: the sets can hold 65536 elements each, and a table record
 * costs some kilobytes (it is sized for the daemons' stats lines).  Text
 * columns therefore have fixed widths, wide enough for every value.
 */
static void
ctl_cache_row(const struct ctl *c, const struct ctl_cache_set *cs,
    const struct ctl_set_elem *e, size_t *rows)
{
	char a[ADDR_STRLEN], ip[ADDR_STRLEN + 4], exp[24], tmo[24];

	if (cs->net != 0)
		snprintf(ip, sizeof(ip), "%s/%u", addr_ntop(&e->a, a), cs->net);
	else
		snprintf(ip, sizeof(ip), "%s", addr_ntop(&e->a, a));
	snprintf(exp, sizeof(exp), "%llu",
	    (unsigned long long)(e->expires_ms / 1000));
	snprintf(tmo, sizeof(tmo), "%llu",
	    (unsigned long long)(e->timeout_ms / 1000));
	if (c->fmt == CTL_FMT_JSON) {
		fputs(*rows ? ",\n {" : "[\n {", stdout);
		fputs("\"set\": ", stdout);
		ctl_out_json_str(stdout, cs->name);
		fputs(", \"verdict\": ", stdout);
		ctl_out_json_str(stdout, cs->verdict);
		fputs(", \"ip\": ", stdout);
		ctl_out_json_str(stdout, ip);
		fprintf(stdout, ", \"expires_s\": %s, \"timeout_s\": %s}", exp,
		    tmo);
	} else {
		if (*rows == 0)
			printf("%-10s%-9s%-45s%-11s%s\n", "set", "verdict", "ip",
			    "expires_s", "timeout_s");
		printf("%-10s%-9s%-45s%-11s%s\n", cs->name, cs->verdict, ip,
		    exp, tmo);
	}
	(*rows)++;
}

/* ---- tempfail's senders: wait4/6 and retry4/6 ---- */

/* One family's wait and retry elements (ENOENT: a table built before
 * tempfail; nothing then). */
struct ctl_retry_sets {
	struct ctl_set_elem *wait, *retry;
	size_t nwait, nretry;
};

static int
ctl_retry_dump(struct ctl *c, int fam, struct ctl_retry_sets *rs, char *err,
    size_t errlen)
{
	char w[8], r[8];

	memset(rs, 0, sizeof(*rs));
	snprintf(w, sizeof(w), "wait%d", fam);
	snprintf(r, sizeof(r), "retry%d", fam);
	if (ctl_sets_dump(c->conf.nft.table, w, &rs->wait, &rs->nwait, err,
	    errlen) == -1)
		return errno == ENOENT ? 0 : -1;
	if (ctl_sets_dump(c->conf.nft.table, r, &rs->retry, &rs->nretry, err,
	    errlen) == -1) {
		free(rs->wait);
		rs->wait = NULL;
		rs->nwait = 0;
		return errno == ENOENT ? 0 : -1;
	}
	return 0;
}

static void
ctl_retry_free(struct ctl_retry_sets *rs)
{
	free(rs->wait);
	free(rs->retry);
}

static const struct ctl_set_elem *
ctl_retry_find(const struct ctl_set_elem *e, size_t n, const struct addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(&e[i].a, a))
			return &e[i];
	return NULL;
}

/* What the kernel holds for one key. */
static void
ctl_retry_status(const struct ctl_set_elem *w, const struct ctl_set_elem *r,
    struct retry_status *st)
{
	struct retry_elem we = { 0 }, re = { 0 };

	if (w != NULL)
		we = (struct retry_elem){ true, w->timeout_ms, w->expires_ms };
	if (r != NULL)
		re = (struct retry_elem){ true, r->timeout_ms, r->expires_ms };
	retry_status_of(&we, &re, st);
}

/*
 * One tempfailed sender: its key, whether it waits or may pass, when it
 * was first refused (wall clock, from the retry element's age) and when
 * it may pass.  In the JSON array with the cache rows ("verdict":
 * "tempfail"); in text, a table of its own after theirs.
 */
static void
ctl_retry_row(const struct ctl *c, int fam, const struct addr *key,
    const struct retry_status *st, size_t *rows, size_t *trows)
{
	char a[ADDR_STRLEN], ip[ADDR_STRLEN + 8], first[32] = "-", set[8];
	time_t now = time(NULL), t;
	struct tm tm;

	snprintf(ip, sizeof(ip), "%s/%u", addr_ntop(key, a),
	    retry_key_plen(&c->conf.gate, fam == 4 ? AF_INET : AF_INET6));
	snprintf(set, sizeof(set), "%s%d", st->age_known ? "retry" : "wait",
	    fam);
	if (st->age_known) {
		t = now - (time_t)(st->age_ms / 1000);
		if (gmtime_r(&t, &tm) != NULL)
			strftime(first, sizeof(first), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (c->fmt == CTL_FMT_JSON) {
		fputs(*rows ? ",\n {" : "[\n {", stdout);
		fputs("\"set\": ", stdout);
		ctl_out_json_str(stdout, set);
		fputs(", \"verdict\": \"tempfail\", \"ip\": ", stdout);
		ctl_out_json_str(stdout, ip);
		fputs(", \"state\": ", stdout);
		ctl_out_json_str(stdout, retry_phase_name(st->phase));
		fputs(", \"first_seen\": ", stdout);
		if (st->age_known)
			ctl_out_json_str(stdout, first);
		else
			fputs("null", stdout);
		fprintf(stdout, ", \"age_s\": %llu, \"pass_in_s\": %llu, "
		    "\"expires_s\": %llu}",
		    (unsigned long long)(st->age_ms / 1000),
		    (unsigned long long)((st->pass_in_ms + 999) / 1000),
		    (unsigned long long)(st->window_left_ms / 1000));
	} else {
		if (*trows == 0)
			printf("%s%-10s%-46s%-9s%-22s%-8s%-11s%s\n",
			    *rows ? "\n" : "", "tempfail", "key", "state",
			    "first_seen", "age_s", "pass_in_s", "expires_s");
		printf("%-10s%-46s%-9s%-22s%-8llu%-11llu%llu\n", set, ip,
		    retry_phase_name(st->phase), first,
		    (unsigned long long)(st->age_ms / 1000),
		    (unsigned long long)((st->pass_in_ms + 999) / 1000),
		    (unsigned long long)(st->window_left_ms / 1000));
		(*trows)++;
	}
	(*rows)++;
}

static int
ctl_retry_list(struct ctl *c, size_t *rows)
{
	size_t trows = 0;
	char err[512];

	for (int fam = 4; fam <= 6; fam += 2) {
		struct ctl_retry_sets rs;
		struct retry_status st;

		if (ctl_retry_dump(c, fam, &rs, err, sizeof(err)) == -1)
			return ctl_sets_fail(c->conf.nft.table, err);
		for (size_t i = 0; i < rs.nretry; i++) {
			ctl_retry_status(ctl_retry_find(rs.wait, rs.nwait,
			    &rs.retry[i].a), &rs.retry[i], &st);
			ctl_retry_row(c, fam, &rs.retry[i].a, &st, rows,
			    &trows);
		}
		/* A wait element without its retry element still refuses. */
		for (size_t i = 0; i < rs.nwait; i++) {
			if (ctl_retry_find(rs.retry, rs.nretry,
			    &rs.wait[i].a) != NULL)
				continue;
			ctl_retry_status(&rs.wait[i], NULL, &st);
			ctl_retry_row(c, fam, &rs.wait[i].a, &st, rows, &trows);
		}
		ctl_retry_free(&rs);
	}
	return CTL_OK;
}

int
ctl_retry_lookup(struct ctl *c, const struct addr *a, struct retry_status *st)
{
	int fam = a->family == AF_INET ? 4 : 6, found;
	const struct ctl_set_elem *w, *r;
	struct ctl_retry_sets rs;
	struct addr key;
	char err[512];

	retry_key(&c->conf.gate, a, &key);
	if (ctl_retry_dump(c, fam, &rs, err, sizeof(err)) == -1)
		return errno == ENOENT ? 0 : -1;
	w = ctl_retry_find(rs.wait, rs.nwait, &key);
	r = ctl_retry_find(rs.retry, rs.nretry, &key);
	found = w != NULL || r != NULL;
	if (found)
		ctl_retry_status(w, r, st);
	ctl_retry_free(&rs);
	return found;
}

/*
 * Delete key's wait and retry elements (queued on ns); how many.  Prints
 * what it deletes.
 */
static int
ctl_retry_del(struct ctl *c, struct nftset *ns, const struct addr *key,
    int *rc)
{
	int fam = key->family == AF_INET ? 4 : 6, found = 0;
	unsigned plen = retry_key_plen(&c->conf.gate, key->family);
	struct ctl_retry_sets rs;
	char err[512], text[ADDR_STRLEN];

	if (ctl_retry_dump(c, fam, &rs, err, sizeof(err)) == -1) {
		*rc = ctl_sets_fail(c->conf.nft.table, err);
		return 0;
	}
	if (ctl_retry_find(rs.wait, rs.nwait, key) != NULL) {
		(void)nftset_del(ns, "wait", key);
		printf("deleted %s/%u from wait%d\n", addr_ntop(key, text),
		    plen, fam);
		found++;
	}
	if (ctl_retry_find(rs.retry, rs.nretry, key) != NULL) {
		(void)nftset_del(ns, "retry", key);
		printf("deleted %s/%u from retry%d\n", addr_ntop(key, text),
		    plen, fam);
		found++;
	}
	ctl_retry_free(&rs);
	return found;
}

/* ---- the responder's maps: reply4/6 ---- */

/* The map of a family, dumped: 1; 0 with *e NULL and *n 0 when there is
 * none (reply = reset, or a table built before the maps); -1 with err. */
static int
ctl_reply_dump(struct ctl *c, int fam, struct ctl_set_elem **e, size_t *n,
    char *err, size_t errlen)
{
	char m[8];

	snprintf(m, sizeof(m), "reply%d", fam);
	if (ctl_sets_dump(c->conf.nft.table, m, e, n, err, errlen) == -1)
		return errno == ENOENT ? 0 : -1;
	return 1;
}

/* What a map element says: "554 no_ptr", "421 fcrdns", or the port. */
static const char *
ctl_reply_what(const struct ctl *c, uint16_t port, char *buf, size_t len)
{
	enum reply_kind k;
	enum reply_rule r;

	if (reply_of_port(c->conf.gate.reply_port, port, &k, &r))
		snprintf(buf, len, "%s %s", k == REPLY_TEMPFAIL ? "421" : "554",
		    reply_rule_name(r));
	else
		snprintf(buf, len, "port %u", port);
	return buf;
}

/*
 * Delete the reply map elements of the addresses in a/plen (plen: the
 * family's full length for one address), queued on ns; how many.  Prints
 * what it deletes.  *rc set when the map could not be read.
 */
static int
ctl_reply_del(struct ctl *c, struct nftset *ns, const struct addr *a,
    unsigned plen, int *rc)
{
	int fam = a->family == AF_INET ? 4 : 6, found = 0;
	struct ctl_set_elem *e;
	struct addr net, m;
	char err[512], text[ADDR_STRLEN], what[48];
	size_t n;

	if (ctl_reply_dump(c, fam, &e, &n, err, sizeof(err)) == -1) {
		*rc = ctl_sets_fail(c->conf.nft.table, err);
		return 0;
	}
	addr_mask(&net, a, plen);
	for (size_t i = 0; i < n; i++) {
		addr_mask(&m, &e[i].a, plen);
		if (!addr_eq(&m, &net))
			continue;
		(void)nftset_del(ns, "reply", &e[i].a);
		printf("deleted %s from reply%d (the responder's %s)\n",
		    addr_ntop(&e[i].a, text), fam,
		    ctl_reply_what(c, e[i].port, what, sizeof(what)));
		found++;
	}
	free(e);
	return found;
}

/*
 * cache flush deny|tempfail: the reply elements of that kind (554 or
 * 421), one batch; the other kind's stay.  Prints how many.  CTL_OK, or
 * the exit code of a failure.
 */
static int
ctl_reply_flush_kind(struct ctl *c, enum reply_kind kind)
{
	struct nftset *ns;
	char err[512];
	size_t total = 0;
	int rc = CTL_OK;

	if ((ns = nftset_open(c->conf.nft.table, err, sizeof(err))) == NULL) {
		fprintf(stderr, "smtpgatectl: %s\n", err);
		return CTL_UNREACHABLE;
	}
	for (int fam = 4; fam <= 6 && rc == CTL_OK; fam += 2) {
		struct ctl_set_elem *e;
		size_t n, del = 0;
		enum reply_kind k;
		enum reply_rule r;
		int have = ctl_reply_dump(c, fam, &e, &n, err, sizeof(err));

		if (have == -1) {
			rc = ctl_sets_fail(c->conf.nft.table, err);
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (reply_of_port(c->conf.gate.reply_port, e[i].port,
			    &k, &r) && k == kind) {
				(void)nftset_del(ns, "reply", &e[i].a);
				del++;
			}
		if (have)
			printf("deleted %zu %s answers from reply%d\n", del,
			    kind == REPLY_TEMPFAIL ? "421" : "554", fam);
		total += del;
		free(e);
	}
	if (rc == CTL_OK && total > 0 && nftset_sync(ns) == -1) {
		fprintf(stderr, "smtpgatectl: cache flush: reply4/6: the "
		    "kernel refused: %s\n", strerror(errno));
		rc = CTL_UNREACHABLE;
	}
	nftset_close(ns);
	return rc;
}

static int
ctl_cache_list(struct ctl *c)
{
	char err[512];
	size_t rows = 0;
	int rc = CTL_OK;

	for (size_t k = 0; k < CTL_CACHE_NSETS && rc == CTL_OK; k++) {
		const struct ctl_cache_set *cs = &ctl_cache_sets[k];
		struct ctl_set_elem *e;
		size_t n;

		if (ctl_sets_dump(c->conf.nft.table, cs->name, &e, &n, err,
		    sizeof(err)) == -1) {
			/* A table built before the /64 sets existed. */
			if (cs->net != 0 && errno == ENOENT && k > 0)
				continue;
			rc = ctl_sets_fail(c->conf.nft.table, err);
			break;
		}
		for (size_t i = 0; i < n; i++)
			ctl_cache_row(c, cs, &e[i], &rows);
		free(e);
	}
	if (rc == CTL_OK)
		rc = ctl_retry_list(c, &rows);
	if (c->fmt == CTL_FMT_JSON && (rows > 0 || rc == CTL_OK))
		fputs(rows ? "\n]\n" : "[]\n", stdout);
	else if (rc == CTL_OK && rows == 0)
		fputs("(none)\n", stdout);
	if (fflush(stdout) != 0 && rc == CTL_OK)
		rc = CTL_SYSERR;
	return rc;
}

/*
 * cache del ADDR: the address's entries and, for IPv6, the entry of its
 * /64 (which decides for it too), and its retry key's tempfail entries
 * (the sender is forgotten: its next SYN is a first contact).  cache del
 * ADDR6/64: that /64's entries.  cache del KEY/LEN with LEN the retry
 * key's: that key's tempfail entries (and the /64's for IPv6 /64).
 */
static int
ctl_cache_del(struct ctl *c, const char *ip)
{
	struct nftset *ns;
	struct prefix p;
	struct addr a, net;
	char err[512], text[ADDR_STRLEN], ntext[ADDR_STRLEN];
	const char *why;
	bool only_net = false, only_retry = false;
	struct addr rkey;
	int fam, found = 0, rc = CTL_OK;

	if (addr_parse(ip, &a) == -1) {
		if (prefix_parse(ip, &p, &why) == -1 ||
		    ((p.a.family != AF_INET6 || p.len != 64) &&
		    p.len != retry_key_plen(&c->conf.gate, p.a.family))) {
			fprintf(stderr, "smtpgatectl: cache del: \"%.64s\": not "
			    "an IPv4 or IPv6 address, an IPv6 /64, nor a retry "
			    "key (/%u, /%u)\n", ip,
			    retry_key_plen(&c->conf.gate, AF_INET),
			    retry_key_plen(&c->conf.gate, AF_INET6));
			return CTL_BADINPUT;
		}
		a = p.a;
		only_net = p.a.family == AF_INET6 && p.len == 64;
		only_retry = !only_net;
	}
	retry_key(&c->conf.gate, &a, &rkey);
	fam = a.family == AF_INET ? 4 : 6;
	addr_mask(&net, &a, 64);
	if ((ns = nftset_open(c->conf.nft.table, err, sizeof(err))) == NULL) {
		fprintf(stderr, "smtpgatectl: %s\n", err);
		return CTL_UNREACHABLE;
	}
	for (size_t k = 0; k < CTL_CACHE_NSETS; k++) {
		const struct ctl_cache_set *cs = &ctl_cache_sets[k];
		const struct addr *key = cs->net != 0 ? &net : &a;
		struct ctl_set_elem *e;
		size_t n;

		if (cs->family != fam || (only_net && cs->net == 0) ||
		    only_retry)
			continue;
		if (ctl_sets_dump(c->conf.nft.table, cs->name, &e, &n, err,
		    sizeof(err)) == -1) {
			if (cs->net != 0 && errno == ENOENT && !only_net)
				continue;	/* an older table */
			nftset_close(ns);
			return ctl_sets_fail(c->conf.nft.table, err);
		}
		for (size_t i = 0; i < n; i++) {
			if (!addr_eq(&e[i].a, key))
				continue;
			(void)nftset_del(ns, cs->base, key);
			if (cs->net != 0 && !only_net)
				printf("deleted %s/%u from %s (the /%u of %s)\n",
				    addr_ntop(key, ntext), cs->net, cs->name,
				    cs->net, addr_ntop(&a, text));
			else if (cs->net != 0)
				printf("deleted %s/%u from %s\n",
				    addr_ntop(key, ntext), cs->net, cs->name);
			else
				printf("deleted %s from %s\n",
				    addr_ntop(key, text), cs->name);
			found++;
		}
		free(e);
	}
	/* A /64 given is the retry key too when retry_prefix6 is 64. */
	if (!only_net || retry_key_plen(&c->conf.gate, AF_INET6) == 64)
		found += ctl_retry_del(c, ns, &rkey, &rc);
	/* The responder's answer: the address's, or those of the addresses
	 * in the prefix given. */
	if (rc == CTL_OK)
		found += ctl_reply_del(c, ns, &a, only_net ? 64 : only_retry ?
		    p.len : a.family == AF_INET ? 32 : 128, &rc);
	if (rc != CTL_OK) {
		nftset_close(ns);
		return rc;
	}
	if (found > 0 && nftset_sync(ns) == -1) {
		fprintf(stderr, "smtpgatectl: cache del %s: the kernel "
		    "refused: %s\n", ip, strerror(errno));
		nftset_close(ns);
		return CTL_UNREACHABLE;
	}
	nftset_close(ns);
	if (found == 0) {
		fprintf(stderr, "smtpgatectl: cache del: %s is not cached\n",
		    ip);
		return CTL_NOTFOUND;
	}
	return CTL_OK;
}

static int
ctl_cache_flush(struct ctl *c, const char *which)
{
	static const char *const retry_sets[] = { "wait4", "wait6", "retry4",
	    "retry6" };
	static const char *const reply_maps[] = { "reply4", "reply6" };
	const char *sets[CTL_CACHE_NSETS + 6];
	char err[512];
	size_t n = 0;
	bool deny = which != NULL && strcmp(which, "deny") == 0;
	bool tempfail = which != NULL && strcmp(which, "tempfail") == 0;

	for (size_t k = 0; k < CTL_CACHE_NSETS; k++)
		if (which == NULL || strcmp(which, ctl_cache_sets[k].kind) == 0)
			sets[n++] = ctl_cache_sets[k].name;
	if (which == NULL || tempfail)
		for (size_t k = 0; k < 4; k++)
			sets[n++] = retry_sets[k];
	if (n == 0) {
		fprintf(stderr, "smtpgatectl: cache flush: \"%.32s\": want "
		    "pass, deny, drop or tempfail\n", which);
		return CTL_BADINPUT;
	}
	/* Everything: the responder's maps too, when the table has them
	 * (reply = smtp). */
	for (size_t k = 0; which == NULL && k < 2; k++) {
		struct ctl_set_elem *e;
		size_t ne;

		if (ctl_sets_dump(c->conf.nft.table, reply_maps[k], &e, &ne,
		    err, sizeof(err)) == 0)
			sets[n++] = reply_maps[k];
		else if (errno != ENOENT)
			return ctl_sets_fail(c->conf.nft.table, err);
		free(e);
	}
	if (nftset_replace(c->conf.nft.table, sets, n, NULL, 0, err,
	    sizeof(err)) == -1)
		return ctl_sets_fail(c->conf.nft.table, err);
	for (size_t i = 0; i < n; i++)
		printf("flushed %s\n", sets[i]);
	/* deny or tempfail: that kind's answers only (554 or 421). */
	if (deny || tempfail)
		return ctl_reply_flush_kind(c, tempfail ? REPLY_TEMPFAIL :
		    REPLY_REJECT);
	return CTL_OK;
}

int
ctl_cache_main(struct ctl *c, int argc, char **argv)
{
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		ctl_cache_usage(stdout);
		return CTL_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "del") == 0 && argc != 3) ||
	    (strcmp(argv[1], "flush") == 0 && argc > 3)) {
		ctl_cache_usage(stderr);
		return CTL_BADINPUT;
	}
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "del") != 0 &&
	    strcmp(argv[1], "flush") != 0) {
		fprintf(stderr, "smtpgatectl: cache: unknown command "
		    "\"%.32s\"\n", argv[1]);
		ctl_cache_usage(stderr);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	if (strcmp(argv[1], "list") == 0)
		return ctl_cache_list(c);
	if (strcmp(argv[1], "del") == 0)
		return ctl_cache_del(c, argv[2]);
	return ctl_cache_flush(c, argc == 3 ? argv[2] : NULL);
}
