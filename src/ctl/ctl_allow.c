/*
 * ctl_allow.c - smtpgatectl allow add|del|list|import|apply.
 *
 * Exports ctl_allow_main (ctl.h).  A change runs in this order, all of it
 * under the allow file's writers' lock so that two smtpgatectl at once
 * neither lose an entry nor leave the kernel with the older list:
 *   validate the arguments -> lock -> remove the temporaries a crashed
 *   save left (every save runs under the lock) -> read the file (a faulty file stops
 *   here: nothing changes) -> change -> write atomically -> have the
 *   kernel's allow4/allow6 replaced by one writer: smtpgated when it runs
 *   (allow-reload: it re-reads the file, so its expiry timer knows), this
 *   command only when it does not -> unlock.
 * The file is the truth: when the kernel cannot be reached the file is
 * still changed, the exit code says so (2, or 4 when smtpgated answered
 * with an error), and the daemon applies the file at its next start or
 * reload.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "allowshare.h"
#include "atomicfile.h"
#include "control.h"
#include "ctl.h"
#include "log.h"

#define CTL_ALLOW_LOCK_MS	10000
/* After ctl_allow_commit: was the file changed (whatever the kernel)? */
#define CTL_ALLOW_CHANGED(rc) \
	((rc) == CTL_OK || (rc) == CTL_UNREACHABLE || (rc) == CTL_REFUSED)

static void
ctl_allow_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl allow add CIDR [--comment TEXT] "
	    "[--expires DURATION]\n"
	    "       smtpgatectl allow del CIDR\n"
	    "       smtpgatectl allow list [--json]\n"
	    "       smtpgatectl allow import FILE|-\n"
	    "       smtpgatectl allow apply\n"
	    "  DURATION: 90s, 30m, 12h, 7d, 2w\n");
}

/* A prefix argument, or a clear refusal on stderr. */
static int
ctl_allow_prefix(const char *cmd, const char *s, struct prefix *p)
{
	const char *why = NULL;

	if (prefix_parse(s, p, &why) == 0) {
		if (p->len == 0) {
			fprintf(stderr, "smtpgatectl: allow %s: \"%s\": a /0 "
			    "prefix would allow everyone\n", cmd, s);
			return -1;
		}
		return 0;
	}
	fprintf(stderr, "smtpgatectl: allow %s: \"%.64s\": %s", cmd, s, why);
	if (strcmp(why, "host bits set") == 0) {
		/* Say which network was probably meant. */
		char abuf[ADDR_STRLEN + 8], a[ADDR_STRLEN];
		const char *slash = strchr(s, '/');
		struct prefix q;

		snprintf(abuf, sizeof(abuf), "%.*s", (int)(slash - s), s);
		if (prefix_parse(abuf, &q, NULL) == 0) {
			unsigned len = (unsigned)atoi(slash + 1);
			size_t bytes = q.a.family == AF_INET ? 4 : 16;

			for (size_t i = 0; i < bytes; i++) {
				unsigned keep = len > i * 8 ? len - i * 8 : 0;
				if (keep < 8)
					q.a.b[i] &= (uint8_t)(0xff00u >> keep);
			}
			fprintf(stderr, " (the network is %s/%u)",
			    addr_ntop(&q.a, a), len);
		}
	} else if (strcmp(why, "prefix length") == 0) {
		fprintf(stderr, " (at most /32 for IPv4, /128 for IPv6)");
	}
	fputc('\n', stderr);
	return -1;
}

static const char *
ctl_allow_str(const struct prefix *p, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", addr_ntop(&p->a, a), p->len);
	return buf;
}

static const char *
ctl_allow_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		snprintf(buf, len, "never");
	else if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/*
 * The kernel's allow sets from l's file (under the caller's lock): one
 * writer at a time, with one view of trusted_networks.  When smtpgated
 * runs, it is the writer: asked to re-read the file, it applies it with
 * its own configuration and re-arms its expiry timer, and this command
 * writes nothing to the kernel.  Only when no daemon listens on the
 * socket (no socket file, or connection refused) does this command write
 * the sets itself, from its configuration, as the daemon would at start.
 * A daemon that is there but does not answer (a timeout, no permission)
 * is not written around.  CTL_OK, CTL_UNREACHABLE, CTL_REFUSED or
 * CTL_SYSERR, with the message printed.
 */
static int
ctl_allow_push(struct ctl *c, const struct allowlist *l)
{
	const char *sock = c->conf.gate.control_socket;
	const char *file = c->conf.nft.allow_file;
	struct prefix *want;
	struct allowshare sh;
	struct allowlist u;
	size_t cap = 2 + c->conf.gate.ntrusted + l->n;
	char err[PATH_MAX + 256], buf[1024], path[PATH_MAX];
	ssize_t n;
	int r, saved;

	/* The daemon answers once it applied the list: about 5 s for a
	 * million entries here, so 1 s more per 100,000 than for others. */
	r = control_request(sock, "allow-reload", buf, sizeof(buf),
	    c->timeout_ms + (int)(l->n / 100));
	if (r == 0)
		return CTL_OK;
	if (r == 1) {
		fprintf(stderr, "smtpgatectl: smtpgated: allow-reload: %s\n"
		    "smtpgatectl: %s is changed; the kernel's allow sets are "
		    "not (see smtpgated's log)\n", buf, file);
		return CTL_REFUSED;
	}
	saved = errno;
	if (saved != ENOENT && saved != ECONNREFUSED) {
		fprintf(stderr, "smtpgatectl: smtpgated: allow-reload on %s: "
		    "%s\nsmtpgatectl: %s is changed; the kernel's allow sets "
		    "may not be (smtpgated applies the file when it starts or "
		    "reloads)\n", sock, strerror(saved), file);
		return CTL_UNREACHABLE;
	}
	/* No daemon: this command is the only writer, with the daemon's
	 * view of the sets (share_allow: the shared list it saved too). */
	allowshare_init(&sh);
	allowlist_init(&u);
	if (c->conf.cluster.share_allow && (allowshare_path(&c->conf, path,
	    sizeof(path)) == -1 || allowshare_load(path, &sh, err,
	    sizeof(err)) == -1)) {
		fprintf(stderr, "smtpgatectl: note: %s (the sets get the allow "
		    "file alone)\n", err);
		allowshare_free(&sh);
	}
	cap += sh.n;
	if (allowshare_union(l, sh.e, sh.n, &u) == -1 ||
	    (want = calloc(cap, sizeof(*want))) == NULL) {
		fprintf(stderr, "smtpgatectl: allow: calloc %zu prefixes: %s\n",
		    cap, strerror(errno));
		allowlist_free(&u);
		allowshare_free(&sh);
		return CTL_SYSERR;
	}
	n = allowlist_wanted(&u, &c->conf.gate, c->now, want, cap, NULL);
	allowlist_free(&u);
	allowshare_free(&sh);
	if (n < 0)	/* cap counts every prefix allowlist_wanted adds */
		log_panic("allowlist_wanted: no room in %zu prefixes", cap);
	if (allowlist_apply(c->conf.nft.table, want, (size_t)n, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "smtpgatectl: %s\nsmtpgatectl: %s is "
		    "changed; the kernel's allow sets are not (smtpgated "
		    "applies the file when it starts or reloads)\n", err, file);
		free(want);
		return CTL_UNREACHABLE;
	}
	free(want);
	printf("note: smtpgated is not running (%s: %s): the kernel's allow "
	    "sets were written directly\n", sock, strerror(saved));
	return CTL_OK;
}

/*
 * [cluster] share_allow = yes: the site's shared list as smtpgated holds
 * it (verb allow-shared), into s, and this gateway's node name.  false
 * when the daemon does not answer or does not share the allow list.
 */
static bool
ctl_allow_shared(struct ctl *c, struct allowshare *s, char *node,
    size_t nodelen)
{
	size_t cap = (size_t)ALLOWLIST_MAX * 128 + 4096;
	char *buf = malloc(cap), *line, *save = NULL;
	struct ctl_record r;
	const char *why, *v, *pn;
	struct prefix p;
	bool first = true, ok = false;

	ctl_record_init(&r);
	if (buf == NULL || control_request(c->conf.gate.control_socket,
	    "allow-shared", buf, cap, c->timeout_ms) != 0)
		goto out;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (ctl_record_parse(line, &r, &why) == -1)
			goto bad;
		if (first) {
			first = false;
			if ((v = ctl_record_get(&r, "share_allow")) == NULL ||
			    strcmp(v, "yes") != 0)
				goto out;	/* not shared: no node field */
			if ((v = ctl_record_get(&r, "node")) == NULL)
				goto bad;
			snprintf(node, nodelen, "%s", v);
			continue;
		}
		why = "want prefix= and node=";
		if ((v = ctl_record_get(&r, "prefix")) == NULL ||
		    (pn = ctl_record_get(&r, "node")) == NULL ||
		    prefix_parse(v, &p, &why) == -1 ||
		    allowshare_set(s, &p, pn) == -1)
			goto bad;
	}
	ok = !first;
	goto out;
bad:
	fprintf(stderr, "smtpgatectl: smtpgated: allow-shared: \"%.80s\": "
	    "%s\n", line, why);
	allowshare_free(s);
out:
	ctl_record_free(&r);
	free(buf);
	return ok;
}

/*
 * allow del of a prefix not in this gateway's file: when it is a
 * sibling's shared entry, smtpgated removes it from the shared list
 * everywhere (allow-unshare).  CTL_OK, CTL_REFUSED, or CTL_NOTFOUND when
 * it is not shared either.
 */
static int
ctl_allow_unshare(struct ctl *c, const struct prefix *p)
{
	struct allowshare s;
	char node[CLUSTER_NODE_MAX] = "", a[64], req[96], buf[512];
	ssize_t k;
	int rc = CTL_NOTFOUND;

	allowshare_init(&s);
	if (!ctl_allow_shared(c, &s, node, sizeof(node)) ||
	    (k = allowshare_find(&s, p)) < 0)
		goto out;
	ctl_allow_str(p, a, sizeof(a));
	printf("note: %s is a shared entry of node %s, not in %s\n", a,
	    s.e[k].node, c->conf.nft.allow_file);
	snprintf(req, sizeof(req), "allow-unshare %s", a);
	if (control_request(c->conf.gate.control_socket, req, buf,
	    sizeof(buf), c->timeout_ms) != 0) {
		fprintf(stderr, "smtpgatectl: smtpgated: allow-unshare %s: "
		    "%s\n", a, buf);
		rc = CTL_REFUSED;
		goto out;
	}
	printf("unshared %s: removed from the shared list of every gateway"
	    "%s%s%s\n", a, strcmp(s.e[k].node, node) != 0 ? "; if node " :
	    "", strcmp(s.e[k].node, node) != 0 ? s.e[k].node : "",
	    strcmp(s.e[k].node, node) != 0 ? "'s allow file lists it, it "
	    "stays allowed there: delete it on that gateway too" : "");
	rc = CTL_OK;
out:
	allowshare_free(&s);
	return rc;
}

/* Lock and read the file.  Returns the lock fd, or -1 with *rc set. */
static int
ctl_allow_open(struct ctl *c, struct allowlist *l, bool *missing, int *rc)
{
	char err[1024];
	size_t n;
	int fd;

	fd = allowlist_lock(c->conf.nft.allow_file, CTL_ALLOW_LOCK_MS, err,
	    sizeof(err));
	if (fd == -1) {
		fprintf(stderr, "smtpgatectl: %s\n", err);
		*rc = CTL_SYSERR;
		return -1;
	}
	/* Every save runs under this lock, so a temporary beside the file
	 * now is one a crashed save left. */
	if ((n = atomicfile_clean_tmp(c->conf.nft.allow_file, ".tmp.")) > 0)
		printf("note: removed %zu temporary file%s left beside %s by a "
		    "save that did not finish\n", n, n == 1 ? "" : "s",
		    c->conf.nft.allow_file);
	if (allowlist_load(c->conf.nft.allow_file, true, missing, l, err,
	    sizeof(err)) == -1) {
		/* errno before printing: stdio may change it. */
		*rc = errno == EINVAL ? CTL_BADINPUT : CTL_SYSERR;
		fprintf(stderr, "smtpgatectl: %s\nsmtpgatectl: nothing "
		    "changed; fix the file (or move it away) and retry\n",
		    err);
		close(fd);
		return -1;
	}
	return fd;
}

/* Prune, save, push.  The caller closes the lock afterwards. */
static int
ctl_allow_commit(struct ctl *c, struct allowlist *l)
{
	char err[1024];
	size_t gone = allowlist_prune(l, c->now);

	if (gone > 0)
		printf("removed %zu expired entr%s\n", gone,
		    gone == 1 ? "y" : "ies");
	if (allowlist_save(c->conf.nft.allow_file, l, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "smtpgatectl: %s\nsmtpgatectl: nothing "
		    "changed\n", err);
		return CTL_SYSERR;
	}
	return ctl_allow_push(c, l);
}

/* Notes for an admin: already covered by an entry or a trusted network. */
static void
ctl_allow_notes(struct ctl *c, const struct allowlist *l,
    const struct prefix *p)
{
	char a[64], b[64];
	ssize_t i = allowlist_covering(l, p);

	if (i >= 0)
		printf("note: %s lies inside the listed %s\n",
		    ctl_allow_str(p, a, sizeof(a)),
		    ctl_allow_str(&l->e[i].p, b, sizeof(b)));
	for (size_t k = 0; k < c->conf.gate.ntrusted; k++) {
		const struct prefix *t = &c->conf.gate.trusted[k];

		if (t->a.family == p->a.family && t->len <= p->len &&
		    prefix_contains(t, &p->a))
			printf("note: %s lies inside trusted_networks %s\n",
			    ctl_allow_str(p, a, sizeof(a)),
			    ctl_allow_str(t, b, sizeof(b)));
	}
	for (size_t k = 0; k < l->n; k++)
		if (l->e[k].p.a.family == p->a.family &&
		    l->e[k].p.len > p->len && prefix_contains(p,
		    &l->e[k].p.a))
			printf("note: the listed %s lies inside %s\n",
			    ctl_allow_str(&l->e[k].p, a, sizeof(a)),
			    ctl_allow_str(p, b, sizeof(b)));
}

static int
ctl_allow_add(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "comment", required_argument, NULL, 'm' },
		{ "expires", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct allow_entry e;
	struct allowlist l;
	const char *comment = "", *why;
	long long dur = 0;
	bool replaced, missing;
	char a[64], dwhy[256];
	int ch, fd, rc;

	memset(&e, 0, sizeof(e));
	optind = 0;	/* glibc: 0 re-initialises (main used "+" ordering) */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			comment = optarg;
			break;
		case 'e':
			/* The file's duration syntax, the list's bounds. */
			if (conf_parse_duration(optarg, 1,
			    ALLOWLIST_EXPIRES_MAX, &dur, dwhy,
			    sizeof(dwhy)) == -1) {
				fprintf(stderr, "smtpgatectl: allow add: "
				    "--expires: %s\n", dwhy);
				return CTL_BADINPUT;
			}
			break;
		default:
			ctl_allow_usage(stderr);
			return CTL_BADINPUT;
		}
	}
	if (argc - optind != 1) {
		ctl_allow_usage(stderr);
		return CTL_BADINPUT;
	}
	if (ctl_allow_prefix("add", argv[optind], &e.p) == -1)
		return CTL_BADINPUT;
	/* Surrounding blanks would not survive the file's round trip. */
	while (*comment == ' ')
		comment++;
	if ((why = allowlist_comment_check(comment)) != NULL) {
		fprintf(stderr, "smtpgatectl: allow add: --comment: %s\n",
		    why);
		return CTL_BADINPUT;
	}
	snprintf(e.comment, sizeof(e.comment), "%s", comment);
	for (size_t n = strlen(e.comment); n > 0 && e.comment[n - 1] == ' ';)
		e.comment[--n] = '\0';
	e.added = c->now;
	e.expires = dur ? c->now + (int64_t)dur : 0;
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;

	allowlist_init(&l);
	if ((fd = ctl_allow_open(c, &l, &missing, &rc)) == -1)
		return rc;
	ctl_allow_notes(c, &l, &e.p);
	if (allowlist_add(&l, &e, &replaced) == -1) {
		if (errno == E2BIG) {
			fprintf(stderr, "smtpgatectl: allow add: %s: the list "
			    "is full (%d entries); nothing changed\n",
			    c->conf.nft.allow_file, ALLOWLIST_MAX);
			rc = CTL_BADINPUT;
		} else {
			fprintf(stderr, "smtpgatectl: allow add: %s: %s; "
			    "nothing changed\n", c->conf.nft.allow_file,
			    strerror(errno));
			rc = CTL_SYSERR;
		}
	} else {
		rc = ctl_allow_commit(c, &l);
		if (CTL_ALLOW_CHANGED(rc))
			printf("%s %s%s\n", replaced ? "updated" : "added",
			    ctl_allow_str(&e.p, a, sizeof(a)),
			    missing ? " (new file)" : "");
	}
	close(fd);
	allowlist_free(&l);
	return rc;
}

static int
ctl_allow_del(struct ctl *c, int argc, char **argv)
{
	struct allowlist l;
	struct prefix p;
	bool missing;
	char a[64], b[64];
	int fd, rc;
	ssize_t cov;

	if (argc != 2) {
		ctl_allow_usage(stderr);
		return CTL_BADINPUT;
	}
	if (ctl_allow_prefix("del", argv[1], &p) == -1)
		return CTL_BADINPUT;
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	allowlist_init(&l);
	if ((fd = ctl_allow_open(c, &l, &missing, &rc)) == -1)
		return rc;
	if (allowlist_del(&l, &p) == 0) {
		rc = ctl_allow_commit(c, &l);
		if (CTL_ALLOW_CHANGED(rc))
			printf("deleted %s\n", ctl_allow_str(&p, a, sizeof(a)));
	} else if ((rc = ctl_allow_unshare(c, &p)) == CTL_NOTFOUND) {
		fprintf(stderr, "smtpgatectl: allow del: %s is not listed in "
		    "%s%s", ctl_allow_str(&p, a, sizeof(a)),
		    c->conf.nft.allow_file, missing ? " (no such file)" : "");
		if ((cov = allowlist_covering(&l, &p)) >= 0)
			fprintf(stderr, "; it lies inside the listed %s: "
			    "delete that entry",
			    ctl_allow_str(&l.e[cov].p, b, sizeof(b)));
		fputc('\n', stderr);
	}	/* else a sibling's shared entry, unshared (or refused) */
	close(fd);
	allowlist_free(&l);
	return rc;
}

static int
ctl_allow_list(struct ctl *c, int argc, char **argv)
{
	struct allowlist l;
	struct allowshare s;
	struct ctl_table t = { 0 };
	char err[1024], a[64], tb[32], node[CLUSTER_NODE_MAX];
	bool missing, shared;
	int rc;

	(void)argv;
	if (argc != 1) {
		ctl_allow_usage(stderr);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	allowlist_init(&l);
	if (allowlist_load(c->conf.nft.allow_file, true, &missing, &l, err,
	    sizeof(err)) == -1) {
		rc = errno == EINVAL ? CTL_BADINPUT : CTL_SYSERR;
		fprintf(stderr, "smtpgatectl: %s\n", err);
		return rc;
	}
	/* With share_allow = yes, the node of each entry too. */
	allowshare_init(&s);
	shared = ctl_allow_shared(c, &s, node, sizeof(node));
	for (size_t i = 0; i < l.n; i++) {
		const struct allow_entry *e = &l.e[i];
		struct ctl_record *r = ctl_table_add(&t);
		bool expired = e->expires != 0 && e->expires <= c->now;

		if (r == NULL) {
			fprintf(stderr, "smtpgatectl: allow list: a record "
			    "for each entry: out of memory\n");
			rc = CTL_SYSERR;
			break;
		}
		ctl_record_add(r, "prefix", "%s",
		    ctl_allow_str(&e->p, a, sizeof(a)));
		ctl_record_add(r, "status", "%s", expired ? "expired" :
		    "active");
		if (c->fmt == CTL_FMT_JSON) {
			ctl_record_add(r, "expires", "%lld",
			    (long long)e->expires);
			ctl_record_add(r, "added", "%lld",
			    (long long)e->added);
		} else {
			ctl_record_add(r, "expires", "%s",
			    ctl_allow_time(e->expires, tb, sizeof(tb)));
			ctl_record_add(r, "added", "%s", e->added ?
			    ctl_allow_time(e->added, tb, sizeof(tb)) : "-");
		}
		ctl_record_add(r, "comment", "%s", e->comment);
		if (shared)
			ctl_record_add(r, "node", "%s", node);
	}
	/* The siblings' shared entries this file does not list. */
	for (size_t i = 0; rc == CTL_OK && shared && i < s.n; i++) {
		struct ctl_record *r;

		if (allowlist_find(&l, &s.e[i].p) >= 0)
			continue;
		if ((r = ctl_table_add(&t)) == NULL) {
			fprintf(stderr, "smtpgatectl: allow list: a record "
			    "for each entry: out of memory\n");
			rc = CTL_SYSERR;
			break;
		}
		ctl_record_add(r, "prefix", "%s",
		    ctl_allow_str(&s.e[i].p, a, sizeof(a)));
		ctl_record_add(r, "status", "shared");
		if (c->fmt == CTL_FMT_JSON) {
			ctl_record_add(r, "expires", "0");
			ctl_record_add(r, "added", "0");
		} else {
			ctl_record_add(r, "expires", "never");
			ctl_record_add(r, "added", "-");
		}
		ctl_record_add(r, "comment", "%s", "");
		ctl_record_add(r, "node", "%s", s.e[i].node);
	}
	allowshare_free(&s);
	if (rc == CTL_OK)
		ctl_out_table(stdout, c->fmt, &t);
	ctl_table_free(&t);
	allowlist_free(&l);
	return rc;
}

static int
ctl_allow_import(struct ctl *c, int argc, char **argv)
{
	struct allowlist in, l;
	char err[1024];
	size_t added = 0, updated = 0;
	bool missing;
	int fd, rc;

	if (argc != 2) {
		ctl_allow_usage(stderr);
		return CTL_BADINPUT;
	}
	allowlist_init(&in);
	if (strcmp(argv[1], "-") == 0) {
		char *text = malloc(ALLOWLIST_FILE_MAX + 1);
		size_t got = text ? fread(text, 1, ALLOWLIST_FILE_MAX + 1,
		    stdin) : 0;

		if (text == NULL || ferror(stdin) ||
		    got > ALLOWLIST_FILE_MAX) {
			fprintf(stderr, "smtpgatectl: allow import: stdin: %s\n",
			    text == NULL ? "out of memory" : ferror(stdin) ?
			    strerror(errno) : "more than 64 MiB");
			free(text);
			return CTL_BADINPUT;
		}
		rc = allowlist_parse("stdin", text, got, &in, err, sizeof(err));
		free(text);
	} else {
		rc = allowlist_import_file(argv[1], &in, err, sizeof(err));
	}
	if (rc == -1) {
		fprintf(stderr, "smtpgatectl: allow import: %s\nsmtpgatectl: "
		    "nothing imported\n", err);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK) {
		allowlist_free(&in);
		return rc;
	}
	allowlist_init(&l);
	if ((fd = ctl_allow_open(c, &l, &missing, &rc)) == -1) {
		allowlist_free(&in);
		return rc;
	}
	for (size_t i = 0; i < in.n; i++)
		if (in.e[i].added == 0)
			in.e[i].added = c->now;
	if (allowlist_merge(&l, &in, &added, &updated) == -1) {
		int full = errno == E2BIG;

		if (full)
			fprintf(stderr, "smtpgatectl: allow import: the list "
			    "would pass %d entries; nothing imported\n",
			    ALLOWLIST_MAX);
		else
			fprintf(stderr, "smtpgatectl: allow import: %s: %s; "
			    "nothing imported\n", c->conf.nft.allow_file,
			    strerror(errno));
		rc = full ? CTL_BADINPUT : CTL_SYSERR;
		goto out;
	}
	rc = ctl_allow_commit(c, &l);
	if (CTL_ALLOW_CHANGED(rc))
		printf("imported %zu entr%s: %zu new, %zu updated\n", in.n,
		    in.n == 1 ? "y" : "ies", added, updated);
out:
	close(fd);
	allowlist_free(&l);
	allowlist_free(&in);
	return rc;
}

static int
ctl_allow_apply(struct ctl *c, int argc, char **argv)
{
	struct allowlist l;
	bool missing;
	int fd, rc;

	(void)argv;
	if (argc != 1) {
		ctl_allow_usage(stderr);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	allowlist_init(&l);
	if ((fd = ctl_allow_open(c, &l, &missing, &rc)) == -1)
		return rc;
	rc = ctl_allow_push(c, &l);
	if (rc == CTL_OK)
		printf("applied %zu entr%s\n", l.n, l.n == 1 ? "y" : "ies");
	close(fd);
	allowlist_free(&l);
	return rc;
}

int
ctl_allow_main(struct ctl *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct ctl *, int, char **);
	} sub[] = {
		{ "add", ctl_allow_add }, { "del", ctl_allow_del },
		{ "list", ctl_allow_list }, { "import", ctl_allow_import },
		{ "apply", ctl_allow_apply },
	};

	if (argc < 2) {
		ctl_allow_usage(stderr);
		return CTL_BADINPUT;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (strcmp(argv[1], sub[i].name) == 0)
			return sub[i].run(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_allow_usage(stdout);
		return CTL_OK;
	}
	fprintf(stderr, "smtpgatectl: allow: unknown command \"%.32s\"\n",
	    argv[1]);
	ctl_allow_usage(stderr);
	return CTL_BADINPUT;
}
