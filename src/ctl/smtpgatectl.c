/*
 * smtpgatectl.c - the management command: global options, the command
 * table, and classify-ptr.
 *
 * Each command lives in its own file (ctl.h lists them) and parses its
 * own options.  --json and --prometheus are taken wherever they stand
 * after the command name (up to a "--"), so every listing command has
 * them.  Exit codes (enum ctl_exit, smtpgatectl(8)): 0 done, 1 refused
 * input, 2 a daemon or the kernel unreachable, 3 no such entry, 4 a
 * daemon answered an error, 5 local system error, 6 a step of identity
 * failed.
 *
 * classify-ptr [--unconfirmed] [--providers FILE]
 *     read "ip<TAB>ptr[<TAB>...]" lines on stdin, write
 *     "ip<TAB>ptr<TAB>class<TAB>reason".  A header line starting with
 *     "ip<TAB>ptr" is skipped; a bad line is reported on stderr as
 *     "stdin:LINE: reason", skipped, and makes the exit code 1.  An
 *     invalid name is echoed with bytes outside printable ASCII as '?'.
 *     The provider table is the built-in one, extended by FILE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ctl.h"
#include "ptrclass.h"

#define CTL_LINE_MAX 4096

struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *args;
	const char *help;
};

static int ctl_classify_ptr(struct ctl *c, int argc, char **argv);

static const struct ctl_cmd ctl_cmds[] = {
	{ "allow", ctl_allow_main,
	  "add CIDR [--comment TEXT] [--expires DURATION] | del CIDR |\n"
	  "      list | import FILE|- | apply",
	  "the allow list: senders never gated (file and kernel sets)" },
	{ "offenders", ctl_offenders_main, "list | del IP | flush",
	  "what smtpgate-sniffd banned or holds strikes against" },
	{ "cache", ctl_cache_main, "list | del IP | flush [pass|deny|drop]",
	  "the gate's cached verdicts in the kernel" },
	{ "check", ctl_check_main, "IP [--helo NAME] [--mail-from ADDR]",
	  "run every check live and explain the verdict" },
	{ "identity", ctl_identity_main,
	  "HOST|IP [--helo NAME] [--connect]",
	  "your own server as a receiving gateway sees it, step by step" },
	{ "stats", ctl_stats_main, "[gate] [sniffer] [--prometheus]",
	  "counters of the daemons" },
	{ "reload", ctl_reload_main, "[gate] [sniffer]",
	  "the daemons re-read their configuration and the allow list" },
	{ "cluster", ctl_cluster_main, "status [--json]",
	  "[cluster] sharing: connection, siblings, counters of each daemon" },
	{ "report", ctl_report_main,
	  "[--since 180d] [--split 90d] [--csv] [--rule NAME]\n"
	  "      [--journal FILE]",
	  "per rule, the addresses that met it and those accepted anyway" },
	{ "suspects", ctl_suspects_main, "[--since 30d] [--journal FILE]",
	  "refused senders that look like mail servers, with the allow line" },
	{ "classify-ptr", ctl_classify_ptr,
	  "[--unconfirmed] [--providers FILE]",
	  "classify ip<TAB>ptr lines from stdin as generic or named" },
};

static void ctl_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: smtpgatectl [-c FILE] [-t MS] COMMAND [ARGS] "
	    "[--json]\n"
	    "  -c FILE   configuration file (default %s)\n"
	    "  -t MS     wait at most MS for a daemon's answer (default "
	    "5000)\n"
	    "  --json    JSON output (listings, stats, check, report, "
	    "suspects, cluster)\n"
	    "commands:\n", CONF_PATH_DEFAULT);
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(f, "  %s %s\n      %s\n", ctl_cmds[i].name,
		    ctl_cmds[i].args, ctl_cmds[i].help);
	fprintf(f, "exit: 0 done, 1 refused input, 2 daemon or kernel "
	    "unreachable, 3 no such entry,\n      4 daemon refused, "
	    "5 system error,\n      6 a step of identity failed\n");
}

/*
 * Parse an address with inet_pton; an IPv4-mapped IPv6 address becomes
 * IPv4, as addr_parse() does in the library.
 */
static int ctl_parse_addr(const char *s, struct addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = AF_INET6;
		if (memcmp(a->b, mapped, 12) == 0) {
			memmove(a->b, a->b + 12, 4);
			memset(a->b + 4, 0, 12);
			a->family = AF_INET;
		}
		return 0;
	}
	return -1;
}

/* s shortened and with bytes outside printable ASCII as '?', into buf. */
static const char *ctl_printable(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static int ctl_classify_ptr(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unconfirmed", no_argument, NULL, 'u' },
		{ "providers", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *providers = NULL;
	bool confirmed = true;
	char err[512], *line = NULL;
	size_t linecap = 0;
	ssize_t got;
	struct ptrclass *pc;
	unsigned long lineno = 0;
	int c, rc = CTL_OK;

	(void)ctl;	/* the configuration file holds nothing for this yet */
	optind = 0;	/* glibc: 0 re-initialises (main used "+" ordering) */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			confirmed = false;
			break;
		case 'p':
			providers = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK;
		default:
			ctl_usage(stderr);
			return CTL_BADINPUT;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "smtpgatectl: classify-ptr: unexpected "
		    "argument \"%s\"\n", argv[optind]);
		ctl_usage(stderr);
		return CTL_BADINPUT;
	}
	/* The built-in table, extended by --providers, as the gate's
	 * default ptr_providers_mode. */
	if ((pc = ptrclass_new_tables(providers, true, err, sizeof(err))) ==
	    NULL) {
		rc = errno == EINVAL ? CTL_BADINPUT : CTL_SYSERR;
		fprintf(stderr, "smtpgatectl: %s\n", err);
		return rc;
	}

	while ((got = getline(&line, &linecap, stdin)) != -1) {
		size_t len = (size_t)got;
		char *ip, *ptr, *tab;
		struct addr a;
		struct ptr_verdict v;

		lineno++;
		if (len > CTL_LINE_MAX) {
			fprintf(stderr, "stdin:%lu: line longer than %d bytes\n",
			    lineno, CTL_LINE_MAX);
			rc = CTL_BADINPUT;
			continue;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strlen(line) != len) {
			fprintf(stderr, "stdin:%lu: NUL byte in line\n", lineno);
			rc = CTL_BADINPUT;
			continue;
		}
		if (len == 0 || line[0] == '#')
			continue;
		if (lineno == 1 && strncmp(line, "ip\tptr", 6) == 0 &&
		    (line[6] == '\0' || line[6] == '\t'))
			continue;
		ip = line;
		if ((tab = strchr(ip, '\t')) == NULL) {
			fprintf(stderr, "stdin:%lu: want ip<TAB>ptr\n", lineno);
			rc = CTL_BADINPUT;
			continue;
		}
		*tab = '\0';
		ptr = tab + 1;
		if ((tab = strchr(ptr, '\t')) != NULL)
			*tab = '\0';	/* extra columns are ignored */
		if (ctl_parse_addr(ip, &a) < 0) {
			char shown[72];

			fprintf(stderr, "stdin:%lu: \"%s\": not an IPv4 or "
			    "IPv6 address\n", lineno,
			    ctl_printable(ip, shown, sizeof(shown)));
			rc = CTL_BADINPUT;
			continue;
		}
		if (ptr[0] == '\0') {
			fprintf(stderr, "stdin:%lu: empty ptr\n", lineno);
			rc = CTL_BADINPUT;
			continue;
		}
		ptrclass_classify(pc, ptr, &a, confirmed, &v);
		if (v.cls == PTR_INVALID) {
			/* echo a hostile name in a form a script can parse */
			for (tab = ptr; *tab != '\0'; tab++)
				if (*tab < 0x20 || *tab >= 0x7f)
					*tab = '?';
		}
		printf("%s\t%s\t%s\t%s\n", ip, ptr, ptrclass_name(v.cls),
		    v.reason);
	}
	if (ferror(stdin)) {
		fprintf(stderr, "smtpgatectl: read stdin: %s\n", strerror(errno));
		rc = CTL_SYSERR;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "smtpgatectl: write stdout: %s\n",
		    strerror(errno));
		rc = CTL_SYSERR;
	}
	free(line);
	ptrclass_free(pc);
	return rc;
}

int main(int argc, char **argv)
{
	static struct ctl ctl;	/* holds a struct conf: off the stack */
	char why[128];
	long long ms;
	size_t i;
	int c, j, k;

	ctl.conf_path = CONF_PATH_DEFAULT;
	ctl.fmt = CTL_FMT_TEXT;
	ctl.now = (int64_t)time(NULL);
	ctl.timeout_ms = 5000;
	/* '+': stop at the command name; the command parses the rest */
	while ((c = getopt(argc, argv, "+c:t:h")) != -1) {
		switch (c) {
		case 'c':
			ctl.conf_path = optarg;
			break;
		case 't':
			if (conf_parse_number(optarg, 1, 600000, &ms, why,
			    sizeof(why)) == -1) {
				fprintf(stderr, "smtpgatectl: -t (ms): %s\n",
				    why);
				return CTL_BADINPUT;
			}
			ctl.timeout_ms = (int)ms;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK;
		default:
			ctl_usage(stderr);
			return CTL_BADINPUT;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return CTL_BADINPUT;
	}
	argc -= optind;
	argv += optind;
	/* Output options anywhere after the command, up to "--". */
	for (j = 1, k = 1; j < argc; j++) {
		if (strcmp(argv[j], "--") == 0) {
			while (j < argc)
				argv[k++] = argv[j++];
			break;
		}
		if (strcmp(argv[j], "--json") == 0)
			ctl.fmt = CTL_FMT_JSON;
		else if (strcmp(argv[j], "--prometheus") == 0)
			ctl.fmt = CTL_FMT_PROM;
		else
			argv[k++] = argv[j];
	}
	argc = k;
	argv[argc] = NULL;
	if (ctl.fmt == CTL_FMT_PROM && strcmp(argv[0], "stats") != 0) {
		fprintf(stderr, "smtpgatectl: --prometheus is for stats "
		    "only\n");
		return CTL_BADINPUT;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(argv[0], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].run(&ctl, argc, argv);
	fprintf(stderr, "smtpgatectl: unknown command \"%.32s\"\n", argv[0]);
	ctl_usage(stderr);
	return CTL_BADINPUT;
}
