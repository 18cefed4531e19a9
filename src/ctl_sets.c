/*
 * ctl_sets.c - smtpgatectl cache list|del|flush: the verdicts smtpgated
 * cached in the kernel (sets pass, deny, drop; 4 and 6), read and changed
 * over netlink.
 *
 * Exports ctl_cache_main and ctl_sets_dump (ctl_sets.h).  Reading is a
 * GETSETELEM dump parsed by libnftnl; deleting goes through nftset (one
 * batch, every message acked), flushing through nftset_replace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "ctl.h"
#include "ctl_sets.h"
#include "nftset.h"

static const char *const ctl_cache_bases[] = { "pass", "deny", "drop" };

struct ctl_dump {
	struct ctl_set_elem *e;
	size_t n, cap;
	bool oom;
};

static int
ctl_sets_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctl_dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (s == NULL) {
		d->oom = true;
		return MNL_CB_ERROR;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;	/* not a set element message */
	}
	if ((it = nftnl_set_elems_iter_create(s)) == NULL) {
		nftnl_set_free(s);
		d->oom = true;
		return MNL_CB_ERROR;
	}
	while ((el = nftnl_set_elems_iter_next(it)) != NULL) {
		uint32_t klen = 0;
		const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY,
		    &klen);
		struct ctl_set_elem *x;

		if (key == NULL || (klen != 4 && klen != 16))
			continue;	/* not an address: not ours */
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 64;
			struct ctl_set_elem *ne = realloc(d->e,
			    cap * sizeof(*ne));
			if (ne == NULL) {
				d->oom = true;
				break;
			}
			d->e = ne;
			d->cap = cap;
		}
		x = &d->e[d->n++];
		memset(x, 0, sizeof(*x));
		if (klen == 4)
			addr_from_v4(&x->a, key);
		else
			addr_from_v6(&x->a, key);
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS))
			x->interval_end = (nftnl_set_elem_get_u32(el,
			    NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END)
			    != 0;
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
			x->timeout_ms = nftnl_set_elem_get_u64(el,
			    NFTNL_SET_ELEM_TIMEOUT);
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION))
			x->expires_ms = nftnl_set_elem_get_u64(el,
			    NFTNL_SET_ELEM_EXPIRATION);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return d->oom ? MNL_CB_ERROR : MNL_CB_OK;
}

int
ctl_sets_dump(const char *table, const char *set, struct ctl_set_elem **out,
    size_t *n, char *err, size_t errlen)
{
	struct ctl_dump d = { 0 };
	struct mnl_socket *nl;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	char *buf;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t got;
	int rc = -1, saved = 0;

	*out = NULL;
	*n = 0;
	if ((buf = malloc(MNL_SOCKET_BUFFER_SIZE)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		saved = errno;
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if ((s = nftnl_set_alloc()) == NULL) {
		saved = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
	    NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		saved = errno;
		snprintf(err, errlen, "netlink send: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		got = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (got == -1) {
			saved = errno;
			snprintf(err, errlen, "netlink recv: %s",
			    strerror(errno));
			goto out;
		}
		int r = mnl_cb_run(buf, (size_t)got, seq, portid, ctl_sets_cb,
		    &d);
		if (r == -1) {
			saved = d.oom ? ENOMEM : errno;
			snprintf(err, errlen, "list set inet %s %s: %s", table,
			    set, strerror(saved));
			goto out;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	*out = d.e;
	*n = d.n;
	d.e = NULL;
	rc = 0;
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	free(d.e);
	free(buf);
	if (rc == -1)
		errno = saved;
	return rc;
}

/* Exit code for a failed dump, with the message printed. */
static int
ctl_sets_fail(const char *table, const char *err)
{
	fprintf(stderr, "smtpgatectl: kernel: %s%s\n", err, errno == ENOENT ?
	    " (no such table or set: has smtpgate-nft install run?)" :
	    errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
	(void)table;
	return errno == ENOMEM ? CTL_SYSERR : CTL_UNREACHABLE;
}

static void
ctl_cache_usage(FILE *f)
{
	fprintf(f, "usage: smtpgatectl cache list [--json]\n"
	    "       smtpgatectl cache del IP\n"
	    "       smtpgatectl cache flush [pass|deny|drop]\n");
}

static int
ctl_cache_list(struct ctl *c)
{
	struct ctl_table t = { 0 };
	char err[512], a[ADDR_STRLEN];
	int rc = CTL_OK;

	for (size_t b = 0; b < 3 && rc == CTL_OK; b++) {
		for (int fam = 4; fam <= 6 && rc == CTL_OK; fam += 2) {
			char set[16];
			struct ctl_set_elem *e;
			size_t n;

			snprintf(set, sizeof(set), "%s%d", ctl_cache_bases[b],
			    fam);
			if (ctl_sets_dump(c->conf.nft.table, set, &e, &n, err,
			    sizeof(err)) == -1) {
				rc = ctl_sets_fail(c->conf.nft.table, err);
				break;
			}
			for (size_t i = 0; i < n; i++) {
				struct ctl_record *r = ctl_table_add(&t);

				if (r == NULL) {
					rc = CTL_SYSERR;
					break;
				}
				ctl_record_add(r, "set", "%s", set);
				ctl_record_add(r, "verdict", "%s",
				    b == 0 ? "accept" : b == 1 ? "reject" :
				    "drop");
				ctl_record_add(r, "ip", "%s",
				    addr_ntop(&e[i].a, a));
				ctl_record_add(r, "expires_s", "%llu",
				    (unsigned long long)(e[i].expires_ms /
				    1000));
				ctl_record_add(r, "timeout_s", "%llu",
				    (unsigned long long)(e[i].timeout_ms /
				    1000));
			}
			free(e);
		}
	}
	if (rc == CTL_OK)
		ctl_out_table(stdout, c->fmt, &t);
	ctl_table_free(&t);
	return rc;
}

static int
ctl_cache_del(struct ctl *c, const char *ip)
{
	struct nftset *ns;
	struct addr a;
	char err[512], set[16], text[ADDR_STRLEN];
	int fam, found = 0;

	if (addr_parse(ip, &a) == -1) {
		fprintf(stderr, "smtpgatectl: cache del: \"%.64s\": not an "
		    "IPv4 or IPv6 address\n", ip);
		return CTL_BADINPUT;
	}
	fam = a.family == AF_INET ? 4 : 6;
	if ((ns = nftset_open(c->conf.nft.table, err, sizeof(err))) == NULL) {
		fprintf(stderr, "smtpgatectl: %s\n", err);
		return CTL_UNREACHABLE;
	}
	for (size_t b = 0; b < 3; b++) {
		struct ctl_set_elem *e;
		size_t n;

		snprintf(set, sizeof(set), "%s%d", ctl_cache_bases[b], fam);
		if (ctl_sets_dump(c->conf.nft.table, set, &e, &n, err,
		    sizeof(err)) == -1) {
			nftset_close(ns);
			return ctl_sets_fail(c->conf.nft.table, err);
		}
		for (size_t i = 0; i < n; i++) {
			if (!addr_eq(&e[i].a, &a))
				continue;
			(void)nftset_del(ns, ctl_cache_bases[b], &a);
			printf("deleted %s from %s\n", addr_ntop(&a, text),
			    set);
			found++;
		}
		free(e);
	}
	if (found > 0 && nftset_sync(ns) == -1) {
		fprintf(stderr, "smtpgatectl: cache del %s: the kernel "
		    "refused: %s\n", ip, strerror(errno));
		nftset_close(ns);
		return CTL_UNREACHABLE;
	}
	nftset_close(ns);
	if (found == 0) {
		fprintf(stderr, "smtpgatectl: cache del: %s is not cached\n",
		    addr_ntop(&a, text));
		return CTL_NOTFOUND;
	}
	return CTL_OK;
}

static int
ctl_cache_flush(struct ctl *c, const char *which)
{
	const char *sets[6];
	char names[6][16], err[512];
	size_t n = 0;

	for (size_t b = 0; b < 3; b++) {
		if (which != NULL && strcmp(which, ctl_cache_bases[b]) != 0)
			continue;
		for (int fam = 4; fam <= 6; fam += 2) {
			snprintf(names[n], sizeof(names[n]), "%s%d",
			    ctl_cache_bases[b], fam);
			sets[n] = names[n];
			n++;
		}
	}
	if (n == 0) {
		fprintf(stderr, "smtpgatectl: cache flush: \"%.32s\": want "
		    "pass, deny or drop\n", which);
		return CTL_BADINPUT;
	}
	if (nftset_replace(c->conf.nft.table, sets, n, NULL, 0, err,
	    sizeof(err)) == -1)
		return ctl_sets_fail(c->conf.nft.table, err);
	for (size_t i = 0; i < n; i++)
		printf("flushed %s\n", sets[i]);
	return CTL_OK;
}

int
ctl_cache_main(struct ctl *c, int argc, char **argv)
{
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		ctl_cache_usage(stdout);
		return CTL_OK;
	}
	if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 2) ||
	    (strcmp(argv[1], "del") == 0 && argc != 3) ||
	    (strcmp(argv[1], "flush") == 0 && argc > 3)) {
		ctl_cache_usage(stderr);
		return CTL_BADINPUT;
	}
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "del") != 0 &&
	    strcmp(argv[1], "flush") != 0) {
		fprintf(stderr, "smtpgatectl: cache: unknown command "
		    "\"%.32s\"\n", argv[1]);
		ctl_cache_usage(stderr);
		return CTL_BADINPUT;
	}
	if ((rc = ctl_conf(c)) != CTL_OK)
		return rc;
	if (strcmp(argv[1], "list") == 0)
		return ctl_cache_list(c);
	if (strcmp(argv[1], "del") == 0)
		return ctl_cache_del(c, argv[2]);
	return ctl_cache_flush(c, argc == 3 ? argv[2] : NULL);
}
