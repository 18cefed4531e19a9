#!/bin/bash
# t_hostile_dns.sh BUILD_DIR - a resolver that answers badly on purpose
# (tests/tools/dnsproxy.py in front of the world's unbound), IPv4 and IPv6:
#  - a DNSBL answered SERVFAIL: the verdict is incomplete and not cached
#    (dnsbl_incomplete=bl.test cached=no, nothing in pass4/pass6, the next
#    connection judged again), and smtpgatectl check says so;
#  - one client's PTR answered truncated, then its TCP connection closed at
#    once, while a listed client's DNSBL query is in flight (the proxy
#    holds it 800 ms): the listed client is still rejected and in
#    deny4/deny6; the broken client's own verdict is dns-error, uncached;
#    the daemon counts its retries (dns_retries);
#  - PTR names holding NUL, 0xff, space, newline, an escaped dot: class
#    invalid, reason invalid-ptr, rejected (no_ptr's action) and cached;
#    the name is logged escaped; smtpgatectl check agrees.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"

# rev ADDR [ZONE]: the reverse name of ADDR (in-addr.arpa / ip6.arpa), or
# its DNSBL name under ZONE.
rev() {
	python3 - "$1" "${2:-}" <<'PY'
import ipaddress, sys
r = ipaddress.ip_address(sys.argv[1]).reverse_pointer
if sys.argv[2]:
    r = r.rsplit(".", 2)[0] + "." + sys.argv[2]
print(r)
PY
}

SF4=198.51.100.27 SF6=2001:db8:c::20		# clean; bl.test answers SERVFAIL
LIST4=198.51.100.40 LIST6=2001:db8:c::13	# listed on bl.test
BROKEN4=198.51.100.72 BROKEN6=2001:db8:c::72	# PTR truncated, TCP closed
# The bad names, in the proxy's presentation format, and why each is bad.
BAD_NAMES=('mail\000x.bad.test' 'mail\255.bad.test' 'mail\032x.bad.test'
	'mail\010x.bad.test' 'mail\.x.bad.test')
BAD_WHY=(control-byte non-ascii space control-byte dot-in-label)
BAD_WHAT=(NUL 0xff space newline "escaped dot")

args=(--upstream 127.0.0.1:53 --delay-ms 800)
for a in $SF4 $SF6; do args+=(--servfail "$(rev $a bl.test)"); done
for a in $LIST4 $LIST6; do args+=(--match "$(rev $a bl.test)"); done
for a in $BROKEN4 $BROKEN6; do args+=(--truncate "$(rev $a)"); done
for i in 0 1 2 3 4; do
	args+=(--ptr "$(rev 198.51.100.$((73 + i)))=${BAD_NAMES[$i]}")
	args+=(--ptr "$(rev 2001:db8:c::$((73 + i)))=${BAD_NAMES[$i]}")
done
world_dns_proxy hostile 127.0.0.6:53 "${args[@]}" || e2e_finish
PROXY_LOG=$WORLD_DIR/hostile.log

conf=$(e2e_conf hostile dns.resolvers=127.0.0.6:53 dns.timeout_ms=1000 dns.tries=2 \
	gate.deadline_ms=2500)
e2e_start "$conf" || e2e_finish
sleep 0.5	# the DNSBL health probes at start are answered
ctl() { world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" "$@" 2>&1; }
stat_of() { e2e_field "$(e2e_stats)" "$1"; }

# ---- a SERVFAIL'd DNSBL ----
e2e_mark
r0=$(stat_of dns_retries)
for a in $SF4 $SF6; do
	fam=4; world_is_v6 "$a" && fam=6
	e2e_expect "$a" ok accept - - "IPv$fam DNSBL answered SERVFAIL: accepted" || continue
	line=$E2E_LINE
	e2e_field "$line" dnsbl_incomplete | grep -qx bl.test && e2e_field "$line" cached | grep -qx no &&
		e2e_ok "IPv$fam SERVFAIL'd DNSBL: dnsbl_incomplete=bl.test cached=no" ||
		e2e_not_ok "IPv$fam SERVFAIL'd DNSBL: want dnsbl_incomplete=bl.test cached=no, got: $line"
	world_set_has pass$fam "$a" && e2e_not_ok "IPv$fam incomplete verdict cached in pass$fam" ||
		e2e_ok "IPv$fam incomplete verdict not in pass$fam"
	world_smtp "$a"
	e2e_wait_verdict "$a" 5 2 >/dev/null &&
		e2e_ok "IPv$fam next connection judged again (second verdict line)" ||
		e2e_not_ok "IPv$fam next connection got no second verdict line"
	out=$(ctl check "$a")
	grep -q '^dnsbl bl.test: SERVFAIL' <<<"$out" && grep -q 'incomplete' <<<"$out" &&
		grep -q '^verdict: accept reason=ok cache=no$' <<<"$out" &&
		e2e_ok "IPv$fam smtpgatectl check: bl.test SERVFAIL, incomplete, cache=no" ||
		e2e_not_ok "IPv$fam smtpgatectl check output: $(tr '\n' '|' <<<"$out")"
done
if st=$(e2e_stats); then
	f=$(e2e_field "$st" dnsbl_failed)
	[ "${f:-0}" -ge 4 ] && e2e_ok "stats dnsbl_failed=$f (4 SERVFAIL'd lookups; retries $(( $(e2e_field "$st" dns_retries) - r0 )))" ||
		e2e_not_ok "stats dnsbl_failed=$f, want >= 4"
fi

# ---- one client's broken answer, another client's listed verdict ----
for pair in "$LIST4 $BROKEN4" "$LIST6 $BROKEN6"; do
	set -- $pair
	list=$1 broken=$2 fam=4; world_is_v6 "$list" && fam=6
	e2e_mark
	r0=$(stat_of dns_retries)
	tcp0=$(grep -c 'tcp closed' "$PROXY_LOG")
	e2e_smtp_timed "$list" & lpid=$!
	sleep 0.2	# the listed client's DNSBL query is now held by the proxy
	world_smtp "$broken"
	wait $lpid
	lrc=$?
	lline=$(e2e_wait_verdict "$list" 4)
	bline=$(e2e_wait_verdict "$broken" 4)
	tcp=$(( $(grep -c 'tcp closed' "$PROXY_LOG") - tcp0 ))
	[ "$tcp" -ge 1 ] && e2e_ok "IPv$fam the broken client's PTR went to TCP and was closed ($tcp connections)" ||
		e2e_not_ok "IPv$fam the proxy closed no TCP connection: the test did not break anything"
	[ "$lrc" != 0 ] && e2e_has "$lline" verdict reject && e2e_reason_has "$lline" dnsbl &&
		e2e_ok "IPv$fam listed client still rejected for dnsbl (ms=$(e2e_field "$lline" ms))" ||
		e2e_not_ok "IPv$fam listed client: swaks $lrc, line '$lline', want reject reason dnsbl"
	world_set_has deny$fam "$list" && e2e_ok "IPv$fam listed client in deny$fam" ||
		e2e_not_ok "IPv$fam listed client not in deny$fam"
	world_set_has pass$fam "$list" && e2e_not_ok "IPv$fam listed client in pass$fam"
	e2e_has "$bline" verdict accept && e2e_reason_has "$bline" dns-error &&
		e2e_field "$bline" cached | grep -qx no &&
		e2e_ok "IPv$fam broken client: accept reason=dns-error cached=no" ||
		e2e_not_ok "IPv$fam broken client: got '$bline', want accept dns-error cached=no"
	world_set_has pass$fam "$broken" && e2e_not_ok "IPv$fam broken client cached in pass$fam"
	r=$(( $(stat_of dns_retries) - r0 ))
	[ "$r" -ge 2 ] && e2e_ok "IPv$fam dns_retries grew by $r (the listed client's DNSBL query and the broken PTR, at least)" ||
		e2e_not_ok "IPv$fam dns_retries grew by $r, want >= 2"
done

# ---- PTR names that are no host names ----
e2e_mark
for i in 0 1 2 3 4; do
	for a in 198.51.100.$((73 + i)) 2001:db8:c::$((73 + i)); do
		fam=4; world_is_v6 "$a" && fam=6
		e2e_expect "$a" fail reject invalid-ptr deny \
			"IPv$fam PTR with ${BAD_WHAT[$i]}: rejected, in deny$fam" || continue
		line=$E2E_LINE
		want=${BAD_NAMES[$i]}
		[ "$(e2e_field "$line" ptr)" = "$want" ] && e2e_has "$line" class invalid &&
			e2e_has "$line" class_reason "${BAD_WHY[$i]}" && ! e2e_reason_has "$line" dns-error &&
			e2e_ok "IPv$fam ${BAD_WHAT[$i]}: ptr=$want class=invalid class_reason=${BAD_WHY[$i]}" ||
			e2e_not_ok "IPv$fam ${BAD_WHAT[$i]}: want ptr=$want class=invalid class_reason=${BAD_WHY[$i]}, got: $line"
	done
done
# Every verdict line is one line of printable text, whatever the names held.
if e2e_since | grep -a 'verdict=' | LC_ALL=C grep -aq '[^[:print:]]'; then
	e2e_not_ok "a verdict line holds unprintable bytes"
else
	e2e_ok "verdict lines are printable (names escaped)"
fi
[ "$(e2e_since | grep -c ' ip=198.51.100.76 ')" = 1 ] &&
	e2e_ok "the newline name gave one log line" ||
	e2e_not_ok "the newline name split the log: $(e2e_since | grep -c ' ip=198.51.100.76 ') lines"
out=$(ctl check 198.51.100.73)
grep -q '^class: invalid, control-byte' <<<"$out" &&
	grep -q '^verdict: reject reason=invalid-ptr cache=yes$' <<<"$out" &&
	e2e_ok "smtpgatectl check: class invalid, reject invalid-ptr cache=yes" ||
	e2e_not_ok "smtpgatectl check output: $(tr '\n' '|' <<<"$out")"
if st=$(e2e_stats); then
	n=$(e2e_field "$st" invalid_ptr)
	[ "$n" = 10 ] && e2e_ok "stats invalid_ptr=$n" || e2e_not_ok "stats invalid_ptr=$n, want 10"
	e2e_note "stats: dns_queries=$(e2e_field "$st" dns_queries) dns_retries=$(e2e_field "$st" dns_retries) dnsbl_failed=$(e2e_field "$st" dnsbl_failed) dns_errors=$(e2e_field "$st" dns_errors) invalid_ptr=$n"
fi
e2e_note "proxy: $(grep -c '^dnsproxy: servfail' "$PROXY_LOG") SERVFAIL, $(grep -c '^dnsproxy: truncated' "$PROXY_LOG") truncated, $(grep -c '^dnsproxy: tcp closed' "$PROXY_LOG") TCP closed, $(grep -c '^dnsproxy: ptr' "$PROXY_LOG") crafted PTR answers"
e2e_finish
