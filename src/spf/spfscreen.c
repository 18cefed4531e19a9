/*
 * spfscreen.c - refuse TXT records that libspf2's compiler must not see
 * (contract and limits in spfscreen.h).
 */
#include <strings.h>

#include "spfscreen.h"

bool
spfscreen_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

/*
 * Macro expansions in s[0..n): "%{" starts one; "%%", "%_" and "%-" are
 * escapes.  An unterminated "%{" counts too: the compiler still parses it.
 */
static size_t
spfscreen_macros(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '{')
			k++;
		i++;		/* the byte after '%' is never a new '%' */
	}
	return k;
}

enum spfscreen_verdict
spfscreen_txt(const char *txt, size_t len, const char **why)
{
	const char *w = NULL;
	enum spfscreen_verdict v = SPFSCREEN_OK;

	if (spfscreen_is_spf(txt, len)) {
		if (len > SPFSCREEN_RECORD_MAX) {
			w = "SPF record longer than 1024 bytes";
			v = SPFSCREEN_REFUSE;
		}
		for (size_t i = 0; v == SPFSCREEN_OK && i < len;) {
			size_t j = i;

			while (j < len && txt[j] != ' ')
				j++;
			if (j - i > SPFSCREEN_TERM_MAX) {
				w = "SPF term longer than 253 bytes";
				v = SPFSCREEN_REFUSE;
			} else if (spfscreen_macros(txt + i, j - i) >
			    SPFSCREEN_MACROS_MAX) {
				w = "SPF term with more than 12 macros";
				v = SPFSCREEN_REFUSE;
			}
			i = j + 1;
		}
	} else if (spfscreen_macros(txt, len) > 0 &&
	    (len > SPFSCREEN_TERM_MAX ||
	    spfscreen_macros(txt, len) > SPFSCREEN_MACROS_MAX)) {
		w = "TXT record with macros too long to be an explanation";
		v = SPFSCREEN_DROP;
	}
	if (why != NULL)
		*why = w;
	return v;
}
