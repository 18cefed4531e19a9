#!/usr/bin/env python3
"""smtpmany.py - many ordinary SMTP sessions at once, each from its own
source address, as legitimate senders do while a flood goes on.

  smtpmany.py --dst ADDR [--dst6 ADDR6] [--timeout S] [--stagger-ms MS] SRC...

Each SRC gets one thread: it waits SRC's index times --stagger-ms, binds
SRC, connects to port 25 of --dst (--dst6 for IPv6 sources) with the
kernel's own SYN retransmits, and runs EHLO, MAIL FROM, RCPT TO, DATA and
QUIT with smtplib within --timeout seconds (default 30).  A session is
delivered when the server accepted the message (250 after DATA).

Prints one line per session, "ok SRC MS" or "fail SRC MS WHY", then
  smtpmany: sessions=N delivered=N failed=N p50_ms=M max_ms=M
Exit 0 when every session was delivered, 1 otherwise.  Meant for the
client namespace of the test world (tests/world/world.sh).
"""
import argparse
import smtplib
import sys
import threading
import time


def session(src, dst, timeout, delay, out, i):
    time.sleep(delay)
    t0 = time.monotonic()
    why = None
    try:
        s = smtplib.SMTP(timeout=timeout, source_address=(src, 0))
        s.connect(dst, 25)
        s.ehlo("client.example.test")
        s.sendmail("sender@example.test", ["postmaster@example.test"],
                   "Subject: smtpmany\r\n\r\nhello from %s\r\n" % src)
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        why = "%s: %s" % (type(e).__name__, e)
    out[i] = (src, int((time.monotonic() - t0) * 1000), why)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dst6")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--stagger-ms", type=float, default=0)
    ap.add_argument("src", nargs="+")
    a = ap.parse_args()
    out = [None] * len(a.src)
    th = []
    for i, src in enumerate(a.src):
        dst = a.dst6 if ":" in src else a.dst
        if dst is None:
            sys.exit("smtpmany: %s is IPv6 but no --dst6" % src)
        t = threading.Thread(target=session, args=(
            src, dst, a.timeout, i * a.stagger_ms / 1000.0, out, i))
        t.start()
        th.append(t)
    for t in th:
        t.join()
    ms = []
    ok = 0
    for src, t, why in out:
        ms.append(t)
        if why is None:
            ok += 1
            print("ok %s %d" % (src, t))
        else:
            print("fail %s %d %s" % (src, t, why))
    ms.sort()
    print("smtpmany: sessions=%d delivered=%d failed=%d p50_ms=%d max_ms=%d"
          % (len(out), ok, len(out) - ok, ms[(len(ms) - 1) // 2], ms[-1]))
    sys.exit(0 if ok == len(out) else 1)


if __name__ == "__main__":
    main()
