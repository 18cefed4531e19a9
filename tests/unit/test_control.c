/*
 * test_control.c - the control socket: a server in a real event loop, the
 * client in a thread, over a real unix socket.  Checks dispatch, errors,
 * unknown verbs, over-long and binary requests, and refusal to steal the
 * socket of a live daemon.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "evloop.h"

struct srv {
	struct evloop *ev;
	atomic_int done;
	int calls;
};

static void
h_echo(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct srv *s = arg;

	s->calls++;
	for (int i = 1; i < argc; i++)
		control_reply_line(r, "arg%d=%s", i, argv[i]);
}

static void
h_fail(void *arg, int argc, char *argv[], struct control_reply *r)
{
	(void)arg;
	(void)argc;
	(void)argv;
	control_reply_line(r, "never=seen");
	control_reply_error(r, "nothing to forget for %s", "192.0.2.1");
}

struct creq {
	const char *path;
	const char *req;
	int rc;
	char buf[4096];
};

struct client {
	struct srv *s;
	struct creq *reqs;
	size_t n;
};

static void *
client_run(void *arg)
{
	struct client *c = arg;

	for (size_t i = 0; i < c->n; i++)
		c->reqs[i].rc = control_request(c->reqs[i].path,
		    c->reqs[i].req, c->reqs[i].buf, sizeof(c->reqs[i].buf),
		    2000);
	atomic_store(&c->s->done, 1);
	return NULL;
}

static void
poll_done(void *arg)
{
	struct srv *s = arg;

	if (atomic_load(&s->done))
		evloop_break(s->ev);
	else
		evloop_timer_at(s->ev, evloop_now_ms(s->ev) + 5, poll_done, s);
}

static void
test_control_exchange(void **state)
{
	struct srv s = { 0 };
	char path[64], err[256], *big;
	struct control *c;
	pthread_t t;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_control.%d/ctl.sock",
	    (int)getpid());
	s.ev = evloop_new();
	c = control_open(s.ev, path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(control_register(c, "echo", h_echo, &s), 0);
	assert_int_equal(control_register(c, "fail", h_fail, &s), 0);

	/* A second server on the same path must not steal it. */
	struct control *c2 = control_open(s.ev, path, err, sizeof(err));
	assert_null(c2);
	assert_non_null(strstr(err, "another daemon"));

	big = malloc(CONTROL_LINE_MAX + 10);
	memset(big, 'a', CONTROL_LINE_MAX + 9);
	big[CONTROL_LINE_MAX + 9] = '\0';
	struct creq reqs[] = {
		{ path, "echo one two", 0, "" },
		{ path, "fail", 0, "" },
		{ path, "nosuch", 0, "" },
		{ path, "echo \x01", 0, "" },
		{ path, big, 0, "" },
		{ "/tmp/no/such/socket", "echo", 0, "" },
	};
	struct client cl = { &s, reqs, sizeof(reqs) / sizeof(reqs[0]) };
	assert_int_equal(pthread_create(&t, NULL, client_run, &cl), 0);
	poll_done(&s);
	evloop_run(s.ev);
	pthread_join(t, NULL);

	assert_int_equal(reqs[0].rc, 0);
	assert_string_equal(reqs[0].buf, "arg1=one\narg2=two\n");
	assert_int_equal(reqs[1].rc, 1);
	assert_string_equal(reqs[1].buf, "nothing to forget for 192.0.2.1");
	assert_int_equal(reqs[2].rc, 1);
	assert_string_equal(reqs[2].buf, "unknown command 'nosuch'");
	assert_int_equal(reqs[3].rc, 1);
	assert_string_equal(reqs[3].buf, "bad request");
	assert_int_equal(reqs[4].rc, -1);	/* refused before sending */
	assert_int_equal(reqs[5].rc, -1);
	assert_int_equal(s.calls, 1);

	control_close(c);
	assert_int_equal(access(path, F_OK), -1);	/* socket removed */
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(big);
	evloop_free(s.ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_exchange),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
