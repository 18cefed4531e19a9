/*
 * conf.h - the one configuration file of all smtpgate programs.
 *
 * INI, parsed with inih.  Sections: [cluster], [dns], [gate], [journal],
 * [nft], [sniffer].
 * conf_load fills a struct conf completely or not at all: defaults first,
 * then every key is validated as it is read, then the rules that span
 * keys (the gate's and the sniffer's queues differ, a ban's first timeout
 * is within its maximum, ...); the first fault stops the load with
 * "file:line: reason" in err.  Unknown sections and keys are faults, so a
 * typo never leaves a check silently at its default.  Every program loads
 * the file through conf_load (a daemon's reload through conf_reload), so
 * none of them accepts a file another refuses.
 *
 * The module's files (conf_int.h has the map): conf.c, conf_parse.c,
 * conf_keys.c, conf_check.c, conf_load.c, conf_reload.c.
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
#define CONF_MAX_MYNAMES	16	/* [sniffer] my_hostnames */
#define CONF_MAX_MYADDRS	32	/* [sniffer] my_addresses */
#define CONF_MAX_PROVIDERS	48	/* [sniffer] provider_domains */
#define CONF_NAME_MAX		254	/* a host name with its NUL */
#define CONF_DOMAIN_MAX		64	/* a provider domain with its NUL */
#define CONF_REPLY_RULES	8	/* reply.h's REPLY_RULE_MAX */
#define CONF_REPLY_TEXT_MAX	160	/* a reply text or URL with its NUL */

/* What to do with a client a check judged. */
enum action {
	ACTION_OFF,		/* check not run */
	ACTION_LOG,		/* accept, log the finding */
	ACTION_ACCEPT,		/* accept (only dns_error) */
	ACTION_DROP,		/* drop the SYN silently */
	ACTION_REJECT,		/* TCP reset at once */
	ACTION_OFFEND,		/* sniffer: a strike against the client */
	ACTION_TEMPFAIL,	/* refuse now, pass a retry after retry_min
				 * within retry_window (retry.h) */
};

/*
 * The sniffer's rules.  Their names (conf_rule_name) are shared by the
 * log lines, the state file and the control socket: unqualified, own-name,
 * own-address, bare-ip, address-literal, bad-syntax, provider-domain,
 * spf-fail, spf-ptr-fail, no-domain, helo-no-resolve, helo-mismatch,
 * no-ptr-far, mail-from-no-domain, pregreet, trickle, pipelining, non-smtp,
 * bare-lf.  The config key of a
 * rule is its name with '_' for '-'.
 */
enum conf_rule {
	RULE_UNQUALIFIED,	/* HELO has no dot */
	RULE_OWN_NAME,		/* HELO is one of my_hostnames */
	RULE_OWN_ADDRESS,	/* HELO is (a literal of) one of my_addresses */
	RULE_BARE_IP,		/* HELO is a bare IP address */
	RULE_ADDRESS_LITERAL,	/* HELO is [192.0.2.7] or [IPv6:...] */
	RULE_BAD_SYNTAX,	/* underscore, bad characters, bad labels */
	RULE_PROVIDER_DOMAIN,	/* HELO is exactly a big provider's domain */
	RULE_SPF_FAIL,		/* SPF of postmaster@HELO fails */
	RULE_SPF_PTR_FAIL,	/* SPF fails for a PTR name of the client */
	RULE_NO_DOMAIN,		/* HELO's registered domain does not exist */
	RULE_HELO_NO_RESOLVE,	/* HELO has no address at all */
	RULE_HELO_MISMATCH,	/* HELO's addresses do not include the client */
	RULE_NO_PTR_FAR,	/* no PTR, and not within /24 or /64 of HELO */
	RULE_MAIL_FROM_NO_DOMAIN, /* MAIL FROM domain has no MX, A, AAAA */
	RULE_PREGREET,		/* talked before the banner left */
	RULE_TRICKLE,		/* no complete HELO/EHLO within the packets
				 * read, or a gap in the stream never filled */
	RULE_PIPELINING,	/* a command before the reply could have
				 * come, PIPELINING not known (smtpproto.h) */
	RULE_NON_SMTP,		/* first command GET, POST, CONNECT, ... */
	RULE_BARE_LF,		/* a command line ended in a bare LF */
	RULE_MAX
};

struct conf_sniffer {
	uint16_t queue;			/* NFQUEUE number of the sniffer */
	uint32_t queue_maxlen;		/* packets the kernel may hold */
	uint32_t packets;		/* client packets per session queued
					 * (nft: ct original packets 3-N) */
	uint32_t max_flows;		/* sessions followed at once */
	uint32_t flow_idle_s;		/* a silent session is forgotten */
	uint32_t deadline_ms;		/* DNS/SPF judgment of a session */
	uint32_t clean_ttl_s;		/* a clean DNS/SPF judgment of (client,
					 * name) is reused this long; 0 = off */
	uint32_t spf_workers;		/* SPF helper processes */
	uint32_t spf_max_per_client;	/* SPF checks at once per client */
	char spf_user[32];		/* helpers' user, or "dynamic" */
	char my_hostnames[CONF_MAX_MYNAMES][CONF_NAME_MAX]; /* lower case */
	size_t nmy_hostnames;		/* 0: the system's host name */
	struct addr my_addresses[CONF_MAX_MYADDRS];
	size_t nmy_addresses;		/* 0: the system's addresses */
	enum action rule[RULE_MAX];	/* OFFEND, LOG or OFF per rule */
	bool spf_softfail_fails;	/* SPF softfail counts as fail */
	bool spf_neutral_fails;		/* SPF neutral counts as fail */
	char provider_domains[CONF_MAX_PROVIDERS][CONF_DOMAIN_MAX];
	size_t nprovider_domains;
	uint32_t offender_strikes;	/* strikes within the window -> ban */
	uint32_t offender_window_s;
	uint32_t offender_timeout_s;	/* first ban; doubles per repeat */
	uint32_t offender_timeout_max_s;
	bool cut_session;		/* reset a forged session at once */
	char state_file[256];		/* strikes and bans across restarts */
	uint32_t state_save_interval_s;	/* routine saves at most this often
					 * (a ban change is saved at once) */
	char control_socket[256];	/* smtpgate-sniffd's control socket */
	bool reply_smtp;		/* bans answered by smtpgated's
					 * responder (reply = smtp) */
	bool enforce;			/* no: observe mode, every rule judged
					 * and logged, nobody banned or cut */
	uint32_t banner_hold_ms;	/* hold the banner of a client the gate
					 * accepted on weak evidence this long
					 * (0: off; needs pregreet on) */
	uint16_t hold_queue;		/* NFQUEUE of the held banners */
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
	enum action invalid_ptr;	/* a PTR name that is no host name;
					 * no_ptr's when the key is unset */
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
	uint32_t max_pending;		/* addresses under lookup at once
					 * (querying or waiting) */
	uint32_t dns_concurrency;	/* addresses whose queries are out at
					 * once; the rest wait in a FIFO */
	uint32_t lookup_burst;		/* new lookups per IPv4 /24 or IPv6
					 * /64 at once; 0 = no limit */
	uint32_t lookup_rate;		/* and per second after the burst */
	bool cache_v6_network;		/* IPv6 rejects/drops about the network
					 * (no, generic or static PTR) are
					 * cached for the whole /64 */
	uint32_t fcrdns_max_names;	/* PTR names checked forward */
	struct prefix trusted[CONF_MAX_TRUSTED];	/* never gated */
	size_t ntrusted;
	char ptr_providers[256];	/* provider table file; "" = the built-in
					 * table alone */
	bool ptr_providers_replace;	/* the file replaces the built-in table
					 * (else extends it) */
	char control_socket[256];	/* smtpgated's control socket */
	/* tempfail's second chance (retry.h, smtpgate.conf(5)) */
	uint32_t retry_min_s;		/* a retry sooner is refused again */
	uint32_t retry_window_s;	/* a retry later is a first contact */
	bool retry_by_prefix;		/* retry_key = prefix (else address) */
	uint32_t retry_prefix4;		/* prefix lengths of the key then */
	uint32_t retry_prefix6;
	/* refusals that say why (reply.h, smtpgate.conf(5) REPLIES) */
	bool reply_smtp;		/* reply = smtp (else reset) */
	uint16_t reply_port;		/* first of the responder's ports */
	uint32_t reply_max_conns;	/* responder connections at once */
	uint32_t reply_timeout_s;	/* a connection's whole life */
	char reply_url[CONF_REPLY_TEXT_MAX];	/* "" = none */
	char reply_text[CONF_REPLY_RULES][CONF_REPLY_TEXT_MAX];
	bool enforce;			/* no: observe mode, every verdict
					 * judged and logged, every client
					 * accepted, nothing cached as refused */
};

struct conf_nft {
	char table[64];			/* inet table name */
	char allow_file[256];		/* the allow list (smtpgatectl allow) */
	uint32_t pass_size;		/* elements of pass4 and of pass6 */
	uint32_t deny_size;		/* of deny4, deny6 and denynet6 */
	uint32_t drop_size;		/* of drop4, drop6 and dropnet6 */
	uint32_t offend_size;		/* of offend4 and of offend6 */
	uint32_t retry_size;		/* of wait4/6 and of retry4/6 */
};

/* The verdict journal (journal.h): every key needs a daemon's restart. */
struct conf_journal {
	char file[256];			/* the SQLite database; "" = off */
	uint32_t retention_s;		/* rows older are pruned */
	uint64_t max_size;		/* bytes the file is kept under */
	uint32_t queue;			/* records waiting for the writer */
};

/* Sharing between gateways through Redis (cluster.h).  Off when both
 * redis and the sentinels are empty.  Every key needs a restart. */
#define CONF_MAX_SENTINELS	8
struct conf_cluster {
	char redis[256];		/* "host:port", "[v6]:port", or a unix
					 * socket's absolute path; "" */
	char sentinel_host[CONF_MAX_SENTINELS][128];	/* "host:port" */
	size_t nsentinels;
	char sentinel_master[64];	/* the master's name */
	char password_file[256];	/* "password" or "user password" */
	char prefix[64];		/* key namespace, "smtpgate:" */
	char node[64];			/* this gateway, default host name */
	bool share_pass;		/* pass verdicts shared too */
	bool share_allow;		/* allow changes shared, file rewritten */
	uint32_t timeout_ms;		/* a command's (and connect's) deadline */
	uint32_t backlog;		/* changes kept while apart */
};

struct conf {
	char path[256];			/* the file this came from */
	struct conf_cluster cluster;
	struct conf_dns dns;
	struct conf_gate gate;
	struct conf_journal journal;
	struct conf_nft nft;
	struct conf_sniffer sniffer;
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

/*
 * What a daemon runs with: a daemon's reload keeps the running value of a
 * key marked for it, since it cannot change it while it runs ([nft]
 * table and the queues for both; the control sockets, the sniffer's state
 * file and SPF helpers for their daemon).  smtpgate.conf(5) lists them.
 */
#define CONF_GATED	1u	/* smtpgated */
#define CONF_SNIFFD	2u	/* smtpgate-sniffd */

/* Where reloads say what they kept (log_warnx in the daemons). */
typedef void (*conf_warn_fn)(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * A daemon's reload: conf_load(path, out), then conf_reload_keep.  0, or
 * -1 with err as conf_load's (*out untouched then).
 */
int conf_reload(const char *path, const struct conf *running, unsigned daemon,
    struct conf *out, char *err, size_t errlen, conf_warn_fn warn);
/*
 * Put every key that daemon (CONF_GATED or CONF_SNIFFD) must restart to
 * change back to its running value in next, calling warn (may be NULL)
 * once for each one that differed: "reload: [nft] table = new needs a
 * restart; still old".  Returns how many were kept.
 */
size_t conf_reload_keep(const struct conf *running, struct conf *next,
    unsigned daemon, conf_warn_fn warn);

/*
 * The files a loaded configuration names must be usable: the provider
 * table of [gate] ptr_providers loads (else the gate would not start).
 * For -n of both daemons and smtpgate-nft.  0, or -1 with err ("FILE:LINE:
 * reason ([gate] ptr_providers)").
 */
int conf_check_files(const struct conf *c, char *err, size_t errlen);

/*
 * The PTR classifier's provider table as [gate] configures it: the
 * built-in table, extended by ptr_providers, or replaced by it when
 * ptr_providers_mode = replace.  NULL with err ("FILE:LINE: why ([gate]
 * ptr_providers)"), errno EINVAL for bad contents.  The gate, both
 * daemons' -n and smtpgatectl check load it through this one function.
 */
struct ptrclass;
struct ptrclass *conf_ptrclass_new(const struct conf_gate *g, char *err,
    size_t errlen);

/*
 * The value syntaxes, for the file and the command lines alike.  0, or -1
 * with the reason in why ("'x' is not a number (want 1..10)").
 *   conf_parse_number: plain decimal, a '-' only when min < 0;
 *   conf_parse_duration: seconds, plain or with one unit s, m, h, d or w
 *   ("90", "15m", "2w"), in seconds.
 */
int conf_parse_number(const char *v, long long min, long long max,
    long long *out, char *why, size_t whylen);
int conf_parse_duration(const char *v, long long min, long long max,
    long long *out, char *why, size_t whylen);

/* "off", "log", "accept", "drop", "reject", "offend", "tempfail"; "?" for anything
 * else. */
const char *action_name(enum action a);
/* Parse an action word (exact, lower case); allowed is a bit mask of
 * (1u << ACTION_x).  0, or -1 for an unknown or disallowed word. */
int action_parse(const char *s, unsigned allowed, enum action *out);

/* "unqualified", "own-name", ... (above); "?" for anything else. */
const char *conf_rule_name(enum conf_rule r);
/* The rule named s (exact), or RULE_MAX when none is. */
enum conf_rule conf_rule_parse(const char *s);

/* Is a in a trusted network (loopback always is)? */
bool conf_trusted(const struct conf_gate *g, const struct addr *a);

#endif
