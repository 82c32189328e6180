#!/usr/bin/env bash
# Browser tests: start a two-node demo federation (the region and Urumqi: the region
# drop-down needs a second node) on free loopback ports, run the portal tests against the
# region with Debian's chromium, and always stop the federation. ZC_NODES=N for more.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm install --no-audit --no-fund)
fi
for f in bin/zc-node tools/zc-fed; do
  [ -x "$f" ] || { echo "browser tests: $f is missing (run make first)" >&2; exit 1; }
done

# A free port on the loopback, as the kernel hands it out.
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zc-browser.XXXXXX")
status=1

finish() {
  tools/zc-fed down --dir "$tmp" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ]; then
    for log in "$tmp"/*/node.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $log ----" >&2
      tail -n 40 "$log" >&2
    done
  fi
  rm -rf "$tmp"
}
trap finish EXIT
trap 'exit 130' INT TERM

tools/zc-fed up --dir "$tmp" --nodes "${ZC_NODES:-2}" --base-port "$port" --demo
export ZC_URL="http://127.0.0.1:$port"
export ZC_DIR="$tmp"

set +e
node --test tests/browser/
status=$?
set -e
exit "$status"
