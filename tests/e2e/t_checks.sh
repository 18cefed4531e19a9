#!/bin/bash
# t_checks.sh BUILD_DIR - each check with its default action, IPv4 and IPv6,
# through the kernel: verdict line, what the client saw, the kernel set.
# Also DNSBL error answers, a DNSBL failing its health probe, trusted
# networks, and the kernel answering repeat clients from its sets.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_conf checks \
	"gate.dnsbl_sites=bl.test=127.0.0.[2..11]*3 wl.test=127.0.[0..255].[1..3]*-2 broken.test*3")
e2e_start "$conf" || e2e_finish
e2e_mark

if world_wait_log "$E2E_LOG" 'dnsbl zone=broken\.test disabled' 5; then
	e2e_ok "broken.test (lists 127.0.0.1) disabled: $(grep -o 'dnsbl zone=broken.test disabled.*' "$E2E_LOG" | head -1)"
else
	e2e_not_ok "no 'dnsbl zone=broken.test disabled' line within 5 s of start"
fi
if grep -Eq 'dnsbl zone=(bl|wl)\.test disabled' "$E2E_LOG"; then
	e2e_not_ok "a healthy list was disabled: $(grep -E 'dnsbl zone=(bl|wl)\.test disabled' "$E2E_LOG" | head -1)"
else
	e2e_ok "bl.test and wl.test pass the health probe"
fi

for fam in 4 6; do
	if [ $fam = 4 ]; then p=198.51.100.; else p=2001:db8:c::; fi
	e2e_expect ${p}10 ok accept ok pass "IPv$fam clean host with FCrDNS accepted, in pass$fam" &&
		e2e_has "$E2E_LINE" fcrdns yes && e2e_has "$E2E_LINE" class named ||
		e2e_note "clean line: $E2E_LINE"
	e2e_expect ${p}11 fail reject no-ptr deny "IPv$fam no PTR rejected, in deny$fam"
	if [ "$E2E_SMTP_MS" -lt 1000 ]; then
		e2e_ok "IPv$fam no-PTR client refused in ${E2E_SMTP_MS} ms (< 1000: TCP reset)"
	else
		e2e_not_ok "IPv$fam no-PTR client refused after ${E2E_SMTP_MS} ms, want < 1000 (reset)"
	fi
	e2e_expect ${p}12 fail reject generic-ptr deny "IPv$fam generic PTR rejected, in deny$fam"
	e2e_has "$E2E_LINE" class generic && e2e_field "$E2E_LINE" class_reason | grep -q . &&
		e2e_ok "IPv$fam generic line has class=generic class_reason=$(e2e_field "$E2E_LINE" class_reason)" ||
		e2e_not_ok "IPv$fam generic line lacks class=generic/class_reason: $E2E_LINE"
	if e2e_expect ${p}13 fail reject dnsbl deny "IPv$fam DNSBL-listed rejected, in deny$fam"; then
		s=$(e2e_field "$E2E_LINE" dnsbl_score)
		[ "${s:-0}" -ge 3 ] && e2e_field "$E2E_LINE" dnsbl | grep -qw bl.test &&
			e2e_ok "IPv$fam DNSBL line dnsbl_score=$s dnsbl=$(e2e_field "$E2E_LINE" dnsbl)" ||
			e2e_not_ok "IPv$fam DNSBL line: got dnsbl_score=$s dnsbl=$(e2e_field "$E2E_LINE" dnsbl), want >=3 and bl.test"
	fi
	e2e_expect ${p}14 ok accept dnswl pass "IPv$fam generic but DNSWL-listed accepted, in pass$fam" &&
		{ s=$(e2e_field "$E2E_LINE" dnsbl_score)
		  [ "${s:-0}" -le -1 ] && e2e_ok "IPv$fam DNSWL line dnsbl_score=$s" ||
			e2e_not_ok "IPv$fam DNSWL line: got dnsbl_score=$s, want <= -1"; }
	e2e_expect ${p}15 ok accept fcrdns pass "IPv$fam FCrDNS failure logged, accepted" &&
		{ e2e_has "$E2E_LINE" fcrdns no && e2e_ok "IPv$fam FCrDNS failure line has fcrdns=no" ||
			e2e_not_ok "IPv$fam FCrDNS failure: got fcrdns=$(e2e_field "$E2E_LINE" fcrdns), want no"; }
	e2e_expect ${p}16 ok accept - pass "IPv$fam DNSBL error answer: accepted"
	if e2e_has "$E2E_LINE" dnsbl_score 0 && ! e2e_reason_has "$E2E_LINE" dnsbl; then
		e2e_ok "IPv$fam DNSBL error answer not scored (dnsbl_score=0)"
	else
		e2e_not_ok "IPv$fam DNSBL error answer scored: $E2E_LINE"
	fi
	if e2e_since | grep -q 'dnsbl-error zone=bl\.test answer=127\.255\.255\.254'; then
		e2e_ok "IPv$fam DNSBL error answer logged (dnsbl-error zone=bl.test answer=127.255.255.254)"
	else
		e2e_not_ok "IPv$fam no 'dnsbl-error zone=bl.test answer=127.255.255.254' line"
	fi
	e2e_mark
done

e2e_expect 198.51.100.17 ok accept fcrdns pass "IPv4 PTR name that does not exist: fcrdns logged, accepted"
e2e_expect 198.51.100.42 ok accept - pass "listed only on the disabled broken.test: accepted"
e2e_reason_has "$E2E_LINE" dnsbl && e2e_not_ok "disabled broken.test still scored: $E2E_LINE"

# Trusted networks never reach the queue (allow set in the kernel).
for a in 192.0.2.2 2001:db8:1::5; do
	e2e_smtp_timed "$a"
	sleep 0.3
	if [ "$E2E_SMTP_RC" = 0 ] && [ "$(e2e_verdicts "$a")" = 0 ]; then
		e2e_ok "trusted $a delivered in ${E2E_SMTP_MS} ms with no verdict line"
	else
		e2e_not_ok "trusted $a: swaks status $E2E_SMTP_RC, $(e2e_verdicts "$a") verdict lines (want 0, 0)"
	fi
done

# Repeat clients are answered by the kernel's sets: no new verdict line.
e2e_mark
for a in 198.51.100.10 2001:db8:c::10; do
	e2e_smtp_timed "$a"; rc1=$E2E_SMTP_RC
	sleep 0.3
	[ "$rc1" = 0 ] && [ "$(e2e_verdicts "$a")" = 0 ] &&
		e2e_ok "repeat clean $a delivered from the pass set, no new verdict" ||
		e2e_not_ok "repeat clean $a: swaks $rc1, $(e2e_verdicts "$a") new verdict lines (want 0, 0)"
done
for a in 198.51.100.11 2001:db8:c::11; do
	e2e_smtp_timed "$a"; rc1=$E2E_SMTP_RC
	sleep 0.3
	[ "$rc1" != 0 ] && [ "$E2E_SMTP_MS" -lt 1000 ] && [ "$(e2e_verdicts "$a")" = 0 ] &&
		e2e_ok "repeat no-PTR $a refused by the deny set in ${E2E_SMTP_MS} ms, no new verdict" ||
		e2e_not_ok "repeat no-PTR $a: swaks $rc1 in ${E2E_SMTP_MS} ms, $(e2e_verdicts "$a") new verdict lines"
done
e2e_check "smtpgated still running" e2e_alive
e2e_finish
