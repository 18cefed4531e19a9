#!/bin/bash
# t_observe.sh BUILD_DIR - observe mode ([gate] enforce = no, [sniffer]
# enforce = no) through the real kernel, the same clients in both modes:
# no PTR (tempfail), a generic PTR (reject), DNSBL-listed (reject), an
# IPv6 generic PTR (reject, cached for its /64), a forged HELO (the
# sniffer bans at the first strike and cuts), a clean one.  Enforce mode
# refuses, bans and cuts; one SIGHUP to enforce = no (and the caches
# emptied, as smtpgate.conf(5) tells) and every client's SMTP session
# reaches the MTA, the verdict lines name the same findings with
# enforced=no, the would-be ban is logged and not made, and no set holds
# a refusal; stats count what enforce would have done; check says so.
# One SIGHUP back to enforce = yes refuses again, without a restart.
WORLD_PREFIX=${WORLD_PREFIX:-sgob$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"

NOPTR=203.0.113.81	# no PTR: tempfail, its /24 waits (so not 198.51.100/24)
GENERIC=198.51.100.12	# generic access-pool PTR: reject
LISTED=198.51.100.13	# bl.test lists it: reject
GENERIC6=2001:db8:c::12	# IPv6 generic PTR: reject, denynet6 (its /64)
FORGED=198.51.100.62	# clean name, HELO localhost: unqualified, banned
CLEAN=198.51.100.10	# clean: accepted in both modes
GATED="$NOPTR $GENERIC $LISTED $GENERIC6 $CLEAN $FORGED"
# The sets a refusal goes into (reply4/6 exist with reply = smtp only).
REFUSALS="deny4 deny6 denynet6 drop4 drop6 dropnet6 wait4 wait6 retry4 retry6 offend4 offend6"
BASE=(gate.no_ptr=tempfail gate.cache_v6_network=yes
	sniffer.offender_strikes=1 sniffer.cut_session=yes)

ctl() { CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" "$@" 2>&1); }
raw() { world_cl python3 "$WORLD_TOOLS/smtpraw.py" --dst "$WORLD_GW4" "$@"; }
# The verdict line of ADDR as findings: no log prefix, timing, enforced=no.
findings() {
	e2e_wait_verdict "$1" 10 | sed -e 's/^.*: verdict=/verdict=/' \
		-e 's/ enforced=no / /' -e 's/ ms=[0-9]* syns=[0-9]*//'
}
# The sniffer's judgment of ADDR after SNIFF_MARK (waits 10 s).
judgment() {
	local end=$(( $(world_now_ms) + 10000 )) l
	while :; do
		l=$(tail -n +"$((SNIFF_MARK + 1))" "$SNIFF_LOG" | grep -E " helo ip=$1 " | head -1)
		[ -n "$l" ] && { printf '%s\n' "${l#*: }"; return 0; }
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}
marks() { e2e_mark; SNIFF_MARK=$(wc -l <"$SNIFF_LOG"); }
reloads() { grep -c ': reloaded ' "$1"; }
hup() {	# hup PID LOG: SIGHUP and wait for its "reloaded" line
	local n0 end
	n0=$(reloads "$2")
	kill -HUP "$1"
	end=$(( $(world_now_ms) + 15000 ))	# the machine may be loaded
	while [ "$(reloads "$2")" -le "$n0" ] && [ "$(world_now_ms)" -lt "$end" ]; do sleep 0.05; done
	[ "$(reloads "$2")" -gt "$n0" ]
}
# Elements in the refusal sets, as "set:element ...".
refused() {
	local s e
	for s in $REFUSALS; do
		for e in $(world_set_list "$s"); do printf '%s:%s ' "$s" "$e"; done
	done
}
# stat DAEMON KEY: a counter of smtpgatectl stats DAEMON --json.
stat() {
	world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" stats "$1" --json 2>/dev/null |
		python3 -c 'import json, sys; print(list(json.load(sys.stdin).values())[0][sys.argv[1]])' "$2"
}
lacks() { ! grep -qF -- "$1" <<<"$2"; }

# ---- enforce = yes ----------------------------------------------------------
conf=$(e2e_sniff_conf observe "${BASE[@]}" gate.enforce=yes sniffer.enforce=yes)
e2e_sniff_start "$conf" || e2e_finish
SNIFF_PID=$E2E_PID SNIFF_LOG=$E2E_LOG
e2e_launch smtpgated smtpgated "$conf" || e2e_finish
GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
marks
declare -A ENF
for a in $NOPTR $GENERIC $LISTED $GENERIC6; do
	e2e_smtp_timed "$a" --helo mail.clean.test
	ENF[$a]=$(findings "$a")
	[ "$E2E_SMTP_RC" != 0 ] && [ -n "${ENF[$a]}" ] &&
		e2e_ok "enforce: $a refused (swaks $E2E_SMTP_RC): ${ENF[$a]%% ptr=*}" ||
		e2e_not_ok "enforce: $a: swaks $E2E_SMTP_RC, line '${ENF[$a]}', want refused"
done
e2e_check "enforce: $NOPTR tempfail no-ptr" e2e_has "${ENF[$NOPTR]}" verdict tempfail
e2e_check "enforce: $GENERIC reject generic-ptr" e2e_reason_has "${ENF[$GENERIC]}" generic-ptr
e2e_check "enforce: $LISTED reject dnsbl" e2e_reason_has "${ENF[$LISTED]}" dnsbl
e2e_check "enforce: $NOPTR's /24 waits (wait4)" world_set_has wait4 203.0.113.0
e2e_check "enforce: $GENERIC in deny4" world_set_has deny4 $GENERIC
e2e_check "enforce: $LISTED in deny4" world_set_has deny4 $LISTED
e2e_check "enforce: $GENERIC6's /64 in denynet6" world_set_has denynet6 2001:db8:c::
e2e_check "enforce: the clean client's mail gets through" world_smtp $CLEAN --helo mail.clean.test
ENF[$CLEAN]=$(findings $CLEAN)
out=$(raw --src $FORGED --helo localhost cut)
e2e_check "enforce: the forged HELO's session is cut ($out)" [ "$out" = "cut: reset" ]
ENF[$FORGED]=$(findings $FORGED)
jenf=$(judgment $FORGED)
e2e_check "enforce: the forged HELO is banned and cut ($jenf)" \
	grep -qE 'rule=unqualified strikes=1/1 action=ban timeout=[0-9]+ cut=yes$' <<<"$jenf"
e2e_check "enforce: $FORGED in offend4" world_set_has offend4 $FORGED
st="$(stat gate observed_reject)/$(stat gate observed_tempfail)/$(stat gate reject)/$(stat gate tempfail)"
e2e_check "enforce: stats observed_reject/observed_tempfail/reject/tempfail = 0/0/3/1 ($st)" [ "$st" = 0/0/3/1 ]

# ---- enforce = no by SIGHUP -------------------------------------------------
e2e_sniff_conf observe "${BASE[@]}" gate.enforce=no sniffer.enforce=no >/dev/null
e2e_check "SIGHUP: smtpgated reloaded" hup $GATE_PID "$GATE_LOG"
e2e_check "SIGHUP: smtpgate-sniffd reloaded" hup $SNIFF_PID "$SNIFF_LOG"
e2e_check "smtpgated says refusals already cached stay" \
	grep -qF 'reload: [gate] enforce = no: observe mode from the next verdict on; refusals already in the kernel' "$GATE_LOG"
e2e_check "smtpgate-sniffd says bans made stay" \
	grep -qF 'reload: [sniffer] enforce = no: observe mode from the next strike on' "$SNIFF_LOG"
e2e_check "a reload leaves the kernel's refusals alone ($(refused | wc -w) elements)" [ "$(refused | wc -w)" -ge 5 ]
# The documented switch: empty the caches (and the bans) too.
ctl cache flush; rc=$?
e2e_check "smtpgatectl cache flush ($(echo $CTL_OUT))" [ $rc = 0 ]
ctl offenders flush; rc=$?
e2e_check "smtpgatectl offenders flush ($(echo $CTL_OUT))" [ $rc = 0 ]
e2e_check "nothing refused in the kernel after the flush" [ -z "$(refused)" ]

# ---- observe: the same clients ----------------------------------------------
marks
for a in $NOPTR $GENERIC $LISTED $GENERIC6 $CLEAN; do
	e2e_smtp_timed "$a" --helo mail.clean.test
	e2e_check "observe: $a's mail reaches the MTA (swaks $E2E_SMTP_RC in $E2E_SMTP_MS ms)" [ "$E2E_SMTP_RC" = 0 ]
done
e2e_check "observe: the forged HELO's mail reaches the MTA" world_smtp $FORGED --helo localhost
for a in $GATED; do
	raw_line=$(e2e_wait_verdict "$a" 10)
	line=$(findings "$a")
	if [ -n "$line" ] && [ "$line" = "${ENF[$a]}" ] && grep -qE ': verdict=[a-z]+ enforced=no ip=' <<<"$raw_line"; then
		e2e_ok "observe: $a, the same findings with enforced=no: ${line%% ptr=*}"
	else
		e2e_not_ok "observe: $a: got '${raw_line#*: }', want '${ENF[$a]}' with enforced=no"
	fi
done
jobs=$(judgment $FORGED)
e2e_check "observe: the forged HELO's ban is logged, not made ($jobs)" \
	grep -qE 'rule=unqualified strikes=1/1 action=ban enforced=no timeout=[0-9]+$' <<<"$jobs"
e2e_check "observe: the same rule and action as in enforce mode" \
	[ "$(e2e_field "$jobs" rule)/$(e2e_field "$jobs" action)" = "$(e2e_field "$jenf" rule)/$(e2e_field "$jenf" action)" ]
r=$(refused)
e2e_check "observe: no deny/drop/wait/retry/offend element in the kernel (${r:-none})" [ -z "$r" ]
e2e_check "observe: a would-be refusal is cached as a pass ($NOPTR in pass4)" world_set_has pass4 $NOPTR
st="$(stat gate observed_reject)/$(stat gate observed_tempfail)/$(stat gate observed_drop)/$(stat gate reject)/$(stat gate tempfail)"
e2e_check "observe: stats observed_reject/_tempfail/_drop = 3/1/0, reject/tempfail still enforce's 3/1 ($st)" [ "$st" = 3/1/0/3/1 ]
ob=$(stat sniffer observed_bans)
st="$(stat sniffer bans)/$(stat sniffer cuts)"
e2e_check "observe: sniffer stats observed_bans=$ob (>= 1), bans/cuts still enforce's 1/1 ($st)" \
	[ "${ob:-0}" -ge 1 -a "$st" = 1/1 ]
# The would-be ban reset its record's strikes and kept no ban, so the
# record is gone at its bucket's next sweep (a sixtieth of the table a
# second): listed without a ban, or not listed at all.
ctl offenders list --json
e2e_check "observe: offenders shows no ban for $FORGED" python3 -c '
import json, sys
d = [x for x in json.loads(sys.argv[1]) if x["ip"] == sys.argv[2]]
assert all(x["status"] != "banned" and str(x["bans"]) == "0" and x.get("kernel") != "yes" for x in d), d
' "$CTL_OUT" $FORGED
ctl check $NOPTR
e2e_check "check says observe mode" grep -qF 'observe mode ([gate] enforce = no)' <<<"$CTL_OUT"
ctl check $NOPTR --json
e2e_check "check --json: enforced false" python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["enforced"] is False and d["verdict"] == "tempfail", d' "$CTL_OUT"

# ---- back to enforce = yes by SIGHUP ----------------------------------------
e2e_sniff_conf observe "${BASE[@]}" gate.enforce=yes sniffer.enforce=yes >/dev/null
e2e_check "SIGHUP: smtpgated back to enforce" hup $GATE_PID "$GATE_LOG"
e2e_check "SIGHUP: smtpgate-sniffd back to enforce" hup $SNIFF_PID "$SNIFF_LOG"
marks
e2e_expect 203.0.113.82 fail tempfail no-ptr - "enforce again: a new client without PTR is refused"
e2e_check "enforce again: its line has no enforced=no" lacks enforced= "${E2E_LINE:-enforced=}"
e2e_check "enforce again: its /24 waits" world_set_has wait4 203.0.113.0
out=$(raw --src 198.51.100.61 --helo localhost cut)
e2e_check "enforce again: a forged HELO is cut ($out)" [ "$out" = "cut: reset" ]
e2e_check "enforce again: and banned" world_set_has offend4 198.51.100.61
ctl check $NOPTR
e2e_check "check no longer says observe mode" lacks 'observe mode' "$CTL_OUT"

world_stop "$SNIFF_PID" TERM
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG" &&
	e2e_not_ok "sanitizer report in smtpgate-sniffd's stderr: $(grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG" | head -8)"
e2e_finish
