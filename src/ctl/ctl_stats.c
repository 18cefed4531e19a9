/*
 * ctl_stats.c - smtpgatectl stats and reload: both daemons through their
 * control sockets ([gate] control_socket, [sniffer] control_socket).
 *
 * Exports ctl_stats_main and ctl_reload_main.  A daemon that cannot be
 * reached is reported (text: a line; JSON: null; Prometheus:
 * smtpgate_up{daemon="..."} 0) and makes the exit code 2, but the other
 * daemon's answer is still printed: a textfile collector then still gets
 * its metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"

enum { CTL_D_GATE, CTL_D_SNIFF, CTL_D_MAX };

static const struct {
	const char *name;	/* as shown */
	const char *metric;	/* metric name part */
	const char *pick;	/* command-line word */
} ctl_daemons[CTL_D_MAX] = {
	{ "smtpgated", "gate", "gate" },
	{ "smtpgate-sniffd", "sniffd", "sniffer" },
};

static const char *
ctl_stats_socket(const struct ctl *c, int d)
{
	return d == CTL_D_GATE ? c->conf.gate.control_socket :
	    c->conf.sniffer.control_socket;
}

/* Which daemons the arguments pick (none: both).  -1 on a bad word. */
static int
ctl_stats_pick(const char *cmd, int argc, char **argv, bool want[CTL_D_MAX])
{
	if (argc == 1) {
		want[CTL_D_GATE] = want[CTL_D_SNIFF] = true;
		return 0;
	}
	want[CTL_D_GATE] = want[CTL_D_SNIFF] = false;
	for (int i = 1; i < argc; i++) {
		int d;

		for (d = 0; d < CTL_D_MAX; d++)
			if (strcmp(argv[i], ctl_daemons[d].pick) == 0 ||
			    strcmp(argv[i], ctl_daemons[d].name) == 0)
				break;
		if (d == CTL_D_MAX) {
			fprintf(stderr, "smtpgatectl: %s: \"%.32s\": want "
			    "gate or sniffer\n", cmd, argv[i]);
			return -1;
		}
		want[d] = true;
	}
	return 0;
}

/*
 * Ask daemon d one verb.  0 with the answer's data in buf; otherwise the
 * fault is reported on stderr, *rc updated (unreachable, or refused), and
 * the control_request result (-1 or 1) returned.
 */
static int
ctl_stats_ask(struct ctl *c, int d, const char *verb, char *buf, size_t len,
    int *rc)
{
	int r = control_request(ctl_stats_socket(c, d), verb, buf, len,
	    c->timeout_ms);

	if (r == -1) {
		fprintf(stderr, "smtpgatectl: %s: %s: %s (is it running?)\n",
		    ctl_daemons[d].name, ctl_stats_socket(c, d),
		    strerror(errno));
		*rc = CTL_UNREACHABLE;
	} else if (r == 1) {
		fprintf(stderr, "smtpgatectl: %s: %s: %s\n",
		    ctl_daemons[d].name, verb, buf);
		if (*rc == CTL_OK)
			*rc = CTL_REFUSED;
	}
	return r;
}

int
ctl_stats_main(struct ctl *c, int argc, char **argv)
{
	bool want[CTL_D_MAX];
	struct ctl_record rec[CTL_D_MAX] = { 0 };
	bool up[CTL_D_MAX] = { false, false };
	char buf[8192];
	int rc;

	if (ctl_stats_pick("stats", argc, argv, want) == -1)
		return CTL_BADINPUT;
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	for (int d = 0; d < CTL_D_MAX; d++) {
		const char *why;

		if (!want[d])
			continue;
		if (ctl_stats_ask(c, d, "stats", buf, sizeof(buf), &rc) != 0)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (ctl_record_parse(buf, &rec[d], &why) == -1) {
			fprintf(stderr, "smtpgatectl: %s: stats: %s\n",
			    ctl_daemons[d].name, why);
			if (rc == CTL_OK)
				rc = CTL_REFUSED;
			continue;
		}
		up[d] = true;
	}

	if (c->fmt == CTL_FMT_PROM) {
		printf("# HELP smtpgate_up Whether smtpgatectl reached the "
		    "daemon's control socket.\n# TYPE smtpgate_up gauge\n");
		for (int d = 0; d < CTL_D_MAX; d++)
			if (want[d])
				printf("smtpgate_up{daemon=\"%s\"} %d\n",
				    ctl_daemons[d].name, up[d] ? 1 : 0);
		for (int d = 0; d < CTL_D_MAX; d++)
			if (up[d])
				ctl_out_prom(stdout, ctl_daemons[d].metric,
				    &rec[d]);
	} else if (c->fmt == CTL_FMT_JSON) {
		bool first = true;

		printf("{");
		for (int d = 0; d < CTL_D_MAX; d++) {
			if (!want[d])
				continue;
			printf("%s\n ", first ? "" : ",");
			first = false;
			ctl_out_json_str(stdout, ctl_daemons[d].name);
			if (!up[d]) {
				printf(": null");
				continue;
			}
			printf(": {");
			for (size_t k = 0; k < rec[d].n; k++) {
				printf(k ? ", " : "");
				ctl_out_json_str(stdout, rec[d].key[k]);
				printf(": ");
				ctl_out_json_val(stdout, rec[d].val[k]);
			}
			printf("}");
		}
		printf("\n}\n");
	} else {
		for (int d = 0; d < CTL_D_MAX; d++) {
			if (!want[d])
				continue;
			printf("%s:%s\n", ctl_daemons[d].name, up[d] ? "" :
			    " not reachable");
			for (size_t k = 0; up[d] && k < rec[d].n; k++)
				printf("  %-16s %s\n", rec[d].key[k],
				    rec[d].val[k]);
		}
	}
	for (int d = 0; d < CTL_D_MAX; d++)
		ctl_record_free(&rec[d]);
	if (fflush(stdout) != 0)
		rc = CTL_SYSERR;
	return rc;
}

int
ctl_reload_main(struct ctl *c, int argc, char **argv)
{
	bool want[CTL_D_MAX];
	char buf[4096];
	int rc;

	if (ctl_stats_pick("reload", argc, argv, want) == -1)
		return CTL_BADINPUT;
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	for (int d = 0; d < CTL_D_MAX; d++) {
		if (!want[d])
			continue;
		if (ctl_stats_ask(c, d, "reload", buf, sizeof(buf), &rc) == 0)
			printf("%s: reloaded\n", ctl_daemons[d].name);
	}
	return rc;
}
