/*
 * test_conf_cluster.c - [cluster] of smtpgate.conf (conf_cluster.c and
 * its rules in conf_check.c), beside test_conf.c: texts written to
 * temporary files, loaded, and the fields compared; bad texts with their
 * exact message.  "%s" in a text is a temporary directory holding
 * password files of several modes (made once for the group), "%p" in a
 * message the configuration's path.
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
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"

static struct conf conf_a, conf_b;
static char dir[64];

/* Replace each %s with dir and each %p with path. */
static void
expand(const char *in, const char *path, char *out, size_t len)
{
	size_t off = 0;

	for (const char *p = in; *p != '\0' && off + 1 < len; p++) {
		const char *ins = NULL;

		if (p[0] == '%' && p[1] == 's')
			ins = dir;
		else if (p[0] == '%' && p[1] == 'p')
			ins = path;
		if (ins == NULL) {
			out[off++] = *p;
			continue;
		}
		off += (size_t)snprintf(out + off, len - off, "%s", ins);
		if (off >= len)
			off = len - 1;
		p++;
	}
	out[off] = '\0';
}

static char *
write_temp(const char *text)
{
	static char path[96];
	char body[2048];
	int fd;

	expand(text, "", body, sizeof body);
	snprintf(path, sizeof path, "%s/conf.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	return path;
}

static void
touch(const char *name, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("secret\n", f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int
group_setup(void **state)
{
	char sub[128];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_conf_cluster.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	touch("pw-ok", 0640);
	touch("pw-owner", 0600);
	touch("pw-world", 0644);
	touch("pw-worldrw", 0606);
	snprintf(sub, sizeof sub, "%s/pw-dir", dir);
	return mkdir(sub, 0700);
}

static int
group_teardown(void **state)
{
	static const char *const names[] = { "pw-ok", "pw-owner", "pw-world",
	    "pw-worldrw" };
	char path[128];

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/pw-dir", dir);
	rmdir(path);
	rmdir(dir);
	return 0;
}

/* The [cluster] fields as "name=value" lines. */
static void
dump(const struct conf_cluster *cc, char *buf, size_t len)
{
	size_t off;

	off = (size_t)snprintf(buf, len, "redis=%s\nsentinel=", cc->redis);
	for (size_t i = 0; i < cc->nsentinels && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s ",
		    cc->sentinel_host[i]);
	if (off < len)
		snprintf(buf + off, len - off, "master=%s\npassword_file=%s\n"
		    "prefix=%s\nnode=%s\nshare_pass=%d\nshare_allow=%d\n"
		    "timeout_ms=%u\nbacklog=%u\n", cc->sentinel_master,
		    cc->password_file, cc->prefix, cc->node, cc->share_pass,
		    cc->share_allow, cc->timeout_ms, cc->backlog);
}

/* ---- good texts ---- */

struct good_case {
	const char *name;
	const char *text;
	const char *want[4];	/* lines of the dump (%s: dir) */
};

static const struct good_case good_cases[] = {
	{ "defaults", "[cluster]\n", { "redis=\nsentinel=master=\n"
	    "password_file=\nprefix=smtpgate:\n", "share_pass=0\n"
	    "share_allow=0\ntimeout_ms=1000\nbacklog=65536\n" } },
	{ "redis v4", "[cluster]\nredis = 127.0.0.1:6379\n",
	    { "redis=127.0.0.1:6379\n" } },
	{ "redis v4 no port", "[cluster]\nredis = 10.0.0.5\n",
	    { "redis=10.0.0.5:6379\n" } },
	{ "redis v6", "[cluster]\nredis = [2001:DB8::1]:6380\n",
	    { "redis=[2001:db8::1]:6380\n" } },
	{ "redis v6 no port", "[cluster]\nredis = [::1]\n",
	    { "redis=[::1]:6379\n" } },
	{ "redis socket", "[cluster]\nredis = /run/redis/redis.sock\n",
	    { "redis=/run/redis/redis.sock\n" } },
	{ "redis empty", "[cluster]\nredis =\n", { "redis=\n" } },
	{ "sentinel", "[cluster]\nsentinel = 10.0.0.1:26379 10.0.0.2 "
	    "[2001:db8::3]:26380 master mymaster\n",
	    { "sentinel=10.0.0.1:26379 10.0.0.2:26379 [2001:db8::3]:26380 "
	    "master=mymaster\n" } },
	{ "sentinel continued", "[cluster]\nsentinel = 10.0.0.1:26379,\n"
	    "\t10.0.0.2:26379\n\tmaster mx.pair-1\n",
	    { "sentinel=10.0.0.1:26379 10.0.0.2:26379 master=mx.pair-1\n" } },
	{ "password 0640", "[cluster]\nredis = 127.0.0.1:6379\n"
	    "password_file = %s/pw-ok\n", { "password_file=%s/pw-ok\n" } },
	{ "password 0600", "[cluster]\nredis = 127.0.0.1:6379\n"
	    "password_file = %s/pw-owner\n", { "password_file=%s/pw-owner\n" } },
	{ "prefix", "[cluster]\nprefix = site-A.mx:v2:\n",
	    { "prefix=site-A.mx:v2:\n" } },
	{ "prefix 48", "[cluster]\nprefix = "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV\n",
	    { "prefix=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV\n" } },
	{ "node", "[cluster]\nnode = mx-1.example_a\n",
	    { "node=mx-1.example_a\n" } },
	{ "shares", "[cluster]\nshare_pass = yes\nshare_allow = on\n",
	    { "share_pass=1\nshare_allow=1\n" } },
	{ "bounds low", "[cluster]\ntimeout_ms = 100\nbacklog = 0\n",
	    { "timeout_ms=100\nbacklog=0\n" } },
	{ "bounds high", "[cluster]\ntimeout_ms = 60000\nbacklog = 1048576\n",
	    { "timeout_ms=60000\nbacklog=1048576\n" } },
	{ "beside other sections", "[gate]\nqueue = 3\n[cluster]\n"
	    "redis = 127.0.0.1:6379\n[sniffer]\nqueue = 4\n",
	    { "redis=127.0.0.1:6379\n" } },
};

static void
test_good(void **state)
{
	const struct good_case *c = *state;
	char err[CONF_ERR_MAX] = "", got[2048], want[512];
	char *path = write_temp(c->text);
	int rc;

	rc = conf_load(path, &conf_a, err, sizeof err);
	unlink(path);
	if (rc != 0)
		fail_msg("conf_load(%s): got \"%s\", want success", c->name, err);
	dump(&conf_a.cluster, got, sizeof got);
	for (size_t i = 0; i < 4 && c->want[i] != NULL; i++) {
		expand(c->want[i], "", want, sizeof want);
		if (strstr(got, want) == NULL)
			fail_msg("conf_load(%s): want \"%s\" in:\n%s", c->name,
			    want, got);
	}
}

/* ---- bad texts ---- */

struct bad_case {
	const char *name;
	const char *text;
	const char *want;	/* exact; %p the file, %s the directory */
};

#define NUMERIC "want a numeric address (names are not resolved: the " \
	"daemons' loop may not wait for DNS)"

static const struct bad_case bad_cases[] = {
	{ "tls yes", "[cluster]\ntls = yes\n", "%p:2: [cluster] tls: Debian "
	    "12's hiredis 0.14 has no TLS; protect the link with a private "
	    "network, stunnel or spiped (smtpgate.conf(5) CLUSTER)" },
	{ "tls no", "[cluster]\ntls = no\n", "%p:2: [cluster] tls: Debian "
	    "12's hiredis 0.14 has no TLS; protect the link with a private "
	    "network, stunnel or spiped (smtpgate.conf(5) CLUSTER)" },
	{ "redis and sentinel", "[cluster]\nredis = 127.0.0.1:6379\n"
	    "sentinel = 10.0.0.1:26379 master m\n",
	    "%p:3: [cluster] sentinel: redis is set too (want redis or "
	    "sentinel, not both)" },
	{ "sentinel and redis", "[cluster]\n"
	    "sentinel = 10.0.0.1:26379 master m\nredis = 127.0.0.1:6379\n",
	    "%p:3: [cluster] redis: sentinel is set too (want redis or "
	    "sentinel, not both)" },
	{ "redis name", "[cluster]\nredis = redis.example:6379\n",
	    "%p:2: [cluster] redis: 'redis.example:6379': " NUMERIC },
	{ "redis localhost", "[cluster]\nredis = localhost\n",
	    "%p:2: [cluster] redis: 'localhost': " NUMERIC },
	{ "redis port 0", "[cluster]\nredis = 127.0.0.1:0\n",
	    "%p:2: [cluster] redis: '127.0.0.1:0': bad port (want 1..65535)" },
	{ "redis port junk", "[cluster]\nredis = 127.0.0.1:63x\n",
	    "%p:2: [cluster] redis: '127.0.0.1:63x': bad port (want "
	    "1..65535)" },
	{ "redis v6 bare", "[cluster]\nredis = 2001:db8::1:6379\n",
	    "%p:2: [cluster] redis: '2001:db8::1:6379': want ADDR:PORT, "
	    "[ADDR6]:PORT or a socket's absolute path" },
	{ "redis v4 brackets", "[cluster]\nredis = [127.0.0.1]:6379\n",
	    "%p:2: [cluster] redis: '[127.0.0.1]:6379': want ADDR:PORT, "
	    "[ADDR6]:PORT or a socket's absolute path" },
	{ "redis relative", "[cluster]\nredis = run/redis.sock\n",
	    "%p:2: [cluster] redis: 'run/redis.sock': " NUMERIC },
	{ "redis socket long", "[cluster]\nredis = /"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	    "%p:2: [cluster] redis: '/"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx': a socket's path has "
	    "at most 107 characters" },
	{ "sentinel no master", "[cluster]\nsentinel = 10.0.0.1:26379\n",
	    "%p:2: [cluster] sentinel: want HOST:PORT ... master NAME (the "
	    "master's name is missing)" },
	{ "sentinel no name", "[cluster]\nsentinel = 10.0.0.1 master\n",
	    "%p:2: [cluster] sentinel: want HOST:PORT ... master NAME (the "
	    "master's name is missing)" },
	{ "sentinel no host", "[cluster]\nsentinel = master m\n",
	    "%p:2: [cluster] sentinel: want at least one HOST:PORT before "
	    "'master'" },
	{ "sentinel after name", "[cluster]\nsentinel = 10.0.0.1 master m "
	    "10.0.0.2\n", "%p:2: [cluster] sentinel: '10.0.0.2' after the "
	    "master's name (want HOST:PORT ... master NAME)" },
	{ "sentinel bad name", "[cluster]\nsentinel = 10.0.0.1 master m/x\n",
	    "%p:2: [cluster] sentinel: master 'm/x': want [A-Za-z0-9._-], "
	    "1..63 characters" },
	{ "sentinel twice", "[cluster]\nsentinel = 10.0.0.1 10.0.0.1:26379 "
	    "master m\n", "%p:2: [cluster] sentinel: '10.0.0.1:26379' listed "
	    "twice" },
	{ "sentinel name host", "[cluster]\nsentinel = s1.example master m\n",
	    "%p:2: [cluster] sentinel: 's1.example': " NUMERIC },
	{ "sentinel nine", "[cluster]\nsentinel = 10.0.0.1 10.0.0.2 10.0.0.3 "
	    "10.0.0.4 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 master m\n",
	    "%p:2: [cluster] sentinel: '10.0.0.9': more than 8 sentinels" },
	{ "password world", "[cluster]\npassword_file = %s/pw-world\n",
	    "%p:2: [cluster] password_file: '%s/pw-world' is readable by "
	    "every user (mode 0644): chmod o-rwx it" },
	{ "password world rw", "[cluster]\npassword_file = %s/pw-worldrw\n",
	    "%p:2: [cluster] password_file: '%s/pw-worldrw' is readable by "
	    "every user (mode 0606): chmod o-rwx it" },
	{ "password missing", "[cluster]\npassword_file = %s/none\n",
	    "%p:2: [cluster] password_file: '%s/none': No such file or "
	    "directory" },
	{ "password dir", "[cluster]\npassword_file = %s/pw-dir\n",
	    "%p:2: [cluster] password_file: '%s/pw-dir': not a regular file" },
	{ "password relative", "[cluster]\npassword_file = redis.pass\n",
	    "%p:2: [cluster] password_file: 'redis.pass': want an absolute "
	    "path" },
	{ "prefix space", "[cluster]\nprefix = a b\n",
	    "%p:2: [cluster] prefix: 'a b': want [A-Za-z0-9:._-], 1..48 "
	    "characters" },
	{ "prefix 49", "[cluster]\nprefix = "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW\n",
	    "%p:2: [cluster] prefix: "
	    "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW': want "
	    "[A-Za-z0-9:._-], 1..48 characters" },
	{ "prefix empty", "[cluster]\nprefix =\n",
	    "%p:2: [cluster] prefix: '': want [A-Za-z0-9:._-], 1..48 "
	    "characters" },
	{ "prefix glob", "[cluster]\nprefix = smtp*\n",
	    "%p:2: [cluster] prefix: 'smtp*': want [A-Za-z0-9:._-], 1..48 "
	    "characters" },
	{ "node colon", "[cluster]\nnode = mx:1\n",
	    "%p:2: [cluster] node: 'mx:1': want [A-Za-z0-9._-], 1..63 "
	    "characters" },
	{ "node 64", "[cluster]\nnode = "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab\n",
	    "%p:2: [cluster] node: "
	    "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab': "
	    "want [A-Za-z0-9._-], 1..63 characters" },
	{ "timeout low", "[cluster]\ntimeout_ms = 99\n",
	    "%p:2: [cluster] timeout_ms: '99' out of range 100..60000" },
	{ "timeout high", "[cluster]\ntimeout_ms = 60001\n",
	    "%p:2: [cluster] timeout_ms: '60001' out of range 100..60000" },
	{ "backlog high", "[cluster]\nbacklog = 1048577\n",
	    "%p:2: [cluster] backlog: '1048577' out of range 0..1048576" },
	{ "share word", "[cluster]\nshare_pass = sometimes\n",
	    "%p:2: [cluster] share_pass: 'sometimes' is not yes or no" },
	{ "unknown key", "[cluster]\nserver = 127.0.0.1\n",
	    "%p:2: [cluster] server: unknown key" },
	{ "indented redis", "[cluster]\nredis = 127.0.0.1\n\t::1\n",
	    "%p:3: [cluster] redis: indented line continues a value that is "
	    "not a list (do not indent keys)" },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	char err[CONF_ERR_MAX] = "", want[CONF_ERR_MAX];
	char *path = write_temp(c->text);
	int rc;

	memset(&conf_a, 0x5a, sizeof conf_a);
	memcpy(&conf_b, &conf_a, sizeof conf_a);
	rc = conf_load(path, &conf_a, err, sizeof err);
	unlink(path);
	expand(c->want, path, want, sizeof want);
	if (rc != -1)
		fail_msg("conf_load(%s): got success, want \"%s\"", c->name,
		    want);
	if (strcmp(err, want) != 0)
		fail_msg("conf_load(%s):\n got \"%s\"\nwant \"%s\"", c->name, err,
		    want);
	if (memcmp(&conf_a, &conf_b, sizeof conf_a) != 0)
		fail_msg("conf_load(%s) failed but changed *out", c->name);
}

/* node defaults to the host name when it is a node name. */
static void
test_node_default(void **state)
{
	char err[CONF_ERR_MAX] = "", host[256] = "";
	char *path = write_temp("[cluster]\nredis = 127.0.0.1\n");
	size_t len;

	(void)state;
	assert_int_equal(conf_load(path, &conf_a, err, sizeof err), 0);
	unlink(path);
	assert_int_equal(gethostname(host, sizeof host), 0);
	len = strlen(host);
	if (len > 0 && len < 64 && strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len)
		assert_string_equal(conf_a.cluster.node, host);
	else
		assert_string_equal(conf_a.cluster.node, "");
}

static void
warn_count(const char *fmt, ...)
{
	(void)fmt;
}

/* Every [cluster] key waits for a restart: a reload keeps the old one. */
static void
test_reload_keeps(void **state)
{
	char err[CONF_ERR_MAX] = "", *path;
	struct conf *next = &conf_b;
	size_t kept;

	(void)state;
	path = write_temp("[cluster]\nredis = 127.0.0.1:6379\nprefix = a:\n"
	    "node = mx1\nshare_pass = yes\ntimeout_ms = 200\nbacklog = 5\n");
	assert_int_equal(conf_load(path, &conf_a, err, sizeof err), 0);
	unlink(path);
	path = write_temp("[cluster]\nsentinel = 10.0.0.1 master m\n"
	    "prefix = b:\nnode = mx2\nshare_allow = yes\ntimeout_ms = 300\n"
	    "backlog = 6\npassword_file = %s/pw-ok\n");
	assert_int_equal(conf_load(path, next, err, sizeof err), 0);
	unlink(path);
	kept = conf_reload_keep(&conf_a, next, CONF_GATED, warn_count);
	assert_int_equal(kept, 9);
	assert_memory_equal(&conf_a.cluster, &next->cluster,
	    sizeof conf_a.cluster);
	/* The sniffer keeps them too. */
	path = write_temp("[cluster]\nsentinel = 10.0.0.1 10.0.0.2 master m\n");
	assert_int_equal(conf_load(path, next, err, sizeof err), 0);
	unlink(path);
	assert_int_equal(conf_reload_keep(&conf_a, next, CONF_SNIFFD, NULL) >=
	    2, 1);
	assert_memory_equal(&conf_a.cluster, &next->cluster,
	    sizeof conf_a.cluster);
}

int
main(void)
{
	static struct CMUnitTest t[128];
	static char names[128][96];
	size_t n = 0;

	CASES(good_cases, test_good);
	CASES(bad_cases, test_bad);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_node_default);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_reload_keeps);
	return _cmocka_run_group_tests("conf_cluster", t, n, group_setup,
	    group_teardown);
}
