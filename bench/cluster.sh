#!/bin/bash
# bench/cluster.sh BUILD_DIR - gateways sharing verdicts through Redis
# (issue 13, [cluster]).  Prints figures next to their targets; never fails
# on a target (exit 1 only when the benchmark itself could not run).  Needs
# root.  Standalone, in a cluster world of its own (tests/world/cluster.sh:
# gateways a, b, c and one redis-server in a fourth namespace;
# CWORLD_PREFIX=sgk unless set); bench/run.sh (make bench) calls it,
# BENCH_ONLY=cluster runs it alone, BENCH_NO_CLUSTER skips it.
#
#  (k1) Propagation: smtpgated on a, b and c ([cluster] on, no_ptr =
#       reject, no DNSBL); bench_syn sends one SYN from each of
#       BENCH_CLUSTER_PROP_N new addresses of 198.18.0.0/15 (no PTR: each
#       denied on a) at BENCH_CLUSTER_PROP_RATE/s to a; for each address,
#       its add to a's deny4 to its add to b's and c's (nft monitor in
#       each gateway, lines stamped with one wall clock), and beside it
#       a's verdict line to the siblings' "cluster ... action=applied"
#       lines (the daemons' ms time stamps).  p50, p90, p99, max over
#       both siblings; BENCH_CLUSTER_PROP_RUNS runs, each with fresh
#       addresses, the median of each figure.  Target p99 <= 1000 ms.
#  (k2) The verdict rate with sharing on against off: a's smtpgated alone
#       (b's and c's daemons stopped: their work is other hosts' on a real
#       site), one fresh daemon per run, sets emptied, the same
#       BENCH_CLUSTER_SYN_N addresses every run (no PTR, every verdict a
#       deny, so with sharing on every verdict is shared: SET + PUBLISH),
#       window BENCH_CLUSTER_WINDOW, as bench/run.sh (b) measures it;
#       BENCH_CLUSTER_PAIRS pairs in alternating order after one untimed
#       warm-up; the medians compared, the per-pair ratios beside, and the
#       runs' cluster counters (shared, lost), and smtpgated's own CPU
#       time a verdict (Redis shares the cores here: the rate's ratio
#       holds the machine's contention, the CPU time the daemon's own
#       cost).  No target given.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "bench_cluster: no build directory $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_cluster: needs root" >&2; exit 2; }

BENCH_CLUSTER_PROP_N=${BENCH_CLUSTER_PROP_N:-1000}
BENCH_CLUSTER_PROP_RATE=${BENCH_CLUSTER_PROP_RATE:-1000}
BENCH_CLUSTER_PROP_RUNS=${BENCH_CLUSTER_PROP_RUNS:-3}
BENCH_CLUSTER_SYN_N=${BENCH_CLUSTER_SYN_N:-20000}
BENCH_CLUSTER_WINDOW=${BENCH_CLUSTER_WINDOW:-2000}
BENCH_CLUSTER_PAIRS=${BENCH_CLUSTER_PAIRS:-5}
BENCH_NICE=${BENCH_NICE:--15}

CWORLD_PREFIX=${CWORLD_PREFIX:-sgk}
CWORLD_OWNER=$$
CWORLD_BUILD=$build
# shellcheck source=../tests/world/cluster.sh
. "$repo/tests/world/cluster.sh"
. "$repo/bench/lib.sh"

bench_log() { printf 'bench_cluster: %s\n' "$*"; }
bench_div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'; }
BENCH_ROWS=()
bench_row() { BENCH_ROWS+=("$1|$2|$3|$4"); }

for p in smtpgated smtpgate-nft bench/bench_syn; do
	[ -x "$build/$p" ] || { bench_log "$build/$p not built"; exit 1; }
done
BENCH_T0=$(date +%s)
bench_cleanup() {
	local n
	for n in $CWORLD_NODES; do cworld_stop "$n" both TERM; done
	cworld_down >/dev/null 2>&1
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM
uplog=$(mktemp /tmp/bench-cluster-up.XXXXXX)
cworld_up 2>"$uplog" ||
	{ bench_log "cluster world did not come up: $(tr '\n' ' ' <"$uplog")"; rm -f "$uplog"; exit 1; }
rm -f "$uplog"
bench_log "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg) (shared); cluster world $CWORLD_PREFIX up in $CWORLD_UP_MS ms"
renice -n "$BENCH_NICE" -p $(ip netns pids "$CWORLD_NS") >/dev/null 2>&1

declare -A conf
for n in a b c; do
	conf[$n]=$(cworld_conf "$n" bench gate.dnsbl=off gate.dnsbl_sites= sniffer.packets=0)
done
conf_off=$(CWORLD_SHARE=no cworld_conf a bench-off gate.dnsbl=off gate.dnsbl_sites= sniffer.packets=0)

# bench_wait_up NODE TIMEOUT_S: its smtpgated says state=up.
bench_wait_up() {
	local end=$(( $(world_now_ms) + $2 * 1000 ))
	until cworld_ctl "$1" gate cluster 2>/dev/null | grep -q '^state=up '; do
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# ---- (k1) propagation ----
for n in a b c; do
	cworld_start "$n" "${conf[$n]}" gate || exit 1
	renice -n "$BENCH_NICE" -p "${CWORLD_GATE_PID[$n]}" >/dev/null 2>&1
done
for n in a b c; do bench_wait_up "$n" 20 || { bench_log "$n: not up in the cluster: $(cworld_ctl "$n" gate cluster | tr '\n' ' ')"; exit 1; }; done
sleep 1.5	# the heartbeats: every gateway sees its siblings
p50s=() p90s=() p99s=() maxs=() lp50s=() lp99s=() applied=0 inset=0
next=0
for r in $(seq "$BENCH_CLUSTER_PROP_RUNS"); do
	out=$(cworld_propagation a "b c" "$next" "$BENCH_CLUSTER_PROP_N" "$BENCH_CLUSTER_PROP_RATE" 30)
	next=$(( next + (BENCH_CLUSTER_PROP_N + 255) / 256 * 256 ))
	printf '%s\n' "$out" | sed "s/^/bench_cluster: (k1) run $r: /"
	l=$(printf '%s\n' "$out" | grep '^propagation to=all ')
	p50s+=("$(bench_field "$l" set_p50_ms)") p90s+=("$(bench_field "$l" set_p90_ms)")
	p99s+=("$(bench_field "$l" set_p99_ms)") maxs+=("$(bench_field "$l" set_max_ms)")
	lp50s+=("$(bench_field "$l" p50_ms)") lp99s+=("$(bench_field "$l" p99_ms)")
	applied=$(( applied + $(bench_field "$l" applied) ))
	inset=$(( inset + $(bench_field "$l" in_set) ))
done
k1_p50=$(printf '%s\n' "${p50s[@]}" | bench_median)
k1_p90=$(printf '%s\n' "${p90s[@]}" | bench_median)
k1_p99=$(printf '%s\n' "${p99s[@]}" | bench_median)
k1_max=$(printf '%s\n' "${maxs[@]}" | bench_median)
for n in a b c; do cworld_stop "$n" gate TERM; done
k1_want=$(( 2 * BENCH_CLUSTER_PROP_N * BENCH_CLUSTER_PROP_RUNS ))
bench_row "(k1) a deny from a's deny4 into b's and c's, ms: p50 / p90 / p99 / max (median of $BENCH_CLUSTER_PROP_RUNS x $BENCH_CLUSTER_PROP_N at $BENCH_CLUSTER_PROP_RATE/s)" \
	"$k1_p50 / $k1_p90 / $k1_p99 / $k1_max" "p99 <= 1000" \
	"$(awk -v v="$k1_p99" 'BEGIN { print (v != "-" && v >= 0 && v <= 1000) ? "yes" : "NO" }')"
bench_row "    per-run p99, ms" "$(printf '%s ' "${p99s[@]}")" "-" "-"
bench_row "    a's verdict line to the siblings' applied line, ms: p50 / p99" \
	"$(printf '%s\n' "${lp50s[@]}" | bench_median) / $(printf '%s\n' "${lp99s[@]}" | bench_median)" "-" "-"
bench_row "    denies applied on the siblings, seen added to their deny4 / decided x 2" "$applied, $inset / $k1_want" "all" \
	"$([ "$applied" = "$k1_want" ] && [ "$inset" = "$k1_want" ] && echo yes || echo NO)"

# ---- (k2) the verdict rate, sharing on against off ----
cworld_use a
bench_unbound_rcvbuf 4m || exit 1
KBASE=$(cworld_addr $(( (next + 4095) / 4096 * 4096 )))
# bench_k2_run CONF TAG: a fresh daemon on a, one bench_syn run; sets
# K2_RATE and K2_CL (its cluster line, sharing on).
bench_k2_run() {
	local out t pid
	world_flush_sets
	cworld_start a "$1" gate || return 1
	pid=${CWORLD_GATE_PID[a]}
	if [ "$2" = on ]; then bench_wait_up a 20 || { bench_log "(k2) a not up in the cluster"; return 1; }; fi
	sleep 0.3
	for t in /proc/"$pid"/task/*; do
		t=${t##*/}
		renice -n $(( BENCH_NICE + (t == pid ? 0 : 10) )) -p "$t" >/dev/null 2>&1
	done
	c0=$(bench_cpu_ms "$pid") r0=$(bench_cpu_ms "$CWORLD_REDIS_PID")
	out=$(cworld_cl a nice -n "$BENCH_NICE" "$build/bench/bench_syn" -d "$WORLD_GW4" -b "$KBASE" \
		-n "$BENCH_CLUSTER_SYN_N" -W "$BENCH_CLUSTER_WINDOW" -w 4000 2>&1 | grep '^bench_syn:')
	sleep 0.5
	c1=$(bench_cpu_ms "$pid") r1=$(bench_cpu_ms "$CWORLD_REDIS_PID")
	cl=
	[ "$2" = on ] && { cl=$(cworld_ctl a gate cluster | grep '^state='); K2_CL=$cl; }
	cworld_stop a gate TERM
	K2_RATE=$(bench_field "$out" rate)
	# smtpgated's own CPU per verdict, in us: its cost apart from the
	# machine's (Redis shares these cores here).
	K2_CPU=$(awk -v c=$(( ${c1:-0} - ${c0:-0} )) -v n="$(bench_field "$out" rst)" 'BEGIN { if (n + 0 == 0) print "-"; else printf "%.1f\n", c * 1000 / n }')
	K2_RCPU=$(awk -v c=$(( ${r1:-0} - ${r0:-0} )) -v n="$(bench_field "$out" rst)" 'BEGIN { if (n + 0 == 0) print "-"; else printf "%.1f\n", c * 1000 / n }')
	bench_log "(k2) sharing $2: $out; smtpgated CPU ${K2_CPU} us a verdict, redis-server ${K2_RCPU} us${cl:+; cluster: $(printf '%s\n' "$cl" | tr ' ' '\n' | grep -E '^(shared|backlog|lost|errors|timeouts)=' | tr '\n' ' ')}"
}
# bench_cpu_ms PID: CPU time (user + system) the process used so far, in ms.
bench_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat" 2>/dev/null; }
bench_k2_run "$conf_off" warm-up || exit 1
ons=() offs=() ratios=() shared=0 lost=0 cpu_on=() cpu_off=() rcpu=()
for r in $(seq "$BENCH_CLUSTER_PAIRS"); do
	if [ $((r % 2)) = 1 ]; then
		bench_k2_run "$conf_off" off || exit 1; off=$K2_RATE; cpu_off+=("$K2_CPU")
		bench_k2_run "${conf[a]}" on || exit 1; on=$K2_RATE; cpu_on+=("$K2_CPU") rcpu+=("$K2_RCPU")
	else
		bench_k2_run "${conf[a]}" on || exit 1; on=$K2_RATE; cpu_on+=("$K2_CPU") rcpu+=("$K2_RCPU")
		bench_k2_run "$conf_off" off || exit 1; off=$K2_RATE; cpu_off+=("$K2_CPU")
	fi
	shared=$(( shared + $(bench_field "$K2_CL" shared) )) lost=$(( lost + $(bench_field "$K2_CL" lost) ))
	ons+=("$on") offs+=("$off") ratios+=("$(bench_div "$on" "$off")")
	bench_log "(k2) pair $r: sharing off $off/s, on $on/s, ratio ${ratios[-1]}"
done
k2_on=$(printf '%s\n' "${ons[@]}" | bench_median)
k2_off=$(printf '%s\n' "${offs[@]}" | bench_median)
k2_ratio=$(bench_div "$k2_on" "$k2_off")
bench_row "(k2) new addresses verdicted (denied)/s on a, sharing on / off (median of $BENCH_CLUSTER_PAIRS x $BENCH_CLUSTER_SYN_N)" \
	"$k2_ratio ($k2_on / $k2_off)" "none given" "-"
bench_row "    median of the per-pair ratios (all of them)" \
	"$(printf '%s\n' "${ratios[@]}" | bench_median) ($(printf '%s ' "${ratios[@]}"))" "-" "-"
bench_row "    smtpgated's CPU a verdict, us: on / off (medians)" \
	"$(printf '%s\n' "${cpu_on[@]}" | bench_median) / $(printf '%s\n' "${cpu_off[@]}" | bench_median)" "-" "-"
bench_row "    redis-server's CPU a verdict shared, us (on the same two cores here)" \
	"$(printf '%s\n' "${rcpu[@]}" | bench_median)" "-" "-"
bench_row "    shared, lost of the runs with it on" "$shared, $lost" "lost 0" "$([ "$lost" = 0 ] && echo yes || echo NO)"

echo
echo "=== smtpgate cluster benchmark ($(nproc) cores, $(uname -r), $(( $(date +%s) - BENCH_T0 )) s) ==="
{ echo "benchmark|measured|target|met"; printf '%s\n' "${BENCH_ROWS[@]}"; } | column -t -s '|'
exit 0
