#!/usr/bin/env python3
"""smtpgreet.py - an SMTP client whose timing and line endings are chosen,
for the sniffer's protocol tests (pregreet, pipelining, non-SMTP
commands, bare LF).

  smtpgreet.py --src ADDR --dst ADDR [--port N] [--helo NAME] MODE

Each write is one TCP segment (TCP_NODELAY, small writes).  Modes:
  pregreet    EHLO at once after connecting, before the banner; then the
              banner and EHLO's reply, QUIT
  early N     EHLO N ms after connecting, without reading the banner
              first (over a slow link: after the banner left the server,
              before it can have arrived); then the banner, EHLO's reply,
              QUIT
  wait        the banner, EHLO, its reply, QUIT (the clean twin)
  pipe-ehlo   the banner, then EHLO and MAIL FROM in one segment, QUIT
  pipe-early  the banner, EHLO, and 0.2 s later MAIL FROM in a segment of
              its own, before EHLO's reply (against a server slow to
              answer EHLO), QUIT
  pipe-banner the banner, then NOOP and EHLO in one segment, QUIT
  pipe-reply  the banner, EHLO, its reply, then MAIL FROM, RCPT TO and
              RSET in one segment (allowed: after EHLO's reply), QUIT
  helo-pipe   the banner, HELO, its reply, then MAIL FROM and RCPT TO in
              one segment (HELO's reply offers no PIPELINING), QUIT
  helo-wait   the banner, HELO, its reply, MAIL FROM, its reply, QUIT
  http        the banner, then "GET / HTTP/1.0" and an empty line
  connect     the banner, then "CONNECT 192.0.2.9:25 HTTP/1.0" and an
              empty line
  bare-lf     the banner, "EHLO NAME\\n", its reply (a second at most),
              QUIT
  banner-ms N connect N times, one after the other (closing each
              without a command); print the median and the largest time
              from connect() returning to the banner's first byte, in ms:
              "banner_ms median=M max=X n=N"
Exit 0 when the server answered as expected (the banner came), 1
otherwise.
"""
import argparse
import socket
import sys
import time


def conn(a):
    fam = socket.AF_INET6 if ":" in a.dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    s.bind((a.src, 0))
    s.connect((a.dst, a.port))
    return s


class Reader:
    """The server's replies, line by line, whatever their segments."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def reply(self):
        """One SMTP reply (all its lines); b"" when the server closed."""
        got = b""
        while True:
            while b"\n" not in self.buf:
                b = self.s.recv(4096)
                if not b:
                    return got
                self.buf += b
            ln, self.buf = self.buf.split(b"\n", 1)
            got += ln + b"\n"
            if len(ln) < 4 or ln[3:4] != b"-":
                return got


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--helo", default="client.example.test")
    p.add_argument("mode")
    p.add_argument("n", nargs="?", type=int, default=20)
    a = p.parse_args()
    ehlo = b"EHLO " + a.helo.encode() + b"\r\n"
    helo = b"HELO " + a.helo.encode() + b"\r\n"
    mail = b"MAIL FROM:<sender@example.test>\r\n"
    rcpt = b"RCPT TO:<postmaster@example.test>\r\n"
    if a.mode == "banner-ms":
        ms = []
        for _ in range(a.n):
            s = conn(a)
            t0 = time.perf_counter()
            if not s.recv(1):
                return 1
            ms.append((time.perf_counter() - t0) * 1000)
            # No QUIT: nothing of this session reaches the sniffer, so
            # its work cannot slow the next session's banner.
            s.close()
        ms.sort()
        print("banner_ms median=%.3f max=%.3f n=%d" %
              (ms[len(ms) // 2], ms[-1], len(ms)))
        return 0
    s = conn(a)
    rd = Reader(s)

    def reply(_s):
        return rd.reply()

    def replies(_s, n):
        return b"".join(rd.reply() for _ in range(n))

    if a.mode == "pregreet" or a.mode == "early":
        if a.mode == "early":
            time.sleep(a.n / 1000.0)
        s.sendall(ehlo)
        banner = reply(s)
        reply(s)
    else:
        banner = reply(s)
        if a.mode == "wait":
            s.sendall(ehlo)
            reply(s)
        elif a.mode == "pipe-ehlo":
            s.sendall(ehlo + mail)
            replies(s, 2)
        elif a.mode == "pipe-early":
            s.sendall(ehlo)
            time.sleep(0.2)
            s.sendall(mail)
            replies(s, 2)
        elif a.mode == "pipe-banner":
            s.sendall(b"NOOP\r\n" + ehlo)
            replies(s, 2)
        elif a.mode == "pipe-reply":
            s.sendall(ehlo)
            reply(s)
            s.sendall(mail + rcpt + b"RSET\r\n")
            replies(s, 3)
        elif a.mode == "helo-pipe":
            s.sendall(helo)
            reply(s)
            s.sendall(mail + rcpt)
            replies(s, 2)
        elif a.mode == "helo-wait":
            s.sendall(helo)
            reply(s)
            s.sendall(mail)
            reply(s)
        elif a.mode == "http":
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            replies(s, 2)
        elif a.mode == "connect":
            s.sendall(b"CONNECT 192.0.2.9:25 HTTP/1.0\r\n\r\n")
            replies(s, 2)
        elif a.mode == "bare-lf":
            # Some servers (smtp-sink) wait for a CR: a second at most.
            s.sendall(ehlo[:-2] + b"\n")
            s.settimeout(1)
            try:
                reply(s)
            except OSError:
                pass
            s.settimeout(10)
        else:
            print("smtpgreet: unknown mode " + a.mode, file=sys.stderr)
            return 2
    try:
        s.sendall(b"QUIT\r\n")
        reply(s)
    except OSError:
        pass
    s.close()
    return 0 if banner.startswith(b"220") else 1


if __name__ == "__main__":
    sys.exit(main())
