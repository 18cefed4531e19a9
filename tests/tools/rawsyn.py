#!/usr/bin/python3
"""rawsyn.py - send odd and malformed TCP SYNs to port 25 through raw sockets.

  rawsyn.py SRC4-PREFIX DST4 SRC6-PREFIX DST6 [PORT]

Each case goes out from its own source address (SRC4-PREFIX + N, e.g.
"203.0.113.2" gives 203.0.113.200.., SRC6-PREFIX + N in hex), so a test can
tell which cases reached the daemon.  Prints one line per case:
"CASE SRC sent" or "CASE SRC error: ...".  Checksums are correct unless the
case is about them, so the packets are not discarded for that reason alone.
Needs CAP_NET_RAW; meant for the client namespace of the test world.
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp(src, dst, sport, dport, v6, doff=None, opts=b"", payload=b"",
        flags=0x02, truncate=None):
    """A TCP segment with a correct checksum over the pseudo header."""
    if doff is None:
        doff = 5 + (len(opts) + 3) // 4
    opts = opts + b"\0" * ((-len(opts)) % 4)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 0x1000, 0, doff << 4, flags,
                      64240, 0, 0) + opts
    seg = hdr + payload
    if truncate is not None:
        seg = seg[:truncate]
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    s, d = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    if v6:
        pseudo = s + d + struct.pack("!I3xB", len(seg), 6)
    else:
        pseudo = s + d + struct.pack("!xBH", 6, len(seg))
    c = csum(pseudo + seg)
    if len(seg) >= 18:
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return seg


def ip4(src, dst, payload, opts=b"", proto=6):
    opts = opts + b"\0" * ((-len(opts)) % 4)
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(payload),
                    0x4242, 0x4000, 64, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nxt, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def ext(nxt, body):
    """A hop-by-hop or destination-options header padded with PadN."""
    body = body + b"\x01\x00" if (len(body) + 2) % 8 else body
    while (len(body) + 2) % 8:
        body += b"\0"
    return struct.pack("!BB", nxt, (len(body) + 2) // 8 - 1) + body


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    p4, dst4, p6, dst6 = sys.argv[1:5]
    port = int(sys.argv[5]) if len(sys.argv) > 5 else 25
    s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    n = [0]

    def src4():
        n[0] += 1
        return "%s%02d" % (p4, n[0])

    def src6():
        n[0] += 1
        return "%s%x" % (p6, 0x200 + n[0])

    cases = []
    a = src4()
    cases.append(("v4-ip-options-nop", a, ip4(a, dst4, tcp(a, dst4, 40001, port, False),
                                               opts=b"\x01\x01\x01\x00")))
    a = src4()
    rr = b"\x07\x27\x04" + b"\0" * 36     # record route, 9 slots: IHL 15
    cases.append(("v4-ip-options-rr-ihl15", a, ip4(a, dst4, tcp(a, dst4, 40002, port, False), opts=rr)))
    a = src4()
    cases.append(("v4-tcp-doff4", a, ip4(a, dst4, tcp(a, dst4, 40003, port, False, doff=4))))
    a = src4()
    cases.append(("v4-tcp-doff15-truncated", a, ip4(a, dst4, tcp(a, dst4, 40004, port, False, doff=15))))
    a = src4()
    cases.append(("v4-tcp-bad-options", a, ip4(a, dst4, tcp(a, dst4, 40005, port, False,
                                                         opts=b"\x02\x00\x08\xff\x03\x01"))))
    a = src4()
    cases.append(("v4-tcp-header-cut-at-12", a, ip4(a, dst4, tcp(a, dst4, 40006, port, False, truncate=12))))
    a = src4()
    cases.append(("v4-syn-with-payload", a, ip4(a, dst4, tcp(a, dst4, 40007, port, False,
                                                         payload=b"EHLO x\r\n" * 20))))
    a = src4()
    cases.append(("v4-syn-fin", a, ip4(a, dst4, tcp(a, dst4, 40008, port, False, flags=0x03))))
    a = src4()
    cases.append(("v4-ok-mss", a, ip4(a, dst4, tcp(a, dst4, 40009, port, False,
                                               opts=b"\x02\x04\x05\xb4"))))
    a = src6()
    seg = tcp(a, dst6, 40101, port, True)
    cases.append(("v6-hbh-destopts", a, ip6(a, dst6, 0, ext(60, b"") + ext(6, b"") + seg)))
    a = src6()
    seg = tcp(a, dst6, 40102, port, True)
    cases.append(("v6-hbh-big-padn", a, ip6(a, dst6, 0, ext(6, b"\x01\x24" + b"\0" * 36) + seg)))
    a = src6()
    seg = tcp(a, dst6, 40103, port, True)
    frag = struct.pack("!BBHI", 6, 0, 0, 0x1234)      # atomic fragment
    cases.append(("v6-atomic-fragment", a, ip6(a, dst6, 44, frag + seg)))
    a = src6()
    cases.append(("v6-tcp-doff4", a, ip6(a, dst6, 6, tcp(a, dst6, 40104, port, True, doff=4))))
    a = src6()
    cases.append(("v6-tcp-doff15-truncated", a, ip6(a, dst6, 6, tcp(a, dst6, 40105, port, True, doff=15))))
    a = src6()
    cases.append(("v6-tcp-header-cut-at-10", a, ip6(a, dst6, 6, tcp(a, dst6, 40106, port, True, truncate=10))))
    a = src6()
    seg = tcp(a, dst6, 40107, port, True)
    cases.append(("v6-destopts-then-no-next", a, ip6(a, dst6, 60, ext(59, b"") + seg)))
    a = src6()
    cases.append(("v6-ok-plain", a, ip6(a, dst6, 6, tcp(a, dst6, 40108, port, True))))

    for name, src, pkt in cases:
        try:
            if ":" in src:
                s6.sendto(pkt, (dst6, 0, 0, 0))
            else:
                s4.sendto(pkt, (dst4, 0))
            print("%s %s sent" % (name, src))
        except OSError as e:
            print("%s %s error: %s" % (name, src, e))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
