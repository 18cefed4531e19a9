/*
 * test_bgsave.c - snapshots written by a forked child: the child sees
 * memory as it was at the fork, its outcome comes back through the loop
 * (success, a reason, a signal), one child at a time, the loop keeps
 * running meanwhile, no other child of the process is reaped, and the
 * child holds none of the parent's descriptors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bgsave.h"
#include "cases.h"
#include "evloop.h"

struct snap {
	char text[32];		/* what the child writes */
	char path[64];
	int how;		/* 0 write, 1 fail, 2 killed, 3 exit 3 */
	int sleep_ms;
};

struct outcome {
	struct evloop *ev;
	int calls, rc;
	char err[512];
	int64_t ms;
};

static int
snap_write(void *arg, char *err, size_t errlen)
{
	struct snap *sn = arg;
	FILE *f;

	usleep((useconds_t)sn->sleep_ms * 1000);
	switch (sn->how) {
	case 1:
		snprintf(err, errlen, "write %s: No space left on device",
		    sn->path);
		return -1;
	case 2:
		raise(SIGKILL);
		break;
	case 3:
		_exit(3);
	}
	if ((f = fopen(sn->path, "w")) == NULL) {
		snprintf(err, errlen, "open %s", sn->path);
		return -1;
	}
	fputs(sn->text, f);
	fclose(f);
	return 0;
}

static void
on_done(void *arg, int rc, const char *err, int64_t ms)
{
	struct outcome *o = arg;

	o->calls++;
	o->rc = rc;
	o->ms = ms;
	snprintf(o->err, sizeof(o->err), "%s", err);
	evloop_break(o->ev);
}

struct tick {
	struct evloop *ev;
	int n;
};

static void
on_tick(void *arg)
{
	struct tick *t = arg;

	t->n++;
	evloop_timer_at(t->ev, evloop_now_ms(t->ev) + 10, on_tick, t);
}

struct end_case {
	const char *name;
	int how;
	int rc;			/* want */
	const char *err;	/* want a substring of it ("" for none) */
};

static const struct end_case end_cases[] = {
	{ "written", 0, 0, "" },
	{ "the child's reason comes back", 1, -1, "No space left on device" },
	{ "a killed child is reported", 2, -1, "killed by signal 9" },
	{ "an exit status is reported", 3, -1, "exited with status 3" },
};

static void
test_end(void **state)
{
	const struct end_case *k = *state;
	struct snap sn = { .text = "before", .how = k->how, .sleep_ms = 150 };
	struct outcome o = { 0 };
	struct tick tk = { 0 };
	struct bgsave *b;
	char err[256], got[32] = "";
	FILE *f;

	snprintf(sn.path, sizeof(sn.path), "/tmp/test_bgsave.%ld",
	    (long)getpid());
	unlink(sn.path);
	o.ev = tk.ev = evloop_new();
	b = bgsave_new(o.ev, on_done, &o);
	assert_non_null(b);
	if (bgsave_start(b, snap_write, &sn, err, sizeof(err)) != 0)
		fail_msg("%s: start: %s", k->name, err);
	/* The snapshot is what memory held at the fork. */
	snprintf(sn.text, sizeof(sn.text), "after");
	assert_true(bgsave_running(b));
	if (bgsave_start(b, snap_write, &sn, err, sizeof(err)) != -1)
		fail_msg("%s: got a second writer, want one at a time",
		    k->name);
	evloop_timer_at(o.ev, evloop_now_ms(o.ev) + 10, on_tick, &tk);
	evloop_run(o.ev);
	if (o.calls != 1 || o.rc != k->rc || strstr(o.err, k->err) == NULL)
		fail_msg("%s: got %d calls rc %d \"%s\", want 1 rc %d \"%s\"",
		    k->name, o.calls, o.rc, o.err, k->rc, k->err);
	assert_false(bgsave_running(b));
	/* The loop ran on while the child worked (it sleeps 150 ms). */
	if (tk.n < 3)
		fail_msg("%s: got %d ticks during the save, want the loop "
		    "running", k->name, tk.n);
	if (evloop_stall_max_us(o.ev) >= 150000)
		fail_msg("%s: the loop stalled %llu us, as long as the write",
		    k->name, (unsigned long long)evloop_stall_max_us(o.ev));
	if (k->how == 0) {
		assert_non_null(f = fopen(sn.path, "r"));
		assert_non_null(fgets(got, sizeof(got), f));
		fclose(f);
		if (strcmp(got, "before") != 0)
			fail_msg("%s: file got \"%s\", want the snapshot "
			    "\"before\"", k->name, got);
	}
	unlink(sn.path);
	bgsave_free(b);
	evloop_free(o.ev);
}

/* Another child of the process is not reaped by the saver, and
 * bgsave_wait blocks until the writer ends and reports it. */
static void
test_other_child(void **state)
{
	struct snap sn = { .text = "x", .how = 0, .sleep_ms = 50 };
	struct outcome o = { 0 };
	struct bgsave *b;
	char err[256];
	int status;
	pid_t other;

	(void)state;
	snprintf(sn.path, sizeof(sn.path), "/tmp/test_bgsave.w.%ld",
	    (long)getpid());
	if ((other = fork()) == 0) {
		usleep(300 * 1000);
		_exit(7);
	}
	assert_true(other > 0);
	o.ev = evloop_new();
	b = bgsave_new(o.ev, on_done, &o);
	assert_int_equal(bgsave_start(b, snap_write, &sn, err, sizeof(err)),
	    0);
	bgsave_wait(b);
	if (o.calls != 1 || o.rc != 0)
		fail_msg("wait: got %d calls rc %d \"%s\", want 1 rc 0",
		    o.calls, o.rc, o.err);
	if (waitpid(other, &status, 0) != other || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 7)
		fail_msg("the other child was reaped by the saver");
	unlink(sn.path);
	bgsave_free(b);
	evloop_free(o.ev);
}

/* The child holds none of the parent's descriptors: the write end of a
 * pipe the parent closes reaches EOF at once, not when the child ends. */
static void
test_child_fds(void **state)
{
	struct snap sn = { .text = "x", .how = 0, .sleep_ms = 1500 };
	struct outcome o = { 0 };
	struct pollfd pfd;
	struct bgsave *b;
	char err[256], ch;
	int p[2];

	(void)state;
	snprintf(sn.path, sizeof(sn.path), "/tmp/test_bgsave.f.%ld",
	    (long)getpid());
	assert_int_equal(pipe(p), 0);
	o.ev = evloop_new();
	b = bgsave_new(o.ev, on_done, &o);
	assert_int_equal(bgsave_start(b, snap_write, &sn, err, sizeof(err)),
	    0);
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) != 1 || read(p[0], &ch, 1) != 0)
		fail_msg("the pipe's write end lives on in the child");
	close(p[0]);
	bgsave_wait(b);
	assert_int_equal(o.rc, 0);
	unlink(sn.path);
	bgsave_free(b);
	evloop_free(o.ev);
}

int
main(void)
{
	struct CMUnitTest t[8];
	char names[8][96];
	size_t n = 0;

	CASES(end_cases, test_end);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_other_child);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_child_fds);
	return _cmocka_run_group_tests("bgsave", t, n, NULL, NULL);
}
