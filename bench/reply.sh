#!/bin/bash
# bench/reply.sh BUILD_DIR - what a refused connection costs with
# [gate] reply = reset and with reply = smtp (smtpgated's responder), beside
# the smtp-sink baseline, and how many refused connections per second the
# responder sustains.  Prints figures; no targets (the issue asks for the
# figures), exit 1 only when the benchmark could not run.  Needs root.
# Standalone, in a test world of its own (WORLD_PREFIX=sgr unless set);
# bench/run.sh (make bench) calls it.
#
# One client program (bench/replyload.py: connect, read the first line or
# the reset, close; BENCH_REPLY_C connections at a time) makes
# BENCH_REPLY_N connections from a fresh address of 198.19.252.0/24 per run
# against the gateway's port 25, the ruleset of [gate] reply = smtp
# installed and smtpgated running in every run, the address put beforehand
# in the set that decides it:
#   sink   pass4: smtp-sink's greeting (the baseline: a connection that
#          costs the MTA almost nothing);
#   reset  deny4: the kernel's TCP reset (reply = reset);
#   smtp   deny4 and reply4 -> 7026: the nat chain redirects it, the
#          responder writes its 554 line and closes (reply = smtp).
# The three modes run in rotating order, BENCH_REPLY_RUNS rounds; medians.
# CPU per connection is that of the processes at both ends (user + system:
# the client, and smtp-sink or smtpgated; on a veth pair the kernel's work
# for both ends lands mostly in the client's system time), the same client
# in every mode, divided by the connections: the differences between modes
# are what the answer costs.  The whole machine's (/proc/stat) is shown
# beside it; it counts whatever else runs on the machine too.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "bench_reply: no build directory $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_reply: needs root" >&2; exit 2; }

BENCH_REPLY_N=${BENCH_REPLY_N:-5000}
BENCH_REPLY_C=${BENCH_REPLY_C:-32}
BENCH_REPLY_RUNS=${BENCH_REPLY_RUNS:-5}

WORLD_PREFIX=${WORLD_PREFIX:-sgr}
WORLD_OWNER=$$
. "$repo/tests/world/world.sh"
. "$repo/bench/lib.sh"

bench_log() { printf 'bench_reply: %s\n' "$*"; }
bench_row() { printf '%-62s %22s\n' "$1" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# Whole-machine CPU time so far, in microseconds.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e6 / hz }' /proc/stat; }
proc_us() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1e6 / hz }' "/proc/$1/stat" 2>/dev/null; }

trap 'world_down >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM
world_up >/dev/null 2>&1 || { bench_log "test world did not come up"; exit 1; }
CONF=$WORLD_DIR/bench_reply.conf
world_conf "$CONF" gate.reply=smtp gate.reply_max_conns=1024 "gate.control_socket=$WORLD_DIR/gate.sock" \
	sniffer.packets=0 >/dev/null
world_gw "$build/smtpgate-nft" -c "$CONF" install >/dev/null || { bench_log "smtpgate-nft install failed"; exit 1; }
world_bg smtpgated "$build/smtpgated" -c "$CONF" -f
GPID=$WORLD_BG_PID
for _ in $(seq 100); do grep -q ': started' "$WORLD_DIR/smtpgated.log" 2>/dev/null && break; sleep 0.1; done
grep -q ': started' "$WORLD_DIR/smtpgated.log" || { bench_log "smtpgated did not start: $(tail -3 "$WORLD_DIR/smtpgated.log")"; exit 1; }
bench_log "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); world $WORLD_PREFIX; $BENCH_REPLY_N connections x $BENCH_REPLY_RUNS rounds, $BENCH_REPLY_C at a time"

# one MODE SRC: SRC (fresh) in MODE's set, one load run; prints
# "rate cpu_us_per_conn smtpgated_us_per_conn lines resets".
one() {
	local mode=$1 src=$2 out c0 c1 g0 g1 n
	case $mode in
	sink)	world_gw nft add element inet "$WORLD_TABLE" pass4 "{ $src timeout 1h }" ;;
	reset)	world_gw nft add element inet "$WORLD_TABLE" deny4 "{ $src timeout 1h }" ;;
	smtp)	world_gw nft add element inet "$WORLD_TABLE" deny4 "{ $src timeout 1h }"
		world_gw nft add element inet "$WORLD_TABLE" reply4 "{ $src timeout 1h : 7026 }" ;;
	esac
	sleep 0.3
	c0=$(cpu_us); g0=$(proc_us "$GPID"); k0=$(proc_us "$SINK")
	out=$(world_cl python3 "$here/replyload.py" "$src" "$WORLD_GW4" "$BENCH_REPLY_N" "$BENCH_REPLY_C")
	c1=$(cpu_us); g1=$(proc_us "$GPID"); k1=$(proc_us "$SINK")
	n=$(bench_field "$out" n)
	srv=$(( g1 - g0 )); [ "$mode" = sink ] && srv=$(( k1 - k0 ))
	bench_log "$mode from $src: $out, server $(( srv / 1000 )) ms (smtpgated $(( (g1 - g0) / 1000 )), smtp-sink $(( (k1 - k0) / 1000 ))), machine $(( (c1 - c0) / 1000 )) ms" >&2
	[ "${n:-0}" -gt 0 ] || { echo "- - - - 0 0"; return; }
	echo "$(bench_field "$out" rate) $(( ($(bench_field "$out" cpu_ms) * 1000 + srv) / n )) $(( srv / n )) $(( (c1 - c0) / n )) $(bench_field "$out" lines) $(bench_field "$out" resets)"
}

declare -A rate cpu gcpu mcpu
# smtp-sink of this world: the one process of that name in its namespace.
SINK=$(for p in $(ip netns pids "$WORLD_GW_NS"); do [ "$(cat /proc/$p/comm 2>/dev/null)" = smtp-sink ] && echo "$p"; done | head -1)
[ -n "$SINK" ] || { bench_log "no smtp-sink in $WORLD_GW_NS"; exit 1; }
modes=(sink reset smtp)
for r in $(seq "$BENCH_REPLY_RUNS"); do
	for i in 0 1 2; do
		m=${modes[$(( (i + r) % 3 ))]}
		set -- $(one "$m" "198.19.252.$((r * 3 + i))")
		rate[$m]+="$1 "; cpu[$m]+="$2 "; gcpu[$m]+="$3 "; mcpu[$m]+="$4 "
		case $m in
		sink|smtp) [ "${5:-0}" -ge "$BENCH_REPLY_N" ] || bench_log "warning: $m run answered only ${5:-0} of $BENCH_REPLY_N with a line" ;;
		reset) [ "${6:-0}" -ge "$BENCH_REPLY_N" ] || bench_log "warning: reset run reset only ${6:-0} of $BENCH_REPLY_N" ;;
		esac
	done
done
med() { printf '%s\n' $1 | bench_median; }
declare -A R C G M
for m in "${modes[@]}"; do R[$m]=$(med "${rate[$m]}"); C[$m]=$(med "${cpu[$m]}"); G[$m]=$(med "${gcpu[$m]}"); M[$m]=$(med "${mcpu[$m]}"); done
st=$(world_ctl "$WORLD_DIR/gate.sock" stats | tail -1)
bench_log "smtpgated after: $(printf '%s\n' "$st" | tr ' ' '\n' | grep -E '^(reply_|loop_stall)' | tr '\n' ' ')"
world_stop "$GPID" TERM
echo
bench_row "(a) CPU per connection, us (client + server, median of $BENCH_REPLY_RUNS):" "[whole machine]"
bench_row "    smtp-sink greeting (baseline)" "${C[sink]} [${M[sink]}]"
bench_row "    refused, reply = reset (ratio to baseline)" "${C[reset]} ($(ratio "${C[reset]}" "${C[sink]}")) [${M[reset]}]"
bench_row "    refused, reply = smtp (ratio to baseline)" "${C[smtp]} ($(ratio "${C[smtp]}" "${C[sink]}")) [${M[smtp]}]"
bench_row "    server side: smtp-sink | smtpgated's responder, us" "${G[sink]} | ${G[smtp]}"
bench_row "(b) connections per second, one client, $BENCH_REPLY_C at a time:" ""
bench_row "    smtp-sink greeting (baseline)" "${R[sink]}"
bench_row "    refused, reply = reset (ratio)" "${R[reset]} ($(ratio "${R[reset]}" "${R[sink]}"))"
bench_row "    refused, reply = smtp: the responder sustains (ratio)" "${R[smtp]} ($(ratio "${R[smtp]}" "${R[sink]}"))"
exit 0
