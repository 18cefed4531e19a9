#!/bin/bash
# t_reply_postfix.sh BUILD_DIR - refusals that say why, as a real sending
# MTA sees them: a full Postfix in the client namespace
# (tests/e2e/lib/pfclient.sh) relays through the gate with
# [gate] reply = smtp, from an address without PTR.
#
# no_ptr = tempfail: every contact before retry_min is answered by the
# responder "421 4.7.0 Try again later; client [ADDR] has no PTR record";
# Postfix's log shows the deferral carrying that line, and the message is
# delivered on a retry after retry_min (passed in the kernel).
#
# no_ptr = reject: the contact is answered "554 5.7.1 Service unavailable;
# client [ADDR] has no PTR record".  Postfix (smtp_skip_5xx_greeting = yes,
# its default) takes a 5xx greeting as the server refusing to talk, a soft
# error for that host; maximal_queue_lifetime = 0 makes that first failure
# final, so the message is returned at once, and the bounce, delivered to
# the sender in the instance itself, carries the 554 line.
#
# Waits poll logs with generous deadlines; nothing depends on tight timing.
. "$(dirname "$0")/lib/e2e.sh"
. "$(dirname "$0")/lib/pfclient.sh"
e2e_init "$@"
command -v postfix >/dev/null || e2e_skip "postfix missing"

RMIN=8
PFC_NAMED=1
# The status= lines of Postfix's log, one text.
pf_status() { grep -oE 'status=[a-z]+ \(.*\)$' "$PFC_DIR/maillog" | tr '\n' '|'; }

# ---- no_ptr = tempfail: 421, then delivered on a retry --------------------
A=203.0.113.81
W421="421 4.7.0 Try again later; client [$A] has no PTR record"
conf=$(e2e_conf reply-pf-tempfail gate.reply=smtp gate.no_ptr=tempfail \
	gate.retry_min=$RMIN gate.retry_window=1h)
e2e_start "$conf" || e2e_finish
e2e_mark
if ! pfc_start "$A"; then
	e2e_not_ok "client Postfix ($A) did not start: $(tail -5 "$PFC_DIR/maillog" "$PFC_DIR/setup.log" 2>/dev/null | tr '\n' ' ')"
else
	t0=$(world_now_ms)
	pfc_send "reply tempfail $$" || e2e_not_ok "could not hand the message to the client Postfix"
	if world_wait_log "$PFC_DIR/maillog" "status=sent" 90; then
		e2e_ok "tempfail: Postfix delivered on a retry, $(( ($(world_now_ms) - t0) / 1000 )) s after the message was handed to it"
	else
		e2e_not_ok "tempfail: Postfix did not deliver within 90 s: $(pf_status)"
	fi
	e2e_note "Postfix's log: $(pf_status)"
	d=$(grep "status=deferred" "$PFC_DIR/maillog" | grep -cF "$W421")
	[ "$d" -ge 1 ] &&
		e2e_ok "tempfail: Postfix's deferral carries the responder's line ($d x: $(grep -m1 -oF "refused to talk to me: $W421" "$PFC_DIR/maillog"))" ||
		e2e_not_ok "tempfail: no deferral with '$W421' in Postfix's log"
	ld=$(grep -n "status=deferred" "$PFC_DIR/maillog" | grep -F "$W421" | head -1 | cut -d: -f1)
	ls=$(grep -n "status=sent" "$PFC_DIR/maillog" | head -1 | cut -d: -f1)
	[ -n "$ld" ] && [ -n "$ls" ] && [ "$ld" -lt "$ls" ] &&
		e2e_ok "tempfail: the 421 deferral came first, the delivery after it" ||
		e2e_not_ok "tempfail: deferral at line '$ld', delivery at line '$ls' of Postfix's log"
	line=$(world_wait_log "$E2E_LOG" "retry=passed ip=${A//./\\.} key=203\.0\.113\.0/24 after=[0-9]+s" 5 &&
		grep -oE "retry=passed ip=$A key=203\.0\.113\.0/24 after=[0-9]+s" "$E2E_LOG" | tail -1)
	after=$(e2e_field "$line" after); after=${after%s}
	[ -n "$after" ] && [ "$after" -ge "$RMIN" ] &&
		e2e_ok "tempfail: the delivering retry was passed in the kernel after retry_min ($line)" ||
		e2e_not_ok "tempfail: no retry=passed line for $A after >= ${RMIN}s (got '$line')"
	vl=$(e2e_wait_verdict "$A" 1)
	e2e_has "$vl" verdict tempfail && [ "$(e2e_verdicts "$A")" = 1 ] &&
		e2e_ok "tempfail: one verdict (tempfail) for the Postfix client" ||
		e2e_not_ok "tempfail: $(e2e_verdicts "$A") verdict lines for $A, first '$vl'"
	s=$(e2e_stats)
	[ "$(e2e_field "$s" reply_421)" -ge "$d" ] && [ "$(e2e_field "$s" reply_554)" = 0 ] &&
		e2e_ok "tempfail: responder counters reply_421=$(e2e_field "$s" reply_421) reply_554=0" ||
		e2e_not_ok "tempfail: counters reply_421=$(e2e_field "$s" reply_421) reply_554=$(e2e_field "$s" reply_554), want >= $d and 0"
	pfc_stop
fi
e2e_stop TERM

# ---- no_ptr = reject: 554, returned to the sender -------------------------
A=203.0.113.91
W554="554 5.7.1 Service unavailable; client [$A] has no PTR record"
conf=$(e2e_conf reply-pf-reject gate.reply=smtp gate.no_ptr=reject)
e2e_start "$conf" || e2e_finish
e2e_mark
if ! pfc_start "$A" maximal_queue_lifetime=0 bounce_queue_lifetime=0; then
	e2e_not_ok "client Postfix ($A) did not start: $(tail -5 "$PFC_DIR/maillog" "$PFC_DIR/setup.log" 2>/dev/null | tr '\n' ' ')"
else
	pfc_send "reply reject $$" || e2e_not_ok "could not hand the message to the client Postfix"
	if world_wait_log "$PFC_DIR/maillog" "status=(bounced|expired)" 60; then
		e2e_ok "reject: Postfix gave up on the message at the first failure"
	else
		e2e_not_ok "reject: no bounce within 60 s: $(pf_status)"
	fi
	e2e_note "Postfix's log: $(pf_status)"
	grep -E "status=(deferred|bounced)" "$PFC_DIR/maillog" | grep -qF "refused to talk to me: $W554" &&
		e2e_ok "reject: Postfix's log carries the responder's line (refused to talk to me: $W554)" ||
		e2e_not_ok "reject: Postfix's log lacks '$W554'"
	! grep "to=<postmaster@example.test>" "$PFC_DIR/maillog" | grep -q "status=sent" &&
		e2e_ok "reject: never delivered to the gateway" ||
		e2e_not_ok "reject: the message was delivered to the gateway"
	if world_wait_log "$PFC_DIR/maillog" "to=<sender@client\.example\.test>, relay=virtual,.* status=sent" 30; then
		e2e_note "bounce: $(grep -E '^(Subject|Status|Action|Diagnostic-Code):' "$PFC_BOUNCES" | tr '\n' '|')"
		# Postfix wraps the text at 80 columns (the notification's
		# lines go on indented, the DSN's header lines are folded):
		# unfold first.
		e2e_check "reject: the bounce's notification names the 554 line" python3 -c '
import re, sys
m = re.sub(r"\n[ \t]+", " ", open(sys.argv[1], errors="replace").read())
assert "<postmaster@example.test>: host %s[%s] refused to talk to me: %s" % (sys.argv[3], sys.argv[3], sys.argv[2]) in m' \
			"$PFC_BOUNCES" "$W554" "$WORLD_GW4"
		e2e_check "reject: the bounce's Diagnostic-Code is the 554 line, Action failed" python3 -c '
import re, sys
m = re.sub(r"\n[ \t]+", " ", open(sys.argv[1], errors="replace").read())
d = re.findall(r"^Diagnostic-Code: (.*)$", m, re.M)
assert d == ["smtp; " + sys.argv[2]], d
assert re.search(r"^Action: failed$", m, re.M)' "$PFC_BOUNCES" "$W554"
	else
		e2e_not_ok "reject: no bounce delivered to the sender's mailbox within 30 s"
	fi
	vl=$(e2e_wait_verdict "$A" 1)
	e2e_has "$vl" verdict reject && [ "$(e2e_verdicts "$A")" = 1 ] &&
		e2e_ok "reject: one verdict (reject) for the Postfix client" ||
		e2e_not_ok "reject: $(e2e_verdicts "$A") verdict lines for $A, first '$vl'"
	s=$(e2e_stats)
	[ "$(e2e_field "$s" reply_554)" -ge 1 ] && [ "$(e2e_field "$s" reply_421)" = 0 ] &&
		e2e_ok "reject: responder counters reply_554=$(e2e_field "$s" reply_554) reply_421=0" ||
		e2e_not_ok "reject: counters reply_554=$(e2e_field "$s" reply_554) reply_421=$(e2e_field "$s" reply_421)"
	pfc_stop
fi
e2e_finish
