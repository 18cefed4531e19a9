#!/bin/bash
# t_cluster_malformed.sh BUILD_DIR - [cluster]: what Redis holds is
# hostile.  Malformed messages published by hand on smtpgate:events
# (garbage, a foreign version, a TTL, address, node name or field count
# out of bounds, a control byte, an overlong line) and malformed values
# planted by hand (SET smtpgate:v:ADDR garbage, and other keys), read at
# a gateway's start-up resync, are refused: counted (the daemons'
# `cluster` answer and smtpgatectl cluster status: refused=), logged, the
# daemons alive, and no address of theirs in any set of any gateway.  A
# well-formed message published by hand beside them is applied (the
# refusals are the malformed ones', not the channel's).
. "$(dirname "$0")/lib/cluster.sh"
e2ec_init "$@"

declare -A conf r0
for n in a b c; do
	conf[$n]=$(cworld_conf "$n" malformed gate.dnsbl=off gate.dnsbl_sites=)
	cworld_start "$n" "${conf[$n]}" gate sniffer || { e2e_not_ok "$n: the daemons did not start"; e2ec_finish; }
done
if e2ec_wait_up "a b c" 20 2; then
	e2e_ok "every gateway's two daemons are up and see their siblings"
else
	e2e_not_ok "the gateways did not all come up in the cluster"
fi

now=$(world_now_ms)
bad=(
	"garbage"
	""
	"2 deny evil $now 60 0 no-ptr 198.51.100.97"
	"1 deny evil $now 999999999 0 no-ptr 198.51.100.97"
	"1 deny evil $now 0 0 no-ptr 198.51.100.97"
	"1 deny evil $now 60 0 no-ptr 198.51.100.300"
	"1 deny ev!l $now 60 0 no-ptr 198.51.100.97"
	"1 deny evil $now 60 0 no-ptr 198.51.100.97 extra"
	"1 deny evil $now 60 0 NO_PTR 198.51.100.97"
	"1 deny evil  $now 60 0 no-ptr 198.51.100.97"
	"1 deny evil -5 60 0 no-ptr 198.51.100.97"
	"1 deny evil $now 60 2000000 no-ptr 198.51.100.97"
	"1 banish evil $now 60 0 no-ptr 198.51.100.97"
	"1 deny evil $now 60 0 no-ptr 198.51.100.97/24"
	$'1 deny evil '"$now"$' 60 0 no-ptr 198.51.100.97\r'
	$'1 deny evil '"$now"$' 60 0 no-\x01ptr 198.51.100.97'
	"1 deny $(printf 'x%.0s' $(seq 300)) $now 60 0 no-ptr 198.51.100.97"
)
for n in a b c; do r0[$n]=$(e2ec_field "$n" gate refused); done
for m in "${bad[@]}"; do
	cworld_redis_cli PUBLISH smtpgate:events "$m" >/dev/null
done
# One well-formed beside them, from a node that does not exist.
good=198.51.100.94
cworld_redis_cli PUBLISH smtpgate:events "1 deny z $(world_now_ms) 60 0 no-ptr $good" >/dev/null
sleep 1
for n in a b c; do
	r=$(e2ec_field "$n" gate refused)
	e2e_check "$n's smtpgated refused the ${#bad[@]} malformed messages (refused ${r0[$n]} -> $r)" \
		test "$(( r - r0[$n] ))" = "${#bad[@]}"
	e2e_check "$n's smtpgated logged a refusal ($(e2ec_since "$n" gate | grep -m1 'cluster: refused' | sed 's/^[^ ]* [^ ]* //'))" \
		grep -q 'cluster: refused' <<<"$(cat "$(cworld_log_path "$n" gate)")"
	e2e_check "$n's smtpgate-sniffd refused them too (refused=$(e2ec_field "$n" sniffer refused))" \
		test "$(e2ec_field "$n" sniffer refused)" -ge 1
	e2e_check "$n applied the well-formed one ($good in deny4)" e2ec_wait_set "$n" deny4 "$good" yes 2
done

# Planted values, read by c's start-up resync (its ruleset reinstalled:
# empty sets), and one well-formed key beside them.
planted=(
	"smtpgate:v:198.51.100.96" "garbage"
	"smtpgate:v:198.51.100.95" "1 deny evil $(world_now_ms) 999999999 0 no-ptr 198.51.100.95"
	"smtpgate:vn:2001:db8:c::/64" "1 deny evil"
	"smtpgate:v:not-an-address" "1 deny evil $(world_now_ms) 60 0 no-ptr 198.51.100.93"
	"smtpgate:b:198.51.100.92" "1 ban evil $(world_now_ms) 60 x unqualified 198.51.100.92"
	"smtpgate:v:$good" "1 deny z $(world_now_ms) 60 0 no-ptr $good"
)
for ((i = 0; i < ${#planted[@]}; i += 2)); do
	cworld_redis_cli SET "${planted[i]}" "${planted[i + 1]}" PX 600000 >/dev/null
done
e2e_check "Redis holds the planted values" test "$(cworld_redis_cli GET smtpgate:v:198.51.100.96)" = garbage
cworld_stop c both TERM
e2ec_mark
cworld_start c "${conf[c]}" gate sniffer || e2e_not_ok "c's daemons did not restart"
e2ec_wait_up c 20 || e2e_not_ok "c did not reconnect"
l=$(e2ec_since c gate | grep -m1 'cluster: resync: ')
e2e_check "c's smtpgated resync refused the planted values (${l#*: })" \
	grep -qE 'resync: [0-9]+ keys read, [0-9]+ applied, [1-9][0-9]* refused' <<<"$l"
e2e_check "c's resync applied the well-formed key beside them" \
	grep -qE 'resync: [0-9]+ keys read, [1-9][0-9]* applied' <<<"$l"
st=$(e2ec_ctl_status c "${conf[c]}")
e2e_check "smtpgatectl cluster status on c counts them (gate.refused=$(e2e_field "$st" gate.refused), sniffer.refused=$(e2e_field "$st" sniffer.refused))" \
	test "$(e2e_field "$st" gate.refused)" -ge 3
e2e_check "c's smtpgate-sniffd refused the planted ban (refused=$(e2ec_field c sniffer refused))" \
	test "$(e2ec_field c sniffer refused)" -ge 1
e2e_check "c applied the well-formed key at its resync ($good in deny4)" e2ec_wait_set c deny4 "$good" yes 2

# Nothing malformed in any set, every daemon alive.
for n in a b c; do
	cworld_use "$n"
	hit=""
	for s in deny4 drop4 pass4 offend4 allow4 deny6 denynet6 drop6 dropnet6 offend6; do
		hit+=$(world_set_list "$s" | grep -E '^(198\.51\.100\.(9[2567])|2001:db8:c::/64)$' | sed "s/^/$s:/")
	done
	e2e_check "$n: no address of a malformed value in any set${hit:+ ($hit)}" test -z "$hit"
	e2e_check "$n: both daemons still running" \
		kill -0 "${CWORLD_GATE_PID[$n]}" "${CWORLD_SNIFF_PID[$n]}"
done
e2ec_finish
