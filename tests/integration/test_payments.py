"""Review fees (缴费): the payment order opened when the formal review passes at a committee
that charges a fee, paid in the sandbox gateway (which calls the node back over HTTP with
an HMAC-signed notification), refunded at the committee's request; every notification
that is repeated, late, forged, amount-altered or about an unknown order changes nothing
and is kept with its verdict; the committee's list of who has paid, as JSON and CSV.

The test plays the gateway itself for the hostile notifications: it holds the key the node
shares with its gateway (DATA/gateway.key), as the non-tax payment platform would."""
import hashlib
import hmac
import json
import os
import sqlite3

from test_applications import API, GC_G, AppFlow
from zc_test import Client, NodePort, ZcCase


def sign_notice(key, n):
    msg = "zc-pay.1\n{event}\n{order}\n{amount}\n{txn}\n{ts}".format(**n).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


class PaymentsCase(AppFlow, ZcCase):
    NODE_LABEL = "payments"

    def gateway_key(self):
        with open(os.path.join(self.node.data, "gateway.key")) as f:
            return bytes.fromhex(f.read().strip())

    def db(self, sql, *args):
        db = sqlite3.connect(f"file:{os.path.join(self.node.data, 'node.db')}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def formal_passed(self):
        a = self.at_committee()
        r = self.review(self.committee_admin(), a.app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "formal_passed")
        return a, r.json

    def anon(self):
        return Client(NodePort(self.node.port))

    def notify(self, n, key=None, sig=None):
        body = dict(n, sig=sig or sign_notice(key or self.gateway_key(), n))
        return self.anon().post(f"{API}/payments/notify", body)

    def order_row(self, order):
        return self.db("SELECT status, txn, paid, refunded FROM payment_orders WHERE id = ?", order)

    def entries(self, kind):
        return self.db("SELECT count(*) FROM outbox WHERE type = ?", kind)[0][0]

    def verdicts(self, order):
        return [v for (v,) in self.db("SELECT verdict FROM payment_notices WHERE order_id = ? ORDER BY id", order)]

    def paid_in_sandbox(self, a):
        order = self.get_app(a, a.app_id)["payment"]["order_id"]
        r = self.anon().post(f"{API}/sandbox/orders/{order}/pay", {})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "paid")
        return order, r.json["txn"]


class TestPayments(PaymentsCase):
    def test_an_order_opens_at_the_formal_pass_and_is_paid_in_the_sandbox(self):
        a = self.at_committee()
        self.assertNotIn("payment", self.get_app(a, a.app_id), "no order before the formal review passes")
        ordered = self.entries("payment.ordered")
        j = self.review(self.committee_admin(), a.app_id, "forward").json
        p = j["payment"]
        self.assertEqual((p["amount"], p["amount_yuan"], p["status"], p["status_name"]), (30000, "300.00", "unpaid", "未缴费"))
        self.assertIn(f"/#/paysandbox?order={p['order_id']}", p["pay_url"])
        self.assertEqual(self.entries("payment.ordered"), ordered + 1)
        # the gateway's page shows the order, no personal data
        g = self.anon().get(f"{API}/sandbox/orders/{p['order_id']}")
        self.assertStatus(g, 200)
        self.assertEqual((g.json["amount"], g.json["status"], g.json["number"]), (30000, "unpaid", j["number"]))
        self.assertNotIn(a.body["name"], json.dumps(g.json, ensure_ascii=False))
        # paying there: the gateway notifies the node over HTTP; the order is paid, once
        paid = self.entries("payment.paid")
        order, txn = self.paid_in_sandbox(a)
        self.assertTrue(txn.startswith("SBX"))
        mine = self.get_app(a, a.app_id)["payment"]
        self.assertEqual((mine["status"], mine["status_name"], mine["txn"]), ("paid", "已缴费", txn))
        self.assertNotIn("pay_url", mine)
        self.assertIn("paid", mine)
        self.assertEqual(self.entries("payment.paid"), paid + 1)
        self.assertEqual(self.verdicts(order), ["applied"])
        # paying again is refused and changes nothing
        self.assertError(self.anon().post(f"{API}/sandbox/orders/{order}/pay", {}), 409, "already_paid")
        self.assertEqual(self.entries("payment.paid"), paid + 1)

    def test_a_committee_without_a_fee_opens_no_order(self):
        cid = GC_G
        self.restore_committee_later(cid)
        c = self.committee(cid)
        self.assertStatus(self.node_admin().put(f"{API}/committees/{cid}", {"fee": 0, "submit_limit": c["submit_limit"]}), 200)
        a, j = self.formal_passed()
        self.assertNotIn("payment", j)
        self.assertEqual(self.db("SELECT count(*) FROM payment_orders WHERE application_id = ?", a.app_id)[0][0], 0)

    def test_hostile_notifications_change_nothing_and_are_kept(self):
        a, j = self.formal_passed()
        order, txn = self.paid_in_sandbox(a)
        before = (self.order_row(order), self.entries("payment.paid"), self.entries("payment.refunded"))
        genuine = {"event": "paid", "order": order, "amount": 30000, "txn": txn, "ts": "2026-12-01T08:00:00Z"}
        # repeated: the same transaction again is acknowledged, nothing moves
        r = self.notify(genuine)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["result"], "repeated")
        # forged: signed with another key
        self.assertError(self.notify(genuine, key=os.urandom(32)), 400, "bad_signature")
        # amount-altered: a genuine signature over another amount
        altered = dict(genuine, amount=1)
        self.assertError(self.notify(altered, sig=sign_notice(self.gateway_key(), genuine)), 400, "bad_signature")
        # signed by the gateway, but not the order's amount
        self.assertError(self.notify(dict(genuine, amount=100, txn="SBX-other")), 409, "amount_mismatch")
        # a second transaction for an order already paid
        self.assertError(self.notify(dict(genuine, txn="SBX-second")), 409, "payment_conflict")
        # an order nobody opened, and a notification that is not one
        self.assertError(self.notify(dict(genuine, order="p" + "0" * 24)), 404, "not_found")
        r = self.anon().post(f"{API}/payments/notify", {"event": "paid", "order": order})
        self.assertError(r, 400, "invalid_notice")
        self.assertEqual((self.order_row(order), self.entries("payment.paid"), self.entries("payment.refunded")), before)
        self.assertEqual(self.verdicts(order), ["applied", "repeated", "forged", "forged", "amount_mismatch", "conflict",
                                                "malformed"])
        self.assertEqual(self.verdicts("p" + "0" * 24), ["unknown_order"])

    def test_a_refund_then_a_late_notification(self):
        a, j = self.formal_passed()
        order = j["payment"]["order_id"]
        cmte = self.committee_admin()
        self.assertError(cmte.post(f"{API}/payments/{order}/refund", {"reason": "重复缴费"}), 409, "not_paid")
        order, txn = self.paid_in_sandbox(a)
        self.assertError(cmte.post(f"{API}/payments/{order}/refund", {}), 400, "missing_field")
        other = self.committee_admin("650000-WS-G")
        self.assertError(other.post(f"{API}/payments/{order}/refund", {"reason": "x"}), 404, "not_found")
        self.assertError(a.post(f"{API}/payments/{order}/refund", {"reason": "x"}), 403, None)
        self.assertEqual(self.order_row(order)[0][0], "paid")
        r = cmte.post(f"{API}/payments/{order}/refund", {"reason": "重复缴费"})
        self.assertStatus(r, 200)
        self.assertEqual((r.json["status"], r.json["status_name"]), ("refunded", "已退费"))
        self.assertEqual(self.get_app(a, a.app_id)["payment"]["status"], "refunded")
        self.assertEqual(self.entries("payment.refunded") >= 1, True)
        # the gateway's "paid" for that transaction, arriving after the refund: late, ignored
        r = self.notify({"event": "paid", "order": order, "amount": 30000, "txn": txn, "ts": "2026-12-01T08:00:00Z"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["result"], "late")
        self.assertEqual(self.order_row(order)[0][0], "refunded")
        self.assertEqual(self.verdicts(order), ["applied", "applied", "late"])

    def test_the_committee_lists_who_paid_and_exports_csv(self):
        a1, j1 = self.formal_passed()
        a2, j2 = self.formal_passed()
        self.paid_in_sandbox(a1)
        cmte = self.committee_admin()
        r = cmte.get(f"{API}/committees/{GC_G}/payments")
        self.assertStatus(r, 200)
        rows = {i["number"]: i for i in r.json["items"]}
        self.assertEqual(rows[j1["number"]]["status"], "paid")
        self.assertEqual(rows[j1["number"]]["name"], a1.body["name"])
        self.assertEqual(rows[j2["number"]]["status"], "unpaid")
        self.assertGreaterEqual(r.json["paid"], 1)
        c = cmte.get(f"{API}/committees/{GC_G}/payments?format=csv")
        self.assertStatus(c, 200)
        self.assertTrue(c.header("Content-Type").startswith("text/csv"))
        self.assertIn("attachment", c.header("Content-Disposition"))
        text = c.body.decode("utf-8")
        self.assertTrue(text.startswith("\ufeff\"申请书编号\",\"姓名\""))
        line = [l for l in text.split("\r\n") if j1["number"] in l][0]
        self.assertIn(f'"{a1.body["name"]}"', line)
        self.assertIn('"300.00","已缴费"', line)
        # only the committee's own admin (or its node's admin) sees it
        self.assertStatus(self.node_admin().get(f"{API}/committees/{GC_G}/payments"), 200)
        self.assertError(self.committee_admin("650000-WS-G").get(f"{API}/committees/{GC_G}/payments"), 404, "not_found")
        self.assertError(a1.get(f"{API}/committees/{GC_G}/payments"), 403, None)
        self.assertError(cmte.get(f"{API}/committees/{GC_G}/payments?format=xls"), 400, "invalid_query")
