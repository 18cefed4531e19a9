/*
 * test_log.c - the log's promises, each in a forked child whose stderr is
 * a pipe: log_panic writes its line before it aborts (a core and the
 * reason, never one without the other), log_warn names errno's cause,
 * log_fatalx exits 1 without a core; and a sink (log_set_sink, what the
 * scenario tests read the log through) gets every line instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cases.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

enum log_act { ACT_PANIC, ACT_WARN, ACT_FATALX };

struct log_case {
	const char *name;
	enum log_act act;
	int signal;		/* the child's end: this signal, or 0 */
	int status;		/* else this exit status */
	const char *want;	/* in its stderr, after "test_log[PID]: " */
};

static const struct log_case log_cases[] = {
	{ "panic logs, then aborts", ACT_PANIC, SIGABRT, 0,
	    "panic: evloop: cancel of timer 0x1 not pending (heap 3)\n" },
	{ "warn names errno's cause", ACT_WARN, 0, 0,
	    "open /nonexistent: No such file or directory\n" },
	{ "fatalx exits 1", ACT_FATALX, 0, 1, "bad start\n" },
};

static void
child(enum log_act act)
{
	log_init("test_log", 1);
	switch (act) {
	case ACT_PANIC:
		log_panic("evloop: cancel of timer %p not pending (heap %d)",
		    (void *)1, 3);
	case ACT_WARN:
		errno = ENOENT;
		log_warn("open %s", "/nonexistent");
		_exit(0);
	case ACT_FATALX:
		log_fatalx("bad start");
	}
	_exit(99);
}

static void
test_log(void **state)
{
	const struct log_case *c = *state;
	char out[4096], want[256];
	size_t got = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* No core file from the test, and no sanitizer noise. */
		struct rlimit none = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &none);
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], 2);
		close(fds[0]);
		child(c->act);
	}
	close(fds[1]);
	while (got < sizeof(out) - 1 &&
	    (n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (c->signal != 0) {
		if (!WIFSIGNALED(status) || WTERMSIG(status) != c->signal)
			fail_msg("%s: got status 0x%x, want signal %d", c->name,
			    status, c->signal);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != c->status) {
		fail_msg("%s: got status 0x%x, want exit %d", c->name, status,
		    c->status);
	}
	snprintf(want, sizeof(want), "test_log[%d]: %s", (int)pid, c->want);
	if (strstr(out, want) == NULL)
		fail_msg("%s: got stderr \"%s\", want it to hold \"%s\"",
		    c->name, out, want);
}

struct sunk {
	int n;
	int pri;
	char line[256];
};

static void
sink(void *arg, int pri, const char *line)
{
	struct sunk *k = arg;

	k->n++;
	k->pri = pri;
	snprintf(k->line, sizeof(k->line), "%s", line);
}

/* A sink gets the line as logged, its priority, and no debug line unless
 * verbose; errno's cause is appended as on stderr. */
static void
test_sink(void **state)
{
	struct sunk k = { 0 };

	(void)state;
	log_set_sink(sink, &k);
	log_info("verdict=%s ip=%s", "accept", "192.0.2.7");
	if (k.n != 1 || k.pri != LOG_INFO ||
	    strcmp(k.line, "verdict=accept ip=192.0.2.7") != 0)
		fail_msg("info: got %d lines, pri %d, \"%s\"; want 1, %d, "
		    "\"verdict=accept ip=192.0.2.7\"", k.n, k.pri, k.line,
		    LOG_INFO);
	log_debug("not shown");
	if (k.n != 1)
		fail_msg("debug at verbose 0: got %d lines, want 1", k.n);
	errno = ENOENT;
	log_warn("open %s", "/x");
	if (k.n != 2 || k.pri != LOG_WARNING ||
	    strcmp(k.line, "open /x: No such file or directory") != 0)
		fail_msg("warn: got %d lines, pri %d, \"%s\"; want 2, %d, "
		    "\"open /x: No such file or directory\"", k.n, k.pri,
		    k.line, LOG_WARNING);
	log_set_sink(NULL, NULL);
}

int
main(void)
{
	static struct CMUnitTest t[8];
	static char names[8][96];
	size_t n = 0;

	CASES(log_cases, test_log);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_sink);
	return _cmocka_run_group_tests("log", t, n, NULL, NULL);
}
