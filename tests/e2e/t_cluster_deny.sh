#!/bin/bash
# t_cluster_deny.sh BUILD_DIR - [cluster]: a client denied on gateway a is
# refused at the SYN on b and c, which never see it (it is in their deny
# set before it connects); IPv4 and IPv6; then the propagation of 1,000
# denies decided on a (clients without PTR, no_ptr = reject) into b's and
# c's deny4: p50 and p99 from each address's add to a's deny4 to its add
# to the sibling's (nft monitor in each gateway; target p99 <= 1 s), and
# beside it from a's verdict line to the sibling's "cluster ...
# action=applied" line; then the same 1,000 addresses refused on b and c
# by the kernel alone.
. "$(dirname "$0")/lib/cluster.sh"
e2ec_init "$@"

N=${E2E_CLUSTER_N:-1000}
RATE=${E2E_CLUSTER_RATE:-500}
P99_MS=${E2E_CLUSTER_P99_MS:-1000}

declare -A conf
for n in a b c; do
	conf[$n]=$(cworld_conf "$n" deny gate.dnsbl=off gate.dnsbl_sites= sniffer.packets=0)
	cworld_start "$n" "${conf[$n]}" gate || { e2e_not_ok "$n: smtpgated did not start"; e2ec_finish; }
done
if e2ec_wait_up "a b c" 15 2; then
	e2e_ok "every gateway's smtpgated is up and sees its two siblings"
else
	e2e_not_ok "the gateways did not all come up in the cluster"
fi
e2e_check "Redis holds the three gateways' heartbeats" \
	test "$(cworld_redis_cli --scan --pattern 'smtpgate:node:*' | wc -l)" -ge 3

# One client, IPv4 and IPv6: denied on a, then refused on b and c.
for c in 198.51.100.11 2001:db8:c::11; do
	fam=4; world_is_v6 "$c" && fam=6
	e2ec_mark
	if e2ec_smtp a "$c"; then
		e2e_not_ok "IPv$fam $c: a accepted a client without PTR"
	else
		e2e_ok "IPv$fam $c: refused on a"
	fi
	line=$(e2ec_since a gate | grep -F " ip=$c " | grep ' verdict=' | head -1)
	e2e_check "IPv$fam $c: a's verdict is reject (${line#*: })" e2e_has "$line" verdict reject
	for n in b c; do
		if e2ec_wait_set "$n" "deny$fam" "$c" yes 3; then
			e2e_ok "IPv$fam $c: in $n's deny$fam ($(e2ec_since "$n" gate | grep -F "cluster ip=$c " | head -1 | sed 's/^[^ ]* [^ ]* //'))"
		else
			e2e_not_ok "IPv$fam $c: not in $n's deny$fam 3 s after a's verdict"
		fi
		q0=$(e2ec_gstat "$n" queued)
		if e2ec_smtp "$n" "$c"; then
			e2e_not_ok "IPv$fam $c: $n accepted the client a denied"
		else
			e2e_ok "IPv$fam $c: refused on $n"
		fi
		sleep 0.2
		q1=$(e2ec_gstat "$n" queued)
		e2e_check "IPv$fam $c: $n's smtpgated never saw it (no verdict line, queued $q0 -> $q1)" \
			test "$(e2ec_verdicts "$n" "$c")" = 0 -a "$q0" = "$q1"
	done
done

# 1,000 clients without PTR denied on a: propagation into b and c.
out=$(cworld_propagation a "b c" 0 "$N" "$RATE" 30)
printf '%s\n' "$out" | sed 's/^/# /'
for n in b c all; do
	l=$(printf '%s\n' "$out" | grep "^propagation to=$n ")
	want=$N; [ "$n" = all ] && want=$((2 * N))
	e2e_check "propagation to $n: $(e2e_field "$l" applied) of $want applied" \
		test "$(e2e_field "$l" applied)" = "$want"
done
l=$(printf '%s\n' "$out" | grep '^propagation to=all ')
p50=$(e2e_field "$l" set_p50_ms) p99=$(e2e_field "$l" set_p99_ms)
e2e_note "propagation a -> b, c over $N addresses at $RATE/s, a's deny4 to the sibling's (nft monitor): p50 $p50 ms, p99 $p99 ms, max $(e2e_field "$l" set_max_ms) ms; a's verdict line to the sibling's applied line: p50 $(e2e_field "$l" p50_ms) ms, p99 $(e2e_field "$l" p99_ms) ms, max $(e2e_field "$l" max_ms) ms (target p99 <= 1000 ms)"
e2e_check "propagation into the siblings' deny4: $(e2e_field "$l" in_set) of $((2 * N)) seen added" \
	test "$(e2e_field "$l" in_set)" = $((2 * N))
e2e_check "propagation p99 $p99 ms <= $P99_MS ms" \
	awk -v v="${p99:--1}" -v t="$P99_MS" 'BEGIN { exit !(v >= 0 && v <= t) }'

# The same 1,000 addresses on b and c: reset by the kernel, unseen.
for n in b c; do
	q0=$(e2ec_gstat "$n" queued)
	e2ec_mark
	s=$(cworld_cl "$n" "$E2E_BUILD/bench/bench_syn" -d "$WORLD_GW4" -b 198.18.0.0 -n "$N" \
		-r 2000 -w 2000 2>&1 | grep '^bench_syn:')
	q1=$(e2ec_gstat "$n" queued)
	e2e_check "$n: the $N addresses a denied are reset at the SYN ($s)" \
		test "$(e2e_field "$s" rst)" = "$N"
	e2e_check "$n: its smtpgated saw none of them (queued $q0 -> $q1, $(e2ec_since "$n" gate | grep -c ' verdict=') verdict lines)" \
		test "$q0" = "$q1" -a "$(e2ec_since "$n" gate | grep -c ' verdict=')" = 0
done
e2ec_finish
