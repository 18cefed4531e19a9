#!/usr/bin/python3
"""dnsproxy.py - a UDP DNS forwarder that delays, swallows or spoils chosen
queries.

The test world's unbound answers at once and correctly; tests need a
resolver that is slow (so several SYNs of one client arrive before the
verdict), that never answers (so the daemon's deadline decides), or that is
hostile.  A query's name is matched by substring (case-insensitive):

  --match TEXT      with --delay-ms N: answer N ms late; with --blackhole:
                    never answer (no --match: every query)
  --servfail TEXT   answer SERVFAIL at once
  --truncate TEXT   answer at once with an empty answer and the TC bit, so
                    the resolver library retries over TCP; every TCP
                    connection to the listen address is accepted and closed
                    at once without reading it
  --ptr TEXT=NAME   answer a PTR record whose target is NAME, written in
                    DNS presentation format: \\DDD is the byte DDD
                    (decimal), \\X is X itself (\\. a dot inside a label),
                    an unescaped dot ends a label.  "mail\\000x.example"
                    has a NUL byte in its first label.

The first rule that matches (in the order above: servfail, truncate, ptr,
then match) decides; the rest are forwarded at once.  Each spoiled answer
and each closed TCP connection is logged on stderr ("servfail NAME",
"truncated NAME", "ptr NAME", "tcp closed"), so a test can count them.

  dnsproxy.py --listen 127.0.0.4:53 --upstream 127.0.0.1:53 [--delay-ms N]
              [--blackhole] [--match TEXT]... [--servfail TEXT]...
              [--truncate TEXT]... [--ptr TEXT=NAME]... [--log]

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


def question_end(pkt):
    """Offset just past the question name, or None if malformed."""
    i = 12
    while i < len(pkt):
        n = pkt[i]
        if n == 0:
            return i + 1
        if n & 0xC0:
            return None
        i += 1 + n
    return None


def qname(pkt):
    """The question name of a DNS message, lowercase, or None if malformed."""
    if len(pkt) < 12 or question_end(pkt) is None:
        return None
    i, labels = 12, []
    while pkt[i] != 0:
        n = pkt[i]
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels).lower()


def wire_name(text):
    """A name in presentation format (escapes as in the module doc) as
    wire-format bytes."""
    labels, cur, i = [], bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
                cur.append(int(text[i + 1:i + 4]))
                i += 4
            else:
                cur += text[i + 1].encode("latin-1")
                i += 2
            continue
        if c == ".":
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += c.encode("latin-1")
        i += 1
    if cur:
        labels.append(bytes(cur))
    out = b"".join(bytes([len(lab)]) + lab for lab in labels)
    return out + b"\0"


def answer(q, rcode=0, tc=False, rdata_ptr=None):
    """A reply to query q: the question copied, at most one PTR record."""
    end = question_end(q)
    if end is None or end + 4 > len(q):
        return None
    flags = 0x8000 | (q[2] & 0x79) << 8 | 0x80 | rcode  # QR, opcode, RD; RA
    if tc:
        flags |= 0x0200
    an = 1 if rdata_ptr is not None else 0
    msg = q[:2] + flags.to_bytes(2, "big") + b"\0\1" + an.to_bytes(2, "big") \
        + b"\0\0\0\0" + q[12:end + 4]
    if rdata_ptr is not None:
        rd = wire_name(rdata_ptr)
        msg += b"\xc0\x0c\0\x0c\0\x01\0\0\0\0" + len(rd).to_bytes(2, "big") + rd
    return msg


def qtype(pkt):
    """The question type of a well-formed query, or 0."""
    end = question_end(pkt)
    if end is None or end + 2 > len(pkt):
        return 0
    return int.from_bytes(pkt[end:end + 2], "big")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", default="127.0.0.1:53")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--blackhole", action="store_true")
    ap.add_argument("--match", action="append", default=[])
    ap.add_argument("--servfail", action="append", default=[])
    ap.add_argument("--truncate", action="append", default=[])
    ap.add_argument("--ptr", action="append", default=[])
    ap.add_argument("--log", action="store_true")
    a = ap.parse_args()
    ptrs = []
    for p in a.ptr:
        m, sep, name = p.partition("=")
        if not sep or not m:
            ap.error("--ptr wants TEXT=NAME, got %r" % p)
        ptrs.append((m.lower(), name))

    lhost, lport = hostport(a.listen)
    uhost, uport = hostport(a.upstream)
    fam = socket.AF_INET6 if ":" in lhost else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_DGRAM)
    srv.bind((lhost, lport))
    tcp = socket.socket(fam, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((lhost, lport))
    tcp.listen(64)
    ufam = socket.AF_INET6 if ":" in uhost else socket.AF_INET
    up = socket.socket(ufam, socket.SOCK_DGRAM)
    up.connect((uhost, uport))
    # Upstream answers are matched back by (new id) -> (client, old id).
    pending = {}
    next_id = 1
    timers = []  # (due, seq, query, client)
    seq = 0
    print("dnsproxy: listening on %s, upstream %s, delay %d ms%s, match %s, "
          "servfail %s, truncate %s, ptr %s" %
          (a.listen, a.upstream, a.delay_ms, " blackhole" if a.blackhole else "",
           a.match or "all", a.servfail, a.truncate, ptrs),
          file=sys.stderr, flush=True)

    def log(what):
        print("dnsproxy: %s" % what, file=sys.stderr, flush=True)

    def forward(q, client):
        nonlocal next_id
        nid = next_id
        next_id = next_id % 65535 + 1
        pending[nid] = (client, q[:2], time.monotonic())
        up.send(nid.to_bytes(2, "big") + q[2:])

    def spoil(q, name, client):
        """Answer q ourselves if a hostile rule matches; True if done."""
        msg = None
        if any(m.lower() in name for m in a.servfail):
            msg, what = answer(q, rcode=2), "servfail"
        elif any(m.lower() in name for m in a.truncate):
            msg, what = answer(q, tc=True), "truncated"
        else:
            for m, target in ptrs:
                if m in name:
                    msg, what = answer(q, rdata_ptr=target), "ptr"
                    break
        if msg is None:
            return False
        srv.sendto(msg, client)
        log("%s %s" % (what, name))
        return True

    while True:
        now = time.monotonic()
        timeout = max(0.0, timers[0][0] - now) if timers else 1.0
        r, _, _ = select.select([srv, up, tcp], [], [], timeout)
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, q, client = heapq.heappop(timers)
            forward(q, client)
        if tcp in r:
            try:
                conn, _ = tcp.accept()
                conn.close()
                log("tcp closed")
            except OSError:
                pass
        if srv in r:
            q, client = srv.recvfrom(65535)
            name = qname(q)
            if name is None:
                continue
            if a.log:
                qt = qtype(q)
                print("query %s %s" % (name, qt), file=sys.stderr, flush=True)
            if spoil(q, name, client):
                continue
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
