#!/bin/bash
# t_sniff_protocol.sh BUILD_DIR - the passive protocol tests through the
# kernel, each caught and each with a clean twin (tests/tools/smtpgreet.py
# writes one segment per write), over IPv4 and IPv6:
#   - pipelining right after the banner (NOOP and EHLO in one segment),
#     before the reply to EHLO (EHLO and MAIL FROM in one segment; MAIL
#     FROM in a segment of its own while smtp-sink on port 2526, gated
#     here, holds EHLO's reply 1 s) and after HELO (whose reply offers no
#     PIPELINING); the twins pipeline after EHLO's reply, wait for the
#     slow reply, or wait for each reply after HELO;
#   - an HTTP GET and a proxy's CONNECT as the first command (non-smtp);
#     the twin says EHLO;
#   - a command ended by a bare LF (bare-lf); the twin ends it in CR LF.
# The world's smtp-sink on port 25 sends its banner at once and offers
# PIPELINING.  offender_strikes is high: bans are t_sniff_bans.sh's.
WORLD_PREFIX=${WORLD_PREFIX:-sgpr$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf protocol "gate.ports=25 2526" sniffer.offender_strikes=1000 \
	sniffer.pregreet=offend sniffer.pipelining=offend sniffer.non_smtp=offend \
	sniffer.bare_lf=offend)
e2e_sniff_start "$conf" || e2e_finish
world_bg sink-slowehlo4 smtp-sink -u nobody -W ehlo:1 -4 0.0.0.0:2526 64
world_bg sink-slowehlo6 smtp-sink -u nobody -W ehlo:1 -6 '[::]:2526' 64
sleep 0.5
greet() { world_cl python3 "$WORLD_TOOLS/smtpgreet.py" "$@" >>"$WORLD_DIR/smtpgreet.log" 2>&1; }
dst_of() { if world_is_v6 "$1"; then echo "$WORLD_GW6"; else echo "$WORLD_GW4"; fi; }

# caught DESC ADDR HELO MODE RULE [FIELD=VALUE]: one session (to port
# $PORT, default 25), then a judgment of ADDR by RULE (with FIELD=VALUE
# when given).
caught() {
	local desc=$1 addr=$2 helo=$3 mode=$4 rule=$5 want=${6:-} line
	e2e_mark
	greet --src "$addr" --dst "$(dst_of "$addr")" --port "${PORT:-25}" --helo "$helo" "$mode" ||
		e2e_note "$desc: smtpgreet $mode failed (see smtpgreet.log)"
	if ! line=$(e2e_wait_judgment "$addr" "$rule" 6); then
		e2e_not_ok "$desc: no $rule judgment of $addr ($(e2e_judgments "$addr" | tail -1))"
		return
	fi
	if [ -n "$want" ] && ! grep -qF -- " $want " <<<"$line "; then
		e2e_not_ok "$desc: $line lacks $want"
		return
	fi
	e2e_ok "$desc (${line#*: })"
}

# twin DESC ADDR HELO MODE: one session, then no judgment of ADDR by any
# of the protocol rules within 2 s.
twin() {
	local desc=$1 addr=$2 helo=$3 mode=$4 bad
	e2e_mark
	greet --src "$addr" --dst "$(dst_of "$addr")" --port "${PORT:-25}" --helo "$helo" "$mode" ||
		e2e_note "$desc: smtpgreet $mode failed (see smtpgreet.log)"
	sleep 2
	bad=$(e2e_judgments "$addr" | grep -E " rule=(pregreet|pipelining|non-smtp|bare-lf) " | head -1)
	if [ -n "$bad" ]; then
		e2e_not_ok "quiet twin: $desc: ${bad#*: }"
	else
		e2e_ok "quiet twin: $desc"
	fi
}

for fam in 4 6; do
	if [ $fam = 4 ]; then a=198.51.100.20 b=198.51.100.21 ha=mail20.clean.test hb=mail21.clean.test
	else a=2001:db8:c::21 b=2001:db8:c::22 ha=mail6-21.clean.test hb=mail6-22.clean.test; fi
	caught "v$fam: NOOP and EHLO in one segment after the banner" $a $ha pipe-banner pipelining after=banner
	caught "v$fam: EHLO and MAIL FROM in one segment" $a $ha pipe-ehlo pipelining after=ehlo
	PORT=2526 caught "v$fam: MAIL FROM in its own segment before EHLO's (slow) reply" $a $ha pipe-early pipelining after=ehlo
	PORT=2526 twin "v$fam: waiting for EHLO's slow reply" $b $hb wait
	twin "v$fam: MAIL, RCPT, RSET pipelined after EHLO's reply" $b $hb pipe-reply
	caught "v$fam: MAIL and RCPT pipelined after HELO" $a $ha helo-pipe pipelining after=helo
	twin "v$fam: HELO, then a reply for every command" $b $hb helo-wait
	caught "v$fam: an HTTP GET" $a $ha http non-smtp command=GET
	caught "v$fam: a proxy's CONNECT" $a $ha connect non-smtp command=CONNECT
	twin "v$fam: EHLO after the banner" $b $hb wait
	caught "v$fam: a bare LF" $a $ha bare-lf bare-lf
done
st=$(e2e_ctl stats | tr ' ' '\n' | grep -E '^(pregreets|protocol|queued)=' | tr '\n' ' ')
e2e_note "sniffer: $st"
e2e_check "sniffer still running" e2e_alive
e2e_finish
