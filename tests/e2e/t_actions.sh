#!/bin/bash
# t_actions.sh BUILD_DIR - the actions drop, log and off, IPv4 and IPv6:
# drop leaves the client to time out and fills drop4/drop6; log accepts and
# names the finding; off neither acts nor names it.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

# Config A: no_ptr=drop, generic_ptr=log, dnsbl=off.
conf=$(e2e_conf actions-a gate.no_ptr=drop gate.generic_ptr=log gate.dnsbl=off)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 203.0.113.31 2001:db8:c::31; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_smtp_timed "$a" --timeout 3
	line=$(e2e_wait_verdict "$a" 2)
	if [ "$E2E_SMTP_RC" != 0 ] && [ "$E2E_SMTP_MS" -ge 2500 ]; then
		e2e_ok "IPv$fam no_ptr=drop: client timed out (${E2E_SMTP_MS} ms, swaks $E2E_SMTP_RC)"
	else
		e2e_not_ok "IPv$fam no_ptr=drop: swaks status $E2E_SMTP_RC after ${E2E_SMTP_MS} ms, want a timeout (>= 2500 ms)"
	fi
	e2e_has "$line" verdict drop && e2e_reason_has "$line" no-ptr &&
		e2e_ok "IPv$fam no_ptr=drop verdict: $(e2e_field "$line" verdict) reason=$(e2e_field "$line" reason)" ||
		e2e_not_ok "IPv$fam no_ptr=drop: got '$line', want verdict=drop reason=no-ptr"
	e2e_check "IPv$fam dropped $a in drop$fam" world_set_has drop$fam "$a"
	n=$(e2e_verdicts "$a")
	[ "$n" = 1 ] && e2e_ok "IPv$fam SYN retransmits after drop decided by the kernel (1 verdict line)" ||
		e2e_not_ok "IPv$fam $n verdict lines for the dropped client, want 1 (drop set not used?)"
done
for a in 198.51.100.32 2001:db8:c::32; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept generic-ptr pass "IPv$fam generic_ptr=log: accepted, reason names generic-ptr"
done
for a in 198.51.100.40 2001:db8:c::13; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept - pass "IPv$fam dnsbl=off: listed client accepted" &&
		{ e2e_reason_has "$E2E_LINE" dnsbl && e2e_not_ok "IPv$fam dnsbl=off still names dnsbl: $E2E_LINE" ||
			e2e_ok "IPv$fam dnsbl=off: reason=$(e2e_field "$E2E_LINE" reason) has no dnsbl"; }
done
e2e_stop TERM

# Config B: no_ptr=log, generic_ptr=drop, dnsbl=log, fcrdns=off.
conf=$(e2e_conf actions-b gate.no_ptr=log gate.generic_ptr=drop gate.dnsbl=log gate.fcrdns=off)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 203.0.113.32 2001:db8:c::41; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept no-ptr pass "IPv$fam no_ptr=log: accepted, reason names no-ptr"
done
for a in 198.51.100.33 2001:db8:c::33; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_smtp_timed "$a" --timeout 3
	line=$(e2e_wait_verdict "$a" 2)
	[ "$E2E_SMTP_RC" != 0 ] && [ "$E2E_SMTP_MS" -ge 2500 ] && e2e_has "$line" verdict drop &&
		e2e_reason_has "$line" generic-ptr && world_set_has drop$fam "$a" &&
		e2e_ok "IPv$fam generic_ptr=drop: timed out after ${E2E_SMTP_MS} ms, in drop$fam" ||
		e2e_not_ok "IPv$fam generic_ptr=drop: swaks $E2E_SMTP_RC in ${E2E_SMTP_MS} ms, line '$line'"
done
for a in 198.51.100.41 2001:db8:c::13; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept dnsbl pass "IPv$fam dnsbl=log: listed client accepted, reason names dnsbl"
done
for a in 198.51.100.15 2001:db8:c::15; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept - pass "IPv$fam fcrdns=off: FCrDNS failure accepted" &&
		{ e2e_reason_has "$E2E_LINE" fcrdns && e2e_not_ok "IPv$fam fcrdns=off still names fcrdns: $E2E_LINE" ||
			e2e_ok "IPv$fam fcrdns=off: reason=$(e2e_field "$E2E_LINE" reason) has no fcrdns"; }
done
e2e_stop TERM

# Config C: no_ptr=off: a client without PTR passes, the finding is not named.
conf=$(e2e_conf actions-c gate.no_ptr=off)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 203.0.113.33 2001:db8:c::42; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept - pass "IPv$fam no_ptr=off: client without PTR accepted" &&
		{ e2e_reason_has "$E2E_LINE" no-ptr && e2e_not_ok "IPv$fam no_ptr=off still names no-ptr: $E2E_LINE" ||
			e2e_ok "IPv$fam no_ptr=off: reason=$(e2e_field "$E2E_LINE" reason)"; }
done
e2e_finish
