/*
 * fake_cluster.c - the connection of cluster.h (cluster.c and the files
 * it alone pulls in) for the scenarios: no Redis, a site of siblings the
 * script speaks for.  The pure formats (cluster_msg.c) are the real ones:
 * every sibling's message a step gives is written as its text and read
 * by cluster_msg_parse, and every change the daemon shares is formatted
 * by cluster_msg_format, so a step sees what Redis would have been sent.
 *
 *   cluster event KIND NODE TTL COUNT REASON SUBJECT [age MS]
 *       a sibling's message "1 KIND NODE AT TTL COUNT REASON SUBJECT"
 *       (AT: now - MS), delivered from the loop when the daemon wants
 *       that kind (a malformed one is refused as cluster.c would: counted,
 *       not delivered)
 *   cluster sync begin|done
 *       a resync's begin or end (cluster_on_sync), queued in order with
 *       the events around it
 *   cluster total ADDR N
 *       the shared strike counter of ADDR holds N (the siblings' strikes)
 *   cluster shared /RE/
 *       a change the daemon shared matches (taken): its message with AT
 *       and NODE left out, "deny 192.0.2.7 ttl=3600 count=0 reason=no-ptr"
 *       or, for cluster_strike, "strike 192.0.2.7 total=3 window=600
 *       rule=bare-ip"
 *   no cluster
 *       nothing shared that no step took
 *
 * cluster_strike adds to the counter and gives the total back to the
 * daemon as its own STRIKE event (from the loop), as cluster.c does.
 * File-scope state: one connection per scenario process (fake.h).
 */
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "fake.h"
#include "scn.h"

#define FAKE_CLUSTER_SHARED	256
#define FAKE_CLUSTER_TOTALS	64
#define FAKE_CLUSTER_PENDING	64

struct cluster {
	struct evloop *ev;
	unsigned want;
	cluster_event_cb cb;
	void *arg;
	char node[CLUSTER_NODE_MAX];
	struct cluster_stats st;
	struct ev_timer *timer;		/* delivers pending[] */
	struct cluster_event pending[FAKE_CLUSTER_PENDING];
	size_t npending;
	cluster_sync_cb sync_cb;	/* cluster_on_sync */
	void *sync_arg;
};

/* In pending[] only: a resync's begin (count 0) or done (1). */
#define FAKE_CLUSTER_MARK	CLUSTER_KIND_MAX

static struct cluster *fake_cl;		/* the one open, or NULL */
static char fake_shared[FAKE_CLUSTER_SHARED][CLUSTER_MSG_MAX];
static bool fake_taken[FAKE_CLUSTER_SHARED];
static size_t fake_nshared;
static struct {
	struct addr a;
	uint32_t n;
} fake_total[FAKE_CLUSTER_TOTALS];
static size_t fake_ntotals;

static void
fake_cluster_deliver(void *arg)
{
	struct cluster *c = arg;
	struct cluster_event ev[FAKE_CLUSTER_PENDING];
	size_t n = c->npending;

	c->timer = NULL;
	memcpy(ev, c->pending, n * sizeof(ev[0]));
	c->npending = 0;
	for (size_t i = 0; i < n && fake_cl == c; i++) {
		if (ev[i].kind == FAKE_CLUSTER_MARK) {
			if (c->sync_cb != NULL)
				c->sync_cb(c->sync_arg, ev[i].count != 0);
			continue;
		}
		c->st.applied++;
		c->cb(&ev[i], c->arg);
	}
}

static void
fake_cluster_queue(struct cluster *c, const struct cluster_event *e)
{
	if (c->npending >= FAKE_CLUSTER_PENDING) {
		fake_trouble("fake cluster: more than %d events at once",
		    FAKE_CLUSTER_PENDING);
		return;
	}
	c->pending[c->npending++] = *e;
	if (c->timer == NULL)
		c->timer = evloop_timer_at(c->ev, evloop_now_ms(c->ev),
		    fake_cluster_deliver, c);
}

struct cluster *
cluster_new(struct evloop *ev, const struct conf_cluster *cc,
    const char *daemon, unsigned want, cluster_event_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct cluster *c;

	(void)daemon;
	err[0] = '\0';
	if (cc->redis[0] == '\0' && cc->nsentinels == 0)
		return NULL;
	if (fake_cl != NULL) {
		snprintf(err, errlen, "fake cluster: one connection only");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "fake cluster: out of memory");
		return NULL;
	}
	c->ev = ev;
	c->want = want;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->node, sizeof(c->node), "%s", cc->node[0] ? cc->node :
	    "fake");
	c->st.state = CLUSTER_UP;
	snprintf(c->st.server, sizeof(c->st.server), "%.127s", cc->redis[0] ?
	    cc->redis : "sentinel");
	c->st.since_ms = (int64_t)time(NULL) * 1000;
	fake_cl = c;
	return c;
}

void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->timer != NULL)
		evloop_timer_cancel(c->ev, c->timer);
	if (fake_cl == c)
		fake_cl = NULL;
	free(c);
}

void
cluster_on_sync(struct cluster *c, cluster_sync_cb fn, void *arg)
{
	if (c == NULL)
		return;
	c->sync_cb = fn;
	c->sync_arg = arg;
}

static void
fake_cluster_record(const char *fmt, ...) __attribute__((format(printf, 1,
    2)));

static void
fake_cluster_record(const char *fmt, ...)
{
	va_list ap;

	if (fake_nshared >= FAKE_CLUSTER_SHARED) {
		fake_trouble("fake cluster: more than %d changes shared",
		    FAKE_CLUSTER_SHARED);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(fake_shared[fake_nshared], CLUSTER_MSG_MAX, fmt, ap);
	va_end(ap);
	fake_taken[fake_nshared++] = false;
}

void
cluster_share(struct cluster *c, const struct cluster_event *e)
{
	struct cluster_event m = *e;
	char msg[CLUSTER_MSG_MAX], key[CLUSTER_KEY_MAX];
	char kind[16], node[CLUSTER_NODE_MAX], reason[CLUSTER_REASON_MAX];
	char subj[CLUSTER_MSG_MAX];
	long long at;
	unsigned ttl, count;

	snprintf(m.node, sizeof(m.node), "%s", c->node);
	m.at_ms = (int64_t)time(NULL) * 1000;
	if (cluster_msg_format(&m, msg, sizeof(msg)) == 0 ||
	    cluster_msg_key("smtpgate:", &m, key, sizeof(key)) == 0) {
		fake_trouble("fake cluster: shared an event that does not "
		    "format (kind %d)", (int)e->kind);
		return;
	}
	if (sscanf(msg, "1 %15s %63s %lld %u %u %47s %255s", kind, node, &at,
	    &ttl, &count, reason, subj) != 7) {
		fake_trouble("fake cluster: cannot read back \"%s\"", msg);
		return;
	}
	c->st.shared++;
	fake_cluster_record("%s %s ttl=%u count=%u reason=%s", kind, subj,
	    ttl, count, reason);
}

void
cluster_strike(struct cluster *c, const struct addr *a, uint32_t weight,
    uint32_t window_s, const char *rule)
{
	struct cluster_event e;
	char ip[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < fake_ntotals; i++)
		if (addr_eq(&fake_total[i].a, a))
			break;
	if (i == fake_ntotals) {
		if (fake_ntotals >= FAKE_CLUSTER_TOTALS) {
			fake_trouble("fake cluster: too many strike counters");
			return;
		}
		fake_total[fake_ntotals].a = *a;
		fake_total[fake_ntotals++].n = 0;
	}
	fake_total[i].n += weight;
	c->st.shared++;
	fake_cluster_record("strike %s total=%u window=%u rule=%s",
	    addr_ntop(a, ip), fake_total[i].n, window_s, rule ? rule : "-");
	memset(&e, 0, sizeof(e));
	e.kind = CLUSTER_STRIKE;
	snprintf(e.node, sizeof(e.node), "%s", c->node);
	e.at_ms = (int64_t)time(NULL) * 1000;
	e.ttl_s = window_s;
	e.count = fake_total[i].n;
	if (rule != NULL)
		snprintf(e.reason, sizeof(e.reason), "%s", rule);
	e.a = *a;
	fake_cluster_queue(c, &e);
}

const struct cluster_stats *
cluster_stats(const struct cluster *c)
{
	return &c->st;
}

const char *
cluster_state_name(enum cluster_state s)
{
	static const char *const names[] = { "off", "connecting", "resync",
	    "up", "down" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
	    "?";
}

/* ---- the steps ---- */

static int
fake_cluster_step_event(struct scn *sc, int argc, char **argv)
{
	struct cluster *c = fake_cl;
	struct cluster_event e;
	unsigned long long age = 0;
	char msg[CLUSTER_MSG_MAX], why[128];
	int n;

	if ((argc != 8 && argc != 10) || (argc == 10 &&
	    (strcmp(argv[8], "age") != 0 ||
	    scn_number(argv[9], 1ull << 40, &age) == -1)))
		return scn_fail(sc, "usage: cluster event KIND NODE TTL COUNT "
		    "REASON SUBJECT [age MS]");
	if (c == NULL)
		return scn_fail(sc, "no cluster connection open ([cluster] "
		    "redis set? started?)");
	n = snprintf(msg, sizeof(msg), "1 %s %s %lld %s %s %s %s", argv[2],
	    argv[3], (long long)time(NULL) * 1000 - (long long)age, argv[4],
	    argv[5], argv[6], argv[7]);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return scn_fail(sc, "message too long");
	c->st.received++;
	if (cluster_msg_parse(msg, (size_t)n, &e, why, sizeof(why)) == -1) {
		c->st.refused++;
		return 0;		/* refused, as cluster.c would */
	}
	if (cluster_msg_left(&e, (int64_t)time(NULL) * 1000) == 0 &&
	    e.ttl_s != 0) {
		c->st.expired++;
	}
	if ((c->want & CLUSTER_WANT(e.kind)) == 0)
		return 0;
	fake_cluster_queue(c, &e);
	return 0;
}

static int
fake_cluster_step_total(struct scn *sc, int argc, char **argv)
{
	struct addr a;
	unsigned long long n;
	size_t i;

	if (argc != 4 || addr_parse(argv[2], &a) == -1 ||
	    scn_number(argv[3], CLUSTER_COUNT_MAX, &n) == -1)
		return scn_fail(sc, "usage: cluster total ADDR N");
	for (i = 0; i < fake_ntotals; i++)
		if (addr_eq(&fake_total[i].a, &a))
			break;
	if (i == fake_ntotals) {
		if (fake_ntotals >= FAKE_CLUSTER_TOTALS)
			return scn_fail(sc, "too many strike counters");
		fake_total[fake_ntotals++].a = a;
	}
	fake_total[i].n = (uint32_t)n;
	return 0;
}

static int
fake_cluster_step_shared(struct scn *sc, int argc, char **argv)
{
	char out[2048];
	size_t off = 0;
	regex_t re;

	if (argc != 3)
		return scn_fail(sc, "usage: cluster shared /RE/");
	if (scn_regex(sc, argv[2], &re) == -1)
		return -1;
	for (size_t i = 0; i < fake_nshared; i++) {
		if (fake_taken[i] || regexec(&re, fake_shared[i], 0, NULL,
		    0) != 0)
			continue;
		fake_taken[i] = true;
		regfree(&re);
		return 0;
	}
	regfree(&re);
	out[0] = '\0';
	for (size_t i = 0; i < fake_nshared && off < sizeof(out); i++)
		if (!fake_taken[i]) {
			int n = snprintf(out + off, sizeof(out) - off, "%s\"%s\"",
			    off ? ", " : "", fake_shared[i]);
			if (n < 0)
				break;
			off += (size_t)n;
		}
	return scn_fail(sc, "got no such change shared, want one (not taken: "
	    "%s)", off ? out : "none");
}

static int
fake_cluster_step_sync(struct scn *sc, int argc, char **argv)
{
	struct cluster_event e;

	if (argc != 3 || (strcmp(argv[2], "begin") != 0 &&
	    strcmp(argv[2], "done") != 0))
		return scn_fail(sc, "usage: cluster sync begin|done");
	if (fake_cl == NULL)
		return scn_fail(sc, "no cluster connection open");
	memset(&e, 0, sizeof(e));
	e.kind = FAKE_CLUSTER_MARK;
	e.count = strcmp(argv[2], "done") == 0;
	fake_cluster_queue(fake_cl, &e);
	return 0;
}

int
fake_cluster_step(struct scn *sc, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return fake_cluster_step_sync(sc, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "event") == 0)
		return fake_cluster_step_event(sc, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "total") == 0)
		return fake_cluster_step_total(sc, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "shared") == 0)
		return fake_cluster_step_shared(sc, argc, argv);
	return scn_fail(sc, "usage: cluster event|total|shared ...");
}

int
fake_cluster_step_none(struct scn *sc, int argc, char **argv)
{
	char out[2048];
	size_t off = 0;

	(void)argc;
	(void)argv;
	out[0] = '\0';
	for (size_t i = 0; i < fake_nshared && off < sizeof(out); i++)
		if (!fake_taken[i]) {
			int n = snprintf(out + off, sizeof(out) - off, "%s\"%s\"",
			    off ? ", " : "", fake_shared[i]);
			if (n < 0)
				break;
			off += (size_t)n;
		}
	if (off == 0)
		return 0;
	return scn_fail(sc, "got changes shared that no step took: %s, want "
	    "none", out);
}
