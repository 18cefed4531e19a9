#!/usr/bin/python3
"""dnsproxy.py - a UDP DNS forwarder that delays or swallows chosen queries.

The test world's unbound answers at once; tests need a resolver that is slow
(so several SYNs of one client arrive before the verdict) or never answers
(so the daemon's deadline decides).  Queries whose name contains one of the
--match strings (all queries when none is given) are delayed by --delay-ms,
or never answered with --blackhole; the rest are forwarded at once.

  dnsproxy.py --listen 127.0.0.4:53 --upstream 127.0.0.1:53 [--delay-ms N]
              [--blackhole] [--match TEXT]... [--log]

With --log every query is written to stderr as "query NAME TYPE".

Runs in the foreground until killed.  Malformed queries are dropped.
"""
import argparse
import heapq
import select
import socket
import sys
import time


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def qname(pkt):
    """The question name of a DNS message, lowercase, or None if malformed."""
    if len(pkt) < 12:
        return None
    i, labels = 12, []
    while i < len(pkt):
        n = pkt[i]
        if n == 0:
            return ".".join(labels).lower()
        if n & 0xC0 or i + 1 + n > len(pkt):
            return None
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return None


def qtype(pkt):
    """The question type of a well-formed query (after qname)."""
    i = 12
    while i < len(pkt) and pkt[i] != 0:
        i += 1 + pkt[i]
    if i + 3 > len(pkt):
        return 0
    return int.from_bytes(pkt[i + 1:i + 3], "big")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", default="127.0.0.1:53")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--blackhole", action="store_true")
    ap.add_argument("--match", action="append", default=[])
    ap.add_argument("--log", action="store_true")
    a = ap.parse_args()

    lhost, lport = hostport(a.listen)
    uhost, uport = hostport(a.upstream)
    fam = socket.AF_INET6 if ":" in lhost else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_DGRAM)
    srv.bind((lhost, lport))
    ufam = socket.AF_INET6 if ":" in uhost else socket.AF_INET
    up = socket.socket(ufam, socket.SOCK_DGRAM)
    up.connect((uhost, uport))
    # Upstream answers are matched back by (new id) -> (client, old id).
    pending = {}
    next_id = 1
    timers = []  # (due, seq, query, client)
    seq = 0
    print("dnsproxy: listening on %s, upstream %s, delay %d ms%s, match %s" %
          (a.listen, a.upstream, a.delay_ms, " blackhole" if a.blackhole else "",
           a.match or "all"), file=sys.stderr, flush=True)

    def forward(q, client):
        nonlocal next_id
        nid = next_id
        next_id = next_id % 65535 + 1
        pending[nid] = (client, q[:2], time.monotonic())
        up.send(nid.to_bytes(2, "big") + q[2:])

    while True:
        now = time.monotonic()
        timeout = max(0.0, timers[0][0] - now) if timers else 1.0
        r, _, _ = select.select([srv, up], [], [], timeout)
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, q, client = heapq.heappop(timers)
            forward(q, client)
        if srv in r:
            q, client = srv.recvfrom(65535)
            name = qname(q)
            if name is None:
                continue
            if a.log:
                qt = qtype(q)
                print("query %s %s" % (name, qt), file=sys.stderr, flush=True)
            hit = not a.match or any(m.lower() in name for m in a.match)
            if hit and a.blackhole:
                continue
            if hit and a.delay_ms > 0:
                seq += 1
                heapq.heappush(timers, (now + a.delay_ms / 1000.0, seq, q, client))
            else:
                forward(q, client)
        if up in r:
            try:
                ans = up.recv(65535)
            except OSError:
                continue
            if len(ans) < 12:
                continue
            nid = int.from_bytes(ans[:2], "big")
            ent = pending.pop(nid, None)
            if ent is None:
                continue
            client, oid, _ = ent
            srv.sendto(oid + ans[2:], client)
        # Forget queries upstream never answered.
        for k in [k for k, v in pending.items() if now - v[2] > 30]:
            del pending[k]


if __name__ == "__main__":
    main()
