#!/usr/bin/env python3
"""bench/journal_gen.py FILE [ATTEMPTS] [NOW] - a verdict journal (schema
version 1, the journal contract) of ATTEMPTS attempts (default 1,000,000)
over the 180 days before NOW (default: the clock), for timing
`smtpgatectl report` and `suspects` (bench/report.sh).  One address per
five attempts, IPv4 and IPv6; gate and sniffer attempts with the findings
of their rules; a few thousand outcomes.  Deterministic (seeded)."""
import random
import sqlite3
import sys
import time

SCHEMA = """
PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE attempt (
  id INTEGER PRIMARY KEY, t INTEGER NOT NULL, addr TEXT NOT NULL,
  daemon TEXT NOT NULL, verdict TEXT NOT NULL, enforced INTEGER NOT NULL,
  accepted INTEGER NOT NULL, reason TEXT NOT NULL, ptr TEXT,
  ptr_class TEXT, fcrdns TEXT, dnsbl_score INTEGER, helo TEXT,
  mail_domain TEXT, spf_helo TEXT);
CREATE INDEX attempt_t ON attempt(t);
CREATE INDEX attempt_addr ON attempt(addr, daemon, t);
CREATE TABLE finding (
  attempt INTEGER NOT NULL REFERENCES attempt(id) ON DELETE CASCADE,
  rule TEXT NOT NULL, action TEXT NOT NULL);
CREATE INDEX finding_attempt ON finding(attempt);
CREATE INDEX finding_rule ON finding(rule);
CREATE TABLE outcome (
  id INTEGER PRIMARY KEY, t INTEGER NOT NULL, addr TEXT NOT NULL,
  kind TEXT NOT NULL);
CREATE INDEX outcome_addr ON outcome(addr);
PRAGMA user_version = 1;
"""

GATE_RULES = [("no-ptr", "reject"), ("generic-ptr", "reject"),
              ("fcrdns", "log"), ("dns-error", "accept"),
              ("dnsbl:zen.example", "reject"), ("dnswl:list.example", "log")]
SNIFF_RULES = [("unqualified", "offend"), ("own-name", "offend"),
               ("spf-fail", "log"), ("mail-from-no-domain", "log")]


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    now = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
    rnd = random.Random(11)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("PRAGMA journal_mode = WAL")
    naddr = max(1, n // 5)
    addrs = []
    for i in range(naddr):
        if i % 10 == 9:
            addrs.append("2001:db8:%x:%x::%x" % (i >> 16, i & 0xffff, i % 7 + 1))
        else:
            addrs.append("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255))
    att, fnd = [], []
    for aid in range(1, n + 1):
        a = addrs[rnd.randrange(naddr)]
        t = now - rnd.randrange(180 * 86400)
        if rnd.random() < 0.6:
            hits = [r for r in GATE_RULES if rnd.random() < 0.15]
            refused = any(act == "reject" for _, act in hits)
            att.append((aid, t, a, "gate", "reject" if refused else "accept",
                        1, 0 if refused else 1,
                        hits[0][0] if hits else "", "mx%d.example.net" % aid,
                        "named", "pass", 0, None, None, None))
        else:
            hits = [r for r in SNIFF_RULES if rnd.random() < 0.1]
            refused = any(act == "offend" for _, act in hits)
            att.append((aid, t, a, "sniff", "strike" if refused else "clean",
                        1, 0 if refused else 1,
                        hits[0][0] if hits else "", None, None, None, None,
                        "mx.example.net", "example.net", "pass"))
        for rule, act in hits:
            fnd.append((aid, rule, act))
        if len(att) >= 100000:
            flush(db, att, fnd)
    flush(db, att, fnd)
    out = []
    for i in range(n // 200):
        kind = "retried" if i % 2 else "allowed"
        a = addrs[rnd.randrange(naddr)]
        if kind == "allowed" and i % 10 == 0 and ":" not in a:
            a = a.rsplit(".", 1)[0] + ".0/24"
        out.append((now - rnd.randrange(180 * 86400), a, kind))
    db.executemany("INSERT INTO outcome (t, addr, kind) VALUES (?, ?, ?)", out)
    db.commit()
    db.close()


def flush(db, att, fnd):
    db.executemany("INSERT INTO attempt VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", att)
    db.executemany("INSERT INTO finding VALUES (?, ?, ?)", fnd)
    db.commit()
    att.clear()
    fnd.clear()


main()
