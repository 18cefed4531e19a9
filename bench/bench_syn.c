/*
 * bench_syn - send TCP SYNs from many distinct IPv4 source addresses and
 * time the first answer (SYN-ACK or RST) each address gets.
 *
 * Run it in the client namespace of the test world, where a local route for
 * the source range (198.18.0.0/15 by default) makes the answers come back to
 * this host.  One thread sends through an IPPROTO_RAW socket (IP_HDRINCL is
 * implied), paced to a rate or as fast as the window of unanswered SYNs
 * allows; a second thread reads every incoming TCP segment from a raw
 * IPPROTO_TCP socket and records, per source address, the time of the first
 * SYN-ACK or RST from DST:PORT.  The client kernel answers the SYN-ACKs with
 * resets, since no socket owns them: that is expected and harmless.
 *
 * Each SYN is sent once (no retransmits), so an address whose SYN was lost
 * or dropped stays unanswered and is counted as lost after the wait.
 *
 * Source addresses are BASE, BASE + STRIDE, BASE + 2 * STRIDE, ... (-k), so
 * a burst can be spread over many /24s as a botnet's is.
 *
 * Output, one line a script can parse:
 *   bench_syn: sent=N synack=N rst=N lost=N send_s=S span_s=S rate=R
 *              p50_us=U p90_us=U p99_us=U max_us=U
 *              synack_ontime=N rst_ontime=N ontime_ms=M
 * The _ontime counts are the answers that came within ONTIME_MS (-t) of
 * their SYN (all answers when -t is not given).
 * rate = answered addresses / (last answer - first SYN), in addresses/s.
 * Latencies are from the send of an address's SYN to its first answer, in
 * microseconds, measured with CLOCK_MONOTONIC in user space.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct bench_syn {
	uint32_t base;		/* first source address, host order */
	uint32_t stride;	/* between consecutive source addresses */
	uint32_t count;		/* distinct source addresses to use */
	uint32_t dst;		/* destination address, host order */
	uint16_t dport;		/* destination port */
	uint16_t sport;		/* source port of every SYN */
	double rate;		/* SYNs per second; 0 = as fast as the window */
	uint32_t window;	/* most unanswered SYNs in flight */
	uint32_t wait_ms;	/* how long to wait for answers after the last SYN */
	int64_t *sent_ns;	/* per address: send time, 0 = not sent */
	int64_t *ans_ns;	/* per address: first answer time, 0 = none */
	uint8_t *ans_rst;	/* per address: the first answer was a RST */
	atomic_uint answered;	/* addresses with an answer */
	atomic_int stop;	/* tells the receiver to finish */
	int rx_fd;		/* raw IPPROTO_TCP socket */
};

static int64_t
bench_syn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint16_t
bench_syn_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Build a 40-byte IPv4+TCP SYN from src (host order) into pkt. */
static void
bench_syn_build(const struct bench_syn *b, uint32_t src, uint32_t seq,
    uint8_t pkt[40])
{
	struct iphdr *ip = (struct iphdr *)pkt;
	struct tcphdr *th = (struct tcphdr *)(pkt + 20);
	uint8_t pseudo[12 + 20];
	uint32_t s = htonl(src), d = htonl(b->dst);

	memset(pkt, 0, 40);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(40);
	ip->id = htons((uint16_t)seq);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = s;
	ip->daddr = d;
	ip->check = htons(bench_syn_csum(ip, 20, 0));
	th->source = htons(b->sport);
	th->dest = htons(b->dport);
	th->seq = htonl(seq);
	th->doff = 5;
	th->syn = 1;
	th->window = htons(64240);
	memcpy(pseudo, &s, 4);
	memcpy(pseudo + 4, &d, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 20;
	memcpy(pseudo + 12, th, 20);
	th->check = htons(bench_syn_csum(pseudo, sizeof(pseudo), 0));
}

/* Receiver: first SYN-ACK or RST per address; never trusts header lengths. */
static void *
bench_syn_rx(void *arg)
{
	struct bench_syn *b = arg;
	uint8_t buf[2048];
	struct pollfd pfd = { .fd = b->rx_fd, .events = POLLIN };

	while (!atomic_load(&b->stop)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		for (;;) {
			ssize_t n = recv(b->rx_fd, buf, sizeof(buf), MSG_DONTWAIT);
			int64_t t = bench_syn_now_ns();
			const struct iphdr *ip = (const struct iphdr *)buf;
			const struct tcphdr *th;
			size_t ihl;
			uint32_t idx;

			if (n < 0)
				break;
			if ((size_t)n < sizeof(*ip) || ip->version != 4)
				continue;
			ihl = (size_t)ip->ihl * 4;
			if (ihl < 20 || (size_t)n < ihl + sizeof(*th) ||
			    ip->protocol != IPPROTO_TCP ||
			    ntohl(ip->saddr) != b->dst)
				continue;
			th = (const struct tcphdr *)(buf + ihl);
			if (ntohs(th->source) != b->dport ||
			    ntohs(th->dest) != b->sport)
				continue;
			if (!(th->syn && th->ack) && !th->rst)
				continue;
			idx = ntohl(ip->daddr) - b->base;
			if (idx % b->stride != 0)
				continue;
			idx /= b->stride;
			if (idx >= b->count || b->sent_ns[idx] == 0 ||
			    b->ans_ns[idx] != 0)
				continue;
			b->ans_ns[idx] = t;
			b->ans_rst[idx] = th->rst;
			atomic_fetch_add(&b->answered, 1);
		}
	}
	return NULL;
}

static int
bench_syn_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
bench_syn_usage(void)
{
	fprintf(stderr,
	    "usage: bench_syn -d DST [-p PORT] [-b BASE] [-k STRIDE] [-n COUNT]\n"
	    "                 [-r RATE] [-W WINDOW] [-w WAIT_MS] [-s SPORT]\n"
	    "                 [-t ONTIME_MS]\n"
	    "  -d DST     destination IPv4 address\n"
	    "  -p PORT    destination port (25)\n"
	    "  -b BASE    first source address (198.18.0.0)\n"
	    "  -k STRIDE  step between source addresses (1)\n"
	    "  -n COUNT   distinct source addresses, one SYN each (1000)\n"
	    "  -r RATE    SYNs per second; 0 = as fast as the window allows (0)\n"
	    "  -W WINDOW  most unanswered SYNs in flight (2000)\n"
	    "  -w WAIT_MS wait for answers after the last SYN (3000)\n"
	    "  -s SPORT   source port (40000)\n"
	    "  -t MS      count answers within MS of their SYN as on time (all)\n");
	exit(2);
}

static unsigned long
bench_syn_num(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "bench_syn: %s: bad number '%s' (0..%lu)\n",
		    opt, s, max);
		exit(2);
	}
	return v;
}

static uint32_t
bench_syn_addr(const char *opt, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "bench_syn: %s: not an IPv4 address: '%s'\n",
		    opt, s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

int
main(int argc, char *argv[])
{
	struct bench_syn b = { .dport = 25, .sport = 40000, .count = 1000,
	    .window = 2000, .wait_ms = 3000, .stride = 1 };
	uint32_t ontime_ms = 0, synack_ontime = 0, rst_ontime = 0;
	struct sockaddr_in to = { .sin_family = AF_INET };
	pthread_t rx;
	int ch, tx_fd, bufsz = 32 << 20, have_dst = 0;
	int64_t t0, t_last_send, t_stall = 0, last_ans = 0, *lat;
	uint32_t i, nlat = 0, nrst = 0, stalled = 0, last_a = 0;
	uint8_t pkt[40];

	b.base = bench_syn_addr("-b", "198.18.0.0");
	while ((ch = getopt(argc, argv, "b:d:k:n:p:r:s:t:w:W:")) != -1) {
		switch (ch) {
		case 'b': b.base = bench_syn_addr("-b", optarg); break;
		case 'd': b.dst = bench_syn_addr("-d", optarg); have_dst = 1; break;
		case 'k': b.stride = bench_syn_num("-k", optarg, 1u << 16); break;
		case 't': ontime_ms = bench_syn_num("-t", optarg, 600000); break;
		case 'n': b.count = bench_syn_num("-n", optarg, 1u << 20); break;
		case 'p': b.dport = bench_syn_num("-p", optarg, 65535); break;
		case 'r': b.rate = bench_syn_num("-r", optarg, 10000000); break;
		case 's': b.sport = bench_syn_num("-s", optarg, 65535); break;
		case 'w': b.wait_ms = bench_syn_num("-w", optarg, 600000); break;
		case 'W': b.window = bench_syn_num("-W", optarg, 1u << 20); break;
		default: bench_syn_usage();
		}
	}
	if (optind != argc || !have_dst || b.count == 0 || b.window == 0 ||
	    b.stride == 0)
		bench_syn_usage();
	if ((uint64_t)b.base + (uint64_t)b.count * b.stride > UINT32_MAX + 1ULL) {
		fprintf(stderr, "bench_syn: -b/-n: range passes 255.255.255.255\n");
		return 2;
	}
	b.sent_ns = calloc(b.count, sizeof(*b.sent_ns));
	b.ans_ns = calloc(b.count, sizeof(*b.ans_ns));
	b.ans_rst = calloc(b.count, 1);
	lat = calloc(b.count, sizeof(*lat));
	if (!b.sent_ns || !b.ans_ns || !b.ans_rst || !lat) {
		fprintf(stderr, "bench_syn: calloc %u entries: out of memory\n",
		    b.count);
		return 1;
	}

	if ((tx_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) == -1) {
		perror("bench_syn: socket(AF_INET, SOCK_RAW, IPPROTO_RAW)");
		return 1;
	}
	if ((b.rx_fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP)) == -1) {
		perror("bench_syn: socket(AF_INET, SOCK_RAW, IPPROTO_TCP)");
		return 1;
	}
	/* A burst of answers must not overflow the default receive buffer. */
	if (setsockopt(b.rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz,
	    sizeof(bufsz)) == -1 &&
	    setsockopt(b.rx_fd, SOL_SOCKET, SO_RCVBUF, &bufsz,
	    sizeof(bufsz)) == -1)
		perror("bench_syn: setsockopt SO_RCVBUF (going on)");
	to.sin_addr.s_addr = htonl(b.dst);
	if (pthread_create(&rx, NULL, bench_syn_rx, &b) != 0) {
		fprintf(stderr, "bench_syn: pthread_create failed\n");
		return 1;
	}

	t0 = bench_syn_now_ns();
	for (i = 0; i < b.count; i++) {
		/* Pacing: wait for this SYN's slot on the rate's timeline. */
		if (b.rate > 0) {
			int64_t due = t0 + (int64_t)(i * 1e9 / b.rate), now;

			while ((now = bench_syn_now_ns()) < due) {
				if (due - now > 200000) {
					struct timespec ts = { 0, (due - now) -
					    100000 };
					nanosleep(&ts, NULL);
				}
			}
		}
		/*
		 * Window: at most b.window unanswered SYNs.  Lost SYNs would
		 * shrink it for good, so after a second without progress the
		 * sender goes on and counts a stall.
		 */
		while (i - atomic_load(&b.answered) >= b.window) {
			int64_t now = bench_syn_now_ns();
			uint32_t a = atomic_load(&b.answered);

			if (a != last_a || t_stall == 0) {
				last_a = a;
				t_stall = now;
			} else if (now - t_stall > 1000000000) {
				stalled++;
				t_stall = 0;
				break;
			}
			usleep(50);
		}
		bench_syn_build(&b, b.base + i * b.stride, 0x10000000u + i, pkt);
		b.sent_ns[i] = bench_syn_now_ns();
		if (sendto(tx_fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
		    sizeof(to)) != (ssize_t)sizeof(pkt)) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(100);
				i--;	/* try this address again */
				continue;
			}
			perror("bench_syn: sendto");
			b.sent_ns[i] = 0;
			break;
		}
	}
	t_last_send = bench_syn_now_ns();
	while (atomic_load(&b.answered) < i &&
	    bench_syn_now_ns() - t_last_send < (int64_t)b.wait_ms * 1000000)
		usleep(1000);
	atomic_store(&b.stop, 1);
	pthread_join(rx, NULL);

	for (uint32_t k = 0; k < i; k++) {
		if (b.ans_ns[k] == 0)
			continue;
		lat[nlat++] = b.ans_ns[k] - b.sent_ns[k];
		nrst += b.ans_rst[k];
		if (ontime_ms == 0 ||
		    b.ans_ns[k] - b.sent_ns[k] <= (int64_t)ontime_ms * 1000000) {
			if (b.ans_rst[k])
				rst_ontime++;
			else
				synack_ontime++;
		}
		if (b.ans_ns[k] > last_ans)
			last_ans = b.ans_ns[k];
	}
	qsort(lat, nlat, sizeof(*lat), bench_syn_cmp);
#define PCT(p) (nlat ? lat[(size_t)((nlat - 1) * (p))] / 1000 : -1)
	printf("bench_syn: sent=%u synack=%u rst=%u lost=%u stalls=%u "
	    "send_s=%.3f span_s=%.3f rate=%.0f p50_us=%lld p90_us=%lld "
	    "p99_us=%lld max_us=%lld synack_ontime=%u rst_ontime=%u "
	    "ontime_ms=%u\n",
	    i, nlat - nrst, nrst, i - nlat, stalled,
	    (t_last_send - t0) / 1e9,
	    nlat ? (last_ans - t0) / 1e9 : 0.0,
	    nlat && last_ans > t0 ? nlat / ((last_ans - t0) / 1e9) : 0.0,
	    (long long)PCT(0.50), (long long)PCT(0.90), (long long)PCT(0.99),
	    (long long)PCT(1.0), synack_ontime, rst_ontime, ontime_ms);
#undef PCT
	free(b.sent_ns);
	free(b.ans_ns);
	free(b.ans_rst);
	free(lat);
	close(tx_fd);
	close(b.rx_fd);
	return 0;
}
