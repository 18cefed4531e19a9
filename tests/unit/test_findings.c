/*
 * test_findings.c - the one decision path: scripted DNS answers through
 * smtpgatectl check (ctl_check_main on a fake resolver), its text and JSON
 * compared with golden files.
 *
 * The fake resolver (below) stands in for dns.c: it answers each query
 * from the scenario's script through the event loop (never inside the
 * call), and a query the script does not hold is never answered, so the
 * deadline decides.  Script lines read
 *   QNAME TYPE STATUS [DATA...]
 * QNAME: a name, or @ptr (the client's reverse name), @bl:ZONE (the
 * client's DNSBL query), @two:ZONE and @one:ZONE (the health probes of
 * 127.0.0.2 and 127.0.0.1); TYPE: PTR, A or AAAA; STATUS: ok (DATA: names
 * or addresses), nx, nodata, error (DATA: the reason), badname (DATA: the
 * escaped name, why, how many).
 *
 * Golden files: tests/unit/golden/check/NAME.txt and NAME.json.  With
 * GOLDEN_UPDATE=1 in the environment the outputs are written there
 * instead of compared (then read the diff before committing it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cases.h"
#include "ctl.h"
#include "dns.h"
#include "dnsbl.h"
#include "evloop.h"

#define SCRIPT_MAX	24

struct scenario {
	const char *name;
	const char *client;
	const char *sites;		/* [gate] dnsbl_sites */
	int allow_threshold;		/* dnsbl_allow_threshold */
	uint32_t deadline_ms;		/* 0: 2500 */
	const char *script[SCRIPT_MAX];
};

/* The health probes of a list that answers as RFC 5782 wants. */
#define HEALTHY(z) "@two:" z " A ok 127.0.0.2", "@one:" z " A nx"

static const struct scenario scenarios[] = {
	{ "clean", "198.51.100.10", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.10",
	    "@bl:bl.test A nx", HEALTHY("bl.test") } },
	{ "no-ptr", "198.51.100.11", "bl.test*3", 0, 0, {
	    "@ptr PTR nx", "@bl:bl.test A nx", HEALTHY("bl.test") } },
	{ "ptr-nodata", "198.51.100.11", "bl.test*3", 0, 0, {
	    "@ptr PTR nodata", "@bl:bl.test A nodata", HEALTHY("bl.test") } },
	{ "fcrdns-fail", "198.51.100.15", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 192.0.2.99",
	    "@bl:bl.test A nx", HEALTHY("bl.test") } },
	{ "fcrdns-nxdomain", "198.51.100.17", "", 0, 0, {
	    "@ptr PTR ok gone.example.test",
	    "gone.example.test A nx" } },
	{ "fcrdns-second-name", "198.51.100.20", "", 0, 0, {
	    "@ptr PTR ok a.example.test b.example.test",
	    "a.example.test A ok 192.0.2.1",
	    "b.example.test A ok 192.0.2.7 198.51.100.20" } },
	{ "fcrdns-past-max-names", "198.51.100.21", "", 0, 0, {
	    "@ptr PTR ok a.example.test b.example.test c.example.test "
	    "d.example.test e.example.test",
	    "a.example.test A ok 192.0.2.1", "b.example.test A ok 192.0.2.1",
	    "c.example.test A ok 192.0.2.1", "d.example.test A nodata",
	    "e.example.test A ok 198.51.100.21" } },
	{ "fcrdns-forward-error", "198.51.100.22", "", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A error SERVFAIL" } },
	{ "fcrdns-forward-late", "198.51.100.23", "", 0, 300, {
	    "@ptr PTR ok a.example.test b.example.test",
	    "a.example.test A ok 192.0.2.1" } },
	{ "generic-ptr", "198.51.100.12", "bl.test*3", 0, 0, {
	    "@ptr PTR ok 198-51-100-12.dynamic.example.net",
	    "198-51-100-12.dynamic.example.net A ok 198.51.100.12",
	    "@bl:bl.test A nx", HEALTHY("bl.test") } },
	{ "listed", "198.51.100.13", "bl.test=127.0.0.[2..11]*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.13",
	    "@bl:bl.test A ok 127.0.0.2", HEALTHY("bl.test") } },
	{ "listed-two-zones", "198.51.100.13", "bl.test*2 bl2.test*2", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.13",
	    "@bl:bl.test A ok 127.0.0.2", "@bl:bl2.test A ok 127.0.0.4",
	    HEALTHY("bl.test"), HEALTHY("bl2.test") } },
	{ "dnswl", "198.51.100.14", "bl.test*3 wl.test*-2", -1, 0, {
	    "@ptr PTR ok 198-51-100-14.dynamic.example.net",
	    "198-51-100-14.dynamic.example.net A ok 198.51.100.14",
	    "@bl:bl.test A nx", "@bl:wl.test A ok 127.0.10.2",
	    HEALTHY("bl.test"), HEALTHY("wl.test") } },
	{ "dnsbl-error-answer", "198.51.100.16", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.16",
	    "@bl:bl.test A ok 127.255.255.254", HEALTHY("bl.test") } },
	{ "zone-servfail", "198.51.100.70", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.70",
	    "@bl:bl.test A error SERVFAIL", HEALTHY("bl.test") } },
	{ "zone-no-answer", "198.51.100.71", "bl.test*3", 0, 300, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.71", HEALTHY("bl.test") } },
	{ "bad-ptr-name", "198.51.100.73", "", 0, 0, {
	    "@ptr PTR badname mail\\000x.example.test control-byte 1" } },
	{ "bad-ptr-names", "198.51.100.73", "", 0, 0, {
	    "@ptr PTR badname bad\\.dot.example.test dot-in-label 3" } },
	{ "ptr-servfail", "198.51.100.74", "", 0, 0, {
	    "@ptr PTR error SERVFAIL" } },
	{ "ptr-no-answer", "198.51.100.75", "", 0, 300, { NULL } },
	{ "probe2-error-answer", "198.51.100.80", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.80",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.255.255.254", "@one:bl.test A nx" } },
	{ "probe1-error-answer", "198.51.100.81", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.81",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.0.0.2",
	    "@one:bl.test A ok 127.255.255.254" } },
	{ "probe1-listed", "198.51.100.82", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.82",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.0.0.2", "@one:bl.test A ok 127.0.0.1" } },
	{ "probe1-outside-127", "198.51.100.83", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.83",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.0.0.2", "@one:bl.test A ok 10.0.0.1" } },
	{ "probe2-not-listed", "198.51.100.84", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.84",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A nx", "@one:bl.test A nx" } },
	{ "probe-failed", "198.51.100.85", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.85",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A error SERVFAIL", "@one:bl.test A nx" } },
	{ "v6-clean", "2001:db8:c::10", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail6.example.test",
	    "mail6.example.test AAAA ok 2001:db8:c::10",
	    "@bl:bl.test A nx", HEALTHY("bl.test") } },
	{ "v6-no-ptr", "2001:db8:c::11", "bl.test*3", 0, 0, {
	    "@ptr PTR nx", "@bl:bl.test A nx", HEALTHY("bl.test") } },
	{ "v6-listed", "2001:db8:c::13", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail6.example.test",
	    "mail6.example.test AAAA ok 2001:db8:c::13",
	    "@bl:bl.test A ok 127.0.0.2", HEALTHY("bl.test") } },
	{ "v6-generic", "2001:db8:c::12", "", 0, 0, {
	    "@ptr PTR ok 2001-db8-c--12.dynamic.example.net",
	    "2001-db8-c--12.dynamic.example.net AAAA ok 2001:db8:c::12" } },
};

/* ---- the fake resolver ---- */

struct fake_query {
	struct dns *d;
	struct fake_query *next;	/* the resolver's outstanding list */
	struct ev_timer *timer;		/* the answer's delivery, or NULL */
	dns_cb cb;
	dns_raw_cb raw_cb;
	void *arg;
	struct dns_result r;
};

struct dns {
	struct evloop *ev;
	struct fake_query *out;		/* outstanding, answered or not */
	struct dns_stats st;
};

static const struct scenario *fake_sc;	/* the scenario being run */

/* The script's name for qname, with @-names expanded, into buf. */
static void
fake_expand(const char *tok, char *buf, size_t len)
{
	struct addr a, probe;
	const char *zone = NULL;

	assert_int_equal(addr_parse(fake_sc->client, &a), 0);
	if (strcmp(tok, "@ptr") == 0) {
		assert_true(addr_reverse_name(&a, NULL, buf, len) > 0);
		return;
	}
	if (strncmp(tok, "@bl:", 4) == 0) {
		assert_true(addr_reverse_name(&a, tok + 4, buf, len) > 0);
		return;
	}
	if (strncmp(tok, "@two:", 5) == 0 || strncmp(tok, "@one:", 5) == 0) {
		zone = tok + 5;
		assert_int_equal(addr_parse(tok[1] == 't' ? "127.0.0.2" :
		    "127.0.0.1", &probe), 0);
		assert_true(addr_reverse_name(&probe, zone, buf, len) > 0);
		return;
	}
	snprintf(buf, len, "%s", tok);
}

/* The scripted answer to (name, type); false when there is none. */
static bool
fake_lookup(const char *name, enum dns_type type, struct dns_result *r)
{
	static const char *const tname[] = { [DNS_PTR] = "PTR",
	    [DNS_A] = "A", [DNS_AAAA] = "AAAA" };
	static char why[SCRIPT_MAX][32];

	for (size_t i = 0; i < SCRIPT_MAX && fake_sc->script[i]; i++) {
		char line[1024], qn[DNS_NAME_MAX + 64], *tok[32], *save;
		size_t n = 0;

		snprintf(line, sizeof(line), "%s", fake_sc->script[i]);
		for (char *t = strtok_r(line, " ", &save); t && n < 32;
		    t = strtok_r(NULL, " ", &save))
			tok[n++] = t;
		assert_true(n >= 3);
		fake_expand(tok[0], qn, sizeof(qn));
		if (strcmp(qn, name) != 0 || strcmp(tok[1], tname[type]) != 0)
			continue;
		memset(r, 0, sizeof(*r));
		if (strcmp(tok[2], "nx") == 0) {
			r->status = DNS_NXDOMAIN;
		} else if (strcmp(tok[2], "nodata") == 0) {
			r->status = DNS_NODATA;
		} else if (strcmp(tok[2], "error") == 0) {
			r->status = DNS_ERROR;
			r->error = n > 3 ? fake_sc->script[i] +
			    (tok[3] - line) : "error";
		} else if (strcmp(tok[2], "badname") == 0) {
			assert_int_equal(n, 6);
			r->status = DNS_BADNAME;
			snprintf(r->bad, sizeof(r->bad), "%s", tok[3]);
			r->nbad = (size_t)atoi(tok[5]);
			/* A static string, as dns.c's. */
			snprintf(why[i], sizeof(why[i]), "%s", tok[4]);
			r->bad_why = why[i];
		} else {
			assert_string_equal(tok[2], "ok");
			r->status = DNS_OK;
			for (size_t k = 3; k < n; k++) {
				if (type == DNS_PTR) {
					snprintf(r->names[r->nnames++],
					    DNS_NAME_MAX, "%s", tok[k]);
					continue;
				}
				assert_int_equal(addr_parse(tok[k],
				    &r->addrs[r->naddrs]), 0);
				r->naddrs++;
			}
		}
		return true;
	}
	return false;
}

static void
fake_unlink(struct fake_query *q)
{
	for (struct fake_query **p = &q->d->out; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			return;
		}
}

static void
fake_deliver(void *arg)
{
	struct fake_query *q = arg;

	q->timer = NULL;
	fake_unlink(q);
	q->d->st.inflight--;
	q->d->st.answers++;
	if (q->cb != NULL)
		q->cb(q->arg, &q->r);
	else
		q->raw_cb(q->arg, q->r.status, NULL, 0);
	free(q);
}

struct dns *
dns_new(struct evloop *ev, const struct conf_dns *c, char *err,
    size_t errlen)
{
	struct dns *d = calloc(1, sizeof(*d));

	(void)c;
	(void)err;
	(void)errlen;
	assert_non_null(d);
	d->ev = ev;
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	while (d->out != NULL) {
		struct fake_query *q = d->out;

		d->out = q->next;
		if (q->timer != NULL)
			evloop_timer_cancel(d->ev, q->timer);
		memset(&q->r, 0, sizeof(q->r));
		q->r.status = DNS_CANCELLED;
		if (q->cb != NULL)
			q->cb(q->arg, &q->r);
		else
			q->raw_cb(q->arg, DNS_CANCELLED, NULL, 0);
		free(q);
	}
	free(d);
}

void
dns_retire(struct dns *d)
{
	dns_free(d);
}

static struct fake_query *
fake_start(struct dns *d, const char *name, enum dns_type type, void *arg)
{
	struct fake_query *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->d = d;
	q->arg = arg;
	q->next = d->out;
	d->out = q;
	d->st.queries++;
	d->st.inflight++;
	if (fake_lookup(name, type, &q->r)) {
		q->timer = evloop_timer_at(d->ev, evloop_now_ms(d->ev),
		    fake_deliver, q);
		assert_non_null(q->timer);
	}
	return q;
}

void
dns_query_until(struct dns *d, const char *name, enum dns_type type,
    int64_t deadline_ms, dns_cb cb, void *arg)
{
	(void)deadline_ms;
	fake_start(d, name, type, arg)->cb = cb;
}

void
dns_query(struct dns *d, const char *name, enum dns_type type, dns_cb cb,
    void *arg)
{
	dns_query_until(d, name, type, 0, cb, arg);
}

void
dns_query_raw(struct dns *d, const char *name, int qtype,
    int64_t deadline_ms, dns_raw_cb cb, void *arg)
{
	struct fake_query *q = calloc(1, sizeof(*q));

	(void)name;
	(void)qtype;
	(void)deadline_ms;
	assert_non_null(q);
	q->d = d;
	q->raw_cb = cb;
	q->arg = arg;
	q->next = d->out;
	d->out = q;
}

void
dns_parse(const unsigned char *msg, size_t len, enum dns_type type,
    struct dns_result *r)
{
	(void)msg;
	(void)len;
	(void)type;
	memset(r, 0, sizeof(*r));
	r->status = DNS_ERROR;
	r->error = "not parsed by the fake resolver";
}

const struct dns_stats *
dns_stats(const struct dns *d)
{
	return &d->st;
}

/* ---- running check ---- */

/* The configuration of scenario sc, as smtpgatectl check gets it. */
static void
scenario_ctl(const struct scenario *sc, struct ctl *c, enum ctl_format fmt)
{
	char err[512];

	memset(c, 0, sizeof(*c));
	conf_defaults(&c->conf);
	c->conf_path = "smtpgate.conf";
	c->conf_loaded = true;
	c->fmt = fmt;
	c->now = 1700000000;
	c->timeout_ms = 1000;
	snprintf(c->conf.nft.allow_file, sizeof(c->conf.nft.allow_file),
	    "/nonexistent/smtpgate-test/allow.list");
	if (sc->deadline_ms != 0)
		c->conf.gate.deadline_ms = sc->deadline_ms;
	c->conf.gate.dnsbl_allow_threshold = sc->allow_threshold;
	c->conf.gate.dnsbl_threshold = 3;
	if (dnsbl_parse(sc->sites, &c->conf.gate.dnsbl_sites, err,
	    sizeof(err)) == -1)
		fail_msg("%s: dnsbl_sites: %s", sc->name, err);
}

/* Run check for sc in fmt; its standard output (caller frees). */
static char *
check_output(const struct scenario *sc, enum ctl_format fmt, int *rc)
{
	static struct ctl c;	/* holds a struct conf: off the stack */
	char *argv[] = { "check", (char *)sc->client, NULL };
	FILE *tmp = tmpfile();
	int saved;
	long len;
	char *buf;

	assert_non_null(tmp);
	scenario_ctl(sc, &c, fmt);
	fake_sc = sc;
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 1) >= 0);
	*rc = ctl_check_main(&c, 2, argv);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	len = ftell(tmp);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(tmp);
	assert_int_equal(fread(buf, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return buf;
}

static char *
file_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* Compare got with the golden file NAME.EXT (or write it). */
static void
golden(const char *name, const char *ext, const char *got)
{
	char path[256];
	char *want;

	snprintf(path, sizeof(path), "tests/unit/golden/check/%s.%s", name,
	    ext);
	if (getenv("GOLDEN_UPDATE") != NULL) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		return;
	}
	if ((want = file_read(path)) == NULL)
		fail_msg("%s: no golden file %s (GOLDEN_UPDATE=1 writes it)",
		    name, path);
	if (strcmp(got, want) != 0) {
		print_error("%s: got\n%s\nwant (%s)\n%s\n", name, got, path,
		    want);
		free(want);
		fail();
	}
	free(want);
}

static void
test_check_golden(void **state)
{
	const struct scenario *sc = *state;
	int rc;
	char *text = check_output(sc, CTL_FMT_TEXT, &rc);

	assert_int_equal(rc, CTL_OK);
	golden(sc->name, "txt", text);
	free(text);
	char *json = check_output(sc, CTL_FMT_JSON, &rc);
	assert_int_equal(rc, CTL_OK);
	golden(sc->name, "json", json);
	free(json);
}

int
main(void)
{
	enum { N = sizeof(scenarios) / sizeof(scenarios[0]) };
	struct CMUnitTest t[N];
	char names[N][96];
	size_t n = 0;

	CASES(scenarios, test_check_golden);
	return _cmocka_run_group_tests("findings", t, n, NULL, NULL);
}
