#!/usr/bin/env python3
"""run.py - runs the integration tests: every tests/integration/test_*.py module with unittest,
one line per test, then `integration: N passed, N failed`. A skipped test, an error, a
sanitizer report or a crash in a node's log all count as failures; exit status 1 on any.

  python3 tests/integration/run.py [-k SUBSTRING]... [MODULE]...
  ZC_BIN_DIR=build/asan/bin python3 tests/integration/run.py     (the sanitizer build)
"""
import argparse
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import zc_test  # noqa: E402


class Result(unittest.TestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0
        self.bad = []
        self.t0 = None

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()

    def _line(self, word, test, detail=""):
        ms = (time.monotonic() - self.t0) * 1000 if self.t0 else 0
        print(f"{word:5} {test.id()} ({ms:.0f} ms)" + (f"\n{detail}" if detail else ""), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.bad.append(test.id())
        self._line("FAIL", test, self._indent(self.failures[-1][1]))

    def addError(self, test, err):
        super().addError(test, err)
        self.bad.append(test.id() if hasattr(test, "id") else str(test))
        self._line("ERROR", test, self._indent(self.errors[-1][1]))

    def addSubTest(self, test, subtest, err):
        # a failing subTest fails its test: the test then reports neither success nor failure
        # itself, so it is counted here (once per failing subTest)
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.bad.append(subtest.id())
            kind = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            detail = (self.failures if kind == "FAIL" else self.errors)[-1][1]
            self._line(kind, subtest, self._indent(detail))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.bad.append(test.id())
        self._line("FAIL", test, f"    skipped ({reason}); a skipped test counts as a failure")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.bad.append(test.id())
        self._line("FAIL", test, "    marked expectedFailure; this suite never expects failures")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.bad.append(test.id())
        self._line("FAIL", test, "    unexpected success")

    @staticmethod
    def _indent(text):
        lines = text.rstrip().splitlines()
        # the assertion and its location are what a reader needs; keep the tail
        return "\n".join("    " + l for l in lines[-12:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[], help="run tests whose id contains this")
    ap.add_argument("modules", nargs="*", help="test module names (default: every test_*.py)")
    args = ap.parse_args()

    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)

    loader = unittest.TestLoader()
    if args.modules:
        suite = unittest.TestSuite(loader.loadTestsFromName(m.removesuffix(".py")) for m in args.modules)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    tests = list(flatten(suite))
    if args.k:
        tests = [t for t in tests if any(k in t.id() for k in args.k)]
    result = Result()
    t0 = time.monotonic()
    print(f"integration: binaries from {zc_test.bin_dir()}", flush=True)
    interrupted = False
    try:
        unittest.TestSuite(tests).run(result)
    except KeyboardInterrupt:
        interrupted = True
        print("integration: interrupted", flush=True)
    finally:
        zc_test.stop_all()
    failed = len(result.bad)
    for label, excerpt in zc_test.FINDINGS:
        failed += 1
        print(f"FAIL  sanitizer/crash report in the log of node '{label}':\n{excerpt}", flush=True)
    if interrupted:
        failed += 1
    if not tests:
        print("integration: no tests found")
        failed += 1
    print(f"integration: took {time.monotonic() - t0:.1f} s")
    print(f"integration: {result.passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
