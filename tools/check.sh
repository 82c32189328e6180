#!/usr/bin/env bash
# check.sh - the suites of `make check` (after deps and the build): lint, unit, asan,
# integration, browser. Runs them all even when one fails, then prints a summary and
#   check: N passed, N failed
# counting suites. Exits non-zero when any failed. A suite whose runner does not exist yet
# counts as failed, with a message: nothing is skipped silently.
# ZC_CHECK_SUITES="lint unit" runs only those (for a quicker loop by hand).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

read -r -a SUITES <<<"${ZC_CHECK_SUITES:-lint unit asan integration browser}"
declare -A RESULT=() SECONDS_TAKEN=() NOTE=()

# A suite returns 3 when its runner is missing.
suite_lint() { make --no-print-directory lint; }
suite_unit() { make --no-print-directory unit; }
suite_asan() { make --no-print-directory asan; }
suite_integration() {
	if [ ! -f tests/integration/run.py ]; then
		echo "integration: FAILED: tests/integration/run.py does not exist yet"
		return 3
	fi
	make --no-print-directory integration
}
suite_browser() {
	if [ ! -f tests/browser/run.sh ]; then
		echo "browser: FAILED: tests/browser/run.sh does not exist yet"
		return 3
	fi
	make --no-print-directory browser
}

for s in "${SUITES[@]}"; do
	if ! declare -F "suite_$s" >/dev/null; then
		echo "check: unknown suite '$s'" >&2
		RESULT[$s]=FAILED NOTE[$s]="unknown suite" SECONDS_TAKEN[$s]=0
		continue
	fi
	echo
	echo "======== $s"
	start=$SECONDS
	# Each suite in a subshell, so that one's exit or cd cannot stop the others.
	( "suite_$s" )
	rc=$?
	SECONDS_TAKEN[$s]=$((SECONDS - start))
	if [ $rc -eq 0 ]; then
		RESULT[$s]=PASSED
	else
		RESULT[$s]=FAILED NOTE[$s]="exit status $rc"
		[ $rc -eq 3 ] && NOTE[$s]="its runner does not exist yet"
	fi
done

passed=0 failed=0
echo
echo "======== summary"
for s in "${SUITES[@]}"; do
	note=""
	[ "${RESULT[$s]}" = FAILED ] && note="  (${NOTE[$s]:-failed})"
	printf '%-12s %-6s %4ss%s\n' "$s" "${RESULT[$s]}" "${SECONDS_TAKEN[$s]}" "$note"
	if [ "${RESULT[$s]}" = PASSED ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
