/*
 * fake_nftset.c - include/nftset.h for the scenario tests: a model of the
 * kernel's sets instead of netlink (fake.h).
 *
 * Exports every function of nftset.h that nftset.c does (the element
 * builders and labels are the real ones, nftset_elem.c) and the fake_nft_*
 * helpers.
 *
 * As with the real writer, changes are queued by nftset_add/del(_prefix)
 * and reach the kernel only with nftset_flush (or nftset_sync): there
 * each becomes an element of the model (an add of an element present
 * refreshes its timeout, as kernels from 6.12 on do) and a line of the
 * change log ("add element pass4 192.0.2.7 timeout 3600s") that steps
 * take.  Timeouts run in virtual time: an element is gone once its
 * timeout has passed.  A delete of an element that is not there is
 * counted in stats.errors, as the kernel's ENOENT is.  nftset_replace
 * replaces whole sets in the model (the allow sets) and logs no change.
 * A writer closed with changes never flushed is trouble: the verdicts
 * behind them would never reach the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake.h"
#include "nftset.h"

#define FAKE_NFT_OPS		4096	/* queued changes at most (nftset.c) */

struct nftset {
	char table[NFTSET_TABLE_MAX];
	int fd;				/* for the loop; never readable */
	struct nftset_elem *pending;
	size_t npending;
	struct nftset_stats st;
};

struct fake_elem {
	struct fake_elem *next;
	char set[NFTSET_NAME_MAX];
	char key[64];			/* address, or ADDR/LEN */
	uint64_t timeout_ms;		/* 0: none */
	int64_t expires_ms;		/* INT64_MAX: never */
};

struct fake_change {
	struct fake_change *next;
	char text[256];
	bool taken;
};

static struct {
	struct fake_elem *elems;
	struct fake_change *head, *tail;
} fake_nft;

/* e's key as the model keeps it: its label after "VERB element SET "
 * (a map's without its value). */
static void
fake_nft_key(const struct nftset_elem *e, char *key, size_t len)
{
	char label[160];
	const char *p = nftset_elem_label(e, label, sizeof(label));
	size_t skip = strlen(e->del ? "delete element " : "add element ") +
	    strlen(e->set) + 1;

	snprintf(key, len, "%s", strlen(p) > skip ? p + skip : "?");
	/* A map's element is keyed by its key alone ("ADDR : PORT"). */
	if (e->datalen != 0 && (p = strstr(key, " : ")) != NULL)
		key[p - key] = '\0';
}

static struct fake_elem **
fake_nft_find(const char *set, const char *key)
{
	struct fake_elem **p;

	for (p = &fake_nft.elems; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->set, set) == 0 && strcmp((*p)->key, key) == 0)
			return p;
	return NULL;
}

/* Forget what has expired by now. */
static void
fake_nft_expire(void)
{
	int64_t now = fake_now_ms();

	for (struct fake_elem **p = &fake_nft.elems; *p != NULL;) {
		struct fake_elem *e = *p;

		if (e->expires_ms <= now) {
			*p = e->next;
			free(e);
		} else {
			p = &e->next;
		}
	}
}

static void
fake_nft_put(const char *set, const char *key, uint64_t timeout_ms)
{
	struct fake_elem **p = fake_nft_find(set, key), *e;

	if (p != NULL) {
		e = *p;
	} else if ((e = calloc(1, sizeof(*e))) != NULL) {
		snprintf(e->set, sizeof(e->set), "%s", set);
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->next = fake_nft.elems;
		fake_nft.elems = e;
	} else {
		fake_trouble("nft: calloc an element: %s", strerror(errno));
		return;
	}
	e->timeout_ms = timeout_ms;
	e->expires_ms = timeout_ms != 0 ? fake_now_ms() + (int64_t)timeout_ms :
	    INT64_MAX;
}

static void
fake_nft_log(const char *text)
{
	struct fake_change *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		fake_trouble("nft: calloc a change: %s", strerror(errno));
		return;
	}
	snprintf(c->text, sizeof(c->text), "%s", text);
	if (fake_nft.tail != NULL)
		fake_nft.tail->next = c;
	else
		fake_nft.head = c;
	fake_nft.tail = c;
}

/* One change reaches the model. */
static void
fake_nft_apply(struct nftset *s, const struct nftset_elem *e)
{
	char key[64], label[160], text[224];

	fake_nft_expire();
	fake_nft_key(e, key, sizeof(key));
	nftset_elem_label(e, label, sizeof(label));
	if (e->del) {
		struct fake_elem **p = fake_nft_find(e->set, key);

		snprintf(text, sizeof(text), "%s", label);
		if (p == NULL) {
			s->st.errors++;
			snprintf(text, sizeof(text), "%s (ENOENT)", label);
		} else {
			struct fake_elem *gone = *p;

			*p = gone->next;
			free(gone);
		}
	} else {
		fake_nft_put(e->set, key, e->timeout_ms);
		if (e->timeout_ms != 0)
			snprintf(text, sizeof(text), "%s timeout %llus", label,
			    (unsigned long long)(e->timeout_ms / 1000));
		else
			snprintf(text, sizeof(text), "%s", label);
	}
	fake_nft_log(text);
}

/* ---- nftset.h ---- */

struct nftset *
nftset_open(const char *table, char *err, size_t errlen)
{
	struct nftset *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->pending = calloc(FAKE_NFT_OPS,
	    sizeof(*s->pending))) == NULL) {
		snprintf(err, errlen, "nftset: table inet %s: calloc: %s",
		    table, strerror(errno));
		free(s);
		return NULL;
	}
	snprintf(s->table, sizeof(s->table), "%s", table);
	if ((s->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "nftset: table inet %s: eventfd: %s",
		    table, strerror(errno));
		free(s->pending);
		free(s);
		return NULL;
	}
	return s;
}

void
nftset_close(struct nftset *s)
{
	if (s == NULL)
		return;
	if (s->npending > 0)
		fake_trouble("nft: writer closed with %zu changes never sent",
		    s->npending);
	close(s->fd);
	free(s->pending);
	free(s);
}

int
nftset_fd(const struct nftset *s)
{
	return s->fd;
}

static int
fake_nft_queue(struct nftset *s, const struct nftset_elem *e)
{
	if (s->npending == FAKE_NFT_OPS && nftset_flush(s) == -1)
		return -1;
	s->pending[s->npending++] = *e;
	return 0;
}

int
nftset_add(struct nftset *s, const char *base, const struct addr *a,
    uint32_t timeout_s)
{
	struct nftset_elem e;

	if (nftset_elem_addr(&e, false, base, a, timeout_s) == -1)
		return -1;
	return fake_nft_queue(s, &e);
}

int
nftset_add_port(struct nftset *s, const char *base, const struct addr *a,
    uint16_t port, uint32_t timeout_s)
{
	struct nftset_elem e;

	if (nftset_elem_addr(&e, false, base, a, timeout_s) == -1)
		return -1;
	e.data[0] = (uint8_t)(port >> 8);
	e.data[1] = (uint8_t)port;
	e.datalen = 2;
	return fake_nft_queue(s, &e);
}

int
nftset_del(struct nftset *s, const char *base, const struct addr *a)
{
	struct nftset_elem e;

	if (nftset_elem_addr(&e, true, base, a, 0) == -1)
		return -1;
	return fake_nft_queue(s, &e);
}

int
nftset_add_prefix(struct nftset *s, const char *base, const struct prefix *p)
{
	struct nftset_elem e;

	if (nftset_elem_prefix(&e, false, base, p) == -1)
		return -1;
	return fake_nft_queue(s, &e);
}

int
nftset_del_prefix(struct nftset *s, const char *base, const struct prefix *p)
{
	struct nftset_elem e;

	if (nftset_elem_prefix(&e, true, base, p) == -1)
		return -1;
	return fake_nft_queue(s, &e);
}

int
nftset_flush(struct nftset *s)
{
	if (s->npending == 0)
		return 0;
	s->st.batches++;
	for (size_t i = 0; i < s->npending; i++) {
		s->st.elements++;
		fake_nft_apply(s, &s->pending[i]);
	}
	s->npending = 0;
	return 0;
}

void
nftset_process(struct nftset *s)
{
	(void)s;
}

int
nftset_sync(struct nftset *s)
{
	uint64_t errors = s->st.errors;

	(void)nftset_flush(s);
	if (s->st.errors != errors) {
		errno = EIO;
		return -1;
	}
	return 0;
}

const struct nftset_stats *
nftset_stats(const struct nftset *s)
{
	return &s->st;
}

int
nftset_replace(const char *table, const char *const *sets, size_t nsets,
    const struct nftset_elem *elems, size_t nelems, char *err, size_t errlen)
{
	(void)table;
	if (nelems > NFTSET_REPLACE_MAX) {
		snprintf(err, errlen, "nftset: %zu elements, at most %d",
		    nelems, NFTSET_REPLACE_MAX);
		errno = E2BIG;
		return -1;
	}
	for (size_t i = 0; i < nsets; i++)
		for (struct fake_elem **p = &fake_nft.elems; *p != NULL;) {
			struct fake_elem *e = *p;

			if (strcmp(e->set, sets[i]) == 0) {
				*p = e->next;
				free(e);
			} else {
				p = &e->next;
			}
		}
	for (size_t i = 0; i < nelems; i++) {
		char key[64];

		fake_nft_key(&elems[i], key, sizeof(key));
		fake_nft_put(elems[i].set, key, elems[i].timeout_ms);
	}
	return 0;
}

/* The builder: gathers, then replaces as nftset_replace above. */
struct nftset_replace {
	char table[NFTSET_TABLE_MAX];
	const char *const *sets;
	size_t nsets;
	struct nftset_elem *e;
	size_t n, cap;
	bool failed;
};

struct nftset_replace *
nftset_replace_begin(const char *table, const char *const *sets,
    size_t nsets, char *err, size_t errlen)
{
	struct nftset_replace *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "nftset: replace: malloc failed");
		return NULL;
	}
	snprintf(r->table, sizeof(r->table), "%s", table);
	r->sets = sets;	/* the callers' static arrays */
	r->nsets = nsets;
	return r;
}

int
nftset_replace_add(struct nftset_replace *r, const struct nftset_elem *e)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct nftset_elem *ne = realloc(r->e, cap * sizeof(*ne));

		if (ne == NULL) {
			r->failed = true;
			return -1;
		}
		r->e = ne;
		r->cap = cap;
	}
	r->e[r->n++] = *e;
	return 0;
}

void
nftset_replace_abort(struct nftset_replace *r)
{
	if (r == NULL)
		return;
	free(r->e);
	free(r);
}

int
nftset_replace_commit(struct nftset_replace *r, char *err, size_t errlen)
{
	int rc;

	if (r->failed) {
		snprintf(err, errlen, "nftset: replace: malloc failed");
		nftset_replace_abort(r);
		errno = ENOMEM;
		return -1;
	}
	rc = nftset_replace(r->table, r->sets, r->nsets, r->e, r->n, err,
	    errlen);
	nftset_replace_abort(r);
	return rc;
}

/* ---- steps ---- */

size_t
fake_nft_untaken(char *buf, size_t len)
{
	size_t off = 0, n = 0;

	buf[0] = '\0';
	for (struct fake_change *c = fake_nft.head; c != NULL; c = c->next) {
		int k;

		if (c->taken)
			continue;
		n++;
		k = snprintf(buf + off, len - off, "%s\"%s\"", off ? ", " : "",
		    c->text);
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	if (n == 0)
		snprintf(buf, len, "none");
	return n;
}

int
fake_nft_take(const char *text, char *why, size_t whylen)
{
	for (struct fake_change *c = fake_nft.head; c != NULL; c = c->next)
		if (!c->taken && strcmp(c->text, text) == 0) {
			c->taken = true;
			return 0;
		}
	{
		char rest[2048];

		fake_nft_untaken(rest, sizeof(rest));
		snprintf(why, whylen, "changes sent: %s", rest);
	}
	return -1;
}

int
fake_nft_has(const char *set, const char *key, uint64_t *timeout_ms,
    int64_t *left_ms)
{
	struct fake_elem **p;

	fake_nft_expire();
	if ((p = fake_nft_find(set, key)) == NULL)
		return 0;
	*timeout_ms = (*p)->timeout_ms;
	*left_ms = (*p)->expires_ms == INT64_MAX ? -1 :
	    (*p)->expires_ms - fake_now_ms();
	return 1;
}

size_t
fake_nft_list(const char *set, char *buf, size_t len)
{
	size_t off = 0, n = 0;

	fake_nft_expire();
	buf[0] = '\0';
	for (struct fake_elem *e = fake_nft.elems; e != NULL; e = e->next) {
		int k;

		if (strcmp(e->set, set) != 0)
			continue;
		n++;
		k = snprintf(buf + off, len - off, "%s%s", off ? " " : "",
		    e->key);
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	if (n == 0)
		snprintf(buf, len, "empty");
	return n;
}
