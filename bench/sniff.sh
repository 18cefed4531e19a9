#!/bin/bash
# bench/sniff.sh BUILD_DIR - what smtpgate-sniffd costs mail.  Prints
# figures, each next to its target and whether it was met; never fails on a
# target (exit 1 only when the benchmark itself could not run).  Needs root.
# Standalone, in a test world of its own (WORLD_PREFIX=sgs unless set);
# bench/run.sh (make bench) calls it.
#
#  (a) SMTP sessions per second with the sniffer running, divided by the
#      same without it, against two MTAs on the gateway's port 25:
#        smtp-sink  the worst case: its sessions cost almost nothing, so
#                   the sniffer's own CPU (two held packets a session)
#                   shows in full on this small machine;
#        Postfix    a real MTA (master, smtpd, cleanup, qmgr, discard;
#                   bench/postfix.sh), started in place of the
#                   world's smtp-sink: what a mail gateway would see.
#      BENCH_MTA=sink|postfix|both (default both) picks them.  Postfix's
#      smtp-source in the client namespace, one session per message (EHLO
#      bench.clean.test, MAIL FROM sender@example.test), from
#      198.19.251.1, whose PTR, HELO A record and SPF all pass, so the
#      sniffer does its whole work for every session (command reassembly,
#      five DNS queries, an SPF check in its workers, the MAIL FROM lookup)
#      and no rule fires.  The ruleset is installed in both runs; without
#      the sniffer its queue rule passes packets (bypass).  Runs alternate
#      in pairs whose order alternates (AB BA ...); BENCH_PAIRS pairs of
#      BENCH_SMTP_N sessions against smtp-sink, BENCH_PF_PAIRS pairs of
#      BENCH_PF_SMTP_N against Postfix; medians compared, and the median
#      of the per-pair ratios with its quartiles shows the noise.  The
#      sniffer runs at nice BENCH_NICE (default -15).  Target >= 0.95.
#  (b) The time a queued packet waits for its verdict: the sniffer measures
#      from receiving each packet to sending its verdict (its stats
#      verdict_p99_us, 1 us buckets); the median and the worst of the
#      per-run p99 values, for each MTA.  Target < 100 us.
#  (c) What the protocol tests (pregreet, pipelining, non_smtp, bare_lf)
#      add per session, two ways: bench_proto (build/bench), the
#      sniffer's reading calls for a Postfix-like session with and
#      without the tests, ns per session (target < 1000 ns); and the
#      sniffer's own CPU time (its main process, /proc/PID/schedstat) per
#      smtp-source session against smtp-sink with the four rules on (log)
#      and off, BENCH_PROTO_PAIRS pairs of BENCH_SMTP_N sessions, order
#      alternating, the median of the per-pair differences (the whole
#      daemon: its noise is some microseconds; target < 1 us).
#  (d) The banner's latency for a client in the pass cache (198.19.251.1
#      in pass4): connect() returning to the banner's first byte, median
#      of BENCH_BANNER_N sessions, the sniffer running in A and B, in
#      BENCH_BANNER_ROUNDS rounds (the table installed anew in each):
#      (A) the table as smtpgate-nft installs it (pregreet = log: with
#      the round trip's copies, chain sniff_out and chain gate's two log
#      rules); (B) the same without the two ct reply rules that tell the
#      sniffer what the server had sent and without the copies (the
#      ruleset before the protocol tests); then once (C) no table at all
#      (what connection tracking and chain gate cost every session, for
#      scale).  Added by the protocol tests: the median of the rounds'
#      A - B; target < 0.01 ms, and the table's only chain on the
#      server's path is sniff_out, whose rules only copy (log group).
#  (e) What pregreet's round trip (the copies of the SYN-ACK and the
#      handshake ACK to nfnetlink_log, their records, the judgment) costs
#      per session, in one run: the sniffer
#      (pregreet = log) against smtp-sink, BENCH_RTT_PAIRS pairs of
#      BENCH_SMTP_N sessions, order alternating, with the copy rules in
#      the table and with them deleted: the sniffer's CPU (schedstat) per
#      session and the sessions/s, medians of the per-pair differences
#      and ratios (target: < 5 us and >= 0.98).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "bench_sniff: no build directory $1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_sniff: needs root" >&2; exit 2; }

BENCH_PAIRS=${BENCH_PAIRS:-7}
BENCH_SMTP_N=${BENCH_SMTP_N:-2000}
BENCH_SMTP_S=${BENCH_SMTP_S:-10}
BENCH_PF_PAIRS=${BENCH_PF_PAIRS:-7}
BENCH_PF_SMTP_N=${BENCH_PF_SMTP_N:-2000}
BENCH_MTA=${BENCH_MTA:-both}
BENCH_PROTO_PAIRS=${BENCH_PROTO_PAIRS:-5}
BENCH_BANNER_N=${BENCH_BANNER_N:-300}
BENCH_RTT_PAIRS=${BENCH_RTT_PAIRS:-5}
case $BENCH_MTA in
sink|postfix|both) ;;
*) echo "bench_sniff: BENCH_MTA must be sink, postfix or both, got '$BENCH_MTA'" >&2; exit 2 ;;
esac
BENCH_SMTP_SRC=198.19.251.1
# The sniffer runs at this nice level, as a packet handler should
# (bench/run.sh does the same for smtpgated).
BENCH_NICE=${BENCH_NICE:--15}

WORLD_PREFIX=${WORLD_PREFIX:-sgs}
WORLD_OWNER=$$
. "$repo/tests/world/world.sh"
. "$repo/bench/lib.sh"
. "$repo/bench/postfix.sh"

bench_log() { printf 'bench_sniff: %s\n' "$*"; }
bench_quartiles() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else printf "%s..%s", v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }'; }
yn() { awk -v v="$1" -v t="$2" -v op="${3:-ge}" 'BEGIN { if (v == "-") print "?"; else if ((op == "ge" && v + 0 >= t + 0) || (op == "lt" && v + 0 < t + 0)) print "yes"; else print "NO" }'; }
bench_row() { printf '%-58s %14s   target %-9s met: %s\n' "$1" "$2" "$3" "$4"; }

need="smtp-source smtp-sink unbound"
[ "$BENCH_MTA" = sink ] || need+=" postfix"
for p in $need; do
	command -v "$p" >/dev/null || { bench_log "$p missing"; exit 1; }
done
[ -x "$build/smtpgate-sniffd" ] && [ -x "$build/smtpgate-nft" ] ||
	{ bench_log "$build lacks smtpgate-sniffd or smtpgate-nft"; exit 1; }

trap 'bench_postfix_stop >/dev/null 2>&1; world_down >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM
world_up >/dev/null 2>&1 || { bench_log "test world did not come up"; exit 1; }
BENCH_CONF=$WORLD_DIR/bench_sniff.conf
cat >"$BENCH_CONF" <<CONF
[dns]
resolvers = 127.0.0.1:53

[gate]
queue = 0
ports = 25
trusted_networks = 192.0.2.0/28

[nft]
table = smtpgate

[sniffer]
queue = 1
state_file = $WORLD_DIR/state/sniffer.state
control_socket = $WORLD_DIR/sniffd.sock
my_hostnames = gw.example.test
my_addresses = 192.0.2.1

[journal]
file = $WORLD_DIR/journal/journal.db
CONF
world_gw "$build/smtpgate-nft" -c "$BENCH_CONF" install >/dev/null ||
	{ bench_log "smtpgate-nft install failed"; exit 1; }
# smtp-source cannot bind: make the route to the gateway pick our address.
world_cl ip route replace "$WORLD_GW4/32" dev "${WORLD_PREFIX:0:11}-c" src "$BENCH_SMTP_SRC" ||
	{ bench_log "cannot set source $BENCH_SMTP_SRC for smtp-source"; exit 1; }

bench_smtp() {
	world_cl bash -c '
		t0=$(date +%s%N)
		smtp-source -M bench.clean.test -f sender@example.test \
			-t postmaster@example.test -m "$1" -s "$2" -l 100 "$3:25" >/dev/null 2>"$4" || exit 1
		t1=$(date +%s%N)
		awk -v n="$1" -v ns=$((t1 - t0)) "BEGIN { printf \"%.0f\n\", n / (ns / 1e9) }"
	' bench "${1:-$BENCH_SMTP_N}" "$BENCH_SMTP_S" "$WORLD_GW4" "$WORLD_DIR/smtp-source.err"
}

SNIFF_PID=
# sniff_start [CONF]: the sniffer with CONF (default $BENCH_CONF).
sniff_start() {
	local n0
	n0=$(grep -c ': started' "$WORLD_DIR/sniffd.log" 2>/dev/null || echo 0)
	world_bg sniffd nice -n "$BENCH_NICE" "$build/smtpgate-sniffd" -c "${1:-$BENCH_CONF}" -f
	SNIFF_PID=$WORLD_BG_PID
	for _ in $(seq 100); do
		[ "$(grep -c ': started' "$WORLD_DIR/sniffd.log")" -gt "$n0" ] && return 0
		sleep 0.05
	done
	bench_log "smtpgate-sniffd did not start: $(tail -3 "$WORLD_DIR/sniffd.log" | tr '\n' ' ')"
	exit 1
}
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
sniff_stop() { [ -n "$SNIFF_PID" ] && world_stop "$SNIFF_PID" TERM; SNIFF_PID=; }

bench_log "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); world $WORLD_PREFIX; MTA $BENCH_MTA"

# bench_series NAME PAIRS SESSIONS: the paired runs against the MTA now on
# port 25.  Sets S_BASE, S_SNIFF, S_RATIO, S_PAIR, S_IQR, S_P99, S_P99MAX.
bench_series() {
	local name=$1 pairs=$2 n=$3 r order side b s q st
	local base=() sniffed=() ratio=() p99=()
	for r in $(seq "$pairs"); do
		order=AB; [ $((r % 2)) = 0 ] && order=BA
		for side in ${order:0:1} ${order:1:1}; do
			if [ "$side" = A ]; then
				sleep 0.3
				b=$(bench_smtp "$n") || { bench_log "$name: smtp-source failed: $(tail -2 "$WORLD_DIR/smtp-source.err")"; b=-; }
			else
				sniff_start
				sleep 0.3
				s=$(bench_smtp "$n") || { bench_log "$name: smtp-source failed: $(tail -2 "$WORLD_DIR/smtp-source.err")"; s=-; }
				sleep 0.5	# the last sessions' judgments
				st=$(sniff_stats)
				sniff_stop
				p99+=("$(bench_field "$st" verdict_p99_us)")
				judged=$(( judged + $(bench_field "$st" judgments) ))
				bench_log "$name run $r sniffer: helos=$(bench_field "$st" helos) mails=$(bench_field "$st" mails) marked=$(bench_field "$st" marked) spf_queries=$(bench_field "$st" spf_queries) judgments=$(bench_field "$st" judgments) verdict_p50_us=$(bench_field "$st" verdict_p50_us) verdict_p99_us=$(bench_field "$st" verdict_p99_us) verdict_max_us=$(bench_field "$st" verdict_max_us)"
			fi
		done
		base+=("$b"); sniffed+=("$s")
		q=$(awk -v s="$s" -v b="$b" 'BEGIN { if (s == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", s / b }')
		ratio+=("$q")
		bench_log "$name pair $r ($order): without $b sessions/s, with the sniffer $s sessions/s, ratio $q"
	done
	S_BASE=$(printf '%s\n' "${base[@]}" | grep -v '^-$' | bench_median)
	S_SNIFF=$(printf '%s\n' "${sniffed[@]}" | grep -v '^-$' | bench_median)
	S_RATIO=$(awk -v s="$S_SNIFF" -v b="$S_BASE" 'BEGIN { if (s == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", s / b }')
	S_PAIR=$(printf '%s\n' "${ratio[@]}" | grep -v '^-$' | bench_median)
	S_IQR=$(printf '%s\n' "${ratio[@]}" | grep -v '^-$' | bench_quartiles)
	S_P99=$(printf '%s\n' "${p99[@]}" | grep -v '^$' | bench_median)
	S_P99MAX=$(printf '%s\n' "${p99[@]}" | grep -v '^$' | sort -n | tail -1)
	S_P99MAX=${S_P99MAX:--}
}

judged=0
rows_a=() rows_b=()
if [ "$BENCH_MTA" != postfix ]; then
	# Warm-up: unbound, smtp-sink and the route.
	world_cl smtp-source -M bench.clean.test -m 20 -s 2 -l 100 "$WORLD_GW4:25" >/dev/null 2>&1
	bench_series smtp-sink "$BENCH_PAIRS" "$BENCH_SMTP_N"
	rows_a+=("$(bench_row "    smtp-sink, worst case ($S_SNIFF/$S_BASE)" "$S_RATIO" ">= 0.95" "$(yn "$S_RATIO" 0.95)")")
	rows_a+=("$(bench_row "      median of $BENCH_PAIRS per-pair ratios (quartiles: noise)" "$S_PAIR ($S_IQR)" ">= 0.95" "$(yn "$S_PAIR" 0.95)")")
	rows_b+=("$(bench_row "    smtp-sink runs: p99 us, median of runs" "$S_P99" "< 100" "$(yn "$S_P99" 100 lt)")")
	rows_b+=("$(bench_row "      worst run's p99 us" "$S_P99MAX" "< 100" "$(yn "$S_P99MAX" 100 lt)")")
	sink_ratio=$S_RATIO
fi
if [ "$BENCH_MTA" != sink ]; then
	if bench_postfix_start; then
		bench_log "Postfix $(postconf -h mail_version) on :25 in $WORLD_GW_NS (config $BENCH_PF_DIR/etc)"
		# Warm-up: smtpd, cleanup and discard processes, the queue.
		world_cl smtp-source -M bench.clean.test -f sender@example.test -t postmaster@example.test \
			-m 200 -s "$BENCH_SMTP_S" -l 100 "$WORLD_GW4:25" >/dev/null 2>&1
		bench_series Postfix "$BENCH_PF_PAIRS" "$BENCH_PF_SMTP_N"
		sleep 0.5
		delivered=$(grep -c 'status=sent' "$BENCH_PF_DIR/maillog")
		bench_log "Postfix: $delivered messages discarded, queue files left: $(find "$BENCH_PF_DIR/spool/incoming" "$BENCH_PF_DIR/spool/active" "$BENCH_PF_DIR/spool/deferred" -type f | wc -l)"
		bench_postfix_stop || bench_log "Postfix processes left after stop: $(bench_pf_pids)"
	else
		bench_log "Postfix did not start: no Postfix figures"
		S_SNIFF=- S_BASE=- S_RATIO=- S_PAIR=- S_IQR=- S_P99=- S_P99MAX=-
	fi
	rows_a+=("$(bench_row "    Postfix, a real MTA ($S_SNIFF/$S_BASE)" "$S_RATIO" ">= 0.95" "$(yn "$S_RATIO" 0.95)")")
	rows_a+=("$(bench_row "      median of $BENCH_PF_PAIRS per-pair ratios (quartiles: noise)" "$S_PAIR ($S_IQR)" ">= 0.95" "$(yn "$S_PAIR" 0.95)")")
	rows_b+=("$(bench_row "    Postfix runs: p99 us, median of runs" "$S_P99" "< 100" "$(yn "$S_P99" 100 lt)")")
	rows_b+=("$(bench_row "      worst run's p99 us" "$S_P99MAX" "< 100" "$(yn "$S_P99MAX" 100 lt)")")
	pf_ratio=$S_RATIO
fi
[ "$judged" -gt 0 ] && bench_log "warning: $judged judgments during the runs (the bench source should be clean)"

# (c) the protocol tests' CPU per session: on (log) against off.
sniff_cpu_ns() { awk '{ print $1 }' "/proc/$SNIFF_PID/schedstat"; }
proto_rows=()
if [ "$BENCH_MTA" != postfix ] && [ "$BENCH_PROTO_PAIRS" -gt 0 ]; then
	conf_on=$WORLD_DIR/bench_sniff_proto_on.conf conf_off=$WORLD_DIR/bench_sniff_proto_off.conf
	{ cat "$BENCH_CONF"; printf 'pregreet = log\npipelining = log\nnon_smtp = log\nbare_lf = log\n'; } >"$conf_on"
	{ cat "$BENCH_CONF"; printf 'pregreet = off\npipelining = off\nnon_smtp = off\nbare_lf = off\n'; } >"$conf_off"
	diffs=() ons=() offs=()
	for r in $(seq "$BENCH_PROTO_PAIRS"); do
		order="on off"; [ $((r % 2)) = 0 ] && order="off on"
		for side in $order; do
			c=$conf_on; [ "$side" = off ] && c=$conf_off
			sniff_start "$c"
			sleep 0.3
			c0=$(sniff_cpu_ns)
			bench_smtp "$BENCH_SMTP_N" >/dev/null || bench_log "proto: smtp-source failed"
			sleep 0.5
			c1=$(sniff_cpu_ns)
			comm=$(cat "/proc/$SNIFF_PID/comm")
			st=$(sniff_stats)
			sniff_stop
			us=$(awk -v a="$c0" -v b="$c1" -v n="$BENCH_SMTP_N" 'BEGIN { printf "%.3f", (b - a) / 1000 / n }')
			[ "$side" = on ] && on_us=$us || off_us=$us
			bench_log "proto run $r rules $side: $comm CPU $us us/session (helos=$(bench_field "$st" helos) queued=$(bench_field "$st" queued) pregreets=$(bench_field "$st" pregreets) protocol=$(bench_field "$st" protocol) judgments=$(bench_field "$st" judgments))"
		done
		ons+=("$on_us"); offs+=("$off_us")
		diffs+=("$(awk -v a="$on_us" -v b="$off_us" 'BEGIN { printf "%.3f", a - b }')")
	done
	micro=$("$build/bench/bench_proto" 2>&1 | tail -1)
	bench_log "$micro"
	M_ADD=$(bench_field "$micro" added_ns)
	M_READ=$(bench_field "$micro" reading_ns)
	P_ON=$(printf '%s\n' "${ons[@]}" | bench_median)
	P_OFF=$(printf '%s\n' "${offs[@]}" | bench_median)
	P_DIFF=$(printf '%s\n' "${diffs[@]}" | bench_median)
	P_IQR=$(printf '%s\n' "${diffs[@]}" | bench_quartiles)
	proto_rows+=("$(bench_row "    bench_proto: added ns/session (reading alone: $M_READ)" "${M_ADD:--}" "< 1000" "$(yn "${M_ADD:--}" 1000 lt)")")
	proto_rows+=("$(bench_row "    sniffer CPU: added us/session (on $P_ON, off $P_OFF; quartiles $P_IQR)" "$P_DIFF" "< 1" "$(yn "$P_DIFF" 1 lt)")")
fi

# rtt_copies_off: the round trip's copy rules out of the installed table
# (chain sniff_out, chain gate's log rules).
rtt_copies_off() {
	local h
	world_gw nft delete chain inet smtpgate sniff_out 2>/dev/null
	for h in $(world_gw nft -a list chain inet smtpgate gate 2>/dev/null | sed -n 's/.* log group .*# handle \([0-9]*\)$/\1/p'); do
		world_gw nft delete rule inet smtpgate gate handle "$h" || bench_log "cannot delete rule $h of chain gate"
	done
}

# (e) the round trip's copies per session: with them, and without.
rtt_rows=()
if [ "$BENCH_MTA" != postfix ] && [ "$BENCH_RTT_PAIRS" -gt 0 ]; then
	conf_rtt=$WORLD_DIR/bench_sniff_rtt.conf
	{ cat "$BENCH_CONF"; printf 'pregreet = log\n'; } >"$conf_rtt"
	diffs=() ratios=() ons=() offs=()
	for r in $(seq "$BENCH_RTT_PAIRS"); do
		order="on off"; [ $((r % 2)) = 0 ] && order="off on"
		for side in $order; do
			world_gw "$build/smtpgate-nft" -c "$conf_rtt" install >/dev/null 2>&1 ||
				bench_log "smtpgate-nft install failed"
			[ "$side" = off ] && rtt_copies_off
			sniff_start "$conf_rtt"
			sleep 0.3
			c0=$(sniff_cpu_ns)
			rate=$(bench_smtp "$BENCH_SMTP_N") || { bench_log "rtt: smtp-source failed"; rate=-; }
			sleep 0.5
			c1=$(sniff_cpu_ns)
			st=$(sniff_stats)
			sniff_stop
			us=$(awk -v a="$c0" -v b="$c1" -v n="$BENCH_SMTP_N" 'BEGIN { printf "%.3f", (b - a) / 1000 / n }')
			if [ "$side" = on ]; then on_us=$us on_rate=$rate; else off_us=$us off_rate=$rate; fi
			bench_log "rtt run $r copies $side: CPU $us us/session, $rate sessions/s (rtt_copies=$(bench_field "$st" rtt_copies) rtt_waited=$(bench_field "$st" rtt_waited) rtt_missing=$(bench_field "$st" rtt_missing) rtt_lost=$(bench_field "$st" rtt_lost) pregreets=$(bench_field "$st" pregreets) helos=$(bench_field "$st" helos))"
		done
		ons+=("$on_us"); offs+=("$off_us")
		diffs+=("$(awk -v a="$on_us" -v b="$off_us" 'BEGIN { printf "%.3f", a - b }')")
		ratios+=("$(awk -v a="$on_rate" -v b="$off_rate" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }')")
	done
	world_gw "$build/smtpgate-nft" -c "$BENCH_CONF" install >/dev/null 2>&1
	R_ON=$(printf '%s\n' "${ons[@]}" | bench_median)
	R_OFF=$(printf '%s\n' "${offs[@]}" | bench_median)
	R_DIFF=$(printf '%s\n' "${diffs[@]}" | bench_median)
	R_IQR=$(printf '%s\n' "${diffs[@]}" | bench_quartiles)
	R_RATIO=$(printf '%s\n' "${ratios[@]}" | grep -v '^-$' | bench_median)
	rtt_rows+=("$(bench_row "    sniffer CPU: added us/session (on $R_ON, off $R_OFF; quartiles $R_IQR)" "$R_DIFF" "< 5" "$(yn "$R_DIFF" 5 lt)")")
	rtt_rows+=("$(bench_row "    sessions/s with the copies / without, median of pairs" "${R_RATIO:--}" ">= 0.98" "$(yn "${R_RATIO:--}" 0.98)")")
fi

# (d) the banner's latency for a client in the pass cache.
banner_rows=()
if [ "$BENCH_BANNER_N" -gt 0 ]; then
	banner_ms() {
		world_cl python3 "$repo/tests/tools/smtpgreet.py" --src "$BENCH_SMTP_SRC" --dst "$WORLD_GW4" \
			banner-ms "$BENCH_BANNER_N" | sed -n 's/^banner_ms //p'
	}
	med() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n 's/^median=//p'; }
	avg2() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.4f", (a + b) / 2 }'; }
	BENCH_BANNER_ROUNDS=${BENCH_BANNER_ROUNDS:-5}
	sniff_start "${conf_on:-$BENCH_CONF}"
	sleep 0.3
	as=() bs=() ds=()
	# One side: the table installed anew, the client in pass4, for (B) the
	# two ct reply rules deleted; a warm-up, then the median in ms.
	banner_side() {
		local h
		world_gw "$build/smtpgate-nft" -c "$BENCH_CONF" install >/dev/null 2>&1 ||
			bench_log "smtpgate-nft install failed"
		world_gw nft add element inet smtpgate pass4 "{ $BENCH_SMTP_SRC timeout 1h }" ||
			bench_log "could not add $BENCH_SMTP_SRC to pass4"
		if [ "$1" = B ]; then
			for h in $(world_gw nft -a list chain inet smtpgate sniff 2>/dev/null | sed -n 's/.*ct reply packets.*# handle \([0-9]*\)$/\1/p'); do
				world_gw nft delete rule inet smtpgate sniff handle "$h" || bench_log "cannot delete rule $h of chain sniff"
			done
			rtt_copies_off
		fi
		BENCH_BANNER_N=50 banner_ms >/dev/null
		med "$(banner_ms)"
	}
	for r in $(seq "$BENCH_BANNER_ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then a=$(banner_side A); b=$(banner_side B)
		else b=$(banner_side B); a=$(banner_side A); fi
		as+=("$a"); bs+=("$b")
		ds+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f", a - b }')")
		bench_log "banner round $r: (A) table $a ms, (B) without the ct reply rules $b ms (medians of $BENCH_BANNER_N)"
	done
	sniff_stop
	world_gw "$build/smtpgate-nft" -c "$BENCH_CONF" install >/dev/null 2>&1
	hooks=$(world_gw nft list table inet smtpgate 2>/dev/null | grep -oE 'hook [a-z]+' | sort -u | tr '\n' ' ')
	outrules=$(world_gw nft list chain inet smtpgate sniff_out 2>/dev/null | grep -F '@gated_ports')
	world_gw "$build/smtpgate-nft" -c "$BENCH_CONF" remove >/dev/null 2>&1
	c=$(med "$(banner_ms)")
	bench_log "banner: (C) no table $c ms; table hooks: $hooks"
	A=$(printf '%s\n' "${as[@]}" | bench_median) B=$(printf '%s\n' "${bs[@]}" | bench_median)
	ADDED=$(printf '%s\n' "${ds[@]}" | bench_median)
	D_IQR=$(printf '%s\n' "${ds[@]}" | bench_quartiles)
	absadded=${ADDED#-}
	banner_rows+=("$(bench_row "    added by the protocol tests, median of $BENCH_BANNER_ROUNDS rounds' A - B, ms (A $A, B $B; quartiles $D_IQR)" "$ADDED" "< 0.01" "$(yn "$absadded" 0.01 lt)")")
	C=$c
	banner_rows+=("$(bench_row "    for scale: no table at all (C), median ms" "$C" "-" "-")")
	case $hooks in
	*postrouting*) banner_rows+=("$(bench_row "    chains on the server's path" "$hooks" "copies only" "NO")") ;;
	*output*)
		if [ "$(grep -c ' log group ' <<<"$outrules")" -eq 2 ] &&
		    ! grep -qE ' queue (num|to)| (drop|reject|accept|jump|goto)\b|mark set' <<<"$outrules"; then
			banner_rows+=("$(bench_row "    chains on the server's path" "sniff_out: 2 copies" "copies only" "yes")")
		else
			banner_rows+=("$(bench_row "    chains on the server's path" "sniff_out: $(wc -l <<<"$outrules") rules" "copies only" "NO")")
		fi ;;
	*) banner_rows+=("$(bench_row "    chains on the server's path" "none" "copies only" "yes")") ;;
	esac
fi
echo
if [ "$BENCH_MTA" = both ]; then
	bench_row "(a) sessions/s with sniffer / without: smtp-sink | Postfix" \
		"$sink_ratio | $pf_ratio" ">= 0.95" "$(yn "$sink_ratio" 0.95) | $(yn "$pf_ratio" 0.95)"
else
	echo "(a) SMTP sessions/s with sniffer / without"
fi
printf '%s\n' "${rows_a[@]}"
echo "(b) queued packet to verdict"
printf '%s\n' "${rows_b[@]}"
if [ "${#proto_rows[@]}" -gt 0 ]; then
	echo "(c) the protocol tests (pregreet, pipelining, non_smtp, bare_lf) per session, smtp-sink"
	printf '%s\n' "${proto_rows[@]}"
fi
if [ "${#rtt_rows[@]}" -gt 0 ]; then
	echo "(e) pregreet's round trip (copies of the SYN-ACK and the handshake ACK) per session, smtp-sink"
	printf '%s\n' "${rtt_rows[@]}"
fi
if [ "${#banner_rows[@]}" -gt 0 ]; then
	echo "(d) banner latency for a client in the pass cache"
	printf '%s\n' "${banner_rows[@]}"
fi
exit 0
