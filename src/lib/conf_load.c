/*
 * conf_load.c - read smtpgate.conf into a struct conf, all or nothing.
 *
 * Exports conf_load (conf.h).  No global state: conf_load builds the
 * result in a context struct on the heap and copies it to *out only when
 * the whole file was read, every key was valid (conf_keys.c) and the keys
 * agree with one another (conf_check.c).
 *
 * Parsing is inih's (Debian's libinih 55, built with its defaults), and its
 * defaults carry hazards we must close ourselves:
 *
 *  - A line is read into a 200-byte buffer; the rest of a longer line is
 *    read as if it were the next line, so a long value would be silently
 *    cut.  We hand inih our own line reader, which refuses a line longer
 *    than CONF_LINE_MAX characters and counts lines for our messages (the
 *    library's handler gets no line number in this build).
 *  - An indented line continues the previous key's value, even after blank
 *    lines and comments, and even when it looks like "key = value".  We
 *    accept continuations for list keys (they are how a long dnsbl_sites
 *    is written) and refuse them for everything else.
 *  - Text after a section header's ']' is ignored and an empty section is
 *    never seen by the handler; our reader checks section lines itself.
 *  - ";" starts a comment at the start of a line or after white space;
 *    "#" only at the start of a line ("a = b # c" has the value "b # c").
 *    inih 55 does not strip inline comments from continuation lines; we
 *    do, so every line of a list reads alike.
 *    "key: value" works as well as "key = value".
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

#define CONF_LINE_MAX	198	/* characters before the newline */
#define CONF_LIST_MAX	16384	/* a list value with its continuations */

struct conf_load_ctx {
	const char *path;
	FILE *f;
	struct conf c;			/* built here, copied out on success */
	int lineno;			/* lines read so far */
	bool indented;			/* the current line starts with blanks */
	int err_line;			/* first fault, 0 = none */
	char err[CONF_ERR_MAX];
	int seen[CONF_KEYS_MAX];	/* line where key row i was set, 0 = not */
	const struct conf_key *prev;	/* key of the previous key line */
	char list[CONF_LIST_MAX];	/* prev's value so far, when a list */
	size_t listlen;
};

static void
conf_load_fault(struct conf_load_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->err_line != 0)
		return;		/* the first fault is the one reported */
	x->err_line = x->lineno;
	n = snprintf(x->err, sizeof x->err, "%s:%d: ", x->path, x->lineno);
	if (n < 0 || (size_t)n >= sizeof x->err)
		return;
	va_start(ap, fmt);
	vsnprintf(x->err + n, sizeof x->err - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Check a "[section]" line the way inih will not: known name, no junk. */
static void
conf_load_section(struct conf_load_ctx *x, const char *p)
{
	const char *end = strchr(p, ']');
	char name[64];
	size_t len;

	if (end == NULL)
		return;		/* inih reports the syntax error */
	len = (size_t)(end - p - 1);
	if (len >= sizeof name) {
		conf_load_fault(x, "unknown section [%.40s...]", p + 1);
		return;
	}
	memcpy(name, p + 1, len);
	name[len] = '\0';
	for (end++; *end == ' ' || *end == '\t' || *end == '\r' ||
	    *end == '\n'; end++)
		;
	if (*end != '\0' && *end != ';' && *end != '#')
		conf_load_fault(x, "junk after section header [%s]", name);
	else if (!conf_keys_section_known(name))
		conf_load_fault(x, "unknown section [%s]", name);
}

/*
 * inih's line reader, replaced so that a long line is a fault instead of
 * two lines, and so that we know the line number and indentation.  Returns
 * one line per call (with its newline), or NULL at the end or on a fault.
 */
static char *
conf_load_read_line(char *str, int num, void *stream)
{
	struct conf_load_ctx *x = stream;
	size_t n = 0, max = (size_t)num - 2;	/* room for '\n' and NUL */
	const char *p;
	int ch;

	if (x->err_line != 0)
		return NULL;
	for (;;) {
		ch = getc(x->f);
		if (ch == EOF) {
			if (n == 0)
				return NULL;
			break;
		}
		if (ch == '\0') {
			x->lineno++;
			conf_load_fault(x, "NUL byte in line");
			return NULL;
		}
		if (ch == '\n') {
			str[n++] = '\n';
			break;
		}
		if (n >= max) {
			x->lineno++;
			conf_load_fault(x, "line longer than %zu characters (continue "
			    "a list on indented lines)", max);
			return NULL;
		}
		str[n++] = (char)ch;
	}
	str[n] = '\0';
	x->lineno++;
	x->indented = str[0] == ' ' || str[0] == '\t';
	for (p = str; *p == ' ' || *p == '\t'; p++)
		;
	/* Mirror inih: comments and blank lines never touch prev_name. */
	if (*p == '[' && (!x->indented || x->prev == NULL)) {
		x->prev = NULL;
		conf_load_section(x, p);
	}
	return str;
}

/* Length of value before a ';' that follows white space, trailing blanks
 * dropped (inih's inline-comment rule). */
static size_t
conf_load_comment_cut(const char *value)
{
	size_t i, end = strlen(value);

	for (i = 1; value[i] != '\0'; i++)
		if (value[i] == ';' && (value[i - 1] == ' ' ||
		    value[i - 1] == '\t')) {
			end = i;
			break;
		}
	while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	return end;
}

static int
conf_load_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_load_ctx *x = user;
	const struct conf_key *k;
	char why[CONF_WHY_MAX];
	const char *v = value;
	size_t i, vlen = strlen(value);
	bool cont;

	if (x->err_line != 0)
		return 0;
	if (section[0] == '\0') {
		conf_load_fault(x, "%s: key outside any section", name);
		return 0;
	}
	if (!conf_keys_section_known(section)) {
		conf_load_fault(x, "unknown section [%s]", section);
		return 0;
	}
	k = conf_keys_find(section, name, &i);
	if (k == NULL) {
		conf_load_fault(x, "[%s] %s: unknown key", section, name);
		return 0;
	}
	/* inih calls us again with the same name for an indented line. */
	cont = x->indented && x->prev == k;
	if (cont && !k->list) {
		conf_load_fault(x, "[%s] %s: indented line continues a value that "
		    "is not a list (do not indent keys)", section, name);
		return 0;
	}
	if (!cont && x->seen[i] != 0) {
		conf_load_fault(x, "[%s] %s: duplicate key (first set on line %d)",
		    section, name, x->seen[i]);
		return 0;
	}
	if (k->list) {
		/*
		 * inih 55 strips an inline "; comment" from a key line but not
		 * from a continuation line: do it here so both read alike.
		 */
		if (cont)
			vlen = conf_load_comment_cut(value);
		/* Re-parse the whole list so far: an error is on this line. */
		if (!cont)
			x->listlen = 0;
		if (x->listlen + vlen + 2 > sizeof x->list) {
			conf_load_fault(x, "[%s] %s: value longer than %zu characters",
			    section, name, sizeof x->list - 1);
			return 0;
		}
		if (x->listlen > 0)
			x->list[x->listlen++] = ' ';
		memcpy(x->list + x->listlen, value, vlen);
		x->listlen += vlen;
		x->list[x->listlen] = '\0';
		v = x->list;
	}
	why[0] = '\0';
	if (k->set(k, v, &x->c, why, sizeof why) != 0) {
		conf_load_fault(x, "[%s] %s: %s", section, name, why);
		return 0;
	}
	if (!cont)
		x->seen[i] = x->lineno;
	x->prev = k;
	return 1;
}

int
conf_load(const char *path, struct conf *out, char *err, size_t errlen)
{
	struct conf_load_ctx *x;
	int rc, line, saved;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* About 40 KiB: too much for the stack of a signal-driven reload. */
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	x->path = path;
	conf_defaults(&x->c);
	if (strlen(path) >= sizeof x->c.path) {
		snprintf(err, errlen, "%s: path longer than %zu characters",
		    path, sizeof x->c.path - 1);
		free(x);
		return -1;
	}
	memcpy(x->c.path, path, strlen(path) + 1);
	x->f = fopen(path, "r");
	if (x->f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(x);
		return -1;
	}
	line = ini_parse_stream(conf_load_read_line, x, conf_load_handler, x);
	saved = errno;
	if (ferror(x->f)) {
		snprintf(err, errlen, "%s: read: %s", path, strerror(saved));
		fclose(x->f);
		free(x);
		return -1;
	}
	fclose(x->f);
	rc = 0;
	if (x->err_line != 0 && (line <= 0 || x->err_line <= line)) {
		snprintf(err, errlen, "%s", x->err);
		rc = -1;
	} else if (line > 0) {
		snprintf(err, errlen, "%s:%d: syntax error (want [section], "
		    "key = value, or a comment)", path, line);
		rc = -1;
	} else if (line < 0) {
		snprintf(err, errlen, "%s: inih: out of memory", path);
		rc = -1;
	}
	if (rc == 0 && conf_check_cross(&x->c, x->seen, path, err,
	    errlen) == -1)
		rc = -1;
	if (rc == 0)
		*out = x->c;
	free(x);
	return rc;
}
