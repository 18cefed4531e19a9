/*
 * nfdelay - a slow link for the tests, where there is no tc netem: hold
 * every packet queued to NFQUEUE number QUEUE for DELAY_MS, then accept
 * it, in the order they came.  Put it in the client's namespace behind an
 * xtables rule that queues what the client receives (only there: the
 * gateway's packets are never queued), and each round trip through the
 * client takes DELAY_MS more.
 *
 *   nfdelay QUEUE DELAY_MS
 *
 * Runs until SIGTERM or SIGINT; prints "nfdelay: queue Q delay D ms
 * ready" on stdout once bound, and the packets it held on exit.  Uses
 * smtpgate's own queue (queue.h) on its event loop, one timer per packet.
 * Exit 1 on a usage or set-up error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evloop.h"
#include "queue.h"

struct nfdelay;

struct nfdelay_pkt {
	struct nfdelay *d;
	uint32_t id;
};

struct nfdelay {
	struct evloop *ev;
	struct queue *q;
	int64_t delay_ms;
	unsigned long held, failed;
};

static void
nfdelay_release(void *arg)
{
	struct nfdelay_pkt *p = arg;

	if (queue_verdict(p->d->q, p->id, QUEUE_ACCEPT, 0) == -1)
		p->d->failed++;
	free(p);
}

static void
nfdelay_packet(void *arg, const struct queue_packet *qp)
{
	struct nfdelay *d = arg;
	struct nfdelay_pkt *p = malloc(sizeof(*p));

	d->held++;
	if (p == NULL || evloop_timer_at(d->ev, evloop_now_ms(d->ev) +
	    d->delay_ms, nfdelay_release, p) == NULL) {
		/* Never hold a packet we cannot release. */
		free(p);
		d->failed++;
		(void)queue_verdict(d->q, qp->id, QUEUE_ACCEPT, 0);
		return;
	}
	p->d = d;
	p->id = qp->id;
}

static void
nfdelay_stop(int signo, void *arg)
{
	(void)signo;
	evloop_break(arg);
}

int
main(int argc, char *argv[])
{
	struct nfdelay d;
	char err[256], *end;
	long num, ms;

	if (argc != 3 || (num = strtol(argv[1], &end, 10), *end != '\0') ||
	    num < 0 || num > 65535 || (ms = strtol(argv[2], &end, 10),
	    *end != '\0') || ms < 0 || ms > 10000) {
		fprintf(stderr, "usage: nfdelay QUEUE DELAY_MS (0..10000)\n");
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.delay_ms = ms;
	if ((d.ev = evloop_new()) == NULL) {
		fprintf(stderr, "nfdelay: evloop_new: %s\n", strerror(errno));
		return 1;
	}
	if ((d.q = queue_open(d.ev, (uint16_t)num, 4096, 0xffff,
	    nfdelay_packet, &d, err, sizeof(err))) == NULL) {
		fprintf(stderr, "nfdelay: %s\n", err);
		return 1;
	}
	if (evloop_signal(d.ev, SIGTERM, nfdelay_stop, d.ev) == -1 ||
	    evloop_signal(d.ev, SIGINT, nfdelay_stop, d.ev) == -1) {
		fprintf(stderr, "nfdelay: signals: %s\n", strerror(errno));
		return 1;
	}
	printf("nfdelay: queue %ld delay %ld ms ready\n", num, ms);
	fflush(stdout);
	(void)evloop_run(d.ev);
	/* Closing unbinds: what is still held is dropped (TCP resends). */
	queue_close(d.q);
	evloop_free(d.ev);
	printf("nfdelay: held %lu packets, %lu released at once\n", d.held,
	    d.failed);
	return 0;
}
