/*
 * log.h - the one log of a daemon: syslog (facility mail) or, with -f,
 * stderr with a timestamp.  Call log_init once before anything logs.
 *
 * log_warn appends ": strerror(errno)", log_warnx does not (OpenBSD style):
 * call log_warn right after the call that failed, before anything else
 * can change errno (or save it and use log_warnx with strerror).
 * log_fatal and log_fatalx end a start-up that cannot go on (exit 1).
 * log_panic is for broken invariants, what the code itself made
 * impossible: it logs "panic: ..." at LOG_CRIT, then abort()s for a core.
 * Every message names the call, the object and the cause
 * ("nftset: add pass4 192.0.2.1: No space left on device").
 */
#ifndef SMTPGATE_LOG_H
#define SMTPGATE_LOG_H

#include <stdarg.h>

void log_init(const char *ident, int to_stderr);
void log_set_verbose(int level);
int log_get_verbose(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void log_fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * For tests (tests/scenario/): every line goes to fn instead, as it would
 * be logged without time stamp and ident ("panic: ..." included, before
 * the abort); pri is the syslog priority.  NULL: the chosen destination.
 */
typedef void (*log_sink_fn)(void *arg, int pri, const char *line);
void log_set_sink(log_sink_fn fn, void *arg);

#endif
