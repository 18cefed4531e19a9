/*
 * test_gate_reply.c - the responder (src/gate/gate_reply.c) on real
 * loopback sockets, driven turn by turn with a virtual clock: the line of
 * each port, the close after the client's, the time bound, the byte bound,
 * the cap's reset.  No root, no kernel rules: connections go straight to
 * the responder's ports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gate_int.h"
#include "reply.h"

struct rig {
	struct evloop *ev;
	struct gate g;
	struct gate_cfg cfg;
	struct gate_reply *r;
	int64_t now_ms;
};

static int64_t
rig_clock(void *arg)
{
	return ((struct rig *)arg)->now_ms;
}

/* 16 ports nothing listens on (from 41000 on, in steps of 16). */
static uint16_t
free_base(void)
{
	for (unsigned base = 41000; base < 60000; base += REPLY_PORTS) {
		unsigned i;

		for (i = 0; i < REPLY_PORTS; i++) {
			struct sockaddr_in sa = { .sin_family = AF_INET,
			    .sin_port = htons((uint16_t)(base + i)) };
			int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

			ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
			close(fd);
			if (!ok)
				break;
		}
		if (i == REPLY_PORTS)
			return (uint16_t)base;
	}
	return 0;
}

static int
setup(void **state)
{
	struct rig *t = calloc(1, sizeof(*t));
	char err[256];

	assert_non_null(t);
	t->ev = evloop_new();
	evloop_set_clock(t->ev, rig_clock, t);
	conf_defaults(&t->cfg.conf);
	t->cfg.conf.gate.reply_smtp = true;
	t->cfg.conf.gate.reply_port = free_base();
	assert_int_not_equal(t->cfg.conf.gate.reply_port, 0);
	t->cfg.conf.gate.reply_max_conns = 3;
	t->cfg.conf.gate.reply_timeout_s = 5;
	snprintf(t->cfg.conf.gate.reply_url, sizeof(t->cfg.conf.gate.reply_url),
	    "https://mx.example/why");
	t->g.ev = t->ev;
	t->g.cfg = &t->cfg;
	t->r = gate_reply_new(&t->g, err, sizeof(err));
	if (t->r == NULL)
		fail_msg("gate_reply_new: %s", err);
	t->g.reply = t->r;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct rig *t = *state;

	gate_reply_free(t->r);
	evloop_free(t->ev);
	free(t);
	return 0;
}

static void
turns(struct rig *t, int n)
{
	for (int i = 0; i < n; i++)
		(void)evloop_turn(t->ev, 10);
}

static int
dial(struct rig *t, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	turns(t, 3);
	return fd;
}

/* What the client reads until EOF, reset or nothing more for now. */
static const char *
slurp(int fd, char *buf, size_t len, int *err)
{
	size_t off = 0;
	ssize_t n;

	*err = 0;
	while (off + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			break;
		n = recv(fd, buf + off, len - 1 - off, 0);
		if (n < 0)
			*err = errno;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return buf;
}

static const struct gate_reply_stats *
stats(struct rig *t, uint32_t *open)
{
	return gate_reply_stats(t->r, open);
}

/* Each port says its own line; the responder closes after the client. */
static void
test_lines(void **state)
{
	static const struct {
		enum reply_kind k;
		enum reply_rule r;
		const char *want;
	} cases[] = {
		{ REPLY_REJECT, REPLY_RULE_NO_PTR, "554 5.7.1 Service unavailable; "
		    "client [127.0.0.1] has no PTR record; see "
		    "https://mx.example/why\r\n" },
		{ REPLY_REJECT, REPLY_RULE_OFFEND, "554 5.7.1 Service "
		    "unavailable; client [127.0.0.1] broke SMTP rules (forged "
		    "HELO or protocol abuse); see https://mx.example/why\r\n" },
		{ REPLY_TEMPFAIL, REPLY_RULE_NO_PTR, "421 4.7.0 Try again later; "
		    "client [127.0.0.1] has no PTR record; see "
		    "https://mx.example/why\r\n" },
	};
	struct rig *t = *state;
	char buf[1024];
	uint32_t open;
	int err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = dial(t, reply_port(t->cfg.conf.gate.reply_port,
		    cases[i].k, cases[i].r));

		slurp(fd, buf, sizeof(buf), &err);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf,
			    cases[i].want);
		(void)stats(t, &open);
		assert_int_equal(open, 1);	/* until the client closes */
		(void)send(fd, "QUIT\r\n", 6, MSG_NOSIGNAL);
		close(fd);
		turns(t, 3);
		(void)stats(t, &open);
		if (open != 0)
			fail_msg("case %zu: got %u open after the client's "
			    "close, want 0", i, open);
	}
	assert_int_equal(stats(t, &open)->sent, 3);
	assert_int_equal(stats(t, &open)->by_kind[REPLY_TEMPFAIL], 1);
}

/* A silent client is closed at reply_timeout, not before. */
static void
test_timeout(void **state)
{
	struct rig *t = *state;
	uint32_t open;
	int fd = dial(t, t->cfg.conf.gate.reply_port);

	t->now_ms += 4900;
	turns(t, 2);
	(void)stats(t, &open);
	assert_int_equal(open, 1);
	t->now_ms += 200;
	turns(t, 2);
	(void)stats(t, &open);
	assert_int_equal(open, 0);
	assert_int_equal(stats(t, &open)->timeouts, 1);
	close(fd);
}

/* A client that sends megabytes is cut after the byte bound. */
static void
test_cut(void **state)
{
	struct rig *t = *state;
	char chunk[8192];
	uint32_t open;
	int fd = dial(t, t->cfg.conf.gate.reply_port);

	memset(chunk, 'x', sizeof(chunk));
	(void)send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
	turns(t, 5);
	(void)stats(t, &open);
	assert_int_equal(open, 0);
	assert_int_equal(stats(t, &open)->cut, 1);
	close(fd);
}

/* Beyond reply_max_conns (3) a connection is reset without a line; the
 * cap never lets more be open. */
static void
test_cap(void **state)
{
	struct rig *t = *state;
	char buf[1024];
	uint32_t open;
	int fd[5], err;

	for (int i = 0; i < 5; i++)
		fd[i] = dial(t, t->cfg.conf.gate.reply_port);
	(void)stats(t, &open);
	assert_int_equal(open, 3);
	assert_int_equal(stats(t, &open)->conns_max, 3);
	assert_int_equal(stats(t, &open)->capped, 2);
	slurp(fd[4], buf, sizeof(buf), &err);
	if (buf[0] != '\0' || err != ECONNRESET)
		fail_msg("beyond the cap: got \"%s\" errno %d, want nothing and "
		    "ECONNRESET", buf, err);
	slurp(fd[0], buf, sizeof(buf), &err);
	assert_true(strncmp(buf, "554 ", 4) == 0);
	for (int i = 0; i < 5; i++)
		close(fd[i]);
	turns(t, 3);
	(void)stats(t, &open);
	assert_int_equal(open, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
