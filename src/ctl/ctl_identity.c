/*
 * ctl_identity.c - smtpgatectl identity HOST|IP [--helo NAME] [--connect]:
 * your own server as a receiving gateway sees it, one line per step,
 * PASS, WARN or FAIL and why; exit CTL_CHECKFAIL when any step fails.
 *
 * Exports ctl_identity_main.  This file asks; ctl_identity_steps.c judges
 * the answers into steps and prints them (ctl_identity.h).  Runs on one
 * event loop in this process, as check does (ctl_check.c): every DNS
 * question through dns.c (c-ares, the [dns] resolvers, each bounded by
 * [gate] deadline_ms), SPF through the
 * sandboxed helpers of spfcheck.c, the connection to port 25 non-blocking
 * under the -t timeout.  Nothing blocks inside the loop; the only blocking
 * call, postconf for the HELO name, runs before it, bounded by a timeout.
 *
 * What the answers mean is decided by the code the gate uses: findings.c
 * (PTR, forward confirmation, DNSBL scores and the lists' health probes),
 * ptrclass (generic or named), helo_judge (the sniffer's HELO rules
 * without DNS), helo_spf_fails (what the sniffer counts as an SPF
 * failure).  identity.c holds the pure parts of this command alone: the
 * label count, the TXT answer read as SPF (where a split record was
 * split), the greeting parsed.
 *
 * Steps, for each address of HOST (at most CTL_ID_ADDRS):
 *   ptr     a PTR record exists and names a host
 *   fqdn    that name has at least three labels
 *   fcrdns  the name's A/AAAA records hold the address
 *   class   the name is not generic by the gate's classifier
 *   helo    the HELO name resolves to the address (and is the PTR name)
 *   spf     the HELO name's SPF record exists, parses, passes the address;
 *           a record split into strings that join into something else is
 *           named; ~all and ?all are flagged
 *   dnsbl   one line per [gate] dnsbl_sites zone
 *   banner  (--connect) the 220 greeting of port 25 and its name
 * Bytes from DNS and the server are hostile: they reach the output only
 * escaped (identity_escape; JSON through ctl_out.c on top).
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "ctl_identity.h"

static void ctl_id_answer(void *arg, const struct dns_result *r);
static void ctl_id_addr_start(struct ctl_identity *k, size_t ai);

static void
ctl_id_maybe_done(struct ctl_identity *k)
{
	if (k->due == 0 && k->spf_due == 0 && k->conn_due == 0)
		evloop_break(k->ev);
}

static void
ctl_id_ask(struct ctl_identity *k, const char *name, enum dns_type type,
    enum ctl_id_q_kind kind, unsigned ai, unsigned idx)
{
	struct ctl_id_q *q;

	if (k->nq == sizeof(k->q) / sizeof(k->q[0]))
		return;
	q = &k->q[k->nq++];
	q->k = k;
	q->kind = kind;
	q->ai = ai;
	q->idx = idx;
	k->due++;
	dns_query_until(k->dns, name, type, evloop_now_ms(k->ev) +
	    k->c->conf.gate.deadline_ms, ctl_id_answer, q);
}

/* An address of HOST, once. */
static void
ctl_id_add_addr(struct ctl_identity *k, const struct addr *a)
{
	for (size_t i = 0; i < k->naddrs; i++)
		if (addr_eq(&k->addr[i].a, a))
			return;
	if (k->naddrs == CTL_ID_ADDRS) {
		k->nmore++;
		return;
	}
	k->addr[k->naddrs].a = *a;
	ctl_id_addr_start(k, k->naddrs++);
}

static void
ctl_id_answer(void *arg, const struct dns_result *r)
{
	struct ctl_id_q *q = arg;
	struct ctl_identity *k = q->k;
	struct ctl_id_addr *ad = &k->addr[q->ai];
	struct ctl_id_answer *ans = NULL;

	k->due--;
	if (!k->over && r->status != DNS_CANCELLED) {
		switch (q->kind) {
		case QI_HOST4: ans = &k->host[0]; break;
		case QI_HOST6: ans = &k->host[1]; break;
		case QI_HELO4: ans = &k->helo_a[0]; break;
		case QI_HELO6: ans = &k->helo_a[1]; break;
		case QI_PTR: ans = &ad->ptr; break;
		case QI_FWD: ans = &ad->fwd[q->idx]; break;
		case QI_BL: ans = &ad->bl[q->idx]; break;
		case QI_PROBE2: ans = &k->probe2[q->idx]; break;
		case QI_PROBE1: ans = &k->probe1[q->idx]; break;
		}
		ans->done = true;
		ans->r = *r;	/* r.error is a static string (dns.h) */
		if (q->kind == QI_HOST4 || q->kind == QI_HOST6)
			for (size_t i = 0; r->status == DNS_OK &&
			    i < r->naddrs; i++)
				ctl_id_add_addr(k, &r->addrs[i]);
		if (q->kind == QI_FWD)
			findings_fwd(&ad->f, q->idx, r);
		if (q->kind == QI_PTR) {
			size_t n = findings_ptr(&ad->f, r);

			for (size_t i = 0; i < n; i++)
				ctl_id_ask(k, ad->f.names[i],
				    findings_fwd_type(&ad->f), QI_FWD, q->ai,
				    (unsigned)i);
		}
	}
	ctl_id_maybe_done(k);
}

static void
ctl_id_txt(void *arg, enum dns_status st, const unsigned char *abuf,
    size_t alen)
{
	struct ctl_identity *k = arg;

	k->due--;
	if (!k->over && st != DNS_CANCELLED) {
		k->txt_done = true;
		k->txt_status = st;
		if (st == DNS_OK)
			dns_parse_txt(abuf, alen, &k->txt);
	}
	ctl_id_maybe_done(k);
}

static void
ctl_id_spf(void *arg, enum spfcheck_result r)
{
	struct ctl_id_addr *ad = arg;
	struct ctl_identity *k = ad->k;

	k->spf_due--;
	if (!k->over && r != SPFCHECK_CANCELLED)
		ad->spf = (int)r;
	ctl_id_maybe_done(k);
}

/* ---- the connection to port 25 ---- */

static void
ctl_id_conn_end(struct ctl_id_addr *ad, const char *err)
{
	struct ctl_identity *k = ad->k;

	if (ad->conn == CONN_DONE)
		return;
	if (ad->fd >= 0) {
		/* A polite end when the greeting came; errors do not
		 * matter any more. */
		if (err == NULL)
			(void)!write(ad->fd, "QUIT\r\n", 6);
		(void)evloop_fd_del(k->ev, ad->fd);
		close(ad->fd);
		ad->fd = -1;
	}
	if (ad->timer != NULL) {
		evloop_timer_cancel(k->ev, ad->timer);
		ad->timer = NULL;
	}
	ad->conn = CONN_DONE;
	ad->conn_err = err;
	ad->ms = evloop_now_ms(k->ev) - ad->t0_ms;
	k->conn_due--;
	ctl_id_maybe_done(k);
}

static void
ctl_id_conn_timeout(void *arg)
{
	struct ctl_id_addr *ad = arg;

	ad->timer = NULL;	/* fired: not to be cancelled */
	ctl_id_conn_end(ad, ad->conn == CONN_CONNECTING ?
	    "no connection before the timeout (-t)" :
	    "no complete greeting before the timeout (-t)");
}

static void
ctl_id_conn_io(int fd, uint32_t events, void *arg)
{
	struct ctl_id_addr *ad = arg;
	struct identity_banner b;
	ssize_t got;

	(void)events;
	if (ad->conn == CONN_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
			e = errno;
		if (e != 0) {
			snprintf(ad->conn_errbuf, sizeof(ad->conn_errbuf),
			    "connect: %s", strerror(e));
			ctl_id_conn_end(ad, ad->conn_errbuf);
			return;
		}
		ad->conn = CONN_READING;
		if (evloop_fd_mod(ad->k->ev, fd, EPOLLIN) == -1) {
			snprintf(ad->conn_errbuf, sizeof(ad->conn_errbuf),
			    "epoll_ctl: %s", strerror(errno));
			ctl_id_conn_end(ad, ad->conn_errbuf);
		}
		return;
	}
	got = read(fd, ad->banner + ad->blen, sizeof(ad->banner) - ad->blen);
	if (got == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got == -1) {
		snprintf(ad->conn_errbuf, sizeof(ad->conn_errbuf), "read: %s",
		    strerror(errno));
		ctl_id_conn_end(ad, ad->conn_errbuf);
		return;
	}
	ad->blen += (size_t)got;
	identity_banner_parse(ad->banner, ad->blen, &b);
	if (b.state != IDENTITY_BANNER_PARTIAL)
		ctl_id_conn_end(ad, NULL);
	else if (got == 0)
		ctl_id_conn_end(ad, ad->blen == 0 ? "the server closed the "
		    "connection without a greeting" : "the server closed the "
		    "connection inside its greeting");
	else if (ad->blen == sizeof(ad->banner))
		ctl_id_conn_end(ad, "a greeting longer than "
		    "IDENTITY_BANNER_MAX bytes");
}

static void
ctl_id_conn_start(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (ad->a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(CTL_ID_SMTP_PORT);
		memcpy(&s4->sin_addr, ad->a.b, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(CTL_ID_SMTP_PORT);
		memcpy(&s6->sin6_addr, ad->a.b, 16);
		sl = sizeof(*s6);
	}
	ad->conn = CONN_CONNECTING;
	ad->t0_ms = evloop_now_ms(k->ev);
	k->conn_due++;
	ad->fd = socket(ad->a.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (ad->fd == -1) {
		snprintf(ad->conn_errbuf, sizeof(ad->conn_errbuf),
		    "socket: %s", strerror(errno));
		ctl_id_conn_end(ad, ad->conn_errbuf);
		return;
	}
	if (connect(ad->fd, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(ad->conn_errbuf, sizeof(ad->conn_errbuf),
		    "connect: %s", strerror(errno));
		ctl_id_conn_end(ad, ad->conn_errbuf);
		return;
	}
	/* Connected at once or not: the loop says so (EPOLLOUT). */
	if (evloop_fd_add(k->ev, ad->fd, EPOLLOUT, ctl_id_conn_io, ad) ==
	    -1 || (ad->timer = evloop_timer_at(k->ev, ad->t0_ms +
	    k->c->timeout_ms, ctl_id_conn_timeout, ad)) == NULL) {
		snprintf(ad->conn_errbuf, sizeof(ad->conn_errbuf),
		    "event loop: %s", strerror(errno));
		ctl_id_conn_end(ad, ad->conn_errbuf);
	}
}

/* Every question about address ai, and its connection. */
static void
ctl_id_addr_start(struct ctl_identity *k, size_t ai)
{
	const struct dnsbl_sites *s = &k->c->conf.gate.dnsbl_sites;
	struct ctl_id_addr *ad = &k->addr[ai];
	char name[ADDR_REVNAME_MAX];

	ad->k = k;
	ad->fd = -1;
	ad->spf = HELO_PENDING;
	findings_init(&ad->f, &k->c->conf.gate, &ad->a);
	if (addr_reverse_name(&ad->a, NULL, name, sizeof(name)) > 0)
		ctl_id_ask(k, name, DNS_PTR, QI_PTR, (unsigned)ai, 0);
	for (size_t z = 0; z < s->nzones; z++)
		if (addr_reverse_name(&ad->a, s->zone[z], name,
		    sizeof(name)) > 0)
			ctl_id_ask(k, name, DNS_A, QI_BL, (unsigned)ai,
			    (unsigned)z);
	if (k->spfc != NULL) {
		struct spfcheck_req r = { .client = ad->a, .helo = k->helo,
		    .mail_from = NULL, .deadline_ms = evloop_now_ms(k->ev) +
		    k->c->conf.gate.deadline_ms };

		k->spf_due++;
		ad->spf_asked = true;
		if (spfcheck_query(k->spfc, &r, ctl_id_spf, ad) == -1) {
			k->spf_due--;	/* a cap: stays unanswered */
			ad->spf_asked = false;
		}
	}
	if (k->connect)
		ctl_id_conn_start(k, ad);
}

static void
ctl_id_deadline(void *arg)
{
	struct ctl_identity *k = arg;

	k->over = true;
	evloop_break(k->ev);
}

/* ---- the HELO name from Postfix ---- */

/*
 * `postconf -h myhostname` into out (HELO_NAME_MAX), run without a shell,
 * its stdin and stderr /dev/null, killed after CTL_ID_POSTCONF_MS.  0, or
 * -1 with why.
 */
static int
ctl_id_postconf(char *out, char *why, size_t whylen)
{
	char buf[HELO_NAME_MAX + 2];
	size_t n = 0;
	int p[2], st = 0;
	pid_t pid;
	int64_t end = evloop_clock_us() / 1000 + CTL_ID_POSTCONF_MS;
	bool timed_out = false;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		char *argv[] = { "postconf", "-h", "myhostname", NULL };

		if (null == -1 || dup2(null, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(null, 2) == -1)
			_exit(126);
		execvp("postconf", argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int64_t left = end - evloop_clock_us() / 1000;
		ssize_t got;
		int rc;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		rc = poll(&pf, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0) {
			timed_out = rc == 0;
			break;
		}
		got = read(p[0], buf + n, sizeof(buf) - 1 - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == sizeof(buf) - 1)
			break;	/* longer than any host name: judged below */
	}
	close(p[0]);
	if (timed_out)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (timed_out) {
		snprintf(why, whylen, "postconf -h myhostname gave no answer "
		    "within %d ms", CTL_ID_POSTCONF_MS);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		snprintf(why, whylen, "postconf not found (Postfix is not "
		    "installed here): give --helo NAME");
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, whylen, "postconf -h myhostname failed (status "
		    "%d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0 || n >= HELO_NAME_MAX || strlen(buf) != n) {
		snprintf(why, whylen, "postconf -h myhostname printed no "
		    "host name");
		return -1;
	}
	memcpy(out, buf, n + 1);
	return 0;
}

static int
ctl_id_run(struct ctl_identity *k)
{
	const struct conf_gate *g = &k->c->conf.gate;
	const struct dnsbl_sites *s = &g->dnsbl_sites;
	const uint8_t two[4] = { 127, 0, 0, 2 }, one[4] = { 127, 0, 0, 1 };
	char name[ADDR_REVNAME_MAX];
	struct addr probe, a;
	int64_t span;

	int rc;

	if ((rc = ctl_lookups_dns(k->c, "identity", k->ev, &k->dns)) !=
	    CTL_OK)
		return rc;
	if (k->helo[0] != '\0' && k->helo_mask == 0 &&
	    (rc = ctl_lookups_spf(k->c, "identity", k->ev, CTL_ID_ADDRS,
	    &k->spfc)) != CTL_OK)
		return rc;
	/* host -> PTR -> forward: three rounds of the gate's deadline; a
	 * connection starts once the host's addresses are in (one round)
	 * and has -t from then. */
	span = 3 * (int64_t)g->deadline_ms;
	if (k->connect && g->deadline_ms + (int64_t)k->c->timeout_ms > span)
		span = g->deadline_ms + (int64_t)k->c->timeout_ms;
	if (evloop_timer_at(k->ev, evloop_now_ms(k->ev) + span,
	    ctl_id_deadline, k) == NULL) {
		fprintf(stderr, "smtpgatectl: identity: out of memory\n");
		return CTL_SYSERR;
	}
	if (k->helo[0] != '\0' && k->helo_mask == 0) {
		ctl_id_ask(k, k->helo, DNS_A, QI_HELO4, 0, 0);
		ctl_id_ask(k, k->helo, DNS_AAAA, QI_HELO6, 0, 0);
		k->due++;
		dns_query_raw(k->dns, k->helo, DNS_WIRE_TXT,
		    evloop_now_ms(k->ev) + g->deadline_ms, ctl_id_txt, k);
	}
	for (size_t z = 0; z < s->nzones; z++) {
		addr_from_v4(&probe, two);
		if (addr_reverse_name(&probe, s->zone[z], name,
		    sizeof(name)) > 0)
			ctl_id_ask(k, name, DNS_A, QI_PROBE2, 0, (unsigned)z);
		addr_from_v4(&probe, one);
		if (addr_reverse_name(&probe, s->zone[z], name,
		    sizeof(name)) > 0)
			ctl_id_ask(k, name, DNS_A, QI_PROBE1, 0, (unsigned)z);
	}
	if (k->target_is_ip) {
		if (addr_parse(k->target, &a) == 0)
			ctl_id_add_addr(k, &a);
	} else {
		ctl_id_ask(k, k->target, DNS_A, QI_HOST4, 0, 0);
		ctl_id_ask(k, k->target, DNS_AAAA, QI_HOST6, 0, 0);
	}
	/* Every answer comes from the loop (dns.h, spfcheck.h). */
	if (k->due > 0 || k->spf_due > 0 || k->conn_due > 0)
		(void)evloop_run(k->ev);
	k->over = true;
	/* Connections still open at the deadline end here, unread. */
	for (size_t i = 0; i < k->naddrs; i++)
		if (k->addr[i].conn == CONN_CONNECTING ||
		    k->addr[i].conn == CONN_READING)
			ctl_id_conn_end(&k->addr[i], "no complete greeting "
			    "before the deadline");
	return CTL_OK;
}

#define CTL_ID_USAGE "usage: smtpgatectl identity HOST|IP [--helo NAME] " \
	"[--connect] [--json]\n"

int
ctl_identity_main(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "helo", required_argument, NULL, 'H' },
		{ "connect", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ctl_identity k;	/* large: off the stack */
	struct ptrclass *pc = NULL;
	const char *helo_arg = NULL;
	struct addr a;
	int ch, rc;

	memset(&k, 0, sizeof(k));
	k.c = c;
	optind = 0;	/* glibc: 0 re-initialises (main used "+" ordering) */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			helo_arg = optarg;
			break;
		case 'C':
			k.connect = true;
			break;
		default:
			fputs(CTL_ID_USAGE, stderr);
			return CTL_BADINPUT;
		}
	}
	if (argc - optind != 1) {
		fputs(CTL_ID_USAGE, stderr);
		return CTL_BADINPUT;
	}
	k.target = argv[optind];
	if (addr_parse(k.target, &a) == 0) {
		k.target_is_ip = true;
	} else if (identity_labels(k.target) == 0) {
		char shown[80];

		fprintf(stderr, "smtpgatectl: identity: \"%s\": neither an "
		    "address nor a host name\n", identity_escape(
		    (const unsigned char *)k.target, strnlen(k.target, 64),
		    shown, sizeof(shown)));
		return CTL_BADINPUT;
	}
	if (helo_arg != NULL && strlen(helo_arg) >= HELO_NAME_MAX) {
		fprintf(stderr, "smtpgatectl: identity: --helo: longer than "
		    "%d bytes\n", HELO_NAME_MAX - 1);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	if (helo_arg != NULL) {
		snprintf(k.helo_raw, sizeof(k.helo_raw), "%s", helo_arg);
		k.helo_src = "--helo";
	} else if (ctl_id_postconf(k.helo_raw, k.helo_why,
	    sizeof(k.helo_why)) == 0) {
		k.helo_src = "postconf myhostname";
	}
	if (k.helo_raw[0] != '\0') {
		/* The sniffer's rules that need no DNS, on the name as the
		 * server sends it; own-name and own-address are about
		 * clients that pretend to be us, and this is us. */
		k.helo_mask = helo_judge(&c->conf.sniffer, k.helo_raw,
		    strlen(k.helo_raw), k.helo) & ~(1u << RULE_OWN_NAME |
		    1u << RULE_OWN_ADDRESS);
		identity_escape((const unsigned char *)k.helo_raw,
		    strlen(k.helo_raw), k.helo_shown, sizeof(k.helo_shown));
	}
	if ((rc = ctl_lookups_open(c, "identity", &pc, &k.ev)) != CTL_OK)
		return rc;
	rc = ctl_id_run(&k);
	if (rc == CTL_OK) {
		ctl_id_steps(&k, pc);
		ctl_id_print(&k);
		rc = k.failed ? CTL_CHECKFAIL : CTL_OK;
	}
	ctl_lookups_close(k.dns, k.spfc, k.ev, pc);
	return rc;
}
