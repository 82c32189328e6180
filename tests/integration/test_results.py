"""After the meeting review: the committee's publicity list (公示: passed → publicized),
the approval document (批文) the node's HR admin issues once the publicity is over
(→ approved) and the certificates (→ certified), each a public page and an entry; every
list moves all its applications or none; a certificate number is checked by anyone."""
import datetime

from test_applications import API, GC_G, AppFlow, beijing_today
from zc_test import Client, NodePort, ZcCase, qr_texts

OTHER = "650000-WS-G"


def day(offset):
    return (beijing_today() + datetime.timedelta(days=offset)).isoformat()


class ResultsCase(AppFlow, ZcCase):
    NODE_LABEL = "results"

    def passed(self):
        a = self.at_committee()
        cmte = self.committee_admin()
        for action in ("forward", "meeting", "pass"):
            self.assertStatus(self.review(cmte, a.app_id, action), 200)
        return a

    def anon(self):
        return Client(NodePort(self.node.port))

    def publish(self, apps, starts=None, ends=None, who=None):
        return (who or self.committee_admin()).post(f"{API}/committees/{GC_G}/publicity", {
            "title": "2026年度工程系列高级职称评审结果公示", "starts": starts or day(-10), "ends": ends or day(-3),
            "applications": [a.app_id for a in apps]})

    def approve(self, apps, number=None):
        return self.node_admin().post(f"{API}/approvals", {
            "doc_number": number or f"新人社职字〔2026〕{self.node.port % 1000}{len(apps)}{id(apps) % 997}号",
            "doc_date": day(0), "title": "关于张三等同志具备高级工程师资格的通知",
            "applications": [a.app_id for a in apps]})

    def status(self, a):
        return self.get_app(a, a.app_id)["status"]


class TestPublicity(ResultsCase):
    def test_a_publicity_list_publicizes_its_applications_and_is_public(self):
        a1, a2 = self.passed(), self.passed()
        r = self.publish([a1, a2], starts=day(0), ends=day(6))
        self.assertStatus(r, 201)
        g = r.json["publicity"]
        self.assertEqual((g["committee"], g["count"], g["period"], g["starts"], g["ends"]), (GC_G, 2, "running", day(0), day(6)))
        self.assertEqual({i["name"] for i in g["items"]}, {a1.body["name"], a2.body["name"]})
        self.assertEqual({i["qualification"] for i in g["items"]}, {"高级工程师"})
        for a in (a1, a2):
            j = self.get_app(a, a.app_id)
            self.assertEqual((j["status"], j["status_name"]), ("publicized", "公示中"))
            self.assertEqual(j["results"]["publicity"]["id"], g["id"])
            self.assertEqual(len(self.history_actions(j, "publicize")), 1)
        # anyone reads it: the list and the detail
        lst = self.anon().get(f"{API}/publicity?committee={GC_G}")
        self.assertStatus(lst, 200)
        self.assertIn(g["id"], [x["id"] for x in lst.json["items"]])
        one = self.anon().get(f"{API}/publicity/{g['id']}")
        self.assertStatus(one, 200)
        self.assertEqual(len(one.json["publicity"]["items"]), 2)
        self.assertError(self.anon().get(f"{API}/publicity/g{'0' * 24}"), 404, "not_found")

    def test_a_list_moves_all_or_nothing(self):
        a1 = self.passed()
        a2 = self.at_committee()       # not through the meeting yet
        r = self.publish([a1, a2])
        self.assertError(r, 409, "invalid_action")
        self.assertEqual(r.json["error"]["application"], a2.app_id)
        self.assertEqual((self.status(a1), self.status(a2)), ("passed", "committee_review"))
        self.assertNotIn("results", self.get_app(a1, a1.app_id))

    def test_bad_lists_are_refused_and_change_nothing(self):
        a = self.passed()
        cmte = self.committee_admin()
        bad = [
            ({"starts": day(0), "ends": day(5), "applications": [a.app_id]}, 400, "missing_field"),
            ({"title": "公示", "starts": "2026-02-30", "ends": day(5), "applications": [a.app_id]}, 400, "invalid_field"),
            ({"title": "公示", "starts": day(5), "ends": day(0), "applications": [a.app_id]}, 400, "invalid_field"),
            ({"title": "公示", "starts": day(0), "ends": day(5), "applications": []}, 400, "invalid_field"),
            ({"title": "公示", "starts": day(0), "ends": day(5), "applications": [a.app_id, a.app_id]}, 400, "invalid_field"),
            ({"title": "公示", "starts": day(0), "ends": day(5), "applications": [7]}, 400, "invalid_field"),
        ]
        for body, status, code in bad:
            with self.subTest(body=body):
                self.assertError(cmte.post(f"{API}/committees/{GC_G}/publicity", body), status, code)
        self.assertError(self.publish([a], who=self.committee_admin(OTHER)), 404, "not_found")
        self.assertError(self.publish([a], who=a), 403)
        self.assertError(self.review(cmte, a.app_id, "publicize"), 400, "invalid_field")
        self.assertEqual(self.status(a), "passed")


class TestApprovalAndCertificates(ResultsCase):
    def test_approval_after_the_publicity_then_certificates_anyone_verifies(self):
        a1, a2 = self.passed(), self.passed()
        self.assertStatus(self.publish([a1, a2]), 201)
        r = self.approve([a1, a2], number="新人社职字〔2026〕88号")
        self.assertStatus(r, 201)
        w = r.json["approval"]
        self.assertEqual((w["doc_number"], w["count"], w["certified"]), ("新人社职字〔2026〕88号", 2, 0))
        for a in (a1, a2):
            j = self.get_app(a, a.app_id)
            self.assertEqual(j["status"], "approved")
            self.assertEqual(j["results"]["approval"]["doc_number"], "新人社职字〔2026〕88号")
        self.assertError(self.approve([a1], number="新人社职字〔2026〕88号"), 409, "doc_number_taken")
        self.assertIn(w["id"], [x["id"] for x in self.anon().get(f"{API}/approvals").json["items"]])
        # certificates for everyone on it, numbered by node and year
        c = self.node_admin().post(f"{API}/approvals/{w['id']}/certificates", {})
        self.assertStatus(c, 200)
        numbers = c.json["certificates"]
        self.assertEqual(len(numbers), 2)
        for n in numbers:
            self.assertRegex(n, rf"^650000-{day(0)[:4]}-\d{{6}}$")
        self.assertEqual(len(set(numbers)), 2)
        self.assertError(self.node_admin().post(f"{API}/approvals/{w['id']}/certificates", {}), 409, "nothing_to_certify")
        j = self.get_app(a1, a1.app_id)
        self.assertEqual(j["status"], "certified")
        mine = j["results"]["certificate"]
        self.assertIn(mine["number"], numbers)
        self.assertFalse(mine["directed"])
        v = self.anon().get(f"{API}/certificates/{mine['number']}")
        self.assertStatus(v, 200)
        cert = v.json["certificate"]
        self.assertEqual((cert["name"], cert["qualification"], cert["doc_number"], cert["directed"]),
                         (a1.body["name"], "高级工程师", "新人社职字〔2026〕88号", False))
        self.assertError(self.anon().get(f"{API}/certificates/650000-2026-999999"), 404, "not_found")
        # its QR code opens the certificate's page at the node that issued it
        qr = self.anon().get(f"{API}/certificates/{mine['number']}/qr.png")
        self.assertStatus(qr, 200)
        self.assertEqual(qr.headers.get("Content-Type"), "image/png")
        self.assertEqual(qr_texts(qr.body), [f"http://127.0.0.1:{self.node.port}/#/certificate?number={mine['number']}"])
        self.assertError(self.anon().get(f"{API}/certificates/650000-2026-999999/qr.png"), 404, "not_found")
        detail = self.anon().get(f"{API}/approvals/{w['id']}").json["approval"]
        self.assertEqual(sorted(i["certificate"] for i in detail["items"]), sorted(numbers))

    def test_no_approval_while_the_publicity_runs_nor_by_others(self):
        a = self.passed()
        self.assertStatus(self.publish([a], starts=day(0), ends=day(6)), 201)
        r = self.approve([a])
        self.assertError(r, 409, "publicity_running")
        self.assertEqual(self.status(a), "publicized")
        b = self.passed()              # never publicized: not yet for a 批文
        self.assertError(self.approve([b]), 409, "invalid_action")
        self.assertEqual(self.status(b), "passed")
        body = {"doc_number": "x号", "doc_date": day(0), "title": "通知", "applications": [a.app_id]}
        self.assertError(self.committee_admin().post(f"{API}/approvals", body), 403)
        self.assertError(self.node_admin().post(f"{API}/approvals", dict(body, doc_date="2026-13-01")), 400, "invalid_field")
        self.assertError(self.node_admin().post(f"{API}/approvals/w{'0' * 24}/certificates", {}), 404, "not_found")
