#!/bin/sh
# mkdeb.sh [-v VERSION] OUTDIR - build smtpgate's Debian package with
# `dpkg-buildpackage -us -uc -b` in a temporary copy of the tree (the
# files git knows, as they are in the work tree, untracked ones that are
# not ignored included), so that neither build/ of the work tree nor the
# build's by-products (debian/smtpgate/, debian/files, ...) touch it.  The
# .deb, .buildinfo and .changes land in OUTDIR.  -v VERSION adds a
# changelog entry in the copy (the package tests build an upgrade so).
# Run from the project root (`make deb`).
set -eu
version=
if [ "${1:-}" = -v ]; then
	version=$2
	shift 2
fi
[ $# -eq 1 ] || { echo "usage: mkdeb.sh [-v VERSION] OUTDIR" >&2; exit 1; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
tmp=$(mktemp -d /tmp/smtpgate-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/smtpgate"
git ls-files -z -c -o --exclude-standard | tr '\0' '\n' | while IFS= read -r f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$tmp/smtpgate"
if [ -n "$version" ]; then
	{
		printf 'smtpgate (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Test build (tools/mkdeb.sh -v).\n\n'
		printf ' -- %s  %s\n\n' \
			"$(sed -n 's/^Maintainer: //p' debian/control)" "$(date -R)"
		cat debian/changelog
	} >"$tmp/smtpgate/debian/changelog"
fi
(cd "$tmp/smtpgate" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
	tail -40 "$tmp/build.log" >&2
	echo "mkdeb.sh: dpkg-buildpackage failed (the last 40 lines above)" >&2
	exit 1
}
for f in "$tmp"/smtpgate_* "$tmp"/smtpgate-dbgsym_*; do
	[ -e "$f" ] || continue
	mv "$f" "$out/"
done
ls "$out"/smtpgate_*.deb
