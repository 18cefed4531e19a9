#!/bin/bash
# t_journal.sh BUILD_DIR - the verdict journal with the real daemons: the
# gate and the sniffer, both running, journal real clients of the test
# world into one SQLite file (checked with the sqlite3 CLI): every
# verdict with its findings and their configured actions, the DNSBL and
# DNSWL zones, the PTR class, the sniffer's HELO, MAIL FROM domain and
# rules, a 'retried' outcome for a tempfail sender that came back, an
# 'allowed' one for a prefix added to the allow list; the files belong to
# user smtpgate; SMTPGATE_CLOCK_OFFSET shifts the stamps.  Then the same
# clients with the journal file read-only, and with its file system full:
# every verdict is the same, the losses are counted and logged.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
command -v sqlite3 >/dev/null || e2e_skip "sqlite3 (the CLI) not installed"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"

FULL=$WORLD_DIR/full
t_cleanup() {
	local rc=$?
	mountpoint -q "$FULL" 2>/dev/null && umount "$FULL"
	(exit $rc)
	e2e_cleanup
}
trap t_cleanup EXIT

RMIN=3
DB=$WORLD_DIR/journal/journal.db
ALLOW=$WORLD_DIR/allow.list
q() { sqlite3 -batch -noheader "$1" "$2" 2>&1; }

# The gate's clients: address, what its verdict line must say.
GATE_CLIENTS="198.51.100.10 198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.14 198.51.100.15 2001:db8:c::20"

# start_both CONF: the gate, then the sniffer (GATE_* and SNIFF_* kept).
start_both() {
	e2e_start "$1" || return 1
	GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
	e2e_sniff_run "$1" || return 1
	SNIFF_PID=$E2E_PID SNIFF_LOG=$E2E_LOG
}
stop_both() {
	world_stop "$SNIFF_PID" TERM
	world_stop "$GATE_PID" TERM
	E2E_PID=
}
# gate_stats: the gate's stats line (E2E_PID is the sniffer's meanwhile).
gate_stats() {
	E2E_PID=$GATE_PID E2E_LOG=$GATE_LOG
	sleep 0.5	# the writer's batch
	e2e_stats
}
# jfields LINE: its journal_* fields
jfields() { tr ' ' '\n' <<<"$1" | grep '^journal_' | tr '\n' ' '; }

# run_clients TAG: one session each; the verdict lines into VERDICT_TAG.
declare -A VERDICT
run_clients() {
	local tag=$1 a line
	E2E_LOG=$GATE_LOG
	e2e_mark
	for a in $GATE_CLIENTS; do
		world_smtp "$a" --helo "mail.clean.test" --timeout 4 >/dev/null
	done
	world_smtp 198.51.100.52 --helo localhost >/dev/null
	world_smtp 198.51.100.54 --helo nohost.clean.test >/dev/null
	world_smtp 198.51.100.53 --helo mail53.clean.test --from x@nosuch.test >/dev/null
	world_smtp 2001:db8:c::21 --helo localhost >/dev/null
	for a in $GATE_CLIENTS 198.51.100.52 198.51.100.53 198.51.100.54 2001:db8:c::21; do
		line=$(e2e_wait_verdict "$a" 6) || line="none"
		# what decides: the verdict and its reasons, not the timing
		VERDICT[$tag,$a]="$(e2e_field "$line" verdict) $(e2e_field "$line" reason)"
	done
}

# ---- the journal at work ---------------------------------------------------
conf=$(e2e_sniff_conf journal sniffer.offender_strikes=1000 \
	"nft.allow_file=$ALLOW" gate.retry_min=$RMIN gate.retry_window=1h)
export SMTPGATE_CLOCK_OFFSET=-86400
start_both "$conf" || e2e_finish
unset SMTPGATE_CLOCK_OFFSET
run_clients on
e2e_check "the journal directory was made for smtpgate" \
	[ "$(stat -c %U:%a "$WORLD_DIR/journal")" = smtpgate:750 ]
e2e_check "journal.db and its WAL belong to smtpgate" bash -c \
	'[ "$(stat -c %U "$1")" = smtpgate ] && [ "$(stat -c %U "$1-wal")" = smtpgate ]' _ "$DB"

# allow list: a prefix added while the daemons run is an 'allowed' outcome
world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" allow add 198.51.100.96/28 >/dev/null 2>&1
e2e_check "allow add 198.51.100.96/28 applied" world_wait_log "$GATE_LOG" 'allow list: 1 entry in force' 5

s=$(gate_stats)
[ "$(e2e_field "$s" journal_written)" -ge 11 ] && [ "$(e2e_field "$s" journal_lost)" = 0 ] &&
	e2e_ok "gate stats: $(jfields "$s")" || e2e_not_ok "gate stats: $(jfields "$s")"
# The sniffer's rows come when a session ends (its flow lingers 5 s).
sleep 6
s=$(e2e_ctl stats)
[ "$(e2e_field "$s" journal_written)" -ge 8 ] && [ "$(e2e_field "$s" journal_lost)" = 0 ] &&
	e2e_ok "sniffer stats: $(jfields "$s")" || e2e_not_ok "sniffer stats: $(jfields "$s")"
stop_both

n=$(q "$DB" "SELECT count(*) FROM attempt WHERE daemon = 'gate'")
[ "$n" -ge 11 ] && e2e_ok "gate: $n attempts journaled" || e2e_not_ok "gate: $n attempts, want >= 11 ($(q "$DB" 'SELECT addr FROM attempt'))"

# gate_row ADDR WANT: verdict|enforced|accepted|reason|ptr_class|fcrdns|score
gate_row() {
	local got
	got=$(q "$DB" "SELECT verdict, enforced, accepted, reason, ptr_class, fcrdns, dnsbl_score FROM attempt WHERE daemon = 'gate' AND addr = '$1' ORDER BY id DESC LIMIT 1")
	[ "$got" = "$2" ] && e2e_ok "gate row $1: $got" || e2e_not_ok "gate row $1: got '$got', want '$2'"
}
findings() {
	local got
	got=$(q "$DB" "SELECT group_concat(rule || '=' || action, ' ') FROM (SELECT f.rule, f.action FROM finding f WHERE f.attempt = (SELECT max(id) FROM attempt WHERE daemon = '$2' AND addr = '$1') ORDER BY f.rule)")
	[ "$got" = "$3" ] && e2e_ok "$2 findings $1: $got" || e2e_not_ok "$2 findings $1: got '$got', want '$3'"
}
gate_row 198.51.100.10 "accept|1|1||named|pass|0"
findings 198.51.100.10 gate ""
gate_row 198.51.100.11 "reject|1|0|no-ptr|none|unknown|0"
findings 198.51.100.11 gate "no-ptr=reject"
gate_row 198.51.100.12 "reject|1|0|generic-ptr|generic|pass|0"
findings 198.51.100.12 gate "generic-ptr=reject"
gate_row 198.51.100.13 "reject|1|0|dnsbl|named|pass|3"
findings 198.51.100.13 gate "dnsbl=reject dnsbl:bl.test=reject"
gate_row 198.51.100.14 "accept|1|1|dnswl|generic|pass|-2"
findings 198.51.100.14 gate "dnswl:wl.test=accept"
gate_row 198.51.100.15 "accept|1|1|fcrdns|named|fail|0"
findings 198.51.100.15 gate "fcrdns=log"
gate_row 2001:db8:c::20 "accept|1|1||named|pass|0"
got=$(q "$DB" "SELECT ptr FROM attempt WHERE daemon = 'gate' AND addr = '198.51.100.12' LIMIT 1")
e2e_check "gate ptr column: the name judged ($got)" [ "$got" = 198-51-100-12.dynamic.example.net ]
got=$(q "$DB" "SELECT count(*) FROM attempt WHERE daemon = 'gate' AND (helo IS NOT NULL OR mail_domain IS NOT NULL OR spf_helo IS NOT NULL)")
e2e_check "gate rows leave the sniffer's columns NULL" [ "$got" = 0 ]
now=$(date +%s)
got=$(q "$DB" "SELECT min(t) || ' ' || max(t) FROM attempt")
read -r tmin tmax <<<"$got"
[ "$tmax" -le $((now - 86400 + 5)) ] && [ "$tmin" -ge $((now - 86400 - 600)) ] &&
	e2e_ok "SMTPGATE_CLOCK_OFFSET=-86400: every stamp a day back ($got, now $now)" ||
	e2e_not_ok "stamps $got, now $now: want a day back"

# sniff_row ADDR WANT: verdict|enforced|accepted|reason|helo|mail_domain|spf_helo
sniff_row() {
	local got
	got=$(q "$DB" "SELECT verdict, enforced, accepted, reason, helo, ifnull(mail_domain, 'NULL'), ifnull(spf_helo, 'NULL') FROM attempt WHERE daemon = 'sniff' AND addr = '$1' ORDER BY id DESC LIMIT 1")
	# shellcheck disable=SC2053 # $2 is a pattern
	[[ $got == $2 ]] && e2e_ok "sniff row $1: $got" || e2e_not_ok "sniff row $1: got '$got', want '$2' (all: $(q "$DB" "SELECT addr, verdict, reason, helo FROM attempt WHERE daemon = 'sniff'" | tr '\n' ' '))"
}
sniff_row 198.51.100.52 "strike|1|1|unqualified|localhost|example.test|NULL"
findings 198.51.100.52 sniff "unqualified=offend"
sniff_row 198.51.100.54 "clean|1|1||nohost.clean.test|example.test|*"
findings 198.51.100.54 sniff "helo-no-resolve=log"
sniff_row 198.51.100.53 "strike|1|1|mail-from-no-domain|mail53.clean.test|nosuch.test|none"
findings 198.51.100.53 sniff "mail-from-no-domain=offend"
sniff_row 2001:db8:c::21 "strike|1|1|unqualified|localhost|example.test|NULL"
sniff_row 198.51.100.10 "clean|1|1||mail.clean.test|example.test|pass"
got=$(q "$DB" "SELECT kind FROM outcome WHERE addr = '198.51.100.96/28'")
e2e_check "allow add: an 'allowed' outcome for 198.51.100.96/28 ($got)" [ "$got" = allowed ]

# ---- tempfail, then a retry that passes: a 'retried' outcome ---------------
tconf=$(e2e_conf journal-tempfail gate.no_ptr=tempfail gate.retry_min=$RMIN gate.retry_window=1h)
e2e_start "$tconf" || e2e_finish
e2e_mark
world_smtp 203.0.113.71 --timeout 3 >/dev/null
line=$(e2e_wait_verdict 203.0.113.71 5)
e2e_check "203.0.113.71 tempfailed" [ "$(e2e_field "$line" verdict)" = tempfail ]
sleep $((RMIN + 1))
world_smtp 203.0.113.71 >/dev/null
e2e_check "its retry passed (retry=passed logged)" \
	world_wait_log "$E2E_LOG" "retry=passed ip=203\.0\.113\.71 " 6
e2e_stop TERM
got=$(q "$DB" "SELECT a.verdict || ' ' || a.accepted || ' ' || o.kind FROM attempt a JOIN outcome o ON o.addr = a.addr WHERE a.addr = '203.0.113.71' AND o.t >= a.t")
e2e_check "tempfail attempt, then a 'retried' outcome after it ($got)" [ "$got" = "tempfail 0 retried" ]

# ---- a read-only journal changes no verdict --------------------------------
before=$(q "$DB" "SELECT count(*) FROM attempt")
chmod 0444 "$DB"
start_both "$conf" || e2e_finish
run_clients ro
s=$(gate_stats)
[ "$(e2e_field "$s" journal_lost)" -ge 11 ] && [ "$(e2e_field "$s" journal_written)" = 0 ] &&
	e2e_ok "read-only: gate stats $(jfields "$s")" || e2e_not_ok "read-only: gate stats $(jfields "$s")"
sleep 6
s=$(e2e_ctl stats)
[ "$(e2e_field "$s" journal_lost)" -ge 8 ] && [ "$(e2e_field "$s" journal_written)" = 0 ] &&
	e2e_ok "read-only: sniffer stats $(jfields "$s")" || e2e_not_ok "read-only: sniffer stats $(jfields "$s")"
stop_both
e2e_check "read-only: the loss is logged ('journal: ... records lost')" \
	grep -q 'journal: .*records lost' "$GATE_LOG"
chmod 0644 "$DB"
e2e_check "read-only: nothing was written ($before rows)" [ "$(q "$DB" "SELECT count(*) FROM attempt")" = "$before" ]
same=1
for k in "${!VERDICT[@]}"; do
	[ "${k%%,*}" = on ] || continue
	a=${k#*,}
	[ "${VERDICT[on,$a]}" = "${VERDICT[ro,$a]}" ] && [ "${VERDICT[on,$a]}" != " " ] ||
		{ same=0; e2e_not_ok "read-only: $a: '${VERDICT[ro,$a]}', with the journal '${VERDICT[on,$a]}'"; }
done
[ "$same" = 1 ] && e2e_ok "read-only: every verdict as with a working journal (${#VERDICT[@]} lines)"

# ---- a full file system changes no verdict ---------------------------------
mkdir -p "$FULL"
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$FULL" || e2e_finish
mkdir "$FULL/journal" && chown smtpgate:smtpgate "$FULL/journal"
fconf=$(e2e_sniff_conf journal-full sniffer.offender_strikes=1000 \
	"nft.allow_file=$ALLOW" "journal.file=$FULL/journal/journal.db")
start_both "$fconf" || e2e_finish
sleep 0.5
# the database made; now nothing is left for it
dd if=/dev/zero of="$FULL/fill" bs=64k 2>/dev/null
run_clients full
s=$(gate_stats)
[ "$(e2e_field "$s" journal_lost)" -ge 1 ] &&
	e2e_ok "full disk: gate stats $(jfields "$s")" || e2e_not_ok "full disk: gate stats $(jfields "$s")"
stop_both
e2e_check "full disk: the loss is logged" grep -q 'journal: .*full.*records lost' "$GATE_LOG"
same=1
for k in "${!VERDICT[@]}"; do
	[ "${k%%,*}" = on ] || continue
	a=${k#*,}
	[ "${VERDICT[on,$a]}" = "${VERDICT[full,$a]}" ] ||
		{ same=0; e2e_not_ok "full disk: $a: '${VERDICT[full,$a]}', with the journal '${VERDICT[on,$a]}'"; }
done
[ "$same" = 1 ] && e2e_ok "full disk: every verdict as with a working journal"
rm -f "$FULL/fill"
umount "$FULL"
e2e_check "no sanitizer report in smtpgate-sniffd's stderr" \
	bash -c '! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$1"' _ "$SNIFF_LOG"
e2e_finish
