/*
 * ctl_identity.c - smtpgatectl identity HOST|IP [--helo NAME] [--connect]:
 * your own server as a receiving gateway sees it, one line per step,
 * PASS, WARN or FAIL and why; exit CTL_CHECKFAIL when any step fails.
 *
 * Exports ctl_identity_main.  Runs on one event loop in this process, as
 * check does (ctl_check.c): every DNS question through dns.c (c-ares, the
 * [dns] resolvers, each bounded by [gate] deadline_ms), SPF through the
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
 *   helo    the HELO name is the PTR name or resolves to the address
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "ctl.h"
#include "dns.h"
#include "dnsbl.h"
#include "evloop.h"
#include "findings.h"
#include "helo.h"
#include "identity.h"
#include "ptrclass.h"
#include "spfcheck.h"

#define CTL_ID_ADDRS		8	/* addresses of HOST checked */
#define CTL_ID_STEPS		512
#define CTL_ID_TEXT		1024	/* bytes of one step's explanation */
#define CTL_ID_POSTCONF_MS	3000	/* postconf -h myhostname at most */
#define CTL_ID_SMTP_PORT	25

enum ctl_id_result { ID_PASS, ID_WARN, ID_FAIL };

struct ctl_id_step {
	enum ctl_id_result res;
	const char *check;		/* "ptr", "fqdn", ... (static) */
	char addr[ADDR_STRLEN];		/* "" for HOST's own steps */
	char text[CTL_ID_TEXT];		/* escaped already */
};

struct ctl_id_answer {
	bool done;			/* answered before the deadline */
	struct dns_result r;
};

enum ctl_id_q_kind { QI_HOST4, QI_HOST6, QI_HELO4, QI_HELO6, QI_PTR,
	QI_FWD, QI_BL, QI_PROBE2, QI_PROBE1 };

struct ctl_identity;

struct ctl_id_q {
	struct ctl_identity *k;
	enum ctl_id_q_kind kind;
	unsigned ai;			/* address index */
	unsigned idx;			/* name or zone index */
};

enum ctl_id_conn { CONN_NONE, CONN_CONNECTING, CONN_READING, CONN_DONE };

/* One address of HOST and what was learned about it. */
struct ctl_id_addr {
	struct ctl_identity *k;
	struct addr a;
	struct findings f;		/* the gate's view from the answers */
	struct ctl_id_answer ptr;
	struct ctl_id_answer fwd[DNS_MAX_NAMES];
	struct ctl_id_answer bl[DNSBL_MAX_SITES];
	int spf;			/* spfcheck_result or HELO_PENDING */
	bool spf_asked;
	/* --connect */
	enum ctl_id_conn conn;
	int fd;
	struct ev_timer *timer;
	int64_t t0_ms;
	int64_t ms;			/* to the end of the greeting */
	const char *conn_err;		/* static, or in conn_errbuf */
	char conn_errbuf[128];
	unsigned char banner[IDENTITY_BANNER_MAX];
	size_t blen;
};

struct ctl_identity {
	struct ctl *c;
	struct evloop *ev;
	struct dns *dns;
	struct spfcheck *spfc;
	const char *target;		/* HOST or IP as given */
	bool target_is_ip;
	bool connect;
	unsigned due;			/* DNS queries outstanding */
	unsigned spf_due;		/* SPF checks outstanding */
	unsigned conn_due;		/* connections outstanding */
	bool over;			/* deadline passed: ignore answers */
	struct ctl_id_answer host[2];	/* A, AAAA of HOST */
	struct ctl_id_addr addr[CTL_ID_ADDRS];
	size_t naddrs;
	size_t nmore;			/* addresses of HOST left out */
	/* the HELO name */
	char helo[HELO_NAME_MAX];	/* canonical, "" none or no host name */
	char helo_raw[HELO_NAME_MAX];	/* as given, "" none */
	char helo_shown[4 * HELO_NAME_MAX];	/* as given, escaped */
	const char *helo_src;		/* "--helo", "postconf myhostname" */
	char helo_why[160];		/* why there is none */
	uint32_t helo_mask;		/* sniffer rules broken without DNS */
	struct ctl_id_answer helo_a[2];	/* A, AAAA */
	bool txt_done;
	enum dns_status txt_status;
	struct dns_txt txt;
	/* DNSBL health probes, per zone */
	struct ctl_id_answer probe2[DNSBL_MAX_SITES], probe1[DNSBL_MAX_SITES];
	struct ctl_id_q q[4 + 2 * DNSBL_MAX_SITES + CTL_ID_ADDRS *
	    (1 + DNS_MAX_NAMES + DNSBL_MAX_SITES)];
	size_t nq;
	struct ctl_id_step step[CTL_ID_STEPS];
	size_t nsteps;
	bool failed;
};

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

/* ---- the steps ---- */

static void ctl_id_step(struct ctl_identity *k, enum ctl_id_result res,
    const char *check, const struct ctl_id_addr *ad, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
ctl_id_step(struct ctl_identity *k, enum ctl_id_result res,
    const char *check, const struct ctl_id_addr *ad, const char *fmt, ...)
{
	struct ctl_id_step *s;
	va_list ap;

	if (res == ID_FAIL)
		k->failed = true;
	if (k->nsteps == CTL_ID_STEPS)
		return;
	s = &k->step[k->nsteps++];
	s->res = res;
	s->check = check;
	s->addr[0] = '\0';
	if (ad != NULL)
		addr_ntop(&ad->a, s->addr);
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
}

static const char *
ctl_id_status(const struct ctl_id_answer *a)
{
	if (!a->done)
		return "no answer before the deadline";
	switch (a->r.status) {
	case DNS_OK: return a->r.naddrs || a->r.nnames ? "ok" : "no records";
	case DNS_NXDOMAIN: return "NXDOMAIN";
	case DNS_NODATA: return "no records";
	case DNS_BADNAME: return "answered, but no name is a host name";
	case DNS_ERROR: return a->r.error != NULL ? a->r.error : "error";
	default: return "cancelled";
	}
}

/* The addresses of an answer, space-separated, into buf. */
static const char *
ctl_id_addrs(const struct ctl_id_answer *a, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "",
		    addr_ntop(&a->r.addrs[i], ip));
	return buf;
}

static bool
ctl_id_answer_has(const struct ctl_id_answer *a, const struct addr *x)
{
	for (size_t i = 0; a->done && a->r.status == DNS_OK &&
	    i < a->r.naddrs; i++)
		if (addr_eq(&a->r.addrs[i], x))
			return true;
	return false;
}

static void
ctl_id_steps_ptr(struct ctl_identity *k, struct ctl_id_addr *ad,
    const struct ptrclass *pc)
{
	const struct findings *f = &ad->f;
	const char *rr = ad->a.family == AF_INET ? "A" : "AAAA";
	struct findings_judgment j;
	char list[DNS_MAX_NAMES * DNS_NAME_MAX], addrs[512], ip[ADDR_STRLEN];
	size_t o = 0;
	unsigned labels;

	if (!ad->ptr.done || (ad->ptr.r.status != DNS_OK &&
	    ad->ptr.r.status != DNS_BADNAME)) {
		bool absent = ad->ptr.done &&
		    (ad->ptr.r.status == DNS_NXDOMAIN ||
		    ad->ptr.r.status == DNS_NODATA);

		ctl_id_step(k, ID_FAIL, "ptr", ad, absent ? "no PTR record "
		    "(%s): receivers that want reverse DNS refuse this "
		    "address (smtpgate: no_ptr)" : "the PTR lookup failed "
		    "(%s): receivers cannot judge the address and may defer "
		    "it", ctl_id_status(&ad->ptr));
		return;
	}
	if (f->ptr_bad) {
		ctl_id_step(k, ID_FAIL, "ptr", ad, "the PTR record names no "
		    "host name: %s (%s)", f->bad, f->bad_why);
		return;
	}
	for (size_t i = 0; i < f->nnames; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? " " : "", f->names[i]);
	if (f->nnames > 1)
		ctl_id_step(k, ID_WARN, "ptr", ad, "%zu PTR names: %s "
		    "(receivers may judge any one of them; one is best)",
		    f->nnames, list);
	else
		ctl_id_step(k, ID_PASS, "ptr", ad, "PTR %s", list);
	labels = identity_labels(f->names[0]);
	if (labels >= 3)
		ctl_id_step(k, ID_PASS, "fqdn", ad, "%s has %u labels",
		    f->names[0], labels);
	else
		ctl_id_step(k, ID_FAIL, "fqdn", ad, "%s has %u label%s: "
		    "receivers want a host name of at least three "
		    "(mail.example.com, not example.com)", f->names[0], labels,
		    labels == 1 ? "" : "s");
	findings_judge(f, pc, &j);
	for (size_t i = 0; i < f->nfwd; i++) {
		const struct ctl_id_answer *fw = &ad->fwd[i];
		bool has = fw->done && fw->r.status == DNS_OK &&
		    fw->r.naddrs > 0;

		if (f->fwd[i] == FINDINGS_FWD_CONFIRMS)
			ctl_id_step(k, ID_PASS, "fcrdns", ad, "%s %s %s "
			    "holds the address: forward-confirmed",
			    f->names[i], rr, ctl_id_addrs(fw, addrs,
			    sizeof(addrs)));
		else if (has)
			ctl_id_step(k, j.confirmed >= 0 ? ID_WARN : ID_FAIL,
			    "fcrdns", ad, "%s %s %s does not hold %s: the "
			    "PTR name points elsewhere (not forward-confirmed)",
			    f->names[i], rr, ctl_id_addrs(fw, addrs,
			    sizeof(addrs)), addr_ntop(&ad->a, ip));
		else
			ctl_id_step(k, j.confirmed >= 0 ? ID_WARN : ID_FAIL,
			    "fcrdns", ad, "%s has no %s record (%s): the PTR "
			    "name does not lead back to the address (not "
			    "forward-confirmed)", f->names[i], rr,
			    ctl_id_status(fw));
	}
	if (j.name == NULL)
		return;
	if (j.pv.cls == PTR_NAMED)
		ctl_id_step(k, ID_PASS, "class", ad, "%s is named, not "
		    "generic, by smtpgate's classifier%s", j.name,
		    j.confirmed >= 0 ? "" : " (judged unconfirmed)");
	else
		ctl_id_step(k, ID_FAIL, "class", ad, "%s is %s by smtpgate's "
		    "classifier (%s): receivers that refuse dynamic-looking "
		    "names refuse it (smtpgate: generic_ptr); name the host "
		    "for what it is (mail.example.com)", j.name,
		    ptrclass_name(j.pv.cls), j.pv.reason[0] ? j.pv.reason :
		    "no reason");
}

static void
ctl_id_steps_helo(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct findings *f = &ad->f;
	char a4[512], a6[512];

	if (k->helo[0] == '\0' || k->helo_mask != 0)
		return;		/* said once, before the addresses */
	bool is_ptr = false, resolves;

	for (size_t i = 0; i < f->nnames; i++)
		is_ptr |= strcasecmp(f->names[i], k->helo) == 0;
	resolves = ctl_id_answer_has(&k->helo_a[0], &ad->a) ||
	    ctl_id_answer_has(&k->helo_a[1], &ad->a);
	if (resolves && is_ptr) {
		ctl_id_step(k, ID_PASS, "helo", ad, "HELO %s is the PTR name "
		    "and resolves to the address", k->helo);
		return;
	}
	if (resolves) {
		ctl_id_step(k, ID_PASS, "helo", ad, "HELO %s resolves to the "
		    "address (it is not the PTR name%s%s)", k->helo,
		    f->nnames ? " " : "", f->nnames ? f->names[0] : "");
		return;
	}
	ctl_id_addrs(&k->helo_a[0], a4, sizeof(a4));
	ctl_id_addrs(&k->helo_a[1], a6, sizeof(a6));
	ctl_id_step(k, ID_FAIL, "helo", ad, "HELO %s %s does not resolve to "
	    "the address (A: %s; AAAA: %s): receivers that check the HELO "
	    "name refuse it (smtpgate: helo-mismatch, helo-no-resolve)",
	    k->helo, is_ptr ? "is the PTR name but" :
	    "is not the PTR name and", a4[0] ? a4 :
	    ctl_id_status(&k->helo_a[0]), a6[0] ? a6 :
	    ctl_id_status(&k->helo_a[1]));
}

/* The strings of the TXT record rec, each quoted and escaped, into buf. */
static const char *
ctl_id_txt_strings(const struct dns_txt *t, int rec, char *buf, size_t len)
{
	const struct dns_txt_record *r = &t->rec[rec];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nstrings && o + 4 < len; i++) {
		char esc[IDENTITY_SPF_TEXT];

		identity_escape(t->text + r->s[i].off, r->s[i].len, esc,
		    sizeof(esc));
		o += (size_t)snprintf(buf + o, len - o, "%s\"%s\"", i ? " " :
		    "", esc);
	}
	return buf;
}

static void
ctl_id_steps_spf(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct conf_sniffer *cs = &k->c->conf.sniffer;
	struct identity_spf s;
	char strs[IDENTITY_SPF_TEXT];
	const char *h = k->helo;
	int r = ad->spf;

	if (h[0] == '\0' || k->helo_mask != 0 || k->spfc == NULL)
		return;
	if (!k->txt_done || k->txt_status == DNS_ERROR) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "the TXT lookup of %s "
		    "failed (%s): receivers get temperror", h, !k->txt_done ?
		    "no answer before the deadline" : "error");
		return;
	}
	if (k->txt_status != DNS_OK || k->txt.status != DNS_OK) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "%s has no TXT record "
		    "(%s): no SPF record, SPF of the HELO is none; publish "
		    "\"v=spf1 a -all\" or the like", h,
		    k->txt_status == DNS_NXDOMAIN ||
		    k->txt.status == DNS_NXDOMAIN ? "NXDOMAIN" :
		    k->txt.status == DNS_ERROR ? k->txt.error : "no records");
		return;
	}
	identity_spf_read(&k->txt, &s);
	if (s.nspf == 0 && s.nbroken > 0) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "the SPF record of %s is "
		    "split into %zu strings, %s, which receivers join with "
		    "nothing between (RFC 7208 3.3) into \"%s\": that is no "
		    "SPF record (SPF %s); put the spaces inside the strings: "
		    "\"%s\"", h, s.nstrings, ctl_id_txt_strings(&k->txt,
		    s.rec, strs, sizeof(strs)), s.joined,
		    r == HELO_PENDING ? "unknown" : spfcheck_name(r),
		    s.spaced);
		return;
	}
	if (s.nspf == 0) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "%s has TXT records but "
		    "none begins with \"v=spf1\": no SPF record (SPF %s)", h,
		    r == HELO_PENDING ? "unknown" : spfcheck_name(r));
		return;
	}
	if (s.nspf > 1) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "%s has %zu SPF records: "
		    "receivers answer permerror (RFC 7208 4.5); keep one", h,
		    s.nspf);
		return;
	}
	if (r == HELO_PENDING) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s: no "
		    "verdict before the deadline (record \"%s\")", h,
		    s.joined);
		return;
	}
	if (r == SPFCHECK_PERMERROR && s.glued > 0) {
		ctl_id_step(k, ID_FAIL, "spf", ad, "the SPF record of %s is "
		    "split into %zu strings, %s, joined as receivers read "
		    "them into \"%s\", which does not parse (permerror): a "
		    "space is missing at %s join%s", h, s.nstrings,
		    ctl_id_txt_strings(&k->txt, s.rec, strs, sizeof(strs)),
		    s.joined, s.glued == 1 ? "a" : "each", s.glued == 1 ? "" :
		    "s");
		return;
	}
	switch (r) {
	case SPFCHECK_PASS:
		if (s.all == '~' || s.all == '?')
			ctl_id_step(k, ID_WARN, "spf", ad, "SPF of "
			    "postmaster@%s passes for the address, but the "
			    "record ends in %call: other addresses get %s, "
			    "which receivers with %s = yes (smtpgate's default)"
			    " treat as fail; end it in -all (\"%s\")", h,
			    s.all, s.all == '~' ? "softfail" : "neutral",
			    s.all == '~' ? "spf_softfail_fails" :
			    "spf_neutral_fails", s.joined);
		else if (s.all == '+')
			ctl_id_step(k, ID_WARN, "spf", ad, "SPF of "
			    "postmaster@%s passes, but the record ends in "
			    "+all: it passes every address on the Internet "
			    "(\"%s\")", h, s.joined);
		else
			ctl_id_step(k, ID_PASS, "spf", ad, "SPF of "
			    "postmaster@%s passes for the address (\"%s\")", h,
			    s.joined);
		break;
	case SPFCHECK_SOFTFAIL:
	case SPFCHECK_NEUTRAL:
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s is "
		    "%s for the address (the record ends in %s, \"%s\"): "
		    "receivers with %s = yes treat it as fail (here: %s); "
		    "list the address and end in -all",
		    h, spfcheck_name(r), s.all ? (s.all == '~' ? "~all" :
		    s.all == '?' ? "?all" : s.all == '-' ? "-all" : "all") :
		    "no all", s.joined, r == SPFCHECK_SOFTFAIL ?
		    "spf_softfail_fails" : "spf_neutral_fails",
		    helo_spf_fails(cs, r) ? "yes, refused" : "no");
		break;
	case SPFCHECK_FAIL:
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s fails "
		    "for the address: the record does not list it (\"%s\")",
		    h, s.joined);
		break;
	case SPFCHECK_PERMERROR:
		ctl_id_step(k, ID_FAIL, "spf", ad, "the SPF record of %s does "
		    "not parse (permerror): \"%s\"", h, s.joined);
		break;
	default:
		ctl_id_step(k, ID_FAIL, "spf", ad, "SPF of postmaster@%s: %s "
		    "(\"%s\")", h, spfcheck_name(r), s.joined);
		break;
	}
}

/* The gate's health judgment of zone z (NULL: it asks the zone). */
static const char *
ctl_id_health(const struct ctl_identity *k, size_t z, char *buf, size_t len)
{
	struct findings_probe two = { .state = FINDINGS_PROBE_PENDING };
	struct findings_probe one = { .state = FINDINGS_PROBE_PENDING };
	enum findings_health h;

	if (k->probe2[z].done)
		findings_probe(&two, true, &k->probe2[z].r);
	if (k->probe1[z].done)
		findings_probe(&one, false, &k->probe1[z].r);
	h = findings_health(&two, &one, buf, len);
	return h == FINDINGS_HEALTH_OK || h == FINDINGS_HEALTH_UNKNOWN ?
	    NULL : buf;
}

static void
ctl_id_steps_dnsbl(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct dnsbl_sites *s = &k->c->conf.gate.dnsbl_sites;
	struct findings *f = &ad->f;

	for (size_t z = 0; z < s->nzones; z++) {
		char sick[128], ans[512];
		enum findings_zone st;

		if (ctl_id_health(k, z, sick, sizeof(sick)) != NULL) {
			ctl_id_step(k, ID_WARN, "dnsbl", ad, "%s not judged: "
			    "the gate disables this list (%s)", s->zone[z],
			    sick);
			continue;
		}
		findings_dnsbl_ask(f, z);
		st = ad->bl[z].done ? findings_dnsbl(f, z, &ad->bl[z].r) :
		    FINDINGS_ZONE_PENDING;
		ctl_id_addrs(&ad->bl[z], ans, sizeof(ans));
		if (st == FINDINGS_ZONE_CLEAR)
			ctl_id_step(k, ID_PASS, "dnsbl", ad, "not listed in "
			    "%s", s->zone[z]);
		else if (st == FINDINGS_ZONE_ANSWERED && f->zscore[z] > 0)
			ctl_id_step(k, ID_FAIL, "dnsbl", ad, "listed in %s "
			    "(answer %s, weight %d; the gate refuses at a score "
			    "of %d): ask the list's operator to delist the "
			    "address", s->zone[z], ans, f->zscore[z],
			    k->c->conf.gate.dnsbl_threshold);
		else if (st == FINDINGS_ZONE_ANSWERED && f->zscore[z] < 0)
			ctl_id_step(k, ID_PASS, "dnsbl", ad, "listed in the "
			    "allow list %s (answer %s, weight %d)", s->zone[z],
			    ans, f->zscore[z]);
		else if (st == FINDINGS_ZONE_ANSWERED && f->zerrors[z] > 0)
			ctl_id_step(k, ID_WARN, "dnsbl", ad, "%s answered an "
			    "operator error code (%s): the list refuses this "
			    "resolver, nothing is known", s->zone[z], ans);
		else if (st == FINDINGS_ZONE_ANSWERED)
			ctl_id_step(k, ID_PASS, "dnsbl", ad, "%s answers %s, "
			    "which no entry of dnsbl_sites counts", s->zone[z],
			    ans);
		else
			ctl_id_step(k, ID_WARN, "dnsbl", ad, "%s: %s (nothing "
			    "known)", s->zone[z], ctl_id_status(&ad->bl[z]));
	}
}

static void
ctl_id_steps_banner(struct ctl_identity *k, struct ctl_id_addr *ad)
{
	const struct findings *f = &ad->f;
	struct identity_banner b;

	if (ad->conn != CONN_DONE) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d: no complete "
		    "greeting before the deadline", CTL_ID_SMTP_PORT);
		return;
	}
	identity_banner_parse(ad->banner, ad->blen, &b);
	if (ad->conn_err != NULL) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d: %s%s%s%s",
		    CTL_ID_SMTP_PORT, ad->conn_err, b.first[0] ? " (read: \"" :
		    "", b.first, b.first[0] ? "\")" : "");
		return;
	}
	if (b.state == IDENTITY_BANNER_MALFORMED) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d: %s: \"%s\"",
		    CTL_ID_SMTP_PORT, b.why, b.first);
		return;
	}
	if (b.code != 220) {
		ctl_id_step(k, ID_FAIL, "banner", ad, "port %d greets with %u, "
		    "not 220: \"%s\"", CTL_ID_SMTP_PORT, b.code, b.first);
		return;
	}
	if (b.name[0] == '\0') {
		ctl_id_step(k, ID_WARN, "banner", ad, "\"%s\" (%lld ms) names "
		    "no host: receivers that compare it with the PTR name "
		    "find nothing", b.first, (long long)ad->ms);
		return;
	}
	for (size_t i = 0; i < f->nnames; i++)
		if (strcmp(b.name, f->names[i]) == 0) {
			ctl_id_step(k, ID_PASS, "banner", ad, "\"%s\" (%lld "
			    "ms) names %s, the PTR name%s", b.first,
			    (long long)ad->ms, b.name,
			    strcasecmp(b.name, k->helo) == 0 ? " and the HELO "
			    "name" : "");
			return;
		}
	if (k->helo[0] != '\0' && strcasecmp(b.name, k->helo) == 0) {
		ctl_id_step(k, ID_WARN, "banner", ad, "\"%s\" (%lld ms) names "
		    "%s, the HELO name but not the PTR name%s%s", b.first,
		    (long long)ad->ms, b.name, f->nnames ? " " : "",
		    f->nnames ? f->names[0] : "");
		return;
	}
	ctl_id_step(k, ID_WARN, "banner", ad, "\"%s\" (%lld ms) names %s, "
	    "neither the PTR name%s%s nor the HELO name%s%s", b.first,
	    (long long)ad->ms, b.name, f->nnames ? " " : "",
	    f->nnames ? f->names[0] : "", k->helo[0] ? " " : "", k->helo);
}

static void
ctl_id_steps(struct ctl_identity *k, const struct ptrclass *pc)
{
	char a4[512], a6[512];

	if (!k->target_is_ip) {
		ctl_id_addrs(&k->host[0], a4, sizeof(a4));
		ctl_id_addrs(&k->host[1], a6, sizeof(a6));
		if (k->naddrs == 0)
			ctl_id_step(k, ID_FAIL, "resolve", NULL, "%s has no "
			    "address (A: %s; AAAA: %s)", k->target,
			    ctl_id_status(&k->host[0]),
			    ctl_id_status(&k->host[1]));
		else
			ctl_id_step(k, k->nmore ? ID_WARN : ID_PASS, "resolve",
			    NULL, "%s has A %s, AAAA %s%s", k->target,
			    a4[0] ? a4 : ctl_id_status(&k->host[0]),
			    a6[0] ? a6 : ctl_id_status(&k->host[1]),
			    k->nmore ? " (only the first addresses checked)" :
			    "");
	}
	if (k->helo_raw[0] != '\0' && k->helo_mask != 0) {
		char rules[256];
		size_t o = 0;

		rules[0] = '\0';
		for (int r = 0; r < RULE_MAX; r++)
			if (k->helo_mask & (1u << r))
				o += (size_t)snprintf(rules + o, sizeof(rules) -
				    o, "%s%s", o ? ", " : "",
				    conf_rule_name(r));
		ctl_id_step(k, ID_FAIL, "helo", NULL, "HELO %s (%s) breaks "
		    "the sniffer's rule%s %s%s", k->helo_shown, k->helo_src,
		    strchr(rules, ',') ? "s" : "", rules, k->helo[0] ? "" :
		    ": not a host name; its DNS and SPF checks left out");
	} else if (k->helo_raw[0] != '\0' && k->helo[0] == '\0') {
		ctl_id_step(k, ID_FAIL, "helo", NULL, "HELO %s (%s) is not a "
		    "host name", k->helo_shown, k->helo_src);
	} else if (k->helo[0] != '\0') {
		ctl_id_step(k, ID_PASS, "helo", NULL, "HELO name %s (%s)",
		    k->helo, k->helo_src);
	} else {
		ctl_id_step(k, ID_WARN, "helo", NULL, "no HELO name, its "
		    "checks and SPF left out: %s", k->helo_why);
	}
	for (size_t i = 0; i < k->naddrs; i++) {
		struct ctl_id_addr *ad = &k->addr[i];

		ctl_id_steps_ptr(k, ad, pc);
		ctl_id_steps_helo(k, ad);
		ctl_id_steps_spf(k, ad);
		ctl_id_steps_dnsbl(k, ad);
		if (k->connect)
			ctl_id_steps_banner(k, ad);
	}
}

static const char *
ctl_id_result_name(enum ctl_id_result r)
{
	return r == ID_PASS ? "PASS" : r == ID_WARN ? "WARN" : "FAIL";
}

static void
ctl_id_print(const struct ctl_identity *k)
{
	size_t fails = 0, warns = 0;

	for (size_t i = 0; i < k->nsteps; i++) {
		fails += k->step[i].res == ID_FAIL;
		warns += k->step[i].res == ID_WARN;
	}
	if (k->c->fmt == CTL_FMT_JSON) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj(&j, NULL);
		ctl_json_str(&j, "target", k->target);
		ctl_json_str(&j, "helo", k->helo[0] ? k->helo : NULL);
		ctl_json_str(&j, "helo_source", k->helo[0] ? k->helo_src :
		    NULL);
		ctl_json_arr(&j, "addresses");
		for (size_t i = 0; i < k->naddrs; i++) {
			char ip[ADDR_STRLEN];

			ctl_json_str(&j, NULL, addr_ntop(&k->addr[i].a, ip));
		}
		ctl_json_end(&j);
		ctl_json_arr(&j, "steps");
		for (size_t i = 0; i < k->nsteps; i++) {
			const struct ctl_id_step *s = &k->step[i];

			ctl_json_obj(&j, NULL);
			ctl_json_str(&j, "check", s->check);
			ctl_json_str(&j, "address", s->addr[0] ? s->addr :
			    NULL);
			ctl_json_str(&j, "result",
			    ctl_id_result_name(s->res));
			ctl_json_str(&j, "why", s->text);
			ctl_json_end(&j);
		}
		ctl_json_end(&j);
		ctl_json_int(&j, "fail", (long long)fails);
		ctl_json_int(&j, "warn", (long long)warns);
		ctl_json_bool(&j, "ok", fails == 0);
		ctl_json_end(&j);
		return;
	}
	printf("identity %s (configuration %s, deadline %u ms)\n", k->target,
	    k->c->conf_path, k->c->conf.gate.deadline_ms);
	for (size_t i = 0; i < k->nsteps; i++) {
		const struct ctl_id_step *s = &k->step[i];

		printf("%s %-7s %s%s%s\n", ctl_id_result_name(s->res),
		    s->check, s->addr, s->addr[0] ? " " : "", s->text);
	}
	printf("%s: %zu failed, %zu warned, %zu steps\n", fails ? "FAIL" :
	    "PASS", fails, warns, k->nsteps);
}

static int
ctl_id_run(struct ctl_identity *k)
{
	const struct conf_gate *g = &k->c->conf.gate;
	const struct dnsbl_sites *s = &g->dnsbl_sites;
	const uint8_t two[4] = { 127, 0, 0, 2 }, one[4] = { 127, 0, 0, 1 };
	char name[ADDR_REVNAME_MAX], err[512];
	struct addr probe, a;
	int64_t span;

	if ((k->dns = dns_new(k->ev, &k->c->conf.dns, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "smtpgatectl: identity: %s\n", err);
		return CTL_UNREACHABLE;
	}
	if (k->helo[0] != '\0' && k->helo_mask == 0) {
		/* The sniffer's own sandboxed helpers: libspf2 never runs
		 * in this process. */
		const struct conf_sniffer *cs = &k->c->conf.sniffer;
		struct spfcheck_opts so = { .workers = 2,
		    .max_per_client = 1, .user = strcmp(cs->spf_user,
		    "dynamic") == 0 ? "" : cs->spf_user, .screen = true };

		if ((k->spfc = spfcheck_new(k->ev, &k->c->conf.dns, &so, NULL,
		    err, sizeof(err))) == NULL) {
			fprintf(stderr, "smtpgatectl: identity: %s\n", err);
			return CTL_SYSERR;
		}
	}
	/* host -> PTR -> forward: three rounds of the gate's deadline. */
	span = 3 * (int64_t)g->deadline_ms;
	if (k->connect && k->c->timeout_ms > span)
		span = k->c->timeout_ms;
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
	char err[512];
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
	if ((pc = conf_ptrclass_new(&c->conf.gate, err, sizeof(err))) == NULL) {
		int e = errno;	/* fprintf may change errno */

		fprintf(stderr, "smtpgatectl: identity: %s\n", err);
		return e == EINVAL ? CTL_BADINPUT : CTL_SYSERR;
	}
	if ((k.ev = evloop_new()) == NULL) {
		fprintf(stderr, "smtpgatectl: identity: evloop_new: %s\n",
		    strerror(errno));
		ptrclass_free(pc);
		return CTL_SYSERR;
	}
	rc = ctl_id_run(&k);
	if (rc == CTL_OK) {
		ctl_id_steps(&k, pc);
		ctl_id_print(&k);
		rc = k.failed ? CTL_CHECKFAIL : CTL_OK;
	}
	/* Cancelled callbacks still touch k: free the resolver first. */
	if (k.dns != NULL)
		dns_free(k.dns);
	if (k.spfc != NULL)
		spfcheck_free(k.spfc);
	evloop_free(k.ev);
	ptrclass_free(pc);
	return rc;
}
