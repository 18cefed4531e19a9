#!/bin/bash
# t_identity.sh BUILD_DIR - smtpgatectl identity against test hosts of the
# world's DNS (added to its tables here): a correct host passes (exit 0);
# a 2-label PTR, a missing A, a mismatched A, a split SPF record, ~all, a
# generic PTR and a DNSBL-listed address each fail (exit 6) with the right
# message; --connect reads smtp-sink's banner (its name checked against
# the PTR name), and a port where nothing listens fails.  No daemon runs:
# identity asks DNS, the SPF helpers and port 25 itself.
. "$(dirname "$0")/lib/e2e.sh"

# The test's hosts and records on top of the world's own.
idt=$(mktemp -d /tmp/t_identity.XXXXXX) || exit 1
cp "$(dirname "$0")/../world/hosts.tsv" "$idt/hosts.tsv"
cp "$(dirname "$0")/../world/records.tsv" "$idt/records.tsv"
T=$'\t'
cat >>"$idt/hosts.tsv" <<-EOH
203.0.113.200${T}mx.good.idtest.test${T}yes${T}-${T}identity: correct
203.0.113.201${T}idtest2.test${T}yes${T}-${T}identity: 2-label PTR
203.0.113.202${T}mx.noa.idtest.test${T}nx${T}-${T}identity: PTR name without A
203.0.113.203${T}mx.elsewhere.idtest.test${T}no${T}-${T}identity: A elsewhere
203.0.113.204${T}mx.split.idtest.test${T}yes${T}-${T}identity: split SPF record
203.0.113.205${T}mx.soft.idtest.test${T}yes${T}-${T}identity: ~all
203.0.113.206${T}mx.listed.idtest.test${T}yes${T}127.0.0.2${T}identity: DNSBL-listed
203.0.113.207${T}mx.banner.idtest.test${T}yes${T}-${T}identity: --connect
203.0.113.208${T}203-0-113-208.dynamic.example.net${T}yes${T}-${T}identity: generic
2001:db8:b::200${T}mx6.good.idtest.test${T}yes${T}-${T}identity: correct, IPv6
EOH
cat >>"$idt/records.tsv" <<-EOR
mx.good.idtest.test${T}TXT${T}v=spf1 a -all
idtest2.test${T}TXT${T}v=spf1 a -all
mx.elsewhere.idtest.test${T}TXT${T}v=spf1 ip4:203.0.113.203 -all
mx.split.idtest.test${T}TXTRAW${T}"v=spf1" "a" "-all"
mx.soft.idtest.test${T}TXT${T}v=spf1 ip4:192.0.2.99 ~all
mx.listed.idtest.test${T}TXT${T}v=spf1 a -all
mx.banner.idtest.test${T}TXT${T}v=spf1 a -all
203-0-113-208.dynamic.example.net${T}TXT${T}v=spf1 a -all
mx6.good.idtest.test${T}TXT${T}v=spf1 a -all
both.idtest.test${T}A${T}203.0.113.200
both.idtest.test${T}AAAA${T}2001:db8:b::200
EOR
WORLD_HOSTS=$idt/hosts.tsv WORLD_RECORDS=$idt/records.tsv e2e_init "$@"
rm -rf "$idt"
[ -x "$E2E_BUILD/smtpgatectl" ] || e2e_skip "$E2E_BUILD/smtpgatectl not built"
conf=$(e2e_conf identity)
E2E_LOG=$WORLD_DIR/identity.log	# identity's stderr, for e2e_finish
: >"$E2E_LOG"

# id ARGS...: run identity in the gateway; output in OUT, status in RC.
id() {
	OUT=$(world_gw "$E2E_BUILD/smtpgatectl" -c "$conf" -t 3000 identity "$@" 2>>"$E2E_LOG")
	RC=$?
	printf '%s\n' "=== identity $*" "$OUT" "=== status $RC" >>"$WORLD_DIR/identity.out"
}
# expect DESC RC ERE [ERE...]: the last run's status and lines.
expect() {
	local d=$1 want=$2 re; shift 2
	if [ "$RC" != "$want" ]; then
		e2e_not_ok "$d: exit $RC, want $want"
		printf '%s\n' "$OUT" | sed 's/^/#   /'
		return 1
	fi
	for re in "$@"; do
		if ! printf '%s\n' "$OUT" | grep -Eq -- "$re"; then
			e2e_not_ok "$d: no line matches /$re/"
			printf '%s\n' "$OUT" | sed 's/^/#   /'
			return 1
		fi
	done
	e2e_ok "$d (exit $RC)"
}

id mx.good.idtest.test --helo mx.good.idtest.test
expect "a correct host passes every step" 0 \
	'^PASS resolve +mx\.good\.idtest\.test has A 203\.0\.113\.200' \
	'^PASS ptr +203\.0\.113\.200 PTR mx\.good\.idtest\.test$' \
	'^PASS fqdn +203\.0\.113\.200 mx\.good\.idtest\.test has 4 labels' \
	'^PASS fcrdns +203\.0\.113\.200 .*forward-confirmed' \
	'^PASS class +203\.0\.113\.200 .*named, not generic' \
	'^PASS helo +203\.0\.113\.200 HELO mx\.good\.idtest\.test is the PTR name and resolves to the address' \
	'^PASS spf +203\.0\.113\.200 SPF of postmaster@mx\.good\.idtest\.test passes' \
	'^PASS dnsbl +203\.0\.113\.200 not listed in bl\.test' \
	'^PASS: 0 failed'
printf '%s\n' "$OUT" | sed 's/^/#   /'
printf '%s\n' "$OUT" | grep -q '^FAIL \|^WARN ' &&
	e2e_not_ok "the correct host has a FAIL or WARN line" || e2e_ok "the correct host: no FAIL or WARN line"

id 2001:db8:b::200 --helo mx6.good.idtest.test
expect "a correct IPv6 host passes" 0 '^PASS fcrdns +2001:db8:b::200 mx6\.good\.idtest\.test AAAA 2001:db8:b::200' \
	'^PASS spf +2001:db8:b::200 '

id both.idtest.test --helo mx.good.idtest.test
expect "a host with A and AAAA: each address checked" 6 \
	'^PASS resolve +both\.idtest\.test has A 203\.0\.113\.200, AAAA 2001:db8:b::200' \
	'^PASS helo +203\.0\.113\.200 HELO mx\.good\.idtest\.test is the PTR name' \
	'^FAIL helo +2001:db8:b::200 HELO mx\.good\.idtest\.test is not the PTR name and does not resolve to the address'

id 203.0.113.201 --helo idtest2.test
expect "a 2-label PTR fails" 6 \
	'^FAIL fqdn +203\.0\.113\.201 idtest2\.test has 2 labels: receivers want a host name of at least three'

id 203.0.113.202 --helo mx.good.idtest.test
expect "a PTR name without A fails" 6 \
	'^FAIL fcrdns +203\.0\.113\.202 mx\.noa\.idtest\.test has no A record \(NXDOMAIN\).*not forward-confirmed'

id 203.0.113.203 --helo mx.elsewhere.idtest.test
expect "a PTR name whose A is elsewhere fails" 6 \
	'^FAIL fcrdns +203\.0\.113\.203 mx\.elsewhere\.idtest\.test A 192\.0\.2\.250 does not hold 203\.0\.113\.203' \
	'^FAIL helo +203\.0\.113\.203 HELO mx\.elsewhere\.idtest\.test is the PTR name but does not resolve to the address \(A: 192\.0\.2\.250; AAAA: no records\)'

id 203.0.113.204 --helo mx.split.idtest.test
expect "a split SPF record is named as the fault" 6 \
	'^FAIL spf +203\.0\.113\.204 the SPF record of mx\.split\.idtest\.test is split into 3 strings, "v=spf1" "a" "-all", which receivers join .* into "v=spf1a-all": that is no SPF record \(SPF none\); put the spaces inside the strings: "v=spf1 a -all"'

printf '%s\n' "$OUT" | grep '^FAIL spf' | sed 's/^/#   /'

id 203.0.113.205 --helo mx.soft.idtest.test
expect "~all with the address unlisted fails as softfail" 6 \
	'^FAIL spf +203\.0\.113\.205 SPF of postmaster@mx\.soft\.idtest\.test is softfail for the address \(the record ends in ~all.*receivers with spf_softfail_fails = yes treat it as fail'

id 203.0.113.206 --helo mx.listed.idtest.test
expect "a DNSBL-listed address fails" 6 \
	'^FAIL dnsbl +203\.0\.113\.206 listed in bl\.test \(answer 127\.0\.0\.2, weight 3' \
	'^PASS dnsbl +203\.0\.113\.206 not listed in wl\.test'

id 203.0.113.208 --helo 203-0-113-208.dynamic.example.net
expect "a generic PTR fails by the gate's classifier" 6 \
	'^FAIL class +203\.0\.113\.208 203-0-113-208\.dynamic\.example\.net is generic by smtpgate.s classifier'

id 203.0.113.200 --helo localhost
expect "a HELO without a dot breaks the sniffer's rule" 6 \
	'^FAIL helo +HELO localhost \(--helo\) breaks the sniffer.s rule unqualified'

# --connect: smtp-sink on the host's address, named as its PTR.
world_bg_cl sink-id smtp-sink -u nobody -h mx.banner.idtest.test 203.0.113.207:25 16
for i in $(seq 50); do
	world_cl ss -Hltn 'sport = :25' | grep -q 203.0.113.207 && break
	sleep 0.1
done
id 203.0.113.207 --helo mx.banner.idtest.test --connect
expect "--connect reads the banner, its name is the PTR name" 0 \
	'^PASS banner +203\.0\.113\.207 "220 mx\.banner\.idtest\.test ESMTP.*" \([0-9]+ ms\) names mx\.banner\.idtest\.test, the PTR name and the HELO name'
id 203.0.113.200 --helo mx.good.idtest.test --connect
expect "--connect where nothing listens fails" 6 \
	'^FAIL banner +203\.0\.113\.200 port 25: connect: Connection refused'

# A server that greets with another name, and one with hostile bytes.
world_bg_cl sink-other smtp-sink -u nobody -h other.idtest.test 203.0.113.206:25 16
world_bg_cl sink-hostile python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.209", 25))
s.listen(4)
while True:
    c, _ = s.accept()
    c.sendall(b"220 evil\x1b[31m\xff\x00 name\r\n")
    c.close()
'
for i in $(seq 50); do
	world_cl ss -Hltn 'sport = :25' | grep -q 203.0.113.206 &&
		world_cl ss -Hltn 'sport = :25' | grep -q 203.0.113.209 && break
	sleep 0.1
done
id 203.0.113.206 --helo mx.listed.idtest.test --connect
expect "--connect: a banner naming another host is flagged" 6 \
	'^WARN banner +203\.0\.113\.206 "220 other\.idtest\.test ESMTP.*" \([0-9]+ ms\) names other\.idtest\.test, neither the PTR name mx\.listed\.idtest\.test nor the HELO name mx\.listed\.idtest\.test'
id 203.0.113.209 --helo mx.good.idtest.test --connect
expect "--connect: hostile banner bytes are escaped" 6 \
	'^WARN banner +203\.0\.113\.209 "220 evil\\x1b\[31m\\xff\\x00 name" \([0-9]+ ms\) names no host'
if printf '%s' "$OUT" | LC_ALL=C grep -q "$(printf '\033')"; then
	e2e_not_ok "a raw escape byte reached the output"
else
	e2e_ok "no raw escape byte in the output"
fi

id 203.0.113.207 --helo mx.banner.idtest.test --connect --json
if [ "$RC" = 0 ] && printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is True and d["fail"] == 0, d
steps = {s["check"]: s for s in d["steps"] if s["address"] == "203.0.113.207"}
for c in ("ptr", "fqdn", "fcrdns", "class", "helo", "spf", "dnsbl", "banner"):
    assert steps[c]["result"] == "PASS", (c, steps.get(c))
'; then
	e2e_ok "--json: one object, every step PASS, ok true"
else
	e2e_not_ok "--json output (exit $RC): $OUT"
fi

# Without --helo: postconf's myhostname, or a WARN when there is none.
id 203.0.113.200
if command -v postconf >/dev/null 2>&1; then
	expect "no --helo: the HELO name from postconf" "$RC" '^(PASS|FAIL) helo +HELO .*\(postconf myhostname\)'
else
	expect "no --helo and no postconf: said, SPF left out" 0 '^WARN helo +no HELO name.*postconf not found'
fi

# A resolver that never answers: every step is bounded by the deadline.
world_dns_proxy dns-mute 127.0.0.5:53 --blackhole || e2e_finish
conf_ok=$conf
conf=$(e2e_conf identity-mute dns.resolvers=127.0.0.5:53 gate.deadline_ms=1000)
t0=$(world_now_ms)
id mx.good.idtest.test --helo mx.good.idtest.test --connect
dt=$(( $(world_now_ms) - t0 ))
expect "a mute resolver: the host's lookup fails at the deadline" 6 \
	'^FAIL resolve +mx\.good\.idtest\.test has no address \(A: (timeout|no answer before the deadline); AAAA: (timeout|no answer before the deadline)\)'
if [ "$dt" -lt 4500 ]; then
	e2e_ok "a mute resolver: identity ended in $dt ms (deadline_ms 1000 a lookup, -t 3000)"
else
	e2e_not_ok "a mute resolver: identity took $dt ms, want < 4500"
fi
t0=$(world_now_ms)
id 203.0.113.200 --helo mx.good.idtest.test
dt=$(( $(world_now_ms) - t0 ))
expect "a mute resolver: PTR and SPF fail, said so" 6 \
	'^FAIL ptr +203\.0\.113\.200 the PTR lookup failed \((timeout|no answer before the deadline)\)' \
	'^FAIL spf +203\.0\.113\.200 the TXT lookup of mx\.good\.idtest\.test failed' \
	'^WARN dnsbl +203\.0\.113\.200 bl\.test: (timeout|no answer before the deadline)'
[ "$dt" -lt 4500 ] && e2e_ok "... in $dt ms" || e2e_not_ok "... took $dt ms, want < 4500"
conf=$conf_ok

id 'bad name!'
expect "a HOST that is no host name is refused" 1
e2e_finish
