/*
 * conf.h - the one configuration file of all smtpgate programs.
 *
 * INI, parsed with inih.  Sections: [dns], [gate], [nft] (and later
 * [sniffer]).  conf_load fills a struct conf completely or not at all:
 * defaults first, then every key is validated as it is read; the first
 * fault stops the load with "file:line: reason" in err.  Unknown sections
 * and keys are faults, so a typo never leaves a check silently at its
 * default.
 *
 * A struct conf owns no heap memory; copy it by assignment.
 */
#ifndef SMTPGATE_CONF_H
#define SMTPGATE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dnsbl.h"

#define CONF_PATH_DEFAULT	SYSCONFDIR "/smtpgate/smtpgate.conf"
#define CONF_MAX_PORTS		16
#define CONF_MAX_TRUSTED	256
#define CONF_ERR_MAX		512

/* What to do with a client a check judged. */
enum action {
	ACTION_OFF,		/* check not run */
	ACTION_LOG,		/* accept, log the finding */
	ACTION_ACCEPT,		/* accept (only dns_error) */
	ACTION_DROP,		/* drop the SYN silently */
	ACTION_REJECT,		/* TCP reset at once */
};

struct conf_dns {
	char servers[512];	/* c-ares csv "ip:port,[ip6]:port"; "" = resolv.conf */
	uint32_t timeout_ms;	/* first try's timeout (c-ares doubles it) */
	uint32_t tries;		/* tries per server */
};

struct conf_gate {
	uint16_t queue;			/* NFQUEUE number */
	uint32_t queue_maxlen;		/* packets the kernel may hold for us */
	uint16_t ports[CONF_MAX_PORTS];	/* gated TCP ports */
	size_t nports;
	enum action no_ptr;		/* no PTR record (NXDOMAIN / NODATA) */
	enum action generic_ptr;	/* PTR looks like an access-pool name */
	enum action static_ptr;		/* PTR is an ISP static/business pool name */
	enum action fcrdns;		/* no PTR name resolves back to the client */
	enum action dnsbl;		/* DNSBL score >= dnsbl_threshold */
	enum action dns_error;		/* SERVFAIL, timeout: ACCEPT, DROP or REJECT */
	struct dnsbl_sites dnsbl_sites;
	int dnsbl_threshold;		/* score that triggers dnsbl (>= 1) */
	int dnsbl_allow_threshold;	/* score <= this passes outright; 0 = off */
	uint32_t deadline_ms;		/* every verdict within this */
	uint32_t pass_ttl_s;		/* pass-set timeout */
	uint32_t deny_ttl_s;		/* deny/drop-set timeout */
	uint32_t max_pending;		/* addresses under lookup at once */
	uint32_t fcrdns_max_names;	/* PTR names checked forward */
	struct prefix trusted[CONF_MAX_TRUSTED];	/* never gated */
	size_t ntrusted;
	char ptr_providers[256];	/* provider table for the PTR classifier */
	char control_socket[256];	/* smtpgated's control socket */
};

struct conf_nft {
	char table[64];			/* inet table name */
	char allow_file[256];		/* the allow list (smtpgatectl allow) */
};

struct conf {
	char path[256];			/* the file this came from */
	struct conf_dns dns;
	struct conf_gate gate;
	struct conf_nft nft;
};

/* Every field at its default (path ""): see smtpgate.conf(5). */
void conf_defaults(struct conf *c);
/*
 * 0, or -1 with "file:line: reason" (or "file: reason") in err; *out is
 * untouched on failure.  inih's rules as Debian builds it (version 55),
 * made safe: a line over 198 characters is a fault (inih would split it),
 * indented lines continue list keys only, text after "]" is a fault.
 */
int conf_load(const char *path, struct conf *out, char *err, size_t errlen);

/* "off", "log", "accept", "drop", "reject"; "?" for anything else. */
const char *action_name(enum action a);
/* Parse an action word (exact, lower case); allowed is a bit mask of
 * (1u << ACTION_x).  0, or -1 for an unknown or disallowed word. */
int action_parse(const char *s, unsigned allowed, enum action *out);

/* Is a in a trusted network (loopback always is)? */
bool conf_trusted(const struct conf_gate *g, const struct addr *a);

#endif
