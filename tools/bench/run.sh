#!/usr/bin/env bash
# bench/run.sh - benchmarks of one node (make bench). Reports, never gates: the aims are
# printed as "holds" / "misses" and the exit status is 0 unless the bench itself broke.
#
# Each scenario is a function scenario_NAME using the helpers below; ZC_BENCH="a b" picks
# scenarios (default: all in SCENARIOS). Loopback only; every run is bounded in time.
#   ZC_BENCH_DURATION  seconds per measurement (default 10)
#   ZC_BENCH_CONNS     connections (default 64)
#   ZC_BIN             binaries (default bin/)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1

SCENARIOS=(catalog_vs_static)
DURATION=${ZC_BENCH_DURATION:-10}
CONNS=${ZC_BENCH_CONNS:-64}
THREADS=2
WARMUP=2

# Aims (DESIGN/brief): JSON at >= 60% of the static rate, p99 < 10 ms at 64 connections,
# < 30 MB resident when idle.
AIM_RATIO=0.60
AIM_P99_MS=10
AIM_IDLE_RSS_MB=30

die() { echo "bench: $*" >&2; exit 1; }

for tool in wrk curl python3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps)"
done

WORK=$(mktemp -d /tmp/zc-bench.XXXXXX) || die "mktemp failed"
FED=$WORK/fed
SAMPLER_PID=""
# stop_all: the sampler and the scenario's nodes (each scenario's exit, and the script's).
stop_all() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=""
	[ -d "$FED" ] && tools/zc-fed down --dir "$FED" >/dev/null 2>&1
	rm -rf "$FED"
}
trap 'stop_all; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# ---- helpers ---------------------------------------------------------------------------

free_port() {
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ports_free PORT N: PORT..PORT+N-1 can be bound on 127.0.0.1.
ports_free() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys
p, n = int(sys.argv[1]), int(sys.argv[2])
for q in range(p, p + n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT is no obstacle, a listener is
    try:
        s.bind(("127.0.0.1", q))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}

# start_fed NODES [--demo]: a federation in $FED on free loopback ports; sets BASE_URL, NODE_PID.
start_fed() {
	local n=$1 port
	shift
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		[ $((port + n)) -le 65536 ] && ports_free "$port" "$n" || continue
		if tools/zc-fed up --dir "$FED" --nodes "$n" --base-port "$port" "$@" >"$WORK/fed.out" 2>&1; then
			BASE_URL=http://127.0.0.1:$port
			NODE_PID=$(cat "$FED/650000/node.pid")
			return 0
		fi
		grep -q 'in use' "$WORK/fed.out" || break
	done
	cat "$WORK/fed.out" >&2
	die "could not start the federation"
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null; }

# sampler_start PID: writes the peak VmRSS (kB), sampled every 0.2 s, to $WORK/peak.
sampler_start() {
	local pid=$1
	(
		peak=0
		while [ -r "/proc/$pid/status" ]; do
			r=$(rss_kb "$pid")
			[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$WORK/peak"
			sleep 0.2
		done
	) &
	SAMPLER_PID=$!
}
sampler_stop() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null && wait "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=""
	cat "$WORK/peak" 2>/dev/null || echo 0
}

# wrk_run NAME URL: warm-up, then one measurement; sets RPS and P99_MS, keeps wrk's report.
wrk_run() {
	local url=$2 out=$WORK/wrk-$1.txt
	wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null 2>&1
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed on $url"; }
	RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	P99_MS=$(awk '$1 == "99%" {print $2}' "$out" | to_ms)
	ERRORS=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {n += 1} END {print n + 0}' "$out")
	[ -n "$RPS" ] || { cat "$out" >&2; die "could not read wrk's report for $url"; }
}

# to_ms: wrk's "850.00us" / "1.23ms" / "1.02s" / "2.00m" -> milliseconds.
to_ms() {
	awk '{
		v = $1; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
		printf "%.2f\n", v * f
	}'
}

# aim TEXT CONDITION(awk expression): prints whether an aim holds.
aim() {
	local text=$1 cond=$2
	if awk "BEGIN { exit !($cond) }"; then
		printf '  %-52s holds\n' "$text"
	else
		printf '  %-52s MISSES\n' "$text"
	fi
}

# ---- scenarios -------------------------------------------------------------------------

# The catalogue (a JSON endpoint) against a static file of similar size from the same node.
scenario_catalog_vs_static() {
	start_fed 1 --demo
	local cat_url=$BASE_URL/api/v1/catalog cat_size code
	code=$(curl -s -o "$WORK/catalog.json" -w '%{http_code}' "$cat_url")
	[ "$code" = 200 ] || die "GET /api/v1/catalog answered $code"
	cat_size=$(stat -c %s "$WORK/catalog.json")

	# The file under web/ closest in size to the catalogue's body (site.css if there is none).
	local static rel static_size
	static=$(find web -type f -size +0 -printf '%s %p\n' 2>/dev/null |
		awk -v t="$cat_size" '{d = $1 - t; if (d < 0) d = -d; if (best == "" || d < bd) {best = $2; bd = d}} END {print best}')
	[ -n "$static" ] || static=web/css/site.css
	[ -f "$static" ] || die "no static file under web/ to compare with"
	rel=${static#web/}
	static_size=$(stat -c %s "$static")
	code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/$rel")
	[ "$code" = 200 ] || die "GET /$rel answered $code"

	sleep 1
	local idle_kb peak_kb cat_rps cat_p99 cat_err st_rps st_p99 st_err
	idle_kb=$(rss_kb "$NODE_PID")
	sampler_start "$NODE_PID"
	wrk_run catalog "$cat_url"
	cat_rps=$RPS cat_p99=$P99_MS cat_err=$ERRORS
	wrk_run static "$BASE_URL/$rel"
	st_rps=$RPS st_p99=$P99_MS st_err=$ERRORS
	peak_kb=$(sampler_stop)

	local ratio
	ratio=$(awk -v a="$cat_rps" -v b="$st_rps" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
	echo "== catalog_vs_static: one node, wrk -t$THREADS -c$CONNS -d${DURATION}s --latency (after a ${WARMUP} s warm-up)"
	printf '  %-34s %10s %10s %8s %s\n' "what" "req/s" "p99 ms" "errors" "body"
	printf '  %-34s %10.0f %10.2f %8d %s\n' "GET /api/v1/catalog" "$cat_rps" "$cat_p99" "$cat_err" "$cat_size B"
	printf '  %-34s %10.0f %10.2f %8d %s\n' "GET /$rel (static)" "$st_rps" "$st_p99" "$st_err" "$static_size B"
	echo "  ratio catalog/static: $ratio"
	echo "  node RSS: idle $((idle_kb / 1024)) MB ($idle_kb kB), peak under load $((peak_kb / 1024)) MB ($peak_kb kB)"
	echo "  aims:"
	aim "JSON endpoint >= 60% of the static rate ($ratio)" "$ratio >= $AIM_RATIO"
	aim "catalog p99 < ${AIM_P99_MS} ms at $CONNS connections ($cat_p99 ms)" "$cat_p99 < $AIM_P99_MS"
	aim "static p99 < ${AIM_P99_MS} ms at $CONNS connections ($st_p99 ms)" "$st_p99 < $AIM_P99_MS"
	aim "idle RSS < ${AIM_IDLE_RSS_MB} MB ($((idle_kb / 1024)) MB)" "$idle_kb < $AIM_IDLE_RSS_MB * 1024"
	[ "$cat_err" -eq 0 ] && [ "$st_err" -eq 0 ] || echo "  note: wrk saw errors or non-2xx answers (see above)"
}

# Later: scenario_sections_concurrent - many applicants saving application sections at once.

# ---- main ------------------------------------------------------------------------------

[ -x "${ZC_BIN:-bin}/zc-node" ] || die "${ZC_BIN:-bin}/zc-node is missing: run make first"
echo "bench: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(wrk --version 2>&1 | head -n 1 | awk '{print $1, $2}')"
status=0
for s in ${ZC_BENCH:-${SCENARIOS[*]}}; do
	declare -F "scenario_$s" >/dev/null || { echo "bench: unknown scenario $s" >&2; status=2; continue; }
	echo
	# A scenario runs in a subshell: its failure (die) ends it alone, and its nodes stop.
	( trap stop_all EXIT; "scenario_$s" ) || status=1
done
exit $status
