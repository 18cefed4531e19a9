/*
 * fake_spf.c - include/spfcheck.h for the scenario tests: SPF checks
 * whose results come from the script instead of sandboxed libspf2
 * helpers (fake.h).
 *
 * Exports every function of spfcheck.h that spfcheck.c does
 * (spfcheck_name is the real one, spfcheck_name.c) and the fake_spf_*
 * helpers.  It stands in for the whole client: spfcheck_job.c,
 * spfcheck_worker.c, spfcheck_fetch.c and spfcheck_sup.c are reached only
 * from spfcheck.c, and each of them needs spfcheck.c's spfcheck_send
 * (directly or through another), so were any of them pulled in, spfcheck.o
 * would follow and clash with this file at link time.
 *
 * The contract kept from spfcheck.h: a check is answered once, from the
 * loop (an eventfd), never inside spfcheck_query; by the script's result
 * (a step, or a standing rule), by SPFCHECK_TEMPERROR at its deadline, or
 * by SPFCHECK_CANCELLED from spfcheck_free.  Checks of the same identity
 * from the same client share one evaluation (joined); a client (an IPv4
 * address, an IPv6 /64) has at most max_per_client checks at once, beyond
 * which spfcheck_query refuses with EAGAIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake.h"
#include "spfcheck.h"

#define FAKE_SPF_WAITERS	8

enum fake_check_state { FC_OUT, FC_READY, FC_DONE };

struct fake_check {
	struct fake_check *next;	/* every check, in order */
	struct spfcheck *s;		/* NULL once freed */
	struct addr client, key;	/* the client, its /64 for IPv6 */
	char helo[SPFCHECK_NAME_MAX];
	char mail_from[SPFCHECK_SENDER_MAX];
	bool has_mail_from;
	enum fake_check_state state;
	bool seen;
	enum spfcheck_result result;
	struct ev_timer *deadline;
	size_t nwait;
	struct {
		spfcheck_cb cb;
		void *arg;
	} wait[FAKE_SPF_WAITERS];
};

struct spfcheck {
	struct evloop *ev;
	int efd;
	unsigned max_per_client;
	struct spfcheck_stats st;
};

struct fake_spf_rule {
	struct fake_spf_rule *next;
	char helo[SPFCHECK_NAME_MAX];
	enum spfcheck_result result;
};

static struct {
	struct fake_check *head, *tail;
	struct fake_spf_rule *rules;
} fake_spf;

static const char *const fake_spf_names[] = {
	[SPFCHECK_PASS] = "pass", [SPFCHECK_FAIL] = "fail",
	[SPFCHECK_SOFTFAIL] = "softfail", [SPFCHECK_NEUTRAL] = "neutral",
	[SPFCHECK_NONE] = "none", [SPFCHECK_TEMPERROR] = "temperror",
	[SPFCHECK_PERMERROR] = "permerror",
};

int
fake_spf_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(fake_spf_names) /
	    sizeof(fake_spf_names[0]); i++)
		if (strcmp(s, fake_spf_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Every waiter of c gets r, now; c leaves its client's count. */
static void
fake_spf_deliver(struct fake_check *c, enum spfcheck_result r)
{
	struct spfcheck *s = c->s;
	size_t n = c->nwait;

	c->state = FC_DONE;
	if (c->deadline != NULL)
		evloop_timer_cancel(s->ev, c->deadline);
	c->deadline = NULL;
	c->nwait = 0;
	for (size_t i = 0; i < n; i++)
		c->wait[i].cb(c->wait[i].arg, r);
}

static void
fake_spf_readable(int fd, uint32_t events, void *arg)
{
	struct spfcheck *s = arg;
	uint64_t n;

	(void)events;
	(void)read(fd, &n, sizeof(n));
	for (struct fake_check *c = fake_spf.head; c != NULL; c = c->next)
		if (c->s == s && c->state == FC_READY)
			fake_spf_deliver(c, c->result);
}

static void
fake_spf_ready(struct fake_check *c, enum spfcheck_result r)
{
	uint64_t one = 1;

	c->state = FC_READY;
	c->result = r;
	c->seen = true;
	if (write(c->s->efd, &one, sizeof(one)) != sizeof(one))
		fake_trouble("spf: eventfd write: %s", strerror(errno));
}

static void
fake_spf_deadline(void *arg)
{
	struct fake_check *c = arg;

	c->deadline = NULL;
	if (c->state != FC_OUT)
		return;
	c->s->st.timeouts++;
	fake_spf_deliver(c, SPFCHECK_TEMPERROR);
}

/* ---- spfcheck.h ---- */

struct spfcheck *
spfcheck_new(struct evloop *ev, const struct conf_dns *dns,
    const struct spfcheck_opts *o, char *info, char *err, size_t errlen)
{
	struct spfcheck *s = calloc(1, sizeof(*s));

	(void)dns;
	if (s == NULL) {
		snprintf(err, errlen, "spf: calloc: %s", strerror(errno));
		return NULL;
	}
	s->ev = ev;
	s->max_per_client = o->max_per_client;
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    evloop_fd_add(ev, s->efd, EPOLLIN, fake_spf_readable, s) == -1) {
		snprintf(err, errlen, "spf: fake helpers: %s", strerror(errno));
		if (s->efd != -1)
			close(s->efd);
		free(s);
		return NULL;
	}
	s->st.workers_up = o->workers;
	if (info != NULL)
		snprintf(info, 128, "spf: %u fake workers (scenario tests)",
		    o->workers);
	return s;
}

void
spfcheck_free(struct spfcheck *s)
{
	if (s == NULL)
		return;
	for (struct fake_check *c = fake_spf.head; c != NULL; c = c->next) {
		if (c->s != s)
			continue;
		if (c->state != FC_DONE)
			fake_spf_deliver(c, SPFCHECK_CANCELLED);
		c->s = NULL;
	}
	evloop_fd_del(s->ev, s->efd);
	close(s->efd);
	free(s);
}

int
spfcheck_set_dns(struct spfcheck *s, const struct conf_dns *dns, char *err,
    size_t errlen)
{
	(void)s;
	(void)dns;
	(void)err;
	(void)errlen;
	return 0;
}

void
spfcheck_set_max_per_client(struct spfcheck *s, unsigned n)
{
	s->max_per_client = n;
}

int
spfcheck_query(struct spfcheck *s, const struct spfcheck_req *q,
    spfcheck_cb cb, void *arg)
{
	struct addr key = q->client;
	struct fake_check *c;
	unsigned mine = 0;

	if (strlen(q->helo) >= SPFCHECK_NAME_MAX || (q->mail_from != NULL &&
	    strlen(q->mail_from) >= SPFCHECK_SENDER_MAX)) {
		errno = EINVAL;
		return -1;
	}
	if (key.family == AF_INET6)
		memset(key.b + 8, 0, 8);
	for (c = fake_spf.head; c != NULL; c = c->next) {
		if (c->s != s || c->state == FC_DONE || !addr_eq(&c->key, &key))
			continue;
		mine++;
		if (addr_eq(&c->client, &q->client) &&
		    strcasecmp(c->helo, q->helo) == 0 &&
		    c->has_mail_from == (q->mail_from != NULL) &&
		    (q->mail_from == NULL ||
		    strcmp(c->mail_from, q->mail_from) == 0) &&
		    c->nwait < FAKE_SPF_WAITERS) {
			c->wait[c->nwait].cb = cb;
			c->wait[c->nwait].arg = arg;
			c->nwait++;
			s->st.joined++;
			return 0;
		}
	}
	if (mine >= s->max_per_client) {
		s->st.refused++;
		errno = EAGAIN;
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->s = s;
	c->client = q->client;
	c->key = key;
	snprintf(c->helo, sizeof(c->helo), "%s", q->helo);
	if (q->mail_from != NULL) {
		c->has_mail_from = true;
		snprintf(c->mail_from, sizeof(c->mail_from), "%s",
		    q->mail_from);
	}
	c->state = FC_OUT;
	c->wait[0].cb = cb;
	c->wait[0].arg = arg;
	c->nwait = 1;
	c->deadline = evloop_timer_at(s->ev, q->deadline_ms,
	    fake_spf_deadline, c);
	if (fake_spf.tail != NULL)
		fake_spf.tail->next = c;
	else
		fake_spf.head = c;
	fake_spf.tail = c;
	s->st.checks++;
	for (struct fake_spf_rule *r = fake_spf.rules; r != NULL; r = r->next)
		if (strcasecmp(r->helo, c->helo) == 0) {
			fake_spf_ready(c, r->result);
			break;
		}
	return 0;
}

const struct spfcheck_stats *
spfcheck_stats(const struct spfcheck *s)
{
	return &s->st;
}

/* ---- steps ---- */

static void
fake_spf_out(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (struct fake_check *c = fake_spf.head; c != NULL; c = c->next) {
		int k;

		if (c->state != FC_OUT)
			continue;
		k = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    c->helo);
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	if (off == 0)
		snprintf(buf, len, "none");
}

static struct fake_check *
fake_spf_find(const char *helo, bool unseen)
{
	for (struct fake_check *c = fake_spf.head; c != NULL; c = c->next)
		if (c->state == FC_OUT && (!unseen || !c->seen) &&
		    strcasecmp(c->helo, helo) == 0)
			return c;
	return NULL;
}

int
fake_spf_expect(const char *helo, char *why, size_t whylen)
{
	struct fake_check *c = fake_spf_find(helo, true);
	char out[1024];

	if (c != NULL) {
		c->seen = true;
		return 0;
	}
	fake_spf_out(out, sizeof(out));
	snprintf(why, whylen, "checks out: %s", out);
	return -1;
}

int
fake_spf_answer(const char *helo, int result, char *why, size_t whylen)
{
	struct fake_check *c = fake_spf_find(helo, false);
	char out[1024];

	if (c != NULL) {
		fake_spf_ready(c, (enum spfcheck_result)result);
		return 0;
	}
	fake_spf_out(out, sizeof(out));
	snprintf(why, whylen, "checks out: %s", out);
	return -1;
}

void
fake_spf_rule(const char *helo, int result)
{
	struct fake_spf_rule *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		fake_trouble("spf: calloc a rule: %s", strerror(errno));
		return;
	}
	snprintf(r->helo, sizeof(r->helo), "%s", helo);
	r->result = (enum spfcheck_result)result;
	r->next = fake_spf.rules;
	fake_spf.rules = r;
	for (struct fake_check *c = fake_spf.head; c != NULL; c = c->next)
		if (c->state == FC_OUT && strcasecmp(c->helo, helo) == 0)
			fake_spf_ready(c, r->result);
}

size_t
fake_spf_unseen(char *buf, size_t len)
{
	size_t off = 0, n = 0;

	buf[0] = '\0';
	for (struct fake_check *c = fake_spf.head; c != NULL; c = c->next) {
		int k;

		if (c->seen)
			continue;
		n++;
		k = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    c->helo);
		if (k > 0 && (size_t)k < len - off)
			off += (size_t)k;
	}
	return n;
}
