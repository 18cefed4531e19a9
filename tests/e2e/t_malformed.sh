#!/bin/bash
# t_malformed.sh BUILD_DIR - odd and malformed SYNs in the queue: IPv4 with
# IP options, IPv6 with hop-by-hop / destination-options / fragment
# headers, TCP headers with impossible data offsets, cut short, with bad
# options, payload or SYN+FIN (tests/tools/rawsyn.py, raw sockets in the
# client namespace).  The daemon must survive, keep verdicting, and show
# no sanitizer report.  Which odd packets got a verdict is reported.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_conf malformed)
e2e_start "$conf" || e2e_finish
e2e_mark

out=$(world_cl /usr/bin/python3 "$WORLD_TOOLS/rawsyn.py" 203.0.113.2 "$WORLD_GW4" 2001:db8:c:: "$WORLD_GW6")
sent=$(printf '%s\n' "$out" | grep -c ' sent$')
[ "$sent" -gt 0 ] && e2e_ok "sent $sent odd SYNs" || e2e_not_ok "rawsyn.py sent nothing: $out"
# Again, a few times, while the first lot is still under lookup.
for i in 1 2 3; do
	world_cl /usr/bin/python3 "$WORLD_TOOLS/rawsyn.py" 203.0.113.2 "$WORLD_GW4" 2001:db8:c:: "$WORLD_GW6" >/dev/null
done
sleep 3
e2e_check "smtpgated survived the odd SYNs" e2e_alive

# Which cases were queued and verdicted (informative; the plain ones must be).
while read -r name src _; do
	line=$(e2e_verdict_lines "$src" | head -1)
	if [ -n "$line" ]; then
		e2e_note "$name ($src): verdict=$(e2e_field "$line" verdict) reason=$(e2e_field "$line" reason) syns=$(e2e_field "$line" syns)"
	else
		e2e_note "$name ($src): no verdict (not queued by the ruleset, or dropped by the parser)"
	fi
done <<<"$out"
for c in v4-ok-mss v6-ok-plain v4-ip-options-nop v6-hbh-destopts; do
	src=$(printf '%s\n' "$out" | awk -v c="$c" '$1 == c { print $2 }')
	line=$(e2e_verdict_lines "$src" | head -1)
	e2e_has "$line" verdict reject && e2e_reason_has "$line" no-ptr &&
		e2e_ok "$c from $src: verdict=reject reason=no-ptr" ||
		e2e_not_ok "$c from $src: got '$line', want verdict=reject reason=no-ptr"
done
st=$(e2e_stats) && e2e_note "after the odd SYNs: $(printf '%s' "$st" | tr ' ' '\n' |
	grep -E '^(queued|verdicts|malformed|not_syn|verdict_errors|pending)=' | tr '\n' ' ')"
if e2e_since | grep -Eiq 'abort|assert|panic'; then
	e2e_not_ok "log mentions abort/assert/panic: $(e2e_since | grep -Ei 'abort|assert|panic' | head -2)"
fi

# Ordinary clients are still judged correctly afterwards.
e2e_expect 198.51.100.21 ok accept ok pass "after the odd SYNs: IPv4 clean client accepted"
e2e_expect 2001:db8:c::20 ok accept ok pass "after the odd SYNs: IPv6 clean client accepted"
e2e_expect 198.51.100.12 fail reject generic-ptr deny "after the odd SYNs: IPv4 generic client rejected"
e2e_expect 2001:db8:c::11 fail reject no-ptr deny "after the odd SYNs: IPv6 no-PTR client rejected"
e2e_finish
