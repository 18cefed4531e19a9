#!/bin/bash
# demo.sh BUILD_DIR - a live demonstration of smtpgated (run by `make demo`).
#
# Brings up a throwaway test world (tests/world/world.sh: a gateway and a
# client namespace, unbound + rbldnsd as DNS, Postfix's smtp-sink as MTA),
# installs the ruleset, runs BUILD_DIR/smtpgated, sends mail from a clean,
# a no-PTR, a generic and a DNSBL-listed client, and shows what each client
# saw next to the daemon's verdict, then the kernel's sets.  Everything is
# torn down at the end, also on Ctrl-C.  Needs root.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
WORLD_PREFIX=${WORLD_PREFIX:-sgwd}
WORLD_OWNER=$$
. "$here/world/world.sh"

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables)"
build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory '${1:-build}' (run make)"
for p in smtpgated smtpgate-nft; do
	[ -x "$build/$p" ] || die "$build/$p is missing (run make)"
done

daemon=
cleanup() {
	trap - EXIT INT TERM
	[ -n "$daemon" ] && world_stop "$daemon" TERM
	world_down
	echo
	echo "== Cleaned up: namespaces, processes and temporary files removed."
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

h() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }

h "smtpgate demo"
say "A mail gateway ($WORLD_GW_NS, $WORLD_GW4 / $WORLD_GW6) and its clients ($WORLD_CL_NS)"
say "in two network namespaces. DNS: unbound with the names of tests/world/hosts.tsv and"
say "rbldnsd serving the block list bl.test. MTA: Postfix's smtp-sink on port 25."
say "Nothing leaves this machine."
# Started as root, smtpgated runs as user smtpgate: make it when missing.
if ! getent passwd smtpgate >/dev/null 2>&1; then
	say "Creating the system user smtpgate (useradd --system): smtpgated, started"
	say "as root, switches to it once set up."
fi
world_user 2>/dev/null || die "could not create the user smtpgate (useradd)"
world_up 2>/dev/null || die "the test world did not come up (try: $here/world/world.sh up)"

conf=$(world_conf "$WORLD_DIR/smtpgate.conf")

h "Installing the ruleset in the gateway (smtpgate-nft install)"
out=$(world_gw "$build/smtpgate-nft" -c "$conf" install 2>&1) || die "smtpgate-nft install failed: $out"
printf '%s\n' "$out" | sed 's/^/   /'

h "Starting smtpgated"
log=$WORLD_DIR/smtpgated.log
world_bg smtpgated "$build/smtpgated" -c "$conf" -f
daemon=$WORLD_BG_PID
world_wait_log "$log" started 10 || { tail -5 "$log" >&2; die "smtpgated did not start"; }
say "$(grep -m1 started "$log" | sed 's/^[^ ]* //')"
say "$(grep -m1 'running as user' "$log" | sed 's/^[^ ]* //')"

h "Sending one mail from each client (swaks, from the client namespace)"
clients=(
	"clean host         198.51.100.10  mail.clean.test, forward-confirmed"
	"no PTR record      198.51.100.11  (no reverse DNS)"
	"generic name       198.51.100.12  198-51-100-12.dynamic.example.net"
	"DNSBL-listed       198.51.100.13  mail.listed.test, listed on bl.test"
	"clean host, IPv6   2001:db8:c::10 mail6.clean.test"
	"no PTR, IPv6       2001:db8:c::11 (no reverse DNS)"
)
for c in "${clients[@]}"; do
	label=${c:0:19}; rest=${c:19}
	addr=${rest%% *}
	desc=$(printf '%s' "$rest" | sed 's/^[^ ]* *//')
	t0=$(world_now_ms)
	if world_smtp "$addr"; then res=delivered; else res=refused; fi
	dt=$(( $(world_now_ms) - t0 ))
	printf '\n   %s %-15s %s\n' "$label" "$addr" "$desc"
	printf '      client:  %s (%d ms)\n' "$res" "$dt"
	line=""
	for _ in $(seq 40); do
		line=$(grep -F " ip=$addr " "$log" | grep 'verdict=' | tail -1)
		[ -n "$line" ] && break
		sleep 0.05
	done
	printf '      daemon:  %s\n' "$(printf '%s' "${line:-(no verdict line)}" | sed 's/^.*\(verdict=\)/\1/')"
done

h "The same no-PTR client again: now decided by the kernel's deny set"
t0=$(world_now_ms)
if world_smtp 198.51.100.11; then res=delivered; else res=refused; fi
say "198.51.100.11: $res in $(( $(world_now_ms) - t0 )) ms," \
	"verdict lines for it: $(grep -F ' ip=198.51.100.11 ' "$log" | grep -c 'verdict=') (no new one)"

h "Kernel sets (nft list set inet smtpgate ...)"
for s in pass4 deny4 drop4 pass6 deny6 drop6; do
	el=$(world_set_list "$s" | tr '\n' ' ')
	printf '   %-6s %s\n' "$s:" "${el:-(empty)}"
done

h "Statistics (SIGUSR1)"
kill -USR1 "$daemon"
if world_wait_log "$log" 'stats ' 3; then
	say "$(grep 'stats ' "$log" | tail -1 | sed 's/^.*\(stats \)/\1/')"
fi

h "Stopping smtpgated (SIGTERM)"
world_stop "$daemon" TERM
daemon=
say "$(tail -1 "$log" | sed 's/^[^ ]* //')"
say "With the daemon gone the queue is bypassed: mail still flows."
if world_smtp 203.0.113.77; then res=delivered; else res=refused; fi
say "a no-PTR client 203.0.113.77: $res"

h "The verdict journal: smtpgatectl report (each rule over the distinct clients)"
if out=$("$build/smtpgatectl" -c "$conf" report --since 1d --split 1h 2>&1); then
	printf '%s\n' "$out" | sed 's/^/   /'
else
	say "smtpgatectl report failed: $out"
fi
