#!/bin/bash
# t_signals.sh BUILD_DIR - the daemon's life: a bad config refused at start
# with FILE:LINE; SIGUSR1 stats matching the traffic sent; SIGHUP reload of
# a good and a bad file; SIGTERM (exit 0) and SIGKILL, after which mail
# still flows (queue bypass).
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

# Bad configs at start: exit 1, "FILE:LINE: reason", nothing started.
for bad in gate.no_ptr=bogus gate.frobnicate=1 gate.dnsbl_sites=bl.test=127.0.0.[300]*3 gate.pass_ttl=-5; do
	f=$(e2e_conf bad gate.no_ptr=reject "$bad")
	key=${bad#*.}; key=${key%%=*}
	ln=$(grep -n "^$key = " "$f" | cut -d: -f1)
	out=$(timeout 10 ip netns exec "$WORLD_GW_NS" "$E2E_BUILD/smtpgated" -c "$f" -f 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && printf '%s\n' "$out" | grep -qF "$f:$ln:" && ! printf '%s\n' "$out" | grep -q started; then
		e2e_ok "bad config ($bad) refused: exit 1, $(printf '%s\n' "$out" | grep -F "$f:$ln:" | head -1 | sed 's/.*smtpgated\[[0-9]*\]: //')"
	else
		e2e_not_ok "bad config ($bad): got exit $rc, output '$(printf '%s' "$out" | head -3 | tr '\n' ' ')', want exit 1 and '$f:$ln:'"
	fi
	printf '%s\n' "$out" >>"$E2E_LOG"
done

conf=$(e2e_conf signals)
e2e_start "$conf" || e2e_finish
e2e_mark

# SIGUSR1: counters match what was sent (2 accepted, 2 rejected).
e2e_expect 198.51.100.24 ok accept - pass "stats traffic: clean IPv4"
e2e_expect 2001:db8:c::21 ok accept - pass "stats traffic: clean IPv6"
e2e_expect 203.0.113.50 fail reject no-ptr deny "stats traffic: no-PTR IPv4"
e2e_expect 198.51.100.34 fail reject generic-ptr deny "stats traffic: generic IPv4"
kill -USR1 "$E2E_PID"
if world_wait_log "$E2E_LOG" 'smtpgated\[[0-9]+\]: stats ' 3; then
	st=$(grep -E 'smtpgated\[[0-9]+\]: stats ' "$E2E_LOG" | tail -1)
	e2e_note "$(printf '%s' "$st" | sed 's/.*: stats /stats /')"
	want="verdicts=4 accept=2 reject=2 drop=0 pending=0"
	bad=""
	for kv in $want; do
		k=${kv%%=*}
		[ "$(e2e_field "$st" "$k")" = "${kv#*=}" ] || bad="$bad $k=$(e2e_field "$st" "$k")(want ${kv#*=})"
	done
	q=$(e2e_field "$st" queued)
	[ "${q:-0}" -ge 4 ] || bad="$bad queued=$q(want >= 4)"
	[ -z "$bad" ] && e2e_ok "SIGUSR1 stats match the traffic ($want, queued=$q)" ||
		e2e_not_ok "SIGUSR1 stats:$bad"
else
	e2e_not_ok "no 'stats ' line within 3 s of SIGUSR1"
fi

# SIGHUP with a good file: generic_ptr becomes log.
cp "$conf" "$conf.orig"
e2e_conf signals gate.generic_ptr=log >/dev/null
n0=$(grep -c reloaded "$E2E_LOG")
kill -HUP "$E2E_PID"
end=$(( $(world_now_ms) + 3000 ))
while [ "$(grep -c reloaded "$E2E_LOG")" -le "$n0" ] && [ "$(world_now_ms)" -lt "$end" ]; do sleep 0.05; done
if [ "$(grep -c reloaded "$E2E_LOG")" -gt "$n0" ]; then
	e2e_ok "SIGHUP with a good file: 'reloaded' logged"
	e2e_expect 198.51.100.35 ok accept generic-ptr pass "after reload generic_ptr=log: generic client accepted"
else
	e2e_not_ok "SIGHUP with a good file: no 'reloaded' line within 3 s"
fi

# SIGHUP with a bad file: logged with FILE:LINE, old config kept.
printf '[gate]\nno_ptr = sometimes\n' >"$conf"
kill -HUP "$E2E_PID"
if world_wait_log "$E2E_LOG" "reload failed: $conf:2:" 3; then
	e2e_ok "SIGHUP with a bad file: $(grep -o 'reload failed: .*' "$E2E_LOG" | tail -1)"
else
	e2e_not_ok "SIGHUP with a bad file: no 'reload failed: $conf:2:' line ($(grep -i reload "$E2E_LOG" | tail -1))"
fi
sleep 0.2
e2e_check "daemon still running after a bad reload" e2e_alive
e2e_expect 2001:db8:c::32 ok accept generic-ptr pass "after a bad reload the previous config (generic_ptr=log) still rules"
e2e_expect 203.0.113.51 fail reject no-ptr deny "after a bad reload no-PTR clients are still rejected"
cp "$conf.orig" "$conf"

# SIGTERM: exit 0, then mail flows with nobody on the queue.
e2e_stop TERM
[ "$E2E_RC" = 0 ] && e2e_ok "SIGTERM: exit status 0" || e2e_not_ok "SIGTERM: exit status $E2E_RC, want 0"
e2e_mark
for a in 203.0.113.60 2001:db8:c::60; do
	e2e_smtp_timed "$a"
	[ "$E2E_SMTP_RC" = 0 ] && e2e_ok "daemon stopped: no-PTR $a still delivered (bypass) in ${E2E_SMTP_MS} ms" ||
		e2e_not_ok "daemon stopped: swaks from $a failed ($E2E_SMTP_RC after ${E2E_SMTP_MS} ms)"
done

# SIGKILL: the queue loses its listener; SYNs pass again.
e2e_start "$conf" || e2e_finish
e2e_mark
e2e_expect 203.0.113.61 fail reject no-ptr deny "restarted daemon verdicts again"
kill -KILL "$E2E_PID"; wait "$E2E_PID" 2>/dev/null; E2E_PID=
for a in 203.0.113.62 2001:db8:c::62; do
	e2e_smtp_timed "$a"
	[ "$E2E_SMTP_RC" = 0 ] && e2e_ok "daemon killed: no-PTR $a still delivered (bypass) in ${E2E_SMTP_MS} ms" ||
		e2e_not_ok "daemon killed: swaks from $a failed ($E2E_SMTP_RC after ${E2E_SMTP_MS} ms)"
done

# SIGKILL while a SYN is held (the resolver never answers): the kernel
# drops what the daemon held; the client's retransmit ~1 s later passes.
world_dns_proxy dns-mute 127.0.0.5:53 --blackhole || e2e_finish
conf=$(e2e_conf signals-mute dns.resolvers=127.0.0.5:53 gate.deadline_ms=5000)
e2e_start "$conf" || e2e_finish
e2e_mark
t0=$(world_now_ms)
world_smtp 203.0.113.63 --timeout 8 & cl=$!
sleep 0.5
held=$(e2e_stats | tr ' ' '\n' | sed -n 's/^pending=//p')
kill -KILL "$E2E_PID"; wait "$E2E_PID" 2>/dev/null; E2E_PID=
wait "$cl"; rc=$?
dt=$(( $(world_now_ms) - t0 ))
[ "$rc" = 0 ] && [ "$dt" -lt 4000 ] &&
	e2e_ok "daemon killed holding a SYN (pending=$held): the client's retransmit passed, delivered in $dt ms" ||
	e2e_not_ok "daemon killed holding a SYN (pending=$held): swaks status $rc after $dt ms, want delivery < 4000 ms"
e2e_finish
