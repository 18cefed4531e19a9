#!/usr/bin/env python3
"""report_pop.py - the generated population of t_report.sh and its truth.

  report_pop.py hosts            the host-table lines of the population
                                 (appended to the world's hosts.tsv)
  report_pop.py plan PHASE       the sessions of PHASE (old|recent), one
                                 "ROUND ADDR HELO" a line; ROUND "retry" is
                                 a tempfailed sender's second try
  report_pop.py allow            the prefixes allow-listed after both phases
  report_pop.py suspects         the addresses `smtpgatectl suspects` lists
                                 (refused over the window, a named and
                                 confirmed PTR; no retry schedule: a
                                 tempfailed sender's retry comes seconds
                                 later, one try), sorted
  report_pop.py check REPORT.json
                                 compare `smtpgatectl report --json` with
                                 the counts computed here; print each
                                 difference, exit 1 if any

The population (203.0.113.0/24, 2001:db8:b::/64), each category with the
verdict the test world's DNS and t_report's configuration give it:
  named    named PTR, forward-confirmed: accept, no gate finding
  noptr1   no PTR, no_ptr = tempfail, never retries: refused
  noptr2   no PTR, tempfailed, retries after retry_min: 'retried' outcome
  generic  generic PTR: generic_ptr = log in the old phase (accepted),
           reject in the recent one; some allow-listed at the end
  fcrdns   PTR pointing elsewhere: fcrdns = log, accepted
  dnsbl    listed on bl.test: dnsbl and dnsbl:bl.test reject; some
           allow-listed at the end
Member k of a category talks in the old phase only (k % 3 == 0), in both
(1), in the recent one only (2); two rounds a phase (one and a retry for
the tempfailed).  HELO: a named host's own name for even k, else
"localhost" (the sniffer's unqualified rule, offend, strikes never ban).
The truth applies the report's definition (smtpgatectl(8), REPORT) to
this model, not to the journal.
"""
import ipaddress
import json
import sys

CATS = {
    "named": ([10, 11, 12, 13, 14, 15, 16, 17], [0x10, 0x11, 0x12]),
    "noptr1": ([30, 31, 32, 33], [0x30]),
    "noptr2": ([40, 41, 42, 43], [0x40, 0x41]),
    "generic": ([50, 51, 52, 53, 54, 55, 56, 57], []),
    "fcrdns": ([60, 61, 62, 63], []),
    "dnsbl": ([70, 71, 72, 73], []),
}
ALLOW = ["203.0.113.52/30", "203.0.113.72/31"]
PHASES = ["old", "recent"]


def population():
    """(addr, category, k, ptr or None, forward, dnsbl)"""
    out = []
    for cat, (v4, v6) in CATS.items():
        addrs = ["203.0.113.%d" % n for n in v4] + \
            ["2001:db8:b::%x" % n for n in v6]
        for k, a in enumerate(addrs):
            tag = a.replace(".", "-").replace(":", "-")
            ptr, fwd, bl = None, "-", "-"
            if cat == "named":
                ptr, fwd = "mail-%s.rpt.test" % tag, "yes"
            elif cat == "generic":
                ptr, fwd = "%s.dynamic.example.net" % tag, "yes"
            elif cat == "fcrdns":
                ptr, fwd = "mail-%s.elsewhere.test" % tag, "no"
            elif cat == "dnsbl":
                ptr, fwd, bl = "mail-%s.listed.test" % tag, "yes", "127.0.0.2"
            out.append((a, cat, k, ptr, fwd, bl))
    return out


def phases_of(k):
    return [["old"], ["old", "recent"], ["recent"]][k % 3]


def helo_of(cat, k, ptr):
    return ptr if cat == "named" and k % 2 == 0 else "localhost"


def gate(cat, phase):
    """findings and accepted of a gate attempt"""
    if cat == "named":
        return set(), True
    if cat in ("noptr1", "noptr2"):
        return {"no-ptr"}, False
    if cat == "generic":
        return {"generic-ptr"}, phase == "old"
    if cat == "fcrdns":
        return {"fcrdns"}, True
    if cat == "dnsbl":
        return {"dnsbl", "dnsbl:bl.test"}, False
    raise ValueError(cat)


def sniffed(cat, phase):
    """does a session of cat in phase reach the sniffer"""
    return gate(cat, phase)[1] or cat == "noptr2"


def allowed(addr):
    a = ipaddress.ip_address(addr)
    return any(a in ipaddress.ip_network(p) for p in ALLOW)


def truth(window):
    """window: the phases it holds.  {"addresses", "accepted", "rules":
    {rule: [triggered, accepted]}}"""
    t = {"addresses": 0, "accepted": 0, "rules": {}}
    for addr, cat, k, ptr, _, _ in population():
        ph = [p for p in phases_of(k) if p in window]
        if not ph:
            continue
        last = ph[-1]
        gfind, gacc = gate(cat, last)
        # a retry passes after the tempfail of the same phase
        gok = gacc or cat == "noptr2"
        s = [p for p in ph if sniffed(cat, p)]
        sfind = set()
        if s:
            sfind = {"unqualified"} if helo_of(cat, k, ptr) == "localhost" \
                else set()
        acc = gok or allowed(addr)	# the sniffer never refuses here
        t["addresses"] += 1
        t["accepted"] += acc
        for r in gfind | sfind:
            c = t["rules"].setdefault(r, [0, 0])
            c[0] += 1
            c[1] += acc
    return t


def main():
    cmd = sys.argv[1]
    if cmd == "hosts":
        for addr, cat, k, ptr, fwd, bl in population():
            if ptr is not None:
                print("%s\t%s\t%s\t%s\tt_report %s" % (addr, ptr, fwd, bl, cat))
            elif bl != "-":
                raise ValueError(addr)
    elif cmd == "plan":
        phase = sys.argv[2]
        for rnd in ("1", "retry", "2"):
            for addr, cat, k, ptr, _, _ in population():
                if phase not in phases_of(k):
                    continue
                if cat in ("noptr1", "noptr2") and rnd == "2":
                    continue	# one tempfail a phase: a second SYN retries
                if rnd == "retry" and cat != "noptr2":
                    continue
                print(rnd, addr, helo_of(cat, k, ptr))
    elif cmd == "suspects":
        out = []
        for addr, cat, k, ptr, _, _ in population():
            gacc = gate(cat, phases_of(k)[-1])[1] or cat == "noptr2"
            if cat in ("named", "dnsbl") and not gacc and not allowed(addr):
                out.append(addr)
        print(" ".join(sorted(out)))
    elif cmd == "allow":
        print("\n".join(ALLOW))
    elif cmd == "check":
        rep = json.load(open(sys.argv[2]))
        bad = 0
        full, recent = truth(PHASES), truth(["recent"])
        for key, tr in (("window", full), ("recent", recent)):
            for f in ("addresses", "accepted"):
                if rep[key][f] != tr[f]:
                    print("%s.%s: got %s, want %s" % (key, f, rep[key][f], tr[f]))
                    bad += 1
        got = {r["rule"]: r for r in rep["rules"]}
        for rule in sorted(set(got) | set(full["rules"])):
            want = full["rules"].get(rule, [0, 0]) + \
                recent["rules"].get(rule, [0, 0])
            g = got.get(rule)
            have = [g["triggered"], g["accepted"], g["recent_triggered"],
                    g["recent_accepted"]] if g else None
            if have != want:
                print("rule %s: got %s, want %s (triggered, accepted, "
                      "recent_triggered, recent_accepted)" % (rule, have, want))
                bad += 1
            else:
                print("# rule %s: %s" % (rule, want))
        print("# window: %d addresses, %d accepted; recent: %d, %d" % (
            full["addresses"], full["accepted"], recent["addresses"],
            recent["accepted"]))
        sys.exit(1 if bad else 0)
    else:
        sys.exit("usage: report_pop.py hosts|plan PHASE|allow|check FILE")


main()
