#!/bin/bash
# bench/spf.sh BUILD_DIR - what the SPF sandbox costs, and what an SPF
# flood does to the sniffer's event loop.  Prints figures, each next to its
# target and whether it was met; never fails on a target (exit 1 only when
# the benchmark itself could not run).  Needs root.  Standalone, in a test
# world of its own (WORLD_PREFIX=sgp unless set); bench/run.sh (make
# bench) calls it.
#
#  (a) SPF checks per second through smtpgate's path (bench_spf -m
#      sandbox: spfcheck, 4 sandboxed workers, DNS through our c-ares,
#      64 checks under way) divided by the design it replaced (bench_spf -m
#      inproc: libspf2 in the process, 2 threads, the system resolver),
#      against the world's unbound, every check naming a domain of its own
#      (a redirect zone: two TXT lookups each, one of them an include), the
#      clients spread over 198.51.100.0/24 (one client holds at most half
#      the workers).
#      BENCH_SPF_RUNS runs of BENCH_SPF_N checks each way, alternating;
#      medians compared.  Isolation costs (each run of a check crosses
#      processes several times); the target is on the sandboxed rate
#      itself, >= 1000 checks/s on this 2-core machine, far above the SPF
#      checks a busy gateway makes (one or three per session).
#  (b) The sniffer's worst event-loop stall (stats loop_stall_max_us) and
#      its verdict latency p99 during an SPF flood: BENCH_FLOOD_N sessions,
#      each greeting with a HELO of its own under spfbench.test, half of
#      them with slowN.spf.test, whose include never answers (silent.test),
#      each session from an address of its own in 198.18.0.0/16; next to
#      the same figures from a run of the same sessions with the SPF rules
#      off.  Target: worst stall
#      < 10 ms, verdict p99 < 1 ms.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "bench_spf: no build directory $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_spf: needs root" >&2; exit 2; }
bin=$build/bench/bench_spf
[ -x "$bin" ] || { echo "bench_spf: $bin not built (make benches)" >&2; exit 2; }

BENCH_SPF_RUNS=${BENCH_SPF_RUNS:-5}
BENCH_SPF_N=${BENCH_SPF_N:-3000}
BENCH_FLOOD_N=${BENCH_FLOOD_N:-600}

WORLD_PREFIX=${WORLD_PREFIX:-sgp}
WORLD_OWNER=$$
. "$repo/tests/world/world.sh"

cleanup() {
	[ -n "${sniffd:-}" ] && world_stop "$sniffd" TERM
	world_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM
world_up >/dev/null || { echo "bench_spf: test world did not come up" >&2; exit 1; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# ---- (a) ----
rin=() rsb=() bad=0
for i in $(seq "$BENCH_SPF_RUNS"); do
	for m in inproc sandbox; do
		out=$(world_gw "$bin" -m "$m" -n "$BENCH_SPF_N" -r 127.0.0.1:53 \
			198.51.100.0 "c$i-%u.spfbench.test" 2>/dev/null)
		[ "$(field "$out" pass)" = "$BENCH_SPF_N" ] || bad=$((bad + 1))
		if [ "$m" = inproc ]; then rin+=("$(field "$out" rate)"); else rsb+=("$(field "$out" rate)"); fi
	done
done
a_in=$(printf '%s\n' "${rin[@]}" | median)
a_sb=$(printf '%s\n' "${rsb[@]}" | median)
a_ratio=$(awk -v a="$a_sb" -v b="$a_in" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

# ---- (b) ----
conf=$(world_conf "$WORLD_DIR/flood.conf" "sniffer.state_file=$WORLD_DIR/state/sniffer.state" \
	"sniffer.control_socket=$WORLD_DIR/sniffd.sock" sniffer.offender_strikes=1000 \
	sniffer.clean_ttl=0 sniffer.deadline_ms=3000 dns.timeout_ms=2000 dns.tries=1)
world_gw "$build/smtpgate-nft" -c "$conf" remove >/dev/null 2>&1
world_gw "$build/smtpgate-nft" -c "$conf" install >/dev/null || { echo "bench_spf: ruleset"; exit 1; }
ctl() { world_ctl "$WORLD_DIR/sniffd.sock" "$1"; }
# flood TAG EXTRA_KEYS...: start the sniffer, run the sessions, print stats.
flood() {
	local tag=$1 c i; shift
	c=$(world_conf "$WORLD_DIR/flood-$tag.conf" "sniffer.state_file=$WORLD_DIR/state/sniffer-$tag.state" \
		"sniffer.control_socket=$WORLD_DIR/sniffd.sock" sniffer.offender_strikes=1000 \
		sniffer.clean_ttl=0 sniffer.deadline_ms=3000 dns.timeout_ms=2000 dns.tries=1 "$@")
	: >"$WORLD_DIR/sniffd-$tag.log"
	world_bg "sniffd-$tag" "$build/smtpgate-sniffd" -c "$c" -f
	sniffd=$WORLD_BG_PID
	world_wait_log "$WORLD_DIR/sniffd-$tag.log" ': started' 10 || {
		echo "bench_spf: smtpgate-sniffd ($tag) did not start: $(tail -1 "$WORLD_DIR/sniffd-$tag.log")" >&2
		return 1
	}
	for i in $(seq "$BENCH_FLOOD_N"); do
		if [ $((i % 2)) = 0 ]; then
			printf 'f%s.spfbench.test\n' "$i"
		else
			printf 'slow%s.spf.test\n' $((i % 8 + 1))
		fi
	done | world_cl python3 "$WORLD_TOOLS/smtpflood.py" --dst "$WORLD_GW4" \
		--src 198.18.0.0/16 --concurrency 40 >"$WORLD_DIR/flood-$tag.out" 2>&1
	sleep 3.5
	ctl stats | tail -1
	world_stop "$sniffd" TERM
	sniffd=
}
b_on=$(flood spf)
b_off=$(flood nospf sniffer.spf_fail=off sniffer.spf_ptr_fail=off)

# ---- the report ----
yn() { awk -v v="$1" -v t="$2" -v dir="${3:-ge}" 'BEGIN { ok = (dir == "ge") ? (v >= t) : (v < t); print (ok ? "yes" : "NO") }'; }
stall_on=$(field "$b_on" loop_stall_max_us); stall_off=$(field "$b_off" loop_stall_max_us)
p99_on=$(field "$b_on" verdict_p99_us); p99_off=$(field "$b_off" verdict_p99_us)
{
	echo "figure|measured|target|met"
	echo "(a) SPF checks/s through the sandboxed helpers (median of $BENCH_SPF_RUNS x $BENCH_SPF_N)|$a_sb|>= 1000|$(yn "$a_sb" 1000)"
	echo "    / libspf2 in process, 2 threads, the system resolver|$a_ratio ($a_sb / $a_in)|-|-"
	echo "    runs whose checks did not all pass|$bad|0|$( [ "$bad" = 0 ] && echo yes || echo NO)"
	echo "(b) worst loop stall in an SPF flood of $BENCH_FLOOD_N sessions (us)|${stall_on:-?} (SPF rules off: ${stall_off:-?})|< 10000|$(yn "${stall_on:-99999999}" 10000 lt)"
	echo "    verdict p99 in the flood (us)|${p99_on:-?} (SPF rules off: ${p99_off:-?})|< 1000|$(yn "${p99_on:-99999999}" 1000 lt)"
	echo "    SPF checks / replays / kills / deaths in the flood|$(field "$b_on" spf_checks) / $(field "$b_on" spf_replays) / $(field "$b_on" spf_kills) / $(field "$b_on" spf_deaths)|-|-"
} | column -t -s '|'
