#!/usr/bin/env bash
# bench/callgrind_surge.sh - user-space instructions per section save and per submit of one
# node, counted by callgrind (deterministic, unlike wall-clock on a shared machine).
#
# Sets up a node as the surge scenario does (surge_setup.py), restarts it under
# `valgrind --tool=callgrind` with instrumentation off, warms up, then counts a fixed
# sequence: SAVES section saves (cycling through the plan's applicants and sections) on
# one keep-alive connection, dumped; then one submit per applicant, dumped. Prints
# "instructions_per_save N" and "instructions_per_submit N" (all threads: the log writer
# signs and stores the entries of a submit on a thread of its own, in batches, so its
# share varies a little from run to run) and the same for the event loop thread alone;
# the callgrind files (one per thread) stay in the printed directory for callgrind_annotate.
#   usage: tools/bench/callgrind_surge.sh [SAVES [APPLICANTS]]   (ZC_BIN: binaries)
set -euo pipefail
SAVES=${1:-400}
N=${2:-20}
# shellcheck source=tools/bench/callgrind_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/callgrind_lib.sh"
port=$(free_port)
demo_node "$port"
python3 tools/bench/surge_setup.py "http://127.0.0.1:$port" "$FED/demo-accounts.json" 650000 "$N" 4 \
	"$WORK/plan.tsv" >"$WORK/setup.out" 2>&1 || { cat "$WORK/setup.out" >&2; exit 1; }
node_args
valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$WORK/cg.%p" "${ARGS[@]}" \
	>"$WORK/node.log" 2>&1 </dev/null &
VG_PID=$!
python3 - "$port" "$WORK/plan.tsv" "$SAVES" "$VG_PID" <<'EOF'
import http.client, json, subprocess, sys, time
port, plan, saves, vg = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
apps, secs = [], []
for line in open(plan, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    (apps if f[0] == "A" else secs).append(f[1:])
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", "/api/v1/health"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.2)
def call(method, app, path, body=None):
    h = {"Cookie": "zc_session=" + app[1], "X-CSRF-Token": app[2], "Content-Type": "application/json"}
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); data = r.read()
    if r.status != 200:
        sys.exit("%s %s answered %d: %s" % (method, path, r.status, data[:300]))
def save(i):
    app, (name, body) = apps[i % len(apps)], secs[(i // len(apps)) % len(secs)]
    call("PUT", app, "/api/v1/applications/%s/sections/%s" % (app[0], name),
         body.replace("@SEQ@", "%05d" % i).encode())
def ctl(*a):
    subprocess.run(["callgrind_control", *a, vg], check=True, stdout=subprocess.DEVNULL)
ctl("-i", "on")
for i in range(2 * len(apps)):
    save(i)  # warm: statement cache, section texts
ctl("-z")
for i in range(saves):
    save(1000 + i)
ctl("-d", "saves")
for app in apps:
    call("POST", app, "/api/v1/applications/%s/submit" % app[0], b"{}")
ctl("-d", "submits")
EOF
kill -TERM "$VG_PID"; wait "$VG_PID" 2>/dev/null || true; VG_PID=""
# one file per thread and dump (cg.PID.DUMP-THREAD); thread 01 is the event loop
mapfile -t fs < <(grep -l 'saves' "$WORK"/cg.*.[0-9]*-[0-9]*)
mapfile -t fu < <(grep -l 'submits' "$WORK"/cg.*.[0-9]*-[0-9]*)
loop() { printf '%s\n' "$@" | grep -- '-01$'; }
echo "instructions_per_save $(( $(total "${fs[@]}") / SAVES ))"
echo "instructions_per_submit $(( $(total "${fu[@]}") / N ))"
echo "event_loop_instructions_per_save $(( $(total $(loop "${fs[@]}")) / SAVES ))"
echo "event_loop_instructions_per_submit $(( $(total $(loop "${fu[@]}")) / N ))"
echo "callgrind files (all threads; -01 the event loop): ${fs[*]} ${fu[*]}"
