"""The one write path: every change another node must know records its entry.

The route table (node/routes.c, printed by `zc-admin routes`) names, for each non-GET
route, the entry types a successful call emits, or LOCAL and why it stays on this node.
This test makes the authorisation matrix's successful call of every route by its rightful
caller (test_authz_matrix.py's machinery: the same callers, applications and requests)
and reads the node's outbox (node.db, read-only) before and after each one:

- a route answering 2xx adds exactly its declared entry types (each at least once,
  nothing else; a type marked as emitted only when the call needs it, e.g. a hand-off,
  may be absent); a LOCAL route adds none; every non-GET route got a successful call;
- no entry body carries a password, a password hash ($argon2...), a clear ID number, an
  account's phone number or e-mail, or a session/device token the test has seen;
- each entry's bytes are canonical (parsed and re-serialised per DESIGN.md: sorted keys,
  no whitespace, raw UTF-8, control characters escaped) and the outbox is one chain: seq
  1, 2, ... with prev the SHA-256 of the previous entry's bytes, origin, ts, key and v
  as the node and the entry-type table say."""
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import unittest

from test_applications import API
from test_authz_matrix import ACTORS, FRESH, LEGEND, REQUESTS, Cell, MatrixCallers, is_application_route, parse_matrix
from zc_test import REGION, ROOT, ZcCase, tool

SECRET_KEYS = {"password", "old", "new", "id_number", "phone", "email", "mobile"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def route_table():
    """{"METHOD /pattern": route} and {type: entry type} from `zc-admin routes`."""
    r = subprocess.run([tool("zc-admin"), "routes"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)
    return {f"{x['method']} {x['path']}": x for x in t["routes"]}, {e["type"]: e for e in t["entries"]}


def canonical(v):
    """DESIGN.md's canonical JSON, as Python writes it: Python's escapes are RFC 8785's
    (\\" \\\\ \\b \\f \\n \\r \\t, other control characters as \\u00xx in lower case)."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def strings_in(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings_in(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings_in(x)


class TestWritePath(MatrixCallers, ZcCase):
    NODE_LABEL = "write_path"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.routes, cls.types = route_table()

    # -- the outbox --
    def outbox(self, after=0):
        db = sqlite3.connect(f"file:{os.path.join(self.node.data, 'node.db')}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT seq, type, entry, hash, state FROM outbox WHERE seq > ? ORDER BY seq",
                              (after,)).fetchall()
        finally:
            db.close()

    def last_seq(self):
        rows = self.outbox()
        return rows[-1][0] if rows else 0

    # -- what must never be in an entry --
    def secrets(self):
        """Every password, ID number, phone, e-mail and token the test has used or seen."""
        found = set()
        clients = list(self.actors.values()) + list(self.apps.values()) + [self.victim, self.U, self.U2]
        for c in clients:
            for k, v in (getattr(c, "body", None) or {}).items():
                if k in SECRET_KEYS and isinstance(v, str):
                    found.add(v)
            for attr in ("pw", "password"):
                if isinstance(getattr(c, attr, None), str):
                    found.add(getattr(c, attr))
            found.update(v for v in getattr(c, "cookies", {}).values() if isinstance(v, str))
            demo = getattr(c, "demo", None) or {}
            found.update(str(demo[k]) for k in ("password", "id_number", "phone") if demo.get(k))
        found |= self.sent_secrets
        return {s for s in found if len(s) >= 6}

    def note_sent(self, request):
        opt = request[2]
        for k, v in (opt.get("body") or {}).items():
            if k in SECRET_KEYS and isinstance(v, str):
                self.sent_secrets.add(v)

    def leaks(self, rows, secrets):
        problems = []
        for seq, typ, entry, _, _ in rows:
            text = bytes(entry).decode("utf-8")
            body = json.loads(text)["body"]
            if "$argon2" in text:
                problems.append(f"entry {seq} ({typ}) carries a password hash")
            for s in secrets:
                variants = {s, s.lower(), s.upper()}
                if any(v in x for x in strings_in(body) for v in variants):
                    problems.append(f"entry {seq} ({typ}) carries {s[:3]}… (a password, ID number, phone, "
                                    "e-mail or token the test used)")
        return problems

    # -- one call --
    def call(self, label, state, who, c, app):
        request = REQUESTS[label](Cell(self, who, c, app))
        self.note_sent(request)
        before = self.last_seq()
        r = self.send_built(label, who, c, request)
        return r, self.outbox(before)

    def judge_entries(self, label, route, rows):
        got = [typ for _, typ, _, _, _ in rows]
        if route["local"] is not None:
            return [f"{label}: local-only ({route['local']}) but added {got}"] if got else []
        want = set(route["entries"])
        needed = want - set(route["entries_when_needed"])  # the others only when the call needs them
        if not needed <= set(got) <= want:
            return [f"{label}: declared {sorted(want)} ({sorted(needed)} always), added {got}"]
        return []

    # -- the test --
    def test_write_path(self):
        self.sent_secrets = set()
        non_get = {k for k in self.routes if not k.startswith("GET ")}
        for k in non_get:
            route = self.routes[k]
            self.assertTrue(bool(route["entries"]) != (route["local"] is not None),
                            f"{k}: a non-GET route names its entries or why it is local, not both or neither")
            for t in route["entries"]:
                self.assertIn(t, self.types, f"{k}: entry type {t} is not in node/entries.c")
        problems, succeeded = [], set()
        for label, state, cells in parse_matrix():
            route_key = label.split("#", 1)[0]
            if route_key.startswith("GET "):
                continue
            app = None
            actors = dict(self.actors)
            for who in ACTORS:
                if LEGEND[cells[who]][0] >= 300:
                    continue
                if is_application_route(label):
                    app = self.app_in(state) if state in FRESH.get(label, ()) else self.apps[state]
                    actors["owner"] = app
                with self.subTest(row=f"{label} [{state}] as {who}"):
                    r, rows = self.call(label, state, who, actors[who], app)
                    self.assertLess(r.status, 300, f"{label} as {who}: {r.status} {r.body[:200]!r}")
                    succeeded.add(route_key)
                    bad = self.judge_entries(label, self.routes[route_key], rows)
                    problems += bad
                    self.assertEqual(bad, [])
        # a region transfer needs a second node: test_transfer.py checks the entries it makes
        self.assertEqual(sorted(non_get - succeeded - {"POST /me/region"}), [], "non-GET routes never called successfully")
        self.assertEqual(problems, [])
        everything = self.outbox()
        self.assertGreater(len(everything), 100)
        self.assertEqual(self.leaks(everything, self.secrets()), [])
        self.check_chain(everything)

    def check_chain(self, rows):
        prev = ""
        for i, (seq, typ, entry, digest, state) in enumerate(rows, 1):
            entry = bytes(entry)
            where = f"entry {seq} ({typ})"
            self.assertEqual(seq, i, f"{where}: seq is not contiguous from 1")
            self.assertIn(state, ("built", "logged"), where)  # the log writer moves them on
            e = json.loads(entry.decode("utf-8"))
            self.assertEqual(canonical(e), entry, f"{where}: its bytes are not canonical")
            self.assertEqual(sorted(e), ["body", "key", "origin", "prev", "seq", "ts", "type", "v"], where)
            self.assertEqual((e["origin"], e["seq"], e["type"], e["prev"]), (REGION, seq, typ, prev), where)
            self.assertEqual(e["v"], self.types[typ]["v"], where)
            self.assertRegex(e["ts"], RFC3339, where)
            if self.node.via_fed:     # a manifest: the key id valid at ts
                self.assertRegex(e["key"], rf"^{REGION}#\S+$", f"{where}: the node's key id")
            else:                     # a node run alone has no key
                self.assertEqual(e["key"], "", where)
            self.assertEqual(hashlib.sha256(entry).hexdigest(), digest, f"{where}: stored hash")
            prev = digest

    def test_control_characters_escaped_canonically(self):
        """A text with the control characters the node accepts (tab, newline, CR), quotes and
        a backslash goes into the entry with DESIGN.md's escapes."""
        app = self.apps["unit"]
        before = self.last_seq()
        r = self.U.put(f"{API}/applications/{app.app_id}/opinions/work", {"text": "第一行\n\t第二行\r\n\"引号\"\\"})
        self.assertStatus(r, 200)
        rows = self.outbox(before)
        self.assertEqual([t for _, t, _, _, _ in rows], ["application.opinion"])
        entry = bytes(rows[0][2])
        self.assertIn(b'\\n\\t', entry)
        self.assertEqual(canonical(json.loads(entry)), entry)


class TestUpgrade(unittest.TestCase):
    """A node.db made before schema 004, with outbox rows as the old code wrote them
    (type, body_json, created), upgrades cleanly: the rows get their canonical entry
    bytes, hash and state 'built', chained in seq order, and new entries follow them. The
    old database is made by migrations 001-003 alone, as the code of that time made it
    (today's code loads today's reference data, e.g. name_ug, which needs 018)."""
    def test_outbox_rows_before_004_are_built(self):
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="zc-it-upgrade-")
        self.addCleanup(shutil.rmtree, tmp, True)
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        schemas = os.path.join(ROOT, "schemas")

        def admin(*args, schemas):
            r = subprocess.run([tool("zc-admin"), *args, "--data", data, "--node", REGION, "--schemas", schemas],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r
        db = sqlite3.connect(os.path.join(data, "node.db"))
        for name in sorted(os.listdir(schemas)):
            if name.endswith(".sql") and int(name.split("_", 1)[0]) < 4:
                with open(os.path.join(schemas, name), encoding="utf-8") as f:
                    db.executescript(f.read())
        db.execute("PRAGMA user_version = 3")
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 3)
        bodies = [{"unit": "u-old", "name": "旧单位\t名称", "short_name": "旧单位", "credit_code": "X", "node": REGION},
                  {"unit": "u-old", "depts": ["650000-D01"]}]
        for typ, body in (("unit.registered", bodies[0]), ("unit.recommenders", bodies[1])):
            db.execute("INSERT INTO outbox(type, body_json, created) VALUES(?,?,?)",
                       (typ, json.dumps(body, ensure_ascii=False, separators=(",", ":")), 1780000000))
        db.commit()
        db.close()
        admin("account", "--role", "auditor", "--name", "孙立", "--password", "Audit!Passw0rd#26",
              schemas=os.path.join(ROOT, "schemas"))
        db = sqlite3.connect(f"file:{os.path.join(data, 'node.db')}?mode=ro", uri=True)
        rows = db.execute("SELECT seq, type, entry, hash, state FROM outbox ORDER BY seq").fetchall()
        newest = max(int(f.split("_")[0]) for f in os.listdir(os.path.join(ROOT, "schemas")) if f.endswith(".sql"))
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], newest)
        db.close()
        self.assertEqual([(s, t) for s, t, _, _, _ in rows],
                         [(1, "unit.registered"), (2, "unit.recommenders"), (3, "account.registered")])
        prev = ""
        for i, (seq, typ, entry, digest, state) in enumerate(rows):
            entry = bytes(entry)
            e = json.loads(entry)
            self.assertEqual(state, "built")
            self.assertEqual(canonical(e), entry)
            self.assertEqual((e["seq"], e["prev"], e["type"], e["origin"]), (seq, prev, typ, REGION))
            self.assertEqual(hashlib.sha256(entry).hexdigest(), digest)
            if i < 2:
                self.assertEqual(e["body"], bodies[i])
                self.assertEqual(e["ts"], "2026-05-28T20:26:40Z")
            prev = digest
