#!/bin/bash
# check.sh - `make install DESTDIR=tmp` puts the expected tree in place,
# keeps an existing configuration, fills in the units' paths, and the
# systemd units pass `systemd-analyze verify` (skipped where systemd-analyze
# is absent).  Run from the project root by `make install-check`; BUILD
# (default build) names the build directory.  Exit 0 pass, 1 fail.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$(mktemp -d /tmp/smtpgate-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

if ! make -s install DESTDIR="$root" PREFIX=/usr/local >"$root.log" 2>&1; then
	not_ok "make install: $(tail -5 "$root.log")"
	rm -f "$root.log"
	echo "# install-check: $pass ok, $fail not ok"
	exit 1
fi
rm -f "$root.log"
ok "make install DESTDIR=$root"

# path mode: every file the package must install
while read -r path mode; do
	f=$root$path
	if [ ! -f "$f" ]; then
		not_ok "$path missing"
	elif [ "$(stat -c %a "$f")" != "$mode" ]; then
		not_ok "$path: mode got $(stat -c %a "$f"), want $mode"
	else
		ok "$path ($mode)"
	fi
done <<'LIST'
/usr/local/sbin/smtpgated 755
/usr/local/sbin/smtpgatectl 755
/usr/local/sbin/smtpgate-nft 755
/usr/local/share/smtpgate/smtpgate.nft 644
/usr/local/share/smtpgate/ptr-providers.conf 644
/usr/local/share/smtpgate/smtpgate.conf.example 644
/usr/local/share/man/man5/smtpgate.conf.5 644
/usr/local/share/man/man8/smtpgated.8 644
/usr/local/share/man/man8/smtpgatectl.8 644
/usr/local/share/man/man8/smtpgate-nft.8 644
/etc/smtpgate/smtpgate.conf 640
/usr/local/lib/systemd/system/smtpgated.service 644
/usr/local/lib/systemd/system/smtpgate-sniffd.service 644
/usr/local/lib/sysusers.d/smtpgate.conf 644
/usr/local/lib/tmpfiles.d/smtpgate.conf 644
LIST
if [ -x "${BUILD:-build}/smtpgate-sniffd" ]; then
	check "smtpgate-sniffd installed" [ -x "$root/usr/local/sbin/smtpgate-sniffd" ]
fi

units=$root/usr/local/lib/systemd/system
check "no @PLACEHOLDER@ left in units or tmpfiles" \
	bash -c "! grep -q '@[A-Z]*@' $units/*.service $root/usr/local/lib/tmpfiles.d/smtpgate.conf"
check "smtpgated.service runs the installed binary" \
	grep -q '^ExecStart=/usr/local/sbin/smtpgated -f -c /etc/smtpgate/smtpgate.conf$' "$units/smtpgated.service"
check "smtpgated.service installs the nft table first, only when missing" \
	grep -q "^ExecStartPre=/bin/sh -c '/usr/local/sbin/smtpgate-nft -c /etc/smtpgate/smtpgate.conf status >/dev/null || exec /usr/local/sbin/smtpgate-nft -c /etc/smtpgate/smtpgate.conf install'\$" "$units/smtpgated.service"
for u in smtpgated smtpgate-sniffd; do
	for kv in User=smtpgate ProtectSystem=strict NoNewPrivileges=yes Restart=on-failure \
		RuntimeDirectory=smtpgate 'ReadWritePaths=/var/lib/smtpgate /run/smtpgate'; do
		check "$u.service: $kv" grep -qx -- "$kv" "$units/$u.service"
	done
done
for kv in CapabilityBoundingSet=CAP_NET_ADMIN AmbientCapabilities=CAP_NET_ADMIN; do
	check "smtpgated.service: $kv" grep -qx -- "$kv" "$units/smtpgated.service"
done
# The sniffer also needs to give its SPF helpers a uid of their own.
for kv in 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_SETUID CAP_SETGID' \
	'AmbientCapabilities=CAP_NET_ADMIN CAP_SETUID CAP_SETGID' SystemCallFilter=seccomp; do
	check "smtpgate-sniffd.service: $kv" grep -qx -- "$kv" "$units/smtpgate-sniffd.service"
done
check "sysusers creates user smtpgate" grep -q '^u smtpgate ' "$root/usr/local/lib/sysusers.d/smtpgate.conf"

# A second install keeps an edited configuration.
echo "# edited by the admin" >>"$root/etc/smtpgate/smtpgate.conf"
make -s install DESTDIR="$root" PREFIX=/usr/local >/dev/null 2>&1
check "a second install keeps the existing smtpgate.conf" \
	grep -q '^# edited by the admin$' "$root/etc/smtpgate/smtpgate.conf"

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify checks that ExecStart binaries exist: point it at DESTDIR.
	vdir=$root/verify
	mkdir -p "$vdir"
	for u in "$units"/*.service; do
		sed "s|=/usr/local/sbin/|=$root/usr/local/sbin/|" "$u" >"$vdir/$(basename "$u")"
	done
	if out=$(systemd-analyze verify --man=no "$vdir"/*.service 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify: both units clean"
	else
		not_ok "systemd-analyze verify: $out"
	fi
	# The check can fail: a unit naming a missing binary is refused.
	sed "s|^ExecStart=.*|ExecStart=$root/nonexistent|" "$vdir/smtpgated.service" >"$vdir/broken.service"
	check "systemd-analyze verify refuses a broken unit (sanity)" \
		bash -c "! systemd-analyze verify --man=no '$vdir/broken.service' >/dev/null 2>&1"
else
	echo "# systemd-analyze not installed: units not verified"
fi
echo "# install-check: $pass ok, $fail not ok"
[ "$fail" -eq 0 ]
