#!/bin/bash
# t_sniff_hold_full.sh BUILD_DIR - [sniffer] banner_hold_ms when the hold
# set is full: the hold fails open.  hold4 has room for one element
# (nft.offend_size=1, the size of hold4/6), taken by hand:
#   - a first-time generic client (198.51.100.36) whose gate verdict
#     rested on weak evidence finds no room: its banner comes at once,
#     unheld, its mail is delivered, and smtpgated counts the refused
#     element (nft_full) and says so in its log;
#   - the element taken away (a delete in a transaction frees its room at
#     once), the next such client (198.51.100.35) is held again.
# A set's room is what counts, not what a listing shows: an element the
# hold rule deletes with the banner it holds still takes its room until
# it expires (5 s; measured on Debian 12's kernel), which is why the room
# here is taken by hand and not by a client.
WORLD_PREFIX=${WORLD_PREFIX:-sghf$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"

HOLD_MS=1500
conf=$(e2e_sniff_conf hold-full gate.generic_ptr=log \
	sniffer.banner_hold_ms=$HOLD_MS sniffer.offender_strikes=1000 \
	nft.offend_size=1)
e2e_start "$conf" || e2e_finish
GATE_PID=$E2E_PID GATE_LOG=$E2E_LOG
e2e_sniff_run "$conf" || e2e_finish
SNIFF_PID=$E2E_PID SNIFF_LOG=$E2E_LOG
E2E_PID=$GATE_PID E2E_LOG=$GATE_LOG

if world_gw nft add element inet "$WORLD_TABLE" hold4 "{ 192.0.2.250 timeout 60s }"; then
	e2e_ok "hold4's one element taken by hand"
else
	e2e_not_ok "could not take hold4's room by hand"
	e2e_finish
fi
world_gw nft add element inet "$WORLD_TABLE" hold4 "{ 192.0.2.251 timeout 60s }" 2>/dev/null &&
	e2e_not_ok "hold4 took a second element: its size is not 1" ||
	e2e_ok "hold4 is full: a second element refused by the kernel"

full0=$(e2e_field "$(e2e_stats)" nft_full)
e2e_mark
ms=$(e2e_banner_ms 198.51.100.36)
if [ -n "$ms" ] && [ "${ms%.*}" -lt 200 ]; then
	e2e_ok "the set full: a first-time generic client's banner after $ms ms, not held"
else
	e2e_not_ok "the set full: banner after ${ms:-?} ms, want < 200 (not held)"
fi
full1=$(e2e_field "$(e2e_stats)" nft_full)
[ $(( ${full1:-0} - ${full0:-0} )) -ge 1 ] &&
	e2e_ok "its hold4 element refused and counted (nft_full $full0 -> $full1)" ||
	e2e_not_ok "nft_full ${full0:-?} -> ${full1:-?}, want one more"
e2e_check "smtpgated says hold4 is full" grep -q "set hold4 of table inet $WORLD_TABLE is full" "$GATE_LOG"
world_set_has pass4 198.51.100.36 && e2e_ok "its verdict is cached all the same (pass4)" ||
	e2e_not_ok "198.51.100.36 not in pass4"
if world_smtp 198.51.100.36 --helo mail36.example.net; then
	e2e_ok "its mail is delivered"
else
	e2e_not_ok "198.51.100.36's mail was not delivered (see swaks.log)"
fi

world_gw nft delete element inet "$WORLD_TABLE" hold4 "{ 192.0.2.250 }"
ms=$(e2e_banner_ms 198.51.100.35)
if [ -n "$ms" ] && [ "${ms%.*}" -ge $((HOLD_MS * 9 / 10)) ] && [ "${ms%.*}" -le $((HOLD_MS + 500)) ]; then
	e2e_ok "the room given back: the next first-time generic client is held ($ms ms)"
else
	e2e_not_ok "the room given back: banner after ${ms:-?} ms, want about $HOLD_MS"
fi

E2E_PID=$SNIFF_PID E2E_LOG=$SNIFF_LOG
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG"; then
	e2e_not_ok "sanitizer report in the sniffer's log"
	grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error' "$SNIFF_LOG" | head -30 | sed 's/^/#   /'
fi
world_stop "$SNIFF_PID" TERM
E2E_PID=$GATE_PID E2E_LOG=$GATE_LOG
e2e_check "smtpgated still running" e2e_alive
e2e_finish
