#!/bin/bash
# check.sh - the Debian package, built, linted, installed, upgraded,
# removed and purged on this machine (`make deb-check`, root).
#
#   1. tools/mkdeb.sh builds the package (VERSION from debian/changelog)
#      and an upgrade (VERSION+pkgtest1) from the same tree;
#   2. lintian --pedantic: no error, no warning (debian/*lintian-overrides
#      give the reasons of the few overridden);
#   3. the programs are hardened (PIE, RELRO, BIND_NOW, stack protector,
#      FORTIFY); the shipped configuration is in observe mode, the conffiles are the
#      configuration and the allow list, the maintainer scripts stop the
#      units on remove only, the units stop nothing else (no ExecStop);
#   4. dpkg -i: files and modes, the user (the sysusers.d entry also
#      creates it in an empty root), /var/lib/smtpgate, the configuration
#      readable by group smtpgate, both units enabled and clean under
#      systemd-analyze verify, `smtpgated -n` on the installed
#      configuration (as user smtpgate too), the nft include the same table
#      as smtpgate-nft builds (nft_include.sh on the installed files);
#   5. upgrade: with an edited configuration, an allow list entry, a
#      sniffer state file and a table with elements, dpkg -i of the second
#      build keeps all of them (no conffile prompt: stdin is /dev/null);
#   6. dpkg -r removes the programs and the nft table, keeps the
#      configuration and the state; dpkg -P removes everything the package
#      and its daemons made but the user smtpgate (kept, as Debian keeps
#      system users: files it owns elsewhere would fall to the next user
#      given its uid).
#
# Whatever happens, the package is purged at the end (trap).  Steps 4-6
# run in a network namespace of their own (the maintainer scripts' nft
# table is that namespace's, never this machine's), holding the e2e lock
# named by SMTPGATE_E2E_LOCK when set (not taken again when the caller
# holds it, as `flock LOCK make deb-check` does), for machines where
# end-to-end tests may run at the same time; make check runs them one
# after the other and needs none.  A machine with the package installed
# is refused: the test needs a clean install; /etc/smtpgate and
# /var/lib/smtpgate that no package owns (a source install's, a daemon
# run from the tree) are moved aside for the test and put back after it.
# Exit 0 pass, 1 fail.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
finish() { echo "# deb-check: $pass ok, $fail not ok"; [ "$fail" -eq 0 ]; exit $?; }
t0=$(date +%s)
since() { echo $(($(date +%s) - $1)); }

if [ -z "${SMTPGATE_PKG_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { not_ok "needs root (dpkg -i)"; finish; }
	for c in dpkg-buildpackage lintian systemd-analyze systemd-sysusers unshare flock; do
		command -v "$c" >/dev/null || not_ok "$c missing (tools/install-deps.sh)"
	done
	[ "$fail" -eq 0 ] || finish
	if dpkg-query -W -f='${Status}\n' smtpgate 2>/dev/null | grep -qv '^unknown ok not-installed$\|^deinstall ok config-files$'; then
		not_ok "the smtpgate package is installed here: not a clean machine"
		finish
	fi
	work=$(mktemp -d /tmp/smtpgate-pkg.XXXXXX)
	# What a source install or a daemon run from the tree left (no
	# package owns it) goes aside for the test and comes back after it.
	aside=
	for d in /etc/smtpgate /var/lib/smtpgate; do
		[ -e "$d" ] || continue
		mkdir -p "$work/aside" && mv "$d" "$work/aside/${d//\//_}" ||
			{ not_ok "could not move $d aside"; finish; }
		aside="$aside $d"
		echo "# $d (no package's) moved aside for the test, back at its end"
	done
	restore() {
		local d ok=0
		for d in $aside; do
			rm -rf "$d"
			mv "$work/aside/${d//\//_}" "$d" || { echo "# could not restore $d: it is in $work/aside"; ok=1; }
		done
		return $ok
	}
	trap 'restore && rm -rf "$work"' EXIT
	version=$(dpkg-parsechangelog -S Version)
	up=$version+pkgtest1

	# 1. Two builds.
	status_before=$(git status --porcelain 2>&1)
	t=$(date +%s)
	if tools/mkdeb.sh "$work/v1" >"$work/build1.log" 2>&1; then
		ok "make deb: smtpgate $version built ($(since "$t") s)"
	else
		not_ok "make deb: $(tail -5 "$work/build1.log")"
		finish
	fi
	check "the work tree is as it was (git status)" test "$(git status --porcelain 2>&1)" = "$status_before"
	t=$(date +%s)
	if tools/mkdeb.sh -v "$up" "$work/v2" >"$work/build2.log" 2>&1; then
		ok "upgrade build: smtpgate $up ($(since "$t") s)"
	else
		not_ok "upgrade build: $(tail -5 "$work/build2.log")"
		finish
	fi
	deb1=$(ls "$work"/v1/smtpgate_*.deb) deb2=$(ls "$work"/v2/smtpgate_*.deb)

	# 2. lintian.
	t=$(date +%s)
	lintian --pedantic -I -E --show-overrides --tag-display-limit 0 \
		"$work"/v1/smtpgate_*.changes >"$work/lintian.txt" 2>&1
	grep -v 'running with root privileges' "$work/lintian.txt" | sed 's/^/# lintian: /'
	check "lintian: no error, no warning ($(since "$t") s)" \
		bash -c "! grep -q '^[EW]: ' '$work/lintian.txt'"
	check "lintian: every override used (no unused-override)" \
		bash -c "! grep -q 'unused-override\|mismatched-override' '$work/lintian.txt'"

	# 3. What the package says before it is installed.
	mkdir -p "$work/x1" "$work/c1"
	dpkg-deb -x "$deb1" "$work/x1" && dpkg-deb -e "$deb1" "$work/c1"
	check "conffiles: the configuration and the allow list" \
		test "$(sort "$work/c1/conffiles" | tr '\n' ' ')" = "/etc/smtpgate/allow.list /etc/smtpgate/smtpgate.conf "
	shipped=$work/x1/etc/smtpgate/smtpgate.conf
	for s in gate sniffer; do
		check "shipped smtpgate.conf: [$s] enforce = no, with how to switch" \
			test "$(awk -v s="[$s]" '/^\[/ { in_s = ($1 == s) } in_s && /^enforce *=/ { print $3 }' "$shipped")" = no
	done
	check "shipped smtpgate.conf says how to switch to enforce" \
		grep -q 'enforce = yes, then' "$shipped"
	diff "$work/x1/usr/share/smtpgate/smtpgate.conf.example" "$shipped" >"$work/conf.diff"
	check "shipped smtpgate.conf is the example but for enforce = no and its comments" \
		test "$(grep -c '^> enforce = no$' "$work/conf.diff") $(grep '^>' "$work/conf.diff" | grep -v '^> enforce = no$' | grep -vc '^> ;\|^> $') $(grep '^<' "$work/conf.diff" | grep -vc '^< enforce *[=:]')" = "2 0 0"
	# dpkg-buildflags' hardening reached every program.
	for b in "$work"/x1/usr/sbin/*; do
		h=$(readelf -hdlW --dyn-syms "$b" 2>/dev/null)
		check "$(basename "$b"): PIE, RELRO, BIND_NOW, stack protector, FORTIFY" \
			bash -c "grep -q 'Type: *DYN' <<<\"\$1\" && grep -q GNU_RELRO <<<\"\$1\" &&
				grep -q 'FLAGS.*NOW' <<<\"\$1\" && grep -q __stack_chk_fail <<<\"\$1\" &&
				grep -q '__[a-z]*_chk@' <<<\"\$1\"" sh "$h"
	done
	dep=$(dpkg-deb -f "$deb1" Depends)
	check "Depends: nftables, the libraries (shlibs), sysusers" \
		bash -c "grep -q 'nftables' <<<'$dep' && grep -q 'libnftnl' <<<'$dep' && grep -q 'systemd-sysusers' <<<'$dep'"
	check "prerm stops the units on remove only; postinst restarts them on upgrade" \
		bash -c "test \"\$(grep -c 'deb-systemd-invoke stop' '$work/c1/prerm')\" = 1 &&
			grep -A1 '\"\$1\" = remove' '$work/c1/prerm' | grep -q 'deb-systemd-invoke stop' &&
			grep -q '_dh_action=restart' '$work/c1/postinst'"
	check "the units have no ExecStop (a stop flushes nothing)" \
		bash -c "! grep -q '^ExecStop' '$work'/x1/lib/systemd/system/*.service"

	# 4-6 in a network namespace, under the lock.
	lock=${SMTPGATE_E2E_LOCK:-}
	held=
	if [ -n "$lock" ] && [ -e "$lock" ]; then
		for fd in /proc/$$/fd/*; do
			[ "$(readlink "$fd")" = "$(readlink -f "$lock")" ] && held=yes
		done
		if [ -z "$held" ]; then
			exec 8<"$lock"
			flock -n 8 || { echo "# waiting for $lock"; flock 8; }
		fi
		echo "# holding $lock${held:+ (taken by the caller)}"
	fi
	SMTPGATE_PKG_INNER=1 PKG_DEB1=$deb1 PKG_DEB2=$deb2 PKG_WORK=$work PKG_UP=$up \
		PKG_PASS=$pass PKG_FAIL=$fail PKG_T0=$t0 unshare -n "$0"
	exit $?
fi

# --- inside the namespace -------------------------------------------------
pass=$PKG_PASS fail=$PKG_FAIL t0=$PKG_T0 work=$PKG_WORK
export DEBIAN_FRONTEND=noninteractive
conf=/etc/smtpgate/smtpgate.conf
user_before=no
getent passwd smtpgate >/dev/null && user_before=yes
purge() {
	if dpkg-query -W -f='${Status}\n' smtpgate 2>/dev/null | grep -q 'ok \(installed\|config-files\|half\|unpacked\)'; then
		dpkg --purge smtpgate >>"$work/dpkg.log" 2>&1 ||
			echo "# PURGE FAILED: see $work/dpkg.log; run dpkg --purge smtpgate" >&2
	fi
	# What a faulty purge left (reported above) goes: none of it was
	# there before the test.
	rm -rf /etc/smtpgate /var/lib/smtpgate /run/smtpgate
	# A user this test's install made goes too (the package keeps it).
	if [ "$user_before" = no ] && getent passwd smtpgate >/dev/null; then
		userdel smtpgate 2>/dev/null
		getent group smtpgate >/dev/null && groupdel smtpgate 2>/dev/null
	fi
}
trap 'purge' EXIT
ip link set lo up

t=$(date +%s)
if dpkg -i "$PKG_DEB1" </dev/null >"$work/dpkg.log" 2>&1; then
	ok "dpkg -i $(basename "$PKG_DEB1")"
else
	not_ok "dpkg -i: $(tail -5 "$work/dpkg.log")"
	finish
fi
while read -r path mode owner; do
	if [ ! -e "$path" ]; then
		not_ok "$path missing"
	else
		got="$(stat -c '%a %U:%G' "$path")"
		check "$path ($mode $owner)" test "$got" = "$mode $owner"
	fi
done <<'LIST'
/usr/sbin/smtpgated 755 root:root
/usr/sbin/smtpgate-sniffd 755 root:root
/usr/sbin/smtpgatectl 755 root:root
/usr/sbin/smtpgate-nft 755 root:root
/usr/share/smtpgate/smtpgate.nft 755 root:root
/usr/share/smtpgate/ptr-providers.conf 644 root:root
/usr/share/smtpgate/smtpgate.conf.example 644 root:root
/usr/share/man/man5/smtpgate.conf.5.gz 644 root:root
/usr/share/man/man8/smtpgated.8.gz 644 root:root
/usr/share/man/man8/smtpgate-sniffd.8.gz 644 root:root
/usr/share/man/man8/smtpgatectl.8.gz 644 root:root
/usr/share/man/man8/smtpgate-nft.8.gz 644 root:root
/lib/systemd/system/smtpgated.service 644 root:root
/lib/systemd/system/smtpgate-sniffd.service 644 root:root
/usr/lib/sysusers.d/smtpgate.conf 644 root:root
/usr/lib/tmpfiles.d/smtpgate.conf 644 root:root
/etc/smtpgate/smtpgate.conf 640 root:smtpgate
/etc/smtpgate/allow.list 644 root:root
/var/lib/smtpgate 750 smtpgate:smtpgate
LIST
check "user smtpgate: home /var/lib/smtpgate, no login shell" \
	bash -c "getent passwd smtpgate | grep -q ':/var/lib/smtpgate:/usr/sbin/nologin\$'"
[ "$user_before" = yes ] && echo "# user smtpgate existed before the install (e2e tests make it): the sysusers entry is checked in an empty root"
sroot=$work/sysroot
mkdir -p "$sroot/etc"
: >"$sroot/etc/passwd"
: >"$sroot/etc/group"
systemd-sysusers --root="$sroot" /usr/lib/sysusers.d/smtpgate.conf >/dev/null 2>&1
check "the sysusers.d entry creates user and group smtpgate (in an empty root)" \
	bash -c "grep -q '^smtpgate:x:[0-9]*:[0-9]*:smtpgate daemons:/var/lib/smtpgate:/usr/sbin/nologin\$' '$sroot/etc/passwd' && grep -q '^smtpgate:' '$sroot/etc/group'"
for u in smtpgated smtpgate-sniffd; do
	check "$u.service enabled (multi-user.target.wants)" \
		test "$(readlink /etc/systemd/system/multi-user.target.wants/$u.service)" = /lib/systemd/system/$u.service
	check "$u.service runs /usr/sbin/$u with $conf" \
		grep -q "^ExecStart=/usr/sbin/$u -f -c $conf\$" /lib/systemd/system/$u.service
done
if out=$(systemd-analyze verify --man=no /lib/systemd/system/smtpgated.service \
	/lib/systemd/system/smtpgate-sniffd.service 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify: both installed units clean (offline, no systemd running)"
else
	not_ok "systemd-analyze verify: $out"
fi
check "smtpgated -n on the installed configuration" \
	bash -c "/usr/sbin/smtpgated -n -c $conf 2>&1 | grep -q 'configuration ok'"
check "smtpgated -n as user smtpgate (group smtpgate reads the configuration)" \
	bash -c "setpriv --reuid=smtpgate --regid=smtpgate --init-groups /usr/sbin/smtpgated -n -c $conf 2>&1 | grep -q 'configuration ok'"
check "the installed nft include is nft/smtpgate.nft" cmp -s /usr/share/smtpgate/smtpgate.nft nft/smtpgate.nft
out=$(tests/pkg/nft_include.sh /usr/share/smtpgate/smtpgate.nft /usr/sbin/smtpgate-nft 2>&1)
check "nft include and the installed smtpgate-nft build the same table" test $? -eq 0
echo "$out" | sed 's/^/#   /'
echo "# install checks: $(since "$t") s"

# 5. Upgrade, with state in place.
t=$(date +%s)
/usr/sbin/smtpgate-nft -c $conf install >/dev/null 2>&1
check "smtpgate-nft install (the table the units would build)" \
	bash -c "/usr/sbin/smtpgate-nft -c $conf status >/dev/null"
echo "; edited by the admin" >>$conf
/usr/sbin/smtpgatectl -c $conf allow add 192.0.2.7 >/dev/null 2>&1
check "smtpgatectl allow add 192.0.2.7 (file and kernel)" \
	bash -c "grep -q '^192.0.2.7' /etc/smtpgate/allow.list && nft list set inet smtpgate allow4 | grep -q 192.0.2.7"
nft add element inet smtpgate offend4 '{ 198.51.100.9 timeout 1h }'
nft add element inet smtpgate pass4 '{ 198.51.100.10 timeout 1h }'
printf 'stand-in for the sniffer state\n' >/var/lib/smtpgate/sniffer.state
chown smtpgate:smtpgate /var/lib/smtpgate/sniffer.state
sum=$(md5sum </var/lib/smtpgate/sniffer.state)
if dpkg -i "$PKG_DEB2" </dev/null >>"$work/dpkg.log" 2>&1; then
	ok "upgrade: dpkg -i $(basename "$PKG_DEB2") (no prompt)"
else
	not_ok "upgrade: $(tail -5 "$work/dpkg.log")"
fi
check "upgrade: version $PKG_UP installed" \
	test "$(dpkg-query -W -f='${Version}' smtpgate)" = "$PKG_UP"
check "upgrade: the edited configuration kept" grep -qx '; edited by the admin' $conf
check "upgrade: the configuration still 0640 root:smtpgate" test "$(stat -c '%a %U:%G' $conf)" = "640 root:smtpgate"
check "upgrade: the allow list kept" grep -q '^192.0.2.7' /etc/smtpgate/allow.list
check "upgrade: no .dpkg-new, .dpkg-dist or .dpkg-old left" \
	bash -c "! ls /etc/smtpgate/ | grep -q 'dpkg-'"
check "upgrade: the sniffer's state kept" test "$(md5sum </var/lib/smtpgate/sniffer.state)" = "$sum"
check "upgrade: the kernel sets kept (allow4, offend4, pass4 elements)" \
	bash -c "nft list set inet smtpgate allow4 | grep -q 192.0.2.7 &&
		nft list set inet smtpgate offend4 | grep -q 198.51.100.9 &&
		nft list set inet smtpgate pass4 | grep -q 198.51.100.10"
check "upgrade: the units still enabled" \
	test -L /etc/systemd/system/multi-user.target.wants/smtpgated.service
echo "# upgrade checks: $(since "$t") s"

# 6. Remove, then purge.
t=$(date +%s)
files=$(dpkg -L smtpgate | grep -v '^/\.$')
if dpkg -r smtpgate </dev/null >>"$work/dpkg.log" 2>&1; then
	ok "dpkg -r smtpgate"
else
	not_ok "dpkg -r: $(tail -5 "$work/dpkg.log")"
fi
check "remove: the nft table is gone (mail flows)" \
	bash -c "! nft list table inet smtpgate >/dev/null 2>&1"
check "remove: the programs are gone" bash -c "! ls /usr/sbin/smtpgate* 2>/dev/null | grep -q ."
check "remove: the configuration and the state are kept" \
	bash -c "grep -qx '; edited by the admin' $conf && test -f /var/lib/smtpgate/sniffer.state"
if dpkg -P smtpgate </dev/null >>"$work/dpkg.log" 2>&1; then
	ok "dpkg -P smtpgate"
else
	not_ok "dpkg -P: $(tail -5 "$work/dpkg.log")"
fi
check "purge: dpkg knows no smtpgate" \
	bash -c "! dpkg-query -W -f='\${Status}\n' smtpgate 2>/dev/null | grep -q 'ok \\(installed\\|config-files\\)'"
left=
for f in $files /etc/smtpgate /var/lib/smtpgate /run/smtpgate \
	/etc/systemd/system/multi-user.target.wants/smtpgated.service \
	/etc/systemd/system/multi-user.target.wants/smtpgate-sniffd.service \
	/var/lib/systemd/deb-systemd-helper-enabled/smtpgated.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-enabled/smtpgate-sniffd.service.dsh-also; do
	case $f in *smtpgate*) ;; *) [ -d "$f" ] && continue ;; esac
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
left=$( (for f in $left; do echo "$f"; done
	find /etc /var/lib /lib/systemd /usr/lib/sysusers.d /usr/lib/tmpfiles.d \
		-name '*smtpgate*' 2>/dev/null) | sort -u | tr '\n' ' ')
check "purge: nothing left behind${left:+ (left: $left)}" test -z "$left"
check "purge: the user smtpgate kept (Debian keeps system users)" \
	bash -c "getent passwd smtpgate >/dev/null"
echo "# remove and purge: $(since "$t") s; total $(since "$t0") s"
finish
