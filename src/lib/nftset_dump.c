/*
 * nftset_dump.c - the elements of a GETSETELEM answer, decoded once for
 * every reader of the sets (nftset.h).  libnftnl parses the message; this
 * file only checks what it hands back: a key of 4 or 16 bytes, a map value
 * of exactly 2.
 */
#include <errno.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "nftset.h"

static void
nftset_dump_one(struct nftnl_set_elem *el, struct nftset_dumped *d,
    const void *key, uint32_t klen)
{
	memset(d, 0, sizeof(*d));
	if (klen == 4)
		addr_from_v4(&d->a, key);
	else
		addr_from_v6(&d->a, key);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS))
		d->interval_end = (nftnl_set_elem_get_u32(el,
		    NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END) != 0;
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
		d->timeout_ms = nftnl_set_elem_get_u64(el,
		    NFTNL_SET_ELEM_TIMEOUT);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION))
		d->expires_ms = nftnl_set_elem_get_u64(el,
		    NFTNL_SET_ELEM_EXPIRATION);
	if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_DATA)) {
		uint32_t dlen = 0;
		const uint8_t *v = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA,
		    &dlen);

		if (v != NULL && dlen == 2)	/* network order */
			d->port = (uint16_t)(v[0] << 8 | v[1]);
	}
}

int
nftset_dump_elems(const struct nlmsghdr *nlh, nftset_dump_fn fn, void *arg)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;
	int rc = 0;

	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return 1;
	}
	if ((it = nftnl_set_elems_iter_create(s)) == NULL) {
		nftnl_set_free(s);
		errno = ENOMEM;
		return -1;
	}
	while (rc == 0 && (el = nftnl_set_elems_iter_next(it)) != NULL) {
		uint32_t klen = 0;
		const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY,
		    &klen);
		struct nftset_dumped d;

		if (key == NULL || (klen != 4 && klen != 16))
			continue;
		nftset_dump_one(el, &d, key, klen);
		if (fn(&d, arg) == -1)
			rc = -1;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return rc;
}
