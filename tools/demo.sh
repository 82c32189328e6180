#!/usr/bin/env bash
# demo.sh up|down - the demo federation of `make run` / `make stop`: three nodes (the region,
# Urumqi, Kashgar) in .run/, on ports ${ZC_PORT:-8600}.., with demo data and accounts.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
DIR=.run
PORT=${ZC_PORT:-8600}
NODES=${ZC_NODES:-3}

case ${1:-} in
up)
	tools/zc-fed up --dir "$DIR" --nodes "$NODES" --base-port "$PORT" --demo >/dev/null || {
		echo "demo: the federation did not start (see the messages above and $DIR/<node>/node.log)" >&2
		exit 1
	}
	python3 - "$DIR" <<'PY'
import json, os, sys, unicodedata

d = sys.argv[1]

def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(s))

def pad(s, n):
    s = str(s)
    return s + " " * max(0, n - width(s))

def table(head, rows):
    w = [max(width(x) for x in col) for col in zip(head, *rows)]
    print("  " + "  ".join(pad(h, w[i]) for i, h in enumerate(head)).rstrip())
    print("  " + "  ".join("-" * w[i] for i in range(len(head))))
    for r in rows:
        print("  " + "  ".join(pad(c, w[i]) for i, c in enumerate(r)).rstrip())

man = json.load(open(os.path.join(d, "federation.json"), encoding="utf-8"))
nodes = man["nodes"] if isinstance(man, dict) else man
names = {n["id"]: n.get("name", "") for n in nodes}
print("zhicheng 职称评审 demo federation is up.")
print()
print("Portals (门户):")
table(["node", "name", "URL"], [[n["id"], n.get("name", ""), n["url"].rstrip("/") + "/"] for n in nodes])
print()
try:
    accounts = json.load(open(os.path.join(d, "demo-accounts.json"), encoding="utf-8"))
except (OSError, ValueError):
    accounts = []
order = {n["id"]: i for i, n in enumerate(nodes)}
roles = ["node_admin", "auditor", "committee_admin", "dept_admin", "unit_admin", "applicant"]
accounts.sort(key=lambda a: (order.get(a.get("node"), 99), roles.index(a["role"]) if a.get("role") in roles else 99))
role_zh = {"unit_admin": "基层单位管理员", "dept_admin": "主管/推荐单位", "committee_admin": "评审委员会",
           "node_admin": "节点管理员/人社局", "auditor": "审计员", "applicant": "申请人"}
rows = []
for a in accounts:
    node = a.get("node", "")
    extra = " ".join(f"{k} {a[k]}" for k in ("committee", "dept", "credit_code") if a.get(k))
    role = a.get("role", "")
    rows.append([f"{node} {names.get(node, '')}".strip(), f"{role} ({role_zh[role]})" if role in role_zh else role,
                 a.get("login", ""), a.get("password", ""), extra])
print("Demo logins (演示账号), from .run/demo-accounts.json:")
if rows:
    table(["node", "role", "login", "password", "acts for"], rows)
else:
    print("  (none: demo-accounts.json is empty or missing)")
print()
print("More applicants (申请人) and units (单位) register themselves on any portal (注册).")
print("Logs: .run/<node>/node.log.  Stop with: make stop")
PY
	;;
down)
	tools/zc-fed down --dir "$DIR"
	;;
*)
	echo "usage: tools/demo.sh up|down" >&2
	exit 2
	;;
esac
