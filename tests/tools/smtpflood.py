#!/usr/bin/env python3
"""smtpflood.py - many short SMTP sessions at once, one HELO name each.

  smtpflood.py --dst ADDR --src ADDR|PREFIX [--concurrency N] <names

Reads one HELO name per line on stdin; for each, a session from --src (a
prefix: its addresses in turn, from the first past the network address)
to --dst:25: banner, EHLO NAME, MAIL FROM:<bench@example.test>, QUIT, with
--concurrency sessions under way at once.  Prints "sessions=N ok=N" (ok:
the banner came and the server answered the EHLO).  For benchmarks.
"""
import argparse
import ipaddress
import socket
import sys
import threading


def session(src, dst, name):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.bind((src, 0))
        s.connect((dst, 25))
        f = s.makefile("rb")
        if not f.readline().startswith(b"220"):
            return False
        s.sendall(b"EHLO " + name.encode() + b"\r\n")
        line = f.readline()
        while line[3:4] == b"-":
            line = f.readline()
        if not line.startswith(b"250"):
            return False
        s.sendall(b"MAIL FROM:<bench@example.test>\r\n")
        f.readline()
        s.sendall(b"QUIT\r\n")
        f.readline()
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--concurrency", type=int, default=20)
    a = ap.parse_args()
    names = [ln.strip() for ln in sys.stdin if ln.strip()]
    net = ipaddress.ip_network(a.src, strict=False)
    srcs = [str(net.network_address + 1 + i % max(1, net.num_addresses - 2))
            for i in range(len(names))] if net.num_addresses > 1 else \
        [a.src] * len(names)
    lock = threading.Lock()
    state = {"next": 0, "ok": 0}

    def worker():
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(names):
                return
            if session(srcs[i], a.dst, names[i]):
                with lock:
                    state["ok"] += 1
    th = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print("sessions=%d ok=%d" % (len(names), state["ok"]))


if __name__ == "__main__":
    main()
