/*
 * ctl_report.c - smtpgatectl report: of the distinct addresses in the
 * journal's window, per rule, how many triggered it and how many of those
 * were accepted anyway, over the whole window and its recent part.
 *
 *   report [--since 180d] [--split 90d] [--json|--csv] [--rule NAME]
 *          [--journal FILE]
 *
 * The SQL is ctl_journal.c's, the counting ctl_tally.c's; this file parses
 * the options and prints (text, JSON and CSV through ctl_out.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_journal.h"

#define CTL_REPORT_MAX_S	(20LL * 366 * 86400)	/* a window's bound */

static void
ctl_report_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl report [--since DURATION] "
	    "[--split DURATION] [--json|--csv]\n"
	    "           [--rule NAME] [--journal FILE]\n"
	    "  --since   the window, back from now (default 180d)\n"
	    "  --split   its recent part (default 90d, at most --since)\n"
	    "  --rule    the addresses behind one rule's row\n"
	    "  --journal the database (default: the configuration's "
	    "[journal] file)\n");
}

int
ctl_journal_file(struct ctl *c, const char *given, const char **path)
{
	int rc;

	if ((*path = given) != NULL)
		return CTL_OK;
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	if (c->conf.journal.file[0] == '\0') {
		fprintf(stderr, "smtpgatectl: no journal: [journal] file is "
		    "empty in %s\n", c->conf.path);
		return CTL_UNREACHABLE;
	}
	*path = c->conf.journal.file;
	return CTL_OK;
}

/* "12.5%" of n in d; "-" when d is 0. */
static const char *
ctl_report_pct(unsigned long long n, unsigned long long d, char *buf,
    size_t len)
{
	if (d == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", 100.0 * (double)n / (double)d);
	return buf;
}

static double
ctl_report_share(unsigned long long n, unsigned long long d)
{
	return d == 0 ? 0.0 : 100.0 * (double)n / (double)d;
}

/* "2026-12-02T04:25:09Z" */
static const char *
ctl_report_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* A duration back as people write it: "180d", "36h", "90m", "45s". */
static const char *
ctl_report_dur(long long s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", s / 60);
	else
		snprintf(buf, len, "%llds", s);
	return buf;
}

static int
ctl_report_add_row(struct ctl_table *t, const char *name,
    const struct ctl_tally_count *all, const struct ctl_tally_count *rec,
    const struct ctl_tally *tl)
{
	struct ctl_record *r = ctl_table_add(t);
	char p[32];

	if (r == NULL)
		return -1;
	ctl_record_add(r, "rule", "%s", name);
	ctl_record_add(r, "triggered", "%llu", all->triggered);
	ctl_record_add(r, "triggered%", "%s", ctl_report_pct(all->triggered,
	    tl->all.addresses, p, sizeof(p)));
	ctl_record_add(r, "accepted", "%llu", all->accepted);
	ctl_record_add(r, "accepted%", "%s", ctl_report_pct(all->accepted,
	    tl->all.addresses, p, sizeof(p)));
	ctl_record_add(r, "recent_triggered", "%llu", rec->triggered);
	ctl_record_add(r, "recent_triggered%", "%s",
	    ctl_report_pct(rec->triggered, tl->recent.addresses, p, sizeof(p)));
	ctl_record_add(r, "recent_accepted", "%llu", rec->accepted);
	ctl_record_add(r, "recent_accepted%", "%s",
	    ctl_report_pct(rec->accepted, tl->recent.addresses, p, sizeof(p)));
	return 0;
}

static void
ctl_report_json_count(struct ctl_json *j, const char *prefix,
    const struct ctl_tally_count *c, unsigned long long total)
{
	char key[64];

	snprintf(key, sizeof(key), "%striggered", prefix);
	ctl_json_int(j, key, (long long)c->triggered);
	snprintf(key, sizeof(key), "%striggered_pct", prefix);
	ctl_json_double(j, key, ctl_report_share(c->triggered, total), 2);
	snprintf(key, sizeof(key), "%saccepted", prefix);
	ctl_json_int(j, key, (long long)c->accepted);
	snprintf(key, sizeof(key), "%saccepted_pct", prefix);
	ctl_json_double(j, key, ctl_report_share(c->accepted, total), 2);
}

static void
ctl_report_json_total(struct ctl_json *j, const char *key,
    const struct ctl_tally_total *t, long long window_s, int64_t from)
{
	ctl_json_obj(j, key);
	ctl_json_int(j, "window_s", window_s);
	ctl_json_int(j, "from", (long long)from);
	ctl_json_int(j, "addresses", (long long)t->addresses);
	ctl_json_int(j, "accepted", (long long)t->accepted);
	ctl_json_double(j, "accepted_pct", ctl_report_share(t->accepted,
	    t->addresses), 2);
	ctl_json_end(j);
}

/* The table of rules. */
static int
ctl_report_rules(struct ctl *c, bool csv, const char *path,
    const struct ctl_journal_set *set, const struct ctl_tally *tl,
    long long since, long long split, int64_t recent_lo)
{
	struct ctl_table t = { 0 };
	char b1[32], b2[32], b3[32];
	int rc = CTL_OK;

	if (c->fmt == CTL_FMT_JSON) {
		struct ctl_json j;

		ctl_json_init(&j, stdout);
		ctl_json_obj(&j, NULL);
		ctl_json_str(&j, "journal", path);
		ctl_json_int(&j, "now", (long long)set->hi);
		ctl_report_json_total(&j, "window", &tl->all, since, set->lo);
		ctl_report_json_total(&j, "recent", &tl->recent, split,
		    recent_lo);
		ctl_json_arr(&j, "rules");
		for (size_t i = 0; i < tl->nrow; i++) {
			const struct ctl_tally_row *r = &tl->row[i];

			ctl_json_obj(&j, NULL);
			ctl_json_str(&j, "rule", set->rule[r->rule]);
			ctl_report_json_count(&j, "", &r->all,
			    tl->all.addresses);
			ctl_report_json_count(&j, "recent_", &r->recent,
			    tl->recent.addresses);
			ctl_json_end(&j);
		}
		ctl_json_end(&j);
		ctl_json_end(&j);
		return CTL_OK;
	}
	for (size_t i = 0; i < tl->nrow && rc == CTL_OK; i++)
		if (ctl_report_add_row(&t, set->rule[tl->row[i].rule],
		    &tl->row[i].all, &tl->row[i].recent, tl) == -1)
			rc = CTL_SYSERR;
	if (rc == CTL_OK) {
		/* the totals: addresses (as "triggered") and accepted */
		struct ctl_tally_count a = { tl->all.addresses,
		    tl->all.accepted };
		struct ctl_tally_count r = { tl->recent.addresses,
		    tl->recent.accepted };

		if (ctl_report_add_row(&t, "(all addresses)", &a, &r, tl) == -1)
			rc = CTL_SYSERR;
	}
	if (rc != CTL_OK) {
		fprintf(stderr, "smtpgatectl: report: out of memory\n");
	} else if (csv) {
		ctl_out_csv(stdout, &t);
	} else {
		printf("journal %s: %llu addresses in %s from %s, "
		    "%llu accepted; recent %s: %llu addresses, %llu accepted\n",
		    path, tl->all.addresses, ctl_report_dur(since, b1,
		    sizeof(b1)), ctl_report_time(set->lo, b2, sizeof(b2)),
		    tl->all.accepted, ctl_report_dur(split, b3, sizeof(b3)),
		    tl->recent.addresses, tl->recent.accepted);
		ctl_out_table(stdout, CTL_FMT_TEXT, &t);
	}
	ctl_table_free(&t);
	return rc;
}

/* "gate:reject,sniff:strike": the verdicts of a's attempts in the window. */
static const char *
ctl_report_verdicts(const struct ctl_addr *a, int64_t lo, char *buf,
    size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (a->g.present && a->g.t >= lo)
		off = (size_t)snprintf(buf, len, "gate:%s",
		    a->g.verdict ? a->g.verdict : "?");
	if (off < len && a->s.present && a->s.t >= lo)
		snprintf(buf + off, len - off, "%ssniff:%s", off ? "," : "",
		    a->s.verdict ? a->s.verdict : "?");
	return buf;
}

/* The addresses behind one rule's row. */
static int
ctl_report_rule(struct ctl *c, bool csv, const struct ctl_journal_set *set,
    const char *rule, long long since, int64_t recent_lo)
{
	struct ctl_table t = { 0 };
	size_t r;
	char b[64], v[128];
	int rc = CTL_OK;

	for (r = 0; r < set->nrule; r++)
		if (strcmp(set->rule[r], rule) == 0)
			break;
	for (size_t i = 0; r < set->nrule && i < set->naddr; i++) {
		const struct ctl_addr *a = &set->addr[i];
		struct ctl_record *rec;
		int64_t last;

		if (!ctl_tally_triggered(set, a, r, set->lo))
			continue;
		if ((rec = ctl_table_add(&t)) == NULL) {
			fprintf(stderr, "smtpgatectl: report: out of memory\n");
			rc = CTL_SYSERR;
			break;
		}
		last = a->g.present && (!a->s.present || a->g.t > a->s.t) ?
		    a->g.t : a->s.t;
		ctl_record_add(rec, "addr", "%s", a->text);
		if (c->fmt == CTL_FMT_JSON)	/* a number there */
			ctl_record_add(rec, "last", "%lld", (long long)last);
		else
			ctl_record_add(rec, "last", "%s",
			    ctl_report_time(last, b, sizeof(b)));
		ctl_record_add(rec, "verdict", "%s",
		    ctl_report_verdicts(a, set->lo, v, sizeof(v)));
		ctl_record_add(rec, "accepted", "%s",
		    ctl_tally_accepted(set, a, set->lo) ? "yes" : "no");
		ctl_record_add(rec, "recent", "%s",
		    ctl_tally_triggered(set, a, r, recent_lo) ? "yes" : "no");
	}
	if (t.n == 0) {
		char shown[64];
		size_t k;

		for (k = 0; rule[k] != '\0' && k + 1 < sizeof(shown); k++)
			shown[k] = rule[k] >= 0x20 && rule[k] < 0x7f ?
			    rule[k] : '?';
		shown[k] = '\0';
		fprintf(stderr, "smtpgatectl: report: no address triggered "
		    "rule \"%s\" in %s\n", shown,
		    ctl_report_dur(since, b, sizeof(b)));
	}
	if (rc == CTL_OK) {
		if (csv)
			ctl_out_csv(stdout, &t);
		else
			ctl_out_table(stdout, c->fmt, &t);
	}
	ctl_table_free(&t);
	return rc;
}

int
ctl_report_main(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "split", required_argument, NULL, 'p' },
		{ "csv", no_argument, NULL, 'C' },
		{ "rule", required_argument, NULL, 'r' },
		{ "journal", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *rule = NULL, *path;
	long long since = 180 * 86400LL, split = 90 * 86400LL;
	struct ctl_journal j;
	struct ctl_journal_set set;
	struct ctl_tally tl;
	bool csv = false;
	char why[128];
	int o, rc;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
		case 'p':
			if (conf_parse_duration(optarg, 1, CTL_REPORT_MAX_S,
			    o == 's' ? &since : &split, why, sizeof(why)) == -1) {
				fprintf(stderr, "smtpgatectl: report: --%s: "
				    "%s\n", o == 's' ? "since" : "split", why);
				return CTL_BADINPUT;
			}
			break;
		case 'C':
			csv = true;
			break;
		case 'r':
			rule = optarg;
			break;
		case 'j':
			file = optarg;
			break;
		case 'h':
			ctl_report_usage(stdout);
			return CTL_OK;
		default:
			ctl_report_usage(stderr);
			return CTL_BADINPUT;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "smtpgatectl: report: unexpected argument "
		    "\"%.64s\"\n", argv[optind]);
		return CTL_BADINPUT;
	}
	if (csv && c->fmt == CTL_FMT_JSON) {
		fprintf(stderr, "smtpgatectl: report: --json or --csv, not "
		    "both\n");
		return CTL_BADINPUT;
	}
	if (split > since) {
		fprintf(stderr, "smtpgatectl: report: --split is longer than "
		    "--since\n");
		return CTL_BADINPUT;
	}
	if ((rc = ctl_journal_file(c, file, &path)) != CTL_OK)
		return rc;
	if (ctl_journal_open(&j, path) == -1)
		return CTL_UNREACHABLE;
	if (ctl_journal_fetch(&j, c->now - since, c->now, false, &set) == -1) {
		ctl_journal_close(&j);
		return CTL_SYSERR;
	}
	ctl_journal_close(&j);
	if (rule != NULL) {
		rc = ctl_report_rule(c, csv, &set, rule, since, c->now - split);
	} else if (ctl_tally_count(&set, c->now - split, &tl) == -1) {
		fprintf(stderr, "smtpgatectl: report: out of memory\n");
		rc = CTL_SYSERR;
	} else {
		rc = ctl_report_rules(c, csv, path, &set, &tl, since, split,
		    c->now - split);
		ctl_tally_free(&tl);
	}
	ctl_journal_free(&set);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "smtpgatectl: write stdout: failed\n");
		rc = CTL_SYSERR;
	}
	return rc;
}
