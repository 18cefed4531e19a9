/*
 * conf.c - load and validate the smtpgate configuration file.
 *
 * Exports conf_defaults, conf_load, action_name, action_parse and
 * conf_trusted (conf.h).  No global state: conf_load builds the result in a
 * context struct on its stack and copies it to *out only when the whole
 * file was read and every key was valid.
 *
 * Parsing is inih's (Debian's libinih 55, built with its defaults), and its
 * defaults carry hazards we must close ourselves:
 *
 *  - A line is read into a 200-byte buffer; the rest of a longer line is
 *    read as if it were the next line, so a long value would be silently
 *    cut.  We hand inih our own line reader, which refuses a line longer
 *    than CONF_LINE_MAX characters and counts lines for our messages (the
 *    library's handler gets no line number in this build).
 *  - An indented line continues the previous key's value, even after blank
 *    lines and comments, and even when it looks like "key = value".  We
 *    accept continuations for list keys (they are how a long dnsbl_sites
 *    is written) and refuse them for everything else.
 *  - Text after a section header's ']' is ignored and an empty section is
 *    never seen by the handler; our reader checks section lines itself.
 *  - ";" starts a comment at the start of a line or after white space;
 *    "#" only at the start of a line ("a = b # c" has the value "b # c").
 *    inih 55 does not strip inline comments from continuation lines; we
 *    do, so every line of a list reads alike.
 *    "key: value" works as well as "key = value".
 *
 * The key table below is the whole schema: a section exists because a key
 * names it.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf.h"
#include "dns.h"
#include "dnsbl.h"

#define CONF_LINE_MAX	198	/* characters before the newline */
#define CONF_LIST_MAX	16384	/* a list value with its continuations */
#define CONF_WHY_MAX	400

struct conf_key;

/* Set one key from its (whole, for lists) value; on error write why. */
typedef int (*conf_setter)(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);

struct conf_key {
	const char *section;
	const char *name;
	conf_setter set;
	size_t off;		/* offset of the field in struct conf */
	long long min, max;	/* numbers and durations */
	unsigned allowed;	/* actions: mask of 1u << ACTION_x */
	bool list;		/* may continue on indented lines */
};

struct conf_ctx {
	const char *path;
	FILE *f;
	struct conf c;			/* built here, copied out on success */
	int lineno;			/* lines read so far */
	bool indented;			/* the current line starts with blanks */
	int err_line;			/* first fault, 0 = none */
	char err[CONF_ERR_MAX];
	int seen[128];			/* line where key i was set, 0 = not */
	const struct conf_key *prev;	/* key of the previous key line */
	char list[CONF_LIST_MAX];	/* prev's value so far, when a list */
	size_t listlen;
};

/* ---- value parsers ---- */

/* Strict decimal integer: optional '-' when min < 0, digits, nothing else. */
static int
conf_number(const char *v, long long min, long long max, long long *out,
    char *why, size_t whylen)
{
	const char *p = v;
	bool neg = false;
	long long n = 0;

	if (*p == '-' && min < 0) {
		neg = true;
		p++;
	}
	if (*p == '\0')
		goto bad;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
		if (n > (long long)1 << 40)
			goto range;
	}
	if (neg)
		n = -n;
	if (n < min || n > max)
		goto range;
	*out = n;
	return 0;
bad:
	snprintf(why, whylen, "'%s' is not a number (want %lld..%lld)", v, min,
	    max);
	return -1;
range:
	snprintf(why, whylen, "'%s' out of range %lld..%lld", v, min, max);
	return -1;
}

static void *
conf_field(const struct conf_key *k, struct conf *c)
{
	return (char *)c + k->off;
}

static int
conf_set_u32(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	long long n;

	if (conf_number(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(uint32_t *)conf_field(k, c) = (uint32_t)n;
	return 0;
}

static int
conf_set_u16(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	long long n;

	if (conf_number(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(uint16_t *)conf_field(k, c) = (uint16_t)n;
	return 0;
}

static int
conf_set_int(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	long long n;

	if (conf_number(v, k->min, k->max, &n, why, whylen) != 0)
		return -1;
	*(int *)conf_field(k, c) = (int)n;
	return 0;
}

static const char *
conf_duration_text(long long s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", s / 60);
	else
		snprintf(buf, len, "%llds", s);
	return buf;
}

/* Seconds, plain or with one unit suffix s, m, h or d ("15m"). */
static int
conf_set_duration(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char num[32], lo[32], hi[32];
	size_t len = strlen(v);
	long long n, mult = 1;

	if (len > 0 && len < sizeof num) {
		switch (v[len - 1]) {
		case 's': mult = 1; len--; break;
		case 'm': mult = 60; len--; break;
		case 'h': mult = 3600; len--; break;
		case 'd': mult = 86400; len--; break;
		default: break;
		}
	}
	conf_duration_text(k->min, lo, sizeof lo);
	conf_duration_text(k->max, hi, sizeof hi);
	if (len == 0 || len >= sizeof num)
		goto bad;
	memcpy(num, v, len);
	num[len] = '\0';
	if (strspn(num, "0123456789") != len)
		goto bad;
	if (conf_number(num, 0, k->max, &n, why, whylen) != 0 ||
	    n * mult < k->min || n * mult > k->max) {
		snprintf(why, whylen, "'%s' out of range %s..%s", v, lo, hi);
		return -1;
	}
	*(uint32_t *)conf_field(k, c) = (uint32_t)(n * mult);
	return 0;
bad:
	snprintf(why, whylen, "'%s' is not a duration (want seconds, or a "
	    "number with s, m, h or d, %s..%s)", v, lo, hi);
	return -1;
}

/* The action words in the order messages list them. */
static const enum action conf_action_order[] = {
	ACTION_ACCEPT, ACTION_REJECT, ACTION_DROP, ACTION_OFFEND, ACTION_LOG,
	ACTION_OFF,
};

static void
conf_action_want(unsigned allowed, char *buf, size_t len)
{
	size_t i, n = 0, k = 0, total = 0, off = 0;

	for (i = 0; i < sizeof conf_action_order / sizeof conf_action_order[0];
	    i++)
		if (allowed & (1u << conf_action_order[i]))
			total++;
	buf[0] = '\0';
	for (i = 0; i < sizeof conf_action_order / sizeof conf_action_order[0];
	    i++) {
		if (!(allowed & (1u << conf_action_order[i])))
			continue;
		k++;
		n = (size_t)snprintf(buf + off, len - off, "%s%s",
		    k == 1 ? "" : k == total ? " or " : ", ",
		    action_name(conf_action_order[i]));
		if (n >= len - off)
			return;
		off += n;
	}
}

static int
conf_set_action(const struct conf_key *k, const char *v, struct conf *c,
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
	*(enum action *)conf_field(k, c) = a;
	return 0;
}

static bool
conf_is_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',';
}

/*
 * Split a list value into items at white space and commas; call fn on
 * each (NUL-terminated copy).  Items longer than the buffer are refused.
 */
static int
conf_each(const char *v, int (*fn)(void *arg, const char *item, char *why,
    size_t whylen), void *arg, char *why, size_t whylen)
{
	char item[DNSBL_ZONE_MAX + 64];
	const char *p = v, *start;
	size_t len;

	for (;;) {
		while (conf_is_sep(*p))
			p++;
		if (*p == '\0')
			return 0;
		start = p;
		while (*p != '\0' && !conf_is_sep(*p))
			p++;
		len = (size_t)(p - start);
		if (len >= sizeof item) {
			snprintf(why, whylen, "'%.40s...': item too long", start);
			return -1;
		}
		memcpy(item, start, len);
		item[len] = '\0';
		if (fn(arg, item, why, whylen) != 0)
			return -1;
	}
}

/* Strict port 1..65535. */
static int
conf_port(const char *s, uint16_t *out)
{
	long long n;
	char dummy[8];

	if (conf_number(s, 1, 65535, &n, dummy, sizeof dummy) != 0)
		return -1;
	*out = (uint16_t)n;
	return 0;
}

struct conf_servers {
	char *buf;
	size_t len, off;
};

/* ADDR, ADDR:PORT (IPv4), [ADDR6]:PORT, [ADDR6] or a bare ADDR6. */
static int
conf_server_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_servers *s = arg;
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
	if (port != NULL && conf_port(port, &pn) != 0) {
		snprintf(why, whylen, "'%s': bad port (want 1..65535)", orig);
		return -1;
	}
	addr_ntop(&a, text);
	n = snprintf(s->buf + s->off, s->len - s->off,
	    a.family == AF_INET6 ? "%s[%s]:%u" : "%s%s:%u",
	    s->off > 0 ? "," : "", text, pn);
	if (n < 0 || (size_t)n >= s->len - s->off) {
		snprintf(why, whylen, "too many resolvers (the list must fit in "
		    "%zu characters)", s->len - 1);
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
conf_set_resolvers(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_field(k, c);
	struct conf_servers s = { field, sizeof c->dns.servers, 0 };

	field[0] = '\0';
	if (conf_each(v, conf_server_item, &s, why, whylen) != 0) {
		field[0] = '\0';
		return -1;
	}
	return 0;
}

static int
conf_port_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_gate *g = arg;
	uint16_t p;
	size_t i;

	if (conf_port(item, &p) != 0) {
		snprintf(why, whylen, "'%s' is not a port (want 1..65535)", item);
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
conf_set_ports(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	c->gate.nports = 0;
	if (conf_each(v, conf_port_item, &c->gate, why, whylen) != 0)
		return -1;
	if (c->gate.nports == 0) {
		snprintf(why, whylen, "want at least one port");
		return -1;
	}
	return 0;
}

static int
conf_trusted_item(void *arg, const char *item, char *why, size_t whylen)
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
conf_set_trusted(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	c->gate.ntrusted = 0;
	return conf_each(v, conf_trusted_item, &c->gate, why, whylen);
}

static int
conf_set_dnsbl_sites(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	return dnsbl_parse(v, &c->gate.dnsbl_sites, why, whylen);
}

/*
 * [sniffer] packets: 0 leaves the sniffer's rules out of the ruleset (and
 * with them the conntrack they need); else ct original packets 3-N.
 */
static int
conf_set_sniff_packets(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	if (conf_set_u32(k, v, c, why, whylen) == -1)
		return -1;
	if (c->sniffer.packets == 1 || c->sniffer.packets == 2) {
		snprintf(why, whylen, "%u: want 0 (no sniffer rules) or "
		    "3..1000", c->sniffer.packets);
		return -1;
	}
	return 0;
}

static int
conf_set_path(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_field(k, c);
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

static int
conf_set_table(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_field(k, c);
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
conf_set_user(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	char *field = conf_field(k, c);
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

/* yes/no, true/false, on/off, 1/0. */
static int
conf_set_bool(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*(bool *)conf_field(k, c) = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*(bool *)conf_field(k, c) = false;
			return 0;
		}
	}
	snprintf(why, whylen, "'%s' is not yes or no", v);
	return -1;
}

/* [gate] ptr_providers_mode: "extend" (the default) or "replace". */
static int
conf_set_providers_mode(const struct conf_key *k, const char *v,
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

/*
 * A host or domain name as the sniffer compares it: letters, digits, '-'
 * and '.', no empty label, at most len - 1 characters; stored lower case
 * without a trailing dot.
 */
static int
conf_hostname(const char *item, char *out, size_t len, char *why,
    size_t whylen)
{
	size_t n = strlen(item);

	if (n > 0 && item[n - 1] == '.')
		n--;
	if (n == 0 || n >= len) {
		snprintf(why, whylen, "'%s': want a name of 1..%zu characters",
		    item, len - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = item[i];

		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '.') {
			snprintf(why, whylen, "'%s': not a host name", item);
			return -1;
		}
		if (ch == '.' && (i == 0 || item[i - 1] == '.')) {
			snprintf(why, whylen, "'%s': empty label", item);
			return -1;
		}
		out[i] = (char)tolower((unsigned char)ch);
	}
	out[n] = '\0';
	return 0;
}

static int
conf_myname_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_sniffer *s = arg;

	if (s->nmy_hostnames >= CONF_MAX_MYNAMES) {
		snprintf(why, whylen, "'%s': more than %d names", item,
		    CONF_MAX_MYNAMES);
		return -1;
	}
	if (conf_hostname(item, s->my_hostnames[s->nmy_hostnames],
	    CONF_NAME_MAX, why, whylen) != 0)
		return -1;
	s->nmy_hostnames++;
	return 0;
}

static int
conf_set_mynames(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	c->sniffer.nmy_hostnames = 0;
	return conf_each(v, conf_myname_item, &c->sniffer, why, whylen);
}

static int
conf_myaddr_item(void *arg, const char *item, char *why, size_t whylen)
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
conf_set_myaddrs(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	c->sniffer.nmy_addresses = 0;
	return conf_each(v, conf_myaddr_item, &c->sniffer, why, whylen);
}

static int
conf_provider_item(void *arg, const char *item, char *why, size_t whylen)
{
	struct conf_sniffer *s = arg;

	if (s->nprovider_domains >= CONF_MAX_PROVIDERS) {
		snprintf(why, whylen, "'%s': more than %d domains", item,
		    CONF_MAX_PROVIDERS);
		return -1;
	}
	if (conf_hostname(item, s->provider_domains[s->nprovider_domains],
	    CONF_DOMAIN_MAX, why, whylen) != 0)
		return -1;
	if (strchr(s->provider_domains[s->nprovider_domains], '.') == NULL) {
		snprintf(why, whylen, "'%s': want a domain with a dot", item);
		return -1;
	}
	s->nprovider_domains++;
	return 0;
}

static int
conf_set_providers(const struct conf_key *k, const char *v, struct conf *c,
    char *why, size_t whylen)
{
	(void)k;
	c->sniffer.nprovider_domains = 0;
	return conf_each(v, conf_provider_item, &c->sniffer, why, whylen);
}

/* ---- the schema ---- */

#define A(x)	(1u << (x))
#define CHECK_ACTIONS \
	(A(ACTION_REJECT) | A(ACTION_DROP) | A(ACTION_LOG) | A(ACTION_OFF))
#define DNSERR_ACTIONS	(A(ACTION_ACCEPT) | A(ACTION_DROP) | A(ACTION_REJECT))
#define SNIFF_ACTIONS	(A(ACTION_OFFEND) | A(ACTION_LOG) | A(ACTION_OFF))
#define F(field)	offsetof(struct conf, field)
#define RULE_KEY(key, r) \
	{ "sniffer", key, conf_set_action, F(sniffer.rule[r]), 0, 0, \
	    SNIFF_ACTIONS, false }

static const struct conf_key conf_keys[] = {
	{ "dns", "resolvers", conf_set_resolvers, F(dns.servers), 0, 0, 0,
	    true },
	{ "dns", "timeout_ms", conf_set_u32, F(dns.timeout_ms), 50, 30000, 0,
	    false },
	{ "dns", "tries", conf_set_u32, F(dns.tries), 1, 10, 0, false },

	{ "gate", "queue", conf_set_u16, F(gate.queue), 0, 65535, 0, false },
	{ "gate", "queue_maxlen", conf_set_u32, F(gate.queue_maxlen), 1,
	    1048576, 0, false },
	{ "gate", "ports", conf_set_ports, F(gate.ports), 0, 0, 0, true },
	{ "gate", "no_ptr", conf_set_action, F(gate.no_ptr), 0, 0,
	    CHECK_ACTIONS, false },
	{ "gate", "invalid_ptr", conf_set_action, F(gate.invalid_ptr), 0, 0,
	    CHECK_ACTIONS, false },
	{ "gate", "generic_ptr", conf_set_action, F(gate.generic_ptr), 0, 0,
	    CHECK_ACTIONS, false },
	{ "gate", "static_ptr", conf_set_action, F(gate.static_ptr), 0, 0,
	    CHECK_ACTIONS, false },
	{ "gate", "fcrdns", conf_set_action, F(gate.fcrdns), 0, 0,
	    CHECK_ACTIONS, false },
	{ "gate", "dnsbl", conf_set_action, F(gate.dnsbl), 0, 0,
	    CHECK_ACTIONS, false },
	{ "gate", "dns_error", conf_set_action, F(gate.dns_error), 0, 0,
	    DNSERR_ACTIONS, false },
	{ "gate", "dnsbl_sites", conf_set_dnsbl_sites, F(gate.dnsbl_sites), 0,
	    0, 0, true },
	{ "gate", "dnsbl_threshold", conf_set_int, F(gate.dnsbl_threshold), 1,
	    1000000, 0, false },
	{ "gate", "dnsbl_allow_threshold", conf_set_int,
	    F(gate.dnsbl_allow_threshold), -1000000, 0, 0, false },
	{ "gate", "deadline_ms", conf_set_u32, F(gate.deadline_ms), 100, 60000,
	    0, false },
	{ "gate", "pass_ttl", conf_set_duration, F(gate.pass_ttl_s), 1,
	    30 * 86400, 0, false },
	{ "gate", "deny_ttl", conf_set_duration, F(gate.deny_ttl_s), 1,
	    30 * 86400, 0, false },
	{ "gate", "max_pending", conf_set_u32, F(gate.max_pending), 1,
	    1000000, 0, false },
	{ "gate", "fcrdns_max_names", conf_set_u32, F(gate.fcrdns_max_names),
	    1, DNS_MAX_NAMES, 0, false },
	{ "gate", "dns_concurrency", conf_set_u32, F(gate.dns_concurrency), 1,
	    65536, 0, false },
	{ "gate", "lookup_burst", conf_set_u32, F(gate.lookup_burst), 0,
	    1000000, 0, false },
	{ "gate", "lookup_rate", conf_set_u32, F(gate.lookup_rate), 1,
	    1000000, 0, false },
	{ "gate", "cache_v6_network", conf_set_bool, F(gate.cache_v6_network),
	    0, 0, 0, false },
	{ "gate", "trusted_networks", conf_set_trusted, F(gate.trusted), 0, 0,
	    0, true },
	{ "gate", "ptr_providers", conf_set_path, F(gate.ptr_providers), 0, 0,
	    0, false },
	{ "gate", "ptr_providers_mode", conf_set_providers_mode,
	    F(gate.ptr_providers_replace), 0, 0, 0, false },
	{ "gate", "control_socket", conf_set_path, F(gate.control_socket), 0,
	    0, 0, false },

	{ "nft", "table", conf_set_table, F(nft.table), 0, 0, 0, false },
	{ "nft", "allow_file", conf_set_path, F(nft.allow_file), 0, 0, 0,
	    false },
	{ "nft", "pass_size", conf_set_u32, F(nft.pass_size), 1, 16777216, 0,
	    false },
	{ "nft", "deny_size", conf_set_u32, F(nft.deny_size), 1, 16777216, 0,
	    false },
	{ "nft", "drop_size", conf_set_u32, F(nft.drop_size), 1, 16777216, 0,
	    false },
	{ "nft", "offend_size", conf_set_u32, F(nft.offend_size), 1, 16777216,
	    0, false },

	{ "sniffer", "queue", conf_set_u16, F(sniffer.queue), 0, 65535, 0,
	    false },
	{ "sniffer", "queue_maxlen", conf_set_u32, F(sniffer.queue_maxlen), 1,
	    1048576, 0, false },
	{ "sniffer", "packets", conf_set_sniff_packets, F(sniffer.packets), 0,
	    1000, 0, false },
	{ "sniffer", "max_flows", conf_set_u32, F(sniffer.max_flows), 16,
	    4000000, 0, false },
	{ "sniffer", "flow_idle", conf_set_duration, F(sniffer.flow_idle_s),
	    5, 3600, 0, false },
	{ "sniffer", "deadline_ms", conf_set_u32, F(sniffer.deadline_ms), 100,
	    60000, 0, false },
	{ "sniffer", "clean_ttl", conf_set_duration, F(sniffer.clean_ttl_s),
	    0, 86400, 0, false },
	{ "sniffer", "spf_workers", conf_set_u32, F(sniffer.spf_workers), 1,
	    32, 0, false },
	{ "sniffer", "spf_max_per_client", conf_set_u32,
	    F(sniffer.spf_max_per_client), 1, 1000, 0, false },
	{ "sniffer", "spf_user", conf_set_user, F(sniffer.spf_user), 0, 0, 0,
	    false },
	{ "sniffer", "my_hostnames", conf_set_mynames, F(sniffer.my_hostnames),
	    0, 0, 0, true },
	{ "sniffer", "my_addresses", conf_set_myaddrs, F(sniffer.my_addresses),
	    0, 0, 0, true },
	RULE_KEY("unqualified", RULE_UNQUALIFIED),
	RULE_KEY("own_name", RULE_OWN_NAME),
	RULE_KEY("own_address", RULE_OWN_ADDRESS),
	RULE_KEY("bare_ip", RULE_BARE_IP),
	RULE_KEY("address_literal", RULE_ADDRESS_LITERAL),
	RULE_KEY("bad_syntax", RULE_BAD_SYNTAX),
	RULE_KEY("provider_domain", RULE_PROVIDER_DOMAIN),
	RULE_KEY("spf_fail", RULE_SPF_FAIL),
	RULE_KEY("spf_ptr_fail", RULE_SPF_PTR_FAIL),
	RULE_KEY("no_domain", RULE_NO_DOMAIN),
	RULE_KEY("helo_no_resolve", RULE_HELO_NO_RESOLVE),
	RULE_KEY("helo_mismatch", RULE_HELO_MISMATCH),
	RULE_KEY("no_ptr_far", RULE_NO_PTR_FAR),
	RULE_KEY("mail_from_no_domain", RULE_MAIL_FROM_NO_DOMAIN),
	RULE_KEY("trickle", RULE_TRICKLE),
	{ "sniffer", "spf_softfail_fails", conf_set_bool,
	    F(sniffer.spf_softfail_fails), 0, 0, 0, false },
	{ "sniffer", "spf_neutral_fails", conf_set_bool,
	    F(sniffer.spf_neutral_fails), 0, 0, 0, false },
	{ "sniffer", "provider_domains", conf_set_providers,
	    F(sniffer.provider_domains), 0, 0, 0, true },
	{ "sniffer", "offender_strikes", conf_set_u32,
	    F(sniffer.offender_strikes), 1, 1000, 0, false },
	{ "sniffer", "offender_window", conf_set_duration,
	    F(sniffer.offender_window_s), 1, 30 * 86400, 0, false },
	{ "sniffer", "offender_timeout", conf_set_duration,
	    F(sniffer.offender_timeout_s), 1, 365 * 86400, 0, false },
	{ "sniffer", "offender_timeout_max", conf_set_duration,
	    F(sniffer.offender_timeout_max_s), 1, 365 * 86400, 0, false },
	{ "sniffer", "cut_session", conf_set_bool, F(sniffer.cut_session), 0,
	    0, 0, false },
	{ "sniffer", "state_file", conf_set_path, F(sniffer.state_file), 0, 0,
	    0, false },
	{ "sniffer", "state_save_interval", conf_set_duration,
	    F(sniffer.state_save_interval_s), 1, 86400, 0, false },
	{ "sniffer", "control_socket", conf_set_path,
	    F(sniffer.control_socket), 0, 0, 0, false },
};

#define CONF_NKEYS	(sizeof conf_keys / sizeof conf_keys[0])
_Static_assert(CONF_NKEYS <= 128, "conf_ctx.seen is too small");

static bool
conf_section_known(const char *s)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].section, s) == 0)
			return true;
	return false;
}

/* ---- defaults ---- */

/* Big providers whose bare domain no real mail server uses as its HELO. */
static const char *const conf_default_providers[] = {
	"gmail.com", "googlemail.com", "google.com", "hotmail.com",
	"outlook.com", "live.com", "msn.com", "microsoft.com", "yahoo.com",
	"yahoo.co.uk", "ymail.com", "aol.com", "icloud.com", "me.com",
	"mail.ru", "yandex.ru", "gmx.de", "gmx.net", "web.de", "qq.com",
	"163.com", "126.com", "comcast.net", "protonmail.com", "proton.me",
	"zoho.com", "amazon.com", "facebook.com", "apple.com", "paypal.com",
};

static void
conf_sniffer_defaults(struct conf_sniffer *s)
{
	size_t i;

	s->queue = 1;
	s->queue_maxlen = 4096;
	s->packets = 24;
	s->max_flows = 65536;
	s->flow_idle_s = 120;
	s->deadline_ms = 5000;
	s->clean_ttl_s = 600;
	s->spf_workers = 4;
	s->spf_max_per_client = 6;
	snprintf(s->spf_user, sizeof s->spf_user, "%s", "dynamic");
	for (i = 0; i < RULE_MAX; i++)
		s->rule[i] = ACTION_OFFEND;
	/* Weak signals: legitimate but sloppy senders show them too. */
	s->rule[RULE_HELO_NO_RESOLVE] = ACTION_LOG;
	s->rule[RULE_HELO_MISMATCH] = ACTION_LOG;
	/* Not judged by this version (no key): never strikes. */
	s->rule[RULE_PREGREET] = ACTION_OFF;
	s->spf_softfail_fails = true;
	s->spf_neutral_fails = true;
	for (i = 0; i < sizeof conf_default_providers /
	    sizeof conf_default_providers[0]; i++)
		snprintf(s->provider_domains[i], CONF_DOMAIN_MAX, "%s",
		    conf_default_providers[i]);
	s->nprovider_domains = i;
	s->offender_strikes = 2;
	s->offender_window_s = 3600;
	s->offender_timeout_s = 3600;
	s->offender_timeout_max_s = 7 * 86400;
	snprintf(s->state_file, sizeof s->state_file, "%s",
	    "/var/lib/smtpgate/sniffer.state");
	s->state_save_interval_s = 60;
	snprintf(s->control_socket, sizeof s->control_socket, "%s",
	    "/run/smtpgate/sniffd.sock");
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->dns.timeout_ms = 1000;
	c->dns.tries = 2;

	c->gate.queue = 0;
	/*
	 * Room for a burst: 10,000 new addresses in under a second, each
	 * SYN held up to deadline_ms and retransmitted once meanwhile, plus
	 * headroom; beyond it the kernel's fail-open lets SYNs through
	 * unjudged.  A held SYN costs the kernel about 1 KB (the skb), and
	 * the socket's receive buffer is sized to hold as many messages.
	 */
	c->gate.queue_maxlen = 32768;
	c->gate.ports[0] = 25;
	c->gate.nports = 1;
	c->gate.no_ptr = ACTION_REJECT;
	c->gate.invalid_ptr = ACTION_REJECT;	/* follows no_ptr: conf_load */
	c->gate.generic_ptr = ACTION_REJECT;
	c->gate.static_ptr = ACTION_LOG;
	c->gate.fcrdns = ACTION_LOG;
	c->gate.dnsbl = ACTION_REJECT;
	c->gate.dns_error = ACTION_ACCEPT;
	c->gate.dnsbl_threshold = 1;
	c->gate.dnsbl_allow_threshold = 0;
	c->gate.deadline_ms = 2500;
	c->gate.pass_ttl_s = 3600;
	c->gate.deny_ttl_s = 900;
	c->gate.max_pending = 20000;
	/*
	 * About 3 queries per address (PTR, two DNSBL zones, then forward
	 * lookups): 64 addresses keep ~200 queries at the resolver, which a
	 * default-sized UDP socket buffer takes without drops (make bench).
	 */
	c->gate.dns_concurrency = 64;
	/* A whole /24 (a big sender's pool) at once; then 4 a second. */
	c->gate.lookup_burst = 256;
	c->gate.lookup_rate = 4;
	c->gate.cache_v6_network = true;
	c->gate.fcrdns_max_names = 4;

	snprintf(c->gate.control_socket, sizeof c->gate.control_socket, "%s",
	    "/run/smtpgate/smtpgated.sock");
	snprintf(c->nft.table, sizeof c->nft.table, "smtpgate");
	snprintf(c->nft.allow_file, sizeof c->nft.allow_file, "%s",
	    SYSCONFDIR "/smtpgate/allow.list");
	/*
	 * A full set refuses new elements (ENFILE; counted as nft_full):
	 * their verdicts still apply, but are not cached.  An element costs
	 * the kernel about 100 bytes, so 65536 is some 6 MB per set.
	 */
	c->nft.pass_size = 65536;
	c->nft.deny_size = 65536;
	c->nft.drop_size = 65536;
	c->nft.offend_size = 65536;

	conf_sniffer_defaults(&c->sniffer);
}

/* ---- actions and trust ---- */

const char *
action_name(enum action a)
{
	switch (a) {
	case ACTION_OFF:	return "off";
	case ACTION_LOG:	return "log";
	case ACTION_ACCEPT:	return "accept";
	case ACTION_DROP:	return "drop";
	case ACTION_REJECT:	return "reject";
	case ACTION_OFFEND:	return "offend";
	}
	return "?";
}

int
action_parse(const char *s, unsigned allowed, enum action *out)
{
	for (size_t i = 0;
	    i < sizeof conf_action_order / sizeof conf_action_order[0]; i++) {
		enum action a = conf_action_order[i];

		if (strcmp(s, action_name(a)) == 0) {
			if (!(allowed & (1u << a)))
				return -1;
			*out = a;
			return 0;
		}
	}
	return -1;
}

static const char *const conf_rule_names[RULE_MAX] = {
	[RULE_UNQUALIFIED] = "unqualified",
	[RULE_OWN_NAME] = "own-name",
	[RULE_OWN_ADDRESS] = "own-address",
	[RULE_BARE_IP] = "bare-ip",
	[RULE_ADDRESS_LITERAL] = "address-literal",
	[RULE_BAD_SYNTAX] = "bad-syntax",
	[RULE_PROVIDER_DOMAIN] = "provider-domain",
	[RULE_SPF_FAIL] = "spf-fail",
	[RULE_SPF_PTR_FAIL] = "spf-ptr-fail",
	[RULE_NO_DOMAIN] = "no-domain",
	[RULE_HELO_NO_RESOLVE] = "helo-no-resolve",
	[RULE_HELO_MISMATCH] = "helo-mismatch",
	[RULE_NO_PTR_FAR] = "no-ptr-far",
	[RULE_MAIL_FROM_NO_DOMAIN] = "mail-from-no-domain",
	[RULE_PREGREET] = "pregreet",
	[RULE_TRICKLE] = "trickle",
};

const char *
conf_rule_name(enum conf_rule r)
{
	return (unsigned)r < RULE_MAX ? conf_rule_names[r] : "?";
}

enum conf_rule
conf_rule_parse(const char *s)
{
	for (unsigned r = 0; r < RULE_MAX; r++)
		if (strcmp(s, conf_rule_names[r]) == 0)
			return (enum conf_rule)r;
	return RULE_MAX;
}

bool
conf_trusted(const struct conf_gate *g, const struct addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a->family == AF_INET && a->b[0] == 127)
		return true;
	if (a->family == AF_INET6 && memcmp(a->b, v6_loopback, 16) == 0)
		return true;
	for (size_t i = 0; i < g->ntrusted && i < CONF_MAX_TRUSTED; i++)
		if (prefix_contains(&g->trusted[i], a))
			return true;
	return false;
}

/* ---- loading ---- */

static void
conf_fault(struct conf_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->err_line != 0)
		return;		/* the first fault is the one reported */
	x->err_line = x->lineno;
	n = snprintf(x->err, sizeof x->err, "%s:%d: ", x->path, x->lineno);
	if (n < 0 || (size_t)n >= sizeof x->err)
		return;
	va_start(ap, fmt);
	vsnprintf(x->err + n, sizeof x->err - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Check a "[section]" line the way inih will not: known name, no junk. */
static void
conf_check_section(struct conf_ctx *x, const char *p)
{
	const char *end = strchr(p, ']');
	char name[64];
	size_t len;

	if (end == NULL)
		return;		/* inih reports the syntax error */
	len = (size_t)(end - p - 1);
	if (len >= sizeof name) {
		conf_fault(x, "unknown section [%.40s...]", p + 1);
		return;
	}
	memcpy(name, p + 1, len);
	name[len] = '\0';
	for (end++; *end == ' ' || *end == '\t' || *end == '\r' ||
	    *end == '\n'; end++)
		;
	if (*end != '\0' && *end != ';' && *end != '#')
		conf_fault(x, "junk after section header [%s]", name);
	else if (!conf_section_known(name))
		conf_fault(x, "unknown section [%s]", name);
}

/*
 * inih's line reader, replaced so that a long line is a fault instead of
 * two lines, and so that we know the line number and indentation.  Returns
 * one line per call (with its newline), or NULL at the end or on a fault.
 */
static char *
conf_read_line(char *str, int num, void *stream)
{
	struct conf_ctx *x = stream;
	size_t n = 0, max = (size_t)num - 2;	/* room for '\n' and NUL */
	const char *p;
	int ch;

	if (x->err_line != 0)
		return NULL;
	for (;;) {
		ch = getc(x->f);
		if (ch == EOF) {
			if (n == 0)
				return NULL;
			break;
		}
		if (ch == '\0') {
			x->lineno++;
			conf_fault(x, "NUL byte in line");
			return NULL;
		}
		if (ch == '\n') {
			str[n++] = '\n';
			break;
		}
		if (n >= max) {
			x->lineno++;
			conf_fault(x, "line longer than %zu characters (continue "
			    "a list on indented lines)", max);
			return NULL;
		}
		str[n++] = (char)ch;
	}
	str[n] = '\0';
	x->lineno++;
	x->indented = str[0] == ' ' || str[0] == '\t';
	for (p = str; *p == ' ' || *p == '\t'; p++)
		;
	/* Mirror inih: comments and blank lines never touch prev_name. */
	if (*p == '[' && (!x->indented || x->prev == NULL)) {
		x->prev = NULL;
		conf_check_section(x, p);
	}
	return str;
}

/* Length of value before a ';' that follows white space, trailing blanks
 * dropped (inih's inline-comment rule). */
static size_t
conf_comment_cut(const char *value)
{
	size_t i, end = strlen(value);

	for (i = 1; value[i] != '\0'; i++)
		if (value[i] == ';' && (value[i - 1] == ' ' ||
		    value[i - 1] == '\t')) {
			end = i;
			break;
		}
	while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	return end;
}

static const struct conf_key *
conf_find(const char *section, const char *name, size_t *index)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0) {
			*index = i;
			return &conf_keys[i];
		}
	return NULL;
}

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_ctx *x = user;
	const struct conf_key *k;
	char why[CONF_WHY_MAX];
	const char *v = value;
	size_t i, vlen = strlen(value);
	bool cont;

	if (x->err_line != 0)
		return 0;
	if (section[0] == '\0') {
		conf_fault(x, "%s: key outside any section", name);
		return 0;
	}
	if (!conf_section_known(section)) {
		conf_fault(x, "unknown section [%s]", section);
		return 0;
	}
	k = conf_find(section, name, &i);
	if (k == NULL) {
		conf_fault(x, "[%s] %s: unknown key", section, name);
		return 0;
	}
	/* inih calls us again with the same name for an indented line. */
	cont = x->indented && x->prev == k;
	if (cont && !k->list) {
		conf_fault(x, "[%s] %s: indented line continues a value that "
		    "is not a list (do not indent keys)", section, name);
		return 0;
	}
	if (!cont && x->seen[i] != 0) {
		conf_fault(x, "[%s] %s: duplicate key (first set on line %d)",
		    section, name, x->seen[i]);
		return 0;
	}
	if (k->list) {
		/*
		 * inih 55 strips an inline "; comment" from a key line but not
		 * from a continuation line: do it here so both read alike.
		 */
		if (cont)
			vlen = conf_comment_cut(value);
		/* Re-parse the whole list so far: an error is on this line. */
		if (!cont)
			x->listlen = 0;
		if (x->listlen + vlen + 2 > sizeof x->list) {
			conf_fault(x, "[%s] %s: value longer than %zu characters",
			    section, name, sizeof x->list - 1);
			return 0;
		}
		if (x->listlen > 0)
			x->list[x->listlen++] = ' ';
		memcpy(x->list + x->listlen, value, vlen);
		x->listlen += vlen;
		x->list[x->listlen] = '\0';
		v = x->list;
	}
	why[0] = '\0';
	if (k->set(k, v, &x->c, why, sizeof why) != 0) {
		conf_fault(x, "[%s] %s: %s", section, name, why);
		return 0;
	}
	if (!cont)
		x->seen[i] = x->lineno;
	x->prev = k;
	return 1;
}

/* The line where key section/name was set, 0 when it was not. */
static int
conf_seen(const struct conf_ctx *x, const char *section, const char *name)
{
	size_t i;

	return conf_find(section, name, &i) != NULL ? x->seen[i] : 0;
}

/*
 * What one key cannot settle alone, once the whole file is read: an unset
 * invalid_ptr follows no_ptr; replacing the built-in provider table needs
 * a file to replace it with.  0, or -1 with the fault recorded.
 */
static int
conf_finish(struct conf_ctx *x)
{
	struct conf_gate *g = &x->c.gate;
	int line;

	if (conf_seen(x, "gate", "invalid_ptr") == 0)
		g->invalid_ptr = g->no_ptr;
	if (g->ptr_providers_replace && g->ptr_providers[0] == '\0') {
		line = conf_seen(x, "gate", "ptr_providers_mode");
		snprintf(x->err, sizeof x->err, "%s:%d: [gate] "
		    "ptr_providers_mode: replace needs a ptr_providers file "
		    "(the built-in table would be replaced by nothing)",
		    x->path, line);
		return -1;
	}
	return 0;
}

int
conf_load(const char *path, struct conf *out, char *err, size_t errlen)
{
	struct conf_ctx *x;
	int rc, line, saved;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* About 40 KiB: too much for the stack of a signal-driven reload. */
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	x->path = path;
	conf_defaults(&x->c);
	if (strlen(path) >= sizeof x->c.path) {
		snprintf(err, errlen, "%s: path longer than %zu characters",
		    path, sizeof x->c.path - 1);
		free(x);
		return -1;
	}
	memcpy(x->c.path, path, strlen(path) + 1);
	x->f = fopen(path, "r");
	if (x->f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(x);
		return -1;
	}
	line = ini_parse_stream(conf_read_line, x, conf_handler, x);
	saved = errno;
	if (ferror(x->f)) {
		snprintf(err, errlen, "%s: read: %s", path, strerror(saved));
		fclose(x->f);
		free(x);
		return -1;
	}
	fclose(x->f);
	rc = 0;
	if (x->err_line != 0 && (line <= 0 || x->err_line <= line)) {
		snprintf(err, errlen, "%s", x->err);
		rc = -1;
	} else if (line > 0) {
		snprintf(err, errlen, "%s:%d: syntax error (want [section], "
		    "key = value, or a comment)", path, line);
		rc = -1;
	} else if (line < 0) {
		snprintf(err, errlen, "%s: inih: out of memory", path);
		rc = -1;
	}
	if (rc == 0 && conf_finish(x) == -1) {
		snprintf(err, errlen, "%s", x->err);
		rc = -1;
	}
	if (rc == 0)
		*out = x->c;
	free(x);
	return rc;
}
