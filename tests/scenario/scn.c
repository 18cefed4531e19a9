/*
 * scn.c - the scenario runner's core (contract in scn.h; the steps in
 * tests/scenario/README.md): reading the files, the configuration, the
 * virtual clock and the loop's turns, the log, and the steps every daemon
 * shares (DNS, verdicts, sets, log lines, counters).
 *
 * Exports scn_main and the scn_* helpers of scn.h.
 *
 * Rest: after each step the loop turns without waiting until two turns
 * in a row ran nothing and no timer is due at the current virtual time
 * (the idle hook may start work that the next turn delivers).  "time +N"
 * moves the clock from one due timer to the next up to N later, coming to
 * rest at each, so timers fire at their own time and in their order.
 */
#define _GNU_SOURCE	/* nftw */
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "fake.h"
#include "log.h"
#include "pkt.h"
#include "scn.h"

#define SCN_LINE_MAX		2048
#define SCN_ARGS_MAX		64
#define SCN_CONF_MAX		128
#define SCN_REST_TURNS		100000	/* turns to come to rest, at most */
#define SCN_LOG_TAIL		25	/* log lines shown with a failure */
#define SCN_FILE_SECONDS	120	/* one scenario file, at most */

struct scn_key {
	char section[32];
	char key[64];
	char value[512];
};

struct scn {
	const struct scn_daemon *d;
	const char *file;
	unsigned line;
	char step[SCN_LINE_MAX];	/* the step as written, for messages */
	char dir[256];			/* the scenario's temporary directory */
	char conf_path[300];
	struct evloop *ev;
	bool running;
	bool failed;
	void *ctx;
	struct scn_key conf[SCN_CONF_MAX];
	size_t nconf;
	unsigned free_base;		/* the last "@free16" chosen, or 0 */
	char **log;			/* every line the daemon logged */
	size_t nlog, caplog;
	size_t logpos;			/* the next line "log" looks at */
	unsigned steps;
};

/* ---- helpers ---- */

int
scn_fail(struct scn *sc, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!sc->failed)
		fprintf(stderr, "%s:%u: %s: %s\n", sc->file, sc->line, sc->step,
		    msg);
	sc->failed = true;
	return -1;
}

struct evloop *
scn_ev(struct scn *sc)
{
	return sc->ev;
}

bool
scn_running(struct scn *sc)
{
	return sc->running;
}

void *
scn_ctx(struct scn *sc)
{
	return sc->ctx;
}

void
scn_set_ctx(struct scn *sc, void *ctx)
{
	sc->ctx = ctx;
}

const char *
scn_dir(struct scn *sc)
{
	return sc->dir;
}

ssize_t
scn_unescape(const char *in, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*in != '\0') {
		unsigned c = (unsigned char)*in++;

		if (c == '\\') {
			switch (*in++) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '\\': c = '\\'; break;
			case '"': c = '"'; break;
			case '0': c = 0; break;
			case 'x': {
				char hex[3] = { 0 };
				char *end;

				if (in[0] == '\0' || in[1] == '\0')
					return -1;
				hex[0] = in[0];
				hex[1] = in[1];
				c = (unsigned)strtoul(hex, &end, 16);
				if (*end != '\0')
					return -1;
				in += 2;
				break;
			}
			default:
				return -1;
			}
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)c;
	}
	return (ssize_t)n;
}

int
scn_number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
scn_addr_port(const char *s, struct addr *a, uint16_t *port)
{
	char buf[128];
	const char *colon;
	unsigned long long p = 0;

	*port = 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || (size_t)(end - s - 1) >= sizeof(buf))
			return -1;
		memcpy(buf, s + 1, (size_t)(end - s - 1));
		buf[end - s - 1] = '\0';
		if (end[1] == ':' && scn_number(end + 2, 65535, &p) == -1)
			return -1;
		if (end[1] != '\0' && end[1] != ':')
			return -1;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		if ((size_t)(colon - s) >= sizeof(buf) ||
		    scn_number(colon + 1, 65535, &p) == -1)
			return -1;
		memcpy(buf, s, (size_t)(colon - s));
		buf[colon - s] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "%s", s);
	}
	*port = (uint16_t)p;
	return addr_parse(buf, a) == 0 ? 0 : -1;
}

int
scn_tcp_flags(const char *s)
{
	int f = 0;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case 'S': f |= PKT_TCP_SYN; break;
		case 'A': f |= PKT_TCP_ACK; break;
		case 'F': f |= PKT_TCP_FIN; break;
		case 'R': f |= PKT_TCP_RST; break;
		case 'P': f |= PKT_TCP_PSH; break;
		default: return -1;
		}
	}
	return f;
}

static uint16_t
scn_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t
scn_packet(uint8_t *buf, size_t cap, const struct addr *src, uint16_t sport,
    const struct addr *dst, uint16_t dport, uint8_t flags, uint32_t seq,
    const uint8_t *payload, size_t plen, uint16_t *hw)
{
	bool v6 = src->family == AF_INET6;
	size_t ip = v6 ? 40 : 20, len = ip + 20 + plen;
	uint8_t *t = buf + ip;

	if (len > cap || len > 65535 || src->family != dst->family)
		return 0;
	memset(buf, 0, ip + 20);
	if (v6) {
		buf[0] = 0x60;
		buf[4] = (uint8_t)((20 + plen) >> 8);
		buf[5] = (uint8_t)(20 + plen);
		buf[6] = 6;			/* TCP */
		buf[7] = 64;
		memcpy(buf + 8, src->b, 16);
		memcpy(buf + 24, dst->b, 16);
		*hw = 0x86dd;
	} else {
		buf[0] = 0x45;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		buf[6] = 0x40;			/* don't fragment */
		buf[8] = 64;
		buf[9] = 6;
		memcpy(buf + 12, src->b, 4);
		memcpy(buf + 16, dst->b, 4);
		{
			uint16_t c = scn_csum(buf, 20);

			buf[10] = (uint8_t)(c >> 8);
			buf[11] = (uint8_t)c;
		}
		*hw = 0x0800;
	}
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[12] = 5 << 4;				/* data offset: 20 bytes */
	t[13] = flags;
	t[14] = 0xfa;				/* window 64240 */
	t[15] = 0xf0;
	if (plen > 0)
		memcpy(t + 20, payload, plen);
	return len;
}

/* ---- the log ---- */

static void
scn_log_sink(void *arg, int pri, const char *line)
{
	struct scn *sc = arg;

	/* A panic aborts next: say it now. */
	if (pri <= LOG_CRIT)
		fprintf(stderr, "%s: daemon: %s\n", sc->file, line);
	if (sc->nlog == sc->caplog) {
		size_t cap = sc->caplog ? sc->caplog * 2 : 256;
		char **l = realloc(sc->log, cap * sizeof(*l));

		if (l == NULL)
			return;
		sc->log = l;
		sc->caplog = cap;
	}
	if ((sc->log[sc->nlog] = strdup(line)) != NULL)
		sc->nlog++;
}

int
scn_regex(struct scn *sc, const char *tok, regex_t *re)
{
	size_t len = strlen(tok);
	char pat[SCN_LINE_MAX];
	int rc;

	if (len < 2 || tok[0] != '/' || tok[len - 1] != '/')
		return scn_fail(sc, "want a /regular expression/, got %s", tok);
	snprintf(pat, sizeof(pat), "%.*s", (int)(len - 2), tok + 1);
	if ((rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB)) != 0) {
		char why[256];

		regerror(rc, re, why, sizeof(why));
		return scn_fail(sc, "regular expression %s: %s", tok, why);
	}
	return 0;
}

static void
scn_log_tail(struct scn *sc)
{
	size_t from = sc->nlog > SCN_LOG_TAIL ? sc->nlog - SCN_LOG_TAIL : 0;

	fprintf(stderr, "  the daemon's last log lines (%zu in all):\n",
	    sc->nlog);
	for (size_t i = from; i < sc->nlog; i++)
		fprintf(stderr, "  %c %s\n", i < sc->logpos ? ' ' : '>',
		    sc->log[i]);
}

/* ---- the configuration ---- */

static int
scn_conf_set(struct scn *sc, const char *skey, const char *value)
{
	const char *dot = strchr(skey, '.');
	struct scn_key k;
	char v[512];
	const char *at;
	size_t i;

	memset(&k, 0, sizeof(k));
	if (dot == NULL || (size_t)(dot - skey) >= sizeof(k.section) ||
	    strlen(dot + 1) >= sizeof(k.key))
		return scn_fail(sc, "want section.key, got %s", skey);
	memcpy(k.section, skey, (size_t)(dot - skey));
	snprintf(k.key, sizeof(k.key), "%s", dot + 1);
	/* @TMP@ is the scenario's directory. */
	v[0] = '\0';
	while ((at = strstr(value, "@TMP@")) != NULL) {
		size_t o = strlen(v);

		snprintf(v + o, sizeof(v) - o, "%.*s%s", (int)(at - value),
		    value, sc->dir);
		value = at + 5;
	}
	{
		size_t o = strlen(v);

		snprintf(v + o, sizeof(v) - o, "%s", value);
	}
	snprintf(k.value, sizeof(k.value), "%s", v);
	for (i = 0; i < sc->nconf; i++)
		if (strcmp(sc->conf[i].section, k.section) == 0 &&
		    strcmp(sc->conf[i].key, k.key) == 0)
			break;
	if (i == SCN_CONF_MAX)
		return scn_fail(sc, "more than %d keys", SCN_CONF_MAX);
	sc->conf[i] = k;
	if (i == sc->nconf)
		sc->nconf++;
	return 0;
}

/* The keys given so far, by section, into the scenario's file. */
static int
scn_conf_write(struct scn *sc)
{
	FILE *f = fopen(sc->conf_path, "w");
	bool done[SCN_CONF_MAX] = { false };

	if (f == NULL)
		return scn_fail(sc, "fopen %s: %s", sc->conf_path,
		    strerror(errno));
	for (size_t i = 0; i < sc->nconf; i++) {
		if (done[i])
			continue;
		fprintf(f, "[%s]\n", sc->conf[i].section);
		for (size_t j = i; j < sc->nconf; j++) {
			if (done[j] || strcmp(sc->conf[j].section,
			    sc->conf[i].section) != 0)
				continue;
			done[j] = true;
			if (strcmp(sc->conf[j].value, "@UNSET@") != 0)
				fprintf(f, "%s = %s\n", sc->conf[j].key,
				    sc->conf[j].value);
		}
	}
	if (fclose(f) != 0)
		return scn_fail(sc, "write %s: %s", sc->conf_path,
		    strerror(errno));
	return 0;
}

/* ---- the loop in virtual time ---- */

static int
scn_rest(struct scn *sc)
{
	int idle = 0;

	for (int i = 0; i < SCN_REST_TURNS; i++) {
		int n = evloop_turn(sc->ev, 0);

		if (n < 0)
			return scn_fail(sc, "evloop_turn: %s", strerror(errno));
		idle = n == 0 ? idle + 1 : 0;
		if (idle >= 2 && evloop_next_ms(sc->ev) > fake_now_ms())
			return 0;
	}
	return scn_fail(sc, "the loop does not come to rest at %lld ms",
	    (long long)(fake_now_ms() - FAKE_CLOCK_START_MS));
}

static int
scn_advance(struct scn *sc, int64_t ms)
{
	int64_t end = fake_now_ms() + ms, next;

	if (scn_rest(sc) == -1)
		return -1;
	while ((next = evloop_next_ms(sc->ev)) <= end) {
		fake_clock_set(next);
		if (scn_rest(sc) == -1)
			return -1;
	}
	fake_clock_set(end);
	return scn_rest(sc);
}

/* ---- steps: the daemon's life ---- */

static int
scn_join(char *out, size_t len, int argc, char **argv, int from)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = from; i < argc; i++) {
		int n = snprintf(out + off, len - off, "%s%s", i > from ? " " :
		    "", argv[i]);

		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/*
 * The first of n consecutive TCP ports that nothing listens on now (from
 * 40000 on, in steps of n), for daemons that open real listening sockets
 * (the gate's responder): parallel runs must not collide on a fixed port.
 * 0 when none was found.
 */
static unsigned
scn_free_ports(unsigned n)
{
	for (unsigned base = 40000; base + n < 60000; base += n) {
		unsigned i;

		for (i = 0; i < n; i++) {
			struct sockaddr_in sa = { .sin_family = AF_INET,
			    .sin_port = htons((uint16_t)(base + i)),
			    .sin_addr.s_addr = htonl(INADDR_ANY) };
			int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

			if (fd == -1)
				return 0;
			ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
			close(fd);
			if (!ok)
				break;
		}
		if (i == n)
			return base;
	}
	return 0;
}

/* conf KEY = VALUE; the value "@free16" is the first of 16 free ports. */
static int
scn_step_conf(struct scn *sc, int argc, char **argv)
{
	char value[512];
	int from = argc > 2 && strcmp(argv[2], "=") == 0 ? 3 : 2;

	if (argc < 2)
		return scn_fail(sc, "usage: conf section.key = value");
	if (scn_join(value, sizeof(value), argc, argv, from) == -1)
		return scn_fail(sc, "value too long");
	if (strcmp(value, "@free16") == 0) {
		unsigned base = scn_free_ports(16);

		if (base == 0)
			return scn_fail(sc, "no 16 free ports for %s", argv[1]);
		snprintf(value, sizeof(value), "%u", base);
		sc->free_base = base;
	}
	return scn_conf_set(sc, argv[1], value);
}

/* "start", or "start fails /RE/" (the error matches). */
static int
scn_step_start(struct scn *sc, int argc, char **argv)
{
	static struct conf c;		/* large */
	char err[CONF_ERR_MAX];
	bool fails = argc == 3 && strcmp(argv[1], "fails") == 0;
	regex_t re;
	int rc;

	if (sc->running)
		return scn_fail(sc, "started already");
	if (argc != 1 && !fails)
		return scn_fail(sc, "usage: start [fails /RE/]");
	if (fails && scn_regex(sc, argv[2], &re) == -1)
		return -1;
	if (scn_conf_write(sc) == -1) {
		if (fails)
			regfree(&re);
		return -1;
	}
	if (conf_load(sc->conf_path, &c, err, sizeof(err)) == -1)
		rc = -1;
	else
		rc = sc->d->start(sc, &c, err, sizeof(err));
	if (rc == 0)
		sc->running = true;
	if (!fails)
		return rc == 0 ? 0 : scn_fail(sc, "got \"%s\", want a start",
		    err);
	if (rc == 0) {
		regfree(&re);
		return scn_fail(sc, "got a start, want it to fail");
	}
	rc = regexec(&re, err, 0, NULL, 0);
	regfree(&re);
	return rc == 0 ? 0 : scn_fail(sc, "got \"%s\", want %s", err, argv[2]);
}

/*
 * The daemon's end.  Its free leaves its idle hook set (the daemons free
 * theirs after the loop's last turn); the loop here turns on, so the hook
 * goes with it.
 */
static void
scn_stop(struct scn *sc)
{
	sc->d->stop(sc);
	evloop_set_idle(sc->ev, NULL, NULL);
	sc->running = false;
}

void
scn_stop_lost(struct scn *sc)
{
	evloop_set_idle(sc->ev, NULL, NULL);
	sc->running = false;
}

static int
scn_step_stop(struct scn *sc, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!sc->running)
		return scn_fail(sc, "not started");
	scn_stop(sc);
	return 0;
}

/* "reload" (0 wanted), "reload partial" (1), "reload fails /RE/" (-1,
 * and a log line matches). */
static int
scn_step_reload(struct scn *sc, int argc, char **argv)
{
	char err[CONF_ERR_MAX] = "";
	int want = 0, rc;

	if (!sc->running)
		return scn_fail(sc, "not started");
	if (argc == 2 && strcmp(argv[1], "partial") == 0)
		want = 1;
	else if (argc == 3 && strcmp(argv[1], "fails") == 0)
		want = -1;
	else if (argc != 1)
		return scn_fail(sc, "usage: reload [partial | fails /RE/]");
	if (scn_conf_write(sc) == -1)
		return -1;
	rc = sc->d->reload(sc, sc->conf_path, err, sizeof(err));
	if (rc != want)
		return scn_fail(sc, "got %d (%s), want %d", rc, err[0] ? err :
		    "see the log", want);
	if (want == -1) {
		regex_t re;
		bool hit;

		if (scn_regex(sc, argv[2], &re) == -1)
			return -1;
		hit = err[0] != '\0' && regexec(&re, err, 0, NULL, 0) == 0;
		for (size_t i = sc->logpos; i < sc->nlog && !hit; i++)
			hit = regexec(&re, sc->log[i], 0, NULL, 0) == 0;
		regfree(&re);
		if (!hit)
			return scn_fail(sc, "got \"%s\" and no log line like "
			    "%s, want one", err, argv[2]);
	}
	return 0;
}

/* "+N" with ms (default), s, m, h or d. */
static int
scn_step_time(struct scn *sc, int argc, char **argv)
{
	unsigned long long n;
	char num[32];
	const char *u;
	size_t digits;
	int64_t mult = 1;

	if (argc != 2 || argv[1][0] != '+')
		return scn_fail(sc, "usage: time +N[ms|s|m|h|d]");
	digits = strspn(argv[1] + 1, "0123456789");
	u = argv[1] + 1 + digits;
	if (digits == 0 || digits >= sizeof(num))
		return scn_fail(sc, "bad duration %s", argv[1]);
	memcpy(num, argv[1] + 1, digits);
	num[digits] = '\0';
	if (strcmp(u, "") == 0 || strcmp(u, "ms") == 0)
		mult = 1;
	else if (strcmp(u, "s") == 0)
		mult = 1000;
	else if (strcmp(u, "m") == 0)
		mult = 60000;
	else if (strcmp(u, "h") == 0)
		mult = 3600000;
	else if (strcmp(u, "d") == 0)
		mult = 86400000;
	else
		return scn_fail(sc, "bad unit in %s", argv[1]);
	if (scn_number(num, 1ULL << 40, &n) == -1)
		return scn_fail(sc, "bad duration %s", argv[1]);
	return scn_advance(sc, (int64_t)n * mult);
}

static int
scn_step_verbose(struct scn *sc, int argc, char **argv)
{
	unsigned long long v;

	if (argc != 2 || scn_number(argv[1], 3, &v) == -1)
		return scn_fail(sc, "usage: verbose 0..3");
	log_set_verbose((int)v);
	return 0;
}

static int
scn_path(struct scn *sc, const char *name, char *out, size_t len)
{
	/* Within the scenario's directory: no absolute path, no "..". */
	if (name[0] == '/' || name[0] == '.' || name[0] == '\0' ||
	    strstr(name, "/.") != NULL)
		return scn_fail(sc, "a file of the scenario's directory, "
		    "got %s", name);
	snprintf(out, len, "%s/%s", sc->dir, name);
	return 0;
}

/* write NAME "content" */
static int
scn_step_write(struct scn *sc, int argc, char **argv)
{
	char path[512];
	uint8_t data[8192];
	ssize_t n;
	FILE *f;

	if (argc != 3)
		return scn_fail(sc, "usage: write NAME \"content\"");
	if (scn_path(sc, argv[1], path, sizeof(path)) == -1)
		return -1;
	if ((n = scn_unescape(argv[2], data, sizeof(data))) < 0)
		return scn_fail(sc, "bad escape in the content");
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(data, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0)
		return scn_fail(sc, "write %s: %s", path, strerror(errno));
	return 0;
}

/* file NAME has /RE/ | file NAME lacks /RE/ | file NAME absent */
static int
scn_step_file(struct scn *sc, int argc, char **argv)
{
	char path[512], line[1024];
	regex_t re;
	bool hit = false, has;
	FILE *f;

	if (argc == 3 && strcmp(argv[2], "absent") == 0) {
		struct stat st;

		if (scn_path(sc, argv[1], path, sizeof(path)) == -1)
			return -1;
		return stat(path, &st) == -1 ? 0 :
		    scn_fail(sc, "got a file, want none");
	}
	if (argc != 4 || (strcmp(argv[2], "has") != 0 &&
	    strcmp(argv[2], "lacks") != 0))
		return scn_fail(sc, "usage: file NAME has|lacks /RE/");
	has = strcmp(argv[2], "has") == 0;
	if (scn_path(sc, argv[1], path, sizeof(path)) == -1 ||
	    scn_regex(sc, argv[3], &re) == -1)
		return -1;
	if ((f = fopen(path, "r")) == NULL) {
		regfree(&re);
		return scn_fail(sc, "open %s: %s", path, strerror(errno));
	}
	while (!hit && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		hit = regexec(&re, line, 0, NULL, 0) == 0;
	}
	fclose(f);
	regfree(&re);
	if (hit != has)
		return scn_fail(sc, "got %s line like %s, want %s",
		    hit ? "a" : "no", argv[3], has ? "one" : "none");
	return 0;
}

/* ---- steps: DNS ---- */

static int
scn_type(struct scn *sc, const char *s)
{
	int t = fake_dns_type_parse(s);

	if (t == -1)
		return scn_fail(sc, "unknown type %s", s);
	return t;
}

static const struct {
	const char *name;
	unsigned rcode;
} scn_rcodes[] = {
	{ "NOERROR", 0 }, { "FORMERR", 1 }, { "SERVFAIL", 2 },
	{ "NXDOMAIN", 3 }, { "NOTIMP", 4 }, { "REFUSED", 5 },
};

/*
 * An answer from argv[from..argc): [STATUS] [tc] [RECORD ...], STATUS an
 * rcode name, TIMEOUT, CONNFAIL or "RAW HEX"; a RECORD is "ptr NAME", "a
 * ADDR", "aaaa ADDR", "cname NAME" (later records belong to its target),
 * "owner NAME" (later records belong to NAME), or a bare name or address
 * of the question's type.
 */
static int
scn_answer(struct scn *sc, int qtype, int argc, char **argv, int from,
    struct fake_answer *a)
{
	char owner[FAKE_TEXT_MAX] = "";
	int i = from;

	memset(a, 0, sizeof(*a));
	a->kind = FAKE_ANS_WIRE;
	if (i < argc) {
		for (size_t k = 0; k < sizeof(scn_rcodes) /
		    sizeof(scn_rcodes[0]); k++)
			if (strcmp(argv[i], scn_rcodes[k].name) == 0) {
				a->rcode = scn_rcodes[k].rcode;
				i++;
				goto records;
			}
		if (strcmp(argv[i], "TIMEOUT") == 0) {
			a->kind = FAKE_ANS_TIMEOUT;
			return i + 1 == argc ? 0 : scn_fail(sc, "TIMEOUT takes "
			    "nothing more");
		}
		if (strcmp(argv[i], "CONNFAIL") == 0) {
			a->kind = FAKE_ANS_CONNFAIL;
			return i + 1 == argc ? 0 : scn_fail(sc, "CONNFAIL takes "
			    "nothing more");
		}
		if (strcmp(argv[i], "RAW") == 0) {
			const char *h = i + 1 < argc ? argv[i + 1] : "";
			size_t len = strlen(h);

			a->kind = FAKE_ANS_RAW;
			if (i + 2 != argc || len % 2 != 0 ||
			    len / 2 > sizeof(a->raw))
				return scn_fail(sc, "usage: RAW HEXBYTES");
			for (size_t k = 0; k < len / 2; k++) {
				unsigned v;

				if (sscanf(h + 2 * k, "%2x", &v) != 1)
					return scn_fail(sc, "bad hex %s", h);
				a->raw[k] = (uint8_t)v;
			}
			a->rawlen = len / 2;
			return 0;
		}
	}
records:
	for (; i < argc; i++) {
		struct fake_rr *rr;
		const char *kw = argv[i];
		uint16_t type = (uint16_t)qtype;

		if (strcmp(kw, "tc") == 0) {
			a->tc = true;
			continue;
		}
		if (strcmp(kw, "owner") == 0 || strcmp(kw, "cname") == 0 ||
		    strcmp(kw, "ptr") == 0 || strcmp(kw, "a") == 0 ||
		    strcmp(kw, "aaaa") == 0) {
			if (++i == argc)
				return scn_fail(sc, "%s wants a value", kw);
			if (strcmp(kw, "owner") == 0) {
				snprintf(owner, sizeof(owner), "%s", argv[i]);
				continue;
			}
			type = kw[0] == 'c' ? 5 : kw[0] == 'p' ? 12 :
			    strcmp(kw, "a") == 0 ? 1 : 28;
		}
		if (a->nrr == FAKE_RR_MAX)
			return scn_fail(sc, "more than %d records", FAKE_RR_MAX);
		rr = &a->rr[a->nrr++];
		rr->type = type;
		snprintf(rr->owner, sizeof(rr->owner), "%s", owner);
		snprintf(rr->data, sizeof(rr->data), "%s", argv[i]);
		if (type == 5)
			snprintf(owner, sizeof(owner), "%s", argv[i]);
	}
	return 0;
}

/* query NAME TYPE: such a query is out, and nobody expected it yet. */
static int
scn_step_query(struct scn *sc, int argc, char **argv)
{
	char why[1200];
	int t;

	if (argc != 3)
		return scn_fail(sc, "usage: query NAME TYPE");
	if ((t = scn_type(sc, argv[2])) == -1)
		return -1;
	if (fake_dns_expect(argv[1], t, why, sizeof(why)) == -1)
		return scn_fail(sc, "got no such query (%s), want one", why);
	return 0;
}

/* asked NAME TYPE N: that many queries of it in all. */
static int
scn_step_asked(struct scn *sc, int argc, char **argv)
{
	unsigned long long want;
	size_t got;
	int t;

	if (argc != 4 || scn_number(argv[3], 1000000, &want) == -1)
		return scn_fail(sc, "usage: asked NAME TYPE N");
	if ((t = scn_type(sc, argv[2])) == -1)
		return -1;
	got = fake_dns_count(argv[1], t);
	if (got != want)
		return scn_fail(sc, "got %zu, want %llu", got, want);
	return 0;
}

static int
scn_step_answer(struct scn *sc, int argc, char **argv)
{
	struct fake_answer a;
	char why[1200];
	int t;

	if (argc < 3)
		return scn_fail(sc, "usage: answer NAME TYPE [ANSWER]");
	if ((t = scn_type(sc, argv[2])) == -1 ||
	    scn_answer(sc, t, argc, argv, 3, &a) == -1)
		return -1;
	if (fake_dns_answer(argv[1], t, &a, why, sizeof(why)) == -1)
		return scn_fail(sc, "got no such query out (%s), want one",
		    why);
	return 0;
}

/* auto NAME TYPE [ANSWER] [after N]: a standing answer. */
static int
scn_step_auto(struct scn *sc, int argc, char **argv)
{
	struct fake_answer a;
	unsigned long long delay = 0;
	int t;

	if (argc < 3)
		return scn_fail(sc, "usage: auto NAME TYPE [ANSWER] [after MS]");
	if (argc >= 5 && strcmp(argv[argc - 2], "after") == 0) {
		if (scn_number(argv[argc - 1], 3600000, &delay) == -1)
			return scn_fail(sc, "bad delay %s", argv[argc - 1]);
		argc -= 2;
	}
	if ((t = scn_type(sc, argv[2])) == -1 ||
	    scn_answer(sc, t, argc, argv, 3, &a) == -1)
		return -1;
	fake_dns_rule(argv[1], t, &a, (int64_t)delay);
	return 0;
}

/* ---- steps: verdicts, sets, log, counters ---- */

/* verdict ID WORDS ("accept", "reject", "repeat mark 0x520000", "none") */
static int
scn_step_verdict(struct scn *sc, int argc, char **argv)
{
	unsigned long long id, mark;
	char want[128], got[128];
	bool has;

	if (argc < 3 || scn_number(argv[1], UINT32_MAX, &id) == -1)
		return scn_fail(sc, "usage: verdict ID accept|drop|reject|"
		    "repeat|none [mark M]");
	has = fake_queue_take((uint32_t)id, got, sizeof(got));
	if (strcmp(argv[2], "none") == 0)
		return has ? scn_fail(sc, "got %s, want none yet", got) : 0;
	if (argc == 5 && strcmp(argv[3], "mark") == 0) {
		if (scn_number(argv[4], UINT32_MAX, &mark) == -1)
			return scn_fail(sc, "bad mark %s", argv[4]);
		snprintf(want, sizeof(want), "%s mark 0x%08llx", argv[2], mark);
	} else if (argc == 3) {
		snprintf(want, sizeof(want), "%s", argv[2]);
	} else {
		return scn_fail(sc, "usage: verdict ID WORD [mark M]");
	}
	if (!has)
		return scn_fail(sc, "got none, want %s", want);
	if (strcmp(got, want) != 0)
		return scn_fail(sc, "got %s, want %s", got, want);
	return 0;
}

/* held N: packets delivered that wait for their verdict */
static int
scn_step_held(struct scn *sc, int argc, char **argv)
{
	unsigned long long want;
	size_t got = fake_queue_held();

	if (argc != 2 || scn_number(argv[1], 1000000, &want) == -1)
		return scn_fail(sc, "usage: held N");
	return got == want ? 0 : scn_fail(sc, "got %zu, want %llu", got, want);
}

static int
scn_step_nft(struct scn *sc, int argc, char **argv)
{
	char text[512], why[2200];

	char port[16];

	/* "@free16+N": the port N after the chosen "@free16" base. */
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "@free16+", 8) == 0 && sc->free_base != 0) {
			snprintf(port, sizeof(port), "%u", sc->free_base +
			    (unsigned)atoi(argv[i] + 8));
			argv[i] = port;
		}
	if (argc < 2 || scn_join(text, sizeof(text), argc, argv, 1) == -1)
		return scn_fail(sc, "usage: nft add|delete element SET KEY "
		    "[timeout Ns]");
	if (fake_nft_take(text, why, sizeof(why)) == -1)
		return scn_fail(sc, "got no such change (%s), want \"%s\"", why,
		    text);
	return 0;
}

/* A key as the model writes it. */
static int
scn_key(struct scn *sc, const char *s, char *out, size_t len)
{
	char ip[ADDR_STRLEN];

	if (strchr(s, '/') != NULL) {
		struct prefix p;

		if (prefix_parse(s, &p, NULL) == -1)
			return scn_fail(sc, "bad prefix %s", s);
		snprintf(out, len, "%s/%u", addr_ntop(&p.a, ip), p.len);
	} else {
		struct addr a;

		if (addr_parse(s, &a) == -1)
			return scn_fail(sc, "bad address %s", s);
		snprintf(out, len, "%s", addr_ntop(&a, ip));
	}
	return 0;
}

/* set has SET KEY [timeout DURATION] | set lacks SET KEY */
static int
scn_step_set(struct scn *sc, int argc, char **argv)
{
	char key[64], list[2048];
	uint64_t timeout_ms;
	int64_t left_ms;
	int has;

	if (argc < 4 || (strcmp(argv[1], "has") != 0 &&
	    strcmp(argv[1], "lacks") != 0))
		return scn_fail(sc, "usage: set has|lacks SET KEY [timeout T]");
	if (scn_key(sc, argv[3], key, sizeof(key)) == -1)
		return -1;
	has = fake_nft_has(argv[2], key, &timeout_ms, &left_ms);
	fake_nft_list(argv[2], list, sizeof(list));
	if (strcmp(argv[1], "lacks") == 0)
		return has ? scn_fail(sc, "got %s in %s, want it absent", key,
		    argv[2]) : 0;
	if (!has)
		return scn_fail(sc, "got %s: %s, want %s there", argv[2], list,
		    key);
	if (argc == 6 && strcmp(argv[4], "timeout") == 0) {
		long long want;
		char why[128];

		if (conf_parse_duration(argv[5], 0, 1LL << 32, &want, why,
		    sizeof(why)) == -1)
			return scn_fail(sc, "timeout %s: %s", argv[5], why);
		if (timeout_ms != (uint64_t)want * 1000)
			return scn_fail(sc, "got timeout %llus, want %llds",
			    (unsigned long long)(timeout_ms / 1000), want);
	} else if (argc != 4) {
		return scn_fail(sc, "usage: set has SET KEY [timeout T]");
	}
	return 0;
}

/* log /RE/: a line logged since the last match matches (and is passed). */
static int
scn_step_log(struct scn *sc, int argc, char **argv)
{
	regex_t re;

	if (argc != 2)
		return scn_fail(sc, "usage: log /RE/");
	if (scn_regex(sc, argv[1], &re) == -1)
		return -1;
	for (size_t i = sc->logpos; i < sc->nlog; i++)
		if (regexec(&re, sc->log[i], 0, NULL, 0) == 0) {
			sc->logpos = i + 1;
			regfree(&re);
			return 0;
		}
	regfree(&re);
	return scn_fail(sc, "got no such line among the %zu since the last "
	    "match, want one", sc->nlog - sc->logpos);
}

/* stats KEY=VALUE ...: each is a field of the counters' line. */
static int
scn_step_stats(struct scn *sc, int argc, char **argv)
{
	char line[4096], padded[4100];

	if (!sc->running)
		return scn_fail(sc, "not started");
	if (argc < 2)
		return scn_fail(sc, "usage: stats KEY=VALUE ...");
	sc->d->stats(sc, line, sizeof(line));
	snprintf(padded, sizeof(padded), " %s ", line);
	for (int i = 1; i < argc; i++) {
		char want[256], name[256];
		const char *eq = strchr(argv[i], '='), *at;

		if (eq == NULL)
			return scn_fail(sc, "want KEY=VALUE, got %s", argv[i]);
		snprintf(want, sizeof(want), " %s ", argv[i]);
		if (strstr(padded, want) != NULL)
			continue;
		snprintf(name, sizeof(name), " %.*s=", (int)(eq - argv[i]),
		    argv[i]);
		if ((at = strstr(padded, name)) == NULL)
			return scn_fail(sc, "got no %s, want %s", name + 1,
			    argv[i]);
		return scn_fail(sc, "got %.*s, want %s",
		    (int)strcspn(at + 1, " "), at + 1, argv[i]);
	}
	return 0;
}

/* no queries | no verdicts | no nft | no log /RE/ */
static int
scn_step_no(struct scn *sc, int argc, char **argv)
{
	char buf[4096];
	size_t n;

	if (argc == 2 && strcmp(argv[1], "queries") == 0) {
		if ((n = fake_dns_unseen(buf, sizeof(buf))) > 0)
			return scn_fail(sc, "got %zu queries no step expected "
			    "(%s), want none", n, buf);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "verdicts") == 0) {
		if ((n = fake_queue_untaken(buf, sizeof(buf))) > 0)
			return scn_fail(sc, "got %zu verdicts no step took "
			    "(%s), want none", n, buf);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "nft") == 0) {
		if ((n = fake_nft_untaken(buf, sizeof(buf))) > 0)
			return scn_fail(sc, "got %zu set changes no step took "
			    "(%s), want none", n, buf);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "log") == 0) {
		regex_t re;

		if (scn_regex(sc, argv[2], &re) == -1)
			return -1;
		for (size_t i = sc->logpos; i < sc->nlog; i++)
			if (regexec(&re, sc->log[i], 0, NULL, 0) == 0) {
				regfree(&re);
				return scn_fail(sc, "got \"%s\", want no such "
				    "line", sc->log[i]);
			}
		regfree(&re);
		return 0;
	}
	return scn_fail(sc, "usage: no queries|verdicts|nft|log /RE/");
}

static const struct scn_step scn_steps[] = {
	{ "conf", scn_step_conf },
	{ "start", scn_step_start },
	{ "stop", scn_step_stop },
	{ "reload", scn_step_reload },
	{ "time", scn_step_time },
	{ "verbose", scn_step_verbose },
	{ "write", scn_step_write },
	{ "file", scn_step_file },
	{ "query", scn_step_query },
	{ "asked", scn_step_asked },
	{ "answer", scn_step_answer },
	{ "auto", scn_step_auto },
	{ "verdict", scn_step_verdict },
	{ "held", scn_step_held },
	{ "nft", scn_step_nft },
	{ "set", scn_step_set },
	{ "log", scn_step_log },
	{ "stats", scn_step_stats },
	{ "no", scn_step_no },
	{ NULL, NULL },
};

/* ---- one file ---- */

/*
 * Split line into argv: blank-separated words; "..." one word (the
 * quotes removed, backslash pairs kept for the step to read); a word
 * starting with '/' runs to the line's last '/' (a regular expression,
 * blanks and all); '#' at a word's start ends the line.  The count, or -1.
 */
static int
scn_words(char *p, char **argv, int max)
{
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max)
			return -1;
		if (*p == '"') {
			char *o = ++p;

			argv[n++] = o;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					*o++ = *p++;
				*o++ = *p++;
			}
			if (*p != '"')
				return -1;
			p++;
			*o = '\0';
		} else if (*p == '/') {
			char *end = strrchr(p, '/');

			if (end == p)
				return -1;
			argv[n++] = p;
			p = end + 1;
			if (*p != '\0') {
				*p++ = '\0';
			}
		} else {
			argv[n++] = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != '\r' && *p != '\n')
				p++;
			if (*p != '\0')
				*p++ = '\0';
		}
	}
}

static scn_step_fn
scn_find(const struct scn_step *t, const char *name)
{
	for (; t != NULL && t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t->fn;
	return NULL;
}

static int
scn_rmtree_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == -1 ? -1 : 0;
}

/* Play file against the daemon: 0 passed, 1 failed. */
static int
scn_run(const char *file, const struct scn_daemon *d, bool verbose)
{
	static struct scn s;
	struct scn *sc = &s;
	const char *tmp = getenv("TMPDIR");
	char line[SCN_LINE_MAX], copy[SCN_LINE_MAX], *argv[SCN_ARGS_MAX];
	FILE *f;

	sc->d = d;
	sc->file = file;
	snprintf(sc->step, sizeof(sc->step), "setup");
	if ((f = fopen(file, "r")) == NULL) {
		scn_fail(sc, "open: %s", strerror(errno));
		return 1;
	}
	snprintf(sc->dir, sizeof(sc->dir), "%s/smtpgate-scn.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(sc->dir) == NULL) {
		scn_fail(sc, "mkdtemp %s: %s", sc->dir, strerror(errno));
		fclose(f);
		return 1;
	}
	snprintf(sc->conf_path, sizeof(sc->conf_path), "%.255s/smtpgate.conf",
	    sc->dir);
	log_set_sink(scn_log_sink, sc);
	if ((sc->ev = evloop_new()) == NULL) {
		scn_fail(sc, "evloop_new: %s", strerror(errno));
		fclose(f);
		return 1;
	}
	evloop_set_clock(sc->ev, fake_clock_fn, NULL);
	for (const char *const *k = d->defaults; *k != NULL && !sc->failed;
	    k++) {
		const char *eq = strchr(*k, '=');
		char key[128];

		snprintf(key, sizeof(key), "%.*s", (int)(eq - *k), *k);
		scn_conf_set(sc, key, eq + 1);
	}
	while (!sc->failed && fgets(line, sizeof(line), f) != NULL) {
		char trouble[4096];
		scn_step_fn fn;
		int argc;

		sc->line++;
		line[strcspn(line, "\n")] = '\0';
		snprintf(copy, sizeof(copy), "%s", line);
		snprintf(sc->step, sizeof(sc->step), "%s",
		    copy + strspn(copy, " \t"));
		if ((argc = scn_words(line, argv, SCN_ARGS_MAX)) == -1) {
			scn_fail(sc, "cannot read the words of this step");
			break;
		}
		if (argc == 0)
			continue;
		sc->steps++;
		/* The daemon's two-word steps ("no cuts") first. */
		fn = NULL;
		if (argc > 1) {
			char two[128];

			snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
			fn = scn_find(d->steps, two);
		}
		if (fn == NULL && (fn = scn_find(scn_steps, argv[0])) == NULL &&
		    (fn = scn_find(d->steps, argv[0])) == NULL) {
			scn_fail(sc, "no such step");
			break;
		}
		if (fn(sc, argc, argv) == -1)
			break;
		if (scn_rest(sc) == -1)
			break;
		if (fake_trouble_take(trouble, sizeof(trouble)))
			scn_fail(sc, "the fakes saw trouble: %s", trouble);
	}
	fclose(f);
	if (sc->running) {
		char trouble[4096];

		snprintf(sc->step, sizeof(sc->step), "(stop at the end)");
		scn_stop(sc);
		(void)scn_rest(sc);
		if (fake_trouble_take(trouble, sizeof(trouble)))
			scn_fail(sc, "the fakes saw trouble: %s", trouble);
	}
	if (sc->failed || verbose)
		scn_log_tail(sc);
	log_set_sink(NULL, NULL);
	evloop_free(sc->ev);
	for (size_t i = 0; i < sc->nlog; i++)
		free(sc->log[i]);
	free(sc->log);
	(void)nftw(sc->dir, scn_rmtree_one, 16, FTW_DEPTH | FTW_PHYS);
	return sc->failed ? 1 : 0;
}

static int64_t
scn_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Started as root: become nobody, so no scenario can lean on root. */
static void
scn_unprivileged(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
	    setuid(65534) == -1) {
		fprintf(stderr, "scenario: become nobody: %s\n",
		    strerror(errno));
		exit(2);
	}
}

int
scn_main(int argc, char *argv[], const struct scn_daemon *d)
{
	bool verbose = false;
	int passed = 0, failed = 0, first = 1;
	int64_t t0 = scn_clock_ms();

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = true;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-v] FILE.scn ...\n", argv[0]);
		return 2;
	}
	scn_unprivileged();
	/* One line at a time, so a child's report stays beside its file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = first; i < argc; i++) {
		int64_t s0 = scn_clock_ms();
		int status;
		pid_t pid;

		fflush(NULL);
		if ((pid = fork()) == -1) {
			fprintf(stderr, "scenario: fork: %s\n", strerror(errno));
			return 2;
		}
		if (pid == 0) {
			alarm(SCN_FILE_SECONDS);
			exit(scn_run(argv[i], d, verbose));
		}
		if (waitpid(pid, &status, 0) == -1) {
			fprintf(stderr, "scenario: waitpid: %s\n",
			    strerror(errno));
			return 2;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			passed++;
			printf("%-44s ok (%lld ms)\n", argv[i],
			    (long long)(scn_clock_ms() - s0));
		} else {
			failed++;
			if (WIFSIGNALED(status))
				printf("%-44s FAILED (signal %d)\n", argv[i],
				    WTERMSIG(status));
			else
				printf("%-44s FAILED\n", argv[i]);
		}
	}
	printf("scenario %s: %d passed, %d failed, %lld ms\n", d->name, passed,
	    failed, (long long)(scn_clock_ms() - t0));
	return failed > 0 ? 1 : 0;
}
