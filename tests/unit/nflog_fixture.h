/*
 * nflog_fixture.h - nfnetlink_log messages as the kernel sends the
 * sniffer's handshake copies (the log rules of nftrules_rule.c), built
 * without a kernel for test_sniff_rtt.c and bench/bench_rtt.c: IPv4 +
 * TCP with doff 8, as Linux sends, and for an input copy the kernel's
 * timestamp.  A static function: include once per program.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

/*
 * Into buf (len bytes, aligned for a netlink header): the copy at hook of
 * a segment src:sport -> dst:dport (addresses in network order), with
 * flags, seq, ack and payload bytes (zeros); an input copy stamped
 * ts_ago_us before now (CLOCK_REALTIME, as the kernel stamps input).  At
 * most 128 bytes of the packet, as the rules' snaplen.  Its length.
 */
static size_t
nflog_fixture_msg(uint8_t *buf, size_t len, uint8_t hook, uint32_t src,
    uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
    uint32_t ack, size_t payload, int64_t ts_ago_us)
{
	uint8_t pk[128] = { 0 };
	size_t n = 52 + payload;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nfulnl_msg_packet_hdr ph = { htons(0x0800), hook, 0 };

	pk[0] = 0x45;
	pk[2] = (uint8_t)(n >> 8);
	pk[3] = (uint8_t)n;
	pk[8] = 64;
	pk[9] = 6;
	memcpy(pk + 12, &src, 4);
	memcpy(pk + 16, &dst, 4);
	pk[20] = (uint8_t)(sport >> 8);
	pk[21] = (uint8_t)sport;
	pk[22] = (uint8_t)(dport >> 8);
	pk[23] = (uint8_t)dport;
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(pk + 24, &seq, 4);
	memcpy(pk + 28, &ack, 4);
	pk[32] = 0x80;
	pk[33] = flags;
	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	if (hook == NF_INET_LOCAL_IN) {
		struct timespec ts;
		struct nfulnl_msg_packet_timestamp t;
		int64_t us;

		clock_gettime(CLOCK_REALTIME, &ts);
		us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 -
		    ts_ago_us;
		t.sec = htobe64((uint64_t)(us / 1000000));
		t.usec = htobe64((uint64_t)(us % 1000000));
		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(t), &t);
	}
	mnl_attr_put(nlh, NFULA_PAYLOAD, n > sizeof(pk) ? sizeof(pk) : n, pk);
	return nlh->nlmsg_len;
}
