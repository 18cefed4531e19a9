/*
 * ptrclass_lex.c - tokens, the word lexicon and label shapes of PTR names.
 *
 * Exports ptrclass_lex_word() (classes of one token), ptrclass_lex_scan()
 * (split a host part into tokens and collect their classes) and
 * ptrclass_lex_shape() (MAC- and hex-id-shaped labels).  The lexicon is a
 * sorted constant table searched by bsearch: no allocation, no state.
 *
 * Tokens are split at dots, hyphens and underscores and at letter/digit
 * boundaries ("dhcp024-210" -> "dhcp" "024" "210").  A few short words
 * ("cm", "bb", "res", "nat") count only as a whole dot/hyphen part: "cm11"
 * is a shared-hosting server, "cm-" or ".cm." a cable-modem pool.  Some
 * words also count as the prefix or suffix of a longer token
 * ("athedsl", "mobiledyn", "dynamicip"); which ones is marked per word,
 * because "dyn" as a prefix would catch "dynamo".
 *
 * Mail-role words are matched more loosely (a token that contains "smtp",
 * "mail", "mta" or "relay", or starts with "mx", "out", "post" ...):
 * mail servers are named "mailgw", "resqmta", "bsmtp1", "mxchg03".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ptrclass.h"

#define W_WHOLE 0x100u		/* counts only as a whole dot/hyphen part */
#define W_PRE 0x200u		/* also as the prefix of a longer token */
#define W_SUF 0x400u		/* also as the suffix of a longer token */

#define S PTRCLASS_T_STRONG
#define D (PTRCLASS_T_STRONG | PTRCLASS_T_DYN)
#define ST PTRCLASS_T_STATIC
#define WK PTRCLASS_T_WEAK
#define CL PTRCLASS_T_CLOUD
#define H PTRCLASS_T_HOLDER

struct ptrclass_lex_entry {
	const char *w;
	uint8_t len;		/* strlen(w) */
	unsigned f;		/* PTRCLASS_T_* | W_* */
};

/* Sorted by strcmp: ptrclass_lex_word() bsearches it. */
static const struct ptrclass_lex_entry ptrclass_lex_words[] = {
	{ "abo", 3, S },
	{ "access", 6, S },
	{ "adsl", 4, S | W_PRE | W_SUF },
	{ "aftr", 4, S },
	{ "async", 5, D },
	{ "bb", 2, S | W_WHOLE },
	{ "bbcust", 6, S },
	{ "biz", 3, ST },
	{ "bras", 4, S },
	{ "bredband", 8, S },
	{ "broadband", 9, S | W_PRE | W_SUF },
	{ "business", 8, ST | W_SUF },
	{ "cable", 5, S | W_PRE | W_SUF },
	{ "catv", 4, S },
	{ "cdma", 4, S },
	{ "cgn", 3, S },
	{ "cgnat", 5, S },
	{ "client", 6, S },
	{ "clients", 7, S },
	{ "cloud", 5, WK },
	{ "cm", 2, S | W_WHOLE },
	{ "colo", 4, ST },
	{ "compute", 7, WK },
	{ "cpe", 3, S },
	{ "cust", 4, S },
	{ "customer", 8, S | W_PRE },
	{ "customers", 9, S | W_SUF },
	{ "dclient", 7, S },
	{ "ddns", 4, D },
	{ "dedicated", 9, ST },
	{ "dhcp", 4, D | W_PRE | W_SUF },
	{ "dial", 4, D },
	{ "dialin", 6, D },
	{ "dialup", 6, D | W_PRE | W_SUF },
	{ "dip", 3, D },
	{ "docsis", 6, S },
	{ "dsl", 3, S | W_PRE | W_SUF },
	{ "dyn", 3, D | W_SUF },
	{ "dynamic", 7, D | W_PRE | W_SUF },
	{ "dynamicip", 9, D },
	{ "dynip", 5, D },
	{ "eduroam", 7, S },
	{ "fbx", 3, S },
	{ "fiber", 5, S },
	{ "fibre", 5, S },
	{ "fios", 4, S },
	{ "fixed", 5, ST },
	{ "fttb", 4, S },
	{ "fttc", 4, S },
	{ "ftth", 4, S },
	{ "fttx", 4, S },
	{ "gpon", 4, S | W_SUF },
	{ "gprs", 4, S },
	{ "guest", 5, S },
	{ "hfc", 3, S },
	{ "home", 4, S },
	{ "host", 4, WK },
	{ "hosted", 6, WK | W_PRE },
	{ "hsd", 3, S },
	{ "hsi", 3, S },
	{ "instance", 8, WK },
	{ "ip", 2, WK },
	{ "ipv4", 4, WK },
	{ "ipv6", 4, WK },
	{ "kvm", 3, CL },
	{ "l2tp", 4, D },
	{ "leased", 6, ST },
	{ "lightspeed", 10, S },
	{ "localdomain", 11, H },
	{ "localhost", 9, H },
	{ "lte", 3, S },
	{ "member", 6, S },
	{ "members", 7, S },
	{ "mobile", 6, S | W_PRE },
	{ "modem", 5, S },
	{ "modemcable", 10, S },
	{ "nat", 3, S | W_WHOLE },
	{ "noptr", 5, H },
	{ "noreverse", 9, H },
	{ "notassigned", 11, H },
	{ "pool", 4, D | W_PRE | W_SUF },
	{ "ppp", 3, D | W_PRE | W_SUF },
	{ "pppoe", 5, D | W_PRE },
	{ "pptp", 4, D },
	{ "priv", 4, S },
	{ "ptr", 3, S | W_WHOLE },
	{ "ravpn", 5, S },
	{ "rdns", 4, S },
	{ "res", 3, S | W_WHOLE },
	{ "reserve", 7, H },
	{ "reserved", 8, H },
	{ "residential", 11, S },
	{ "resnet", 6, S },
	{ "rev", 3, S },
	{ "reverse", 7, S | H },
	{ "server", 6, WK },
	{ "sta", 3, ST | W_WHOLE },
	{ "static", 6, ST | W_PRE | W_SUF },
	{ "staticip", 8, ST },
	{ "subs", 4, S },
	{ "subscriber", 10, S },
	{ "umts", 4, S },
	{ "unallocated", 11, H },
	{ "unassigned", 10, H },
	{ "unknown", 7, H },
	{ "unused", 6, H },
	{ "user", 4, S | W_PRE },
	{ "users", 5, S },
	{ "usr", 3, S },
	{ "vds", 3, CL },
	{ "vdsl", 4, S | W_PRE | W_SUF },
	{ "vm", 2, CL },
	{ "vmi", 3, CL },
	{ "vpn", 3, S },
	{ "vps", 3, CL | W_PRE },
	{ "vs", 2, CL | W_WHOLE },
	{ "vserver", 7, CL },
	{ "wifi", 4, S },
	{ "wireless", 8, S },
	{ "wlan", 4, S },
	{ "xdsl", 4, S | W_PRE | W_SUF },
};

#undef S
#undef D
#undef ST
#undef WK
#undef CL
#undef H

struct ptrclass_lex_str {
	const char *w;
	uint8_t len;
};
#define L(s) { s, sizeof(s) - 1 }

/*
 * Words that make a token a mail role: contained anywhere / as a prefix.
 * ptrclass_lex_role() skips positions whose letter starts no word of the
 * first list (s m r e p): keep it in step when adding one.
 */
static const struct ptrclass_lex_str ptrclass_lex_role_in[] = {
	L("smtp"), L("mail"), L("mta"), L("relay"), L("exch"), L("postfix"),
	L("exim"), L("spam"), L("smarthost"),
};
static const struct ptrclass_lex_str ptrclass_lex_role_pre[] = {
	L("mx"), L("mout"), L("out"), L("post"), L("sender"), L("bounce"),
	L("esa"), L("fallback"), L("correo"), L("zimbra"), L("barracuda"),
	L("ironport"), L("mimecast"), L("newsletter"),
};
#undef L

#define PTRCLASS_LEX_N (sizeof(ptrclass_lex_words) / sizeof(ptrclass_lex_words[0]))

/*
 * Indexes of the words that also match as an affix, so the affix pass
 * does not walk the whole table (kept in step by the unit test).
 */
static const uint8_t ptrclass_lex_affix[] = {
	2, 10, 11, 12, 25, 26, 30, 33, 36, 37, 38, 51, 57, 73, 80, 81, 82, 97,
	106, 110, 114, 120,
};

/* Binary search of the sorted table, inline: bsearch's callback costs. */
static unsigned ptrclass_lex_lookup(const char *w, size_t len)
{
	size_t lo = 0, hi = PTRCLASS_LEX_N;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ptrclass_lex_entry *e = &ptrclass_lex_words[mid];
		int c = (unsigned char)w[0] - (unsigned char)e->w[0];

		if (c == 0) {
			size_t m = len < e->len ? len : e->len;

			c = memcmp(w, e->w, m);
			if (c == 0)
				c = len < e->len ? -1 : len > e->len ? 1 : 0;
		}
		if (c == 0)
			return e->f;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static bool ptrclass_lex_role(const char *w, size_t len)
{
	size_t i, j;

	/* one pass: only positions whose letter starts a role word */
	for (j = 0; j < len; j++) {
		if (w[j] != 's' && w[j] != 'm' && w[j] != 'r' && w[j] != 'e' &&
		    w[j] != 'p')
			continue;
		for (i = 0; i < sizeof(ptrclass_lex_role_in) /
		    sizeof(ptrclass_lex_role_in[0]); i++) {
			const struct ptrclass_lex_str *r = &ptrclass_lex_role_in[i];

			if (w[j] == r->w[0] && j + r->len <= len &&
			    memcmp(w + j, r->w, r->len) == 0)
				return true;
		}
	}
	for (i = 0; i < sizeof(ptrclass_lex_role_pre) /
	    sizeof(ptrclass_lex_role_pre[0]); i++) {
		const struct ptrclass_lex_str *r = &ptrclass_lex_role_pre[i];

		if (r->len <= len && w[0] == r->w[0] &&
		    memcmp(w, r->w, r->len) == 0)
			return true;
	}
	return false;
}

unsigned ptrclass_lex_word(const char *w, size_t len, bool whole, bool affix)
{
	unsigned f, out = 0;
	size_t i;

	if (len == 0 || w[0] < 'a' || w[0] > 'z')
		return 0;	/* digits carry no word class */
	if (ptrclass_lex_role(w, len))
		out |= PTRCLASS_T_ROLE;
	f = ptrclass_lex_lookup(w, len);
	if (f != 0 && (whole || !(f & W_WHOLE)))
		return out | (f & 0xffu);
	if (!affix || len < 5)
		return out;
	/*
	 * A mail-role word in the token outweighs an access word glued to it
	 * ("mailpool-mx-02" is a relay pool, not an address pool).
	 */
	if (out & PTRCLASS_T_ROLE)
		return out;
	for (i = 0; i < sizeof(ptrclass_lex_affix) /
	    sizeof(ptrclass_lex_affix[0]); i++) {
		const struct ptrclass_lex_entry *e =
		    &ptrclass_lex_words[ptrclass_lex_affix[i]];
		size_t wl = e->len;

		if (wl + 2 > len)
			continue;
		if (((e->f & W_PRE) && w[0] == e->w[0] &&
		    memcmp(w, e->w, wl) == 0) ||
		    ((e->f & W_SUF) && w[len - wl] == e->w[0] &&
		    memcmp(w + len - wl, e->w, wl) == 0))
			return out | (e->f & 0xffu);
	}
	return out;
}

static void ptrclass_lex_note(char *dst, const char *w, size_t len)
{
	if (dst[0] != '\0')
		return;
	if (len >= PTRCLASS_WORD_MAX)
		len = PTRCLASS_WORD_MAX - 1;
	memcpy(dst, w, len);
	dst[len] = '\0';
}

static bool ptrclass_lex_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

void ptrclass_lex_scan(const char *host, size_t len, bool strict,
    struct ptrclass_lexinfo *li)
{
	size_t i = 0;
	bool leftmost = true;
	bool label_counter = false, label_cloud = false;
	size_t cloud_at = 0, cloud_len = 0, label_at = 0;

	memset(li, 0, sizeof(*li));
	while (i <= len) {
		size_t part_end = i, j;

		/* one dot/hyphen/underscore part: host[i..part_end) */
		while (part_end < len && host[part_end] != '.' &&
		    host[part_end] != '-' && host[part_end] != '_')
			part_end++;
		for (j = i; j < part_end; ) {
			size_t k = j;
			bool dig = ptrclass_lex_isdigit(host[j]);
			unsigned f;

			while (k < part_end && ptrclass_lex_isdigit(host[k]) == dig)
				k++;
			if (dig) {
				/* a counter: four digits at least ("vmi1674562",
				   not the "vps1" someone named their own host) */
				if (k - j >= 4) {
					label_counter = true;
					if (leftmost)
						li->left_counter = true;
				}
			} else if (!strict || (j == i && k == part_end)) {
				f = ptrclass_lex_word(host + j, k - j,
				    j == i && k == part_end, !strict);
				if (f == 0)
					li->plain++;
				if (leftmost)
					li->left |= f;
				li->any |= f;
				if (f & PTRCLASS_T_STRONG)
					ptrclass_lex_note(li->strong, host + j, k - j);
				if (f & PTRCLASS_T_ROLE)
					ptrclass_lex_note(li->role, host + j, k - j);
				if (f & PTRCLASS_T_STATIC)
					ptrclass_lex_note(li->stat, host + j, k - j);
				if (f & PTRCLASS_T_HOLDER)
					ptrclass_lex_note(li->holder, host + j, k - j);
				/* "vs" / "vps" as a whole label of its own */
				if ((f & PTRCLASS_T_CLOUD) && j == label_at &&
				    (k == len || host[k] == '.'))
					ptrclass_lex_note(li->cloud_label, host + j,
					    k - j);
				if ((f & PTRCLASS_T_CLOUD) && !label_cloud) {
					label_cloud = true;
					cloud_at = j;
					cloud_len = k - j;
				}
			}
			j = k;
		}
		if (part_end >= len || host[part_end] == '.') {
			/* end of a label */
			if (label_cloud && label_counter) {
				li->cloud_counter = true;
				ptrclass_lex_note(li->cloud, host + cloud_at,
				    cloud_len);
			}
			leftmost = false;
			label_counter = label_cloud = false;
			label_at = part_end + 1;
		}
		if (part_end >= len)
			break;
		i = part_end + 1;
	}
}

static bool ptrclass_lex_ishex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

const char *ptrclass_lex_shape(const char *label, size_t len)
{
	size_t i = 0, best = 0;

	while (i < len) {
		size_t j = i, digits = 0, letters = 0;

		while (j < len && ptrclass_lex_ishex(label[j])) {
			if (ptrclass_lex_isdigit(label[j]))
				digits++;
			else
				letters++;
			j++;
		}
		if (digits >= 2 && letters >= 1 && j - i > best)
			best = j - i;
		i = j > i ? j : i + 1;
	}
	if (best >= 12)
		return "mac";
	if (best >= 8)
		return "hex";
	return NULL;
}

/* Letters of a dial-up access server's name: PortMaster, Ascend TNT/MAX ... */
static const struct ptrclass_lex_str ptrclass_lex_nas[] = {
	{ "pm", 2 }, { "tnt", 3 }, { "max", 3 }, { "ascend", 6 },
	{ "async", 5 }, { "tty", 3 }, { "port", 4 }, { "nas", 3 },
	{ "ras", 3 }, { "as", 2 }, { "ts", 2 },
};

/* Length of the run of s[0..len) in the class of digits (dig) or letters. */
static size_t ptrclass_lex_run(const char *s, size_t len, bool dig)
{
	size_t n = 0;

	while (n < len && (dig ? ptrclass_lex_isdigit(s[n]) :
	    (s[n] >= 'a' && s[n] <= 'z')))
		n++;
	return n;
}

/*
 * "pm3-6-39", "async7-9", "as5-1-23": an access server's word, its number
 * (1-3 digits), then one or more port numbers (hyphen and 1-3 digits) and
 * nothing else.  "as" and "ts" are short enough to be something else, so
 * they need two numbers after the server's.
 */
static bool ptrclass_lex_nasport(const char *l, size_t len)
{
	size_t a = ptrclass_lex_run(l, len, false), d, i, ports = 0;
	bool known = false;

	for (i = 0; i < sizeof(ptrclass_lex_nas) / sizeof(ptrclass_lex_nas[0]);
	    i++)
		if (ptrclass_lex_nas[i].len == a &&
		    memcmp(l, ptrclass_lex_nas[i].w, a) == 0) {
			known = true;
			break;
		}
	if (!known)
		return false;
	d = ptrclass_lex_run(l + a, len - a, true);
	if (d < 1 || d > 3)
		return false;
	for (i = a + d; i < len; i += d) {
		if (l[i] != '-')
			return false;
		i++;
		d = ptrclass_lex_run(l + i, len - i, true);
		if (d < 1 || d > 3)
			return false;
		ports++;
	}
	return ports >= (a == 2 && l[1] == 's' ? 2u : 1u);
}

const char *ptrclass_lex_access(const char *label, size_t len)
{
	size_t part = 0, a, d, t;

	if (ptrclass_lex_nasport(label, len))
		return "nas-port";
	while (part < len && label[part] != '-')
		part++;
	/*
	 * A customer or line code: letters, six digits or more, at most a
	 * few letters, as the first part of the leftmost label
	 * ("ntsitm268057", "cloudserver083745", "sub0000526929").  Five
	 * digits are not enough: shared-hosting servers count that far
	 * ("sv12123", "virusgw10001").
	 */
	a = ptrclass_lex_run(label, part, false);
	d = ptrclass_lex_run(label + a, part - a, true);
	t = ptrclass_lex_run(label + a + d, part - a - d, false);
	if (a >= 1 && a <= 12 && d >= 6 && t <= 4 && a + d + t == part)
		return "customer-code";
	/* the same with a hyphen before the digits, as the whole label
	   ("hwsrv-970840") */
	if (a >= 1 && a <= 12 && a == part && part + 1 < len &&
	    (d = ptrclass_lex_run(label + part + 1, len - part - 1, true)) >= 6 &&
	    part + 1 + d == len)
		return "customer-code";
	/* a bare counter of five digits or more ("93804.cloudwaysapps.") */
	if (a == 0 && d >= 5 && d == len)
		return "counter";
	return NULL;
}

const char *ptrclass_lex_selfcheck(void)
{
	size_t i, k = 0;

	for (i = 0; i < PTRCLASS_LEX_N; i++) {
		const struct ptrclass_lex_entry *e = &ptrclass_lex_words[i];

		if (strlen(e->w) != e->len)
			return e->w;	/* wrong length */
		if (i > 0 && strcmp(ptrclass_lex_words[i - 1].w, e->w) >= 0)
			return e->w;	/* out of order */
		if (e->f & (W_PRE | W_SUF)) {
			if (k == sizeof(ptrclass_lex_affix) ||
			    ptrclass_lex_affix[k] != i)
				return e->w;	/* missing from the affix index */
			k++;
		}
	}
	return k == sizeof(ptrclass_lex_affix) ? NULL : "affix index";
}
