# e2e.sh - shared by the end-to-end tests (source it; names start with e2e_).
#
# A test file is `t_NAME.sh BUILD_DIR`: it calls e2e_init "$@" (root and
# programs checked, one test world brought up, torn down on exit), writes
# configs with e2e_conf, runs the daemon with e2e_start, makes its checks
# with e2e_ok / e2e_check, and ends with e2e_finish, which fails the test if
# the daemon's stderr shows a sanitizer report.  Exit 0 pass, 1 fail, 77 skip.
#
#   e2e_conf NAME [section.key=value ...]  write $WORLD_DIR/NAME.conf: the
#                     base config below (the gate's control socket in
#                     $WORLD_DIR) with the given keys replaced/added;
#                     prints the path
#   e2e_start CONF    (re)install the ruleset, start smtpgated -f, wait for
#                     "started"; PID in E2E_PID, stderr in E2E_LOG
#   e2e_stop [SIG]    stop the daemon (TERM by default), status in E2E_RC
#   e2e_mark          later e2e_verdict* calls look only at lines after now
#   e2e_wait_verdict ADDR [TIMEOUT_S] [NTH]  wait for the NTH verdict line
#                     for ADDR after the mark; prints it
#   e2e_verdicts ADDR number of verdict lines for ADDR after the mark
#   e2e_field LINE KEY    value of KEY= in a log line
#   e2e_smtp_timed ADDR [swaks opts]  world_smtp, sets E2E_SMTP_RC, E2E_SMTP_MS
#   e2e_expect ADDR ok|fail VERDICT REASON|- SET|- DESCRIPTION  one mail, one
#                     verdict line checked (E2E_LINE holds it)
#   e2e_stats         SIGUSR1 and print the daemon's new "stats ..." line

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=$(cd "$E2E_LIB/../../.." && pwd)
# One world per test process: parallel runs never share namespaces, and a
# run that died is reaped by the next one (world_reap).
WORLD_PREFIX=${WORLD_PREFIX:-sge$$}
WORLD_OWNER=$$
# shellcheck source=../../world/world.sh
. "$E2E_LIB/../../world/world.sh"

E2E_PASS=0
E2E_FAIL=0
E2E_PID=
E2E_MARK=0
E2E_NAME=$(basename "$0" .sh)

e2e_ok() { E2E_PASS=$((E2E_PASS + 1)); echo "ok - $*"; }
e2e_not_ok() { E2E_FAIL=$((E2E_FAIL + 1)); echo "not ok - $*"; }
e2e_note() { echo "# $*"; }
# e2e_check DESCRIPTION CMD...: ok when CMD succeeds.
e2e_check() {
	local d=$1; shift
	if "$@"; then e2e_ok "$d"; else e2e_not_ok "$d"; fi
}

e2e_skip() { echo "skip - $E2E_NAME: $*"; exit 77; }

e2e_cleanup() {
	local rc=$?
	[ -n "$E2E_PID" ] && kill -0 "$E2E_PID" 2>/dev/null && world_stop "$E2E_PID" TERM
	if [ -n "${E2E_KEEP:-}" ]; then
		echo "# E2E_KEEP set: world left up, state in $WORLD_DIR"
	else
		world_down
	fi
	exit $rc
}

e2e_init() {
	E2E_BUILD=${1:-}
	[ -n "$E2E_BUILD" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
	E2E_BUILD=$(cd "$E2E_BUILD" 2>/dev/null && pwd) || e2e_skip "no build directory ${1}"
	[ "$(id -u)" = 0 ] || e2e_skip "needs root"
	[ -x "$E2E_BUILD/smtpgated" ] || e2e_skip "$E2E_BUILD/smtpgated not built"
	[ -x "$E2E_BUILD/smtpgate-nft" ] || e2e_skip "$E2E_BUILD/smtpgate-nft not built"
	trap e2e_cleanup EXIT
	trap 'exit 1' INT TERM
	world_up || { echo "not ok - $E2E_NAME: test world did not come up"; exit 1; }
	E2E_LOG=$WORLD_DIR/smtpgated.log
	: >"$E2E_LOG"
	E2E_STATE=$WORLD_DIR/state	# the sniffer's: see e2e_sniff_conf
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
}

e2e_conf() {
	local name=$1; shift
	# The gate's control socket in the world's directory: parallel runs
	# must not answer each other's smtpgatectl.
	# The verdict journal too (a directory the daemons create for their
	# user): never the host's /var/lib/smtpgate.
	world_conf "$WORLD_DIR/$name.conf" "gate.control_socket=$WORLD_DIR/gate.sock" \
		"journal.file=$WORLD_DIR/journal/journal.db" "$@"
}

# e2e_install CONF: the ruleset of CONF, built anew in the gateway.
e2e_install() {
	local out
	world_gw "$E2E_BUILD/smtpgate-nft" -c "$1" remove >/dev/null 2>&1
	if ! out=$(world_gw "$E2E_BUILD/smtpgate-nft" -c "$1" install 2>&1); then
		e2e_not_ok "smtpgate-nft install: $out"
		return 1
	fi
}

# e2e_launch NAME PROGRAM CONF: start PROGRAM -f in the gateway (log in
# $WORLD_DIR/NAME.log, E2E_LOG and E2E_PID set) and wait for its new
# "started" line.
e2e_launch() {
	local name=$1 prog=$2 conf=$3 before i
	E2E_LOG=$WORLD_DIR/$name.log
	touch "$E2E_LOG"
	before=$(grep -c ': started' "$E2E_LOG")
	world_bg "$name" "$E2E_BUILD/$prog" -c "$conf" -f
	E2E_PID=$WORLD_BG_PID
	for i in $(seq 100); do
		[ "$(grep -c ': started' "$E2E_LOG")" -gt "$before" ] && return 0
		kill -0 "$E2E_PID" 2>/dev/null || break
		sleep 0.1
	done
	e2e_not_ok "$prog did not start (log: $(tail -3 "$E2E_LOG" | tr '\n' ' '))"
	return 1
}

e2e_start() {
	E2E_CONF=$1
	e2e_install "$1" || return 1
	e2e_launch smtpgated smtpgated "$1"
}

e2e_stop() {
	local sig=${1:-TERM} i
	E2E_RC=
	[ -n "$E2E_PID" ] || return 0
	kill -"$sig" "$E2E_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$E2E_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$E2E_PID" 2>/dev/null; then
		kill -KILL "$E2E_PID" 2>/dev/null
		E2E_RC=timeout
	fi
	wait "$E2E_PID" 2>/dev/null
	[ -z "$E2E_RC" ] && E2E_RC=$?
	E2E_PID=
}

e2e_mark() { E2E_MARK=$(wc -l <"$E2E_LOG"); }
e2e_since() { tail -n +"$((E2E_MARK + 1))" "$E2E_LOG"; }

e2e_verdict_lines() { e2e_since | grep -F " ip=$1 " | grep '^.*verdict='; }
e2e_verdicts() { e2e_verdict_lines "$1" | wc -l; }

e2e_wait_verdict() {
	local addr=$1 t=${2:-5} nth=${3:-1} end
	end=$(( $(world_now_ms) + t * 1000 ))
	while :; do
		if [ "$(e2e_verdicts "$addr")" -ge "$nth" ]; then
			e2e_verdict_lines "$addr" | sed -n "${nth}p"
			return 0
		fi
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

e2e_field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

e2e_smtp_timed() {
	local t0
	t0=$(world_now_ms)
	world_smtp "$@"
	E2E_SMTP_RC=$?
	E2E_SMTP_MS=$(( $(world_now_ms) - t0 ))
	return $E2E_SMTP_RC
}

# e2e_has LINE KEY VALUE-ERE: does KEY's value match ^(ERE)$?
e2e_has() {
	e2e_field "$1" "$2" | grep -Eqx -- "$3"
}

# e2e_reason_has LINE TOKEN: is TOKEN one of the reason= list?
e2e_reason_has() {
	e2e_field "$1" reason | tr ',' '\n' | grep -qxF -- "$2"
}

# Expect a verdict for ADDR after sending one mail; report in one line.
# e2e_expect ADDR SMTP(ok|fail) VERDICT REASON-TOKEN SET DESCRIPTION
e2e_expect() {
	local addr=$1 want_smtp=$2 want_v=$3 want_r=$4 set=$5 desc=$6 line got_smtp v fam=4
	world_is_v6 "$addr" && fam=6
	e2e_smtp_timed "$addr"
	got_smtp=fail; [ "$E2E_SMTP_RC" = 0 ] && got_smtp=ok
	if ! line=$(e2e_wait_verdict "$addr" 6); then
		e2e_not_ok "$desc: no verdict line for $addr (swaks $got_smtp in ${E2E_SMTP_MS} ms)"
		return 1
	fi
	v=$(e2e_field "$line" verdict)
	if [ "$got_smtp" != "$want_smtp" ]; then
		e2e_not_ok "$desc: swaks got $got_smtp, want $want_smtp ($line)"
	elif [ "$v" != "$want_v" ]; then
		e2e_not_ok "$desc: got verdict=$v, want $want_v ($line)"
	elif [ "$want_r" != "-" ] && ! e2e_reason_has "$line" "$want_r"; then
		e2e_not_ok "$desc: reason lacks $want_r ($line)"
	elif [ "$set" != "-" ] && ! world_set_has "$set$fam" "$addr"; then
		e2e_not_ok "$desc: $addr not in set $set$fam ($line)"
	else
		e2e_ok "$desc ($(e2e_field "$line" reason), swaks $got_smtp in ${E2E_SMTP_MS} ms)"
		E2E_LINE=$line
		return 0
	fi
	E2E_LINE=$line
	return 1
}

# e2e_stats: SIGUSR1, then print the new "stats ..." line (1 if none in 3 s).
e2e_stats() {
	local n0 end
	n0=$(grep -cE 'smtpgated\[[0-9]+\]: stats ' "$E2E_LOG")
	kill -USR1 "$E2E_PID" 2>/dev/null || return 1
	end=$(( $(world_now_ms) + 3000 ))
	while [ "$(grep -cE 'smtpgated\[[0-9]+\]: stats ' "$E2E_LOG")" -le "$n0" ]; do
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
	grep -E 'smtpgated\[[0-9]+\]: stats ' "$E2E_LOG" | tail -1 | sed 's/^.*: stats /stats /'
}

e2e_alive() { [ -n "$E2E_PID" ] && kill -0 "$E2E_PID" 2>/dev/null; }

e2e_finish() {
	# Stop the daemon first: LeakSanitizer reports at exit.
	e2e_alive && e2e_stop TERM
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$E2E_LOG" 2>/dev/null; then
		e2e_not_ok "sanitizer report in smtpgated's stderr:"
		grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error' "$E2E_LOG" | head -40 | sed 's/^/#   /'
	else
		e2e_ok "no sanitizer report in smtpgated's stderr"
	fi
	if [ "$E2E_FAIL" -gt 0 ] && [ -f "$E2E_LOG" ]; then
		echo "# last lines of smtpgated's log:"
		tail -25 "$E2E_LOG" | sed 's/^/#   /'
	fi
	echo "# $E2E_NAME: $E2E_PASS ok, $E2E_FAIL not ok"
	[ "$E2E_FAIL" -eq 0 ]
	exit $?
}

# ---- smtpgate-sniffd ----
#
#   e2e_sniff_conf NAME [section.key=value ...]  e2e_conf with the sniffer's
#                     state file in $E2E_STATE (a directory the sniffer
#                     creates for its user, smtpgate), its control socket
#                     in $WORLD_DIR and my_hostnames/my_addresses of the
#                     test gateway
#   e2e_sniff_start CONF  (re)install the ruleset, start smtpgate-sniffd -f
#                     (no smtpgated: the SYN queue's bypass lets SYNs
#                     through); PID in E2E_PID, log in E2E_LOG
#   e2e_wait_judgment ADDR RULE [TIMEOUT_S]  wait for a judgment line of
#                     ADDR with RULE after the mark; prints it
#   e2e_judgments ADDR [RULE]  judgment lines of ADDR after the mark
#   e2e_ctl REQUEST   one request to the sniffer's control socket
#                     ($E2E_SNIFF_SOCK, default $WORLD_DIR/sniffd.sock);
#                     prints the answer

e2e_sniff_conf() {
	local name=$1; shift
	e2e_conf "$name" "sniffer.state_file=$E2E_STATE/sniffer.state" \
		"sniffer.control_socket=$WORLD_DIR/sniffd.sock" \
		"sniffer.my_hostnames=gw.example.test" \
		"sniffer.my_addresses=192.0.2.1 2001:db8:ffff::1" "$@"
}

e2e_sniff_start() {
	E2E_CONF=$1
	[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"
	e2e_install "$1" || return 1
	e2e_sniff_run "$1"
}

# Start the sniffer without touching the ruleset (restarts).
e2e_sniff_run() {
	e2e_launch sniffd smtpgate-sniffd "$1"
}

e2e_judgments() {
	if [ -n "${2:-}" ]; then
		e2e_since | grep -E -- " (helo|mail) ip=$1 " | grep -F -- " rule=$2 "
	else
		e2e_since | grep -E -- " (helo|mail) ip=$1 "
	fi
}

e2e_wait_judgment() {
	local addr=$1 rule=$2 t=${3:-6} end
	end=$(( $(world_now_ms) + t * 1000 ))
	while :; do
		if e2e_judgments "$addr" "$rule" >/dev/null; then
			e2e_judgments "$addr" "$rule" | head -1
			return 0
		fi
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

e2e_ctl() { world_ctl "${E2E_SNIFF_SOCK:-$WORLD_DIR/sniffd.sock}" "$1"; }

# e2e_banner_ms ADDR: from ADDR (IPv4 or IPv6), connect() to the
# banner's first byte of one session, in ms with decimals ("" when the
# session failed).
e2e_banner_ms() {
	local dst=$WORLD_GW4
	world_is_v6 "$1" && dst=$WORLD_GW6
	world_cl python3 "$WORLD_TOOLS/smtpgreet.py" --src "$1" --dst "$dst" banner-ms 1 |
		sed -n 's/.*median=\([0-9.]*\).*/\1/p'
}
