/*
 * bench_spf - SPF checks per second two ways, against the same resolver:
 *
 *   bench_spf -m sandbox -n N [-w WORKERS] [-c INFLIGHT] -r RESOLVER
 *             CLIENT DOMAIN_FMT
 *       smtpgate's path: spfcheck, the sandboxed helper processes, DNS
 *       fetched by our c-ares on the event loop (INFLIGHT checks kept
 *       under way, default 64);
 *   bench_spf -m inproc -n N [-t THREADS] CLIENT DOMAIN_FMT
 *       the design it replaced: libspf2 inside the process, one
 *       SPF_server per thread, resolving with the system resolver
 *       (/etc/resolv.conf, which the test world points at its unbound).
 *
 * DOMAIN_FMT has one %u, the check's number, so every check names its own
 * domain (bench/spf.sh serves them all from one redirect zone).
 * CLIENT is the first of 200 IPv4 clients the checks take in turn.
 * Prints one line: "mode=M checks=N seconds=S rate=R pass=P other=O".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <spf2/spf.h>

#include "addr.h"
#include "conf.h"
#include "evloop.h"
#include "log.h"
#include "spfcheck.h"

struct bench {
	const char *fmt;
	struct addr client;
	unsigned n, next, done, pass;
	unsigned threads;
	pthread_mutex_t mu;
	/* sandbox */
	struct evloop *ev;
	struct spfcheck *s;
	uint32_t deadline_ms;
};

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- in process ---- */

static void *
bench_inproc_run(void *arg)
{
	struct bench *b = arg;
	SPF_server_t *srv = SPF_server_new(SPF_DNS_RESOLV, 0);
	char dom[256];

	if (srv == NULL)
		return NULL;
	for (;;) {
		SPF_request_t *req;
		SPF_response_t *resp = NULL;
		struct in_addr a;
		unsigned i;

		pthread_mutex_lock(&b->mu);
		i = b->next < b->n ? b->next++ : b->n;
		pthread_mutex_unlock(&b->mu);
		if (i == b->n)
			break;
		snprintf(dom, sizeof(dom), b->fmt, i);
		req = SPF_request_new(srv);
		a.s_addr = htonl(addr_v4(&b->client) + i % 200);
		SPF_request_set_ipv4(req, a);
		SPF_request_set_helo_dom(req, dom);
		SPF_request_set_env_from(req, "");
		SPF_request_query_mailfrom(req, &resp);
		pthread_mutex_lock(&b->mu);
		b->done++;
		if (resp != NULL && SPF_response_result(resp) ==
		    SPF_RESULT_PASS)
			b->pass++;
		pthread_mutex_unlock(&b->mu);
		if (resp != NULL)
			SPF_response_free(resp);
		SPF_request_free(req);
	}
	SPF_server_free(srv);
	return NULL;
}

static void
bench_inproc(struct bench *b)
{
	pthread_t t[64];

	for (unsigned i = 0; i < b->threads; i++)
		pthread_create(&t[i], NULL, bench_inproc_run, b);
	for (unsigned i = 0; i < b->threads; i++)
		pthread_join(t[i], NULL);
}

/* ---- sandboxed ---- */

static void bench_sandbox_next(struct bench *b);

static void
bench_sandbox_done(void *arg, enum spfcheck_result r)
{
	struct bench *b = arg;

	b->done++;
	if (r == SPFCHECK_PASS)
		b->pass++;
	if (b->done == b->n)
		evloop_break(b->ev);
	else
		bench_sandbox_next(b);
}

static void
bench_sandbox_next(struct bench *b)
{
	char dom[256];
	struct spfcheck_req q;

	if (b->next == b->n)
		return;
	q.client = b->client;
	{
		uint8_t v4[4];
		uint32_t a = addr_v4(&b->client) + b->next % 200;

		v4[0] = (uint8_t)(a >> 24);
		v4[1] = (uint8_t)(a >> 16);
		v4[2] = (uint8_t)(a >> 8);
		v4[3] = (uint8_t)a;
		addr_from_v4(&q.client, v4);
	}
	snprintf(dom, sizeof(dom), b->fmt, b->next++);
	q.helo = dom;
	q.mail_from = NULL;
	q.deadline_ms = evloop_now_ms(b->ev) + b->deadline_ms;
	if (spfcheck_query(b->s, &q, bench_sandbox_done, b) == -1) {
		fprintf(stderr, "bench_spf: spfcheck_query: %s\n",
		    strerror(errno));
		b->done++;
	}
}

int
main(int argc, char *argv[])
{
	static struct bench b;
	struct spfcheck_opts o = { .workers = 4, .max_per_client = 1000000,
	    .user = "", .screen = true };
	struct conf_dns dns = { .timeout_ms = 1000, .tries = 2 };
	const char *mode = "sandbox";
	unsigned inflight = 64;
	char err[512], info[128];
	double t0, dt;
	int ch;

	b.n = 1000;
	b.threads = 2;
	b.deadline_ms = 5000;
	while ((ch = getopt(argc, argv, "m:n:w:c:t:r:")) != -1) {
		switch (ch) {
		case 'm': mode = optarg; break;
		case 'n': b.n = (unsigned)atoi(optarg); break;
		case 'w': o.workers = (unsigned)atoi(optarg); break;
		case 'c': inflight = (unsigned)atoi(optarg); break;
		case 't': b.threads = (unsigned)atoi(optarg); break;
		case 'r':
			snprintf(dns.servers, sizeof(dns.servers), "%s", optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind + 2 != argc || addr_parse(argv[optind], &b.client) != 0 ||
	    b.client.family != AF_INET || b.n == 0 || b.threads == 0 ||
	    b.threads > 64)
		goto usage;
	b.fmt = argv[optind + 1];
	pthread_mutex_init(&b.mu, NULL);
	log_init("bench_spf", 1);
	if (strcmp(mode, "inproc") == 0) {
		t0 = bench_now();
		bench_inproc(&b);
	} else if (strcmp(mode, "sandbox") == 0) {
		ares_library_init(ARES_LIB_INIT_ALL);
		if ((b.ev = evloop_new()) == NULL ||
		    (b.s = spfcheck_new(b.ev, &dns, &o, info, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "bench_spf: %s\n", err);
			return 1;
		}
		t0 = bench_now();
		for (unsigned i = 0; i < inflight; i++)
			bench_sandbox_next(&b);
		evloop_run(b.ev);
	} else {
		goto usage;
	}
	dt = bench_now() - t0;
	printf("mode=%s checks=%u seconds=%.3f rate=%.0f pass=%u other=%u\n",
	    mode, b.done, dt, (double)b.done / dt, b.pass, b.done - b.pass);
	if (b.s != NULL) {
		spfcheck_free(b.s);
		evloop_free(b.ev);
	}
	return 0;
usage:
	fprintf(stderr, "usage: bench_spf -m sandbox|inproc [-n N] [-w W] "
	    "[-c INFLIGHT] [-t THREADS] [-r RESOLVER] CLIENT DOMAIN_FMT\n");
	return 1;
}
