#!/bin/bash
# t_cache.sh BUILD_DIR - verdicts cached in the kernel's pass/deny sets with
# the configured timeouts: a repeat client within the TTL is decided by the
# kernel (no verdict line); once the element expires the next SYN goes to
# the daemon again (a second verdict line).  IPv4 and IPv6.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_conf cache gate.pass_ttl=3 gate.deny_ttl=3)
e2e_start "$conf" || e2e_finish
e2e_mark

# wait_gone SET ADDR TIMEOUT_S
wait_gone() {
	local end=$(( $(world_now_ms) + $3 * 1000 ))
	while world_set_has "$1" "$2"; do
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

for spec in "198.51.100.20 ok accept pass" "203.0.113.40 fail reject deny" \
	    "2001:db8:c::20 ok accept pass" "2001:db8:c::43 fail reject deny"; do
	set -- $spec
	a=$1 want=$2 v=$3 set=$4 fam=4
	world_is_v6 "$a" && fam=6
	e2e_expect "$a" "$want" "$v" - "$set" "IPv$fam $v: first SYN verdicted, in $set$fam" || continue
	t_in=$(world_now_ms)
	e2e_smtp_timed "$a"
	got=fail; [ "$E2E_SMTP_RC" = 0 ] && got=ok
	sleep 0.3
	[ "$got" = "$want" ] && [ "$(e2e_verdicts "$a")" = 1 ] &&
		e2e_ok "IPv$fam $v: repeat within TTL decided by the kernel (swaks $got, no new verdict)" ||
		e2e_not_ok "IPv$fam $v: repeat within TTL: swaks $got (want $want), $(e2e_verdicts "$a") verdict lines (want 1)"
	if wait_gone "$set$fam" "$a" 8; then
		e2e_ok "IPv$fam $a expired from $set$fam after $(( $(world_now_ms) - t_in )) ms (ttl 3 s)"
	else
		e2e_not_ok "IPv$fam $a still in $set$fam 8 s after its verdict (ttl 3 s)"
		continue
	fi
	e2e_smtp_timed "$a"
	if line=$(e2e_wait_verdict "$a" 5 2); then
		e2e_has "$line" verdict "$v" &&
			e2e_ok "IPv$fam $v: after expiry the next SYN went to the daemon again (second verdict=$v)" ||
			e2e_not_ok "IPv$fam after expiry: got '$line', want verdict=$v"
	else
		e2e_not_ok "IPv$fam after expiry: no second verdict line for $a"
	fi
done
e2e_finish
