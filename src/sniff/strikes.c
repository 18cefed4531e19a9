/*
 * strikes.c - strike and ban arithmetic, the record table and the state
 * file of smtpgate-sniffd (contract in strikes.h).
 *
 * The table is a chained hash of records keyed by address; it owns its
 * records.  Times are seconds since the epoch, given by the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "strikes.h"

#define STRIKES_BUCKETS	65536

struct strikes {
	struct strikes_rec **bucket;	/* STRIKES_BUCKETS chains */
	struct siphash_key key;		/* random: keys the chains' hash */
	size_t n;			/* records */
	uint64_t changes;		/* count of changes, ever */
	uint64_t saved;			/* changes when last saved (or loaded) */
};

struct strikes *
strikes_new(void)
{
	struct strikes *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->bucket = calloc(STRIKES_BUCKETS, sizeof(*t->bucket));
	if (t->bucket == NULL || siphash_key_random(&t->key) == -1) {
		free(t->bucket);
		free(t);
		return NULL;
	}
	return t;
}

void
strikes_free(struct strikes *t)
{
	if (t == NULL)
		return;
	strikes_forget_all(t, NULL, NULL);
	free(t->bucket);
	free(t);
}

static struct strikes_rec **
strikes_slot(const struct strikes *t, const struct addr *a)
{
	return &t->bucket[addr_hash(&t->key, a) & (STRIKES_BUCKETS - 1)];
}

const struct strikes_rec *
strikes_find(const struct strikes *t, const struct addr *a)
{
	for (struct strikes_rec *r = *strikes_slot(t, a); r; r = r->next)
		if (addr_eq(&r->a, a))
			return r;
	return NULL;
}

uint32_t
strikes_timeout(const struct strikes_cfg *cfg, uint32_t bans)
{
	uint64_t t = cfg->timeout_s;

	for (uint32_t i = 0; i < bans && t < cfg->timeout_max_s; i++)
		t *= 2;
	return t > cfg->timeout_max_s ? cfg->timeout_max_s : (uint32_t)t;
}

/* a's record, made (empty) when it has none; NULL when the table is
 * full or memory ran out. */
static struct strikes_rec *
strikes_get(struct strikes *t, const struct addr *a)
{
	struct strikes_rec *r = (struct strikes_rec *)strikes_find(t, a);

	if (r != NULL)
		return r;
	if (t->n >= STRIKES_MAX_RECORDS || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->a = *a;
	r->next = *strikes_slot(t, a);
	*strikes_slot(t, a) = r;
	t->n++;
	return r;
}

/* r is not banned at now: its window starts over when it ran out. */
static void
strikes_window(struct strikes_rec *r, int64_t now,
    const struct strikes_cfg *cfg)
{
	r->banned_until = 0;
	if (r->strikes == 0 || now - r->first >= (int64_t)cfg->window_s) {
		r->strikes = 0;
		r->first = now;
	}
}

/* r's strikes reached cfg->strikes: the ban (or, observing, the would-be
 * ban), strikes_add's last step and strikes_merge's. */
static enum strikes_outcome strikes_ban(struct strikes_rec *r, int64_t now,
    const struct strikes_cfg *cfg, uint32_t *timeout_s);

enum strikes_outcome
strikes_add(struct strikes *t, const struct addr *a, enum conf_rule rule,
    int64_t now, const struct strikes_cfg *cfg, uint32_t *count,
    uint32_t *timeout_s)
{
	struct strikes_rec *r;

	*count = 0;
	*timeout_s = 0;
	if ((r = strikes_get(t, a)) == NULL)
		return STRIKES_FULL;
	if (r->banned_until > now) {
		*count = r->strikes;
		*timeout_s = (uint32_t)(r->banned_until - now);
		return STRIKES_ALREADY_BANNED;
	}
	t->changes++;
	strikes_window(r, now, cfg);
	r->strikes++;
	r->last = now;
	r->rule = rule;
	*count = r->strikes;
	if (r->strikes < cfg->strikes)
		return STRIKES_COUNTED;
	return strikes_ban(r, now, cfg, timeout_s);
}

enum strikes_outcome
strikes_merge(struct strikes *t, const struct addr *a, uint32_t total,
    enum conf_rule rule, int64_t now, const struct strikes_cfg *cfg,
    uint32_t *count, uint32_t *timeout_s)
{
	struct strikes_rec *r;

	*count = 0;
	*timeout_s = 0;
	if ((r = strikes_get(t, a)) == NULL)
		return STRIKES_FULL;
	if (total < r->shared_seen)
		r->shared_spent = 0;		/* the counter started over */
	r->shared_seen = total;
	if (r->banned_until > now) {
		r->shared_spent = total;	/* struck while banned: spent */
		*count = r->strikes;
		*timeout_s = (uint32_t)(r->banned_until - now);
		return STRIKES_ALREADY_BANNED;
	}
	total -= r->shared_spent;
	strikes_window(r, now, cfg);
	*count = r->strikes;
	if (total <= r->strikes) {
		if (r->strikes == 0 && r->bans == 0)
			(void)strikes_forget(t, a);	/* made for nothing */
		return STRIKES_COUNTED;
	}
	t->changes++;
	r->strikes = total;
	r->last = now;
	if (rule < RULE_MAX)
		r->rule = rule;
	*count = r->strikes;
	if (r->strikes < cfg->strikes)
		return STRIKES_COUNTED;
	r->shared_spent = r->shared_seen;	/* strikes start over */
	return strikes_ban(r, now, cfg, timeout_s);
}

int
strikes_apply_ban(struct strikes *t, const struct addr *a, uint32_t bans,
    int64_t until)
{
	struct strikes_rec *r;

	if ((r = strikes_get(t, a)) == NULL)
		return -1;
	t->changes++;
	if (bans > r->bans)
		r->bans = bans;
	if (until > r->banned_until)
		r->banned_until = until;
	r->strikes = 0;
	r->shared_spent = r->shared_seen;
	return 0;
}

static enum strikes_outcome
strikes_ban(struct strikes_rec *r, int64_t now, const struct strikes_cfg *cfg,
    uint32_t *timeout_s)
{
	*timeout_s = strikes_timeout(cfg, r->bans);
	if (cfg->observe) {
		r->strikes = 0;
		return STRIKES_WOULD_BAN;
	}
	r->bans++;
	r->banned_until = now + *timeout_s;
	r->strikes = 0;
	return STRIKES_BANNED;
}

static void
strikes_unlink_free(struct strikes *t, struct strikes_rec **p)
{
	struct strikes_rec *r = *p;

	*p = r->next;
	free(r);
	t->n--;
	t->changes++;
}

bool
strikes_forget(struct strikes *t, const struct addr *a)
{
	for (struct strikes_rec **p = strikes_slot(t, a); *p;
	    p = &(*p)->next)
		if (addr_eq(&(*p)->a, a)) {
			strikes_unlink_free(t, p);
			return true;
		}
	return false;
}

void
strikes_forget_all(struct strikes *t,
    void (*fn)(void *arg, const struct strikes_rec *r), void *arg)
{
	for (size_t b = 0; b < STRIKES_BUCKETS; b++)
		while (t->bucket[b] != NULL) {
			if (fn != NULL)
				fn(arg, t->bucket[b]);
			strikes_unlink_free(t, &t->bucket[b]);
		}
}

size_t
strikes_expire(struct strikes *t, int64_t now, const struct strikes_cfg *cfg)
{
	return strikes_expire_part(t, now, cfg, 0, 1);
}

size_t
strikes_expire_part(struct strikes *t, int64_t now,
    const struct strikes_cfg *cfg, unsigned part, unsigned parts)
{
	size_t gone = 0, from, to;

	if (parts == 0 || part >= parts)
		return 0;
	from = (size_t)STRIKES_BUCKETS * part / parts;
	to = (size_t)STRIKES_BUCKETS * (part + 1) / parts;
	for (size_t b = from; b < to; b++) {
		struct strikes_rec **p = &t->bucket[b];

		while (*p != NULL) {
			struct strikes_rec *r = *p;
			bool strikes = r->strikes > 0 &&
			    now - r->first < (int64_t)cfg->window_s;
			bool banned = r->banned_until > now;
			bool memory = r->bans > 0 && now - r->banned_until <
			    (int64_t)cfg->timeout_max_s;

			if (!strikes && !banned && !memory) {
				strikes_unlink_free(t, p);
				gone++;
			} else {
				p = &r->next;
			}
		}
	}
	return gone;
}

void
strikes_each(const struct strikes *t,
    void (*fn)(void *arg, const struct strikes_rec *r), void *arg)
{
	for (size_t b = 0; b < STRIKES_BUCKETS; b++)
		for (struct strikes_rec *r = t->bucket[b]; r; r = r->next)
			fn(arg, r);
}

size_t
strikes_count(const struct strikes *t)
{
	return t->n;
}

bool
strikes_dirty(const struct strikes *t)
{
	return t->changes != t->saved;
}

uint64_t
strikes_changes(const struct strikes *t)
{
	return t->changes;
}

void
strikes_mark_saved(struct strikes *t, uint64_t changes)
{
	t->saved = changes;
}

void
strikes_format(const struct strikes_rec *r, char *buf, size_t len)
{
	char ip[ADDR_STRLEN];

	snprintf(buf, len, "ip=%s strikes=%" PRIu32 " first=%" PRId64
	    " last=%" PRId64 " rule=%s bans=%" PRIu32 " banned_until=%" PRId64,
	    addr_ntop(&r->a, ip), r->strikes, r->first, r->last,
	    conf_rule_name(r->rule), r->bans, r->banned_until);
}

/* Strict non-negative decimal that fits in max. */
static int
strikes_num(const char *s, int64_t max, int64_t *out)
{
	int64_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
		if (n > max)
			return -1;
	}
	*out = n;
	return 0;
}

int
strikes_parse(const char *line, struct strikes_rec *r, const char **why)
{
	static const char *const keys[] = { "ip", "strikes", "first", "last",
	    "rule", "bans", "banned_until" };
	char buf[STRIKES_LINE_MAX], *save = NULL, *f;
	size_t k = 0;
	int64_t n;

	memset(r, 0, sizeof(*r));
	if (strlen(line) >= sizeof(buf)) {
		*why = "line too long";
		return -1;
	}
	memcpy(buf, line, strlen(line) + 1);
	for (f = strtok_r(buf, " ", &save); f != NULL;
	    f = strtok_r(NULL, " ", &save), k++) {
		char *v = strchr(f, '=');

		if (k >= sizeof(keys) / sizeof(keys[0])) {
			*why = "trailing fields";
			return -1;
		}
		if (v == NULL || (size_t)(v - f) != strlen(keys[k]) ||
		    strncmp(f, keys[k], strlen(keys[k])) != 0) {
			*why = "fields out of order or unknown";
			return -1;
		}
		v++;
		switch (k) {
		case 0:
			if (addr_parse(v, &r->a) != 0) {
				*why = "bad ip";
				return -1;
			}
			continue;
		case 4:
			if ((r->rule = conf_rule_parse(v)) == RULE_MAX) {
				*why = "unknown rule";
				return -1;
			}
			continue;
		default:
			break;
		}
		if (strikes_num(v, k == 1 || k == 5 ? UINT32_MAX :
		    (int64_t)1 << 40, &n) != 0) {
			*why = "bad number";
			return -1;
		}
		if (k == 1)
			r->strikes = (uint32_t)n;
		else if (k == 2)
			r->first = n;
		else if (k == 3)
			r->last = n;
		else if (k == 5)
			r->bans = (uint32_t)n;
		else
			r->banned_until = n;
	}
	if (k != sizeof(keys) / sizeof(keys[0])) {
		*why = "missing fields";
		return -1;
	}
	return 0;
}

/* Through atomicfile.h: PATH.tmp.XXXXXX beside it, mode 0640, renamed
 * into place.  The child of bgsave.h runs this on its copy of the table. */
int
strikes_save(struct strikes *t, const char *path, char *err, size_t errlen)
{
	struct atomicfile af;
	char line[STRIKES_LINE_MAX];
	uint64_t changes = t->changes;

	if (atomicfile_open(&af, path, STRIKES_TMP_SUFFIX, 0640, err,
	    errlen) == -1)
		return -1;
	fprintf(af.f, "%s\n", STRIKES_HEADER);
	for (size_t b = 0; b < STRIKES_BUCKETS; b++)
		for (struct strikes_rec *r = t->bucket[b]; r; r = r->next) {
			strikes_format(r, line, sizeof(line));
			fprintf(af.f, "%s\n", line);
		}
	if (atomicfile_commit(&af, err, errlen) == -1)
		return -1;
	t->saved = changes;
	return 0;
}

size_t
strikes_clean_tmp(const char *path)
{
	return atomicfile_clean_tmp(path, STRIKES_TMP_SUFFIX);
}

int
strikes_load(struct strikes *t, const char *path, size_t *bad, char *err,
    size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	FILE *f;
	const char *why;
	struct strikes_rec rec;
	struct stat st;
	int fd;

	*bad = 0;
	err[0] = '\0';
	/*
	 * Not following a symbolic link, not blocking on a FIFO, and only a
	 * regular file: whatever was planted at the path is refused, never
	 * read through or waited on.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "open %s: %s", path, errno == ELOOP ?
		    "a symbolic link (not followed)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "fstat %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, STRIKES_HEADER) != 0) {
				snprintf(err, errlen, "%s:1: not a "
				    "smtpgate-sniffd state file (want \"%s\")",
				    path, STRIKES_HEADER);
				free(line);
				fclose(f);
				return -1;
			}
			continue;
		}
		if ((size_t)n != strlen(line))
			why = "NUL byte";
		else if (strikes_parse(line, &rec, &why) == 0) {
			struct strikes_rec *r;

			if (strikes_find(t, &rec.a) != NULL ||
			    t->n >= STRIKES_MAX_RECORDS) {
				why = "duplicate address or table full";
			} else if ((r = malloc(sizeof(*r))) != NULL) {
				*r = rec;
				r->next = *strikes_slot(t, &r->a);
				*strikes_slot(t, &r->a) = r;
				t->n++;
				continue;
			} else {
				why = "out of memory";
			}
		}
		if ((*bad)++ == 0)
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
	}
	free(line);
	fclose(f);
	t->saved = t->changes;
	return 0;
}
