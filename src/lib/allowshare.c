/*
 * allowshare.c - the shared allow list (allowshare.h): its bounds, the
 * diff of two loads of the allow file, its own file's format, load and
 * atomic save.
 *
 * Exports the functions of allowshare.h.  The list is kept sorted
 * (prefix_cmp) so a look-up is a binary search: a resync hands the
 * daemon every entry of the shared hash one by one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"
#include "allowshare.h"
#include "atomicfile.h"
#include "conf.h"

/* A line: a prefix (at most 43 bytes), a space, a node (63). */
#define ALLOWSHARE_LINE_MAX	128
#define ALLOWSHARE_FILE_MAX \
	((size_t)ALLOWLIST_MAX * ALLOWSHARE_LINE_MAX + 4096)

void
allowshare_init(struct allowshare *s)
{
	memset(s, 0, sizeof(*s));
}

void
allowshare_free(struct allowshare *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

const char *
allowshare_check(const struct prefix *p)
{
	if (p->a.family == AF_INET && p->len < ALLOWSHARE_MIN4)
		return "wider than /8";
	if (p->a.family == AF_INET6 && p->len < ALLOWSHARE_MIN6)
		return "wider than /16";
	if (p->a.family != AF_INET && p->a.family != AF_INET6)
		return "not an IPv4 or IPv6 prefix";
	return NULL;
}

static bool
allowshare_node_ok(const char *node)
{
	size_t i;

	for (i = 0; node[i] != '\0'; i++) {
		char c = node[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return i > 0 && i < CLUSTER_NODE_MAX;
}

/* The index of p, or where it would go (as ~index). */
static ssize_t
allowshare_search(const struct allowshare *s, const struct prefix *p)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = prefix_cmp(&s->e[mid].p, p);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ~(ssize_t)lo;
}

ssize_t
allowshare_find(const struct allowshare *s, const struct prefix *p)
{
	ssize_t i = allowshare_search(s, p);

	return i >= 0 ? i : -1;
}

int
allowshare_set(struct allowshare *s, const struct prefix *p,
    const char *node)
{
	ssize_t i;
	size_t at;

	if (allowshare_check(p) != NULL || !allowshare_node_ok(node)) {
		errno = EINVAL;
		return -1;
	}
	if ((i = allowshare_search(s, p)) >= 0) {
		snprintf(s->e[i].node, sizeof(s->e[i].node), "%s", node);
		return 0;
	}
	if (s->n >= ALLOWLIST_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct allowshare_entry *e;

		if (cap > ALLOWLIST_MAX)
			cap = ALLOWLIST_MAX;
		if ((e = realloc(s->e, cap * sizeof(*e))) == NULL)
			return -1;
		s->e = e;
		s->cap = cap;
	}
	at = (size_t)~i;
	memmove(&s->e[at + 1], &s->e[at], (s->n - at) * sizeof(s->e[0]));
	memset(&s->e[at], 0, sizeof(s->e[at]));
	s->e[at].p = *p;
	snprintf(s->e[at].node, sizeof(s->e[at].node), "%s", node);
	s->n++;
	return 1;
}

int
allowshare_del(struct allowshare *s, const struct prefix *p)
{
	ssize_t i = allowshare_search(s, p);

	if (i < 0)
		return -1;
	memmove(&s->e[i], &s->e[i + 1], (s->n - (size_t)i - 1) *
	    sizeof(s->e[0]));
	s->n--;
	return 0;
}

void
allowshare_unsee(struct allowshare *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->e[i].seen = false;
}

int
allowshare_see(struct allowshare *s, const struct prefix *p)
{
	ssize_t i = allowshare_search(s, p);

	if (i < 0)
		return -1;
	s->e[i].seen = true;
	return 0;
}

size_t
allowshare_sweep(struct allowshare *s, const char *node,
    struct allowshare_entry *gone, size_t room)
{
	size_t i, j = 0, n = 0;

	/* In place, keeping the order. */
	for (i = 0; i < s->n; i++) {
		if (!s->e[i].seen && strcmp(s->e[i].node, node) != 0) {
			if (n < room)
				gone[n] = s->e[i];
			n++;
			continue;
		}
		if (j != i)
			s->e[j] = s->e[i];
		j++;
	}
	s->n = j;
	return n;
}

size_t
allowshare_unheld(const struct allowshare *s, const struct prefix *mine,
    size_t nmine, struct prefix *out)
{
	size_t n = 0;

	for (size_t i = 0; i < nmine; i++) {
		ssize_t k = allowshare_search(s, &mine[i]);

		if (k < 0 || !s->e[k].seen)
			out[n++] = mine[i];
	}
	return n;
}

void
allowshare_diff(const struct prefix *old, size_t nold,
    const struct prefix *cur, size_t ncur, struct prefix *added,
    size_t *nadded, struct prefix *removed, size_t *nremoved)
{
	size_t i = 0, j = 0, na = 0, nr = 0;

	/* A merge of the two sorted lists. */
	while (i < nold || j < ncur) {
		int c = i == nold ? 1 : j == ncur ? -1 :
		    prefix_cmp(&old[i], &cur[j]);

		if (c < 0)
			removed[nr++] = old[i++];
		else if (c > 0)
			added[na++] = cur[j++];
		else
			i++, j++;
	}
	*nadded = na;
	*nremoved = nr;
}

int
allowshare_parse(const char *name, const char *text, size_t len,
    struct allowshare *s, char *err, size_t errlen)
{
	char line[ALLOWSHARE_LINE_MAX + 1];
	size_t pos = 0, lineno = 0;

	s->n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *why = NULL;
		char *sp, *q;
		struct prefix p;

		lineno++;
		if (n > ALLOWSHARE_LINE_MAX) {
			why = "line too long";
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n) != NULL) {
			why = "NUL byte";
			goto fail;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if ((sp = strchr(line, ' ')) == NULL) {
			why = "want PREFIX NODE";
			goto fail;
		}
		*sp = '\0';
		q = sp + 1;
		if (prefix_parse(line, &p, &why) == -1)
			goto fail;
		if ((why = allowshare_check(&p)) != NULL)
			goto fail;
		if (!allowshare_node_ok(q)) {
			why = "bad node name";
			goto fail;
		}
		if (allowshare_find(s, &p) >= 0) {
			why = "prefix listed twice";
			goto fail;
		}
		if (allowshare_set(s, &p, q) == -1) {
			why = errno == E2BIG ? "too many entries" :
			    "out of memory";
			goto fail;
		}
		continue;
fail:
		snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
		allowshare_free(s);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

char *
allowshare_format(const struct allowshare *s)
{
	size_t cap = 256 + s->n * (ALLOWSHARE_LINE_MAX + 2), off;
	char *buf = malloc(cap), a[ADDR_STRLEN];

	if (buf == NULL)
		return NULL;
	off = (size_t)snprintf(buf, cap, "# smtpgated: the site's shared allow "
	    "list ([cluster] share_allow); PREFIX NODE.\n# Written by the "
	    "daemon: the allow file stays the local list.\n");
	for (size_t i = 0; i < s->n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s/%u %s\n",
		    addr_ntop(&s->e[i].p.a, a), s->e[i].p.len, s->e[i].node);
	return buf;
}

int
allowshare_path(const struct conf *c, char *buf, size_t len)
{
	char dir[PATH_MAX];

	atomicfile_dir(c->sniffer.state_file, dir, sizeof(dir));
	if (snprintf(buf, len, "%s/%s", dir, ALLOWSHARE_FILE) >= (int)len)
		return -1;
	return 0;
}

int
allowshare_union(const struct allowlist *l, const struct allowshare_entry *e,
    size_t n, struct allowlist *out)
{
	size_t cap = l->n + n;

	if ((out->e = calloc(cap ? cap : 1, sizeof(*out->e))) == NULL)
		return -1;
	out->cap = cap;
	if (l->n > 0)
		memcpy(out->e, l->e, l->n * sizeof(*out->e));
	out->n = l->n;
	for (size_t i = 0; i < n; i++)
		out->e[out->n++].p = e[i].p;
	return 0;
}

int
allowshare_load(const char *path, struct allowshare *s, char *err,
    size_t errlen)
{
	char *text, e[PATH_MAX + 128];
	size_t len;
	int rc, saved;

	s->n = 0;
	if (atomicfile_read(path, false, ALLOWSHARE_FILE_MAX, &text, &len, e,
	    sizeof(e)) == -1) {
		if (errno == ENOENT)
			return 0;
		saved = errno;
		snprintf(err, errlen, "shared allow list: %s", e);
		errno = saved;
		return -1;
	}
	rc = allowshare_parse(path, text, len, s, err, errlen);
	free(text);
	if (rc == -1)
		errno = EINVAL;
	return rc;
}

int
allowshare_save(const char *path, const struct allowshare *s, char *err,
    size_t errlen)
{
	char aerr[PATH_MAX + 128], *text;
	int saved;

	if ((text = allowshare_format(s)) == NULL) {
		snprintf(err, errlen, "shared allow list: format %zu entries "
		    "for %s: out of memory", s->n, path);
		errno = ENOMEM;
		return -1;
	}
	if (atomicfile_write(path, 0644, text, strlen(text), aerr,
	    sizeof(aerr)) == -1) {
		saved = errno;
		snprintf(err, errlen, "shared allow list: %s", aerr);
		free(text);
		errno = saved;
		return -1;
	}
	free(text);
	return 0;
}
