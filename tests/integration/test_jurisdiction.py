"""Jurisdiction across nodes (属地化; node/committees.c, replicas.c), on three nodes from
tools/zc-fed: the region 650000, Urumqi 650100 and Kashgar 653100.

- a committee's terms (windows, submission limit, fee, paper rules) are those its own node
  sets: a change at the region reaches every node (committee.updated), and a node that
  shows or checks a region committee uses the region's terms, not a copy of its own (a
  Urumqi applicant's submission meets the region's window and submission limit);
- the committee is found at the unit's node for the title, else at the region: a Urumqi
  unit's senior engineer goes to the region's committee, its intermediate one to
  Urumqi's; a Kashgar unit's senior teacher (JY4) to Kashgar's directed committee,
  marked directed (定向); a choice that contradicts jurisdiction is refused 409
  wrong_jurisdiction naming the right committee;
- only a committee's own node may change it.
Each test ends with zc-audit clean."""
import json
import os
import shutil
import subprocess
import time

from test_handoff import FedApplications
from test_replication import ReplicationCase, audit_bin
from zc_test import REGION, ROOT, until

B, C = "650100", "653100"


class JurisdictionCase(FedApplications, ReplicationCase):
    def setUp(self):
        super().setUp()
        self.start(self.id().rsplit(".", 1)[-1][:40])
        self.addCleanup(self.audit)

    def demo_client(self, nid, role):
        a = self.fed.account_of(nid, role)
        c = self.client_at(nid)
        self.assertStatus(c.login(a["login"], a["password"]), 200)
        return c, a

    def committee_at(self, nid, cid):
        r = self.client_at(nid).get(f"/api/v1/committees/{cid}")
        self.assertStatus(r, 200)
        return r.json["committee"]

    def route(self, nid, unit_code, qualification, specialty):
        c, _ = self.demo_client(nid, "applicant")
        return c.get(f"/api/v1/jurisdiction?unit={unit_code}&qualification={qualification}&specialty={specialty}")


class TestCommitteeTerms(JurisdictionCase):
    def test_the_region_sets_its_committee_terms_and_every_node_uses_them(self):
        admin, _ = self.demo_client(REGION, "node_admin")
        cid = "650000-GC-G"
        windows = [{"specialty": "GC-JZ", "opens": "2026-03-01", "closes": "2026-04-30"},
                   {"specialty": "GC-DZ", "opens": "2026-05-01", "closes": "2026-05-31"}]
        r = admin.put(f"/api/v1/committees/{cid}", {"windows": windows, "submit_limit": 2, "fee": 480,
                                                    "paper_rules": "纸质材料一式两份"})
        self.assertStatus(r, 200)
        want = sorted((w["specialty"], w["opens"], w["closes"]) for w in windows)
        for nid in (B, C):
            end = time.time() + 15
            while True:
                got = self.committee_at(nid, cid)
                if sorted((w["specialty"], w["opens"], w["closes"]) for w in got["windows"]) == want:
                    break
                self.assertLess(time.time(), end, f"{nid} still shows {got['windows']}")
                time.sleep(0.2)
            self.assertEqual((got["submit_limit"], got["fee"], got["paper_rules"]), (2, 480, "纸质材料一式两份"), nid)
        # a Urumqi unit's senior engineer: the region's committee, with the region's window
        unit = self.fed.account_of(B, "unit_admin")["credit_code"]
        r = self.route(B, unit, "GC4", "GC-JZ")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["committee"]["id"], cid)
        self.assertEqual((r.json["committee"]["window"]["opens"], r.json["committee"]["window"]["closes"]),
                         ("2026-03-01", "2026-04-30"))

    def test_a_urumqi_submission_meets_the_regions_window_and_limit(self):
        admin, _ = self.demo_client(REGION, "node_admin")
        cid = "650000-GC-G"

        def region_sets(windows, limit):  # and waits until Urumqi has them
            self.assertStatus(admin.put(f"/api/v1/committees/{cid}", {"windows": windows, "submit_limit": limit}), 200)
            want = (sorted((w["specialty"], w["opens"], w["closes"]) for w in windows), limit)
            self.assertTrue(until(lambda: (lambda c: (sorted((w["specialty"], w["opens"], w["closes"]) for w in c["windows"]),
                                                      c["submit_limit"]) == want)(self.committee_at(B, cid)), 15))

        region_sets([{"specialty": "GC-JZ", "opens": "2020-01-01", "closes": "2020-01-31"}], 1)
        a, body, app_id, shas, unit = self.ready_at(B)
        e = self.assertError(a.post(f"/api/v1/applications/{app_id}/submit"), 409, "window_closed")
        self.assertIn("2020-01-01", e["message"])
        region_sets([{"specialty": "GC-JZ", "opens": "2020-01-01", "closes": "2099-12-31"}], 1)
        self.assertStatus(a.post(f"/api/v1/applications/{app_id}/submit"), 200)
        # returned by the Urumqi unit: a second submission is past the region's limit of one
        self.assertStatus(self.review(unit, app_id, "return", opinions={"work": "请补充"}), 200)
        e = self.assertError(a.post(f"/api/v1/applications/{app_id}/submit"), 409, "submission_limit")
        self.assertEqual((e["submit_count"], e["submit_limit"]), (1, 1))
        region_sets([{"specialty": "GC-JZ", "opens": "2020-01-01", "closes": "2099-12-31"}], 2)
        self.assertStatus(a.post(f"/api/v1/applications/{app_id}/submit"), 200)

    def test_a_committee_s_uyghur_name_travels_with_its_name(self):
        admin, _ = self.demo_client(REGION, "node_admin")
        cid = "650000-GC-G"

        def names_everywhere(want):
            for nid in (REGION, B, C):
                end = time.time() + 15
                while True:
                    got = self.committee_at(nid, cid)
                    if (got["name"], got["name_ug"]) == want:
                        break
                    self.assertLess(time.time(), end, f"{nid} still names it {got['name']!r} / {got['name_ug']!r}")
                    time.sleep(0.2)

        r = admin.put(f"/api/v1/committees/{cid}", {"name": "自治区工程技术系列高级职称评审委员会",
                                                    "name_ug": "ئاپتونوم رايون ئىنژېنېرلىق تېخنىكا تۈرى باھالاش كومىتېتى"})
        self.assertStatus(r, 200)
        names_everywhere(("自治区工程技术系列高级职称评审委员会", "ئاپتونوم رايون ئىنژېنېرلىق تېخنىكا تۈرى باھالاش كومىتېتى"))
        # a new Chinese name alone: the old Uyghur one no longer names it, nowhere
        self.assertStatus(admin.put(f"/api/v1/committees/{cid}", {"name": "自治区工程系列职称评审委员会"}), 200)
        names_everywhere(("自治区工程系列职称评审委员会", ""))

    def test_only_its_own_node_changes_a_committee(self):
        admin, _ = self.demo_client(B, "node_admin")
        self.assertError(admin.put("/api/v1/committees/650000-GC-G", {"fee": 1}), 404, "not_found")
        self.assertEqual(self.committee_at(B, "650000-GC-G")["fee"], self.committee_at(REGION, "650000-GC-G")["fee"])


class TestRouting(JurisdictionCase):
    def test_committee_by_the_units_node_else_the_region(self):
        urumqi = self.fed.account_of(B, "unit_admin")["credit_code"]
        kashgar = self.fed.account_of(C, "unit_admin")["credit_code"]
        for nid, unit, qual, sp, want, directed in (
                (B, urumqi, "GC4", "GC-JZ", "650000-GC-G", False),   # senior: the region
                (B, urumqi, "GC3", "GC-JZ", "650100-GC-Z", False),   # intermediate: Urumqi
                (REGION, urumqi, "GC3", "GC-JZ", "650100-GC-Z", False),  # wherever the applicant asks
                (C, kashgar, "JY4", "JY-YW", "653100-DX", True),     # Kashgar's directed committee
                (C, kashgar, "GC4", "GC-JZ", "650000-GC-G", False)):
            r = self.route(nid, unit, qual, sp)
            self.assertStatus(r, 200)
            self.assertEqual((r.json["committee"]["id"], r.json["committee"]["directed"]), (want, directed),
                             (nid, qual))

    def test_a_kashgar_senior_teacher_goes_to_the_directed_committee(self):
        c, _ = self.demo_client(C, "applicant")
        unit = self.fed.account_of(C, "unit_admin")["credit_code"]
        r = c.post("/api/v1/applications", {"year": int(time.strftime("%Y")), "qualification": "JY4",
                                            "specialty": "JY-YW", "unit": unit})
        self.assertStatus(r, 201)
        self.assertEqual((r.json["committee"]["id"], r.json["committee"]["directed"]), ("653100-DX", True))
        app_id = r.json["id"]
        # the audit checks the routing in the logs against the committees: with Kashgar's
        # directed committee gone from them, this application is routed wrongly
        schemas = os.path.join(self.fed.dir, "schemas-without-dx")
        shutil.copytree(os.path.join(ROOT, "schemas"), schemas)
        with open(os.path.join(schemas, "committees.json"), encoding="utf-8") as f:
            ref = json.load(f)
        ref["committees"] = [x for x in ref["committees"] if x["id"] != "653100-DX"]
        with open(os.path.join(schemas, "committees.json"), "w", encoding="utf-8") as f:
            json.dump(ref, f, ensure_ascii=False)
        self.run_audit()  # waits for every node's log
        audit = subprocess.run([audit_bin(), "--in-flight-secs", "0", "--schemas", schemas, self.fed.dir],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(audit.returncode, 1, audit.stdout + audit.stderr)
        lines = audit.stdout.splitlines()
        self.assertEqual([l.split()[0] for l in lines], ["wrong_jurisdiction"], audit.stdout)
        self.assertIn(f"application {app_id} (JY4, JY-YW) of a unit at node {C} is routed to 653100-DX", lines[0])
        # the region's committee for the same title is not Kashgar's applicants' to choose
        r = c.post("/api/v1/applications", {"year": int(time.strftime("%Y")) + 1, "qualification": "JY4",
                                            "specialty": "JY-YW", "unit": unit, "committee": "650000-JY-G"})
        self.assertError(r, 409, "wrong_jurisdiction")
        self.assertIn("喀什地区定向评审副高级职称评审委员会", r.json["error"]["message"])

    def test_a_choice_against_jurisdiction_is_refused_naming_the_right_committee(self):
        c, _ = self.demo_client(B, "applicant")
        unit = self.fed.account_of(B, "unit_admin")["credit_code"]
        r = c.post("/api/v1/applications", {"year": int(time.strftime("%Y")), "qualification": "GC3",
                                            "specialty": "GC-JZ", "unit": unit, "committee": "650000-GC-G"})
        self.assertError(r, 409, "wrong_jurisdiction")
        self.assertIn("乌鲁木齐市工程系列中初级职称评审委员会", r.json["error"]["message"])
