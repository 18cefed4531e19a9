/*
 * test_conf_reload.c - what a daemon's reload keeps (conf_reload,
 * conf_reload_keep) and the one value syntax of the file and the command
 * lines (conf_parse_duration, conf_parse_number).
 *
 * Reload cases give the running file, the new file and the daemon; they
 * name the warnings that must be logged (exactly, in order) and the
 * values the daemon then runs with.  The restart keys themselves are a
 * golden list, so a key that joins or leaves it is a visible change (and
 * smtpgate.conf(5) says which keys need a restart).
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
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"

static struct conf running, next;
static char warned[8][400];
static size_t nwarned;

static void test_warn(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
test_warn(const char *fmt, ...)
{
	va_list ap;

	if (nwarned >= 8)
		fail_msg("more than 8 warnings");
	va_start(ap, fmt);
	vsnprintf(warned[nwarned++], sizeof warned[0], fmt, ap);
	va_end(ap);
}

static char *
write_temp(const char *text)
{
	static char path[2][64];
	static int which;
	int fd;

	which = !which;
	snprintf(path[which], sizeof path[which], "/tmp/test_conf_reload.XXXXXX");
	fd = mkstemp(path[which]);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path[which];
}

static void
load(const char *text, struct conf *c)
{
	char err[CONF_ERR_MAX], *path = write_temp(text);

	if (conf_load(path, c, err, sizeof err) != 0)
		fail_msg("conf_load: %s", err);
	unlink(path);
}

/* ---- what a reload keeps ---- */

struct reload_case {
	const char *name;
	const char *running;
	const char *next;
	unsigned daemon;
	const char *warn[4];	/* exactly these, in order */
	const char *want[4];	/* "section.key=value" after the reload */
};

static const struct reload_case reload_cases[] = {
	{ "gate: a new table is not taken", "[nft]\ntable = old\n",
	    "[nft]\ntable = new\n[gate]\nno_ptr = log\n", CONF_GATED,
	    { "reload: [nft] table = new needs a restart; still old" },
	    { "nft.table=old", "gate.no_ptr=log" } },
	{ "sniffer: a new table is not taken", "[nft]\ntable = old\n",
	    "[nft]\ntable = new\n", CONF_SNIFFD,
	    { "reload: [nft] table = new needs a restart; still old" },
	    { "nft.table=old" } },
	{ "gate: queue, queue_maxlen and control socket kept",
	    "[gate]\nqueue = 3\n",
	    "[gate]\nqueue = 4\nqueue_maxlen = 100\ncontrol_socket = /tmp/x\n"
	    "deadline_ms = 900\n", CONF_GATED,
	    { "reload: [gate] queue = 4 needs a restart; still 3",
	    "reload: [gate] queue_maxlen = 100 needs a restart; still 32768",
	    "reload: [gate] control_socket = /tmp/x needs a restart; still "
	    "/run/smtpgate/smtpgated.sock" },
	    { "gate.queue=3", "gate.queue_maxlen=32768",
	    "gate.control_socket=/run/smtpgate/smtpgated.sock",
	    "gate.deadline_ms=900" } },
	{ "gate: the sniffer's keys are none of its business", "",
	    "[sniffer]\nqueue = 7\nspf_workers = 9\n", CONF_GATED, { NULL },
	    { "sniffer.queue=7", "sniffer.spf_workers=9" } },
	{ "sniffer: queue, SPF helpers, state file, socket kept", "",
	    "[sniffer]\nqueue = 7\nqueue_maxlen = 10\nspf_workers = 9\n"
	    "spf_user = nobody\n", CONF_SNIFFD,
	    { "reload: [sniffer] queue = 7 needs a restart; still 1",
	    "reload: [sniffer] queue_maxlen = 10 needs a restart; still 4096",
	    "reload: [sniffer] spf_workers = 9 needs a restart; still 4",
	    "reload: [sniffer] spf_user = nobody needs a restart; still "
	    "dynamic" },
	    { "sniffer.queue=1", "sniffer.queue_maxlen=4096",
	    "sniffer.spf_workers=4", "sniffer.spf_user=dynamic" } },
	{ "sniffer: state file and control socket kept", "",
	    "[sniffer]\nstate_file = /tmp/s\ncontrol_socket = /tmp/c\n"
	    "deadline_ms = 700\n", CONF_SNIFFD,
	    { "reload: [sniffer] state_file = /tmp/s needs a restart; still "
	    "/var/lib/smtpgate/sniffer.state",
	    "reload: [sniffer] control_socket = /tmp/c needs a restart; "
	    "still /run/smtpgate/sniffd.sock" },
	    { "sniffer.state_file=/var/lib/smtpgate/sniffer.state",
	    "sniffer.control_socket=/run/smtpgate/sniffd.sock",
	    "sniffer.deadline_ms=700" } },
	{ "sniffer: the gate's keys are none of its business", "",
	    "[gate]\nqueue = 5\ncontrol_socket = /tmp/g\n", CONF_SNIFFD,
	    { NULL }, { "gate.queue=5", "gate.control_socket=/tmp/g" } },
	{ "unchanged restart keys: no warning", "[nft]\ntable = t\n"
	    "[gate]\nqueue = 3\n", "[gate]\nqueue = 3\n[nft]\ntable = t\n"
	    "[dns]\ntries = 3\n", CONF_GATED | CONF_SNIFFD, { NULL },
	    { "nft.table=t", "gate.queue=3", "dns.tries=3" } },
	{ "live keys are taken", "", "[gate]\ntrusted_networks = "
	    "192.0.2.0/24\nptr_providers_mode = extend\nlookup_rate = 9\n"
	    "[nft]\nallow_file = /tmp/allow\n", CONF_GATED, { NULL },
	    { "gate.lookup_rate=9", "nft.allow_file=/tmp/allow" } },
};

/* One "section.key" of c as text, through the key table. */
static const char *
value_of(const struct conf *c, const char *want, char *buf, size_t len)
{
	char sec[32], key[64];
	const char *dot = strchr(want, '.'), *eq = strchr(want, '=');
	const struct conf_key *k;

	assert_non_null(dot);
	assert_non_null(eq);
	snprintf(sec, sizeof sec, "%.*s", (int)(dot - want), want);
	snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
	if ((k = conf_keys_find(sec, key, NULL)) == NULL)
		fail_msg("no key %s", want);
	if (strcmp(key, "no_ptr") == 0)
		snprintf(buf, len, "%s", action_name(c->gate.no_ptr));
	else
		conf_keys_value(k, c, buf, len);
	return buf;
}

static void
test_reload(void **state)
{
	const struct reload_case *rc = *state;
	char err[CONF_ERR_MAX], got[300];
	size_t want_n = 0, kept;
	char *path;

	load(rc->running, &running);
	nwarned = 0;
	path = write_temp(rc->next);
	if (conf_reload(path, &running, rc->daemon, &next, err, sizeof err,
	    test_warn) != 0)
		fail_msg("%s: conf_reload: %s", rc->name, err);
	unlink(path);
	while (want_n < 4 && rc->warn[want_n] != NULL)
		want_n++;
	if (nwarned != want_n)
		fail_msg("%s: got %zu warnings (first \"%s\"), want %zu",
		    rc->name, nwarned, nwarned ? warned[0] : "", want_n);
	for (size_t i = 0; i < want_n; i++)
		if (strcmp(warned[i], rc->warn[i]) != 0)
			fail_msg("%s: warning %zu:\n got \"%s\"\nwant \"%s\"",
			    rc->name, i, warned[i], rc->warn[i]);
	for (size_t i = 0; i < 4 && rc->want[i] != NULL; i++) {
		const char *eq = strchr(rc->want[i], '=');

		value_of(&next, rc->want[i], got, sizeof got);
		if (strcmp(got, eq + 1) != 0)
			fail_msg("%s: %.*s: got \"%s\", want \"%s\"", rc->name,
			    (int)(eq - rc->want[i]), rc->want[i], got, eq + 1);
	}
	/* Keeping again finds nothing left to keep. */
	kept = conf_reload_keep(&running, &next, rc->daemon, NULL);
	if (kept != 0)
		fail_msg("%s: a second keep kept %zu keys, want 0", rc->name,
		    kept);
}

/* A reload of a bad file fails as a load does, and changes nothing. */
static void
test_reload_bad(void **state)
{
	char err[CONF_ERR_MAX], want[CONF_ERR_MAX], *path;

	(void)state;
	load("", &running);
	memset(&next, 0x5a, sizeof next);
	nwarned = 0;
	path = write_temp("[nft]\ntable = new\n[gate]\nno_ptr = x\n");
	assert_int_equal(conf_reload(path, &running, CONF_GATED, &next, err,
	    sizeof err, test_warn), -1);
	unlink(path);
	snprintf(want, sizeof want, "%s:4: [gate] no_ptr: unknown action 'x' "
	    "(want reject, tempfail, drop, log or off)", path);
	assert_string_equal(err, want);
	assert_int_equal(nwarned, 0);
	assert_int_equal(((unsigned char *)&next)[0], 0x5a);
}

/*
 * The keys that need a restart, per daemon: a golden list.  Every one
 * must render as one word (the warning shows it).
 */
static void
test_restart_keys(void **state)
{
	static const char want[] =
	    "cluster.redis:gated,sniffd cluster.sentinel:gated,sniffd "
	    "cluster.password_file:gated,sniffd cluster.prefix:gated,sniffd "
	    "cluster.node:gated,sniffd cluster.share_pass:gated,sniffd "
	    "cluster.share_allow:gated,sniffd cluster.timeout_ms:gated,sniffd "
	    "cluster.backlog:gated,sniffd "
	    "gate.queue:gated gate.queue_maxlen:gated "
	    "gate.control_socket:gated gate.retry_key:gated "
	    "gate.retry_prefix4:gated gate.retry_prefix6:gated "
	    "gate.reply:gated gate.reply_port:gated "
	    "journal.file:gated,sniffd journal.retention:gated,sniffd "
	    "journal.max_size:gated,sniffd journal.queue:gated,sniffd "
	    "nft.table:gated,sniffd "
	    "sniffer.queue:sniffd sniffer.queue_maxlen:sniffd "
	    "sniffer.hold_queue:sniffd "
	    "sniffer.spf_workers:sniffd sniffer.spf_user:sniffd "
	    "sniffer.state_file:sniffd sniffer.control_socket:sniffd "
	    "sniffer.reply:gated ";
	char got[1024] = "", v[300];
	struct conf *c = &running;

	(void)state;
	conf_defaults(c);
	for (size_t i = 0; i < conf_keys_count(); i++) {
		const struct conf_key *k = conf_keys_at(i);
		size_t off = strlen(got);

		if (k->restart == 0)
			continue;
		snprintf(got + off, sizeof got - off, "%s.%s:%s%s%s ",
		    k->section, k->name,
		    k->restart & CONF_GATED ? "gated" : "",
		    k->restart == (CONF_GATED | CONF_SNIFFD) ? "," : "",
		    k->restart & CONF_SNIFFD ? "sniffd" : "");
		conf_keys_value(k, c, v, sizeof v);
		if (strcmp(v, "?") == 0 || v[0] == '\0')
			fail_msg("restart key %s.%s renders as \"%s\"",
			    k->section, k->name, v);
	}
	assert_string_equal(got, want);
}

/* ---- one duration syntax ---- */

struct parse_case {
	const char *name;
	const char *in;
	int duration;		/* 1: conf_parse_duration, 0: number */
	long long min, max;
	int rc;
	long long want;
	const char *why;	/* exact, when rc == -1 */
};

#define TEN_YEARS	(10LL * 366 * 86400)

static const struct parse_case parse_cases[] = {
	{ "seconds", "90", 1, 1, TEN_YEARS, 0, 90, NULL },
	{ "s", "90s", 1, 1, TEN_YEARS, 0, 90, NULL },
	{ "m", "30m", 1, 1, TEN_YEARS, 0, 1800, NULL },
	{ "h", "12h", 1, 1, TEN_YEARS, 0, 43200, NULL },
	{ "d", "7d", 1, 1, TEN_YEARS, 0, 604800, NULL },
	{ "w", "2w", 1, 1, TEN_YEARS, 0, 1209600, NULL },
	{ "at the maximum", "3660d", 1, 1, TEN_YEARS, 0, TEN_YEARS, NULL },
	{ "zero below 1s", "0", 1, 1, TEN_YEARS, -1, 0,
	    "'0' out of range 1s..3660d" },
	{ "zero allowed", "0", 1, 0, 86400, 0, 0, NULL },
	{ "a word", "soon", 1, 1, 86400, -1, 0, "'soon' is not a duration "
	    "(want seconds, or a number with s, m, h, d or w, 1s..1d)" },
	{ "unit alone", "w", 1, 1, 86400, -1, 0, "'w' is not a duration "
	    "(want seconds, or a number with s, m, h, d or w, 1s..1d)" },
	{ "negative", "-5d", 1, 1, 86400, -1, 0, "'-5d' is not a duration "
	    "(want seconds, or a number with s, m, h, d or w, 1s..1d)" },
	{ "years are no unit", "5y", 1, 1, 86400, -1, 0, "'5y' is not a "
	    "duration (want seconds, or a number with s, m, h, d or w, "
	    "1s..1d)" },
	{ "fraction", "1.5h", 1, 1, 86400, -1, 0, "'1.5h' is not a duration "
	    "(want seconds, or a number with s, m, h, d or w, 1s..1d)" },
	{ "over the maximum", "4000w", 1, 1, TEN_YEARS, -1, 0,
	    "'4000w' out of range 1s..3660d" },
	{ "huge", "99999999999999d", 1, 1, TEN_YEARS, -1, 0,
	    "'99999999999999d' out of range 1s..3660d" },
	{ "number", "5000", 0, 1, 600000, 0, 5000, NULL },
	{ "number with junk", "12abc", 0, 1, 600000, -1, 0,
	    "'12abc' is not a number (want 1..600000)" },
	{ "number zero", "0", 0, 1, 600000, -1, 0,
	    "'0' out of range 1..600000" },
	{ "number with a plus", "+5", 0, 1, 600000, -1, 0,
	    "'+5' is not a number (want 1..600000)" },
};

static void
test_parse(void **state)
{
	const struct parse_case *pc = *state;
	char why[CONF_WHY_MAX] = "";
	long long got = -12345;
	int rc;

	rc = pc->duration ?
	    conf_parse_duration(pc->in, pc->min, pc->max, &got, why,
	    sizeof why) :
	    conf_parse_number(pc->in, pc->min, pc->max, &got, why,
	    sizeof why);
	if (rc != pc->rc)
		fail_msg("parse(\"%s\"): got rc %d (%s), want %d", pc->in, rc,
		    why, pc->rc);
	if (rc == 0 && got != pc->want)
		fail_msg("parse(\"%s\"): got %lld, want %lld", pc->in, got,
		    pc->want);
	if (rc == -1 && strcmp(why, pc->why) != 0)
		fail_msg("parse(\"%s\"):\n got \"%s\"\nwant \"%s\"", pc->in,
		    why, pc->why);
}

int
main(void)
{
	static struct CMUnitTest t[128];
	static char names[128][96];
	size_t n = 0;

	CASES(reload_cases, test_reload);
	CASES(parse_cases, test_parse);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_reload_bad);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_restart_keys);
	return _cmocka_run_group_tests("conf_reload", t, n, NULL, NULL);
}
