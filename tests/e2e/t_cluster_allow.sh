#!/bin/bash
# t_cluster_allow.sh BUILD_DIR - [cluster] share_allow = yes: the allow
# list's changes shared.  `smtpgatectl allow add` on a puts the prefix in
# b's and c's allow4/allow6 within 1 s (timed, IPv4 and IPv6), a client
# without PTR is then let through on b unjudged; b's and c's allow files
# stay as they were (the shared list is in their allow.shared); a reload
# on b keeps the prefix; `smtpgatectl allow list` on b shows it as a's;
# `allow del` on a takes it out everywhere; `allow del` on b of a's entry
# unshares it (gone from c, kept on a, whose file lists it); a prefix
# wider than /8 published by hand is refused on every gateway; a gateway
# started while Redis is down has the shared list it saved; a Redis come
# back empty gets a's entry again from a; an entry withdrawn while c was
# down is taken out at c's resync; a resync of 4,000 shared entries
# planted in Redis, timed.
. "$(dirname "$0")/lib/cluster.sh"
e2ec_init "$@"

WITHIN_MS=${E2E_CLUSTER_ALLOW_MS:-1000}
declare -A conf
for n in a b c; do
	cworld_use "$n"
	: >"$WORLD_DIR/allow.list"
	chmod 644 "$WORLD_DIR/allow.list"
	# The package's state directory (StateDirectory=smtpgate).
	mkdir -p "$WORLD_DIR/state"
	chown smtpgate:smtpgate "$WORLD_DIR/state" 2>/dev/null
	conf[$n]=$(cworld_conf "$n" allow cluster.share_allow=yes \
		"nft.allow_file=$WORLD_DIR/allow.list" gate.dnsbl=off \
		gate.dnsbl_sites= sniffer.packets=0)
	cworld_start "$n" "${conf[$n]}" gate || { e2e_not_ok "$n: smtpgated did not start"; e2ec_finish; }
done
if e2ec_wait_up "a b c" 15 2; then
	e2e_ok "every gateway's smtpgated is up and sees its two siblings"
else
	e2e_not_ok "the gateways did not all come up in the cluster"
fi

# ctl NODE ARGS...: smtpgatectl on NODE; CTL_RC, CTL_OUT, CTL_ERR (the
# checks name them).
ctl() {
	local n=$1; shift
	cworld_use "$n"
	CTL_OUT=$(cworld_gw "$n" "$E2E_BUILD/smtpgatectl" -c "${conf[$n]}" "$@" 2>"$WORLD_DIR/ctl.err")
	CTL_RC=$?
	CTL_ERR=$(cat "$WORLD_DIR/ctl.err")
	grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$WORLD_DIR/ctl.err" &&
		e2e_not_ok "sanitizer report from smtpgatectl $*: $(head -5 "$WORLD_DIR/ctl.err")"
	return 0
}
# in_allow NODE SET ADDR: ADDR lies in an element of NODE's SET.
in_allow() {
	cworld_use "$1"
	cworld_gw "$1" nft get element inet "$WORLD_TABLE" "$2" "{ $3 }" >/dev/null 2>&1
}
# shellcheck disable=SC2317  # called through e2e_check
not_in_allow() { ! in_allow "$@"; }
# wait_allow NODE SET ADDR yes|no TIMEOUT_MS: sets WAITED_MS.
wait_allow() {
	local t0 end has
	t0=$(world_now_ms); end=$((t0 + $5))
	while :; do
		has=no; in_allow "$1" "$2" "$3" && has=yes
		WAITED_MS=$(( $(world_now_ms) - t0 ))
		[ "$has" = "$4" ] && return 0
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.02
	done
}

# allow add on a: in b's and c's sets within 1 s.
c4=198.51.100.11 c6=2001:db8:c::11
for c in $c4 $c6; do
	fam=4; world_is_v6 "$c" && fam=6
	ctl a allow add "$c" --comment "shared from a"
	e2e_check "a: allow add $c (exit $CTL_RC: $CTL_OUT$CTL_ERR)" test "$CTL_RC" = 0
	for n in b c; do
		if wait_allow "$n" "allow$fam" "$c" yes 3000; then
			e2e_check "IPv$fam $c: in $n's allow$fam $WAITED_MS ms after a's allow add (target <= $WITHIN_MS ms)" \
				test "$WAITED_MS" -le "$WITHIN_MS"
		else
			e2e_not_ok "IPv$fam $c: not in $n's allow$fam 3 s after a's allow add"
		fi
	done
done
for n in b c; do
	cworld_use "$n"
	e2e_check "$n's allow file is untouched (empty)" test ! -s "$WORLD_DIR/allow.list"
	sleep 1.2	# saved a second after the change
	e2e_check "$n's allow.shared lists $c4/32 as a's" \
		grep -qx "$c4/32 a" "$WORLD_DIR/state/allow.shared"
	e2e_check "$n logged a's allow-add ($(grep -m1 "cluster prefix=$c4/32 " "$(cworld_log_path "$n" gate)" | sed 's/^[^ ]* [^ ]* //'))" \
		grep -q "cluster prefix=$c4/32 kind=allow-add node=a action=applied" "$(cworld_log_path "$n" gate)"
done

# The client without PTR goes through on b, unjudged.
e2ec_mark
if e2ec_smtp b "$c4"; then
	e2e_ok "IPv4 $c4 (no PTR): accepted on b, allowed by a's entry"
else
	e2e_not_ok "IPv4 $c4 (no PTR): refused on b although a allowed it"
fi
e2e_check "b's smtpgated never judged it" test "$(e2ec_verdicts b "$c4")" = 0

# A reload on b keeps a's prefix; the list shows it as a's.
ctl b reload gate
e2e_check "b: smtpgatectl reload (exit $CTL_RC)" test "$CTL_RC" = 0
sleep 0.3
e2e_check "b's allow4 still holds $c4 after its reload" in_allow b allow4 "$c4"
ctl b allow list
e2e_check "b: allow list shows $c4/32 shared by node a ($(grep -F "$c4/32" <<<"$CTL_OUT" | tr -s ' '))" \
	grep -Eq "^$c4/32 +shared .* a$" <<<"$CTL_OUT"

# allow del on a: out of every gateway's sets.
ctl a allow del "$c4"
e2e_check "a: allow del $c4 (exit $CTL_RC)" test "$CTL_RC" = 0
for n in b c; do
	if wait_allow "$n" allow4 "$c4" no 3000; then
		e2e_check "$c4: left $n's allow4 $WAITED_MS ms after a's allow del" test "$WAITED_MS" -le "$WITHIN_MS"
	else
		e2e_not_ok "$c4: still in $n's allow4 3 s after a's allow del"
	fi
done
e2ec_mark
if e2ec_smtp b "$c4"; then
	e2e_not_ok "IPv4 $c4 (no PTR): accepted on b after a's allow del"
else
	e2e_ok "IPv4 $c4 (no PTR): refused on b again"
fi

# allow del on b of a's entry: unshared, gone from c, kept on a.
ctl b allow del "$c6"
e2e_check "b: allow del $c6, a's shared entry (exit $CTL_RC: ${CTL_OUT//$'\n'/ })" \
	test "$CTL_RC" = 0
e2e_check "b: the note names node a" grep -q "shared entry of node a" <<<"$CTL_OUT"
if wait_allow c allow6 "$c6" no 3000; then
	e2e_ok "$c6: left c's allow6 $WAITED_MS ms after b unshared it"
else
	e2e_not_ok "$c6: still in c's allow6 3 s after b unshared it"
fi
e2e_check "$c6: left b's allow6" wait_allow b allow6 "$c6" no 1000
e2e_check "$c6: a keeps it (its allow file lists it)" in_allow a allow6 "$c6"

# Too wide: refused on every gateway, never in a set.
declare -A r0
for n in a b c; do r0[$n]=$(e2ec_gstat "$n" cluster_allow_refused); done
cworld_redis_cli PUBLISH smtpgate:events "1 allow-add z $(world_now_ms) 0 0 - 10.0.0.0/7" >/dev/null
cworld_redis_cli PUBLISH smtpgate:events "1 allow-add z $(world_now_ms) 0 0 - 2000::/15" >/dev/null
sleep 0.5
for n in a b c; do
	r=$(e2ec_gstat "$n" cluster_allow_refused)
	e2e_check "$n refused the /7 and the /15 (cluster_allow_refused ${r0[$n]} -> $r)" \
		test "$(( r - r0[$n] ))" = 2
	e2e_check "$n's allow4 lacks 10.1.2.3" not_in_allow "$n" allow4 10.1.2.3
done

# Redis down: c started again has the shared list it saved.
ctl a allow add 203.0.113.0/24
e2e_check "a: allow add 203.0.113.0/24 (exit $CTL_RC)" test "$CTL_RC" = 0
e2e_check "c has it" wait_allow c allow4 203.0.113.7 yes 3000
sleep 1.2
cworld_stop c gate TERM
cworld_redis_stop
cworld_use c
world_gw nft flush set inet "$WORLD_TABLE" allow4 2>/dev/null
cworld_run c "${conf[c]}" gate || e2e_not_ok "c: smtpgated did not start without Redis"
e2e_check "c, started with Redis down, has a's 203.0.113.0/24 from its allow.shared" \
	wait_allow c allow4 203.0.113.7 yes 2000
cworld_redis_start
if e2ec_wait_up "a b c" 20 2; then
	e2e_ok "Redis back: every gateway up again"
else
	e2e_not_ok "Redis back: the gateways did not all reconnect"
fi
# Redis came back empty (no persistence): a's resync finds its own
# 203.0.113.0/24 missing from the hash and shares it again; b and c,
# whose resync may have come first and taken it out, have it again.
end=$(( $(world_now_ms) + 5000 ))
until [ "$(cworld_redis_cli HEXISTS smtpgate:allow 203.0.113.0/24)" = 1 ] ||
	[ "$(world_now_ms)" -ge "$end" ]; do
	sleep 0.05
done
if [ "$(cworld_redis_cli HEXISTS smtpgate:allow 203.0.113.0/24)" = 1 ]; then
	e2e_ok "a shared its 203.0.113.0/24 again into the emptied Redis"
else
	e2e_not_ok "203.0.113.0/24 not in Redis's allow hash 5 s after Redis came back empty"
fi
e2e_check "b's unshare of a's 2001:db8:c::11 holds: a did not share it again at its resync" \
	test "$(cworld_redis_cli HEXISTS smtpgate:allow 2001:db8:c::11/128)" = 0
for n in b c; do
	e2e_check "$n has 203.0.113.0/24 after the resyncs" wait_allow "$n" allow4 203.0.113.7 yes 3000
done

# Withdrawn while c was down: c starts with the prefix in the
# allow.shared it saved, its resync finds it gone from the hash and
# takes it out.
ctl a allow add 198.18.7.0/24
e2e_check "a: allow add 198.18.7.0/24 (exit $CTL_RC)" test "$CTL_RC" = 0
e2e_check "c has 198.18.7.0/24" wait_allow c allow4 198.18.7.7 yes 3000
sleep 1.2
cworld_stop c gate TERM
ctl a allow del 198.18.7.0/24
e2e_check "a: allow del 198.18.7.0/24 while c is down (exit $CTL_RC)" test "$CTL_RC" = 0
e2e_check "b lacks 198.18.7.0/24" wait_allow b allow4 198.18.7.7 no 3000
cworld_use c
e2e_check "c's saved allow.shared still lists 198.18.7.0/24" \
	grep -qF 198.18.7.0/24 "$WORLD_DIR/state/allow.shared"
cworld_run c "${conf[c]}" gate || e2e_not_ok "c: smtpgated did not start again"
e2e_check "c, down when a withdrew 198.18.7.0/24, takes it out at its resync" \
	wait_allow c allow4 198.18.7.7 no 5000
e2e_check "c keeps 203.0.113.0/24 (in the hash) across that resync" in_allow c allow4 203.0.113.7

# A resync of a full shared hash: NBIG siblings' /24s planted in Redis,
# c restarted: every one in its allow4, in one replace, the loop's
# longest stall beside it.
NBIG=${E2E_CLUSTER_ALLOW_N:-4000}
now=$(world_now_ms)
for i in $(seq 0 $((NBIG - 1))); do
	p="10.$((i / 256)).$((i % 256)).0/24"
	printf 'HSET smtpgate:allow %s "1 allow-add z %s 0 0 - %s"\n' "$p" "$now" "$p"
done | cworld_redis_cli >/dev/null
e2e_check "Redis's allow hash holds the $NBIG planted entries and a's 203.0.113.0/24" \
	test "$(cworld_redis_cli HLEN smtpgate:allow)" = "$((NBIG + 1))"
cworld_stop c gate TERM
t0=$(world_now_ms)
cworld_run c "${conf[c]}" gate || e2e_not_ok "c: smtpgated did not start again"
last="10.$(((NBIG - 1) / 256)).$(((NBIG - 1) % 256)).9"
if wait_allow c allow4 "$last" yes 20000; then
	e2e_note "resync of $NBIG shared allow entries on c: the last in allow4 $(( $(world_now_ms) - t0 )) ms after the start; loop_stall_max_us=$(e2ec_gstat c loop_stall_max_us)"
	e2e_ok "c: all $NBIG planted entries in allow4 after its resync"
else
	e2e_not_ok "c: $last not in allow4 20 s after its start"
fi
e2ec_finish
