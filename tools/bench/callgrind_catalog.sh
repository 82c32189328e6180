#!/usr/bin/env bash
# bench/callgrind_catalog.sh - user-space instructions per GET /api/v1/catalog of one node
# and of the bare lws server (bare_lws.c) answering the same bytes, counted by callgrind:
# the deterministic side of the catalog_vs_static scenario's "catalog / bare lws" ratio.
#
# Starts a demo node, fetches the catalogue, restarts the node under callgrind with
# instrumentation off; then for the node and for bare_lws in turn: warms up, counts REQS
# requests on one keep-alive connection, dumps. Prints "node_instructions_per_request N",
# "bare_instructions_per_request N" and their ratio; the callgrind files stay in the
# printed directory for callgrind_annotate.
#   usage: tools/bench/callgrind_catalog.sh [REQS]   (ZC_BIN: binaries)
set -euo pipefail
REQS=${1:-400}
# shellcheck source=tools/bench/callgrind_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/callgrind_lib.sh"
mkdir -p build/bench
[ -x build/bench/bare_lws ] && [ ! tools/bench/bare_lws.c -nt build/bench/bare_lws ] ||
	# shellcheck disable=SC2046 # pkg-config's flags are a word list
	gcc -O2 -Wall -Wextra -Werror -o build/bench/bare_lws tools/bench/bare_lws.c $(pkg-config --cflags --libs libwebsockets)
port=$(free_port)
demo_node "$port"
curl -sf -o "$WORK/catalog.json" "http://127.0.0.1:$port/api/v1/catalog"
node_args

# count NAME PORT ARGS...: the server under callgrind, REQS requests counted, dump NAME
count() {
	local name=$1 p=$2
	shift 2
	valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$WORK/$name.%p" "$@" \
		>"$WORK/$name.log" 2>&1 </dev/null &
	VG_PID=$!
	python3 - "$p" "$REQS" "$VG_PID" "$name" <<'PY'
import http.client, subprocess, sys, time
port, reqs, vg, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", "/api/v1/catalog"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.2)
def get():
    c.request("GET", "/api/v1/catalog", headers={"Accept": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit("GET /api/v1/catalog answered %d" % r.status)
def ctl(*a):
    subprocess.run(["callgrind_control", *a, vg], check=True, stdout=subprocess.DEVNULL)
ctl("-i", "on")
for _ in range(50): get()
ctl("-z")
for _ in range(reqs): get()
ctl("-d", name)
PY
	kill -TERM "$VG_PID"; wait "$VG_PID" 2>/dev/null || true; VG_PID=""
}
count node "$port" "${ARGS[@]}"
bport=$(free_port)
count bare "$bport" build/bench/bare_lws "$bport" "$WORK/catalog.json"
node=$(( $(total $(grep -l 'node' "$WORK"/node.*.[0-9]*-[0-9]*)) / REQS ))
bare=$(( $(total $(grep -l 'bare' "$WORK"/bare.*.[0-9]*-[0-9]*)) / REQS ))
echo "node_instructions_per_request $node"
echo "bare_instructions_per_request $bare"
echo "bare_over_node $(awk -v a="$bare" -v b="$node" 'BEGIN { printf "%.2f", a / b }')"
echo "callgrind files: $WORK"
