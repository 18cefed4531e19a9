#!/bin/sh
# run-fuzz.sh - build every fuzz/fuzz_NAME.c as a libFuzzer target and run
# each for FUZZ_SECONDS (default 20) over a copy of its kept corpus.
#
# Called by `make fuzz` from the project root, no arguments.  Each target
# links every src/*/*.c except the program mains, built once per run with
# ASan+UBSan into build/fuzz/obj/.  The kept corpus fuzz/corpus/NAME/ is
# copied to build/fuzz/corpus-NAME/, which libFuzzer grows; the kept one
# is passed as a read-only seed so a run never changes the repository.
# A crash, leak, timeout, sanitizer report or build failure fails the
# target; its reproducer path is printed, and the reproducer itself in
# base64 when it is at most 4 KiB (a CI clone is gone by the time anyone
# reads the log).  A promise a target checks (fuzz/fuzz.h) names its line.
# Last line:
#   fuzz: N passed, N failed
# FUZZ_TARGETS (default: fuzz/fuzz_*.c) names other target files, for
# running one target or testing this script; a target's kept corpus is
# fuzz/corpus/NAME/ whatever directory it lives in.
set -u
cd "$(dirname "$0")/.." || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
OUT=build/fuzz
PKGS="libnetfilter_queue libmnl libnftnl libcares libpsl inih hiredis"
# -fno-sanitize-recover: a UBSan finding must stop the run, not scroll by.
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-Werror=implicit-function-declaration
	-Iinclude -Ifuzz -DSHAREDIR=\"$PWD/data\" -DSYSCONFDIR=\"/etc\""
# The library objects: no libFuzzer main in them, only instrumentation.
OBJFLAGS=$(printf '%s' "$CFLAGS" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')

passed=0 failed=0
mkdir -p "$OUT/obj" || exit 1

if ! PKG=$(pkg-config --cflags --libs $PKGS); then
	echo "fuzz: pkg-config $PKGS failed"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# Build the library objects once; a file that does not compile fails
# every target (its log says which).
objs="" libfail=""
rm -f "$OUT/obj/"*.o
for src in src/*/*.c; do
	[ -e "$src" ] || continue
	case "$src" in
	*/smtpgated.c|*/smtpgatectl.c|*/smtpgate-sniffd.c|*/smtpgate-nft.c)
		continue ;;
	esac
	obj="$OUT/obj/$(basename "$src" .c).o"
	# shellcheck disable=SC2086
	if clang $OBJFLAGS $(pkg-config --cflags $PKGS) -c -o "$obj" "$src" \
	    2>"$obj.log"; then
		objs="$objs $obj"
	else
		libfail="$libfail $src"
		echo "fuzz: clang -c $src failed:"
		sed 's/^/    /' "$obj.log" | head -20
	fi
done

found=0
for t in ${FUZZ_TARGETS:-fuzz/fuzz_*.c}; do
	[ -e "$t" ] || continue
	found=1
	name=$(basename "$t" .c)
	name=${name#fuzz_}
	bin="$OUT/fuzz_$name"
	log="$OUT/fuzz_$name.log"
	if [ -n "$libfail" ]; then
		echo "fuzz_$name: not built: library sources failed:$libfail"
		failed=$((failed + 1))
		continue
	fi
	# shellcheck disable=SC2086
	if ! clang $CFLAGS -o "$bin" "$t" $objs $PKG -lspf2 -lsqlite3 -lpthread \
	    >"$log" 2>&1; then
		echo "fuzz_$name: build failed:"
		sed 's/^/    /' "$log" | head -20
		failed=$((failed + 1))
		continue
	fi

	work="$OUT/corpus-$name"
	art="$OUT/artifacts-$name"
	rm -rf "$work" "$art"
	mkdir -p "$work" "$art"
	seed=""
	if [ -d "fuzz/corpus/$name" ]; then
		cp -R "fuzz/corpus/$name/." "$work/"
		seed="fuzz/corpus/$name"
	fi
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$art/" \
	    "$work" $seed >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	repro=$(find "$art" -type f | head -1)
	if [ "$rc" -ne 0 ] || [ -n "$repro" ]; then
		echo "fuzz_$name: FAILED (exit $rc) after ${runs:-?} runs"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: promise|.*runtime error)' \
		    "$log" | head -5 | sed 's/^/    /'
		if [ -n "$repro" ]; then
			echo "    reproducer: $repro"
			echo "    replay: $bin $repro"
			# The reproducer dies with a clean clone: print it.
			if [ "$(stat -c %s "$repro")" -le 4096 ]; then
				echo "    reproducer, base64 (base64 -d > crash):"
				base64 -w 76 "$repro" | sed 's/^/      /'
			fi
		fi
		echo "    log: $log"
		failed=$((failed + 1))
	else
		printf 'fuzz_%-20s %s runs in %ss, corpus %s files\n' "$name" \
		    "${runs:-?}" "$FUZZ_SECONDS" "$(ls "$work" | wc -l)"
		passed=$((passed + 1))
	fi
done
[ "$found" -eq 1 ] || echo "fuzz: no fuzz/fuzz_*.c targets"

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
