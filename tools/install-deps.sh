#!/bin/sh
# Install, from Debian's archive, everything smtpgate needs to build, test
# and run its demo.  --check only reports what is missing (exit 1 if any).
set -eu
#
# Packages are installed with --no-install-recommends, so everything the
# tests use is named here, including what a package only recommends:
# swaks needs libio-socket-inet6-perl for IPv6 (without it every IPv6
# client of the test world fails with "IPv6 not available"); nftables
# recommends netbase (/etc/services for port names).  python3-yaml reads
# the RFC 7208 SPF test suite (tests/e2e/t_spf_rfc7208.sh).  The package
# (make deb, make deb-check): debhelper (it provides the sysusers sequence),
# dpkg-dev, lintian, and systemd for systemd-analyze verify and
# systemd-sysusers (the package depends on a sysusers); no fakeroot, the
# build needs no root (Rules-Requires-Root: no).
# dnsperf and time (GNU) are bench/scale.sh's: the resolver's capacity,
# peak RSS.  libhiredis-dev is [cluster]'s client (Debian 12: hiredis 0.14,
# no TLS); redis-server (with redis-tools, which it depends on) is the
# shared store of the cluster tests and benchmark.
PKGS="build-essential pkg-config libnetfilter-queue-dev libmnl-dev libnftnl-dev
libc-ares-dev libspf2-dev libpsl-dev publicsuffix libinih-dev libcmocka-dev
nftables netbase iptables unbound rbldnsd postfix swaks
libio-socket-inet6-perl knot-dnsutils clang libclang-rt-14-dev iproute2
procps psmisc python3 python3-yaml bsdextrautils libsqlite3-dev sqlite3
debhelper dpkg-dev lintian systemd dnsperf time libhiredis-dev redis-server
redis-tools"
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
