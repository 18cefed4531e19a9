/*
 * gate_stats.c - the gate's counters as one line of key=value fields,
 * for the log and the control socket (smtpgated(8) names them).
 *
 * Exports gate_stats_format and gate_stats_log (gate.h).
 */
#include <stdio.h>

#include "gate.h"
#include "gate_int.h"
#include "control.h"
#include "journal.h"
#include "log.h"

/* The counters as one line of key=value fields (logs, control socket). */
void
gate_stats_format(struct gate *g, char *buf, size_t len)
{
	const struct queue_stats *qs = queue_stats(g->q);
	const struct nftset_stats *ns = nftset_stats(g->nft);
	const struct dns_stats *ds = dns_stats(g->dns);
	const struct gate_watch_stats *ws = gate_watch_stats(g->watch);
	uint32_t ropen;
	const struct gate_reply_stats *rs = gate_reply_stats(g->reply, &ropen);
	const struct gate_cluster_stats *cs = gate_cluster_stats(g);
	struct journal_stats js;

	journal_stats(g->journal, &js);
	const struct {
		const char *name;
		unsigned long long v;
	} f[] = {
		{ "queued", g->st.queued },
		{ "verdicts", g->st.verdicts },
		{ "accept", g->st.accept },
		{ "reject", g->st.reject },
		{ "drop", g->st.drop },
		{ "tempfail", g->st.tempfail },
		{ "observed_reject", g->st.observed_reject },
		{ "observed_drop", g->st.observed_drop },
		{ "observed_tempfail", g->st.observed_tempfail },
		{ "retry_early", ws->retry_early },
		{ "retry_passed", ws->retry_passed },
		{ "retry_noted", g->st.retry_noted },
		{ "coalesced", g->st.coalesced },
		{ "lookups", g->st.lookups },
		{ "pending", g->npending },
		{ "no_ptr", g->st.reason[VERDICT_R_NO_PTR] },
		{ "invalid_ptr", g->st.reason[VERDICT_R_INVALID_PTR] },
		{ "generic_ptr", g->st.reason[VERDICT_R_GENERIC] },
		{ "static_ptr", g->st.reason[VERDICT_R_STATIC] },
		{ "fcrdns", g->st.reason[VERDICT_R_FCRDNS] },
		{ "dnsbl", g->st.reason[VERDICT_R_DNSBL] },
		{ "dnswl", g->st.reason[VERDICT_R_DNSWL] },
		{ "dns_errors", g->st.reason[VERDICT_R_DNS_ERROR] },
		{ "deadline", g->st.deadline },
		{ "dnsbl_errors", g->st.dnsbl_errors },
		{ "dnsbl_failed", g->st.dnsbl_failed },
		{ "trusted", g->st.trusted },
		{ "malformed", g->st.malformed },
		{ "not_syn", g->st.not_syn },
		{ "overflow", g->st.overflow },
		{ "unjudged", ws->queue_full + qs->id_gaps },
		{ "unjudged_queue_full", ws->queue_full },
		{ "unjudged_sockbuf", qs->id_gaps },
		{ "held", ws->held },
		{ "rate_limited", g->st.rate_limited },
		{ "dns_active", g->ninflight },
		{ "dns_waiting", g->nwaiting },
		{ "dns_waited", g->st.dns_waited },
		{ "net_cached", g->st.net_cached },
		{ "banner_holds", g->st.banner_holds },
		{ "loops", g->st.loops },
		{ "enobufs", qs->enobufs },
		{ "verdict_errors", qs->verdict_errors },
		{ "verdict_send_failed", qs->send_failed },
		{ "verdict_deferred", qs->deferred },
		{ "verdict_pending", qs->retry_pending },
		{ "verdict_lost", qs->lost },
		{ "dns_queries", ds->queries },
		{ "dns_timeouts", ds->timeouts },
		{ "dns_retries", ds->retries },
		{ "nft_batches", ns->batches },
		{ "nft_elements", ns->elements },
		{ "nft_errors", ns->errors },
		{ "nft_full", ns->full },
		/* the responder (gate_reply.c) */
		{ "reply_noted", rs->noted },
		{ "reply_sent", rs->sent },
		{ "reply_554", rs->by_kind[REPLY_REJECT] },
		{ "reply_421", rs->by_kind[REPLY_TEMPFAIL] },
		{ "reply_open", ropen },
		{ "reply_open_max", rs->conns_max },
		{ "reply_capped", rs->capped },
		{ "reply_timeouts", rs->timeouts },
		{ "reply_cut", rs->cut },
		{ "reply_failed", rs->failed },
		{ "reply_accept_errors", rs->accept_errors },
		/* the verdict journal (gate_journal.c) */
		{ "journal_written", js.written },
		{ "journal_lost", js.lost },
		/* siblings' verdicts (gate_cluster.c); the connection's
		 * counters follow (control_cluster_stats) */
		{ "cluster_verdicts_shared", cs->shared },
		{ "cluster_verdicts_received", cs->received },
		{ "cluster_verdicts_applied", cs->applied },
		{ "cluster_verdicts_skipped", cs->skipped },
		{ "cluster_verdicts_expired", cs->expired },
		{ "cluster_verdicts_failed", cs->failed },
		/* share_allow: the allow list's shared entries */
		{ "cluster_allow_shared", cs->allow_shared },
		{ "cluster_allow_applied", cs->allow_applied },
		{ "cluster_allow_refused", cs->allow_refused },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s=%llu",
		    i ? " " : "", f[i].name, f[i].v);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off + 1 < len) {
		buf[off++] = ' ';
		buf[off] = '\0';
		(void)control_cluster_stats(buf + off, len - off,
		    gate_cluster_conn(g));
	}
}

void
gate_stats_log(struct gate *g)
{
	char line[4096];

	gate_stats_format(g, line, sizeof(line));
	log_info("stats %s", line);
}
