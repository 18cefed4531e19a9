/*
 * test_control.c - the control socket: a server in a real event loop, the
 * client in a thread, over a real unix socket.  Checks dispatch, errors,
 * unknown verbs, over-long and binary requests, and refusal to steal the
 * socket of a live daemon; then control_answer, the same parsing and
 * dispatch without a socket, over a table of request bytes.
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

#include "cases.h"
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

/* ---- control_answer: the bytes a client sent -> what it reads ---- */

struct answer_case {
	const char *name;
	const char *data;
	size_t len;		/* 0: strlen(data) */
	int rc;			/* want from control_answer */
	const char *reply;	/* want, when rc == 1 */
};

static const struct answer_case answer_cases[] = {
	{ "echo", "echo one two\n", 0, 1, "ok\narg1=one\narg2=two\n" },
	{ "CR LF", "echo a\r\n", 0, 1, "ok\narg1=a\n" },
	{ "bytes after the line are not read", "echo a\nfail\n", 0, 1,
	    "ok\narg1=a\n" },
	{ "spaces collapse", "echo  a   b\n", 0, 1, "ok\narg1=a\narg2=b\n" },
	{ "an error replaces the data lines", "fail\n", 0, 1,
	    "error: nothing to forget for 192.0.2.1\n" },
	{ "unknown verb", "nosuch x\n", 0, 1,
	    "error: unknown command 'nosuch'\n" },
	{ "empty line", "\n", 0, 1, "error: bad request\n" },
	{ "blanks only", "   \r\n", 0, 1, "error: bad request\n" },
	{ "a NUL byte is a bad request", "echo a\0b\n", 9, 1,
	    "error: bad request\n" },
	{ "a control byte", "echo \x01\n", 0, 1, "error: bad request\n" },
	{ "DEL", "echo \x7f\n", 0, 1, "error: bad request\n" },
	{ "a high byte", "echo \xc3\xa9\n", 0, 1, "error: bad request\n" },
	{ "too many words", "echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	    0, 1, "error: bad request\n" },
	{ "no line end: no answer", "echo a", 0, 0, NULL },
	{ "nothing sent: no answer", "", 0, 0, NULL },
	{ "a lone CR is not a line end", "echo a\r", 0, 0, NULL },
};

static void
test_answer(void **state)
{
	const struct answer_case *k = *state;
	struct srv srv = { 0 };
	struct control *c = control_new(NULL);
	size_t len = k->len ? k->len : strlen(k->data), rlen = 0;
	char *reply = NULL;
	int rc;

	assert_non_null(c);
	assert_int_equal(control_register(c, "echo", h_echo, &srv), 0);
	assert_int_equal(control_register(c, "fail", h_fail, &srv), 0);
	rc = control_answer(c, k->data, len, &reply, &rlen);
	if (rc != k->rc)
		fail_msg("%s: got rc %d, want %d", k->name, rc, k->rc);
	if (k->reply != NULL && (reply == NULL ||
	    strcmp(reply, k->reply) != 0 || rlen != strlen(k->reply)))
		fail_msg("%s: got \"%s\", want \"%s\"", k->name,
		    reply ? reply : "(none)", k->reply);
	if (k->reply == NULL && reply != NULL)
		fail_msg("%s: got \"%s\", want no answer", k->name, reply);
	free(reply);
	control_close(c);
}

/* The length bound: CONTROL_LINE_MAX bytes without a LF are refused, a
 * line whose LF is the last byte that fits is served. */
static void
test_answer_length(void **state)
{
	char *buf = malloc(CONTROL_LINE_MAX + 2), *reply = NULL;
	struct srv srv = { 0 };
	struct control *c = control_new(NULL);
	size_t rlen;

	(void)state;
	assert_non_null(buf);
	control_register(c, "echo", h_echo, &srv);
	memcpy(buf, "echo ", 5);
	memset(buf + 5, 'a', CONTROL_LINE_MAX - 5);
	buf[CONTROL_LINE_MAX - 1] = '\n';
	assert_int_equal(control_answer(c, buf, CONTROL_LINE_MAX, &reply,
	    &rlen), 1);
	if (strncmp(reply, "ok\narg1=aaa", 11) != 0)
		fail_msg("a %d-byte line: got \"%.40s\", want it served",
		    CONTROL_LINE_MAX, reply);
	free(reply);
	buf[CONTROL_LINE_MAX - 1] = 'a';
	buf[CONTROL_LINE_MAX] = '\n';
	assert_int_equal(control_answer(c, buf, CONTROL_LINE_MAX + 1, &reply,
	    &rlen), 1);
	if (strcmp(reply, "error: request longer than 1024 bytes\n") != 0)
		fail_msg("a longer line: got \"%s\"", reply);
	free(reply);
	free(buf);
	control_close(c);
}

int
main(void)
{
	struct CMUnitTest t[4 + sizeof(answer_cases) / sizeof(answer_cases[0])];
	char names[4 + sizeof(answer_cases) / sizeof(answer_cases[0])][96];
	size_t n = 0;

	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_control_exchange);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_answer_length);
	CASES(answer_cases, test_answer);
	return _cmocka_run_group_tests("control", t, n, NULL, NULL);
}
