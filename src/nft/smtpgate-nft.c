/*
 * smtpgate-nft - install, check and remove smtpgate's nftables table.
 *
 *   smtpgate-nft [-c file] [-n] [-q native|xtables] install
 *   smtpgate-nft [-c file] remove
 *   smtpgate-nft [-c file] status
 *   smtpgate-nft probe
 *
 * The table is the one of nft/smtpgate.nft, built from smtpgate.conf
 * ([gate] queue, ports, trusted; [sniffer] queue, packets; [nft] table and
 * set sizes) by nftrules.c and sent through the netlink module; the
 * batches are kept as golden files (tests/golden/ruleset-*.txt).  install
 * probes the kernel first and queues with the native nft `queue`
 * expression when it exists, else with the xtables NFQUEUE target inside
 * the same chain.  Exit: 0 ok, 1 bad usage or configuration, 2 the kernel
 * refused (or netlink failed), 3 (status) table not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "nftrules.h"

#define EXIT_USAGE	1
#define EXIT_KERNEL	2
#define EXIT_ABSENT	3

static void
usage(void)
{
	fprintf(stderr,
	    "usage: smtpgate-nft [-c file] [-n] [-q native|xtables] install\n"
	    "       smtpgate-nft [-c file] remove\n"
	    "       smtpgate-nft [-c file] status\n"
	    "       smtpgate-nft probe\n");
	exit(EXIT_USAGE);
}

/* Load the configuration; a missing default file means the defaults. */
static void
load_conf(const char *path, bool given, struct conf *c)
{
	char err[CONF_ERR_MAX];

	if (!given && access(path, F_OK) == -1 && errno == ENOENT) {
		fprintf(stderr, "smtpgate-nft: %s: not found, using the "
		    "built-in defaults\n", path);
		conf_defaults(c);
		return;
	}
	if (conf_load(path, c, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpgate-nft: %s\n", err);
		exit(EXIT_USAGE);
	}
}

static int
cmd_probe(void)
{
	char err[512];
	int rc = nftrules_probe(err, sizeof(err));

	if (rc == -1) {
		fprintf(stderr, "smtpgate-nft: %s\n", err);
		return EXIT_KERNEL;
	}
	if (rc == 1)
		printf("probe: nft queue expression present (install uses "
		    "it)\n");
	else
		printf("probe: nft queue expression absent (install uses the "
		    "xtables NFQUEUE target)\n");
	return 0;
}

static int
cmd_install(const struct conf *cf, bool dry, const char *force)
{
	struct nftrules_conf c;
	enum nftrules_queue q;
	char err[CONF_ERR_MAX];
	int p;

	nftrules_conf_from(&c, cf);
	/* conf_load checked the keys, as smtpgated -n does; this is the
	 * rest of -n's check, so the two never disagree about a file. */
	if (conf_check_files(cf, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpgate-nft: %s: %s\n", cf->path[0] ?
		    cf->path : "defaults", err);
		return EXIT_USAGE;
	}
	if (force != NULL) {
		q = strcmp(force, "native") == 0 ? NFTRULES_QUEUE_NATIVE :
		    NFTRULES_QUEUE_XT;
	} else {
		if ((p = nftrules_probe(err, sizeof(err))) == -1) {
			fprintf(stderr, "smtpgate-nft: %s\n", err);
			return EXIT_KERNEL;
		}
		q = p == 1 ? NFTRULES_QUEUE_NATIVE : NFTRULES_QUEUE_XT;
	}
	if (nftrules_install(&c, q, !dry, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpgate-nft: %s\n", err);
		return EXIT_KERNEL;
	}
	printf("%s table inet %s (queue: %s%s)%s\n", dry ? "validated" :
	    "installed", c.table, nftrules_queue_name(q),
	    q == NFTRULES_QUEUE_XT && force == NULL ?
	    ", kernel lacks nft queue" : "", dry ? ", nothing committed" : "");
	return 0;
}

static int
cmd_remove(const struct conf *cf)
{
	char err[512];

	if (nftrules_remove(cf->nft.table, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtpgate-nft: %s\n", err);
		return EXIT_KERNEL;
	}
	printf("removed table inet %s\n", cf->nft.table);
	return 0;
}

static int
cmd_status(const struct conf *cf)
{
	enum nftrules_queue q;
	uint16_t num;
	char err[512];
	int rc;

	rc = nftrules_status(cf->nft.table, &q, &num, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "smtpgate-nft: %s\n", err);
		return EXIT_KERNEL;
	}
	if (rc == 0) {
		printf("table inet %s: not installed\n", cf->nft.table);
		return EXIT_ABSENT;
	}
	if (q == NFTRULES_QUEUE_NONE)
		printf("table inet %s: installed (queue: none)\n",
		    cf->nft.table);
	else
		printf("table inet %s: installed (queue: %s, num %u)\n",
		    cf->nft.table, nftrules_queue_name(q), num);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = CONF_PATH_DEFAULT, *force = NULL, *cmd;
	bool given = false, dry = false;
	struct conf cf;
	int ch;

	while ((ch = getopt(argc, argv, "c:nq:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			given = true;
			break;
		case 'n':
			dry = true;
			break;
		case 'q':
			if (strcmp(optarg, "native") != 0 &&
			    strcmp(optarg, "xtables") != 0) {
				fprintf(stderr, "smtpgate-nft: -q %s: want "
				    "native or xtables\n", optarg);
				usage();
			}
			force = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	cmd = argv[optind];

	if (strcmp(cmd, "probe") == 0)
		return cmd_probe();
	if (strcmp(cmd, "install") != 0 && strcmp(cmd, "remove") != 0 &&
	    strcmp(cmd, "status") != 0) {
		fprintf(stderr, "smtpgate-nft: unknown command \"%s\"\n", cmd);
		usage();
	}
	if ((dry || force) && strcmp(cmd, "install") != 0) {
		fprintf(stderr, "smtpgate-nft: -n and -q go with install\n");
		usage();
	}
	load_conf(path, given, &cf);
	if (strcmp(cmd, "install") == 0)
		return cmd_install(&cf, dry, force);
	if (strcmp(cmd, "remove") == 0)
		return cmd_remove(&cf);
	return cmd_status(&cf);
}
