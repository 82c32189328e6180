"""One account federation-wide (node/claims.c, remote_login.c, replicas.c), on three nodes
from tools/zc-fed: the region 650000 (the registrar), Urumqi 650100 and Kashgar 653100.

- an applicant registered at a prefecture logs in at the region and at the other
  prefecture with username, ID number or phone; the same ID number (or phone) at a third
  node is refused 409; the registrar holds the claim, matched with the account;
- two prefectures registering one ID number at the same moment, from two processes:
  exactly one wins, the other answers 409 id_number_taken, and one account exists;
- with the registrar down, registration answers 503 registrar_unavailable and leaves
  nothing behind; the same ID registers once it is back;
- a node killed between the registrar's claim and its own commit: the registrar checks
  with it after the claim-check delay, releases the claim (id.released) and the ID number
  registers elsewhere;
- a password change at home ends the account's sessions on every node within two seconds
  and the old password stops working everywhere;
- with the home down, a login elsewhere answers 503 home_unavailable;
- failed logins spread over nodes count against the one limit kept at home;
- a replicated unit or account colliding with a row that bypassed the registrar (credit
  code; username, ID digest) is not stored, a collision alert names its entry, and the
  entries after it (about it or not) still arrive and apply.
Each test ends with zc-audit clean over the federation's directory."""
import hashlib
import hmac
import json
import os
import sqlite3
import time

from test_replication import ReplicationCase, db_rows
from zc_test import PASSWORD, REGION, ROOT, Send, id_number, mobile, race, until

B, C = "650100", "653100"




def race_at(case, posts, method="POST"):
    """posts: [(node, body, path, login)], each from its own process at one moment ->
    sorted [(status, code)]."""
    got = race([Send(case.fed.port_of(nid), path, body, method=method, login=login) for nid, body, path, login in posts])
    return sorted((s, code) for s, code, _ in got)


class FederatedAccountsCase(ReplicationCase):
    def setUp(self):
        super().setUp()
        self.start(self.id().rsplit(".", 1)[-1][:40])
        self.addCleanup(self.audit)  # runs before the federation stops (cleanups are LIFO)

    def register(self, nid, **over):
        c = self.client_at(nid)
        body = self.applicant_body(**over)
        r = c.remember(c.post("/api/v1/accounts", body))
        self.assertStatus(r, 201)
        c.body, c.username = body, r.json["account"]["username"]
        return c

    def accounts_with_digest_of(self, nid, account):
        return db_rows(self.fed, nid, "SELECT count(*) FROM accounts WHERE id_digest ="
                       " (SELECT id_digest FROM accounts WHERE id = ?)", account)[0][0]


class TestOneAccountEverywhere(FederatedAccountsCase):
    def test_register_at_a_prefecture_log_in_anywhere_one_id_once(self):
        a = self.register(B)
        acc = a.account["id"]
        self.assertEqual(a.account["home"], B)
        # a username from B's own space: 10 + B's place in the region list, then eight digits
        with open(os.path.join(ROOT, "schemas", "regions.json"), encoding="utf-8") as f:
            place = [n["id"] for n in json.load(f)["nodes"]].index(B)
        self.assertRegex(a.username, rf"^{10 + place}\d{{8}}$")
        self.assertRegex(self.register(C).username, r"^1\d{9}$")
        for nid in (REGION, C):
            for login in (a.username, a.body["id_number"], a.body["phone"]):
                c = self.wait_login(nid, login)
                self.assertEqual(c.account["id"], acc)
                self.assertEqual(c.account["home"], B)
                me = c.me()
                self.assertStatus(me, 200)
                self.assertEqual(me.json["account"]["id"], acc)
        # the password was checked at home: the hash is there only
        self.assertEqual(db_rows(self.fed, REGION, "SELECT password_hash, phone FROM accounts WHERE id = ?", acc),
                         [(None, None)])
        self.assertError(self.login_at(C, a.username, "Wrong!Passw0rd#1")[1], 401, "bad_credentials")
        # one ID number, one account: refused at a third node, and at home
        for nid in (C, B, REGION):
            self.assertError(self.client_at(nid).post("/api/v1/accounts", self.applicant_body(id_number=a.body["id_number"])),
                             409, "id_number_taken", "id_number")
            self.assertError(self.client_at(nid).post("/api/v1/accounts", self.applicant_body(phone=a.body["phone"])),
                             409, "phone_taken", "phone")
        # the registrar holds the claim, matched with the account
        claims = db_rows(self.fed, REGION, "SELECT kind, node, matched IS NOT NULL FROM id_claims WHERE account = ?"
                         " ORDER BY kind", acc)
        self.assertEqual(claims, [("id", B, 1), ("phone", B, 1)])
        # personal data is changed at home only
        self.assertError(c.put("/api/v1/me", {"email": "a@example.com"}), 409, "not_home")

    def test_the_demo_applicants_registered_through_the_registrar(self):
        # zc-fed up --demo registers each node's applicant like anyone: claimed at the
        # registrar, matched with its account; each logs in at another node by ID number
        for nid, other in ((REGION, B), (B, C), (C, REGION)):
            a = self.fed.account_of(nid, "applicant")
            self.assertTrue(a and a.get("id_number"), f"no demo applicant of {nid}")
            claims = db_rows(self.fed, REGION, "SELECT c.kind, c.node, c.matched IS NOT NULL FROM id_claims c"
                             " JOIN accounts a ON a.id = c.account WHERE a.username = ? ORDER BY c.kind", a["login"])
            self.assertEqual(claims, [("id", nid, 1), ("phone", nid, 1)], nid)
            c = self.wait_login(other, a["id_number"], a["password"])
            self.assertEqual(c.account["home"], nid)
        # and the audit (at cleanup) finds nothing, with no entry counted as in flight

    def test_a_new_phone_is_claimed_and_the_former_one_given_up(self):
        a = self.register(B)
        old, new = a.body["phone"], mobile()
        self.assertStatus(a.put("/api/v1/me", {"phone": new}), 200)
        # the registrar moved the claim: the new number is taken everywhere, the old one free
        self.assertEqual(db_rows(self.fed, REGION, "SELECT count(*) FROM id_claims WHERE kind = 'phone' AND account = ?",
                                 a.account["id"]), [(1,)])
        self.assertError(self.client_at(REGION).post("/api/v1/accounts", self.applicant_body(phone=new)), 409,
                         "phone_taken", "phone")
        self.assertEqual(self.wait_login(C, new).account["id"], a.account["id"])  # C knows of the change
        self.assertStatus(self.client_at(C).post("/api/v1/accounts", self.applicant_body(phone=old)), 201)
        # two applicants of two nodes taking one new number at the same moment: one gets it
        x, y = self.register(B), self.register(C)
        for _ in range(3):
            phone = mobile()
            got = race_at(self, [(nid, {"phone": phone}, "/api/v1/me", (u.username, PASSWORD)) for nid, u in ((B, x), (C, y))],
                       method="PUT")
            self.assertEqual(got, [(200, None), (409, "phone_taken")])

    def test_a_unit_admins_phone_is_not_claimed_and_names_the_applicant_everywhere(self):
        # Phones are claimed at the registrar for applicants only (node/claims.c): a unit's
        # contact phone, its admin's, may be the mobile of someone who then registers as an
        # applicant at another node (one account, one role), as at one node (test_session);
        # the number then logs in the applicant at every node, the unit admin by username
        u = self.client_at(B)
        body = self.unit_body(node=B, phone=mobile())
        r = u.post("/api/v1/units", body)
        self.assertStatus(r, 201)
        admin = r.json["account"]["username"]
        a = self.register(C, phone=body["phone"])
        for nid in self.fed.ids:
            self.assertEqual(self.wait_login(nid, body["phone"]).account["id"], a.account["id"])
            self.assertEqual(self.wait_login(nid, admin, body["password"]).account["role"], "unit_admin")

    def test_two_prefectures_register_one_id_at_the_same_moment(self):
        for _ in range(4):
            idn = id_number()
            got = race([Send(self.fed.port_of(nid), "/api/v1/accounts", self.applicant_body(id_number=idn))
                        for nid in (B, C)])
            statuses = sorted(s for s, _, _ in got)
            self.assertEqual(statuses, [201, 409], got)
            self.assertIn("id_number_taken", [code for s, code, _ in got if s == 409])
            # exactly one account anywhere, once replicated
            wid = B if got[0][0] == 201 else C
            loser = C if wid == B else B
            acc = self.wait_login(loser, idn).account
            self.assertEqual(acc["home"], wid)
            for nid in (REGION, B, C):
                until(lambda: db_rows(self.fed, nid, "SELECT 1 FROM accounts WHERE id = ?", acc["id"]))
                self.assertEqual(self.accounts_with_digest_of(nid, acc["id"]), 1, nid)

    def test_registrar_down_503_nothing_left_then_registers(self):
        self.fed.stop_node(REGION)
        body = self.applicant_body()
        c = self.client_at(B)
        r = c.post("/api/v1/accounts", body)
        self.assertError(r, 503, "registrar_unavailable")
        self.assertFalse(c.cookies.get("zc_session"), "a session cookie for a registration that failed")
        self.assertEqual(db_rows(self.fed, B, "SELECT count(*) FROM accounts WHERE name = ?", body["name"])[0][0], 0)
        self.assertError(self.client_at(B).login(body["id_number"], body["password"]), 401, "bad_credentials")
        self.fed.start_node(REGION)
        self.wait_links_up()
        c = self.client_at(B)
        self.assertStatus(c.post("/api/v1/accounts", body), 201)
        self.assertEqual(db_rows(self.fed, B, "SELECT count(*) FROM accounts WHERE name = ?", body["name"])[0][0], 1)

    def test_a_claim_never_used_is_released(self):
        # the registrar checks unmatched claims after 2 s; B dies right after the claim
        with open(os.path.join(self.fed.data_of(REGION), "node.conf"), "w") as f:
            f.write("claim-check-secs = 2\n")
        self.fed.stop_node(REGION)
        self.fed.start_node(REGION)
        self.start_with_failpoint(B, "after_claim")
        body = self.applicant_body()
        r = self.client_at(B).post("/api/v1/accounts", body)
        self.assertEqual(r.status, 0, f"B answered {r!r}: the failpoint did not kill it")
        acc = until(lambda: db_rows(self.fed, REGION, "SELECT account FROM id_claims WHERE kind = 'id'"
                                    " AND matched IS NULL"), 10)
        self.assertTrue(acc, "no unmatched claim at the registrar")
        # while B is down the claim holds: the ID number is not free
        self.assertError(self.client_at(C).post("/api/v1/accounts", self.applicant_body(id_number=body["id_number"])),
                         409, "id_number_taken")
        # the audit sees a claim no account matches: in flight for a while, then a finding
        self.assertEqual(self.run_audit(in_flight=3600).returncode, 0)
        r = self.run_audit()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual([l.split()[:2] for l in r.stdout.splitlines()], [["claim_unmatched", REGION]], r.stdout)
        self.assertIn(f"account {acc[0][0]} for node {B}", r.stdout)
        self.fed.start_node(B)
        self.wait_links_up()
        released = until(lambda: db_rows(self.fed, REGION, "SELECT count(*) FROM outbox WHERE"
                                         " json_extract(CAST(entry AS TEXT), '$.type') = 'id.released'")[0][0], 30)
        self.assertTrue(released, "the registrar did not release the claim")
        self.assertEqual(db_rows(self.fed, B, "SELECT count(*) FROM claims_revoked WHERE account = ?", acc[0][0])[0][0], 1)
        self.assertStatus(self.client_at(C).post("/api/v1/accounts", body), 201)


class TestUnitsFederationWide(FederatedAccountsCase):
    """A unit's credit code, full name and short name are claimed at the registrar: no two
    units anywhere share one, even registered at one moment at two prefectures."""

    def unit_at(self, nid, **over):
        c = self.client_at(nid)
        body = self.unit_body(node=nid, **over)
        r = c.remember(c.post("/api/v1/units", body))
        self.assertStatus(r, 201)
        c.body, c.unit = body, r.json["unit"]
        return c

    def test_two_prefectures_register_one_unit_at_the_same_moment(self):
        demo = [x["unit"] for x in (self.fed.account_of(n, "unit_admin") for n in (B, C))]
        for field in ("credit_code", "name", "short_name"):
            one, two = self.unit_body(node=B), self.unit_body(node=C)
            two[field] = one[field]
            got = race_at(self, [(B, one, "/api/v1/units", None), (C, two, "/api/v1/units", None)])
            self.assertEqual(got, [(201, None), (409, "unit_exists")], field)
        # the registrar holds each winner's claims, matched once its unit.registered came
        rows = until(lambda: (lambda r: r if all(m for _, m in r) else None)(
            db_rows(self.fed, REGION, "SELECT kind, matched IS NOT NULL FROM id_claims WHERE kind IN"
                    " ('credit_code', 'unit_name') AND node IN (?, ?) AND account NOT IN (?, ?)", B, C, *demo)), 10)
        self.assertEqual(sorted(k for k, _ in rows), ["credit_code"] * 3 + ["unit_name"] * 6)

    def test_a_unit_registered_elsewhere_is_refused_and_the_registrar_down_leaves_nothing(self):
        u = self.unit_at(B)
        self.assertEqual(u.unit["node"], B)
        # known at C once replicated, refused there by C itself or by the registrar
        for field in ("credit_code", "name", "short_name"):
            self.assertError(self.client_at(C).post("/api/v1/units", self.unit_body(node=C, **{field: u.body[field]})),
                             409, "unit_exists", field)
        self.fed.stop_node(REGION)
        body = self.unit_body(node=C)
        r = self.client_at(C).post("/api/v1/units", body)
        self.assertError(r, 503, "registrar_unavailable")
        self.assertEqual(db_rows(self.fed, C, "SELECT count(*) FROM units WHERE credit_code = ?", body["credit_code"]),
                         [(0,)])
        self.fed.start_node(REGION)
        self.wait_links_up()
        self.assertStatus(self.client_at(C).post("/api/v1/units", body), 201)

    def test_two_units_renamed_to_one_name_at_the_same_moment(self):
        a, b = self.unit_at(B), self.unit_at(C)
        for _ in range(3):
            name, short = self.unit_body()["name"], self.unit_body()["short_name"]
            got = race_at(self, [(nid, {"name": name, "short_name": short}, "/api/v1/units/me/rename",
                               (u.account["username"], u.body["password"])) for nid, u in ((B, a), (C, b))])
            self.assertEqual(got, [(200, None), (409, "unit_exists")])
        # a renamed unit gives up its former names: another unit may take them, once the
        # rename has reached the node it registers at (the registrar goes by its claims)
        old = a.body["name"]
        self.assertStatus(a.post("/api/v1/units/me/rename", dict(zip(("name", "short_name"), (
            self.unit_body()["name"], self.unit_body()["short_name"])))), 200)
        self.assertTrue(until(lambda: not db_rows(self.fed, C, "SELECT 1 FROM units WHERE name = ?", old)))
        self.assertStatus(self.client_at(C).post("/api/v1/units", self.unit_body(node=C, name=old)), 201)


class TestCollisions(FederatedAccountsCase):
    def bypass(self, nid, sql, *args):
        """Write into the stopped node nid's database behind its back, then start it again."""
        db = sqlite3.connect(os.path.join(self.fed.data_of(nid), "node.db"), timeout=30)
        try:
            db.execute(sql, args)
            db.commit()
        finally:
            db.close()
        self.fed.start_node(nid)
        self.wait_links_up()

    def test_a_replicated_unit_that_collides_is_reported_and_replication_goes_on(self):
        # Kashgar holds a unit that bypassed the registrar (written into its database while
        # it was stopped) with the credit code a Urumqi unit then registers properly
        body = self.unit_body(node=B)
        self.fed.stop_node(C)
        self.bypass(C, "INSERT INTO units(id, credit_code, name, short_name, node, created, updated)"
                    " VALUES('u00000000000000000000rogue', ?, '喀什冒用单位有限公司', '喀什冒用', ?, 0, 0)",
                    body["credit_code"], C)
        r = self.client_at(B).post("/api/v1/units", body)
        self.assertStatus(r, 201)
        unit = r.json["unit"]["id"]
        # Kashgar keeps its row, reports the collision, and goes on applying what follows
        alert = self.wait_alert(C, "collision", B)
        self.assertIn("unit.registered", alert["message"])
        later = self.register(B)
        got = until(lambda: db_rows(self.fed, C, "SELECT count(*) FROM accounts WHERE id = ?", later.account["id"])
                    == [(1,)])
        self.assertTrue(got, "replication stopped at the collision")
        self.assertEqual(db_rows(self.fed, C, "SELECT id FROM units WHERE credit_code = ?", body["credit_code"]),
                         [("u00000000000000000000rogue",)])
        self.assertEqual(db_rows(self.fed, REGION, "SELECT id FROM units WHERE credit_code = ?", body["credit_code"]),
                         [(unit,)])
        self.wait_converged()

    def entry_of(self, nid, etype, account):
        """The seq of the last entry of etype about account that nid logged."""
        return db_rows(self.fed, nid, "SELECT max(seq) FROM outbox WHERE type = ? AND"
                       " json_extract(body_json, '$.account') = ?", etype, account)[0][0]

    def wait_collision(self, nid, origin, seq, what):
        got = until(lambda: [x for x in self.alerts(nid) if (x["code"], x["origin"], x["seq"]) ==
                             ("collision", origin, seq)], 30)
        self.assertTrue(got, f"no collision alert for {origin}/{seq}: {self.alerts(nid)}")
        self.assertIn(what, got[0]["message"])

    def wait_applied_after(self, nid, origin):
        """A later account of origin arrives at nid, and every account entry of origin is applied there."""
        later = self.register(origin)
        self.assertTrue(until(lambda: db_rows(self.fed, nid, "SELECT count(*) FROM accounts WHERE id = ?",
                                              later.account["id"]) == [(1,)]), "replication stopped")
        heads = self.wait_converged()
        self.assertEqual(db_rows(self.fed, nid, "SELECT type, seq FROM fed_entries WHERE origin = ? AND"
                                 " type LIKE 'account.%' AND applied IS NULL", origin), [], heads)

    def test_a_replicated_account_that_collides_is_reported_and_replication_goes_on(self):
        # A Urumqi applicant registers properly while Kashgar is down; Kashgar then holds a
        # row that bypassed the registrar (written into its database meanwhile) with the
        # applicant's username or ID digest (node/replicas.c): the row held here stays, the
        # replicated one is not stored, a collision alert names its entry
        for i, (column, what) in enumerate((("username", "the username"), ("id_digest", "the ID number"))):
            with self.subTest(column=column):
                self.fed.stop_node(C)
                a = self.register(B)
                acc = a.account["id"]
                (value,), = db_rows(self.fed, B, f"SELECT {column} FROM accounts WHERE id = ?", acc)
                rogue = f"a000000000000000rogue_{column}"
                held = {"username": f"199999999{i}", "id_digest": None, column: value}
                self.bypass(C, "INSERT INTO accounts(id, username, role, name, id_digest, home, created, updated)"
                            " VALUES(?, ?, 'applicant', '冒用', ?, ?, 0, 0)", rogue, held["username"],
                            held["id_digest"], C)
                seq = self.entry_of(B, "account.registered", acc)
                self.wait_collision(C, B, seq, f"{what} of entry account.registered/{seq}")
                self.assertEqual(db_rows(self.fed, C, "SELECT count(*) FROM accounts WHERE id = ?", acc), [(0,)])
                self.assertEqual(db_rows(self.fed, C, f"SELECT id FROM accounts WHERE {column} = ?", value),
                                 [(rogue,)])
                self.assertEqual(db_rows(self.fed, REGION, f"SELECT id FROM accounts WHERE {column} = ?", value),
                                 [(acc,)])
                # the entry after it, about the account not stored here, and a later account
                # all arrive and apply
                self.assertStatus(a.put("/api/v1/me", {"phone": mobile()}), 200)
                self.wait_applied_after(C, B)

    def test_a_replicated_phone_another_applicant_holds_logs_in_neither(self):
        # Kashgar holds two applicants that bypassed the registrar, with the same password as
        # a Urumqi applicant and its phone, and the phone it then changes to: the Urumqi
        # account is stored there, and reported, each time; the number logs in neither at
        # Kashgar (its username does), and names the Urumqi account elsewhere
        with open(os.path.join(self.fed.dir, "keys", "pepper"), encoding="ascii") as f:
            pepper = bytes.fromhex(f.read().strip())
        digest = lambda phone: hmac.new(pepper, phone.encode(), hashlib.sha256).hexdigest()  # noqa: E731
        self.fed.stop_node(C)
        a = self.register(B)
        acc, phones = a.account["id"], (a.body["phone"], mobile())
        (password_hash,), = db_rows(self.fed, B, "SELECT password_hash FROM accounts WHERE id = ?", acc)
        row = "(?, ?, 'applicant', '冒用', ?, ?, ?, ?, 0, 0)"
        self.bypass(C, "INSERT INTO accounts(id, username, role, name, phone, phone_digest, password_hash, home,"
                    f" created, updated) VALUES{row}, {row}",
                    *[v for i, phone in enumerate(phones) for v in (f"a000000000000000rogue_phone{i}",
                                                                   f"199999998{i}", phone, digest(phone),
                                                                   password_hash, C)])
        for etype, phone in (("account.registered", phones[0]), ("account.updated", phones[1])):
            if etype == "account.updated":
                self.assertStatus(a.put("/api/v1/me", {"phone": phone}), 200)
            seq = self.entry_of(B, etype, acc)
            self.wait_collision(C, B, seq, f"the phone of entry {etype}/{seq}")
            self.assertTrue(until(lambda: db_rows(self.fed, C, "SELECT phone_digest FROM accounts WHERE id = ?", acc)
                                  == [(digest(phone),)]))
            self.assertError(self.login_at(C, phone)[1], 401, "bad_credentials")
            for nid, login in ((C, a.username), (REGION, phone)):
                self.assertEqual(self.assertStatus(self.login_at(nid, login)[1], 200)["account"]["id"], acc)
        self.wait_applied_after(C, B)


class TestCredentialsAcrossNodes(FederatedAccountsCase):
    def test_a_password_change_at_home_is_seen_everywhere(self):
        a = self.register(B)
        elsewhere = [self.wait_login(nid, a.username) for nid in (REGION, C)]
        r = a.post("/api/v1/me/password", {"old": PASSWORD, "new": "New!Passw0rd#27"})
        self.assertStatus(r, 200)
        t0 = time.time()
        for c in elsewhere:
            self.assertTrue(until(lambda: c.me().status == 401, 5, 0.05), "a session elsewhere outlived the change")
        self.assertLess(time.time() - t0, 2.5)
        for nid in (REGION, C, B):
            self.assertError(self.login_at(nid, a.username)[1], 401, "bad_credentials")
            self.assertStatus(self.login_at(nid, a.username, "New!Passw0rd#27")[1], 200)
        self.assertStatus(a.me(), 200)  # the session that changed it stays

    def test_home_down_login_elsewhere_503(self):
        a = self.register(B)
        self.wait_login(C, a.username)
        self.fed.stop_node(B)
        self.assertError(self.login_at(C, a.username)[1], 503, "home_unavailable")
        self.assertError(self.login_at(REGION, a.body["id_number"])[1], 503, "home_unavailable")
        self.fed.start_node(B)
        self.wait_links_up()
        self.wait_login(C, a.username)

    def test_failed_logins_spread_over_nodes_count_at_home(self):
        a = self.register(B)
        self.wait_login(REGION, a.username)
        self.wait_login(C, a.username)
        statuses = []
        for i in range(8):
            nid = (REGION, C, B)[i % 3]
            statuses.append(self.login_at(nid, a.username, "Wrong!Passw0rd#1")[1].status)
        self.assertEqual(statuses[:5], [401] * 5, statuses)
        self.assertEqual(statuses[5:], [429] * 3, statuses)
        for nid in (REGION, C, B):  # the right password too, from this address, for now
            self.assertError(self.login_at(nid, a.username)[1], 429, "too_many_attempts")
