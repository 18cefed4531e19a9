/*
 * conf_keys.c - the key table, the whole schema of smtpgate.conf: every
 * key's section, name, setter, field, range and whether changing it needs
 * a daemon's restart; a section exists because a key names it.  And the
 * setters, which validate one value each (the syntaxes are conf_parse.c's)
 * and write its field.
 *
 * Exports the conf_keys_* functions of conf_int.h.  The table is const;
 * setters write only the struct conf they are given.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf_int.h"
#include "dns.h"
#include "dnsbl.h"
#include "reply.h"

/* Never gated (smtpgate.conf(5)): submission and submissions. */
#define CONF_KEYS_SUBMISSION	587
#define CONF_KEYS_SUBMISSIONS	465

/* ---- setters ---- */

static void *
conf_keys_field(const struct conf_key *k, struct conf *c)
{
	return (char *)c + k->off;
}

static int
conf_keys_set_u32(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	long long n;

	if (conf_parse_number(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(uint32_t *)conf_keys_field(k, c) = (uint32_t)n;
	return 0;
}

static int
conf_keys_set_u16(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	long long n;

	if (conf_parse_number(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(uint16_t *)conf_keys_field(k, c) = (uint16_t)n;
	return 0;
}

static int
conf_keys_set_int(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	long long n;

	if (conf_parse_number(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(int *)conf_keys_field(k, c) = (int)n;
	return 0;
}

/* One duration syntax for the file and the command line: conf_parse. */
static int
conf_keys_set_duration(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	long long n;

	if (conf_parse_duration(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(uint32_t *)conf_keys_field(k, c) = (uint32_t)n;
	return 0;
}

static int
conf_keys_set_bool(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	return conf_parse_bool(v, (bool *)conf_keys_field(k, c), why, whylen);
}

static int
conf_keys_set_action(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char want[64];
	enum action a;

	conf_action_want(k->allowed, want, sizeof want);
	if (action_parse(v, ~0u, &a) != 0) {
		snprintf(why, whylen, "unknown action '%s' (want %s)", v, want);
		return -1;
	}
	if (action_parse(v, k->allowed, &a) != 0) {
		snprintf(why, whylen, "action '%s' not allowed here (want %s)",
		    v, want);
		return -1;
	}
	*(enum action *)conf_keys_field(k, c) = a;
	return 0;
}

/* The c-ares server list being written: buf[0..off) of len bytes. */
struct conf_keys_servers {
	char *buf;
	size_t len, off;
};

/* ADDR, ADDR:PORT (IPv4), [ADDR6]:PORT, [ADDR6] or a bare ADDR6. */
static int
conf_keys_server_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_keys_servers *s = arg;
	const char *orig = item;
	char host[ADDR_STRLEN], text[ADDR_STRLEN];
	const char *port = NULL, *colon, *end;
	struct addr a;
	uint16_t pn = 53;
	size_t hl;
	int n;

	if (item[0] == '[') {
		end = strchr(item, ']');
		if (end == NULL)
			goto bad;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
		item++;
		hl = (size_t)(end - item);
	} else if ((colon = strchr(item, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		port = colon + 1;	/* exactly one ':': IPv4:PORT */
		hl = (size_t)(colon - item);
	} else
		hl = strlen(item);	/* IPv4, or IPv6 without a port */
	if (hl >= sizeof host)
		goto bad;
	memcpy(host, item, hl);
	host[hl] = '\0';
	if (addr_parse(host, &a) != 0)
		goto bad;
	if (port != NULL && conf_parse_port(port, &pn) != 0) {
		snprintf(why, whylen, "'%s': bad port (want 1..65535)", orig);
		return -1;
	}
	addr_ntop(&a, text);
	n = snprintf(s->buf + s->off, s->len - s->off,
	    a.family == AF_INET6 ? "%s[%s]:%u" : "%s%s:%u",
	    s->off > 0 ? "," : "", text, pn);
	if (n < 0 || (size_t)n >= s->len - s->off) {
		snprintf(why, whylen, "too many resolvers (the list must fit "
		    "in %zu characters)", s->len - 1);
		return -1;
	}
	s->off += (size_t)n;
	return 0;
bad:
	snprintf(why, whylen, "'%s': want ADDR, ADDR:PORT or [ADDR6]:PORT",
	    orig);
	return -1;
}

static int
conf_keys_set_resolvers(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	char *field = conf_keys_field(k, c);
	struct conf_keys_servers s = { field, sizeof c->dns.servers, 0 };

	field[0] = '\0';
	if (conf_parse_each(v, conf_keys_server_item, &s, why, whylen) != 0) {
		field[0] = '\0';
		return -1;
	}
	return 0;
}

static int
conf_keys_port_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_gate *g = arg;
	uint16_t p;
	size_t i;

	if (conf_parse_port(item, &p) != 0) {
		snprintf(why, whylen, "'%s' is not a port (want 1..65535)",
		    item);
		return -1;
	}
	/* Authenticated users submit from dynamic addresses: exactly the
	 * clients the gate refuses. */
	if (p == CONF_KEYS_SUBMISSION || p == CONF_KEYS_SUBMISSIONS) {
		snprintf(why, whylen, "port %u is submission, never gated "
		    "(465 and 587 take authenticated users)", p);
		return -1;
	}
	for (i = 0; i < g->nports; i++)
		if (g->ports[i] == p) {
			snprintf(why, whylen, "port %u listed twice", p);
			return -1;
		}
	if (g->nports >= CONF_MAX_PORTS) {
		snprintf(why, whylen, "more than %d ports", CONF_MAX_PORTS);
		return -1;
	}
	g->ports[g->nports++] = p;
	return 0;
}

static int
conf_keys_set_ports(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	c->gate.nports = 0;
	if (conf_parse_each(v, conf_keys_port_item, &c->gate, why,
	    whylen) != 0)
		return -1;
	if (c->gate.nports == 0) {
		snprintf(why, whylen, "want at least one port");
		return -1;
	}
	return 0;
}

static int
conf_keys_trusted_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_gate *g = arg;
	const char *reason;
	struct prefix p;

	if (prefix_parse(item, &p, &reason) != 0) {
		snprintf(why, whylen, "'%s': %s", item, reason);
		return -1;
	}
	if (g->ntrusted >= CONF_MAX_TRUSTED) {
		snprintf(why, whylen, "'%s': more than %d networks", item,
		    CONF_MAX_TRUSTED);
		return -1;
	}
	g->trusted[g->ntrusted++] = p;
	return 0;
}

static int
conf_keys_set_trusted(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	c->gate.ntrusted = 0;
	return conf_parse_each(v, conf_keys_trusted_item, &c->gate, why,
	    whylen);
}

static int
conf_keys_set_dnsbl_sites(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	return dnsbl_parse(v, &c->gate.dnsbl_sites, why, whylen);
}

/*
 * [sniffer] packets: 0 leaves the sniffer's rules out of the ruleset (and
 * with them the conntrack they need); else ct original packets 3-N.
 */
static int
conf_keys_set_sniff_packets(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	if (conf_keys_set_u32(k, v, c, why, whylen) == -1)
		return -1;
	if (c->sniffer.packets == 1 || c->sniffer.packets == 2) {
		snprintf(why, whylen, "%u: want 0 (no sniffer rules) or "
		    "3..1000", c->sniffer.packets);
		return -1;
	}
	return 0;
}

static int
conf_keys_set_path(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_keys_field(k, c);
	size_t len = strlen(v);

	if (len == 0) {
		snprintf(why, whylen, "empty path");
		return -1;
	}
	/* Every path field is 256 bytes (conf.h). */
	if (len >= sizeof c->gate.ptr_providers) {
		snprintf(why, whylen, "path longer than %zu characters",
		    sizeof c->gate.ptr_providers - 1);
		return -1;
	}
	memcpy(field, v, len + 1);
	return 0;
}

/* [journal] file: a path, or "" (the journal off). */
static int
conf_keys_set_journal_file(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	if (*v == '\0') {
		c->journal.file[0] = '\0';
		return 0;
	}
	return conf_keys_set_path(k, v, c, why, whylen);
}

/* A size in bytes: a number with an optional K, M, G or T (powers of 1024). */
static int
conf_keys_set_size(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char num[32];
	size_t len = strlen(v);
	unsigned shift = 0;
	long long n;

	if (len > 0 && len < sizeof num) {
		switch (v[len - 1]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		case 'T': case 't': shift = 40; break;
		}
	}
	if (len == 0 || len >= sizeof num) {
		snprintf(why, whylen, "'%.40s' is no size (want a number of "
		    "bytes, with K, M, G or T)", v);
		return -1;
	}
	memcpy(num, v, len + 1);
	if (shift != 0)
		num[len - 1] = '\0';
	if (conf_parse_number(num, 0, k->max, &n, why, whylen) != 0) {
		snprintf(why, whylen, "'%.40s' is no size (want a number of "
		    "bytes, with K, M, G or T)", v);
		return -1;
	}
	if (n > (k->max >> shift) || (n << shift) < k->min) {
		snprintf(why, whylen, "'%.40s' out of range (want %lldM..%lldG)",
		    v, k->min >> 20, k->max >> 30);
		return -1;
	}
	*(uint64_t *)(void *)conf_keys_field(k, c) = (uint64_t)n << shift;
	return 0;
}

static int
conf_keys_set_table(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_keys_field(k, c);
	size_t i, len = strlen(v);

	if (len == 0 || len >= sizeof c->nft.table) {
		snprintf(why, whylen, "'%s': want 1..%zu characters", v,
		    sizeof c->nft.table - 1);
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '_')) {
			snprintf(why, whylen, "'%s': want letters, digits and "
			    "'_' only", v);
			return -1;
		}
	memcpy(field, v, len + 1);
	return 0;
}

/* "dynamic", or a user name: [a-z_][a-z0-9_-]*, at most 31 characters. */
static int
conf_keys_set_user(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_keys_field(k, c);
	size_t i, len = strlen(v);

	if (len == 0 || len >= sizeof c->sniffer.spf_user) {
		snprintf(why, whylen, "'%s': want 'dynamic' or a user name of "
		    "1..%zu characters", v, sizeof c->sniffer.spf_user - 1);
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || v[i] == '_' ||
		    (i > 0 && ((v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '-')))) {
			snprintf(why, whylen, "'%s': a user name is lower-case "
			    "letters, digits, '_' and '-', not starting with "
			    "a digit or '-'", v);
			return -1;
		}
	if (strcmp(v, "root") == 0) {
		snprintf(why, whylen, "'root': the SPF helpers never run as "
		    "root");
		return -1;
	}
	memcpy(field, v, len + 1);
	return 0;
}

/* [gate] ptr_providers_mode: "extend" (the default) or "replace". */
static int
conf_keys_set_providers_mode(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	if (strcmp(v, "extend") == 0 || strcmp(v, "replace") == 0) {
		c->gate.ptr_providers_replace = v[0] == 'r';
		return 0;
	}
	snprintf(why, whylen, "'%s': want extend or replace", v);
	return -1;
}

static int
conf_keys_myname_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_sniffer *s = arg;

	if (s->nmy_hostnames >= CONF_MAX_MYNAMES) {
		snprintf(why, whylen, "'%s': more than %d names", item,
		    CONF_MAX_MYNAMES);
		return -1;
	}
	if (conf_parse_hostname(item, s->my_hostnames[s->nmy_hostnames],
	    CONF_NAME_MAX, why, whylen) != 0)
		return -1;
	s->nmy_hostnames++;
	return 0;
}

static int
conf_keys_set_mynames(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	c->sniffer.nmy_hostnames = 0;
	return conf_parse_each(v, conf_keys_myname_item, &c->sniffer, why,
	    whylen);
}

static int
conf_keys_myaddr_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_sniffer *s = arg;

	if (s->nmy_addresses >= CONF_MAX_MYADDRS) {
		snprintf(why, whylen, "'%s': more than %d addresses", item,
		    CONF_MAX_MYADDRS);
		return -1;
	}
	if (addr_parse(item, &s->my_addresses[s->nmy_addresses]) != 0) {
		snprintf(why, whylen, "'%s': not an address", item);
		return -1;
	}
	s->nmy_addresses++;
	return 0;
}

static int
conf_keys_set_myaddrs(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	c->sniffer.nmy_addresses = 0;
	return conf_parse_each(v, conf_keys_myaddr_item, &c->sniffer, why,
	    whylen);
}

static int
conf_keys_provider_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_sniffer *s = arg;

	if (s->nprovider_domains >= CONF_MAX_PROVIDERS) {
		snprintf(why, whylen, "'%s': more than %d domains", item,
		    CONF_MAX_PROVIDERS);
		return -1;
	}
	if (conf_parse_hostname(item,
	    s->provider_domains[s->nprovider_domains], CONF_DOMAIN_MAX, why,
	    whylen) != 0)
		return -1;
	if (strchr(s->provider_domains[s->nprovider_domains], '.') == NULL) {
		snprintf(why, whylen, "'%s': want a domain with a dot", item);
		return -1;
	}
	s->nprovider_domains++;
	return 0;
}

static int
conf_keys_set_providers(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	c->sniffer.nprovider_domains = 0;
	return conf_parse_each(v, conf_keys_provider_item, &c->sniffer, why,
	    whylen);
}

/* ---- [gate] retry_* (tempfail's second chance) ---- */

/* [gate] retry_key: "prefix" (the default) or "address". */
static int
conf_keys_set_retry_key(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	if (strcmp(v, "prefix") == 0 || strcmp(v, "address") == 0) {
		c->gate.retry_by_prefix = v[0] == 'p';
		return 0;
	}
	snprintf(why, whylen, "'%s': want address or prefix", v);
	return -1;
}

/* ---- setters of the reply keys (reply.h) ---- */

/* reply = reset | smtp, into the bool at the key's field. */
static int
conf_keys_set_reply(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	if (strcmp(v, "reset") == 0 || strcmp(v, "smtp") == 0) {
		*(bool *)conf_keys_field(k, c) = v[0] == 's';
		return 0;
	}
	snprintf(why, whylen, "'%s': want reset or smtp", v);
	return -1;
}

/* A reply text (reply_text_*: not empty) or reply_url (may be empty). */
static int
conf_keys_set_reply_text(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	bool url = strcmp(k->name, "reply_url") == 0;

	if (reply_text_check(v, url, why, whylen) != 0)
		return -1;
	if (url && v[0] != '\0' && strncmp(v, "http://", 7) != 0 &&
	    strncmp(v, "https://", 8) != 0) {
		snprintf(why, whylen, "'%s': want an http:// or https:// URL",
		    v);
		return -1;
	}
	snprintf((char *)conf_keys_field(k, c), CONF_REPLY_TEXT_MAX, "%s", v);
	return 0;
}

/* ---- the schema ---- */

#define A(x)	(1u << (x))
#define CHECK_ACTIONS \
	(A(ACTION_REJECT) | A(ACTION_TEMPFAIL) | A(ACTION_DROP) | \
	A(ACTION_LOG) | A(ACTION_OFF))
#define DNSERR_ACTIONS	(A(ACTION_ACCEPT) | A(ACTION_DROP) | \
	A(ACTION_REJECT) | A(ACTION_TEMPFAIL))
#define SNIFF_ACTIONS	(A(ACTION_OFFEND) | A(ACTION_LOG) | A(ACTION_OFF))
#define F(field)	offsetof(struct conf, field), \
			sizeof(((struct conf *)0)->field)
#define GATED		CONF_GATED
#define SNIFFD		CONF_SNIFFD

/* One row per kind of key: section, name, field, then what the kind needs;
 * rs: the daemons that must restart to change it (0: none). */
#define U16(s, n, f, lo, hi, rs) \
	{ s, n, conf_keys_set_u16, F(f), lo, hi, 0, false, rs }
#define U32(s, n, f, lo, hi, rs) \
	{ s, n, conf_keys_set_u32, F(f), lo, hi, 0, false, rs }
#define INT(s, n, f, lo, hi) \
	{ s, n, conf_keys_set_int, F(f), lo, hi, 0, false, 0 }
#define DUR(s, n, f, lo, hi) \
	{ s, n, conf_keys_set_duration, F(f), lo, hi, 0, false, 0 }
#define ACT(s, n, f, allowed) \
	{ s, n, conf_keys_set_action, F(f), 0, 0, allowed, false, 0 }
#define BOOL(s, n, f) \
	{ s, n, conf_keys_set_bool, F(f), 0, 0, 0, false, 0 }
#define PATH(s, n, f, rs) \
	{ s, n, conf_keys_set_path, F(f), 0, 0, 0, false, rs }
#define LIST(s, n, set, f) \
	{ s, n, set, F(f), 0, 0, 0, true, 0 }
#define WORD(s, n, set, f, rs) \
	{ s, n, set, F(f), 0, 0, 0, false, rs }
#define TEXT(n, f) \
	{ "gate", n, conf_keys_set_reply_text, F(f), 0, 0, 0, false, 0 }
#define RULE(n, r) \
	ACT("sniffer", n, sniffer.rule[r], SNIFF_ACTIONS)

/* [cluster]: every key needs both daemons' restart (cluster.h).  The
 * sentinel row covers the hosts, their count and the master's name. */
#define CLUSTER_RS	(GATED | SNIFFD)
#define CLUSTER_SENTINEL_OFF	offsetof(struct conf, cluster.sentinel_host)
#define CLUSTER_SENTINEL_SIZE	(offsetof(struct conf, \
	cluster.sentinel_master) + sizeof(((struct conf *)0)-> \
	cluster.sentinel_master) - CLUSTER_SENTINEL_OFF)

static const struct conf_key conf_keys[] = {
	WORD("cluster", "redis", conf_cluster_set_redis, cluster.redis,
	    CLUSTER_RS),
	{ "cluster", "sentinel", conf_cluster_set_sentinel,
	    CLUSTER_SENTINEL_OFF, CLUSTER_SENTINEL_SIZE, 0, 0, 0, true,
	    CLUSTER_RS },
	WORD("cluster", "password_file", conf_cluster_set_password_file,
	    cluster.password_file, CLUSTER_RS),
	WORD("cluster", "prefix", conf_cluster_set_prefix, cluster.prefix,
	    CLUSTER_RS),
	WORD("cluster", "node", conf_cluster_set_node, cluster.node,
	    CLUSTER_RS),
	{ "cluster", "share_pass", conf_keys_set_bool, F(cluster.share_pass),
	    0, 0, 0, false, CLUSTER_RS },
	{ "cluster", "share_allow", conf_keys_set_bool,
	    F(cluster.share_allow), 0, 0, 0, false, CLUSTER_RS },
	U32("cluster", "timeout_ms", cluster.timeout_ms, 100, 60000,
	    CLUSTER_RS),
	U32("cluster", "backlog", cluster.backlog, 0, 1048576, CLUSTER_RS),
	/* refused whatever its value: its field is never written */
	WORD("cluster", "tls", conf_cluster_set_tls, cluster.redis, 0),

	LIST("dns", "resolvers", conf_keys_set_resolvers, dns.servers),
	U32("dns", "timeout_ms", dns.timeout_ms, 50, 30000, 0),
	U32("dns", "tries", dns.tries, 1, 10, 0),

	U16("gate", "queue", gate.queue, 0, 65535, GATED),
	U32("gate", "queue_maxlen", gate.queue_maxlen, 1, 1048576, GATED),
	LIST("gate", "ports", conf_keys_set_ports, gate.ports),
	ACT("gate", "no_ptr", gate.no_ptr, CHECK_ACTIONS),
	ACT("gate", "invalid_ptr", gate.invalid_ptr, CHECK_ACTIONS),
	ACT("gate", "generic_ptr", gate.generic_ptr, CHECK_ACTIONS),
	ACT("gate", "static_ptr", gate.static_ptr, CHECK_ACTIONS),
	ACT("gate", "fcrdns", gate.fcrdns, CHECK_ACTIONS),
	ACT("gate", "dnsbl", gate.dnsbl, CHECK_ACTIONS),
	ACT("gate", "dns_error", gate.dns_error, DNSERR_ACTIONS),
	LIST("gate", "dnsbl_sites", conf_keys_set_dnsbl_sites,
	    gate.dnsbl_sites),
	INT("gate", "dnsbl_threshold", gate.dnsbl_threshold, 1, 1000000),
	INT("gate", "dnsbl_allow_threshold", gate.dnsbl_allow_threshold,
	    -1000000, 0),
	U32("gate", "deadline_ms", gate.deadline_ms, 100, 60000, 0),
	DUR("gate", "pass_ttl", gate.pass_ttl_s, 1, 30 * 86400),
	DUR("gate", "deny_ttl", gate.deny_ttl_s, 1, 30 * 86400),
	U32("gate", "max_pending", gate.max_pending, 1, 1000000, 0),
	U32("gate", "fcrdns_max_names", gate.fcrdns_max_names, 1,
	    DNS_MAX_NAMES, 0),
	U32("gate", "dns_concurrency", gate.dns_concurrency, 1, 65536, 0),
	U32("gate", "lookup_burst", gate.lookup_burst, 0, 1000000, 0),
	U32("gate", "lookup_rate", gate.lookup_rate, 1, 1000000, 0),
	BOOL("gate", "cache_v6_network", gate.cache_v6_network),
	BOOL("gate", "enforce", gate.enforce),
	LIST("gate", "trusted_networks", conf_keys_set_trusted, gate.trusted),
	PATH("gate", "ptr_providers", gate.ptr_providers, 0),
	WORD("gate", "ptr_providers_mode", conf_keys_set_providers_mode,
	    gate.ptr_providers_replace, 0),
	PATH("gate", "control_socket", gate.control_socket, GATED),
	/* tempfail's second chance: the key's shape is in the ruleset
	 * (smtpgate-nft), so the daemon keeps it until restarted. */
	DUR("gate", "retry_min", gate.retry_min_s, 1, 7 * 86400),
	DUR("gate", "retry_window", gate.retry_window_s, 2, 30 * 86400),
	WORD("gate", "retry_key", conf_keys_set_retry_key,
	    gate.retry_by_prefix, GATED),
	U32("gate", "retry_prefix4", gate.retry_prefix4, 8, 32, GATED),
	U32("gate", "retry_prefix6", gate.retry_prefix6, 16, 128, GATED),
	/* refusals that say why (reply.h) */
	WORD("gate", "reply", conf_keys_set_reply, gate.reply_smtp, GATED),
	U16("gate", "reply_port", gate.reply_port, 1024,
	    65536 - REPLY_PORTS, GATED),
	U32("gate", "reply_max_conns", gate.reply_max_conns, 1, 65536, 0),
	DUR("gate", "reply_timeout", gate.reply_timeout_s, 1, 300),
	TEXT("reply_url", gate.reply_url),
	TEXT("reply_text_dnsbl", gate.reply_text[REPLY_RULE_DNSBL]),
	TEXT("reply_text_no_ptr", gate.reply_text[REPLY_RULE_NO_PTR]),
	TEXT("reply_text_invalid_ptr", gate.reply_text[REPLY_RULE_INVALID_PTR]),
	TEXT("reply_text_generic_ptr", gate.reply_text[REPLY_RULE_GENERIC_PTR]),
	TEXT("reply_text_static_ptr", gate.reply_text[REPLY_RULE_STATIC_PTR]),
	TEXT("reply_text_fcrdns", gate.reply_text[REPLY_RULE_FCRDNS]),
	TEXT("reply_text_dns_error", gate.reply_text[REPLY_RULE_DNS_ERROR]),
	TEXT("reply_text_offend", gate.reply_text[REPLY_RULE_OFFEND]),

	/* the verdict journal (journal.h): opened once, at start */
	WORD("journal", "file", conf_keys_set_journal_file, journal.file,
	    GATED | SNIFFD),
	{ "journal", "retention", conf_keys_set_duration,
	    F(journal.retention_s), 3600, 3650 * 86400, 0, false,
	    GATED | SNIFFD },
	{ "journal", "max_size", conf_keys_set_size, F(journal.max_size),
	    1ll << 20, 1ll << 40, 0, false, GATED | SNIFFD },
	U32("journal", "queue", journal.queue, 16, 1048576, GATED | SNIFFD),

	WORD("nft", "table", conf_keys_set_table, nft.table, GATED | SNIFFD),
	PATH("nft", "allow_file", nft.allow_file, 0),
	U32("nft", "pass_size", nft.pass_size, 1, 16777216, 0),
	U32("nft", "deny_size", nft.deny_size, 1, 16777216, 0),
	U32("nft", "drop_size", nft.drop_size, 1, 16777216, 0),
	U32("nft", "offend_size", nft.offend_size, 1, 16777216, 0),
	U32("nft", "retry_size", nft.retry_size, 1, 16777216, 0),

	U16("sniffer", "queue", sniffer.queue, 0, 65535, SNIFFD),
	U32("sniffer", "queue_maxlen", sniffer.queue_maxlen, 1, 1048576,
	    SNIFFD),
	{ "sniffer", "packets", conf_keys_set_sniff_packets,
	    F(sniffer.packets), 0, 1000, 0, false, 0 },
	/* the banner hold: the gate reads it at each verdict, the sniffer
	 * at each held packet; the queue is bound at start */
	U32("sniffer", "banner_hold_ms", sniffer.banner_hold_ms, 0, 10000, 0),
	U16("sniffer", "hold_queue", sniffer.hold_queue, 0, 65535, SNIFFD),
	U32("sniffer", "max_flows", sniffer.max_flows, 16, 4000000, 0),
	DUR("sniffer", "flow_idle", sniffer.flow_idle_s, 5, 3600),
	U32("sniffer", "deadline_ms", sniffer.deadline_ms, 100, 60000, 0),
	DUR("sniffer", "clean_ttl", sniffer.clean_ttl_s, 0, 86400),
	U32("sniffer", "spf_workers", sniffer.spf_workers, 1, 32, SNIFFD),
	U32("sniffer", "spf_max_per_client", sniffer.spf_max_per_client, 1,
	    1000, 0),
	WORD("sniffer", "spf_user", conf_keys_set_user, sniffer.spf_user,
	    SNIFFD),
	LIST("sniffer", "my_hostnames", conf_keys_set_mynames,
	    sniffer.my_hostnames),
	LIST("sniffer", "my_addresses", conf_keys_set_myaddrs,
	    sniffer.my_addresses),
	RULE("unqualified", RULE_UNQUALIFIED),
	RULE("own_name", RULE_OWN_NAME),
	RULE("own_address", RULE_OWN_ADDRESS),
	RULE("bare_ip", RULE_BARE_IP),
	RULE("address_literal", RULE_ADDRESS_LITERAL),
	RULE("bad_syntax", RULE_BAD_SYNTAX),
	RULE("provider_domain", RULE_PROVIDER_DOMAIN),
	RULE("spf_fail", RULE_SPF_FAIL),
	RULE("spf_ptr_fail", RULE_SPF_PTR_FAIL),
	RULE("no_domain", RULE_NO_DOMAIN),
	RULE("helo_no_resolve", RULE_HELO_NO_RESOLVE),
	RULE("helo_mismatch", RULE_HELO_MISMATCH),
	RULE("no_ptr_far", RULE_NO_PTR_FAR),
	RULE("mail_from_no_domain", RULE_MAIL_FROM_NO_DOMAIN),
	RULE("trickle", RULE_TRICKLE),
	/* the protocol tests (smtpproto.h) */
	RULE("pregreet", RULE_PREGREET),
	RULE("pipelining", RULE_PIPELINING),
	RULE("non_smtp", RULE_NON_SMTP),
	RULE("bare_lf", RULE_BARE_LF),
	BOOL("sniffer", "spf_softfail_fails", sniffer.spf_softfail_fails),
	BOOL("sniffer", "spf_neutral_fails", sniffer.spf_neutral_fails),
	LIST("sniffer", "provider_domains", conf_keys_set_providers,
	    sniffer.provider_domains),
	U32("sniffer", "offender_strikes", sniffer.offender_strikes, 1, 1000,
	    0),
	DUR("sniffer", "offender_window", sniffer.offender_window_s, 1,
	    30 * 86400),
	DUR("sniffer", "offender_timeout", sniffer.offender_timeout_s, 1,
	    365 * 86400),
	DUR("sniffer", "offender_timeout_max", sniffer.offender_timeout_max_s,
	    1, 365 * 86400),
	BOOL("sniffer", "cut_session", sniffer.cut_session),
	BOOL("sniffer", "enforce", sniffer.enforce),
	PATH("sniffer", "state_file", sniffer.state_file, SNIFFD),
	DUR("sniffer", "state_save_interval", sniffer.state_save_interval_s,
	    1, 86400),
	PATH("sniffer", "control_socket", sniffer.control_socket, SNIFFD),
	/* the sniffer's bans answered by smtpgated's responder (reply.h) */
	WORD("sniffer", "reply", conf_keys_set_reply, sniffer.reply_smtp,
	    GATED),
};

#define CONF_KEYS_N	(sizeof conf_keys / sizeof conf_keys[0])
_Static_assert(CONF_KEYS_N <= CONF_KEYS_MAX, "raise CONF_KEYS_MAX");

size_t
conf_keys_count(void)
{
	return CONF_KEYS_N;
}

const struct conf_key *
conf_keys_at(size_t i)
{
	return i < CONF_KEYS_N ? &conf_keys[i] : NULL;
}

const struct conf_key *
conf_keys_find(const char *section, const char *name, size_t *index)
{
	for (size_t i = 0; i < CONF_KEYS_N; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0) {
			if (index != NULL)
				*index = i;
			return &conf_keys[i];
		}
	return NULL;
}

bool
conf_keys_section_known(const char *section)
{
	for (size_t i = 0; i < CONF_KEYS_N; i++)
		if (strcmp(conf_keys[i].section, section) == 0)
			return true;
	return false;
}

const char *
conf_keys_value(const struct conf_key *k, const struct conf *c, char *buf,
    size_t len)
{
	const char *field = (const char *)c + k->off;

	if (k->set == conf_keys_set_u16)
		snprintf(buf, len, "%u",
		    *(const uint16_t *)(const void *)field);
	else if (k->set == conf_keys_set_u32)
		snprintf(buf, len, "%u",
		    *(const uint32_t *)(const void *)field);
	else if (k->set == conf_keys_set_duration)
		conf_parse_duration_text(*(const uint32_t *)(const void *)field,
		    buf, len);
	else if (k->set == conf_keys_set_retry_key)
		snprintf(buf, len, "%s", *(const bool *)(const void *)field ?
		    "prefix" : "address");
	else if (k->set == conf_keys_set_size)
		snprintf(buf, len, "%llu", (unsigned long long)
		    *(const uint64_t *)(const void *)field);
	else if (k->set == conf_keys_set_path ||
	    k->set == conf_keys_set_table || k->set == conf_keys_set_user ||
	    k->set == conf_keys_set_journal_file)
		snprintf(buf, len, "%.*s", (int)k->size, field);
	else if (k->set == conf_keys_set_reply_text)
		snprintf(buf, len, "%s", field);
	else if (k->set == conf_keys_set_reply)
		snprintf(buf, len, "%s", *(const bool *)(const void *)field ?
		    "smtp" : "reset");
	else if (k->set == conf_keys_set_bool)
		snprintf(buf, len, "%s", *(const bool *)(const void *)field ?
		    "yes" : "no");
	else if (conf_cluster_value(k, c, buf, len))
		;
	else
		snprintf(buf, len, "?");
	return buf;
}
