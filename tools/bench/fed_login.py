#!/usr/bin/env python3
"""fed_login.py - cross-node login latency and hand-off time (run.sh, scenario fed_login).

On a 3-node demo federation (zc-fed up --demo: 650000 the region, 650100 Urumqi, 653100
Kashgar), with the integration tests' client and section data (tests/integration):

Logins. An applicant registered at Urumqi (their home) logs in LOGINS times at each node,
each time as a new browser (a new connection, no cookie): at home the node checks the
password itself (argon2id) - the baseline; at the region and at Kashgar the node asks the
home node over the federation channel (the hash never leaves home) and opens a local
session. Round robin over the three nodes, so that each sees the same load.

Hand-offs. HANDOFFS applications of new Urumqi applicants (GC4, reviewed by the region's
committee) are taken to Urumqi's demo recommending unit; its forward hands each one to the
region. Measured from the forward's 200 answer at Urumqi to the commit at the region that
makes it the holder (the region's sqlite applications row, polled read-only every 2 ms),
which includes the logged entry's replication, the snapshot's and attachments' fetch over
the encrypted channel and their hash checks; then to the region's acceptance reaching
home (Urumqi forgets the snapshot it kept for the region: its handoffs_out row).

Prints "key value" lines. Loopback only; stdlib only.

usage: fed_login.py FEDDIR LOGINS HANDOFFS
"""
import datetime
import json
import os
import sqlite3
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
sys.dont_write_bytecode = True

from test_applications import filled_sections  # noqa: E402
from zc_test import PDF, PNG, Client, id_number, mobile, person_name  # noqa: E402

REGION, HOME, OTHER = "650000", "650100", "653100"
PASSWORD = "FedLogin#2026x"
API = "/api/v1"


class Node:
    """What zc_test.Client needs of a node: its port."""

    def __init__(self, port):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main():
    fed_dir, logins, handoffs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(os.path.join(fed_dir, "federation.json"), encoding="utf-8") as f:
        fed = json.load(f)
    nodes = {n["id"]: Node(int(urllib.parse.urlparse(n["url"]).port)) for n in fed["nodes"]}
    with open(os.path.join(fed_dir, "demo-accounts.json"), encoding="utf-8") as f:
        demo = json.load(f)

    def demo_client(nid, role):
        a = next(x for x in demo if x["node"] == nid and x["role"] == role)
        c = Client(nodes[nid])
        r = c.login(a["login"], a["password"])
        assert r.status == 200, (nid, role, r.status)
        c.demo = a
        return c

    def register(nid):
        c = Client(nodes[nid])
        body = {"id_number": id_number(), "name": person_name(), "password": PASSWORD, "phone": mobile()}
        r = c.remember(c.post(API + "/accounts", body))
        assert r.status == 201, r.json
        c.body = body
        return c

    # -- logins --
    who = register(HOME)
    username = who.account["username"]
    times = {REGION: [], HOME: [], OTHER: []}
    for nid in times:  # once the account has replicated there
        end = time.time() + 20
        while Client(nodes[nid]).login(username, PASSWORD).status != 200:
            if time.time() > end:
                raise SystemExit(f"fed_login.py: cannot log in at {nid}")
            time.sleep(0.1)
    for _ in range(3):  # every link warm (TLS sessions, prepared statements)
        for nid in times:
            assert Client(nodes[nid]).login(username, PASSWORD).status == 200
    for _ in range(logins):
        for nid in (HOME, REGION, OTHER):
            c = Client(nodes[nid])
            t0 = time.perf_counter()
            r = c.login(username, PASSWORD)
            times[nid].append((time.perf_counter() - t0) * 1000)
            assert r.status == 200, (nid, r.status, r.json)
    print("logins", logins)
    for nid, xs in times.items():
        print(f"login_{nid}_p50_ms {statistics.median(xs):.1f}")
        print(f"login_{nid}_p99_ms {pct(xs, 99):.1f}")

    # -- hand-offs --
    unit = demo_client(HOME, "unit_admin")
    dept = demo_client(HOME, "dept_admin")
    year = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).year
    region_db = sqlite3.connect(f"file:{os.path.join(fed_dir, REGION, 'node.db')}?mode=ro", uri=True, timeout=10)
    home_db = sqlite3.connect(f"file:{os.path.join(fed_dir, HOME, 'node.db')}?mode=ro", uri=True, timeout=10)
    held = lambda db, app: db.execute("SELECT holder FROM applications WHERE id = ?", (app,)).fetchone()
    # the sender keeps the snapshot until the receiver's acceptance reaches it
    outgoing = lambda app: home_db.execute("SELECT 1 FROM handoffs_out WHERE application = ?", (app,)).fetchone()
    to_region, to_home = [], []
    for _ in range(handoffs):
        a = register(HOME)
        r = a.post(API + "/applications", {"year": year, "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": unit.demo["credit_code"]})
        assert r.status == 201, r.json
        app = r.json["id"]
        for name, data in filled_sections(a.body["name"]).items():
            assert a.put(f"{API}/applications/{app}/sections/{name}", {"data": data}).status == 200
        for section, data, ctype in (("education", PNG, "image/png"), ("achievements", PDF, "application/pdf")):
            q = urllib.parse.urlencode({"section": section, "name": "证明材料"})
            assert a.post(f"{API}/applications/{app}/attachments?{q}", raw=data, ctype=ctype).status == 201
        assert a.post(f"{API}/applications/{app}/submit").status == 200
        r = unit.post(f"{API}/applications/{app}/review", {"action": "forward", "recommendation": "同意推荐"})
        assert r.status == 200, r.json
        r = dept.post(f"{API}/applications/{app}/review", {"action": "forward"})
        t0 = time.perf_counter()
        assert r.status == 200, r.json
        t_region = t_home = None
        while t_home is None or t_region is None:
            now = time.perf_counter()
            if now - t0 > 30:
                raise SystemExit(f"fed_login.py: {app} not taken over by the region in 30 s")
            if t_region is None and (held(region_db, app) or (None,))[0] == REGION:
                t_region = now
            if t_home is None and t_region is not None and not outgoing(app):
                t_home = now
            time.sleep(0.002)
        to_region.append((t_region - t0) * 1000)
        to_home.append((t_home - t0) * 1000)
    print("handoffs", handoffs)
    for key, xs in (("handoff_taken_over", to_region), ("handoff_home_knows", to_home)):
        print(f"{key}_p50_ms {statistics.median(xs):.1f}")
        print(f"{key}_max_ms {max(xs):.1f}")


if __name__ == "__main__":
    main()
