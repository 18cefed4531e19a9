#!/bin/bash
# t_ctl.sh BUILD_DIR - smtpgatectl against both running daemons: the allow
# list (who passes changes at once, survives a restart and a reload, bad
# input and a corrupt file change nothing, two writers lose nothing,
# overlaps), cache and offenders listings against the kernel's sets,
# `check` naming the daemon's own verdict and reasons for each test
# client, stats against the traffic sent, --json and --prometheus output,
# and exit 2 with the daemons down.
WORLD_PREFIX=${WORLD_PREFIX:-sgctl$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"

ALLOW=$WORLD_DIR/allow.list
conf=$(e2e_sniff_conf ctl "gate.control_socket=$WORLD_DIR/gate.sock" \
	"nft.allow_file=$ALLOW" sniffer.offender_strikes=1 \
	sniffer.offender_timeout=600)

# ctl ARGS...: smtpgatectl in the gateway namespace; status in CTL_RC,
# stdout in CTL_OUT, stderr in CTL_ERR.
ctl() {
	CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" "$@" 2>"$WORLD_DIR/ctl.err")
	CTL_RC=$?
	CTL_ERR=$(cat "$WORLD_DIR/ctl.err")
	grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$WORLD_DIR/ctl.err" &&
		e2e_not_ok "sanitizer report from smtpgatectl $*: $(head -5 "$WORLD_DIR/ctl.err")"
	return 0
}
# expect_rc WANT DESC ARGS...: run ctl, check its exit status.
expect_rc() {
	local want=$1 desc=$2; shift 2
	ctl "$@"
	if [ "$CTL_RC" = "$want" ]; then
		e2e_ok "$desc (exit $CTL_RC${CTL_ERR:+: ${CTL_ERR%%$'\n'*}})"
	else
		e2e_not_ok "$desc: got exit $CTL_RC, want $want (out: $CTL_OUT err: $CTL_ERR)"
	fi
}
json_ok() { printf '%s\n' "$CTL_OUT" | python3 -m json.tool >/dev/null 2>&1; }
# in_allow ADDR: does the kernel's allow set (an interval set) cover ADDR?
in_allow() {
	local s=allow4
	world_is_v6 "$1" && s=allow6
	world_gw nft get element inet "$WORLD_TABLE" $s "{ $1 }" >/dev/null 2>&1
}
not_in_allow() { ! in_allow "$1"; }
not_in_set() { ! world_set_has "$1" "$2"; }
# smtp_ok ADDR: does one mail from ADDR get through?
smtp_ok() { world_smtp "$1" --helo "mail.example.test" >/dev/null 2>&1; }

# ---- daemons down, no table yet ----------------------------------------
expect_rc 2 "stats with no daemon running" stats
expect_rc 2 "offenders list with no sniffer" offenders list
expect_rc 2 "reload with no daemon" reload
expect_rc 2 "cache list with no nft table" cache list

# ---- bad input changes nothing -----------------------------------------
expect_rc 1 "allow add: not an address" allow add mail.example.com
expect_rc 1 "allow add: host bits set" allow add 192.0.2.77/24
e2e_check "host bits: the message names the network" \
	grep -q "the network is 192.0.2.0/24" <<<"$CTL_ERR"
expect_rc 1 "allow add: IPv4 prefix too long" allow add 198.51.100.0/33
expect_rc 1 "allow add: IPv6 prefix too long" allow add 2001:db8::/129
expect_rc 1 "allow add: comment with an escape" allow add 198.51.100.11 --comment $'a\033[31mb'
expect_rc 1 "allow add: comment with a newline" allow add 198.51.100.11 --comment $'a\nb'
expect_rc 1 "allow add: bad duration" allow add 198.51.100.11 --expires soon
expect_rc 1 "allow add: /0" allow add 0.0.0.0/0
expect_rc 1 "allow add: two prefixes" allow add 198.51.100.11 198.51.100.12
expect_rc 1 "allow: unknown subcommand" allow frob
expect_rc 1 "unknown option" allow add 198.51.100.11 --frob
expect_rc 1 "--prometheus outside stats" allow list --prometheus
e2e_check "refused input wrote no allow file" [ ! -e "$ALLOW" ]
expect_rc 1 "check: not an address" check 198.51.100.300

# ---- the gate running: allow add/del change who passes at once ----------
e2e_start "$conf" || e2e_finish
expect_rc 0 "stats gate while the sniffer is down" stats gate
expect_rc 2 "stats of both with the sniffer down" stats
e2e_check "stats text names the missing daemon" grep -q "smtpgate-sniffd: not reachable" <<<"$CTL_OUT"

e2e_mark
if smtp_ok 198.51.100.11; then e2e_not_ok "no-PTR client passed before allow"; else e2e_ok "no-PTR client rejected before allow"; fi
expect_rc 0 "allow add with comment and expiry" allow add 198.51.100.11 --comment "partner relay, ticket 42" --expires 7d
e2e_check "allow4 holds the entry at once" in_allow 198.51.100.11
e2e_check "the allowed client passes at once (its deny4 entry is still there)" smtp_ok 198.51.100.11
expect_rc 0 "allow list --json" allow list --json
e2e_check "allow list --json parses" json_ok
e2e_check "allow list --json has the entry and comment" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
e = [x for x in d if x["prefix"] == "198.51.100.11/32"]
assert e and e[0]["comment"] == "partner relay, ticket 42" and e[0]["expires"] > 0, d
' "$CTL_OUT"
: >"$ALLOW.tmp.Ab12Cd"; : >"$ALLOW.tmp.keepme.x"
expect_rc 0 "allow add of the same address again updates it" allow add 198.51.100.11 --comment "partner relay"
e2e_check "a crashed save's temporary is removed under the lock" [ ! -e "$ALLOW.tmp.Ab12Cd" ]
e2e_check "the removal is noted" grep -q "^note: removed 1 temporary file left beside" <<<"$CTL_OUT"
e2e_check "a file of another name beside it is left alone" [ -e "$ALLOW.tmp.keepme.x" ]
e2e_check "re-add says updated" grep -q "^updated 198.51.100.11/32" <<<"$CTL_OUT"
e2e_check "still one entry for it" [ "$(grep -c '^198.51.100.11/32' "$ALLOW")" = 1 ]
expect_rc 0 "allow del" allow del 198.51.100.11
e2e_check "allow4 lost it at once" not_in_allow 198.51.100.11
if smtp_ok 198.51.100.11; then e2e_not_ok "client still passes after allow del"; else e2e_ok "client rejected again after allow del"; fi
expect_rc 3 "allow del of an absent entry" allow del 198.51.100.11

# An entry that expires leaves the kernel when it does (the daemon's timer).
expect_rc 0 "allow add with --expires 2s" allow add 198.51.100.26 --expires 2s
e2e_check "the expiring entry is in allow4" in_allow 198.51.100.26
sleep 3.5
e2e_check "after 2 s it left allow4" not_in_allow 198.51.100.26
ctl allow list --json
e2e_check "allow list shows it expired" python3 -c '
import json, sys
e = [x for x in json.loads(sys.argv[1]) if x["prefix"] == "198.51.100.26/32"]
assert e and e[0]["status"] == "expired", e' "$CTL_OUT"

# ---- IPv6, overlaps ------------------------------------------------------
if smtp_ok 2001:db8:b::11; then e2e_not_ok "IPv6 no-PTR client passed before allow"; else e2e_ok "IPv6 no-PTR client rejected before allow"; fi
expect_rc 0 "allow add IPv6 prefix" allow add 2001:db8:b::/120 --comment v6
e2e_check "allow6 covers 2001:db8:b::11" in_allow 2001:db8:b::11
e2e_check "the IPv6 no-PTR client inside it passes at once" smtp_ok 2001:db8:b::11
expect_rc 0 "allow add a /24" allow add 203.0.113.0/24
expect_rc 0 "allow add an address inside it" allow add 203.0.113.7
e2e_check "the overlap is noted" grep -q "lies inside the listed 203.0.113.0/24" <<<"$CTL_OUT"
e2e_check "the file keeps both" [ "$(grep -c '^203.0.113.' "$ALLOW")" = 2 ]
kernel4=$(world_set_list allow4 | tr '\n' ' ')
e2e_check "kernel holds the /24 once, not the /32 inside ($kernel4)" \
	bash -c "grep -q '203.0.113.0/24' <<<'$kernel4' && ! grep -q '203.0.113.7' <<<'$kernel4'"
expect_rc 0 "allow del the /24" allow del 203.0.113.0/24
e2e_check "203.0.113.7 stays allowed" in_allow 203.0.113.7
e2e_check "203.0.113.8 no longer" not_in_allow 203.0.113.8
e2e_check "trusted networks stay in allow4" in_allow 192.0.2.2
e2e_check "loopback stays in allow4" in_allow 127.0.0.1
expect_rc 3 "allow del of an address inside a listed prefix" allow del 2001:db8:b::11
e2e_check "the message names the covering entry" grep -q "inside the listed 2001:db8:b::/120" <<<"$CTL_ERR"

# ---- restart and reload --------------------------------------------------
expect_rc 0 "allow add before the restart" allow add 198.51.100.11 --comment restart
e2e_stop TERM
e2e_start "$conf" || e2e_finish
e2e_check "after a restart (table rebuilt) the entry is applied again" in_allow 198.51.100.11
e2e_check "after a restart the allowed client passes" smtp_ok 198.51.100.11
printf '198.51.100.17 # added by hand\n' >>"$ALLOW"
expect_rc 2 "reload (sniffer still down)" reload
expect_rc 0 "reload gate" reload gate
e2e_check "a hand-added entry is applied by reload" in_allow 198.51.100.17
cp "$ALLOW" "$WORLD_DIR/allow.good"
printf '198.51.100.300\n' >>"$ALLOW"
cp "$ALLOW" "$WORLD_DIR/allow.bad"
expect_rc 1 "allow add with a corrupt file" allow add 198.51.100.20
e2e_check "the error names file and line" grep -q "allow.list:[0-9]*: not an address" <<<"$CTL_ERR"
e2e_check "the corrupt file is left as it was" cmp -s "$ALLOW" "$WORLD_DIR/allow.bad"
expect_rc 4 "reload gate with a corrupt allow file: the daemon refuses" reload gate
e2e_check "the kernel keeps the last good list" in_allow 198.51.100.17
cp "$WORLD_DIR/allow.good" "$ALLOW"

# ---- two writers at once lose nothing ------------------------------------
racers=
for w in 1 2; do
	(for i in $(seq 1 12); do
		world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" allow add "198.18.$w.$i" --comment "w$w" >/dev/null 2>&1 || echo fail
	done) >"$WORLD_DIR/race.$w" &
	racers="$racers $!"
done
wait $racers
n=$(grep -c '^198\.18\.[12]\.' "$ALLOW")
e2e_check "two concurrent writers: 24 entries in the file (got $n), no failure" \
	bash -c "[ $n = 24 ] && ! grep -q fail $WORLD_DIR/race.1 $WORLD_DIR/race.2"
all_in() { local w i; for w in 1 2; do for i in $(seq 1 12); do in_allow 198.18.$w.$i || return 1; done; done; }
e2e_check "and every one in the kernel" all_in
printf '198.51.100.11\n' >"$WORLD_DIR/import"
printf '198.18.3.0/24 # imported\n' >>"$WORLD_DIR/import"
expect_rc 0 "allow import" allow import "$WORLD_DIR/import"
e2e_check "import counted one new, one updated" grep -q "1 new, 1 updated" <<<"$CTL_OUT"
printf '198.18.4.0/24\nnot-an-address\n' >"$WORLD_DIR/import.bad"
expect_rc 1 "allow import of a faulty file" allow import "$WORLD_DIR/import.bad"
e2e_check "nothing of the faulty import applied" bash -c "! grep -q 198.18.4.0 $ALLOW"

# ---- verdicts: check names what the daemon decided -----------------------
world_flush_sets
e2e_mark
clients="198.51.100.10 198.51.100.12 198.51.100.13 198.51.100.14 198.51.100.15 198.51.100.16 198.51.100.17 2001:db8:c::10 2001:db8:c::12 2001:db8:c::13 2001:db8:c::15"
# 198.51.100.17 is on the allow list: it must not reach the daemon.
sent=0
for a in $clients; do
	world_smtp "$a" >/dev/null 2>&1
	sent=$((sent + 1))
done
for a in $clients; do
	if [ "$a" = 198.51.100.17 ]; then
		ctl check "$a" --json
		e2e_check "check $a: allowed (allow list), and the daemon saw no SYN" bash -c "
			python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[\"verdict\"]==\"accept\" and d[\"reasons\"]==[\"allowed\"], d' '$CTL_OUT' &&
			[ \$(tail -n +$((E2E_MARK + 1)) $E2E_LOG | grep -c ' ip=$a ') = 0 ]"
		continue
	fi
	line=$(e2e_wait_verdict "$a" 6) || { e2e_not_ok "no daemon verdict for $a"; continue; }
	ctl check "$a" --json
	got=$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["verdict"], ",".join(d["reasons"]) or "ok")' "$CTL_OUT" 2>&1)
	want="$(e2e_field "$line" verdict) $(e2e_field "$line" reason)"
	if [ "$got" = "$want" ]; then
		e2e_ok "check $a: $got, as the daemon decided"
	else
		e2e_not_ok "check $a: got '$got', daemon '$want' ($line)"
	fi
done
ctl check 198.51.100.12
e2e_check "check text explains PTR, forward, class, dnsbl and verdict" bash -c '
	grep -q "^PTR: ok: 198-51-100-12.dynamic.example.net" <<<"$1" &&
	grep -q "forward 198-51-100-12.dynamic.example.net A: ok 198.51.100.12 -> confirms the client" <<<"$1" &&
	grep -q "^class: generic" <<<"$1" && grep -q "^dnsbl bl.test: " <<<"$1" &&
	grep -q "^verdict: reject reason=generic-ptr" <<<"$1"' _ "$CTL_OUT"
ctl check 198.51.100.13
e2e_check "check names the DNSBL answer, entry and weight" bash -c '
	grep -q "^dnsbl bl.test: answers 127.0.0.2 -> weight 3" <<<"$1" &&
	grep -q "entry bl.test=127.0.0.\[2..11\]\*3: matches" <<<"$1"' _ "$CTL_OUT"
ctl check 198.51.100.10 --helo localhost --mail-from someone@clean.test
e2e_check "check --helo names the sniffer's rule and action" bash -c '
	grep -q "rule unqualified: broken, action offend" <<<"$1"' _ "$CTL_OUT"
ctl check 192.0.2.2 --json
e2e_check "check of a trusted address says so" python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["trusted"] and d["verdict"] == "accept"' "$CTL_OUT"

# ---- cache listings match the kernel --------------------------------------
expect_rc 0 "cache list --json" cache list --json
e2e_check "cache list --json parses" json_ok
for s in pass4 deny4 drop4 pass6 deny6 drop6; do
	k=$(world_set_list $s | sort | tr '\n' ' ')
	c=$(python3 -c '
import json, sys
print(" ".join(sorted(e["ip"] for e in json.loads(sys.argv[1]) if e["set"] == sys.argv[2])))' "$CTL_OUT" "$s")
	e2e_check "cache list $s matches nft ($k)" [ "$(echo $k)" = "$c" ]
done
expect_rc 0 "cache del a passed client" cache del 198.51.100.10
e2e_check "gone from pass4" not_in_set pass4 198.51.100.10
expect_rc 3 "cache del again: not cached" cache del 198.51.100.10
expect_rc 1 "cache del: not an address" cache del 198.51.100
expect_rc 0 "cache flush deny" cache flush deny
e2e_check "deny4 and deny6 empty" [ -z "$(world_set_list deny4)$(world_set_list deny6)" ]
expect_rc 1 "cache flush: bad set word" cache flush frob

# ---- stats match the traffic -----------------------------------------------
expect_rc 0 "stats gate --json" stats gate --json
e2e_check "stats --json parses" json_ok
start=$(grep -n ': started' "$E2E_LOG" | tail -1 | cut -d: -f1)
nv=$(tail -n +"$start" "$E2E_LOG" | grep -c 'verdict=')
e2e_check "stats: verdicts = the $nv verdict lines logged since the start, = accept+reject+drop" python3 -c '
import json, sys
g = json.loads(sys.argv[1])["smtpgated"]
assert g["verdicts"] == g["accept"] + g["reject"] + g["drop"], g
assert g["verdicts"] == int(sys.argv[2]), (g["verdicts"], sys.argv[2])
assert g["generic_ptr"] >= 2 and g["dnsbl"] >= 2 and g["dnswl"] >= 1, g
' "$CTL_OUT" "$nv"

# ---- the sniffer: offenders, stats of both, prometheus ---------------------
SNIFF_LOG=$WORLD_DIR/sniffd.log
touch "$SNIFF_LOG"
world_bg sniffd "$E2E_BUILD/smtpgate-sniffd" -c "$conf" -f
SNIFF_PID=$WORLD_BG_PID
world_wait_log "$SNIFF_LOG" ': started' 10 || e2e_not_ok "smtpgate-sniffd did not start: $(tail -3 "$SNIFF_LOG")"
off=198.51.100.56
world_smtp $off --helo localhost >/dev/null 2>&1
end=$(( $(world_now_ms) + 6000 ))
until world_set_has offend4 $off || [ "$(world_now_ms)" -ge "$end" ]; do sleep 0.1; done
expect_rc 0 "offenders list --json" offenders list --json
e2e_check "offenders list --json parses" json_ok
e2e_check "offenders list names $off: banned, rule unqualified, in the kernel" python3 -c '
import json, sys
d = [x for x in json.loads(sys.argv[1]) if x["ip"] == sys.argv[2]]
assert d and d[0]["status"] == "banned" and d[0]["rule"] == "unqualified" and d[0]["kernel"] == "yes" and d[0]["left_s"] > 0, d
' "$CTL_OUT" $off
k=$(world_set_list offend4 | sort | tr '\n' ' ')
c=$(python3 -c '
import json, sys
print(" ".join(sorted(e["ip"] for e in json.loads(sys.argv[1]) if e["status"] == "banned" and ":" not in e["ip"])))' "$CTL_OUT")
e2e_check "banned offenders match offend4 ($k)" [ "$(echo $k)" = "$c" ]
expect_rc 0 "offenders list (text)" offenders list
expect_rc 0 "offenders del" offenders del $off
e2e_check "$off left offend4" not_in_set offend4 $off
expect_rc 3 "offenders del again: not an offender" offenders del $off
expect_rc 1 "offenders del: not an address" offenders del frob
expect_rc 0 "offenders flush" offenders flush
expect_rc 0 "stats of both" stats --json
e2e_check "stats of both parse, each an object" python3 -c '
import json, sys
d = json.loads(sys.argv[1]); assert isinstance(d["smtpgated"], dict) and isinstance(d["smtpgate-sniffd"], dict), d' "$CTL_OUT"
expect_rc 0 "stats --prometheus" stats --prometheus
printf '%s\n' "$CTL_OUT" >"$WORLD_DIR/metrics.prom"
e2e_check "prometheus exposition: strict format" python3 - "$WORLD_DIR/metrics.prom" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
lines = open(sys.argv[1]).read().splitlines()
assert lines, "empty"
typed, helped, seen = {}, set(), set()
for l in lines:
    if l.startswith("# HELP "):
        m = re.fullmatch(r'# HELP (%s) .+' % name, l); assert m, l
        helped.add(m.group(1))
    elif l.startswith("# TYPE "):
        m = re.fullmatch(r'# TYPE (%s) (counter|gauge)' % name, l); assert m, l
        assert m.group(1) not in typed, "TYPE twice: " + l
        typed[m.group(1)] = m.group(2)
    else:
        m = re.fullmatch(r'(%s)(\{daemon="[a-z-]+"\})? ([0-9]+(\.[0-9]+)?)' % name, l); assert m, l
        n = m.group(1)
        assert n in typed, "sample before its TYPE: " + l
        assert (n, m.group(2)) not in seen, "sample twice: " + l
        seen.add((n, m.group(2)))
        if typed[n] == "counter": assert n.endswith("_total"), l
        assert not re.search(r'_(us|ms|s)(_total)?$', n), "abbreviated unit: " + l
for want in ('smtpgate_up', 'smtpgate_gate_verdicts_total', 'smtpgate_gate_pending'):
    assert want in typed, want + " missing"
assert ('smtpgate_up', '{daemon="smtpgated"}') in seen and ('smtpgate_up', '{daemon="smtpgate-sniffd"}') in seen
PY
if command -v promtool >/dev/null 2>&1; then
	if out=$(promtool check metrics <"$WORLD_DIR/metrics.prom" 2>&1); then
		e2e_ok "promtool check metrics"
	else
		e2e_not_ok "promtool check metrics: $out"
	fi
else
	e2e_note "promtool not installed: strict format test only"
fi
expect_rc 0 "reload both daemons" reload

# ---- daemons down ------------------------------------------------------------
world_stop "$SNIFF_PID" TERM
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG"; then
	e2e_not_ok "sanitizer report in smtpgate-sniffd's stderr: $(grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG" | head -8)"
fi
expect_rc 2 "offenders list with the sniffer stopped" offenders list
e2e_stop TERM
expect_rc 2 "stats with both daemons stopped" stats
e2e_check "stats names each unreachable daemon" bash -c 'grep -q "smtpgated: .*gate.sock" <<<"$1" && grep -q "smtpgate-sniffd: .*sniffd.sock" <<<"$1"' _ "$CTL_ERR"
expect_rc 2 "reload with both daemons stopped" reload
e2e_finish
