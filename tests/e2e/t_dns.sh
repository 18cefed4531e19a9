#!/bin/bash
# t_dns.sh BUILD_DIR - slow and silent resolvers.
#  - coalescing: a resolver that answers one client's PTR after 1.5 s while
#    that client opens several connections at once (plus the kernel's SYN
#    retransmits): one verdict line with syns > 1, every client answered;
#  - a resolver that never answers: the verdict comes at deadline_ms (plus
#    a small margin) with reason=dns-error, accepted by default and not
#    cached; with dns_error=drop the SYN is dropped, also not cached.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

world_dns_proxy dns-slow 127.0.0.4:53 --upstream 127.0.0.1:53 --delay-ms 1500 \
	--match 22.100.51.198.in-addr.arpa \
	--match 2.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa || e2e_finish
world_dns_proxy dns-mute 127.0.0.5:53 --blackhole || e2e_finish

conf=$(e2e_conf slow dns.resolvers=127.0.0.4:53 dns.timeout_ms=3000 dns.tries=1 gate.deadline_ms=2500)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 198.51.100.22 2001:db8:c::22; do
	fam=4; world_is_v6 "$a" && fam=6
	pids=() t0=$(world_now_ms)
	for i in 1 2 3 4; do
		world_smtp "$a" & pids+=($!)
	done
	okn=0
	for p in "${pids[@]}"; do wait "$p" && okn=$((okn + 1)); done
	dt=$(( $(world_now_ms) - t0 ))
	sleep 0.3
	n=$(e2e_verdicts "$a")
	line=$(e2e_verdict_lines "$a" | head -1)
	syns=$(e2e_field "$line" syns)
	[ "$okn" = 4 ] && e2e_ok "IPv$fam 4 parallel clients behind a 1.5 s PTR answer all delivered (${dt} ms)" ||
		e2e_not_ok "IPv$fam only $okn of 4 parallel clients delivered"
	[ "$n" = 1 ] && [ "${syns:-0}" -gt 1 ] &&
		e2e_ok "IPv$fam one verdict line answered syns=$syns (ms=$(e2e_field "$line" ms))" ||
		e2e_not_ok "IPv$fam got $n verdict lines, syns=$syns; want 1 line with syns > 1 ($line)"
	ms=$(e2e_field "$line" ms)
	[ "${ms:-0}" -ge 1400 ] && e2e_ok "IPv$fam verdict waited for the slow answer (ms=$ms)" ||
		e2e_not_ok "IPv$fam verdict ms=$ms, want >= 1400 (the proxy delays 1500 ms)"
	syns_total=$(( ${syns_total:-0} + ${syns:-0} ))
done
if st=$(e2e_stats); then
	c=$(e2e_field "$st" coalesced); v=$(e2e_field "$st" verdicts); q=$(e2e_field "$st" queued)
	[ "$v" = 2 ] && [ "$c" = $((syns_total - 2)) ] && [ "$q" = "$syns_total" ] &&
		e2e_ok "stats after coalescing: verdicts=$v queued=$q coalesced=$c (syns=$syns_total in the verdict lines)" ||
		e2e_not_ok "stats after coalescing: got verdicts=$v queued=$q coalesced=$c, want 2, $syns_total, $((syns_total - 2))"
else
	e2e_not_ok "no stats line after SIGUSR1"
fi
e2e_stop TERM

# A resolver that never answers.
conf=$(e2e_conf mute dns.resolvers=127.0.0.5:53 dns.timeout_ms=500 dns.tries=2 gate.deadline_ms=1500)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 198.51.100.26 2001:db8:c::23; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept dns-error - "IPv$fam silent resolver: accepted with reason dns-error" || continue
	ms=$(e2e_field "$E2E_LINE" ms)
	[ "${ms:-99999}" -le 1800 ] && [ "${ms:-0}" -ge 1000 ] &&
		e2e_ok "IPv$fam dns-error verdict at ms=$ms (deadline 1500; client saw ${E2E_SMTP_MS} ms)" ||
		e2e_not_ok "IPv$fam dns-error verdict at ms=$ms, want within deadline 1500 + 300"
	world_set_has pass$fam "$a" && e2e_not_ok "IPv$fam dns-error verdict cached in pass$fam" ||
		e2e_ok "IPv$fam dns-error verdict not cached (not in pass$fam)"
	world_smtp "$a"
	e2e_wait_verdict "$a" 4 2 >/dev/null &&
		e2e_ok "IPv$fam next connection asked the daemon again (second verdict line)" ||
		e2e_not_ok "IPv$fam next connection after dns-error got no second verdict"
done
if st=$(e2e_stats); then
	want=$(e2e_since | grep 'verdict=' | grep -c 'reason=dns-error')
	d=$(e2e_field "$st" dns_errors)
	[ "$d" = "$want" ] && [ "$want" -ge 4 ] &&
		e2e_ok "stats dns_errors=$d matches the dns-error verdict lines" ||
		e2e_not_ok "stats dns_errors=$d, want $want (the dns-error verdict lines, >= 4)"
else
	e2e_not_ok "no stats line after SIGUSR1"
fi
e2e_stop TERM

conf=$(e2e_conf mute-drop dns.resolvers=127.0.0.5:53 dns.timeout_ms=500 dns.tries=2 \
	gate.deadline_ms=1500 gate.dns_error=drop)
e2e_start "$conf" || e2e_finish
e2e_mark
for a in 198.51.100.27 2001:db8:c::24; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_smtp_timed "$a" --timeout 4
	line=$(e2e_wait_verdict "$a" 2)
	[ "$E2E_SMTP_RC" != 0 ] && e2e_has "$line" verdict drop && e2e_reason_has "$line" dns-error &&
		e2e_ok "IPv$fam dns_error=drop: SYN dropped (swaks failed after ${E2E_SMTP_MS} ms), reason dns-error" ||
		e2e_not_ok "IPv$fam dns_error=drop: swaks $E2E_SMTP_RC after ${E2E_SMTP_MS} ms, line '$line'"
	world_set_has drop$fam "$a" && e2e_not_ok "IPv$fam dns-error drop cached in drop$fam" ||
		e2e_ok "IPv$fam dns-error drop not cached (not in drop$fam; $(e2e_verdicts "$a") verdict lines for its retransmits)"
done
e2e_finish
