/*
 * log.c - the daemon's log: syslog (facility mail, like the MTA it guards)
 * or stderr with a timestamp when running in the foreground.
 *
 * Exports log_init (call first), log_info/warn/warnx/debug, log_fatal(x),
 * log_panic and, for tests, log_set_sink.  The only file-scope state is
 * the destination chosen at start-up.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
	int to_stderr;
	int verbose;
	const char *ident;
	log_sink_fn sink;		/* tests: lines go here instead */
	void *sink_arg;
} log_state = { 1, 0, "smtpgate", NULL, NULL };

void
log_init(const char *ident, int to_stderr)
{
	log_state.ident = ident;
	log_state.to_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_verbose(int level)
{
	log_state.verbose = level;
}

int
log_get_verbose(void)
{
	return log_state.verbose;
}

void
log_set_sink(log_sink_fn fn, void *arg)
{
	log_state.sink = fn;
	log_state.sink_arg = arg;
}

/* One line, lead then msg, to the chosen destination. */
static void
log_emit_text(int pri, const char *lead, const char *msg)
{
	if (log_state.sink != NULL) {
		char line[2048 + 16];

		snprintf(line, sizeof(line), "%s%s", lead, msg);
		log_state.sink(log_state.sink_arg, pri, line);
		return;
	}
	if (!log_state.to_stderr) {
		syslog(pri, "%s%s", lead, msg);
		return;
	}

	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line so lines from a dying process stay whole. */
	fprintf(stderr, "%s.%03ld %s[%d]: %s%s\n", when, ts.tv_nsec / 1000000,
	    log_state.ident, (int)getpid(), lead, msg);
}

static void
log_emit(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[4096];		/* the stats lines of SIGUSR1 fit */
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (suffix != NULL && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", suffix);
	log_emit_text(pri, "", msg);
}

#define LOG_BODY(pri, suffix) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_emit(pri, fmt, ap, suffix);		\
	va_end(ap);				\
} while (0)

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, NULL);
}

void
log_warn(const char *fmt, ...)
{
	const char *why = strerror(errno);

	LOG_BODY(LOG_WARNING, why);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, NULL);
}

void
log_debug(const char *fmt, ...)
{
	if (log_state.verbose < 1)
		return;
	LOG_BODY(LOG_DEBUG, NULL);
}

void
log_fatal(const char *fmt, ...)
{
	const char *why = strerror(errno);

	LOG_BODY(LOG_CRIT, why);
	exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, NULL);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Written before the abort: syslog(3) and stderr are unbuffered. */
	log_emit_text(LOG_CRIT, "panic: ", msg);
	abort();
}
