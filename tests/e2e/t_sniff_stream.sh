#!/bin/bash
# t_sniff_stream.sh BUILD_DIR - how smtpgate-sniffd reads sessions: a second
# HELO does not launder the first, nothing is read after STARTTLS, commands
# split over segments or trickled one byte per segment, pipelining (swaks
# --pipeline and one segment of commands), and hostile input (a 100 KB line,
# NUL bytes, binary garbage, two thousand sessions stuck in half a command
# line against max_flows)
# without a crash or unbounded memory.
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"

conf=$(e2e_sniff_conf stream sniffer.offender_strikes=1000 sniffer.max_flows=100)
e2e_sniff_start "$conf" || e2e_finish
raw() { world_cl python3 "$WORLD_TOOLS/smtpraw.py" --dst "$WORLD_GW4" "$@"; }

# rule_packets ERE: the packet counter of the chain's rule matching ERE.
rule_packets() {
	world_gw nft list table inet "$WORLD_TABLE" |
		grep -E -- "$1" | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}
m0=$(rule_packets 'ct mark set meta mark')
q0=$(rule_packets 'queue num 1 ')
world_smtp 198.51.100.10 --helo mail.clean.test --body "$(head -c 20000 /dev/zero | tr '\0' 'x' | fold -w 70)"
m1=$(rule_packets 'ct mark set meta mark')
q1=$(rule_packets 'queue num 1 ')
e2e_check "one session, one packet returned with the done mark ($((m1 - m0)))" [ $((m1 - m0)) = 1 ]
e2e_check "a session with a 20 KB body: only its first packets queued ($((q1 - q0)))" [ $((q1 - q0)) -le 4 ]

e2e_mark
raw --src 198.51.100.59 second-helo
e2e_check "second HELO does not launder the first (EHLO localhost struck)" \
	e2e_wait_judgment 198.51.100.59 unqualified 5

e2e_mark
raw --src 198.51.100.60 starttls
sleep 1
e2e_check "nothing read after STARTTLS (no judgment of the HELO after it)" \
	[ -z "$(e2e_judgments 198.51.100.60)" ]

e2e_mark
raw --src 198.51.100.61 trickle
e2e_check "HELO trickled one byte per segment is judged" \
	e2e_wait_judgment 198.51.100.61 unqualified 5

e2e_mark
raw --src 198.51.100.62 split
e2e_check "HELO split over three segments is judged" \
	e2e_wait_judgment 198.51.100.62 unqualified 5

e2e_mark
raw --src 198.51.100.61 pipeline
e2e_check "pipelined MAIL FROM in one segment is judged" \
	e2e_wait_judgment 198.51.100.61 mail-from-no-domain 5
e2e_mark
world_smtp 198.51.100.62 --pipeline --helo mail62.clean.test --from x@nosuch.test
e2e_check "swaks --pipeline: MAIL FROM judged" \
	e2e_wait_judgment 198.51.100.62 mail-from-no-domain 5

# 100 KB take more segments than the ruleset queues ([sniffer] packets):
# the line is skipped as too long, and what follows is never seen.
raw --src 198.51.100.59 longline
e2e_check "a 100 KB line without CR LF: sniffer alive" e2e_alive
e2e_mark
raw --src 198.51.100.59 nul
e2e_check "HELO with a NUL byte is bad syntax" e2e_wait_judgment 198.51.100.59 bad-syntax 5
e2e_mark
for i in 1 2 3; do raw --src 198.51.100.58 garbage; done
e2e_check "binary garbage: sniffer alive" e2e_alive

rss0=$(awk '/VmRSS/ {print $2}' /proc/"$E2E_PID"/status)
raw --src 203.0.113.1 halfopen 2000 >"$WORLD_DIR/halfopen.out" 2>&1 &
hp=$!
sleep 3.2
stats=$(e2e_ctl stats | tail -1)
wait $hp
e2e_check "two thousand sessions started, each stuck in half a line ($(cat "$WORLD_DIR/halfopen.out"))" [ $? = 0 ]
e2e_note "$stats"
e2e_check "flows bounded by max_flows (100) while they are open" [ "$(e2e_field "$stats" active_flows)" -le 100 ]
e2e_check "hundreds of sessions followed" [ "$(e2e_field "$stats" flows)" -ge 300 ]
e2e_check "older flows evicted" [ "$(e2e_field "$stats" evicted)" -gt 0 ]
e2e_check "the 100 KB line counted as too long" [ "$(e2e_field "$stats" toolong)" -ge 1 ]
e2e_check "STARTTLS sessions counted" [ "$(e2e_field "$stats" starttls)" -ge 1 ]
rss1=$(awk '/VmRSS/ {print $2}' /proc/"$E2E_PID"/status)
e2e_note "RSS before ${rss0} kB, after ${rss1} kB"
e2e_check "memory bounded (RSS grew by less than 32 MB)" [ $((rss1 - rss0)) -lt 32768 ]
e2e_check "mail still flows" world_smtp 198.51.100.10 --helo mail.clean.test
e2e_check "sniffer alive" e2e_alive
e2e_finish
