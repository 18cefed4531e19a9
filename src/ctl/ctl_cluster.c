/*
 * ctl_cluster.c - smtpgatectl cluster status [--json]: [cluster] sharing
 * as both daemons tell it through their control sockets (the verb
 * "cluster", control_cluster.c; CLUSTER.md, smtpgatectl(8)).
 *
 * Each daemon answers one record "state=up server=... node=A shared=N
 * ..." (or "state=off") and one "sibling=B last_ms=... lag_ms=..." per
 * sibling seen within 10 s.  Text: one block per daemon, a field a line,
 * then a line per sibling; JSON: {"gate": {..., "siblings": [...]},
 * "sniffer": {...}}.  A daemon that does not answer is shown as
 * state=unreachable (one that answers an error as state=error with it);
 * the exit code is 0 when at least one daemon answered, else 2 (or 4
 * when one answered an error).
 *
 * Exports ctl_cluster_main and, for the unit test, ctl_cluster_render.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"

#define CTL_CLUSTER_REPLY	65536	/* a record and 64 siblings fit */

static void
ctl_cluster_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl cluster status [--json]\n");
}

/* The answer's lines: the record into *rec, the siblings into sib. */
static int
ctl_cluster_parse(const char *text, struct ctl_record *rec,
    struct ctl_table *sib, const char **why)
{
	char *copy = strdup(text), *line, *save = NULL;
	bool first = true;
	int rc = 0;

	if (copy == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (line = strtok_r(copy, "\n", &save); line != NULL && rc == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ctl_record *r = first ? rec : ctl_table_add(sib);

		if (r == NULL) {
			*why = "out of memory";
			rc = -1;
		} else if (ctl_record_parse(line, r, why) == -1) {
			rc = -1;
		} else if (first && ctl_record_get(r, "state") == NULL) {
			*why = "no state field";
			rc = -1;
		} else if (!first && ctl_record_get(r, "sibling") == NULL) {
			*why = "a line that is no sibling";
			rc = -1;
		}
		first = false;
	}
	free(copy);
	if (rc == 0 && first) {
		*why = "an empty answer";
		rc = -1;
	}
	return rc;
}

static void
ctl_cluster_json(struct ctl_json *j, const struct ctl_cluster_answer *a,
    const struct ctl_record *rec, const struct ctl_table *sib)
{
	ctl_json_obj(j, a->key);
	if (a->rc == -1) {
		ctl_json_str(j, "state", "unreachable");
		ctl_json_end(j);
		return;
	}
	if (a->rc == 1 || rec == NULL) {
		ctl_json_str(j, "state", "error");
		ctl_json_str(j, "error", a->text);
		ctl_json_end(j);
		return;
	}
	/* "siblings" is the array (its length the count). */
	for (size_t k = 0; k < rec->n; k++)
		if (strcmp(rec->key[k], "siblings") != 0)
			ctl_json_val(j, rec->key[k], rec->val[k]);
	if (strcmp(ctl_record_get(rec, "state"), "off") != 0) {
		ctl_json_arr(j, "siblings");
		for (size_t i = 0; i < sib->n; i++) {
			const struct ctl_record *s = &sib->r[i];

			ctl_json_obj(j, NULL);
			for (size_t k = 0; k < s->n; k++)
				ctl_json_val(j, strcmp(s->key[k], "sibling") ==
				    0 ? "node" : s->key[k], s->val[k]);
			ctl_json_end(j);
		}
		ctl_json_end(j);
	}
	ctl_json_end(j);
}

static void
ctl_cluster_text(FILE *f, const struct ctl_cluster_answer *a,
    const struct ctl_record *rec, const struct ctl_table *sib)
{
	fprintf(f, "%s:\n", a->name);
	if (a->rc == -1) {
		fprintf(f, "  %-16s %s\n", "state", "unreachable");
		return;
	}
	if (a->rc == 1 || rec == NULL) {
		fprintf(f, "  %-16s %s\n  %-16s ", "state", "error", "error");
		for (const char *p = a->text; *p != '\0' && *p != '\n'; p++)
			fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', f);
		fputc('\n', f);
		return;
	}
	for (size_t k = 0; k < rec->n; k++)
		fprintf(f, "  %-16s %s\n", rec->key[k], rec->val[k]);
	for (size_t i = 0; i < sib->n; i++) {
		const struct ctl_record *s = &sib->r[i];

		fprintf(f, "  %-16s %s", "sibling", ctl_record_get(s,
		    "sibling"));
		for (size_t k = 0; k < s->n; k++)
			if (strcmp(s->key[k], "sibling") != 0)
				fprintf(f, " %s=%s", s->key[k], s->val[k]);
		fputc('\n', f);
	}
}

int
ctl_cluster_render(FILE *f, enum ctl_format fmt,
    const struct ctl_cluster_answer *a, size_t n)
{
	struct ctl_json j;
	int rc = CTL_UNREACHABLE;

	if (fmt == CTL_FMT_JSON)
		ctl_json_init(&j, f);
	if (fmt == CTL_FMT_JSON)
		ctl_json_obj(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		struct ctl_cluster_answer one = a[i];
		struct ctl_record rec = { 0 };
		struct ctl_table sib = { 0 };
		const char *why = NULL;
		bool parsed = false;

		if (one.rc == 0) {
			if (ctl_cluster_parse(one.text, &rec, &sib, &why) == 0)
				parsed = true;
			else {
				one.rc = 1;
				one.text = why;
			}
		}
		if (one.rc == 0)
			rc = CTL_OK;
		else if (one.rc == 1 && rc != CTL_OK)
			rc = CTL_REFUSED;
		if (fmt == CTL_FMT_JSON)
			ctl_cluster_json(&j, &one, parsed ? &rec : NULL, &sib);
		else
			ctl_cluster_text(f, &one, parsed ? &rec : NULL, &sib);
		ctl_record_free(&rec);
		ctl_table_free(&sib);
	}
	if (fmt == CTL_FMT_JSON)
		ctl_json_end(&j);
	return rc;
}

int
ctl_cluster_main(struct ctl *c, int argc, char **argv)
{
	static const struct {
		const char *key, *name;
	} d[] = { { "gate", "smtpgated" }, { "sniffer", "smtpgate-sniffd" } };
	struct ctl_cluster_answer a[2];
	char *buf[2] = { NULL, NULL };
	int rc;

	if (argc != 2 || strcmp(argv[1], "status") != 0) {
		ctl_cluster_usage(stderr);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	for (size_t i = 0; i < 2; i++) {
		const char *path = i == 0 ? c->conf.gate.control_socket :
		    c->conf.sniffer.control_socket;

		if ((buf[i] = malloc(CTL_CLUSTER_REPLY)) == NULL) {
			fprintf(stderr, "smtpgatectl: cluster status: malloc: "
			    "%s\n", strerror(errno));
			free(buf[0]);
			return CTL_SYSERR;
		}
		a[i].key = d[i].key;
		a[i].name = d[i].name;
		a[i].rc = control_request(path, "cluster", buf[i],
		    CTL_CLUSTER_REPLY, c->timeout_ms);
		a[i].text = buf[i];
		if (a[i].rc == -1)
			fprintf(stderr, "smtpgatectl: %s: %s: %s (is it "
			    "running?)\n", d[i].name, path, strerror(errno));
	}
	rc = ctl_cluster_render(stdout, c->fmt, a, 2);
	free(buf[0]);
	free(buf[1]);
	if (fflush(stdout) != 0)
		rc = CTL_SYSERR;
	return rc;
}
