"""The auditor's log browser, GET /api/v1/fed/entries (node/fedview.c), on a federation of
three nodes from tools/zc-fed:

- node admins and auditors may read it; anonymous callers get 401, applicants and unit
  admins 403;
- filters by origin, type, account (id or username, also an account of another node) and
  application return exactly the entries whose body names them; bad parameters get 400
  invalid_field naming the parameter, in Chinese;
- paging by `next` cursor walks every entry this node holds once, in order (origin, then
  seq descending), and ends with next null;
- an entry received from another node shows `verified`, its bytes those of the git log;
- a tampered row in sqlite (a signature, an entry's bytes), written while the node is
  stopped, shows the problem after restart (bad_signature, hash_mismatch, prev_mismatch)
  while the untouched entries stay verified."""
import datetime
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.parse

from test_replication import db_rows
from zc_test import REGION, Client, Federation, ZcCase

B = "650100"
API = "/api/v1"


def db_path(fed, nid):
    return os.path.join(fed.data_of(nid), "node.db")


def git_show(fed, nid, what):
    r = subprocess.run(["git", "--git-dir", os.path.join(fed.data_of(nid), "fedlog.git"), "show", what],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


class ConsoleCase(ZcCase):
    NODE_LABEL = None

    @classmethod
    def setUpClass(cls):
        cls.fed = Federation(cls.__name__.lower(), nodes=3).start()
        cls.node = cls.fed.at(REGION)
        cls.wait_converged()

    @classmethod
    def wait_converged(cls, timeout=60):
        """Every node holds every origin's own head (the demo's entries have replicated)."""
        end = time.time() + timeout
        while True:
            own = {n: db_rows(cls.fed, n, "SELECT max(seq) FROM outbox WHERE state = 'logged'")[0][0] for n in cls.fed.ids}
            held = {n: dict(db_rows(cls.fed, n, "SELECT origin, seq FROM fed_heads")) for n in cls.fed.ids}
            if all(held[n].get(o) == own[o] for n in cls.fed.ids for o in cls.fed.ids):
                return
            if time.time() > end:
                raise AssertionError(f"not converged in {timeout}s: own {own}, held {held}")
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.fed.stop()

    def login_at(self, nid, role):
        a = self.fed.account_of(nid, role)
        self.assertIsNotNone(a, f"no demo {role} at {nid}")
        c = Client(self.fed.at(nid))
        self.assertStatus(c.login(a["login"], a["password"]), 200)
        c.demo = a
        return c

    def auditor(self, nid=REGION):
        cache = type(self).__dict__.get("_auditors")
        if cache is None:
            cache = {}
            type(self)._auditors = cache
        if nid not in cache:
            cache[nid] = self.login_at(nid, "auditor")
        return cache[nid]

    def entries(self, who, **query):
        r = who.get(API + "/fed/entries?" + urllib.parse.urlencode(query))
        self.assertStatus(r, 200)
        return r.json

    def register_at(self, nid):
        """A new applicant registered at node nid (logged in there)."""
        c = Client(self.fed.at(nid))
        body = self.applicant_body()
        r = c.remember(c.post(API + "/accounts", body))
        self.assertStatus(r, 201)
        return c

    def wait_entry(self, who, timeout=30, **query):
        """The items of the query once there are any (replication takes a moment)."""
        end = time.time() + timeout
        while True:
            items = self.entries(who, **query)["items"]
            if items or time.time() > end:
                self.assertTrue(items, f"no entry for {query} within {timeout}s")
                return items
            time.sleep(0.2)

    def walk(self, who, **query):
        """Every item of the query, page by page along `next`."""
        items, cursor, pages = [], None, 0
        while True:
            q = dict(query, **({"cursor": cursor} if cursor else {}))
            page = self.entries(who, **q)
            items += page["items"]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                return items, pages
            self.assertEqual(cursor, f"{page['items'][-1]['origin']}:{page['items'][-1]['seq']}")
            self.assertLess(pages, 1000, "paging does not end")


class TestFedConsole(ConsoleCase):
    def test_roles(self):
        self.assertError(Client(self.node).get(API + "/fed/entries"), 401, "login_required")
        applicant = self.register_at(REGION)
        self.assertError(applicant.get(API + "/fed/entries"), 403, "forbidden")
        self.assertError(self.login_at(REGION, "unit_admin").get(API + "/fed/entries"), 403, "forbidden")
        for nid, role in ((REGION, "auditor"), (REGION, "node_admin"), (B, "auditor"), (B, "node_admin")):
            page = self.entries(self.login_at(nid, role))
            self.assertTrue(page["items"], f"{role} at {nid} sees no entry")
            self.assertEqual({h["origin"] for h in page["heads"]}, set(self.fed.ids))

    def test_an_entry_received_from_another_node_is_verified(self):
        applicant = self.register_at(B)
        acc = applicant.account["id"]
        items = self.wait_entry(self.auditor(), origin=B, account=acc)
        self.assertEqual(len(items), 1, items)
        e = items[0]
        self.assertEqual((e["origin"], e["type"], e["own"], e["key"]), (B, "account.registered", False, B + "#1"))
        self.assertEqual(e["verification"], "verified", e)
        self.assertEqual(e["problems"], [])
        self.assertEqual(e["body"]["account"], acc)
        self.assertNotIn("id_number", json.dumps(e["body"]))  # entries carry no personal data
        self.assertNotIn(applicant.account.get("phone") or "-", json.dumps(e["body"]))
        # the bytes shown are those the git log holds for that seq, hash and prev alike
        (raw,), = db_rows(self.fed, REGION, "SELECT entry FROM fed_entries WHERE origin = ? AND seq = ?", B, e["seq"])
        self.assertEqual(hashlib.sha256(bytes(raw)).hexdigest(), e["hash"])
        (prev,), = db_rows(self.fed, REGION, "SELECT hash FROM fed_entries WHERE origin = ? AND seq = ?", B,
                           e["seq"] - 1)
        self.assertEqual(e["prev"], prev)
        tip = json.loads(git_show(self.fed, REGION, f"refs/fed/{B}:entry.json"))["seq"]
        in_git = git_show(self.fed, REGION, f"refs/fed/{B}~{tip - e['seq']}:entry.json")
        self.assertEqual(hashlib.sha256(in_git).hexdigest(), e["hash"])
        # this node's own entries verify too, and are applied as they are written
        own = self.entries(self.auditor(), origin=REGION, limit=5)["items"]
        self.assertTrue(own and all(x["own"] and x["applied"] and x["verification"] == "verified" for x in own), own)

    def test_filters_by_origin_type_account_and_application(self):
        who = self.auditor()
        for origin in self.fed.ids:
            items = self.entries(who, origin=origin, limit=200)["items"]
            self.assertTrue(items and all(x["origin"] == origin for x in items), origin)
        items = self.entries(who, type="committee.updated", limit=200)["items"]
        self.assertEqual({x["type"] for x in items}, {"committee.updated"})
        self.assertEqual({x["origin"] for x in items}, set(self.fed.ids))
        (n,), = db_rows(self.fed, REGION, "SELECT count(*) FROM fed_entries WHERE type = 'committee.updated'")
        self.assertEqual(len(items), n)

        # an application: created at the region by a new applicant
        a = self.register_at(REGION)
        unit = self.fed.account_of(REGION, "unit_admin")
        r = a.post(API + "/applications", {"year": int(time.strftime("%Y")), "qualification": "GC4",
                                           "specialty": "GC-JZ", "unit": unit["credit_code"]})
        self.assertStatus(r, 201)
        app_id = r.json["id"]
        items = self.wait_entry(who, application=app_id)
        self.assertEqual([(x["type"], x["body"]["application"], x["body"]["actor"]) for x in items],
                         [("application.created", app_id, a.account["id"])])
        # the account: its registration, the registrar's claim of its ID and the application it
        # created, by id or by username
        by_id = self.entries(who, account=a.account["id"])["items"]
        self.assertEqual(sorted(x["type"] for x in by_id), ["account.registered", "application.created", "id.claimed"])
        self.assertEqual(self.entries(who, account=a.account["username"])["items"], by_id)
        self.assertEqual(self.entries(who, account=a.account["id"], type="application.created")["items"],
                         [x for x in by_id if x["type"] == "application.created"])
        # the same at a node that received them
        items = self.wait_entry(self.auditor(B), application=app_id)
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["verification"], "verified")
        # a username of another node's account is found through its registration entry
        b = self.register_at(B)
        self.wait_entry(who, account=b.account["id"])
        # (the registrar's claim of its ID number names it too, and was logged first)
        self.assertEqual(sorted((x["type"], x["body"]["account"])
                                for x in self.entries(who, account=b.account["username"])["items"]),
                         [("account.registered", b.account["id"]), ("id.claimed", b.account["id"])])
        # nothing matches: an empty page, no cursor
        page = self.entries(who, application="p0000000000000000000000000")
        self.assertEqual((page["items"], page["next"]), ([], None))

    def test_paging_walks_every_entry_once_in_order(self):
        who = self.auditor()
        held = set(db_rows(self.fed, REGION, "SELECT origin, seq FROM fed_entries"))
        everything, pages = self.walk(who, limit=7)
        self.assertGreater(pages, 3)
        keys = [(x["origin"], x["seq"]) for x in everything]
        self.assertEqual(len(keys), len(set(keys)), "an entry shown twice")
        self.assertEqual(keys, sorted(keys, key=lambda k: (k[0], -k[1])))
        self.assertEqual(held - set(keys), set(), "entries missing from the pages")  # newer ones may come on top
        # one origin, by pages of 1
        one, pages = self.walk(who, origin=B, limit=1)
        self.assertEqual([x["seq"] for x in one], list(range(one[0]["seq"], 0, -1)))
        self.assertEqual(pages, len(one))
        # the default page is 50 entries
        self.assertEqual(len(self.entries(who)["items"]), min(50, len(held)))

    def test_bad_parameters_are_refused_in_chinese(self):
        who = self.auditor()
        for field, value in (("origin", "999999"), ("origin", "x" * 40), ("type", "no.such.type"), ("type", "BAD!"),
                             ("account", "a b"), ("account", "x" * 60), ("application", "p'1"),
                             ("limit", "0"), ("limit", "201"), ("limit", "ten"), ("limit", "-1"),
                             ("cursor", "650000"), ("cursor", "650000:0"), ("cursor", "999999:5"),
                             ("cursor", "650000:x"), ("cursor", ":5")):
            with self.subTest(field=field, value=value):
                r = who.get(API + "/fed/entries?" + urllib.parse.urlencode({field: value}))
                self.assertError(r, 400, "invalid_field", field)


class TestTamperedRows(ConsoleCase):
    def test_a_tampered_row_shows_its_problem_after_restart(self):
        fed = self.fed
        for _ in range(3):
            self.register_at(B)
        who = self.auditor()
        # wait until the region holds B's head
        (head,), = db_rows(fed, B, "SELECT max(seq) FROM outbox WHERE state <> 'legacy'")
        end = time.time() + 30
        while not db_rows(fed, REGION, "SELECT 1 FROM fed_entries WHERE origin = ? AND seq = ?", B, head):
            self.assertLess(time.time(), end, "the region did not receive B's entries")
            time.sleep(0.2)
        items = self.entries(who, origin=B, limit=200)["items"]
        self.assertTrue(all(x["verification"] == "verified" for x in items), items)
        sig_seq, bytes_seq = head, head - 2

        fed.stop_node(REGION)
        db = sqlite3.connect(db_path(fed, REGION), timeout=10)
        try:
            (sig,), = db.execute("SELECT sig FROM fed_entries WHERE origin = ? AND seq = ?", (B, sig_seq)).fetchall()
            db.execute("UPDATE fed_entries SET sig = ? WHERE origin = ? AND seq = ?",
                       (bytes([sig[0] ^ 1]) + bytes(sig[1:]), B, sig_seq))
            (raw,), = db.execute("SELECT entry FROM fed_entries WHERE origin = ? AND seq = ?", (B, bytes_seq)).fetchall()
            # still canonical JSON, a second later than what was signed
            # (one second on, never back: an earlier ts could fall before the key's window)
            def later(m):
                t = datetime.datetime.strptime(m.group(1).decode(), "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(seconds=1)
                return b'"ts":"' + t.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + b'"'
            changed = re.sub(rb'"ts":"([^"]*)"', later, bytes(raw))
            self.assertNotEqual(changed, bytes(raw))
            db.execute("UPDATE fed_entries SET entry = ? WHERE origin = ? AND seq = ?", (changed, B, bytes_seq))
            db.commit()
        finally:
            db.close()
        fed.start_node(REGION)
        type(self)._auditors = {}
        who = self.auditor()

        shown = {x["seq"]: x for x in self.entries(who, origin=B, limit=200)["items"]}
        codes = {s: [p["code"] for p in x["problems"]] for s, x in shown.items()}
        self.assertEqual(shown[sig_seq]["verification"], "bad_signature", shown[sig_seq])
        self.assertEqual(codes[sig_seq], ["bad_signature"])
        self.assertEqual(codes[bytes_seq], ["bad_signature", "hash_mismatch"])
        self.assertEqual(shown[bytes_seq]["verification"], "bad_signature")
        self.assertEqual(codes[bytes_seq + 1], ["prev_mismatch"])  # its prev no longer names what is held before it
        for s, c in codes.items():
            if s not in (sig_seq, bytes_seq, bytes_seq + 1):
                self.assertEqual(c, [], f"entry {s} should still verify")
        # every other origin is untouched
        for origin in (REGION, "653100"):
            self.assertTrue(all(x["verification"] == "verified"
                                for x in self.entries(who, origin=origin, limit=200)["items"]), origin)
