/*
 * spfproc.c - the SPF supervisor and worker processes (contract in
 * spfproc.h).
 *
 * Nothing here logs through the daemon's log: a helper has no socket to
 * syslog and writes nothing but its messages; what the client should know
 * (a worker's death and its status) travels as a message, and the client
 * logs it.  The one exception is libspf2's fatal-error path, which writes a
 * line to stderr before the worker exits.
 */
#define _GNU_SOURCE	/* close_range */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "spfproc.h"
#include "spfscreen.h"
#include "spfwire.h"

#define SPFPROC_CTL_FD		3	/* the control socket in a helper */
#define SPFPROC_BACKOFF_MIN_MS	100
#define SPFPROC_BACKOFF_MAX_MS	10000
#define SPFPROC_YOUNG_MS	1000	/* a death sooner than this backs off */
#define SPFPROC_ALARM_SLACK_S	2	/* past the deadline: the alarm */

static int64_t
spfproc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send one message, with a descriptor when fd >= 0.  0 or -1. */
static int
spfproc_send(int sock, const struct spfwire_msg *m, int fd)
{
	static uint8_t buf[SPFWIRE_MSG_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov;
	struct msghdr mh;
	size_t n = spfwire_encode(m, buf, sizeof(buf));
	ssize_t w;

	if (n == 0)
		return -1;
	iov.iov_base = buf;
	iov.iov_len = n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	do
		w = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -1;
}

/* Receive one message (blocking).  1, 0 at EOF, -1 on error or a message
 * that does not decode. */
static int
spfproc_recv(int sock, uint8_t *buf, size_t len, struct spfwire_msg *m)
{
	ssize_t n;

	do
		n = recv(sock, buf, len, MSG_TRUNC);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0 || (size_t)n > len || spfwire_decode(buf, (size_t)n, m,
	    NULL) == -1)
		return -1;
	return 1;
}

/* ---- the worker ---- */

struct spfproc_worker {
	int sock;
	const struct spfproc_opts *o;
	uint32_t id;			/* the check under way */
	unsigned ndns;			/* its DNS lookups so far */
	const char *screened;		/* why a record was refused, or NULL */
	bool tempfail;			/* a lookup failed (TRY_AGAIN) */
	bool stopped;			/* an answer is PENDING: fail fast */
	uint8_t buf[SPFWIRE_MSG_MAX];
};

/* libspf2 keeps its DNS layer's hook; one worker per process. */
static struct spfproc_worker *spfproc_w;

static __attribute__((noreturn)) void
spfproc_spf_error(const char *file, int line, const char *msg)
{
	char line_buf[256];
	int n = snprintf(line_buf, sizeof(line_buf), "smtpgate spf helper: "
	    "libspf2: %s:%d: %s\n", file ? file : "?", line, msg ? msg : "?");

	if (n > 0)
		(void)!write(2, line_buf, (size_t)n < sizeof(line_buf) ?
		    (size_t)n : sizeof(line_buf) - 1);
	_exit(70);
}

/* An SPF_dns_rr_t with no records: libspf2 reads herrno. */
static SPF_dns_rr_t *
spfproc_rr(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int herrno)
{
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(srv, domain, type, 0, herrno);

	if (rr == NULL)
		spfproc_spf_error(__FILE__, __LINE__, "out of memory");
	return rr;
}

static void
spfproc_rr_add(SPF_dns_rr_t *rr, const void *data, size_t len, bool str)
{
	if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len + (str ? 1 : 0)) !=
	    SPF_E_SUCCESS)
		spfproc_spf_error(__FILE__, __LINE__, "out of memory");
	memcpy(rr->rr[rr->num_rr], data, len);
	if (str)
		((char *)rr->rr[rr->num_rr])[len] = '\0';
	rr->num_rr++;
}

/* TXT records: the strings of each concatenated, read only up to a NUL
 * (what libspf2 would see), screened. */
static void
spfproc_parse_txt(struct spfproc_worker *w, const uint8_t *ab, size_t alen,
    SPF_dns_rr_t *rr)
{
	struct ares_txt_ext *txt = NULL, *t;
	static char rec[SPFWIRE_ANSWER_MAX + 1];
	size_t n = 0;
	bool have = false;

	if (ares_parse_txt_reply_ext(ab, (int)alen, &txt) != ARES_SUCCESS) {
		rr->herrno = TRY_AGAIN;
		return;
	}
	for (t = txt; ; t = t->next) {
		if (t == NULL || t->record_start) {
			if (have) {
				const char *why;
				size_t len = strnlen(rec, n);

				switch (w->o->screen ? spfscreen_txt(rec, len,
				    &why) : SPFSCREEN_OK) {
				case SPFSCREEN_OK:
					spfproc_rr_add(rr, rec, len, true);
					break;
				case SPFSCREEN_REFUSE:
					w->screened = why;
					break;
				case SPFSCREEN_DROP:
					break;
				}
			}
			if (t == NULL)
				break;
			n = 0;
			have = true;
		}
		if (t->length > sizeof(rec) - 1 - n)
			continue;	/* cannot happen in a 64 KiB answer */
		memcpy(rec + n, t->txt, t->length);
		n += t->length;
		rec[n] = '\0';
	}
	ares_free_data(txt);
	if (w->screened != NULL) {
		/* A record we will not read: RFC 7208 4.6, permerror. */
		rr->num_rr = 0;
		rr->herrno = NO_RECOVERY;
	} else if (rr->num_rr == 0) {
		rr->herrno = NO_DATA;
	}
}

static void
spfproc_parse(struct spfproc_worker *w, ns_type type, const uint8_t *ab,
    size_t alen, SPF_dns_rr_t *rr)
{
	int rc, n = 64;

	switch (type) {
	case ns_t_txt:
		spfproc_parse_txt(w, ab, alen, rr);
		return;
	case ns_t_a: {
		struct ares_addrttl at[64];

		if ((rc = ares_parse_a_reply(ab, (int)alen, NULL, at, &n)) ==
		    ARES_SUCCESS)
			for (int i = 0; i < n; i++)
				spfproc_rr_add(rr, &at[i].ipaddr,
				    sizeof(at[i].ipaddr), false);
		break;
	}
	case ns_t_aaaa: {
		struct ares_addr6ttl at[64];

		if ((rc = ares_parse_aaaa_reply(ab, (int)alen, NULL, at,
		    &n)) == ARES_SUCCESS)
			for (int i = 0; i < n; i++)
				spfproc_rr_add(rr, &at[i].ip6addr,
				    sizeof(at[i].ip6addr), false);
		break;
	}
	case ns_t_mx: {
		struct ares_mx_reply *mx = NULL;

		if ((rc = ares_parse_mx_reply(ab, (int)alen, &mx)) ==
		    ARES_SUCCESS) {
			for (struct ares_mx_reply *m = mx; m; m = m->next)
				spfproc_rr_add(rr, m->host, strlen(m->host),
				    true);
			ares_free_data(mx);
		}
		break;
	}
	case ns_t_ptr: {
		struct hostent *he = NULL;
		uint8_t dummy[16] = { 0 };

		if ((rc = ares_parse_ptr_reply(ab, (int)alen, dummy, 4,
		    AF_INET, &he)) == ARES_SUCCESS) {
			/* c-ares lists the first name among the aliases. */
			for (char **al = he->h_aliases; al && *al; al++)
				spfproc_rr_add(rr, *al, strlen(*al), true);
			if (rr->num_rr == 0 && he->h_name != NULL)
				spfproc_rr_add(rr, he->h_name,
				    strlen(he->h_name), true);
			ares_free_hostent(he);
		}
		break;
	}
	default:
		rc = ARES_ENODATA;
		break;
	}
	if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && rr->num_rr == 0))
		rr->herrno = NO_DATA;
	else if (rc != ARES_SUCCESS)
		rr->herrno = TRY_AGAIN;
}

/* libspf2's DNS layer: ask the client, parse its answer here. */
static SPF_dns_rr_t *
spfproc_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int should_cache)
{
	struct spfproc_worker *w = spfproc_w;
	struct spfwire_msg m;
	SPF_dns_rr_t *rr;

	(void)should_cache;
	/* Type SPF (99) is gone (RFC 7208 section 3.1): no lookup for it. */
	if (type == ns_t_spf || domain == NULL ||
	    strlen(domain) >= SPFWIRE_NAME_MAX)
		return spfproc_rr(srv, domain, type,
		    type == ns_t_spf ? NO_DATA : HOST_NOT_FOUND);
	if (w->stopped)
		return spfproc_rr(srv, domain, type, TRY_AGAIN);
	if (++w->ndns > SPFPROC_DNS_MAX) {
		w->tempfail = true;
		return spfproc_rr(srv, domain, type, TRY_AGAIN);
	}
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_DNSQ;
	m.id = w->id;
	m.u.dnsq.qtype = (uint16_t)type;
	memcpy(m.u.dnsq.name, domain, strlen(domain) + 1);
	if (spfproc_send(w->sock, &m, -1) == -1)
		_exit(3);
	if (spfproc_recv(w->sock, w->buf, sizeof(w->buf), &m) != 1 ||
	    m.type != SPFWIRE_DNSA || m.id != w->id)
		_exit(3);	/* the client is gone or confused */
	rr = spfproc_rr(srv, domain, type, NETDB_SUCCESS);
	switch (m.u.dnsa.status) {
	case SPFWIRE_DNS_OK:
		spfproc_parse(w, type, m.u.dnsa.answer, m.u.dnsa.len, rr);
		break;
	case SPFWIRE_DNS_NXDOMAIN:
		rr->herrno = HOST_NOT_FOUND;
		break;
	case SPFWIRE_DNS_NODATA:
		rr->herrno = NO_DATA;
		break;
	case SPFWIRE_DNS_PENDING:
		/* The client has no answer yet: end this run quickly. */
		w->stopped = true;
		rr->herrno = TRY_AGAIN;
		return rr;
	default:
		rr->herrno = TRY_AGAIN;
		break;
	}
	if (rr->herrno == TRY_AGAIN)
		w->tempfail = true;
	return rr;
}

static uint8_t
spfproc_code(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return SPFWIRE_R_PASS;
	case SPF_RESULT_FAIL:		return SPFWIRE_R_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPFWIRE_R_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return SPFWIRE_R_NEUTRAL;
	case SPF_RESULT_NONE:		return SPFWIRE_R_NONE;
	case SPF_RESULT_PERMERROR:	return SPFWIRE_R_PERMERROR;
	/*
	 * libspf2 leaves "invalid" when it could not compile or interpret a
	 * record it fetched: a record that cannot be read (RFC 7208 4.6).
	 */
	case SPF_RESULT_INVALID:	return SPFWIRE_R_PERMERROR;
	default:			return SPFWIRE_R_TEMPERROR;
	}
}

/* Printable ASCII only, for the client's log. */
static void
spfproc_reason(char *out, const char *in)
{
	size_t i;

	for (i = 0; in != NULL && in[i] != '\0' && i < SPFWIRE_REASON_MAX - 1;
	    i++)
		out[i] = in[i] >= ' ' && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

/* One check, synchronous; the answer into res. */
static void
spfproc_check(struct spfproc_worker *w, SPF_server_t *srv,
    const struct spfwire_check *c, struct spfwire_result *res)
{
	SPF_request_t *req = SPF_request_new(srv);
	SPF_response_t *resp = NULL;
	SPF_errcode_t e;

	res->result = SPFWIRE_R_TEMPERROR;
	res->flags = 0;
	res->reason[0] = '\0';
	if (req == NULL)
		return;
	if (c->client.family == AF_INET) {
		struct in_addr a;

		memcpy(&a, c->client.b, 4);
		e = SPF_request_set_ipv4(req, a);
	} else {
		struct in6_addr a;

		memcpy(&a, c->client.b, 16);
		e = SPF_request_set_ipv6(req, a);
	}
	/* An empty MAIL FROM (or the HELO identity) checks postmaster@HELO
	 * (RFC 7208 section 2.4). */
	if (e == SPF_E_SUCCESS && c->helo[0] != '\0')
		e = SPF_request_set_helo_dom(req, c->helo);
	if (e == SPF_E_SUCCESS)
		e = SPF_request_set_env_from(req,
		    c->identity == SPFWIRE_ID_MAILFROM ? c->sender : "");
	if (e != SPF_E_SUCCESS) {
		/* An identity libspf2 cannot take: nothing to check. */
		res->result = SPFWIRE_R_NONE;
		spfproc_reason(res->reason, SPF_strerror(e));
		SPF_request_free(req);
		return;
	}
	(void)SPF_request_query_mailfrom(req, &resp);
	if (resp != NULL) {
		SPF_result_t r = SPF_response_result(resp);

		/*
		 * libspf2 1.2.10 leaves "invalid" both for a record it could
		 * not read and for a record lookup that failed; the second is
		 * a temperror (RFC 7208 4.4), and only our DNS layer knows.
		 */
		if (r == SPF_RESULT_INVALID && w->tempfail)
			r = SPF_RESULT_TEMPERROR;
		res->result = spfproc_code(r);
		spfproc_reason(res->reason,
		    SPF_strerror(SPF_response_errcode(resp)));
		SPF_response_free(resp);
	}
	if (w->screened != NULL) {
		res->result = SPFWIRE_R_PERMERROR;
		res->flags |= SPFWIRE_RF_SCREENED;
		spfproc_reason(res->reason, w->screened);
	}
	if (w->stopped) {
		res->result = SPFWIRE_R_TEMPERROR;
		res->flags = SPFWIRE_RF_INCOMPLETE;
		spfproc_reason(res->reason, "waiting for an answer");
	}
	SPF_request_free(req);
}

static __attribute__((noreturn)) void
spfproc_worker_main(const struct spfproc_opts *o)
{
	static struct spfproc_worker w;
	static SPF_dns_server_t layer;
	struct sandbox_limits lim = {
		.nofile = 8, .cpu_s = SPFPROC_CPU_S,
		.as_bytes = sandbox_asan() ? 0 : SPFPROC_MEM_BYTES,
	};
	struct spfwire_msg m, out;
	SPF_server_t *srv;
	char err[256];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);	/* the alarm ends the process */
	w.sock = SPFPROC_CTL_FD;
	w.o = o;
	spfproc_w = &w;
	if (sandbox_limits(&lim, err, sizeof(err)) == -1)
		_exit(4);
	SPF_error_handler = spfproc_spf_error;
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
	layer.lookup = spfproc_lookup;
	layer.name = "smtpgate";
	if ((srv = SPF_server_new_dns(&layer, 0)) == NULL)
		_exit(4);
	if (sandbox_seccomp(SANDBOX_WORKER, err, sizeof(err)) == -1)
		_exit(4);
	for (unsigned n = 0; n < SPFPROC_CHECKS_MAX; n++) {
		int rc = spfproc_recv(w.sock, w.buf, sizeof(w.buf), &m);

		if (rc == 0)
			_exit(0);
		if (rc < 0 || m.type != SPFWIRE_CHECK)
			_exit(3);
		w.id = m.id;
		w.ndns = 0;
		w.screened = NULL;
		w.tempfail = false;
		w.stopped = false;
		alarm(m.u.check.deadline_ms / 1000 + 1 +
		    SPFPROC_ALARM_SLACK_S);
		memset(&out, 0, sizeof(out));
		out.type = SPFWIRE_RESULT;
		out.id = m.id;
		spfproc_check(&w, srv, &m.u.check, &out.u.result);
		alarm(0);
		if (spfproc_send(w.sock, &out, -1) == -1)
			_exit(3);
	}
	_exit(0);	/* retire: the supervisor starts a fresh one */
}

/* ---- the supervisor ---- */

struct spfproc_slot {
	pid_t pid;			/* 0: none */
	int64_t born_ms;
	int64_t respawn_ms;		/* when to start the next one */
	int64_t backoff_ms;
};

/* Start the worker of slot s.  0, or -1 when the client cannot be told. */
static int
spfproc_start(const struct spfproc_opts *o, struct spfproc_slot *sl,
    unsigned s, int sfd)
{
	struct spfwire_msg m;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		sl[s].respawn_ms = spfproc_now_ms() + SPFPROC_BACKOFF_MAX_MS;
		return 0;
	}
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		sl[s].respawn_ms = spfproc_now_ms() + SPFPROC_BACKOFF_MAX_MS;
		return 0;
	}
	if (pid == 0) {
		/* The worker keeps its socket alone, as descriptor 3. */
		close(sfd);
		if (dup3(sv[1], SPFPROC_CTL_FD, 0) == -1)
			_exit(4);
		close_range(SPFPROC_CTL_FD + 1, ~0U, 0);
		spfproc_worker_main(o);
	}
	close(sv[1]);
	sl[s].pid = pid;
	sl[s].born_ms = spfproc_now_ms();
	sl[s].respawn_ms = 0;
	memset(&m, 0, sizeof(m));
	m.type = SPFWIRE_WORKER_UP;
	m.u.worker.slot = s;
	m.u.worker.pid = (int32_t)pid;
	if (spfproc_send(SPFPROC_CTL_FD, &m, sv[0]) == -1) {
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	return 0;
}

/* Kill the workers and reap them (no zombie is left to init), exit. */
static __attribute__((noreturn)) void
spfproc_supervisor_exit(struct spfproc_slot *sl, unsigned n, int code)
{
	for (unsigned s = 0; s < n; s++)
		if (sl[s].pid > 0)
			kill(sl[s].pid, SIGKILL);
	for (unsigned s = 0; s < n; s++)
		if (sl[s].pid > 0)
			(void)waitpid(sl[s].pid, NULL, 0);
	_exit(code);
}

static __attribute__((noreturn)) void
spfproc_supervisor(const struct spfproc_opts *o)
{
	struct spfproc_slot sl[SPFPROC_WORKERS_MAX];
	struct sandbox_limits lim = { .nofile = 64,
	    .nproc = o->id.dynamic ? 64 : 0 };
	uint8_t buf[64];
	char err[256];
	sigset_t mask;
	int sfd;

	memset(sl, 0, sizeof(sl));
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    sandbox_become(&o->id, err, sizeof(err)) == -1 ||
	    sandbox_limits(&lim, err, sizeof(err)) == -1 ||
	    sandbox_seccomp(SANDBOX_SUPERVISOR, err, sizeof(err)) == -1) {
		/* The client sees the control socket close and says why it
		 * could not start; the cause goes to stderr. */
		if (sfd == -1)
			snprintf(err, sizeof(err), "signalfd: %s",
			    strerror(errno));
		dprintf(2, "smtpgate spf supervisor: %s\n", err);
		_exit(4);
	}
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = SPFPROC_CTL_FD, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int64_t now = spfproc_now_ms(), next = -1;
		struct timespec ts, *tsp = NULL;

		for (unsigned s = 0; s < o->workers; s++) {
			if (sl[s].pid != 0)
				continue;
			if (sl[s].respawn_ms <= now) {
				if (spfproc_start(o, sl, s, sfd) == -1)
					spfproc_supervisor_exit(sl,
					    o->workers, 0);
			}
			if (sl[s].pid == 0 && (next == -1 ||
			    sl[s].respawn_ms < next))
				next = sl[s].respawn_ms;
		}
		if (next != -1) {
			int64_t d = next > now ? next - now : 0;

			ts.tv_sec = d / 1000;
			ts.tv_nsec = (d % 1000) * 1000000;
			tsp = &ts;
		}
		if (ppoll(pfd, 2, tsp, NULL) == -1 && errno != EINTR)
			spfproc_supervisor_exit(sl, o->workers, 5);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct spfwire_msg m;
			ssize_t n = recv(SPFPROC_CTL_FD, buf, sizeof(buf),
			    MSG_DONTWAIT | MSG_TRUNC);

			if (n == 0 || (n < 0 && errno != EAGAIN &&
			    errno != EINTR))
				spfproc_supervisor_exit(sl, o->workers, 0);
			if (n > 0 && (size_t)n <= sizeof(buf) &&
			    spfwire_decode(buf, (size_t)n, &m, NULL) == 0 &&
			    m.type == SPFWIRE_KILL &&
			    m.u.worker.slot < o->workers &&
			    sl[m.u.worker.slot].pid == m.u.worker.pid &&
			    m.u.worker.pid > 0)
				kill(m.u.worker.pid, SIGKILL);
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			pid_t pid;
			int status;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				struct spfwire_msg m;

				for (unsigned s = 0; s < o->workers; s++) {
					if (sl[s].pid != pid)
						continue;
					now = spfproc_now_ms();
					sl[s].pid = 0;
					if (now - sl[s].born_ms <
					    SPFPROC_YOUNG_MS) {
						sl[s].backoff_ms = sl[s].
						    backoff_ms == 0 ?
						    SPFPROC_BACKOFF_MIN_MS :
						    sl[s].backoff_ms * 2;
						if (sl[s].backoff_ms >
						    SPFPROC_BACKOFF_MAX_MS)
							sl[s].backoff_ms =
							SPFPROC_BACKOFF_MAX_MS;
					} else {
						sl[s].backoff_ms = 0;
					}
					sl[s].respawn_ms = now +
					    sl[s].backoff_ms;
					memset(&m, 0, sizeof(m));
					m.type = SPFWIRE_WORKER_DOWN;
					m.u.worker.slot = s;
					m.u.worker.pid = (int32_t)pid;
					m.u.worker.status = status;
					if (spfproc_send(SPFPROC_CTL_FD, &m,
					    -1) == -1)
						spfproc_supervisor_exit(sl,
						    o->workers, 0);
				}
			}
		}
	}
}

int
spfproc_spawn(const struct spfproc_opts *o, int *ctl, pid_t *pid, char *err,
    size_t errlen)
{
	int sv[2];

	if (o->workers == 0 || o->workers > SPFPROC_WORKERS_MAX) {
		snprintf(err, errlen, "spf: %u workers (1..%d)", o->workers,
		    SPFPROC_WORKERS_MAX);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "spf: socketpair: %s", strerror(errno));
		return -1;
	}
	if ((*pid = fork()) == -1) {
		snprintf(err, errlen, "spf: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (*pid == 0) {
		if (sv[1] != SPFPROC_CTL_FD &&
		    dup3(sv[1], SPFPROC_CTL_FD, 0) == -1)
			_exit(4);
		/* Nothing of the daemon's: no queue, no nft socket, no
		 * files.  Descriptors 0-2 stay for libspf2's last words. */
		close_range(SPFPROC_CTL_FD + 1, ~0U, 0);
		spfproc_supervisor(o);
	}
	close(sv[1]);
	*ctl = sv[0];
	return 0;
}
