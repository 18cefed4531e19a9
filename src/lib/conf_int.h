/*
 * conf_int.h - the configuration module's insides, shared by its files
 * and by no one else:
 *
 *   src/conf.c        the defaults, the action and rule words, trust
 *   src/conf_parse.c  the value syntaxes (numbers, durations, yes/no,
 *                     lists, ports, host names): conf_parse_*
 *   src/conf_keys.c   the key table (the whole schema) and its setters:
 *                     conf_keys_*
 *   src/conf_check.c  what no single key settles: derived defaults, the
 *                     cross-key checks, the files the configuration
 *                     names: conf_check_*
 *   src/conf_load.c   reading the file through inih: conf_load
 *   src/conf_reload.c a running daemon's reload: the keys it keeps until
 *                     a restart: conf_reload*
 *   src/conf_cluster.c the setters of [cluster] and their values:
 *                     conf_cluster_*
 *
 * Messages: a setter or a check writes only its reason ("'x' out of
 * range 1..10"); conf_load puts "file:line: [section] key: " before it.
 */
#ifndef SMTPGATE_CONF_INT_H
#define SMTPGATE_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define CONF_KEYS_MAX	128	/* rows of the key table at most */
#define CONF_WHY_MAX	400	/* one reason, without file and line */

struct conf_key;

/* Set one key from its (whole, for lists) value; on error write why. */
typedef int (*conf_setter)(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);

struct conf_key {
	const char *section;
	const char *name;
	conf_setter set;
	size_t off;		/* offset of the field in struct conf */
	size_t size;		/* and its size in bytes */
	long long min, max;	/* numbers and durations */
	unsigned allowed;	/* actions: mask of 1u << ACTION_x */
	bool list;		/* may continue on indented lines */
	unsigned restart;	/* CONF_GATED | CONF_SNIFFD: the daemons that
				 * must restart to change it (conf_reload) */
};

/* ---- conf.c ---- */

/* The action words allowed (a mask of 1u << ACTION_x) as a message lists
 * them: "reject, drop, log or off". */
void conf_action_want(unsigned allowed, char *buf, size_t len);

/* ---- conf_keys.c ---- */

/* Rows of the key table; conf_keys_at(i) for i < conf_keys_count(). */
size_t conf_keys_count(void);
const struct conf_key *conf_keys_at(size_t i);
/* The key section/name and its row index, or NULL. */
const struct conf_key *conf_keys_find(const char *section, const char *name,
    size_t *index);
/* Does a key name this section? */
bool conf_keys_section_known(const char *section);
/* The value of k in c as the file would write it ("7", "1h", a path);
 * "?" for a key whose value has no one-word form (lists, actions). */
const char *conf_keys_value(const struct conf_key *k, const struct conf *c,
    char *buf, size_t len);

/* ---- conf_cluster.c ---- */

/* [cluster] redis, sentinel, password_file, prefix, node, tls. */
int conf_cluster_set_redis(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);
int conf_cluster_set_sentinel(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);
int conf_cluster_set_password_file(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);
int conf_cluster_set_prefix(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);
int conf_cluster_set_node(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);
int conf_cluster_set_tls(const struct conf_key *k, const char *v,
    struct conf *c, char *why, size_t whylen);
/* conf_keys_value for a key of these setters: true when k is one. */
bool conf_cluster_value(const struct conf_key *k, const struct conf *c,
    char *buf, size_t len);

/* ---- conf_parse.c ---- */

/* Seconds as the shortest exact "90s", "15m", "2h", "30d". */
const char *conf_parse_duration_text(long long s, char *buf, size_t len);
/* yes/no, true/false, on/off, 1/0.  0, or -1 with why. */
int conf_parse_bool(const char *v, bool *out, char *why, size_t whylen);
/*
 * Split a list value into items at white space and commas; call fn on
 * each (NUL-terminated copy).  Items longer than CONF_ITEM_MAX - 1 are
 * refused.  0, or -1 with why (fn's or ours).
 */
#define CONF_ITEM_MAX	(DNSBL_ZONE_MAX + 64)
int conf_parse_each(const char *v, int (*fn)(void *arg, const char *item,
    char *why, size_t whylen), void *arg, char *why, size_t whylen);
/* Strict port 1..65535.  0 or -1. */
int conf_parse_port(const char *s, uint16_t *out);
/*
 * A host or domain name as the sniffer compares it: letters, digits, '-'
 * and '.', no empty label, at most len - 1 characters; stored lower case
 * without a trailing dot.  0, or -1 with why.
 */
int conf_parse_hostname(const char *item, char *out, size_t len, char *why,
    size_t whylen);

/* ---- conf_check.c ---- */

/*
 * Once the whole file is read: the defaults that follow other keys (an
 * unset invalid_ptr follows no_ptr), then every check that spans keys.
 * seen[i] is the line where key row i was set, 0 when it was not; a fault
 * is reported at the line of the key that breaks the rule (the later one
 * when both were set).  0, or -1 with "path:line: [section] key: reason"
 * in err.
 */
int conf_check_cross(struct conf *c, const int *seen, const char *path,
    char *err, size_t errlen);

#endif
