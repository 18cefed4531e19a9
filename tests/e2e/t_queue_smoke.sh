#!/bin/sh
# t_queue_smoke.sh BUILD - queue.c against the real kernel.
#
# Needs root and BUILD/bench/bench_queue.  Creates two namespaces, sgqPID-gw
# (the gateway, queue 0, a listener on port 25) and sgqPID-cl (the client),
# joined by a veth pair, IPv4 and IPv6.  The gateway's INPUT chains hold,
# in this order, the reset rule for MARK_REJECT and the xtables NFQUEUE
# rule with bypass (the kernel here has no nft queue expression).  Then:
#   bypass   no program bound: the SYN passes, the connection completes
#   accept   the SYN reaches bench_queue (parsed: source, port 25, SYN
#            flag) and the connection completes            (IPv4, IPv6)
#   drop     the connection times out; the retransmitted SYN is queued too
#   reject   the client gets a reset though the port is open, and the
#            reset rule counted it                          (IPv4, IPv6)
#   mark     an admin mark outside MARK_MASK reaches the program and
#            survives a reject (the reset rule still matches)
#   enoent   a verdict for an id the kernel never gave out is counted in
#            verdict_errors, and the program goes on
#   retry    the next 20 verdict sends fail with ENOBUFS (queue.c's fault
#            hook): the verdict waits in the retry list, goes out on a
#            later try, the connection completes, and the counters say so
#   rcvbuf   the socket's receive buffer follows queue_maxlen (2 KB a
#            packet): every packet the kernel holds could be unread
# Prints one line per check; exits 0 when all passed, 1 otherwise.
# Everything it creates goes with the namespaces, removed on exit.
set -u

BUILD=${1:?usage: t_queue_smoke.sh BUILD}
BENCH=$BUILD/bench/bench_queue
GW=sgq$$-gw	# per run: parallel runs never share them
CL=sgq$$-cl
GW4=203.0.113.201
CL4=203.0.113.202
GW6=2001:db8:51::1
CL6=2001:db8:51::2
TMP=$(mktemp -d /tmp/sgq.XXXXXX)
pass=0 fail=0
listener=""

cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	ip netns del $GW 2>/dev/null
	ip netns del $CL 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

if [ "$(id -u)" -ne 0 ]; then
	echo "t_queue_smoke: needs root"
	exit 1
fi
if [ ! -x "$BENCH" ]; then
	echo "t_queue_smoke: $BENCH missing (make $BENCH)"
	exit 1
fi

ip netns del $GW 2>/dev/null
ip netns del $CL 2>/dev/null
set -e
ip netns add $GW
ip netns add $CL
ip link add sgq-g netns $GW type veth peer name sgq-c netns $CL
ip -n $GW link set lo up
ip -n $CL link set lo up
ip -n $GW link set sgq-g up
ip -n $CL link set sgq-c up
ip -n $GW addr add $GW4/24 dev sgq-g
ip -n $CL addr add $CL4/24 dev sgq-c
ip -n $GW addr add $GW6/64 dev sgq-g nodad
ip -n $CL addr add $CL6/64 dev sgq-c nodad
# The reset rule first, then the queue rule: NF_REPEAT re-runs this chain.
for fam in ip ip6; do
	if [ $fam = ip ]; then ipt=iptables-nft; else ipt=ip6tables-nft; fi
	ip netns exec $GW $ipt -A INPUT -p tcp --syn --dport 25 \
	    -j NFQUEUE --queue-num 0 --queue-bypass
	ip netns exec $GW nft insert rule $fam filter INPUT \
	    meta mark and 0x00ff0000 == 0x00510000 counter \
	    reject with tcp reset
done
set +e

# A listener on port 25 in the gateway, both families.
ip netns exec $GW python3 -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 25)); s.listen(64)
while True:
    c, a = s.accept(); c.close()
' &
listener=$!
sleep 0.3

# connect DST TIMEOUT: prints connected / refused / timeout
connect() {
	ip netns exec $CL python3 -c '
import socket, sys
dst, t = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
s.settimeout(t)
try:
    s.connect((dst, 25)); print("connected")
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, TimeoutError):
    print("timeout")
except OSError as e:
    print("error %s" % e)
' "$1" "$2"
}

# bench VERDICT SECONDS [opts]: start bench_queue in the gateway; wait
# until it says ready.  Output in $TMP/bench.out.
bench_start() {
	v=$1 secs=$2
	shift 2
	ip netns exec $GW "$BENCH" -q 0 -t "$secs" -l "$@" "$v" \
	    >"$TMP/bench.out" 2>&1 &
	bench_pid=$!
	i=0
	while ! grep -q '^ready' "$TMP/bench.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 $bench_pid 2>/dev/null; then
			echo "bench_queue did not start:"
			sed 's/^/    /' "$TMP/bench.out"
			return 1
		fi
		sleep 0.1
	done
}

bench_stop() {
	kill -TERM $bench_pid 2>/dev/null
	wait $bench_pid
}

# field NAME: a key=value from the summary line
field() {
	grep '^packets=' "$TMP/bench.out" | tail -1 | tr ' ' '\n' |
	    sed -n "s/^$1=//p"
}

counter() {	# counter FAMILY: packets counted by the reset rule
	ip netns exec $GW nft list chain "$1" filter INPUT 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\).*reject.*/\1/p' | head -1
}

# 1. bypass: nothing bound
r=$(connect $GW4 3)
[ "$r" = connected ] && ok "bypass: no program bound, SYN passes (ipv4)" ||
    bad "bypass: no program bound: got $r, want connected"

# 2. accept, both families
for dst in $GW4 $GW6; do
	if [ $dst = $GW4 ]; then src=$CL4 fam=ipv4; else src=$CL6 fam=ipv6; fi
	bench_start accept 30 -n 1 || { bad "accept ($fam): no program"; continue; }
	r=$(connect $dst 3)
	wait $bench_pid
	line=$(grep '^pkt ' "$TMP/bench.out" | head -1)
	case "$line" in
	*" src=$src "*" dport=25 flags=0x02"*) ok "accept ($fam): queued SYN parsed: $line" ;;
	*) bad "accept ($fam): got packet line '$line', want src=$src dport=25 flags=0x02" ;;
	esac
	[ "$r" = connected ] && ok "accept ($fam): connection completed" ||
	    bad "accept ($fam): client got $r, want connected"
done

# 3. drop: timeout, and the retransmit is queued as well
bench_start drop 30 || bad "drop: no program"
r=$(connect $GW4 2.5)
bench_stop
n=$(field packets)
[ "$r" = timeout ] && ok "drop: client timed out" ||
    bad "drop: client got $r, want timeout"
[ "${n:-0}" -ge 2 ] && ok "drop: $n SYNs queued (first and retransmit)" ||
    bad "drop: got ${n:-0} queued packets, want >= 2"

# 4. reject, both families
for fam in ip ip6; do
	if [ $fam = ip ]; then dst=$GW4; else dst=$GW6; fi
	before=$(counter $fam)
	bench_start reject 30 -n 1 || { bad "reject ($fam): no program"; continue; }
	r=$(connect $dst 3)
	wait $bench_pid
	after=$(counter $fam)
	[ "$r" = refused ] && ok "reject ($fam): client got a reset though port 25 listens" ||
	    bad "reject ($fam): client got $r, want refused"
	[ "${after:-0}" -gt "${before:-0}" ] &&
	    ok "reject ($fam): reset rule counted ${before:-0} -> $after" ||
	    bad "reject ($fam): reset rule counter ${before:-0} -> ${after:-0}, want an increase"
done

# 5. an admin mark outside our byte: seen, kept, reject still works
ip netns exec $GW nft add table ip sgqmark
ip netns exec $GW nft add chain ip sgqmark pre \
    '{ type filter hook prerouting priority -150; }'
ip netns exec $GW nft add rule ip sgqmark pre tcp dport 25 meta mark set 0x00000007
bench_start reject 30 -n 1 || bad "mark: no program"
r=$(connect $GW4 3)
wait $bench_pid
line=$(grep '^pkt ' "$TMP/bench.out" | head -1)
case "$line" in
*" mark=0x00000007 "*) ok "mark: program saw the admin mark 0x7" ;;
*) bad "mark: got '$line', want mark=0x00000007" ;;
esac
[ "$r" = refused ] && ok "mark: reject with admin mark still resets" ||
    bad "mark: client got $r, want refused"
ip netns exec $GW nft delete table ip sgqmark

# 6. a verdict for an unknown id: ENOENT counted, program carries on
bench_start accept 2 -b || bad "enoent: no program"
r1=$(connect $GW4 3)
r2=$(connect $GW4 3)
wait $bench_pid
e=$(field verdict_errors)
n=$(field packets)
[ "$r1 $r2" = "connected connected" ] &&
    ok "enoent: connections still complete after refused verdicts" ||
    bad "enoent: clients got '$r1 $r2', want connected twice"
[ "${n:-0}" -ge 2 ] && [ "${e:-0}" -eq "${n:-0}" ] &&
    ok "enoent: verdict_errors=$e for $n bogus verdicts" ||
    bad "enoent: verdict_errors=${e:-?}, want packets (${n:-?})"

# 7. failing sends: the verdict is retried until it goes out
bench_start accept 30 -n 1 -f 20 || bad "retry: no program"
r=$(connect $GW4 3)
wait $bench_pid
sf=$(field send_failed) df=$(field deferred) rp=$(field retry_pending)
v=$(field verdicts) lost=$(field lost)
[ "$r" = connected ] && ok "retry: connection completed though 20 sends failed" ||
    bad "retry: client got $r, want connected"
[ "${sf:-0}" -eq 20 ] && [ "${df:-0}" -eq 1 ] && [ "${rp:-1}" -eq 0 ] &&
    [ "${lost:-1}" -eq 0 ] && [ "${v:-0}" -eq 1 ] &&
    ok "retry: send_failed=$sf deferred=$df retry_pending=$rp lost=$lost" ||
    bad "retry: send_failed=${sf:-?} (want 20) deferred=${df:-?} (want 1) retry_pending=${rp:-?} (want 0) lost=${lost:-?} verdicts=${v:-?}"
grep -q 'kept for a retry' "$TMP/bench.out" && grep -q 'verdicts go out again' "$TMP/bench.out" &&
    ok "retry: the failure and the recovery are logged once each" ||
    bad "retry: log lines missing: $(grep nfq "$TMP/bench.out" | tr '\n' ' ')"

# 8. the receive buffer follows the queue's maximum length
for m in 4096 32768 131072; do
	bench_start accept 1 -m $m || { bad "rcvbuf: no program (-m $m)"; continue; }
	wait $bench_pid
	rb=$(field rcvbuf)
	[ "${rb:-0}" -ge $((m * 2048)) ] && ok "rcvbuf: queue_maxlen $m: $rb bytes (>= $((m * 2048)))" ||
	    bad "rcvbuf: queue_maxlen $m: got ${rb:-?} bytes, want >= $((m * 2048))"
done

echo "t_queue_smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
