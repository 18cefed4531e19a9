/*
 * conf_cluster.c - the setters of [cluster] (sharing through Redis,
 * cluster.h) and the one-word values conf_reload compares them by.
 *
 * Exports the conf_cluster_* functions of conf_int.h; the key table in
 * conf_keys.c names them, conf_check.c holds the rules that span keys
 * (redis and sentinel exclusive, node's default).  Addresses are numeric
 * only: a name would need a resolver call at every (re)connect, and the
 * daemons' loop may not block on one (smtpgate.conf(5) says so).  They are
 * stored in one canonical form, "ADDR:PORT" or "[ADDR6]:PORT" (a unix
 * socket: its absolute path), which cluster.c reads back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "addr.h"
#include "conf_int.h"

#define CONF_CLUSTER_REDIS_PORT		6379
#define CONF_CLUSTER_SENTINEL_PORT	26379

/* ADDR, ADDR:PORT, [ADDR6], [ADDR6]:PORT into "ADDR:PORT" / "[ADDR6]:PORT". */
static int
conf_cluster_hostport(const char *item, uint16_t dport, char *out,
    size_t outlen, char *why, size_t whylen)
{
	char host[ADDR_STRLEN], text[ADDR_STRLEN];
	const char *port = NULL, *colon, *end, *h = item;
	uint16_t pn = dport;
	struct addr a;
	size_t hl;
	int n;

	if (item[0] == '[') {
		if ((end = strchr(item, ']')) == NULL)
			goto bad;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
		h = item + 1;
		hl = (size_t)(end - h);
	} else if ((colon = strchr(item, ':')) != NULL) {
		if (strchr(colon + 1, ':') != NULL)
			goto bad;	/* IPv6 wants its brackets */
		port = colon + 1;
		hl = (size_t)(colon - item);
	} else
		hl = strlen(item);
	if (hl == 0 || hl >= sizeof host)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (addr_parse(host, &a) != 0) {
		snprintf(why, whylen, "'%s': want a numeric address (names are "
		    "not resolved: the daemons' loop may not wait for DNS)",
		    item);
		return -1;
	}
	if ((item[0] == '[') != (a.family == AF_INET6))
		goto bad;
	if (port != NULL && conf_parse_port(port, &pn) != 0) {
		snprintf(why, whylen, "'%s': bad port (want 1..65535)", item);
		return -1;
	}
	addr_ntop(&a, text);
	n = snprintf(out, outlen, a.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    text, pn);
	if (n < 0 || (size_t)n >= outlen)
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "'%s': want ADDR:PORT, [ADDR6]:PORT%s", item,
	    dport == CONF_CLUSTER_REDIS_PORT ? " or a socket's absolute path" :
	    "");
	return -1;
}

int
conf_cluster_set_redis(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	char *field = (char *)c + k->off;
	size_t len = strlen(v);

	(void)k;
	if (len == 0) {
		c->cluster.redis[0] = '\0';
		return 0;
	}
	if (v[0] == '/') {
		if (len >= sizeof sun.sun_path) {
			snprintf(why, whylen, "'%s': a socket's path has at most "
			    "%zu characters", v, sizeof sun.sun_path - 1);
			return -1;
		}
		memcpy(field, v, len + 1);
		return 0;
	}
	return conf_cluster_hostport(v, CONF_CLUSTER_REDIS_PORT, field,
	    sizeof c->cluster.redis, why, whylen);
}

/* The sentinel list being read: hosts, then "master", then the name. */
struct conf_cluster_sentinels {
	struct conf_cluster *cc;
	int stage;		/* 0 hosts, 1 after "master", 2 after the name */
};

/* [A-Za-z0-9._-]{1,max}: node and master names. */
static bool
conf_cluster_name_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == len;
}

static int
conf_cluster_sentinel_item(void *arg, const char *item, char *why,
    size_t whylen)
{
	struct conf_cluster_sentinels *s = arg;
	struct conf_cluster *cc = s->cc;

	switch (s->stage) {
	case 0:
		if (strcmp(item, "master") == 0) {
			if (cc->nsentinels == 0) {
				snprintf(why, whylen, "want at least one "
				    "HOST:PORT before 'master'");
				return -1;
			}
			s->stage = 1;
			return 0;
		}
		if (cc->nsentinels >= CONF_MAX_SENTINELS) {
			snprintf(why, whylen, "'%s': more than %d sentinels",
			    item, CONF_MAX_SENTINELS);
			return -1;
		}
		if (conf_cluster_hostport(item, CONF_CLUSTER_SENTINEL_PORT,
		    cc->sentinel_host[cc->nsentinels],
		    sizeof cc->sentinel_host[0], why, whylen) != 0)
			return -1;
		for (size_t i = 0; i < cc->nsentinels; i++)
			if (strcmp(cc->sentinel_host[i],
			    cc->sentinel_host[cc->nsentinels]) == 0) {
				snprintf(why, whylen, "'%s' listed twice", item);
				return -1;
			}
		cc->nsentinels++;
		return 0;
	case 1:
		if (!conf_cluster_name_ok(item,
		    sizeof cc->sentinel_master - 1)) {
			snprintf(why, whylen, "master '%s': want [A-Za-z0-9._-], "
			    "1..%zu characters", item,
			    sizeof cc->sentinel_master - 1);
			return -1;
		}
		snprintf(cc->sentinel_master, sizeof cc->sentinel_master, "%s",
		    item);
		s->stage = 2;
		return 0;
	default:
		snprintf(why, whylen, "'%s' after the master's name (want "
		    "HOST:PORT ... master NAME)", item);
		return -1;
	}
}

int
conf_cluster_set_sentinel(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	struct conf_cluster_sentinels s = { &c->cluster, 0 };

	(void)k;
	c->cluster.nsentinels = 0;
	c->cluster.sentinel_master[0] = '\0';
	if (conf_parse_each(v, conf_cluster_sentinel_item, &s, why,
	    whylen) != 0)
		goto fail;
	/* A list is set again at each of its lines: "master NAME" may
	 * come on a later one (conf_check.c says when it never came). */
	return 0;
fail:
	c->cluster.nsentinels = 0;
	c->cluster.sentinel_master[0] = '\0';
	return -1;
}

/*
 * The file is read at start (cluster.c); here it must exist and not be
 * readable by every user: a password anyone on the host can read protects
 * nothing.
 */
int
conf_cluster_set_password_file(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	struct stat st;
	size_t len = strlen(v);

	(void)k;
	if (len == 0) {
		c->cluster.password_file[0] = '\0';
		return 0;
	}
	if (len >= sizeof c->cluster.password_file) {
		snprintf(why, whylen, "path longer than %zu characters",
		    sizeof c->cluster.password_file - 1);
		return -1;
	}
	if (v[0] != '/') {
		snprintf(why, whylen, "'%s': want an absolute path", v);
		return -1;
	}
	if (stat(v, &st) != 0) {
		snprintf(why, whylen, "'%s': %s", v, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "'%s': not a regular file", v);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(why, whylen, "'%s' is readable by every user (mode "
		    "%04o): chmod o-rwx it", v, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	memcpy(c->cluster.password_file, v, len + 1);
	return 0;
}

/* prefix: [A-Za-z0-9:._-]{1,48}. */
int
conf_cluster_set_prefix(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	size_t len = strlen(v);

	(void)k;
	if (len == 0 || len > 48 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:._-") != len) {
		snprintf(why, whylen, "'%s': want [A-Za-z0-9:._-], 1..48 "
		    "characters", v);
		return -1;
	}
	memcpy(c->cluster.prefix, v, len + 1);
	return 0;
}

/* node: [A-Za-z0-9._-]{1,63}. */
int
conf_cluster_set_node(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	if (!conf_cluster_name_ok(v, sizeof c->cluster.node - 1)) {
		snprintf(why, whylen, "'%s': want [A-Za-z0-9._-], 1..%zu "
		    "characters", v, sizeof c->cluster.node - 1);
		return -1;
	}
	snprintf(c->cluster.node, sizeof c->cluster.node, "%s", v);
	return 0;
}

/* tls: always a fault, whatever its value (CLUSTER in smtpgate.conf(5)). */
int
conf_cluster_set_tls(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen)
{
	(void)k;
	(void)v;
	(void)c;
	snprintf(why, whylen, "Debian 12's hiredis 0.14 has no TLS; protect "
	    "the link with a private network, stunnel or spiped "
	    "(smtpgate.conf(5) CLUSTER)");
	return -1;
}

bool
conf_cluster_value(const struct conf_key *k, const struct conf *c,
    char *buf, size_t len)
{
	const struct conf_cluster *cc = &c->cluster;
	size_t off = 0;
	int n;

	if (k->set == conf_cluster_set_redis ||
	    k->set == conf_cluster_set_password_file ||
	    k->set == conf_cluster_set_prefix ||
	    k->set == conf_cluster_set_node) {
		snprintf(buf, len, "%.*s", (int)k->size, (const char *)c +
		    k->off);
		if (buf[0] == '\0')
			snprintf(buf, len, "(none)");
		return true;
	}
	if (k->set != conf_cluster_set_sentinel)
		return false;
	buf[0] = '\0';
	for (size_t i = 0; i < cc->nsentinels && i < CONF_MAX_SENTINELS;
	    i++) {
		n = snprintf(buf + off, len - off, "%s ", cc->sentinel_host[i]);
		if (n < 0 || (size_t)n >= len - off)
			return true;
		off += (size_t)n;
	}
	if (cc->nsentinels > 0)
		snprintf(buf + off, len - off, "master %s",
		    cc->sentinel_master);
	else
		snprintf(buf, len, "(none)");
	return true;
}
