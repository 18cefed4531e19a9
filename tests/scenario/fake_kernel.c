/*
 * fake_kernel.c - the other netlink users of the daemons, for the scenario
 * tests (fake.h): the gate's watch of what the kernel let through unjudged
 * (gate_watch_*, gate_int.h; in place of gate_watch.c), the gate's log of
 * the kernel's retry notes (gate_retry_*, in place of gate_retry.c: the
 * fake sets run no rules, so nothing is ever noted), and the sniffer's
 * conntrack questions and session cuts (sniff_ct_get, sniff_ct_ask,
 * sniff_cut, sniff_int.h; in place of sniff_ct.c and sniff_cut.c).
 *
 * The watch counts nothing: no kernel lets anything through here.
 * Conntrack answers what the script set for a session (fake_ct_set), and
 * -ENOENT (no such session) for any other.  A cut is recorded for a step
 * to take, and answers what the script set (0 by default).  The message
 * builders of sniff_ct.c and sniff_cut.c are not replaced: nothing here
 * calls them, and one that did would pull sniff_ct.o or sniff_cut.o in
 * and clash with the fakes here at link time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "gate_int.h"
#include "sniff_int.h"

#define FAKE_KERNEL_MAX		64	/* scripted sessions, cuts kept */

struct gate_watch {
	struct gate_watch_stats st;
};

struct gate_retry {
	int unused;
};

struct gate_retry *
gate_retry_new(struct gate *g, char *err, size_t errlen)
{
	struct gate_retry *r = calloc(1, sizeof(*r));

	(void)g;
	if (r == NULL)
		snprintf(err, errlen, "gate retry notes: out of memory");
	return r;
}

void
gate_retry_free(struct gate_retry *r)
{
	free(r);
}

struct fake_session {
	struct addr client;
	uint16_t cport;
	bool ct_set;
	struct sniff_ct ct;
	int ct_rc;
	int cut_rc;
};

static struct {
	struct fake_session s[FAKE_KERNEL_MAX];
	size_t ns;
	struct {
		struct addr client;
		uint16_t cport;
		bool taken;
	} cut[FAKE_KERNEL_MAX];
	size_t ncut;
} fake_kernel;

/* ---- gate_int.h ---- */

struct gate_watch *
gate_watch_new(struct gate *g, char *err, size_t errlen)
{
	struct gate_watch *w = calloc(1, sizeof(*w));

	(void)g;
	if (w == NULL)
		snprintf(err, errlen, "gate: watch: calloc: %s",
		    strerror(errno));
	return w;
}

void
gate_watch_free(struct gate_watch *w)
{
	free(w);
}

const struct gate_watch_stats *
gate_watch_stats(const struct gate_watch *w)
{
	return &w->st;
}

/* ---- sniff_int.h ---- */

static struct fake_session *
fake_session(const struct addr *client, uint16_t cport, bool make)
{
	for (size_t i = 0; i < fake_kernel.ns; i++)
		if (fake_kernel.s[i].cport == cport &&
		    addr_eq(&fake_kernel.s[i].client, client))
			return &fake_kernel.s[i];
	if (!make || fake_kernel.ns == FAKE_KERNEL_MAX)
		return NULL;
	memset(&fake_kernel.s[fake_kernel.ns], 0, sizeof(fake_kernel.s[0]));
	fake_kernel.s[fake_kernel.ns].client = *client;
	fake_kernel.s[fake_kernel.ns].cport = cport;
	return &fake_kernel.s[fake_kernel.ns++];
}

int
sniff_ct_get(struct nl_sock **nlp, const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport, struct sniff_ct *out)
{
	struct fake_session *s = fake_session(client, cport, false);

	(void)nlp;
	(void)local;
	(void)lport;
	if (s == NULL || !s->ct_set)
		return -ENOENT;
	if (s->ct_rc != 0)
		return s->ct_rc;
	*out = s->ct;
	return 0;
}

/* As sniff_ct.c's: the question counted in the sniffer's stats. */
int
sniff_ct_ask(struct sniff *s, const struct sniff_flow *f, struct sniff_ct *out)
{
	int rc;

	s->st.ct_queries++;
	rc = sniff_ct_get(&s->ct_nl, &f->src, f->sport, &f->dst, f->dport,
	    out);
	if (rc != 0 && rc != -ENOENT)
		s->st.ct_errors++;
	return rc;
}

int
sniff_cut(const struct addr *client, uint16_t cport,
    const struct addr *local, uint16_t lport)
{
	struct fake_session *s = fake_session(client, cport, false);

	(void)local;
	(void)lport;
	if (fake_kernel.ncut < FAKE_KERNEL_MAX) {
		fake_kernel.cut[fake_kernel.ncut].client = *client;
		fake_kernel.cut[fake_kernel.ncut].cport = cport;
		fake_kernel.cut[fake_kernel.ncut].taken = false;
		fake_kernel.ncut++;
	} else {
		fake_trouble("kernel: more than %d cuts", FAKE_KERNEL_MAX);
	}
	return s != NULL ? s->cut_rc : 0;
}

/* ---- steps ---- */

void
fake_ct_set(const struct addr *client, uint16_t cport, int rc, bool counted,
    uint64_t packets, uint8_t tcp_state)
{
	struct fake_session *s = fake_session(client, cport, true);

	if (s == NULL) {
		fake_trouble("kernel: more than %d sessions", FAKE_KERNEL_MAX);
		return;
	}
	s->ct_set = true;
	s->ct_rc = rc;
	s->ct.counted = counted;
	s->ct.packets = packets;
	s->ct.tcp_state = tcp_state;
}

void
fake_cut_set(const struct addr *client, uint16_t cport, int rc)
{
	struct fake_session *s = fake_session(client, cport, true);

	if (s == NULL)
		fake_trouble("kernel: more than %d sessions", FAKE_KERNEL_MAX);
	else
		s->cut_rc = rc;
}

size_t
fake_cut_untaken(char *buf, size_t len)
{
	size_t off = 0, n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fake_kernel.ncut; i++) {
		char ip[ADDR_STRLEN];
		int k;

		if (fake_kernel.cut[i].taken)
			continue;
		n++;
		k = snprintf(buf + off, len - off, "%s%s:%u", off ? ", " : "",
		    addr_ntop(&fake_kernel.cut[i].client, ip),
		    fake_kernel.cut[i].cport);
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	if (n == 0)
		snprintf(buf, len, "none");
	return n;
}

int
fake_cut_take(const struct addr *client, uint16_t cport, char *why,
    size_t whylen)
{
	char rest[1024];

	for (size_t i = 0; i < fake_kernel.ncut; i++)
		if (!fake_kernel.cut[i].taken &&
		    fake_kernel.cut[i].cport == cport &&
		    addr_eq(&fake_kernel.cut[i].client, client)) {
			fake_kernel.cut[i].taken = true;
			return 0;
		}
	fake_cut_untaken(rest, sizeof(rest));
	snprintf(why, whylen, "cuts made: %s", rest);
	return -1;
}
