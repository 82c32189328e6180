#!/usr/bin/env bash
# bench/run.sh - benchmarks of one node (make bench). Reports, never gates: the aims are
# printed as "holds" / "misses" and the exit status is 0 unless the bench itself broke.
#
# Each scenario is a function scenario_NAME using the helpers below; ZC_BENCH="a b" picks
# scenarios (default: all in SCENARIOS). Loopback only; every run is bounded in time.
#   ZC_BENCH_DURATION  seconds per measurement (default 10)
#   ZC_BENCH_CONNS     connections (default 64)
#   ZC_BIN             binaries (default bin/)
#   ZC_BENCH_ROUNDS    catalog_vs_static: turns of the catalogue and the bare lws server (3)
#   ZC_BENCH_PORTAL_RUNS  portal_load: page loads of each kind, the median reported (3)
#   (surge: ZC_BENCH_APPLICANTS, ZC_BENCH_PROFILE; see scenario_surge)
#   (forms: ZC_BENCH_FORM_CONNS, ZC_BENCH_PROBE_RATE; see scenario_forms)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1

SCENARIOS=(catalog_vs_static surge forms fedlog catchup audit lag fed_login portal_load)
DURATION=${ZC_BENCH_DURATION:-10}
CONNS=${ZC_BENCH_CONNS:-64}
THREADS=2
WARMUP=2

# Aims (DESIGN/brief, issue 6): JSON at >= 60% of the static rate and >= 80% of a bare lws
# handler (tools/bench/bare_lws.c) answering the same bytes, p99 < 10 ms at 64 connections,
# < 30 MB resident when idle.
AIM_RATIO=0.60
AIM_BARE_RATIO=0.80
AIM_P99_MS=10
AIM_IDLE_RSS_MB=30

die() { echo "bench: $*" >&2; exit 1; }

for tool in wrk curl python3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps)"
done

WORK=$(mktemp -d /tmp/zc-bench.XXXXXX) || die "mktemp failed"
FED=$WORK/fed
SAMPLER_PID=""
PERF_PID=""
BARE_PID=""
WRK_ARGS=() # extra wrk options of the next measurements (e.g. a cookie header)
# stop_all: the sampler, a profiler, the bare lws server and the scenario's nodes (each
# scenario's exit, and the script's).
stop_all() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=""
	[ -n "$BARE_PID" ] && kill -TERM "$BARE_PID" 2>/dev/null && wait "$BARE_PID" 2>/dev/null
	BARE_PID=""
	[ -n "$PERF_PID" ] && kill -TERM "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
	PERF_PID=""
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
		# each node's federation port is its HTTP port + 1000 (tools/zc-fed)
		[ $((port + 1000 + n)) -le 65536 ] && ports_free "$port" "$n" && ports_free $((port + 1000)) "$n" || continue
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

# build_bench_tools: the C load generator, the sqlite baseline and the bare lws server,
# into build/bench/ (rebuilt when their source is newer).
build_bench_tools() {
	mkdir -p build/bench || die "cannot create build/bench"
	local src libs
	for src in surge sqlite_insert bare_lws; do
		[ -x "build/bench/$src" ] && [ ! "tools/bench/$src.c" -nt "build/bench/$src" ] && continue
		case $src in
		sqlite_insert) libs=$(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3) ;;
		bare_lws) libs=$(pkg-config --cflags --libs libwebsockets 2>/dev/null || echo -lwebsockets) ;;
		*) libs="" ;;
		esac
		# shellcheck disable=SC2086 # libs is a word list
		gcc -O2 -Wall -Wextra -Werror -o "build/bench/$src" "tools/bench/$src.c" $libs ||
			die "cannot build build/bench/$src"
	done
}

# start_bare BODY_FILE: the bare lws server (bare_lws.c) on a free port; sets BARE_URL.
start_bare() {
	local port
	port=$(free_port)
	build/bench/bare_lws "$port" "$1" >"$WORK/bare.log" 2>&1 &
	BARE_PID=$!
	BARE_URL=http://127.0.0.1:$port/api/v1/catalog
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "$BARE_URL" && return 0
		kill -0 "$BARE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/bare.log" >&2
	die "the bare lws server did not start"
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null; }

# sampler_start PID: writes the peak VmRSS (kB), sampled every 0.2 s, to $WORK/peak.
sampler_start() {
	local pid=$1
	echo 0 >"$WORK/peak"
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
	wrk ${WRK_ARGS[@]+"${WRK_ARGS[@]}"} -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$2" >/dev/null 2>&1
	wrk_run_once "$1" "$2" "$DURATION"
}

# wrk_pair NAME_A URL_A NAME_B URL_B ROUNDS: A and B measured in turns (warm-up once each,
# then ROUNDS x DURATION/ROUNDS seconds each), so that a machine whose load drifts weighs
# on both alike. Sets RPS_A/RPS_B (all requests / all seconds), P99_A/P99_B (the worst
# round's) and ERR_A/ERR_B.
wrk_pair() {
	local na=$1 ua=$2 nb=$3 ub=$4 rounds=$5 secs i
	secs=$(awk -v d="$DURATION" -v r="$rounds" 'BEGIN { s = int(d / r + 0.5); print (s < 1) ? 1 : s }')
	wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$ua" >/dev/null 2>&1
	wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$ub" >/dev/null 2>&1
	: >"$WORK/pair.txt"
	for ((i = 1; i <= rounds; i++)); do
		wrk_run_once "$na-$i" "$ua" "$secs" && echo "a $RPS $P99_MS $ERRORS" >>"$WORK/pair.txt"
		wrk_run_once "$nb-$i" "$ub" "$secs" && echo "b $RPS $P99_MS $ERRORS" >>"$WORK/pair.txt"
	done
	read -r RPS_A P99_A ERR_A < <(awk '$1 == "a" {r += $2; n++; if ($3 > p) p = $3; e += $4} END {printf "%.0f %.2f %d\n", r / n, p, e}' "$WORK/pair.txt")
	read -r RPS_B P99_B ERR_B < <(awk '$1 == "b" {r += $2; n++; if ($3 > p) p = $3; e += $4} END {printf "%.0f %.2f %d\n", r / n, p, e}' "$WORK/pair.txt")
}

# wrk_run_once NAME URL SECONDS: one measurement, no warm-up; sets RPS, P99_MS, ERRORS.
wrk_run_once() {
	local url=$2 out=$WORK/wrk-$1.txt
	wrk ${WRK_ARGS[@]+"${WRK_ARGS[@]}"} -t"$THREADS" -c"$CONNS" -d"${3}s" --latency "$url" >"$out" 2>&1 ||
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

CATALOG_ROUNDS=${ZC_BENCH_ROUNDS:-3}

# The catalogue (a JSON endpoint) against a static file of similar size from the same node,
# and against a bare lws handler (bare_lws.c) answering the catalogue's own bytes, headers
# and body in one lws_write: what lws alone costs, so the ratio is the node's own overhead.
scenario_catalog_vs_static() {
	build_bench_tools
	start_fed 1 --demo
	local cat_url=$BASE_URL/api/v1/catalog cat_size code
	code=$(curl -s -o "$WORK/catalog.json" -w '%{http_code}' "$cat_url")
	[ "$code" = 200 ] || die "GET /api/v1/catalog answered $code"
	cat_size=$(stat -c %s "$WORK/catalog.json")

	# The file the node serves (build/web, else web/) closest in size to the catalogue's body.
	local static rel static_size webdir=build/web
	[ -d "$webdir" ] || webdir=web
	static=$(find "$webdir" -type f -size +0 ! -name '*.gz' -printf '%s %p\n' 2>/dev/null |
		awk -v t="$cat_size" '{d = $1 - t; if (d < 0) d = -d; if (best == "" || d < bd) {best = $2; bd = d}} END {print best}')
	[ -f "$static" ] || die "no static file under $webdir/ to compare with"
	rel=${static#"$webdir"/}
	static_size=$(stat -c %s "$static")
	code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/$rel")
	[ "$code" = 200 ] || die "GET /$rel answered $code"
	start_bare "$WORK/catalog.json"
	cmp -s "$WORK/catalog.json" <(curl -s "$BARE_URL") || die "the bare lws server does not answer the catalogue's bytes"

	sleep 1
	local idle_kb peak_kb cat_rps cat_p99 cat_err st_rps st_p99 st_err bare_rps bare_p99 bare_err
	idle_kb=$(rss_kb "$NODE_PID")
	sampler_start "$NODE_PID"
	wrk_pair catalog "$cat_url" bare "$BARE_URL" "$CATALOG_ROUNDS"
	cat_rps=$RPS_A cat_p99=$P99_A cat_err=$ERR_A bare_rps=$RPS_B bare_p99=$P99_B bare_err=$ERR_B
	wrk_run static "$BASE_URL/$rel"
	st_rps=$RPS st_p99=$P99_MS st_err=$ERRORS
	peak_kb=$(sampler_stop)

	local ratio bare_ratio
	ratio=$(awk -v a="$cat_rps" -v b="$st_rps" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
	bare_ratio=$(awk -v a="$cat_rps" -v b="$bare_rps" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
	echo "== catalog_vs_static: one node, wrk -t$THREADS -c$CONNS --latency; the catalogue and the bare lws server in" \
		"$CATALOG_ROUNDS turns of $((DURATION / CATALOG_ROUNDS)) s each (p99: the worst turn), the static file" \
		"${DURATION} s; each after a ${WARMUP} s warm-up"
	printf '  %-34s %10s %10s %8s %s\n' "what" "req/s" "p99 ms" "errors" "body"
	printf '  %-34s %10.0f %10.2f %8d %s\n' "GET /api/v1/catalog" "$cat_rps" "$cat_p99" "$cat_err" "$cat_size B"
	printf '  %-34s %10.0f %10.2f %8d %s\n' "GET /$rel (static)" "$st_rps" "$st_p99" "$st_err" "$static_size B"
	printf '  %-34s %10.0f %10.2f %8d %s\n' "bare lws, one lws_write (bare_lws)" "$bare_rps" "$bare_p99" "$bare_err" \
		"$cat_size B"
	echo "  ratio catalog/static: $ratio; catalog/bare lws: $bare_ratio"
	echo "  node RSS: idle $((idle_kb / 1024)) MB ($idle_kb kB), peak under load $((peak_kb / 1024)) MB ($peak_kb kB)"
	echo "  aims:"
	aim "JSON endpoint >= 60% of the static rate ($ratio)" "$ratio >= $AIM_RATIO"
	aim "JSON endpoint >= 80% of the bare lws rate ($bare_ratio)" "$bare_ratio >= $AIM_BARE_RATIO"
	aim "catalog p99 < ${AIM_P99_MS} ms at $CONNS connections ($cat_p99 ms)" "$cat_p99 < $AIM_P99_MS"
	aim "static p99 < ${AIM_P99_MS} ms at $CONNS connections ($st_p99 ms)" "$st_p99 < $AIM_P99_MS"
	aim "idle RSS < ${AIM_IDLE_RSS_MB} MB ($((idle_kb / 1024)) MB)" "$idle_kb < $AIM_IDLE_RSS_MB * 1024"
	[ "$cat_err" -eq 0 ] && [ "$st_err" -eq 0 ] && [ "$bare_err" -eq 0 ] ||
		echo "  note: wrk saw errors or non-2xx answers (see above)"
}

# Deadline surge: many applicants saving sections and then submitting on one node, next to
# a plain sqlite insert rate measured on this machine in the same run.
#   ZC_BENCH_APPLICANTS  applicants (default 200), spread over ZC_BENCH_CONNS connections
#   ZC_BENCH_DURATION    seconds of the timed phase (default 15 for this scenario)
#   ZC_BENCH_PROFILE=1   also record the node with perf during the timed phase and print
#                        the hottest functions (perf must be installed and allowed)
SURGE_APPLICANTS=${ZC_BENCH_APPLICANTS:-200}
SURGE_DURATION=${ZC_BENCH_DURATION:-15}
SURGE_SETUP_PARALLEL=16
SURGE_ROW_BYTES=500
SURGE_SQLITE_SECONDS=3
# Aims of issue 6, printed beside the sqlite figures of the same run (machines differ:
# compare a run's figures with each other, not with another machine's).
AIM_SURGE_SAVES=10000
AIM_SURGE_SUBMITS=5000
AIM_SURGE_P99_MS=10

# kv FILE KEY: the value of a "key value" line.
kv() { awk -v k="$2" '$1 == k {sub(/^[^ ]+ /, ""); print; exit}' "$1"; }

scenario_surge() {
	build_bench_tools
	start_fed 1 --demo
	local port=${BASE_URL##*:} n=$SURGE_APPLICANTS out=$WORK/surge.out
	[ -f "$FED/demo-accounts.json" ] || die "no $FED/demo-accounts.json"
	sleep 1
	local idle_kb before_kb peak_kb
	idle_kb=$(rss_kb "$NODE_PID")

	# set-up, not timed: register, create, attach, fill every section once
	python3 tools/bench/surge_setup.py "$BASE_URL" "$FED/demo-accounts.json" 650000 "$n" \
		"$SURGE_SETUP_PARALLEL" "$WORK/plan.tsv" >"$WORK/setup.out" 2>&1 ||
		{ cat "$WORK/setup.out" >&2; die "set-up failed"; }
	before_kb=$(rss_kb "$NODE_PID")

	# timed: saves for WARMUP + DURATION seconds, then one submit per application
	sampler_start "$NODE_PID"
	if [ "${ZC_BENCH_PROFILE:-0}" = 1 ] && command -v perf >/dev/null 2>&1; then
		# from the end of the warm-up to the end of the saves
		(sleep "$WARMUP" && exec perf record -F 499 --call-graph dwarf,16384 -p "$NODE_PID" \
			-o "$WORK/perf.data" -- sleep "$SURGE_DURATION") >"$WORK/perf.log" 2>&1 &
		PERF_PID=$!
	fi
	build/bench/surge "$port" "$WORK/plan.tsv" "$CONNS" "$SURGE_DURATION" "$WARMUP" 1 "$NODE_PID" >"$out" 2>"$WORK/surge.err" ||
		{ cat "$WORK/surge.err" "$out" >&2; die "the load generator failed"; }
	peak_kb=$(sampler_stop)
	[ -n "$PERF_PID" ] && wait "$PERF_PID" 2>/dev/null
	PERF_PID=""
	kill -0 "$NODE_PID" 2>/dev/null || die "the node died under load (see $FED/650000/node.log)"
	local after_kb
	after_kb=$(rss_kb "$NODE_PID")
	stop_all # the baseline runs on a quiet machine

	# baseline: plain sqlite inserts on this machine, same filesystem
	build/bench/sqlite_insert "$WORK/baseline.db" "$SURGE_SQLITE_SECONDS" "$SURGE_ROW_BYTES" "$n" \
		>"$WORK/sqlite.out" 2>&1 || { cat "$WORK/sqlite.out" >&2; die "the sqlite baseline failed"; }
	rm -f "$WORK"/baseline.db*

	local save_rps p50 p90 p99 pmax errs sub_rps sub_p50 sub_p99 sub_max sub_errs ins_rps sav_tps ratio
	save_rps=$(kv "$out" save_rps) p50=$(kv "$out" save_p50_ms) p90=$(kv "$out" save_p90_ms)
	p99=$(kv "$out" save_p99_ms) pmax=$(kv "$out" save_max_ms) errs=$(kv "$out" save_errors)
	sub_rps=$(kv "$out" submit_rps) sub_p50=$(kv "$out" submit_p50_ms) sub_p99=$(kv "$out" submit_p99_ms)
	sub_max=$(kv "$out" submit_max_ms) sub_errs=$(kv "$out" submit_errors)
	ins_rps=$(kv "$WORK/sqlite.out" insert_rps) sav_tps=$(kv "$WORK/sqlite.out" save_tps)
	[ -n "$save_rps" ] && [ -n "$ins_rps" ] || { cat "$out" "$WORK/sqlite.out" >&2; die "could not read the results"; }
	ratio=$(awk -v a="$save_rps" -v b="$ins_rps" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
	local save_share submit_share
	save_share=$(awk -v a="$save_rps" -v b="$sav_tps" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
	submit_share=$(awk -v a="$sub_rps" -v b="$sav_tps" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')

	echo "== surge: one node, $n applicants on $(kv "$out" conns) keep-alive connections, $(kv "$out" sections) sections each;"
	echo "   section saves for ${SURGE_DURATION} s (after a ${WARMUP} s warm-up), then one submit per application"
	echo "  $(cat "$WORK/setup.out")"
	printf '  %-34s %10s %9s %9s %9s %9s %7s\n' "what" "per s" "p50 ms" "p90 ms" "p99 ms" "max ms" "errors"
	printf '  %-34s %10.0f %9.2f %9.2f %9.2f %9.2f %7d\n' "PUT .../sections/{name}" "$save_rps" "$p50" "$p90" "$p99" \
		"$pmax" "$errs"
	printf '  %-34s %10.0f %9.2f %9s %9.2f %9.2f %7d\n' "POST .../submit ($(kv "$out" submits))" "$sub_rps" "$sub_p50" \
		"" "$sub_p99" "$sub_max" "$sub_errs"
	printf '  %-34s %10.0f   (one row of %d B per transaction, WAL, synchronous=NORMAL)\n' "sqlite insert (baseline)" \
		"$ins_rps" "$SURGE_ROW_BYTES"
	printf '  %-34s %10.0f   (upsert of a section row + update of its application)\n' "sqlite save-shaped transaction" \
		"$sav_tps"
	echo "  ratio saves/s / sqlite inserts/s: $ratio; saves/s / sqlite save-shaped/s: $save_share;" \
		"submits/s / sqlite save-shaped/s: $submit_share"
	echo "  answers: $(kv "$out" statuses); reconnects $(kv "$out" reconnects)"
	local other
	other=$(kv "$out" cpu_other)
	echo "  CPU during the saves (cores of $(kv "$out" cpu_cores)): node $(kv "$out" cpu_node)," \
		"load generator $(kv "$out" cpu_generator), everything else $other (other processes, interrupts);" \
		"node CPU per save $(kv "$out" cpu_node_ms_per_save) ms, of which sqlite's save-shaped transaction alone" \
		"takes $(awk -v t="$sav_tps" 'BEGIN { printf "%.3f", (t > 0) ? 1000 / t : 0 }') ms on this machine"
	awk -v o="$other" 'BEGIN { exit !(o > 0.3) }' &&
		echo "  WARNING: other work used $other cores during the measurement: these figures understate the node"
	local first
	first=$(kv "$out" first_error)
	[ -n "$first" ] && echo "  first error: $first"
	echo "  node RSS: idle $((idle_kb / 1024)) MB, after set-up (before load) $((before_kb / 1024)) MB ($before_kb kB)," \
		"peak under load $((peak_kb / 1024)) MB ($peak_kb kB), after $((after_kb / 1024)) MB"
	echo "  aims:"
	aim "section saves >= $AIM_SURGE_SAVES/s ($save_rps/s)" "$save_rps >= $AIM_SURGE_SAVES"
	aim "save p99 < ${AIM_SURGE_P99_MS} ms at $(kv "$out" conns) connections ($p99 ms)" "$p99 < $AIM_SURGE_P99_MS"
	aim "submits >= $AIM_SURGE_SUBMITS/s ($sub_rps/s)" "$sub_rps >= $AIM_SURGE_SUBMITS"
	[ "$errs" -eq 0 ] && [ "$sub_errs" -eq 0 ] || echo "  note: non-200 answers (see the first error above)"
	if [ -f "$WORK/perf.data" ]; then
		echo "  node profile during the saves (perf, share of the node's CPU):"
		echo "    by library (self time):"
		perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null |
			grep -E '^ +[0-9.]+%' | head -n 8 | sed 's/^ */      /'
		echo "    node functions, with what they call (inclusive), above 1%:"
		perf report -i "$WORK/perf.data" --children --sort dso,symbol --stdio -g none --percent-limit 1 2>/dev/null |
			awk '/^ +[0-9.]+%/ && $3 == "zc-node" {printf "      %7s  %s\n", $1, $5}' | head -n 30
	fi
}

# Review forms: GET /api/v1/applications/{id}/form.pdf, rendered by pango and cairo on the
# node's worker threads (node/forms.c, node/form_pdf.c), beside the JSON answers of the same
# node in the same run (tools/bench/forms_load.py explains the phases): one applicant with
# a complete draft application (its owner gets the test form); GET /api/v1/me as fast as a
# Python client gets it; a paced probe of the same GET, alone and then while FORM_CONNS
# requesters fetch forms back to back; then wrk on the same GET with the applicant's
# cookie (the JSON rate without Python's client costs).
#   ZC_BENCH_FORM_CONNS  concurrent form requesters (default 4; the node has 2 workers)
#   ZC_BENCH_PROBE_RATE  the probe's requests per second, on 4 connections (default 100)
FORM_CONNS=${ZC_BENCH_FORM_CONNS:-4}
PROBE_RATE=${ZC_BENCH_PROBE_RATE:-100}
AIM_FORMS_P99_MS=10

scenario_forms() {
	local out=$WORK/forms.out
	start_fed 1 --demo
	[ -f "$FED/demo-accounts.json" ] || die "no $FED/demo-accounts.json"
	sleep 1
	local idle_kb peak_kb
	idle_kb=$(rss_kb "$NODE_PID")
	sampler_start "$NODE_PID"
	python3 tools/bench/forms_load.py "$BASE_URL" "$FED/demo-accounts.json" 650000 --node-pid "$NODE_PID" \
		--duration "$DURATION" --warmup "$WARMUP" --form-conns "$FORM_CONNS" --probe-rate "$PROBE_RATE" \
		>"$out" 2>"$WORK/forms.err" || { cat "$WORK/forms.err" "$out" >&2; die "forms_load.py failed"; }
	peak_kb=$(sampler_stop)
	kill -0 "$NODE_PID" 2>/dev/null || die "the node died under load (see $FED/650000/node.log)"
	local path wrk_rps wrk_p99 wrk_err
	path=$(kv "$out" json_path)
	WRK_ARGS=(-H "Cookie: zc_session=$(kv "$out" session)")
	wrk_run forms-json "$BASE_URL$path"
	WRK_ARGS=()
	wrk_rps=$RPS wrk_p99=$P99_MS wrk_err=$ERRORS

	local forms_rps json_rps ratio wrk_ratio p99 quiet_p99 rate
	forms_rps=$(kv "$out" forms_rps) json_rps=$(kv "$out" json_rps) rate=$(kv "$out" probe_rate)
	p99=$(kv "$out" probe_forms_p99_ms) quiet_p99=$(kv "$out" probe_quiet_p99_ms)
	[ -n "$forms_rps" ] && [ -n "$json_rps" ] && [ -n "$p99" ] || { cat "$out" >&2; die "could not read the results"; }
	ratio=$(awk -v a="$forms_rps" -v b="$json_rps" 'BEGIN { printf "%.4f", (b > 0) ? a / b : 0 }')
	wrk_ratio=$(awk -v a="$forms_rps" -v b="$wrk_rps" 'BEGIN { printf "%.4f", (b > 0) ? a / b : 0 }')
	echo "== forms: one node; GET /api/v1/applications/{id}/form.pdf (the $(kv "$out" form_kind) form of a" \
		"complete draft, $(kv "$out" form_bytes) B) beside GET $path ($(kv "$out" json_bytes) B) of the same applicant;"
	echo "   each measurement ${DURATION} s after a ${WARMUP} s warm-up; set-up (not timed): $(kv "$out" setup)"
	printf '  %-50s %9s %9s %9s %9s %7s\n' "what" "per s" "p50 ms" "p99 ms" "max ms" "errors"
	row() { # LABEL PREFIX
		printf '  %-50s %9.1f %9.2f %9.2f %9.2f %7d\n' "$1" "$(kv "$out" "${2}_rps")" "$(kv "$out" "${2}_p50_ms")" \
			"$(kv "$out" "${2}_p99_ms")" "$(kv "$out" "${2}_max_ms")" "$(kv "$out" "${2}_errors")"
	}
	row "GET $path, closed loop, $(kv "$out" json_procs) x $(kv "$out" json_conns) conns (Python)" json
	printf '  %-50s %9.1f %9s %9.2f %9s %7d\n' "GET $path, wrk -t$THREADS -c$CONNS" "$wrk_rps" "" "$wrk_p99" "" "$wrk_err"
	row "GET .../form.pdf, $(kv "$out" form_conns) requesters back to back" forms
	row "probe GET $path at $rate/s, $(kv "$out" probe_conns) conns, node idle" probe_quiet
	row "probe GET $path at $rate/s, while forms render" probe_forms
	echo "  ratio forms/s / JSON/s of this node: $ratio (Python client), $wrk_ratio (wrk)"
	local ph other
	for ph in forms json; do
		other=$(kv "$out" "${ph}_cpu_other")
		echo "  CPU while $([ $ph = forms ] && echo "forms render (with the probe)" || echo "the Python client gets JSON")" \
			"(cores of $(nproc)): node $(kv "$out" "${ph}_cpu_node"), load generator $(kv "$out" "${ph}_cpu_generator")," \
			"everything else $other; node CPU per $([ $ph = forms ] && echo "form $(kv "$out" forms_node_cpu_ms) ms" ||
				echo "answer $(kv "$out" json_node_cpu_us) µs")"
		awk -v o="$other" 'BEGIN { exit !(o > 0.3) }' &&
			echo "  WARNING: other work used $other cores during this measurement: these figures understate the node"
	done
	echo "  node RSS: idle $((idle_kb / 1024)) MB ($idle_kb kB), peak $((peak_kb / 1024)) MB ($peak_kb kB)"
	echo "  (probe latencies count from when each request was due, so a late client does not hide a slow node)"
	local first
	for first in json forms probe_quiet probe_forms; do
		[ -n "$(kv "$out" "${first}_first_error")" ] && echo "  first error ($first): $(kv "$out" "${first}_first_error")"
	done
	echo "  aims:"
	aim "other requests' p99 < ${AIM_FORMS_P99_MS} ms while forms render ($p99 ms)" "$p99 < $AIM_FORMS_P99_MS"
	echo "  (the same probe with no forms: p99 $quiet_p99 ms)"
}

# The signed log store (federation/fedlog.c), no node: signed entries appended in batches
# (each verified, one pack per batch, fsync on), read back from seq 1 and replayed, beside
# this machine's Ed25519 verify rate on one core measured in the same run.
#   ZC_BENCH_FEDLOG_ENTRIES (default 100000), ZC_BENCH_FEDLOG_BATCH (default 1000)
FEDLOG_ENTRIES=${ZC_BENCH_FEDLOG_ENTRIES:-100000}
FEDLOG_BATCH=${ZC_BENCH_FEDLOG_BATCH:-1000}
AIM_FEDLOG_RATIO=0.80

# build/bench/fedlog_bench, against build/libzcfed.a.
scenario_fedlog_build() {
	[ -f build/libzcfed.a ] || die "build/libzcfed.a is missing: run make first"
	mkdir -p build/bench || die "cannot create build/bench"
	# shellcheck disable=SC2046 # pkg-config's flags are a word list
	gcc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ifederation -o build/bench/fedlog_bench \
		tools/bench/fedlog_bench.c build/libzcfed.a $(pkg-config --libs libgit2 openssl jansson) -pthread ||
		die "cannot build build/bench/fedlog_bench"
}

scenario_fedlog() {
	local out=$WORK/fedlog.out dir=$WORK/fedlog
	[ -f build/libzcfed.a ] || die "build/libzcfed.a is missing: run make first"
	mkdir -p build/bench "$dir" || die "cannot create build/bench or $dir"
	scenario_fedlog_build
	build/bench/fedlog_bench "$dir" "$FEDLOG_ENTRIES" "$FEDLOG_BATCH" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "fedlog_bench failed"; }
	local verify append ratio size_kb packs
	verify=$(kv "$out" verify_per_s) append=$(kv "$out" append_per_s) ratio=$(kv "$out" append_vs_verify)
	size_kb=$(du -sk "$dir/fedlog.git" | awk '{print $1}')
	packs=$(find "$dir/fedlog.git/objects/pack" -name '*.pack' | wc -l)
	rm -rf "$dir"
	echo "== fedlog: $(kv "$out" entries) signed entries of $(kv "$out" entry_bytes_avg) B, batches of $(kv "$out" batch)," \
		"into a fresh fedlog.git"
	printf '  %-44s %10s\n' "what" "entries/s"
	printf '  %-44s %10.0f\n' "Ed25519 verify, one core (the ceiling)" "$verify"
	printf '  %-44s %10.0f\n' "Ed25519 sign, one core (making the entries)" "$(kv "$out" sign_per_s)"
	printf '  %-44s %10.0f\n' "append: checked, one pack per batch, fsync" "$append"
	printf '  %-44s %10.0f\n' "read back from seq 1 (fedlog_read)" "$(kv "$out" read_per_s)"
	printf '  %-44s %10.0f\n' "replay of every batch (idempotent no-op)" "$(kv "$out" replay_per_s)"
	echo "  ratio append / verify: $ratio; the log: $((size_kb / 1024)) MB in $packs packs"
	echo "  aims:"
	aim "append >= 80% of one core's verify rate ($ratio)" "$ratio >= $AIM_FEDLOG_RATIO"
}

# Replication (node/fedlink.c): CATCHUP_ENTRIES entries of 650100 put into the region's log
# while 650100 and 653100 are stopped; then 653100 starts empty-handed and catches up from
# the region over wss:// (verified, stored in git and sqlite, acknowledged batch by
# batch). Beside it, the ceiling measured in the same run: `openssl speed ed25519`'s
# verifications per second on one core; and the receiver's peak resident memory.
#   ZC_BENCH_CATCHUP_ENTRIES (default 100000)
CATCHUP_ENTRIES=${ZC_BENCH_CATCHUP_ENTRIES:-100000}
AIM_CATCHUP_RATIO=0.90

# seq_of NODEDIR ORIGIN: the seq of ORIGIN's head in a node's fed_heads (0 when none).
seq_of() {
	python3 - "$1/node.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=10)
r = db.execute("SELECT seq FROM fed_heads WHERE origin = ?", (sys.argv[2],)).fetchone()
print(r[0] if r else 0)
EOF
}

scenario_catchup() {
	local out=$WORK/catchup.out verify t0 t1 seq rss pid
	[ -x build/bench/fedlog_bench ] && [ ! tools/bench/fedlog_bench.c -nt build/bench/fedlog_bench ] ||
		scenario_fedlog_build
	verify=$(openssl speed -seconds 3 ed25519 2>/dev/null | awk '/^ *253 bits EdDSA/ {print $NF}')
	[ -n "$verify" ] || die "cannot read openssl speed ed25519"
	start_fed 3
	tools/zc-fed stop --dir "$FED" --node 653100 >/dev/null && tools/zc-fed stop --dir "$FED" --node 650100 >/dev/null &&
		tools/zc-fed stop --dir "$FED" --node 650000 >/dev/null || die "cannot stop the nodes"
	build/bench/fedlog_bench --fill "$FED/650000/fedlog.git" "$FED/federation.json" "$FED/keys/root.pem" \
		"$FED/keys/650100.key" 650100 "$CATCHUP_ENTRIES" >"$out" 2>&1 || { cat "$out" >&2; die "fill failed"; }
	tools/zc-fed up --dir "$FED" --node 650000 >/dev/null || die "cannot start the region"
	while [ "$(seq_of "$FED/650000" 650100)" -lt "$CATCHUP_ENTRIES" ]; do sleep 0.2; done  # the region's backfill
	t0=$(date +%s.%N)
	tools/zc-fed up --dir "$FED" --node 653100 >/dev/null || die "cannot start 653100"
	pid=$(cat "$FED/653100/node.pid")
	for _ in $(seq 1 3000); do
		seq=$(seq_of "$FED/653100" 650100)
		[ "$seq" -ge "$CATCHUP_ENTRIES" ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
	stop_all
	[ "$seq" -ge "$CATCHUP_ENTRIES" ] || die "653100 did not catch up ($seq of $CATCHUP_ENTRIES)"
	local rate ratio
	rate=$(awk -v n="$CATCHUP_ENTRIES" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
	ratio=$(awk -v r="$rate" -v v="$verify" 'BEGIN {printf "%.2f", r / v}')
	echo "== catchup: $CATCHUP_ENTRIES entries of 650100 from the region to a fresh 653100 over wss://"
	printf '  %-44s %10s\n' "what" "entries/s"
	printf '  %-44s %10.0f\n' "openssl speed ed25519 verify, one core" "$verify"
	printf '  %-44s %10.0f\n' "catch-up (start to last entry stored)" "$rate"
	echo "  ratio catch-up / verify: $ratio; the receiver's peak resident memory: ${rss} MB"
	echo "  aims:"
	aim "catch-up >= 90% of openssl's verify rate ($ratio)" "$ratio >= $AIM_CATCHUP_RATIO"
}

# A full audit (bin/zc-audit DIR) of a 15-node zc-fed directory built without running the
# nodes: keys and a signed manifest from zc-admin, then each node directory's fedlog.git
# filled with its own origin's chain (fedlog_bench --fill ... trusted, two at a time; not
# timed). Layout: 15 node directories, each holding its own origin's chain of
# AUDIT_ENTRIES / 15 entries and no copies, so that every entry audited is a distinct one
# and needs its own Ed25519 verification (a copy of an entry already verified elsewhere is
# checked without verifying it again: copies would only make the audit look faster). The
# ceiling, measured in the same run: `openssl speed ed25519` verifications per second on
# one core times the cores zc-audit uses (one thread per core, at most one per chain).
#   ZC_BENCH_AUDIT_ENTRIES (default 1000000)
AUDIT_ENTRIES=${ZC_BENCH_AUDIT_ENTRIES:-1000000}
AUDIT_NODES=15
AIM_AUDIT_RATIO=0.70

# audit_fed_make DIR NODES: keys (root and one per node) and a manifest listing the first
# NODES regions in DIR, as zc-fed lays them out (DIR/federation.json, DIR/keys/, DIR/<id>/);
# prints the node ids. The URLs are never dialled: no node runs.
audit_fed_make() {
	local dir=$1 n=$2 id name args=() ids=()
	mkdir -p "$dir/keys" || die "cannot create $dir/keys"
	bin/zc-admin keygen --out "$dir/keys" --id root >/dev/null || die "zc-admin keygen failed"
	while IFS=$'\t' read -r id name; do
		[ ${#ids[@]} -lt "$n" ] || break
		bin/zc-admin keygen --out "$dir/keys" --id "$id" >/dev/null || die "zc-admin keygen failed"
		args+=(--node "$id,$name,http://127.0.0.1:9,$dir/keys/$id.pem")
		ids+=("$id")
		mkdir -p "$dir/$id" || die "cannot create $dir/$id"
	done < <(bin/zc-admin regions --schemas schemas)
	[ ${#ids[@]} -eq "$n" ] || die "zc-admin regions lists fewer than $n regions"
	bin/zc-admin manifest --root "$dir/keys/root.key" --out "$dir/federation.json" "${args[@]}" >/dev/null ||
		die "zc-admin manifest failed"
	printf '%s\n' "${ids[@]}"
}

# cpu_jiffies: "busy total" jiffies of the whole machine so far (/proc/stat; idle and iowait
# are not busy).
cpu_jiffies() { awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit}' /proc/stat; }

scenario_audit() {
	local dir=$WORK/audit out=$WORK/audit.out per ids verify cores t0 t1 fill_s
	[ -x bin/zc-audit ] && [ -x bin/zc-admin ] || die "bin/zc-audit or bin/zc-admin is missing: run make first"
	[ -x build/bench/fedlog_bench ] && [ ! tools/bench/fedlog_bench.c -nt build/bench/fedlog_bench ] ||
		scenario_fedlog_build
	per=$(((AUDIT_ENTRIES + AUDIT_NODES - 1) / AUDIT_NODES))
	ids=$(audit_fed_make "$dir" "$AUDIT_NODES") || exit 1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2016 # $1 is xargs' argument, expanded by the inner shell
	xargs -P "$(nproc)" -I{} sh -c 'build/bench/fedlog_bench --fill "$1/$2/fedlog.git" "$1/federation.json" \
		"$1/keys/root.pem" "$1/keys/$2.key" "$2" "$3" trusted >/dev/null || echo "fill of $2 failed" >&2' \
		- "$dir" {} "$per" <<<"$ids" 2>"$WORK/fill.err"
	[ -s "$WORK/fill.err" ] && { cat "$WORK/fill.err" >&2; die "fill failed"; }
	t1=$(date +%s.%N)
	fill_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}')
	sync # the logs on disk before the timed part
	verify=$(openssl speed -seconds 3 ed25519 2>/dev/null | awk '/^ *253 bits EdDSA/ {print $NF}')
	[ -n "$verify" ] || die "cannot read openssl speed ed25519"
	cores=$(nproc) # zc-audit: a thread per core, at most one per chain
	[ "$cores" -gt "$AUDIT_NODES" ] && cores=$AUDIT_NODES
	local busy0 total0 busy1 total1
	read -r busy0 total0 < <(cpu_jiffies)
	/usr/bin/time -f 'wall %e user %U sys %S rss_kb %M' -o "$WORK/audit.time" bin/zc-audit "$dir" \
		>"$out" 2>"$WORK/audit.err"
	local rc=$? wall user sys rss_kb checked
	read -r busy1 total1 < <(cpu_jiffies)
	read -r _ wall _ user _ sys _ rss_kb <"$WORK/audit.time"
	checked=$(sed -n 's/.* \([0-9]*\) entries checked.*/\1/p' "$WORK/audit.err")
	local size_mb packs
	size_mb=$(du -sm "$dir" | awk '{print $1}')
	packs=$(find "$dir" -path '*/objects/pack/*.pack' | wc -l)
	rm -rf "$dir"
	[ "$rc" -eq 0 ] || { head -n 20 "$out" "$WORK/audit.err" >&2; die "zc-audit found problems (exit $rc)"; }
	[ "$checked" = $((per * AUDIT_NODES)) ] || { cat "$WORK/audit.err" >&2; die "zc-audit checked $checked entries, not $((per * AUDIT_NODES))"; }
	local rate ceiling ratio busy
	rate=$(awk -v n="$checked" -v t="$wall" 'BEGIN {printf "%.0f", n / t}')
	ceiling=$(awk -v v="$verify" -v c="$cores" 'BEGIN {printf "%.0f", v * c}')
	ratio=$(awk -v r="$rate" -v c="$ceiling" 'BEGIN {printf "%.2f", r / c}')
	busy=$(awk -v u="$user" -v s="$sys" -v t="$wall" 'BEGIN {printf "%.2f", (u + s) / t}')
	# what the machine did besides: all its busy time in the run (/proc/stat) less zc-audit's
	local other per_cpu cpu_ratio
	other=$(awk -v b="$((busy1 - busy0))" -v t="$((total1 - total0))" -v n="$(nproc)" -v z="$busy" \
		'BEGIN {o = (t > 0) ? b / t * n - z : 0; printf "%.2f", (o < 0) ? 0 : o}')
	per_cpu=$(awk -v n="$checked" -v u="$user" -v s="$sys" 'BEGIN {printf "%.0f", n / (u + s)}')
	cpu_ratio=$(awk -v r="$per_cpu" -v v="$verify" 'BEGIN {printf "%.2f", r / v}')
	echo "== audit: bin/zc-audit DIR of a $AUDIT_NODES-node zc-fed directory: $AUDIT_NODES node directories, each" \
		"holding its own origin's chain of $per entries, no copies: $checked distinct entries, each verified"
	echo "   (set-up, not timed: $AUDIT_NODES logs filled in ${fill_s} s, $size_mb MB in $packs packs)"
	printf '  %-52s %10s\n' "what" "entries/s"
	printf '  %-52s %10.0f\n' "openssl speed ed25519 verify, one core" "$verify"
	printf '  %-52s %10.0f\n' "the ceiling: verify x $cores cores (zc-audit's threads)" "$ceiling"
	printf '  %-52s %10.0f\n' "zc-audit, start to exit ($wall s)" "$rate"
	printf '  %-52s %10.0f\n' "zc-audit per CPU-second it used (user + sys)" "$per_cpu"
	echo "  ratio zc-audit / ceiling: $ratio; zc-audit kept $busy of $cores cores busy (user $user s, sys $sys s)," \
		"peak resident memory $((rss_kb / 1024)) MB; per CPU-second it used / one core's verify rate: $cpu_ratio"
	echo "  everything else on the machine used $other cores meanwhile"
	awk -v o="$other" 'BEGIN { exit !(o > 0.3) }' &&
		echo "  WARNING: other work used $other cores during the audit: zc-audit had less than its $cores cores," \
			"the ratio understates it (the per-CPU-second figure does not depend on that)"
	echo "  $(cat "$WORK/audit.err")"
	echo "  aims:"
	aim "zc-audit >= 70% of verify x cores ($ratio)" "$ratio >= $AIM_AUDIT_RATIO"
}

# Replication lag under a steady write load: a 3-node demo federation (zc-fed up --demo);
# one applicant at 650100 changes their e-mail address LAG_RATE times a second for
# LAG_SECONDS seconds (PUT /api/v1/me, one account.updated entry each), and for every
# entry the time from its commit into 650100's signed log to its commit at each receiver
# (650000, the region, and 653100), both read from the nodes' sqlite fed_heads by a poller
# every 2 ms on one clock (tools/bench/fed_lag.py explains the method); also from the
# write's answer, which includes the origin's signing and log commit.
#   ZC_BENCH_LAG_RATE (writes per second, default 20), ZC_BENCH_LAG_SECONDS (default 30)
LAG_RATE=${ZC_BENCH_LAG_RATE:-20}
LAG_SECONDS=${ZC_BENCH_LAG_SECONDS:-30}
LAG_POLL_MS=2
AIM_LAG_P99_MS=1000

scenario_lag() {
	local out=$WORK/lag.out port
	start_fed 3 --demo
	port=$((${BASE_URL##*:} + 1)) # zc-fed: 650000 on the base port, then 650100, 653100
	python3 tools/bench/fed_lag.py "$FED" 650100 "$port" 650000,653100 "$LAG_RATE" "$LAG_SECONDS" "$LAG_POLL_MS" \
		>"$out" 2>"$WORK/lag.err" || { cat "$WORK/lag.err" "$out" >&2; die "fed_lag.py failed"; }
	local r what
	echo "== lag: 3-node demo federation; $(kv "$out" entries) account.updated entries written at 650100 at" \
		"$(kv "$out" write_rate)/s for $(kv "$out" seconds) s (PUT /api/v1/me, one keep-alive connection, paced);"
	echo "   times from the nodes' sqlite fed_heads polled every $(kv "$out" poll_ms_avg) ms on average" \
		"(longest gap $(kv "$out" poll_ms_max) ms), one clock"
	printf '  %-46s %9s %9s %9s %8s\n' "what" "p50 ms" "p99 ms" "max ms" "missing"
	for r in 650000 653100 all; do
		for what in commit write; do
			printf '  %-46s %9.1f %9.1f %9.1f %8s\n' \
				"$r: $([ "$what" = commit ] && echo "650100's log commit -> visible" || echo "write answered -> visible")" \
				"$(kv "$out" "${r}_${what}_p50_ms")" "$(kv "$out" "${r}_${what}_p99_ms")" "$(kv "$out" "${r}_${what}_max_ms")" \
				"$([ "$r" = all ] && echo - || kv "$out" "${r}_missing")"
		done
	done
	echo "  at 650100: write answered -> in its log p50 $(kv "$out" origin_write_to_logged_p50_ms) ms," \
		"p99 $(kv "$out" origin_write_to_logged_p99_ms) ms; write errors $(kv "$out" errors)"
	local p99 wp99 missing
	p99=$(kv "$out" all_commit_p99_ms) wp99=$(kv "$out" all_write_p99_ms)
	missing=$(($(kv "$out" 650000_missing) + $(kv "$out" 653100_missing)))
	echo "  aims:"
	aim "lag p99 < ${AIM_LAG_P99_MS} ms, log commit -> visible ($p99 ms)" "$p99 < $AIM_LAG_P99_MS"
	aim "lag p99 < ${AIM_LAG_P99_MS} ms, write answered -> visible ($wp99 ms)" "$wp99 < $AIM_LAG_P99_MS"
	aim "every entry reached both receivers ($missing missing)" "$missing == 0"
}

# Cross-node login latency and hand-off time (issue 8): a 3-node demo federation; an
# applicant at home in 650100 logs in FEDLOGIN_LOGINS times at each node as a new browser
# (the baseline: at home, where the node checks the password itself; at 650000 and 653100
# the node asks home over the federation channel); then FEDLOGIN_HANDOFFS applications
# are forwarded by 650100's recommending unit to the region's committee and timed until the
# region holds each one, and until home has its acceptance (tools/bench/fed_login.py).
#   ZC_BENCH_FEDLOGIN_LOGINS (default 50), ZC_BENCH_FEDLOGIN_HANDOFFS (default 10)
FEDLOGIN_LOGINS=${ZC_BENCH_FEDLOGIN_LOGINS:-50}
FEDLOGIN_HANDOFFS=${ZC_BENCH_FEDLOGIN_HANDOFFS:-10}
AIM_REMOTE_LOGIN_P99_MS=1000
AIM_HANDOFF_MAX_MS=2000

scenario_fed_login() {
	local out=$WORK/fed_login.out nid
	start_fed 3 --demo
	python3 tools/bench/fed_login.py "$FED" "$FEDLOGIN_LOGINS" "$FEDLOGIN_HANDOFFS" >"$out" 2>"$WORK/fed_login.err" ||
		{ cat "$WORK/fed_login.err" "$out" >&2; die "fed_login.py failed"; }
	echo "== fed_login: 3-node demo federation; an applicant at home in 650100 logs in $(kv "$out" logins) times" \
		"at each node (new connection, no cookie); $(kv "$out" handoffs) hand-offs from 650100's dept to the region"
	printf '  %-52s %9s %9s %7s\n' "what" "p50 ms" "p99 ms" "ratio"
	local home
	home=$(kv "$out" login_650100_p50_ms)
	for nid in 650100 650000 653100; do
		printf '  %-52s %9.1f %9.1f %7.2f\n' \
			"login at $nid$([ "$nid" = 650100 ] && echo " (home: the baseline)" || echo " (password checked at home)")" \
			"$(kv "$out" "login_${nid}_p50_ms")" "$(kv "$out" "login_${nid}_p99_ms")" \
			"$(python3 -c "print($(kv "$out" "login_${nid}_p50_ms") / $home)")"
	done
	printf '  %-52s %9s %9s\n' "" "p50 ms" "max ms"
	printf '  %-52s %9.1f %9.1f\n' "hand-off: dept forward answered -> the region holds it" \
		"$(kv "$out" handoff_taken_over_p50_ms)" "$(kv "$out" handoff_taken_over_max_ms)"
	printf '  %-52s %9.1f %9.1f\n' "hand-off: forward answered -> home has the acceptance" \
		"$(kv "$out" handoff_home_knows_p50_ms)" "$(kv "$out" handoff_home_knows_max_ms)"
	local worst
	worst=$(python3 -c "print(max($(kv "$out" login_650000_p99_ms), $(kv "$out" login_653100_p99_ms)))")
	echo "  aims:"
	aim "login elsewhere p99 < ${AIM_REMOTE_LOGIN_P99_MS} ms ($worst ms)" "$worst < $AIM_REMOTE_LOGIN_P99_MS"
	aim "hand-off taken over < ${AIM_HANDOFF_MAX_MS} ms, the slowest ($(kv "$out" handoff_taken_over_max_ms) ms)" \
		"$(kv "$out" handoff_taken_over_max_ms) < $AIM_HANDOFF_MAX_MS"
}

# The home page on a slow phone link (issue 10, "Fast on a slow phone link"): chromium
# through playwright-core (tools/bench/portal_load.mjs: 150 ms round trip, 400 kbit/s, a
# phone's viewport), first visit with an empty cache, then a repeat visit in a new tab and
# a reload. The baseline is the same node serving web/ as written (no hashed names, nothing
# compressed, every file revalidated); then build/web (tools/build_web.py). Medians of
# ZC_BENCH_PORTAL_RUNS loads of each.
AIM_FIRST_KB=60
AIM_LCP_MS=1500
PORTAL_RUNS=${ZC_BENCH_PORTAL_RUNS:-3}

scenario_portal_load() {
	command -v node >/dev/null 2>&1 || die "node is missing (make deps)"
	[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "chromium is missing (make deps)"
	[ -d tests/browser/node_modules/playwright-core ] ||
		(cd tests/browser && npm install --no-audit --no-fund >/dev/null 2>&1) || die "cannot install playwright-core"
	[ -f build/web/index.html ] || die "build/web is missing: run make"
	local kind web i
	for kind in baseline build; do
		web=$ROOT/build/web
		[ "$kind" = baseline ] && web=$ROOT/web
		ZC_WEB=$web start_fed 1 --demo
		for ((i = 1; i <= PORTAL_RUNS; i++)); do
			node tools/bench/portal_load.mjs "$BASE_URL/" >>"$WORK/portal-$kind.json" 2>"$WORK/portal.err" ||
				{ cat "$WORK/portal.err" >&2; die "portal_load.mjs failed on $kind"; }
		done
		stop_all
	done
	echo "== portal_load: the home page, chromium at 150 ms round trip and 400 kbit/s, phone viewport;"
	echo "   baseline = web/ as written, build = build/web (hashed, gzip, immutable); medians of $PORTAL_RUNS"
	python3 - "$WORK/portal-baseline.json" "$WORK/portal-build.json" "$AIM_FIRST_KB" "$AIM_LCP_MS" <<'EOF'
import json, statistics, sys
runs = [[json.loads(line) for line in open(p) if line.strip()] for p in sys.argv[1:3]]
aim_kb, aim_lcp = float(sys.argv[3]), float(sys.argv[4])
rows = [("first visit: requests", "first", "requests", 1), ("first visit: KB over the wire", "first", "bytes", 1000),
        ("first visit: gzip-encoded answers", "first", "gzip", 1),
        ("first visit: ms to network idle", "first", "idle_ms", 1), ("first visit: LCP ms", "first", "lcp_ms", 1),
        ("repeat visit: requests to the server", "repeat", "network", 1),
        ("repeat visit: of them static files", "repeat", "network_static", None),
        ("repeat visit: KB over the wire", "repeat", "bytes", 1000), ("repeat visit: LCP ms", "repeat", "lcp_ms", 1),
        ("reload: requests to the server", "reload", "network", 1)]
print(f"  {'what':<40} {'baseline':>9} {'build':>9} {'ratio':>7}")
fig = {}
for name, visit, key, div in rows:
    if div is None:
        a, b = (statistics.median(len(r[visit][key]) for r in rs) for rs in runs)
    else:
        a, b = (statistics.median(r[visit][key] for r in rs) / div for rs in runs)
    fig[(visit, key)] = b
    print(f"  {name:<40} {a:>9.1f} {b:>9.1f} {b / a if a else 0:>7.2f}")
static_repeat = sorted({p for r in runs[1] for p in r["repeat"]["network_static"]})
print("  repeat visit's static requests (build):", ", ".join(static_repeat) or "none")
def aim(text, ok):
    print(f"  {text:<64} {'holds' if ok else 'MISSES'}")
print("  aims:")
aim(f"first visit <= {aim_kb:.0f} KB over the wire ({fig[('first', 'bytes')]:.1f} KB)", fig[("first", "bytes")] <= aim_kb)
aim(f"first visit LCP < {aim_lcp:.0f} ms ({fig[('first', 'lcp_ms')]:.0f} ms)", fig[("first", "lcp_ms")] < aim_lcp)
aim("repeat visit asks for no static file but index.html (no-cache)",
    all(p.split()[0] in ("/", "/index.html") for p in static_repeat))
EOF
}

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
