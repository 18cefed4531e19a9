#!/bin/bash
# t_sniff_trickle.sh BUILD_DIR - the sniffer's evasions of issue 8, each
# judged now, over IPv4 and IPv6, through the kernel:
#   - an EHLO one byte per segment, longer than the sniffer's window
#     (trickle, lack=greeting; seen at the window's last packet);
#   - the same with two duplicate ACKs after each byte (not queued: the
#     sniffer's own count falls short, conntrack's does not);
#   - NOOP, RSET, or junk and an empty line before EHLO (read past: the
#     EHLO is judged);
#   - 64 NOOPs before EHLO in one segment (trickle, lack=greeting);
#   - a segment out of order, then the gap filled (the EHLO is judged);
#   - overlapping retransmissions (the EHLO is judged);
#   - the tail of the EHLO sent first (trickle, lack=bytes);
#   - a gap never filled, then FIN (trickle, lack=bytes);
# and normal clients (swaks, pipelining, a long body, a trickled short
# HELO that completes, a split one, STARTTLS) are never judged trickle.  The raw modes of
# tests/tools/smtpraw.py write their own TCP segments.
WORLD_PREFIX=${WORLD_PREFIX:-sgtr$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf trickle sniffer.offender_strikes=1000)
e2e_sniff_start "$conf" || e2e_finish
raw() { world_cl python3 "$WORLD_TOOLS/smtpraw.py" "$@"; }

# judged DESC ADDR RULE [FIELD=VALUE] -- SMTPRAW ARGS: one session, then a
# judgment of ADDR by RULE (with FIELD=VALUE when given) within 8 s.
judged() {
	local desc=$1 addr=$2 rule=$3 want=${4:-} line dst=$WORLD_GW4
	shift 4
	world_is_v6 "$addr" && dst=$WORLD_GW6
	e2e_mark
	raw --src "$addr" --dst "$dst" "$@" >>"$WORLD_DIR/smtpraw.log" 2>&1
	if ! line=$(e2e_wait_judgment "$addr" "$rule" 8); then
		e2e_not_ok "$desc: no $rule judgment of $addr ($(e2e_judgments "$addr" | tail -1))"
		return 1
	fi
	if [ -n "$want" ] && ! grep -qF -- " $want " <<<"$line "; then
		e2e_not_ok "$desc: $line lacks $want"
		return 1
	fi
	e2e_ok "$desc (${line#*: })"
}

for fam in 4 6; do
	if [ $fam = 4 ]; then n() { echo "198.51.100.$1"; }; else n() { echo "2001:db8:c::$1"; }; fi
	judged "v$fam: EHLO one byte per segment past the window" "$(n 71)" trickle lack=greeting -- trickle-long
	judged "v$fam: bytes with duplicate ACKs past the window (conntrack's count)" "$(n 72)" trickle lack=greeting -- raw-trickle-acks
	judged "v$fam: NOOP before EHLO is read past" "$(n 73)" unqualified "" -- noop-first
	judged "v$fam: RSET before EHLO is read past" "$(n 74)" unqualified "" -- rset-first
	judged "v$fam: junk and an empty line before EHLO are read past" "$(n 75)" unqualified "" -- junk-first
	judged "v$fam: 64 NOOPs before EHLO" "$(n 76)" trickle lack=greeting -- noop-pad
	judged "v$fam: out of order, then filled: the EHLO is judged" "$(n 77)" unqualified "" -- raw-ooo-filled
	judged "v$fam: overlapping retransmissions: the EHLO is judged" "$(n 78)" unqualified "" -- raw-overlap
	judged "v$fam: the tail of the EHLO first" "$(n 79)" trickle lack=bytes -- raw-tail-first
	judged "v$fam: a gap never filled, then FIN" "$(n 80)" trickle lack=bytes -- raw-gap
done

# Normal clients: never a trickle finding.
e2e_mark
world_smtp 198.51.100.10 --helo mail.clean.test
world_smtp 2001:db8:c::10 --helo mail6.clean.test
world_smtp 198.51.100.10 --helo mail.clean.test --pipeline
raw --src 198.51.100.81 --dst "$WORLD_GW4" trickle >/dev/null 2>&1
raw --src 2001:db8:c::81 --dst "$WORLD_GW6" split >/dev/null 2>&1
raw --src 198.51.100.82 --dst "$WORLD_GW4" starttls >/dev/null 2>&1
world_smtp 2001:db8:c::10 --helo mail6.clean.test --body "$(head -c 20000 /dev/zero | tr '\0' x | fold -w 70)"
# Long enough for conntrack questions about any that looked short.
sleep 3.5
e2e_check "normal clients: no trickle finding ($(e2e_since | grep -c ' rule=trickle '))" \
	[ -z "$(e2e_since | grep ' rule=trickle ')" ]
e2e_check "a trickled HELO that completes in the window is judged as a HELO" \
	e2e_wait_judgment 198.51.100.81 unqualified 1
stats=$(e2e_ctl stats | tail -1)
e2e_note "$stats"
e2e_check "trickles counted ($(e2e_field "$stats" trickles))" [ "$(e2e_field "$stats" trickles)" -ge 10 ]
e2e_check "no queued packet lost in this run (lost_packets=$(e2e_field "$stats" lost_packets))" \
	[ "$(e2e_field "$stats" lost_packets)" = 0 ]
e2e_check "sniffer alive" e2e_alive
e2e_finish
