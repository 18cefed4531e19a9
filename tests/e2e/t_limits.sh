#!/bin/bash
# t_limits.sh BUILD_DIR - what bounds the kernel memory and the lookups a
# spoofed flood can cost, through the kernel:
#  - many addresses of one IPv6 /64 without a PTR: one lookup, then the
#    /64 entry (denynet6) resets the rest in the kernel; a DNSBL-listed
#    IPv6 client and a passed one stay per address; smtpgatectl cache
#    list shows the /64 and cache del of an address in it removes it;
#  - a deny set at its size (nft.deny_size = 2): the kernel refuses the
#    third element (ENFILE), nft_full counts it, the SYNs waiting still get
#    their reset at once, and the uncached client is judged again;
#  - a /24 over its lookup rate (lookup_burst = 5, lookup_rate = 1):
#    SYNs beyond the bucket are dropped unlooked-up and counted
#    (rate_limited), a real client's retransmit is judged a second later,
#    and clients of other prefixes pass as before.
WORLD_PREFIX=${WORLD_PREFIX:-sglim$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"
[ -x "$E2E_BUILD/bench/bench_syn" ] || e2e_skip "$E2E_BUILD/bench/bench_syn not built"

# ctl ARGS...: smtpgatectl with the test's config; stdout in CTL_OUT.
ctl() {
	CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$E2E_CONF" "$@" 2>&1)
	CTL_RC=$?
}
# rule_packets SET: packets counted by the gate chain's rule on @SET.
rule_packets() {
	world_gw nft list chain inet "$WORLD_TABLE" gate 2>/dev/null |
		grep -F "@$1 " | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -1
}
stat() { e2e_field "$(e2e_stats)" "$1"; }

# ---- IPv6 verdicts about the network are cached for the /64 -------------
conf=$(e2e_conf limits64 gate.cache_v6_network=yes gate.lookup_burst=0 \
	"gate.control_socket=$WORLD_DIR/gate.sock")
e2e_start "$conf" || e2e_finish
e2e_mark
l0=$(stat lookups)
e2e_expect 2001:db8:b::100 fail reject no-ptr - "first no-PTR address of 2001:db8:b::/64 rejected"
if world_set_has denynet6 2001:db8:b::; then
	e2e_ok "the verdict is cached for the /64: 2001:db8:b:: in denynet6"
else
	e2e_not_ok "denynet6 lacks 2001:db8:b:: ($(world_set_list denynet6 | tr '\n' ' '))"
fi
world_set_has deny6 2001:db8:b::100 && e2e_not_ok "2001:db8:b::100 also in deny6 (want the /64 only)"
r0=$(rule_packets denynet6)
fast=0
for i in 101 102 103 104 105 106 107 108; do
	e2e_smtp_timed 2001:db8:b::$i
	[ "$E2E_SMTP_RC" != 0 ] && [ "$E2E_SMTP_MS" -lt 2000 ] && fast=$((fast + 1))
done
r1=$(rule_packets denynet6)
sleep 0.3
n=0
for i in 101 102 103 104 105 106 107 108; do
	n=$((n + $(e2e_verdicts 2001:db8:b::$i)))
done
l1=$(stat lookups)
[ "$fast" = 8 ] && e2e_ok "8 more addresses of the /64 reset at once" ||
	e2e_not_ok "of 8 more addresses of the /64, $fast were reset within 2 s"
[ "$n" = 0 ] && [ $((l1 - l0)) = 1 ] &&
	e2e_ok "one lookup for 9 addresses: the kernel decided the other 8 (lookups +$((l1 - l0)), denynet6 rule counted $((r1 - r0)))" ||
	e2e_not_ok "got $n verdict lines for the 8 and lookups +$((l1 - l0)), want 0 and 1"
[ $((r1 - r0)) -ge 8 ] && e2e_ok "the denynet6 rule counted $((r1 - r0)) SYNs" ||
	e2e_not_ok "the denynet6 rule counted $((r1 - r0)) SYNs, want >= 8"
e2e_expect 2001:db8:c::13 fail reject dnsbl deny "a DNSBL-listed IPv6 client is cached per address (deny6)"
world_set_has denynet6 2001:db8:c:: && e2e_not_ok "2001:db8:c:: in denynet6 after a DNSBL verdict"
e2e_expect 2001:db8:c::20 ok accept - pass "a clean IPv6 client of another /64 passes, cached per address (pass6)"
ctl cache list
grep -Eq '^denynet6 +reject +2001:db8:b::/64 ' <<<"$CTL_OUT" &&
	e2e_ok "cache list shows denynet6 2001:db8:b::/64" ||
	e2e_not_ok "cache list lacks the /64: $CTL_OUT"
ctl cache del 2001:db8:b::177
[ "$CTL_RC" = 0 ] && grep -q 'deleted 2001:db8:b::/64 from denynet6' <<<"$CTL_OUT" &&
	! world_set_has denynet6 2001:db8:b:: &&
	e2e_ok "cache del of an address in the /64 removes the /64 ($CTL_OUT)" ||
	e2e_not_ok "cache del 2001:db8:b::177: exit $CTL_RC, $CTL_OUT"
e2e_expect 2001:db8:b::109 fail reject no-ptr - "after cache del the /64 is judged afresh"
ctl cache del 2001:db8:b::/64
[ "$CTL_RC" = 0 ] && ! world_set_has denynet6 2001:db8:b:: &&
	e2e_ok "cache del 2001:db8:b::/64 removes it" ||
	e2e_not_ok "cache del 2001:db8:b::/64: exit $CTL_RC, $CTL_OUT"
e2e_stop

# ---- a set at its size ---------------------------------------------------
conf=$(e2e_conf limitsize nft.deny_size=2 gate.lookup_burst=0)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 203.0.113.141 203.0.113.142 203.0.113.143 203.0.113.144; do
	e2e_expect "$a" fail reject no-ptr - "deny4 of size 2: $a rejected" || continue
	[ "$E2E_SMTP_MS" -lt 2000 ] || e2e_not_ok "$a: the reset took $E2E_SMTP_MS ms"
done
sleep 0.3
n=$(world_set_list deny4 | wc -l)
full=$(stat nft_full)
[ "$n" = 2 ] && e2e_ok "deny4 holds its size: 2 elements" || e2e_not_ok "deny4 holds $n elements, want 2"
[ "${full:-0}" -ge 2 ] && e2e_ok "nft_full=$full counts the refused elements" ||
	e2e_not_ok "nft_full=${full:-?}, want >= 2"
[ "$(grep -c 'set deny4 of table inet .* is full' "$E2E_LOG")" = 1 ] &&
	e2e_ok "the full set is logged once for the streak" ||
	e2e_not_ok "full-set log lines: $(grep -c 'is full' "$E2E_LOG"), want 1"
e2e_smtp_timed 203.0.113.144
if line=$(e2e_wait_verdict 203.0.113.144 5 2); then
	e2e_ok "the uncached client is judged again at its next SYN ($(e2e_field "$line" verdict))"
else
	e2e_not_ok "no second verdict for 203.0.113.144"
fi
e2e_stop

# ---- a /24 over its lookup rate ------------------------------------------
conf=$(e2e_conf limitrate gate.lookup_burst=5 gate.lookup_rate=1)
e2e_start "$conf" || e2e_finish
e2e_mark
out=$(world_cl "$E2E_BUILD/bench/bench_syn" -d "$WORLD_GW4" -b 198.18.77.1 -n 30 -W 30 -w 3000 2>&1 | grep '^bench_syn:')
rl=$(stat rate_limited)
lk=$(stat lookups)
lost=$(e2e_field "$out" lost)
e2e_note "30 SYNs from 198.18.77.0/24: $out"
[ "${rl:-0}" -ge 20 ] && [ "${lk:-99}" -le 10 ] &&
	e2e_ok "beyond the burst of 5: rate_limited=$rl, lookups=$lk" ||
	e2e_not_ok "rate_limited=${rl:-?} lookups=${lk:-?}, want >= 20 and <= 10"
[ "${lost:-0}" -ge 20 ] && [ "$lost" -le "$rl" ] &&
	e2e_ok "the limited SYNs were dropped ($lost unanswered)" ||
	e2e_not_ok "$lost SYNs unanswered, want >= 20 and <= rate_limited ($rl)"
world_wait_log "$E2E_LOG" 'gate: flood: .* SYNs dropped unjudged \(their /24 or /64' 3 &&
	e2e_ok "the streak is logged" || e2e_not_ok "no flood line for rate_limited"
e2e_smtp_timed 198.51.100.21
[ "$E2E_SMTP_RC" = 0 ] && [ "$E2E_SMTP_MS" -lt 1000 ] &&
	e2e_ok "a client of another prefix is delivered at once (${E2E_SMTP_MS} ms)" ||
	e2e_not_ok "198.51.100.21: swaks status $E2E_SMTP_RC in $E2E_SMTP_MS ms"
# A real client of the limited /24: its first SYN may be dropped, its
# retransmit a second later is judged (no PTR: reset).
e2e_smtp_timed 198.18.77.200
if line=$(e2e_wait_verdict 198.18.77.200 6); then
	e2e_ok "a real client of the limited /24 is judged, at worst on a retransmit ($(e2e_field "$line" verdict) after ${E2E_SMTP_MS} ms)"
else
	e2e_not_ok "198.18.77.200 never judged (swaks $E2E_SMTP_RC in $E2E_SMTP_MS ms)"
fi
e2e_finish
