/*
 * sniff_ctl.c - smtpgate-sniffd's control verbs (control.h: one request
 * line, reply lines, answered on the loop) and its stats line (contract
 * in sniff_int.h):
 *
 *   stats        the counters, one "key=value ..." line (also logged on
 *                SIGUSR1, sniff_log_stats)
 *   reload       read the configuration file again (sniff_reload)
 *   offenders    one line per strike record (strikes_format)
 *   forget IP    drop IP's strikes and lift its ban
 *   forget-all   the same for every record
 *   cluster      [cluster] sharing: state, counters, siblings
 *                (control_cluster_reply; "state=off" when off)
 *
 * This file parses and answers; the strike table and the sets are
 * changed by sniff_strike.c.
 */
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "sniff.h"
#include "nflog.h"
#include "sniff_int.h"

/* The latency below which a fraction q of the verdicts were given. */
static uint64_t
sniff_ctl_lat_quantile(const struct sniff_stats *st, double q)
{
	uint64_t want = (uint64_t)((double)st->lat_n * q), seen = 0;

	if (st->lat_n == 0)
		return 0;
	for (size_t i = 0; i <= SNIFF_LAT_BUCKETS; i++) {
		seen += st->lat[i];
		if (seen > want || seen == st->lat_n)
			return i < SNIFF_LAT_BUCKETS ? i : st->lat_max_us;
	}
	return st->lat_max_us;
}

void
sniff_ctl_stats_line(struct sniff *s, char *buf, size_t len)
{
	const struct sniff_stats *st = &s->st;
	const struct queue_stats *qs = queue_stats(s->q);
	const struct nftset_stats *ns = nftset_stats(s->nft);
	const struct spfcheck_stats *ps = spfcheck_stats(s->spf);
	const struct sniff_cluster_stats *cs = &s->cst;
	struct journal_stats js;
	size_t off;
	int n;

	journal_stats(s->journal, &js);
	snprintf(buf, len, "queued=%llu malformed=%llu marked=%llu "
	    "flows=%llu active_flows=%zu evicted=%llu expired=%llu late=%llu "
	    "loops=%llu "
	    "trusted=%llu lines=%llu helos=%llu mails=%llu toolong=%llu "
	    "starttls=%llu data=%llu lost=%llu judgments=%llu strikes=%llu "
	    "bans=%llu observed_bans=%llu offenders=%zu dns_queries=%llu "
	    "spf_queries=%llu "
	    "spf_errors=%llu overload=%llu clean_hits=%llu cuts=%llu "
	    "cut_errors=%llu trickles=%llu pregreets=%llu protocol=%llu "
	    "lost_packets=%llu "
	    "ct_queries=%llu ct_errors=%llu state_saves=%llu state_errors=%llu "
	    "state_save_ms=%llu verdict_p50_us=%llu "
	    "verdict_p99_us=%llu verdict_max_us=%llu loop_stall_max_us=%llu "
	    "enobufs=%llu verdict_errors=%llu nft_errors=%llu nft_full=%llu "
	    "spf_checks=%llu "
	    "spf_joined=%llu spf_refused=%llu spf_expired=%llu "
	    "spf_timeouts=%llu spf_deaths=%llu spf_kills=%llu "
	    "spf_screened=%llu spf_protocol=%llu spf_dns_queries=%llu "
	    "spf_replays=%llu spf_workers_up=%u journal_written=%llu "
	    "journal_lost=%llu",
	    (unsigned long long)st->queued, (unsigned long long)st->malformed,
	    (unsigned long long)st->marked, (unsigned long long)st->flows,
	    s->nflows, (unsigned long long)st->evicted,
	    (unsigned long long)st->expired, (unsigned long long)st->late,
	    (unsigned long long)st->loops,
	    (unsigned long long)st->trusted, (unsigned long long)st->lines,
	    (unsigned long long)st->helos, (unsigned long long)st->mails,
	    (unsigned long long)st->toolong, (unsigned long long)st->starttls,
	    (unsigned long long)st->data, (unsigned long long)st->lost,
	    (unsigned long long)st->judgments,
	    (unsigned long long)st->strikes, (unsigned long long)st->bans,
	    (unsigned long long)st->observed_bans,
	    strikes_count(s->strikes), (unsigned long long)st->dns_queries,
	    (unsigned long long)st->spf_queries,
	    (unsigned long long)st->spf_errors,
	    (unsigned long long)st->overload,
	    (unsigned long long)st->clean_hits,
	    (unsigned long long)st->cuts,
	    (unsigned long long)st->cut_errors,
	    (unsigned long long)st->trickles,
	    (unsigned long long)st->pregreets,
	    (unsigned long long)st->protocol,
	    (unsigned long long)st->lost_packets,
	    (unsigned long long)st->ct_queries,
	    (unsigned long long)st->ct_errors,
	    (unsigned long long)st->state_saves,
	    (unsigned long long)st->state_errors,
	    (unsigned long long)st->state_save_ms,
	    (unsigned long long)sniff_ctl_lat_quantile(st, 0.50),
	    (unsigned long long)sniff_ctl_lat_quantile(st, 0.99),
	    (unsigned long long)st->lat_max_us,
	    (unsigned long long)evloop_stall_max_us(s->ev),
	    (unsigned long long)qs->enobufs,
	    (unsigned long long)qs->verdict_errors,
	    (unsigned long long)ns->errors, (unsigned long long)ns->full,
	    (unsigned long long)ps->checks, (unsigned long long)ps->joined,
	    (unsigned long long)ps->refused, (unsigned long long)ps->expired,
	    (unsigned long long)ps->timeouts, (unsigned long long)ps->deaths,
	    (unsigned long long)ps->kills, (unsigned long long)ps->screened,
	    (unsigned long long)ps->protocol,
	    (unsigned long long)ps->dns_queries,
	    (unsigned long long)ps->replays, ps->workers_up,
	    (unsigned long long)js.written, (unsigned long long)js.lost);
	/* Pregreet's round trip (sniff_rtt.c). */
	if (strlen(buf) + 1 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " rtt_on=%d "
		    "rtt_copies=%llu rtt_malformed=%llu rtt_missing=%llu "
		    "rtt_waited=%llu "
		    "rtt_evicted=%llu rtt_records=%zu rtt_lost=%llu "
		    "pregreet_ack=%llu pregreet_rtt=%llu", s->nflog != NULL,
		    (unsigned long long)st->rtt_copies,
		    (unsigned long long)st->rtt_malformed,
		    (unsigned long long)st->rtt_missing,
		    (unsigned long long)st->rtt_waited,
		    (unsigned long long)st->rtt_evicted, sniff_rtt_count(s),
		    (unsigned long long)(s->nflog != NULL ?
		    nflog_stats(s->nflog)->enobufs : 0),
		    (unsigned long long)st->pregreet_ack,
		    (unsigned long long)st->pregreet_rtt);
	/* The banner hold (sniff_hold.c). */
	if (strlen(buf) + 1 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " hold_on=%d "
		    "holds=%llu hold_released=%llu hold_bypassed=%llu "
		    "hold_now=%zu hold_ms_avg=%llu hold_ms_max=%llu",
		    s->hold != NULL, (unsigned long long)st->holds,
		    (unsigned long long)st->hold_released,
		    (unsigned long long)st->hold_bypassed, sniff_hold_count(s),
		    (unsigned long long)(st->hold_released > 0 ?
		    st->hold_ms_sum / st->hold_released : 0),
		    (unsigned long long)st->hold_ms_max);
	off = strlen(buf);
	if (off + 1 >= len)
		return;
	/* [cluster] (sniff_cluster.c), then the connection's counters. */
	n = snprintf(buf + off, len - off, " cluster_strikes_shared=%llu "
	    "cluster_strikes_merged=%llu cluster_total_bans=%llu "
	    "cluster_bans_shared=%llu cluster_bans_applied=%llu "
	    "cluster_unbans_shared=%llu cluster_unbans_applied=%llu "
	    "cluster_skipped=%llu cluster_bans_expired=%llu "
	    "cluster_full=%llu ",
	    (unsigned long long)cs->strikes_shared,
	    (unsigned long long)cs->strikes_merged,
	    (unsigned long long)cs->total_bans,
	    (unsigned long long)cs->bans_shared,
	    (unsigned long long)cs->bans_applied,
	    (unsigned long long)cs->unbans_shared,
	    (unsigned long long)cs->unbans_applied,
	    (unsigned long long)cs->skipped, (unsigned long long)cs->expired,
	    (unsigned long long)cs->full);
	if (n < 0 || (size_t)n >= len - off)
		return;
	off += (size_t)n;
	(void)control_cluster_stats(buf + off, len - off, s->cluster);
}

static void
sniff_ctl_stats(void *arg, int argc, char *argv[], struct control_reply *r)
{
	char buf[4096];

	(void)argc;
	(void)argv;
	sniff_ctl_stats_line(arg, buf, sizeof(buf));
	control_reply_line(r, "%s", buf);
}

static void
sniff_ctl_reload(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct sniff *s = arg;
	char err[CONF_ERR_MAX];

	(void)argc;
	(void)argv;
	if (sniff_reload(s, s->conf.path, err, sizeof(err)) == -1)
		control_reply_error(r, "%s", err);
}

static void
sniff_ctl_offender(void *arg, const struct strikes_rec *r)
{
	char line[STRIKES_LINE_MAX];

	strikes_format(r, line, sizeof(line));
	control_reply_line(arg, "%s", line);
}

static void
sniff_ctl_offenders(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	struct sniff *s = arg;

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: offenders");
		return;
	}
	strikes_each(s->strikes, sniff_ctl_offender, r);
}

static void
sniff_ctl_forget(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct addr a;

	if (argc != 2 || addr_parse(argv[1], &a) != 0) {
		control_reply_error(r, "usage: forget IP");
		return;
	}
	if (sniff_strike_forget(arg, &a) == -1) {
		control_reply_error(r, "%s: no strikes or bans", argv[1]);
		return;
	}
	/* Lifted at the site's other gateways too ([cluster]). */
	sniff_cluster_unban(arg, &a);
	log_info("forget ip=%s", argv[1]);
}

/* [cluster]: the connection's state, counters and siblings. */
static void
sniff_ctl_cluster(void *arg, int argc, char *argv[], struct control_reply *r)
{
	struct sniff *s = arg;

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: cluster");
		return;
	}
	control_cluster_reply(r, s->cluster, s->cluster_node);
}

static void
sniff_ctl_forget_all(void *arg, int argc, char *argv[],
    struct control_reply *r)
{
	size_t n;

	(void)argv;
	if (argc != 1) {
		control_reply_error(r, "usage: forget-all");
		return;
	}
	n = sniff_strike_forget_all(arg);
	log_info("forget-all records=%zu", n);
}

void
sniff_ctl_register(struct sniff *s)
{
	if (control_register(s->ctl, "stats", sniff_ctl_stats, s) ||
	    control_register(s->ctl, "reload", sniff_ctl_reload, s) ||
	    control_register(s->ctl, "offenders", sniff_ctl_offenders, s) ||
	    control_register(s->ctl, "forget", sniff_ctl_forget, s) ||
	    control_register(s->ctl, "forget-all", sniff_ctl_forget_all, s) ||
	    control_register(s->ctl, "cluster", sniff_ctl_cluster, s))
		log_panic("control_register: verb table full");
}
