/*
 * ctl.h - smtpgatectl's modules: one file per group of commands, sharing
 * one context and one output layer.
 *
 *   src/smtpgatectl.c  main: global options, the command table, classify-ptr
 *   src/ctl_conf.c     the configuration, loaded once on first need
 *   src/ctl_out.c      records and their text, JSON and Prometheus forms
 *   src/ctl_allow.c    allow add|del|list|import|apply
 *   src/ctl_sets.c     cache list|del|flush (the kernel's verdict sets)
 *   src/ctl_offenders.c offenders list|del|flush (smtpgate-sniffd)
 *   src/ctl_stats.c    stats, reload (both daemons' control sockets)
 *   src/ctl_cluster.c  cluster status: [cluster] sharing, both daemons
 *   src/ctl_check.c    check IP: every check live, explained
 *   src/ctl_identity.c identity HOST|IP: your own server as receivers see it
 *                      (the judged steps in ctl_identity_steps.c)
 *   src/ctl_lookups.c  the resolver, SPF helpers, classifier and loop of
 *                      check and identity
 *   src/ctl_report.c   report: the verdict journal per rule
 *   src/ctl_suspects.c suspects: refused senders that look legitimate
 *   (ctl_journal.h: the journal read, the counting)
 *
 * Every command returns an exit code of enum ctl_exit and prints its
 * errors on stderr as "smtpgatectl: what: why".  Commands validate all of
 * their input before they change anything.
 */
#ifndef SMTPGATE_CTL_H
#define SMTPGATE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

/* Exit codes (documented in smtpgatectl(8)). */
enum ctl_exit {
	CTL_OK = 0,		/* done */
	CTL_BADINPUT = 1,	/* refused input: usage, address, file */
	CTL_UNREACHABLE = 2,	/* a daemon or the kernel cannot be reached */
	CTL_NOTFOUND = 3,	/* nothing to delete: no such entry */
	CTL_REFUSED = 4,	/* a daemon answered with an error */
	CTL_SYSERR = 5,		/* local system error: file, memory */
	CTL_CHECKFAIL = 6,	/* identity: a step failed */
};

enum ctl_format {
	CTL_FMT_TEXT,		/* aligned columns for people */
	CTL_FMT_JSON,		/* --json */
	CTL_FMT_PROM,		/* --prometheus (stats only) */
};

/* What every command gets. */
struct ctl {
	const char *conf_path;		/* -c, or the default */
	struct conf conf;		/* loaded by ctl_conf */
	bool conf_loaded;
	enum ctl_format fmt;
	int64_t now;			/* epoch seconds at start */
	int timeout_ms;			/* control socket answers */
};

/* Load the configuration once.  CTL_OK, or CTL_BADINPUT after printing
 * the fault. */
int ctl_conf(struct ctl *c);

/*
 * ctl_lookups.c: what check and identity run their lookups with (cmd
 * names the command in messages).  Each returns CTL_OK or prints the
 * fault and returns its exit code: the classifier and the loop
 * (CTL_BADINPUT for a bad provider table), the resolver
 * (CTL_UNREACHABLE), the SPF helpers (CTL_SYSERR).  close frees what is
 * not NULL, the resolver first.
 */
struct dns;
struct evloop;
struct ptrclass;
struct spfcheck;
int ctl_lookups_open(const struct ctl *c, const char *cmd,
    struct ptrclass **pc, struct evloop **ev);
int ctl_lookups_dns(const struct ctl *c, const char *cmd, struct evloop *ev,
    struct dns **out);
int ctl_lookups_spf(const struct ctl *c, const char *cmd, struct evloop *ev,
    unsigned max_per_client, struct spfcheck **out);
void ctl_lookups_close(struct dns *dns, struct spfcheck *spfc,
    struct evloop *ev, struct ptrclass *pc);

/* Commands: argv[0] is the command name. */
int ctl_allow_main(struct ctl *c, int argc, char **argv);
int ctl_cache_main(struct ctl *c, int argc, char **argv);
int ctl_offenders_main(struct ctl *c, int argc, char **argv);
int ctl_stats_main(struct ctl *c, int argc, char **argv);
int ctl_reload_main(struct ctl *c, int argc, char **argv);
int ctl_check_main(struct ctl *c, int argc, char **argv);
int ctl_identity_main(struct ctl *c, int argc, char **argv);
int ctl_report_main(struct ctl *c, int argc, char **argv);
int ctl_suspects_main(struct ctl *c, int argc, char **argv);
int ctl_cluster_main(struct ctl *c, int argc, char **argv);

/*
 * ctl_cluster.c: one daemon's answer to the verb "cluster" (rc: 0 its
 * data lines in text, 1 its error in text, -1 it did not answer), and
 * the rendering of n of them in fmt (text or JSON) into f; the exit code
 * (CTL_OK when one answered).  For cluster status and its unit test.
 */
struct ctl_cluster_answer {
	const char *key;		/* JSON: "gate", "sniffer" */
	const char *name;		/* text: "smtpgated" */
	int rc;
	const char *text;
};
int ctl_cluster_render(FILE *f, enum ctl_format fmt,
    const struct ctl_cluster_answer *a, size_t n);

/* --- ctl_out.c: records -------------------------------------------- */

#define CTL_REC_FIELDS	256	/* fields of one record at most */
#define CTL_REC_TEXT	16384	/* bytes of one record at most */

/*
 * One record: ordered key=value fields.  Keys are static strings or point
 * into the record's own text; values are the record's own.  A record holds
 * heap memory: start from ctl_record_init (or all zero), end with
 * ctl_record_free; ctl_record_parse reuses a record, dropping what it held.
 */
struct ctl_record {
	const char **key;
	const char **val;
	size_t n, cap;		/* fields, room */
	char **blk;		/* text blocks the record owns */
	size_t nblk, capblk;
	size_t used;		/* bytes of text, for CTL_REC_TEXT */
};

struct ctl_table {
	struct ctl_record *r;
	size_t n, cap;
};

void ctl_record_init(struct ctl_record *r);
void ctl_record_free(struct ctl_record *r);
/* Append key=value (printf); left out when the record is full (more than
 * CTL_REC_FIELDS fields or CTL_REC_TEXT bytes) or memory is short. */
void ctl_record_add(struct ctl_record *r, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *ctl_record_get(const struct ctl_record *r, const char *key);
/*
 * Parse one control-socket data line "k=v k=v" into r.  Keys must be
 * [a-z0-9_-]+, values non-empty printable without spaces or '='.  0, or -1
 * with *why.
 */
int ctl_record_parse(const char *line, struct ctl_record *r,
    const char **why);

/* A new empty record at the end of t (NULL: out of memory). */
struct ctl_record *ctl_table_add(struct ctl_table *t);
void ctl_table_free(struct ctl_table *t);

/*
 * Print t in fmt: text (a header of the keys of the first record, then
 * aligned rows; "(none)" when empty), or JSON (an array of objects;
 * values that are plain decimal integers become numbers).
 */
void ctl_out_table(FILE *f, enum ctl_format fmt, const struct ctl_table *t);
/*
 * A JSON document written as it goes (every command's JSON comes through
 * here): objects and arrays nest up to CTL_JSON_DEPTH, members are
 * separated and keys quoted by the writer.  The members of the outermost
 * container stand one a line, deeper ones on their parent's line.  key is
 * NULL for array elements and the outermost container; a NULL string is
 * null.  Closing the outermost container ends the line.
 */
#define CTL_JSON_DEPTH	8

struct ctl_json {
	FILE *f;
	unsigned depth;			/* containers open */
	char close[CTL_JSON_DEPTH];	/* '}' or ']' of each */
	bool any[CTL_JSON_DEPTH];	/* it holds a member already */
};

void ctl_json_init(struct ctl_json *j, FILE *f);
void ctl_json_obj(struct ctl_json *j, const char *key);
void ctl_json_arr(struct ctl_json *j, const char *key);
void ctl_json_end(struct ctl_json *j);
void ctl_json_str(struct ctl_json *j, const char *key, const char *v);
void ctl_json_int(struct ctl_json *j, const char *key, long long v);
void ctl_json_bool(struct ctl_json *j, const char *key, bool v);
/* v as a number when it is a plain decimal, else as a string. */
void ctl_json_val(struct ctl_json *j, const char *key, const char *v);

/* v with that many decimals ("12.5"); null when not finite. */
void ctl_json_double(struct ctl_json *j, const char *key, double v,
    int decimals);

/*
 * CSV (RFC 4180): a header of the first record's keys, then one line per
 * record; nothing for an empty table.  A field with a comma, a quote, a
 * space or a byte outside printable ASCII is quoted (quotes doubled);
 * control characters and bytes that are not UTF-8 become \xNN, so a
 * record is always one line.
 */
void ctl_out_csv(FILE *f, const struct ctl_table *t);
void ctl_out_csv_str(FILE *f, const char *s);

/* One JSON string, quoted and escaped (RFC 8259; bytes >= 0x80 as-is
 * when they form UTF-8, else \u00XX). */
void ctl_out_json_str(FILE *f, const char *s);
/* A value as JSON: a number when plain decimal, else a string. */
void ctl_out_json_val(FILE *f, const char *s);
/* Is s a plain unsigned decimal integer ("0", "17"; no sign, no leading
 * zero, at most 19 digits)? */
bool ctl_out_is_uint(const char *s);

/*
 * Prometheus text exposition of one daemon's counters: for every numeric
 * field, "# HELP", "# TYPE" and "smtpgate_<daemon>_<key>[_total] VALUE".
 * Gauges (pending, inflight and other keys named in ctl_out.c) keep the
 * bare name; a key ending in _us, _ms or _s is a gauge in seconds
 * ("verdict_p99_us=1500" -> "smtpgate_sniffd_verdict_p99_seconds
 * 0.001500"); every other field is a counter with "_total".
 */
void ctl_out_prom(FILE *f, const char *daemon, const struct ctl_record *r);

#endif
