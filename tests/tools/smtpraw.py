#!/usr/bin/env python3
"""smtpraw.py - a deliberately odd SMTP client for the sniffer's tests.

  smtpraw.py --src ADDR --dst ADDR MODE

Modes (each waits for the banner, then):
  second-helo   EHLO localhost, then EHLO mail59.clean.test, QUIT
  starttls      EHLO mail60.clean.test, STARTTLS, then HELO localhost as
                if the stream were still plaintext, QUIT
  trickle       "HELO localhost\\r\\n" one byte per TCP segment, QUIT
  split         "HE" / "LO local" / "host\\r\\nQUIT\\r\\n" in three segments
  longline      EHLO and 100 KB without CR LF, then CR LF, HELO localhost,
                QUIT
  nul           "HELO mail\\0.clean.test\\r\\n", QUIT
  garbage       EHLO garbage.example, then 64 KB of random bytes
  pipeline      EHLO, MAIL FROM:<x@nosuch.test>, RCPT, RSET, QUIT in one
                segment
  cut           EHLO --helo NAME (default localhost), then wait up to 4 s
                for the server's side: exit 0 on a TCP reset, 1 otherwise
  halfopen N    start N connections at once (sources ADDR+i, i < 200),
                send half a command line on each, hold them 4 s, close
  trickle-long  "EHLO " and a 40-character name one byte per segment, more
                segments than the sniffer's window, then QUIT
  noop-first    NOOP, then EHLO --helo NAME, QUIT
  rset-first    RSET, then EHLO --helo NAME, QUIT
  junk-first    an unknown word and an empty line, then EHLO --helo NAME
  noop-pad      64 NOOPs and EHLO --helo NAME in one segment, QUIT

Raw modes: the client's TCP is this program (raw sockets out, a packet
socket in, its own sequence numbers; an nft rule in the client's namespace
keeps the kernel from resetting the connection it does not know), so
segments can go out of order, overlap, or leave a gap:
  raw-ooo-filled  "EH", then "alhost\\r\\n" beyond a gap, then "LO loc"
                  filling it: the server reads "EHLO localhost"
  raw-tail-first  "alhost\\r\\n" first, then "EHLO loc" before it
  raw-gap         "EHLO loc", then "host\\r\\n" two bytes further on, never
                  filling the gap, then FIN
  raw-overlap     "EHLO lo", "localh", "lhost\\r\\n" overlapping each other
  raw-trickle-acks "EHLO " and a 40-character name one byte per segment,
                  each followed by two duplicate ACKs (not queued to the
                  sniffer: its own count of the window is short), then RST
Exit 0 when the server's banner came (mode halfopen: when at least 100
connections were established), 1 otherwise.
"""
import argparse, ipaddress, os, random, select, socket, struct, subprocess, sys, time


def connect(src, dst, timeout=5):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((dst, 25))
    return s


def banner(s):
    data = b""
    while b"\n" not in data:
        b = s.recv(4096)
        if not b:
            return False
        data += b
    return data.startswith(b"220")


def send(s, *parts, gap=0.02):
    for p in parts:
        s.sendall(p)
        time.sleep(gap)


def drain(s, t=0.3):
    s.settimeout(t)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass


def csum(data):
    if len(data) % 2:
        data += b"\0"
    v = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while v >> 16:
        v = (v & 0xFFFF) + (v >> 16)
    return (~v) & 0xFFFF


class RawTCP:
    """One client connection whose every segment this program writes."""
    FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
    MARK = 0x5352

    def __init__(self, src, dst, port=25):
        self.src, self.dst, self.port = src, dst, port
        self.v6 = ":" in dst
        self.fam = socket.AF_INET6 if self.v6 else socket.AF_INET
        self.sport = random.randint(40000, 59999)
        self.isn = random.randint(0, 0xFFFFFFFF)
        self.rcv_nxt = 0
        self.table = "smtpraw%d" % self.sport
        # The kernel knows no socket of ours: without this it would reset
        # the server's SYN-ACK.
        subprocess.run(["nft", "-f", "-"], check=True, input=(
            "table inet %s {\n chain out {\n"
            "  type filter hook output priority 0; policy accept;\n"
            "  tcp sport %d tcp flags & rst == rst meta mark != %d drop\n"
            " }\n}\n" % (self.table, self.sport, self.MARK)).encode())
        self.out = socket.socket(self.fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
        # Our own reset at the end must pass that rule.
        self.out.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, self.MARK)
        self.inp = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                 socket.htons(0x0003))

    def close(self):
        subprocess.run(["nft", "delete", "table", "inet", self.table],
                       stderr=subprocess.DEVNULL)
        self.out.close()
        self.inp.close()

    def segment(self, off, flags, payload=b"", opts=b""):
        """Send bytes at stream offset off (0: the first data byte)."""
        seq = (self.isn + 1 + off) & 0xFFFFFFFF if not flags & self.SYN else self.isn
        ack = self.rcv_nxt if flags & self.ACK else 0
        doff = 5 + len(opts) // 4
        tcp = struct.pack("!HHIIBBHHH", self.sport, self.port, seq, ack,
                          doff << 4, flags, 64240, 0, 0) + opts + payload
        s = socket.inet_pton(self.fam, self.src)
        d = socket.inet_pton(self.fam, self.dst)
        if self.v6:
            pseudo = s + d + struct.pack("!I3xB", len(tcp), 6)
        else:
            pseudo = s + d + struct.pack("!xBH", 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        if self.v6:
            pkt = struct.pack("!IHBB16s16s", 0x60000000, len(tcp), 6, 64, s, d) + tcp
            self.out.sendto(pkt, (self.dst, 0, 0, 0))
        else:
            h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x4242,
                            0x4000, 64, 6, 0, s, d)
            h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
            self.out.sendto(h + tcp, (self.dst, 0))

    def receive(self, timeout):
        """The next segment from the server to us: (flags, seq, payload)."""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.inp], [], [], max(0, end - time.time()))
            if not r:
                break
            data, addr = self.inp.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            if self.v6:
                if addr[1] != 0x86DD or len(data) < 60 or data[6] != 6:
                    continue
                src, hl = socket.inet_ntop(self.fam, data[8:24]), 40
                total = 40 + struct.unpack("!H", data[4:6])[0]
            else:
                if addr[1] != 0x0800 or len(data) < 40 or data[9] != 6:
                    continue
                src, hl = socket.inet_ntop(self.fam, data[12:16]), (data[0] & 15) * 4
                total = struct.unpack("!H", data[2:4])[0]
            t = data[hl:total]
            sport, dport, seq, _ack, doff, flags = struct.unpack("!HHIIBB", t[:14])
            if src != self.dst or sport != self.port or dport != self.sport:
                continue
            return flags, seq, t[(doff >> 4) * 4:]
        return None

    def connect(self):
        """Handshake, then the banner (acknowledged); True when it came."""
        self.segment(0, self.SYN, opts=b"\x02\x04\x05\xb4")
        while True:
            got = self.receive(3)
            if got is None:
                return False
            flags, seq, _ = got
            if flags & (self.SYN | self.ACK) == self.SYN | self.ACK:
                break
        self.rcv_nxt = (seq + 1) & 0xFFFFFFFF
        self.segment(0, self.ACK)
        banner = b""
        while b"\n" not in banner:
            got = self.receive(5)
            if got is None:
                return False
            flags, seq, data = got
            if data and seq == self.rcv_nxt:
                banner += data
                self.rcv_nxt = (seq + len(data)) & 0xFFFFFFFF
                self.segment(0, self.ACK)
        return banner.startswith(b"220")

    def data(self, off, payload, gap=0.05):
        self.segment(off, self.PSH | self.ACK, payload)
        time.sleep(gap)


def raw_mode(a):
    """The raw modes: 0 when the banner came and everything was sent."""
    c = RawTCP(a.src, a.dst)
    try:
        if not c.connect():
            return 1
        m = a.mode
        if m == "raw-ooo-filled":
            c.data(0, b"EH")
            c.data(8, b"alhost\r\n")
            c.data(2, b"LO loc")
            c.data(16, b"QUIT\r\n")
            c.segment(22, c.FIN | c.ACK)
        elif m == "raw-tail-first":
            c.data(8, b"alhost\r\n")
            c.data(0, b"EHLO loc")
            c.data(16, b"QUIT\r\n")
            c.segment(22, c.FIN | c.ACK)
        elif m == "raw-gap":
            c.data(0, b"EHLO loc")
            c.data(10, b"host\r\n")
            c.segment(16, c.FIN | c.ACK)
        elif m == "raw-overlap":
            c.data(0, b"EHLO lo")
            c.data(5, b"localh")
            c.data(9, b"lhost\r\n")
            c.data(16, b"QUIT\r\n")
            c.segment(22, c.FIN | c.ACK)
        elif m == "raw-trickle-acks":
            line = b"EHLO " + b"a" * 40 + b"\r\n"
            for i in range(len(line)):
                c.data(i, line[i:i + 1], gap=0.005)
                for _ in range(2):
                    c.segment(i + 1, c.ACK)
            time.sleep(0.1)
        else:
            print("unknown mode " + m, file=sys.stderr)
            return 2
        time.sleep(0.2)
        return 0
    finally:
        # Leave nothing half open on the server.
        c.segment(1 << 20, c.RST)
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--helo", default="localhost")
    ap.add_argument("mode")
    ap.add_argument("n", nargs="?", type=int, default=0)
    a = ap.parse_args()
    if a.mode.startswith("raw-"):
        return raw_mode(a)
    if a.mode == "halfopen":
        # Non-blocking connects: the handshakes complete (or not) in
        # parallel; the sessions then stay silent.
        base = ipaddress.ip_address(a.src)
        fam = socket.AF_INET6 if ":" in a.dst else socket.AF_INET
        socks = []
        for i in range(a.n):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((str(base + (i % 200)), 0))
            s.connect_ex((a.dst, 25))
            socks.append(s)
        time.sleep(1.5)
        up = 0
        for s in socks:
            try:
                s.getpeername()
                # Half a command: the sniffer must hold it, bounded.
                s.send(b"EHLO half-open.example")
                up += 1
            except OSError:
                pass
        time.sleep(2.5)
        for s in socks:
            s.close()
        print("connected %d of %d" % (up, a.n))
        return 0 if up >= 100 else 1
    s = connect(a.src, a.dst)
    if not banner(s):
        return 1
    m = a.mode
    if m == "second-helo":
        send(s, b"EHLO localhost\r\n", b"EHLO mail59.clean.test\r\n", b"QUIT\r\n", gap=0.1)
    elif m == "starttls":
        send(s, b"EHLO mail60.clean.test\r\n", b"STARTTLS\r\n", b"HELO localhost\r\n", b"QUIT\r\n", gap=0.1)
    elif m == "trickle":
        send(s, *[bytes([c]) for c in b"HELO localhost\r\n"], gap=0.01)
        send(s, b"QUIT\r\n")
    elif m == "split":
        send(s, b"HE", b"LO local", b"host\r\nQUIT\r\n", gap=0.05)
    elif m == "longline":
        send(s, b"EHLO " + b"X" * 102400, b"\r\nHELO localhost\r\nQUIT\r\n", gap=0.1)
    elif m == "nul":
        send(s, b"HELO mail\x00.clean.test\r\nQUIT\r\n")
    elif m == "garbage":
        send(s, b"EHLO garbage.example\r\n" + os.urandom(65536))
    elif m == "trickle-long":
        send(s, *[bytes([c]) for c in b"EHLO " + b"a" * 40 + b"\r\n"], gap=0.01)
        send(s, b"QUIT\r\n")
    elif m in ("noop-first", "rset-first", "junk-first"):
        first = {"noop-first": b"NOOP\r\n", "rset-first": b"RSET\r\n",
                 "junk-first": b"XYZZY\r\n\r\n"}[m]
        send(s, first, b"EHLO " + a.helo.encode() + b"\r\n", b"QUIT\r\n", gap=0.1)
    elif m == "noop-pad":
        send(s, b"NOOP\r\n" * 64 + b"EHLO " + a.helo.encode() + b"\r\nQUIT\r\n")
    elif m == "pipeline":
        send(s, b"EHLO mail61.clean.test\r\nMAIL FROM:<x@nosuch.test>\r\n"
             b"RCPT TO:<postmaster@example.test>\r\nRSET\r\nQUIT\r\n")
    elif m == "cut":
        s.sendall(b"EHLO " + a.helo.encode() + b"\r\n")
        s.settimeout(4)
        try:
            while True:
                if not s.recv(4096):
                    print("cut: closed without a reset")
                    return 1
        except ConnectionResetError:
            print("cut: reset")
            return 0
        except socket.timeout:
            print("cut: still open after 4 s")
            return 1
    else:
        print("unknown mode " + m, file=sys.stderr)
        return 2
    drain(s)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
