/*
 * nftrules.c - smtpgate's nftables table, built with libnftnl and sent as
 * one nf_tables batch through the netlink module (see nftrules.h for the
 * table and the functions): install, remove, the probe for the queue
 * expression, and status.
 *
 * The install batch's order is here (nftrules_build); its objects come
 * from nftrules_table.c, its rules from nftrules_rule.c (nftrules_int.h).
 * Every message carries NLM_F_ACK and a label ("add set deny4", "add rule
 * \"ip saddr @deny4 ... reject\""), so a refusal is reported against the
 * object the kernel refused, worded once by the netlink module.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "conf.h"
#include "log.h"
#include "marks.h"
#include "netlink.h"
#include "nftexpr.h"
#include "nftrules_int.h"
#include "retry.h"
#include "nftset.h"

#define NFTRULES_WAIT_MS	2000		/* for the acks of a batch */

void
nftrules_conf_from(struct nftrules_conf *c, const struct conf *cf)
{
	memset(c, 0, sizeof(*c));
	c->table = cf->nft.table;
	c->queue = cf->gate.queue;
	c->ports = cf->gate.ports;
	c->nports = cf->gate.nports;
	c->trusted = cf->gate.trusted;
	c->ntrusted = cf->gate.ntrusted;
	c->pass_size = cf->nft.pass_size;
	c->deny_size = cf->nft.deny_size;
	c->drop_size = cf->nft.drop_size;
	c->offend_size = cf->nft.offend_size;
	c->retry_size = cf->nft.retry_size;
	c->retry_plen4 = retry_key_plen(&cf->gate, AF_INET);
	c->retry_plen6 = retry_key_plen(&cf->gate, AF_INET6);
	c->pass_ttl_s = cf->gate.pass_ttl_s;
	c->sniff_queue = cf->sniffer.queue;
	c->sniff_packets = cf->sniffer.packets;
	c->reply_gate = cf->gate.reply_smtp;
	c->reply_sniff = cf->sniffer.reply_smtp;
	c->sniff_copies = cf->sniffer.packets > 0 &&
	    cf->sniffer.rule[RULE_PREGREET] != ACTION_OFF;
	c->reply_port = cf->gate.reply_port;
	/* The hold is judged by the copies' ack test: without them it
	 * would only delay. */
	c->banner_hold = c->sniff_copies && cf->sniffer.banner_hold_ms > 0;
	c->hold_queue = cf->sniffer.hold_queue;
}

const char *
nftrules_queue_name(enum nftrules_queue q)
{
	switch (q) {
	case NFTRULES_QUEUE_NATIVE:
		return "native";
	case NFTRULES_QUEUE_XT:
		return "xtables NFQUEUE target";
	case NFTRULES_QUEUE_NONE:
		break;
	}
	return "none";
}

int
nftrules_check_conf(const struct nftrules_conf *c, char *err, size_t errlen)
{
	size_t i, j;

	if (c->table == NULL || c->table[0] == '\0' ||
	    strlen(c->table) >= NFTSET_TABLE_MAX) {
		snprintf(err, errlen, "nft table name: empty or longer than "
		    "%d bytes", NFTSET_TABLE_MAX - 1);
		return -1;
	}
	if (c->nports == 0 || c->nports > 16) {
		snprintf(err, errlen, "gate ports: %zu ports, want 1 to 16",
		    c->nports);
		return -1;
	}
	/* Which ports may be gated is the configuration's rule (conf_keys.c
	 * refuses submission); here only what the rules can be built of. */
	for (i = 0; i < c->nports; i++) {
		if (c->ports[i] == 0) {
			snprintf(err, errlen, "gate ports: port 0 is no port");
			return -1;
		}
		for (j = 0; j < i; j++)
			if (c->ports[j] == c->ports[i]) {
				snprintf(err, errlen, "gate ports: port %u "
				    "twice", c->ports[i]);
				return -1;
			}
	}
	for (i = 0; i < c->ntrusted; i++)
		if (c->trusted[i].a.family != AF_INET &&
		    c->trusted[i].a.family != AF_INET6) {
			snprintf(err, errlen, "gate trusted: entry %zu has no "
			    "address family", i + 1);
			return -1;
		}
	return 0;
}

/* --- building -------------------------------------------------------- */

struct nlmsghdr *
nftrules_msg(struct nl_batch *b, uint16_t type, uint16_t flags)
{
	void *p = nl_batch_put(b, NFTRULES_MSG_ROOM);

	if (p == NULL)
		return NULL;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags | NLM_F_ACK,
	    0);
}

int
nftrules_build(struct nl_batch *b, const struct nftrules_conf *c,
    enum nftrules_queue q)
{
	/* Add (a no-op when present), delete, create: atomic replace. */
	nftrules_table_add(b, c->table, false);
	nftrules_table_add(b, c->table, true);
	nftrules_table_add(b, c->table, false);
	nftrules_table_sets(b, c);
	nftrules_table_ports(b, c);
	nftrules_table_allow(b, c);
	if (c->sniff_packets > 0) {
		nftrules_table_chain(b, c->table, NFTRULES_SNIFF_CHAIN, false);
		nftrules_rule_sniff(b, c, q);
	}
	if (c->reply_gate || c->reply_sniff) {
		nftrules_table_nat_chain(b, c->table, NFTRULES_REPLY_CHAIN);
		nftrules_rule_reply(b, c);
	}
	nftrules_table_chain(b, c->table, NFTRULES_CHAIN, true);
	nftrules_rule_gate(b, c, q);
	if (c->sniff_packets > 0 && c->sniff_copies) {
		nftrules_table_out_chain(b, c->table, NFTRULES_OUT_CHAIN);
		nftrules_rule_sniff_out(b, c, q);
	}
	return nl_batch_broken(b) ? -1 : 0;
}

void
nftrules_build_remove(struct nl_batch *b, const char *table)
{
	/* Add (no-op when present) then delete: never ENOENT. */
	nftrules_table_add(b, table, false);
	nftrules_table_add(b, table, true);
}

int
nftrules_build_probe(struct nl_batch *b)
{
	nftrules_table_add(b, NFTRULES_PROBE_TABLE, false);
	nftrules_table_chain(b, NFTRULES_PROBE_TABLE, NFTRULES_PROBE_CHAIN,
	    false);
	return nftrules_rule_probe(b);
}

/* --- talking to the kernel ------------------------------------------- */

/*
 * Send b on a socket of its own and collect every answer.  0 when the
 * kernel took (or, without the batch end, validated) every message; -1
 * with "LABEL: CAUSE" of the first refusal in err.
 */
static int
nftrules_exchange(struct nl_batch *b, mnl_cb_t data, void *arg, char *err,
    size_t errlen)
{
	struct nl_sock *nl;
	int rc, e;

	if (nl_batch_broken(b)) {
		snprintf(err, errlen, "build batch: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	if ((nl = nl_open(NETLINK_NETFILTER, 0, err, errlen)) == NULL)
		return -1;
	rc = nl_exchange(nl, b, data, arg, NFTRULES_WAIT_MS, err, errlen);
	e = errno;
	nl_close(nl);
	errno = e;
	return rc;
}

int
nftrules_install(const struct nftrules_conf *c, enum nftrules_queue q,
    bool commit, char *err, size_t errlen)
{
	struct nl_batch *b;
	char why[256];
	int rc;

	if (nftrules_check_conf(c, err, errlen) == -1)
		return -1;
	if (q != NFTRULES_QUEUE_NATIVE && q != NFTRULES_QUEUE_XT) {
		snprintf(err, errlen, "install: no queue flavour chosen");
		return -1;
	}
	if ((b = nl_batch_new(commit ? NL_FRAME_NFT : NL_FRAME_NFT_CHECK)) ==
	    NULL) {
		snprintf(err, errlen, "install: malloc: %s", strerror(errno));
		return -1;
	}
	(void)nftrules_build(b, c, q);
	rc = nftrules_exchange(b, NULL, NULL, why, sizeof(why));
	if (rc == -1)
		snprintf(err, errlen, "%s table inet %s: %s", commit ?
		    "install" : "validate", c->table, why);
	nl_batch_free(b);
	return rc;
}

int
nftrules_remove(const char *table, char *err, size_t errlen)
{
	struct nl_batch *b;
	char why[256];
	int rc;

	if (table == NULL || table[0] == '\0' ||
	    strlen(table) >= NFTSET_TABLE_MAX) {
		snprintf(err, errlen, "remove: bad table name");
		return -1;
	}
	if ((b = nl_batch_new(NL_FRAME_NFT)) == NULL) {
		snprintf(err, errlen, "remove: malloc: %s", strerror(errno));
		return -1;
	}
	nftrules_build_remove(b, table);
	rc = nftrules_exchange(b, NULL, NULL, why, sizeof(why));
	if (rc == -1)
		snprintf(err, errlen, "remove table inet %s: %s", table, why);
	nl_batch_free(b);
	return rc;
}

int
nftrules_probe(char *err, size_t errlen)
{
	struct nl_batch *b;
	char why[256];
	int rc, rule;
	bool others_ok = true;

	if ((b = nl_batch_new(NL_FRAME_NFT_CHECK)) == NULL) {
		snprintf(err, errlen, "probe: malloc: %s", strerror(errno));
		return -1;
	}
	rule = nftrules_build_probe(b);
	/* No batch end: validated, answered, discarded. */
	rc = nftrules_exchange(b, NULL, NULL, why, sizeof(why));
	for (size_t i = 0; i < nl_batch_count(b); i++)
		if ((int)i != rule && nl_batch_error(b, i) != 0)
			others_ok = false;
	if (rc == 0) {
		rc = 1;
	} else if (rule >= 0 && nl_batch_answered(b, (size_t)rule) &&
	    nl_batch_error(b, (size_t)rule) == ENOENT && others_ok &&
	    nl_batch_frame_error(b) == 0) {
		rc = 0;		/* only the queue rule refused: no expression */
	} else {
		snprintf(err, errlen, "probe nft queue expression: %s", why);
		rc = -1;
	}
	nl_batch_free(b);
	return rc;
}

/* --- status ---------------------------------------------------------- */

struct nftrules_status_ctx {
	enum nftrules_queue q;
	uint16_t queue;
};

static int
nftrules_status_expr(struct nftnl_expr *e, void *data)
{
	struct nftrules_status_ctx *st = data;
	enum nftrules_queue q;
	uint16_t num;

	if (nftexpr_queue_of(e, &q, &num) == 1) {
		st->q = q;
		st->queue = num;
	}
	return MNL_CB_OK;
}

static int
nftrules_status_rule(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0)
		(void)nftnl_expr_foreach(r, nftrules_status_expr, data);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* One question of status: 1 answered, 0 no such table (ENOENT), -1 err. */
static int
nftrules_status_ask(struct nl_sock *nl, struct nl_batch *b, mnl_cb_t data,
    void *arg, char *err, size_t errlen)
{
	char why[256];

	if (nl_exchange(nl, b, data, arg, NFTRULES_WAIT_MS, why,
	    sizeof(why)) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	snprintf(err, errlen, "status: %s", why);
	return -1;
}

int
nftrules_status(const char *table, enum nftrules_queue *q, uint16_t *queue,
    char *err, size_t errlen)
{
	struct nftrules_status_ctx st = { NFTRULES_QUEUE_NONE, 0 };
	struct nl_sock *nl = NULL;
	struct nl_batch *b = NULL;
	struct nftnl_table *t = NULL;
	struct nftnl_rule *r = NULL;
	struct nlmsghdr *nlh;
	char why[256];
	int rc = -1;

	if (table == NULL || table[0] == '\0' ||
	    strlen(table) >= NFTSET_TABLE_MAX) {
		snprintf(err, errlen, "status: bad table name");
		return -1;
	}
	if ((b = nl_batch_new(NL_FRAME_NONE)) == NULL ||
	    (t = nftnl_table_alloc()) == NULL ||
	    (r = nftnl_rule_alloc()) == NULL) {
		snprintf(err, errlen, "status: malloc: %s", strerror(errno));
		goto out;
	}
	if ((nl = nl_open(NETLINK_NETFILTER, 0, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "status: %s", why);
		goto out;
	}

	/* The table first: a rule dump of a missing table is just empty. */
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	if ((nlh = nl_batch_put(b, NFTRULES_MSG_ROOM)) != NULL) {
		nlh = nftnl_nlmsg_build_hdr((char *)nlh, NFT_MSG_GETTABLE,
		    NFPROTO_INET, NLM_F_ACK, 0);
		nftnl_table_nlmsg_build_payload(nlh, t);
		(void)nl_batch_add(b, "get table inet %s", table);
	}
	if ((rc = nftrules_status_ask(nl, b, NULL, NULL, err, errlen)) != 1)
		goto out;

	nl_batch_reset(b, NL_FRAME_NONE);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFTRULES_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if ((nlh = nl_batch_put(b, NFTRULES_MSG_ROOM)) != NULL) {
		nlh = nftnl_nlmsg_build_hdr((char *)nlh, NFT_MSG_GETRULE,
		    NFPROTO_INET, NLM_F_DUMP, 0);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		(void)nl_batch_add_dump(b, "list rules of inet %s chain %s",
		    table, NFTRULES_CHAIN);
	}
	/* ENOENT: the table went away meanwhile. */
	if ((rc = nftrules_status_ask(nl, b, nftrules_status_rule, &st, err,
	    errlen)) != 1)
		goto out;
	*q = st.q;
	*queue = st.queue;
out:
	nl_close(nl);
	nl_batch_free(b);
	if (t != NULL)
		nftnl_table_free(t);
	if (r != NULL)
		nftnl_rule_free(r);
	return rc;
}
