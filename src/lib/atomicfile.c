/*
 * atomicfile.c - a file replaced atomically by a temporary renamed over
 * it (contract in atomicfile.h).
 *
 * Every failing step names its call and object: the temporary for the
 * steps on the new file, the directory for its fsync.  errno survives
 * the clean-up (close, unlink) that follows a failure.
 */
#define _GNU_SOURCE	/* mkostemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

#define ATOMICFILE_RANDOM	6	/* mkostemp's XXXXXX */

/* err = "CALL OBJECT: cause" from errno; errno kept. */
static void
atomicfile_err(char *err, size_t errlen, const char *call, const char *obj)
{
	int saved = errno;

	snprintf(err, errlen, "%s %s: %s", call, obj, strerror(saved));
	errno = saved;
}

int
atomicfile_open(struct atomicfile *af, const char *path,
    const char *tmp_suffix, mode_t mode, char *err, size_t errlen)
{
	int fd;

	af->f = NULL;
	af->tmp[0] = '\0';
	if ((size_t)snprintf(af->path, sizeof(af->path), "%s", path) >=
	    sizeof(af->path) || (size_t)snprintf(af->tmp, sizeof(af->tmp),
	    "%s%sXXXXXX", path, tmp_suffix) >= sizeof(af->tmp)) {
		af->tmp[0] = '\0';
		snprintf(err, errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(af->tmp, O_CLOEXEC)) == -1) {
		atomicfile_err(err, errlen, "create", af->tmp);
		af->tmp[0] = '\0';
		return -1;
	}
	if (fchmod(fd, mode) == -1) {
		atomicfile_err(err, errlen, "fchmod", af->tmp);
		goto fail;
	}
	if ((af->f = fdopen(fd, "w")) == NULL) {
		atomicfile_err(err, errlen, "fdopen", af->tmp);
		goto fail;
	}
	return 0;
fail:
	{
		int saved = errno;

		close(fd);
		unlink(af->tmp);
		af->tmp[0] = '\0';
		errno = saved;
	}
	return -1;
}

int
atomicfile_commit(struct atomicfile *af, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int dfd, saved, bad;

	if (af->f == NULL) {
		snprintf(err, errlen, "commit %s: no file open", af->path);
		errno = EINVAL;
		return -1;
	}
	/* A write that failed inside an earlier fprintf leaves the error
	 * flag; its errno is gone by now, so it is reported as EIO unless
	 * the flush fails again and says why. */
	bad = fflush(af->f);
	if (bad == 0 && ferror(af->f)) {
		errno = EIO;
		bad = -1;
	}
	if (bad != 0) {
		atomicfile_err(err, errlen, "write", af->tmp);
		goto fail;
	}
	if (fsync(fileno(af->f)) == -1) {
		atomicfile_err(err, errlen, "fsync", af->tmp);
		goto fail;
	}
	bad = fclose(af->f);
	af->f = NULL;
	if (bad != 0) {
		atomicfile_err(err, errlen, "close", af->tmp);
		goto fail;
	}
	if (rename(af->tmp, af->path) == -1) {
		atomicfile_err(err, errlen, "rename into place", af->tmp);
		goto fail;
	}
	af->tmp[0] = '\0';
	atomicfile_dir(af->path, dir, sizeof(dir));
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		atomicfile_err(err, errlen, "open directory", dir);
		return -1;
	}
	if (fsync(dfd) == -1) {
		atomicfile_err(err, errlen, "fsync directory", dir);
		saved = errno;
		close(dfd);
		errno = saved;
		return -1;
	}
	close(dfd);
	return 0;
fail:
	saved = errno;
	atomicfile_abort(af);
	errno = saved;
	return -1;
}

void
atomicfile_abort(struct atomicfile *af)
{
	int saved = errno;

	if (af->f != NULL)
		fclose(af->f);
	af->f = NULL;
	if (af->tmp[0] != '\0')
		unlink(af->tmp);
	af->tmp[0] = '\0';
	errno = saved;
}

void
atomicfile_dir(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

size_t
atomicfile_clean_tmp(const char *path, const char *tmp_suffix)
{
	char dir[PATH_MAX], prefix[PATH_MAX];
	const char *base = strrchr(path, '/');
	size_t plen, gone = 0;
	struct dirent *de;
	DIR *d;

	base = base != NULL ? base + 1 : path;
	atomicfile_dir(path, dir, sizeof(dir));
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s%s", base,
	    tmp_suffix);
	if (plen >= sizeof(prefix) || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, plen) == 0 &&
		    strlen(de->d_name) == plen + ATOMICFILE_RANDOM &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			gone++;
	closedir(d);
	return gone;
}

int
atomicfile_read(const char *path, bool follow, size_t max, char **text,
    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, saved;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (follow ? 0 : O_NOFOLLOW))) == -1) {
		saved = errno;
		snprintf(err, errlen, "open %s: %s", path,
		    saved == ELOOP && !follow ? "a symbolic link (not "
		    "followed)" : strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		snprintf(err, errlen, "fstat %s: %s", path, strerror(saved));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (unsigned long long)st.st_size > max) {
		saved = EINVAL;
		snprintf(err, errlen, "%s: not a regular file of at most %zu "
		    "bytes", path, max);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		saved = errno;
		snprintf(err, errlen, "malloc %lld bytes for %s: %s",
		    (long long)st.st_size + 1, path, strerror(saved));
		goto fail;
	}
	/* One byte more than fstat said: a file that grew is refused. */
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			snprintf(err, errlen, "read %s: %s", path,
			    strerror(saved));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			saved = EINVAL;
			snprintf(err, errlen, "%s grew while read", path);
			goto fail;
		}
	}
	close(fd);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

int
atomicfile_write(const char *path, mode_t mode, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct atomicfile af;
	int saved;

	if (atomicfile_open(&af, path, ".tmp.", mode, err, errlen) == -1)
		return -1;
	if (fwrite(text, 1, len, af.f) != len) {
		saved = errno;
		snprintf(err, errlen, "write %s: %s", af.tmp, strerror(saved));
		atomicfile_abort(&af);
		errno = saved;
		return -1;
	}
	return atomicfile_commit(&af, err, errlen);
}
