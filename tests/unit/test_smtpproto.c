/*
 * test_smtpproto.c - the passive protocol tests (smtpproto.h) driven the
 * way the sniffer drives them: each client segment with what the server
 * had sent when it came (S: its SYN-ACK only, B: the banner, M: more),
 * smtpcmd_fresh deciding whether it is judged, the lines smtpcmd reports
 * fed with their bare_lf and more.  Each case says the findings it must
 * make, as "pregreet,pipelining(ehlo),non-smtp,bare-lf" in that order,
 * "" for none.  The clean twins are the point: every real client's way
 * of talking (Postfix waiting for each reply, pipelining after EHLO's
 * reply, a command split over segments, a retransmission) finds nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtpcmd.h"
#include "smtpproto.h"

#define ISN	0xfffffff8u	/* streams cross the 32-bit wrap */

struct seg {
	char srv;		/* 'S', 'B', 'M'; 0 ends the list */
	const char *data;
	int32_t at;		/* offset from ISN; -1: right after the last */
	uint32_t ack;		/* its ACK number; 0: what srv implies (S: the
				 * SYN-ACK's, B: the banner's, M: advancing,
				 * a reply received before each segment) */
};

struct proto_case {
	const char *name;
	struct seg segs[8];
	const char *want;
};

static const struct proto_case cases[] = {
	/* pregreet */
	{ "EHLO before the banner", { { 'S', "EHLO a.example\r\n", -1, 0 } },
	    "pregreet" },
	{ "EHLO after the banner", { { 'B', "EHLO a.example\r\n", -1, 0 } },
	    "" },
	{ "banner and more before the first bytes", { { 'M', "EHLO a\r\n",
	    -1, 0 } }, "" },
	{ "a later segment before the banner is no pregreet", { { 'B',
	    "EHLO a", -1, 0 }, { 'S', "\r\n", -1, 0 } }, "" },
	/* pipelining */
	{ "Postfix: a reply for every command", { { 'B', "EHLO a\r\n", -1, 0 },
	    { 'M', "MAIL FROM:<x@y.z>\r\n", -1, 0 } }, "" },
	{ "pipelining after EHLO's reply", { { 'B', "EHLO a\r\n", -1, 0 },
	    { 'M', "MAIL FROM:<x@y.z>\r\nRCPT TO:<u@v.w>\r\nDATA\r\n", -1, 0 } },
	    "" },
	{ "EHLO and MAIL in one segment", { { 'B', "EHLO a\r\nMAIL FROM:"
	    "<x@y.z>\r\n", -1, 0 } }, "pipelining(ehlo)" },
	{ "MAIL before EHLO's reply, own segment", { { 'B', "EHLO a\r\n",
	    -1, 0 }, { 'B', "MAIL FROM:<x@y.z>\r\n", -1, 0 } }, "pipelining(ehlo)" },
	{ "MAIL before EHLO's reply, the server's bare ACK first", { { 'B',
	    "EHLO a\r\n", -1, 500 }, { 'M', "MAIL FROM:<x@y.z>\r\n", -1,
	    500 } }, "pipelining(ehlo)" },
	{ "RSET before NOOP's reply after HELO", { { 'B', "HELO a\r\n", -1, 0 },
	    { 'M', "NOOP\r\n", -1, 700 }, { 'M', "RSET\r\n", -1, 700 } },
	    "pipelining(helo)" },
	{ "MAIL, RCPT in segments of their own after EHLO's reply", { { 'B',
	    "EHLO a\r\n", -1, 500 }, { 'M', "MAIL FROM:<x@y.z>\r\n", -1,
	    600 }, { 'M', "RCPT TO:<u@v.w>\r\n", -1, 600 } }, "" },
	{ "HELO and MAIL in one segment", { { 'B', "HELO a\r\nMAIL FROM:"
	    "<x@y.z>\r\n", -1, 0 } }, "pipelining(helo)" },
	{ "after HELO's reply, commands pipelined", { { 'B', "HELO a\r\n",
	    -1, 0 }, { 'M', "MAIL FROM:<x@y.z>\r\nRCPT TO:<u@v.w>\r\n", -1, 0 } },
	    "pipelining(helo)" },
	{ "after HELO's reply, one at a time", { { 'B', "HELO a\r\n", -1, 0 },
	    { 'M', "MAIL FROM:<x@y.z>\r\n", -1, 0 }, { 'M', "RCPT TO:<u@v>\r\n",
	    -1, 0 } }, "" },
	{ "two commands right after the banner", { { 'B', "NOOP\r\nEHLO a"
	    "\r\n", -1, 0 } }, "pipelining(banner)" },
	{ "NOOP, then EHLO before NOOP's reply", { { 'B', "NOOP\r\n", -1, 0 },
	    { 'B', "EHLO a\r\n", -1, 0 } }, "pipelining(banner)" },
	{ "NOOP, its reply, then EHLO", { { 'B', "NOOP\r\n", -1, 0 },
	    { 'M', "EHLO a\r\n", -1, 0 } }, "" },
	{ "a second EHLO asks anew", { { 'B', "EHLO a\r\n", -1, 0 },
	    { 'M', "EHLO b\r\nMAIL FROM:<x@y.z>\r\n", -1, 0 } },
	    "pipelining(ehlo)" },
	{ "a command split over segments", { { 'B', "EH", -1, 0 },
	    { 'B', "LO a.example\r\n", -1, 0 }, { 'M', "MAIL FROM:<>\r\n", -1, 0 } },
	    "" },
	{ "a retransmission is not judged", { { 'B', "EHLO a\r\n", -1, 0 },
	    { 'B', "EHLO a\r\n", 0, 0 }, { 'M', "MAIL FROM:<>\r\n", -1, 0 } }, "" },
	{ "pregreet and pipelined", { { 'S', "EHLO a\r\nMAIL FROM:<>\r\n",
	    -1, 0 } }, "pregreet,pipelining(ehlo)" },
	{ "pregreet, then after the banner only", { { 'S', "EHLO a\r\n", -1, 0 },
	    { 'B', "MAIL FROM:<>\r\n", -1, 0 } }, "pregreet,pipelining(ehlo)" },
	{ "pregreet, then after EHLO's reply", { { 'S', "EHLO a\r\n", -1, 0 },
	    { 'M', "MAIL FROM:<>\r\n", -1, 0 } }, "pregreet" },
	/* non-SMTP */
	{ "HTTP GET", { { 'B', "GET / HTTP/1.0\r\n", -1, 0 } }, "non-smtp" },
	{ "HTTP POST before the banner", { { 'S', "POST /cgi HTTP/1.1\r\n",
	    -1, 0 } }, "pregreet,non-smtp" },
	{ "proxy CONNECT", { { 'B', "CONNECT 192.0.2.9:25 HTTP/1.0\r\n", -1, 0 } },
	    "non-smtp" },
	{ "POP3 USER", { { 'B', "USER bob\r\n", -1, 0 } }, "non-smtp" },
	{ "HEAD", { { 'B', "HEAD / HTTP/1.0\r\n", -1, 0 } }, "non-smtp" },
	{ "GET after EHLO is no first command", { { 'B', "EHLO a\r\n", -1, 0 },
	    { 'M', "GET / HTTP/1.0\r\n", -1, 0 } }, "" },
	{ "GETTER is no GET", { { 'B', "GETTER\r\n", -1, 0 } }, "" },
	/* bare LF */
	{ "bare LF", { { 'B', "EHLO a.example\n", -1, 0 } }, "bare-lf" },
	{ "bare LF later", { { 'B', "EHLO a\r\n", -1, 0 }, { 'M',
	    "MAIL FROM:<>\n", -1, 0 } }, "bare-lf" },
	{ "CR LF split between segments", { { 'B', "EHLO a\r", -1, 0 },
	    { 'B', "\n", -1, 0 } }, "" },
	{ "everything at once", { { 'S', "get / http/1.0\nHost: x\n\n",
	    -1, 0 } }, "pregreet,pipelining(banner),non-smtp,bare-lf" },
};

struct run {
	struct smtpproto p;
	unsigned found;
	const struct smtpcmd *c;
};

static void
line(void *ctx, enum smtpcmd_verb v, const char *arg, size_t len)
{
	struct run *r = ctx;

	(void)arg;
	(void)len;
	r->found |= smtpproto_line(&r->p, v, r->c->bare_lf, r->c->more);
}

static void
render(const struct run *r, char *buf, size_t len)
{
	buf[0] = '\0';
	if (r->found & SMTPPROTO_PREGREET)
		snprintf(buf + strlen(buf), len - strlen(buf), "%spregreet",
		    buf[0] ? "," : "");
	if (r->found & SMTPPROTO_PIPELINING)
		snprintf(buf + strlen(buf), len - strlen(buf),
		    "%spipelining(%s)", buf[0] ? "," : "",
		    smtpproto_pipe_name(r->p.pipe));
	if (r->found & SMTPPROTO_NONSMTP)
		snprintf(buf + strlen(buf), len - strlen(buf), "%snon-smtp",
		    buf[0] ? "," : "");
	if (r->found & SMTPPROTO_BARE_LF)
		snprintf(buf + strlen(buf), len - strlen(buf), "%sbare-lf",
		    buf[0] ? "," : "");
}

static void
test_case(void **state)
{
	const struct proto_case *k = *state;
	struct smtpcmd c;
	struct run r = { .c = &c };
	uint32_t next = ISN;
	char got[128];

	smtpcmd_init(&c);
	smtpproto_init(&r.p);
	for (size_t i = 0; i < 8 && k->segs[i].srv != 0; i++) {
		const struct seg *s = &k->segs[i];
		uint32_t seq = s->at < 0 ? next : ISN + (uint32_t)s->at;
		size_t len = strlen(s->data);
		enum smtpproto_server srv = s->srv == 'S' ?
		    SMTPPROTO_SRV_SYNACK : s->srv == 'B' ?
		    SMTPPROTO_SRV_BANNER : SMTPPROTO_SRV_MORE;

		uint32_t ack = s->ack != 0 ? s->ack : s->srv == 'S' ? 1 :
		    s->srv == 'B' ? 100 : 1000 + 10 * (uint32_t)i;

		if (smtpcmd_fresh(&c, seq, len))
			r.found |= smtpproto_segment(&r.p, srv, ack);
		(void)smtpcmd_feed(&c, seq, (const uint8_t *)s->data, len,
		    line, &r);
		if (s->at < 0)
			next = seq + (uint32_t)len;
	}
	render(&r, got, sizeof(got));
	if (strcmp(got, k->want) != 0)
		fail_msg("%s: got findings \"%s\", want \"%s\"", k->name, got,
		    k->want);
}

/* Each finding is made once a session, however often it is broken. */
static void
test_once(void **state)
{
	struct smtpproto p;
	unsigned n = 0;

	(void)state;
	smtpproto_init(&p);
	n += smtpproto_segment(&p, SMTPPROTO_SRV_SYNACK, 1) != 0;
	for (int i = 0; i < 4; i++)
		n += smtpproto_line(&p, SMTPCMD_OTHER, true, true) != 0;
	if (n != 2 || p.found != (SMTPPROTO_PREGREET | SMTPPROTO_PIPELINING |
	    SMTPPROTO_BARE_LF))
		fail_msg("got %u calls with findings (found 0x%x), want 2 "
		    "(0x%x)", n, p.found, SMTPPROTO_PREGREET |
		    SMTPPROTO_PIPELINING | SMTPPROTO_BARE_LF);
}

/*
 * The round-trip rule: times in ms from the SYN-ACK's departure (-1: not
 * known), the first bytes' arrival and ACK number (relative to the
 * server's ISN; the ISN known unless said).  Twins: every legitimate
 * timing of a client that waited finds nothing.
 */
struct rtt_case {
	const char *name;
	int64_t synack, ack, at;		/* ms; -1: not known */
	bool no_isn;
	uint32_t ack_rel;			/* the bytes' ACK - ISN */
	enum smtpproto_greet want;
};

#define RTT_ISN		0xfffffff0u	/* the ACK check crosses the wrap */
#define RTT_T0_MS	1000000		/* the clock's value at the SYN-ACK */
#define BANNER_LEN	30

static const struct rtt_case rtt_cases[] = {
	{ "waited a round trip: clean", 0, 150, 302, false, 1 + BANNER_LEN,
	    SMTPPROTO_GREET_NONE },
	{ "sent 30 ms after the handshake over 150 ms: rtt", 0, 150, 180,
	    false, 1 + BANNER_LEN, SMTPPROTO_GREET_RTT },
	{ "acknowledged nothing of the server: ack", 0, 150, 180, false, 1,
	    SMTPPROTO_GREET_ACK },
	{ "ack proof needs no times", -1, -1, 181, false, 1,
	    SMTPPROTO_GREET_ACK },
	{ "ack proof needs the ISN", -1, -1, 181, true, 1,
	    SMTPPROTO_GREET_NONE },
	{ "within the tolerance (rtt/4): clean", 0, 100, 100 + 76, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_NONE },
	{ "just past the tolerance: rtt", 0, 100, 100 + 74, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_RTT },
	{ "a 4 ms path: the 2 ms floor, clean at 2 ms", 0, 4, 4 + 2, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_NONE },
	{ "a 4 ms path: 1 ms after the handshake: rtt", 0, 4, 4 + 1, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_RTT },
	{ "a zero round trip: not judged", 0, 0, 1, false, 1 + BANNER_LEN,
	    SMTPPROTO_GREET_NONE },
	{ "no SYN-ACK time: not judged", -1, 150, 160, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_NONE },
	{ "no ACK time: not judged", 0, -1, 160, false, 1 + BANNER_LEN,
	    SMTPPROTO_GREET_NONE },
	{ "bytes before the ACK: not judged", 0, 150, 140, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_NONE },
	{ "ACK before the SYN-ACK: not judged", 50, 10, 70, false,
	    1 + BANNER_LEN, SMTPPROTO_GREET_NONE },
	{ "a slow client, banner ACKed, long after: clean", 0, 200, 5000,
	    false, 1 + BANNER_LEN, SMTPPROTO_GREET_NONE },
	{ "part of the banner acknowledged, late enough: clean", 0, 150,
	    310, false, 1 + 10, SMTPPROTO_GREET_NONE },
};

static int64_t
rtt_us(int64_t ms)
{
	return ms < 0 ? 0 : (RTT_T0_MS + ms) * 1000;
}

static void
test_rtt(void **state)
{
	const struct rtt_case *k = *state;
	struct smtpproto_times t = {
		.synack_us = rtt_us(k->synack),
		.ack_us = rtt_us(k->ack),
		.have_isn = !k->no_isn,
		.isn = RTT_ISN,
	};
	struct smtpproto_rtt out;
	enum smtpproto_greet g = smtpproto_rtt_rule(&t, rtt_us(k->at),
	    RTT_ISN + k->ack_rel, &out);

	if (g != k->want)
		fail_msg("%s: got \"%s\" (rtt %lld us, gap %lld us, tolerance "
		    "%lld us), want \"%s\"", k->name, smtpproto_greet_name(g),
		    (long long)out.rtt_us, (long long)out.gap_us,
		    (long long)out.tol_us, smtpproto_greet_name(k->want));
}

/* The session's test: once, and not after the order test found it. */
static void
test_rtt_session(void **state)
{
	struct smtpproto p;
	struct smtpproto_times t = { rtt_us(0), rtt_us(150), true, RTT_ISN };

	(void)state;
	smtpproto_init(&p);
	(void)smtpproto_segment(&p, SMTPPROTO_SRV_BANNER, RTT_ISN + 1);
	if (smtpproto_times_judge(&p, &t, rtt_us(160), RTT_ISN + 1) !=
	    SMTPPROTO_PREGREET || p.greet != SMTPPROTO_GREET_ACK)
		fail_msg("got greet %s, want a pregreet finding (ack)",
		    smtpproto_greet_name(p.greet));
	if (smtpproto_times_judge(&p, &t, rtt_us(160), RTT_ISN + 1) != 0)
		fail_msg("a second finding in one session");
	smtpproto_init(&p);
	(void)smtpproto_segment(&p, SMTPPROTO_SRV_SYNACK, RTT_ISN + 1);
	if (p.greet != SMTPPROTO_GREET_ORDER ||
	    smtpproto_times_judge(&p, &t, rtt_us(160), RTT_ISN + 1) != 0)
		fail_msg("order first: got greet %s and a second finding",
		    smtpproto_greet_name(p.greet));
}

int
main(void)
{
	struct CMUnitTest t[sizeof(cases) / sizeof(cases[0]) +
	    sizeof(rtt_cases) / sizeof(rtt_cases[0]) + 2];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_case);
		t[n].name = cases[i].name;
		t[n].initial_state = (void *)&cases[i];
		n++;
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_once);
	for (size_t i = 0; i < sizeof(rtt_cases) / sizeof(rtt_cases[0]); i++) {
		t[n] = (struct CMUnitTest)cmocka_unit_test(test_rtt);
		t[n].name = rtt_cases[i].name;
		t[n].initial_state = (void *)&rtt_cases[i];
		n++;
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_rtt_session);
	return _cmocka_run_group_tests("smtpproto", t, n, NULL, NULL);
}
