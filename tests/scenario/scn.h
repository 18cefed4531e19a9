/*
 * scn.h - the scenario runner's core (scn.c), shared by the runner of
 * each daemon (run_gate.c, run_sniff.c).
 *
 * A scenario is a file of steps, one a line ('#' starts a comment): the
 * runner writes the configuration the steps give, starts the daemon on a
 * real event loop in virtual time with the fakes of fake.h in place of
 * the queue, the resolver, the kernel's sets and the SPF helpers, and
 * plays the steps in order.  After each step the loop runs until it has
 * nothing left to do at the current virtual time; a step that expects
 * something and finds something else fails the scenario with
 *     FILE:LINE: STEP: got X, want Y
 * and the log lines the daemon wrote last.  tests/scenario/README.md
 * lists the steps.
 *
 * scn_main runs each file given in a child process of its own (the fakes
 * keep per-process state; a crash or a sanitizer report fails that file
 * alone), as user nobody when started as root (the scenarios need no
 * privilege, and so prove it), in a temporary directory that holds the
 * configuration, the allow list, the state file and the control socket.
 */
#ifndef SMTPGATE_SCN_H
#define SMTPGATE_SCN_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "conf.h"
#include "evloop.h"

struct scn;

/* A step: argv[0] is its name; the tokens as written, quotes removed
 * (escapes are the step's to read), a /regex/ as one token with its
 * slashes.  0, or -1 after scn_fail. */
typedef int (*scn_step_fn)(struct scn *sc, int argc, char **argv);

struct scn_step {
	const char *name;		/* one word, or two ("no cuts"): a
					 * daemon's two-word steps come first */
	scn_step_fn fn;
};

/* What a runner supplies about its daemon. */
struct scn_daemon {
	const char *name;			/* "gate", "sniff" */
	const char *const *defaults;		/* "section.key=value", NULL
						 * ended; @TMP@ is the
						 * scenario's directory */
	int (*start)(struct scn *sc, const struct conf *c, char *err,
	    size_t errlen);			/* 0 or -1 */
	void (*stop)(struct scn *sc);
	/* -1 failed, 0 reloaded, 1 reloaded but not all applied */
	int (*reload)(struct scn *sc, const char *path, char *err,
	    size_t errlen);
	void (*stats)(struct scn *sc, char *buf, size_t len);
	const struct scn_step *steps;		/* its own, NULL name ended */
};

int scn_main(int argc, char *argv[], const struct scn_daemon *d);

/* For the runners' steps. */
int scn_fail(struct scn *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct evloop *scn_ev(struct scn *sc);
bool scn_running(struct scn *sc);
/* The runner's own state (its daemon), kept for it. */
void *scn_ctx(struct scn *sc);
void scn_set_ctx(struct scn *sc, void *ctx);
const char *scn_dir(struct scn *sc);
/* The daemon is gone without its stop (a restart that failed). */
void scn_stop_lost(struct scn *sc);
/* Compile a /RE/ token (extended syntax).  0, or -1 after scn_fail. */
int scn_regex(struct scn *sc, const char *tok, regex_t *re);

/* Read C escapes (\r \n \t \\ \" \xHH) of in into out; its length, or
 * -1 when it does not fit or an escape is bad. */
ssize_t scn_unescape(const char *in, uint8_t *out, size_t cap);
/* "ADDR", "ADDR:PORT", "[ADDR6]:PORT"; port 0 when none.  0 or -1. */
int scn_addr_port(const char *s, struct addr *a, uint16_t *port);
/* A number (0x... allowed) within max.  0 or -1. */
int scn_number(const char *s, unsigned long long max, unsigned long long *out);

/* A TCP packet from src:sport to dst:dport with flags (PKT_TCP_*), seq
 * and payload, into buf (IPv4 or IPv6 by src's family); its length, and
 * the hardware protocol in *hw. 0 when it does not fit. */
size_t scn_packet(uint8_t *buf, size_t cap, const struct addr *src,
    uint16_t sport, const struct addr *dst, uint16_t dport, uint8_t flags,
    uint32_t seq, const uint8_t *payload, size_t plen, uint16_t *hw);
/* TCP flags from "S", "SA", "PA", "F", "R" ...; -1. */
int scn_tcp_flags(const char *s);

#endif
