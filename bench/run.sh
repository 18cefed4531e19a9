#!/bin/bash
# bench/run.sh BUILD_DIR - the benchmarks behind `make bench`.  Prints figures,
# each next to its target and whether it was met; never fails on a target
# (exit 1 only when the benchmark itself could not run).  Needs root.
#
# Everything is measured in one run against a baseline from the same run, in
# a test world of its own (tests/world/world.sh, WORLD_PREFIX=sgb unless set,
# so it never collides with the end-to-end tests' worlds):
#
#  (a) SMTP sessions per second through the gate with a warm cache, divided
#      by the same without the gate.  Postfix's smtp-source in the client
#      namespace, one session per message, against smtp-sink on the gateway,
#      from one client address (198.19.250.1, set as the route's source).
#      Runs alternate: baseline (no nft table) and gated (table installed
#      with [sniffer] packets = 0, i.e. the gate's rules alone, smtpgated
#      running, the address already in pass4 from a warm-up run),
#      in pairs whose order alternates (AB BA ...); BENCH_PAIRS pairs,
#      medians compared, and the median of the per-pair ratios with its
#      quartiles shows the noise.  Target >= 0.98.  A third run per pair
#      installs the whole ruleset (the sniffer's rules too, which turn on
#      connection tracking with packet counts) and is shown beside it.
#  (b) New distinct addresses verdicted per second: bench_syn sends one SYN
#      from each of BENCH_SYN_N never-seen addresses of 198.18.0.0/15 as fast
#      as a window of BENCH_SYN_WINDOW unanswered SYNs allows; the world's
#      unbound answers NXDOMAIN for their PTR from its static in-addr.arpa
#      zone, and no_ptr = log, so every verdict is accept and the answer
#      seen is smtp-sink's SYN-ACK.  No DNSBL sites.  Rate = answered
#      addresses / (last answer - first SYN); median of BENCH_SYN_RUNS runs;
#      smtpgated's own verdicts= counter (SIGUSR1 stats) is shown beside it.
#      Target >= 10,000/s.
#  (c) Added latency of a first SYN: bench_syn at BENCH_LAT_RATE/s from
#      never-seen addresses, SYN to SYN-ACK, with the gate minus without it
#      (difference of the percentiles, median and p99).  No target given;
#      reported only.
#  (d) A burst, run first, against the world as it is (its unbound with
#      the default receive buffer, its rbldnsd, the world's configuration:
#      no_ptr = reject, two DNSBL zones, deadline_ms 2500): bench_syn sends
#      one SYN from each of BENCH_BURST_N new addresses of 198.18.0.0/15,
#      BENCH_BURST_STRIDE apart (about 20 per /24, as a botnet's spread),
#      at BENCH_BURST_RATE/s (10,000 in 0.8 s by default).  None has a PTR
#      record, so a judged SYN is answered with a reset: the share judged
#      is resets within deadline_ms (+100 ms) of their SYN / SYNs sent.
#      Meanwhile BENCH_BURST_LEGIT legitimate clients (FCrDNS names,
#      198.51.100.70-81, 2001:db8:c::70-73) each send a mail with real TCP
#      (tests/tools/smtpmany.py, starts spread over the burst, 30 s each);
#      the share delivered is the second figure.  Beside them: what the
#      kernel let through unjudged (the queue rule's counter minus the
#      SYNs the daemon received), the local resolver's receive-buffer
#      drops, and the daemon's own counters.  A fresh daemon and empty
#      sets for each of BENCH_BURST_RUNS runs; median and range printed.
#      Target: judged >= 95 %, legitimate delivered 100 %.
#      BENCH_BURST_CONF="gate.dns_concurrency=32 ..." changes the daemon's
#      configuration for (d) (to compare settings).
#  (e) The verdict journal's cost: (b) with [journal] file empty (off) and
#      with it on (a database in the world's directory), a fresh daemon
#      for each run, BENCH_JOURNAL_PAIRS pairs in alternating order; the
#      medians compared, the per-pair ratios beside.  Every run sends from
#      the same BENCH_JOURNAL_N addresses (a fresh daemon and empty sets
#      each time), after one untimed run that warms the resolver's cache
#      for all.  Every verdict of
#      (b) is journaled (one attempt and one finding a verdict), so this is
#      the journal at 10,000+ verdicts a second.  Target: on / off >= 0.95.
#      journal_written and journal_lost of the runs with it on are shown.
#      (a), (b), (c) and (d) run with the journal on, as installed.
# BENCH_ONLY=burst runs (d) alone, BENCH_ONLY=journal (e) alone;
# BENCH_ONLY=scale runs bench/scale.sh alone (one gateway at scale: full
# sets, the allow list, the state file, the resolver's capacity, memory
# per lookup; BENCH_NO_SCALE skips it).
# BENCH_ONLY=cluster runs bench/cluster.sh alone (gateways sharing through
# Redis: propagation p50/p99, the verdict rate with sharing on / off;
# BENCH_NO_CLUSTER skips it).
# bench/sniff.sh, bench/reply.sh (what a refused connection costs with
# reply = reset and smtp, beside smtp-sink; BENCH_NO_REPLY skips it) and
# bench/spf.sh run after, each in a world of its own.
# Standalone benchmark programs of the tree (bench_ptrclass, bench_state)
# run first and their output is shown as is.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "bench: no build directory $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }

BENCH_PAIRS=${BENCH_PAIRS:-21}
BENCH_SMTP_N=${BENCH_SMTP_N:-4000}
BENCH_SMTP_S=${BENCH_SMTP_S:-10}
BENCH_SYN_N=${BENCH_SYN_N:-20000}
BENCH_SYN_WINDOW=${BENCH_SYN_WINDOW:-2000}
BENCH_SYN_RUNS=${BENCH_SYN_RUNS:-3}
BENCH_LAT_N=${BENCH_LAT_N:-2000}
BENCH_LAT_RATE=${BENCH_LAT_RATE:-500}
# unbound's so-rcvbuf for (b) and after (bench/lib.sh: bench_unbound_rcvbuf; "" keeps the world's default)
BENCH_UNBOUND_RCVBUF=${BENCH_UNBOUND_RCVBUF-4m}
BENCH_BURST_N=${BENCH_BURST_N:-10000}
BENCH_BURST_RATE=${BENCH_BURST_RATE:-12500}
BENCH_BURST_STRIDE=${BENCH_BURST_STRIDE:-13}
BENCH_BURST_RUNS=${BENCH_BURST_RUNS:-3}
BENCH_BURST_LEGIT=${BENCH_BURST_LEGIT:-16}
BENCH_JOURNAL_PAIRS=${BENCH_JOURNAL_PAIRS:-5}
BENCH_JOURNAL_N=${BENCH_JOURNAL_N:-$BENCH_SYN_N}
BENCH_ONLY=${BENCH_ONLY:-}
# The machine is shared (builds, fuzzers): every process of the world and
# the clients run at this nice level so others' work adds less noise.
BENCH_NICE=${BENCH_NICE:--15}
# Source addresses: each block is used once, so every SYN of (b) and (c)
# comes from an address the gate has never seen.
BENCH_SMTP_SRC=198.19.250.1

WORLD_PREFIX=${WORLD_PREFIX:-sgb}
# shellcheck source=world/world.sh
. "$repo/tests/world/world.sh"
. "$repo/bench/lib.sh"

BENCH_PID=
BENCH_ROWS=()
BENCH_T0=$(date +%s)

bench_log() { printf 'bench: %s\n' "$*"; }

bench_cleanup() {
	local rc=$?
	[ -n "$BENCH_PID" ] && world_stop "$BENCH_PID" TERM
	world_down
	exit $rc
}

# bench_row NAME MEASURED TARGET MET
bench_row() { BENCH_ROWS+=("$1|$2|$3|$4"); }

# Address arithmetic for bench_syn's -b: 198.18.0.0 + N.
bench_addr() {
	local n=$(( (198 << 24) + (18 << 16) + $1 ))
	printf '%d.%d.%d.%d\n' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255))
}
BENCH_NEXT=0
# bench_block N: BENCH_BASE = the first of N fresh addresses (blocks are
# rounded up to a /24).  Not in a subshell: it advances BENCH_NEXT.
bench_block() {
	# 198.19.250.0/24 (the smtp-source address) stays out of the blocks.
	if [ $(( BENCH_NEXT + $1 )) -gt $(( 65536 + 250 * 256 )) ]; then
		bench_log "198.18.0.0/15 exhausted: lower BENCH_SYN_N or BENCH_SYN_RUNS"
		exit 1
	fi
	BENCH_BASE=$(bench_addr "$BENCH_NEXT")
	BENCH_NEXT=$(( BENCH_NEXT + ($1 + 255) / 256 * 256 ))
}

# bench_quartiles: "Q1..Q3" of numbers on stdin (nearest rank).
bench_quartiles() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else printf "%s..%s\n", v[int((NR - 1) * 0.25) + 1], v[int((NR - 1) * 0.75) + 1] }'; }
# bench_ge A B: is A >= B (decimals)?
bench_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a + 0 >= b + 0) }'; }
yn() { if bench_ge "$1" "$2"; then echo yes; else echo NO; fi; }

bench_table_remove() { world_gw "$build/smtpgate-nft" -c "${1:-$BENCH_CONF}" remove >/dev/null 2>&1; return 0; }
# bench_table_install [CONF]: the ruleset of CONF (default BENCH_CONF).
bench_table_install() {
	local out
	bench_table_remove "${1:-$BENCH_CONF}"
	out=$(world_gw "$build/smtpgate-nft" -c "${1:-$BENCH_CONF}" install 2>&1) ||
		{ bench_log "smtpgate-nft install failed: $out"; return 1; }
}

# bench_stats: ask smtpgated for its counters; prints the stats line.
bench_stats() {
	local before i
	before=$(grep -c ' stats ' "$BENCH_LOG")
	kill -USR1 "$BENCH_PID" 2>/dev/null || return 1
	for i in $(seq 50); do
		if [ "$(grep -c ' stats ' "$BENCH_LOG")" -gt "$before" ]; then
			grep ' stats ' "$BENCH_LOG" | tail -1 | sed 's/.*: stats /stats /'
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# Raise every process in the gateway namespace to BENCH_NICE.
bench_renice() {
	local pid
	for pid in $(ip netns pids "$WORLD_GW_NS" 2>/dev/null); do
		renice -n "$BENCH_NICE" -p "$pid" >/dev/null 2>&1
	done
	return 0
}

# bench_syn ARGS...: one bench_syn run in the client namespace; its line.
bench_syn() {
	world_cl nice -n "$BENCH_NICE" "$build/bench/bench_syn" -d "$WORLD_GW4" "$@" 2>&1 | grep '^bench_syn:'
}

# bench_smtp: one timed smtp-source run; prints sessions per second.
bench_smtp() {
	world_cl nice -n "$BENCH_NICE" bash -c '
		t0=$(date +%s%N)
		smtp-source -m "$1" -s "$2" -l 100 "$3:25" >/dev/null 2>"$4" || exit 1
		t1=$(date +%s%N)
		awk -v n="$1" -v ns=$((t1 - t0)) "BEGIN { printf \"%.0f\n\", n / (ns / 1e9) }"
	' bench "$BENCH_SMTP_N" "$BENCH_SMTP_S" "$WORLD_GW4" "$WORLD_DIR/smtp-source.err"
}

# Receive-buffer drops of the gateway's UDP sockets so far (unbound's
# and the daemon's c-ares socket): lost DNS queries or answers.
bench_udp_drops() {
	world_gw nstat -az UdpRcvbufErrors 2>/dev/null | awk '$1 == "UdpRcvbufErrors" { print $2 }'
}

bench_standalone() {
	local b name
	for b in "$build"/bench/bench_*; do
		[ -x "$b" ] || continue
		name=$(basename "$b")
		case $name in
		bench_ptrclass)
			echo "--- $name"
			(cd "$repo" && timeout 120 "$b") 2>&1 | sed 's/^/  /'
			echo "--- $name: exit ${PIPESTATUS[0]}"
			;;
		bench_state)
			# The sniffer's state file: the loop's stall per save,
			# synchronous against a child's snapshot, at 200,000
			# records (issue 8's figure) and at the 1,000,000 cap.
			for n in 200000 1000000; do
				echo "--- $name $n"
				timeout 300 "$b" "$n" "$build" 2>&1 | sed 's/^/  /'
				echo "--- $name $n: exit ${PIPESTATUS[0]}"
			done
			;;
		bench_syn|bench_scale) ;;	# driven below, by scale.sh
		bench_proto) ;;	# driven by bench/sniff.sh (c)
		*)	echo "--- $name: not run (not a standalone benchmark)" ;;
		esac
	done
}

if [ "$BENCH_ONLY" = scale ]; then
	exec "$here/scale.sh" "$build"
fi
if [ "$BENCH_ONLY" = cluster ]; then
	exec "$here/cluster.sh" "$build"
fi
[ -n "$BENCH_ONLY" ] || bench_standalone

for p in smtpgated smtpgate-nft bench/bench_syn; do
	[ -x "$build/$p" ] || { bench_log "$build/$p not built"; exit 1; }
done
for p in smtp-source smtp-sink unbound; do
	command -v "$p" >/dev/null || { bench_log "$p not installed (make deps)"; exit 1; }
done

trap bench_cleanup EXIT
trap 'exit 1' INT TERM
world_up || { bench_log "test world did not come up"; exit 1; }
bench_renice

# ---- (d): a burst against the world as it is ----
# bench_queue_rule: packets the gate chain's queue rule has counted.
bench_queue_rule() {
	world_gw nft list chain inet "$WORLD_TABLE" gate 2>/dev/null |
		grep -E '(^|[[:space:]])queue([[:space:]]|$)' |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | tail -1
}
# bench_burst_stats PID LOG: SIGUSR1 and print the daemon's new stats line.
bench_burst_stats() {
	local before i
	before=$(grep -c ' stats ' "$2")
	kill -USR1 "$1" 2>/dev/null || return 1
	for i in $(seq 50); do
		if [ "$(grep -c ' stats ' "$2")" -gt "$before" ]; then
			grep ' stats ' "$2" | tail -1 | sed 's/.*: stats /stats /'
			return 0
		fi
		sleep 0.05
	done
	return 1
}
# bench_cpu_ms PID: CPU time (user + system) the process used so far, in ms.
bench_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat" 2>/dev/null; }
bench_pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || b + 0 == 0 || a == "") print "-"; else printf "%.1f\n", 100 * a / b }'; }
# bench_burst RUN: one burst with a fresh daemon; sets BURST_* and logs.
bench_burst() {
	local log=$WORLD_DIR/smtpgated-burst.log pid conf=$WORLD_DIR/burst.conf
	local q0 q1 s0 s1 d0 d1 c0 c1 out legit legit_pid i srcs dl n4 n6
	# shellcheck disable=SC2086 # BENCH_BURST_CONF: section.key=value words
	world_conf "$conf" sniffer.packets=0 \
		"journal.file=$WORLD_DIR/journal/journal.db" ${BENCH_BURST_CONF:-} >/dev/null
	dl=$(sed -n 's/^deadline_ms = //p' "$conf" | head -1)
	bench_table_install "$conf" || return 1
	: >"$log"
	world_bg smtpgated-burst "$build/smtpgated" -c "$conf" -f
	pid=$WORLD_BG_PID
	world_wait_log "$log" started 10 ||
		{ bench_log "smtpgated did not start: $(tail -3 "$log" | tr '\n' ' ')"; return 1; }
	renice -n "$BENCH_NICE" -p "$pid" >/dev/null 2>&1
	sleep 0.5
	# Every fourth is IPv6: 198.51.100.70-81 and 2001:db8:c::70-73 (hosts.tsv).
	srcs="" n4=0 n6=0
	for i in $(seq 0 $((BENCH_BURST_LEGIT - 1))); do
		if [ $((i % 4)) = 3 ]; then srcs+=" 2001:db8:c::$((70 + n6 % 4))"; n6=$((n6 + 1))
		else srcs+=" 198.51.100.$((70 + n4 % 12))"; n4=$((n4 + 1)); fi
	done
	q0=$(bench_queue_rule); s0=$(bench_burst_stats "$pid" "$log"); d0=$(bench_udp_drops)
	c0=$(bench_cpu_ms "$pid")
	world_cl nice -n "$BENCH_NICE" python3 "$WORLD_TOOLS/smtpmany.py" --dst "$WORLD_GW4" \
		--dst6 "$WORLD_GW6" --timeout 30 --stagger-ms $(( BENCH_BURST_N * 1000 / BENCH_BURST_RATE / BENCH_BURST_LEGIT )) \
		$srcs >"$WORLD_DIR/smtpmany.out" 2>&1 &
	legit_pid=$!
	out=$(bench_syn -b 198.18.0.0 -k "$BENCH_BURST_STRIDE" -n "$BENCH_BURST_N" \
		-r "$BENCH_BURST_RATE" -W "$BENCH_BURST_N" -w $((dl + 3000)) -t $((dl + 100)))
	wait "$legit_pid"
	sleep 0.5
	q1=$(bench_queue_rule); s1=$(bench_burst_stats "$pid" "$log"); d1=$(bench_udp_drops)
	c1=$(bench_cpu_ms "$pid")
	world_stop "$pid" TERM
	world_flush_sets
	legit=$(grep '^smtpmany:' "$WORLD_DIR/smtpmany.out")
	BURST_SENT=$(bench_field "$out" sent)
	BURST_JUDGED=$(bench_pct "$(bench_field "$out" rst_ontime)" "$BURST_SENT")
	BURST_LEGIT="$(bench_field "$legit" delivered)/$(bench_field "$legit" sessions)"
	BURST_LEGIT_PCT=$(bench_pct "$(bench_field "$legit" delivered)" "$(bench_field "$legit" sessions)")
	BURST_UNJUDGED=$(( ${q1:-0} - ${q0:-0} - ( $(bench_field "$s1" queued) - $(bench_field "$s0" queued) ) ))
	BURST_DROPS=$(( ${d1:-0} - ${d0:-0} ))
	bench_log "(d) burst run $1: $out"
	bench_log "(d) burst run $1: judged in time ${BURST_JUDGED}% of $BURST_SENT; legitimate delivered $BURST_LEGIT ($(bench_field "$legit" p50_ms) ms median, $(bench_field "$legit" max_ms) ms max); queue rule counted $(( ${q1:-0} - ${q0:-0} )), daemon received $(( $(bench_field "$s1" queued) - $(bench_field "$s0" queued) )), unjudged by the kernel $BURST_UNJUDGED; resolver socket drops $BURST_DROPS"
	grep '^fail' "$WORLD_DIR/smtpmany.out" | head -5 | sed 's/^/bench:   legitimate /'
	bench_log "(d) burst run $1: daemon CPU $(( ${c1:-0} - ${c0:-0} )) ms for the burst; after: $s1"
}

burst_judged=() burst_legit=() burst_unjudged=() burst_drops=() burst_legit_n=()
[ "$BENCH_ONLY" = journal ] && BENCH_BURST_RUNS=0
for r in $(seq "$BENCH_BURST_RUNS"); do
	bench_burst "$r" || exit 1
	burst_judged+=("$BURST_JUDGED") burst_legit+=("$BURST_LEGIT_PCT")
	burst_unjudged+=("$BURST_UNJUDGED") burst_drops+=("$BURST_DROPS") burst_legit_n+=("$BURST_LEGIT")
done
bench_range() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else printf "%s..%s\n", v[1], v[NR] }'; }
d_judged=$(printf '%s\n' "${burst_judged[@]}" | bench_median)
d_judged_r=$(printf '%s\n' "${burst_judged[@]}" | bench_range)
d_legit=$(printf '%s\n' "${burst_legit[@]}" | bench_median)
d_legit_r=$(printf '%s\n' "${burst_legit_n[@]}" | tr '\n' ' ')
d_unj=$(printf '%s\n' "${burst_unjudged[@]}" | bench_median)
d_unj_r=$(printf '%s\n' "${burst_unjudged[@]}" | bench_range)
d_drops=$(printf '%s\n' "${burst_drops[@]}" | bench_median)
d_drops_r=$(printf '%s\n' "${burst_drops[@]}" | bench_range)
[ "$BENCH_ONLY" = journal ] ||
bench_row "(d) burst of $BENCH_BURST_N new addresses at $BENCH_BURST_RATE/s: judged in time, % (median of $BENCH_BURST_RUNS, range)" \
	"$d_judged ($d_judged_r)" ">= 95" "$(yn "$d_judged" 95)"
if [ "$BENCH_ONLY" != journal ]; then
bench_row "    legitimate sessions delivered during the burst, % (runs)" "$d_legit ($d_legit_r)" "100" "$(yn "$d_legit" 100)"
bench_row "    SYNs the kernel let through unjudged (median, range)" "$d_unj ($d_unj_r)" "-" "-"
bench_row "    resolver receive-buffer drops (median, range)" "$d_drops ($d_drops_r)" "-" "-"
fi
if [ "$BENCH_ONLY" = burst ]; then
	echo
	echo "=== smtpgate burst benchmark ($(nproc) cores, $(uname -r), $(( $(date +%s) - BENCH_T0 )) s) ==="
	{ echo "benchmark|measured|target|met"; printf '%s\n' "${BENCH_ROWS[@]}"; } | column -t -s '|'
	exit 0
fi

bench_unbound_rcvbuf "$BENCH_UNBOUND_RCVBUF" || exit 1
bench_renice
BENCH_LOG=$WORLD_DIR/smtpgated.log
: >"$BENCH_LOG"
BENCH_CONF=$WORLD_DIR/bench.conf
# Every client is accepted: (b) and (c) time verdicts, not resets.
world_conf "$BENCH_CONF" gate.no_ptr=log gate.generic_ptr=log \
	gate.static_ptr=log gate.dnsbl=off gate.dnsbl_sites= \
	sniffer.packets=0 "journal.file=$WORLD_DIR/journal/journal.db" >/dev/null
# (e): the same without the journal.
BENCH_CONF_NOJ=$WORLD_DIR/bench-nojournal.conf
sed 's|^file = .*journal.db$|file =|' "$BENCH_CONF" >"$BENCH_CONF_NOJ"
# The whole ruleset, the sniffer's rules included: they need connection
# tracking with packet counts, a cost of its own measured beside (a).
BENCH_CONF_FULL=$WORLD_DIR/bench-full.conf
sed '/^packets = 0$/d' "$BENCH_CONF" >"$BENCH_CONF_FULL"
# smtp-source cannot bind: make the route to the gateway pick our address.
cl_veth=${WORLD_PREFIX:0:11}-c
world_cl ip route replace "$WORLD_GW4/32" dev "$cl_veth" src "$BENCH_SMTP_SRC" ||
	{ bench_log "cannot set source $BENCH_SMTP_SRC for smtp-source"; exit 1; }

echo
bench_log "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); world $WORLD_PREFIX; nice $BENCH_NICE"

# ---- (e): the journal off and on ----
# bench_journal_run CONF TAG: a fresh daemon, one (b) run; sets JR_RATE,
# JR_STATS, JR_WRITTEN, JR_LOST.
bench_journal_run() {
	local conf=$1 log=$WORLD_DIR/smtpgated-journal-$2.log pid out t
	bench_table_install "$conf" || return 1
	: >"$log"
	world_bg "smtpgated-journal-$2" "$build/smtpgated" -c "$conf" -f
	pid=$WORLD_BG_PID
	world_wait_log "$log" started 10 ||
		{ bench_log "smtpgated did not start: $(tail -3 "$log" | tr '\n' ' ')"; return 1; }
	sleep 0.3
	# renice -p moves one thread: the journal's writer keeps its place
	# 10 below the loop (journal.c's JOURNAL_NICE), as it runs unreniced.
	for t in /proc/"$pid"/task/*; do
		t=${t##*/}
		renice -n $(( BENCH_NICE + (t == pid ? 0 : 10) )) -p "$t" >/dev/null 2>&1
	done
	out=$(bench_syn -b "$JBASE" -n "$BENCH_JOURNAL_N" -W "$BENCH_SYN_WINDOW" -w 4000)
	sleep 0.5	# the writer's last batch
	JR_STATS=$(bench_burst_stats "$pid" "$log")
	world_stop "$pid" TERM
	world_flush_sets
	JR_RATE=$(bench_field "$out" rate)
	JR_WRITTEN=$(bench_field "$JR_STATS" journal_written)
	JR_LOST=$(bench_field "$JR_STATS" journal_lost)
	bench_log "(e) journal $2: $out; $(printf '%s\n' "$JR_STATS" | tr ' ' '\n' | grep -E '^(verdicts|journal_written|journal_lost|loop_stall_max_us)=' | tr '\n' ' ')"
}
bench_journal() {
	local r off on ratios=() offs=() ons=() written=0 lost=0
	bench_block "$BENCH_JOURNAL_N"
	JBASE=$BENCH_BASE
	bench_journal_run "$BENCH_CONF_NOJ" warm-up || return 1
	for r in $(seq "$BENCH_JOURNAL_PAIRS"); do
		if [ $((r % 2)) = 1 ]; then
			bench_journal_run "$BENCH_CONF_NOJ" off || return 1; off=$JR_RATE
			bench_journal_run "$BENCH_CONF" on || return 1; on=$JR_RATE
		else
			bench_journal_run "$BENCH_CONF" on || return 1; on=$JR_RATE
		fi
		written=$(( written + ${JR_WRITTEN:-0} )) lost=$(( lost + ${JR_LOST:-0} ))
		if [ $((r % 2)) = 0 ]; then
			bench_journal_run "$BENCH_CONF_NOJ" off || return 1; off=$JR_RATE
		fi
		offs+=("$off") ons+=("$on")
		ratios+=("$(awk -v a="$on" -v b="$off" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.3f", a / b }')")
		bench_log "(e) pair $r: journal off $off/s, on $on/s, ratio ${ratios[-1]}"
	done
	e_off=$(printf '%s\n' "${offs[@]}" | bench_median)
	e_on=$(printf '%s\n' "${ons[@]}" | bench_median)
	e_ratio=$(awk -v a="$e_on" -v b="$e_off" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.3f", a / b }')
	bench_row "(e) new addresses verdicted/s, journal on / off (median of $BENCH_JOURNAL_PAIRS x $BENCH_JOURNAL_N each)" \
		"$e_ratio ($e_on / $e_off)" ">= 0.95" "$(yn "$e_ratio" 0.95)"
	bench_row "    per-pair ratios" "$(printf '%s ' "${ratios[@]}")" ">= 0.95" "-"
	bench_row "    journal_written, journal_lost of the runs with it on" \
		"$written, $lost" "lost 0" "$( [ "$lost" = 0 ] && echo yes || echo NO)"
}
if [ "$BENCH_ONLY" = journal ]; then
	bench_journal || exit 1
	echo
	echo "=== smtpgate journal benchmark ($(nproc) cores, $(uname -r), $(( $(date +%s) - BENCH_T0 )) s) ==="
	{ echo "benchmark|measured|target|met"; printf '%s\n' "${BENCH_ROWS[@]}"; } | column -t -s '|'
	exit 0
fi

# ---- baselines of (b) and (c): no table, the kernel answers alone ----
bench_table_remove
bench_block "$BENCH_LAT_N"
lat_base=$(bench_syn -b "$BENCH_BASE" -n "$BENCH_LAT_N" -r "$BENCH_LAT_RATE" -w 2000)
bench_log "(c) baseline, no gate, $BENCH_LAT_RATE/s:  $lat_base"
bench_block "$BENCH_SYN_N"
syn_base=$(bench_syn -b "$BENCH_BASE" -n "$BENCH_SYN_N" -W "$BENCH_SYN_WINDOW" -w 2000)
bench_log "(b) baseline, no gate, window $BENCH_SYN_WINDOW: $syn_base"

# ---- the gate ----
bench_table_install || exit 1
world_bg smtpgated "$build/smtpgated" -c "$BENCH_CONF" -f
BENCH_PID=$WORLD_BG_PID
world_wait_log "$BENCH_LOG" started 10 ||
	{ bench_log "smtpgated did not start: $(tail -3 "$BENCH_LOG" | tr '\n' ' ')"; exit 1; }
bench_renice

bench_block "$BENCH_LAT_N"
lat_gate=$(bench_syn -b "$BENCH_BASE" -n "$BENCH_LAT_N" -r "$BENCH_LAT_RATE" -w 4000)
bench_log "(c) gated, $BENCH_LAT_RATE/s:           $lat_gate"

rates=() vsum=0 dsum=0
for r in $(seq "$BENCH_SYN_RUNS"); do
	s0=$(bench_stats); v0=$(bench_field "$s0" verdicts); d0=$(bench_udp_drops)
	bench_block "$BENCH_SYN_N"
	out=$(bench_syn -b "$BENCH_BASE" -n "$BENCH_SYN_N" -W "$BENCH_SYN_WINDOW" -w 4000)
	sleep 0.2
	s1=$(bench_stats); v1=$(bench_field "$s1" verdicts); d1=$(bench_udp_drops)
	dv=$(( ${v1:-0} - ${v0:-0} ))
	vsum=$((vsum + dv))
	dsum=$(( dsum + ${d1:-0} - ${d0:-0} ))
	bench_log "(b) gated run $r: $out daemon_verdicts=$dv udp_rcvbuf_drops=$(( ${d1:-0} - ${d0:-0} ))"
	rates+=("$(bench_field "$out" rate)")
done
bench_log "(b) daemon after the runs: $(bench_stats)"

# ---- (a): alternate baseline and gated-warm runs ----
base_cps=() gate_cps=() full_cps=() pair_ratio=() warm_fail=0
q0=$(bench_field "$(bench_stats)" queued)
# One baseline run: no table.  Sets b.  Both sides settle for the same
# 0.3 s before the timed run and do their checks after it, so nothing but
# the gate differs while the clock runs.
bench_a_base() {
	bench_table_remove
	sleep 0.3
	b=$(bench_smtp) || { bench_log "smtp-source failed: $(tail -2 "$WORLD_DIR/smtp-source.err")"; b=-; }
}
# One gated run: table installed, a short warm-up run puts the address in
# pass4 (smtpgated's verdict takes a few ms), then the timed run; that the
# address was in pass4 is checked afterwards (and the count of SYNs queued
# during (a) shows the timed runs never reached the daemon).  Sets g.
bench_a_gate() {
	bench_table_install || exit 1
	world_cl smtp-source -m 3 -s 1 -l 100 "$WORLD_GW4:25" >/dev/null 2>&1
	sleep 0.3
	g=$(bench_smtp) || { bench_log "smtp-source failed: $(tail -2 "$WORLD_DIR/smtp-source.err")"; g=-; }
	world_set_has pass4 "$BENCH_SMTP_SRC" ||
		{ warm_fail=$((warm_fail + 1)); bench_log "warm-up: $BENCH_SMTP_SRC not in pass4"; }
}
# The same with the whole ruleset (the sniffer's rules, no sniffer
# running: its queue is bypassed).  Sets f.
bench_a_full() {
	bench_table_install "$BENCH_CONF_FULL" || exit 1
	world_cl smtp-source -m 3 -s 1 -l 100 "$WORLD_GW4:25" >/dev/null 2>&1
	sleep 0.3
	f=$(bench_smtp) || { bench_log "smtp-source failed: $(tail -2 "$WORLD_DIR/smtp-source.err")"; f=-; }
}
# Pairs alternate their order (baseline first, then gated first) so a
# load that drifts during the run weighs on both sides alike.
for r in $(seq "$BENCH_PAIRS"); do
	if [ $((r % 2)) = 1 ]; then
		bench_a_base; bench_a_gate; bench_a_full; order="baseline first"
	else
		bench_a_full; bench_a_gate; bench_a_base; order="gated first"
	fi
	bench_log "(a) pair $r ($order): baseline $b sessions/s, gated warm $g sessions/s, ratio $(awk -v g="$g" -v b="$b" 'BEGIN { if (g == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", g / b }'); whole ruleset $f sessions/s"
	base_cps+=("$b") gate_cps+=("$g") full_cps+=("$f")
	[ "$b" != - ] && [ "$g" != - ] && pair_ratio+=("$(awk -v g="$g" -v b="$b" 'BEGIN { printf "%.3f", g / b }')")
done

q1=$(bench_field "$(bench_stats)" queued)
a_queued=$(( ${q1:-0} - ${q0:-0} ))
# (e) runs daemons of its own.
world_stop "$BENCH_PID" TERM
BENCH_PID=
bench_journal || exit 1
bench_log "(a) SYNs smtpgated saw during (a): $a_queued (the $((2 * BENCH_PAIRS)) warm-ups' first SYNs; the timed runs pass in the kernel)"

# ---- summary ----
a_base=$(printf '%s\n' "${base_cps[@]}" | grep -v '^-$' | bench_median)
a_gate=$(printf '%s\n' "${gate_cps[@]}" | grep -v '^-$' | bench_median)
a_ratio=$(awk -v g="$a_gate" -v b="$a_base" 'BEGIN { if (g == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", g / b }')
a_pair=$(printf '%s\n' "${pair_ratio[@]}" | bench_median)
a_iqr=$(printf '%s\n' "${pair_ratio[@]}" | bench_quartiles)
b_rate=$(printf '%s\n' "${rates[@]}" | bench_median)
b_base_rate=$(bench_field "$syn_base" rate)
lb50=$(bench_field "$lat_base" p50_us) lb99=$(bench_field "$lat_base" p99_us)
lg50=$(bench_field "$lat_gate" p50_us) lg99=$(bench_field "$lat_gate" p99_us)
c50=$(( ${lg50:-0} - ${lb50:-0} )) c99=$(( ${lg99:-0} - ${lb99:-0} ))

bench_row "(a) SMTP sessions/s gated warm / no gate (median of $BENCH_PAIRS pairs)" \
	"$a_ratio ($a_gate / $a_base)" ">= 0.98" "$( [ "$warm_fail" = 0 ] && yn "$a_ratio" 0.98 || echo "NO (warm-up failed)")"
bench_row "    median of the per-pair ratios (quartiles: noise)" "$a_pair ($a_iqr)" ">= 0.98" "$(yn "$a_pair" 0.98)"
a_full=$(printf '%s\n' "${full_cps[@]}" | grep -v '^-$' | bench_median)
a_full_ratio=$(awk -v g="$a_full" -v b="$a_base" 'BEGIN { if (g == "" || b == "" || b == 0) print "-"; else printf "%.3f", g / b }')
bench_row "    with the sniffer's rules too (conntrack on), / no gate" "$a_full_ratio ($a_full / $a_base)" "-" "-"
bench_row "    SYNs queued to smtpgated during (a)" "$a_queued" "<= $((2 * BENCH_PAIRS)) warm-ups" "$( [ "$a_queued" -le $((2 * BENCH_PAIRS)) ] && echo yes || echo NO)"
bench_row "(b) new addresses verdicted/s (median of $BENCH_SYN_RUNS x $BENCH_SYN_N)" \
	"$b_rate" ">= 10000" "$(yn "$b_rate" 10000)"
bench_row "    same path without the gate (kernel only, reference)" "$b_base_rate" "-" "-"
bench_row "    smtpgated verdicts= during (b) / SYNs sent" "$vsum / $((BENCH_SYN_RUNS * BENCH_SYN_N))" "-" "-"
bench_row "    UDP receive-buffer drops in the gateway during (b)" \
	"$dsum (unbound so-rcvbuf ${BENCH_UNBOUND_RCVBUF:-default})" "0" "$( [ "$dsum" = 0 ] && echo yes || echo NO)"
bench_row "(c) added first-SYN latency, median ($BENCH_LAT_RATE/s)" \
	"${c50} us (${lg50} - ${lb50})" "none given" "-"
bench_row "(c) added first-SYN latency, p99 ($BENCH_LAT_RATE/s)" \
	"${c99} us (${lg99} - ${lb99})" "none given" "-"

echo
echo "=== smtpgate benchmark summary ($(nproc) cores, $(uname -r), $(( $(date +%s) - BENCH_T0 )) s) ==="
{
	echo "benchmark|measured|target|met"
	printf '%s\n' "${BENCH_ROWS[@]}"
} | column -t -s '|'

# The greeting sniffer has a benchmark of its own (its own world).
if [ -x "$build/smtpgate-sniffd" ] && [ -z "${BENCH_NO_SNIFF:-}" ]; then
	echo
	echo "=== smtpgate-sniffd ==="
	"$here/sniff.sh" "$build" || bench_log "bench/sniff.sh failed"
fi
# So have refusals that say why (the responder).
if [ -z "${BENCH_NO_REPLY:-}" ]; then
	echo
	echo "=== refused connections: reply = reset | smtp ==="
	"$here/reply.sh" "$build" || bench_log "bench/reply.sh failed"
fi
# So has one gateway at scale.
if [ -z "${BENCH_NO_SCALE:-}" ]; then
	echo
	echo "=== one gateway at scale ==="
	"$here/scale.sh" "$build" || bench_log "bench/scale.sh failed"
fi
# So have gateways that share verdicts through Redis.
if [ -z "${BENCH_NO_CLUSTER:-}" ]; then
	echo
	echo "=== gateways sharing through Redis ==="
	"$here/cluster.sh" "$build" || bench_log "bench/cluster.sh failed"
fi
# So has the SPF sandbox.
if [ -x "$build/bench/bench_spf" ] && [ -z "${BENCH_NO_SPF:-}" ]; then
	echo
	echo "=== SPF sandbox ==="
	"$here/spf.sh" "$build" || bench_log "bench/spf.sh failed"
fi
exit 0
