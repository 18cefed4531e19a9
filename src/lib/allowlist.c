/*
 * allowlist.c - the allow file: parse, validate, write atomically under a
 * lock, merge for the kernel, apply to allow4/allow6.
 *
 * Exports the functions of allowlist.h.  Pure parts (parse, format, add,
 * del, wanted) touch no file and no socket, so tests and the fuzz target
 * drive them directly; load/save/lock work on files; apply talks netlink
 * through nftset_replace.
 *
 * Why replace and not add/delete one entry: the kernel's interval sets
 * refuse overlapping intervals, and which entries are in force depends on
 * the whole list (a /32 inside a /24 is only added when the /24 is gone).
 * Computing the whole wanted set and swapping it in one batch is simple
 * and atomic, and one nf_tables transaction takes the largest list
 * (ALLOWLIST_MAX, 1,000,000 entries: nftset_replace packs them some 800
 * to a message).  Nothing here is quadratic in the list: parsing finds
 * repeated prefixes by sorting, importing merges through a sorted index,
 * allowlist_wanted sorts once.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "atomicfile.h"
#include "log.h"
#include "nftset.h"

#define ALLOWLIST_EPOCH_MAX	INT64_C(253402300799)	/* 9999-12-31 */

void
allowlist_init(struct allowlist *l)
{
	memset(l, 0, sizeof(*l));
}

/* A list this large leaves its memory free but held: given back (trim). */
#define ALLOWLIST_TRIM_BYTES	(1024 * 1024)

void
allowlist_free(struct allowlist *l)
{
	bool big = l->cap * sizeof(*l->e) >= ALLOWLIST_TRIM_BYTES;

	free(l->e);
	memset(l, 0, sizeof(*l));
	/* glibc keeps what was freed in its heap: a daemon that read a
	 * 100,000-entry list would hold some 30 MB for days. */
	if (big)
		(void)malloc_trim(0);
}

const char *
allowlist_comment_check(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return "comment has a control character";
	}
	if (i >= ALLOWLIST_COMMENT_MAX)
		return "comment too long";
	return NULL;
}

/* Plain decimal epoch seconds, no sign, no leading zero, not too big. */
static int
allowlist_epoch_parse(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 12 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > ALLOWLIST_EPOCH_MAX)
		return -1;
	*out = v;
	return 0;
}

int
allowlist_duration_parse(const char *s, int64_t *out)
{
	char why[128];
	long long v;

	/* The file's syntax (conf_parse_duration), the list's bounds. */
	if (conf_parse_duration(s, 1, ALLOWLIST_EXPIRES_MAX, &v, why,
	    sizeof(why)) == -1)
		return -1;
	*out = v;
	return 0;
}

static int
allowlist_grow(struct allowlist *l)
{
	struct allow_entry *e;
	size_t cap;

	if (l->n < l->cap)
		return 0;
	if (l->n >= ALLOWLIST_MAX) {
		errno = E2BIG;
		return -1;
	}
	cap = l->cap ? l->cap * 2 : 16;
	if (cap > ALLOWLIST_MAX)
		cap = ALLOWLIST_MAX;
	if ((e = realloc(l->e, cap * sizeof(*e))) == NULL)
		return -1;
	l->e = e;
	l->cap = cap;
	return 0;
}

static bool
allowlist_prefix_eq(const struct prefix *a, const struct prefix *b)
{
	return a->len == b->len && addr_eq(&a->a, &b->a);
}

/* Does outer contain inner (same family, outer not longer)? */
static bool
allowlist_contains(const struct prefix *outer, const struct prefix *inner)
{
	return outer->a.family == inner->a.family && outer->len <= inner->len &&
	    prefix_contains(outer, &inner->a);
}

ssize_t
allowlist_find(const struct allowlist *l, const struct prefix *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (allowlist_prefix_eq(&l->e[i].p, p))
			return (ssize_t)i;
	return -1;
}

ssize_t
allowlist_covering(const struct allowlist *l, const struct prefix *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (!allowlist_prefix_eq(&l->e[i].p, p) &&
		    allowlist_contains(&l->e[i].p, p))
			return (ssize_t)i;
	return -1;
}

int
allowlist_add(struct allowlist *l, const struct allow_entry *e,
    bool *replaced)
{
	ssize_t i = allowlist_find(l, &e->p);

	if (replaced != NULL)
		*replaced = i >= 0;
	if (i >= 0) {
		l->e[i] = *e;
		return 0;
	}
	if (allowlist_grow(l) == -1)
		return -1;
	l->e[l->n++] = *e;
	return 0;
}

int
allowlist_del(struct allowlist *l, const struct prefix *p)
{
	ssize_t i = allowlist_find(l, p);

	if (i < 0)
		return -1;
	memmove(&l->e[i], &l->e[i + 1], (l->n - (size_t)i - 1) *
	    sizeof(l->e[0]));
	l->n--;
	return 0;
}

size_t
allowlist_prune(struct allowlist *l, int64_t now)
{
	size_t i, j = 0, gone;

	for (i = 0; i < l->n; i++)
		if (l->e[i].expires == 0 || l->e[i].expires > now)
			l->e[j++] = l->e[i];
	gone = l->n - j;
	l->n = j;
	return gone;
}

/* A prefix and where it is: an entry's index or its line. */
struct allowlist_at {
	struct prefix p;
	size_t at;
};

static int
allowlist_at_cmp(const void *x, const void *y)
{
	const struct allowlist_at *a = x, *b = y;
	int c = prefix_cmp(&a->p, &b->p);

	if (c != 0)
		return c;
	return a->at < b->at ? -1 : a->at > b->at;
}

/* l's prefixes with their indexes, sorted; NULL when out of memory. */
static struct allowlist_at *
allowlist_index(const struct allowlist *l)
{
	struct allowlist_at *x = malloc((l->n ? l->n : 1) * sizeof(*x));

	if (x == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		x[i].p = l->e[i].p;
		x[i].at = i;
	}
	qsort(x, l->n, sizeof(*x), allowlist_at_cmp);
	return x;
}

static int
allowlist_lines_grow(size_t **lines, size_t *cap, size_t want)
{
	size_t *nl;

	if (want <= *cap)
		return 0;
	if ((nl = realloc(*lines, want * sizeof(*nl))) == NULL)
		return -1;
	*lines = nl;
	*cap = want;
	return 0;
}

/*
 * The first line (before line `before`) that repeats the prefix of an
 * earlier line: -1 with "NAME:LINE: P is listed twice" in err, else 0
 * (also when out of memory: the caller's own error stands then).
 */
static int
allowlist_repeat(const char *name, const struct allowlist *l,
    const size_t *lines, size_t before, char *err, size_t errlen)
{
	struct allowlist_at *x;
	size_t first = SIZE_MAX, which = 0;
	char a[ADDR_STRLEN];

	if (l->n < 2 || (x = malloc(l->n * sizeof(*x))) == NULL)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		x[i].p = l->e[i].p;
		x[i].at = lines[i];
	}
	qsort(x, l->n, sizeof(*x), allowlist_at_cmp);
	/* Sorted by prefix then line: a repeat follows its first line. */
	for (size_t i = 1; i < l->n; i++)
		if (prefix_cmp(&x[i - 1].p, &x[i].p) == 0 &&
		    x[i].at < first && x[i].at < before) {
			first = x[i].at;
			which = i;
		}
	if (first != SIZE_MAX)
		snprintf(err, errlen, "%s:%zu: %s/%u is listed twice", name,
		    first, addr_ntop(&x[which].p.a, a), x[which].p.len);
	free(x);
	return first != SIZE_MAX ? -1 : 0;
}

int
allowlist_merge(struct allowlist *l, const struct allowlist *in,
    size_t *added, size_t *updated)
{
	struct allowlist_at *x, key;
	ssize_t *hit;
	size_t fresh = 0, i;
	int rc = -1;

	*added = *updated = 0;
	if ((x = allowlist_index(l)) == NULL)
		return -1;
	if ((hit = malloc((in->n ? in->n : 1) * sizeof(*hit))) == NULL)
		goto out;
	for (i = 0; i < in->n; i++) {
		const struct allowlist_at *f;

		key.p = in->e[i].p;
		key.at = 0;
		/* The one entry of that prefix (the file has no repeats):
		 * compare by prefix alone. */
		f = bsearch(&key, x, l->n, sizeof(*x), prefix_cmp);
		hit[i] = f != NULL ? (ssize_t)f->at : -1;
		if (f == NULL)
			fresh++;
	}
	if (fresh > ALLOWLIST_MAX - l->n) {
		errno = E2BIG;
		goto out;
	}
	for (i = 0; i < in->n; i++) {
		if (hit[i] >= 0) {
			l->e[hit[i]] = in->e[i];
			(*updated)++;
			continue;
		}
		if (allowlist_grow(l) == -1)
			goto out;
		l->e[l->n++] = in->e[i];
		(*added)++;
	}
	rc = 0;
out:
	free(hit);
	free(x);
	return rc;
}

/*
 * One line (NUL-terminated, no newline) into e.  Returns 1 for an entry,
 * 0 for a blank or comment line, -1 with *why.
 */
static int
allowlist_parse_line(char *s, struct allow_entry *e, const char **why)
{
	char *tok, *hash, *end;
	bool seen_exp = false, seen_add = false;

	memset(e, 0, sizeof(*e));
	for (char *c = s; *c != '\0'; c++) {
		unsigned char u = (unsigned char)*c;

		if ((u < 0x20 && u != '\t') || u == 0x7f) {
			*why = "control character";
			return -1;
		}
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	if ((hash = strchr(s, '#')) != NULL) {
		char *c = hash + 1;

		while (*c == ' ' || *c == '\t')
			c++;
		end = c + strlen(c);
		while (end > c && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		for (char *t = c; *t != '\0'; t++)
			if (*t == '\t')
				*t = ' ';
		if ((*why = allowlist_comment_check(c)) != NULL)
			return -1;
		snprintf(e->comment, sizeof(e->comment), "%s", c);
		*hash = '\0';
	}
	tok = strtok_r(s, " \t", &end);
	if (tok == NULL) {
		*why = "comment without an address";
		return -1;
	}
	if (prefix_parse(tok, &e->p, why) == -1)
		return -1;
	if (e->p.len == 0) {
		*why = "a /0 prefix would allow everyone";
		return -1;
	}
	while ((tok = strtok_r(NULL, " \t", &end)) != NULL) {
		if (strncmp(tok, "expires=", 8) == 0 && !seen_exp) {
			seen_exp = true;
			if (allowlist_epoch_parse(tok + 8, strlen(tok + 8),
			    &e->expires) == -1) {
				*why = "expires= wants epoch seconds";
				return -1;
			}
		} else if (strncmp(tok, "added=", 6) == 0 && !seen_add) {
			seen_add = true;
			if (allowlist_epoch_parse(tok + 6, strlen(tok + 6),
			    &e->added) == -1) {
				*why = "added= wants epoch seconds";
				return -1;
			}
		} else {
			*why = "unknown or repeated field (want expires=, "
			    "added=, # comment)";
			return -1;
		}
	}
	return 1;
}

int
allowlist_parse(const char *name, const char *text, size_t len,
    struct allowlist *l, char *err, size_t errlen)
{
	char line[ALLOWLIST_LINE_MAX + 1];
	size_t pos = 0, lineno = 0, nlines = 0, *lines = NULL;

	l->n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct allow_entry e;
		const char *why = NULL;
		int rc;

		lineno++;
		if (n > ALLOWLIST_LINE_MAX) {
			snprintf(err, errlen, "%s:%zu: line longer than %d "
			    "bytes", name, lineno, ALLOWLIST_LINE_MAX);
			goto fail_dup;
		}
		if (memchr(text + pos, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%zu: NUL byte", name,
			    lineno);
			goto fail_dup;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		pos += n + (nl ? 1 : 0);
		rc = allowlist_parse_line(line, &e, &why);
		if (rc == -1) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
			goto fail_dup;
		}
		if (rc == 0)
			continue;
		if (allowlist_grow(l) == -1 || allowlist_lines_grow(&lines,
		    &nlines, l->cap) == -1) {
			if (errno == E2BIG)
				snprintf(err, errlen, "%s:%zu: more than %d "
				    "entries", name, lineno, ALLOWLIST_MAX);
			else
				snprintf(err, errlen, "%s:%zu: out of memory",
				    name, lineno);
			goto fail_dup;
		}
		lines[l->n] = lineno;
		l->e[l->n++] = e;
	}
	/* A repeat is reported at its line, as if found while reading. */
	if (allowlist_repeat(name, l, lines, SIZE_MAX, err, errlen) == -1)
		goto fail;
	free(lines);
	return 0;
fail_dup:
	/* A repeat on an earlier line is the first fault of the file. */
	(void)allowlist_repeat(name, l, lines, lineno, err, errlen);
fail:
	free(lines);
	allowlist_free(l);
	errno = EINVAL;
	return -1;
}

/*
 * Read path into l.  Never blocks: O_NONBLOCK, so a FIFO (or a device)
 * planted at the path is opened without waiting for a writer and then
 * refused as not a regular file; follow says whether a symbolic link is
 * followed (not for the allow file itself).
 */
static int
allowlist_read(const char *path, bool follow, bool missing_ok,
    bool *missing, struct allowlist *l, char *err, size_t errlen)
{
	char *text, e[PATH_MAX + 128];
	size_t len;
	int rc, saved;

	if (missing != NULL)
		*missing = false;
	l->n = 0;
	if (atomicfile_read(path, follow, ALLOWLIST_FILE_MAX, &text, &len, e,
	    sizeof(e)) == -1) {
		if (errno == ENOENT && missing_ok) {
			if (missing != NULL)
				*missing = true;
			return 0;
		}
		saved = errno;
		snprintf(err, errlen, "allow list: %s", e);
		errno = saved;
		return -1;
	}
	rc = allowlist_parse(path, text, len, l, err, errlen);
	free(text);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

int
allowlist_load(const char *path, bool missing_ok, bool *missing,
    struct allowlist *l, char *err, size_t errlen)
{
	return allowlist_read(path, false, missing_ok, missing, l, err,
	    errlen);
}

int
allowlist_import_file(const char *path, struct allowlist *l, char *err,
    size_t errlen)
{
	return allowlist_read(path, true, false, NULL, l, err, errlen);
}

char *
allowlist_format(const struct allowlist *l)
{
	size_t cap = 256 + l->n * (ALLOWLIST_LINE_MAX + 1), off = 0;
	char *buf = malloc(cap), a[ADDR_STRLEN];

	if (buf == NULL)
		return NULL;
	off += (size_t)snprintf(buf, cap, "# smtpgate allow list: senders "
	    "never gated.  Written by smtpgatectl allow;\n# format: PREFIX "
	    "[expires=EPOCH] [added=EPOCH] [# COMMENT]\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct allow_entry *e = &l->e[i];
		int n = snprintf(buf + off, cap - off, "%s/%u",
		    addr_ntop(&e->p.a, a), e->p.len);

		off += (size_t)n;
		if (e->expires)
			off += (size_t)snprintf(buf + off, cap - off,
			    " expires=%lld", (long long)e->expires);
		if (e->added)
			off += (size_t)snprintf(buf + off, cap - off,
			    " added=%lld", (long long)e->added);
		if (e->comment[0] != '\0')
			off += (size_t)snprintf(buf + off, cap - off, " # %s",
			    e->comment);
		off += (size_t)snprintf(buf + off, cap - off, "\n");
	}
	return buf;
}

/* Through atomicfile.h: PATH.tmp.XXXXXX beside it, mode 0644 (readable
 * by the daemon after it changed user), renamed into place. */
int
allowlist_save(const char *path, const struct allowlist *l, char *err,
    size_t errlen)
{
	char aerr[PATH_MAX + 128], *text;
	int saved;

	if ((text = allowlist_format(l)) == NULL) {
		saved = errno;
		snprintf(err, errlen, "allow list: format %zu entries for %s: "
		    "%s", l->n, path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (atomicfile_write(path, 0644, text, strlen(text), aerr,
	    sizeof(aerr)) == -1) {
		saved = errno;
		snprintf(err, errlen, "allow list: %s", aerr);
		free(text);
		errno = saved;
		return -1;
	}
	free(text);
	return 0;
}

int
allowlist_lock(const char *path, int timeout_ms, char *err, size_t errlen)
{
	char lock[PATH_MAX];
	int fd, waited = 0, saved;

	if (snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    (int)sizeof(lock)) {
		snprintf(err, errlen, "allow list: %s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK, 0600)) == -1) {
		saved = errno;
		snprintf(err, errlen, "allow list: open lock %s: %s", lock,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	/* Poll the lock so a stuck holder costs a clear error, not a hang. */
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			saved = errno;
			snprintf(err, errlen, "allow list: flock %s: %s", lock,
			    strerror(saved));
			close(fd);
			errno = saved;
			return -1;
		}
		if (waited >= timeout_ms) {
			snprintf(err, errlen, "allow list: %s is locked by "
			    "another smtpgatectl for over %d ms", lock,
			    timeout_ms);
			close(fd);
			errno = EWOULDBLOCK;
			return -1;
		}
		(void)poll(NULL, 0, 10);
		waited += 10;
	}
	return fd;
}

ssize_t
allowlist_wanted(const struct allowlist *l, const struct conf_gate *g,
    int64_t now, struct prefix *out, size_t outcap, int64_t *next_expiry)
{
	size_t n = 0, i, k;
	int64_t next = 0;

	if (outcap < 2 + g->ntrusted + l->n)
		return -1;
	(void)prefix_parse("127.0.0.0/8", &out[n++], NULL);
	(void)prefix_parse("::1", &out[n++], NULL);
	for (i = 0; i < g->ntrusted; i++)
		out[n++] = g->trusted[i];
	for (i = 0; i < l->n; i++) {
		const struct allow_entry *e = &l->e[i];

		if (e->expires != 0 && e->expires <= now)
			continue;
		if (e->expires != 0 && (next == 0 || e->expires < next))
			next = e->expires;
		out[n++] = e->p;
	}
	if (next_expiry != NULL)
		*next_expiry = next;
	qsort(out, n, sizeof(out[0]), prefix_cmp);
	/*
	 * Sorted this way a prefix's sub-prefixes follow it directly (they
	 * start at or after its start and before its end), so one pass that
	 * keeps the last kept prefix drops every one inside another.
	 */
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && allowlist_contains(&out[k - 1], &out[i]))
			continue;
		out[k++] = out[i];
	}
	return (ssize_t)k;
}

int
allowlist_apply(const char *table, const struct prefix *wanted, size_t n,
    char *err, size_t errlen)
{
	static const char *const sets[] = { "allow4", "allow6" };
	struct nftset_replace *r;
	struct nftset_elem el;

	/* One element at a time into the batch: a million prefixes never
	 * become a million struct nftset_elem. */
	if ((r = nftset_replace_begin(table, sets, 2, err, errlen)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (nftset_elem_prefix(&el, false, "allow", &wanted[i]) ==
		    -1) {
			char a[ADDR_STRLEN];

			snprintf(err, errlen, "allow list: %s/%u cannot be an "
			    "element of allow4 or allow6",
			    addr_ntop(&wanted[i].a, a), wanted[i].len);
			nftset_replace_abort(r);
			errno = EINVAL;
			return -1;
		}
		if (nftset_replace_add(r, &el) == -1)
			break;		/* commit reports it */
	}
	return nftset_replace_commit(r, err, errlen);
}

int
allowlist_apply_conf(const struct conf *c, int64_t now, size_t *napplied,
    int64_t *next_expiry, char *err, size_t errlen)
{
	struct allowlist l;
	struct prefix *want;
	size_t cap;
	ssize_t n;
	int rc = -1;

	allowlist_init(&l);
	if (allowlist_load(c->nft.allow_file, true, NULL, &l, err,
	    errlen) == -1)
		return -1;
	cap = 2 + c->gate.ntrusted + l.n;
	if ((want = calloc(cap, sizeof(*want))) == NULL) {
		snprintf(err, errlen, "allow list: calloc %zu prefixes: %s", cap,
		    strerror(errno));
		goto out;
	}
	n = allowlist_wanted(&l, &c->gate, now, want, cap, next_expiry);
	if (n < 0)	/* cap counts every prefix allowlist_wanted adds */
		log_panic("allowlist_wanted: no room in %zu prefixes", cap);
	if (allowlist_apply(c->nft.table, want, (size_t)n, err, errlen) == -1)
		goto out;
	if (napplied != NULL) {
		*napplied = 0;
		for (size_t i = 0; i < l.n; i++)
			if (l.e[i].expires == 0 || l.e[i].expires > now)
				(*napplied)++;
	}
	rc = 0;
out:
	free(want);
	allowlist_free(&l);	/* last: it gives a large list's heap back */
	return rc;
}
