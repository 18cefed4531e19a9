/*
 * ptrclass_ip.c - find the client's address encoded in a PTR name.
 *
 * Exports ptrclass_ip_prepare() (the address in every encoding, once per
 * call, on the caller's stack) and ptrclass_ip_search() (a bounded scan of
 * the name).  No allocation, no regex engine, no global state.
 *
 * IPv4 encodings found, each as a strength (3 whole address, 2 three octets
 * or all four scattered, 1 the last two octets):
 *   - decimal octets forward or reversed, each octet with or without zero
 *     padding to three digits, across digit runs separated by at most
 *     PTRCLASS_IP_GAP non-digit characters ("1-2-3-4", "4.3.2.1",
 *     "210.red-80-36-22", "pool92-176-185") or concatenated in one run
 *     ("089144192089", "8510023760", "37200-174");
 *   - a three-octet run plus the fourth octet as a digit run elsewhere
 *     ("142.pool92-176-185": rotated);
 *   - all four octets as distinct digit runs anywhere (scattered);
 *   - the 32-bit decimal integer as a whole digit run;
 *   - in the leftmost label, a counter of 6+ digits ending in the last
 *     octet zero-padded to three digits ("p3068147-", strength 1);
 *   - 8 hex digits forward or reversed among the name's hex characters
 *     ("p5b071a6f", "c-fa9b205c", "0x934e1fc8"), or across all-hex
 *     labels that drop an octet's leading zero ("a.bd.3ea9.");
 *   - the last two octets as 4 hex digits behind one letter, as the whole
 *     leftmost label ("x6432.x.pppool.de", strength 1).
 * IPv6: the client's /64 as 16 nibbles forward or reversed among the hex
 * characters, or as four hex groups separated by one character each (a
 * doubled separator standing for "::", so "2001-db8-1234--5" holds
 * 2001:db8:1234:0::/64).
 *
 * Why digit runs must be consumed whole: "smtpcmd02101" holds "101" (the
 * last octet of its address) but is not built from the address; a match
 * must start and end at run boundaries to be evidence.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ptrclass.h"

#define PTRCLASS_IP_GAP 5	/* longest separator inside an encoding */
#define PTRCLASS_IP_RUNS 48	/* digit runs considered (a 253-byte name
				   holds at most 127) */

struct ptrclass_ip_run {
	uint8_t off;		/* offset in the name */
	uint8_t len;		/* digits */
};

/* A search over the runs of one name. */
struct ptrclass_ip_scan {
	const char *s;
	const struct ptrclass_ip_run *r;
	int nr;
	const uint8_t *seq;	/* octets in the order searched */
	int best;		/* most octets matched from the start state */
	int best_end;		/* run where that match ended */
};

/* Decimal digits of v into buf (11 bytes); snprintf is slow here. */
static void ptrclass_ip_utoa(uint32_t v, char *buf)
{
	char tmp[10];
	int n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

void ptrclass_ip_prepare(const struct addr *a, struct ptrclass_ip *ip)
{
	static const char hx[] = "0123456789abcdef";
	int i;

	memset(ip, 0, sizeof(*ip));
	if (a == NULL)
		return;
	if (a->family == AF_INET) {
		ip->family = AF_INET;
		memcpy(ip->o, a->b, 4);
		for (i = 0; i < 4; i++) {
			ip->hex[0][2 * i] = hx[a->b[i] >> 4];
			ip->hex[0][2 * i + 1] = hx[a->b[i] & 15];
			ip->hex[1][2 * (3 - i)] = hx[a->b[i] >> 4];
			ip->hex[1][2 * (3 - i) + 1] = hx[a->b[i] & 15];
		}
		ptrclass_ip_utoa((uint32_t)a->b[0] << 24 |
		    (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3],
		    ip->integer);
	} else if (a->family == AF_INET6) {
		ip->family = AF_INET6;
		for (i = 0; i < 4; i++)
			ip->g[i] = (uint16_t)(a->b[2 * i] << 8 | a->b[2 * i + 1]);
		for (i = 0; i < 8; i++) {
			ip->nib[0][2 * i] = hx[a->b[i] >> 4];
			ip->nib[0][2 * i + 1] = hx[a->b[i] & 15];
			ip->nib[1][15 - 2 * i] = hx[a->b[i] >> 4];
			ip->nib[1][14 - 2 * i] = hx[a->b[i] & 15];
		}
	}
}

static int ptrclass_ip_ndigits(unsigned v)
{
	return v >= 100 ? 3 : v >= 10 ? 2 : 1;
}

/* Do the w digits at d spell octet v (zero-padded to w)? */
static bool ptrclass_ip_octet_at(const char *d, int w, unsigned v)
{
	unsigned x = 0;
	int i;

	if (w < ptrclass_ip_ndigits(v) || w > 3)
		return false;
	for (i = 0; i < w; i++)
		x = x * 10 + (unsigned)(d[i] - '0');
	return x == v;
}

/*
 * Depth-first: we are at digit pos of run i and want octet k next; k0
 * octets were wanted at the start.  Records the longest chain that ends
 * exactly at the end of a run.
 */
static void ptrclass_ip_chain(struct ptrclass_ip_scan *sc, int i, int pos,
    int k, int k0)
{
	const struct ptrclass_ip_run *r = &sc->r[i];
	int w;

	if (pos == r->len) {
		if (k - k0 > sc->best) {
			sc->best = k - k0;
			sc->best_end = i;
		}
		if (k < 4 && i + 1 < sc->nr &&
		    sc->r[i + 1].off - (r->off + r->len) <= PTRCLASS_IP_GAP)
			ptrclass_ip_chain(sc, i + 1, 0, k, k0);
		return;
	}
	if (k == 4)
		return;
	for (w = 1; w <= 3 && pos + w <= r->len; w++)
		if (ptrclass_ip_octet_at(sc->s + r->off + pos, w, sc->seq[k]))
			ptrclass_ip_chain(sc, i, pos + w, k + 1, k0);
}

/* Name the separators between runs first..last: "dashed", "dotted" ... */
static const char *ptrclass_ip_style(const char *s,
    const struct ptrclass_ip_run *r, int first, int last)
{
	bool dash = true, dot = true;
	int i, j;

	if (first == last)
		return r[first].len == 12 ? "padded" : "concat";
	for (i = first; i < last; i++) {
		int from = r[i].off + r[i].len, to = r[i + 1].off;

		if (to - from != 1)
			dash = dot = false;
		for (j = from; j < to; j++) {
			if (s[j] != '-')
				dash = false;
			if (s[j] != '.')
				dot = false;
		}
	}
	return dash ? "dashed" : dot ? "dotted" : "mixed";
}

/* Is octet v spelt by a whole digit run outside runs first..last? */
static bool ptrclass_ip_run_elsewhere(const char *s,
    const struct ptrclass_ip_run *r, int nr, int first, int last, unsigned v)
{
	int i;

	for (i = 0; i < nr; i++)
		if ((i < first || i > last) &&
		    ptrclass_ip_octet_at(s + r[i].off, r[i].len, v))
			return true;
	return false;
}

/* All four octets as distinct whole runs, anywhere. */
static bool ptrclass_ip_scattered(const char *s,
    const struct ptrclass_ip_run *r, int nr, const uint8_t o[4])
{
	uint64_t used = 0;
	int k, i;

	for (k = 0; k < 4; k++) {
		for (i = 0; i < nr; i++)
			if (!(used >> i & 1) &&
			    ptrclass_ip_octet_at(s + r[i].off, r[i].len, o[k]))
				break;
		if (i == nr)
			return false;
		used |= 1ull << i;
	}
	return true;
}

static void ptrclass_ip_set(struct ptrclass_iphit *hit, int strength,
    const char *prefix, const char *style, bool rev)
{
	if (strength <= hit->strength)
		return;
	const char *part[4] = { prefix, style[0] ? "-" : "", style,
	    rev ? "-reversed" : "" };
	size_t n = 0, i, l;

	hit->strength = strength;
	for (i = 0; i < 4; i++) {
		l = strlen(part[i]);
		if (n + l >= sizeof(hit->how))
			l = sizeof(hit->how) - 1 - n;
		memcpy(hit->how + n, part[i], l);
		n += l;
	}
	hit->how[n] = '\0';
}

static bool ptrclass_ip_ishex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * The address in hex across labels that drop an octet's leading zero
 * ("a.bd.3ea9.ip4.static.sl-reverse.com" for 169.62.189.10: "0a" "bd"
 * "3e" "a9" reversed): the all-hex labels of up to 8 digits, an odd one
 * padded with a zero in front, joined; other labels break the run.
 */
static bool ptrclass_ip_hexlabels(const struct ptrclass_ip *ip, const char *s,
    size_t len)
{
	char buf[PTRCLASS_NAME_MAX + 64];
	size_t i = 0, n = 0, hexlabels = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != '.' && ptrclass_ip_ishex(s[j]))
			j++;
		if ((j == len || s[j] == '.') && j > i && j - i <= 8) {
			if ((j - i) % 2 == 1)
				buf[n++] = '0';
			memcpy(buf + n, s + i, j - i);
			n += j - i;
			hexlabels++;
		} else {
			while (j < len && s[j] != '.')
				j++;
			buf[n++] = '.';
		}
		i = j + 1;
	}
	/* one label alone is the plain hex search's business */
	return hexlabels >= 2 && (memmem(buf, n, ip->hex[0], 8) != NULL ||
	    memmem(buf, n, ip->hex[1], 8) != NULL);
}

/*
 * The last two octets in hex behind one letter, as the whole leftmost
 * label ("x6432.x.pppool.de" for x.x.100.50, "b55e6.pppool.de").
 */
static bool ptrclass_ip_hex2(const struct ptrclass_ip *ip, const char *s,
    size_t len)
{
	size_t i;

	if (len < 6 || s[5] != '.' || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; i < 5; i++)
		if (!ptrclass_ip_ishex(s[i]))
			return false;
	return memcmp(s + 1, ip->hex[0] + 4, 4) == 0;
}

static void ptrclass_ip_search4(const struct ptrclass_ip *ip, const char *s,
    size_t len, const char *hexs, size_t nhex, struct ptrclass_iphit *hit)
{
	struct ptrclass_ip_run r[PTRCLASS_IP_RUNS];
	const uint8_t *o = ip->o;
	uint8_t rev[4] = { o[3], o[2], o[1], o[0] };
	size_t i = 0, ilen = strlen(ip->integer);
	int nr = 0, dir, k0, start;

	if (memmem(hexs, nhex, ip->hex[0], 8) != NULL)
		ptrclass_ip_set(hit, 3, "ip-hex", "", false);
	else if (memmem(hexs, nhex, ip->hex[1], 8) != NULL)
		ptrclass_ip_set(hit, 3, "ip-hex", "", true);
	else if (ptrclass_ip_hexlabels(ip, s, len))
		ptrclass_ip_set(hit, 3, "ip-hex", "labels", false);
	else if (ptrclass_ip_hex2(ip, s, len))
		ptrclass_ip_set(hit, 1, "ip2-hex", "", false);

	while (i < len && nr < PTRCLASS_IP_RUNS) {
		size_t j = i;

		while (j < len && s[j] >= '0' && s[j] <= '9')
			j++;
		if (j > i) {
			r[nr].off = (uint8_t)i;
			r[nr].len = (uint8_t)(j - i > 255 ? 255 : j - i);
			if (j - i == ilen && memcmp(s + i, ip->integer, ilen) == 0)
				ptrclass_ip_set(hit, 3, "ip-int", "", false);
			nr++;
			i = j;
		} else {
			i++;
		}
	}
	if (hit->strength == 3)
		return;

	for (dir = 0; dir < 2; dir++) {
		const uint8_t *seq = dir ? rev : o;

		for (start = 0; start < nr; start++) {
			for (k0 = 0; k0 < 3; k0++) {
				struct ptrclass_ip_scan sc = { s, r, nr, seq, 0, -1 };
				const char *style;

				if (s[r[start].off] != '0' &&
				    s[r[start].off] - '0' != seq[k0] /
				    (seq[k0] >= 100 ? 100 : seq[k0] >= 10 ? 10 : 1))
					continue;
				ptrclass_ip_chain(&sc, start, 0, k0, k0);
				if (sc.best < 2)
					continue;
				style = ptrclass_ip_style(s, r, start, sc.best_end);
				if (sc.best == 4) {
					ptrclass_ip_set(hit, 3, "ip", style, dir);
					return;
				}
				if (sc.best == 3 && ptrclass_ip_run_elsewhere(s, r,
				    nr, start, sc.best_end, seq[k0 ? 0 : 3]))
					ptrclass_ip_set(hit, 3, "ip-rotated", style,
					    dir);
				else if (sc.best == 3)
					ptrclass_ip_set(hit, 2, "ip3", style, dir);
				else if (sc.best == 2 && k0 == (dir ? 0 : 2))
					ptrclass_ip_set(hit, 1, "ip2", style, dir);
			}
		}
	}
	if (hit->strength < 2 && ptrclass_ip_scattered(s, r, nr, o))
		ptrclass_ip_set(hit, 2, "ip-scattered", "", false);
	if (hit->strength >= 1)
		return;
	/*
	 * A line counter with the last octet zero-padded behind it, in the
	 * leftmost label ("p3068147-ipxg..." for x.x.x.147).  Six digits at
	 * least, so "smtpcmd02101" (x.x.x.101) is no counter.
	 */
	for (start = 0; start < nr; start++) {
		const char *d = s + r[start].off;

		if (memchr(s, '.', r[start].off) != NULL)
			break;
		if (r[start].len >= 6 &&
		    ptrclass_ip_octet_at(d + r[start].len - 3, 3, o[3]))
			ptrclass_ip_set(hit, 1, "ip1-counter", "", false);
	}
}

/* Four hex groups equal to the /64, each followed by one separator. */
static bool ptrclass_ip_groups6(const struct ptrclass_ip *ip, const char *s,
    size_t len)
{
	uint16_t w[64];
	uint8_t wend[64], wstart[64];
	size_t i = 0;
	int n = 0, k;

	while (i < len && n < 64) {
		size_t j = i;
		unsigned v = 0;

		while (j < len && ((s[j] >= '0' && s[j] <= '9') ||
		    (s[j] >= 'a' && s[j] <= 'f')) && j - i < 5) {
			v = v << 4 | (unsigned)(s[j] <= '9' ? s[j] - '0' :
			    s[j] - 'a' + 10);
			j++;
		}
		if (j > i && j - i <= 4 && (j == len ||
		    !((s[j] >= '0' && s[j] <= '9') || (s[j] >= 'a' && s[j] <= 'z')))) {
			w[n] = (uint16_t)v;
			wstart[n] = (uint8_t)i;
			wend[n] = (uint8_t)j;
			n++;
		} else if (j == i && i > 0 && i < len && s[i] == s[i - 1] &&
		    (s[i] == '-' || s[i] == '.')) {
			/* "2001-db8-1234--5": the doubled separator is "::" */
			w[n] = 0;
			wstart[n] = wend[n] = (uint8_t)i;
			n++;
		}
		/* skip to the next character that starts a word */
		while (j < len && ((s[j] >= '0' && s[j] <= '9') ||
		    (s[j] >= 'a' && s[j] <= 'z')))
			j++;
		i = j + 1;
	}
	for (k = 0; k + 3 < n; k++)
		if (w[k] == ip->g[0] && w[k + 1] == ip->g[1] &&
		    w[k + 2] == ip->g[2] && w[k + 3] == ip->g[3] &&
		    wstart[k + 1] == wend[k] + 1 && wstart[k + 2] == wend[k + 1] + 1 &&
		    wstart[k + 3] == wend[k + 2] + 1)
			return true;
	return false;
}

void ptrclass_ip_search(const struct ptrclass_ip *ip, const char *name,
    size_t len, struct ptrclass_iphit *hit)
{
	char hexs[PTRCLASS_NAME_MAX + 1];
	size_t i, nhex = 0;

	hit->strength = 0;
	hit->how[0] = '\0';
	if (len > PTRCLASS_NAME_MAX)
		len = PTRCLASS_NAME_MAX;
	for (i = 0; i < len; i++)
		if ((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f'))
			hexs[nhex++] = name[i];

	if (ip->family == AF_INET) {
		ptrclass_ip_search4(ip, name, len, hexs, nhex, hit);
	} else if (ip->family == AF_INET6) {
		if (memmem(hexs, nhex, ip->nib[0], 16) != NULL)
			ptrclass_ip_set(hit, 3, "ip6-nibbles", "", false);
		else if (memmem(hexs, nhex, ip->nib[1], 16) != NULL)
			ptrclass_ip_set(hit, 3, "ip6-nibbles", "", true);
		else if (ptrclass_ip_groups6(ip, name, len))
			ptrclass_ip_set(hit, 3, "ip6-groups", "", false);
	}
}
