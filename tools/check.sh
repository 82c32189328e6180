#!/usr/bin/env bash
# check.sh - the suites of `make check` (after deps and the build): lint, unit, asan (the
# unit tests with ASan+UBSan), integration, integration-asan (the same against the
# sanitizer build of the node, whose logs are checked for sanitizer reports), browser.
# Runs them all even when one fails, then prints a summary and
#   check: N passed, N failed
# counting tests (each suite's own counts; lint counts as one). Exits non-zero when any
# suite failed. A suite whose runner does not exist yet
# counts as failed, with a message: nothing is skipped silently.
# ZC_CHECK_SUITES="lint unit" runs only those (for a quicker loop by hand).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

read -r -a SUITES <<<"${ZC_CHECK_SUITES:-lint unit asan integration integration-asan browser}"
declare -A RESULT=() SECONDS_TAKEN=() NOTE=()
TESTS_PASSED=0 TESTS_FAILED=0

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
suite_integration-asan() {
	make --no-print-directory asan-bin || return 1
	ZC_BIN_DIR=build/asan/bin python3 tests/integration/run.py
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
	out=$(mktemp)
	( "suite_$s" ) 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	# the suite's own closing counts: "X: N passed, N failed" or node's "ℹ pass N / ℹ fail N"
	np=$(grep -aoE '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1 | grep -oE '^[0-9]+')
	nf=$(grep -aoE '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1 | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	if [ -z "$np" ]; then
		np=$(grep -aoE '^. pass [0-9]+' "$out" | tail -n 1 | grep -oE '[0-9]+$')
		nf=$(grep -aoE '^. fail [0-9]+' "$out" | tail -n 1 | grep -oE '[0-9]+$')
	fi
	if [ -z "$np" ]; then np=$((rc == 0 ? 1 : 0)); nf=$((rc == 0 ? 0 : 1)); fi
	[ "$rc" -ne 0 ] && [ "${nf:-0}" -eq 0 ] && nf=1
	TESTS_PASSED=$((TESTS_PASSED + np)) TESTS_FAILED=$((TESTS_FAILED + ${nf:-0}))
	rm -f "$out"
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
echo "suites: $passed passed, $failed failed"
echo "check: $TESTS_PASSED passed, $TESTS_FAILED failed"
[ "$failed" -eq 0 ]
