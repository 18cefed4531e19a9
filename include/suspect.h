/*
 * suspect.h - how much a refused client behaves like a legitimate mail
 * server: the pure scoring behind `smtpgatectl suspects` (the false
 * positive radar).  No I/O, no allocation; the caller hands in what the
 * journal holds of one address and gets its signs and score back.
 *
 * The signs (smtpgatectl(8), SUSPECTS, says the same):
 *   retries   an MTA-like retry schedule: the address's attempts, in time
 *             order, are grouped into tries (an attempt less than
 *             SUSPECT_TRY_GAP_S after the previous one joins its try: a
 *             burst of connections is one try), and the tries into runs
 *             (a try more than SUSPECT_RUN_GAP_S after the previous one
 *             starts a new run: a queue gives up or the sender comes back
 *             another day); some run has at least SUSPECT_TRIES tries and
 *             its first and last try start at least SUSPECT_SPAN_S apart.
 *             So: 3 or more tries, each 1 min to 6 h after the one
 *             before, for an hour or more (Postfix retries after 5 min,
 *             doubling to 67 min; Exim and Sendmail within hours).
 *   named     the PTR name is of class "named" and forward-confirmed
 *             (fcrdns "pass").
 *   dnswl     a dnswl:ZONE finding (the address is on an allow list).
 *   helo      the HELO/EHLO argument equals the PTR name (ASCII case and
 *             one trailing dot ignored).
 *   spf       SPF of the HELO name passed for the address.
 * The score is the sum of the weights of the signs present; a score of 0
 * is a bot with no such sign.
 */
#ifndef SMTPGATE_SUSPECT_H
#define SMTPGATE_SUSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUSPECT_TRY_GAP_S	60	/* attempts closer than this: one try */
#define SUSPECT_TRIES		3	/* tries at least */
#define SUSPECT_SPAN_S		3600	/* first to last try at least */
#define SUSPECT_RUN_GAP_S	(6 * 3600)	/* tries further apart: a new run */

enum suspect_sign {
	SUSPECT_RETRIES = 1u << 0,
	SUSPECT_NAMED = 1u << 1,
	SUSPECT_DNSWL = 1u << 2,
	SUSPECT_HELO = 1u << 3,
	SUSPECT_SPF = 1u << 4,
};

/* Weights: a retry schedule and a confirmed name weigh most (a bot has
 * neither), a DNSWL listing next, then the HELO and SPF signs that a
 * careful bot can fake. */
#define SUSPECT_W_RETRIES	4
#define SUSPECT_W_NAMED		4
#define SUSPECT_W_DNSWL		3
#define SUSPECT_W_HELO		2
#define SUSPECT_W_SPF		1

/* What the journal knows of one refused address; NULL: not recorded. */
struct suspect_in {
	const int64_t *t;	/* its attempts' times (Unix s), ascending */
	size_t nt;
	const char *ptr;	/* PTR name of its last gate attempt */
	const char *ptr_class;	/* its class: named, generic, ... */
	const char *fcrdns;	/* pass, fail, unknown */
	bool dnswl;		/* a dnswl:* finding on its last gate attempt */
	const char *helo;	/* HELO of its last sniffer session */
	const char *spf_helo;	/* SPF result of that HELO */
};

struct suspect_score {
	unsigned signs;		/* enum suspect_sign bits */
	int score;		/* sum of the weights */
	unsigned tries;		/* tries of its longest run (above) */
	int64_t span_s;		/* that run's first try to its last */
};

/*
 * Score one address.  in->t must be sorted ascending (the caller's query
 * orders it); an unsorted array only loses the retries sign.
 */
void suspect_score(const struct suspect_in *in, struct suspect_score *out);

/*
 * The signs in words, "; "-separated, into buf ("retried 5 times over
 * 3.2 h; named PTR, forward-confirmed; ..."); "no sign" for none.
 * Always NUL-terminates (truncating) when len > 0; returns buf.
 */
const char *suspect_reasons(const struct suspect_score *s, char *buf,
    size_t len);

/* Do a and b name the same host: equal ignoring ASCII case and one
 * trailing dot each, and not empty? */
bool suspect_name_eq(const char *a, const char *b);

#endif
