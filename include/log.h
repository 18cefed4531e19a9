/*
 * log.h - the one log of a daemon: syslog (facility mail) or, with -f,
 * stderr with a timestamp.  Call log_init once before anything logs.
 *
 * log_warn appends ": strerror(errno)", log_warnx does not (OpenBSD style).
 * log_fatal and log_fatalx are for start-up and broken invariants only.
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

#endif
