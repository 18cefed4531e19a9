#!/bin/sh
# Install, from Debian's archive, everything smtpgate needs to build, test
# and run its demo.  --check only reports what is missing (exit 1 if any).
set -eu
PKGS="build-essential pkg-config libnetfilter-queue-dev libmnl-dev libnftnl-dev
libc-ares-dev libspf2-dev libpsl-dev publicsuffix libinih-dev libcmocka-dev
nftables iptables unbound rbldnsd postfix swaks knot-dnsutils clang
libclang-rt-14-dev iproute2 procps psmisc python3 bsdextrautils"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
if [ "${1:-}" = "--check" ]; then
	[ -z "$missing" ] && exit 0
	echo "missing packages:$missing (run: tools/install-deps.sh)" >&2
	exit 1
fi
[ -z "$missing" ] && { echo "all dependencies present"; exit 0; }
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
