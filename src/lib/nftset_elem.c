/*
 * nftset_elem.c - one element change of our nftables sets: built from an
 * address or a prefix, written as an nf_tables message, named by its
 * label (nftset.h).  For nftset.c, allowlist.c, the unit tests and the
 * scenario tests' fake of nftset (tests/scenario/fake_nftset.c).
 *
 * Exports nftset_elem_addr, nftset_elem_prefix, nftset_build_elem_msg,
 * nftset_build_elems_msg (many changes of one set in one message, for
 * nftset_replace) and nftset_elem_label.  Pure code: no socket, no I/O.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "log.h"
#include "nftset.h"

static int
nftset_set_name(struct nftset_elem *e, const char *base, int family)
{
	int n;

	n = snprintf(e->set, sizeof(e->set), "%s%c", base,
	    family == AF_INET6 ? '6' : '4');
	return (n < 0 || (size_t)n >= sizeof(e->set)) ? -1 : 0;
}

int
nftset_elem_addr(struct nftset_elem *e, bool del, const char *base,
    const struct addr *a, uint32_t timeout_s)
{
	memset(e, 0, sizeof(*e));
	if (a->family != AF_INET && a->family != AF_INET6)
		return -1;
	if (nftset_set_name(e, base, a->family) == -1)
		return -1;
	e->del = del;
	e->keylen = (uint8_t)addr_len(a);
	memcpy(e->key, a->b, e->keylen);
	if (!del)
		e->timeout_ms = (uint64_t)timeout_s * 1000;
	return 0;
}

int
nftset_elem_prefix(struct nftset_elem *e, bool del, const char *base,
    const struct prefix *p)
{
	struct addr end;

	if (nftset_elem_addr(e, del, base, &p->a, 0) == -1)
		return -1;
	if (p->len > e->keylen * 8)
		return -1;
	e->interval = true;
	e->plen = (uint8_t)p->len;
	if (prefix_end(p, &end)) {
		e->has_end = true;
		memcpy(e->end, end.b, e->keylen);
	}
	return 0;
}

/* Key into one element nest; flags 0 means no flags attribute. */
static int
nftset_put_elem(struct nlmsghdr *nlh, const uint8_t *key, uint8_t keylen,
    uint32_t flags, uint64_t timeout_ms, const uint8_t *data, uint8_t datalen)
{
	struct nftnl_set_elem *el;

	if ((el = nftnl_set_elem_alloc()) == NULL)
		return -1;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, keylen);
	if (flags != 0)
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, flags);
	if (timeout_ms != 0)
		nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	if (datalen != 0)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, data, datalen);
	/*
	 * Every nest is NFTA_LIST_ELEM.  (nftnl_set_elems_nlmsg_build_payload
	 * in libnftnl 1.2.4 numbers them 1, 2, ...; the kernel ignores the
	 * nest type but libnftnl's own parser refuses all but the first.)
	 */
	nftnl_set_elem_nlmsg_build(nlh, el, NFTA_LIST_ELEM);
	nftnl_set_elem_free(el);
	return 0;
}

/* e's start element, and its end element when it has one. */
static int
nftset_put_change(struct nlmsghdr *nlh, const struct nftset_elem *e)
{
	if (nftset_put_elem(nlh, e->key, e->keylen, 0, e->del ? 0 :
	    e->timeout_ms, e->data, e->del ? 0 : e->datalen) == -1)
		return -1;
	if (e->interval && e->has_end && nftset_put_elem(nlh, e->end,
	    e->keylen, NFT_SET_ELEM_INTERVAL_END, 0, NULL, 0) == -1)
		return -1;
	return 0;
}

static bool
nftset_elem_ok(const struct nftset_elem *e)
{
	return strnlen(e->set, NFTSET_NAME_MAX) < NFTSET_NAME_MAX &&
	    e->keylen != 0 && e->keylen <= sizeof(e->key) &&
	    e->datalen <= sizeof(e->data);
}

/* Can b travel in the same message as a (same set, same change)? */
static bool
nftset_elem_packs(const struct nftset_elem *a, const struct nftset_elem *b)
{
	return a->del == b->del && a->keylen == b->keylen &&
	    a->interval == b->interval && a->datalen == b->datalen &&
	    strcmp(a->set, b->set) == 0;
}

size_t
nftset_build_elems_msg(void *buf, size_t len, const char *table,
    const struct nftset_elem *e, size_t n, size_t *packed, uint32_t seq,
    bool ack)
{
	struct nlmsghdr *nlh;
	struct nlattr *list;
	uint16_t flags;
	size_t k;

	*packed = 0;
	if (n == 0 || len < NFTSET_MSG_MAX || strnlen(table,
	    NFTSET_TABLE_MAX) >= NFTSET_TABLE_MAX || !nftset_elem_ok(&e[0]))
		return 0;
	/* The elements' nest has a 16-bit length: stay well under it. */
	if (len > NFTSET_PACK_BYTES)
		len = NFTSET_PACK_BYTES;
	flags = e[0].del ? 0 : NLM_F_CREATE;
	if (ack)
		flags |= NLM_F_ACK;
	nlh = nftnl_nlmsg_build_hdr(buf, e[0].del ? NFT_MSG_DELSETELEM :
	    NFT_MSG_NEWSETELEM, NFPROTO_INET, flags, seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e[0].set);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	/*
	 * libnftnl writes without a bound: one change (a start and an end
	 * element, each with a 16-byte key, flags, timeout, a 16-byte value)
	 * takes under NFTSET_ELEM_ROOM bytes, so one is added only while
	 * that much room is left.
	 */
	for (k = 0; k < n && nlh->nlmsg_len + NFTSET_ELEM_ROOM <= len; k++) {
		if (k > 0 && (!nftset_elem_ok(&e[k]) ||
		    !nftset_elem_packs(&e[0], &e[k])))
			break;
		if (nftset_put_change(nlh, &e[k]) == -1)
			return 0;
	}
	mnl_attr_nest_end(nlh, list);
	if (nlh->nlmsg_len > len)	/* cannot happen: see above */
		log_panic("nftset: elements message of %u bytes for set %s "
		    "over its room of %zu", nlh->nlmsg_len, e[0].set, len);
	*packed = k;
	return nlh->nlmsg_len;
}

size_t
nftset_build_elem_msg(void *buf, size_t len, const char *table,
    const struct nftset_elem *e, uint32_t seq, bool ack)
{
	struct nlmsghdr *nlh;
	struct nlattr *list;
	uint16_t flags;

	/*
	 * libmnl and libnftnl write without a bound: the bound is
	 * NFTSET_MSG_MAX, and the worst case (64-byte table, 32-byte set,
	 * two 16-byte keys, flags, timeout, a 16-byte value) is under 350
	 * bytes.
	 */
	if (len < NFTSET_MSG_MAX || strnlen(table, NFTSET_TABLE_MAX) >=
	    NFTSET_TABLE_MAX || strnlen(e->set, NFTSET_NAME_MAX) >=
	    NFTSET_NAME_MAX || e->keylen == 0 || e->keylen > sizeof(e->key) ||
	    e->datalen > sizeof(e->data))
		return 0;

	flags = e->del ? 0 : NLM_F_CREATE;
	if (ack)
		flags |= NLM_F_ACK;
	nlh = nftnl_nlmsg_build_hdr(buf, e->del ? NFT_MSG_DELSETELEM :
	    NFT_MSG_NEWSETELEM, NFPROTO_INET, flags, seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e->set);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	if (nftset_put_change(nlh, e) == -1)
		return 0;
	mnl_attr_nest_end(nlh, list);
	if (nlh->nlmsg_len > NFTSET_MSG_MAX)	/* cannot happen: see above */
		log_panic("nftset: element message of %u bytes for set %s "
		    "over its room of %d", nlh->nlmsg_len, e->set,
		    NFTSET_MSG_MAX);
	return nlh->nlmsg_len;
}

const char *
nftset_elem_label(const struct nftset_elem *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	const char *verb = e->del ? "delete" : "add";

	if (e->keylen == 2) {			/* inet_service */
		snprintf(buf, len, "%s element %s %u", verb, e->set,
		    (unsigned)e->key[0] << 8 | e->key[1]);
		return buf;
	}
	if ((e->keylen != 4 && e->keylen != 16) || inet_ntop(e->keylen == 16 ?
	    AF_INET6 : AF_INET, e->key, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "(key of %u bytes)", e->keylen);
	if (e->interval)
		snprintf(buf, len, "%s element %s %s/%u", verb, e->set, a,
		    e->plen);
	else if (e->datalen == 2 && !e->del)	/* a map to a port */
		snprintf(buf, len, "%s element %s %s : %u", verb, e->set, a,
		    (unsigned)e->data[0] << 8 | e->data[1]);
	else
		snprintf(buf, len, "%s element %s %s", verb, e->set, a);
	return buf;
}
