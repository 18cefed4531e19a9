#!/bin/sh
# Run each scenario runner BUILD/run_NAME over tests/scenario/NAME/*.scn;
# print what each runner says and fail if any scenario failed.  Run from
# the project root.
dir=${1:?usage: run-scenario.sh BUILD/scenario}
failed=0
for r in "$dir"/run_*; do
	[ -x "$r" ] || continue
	name=${r##*/run_}
	set -- tests/scenario/"$name"/*.scn
	[ -e "$1" ] || continue
	"$r" "$@" || failed=1
done
exit $failed
