#!/bin/bash
# t_reload.sh BUILD_DIR - reloads keep the keys a daemon cannot change
# while it runs (conf_reload): a reload whose file names another [nft]
# table (installed too, so writing there would succeed) leaves both
# daemons on the running table, with one warning each, and everything
# the reload does change goes to the running table: the gate's allow sets
# (a new trusted network), its verdicts, the sniffer's bans.  Until this,
# smtpgated took the new table name and wrote its allow sets into a
# table its verdict writer did not use.
WORLD_PREFIX=${WORLD_PREFIX:-sgrl$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"

T=$WORLD_TABLE
T2=${WORLD_TABLE}_new
ALLOW=$WORLD_DIR/allow.list
printf '198.51.100.50\n' >"$ALLOW"
chmod 644 "$ALLOW"
BASE=("nft.allow_file=$ALLOW" sniffer.offender_strikes=1 sniffer.offender_timeout=600)
conf=$(e2e_sniff_conf reload "${BASE[@]}")

# The other table: its own queues (nobody listens: bypass), no sniffer
# rules, so the running table still decides every SYN.
conf2=$(e2e_conf other "nft.table=$T2" gate.queue=7 sniffer.queue=8 sniffer.packets=0)
out=$(world_gw "$E2E_BUILD/smtpgate-nft" -c "$conf2" install 2>&1); rc=$?
e2e_check "a second table inet $T2 installed ($out)" [ $rc = 0 ]

# has TABLE SET ADDR: does TABLE's SET hold (or cover) ADDR?
has() { world_gw nft get element inet "$1" "$2" "{ $3 }" >/dev/null 2>&1; }
# reloads LOG: the "reloaded" lines so far.
reloads() { grep -c ': reloaded ' "$1"; }
wait_reload() {
	local log=$1 n0=$2 end
	end=$(( $(world_now_ms) + 5000 ))
	while [ "$(reloads "$log")" -le "$n0" ] && [ "$(world_now_ms)" -lt "$end" ]; do sleep 0.05; done
	[ "$(reloads "$log")" -gt "$n0" ]
}

# ---- smtpgated --------------------------------------------------------------
e2e_start "$conf" || e2e_finish
GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
e2e_check "at start the allow list is in $T's allow4" has "$T" allow4 198.51.100.50

# The same file, now naming the other table and one more trusted network.
e2e_sniff_conf reload "${BASE[@]}" "nft.table=$T2" \
	"gate.trusted_networks=192.0.2.0/28 2001:db8:1::/48 198.51.100.60" >/dev/null
n0=$(reloads "$GATE_LOG")
kill -HUP "$GATE_PID"
e2e_check "SIGHUP: smtpgated reloaded" wait_reload "$GATE_LOG" "$n0"
e2e_check "smtpgated warns that the table needs a restart" \
	grep -qF "reload: [nft] table = $T2 needs a restart; still $T" "$GATE_LOG"
e2e_check "the new trusted network went to the running table $T" has "$T" allow4 198.51.100.60
e2e_check "the allow list stays in $T" has "$T" allow4 198.51.100.50
if has "$T2" allow4 198.51.100.60; then
	e2e_not_ok "the allow sets were written to $T2, a table the gate does not use"
else
	e2e_ok "nothing was written to $T2's allow sets"
fi
e2e_mark
e2e_expect 203.0.113.64 fail reject no-ptr deny "after the reload a verdict is cached in $T"
if has "$T2" deny4 203.0.113.64; then e2e_not_ok "a verdict went to $T2"; else e2e_ok "no verdict in $T2"; fi
out=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" reload gate 2>&1); rc=$?
e2e_check "smtpgatectl reload gate succeeds with the kept key ($out)" [ $rc = 0 ]

# ---- smtpgate-sniffd --------------------------------------------------------
# Back to the running table's file for the start, then the same reload.
e2e_sniff_conf reload "${BASE[@]}" >/dev/null
e2e_sniff_run "$conf" || e2e_finish
SNIFF_LOG=$E2E_LOG SNIFF_PID=$E2E_PID
e2e_sniff_conf reload "${BASE[@]}" "nft.table=$T2" sniffer.queue_maxlen=64 >/dev/null
n0=$(reloads "$SNIFF_LOG")
kill -HUP "$SNIFF_PID"
e2e_check "SIGHUP: smtpgate-sniffd reloaded" wait_reload "$SNIFF_LOG" "$n0"
e2e_check "smtpgate-sniffd warns that the table needs a restart" \
	grep -qF "reload: [nft] table = $T2 needs a restart; still $T" "$SNIFF_LOG"
e2e_check "and that its queue_maxlen does" \
	grep -qF "reload: [sniffer] queue_maxlen = 64 needs a restart; still 4096" "$SNIFF_LOG"
off=198.51.100.56
world_smtp $off --helo localhost >/dev/null 2>&1
end=$(( $(world_now_ms) + 6000 ))
until has "$T" offend4 $off || [ "$(world_now_ms)" -ge "$end" ]; do sleep 0.1; done
e2e_check "after the reload the sniffer bans into the running table $T" has "$T" offend4 $off
if has "$T2" offend4 $off; then e2e_not_ok "a ban went to $T2"; else e2e_ok "no ban in $T2"; fi

world_stop "$SNIFF_PID" TERM
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG" &&
	e2e_not_ok "sanitizer report in smtpgate-sniffd's stderr: $(grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG" | head -8)"
E2E_PID=$GATE_PID E2E_LOG=$GATE_LOG
world_gw "$E2E_BUILD/smtpgate-nft" -c "$conf2" remove >/dev/null 2>&1
e2e_finish
