#!/bin/bash
# t_sniff_bans.sh BUILD_DIR - strikes, bans in offend4/offend6, the doubling
# of repeat bans up to offender_timeout_max, expiry from the kernel set,
# trusted networks never banned, the state file across a restart, the
# control verbs (offenders, forget, forget-all), and mail flowing with the
# sniffer killed.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf bans sniffer.offender_strikes=2 sniffer.offender_window=60 \
	sniffer.offender_timeout=4 sniffer.offender_timeout_max=10)
e2e_sniff_start "$conf" || e2e_finish

# strike ADDR WANT_ACTION DESC: one forged session, its judgment's action.
strike() {
	local addr=$1 want=$2 desc=$3 line
	e2e_mark
	world_smtp "$addr" --helo localhost
	if ! line=$(e2e_wait_judgment "$addr" unqualified 6); then
		e2e_not_ok "$desc: no judgment for $addr"
		return 1
	fi
	if [ "$(e2e_field "$line" action)" = "$want" ]; then
		e2e_ok "$desc (${line#*: })"
	else
		e2e_not_ok "$desc: got action=$(e2e_field "$line" action), want $want (${line#*: })"
	fi
	LAST=$line
}

wait_set() {	# wait_set SET ADDR yes|no TIMEOUT_S
	local end=$(( $(world_now_ms) + $4 * 1000 )) has
	while :; do
		has=no; world_set_has "$1" "$2" && has=yes
		[ "$has" = "$3" ] && return 0
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

a=198.51.100.56
strike $a strike "first forged session: a strike"
e2e_check "one strike does not ban" wait_set offend4 $a no 0
strike $a ban "second forged session within the window: banned"
e2e_check "ban timeout is offender_timeout (4)" [ "$(e2e_field "$LAST" timeout)" = 4 ]
e2e_check "$a in offend4" wait_set offend4 $a yes 3
if world_smtp $a --helo mail56.clean.test; then
	e2e_not_ok "a banned client still gets a session"
else
	e2e_ok "a banned client's new session is reset"
fi
e2e_check "the ban expires from offend4" wait_set offend4 $a no 7
e2e_check "mail flows again after the ban" world_smtp $a --helo mail56.clean.test
strike $a strike "after the ban: strikes start over"
strike $a ban "repeat ban"
e2e_check "repeat ban doubles the timeout (8)" [ "$(e2e_field "$LAST" timeout)" = 8 ]
e2e_check "$a in offend4 again" wait_set offend4 $a yes 3
e2e_check "the doubled ban expires" wait_set offend4 $a no 11
strike $a strike "third round: strike"
strike $a ban "third ban"
e2e_check "third ban capped at offender_timeout_max (10)" [ "$(e2e_field "$LAST" timeout)" = 10 ]

# Trusted networks are never judged nor banned.
t=192.0.2.2
e2e_mark
world_smtp $t --helo localhost
world_smtp $t --helo localhost
sleep 0.5
e2e_check "trusted client: no judgment" [ -z "$(e2e_judgments $t)" ]
e2e_check "trusted client not in offend4" wait_set offend4 $t no 1

# The allow list (allow4, as smtpgatectl allow fills it): not even sniffed.
world_gw nft add element inet "$WORLD_TABLE" allow4 '{ 198.51.100.62 }'
e2e_mark
world_smtp 198.51.100.62 --helo localhost
world_smtp 198.51.100.62 --helo localhost
sleep 0.5
e2e_check "allow-listed client: no judgment" [ -z "$(e2e_judgments 198.51.100.62)" ]
e2e_check "allow-listed client not in offend4" wait_set offend4 198.51.100.62 no 0

# Longer bans from here on: a restart must find them still running.
conf2=$(e2e_sniff_conf bans2 sniffer.offender_strikes=2 sniffer.offender_window=60 \
	sniffer.offender_timeout=30 sniffer.offender_timeout_max=60)
e2e_stop TERM
e2e_check "sniffer stopped cleanly" [ "$E2E_RC" = 0 ]
e2e_sniff_run "$conf2"
b=2001:db8:c::50
strike $b strike "IPv6: strike"
strike $b ban "IPv6: ban"
e2e_check "$b in offend6" wait_set offend6 $b yes 3

# Control verbs and the state file.
out=$(e2e_ctl offenders)
e2e_check "offenders lists $a with bans=3" grep -qE "^ip=$a strikes=0 first=[0-9]+ last=[0-9]+ rule=unqualified bans=3 banned_until=[0-9]+$" <<<"$out"
e2e_check "offenders lists $b as banned" grep -qE "^ip=$b strikes=0 .* bans=1 banned_until=[1-9]" <<<"$out"
sleep 1.2
e2e_check "state file written with its header" grep -qx '# smtpgate-sniffd state v1' "$E2E_STATE/sniffer.state"
e2e_check "state file holds $a" grep -q "^ip=$a .* bans=3 " "$E2E_STATE/sniffer.state"

# Restart with the sets emptied (as by a ruleset reinstall): the state
# file brings the running ban back.
e2e_stop TERM
world_gw nft flush set inet "$WORLD_TABLE" offend6
e2e_sniff_run "$conf2"
out=$(e2e_ctl offenders)
e2e_check "after a restart, $a still has bans=3" grep -q "^ip=$a .* bans=3 " <<<"$out"
e2e_check "after a restart, $b is banned in offend6 again" wait_set offend6 $b yes 2
e2e_mark
world_smtp 198.51.100.57 --helo localhost
e2e_wait_judgment 198.51.100.57 unqualified 6 >/dev/null
out=$(e2e_ctl "forget $b")
e2e_check "forget $b answers ok" [ "$out" = ok ]
e2e_check "forget removes $b from offend6" wait_set offend6 $b no 3
e2e_check "forget removes $b from offenders" bash -c "! grep -q '^ip=$b ' <<<\"\$1\"" _ "$(e2e_ctl offenders)"
e2e_check "forget of an unknown address is an error" grep -q '^error: ' <<<"$(e2e_ctl 'forget 198.51.100.99')"
e2e_check "stats answers counters" grep -qE '^queued=[0-9]+ .*strikes=[0-9]+ bans=[0-9]+' <<<"$(e2e_ctl stats | tail -1)"
e2e_check "reload over the control socket answers ok" [ "$(e2e_ctl reload)" = ok ]
kill -HUP "$E2E_PID"
e2e_check "SIGHUP reloads" world_wait_log "$E2E_LOG" ': reloaded ' 3
kill -USR1 "$E2E_PID"
e2e_check "SIGUSR1 logs the counters" world_wait_log "$E2E_LOG" ': stats queued=[0-9]+ ' 3
out=$(e2e_ctl forget-all)
e2e_check "forget-all answers ok" [ "$out" = ok ]
e2e_check "forget-all leaves no offenders" [ "$(e2e_ctl offenders)" = ok ]

# The sniffer killed: the queue's bypass lets mail flow.
e2e_stop KILL
e2e_check "sniffer killed: mail still flows (v4)" world_smtp 198.51.100.10 --helo mail.clean.test
e2e_check "sniffer killed: mail still flows (v6)" world_smtp 2001:db8:c::10 --helo mail6.clean.test
e2e_sniff_run "$conf"
e2e_check "sniffer restarted after SIGKILL" e2e_alive
e2e_check "mail flows with the restarted sniffer" world_smtp 198.51.100.10 --helo mail.clean.test
e2e_finish
