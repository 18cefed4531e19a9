# shellcheck shell=bash
# cluster.sh - shared by the end-to-end tests of [cluster] (t_cluster_*.sh;
# source it instead of calling e2e_init; names start with e2ec_).
#
# A test is `t_cluster_NAME.sh BUILD_DIR`: e2ec_init "$@" brings up the
# cluster world (tests/world/cluster.sh: gateways a, b, c and one Redis),
# torn down on exit; the test writes each gateway's configuration with
# cworld_conf, starts its daemons with cworld_start, checks with e2e_ok /
# e2e_check (e2e.sh), and ends with e2ec_finish, which stops every daemon
# and fails the test if any daemon's log shows a sanitizer report.
#
#   e2ec_status NODE gate|sniffer   the daemon's `cluster` control answer
#                     (its second line: state=... counters)
#   e2ec_field NODE gate|sniffer KEY   one KEY= of that line
#   e2ec_wait_up NODES TIMEOUT_S [SIBLINGS]  every daemon running on NODES
#                     says state=up (and sees SIBLINGS siblings)
#   e2ec_wait_set NODE SET ADDR yes|no TIMEOUT_S
#   e2ec_verdicts NODE ADDR   verdict lines for ADDR in NODE's gate log
#                     after e2ec_mark
#   e2ec_mark         remember every log's length (e2ec_since reads after)
#   e2ec_since NODE gate|sniffer
#   e2ec_smtp NODE ADDR [swaks opts]   one mail from ADDR to gateway NODE
#   e2ec_gstat NODE KEY   a counter of NODE's smtpgated (control `stats`)
. "$(dirname "${BASH_SOURCE[0]}")/e2e.sh"
CWORLD_PREFIX=${CWORLD_PREFIX:-sgc$$}
CWORLD_OWNER=$$
# shellcheck source=../../world/cluster.sh
. "$E2E_LIB/../../world/cluster.sh"

declare -gA E2EC_MARK=()

e2ec_cleanup() {
	local rc=$? n
	for n in $CWORLD_NODES; do cworld_stop "$n" both TERM; done
	if [ -n "${E2E_KEEP:-}" ]; then
		echo "# E2E_KEEP set: cluster world $CWORLD_PREFIX left up ($CWORLD_DIR)"
	else
		cworld_down
	fi
	exit $rc
}

e2ec_init() {
	E2E_BUILD=${1:-}
	[ -n "$E2E_BUILD" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
	E2E_BUILD=$(cd "$E2E_BUILD" 2>/dev/null && pwd) || e2e_skip "no build directory ${1}"
	[ "$(id -u)" = 0 ] || e2e_skip "needs root"
	local p
	for p in smtpgated smtpgate-sniffd smtpgate-nft smtpgatectl bench/bench_syn; do
		[ -x "$E2E_BUILD/$p" ] || e2e_skip "$E2E_BUILD/$p not built (make all benches)"
	done
	CWORLD_BUILD=$E2E_BUILD
	trap e2ec_cleanup EXIT
	trap 'exit 1' INT TERM
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	cworld_up || { echo "not ok - $E2E_NAME: cluster world did not come up"; exit 1; }
	e2e_note "cluster world up in $CWORLD_UP_MS ms (three gateways, one Redis)"
}

e2ec_status() {
	cworld_ctl "$1" "$2" cluster 2>/dev/null | grep -m1 '^state='
}
e2ec_field() { e2e_field "$(e2ec_status "$1" "$2")" "$3"; }

# e2ec_wait_up "a b c" TIMEOUT_S [SIBLINGS]: every running daemon is up.
e2ec_wait_up() {
	local nodes=$1 t=$2 sib=${3:-} n d st end
	end=$(( $(world_now_ms) + t * 1000 ))
	for n in $nodes; do
		for d in gate sniffer; do
			if [ "$d" = gate ]; then [ -n "${CWORLD_GATE_PID[$n]:-}" ] || continue
			else [ -n "${CWORLD_SNIFF_PID[$n]:-}" ] || continue; fi
			while :; do
				st=$(e2ec_status "$n" "$d")
				[ "$(e2e_field "$st" state)" = up ] &&
					{ [ -z "$sib" ] || [ "$(e2e_field "$st" siblings)" -ge "$sib" ] 2>/dev/null; } && break
				if [ "$(world_now_ms)" -ge "$end" ]; then
					e2e_note "$n $d not up: ${st:-no answer}"
					return 1
				fi
				sleep 0.2
			done
		done
	done
}

e2ec_wait_set() {	# NODE SET ADDR yes|no TIMEOUT_S
	local end=$(( $(world_now_ms) + $5 * 1000 )) has
	while :; do
		has=no; cworld_set_has "$1" "$2" "$3" && has=yes
		[ "$has" = "$4" ] && return 0
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

e2ec_mark() {
	local n d
	for n in $CWORLD_NODES; do
		for d in gate sniffer; do
			E2EC_MARK[$n.$d]=$(wc -l 2>/dev/null <"$(cworld_log_path "$n" "$d")" || echo 0)
		done
	done
}
e2ec_since() { tail -n +"$(( ${E2EC_MARK[$1.$2]:-0} + 1 ))" "$(cworld_log_path "$1" "$2")" 2>/dev/null; }
e2ec_verdicts() { e2ec_since "$1" gate | grep -F " ip=$2 " | grep -c ' verdict='; }

e2ec_smtp() {
	local n=$1; shift
	( cworld_use "$n"; world_smtp "$@" )
}

e2ec_gstat() {
	cworld_ctl "$1" gate stats 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

# Every daemon's log of every gateway checked for sanitizer reports.
e2ec_finish() {
	local n d log bad=0
	for n in $CWORLD_NODES; do cworld_stop "$n" both TERM; done
	for n in $CWORLD_NODES; do
		for d in gate sniffer; do
			log=$(cworld_log_path "$n" "$d")
			[ -f "$log" ] || continue
			if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$log"; then
				bad=1
				e2e_not_ok "sanitizer report in $n's $d log:"
				grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error' "$log" | head -40 | sed 's/^/#   /'
			fi
		done
	done
	[ "$bad" = 0 ] && e2e_ok "no sanitizer report in the six daemons' logs"
	if [ "$E2E_FAIL" -gt 0 ]; then
		for n in $CWORLD_NODES; do
			for d in gate sniffer; do
				log=$(cworld_log_path "$n" "$d")
				[ -s "$log" ] || continue
				echo "# last lines of $n's $d log:"
				tail -12 "$log" | sed 's/^/#   /'
			done
		done
	fi
	echo "# $E2E_NAME: $E2E_PASS ok, $E2E_FAIL not ok"
	[ "$E2E_FAIL" -eq 0 ]
	exit $?
}

# e2ec_ctl_status NODE CONF: smtpgatectl cluster status --json on NODE,
# flattened: "gate.state=up gate.refused=0 ... sniffer.state=up ..." (one
# line; siblings as gate.siblings=N).  The raw JSON in E2EC_CTL_JSON.
e2ec_ctl_status() {
	E2EC_CTL_JSON=$(cworld_gw "$1" "$E2E_BUILD/smtpgatectl" -c "$2" cluster status --json 2>/dev/null)
	python3 -c '
import json, sys
try:
    doc = json.loads(sys.argv[1])
except ValueError:
    print("unparsable"); sys.exit(0)
out = []
for d in ("gate", "sniffer"):
    for k, v in (doc.get(d) or {}).items():
        out.append("%s.%s=%s" % (d, k, len(v) if isinstance(v, list) else v))
print(" ".join(out))' "$E2EC_CTL_JSON"
}
