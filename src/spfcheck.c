/*
 * spfcheck.c - libspf2 checks in worker threads, answered through the
 * event loop (contract in spfcheck.h).
 *
 * Shared between the loop and the workers, under mu: the request queue
 * (todo) and the answer list (done).  A request is owned by the queue,
 * then by one worker, then by the done list, then by the loop, which calls
 * its callback and frees it.  The eventfd counts answers; the loop drains
 * it and the done list together.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <spf2/spf.h>

#include "log.h"
#include "spfcheck.h"

struct spfcheck_req {
	struct spfcheck_req *next;
	struct addr client;
	char helo[SPFCHECK_NAME_MAX];
	spfcheck_cb cb;
	void *arg;
	enum spfcheck_result result;
};

struct spfcheck {
	struct evloop *ev;
	int efd;			/* eventfd: answers are waiting */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct spfcheck_req *todo, **todo_tail;
	struct spfcheck_req *done;
	size_t ntodo;
	bool stop;
	pthread_t thr[SPFCHECK_THREADS];
	size_t nthr;
};

const char *
spfcheck_name(enum spfcheck_result r)
{
	switch (r) {
	case SPFCHECK_PASS:	return "pass";
	case SPFCHECK_FAIL:	return "fail";
	case SPFCHECK_SOFTFAIL:	return "softfail";
	case SPFCHECK_NEUTRAL:	return "neutral";
	case SPFCHECK_NONE:	return "none";
	case SPFCHECK_ERROR:	return "error";
	case SPFCHECK_CANCELLED: return "cancelled";
	}
	return "?";
}

/* One check, synchronous: runs in a worker. */
static enum spfcheck_result
spfcheck_run(SPF_server_t *srv, const struct spfcheck_req *q)
{
	SPF_request_t *req = SPF_request_new(srv);
	SPF_response_t *resp = NULL;
	enum spfcheck_result r = SPFCHECK_ERROR;
	char from[SPFCHECK_NAME_MAX + 16];
	SPF_errcode_t e;

	if (req == NULL)
		return SPFCHECK_ERROR;
	if (q->client.family == AF_INET) {
		struct in_addr a;

		memcpy(&a, q->client.b, 4);
		e = SPF_request_set_ipv4(req, a);
	} else {
		struct in6_addr a;

		memcpy(&a, q->client.b, 16);
		e = SPF_request_set_ipv6(req, a);
	}
	snprintf(from, sizeof(from), "postmaster@%s", q->helo);
	if (e != SPF_E_SUCCESS ||
	    SPF_request_set_helo_dom(req, q->helo) != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(req, from) != 0)
		goto out;
	(void)SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL)
		goto out;
	switch (SPF_response_result(resp)) {
	case SPF_RESULT_PASS:		r = SPFCHECK_PASS; break;
	case SPF_RESULT_FAIL:		r = SPFCHECK_FAIL; break;
	case SPF_RESULT_SOFTFAIL:	r = SPFCHECK_SOFTFAIL; break;
	case SPF_RESULT_NEUTRAL:	r = SPFCHECK_NEUTRAL; break;
	case SPF_RESULT_NONE:		r = SPFCHECK_NONE; break;
	default:			r = SPFCHECK_ERROR; break;
	}
out:
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return r;
}

static void *
spfcheck_worker(void *arg)
{
	struct spfcheck *s = arg;
	SPF_server_t *srv = SPF_server_new(SPF_DNS_RESOLV, 0);
	struct spfcheck_req *q;
	uint64_t one = 1;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && s->todo == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		q = s->todo;
		s->todo = q->next;
		if (s->todo == NULL)
			s->todo_tail = &s->todo;
		s->ntodo--;
		pthread_mutex_unlock(&s->mu);

		q->result = srv != NULL ? spfcheck_run(srv, q) : SPFCHECK_ERROR;

		pthread_mutex_lock(&s->mu);
		q->next = s->done;
		s->done = q;
		if (write(s->efd, &one, sizeof(one)) != sizeof(one) &&
		    errno != EAGAIN)
			log_warn("spf: write eventfd");
	}
	pthread_mutex_unlock(&s->mu);
	if (srv != NULL)
		SPF_server_free(srv);
	return NULL;
}

/* Answers are waiting: call their callbacks from the loop. */
static void
spfcheck_readable(int fd, uint32_t events, void *arg)
{
	struct spfcheck *s = arg;
	struct spfcheck_req *list, *q, *rev = NULL;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("spf: read eventfd");
	pthread_mutex_lock(&s->mu);
	list = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->mu);
	/* Oldest first. */
	while (list != NULL) {
		q = list;
		list = q->next;
		q->next = rev;
		rev = q;
	}
	while (rev != NULL) {
		q = rev;
		rev = q->next;
		q->cb(q->arg, q->result);
		free(q);
	}
}

struct spfcheck *
spfcheck_new(struct evloop *ev, char *err, size_t errlen)
{
	struct spfcheck *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "spf: out of memory");
		return NULL;
	}
	s->ev = ev;
	s->todo_tail = &s->todo;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "spf: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (evloop_fd_add(ev, s->efd, EPOLLIN, spfcheck_readable, s) == -1) {
		snprintf(err, errlen, "spf: epoll add eventfd: %s",
		    strerror(errno));
		close(s->efd);
		goto fail;
	}
	return s;
fail:
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	return NULL;
}

void
spfcheck_free(struct spfcheck *s)
{
	struct spfcheck_req *q;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->nthr; i++)
		pthread_join(s->thr[i], NULL);
	/* Workers are gone: answer what was done, cancel the rest. */
	spfcheck_readable(s->efd, EPOLLIN, s);
	while ((q = s->todo) != NULL) {
		s->todo = q->next;
		q->cb(q->arg, SPFCHECK_CANCELLED);
		free(q);
	}
	evloop_fd_del(s->ev, s->efd);
	close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

/*
 * The workers start with the first query, from the event loop: a daemon
 * forks into the background and sheds capabilities after its set-up, and
 * threads started before would be lost in the fork or keep every
 * capability (capabilities are per thread).
 */
static int
spfcheck_start(struct spfcheck *s)
{
	while (s->nthr < SPFCHECK_THREADS) {
		int rc = pthread_create(&s->thr[s->nthr], NULL,
		    spfcheck_worker, s);
		if (rc != 0) {
			errno = rc;
			return s->nthr > 0 ? 0 : -1;
		}
		s->nthr++;
	}
	return 0;
}

int
spfcheck_query(struct spfcheck *s, const struct addr *client,
    const char *helo, spfcheck_cb cb, void *arg)
{
	struct spfcheck_req *q;

	if (s->nthr == 0 && spfcheck_start(s) == -1)
		return -1;
	if (strlen(helo) >= SPFCHECK_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->client = *client;
	memcpy(q->helo, helo, strlen(helo) + 1);
	q->cb = cb;
	q->arg = arg;
	pthread_mutex_lock(&s->mu);
	if (s->ntodo >= SPFCHECK_QUEUE_MAX) {
		pthread_mutex_unlock(&s->mu);
		free(q);
		errno = EAGAIN;
		return -1;
	}
	*s->todo_tail = q;
	s->todo_tail = &q->next;
	s->ntodo++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}
