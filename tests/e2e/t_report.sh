#!/bin/bash
# t_report.sh BUILD_DIR - smtpgatectl report against the real gate and
# sniffer: a generated population of clients (tests/e2e/lib/report_pop.py:
# known counts per rule, several attempts per address, fcrdns and, in the
# old phase, generic_ptr in log mode, no_ptr = tempfail with senders that
# retry and senders that do not, prefixes allow-listed at the end, IPv4
# and IPv6) talks to the gateway in two phases: the old one with both
# daemons started under SMTPGATE_CLOCK_OFFSET = -120 days, the recent one
# without.  `smtpgatectl report --json` must then equal the counts the
# generator computes from its own model, exactly, for the 180-day window
# and its 90-day split; --csv and --rule agree with it; reading as root
# leaves the journal's -shm file to user smtpgate; suspects runs on it.
. "$(dirname "$0")/lib/e2e.sh"
POP="$E2E_LIB/report_pop.py"
# The population's PTR, A/AAAA and DNSBL data beside the world's own.
HOSTS=$(mktemp /tmp/t_report_hosts.XXXXXX)
cat "$WORLD_HOSTS" >"$HOSTS"
python3 "$POP" hosts >>"$HOSTS" || exit 1
WORLD_HOSTS=$HOSTS
e2e_init "$@"
command -v sqlite3 >/dev/null || e2e_skip "sqlite3 (the CLI) not installed"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"
t_cleanup() {
	local rc=$?
	rm -f "$HOSTS"
	(exit $rc)
	e2e_cleanup
}
trap t_cleanup EXIT

RMIN=3
DB=$WORLD_DIR/journal/journal.db
ALLOW=$WORLD_DIR/allow.list
CTL=$E2E_BUILD/smtpgatectl
OLD=$((-120 * 86400))

start_both() {
	e2e_start "$1" || return 1
	GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
	e2e_sniff_run "$1" || return 1
	SNIFF_PID=$E2E_PID SNIFF_LOG=$E2E_LOG
	E2E_PID=$GATE_PID E2E_LOG=$GATE_LOG
}
stop_both() {
	world_stop "$SNIFF_PID" TERM
	world_stop "$GATE_PID" TERM
	E2E_PID=
}

# phase NAME: its sessions, round by round, in parallel within a round;
# the gate's cached verdicts flushed before each round so that every
# session is judged again (the tempfail memory is kept: a retry is one).
phase() {
	local rnd prev="" addr helo n=0 jobs=()
	while read -r rnd addr helo; do
		if [ "$rnd" != "$prev" ]; then
			# only the sessions: a bare wait would wait for the daemons
			[ ${#jobs[@]} -gt 0 ] && wait "${jobs[@]}"
			jobs=()
			[ "$rnd" = retry ] && sleep $((RMIN + 1))
			[ "$rnd" = retry ] || world_flush_sets
			prev=$rnd
		fi
		world_smtp "$addr" --helo "$helo" --timeout 6 >/dev/null &
		jobs+=($!)
		n=$((n + 1))
		if [ ${#jobs[@]} -ge 6 ]; then
			wait "${jobs[@]}"
			jobs=()
		fi
	done < <(python3 "$POP" plan "$1")
	[ ${#jobs[@]} -gt 0 ] && wait "${jobs[@]}"
	SESSIONS=$n
}

conf_old=$(e2e_sniff_conf report-old sniffer.offender_strikes=1000 \
	"nft.allow_file=$ALLOW" gate.no_ptr=tempfail gate.generic_ptr=log \
	gate.retry_key=address gate.retry_min=$RMIN gate.retry_window=1h)
conf_new=$(e2e_sniff_conf report-new sniffer.offender_strikes=1000 \
	"nft.allow_file=$ALLOW" gate.no_ptr=tempfail gate.generic_ptr=reject \
	gate.retry_key=address gate.retry_min=$RMIN gate.retry_window=1h)

# ---- the old phase: 120 days ago ------------------------------------------
export SMTPGATE_CLOCK_OFFSET=$OLD
start_both "$conf_old" || e2e_finish
unset SMTPGATE_CLOCK_OFFSET
phase old
e2e_note "old phase: $SESSIONS sessions"
sleep 1.5	# the retries' outcomes: noted once a second
stop_both

# ---- the recent phase, then the allow list ----------------------------------
start_both "$conf_new" || e2e_finish
phase recent
e2e_note "recent phase: $SESSIONS sessions"
sleep 1.5
n=0
for p in $(python3 "$POP" allow); do
	world_gw "$CTL" -c "$conf_new" allow add "$p" --comment "t_report" >/dev/null 2>&1
	n=$((n + 1))
done
e2e_check "allow add of the population's prefixes applied" \
	world_wait_log "$GATE_LOG" "allow list: $n entries in force" 5
sleep 1
stop_both

q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }
e2e_note "journal: $(q "SELECT count(*) FROM attempt") attempts ($(q "SELECT group_concat(daemon || '=' || n, ' ') FROM (SELECT daemon, count(*) AS n FROM attempt GROUP BY daemon)")), $(q "SELECT count(*) FROM outcome") outcomes ($(q "SELECT group_concat(kind || '=' || n, ' ') FROM (SELECT kind, count(*) AS n FROM outcome GROUP BY kind)"))"
got=$(q "SELECT count(*) FROM attempt WHERE t < strftime('%s', 'now') - 100 * 86400")
e2e_check "the old phase is stamped 120 days back ($got attempts older than 100 days)" [ "$got" -gt 0 ]

# ---- the report equals the truth ---------------------------------------------
REP=$WORLD_DIR/report.json
# the daemons are stopped: the WAL index may go, the first reader makes it
rm -f "$DB-shm"
if "$CTL" -c "$conf_new" report --json >"$REP" 2>"$WORLD_DIR/report.err"; then
	e2e_ok "report --json (the configuration's journal file)"
else
	e2e_not_ok "report --json: $(cat "$WORLD_DIR/report.err")"
fi
if out=$(python3 "$POP" check "$REP"); then
	e2e_ok "report --json equals the generated truth for 180d and its 90d split"
	printf '%s\n' "$out" | grep '^#'
else
	e2e_not_ok "report --json differs from the generated truth:"
	printf '%s\n' "$out" | sed 's/^/#   /'
	e2e_note "last attempts:"
	q "SELECT a.addr, a.daemon, datetime(a.t, 'unixepoch'), a.verdict, a.accepted, (SELECT group_concat(rule) FROM finding WHERE attempt = a.id) FROM attempt a WHERE a.id IN (SELECT id FROM (SELECT max(t), id FROM attempt GROUP BY addr, daemon)) ORDER BY a.addr, a.daemon" | sed 's/^/#   /'
	q "SELECT addr, kind, datetime(t, 'unixepoch') FROM outcome" | sed 's/^/#   outcome /'
fi
got=$(stat -c %U "$DB-shm" 2>&1)
e2e_check "report as root made the journal's -shm as its owner ($got)" [ "$got" = smtpgate ]

# CSV: the same figures, one line per rule and the totals
"$CTL" report --journal "$DB" --csv >"$WORLD_DIR/report.csv"
want=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["rules"]) + 2)' "$REP")
e2e_check "report --csv: a header, a line per rule, the totals ($want lines)" \
	[ "$(wc -l <"$WORLD_DIR/report.csv")" = "$want" ]
got=$(grep '^no-ptr,' "$WORLD_DIR/report.csv" | cut -d, -f2,4,6,8)
want=$(python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["rules"] if x["rule"] == "no-ptr"][0]; print("%d,%d,%d,%d" % (r["triggered"], r["accepted"], r["recent_triggered"], r["recent_accepted"]))' "$REP")
e2e_check "report --csv: no-ptr as in the JSON ($got)" [ "$got" = "$want" ]
# --rule: the addresses behind the row
got=$("$CTL" report --journal "$DB" --rule generic-ptr --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
want=$(python3 -c 'import json,sys; print([x for x in json.load(open(sys.argv[1]))["rules"] if x["rule"] == "generic-ptr"][0]["triggered"])' "$REP")
e2e_check "report --rule generic-ptr: $got addresses, the row's triggered ($want)" [ "$got" = "$want" ]
# a split of 180 days: the recent columns are the whole window's
got=$("$CTL" report --journal "$DB" --split 180d --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(all(x["triggered"] == x["recent_triggered"] and x["accepted"] == x["recent_accepted"] for x in r["rules"]) and r["window"]["addresses"] == r["recent"]["addresses"])')
e2e_check "report --split 180d: recent equals the window" [ "$got" = True ]

# suspects: the refused population has no sign of a mail server
if out=$("$CTL" suspects --journal "$DB" --since 200d 2>&1); then
	e2e_ok "suspects: $(head -1 <<<"$out")"
else
	e2e_not_ok "suspects: $out"
fi
# the refused ones with a named, confirmed PTR (the DNSBL-listed hosts not
# allow-listed); the rest of the refused (no PTR, generic) are bots
got=$("$CTL" suspects --journal "$DB" --since 200d --json | python3 -c 'import json,sys; print(" ".join(sorted(x["addr"] for x in json.load(sys.stdin))))')
want=$(python3 "$POP" suspects)
e2e_check "suspects lists the refused named hosts: '$got' (want '$want')" [ "$got" = "$want" ]
# a journal that is not there
out=$("$CTL" report --journal "$WORLD_DIR/none.db" 2>&1)
rc=$?
e2e_check "report on a missing journal: exit 2 ($rc), no journal yet" \
	bash -c '[ "$1" = 2 ] && grep -q "no journal yet" <<<"$2"' _ "$rc" "$out"
e2e_finish
