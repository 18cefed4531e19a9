#!/bin/bash
# t_allow_writer.sh BUILD_DIR - one writer of the kernel's allow sets.
# With smtpgated running, `smtpgatectl allow` changes the file and asks
# the daemon, which writes allow4/allow6 once: the command writes nothing
# to the kernel (run without CAP_NET_ADMIN it still succeeds, and nft
# monitor sees the new element added once).  With the daemon down the
# command writes the sets itself (once; without CAP_NET_ADMIN it cannot,
# exit 2, and the file is changed all the same).  A daemon that answers
# an error makes the exit status 4.
WORLD_PREFIX=${WORLD_PREFIX:-sgaw$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"
command -v setpriv >/dev/null || e2e_skip "setpriv (util-linux) not installed"

ALLOW=$WORLD_DIR/allow.list
conf=$(e2e_conf writer "nft.allow_file=$ALLOW")

# ctl [nocap] ARGS...: smtpgatectl in the gateway namespace, as root, or
# as root without CAP_NET_ADMIN; CTL_RC, CTL_OUT, CTL_ERR.
ctl() {
	local pre=()
	if [ "$1" = nocap ]; then
		pre=(setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-net_admin)
		shift
	fi
	CTL_OUT=$(world_gw "${pre[@]}" "$E2E_BUILD/smtpgatectl" -c "$conf" "$@" 2>"$WORLD_DIR/ctl.err")
	CTL_RC=$?
	CTL_ERR=$(cat "$WORLD_DIR/ctl.err")
	grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$WORLD_DIR/ctl.err" &&
		e2e_not_ok "sanitizer report from smtpgatectl $*: $(head -5 "$WORLD_DIR/ctl.err")"
	return 0
}
expect_rc() {
	local want=$1 desc=$2; shift 2
	ctl "$@"
	if [ "$CTL_RC" = "$want" ]; then
		e2e_ok "$desc (exit $CTL_RC${CTL_ERR:+: ${CTL_ERR%%$'\n'*}})"
	else
		e2e_not_ok "$desc: got exit $CTL_RC, want $want (out: $CTL_OUT err: $CTL_ERR)"
	fi
}
in_allow() { world_gw nft get element inet "$WORLD_TABLE" allow4 "{ $1 }" >/dev/null 2>&1; }

# The kernel's own record of who wrote the sets: nft monitor.
MON=
mon_start() {
	: >"$WORLD_DIR/monitor.log"
	world_bg monitor nft monitor elements
	MON=$WORLD_BG_PID
	sleep 0.5	# subscribed before the first change
}
mon_stop() {
	sleep 0.5	# the last events read
	world_stop "$MON" TERM
	MON=
}
# adds ADDR: how often the monitor saw ADDR added to allow4.
adds() { grep -c "add element inet $WORLD_TABLE allow4 .*[{ ]$1[/ ,}]" "$WORLD_DIR/monitor.log"; }
# applied: the daemon's "allow list: N entries in force" lines so far.
applied() { grep -c 'allow list: .* in force' "$E2E_LOG"; }

e2e_start "$conf" || e2e_finish
out=$(world_gw setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-net_admin nft list tables 2>&1)
e2e_check "without CAP_NET_ADMIN the kernel's sets cannot be read ($out)" \
	grep -q 'Operation not permitted' <<<"$out"

# ---- the daemon running: it is the one writer -----------------------------
n0=$(applied)
expect_rc 0 "allow add without CAP_NET_ADMIN, the daemon running" nocap allow add 198.51.100.40
e2e_check "the daemon wrote it: allow4 holds 198.51.100.40" in_allow 198.51.100.40
e2e_check "the daemon applied the file once ($n0 -> $(applied))" [ "$(applied)" = $((n0 + 1)) ]
e2e_check "no note of a direct write" bash -c "! grep -q 'written directly' <<<\"\$1\"" _ "$CTL_OUT"

mon_start
n0=$(applied)
expect_rc 0 "allow add as root, the daemon running" allow add 198.51.100.41
mon_stop
e2e_check "allow4 holds 198.51.100.41" in_allow 198.51.100.41
e2e_check "nft monitor: 198.51.100.41 added to allow4 once (got $(adds 198.51.100.41))" \
	[ "$(adds 198.51.100.41)" = 1 ]
e2e_check "the daemon applied the file once ($n0 -> $(applied))" [ "$(applied)" = $((n0 + 1)) ]

mon_start
expect_rc 0 "allow del, the daemon running" allow del 198.51.100.40
expect_rc 0 "allow apply, the daemon running" nocap allow apply
mon_stop
if in_allow 198.51.100.40; then e2e_not_ok "198.51.100.40 still in allow4 after del"; else e2e_ok "198.51.100.40 left allow4 after del"; fi
e2e_check "del and apply: two writes, both the daemon's (adds of .41: $(adds 198.51.100.41))" \
	[ "$(adds 198.51.100.41)" = 2 ]

# ---- the daemon down: the command writes the sets itself ------------------
e2e_stop TERM
mon_start
expect_rc 0 "allow add as root, the daemon down" allow add 198.51.100.42
mon_stop
e2e_check "it says it wrote the sets itself" grep -q 'smtpgated is not running.*written directly' <<<"$CTL_OUT"
e2e_check "allow4 holds 198.51.100.42" in_allow 198.51.100.42
e2e_check "nft monitor: 198.51.100.42 added once (got $(adds 198.51.100.42))" \
	[ "$(adds 198.51.100.42)" = 1 ]
expect_rc 2 "allow add without CAP_NET_ADMIN, the daemon down: no writer" nocap allow add 198.51.100.43
e2e_check "the file is changed all the same" grep -q '^198\.51\.100\.43/32' "$ALLOW"
e2e_check "the message says the sets are not" grep -q "allow sets are not" <<<"$CTL_ERR"
if in_allow 198.51.100.43; then e2e_not_ok "198.51.100.43 in allow4 without a writer"; else e2e_ok "198.51.100.43 not in allow4 (no writer)"; fi

# ---- the daemon answers an error ------------------------------------------
e2e_start "$conf" || e2e_finish
e2e_check "at start the daemon applies the file: 198.51.100.43 in allow4" in_allow 198.51.100.43
world_gw nft delete table inet "$WORLD_TABLE"
expect_rc 4 "allow add with the daemon's table gone: the daemon refuses" allow add 198.51.100.44
e2e_check "the message names smtpgated and the cause" grep -q 'smtpgated: allow-reload: .*allow' <<<"$CTL_ERR"
e2e_check "the file is changed" grep -q '^198\.51\.100\.44/32' "$ALLOW"
e2e_stop TERM
e2e_install "$conf"
e2e_finish
