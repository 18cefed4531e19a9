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
Exit 0 when the server's banner came (mode halfopen: when at least 100
connections were established), 1 otherwise.
"""
import argparse, ipaddress, os, socket, sys, time


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--helo", default="localhost")
    ap.add_argument("mode")
    ap.add_argument("n", nargs="?", type=int, default=0)
    a = ap.parse_args()
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
