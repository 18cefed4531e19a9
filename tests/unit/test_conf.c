/*
 * test_conf.c - table-driven tests of conf.c over small configuration texts
 * written to temporary files.
 *
 * A loaded struct conf is rendered as "key=value" lines (conf_dump); good
 * cases name the lines they expect, and the defaults are compared against a
 * golden rendering.  Bad cases give the exact message, with %s for the
 * file's path, and check that *out was left untouched.  The shipped
 * docs/smtpgate.conf.example must load and equal the defaults.
 *
 * Every table row becomes one named cmocka test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"

/* ---- helpers ---- */

/* 28 KiB each: static, and reused by every test (they run one by one). */
static struct conf conf_a, conf_b;

static void
cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

static void
conf_dump_sniffer(const struct conf_sniffer *s, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	size_t i;

	cat(buf, len, "sniffer.queue=%u\n", s->queue);
	cat(buf, len, "sniffer.queue_maxlen=%u\n", s->queue_maxlen);
	cat(buf, len, "sniffer.packets=%u\n", s->packets);
	cat(buf, len, "sniffer.max_flows=%u\n", s->max_flows);
	cat(buf, len, "sniffer.flow_idle_s=%u\n", s->flow_idle_s);
	cat(buf, len, "sniffer.deadline_ms=%u\n", s->deadline_ms);
	cat(buf, len, "sniffer.clean_ttl_s=%u\n", s->clean_ttl_s);
	cat(buf, len, "sniffer.spf_workers=%u\n", s->spf_workers);
	cat(buf, len, "sniffer.spf_max_per_client=%u\n",
	    s->spf_max_per_client);
	cat(buf, len, "sniffer.spf_user=%s\n", s->spf_user);
	cat(buf, len, "sniffer.my_hostnames=");
	for (i = 0; i < s->nmy_hostnames; i++)
		cat(buf, len, "%s%s", i ? " " : "", s->my_hostnames[i]);
	cat(buf, len, "\nsniffer.my_addresses=");
	for (i = 0; i < s->nmy_addresses; i++)
		cat(buf, len, "%s%s", i ? " " : "",
		    addr_ntop(&s->my_addresses[i], a));
	cat(buf, len, "\n");
	for (i = 0; i < RULE_MAX; i++)
		cat(buf, len, "sniffer.%s=%s\n",
		    conf_rule_name((enum conf_rule)i), action_name(s->rule[i]));
	cat(buf, len, "sniffer.spf_softfail_fails=%d\n",
	    s->spf_softfail_fails);
	cat(buf, len, "sniffer.spf_neutral_fails=%d\n", s->spf_neutral_fails);
	cat(buf, len, "sniffer.provider_domains=");
	for (i = 0; i < s->nprovider_domains; i++)
		cat(buf, len, "%s%s", i ? " " : "", s->provider_domains[i]);
	cat(buf, len, "\n");
	cat(buf, len, "sniffer.offender_strikes=%u\n", s->offender_strikes);
	cat(buf, len, "sniffer.offender_window_s=%u\n", s->offender_window_s);
	cat(buf, len, "sniffer.offender_timeout_s=%u\n",
	    s->offender_timeout_s);
	cat(buf, len, "sniffer.offender_timeout_max_s=%u\n",
	    s->offender_timeout_max_s);
	cat(buf, len, "sniffer.cut_session=%d\n", s->cut_session);
	cat(buf, len, "sniffer.state_file=%s\n", s->state_file);
	cat(buf, len, "sniffer.state_save_interval_s=%u\n",
	    s->state_save_interval_s);
	cat(buf, len, "sniffer.control_socket=%s\n", s->control_socket);
	cat(buf, len, "sniffer.reply_smtp=%d\n", s->reply_smtp);
}

/* Every field except path, one "name=value" line each. */
static void
conf_dump(const struct conf *c, char *buf, size_t len)
{
	const struct conf_gate *g = &c->gate;
	char a[ADDR_STRLEN];
	size_t i;

	buf[0] = '\0';
	cat(buf, len, "dns.servers=%s\n", c->dns.servers);
	cat(buf, len, "dns.timeout_ms=%u\n", c->dns.timeout_ms);
	cat(buf, len, "dns.tries=%u\n", c->dns.tries);
	cat(buf, len, "gate.queue=%u\n", g->queue);
	cat(buf, len, "gate.queue_maxlen=%u\n", g->queue_maxlen);
	cat(buf, len, "gate.ports=");
	for (i = 0; i < g->nports; i++)
		cat(buf, len, "%s%u", i ? " " : "", g->ports[i]);
	cat(buf, len, "\n");
	cat(buf, len, "gate.no_ptr=%s\n", action_name(g->no_ptr));
	cat(buf, len, "gate.invalid_ptr=%s\n", action_name(g->invalid_ptr));
	cat(buf, len, "gate.generic_ptr=%s\n", action_name(g->generic_ptr));
	cat(buf, len, "gate.static_ptr=%s\n", action_name(g->static_ptr));
	cat(buf, len, "gate.fcrdns=%s\n", action_name(g->fcrdns));
	cat(buf, len, "gate.dnsbl=%s\n", action_name(g->dnsbl));
	cat(buf, len, "gate.dns_error=%s\n", action_name(g->dns_error));
	cat(buf, len, "gate.dnsbl_sites=");
	for (i = 0; i < g->dnsbl_sites.nsites; i++)
		cat(buf, len, "%s%s", i ? " " : "", g->dnsbl_sites.site[i].text);
	cat(buf, len, " (zones %zu)\n", g->dnsbl_sites.nzones);
	cat(buf, len, "gate.dnsbl_threshold=%d\n", g->dnsbl_threshold);
	cat(buf, len, "gate.dnsbl_allow_threshold=%d\n",
	    g->dnsbl_allow_threshold);
	cat(buf, len, "gate.deadline_ms=%u\n", g->deadline_ms);
	cat(buf, len, "gate.pass_ttl_s=%u\n", g->pass_ttl_s);
	cat(buf, len, "gate.deny_ttl_s=%u\n", g->deny_ttl_s);
	cat(buf, len, "gate.max_pending=%u\n", g->max_pending);
	cat(buf, len, "gate.fcrdns_max_names=%u\n", g->fcrdns_max_names);
	cat(buf, len, "gate.dns_concurrency=%u\n", g->dns_concurrency);
	cat(buf, len, "gate.lookup_burst=%u\n", g->lookup_burst);
	cat(buf, len, "gate.lookup_rate=%u\n", g->lookup_rate);
	cat(buf, len, "gate.cache_v6_network=%d\n", g->cache_v6_network);
	cat(buf, len, "gate.trusted=");
	for (i = 0; i < g->ntrusted; i++)
		cat(buf, len, "%s%s/%u", i ? " " : "",
		    addr_ntop(&g->trusted[i].a, a), g->trusted[i].len);
	cat(buf, len, "\n");
	cat(buf, len, "gate.ptr_providers=%s\n", g->ptr_providers);
	cat(buf, len, "gate.ptr_providers_mode=%s\n",
	    g->ptr_providers_replace ? "replace" : "extend");
	cat(buf, len, "gate.control_socket=%s\n", g->control_socket);
	cat(buf, len, "gate.retry_min_s=%u\n", g->retry_min_s);
	cat(buf, len, "gate.retry_window_s=%u\n", g->retry_window_s);
	cat(buf, len, "gate.retry_key=%s\n", g->retry_by_prefix ? "prefix" :
	    "address");
	cat(buf, len, "gate.retry_prefix4=%u\n", g->retry_prefix4);
	cat(buf, len, "gate.retry_prefix6=%u\n", g->retry_prefix6);
	cat(buf, len, "gate.reply_smtp=%d\n", g->reply_smtp);
	cat(buf, len, "gate.reply_port=%u\n", g->reply_port);
	cat(buf, len, "gate.reply_max_conns=%u\n", g->reply_max_conns);
	cat(buf, len, "gate.reply_timeout_s=%u\n", g->reply_timeout_s);
	cat(buf, len, "gate.reply_url=%s\n", g->reply_url);
	for (i = 0; i < CONF_REPLY_RULES; i++)
		cat(buf, len, "gate.reply_text[%zu]=%s\n", i,
		    g->reply_text[i]);
	cat(buf, len, "nft.table=%s\n", c->nft.table);
	cat(buf, len, "nft.allow_file=%s\n", c->nft.allow_file);
	cat(buf, len, "nft.pass_size=%u\n", c->nft.pass_size);
	cat(buf, len, "nft.deny_size=%u\n", c->nft.deny_size);
	cat(buf, len, "nft.drop_size=%u\n", c->nft.drop_size);
	cat(buf, len, "nft.offend_size=%u\n", c->nft.offend_size);
	cat(buf, len, "nft.retry_size=%u\n", c->nft.retry_size);
	conf_dump_sniffer(&c->sniffer, buf, len);
	cat(buf, len, "journal.file=%s\n", c->journal.file);
	cat(buf, len, "journal.retention_s=%u\n", c->journal.retention_s);
	cat(buf, len, "journal.max_size=%llu\n",
	    (unsigned long long)c->journal.max_size);
	cat(buf, len, "journal.queue=%u\n", c->journal.queue);
}

static char *
write_temp(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static const char golden_defaults[] =
    "dns.servers=\n"
    "dns.timeout_ms=1000\n"
    "dns.tries=2\n"
    "gate.queue=0\n"
    "gate.queue_maxlen=32768\n"
    "gate.ports=25\n"
    "gate.no_ptr=tempfail\n"
    "gate.invalid_ptr=tempfail\n"
    "gate.generic_ptr=reject\n"
    "gate.static_ptr=log\n"
    "gate.fcrdns=log\n"
    "gate.dnsbl=reject\n"
    "gate.dns_error=accept\n"
    "gate.dnsbl_sites= (zones 0)\n"
    "gate.dnsbl_threshold=1\n"
    "gate.dnsbl_allow_threshold=0\n"
    "gate.deadline_ms=2500\n"
    "gate.pass_ttl_s=3600\n"
    "gate.deny_ttl_s=900\n"
    "gate.max_pending=20000\n"
    "gate.fcrdns_max_names=4\n"
    "gate.dns_concurrency=64\n"
    "gate.lookup_burst=256\n"
    "gate.lookup_rate=4\n"
    "gate.cache_v6_network=1\n"
    "gate.trusted=\n"
    "gate.ptr_providers=\n"
    "gate.ptr_providers_mode=extend\n"
    "gate.control_socket=/run/smtpgate/smtpgated.sock\n"
    "gate.retry_min_s=300\n"
    "gate.retry_window_s=86400\n"
    "gate.retry_key=prefix\n"
    "gate.retry_prefix4=24\n"
    "gate.retry_prefix6=64\n"
    "gate.reply_smtp=0\n"
    "gate.reply_port=7025\n"
    "gate.reply_max_conns=256\n"
    "gate.reply_timeout_s=10\n"
    "gate.reply_url=\n"
    "gate.reply_text[0]=is listed in a DNS blocklist\n"
    "gate.reply_text[1]=has no PTR record\n"
    "gate.reply_text[2]=has a PTR record that is no host name\n"
    "gate.reply_text[3]=has a generic PTR name of an access network\n"
    "gate.reply_text[4]=has a PTR name of a static end-user address\n"
    "gate.reply_text[5]=has no PTR name that resolves back to it\n"
    "gate.reply_text[6]=could not be looked up in the DNS\n"
    "gate.reply_text[7]=broke SMTP rules (forged HELO or protocol abuse)\n"
    "nft.table=smtpgate\n"
    "nft.allow_file=" SYSCONFDIR "/smtpgate/allow.list\n"
    "nft.pass_size=65536\n"
    "nft.deny_size=65536\n"
    "nft.drop_size=65536\n"
    "nft.offend_size=65536\n"
    "nft.retry_size=65536\n"
    "sniffer.queue=1\n"
    "sniffer.queue_maxlen=4096\n"
    "sniffer.packets=24\n"
    "sniffer.max_flows=65536\n"
    "sniffer.flow_idle_s=120\n"
    "sniffer.deadline_ms=5000\n"
    "sniffer.clean_ttl_s=600\n"
    "sniffer.spf_workers=4\n"
    "sniffer.spf_max_per_client=6\n"
    "sniffer.spf_user=dynamic\n"
    "sniffer.my_hostnames=\n"
    "sniffer.my_addresses=\n"
    "sniffer.unqualified=offend\n"
    "sniffer.own-name=offend\n"
    "sniffer.own-address=offend\n"
    "sniffer.bare-ip=offend\n"
    "sniffer.address-literal=offend\n"
    "sniffer.bad-syntax=offend\n"
    "sniffer.provider-domain=offend\n"
    "sniffer.spf-fail=offend\n"
    "sniffer.spf-ptr-fail=offend\n"
    "sniffer.no-domain=offend\n"
    "sniffer.helo-no-resolve=log\n"
    "sniffer.helo-mismatch=log\n"
    "sniffer.no-ptr-far=offend\n"
    "sniffer.mail-from-no-domain=offend\n"
    "sniffer.pregreet=log\n"
    "sniffer.trickle=offend\n"
    "sniffer.pipelining=log\n"
    "sniffer.non-smtp=log\n"
    "sniffer.bare-lf=log\n"
    "sniffer.spf_softfail_fails=1\n"
    "sniffer.spf_neutral_fails=1\n"
    "sniffer.provider_domains=gmail.com googlemail.com google.com "
    "hotmail.com outlook.com live.com msn.com microsoft.com yahoo.com "
    "yahoo.co.uk ymail.com aol.com icloud.com me.com mail.ru yandex.ru "
    "gmx.de gmx.net web.de qq.com 163.com 126.com comcast.net "
    "protonmail.com proton.me zoho.com amazon.com facebook.com apple.com "
    "paypal.com\n"
    "sniffer.offender_strikes=2\n"
    "sniffer.offender_window_s=3600\n"
    "sniffer.offender_timeout_s=3600\n"
    "sniffer.offender_timeout_max_s=604800\n"
    "sniffer.cut_session=0\n"
    "sniffer.state_file=/var/lib/smtpgate/sniffer.state\n"
    "sniffer.state_save_interval_s=60\n"
    "sniffer.control_socket=/run/smtpgate/sniffd.sock\n"
    "sniffer.reply_smtp=0\n"
    "journal.file=/var/lib/smtpgate/journal.db\n"
    "journal.retention_s=16416000\n"
    "journal.max_size=1073741824\n"
    "journal.queue=8192\n";

/* ---- good texts ---- */

struct good_case {
	const char *name;
	const char *text;
	const char *want[4];	/* lines that must be in the dump */
};

static const struct good_case good_cases[] = {
	{ "empty file", "", { "gate.ports=25\n" } },
	{ "comments only", "; one\n# two\n\n   ; three\n", { "dns.tries=2\n" } },
	{ "empty section", "[gate]\n", { "gate.queue=0\n" } },
	/* [journal] */
	{ "journal off", "[journal]\nfile =\n", { "journal.file=\n" } },
	{ "journal keys", "[journal]\nfile = /tmp/j.db\nretention = 30d\n"
	    "max_size = 512M\nqueue = 100\n", { "journal.file=/tmp/j.db\n",
	    "journal.retention_s=2592000\n", "journal.max_size=536870912\n",
	    "journal.queue=100\n" } },
	{ "journal max_size bytes, G, k", "[journal]\nmax_size = 2G\n",
	    { "journal.max_size=2147483648\n" } },
	{ "journal max_size plain", "[journal]\nmax_size = 1048576\n",
	    { "journal.max_size=1048576\n" } },
	/* [dns] */
	{ "resolvers v4", "[dns]\nresolvers = 127.0.0.1\n",
	    { "dns.servers=127.0.0.1:53\n" } },
	{ "resolvers mixed", "[dns]\nresolvers = 127.0.0.1:5353, [::1]:53 ::1\n",
	    { "dns.servers=127.0.0.1:5353,[::1]:53,[::1]:53\n" } },
	{ "resolvers mapped", "[dns]\nresolvers = [::ffff:192.0.2.1]:54\n",
	    { "dns.servers=192.0.2.1:54\n" } },
	{ "resolvers bracket no port", "[dns]\nresolvers = [2001:db8::1]\n",
	    { "dns.servers=[2001:db8::1]:53\n" } },
	{ "resolvers empty", "[dns]\nresolvers =\n", { "dns.servers=\n" } },
	{ "resolvers continued", "[dns]\nresolvers = 192.0.2.1\n"
	    "  192.0.2.2 ; second\n\n\t192.0.2.3\n",
	    { "dns.servers=192.0.2.1:53,192.0.2.2:53,192.0.2.3:53\n" } },
	{ "timeout_ms min", "[dns]\ntimeout_ms = 50\n",
	    { "dns.timeout_ms=50\n" } },
	{ "timeout_ms max", "[dns]\ntimeout_ms = 30000\n",
	    { "dns.timeout_ms=30000\n" } },
	{ "tries", "[dns]\ntries = 10\n", { "dns.tries=10\n" } },
	/* [sniffer] */
	{ "sniffer queue and bounds", "[sniffer]\nqueue = 7\npackets = 3\n"
	    "max_flows = 16\nflow_idle = 5m\n",
	    { "sniffer.queue=7\n", "sniffer.packets=3\n",
	    "sniffer.max_flows=16\n", "sniffer.flow_idle_s=300\n" } },
	{ "sniffer rules off", "[sniffer]\npackets = 0\n",
	    { "sniffer.packets=0\n" } },
	{ "sniffer clean cache off", "[sniffer]\nclean_ttl = 0\n",
	    { "sniffer.clean_ttl_s=0\n" } },
	{ "sniffer trickle logged", "[sniffer]\ntrickle = log\n",
	    { "sniffer.trickle=log\n" } },
	{ "sniffer trickle off", "[sniffer]\ntrickle = off\n",
	    { "sniffer.trickle=off\n" } },
	{ "sniffer protocol tests", "[sniffer]\npregreet = offend\n"
	    "pipelining = offend\nnon_smtp = off\nbare_lf = offend\n",
	    { "sniffer.pregreet=offend\n", "sniffer.pipelining=offend\n",
	    "sniffer.non-smtp=off\n", "sniffer.bare-lf=offend\n" } },
	{ "sniffer state saved every 5 minutes",
	    "[sniffer]\nstate_save_interval = 5m\n",
	    { "sniffer.state_save_interval_s=300\n" } },
	{ "sniffer my names", "[sniffer]\nmy_hostnames = MX.Example.org. "
	    "gw.example.org\nmy_addresses = 192.0.2.1, ::ffff:192.0.2.2\n"
	    "  2001:db8::1\n",
	    { "sniffer.my_hostnames=mx.example.org gw.example.org\n",
	    "sniffer.my_addresses=192.0.2.1 192.0.2.2 2001:db8::1\n" } },
	{ "sniffer rule actions", "[sniffer]\nunqualified = log\n"
	    "helo_mismatch = offend\nspf_ptr_fail = off\n"
	    "mail_from_no_domain = log\n",
	    { "sniffer.unqualified=log\n", "sniffer.helo-mismatch=offend\n",
	    "sniffer.spf-ptr-fail=off\n",
	    "sniffer.mail-from-no-domain=log\n" } },
	{ "sniffer spf and providers", "[sniffer]\nspf_softfail_fails = no\n"
	    "spf_neutral_fails = false\nprovider_domains = example.com "
	    "example.co.uk\n",
	    { "sniffer.spf_softfail_fails=0\n",
	    "sniffer.spf_neutral_fails=0\n",
	    "sniffer.provider_domains=example.com example.co.uk\n" } },
	{ "sniffer bans", "[sniffer]\noffender_strikes = 3\n"
	    "offender_window = 2h\noffender_timeout = 30m\n"
	    "offender_timeout_max = 30d\n",
	    { "sniffer.offender_strikes=3\n",
	    "sniffer.offender_window_s=7200\n",
	    "sniffer.offender_timeout_s=1800\n",
	    "sniffer.offender_timeout_max_s=2592000\n" } },
	{ "sniffer cut_session", "[sniffer]\ncut_session = yes\n",
	    { "sniffer.cut_session=1\n" } },
	{ "sniffer SPF helpers", "[sniffer]\nspf_workers = 32\n"
	    "spf_max_per_client = 1\nspf_user = smtpgate-spf\n",
	    { "sniffer.spf_workers=32\n", "sniffer.spf_max_per_client=1\n",
	    "sniffer.spf_user=smtpgate-spf\n" } },
	{ "sniffer paths", "[sniffer]\nstate_file = /tmp/s.state\n"
	    "control_socket = /tmp/s.sock\n",
	    { "sniffer.state_file=/tmp/s.state\n",
	    "sniffer.control_socket=/tmp/s.sock\n" } },
	/* [gate] */
	{ "queue max", "[gate]\nqueue = 65535\n", { "gate.queue=65535\n" } },
	{ "queue_maxlen", "[gate]\nqueue_maxlen = 1\n",
	    { "gate.queue_maxlen=1\n" } },
	{ "ports", "[gate]\nports = 25 2525, 10025\n",
	    { "gate.ports=25 2525 10025\n" } },
	{ "ports 16", "[gate]\nports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	    { "gate.ports=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" } },
	{ "actions", "[gate]\nno_ptr = drop\ngeneric_ptr = log\n"
	    "static_ptr = off\nfcrdns = reject\n",
	    { "gate.no_ptr=drop\n", "gate.generic_ptr=log\n",
	    "gate.static_ptr=off\n", "gate.fcrdns=reject\n" } },
	{ "invalid_ptr follows no_ptr when unset", "[gate]\nno_ptr = drop\n",
	    { "gate.no_ptr=drop\n", "gate.invalid_ptr=drop\n" } },
	{ "invalid_ptr follows no_ptr set after it", "[gate]\nno_ptr = log\n"
	    "[dns]\ntries = 1\n", { "gate.invalid_ptr=log\n" } },
	{ "invalid_ptr of its own", "[gate]\ninvalid_ptr = log\n"
	    "no_ptr = drop\n",
	    { "gate.no_ptr=drop\n", "gate.invalid_ptr=log\n" } },
	{ "invalid_ptr off", "[gate]\ninvalid_ptr = off\n",
	    { "gate.no_ptr=tempfail\n", "gate.invalid_ptr=off\n" } },
	{ "dnsbl off", "[gate]\ndnsbl = off\n", { "gate.dnsbl=off\n" } },
	{ "dns_error drop", "[gate]\ndns_error = drop\n",
	    { "gate.dns_error=drop\n" } },
	{ "dns_error reject", "[gate]\ndns_error = reject\n",
	    { "gate.dns_error=reject\n" } },
	{ "dnsbl_sites", "[gate]\ndnsbl_sites = zen.spamhaus.org="
	    "127.0.0.[2..11]*3 bl.example.net*2\n",
	    { "gate.dnsbl_sites=zen.spamhaus.org=127.0.0.[2..11]*3 "
	    "bl.example.net*2 (zones 2)\n" } },
	{ "dnsbl_sites continued", "[gate]\ndnsbl_sites =\n"
	    "  list.dnswl.org=127.0.[0..255].0*-2\n"
	    "  list.dnswl.org=127.0.[0..255].[1;2;3]*-3 ; semicolon list\n",
	    { "gate.dnsbl_sites=list.dnswl.org=127.0.[0..255].0*-2 "
	    "list.dnswl.org=127.0.[0..255].[1;2;3]*-3 (zones 1)\n" } },
	{ "dnsbl_threshold", "[gate]\ndnsbl_threshold = 3\n",
	    { "gate.dnsbl_threshold=3\n" } },
	{ "dnsbl_allow_threshold", "[gate]\ndnsbl_allow_threshold = -2\n",
	    { "gate.dnsbl_allow_threshold=-2\n" } },
	{ "deadline_ms", "[gate]\ndeadline_ms = 100\n",
	    { "gate.deadline_ms=100\n" } },
	{ "pass_ttl plain", "[gate]\npass_ttl = 7200\n",
	    { "gate.pass_ttl_s=7200\n" } },
	{ "pass_ttl s", "[gate]\npass_ttl = 30s\n", { "gate.pass_ttl_s=30\n" } },
	{ "pass_ttl m", "[gate]\npass_ttl = 15m\n", { "gate.pass_ttl_s=900\n" } },
	{ "pass_ttl h", "[gate]\npass_ttl = 1h\n", { "gate.pass_ttl_s=3600\n" } },
	{ "pass_ttl d", "[gate]\npass_ttl = 2d\n",
	    { "gate.pass_ttl_s=172800\n" } },
	{ "pass_ttl 30d", "[gate]\npass_ttl = 30d\n",
	    { "gate.pass_ttl_s=2592000\n" } },
	{ "deny_ttl", "[gate]\ndeny_ttl = 15m\n", { "gate.deny_ttl_s=900\n" } },
	{ "pass_ttl w", "[gate]\npass_ttl = 2w\n",
	    { "gate.pass_ttl_s=1209600\n" } },
	/* cross-key rules that hold */
	{ "queues of their own", "[gate]\nqueue = 3\n[sniffer]\nqueue = 4\n",
	    { "gate.queue=3\n", "sniffer.queue=4\n" } },
	{ "queues swapped", "[gate]\nqueue = 1\n[sniffer]\nqueue = 0\n",
	    { "gate.queue=1\n", "sniffer.queue=0\n" } },
	{ "offender_timeout at its maximum", "[sniffer]\noffender_timeout = "
	    "2h\noffender_timeout_max = 2h\n",
	    { "sniffer.offender_timeout_s=7200\n",
	    "sniffer.offender_timeout_max_s=7200\n" } },
	{ "max_pending", "[gate]\nmax_pending = 1\n",
	    { "gate.max_pending=1\n" } },
	{ "fcrdns_max_names", "[gate]\nfcrdns_max_names = 8\n",
	    { "gate.fcrdns_max_names=8\n" } },
	{ "dns_concurrency", "[gate]\ndns_concurrency = 1\n",
	    { "gate.dns_concurrency=1\n" } },
	{ "dns_concurrency max", "[gate]\ndns_concurrency = 65536\n",
	    { "gate.dns_concurrency=65536\n" } },
	{ "lookup_burst off", "[gate]\nlookup_burst = 0\n",
	    { "gate.lookup_burst=0\n" } },
	{ "lookup burst and rate", "[gate]\nlookup_burst = 5\n"
	    "lookup_rate = 1\n",
	    { "gate.lookup_burst=5\n", "gate.lookup_rate=1\n" } },
	{ "cache_v6_network no", "[gate]\ncache_v6_network = no\n",
	    { "gate.cache_v6_network=0\n" } },
	{ "trusted_networks", "[gate]\ntrusted_networks = 192.0.2.0/24, "
	    "2001:db8::/32 198.51.100.7\n",
	    { "gate.trusted=192.0.2.0/24 2001:db8::/32 198.51.100.7/32\n" } },
	{ "ptr_providers", "[gate]\nptr_providers = /etc/smtpgate/ptr.conf\n",
	    { "gate.ptr_providers=/etc/smtpgate/ptr.conf\n",
	    "gate.ptr_providers_mode=extend\n" } },
	{ "ptr_providers replace", "[gate]\nptr_providers_mode = replace\n"
	    "ptr_providers = /etc/smtpgate/ptr.conf\n",
	    { "gate.ptr_providers=/etc/smtpgate/ptr.conf\n",
	    "gate.ptr_providers_mode=replace\n" } },
	{ "ptr_providers extend said", "[gate]\nptr_providers_mode = extend\n",
	    { "gate.ptr_providers=\n", "gate.ptr_providers_mode=extend\n" } },
	{ "tempfail for the PTR rules", "[gate]\nno_ptr = tempfail\n"
	    "generic_ptr = tempfail\nstatic_ptr = tempfail\n",
	    { "gate.no_ptr=tempfail\n", "gate.invalid_ptr=tempfail\n",
	    "gate.generic_ptr=tempfail\n", "gate.static_ptr=tempfail\n" } },
	{ "tempfail for the other rules", "[gate]\nfcrdns = tempfail\n"
	    "dnsbl = tempfail\ndns_error = tempfail\n",
	    { "gate.fcrdns=tempfail\n", "gate.dnsbl=tempfail\n",
	    "gate.dns_error=tempfail\n" } },
	{ "no_ptr reject: invalid_ptr follows", "[gate]\nno_ptr = reject\n",
	    { "gate.no_ptr=reject\n", "gate.invalid_ptr=reject\n" } },
	{ "retry times", "[gate]\nretry_min = 5s\nretry_window = 1h\n",
	    { "gate.retry_min_s=5\n", "gate.retry_window_s=3600\n" } },
	{ "retry key", "[gate]\nretry_key = address\nretry_prefix4 = 28\n"
	    "retry_prefix6 = 56\n",
	    { "gate.retry_key=address\n", "gate.retry_prefix4=28\n",
	    "gate.retry_prefix6=56\n" } },
	/* [nft] */
	{ "table", "[nft]\ntable = Sg_2\n", { "nft.table=Sg_2\n" } },
	{ "retry_size", "[nft]\nretry_size = 100\n",
	    { "nft.retry_size=100\n" } },
	{ "set sizes", "[nft]\npass_size = 1\ndeny_size = 2\n"
	    "drop_size = 3\noffend_size = 16777216\n",
	    { "nft.pass_size=1\n", "nft.deny_size=2\n", "nft.drop_size=3\n",
	    "nft.offend_size=16777216\n" } },
	/* syntax */
	{ "colon separator", "[gate]\nqueue: 7\n", { "gate.queue=7\n" } },
	{ "no spaces", "[gate]\nqueue=8\n", { "gate.queue=8\n" } },
	{ "inline comment", "[gate]\nqueue = 9 ; nine\n", { "gate.queue=9\n" } },
	{ "semicolon without space", "[gate]\ndnsbl_sites = "
	    "a.example=127.0.0.[2;4]\n",
	    { "gate.dnsbl_sites=a.example=127.0.0.[2;4] (zones 1)\n" } },
	{ "crlf", "[gate]\r\nqueue = 10\r\n", { "gate.queue=10\n" } },
	{ "bom", "\xef\xbb\xbf[gate]\nqueue = 11\n", { "gate.queue=11\n" } },
	{ "no final newline", "[gate]\nqueue = 12", { "gate.queue=12\n" } },
	{ "section repeated", "[gate]\nqueue = 13\n[dns]\ntries = 3\n[gate]\n"
	    "no_ptr = log\n", { "gate.queue=13\n", "dns.tries=3\n",
	    "gate.no_ptr=log\n" } },
	{ "section comment", "[gate] ; the gate\nqueue = 14\n",
	    { "gate.queue=14\n" } },
	{ "indented key after header", "[gate]\n  queue = 15\n",
	    { "gate.queue=15\n" } },
	/* refusals that say why (reply.h) */
	{ "reply smtp", "[gate]\nreply = smtp\nreply_port = 9000\n"
	    "reply_max_conns = 10\nreply_timeout = 1m\n",
	    { "gate.reply_smtp=1\n", "gate.reply_port=9000\n",
	    "gate.reply_max_conns=10\n", "gate.reply_timeout_s=60\n" } },
	{ "reply texts", "[gate]\nreply_url = https://mx.example/why\n"
	    "reply_text_no_ptr = needs a PTR record; ask your ISP\n"
	    "[sniffer]\nreply = smtp\n",
	    { "gate.reply_url=https://mx.example/why\n",
	    "gate.reply_text[1]=needs a PTR record; ask your ISP\n",
	    "sniffer.reply_smtp=1\n" } },
	{ "reply_port last", "[gate]\nreply_port = 65520\n",
	    { "gate.reply_port=65520\n" } },
	{ "198 character line", "[gate]\nptr_providers = /"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    { "gate.ptr_providers=/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" } },
};

static void
test_good(void **state)
{
	const struct good_case *c = *state;
	char err[CONF_ERR_MAX] = "", dump[8192];
	struct conf *conf = &conf_a;
	char *path;
	int rc;

	path = write_temp(c->text, strlen(c->text));
	rc = conf_load(path, conf, err, sizeof err);
	unlink(path);
	if (rc != 0)
		fail_msg("conf_load(%s): got \"%s\", want success", c->name, err);
	assert_string_equal(conf->path, path);
	conf_dump(conf, dump, sizeof dump);
	for (size_t i = 0; i < 4 && c->want[i] != NULL; i++)
		if (strstr(dump, c->want[i]) == NULL)
			fail_msg("conf_load(%s): want line \"%s\" in:\n%s",
			    c->name, c->want[i], dump);
}

/* ---- bad texts ---- */

struct bad_case {
	const char *name;
	const char *text;
	const char *want;	/* exact message; %s is the file's path */
};

#define LONG200 \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

#define V6S "[2001:db8:1234:5678:9abc:def0:1234:5678]:53 "
#define V6LINE "  " V6S V6S V6S V6S "\n"

static const struct bad_case bad_cases[] = {
	/* the verdict journal */
	{ "journal max_size small", "[journal]\nmax_size = 512K\n",
	    "%s:2: [journal] max_size: '512K' out of range (want 1M..1024G)" },
	{ "journal max_size large", "[journal]\nmax_size = 2T\n",
	    "%s:2: [journal] max_size: '2T' out of range (want 1M..1024G)" },
	{ "journal max_size word", "[journal]\nmax_size = big\n",
	    "%s:2: [journal] max_size: 'big' is no size (want a number of "
	    "bytes, with K, M, G or T)" },
	{ "journal retention short", "[journal]\nretention = 10m\n",
	    "%s:2: [journal] retention: '10m' out of range 1h..3650d" },
	{ "journal queue 0", "[journal]\nqueue = 0\n",
	    "%s:2: [journal] queue: '0' out of range 16..1048576" },
	/* refusals that say why (reply.h) */
	{ "reply word", "[gate]\nreply = 554\n",
	    "%s:2: [gate] reply: '554': want reset or smtp" },
	{ "reply_port low", "[gate]\nreply_port = 25\n",
	    "%s:2: [gate] reply_port: '25' out of range 1024..65520" },
	{ "reply_port past the end", "[gate]\nreply_port = 65521\n",
	    "%s:2: [gate] reply_port: '65521' out of range 1024..65520" },
	{ "reply text empty", "[gate]\nreply_text_fcrdns =\n",
	    "%s:2: [gate] reply_text_fcrdns: empty text" },
	{ "reply text control byte", "[gate]\nreply_text_dnsbl = a\tb\n",
	    "%s:2: [gate] reply_text_dnsbl: byte 0x09 at 2: want printable "
	    "ASCII" },
	{ "reply text too long", "[gate]\nreply_text_dnsbl = "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	    "%s:2: [gate] reply_text_dnsbl: longer than 159 characters" },
	{ "reply_url scheme", "[gate]\nreply_url = ftp://x.example/\n",
	    "%s:2: [gate] reply_url: 'ftp://x.example/': want an http:// or "
	    "https:// URL" },
	{ "reply ports overlap a gated port", "[gate]\nports = 25, 7030\n",
	    "%s:2: [gate] ports: gated port 7030 is one of the responder's "
	    "ports 7025-7040" },
	{ "sniffer reply word", "[sniffer]\nreply = yes\n",
	    "%s:2: [sniffer] reply: 'yes': want reset or smtp" },
	/* [sniffer] */
	{ "sniffer no SPF worker", "[sniffer]\nspf_workers = 0\n",
	    "%s:2: [sniffer] spf_workers: '0' out of range 1..32" },
	{ "sniffer too many SPF workers", "[sniffer]\nspf_workers = 33\n",
	    "%s:2: [sniffer] spf_workers: '33' out of range 1..32" },
	{ "sniffer SPF helpers as root", "[sniffer]\nspf_user = root\n",
	    "%s:2: [sniffer] spf_user: 'root': the SPF helpers never run as "
	    "root" },
	{ "sniffer SPF user name", "[sniffer]\nspf_user = 9lives\n",
	    "%s:2: [sniffer] spf_user: '9lives': a user name is lower-case "
	    "letters, digits, '_' and '-', not starting with a digit or '-'" },
	{ "sniffer action reject not allowed", "[sniffer]\nunqualified = "
	    "reject\n", "%s:2: [sniffer] unqualified: action 'reject' not "
	    "allowed here (want offend, log or off)" },
	{ "gate action offend not allowed", "[gate]\nno_ptr = offend\n",
	    "%s:2: [gate] no_ptr: action 'offend' not allowed here (want "
	    "reject, tempfail, drop, log or off)" },
	{ "invalid_ptr accept not allowed", "[gate]\ninvalid_ptr = accept\n",
	    "%s:2: [gate] invalid_ptr: action 'accept' not allowed here (want "
	    "reject, tempfail, drop, log or off)" },
	{ "ptr_providers_mode word", "[gate]\nptr_providers_mode = merge\n",
	    "%s:2: [gate] ptr_providers_mode: 'merge': want extend or "
	    "replace" },
	{ "ptr_providers_mode replace without a file", "[gate]\nno_ptr = log\n"
	    "ptr_providers_mode = replace\n",
	    "%s:3: [gate] ptr_providers_mode: replace needs a ptr_providers "
	    "file (the built-in table would be replaced by nothing)" },
	{ "sniffer pregreet ban is no action", "[sniffer]\npregreet = ban\n",
	    "%s:2: [sniffer] pregreet: unknown action 'ban' (want offend, log "
	    "or off)" },
	{ "sniffer non_smtp reject not allowed", "[sniffer]\nnon_smtp = "
	    "reject\n", "%s:2: [sniffer] non_smtp: action 'reject' not "
	    "allowed here (want offend, log or off)" },
	{ "sniffer trickle reject not allowed", "[sniffer]\ntrickle = "
	    "reject\n", "%s:2: [sniffer] trickle: action 'reject' not "
	    "allowed here (want offend, log or off)" },
	{ "sniffer state_save_interval 0", "[sniffer]\n"
	    "state_save_interval = 0\n", "%s:2: [sniffer] "
	    "state_save_interval: '0' out of range 1s..1d" },
	{ "sniffer state_save_interval over a day", "[sniffer]\n"
	    "state_save_interval = 2d\n", "%s:2: [sniffer] "
	    "state_save_interval: '2d' out of range 1s..1d" },
	{ "sniffer bad host name", "[sniffer]\nmy_hostnames = mx..example\n",
	    "%s:2: [sniffer] my_hostnames: 'mx..example': empty label" },
	{ "sniffer host name characters", "[sniffer]\nmy_hostnames = mx_1\n",
	    "%s:2: [sniffer] my_hostnames: 'mx_1': not a host name" },
	{ "sniffer bad address", "[sniffer]\nmy_addresses = 192.0.2\n",
	    "%s:2: [sniffer] my_addresses: '192.0.2': not an address" },
	{ "sniffer provider without dot", "[sniffer]\nprovider_domains = "
	    "gmail\n", "%s:2: [sniffer] provider_domains: 'gmail': want a "
	    "domain with a dot" },
	{ "sniffer bool", "[sniffer]\nspf_neutral_fails = maybe\n",
	    "%s:2: [sniffer] spf_neutral_fails: 'maybe' is not yes or no" },
	{ "sniffer packets too few", "[sniffer]\npackets = 2\n",
	    "%s:2: [sniffer] packets: 2: want 0 (no sniffer rules) or "
	    "3..1000" },
	{ "sniffer packets too many", "[sniffer]\npackets = 1001\n",
	    "%s:2: [sniffer] packets: '1001' out of range 0..1000" },
	{ "sniffer strikes zero", "[sniffer]\noffender_strikes = 0\n",
	    "%s:2: [sniffer] offender_strikes: '0' out of range 1..1000" },
	/* cross-key rules: the line of the key that breaks them */
	{ "queues equal, sniffer's set", "[sniffer]\nqueue = 0\n",
	    "%s:2: [sniffer] queue: 0 is [gate] queue too (the gate and the "
	    "sniffer need a queue each)" },
	{ "queues equal, gate's set", "[gate]\nqueue = 1\n",
	    "%s:2: [gate] queue: 1 is [sniffer] queue too (the gate and the "
	    "sniffer need a queue each)" },
	{ "queues equal, sniffer's later", "[gate]\nqueue = 5\n[sniffer]\n"
	    "queue = 5\n",
	    "%s:4: [sniffer] queue: 5 is [gate] queue too (the gate and the "
	    "sniffer need a queue each)" },
	{ "queues equal, gate's later", "[sniffer]\nqueue = 5\n[gate]\n"
	    "no_ptr = log\nqueue = 5\n",
	    "%s:5: [gate] queue: 5 is [sniffer] queue too (the gate and the "
	    "sniffer need a queue each)" },
	{ "hold queue is the sniffer's", "[sniffer]\nbanner_hold_ms = 1500\n"
	    "hold_queue = 1\n",
	    "%s:3: [sniffer] hold_queue: hold_queue 1 is [sniffer] queue too "
	    "(the held banners need a queue of their own)" },
	{ "hold queue is the gate's, by default", "[gate]\nqueue = 2\n"
	    "[sniffer]\nbanner_hold_ms = 1500\n",
	    "%s:4: [sniffer] banner_hold_ms: hold_queue 2 is [gate] queue too "
	    "(the held banners need a queue of their own)" },
	{ "banner hold too long", "[sniffer]\nbanner_hold_ms = 10001\n",
	    "%s:2: [sniffer] banner_hold_ms: '10001' out of range 0..10000" },
	{ "offender_timeout over the default maximum", "[sniffer]\n"
	    "offender_timeout = 8d\n",
	    "%s:2: [sniffer] offender_timeout: 8d is longer than "
	    "offender_timeout_max (7d)" },
	{ "offender_timeout_max under the default timeout", "[sniffer]\n"
	    "offender_timeout_max = 30m\n",
	    "%s:2: [sniffer] offender_timeout_max: 30m is shorter than "
	    "offender_timeout (1h)" },
	{ "offender_timeout set after its maximum", "[sniffer]\n"
	    "offender_timeout_max = 2h\noffender_timeout = 3h\n",
	    "%s:3: [sniffer] offender_timeout: 3h is longer than "
	    "offender_timeout_max (2h)" },
	{ "two cross-key faults: the earlier line", "[sniffer]\n"
	    "offender_timeout_max = 30m\nqueue = 0\n",
	    "%s:2: [sniffer] offender_timeout_max: 30m is shorter than "
	    "offender_timeout (1h)" },
	{ "retry_min as long as the window", "[gate]\nretry_min = 1d\n",
	    "%s:2: [gate] retry_min: 1d is not shorter than retry_window "
	    "(1d): no retry could pass" },
	{ "retry_window under retry_min", "[gate]\nretry_min = 10m\n"
	    "retry_window = 5m\n",
	    "%s:3: [gate] retry_window: 5m is not longer than retry_min "
	    "(10m): no retry could pass" },
	{ "retry_key word", "[gate]\nretry_key = net\n",
	    "%s:2: [gate] retry_key: 'net': want address or prefix" },
	{ "retry_prefix4 too long", "[gate]\nretry_prefix4 = 33\n",
	    "%s:2: [gate] retry_prefix4: '33' out of range 8..32" },
	{ "tempfail not for the sniffer", "[sniffer]\nbare_ip = tempfail\n",
	    "%s:2: [sniffer] bare_ip: action 'tempfail' not allowed here "
	    "(want offend, log or off)" },
	{ "a key's own fault before any cross-key rule", "[sniffer]\n"
	    "queue = 0\nspf_workers = 0\n",
	    "%s:3: [sniffer] spf_workers: '0' out of range 1..32" },
	/* structure */
	{ "unknown section", "[foo]\n", "%s:1: unknown section [foo]" },
	{ "unknown section later", "[gate]\nqueue = 1\n\n[snifer]\nx = 1\n",
	    "%s:4: unknown section [snifer]" },
	{ "junk after header", "[gate] x\n",
	    "%s:1: junk after section header [gate]" },
	{ "unknown key", "[gate]\n; comment\nnoptr = log\n",
	    "%s:3: [gate] noptr: unknown key" },
	{ "key in wrong section", "[dns]\nqueue = 1\n",
	    "%s:2: [dns] queue: unknown key" },
	{ "key outside section", "queue = 1\n",
	    "%s:1: queue: key outside any section" },
	{ "duplicate key", "[gate]\nqueue = 1\n\nqueue = 2\n",
	    "%s:4: [gate] queue: duplicate key (first set on line 2)" },
	{ "duplicate across sections", "[gate]\nno_ptr = log\n[dns]\n"
	    "tries = 1\n[gate]\nno_ptr = log\n",
	    "%s:6: [gate] no_ptr: duplicate key (first set on line 2)" },
	{ "duplicate list key", "[gate]\nports = 25\nports = 26\n",
	    "%s:3: [gate] ports: duplicate key (first set on line 2)" },
	{ "syntax no equals", "[gate]\nqueue\n",
	    "%s:2: syntax error (want [section], key = value, or a comment)" },
	{ "syntax before fault", "[gate]\nbogus line\nno_ptr = x\n",
	    "%s:2: syntax error (want [section], key = value, or a comment)" },
	{ "unclosed section", "[gate\n",
	    "%s:1: syntax error (want [section], key = value, or a comment)" },
	{ "long line", "[gate]\n\nptr_providers = /" LONG200 "\n",
	    "%s:3: line longer than 198 characters (continue a list on "
	    "indented lines)" },
	{ "199 character line", "[gate]\nptr_providers = /"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "%s:2: line longer than 198 characters (continue a list on "
	    "indented lines)" },
	{ "long line at end", "[gate]\nqueue = 1\n" LONG200,
	    "%s:3: line longer than 198 characters (continue a list on "
	    "indented lines)" },
	{ "indented scalar", "[gate]\nno_ptr = log\n  no_ptr = drop\n",
	    "%s:3: [gate] no_ptr: indented line continues a value that is not "
	    "a list (do not indent keys)" },
	{ "hash not inline comment", "[gate]\nqueue = 1 # one\n",
	    "%s:2: [gate] queue: '1 # one' is not a number (want 0..65535)" },
	/* [dns] */
	{ "resolvers name", "[dns]\nresolvers = localhost\n",
	    "%s:2: [dns] resolvers: 'localhost': want ADDR, ADDR:PORT or "
	    "[ADDR6]:PORT" },
	{ "resolvers port 0", "[dns]\nresolvers = 127.0.0.1:0\n",
	    "%s:2: [dns] resolvers: '127.0.0.1:0': bad port (want 1..65535)" },
	{ "resolvers port big", "[dns]\nresolvers = [::1]:65536\n",
	    "%s:2: [dns] resolvers: '[::1]:65536': bad port (want 1..65535)" },
	{ "resolvers unclosed", "[dns]\nresolvers = [::1\n",
	    "%s:2: [dns] resolvers: '[::1': want ADDR, ADDR:PORT or "
	    "[ADDR6]:PORT" },
	{ "resolvers junk after bracket", "[dns]\nresolvers = [::1]x\n",
	    "%s:2: [dns] resolvers: '[::1]x': want ADDR, ADDR:PORT or "
	    "[ADDR6]:PORT" },
	{ "resolvers bracketed v4 bad port", "[dns]\nresolvers = 1.2.3.4:\n",
	    "%s:2: [dns] resolvers: '1.2.3.4:': bad port (want 1..65535)" },
	{ "resolvers bad on line 3", "[dns]\nresolvers = 127.0.0.1\n"
	    "  127.0.0.300\n",
	    "%s:3: [dns] resolvers: '127.0.0.300': want ADDR, ADDR:PORT or "
	    "[ADDR6]:PORT" },
	{ "resolvers too many", "[dns]\nresolvers =\n" V6LINE V6LINE V6LINE,
	    "%s:5: [dns] resolvers: too many resolvers (the list must fit in "
	    "511 characters)" },
	{ "timeout_ms low", "[dns]\ntimeout_ms = 49\n",
	    "%s:2: [dns] timeout_ms: '49' out of range 50..30000" },
	{ "timeout_ms high", "[dns]\ntimeout_ms = 30001\n",
	    "%s:2: [dns] timeout_ms: '30001' out of range 50..30000" },
	{ "timeout_ms unit", "[dns]\ntimeout_ms = 1s\n",
	    "%s:2: [dns] timeout_ms: '1s' is not a number (want 50..30000)" },
	{ "timeout_ms empty", "[dns]\ntimeout_ms =\n",
	    "%s:2: [dns] timeout_ms: '' is not a number (want 50..30000)" },
	{ "timeout_ms negative", "[dns]\ntimeout_ms = -5\n",
	    "%s:2: [dns] timeout_ms: '-5' is not a number (want 50..30000)" },
	{ "timeout_ms plus", "[dns]\ntimeout_ms = +500\n",
	    "%s:2: [dns] timeout_ms: '+500' is not a number (want 50..30000)" },
	{ "timeout_ms huge", "[dns]\ntimeout_ms = 99999999999999999999999\n",
	    "%s:2: [dns] timeout_ms: '99999999999999999999999' out of range "
	    "50..30000" },
	{ "tries 0", "[dns]\ntries = 0\n",
	    "%s:2: [dns] tries: '0' out of range 1..10" },
	{ "tries 11", "[dns]\ntries = 11\n",
	    "%s:2: [dns] tries: '11' out of range 1..10" },
	/* [gate] */
	{ "queue 65536", "[gate]\nqueue = 65536\n",
	    "%s:2: [gate] queue: '65536' out of range 0..65535" },
	{ "queue -1", "[gate]\nqueue = -1\n",
	    "%s:2: [gate] queue: '-1' is not a number (want 0..65535)" },
	{ "queue_maxlen 0", "[gate]\nqueue_maxlen = 0\n",
	    "%s:2: [gate] queue_maxlen: '0' out of range 1..1048576" },
	{ "ports 0", "[gate]\nports = 0\n",
	    "%s:2: [gate] ports: '0' is not a port (want 1..65535)" },
	{ "ports 65536", "[gate]\nports = 25 65536\n",
	    "%s:2: [gate] ports: '65536' is not a port (want 1..65535)" },
	{ "ports name", "[gate]\nports = smtp\n",
	    "%s:2: [gate] ports: 'smtp' is not a port (want 1..65535)" },
	{ "ports twice", "[gate]\nports = 25, 25\n",
	    "%s:2: [gate] ports: port 25 listed twice" },
	{ "ports empty", "[gate]\nports =\n",
	    "%s:2: [gate] ports: want at least one port" },
	{ "ports 17", "[gate]\nports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
	    "17\n", "%s:2: [gate] ports: more than 16 ports" },
	{ "ports submission", "[gate]\nports = 25 587\n",
	    "%s:2: [gate] ports: port 587 is submission, never gated (465 and "
	    "587 take authenticated users)" },
	{ "ports submissions on a continuation line", "[gate]\nports = 25\n"
	    "  465\n",
	    "%s:3: [gate] ports: port 465 is submission, never gated (465 and "
	    "587 take authenticated users)" },
	{ "no_ptr typo", "[gate]\nno_ptr = rejct\n",
	    "%s:2: [gate] no_ptr: unknown action 'rejct' (want reject, "
	    "tempfail, drop, log or off)" },
	{ "no_ptr accept", "[gate]\nno_ptr = accept\n",
	    "%s:2: [gate] no_ptr: action 'accept' not allowed here (want "
	    "reject, tempfail, drop, log or off)" },
	{ "no_ptr case", "[gate]\nno_ptr = Reject\n",
	    "%s:2: [gate] no_ptr: unknown action 'Reject' (want reject, "
	    "tempfail, drop, log or off)" },
	{ "generic_ptr bad", "[gate]\ngeneric_ptr = yes\n",
	    "%s:2: [gate] generic_ptr: unknown action 'yes' (want reject, "
	    "tempfail, drop, log or off)" },
	{ "static_ptr bad", "[gate]\nstatic_ptr =\n",
	    "%s:2: [gate] static_ptr: unknown action '' (want reject, "
	    "tempfail, drop, log or off)" },
	{ "fcrdns bad", "[gate]\nfcrdns = accept\n",
	    "%s:2: [gate] fcrdns: action 'accept' not allowed here (want "
	    "reject, tempfail, drop, log or off)" },
	{ "dnsbl bad", "[gate]\ndnsbl = block\n",
	    "%s:2: [gate] dnsbl: unknown action 'block' (want reject, "
	    "tempfail, drop, log or off)" },
	{ "dns_error log", "[gate]\ndns_error = log\n",
	    "%s:2: [gate] dns_error: action 'log' not allowed here (want "
	    "accept, reject, tempfail or drop)" },
	{ "dns_error off", "[gate]\ndns_error = off\n",
	    "%s:2: [gate] dns_error: action 'off' not allowed here (want "
	    "accept, reject, tempfail or drop)" },
	{ "dnsbl_sites bad zone", "[gate]\ndnsbl_sites = zen..example\n",
	    "%s:2: [gate] dnsbl_sites: entry 'zen..example': empty label in "
	    "zone name" },
	{ "dnsbl_sites bad on line 4", "[gate]\ndnsbl_sites = a.example\n"
	    "  b.example\n  c.example=127.0.0.[3..2]\n",
	    "%s:4: [gate] dnsbl_sites: entry 'c.example=127.0.0.[3..2]': filter "
	    "octet 4: range 3..2 is backwards" },
	{ "dnsbl_sites spaced list", "[gate]\ndnsbl_sites = "
	    "a.example=127.0.0.[2; 4]\n",
	    "%s:2: [gate] dnsbl_sites: entry 'a.example=127.0.0.[2;': filter "
	    "octet 4: want a number 0..255 in the list" },
	{ "dnsbl_threshold 0", "[gate]\ndnsbl_threshold = 0\n",
	    "%s:2: [gate] dnsbl_threshold: '0' out of range 1..1000000" },
	{ "dnsbl_threshold -1", "[gate]\ndnsbl_threshold = -1\n",
	    "%s:2: [gate] dnsbl_threshold: '-1' is not a number (want "
	    "1..1000000)" },
	{ "dnsbl_allow_threshold 1", "[gate]\ndnsbl_allow_threshold = 1\n",
	    "%s:2: [gate] dnsbl_allow_threshold: '1' out of range -1000000..0" },
	{ "dnsbl_allow_threshold junk", "[gate]\ndnsbl_allow_threshold = -\n",
	    "%s:2: [gate] dnsbl_allow_threshold: '-' is not a number (want "
	    "-1000000..0)" },
	{ "deadline_ms 99", "[gate]\ndeadline_ms = 99\n",
	    "%s:2: [gate] deadline_ms: '99' out of range 100..60000" },
	{ "deadline_ms 60001", "[gate]\ndeadline_ms = 60001\n",
	    "%s:2: [gate] deadline_ms: '60001' out of range 100..60000" },
	{ "pass_ttl 0", "[gate]\npass_ttl = 0\n",
	    "%s:2: [gate] pass_ttl: '0' out of range 1s..30d" },
	{ "pass_ttl 31d", "[gate]\npass_ttl = 31d\n",
	    "%s:2: [gate] pass_ttl: '31d' out of range 1s..30d" },
	{ "pass_ttl unit", "[gate]\npass_ttl = 15x\n",
	    "%s:2: [gate] pass_ttl: '15x' is not a duration (want seconds, or "
	    "a number with s, m, h, d or w, 1s..30d)" },
	{ "pass_ttl unit only", "[gate]\npass_ttl = m\n",
	    "%s:2: [gate] pass_ttl: 'm' is not a duration (want seconds, or a "
	    "number with s, m, h, d or w, 1s..30d)" },
	{ "pass_ttl fraction", "[gate]\npass_ttl = 1.5h\n",
	    "%s:2: [gate] pass_ttl: '1.5h' is not a duration (want seconds, or "
	    "a number with s, m, h, d or w, 1s..30d)" },
	{ "pass_ttl weeks out of range", "[gate]\npass_ttl = 5w\n",
	    "%s:2: [gate] pass_ttl: '5w' out of range 1s..30d" },
	{ "pass_ttl huge", "[gate]\npass_ttl = 9999999999999d\n",
	    "%s:2: [gate] pass_ttl: '9999999999999d' out of range 1s..30d" },
	{ "deny_ttl space unit", "[gate]\ndeny_ttl = 15 m\n",
	    "%s:2: [gate] deny_ttl: '15 m' is not a duration (want seconds, or "
	    "a number with s, m, h, d or w, 1s..30d)" },
	{ "max_pending 0", "[gate]\nmax_pending = 0\n",
	    "%s:2: [gate] max_pending: '0' out of range 1..1000000" },
	{ "dns_concurrency 0", "[gate]\ndns_concurrency = 0\n",
	    "%s:2: [gate] dns_concurrency: '0' out of range 1..65536" },
	{ "lookup_rate 0", "[gate]\nlookup_rate = 0\n",
	    "%s:2: [gate] lookup_rate: '0' out of range 1..1000000" },
	{ "lookup_burst huge", "[gate]\nlookup_burst = 1000001\n",
	    "%s:2: [gate] lookup_burst: '1000001' out of range 0..1000000" },
	{ "cache_v6_network maybe", "[gate]\ncache_v6_network = maybe\n",
	    "%s:2: [gate] cache_v6_network: 'maybe' is not yes or no" },
	{ "deny_size 0", "[nft]\ndeny_size = 0\n",
	    "%s:2: [nft] deny_size: '0' out of range 1..16777216" },
	{ "pass_size huge", "[nft]\npass_size = 16777217\n",
	    "%s:2: [nft] pass_size: '16777217' out of range 1..16777216" },
	{ "fcrdns_max_names 0", "[gate]\nfcrdns_max_names = 0\n",
	    "%s:2: [gate] fcrdns_max_names: '0' out of range 1..8" },
	{ "fcrdns_max_names 9", "[gate]\nfcrdns_max_names = 9\n",
	    "%s:2: [gate] fcrdns_max_names: '9' out of range 1..8" },
	{ "trusted host bits", "[gate]\ntrusted_networks = 10.0.0.1/8\n",
	    "%s:2: [gate] trusted_networks: '10.0.0.1/8': host bits set" },
	{ "trusted length", "[gate]\ntrusted_networks = 192.0.2.0/24 "
	    "10.0.0.0/33\n",
	    "%s:2: [gate] trusted_networks: '10.0.0.0/33': prefix length" },
	{ "trusted name", "[gate]\ntrusted_networks = mx.example.org\n",
	    "%s:2: [gate] trusted_networks: 'mx.example.org': not an address" },
	{ "ptr_providers empty", "[gate]\nptr_providers =\n",
	    "%s:2: [gate] ptr_providers: empty path" },
	/* [nft] */
	{ "table hyphen", "[nft]\ntable = smtp-gate\n",
	    "%s:2: [nft] table: 'smtp-gate': want letters, digits and '_' only" },
	{ "table empty", "[nft]\ntable =\n",
	    "%s:2: [nft] table: '': want 1..63 characters" },
	{ "table 64", "[nft]\ntable = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "%s:2: [nft] table: "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': "
	    "want 1..63 characters" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	char err[CONF_ERR_MAX] = "", want[CONF_ERR_MAX];
	struct conf *conf = &conf_a, *orig = &conf_b;
	char *path;
	int rc;

	memset(conf, 0x5a, sizeof *conf);
	memcpy(orig, conf, sizeof *conf);
	path = write_temp(c->text, strlen(c->text));
	rc = conf_load(path, conf, err, sizeof err);
	unlink(path);
	snprintf(want, sizeof want, c->want, path);
	if (rc != -1)
		fail_msg("conf_load(%s): got success, want \"%s\"", c->name,
		    want);
	if (strcmp(err, want) != 0)
		fail_msg("conf_load(%s):\n got \"%s\"\nwant \"%s\"", c->name, err,
		    want);
	if (memcmp(conf, orig, sizeof *conf) != 0)
		fail_msg("conf_load(%s) failed but changed *out", c->name);
}

/* ---- single-shot checks ---- */

static void
test_defaults_golden(void **state)
{
	struct conf *c = &conf_a;
	char dump[8192];

	(void)state;
	conf_defaults(c);
	conf_dump(c, dump, sizeof dump);
	assert_string_equal(dump, golden_defaults);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[gate]\nqueue = 1\0 2\n";
	char err[CONF_ERR_MAX], want[CONF_ERR_MAX];
	struct conf *c = &conf_a;
	char *path;

	(void)state;
	path = write_temp(text, sizeof text - 1);
	assert_int_equal(conf_load(path, c, err, sizeof err), -1);
	unlink(path);
	snprintf(want, sizeof want, "%s:2: NUL byte in line", path);
	assert_string_equal(err, want);
}

static void
test_file_errors(void **state)
{
	char err[CONF_ERR_MAX];
	struct conf *c = &conf_a;

	(void)state;
	assert_int_equal(conf_load("/nonexistent/smtpgate.conf", c, err,
	    sizeof err), -1);
	assert_string_equal(err,
	    "/nonexistent/smtpgate.conf: No such file or directory");
	assert_int_equal(conf_load("/tmp", c, err, sizeof err), -1);
	assert_string_equal(err, "/tmp: read: Is a directory");
}

/* The shipped example loads and, as documented, equals the defaults. */
static void
test_example(void **state)
{
	struct conf *c = &conf_a, *d = &conf_b;
	char err[CONF_ERR_MAX] = "", got[8192], want[8192];

	(void)state;
	if (conf_load("docs/smtpgate.conf.example", c, err, sizeof err) != 0)
		fail_msg("docs/smtpgate.conf.example: %s", err);
	conf_defaults(d);
	conf_dump(c, got, sizeof got);
	conf_dump(d, want, sizeof want);
	if (strcmp(got, want) != 0)
		fail_msg("example differs from the defaults:\n got:\n%s\nwant:\n%s",
		    got, want);
}

/*
 * The example's commented-out values are valid too: drop the active empty
 * list keys, uncomment ";key = ..." and ";<TAB>..." lines, and load.
 */
static void
test_example_uncommented(void **state)
{
	static const char *const drop[] = { "resolvers =\n", "dnsbl_sites =\n",
	    "trusted_networks =\n" };
	static char text[32768];
	char line[256], err[CONF_ERR_MAX] = "", dump[8192], *path;
	size_t off = 0, i;
	FILE *f;

	(void)state;
	f = fopen("docs/smtpgate.conf.example", "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		const char *l = line;
		bool skip = false;

		for (i = 0; i < sizeof drop / sizeof drop[0]; i++)
			if (strcmp(line, drop[i]) == 0)
				skip = true;
		if (skip)
			continue;
		if (line[0] == ';' && (line[1] == '\t' ||
		    (line[1] >= 'a' && line[1] <= 'z')))
			l = line + 1;
		assert_true(off + strlen(l) < sizeof text);
		memcpy(text + off, l, strlen(l));
		off += strlen(l);
	}
	fclose(f);
	path = write_temp(text, off);
	if (conf_load(path, &conf_a, err, sizeof err) != 0) {
		unlink(path);
		fail_msg("uncommented example: %s", err);
	}
	unlink(path);
	conf_dump(&conf_a, dump, sizeof dump);
	static const char *const want[] = {
		"dns.servers=127.0.0.1:53,[::1]:53\n",
		"gate.dnsbl_sites=zen.spamhaus.org=127.0.0.[2..11]*3 "
		    "bl.spamcop.net*2 list.dnswl.org=127.0.[0..255].0*-2 "
		    "list.dnswl.org=127.0.[0..255].[1..3]*-4 (zones 3)\n",
		"gate.trusted=192.0.2.0/24 2001:db8::/32\n",
		"gate.ptr_providers=/etc/smtpgate/ptr-providers.local\n",
		"gate.invalid_ptr=tempfail\n",
	};
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if (strstr(dump, want[i]) == NULL)
			fail_msg("uncommented example: want \"%s\" in:\n%s",
			    want[i], dump);
}

static void
test_actions(void **state)
{
	static const struct {
		const char *word;
		enum action a;
	} words[] = {
		{ "off", ACTION_OFF }, { "log", ACTION_LOG },
		{ "accept", ACTION_ACCEPT }, { "drop", ACTION_DROP },
		{ "reject", ACTION_REJECT },
	};
	enum action a;

	(void)state;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		a = (enum action)-1;
		assert_string_equal(action_name(words[i].a), words[i].word);
		assert_int_equal(action_parse(words[i].word, ~0u, &a), 0);
		assert_int_equal(a, words[i].a);
		assert_int_equal(action_parse(words[i].word,
		    ~(1u << words[i].a), &a), -1);
	}
	assert_int_equal(action_parse("", ~0u, &a), -1);
	assert_int_equal(action_parse("rejectx", ~0u, &a), -1);
	assert_string_equal(action_name((enum action)42), "?");
}

struct trust_case {
	const char *name;
	const char *addr;
	bool want;
};

static const struct trust_case trust_cases[] = {
	{ "loopback v4", "127.0.0.1", true },
	{ "loopback v4 other", "127.9.8.7", true },
	{ "loopback v6", "::1", true },
	{ "listed v4", "192.0.2.77", true },
	{ "listed v6", "2001:db8:1::5", true },
	{ "listed host", "198.51.100.7", true },
	{ "mapped listed", "::ffff:192.0.2.1", true },
	{ "not listed v4", "192.0.3.1", false },
	{ "not listed v6", "2001:db9::1", false },
	{ "neighbour host", "198.51.100.8", false },
	{ "v6 ::2", "::2", false },
};

static void
test_trusted(void **state)
{
	static const char text[] = "[gate]\ntrusted_networks = 192.0.2.0/24 "
	    "2001:db8::/32 198.51.100.7\n";
	const struct trust_case *c = *state;
	struct conf *conf = &conf_a;
	char err[CONF_ERR_MAX];
	struct addr a;
	char *path;
	bool got;

	path = write_temp(text, sizeof text - 1);
	assert_int_equal(conf_load(path, conf, err, sizeof err), 0);
	unlink(path);
	assert_int_equal(addr_parse(c->addr, &a), 0);
	got = conf_trusted(&conf->gate, &a);
	if (got != c->want)
		fail_msg("conf_trusted(%s): got %d, want %d", c->addr, got,
		    c->want);
	/* With no trusted networks, only loopback is trusted. */
	conf_defaults(conf);
	got = conf_trusted(&conf->gate, &a);
	if (got != (a.family == AF_INET ? a.b[0] == 127 :
	    strcmp(c->addr, "::1") == 0))
		fail_msg("conf_trusted(defaults, %s): got %d", c->addr, got);
}

int
main(void)
{
	static struct CMUnitTest t[512];
	static char names[512][96];
	size_t n = 0;

	CASES(good_cases, test_good);
	CASES(bad_cases, test_bad);
	CASES(trust_cases, test_trusted);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_defaults_golden);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_nul_byte);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_file_errors);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_example);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_example_uncommented);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_actions);
	return _cmocka_run_group_tests("conf", t, n, NULL, NULL);
}
