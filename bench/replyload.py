#!/usr/bin/python3
"""replyload.py SRC DST N CONCURRENCY - N TCP connections from SRC to
DST:25, CONCURRENCY at a time: connect, read until the server's first line
or its close or reset, close.  For bench/reply.sh: the same client against
smtp-sink (a greeting), a reset (reply = reset) and the responder (reply =
smtp).  Prints "n=N lines=L resets=R other=O secs=S rate=R/s cpu_ms=C" (C: its
own user + system CPU, which on a veth pair also carries most of the
kernel's work for both ends)."""
import errno
import resource
import selectors
import socket
import sys
import time

src, dst, n, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sel = selectors.DefaultSelector()
started = done = lines = resets = other = 0


def start():
    global started, other, done
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    e = s.connect_ex((dst, 25))
    started += 1
    if e not in (0, errno.EINPROGRESS):
        other += 1
        done += 1
        s.close()
        return
    sel.register(s, selectors.EVENT_READ)


t0 = time.monotonic()
while started < min(conc, n):
    start()
while done < n:
    for key, _ in sel.select(timeout=5):
        s = key.fileobj
        try:
            b = s.recv(512)
            if b:
                lines += 1
            else:
                other += 1
        except ConnectionResetError:
            resets += 1
        except ConnectionRefusedError:
            resets += 1
        except BlockingIOError:
            continue
        sel.unregister(s)
        s.close()
        done += 1
        if started < n:
            start()
    if time.monotonic() - t0 > 600:
        break
secs = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print("n=%d lines=%d resets=%d other=%d secs=%.3f rate=%.0f cpu_ms=%.0f" %
      (done, lines, resets, other, secs, done / secs,
       (ru.ru_utime + ru.ru_stime) * 1000))
