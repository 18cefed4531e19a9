/*
 * fuzz_netlink.c - libFuzzer target for the netlink module's reading of
 * answers (nl_process: the datagram walk, matching by sequence number,
 * error decoding with extended ack attributes, NLMSG_DONE, data messages
 * through mnl_cb_run2).
 *
 * Per input: a socket over an AF_UNIX socketpair (nl_adopt) with two
 * batches in flight - an nf_tables batch of two acked messages and one not
 * acked, and a dump - then the input as one answer datagram.  So that the
 * walk reaches the matching, every whole message of the input gets a
 * sequence number near the batches' (its own, modulo 12, picks one: stale
 * below, a frame message, a data message, the dump, stale above) and, when
 * its port id is odd, ours.  After the read (and a deadline run) the
 * results must be consistent: a settled batch's errors are errnos, the
 * batches in flight are at most two.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>

#include "fuzz.h"
#include "netlink.h"

#define FUZZ_PORTID	4242u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A dump's data callback that parses what it gets, as the real ones do:
 * attributes it cannot walk fail the batch. */
static int
fuzz_netlink_attr(const struct nlattr *a, void *arg)
{
	(void)arg;
	(void)mnl_attr_get_type(a);
	return MNL_CB_OK;
}

static int
fuzz_netlink_parse(const struct nlmsghdr *nlh, void *arg)
{
	(void)arg;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), fuzz_netlink_attr,
	    NULL) == MNL_CB_ERROR) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void
fuzz_netlink_done(void *arg, struct nl_batch *b)
{
	(void)b;
	(*(int *)arg)++;
}

static void
fuzz_netlink_check(const struct nl_batch *b)
{
	char why[256];

	for (size_t i = 0; i < nl_batch_count(b); i++)
		if (nl_batch_error(b, i) < 0 || nl_batch_error(b, i) >= 4096)
			FUZZ_FAIL();
	if (nl_batch_frame_error(b) < 0 || nl_batch_frame_error(b) >= 4096)
		FUZZ_FAIL();
	if (nl_batch_why(b, why, sizeof(why)) < 0 || memchr(why, '\0',
	    sizeof(why)) == NULL)
		FUZZ_FAIL();
}

static struct nl_batch *
fuzz_netlink_batch(enum nl_frame f, size_t n, bool dump)
{
	struct nl_batch *b = nl_batch_new(f);

	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct nlmsghdr *nlh = nl_batch_put(b, 64);

		if (nlh == NULL)
			break;
		nlh = mnl_nlmsg_put_header(nlh);
		nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) |
		    (dump ? NFT_MSG_GETRULE : NFT_MSG_NEWSETELEM);
		nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP :
		    i < 2 ? NLM_F_ACK : 0);
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
		if (dump)
			(void)nl_batch_add_dump(b, "dump %zu", i);
		else
			(void)nl_batch_add(b, "message %zu", i);
	}
	return b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_batch *a = NULL, *d = NULL;
	struct nl_sock *s = NULL;
	uint8_t *buf = NULL, sink[4096];
	char err[128];
	int sv[2] = { -1, -1 }, done = 0;
	uint32_t seq0;

	if (size > 65536 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
	    sv) == -1)
		return 0;
	if ((s = nl_adopt(sv[0], FUZZ_PORTID, 0, err, sizeof(err))) == NULL) {
		close(sv[0]);
		goto out;
	}
	sv[0] = -1;
	a = fuzz_netlink_batch(NL_FRAME_NFT, 3, false);
	d = fuzz_netlink_batch(NL_FRAME_NONE, 1, true);
	if (a == NULL || d == NULL ||
	    nl_send(s, a, NULL, fuzz_netlink_done, &done, 1000) != 0 ||
	    nl_send(s, d, fuzz_netlink_parse, fuzz_netlink_done, &done,
	    1000) != 0)
		goto out;
	/* a: begin, 3 messages, end; d: 1 message. */
	seq0 = nl_batch_msg(a, 0)->nlmsg_seq - 1;
	while (recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	if ((buf = malloc(size ? size : 1)) == NULL)
		goto out;
	memcpy(buf, data, size);
	/* (Not mnl_nlmsg_ok: it takes lengths over 2 GiB.) */
	for (size_t off = 0; size - off >= NLMSG_HDRLEN;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)(buf + off);

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len >
		    size - off)
			break;
		nlh->nlmsg_seq = seq0 + nlh->nlmsg_seq % 12 - 3;
		if (nlh->nlmsg_pid & 1)
			nlh->nlmsg_pid = FUZZ_PORTID;
		if (NLMSG_ALIGN(nlh->nlmsg_len) >= size - off)
			break;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (send(sv[1], buf, size, 0) == -1)
		goto out;
	if (nl_process(s, 0) < 0 || nl_inflight(s) > 2 || done > 2)
		FUZZ_FAIL();
	/* And once more after the deadlines would have passed. */
	if (nl_wait(s, 0) < 0 || nl_inflight(s) != 0)
		FUZZ_FAIL();
	fuzz_netlink_check(a);
	fuzz_netlink_check(d);
out:
	nl_close(s);
	nl_batch_free(a);
	nl_batch_free(d);
	free(buf);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}
