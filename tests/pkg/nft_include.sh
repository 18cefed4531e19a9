#!/bin/bash
# nft_include.sh [NFT_FILE [SMTPGATE_NFT]] - the nft include (default
# nft/smtpgate.nft) and the table smtpgate-nft builds (default
# build/smtpgate-nft) are the same: the same chains, the same sets, rule by
# rule.  Root (each check runs in a network namespace of its own, so no
# table of this machine is touched).  Run from the project root.
#
# 1. Rules, as bytecode: `nft --debug=netlink -c -f NFT_FILE` prints each
#    rule's expressions as libnftnl renders them, the rendering of the
#    golden batch tests/golden/ruleset-defaults-native.txt, which
#    test_nftrules checks against what smtpgate-nft builds from the
#    defaults (native queue).  Every rule, in order, with its chain, must
#    match.  This needs no `queue` support in the kernel (-c only checks).
# 2. The whole table, as the kernel holds it: NFT_FILE loaded with its two
#    queue rules left out, and `smtpgate-nft -q xtables install` with its
#    two NFQUEUE target rules left out (nft lists them as queue rules),
#    listed by `nft list table`: the
#    same chains and hooks, sets with their flags, sizes, timeouts and
#    elements, and every other rule.  (Kernels without nft_queue cannot
#    load the file whole; the queue rules are compared in 1.)
# Exit 0 pass, 1 fail, 77 skipped (not root, no unshare, no nft).
set -u
cd "$(dirname "$0")/../.." || exit 1
file=${1:-nft/smtpgate.nft}
tool=${2:-build/smtpgate-nft}
golden=tests/golden/ruleset-defaults-native.txt
conf=tests/golden/ruleset-defaults-native.conf
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v unshare >/dev/null; then
	echo "# nft_include: skipped (needs root, nft and unshare)"
	exit 77
fi
tmp=$(mktemp -d /tmp/smtpgate-nftinc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# One line per rule: "CHAIN | [ expr ] [ expr ] ...".
unshare -n nft --debug=netlink -c -f "$file" >"$tmp/debug.txt" 2>"$tmp/debug.err"
# A load into a register that still holds what the load reads is dropped:
# nft reloads the address before a second dynset, smtpgate-nft reuses the
# register (dynset and counter write none); the same rule either way.
norm='
	{
		n = split($0, e, / \| |\] \[/); out = e[1] " |"; delete last
		for (i = 2; i <= n; i++) {
			x = e[i]; gsub(/^ *\[? *| *\]? *$/, "", x)
			if (match(x, /(load .* => |^bitwise )reg [0-9]+/)) {
				r = substr(x, RSTART, RLENGTH); sub(/.*reg /, "", r)
				if (x ~ /load/ && last[r] == x) continue
				last[r] = x
			}
			out = out " [ " x " ]"
		}
		print out
	}'
awk '
	/^inet [A-Za-z0-9_]+ [A-Za-z0-9_]+$/ { if (r != "") print r; r = $3 " |"; next }
	/^  \[ / && r != "" { sub(/^  /, ""); r = r " " $0; next }
	{ if (r != "") print r; r = "" }
	END { if (r != "") print r }
' "$tmp/debug.txt" | awk "$norm" >"$tmp/file.rules"
awk '
	/^\[[0-9]+\] newrule / { if (r != "") print r; r = ""; inrule = 1; next }
	/^\[|^batch/ { if (r != "") print r; r = ""; inrule = 0; next }
	inrule && /^  inet [A-Za-z0-9_]+ [A-Za-z0-9_]+$/ { r = $3 " |"; next }
	inrule && /^  \[ / { sub(/^  /, ""); r = r " " $0; next }
	END { if (r != "") print r }
' "$golden" | awk "$norm" >"$tmp/golden.rules"
n=$(wc -l <"$tmp/golden.rules")
if [ "$n" -lt 20 ]; then
	not_ok "rules: only $n rules read from $golden"
elif diff -u "$tmp/golden.rules" "$tmp/file.rules" >"$tmp/rules.diff"; then
	ok "rules: $file and smtpgate-nft's batch ($golden): $n rules, the same, in order"
else
	not_ok "rules: $file differs from smtpgate-nft's batch ($golden; - smtpgate-nft, + $file):"
	sed 's/^/#   /' "$tmp/rules.diff"
fi

# The table as the kernel lists it, queue rules left out.
sed '/^[[:space:]]*counter queue num [0-9]* bypass$/d' "$file" >"$tmp/noqueue.nft"
if [ "$(grep -v '^[[:space:]]*#' "$tmp/noqueue.nft" | grep -c 'queue num')" != 0 ]; then
	not_ok "table: a queue rule of another form in $file (the sed above must learn it)"
fi
if ! unshare -n sh -c 'nft -f "$1" && nft list table inet smtpgate' sh "$tmp/noqueue.nft" \
	>"$tmp/file.list" 2>"$tmp/file.err"; then
	not_ok "table: $file (queue rules left out) did not load: $(head -3 "$tmp/file.err")"
elif ! unshare -n sh -c '"$1" -c "$2" -q xtables install >/dev/null && nft list table inet smtpgate' \
	sh "$tool" "$conf" >"$tmp/tool.raw" 2>"$tmp/tool.err"; then
	not_ok "table: $tool -q xtables install failed: $(head -3 "$tmp/tool.err")"
else
	# nft lists the xtables NFQUEUE target as the queue statement.
	grep -v 'queue num [0-9]* bypass$' "$tmp/tool.raw" >"$tmp/tool.list"
	if [ "$(grep -c 'queue num [0-9]* bypass$' "$tmp/tool.raw")" != 2 ]; then
		not_ok "table: smtpgate-nft's table has not the two NFQUEUE rules"
	elif diff -u "$tmp/tool.list" "$tmp/file.list" >"$tmp/table.diff"; then
		ok "table: $file and $tool install list the same chains, sets, elements and rules ($(grep -c '^	set ' "$tmp/file.list") sets)"
	else
		not_ok "table: the listings differ (- smtpgate-nft, + $file):"
		sed 's/^/#   /' "$tmp/table.diff"
	fi
fi
echo "# nft_include: $pass ok, $fail not ok"
[ "$fail" -eq 0 ]
