#!/bin/bash
# t_tempfail.sh BUILD_DIR - tempfail's second chance, through the kernel.
#
# no_ptr = tempfail: the first SYN of a sender without PTR is refused and
# its retry key enters wait4/6 and retry4/6; a retry before retry_min is
# refused in the kernel (no second verdict, the clock not reset); a retry
# after it passes in the kernel and its address is cached in pass4/6; a
# sibling of the same /24 or /64 passes too with retry_key = prefix, and
# is a first contact with retry_key = address.  smtpgatectl cache list
# shows the waiting sender, cache del forgets it, check says what it must
# do.  Then the proof with a real sending MTA: a full Postfix in the
# client namespace (tests/e2e/lib/pfclient.sh) is refused, logs the
# deferral, retries and delivers; swaks, which never retries, never gets
# through.  retry_min is a few seconds; the waits poll the sets with
# generous deadlines, never a tight sleep.
. "$(dirname "$0")/lib/e2e.sh"
. "$(dirname "$0")/lib/pfclient.sh"
e2e_init "$@"

RMIN=10
ctl() {
	CTL_OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$E2E_CONF" "$@" 2>&1)
	CTL_RC=$?
}
# wait_gone SET ELEM TIMEOUT_S: 0 once ELEM left SET.
wait_gone() {
	local end=$(( $(world_now_ms) + $3 * 1000 ))
	while world_set_has "$1" "$2"; do
		[ "$(world_now_ms)" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# expires_ms SET ELEM: the element's time left, in ms (nft's "expires
# 2s345ms").
expires_ms() {
	world_gw nft list set inet "$WORLD_TABLE" "$1" | tr ',{}' '\n\n\n' |
		grep -F " $2 " | grep -o 'expires [0-9hms]*' | python3 -c '
import re, sys
t = sys.stdin.read().split()[-1]
ms = 0
for n, u in re.findall(r"(\d+)(ms|h|m|s)", t):
    ms += int(n) * {"h": 3600000, "m": 60000, "s": 1000, "ms": 1}[u]
print(ms)'
}

# A one-shot sender (swaks): refused, remembered by its /24 or /64.
# first_contact ADDR KEY DESC
first_contact() {
	local a=$1 key=$2 fam=4 line
	world_is_v6 "$a" && fam=6
	e2e_smtp_timed "$a"
	line=$(e2e_wait_verdict "$a" 6)
	if [ "$E2E_SMTP_RC" != 0 ] && e2e_has "$line" verdict tempfail &&
	    e2e_reason_has "$line" no-ptr; then
		e2e_ok "$3: refused, verdict=tempfail reason=no-ptr (swaks $E2E_SMTP_RC in ${E2E_SMTP_MS} ms)"
	else
		e2e_not_ok "$3: swaks $E2E_SMTP_RC, line '$line', want a refusal and verdict=tempfail"
	fi
	e2e_check "$3: $key in wait$fam and retry$fam, $a not in pass$fam or deny$fam" \
		remembered "$fam" "$key" "$a"
}
remembered() {
	world_set_has wait$1 "$2" && world_set_has retry$1 "$2" &&
		! world_set_has pass$1 "$3" && ! world_set_has deny$1 "$3"
}

# ---- retry_key = prefix (the default) -------------------------------------
conf=$(e2e_conf tempfail-prefix gate.no_ptr=tempfail gate.retry_min=$RMIN \
	gate.retry_window=1h)
e2e_start "$conf" || e2e_finish
e2e_mark

first_contact 203.0.113.51 203.0.113.0 "IPv4 first contact"
first_contact 2001:db8:b::51 2001:db8:b:: "IPv6 first contact"

# Early: refused by the kernel, no new verdict, the clock not reset.
wait_before=$(expires_ms wait4 203.0.113.0)
e2e_smtp_timed 203.0.113.51
[ "$E2E_SMTP_RC" != 0 ] && e2e_ok "IPv4 retry before retry_min refused (swaks $E2E_SMTP_RC)" ||
	e2e_not_ok "IPv4 retry before retry_min got through"
e2e_smtp_timed 203.0.113.52
[ "$E2E_SMTP_RC" != 0 ] && e2e_ok "IPv4 sibling before retry_min refused" ||
	e2e_not_ok "IPv4 sibling before retry_min got through"
e2e_smtp_timed 2001:db8:b::51
[ "$E2E_SMTP_RC" != 0 ] && e2e_ok "IPv6 retry before retry_min refused" ||
	e2e_not_ok "IPv6 retry before retry_min got through"
n=$(( $(e2e_verdicts 203.0.113.51) + $(e2e_verdicts 203.0.113.52) ))
[ "$n" = 1 ] && e2e_ok "early retries decided in the kernel (1 verdict line for the /24)" ||
	e2e_not_ok "$n verdict lines for 203.0.113.51/.52, want 1"
wait_after=$(expires_ms wait4 203.0.113.0)
[ -n "$wait_before" ] && [ -n "$wait_after" ] && [ "$wait_after" -lt "$wait_before" ] &&
	e2e_ok "early retries do not reset the clock (wait4 expires in ${wait_before} ms, then ${wait_after} ms)" ||
	e2e_not_ok "wait4's expiry went from '$wait_before' to '$wait_after'"

ctl cache list --json
e2e_check "cache list shows the tempfailed 203.0.113.0/24 with its first-seen time" python3 -c '
import json, sys
rows = [r for r in json.loads(sys.argv[1]) if r["verdict"] == "tempfail" and r["ip"] == "203.0.113.0/24"]
assert rows and rows[0]["state"] in ("waiting", "ready") and rows[0]["first_seen"] and 0 <= rows[0]["pass_in_s"] <= '$RMIN', rows' "$CTL_OUT"
ctl check 203.0.113.51
e2e_check "check says what a tempfail client must do" bash -c '
	grep -q "^verdict: tempfail reason=no-ptr" <<<"$1" &&
	grep -q "a retry from any address of 203.0.113.0/24 at least '$RMIN' s" <<<"$1"' _ "$CTL_OUT"
e2e_check "check says where the sender stands now (waiting or ready, from the kernel)" bash -c '
	grep -Eq "^  now: tempfail: (waiting; a retry from any address of 203.0.113.0/24 passes in [0-9]+ s|ready)" <<<"$1"' _ "$CTL_OUT"
ctl check 203.0.113.51 --json
e2e_check "check --json: retry.state from the kernel" python3 -c '
import json, sys; r = json.loads(sys.argv[1])["retry"]
assert r["key"] == "203.0.113.0/24" and r["state"] in ("waiting", "ready") and "pass_in_s" in r, r' "$CTL_OUT"

# After retry_min: the retry passes in the kernel and is cached.
e2e_check "wait4 203.0.113.0 expires after retry_min" wait_gone wait4 203.0.113.0 $((RMIN * 3))
e2e_check "wait6 2001:db8:b:: expires after retry_min" wait_gone wait6 2001:db8:b:: $((RMIN * 3))
for a in 203.0.113.51 203.0.113.52 2001:db8:b::51 2001:db8:b::52; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_smtp_timed "$a"
	[ "$E2E_SMTP_RC" = 0 ] && world_set_has pass$fam "$a" &&
		e2e_ok "$a: a retry after retry_min delivers (${E2E_SMTP_MS} ms), cached in pass$fam by the kernel" ||
		e2e_not_ok "$a: swaks $E2E_SMTP_RC after retry_min, pass$fam: $(world_set_list pass$fam | tr '\n' ' ')"
done
n=$(( $(e2e_verdicts 203.0.113.51) + $(e2e_verdicts 203.0.113.52) ))
[ "$n" = 1 ] && e2e_ok "the returning senders never reached smtpgated (still 1 verdict line)" ||
	e2e_not_ok "$n verdict lines for the /24 after the retries, want 1"
sleep 1.5	# the watch reads the rules' counters once a second
s=$(e2e_stats)
[ "$(e2e_field "$s" tempfail)" = 2 ] && [ "$(e2e_field "$s" retry_early)" -ge 3 ] &&
	[ "$(e2e_field "$s" retry_passed)" -ge 4 ] &&
	e2e_ok "counters: tempfail=2 retry_early=$(e2e_field "$s" retry_early) retry_passed=$(e2e_field "$s" retry_passed)" ||
	e2e_not_ok "counters: $s"
e2e_check "log: retry=passed ip=203.0.113.52 key=203.0.113.0/24 after=Ns" \
	world_wait_log "$E2E_LOG" "retry=passed ip=203\.0\.113\.52 key=203\.0\.113\.0/24 after=[0-9]+s" 5
e2e_check "log: retry=early ip=203.0.113.51 key=203.0.113.0/24 pass_in=Ns" \
	world_wait_log "$E2E_LOG" "retry=early ip=203\.0\.113\.51 key=203\.0\.113\.0/24 pass_in=[0-9]+s" 5
e2e_check "log: retry=passed for the IPv6 /64" \
	world_wait_log "$E2E_LOG" "retry=passed ip=2001:db8:b::52 key=2001:db8:b::/64 after=[0-9]+s" 5
e2e_check "log: the kernel's counters rose (gate: retry=passed n=, retry=early n=)" \
	grep -q "gate: retry=passed n=" "$E2E_LOG"

# cache del forgets the sender: the next SYN from the /24 is a first contact.
world_gw nft flush set inet "$WORLD_TABLE" pass4
ctl cache del 203.0.113.0/24
[ "$CTL_RC" = 0 ] && grep -q "deleted 203.0.113.0/24 from retry4" <<<"$CTL_OUT" &&
	e2e_ok "cache del 203.0.113.0/24 forgets the sender" ||
	e2e_not_ok "cache del 203.0.113.0/24: exit $CTL_RC, $CTL_OUT"
first_contact 203.0.113.53 203.0.113.0 "after cache del, a first contact again"
e2e_stop TERM

# ---- retry_key = address --------------------------------------------------
conf=$(e2e_conf tempfail-address gate.no_ptr=tempfail gate.retry_min=$RMIN \
	gate.retry_window=1h gate.retry_key=address)
e2e_start "$conf" || e2e_finish
e2e_mark
first_contact 203.0.113.61 203.0.113.61 "retry_key=address: first contact"
e2e_check "wait4 203.0.113.61 expires" wait_gone wait4 203.0.113.61 $((RMIN * 3))
e2e_smtp_timed 203.0.113.62
line=$(e2e_wait_verdict 203.0.113.62 6)
[ "$E2E_SMTP_RC" != 0 ] && e2e_has "$line" verdict tempfail &&
	e2e_ok "retry_key=address: the sibling 203.0.113.62 is a first contact (refused, verdict=tempfail)" ||
	e2e_not_ok "retry_key=address: sibling swaks $E2E_SMTP_RC, line '$line'"
e2e_smtp_timed 203.0.113.61
[ "$E2E_SMTP_RC" = 0 ] && e2e_ok "retry_key=address: the sender itself passes on retry" ||
	e2e_not_ok "retry_key=address: 203.0.113.61's retry: swaks $E2E_SMTP_RC"

# ---- a real sending MTA ---------------------------------------------------
# Postfix retries; swaks from another address of no PTR never comes back.
world_gw nft flush set inet "$WORLD_TABLE" retry4
world_gw nft flush set inet "$WORLD_TABLE" wait4
e2e_stop TERM
conf=$(e2e_conf tempfail-postfix gate.no_ptr=tempfail gate.retry_min=8s \
	gate.retry_window=1h)
e2e_start "$conf" || e2e_finish
e2e_mark
if ! pfc_start 203.0.113.71; then
	e2e_not_ok "client Postfix did not start: $(tail -5 "$PFC_DIR/maillog" "$PFC_DIR/setup.log" 2>/dev/null | tr '\n' ' ')"
else
	t0=$(world_now_ms)
	pfc_send "tempfail test $$" || e2e_not_ok "could not hand the message to the client Postfix"
	if world_wait_log "$PFC_DIR/maillog" "status=sent" 90; then
		e2e_ok "Postfix delivered through the gate on a retry after $(( ($(world_now_ms) - t0) / 1000 )) s"
	else
		e2e_not_ok "Postfix did not deliver within 90 s: $(grep -E 'status=' "$PFC_DIR/maillog" | tail -3 | tr '\n' ' ')"
	fi
	d=$(grep -c "status=deferred" "$PFC_DIR/maillog")
	[ "$d" -ge 1 ] && e2e_ok "Postfix's log shows the deferral ($d x: $(grep -m1 -o 'status=deferred.*' "$PFC_DIR/maillog"))" ||
		e2e_not_ok "no deferral in Postfix's log"
	e2e_note "Postfix's log: $(grep -oE 'status=[a-z]+ \([^)]*\)' "$PFC_DIR/maillog" | tr '\n' '|')"
	if [ "$d" -ge 2 ]; then
		e2e_check "Postfix's retries before retry_min were refused in the kernel (retry=early)" \
			world_wait_log "$E2E_LOG" "retry=early ip=203\.0\.113\.71 " 5
	else
		e2e_note "Postfix retried only once before delivering: no early retry to see"
	fi
	e2e_check "the retry that delivered was passed in the kernel (retry=passed ip=203.0.113.71)" \
		world_wait_log "$E2E_LOG" "retry=passed ip=203\.0\.113\.71 key=203\.0\.113\.0/24 after=[0-9]+s" 5
	line=$(e2e_wait_verdict 203.0.113.71 1)
	e2e_has "$line" verdict tempfail && [ "$(e2e_verdicts 203.0.113.71)" = 1 ] &&
		e2e_ok "one verdict for the Postfix client (tempfail), its retries decided in the kernel" ||
		e2e_not_ok "Postfix client: $(e2e_verdicts 203.0.113.71) verdict lines, first '$line'"
	pfc_stop
fi
# A one-shot client of no PTR in another /24 never gets through.
e2e_smtp_timed 198.51.100.11
e2e_smtp_timed 198.51.100.11 --timeout 3
line=$(e2e_wait_verdict 198.51.100.11 6)
[ "$E2E_SMTP_RC" != 0 ] && e2e_has "$line" verdict tempfail && ! world_set_has pass4 198.51.100.11 &&
	e2e_ok "a one-shot client (swaks, run twice at once) never gets through" ||
	e2e_not_ok "one-shot client: swaks $E2E_SMTP_RC, '$line'"
e2e_finish
