# bench/lib.sh - what every benchmark script shares.  Source it after
# tests/world/world.sh; the caller defines bench_log (its own prefix).
#
#   bench_median            the median of the numbers on stdin ("-": none)
#   bench_field LINE KEY    the value of KEY=value in a "k=v k=v" line
#   bench_unbound_rcvbuf SIZE
#                           restart the world's unbound with so-rcvbuf SIZE
#                           ("" keeps its default), 0 once it answers again

bench_median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bench_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# The world's unbound keeps the default 208 KiB receive buffer, which
# overflows when thousands of PTR queries arrive at once (UdpRcvbufErrors;
# each lost query costs the gate a c-ares retry 1 s later).  A resolver in
# front of a busy gate wants a larger one.
bench_unbound_rcvbuf() {
	local size=$1 pid cmd i
	[ -n "$size" ] || return 0
	for pid in $(ip netns pids "$WORLD_GW_NS" 2>/dev/null); do
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
		case $cmd in
		"unbound -d -c $WORLD_DIR/unbound.conf "*) world_stop "$pid" TERM ;;
		esac
	done
	sed -i "s/^server:\$/server:\n  so-rcvbuf: $size/" "$WORLD_DIR/unbound.conf"
	world_bg unbound unbound -d -c "$WORLD_DIR/unbound.conf"
	for i in $(seq 50); do
		world_gw kdig +timeout=1 +retry=0 +short @127.0.0.1 mail.clean.test A 2>/dev/null |
			grep -q 198.51.100.10 && return 0
		sleep 0.1
	done
	bench_log "unbound did not come back with so-rcvbuf $size"
	return 1
}
