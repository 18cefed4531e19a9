/*
 * fuzz_control.c - libFuzzer target for the control socket's request
 * parsing and dispatch (control.c), through control_answer: the bytes a
 * client sent before closing, to what it would read.
 *
 * The verb table mimics the daemons': stats (one long record), offenders
 * (many lines, a count from the argument), forget (an address argument,
 * addr_parse, usage errors), echo (every argument back), fail (data lines,
 * then an error), reload (nothing).  The invariants clients rely on are
 * checked: no answer only when no LF came within CONTROL_LINE_MAX bytes;
 * otherwise the reply is "ok\n" then data lines, or exactly one
 * "error: ...\n" line; it ends with LF, holds no NUL, no control byte but
 * LF, and its length is what was said.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "addr.h"
#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fz_stats(void *arg, int argc, char *argv[], struct control_reply *r)
{
	(void)arg;
	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: stats");
		return;
	}
	control_reply_line(r, "queued=%d verdicts=%d loop_stall_max_us=%d "
	    "state_saves=%d", 12, 12, 1500, 3);
}

static void
fz_offenders(void *arg, int argc, char *argv[], struct control_reply *r)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 3;

	(void)arg;
	if (n < 0 || n > 2000) {
		control_reply_error(r, "%s: want 0..2000", argv[1]);
		return;
	}
	for (long i = 0; i < n; i++)
		control_reply_line(r, "ip=198.51.100.%ld strikes=1 first=1 "
		    "last=1 rule=trickle bans=0 banned_until=0", i % 256);
}

static void
fz_forget(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct addr a;
	char ip[ADDR_STRLEN];

	(void)arg;
	if (argc != 2 || addr_parse(argv[1], &a) != 0) {
		control_reply_error(r, "usage: forget IP");
		return;
	}
	control_reply_line(r, "forgot=%s", addr_ntop(&a, ip));
}

static void
fz_echo(void *arg, int argc, char *argv[], struct control_reply *r)
{
	(void)arg;
	for (int i = 1; i < argc; i++)
		control_reply_line(r, "arg%d=%s", i, argv[i]);
}

static void
fz_fail(void *arg, int argc, char *argv[], struct control_reply *r)
{
	(void)arg;
	control_reply_line(r, "never=seen");
	control_reply_error(r, "%s: refused", argc > 1 ? argv[1] : "-");
}

static void
fz_reload(void *arg, int argc, char *argv[], struct control_reply *r)
{
	(void)arg;
	(void)argc;
	(void)argv;
	(void)r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct control *c;
	const char *nl;
	char *reply = NULL;
	size_t rlen = 0;
	int rc;

	if (c == NULL) {
		if ((c = control_new(NULL)) == NULL ||
		    control_register(c, "stats", fz_stats, NULL) ||
		    control_register(c, "offenders", fz_offenders, NULL) ||
		    control_register(c, "forget", fz_forget, NULL) ||
		    control_register(c, "echo", fz_echo, NULL) ||
		    control_register(c, "fail", fz_fail, NULL) ||
		    control_register(c, "reload", fz_reload, NULL))
			FUZZ_FAIL();
	}
	rc = control_answer(c, (const char *)data, size, &reply, &rlen);
	nl = memchr(data, '\n', size < CONTROL_LINE_MAX ? size :
	    CONTROL_LINE_MAX);
	if (rc == -1)
		return 0;
	/* No answer exactly when no LF came and the line was not too long. */
	if ((rc == 0) != (nl == NULL && size < CONTROL_LINE_MAX))
		FUZZ_FAIL();
	if (rc == 0) {
		if (reply != NULL)
			FUZZ_FAIL();
		return 0;
	}
	if (reply == NULL || rlen == 0 || strlen(reply) != rlen ||
	    reply[rlen - 1] != '\n')
		FUZZ_FAIL();
	for (size_t i = 0; i < rlen; i++)
		if (reply[i] != '\n' && ((unsigned char)reply[i] < 0x20 ||
		    (unsigned char)reply[i] > 0x7e))
			FUZZ_FAIL();
	if (strncmp(reply, "error: ", 7) == 0) {
		if (strchr(reply, '\n') != reply + rlen - 1)
			FUZZ_FAIL();	/* an error is one line */
	} else if (strncmp(reply, "ok\n", 3) != 0) {
		FUZZ_FAIL();
	}
	free(reply);
	return 0;
}
