/*
 * test_log.c - the log's promises, each in a forked child whose stderr is
 * a pipe: log_panic writes its line before it aborts (a core and the
 * reason, never one without the other), log_warn names errno's cause,
 * log_fatalx exits 1 without a core.
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

int
main(void)
{
	static struct CMUnitTest t[8];
	static char names[8][96];
	size_t n = 0;

	CASES(log_cases, test_log);
	return _cmocka_run_group_tests("log", t, n, NULL, NULL);
}
