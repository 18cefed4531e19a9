/*
 * ctl_tally.c - the counting behind `smtpgatectl report` and the refused
 * set of `suspects`: pure functions over the last attempts and outcomes
 * that ctl_journal.c fetched (or a test built), no SQL, no I/O.
 *
 * The definitions are the journal contract's (docs/smtpgatectl.8, REPORT):
 * per address its last gate attempt G and last sniff attempt S in the
 * window; it triggered rule R when R is among the findings of G or S; it
 * was accepted when (no G, or G.accepted, or a 'retried' outcome for it at
 * t >= G.t) and (no S, or S.accepted), or an 'allowed' outcome whose
 * prefix contains it at t >= the later of G.t and S.t.  The recent window
 * is a suffix of the whole one, so an address's last attempts in it are
 * the whole window's, those older than its start dropped.
 */
#define _GNU_SOURCE	/* qsort_r */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_journal.h"

struct ctl_addr *
ctl_tally_addr(struct ctl_journal_set *set, const char *text)
{
	struct ctl_addr *a;

	if (set->naddr > 0 && strcmp(set->addr[set->naddr - 1].text,
	    text) == 0)
		return &set->addr[set->naddr - 1];
	if (set->naddr == set->capaddr) {
		size_t cap = set->capaddr ? set->capaddr * 2 : 256;

		if ((a = realloc(set->addr, cap * sizeof(*a))) == NULL)
			return NULL;
		set->addr = a;
		set->capaddr = cap;
	}
	a = &set->addr[set->naddr];
	memset(a, 0, sizeof(*a));
	if ((a->text = strdup(text)) == NULL)
		return NULL;
	a->parsed = addr_parse(text, &a->a) == 0;
	set->naddr++;
	return a;
}

int
ctl_tally_finding(struct ctl_journal_set *set, struct ctl_last *l,
    const char *rule)
{
	size_t r, k;

	for (r = 0; r < set->nrule; r++)
		if (strcmp(set->rule[r], rule) == 0)
			break;
	if (r == set->nrule) {
		if (set->nrule == set->caprule) {
			size_t cap = set->caprule ? set->caprule * 2 : 32;
			char **n = realloc(set->rule, cap * sizeof(*n));

			if (n == NULL)
				return -1;
			set->rule = n;
			set->caprule = cap;
		}
		if ((set->rule[r] = strdup(rule)) == NULL)
			return -1;
		set->nrule++;
	}
	if (l->nrule == 0)
		l->rule0 = set->nrule_ix;
	for (k = 0; k < l->nrule; k++)	/* a rule twice in one attempt */
		if (set->rule_ix[l->rule0 + k] == r)
			return 0;
	if (set->nrule_ix == set->caprule_ix) {
		size_t cap = set->caprule_ix ? set->caprule_ix * 2 : 1024;
		size_t *n = realloc(set->rule_ix, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		set->rule_ix = n;
		set->caprule_ix = cap;
	}
	set->rule_ix[set->nrule_ix++] = r;
	l->nrule++;
	return 0;
}

int
ctl_tally_outcome(struct ctl_journal_set *set, const char *prefix,
    const char *kind, int64_t t)
{
	struct ctl_outcome *o;
	enum ctl_outcome_kind k;

	if (strcmp(kind, "retried") == 0)
		k = CTL_OUT_RETRIED;
	else if (strcmp(kind, "allowed") == 0)
		k = CTL_OUT_ALLOWED;
	else
		return 0;	/* a kind of a later schema: not ours */
	if (set->nout == set->capout) {
		size_t cap = set->capout ? set->capout * 2 : 64;

		if ((o = realloc(set->out, cap * sizeof(*o))) == NULL)
			return -1;
		set->out = o;
		set->capout = cap;
	}
	o = &set->out[set->nout];
	memset(o, 0, sizeof(*o));
	if (prefix_parse(prefix, &o->p, NULL) == -1) {
		set->bad_outcomes++;
		return 0;
	}
	o->kind = k;
	o->t = t;
	set->nout++;
	return 0;
}

void
ctl_tally_last_free(struct ctl_last *l)
{
	free(l->verdict);
	free(l->reason);
	free(l->ptr);
	free(l->ptr_class);
	free(l->fcrdns);
	free(l->helo);
	free(l->spf_helo);
	memset(l, 0, sizeof(*l));
}

static int
ctl_tally_cmp_addr(const void *x, const void *y)
{
	return strcmp(((const struct ctl_addr *)x)->text,
	    ((const struct ctl_addr *)y)->text);
}

static int
ctl_tally_cmp_out(const void *x, const void *y)
{
	const struct ctl_outcome *a = x, *b = y;
	int c;

	if (a->p.a.family != b->p.a.family)
		return a->p.a.family < b->p.a.family ? -1 : 1;
	if (a->p.len != b->p.len)
		return a->p.len < b->p.len ? -1 : 1;
	if ((c = memcmp(a->p.a.b, b->p.a.b, sizeof(a->p.a.b))) != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return 0;
}

/* qsort of rule names, keeping where each came from. */
struct ctl_tally_name {
	char *name;
	size_t old;
};

static int
ctl_tally_cmp_name(const void *x, const void *y)
{
	return strcmp(((const struct ctl_tally_name *)x)->name,
	    ((const struct ctl_tally_name *)y)->name);
}

/* Keep the later of two last attempts of one daemon in *into. */
static void
ctl_tally_merge(struct ctl_last *into, struct ctl_last *from)
{
	struct ctl_last tmp;

	if (!from->present)
		return;
	if (!into->present || from->t > into->t ||
	    (from->t == into->t && from->id < into->id)) {
		tmp = *into;
		*into = *from;
		*from = tmp;
	}
	ctl_tally_last_free(from);
}

int
ctl_tally_finish(struct ctl_journal_set *set)
{
	struct ctl_tally_name *nm = NULL;
	size_t *map = NULL, i, w;

	if (set->naddr > 1)	/* qsort of NULL, even for 0, is undefined */
		qsort(set->addr, set->naddr, sizeof(*set->addr),
		    ctl_tally_cmp_addr);
	/* One address met twice (its gate and sniff rows apart): one entry. */
	for (i = 0, w = 0; i < set->naddr; i++) {
		struct ctl_addr *a = &set->addr[i];

		if (w > 0 && strcmp(set->addr[w - 1].text, a->text) == 0) {
			ctl_tally_merge(&set->addr[w - 1].g, &a->g);
			ctl_tally_merge(&set->addr[w - 1].s, &a->s);
			free(a->text);
			continue;
		}
		set->addr[w++] = *a;
	}
	set->naddr = w;
	if (set->nrule > 0) {
		if ((nm = calloc(set->nrule, sizeof(*nm))) == NULL ||
		    (map = calloc(set->nrule, sizeof(*map))) == NULL) {
			free(nm);
			return -1;
		}
		for (i = 0; i < set->nrule; i++) {
			nm[i].name = set->rule[i];
			nm[i].old = i;
		}
		qsort(nm, set->nrule, sizeof(*nm), ctl_tally_cmp_name);
		for (i = 0; i < set->nrule; i++) {
			set->rule[i] = nm[i].name;
			map[nm[i].old] = i;
		}
		for (i = 0; i < set->nrule_ix; i++)
			set->rule_ix[i] = map[set->rule_ix[i]];
		free(nm);
		free(map);
	}
	/* Outcomes: one per (prefix, kind), its latest time. */
	if (set->nout > 1)
		qsort(set->out, set->nout, sizeof(*set->out),
		    ctl_tally_cmp_out);
	for (i = 0, w = 0; i < set->nout; i++) {
		if (w > 0 && ctl_tally_cmp_out(&set->out[w - 1],
		    &set->out[i]) == 0) {
			if (set->out[i].t > set->out[w - 1].t)
				set->out[w - 1].t = set->out[i].t;
			continue;
		}
		set->out[w++] = set->out[i];
	}
	set->nout = w;
	memset(set->outlen, 0, sizeof(set->outlen));
	for (i = 0; i < set->nout; i++)
		set->outlen[set->out[i].p.a.family == AF_INET6][set->out[i].p.len]++;
	return 0;
}

int64_t
ctl_tally_outcome_t(const struct ctl_journal_set *set, const struct addr *a,
    enum ctl_outcome_kind kind)
{
	int fam = a->family == AF_INET6, width = fam ? 128 : 32;
	int64_t best = INT64_MIN;
	struct ctl_outcome key;
	const struct ctl_outcome *hit;

	if (set->nout == 0)
		return INT64_MIN;
	for (int len = 0; len <= width; len++) {
		if (set->outlen[fam][len] == 0)
			continue;
		memset(&key, 0, sizeof(key));
		addr_mask(&key.p.a, a, (unsigned)len);
		key.p.a.family = a->family;
		key.p.len = (uint8_t)len;
		key.kind = kind;
		hit = bsearch(&key, set->out, set->nout, sizeof(*set->out),
		    ctl_tally_cmp_out);
		if (hit != NULL && hit->t > best)
			best = hit->t;
	}
	return best;
}

static bool
ctl_tally_has(const struct ctl_last *l, int64_t lo)
{
	return l->present && l->t >= lo;
}

bool
ctl_tally_in(const struct ctl_addr *a, int64_t lo)
{
	return ctl_tally_has(&a->g, lo) || ctl_tally_has(&a->s, lo);
}

bool
ctl_tally_accepted(const struct ctl_journal_set *set,
    const struct ctl_addr *a, int64_t lo)
{
	bool g = ctl_tally_has(&a->g, lo), s = ctl_tally_has(&a->s, lo);
	bool gate_ok, sniff_ok;
	int64_t last;

	if (!g && !s)
		return false;
	gate_ok = !g || a->g.accepted || (a->parsed &&
	    ctl_tally_outcome_t(set, &a->a, CTL_OUT_RETRIED) >= a->g.t);
	sniff_ok = !s || a->s.accepted;
	if (gate_ok && sniff_ok)
		return true;
	if (!a->parsed)
		return false;
	last = !g ? a->s.t : !s ? a->g.t : a->g.t > a->s.t ? a->g.t : a->s.t;
	return ctl_tally_outcome_t(set, &a->a, CTL_OUT_ALLOWED) >= last;
}

static bool
ctl_tally_last_has(const struct ctl_journal_set *set,
    const struct ctl_last *l, size_t r)
{
	for (size_t k = 0; k < l->nrule; k++)
		if (set->rule_ix[l->rule0 + k] == r)
			return true;
	return false;
}

bool
ctl_tally_triggered(const struct ctl_journal_set *set,
    const struct ctl_addr *a, size_t r, int64_t lo)
{
	return (ctl_tally_has(&a->g, lo) && ctl_tally_last_has(set, &a->g, r)) ||
	    (ctl_tally_has(&a->s, lo) && ctl_tally_last_has(set, &a->s, r));
}

static int
ctl_tally_cmp_row(const void *x, const void *y, void *names)
{
	const struct ctl_tally_row *a = x, *b = y;
	char **rule = names;

	if (a->all.triggered != b->all.triggered)
		return a->all.triggered > b->all.triggered ? -1 : 1;
	if (a->recent.triggered != b->recent.triggered)
		return a->recent.triggered > b->recent.triggered ? -1 : 1;
	return strcmp(rule[a->rule], rule[b->rule]);
}

/* One address into the counts of one window. */
static void
ctl_tally_one(const struct ctl_journal_set *set, const struct ctl_addr *a,
    int64_t lo, struct ctl_tally_total *total, struct ctl_tally_row *row,
    bool recent, unsigned char *seen)
{
	const struct ctl_last *l[2] = { &a->g, &a->s };
	bool acc;

	if (!ctl_tally_in(a, lo))
		return;
	acc = ctl_tally_accepted(set, a, lo);
	total->addresses++;
	if (acc)
		total->accepted++;
	for (int d = 0; d < 2; d++) {
		if (!ctl_tally_has(l[d], lo))
			continue;
		for (size_t k = 0; k < l[d]->nrule; k++) {
			size_t r = set->rule_ix[l[d]->rule0 + k];
			struct ctl_tally_count *c;

			if (seen[r])	/* in G and in S: counted once */
				continue;
			seen[r] = 1;
			c = recent ? &row[r].recent : &row[r].all;
			c->triggered++;
			if (acc)
				c->accepted++;
		}
	}
	for (int d = 0; d < 2; d++)
		for (size_t k = 0; k < l[d]->nrule; k++)
			seen[set->rule_ix[l[d]->rule0 + k]] = 0;
}

int
ctl_tally_count(const struct ctl_journal_set *set, int64_t recent_lo,
    struct ctl_tally *out)
{
	unsigned char *seen, none = 0;

	memset(out, 0, sizeof(*out));
	if (set->nrule > 0) {
		out->row = calloc(set->nrule, sizeof(*out->row));
		seen = calloc(set->nrule, 1);
		if (out->row == NULL || seen == NULL) {
			free(out->row);
			free(seen);
			out->row = NULL;
			return -1;
		}
	} else {
		seen = &none;
	}
	out->nrow = set->nrule;
	for (size_t r = 0; r < set->nrule; r++)
		out->row[r].rule = r;
	for (size_t i = 0; i < set->naddr; i++) {
		ctl_tally_one(set, &set->addr[i], set->lo, &out->all, out->row,
		    false, seen);
		if (recent_lo >= set->lo)
			ctl_tally_one(set, &set->addr[i], recent_lo,
			    &out->recent, out->row, true, seen);
	}
	if (set->nrule > 0) {
		free(seen);
		qsort_r(out->row, out->nrow, sizeof(*out->row),
		    ctl_tally_cmp_row, set->rule);
	}
	return 0;
}

void
ctl_tally_free(struct ctl_tally *t)
{
	free(t->row);
	memset(t, 0, sizeof(*t));
}
