#!/usr/bin/python3
"""spf_suite.py - the openspf.org RFC 7208 test suite through smtpgate's SPF
path: each scenario's zone is served by spfdns.py on loopback, its cases
go through spf_probe (spfcheck, the sandboxed libspf2 helpers, our c-ares),
and the results are compared with the suite's.

  spf_suite.py PROBE SUITE.yml [--listen 127.0.0.1:0] [--verbose]

Two passes.  As written: a case whose mailfrom is empty checks the HELO
identity (postmaster@helo, RFC 7208 section 2.4), the others the MAIL FROM
identity.  Then as the sniffer uses SPF, the HELO identity: every case with
a MAIL FROM domain is checked again with that domain as the HELO (sender
postmaster@domain), where the answer cannot depend on the identity (the
scenario's records use no %{l}, %{s} or %{h} macro).  Prints each failing
case (scenario, name, identity, got, want), then "rfc7208 IDENTITY:
RIGHT/TOTAL right" per identity and a total.  Exit 0 when every case got
an answer (right or wrong), 1 when the probe failed, reported a sanitizer
finding or a helper's death.
"""
import argparse
import os
import subprocess
import sys
import threading

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spfdns  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("probe")
    ap.add_argument("suite")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    docs = [d for d in yaml.safe_load_all(open(a.suite, encoding="utf-8")) if d]
    score = {"helo": [0, 0], "mailfrom": [0, 0],
             "helo (mail from domain as HELO)": [0, 0]}
    failed_probe = False
    for si, doc in enumerate(docs):
        zone = spfdns.Zone(doc.get("zonedata"))
        stop, ready, port = threading.Event(), threading.Event(), []

        def up(p):
            port.append(p)
            ready.set()
        th = threading.Thread(target=spfdns.serve,
                              args=(zone, a.listen, up, stop))
        th.start()
        if not ready.wait(5):
            print("spfdns did not start on %s" % a.listen)
            return 1
        server = "%s:%d" % (a.listen.rpartition(":")[0], port[0])
        lines, cases = [], {}
        zone_text = yaml.safe_dump(doc.get("zonedata")).lower()
        same_as_helo = not any(m in zone_text for m in ("%{l", "%{s", "%{h"))
        for name, t in (doc.get("tests") or {}).items():
            mf = t.get("mailfrom", "") or ""
            ident = "helo" if mf == "" else "mailfrom"
            want = t["result"] if isinstance(t["result"], list) else [t["result"]]
            cid = "%d.%s" % (si, name)
            cases[cid] = (doc.get("description", "?"), name, ident, want)
            lines.append("\t".join([cid, ident, str(t["host"]),
                                    str(t.get("helo", "")) or "-",
                                    mf if mf else "-"]))
            dom = mf.rpartition("@")[2]
            if ident == "mailfrom" and same_as_helo and dom:
                cid = "%d.%s.as-helo" % (si, name)
                cases[cid] = (doc.get("description", "?"), name,
                              "helo (mail from domain as HELO)", want)
                lines.append("\t".join([cid, "helo", str(t["host"]), dom,
                                        "-"]))
        try:
            out = subprocess.run([a.probe, "-r", server, "-w", "4",
                                  "-t", "4000"],
                                 input="\n".join(lines) + "\n",
                                 capture_output=True, text=True, timeout=120)
        finally:
            stop.set()
            th.join()
        if out.returncode != 0:
            print("probe failed on scenario %d: %s" % (si, out.stderr.strip()))
            failed_probe = True
        for ln in out.stderr.splitlines():
            # A sanitizer report or a helper's trouble is the probe's
            # failure, not the case's.
            if "Sanitizer" in ln or "runtime error" in ln or "spf: worker" in ln:
                print("probe, scenario %d: %s" % (si, ln))
                failed_probe = True
        got = {}
        for ln in out.stdout.splitlines():
            cid, _, r = ln.partition("\t")
            got[cid] = r
        for cid, (desc, name, ident, want) in cases.items():
            score[ident][1] += 1
            g = got.get(cid, "no answer")
            if g in want:
                score[ident][0] += 1
                if a.verbose:
                    print("ok   %s / %s (%s): %s" % (desc, name, ident, g))
            else:
                print("FAIL %s / %s (%s): got %s, want %s"
                      % (desc, name, ident, g, "|".join(want)))
    right = sum(v[0] for v in score.values())
    total = sum(v[1] for v in score.values())
    for ident in ("mailfrom", "helo", "helo (mail from domain as HELO)"):
        print("rfc7208 %s identity: %d/%d right" % (ident, *score[ident]))
    print("rfc7208 total: %d/%d right" % (right, total))
    return 1 if failed_probe else 0


if __name__ == "__main__":
    sys.exit(main())
