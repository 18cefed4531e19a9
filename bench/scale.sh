#!/bin/bash
# bench/scale.sh BUILD_DIR - one gateway at scale (issue 13, item 5).
# Prints figures, each as a ratio against a baseline measured in the same
# run, next to its target where there is one; never fails on a target
# (exit 1 only when the benchmark itself could not run).  Needs root.
# Standalone, in a test world of its own (WORLD_PREFIX=sgz unless set);
# bench/run.sh (make bench) calls it, BENCH_ONLY=scale runs it alone.
#
#  (s1) Repeat SYNs per second with a warm pass cache: bench_syn sends one
#       SYN from each of BENCH_SCALE_SYN_N addresses of 198.18.0.0/16, all
#       already in pass4 (added by nft), window BENCH_SCALE_WINDOW, a new
#       source port each run; the answer is smtp-sink's SYN-ACK, given by
#       the kernel (smtpgated's queued counter shows none reached it).
#       Baseline: the sets hold only those addresses.  Subject: the same
#       plus BENCH_SCALE_CACHED addresses (half in pass4, half in deny4)
#       and BENCH_SCALE_PREFIXES prefixes in allow4 (an interval set: the
#       lookup every SYN pays first), loaded by one `nft -f` of a
#       generated file.  BENCH_SCALE_CYCLES cycles of: BENCH_SCALE_RUNS
#       baselines, fill, twice as many subject runs, empty again,
#       BENCH_SCALE_RUNS baselines; medians of all compared.  Target >= 0.95.  The fill's time and the kernel memory
#       it took (MemAvailable and Slab of /proc/meminfo, before - after:
#       the whole machine's, so others' work adds noise) are shown beside.
#  (s2) The allow list: `smtpgatectl allow import` of a file of
#       BENCH_SCALE_ALLOW prefixes (elapsed time and peak RSS, GNU time)
#       against the import of one prefix (no smtpgated: smtpgatectl
#       writes allow4 itself); `allow apply` replacing them by as many
#       others (one transaction); the import and the replacement again
#       with smtpgated running (it re-reads and applies), with its peak
#       RSS (VmHWM); then smtpgated's start with that list (launch to
#       its "started" line, RSS, peak RSS) against its start with the
#       one-prefix list.
#  (s3) smtpgate-sniffd's start with BENCH_SCALE_RECORDS offender records
#       in its state file (bench_scale state; every fifth banned, so its
#       bans go back into offend4/6) against its start with an empty one:
#       launch to the "started" line, and its RSS.  Order E F F E.
#  (s4) New distinct addresses verdicted per second against the
#       resolver's capacity.  The gate's rate as bench/run.sh (b) measures
#       it (no_ptr = log, no DNSBL: per new address the gate asks one PTR,
#       answered NXDOMAIN by unbound's static in-addr.arpa zone, and asks
#       no forward query; median of BENCH_SCALE_RUNS runs of
#       BENCH_SCALE_NEW_N never-seen addresses, window 2000), against
#       dnsperf (-T 1, -q BENCH_SCALE_DNSPERF_Q outstanding,
#       BENCH_SCALE_DNSPERF_S seconds) sending the same PTR queries to
#       the same unbound (with so-rcvbuf 4m, as in (b)): its queries/s,
#       divided by the queries per address, is what the resolver allows.
#       Runs alternate (resolver, gate, gate, resolver, ...).  Target >= 0.8.
#       Beside it, dnsperf with only as many queries outstanding as the
#       gate keeps ([gate] dns_concurrency, 64 by default), and where the
#       cores went (utime + stime of /proc/PID/stat, busy ticks of
#       /proc/stat): CPU per new address in the gate runs (smtpgated with
#       its journal thread, unbound, the whole machine) against CPU per
#       query in the dnsperf runs, and the share of one core smtpgated
#       and unbound used in the gate runs.  Both kinds of run keep this
#       two-core machine busy, so the ratio is about the ratio of those
#       costs; a resolver far below one core in the gate runs was not
#       what held the gate back.  Last, this world's ceiling: the same
#       SYN stream with its addresses put in pass4 first, answered by
#       the kernel alone (no gate could be faster), as a share of the
#       resolver's rate, and the gate's rate as a share of it.
#  (s5) Memory per pending lookup: smtpgated with its resolver a
#       blackhole (nothing is ever answered, so every lookup stays pending
#       until its deadline of 20 s), BENCH_SCALE_PENDING SYNs from new
#       addresses; its RSS growth / the lookups pending (its stats), beside
#       sizeof(struct gate_lookup).  The bounds that cap
#       them are the configuration's (max_pending, max_flows) and the
#       state table's (1,000,000 records).
#  (s6) Memory per followed session: BENCH_SCALE_SESSIONS sessions held
#       open after their EHLO (each flow still being read), the sniffer's
#       RSS growth over its active_flows, against the sizes of its structs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "bench_scale: no build directory $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_scale: needs root" >&2; exit 2; }

BENCH_SCALE_CACHED=${BENCH_SCALE_CACHED:-1000000}
BENCH_SCALE_PREFIXES=${BENCH_SCALE_PREFIXES:-100000}
BENCH_SCALE_SYN_N=${BENCH_SCALE_SYN_N:-60000}	# at most 65536 (198.18.0.0/16)
BENCH_SCALE_WINDOW=${BENCH_SCALE_WINDOW:-2000}
BENCH_SCALE_RUNS=${BENCH_SCALE_RUNS:-3}
BENCH_SCALE_CYCLES=${BENCH_SCALE_CYCLES:-2}
BENCH_SCALE_ALLOW=${BENCH_SCALE_ALLOW:-100000}
BENCH_SCALE_RECORDS=${BENCH_SCALE_RECORDS:-1000000}
BENCH_SCALE_NEW_N=${BENCH_SCALE_NEW_N:-20000}
BENCH_SCALE_DNSPERF_Q=${BENCH_SCALE_DNSPERF_Q:-200}
BENCH_SCALE_DNSPERF_S=${BENCH_SCALE_DNSPERF_S:-5}
BENCH_SCALE_PENDING=${BENCH_SCALE_PENDING:-10000}
BENCH_SCALE_SESSIONS=${BENCH_SCALE_SESSIONS:-250}	# the world's smtp-sink takes 256 at once
BENCH_NICE=${BENCH_NICE:--15}
# BENCH_SCALE_PARTS="s1 s2 s3 s4 s5 s6" (default all) picks the parts;
# BENCH_SCALE_CONF="gate.dns_concurrency=256 ..." changes the daemons'
# configuration (to compare settings).
BENCH_SCALE_PARTS=${BENCH_SCALE_PARTS:-s1 s2 s3 s4 s5 s6}
bench_part() { case " $BENCH_SCALE_PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

WORLD_PREFIX=${WORLD_PREFIX:-sgz}
WORLD_OWNER=$$
# shellcheck source=../tests/world/world.sh
. "$repo/tests/world/world.sh"
. "$repo/bench/lib.sh"

bench_log() { printf 'bench_scale: %s\n' "$*"; }
bench_div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'; }
yn() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "-" || v == "") print "?"; else if (v + 0 >= t + 0) print "yes"; else print "NO" }'; }
BENCH_ROWS=()
bench_row() { BENCH_ROWS+=("$1|$2|$3|$4"); }
bench_rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
bench_hwm_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
bench_meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# Address arithmetic: BASE + N, printed dotted.
bench_ip4() { awk -v n="$1" 'BEGIN { printf "%d.%d.%d.%d\n", int(n / 16777216) % 256, int(n / 65536) % 256, int(n / 256) % 256, n % 256 }'; }
ip4_198_18=$(( (198 << 24) + (18 << 16) ))
ip4_198_19=$(( (198 << 24) + (19 << 16) ))

for p in smtpgated smtpgate-sniffd smtpgatectl smtpgate-nft bench/bench_syn bench/bench_scale; do
	[ -x "$build/$p" ] || { bench_log "$build/$p not built"; exit 1; }
done
for p in smtp-sink unbound dnsperf /usr/bin/time; do
	command -v "$p" >/dev/null || { bench_log "$p not installed (make deps)"; exit 1; }
done

[ "$BENCH_SCALE_SYN_N" -le 65536 ] || { bench_log "BENCH_SCALE_SYN_N: at most 65536"; exit 2; }
BENCH_T0=$(date +%s)
BENCH_GATED=
bench_cleanup() {
	[ -n "$BENCH_GATED" ] && world_stop "$BENCH_GATED" TERM
	world_down >/dev/null 2>&1
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM
world_up >/dev/null 2>&1 || { bench_log "test world did not come up"; exit 1; }

BENCH_CONF=$WORLD_DIR/scale.conf
mkdir -p "$WORLD_DIR/state" && chown smtpgate: "$WORLD_DIR/state"
world_conf "$BENCH_CONF" gate.no_ptr=log gate.generic_ptr=log \
	gate.static_ptr=log gate.dnsbl=off gate.dnsbl_sites= \
	sniffer.packets=0 \
	nft.pass_size=2097152 nft.deny_size=2097152 nft.offend_size=1048576 \
	nft.allow_file="$WORLD_DIR/allow.list" \
	gate.control_socket="$WORLD_DIR/gated.sock" \
	sniffer.control_socket="$WORLD_DIR/sniffd.sock" \
	sniffer.state_file="$WORLD_DIR/state/sniffd.state" ${BENCH_SCALE_CONF:-} >/dev/null
# The sniffer's own start (s3) needs its rules.
BENCH_CONF_SNIFF=$WORLD_DIR/scale-sniff.conf
sed '/^packets = 0$/d' "$BENCH_CONF" >"$BENCH_CONF_SNIFF"
chmod 644 "$BENCH_CONF_SNIFF"

bench_install() {
	local out
	world_gw "$build/smtpgate-nft" -c "${1:-$BENCH_CONF}" remove >/dev/null 2>&1
	out=$(world_gw "$build/smtpgate-nft" -c "${1:-$BENCH_CONF}" install 2>&1) ||
		{ bench_log "smtpgate-nft install failed: $out"; return 1; }
}

# The world's unbound with so-rcvbuf 4m, as bench/run.sh (b) has it.
bench_unbound_rcvbuf 4m || exit 1

# bench_start_gated CONF: smtpgated started; BENCH_GATED its pid,
# BENCH_START_MS launch to its "started" line.
bench_start_gated() {
	local log=$WORLD_DIR/smtpgated.log t0
	: >"$log"
	t0=$(world_now_ms)
	world_bg smtpgated "$build/smtpgated" -c "$1" -f
	BENCH_GATED=$WORLD_BG_PID
	world_wait_log "$log" ' started ' 60 ||
		{ bench_log "smtpgated did not start: $(tail -3 "$log" | tr '\n' ' ')"; return 1; }
	BENCH_START_MS=$(( $(world_now_ms) - t0 ))
	renice -n "$BENCH_NICE" -p "$BENCH_GATED" >/dev/null 2>&1
	return 0
}
bench_stop_gated() {
	[ -n "$BENCH_GATED" ] && world_stop "$BENCH_GATED" TERM
	BENCH_GATED=
}
# bench_stats: smtpgated's stats line (SIGUSR1).
bench_stats() {
	local log=$WORLD_DIR/smtpgated.log before i
	before=$(grep -c ' stats ' "$log")
	kill -USR1 "$BENCH_GATED" 2>/dev/null || return 1
	for i in $(seq 100); do
		if [ "$(grep -c ' stats ' "$log")" -gt "$before" ]; then
			grep ' stats ' "$log" | tail -1 | sed 's/.*: stats /stats /'
			return 0
		fi
		sleep 0.05
	done
	return 1
}
bench_syn() {
	world_cl nice -n "$BENCH_NICE" "$build/bench/bench_syn" -d "$WORLD_GW4" "$@" 2>&1 | grep '^bench_syn:'
}
# SYNs queued to smtpgated so far.  (Not the pass4 rule's counter: nft
# lists a chain only after reading every set's elements, which takes
# tens of seconds and hundreds of MB with a million of them.)
bench_queued() { bench_field "$(bench_stats)" queued; }

echo
bench_log "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg) (shared with others' builds and tests); world $WORLD_PREFIX"

# ---- (s1) repeat SYNs, warm pass cache, full sets against empty ----
if bench_part s1; then
bench_install || exit 1
printf '' >"$WORLD_DIR/allow.list"; chmod 644 "$WORLD_DIR/allow.list"
bench_start_gated "$BENCH_CONF" || exit 1
allow_before=$(world_set_list allow4 | tr '\n' ' ')
awk -v t="$WORLD_TABLE" -v b="$ip4_198_18" -v n="$BENCH_SCALE_SYN_N" 'BEGIN {
	printf "add element inet %s pass4 {", t
	for (i = 0; i < n; i++) { a = b + i
		printf "%s %d.%d.%d.%d timeout 1h", (i ? "," : ""), int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256, a % 256 }
	print " }" }' >"$WORLD_DIR/testaddrs.nft"
# The filler: half the cached addresses in pass4 from 20.0.0.0, half in
# deny4 from 40.0.0.0; BENCH_SCALE_PREFIXES /24s in allow4 from 11.0.0.0,
# every other /24 (no two adjacent).  One transaction.
awk -v t="$WORLD_TABLE" -v n="$BENCH_SCALE_CACHED" -v p="$BENCH_SCALE_PREFIXES" 'BEGIN {
	chunk = 50000
	for (s = 0; s < 2; s++) {
		base = (s == 0 ? 20 : 40) * 16777216; set = (s == 0 ? "pass4" : "deny4")
		m = (s == 0 ? int(n / 2) : n - int(n / 2))
		for (i = 0; i < m; i++) {
			if (i % chunk == 0) printf "%sadd element inet %s %s {", (i ? " }\n" : ""), t, set
			a = base + i
			printf "%s %d.%d.%d.%d timeout 1h", (i % chunk ? "," : ""), int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256, a % 256 }
		if (m) print " }"
	}
	for (i = 0; i < p; i++) {
		if (i % chunk == 0) printf "%sadd element inet %s allow4 {", (i ? " }\n" : ""), t
		a = 11 * 16777216 + i * 512
		printf "%s %d.%d.%d.0/24", (i % chunk ? "," : ""), int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256 }
	if (p) print " }"
}' >"$WORLD_DIR/filler.nft"
out=$(world_gw nft -f "$WORLD_DIR/testaddrs.nft" 2>&1) || { bench_log "nft -f of the test addresses: $out"; exit 1; }

s1_sport=30000
# bench_s1_run: one timed run of the repeat SYNs; prints its rate.
bench_s1_run() {
	local out c0 c1
	c0=$(bench_queued)
	out=$(bench_syn -b 198.18.0.0 -n "$BENCH_SCALE_SYN_N" -W "$BENCH_SCALE_WINDOW" -w 2000 -s "$2")
	c1=$(bench_queued)
	# Every SYN answered and none queued: all passed in the kernel (pass4).
	bench_log "(s1) $1: $out queued_to_daemon=$(( ${c1:-0} - ${c0:-0} ))" >&2
	[ $(( ${c1:-0} - ${c0:-0} )) = 0 ] && [ "$(bench_field "$out" synack)" = "$BENCH_SCALE_SYN_N" ] ||
		echo "$1" >>"$WORLD_DIR/s1.missed"	# (a subshell: a file)
	bench_field "$out" rate
}
s1_base=() s1_full=()
: >"$WORLD_DIR/s1.missed"
# BENCH_SCALE_CYCLES cycles of: baselines, fill, twice as many runs with
# the full sets, empty again, baselines.  A new source port for each run.
fill_all=() port=$s1_sport
for c in $(seq "$BENCH_SCALE_CYCLES"); do
	cb=() cf=()
	for r in $(seq "$BENCH_SCALE_RUNS"); do port=$((port + 1)); cb+=("$(bench_s1_run "cycle $c baseline $r" "$port")"); done
	ma0=$(bench_meminfo_kb MemAvailable) sl0=$(bench_meminfo_kb Slab)
	t0=$(world_now_ms)
	out=$(world_gw nft -f "$WORLD_DIR/filler.nft" 2>&1) || { bench_log "nft -f of the filler: $(printf '%s' "$out" | head -c 300)"; exit 1; }
	fill_ms=$(( $(world_now_ms) - t0 ))
	sleep 1
	ma1=$(bench_meminfo_kb MemAvailable) sl1=$(bench_meminfo_kb Slab)
	fill_mem="$(( (ma0 - ma1) / 1024 )) MiB MemAvailable, $(( (sl1 - sl0) / 1024 )) MiB Slab"
	fill_all+=("$fill_ms ms ($fill_mem)")
	bench_log "(s1) cycle $c: filled $BENCH_SCALE_CACHED addresses and $BENCH_SCALE_PREFIXES prefixes in $fill_ms ms (one nft -f, $(stat -c %s "$WORLD_DIR/filler.nft") bytes); kernel memory: $fill_mem"
	for r in $(seq $((2 * BENCH_SCALE_RUNS))); do port=$((port + 1)); cf+=("$(bench_s1_run "cycle $c full sets $r" "$port")"); done
	t0=$(world_now_ms)
	for s in pass4 deny4 allow4; do world_gw nft flush set inet "$WORLD_TABLE" "$s"; done
	flush_ms=$(( $(world_now_ms) - t0 ))
	world_gw nft -f "$WORLD_DIR/testaddrs.nft" || exit 1
	for p in $allow_before; do world_gw nft add element inet "$WORLD_TABLE" allow4 "{ $p }"; done
	bench_log "(s1) cycle $c: emptied again in $flush_ms ms (nft flush set)"
	for r in $(seq "$BENCH_SCALE_RUNS"); do port=$((port + 1)); cb+=("$(bench_s1_run "cycle $c baseline again $r" "$port")"); done
	bench_log "(s1) cycle $c: median full $(printf '%s\n' "${cf[@]}" | bench_median) / baseline $(printf '%s\n' "${cb[@]}" | bench_median) = $(bench_div "$(printf '%s\n' "${cf[@]}" | bench_median)" "$(printf '%s\n' "${cb[@]}" | bench_median)")"
	s1_base+=("${cb[@]}") s1_full+=("${cf[@]}")
done
s1_missed=$(wc -l <"$WORLD_DIR/s1.missed")
s1_b=$(printf '%s\n' "${s1_base[@]}" | bench_median)
s1_f=$(printf '%s\n' "${s1_full[@]}" | bench_median)
s1_ratio=$(bench_div "$s1_f" "$s1_b")
bench_row "(s1) repeat SYNs/s, $BENCH_SCALE_CACHED cached + $BENCH_SCALE_PREFIXES allow prefixes / empty sets" \
	"$s1_ratio ($s1_f / $s1_b)" ">= 0.95" "$( [ "$s1_missed" = 0 ] && yn "$s1_ratio" 0.95 || echo "NO ($s1_missed runs missed pass4)")"
bench_row "     the fill: one nft -f (each cycle)" "$(printf '%s; ' "${fill_all[@]}")" "-" "-"
bench_stop_gated
fi

# ---- (s2) the allow list ----
if bench_part s2; then
bench_install || exit 1
bench_allow_file() {	# N FILE [FIRST_OCTET]: N /24s from FIRST_OCTET.0.0.0 (11), every other
	awk -v n="$1" -v o="${3:-11}" 'BEGIN { for (i = 0; i < n; i++) { a = o * 16777216 + i * 512
		printf "%d.%d.%d.0/24\n", int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256 } }' >"$2"
}
# bench_ctl_timed OUT ARGS...: smtpgatectl under GNU time; sets IMP_RC,
# IMP_S, IMP_KB (its peak RSS), IMP_OUT.
bench_ctl_timed() {
	local tf=$WORLD_DIR/time.out
	world_gw /usr/bin/time -f '%e %M' -o "$tf" "$build/smtpgatectl" -c "$BENCH_CONF" "$@" >"$WORLD_DIR/import.out" 2>&1
	IMP_RC=$?
	IMP_OUT=$(tr '\n' ' ' <"$WORLD_DIR/import.out")
	IMP_S=$(awk 'END { print $1 }' "$tf") IMP_KB=$(awk 'END { print $2 }' "$tf")
}
# bench_import FILE: empties the list, imports FILE.
bench_import() {
	printf '' >"$WORLD_DIR/allow.list"
	bench_ctl_timed allow import "$1"
}
bench_allow4_n() { world_set_list allow4 | wc -l; }
bench_allow_file 1 "$WORLD_DIR/allow-1.txt"
bench_allow_file "$BENCH_SCALE_ALLOW" "$WORLD_DIR/allow-n.txt"
# The replacement: as many other prefixes, from 12.0.0.0 (none shared).
bench_allow_file "$BENCH_SCALE_ALLOW" "$WORLD_DIR/allow-m.txt" 12
allow_n=$BENCH_SCALE_ALLOW
bench_import "$WORLD_DIR/allow-n.txt"
if [ "$IMP_RC" != 0 ]; then
	bench_log "(s2) import of $allow_n prefixes failed (exit $IMP_RC): $IMP_OUT"
	bench_row "(s2) allow import of $allow_n prefixes" "refused (exit $IMP_RC): $(printf '%s' "$IMP_OUT" | sed 's/^smtpgatectl: allow import: //' | cut -c1-50)" "-" "NO"
fi
imp1=() impn=() impkb1=() impkbn=()
for r in 1 2 3; do
	bench_import "$WORLD_DIR/allow-1.txt"; imp1+=("$IMP_S"); impkb1+=("$IMP_KB")
	bench_import "$WORLD_DIR/allow-n.txt"; impn+=("$IMP_S"); impkbn+=("$IMP_KB")
	bench_log "(s2) import run $r (no smtpgated: smtpgatectl writes allow4): 1 prefix ${imp1[-1]} s ${impkb1[-1]} KiB; $allow_n prefixes ${impn[-1]} s ${impkbn[-1]} KiB: $IMP_OUT"
done
s2_n4=$(bench_allow4_n)
bench_log "(s2) allow4 after the import: $s2_n4 elements"
i1=$(printf '%s\n' "${imp1[@]}" | bench_median) in_=$(printf '%s\n' "${impn[@]}" | bench_median)
k1=$(printf '%s\n' "${impkb1[@]}" | bench_median) kn=$(printf '%s\n' "${impkbn[@]}" | bench_median)
bench_row "(s2) allow import of $allow_n prefixes / of 1: time (s)" "$(bench_div "$in_" "$i1") ($in_ / $i1; allow4 $s2_n4)" "-" "$([ "$IMP_RC" = 0 ] && echo - || echo NO)"
bench_row "     peak RSS of smtpgatectl (KiB)" "$(bench_div "$kn" "$k1") ($kn / $k1)" "-" "-"
# Replace in the kernel without smtpgated: the file now holds the other
# list, `allow apply` swaps allow4 in one transaction.
rpl=() rplkb=()
for r in 1 2; do
	cp "$WORLD_DIR/allow-$([ $r = 1 ] && echo m || echo n).txt" "$WORLD_DIR/allow.list"
	bench_ctl_timed allow apply; rpl+=("$IMP_S"); rplkb+=("$IMP_KB")
	bench_log "(s2) allow apply, replacing $allow_n prefixes by $allow_n others (no smtpgated): exit $IMP_RC, $IMP_S s, $IMP_KB KiB: $IMP_OUT"
done
bench_row "     replace $allow_n by $allow_n others (allow apply): time (s), peak RSS (KiB)" "$(printf '%s\n' "${rpl[@]}" | bench_median) s, $(printf '%s\n' "${rplkb[@]}" | bench_median) KiB" "-" "$([ "$IMP_RC" = 0 ] && echo - || echo NO)"
# The same while smtpgated runs (it applies the list: allow-reload),
# and its own peak memory for it.
printf '' >"$WORLD_DIR/allow.list"
bench_start_gated "$BENCH_CONF" || exit 1
hwm0=$(bench_hwm_kb "$BENCH_GATED") rss0=$(bench_rss_kb "$BENCH_GATED")
bench_import "$WORLD_DIR/allow-n.txt"
s2_imp="exit $IMP_RC, $IMP_S s"
hwm1=$(bench_hwm_kb "$BENCH_GATED")
bench_log "(s2) import of $allow_n prefixes with smtpgated running: $s2_imp, $IMP_KB KiB: $IMP_OUT; smtpgated VmHWM $hwm0 -> $hwm1 KiB (RSS before $rss0)"
cp "$WORLD_DIR/allow-m.txt" "$WORLD_DIR/allow.list"
bench_ctl_timed allow apply
s2_rep="exit $IMP_RC, $IMP_S s"
hwm2=$(bench_hwm_kb "$BENCH_GATED") rss2=$(bench_rss_kb "$BENCH_GATED")
s2_n4=$(bench_allow4_n)
bench_log "(s2) replace by $allow_n others with smtpgated running (allow apply -> allow-reload): $s2_rep: $IMP_OUT; smtpgated VmHWM $hwm2 KiB, RSS after $rss2 KiB; allow4 $s2_n4 elements"
bench_row "     the same while smtpgated runs (it applies): import, replace" "$s2_imp; $s2_rep; allow4 $s2_n4" "exit 0" "$([ "$IMP_RC" = 0 ] && echo yes || echo NO)"
bench_row "     smtpgated's peak RSS for them (KiB)" "$(bench_div "$hwm2" "$hwm0") ($hwm2 / $hwm0; RSS after $rss2)" "-" "-"
# smtpgated's start with each list (it applies the list to allow4 before
# binding its queue).
bench_stop_gated
st1=() stn=() rs1=() rsn=() hw1=() hwn=()
for r in 1 2; do
	for which in 1 n; do
		cp "$WORLD_DIR/allow-$which.txt" "$WORLD_DIR/allow.list"
		ma0=$(bench_meminfo_kb MemAvailable)
		bench_start_gated "$BENCH_CONF" || exit 1
		sleep 0.3
		rss=$(bench_rss_kb "$BENCH_GATED") hwm=$(bench_hwm_kb "$BENCH_GATED")
		ma1=$(bench_meminfo_kb MemAvailable)
		bench_log "(s2) smtpgated start with the $([ $which = 1 ] && echo 1 || echo $allow_n)-prefix list: $BENCH_START_MS ms, RSS $rss KiB, VmHWM $hwm KiB, MemAvailable -$(( (ma0 - ma1) / 1024 )) MiB"
		if [ $which = 1 ]; then st1+=("$BENCH_START_MS"); rs1+=("$rss"); hw1+=("$hwm"); else stn+=("$BENCH_START_MS"); rsn+=("$rss"); hwn+=("$hwm"); fi
		bench_stop_gated
	done
done
a1=$(printf '%s\n' "${st1[@]}" | bench_median) an=$(printf '%s\n' "${stn[@]}" | bench_median)
r1=$(printf '%s\n' "${rs1[@]}" | bench_median) rn=$(printf '%s\n' "${rsn[@]}" | bench_median)
h1=$(printf '%s\n' "${hw1[@]}" | bench_median) hn=$(printf '%s\n' "${hwn[@]}" | bench_median)
bench_row "(s2) smtpgated start with $allow_n prefixes / with 1: time (ms)" "$(bench_div "$an" "$a1") ($an / $a1)" "-" "-"
bench_row "     its RSS (KiB), after the start" "$(bench_div "$rn" "$r1") ($rn / $r1)" "-" "-"
bench_row "     its peak RSS (KiB)" "$(bench_div "$hn" "$h1") ($hn / $h1)" "-" "-"
printf '' >"$WORLD_DIR/allow.list"
fi

# ---- (s3) the sniffer's start with a full state file ----
f_kb=0 e_kb=0
if bench_part s3; then
bench_install "$BENCH_CONF_SNIFF" || exit 1
out=$("$build/bench/bench_scale" state "$BENCH_SCALE_RECORDS" "$WORLD_DIR/state-full") || exit 1
bench_log "(s3) $out"
# bench_sniffd_start STATEFILE: sets SN_MS (to "started"), SN_LOAD_MS
# (to "state: N records"), SN_RSS.
bench_sniffd_start() {
	local log=$WORLD_DIR/sniffd.log t0 pid i
	rm -f "$WORLD_DIR/state/sniffd.state"
	[ -n "$1" ] && cp "$1" "$WORLD_DIR/state/sniffd.state" && chown smtpgate: "$WORLD_DIR/state/sniffd.state"
	: >"$log"
	t0=$(world_now_ms)
	world_bg sniffd "$build/smtpgate-sniffd" -c "$BENCH_CONF_SNIFF" -f
	pid=$WORLD_BG_PID
	world_wait_log "$log" ' started ' 120 ||
		{ bench_log "smtpgate-sniffd did not start: $(tail -3 "$log" | tr '\n' ' ')"; world_stop "$pid" TERM; return 1; }
	SN_MS=$(( $(world_now_ms) - t0 ))
	SN_LOAD=$(grep -o 'state: [0-9]* records' "$log" | head -1)
	sleep 0.5
	SN_RSS=$(bench_rss_kb "$pid")
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" 2>/dev/null
}
sn_e=() sn_f=() snr_e=() snr_f=()
for which in e f f e; do
	if [ $which = e ]; then bench_sniffd_start "" || exit 1; sn_e+=("$SN_MS"); snr_e+=("$SN_RSS")
	else bench_sniffd_start "$WORLD_DIR/state-full" || exit 1; sn_f+=("$SN_MS"); snr_f+=("$SN_RSS"); fi
	bench_log "(s3) smtpgate-sniffd start, $([ $which = e ] && echo 'empty state' || echo "$BENCH_SCALE_RECORDS records"): $SN_MS ms (${SN_LOAD:-no state line}), RSS $SN_RSS KiB"
done
e_ms=$(printf '%s\n' "${sn_e[@]}" | bench_median) f_ms=$(printf '%s\n' "${sn_f[@]}" | bench_median)
e_kb=$(printf '%s\n' "${snr_e[@]}" | bench_median) f_kb=$(printf '%s\n' "${snr_f[@]}" | bench_median)
bench_row "(s3) sniffd start, $BENCH_SCALE_RECORDS records / empty state: time (ms)" "$(bench_div "$f_ms" "$e_ms") ($f_ms / $e_ms)" "-" "-"
bench_row "     its RSS (KiB)" "$(bench_div "$f_kb" "$e_kb") ($f_kb / $e_kb)" "-" "-"
world_gw nft flush set inet "$WORLD_TABLE" offend4 2>/dev/null
world_gw nft flush set inet "$WORLD_TABLE" offend6 2>/dev/null
fi

# ---- (s4) new addresses verdicted per second against the resolver ----
s4_next=$ip4_198_19
if bench_part s4; then
bench_install || exit 1
bench_start_gated "$BENCH_CONF" || exit 1
# The gate's mix per new address here: one PTR query (NXDOMAIN).
s4_qpa=1
awk -v b="$ip4_198_19" -v n=65536 'BEGIN { for (i = 0; i < n; i++) { a = b + i
	printf "%d.%d.%d.%d.in-addr.arpa PTR\n", a % 256, int(a / 256) % 256, int(a / 65536) % 256, int(a / 16777216) % 256 } }' >"$WORLD_DIR/dnsperf.in"
bench_dnsperf() {	# [OUTSTANDING]
	local out
	local ub u0 u1 m0 m1 q
	ub=$(bench_unbound_pid)
	u0=$(bench_cpu_ticks "$ub") m0=$(bench_busy_ticks)
	out=$(world_gw nice -n "$BENCH_NICE" dnsperf -s 127.0.0.1 -d "$WORLD_DIR/dnsperf.in" -T 1 -c 1 \
		-q "${1:-$BENCH_SCALE_DNSPERF_Q}" -l "$BENCH_SCALE_DNSPERF_S" 2>&1)
	u1=$(bench_cpu_ticks "$ub") m1=$(bench_busy_ticks)
	q=$(printf '%s\n' "$out" | awk '/Queries completed:/ { print $3 }')
	bench_log "(s4) dnsperf -q ${1:-$BENCH_SCALE_DNSPERF_Q}: $(printf '%s\n' "$out" | grep -E 'Queries (sent|completed|lost)|Response codes|Queries per second' | tr -s ' ' | tr '\n' ';') CPU per query: unbound $(( (u1 - u0) * 1000000 / BENCH_HZ / (${q:-0} > 0 ? ${q:-1} : 1) )) us, the machine $(( (m1 - m0) * 1000000 / BENCH_HZ / (${q:-0} > 0 ? ${q:-1} : 1) )) us" >&2
	[ "${q:-0}" -gt 0 ] && echo "dns $(( (u1 - u0) * 1000000 / BENCH_HZ / q )) $(( (m1 - m0) * 1000000 / BENCH_HZ / q ))" >>"$WORLD_DIR/s4.cpu"
	printf '%s\n' "$out" | awk '/Queries per second:/ { print int($4) }'
}
# CPU time of a process (utime + stime, clock ticks), and of the machine
# (every CPU's busy ticks, /proc/stat): where the cores went in a run.
bench_cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
bench_busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
bench_unbound_pid() {
	local pid
	for pid in $(ip netns pids "$WORLD_GW_NS" 2>/dev/null); do
		case $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
		"unbound -d -c $WORLD_DIR/unbound.conf "*) echo "$pid"; return ;;
		esac
	done
}
BENCH_HZ=$(getconf CLK_TCK)
bench_gate_new() {
	local out s0 s1 g0 g1 u0 u1 m0 m1 t0 t1 ub n ms
	ub=$(bench_unbound_pid)
	s0=$(bench_stats)
	g0=$(bench_cpu_ticks "$BENCH_GATED") u0=$(bench_cpu_ticks "$ub") m0=$(bench_busy_ticks) t0=$(world_now_ms)
	out=$(bench_syn -b "$(bench_ip4 "$1")" -n "$BENCH_SCALE_NEW_N" -W 2000 -w 4000)
	g1=$(bench_cpu_ticks "$BENCH_GATED") u1=$(bench_cpu_ticks "$ub") m1=$(bench_busy_ticks) t1=$(world_now_ms)
	sleep 0.2
	s1=$(bench_stats)
	n=$BENCH_SCALE_NEW_N ms=$((t1 - t0))
	bench_log "(s4) gate: $out daemon_verdicts=$(( $(bench_field "$s1" verdicts) - $(bench_field "$s0" verdicts) )); CPU per address: smtpgated $(( (g1 - g0) * 1000000 / BENCH_HZ / n )) us, unbound $(( (u1 - u0) * 1000000 / BENCH_HZ / n )) us, the machine $(( (m1 - m0) * 1000000 / BENCH_HZ / n )) us (busy $(( (m1 - m0) * 100000 / BENCH_HZ / (ms ? ms : 1) / $(nproc) ))% of $(nproc) cores over $ms ms); stats: $(printf '%s' "$s1" | tr ' ' '\n' | grep -E '^(rate_limited|overflow|deadline|dns_waited|dns_errors|dns_queries|dns_timeouts|dns_retries|nft_batches|journal_written|journal_lost|enobufs|unjudged)=' | tr '\n' ' ')" >&2
	echo "gate $(( (g1 - g0) * 1000000 / BENCH_HZ / n )) $(( (u1 - u0) * 1000000 / BENCH_HZ / n )) $(( (m1 - m0) * 1000000 / BENCH_HZ / n )) $(bench_field "$out" rate)" >>"$WORLD_DIR/s4.cpu"
	bench_field "$out" rate
}
s4_dns=() s4_gate=()
: >"$WORLD_DIR/s4.cpu"
for r in $(seq "$BENCH_SCALE_RUNS"); do
	# A fresh block of never-seen addresses for each gate run (not
	# advanced inside $(...), which is a subshell).
	if [ $((r % 2)) = 1 ]; then s4_dns+=("$(bench_dnsperf)"); s4_gate+=("$(bench_gate_new "$s4_next")")
	else s4_gate+=("$(bench_gate_new "$s4_next")"); s4_dns+=("$(bench_dnsperf)"); fi
	s4_next=$(( s4_next + (BENCH_SCALE_NEW_N + 255) / 256 * 256 ))
done
dq=$(printf '%s\n' "${s4_dns[@]}" | bench_median) gr=$(printf '%s\n' "${s4_gate[@]}" | bench_median)
allows=$(awk -v q="$dq" -v k="$s4_qpa" 'BEGIN { printf "%.0f\n", q / k }')
s4_ratio=$(bench_div "$gr" "$allows")
bench_row "(s4) new addresses verdicted/s / resolver's addresses/s (dnsperf qps / $s4_qpa)" "$s4_ratio ($gr / $allows)" ">= 0.8" "$(yn "$s4_ratio" 0.8)"
# Beside it: the resolver with no more queries outstanding than the gate
# keeps (its dns_concurrency addresses, one query each here).
conc=$(sed -n 's/^dns_concurrency = //p' "$BENCH_CONF" | head -1)  # else the default
conc=${conc:-64}
dq64=$(bench_dnsperf "$conc")
bench_row "     the same against dnsperf -q $conc (the gate's dns_concurrency)" "$(bench_div "$gr" "$dq64") ($gr / $dq64)" "-" "-"
# Where the cores went (medians): the gate's pipeline per new address
# against the resolver's work per query.  Both runs keep the machine
# busy, so the ratio above is about the ratio of these costs; unbound's
# share of a core during the gate's runs says whether it was the limit.
cpu_med() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$WORLD_DIR/s4.cpu" | bench_median; }
bench_row "     CPU per new address, gate runs (us): smtpgated (loop + journal), unbound, machine" "$(cpu_med gate 2), $(cpu_med gate 3), $(cpu_med gate 4)" "-" "-"
bench_row "     CPU per query, dnsperf runs (us): unbound, machine" "$(cpu_med dns 2), $(cpu_med dns 3)" "-" "-"
# The ceiling of this world: the same SYN stream (as many addresses, the
# same window) with its addresses already in pass4, answered by the
# kernel alone (nothing queued).  No gate could go faster here: its
# share of the resolver's rate bounds the ratio above on this machine.
awk -v t="$WORLD_TABLE" -v b="$ip4_198_18" -v n="$BENCH_SCALE_NEW_N" 'BEGIN {
	printf "add element inet %s pass4 {", t
	for (i = 0; i < n; i++) { a = b + i
		printf "%s %d.%d.%d.%d timeout 1h", (i ? "," : ""), int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256, a % 256 }
	print " }" }' >"$WORLD_DIR/s4pass.nft"
out=$(world_gw nft -f "$WORLD_DIR/s4pass.nft" 2>&1) || { bench_log "nft -f of the ceiling's addresses: $out"; exit 1; }
s4_ceil=()
for r in $(seq "$BENCH_SCALE_RUNS"); do
	c0=$(bench_queued) m0=$(bench_busy_ticks)
	out=$(bench_syn -b 198.18.0.0 -n "$BENCH_SCALE_NEW_N" -W 2000 -w 4000 -s $((31000 + r)))
	m1=$(bench_busy_ticks) c1=$(bench_queued)
	bench_log "(s4) ceiling, kernel alone: $out queued_to_daemon=$(( ${c1:-0} - ${c0:-0} )); CPU per SYN, the machine $(( (m1 - m0) * 1000000 / BENCH_HZ / BENCH_SCALE_NEW_N )) us"
	s4_ceil+=("$(bench_field "$out" rate)")
done
cr=$(printf '%s\n' "${s4_ceil[@]}" | bench_median)
bench_row "     ceiling: the same SYNs answered by the kernel alone (in pass4) / resolver's addresses/s" "$(bench_div "$cr" "$allows") ($cr / $allows)" "-" "-"
bench_row "     the gate's rate / that ceiling" "$(bench_div "$gr" "$cr") ($gr / $cr)" "-" "-"
bench_row "     share of one core in the gate runs: smtpgated, unbound" "$(awk '$1 == "gate" { printf "%.2f\n", $2 * $5 / 1000000 }' "$WORLD_DIR/s4.cpu" | bench_median), $(awk '$1 == "gate" { printf "%.2f\n", $3 * $5 / 1000000 }' "$WORLD_DIR/s4.cpu" | bench_median)" "-" "-"
bench_stop_gated
fi

# ---- (s5) memory per pending lookup ----
if bench_part s5; then
bench_install || exit 1
world_dns_proxy blackhole 127.0.0.9:53 --blackhole >/dev/null 2>&1
PEND_CONF=$WORLD_DIR/scale-pending.conf
cp "$BENCH_CONF" "$PEND_CONF"
world_conf "$PEND_CONF" dns.resolvers=127.0.0.9:53 dns.timeout_ms=20000 dns.tries=1 \
	gate.deadline_ms=20000 gate.no_ptr=log gate.dnsbl=off gate.dnsbl_sites= \
	sniffer.packets=0 nft.pass_size=2097152 nft.deny_size=2097152 \
	nft.allow_file="$WORLD_DIR/allow.list" gate.control_socket="$WORLD_DIR/gated.sock" \
	sniffer.control_socket="$WORLD_DIR/sniffd.sock" gate.max_pending=1000000 >/dev/null
bench_start_gated "$PEND_CONF" || exit 1
sleep 0.5
rss0=$(bench_rss_kb "$BENCH_GATED")
out=$(bench_syn -b "$(bench_ip4 "$s4_next")" -n "$BENCH_SCALE_PENDING" -r 20000 \
	-W "$BENCH_SCALE_PENDING" -w 1000)
sleep 1
st=$(bench_stats)
rss1=$(bench_rss_kb "$BENCH_GATED")
pend=$(bench_field "$st" pending)
[ -n "$pend" ] || pend=$(bench_field "$st" lookups)
bench_log "(s5) $out"
bench_log "(s5) smtpgated RSS $rss0 -> $rss1 KiB with pending=${pend:-?}; stats: $st"
[ "${pend:-0}" != 0 ] || bench_log "(s5) nothing pending; the kernel's queues: $(world_gw cat /proc/net/netfilter/nfnetlink_queue | tr '\n' ';')"
sizes=$("$build/bench/bench_scale" sizes)
bench_log "(s5) $sizes"
per=$(awk -v a="$rss0" -v b="$rss1" -v n="${pend:-0}" 'BEGIN { if (n + 0 == 0) print "-"; else printf "%.0f\n", (b - a) * 1024 / n }')
lk=$(bench_field "$sizes" lookup)
bench_row "(s5) smtpgated RSS growth per pending lookup (bytes) / sizeof(gate_lookup)" "$(bench_div "$per" "$lk") ($per / $lk, ${pend:-?} pending)" "-" "-"
bench_row "     per followed session, sniffd structs (bytes)" "flow $(bench_field "$sizes" flow) + session $(bench_field "$sizes" session) + cmd $(bench_field "$sizes" cmd)" "-" "-"
bench_row "     per offender record (bytes, struct)" "$(bench_field "$sizes" record); start RSS $(( (f_kb - e_kb) * 1024 / BENCH_SCALE_RECORDS )) per record" "-" "-"
bench_stop_gated
fi

# ---- (s6) memory per followed session of the sniffer ----
# BENCH_SCALE_SESSIONS sessions from 198.19.251.1 (PTR, HELO and SPF all
# pass: no rule fires), each greeted with EHLO and then held open without
# MAIL FROM, so every flow is still being read (its reassembly buffer
# allocated): the worst case per session.  No smtpgated: the gate's queue
# is bypassed.  The sniffer's RSS before and with them held, over its
# active_flows.
if bench_part s6; then
bench_install "$BENCH_CONF_SNIFF" || exit 1
rm -f "$WORLD_DIR/state/sniffd.state"
: >"$WORLD_DIR/sniffd.log"
world_bg sniffd "$build/smtpgate-sniffd" -c "$BENCH_CONF_SNIFF" -f
sn_pid=$WORLD_BG_PID
world_wait_log "$WORLD_DIR/sniffd.log" ' started ' 30 || { bench_log "smtpgate-sniffd did not start"; exit 1; }
sleep 0.5
sniff_stats() {
	world_gw python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"stats\n"); out = b""
while True:
    b = s.recv(65536)
    if not b: break
    out += b
print(out.decode().splitlines()[-1])' "$WORLD_DIR/sniffd.sock"
}
rss0=$(bench_rss_kb "$sn_pid")
: >"$WORLD_DIR/hold.out"
world_bg_cl hold python3 -c '
import resource, socket, sys, time
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
n, dst = int(sys.argv[1]), sys.argv[2]
socks, ok = [], 0
for i in range(n):
    s = socket.socket(); s.bind(("198.19.251.1", 0)); s.settimeout(10)
    try:
        s.connect((dst, 25)); s.recv(512); s.sendall(b"EHLO bench.clean.test\r\n")
        socks.append(s)
    except OSError as e:
        print("fail", i, e, flush=True); break
for s in socks:
    try:
        s.recv(4096); ok += 1
    except OSError:
        pass
print("ready", ok, flush=True)
time.sleep(float(sys.argv[3]))
' "$BENCH_SCALE_SESSIONS" "$WORLD_GW4" 20
hold_pid=$WORLD_BG_PID
world_wait_log "$WORLD_DIR/hold.log" '^(ready|fail|Traceback)' 120
sleep 1
st=$(sniff_stats)
rss1=$(bench_rss_kb "$sn_pid")
held=$(sed -n 's/^ready //p' "$WORLD_DIR/hold.log")
af=$(bench_field "$st" active_flows)
bench_log "(s6) $(head -2 "$WORLD_DIR/hold.log" | tr '\n' ' '); sniffd RSS $rss0 -> $rss1 KiB; stats: $(printf '%s' "$st" | cut -c1-300)"
kill "$hold_pid" 2>/dev/null; wait "$hold_pid" 2>/dev/null
world_stop "$sn_pid" TERM
per=$(awk -v a="$rss0" -v b="$rss1" -v n="${af:-0}" 'BEGIN { if (n + 0 == 0) print "-"; else printf "%.0f\n", (b - a) * 1024 / n }')
sizes=$("$build/bench/bench_scale" sizes)
sum=$(( $(bench_field "$sizes" flow) + $(bench_field "$sizes" session) + $(bench_field "$sizes" cmd) ))
bench_row "(s6) sniffd RSS growth per followed session (bytes) / its structs" "$(bench_div "$per" "$sum") ($per / $sum, ${af:-?} flows of ${held:-?} sessions)" "-" "-"
fi

echo
echo "=== smtpgate at scale ($(nproc) cores shared, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), $(( $(date +%s) - BENCH_T0 )) s) ==="
{ echo "benchmark|measured|target|met"; printf '%s\n' "${BENCH_ROWS[@]}"; } | column -t -s '|'
exit 0
