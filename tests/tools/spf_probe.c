/*
 * spf_probe - run SPF checks through smtpgate's own SPF path (spfcheck:
 * the sandboxed helpers, their DNS through our c-ares) and print the
 * results; for the tests, the RFC 7208 suite and the benchmark.
 *
 *   spf_probe -r RESOLVERS [-w WORKERS] [-c PER_CLIENT] [-t DEADLINE_MS]
 *             [-u USER] [-n] [-s]
 *
 * Reads one check per line on stdin, tab-separated:
 *   ID  helo|mailfrom  CLIENT-IP  HELO  MAIL-FROM
 * (MAIL-FROM "-" for none), queues them all at once, and prints
 * "ID<TAB>RESULT" as each is answered (RESULT as spfcheck_name), then,
 * with -s, the helpers' counters on stderr.  -n turns the record screen
 * off, to show what the sandbox alone contains.  Exit 0 when every check
 * was answered, 1 on a usage or set-up error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>

#include "addr.h"
#include "conf.h"
#include "evloop.h"
#include "log.h"
#include "spfcheck.h"

#define PROBE_MAX	8192

struct probe_item {
	struct probe *p;
	char id[64];
	struct addr client;
	char helo[SPFCHECK_NAME_MAX];
	char from[SPFCHECK_SENDER_MAX];
	bool mailfrom;
};

struct probe {
	struct evloop *ev;
	size_t due;
};

static void
probe_done(void *arg, enum spfcheck_result r)
{
	struct probe_item *it = arg;

	printf("%s\t%s\n", it->id, spfcheck_name(r));
	fflush(stdout);
	if (--it->p->due == 0)
		evloop_break(it->p->ev);
}

static int
probe_parse(char *line, struct probe_item *it)
{
	char *f[5], *save = NULL;
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *t = strtok_r(line, "\t", &save); t && n < 5;
	    t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	if (n != 5 || strlen(f[0]) >= sizeof(it->id) ||
	    addr_parse(f[2], &it->client) != 0 ||
	    strlen(f[3]) >= sizeof(it->helo) ||
	    strlen(f[4]) >= sizeof(it->from))
		return -1;
	snprintf(it->id, sizeof(it->id), "%s", f[0]);
	it->mailfrom = strcmp(f[1], "mailfrom") == 0;
	snprintf(it->helo, sizeof(it->helo), "%s", f[3]);
	snprintf(it->from, sizeof(it->from), "%s", strcmp(f[4], "-") == 0 ?
	    "" : f[4]);
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct probe_item items[PROBE_MAX];
	struct spfcheck_opts o = { .workers = 2, .max_per_client = 1000,
	    .user = "", .screen = true };
	struct conf_dns dns = { .timeout_ms = 1000, .tries = 2 };
	uint32_t deadline = 5000;
	struct probe p = { 0 };
	struct spfcheck *s;
	char line[1024], err[512], info[128];
	size_t n = 0;
	int ch, stats = 0;

	while ((ch = getopt(argc, argv, "r:w:c:t:u:ns")) != -1) {
		switch (ch) {
		case 'r':
			snprintf(dns.servers, sizeof(dns.servers), "%s", optarg);
			break;
		case 'w':
			o.workers = (unsigned)atoi(optarg);
			break;
		case 'c':
			o.max_per_client = (unsigned)atoi(optarg);
			break;
		case 't':
			deadline = (uint32_t)atoi(optarg);
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'n':
			o.screen = false;
			break;
		case 's':
			stats = 1;
			break;
		default:
			fprintf(stderr, "usage: spf_probe -r RESOLVERS [-w N] "
			    "[-c N] [-t MS] [-u USER] [-n] [-s] <checks\n");
			return 1;
		}
	}
	log_init("spf_probe", 1);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS ||
	    (p.ev = evloop_new()) == NULL) {
		fprintf(stderr, "spf_probe: set-up failed\n");
		return 1;
	}
	if ((s = spfcheck_new(p.ev, &dns, &o, info, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "spf_probe: %s\n", err);
		return 1;
	}
	fprintf(stderr, "spf_probe: %s\n", info);
	while (n < PROBE_MAX && fgets(line, sizeof(line), stdin) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (probe_parse(line, &items[n]) == -1) {
			fprintf(stderr, "spf_probe: bad line: %s\n", line);
			return 1;
		}
		items[n].p = &p;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		struct spfcheck_req q = { .client = items[i].client,
		    .helo = items[i].helo,
		    .mail_from = items[i].mailfrom ? items[i].from : NULL,
		    .deadline_ms = evloop_now_ms(p.ev) + deadline };

		p.due++;
		if (spfcheck_query(s, &q, probe_done, &items[i]) == -1) {
			p.due--;
			printf("%s\trefused(%s)\n", items[i].id,
			    strerror(errno));
		}
	}
	if (p.due > 0)
		evloop_run(p.ev);
	if (stats) {
		const struct spfcheck_stats *st = spfcheck_stats(s);

		fprintf(stderr, "spf_probe: checks=%llu joined=%llu "
		    "refused=%llu expired=%llu timeouts=%llu deaths=%llu "
		    "kills=%llu screened=%llu protocol=%llu dns_queries=%llu "
		    "replays=%llu workers_up=%u\n", (unsigned long long)st->checks,
		    (unsigned long long)st->joined,
		    (unsigned long long)st->refused,
		    (unsigned long long)st->expired,
		    (unsigned long long)st->timeouts,
		    (unsigned long long)st->deaths,
		    (unsigned long long)st->kills,
		    (unsigned long long)st->screened,
		    (unsigned long long)st->protocol,
		    (unsigned long long)st->dns_queries,
		    (unsigned long long)st->replays, st->workers_up);
	}
	spfcheck_free(s);
	evloop_free(p.ev);
	ares_library_cleanup();
	return 0;
}
