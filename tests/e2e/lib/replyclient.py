#!/usr/bin/python3
"""replyclient.py - clients of smtpgated's responder for t_reply.sh (they
run in the client namespace; every one prints one result line).

  line SRC DST [TIMEOUT_S]   connect from SRC to DST:25, read the first line:
                             "line MS TEXT" | "reset MS" | "refused MS" |
                             "timeout MS" | "eof MS"
  hold SRC DST N SECONDS     open N connections one after the other, read
                             each one's first line, keep them all open for
                             SECONDS: "hold lines=L resets=R other=O"
  mega SRC DST BYTES         read the line, then send BYTES: "mega sent=S
                             line=0|1 end=reset|closed|done"
  flood SRC DST N [DEADLINE] N connections at once, non-blocking: "flood
                             lines=L resets=R refused=F timeouts=T
                             max_ms=M"
"""
import errno
import resource
import selectors
import socket
import sys
import time


def fam(dst):
    return socket.AF_INET6 if ":" in dst else socket.AF_INET


def conn(src, dst, timeout):
    s = socket.socket(fam(dst), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((dst, 25))
    return s


def readline(s):
    buf = b""
    while not buf.endswith(b"\r\n") and len(buf) < 1024:
        b = s.recv(1024)
        if not b:
            break
        buf += b
    return buf


def ms(t0):
    return int((time.monotonic() - t0) * 1000)


def cmd_line(src, dst, timeout="8"):
    t0 = time.monotonic()
    try:
        s = conn(src, dst, float(timeout))
        b = readline(s)
        s.close()
    except ConnectionRefusedError:
        print("refused %d" % ms(t0))
        return
    except ConnectionResetError:
        print("reset %d" % ms(t0))
        return
    except socket.timeout:
        print("timeout %d" % ms(t0))
        return
    if not b:
        print("eof %d" % ms(t0))
    else:
        print("line %d %s" % (ms(t0), b.decode("ascii", "replace").rstrip("\r\n")))


def cmd_hold(src, dst, n, seconds):
    held, lines, resets, other = [], 0, 0, 0
    for _ in range(int(n)):
        try:
            s = conn(src, dst, 5)
            b = readline(s)
            if b.startswith((b"554 ", b"421 ")):
                lines += 1
            elif b:
                other += 1
            else:
                resets += 1   # closed before any line: the cap's reset
            held.append(s)
        except (ConnectionResetError, ConnectionRefusedError):
            resets += 1
        except OSError:
            other += 1
    print("hold lines=%d resets=%d other=%d" % (lines, resets, other), flush=True)
    time.sleep(float(seconds))
    for s in held:
        s.close()


def cmd_mega(src, dst, nbytes):
    sent, line, end = 0, 0, "done"
    try:
        s = conn(src, dst, 5)
        if readline(s).startswith(b"554 "):
            line = 1
        chunk = b"x" * 65536
        total = int(nbytes)
        while sent < total:
            sent += s.send(chunk[: total - sent])
        s.close()
    except ConnectionResetError:
        end = "reset"
    except BrokenPipeError:
        end = "closed"
    except socket.timeout:
        end = "timeout"
    print("mega sent=%d line=%d end=%s" % (sent, line, end))


def cmd_flood(src, dst, n, deadline="30"):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, int(n) + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    res = {"lines": 0, "resets": 0, "refused": 0, "timeouts": 0}
    maxms = 0
    for _ in range(int(n)):
        s = socket.socket(fam(dst), socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        e = s.connect_ex((dst, 25))
        if e not in (0, errno.EINPROGRESS):
            res["refused"] += 1
            s.close()
            continue
        sel.register(s, selectors.EVENT_READ, [b""])
    end = t0 + float(deadline)
    while sel.get_map() and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            s, buf = key.fileobj, key.data
            done = None
            try:
                b = s.recv(1024)
                if b:
                    buf[0] += b
                    if buf[0].endswith(b"\r\n"):
                        done = "lines"
                else:
                    done = "lines" if buf[0] else "resets"
            except ConnectionResetError:
                done = "resets"
            except ConnectionRefusedError:
                done = "refused"
            except BlockingIOError:
                pass
            if done:
                res[done] += 1
                maxms = max(maxms, ms(t0))
                sel.unregister(s)
                s.close()
    for key in list(sel.get_map().values()):
        res["timeouts"] += 1
        key.fileobj.close()
    print("flood lines=%d resets=%d refused=%d timeouts=%d max_ms=%d" %
          (res["lines"], res["resets"], res["refused"], res["timeouts"], maxms))


if __name__ == "__main__":
    {"line": cmd_line, "hold": cmd_hold, "mega": cmd_mega,
     "flood": cmd_flood}[sys.argv[1]](*sys.argv[2:])
