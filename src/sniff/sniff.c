/*
 * sniff.c - smtpgate-sniffd's core: set-up, shutdown and reload, the
 * queue callback and the once-a-second tick (contract in sniff.h; what
 * the other sniff_*.c files do is listed in sniff_int.h).
 *
 * Every packet gets its verdict at once, so mail never waits on the
 * sniffer: its payload is reassembled (microseconds, sniff_read.c), the
 * verdict sent, and only then are its commands judged (DNS, SPF, logs;
 * sniff_judge.c).  The verdict is accept, or, once the session is done
 * (the first MAIL FROM, STARTTLS, DATA, too many lines, bytes that cannot
 * be placed, the window's last packet, a trusted client, joined late),
 * NF_REPEAT with MARK_SNIFFED, which the ruleset copies to the conntrack
 * mark so that no further packet of the session is queued.
 *
 * Set-up order (sniff_new): the flow, clean and strike tables, the nft
 * writer, the state file (its bans back into the sets), [cluster]
 * sharing (sniff_cluster.c), the resolver, the
 * SPF helpers (while we may still give them a uid of their own), the
 * control socket, and the queue last, so that no packet comes before
 * everything that judges it is there; then the tick.  sniff_free undoes
 * it in the reverse order where it matters: the queue first (no packet is
 * held, so none is lost), the flows, then the lookups (their cancelled
 * callbacks conclude the judgments still running), and the state file
 * last but for the sets.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "marks.h"
#include "netlink.h"
#include "sniff.h"
#include "sniff_int.h"

#define SNIFF_QUEUE_COPY	0xffff	/* whole packets: we read payload */

static void
sniff_latency(struct sniff *s, int64_t t0)
{
	int64_t us = evloop_clock_us() - t0;

	if (us < 0)
		us = 0;
	s->st.lat_n++;
	s->st.lat[us < SNIFF_LAT_BUCKETS ? us : SNIFF_LAT_BUCKETS]++;
	if ((uint64_t)us > s->st.lat_max_us)
		s->st.lat_max_us = (uint64_t)us;
}

/* The queue numbers its packets in order: a jump means packets queued to
 * us were never delivered (socket full), so a flow's gap may be ours. */
static void
sniff_queue_id(struct sniff *s, uint32_t id)
{
	uint32_t skipped = id - s->next_qid;

	if (s->have_qid && skipped != 0 && skipped < (1u << 31)) {
		s->st.lost_packets += skipped;
		s->loss_gen++;
	}
	s->next_qid = id + 1;
	s->have_qid = true;
}

static void
sniff_packet(void *arg, const struct queue_packet *qp)
{
	struct sniff *s = arg;
	int64_t t0 = evloop_clock_us();
	/* 8 KiB, reused: the callback is never re-entered. */
	struct sniff_pending *pd = s->pending;
	struct sniff_flow *f;
	struct pkt p;
	const char *why;
	bool fin;

	s->st.queued++;
	s->pkt_us = t0;
	sniff_queue_id(s, qp->id);
	if ((qp->mark & MARK_MASK) == MARK_SNIFFED) {
		/*
		 * A packet we marked came back: the ruleset lacks the rule
		 * that copies the mark to the conntrack mark (and accepts).
		 * Accept it rather than send it round forever.
		 */
		if (s->st.loops++ == 0)
			log_warnx("sniff: a marked packet was queued again; the "
			    "ruleset's sniffed-mark rule is missing");
		queue_verdict(s->q, qp->id, QUEUE_ACCEPT, qp->mark);
		sniff_latency(s, t0);
		return;
	}
	if (pkt_parse(qp->payload, qp->len, &p, &why) == -1) {
		s->st.malformed++;
		queue_verdict(s->q, qp->id, QUEUE_ACCEPT, qp->mark);
		sniff_latency(s, t0);
		log_debug("sniff: packet %u unreadable (%s), accepted", qp->id,
		    why);
		return;
	}
	fin = (p.tcp_flags & (PKT_TCP_FIN | PKT_TCP_RST)) != 0;
	f = sniff_flow_find(s, &p);
	if (f == NULL && !fin && (f = sniff_flow_new(s, &p)) != NULL &&
	    conf_trusted(&s->conf.gate, &p.src)) {
		s->st.trusted++;
		f->done = true;
	}
	if (f != NULL)
		sniff_read_packet(s, f, &p, qp->mark, fin, pd);
	if (f != NULL && f->done) {
		s->st.marked++;
		queue_verdict_mark(s->q, qp->id, true,
		    (qp->mark & ~MARK_MASK) | MARK_SNIFFED);
	} else {
		queue_verdict(s->q, qp->id, QUEUE_ACCEPT, qp->mark);
	}
	sniff_latency(s, t0);
	if (f == NULL)
		return;
	f->last_ms = evloop_now_ms(s->ev);
	if (!fin) {
		sniff_flow_touch(s, f);
		sniff_trickle_update(s, f);
	}
	sniff_read_judge(s, pd);
	if (fin)
		sniff_flow_free(s, f);
}

/* Once a second: the suspects' conntrack questions, idle flows, old
 * strike records, the state file. */
static void
sniff_tick(void *arg)
{
	struct sniff *s = arg;
	int64_t now = evloop_now_ms(s->ev), wall = time(NULL);

	sniff_trickle_tick(s, now);
	sniff_flow_expire(s, now);
	sniff_rtt_expire(s, now);
	sniff_strike_expire(s, wall);
	sniff_state_tick(s);
	s->tick = evloop_timer_at(s->ev, now + 1000, sniff_tick, s);
}

static void
sniff_idle(void *arg)
{
	struct sniff *s = arg;

	/* nftset logs what failed, with its table and cause. */
	(void)nftset_flush(s->nft);
}

static void
sniff_nft_readable(int fd, uint32_t events, void *arg)
{
	struct sniff *s = arg;

	(void)fd;
	(void)events;
	nftset_process(s->nft);
}

/* my_hostnames and my_addresses default to the system's. */
static void
sniff_conf_fill(struct conf *c)
{
	struct conf_sniffer *cs = &c->sniffer;
	struct ifaddrs *ifa, *i;
	char host[256];

	if (cs->nmy_hostnames == 0 && gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		for (char *p = host; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (strlen(host) < CONF_NAME_MAX && host[0] != '\0')
			memcpy(cs->my_hostnames[cs->nmy_hostnames++], host,
			    strlen(host) + 1);
	}
	if (cs->nmy_addresses == 0 && getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL && cs->nmy_addresses <
		    CONF_MAX_MYADDRS; i = i->ifa_next) {
			struct addr *a = &cs->my_addresses[cs->nmy_addresses];

			if (i->ifa_addr == NULL)
				continue;
			if (i->ifa_addr->sa_family == AF_INET)
				addr_from_v4(a, (const uint8_t *)&((struct
				    sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
			else if (i->ifa_addr->sa_family == AF_INET6)
				addr_from_v6(a, (const uint8_t *)&((struct
				    sockaddr_in6 *)(void *)i->ifa_addr)->
				    sin6_addr);
			else
				continue;
			cs->nmy_addresses++;
		}
		freeifaddrs(ifa);
	}
}

struct sniff *
sniff_new(struct evloop *ev, const struct conf *c, char *err, size_t errlen)
{
	struct sniff *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "sniff: calloc the sniffer: %s",
		    strerror(errno));
		return NULL;
	}
	s->ev = ev;
	s->conf = *c;
	sniff_conf_fill(&s->conf);
	if (siphash_key_random(&s->flow_key) == -1 ||
	    siphash_key_random(&s->clean_key) == -1) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if (sniff_flow_init(s) == -1 ||
	    (s->clean = sniff_clean_new()) == NULL ||
	    (s->pending = sniff_read_pending_new()) == NULL ||
	    (s->strikes = strikes_new()) == NULL || sniff_rtt_init(s) == -1) {
		snprintf(err, errlen, "sniff: the flow, clean and strike "
		    "tables: %s", strerror(errno));
		goto fail;
	}
	if ((s->psl = psl_latest(NULL)) == NULL) {
		snprintf(err, errlen, "psl_latest: no public suffix list");
		goto fail;
	}
	if ((s->nft = nftset_open(c->nft.table, err, errlen)) == NULL)
		goto fail;
	if (evloop_fd_add(ev, nftset_fd(s->nft), EPOLLIN, sniff_nft_readable,
	    s) == -1) {
		snprintf(err, errlen, "sniff: epoll add nft socket of table inet "
		    "%s: %s", c->nft.table, strerror(errno));
		goto fail;
	}
	if (sniff_state_open(s, err, errlen) == -1)
		goto fail;
	/* [cluster]: the password file is read now, as root; the
	 * connection is made from the loop. */
	if (sniff_cluster_start(s, err, errlen) == -1)
		goto fail;
	if ((s->dns = dns_new(ev, &c->dns, err, errlen)) == NULL)
		goto fail;
	{
		/* The SPF helpers start now, while we may still give them a
		 * uid of their own: libspf2 never runs in this process. */
		struct spfcheck_opts so = {
			.workers = c->sniffer.spf_workers,
			.max_per_client = c->sniffer.spf_max_per_client,
			.user = strcmp(c->sniffer.spf_user, "dynamic") == 0 ?
			    "" : c->sniffer.spf_user,
			.screen = true,
		};
		char info[128];

		if ((s->spf = spfcheck_new(ev, &c->dns, &so, info, err,
		    errlen)) == NULL)
			goto fail;
		log_info("%s", info);
	}
	if ((s->ctl = control_open(ev, c->sniffer.control_socket, err,
	    errlen)) == NULL)
		goto fail;
	sniff_ctl_register(s);
	/* The copies before the queue: a session's first data finds them. */
	sniff_rtt_open(s);
	s->q = queue_open(ev, c->sniffer.queue, c->sniffer.queue_maxlen,
	    SNIFF_QUEUE_COPY, sniff_packet, s, err, errlen);
	if (s->q == NULL)
		goto fail;
	/* The banner hold after the queue whose packets judge the held
	 * sessions (its failing is logged, not fatal). */
	sniff_hold_open(s);
	if ((s->tick = evloop_timer_at(ev, evloop_now_ms(ev) + 1000,
	    sniff_tick, s)) == NULL) {
		snprintf(err, errlen, "sniff: evloop_timer_at the tick: %s",
		    strerror(errno));
		goto fail;
	}
	evloop_set_idle(ev, sniff_idle, s);
	return s;
fail:
	sniff_free(s);
	return NULL;
}

void
sniff_free(struct sniff *s)
{
	if (s == NULL)
		return;
	if (s->tick != NULL)
		evloop_timer_cancel(s->ev, s->tick);
	/* Held banners go at once. */
	sniff_hold_close(s);
	/* Packets are answered as they come: none is held here. */
	if (s->q != NULL)
		queue_close(s->q);
	sniff_flow_free_all(s);
	sniff_rtt_close(s);
	sniff_rtt_free_all(s);
	/* Cancelled callbacks release the judgments still running. */
	spfcheck_free(s->spf);
	if (s->dns != NULL)
		dns_free(s->dns);
	if (s->ctl != NULL)
		control_close(s->ctl);
	sniff_cluster_stop(s);
	/* Only once the state was loaded: never save over it unread. */
	sniff_state_close(s);
	if (s->nft != NULL) {
		if (nftset_sync(s->nft) == -1)
			log_warnx("sniff: nft: last set changes not all "
			    "applied");
		evloop_fd_del(s->ev, nftset_fd(s->nft));
		nftset_close(s->nft);
	}
	nl_close(s->ct_nl);
	strikes_free(s->strikes);
	psl_free(s->psl);
	free(s->bucket);
	free(s->clean);
	free(s->pending);
	/* Last: the sessions freed above wrote their rows. */
	sniff_journal_close(s);
	free(s);
}

int
sniff_reload(struct sniff *s, const char *path, char *err, size_t errlen)
{
	struct conf *c = malloc(sizeof(*c));

	if (c == NULL) {
		snprintf(err, errlen, "reload: malloc a configuration: %s",
		    strerror(errno));
		return -1;
	}
	/* Keys the sniffer cannot change running (the table, the queue, the
	 * state file, the socket, the SPF helpers) keep their values. */
	if (conf_reload(path, &s->conf, CONF_SNIFFD, c, err, errlen,
	    log_warnx) == -1) {
		free(c);
		return -1;
	}
	sniff_conf_fill(c);
	if (memcmp(&c->dns, &s->conf.dns, sizeof(c->dns)) != 0) {
		struct dns *nd = dns_new(s->ev, &c->dns, err, errlen);

		if (nd == NULL) {
			free(c);
			return -1;
		}
		if (spfcheck_set_dns(s->spf, &c->dns, err, errlen) == -1) {
			dns_free(nd);
			free(c);
			return -1;
		}
		/* c-ares cannot change servers under running queries. */
		dns_retire(s->dns);
		s->dns = nd;
	}
	spfcheck_set_max_per_client(s->spf, c->sniffer.spf_max_per_client);
	if (c->sniffer.enforce != s->conf.sniffer.enforce)
		log_info(c->sniffer.enforce ? "reload: [sniffer] enforce = yes: "
		    "banning and cutting from the next strike on" :
		    "reload: [sniffer] enforce = no: observe mode from the next "
		    "strike on; bans already in offend4/6 run out by their "
		    "timeouts (smtpgatectl offenders flush ends them now)");
	s->conf = *c;
	free(c);
	/* [sniffer] pregreet on or off: the copies' group follows (the
	 * ruleset's copy rules follow at the next smtpgate-nft install). */
	sniff_rtt_open(s);
	/* Held banners go at once (banner_hold_ms may have changed); the
	 * hold follows the keys (its rule, the next smtpgate-nft install). */
	sniff_hold_release(s);
	sniff_hold_open(s);
	log_info("reloaded %s", path);
	return 0;
}


void
sniff_log_stats(struct sniff *s)
{
	char buf[4096];

	sniff_ctl_stats_line(s, buf, sizeof(buf));
	log_info("stats %s", buf);
}
