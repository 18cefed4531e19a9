/*
 * ctl_suspects.c - smtpgatectl suspects: the refused addresses of the
 * journal's window that behave like legitimate mail servers, ranked by
 * suspect_score (src/judge/suspect.c), each with the allow command that
 * would admit it.  The false-positive radar: read it weekly.
 *
 *   suspects [--since 30d] [--json] [--journal FILE]
 *
 * Refused: not accepted by the report's definition (ctl_tally_accepted).
 * Addresses without any sign (score 0) are not listed; their number is.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowlist.h"
#include "ctl.h"
#include "ctl_journal.h"
#include "suspect.h"

#define CTL_SUSPECTS_MAX_S	(20LL * 366 * 86400)

struct ctl_suspect {
	size_t addr;			/* index into the set */
	struct suspect_score sc;
	int64_t last;			/* its last attempt */
};

static void
ctl_suspects_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl suspects [--since DURATION] [--json] "
	    "[--journal FILE]\n"
	    "  --since   the window, back from now (default 30d)\n"
	    "  --journal the database (default: the configuration's "
	    "[journal] file)\n");
}

static int
ctl_suspects_cmp(const void *x, const void *y)
{
	const struct ctl_suspect *a = x, *b = y;

	if (a->sc.score != b->sc.score)
		return a->sc.score > b->sc.score ? -1 : 1;
	if (a->sc.tries != b->sc.tries)
		return a->sc.tries > b->sc.tries ? -1 : 1;
	if (a->last != b->last)
		return a->last > b->last ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* A DNS name we may print inside a shell's double quotes: letters, digits,
 * '.', '-', '_' only. */
static bool
ctl_suspects_safe(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_') || i >= 100)
			return false;
	return true;
}

/* The refusing rules of a's last attempts ("no-ptr,unqualified"). */
static const char *
ctl_suspects_refused(const struct ctl_addr *a, char *buf, size_t len)
{
	size_t off = 0;
	const struct ctl_last *l[2] = { &a->g, &a->s };

	buf[0] = '\0';
	for (int d = 0; d < 2; d++) {
		const char *r = l[d]->reason;

		if (!l[d]->present || l[d]->accepted || !ctl_suspects_safe(r) ||
		    off + 1 >= len)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    off ? "," : "", r);
		if (off >= len)
			off = len - 1;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "?");
	return buf;
}

/* The signs as short words for the allow list's comment. */
static void
ctl_suspects_comment(const struct ctl_addr *a,
    const struct suspect_score *sc, char *buf, size_t len)
{
	char refused[96];
	size_t off;

	off = (size_t)snprintf(buf, len, "suspect, refused by %s:",
	    ctl_suspects_refused(a, refused, sizeof(refused)));
#define CTL_SUSPECTS_WORD(bit, word)					\
	if ((sc->signs & (bit)) && off < len)				\
		off += (size_t)snprintf(buf + off, len - off, " %s", word)
	CTL_SUSPECTS_WORD(SUSPECT_RETRIES, "retries");
	CTL_SUSPECTS_WORD(SUSPECT_NAMED, "named-ptr");
	CTL_SUSPECTS_WORD(SUSPECT_DNSWL, "dnswl");
	CTL_SUSPECTS_WORD(SUSPECT_HELO, "helo=ptr");
	CTL_SUSPECTS_WORD(SUSPECT_SPF, "spf-pass");
#undef CTL_SUSPECTS_WORD
	if (ctl_suspects_safe(a->g.ptr) && off < len)
		snprintf(buf + off, len - off, " (%s)", a->g.ptr);
}

static bool
ctl_suspects_dnswl(const struct ctl_journal_set *set, const struct ctl_last *g)
{
	for (size_t k = 0; g->present && k < g->nrule; k++)
		if (strncmp(set->rule[set->rule_ix[g->rule0 + k]], "dnswl:",
		    6) == 0)
			return true;
	return false;
}

int
ctl_suspects_main(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "journal", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *path;
	long long since = 30 * 86400LL;
	struct ctl_journal j;
	struct ctl_journal_set set;
	struct ctl_suspect *sus = NULL;
	struct ctl_table t = { 0 };
	size_t nsus = 0, refused = 0;
	char why[128];
	int o, rc = CTL_OK;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (conf_parse_duration(optarg, 1, CTL_SUSPECTS_MAX_S,
			    &since, why, sizeof(why)) == -1) {
				fprintf(stderr, "smtpgatectl: suspects: "
				    "--since: %s\n", why);
				return CTL_BADINPUT;
			}
			break;
		case 'j':
			file = optarg;
			break;
		case 'h':
			ctl_suspects_usage(stdout);
			return CTL_OK;
		default:
			ctl_suspects_usage(stderr);
			return CTL_BADINPUT;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "smtpgatectl: suspects: unexpected argument "
		    "\"%.64s\"\n", argv[optind]);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_journal_file(c, file, &path)) != CTL_OK)
		return rc;
	if (ctl_journal_open(&j, path) == -1)
		return CTL_UNREACHABLE;
	if (ctl_journal_fetch(&j, c->now - since, c->now, true, &set) == -1) {
		ctl_journal_close(&j);
		return CTL_SYSERR;
	}
	if (set.naddr > 0 && (sus = calloc(set.naddr, sizeof(*sus))) == NULL) {
		fprintf(stderr, "smtpgatectl: suspects: out of memory\n");
		rc = CTL_SYSERR;
	}
	for (size_t i = 0; rc == CTL_OK && i < set.naddr; i++) {
		const struct ctl_addr *a = &set.addr[i];
		struct suspect_in in = { 0 };
		int64_t *times;
		size_t nt;

		if (!a->parsed || ctl_tally_accepted(&set, a, set.lo))
			continue;
		refused++;
		if (ctl_journal_times(&j, a->text, set.lo, set.hi, &times,
		    &nt) == -1) {
			rc = CTL_SYSERR;
			break;
		}
		in.t = times;
		in.nt = nt;
		if (a->g.present) {
			in.ptr = a->g.ptr;
			in.ptr_class = a->g.ptr_class;
			in.fcrdns = a->g.fcrdns;
			in.dnswl = ctl_suspects_dnswl(&set, &a->g);
		}
		if (a->s.present) {
			in.helo = a->s.helo;
			in.spf_helo = a->s.spf_helo;
		}
		suspect_score(&in, &sus[nsus].sc);
		free(times);
		if (sus[nsus].sc.score == 0)
			continue;	/* a bot without a sign */
		sus[nsus].addr = i;
		sus[nsus].last = a->g.present && (!a->s.present ||
		    a->g.t > a->s.t) ? a->g.t : a->s.t;
		nsus++;
	}
	ctl_journal_close(&j);
	if (nsus > 0)
		qsort(sus, nsus, sizeof(*sus), ctl_suspects_cmp);
	for (size_t k = 0; rc == CTL_OK && k < nsus; k++) {
		const struct ctl_addr *a = &set.addr[sus[k].addr];
		struct ctl_record *r = ctl_table_add(&t);
		char words[256], comment[ALLOWLIST_COMMENT_MAX], ab[ADDR_STRLEN];

		if (r == NULL) {
			fprintf(stderr, "smtpgatectl: suspects: out of "
			    "memory\n");
			rc = CTL_SYSERR;
			break;
		}
		ctl_suspects_comment(a, &sus[k].sc, comment, sizeof(comment));
		ctl_record_add(r, "rank", "%zu", k + 1);
		ctl_record_add(r, "score", "%d", sus[k].sc.score);
		ctl_record_add(r, "addr", "%s", addr_ntop(&a->a, ab));
		ctl_record_add(r, "ptr", "%s", a->g.ptr != NULL &&
		    a->g.ptr[0] != '\0' ? a->g.ptr : "-");
		ctl_record_add(r, "tries", "%u", sus[k].sc.tries);
		ctl_record_add(r, "why", "%s", suspect_reasons(&sus[k].sc,
		    words, sizeof(words)));
		ctl_record_add(r, "allow", "smtpgatectl allow add %s/%d "
		    "--comment \"%s\"", ab, a->a.family == AF_INET6 ? 128 : 32,
		    comment);
	}
	if (rc == CTL_OK) {
		if (c->fmt == CTL_FMT_JSON) {
			ctl_out_table(stdout, c->fmt, &t);
		} else {
			printf("journal %s: %zu refused addresses in %lld%s, "
			    "%zu with signs of a mail server\n", path, refused,
			    since % 86400 ? since : since / 86400,
			    since % 86400 ? "s" : "d", nsus);
			if (nsus > 0)
				ctl_out_table(stdout, c->fmt, &t);
		}
	}
	ctl_table_free(&t);
	free(sus);
	ctl_journal_free(&set);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "smtpgatectl: write stdout: failed\n");
		rc = CTL_SYSERR;
	}
	return rc;
}
