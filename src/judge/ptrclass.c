/*
 * ptrclass.c - the generic-PTR classifier: context, provider table,
 * registered-domain split and the decision.
 *
 * Exports ptrclass_new_tables() / ptrclass_new() / ptrclass_free() (load
 * once at start-up: the Public Suffix List and the provider table: the
 * built-in one of ptrclass_builtin.c, a file, or both), ptrclass_classify()
 * and ptrclass_name().  The context is read-only after ptrclass_new(), so any
 * number of threads may classify with one context.  ptrclass_classify()
 * allocates nothing: the lower-cased name and the address encodings live on
 * its stack.
 *
 * The decision, in order (the man page smtpgatectl(8) describes it for
 * operators; keep the two in step):
 *   1. not an LDH host name                         -> invalid
 *   2. a name under in-addr.arpa / ip6.arpa          -> generic
 *   3. forward-confirmed and under a provider suffix -> named
 *   4. a mail-role word in the leftmost label, no access word in it and
 *      none elsewhere beside the address; or a role word anywhere, no
 *      access word at all and less than the whole address -> named
 *   5. the address (any encoding, strength 1-3)      -> generic
 *   6. (an access word counts unless it is the whole leftmost label, not
 *      a dynamic word, with no digit and no other access word in the
 *      host part: "usr.lcm.msu.ru")
 *      a placeholder word, a MAC/hex-id label shape, a dial-up port,
 *      customer-code or bare-counter leftmost label, an access-pool word,
 *      or a virtual-machine word with a counter       -> generic
 *   7. otherwise                                     -> named
 * A generic verdict becomes static-generic when a static/business word is
 * present and no dynamic-assignment word is.
 *
 * The Public Suffix List: tokens count only left of the registered domain
 * ("dyni.net" is not dynamic); the address search covers the whole name
 * but the top-level label (OVH puts the address in the registered domain).
 * Only the ICANN section is used: private entries such as
 * "ip.linodeusercontent.com" would swallow whole pool names.  The list is
 * loaded from Debian's publicsuffix file with psl_load_file(), which
 * answers a lookup about three times faster than the DAFSA form that
 * psl_latest()/psl_builtin() use (measured: ~100-160 ns against ~400 ns);
 * when the file is missing the compiled-in list (psl_builtin()) is used.
 */
#include <ctype.h>
#include <errno.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptrclass.h"

#define PTRCLASS_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"
#define PTRCLASS_PROVIDERS_MAX 100000

struct ptrclass {
	psl_ctx_t *psl_owned;		/* loaded by us, freed by us */
	const psl_ctx_t *psl;		/* the list in use */
	char **prov;			/* provider suffixes, sorted */
	size_t nprov;
	char *prov_blob;		/* storage of the suffix strings */
	const char **prov_hash;		/* open addressing over prov */
	size_t prov_mask;		/* slots - 1, slots a power of two */
};

/*
 * FNV-1a over s[0..len) read backwards, so the hashes of all the suffixes
 * of a name come out of one right-to-left pass (ptrclass_provider).
 */
static uint32_t ptrclass_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	while (len-- > 0)
		h = (h ^ (uint8_t)s[len]) * 16777619u;
	return h;
}

const char *ptrclass_name(enum ptr_class c)
{
	switch (c) {
	case PTR_NAMED: return "named";
	case PTR_GENERIC: return "generic";
	case PTR_STATIC_GENERIC: return "static-generic";
	case PTR_INVALID: return "invalid";
	}
	return "unknown";
}

static int ptrclass_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Check one provider suffix: lower-case LDH labels of 1-63 characters,
 * at least two labels.  Returns NULL or why not.
 */
static const char *ptrclass_suffix_bad(const char *s, size_t len)
{
	size_t i, lab = 0, dots = 0;

	if (len == 0)
		return "empty suffix";
	if (len > PTRCLASS_NAME_MAX)
		return "suffix longer than 253 characters";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0)
				return "empty label";
			if (s[i - 1] == '-')
				return "label ends with a hyphen";
			lab = 0;
			dots++;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return "not a lower-case LDH name";
		if (c == '-' && lab == 0)
			return "label starts with a hyphen";
		if (++lab > 63)
			return "label longer than 63 characters";
	}
	if (lab == 0)
		return "empty label";
	if (dots == 0)
		return "a whole top-level domain is not a provider";
	return NULL;
}

/* The provider suffixes as they are read, before ptrclass_index. */
struct ptrclass_build {
	size_t *offs;			/* each suffix's offset in prov_blob */
	size_t n, cap;
	size_t bloblen, blobcap;	/* of pc->prov_blob */
};

/*
 * Read one provider table from f (shown as name in messages): one suffix
 * per line, '#' starts a comment.  Appends to b.  0, or -1 with
 * "name:line: reason" and errno EINVAL (bad data) or the system's cause.
 */
static int ptrclass_read_table(struct ptrclass *pc, struct ptrclass_build *b,
    FILE *f, const char *name, char *err, size_t errlen)
{
	char *line = NULL;
	size_t linecap = 0, lineno = 0, i;
	ssize_t got;

	errno = 0;
	while ((got = getline(&line, &linecap, f)) != -1) {
		size_t len = (size_t)got;
		char *p = line, *e;
		const char *why;

		lineno++;
		if (len > 1024) {
			snprintf(err, errlen, "%s:%zu: line too long", name,
			    lineno);
			goto bad;
		}
		if (strlen(line) != len) {
			snprintf(err, errlen, "%s:%zu: NUL byte", name, lineno);
			goto bad;
		}
		if ((e = strchr(p, '#')) != NULL)
			*e = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		e = p;
		while (*e != '\0' && !isspace((unsigned char)*e))
			e++;
		len = (size_t)(e - p);
		while (*e == ' ' || *e == '\t' || *e == '\n' || *e == '\r')
			e++;
		if (len == 0 && *e == '\0')
			continue;
		if (*e != '\0') {
			snprintf(err, errlen, "%s:%zu: one suffix per line",
			    name, lineno);
			goto bad;
		}
		if (len > 0 && p[0] == '.') {	/* ".example.com" = "example.com" */
			p++;
			len--;
		}
		for (i = 0; i < len; i++)
			p[i] = (char)tolower((unsigned char)p[i]);
		if ((why = ptrclass_suffix_bad(p, len)) != NULL) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
			goto bad;
		}
		if (b->n == PTRCLASS_PROVIDERS_MAX) {
			snprintf(err, errlen, "%s:%zu: more than %d suffixes",
			    name, lineno, PTRCLASS_PROVIDERS_MAX);
			goto bad;
		}
		if (b->n == b->cap) {
			size_t ncap = b->cap ? b->cap * 2 : 64;
			size_t *n = realloc(b->offs, ncap * sizeof(*n));

			if (n == NULL)
				goto nomem;
			b->offs = n;
			b->cap = ncap;
		}
		if (b->bloblen + len + 1 > b->blobcap) {
			size_t ncap = b->blobcap ? b->blobcap * 2 : 4096;
			char *n;

			while (ncap < b->bloblen + len + 1)
				ncap *= 2;
			if ((n = realloc(pc->prov_blob, ncap)) == NULL)
				goto nomem;
			pc->prov_blob = n;
			b->blobcap = ncap;
		}
		memcpy(pc->prov_blob + b->bloblen, p, len);
		pc->prov_blob[b->bloblen + len] = '\0';
		b->offs[b->n++] = b->bloblen;
		b->bloblen += len + 1;
	}
	if (ferror(f)) {
		int e = errno;

		snprintf(err, errlen, "%s: read: %s", name, strerror(e));
		free(line);
		errno = e;
		return -1;
	}
	free(line);
	return 0;
nomem:
	snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
	free(line);
	errno = ENOMEM;
	return -1;
bad:
	free(line);
	errno = EINVAL;	/* the caller tells bad data from bad system */
	return -1;
}

/* The sorted list and the hash table over every suffix read into b. */
static int ptrclass_index(struct ptrclass *pc, const struct ptrclass_build *b,
    char *err, size_t errlen)
{
	size_t i;

	pc->nprov = b->n;
	if (pc->nprov == 0)
		return 0;
	if ((pc->prov = calloc(pc->nprov, sizeof(*pc->prov))) == NULL)
		goto nomem;
	for (i = 0; i < pc->nprov; i++)
		pc->prov[i] = pc->prov_blob + b->offs[i];
	qsort(pc->prov, pc->nprov, sizeof(*pc->prov), ptrclass_strcmp);
	pc->prov_mask = 1;
	while (pc->prov_mask < pc->nprov * 2)
		pc->prov_mask <<= 1;
	pc->prov_hash = calloc(pc->prov_mask, sizeof(*pc->prov_hash));
	if (pc->prov_hash == NULL)
		goto nomem;
	pc->prov_mask--;
	for (i = 0; i < pc->nprov; i++) {
		const char *p = pc->prov[i];
		size_t h = ptrclass_hash(p, strlen(p)) & pc->prov_mask;

		while (pc->prov_hash[h] != NULL &&
		    strcmp(pc->prov_hash[h], p) != 0)
			h = (h + 1) & pc->prov_mask;
		pc->prov_hash[h] = p;	/* duplicates share a slot */
	}
	return 0;
nomem:
	snprintf(err, errlen, "ptrclass: provider table: %s", strerror(ENOMEM));
	errno = ENOMEM;
	return -1;
}

/* The built-in table (ptrclass_builtin.c) into b. */
static int ptrclass_read_builtin(struct ptrclass *pc, struct ptrclass_build *b,
    char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)ptrclass_builtin_table,
	    strlen(ptrclass_builtin_table), "r");
	int rc;

	if (f == NULL) {
		int e = errno;

		snprintf(err, errlen, "%s: fmemopen: %s", PTRCLASS_BUILTIN_NAME,
		    strerror(e));
		errno = e;
		return -1;
	}
	rc = ptrclass_read_table(pc, b, f, PTRCLASS_BUILTIN_NAME, err, errlen);
	fclose(f);
	return rc;
}

/* The file at path into b. */
static int ptrclass_read_file(struct ptrclass *pc, struct ptrclass_build *b,
    const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc, e;

	if (f == NULL) {
		e = errno;
		snprintf(err, errlen, "%s: open: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	rc = ptrclass_read_table(pc, b, f, path, err, errlen);
	e = errno;
	fclose(f);
	errno = e;
	return rc;
}

struct ptrclass *ptrclass_new_tables(const char *providers, bool builtin,
    char *err, size_t errlen)
{
	struct ptrclass_build b = { 0 };
	struct ptrclass *pc;

	if (errlen > 0)
		err[0] = '\0';
	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		snprintf(err, errlen, "ptrclass: %s", strerror(ENOMEM));
		return NULL;
	}
	pc->psl_owned = psl_load_file(PTRCLASS_PSL_FILE);
	pc->psl = pc->psl_owned ? pc->psl_owned : psl_builtin();
	if (pc->psl == NULL) {
		snprintf(err, errlen, "psl_load_file %s: cannot load, and the "
		    "library has no built-in list", PTRCLASS_PSL_FILE);
		goto fail;
	}
	if (builtin && ptrclass_read_builtin(pc, &b, err, errlen) == -1)
		goto fail;
	if (providers != NULL &&
	    ptrclass_read_file(pc, &b, providers, err, errlen) == -1)
		goto fail;
	if (ptrclass_index(pc, &b, err, errlen) == -1)
		goto fail;
	free(b.offs);
	return pc;
fail: {
	int e = errno;

	free(b.offs);
	ptrclass_free(pc);
	errno = e;
	return NULL;
	}
}

struct ptrclass *ptrclass_new(const char *providers, char *err, size_t errlen)
{
	return ptrclass_new_tables(providers, false, err, errlen);
}

void ptrclass_free(struct ptrclass *pc)
{
	if (pc == NULL)
		return;
	psl_free(pc->psl_owned);
	free(pc->prov);
	free(pc->prov_hash);
	free(pc->prov_blob);
	free(pc);
}

/* Is name[0..len) (or a parent of it) in the provider table?  The suffix. */
static const char *ptrclass_provider(const struct ptrclass *pc,
    const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i = len;

	if (pc->nprov == 0)
		return NULL;
	while (i-- > 0) {
		h = (h ^ (uint8_t)name[i]) * 16777619u;
		if (i == 0 || name[i - 1] == '.') {
			size_t l = len - i, k = h & pc->prov_mask;
			const char *e;

			while ((e = pc->prov_hash[k]) != NULL) {
				if (strlen(e) == l && memcmp(e, name + i, l) == 0)
					return e;
				k = (k + 1) & pc->prov_mask;
			}
		}
	}
	return NULL;
}

/*
 * Lower-case name into buf, drop one trailing dot, check LDH.  Returns the
 * length, or -1 with why set.
 */
static int ptrclass_normalise(const char *name, char *buf, const char **why)
{
	size_t n = 0, lab = 0;
	const char *s;

	if (name == NULL || name[0] == '\0') {
		*why = "invalid:empty";
		return -1;
	}
	for (s = name; *s != '\0'; s++) {
		char c = *s;

		if (c == '.' && s[1] == '\0' && n > 0)
			break;		/* the root's dot */
		if (n == PTRCLASS_NAME_MAX) {
			*why = "invalid:too-long";
			return -1;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (lab == 0 || buf[n - 1] == '-') {
				*why = lab == 0 ? "invalid:empty-label" :
				    "invalid:non-ldh";
				return -1;
			}
			lab = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && lab > 0)) {
			if (++lab > 63) {
				*why = "invalid:label-too-long";
				return -1;
			}
		} else {
			*why = "invalid:non-ldh";
			return -1;
		}
		buf[n++] = c;
	}
	if (n == 0 || lab == 0 || buf[n - 1] == '-') {
		*why = n == 0 ? "invalid:empty" : lab == 0 ?
		    "invalid:empty-label" : "invalid:non-ldh";
		return -1;
	}
	buf[n] = '\0';
	if (memchr(buf, '.', n) == NULL) {
		*why = "invalid:single-label";
		return -1;
	}
	return (int)n;
}

static bool ptrclass_ends_with(const char *s, size_t len, const char *suf)
{
	size_t sl = strlen(suf);

	return len >= sl && memcmp(s + len - sl, suf, sl) == 0 &&
	    (len == sl || s[len - sl - 1] == '.');
}

/*
 * Offset of the registered domain in name (0 when the name is itself one,
 * or a public suffix).  Walks from the top-level label leftwards while the
 * suffix is public, so a lookup costs one negative query plus one per
 * public level, instead of one per label as psl_registrable_domain() does.
 */
static size_t ptrclass_regdom(const struct ptrclass *pc, const char *name,
    size_t len)
{
	size_t dots[PTRCLASS_NAME_MAX / 2 + 1];
	size_t nd = 0, i;

	for (i = 0; i < len; i++)
		if (name[i] == '.')
			dots[nd++] = i;
	/*
	 * name + dots[k] + 1 is the suffix of the last nd - k labels.  The
	 * top-level label is always public (the list's prevailing "*" rule),
	 * so the walk starts one label further left.
	 */
	if (nd < 2)
		return 0;
	for (i = nd - 1; i-- > 0; ) {
		if (!psl_is_public_suffix2(pc->psl, name + dots[i] + 1,
		    PSL_TYPE_ICANN))
			return dots[i] + 1;
	}
	return 0;
}

/* Append s to the reason, truncating (snprintf costs too much here). */
static void ptrclass_reason_add(struct ptr_verdict *out, const char *s)
{
	size_t n = strlen(out->reason), l = strlen(s);

	if (n + l >= sizeof(out->reason))
		l = sizeof(out->reason) - 1 - n;
	memcpy(out->reason + n, s, l);
	out->reason[n + l] = '\0';
}

static bool ptrclass_has_digit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return true;
	return false;
}

/*
 * Is the access word only a host's own name?  The leftmost label is the
 * word and nothing else, it is no dynamic-assignment word, the host part
 * holds no digit and no other access word: "usr.lcm.msu.ru",
 * "dsl.unpythonic.net" name one machine each, where "dsl-12.", "dhcp.",
 * "apersaud.dhcp." or "home.dsl." name pools.
 */
static bool ptrclass_lone_word(const char *buf, size_t leftlen, size_t host,
    const struct ptrclass_lexinfo *li)
{
	struct ptrclass_lexinfo rest;

	if (host == 0 || (li->any & PTRCLASS_T_DYN) ||
	    leftlen != strlen(li->strong) ||
	    memcmp(buf, li->strong, leftlen) != 0 ||
	    ptrclass_has_digit(buf, host))
		return false;
	if (leftlen + 1 >= host)
		return true;	/* the word is the whole host part */
	ptrclass_lex_scan(buf + leftlen + 1, host - leftlen - 2, false, &rest);
	return !(rest.any & PTRCLASS_T_STRONG);
}

/* Without a context: the last two labels, a guess for tools and tests. */
static size_t ptrclass_regdom_guess(const char *name, size_t len)
{
	size_t i = len, dots = 0;

	while (i-- > 0)
		if (name[i] == '.' && ++dots == 2)
			return i + 1;
	return 0;
}

static void ptrclass_verdict(struct ptr_verdict *out, enum ptr_class cls,
    const char *reason, const char *arg)
{
	out->cls = cls;
	out->reason[0] = '\0';
	ptrclass_reason_add(out, reason);
	if (arg != NULL && arg[0] != '\0') {
		ptrclass_reason_add(out, ":");
		ptrclass_reason_add(out, arg);
	}
}

/* Generic, or static-generic when only static/business words say so. */
static void ptrclass_generic(struct ptr_verdict *out,
    const struct ptrclass_lexinfo *li, const char *reason, const char *arg)
{
	ptrclass_verdict(out, PTR_GENERIC, reason, arg);
	if (strcmp(reason, "token") != 0 && li->strong[0] != '\0') {
		ptrclass_reason_add(out, "+token:");
		ptrclass_reason_add(out, li->strong);
	}
	if ((li->any & PTRCLASS_T_STATIC) && !(li->any & PTRCLASS_T_DYN)) {
		out->cls = PTR_STATIC_GENERIC;
		if (strcmp(reason, "token") == 0 && strcmp(arg, li->stat) == 0)
			return;
		ptrclass_reason_add(out, "+static:");
		ptrclass_reason_add(out, li->stat);
	}
}

void ptrclass_classify(const struct ptrclass *pc, const char *name,
    const struct addr *client, bool confirmed, struct ptr_verdict *out)
{
	char buf[PTRCLASS_NAME_MAX + 1];
	const char *why = "invalid", *prov, *shape, *dot;
	struct ptrclass_ip ip;
	struct ptrclass_iphit hit;
	struct ptrclass_lexinfo li;
	size_t len, host, searchlen, leftlen;
	int n;

	if ((n = ptrclass_normalise(name, buf, &why)) < 0) {
		ptrclass_verdict(out, PTR_INVALID, why, NULL);
		return;
	}
	len = (size_t)n;
	if (ptrclass_ends_with(buf, len, "in-addr.arpa") ||
	    ptrclass_ends_with(buf, len, "ip6.arpa")) {
		ptrclass_verdict(out, PTR_GENERIC, "arpa-name", NULL);
		return;
	}
	if (confirmed && pc != NULL && (prov = ptrclass_provider(pc, buf, len))) {
		ptrclass_verdict(out, PTR_NAMED, "provider", prov);
		return;
	}

	/* Tokens: the host part, left of the registered domain. */
	host = pc != NULL ? ptrclass_regdom(pc, buf, len) :
	    ptrclass_regdom_guess(buf, len);
	if (host > 0) {
		ptrclass_lex_scan(buf, host - 1, false, &li);
	} else {
		/* The name is a registered domain: its own label, strictly. */
		dot = memchr(buf, '.', len);
		ptrclass_lex_scan(buf, (size_t)(dot - buf), true, &li);
	}
	dot = memchr(buf, '.', len);
	leftlen = (size_t)(dot - buf);

	/* The address: the whole name but its top-level label. */
	searchlen = (size_t)(strrchr(buf, '.') - buf);
	ptrclass_ip_prepare(client, &ip);
	ptrclass_ip_search(&ip, buf, searchlen, &hit);

	/*
	 * Mail-role exemption.  A role word in the leftmost label names a mail
	 * server even with the whole address beside it ("mail-1-2-3-4.corp"),
	 * unless an access word sits in that label too, or elsewhere beside
	 * the address ("mail-1-2-3-4.dsl." is a pool; "mail.home.pl" is not).
	 * A role word further right ("a4-3.smtp-out.") counts only with no
	 * access word at all and the address not all there
	 * ("66-220-144-178.mail-mxout." stays generic unless the provider
	 * table vouches for it).  A placeholder word vetoes both.
	 */
	if (!(li.any & PTRCLASS_T_HOLDER) &&
	    (((li.left & PTRCLASS_T_ROLE) && !(li.left & PTRCLASS_T_STRONG) &&
	    !((li.any & PTRCLASS_T_STRONG) && hit.strength > 0)) ||
	    ((li.any & PTRCLASS_T_ROLE) && !(li.any & PTRCLASS_T_STRONG) &&
	    hit.strength < 3))) {
		ptrclass_verdict(out, PTR_NAMED, "role", li.role);
		return;
	}
	if (hit.strength > 0) {
		ptrclass_generic(out, &li, hit.how, NULL);
		return;
	}
	if (li.any & PTRCLASS_T_HOLDER) {
		ptrclass_generic(out, &li, "placeholder", li.holder);
		return;
	}
	/* a registered domain's own label is a brand, whatever its shape */
	if (host > 0 && (shape = ptrclass_lex_shape(buf, leftlen)) != NULL) {
		ptrclass_generic(out, &li, "shape", shape);
		return;
	}
	if ((li.any & PTRCLASS_T_STRONG) &&
	    !ptrclass_lone_word(buf, leftlen, host, &li)) {
		ptrclass_generic(out, &li, "token", li.strong);
		return;
	}
	if (li.cloud_counter) {
		ptrclass_generic(out, &li, "cloud", li.cloud);
		return;
	}
	if (li.cloud_label[0] != '\0' && li.left_counter) {
		/* "os3-369-17602.vs.sakura.ne.jp": a counter under ".vs." */
		ptrclass_generic(out, &li, "cloud", li.cloud_label);
		return;
	}
	/*
	 * A dial-up port, a customer code, a bare counter, leftmost.  A
	 * code or counter counts only as the whole host part, right under
	 * the registered domain ("ps379014.dreamhost.com"): deeper down a
	 * company numbers its own servers ("frapeml500005.china.huawei.com").
	 */
	if (host > 0 && (shape = ptrclass_lex_access(buf, leftlen)) != NULL &&
	    (strcmp(shape, "nas-port") == 0 || leftlen + 1 == host)) {
		ptrclass_generic(out, &li, "shape", shape);
		return;
	}
	if ((li.any & PTRCLASS_T_STATIC) && (host == 0 ||
	    (li.plain == 0 && !ptrclass_has_digit(buf, host)))) {
		/*
		 * "static-a4telecom.com.br", "static.vnpt.vn": a pool's
		 * placeholder, nothing but a static word before the domain.
		 * With a number beside it the word names a server
		 * ("business122-5.web-hosting.com", shared hosting).
		 */
		ptrclass_generic(out, &li, "token", li.stat);
		return;
	}
	ptrclass_verdict(out, PTR_NAMED, "no-evidence", NULL);
}
