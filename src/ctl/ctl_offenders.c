/*
 * ctl_offenders.c - smtpgatectl offenders list|del|flush: what
 * smtpgate-sniffd banned or holds strikes against, through its control
 * socket (verbs "offenders", "forget IP", "forget-all").
 *
 * Exports ctl_offenders_main.  The listing adds what the kernel says: is
 * the address in offend4/offend6 right now ("kernel" yes/no), so an admin
 * sees at once when the daemon's state and the kernel's set disagree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "control.h"
#include "ctl.h"
#include "ctl_sets.h"

#define CTL_OFF_REPLY	(16 * 1024 * 1024)

static void
ctl_offenders_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl offenders list [--json]\n"
	    "       smtpgatectl offenders del IP\n"
	    "       smtpgatectl offenders flush\n");
}

/* Ask the sniffer; CTL_OK with the answer in buf, or the exit code. */
static int
ctl_offenders_ask(struct ctl *c, const char *req, char *buf, size_t len)
{
	int r = control_request(c->conf.sniffer.control_socket, req, buf, len,
	    c->timeout_ms);

	if (r == -1) {
		fprintf(stderr, "smtpgatectl: smtpgate-sniffd: %s: %s (is it "
		    "running?)\n", c->conf.sniffer.control_socket,
		    strerror(errno));
		return CTL_UNREACHABLE;
	}
	if (r == 1) {
		fprintf(stderr, "smtpgatectl: smtpgate-sniffd: %s: %s\n", req,
		    buf);
		return CTL_REFUSED;
	}
	return CTL_OK;
}

static const char *
ctl_offenders_time(const char *epoch, char *buf, size_t len)
{
	time_t t = (time_t)strtoll(epoch, NULL, 10);
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

/* Does the kernel's offend set hold a? -1 when it cannot be read. */
static int
ctl_offenders_in_kernel(const struct ctl_set_elem *e4, size_t n4,
    const struct ctl_set_elem *e6, size_t n6, const struct addr *a)
{
	const struct ctl_set_elem *e = a->family == AF_INET ? e4 : e6;
	size_t n = a->family == AF_INET ? n4 : n6;

	for (size_t i = 0; i < n; i++)
		if (addr_eq(&e[i].a, a))
			return 1;
	return 0;
}

static int
ctl_offenders_list(struct ctl *c)
{
	struct ctl_record in = { 0 };	/* reused for every line */
	struct ctl_table t = { 0 };
	struct ctl_set_elem *e4 = NULL, *e6 = NULL;
	size_t n4 = 0, n6 = 0;
	char *buf, *line, *save, err[512], tb[32];
	bool kernel;
	int rc;

	if ((buf = malloc(CTL_OFF_REPLY)) == NULL) {
		fprintf(stderr, "smtpgatectl: offenders list: malloc %d bytes "
		    "for the answer: %s\n", CTL_OFF_REPLY, strerror(errno));
		return CTL_SYSERR;
	}
	if ((rc = ctl_offenders_ask(c, "offenders", buf, CTL_OFF_REPLY)) !=
	    CTL_OK) {
		free(buf);
		return rc;
	}
	kernel = ctl_sets_dump(c->conf.nft.table, "offend4", &e4, &n4, err,
	    sizeof(err)) == 0 && ctl_sets_dump(c->conf.nft.table, "offend6",
	    &e6, &n6, err, sizeof(err)) == 0;
	if (!kernel)
		fprintf(stderr, "smtpgatectl: warning: kernel: %s (column "
		    "kernel not filled)\n", err);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ctl_record *r;
		const char *why, *ip = NULL, *until;
		struct addr a;
		long long left = 0;

		if (ctl_record_parse(line, &in, &why) == -1 ||
		    (ip = ctl_record_get(&in, "ip")) == NULL ||
		    addr_parse(ip, &a) == -1) {
			fprintf(stderr, "smtpgatectl: smtpgate-sniffd sent a "
			    "bad offenders record (%s), skipped\n",
			    ip == NULL ? "no ip" : "bad field");
			continue;
		}
		if ((r = ctl_table_add(&t)) == NULL) {
			rc = CTL_SYSERR;
			break;
		}
		until = ctl_record_get(&in, "banned_until");
		if (until != NULL && ctl_out_is_uint(until))
			left = strtoll(until, NULL, 10) - c->now;
		if (left < 0)
			left = 0;
		ctl_record_add(r, "ip", "%s", ip);
		ctl_record_add(r, "status", "%s", left > 0 ? "banned" :
		    "striking");
		ctl_record_add(r, "rule", "%s", ctl_record_get(&in, "rule") ?
		    ctl_record_get(&in, "rule") : "-");
		ctl_record_add(r, "strikes", "%s",
		    ctl_record_get(&in, "strikes") ?
		    ctl_record_get(&in, "strikes") : "0");
		ctl_record_add(r, "bans", "%s", ctl_record_get(&in, "bans") ?
		    ctl_record_get(&in, "bans") : "0");
		ctl_record_add(r, "left_s", "%lld", left);
		if (c->fmt == CTL_FMT_JSON) {
			/* Keys as literals: in's text dies with the loop. */
			static const char *const keep[] = { "first", "last",
			    "banned_until" };

			for (size_t k = 0; k < 3; k++)
				if (ctl_record_get(&in, keep[k]) != NULL)
					ctl_record_add(r, keep[k], "%s",
					    ctl_record_get(&in, keep[k]));
		} else {
			ctl_record_add(r, "last", "%s",
			    ctl_record_get(&in, "last") ? ctl_offenders_time(
			    ctl_record_get(&in, "last"), tb, sizeof(tb)) : "-");
		}
		if (kernel)
			ctl_record_add(r, "kernel", "%s",
			    ctl_offenders_in_kernel(e4, n4, e6, n6, &a) ?
			    "yes" : "no");
	}
	ctl_record_free(&in);
	if (rc == CTL_OK)
		ctl_out_table(stdout, c->fmt, &t);
	ctl_table_free(&t);
	free(e4);
	free(e6);
	free(buf);
	return rc;
}

static int
ctl_offenders_del(struct ctl *c, const char *ip)
{
	char req[CONTROL_LINE_MAX], buf[4096], text[ADDR_STRLEN];
	char *line, *save;
	struct addr a;
	bool known = false;
	int rc;

	if (addr_parse(ip, &a) == -1) {
		fprintf(stderr, "smtpgatectl: offenders del: \"%.64s\": not "
		    "an IPv4 or IPv6 address\n", ip);
		return CTL_BADINPUT;
	}
	addr_ntop(&a, text);
	char *list = malloc(CTL_OFF_REPLY);
	if (list == NULL)
		return CTL_SYSERR;
	if ((rc = ctl_offenders_ask(c, "offenders", list, CTL_OFF_REPLY)) !=
	    CTL_OK) {
		free(list);
		return rc;
	}
	for (line = strtok_r(list, "\n", &save); line != NULL && !known;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ctl_record r = { 0 };
		const char *why, *v;
		struct addr b;

		if (ctl_record_parse(line, &r, &why) == 0 &&
		    (v = ctl_record_get(&r, "ip")) != NULL &&
		    addr_parse(v, &b) == 0 && addr_eq(&a, &b))
			known = true;
		ctl_record_free(&r);
	}
	free(list);
	if (!known) {
		fprintf(stderr, "smtpgatectl: offenders del: %s is not an "
		    "offender\n", text);
		return CTL_NOTFOUND;
	}
	snprintf(req, sizeof(req), "forget %s", text);
	if ((rc = ctl_offenders_ask(c, req, buf, sizeof(buf))) != CTL_OK)
		return rc;
	printf("forgot %s (strikes and ban)\n", text);
	return CTL_OK;
}

int
ctl_offenders_main(struct ctl *c, int argc, char **argv)
{
	char buf[4096];
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		ctl_offenders_usage(stdout);
		return CTL_OK;
	}
	if (argc < 2 || !((strcmp(argv[1], "list") == 0 && argc == 2) ||
	    (strcmp(argv[1], "del") == 0 && argc == 3) ||
	    (strcmp(argv[1], "flush") == 0 && argc == 2))) {
		ctl_offenders_usage(stderr);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	if (strcmp(argv[1], "list") == 0)
		return ctl_offenders_list(c);
	if (strcmp(argv[1], "del") == 0)
		return ctl_offenders_del(c, argv[2]);
	if ((rc = ctl_offenders_ask(c, "forget-all", buf, sizeof(buf))) !=
	    CTL_OK)
		return rc;
	printf("forgot every offender\n");
	return CTL_OK;
}
