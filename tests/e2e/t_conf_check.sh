#!/bin/bash
# t_conf_check.sh BUILD_DIR - one configuration check: smtpgated -n,
# smtpgate-sniffd -n and smtpgate-nft install judge every file alike, with
# the same "file:line: reason" (the line of the key that breaks a rule
# that joins keys).  Before, smtpgated -n accepted a gated submission port
# that smtpgate-nft refused, and nothing refused two daemons on one queue.
WORLD_PREFIX=${WORLD_PREFIX:-sgcc$$}
. "$(dirname "$0")/lib/e2e.sh"
e2e_init "$@"
[ -x "$E2E_BUILD/smtpgate-sniffd" ] || e2e_skip "$E2E_BUILD/smtpgate-sniffd not built"

# judge CONF: each program's exit status and message, one line each.
judge() {
	local f=$1 p out rc
	for p in smtpgated smtpgate-sniffd; do
		out=$(world_gw "$E2E_BUILD/$p" -n -c "$f" 2>&1); rc=$?
		printf '%s %s\n' "$rc" "${out#"$p: "}"
	done
	out=$(world_gw "$E2E_BUILD/smtpgate-nft" -c "$f" install 2>&1); rc=$?
	[ "$rc" = 0 ] && out="$f: configuration ok"	# its own words differ
	printf '%s %s\n' "$rc" "${out#smtpgate-nft: }"
}

# line_of FILE SECTION KEY: the line where SECTION's KEY is set.
line_of() {
	awk -v sec="[$2]" -v key="$3" '/^\[/ { in_sec = ($0 == sec) }
		in_sec && $1 == key { print NR; exit }' "$1"
}

# check_case NAME WANT_RC WANT_MSG SECTION.KEY=VALUE...: the three
# programs on one file; FILE and LINE in WANT_MSG stand for the file and
# the line of the first key given.
check_case() {
	local name=$1 want_rc=$2 want=$3 f got n k; shift 3
	f=$(e2e_conf "cc-${name// /-}" "$@")
	want=${want//FILE/$f}
	if [ $# -gt 0 ]; then
		k=${1%%=*}
		want=${want//LINE/$(line_of "$f" "${k%%.*}" "${k#*.}")}
	fi
	got=$(judge "$f")
	n=$(sort -u <<<"$got" | wc -l)
	if [ "$n" = 1 ] && [ "$got" = "$(printf '%s %s\n%s %s\n%s %s' "$want_rc" "$want" "$want_rc" "$want" "$want_rc" "$want")" ]; then
		e2e_ok "$name: all three say exit $want_rc, $want"
	else
		e2e_not_ok "$name: want exit $want_rc '$want' from all three, got: $(tr '\n' '|' <<<"$got")"
	fi
}

check_case "submission port" 1 \
	"FILE:LINE: [gate] ports: port 587 is submission, never gated (465 and 587 take authenticated users)" \
	"gate.ports=25 587"
check_case "one queue for both daemons" 1 \
	"FILE:LINE: [sniffer] queue: 0 is [gate] queue too (the gate and the sniffer need a queue each)" \
	sniffer.queue=0
check_case "a first ban over the longest" 1 \
	"FILE:LINE: [sniffer] offender_timeout: 8d is longer than offender_timeout_max (7d)" \
	sniffer.offender_timeout=8d
check_case "a provider table that does not load" 1 \
	"FILE: /nonexistent/providers: open: No such file or directory ([gate] ptr_providers)" \
	gate.ptr_providers=/nonexistent/providers
check_case "a good file" 0 "FILE: configuration ok"
world_gw "$E2E_BUILD/smtpgate-nft" -c "$(e2e_conf cc-good)" remove >/dev/null 2>&1
e2e_finish
