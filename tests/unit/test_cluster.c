/*
 * test_cluster.c - the cluster connection (cluster.c and its files)
 * against a real redis-server: two or three gateways' struct cluster on
 * one evloop, driven with evloop_turn, and a raw hiredis context of the
 * test's own to plant values and read what was written.
 *
 * Each test starts its own redis-server in a mkdtemp directory, on a unix
 * socket only (--port 0, so nothing listens on the network and the host's
 * own Redis is never touched), without persistence; it is killed on every
 * way out (teardown, atexit, and PR_SET_PDEATHSIG should the test itself
 * be killed).  Without redis-server the program fails
 * with one line naming the package.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cluster.h"
#include "cluster_int.h"
#include "evloop.h"
#include "log.h"

#define REDIS_BIN	"redis-server"
#define ALL_KINDS	0x1ffu
#define MAX_EVENTS	256

/* ---- the redis-server of a test ---- */

static char dir[64];
static char sock[128];
static pid_t redis_pid = -1;

static void
redis_kill(void)
{
	int st;

	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, &st, 0);
	}
	redis_pid = -1;
}

/* Other servers of a test (the Sentinel's pair, the Sentinel). */
static pid_t extra_pid[4];
static int raw_port;		/* 0: the unix socket */

static void
redis_cleanup(void)
{
	char path[400];
	struct dirent *de;
	DIR *d;
	int st;

	redis_kill();
	for (size_t i = 0; i < 4; i++)
		if (extra_pid[i] > 0) {
			kill(extra_pid[i], SIGKILL);
			waitpid(extra_pid[i], &st, 0);
			extra_pid[i] = 0;
		}
	raw_port = 0;
	if (dir[0] == '\0')
		return;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	dir[0] = '\0';
}

static redisContext *
raw_connect(void)
{
	struct timeval tv = { 1, 0 };

	if (raw_port != 0)
		return redisConnectWithTimeout("127.0.0.1", raw_port, tv);
	return redisConnectUnixWithTimeout(sock, tv);
}

/* Start redis-server on dir/r.sock (extra: more arguments, NULL-ended). */
static void
redis_start(const char *pass)
{
	char logf[160];
	redisContext *rc;
	int i;

	snprintf(logf, sizeof logf, "%s/redis.log", dir);
	redis_pid = fork();
	assert_true(redis_pid >= 0);
	if (redis_pid == 0) {
		const char *argv[20];
		int n = 0;

		/* Dies with the test, however the test ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);

		argv[n++] = REDIS_BIN;
		argv[n++] = "--port";
		argv[n++] = "0";
		argv[n++] = "--unixsocket";
		argv[n++] = sock;
		argv[n++] = "--save";
		argv[n++] = "";
		argv[n++] = "--appendonly";
		argv[n++] = "no";
		argv[n++] = "--dir";
		argv[n++] = dir;
		argv[n++] = "--logfile";
		argv[n++] = logf;
		if (pass != NULL) {
			argv[n++] = "--requirepass";
			argv[n++] = pass;
		}
		argv[n] = NULL;
		execvp(REDIS_BIN, (char *const *)argv);
		_exit(127);
	}
	/* Ready when it answers on the socket (at most 5 s). */
	for (i = 0; i < 100; i++) {
		rc = raw_connect();
		if (rc != NULL && rc->err == 0) {
			redisFree(rc);
			return;
		}
		if (rc != NULL)
			redisFree(rc);
		usleep(50000);
	}
	fail_msg("redis-server did not come up on %s (see %s)", sock, logf);
}

/* A raw command; its reply freed, its integer or -1. */
static long long
raw(const char *pass, const char *fmt, ...)
{
	redisContext *rc = raw_connect();
	redisReply *r;
	long long v = -1;
	va_list ap;

	assert_non_null(rc);
	assert_int_equal(rc->err, 0);
	if (pass != NULL) {
		r = redisCommand(rc, "AUTH %s", pass);
		freeReplyObject(r);
	}
	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_STRING || r->type ==
	    REDIS_REPLY_STATUS)
		v = (long long)r->len;
	freeReplyObject(r);
	redisFree(rc);
	return v;
}

/* GET key into buf ("" when absent). */
static void
raw_get(const char *key, char *buf, size_t len)
{
	redisContext *rc = raw_connect();
	redisReply *r;

	assert_non_null(rc);
	r = redisCommand(rc, "GET %s", key);
	assert_non_null(r);
	snprintf(buf, len, "%.*s", r->type == REDIS_REPLY_STRING ?
	    (int)r->len : 0, r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	redisFree(rc);
}

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- gateways ---- */

struct node {
	const char *name;
	struct cluster *c;
	struct cluster_event ev[MAX_EVENTS];
	size_t n;
	size_t total;		/* every event, kept or not */
};

static struct evloop *loop;
static char logs[64][256];
static size_t nlogs;

static void
sink(void *arg, int pri, const char *line)
{
	(void)arg;
	(void)pri;
	if (getenv("TEST_CLUSTER_LOG") != NULL)
		fprintf(stderr, "log: %s\n", line);
	if (nlogs < 64)
		snprintf(logs[nlogs++], sizeof logs[0], "%s", line);
}

static bool
logged(const char *part)
{
	for (size_t i = 0; i < nlogs; i++)
		if (strstr(logs[i], part) != NULL)
			return true;
	return false;
}

static void
node_cb(const struct cluster_event *e, void *arg)
{
	struct node *n = arg;

	n->total++;
	if (n->n < MAX_EVENTS)
		n->ev[n->n++] = *e;
}

static void
node_conf(struct conf_cluster *cc, const char *name)
{
	memset(cc, 0, sizeof *cc);
	snprintf(cc->redis, sizeof cc->redis, "%s", sock);
	snprintf(cc->prefix, sizeof cc->prefix, "smtpgate:");
	snprintf(cc->node, sizeof cc->node, "%s", name);
	cc->timeout_ms = 500;
	cc->backlog = 100;
	cc->share_pass = true;
	cc->share_allow = true;
}

static void
node_start(struct node *n, const char *name, const struct conf_cluster *cc0)
{
	struct conf_cluster cc;
	char err[256];

	memset(n, 0, sizeof *n);
	n->name = name;
	if (cc0 != NULL)
		cc = *cc0;
	else
		node_conf(&cc, name);
	n->c = cluster_new(loop, &cc, "test", ALL_KINDS, node_cb, n, err,
	    sizeof err);
	if (n->c == NULL)
		fail_msg("cluster_new(%s): %s", name, err);
}

static enum cluster_state
st_of(const struct node *n)
{
	return cluster_stats(n->c)->state;
}

/* Turn the loop until pred holds or ms pass; its last value. */
static bool
spin(bool (*pred)(void *), void *arg, int ms)
{
	int64_t end = evloop_clock_us() / 1000 + ms;

	while (!pred(arg)) {
		if (evloop_clock_us() / 1000 >= end)
			return false;
		evloop_turn(loop, 20);
	}
	return true;
}

static void
spin_for(int ms)
{
	int64_t end = evloop_clock_us() / 1000 + ms;

	while (evloop_clock_us() / 1000 < end)
		evloop_turn(loop, 20);
}

static bool
all_up(void *arg)
{
	struct node **ns = arg;

	for (size_t i = 0; ns[i] != NULL; i++)
		if (st_of(ns[i]) != CLUSTER_UP)
			return false;
	return true;
}

static void
wait_up(struct node *a, struct node *b)
{
	struct node *ns[3] = { a, b, NULL };

	if (!spin(all_up, ns, 5000))
		fail_msg("not up after 5 s: %s %s, %s %s", a->name,
		    cluster_state_name(st_of(a)), b ? b->name : "-",
		    b ? cluster_state_name(st_of(b)) : "-");
}

struct want_ev {
	struct node *n;
	enum cluster_kind kind;
	const char *addr;	/* NULL: any */
	uint32_t count;		/* 0: any */
};

static const struct cluster_event *
find_ev(const struct node *n, enum cluster_kind kind, const char *addr,
    uint32_t count)
{
	char a[ADDR_STRLEN];

	for (size_t i = 0; i < n->n; i++) {
		const struct cluster_event *e = &n->ev[i];

		if (e->kind != kind)
			continue;
		if (addr != NULL && strcmp(addr_ntop(e->net64 ? &e->p.a : &e->a,
		    a), addr) != 0)
			continue;
		if (count != 0 && e->count != count)
			continue;
		return e;
	}
	return NULL;
}

static bool
has_ev(void *arg)
{
	struct want_ev *w = arg;

	return find_ev(w->n, w->kind, w->addr, w->count) != NULL;
}

static void
wait_ev(struct node *n, enum cluster_kind kind, const char *addr,
    uint32_t count)
{
	struct want_ev w = { n, kind, addr, count };

	if (!spin(has_ev, &w, 3000))
		fail_msg("%s: no %s %s (count %u) after 3 s (%zu events)",
		    n->name, cluster_kind_name(kind), addr ? addr : "",
		    count, n->n);
}

static void
verdict(struct cluster_event *e, enum cluster_kind kind, const char *addr,
    uint32_t ttl)
{
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->ttl_s = ttl;
	snprintf(e->reason, sizeof e->reason, "dnsbl");
	assert_int_equal(addr_parse(addr, &e->a), 0);
}

/* ---- set-up ---- */

static struct node na, nb, nc;

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_cluster.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof sock, "%s/r.sock", dir);
	loop = evloop_new();
	nlogs = 0;
	log_set_sink(sink, NULL);
	memset(&na, 0, sizeof na);
	memset(&nb, 0, sizeof nb);
	memset(&nc, 0, sizeof nc);
	return loop == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	cluster_free(na.c);
	cluster_free(nb.c);
	cluster_free(nc.c);
	na.c = nb.c = nc.c = NULL;
	/* Timers and descriptors of the freed clusters are gone. */
	evloop_turn(loop, 0);
	evloop_free(loop);
	loop = NULL;
	log_set_sink(NULL, NULL);
	redis_cleanup();
	return 0;
}

/* ---- tests ---- */

/* A share on one arrives parsed on the other, never back on itself. */
static void
test_share(void **state)
{
	struct cluster_event e;
	const struct cluster_event *got;
	char v[CLUSTER_MSG_MAX];

	(void)state;
	redis_start(NULL);
	node_start(&na, "gw-a", NULL);
	node_start(&nb, "gw-b", NULL);
	assert_int_equal(st_of(&na), CLUSTER_CONNECTING);
	wait_up(&na, &nb);
	assert_true(logged("cluster: connected to "));
	assert_true(logged("cluster: resync: 0 keys read, 0 applied, 0 "
	    "refused"));

	verdict(&e, CLUSTER_DENY, "192.0.2.7", 900);
	na.n = nb.n = 0;
	cluster_share(na.c, &e);
	/* Never called back inside the call. */
	assert_int_equal(na.n, 0);
	assert_int_equal(nb.n, 0);
	wait_ev(&nb, CLUSTER_DENY, "192.0.2.7", 0);
	got = find_ev(&nb, CLUSTER_DENY, "192.0.2.7", 0);
	assert_string_equal(got->node, "gw-a");
	assert_string_equal(got->reason, "dnsbl");
	assert_int_equal(got->ttl_s, 900);
	assert_true(cluster_msg_left(got, got->at_ms + 1000) >= 898);

	/* A /64, a ban, an allow change, a pass. */
	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_DROP;
	e.ttl_s = 60;
	e.net64 = true;
	assert_int_equal(prefix_parse("2001:db8:1:2::/64", &e.p, NULL), 0);
	e.a = e.p.a;
	cluster_share(na.c, &e);
	verdict(&e, CLUSTER_BAN, "198.51.100.3", 3600);
	e.count = 2;
	cluster_share(na.c, &e);
	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_ALLOW_ADD;
	assert_int_equal(prefix_parse("203.0.113.0/24", &e.p, NULL), 0);
	e.a = e.p.a;
	cluster_share(na.c, &e);
	verdict(&e, CLUSTER_PASS, "192.0.2.99", 300);
	cluster_share(na.c, &e);
	wait_ev(&nb, CLUSTER_DROP, "2001:db8:1:2::", 0);
	wait_ev(&nb, CLUSTER_BAN, "198.51.100.3", 2);
	wait_ev(&nb, CLUSTER_ALLOW_ADD, "203.0.113.0", 0);
	wait_ev(&nb, CLUSTER_PASS, "192.0.2.99", 0);
	assert_true(find_ev(&nb, CLUSTER_DROP, NULL, 0)->net64);

	/* What Redis holds. */
	raw_get("smtpgate:v:192.0.2.7", v, sizeof v);
	assert_true(strncmp(v, "1 deny gw-a ", 12) == 0);
	assert_true(raw(NULL, "PTTL smtpgate:v:192.0.2.7") > 895000);
	raw_get("smtpgate:vn:2001:db8:1:2::/64", v, sizeof v);
	assert_true(strncmp(v, "1 drop gw-a ", 12) == 0);
	raw_get("smtpgate:b:198.51.100.3", v, sizeof v);
	assert_true(strncmp(v, "1 ban gw-a ", 11) == 0);
	assert_int_equal(raw(NULL, "HEXISTS smtpgate:allow 203.0.113.0/24"),
	    1);
	/* Heartbeats: each knows the other. */
	spin_for(1200);
	assert_true(raw(NULL, "EXISTS smtpgate:node:gw-a") == 1);
	assert_true(cluster_stats(nb.c)->nsiblings == 1);
	assert_string_equal(cluster_stats(nb.c)->sibling[0].node, "gw-a");
	assert_true(find_ev(&nb, CLUSTER_HELLO, NULL, 0) != NULL);

	/* Nothing of a's own came back to a. */
	for (size_t i = 0; i < na.n; i++)
		assert_string_not_equal(na.ev[i].node, "gw-a");
	assert_true(cluster_stats(na.c)->shared >= 5);
	assert_true(cluster_stats(nb.c)->received >= 5);
	assert_int_equal(cluster_stats(nb.c)->refused, 0);

	/* A share no sibling would take: not sent, said once. */
	verdict(&e, CLUSTER_PASS, "192.0.2.98", 300);
	e.net64 = true;
	assert_int_equal(prefix_parse("2001:db8:9::/64", &e.p, NULL), 0);
	cluster_share(na.c, &e);
	verdict(&e, CLUSTER_DENY, "192.0.2.98", 0);
	cluster_share(na.c, &e);
	assert_int_equal(cluster_stats(na.c)->lost, 2);
	assert_true(logged("cluster: share of pass 2001:db8:9:: (ttl 300, "
	    "count 0, reason 'dnsbl', /64): not a valid message, not shared"));

	/* An allow-del takes the prefix out of the hash and is heard. */
	memset(&e, 0, sizeof e);
	e.kind = CLUSTER_ALLOW_DEL;
	assert_int_equal(prefix_parse("203.0.113.0/24", &e.p, NULL), 0);
	e.a = e.p.a;
	cluster_share(na.c, &e);
	wait_ev(&nb, CLUSTER_ALLOW_DEL, "203.0.113.0", 0);
	assert_int_equal(raw(NULL, "HEXISTS smtpgate:allow 203.0.113.0/24"),
	    0);

	/* An unban deletes the ban and the strikes that made it, and is
	 * heard. */
	assert_int_equal(raw(NULL, "SET smtpgate:s:198.51.100.3 3"), 2);
	verdict(&e, CLUSTER_UNBAN, "198.51.100.3", 0);
	cluster_share(na.c, &e);
	wait_ev(&nb, CLUSTER_UNBAN, "198.51.100.3", 0);
	assert_int_equal(raw(NULL, "EXISTS smtpgate:b:198.51.100.3"), 0);
	assert_int_equal(raw(NULL, "EXISTS smtpgate:s:198.51.100.3"), 0);
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* From cluster_share on one to the callback on the other, one at a time
 * over 1,000 addresses: the library's part of the propagation. */
static void
test_latency(void **state)
{
	static int64_t us[1000];
	struct cluster_event e;
	char addr[32];

	(void)state;
	redis_start(NULL);
	node_start(&na, "gw-a", NULL);
	node_start(&nb, "gw-b", NULL);
	wait_up(&na, &nb);
	for (int i = 0; i < 1000; i++) {
		int64_t t0;

		snprintf(addr, sizeof addr, "198.18.%d.%d", i >> 8, i & 255);
		verdict(&e, CLUSTER_DENY, addr, 900);
		nb.n = 0;
		t0 = evloop_clock_us();
		cluster_share(na.c, &e);
		wait_ev(&nb, CLUSTER_DENY, addr, 0);
		us[i] = evloop_clock_us() - t0;
	}
	qsort(us, 1000, sizeof us[0], cmp_i64);
	print_message("share to sibling's callback over 1000 addresses: p50 "
	    "%lld us, p99 %lld us, max %lld us\n", (long long)us[499],
	    (long long)us[989], (long long)us[999]);
	assert_true(us[989] < 1000000);
}

/* Strikes are summed over the gateways; each total comes back. */
static void
test_strike(void **state)
{
	const struct cluster_event *e;
	struct addr a;

	(void)state;
	redis_start(NULL);
	node_start(&na, "gw-a", NULL);
	node_start(&nb, "gw-b", NULL);
	wait_up(&na, &nb);
	assert_int_equal(addr_parse("192.0.2.66", &a), 0);
	na.n = 0;
	cluster_strike(na.c, &a, 1, 3600, "own-name");
	assert_int_equal(na.n, 0);
	wait_ev(&na, CLUSTER_STRIKE, "192.0.2.66", 1);
	e = find_ev(&na, CLUSTER_STRIKE, "192.0.2.66", 1);
	assert_string_equal(e->node, "gw-a");	/* its own total */
	assert_string_equal(e->reason, "own-name");
	wait_ev(&nb, CLUSTER_STRIKE, "192.0.2.66", 1);
	cluster_strike(nb.c, &a, 1, 3600, "bare-ip");
	wait_ev(&nb, CLUSTER_STRIKE, "192.0.2.66", 2);
	wait_ev(&na, CLUSTER_STRIKE, "192.0.2.66", 2);
	assert_string_equal(find_ev(&na, CLUSTER_STRIKE, "192.0.2.66",
	    2)->node, "gw-b");
	cluster_strike(na.c, &a, 3, 3600, "own-name");
	wait_ev(&nb, CLUSTER_STRIKE, "192.0.2.66", 5);
	/* The window runs from the first strike. */
	assert_true(raw(NULL, "PTTL smtpgate:s:192.0.2.66") > 3590000);
	assert_true(raw(NULL, "PTTL smtpgate:s:192.0.2.66") <= 3600000);
}

/* Hostile values: planted by hand and published by hand, refused. */
static void
test_refused(void **state)
{
	char msg[CLUSTER_MSG_MAX];
	long long now = wall_ms();

	(void)state;
	redis_start(NULL);
	/* Two live keys of a sibling z, and three bad ones. */
	snprintf(msg, sizeof msg, "1 deny z %lld 900 0 dnsbl 192.0.2.10",
	    now);
	raw(NULL, "SET smtpgate:v:192.0.2.10 %s PX 900000", msg);
	snprintf(msg, sizeof msg, "1 ban z %lld 600 3 bare-ip 192.0.2.11",
	    now);
	raw(NULL, "SET smtpgate:b:192.0.2.11 %s PX 600000", msg);
	raw(NULL, "SET smtpgate:v:192.0.2.12 %s", "garbage");
	snprintf(msg, sizeof msg, "1 deny z %lld 900 0 dnsbl 192.0.2.99",
	    now);
	raw(NULL, "SET smtpgate:v:192.0.2.13 %s", msg);	/* another's */
	snprintf(msg, sizeof msg, "1 deny z %lld 0 0 dnsbl 192.0.2.14", now);
	raw(NULL, "SET smtpgate:v:192.0.2.14 %s", msg);	/* ttl 0 */
	/* Expired by its own clock, though the key lives. */
	snprintf(msg, sizeof msg, "1 deny z %lld 60 0 dnsbl 192.0.2.15",
	    now - 120000);
	raw(NULL, "SET smtpgate:v:192.0.2.15 %s", msg);

	node_start(&na, "gw-a", NULL);
	wait_up(&na, NULL);
	assert_true(logged("cluster: resync: 6 keys read, 2 applied, 3 "
	    "refused"));
	assert_true(logged("cluster: refused smtpgate:v:192.0.2.1"));
	spin_for(50);
	wait_ev(&na, CLUSTER_DENY, "192.0.2.10", 0);
	wait_ev(&na, CLUSTER_BAN, "192.0.2.11", 3);
	assert_null(find_ev(&na, CLUSTER_DENY, "192.0.2.12", 0));
	assert_null(find_ev(&na, CLUSTER_DENY, "192.0.2.99", 0));
	assert_null(find_ev(&na, CLUSTER_DENY, "192.0.2.14", 0));
	assert_null(find_ev(&na, CLUSTER_DENY, "192.0.2.15", 0));
	assert_int_equal(cluster_stats(na.c)->refused, 3);
	assert_int_equal(cluster_stats(na.c)->expired, 1);
	assert_int_equal(cluster_stats(na.c)->resynced, 6);

	/* Malformed publishes: refused, counted, never delivered. */
	raw(NULL, "PUBLISH smtpgate:events %s", "1 deny z 0 900 0 - 1.2.3.4");
	raw(NULL, "PUBLISH smtpgate:events %s", "hello world");
	/* Decided an hour ahead of this clock. */
	snprintf(msg, sizeof msg, "1 deny z %lld 900 0 - 192.0.2.21",
	    now + 3600000);
	raw(NULL, "PUBLISH smtpgate:events %s", msg);
	snprintf(msg, sizeof msg, "1 deny z %lld 900 0 - 192.0.2.20", now);
	raw(NULL, "PUBLISH smtpgate:events %s", msg);
	wait_ev(&na, CLUSTER_DENY, "192.0.2.20", 0);
	assert_int_equal(cluster_stats(na.c)->refused, 6);
	assert_null(find_ev(&na, CLUSTER_DENY, "192.0.2.21", 0));
	assert_null(find_ev(&na, CLUSTER_DENY, "1.2.3.4", 0));
	assert_true(logged("cluster: refused smtpgate:events: field 3"));
	/* Still up: a refusal is not a failure. */
	assert_int_equal(st_of(&na), CLUSTER_UP);
}

static bool
is_over(void *arg)
{
	return logged((const char *)arg);
}

/* The link fails (the reason logged) and stays short of up while the
 * value is there. */
static void
wait_over(const char *why)
{
	if (!spin(is_over, (void *)why, 15000))
		fail_msg("no \"%s\" logged after 15 s", why);
	assert_int_not_equal(st_of(&na), CLUSTER_UP);
}

/*
 * A reply past the reader's bounds fails the link, named; the daemon's
 * memory is not the server's to fill.  Real values in a real Redis: a
 * string over CLUSTER_REPLY_STRING_MAX whole in one read's reach (its
 * object refused), one far over it (refused while still arriving, from
 * the bytes buffered), and an allow hash one entry over a full list
 * (HGETALL's array refused at its header).  Each gone, the link comes up.
 */
static void
test_reply_bounds(void **state)
{
	static char big[1 << 20];
	struct conf_cluster cc;
	char msg[CLUSTER_MSG_MAX];
	long long fields;

	(void)state;
	memset(big, 'x', sizeof big);
	redis_start(NULL);
	raw(NULL, "SET smtpgate:v:192.0.2.9 %b", big, (size_t)100000);
	/* Redis takes its time over an HGETALL of a million fields. */
	node_conf(&cc, "gw-a");
	cc.timeout_ms = 5000;
	node_start(&na, "gw-a", &cc);
	wait_over("a reply string of 100000 bytes (at most 65536)");
	assert_true(cluster_stats(na.c)->errors >= 1);

	raw(NULL, "DEL smtpgate:v:192.0.2.9");
	raw(NULL, "SET smtpgate:v:192.0.2.8 %b", big, sizeof big);
	wait_over("a reply string over 65536 bytes");

	raw(NULL, "DEL smtpgate:v:192.0.2.8");
	fields = raw(NULL, "EVAL %s 1 smtpgate:allow %d",
	    "for i = 1, tonumber(ARGV[1]) do "
	    "redis.call('HSET', KEYS[1], i, 'x') end "
	    "return redis.call('HLEN', KEYS[1])",
	    CLUSTER_REPLY_ELEMENTS_MAX / 2 + 1);
	assert_int_equal(fields, CLUSTER_REPLY_ELEMENTS_MAX / 2 + 1);
	snprintf(msg, sizeof msg, "a reply array of %d elements (at most %d)",
	    CLUSTER_REPLY_ELEMENTS_MAX + 2, CLUSTER_REPLY_ELEMENTS_MAX);
	wait_over(msg);

	raw(NULL, "DEL smtpgate:allow");
	wait_up(&na, NULL);
	/* A message on the channel past the bound: the events link. */
	raw(NULL, "PUBLISH smtpgate:events %b", big, (size_t)70000);
	nlogs = 0;
	wait_over("events: ");
	assert_true(logged("a reply string of 70000 bytes"));
	wait_up(&na, NULL);
}

static bool
total_3000(void *arg)
{
	return ((struct node *)arg)->total >= 3000 && st_of(arg) == CLUSTER_UP;
}

/* A resync of thousands of keys: every one delivered, a batch a turn. */
static void
test_resync_many(void **state)
{
	redisContext *rc;
	redisReply *r;
	long long now = wall_ms();

	(void)state;
	redis_start(NULL);
	rc = raw_connect();
	assert_non_null(rc);
	for (int i = 0; i < 3000; i++) {
		char key[64], msg[CLUSTER_MSG_MAX];

		snprintf(key, sizeof key, "smtpgate:v:10.1.%d.%d", i >> 8,
		    i & 255);
		snprintf(msg, sizeof msg, "1 drop z %lld 600 0 - 10.1.%d.%d",
		    now, i >> 8, i & 255);
		redisAppendCommand(rc, "SET %s %s PX 600000", key, msg);
	}
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(redisGetReply(rc, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	redisFree(rc);
	assert_int_equal(raw(NULL, "DBSIZE"), 3000);
	node_start(&na, "gw-a", NULL);
	if (!spin(total_3000, &na, 10000))
		fail_msg("%zu of 3000 delivered in 10 s", na.total);
	assert_true(logged("cluster: resync: 3000 keys read, 3000 applied, 0 "
	    "refused"));
	assert_int_equal(cluster_stats(na.c)->refused, 0);
	assert_int_equal(cluster_stats(na.c)->resynced, 3000);
	print_message("resync of 3000 keys; the loop's longest callback %llu "
	    "us\n", (unsigned long long)evloop_stall_max_us(loop));
}

static bool
is_down(void *arg)
{
	return st_of(arg) == CLUSTER_DOWN;
}

/* ---- a resync's begin and done (cluster_on_sync) ---- */

static char sync_seq[4096];	/* "begin allow-add 192.0.2.0/24 ... done" */
static bool sync_kill;		/* kill Redis at the begin */

static void
seq_add(const char *fmt, ...)
{
	size_t off = strlen(sync_seq);
	va_list ap;

	if (off >= sizeof sync_seq - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(sync_seq + off, sizeof sync_seq - off, fmt, ap);
	va_end(ap);
}

static void
seq_event(const struct cluster_event *e, void *arg)
{
	char a[ADDR_STRLEN];

	node_cb(e, arg);
	if (e->kind == CLUSTER_ALLOW_ADD || e->kind == CLUSTER_ALLOW_DEL)
		seq_add("%s %s/%u ", cluster_kind_name(e->kind),
		    addr_ntop(&e->p.a, a), e->p.len);
	else if (e->kind != CLUSTER_HELLO)
		seq_add("%s ", cluster_kind_name(e->kind));
}

static void
seq_sync(void *arg, bool done)
{
	(void)arg;
	seq_add("%s ", done ? "done" : "begin");
	if (!done && sync_kill) {
		sync_kill = false;
		redis_kill();
	}
}

static bool
seq_done(void *arg)
{
	(void)arg;
	return strstr(sync_seq, "done ") != NULL;
}

static size_t
seq_count(const char *word)
{
	size_t n = 0;

	for (const char *p = sync_seq; (p = strstr(p, word)) != NULL;
	    p += strlen(word))
		n++;
	return n;
}

/* Plant an allow entry of node in the hash. */
static void
plant_allow(const char *node, const char *prefix)
{
	char msg[CLUSTER_MSG_MAX];

	snprintf(msg, sizeof msg, "1 allow-add %s %lld 0 0 - %s", node,
	    wall_ms(), prefix);
	assert_true(raw(NULL, "HSET smtpgate:allow %s %s", prefix, msg) >= 0);
}

/* begin, the resync's events (the allow hash's entries, own too), then
 * done; a resync cut by a kill gives no done, the next one begins again
 * and ends. */
static void
test_sync_marks(void **state)
{
	struct conf_cluster cc;
	char err[256];
	const char *b, *d, *x, *y;

	(void)state;
	redis_start(NULL);
	for (int i = 0; i < 1200; i++) {
		char key[64], msg[CLUSTER_MSG_MAX];

		snprintf(key, sizeof key, "smtpgate:v:10.2.%d.%d", i >> 8,
		    i & 255);
		snprintf(msg, sizeof msg, "1 drop z %lld 600 0 - 10.2.%d.%d",
		    wall_ms(), i >> 8, i & 255);
		assert_true(raw(NULL, "SET %s %s PX 600000", key, msg) >= 0);
	}
	plant_allow("z", "192.0.2.0/24");
	plant_allow("gw-a", "198.51.100.0/24");

	/* Cut: Redis killed as the begin is heard, amid the SCANs. */
	sync_seq[0] = '\0';
	sync_kill = true;
	node_conf(&cc, "gw-a");
	memset(&na, 0, sizeof na);
	na.name = "gw-a";
	na.c = cluster_new(loop, &cc, "test", ALL_KINDS, seq_event, &na, err,
	    sizeof err);
	if (na.c == NULL)
		fail_msg("cluster_new: %s", err);
	cluster_on_sync(na.c, seq_sync, &na);
	if (!spin(is_down, &na, 5000))
		fail_msg("not down 5 s after the kill: %s (%s)",
		    cluster_state_name(st_of(&na)), sync_seq);
	spin_for(300);
	assert_int_equal(seq_count("begin "), 1);
	assert_int_equal(seq_count("done "), 0);
	assert_null(strstr(sync_seq, "allow-add"));

	/* Back, empty but for the two entries: begin, both, done. */
	redis_start(NULL);
	plant_allow("z", "192.0.2.0/24");
	plant_allow("gw-a", "198.51.100.0/24");
	sync_seq[0] = '\0';
	if (!spin(seq_done, NULL, 5000))
		fail_msg("no done 5 s after Redis came back: %s", sync_seq);
	spin_for(100);
	b = strstr(sync_seq, "begin ");
	x = strstr(sync_seq, "allow-add 192.0.2.0/24 ");
	y = strstr(sync_seq, "allow-add 198.51.100.0/24 ");
	d = strstr(sync_seq, "done ");
	if (b != sync_seq || x == NULL || y == NULL || d == NULL || x < b ||
	    y < b || d < x || d < y || d[5] != '\0')
		fail_msg("want begin, both entries, done; got \"%s\"",
		    sync_seq);
	assert_int_equal(seq_count("begin "), 1);
	assert_int_equal(seq_count("done "), 1);
	assert_int_equal(st_of(&na), CLUSTER_UP);

	/* A live allow-add after the resync comes after done. */
	node_start(&nb, "gw-b", NULL);
	wait_up(&na, &nb);
	{
		struct cluster_event e;
		const char *why = NULL;

		memset(&e, 0, sizeof e);
		e.kind = CLUSTER_ALLOW_ADD;
		assert_int_equal(prefix_parse("203.0.113.0/24", &e.p, &why),
		    0);
		e.a = e.p.a;
		cluster_share(nb.c, &e);
	}
	wait_ev(&na, CLUSTER_ALLOW_ADD, "203.0.113.0", 0);
	d = strstr(sync_seq, "done ");
	x = strstr(sync_seq, "allow-add 203.0.113.0/24 ");
	assert_non_null(x);
	assert_true(x > d);
	/* An HGETALL refused (the hash is no hash) at the next resync: a
	 * begin, no done. */
	assert_true(raw(NULL, "DEL smtpgate:allow") >= 0);
	assert_true(raw(NULL, "SET smtpgate:allow x") >= 0);
	sync_seq[0] = '\0';
	assert_true(raw(NULL, "CLIENT KILL TYPE normal") >= 0);
	if (!spin(is_down, &na, 3000))
		fail_msg("not down after CLIENT KILL");
	if (!spin(all_up, (struct node *[]){ &na, NULL }, 5000))
		fail_msg("not up again: %s", cluster_state_name(st_of(&na)));
	spin_for(300);
	if (seq_count("begin ") < 1 || seq_count("done ") != 0)
		fail_msg("want a begin and no done; got \"%s\"", sync_seq);
}

/* Redis killed: down, shares kept (and lost past the bound); back: the
 * backlog is sent and a sibling's resync reads it. */
static void
test_down_backlog(void **state)
{
	struct conf_cluster cc;
	struct cluster_event e;
	char addr[32];
	const struct cluster_stats *st;

	(void)state;
	redis_start(NULL);
	node_conf(&cc, "gw-a");
	cc.backlog = 3;
	node_start(&na, "gw-a", &cc);
	wait_up(&na, NULL);
	redis_kill();
	if (!spin(is_down, &na, 3000))
		fail_msg("not down 3 s after redis-server was killed: %s",
		    cluster_state_name(st_of(&na)));
	assert_true(logged("cluster: lost "));
	assert_true(logged("local operation goes on, sharing resumes at "
	    "reconnect"));
	for (int i = 1; i <= 5; i++) {
		snprintf(addr, sizeof addr, "192.0.2.%d", 100 + i);
		verdict(&e, CLUSTER_DENY, addr, 900);
		cluster_share(na.c, &e);
	}
	st = cluster_stats(na.c);
	assert_int_equal(st->backlog, 3);
	assert_int_equal(st->lost, 2);
	/* Still apart a while: the lost line once per streak. */
	spin_for(700);
	{
		size_t lost = 0;

		for (size_t i = 0; i < nlogs; i++)
			if (strstr(logs[i], "cluster: lost ") != NULL)
				lost++;
		assert_int_equal(lost, 1);
	}
	redis_start(NULL);
	wait_up(&na, NULL);
	assert_int_equal(cluster_stats(na.c)->backlog, 0);
	assert_true(cluster_stats(na.c)->reconnects >= 1);
	/* The three newest went to Redis; a sibling's resync reads them. */
	spin_for(200);
	assert_int_equal(raw(NULL, "EXISTS smtpgate:v:192.0.2.101"), 0);
	assert_int_equal(raw(NULL, "EXISTS smtpgate:v:192.0.2.102"), 0);
	assert_int_equal(raw(NULL, "EXISTS smtpgate:v:192.0.2.105"), 1);
	node_start(&nb, "gw-b", NULL);
	wait_up(&nb, NULL);
	wait_ev(&nb, CLUSTER_DENY, "192.0.2.103", 0);
	wait_ev(&nb, CLUSTER_DENY, "192.0.2.104", 0);
	wait_ev(&nb, CLUSTER_DENY, "192.0.2.105", 0);
	assert_null(find_ev(&nb, CLUSTER_DENY, "192.0.2.101", 0));
	/* Strikes are not kept while apart. */
	redis_kill();
	assert_true(spin(is_down, &nb, 3000));
}

static bool
backlog_empty(void *arg)
{
	const struct cluster_stats *st = cluster_stats(arg);

	return st->state == CLUSTER_UP && st->backlog == 0;
}

/* A big backlog goes out in batches, in order, none lost. */
static void
test_backlog_batches(void **state)
{
	struct conf_cluster cc;
	struct cluster_event e;
	char addr[32];
	int64_t t0;

	(void)state;
	redis_start(NULL);
	node_conf(&cc, "gw-a");
	cc.backlog = 20000;
	node_start(&na, "gw-a", &cc);
	wait_up(&na, NULL);
	redis_kill();
	assert_true(spin(is_down, &na, 3000));
	for (int i = 0; i < 20000; i++) {
		snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16,
		    (i >> 8) & 255, i & 255);
		verdict(&e, CLUSTER_DENY, addr, 900);
		cluster_share(na.c, &e);
	}
	assert_int_equal(cluster_stats(na.c)->backlog, 20000);
	redis_start(NULL);
	t0 = evloop_clock_us();
	if (!spin(backlog_empty, na.c, 10000))
		fail_msg("backlog not sent in 10 s: %llu left",
		    (unsigned long long)cluster_stats(na.c)->backlog);
	print_message("backlog of 20000 sent %lld ms after redis-server "
	    "came back (reconnect backoff included)\n",
	    (long long)(evloop_clock_us() - t0) / 1000);
	verdict(&e, CLUSTER_DENY, "192.0.2.250", 900);
	cluster_share(na.c, &e);
	spin_for(300);
	assert_int_equal(raw(NULL, "DBSIZE"), 20000 + 1 + 1);	/* + node */
	assert_int_equal(cluster_stats(na.c)->lost, 0);
	assert_int_equal(cluster_stats(na.c)->timeouts, 0);
	assert_true(cluster_stats(na.c)->shared >= 20001);
}

/* A server that stops answering: commands past their deadline. */
static void
test_timeout(void **state)
{
	(void)state;
	if (getenv("TEST_CLUSTER_SKIP_TIMEOUT"))
		skip();
	redis_start(NULL);
	node_start(&na, "gw-a", NULL);
	wait_up(&na, NULL);
	kill(redis_pid, SIGSTOP);
	if (!spin(is_down, &na, 4000)) {
		kill(redis_pid, SIGCONT);
		fail_msg("not down 4 s after redis-server stopped");
	}
	assert_true(cluster_stats(na.c)->timeouts >= 1);
	assert_true(logged("timed out after 500 ms") ||
	    logged("nothing heard"));
	kill(redis_pid, SIGCONT);
	wait_up(&na, NULL);
}

/*
 * A change on the wire when the link goes (its SET and PUBLISH sent, no
 * answer; the server then killed, so neither did its work) is kept and
 * written again on the next link, not lost.
 */
static void
test_in_flight(void **state)
{
	struct cluster_event e;

	(void)state;
	if (getenv("TEST_CLUSTER_SKIP_TIMEOUT"))
		skip();
	redis_start(NULL);
	node_start(&na, "gw-a", NULL);
	wait_up(&na, NULL);
	kill(redis_pid, SIGSTOP);
	verdict(&e, CLUSTER_DENY, "192.0.2.77", 900);
	cluster_share(na.c, &e);
	if (!spin(is_down, &na, 4000)) {
		kill(redis_pid, SIGCONT);
		fail_msg("not down 4 s after redis-server stopped");
	}
	assert_int_equal(cluster_stats(na.c)->backlog, 1);
	assert_int_equal(cluster_stats(na.c)->lost, 0);
	kill(redis_pid, SIGCONT);
	redis_kill();
	redis_start(NULL);
	wait_up(&na, NULL);
	spin_for(200);
	assert_int_equal(cluster_stats(na.c)->backlog, 0);
	assert_int_equal(cluster_stats(na.c)->lost, 0);
	assert_int_equal(raw(NULL, "EXISTS smtpgate:v:192.0.2.77"), 1);
}

static void
write_file(const char *name, const char *text, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* AUTH from password_file; a wrong one is an error, not a crash. */
static void
test_auth(void **state)
{
	struct conf_cluster cc;
	struct cluster_event e;

	(void)state;
	redis_start("s3cret");
	node_conf(&cc, "gw-a");
	write_file("pass", "default s3cret\n", cc.password_file,
	    sizeof cc.password_file);
	node_start(&na, "gw-a", &cc);
	node_conf(&cc, "gw-b");
	write_file("wrong", "not-it\n", cc.password_file,
	    sizeof cc.password_file);
	node_start(&nb, "gw-b", &cc);
	wait_up(&na, NULL);
	spin_for(500);
	assert_int_not_equal(st_of(&nb), CLUSTER_UP);
	assert_true(cluster_stats(nb.c)->errors >= 1);
	assert_true(logged("AUTH"));
	verdict(&e, CLUSTER_DENY, "192.0.2.77", 60);
	cluster_share(na.c, &e);
	spin_for(200);
	assert_int_equal(raw("s3cret", "EXISTS smtpgate:v:192.0.2.77"),
	    1);
	assert_true(cluster_stats(nb.c)->backlog == 0 ||
	    st_of(&nb) != CLUSTER_UP);
	/* A password file of another shape is refused at start. */
	node_conf(&cc, "gw-c");
	write_file("pass", "a b c\n", cc.password_file,
	    sizeof cc.password_file);
	{
		char err[256];

		assert_null(cluster_new(loop, &cc, "test", ALL_KINDS, node_cb,
		    &nc, err, sizeof err));
		assert_non_null(strstr(err, "user password"));
	}
}

/* Off: NULL with no error; stats say off. */
static void
test_off(void **state)
{
	struct conf_cluster cc;
	char err[64] = "x";

	(void)state;
	memset(&cc, 0, sizeof cc);
	assert_null(cluster_new(loop, &cc, "test", ALL_KINDS, node_cb, &na,
	    err, sizeof err));
	assert_string_equal(err, "");
	assert_int_equal(cluster_stats(NULL)->state, CLUSTER_OFF);
	cluster_share(NULL, NULL);
	cluster_strike(NULL, NULL, 1, 1, NULL);
	assert_string_equal(cluster_state_name(CLUSTER_UP), "up");
}

/* ---- Sentinel ---- */

static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static pid_t
spawn(const char *const *argv)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* A reply's text contains want (polled up to ms). */
static bool
raw_wait_text(int port, const char *cmd, const char *want, int ms)
{
	for (int waited = 0; waited < ms; waited += 100) {
		redisContext *rc;
		redisReply *r;
		bool ok = false;

		raw_port = port;
		rc = raw_connect();
		if (rc != NULL && rc->err == 0 &&
		    (r = redisCommand(rc, cmd)) != NULL) {
			if (r->type == REDIS_REPLY_STRING ||
			    r->type == REDIS_REPLY_STATUS)
				ok = strstr(r->str, want) != NULL;
			else if (r->type == REDIS_REPLY_ARRAY)
				ok = r->elements > 0 && *want == '\0';
			freeReplyObject(r);
		}
		if (rc != NULL)
			redisFree(rc);
		raw_port = 0;
		if (ok)
			return true;
		usleep(100000);
	}
	return false;
}

struct failover_wait {
	struct node *n;
	char server[64];
};

static bool
moved(void *arg)
{
	struct failover_wait *w = arg;
	const struct cluster_stats *st = cluster_stats(w->n->c);

	return st->failovers >= 1 && st->state == CLUSTER_UP &&
	    strcmp(st->server, w->server) == 0;
}

static bool
logged_watching(void *arg)
{
	(void)arg;
	return logged("cluster: sentinel: watching 127.0.0.1:");
}

/* The master's address from a Sentinel; a failover followed. */
static void
test_sentinel(void **state)
{
	char p1s[8], p2s[8], conf[160], logm[160], logr[160], text[512];
	char want[64];
	struct failover_wait w;
	struct conf_cluster cc;
	struct cluster_event e;
	int p1 = free_port(), p2 = free_port(), p3 = free_port();
	FILE *f;

	(void)state;
	if (p2 == p1)
		p2 = free_port();
	snprintf(p1s, sizeof p1s, "%d", p1);
	snprintf(p2s, sizeof p2s, "%d", p2);
	snprintf(logm, sizeof logm, "%s/m.log", dir);
	snprintf(logr, sizeof logr, "%s/r.log", dir);
	{
		const char *m[] = { REDIS_BIN, "--port", p1s, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
		    dir, "--logfile", logm, "--dbfilename", "m.rdb",
		    "--repl-diskless-sync-delay", "0", NULL };
		const char *r[] = { REDIS_BIN, "--port", p2s, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
		    dir, "--logfile", logr, "--dbfilename", "r.rdb",
		    "--replicaof", "127.0.0.1", p1s, NULL };

		extra_pid[0] = spawn(m);
		extra_pid[1] = spawn(r);
	}
	snprintf(conf, sizeof conf, "%s/s.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s/s.log\n"
	    "sentinel monitor mymaster 127.0.0.1 %d 1\n"
	    "sentinel down-after-milliseconds mymaster 1000\n"
	    "sentinel failover-timeout mymaster 5000\n", p3, dir, dir, p1);
	fclose(f);
	if (!raw_wait_text(p2, "INFO replication", "master_link_status:up",
	    5000))
		fail_msg("the replica on %d did not sync with %d", p2, p1);
	{
		const char *sv[] = { REDIS_BIN, conf, "--sentinel", NULL };

		extra_pid[2] = spawn(sv);
	}
	snprintf(text, sizeof text, "SENTINEL replicas mymaster");
	if (!raw_wait_text(p3, text, "", 12000))
		fail_msg("the Sentinel on %d never saw the replica", p3);

	node_conf(&cc, "gw-a");
	cc.redis[0] = '\0';
	snprintf(cc.sentinel_host[0], sizeof cc.sentinel_host[0],
	    "127.0.0.1:%d", p3);
	cc.nsentinels = 1;
	snprintf(cc.sentinel_master, sizeof cc.sentinel_master, "mymaster");
	node_start(&na, "gw-a", &cc);
	wait_up(&na, NULL);
	snprintf(want, sizeof want, "127.0.0.1:%d", p1);
	assert_string_equal(cluster_stats(na.c)->server, want);
	snprintf(text, sizeof text, "cluster: sentinel: master mymaster is "
	    "127.0.0.1:%d", p1);
	assert_true(logged(text));
	verdict(&e, CLUSTER_DENY, "192.0.2.31", 900);
	cluster_share(na.c, &e);
	spin_for(200);
	raw_port = p1;
	assert_int_equal(raw(NULL, "EXISTS smtpgate:v:192.0.2.31"), 1);
	raw_port = p3;
	raw(NULL, "SENTINEL FAILOVER mymaster");
	raw_port = 0;

	w.n = &na;
	snprintf(w.server, sizeof w.server, "127.0.0.1:%d", p2);
	if (!spin(moved, &w, 15000))
		fail_msg("no failover to %s followed in 15 s (failovers %llu, "
		    "%s %s)", w.server, (unsigned long long)
		    cluster_stats(na.c)->failovers,
		    cluster_state_name(st_of(&na)), cluster_stats(na.c)->server);
	snprintf(text, sizeof text, "cluster: sentinel: failover to "
	    "127.0.0.1:%d", p2);
	assert_true(logged(text));
	verdict(&e, CLUSTER_DENY, "192.0.2.32", 900);
	cluster_share(na.c, &e);
	spin_for(300);
	raw_port = p2;
	assert_int_equal(raw(NULL, "EXISTS smtpgate:v:192.0.2.32"), 1);
	raw_port = 0;

	/* The Sentinel gone: the master's links stay; back: watched again. */
	kill(extra_pid[2], SIGKILL);
	waitpid(extra_pid[2], NULL, 0);
	extra_pid[2] = 0;
	spin_for(600);
	assert_int_equal(st_of(&na), CLUSTER_UP);
	assert_true(logged("cluster: sentinel: lost 127.0.0.1:"));
	{
		const char *sv[] = { REDIS_BIN, conf, "--sentinel", NULL };

		extra_pid[2] = spawn(sv);
	}
	if (!spin(logged_watching, NULL, 8000))
		fail_msg("the Sentinel's watch was not made again in 8 s");
	assert_int_equal(st_of(&na), CLUSTER_UP);
	assert_int_equal(cluster_stats(na.c)->failovers, 1);
}

/* A server on [::1]: the IPv6 form of redis. */
static void
test_ipv6(void **state)
{
	struct conf_cluster cc;
	struct cluster_event e;
	char ps[8], logf[160];
	int port = free_port();

	(void)state;
	snprintf(ps, sizeof ps, "%d", port);
	snprintf(logf, sizeof logf, "%s/v6.log", dir);
	{
		const char *v[] = { REDIS_BIN, "--port", ps, "--bind", "::1",
		    "--save", "", "--appendonly", "no", "--dir", dir,
		    "--logfile", logf, NULL };

		extra_pid[0] = spawn(v);
	}
	usleep(300000);
	node_conf(&cc, "gw-a");
	snprintf(cc.redis, sizeof cc.redis, "[::1]:%d", port);
	node_start(&na, "gw-a", &cc);
	node_conf(&cc, "gw-b");
	snprintf(cc.redis, sizeof cc.redis, "[::1]:%d", port);
	node_start(&nb, "gw-b", &cc);
	wait_up(&na, &nb);
	verdict(&e, CLUSTER_DENY, "2001:db8::5", 600);
	cluster_share(na.c, &e);
	wait_ev(&nb, CLUSTER_DENY, "2001:db8::5", 0);
	snprintf(logf, sizeof logf, "[::1]:%d", port);
	assert_string_equal(cluster_stats(na.c)->server, logf);
}

static bool
have_redis(void)
{
	const char *path = getenv("PATH");
	char buf[512], *p, *save = NULL;

	snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
	for (p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":",
	    &save)) {
		char f[600];

		snprintf(f, sizeof f, "%s/%s", p, REDIS_BIN);
		if (access(f, X_OK) == 0)
			return true;
	}
	return false;
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strike, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_bounds, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resync_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sync_marks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_down_backlog, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backlog_batches, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_flight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sentinel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	};

	if (!have_redis()) {
		fprintf(stderr, "test_cluster: redis-server not found: install "
		    "the Debian package redis-server (tools/install-deps.sh)\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	atexit(redis_cleanup);
	return cmocka_run_group_tests_name("cluster", t, NULL, NULL);
}
