/*
 * fuzz_nflog.c - libFuzzer target for nflog_parse, and pkt_parse over the
 * copy it finds, as the sniffer reads an nfnetlink_log datagram.
 *
 * The input is one datagram, copied to a block of exactly its size
 * (malloc's alignment) (ASan sees any read past the end).  Its messages are walked with
 * mnl_nlmsg_ok / mnl_nlmsg_next as the netlink module walks them; a
 * successful parse must leave the copied packet inside its message and
 * the timestamp a real one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "fuzz.h"
#include "nflog.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *buf = malloc(size ? size : 1);
	const struct nlmsghdr *nlh;
	int left = (int)(size > 65536 ? 65536 : size);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	/* mnl_nlmsg_ok takes a length of 2^31 or more for a negative one:
	 * netlink.c walks datagrams with the same unsigned check. */
	for (nlh = buf; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <=
	    (uint32_t)left; nlh = mnl_nlmsg_next(nlh, &left)) {
		struct nflog_packet p;
		const char *why = NULL;
		struct pkt k;

		if (nflog_parse(nlh, &p, &why) == -1) {
			if (why == NULL)
				FUZZ_FAIL();
			continue;
		}
		if (p.payload != NULL && ((const uint8_t *)p.payload <
		    (const uint8_t *)nlh || (const uint8_t *)p.payload + p.len >
		    (const uint8_t *)nlh + nlh->nlmsg_len))
			FUZZ_FAIL();
		if (p.has_ts && p.ts_us < 0)
			FUZZ_FAIL();
		if (p.payload != NULL)
			(void)pkt_parse(p.payload, p.len, &k, &why);
	}
	free(buf);
	return 0;
}
