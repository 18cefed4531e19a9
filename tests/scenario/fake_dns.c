/*
 * fake_dns.c - include/dns.h for the scenario tests: a resolver whose
 * answers come from the script (fake.h).
 *
 * Exports every function of dns.h that dns.c does (dns_parse,
 * dns_result_init and dns_type_wire are the real ones, dns_parse.c), and
 * the fake_dns_* steps' helpers of fake.h.
 *
 * A query waits, out, until a step answers it (fake_dns_answer) or a
 * standing rule does (fake_dns_rule, newest first); c-ares never answers
 * by itself, so a query nobody answers stays out until its context is
 * freed, as with a resolver that never replies.  An answer is built as
 * the DNS message a server would send (header, question, records; names
 * written with zone-file escapes, so hostile bytes can be sent) and read
 * by the real parser, dns_parse, as dns.c reads c-ares' answers; what
 * c-ares reports without a message (a timeout, a failed connection)
 * becomes the DNS_ERROR dns.c makes of it.  Answers are delivered from the
 * loop (the context's eventfd), never inside the call that asked, in the
 * order they were given.  dns_free calls back every query still out with
 * DNS_CANCELLED; dns_retire frees the context from the loop once its last
 * query has answered.  A query asked of a retired or freed context is
 * trouble.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dns.h"
#include "fake.h"

enum fake_query_state {
	FQ_OUT,			/* asked, no answer given */
	FQ_DELAYED,		/* a rule answers it after a delay */
	FQ_READY,		/* answered, waiting for the loop */
	FQ_DONE,		/* called back */
	FQ_CANCELLED,		/* called back with DNS_CANCELLED */
};

struct fake_query {
	struct fake_query *next;	/* every query asked, in order */
	struct fake_query *rnext;	/* its context's ready list */
	struct dns *d;			/* NULL once the context is freed */
	char name[DNS_NAME_MAX + 64];
	int qtype;			/* on the wire */
	enum dns_type type;		/* parsed queries */
	dns_cb cb;			/* parsed, or */
	dns_raw_cb raw_cb;		/* raw */
	void *arg;
	int64_t asked_ms;
	enum fake_query_state state;
	bool seen;			/* a step expected or answered it */
	struct fake_answer ans;
	struct ev_timer *timer;		/* FQ_DELAYED */
};

struct dns {
	struct dns *next;		/* every context open */
	struct evloop *ev;
	int efd;			/* readable: answers are ready */
	bool retired;
	struct fake_query *ready_head, *ready_tail;
	struct dns_stats st;
};

struct fake_dns_rule {
	struct fake_dns_rule *next;	/* newest first */
	char name[DNS_NAME_MAX + 64];
	int qtype;
	struct fake_answer ans;
	int64_t delay_ms;
};

static struct {
	struct dns *contexts;
	struct fake_query *head, *tail;
	struct fake_dns_rule *rules;
} fake_dns;

/* ---- types ---- */

static const struct {
	const char *name;
	int qtype;
} fake_dns_types[] = {
	{ "A", 1 }, { "CNAME", 5 }, { "PTR", 12 }, { "MX", 15 },
	{ "TXT", 16 }, { "AAAA", 28 },
};

const char *
fake_dns_type_name(int qtype, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(fake_dns_types) /
	    sizeof(fake_dns_types[0]); i++)
		if (fake_dns_types[i].qtype == qtype)
			return fake_dns_types[i].name;
	snprintf(buf, len, "TYPE%d", qtype);
	return buf;
}

int
fake_dns_type_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(fake_dns_types) /
	    sizeof(fake_dns_types[0]); i++)
		if (strcasecmp(fake_dns_types[i].name, s) == 0)
			return fake_dns_types[i].qtype;
	return -1;
}

/* ---- messages ---- */

/*
 * Zone-file text to a wire name: labels split at dots, "\DDD" one byte
 * (decimal), "\X" the character X itself (so "\." is a dot inside a
 * label).  "" and "." are the root.  The wire length, or -1.
 */
static int
fake_dns_wire_name(const char *t, uint8_t *out, size_t outlen)
{
	size_t n = 0, lab = 0;

	if (outlen < 1)
		return -1;
	if (t[0] == '.' && t[1] == '\0')
		t++;
	out[n++] = 0;		/* the first label's length, set below */
	while (*t != '\0') {
		unsigned c;

		if (*t == '.') {
			if (n - lab - 1 == 0)
				return -1;	/* an empty label */
			out[lab] = (uint8_t)(n - lab - 1);
			lab = n;
			if (n >= outlen)
				return -1;
			out[n++] = 0;
			t++;
			continue;
		}
		if (*t == '\\' && t[1] >= '0' && t[1] <= '9') {
			if (t[2] < '0' || t[2] > '9' || t[3] < '0' || t[3] > '9')
				return -1;
			c = (unsigned)(t[1] - '0') * 100 +
			    (unsigned)(t[2] - '0') * 10 + (unsigned)(t[3] - '0');
			if (c > 255)
				return -1;
			t += 4;
		} else if (*t == '\\' && t[1] != '\0') {
			c = (unsigned char)t[1];
			t += 2;
		} else {
			c = (unsigned char)*t++;
		}
		if (n >= outlen || n - lab > 63)
			return -1;
		out[n++] = (uint8_t)c;
	}
	if (n - lab - 1 > 0) {		/* the last label, then the root */
		out[lab] = (uint8_t)(n - lab - 1);
		if (n >= outlen)
			return -1;
		out[n++] = 0;
	}
	return n > 255 ? -1 : (int)n;
}

static bool
fake_dns_put(uint8_t *msg, size_t len, size_t *off, const void *p, size_t n)
{
	if (*off + n > len)
		return false;
	memcpy(msg + *off, p, n);
	*off += n;
	return true;
}

static bool
fake_dns_put16(uint8_t *msg, size_t len, size_t *off, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return fake_dns_put(msg, len, off, b, 2);
}

/* The message a server would answer q with, into msg; its length, or 0
 * when the script's records cannot be written (trouble). */
static size_t
fake_dns_build(const struct fake_query *q, const struct fake_answer *a,
    uint8_t *msg, size_t len)
{
	uint8_t w[256], rd[256];
	size_t off = 0;
	int wl;

	if (!fake_dns_put16(msg, len, &off, 0x5347) ||
	    !fake_dns_put16(msg, len, &off, 0x8180 | (a->tc ? 0x0200 : 0) |
	    (a->rcode & 0x0f)) || !fake_dns_put16(msg, len, &off, 1) ||
	    !fake_dns_put16(msg, len, &off, (unsigned)a->nrr) ||
	    !fake_dns_put16(msg, len, &off, 0) ||
	    !fake_dns_put16(msg, len, &off, 0))
		return 0;
	if ((wl = fake_dns_wire_name(q->name, w, sizeof(w))) < 0 ||
	    !fake_dns_put(msg, len, &off, w, (size_t)wl) ||
	    !fake_dns_put16(msg, len, &off, (unsigned)q->qtype) ||
	    !fake_dns_put16(msg, len, &off, 1))
		return 0;
	for (size_t i = 0; i < a->nrr; i++) {
		const struct fake_rr *rr = &a->rr[i];
		int rdl;

		switch (rr->type) {
		case 1:
			rdl = inet_pton(AF_INET, rr->data, rd) == 1 ? 4 : -1;
			break;
		case 28:
			rdl = inet_pton(AF_INET6, rr->data, rd) == 1 ? 16 : -1;
			break;
		default:
			rdl = fake_dns_wire_name(rr->data, rd, sizeof(rd));
			break;
		}
		wl = fake_dns_wire_name(rr->owner[0] ? rr->owner : q->name, w,
		    sizeof(w));
		if (rdl < 0 || wl < 0) {
			fake_trouble("dns: record %zu of the answer to %s: "
			    "cannot write \"%s\" \"%s\"", i, q->name,
			    rr->owner, rr->data);
			return 0;
		}
		if (!fake_dns_put(msg, len, &off, w, (size_t)wl) ||
		    !fake_dns_put16(msg, len, &off, rr->type) ||
		    !fake_dns_put16(msg, len, &off, 1) ||
		    !fake_dns_put16(msg, len, &off, 0) ||
		    !fake_dns_put16(msg, len, &off, 300) ||
		    !fake_dns_put16(msg, len, &off, (unsigned)rdl) ||
		    !fake_dns_put(msg, len, &off, rd, (size_t)rdl))
			return 0;
	}
	return off;
}

/* ---- delivery ---- */

static void
fake_dns_retired_free(void *arg)
{
	dns_free(arg);
}

/* q's answer to its caller, now, as dns.c gives c-ares' answers. */
static void
fake_dns_deliver(struct fake_query *q)
{
	struct dns *d = q->d;
	const struct fake_answer *a = &q->ans;
	uint8_t msg[4096];
	const uint8_t *m = msg;
	size_t mlen = 0;
	struct dns_result r;

	q->state = FQ_DONE;
	d->st.inflight--;
	dns_result_init(&r);
	if (a->kind == FAKE_ANS_WIRE)
		mlen = fake_dns_build(q, a, msg, sizeof(msg));
	else if (a->kind == FAKE_ANS_RAW) {
		m = a->raw;
		mlen = a->rawlen;
	}
	switch (a->kind) {
	case FAKE_ANS_WIRE:
	case FAKE_ANS_RAW:
		dns_parse(m, mlen, q->raw_cb != NULL ? DNS_A : q->type, &r);
		break;
	case FAKE_ANS_TIMEOUT:
		d->st.timeouts++;
		r.status = DNS_ERROR;
		r.error = "timeout";
		break;
	case FAKE_ANS_CONNFAIL:
		r.status = DNS_ERROR;
		r.error = "connection failed, or SERVFAIL/REFUSED";
		break;
	}
	if (q->raw_cb != NULL) {
		/* As dns_answer_raw: the message when c-ares says success. */
		enum dns_status st = DNS_ERROR;

		if ((a->kind == FAKE_ANS_WIRE || a->kind == FAKE_ANS_RAW) &&
		    mlen >= 12 && !(m[2] & 0x02)) {
			unsigned rcode = m[3] & 0x0f, an = (unsigned)m[6] << 8 |
			    m[7];

			st = rcode == 3 ? DNS_NXDOMAIN : rcode != 0 ? DNS_ERROR :
			    an == 0 ? DNS_NODATA : DNS_OK;
		}
		if (st == DNS_ERROR)
			d->st.errors++;
		else
			d->st.answers++;
		q->raw_cb(q->arg, st, st == DNS_OK ? m : NULL,
		    st == DNS_OK ? mlen : 0);
	} else {
		if (r.status == DNS_ERROR)
			d->st.errors++;
		else
			d->st.answers++;
		q->cb(q->arg, &r);
	}
	if (d->retired && d->st.inflight == 0 &&
	    evloop_defer(d->ev, fake_dns_retired_free, d) == -1)
		fake_trouble("dns: cannot defer the free of a retired context");
}

static void
fake_dns_readable(int fd, uint32_t events, void *arg)
{
	struct dns *d = arg;
	struct fake_query *q = d->ready_head;
	uint64_t n;

	(void)events;
	(void)read(fd, &n, sizeof(n));
	/* What is ready now; answers readied meanwhile wait for a turn. */
	d->ready_head = d->ready_tail = NULL;
	while (q != NULL) {
		struct fake_query *next = q->rnext;

		q->rnext = NULL;
		fake_dns_deliver(q);
		q = next;
	}
}

static void
fake_dns_ready(struct fake_query *q)
{
	struct dns *d = q->d;
	uint64_t one = 1;

	q->state = FQ_READY;
	q->rnext = NULL;
	if (d->ready_tail != NULL)
		d->ready_tail->rnext = q;
	else
		d->ready_head = q;
	d->ready_tail = q;
	if (write(d->efd, &one, sizeof(one)) != sizeof(one))
		fake_trouble("dns: eventfd write: %s", strerror(errno));
}

static void
fake_dns_delay_fired(void *arg)
{
	struct fake_query *q = arg;

	q->timer = NULL;
	fake_dns_ready(q);
}

static void
fake_dns_give(struct fake_query *q, const struct fake_answer *a,
    int64_t delay_ms)
{
	q->ans = *a;
	q->seen = true;
	if (delay_ms <= 0) {
		fake_dns_ready(q);
		return;
	}
	q->state = FQ_DELAYED;
	q->timer = evloop_timer_at(q->d->ev, fake_now_ms() + delay_ms,
	    fake_dns_delay_fired, q);
	if (q->timer == NULL)
		fake_dns_ready(q);
}

/* ---- dns.h ---- */

struct dns *
dns_new(struct evloop *ev, const struct conf_dns *c, char *err,
    size_t errlen)
{
	struct dns *d = calloc(1, sizeof(*d));

	(void)c;
	if (d == NULL) {
		snprintf(err, errlen, "dns: calloc a fake context: %s",
		    strerror(errno));
		return NULL;
	}
	d->ev = ev;
	if ((d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    evloop_fd_add(ev, d->efd, EPOLLIN, fake_dns_readable, d) == -1) {
		snprintf(err, errlen, "dns: fake context: %s", strerror(errno));
		if (d->efd != -1)
			close(d->efd);
		free(d);
		return NULL;
	}
	d->next = fake_dns.contexts;
	fake_dns.contexts = d;
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next) {
		if (q->d != d)
			continue;
		if (q->state == FQ_OUT || q->state == FQ_DELAYED ||
		    q->state == FQ_READY) {
			struct dns_result r;

			if (q->timer != NULL)
				evloop_timer_cancel(d->ev, q->timer);
			q->timer = NULL;
			q->state = FQ_CANCELLED;
			d->st.inflight--;
			d->st.answers++;
			if (q->raw_cb != NULL) {
				q->raw_cb(q->arg, DNS_CANCELLED, NULL, 0);
			} else {
				dns_result_init(&r);
				r.status = DNS_CANCELLED;
				q->cb(q->arg, &r);
			}
		}
		q->d = NULL;
	}
	for (struct dns **p = &fake_dns.contexts; *p != NULL; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	evloop_fd_del(d->ev, d->efd);
	close(d->efd);
	free(d);
}

void
dns_retire(struct dns *d)
{
	d->retired = true;
	if (d->st.inflight == 0 &&
	    evloop_defer(d->ev, fake_dns_retired_free, d) == -1)
		fake_trouble("dns: cannot defer the free of a retired context");
}

static void
fake_dns_ask(struct dns *d, const char *name, int qtype, enum dns_type type,
    dns_cb cb, dns_raw_cb raw_cb, void *arg)
{
	struct fake_query *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		fake_trouble("dns: calloc a query: %s", strerror(errno));
		return;
	}
	if (d->retired)
		fake_trouble("dns: %s asked of a retired resolver context",
		    name);
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->d = d;
	q->qtype = qtype;
	q->type = type;
	q->cb = cb;
	q->raw_cb = raw_cb;
	q->arg = arg;
	q->asked_ms = fake_now_ms();
	q->state = FQ_OUT;
	if (fake_dns.tail != NULL)
		fake_dns.tail->next = q;
	else
		fake_dns.head = q;
	fake_dns.tail = q;
	d->st.queries++;
	d->st.inflight++;
	for (struct fake_dns_rule *r = fake_dns.rules; r != NULL; r = r->next)
		if (r->qtype == qtype && strcasecmp(r->name, name) == 0) {
			fake_dns_give(q, &r->ans, r->delay_ms);
			break;
		}
}

void
dns_query_until(struct dns *d, const char *name, enum dns_type type,
    int64_t deadline_ms, dns_cb cb, void *arg)
{
	(void)deadline_ms;
	fake_dns_ask(d, name, dns_type_wire(type), type, cb, NULL, arg);
}

void
dns_query(struct dns *d, const char *name, enum dns_type type, dns_cb cb,
    void *arg)
{
	dns_query_until(d, name, type, 0, cb, arg);
}

void
dns_query_raw(struct dns *d, const char *name, int qtype,
    int64_t deadline_ms, dns_raw_cb cb, void *arg)
{
	(void)deadline_ms;
	fake_dns_ask(d, name, qtype, DNS_A, NULL, cb, arg);
}

const struct dns_stats *
dns_stats(const struct dns *d)
{
	return &d->st;
}

/* ---- steps ---- */

/* The queries out (unanswered), into buf. */
static void
fake_dns_out(char *buf, size_t len)
{
	size_t off = 0;
	char t[16];

	buf[0] = '\0';
	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next) {
		int n;

		if (q->state != FQ_OUT)
			continue;
		n = snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "",
		    q->name, fake_dns_type_name(q->qtype, t, sizeof(t)));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "none");
}

static struct fake_query *
fake_dns_find(const char *name, int qtype)
{
	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next)
		if (q->state == FQ_OUT && q->qtype == qtype &&
		    strcasecmp(q->name, name) == 0)
			return q;
	return NULL;
}

int
fake_dns_answer(const char *name, int qtype, const struct fake_answer *a,
    char *why, size_t whylen)
{
	struct fake_query *q = fake_dns_find(name, qtype);
	char out[1024];

	if (q == NULL) {
		fake_dns_out(out, sizeof(out));
		snprintf(why, whylen, "queries out: %s", out);
		return -1;
	}
	fake_dns_give(q, a, 0);
	return 0;
}

int
fake_dns_expect(const char *name, int qtype, char *why, size_t whylen)
{
	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next)
		if (q->state == FQ_OUT && !q->seen && q->qtype == qtype &&
		    strcasecmp(q->name, name) == 0) {
			q->seen = true;
			return 0;
		}
	{
		char out[1024];

		fake_dns_out(out, sizeof(out));
		snprintf(why, whylen, "queries out: %s", out);
	}
	return -1;
}

void
fake_dns_rule(const char *name, int qtype, const struct fake_answer *a,
    int64_t delay_ms)
{
	struct fake_dns_rule *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		fake_trouble("dns: calloc a rule: %s", strerror(errno));
		return;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->qtype = qtype;
	r->ans = *a;
	r->delay_ms = delay_ms;
	r->next = fake_dns.rules;
	fake_dns.rules = r;
	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next)
		if (q->state == FQ_OUT && q->qtype == qtype &&
		    strcasecmp(q->name, name) == 0)
			fake_dns_give(q, a, delay_ms);
}

size_t
fake_dns_unseen(char *buf, size_t len)
{
	size_t off = 0, n = 0;
	char t[16];

	buf[0] = '\0';
	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next) {
		int k;

		if (q->seen)
			continue;
		n++;
		k = snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "",
		    q->name, fake_dns_type_name(q->qtype, t, sizeof(t)));
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	return n;
}

size_t
fake_dns_count(const char *name, int qtype)
{
	size_t n = 0;

	for (struct fake_query *q = fake_dns.head; q != NULL; q = q->next)
		if (q->qtype == qtype && strcasecmp(q->name, name) == 0)
			n++;
	return n;
}
