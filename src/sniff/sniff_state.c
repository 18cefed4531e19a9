/*
 * sniff_state.c - the state file: strikes and bans that survive a
 * restart (contract in sniff_int.h; the format is strikes.c's).
 *
 * sniff_state_open, at start and before privileges are shed, makes the
 * file's directory (for the user the daemon will run as), loads the file
 * and puts its running bans back into the sets (they survive a restart,
 * but not a ruleset reinstall), and sets up the writer.  Saves never run
 * on the loop: bgsave.h forks a child that writes the table as it was at
 * the fork, and reports on the loop when it has been reaped.  One save
 * runs at a time; a change during a save is saved by the next.  A failed
 * save is retried every second and logged once per failing streak.
 * sniff_state_close, at shutdown (the loop is over), waits for a running
 * save and writes what is left itself; when the state was never loaded
 * (s->saver NULL) it writes nothing, so a file is never saved over
 * unread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "log.h"
#include "privdrop.h"
#include "sniff_int.h"

/*
 * The state file's directory.  A missing one is created (mode 0750) and,
 * when the daemon will change user (started as root), given to that user,
 * who writes the state file from then on.  An existing one is left as it
 * is, but that user must be able to write it, or every save would fail:
 * the daemon refuses to start instead.
 */
static int
sniff_state_dir(const char *path, char *err, size_t errlen)
{
	struct privdrop_user u;
	struct stat st;
	char dir[PATH_MAX];
	int fd;

	if (privdrop_lookup(&u, err, errlen) == -1)
		return -1;
	/* The directory strikes_save writes into and fsyncs. */
	atomicfile_dir(path, dir, sizeof(dir));
	if (mkdir(dir, 0750) == 0) {
		if (!u.change)
			return 0;
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1 || fchown(fd, u.uid, u.gid) == -1) {
			snprintf(err, errlen, "state: chown %s to user %s: "
			    "%s: %s", dir, u.name, fd == -1 ? "open" :
			    "fchown", strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
		log_info("state: created %s for user %s", dir, u.name);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "state: mkdir %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!u.change)
		return 0;
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    !privdrop_may(&u, &st, W_OK | X_OK)) {
		snprintf(err, errlen, "state: directory %s is not writable by "
		    "user %s, which the daemon runs as (chown %s %s, or set "
		    "[sniffer] state_file elsewhere)", dir, u.name, u.name,
		    dir);
		return -1;
	}
	return 0;
}

static int
sniff_state_load(struct sniff *s, char *err, size_t errlen)
{
	size_t bad = 0;
	size_t stale = strikes_clean_tmp(s->conf.sniffer.state_file);

	if (stale > 0)
		log_warnx("state: removed %zu unfinished temporary file%s of "
		    "%s", stale, stale == 1 ? "" : "s",
		    s->conf.sniffer.state_file);
	if (strikes_load(s->strikes, s->conf.sniffer.state_file, &bad, err,
	    errlen) == -1)
		return -1;
	if (bad > 0)
		log_warnx("state: %zu bad lines skipped, first: %s", bad, err);
	/* The sets survive a restart, but not a ruleset reinstall. */
	strikes_each(s->strikes, sniff_strike_reban, s);
	log_info("state: %zu records from %s", strikes_count(s->strikes),
	    s->conf.sniffer.state_file);
	return 0;
}

void
sniff_state_soon(struct sniff *s)
{
	s->save_soon = true;
}

/* The table into the state file: in the child, from its snapshot taken
 * at the fork; at shutdown, on the way out. */
static int
sniff_state_write(void *arg, char *err, size_t errlen)
{
	struct sniff *s = arg;

	return strikes_save(s->strikes, s->conf.sniffer.state_file, err,
	    errlen);
}

/* The next routine save, state_save_interval from now. */
static void
sniff_state_later(struct sniff *s)
{
	s->next_save_ms = evloop_now_ms(s->ev) +
	    (int64_t)s->conf.sniffer.state_save_interval_s * 1000;
}

/* A failure is retried every second: say it once per failing streak. */
static void
sniff_state_outcome(struct sniff *s, int rc, const char *err)
{
	if (rc == -1) {
		s->st.state_errors++;
		if (!s->state_failing)
			log_warnx("state: %s (retrying)", err);
		s->state_failing = true;
		s->next_save_ms = evloop_now_ms(s->ev) + 1000;
		return;
	}
	s->st.state_saves++;
	if (s->state_failing)
		log_info("state: saved %s again", s->conf.sniffer.state_file);
	s->state_failing = false;
	sniff_state_later(s);
}

void
sniff_state_tick(struct sniff *s)
{
	char err[512];

	if (s->closing || bgsave_running(s->saver) ||
	    !strikes_dirty(s->strikes))
		return;
	/* Due at the cadence, or at once when bans changed (unless a
	 * failure waits out its second). */
	if (evloop_now_ms(s->ev) < s->next_save_ms &&
	    (!s->save_soon || s->state_failing))
		return;
	s->save_soon = false;
	s->save_changes = strikes_changes(s->strikes);
	if (bgsave_start(s->saver, sniff_state_write, s, err,
	    sizeof(err)) == -1)
		sniff_state_outcome(s, -1, err);
}

/* The child has been reaped: what it wrote is saved. */
static void
sniff_state_done(void *arg, int rc, const char *err, int64_t ms)
{
	struct sniff *s = arg;

	s->st.state_save_ms = (uint64_t)ms;
	if (rc == 0)
		strikes_mark_saved(s->strikes, s->save_changes);
	sniff_state_outcome(s, rc, err);
	/* Bans changed while it wrote: the next save follows at once. */
	if (rc == 0 && s->save_soon)
		sniff_state_tick(s);
}

int
sniff_state_open(struct sniff *s, char *err, size_t errlen)
{
	const char *path = s->conf.sniffer.state_file;

	if (sniff_state_dir(path, err, errlen) == -1 ||
	    sniff_state_load(s, err, errlen) == -1)
		return -1;
	sniff_state_later(s);
	if ((s->saver = bgsave_new(s->ev, sniff_state_done, s)) == NULL) {
		snprintf(err, errlen, "sniff: state saver of %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
sniff_state_close(struct sniff *s)
{
	char err[512];

	if (s->saver == NULL)
		return;
	s->closing = true;
	bgsave_wait(s->saver);
	/* The loop is over: nothing waits on this write any more. */
	if (strikes_dirty(s->strikes) &&
	    sniff_state_write(s, err, sizeof(err)) == -1)
		log_warnx("state: %s: the last changes are lost", err);
	bgsave_free(s->saver);
	s->saver = NULL;
}
