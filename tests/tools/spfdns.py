#!/usr/bin/python3
"""spfdns.py - an authoritative DNS server for SPF test zones.

Serves one scenario of the openspf.org RFC 7208 test suite (or any zone in
its format) over UDP and TCP, so that the SPF path under test resolves the
scenario's records exactly as written, hostile ones included:

  spfdns.py --listen 127.0.0.1:5353 --suite FILE.yml --scenario N
  spfdns.py --listen 127.0.0.1:5353 --zone FILE.yml    (a bare zonedata map)

Zone semantics, as the suite's own drivers (pyspf's testspf.py) apply them:
  - records SPF, TXT, A, AAAA, MX [pref, host], PTR, CNAME; a TXT or SPF
    value that is a list is one record of several strings;
  - an SPF record also serves as a TXT record of the same name unless the
    name has TXT records of its own; "TXT: NONE" means no TXT at all;
  - TIMEOUT: queries for the name of a type it has no records of go
    unanswered (so "TXT: ...; TIMEOUT" times out only the SPF type);
  - names match without regard to case; CNAMEs are followed.
A UDP answer over 512 bytes is sent truncated (TC) so the client retries
over TCP.  Prints "listening" on stderr when ready; runs until killed.
"""
import argparse
import select
import socket
import struct
import sys

import yaml

T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
     "AAAA": 28, "SPF": 99}


def enc(s):
    """A YAML string as DNS bytes: latin-1 where it fits, else UTF-8."""
    if isinstance(s, bytes):
        return s
    s = str(s)
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def name_wire(name):
    out = b""
    for label in enc(name).rstrip(b".").split(b"."):
        if not label:
            continue
        out += bytes([min(len(label), 63)]) + label[:63]
    return out + b"\0"


def txt_wire(v):
    parts = v if isinstance(v, list) else [v]
    if not parts:
        parts = [""]
    out = b""
    for p in parts:
        b = enc(p)
        while True:
            out += bytes([min(len(b), 255)]) + b[:255]
            b = b[255:]
            if not b:
                break
    return out


class Zone:
    def __init__(self, data):
        self.rr = {}         # (name, type) -> [rdata bytes]
        self.cname = {}      # name -> target
        self.timeout = set()
        self.names = set()
        for name, recs in (data or {}).items():
            n = str(name).lower().rstrip(".")
            self.names.add(n)
            txt_own = False
            spf = []
            for r in recs or []:
                if r == "TIMEOUT":
                    self.timeout.add(n)
                    continue
                (k, v), = r.items()
                if k == "TXT":
                    txt_own = True
                    if v == "NONE":
                        continue
                if k == "SPF":
                    if v == "NONE":
                        continue
                    spf.append(v)
                self.add(n, k, v)
            if not txt_own:
                for v in spf:
                    self.add(n, "TXT", v)

    def add(self, n, k, v):
        if k == "CNAME":
            self.cname[n] = str(v).lower().rstrip(".")
            return
        if k == "A":
            for a in (v if isinstance(v, list) else [v]):
                self.rr.setdefault((n, 1), []).append(
                    socket.inet_pton(socket.AF_INET, a))
        elif k == "AAAA":
            for a in (v if isinstance(v, list) else [v]):
                self.rr.setdefault((n, 28), []).append(
                    socket.inet_pton(socket.AF_INET6, a))
        elif k == "MX":
            pref, host = v
            self.rr.setdefault((n, 15), []).append(
                struct.pack("!H", int(pref)) + name_wire(host))
        elif k == "PTR":
            self.rr.setdefault((n, 12), []).append(name_wire(v))
        elif k in ("TXT", "SPF"):
            self.rr.setdefault((n, T[k]), []).append(txt_wire(v))

    def exists(self, n):
        if n in self.names:
            return True
        return any(x.endswith("." + n) for x in self.names)

    def answer(self, qname, qtype):
        """(rcode, [(name, type, rdata)]) or None for a timeout."""
        n = qname.lower().rstrip(".")
        out = []
        for _ in range(10):
            # TIMEOUT: queries of the types the name has no records of
            # go unanswered (the suite's "TXT ...; TIMEOUT": SPF times out).
            if n in self.timeout and not self.rr.get((n, qtype)):
                return None
            if n in self.cname and qtype != 5:
                out.append((n, 5, name_wire(self.cname[n])))
                n = self.cname[n]
                continue
            break
        recs = self.rr.get((n, qtype), [])
        for rd in recs:
            out.append((n, qtype, rd))
        if out:
            return 0, out
        return (0 if self.exists(n) else 3), out


def parse_query(pkt):
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1 or flags & 0x8000:
        return None
    i, labels = 12, []
    while i < len(pkt):
        ln = pkt[i]
        if ln == 0:
            i += 1
            break
        if ln & 0xC0 or i + 1 + ln > len(pkt):
            return None
        labels.append(pkt[i + 1:i + 1 + ln].decode("latin-1"))
        i += 1 + ln
    if i + 4 > len(pkt):
        return None
    qtype, qclass = struct.unpack("!HH", pkt[i:i + 4])
    return qid, flags, ".".join(labels), qtype, pkt[12:i + 4]


def build(q, res, tcp):
    qid, flags, qname, qtype, question = q
    rcode, rrs = res
    rd = flags & 0x0100
    body = b""
    for n, t, rdata in rrs:
        body += name_wire(n) + struct.pack("!HHIH", t, 1, 60, len(rdata)) + rdata
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, len(rrs), 0, 0)
    msg = hdr + question + body
    if not tcp and len(msg) > 512:
        return struct.pack("!HHHHHH", qid, 0x8600 | rd | rcode, 1, 0, 0, 0) + question
    return msg


def serve(zone, listen, ready=None, stop=None):
    """Answer from zone on listen ("ADDR:PORT") until stop is set."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    # No SO_REUSEADDR on UDP: a second server on a port in use must fail,
    # not share it.  Port 0 picks a free one (given to ready).
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((host, int(port)))
    port = u.getsockname()[1]
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((host, port))
    t.listen(64)
    conns = {}
    if ready is not None:
        ready(port)
    while stop is None or not stop.is_set():
        r, _, _ = select.select([u, t] + list(conns), [], [], 0.2)
        for s in r:
            if s is u:
                pkt, peer = u.recvfrom(65535)
                q = parse_query(pkt)
                if q is None:
                    continue
                res = zone.answer(q[2], q[3])
                if res is not None:
                    u.sendto(build(q, res, False), peer)
            elif s is t:
                c, _ = t.accept()
                conns[c] = b""
            else:
                try:
                    d = s.recv(65535)
                except OSError:
                    d = b""
                if not d:
                    s.close()
                    del conns[s]
                    continue
                buf = conns[s] + d
                while len(buf) >= 2:
                    ln = struct.unpack("!H", buf[:2])[0]
                    if len(buf) < 2 + ln:
                        break
                    q = parse_query(buf[2:2 + ln])
                    buf = buf[2 + ln:]
                    if q is None:
                        continue
                    res = zone.answer(q[2], q[3])
                    if res is not None:
                        m = build(q, res, True)
                        s.sendall(struct.pack("!H", len(m)) + m)
                conns[s] = buf
    for s in [u, t] + list(conns):
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--suite")
    ap.add_argument("--scenario", type=int, default=0)
    ap.add_argument("--zone")
    a = ap.parse_args()
    if a.suite:
        docs = list(yaml.safe_load_all(open(a.suite, encoding="utf-8")))
        zone = Zone(docs[a.scenario].get("zonedata"))
    else:
        zone = Zone(yaml.safe_load(open(a.zone, encoding="utf-8")))
    serve(zone, a.listen, ready=lambda port: print(
        "spfdns: listening on port %d" % port, file=sys.stderr, flush=True))


if __name__ == "__main__":
    main()
