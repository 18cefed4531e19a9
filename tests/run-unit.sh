#!/bin/sh
# Run cmocka unit-test programs; print a summary line and fail if any failed.
# Tests that need data find it relative to the project root (the cwd).
passed=0 failed=0 failures=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0}))
	if [ "$rc" -ne 0 ] || [ "${f:-0}" -ne 0 ]; then
		failed=$((failed + ${f:-1}))
		failures="$failures $t"
		printf '%s\n' "$out"
	else
		printf '%-40s %s passed\n' "$(basename "$t")" "${p:-0}"
	fi
done
echo "unit: $passed passed, $failed failed"
[ -z "$failures" ] || { echo "failing:$failures"; exit 1; }
