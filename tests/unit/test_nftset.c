/*
 * test_nftset.c - nftset's element messages, built and parsed back with
 * libnftnl (no kernel): message type and flags, table, family, set name,
 * key bytes, timeout, interval end elements; and nftset_dump_elems's
 * reading of them.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "nftset.h"

struct elem_case {
	const char *name;
	bool del;
	bool prefix;		/* text is a prefix for an interval set */
	const char *base;
	const char *text;	/* address or prefix */
	uint32_t timeout_s;
	bool ack;
	/* want */
	const char *set;
	const char *key;	/* textual address of the (start) key */
	uint64_t timeout_ms;	/* 0: no timeout attribute */
	const char *end;	/* interval end key, NULL: no end element */
};

static const struct elem_case elem_cases[] = {
	{ "add v4 with timeout", false, false, "pass", "192.0.2.1", 3600,
	    false, "pass4", "192.0.2.1", 3600000, NULL },
	{ "add v6 with timeout", false, false, "deny", "2001:db8::1", 60,
	    false, "deny6", "2001:db8::1", 60000, NULL },
	{ "add v4-mapped goes to the v4 set", false, false, "drop",
	    "::ffff:198.51.100.7", 5, false, "drop4", "198.51.100.7", 5000,
	    NULL },
	{ "add without timeout", false, false, "offend", "203.0.113.9", 0,
	    false, "offend4", "203.0.113.9", 0, NULL },
	{ "add with ack", false, false, "pass", "192.0.2.2", 1, true,
	    "pass4", "192.0.2.2", 1000, NULL },
	{ "del v4 carries no timeout", true, false, "pass", "192.0.2.1",
	    3600, false, "pass4", "192.0.2.1", 0, NULL },
	{ "del v6", true, false, "deny", "2001:db8::2", 0, true, "deny6",
	    "2001:db8::2", 0, NULL },
	{ "prefix v4 /8", false, true, "allow", "10.0.0.0/8", 0, false,
	    "allow4", "10.0.0.0", 0, "11.0.0.0" },
	{ "prefix v4 host", false, true, "allow", "192.0.2.255/32", 0,
	    false, "allow4", "192.0.2.255", 0, "192.0.3.0" },
	{ "prefix v6 /32", false, true, "allow", "2001:db8::/32", 0, false,
	    "allow6", "2001:db8::", 0, "2001:db9::" },
	{ "prefix v6 loopback", false, true, "allow", "::1/128", 0, false,
	    "allow6", "::1", 0, "::2" },
	{ "prefix v4 at end of space", false, true, "allow", "255.0.0.0/8",
	    0, false, "allow4", "255.0.0.0", 0, NULL },
	{ "prefix v4 everything", false, true, "allow", "0.0.0.0/0", 0,
	    false, "allow4", "0.0.0.0", 0, NULL },
	{ "prefix v6 at end of space", false, true, "allow", "ffff::/16", 0,
	    false, "allow6", "ffff::", 0, NULL },
	{ "del prefix keeps its end", true, true, "allow", "172.16.0.0/12",
	    0, false, "allow4", "172.16.0.0", 0, "172.32.0.0" },
};

/* Key bytes of a textual address (either family). */
static size_t
text_key(const char *text, uint8_t out[16])
{
	if (inet_pton(AF_INET, text, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, out) == 1)
		return 16;
	fail_msg("bad test address %s", text);
	return 0;
}

static void
check_key(const struct elem_case *c, struct nftnl_set_elem *el,
    const char *want_text, const char *what)
{
	uint8_t want[16];
	size_t wlen = text_key(want_text, want);
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);

	if (key == NULL || len != wlen)
		fail_msg("%s: %s key length: got %u, want %zu", c->name, what,
		    len, wlen);
	if (memcmp(key, want, wlen) != 0)
		fail_msg("%s: %s key: bytes differ from %s", c->name, what,
		    want_text);
}

static void
test_elem_msgs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(elem_cases) / sizeof(elem_cases[0]); i++) {
		const struct elem_case *c = &elem_cases[i];
		char buf[NFTSET_MSG_MAX];
		struct nftset_elem e;
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		struct nftnl_set *set;
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *el;
		uint16_t want_type, want_flags;
		uint32_t seq = 1000 + (uint32_t)i;
		size_t n;
		int rc;

		if (c->prefix) {
			struct prefix p;
			const char *why = NULL;

			if (prefix_parse(c->text, &p, &why) != 0)
				fail_msg("%s: prefix_parse %s: %s", c->name,
				    c->text, why ? why : "?");
			rc = nftset_elem_prefix(&e, c->del, c->base, &p);
		} else {
			struct addr a;

			if (addr_parse(c->text, &a) != 0)
				fail_msg("%s: addr_parse %s failed", c->name,
				    c->text);
			rc = nftset_elem_addr(&e, c->del, c->base, &a,
			    c->timeout_s);
		}
		if (rc != 0)
			fail_msg("%s: building the element: got %d, want 0",
			    c->name, rc);
		memset(buf, 0xa5, sizeof(buf));
		n = nftset_build_elem_msg(buf, sizeof(buf), "smtpgate", &e,
		    seq, c->ack);
		if (n == 0 || n > sizeof(buf) || n != nlh->nlmsg_len)
			fail_msg("%s: message length: got %zu (header %u)",
			    c->name, n, nlh->nlmsg_len);

		want_type = (NFNL_SUBSYS_NFTABLES << 8) |
		    (c->del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
		want_flags = NLM_F_REQUEST | (c->del ? 0 : NLM_F_CREATE) |
		    (c->ack ? NLM_F_ACK : 0);
		if (nlh->nlmsg_type != want_type)
			fail_msg("%s: type: got %#x, want %#x", c->name,
			    nlh->nlmsg_type, want_type);
		if (nlh->nlmsg_flags != want_flags)
			fail_msg("%s: flags: got %#x, want %#x (never EXCL)",
			    c->name, nlh->nlmsg_flags, want_flags);
		if (nlh->nlmsg_seq != seq)
			fail_msg("%s: seq: got %u, want %u", c->name,
			    nlh->nlmsg_seq, seq);

		set = nftnl_set_alloc();
		assert_non_null(set);
		if (nftnl_set_elems_nlmsg_parse(nlh, set) != 0)
			fail_msg("%s: nftnl_set_elems_nlmsg_parse failed",
			    c->name);
		if (nftnl_set_get_u32(set, NFTNL_SET_FAMILY) != NFPROTO_INET)
			fail_msg("%s: family: got %u, want NFPROTO_INET",
			    c->name, nftnl_set_get_u32(set,
			    NFTNL_SET_FAMILY));
		if (strcmp(nftnl_set_get_str(set, NFTNL_SET_TABLE),
		    "smtpgate") != 0)
			fail_msg("%s: table: got %s, want smtpgate", c->name,
			    nftnl_set_get_str(set, NFTNL_SET_TABLE));
		if (strcmp(nftnl_set_get_str(set, NFTNL_SET_NAME), c->set) !=
		    0)
			fail_msg("%s: set: got %s, want %s", c->name,
			    nftnl_set_get_str(set, NFTNL_SET_NAME), c->set);

		it = nftnl_set_elems_iter_create(set);
		assert_non_null(it);
		el = nftnl_set_elems_iter_next(it);
		if (el == NULL)
			fail_msg("%s: no element in the message", c->name);
		check_key(c, el, c->key, "start");
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS) &&
		    (nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_FLAGS) &
		    NFT_SET_ELEM_INTERVAL_END))
			fail_msg("%s: start element has INTERVAL_END",
			    c->name);
		if (c->timeout_ms == 0) {
			if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
				fail_msg("%s: timeout: got %llu ms, want none",
				    c->name, (unsigned long long)
				    nftnl_set_elem_get_u64(el,
				    NFTNL_SET_ELEM_TIMEOUT));
		} else if (!nftnl_set_elem_is_set(el,
		    NFTNL_SET_ELEM_TIMEOUT) || nftnl_set_elem_get_u64(el,
		    NFTNL_SET_ELEM_TIMEOUT) != c->timeout_ms) {
			fail_msg("%s: timeout: got %llu ms, want %llu ms",
			    c->name, (unsigned long long)
			    nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_TIMEOUT),
			    (unsigned long long)c->timeout_ms);
		}

		el = nftnl_set_elems_iter_next(it);
		if (c->end == NULL) {
			if (el != NULL)
				fail_msg("%s: got an end element, want none",
				    c->name);
		} else {
			if (el == NULL)
				fail_msg("%s: got no end element, want %s",
				    c->name, c->end);
			check_key(c, el, c->end, "end");
			if (!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS) ||
			    nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_FLAGS) !=
			    NFT_SET_ELEM_INTERVAL_END)
				fail_msg("%s: end element flags: want "
				    "INTERVAL_END", c->name);
			if (nftnl_set_elems_iter_next(it) != NULL)
				fail_msg("%s: more than two elements",
				    c->name);
		}
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(set);
	}
}

/* Inputs the builders must refuse rather than truncate or overrun. */
static void
test_refusals(void **state)
{
	char buf[NFTSET_MSG_MAX * 2];
	char longtable[NFTSET_TABLE_MAX + 8];
	struct nftset_elem e;
	struct addr a;
	struct prefix p;
	const char *why;

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);

	/* 31 characters + "4" + NUL do not fit NFTSET_NAME_MAX (32). */
	if (nftset_elem_addr(&e, false, "abcdefghijklmnopqrstuvwxyz01234",
	    &a, 1) != -1)
		fail_msg("long base: got 0, want -1");
	if (nftset_elem_addr(&e, false, "abcdefghijklmnopqrstuvwxyz0123",
	    &a, 1) != 0)
		fail_msg("base of 30: got -1, want 0");

	a.family = 0;
	if (nftset_elem_addr(&e, false, "pass", &a, 1) != -1)
		fail_msg("family 0: got 0, want -1");
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);

	assert_int_equal(nftset_elem_addr(&e, false, "pass", &a, 1), 0);
	if (nftset_build_elem_msg(buf, NFTSET_MSG_MAX - 1, "smtpgate", &e, 1,
	    false) != 0)
		fail_msg("short buffer: got a message, want 0");
	memset(longtable, 't', sizeof(longtable) - 1);
	longtable[sizeof(longtable) - 1] = '\0';
	if (nftset_build_elem_msg(buf, sizeof(buf), longtable, &e, 1,
	    false) != 0)
		fail_msg("long table: got a message, want 0");
	e.keylen = 0;
	if (nftset_build_elem_msg(buf, sizeof(buf), "smtpgate", &e, 1,
	    false) != 0)
		fail_msg("key length 0: got a message, want 0");
	e.keylen = 17;
	if (nftset_build_elem_msg(buf, sizeof(buf), "smtpgate", &e, 1,
	    false) != 0)
		fail_msg("key length 17: got a message, want 0");

	/* Worst case still fits NFTSET_MSG_MAX. */
	why = NULL;
	assert_int_equal(prefix_parse("2001:db8::/32", &p, &why), 0);
	assert_int_equal(nftset_elem_prefix(&e, false,
	    "abcdefghijklmnopqrstuvwxyz0123", &p), 0);
	e.timeout_ms = UINT64_MAX;
	memset(longtable, 't', NFTSET_TABLE_MAX - 1);
	longtable[NFTSET_TABLE_MAX - 1] = '\0';
	if (nftset_build_elem_msg(buf, sizeof(buf), longtable, &e, 1, true) ==
	    0)
		fail_msg("worst case: got 0, want a message");
}

/* nftset_dump_elems: what a reader of the sets gets back from a message. */
struct dump_seen {
	struct nftset_dumped d[4];
	size_t n;
	size_t stop_after;	/* 0: never stop */
};

static int
dump_collect(const struct nftset_dumped *d, void *arg)
{
	struct dump_seen *seen = arg;

	if (seen->n < 4)
		seen->d[seen->n] = *d;
	seen->n++;
	return seen->stop_after != 0 && seen->n >= seen->stop_after ? -1 : 0;
}

static void
dump_msg(const struct nftset_elem *e, struct dump_seen *seen, int want_rc)
{
	char buf[NFTSET_MSG_MAX];
	size_t len = nftset_build_elem_msg(buf, sizeof(buf), "smtpgate", e, 7,
	    false);

	assert_true(len > 0);
	assert_int_equal(nftset_dump_elems((const struct nlmsghdr *)buf,
	    dump_collect, seen), want_rc);
}

static void
test_dump(void **state)
{
	struct nftset_elem e;
	struct dump_seen seen;
	struct addr a, want;
	struct prefix p;
	const char *why = NULL;
	char txt[ADDR_STRLEN];

	(void)state;
	/* An address with its timeout. */
	assert_int_equal(addr_parse("192.0.2.7", &a), 0);
	assert_int_equal(nftset_elem_addr(&e, false, "pass", &a, 3600), 0);
	memset(&seen, 0, sizeof(seen));
	dump_msg(&e, &seen, 0);
	assert_int_equal(seen.n, 1);
	assert_true(addr_eq(&seen.d[0].a, &a));
	assert_int_equal(seen.d[0].timeout_ms, 3600000);
	assert_false(seen.d[0].interval_end);
	assert_int_equal(seen.d[0].port, 0);

	/* A prefix: its start, then its end element. */
	assert_int_equal(prefix_parse("2001:db8::/32", &p, &why), 0);
	assert_int_equal(nftset_elem_prefix(&e, false, "allow", &p), 0);
	memset(&seen, 0, sizeof(seen));
	dump_msg(&e, &seen, 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(addr_ntop(&seen.d[0].a, txt), "2001:db8::");
	assert_false(seen.d[0].interval_end);
	assert_int_equal(addr_parse("2001:db9::", &want), 0);
	assert_true(addr_eq(&seen.d[1].a, &want));
	assert_true(seen.d[1].interval_end);

	/* A map's port, in host order. */
	assert_int_equal(nftset_elem_addr(&e, false, "reply", &a, 60), 0);
	e.datalen = 2;
	e.data[0] = 7026 >> 8;
	e.data[1] = 7026 & 0xff;
	memset(&seen, 0, sizeof(seen));
	dump_msg(&e, &seen, 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.d[0].port, 7026);

	/* A port set's key is not an address: skipped. */
	memset(&e, 0, sizeof(e));
	snprintf(e.set, sizeof(e.set), "gated_ports");
	e.keylen = 2;
	e.key[1] = 25;
	memset(&seen, 0, sizeof(seen));
	dump_msg(&e, &seen, 0);
	assert_int_equal(seen.n, 0);

	/* The reader stops the walk. */
	assert_int_equal(nftset_elem_prefix(&e, false, "allow", &p), 0);
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	dump_msg(&e, &seen, -1);
	assert_int_equal(seen.n, 1);
}

/*
 * Packed messages (nftset_replace): 3,000 IPv4 /24s then 10 IPv6 /48s
 * into messages of at most NFTSET_PACK_BYTES; every message parses back,
 * holds one set's elements only, starts and ends in order, and the
 * elements add up: a start and an end element per prefix.
 */
static void
test_packed(void **state)
{
	static uint8_t buf[NFTSET_PACK_BYTES];
	struct nftset_elem *e;
	size_t n4 = 3000, n6 = 10, n = n4 + n6, i = 0, msgs = 0, k, len;
	size_t got4 = 0, got6 = 0;

	(void)state;
	assert_non_null(e = calloc(n, sizeof(*e)));
	for (size_t j = 0; j < n; j++) {
		struct prefix p;
		char text[64];
		const char *why = NULL;

		if (j < n4)
			snprintf(text, sizeof(text), "11.%zu.%zu.0/24",
			    (j * 2) >> 8, (j * 2) & 255);
		else
			snprintf(text, sizeof(text), "2001:db8:%zx::/48", j);
		if (prefix_parse(text, &p, &why) != 0)
			fail_msg("prefix_parse %s: %s", text, why);
		assert_int_equal(nftset_elem_prefix(&e[j], false, "allow", &p),
		    0);
	}
	while (i < n) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)buf;
		struct nftnl_set *set;
		struct nftnl_set_elems_iter *it;
		size_t elems = 0;

		len = nftset_build_elems_msg(buf, sizeof(buf), "smtpgate",
		    &e[i], n - i, &k, 7, true);
		if (len == 0 || k == 0 || len > NFTSET_PACK_BYTES ||
		    len != nlh->nlmsg_len)
			fail_msg("message %zu: got length %zu with %zu "
			    "changes", msgs, len, k);
		if (i < n4 && i + k > n4)
			fail_msg("message %zu: mixes allow4 and allow6", msgs);
		assert_non_null(set = nftnl_set_alloc());
		if (nftnl_set_elems_nlmsg_parse(nlh, set) != 0)
			fail_msg("message %zu: does not parse", msgs);
		if (strcmp(nftnl_set_get_str(set, NFTNL_SET_NAME), i < n4 ?
		    "allow4" : "allow6") != 0)
			fail_msg("message %zu: set %s", msgs,
			    nftnl_set_get_str(set, NFTNL_SET_NAME));
		it = nftnl_set_elems_iter_create(set);
		while (nftnl_set_elems_iter_next(it) != NULL)
			elems++;
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(set);
		if (elems != 2 * k)
			fail_msg("message %zu: got %zu elements, want %zu",
			    msgs, elems, 2 * k);
		*(i < n4 ? &got4 : &got6) += k;
		i += k;
		msgs++;
	}
	if (got4 != n4 || got6 != n6)
		fail_msg("got %zu + %zu prefixes, want %zu + %zu", got4, got6,
		    n4, n6);
	/* Packed: some 800 /24s a message, so 3,000 take 4 and the /48s 1. */
	if (msgs > 6)
		fail_msg("got %zu messages, want at most 6", msgs);
	/* Short room: refused, nothing packed. */
	if (nftset_build_elems_msg(buf, NFTSET_MSG_MAX - 1, "smtpgate", e, n,
	    &k, 1, false) != 0 || k != 0)
		fail_msg("short buffer: got a message of %zu, want none", k);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elem_msgs),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_packed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
