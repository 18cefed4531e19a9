/*
 * ctl_identity.h - smtpgatectl identity's two halves: ctl_identity.c asks
 * (DNS, SPF, port 25, postconf) and fills a struct ctl_identity;
 * ctl_identity_steps.c judges what came into PASS/WARN/FAIL steps and
 * prints them.  Private to these two files.
 */
#ifndef SMTPGATE_CTL_IDENTITY_H
#define SMTPGATE_CTL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "dns.h"
#include "dnsbl.h"
#include "evloop.h"
#include "findings.h"
#include "helo.h"
#include "identity.h"
#include "ptrclass.h"
#include "spfcheck.h"

#define CTL_ID_ADDRS		8	/* addresses of HOST checked */
#define CTL_ID_STEPS		512
#define CTL_ID_TEXT		1024	/* bytes of one step's explanation */
#define CTL_ID_POSTCONF_MS	3000	/* postconf -h myhostname at most */
#define CTL_ID_SMTP_PORT	25

enum ctl_id_result { ID_PASS, ID_WARN, ID_FAIL };

struct ctl_id_step {
	enum ctl_id_result res;
	const char *check;		/* "ptr", "fqdn", ... (static) */
	char addr[ADDR_STRLEN];		/* "" for HOST's own steps */
	char text[CTL_ID_TEXT];		/* escaped already */
};

struct ctl_id_answer {
	bool done;			/* answered before the deadline */
	struct dns_result r;
};

enum ctl_id_q_kind { QI_HOST4, QI_HOST6, QI_HELO4, QI_HELO6, QI_PTR,
	QI_FWD, QI_BL, QI_PROBE2, QI_PROBE1 };

struct ctl_identity;

struct ctl_id_q {
	struct ctl_identity *k;
	enum ctl_id_q_kind kind;
	unsigned ai;			/* address index */
	unsigned idx;			/* name or zone index */
};

enum ctl_id_conn { CONN_NONE, CONN_CONNECTING, CONN_READING, CONN_DONE };

/* One address of HOST and what was learned about it. */
struct ctl_id_addr {
	struct ctl_identity *k;
	struct addr a;
	struct findings f;		/* the gate's view from the answers */
	struct ctl_id_answer ptr;
	struct ctl_id_answer fwd[DNS_MAX_NAMES];
	struct ctl_id_answer bl[DNSBL_MAX_SITES];
	int spf;			/* spfcheck_result or HELO_PENDING */
	bool spf_asked;
	/* --connect */
	enum ctl_id_conn conn;
	int fd;
	struct ev_timer *timer;
	int64_t t0_ms;
	int64_t ms;			/* to the end of the greeting */
	const char *conn_err;		/* static, or in conn_errbuf */
	char conn_errbuf[128];
	unsigned char banner[IDENTITY_BANNER_MAX];
	size_t blen;
};

struct ctl_identity {
	struct ctl *c;
	struct evloop *ev;
	struct dns *dns;
	struct spfcheck *spfc;
	const char *target;		/* HOST or IP as given */
	bool target_is_ip;
	bool connect;
	unsigned due;			/* DNS queries outstanding */
	unsigned spf_due;		/* SPF checks outstanding */
	unsigned conn_due;		/* connections outstanding */
	bool over;			/* deadline passed: ignore answers */
	struct ctl_id_answer host[2];	/* A, AAAA of HOST */
	struct ctl_id_addr addr[CTL_ID_ADDRS];
	size_t naddrs;
	size_t nmore;			/* addresses of HOST left out */
	/* the HELO name */
	char helo[HELO_NAME_MAX];	/* canonical, "" none or no host name */
	char helo_raw[HELO_NAME_MAX];	/* as given, "" none */
	char helo_shown[4 * HELO_NAME_MAX];	/* as given, escaped */
	const char *helo_src;		/* "--helo", "postconf myhostname" */
	char helo_why[160];		/* why there is none */
	uint32_t helo_mask;		/* sniffer rules broken without DNS */
	struct ctl_id_answer helo_a[2];	/* A, AAAA */
	bool txt_done;
	enum dns_status txt_status;
	struct dns_txt txt;
	/* DNSBL health probes, per zone */
	struct ctl_id_answer probe2[DNSBL_MAX_SITES], probe1[DNSBL_MAX_SITES];
	struct ctl_id_q q[4 + 2 * DNSBL_MAX_SITES + CTL_ID_ADDRS *
	    (1 + DNS_MAX_NAMES + DNSBL_MAX_SITES)];
	size_t nq;
	struct ctl_id_step step[CTL_ID_STEPS];
	size_t nsteps;
	bool failed;
};

/* Judge what k holds into its steps (k->failed: one failed). */
void ctl_id_steps(struct ctl_identity *k, const struct ptrclass *pc);
/* The steps on stdout, as text or JSON (k->c->fmt). */
void ctl_id_print(const struct ctl_identity *k);

#endif
