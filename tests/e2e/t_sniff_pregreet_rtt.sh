#!/bin/bash
# t_sniff_pregreet_rtt.sh BUILD_DIR - the round-trip part of pregreet,
# through the kernel, over a slow link.  The test world's veth round trip
# is tens of microseconds and there is no tc netem, so nfdelay
# (tests/tools/nfdelay.c) holds every packet the client receives from the
# gateway's port 25 for $RTT_MS ms: an xtables NFQUEUE rule in the CLIENT's
# namespace only (nothing on the gateway is queued or held), so each round
# trip through the client takes ~$RTT_MS ms.  The gateway's ruleset copies
# (nft log group, nfnetlink_log) each session's SYN-ACK and handshake ACK
# to the sniffer, which times the round trip and reads the server's ISN:
#   - a bot that sends EHLO 30 ms after connect() returned, without
#     reading the banner: after the banner left the server (the order test
#     says nothing), before it can have reached the client: pregreet, its
#     log line naming why (ack: its segment acknowledged none of the
#     banner) and the round trip measured (rtt_ms about $RTT_MS);
#   - a bot that does the same but forges its acknowledgment number
#     (tests/tools/nfackforge.c adds the banner's length to the ACK number
#     of its first data segment, so it claims a banner it had not
#     received): only the timing can tell, why=rtt;
#   - the same client waiting for the banner is clean, and so are swaks
#     and smtp-source over the same slow link;
#   (EHLO at once on the world's own fast link, with a banner sent at once,
#   is no case here: whether the banner reached the client before its
#   EHLO left is a race of some microseconds, and a client that had it is
#   no pregreeter; test_sniff_rtt.c judges the sessions whose data comes
#   before their copies.)
#   - the copies are counted, and the table's output chain holds only log
#     rules (copies): no packet of the server is queued or held.
WORLD_PREFIX=${WORLD_PREFIX:-sgpr$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

RTT_MS=${RTT_MS:-150}
DELAY_QUEUE=7
[ -x "$E2E_BUILD/tests/tools/nfdelay" ] || e2e_skip "$E2E_BUILD/tests/tools/nfdelay not built"
[ -x "$E2E_BUILD/tests/tools/nfackforge" ] || e2e_skip "$E2E_BUILD/tests/tools/nfackforge not built"
command -v iptables-nft >/dev/null || e2e_skip "no iptables-nft for the client's delay"

conf=$(e2e_sniff_conf pregreet-rtt sniffer.offender_strikes=1000 \
	sniffer.pregreet=offend sniffer.pipelining=offend)
e2e_sniff_start "$conf" || e2e_finish

# The slow link: the client's inbound packets from the gateway's port 25.
world_bg_cl nfdelay "$E2E_BUILD/tests/tools/nfdelay" "$DELAY_QUEUE" "$RTT_MS"
delay_pid=$WORLD_BG_PID
world_wait_log "$WORLD_DIR/nfdelay.log" "ready" 5 ||
	{ e2e_not_ok "nfdelay did not start: $(tail -2 "$WORLD_DIR/nfdelay.log")"; e2e_finish; }
world_cl iptables-nft -I INPUT -p tcp -s "$WORLD_GW4" --sport 25 -j NFQUEUE \
	--queue-num "$DELAY_QUEUE" --queue-bypass ||
	{ e2e_not_ok "cannot queue the client's inbound packets"; e2e_finish; }
greet() { world_cl python3 "$WORLD_TOOLS/smtpgreet.py" "$@" >>"$WORLD_DIR/smtpgreet.log" 2>&1; }

# The delay is there: connect() to the banner takes about 2 x RTT_MS.
ms=$(e2e_banner_ms 198.51.100.24)
if [ -n "$ms" ] && [ "${ms%.*}" -ge $((RTT_MS * 9 / 10)) ]; then
	e2e_ok "the slow link: connect() to the banner's first byte ${ms} ms (delay ${RTT_MS} ms inbound)"
else
	e2e_not_ok "the slow link: connect() to the banner ${ms:-?} ms, want >= $((RTT_MS * 9 / 10))"
fi

# judged DESC ADDR WHY CMD...: CMD, then a pregreet judgment of ADDR whose
# line says why=WHY and the round trip measured.
judged() {
	local desc=$1 addr=$2 why=$3 line rtt; shift 3
	e2e_mark
	"$@" || e2e_note "$desc: $1 failed (see smtpgreet.log)"
	if ! line=$(e2e_wait_judgment "$addr" pregreet 6); then
		e2e_not_ok "$desc: no pregreet judgment of $addr ($(e2e_judgments "$addr" | tail -1))"
		return
	fi
	grep -qF " why=$why " <<<"$line " ||
		{ e2e_not_ok "$desc: $line lacks why=$why"; return; }
	rtt=$(sed -n 's/.* rtt_ms=\([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$rtt" ] || [ "$rtt" -lt $((RTT_MS * 3 / 4)) ] || [ "$rtt" -gt $((RTT_MS * 2)) ]; then
		e2e_not_ok "$desc: round trip ${rtt:-not} measured, want about $RTT_MS ms ($line)"
		return
	fi
	e2e_ok "$desc (${line#*: })"
}

# quiet DESC ADDR CMD...: CMD, then no pregreet or pipelining judgment of
# ADDR within 2 s.
quiet() {
	local desc=$1 addr=$2 bad; shift 2
	e2e_mark
	"$@" || e2e_note "$desc: $1 failed"
	sleep 2
	bad=$(e2e_judgments "$addr" | grep -E " rule=(pregreet|pipelining) " | head -1)
	if [ -n "$bad" ]; then
		e2e_not_ok "$desc: ${bad#*: }"
	else
		e2e_ok "$desc"
	fi
}

judged "EHLO 30 ms after connecting, before the banner can have arrived" 198.51.100.22 ack \
	greet --src 198.51.100.22 --dst "$WORLD_GW4" --helo mail22.clean.test early 30
quiet "the same client waiting for the banner is clean" 198.51.100.23 \
	greet --src 198.51.100.23 --dst "$WORLD_GW4" --helo mail23.clean.test wait
quiet "swaks over the slow link is clean" 198.51.100.25 \
	world_smtp 198.51.100.25 --helo mail25.clean.test
# smtp-source cannot bind: the route to the gateway picks its address.
world_cl ip route replace "$WORLD_GW4/32" dev "${WORLD_PREFIX:0:11}-c" src 198.51.100.27 ||
	e2e_not_ok "cannot set source 198.51.100.27 for smtp-source"
quiet "smtp-source (8 sessions, 2 at once) over the slow link is clean" 198.51.100.27 \
	world_cl smtp-source -m 8 -s 2 -l 100 -M mail27.clean.test -f sender@example.test \
	-t postmaster@example.test "$WORLD_GW4:25"
world_cl ip route del "$WORLD_GW4/32" 2>/dev/null
judged "the bot again, after the clean ones" 198.51.100.22 ack \
	greet --src 198.51.100.22 --dst "$WORLD_GW4" --helo mail22.clean.test early 30

# IPv6 (not delayed: the delay is an IPv4 rule): the same copies, a
# clean session: its two copies, no finding.
c0=$(e2e_ctl stats | tr ' ' '\n' | sed -n 's/^rtt_copies=//p')
quiet "v6: waiting for the banner on the fast link is clean" 2001:db8:c::22 \
	greet --src 2001:db8:c::22 --dst "$WORLD_GW6" --helo mail6-22.clean.test wait
c1=$(e2e_ctl stats | tr ' ' '\n' | sed -n 's/^rtt_copies=//p')
[ $(( ${c1:-0} - ${c0:-0} )) -ge 2 ] && e2e_ok "v6: the session's SYN-ACK and ACK were copied ($(( c1 - c0 )) copies)" ||
	e2e_not_ok "v6: $(( ${c1:-0} - ${c0:-0} )) copies of the session, want 2"

# The forger: the banner's length first (a connection that reads it and
# says nothing), then its first data segments' ACK numbers moved past it.
FORGE_QUEUE=8
blen=$(world_cl python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 25), 10, (sys.argv[2], 0))
b = b""
while not b.endswith(b"\n"):
    b += s.recv(512)
print(len(b))' "$WORLD_GW4" 198.51.100.26)
if [ -z "$blen" ]; then
	e2e_not_ok "the forger: cannot read the banner's length"
else
	world_bg_cl nfackforge "$E2E_BUILD/tests/tools/nfackforge" "$FORGE_QUEUE" "$blen"
	forge_pid=$WORLD_BG_PID
	if world_wait_log "$WORLD_DIR/nfackforge.log" "ready" 5 &&
	    world_cl iptables-nft -I OUTPUT -p tcp -s 198.51.100.26 -d "$WORLD_GW4" --dport 25 \
		-j NFQUEUE --queue-num "$FORGE_QUEUE" --queue-bypass; then
		judged "EHLO 30 ms after connecting, acknowledging a banner it had not ($blen bytes)" \
			198.51.100.26 rtt greet --src 198.51.100.26 --dst "$WORLD_GW4" --helo mail26.clean.test early 30
		world_cl iptables-nft -D OUTPUT -p tcp -s 198.51.100.26 -d "$WORLD_GW4" --dport 25 \
			-j NFQUEUE --queue-num "$FORGE_QUEUE" --queue-bypass 2>/dev/null
		e2e_note "nfackforge: $(grep -m1 ' -> ' "$WORLD_DIR/nfackforge.log")"
	else
		e2e_not_ok "the forger did not start: $(tail -2 "$WORLD_DIR/nfackforge.log")"
	fi
	world_stop "$forge_pid"
fi

st=$(e2e_ctl stats | tr ' ' '\n' | grep -E '^(rtt_on|rtt_copies|rtt_missing|rtt_waited|rtt_malformed|rtt_lost|pregreets|pregreet_ack|pregreet_rtt)=' | tr '\n' ' ')
copies=$(sed -n 's/.*rtt_copies=\([0-9]*\).*/\1/p' <<<"$st")
case "$st" in
*rtt_on=1*) [ "${copies:-0}" -ge 20 ] && e2e_ok "the copies reached the sniffer ($st)" ||
	e2e_not_ok "too few copies: $st" ;;
*) e2e_not_ok "the round-trip test is off: $st $(grep -m1 "round-trip" "$E2E_LOG")" ;;
esac

# The server's side: only copies.  The output chain's rules log, nothing
# else; no postrouting chain.
out=$(world_gw nft list chain inet "$WORLD_TABLE" sniff_out 2>/dev/null)
rules=$(grep -E 'sport @gated_ports' <<<"$out")
if ! grep -q 'hook output' <<<"$out" || [ "$(grep -c 'log group' <<<"$rules")" -ne 2 ]; then
	e2e_not_ok "chain sniff_out: want two log rules on the output hook: $out"
elif grep -qE ' queue (num|to)| (drop|reject|accept|jump|goto)\b|mark set' <<<"$rules"; then
	e2e_not_ok "chain sniff_out holds more than copies: $rules"
elif world_gw nft list table inet "$WORLD_TABLE" | grep -q 'hook postrouting'; then
	e2e_not_ok "the table has a postrouting chain"
else
	e2e_ok "the server's path meets only copies (log group), never a queue: the banner is never held"
fi

world_cl iptables-nft -D INPUT -p tcp -s "$WORLD_GW4" --sport 25 -j NFQUEUE \
	--queue-num "$DELAY_QUEUE" --queue-bypass 2>/dev/null
world_stop "$delay_pid"
e2e_note "nfdelay: $(tail -1 "$WORLD_DIR/nfdelay.log")"
e2e_check "sniffer still running" e2e_alive
e2e_finish
