#!/bin/bash
# t_reply.sh BUILD_DIR - refusals that say why ([gate] reply = smtp,
# [sniffer] reply = smtp): a refused client's retransmitted SYN is
# redirected by the kernel (nat chain reply, map reply4/reply6) to
# smtpgated's responder, which answers one 554 line naming the reason and
# the admin's URL; later connections are decided in the kernel (no second
# verdict); the sniffer's bans get the offend line, even for a passed
# client; accepts are untouched.  Hostile clients: silent ones and held
# connections (closed at reply_timeout, beyond reply_max_conns reset),
# megabytes (cut after a bounded read), thousands at once (every one
# answered or reset, the cap kept, the gate still verdicting).  With
# smtpgated down the refused client is reset at once (fail open).  With
# reply = reset (the default) there is no nat chain at all.  smtpgatectl
# cache del and cache flush deny|tempfail take a client's map element with
# its verdict (the 554 or 421 kind only); smtpgatectl check says the line.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

RC=$E2E_LIB/replyclient.py
URL=https://mx.example.test/refused
cl() { world_cl python3 "$RC" "$@"; }	# cl MODE SRC ...
gw_of() { world_is_v6 "$1" && echo "$WORLD_GW6" || echo "$WORLD_GW4"; }
stat() { e2e_field "$(e2e_stats)" "$1"; }
# map_has MAP ADDR PORT: the map holds ADDR : PORT.
map_has() {
	world_gw nft list map inet "$WORLD_TABLE" "$1" 2>/dev/null |
		tr -d '\n\t' | tr ',' '\n' | grep -Eq "(^|[{ ])$2 (timeout [^:]*)?: $3( |$|})"
}

conf=$(e2e_conf reply gate.reply=smtp gate.reply_url=$URL gate.reply_max_conns=20 \
	gate.reply_timeout=3 "gate.reply_text_no_ptr=has no PTR record; ask your ISP for one" \
	sniffer.reply=smtp)
e2e_start "$conf" || e2e_finish
e2e_check "responder listening (log)" grep -q 'reply: responder on ports 7025-7040' "$E2E_LOG"
has_chain() { world_gw nft list chain inet "$WORLD_TABLE" "$1" >/dev/null 2>&1; }
e2e_check "nat chain reply installed" has_chain reply

# 1. Rejects answered with their reason: no PTR (port 7026), DNSBL (7025).
check_reply() {	# check_reply ADDR PORT TEXT DESC
	local a=$1 port=$2 text=$3 desc=$4 fam=4 out line want
	world_is_v6 "$a" && fam=6
	e2e_mark
	out=$(cl line "$a" "$(gw_of "$a")" 8)
	want="554 5.7.1 Service unavailable; client [$a] $text; see $URL"
	line=$(e2e_wait_verdict "$a" 3)
	if [ "${out#line * }" = "$want" ]; then
		e2e_ok "IPv$fam $desc: first contact answered in ${out#line } (after the SYN retransmit)"
	else
		e2e_not_ok "IPv$fam $desc: got '$out', want the line '$want'"
	fi
	e2e_has "$line" verdict reject && e2e_ok "IPv$fam $desc: verdict=reject logged" ||
		e2e_not_ok "IPv$fam $desc: verdict line '$line'"
	e2e_check "IPv$fam $desc: $a in deny$fam" world_set_has deny$fam "$a"
	e2e_check "IPv$fam $desc: $a : $port in reply$fam" map_has reply$fam "$a" "$port"
	out=$(cl line "$a" "$(gw_of "$a")" 8)
	ms=${out#line }; ms=${ms%% *}
	[ "${out#line * }" = "$want" ] && [ "$ms" -lt 900 ] &&
		e2e_ok "IPv$fam $desc: second contact answered at once from the kernel's map ($ms ms)" ||
		e2e_not_ok "IPv$fam $desc: second contact got '$out', want the line within 900 ms"
	[ "$(e2e_verdicts "$a")" = 1 ] && e2e_ok "IPv$fam $desc: one verdict line for two contacts" ||
		e2e_not_ok "IPv$fam $desc: $(e2e_verdicts "$a") verdict lines, want 1"
}
check_reply 198.51.100.11 7026 "has no PTR record; ask your ISP for one" "no PTR"
check_reply 2001:db8:c::11 7026 "has no PTR record; ask your ISP for one" "no PTR"
check_reply 198.51.100.13 7025 "is listed in a DNS blocklist" "DNSBL"
check_reply 2001:db8:c::13 7025 "is listed in a DNS blocklist" "DNSBL"

# A real SMTP client reports the line.
world_smtp 198.51.100.11
grep -q "554 5.7.1 Service unavailable; client \[198.51.100.11\] has no PTR record" \
	"$WORLD_DIR/swaks.log" && e2e_ok "swaks reports the 554 line" ||
	e2e_not_ok "swaks log lacks the 554 line: $(tail -5 "$WORLD_DIR/swaks.log" | tr '\n' ' ')"

# 2. Accepts untouched.
e2e_expect 198.51.100.10 ok accept - pass "IPv4 clean client still accepted"
e2e_expect 2001:db8:c::10 ok accept - pass "IPv6 clean client still accepted"

# 3. The sniffer's bans (offend4/6) get the offend line, a passed client too.
for a in 198.51.100.10 2001:db8:c::20; do
	fam=4; world_is_v6 "$a" && fam=6
	world_gw nft add element inet "$WORLD_TABLE" offend$fam "{ $a timeout 60s }"
	out=$(cl line "$a" "$(gw_of "$a")" 8)
	want="554 5.7.1 Service unavailable; client [$a] broke SMTP rules (forged HELO or protocol abuse); see $URL"
	[ "${out#line * }" = "$want" ] && e2e_ok "IPv$fam banned by the sniffer: offend line (${out#line })" ||
		e2e_not_ok "IPv$fam banned client: got '$out', want '$want'"
done

# 4. Hostile clients.  Silent and held: the cap (20) holds, the 21st is
# reset, all are closed by reply_timeout (3 s).
n0=$(stat reply_timeouts)
out=$(cl hold 198.51.100.11 "$WORLD_GW4" 24 5)
e2e_note "24 held connections: $out"
case $out in
"hold lines=20 resets=4 other=0") e2e_ok "held: 20 answered (reply_max_conns), 4 beyond reset" ;;
*) e2e_not_ok "held: got '$out', want lines=20 resets=4 other=0" ;;
esac
s=$(e2e_stats)
[ "$(e2e_field "$s" reply_open_max)" = 20 ] && e2e_ok "never more than 20 connections open (reply_open_max=20)" ||
	e2e_not_ok "reply_open_max=$(e2e_field "$s" reply_open_max), want 20"
[ "$(e2e_field "$s" reply_capped)" -ge 4 ] && e2e_ok "reply_capped=$(e2e_field "$s" reply_capped) counted" ||
	e2e_not_ok "reply_capped=$(e2e_field "$s" reply_capped), want >= 4"
e2e_check "cap streak logged" grep -q 'reply: 20 connections open (reply_max_conns): resetting new ones' "$E2E_LOG"
sleep 1
s=$(e2e_stats)
[ "$(e2e_field "$s" reply_open)" = 0 ] && [ "$(e2e_field "$s" reply_timeouts)" -ge $((n0 + 20)) ] &&
	e2e_ok "silent holders closed at reply_timeout (reply_timeouts=$(e2e_field "$s" reply_timeouts), open=0)" ||
	e2e_not_ok "after reply_timeout: open=$(e2e_field "$s" reply_open) timeouts=$(e2e_field "$s" reply_timeouts) (before $n0)"
out=$(cl line 198.51.100.11 "$WORLD_GW4" 8)
case $out in "line "*) e2e_ok "after the streak: answered again" ;; *) e2e_not_ok "after the streak: '$out'" ;; esac
e2e_check "end of the cap streak logged" grep -q 'reply: below reply_max_conns again, [0-9]* connections were reset' "$E2E_LOG"

# Megabytes: the responder reads at most 4096 bytes, then closes.
out=$(cl mega 198.51.100.11 "$WORLD_GW4" 8000000)
e2e_note "8 MB sender: $out"
sent=$(e2e_field "$out" sent)
[ "$(e2e_field "$out" line)" = 1 ] && [ "$(e2e_field "$out" end)" != done ] && [ "$sent" -lt 8000000 ] &&
	e2e_ok "8 MB sender: got the line, cut after $sent bytes ($(e2e_field "$out" end))" ||
	e2e_not_ok "8 MB sender: '$out', want the line and a cut before 8000000"
[ "$(stat reply_cut)" -ge 1 ] && e2e_ok "reply_cut counted" || e2e_not_ok "reply_cut not counted"

# Thousands at once, while a new client is judged.
world_cl python3 "$RC" flood 198.51.100.11 "$WORLD_GW4" 3000 40 >"$WORLD_DIR/flood.out" 2>&1 &
fpid=$!
sleep 0.5
e2e_expect 198.51.100.21 ok accept - pass "during the flood: a new client judged and accepted"
wait $fpid
out=$(cat "$WORLD_DIR/flood.out")
e2e_note "3000 connections at once: $out"
l=$(e2e_field "$out" lines); r=$(e2e_field "$out" resets); t=$(e2e_field "$out" timeouts)
[ "$t" = 0 ] && [ $((l + r)) -eq 3000 ] && [ "$l" -ge 20 ] &&
	e2e_ok "flood: every connection answered ($l) or reset ($r), none left hanging" ||
	e2e_not_ok "flood: '$out', want lines+resets=3000, no timeouts"
s=$(e2e_stats)
e2e_note "after the flood: $(printf '%s\n' "$s" | tr ' ' '\n' | grep -E '^(reply_|loop_stall)' | tr '\n' ' ')"
[ "$(e2e_field "$s" reply_open_max)" -le 20 ] && e2e_ok "flood: reply_open_max=$(e2e_field "$s" reply_open_max) within reply_max_conns" ||
	e2e_not_ok "flood: reply_open_max=$(e2e_field "$s" reply_open_max) > 20"
e2e_check "smtpgated alive after the hostile clients" e2e_alive

# 5. smtpgated down: the refused client is reset at once, not left hanging.
e2e_stop TERM
out=$(cl line 198.51.100.11 "$WORLD_GW4" 8)
ms=${out#* }; ms=${ms%% *}
case $out in
refused*|reset*) [ "$ms" -lt 900 ] && e2e_ok "smtpgated down: refused client reset at once ($out)" ||
	e2e_not_ok "smtpgated down: '$out' took too long" ;;
*) e2e_not_ok "smtpgated down: got '$out', want a reset" ;;
esac
world_gw nft list chain inet "$WORLD_TABLE" gate 2>/dev/null | grep -q 'ct status dnat counter packets [1-9][0-9]* bytes [0-9]* reject' &&
	e2e_ok "the reset came from the no-responder rule" || e2e_not_ok "no-responder rule not hit"
e2e_check "smtpgated down: an unknown client passes (fail open)" world_smtp 198.51.100.20

# 6. reply = reset (default): no nat chain, no maps.
conf=$(e2e_conf reply-reset)
e2e_start "$conf" || e2e_finish
has_chain reply &&
	e2e_not_ok "reply = reset still installs the nat chain" || e2e_ok "reply = reset: no nat chain"
e2e_mark
out=$(cl line 198.51.100.11 "$WORLD_GW4" 8)
case $out in reset*|refused*) e2e_ok "reply = reset: no-PTR client reset ($out)" ;;
*) e2e_not_ok "reply = reset: got '$out', want a reset"
	e2e_since | grep -F 198.51.100.11 | sed 's/^/#   log: /'
	world_gw nft list chain inet "$WORLD_TABLE" gate | grep -E 'packets [1-9]' | sed 's/^/#   rule: /'
	world_gw conntrack -L -s 198.51.100.11 2>/dev/null | sed 's/^/#   ct: /' ;;
esac
# A client the gate passed and the sniffer then banned is refused at once,
# not when its pass runs out (chain gate: offend before pass).
e2e_expect 198.51.100.10 ok accept - pass "reply = reset: clean client accepted"
e2e_check "reply = reset: clean client in pass4" world_set_has pass4 198.51.100.10
world_gw nft add element inet "$WORLD_TABLE" offend4 "{ 198.51.100.10 timeout 60s }"
out=$(cl line 198.51.100.10 "$WORLD_GW4" 8)
case $out in reset*|refused*) e2e_ok "reply = reset: passed then banned client reset ($out)" ;;
*) e2e_not_ok "reply = reset: passed then banned client got '$out', want a reset" ;; esac

# 7. smtpgatectl cache del and cache flush take the responder's map
# elements with the verdicts: else the kernel would go on redirecting a
# forgotten client to its line, never judging it again.
e2e_stop TERM
conf=$(e2e_conf reply gate.reply=smtp gate.reply_url=$URL gate.reply_max_conns=20 \
	gate.reply_timeout=3 "gate.reply_text_no_ptr=has no PTR record; ask your ISP for one")
e2e_start "$conf" || e2e_finish
ctl() {
	CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$E2E_CONF" "$@" 2>&1)
	CTL_RC=$?
}
e2e_mark
for a in 198.51.100.131 2001:db8:c::131; do
	fam=4; world_is_v6 "$a" && fam=6
	want="554 5.7.1 Service unavailable; client [$a] has no PTR record; ask your ISP for one; see $URL"
	out=$(cl line "$a" "$(gw_of "$a")" 8)
	[ "${out#line * }" = "$want" ] && map_has reply$fam "$a" 7026 &&
		e2e_ok "IPv$fam cache del: $a refused, answered, in reply$fam" ||
		e2e_not_ok "IPv$fam cache del: $a got '$out', reply$fam: $(world_gw nft list map inet "$WORLD_TABLE" reply$fam | tr -d '\n\t')"
	ctl cache del "$a"
	[ "$CTL_RC" = 0 ] && grep -qxF "deleted $a from reply$fam (the responder's 554 no_ptr)" <<<"$CTL_OUT" &&
		! map_has reply$fam "$a" 7026 && ! world_set_has deny$fam "$a" &&
		e2e_ok "IPv$fam cache del $a: gone from deny$fam and reply$fam ($(tr '\n' '|' <<<"$CTL_OUT"))" ||
		e2e_not_ok "IPv$fam cache del $a: exit $CTL_RC, '$CTL_OUT'"
	ctl check "$a"
	grep -qxF "  reply = smtp: the responder answers (at the SYN's retransmit, port 7026) for deny_ttl: \"$want\"" <<<"$CTL_OUT" &&
		e2e_ok "IPv$fam check $a says the responder's line" ||
		e2e_not_ok "IPv$fam check $a: $(grep reply <<<"$CTL_OUT"), want the line '$want'"
	ctl check "$a" --json
	e2e_check "IPv$fam check --json $a: reply.answer line, its text and port" python3 -c '
import json, sys; r = json.loads(sys.argv[1])["reply"]
assert r == {"mode": "smtp", "answer": "line", "line": sys.argv[2], "port": 7026}, r' "$CTL_OUT" "$want"
	out=$(cl line "$a" "$(gw_of "$a")" 8)
	line=$(e2e_wait_verdict "$a" 5 2)
	[ "${out#line * }" = "$want" ] && e2e_has "$line" verdict reject &&
		e2e_ok "IPv$fam after cache del: judged again (a second verdict), answered again" ||
		e2e_not_ok "IPv$fam after cache del: got '$out', second verdict '$line' (want one: the kernel must not redirect a forgotten client)"
done
# flush deny takes the 554 answers and leaves the 421 ones; flush
# tempfail takes those.
world_gw nft add element inet "$WORLD_TABLE" reply4 '{ 198.51.100.137 timeout 10m : 7034, 198.51.100.138 timeout 10m : 7026 }'
world_gw nft add element inet "$WORLD_TABLE" reply6 '{ 2001:db8:c::137 timeout 10m : 7034 }'
ctl cache flush deny
[ "$CTL_RC" = 0 ] && ! map_has reply4 198.51.100.131 7026 && ! map_has reply6 2001:db8:c::131 7026 &&
	! map_has reply4 198.51.100.138 7026 && map_has reply4 198.51.100.137 7034 &&
	map_has reply6 2001:db8:c::137 7034 && grep -qxF "deleted 2 554 answers from reply4" <<<"$CTL_OUT" &&
	grep -qxF "deleted 1 554 answers from reply6" <<<"$CTL_OUT" &&
	e2e_ok "cache flush deny: the 554 elements gone from reply4/6, the 421 ones kept ($(tr '\n' '|' <<<"$CTL_OUT"))" ||
	e2e_not_ok "cache flush deny: exit $CTL_RC, '$CTL_OUT', reply4: $(world_gw nft list map inet "$WORLD_TABLE" reply4 | tr -d '\n\t')"
ctl cache flush tempfail
[ "$CTL_RC" = 0 ] && ! map_has reply4 198.51.100.137 7034 && ! map_has reply6 2001:db8:c::137 7034 &&
	e2e_ok "cache flush tempfail: the 421 elements gone ($(tr '\n' '|' <<<"$CTL_OUT"))" ||
	e2e_not_ok "cache flush tempfail: exit $CTL_RC, '$CTL_OUT'"
world_gw nft add element inet "$WORLD_TABLE" reply4 '{ 198.51.100.137 timeout 10m : 7034, 198.51.100.138 timeout 10m : 7026 }'
ctl cache flush
[ "$CTL_RC" = 0 ] && grep -qxF "flushed reply4" <<<"$CTL_OUT" && grep -qxF "flushed reply6" <<<"$CTL_OUT" &&
	[ -z "$(world_gw nft -j list map inet "$WORLD_TABLE" reply4 | python3 -c 'import json,sys; print([e for o in json.load(sys.stdin)["nftables"] for e in o.get("map", {}).get("elem", [])] or "")')" ] &&
	e2e_ok "cache flush: reply4 and reply6 emptied" ||
	e2e_not_ok "cache flush: exit $CTL_RC, '$CTL_OUT', reply4: $(world_gw nft list map inet "$WORLD_TABLE" reply4 | tr -d '\n\t')"
e2e_finish
