/*
 * test_findings.c - the one decision path: the same scripted DNS answers
 * through the gate's path (findings.c fed in the order and the way
 * gate_lookup.c and gate_dnsbl.c feed it) and through smtpgatectl check
 * (ctl_check_main on a fake resolver); the findings, the verdict and the
 * lists' health must agree, and the gate's verdict line must be the one
 * the scenario wants.  check's text and JSON are compared with golden
 * files too.
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
#include "findings.h"
#include "gate.h"

#define SCRIPT_MAX	24

struct scenario {
	const char *name;
	const char *client;
	const char *sites;		/* [gate] dnsbl_sites */
	int allow_threshold;		/* dnsbl_allow_threshold */
	uint32_t deadline_ms;		/* 0: 2500 */
	const char *script[SCRIPT_MAX];
	const char *want_log;		/* the gate's verdict line, to ms= */
	bool want_cache;		/* the verdict may be cached */
	bool reply_smtp;		/* [gate] reply = smtp, with a
					 * reply_url (check says the line) */
	bool observe;			/* [gate] enforce = no */
};

/* The health probes of a list that answers as RFC 5782 wants. */
#define HEALTHY(z) "@two:" z " A ok 127.0.0.2", "@one:" z " A nx"

static const struct scenario scenarios[] = {
	{ "clean", "198.51.100.10", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.10",
	    "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=accept ip=198.51.100.10 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "no-ptr", "198.51.100.11", "bl.test*3", 0, 0, {
	    "@ptr PTR nx", "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=tempfail ip=198.51.100.11 reason=no-ptr ptr=- fcrdns=- "
	    "class=- dnsbl_score=0",
	    true, false, false },
	{ "ptr-nodata", "198.51.100.11", "bl.test*3", 0, 0, {
	    "@ptr PTR nodata", "@bl:bl.test A nodata", HEALTHY("bl.test") },
	    "verdict=tempfail ip=198.51.100.11 reason=no-ptr ptr=- fcrdns=- "
	    "class=- dnsbl_score=0",
	    true, false, false },
	{ "fcrdns-fail", "198.51.100.15", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 192.0.2.99",
	    "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=accept ip=198.51.100.15 reason=fcrdns "
	    "ptr=mail.example.test fcrdns=no class=named dnsbl_score=0",
	    true, false, false },
	{ "fcrdns-nxdomain", "198.51.100.17", "", 0, 0, {
	    "@ptr PTR ok gone.example.test",
	    "gone.example.test A nx" },
	    "verdict=accept ip=198.51.100.17 reason=fcrdns "
	    "ptr=gone.example.test fcrdns=no class=named dnsbl_score=0",
	    true, false, false },
	{ "fcrdns-second-name", "198.51.100.20", "", 0, 0, {
	    "@ptr PTR ok a.example.test b.example.test",
	    "a.example.test A ok 192.0.2.1",
	    "b.example.test A ok 192.0.2.7 198.51.100.20" },
	    "verdict=accept ip=198.51.100.20 reason=ok ptr=b.example.test "
	    "fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "fcrdns-past-max-names", "198.51.100.21", "", 0, 0, {
	    "@ptr PTR ok a.example.test b.example.test c.example.test "
	    "d.example.test e.example.test",
	    "a.example.test A ok 192.0.2.1", "b.example.test A ok 192.0.2.1",
	    "c.example.test A ok 192.0.2.1", "d.example.test A nodata",
	    "e.example.test A ok 198.51.100.21" },
	    "verdict=accept ip=198.51.100.21 reason=fcrdns "
	    "ptr=a.example.test fcrdns=no class=named dnsbl_score=0",
	    true, false, false },
	{ "fcrdns-forward-error", "198.51.100.22", "", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A error SERVFAIL" },
	    "verdict=accept ip=198.51.100.22 reason=dns-error "
	    "ptr=mail.example.test fcrdns=- class=named dnsbl_score=0",
	    false, false, false },
	{ "fcrdns-forward-late", "198.51.100.23", "", 0, 300, {
	    "@ptr PTR ok a.example.test b.example.test",
	    "a.example.test A ok 192.0.2.1" },
	    "verdict=accept ip=198.51.100.23 reason=dns-error "
	    "ptr=a.example.test fcrdns=- class=named dnsbl_score=0",
	    false, false, false },
	{ "generic-ptr", "198.51.100.12", "bl.test*3", 0, 0, {
	    "@ptr PTR ok 198-51-100-12.dynamic.example.net",
	    "198-51-100-12.dynamic.example.net A ok 198.51.100.12",
	    "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=reject ip=198.51.100.12 reason=generic-ptr "
	    "ptr=198-51-100-12.dynamic.example.net fcrdns=yes class=generic "
	    "class_reason=ip-dashed+token:dynamic dnsbl_score=0",
	    true, false, false },
	{ "listed", "198.51.100.13", "bl.test=127.0.0.[2..11]*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.13",
	    "@bl:bl.test A ok 127.0.0.2", HEALTHY("bl.test") },
	    "verdict=reject ip=198.51.100.13 reason=dnsbl "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=3 "
	    "dnsbl=bl.test",
	    true, false, false },
	{ "listed-two-zones", "198.51.100.13", "bl.test*2 bl2.test*2", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.13",
	    "@bl:bl.test A ok 127.0.0.2", "@bl:bl2.test A ok 127.0.0.4",
	    HEALTHY("bl.test"), HEALTHY("bl2.test") },
	    "verdict=reject ip=198.51.100.13 reason=dnsbl "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=4 "
	    "dnsbl=bl.test,bl2.test",
	    true, false, false },
	{ "dnswl", "198.51.100.14", "bl.test*3 wl.test*-2", -1, 0, {
	    "@ptr PTR ok 198-51-100-14.dynamic.example.net",
	    "198-51-100-14.dynamic.example.net A ok 198.51.100.14",
	    "@bl:bl.test A nx", "@bl:wl.test A ok 127.0.10.2",
	    HEALTHY("bl.test"), HEALTHY("wl.test") },
	    "verdict=accept ip=198.51.100.14 reason=dnswl "
	    "ptr=198-51-100-14.dynamic.example.net fcrdns=yes class=generic "
	    "class_reason=ip-dashed+token:dynamic dnsbl_score=-2 "
	    "dnsbl=wl.test",
	    true, false, false },
	{ "dnsbl-error-answer", "198.51.100.16", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.16",
	    "@bl:bl.test A ok 127.255.255.254", HEALTHY("bl.test") },
	    "verdict=accept ip=198.51.100.16 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "zone-servfail", "198.51.100.70", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.70",
	    "@bl:bl.test A error SERVFAIL", HEALTHY("bl.test") },
	    "verdict=accept ip=198.51.100.70 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0 "
	    "dnsbl_incomplete=bl.test",
	    false, false, false },
	{ "zone-no-answer", "198.51.100.71", "bl.test*3", 0, 300, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.71", HEALTHY("bl.test") },
	    "verdict=accept ip=198.51.100.71 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0 "
	    "dnsbl_incomplete=bl.test",
	    false, false, false },
	{ "bad-ptr-name", "198.51.100.73", "", 0, 0, {
	    "@ptr PTR badname mail\\000x.example.test control-byte 1" },
	    "verdict=tempfail ip=198.51.100.73 reason=invalid-ptr "
	    "ptr=mail\\000x.example.test fcrdns=- class=invalid "
	    "class_reason=control-byte dnsbl_score=0",
	    true, false, false },
	{ "bad-ptr-names", "198.51.100.73", "", 0, 0, {
	    "@ptr PTR badname bad\\.dot.example.test dot-in-label 3" },
	    "verdict=tempfail ip=198.51.100.73 reason=invalid-ptr "
	    "ptr=bad\\.dot.example.test fcrdns=- class=invalid "
	    "class_reason=dot-in-label dnsbl_score=0",
	    true, false, false },
	{ "ptr-servfail", "198.51.100.74", "", 0, 0, {
	    "@ptr PTR error SERVFAIL" },
	    "verdict=accept ip=198.51.100.74 reason=dns-error ptr=- "
	    "fcrdns=- class=- dnsbl_score=0",
	    false, false, false },
	{ "ptr-no-answer", "198.51.100.75", "", 0, 300, { NULL },
	    "verdict=accept ip=198.51.100.75 reason=dns-error ptr=- "
	    "fcrdns=- class=- dnsbl_score=0",
	    false, false, false },
	{ "probe2-error-answer", "198.51.100.80", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.80",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.255.255.254", "@one:bl.test A nx" },
	    "verdict=accept ip=198.51.100.80 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "probe1-error-answer", "198.51.100.81", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.81",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.0.0.2",
	    "@one:bl.test A ok 127.255.255.254" },
	    "verdict=accept ip=198.51.100.81 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "probe1-listed", "198.51.100.82", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.82",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.0.0.2", "@one:bl.test A ok 127.0.0.1" },
	    "verdict=accept ip=198.51.100.82 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "probe1-outside-127", "198.51.100.83", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.83",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A ok 127.0.0.2", "@one:bl.test A ok 10.0.0.1" },
	    "verdict=reject ip=198.51.100.83 reason=dnsbl "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=3 "
	    "dnsbl=bl.test",
	    true, false, false },
	{ "probe2-not-listed", "198.51.100.84", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.84",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A nx", "@one:bl.test A nx" },
	    "verdict=accept ip=198.51.100.84 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "probe-failed", "198.51.100.85", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.85",
	    "@bl:bl.test A ok 127.0.0.2",
	    "@two:bl.test A error SERVFAIL", "@one:bl.test A nx" },
	    "verdict=reject ip=198.51.100.85 reason=dnsbl "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=3 "
	    "dnsbl=bl.test",
	    true, false, false },
	{ "v6-clean", "2001:db8:c::10", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail6.example.test",
	    "mail6.example.test AAAA ok 2001:db8:c::10",
	    "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=accept ip=2001:db8:c::10 reason=ok "
	    "ptr=mail6.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, false, false },
	{ "v6-no-ptr", "2001:db8:c::11", "bl.test*3", 0, 0, {
	    "@ptr PTR nx", "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=tempfail ip=2001:db8:c::11 reason=no-ptr ptr=- fcrdns=- "
	    "class=- dnsbl_score=0",
	    true, false, false },
	{ "v6-listed", "2001:db8:c::13", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail6.example.test",
	    "mail6.example.test AAAA ok 2001:db8:c::13",
	    "@bl:bl.test A ok 127.0.0.2", HEALTHY("bl.test") },
	    "verdict=reject ip=2001:db8:c::13 reason=dnsbl "
	    "ptr=mail6.example.test fcrdns=yes class=named dnsbl_score=3 "
	    "dnsbl=bl.test",
	    true, false, false },
	{ "v6-generic", "2001:db8:c::12", "", 0, 0, {
	    "@ptr PTR ok 2001-db8-c--12.dynamic.example.net",
	    "2001-db8-c--12.dynamic.example.net AAAA ok 2001:db8:c::12" },
	    "verdict=reject ip=2001:db8:c::12 reason=generic-ptr "
	    "ptr=2001-db8-c--12.dynamic.example.net fcrdns=yes "
	    "class=generic class_reason=ip6-groups+token:dynamic "
	    "dnsbl_score=0",
	    true, false, false },
	/* reply = smtp: check says the responder's line. */
	{ "reply-no-ptr", "198.51.100.11", "bl.test*3", 0, 0, {
	    "@ptr PTR nx", "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=tempfail ip=198.51.100.11 reason=no-ptr ptr=- fcrdns=- "
	    "class=- dnsbl_score=0",
	    true, true, false },
	{ "reply-listed", "198.51.100.13", "bl.test=127.0.0.[2..11]*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.13",
	    "@bl:bl.test A ok 127.0.0.2", HEALTHY("bl.test") },
	    "verdict=reject ip=198.51.100.13 reason=dnsbl "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=3 "
	    "dnsbl=bl.test",
	    true, true, false },
	{ "reply-v6-generic", "2001:db8:c::12", "", 0, 0, {
	    "@ptr PTR ok 2001-db8-c--12.dynamic.example.net",
	    "2001-db8-c--12.dynamic.example.net AAAA ok 2001:db8:c::12" },
	    "verdict=reject ip=2001:db8:c::12 reason=generic-ptr "
	    "ptr=2001-db8-c--12.dynamic.example.net fcrdns=yes "
	    "class=generic class_reason=ip6-groups+token:dynamic "
	    "dnsbl_score=0",
	    true, true, false },
	{ "reply-clean", "198.51.100.10", "bl.test*3", 0, 0, {
	    "@ptr PTR ok mail.example.test",
	    "mail.example.test A ok 198.51.100.10",
	    "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=accept ip=198.51.100.10 reason=ok "
	    "ptr=mail.example.test fcrdns=yes class=named dnsbl_score=0",
	    true, true, false },
	/* Observe mode: the verdict line says enforced=no, check says the
	 * gate accepts the client. */
	{ "observe-no-ptr", "198.51.100.11", "bl.test*3", 0, 0, {
	    "@ptr PTR nx", "@bl:bl.test A nx", HEALTHY("bl.test") },
	    "verdict=tempfail enforced=no ip=198.51.100.11 reason=no-ptr "
	    "ptr=- fcrdns=- class=- dnsbl_score=0",
	    true, false, true },
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
	c->conf.gate.enforce = !sc->observe;
	if (sc->reply_smtp) {
		c->conf.gate.reply_smtp = true;
		snprintf(c->conf.gate.reply_url, sizeof(c->conf.gate.reply_url),
		    "https://mx.example.test/refused");
	}
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

/* ---- the gate's path ---- */

struct gate_run {
	struct findings f;
	struct findings_judgment j;
	char why[DNSBL_MAX_SITES][128];	/* why disabled, "" when asked */
	char log[1536];
};

/* The scripted answer to the query (expanded) tok of type, if any. */
static bool
scripted(const char *tok, enum dns_type type, struct dns_result *r)
{
	char name[DNS_NAME_MAX + 64];

	fake_expand(tok, name, sizeof(name));
	return fake_lookup(name, type, r);
}

/*
 * The answers of sc as the gate takes them: the health probes first (the
 * gate probes at start; a list starts enabled, a probe that proves
 * nothing keeps it so, gate_dnsbl.c), then for the client the DNSBL
 * answers before the PTR's and the forward answers last to first (check
 * takes them the other way round).
 */
static void
gate_path(const struct scenario *sc, const struct conf_gate *cg,
    const struct ptrclass *pc, struct gate_run *g)
{
	const struct dnsbl_sites *s = &cg->dnsbl_sites;
	static struct dns_result r;	/* large */
	struct addr a;
	char tok[DNS_NAME_MAX + 8];
	bool enabled[DNSBL_MAX_SITES];

	memset(g, 0, sizeof(*g));
	fake_sc = sc;
	assert_int_equal(addr_parse(sc->client, &a), 0);
	findings_init(&g->f, cg, &a);
	for (size_t z = 0; z < s->nzones; z++) {
		struct findings_probe two = { 0 }, one = { 0 };
		enum findings_health h;

		snprintf(tok, sizeof(tok), "@two:%s", s->zone[z]);
		if (scripted(tok, DNS_A, &r))
			findings_probe(&two, true, &r);
		snprintf(tok, sizeof(tok), "@one:%s", s->zone[z]);
		if (scripted(tok, DNS_A, &r))
			findings_probe(&one, false, &r);
		h = findings_health(&two, &one, g->why[z], sizeof(g->why[z]));
		enabled[z] = h == FINDINGS_HEALTH_OK ||
		    h == FINDINGS_HEALTH_UNKNOWN;
		if (enabled[z])
			g->why[z][0] = '\0';
	}
	for (size_t z = 0; z < s->nzones; z++) {
		if (!enabled[z])
			continue;
		findings_dnsbl_ask(&g->f, z);
		snprintf(tok, sizeof(tok), "@bl:%s", s->zone[z]);
		if (scripted(tok, DNS_A, &r))
			(void)findings_dnsbl(&g->f, z, &r);
	}
	if (scripted("@ptr", DNS_PTR, &r)) {
		size_t n = findings_ptr(&g->f, &r);

		while (n-- > 0)
			if (scripted(g->f.names[n], findings_fwd_type(&g->f),
			    &r))
				findings_fwd(&g->f, n, &r);
	}
	findings_judge(&g->f, pc, &g->j);
	findings_log(&g->f, &g->j, g->log, sizeof(g->log));
}

/*
 * The value of the outermost member key of a document ctl_json wrote
 * (one member a line), into out.
 */
static const char *
json_top(const char *doc, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\n \"%s\": ", key);
	if ((p = strstr(doc, pat)) == NULL)
		fail_msg("no member \"%s\" in\n%s", key, doc);
	p += strlen(pat);
	e = p + strcspn(p, "\n");
	if (e > p && e[-1] == ',')
		e--;
	snprintf(out, len, "%.*s", (int)(e - p), p);
	return out;
}

/* "disabled" of zone in check's "dnsbl" array, into out. */
static const char *
json_zone_disabled(const char *doc, const char *zone, char *out, size_t len)
{
	char pat[DNSBL_ZONE_MAX + 32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "{\"zone\": \"%s\", ", zone);
	if ((p = strstr(doc, pat)) == NULL ||
	    (p = strstr(p, "\"disabled\": ")) == NULL)
		fail_msg("no zone %s in\n%s", zone, doc);
	p += strlen("\"disabled\": ");
	e = strchr(p, '}');
	assert_non_null(e);
	snprintf(out, len, "%.*s", (int)(e - p), p);
	return out;
}

/* s as check's JSON writes a string ("" and NULL: null), into out. */
static const char *
json_string(const char *s, char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");

	assert_non_null(f);
	if (s == NULL || s[0] == '\0')
		fputs("null", f);
	else
		ctl_out_json_str(f, s);
	fclose(f);
	return out;
}

static void
expect_same(const char *sc, const char *what, const char *gate,
    const char *check)
{
	if (strcmp(gate, check) != 0)
		fail_msg("%s: %s: gate's path got %s, check's got %s", sc,
		    what, gate, check);
}

static void
test_same_decision(void **state)
{
	const struct scenario *sc = *state;
	static struct ctl c;
	static struct gate_run g;
	struct ptrclass *pc;
	char err[512], got[1024], want[1024];
	const struct dnsbl_sites *s;
	int rc;
	char *json;

	json = check_output(sc, CTL_FMT_JSON, &rc);
	assert_int_equal(rc, CTL_OK);
	scenario_ctl(sc, &c, CTL_FMT_JSON);
	s = &c.conf.gate.dnsbl_sites;
	if ((pc = conf_ptrclass_new(&c.conf.gate, err, sizeof(err))) == NULL)
		fail_msg("conf_ptrclass_new: %s", err);
	gate_path(sc, &c.conf.gate, pc, &g);

	/* What both paths say. */
	expect_same(sc->name, "verdict", json_string(verdict_action_name(
	    g.j.v.action), want, sizeof(want)), json_top(json, "verdict",
	    got, sizeof(got)));
	{
		size_t off = snprintf(want, sizeof(want), "[");

		for (size_t i = 0; i < g.j.v.nreasons; i++)
			off += snprintf(want + off, sizeof(want) - off,
			    "%s\"%s\"", i ? ", " : "",
			    verdict_reason_name(g.j.v.reason[i]));
		snprintf(want + off, sizeof(want) - off, "]");
	}
	expect_same(sc->name, "reasons", want, json_top(json, "reasons", got,
	    sizeof(got)));
	expect_same(sc->name, "cache", g.j.v.cache ? "true" : "false",
	    json_top(json, "cache", got, sizeof(got)));
	expect_same(sc->name, "fcrdns", g.j.vf.fcrdns == VERDICT_FCRDNS_PASS ?
	    "\"pass\"" : g.j.vf.fcrdns == VERDICT_FCRDNS_FAIL ? "\"fail\"" :
	    "\"unknown\"", json_top(json, "fcrdns", got, sizeof(got)));
	expect_same(sc->name, "class", json_string(g.j.name ?
	    ptrclass_name(g.j.pv.cls) : NULL, want, sizeof(want)),
	    json_top(json, "class", got, sizeof(got)));
	if (g.j.name != NULL)
		expect_same(sc->name, "name_judged", json_string(g.j.name,
		    want, sizeof(want)), json_top(json, "name_judged", got,
		    sizeof(got)));
	snprintf(want, sizeof(want), "%d", g.f.dnsbl_score);
	expect_same(sc->name, "dnsbl_score", want, json_top(json,
	    "dnsbl_score", got, sizeof(got)));
	expect_same(sc->name, "dnsbl_incomplete", g.j.vf.dnsbl_incomplete ?
	    "true" : "false", json_top(json, "dnsbl_incomplete", got,
	    sizeof(got)));
	for (size_t z = 0; z < s->nzones; z++)
		expect_same(sc->name, s->zone[z], json_string(g.why[z], want,
		    sizeof(want)), json_zone_disabled(json, s->zone[z], got,
		    sizeof(got)));
	{
		char net[ADDR_STRLEN + 4] = "", ip[ADDR_STRLEN];
		struct addr n;

		if (g.j.net64 && g.j.v.cache) {
			addr_mask(&n, &g.f.client, 64);
			snprintf(net, sizeof(net), "%s/64", addr_ntop(&n, ip));
		}
		expect_same(sc->name, "cache_net", json_string(net, want,
		    sizeof(want)), json_top(json, "cache_net", got,
		    sizeof(got)));
	}

	/* And what the scenario wants of them. */
	if (sc->want_log == NULL || strcmp(g.log, sc->want_log) != 0)
		fail_msg("%s: verdict line\n got  %s\n want %s", sc->name,
		    g.log, sc->want_log ? sc->want_log : "(none)");
	if (g.j.v.cache != sc->want_cache)
		fail_msg("%s: got cache %d, want %d", sc->name, g.j.v.cache,
		    sc->want_cache);
	ptrclass_free(pc);
	free(json);
}

/* ---- the health judgment, table-driven ---- */

struct hcase {
	const char *name;
	const char *two, *one;	/* "ok ADDR...", "nx", "nodata", "error",
				 * "cancelled"; NULL: no answer */
	enum findings_health want;
	const char *why;
};

static const struct hcase hcases[] = {
	{ "healthy", "ok 127.0.0.2", "nx", FINDINGS_HEALTH_OK, "" },
	{ "healthy, 127.0.0.1 no records", "ok 127.0.0.2", "nodata",
	  FINDINGS_HEALTH_OK, "" },
	{ "127.0.0.2 as one of several answers", "ok 10.0.0.1 127.0.0.2",
	  "nx", FINDINGS_HEALTH_OK, "" },
	{ "127.0.0.2 not listed", "nx", "nx", FINDINGS_HEALTH_NO_TWO,
	  "127.0.0.2 not listed" },
	{ "127.0.0.2 answered 127.0.0.1 only", "ok 127.0.0.1", "nx",
	  FINDINGS_HEALTH_NO_TWO, "127.0.0.2 not listed" },
	{ "127.0.0.2 answered outside 127/8", "ok 10.0.0.2", "nx",
	  FINDINGS_HEALTH_NO_TWO, "127.0.0.2 not listed" },
	{ "127.0.0.1 listed as itself", "ok 127.0.0.2", "ok 127.0.0.1",
	  FINDINGS_HEALTH_ONE_LISTED, "127.0.0.1 listed" },
	{ "127.0.0.1 listed as 127.0.0.2", "ok 127.0.0.2", "ok 127.0.0.2",
	  FINDINGS_HEALTH_ONE_LISTED, "127.0.0.1 listed" },
	{ "127.0.0.1 answered outside 127/8: not listed", "ok 127.0.0.2",
	  "ok 10.0.0.1", FINDINGS_HEALTH_OK, "" },
	{ "error answer to 127.0.0.2", "ok 127.255.255.254", "nx",
	  FINDINGS_HEALTH_ERROR_ANSWER, "error answer 127.255.255.254 to "
	  "the 127.0.0.2 probe (list refuses this resolver?)" },
	{ "error answer to 127.0.0.1", "ok 127.0.0.2", "ok 127.0.0.255",
	  FINDINGS_HEALTH_ERROR_ANSWER, "error answer 127.0.0.255 to the "
	  "127.0.0.1 probe (list refuses this resolver?)" },
	{ "error answers to both: the 127.0.0.2 probe's", "ok 127.255.255.252",
	  "ok 127.255.255.254", FINDINGS_HEALTH_ERROR_ANSWER, "error answer "
	  "127.255.255.252 to the 127.0.0.2 probe (list refuses this "
	  "resolver?)" },
	{ "error answer beside a listing", "ok 127.0.0.2 127.255.255.255",
	  "nx", FINDINGS_HEALTH_ERROR_ANSWER, "error answer 127.255.255.255 "
	  "to the 127.0.0.2 probe (list refuses this resolver?)" },
	{ "127.0.0.2 failed", "error", "nx", FINDINGS_HEALTH_UNKNOWN, "" },
	{ "127.0.0.1 failed", "ok 127.0.0.2", "error",
	  FINDINGS_HEALTH_UNKNOWN, "" },
	{ "127.0.0.1 failed, 127.0.0.2 not listed", "nx", "error",
	  FINDINGS_HEALTH_UNKNOWN, "" },
	{ "cancelled", "cancelled", "nx", FINDINGS_HEALTH_UNKNOWN, "" },
	{ "no answer to 127.0.0.1", "ok 127.0.0.2", NULL,
	  FINDINGS_HEALTH_UNKNOWN, "" },
};

static void
answer_parse(const char *spec, struct dns_result *r)
{
	char buf[256], *save, *t;

	memset(r, 0, sizeof(*r));
	snprintf(buf, sizeof(buf), "%s", spec);
	t = strtok_r(buf, " ", &save);
	if (strcmp(t, "nx") == 0) {
		r->status = DNS_NXDOMAIN;
	} else if (strcmp(t, "nodata") == 0) {
		r->status = DNS_NODATA;
	} else if (strcmp(t, "error") == 0) {
		r->status = DNS_ERROR;
		r->error = "SERVFAIL";
	} else if (strcmp(t, "cancelled") == 0) {
		r->status = DNS_CANCELLED;
	} else {
		assert_string_equal(t, "ok");
		r->status = DNS_OK;
		while ((t = strtok_r(NULL, " ", &save)) != NULL)
			assert_int_equal(addr_parse(t, &r->addrs[r->naddrs++]),
			    0);
	}
}

static void
test_health(void **state)
{
	const struct hcase *c = *state;
	struct findings_probe two = { 0 }, one = { 0 };
	struct dns_result r2, r1;
	enum findings_health got;
	const char *shown;
	char why[128], why2[128];
	bool disabled;

	if (c->two != NULL) {
		answer_parse(c->two, &r2);
		findings_probe(&two, true, &r2);
	}
	if (c->one != NULL) {
		answer_parse(c->one, &r1);
		findings_probe(&one, false, &r1);
	}
	got = findings_health(&two, &one, why, sizeof(why));
	if (got != c->want || strcmp(why, c->why) != 0)
		fail_msg("%s: got %d '%s', want %d '%s'", c->name, got, why,
		    c->want, c->why);
	/* The readers' form (check, identity): the same judgment. */
	shown = findings_health_why(c->two != NULL ? &r2 : NULL,
	    c->one != NULL ? &r1 : NULL, why2, sizeof(why2));
	disabled = c->want != FINDINGS_HEALTH_OK &&
	    c->want != FINDINGS_HEALTH_UNKNOWN;
	if (disabled ? shown != why2 || strcmp(why2, c->why) != 0 :
	    shown != NULL)
		fail_msg("%s: findings_health_why said '%s'", c->name,
		    shown != NULL ? shown : "(null)");
}

int
main(void)
{
	enum { N = sizeof(scenarios) / sizeof(scenarios[0]),
	    H = sizeof(hcases) / sizeof(hcases[0]) };
	struct CMUnitTest t[2 * N + H];
	char names[2 * N + H][96];
	size_t n = 0;

	CASES(hcases, test_health);
	CASES(scenarios, test_same_decision);
	CASES(scenarios, test_check_golden);
	return _cmocka_run_group_tests("findings", t, n, NULL, NULL);
}
