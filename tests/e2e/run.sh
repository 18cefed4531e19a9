#!/bin/bash
# run.sh BUILD_DIR - run every tests/e2e/t_*.sh against the programs in
# BUILD_DIR (one at a time: each brings up its own test world), print each
# test's output and result, and end with "e2e: N passed, N failed[, N skipped]".
# Exit status 1 when any test failed.  Needs root.  E2E_ONLY=ERE picks tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-}
[ -n "$build" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "e2e: needs root" >&2; exit 2; }
passed=0 failed=0 skipped=0 failures=""
start=$(date +%s)
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${E2E_ONLY:-}" ] && ! [[ $name =~ $E2E_ONLY ]] && continue
	echo "--- $name"
	t0=$(date +%s)
	host_before=$(ls -A /var/lib/smtpgate /etc/smtpgate 2>/dev/null | sort | tr '\n' ' ')
	timeout -k 10 300 bash "$t" "$build" 2>&1
	rc=$?
	# A test keeps to its world: nothing of it in the host's paths.
	host_after=$(ls -A /var/lib/smtpgate /etc/smtpgate 2>/dev/null | sort | tr '\n' ' ')
	if [ "$host_after" != "$host_before" ] && [ "$rc" = 0 ]; then
		echo "not ok - $name changed /var/lib/smtpgate or /etc/smtpgate on the host (before: '$host_before', after: '$host_after')"
		rc=1
	fi
	dt=$(( $(date +%s) - t0 ))
	case $rc in
	0)	passed=$((passed + 1)); echo "--- $name: PASS (${dt}s)" ;;
	77)	skipped=$((skipped + 1)); echo "--- $name: SKIP (${dt}s)" ;;
	124|137) failed=$((failed + 1)); failures="$failures $name"
		echo "--- $name: FAIL (timed out after ${dt}s)" ;;
	*)	failed=$((failed + 1)); failures="$failures $name"
		echo "--- $name: FAIL (exit $rc, ${dt}s)" ;;
	esac
done
echo "e2e run time: $(( $(date +%s) - start ))s${failures:+; failing:$failures}"
if [ "$skipped" -gt 0 ]; then
	echo "e2e: $passed passed, $failed failed, $skipped skipped"
else
	echo "e2e: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
