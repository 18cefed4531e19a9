#!/bin/bash
# t_spf_rfc7208.sh BUILD_DIR - the openspf.org RFC 7208 test suite
# (tests/data/spf, or SMTPGATE_SPF_SUITE=FILE) through smtpgate's own SPF
# path: each scenario's zone served on loopback by tests/tools/spfdns.py,
# every case through spf_probe (the sandboxed helpers, our c-ares).
# Prints how many cases come out right for the MAIL FROM and the HELO
# identity.  Fails when a helper dies or a sanitizer speaks, or when fewer
# cases are right than SPF_SUITE_MIN (the count measured when this test
# was written: libspf2 1.2.10's own deviations from RFC 7208 make up the
# rest, see the README's limits).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "not ok - no build directory"; exit 1; }
suite=${SMTPGATE_SPF_SUITE:-$here/../data/spf/rfc7208-tests.yml}
min=${SPF_SUITE_MIN:-233}
[ -f "$suite" ] || { echo "skip - t_spf_rfc7208: no suite at $suite"; exit 77; }
[ -x "$build/tests/tools/spf_probe" ] || { echo "not ok - $build/tests/tools/spf_probe not built"; exit 1; }
python3 -c 'import yaml' 2>/dev/null || { echo "not ok - python3-yaml missing (run tools/install-deps.sh)"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
out=$(python3 "$here/../tools/spf_suite.py" "$build/tests/tools/spf_probe" "$suite" 2>&1); rc=$?
printf '%s\n' "$out" | grep -v '^FAIL ' | sed 's/^/# /'
printf '%s\n' "$out" | grep -c '^FAIL ' | sed 's/^/# cases not right (libspf2 or identity): /'
fail=0
if [ $rc = 0 ]; then
	echo "ok - every case answered, no helper trouble, no sanitizer report"
else
	echo "not ok - the probe failed (exit $rc)"; fail=1
fi
right=$(printf '%s\n' "$out" | sed -n 's/^rfc7208 total: \([0-9]*\)\/.*/\1/p')
if [ "${right:-0}" -ge "$min" ]; then
	echo "ok - $right cases right (at least $min)"
else
	echo "not ok - ${right:-0} cases right, want at least $min"; fail=1
fi
exit $fail
