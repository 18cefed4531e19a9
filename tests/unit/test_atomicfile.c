/*
 * test_atomicfile.c - the atomic replacement of a file: a commit puts the
 * new contents and mode in place, an abort leaves the old file, a failure
 * names its call, object and cause and leaves nothing behind, and the
 * temporaries of a save that never finished are cleaned.  The reader
 * takes a file whole and bounded, never blocks on a FIFO, follows a
 * symbolic link only when told, and names what it refused.
 *
 * Tests run as root, so an unwritable directory is no failure here: the
 * failures come from a directory that does not exist, names too long, and
 * a directory where the file goes.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomicfile.h"

/* A fresh directory for one test; removed by rmdir_all. */
static void
mkdir_fresh(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test_atomicfile.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void
rmdir_all(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The names in dir, sorted, space-separated, into buf. */
static const char *
ls(const char *dir, char *buf, size_t len)
{
	struct dirent **de;
	size_t off = 0;
	int n;

	buf[0] = '\0';
	n = scandir(dir, &de, NULL, alphasort);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(de[i]->d_name, ".") != 0 &&
		    strcmp(de[i]->d_name, "..") != 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? " " : "", de[i]->d_name);
		free(de[i]);
	}
	free(de);
	return buf;
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static const char *
get(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return "(none)";
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- commit and abort ---- */

struct replace_case {
	const char *name;
	const char *suffix;
	mode_t old_mode, mode;		/* old_mode 0: no old file */
	int abort;			/* abort instead of commit */
	const char *want_text;
	mode_t want_mode;
};

static const struct replace_case replace_cases[] = {
	{ "allow list over an old file", ".tmp.", 0600, 0644, 0, "new\n",
	    0644 },
	{ "state file over an old file", ".tmp.", 0644, 0640, 0, "new\n",
	    0640 },
	{ "a new file", ".tmp.", 0, 0640, 0, "new\n", 0640 },
	{ "another suffix", ".part-", 0644, 0600, 0, "new\n", 0600 },
	{ "abort keeps the old file", ".tmp.", 0600, 0644, 1, "old\n",
	    0600 },
	{ "abort of a new file", ".tmp.", 0, 0644, 1, "(none)", 0 },
};

static void
test_replace(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(replace_cases) /
	    sizeof(replace_cases[0]); i++) {
		const struct replace_case *k = &replace_cases[i];
		char dir[64], path[128], prefix[128], names[512], buf[64],
		    err[PATH_MAX + 128];
		struct atomicfile af;
		struct stat st;

		mkdir_fresh(dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/f", dir);
		if (k->old_mode != 0)
			put(path, "old\n", k->old_mode);
		if (atomicfile_open(&af, path, k->suffix, k->mode, err,
		    sizeof(err)) != 0)
			fail_msg("%s: open got \"%s\", want 0", k->name, err);
		/* The temporary is PATH SUFFIX XXXXXX, beside PATH; PATH
		 * keeps its old contents until the commit. */
		snprintf(prefix, sizeof(prefix), "%s%s", path, k->suffix);
		if (strncmp(af.tmp, prefix, strlen(prefix)) != 0 ||
		    strlen(af.tmp) != strlen(prefix) + 6)
			fail_msg("%s: temporary got \"%s\", want \"%sXXXXXX\"",
			    k->name, af.tmp, prefix);
		assert_int_equal(fputs("new\n", af.f) >= 0, 1);
		if (strcmp(get(path, buf, sizeof(buf)),
		    k->old_mode ? "old\n" : "(none)") != 0)
			fail_msg("%s: before commit got \"%s\"", k->name, buf);
		if (k->abort) {
			atomicfile_abort(&af);
			atomicfile_abort(&af);	/* again: harmless */
			if (atomicfile_commit(&af, err, sizeof(err)) != -1 ||
			    errno != EINVAL)
				fail_msg("%s: commit after abort got \"%s\", "
				    "want refused", k->name, err);
		} else if (atomicfile_commit(&af, err, sizeof(err)) != 0) {
			fail_msg("%s: commit got \"%s\", want 0", k->name, err);
		}
		if (strcmp(get(path, buf, sizeof(buf)), k->want_text) != 0)
			fail_msg("%s: contents got \"%s\", want \"%s\"",
			    k->name, buf, k->want_text);
		if (k->want_mode != 0 && (lstat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode) ||
		    (st.st_mode & 07777) != k->want_mode))
			fail_msg("%s: mode got %o, want %o", k->name,
			    (unsigned)st.st_mode, (unsigned)k->want_mode);
		if (strcmp(ls(dir, names, sizeof(names)),
		    strcmp(k->want_text, "(none)") ? "f" : "") != 0)
			fail_msg("%s: files got \"%s\", want only the file",
			    k->name, names);
		rmdir_all(dir);
	}
}

/* ---- failures ---- */

enum fail_path {
	F_NO_DIR,		/* DIR/none/f */
	F_PATH_MAX,		/* longer than PATH_MAX */
	F_NAME_MAX,		/* the temporary's name longer than NAME_MAX */
	F_TARGET_DIR,		/* DIR/isdir is a directory, not empty */
};

struct fail_case {
	const char *name;
	enum fail_path what;
	int at_commit;		/* fails at commit (else at open) */
	const char *want_call;	/* err starts with this */
	const char *want_obj;	/* err holds this after the call */
	int want_errno;
	const char *want_cause;	/* err ends with it; NULL: strerror */
	const char *want_left;	/* the directory afterwards */
};

static const struct fail_case fail_cases[] = {
	{ "directory missing", F_NO_DIR, 0, "create ", "/none/f.tmp.",
	    ENOENT, NULL, "" },
	{ "path too long", F_PATH_MAX, 0, "/", "/aaaa",
	    ENAMETOOLONG, "path too long", "" },
	{ "name too long", F_NAME_MAX, 0, "create ", "bbbb.tmp.",
	    ENAMETOOLONG, NULL, "" },
	{ "target is a directory", F_TARGET_DIR, 1, "rename into place ",
	    "/isdir.tmp.", EISDIR, NULL, "isdir" },
};

static void
test_fail(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fail_cases) / sizeof(fail_cases[0]);
	    i++) {
		const struct fail_case *k = &fail_cases[i];
		char dir[64], names[512], err[PATH_MAX + 128], sub[128];
		static char path[PATH_MAX + 64];
		struct atomicfile af;
		const char *cause;
		int rc, got_errno;
		size_t off;

		mkdir_fresh(dir, sizeof(dir));
		switch (k->what) {
		case F_NO_DIR:
			snprintf(path, sizeof(path), "%s/none/f", dir);
			break;
		case F_PATH_MAX:
			off = (size_t)snprintf(path, sizeof(path), "%s/", dir);
			while (off < PATH_MAX + 8)
				path[off++] = 'a';
			path[off] = '\0';
			break;
		case F_NAME_MAX:
			off = (size_t)snprintf(path, sizeof(path), "%s/", dir);
			for (size_t n = 0; n < NAME_MAX - 4; n++)
				path[off++] = 'b';
			path[off] = '\0';
			break;
		case F_TARGET_DIR:
			snprintf(path, sizeof(path), "%s/isdir", dir);
			assert_int_equal(mkdir(path, 0755), 0);
			snprintf(sub, sizeof(sub), "%s/isdir/x", dir);
			put(sub, "x\n", 0644);
			break;
		}
		rc = atomicfile_open(&af, path, ".tmp.", 0644, err,
		    sizeof(err));
		got_errno = errno;
		if (rc == 0 && k->at_commit) {
			assert_int_equal(fputs("new\n", af.f) >= 0, 1);
			rc = atomicfile_commit(&af, err, sizeof(err));
			got_errno = errno;
		} else if (rc == 0) {
			atomicfile_abort(&af);
		}
		/* "CALL OBJECT: cause", the object after the call. */
		cause = k->want_cause ? k->want_cause :
		    strerror(k->want_errno);
		if (rc != -1 || strncmp(err, k->want_call,
		    strlen(k->want_call)) != 0 ||
		    strstr(err + strlen(k->want_call), k->want_obj) == NULL ||
		    strlen(err) < strlen(cause) + 2 ||
		    strncmp(err + strlen(err) - strlen(cause) - 2, ": ", 2) ||
		    strcmp(err + strlen(err) - strlen(cause), cause) != 0 ||
		    got_errno != k->want_errno)
			fail_msg("%s: got %d \"%.200s\" errno %d, want -1 \"%s"
			    "...%s...: %s\" errno %d", k->name, rc, err,
			    got_errno, k->want_call, k->want_obj, cause,
			    k->want_errno);
		if (strcmp(ls(dir, names, sizeof(names)), k->want_left) != 0)
			fail_msg("%s: files got \"%s\", want \"%s\"", k->name,
			    names, k->want_left);
		if (af.f != NULL || af.tmp[0] != '\0')
			fail_msg("%s: af still holds \"%s\"", k->name, af.tmp);
		rmdir_all(dir);
	}
}

/* ---- leftover temporaries ---- */

static void
test_clean_tmp(void **state)
{
	static const struct {
		const char *name;
		int gone;		/* removed by the clean-up */
	} plant[] = {
		{ "f", 0 },			/* the file itself */
		{ "f.tmp.Ab12Cd", 1 },		/* a crash's leftover */
		{ "f.tmp.zzzzzz", 1 },
		{ "f.tmp.short", 0 },		/* not six characters */
		{ "f.tmp.toolong", 0 },
		{ "f.tmp.", 0 },
		{ "g.tmp.Ab12Cd", 0 },		/* another file's */
		{ "xf.tmp.Ab12Cd", 0 },
		{ "f.part.Ab12Cd", 0 },		/* another suffix */
	};
	char dir[64], path[128], names[512];
	size_t off = 0, want_gone = 0, got;

	(void)state;
	mkdir_fresh(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(plant) / sizeof(plant[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, plant[i].name);
		put(path, "x\n", 0600);
		want_gone += (size_t)plant[i].gone;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	got = atomicfile_clean_tmp(path, ".tmp.");
	if (got != want_gone)
		fail_msg("clean: got %zu removed, want %zu", got, want_gone);
	for (size_t i = 0; i < sizeof(plant) / sizeof(plant[0]); i++) {
		char one[128];
		struct stat st;

		snprintf(one, sizeof(one), "%s/%s", dir, plant[i].name);
		if ((lstat(one, &st) == 0) == plant[i].gone)
			fail_msg("clean: %s got %s, want %s", plant[i].name,
			    plant[i].gone ? "kept" : "removed",
			    plant[i].gone ? "removed" : "kept");
		if (!plant[i].gone)
			off++;
	}
	if (off != sizeof(plant) / sizeof(plant[0]) - want_gone)
		fail_msg("clean: %zu kept", off);
	/* Again: nothing left to remove; a missing directory is no fault. */
	if ((got = atomicfile_clean_tmp(path, ".tmp.")) != 0)
		fail_msg("clean again: got %zu, want 0 (%s)", got,
		    ls(dir, names, sizeof(names)));
	snprintf(path, sizeof(path), "%s/none/f", dir);
	assert_int_equal(atomicfile_clean_tmp(path, ".tmp."), 0);
	rmdir_all(dir);
}

/* ---- the directory part ---- */

static void
test_dir(void **state)
{
	static const struct {
		const char *path;
		size_t len;
		const char *want;
	} cases[] = {
		{ "f", 64, "." },
		{ "/f", 64, "/" },
		{ "/var/lib/smtpgate/state", 64, "/var/lib/smtpgate" },
		{ "etc/allow.list", 64, "etc" },
		{ "./f", 64, "." },
		{ "/a/b/", 64, "/a/b" },
		{ "/var/lib/smtpgate/state", 5, "/var" },	/* truncated */
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		atomicfile_dir(cases[i].path, buf, cases[i].len);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("dir(\"%s\", %zu): got \"%s\", want \"%s\"",
			    cases[i].path, cases[i].len, buf, cases[i].want);
	}
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The error of a read that must fail: errno want, err holding what. */
static void
read_fails(const char *path, bool follow, size_t max, int want,
    const char *what)
{
	char *text = (char *)1, err[PATH_MAX + 128] = "";
	size_t len = 7;

	errno = 0;
	if (atomicfile_read(path, follow, max, &text, &len, err,
	    sizeof(err)) != -1)
		fail_msg("read %s: succeeded, want %s", path, what);
	if (errno != want)
		fail_msg("read %s: errno %d (%s), want %d", path, errno,
		    strerror(errno), want);
	if (strstr(err, what) == NULL || strstr(err, path) == NULL)
		fail_msg("read %s: error \"%s\", want \"%s\" and the path",
		    path, err, what);
	assert_null(text);
	assert_int_equal(len, 0);
}

static void
test_read(void **state)
{
	char dir[64], path[128], link[128], fifo[128], err[PATH_MAX + 128];
	char *text;
	size_t len;

	(void)state;
	mkdir_fresh(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	snprintf(fifo, sizeof(fifo), "%s/p", dir);

	/* Whole, with its NUL bytes, and NUL-terminated. */
	write_file(path, "a\0b\n", 4);
	assert_int_equal(atomicfile_read(path, false, 4, &text, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(text, "a\0b\n", 5);
	free(text);
	/* Empty. */
	write_file(path, "", 0);
	assert_int_equal(atomicfile_read(path, false, 4, &text, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_int_equal(text[0], '\0');
	free(text);
	/* One byte over the bound. */
	write_file(path, "12345", 5);
	read_fails(path, false, 4, EINVAL, "not a regular file of at most 4 "
	    "bytes");
	/* Missing: ENOENT, for the caller to decide. */
	read_fails(link, false, 4, ENOENT, "No such file or directory");
	/* A symbolic link: refused unless followed. */
	write_file(path, "xy", 2);
	assert_int_equal(symlink(path, link), 0);
	read_fails(link, false, 4, ELOOP, "a symbolic link (not followed)");
	assert_int_equal(atomicfile_read(link, true, 4, &text, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 2);
	assert_string_equal(text, "xy");
	free(text);
	/* A FIFO with no writer: refused at once, never waited on. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	read_fails(fifo, false, 4, EINVAL, "not a regular file");
	/* A directory. */
	read_fails(dir, false, 4, EINVAL, "not a regular file");
	rmdir_all(dir);
}

/* atomicfile_write: the contents and mode in place, read back whole; a
 * missing directory named with its call. */
static void
test_write(void **state)
{
	char dir[64], path[128], bad[160], err[PATH_MAX + 128], *text;
	struct stat st;
	size_t len;

	(void)state;
	mkdir_fresh(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, "old\n", 4);
	assert_int_equal(atomicfile_write(path, 0640, "new\0x", 5, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(atomicfile_read(path, false, 64, &text, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "new\0x", 5);
	free(text);
	snprintf(bad, sizeof(bad), "%s/none/f", dir);
	errno = 0;
	assert_int_equal(atomicfile_write(bad, 0644, "x", 1, err,
	    sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	if (strncmp(err, "create ", 7) != 0 || strstr(err, bad) == NULL)
		fail_msg("write %s: error \"%s\", want \"create %s...\"", bad,
		    err, bad);
	rmdir_all(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_clean_tmp),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
