"""Applications follow their reviewer (node/handoff.c), on three nodes from tools/zc-fed:
the region 650000, Urumqi 650100 and Kashgar 653100.

A Urumqi applicant's senior engineer application (GC4, reviewed by the region's
committee) is walked through the Urumqi unit and recommending unit; the dept's forward
hands it to the region (application.handoff with the snapshot's and attachments' hashes),
which fetches it over the encrypted channel and takes it over (application.accepted).
Meanwhile the applicant's home shows the live status read-only and refuses every change.
The region's committee returns it with an opinion: it comes back home, editable, the
opinion shown; fixed, resubmitted, passed again by unit and dept, it goes to the region
once more, passes the formal review, and home shows it. At each step every node's view is
checked: exactly one node holds it; the applicant's browser at home hears of the region's
moves over its WebSocket.

Interrupted: the receiving node is down when the application is handed to it (it takes
it over once back), and the sending node is killed (-9) right after the hand-off (the
receiver retries until it is back). Tampered: a snapshot or an attachment that the sender
serves unlike the hashes it logged is refused, and taken over only once it matches. Every
test ends with zc-audit clean."""
import hashlib
import json
import os
import sqlite3
import time
import urllib.parse

from test_applications import filled_sections, this_year
from test_forms import pdf_page_text
from test_live import LiveSocket
from test_replication import ReplicationCase, db_rows
from zc_test import PDF, PNG, REGION, qr_texts, until

B, C = "650100", "653100"
API = "/api/v1"
GC_G = "650000-GC-G"




class FedApplications:
    """An application's way across the nodes of a ReplicationCase's federation, step by step
    (shared with test_jurisdiction)."""

    def demo(self, nid, role, **match):
        with open(os.path.join(self.fed.dir, "demo-accounts.json"), encoding="utf-8") as f:
            a = next(x for x in json.load(f) if x["node"] == nid and x["role"] == role and
                     all(x.get(k) == v for k, v in match.items()))
        c = self.client_at(nid)
        self.assertStatus(c.login(a["login"], a["password"]), 200)
        c.demo = a
        return c

    def holders(self, app_id):
        """Each node's copy: (holder, status, revision), None where there is none."""
        out = {}
        for nid in self.fed.ids:
            rows = db_rows(self.fed, nid, "SELECT holder, status, revision FROM applications WHERE id = ?", app_id)
            out[nid] = rows[0] if rows else None
        return out

    def wait_held(self, app_id, holder, status, home=B):
        """Every copy names holder, and the holder's copy (and home's) shows status."""
        got = until(lambda: (lambda h: h if h[holder] and h[holder][:2] == (holder, status) and
                             h[home] and h[home][:2] == (holder, status) else None)(self.holders(app_id)), 20)
        self.assertTrue(got, f"not held by {holder} in {status}: {self.holders(app_id)}")
        return got

    def review(self, who, app_id, action, **kw):
        body = {"action": action}
        body.update(kw)
        return who.post(f"{API}/applications/{app_id}/review", body)

    def ready_at(self, nid=B, qual="GC4", sp="GC-JZ", committee=GC_G):
        """A new applicant's application at node nid's demo unit (by default a Urumqi GC4,
        the region's committee), complete and not yet submitted: (applicant, its form, the
        application's id, the attachments' hashes, unit)."""
        a = self.client_at(nid)
        body = self.applicant_body()
        self.assertStatus(a.remember(a.post(API + "/accounts", body)), 201)
        unit = self.demo(nid, "unit_admin")
        r = a.post(API + "/applications", {"year": this_year(), "qualification": qual, "specialty": sp,
                                           "unit": unit.demo["credit_code"]})
        self.assertStatus(r, 201)
        app_id = r.json["id"]
        self.assertEqual(r.json["committee"]["id"], committee)
        for name, data in filled_sections(body["name"]).items():
            self.assertStatus(a.put(f"{API}/applications/{app_id}/sections/{name}", {"data": data}), 200)
        shas = []
        for section, data, ctype in (("education", PNG, "image/png"), ("achievements", PDF, "application/pdf")):
            q = urllib.parse.urlencode({"section": section, "name": "证明材料"})
            r = a.post(f"{API}/applications/{app_id}/attachments?{q}", raw=data, ctype=ctype)
            self.assertStatus(r, 201)
            shas.append(hashlib.sha256(data).hexdigest())
        return a, body, app_id, shas, unit

    def at_dept(self, nid=B, qual="GC4", sp="GC-JZ", committee=GC_G):
        """ready_at's application submitted and forwarded by the unit, at that node's demo
        dept: (applicant, its form, the application's id, the attachments' hashes, unit, dept)."""
        a, body, app_id, shas, unit = self.ready_at(nid, qual, sp, committee)
        self.assertStatus(a.post(f"{API}/applications/{app_id}/submit"), 200)
        self.assertStatus(self.review(unit, app_id, "forward", recommendation="同意推荐"), 200)
        return a, body, app_id, shas, unit, self.demo(nid, "dept_admin")


class TestHandoff(FedApplications, ReplicationCase):
    def setUp(self):
        super().setUp()
        self.start("handoff")
        self.addCleanup(self.audit)

    def test_an_application_goes_to_the_regions_committee_and_back(self):
        # the applicant at Urumqi, the Urumqi demo unit: the committee is the region's
        a, body, app_id, shas, unit, dept = self.at_dept()
        r = self.review(dept, app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "committee_review")

        # handed to the region, which took it over; home holds a read-only copy
        h = self.wait_held(app_id, REGION, "committee_review")
        self.assertIsNone(h["653100"], "a node the application never passed holds a copy")
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)
        queue = until(lambda: [x for x in cmte.get(API + "/applications?view=queue").json["items"] if x["id"] == app_id])
        self.assertTrue(queue, "not in the region committee's queue")
        j = cmte.get(f"{API}/applications/{app_id}").json
        self.assertEqual(j["status"], "committee_review")
        basic = next(s for s in j["sections"] if s["name"] == "basic")
        self.assertEqual(basic["data"]["name"], body["name"])
        atts = [x for s in j["sections"] for x in s["attachments"]]
        self.assertEqual(sorted(x["sha256"] for x in atts), sorted(shas))
        for x in atts:  # the bytes came over and are served here
            got = cmte.get(f"{API}/applications/{app_id}/attachments/{x['id']}")
            self.assertStatus(got, 200)
            self.assertEqual(hashlib.sha256(got.body).hexdigest(), x["sha256"])
        # the log carries hashes, never the application's personal data
        entry = db_rows(self.fed, B, "SELECT CAST(entry AS TEXT) FROM outbox WHERE"
                        " json_extract(CAST(entry AS TEXT), '$.type') = 'application.handoff'")[0][0]
        self.assertNotIn(body["name"], entry)
        self.assertNotIn("新疆大学", entry)
        # home refuses changes while the region holds it; the applicant sees the live status
        self.assertEqual(a.get(f"{API}/applications/{app_id}").json["status"], "committee_review")
        r = a.put(f"{API}/applications/{app_id}/sections/work", {"data": {"experience": "改"}})
        self.assertIn(r.status, (409,), r)

        # returned by the region's committee: back home, editable, the opinion shown
        r = self.review(cmte, app_id, "return", opinions={"work": "请补充近三年的项目经历"})
        self.assertStatus(r, 200)
        self.wait_held(app_id, B, "returned")
        j = a.get(f"{API}/applications/{app_id}").json
        self.assertEqual((j["status"], j["returned_by"], j["editable"]), ("returned", "committee", True))
        work = next(s for s in j["sections"] if s["name"] == "work")
        self.assertIn("请补充近三年的项目经历", [o["text"] for o in work["opinions"]])
        # the committee's copy is read-only now
        self.assertEqual(self.review(cmte, app_id, "forward").status, 403)

        # fixed at home, resubmitted, through unit and dept, to the region again, passed
        self.assertStatus(a.put(f"{API}/applications/{app_id}/sections/work",
                                {"data": {"experience": "2008年7月至今 新疆某建设公司 工程师；近三年主持两个项目"}}), 200)
        self.assertStatus(a.post(f"{API}/applications/{app_id}/submit"), 200)
        self.assertStatus(self.review(unit, app_id, "forward", recommendation="同意推荐"), 200)
        self.assertStatus(self.review(dept, app_id, "forward"), 200)
        self.wait_held(app_id, REGION, "committee_review")
        until(lambda: cmte.get(f"{API}/applications/{app_id}").json.get("status") == "committee_review")
        ws = LiveSocket(self.fed.port_of(B), cookie="zc_session=" + a.cookies["zc_session"])
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv_json(), {"type": "hello"})
        r = self.review(cmte, app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "formal_passed")
        ws.wait_for(lambda m: m.get("id") == app_id and m.get("status") == "formal_passed", timeout=10)
        self.wait_held(app_id, REGION, "formal_passed")
        j = a.get(f"{API}/applications/{app_id}").json
        self.assertEqual(j["status"], "formal_passed")
        self.assertIn("forward", [x["action"] for x in j["history"] if x.get("actor_role") == "committee_admin"])
        # the meeting passes it; home shows the result
        self.assertStatus(self.review(cmte, app_id, "meeting"), 200)
        self.assertStatus(self.review(cmte, app_id, "pass"), 200)
        self.wait_held(app_id, REGION, "passed")
        self.assertEqual(a.get(f"{API}/applications/{app_id}").json["status"], "passed")

    def test_the_receiver_down_then_the_sender_killed_right_after_the_handoff(self):
        # the region is down when Urumqi's dept forwards: the hand-off waits in Urumqi's log
        a, body, app_id, shas, unit, dept = self.at_dept()
        self.fed.stop_node(REGION)
        r = self.review(dept, app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(self.holders(app_id)[B][:2], (REGION, "committee_review"))
        r = a.put(f"{API}/applications/{app_id}/sections/work", {"data": {"experience": "改"}})
        self.assertEqual(r.status, 409, r)  # handed on: never changed here again
        # the console shows it on its way
        out = self.status(B)["handoffs"]["outgoing"]
        self.assertEqual([(x["application"], x["to"]) for x in out], [(app_id, REGION)])
        self.fed.start_node(REGION)
        self.wait_held(app_id, REGION, "committee_review")
        # accepted: the sender forgets the snapshot, keeps its read-only copy
        self.assertTrue(until(lambda: not db_rows(self.fed, B, "SELECT 1 FROM handoffs_out WHERE application = ?", app_id)))
        self.assertEqual(self.status(B)["handoffs"]["outgoing"], [])
        self.assertEqual(len(db_rows(self.fed, B, "SELECT 1 FROM applications WHERE id = ?", app_id)), 1)
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)

        # returned by the region, which is killed right after; Urumqi is down meanwhile
        self.fed.stop_node(B)
        r = self.review(cmte, app_id, "return", opinions={"work": "请补充"})
        self.assertStatus(r, 200)
        self.fed.stop_node(REGION, kill=True)
        self.assertEqual(db_rows(self.fed, REGION, "SELECT holder FROM applications WHERE id = ?", app_id), [(B,)])
        # Urumqi may learn of the return (and of the hand-off) through Kashgar, which relays
        # the region's log, as far as it got before the kill; it cannot take the
        # application over before the region is back to hand it the snapshot
        self.fed.start_node(B)
        time.sleep(1.5)
        self.assertEqual(db_rows(self.fed, B, "SELECT holder FROM applications WHERE id = ?", app_id), [(REGION,)])
        r = a.put(f"{API}/applications/{app_id}/sections/work", {"data": {"experience": "改"}})
        self.assertEqual(r.status, 409, r)  # not held here yet
        self.fed.start_node(REGION)
        self.wait_held(app_id, B, "returned")
        self.assertTrue(self.client_at(B).login(body["id_number"], body["password"]).status == 200)
        j = a.get(f"{API}/applications/{app_id}")
        self.assertStatus(j, 200)
        self.assertEqual((j.json["status"], j.json["editable"]), ("returned", True))

    def test_a_snapshot_or_attachment_unlike_the_logged_hash_is_refused_until_it_matches(self):
        a, body, app_id, shas, unit, dept = self.at_dept()
        self.fed.stop_node(REGION)
        self.assertStatus(self.review(dept, app_id, "forward"), 200)
        # Urumqi's snapshot altered after the hand-off was logged (and signed) with its hash
        self.fed.stop_node(B)
        db = sqlite3.connect(os.path.join(self.fed.data_of(B), "node.db"), timeout=10)
        (snap,) = db.execute("SELECT snapshot FROM handoffs_out WHERE application = ?", (app_id,)).fetchone()
        self.assertIn("同意推荐", snap)
        with db:
            db.execute("UPDATE handoffs_out SET snapshot = ? WHERE application = ?",
                       (snap.replace("同意推荐", "不予推荐"), app_id))
        self.fed.start_node(B)
        self.fed.start_node(REGION)
        self.assertTrue(until(lambda: "not the one logged: refused" in self.fed.log_of(REGION), 20),
                        self.fed.log_of(REGION)[-2000:])
        time.sleep(1)
        held = self.holders(app_id)
        self.assertEqual(held[B][:2], (REGION, "committee_review"))  # on its way, not taken
        self.assertTrue(held[REGION] is None or held[REGION][0] != REGION, held)
        self.assertEqual([x["application"] for x in self.status(B)["handoffs"]["outgoing"]], [app_id])
        # the snapshot as logged, but an attachment altered on Urumqi's disk
        self.fed.stop_node(B)
        with db:
            db.execute("UPDATE handoffs_out SET snapshot = ? WHERE application = ?", (snap, app_id))
        db.close()
        blob = os.path.join(self.fed.data_of(B), "blobs", shas[0][:2], shas[0])
        with open(blob, "rb") as f:
            good = f.read()
        os.chmod(blob, 0o600)
        with open(blob, "wb") as f:
            f.write(bytes(b ^ 0x55 for b in good))
        self.fed.start_node(B)
        self.assertTrue(until(lambda: "did not arrive intact" in self.fed.log_of(REGION), 30),
                        self.fed.log_of(REGION)[-2000:])
        held = self.holders(app_id)
        self.assertTrue(held[REGION] is None or held[REGION][0] != REGION, held)
        self.assertFalse(os.path.exists(os.path.join(self.fed.data_of(REGION), "blobs", shas[0][:2], shas[0])))
        # both as logged: the region takes it over on its next try, every hash checked
        with open(blob, "wb") as f:
            f.write(good)
        self.wait_held(app_id, REGION, "committee_review")
        for sha in shas:
            with open(os.path.join(self.fed.data_of(REGION), "blobs", sha[:2], sha), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha)
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)
        j = cmte.get(f"{API}/applications/{app_id}")
        self.assertStatus(j, 200)
        self.assertEqual(j.json["recommendation"], "同意推荐")

    def test_a_region_applicant_at_a_urumqi_unit_recommended_by_a_region_dept(self):
        # 工作单位在哪职称就在哪评审: the unit's node reviews first, wherever the applicant lives
        a = self.client_at(REGION)
        body = self.applicant_body()
        self.assertStatus(a.remember(a.post(API + "/accounts", body)), 201)
        unit = self.demo(B, "unit_admin")
        region_dept = self.demo(REGION, "dept_admin")
        # "选择自治区推荐单位": the Urumqi unit recommends through the region's dept
        self.assertStatus(unit.put(API + "/units/me/recommenders", {"depts": [region_dept.demo["dept"]]}), 200)
        r = a.post(API + "/applications", {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": unit.demo["credit_code"]})
        self.assertStatus(r, 201)
        app_id = r.json["id"]
        for name, data in filled_sections(body["name"]).items():
            self.assertStatus(a.put(f"{API}/applications/{app_id}/sections/{name}", {"data": data}), 200)
        for section, data, ctype in (("education", PNG, "image/png"), ("achievements", PDF, "application/pdf")):
            q = urllib.parse.urlencode({"section": section, "name": "证明材料"})
            self.assertStatus(a.post(f"{API}/applications/{app_id}/attachments?{q}", raw=data, ctype=ctype), 201)
        # submitted at the region: handed to Urumqi, where the unit finds it in its queue
        self.assertStatus(a.post(f"{API}/applications/{app_id}/submit"), 200)
        self.wait_held(app_id, B, "unit_review", home=REGION)
        queue = until(lambda: [x for x in unit.get(API + "/applications?view=queue").json["items"] if x["id"] == app_id])
        self.assertTrue(queue, "not in the Urumqi unit's queue")
        self.assertEqual(a.post(f"{API}/applications/{app_id}/withdraw").status, 409)  # at the unit now
        # the unit's forward hands it back to the region's dept, which sends it to the
        # region's committee (no hand-off: the same node)
        r = self.review(unit, app_id, "forward", recommendation="同意推荐")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "dept_review")
        self.wait_held(app_id, REGION, "dept_review", home=REGION)
        until(lambda: region_dept.get(f"{API}/applications/{app_id}").json.get("actions"))
        r = self.review(region_dept, app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "committee_review")
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)
        r = self.review(cmte, app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "formal_passed")
        # Urumqi's copy follows: the unit's view shows where it went
        self.assertTrue(until(lambda: unit.get(f"{API}/applications/{app_id}").json.get("status") == "formal_passed"))
        self.assertEqual(self.holders(app_id)[C], None)

    def test_a_reviewer_elsewhere_prints_the_form_the_applicants_home_renders(self):
        # the form carries the full ID number, which only the applicant's home (Urumqi) holds:
        # the region's committee gets it from there over the encrypted channel
        from test_forms import pdf_page_text, pdf_pages
        a, body, app_id, shas, unit, dept = self.at_dept()
        self.assertStatus(self.review(dept, app_id, "forward"), 200)
        self.wait_held(app_id, REGION, "committee_review")
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)
        until(lambda: cmte.get(f"{API}/applications/{app_id}").status == 200)
        r = cmte.get(f"{API}/applications/{app_id}/form.pdf")
        self.assertStatus(r, 200)
        self.assertEqual(pdf_pages(r.body), 2)
        text = pdf_page_text(r.body, 1) + pdf_page_text(r.body, 2)
        self.assertIn(body["id_number"], text)
        self.assertIn("测试表", text)
        # the formal review passes at the region: the official form, its code issued there
        r = self.review(cmte, app_id, "forward")
        self.assertStatus(r, 200)
        code = r.json["verify_code"]
        text = pdf_page_text(cmte.get(f"{API}/applications/{app_id}/form.pdf").body, 1)
        self.assertIn(code, text)
        self.assertIn(body["id_number"], text)
        # home shows the same code once the region's entries arrived, and prints it itself
        self.assertTrue(until(lambda: a.get(f"{API}/applications/{app_id}").json.get("verify_code") == code))
        mine = a.get(f"{API}/applications/{app_id}/form.pdf")
        self.assertStatus(mine, 200)
        self.assertIn(code, pdf_page_text(mine.body, 1))
        # Kashgar, which the application never passed, checks the code too
        k = self.client_at(C)
        self.assertTrue(until(lambda: k.get(f"{API}/verify/{code}").status == 200))
        self.assertEqual(k.get(f"{API}/verify/{code}").json["verify"]["node"], REGION)
        # the home down: the committee is told why, in Chinese, and nothing else changes
        self.fed.stop_node(B)
        self.assertError(cmte.get(f"{API}/applications/{app_id}/form.pdf"), 503, "home_unavailable")
        self.fed.start_node(B)

    def test_the_fee_is_paid_at_the_committees_node_and_home_shows_it(self):
        # the region's committee is the merchant: the order is opened there, paid at its
        # sandbox gateway, and the applicant's home (Urumqi) shows each step from its entries
        a, body, app_id, shas, unit, dept = self.at_dept()
        self.assertStatus(self.review(dept, app_id, "forward"), 200)
        self.wait_held(app_id, REGION, "committee_review")
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)
        until(lambda: cmte.get(f"{API}/applications/{app_id}").status == 200)
        r = self.review(cmte, app_id, "forward")
        self.assertStatus(r, 200)
        order = r.json["payment"]["order_id"]
        self.assertTrue(until(lambda: (a.get(f"{API}/applications/{app_id}").json.get("payment") or {}).get("status")
                              == "unpaid"))
        pay_url = a.get(f"{API}/applications/{app_id}").json["payment"]["pay_url"]
        self.assertTrue(pay_url.startswith(f"http://127.0.0.1:{self.fed.port_of(REGION)}/#/paysandbox?order={order}"),
                        pay_url)
        # the gateway of another node knows nothing of it
        self.assertError(self.client_at(B).post(f"{API}/sandbox/orders/{order}/pay", {}), 404, "not_found")
        r = self.client_at(REGION).post(f"{API}/sandbox/orders/{order}/pay", {})
        self.assertStatus(r, 200)
        self.assertTrue(until(lambda: a.get(f"{API}/applications/{app_id}").json["payment"]["status"] == "paid"))
        self.assertEqual(a.get(f"{API}/applications/{app_id}").json["payment"]["txn"], r.json["txn"])
        self.assertTrue(until(lambda: db_rows(self.fed, C, "SELECT status FROM payment_orders WHERE id = ?", order)
                              == [("paid",)]), "Kashgar, which the application never passed, shows it paid too")

    def publicize(self, cmte, committee, app_id, title):
        """The committee's publicity list of app_id, over already: the list as answered."""
        r = cmte.post(f"{API}/committees/{committee}/publicity", {"title": title, "starts": "2026-01-05",
                                                                  "ends": "2026-01-11", "applications": [app_id]})
        self.assertStatus(r, 201)
        return r.json["publicity"]

    def certify(self, admin, app_id, doc_number, title):
        """The node admin's 批文 of app_id, then its certificate: the certificate's number."""
        r = admin.post(f"{API}/approvals", {"doc_number": doc_number, "doc_date": "2026-02-01", "title": title,
                                            "applications": [app_id]})
        self.assertStatus(r, 201)
        c = admin.post(f"{API}/approvals/{r.json['approval']['id']}/certificates", {})
        self.assertStatus(c, 200)
        return c.json["certificates"][0]

    def test_a_kashgar_directed_title_is_certified_for_directed_use(self):
        # a Kashgar unit's senior teacher (JY4) is reviewed by Kashgar's directed committee
        # (定向评审) at Kashgar itself: the official form says so, and the certificate Kashgar
        # issues carries 定向使用 at every node
        a, body, app_id, shas, unit, dept = self.at_dept(C, "JY4", "JY-YW", "653100-DX")
        self.assertIs(a.get(f"{API}/applications/{app_id}").json["directed"], True)
        self.assertStatus(self.review(dept, app_id, "forward"), 200)
        self.wait_held(app_id, C, "committee_review", home=C)
        cmte = self.demo(C, "committee_admin", committee="653100-DX")
        self.assertStatus(self.review(cmte, app_id, "forward"), 200)
        form = a.get(f"{API}/applications/{app_id}/form.pdf")
        self.assertStatus(form, 200)
        text = pdf_page_text(form.body, 1)
        self.assertIn("定向评审（取得的职称限定向使用）", text)
        self.assertNotIn("测试表", text)
        for action in ("meeting", "pass"):
            self.assertStatus(self.review(cmte, app_id, action), 200)
        g = self.publicize(cmte, "653100-DX", app_id, "定向评审结果公示")
        self.assertIs(g["items"][0]["directed"], True)
        number = self.certify(self.demo(C, "node_admin"), app_id, "喀人社职字〔2026〕3号", "关于具备高级教师资格的通知")
        self.assertRegex(number, r"^653100-\d{4}-\d{6}$")
        mine = a.get(f"{API}/applications/{app_id}").json["results"]["certificate"]
        self.assertEqual((mine["number"], mine["directed"]), (number, True))
        region = self.client_at(REGION)
        self.assertTrue(until(lambda: region.get(f"{API}/certificates/{number}").status == 200))
        cert = region.get(f"{API}/certificates/{number}").json["certificate"]
        self.assertEqual((cert["name"], cert["node"], cert["directed"]), (body["name"], C, True))
        # the region draws its QR code: it opens the page at Kashgar, which issued it
        qr = region.get(f"{API}/certificates/{number}/qr.png")
        self.assertStatus(qr, 200)
        self.assertEqual(qr_texts(qr.body), [f"http://127.0.0.1:{self.fed.port_of(C)}/#/certificate?number={number}"])

    def test_results_published_at_the_region_are_seen_at_home_and_verified_anywhere(self):
        # the region's committee passes a Urumqi applicant's application, publishes it (公示);
        # the region's HR admin issues the 批文 and the certificate: home shows each step,
        # and Kashgar, which the application never passed, verifies the certificate
        a, body, app_id, shas, unit, dept = self.at_dept()
        self.assertStatus(self.review(dept, app_id, "forward"), 200)
        self.wait_held(app_id, REGION, "committee_review")
        cmte = self.demo(REGION, "committee_admin", committee=GC_G)
        until(lambda: cmte.get(f"{API}/applications/{app_id}").status == 200)
        for action in ("forward", "meeting", "pass"):
            self.assertStatus(self.review(cmte, app_id, action), 200)
        self.assertTrue(until(lambda: a.get(f"{API}/applications/{app_id}").json["status"] == "passed"))
        pid = self.publicize(cmte, GC_G, app_id, "评审结果公示")["id"]
        self.assertTrue(until(lambda: (a.get(f"{API}/applications/{app_id}").json.get("results") or {})
                              .get("publicity", {}).get("id") == pid))
        self.assertEqual(a.get(f"{API}/applications/{app_id}").json["status"], "publicized")
        home = self.client_at(B)
        self.assertEqual(home.get(f"{API}/publicity/{pid}").json["publicity"]["items"][0]["name"], body["name"])
        number = self.certify(self.demo(REGION, "node_admin"), app_id, "新人社职字〔2026〕7号", "关于具备高级工程师资格的通知")
        self.assertTrue(until(lambda: ((a.get(f"{API}/applications/{app_id}").json.get("results") or {})
                                       .get("certificate") or {}).get("number") == number))
        j = a.get(f"{API}/applications/{app_id}").json
        self.assertEqual((j["status"], j["results"]["approval"]["doc_number"]), ("certified", "新人社职字〔2026〕7号"))
        k = self.client_at(C)
        self.assertTrue(until(lambda: k.get(f"{API}/certificates/{number}").status == 200))
        self.assertEqual(k.get(f"{API}/certificates/{number}").json["certificate"]["name"], body["name"])
        # a Urumqi admin issues no 批文 for an application its node does not hold
        u_admin = self.demo(B, "node_admin")
        r = u_admin.post(f"{API}/approvals", {"doc_number": "乌人社职字〔2026〕1号", "doc_date": "2026-02-01",
                                              "title": "通知", "applications": [app_id]})
        self.assertError(r, 409, "invalid_action")
