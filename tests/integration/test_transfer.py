"""Moving the review region (修改评审区域; node/transfer.c), on three nodes from
tools/zc-fed: the region 650000, Urumqi 650100 and Kashgar 653100.

- a transfer from the region to Kashgar: POST /me/region -> 202 offered, then accepted (by
  Kashgar, once it fetched what only a home holds over the encrypted channel) and done (by
  the region); the home is Kashgar everywhere; the region keeps none of the password hash,
  ID number, phone, e-mail or ID-card scans, Kashgar has them (log in, /me, the scan's
  bytes); the draft application is handed to Kashgar; the log's entries carry no secret;
  the account logs in at the old home until done and anywhere after;
- interrupted: the new home down when the offer is made (the transfer waits, personal data
  cannot change meanwhile, and it completes once the new home is back); the old home
  killed (-9) right after the offer (it completes once the old home is back); the new home
  down for longer than the rollback delay: rolled back, nothing left at the new home, the
  account at its old home as before;
- killed (-9) at each step by a failpoint (KILLED_AT: the old home once its offer or its
  done committed, and while applying the acceptance; the new home before and after its
  acceptance commits, and while applying done): while it is down a login at the other one
  reaches the home of that moment (or answers 503 when that is the node down); once back
  the transfer is done at both ends, the account has one home everywhere, which alone holds
  its secrets and its draft, and logs in at every node; the new home down past the rollback
  delay (KILLED_TOO_LONG, and the old home killed once it rolled back): rolled back, the
  old home keeps it all and the new one nothing;
- the old home's done held back (slow_log): the new home checks the password itself once
  the old home says it moved the account there; a third node waits for the done.
Each test ends with zc-audit clean."""
import hashlib
import json
import os
import time

from test_applications import filled_sections, this_year
from test_replication import ReplicationCase, db_rows
from zc_test import PASSWORD, PDF, PNG, REGION, until

B, C = "650100", "653100"
API = "/api/v1"




class TransferCase(ReplicationCase):
    def setUp(self):
        super().setUp()
        with_conf = getattr(self, "NODE_CONF", None)
        self.start(self.id().rsplit(".", 1)[-1][:40])
        if with_conf:  # a shorter rollback delay at the region
            with open(os.path.join(self.fed.data_of(REGION), "node.conf"), "w") as f:
                f.write(with_conf)
            self.fed.stop_node(REGION)
            self.fed.start_node(REGION)
            self.wait_links_up()
        self.addCleanup(self.audit)

    def applicant_at_region(self):
        a = self.client_at(REGION)
        body = self.applicant_body()
        self.assertStatus(a.remember(a.post(API + "/accounts", body)), 201)
        a.body = body
        self.assertStatus(a.post(API + "/me/idcard?side=front", raw=PNG, ctype="image/png"), 201)
        unit = self.fed.account_of(REGION, "unit_admin")["credit_code"]
        r = a.post(API + "/applications", {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": unit})
        self.assertStatus(r, 201)
        a.app_id = r.json["id"]
        return a

    def transfer(self, a, node):
        r = a.post(API + "/me/region", {"node": node})
        self.assertStatus(r, 202)
        t = r.json["transfer"]
        self.assertEqual((t["status"], t["from"], t["to"]), ("offered", REGION, node))
        return t["id"]

    def transfer_status(self, a, tid):
        r = a.get(f"{API}/transfers/{tid}")
        self.assertStatus(r, 200)
        return r.json["transfer"]["status"]

    def wait_status(self, a, tid, status, timeout=30):
        got = until(lambda: self.transfer_status(a, tid) == status, timeout)
        self.assertTrue(got, f"transfer {tid}: {self.transfer_status(a, tid)}, not {status}")

    def wait_held(self, app_id, nid):
        """Every node that has a copy of the application names nid as its holder, and nid
        has taken it over (and the account's home is nid everywhere)."""
        def held():
            for n in [x for x in self.fed.ids if x == nid] + [x for x in self.fed.ids if x != nid]:
                rows = db_rows(self.fed, n, "SELECT holder, (SELECT home FROM accounts WHERE id = applicant_id)"
                               " FROM applications WHERE id = ?", app_id)
                if (rows and rows[0] != (nid, nid)) or (n == nid and not rows):
                    return False
            return True
        self.assertTrue(until(held), f"{app_id} not held by {nid}")

    def secrets_at(self, nid, account):
        return db_rows(self.fed, nid, "SELECT home, password_hash IS NOT NULL, id_enc IS NOT NULL, phone IS NOT NULL,"
                       " (SELECT count(*) FROM idcards WHERE account_id = ?1) FROM accounts WHERE id = ?1", account)[0]

    def status_at(self, nid, tid):
        """The transfer's status in nid's own table (None: it does not know it)."""
        rows = db_rows(self.fed, nid, "SELECT status FROM transfers WHERE id = ?", tid)
        return rows[0][0] if rows else None

    def wait_killed(self, nid, failpoint):
        killed = until(lambda: self.client_at(nid).get(API + "/health").status == 0, 30)
        self.assertTrue(killed, f"{nid} was not killed at {failpoint}")
        self.assertIn(f"failpoint {failpoint}: killed", self.fed.log_of(nid))

    def wait_settled(self, a, tid, status, home):
        """The transfer ends status at both ends; home is the account's one home everywhere,
        the only node that holds its secrets and its draft; it logs in at every node."""
        acc = a.account["id"]
        self.wait_status(a, tid, status)
        got = until(lambda: self.status_at(C, tid) == status)
        self.assertTrue(got, self.status_at(C, tid))
        for nid in self.fed.ids:
            want = (home, 1, 1, 1, 1) if nid == home else (home, 0, 0, 0, 0)
            self.assertTrue(until(lambda: self.secrets_at(nid, acc) == want), (nid, self.secrets_at(nid, acc)))
        self.wait_held(a.app_id, home)
        for nid in self.fed.ids:
            self.wait_login(nid, a.body["id_number"])


class TestTransfer(TransferCase):
    def test_from_the_region_to_kashgar(self):
        a = self.applicant_at_region()
        acc = a.account["id"]
        tid = self.transfer(a, C)
        self.wait_status(a, tid, "done")
        # one home everywhere, the secrets there only
        for nid in self.fed.ids:
            until(lambda: db_rows(self.fed, nid, "SELECT home FROM accounts WHERE id = ?", acc) == [(C,)])
        self.assertEqual(self.secrets_at(REGION, acc), (C, 0, 0, 0, 0))
        self.assertEqual(self.secrets_at(C, acc), (C, 1, 1, 1, 1))
        self.assertEqual(self.secrets_at(B, acc), (C, 0, 0, 0, 0))
        # the new home logs in locally and has it all; the old one asks the new one
        k = self.wait_login(C, a.body["id_number"])
        me = k.me().json["account"]
        self.assertEqual(me["home"], C)
        self.assertEqual(me["id_number_masked"][-4:], a.body["id_number"][-4:])
        scan = k.get(API + "/me/idcard?side=front")
        self.assertStatus(scan, 200)
        self.assertEqual(hashlib.sha256(scan.body).digest(), hashlib.sha256(PNG).digest())
        self.assertStatus(self.client_at(REGION).login(a.body["id_number"], PASSWORD), 200)
        # personal data is changed at the new home now
        self.assertError(a.put(API + "/me", {"email": "x@example.com"}), 409, "not_home")
        self.assertStatus(k.put(API + "/me", {"email": "x@example.com"}), 200)
        # the draft followed its applicant and is edited at Kashgar; the region keeps nothing
        self.wait_held(a.app_id, C)
        self.assertTrue(until(lambda: not db_rows(self.fed, REGION, "SELECT 1 FROM applications WHERE id = ?", a.app_id)))
        self.assertEqual(db_rows(self.fed, REGION, "SELECT count(*) FROM handoffs_out"), [(0,)])
        self.assertEqual(self.status(REGION)["transfers"], [])
        r = k.put(f"{API}/applications/{a.app_id}/sections/work", {"data": {"experience": "2010年至今 喀什某公司"}})
        self.assertStatus(r, 200)
        # the steps are in the logs, with no secret in them
        steps = db_rows(self.fed, B, "SELECT origin, json_extract(CAST(entry AS TEXT), '$.body.status'),"
                        " CAST(entry AS TEXT) FROM fed_entries WHERE type = 'account.transfer' ORDER BY received, seq")
        self.assertEqual(sorted((o, s) for o, s, _ in steps), sorted([(REGION, "offered"), (C, "accepted"),
                                                                      (REGION, "done")]))
        for _, _, text in steps:
            self.assertNotIn(a.body["id_number"], text)
            self.assertNotIn(a.body["phone"], text)
            self.assertNotIn("argon2", text)
        # another transfer is refused while none is needed; an unknown node is a 400
        self.assertError(k.post(API + "/me/region", {"node": C}), 400, "invalid_field", "node")
        self.assertError(k.post(API + "/me/region", {"node": "659999"}), 400, "invalid_field", "node")


class TestTransferInterrupted(TransferCase):
    def test_the_new_home_down_the_old_home_killed_the_new_home_killed(self):
        a = self.applicant_at_region()
        acc = a.account["id"]
        self.fed.stop_node(C)
        tid = self.transfer(a, C)
        time.sleep(1.5)
        self.assertEqual(self.transfer_status(a, tid), "offered")
        self.assertError(a.put(API + "/me", {"email": "y@example.com"}), 409, "transfer_in_flight")
        self.assertEqual([(x["id"], x["status"]) for x in self.status(REGION)["transfers"]], [(tid, "offered")])
        self.assertStatus(self.client_at(REGION).login(a.body["id_number"], PASSWORD), 200)  # at the old home
        self.fed.start_node(C)
        self.wait_status(a, tid, "done")
        self.assertTrue(until(lambda: self.secrets_at(C, acc)[:2] == (C, 1)), self.secrets_at(C, acc))
        self.wait_held(a.app_id, C)

        # back to the region, the region killed right after its offer
        k = self.wait_login(C, a.body["id_number"])
        r = k.post(API + "/me/region", {"node": REGION})
        self.assertStatus(r, 202)
        tid2 = r.json["transfer"]["id"]
        self.fed.stop_node(C, kill=True)
        self.assertIn(self.status_at(C, tid2), ("offered", None))
        self.fed.start_node(C)
        until(lambda: self.status_at(C, tid2) == "done")
        self.wait_held(a.app_id, REGION)
        self.assertTrue(until(lambda: self.secrets_at(REGION, acc) == (REGION, 1, 1, 1, 1)), self.secrets_at(REGION, acc))
        self.assertTrue(until(lambda: self.secrets_at(C, acc) == (REGION, 0, 0, 0, 0)), self.secrets_at(C, acc))
        # Urumqi learns of the move from Kashgar's log once its link to the restarted node is back;
        # until then it asks Kashgar, which is right to answer 503 while that link is down
        self.assertTrue(until(lambda: self.secrets_at(B, acc)[0] == REGION), self.secrets_at(B, acc))
        self.assertStatus(self.client_at(B).login(a.body["id_number"], PASSWORD), 200)

        # and to Urumqi, the new home killed (-9) right after the offer
        r2 = self.wait_login(REGION, a.body["id_number"])
        tid3 = self.transfer(r2, B)
        self.fed.stop_node(B, kill=True)
        self.assertIn(self.transfer_status(r2, tid3), ("offered", "done"))  # it may have accepted in time
        self.fed.start_node(B)
        self.wait_status(r2, tid3, "done")
        self.assertTrue(until(lambda: self.secrets_at(B, acc)[:2] == (B, 1)), self.secrets_at(B, acc))
        self.assertTrue(until(lambda: self.secrets_at(REGION, acc) == (B, 0, 0, 0, 0)), self.secrets_at(REGION, acc))
        self.wait_held(a.app_id, B)


# Each step of a transfer from the region (the old home) to Kashgar (the new) at which a
# kill -9 leaves a state of its own (node/transfer.c's failpoints): the failpoint, the home
# whose node it kills, the home a login at the other one asks while it is down (the same:
# 503 home_unavailable), and how the transfer ends once it is back.
OLD, NEW = REGION, C
KILLED_AT = (
    ("transfer_offered", OLD, OLD, "done"),     # the offer committed, not yet in the log
    ("transfer_fetched", NEW, OLD, "done"),     # the export fetched and stored, not committed
    ("transfer_accepted", NEW, OLD, "done"),    # the acceptance committed, not yet in the log
    ("transfer_finishing", OLD, OLD, "done"),   # applying the acceptance: in git, not applied
    ("transfer_done", OLD, OLD, "done"),        # done committed, not yet in the log: the new
                                                # home still sends logins to the old
    ("transfer_moved", NEW, NEW, "done"),       # the new home applying done
)
# The same with the new home down longer than the old home's rollback delay (killed, or
# stopped for the old home to roll back and be killed).
KILLED_TOO_LONG = (
    ("transfer_fetched", NEW, OLD, "rolled_back"),
    ("transfer_accepted", NEW, OLD, "rolled_back"),  # its acceptance comes too late: ignored
    ("transfer_rolled_back", OLD, OLD, "rolled_back"),  # rolled back, not yet in the log
)


class InterruptedCase(TransferCase):
    def interrupted(self, failpoint, killed, home, ends):
        self.start_with_failpoint(killed, failpoint)
        a = self.applicant_at_region()
        known = until(lambda: all(db_rows(self.fed, n, "SELECT 1 FROM accounts WHERE id = ?", a.account["id"])
                                  for n in self.fed.ids))
        self.assertTrue(known, "the account did not replicate")
        alive = NEW if killed == OLD else OLD
        stopped = ends == "rolled_back" and alive == NEW  # nobody accepts: the old home rolls back
        if stopped:
            self.fed.stop_node(NEW)
        r = a.post(API + "/me/region", {"node": NEW})
        self.assertIn(r.status, (202, 0), r)  # 0: killed before its answer
        self.wait_killed(killed, failpoint)
        (tid,), = db_rows(self.fed, OLD, "SELECT id FROM transfers WHERE account = ?", a.account["id"])
        if not stopped:
            r = self.client_at(alive).login(a.body["id_number"], PASSWORD)
            if home == killed:
                self.assertError(r, 503, "home_unavailable")
            else:
                self.assertStatus(r, 200)
        if ends == "rolled_back" and not stopped:
            self.wait_status(a, tid, "rolled_back", timeout=15)
        self.fed.start_node(killed)
        if stopped:
            self.fed.start_node(NEW)
        self.wait_settled(a, tid, ends, NEW if ends == "done" else OLD)
        if ends == "rolled_back":
            self.assertStatus(a.put(API + "/me", {"email": "r@example.com"}), 200)  # free to change again
        self.audit()

    def run_table(self, table):
        for row in table:
            passed = []
            with self.subTest(failpoint=row[0], killed=row[1]):
                self.interrupted(*row)
                passed.append(row)
            if not passed:
                break  # the federation is left in that row's state: the next rows would fail after it


class TestTransferKilledAtEachStep(InterruptedCase):
    def test_killed_at_each_step_the_transfer_completes(self):
        self.run_table(KILLED_AT)


class TestTransferKilledTooLong(InterruptedCase):
    NODE_CONF = "transfer-rollback-secs = 4\n"

    def test_the_new_home_killed_and_down_too_long_rolls_back(self):
        self.run_table(KILLED_TOO_LONG)


class TestTransferRolledBack(TransferCase):
    NODE_CONF = "transfer-rollback-secs = 4\n"

    def test_no_acceptance_in_time_rolls_back(self):
        a = self.applicant_at_region()
        acc = a.account["id"]
        self.fed.stop_node(C)
        tid = self.transfer(a, C)
        self.wait_status(a, tid, "rolled_back", timeout=15)
        self.fed.start_node(C)
        until(lambda: self.status_at(C, tid) == "rolled_back")
        time.sleep(1)  # it never fetches a rolled-back transfer
        self.assertEqual(self.secrets_at(REGION, acc), (REGION, 1, 1, 1, 1))
        self.assertEqual(self.secrets_at(C, acc), (REGION, 0, 0, 0, 0))
        self.assertStatus(a.put(API + "/me", {"email": "z@example.com"}), 200)  # free to change again
        # and a new transfer goes through
        tid = self.transfer(a, B)
        self.wait_status(a, tid, "done")
        self.wait_held(a.app_id, B)
        self.assertTrue(until(lambda: self.secrets_at(B, acc)[:2] == (B, 1)), self.secrets_at(B, acc))


class TestTransferDoneOnItsWay(TransferCase):
    def test_the_new_home_logs_in_before_the_old_homes_done_reaches_it(self):
        a = self.applicant_at_region()
        acc = a.account["id"]
        # the region's entries reach the others 3 s late (node/logwriter.c slow_log)
        self.start_with_failpoint(REGION, "slow_log")
        tid = self.transfer(a, C)
        self.assertTrue(until(lambda: self.status_at(REGION, tid) == "done"), self.status_at(REGION, tid))
        # the region decided and no longer holds the password; Kashgar does not know yet
        self.assertEqual(self.status_at(C, tid), "accepted")
        self.assertEqual(self.secrets_at(C, acc)[:2], (REGION, 1))
        # at Kashgar the account logs in all the same: the region says it moved it there
        self.assertStatus(self.client_at(C).login(a.body["id_number"], PASSWORD), 200)
        self.assertError(self.client_at(C).login(a.body["id_number"], "Wrong-pass1"), 401, "bad_credentials")
        # elsewhere it waits for the done (Urumqi asks the region, which names Kashgar)
        self.assertError(self.client_at(B).login(a.body["id_number"], PASSWORD), 503, "home_unavailable")
        self.assertEqual(self.status_at(C, tid), "accepted",
                         "the done came in time: the window was not tested")
        self.wait_status(a, tid, "done")
        self.assertTrue(until(lambda: self.secrets_at(C, acc)[:2] == (C, 1)), self.secrets_at(C, acc))
        self.wait_login(B, a.body["id_number"])


class TestTransferUnderReview(TransferCase):
    def test_an_application_under_review_stays_and_reports_to_the_new_home(self):
        # a region applicant at a Urumqi unit: submitted, the application is at Urumqi
        a = self.client_at(REGION)
        body = self.applicant_body()
        self.assertStatus(a.remember(a.post(API + "/accounts", body)), 201)
        unit = self.fed.account_of(B, "unit_admin")
        r = a.post(API + "/applications", {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": unit["credit_code"]})
        self.assertStatus(r, 201)
        app_id = r.json["id"]
        for name, data in filled_sections(body["name"]).items():
            self.assertStatus(a.put(f"{API}/applications/{app_id}/sections/{name}", {"data": data}), 200)
        for section, data, ctype in (("education", PNG, "image/png"), ("achievements", PDF, "application/pdf")):
            self.assertStatus(a.post(f"{API}/applications/{app_id}/attachments?section={section}&name=x", raw=data,
                                     ctype=ctype), 201)
        self.assertStatus(a.post(f"{API}/applications/{app_id}/submit"), 200)
        self.assertTrue(until(lambda: db_rows(self.fed, B, "SELECT holder FROM applications WHERE id = ?", app_id)
                              == [(B,)]))
        # the applicant moves to Kashgar: the application stays with its reviewer
        tid = self.transfer(a, C)
        self.wait_status(a, tid, "done")
        self.assertTrue(until(lambda: db_rows(self.fed, C, "SELECT holder, status FROM applications WHERE id = ?",
                                              app_id) == [(B, "unit_review")]), "no read-only copy at the new home")
        self.assertTrue(until(lambda: not db_rows(self.fed, REGION, "SELECT 1 FROM applications WHERE id = ?", app_id)))
        k = self.wait_login(C, body["id_number"])
        self.assertEqual(k.get(f"{API}/applications/{app_id}").json["status"], "unit_review")
        # returned by the unit: it comes to the new home, editable there
        u = self.client_at(B)
        self.assertStatus(u.login(unit["login"], unit["password"]), 200)
        self.assertStatus(u.post(f"{API}/applications/{app_id}/review", {"action": "return",
                                                                        "opinions": {"work": "请补充"}}), 200)
        self.assertTrue(until(lambda: db_rows(self.fed, C, "SELECT holder, status FROM applications WHERE id = ?",
                                              app_id) == [(C, "returned")]), "not handed to the new home")
        j = k.get(f"{API}/applications/{app_id}").json
        self.assertEqual((j["status"], j["editable"]), ("returned", True))
        self.assertStatus(k.put(f"{API}/applications/{app_id}/sections/work", {"data": {"experience": "补充"}}), 200)
