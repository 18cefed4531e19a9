#!/bin/bash
# t_world_check.sh BUILD_DIR - the test world names what it lacks.
#  - on this machine every prerequisite is present (world_check is silent);
#  - a swaks without IO::Socket::INET6 (a stub that answers --support as
#    swaks does then) is named in one line, with the package to install;
#  - a program missing from PATH is named in that line too.
# Needs no world of its own: world_check only tries the kernel features in
# a scratch namespace.
set -u
WORLD_PREFIX=sgc$$
. "$(dirname "$0")/../world/world.sh"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
[ "$(id -u)" = 0 ] || { echo "skip - needs root"; exit 77; }

if out=$(world_check 2>&1) && [ -z "$out" ]; then
	ok "world_check: every prerequisite present, nothing printed"
else
	not_ok "world_check on this machine: '$out'"
fi

stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat >"$stub/swaks" <<'SH'
#!/bin/sh
echo "*** IPv6 not available: requires IO::Socket::INET6"
exit 0
SH
chmod +x "$stub/swaks"
out=$(PATH="$stub:$PATH" world_check 2>&1); rc=$?
if [ $rc = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
    printf '%s' "$out" | grep -q 'swaks-IPv6(libio-socket-inet6-perl)'; then
	ok "swaks without IPv6 support: one line, '$out'"
else
	not_ok "swaks without IPv6 support: rc=$rc, '$out'"
fi

# A PATH without kdig: link every other program the world uses.
mkdir "$stub/bin"
for p in ip nft unbound rbldnsd smtp-sink smtp-source swaks python3 ss timeout awk grep sed mktemp test printf id; do
	q=$(command -v "$p") && ln -s "$q" "$stub/bin/$p"
done
out=$(PATH="$stub/bin" world_check 2>&1); rc=$?
if [ $rc = 1 ] && printf '%s' "$out" | grep -q 'missing: kdig ('; then
	ok "kdig missing from PATH: named, '$out'"
else
	not_ok "kdig missing from PATH: rc=$rc, '$out'"
fi
echo "# t_world_check: $pass ok, $fail not ok"
[ "$fail" = 0 ]
