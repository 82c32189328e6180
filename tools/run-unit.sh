#!/usr/bin/env bash
# run-unit.sh BIN... - runs each cmocka test binary, shows its output, and ends with
#   unit: N passed, N failed
# where N counts cmocka's own test results ([  PASSED  ] / [  FAILED  ] lines). A binary
# that is missing, crashes, times out or exits non-zero without cmocka reporting a failure
# counts as one failed test. Exits non-zero on any failure, and when given no binary.
# ZC_UNIT_TIMEOUT: seconds allowed per binary (default 300).
set -uo pipefail

label=${ZC_UNIT_LABEL:-unit}
limit=${ZC_UNIT_TIMEOUT:-300}
if [ $# -eq 0 ]; then
	echo "$label: no test binaries given (tests/unit/test_*.c is empty?)" >&2
	echo "$label: 0 passed, 1 failed"
	exit 1
fi

# cmocka's default output, on stdout; sanitizer reports with a stack, ending the binary.
unset CMOCKA_MESSAGE_OUTPUT CMOCKA_XML_FILE
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 bad=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in "$@"; do
	name=$(basename "$t")
	echo "== $name"
	if [ ! -x "$t" ]; then
		echo "$name: not found or not executable"
		failed=$((failed + 1)) bad+=("$name (missing)")
		continue
	fi
	timeout --kill-after=10 "$limit" "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		case $rc in
		124 | 137) why="timed out after ${limit} s" ;;
		*) why="exit status $rc" ;;
		esac
		[ "$rc" -gt 128 ] && [ "$rc" -ne 137 ] && why="killed by signal $((rc - 128))"
		echo "$name: $why without a cmocka failure report (crash or sanitizer error)"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: ran no test"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
	[ "$f" -gt 0 ] && bad+=("$name")
done

[ ${#bad[@]} -gt 0 ] && echo "$label: failing binaries: ${bad[*]}"
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
