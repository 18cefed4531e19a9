/*
 * nflog.c - one nfnetlink_log group on the event loop (contract in
 * nflog.h).  The messages are nflog_msg.c's; the socket is the netlink
 * module's (netlink.h): the config message is acked through nl_exchange,
 * and every packet message (sequence 0, answering nothing) reaches
 * nflog_other.
 *
 * Hazards (measured here, NOTES.md and docs/smtpgate-sniffd.8):
 *  - The kernel keeps copies in a batch until NFLOG_QTHRESH of them, its
 *    buffer or its flush timer (a second by default; 10 ms here) go off,
 *    and sends the batch as one datagram of up to NFLOG_NLBUFSIZ bytes:
 *    the socket reads datagrams of that size.  A rule's own
 *    queue-threshold would override ours: the rules set none.
 *  - Copies of the output and postrouting hooks carry no kernel time
 *    (nfnetlink_log stamps only the hooks up to forward): the reader's
 *    own time of reading is the only one, so the event loop must read
 *    the socket promptly, and the caller must treat those times as
 *    upper bounds.
 *  - Closing the socket unbinds the group (the kernel frees the
 *    instances of a closed port id).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "log.h"
#include "netlink.h"
#include "nflog.h"

#define NFLOG_BURST		256	/* datagrams per readable event */
#define NFLOG_MSG_OVERHEAD	1024	/* a packet message beyond its copy */
#define NFLOG_ACK_TIMEOUT_MS	2000
#define NFLOG_RCVBUF		(4 << 20)	/* bursts of SYN-ACKs */

struct nflog {
	struct evloop *ev;
	struct nl_sock *nl;
	int fd;
	bool registered;	/* fd is in the event loop */
	bool running;		/* bound: copies go to the callback */
	uint16_t group;
	nflog_cb cb;
	void *arg;
	uint64_t malformed;	/* ours; the socket counts its own */
	struct nflog_stats st;
};

static void
nflog_other(void *arg, const struct nlmsghdr *nlh)
{
	struct nflog *l = arg;
	struct nflog_packet p;
	const char *why;

	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;		/* nothing of ours is unacked: not ours */
	if (nflog_parse(nlh, &p, &why) == -1) {
		if (l->malformed++ == 0)
			log_warnx("nflog: group %u: a message we cannot read "
			    "(%s); counted in nflog_malformed", l->group, why);
		return;
	}
	if (!l->running)
		return;
	l->st.packets++;
	l->cb(l->arg, &p, evloop_clock_us());
}

static void
nflog_sync_stats(struct nflog *l)
{
	const struct nl_stats *ns = nl_stats(l->nl);

	l->st.enobufs = ns->enobufs;
	l->st.malformed = l->malformed + ns->malformed;
}

static void
nflog_readable(int fd, uint32_t events, void *arg)
{
	struct nflog *l = arg;

	(void)fd;
	(void)events;
	(void)nl_process(l->nl, NFLOG_BURST);
	nflog_sync_stats(l);
}

struct nflog *
nflog_open(struct evloop *ev, uint16_t group, uint32_t copy, nflog_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct nl_batch *b = NULL;
	struct nflog *l;
	char why[256];

	if (cb == NULL || copy == 0 || copy > 65535) {
		snprintf(err, errlen, "nflog: group %u: %s", group, cb == NULL ?
		    "no callback" : "copy range not 1..65535");
		errno = EINVAL;
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "nflog: group %u: calloc: %s", group,
		    strerror(errno));
		return NULL;
	}
	l->ev = ev;
	l->group = group;
	l->cb = cb;
	l->arg = arg;
	l->nl = nl_open(NETLINK_NETFILTER, NFLOG_NLBUFSIZ + copy +
	    NFLOG_MSG_OVERHEAD, why, sizeof(why));
	if (l->nl == NULL) {
		snprintf(err, errlen, "nflog: group %u: %s", group, why);
		goto fail;
	}
	l->fd = nl_fd(l->nl);
	nl_set_other(l->nl, nflog_other, l);
	(void)nl_set_rcvbuf(l->nl, NFLOG_RCVBUF);
	if ((b = nl_batch_new(NL_FRAME_NONE)) == NULL) {
		snprintf(err, errlen, "nflog: group %u: malloc: %s", group,
		    strerror(errno));
		goto fail;
	}
	(void)nflog_config_build(b, group, copy);
	if (nl_exchange(l->nl, b, NULL, NULL, NFLOG_ACK_TIMEOUT_MS, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "nflog: %s%s", why, errno == EPERM ?
		    " (needs CAP_NET_ADMIN)" : errno == EBUSY ?
		    " (another listener holds the group)" : "");
		goto fail;
	}
	nl_batch_free(b);
	b = NULL;
	if (evloop_fd_add(ev, l->fd, EPOLLIN, nflog_readable, l) == -1) {
		snprintf(err, errlen, "nflog: group %u: evloop_fd_add: %s",
		    group, strerror(errno));
		goto fail;
	}
	l->registered = true;
	l->running = true;
	return l;
fail:
	nl_batch_free(b);
	nl_close(l->nl);
	free(l);
	return NULL;
}

void
nflog_close(struct nflog *l)
{
	if (l == NULL)
		return;
	if (l->registered)
		(void)evloop_fd_del(l->ev, l->fd);
	nl_close(l->nl);
	free(l);
}

const struct nflog_stats *
nflog_stats(const struct nflog *l)
{
	return &l->st;
}
