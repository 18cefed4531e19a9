#!/bin/bash
# t_flood.sh BUILD_DIR - a burst of SYNs from thousands of new addresses,
# with legitimate clients connecting meanwhile, through the kernel:
#  - with a small queue (queue_maxlen = 128) the kernel's fail-open lets
#    much of the burst through unjudged: the daemon's unjudged counter
#    must equal what the kernel's own queue-rule counter says minus the
#    SYNs the daemon received, and a flood line must be logged;
#  - with the default queue the same burst passes nothing unjudged;
#  - in both, every legitimate session is delivered;
#  - pacing: behind a resolver that answers everything 800 ms late, with
#    dns_concurrency = 2, eight new addresses at once: two have queries
#    out, six wait; the waiting ones start as slots free, and those whose
#    turn comes too late for their deadline get the dns-error verdict,
#    uncached, without a query (dns_waited).
# The burst is bench_syn (one SYN per address of 198.18.0.0/15, no PTR);
# the legitimate clients are tests/tools/smtpmany.py (real TCP, retransmits).
WORLD_PREFIX=${WORLD_PREFIX:-sgfl$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/bench/bench_syn" ] || e2e_skip "$E2E_BUILD/bench/bench_syn not built"

BURST_N=${BURST_N:-3000}
# queue_rule: packets the gate chain's queue rule has counted.
queue_rule() {
	world_gw nft list chain inet "$WORLD_TABLE" gate 2>/dev/null |
		grep -E '(^|[[:space:]])queue([[:space:]]|$)' |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | tail -1
}
# quiet: wait until the daemon has nothing pending (at most 10 s); prints
# its last stats line.
quiet() {
	local s i
	for i in $(seq 50); do
		s=$(e2e_stats)
		[ "$(e2e_field "$s" pending)" = 0 ] && [ "$(e2e_field "$s" held)" = 0 ] && break
		sleep 0.2
	done
	printf '%s\n' "$s"
}

# burst NAME BASE CONF-KEYS...: start a daemon, one burst, checks; the
# daemon is left running for the caller's checks.
burst() {
	local name=$1 base=$2 conf s0 s1 q0 q1 out legit u0 u1 got want
	shift 2
	world_flush_sets
	conf=$(e2e_conf "$name" "$@")
	e2e_start "$conf" || return 1
	sleep 1.2		# the daemon's first counter reading is its base
	s0=$(quiet); q0=$(queue_rule)
	world_cl python3 "$WORLD_TOOLS/smtpmany.py" --dst "$WORLD_GW4" --dst6 "$WORLD_GW6" \
		--timeout 30 --stagger-ms 40 198.51.100.70 198.51.100.71 2001:db8:c::70 \
		198.51.100.72 198.51.100.73 2001:db8:c::71 198.51.100.74 198.51.100.75 \
		>"$WORLD_DIR/$name.legit" 2>&1 &
	legit=$!
	out=$(world_cl "$E2E_BUILD/bench/bench_syn" -d "$WORLD_GW4" -b "$base" -k 13 \
		-n "$BURST_N" -r 10000 -W "$BURST_N" -w 4000 2>&1 | grep '^bench_syn:')
	wait "$legit"
	legit_rc=$?
	s1=$(quiet); q1=$(queue_rule)
	e2e_note "$name: $out"
	e2e_note "$name: $(tail -1 "$WORLD_DIR/$name.legit")"
	e2e_note "$name: queue rule $q0 -> $q1, daemon $s1"
	[ "$legit_rc" = 0 ] && e2e_ok "$name: every legitimate session delivered during the burst" ||
		e2e_not_ok "$name: legitimate sessions: $(grep -v '^ok' "$WORLD_DIR/$name.legit" | tr '\n' ' ')"
	u0=$(e2e_field "$s0" unjudged); u1=$(e2e_field "$s1" unjudged)
	got=$((u1 - u0))
	want=$(( q1 - q0 - ( $(e2e_field "$s1" queued) - $(e2e_field "$s0" queued) ) ))
	UNJUDGED=$got
	# Read at rest, both sides count the same packets.
	[ "$got" -ge $((want - 2)) ] && [ "$got" -le $((want + 2)) ] &&
		e2e_ok "$name: unjudged +$got matches the kernel (queue rule +$((q1 - q0)) minus $((q1 - q0 - want)) received)" ||
		e2e_not_ok "$name: unjudged +$got, but queue rule +$((q1 - q0)) minus received says $want"
}

burst small 198.18.0.0 gate.queue_maxlen=128 || e2e_finish
[ "$UNJUDGED" -ge 100 ] && e2e_ok "small queue: the kernel let $UNJUDGED SYNs through unjudged, and the daemon counted them" ||
	e2e_not_ok "small queue: only $UNJUDGED unjudged (want a flood that overflows 128)"
# The counter is read once a second and a streak's lines come a tick after.
world_wait_log "$E2E_LOG" 'gate: flood: .* SYNs passed unjudged by the kernel' 5 &&
	e2e_ok "small queue: the flood is logged" || e2e_not_ok "small queue: no flood line in the log"
world_wait_log "$E2E_LOG" 'gate: flood over: .* SYNs passed unjudged' 5 &&
	e2e_ok "small queue: and its end" || e2e_not_ok "small queue: no 'flood over' line"
e2e_stop

burst default 198.18.0.1 || e2e_finish
[ "$UNJUDGED" = 0 ] && e2e_ok "default queue_maxlen: nothing passed unjudged" ||
	e2e_not_ok "default queue_maxlen: $UNJUDGED SYNs passed unjudged"
e2e_stop

# ---- pacing behind a slow resolver ---------------------------------------
world_flush_sets
world_dns_proxy dns-slow 127.0.0.4:53 --upstream 127.0.0.1:53 --delay-ms 800 || e2e_finish
conf=$(e2e_conf pacing dns.resolvers=127.0.0.4:53 dns.timeout_ms=3000 dns.tries=1 \
	gate.deadline_ms=2000 gate.dns_concurrency=2)
e2e_start "$conf" || e2e_finish
sleep 1.5		# the DNSBL health probes, through the slow proxy too
e2e_mark
s0=$(e2e_stats)
world_cl "$E2E_BUILD/bench/bench_syn" -d "$WORLD_GW4" -b 198.18.200.1 -n 8 -W 8 -w 3500 \
	>"$WORLD_DIR/pacing.out" 2>&1 &
syn=$!
sleep 0.4
s1=$(e2e_stats)
wait "$syn"
sleep 0.3
s2=$(e2e_stats)
e2e_note "pacing: $(grep '^bench_syn:' "$WORLD_DIR/pacing.out")"
a1=$(e2e_field "$s1" dns_active) w1=$(e2e_field "$s1" dns_waiting)
[ "$a1" = 2 ] && [ "$w1" = 6 ] && e2e_ok "pacing: 2 addresses have queries out, 6 wait (at 0.4 s)" ||
	e2e_not_ok "pacing at 0.4 s: dns_active=$a1 dns_waiting=$w1, want 2 and 6"
waited=$(( $(e2e_field "$s2" dns_waited) - $(e2e_field "$s0" dns_waited) ))
rej=$(( $(e2e_field "$s2" reject) - $(e2e_field "$s0" reject) ))
q=$(( $(e2e_field "$s2" dns_queries) - $(e2e_field "$s0" dns_queries) ))
[ "$waited" -ge 1 ] && [ "$rej" -ge 2 ] && [ $((waited + rej)) = 8 ] &&
	e2e_ok "pacing: $rej judged (no PTR: reject), $waited left to their deadline" ||
	e2e_not_ok "pacing: reject +$rej, dns_waited +$waited, want >= 2, >= 1, 8 in all"
[ "$q" = $((3 * rej)) ] && e2e_ok "pacing: $q queries, three for each address judged, none for the others" ||
	e2e_not_ok "pacing: $q queries, want $((3 * rej))"
n=$(e2e_since | grep -E 'verdict=accept ip=198\.18\.200\.[0-9]+ reason=dns-error .*cached=no' | wc -l)
[ "$n" = "$waited" ] && e2e_ok "pacing: the waited addresses got dns-error, not cached ($n lines)" ||
	e2e_not_ok "pacing: $n dns-error lines, want $waited: $(e2e_since | grep -c verdict=) verdict lines"
e2e_finish
