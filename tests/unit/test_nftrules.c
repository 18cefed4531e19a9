/*
 * test_nftrules.c - golden test of the ruleset smtpgate-nft builds, without
 * a kernel or a socket: for each tests/golden/ruleset-NAME.conf, the
 * batch `smtpgate-nft -c NAME.conf install` would send (nftrules_build,
 * from the same configuration mapping the tool uses), parsed back with
 * libnftnl and rendered as text, is compared with
 * tests/golden/ruleset-NAME.txt; so are the batches of remove and probe.
 * A difference fails with a diff (got against want) and the line it
 * starts at.
 *
 * When the ruleset changes on purpose, regenerate the files and read the
 * diff before committing them:
 *
 *     SMTPGATE_GOLDEN_UPDATE=1 make unit
 *     git diff tests/golden/
 *
 * The rendering: one block per message, in batch order - its index, the
 * nf_tables message type, family, its netlink flags and its label; then the
 * object: tables and chains as libnftnl prints them, sets with every
 * attribute we set, elements with keys as addresses (or ports) and their
 * flags, rules as libnftnl prints their expressions (the format of
 * libnftnl's own tests), plus the xtables target's info, which libnftnl
 * does not print (the queue number lives there).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "cases.h"
#include "conf.h"
#include "netlink.h"
#include "nftrules.h"

#define GOLDEN_DIR	"tests/golden/"
#define OUT_MAX		(512 * 1024)

/* --- rendering ------------------------------------------------------- */

struct out {
	char *buf;
	size_t len;
};

static void
out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, OUT_MAX - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= OUT_MAX - o->len)
		fail_msg("rendering: more than %d bytes", OUT_MAX);
	o->len += (size_t)n;
}

static const char *
msg_type_name(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
		return "newtable";
	case NFT_MSG_DELTABLE:
		return "deltable";
	case NFT_MSG_NEWSET:
		return "newset";
	case NFT_MSG_NEWSETELEM:
		return "newsetelem";
	case NFT_MSG_DELSETELEM:
		return "delsetelem";
	case NFT_MSG_NEWCHAIN:
		return "newchain";
	case NFT_MSG_NEWRULE:
		return "newrule";
	}
	return "other";
}

static void
render_flags(struct out *o, uint16_t f)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {
		{ NLM_F_REQUEST, "request" }, { NLM_F_ACK, "ack" },
		{ NLM_F_CREATE, "create" }, { NLM_F_EXCL, "excl" },
		{ NLM_F_APPEND, "append" }, { NLM_F_REPLACE, "replace" },
	};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit) {
			out_printf(o, "%s%s", sep, names[i].name);
			sep = ",";
			f &= (uint16_t)~names[i].bit;
		}
	if (f != 0)
		out_printf(o, "%s0x%x", sep, f);
}

static void
render_key(struct out *o, const uint8_t *key, uint32_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 4 || len == 16) {
		inet_ntop(len == 4 ? AF_INET : AF_INET6, key, a, sizeof(a));
		out_printf(o, "%s", a);
	} else if (len == 2) {
		out_printf(o, "%u", (unsigned)key[0] << 8 | key[1]);
	} else {
		for (uint32_t i = 0; i < len; i++)
			out_printf(o, "%02x", key[i]);
	}
}

static void
render_set(struct out *o, const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();

	assert_non_null(s);
	if (nftnl_set_nlmsg_parse(nlh, s) != 0)
		fail_msg("set message does not parse");
	out_printf(o, "  set %s table %s family %u id %u key type %u len %u "
	    "flags 0x%x size %u\n", nftnl_set_get_str(s, NFTNL_SET_NAME),
	    nftnl_set_get_str(s, NFTNL_SET_TABLE),
	    nftnl_set_get_u32(s, NFTNL_SET_FAMILY),
	    nftnl_set_get_u32(s, NFTNL_SET_ID),
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
	    nftnl_set_is_set(s, NFTNL_SET_FLAGS) ?
	    nftnl_set_get_u32(s, NFTNL_SET_FLAGS) : 0,
	    nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) ?
	    nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) : 0);
	if (nftnl_set_is_set(s, NFTNL_SET_GC_INTERVAL))
		out_printf(o, "    gc-interval %u ms\n", nftnl_set_get_u32(s,
		    NFTNL_SET_GC_INTERVAL));
	nftnl_set_free(s);
}

static void
render_elems(struct out *o, const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	assert_non_null(s);
	if (nftnl_set_elems_nlmsg_parse(nlh, s) != 0)
		fail_msg("element message does not parse");
	out_printf(o, "  elements of %s table %s\n",
	    nftnl_set_get_str(s, NFTNL_SET_NAME),
	    nftnl_set_get_str(s, NFTNL_SET_TABLE));
	assert_non_null(it = nftnl_set_elems_iter_create(s));
	while ((el = nftnl_set_elems_iter_next(it)) != NULL) {
		uint32_t klen = 0;
		const uint8_t *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY,
		    &klen);

		out_printf(o, "    element ");
		if (key != NULL)
			render_key(o, key, klen);
		else
			out_printf(o, "(no key)");
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS))
			out_printf(o, " flags 0x%x", nftnl_set_elem_get_u32(el,
			    NFTNL_SET_ELEM_FLAGS));
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
			out_printf(o, " timeout %llu ms", (unsigned long long)
			    nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_TIMEOUT));
		out_printf(o, "\n");
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
}

static int
render_target(struct nftnl_expr *e, void *arg)
{
	struct out *o = arg;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const struct xt_NFQ_info_v3 *info;
	uint32_t len = 0;

	if (name == NULL || strcmp(name, "target") != 0)
		return MNL_CB_OK;
	info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
	if (info == NULL || len != sizeof(*info))
		out_printf(o, "  target info: %u bytes\n", len);
	else
		out_printf(o, "  target info: queuenum %u queues_total %u "
		    "flags 0x%x\n", info->queuenum, info->queues_total,
		    info->flags);
	return MNL_CB_OK;
}

static void
render_object(struct out *o, const struct nlmsghdr *nlh, uint16_t type)
{
	char *buf = malloc(65536);

	assert_non_null(buf);
	buf[0] = '\0';
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (nftnl_table_nlmsg_parse(nlh, t) != 0)
			fail_msg("table message does not parse");
		nftnl_table_snprintf(buf, 65536, t, NFTNL_OUTPUT_DEFAULT, 0);
		out_printf(o, "  %s\n", buf);
		nftnl_table_free(t);
		break;
	}
	case NFT_MSG_NEWSET:
		render_set(o, nlh);
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		render_elems(o, nlh);
		break;
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (nftnl_chain_nlmsg_parse(nlh, c) != 0)
			fail_msg("chain message does not parse");
		nftnl_chain_snprintf(buf, 65536, c, NFTNL_OUTPUT_DEFAULT, 0);
		out_printf(o, "  %s\n", buf);
		nftnl_chain_free(c);
		break;
	}
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();
		char *line, *save = NULL;

		if (nftnl_rule_nlmsg_parse(nlh, r) != 0)
			fail_msg("rule message does not parse");
		nftnl_rule_snprintf(buf, 65536, r, NFTNL_OUTPUT_DEFAULT, 0);
		/* Its lines, indented alike; libnftnl ends with a blank. */
		for (line = strtok_r(buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			out_printf(o, "  %s\n", line[0] == ' ' ? line + 2 :
			    line);
		(void)nftnl_expr_foreach(r, render_target, o);
		nftnl_rule_free(r);
		break;
	}
	default:
		out_printf(o, "  (type %u)\n", type);
	}
	free(buf);
}

/* The whole batch b as text into o. */
static void
render_batch(struct out *o, const struct nl_batch *b)
{
	size_t n = nl_batch_count(b);

	out_printf(o, "batch begin (nf_tables)\n");
	for (size_t i = 0; i < n; i++) {
		const struct nlmsghdr *nlh = nl_batch_msg(b, i);
		uint16_t type = nlh->nlmsg_type & 0xff;
		const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

		if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
			fail_msg("message %zu: subsystem %u, want nf_tables",
			    i, nlh->nlmsg_type >> 8);
		out_printf(o, "[%zu] %s %s flags ", i, msg_type_name(type),
		    g->nfgen_family == NFPROTO_INET ? "inet" : "(family?)");
		render_flags(o, nlh->nlmsg_flags);
		out_printf(o, ": %s\n", nl_batch_label(b, i));
		render_object(o, nlh, type);
	}
	out_printf(o, "%s\n", nl_batch_frame(b) == NL_FRAME_NFT ?
	    "batch end" : "no batch end: validated, answered, discarded");
}

/* --- comparing ------------------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;

	if (f == NULL)
		return NULL;
	buf = malloc(OUT_MAX + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, OUT_MAX, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The first line where a and b differ, 1-based. */
static size_t
first_diff_line(const char *a, const char *b)
{
	size_t line = 1;

	for (; *a != '\0' && *a == *b; a++, b++)
		if (*a == '\n')
			line++;
	return line;
}

static void
golden_compare(const char *name, const struct out *got)
{
	char path[256], tmp[] = "/tmp/smtpgate-golden-XXXXXX";
	char cmd[512];
	size_t wlen = 0;
	char *want;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), GOLDEN_DIR "ruleset-%s.txt", name);
	if (getenv("SMTPGATE_GOLDEN_UPDATE") != NULL) {
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(got->buf, 1, got->len, f) != got->len ||
		    fclose(f) != 0)
			fail_msg("%s: write: %s", path, strerror(errno));
		print_message("updated %s\n", path);
		return;
	}
	if ((want = slurp(path, &wlen)) == NULL)
		fail_msg("%s: %s (SMTPGATE_GOLDEN_UPDATE=1 make unit writes "
		    "it)", path, strerror(errno));
	if (wlen == got->len && memcmp(want, got->buf, wlen) == 0) {
		free(want);
		return;
	}
	/* A readable diff: got against want, through diff(1) when it is
	 * there. */
	if ((fd = mkstemp(tmp)) != -1) {
		if (write(fd, got->buf, got->len) == (ssize_t)got->len) {
			snprintf(cmd, sizeof(cmd), "diff -u %s %s 1>&2", path,
			    tmp);
			if (system(cmd) == -1)
				print_error("diff: %s\n", strerror(errno));
		}
		close(fd);
		unlink(tmp);
	}
	print_error("%s: the batch differs from line %zu on (want: the "
	    "file; got: what the code builds).  If the change is meant, "
	    "SMTPGATE_GOLDEN_UPDATE=1 make unit rewrites it.\n", path,
	    first_diff_line(want, got->buf));
	free(want);
	fail_msg("%s: got another batch than the golden file", name);
}

/* --- cases ----------------------------------------------------------- */

struct golden_case {
	const char *name;		/* tests/golden/ruleset-NAME.{conf,txt} */
	enum nftrules_queue q;
	bool commit;			/* false: smtpgate-nft -n install */
};

static const struct golden_case golden_cases[] = {
	/* The defaults: gate and sniffer, port 25, no trusted networks. */
	{ "defaults-native", NFTRULES_QUEUE_NATIVE, true },
	{ "defaults-xt", NFTRULES_QUEUE_XT, true },
	/* No sniffer rules; IPv4 and IPv6 trusted networks, nested ones
	 * and loopback among them; three ports; other queue numbers. */
	{ "nosniff-native", NFTRULES_QUEUE_NATIVE, true },
	{ "nosniff-xt", NFTRULES_QUEUE_XT, true },
	/* The sniffer with a longer window, IPv6 trust only, a dry run. */
	{ "sniff-v6-check", NFTRULES_QUEUE_XT, false },
	/* tempfail's rules keyed by the address, another pass_ttl and
	 * retry_size. */
	{ "retry-xt", NFTRULES_QUEUE_XT, false },
	/* Both replies by the responder (reply.h): maps, nat chain, the
	 * responder's rules in chain gate. */
	{ "reply-xt", NFTRULES_QUEUE_XT, true },
	/* The banner hold: sets hold4/6, its queue rules in sniff_out. */
	{ "hold-xt", NFTRULES_QUEUE_XT, true },
	{ "hold-native", NFTRULES_QUEUE_NATIVE, true },
};

static void
test_golden(void **state)
{
	const struct golden_case *c = *state;
	struct nftrules_conf nc;
	struct conf *cf = calloc(1, sizeof(*cf));
	struct nl_batch *b;
	struct out o = { malloc(OUT_MAX), 0 };
	char path[256], err[CONF_ERR_MAX];

	assert_non_null(cf);
	assert_non_null(o.buf);
	snprintf(path, sizeof(path), GOLDEN_DIR "ruleset-%s.conf", c->name);
	if (conf_load(path, cf, err, sizeof(err)) == -1)
		fail_msg("%s: %s", c->name, err);
	nftrules_conf_from(&nc, cf);
	if (nftrules_check_conf(&nc, err, sizeof(err)) == -1)
		fail_msg("%s: nftrules_check_conf: %s", c->name, err);
	b = nl_batch_new(c->commit ? NL_FRAME_NFT : NL_FRAME_NFT_CHECK);
	assert_non_null(b);
	if (nftrules_build(b, &nc, c->q) != 0)
		fail_msg("%s: nftrules_build failed", c->name);
	out_printf(&o, "# smtpgate-nft -c ruleset-%s.conf%s install, queue "
	    "%s (tests/unit/test_nftrules.c)\n", c->name, c->commit ? "" :
	    " -n", nftrules_queue_name(c->q));
	render_batch(&o, b);
	golden_compare(c->name, &o);
	nl_batch_free(b);
	free(o.buf);
	free(cf);
}

static void
test_golden_remove(void **state)
{
	struct nl_batch *b = nl_batch_new(NL_FRAME_NFT);
	struct out o = { malloc(OUT_MAX), 0 };

	(void)state;
	assert_non_null(b);
	nftrules_build_remove(b, "smtpgate");
	out_printf(&o, "# smtpgate-nft remove (tests/unit/test_nftrules.c)\n");
	render_batch(&o, b);
	golden_compare("remove", &o);
	nl_batch_free(b);
	free(o.buf);
}

static void
test_golden_probe(void **state)
{
	struct nl_batch *b = nl_batch_new(NL_FRAME_NFT_CHECK);
	struct out o = { malloc(OUT_MAX), 0 };
	int rule;

	(void)state;
	assert_non_null(b);
	rule = nftrules_build_probe(b);
	/* The probe reads the answer to this message, found by its id. */
	if (rule < 0 || strcmp(nl_batch_label(b, (size_t)rule),
	    "add rule \"queue num 0 bypass\"") != 0)
		fail_msg("probe: the queue rule's id: got %d (%s)", rule,
		    rule < 0 ? "-" : nl_batch_label(b, (size_t)rule));
	out_printf(&o, "# smtpgate-nft probe (tests/unit/test_nftrules.c)\n");
	render_batch(&o, b);
	golden_compare("probe", &o);
	nl_batch_free(b);
	free(o.buf);
}

int
main(void)
{
	struct CMUnitTest t[16];
	char names[16][96];
	size_t n = 0;

	CASES(golden_cases, test_golden);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_golden_remove);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_golden_probe);
	return _cmocka_run_group_tests("nftrules", t, n, NULL, NULL);
}
