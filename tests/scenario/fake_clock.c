/*
 * fake_clock.c - the scenario tests' virtual clock and their list of
 * trouble (fake.h).
 *
 * The event loop reads fake_clock_fn (evloop_set_clock); time(3) is
 * defined here, so that the daemons' wall clock (strikes and bans, the
 * allow list's expiry, the state file's times) moves with it:
 * FAKE_WALL_START_S plus the virtual seconds gone by.  A definition in
 * the program takes precedence over the C library's for every object
 * linked into it, libsmtpgate.a's included.  Only the scenario programs
 * link this file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fake.h"

static struct {
	int64_t now_ms;
	char trouble[4096];
	size_t ntrouble;
} fake_clock = { FAKE_CLOCK_START_MS, "", 0 };

int64_t
fake_now_ms(void)
{
	return fake_clock.now_ms;
}

void
fake_clock_set(int64_t ms)
{
	if (ms > fake_clock.now_ms)
		fake_clock.now_ms = ms;
}

int64_t
fake_clock_fn(void *arg)
{
	(void)arg;
	return fake_clock.now_ms;
}

time_t
time(time_t *t)
{
	time_t now = (time_t)(FAKE_WALL_START_S +
	    (fake_clock.now_ms - FAKE_CLOCK_START_MS) / 1000);

	if (t != NULL)
		*t = now;
	return now;
}

void
fake_trouble(const char *fmt, ...)
{
	size_t off = strlen(fake_clock.trouble);
	size_t room = sizeof(fake_clock.trouble) - off;
	va_list ap;

	if (off > 0 && room > 2) {
		memcpy(fake_clock.trouble + off, "; ", 3);
		off += 2;
		room -= 2;
	}
	va_start(ap, fmt);
	vsnprintf(fake_clock.trouble + off, room, fmt, ap);
	va_end(ap);
	fake_clock.ntrouble++;
}

bool
fake_trouble_take(char *buf, size_t len)
{
	if (fake_clock.ntrouble == 0)
		return false;
	snprintf(buf, len, "%s", fake_clock.trouble);
	fake_clock.trouble[0] = '\0';
	fake_clock.ntrouble = 0;
	return true;
}
