/*
 * conf.c - what a configuration is: the defaults of every key, the words
 * of the actions and the sniffer's rules, and trust.
 *
 * Exports conf_defaults, action_name, action_parse, conf_rule_name,
 * conf_rule_parse and conf_trusted (conf.h), and conf_action_want
 * (conf_int.h).  The rest of the module: conf_int.h says which file holds
 * what.  No global state.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf_int.h"
#include "reply.h"

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
	s->hold_queue = 2;
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
	/* The protocol tests (smtpproto.h) are logged until the admin has
	 * seen what they find among his own clients. */
	s->rule[RULE_PREGREET] = ACTION_LOG;
	s->rule[RULE_PIPELINING] = ACTION_LOG;
	s->rule[RULE_NON_SMTP] = ACTION_LOG;
	s->rule[RULE_BARE_LF] = ACTION_LOG;
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
	/* The soft/hard split: a missing PTR is a soft rule (some real
	 * senders fail it), answered with a second chance. */
	c->gate.no_ptr = ACTION_TEMPFAIL;
	c->gate.invalid_ptr = ACTION_TEMPFAIL;	/* follows no_ptr: conf_load */
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
	c->gate.enforce = true;
	c->sniffer.enforce = true;
	snprintf(c->journal.file, sizeof c->journal.file, "%s",
	    "/var/lib/smtpgate/journal.db");
	c->journal.retention_s = 190 * 86400;	/* the report's half-year */
	c->journal.max_size = 1024ull * 1024 * 1024;
	c->journal.queue = 8192;
	c->gate.fcrdns_max_names = 4;
	/* Postfix, Exim and the large providers retry first after a few
	 * minutes, from a sibling address of their pool. */
	c->gate.retry_min_s = 300;
	c->gate.retry_window_s = 86400;
	c->gate.retry_by_prefix = true;
	c->gate.retry_prefix4 = 24;
	c->gate.retry_prefix6 = 64;

	snprintf(c->gate.control_socket, sizeof c->gate.control_socket, "%s",
	    "/run/smtpgate/smtpgated.sock");
	/* Refusals that say why (reply.h): off until the admin opens the
	 * responder's ports (smtpgate.conf(5), REPLIES). */
	c->gate.reply_smtp = false;
	c->gate.reply_port = 7025;
	c->gate.reply_max_conns = 256;
	c->gate.reply_timeout_s = 10;
	for (int r = 0; r < REPLY_RULE_MAX; r++)
		snprintf(c->gate.reply_text[r], sizeof c->gate.reply_text[r],
		    "%s", reply_rule_default((enum reply_rule)r));
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
	c->nft.retry_size = 65536;

	conf_sniffer_defaults(&c->sniffer);

	/* [cluster]: off (no redis, no sentinel); node follows the host
	 * name (conf_check.c). */
	snprintf(c->cluster.prefix, sizeof c->cluster.prefix, "smtpgate:");
	c->cluster.timeout_ms = 1000;
	c->cluster.backlog = 65536;
}

/* ---- actions and trust ---- */

/* The action words in the order messages list them. */
static const enum action conf_action_order[] = {
	ACTION_ACCEPT, ACTION_REJECT, ACTION_TEMPFAIL, ACTION_DROP,
	ACTION_OFFEND, ACTION_LOG, ACTION_OFF,
};

#define CONF_NACTIONS	(sizeof conf_action_order / sizeof conf_action_order[0])

void
conf_action_want(unsigned allowed, char *buf, size_t len)
{
	size_t i, n = 0, k = 0, total = 0, off = 0;

	for (i = 0; i < CONF_NACTIONS; i++)
		if (allowed & (1u << conf_action_order[i]))
			total++;
	buf[0] = '\0';
	for (i = 0; i < CONF_NACTIONS; i++) {
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
	case ACTION_TEMPFAIL:	return "tempfail";
	}
	return "?";
}

int
action_parse(const char *s, unsigned allowed, enum action *out)
{
	for (size_t i = 0; i < CONF_NACTIONS; i++) {
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
	[RULE_PIPELINING] = "pipelining",
	[RULE_NON_SMTP] = "non-smtp",
	[RULE_BARE_LF] = "bare-lf",
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
