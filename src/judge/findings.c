/*
 * findings.c - DNS answers about one client to findings, findings to a
 * verdict, and a DNSBL's health from its probes (contract in findings.h).
 *
 * Exports the findings_* functions.  Pure code: the gate and smtpgatectl
 * check both feed their answers here, so the verdict check explains is
 * the one the gate reaches for the same answers (test_findings.c feeds
 * the same scripted answers through both).
 *
 * What each answer means:
 * - PTR: host names are a found PTR; names that are all no host names
 *   (DNS_BADNAME) are found too, of class invalid, with nothing to confirm
 *   forward (an answer, not resolver trouble); NXDOMAIN or no records is
 *   no PTR; an error is an error.
 * - Forward: the first name (in answer order) whose A/AAAA answer holds
 *   the client confirms, and is the name judged; with none confirming,
 *   every asked name answered is a failed FCrDNS, else it is unknown
 *   (a lookup failed or did not answer).  The name judged is then the
 *   first.
 * - DNSBL: NXDOMAIN and no records are a complete "not listed"; an error
 *   leaves the list incomplete, as does no answer; addresses are scored
 *   by dnsbl_score_zone (only 127/8 means anything, error codes are
 *   counted, never scored).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "findings.h"

#define FINDINGS_PROBE_ONE	0x7f000001u	/* 127.0.0.1 */

void
findings_init(struct findings *f, const struct conf_gate *cg,
    const struct addr *client)
{
	memset(f, 0, sizeof(*f));
	f->cg = cg;
	f->client = *client;
	f->ptr = VERDICT_PTR_UNKNOWN;
}

size_t
findings_ptr(struct findings *f, const struct dns_result *r)
{
	size_t n;

	switch (r->status) {
	case DNS_CANCELLED:
		return 0;
	case DNS_OK:
		if (r->nnames == 0) {
			f->ptr = VERDICT_PTR_NONE;	/* dns.c says NODATA */
			return 0;
		}
		f->ptr = VERDICT_PTR_FOUND;
		f->nnames = r->nnames < DNS_MAX_NAMES ? r->nnames :
		    DNS_MAX_NAMES;
		memcpy(f->names, r->names, sizeof(f->names[0]) * f->nnames);
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		f->ptr = VERDICT_PTR_NONE;
		return 0;
	case DNS_BADNAME:
		f->ptr = VERDICT_PTR_FOUND;
		f->ptr_bad = true;
		f->nbad = r->nbad;
		memcpy(f->bad, r->bad, sizeof(f->bad));
		f->bad_why = r->bad_why;
		return 0;
	default:
		f->ptr = VERDICT_PTR_ERROR;
		f->ptr_error = r->error != NULL ? r->error : "error";
		return 0;
	}
	n = f->nnames < f->cg->fcrdns_max_names ? f->nnames :
	    f->cg->fcrdns_max_names;
	f->nfwd = n;
	for (size_t i = 0; i < n; i++)
		f->fwd[i] = FINDINGS_FWD_PENDING;
	return n;
}

enum dns_type
findings_fwd_type(const struct findings *f)
{
	return f->client.family == AF_INET ? DNS_A : DNS_AAAA;
}

void
findings_fwd(struct findings *f, size_t i, const struct dns_result *r)
{
	if (i >= f->nfwd || r->status == DNS_CANCELLED)
		return;
	if (r->status == DNS_ERROR) {
		f->fwd[i] = FINDINGS_FWD_FAILED;
		return;
	}
	f->fwd[i] = FINDINGS_FWD_ELSEWHERE;
	for (size_t k = 0; k < r->naddrs; k++)
		if (addr_eq(&r->addrs[k], &f->client))
			f->fwd[i] = FINDINGS_FWD_CONFIRMS;
}

void
findings_dnsbl_ask(struct findings *f, size_t z)
{
	if (z < f->cg->dnsbl_sites.nzones)
		f->zone[z] = FINDINGS_ZONE_PENDING;
}

enum findings_zone
findings_dnsbl(struct findings *f, size_t z, const struct dns_result *r)
{
	uint32_t ans[DNS_MAX_ADDRS];
	size_t n = 0;
	int errors = 0;

	if (z >= f->cg->dnsbl_sites.nzones)
		return FINDINGS_ZONE_OFF;
	if (f->zone[z] != FINDINGS_ZONE_PENDING)
		return f->zone[z];	/* not asked, or answered already */
	switch (r->status) {
	case DNS_CANCELLED:
		return f->zone[z];
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return f->zone[z] = FINDINGS_ZONE_CLEAR;
	case DNS_OK:
		break;
	default:
		/* The list said nothing: the verdict is incomplete. */
		return f->zone[z] = FINDINGS_ZONE_FAILED;
	}
	for (size_t i = 0; i < r->naddrs && n < DNS_MAX_ADDRS; i++)
		if (r->addrs[i].family == AF_INET)
			ans[n++] = addr_v4(&r->addrs[i]);
	f->zscore[z] = dnsbl_score_zone(&f->cg->dnsbl_sites, z, ans, n,
	    &errors);
	f->zerrors[z] = (unsigned)errors;
	f->dnsbl_score += f->zscore[z];
	return f->zone[z] = FINDINGS_ZONE_ANSWERED;
}

/*
 * Does the verdict rest on the network rather than on the address?  What
 * the PTR says (none, a generic or static pool name, an invalid one) holds
 * for a whole /64 as a rule; a DNSBL listing or a failed forward check is
 * about the one address, and an error or a DNSWL pass is not a judgment of
 * the network.  Any other finding counts as about the network.
 */
static bool
findings_network_verdict(const struct verdict *v)
{
	if (v->nreasons == 0)
		return false;
	switch (v->reason[0]) {
	case VERDICT_R_DNSBL:
	case VERDICT_R_DNSWL:
	case VERDICT_R_FCRDNS:
	case VERDICT_R_DNS_ERROR:
		return false;
	default:
		return true;
	}
}

void
findings_judge(const struct findings *f, const struct ptrclass *pc,
    struct findings_judgment *j)
{
	bool pending = false, failed = false;

	memset(j, 0, sizeof(*j));
	j->confirmed = -1;
	j->vf.ptr = f->ptr;
	j->vf.dnsbl_score = f->dnsbl_score;
	/* Failed and unanswered lists alike. */
	for (size_t z = 0; z < f->cg->dnsbl_sites.nzones; z++)
		if (f->zone[z] == FINDINGS_ZONE_PENDING ||
		    f->zone[z] == FINDINGS_ZONE_FAILED)
			j->vf.dnsbl_incomplete = true;
	j->vf.cls = j->pv.cls = PTR_NAMED;
	if (f->ptr == VERDICT_PTR_FOUND && f->ptr_bad) {
		/* Class invalid, nothing to confirm forward. */
		j->vf.cls = j->pv.cls = PTR_INVALID;
		snprintf(j->pv.reason, sizeof(j->pv.reason), "%s",
		    f->bad_why != NULL ? f->bad_why : "");
		j->name = f->bad;
	} else if (f->ptr == VERDICT_PTR_FOUND && f->nnames > 0) {
		for (size_t i = 0; i < f->nfwd; i++) {
			if (f->fwd[i] == FINDINGS_FWD_CONFIRMS &&
			    j->confirmed < 0)
				j->confirmed = (int)i;
			pending |= f->fwd[i] == FINDINGS_FWD_PENDING;
			failed |= f->fwd[i] == FINDINGS_FWD_FAILED;
		}
		j->vf.fcrdns = j->confirmed >= 0 ? VERDICT_FCRDNS_PASS :
		    !pending && !failed ? VERDICT_FCRDNS_FAIL :
		    VERDICT_FCRDNS_UNKNOWN;
		/* Judge the name that confirmed, else the first one. */
		j->name = f->names[j->confirmed >= 0 ? j->confirmed : 0];
		ptrclass_classify(pc, j->name, &f->client, j->confirmed >= 0,
		    &j->pv);
		j->vf.cls = j->pv.cls;
	}
	verdict_decide(f->cg, &j->vf, &j->v);
	j->net64 = f->client.family == AF_INET6 && f->cg->cache_v6_network &&
	    j->v.action != ACTION_ACCEPT && j->v.action != ACTION_TEMPFAIL &&
	    findings_network_verdict(&j->v);
}

/* The zones that scored (scored) or are incomplete, as lead"z1,z2". */
static void
findings_log_zones(const struct findings *f, bool scored, const char *lead,
    char *buf, size_t len)
{
	const struct dnsbl_sites *s = &f->cg->dnsbl_sites;
	size_t off = 0;

	buf[0] = '\0';
	for (size_t z = 0; z < s->nzones; z++) {
		bool pick = scored ? f->zscore[z] != 0 :
		    f->zone[z] == FINDINGS_ZONE_PENDING ||
		    f->zone[z] == FINDINGS_ZONE_FAILED;
		int n;

		if (!pick)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : lead,
		    s->zone[z]);
		if (n > 0 && (size_t)n < len - off)
			off += (size_t)n;
	}
}

void
findings_log(const struct findings *f, const struct findings_judgment *j,
    char *buf, size_t len)
{
	char ip[ADDR_STRLEN], reasons[128], zones[512], failed[512], cls[96];

	verdict_reasons_format(&j->v, reasons, sizeof(reasons));
	findings_log_zones(f, true, " dnsbl=", zones, sizeof(zones));
	findings_log_zones(f, false, " dnsbl_incomplete=", failed,
	    sizeof(failed));
	if (j->name == NULL)
		snprintf(cls, sizeof(cls), "-");
	else if (j->pv.cls == PTR_NAMED || j->pv.reason[0] == '\0')
		snprintf(cls, sizeof(cls), "%s", ptrclass_name(j->pv.cls));
	else
		snprintf(cls, sizeof(cls), "%s class_reason=%s",
		    ptrclass_name(j->pv.cls), j->pv.reason);
	snprintf(buf, len, "verdict=%s%s ip=%s reason=%s ptr=%s fcrdns=%s "
	    "class=%s dnsbl_score=%d%s%s", verdict_action_name(j->v.action),
	    f->cg->enforce ? "" : " enforced=no", addr_ntop(&f->client, ip), reasons, j->name ? j->name : "-",
	    j->vf.fcrdns == VERDICT_FCRDNS_PASS ? "yes" :
	    j->vf.fcrdns == VERDICT_FCRDNS_FAIL ? "no" : "-",
	    cls, f->dnsbl_score, zones, failed);
}

void
findings_probe(struct findings_probe *p, bool is_two,
    const struct dns_result *r)
{
	memset(p, 0, sizeof(*p));
	switch (r->status) {
	case DNS_OK:
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		p->state = FINDINGS_PROBE_ANSWERED;
		break;
	default:
		p->state = FINDINGS_PROBE_FAILED;
		return;
	}
	for (size_t i = 0; i < r->naddrs; i++) {
		uint32_t a;

		if (r->addrs[i].family != AF_INET)
			continue;
		a = addr_v4(&r->addrs[i]);
		switch (dnsbl_answer_kind(a)) {
		case DNSBL_ANSWER_LISTED:
			p->listed = true;
			break;
		case DNSBL_ANSWER_ERROR:
			if (p->error_answer == 0)
				p->error_answer = a;
			break;
		default:
			/* 127.0.0.1 as an answer for 127.0.0.1 still lists
			 * it; anything outside 127/8 means nothing. */
			if (!is_two && a == FINDINGS_PROBE_ONE)
				p->listed = true;
			break;
		}
	}
}

enum findings_health
findings_health(const struct findings_probe *two,
    const struct findings_probe *one, char *why, size_t len)
{
	const struct findings_probe *err = two->error_answer != 0 ? two : one;

	if (len > 0)
		why[0] = '\0';
	if (two->state != FINDINGS_PROBE_ANSWERED ||
	    one->state != FINDINGS_PROBE_ANSWERED)
		return FINDINGS_HEALTH_UNKNOWN;
	if (err->error_answer != 0) {
		uint32_t a = err->error_answer;

		snprintf(why, len, "error answer %u.%u.%u.%u to the 127.0.0.%c "
		    "probe (list refuses this resolver?)", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255,
		    err == two ? '2' : '1');
		return FINDINGS_HEALTH_ERROR_ANSWER;
	}
	if (!two->listed) {
		snprintf(why, len, "127.0.0.2 not listed");
		return FINDINGS_HEALTH_NO_TWO;
	}
	if (one->listed) {
		snprintf(why, len, "127.0.0.1 listed");
		return FINDINGS_HEALTH_ONE_LISTED;
	}
	return FINDINGS_HEALTH_OK;
}

const char *
findings_health_why(const struct dns_result *two,
    const struct dns_result *one, char *why, size_t len)
{
	struct findings_probe p2 = { .state = FINDINGS_PROBE_PENDING };
	struct findings_probe p1 = { .state = FINDINGS_PROBE_PENDING };
	enum findings_health h;

	if (two != NULL)
		findings_probe(&p2, true, two);
	if (one != NULL)
		findings_probe(&p1, false, one);
	h = findings_health(&p2, &p1, why, len);
	return h == FINDINGS_HEALTH_OK || h == FINDINGS_HEALTH_UNKNOWN ?
	    NULL : why;
}
