#!/bin/bash
# t_sniff_rules.sh BUILD_DIR - every HELO/MAIL FROM rule of smtpgate-sniffd
# fires on a forged session and stays quiet on its legitimate twin, with
# real swaks sessions and the world's DNS (SPF TXT records in records.tsv).
# offender_strikes is high here: bans are t_sniff_bans.sh's business.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf rules sniffer.offender_strikes=1000)
e2e_sniff_start "$conf" || e2e_finish

# forged ADDR RULE ACTION DESCRIPTION [swaks options]: one session, one
# judgment line with RULE and ACTION.
forged() {
	local addr=$1 rule=$2 action=$3 desc=$4 line; shift 4
	e2e_mark
	world_smtp "$addr" "$@"
	if ! line=$(e2e_wait_judgment "$addr" "$rule" 6); then
		e2e_not_ok "$desc: no rule=$rule judgment for $addr ($(e2e_judgments "$addr" | tail -2 | tr '\n' ' '))"
		return
	fi
	if [ "$(e2e_field "$line" action)" != "$action" ]; then
		e2e_not_ok "$desc: got action=$(e2e_field "$line" action), want $action ($line)"
		return
	fi
	e2e_ok "$desc (${line#*: })"
}

# twins: sessions that must draw no judgment with the given rules; all
# sent first, then one wait covers their DNS and SPF answers.
declare -a twin_addr twin_rules twin_desc twin_mark
twin() {
	local addr=$1 rules=$2 desc=$3; shift 3
	twin_mark+=("$(wc -l <"$E2E_LOG")")
	world_smtp "$addr" "$@"
	twin_addr+=("$addr"); twin_rules+=("$rules"); twin_desc+=("$desc")
}

forged 198.51.100.52 unqualified strike "unqualified HELO localhost" --helo localhost
forged 198.51.100.52 unqualified strike "unqualified EHLO WIN-ABC123" --helo WIN-ABC123
forged 198.51.100.53 own-name strike "our own host name" --helo gw.example.test
forged 198.51.100.53 own-address strike "our own address as a literal" --helo '[192.0.2.1]'
forged 198.51.100.53 bare-ip strike "bare IP address" --helo 198.51.100.53
forged 198.51.100.54 address-literal strike "address literal" --helo '[198.51.100.54]'
forged 198.51.100.54 address-literal strike "IPv6 address literal" --helo '[IPv6:2001:db8:c::54]'
forged 198.51.100.54 bad-syntax strike "underscore" --helo mail_server.clean.test
forged 198.51.100.54 provider-domain strike "big provider's domain" --helo gmail.com
forged 198.51.100.50 spf-fail strike "SPF of the HELO fails" --helo mail.spffail.test
forged 198.51.100.55 spf-fail strike "SPF softfail counts as fail" --helo mail.softfail.test
forged 198.51.100.51 spf-ptr-fail strike "SPF of the PTR name fails" --helo helo51.clean.test
forged 198.51.100.53 no-domain strike "registered domain does not exist" --helo mail.nosuchdomain.test
forged 198.51.100.54 helo-no-resolve log "HELO does not resolve (log only)" --helo nohost.clean.test
forged 198.51.100.54 helo-mismatch log "HELO resolves elsewhere (log only)" --helo mail.elsewhere.test
forged 198.51.100.11 no-ptr-far strike "no PTR and far from the HELO" --helo mail.elsewhere.test
forged 198.51.100.52 mail-from-no-domain strike "MAIL FROM domain does not exist" --helo mail52.clean.test --from x@nosuch.test
forged 2001:db8:c::20 unqualified strike "IPv6 client, unqualified" --helo localhost

e2e_mark
twin 198.51.100.10 "" "clean host, HELO with SPF pass" --helo mail.clean.test
twin 198.51.100.52 "" "clean host, its own name with SPF pass (HELO and PTR)" --helo mail52.clean.test
twin 198.51.100.53 "" "clean host, HELO = PTR name" --helo mail53.clean.test
twin 198.51.100.54 "provider-domain no-domain" "a provider's host name, not its domain" --helo mx.gmail.com
twin 198.51.100.11 "no-ptr-far" "no PTR but near the HELO's address" --helo mail20.clean.test
twin 198.51.100.52 "mail-from-no-domain" "MAIL FROM domain exists" --helo mail52.clean.test --from x@example.test
twin 2001:db8:c::20 "" "IPv6 clean host" --helo mail6-20.clean.test
sleep 2
for i in "${!twin_addr[@]}"; do
	a=${twin_addr[$i]} rules=${twin_rules[$i]}
	# Judgments of this address after this twin's session (a later twin
	# of the same address must be quiet as well).
	lines=$(tail -n +"$((twin_mark[$i] + 1))" "$E2E_LOG" | grep -E " (helo|mail) ip=$a ")
	bad=
	if [ -z "$rules" ]; then
		bad=$(printf '%s\n' "$lines" | grep -v '^$' | head -1)
	else
		for r in $rules; do
			b=$(printf '%s\n' "$lines" | grep -F " rule=$r " | head -1)
			[ -n "$b" ] && bad=$b
		done
	fi
	if [ -n "$bad" ]; then
		e2e_not_ok "quiet twin: ${twin_desc[$i]}: ${bad#*: }"
	else
		e2e_ok "quiet twin: ${twin_desc[$i]}"
	fi
done
e2e_check "sniffer still running" e2e_alive
e2e_finish
