/*
 * spfcheck_int.h - what the files of the SPF helpers' client share; not
 * for other modules (their entry points are spfcheck.h).  One section per
 * file:
 *
 *   spfcheck.c         set-up, shutdown, reload, spfcheck_query, the one
 *                      send of a message
 *   spfcheck_job.c     jobs: their clients, waiters, answers kept, the
 *                      FIFO and the pump that hands them to workers, the
 *                      deadline
 *   spfcheck_worker.c  a worker's run: CHECK out, DNSQ and RESULT in,
 *                      checked; deaths and kills
 *   spfcheck_fetch.c   the DNS answers fetched for the workers (c-ares on
 *                      the loop), the questions a worker may ask
 *   spfcheck_sup.c     the supervisor's control socket: workers announced
 *                      and lost, kills asked, the wait at start
 *
 * Everything runs on the caller's event loop; struct spfcheck is the
 * context every function takes (or reaches through a job or a worker).
 */
#ifndef SMTPGATE_SPFCHECK_INT_H
#define SMTPGATE_SPFCHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dns.h"
#include "siphash.h"
#include "spfcheck.h"
#include "spfproc.h"
#include "spfwire.h"

#define SPFCHECK_CLIENT_BUCKETS	1024

enum spfcheck_state {
	SPFCHECK_QUEUED,	/* in the FIFO */
	SPFCHECK_RUNNING,	/* on a worker */
	SPFCHECK_PARKED,	/* waiting for its fetch, holding nothing */
	SPFCHECK_OVER,		/* answered; waiting for a fetch to return */
};

/* One caller waiting for a job's answer. */
struct spfcheck_waiter {
	struct spfcheck_waiter *next;
	spfcheck_cb cb;
	void *arg;
};

/* One answer a job was given: replayed to every later run. */
struct spfcheck_answer {
	uint16_t qtype;
	uint8_t status;			/* enum spfwire_dns_status */
	uint16_t len;
	char name[SPFWIRE_NAME_MAX];
	uint8_t *bytes;			/* len bytes, or NULL */
};

/* The jobs of one client prefix (spfcheck_job.c). */
struct spfcheck_client {
	struct spfcheck_client *next;	/* hash chain */
	struct addr key;		/* the address, or its /64 */
	unsigned n;			/* jobs of this client */
	unsigned running;		/* of them on a worker */
	struct spfcheck_job *jobs;	/* linked by cnext */
};

/* One evaluation, shared by every query of the same question. */
struct spfcheck_job {
	struct spfcheck *s;
	uint32_t id;
	enum spfcheck_state state;
	bool answered;
	bool fetching;			/* a fetch is out */
	bool starved;			/* out of budget or memory: every
					 * answer not kept fails */
	struct spfcheck_job *qnext;	/* FIFO */
	struct spfcheck_job *cnext;	/* its client's jobs */
	struct spfcheck_client *cl;
	struct spfwire_check chk;
	int64_t deadline_ms;
	struct ev_timer *timer;		/* the deadline */
	struct spfcheck_waiter *waiters, **wtail;
	struct spfcheck_answer *ans;	/* the cache */
	size_t nans, capans, ans_bytes;
	struct spfcheck_answer want;	/* the fetch (name, type) */
	unsigned runs;
};

struct spfcheck_worker {
	struct spfcheck *s;
	unsigned slot;
	int fd;				/* -1: no worker in the slot */
	pid_t pid;
	struct spfcheck_job *job;	/* the run under way, or NULL: idle */
	bool pending_told;		/* this run was told PENDING */
	struct ev_timer *timer;		/* kill grace past the deadline */
};

struct spfcheck {
	struct evloop *ev;
	struct dns *dns, *old_dns;	/* current; replaced, draining */
	unsigned dns_out, old_dns_out;	/* our fetches on each */
	unsigned max_per_client;
	unsigned max_running;		/* workers one client may hold */
	pid_t sup_pid;
	int ctl;			/* the supervisor's control socket */
	bool sup_dead;
	bool ctl_registered;		/* ctl is in the event loop */
	bool freeing;
	bool failing;			/* in a streak of worker trouble */
	unsigned nworkers;
	struct spfcheck_worker w[SPFPROC_WORKERS_MAX];
	struct spfcheck_job *qhead, **qtail;
	size_t nqueued, njobs;
	struct spfcheck_client *bucket[SPFCHECK_CLIENT_BUCKETS];
	struct siphash_key hash_key;	/* for the client table */
	uint32_t next_id;
	struct ev_timer *pump;		/* a pump is due */
	uint8_t buf[SPFWIRE_MSG_MAX];
	struct spfcheck_stats st;
};

/* ---- spfcheck.c ---- */

/* Encode m into s->buf and send it on fd (a worker's socket or the
 * supervisor's) without waiting: 0, or -1. */
int spfcheck_send(struct spfcheck *s, int fd, const struct spfwire_msg *m);

/* ---- spfcheck_job.c: jobs and the queue ---- */

/* Query q for waiter wt (the identity ident, the sender "" for HELO):
 * joined to a job of the same question, or a new job, its first answer
 * fetched (spfcheck_fetch_first).  0, or -1 with errno (EAGAIN: a cap,
 * counted as refused; ENOMEM); wt is then the caller's. */
int spfcheck_job_add(struct spfcheck *s, const struct spfcheck_req *q,
    uint8_t ident, const char *sender, struct spfcheck_waiter *wt);
/* Call every waiter of j once, oldest first (later calls do nothing). */
void spfcheck_job_answer(struct spfcheck *s, struct spfcheck_job *j,
    enum spfcheck_result r);
/* Free j once it is answered and nothing holds it. */
void spfcheck_job_release(struct spfcheck *s, struct spfcheck_job *j);
/* The answer j was given for (qtype, name), or NULL. */
const struct spfcheck_answer *spfcheck_job_cached(
    const struct spfcheck_job *j, uint16_t qtype, const char *name);
/* Keep an answer for j's later runs.  0, or -1 (budget, memory). */
int spfcheck_job_keep(struct spfcheck_job *j,
    const struct spfcheck_answer *a, const unsigned char *bytes);
/* Queue j for a worker, at the head when front (its next run). */
void spfcheck_job_enqueue(struct spfcheck *s, struct spfcheck_job *j,
    bool front);
/* Run the pump from the loop soon (never inside the caller). */
void spfcheck_job_pump_soon(struct spfcheck *s);
/* At shutdown: answer every job SPFCHECK_CANCELLED, in the order queued,
 * running (their workers' sockets closed: spfcheck_worker_close_all),
 * parked; all but the parked ones are freed, those go as their fetches
 * come back cancelled. */
void spfcheck_job_cancel_all(struct spfcheck *s);

/* ---- spfcheck_worker.c: the workers ---- */

/* The worker in slot has started (pid, its socket fd, ours now). */
void spfcheck_worker_attach(struct spfcheck *s, unsigned slot, pid_t pid,
    int fd);
/* An idle worker, or NULL. */
struct spfcheck_worker *spfcheck_worker_find_idle(struct spfcheck *s);
/* Hand j (out of the FIFO) to idle worker w. */
void spfcheck_worker_run(struct spfcheck *s, struct spfcheck_worker *w,
    struct spfcheck_job *j);
/* j's deadline passed while it ran: its worker gets
 * SPFCHECK_KILL_GRACE_MS to finish, then goes. */
void spfcheck_worker_grace(struct spfcheck *s, struct spfcheck_job *j);
/* The worker of w is gone (or is to go, when kill_it): its socket
 * closed, its job answered temperror. */
void spfcheck_worker_gone(struct spfcheck *s, struct spfcheck_worker *w,
    bool kill_it, const char *why);
/* Worker trouble is logged once per streak, which a good answer ends. */
void spfcheck_worker_trouble(struct spfcheck *s, pid_t pid,
    const char *what);
/* At shutdown: every worker's job cancelled, its socket closed. */
void spfcheck_worker_close_all(struct spfcheck *s);

/* ---- spfcheck_fetch.c: DNS for the workers ---- */

/* May a helper ask this?  A name as DNS carries it, a type SPF uses. */
bool spfcheck_fetch_ok(const struct spfwire_dnsq *q);
/* Fetch j->want on the loop; the job holds no worker meanwhile. */
void spfcheck_fetch(struct spfcheck *s, struct spfcheck_job *j);
/* A new job: fetch its first answer before any worker runs it. */
void spfcheck_fetch_first(struct spfcheck *s, struct spfcheck_job *j);

/* ---- spfcheck_sup.c: the supervisor ---- */

/* At start: wait (blocking, SPFCHECK_START_WAIT_MS at most) for the
 * first worker, then put the control socket in the loop.  0, or -1 with
 * err. */
int spfcheck_sup_wait(struct spfcheck *s, char *err, size_t errlen);
/* Ask the supervisor to kill w's worker. */
void spfcheck_sup_kill(struct spfcheck *s, const struct spfcheck_worker *w);
/* At shutdown: close the control socket (the supervisor kills its
 * workers and exits) and reap it, briefly. */
void spfcheck_sup_close(struct spfcheck *s);

#endif
