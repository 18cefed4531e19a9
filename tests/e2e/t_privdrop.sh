#!/bin/bash
# t_privdrop.sh BUILD_DIR - both daemons, started as root, run as user
# smtpgate with CAP_NET_ADMIN alone (/proc/PID/status: Uid, Gid, Groups,
# CapEff, CapPrm, CapBnd, CapInh, CapAmb, NoNewPrivs), and still do what
# they must after the switch: the sniffer writes its state file (in the
# directory it made for that user before the switch), both answer their
# control sockets (group smtpgate) to smtpgatectl as root, both reload
# (control socket and SIGHUP), smtpgated reads its allow file again and
# the sniffer still cuts and bans.  A missing user and a state directory
# the user cannot write stop the start with one line (never staying
# root); started as the user with ambient CAP_NET_ADMIN (as the systemd
# units do) nothing is switched and the daemon runs.
WORLD_PREFIX=${WORLD_PREFIX:-sgpd$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"

uid=$(id -u smtpgate) gid=$(id -g smtpgate)
NET_ADMIN=0000000000001000	# bit 12
NONE=0000000000000000
ALLOW=$WORLD_DIR/allow.list
conf=$(e2e_sniff_conf priv "gate.control_socket=$WORLD_DIR/gate.sock" \
	"nft.allow_file=$ALLOW" sniffer.offender_strikes=1 \
	sniffer.offender_timeout=600)

# status PID FIELD: the field of /proc/PID/status, its values joined by
# single spaces.
status() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ +/, ""); print }' "/proc/$1/status"; }
status_is() {	# PID FIELD WANT
	local got
	got=$(status "$1" "$2")
	[ "$got" = "$3" ] && return 0
	echo "#   $2: got '$got', want '$3'"
	return 1
}
check_creds() {	# NAME PID
	local n=$1 p=$2
	e2e_check "$n: Uid real/effective/saved/fs all smtpgate ($uid)" status_is "$p" Uid "$uid $uid $uid $uid"
	e2e_check "$n: Gid all smtpgate ($gid)" status_is "$p" Gid "$gid $gid $gid $gid"
	e2e_check "$n: supplementary groups only smtpgate" status_is "$p" Groups "$gid"
	e2e_check "$n: CapEff is CAP_NET_ADMIN alone" status_is "$p" CapEff $NET_ADMIN
	e2e_check "$n: CapPrm is CAP_NET_ADMIN alone" status_is "$p" CapPrm $NET_ADMIN
	e2e_check "$n: CapBnd is CAP_NET_ADMIN alone" status_is "$p" CapBnd $NET_ADMIN
	e2e_check "$n: CapInh and CapAmb empty" bash -c "[ '$(status "$p" CapInh)' = $NONE ] && [ '$(status "$p" CapAmb)' = $NONE ]"
	e2e_check "$n: NoNewPrivs set" status_is "$p" NoNewPrivs 1
}
ctl() {
	CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" "$@" 2>&1)
	CTL_RC=$?
}
sanitizer_clean() {	# NAME LOG
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$2"; then
		e2e_not_ok "sanitizer report in $1's stderr: $(grep -E -A5 'AddressSanitizer|LeakSanitizer|runtime error' "$2" | head -8)"
	else
		e2e_ok "no sanitizer report in $1's stderr"
	fi
}

# ---- smtpgated, started as root ------------------------------------------
printf '198.51.100.10 # test\n' >"$ALLOW"
e2e_start "$conf" || e2e_finish
GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
e2e_check "smtpgated logs the switch" grep -q "running as user smtpgate (uid $uid gid $gid) with CAP_NET_ADMIN only" "$GATE_LOG"
check_creds smtpgated "$GATE_PID"
e2e_check "smtpgated's control socket has group smtpgate" [ "$(stat -c %G:%a "$WORLD_DIR/gate.sock")" = smtpgate:660 ]
ctl stats gate
e2e_check "smtpgatectl (root) reads smtpgated's stats" grep -q 'loop_stall_max_us' <<<"$CTL_OUT"
ctl reload gate
e2e_check "smtpgatectl reload gate: reloaded ($CTL_OUT)" [ "$CTL_RC" = 0 ]
ctl allow add 198.51.100.11 --comment "after the switch"
e2e_check "allow add reaches smtpgated (allow-reload as smtpgate) ($CTL_RC)" [ "$CTL_RC" = 0 ]
e2e_check "no allow-reload warning" bash -c "! grep -q 'allow-reload' <<<\"\$1\"" _ "$CTL_OUT"
n0=$(grep -c ': reloaded ' "$GATE_LOG")
kill -HUP "$GATE_PID"
e2e_check "smtpgated: SIGHUP reloads as smtpgate" world_wait_log "$GATE_LOG" ': reloaded ' 3
e2e_check "mail flows through smtpgated" world_smtp 198.51.100.10 --helo mail.clean.test
world_stop "$GATE_PID" TERM
sanitizer_clean smtpgated "$GATE_LOG"

# ---- smtpgate-sniffd, started as root (smtpgated stopped: the SYN queue's
# bypass lets every client through to be judged) ---------------------------
e2e_check "no state directory yet" [ ! -e "$E2E_STATE" ]
e2e_sniff_run "$conf" || e2e_finish
SNIFF_PID=$E2E_PID
check_creds smtpgate-sniffd "$SNIFF_PID"
e2e_check "the state directory was made for smtpgate before the switch" \
	[ "$(stat -c %U:%G:%a "$E2E_STATE")" = smtpgate:smtpgate:750 ]
e2e_check "the sniffer's control socket has group smtpgate" [ "$(stat -c %G:%a "$WORLD_DIR/sniffd.sock")" = smtpgate:660 ]
e2e_mark
world_smtp 203.0.113.7 --helo localhost
line=$(e2e_wait_judgment 203.0.113.7 unqualified 6)
e2e_check "a forged HELO is judged and banned ($line)" [ "$(e2e_field "$line" action)" = ban ]
e2e_check "the ban is in offend4 (CAP_NET_ADMIN kept)" world_set_has offend4 203.0.113.7
e2e_check "the state file is written as smtpgate" \
	bash -c 'for i in $(seq 50); do grep -q "^ip=203.0.113.7 " "$1" 2>/dev/null && exit 0; sleep 0.1; done; exit 1' _ "$E2E_STATE/sniffer.state"
e2e_check "the state file belongs to smtpgate, mode 0640" [ "$(stat -c %U:%a "$E2E_STATE/sniffer.state")" = smtpgate:640 ]
ctl stats sniffer
e2e_check "smtpgatectl (root) reads the sniffer's stats" grep -q 'state_saves' <<<"$CTL_OUT"
ctl reload sniffer
e2e_check "smtpgatectl reload sniffer: reloaded ($CTL_OUT)" [ "$CTL_RC" = 0 ]
kill -HUP "$SNIFF_PID"
e2e_check "smtpgate-sniffd: SIGHUP reloads as smtpgate" world_wait_log "$E2E_LOG" ': reloaded ' 3
ctl offenders del 203.0.113.7
e2e_check "offenders del: the ban is lifted ($CTL_OUT)" [ "$CTL_RC" = 0 ]
e2e_check "the state file is rewritten without it" \
	bash -c 'for i in $(seq 50); do grep -q "^ip=203.0.113.7 " "$1" || exit 0; sleep 0.1; done; exit 1' _ "$E2E_STATE/sniffer.state"

e2e_stop TERM
e2e_check "smtpgate-sniffd stopped cleanly ($E2E_RC)" [ "$E2E_RC" = 0 ]
sanitizer_clean smtpgate-sniffd "$WORLD_DIR/sniffd.log"

# ---- refusals: one line, exit 1, never root --------------------------------
# refuse NAME PROG CONF ERE [PRE...]: PROG (run through PRE...) exits 1 at
# once with a line matching ERE on stderr, and nothing started.
refuse() {
	local name=$1 prog=$2 c=$3 re=$4 out rc; shift 4
	out=$("$@" "$E2E_BUILD/$prog" -c "$c" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -Eq -- "$re" <<<"$out" && [ "$(grep -c . <<<"$out")" = 1 ]; then
		e2e_ok "$name (${out})"
	else
		e2e_not_ok "$name: got exit $rc, output: $out"
	fi
}
grep -v '^smtpgate:' /etc/passwd >"$WORLD_DIR/passwd.nouser"
# A private mount namespace hides the user from the daemon alone.
nouser() { unshare -m sh -c 'mount --bind "$0" /etc/passwd && exec ip netns exec "$1" "$2" "$3" "$4"' "$WORLD_DIR/passwd.nouser" "$WORLD_GW_NS" "$@"; }
refuse "smtpgated without user smtpgate refuses to start" smtpgated "$conf" \
	'^smtpgated: user smtpgate does not exist: .* will not stay root' nouser
refuse "smtpgate-sniffd without user smtpgate refuses to start" smtpgate-sniffd "$conf" \
	'^smtpgate-sniffd: user smtpgate does not exist' nouser
mkdir -p "$WORLD_DIR/rootonly"
chmod 755 "$WORLD_DIR/rootonly"
bad=$(e2e_sniff_conf baddir "sniffer.state_file=$WORLD_DIR/rootonly/sniffer.state")
refuse "a state directory smtpgate cannot write stops the sniffer" smtpgate-sniffd "$bad" \
	"^smtpgate-sniffd: state: directory $WORLD_DIR/rootonly is not writable by user smtpgate" world_gw

# ---- the systemd way: started as smtpgate with ambient CAP_NET_ADMIN -------
if command -v setpriv >/dev/null 2>&1; then
	# Its control socket in a directory of its own, as RuntimeDirectory=
	# gives it: it cannot replace the stale one root's run left.
	E2E_SNIFF_SOCK=$E2E_STATE/sniffd.sock
	uconf=$(e2e_sniff_conf user "sniffer.control_socket=$E2E_SNIFF_SOCK")
	E2E_LOG=$WORLD_DIR/sniffd-user.log
	: >"$E2E_LOG"
	world_bg sniffd-user setpriv --reuid=smtpgate --regid=smtpgate --init-groups \
		--inh-caps=+net_admin --ambient-caps=+net_admin \
		"$E2E_BUILD/smtpgate-sniffd" -c "$uconf" -f
	E2E_PID=$WORLD_BG_PID
	if world_wait_log "$E2E_LOG" ': started' 10; then
		# setpriv execs the daemon: the pid is the daemon's.
		e2e_ok "started as smtpgate with ambient CAP_NET_ADMIN: runs"
		e2e_check "nothing switched: no 'running as user' line" bash -c "! grep -q 'running as user' '$E2E_LOG'"
		e2e_check "as smtpgate: Uid $uid" status_is "$E2E_PID" Uid "$uid $uid $uid $uid"
		e2e_check "as smtpgate: CapEff is CAP_NET_ADMIN" status_is "$E2E_PID" CapEff $NET_ADMIN
		e2e_check "as smtpgate: control socket answers" grep -q '^ok$' <<<"$(e2e_ctl stats | head -1)"
	else
		e2e_not_ok "started as smtpgate with ambient CAP_NET_ADMIN: $(tail -3 "$E2E_LOG")"
	fi
	e2e_stop TERM
	# The shipped unit's set: CAP_SETUID and CAP_SETGID as well, so that
	# the SPF helpers get a uid of their own; the daemon drops both.
	E2E_LOG=$WORLD_DIR/sniffd-unit.log
	: >"$E2E_LOG"
	world_bg sniffd-unit setpriv --reuid=smtpgate --regid=smtpgate --init-groups \
		--inh-caps=+net_admin,+setuid,+setgid \
		--ambient-caps=+net_admin,+setuid,+setgid \
		"$E2E_BUILD/smtpgate-sniffd" -c "$uconf" -f
	E2E_PID=$WORLD_BG_PID
	if world_wait_log "$E2E_LOG" ': started' 10; then
		e2e_ok "started as smtpgate with the unit's capabilities: runs"
		e2e_check "unit's capabilities: CapEff is CAP_NET_ADMIN alone" status_is "$E2E_PID" CapEff $NET_ADMIN
		e2e_check "unit's capabilities: CapPrm is CAP_NET_ADMIN alone" status_is "$E2E_PID" CapPrm $NET_ADMIN
		e2e_check "unit's capabilities: CapAmb empty" status_is "$E2E_PID" CapAmb 0000000000000000
		e2e_check "unit's capabilities: the SPF helpers got a dynamic uid" \
			grep -q 'spf helpers: [0-9]* workers, uid [0-9]* (dynamic)' "$E2E_LOG"
	else
		e2e_not_ok "started as smtpgate with the unit's capabilities: $(tail -3 "$E2E_LOG")"
	fi
else
	e2e_note "setpriv missing: the systemd-like start is not tried"
fi
e2e_finish
