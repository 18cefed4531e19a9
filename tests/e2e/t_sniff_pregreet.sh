#!/bin/bash
# t_sniff_pregreet.sh BUILD_DIR - pregreet, judged without delaying anyone,
# through the kernel: the ruleset puts what the server had sent when a
# client packet came (conntrack's reply-direction count) into its packet
# mark, and the sniffer judges a session whose first bytes came while the
# server had sent nothing but its SYN-ACK.
#   - a client that sends EHLO at once after connecting, before the banner,
#     is a pregreeter (IPv4 and IPv6); the same client waiting for the
#     banner is clean.  The MTA on port 2525 (gated here) is smtp-sink
#     with a banner held 1 s (-W connect:1), so the order is certain; the
#     world's own smtp-sink on port 25 answers at once;
#   - smtp-source (one session per message, against both MTAs) and a real
#     Postfix instance as the sending MTA (tests/e2e/lib/pfclient.sh; it
#     pipelines MAIL, RCPT and DATA after EHLO's reply, as smtp-sink offers
#     PIPELINING) are never judged pregreeters, nor pipelining;
#   - on the server's path the table has only chain sniff_out (hook
#     output), whose two rules copy the SYN-ACK and the banner to the
#     sniffer (nft log group: nfnetlink_log, no verdict; the round-trip
#     part of pregreet, t_sniff_pregreet_rtt.sh) and do nothing else: no
#     packet of the server, the banner among them, is queued or held.
WORLD_PREFIX=${WORLD_PREFIX:-sgpg$$}
. "$(dirname "$0")/lib/e2e.sh"
. "$(dirname "$0")/lib/pfclient.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf pregreet "gate.ports=25 2525" sniffer.offender_strikes=1000 \
	sniffer.pregreet=offend sniffer.pipelining=offend)
e2e_sniff_start "$conf" || e2e_finish
world_bg sink-slow4 smtp-sink -u nobody -W connect:1 -4 0.0.0.0:2525 64
world_bg sink-slow6 smtp-sink -u nobody -W connect:1 -6 '[::]:2525' 64
sleep 0.5
greet() { world_cl python3 "$WORLD_TOOLS/smtpgreet.py" "$@" >>"$WORLD_DIR/smtpgreet.log" 2>&1; }

# judged DESC ADDR PORT MODE HELO: one session, then a pregreet judgment.
judged() {
	local desc=$1 addr=$2 port=$3 mode=$4 helo=$5 line dst=$WORLD_GW4
	world_is_v6 "$addr" && dst=$WORLD_GW6
	e2e_mark
	greet --src "$addr" --dst "$dst" --port "$port" --helo "$helo" "$mode" ||
		e2e_note "$desc: smtpgreet $mode failed (see smtpgreet.log)"
	if ! line=$(e2e_wait_judgment "$addr" pregreet 6); then
		e2e_not_ok "$desc: no pregreet judgment of $addr ($(e2e_judgments "$addr" | tail -1))"
		return
	fi
	grep -qF " server=synack " <<<"$line " ||
		{ e2e_not_ok "$desc: $line lacks server=synack"; return; }
	e2e_ok "$desc (${line#*: })"
}

# quiet DESC ADDR RULES CMD...: CMD, then no judgment of ADDR ("any": of
# anyone) by any of RULES within 2 s.
quiet() {
	local desc=$1 addr=$2 rules=$3 bad= r lines; shift 3
	e2e_mark
	"$@" || e2e_note "$desc: $1 failed"
	sleep 2
	if [ "$addr" = any ]; then
		lines=$(e2e_since | grep -E " (helo|mail) ip=")
	else
		lines=$(e2e_judgments "$addr")
	fi
	for r in $rules; do
		b=$(printf '%s\n' "$lines" | grep -F " rule=$r " | head -1)
		[ -n "$b" ] && bad=$b
	done
	if [ -n "$bad" ]; then
		e2e_not_ok "$desc: ${bad#*: }"
	else
		e2e_ok "$desc"
	fi
}

judged "v4: EHLO before the banner" 198.51.100.20 2525 pregreet mail20.clean.test
judged "v6: EHLO before the banner" 2001:db8:c::21 2525 pregreet mail6-21.clean.test
quiet "v4: the same client waiting for the banner is clean" 198.51.100.21 "pregreet pipelining" \
	greet --src 198.51.100.21 --dst "$WORLD_GW4" --port 2525 --helo mail21.clean.test wait
quiet "v6: the same client waiting for the banner is clean" 2001:db8:c::22 "pregreet pipelining" \
	greet --src 2001:db8:c::22 --dst "$WORLD_GW6" --port 2525 --helo mail6-22.clean.test wait
quiet "v4: waiting for a banner sent at once is clean" 198.51.100.21 "pregreet pipelining" \
	greet --src 198.51.100.21 --dst "$WORLD_GW4" --port 25 --helo mail21.clean.test wait
quiet "v4: pipelining after EHLO's reply is no pregreet" 198.51.100.21 "pregreet pipelining" \
	greet --src 198.51.100.21 --dst "$WORLD_GW4" --port 25 --helo mail21.clean.test pipe-reply
# smtp-source cannot bind: the route to the gateway picks its address (the
# world's link address is trusted, and trusted clients are not read).
world_cl ip route replace "$WORLD_GW4/32" dev "${WORLD_PREFIX:0:11}-c" src 198.51.100.27 ||
	e2e_not_ok "cannot set source 198.51.100.27 for smtp-source"
source_run() {
	world_cl smtp-source -m "$1" -s 4 -l 100 -M mail27.clean.test -f sender@example.test \
		-t postmaster@example.test "$WORLD_GW4:$2" >/dev/null 2>>"$WORLD_DIR/smtp-source.err"
}
h0=$(e2e_ctl stats | tr ' ' '\n' | sed -n 's/^helos=//p')
quiet "smtp-source (20 sessions, banner at once) is never a pregreeter" 198.51.100.27 "pregreet pipelining" \
	source_run 20 25
quiet "smtp-source (4 sessions, banner held 1 s) is never a pregreeter" 198.51.100.27 "pregreet pipelining" \
	source_run 4 2525
h1=$(e2e_ctl stats | tr ' ' '\n' | sed -n 's/^helos=//p')
[ $((h1 - h0)) -ge 24 ] && e2e_ok "the sniffer read smtp-source's sessions ($((h1 - h0)) HELOs)" ||
	e2e_not_ok "the sniffer read $((h1 - h0)) HELOs of smtp-source's 24 sessions"
world_cl ip route del "$WORLD_GW4/32" 2>/dev/null

# A real Postfix as the sending MTA: waits for the banner, pipelines after
# EHLO's reply.
if ! pfc_start 198.51.100.26; then
	e2e_not_ok "client Postfix did not start: $(tail -5 "$PFC_DIR/maillog" "$PFC_DIR/setup.log" 2>/dev/null | tr '\n' ' ')"
else
	e2e_mark
	pfc_send "pregreet test $$" || e2e_not_ok "could not hand the message to the client Postfix"
	if world_wait_log "$PFC_DIR/maillog" "status=sent" 60; then
		sleep 1
		bad=$(e2e_judgments 198.51.100.26 | grep -E " rule=(pregreet|pipelining) " | head -1)
		seen=$(e2e_ctl stats | tr ' ' '\n' | grep -E '^(helos|mails)=' | tr '\n' ' ')
		if [ -n "$bad" ]; then
			e2e_not_ok "Postfix as the sending MTA: ${bad#*: }"
		else
			e2e_ok "Postfix as the sending MTA (pipelining after EHLO) is never a pregreeter ($(grep -m1 -o 'status=sent.*' "$PFC_DIR/maillog"); sniffer $seen)"
		fi
	else
		e2e_not_ok "Postfix did not deliver within 60 s: $(grep -E 'status=' "$PFC_DIR/maillog" | tail -2 | tr '\n' ' ')"
	fi
	pfc_stop
fi

hooks=$(world_gw nft list table inet "$WORLD_TABLE" 2>/dev/null | grep -oE 'hook [a-z]+' | sort -u | tr '\n' ' ')
outrules=$(world_gw nft list chain inet "$WORLD_TABLE" sniff_out 2>/dev/null | grep -F '@gated_ports')
case $hooks in
*postrouting*) e2e_not_ok "the table has a postrouting chain: $hooks" ;;
*output*)
	if [ "$(grep -c ' log group ' <<<"$outrules")" -ne 2 ] ||
	    grep -qE ' queue (num|to)| (drop|reject|accept|jump|goto)\b|mark set' <<<"$outrules"; then
		e2e_not_ok "chain sniff_out holds more than two copies: $outrules"
	else
		e2e_ok "the output path holds only copies (log group), so the banner is never held or delayed (hooks: $hooks)"
	fi ;;
*) e2e_not_ok "no chain sniff_out on the output path with pregreet on (hooks: $hooks)" ;;
esac
st=$(e2e_ctl stats | tr ' ' '\n' | grep -E '^(pregreets|protocol|queued)=' | tr '\n' ' ')
e2e_note "sniffer: $st"
e2e_check "sniffer still running" e2e_alive
e2e_finish
