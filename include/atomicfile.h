/*
 * atomicfile.h - a file replaced atomically: written under a fresh
 * temporary name beside it, then renamed over it.  The one writer of the
 * allow list (allowlist_save) and of smtpgate-sniffd's state file
 * (strikes_save, also from the child of bgsave.h).
 *
 *   struct atomicfile af;
 *   if (atomicfile_open(&af, path, ".tmp.", 0644, err, len) == -1) ...
 *   fprintf(af.f, ...);			(or fwrite, fputs)
 *   if (atomicfile_commit(&af, err, len) == -1) ...	(or atomicfile_abort)
 *
 * open: the temporary is PATH + tmp_suffix + six random characters, made
 * by mkostemp (O_EXCL, O_CLOEXEC): a file or symbolic link planted under a
 * predictable name is never opened, so nothing is written through it.  Its
 * mode is set to mode at once (fchmod: the umask does not apply).
 * commit: flush, fsync, close, rename over PATH, fsync the directory so
 * that the new name survives a crash.  Until the rename, PATH keeps its
 * old contents; on any failure the temporary is removed.  A failure of the
 * directory's fsync is reported although the new file is in place.
 * abort: close and remove the temporary; PATH is untouched.  After commit
 * (either outcome) or abort, af holds nothing; abort again is harmless.
 *
 * Errors: -1 with errno set and "CALL OBJECT: cause" in err, e.g.
 * "create /etc/smtpgate/allow.list.tmp.XXXXXX: No such file or directory",
 * "rename into place /var/lib/smtpgate/state.tmp.Ab12Cd: Is a directory",
 * "fsync directory /var/lib/smtpgate: Input/output error"; callers put
 * their own label in front ("allow list: ...").
 *
 * The reading side, atomicfile_read: path whole into *text (malloc'd,
 * NUL-terminated; the length in *len), never more than max bytes.  It
 * never blocks: O_NONBLOCK, so a FIFO or device planted at the path is
 * opened without waiting and refused as not a regular file; a symbolic
 * link is followed only when follow.  Errors as above ("open PATH: No
 * such file or directory", "PATH: not a regular file of at most MAX
 * bytes", "PATH grew while read"), errno ENOENT for a missing file.
 */
#ifndef SMTPGATE_ATOMICFILE_H
#define SMTPGATE_ATOMICFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct atomicfile {
	FILE *f;			/* write here; NULL when none open */
	char path[PATH_MAX];		/* the file replaced */
	char tmp[PATH_MAX];		/* the temporary; "" when none */
};

int atomicfile_open(struct atomicfile *af, const char *path,
    const char *tmp_suffix, mode_t mode, char *err, size_t errlen);
int atomicfile_commit(struct atomicfile *af, char *err, size_t errlen);
void atomicfile_abort(struct atomicfile *af);

/* The directory part of path into buf: "." when path has no '/', "/" for
 * a file in the root. */
void atomicfile_dir(const char *path, char *buf, size_t len);

/*
 * Remove the temporaries PATH + tmp_suffix + six characters that a save
 * which never finished (a crash) left in PATH's directory; the count
 * removed.  Only names of exactly that form go; nothing else is touched.
 * Call it when no save of PATH can be running (at start-up).
 */
size_t atomicfile_clean_tmp(const char *path, const char *tmp_suffix);

int atomicfile_read(const char *path, bool follow, size_t max, char **text,
    size_t *len, char *err, size_t errlen);

/* text[0..len) as path's new contents, mode mode: open (the temporary
 * PATH.tmp.XXXXXX), write, commit; errors as theirs, "write TMP: cause"
 * for the write. */
int atomicfile_write(const char *path, mode_t mode, const char *text,
    size_t len, char *err, size_t errlen);

#endif
