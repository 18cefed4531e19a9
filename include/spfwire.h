/*
 * spfwire.h - the messages between smtpgate's SPF client (spfcheck.c, in
 * the daemon or smtpgatectl) and its sandboxed helper processes
 * (spfproc.c): typed, versioned, checked to the last byte (OpenSMTPD's
 * mproc discipline).
 *
 * Every message is one SOCK_SEQPACKET datagram: a header (type, version,
 * reserved, 32-bit id) and the fields of its type, each string as a 16-bit
 * length and that many bytes (no NUL inside, no terminator on the wire).
 * spfwire_decode refuses a wrong version, an unknown type, a short or long
 * datagram, a string over its bound or with a NUL, and trailing bytes: the
 * client treats whatever a helper sends as hostile, since the helper runs
 * libspf2 on attacker-controlled records.
 *
 * Flow: the client sends CHECK to a worker; the worker answers with any
 * number of DNSQ (one at a time, each answered by DNSA) and then one RESULT
 * with the same id.  A DNSA may say PENDING: the worker then stops the
 * check (every later lookup fails at once) and sends a RESULT flagged
 * INCOMPLETE; the client runs the check again once it has the answer.  The supervisor announces workers with WORKER_UP (the
 * worker's socket travels as SCM_RIGHTS beside it) and their deaths with
 * WORKER_DOWN; the client asks it to end a stuck worker with KILL.
 * Pure: no allocation, no I/O.
 */
#ifndef SMTPGATE_SPFWIRE_H
#define SMTPGATE_SPFWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define SPFWIRE_VERSION		1
#define SPFWIRE_NAME_MAX	254	/* a domain name with its NUL */
#define SPFWIRE_SENDER_MAX	321	/* local@domain (64+1+253) with NUL */
#define SPFWIRE_REASON_MAX	128	/* a result's explanation with NUL */
#define SPFWIRE_ANSWER_MAX	65535	/* a raw DNS answer */
#define SPFWIRE_HDR_LEN		8
#define SPFWIRE_MSG_MAX		(SPFWIRE_HDR_LEN + 8 + SPFWIRE_ANSWER_MAX)

enum spfwire_type {
	SPFWIRE_CHECK = 1,	/* client -> worker: evaluate */
	SPFWIRE_DNSQ,		/* worker -> client: look this up */
	SPFWIRE_DNSA,		/* client -> worker: the raw answer */
	SPFWIRE_RESULT,		/* worker -> client: the outcome */
	SPFWIRE_WORKER_UP,	/* supervisor -> client (+ SCM_RIGHTS fd) */
	SPFWIRE_WORKER_DOWN,	/* supervisor -> client */
	SPFWIRE_KILL,		/* client -> supervisor */
};

/* The identity checked (RFC 7208 section 2). */
enum spfwire_identity {
	SPFWIRE_ID_HELO,	/* postmaster@helo */
	SPFWIRE_ID_MAILFROM,	/* the MAIL FROM address */
};

/* Outcomes (RFC 7208 section 2.6), as the wire carries them. */
enum spfwire_result_code {
	SPFWIRE_R_PASS,
	SPFWIRE_R_FAIL,
	SPFWIRE_R_SOFTFAIL,
	SPFWIRE_R_NEUTRAL,
	SPFWIRE_R_NONE,
	SPFWIRE_R_TEMPERROR,
	SPFWIRE_R_PERMERROR,
	SPFWIRE_R_MAX
};

/* Status of a DNS answer handed to a worker. */
enum spfwire_dns_status {
	SPFWIRE_DNS_OK,		/* answer bytes follow (may hold no records) */
	SPFWIRE_DNS_NXDOMAIN,
	SPFWIRE_DNS_NODATA,
	SPFWIRE_DNS_ERROR,	/* SERVFAIL, timeout, refused: try again */
	SPFWIRE_DNS_PENDING,	/* not known yet: stop, the check is run
				 * again once it is */
	SPFWIRE_DNS_MAX
};

struct spfwire_check {
	uint8_t identity;			/* enum spfwire_identity */
	struct addr client;
	char helo[SPFWIRE_NAME_MAX];		/* canonical HELO domain */
	char sender[SPFWIRE_SENDER_MAX];	/* MAIL FROM; "" for HELO */
	uint32_t deadline_ms;			/* time left for the check */
};

struct spfwire_dnsq {
	uint16_t qtype;				/* ns_t_txt, ns_t_a, ... */
	char name[SPFWIRE_NAME_MAX];
};

struct spfwire_dnsa {
	uint8_t status;				/* enum spfwire_dns_status */
	uint16_t len;				/* bytes at answer */
	const uint8_t *answer;			/* points into the datagram */
};

#define SPFWIRE_RF_SCREENED	0x01	/* a record was refused unread */
#define SPFWIRE_RF_INCOMPLETE	0x02	/* stopped at a PENDING answer */

struct spfwire_result {
	uint8_t result;				/* enum spfwire_result_code */
	uint8_t flags;				/* SPFWIRE_RF_* */
	char reason[SPFWIRE_REASON_MAX];	/* for the log, printable */
};

struct spfwire_worker {
	uint32_t slot;				/* worker index */
	int32_t pid;
	int32_t status;				/* wait status (DOWN) */
};

/* One decoded message; which member holds data depends on type. */
struct spfwire_msg {
	uint8_t type;				/* enum spfwire_type */
	uint32_t id;				/* request id (0 for workers) */
	union {
		struct spfwire_check check;
		struct spfwire_dnsq dnsq;
		struct spfwire_dnsa dnsa;
		struct spfwire_result result;
		struct spfwire_worker worker;
	} u;
};

/*
 * Encode m into buf (len bytes, at least SPFWIRE_MSG_MAX is always
 * enough).  Returns the datagram's length, or 0 when a field is out of its
 * bounds (a string too long or holding a NUL, an unknown type or code).
 */
size_t spfwire_encode(const struct spfwire_msg *m, uint8_t *buf, size_t len);
/*
 * Decode one datagram.  0, or -1 with *why naming the fault ("short
 * message", "bad version", "unknown type", "string too long", "NUL in
 * string", "bad code", "trailing bytes", ...).  A DNSA's answer points into
 * buf.
 */
int spfwire_decode(const uint8_t *buf, size_t len, struct spfwire_msg *m,
    const char **why);

/* "pass", "fail", ... "permerror"; "?" for anything else. */
const char *spfwire_result_name(uint8_t r);

#endif
