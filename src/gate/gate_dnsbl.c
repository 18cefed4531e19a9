/*
 * gate_dnsbl.c - health probes of the DNSBL zones (RFC 5782 section 5).
 *
 * Every list must list 127.0.0.2 and must not list 127.0.0.1.  A list that
 * fails (it is broken, or refuses our resolver: some answer NXDOMAIN for
 * everything, some answer error codes such as 127.255.255.254) is
 * disabled and logged, and probed again every GATE_PROBE_BAD_S until it
 * recovers; a healthy list is re-probed every GATE_PROBE_OK_S.  A probe
 * that gets no answer changes nothing: a slow list is not a broken one.
 * What the answers mean is findings_probe's and findings_health's, which
 * smtpgatectl check uses too; here are the probes' timers and queries.
 *
 * State lives in the configuration generation (struct gate_cfg), so a
 * reload starts fresh probes for its own zone list.  Each probe query holds
 * a reference to its generation; its callback context lives there too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gate_int.h"
#include "log.h"

static void gate_dnsbl_probe(void *arg);

struct gate_probe_timer {
	struct gate_cfg *c;
	unsigned z;
};

static void
gate_dnsbl_schedule(struct gate_cfg *c, unsigned z, int delay_s)
{
	struct gate_zone_health *h = &c->health[z];
	struct gate_probe_timer *t = malloc(sizeof(*t));

	if (t == NULL)
		return;
	t->c = c;
	t->z = z;
	h->timer = evloop_timer_at(c->g->ev,
	    evloop_now_ms(c->g->ev) + (int64_t)delay_s * 1000,
	    gate_dnsbl_probe, t);
	if (h->timer == NULL)
		free(t);
	else
		h->timer_arg = t;
}

/* Both answers of zone z's probe are in: judge the list (findings.h). */
static void
gate_dnsbl_judge(struct gate_cfg *c, unsigned z)
{
	struct gate_zone_health *h = &c->health[z];
	const char *zone = c->conf.gate.dnsbl_sites.zone[z];
	char why[128];
	enum findings_health st;

	h->probing = false;
	if (c->retired)
		return;
	st = findings_health(&h->two, &h->one, why, sizeof(why));
	if (st == FINDINGS_HEALTH_UNKNOWN) {
		log_warnx("dnsbl zone=%s probe got no answer; state unchanged "
		    "(%s)", zone, h->enabled ? "enabled" : "disabled");
		gate_dnsbl_schedule(c, z, GATE_PROBE_BAD_S);
		return;
	}
	if (st != FINDINGS_HEALTH_OK && h->enabled) {
		h->enabled = false;
		log_warnx("dnsbl zone=%s disabled reason=%s", zone, why);
	} else if (st == FINDINGS_HEALTH_OK && !h->enabled) {
		h->enabled = true;
		log_info("dnsbl zone=%s enabled (health probe passed)", zone);
	}
	gate_dnsbl_schedule(c, z, h->enabled ? GATE_PROBE_OK_S :
	    GATE_PROBE_BAD_S);
}

static void
gate_dnsbl_answer(void *arg, const struct dns_result *r)
{
	struct gate_probe *p = arg;
	struct gate_cfg *c = p->c;
	struct gate_zone_health *h = &c->health[p->z];

	findings_probe(p->is_two ? &h->two : &h->one, p->is_two, r);
	if (--h->answers_due == 0 && r->status != DNS_CANCELLED)
		gate_dnsbl_judge(c, p->z);
	else if (h->answers_due == 0)
		h->probing = false;
	gate_cfg_unref(c);
}

static void
gate_dnsbl_query(struct gate_cfg *c, unsigned z, bool two)
{
	/* Asked again only once both answered (h->probing). */
	struct gate_probe *p = &c->health[z].probe[two ? 0 : 1];
	char name[DNS_NAME_MAX + 16];

	p->c = c;
	p->z = z;
	p->is_two = two;
	gate_cfg_ref(c);
	snprintf(name, sizeof(name), "%s.0.0.127.%s", two ? "2" : "1",
	    c->conf.gate.dnsbl_sites.zone[z]);
	dns_query(c->g->dns, name, DNS_A, gate_dnsbl_answer, p);
}

static void
gate_dnsbl_probe(void *arg)
{
	struct gate_probe_timer *t = arg;
	struct gate_cfg *c = t->c;
	unsigned z = t->z;
	struct gate_zone_health *h = &c->health[z];

	free(t);
	h->timer = NULL;
	h->timer_arg = NULL;
	if (h->probing)
		return;
	h->probing = true;
	h->answers_due = 2;
	memset(&h->two, 0, sizeof(h->two));
	memset(&h->one, 0, sizeof(h->one));
	gate_dnsbl_query(c, z, true);
	gate_dnsbl_query(c, z, false);
}

void
gate_dnsbl_start(struct gate_cfg *c)
{
	for (unsigned z = 0; z < c->conf.gate.dnsbl_sites.nzones; z++)
		gate_dnsbl_schedule(c, z, 0);
}

void
gate_dnsbl_stop(struct gate_cfg *c)
{
	c->retired = true;
	for (unsigned z = 0; z < c->conf.gate.dnsbl_sites.nzones; z++) {
		struct gate_zone_health *h = &c->health[z];
		if (h->timer != NULL) {
			evloop_timer_cancel(c->g->ev, h->timer);
			free(h->timer_arg);
			h->timer = NULL;
			h->timer_arg = NULL;
		}
	}
}
