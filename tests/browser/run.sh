#!/usr/bin/env bash
# Browser tests: start a two-node demo federation (the region and Urumqi: the region
# drop-down needs a second node) on free loopback ports, run the portal tests against the
# region with Debian's chromium, and always stop the federation. ZC_NODES=N for more;
# test files as arguments run only those (default: all of tests/browser/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
  (cd "$here" && npm install --no-audit --no-fund)
fi
for f in bin/zc-node tools/zc-fed; do
  [ -x "$f" ] || { echo "browser tests: $f is missing (run make first)" >&2; exit 1; }
done

nodes=${ZC_NODES:-2}
# A base port with $nodes free ports from it on, below the kernel's ephemeral range (where
# outgoing connections of parallel runs take the port next to the one it hands out).
free_ports() {
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]);
    const free = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(false)); s.listen(p, "127.0.0.1", () => s.close(() => ok(true))); });
    (async () => {
      for (let i = 0; i < 200; i++) {
        const base = 20000 + Math.floor(Math.random() * 12000);
        let all = true;
        for (let k = 0; k < n && all; k++) all = await free(base + k);
        if (all) { console.log(base); return; }
      }
      process.exit(1);
    })();' "$1"
}
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

# Another program may still take a port between the check and the start: try again.
for attempt in 1 2 3; do
  port=$(free_ports "$nodes")
  if tools/zc-fed up --dir "$tmp" --nodes "$nodes" --base-port "$port" --demo; then break; fi
  tools/zc-fed down --dir "$tmp" >/dev/null 2>&1 || true
  rm -rf "${tmp:?}"/* 2>/dev/null || true
  [ "$attempt" -eq 3 ] && exit 1
done
export ZC_URL="http://127.0.0.1:$port"
export ZC_DIR="$tmp"

set +e
# one file at a time, whatever the cores: federation.test.mjs stops and restarts Urumqi
node --test --test-concurrency=1 "${@:-tests/browser/}"
status=$?
set -e
exit "$status"
