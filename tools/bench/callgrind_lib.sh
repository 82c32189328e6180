# callgrind_lib.sh - what the callgrind counts (callgrind_surge.sh, callgrind_catalog.sh)
# share: sourced after `set -euo pipefail`. Gives ROOT (the cwd), BIN, WORK, FED, a cleanup
# that stops the server under valgrind (VG_PID) and the federation, and:
#   free_port                  a free loopback port
#   demo_node PORT             a one-node demo federation on PORT (left running)
#   node_args                  ARGS: that node's command line; the node stopped
#   total FILE...              instructions summed over callgrind files
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=${ZC_BIN:-bin}
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null || { echo "valgrind is missing" >&2; exit 1; }
WORK=$(mktemp -d /tmp/zc-cg.XXXXXX)
FED=$WORK/fed
VG_PID=""
cleanup() {
	[ -n "$VG_PID" ] && kill -TERM "$VG_PID" 2>/dev/null && wait "$VG_PID" 2>/dev/null
	tools/zc-fed down --dir "$FED" >/dev/null 2>&1 || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
demo_node() {
	ZC_BIN=$BIN tools/zc-fed up --dir "$FED" --nodes 1 --base-port "$1" --demo >"$WORK/fed.out" 2>&1 ||
		{ cat "$WORK/fed.out" >&2; exit 1; }
}
node_args() {
	mapfile -d '' ARGS <"/proc/$(cat "$FED/650000/node.pid")/cmdline"
	tools/zc-fed down --dir "$FED" >/dev/null 2>&1
}
total() { awk '/^summary:|^totals:/ {s += $2; nextfile} END {print s + 0}' "$@"; }
