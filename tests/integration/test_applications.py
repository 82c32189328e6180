"""Applications, the applicant's side: committees (GET/PUT /committees), jurisdiction
(GET /jurisdiction and the committee an application gets, on one node and on a 3-node
federation), creating an application, its sections, attachments, submitting, withdrawing
(收回) and changing the qualification (更改资格).

Every refusal is checked for its status, the {"error":{"code","message"}} envelope with a
Chinese message, and that nothing changed (the application as its owner sees it, or the
committee as anyone sees it).

AppFlow (below) is shared by test_workflow.py, test_authz_applications.py and test_live.py:
it builds units, applicants and applications in any stage, each test with its own.
"""
import datetime
import hashlib
import json
import os
import subprocess
import urllib.parse

import zc_test
from zc_test import (Federation, NodePort, GIF, JPEG, PDF, PNG, REGION, ROOT, Client, Node, ZcCase, credit_code, cc_bad_check,
                     free_port, has_cjk, id_number, landline, person_name, png_of_size)

API = "/api/v1"
MIB = 1024 * 1024
DEPT = "650000-D01"         # the region's first recommending unit: the demo dept admin's
GC_G = "650000-GC-G"        # engineering, levels 4-5, at the region
SECTIONS = ["basic", "education", "work", "achievements", "papers", "awards", "training", "assessment"]


def beijing_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()


def this_year():
    return beijing_today().year


def filled_sections(name):
    """Valid data for every section (every required field)."""
    return {
        "basic": {"name": name, "gender": "男", "birth_date": "1985-03-14", "ethnicity": "汉族",
                  "political": "群众", "work_start": "2008-07-01", "position": "项目负责人"},
        "education": {"degree": "大学本科", "school": "新疆大学", "major": "土木工程", "graduated": "2008-06-30"},
        "work": {"experience": "2008年7月至今 新疆某建设公司 技术员、工程师、项目负责人"},
        "achievements": {"summary": "主持完成三项市政工程的设计与施工管理。", "projects": "某路桥工程"},
        "papers": {"papers": "《寒区混凝土施工》，新疆建设科技，2020年，第一作者", "count": 1},
        "awards": {"awards": "自治区优质工程奖，2021年"},
        "training": {"hours": 120, "description": "每年参加继续教育"},
        "assessment": {"year1": "优秀", "year2": "合格", "year3": "合格"},
    }


class AppFlow:
    """Helpers for ZcCase subclasses: units, applicants and applications at any stage.

    Every unit and applicant is new (fresh credit code and ID number); the demo accounts
    (dept admin, committee admins, node admin, auditor) are logged in once per class."""

    # -- demo accounts --
    def demo(self, role, committee=None):
        cache = type(self).__dict__.get("_demo_cache")
        if cache is None:
            cache = {}
            type(self)._demo_cache = cache
        key = (role, committee)
        if key not in cache:
            acc = None
            for a in self.node.accounts:
                if a.get("role") == role and (committee is None or a.get("committee") == committee):
                    acc = a
                    break
            self.assertIsNotNone(acc, f"no demo account {role} {committee or ''}")
            c = self.client()
            self.assertStatus(c.login(acc["login"], acc["password"]), 200)
            c.demo = acc
            cache[key] = c
        return cache[key]

    def dept_admin(self):
        return self.demo("dept_admin")

    def committee_admin(self, committee=GC_G):
        return self.demo("committee_admin", committee)

    def node_admin(self):
        return self.demo("node_admin")

    def auditor(self):
        return self.demo("auditor")

    # -- units --
    def unit_info(self):
        return {"address": "乌鲁木齐市人民路2号", "legal_person": person_name(), "contact": person_name(),
                "phone": landline(), "industry": "建筑业"}

    def new_unit(self, complete=True, depts=(DEPT,)):
        """A newly registered unit's admin (logged in); complete and recommending depts unless told."""
        u = self.new_unit_admin()
        if complete:
            r = u.put(API + "/units/me", self.unit_info())
            self.assertStatus(r, 200)
            self.assertTrue(r.json["unit"]["complete"], r)
        if depts is not None:
            self.assertStatus(u.put(API + "/units/me/recommenders", {"depts": list(depts)}), 200)
        u.cc = u.unit["credit_code"]
        return u

    # -- applications --
    def create(self, a, unit_cc, qual="GC4", sp="GC-JZ", year=None):
        return a.post(API + "/applications", {"year": this_year() if year is None else year,
                                              "qualification": qual, "specialty": sp, "unit": unit_cc})

    def new_app(self, unit=None, qual="GC4", sp="GC-JZ", year=None):
        """A new applicant with a new draft application (a.app_id) at unit (a new one unless given)."""
        unit = unit or self.new_unit()
        a = self.new_applicant()
        r = self.create(a, unit.cc, qual, sp, year)
        self.assertStatus(r, 201)
        self.assertEqual(r.json["status"], "draft")
        a.app_id = r.json["id"]
        a.unit_admin = unit
        return a

    def save(self, a, section, data, app_id=None):
        return a.put(f"{API}/applications/{app_id or a.app_id}/sections/{section}", {"data": data})

    def attach(self, a, section, data, ctype="application/octet-stream", name="证明材料", app_id=None):
        q = urllib.parse.urlencode({"section": section, "name": name})
        return a.post(f"{API}/applications/{app_id or a.app_id}/attachments?{q}", raw=data, ctype=ctype)

    def fill(self, a, skip_sections=(), skip_attachments=()):
        """Every section saved with valid data, the required attachments uploaded."""
        for name, data in filled_sections(a.body["name"]).items():
            if name not in skip_sections:
                self.assertStatus(self.save(a, name, data), 200)
        if "education" not in skip_attachments:
            self.assertStatus(self.attach(a, "education", PNG, "image/png", "学历证书"), 201)
        if "achievements" not in skip_attachments:
            self.assertStatus(self.attach(a, "achievements", PDF, "application/pdf", "业绩证明"), 201)

    def submit(self, a, app_id=None):
        return a.post(f"{API}/applications/{app_id or a.app_id}/submit")

    def withdraw(self, a, app_id=None):
        return a.post(f"{API}/applications/{app_id or a.app_id}/withdraw")

    def review(self, who, app_id, action, **kw):
        body = {"action": action}
        body.update(kw)
        return who.post(f"{API}/applications/{app_id}/review", body)

    def opinion(self, who, app_id, section, text):
        return who.put(f"{API}/applications/{app_id}/opinions/{section}", {"text": text})

    def get_app(self, who, app_id):
        r = who.get(f"{API}/applications/{app_id}")
        self.assertStatus(r, 200)
        return r.json

    def submitted_app(self, unit=None, qual="GC4", sp="GC-JZ"):
        """An application in unit_review."""
        a = self.new_app(unit, qual, sp)
        self.fill(a)
        r = self.submit(a)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "unit_review", r)
        return a

    def at_dept(self, unit=None, qual="GC4", sp="GC-JZ"):
        """An application in dept_review at the demo dept."""
        a = self.submitted_app(unit, qual, sp)
        r = self.review(a.unit_admin, a.app_id, "forward", recommendation="同意推荐")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "dept_review", r)
        return a

    def at_committee(self, unit=None, qual="GC4", sp="GC-JZ"):
        """An application in committee_review."""
        a = self.at_dept(unit, qual, sp)
        r = self.review(self.dept_admin(), a.app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "committee_review", r)
        return a

    # -- "nothing changed" --
    def snap(self, a, app_id=None):
        """What a refused request must leave as it was (the owner's view)."""
        j = self.get_app(a, app_id or a.app_id)
        return {
            "status": j["status"], "returned_by": j.get("returned_by"), "submit_count": j["submit_count"],
            "round": j.get("round"), "committee": (j.get("committee") or {}).get("id"),
            "qualification": (j.get("qualification") or {}).get("code"),
            "specialty": (j.get("specialty") or {}).get("code"), "dept": (j.get("dept") or {}).get("id"),
            "recommendation": j.get("recommendation"), "updated": j.get("updated"),
            "submitted": j.get("submitted"),
            "sections": {s["name"]: (s["data"], [(x["id"], x["sha256"]) for x in s["attachments"]])
                         for s in j["sections"]},
            "opinions": json.dumps(j.get("opinions"), sort_keys=True, ensure_ascii=False),
            "history": len(j["history"]),
        }

    def assertRefused(self, r, status, code, a, before, field=None, app_id=None):
        """An error answer, and the application exactly as before."""
        e = self.assertError(r, status, code, field)
        self.assertEqual(self.snap(a, app_id), before, f"a refused request ({status} {code}) changed the application")
        return e

    def history_actions(self, j, action):
        return [h for h in j["history"] if h["action"] == action]

    # -- committees --
    def committee(self, cid):
        r = Client(self.node).get(f"{API}/committees/{cid}")
        self.assertStatus(r, 200)
        return r.json["committee"]

    def restore_committee_later(self, cid):
        """Put the committee back as it is now when the test ends (node admin)."""
        c = self.committee(cid)
        body = {"submit_limit": c["submit_limit"], "fee": c["fee"],
                "windows": [{"specialty": w["specialty"], "opens": w["opens"], "closes": w["closes"]}
                            for w in c["windows"]]}

        def restore():
            r = self.node_admin().put(f"{API}/committees/{cid}", body)
            self.assertStatus(r, 200)
        self.addCleanup(restore)
        return c


class AppCase(AppFlow, ZcCase):
    NODE_LABEL = "applications"


def window_of(c, specialty):
    for w in c["windows"]:
        if w["specialty"] == specialty:
            return w
    return None


# ============================================================================================
# Committees
# ============================================================================================

class TestCommittees(AppCase):
    def test_list_shows_demo_committees_with_their_details(self):
        r = Client(self.node).get(API + "/committees")          # anyone
        self.assertStatus(r, 200)
        items = {c["id"]: c for c in r.json["items"]}
        today = beijing_today()
        for cid in ("650000-GC-G", "650000-WS-G", "650000-JY-G", "650000-JJ-G", "650000-KJ-G", "650000-NY-G"):
            self.assertIn(cid, items)
            c = items[cid]
            self.assertEqual(c["node"], REGION)
            self.assertTrue(has_cjk(c["name"]))
            self.assertEqual(c["submit_limit"], 3)
            self.assertIsInstance(c["fee"], int)
            for k in ("paper_rules", "address", "contact"):
                self.assertIsInstance(c.get(k), str, f"{cid} has no {k}")
                self.assertTrue(c[k], f"{cid}: empty {k}")
            levels = {(s["series"], s["level"]) for s in c["scope"]}
            series = cid.split("-")[1]
            self.assertEqual(levels, {(series, 4), (series, 5)}, c["scope"])
            self.assertTrue(c["windows"], f"{cid} has no windows")
            for w in c["windows"]:
                self.assertTrue(w["specialty"].startswith(series + "-"), w)
                self.assertEqual(w["opens"], today.isoformat())
                self.assertEqual(w["closes"], (today + datetime.timedelta(days=90)).isoformat())
        gc = items[GC_G]
        self.assertEqual({w["specialty"] for w in gc["windows"]}, {"GC-JZ", "GC-DZ", "GC-JX", "GC-SL"})
        self.assertIs(gc["directed"], False)

    def test_list_filters_by_node(self):
        r = Client(self.node).get(API + "/committees?node=" + REGION)
        self.assertStatus(r, 200)
        self.assertTrue(r.json["items"])
        self.assertEqual({c["node"] for c in r.json["items"]}, {REGION})
        self.assertError(Client(self.node).get(API + "/committees?node=999999"), 400)

    def test_scope_lists_each_series_and_level_once(self):
        # committee_scopes' UNIQUE(committee_id, series, level, specialty) does not hold for a
        # NULL specialty; committees.json is loaded with INSERT OR IGNORE at every start.
        c = self.committee(GC_G)
        pairs = [(s["series"], s["level"], s.get("specialty")) for s in c["scope"]]
        self.assertEqual(len(pairs), len(set(pairs)), f"scope has duplicates: {c['scope']}")

    def test_get_one_and_unknown(self):
        c = self.committee(GC_G)
        self.assertEqual(c["id"], GC_G)
        self.assertError(Client(self.node).get(API + "/committees/650000-XX-G"), 404)

    def test_node_admin_edits_fee_limit_and_windows(self):
        cid = "650000-NY-G"
        old = self.restore_committee_later(cid)
        wins = [{"specialty": w["specialty"], "opens": "2027-03-01", "closes": "2027-04-30"} for w in old["windows"]]
        r = self.node_admin().put(f"{API}/committees/{cid}", {"fee": 456, "submit_limit": 2, "windows": wins,
                                                               "paper_rules": "材料一式三份。"})
        self.assertStatus(r, 200)
        c = self.committee(cid)
        self.assertEqual(c["fee"], 456)
        self.assertEqual(c["submit_limit"], 2)
        self.assertEqual(c["paper_rules"], "材料一式三份。")
        self.assertEqual({(w["specialty"], w["opens"], w["closes"]) for w in c["windows"]},
                         {(w["specialty"], "2027-03-01", "2027-04-30") for w in wins})
        self.assertEqual(r.json["committee"]["fee"], 456)
        # the list shows the same
        items = {x["id"]: x for x in Client(self.node).get(API + "/committees").json["items"]}
        self.assertEqual(items[cid]["fee"], 456)
        self.assertEqual(items[cid]["submit_limit"], 2)

    def test_committee_admin_edits_own_committee(self):
        cid = "650000-NY-G"
        self.restore_committee_later(cid)
        r = self.committee_admin(cid).put(f"{API}/committees/{cid}", {"fee": 321, "submit_limit": 2})
        self.assertStatus(r, 200)
        c = self.committee(cid)
        self.assertEqual((c["fee"], c["submit_limit"]), (321, 2))
        w = window_of(c, "NY-ZZ")
        r = self.committee_admin(cid).put(f"{API}/committees/{cid}", {"windows": [
            {"specialty": x["specialty"], "opens": x["opens"], "closes": "2027-06-30"} for x in c["windows"]]})
        self.assertStatus(r, 200)
        self.assertEqual(window_of(self.committee(cid), "NY-ZZ")["closes"], "2027-06-30")
        self.assertEqual(window_of(self.committee(cid), "NY-ZZ")["opens"], w["opens"])

    def test_others_may_not_edit(self):
        cid = "650000-NY-G"
        before = self.committee(cid)
        body = {"fee": 1, "submit_limit": 1}
        self.assertError(self.committee_admin("650000-GC-G").put(f"{API}/committees/{cid}", body), 404)
        self.assertError(self.new_unit().put(f"{API}/committees/{cid}", body), 403)
        self.assertError(self.new_applicant().put(f"{API}/committees/{cid}", body), 403)
        self.assertError(self.dept_admin().put(f"{API}/committees/{cid}", body), 403)
        self.assertError(self.auditor().put(f"{API}/committees/{cid}", body), 403)
        self.assertError(Client(self.node).put(f"{API}/committees/{cid}", body), 401)
        self.assertEqual(self.committee(cid), before)
        # a node admin manages only its own node's committees
        other = "650100-GC-Z"
        before_other = self.committee(other)
        self.assertError(self.node_admin().put(f"{API}/committees/{other}", body), 404)
        self.assertEqual(self.committee(other), before_other)
        self.assertError(self.node_admin().put(f"{API}/committees/650000-XX-G", body), 404)

    def test_invalid_windows_are_400_and_change_nothing(self):
        cid = "650000-NY-G"
        self.restore_committee_later(cid)
        before = self.committee(cid)
        adm = self.node_admin()
        bad = [
            [{"specialty": "NY-ZZ", "opens": "2027-02-30", "closes": "2027-03-31"}],   # no such day
            [{"specialty": "NY-ZZ", "opens": "2027/03/01", "closes": "2027-03-31"}],   # format
            [{"specialty": "NY-ZZ", "opens": "2027-03-01", "closes": "明年"}],
            [{"specialty": "NY-ZZ", "opens": "2027-04-01", "closes": "2027-03-01"}],   # closes before opens
            [{"specialty": "NY-ZZ", "opens": "2027-03-01"}],                           # no end
            [{"specialty": "GC-JZ", "opens": "2027-03-01", "closes": "2027-03-31"}],   # outside the scope
            [{"specialty": "XX-YY", "opens": "2027-03-01", "closes": "2027-03-31"}],   # unknown
            "2027-03-01",
        ]
        for w in bad:
            # fee first: a refused window must roll the fee back too
            r = adm.put(f"{API}/committees/{cid}", {"fee": 999, "windows": w})
            self.assertError(r, 400, "invalid_field", "windows")
            self.assertEqual(self.committee(cid), before, f"refused windows {w!r} changed the committee")

    def test_invalid_limit_and_fee_are_400(self):
        cid = "650000-NY-G"
        self.restore_committee_later(cid)
        before = self.committee(cid)
        adm = self.committee_admin(cid)
        for body, field in (({"submit_limit": 0}, "submit_limit"), ({"submit_limit": 10}, "submit_limit"),
                            ({"submit_limit": "两次"}, "submit_limit"), ({"submit_limit": 2.5}, "submit_limit"),
                            ({"fee": -1}, "fee"),
                            ({"fee": 100001}, "fee"), ({"fee": "免费"}, "fee")):
            self.assertError(adm.put(f"{API}/committees/{cid}", body), 400, "invalid_field", field)
        self.assertEqual(self.committee(cid), before)


# ============================================================================================
# Jurisdiction on one node (the region)
# ============================================================================================

class TestJurisdiction(AppCase):
    def route(self, who, unit_cc, qual, sp):
        return who.get(f"{API}/jurisdiction?" + urllib.parse.urlencode(
            {"unit": unit_cc, "qualification": qual, "specialty": sp}))

    def test_region_unit_gc4_gets_region_committee(self):
        u = self.new_unit()
        a = self.new_applicant()
        r = self.route(a, u.cc, "GC4", "GC-JZ")
        self.assertStatus(r, 200)
        c = r.json["committee"]
        self.assertEqual(c["id"], GC_G)
        self.assertEqual(c["node"], REGION)
        self.assertIs(c["directed"], False)
        self.assertTrue(has_cjk(c["name"]))
        self.assertEqual(c["window"]["opens"], beijing_today().isoformat())
        self.assertIn(c["window"]["open"], (True, 1))
        self.assertEqual(r.json["unit"]["id"], u.unit["id"])
        # the application gets the committee shown before confirming
        r = self.create(a, u.cc, "GC4", "GC-JZ")
        self.assertStatus(r, 201)
        self.assertEqual(r.json["committee"]["id"], GC_G)
        self.assertIs(r.json["directed"], False)

    def test_level_3_at_region_is_409_naming_what_is_possible(self):
        u = self.new_unit()
        a = self.new_applicant()
        e = self.assertError(self.route(a, u.cc, "GC3", "GC-JZ"), 409, "wrong_jurisdiction")
        self.assertIn("高级工程师", e["message"])
        self.assertIn("自治区工程系列高级职称评审委员会", e["message"])
        e = self.assertError(self.create(a, u.cc, "GC3", "GC-JZ"), 409, "wrong_jurisdiction")
        self.assertIn("高级工程师", e["message"])
        r = a.get(API + "/applications")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["items"], [], "a refused application was created")

    def test_specialty_of_another_series_is_400(self):
        u = self.new_unit()
        a = self.new_applicant()
        self.assertError(self.route(a, u.cc, "GC4", "JY-YW"), 400, "invalid_field", "specialty")
        self.assertError(self.create(a, u.cc, "GC4", "JY-YW"), 400, "invalid_field", "specialty")
        self.assertError(self.create(a, u.cc, "XX9", "GC-JZ"), 400, "invalid_field", "qualification")
        self.assertEqual(a.get(API + "/applications").json["items"], [])

    def test_a_committee_against_jurisdiction_is_409_naming_the_right_one(self):
        u = self.new_unit()
        a = self.new_applicant()
        r = a.post(API + "/applications", {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": u.cc, "committee": "650000-JJ-G"})
        e = self.assertError(r, 409, "wrong_jurisdiction")
        self.assertIn("自治区工程系列高级职称评审委员会", e["message"])
        self.assertEqual(a.get(API + "/applications").json["items"], [])
        r = a.post(API + "/applications", {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": u.cc, "committee": GC_G})
        self.assertStatus(r, 201)

    def test_unknown_unit_and_login(self):
        a = self.new_applicant()
        self.assertError(self.route(a, credit_code(), "GC4", "GC-JZ"), 404, "unit_not_found")
        self.assertError(a.get(API + "/jurisdiction?unit=&qualification=GC4"), 400)
        u = self.new_unit()
        self.assertError(self.route(Client(self.node), u.cc, "GC4", "GC-JZ"), 401, "login_required")


# ============================================================================================
# Jurisdiction across a 3-node federation (region, Urumqi 650100, Kashgar 653100)
# ============================================================================================

class TestFederatedJurisdiction(AppFlow, ZcCase):
    @classmethod
    def setUpClass(cls):
        cls.fed = Federation("fed3", nodes=3).start()
        cls.node = cls.fed

    @classmethod
    def tearDownClass(cls):
        cls.fed.stop()

    def at(self, node_id):
        """A ZcCase-style helper bound to another node of the federation."""
        outer = self

        class At(ZcCase):
            def runTest(self):
                pass
        h = At()
        h.node = NodePort(self.fed.port_of(node_id))
        h.assertStatus = outer.assertStatus
        return h

    def unit_at(self, node_id):
        h = self.at(node_id)
        u = h.new_unit_admin(node=node_id, credit_code=credit_code(area=node_id))
        self.assertEqual(u.unit["node"], node_id)
        self.assertStatus(u.put(API + "/units/me", self.unit_info()), 200)
        return h, u

    def route_and_apply(self, node_id, qual, sp):
        h, u = self.unit_at(node_id)
        cc = u.unit["credit_code"]
        q = urllib.parse.urlencode({"unit": cc, "qualification": qual, "specialty": sp})
        r = u.get(f"{API}/jurisdiction?{q}")
        self.assertStatus(r, 200)
        shown = r.json["committee"]
        a = h.new_applicant()
        r2 = a.get(f"{API}/jurisdiction?{q}")
        self.assertStatus(r2, 200)
        self.assertEqual(r2.json["committee"]["id"], shown["id"])
        r3 = a.post(API + "/applications", {"year": this_year(), "qualification": qual, "specialty": sp,
                                            "unit": cc})
        self.assertStatus(r3, 201)
        self.assertEqual(r3.json["committee"]["id"], shown["id"], "the application got another committee than shown")
        return shown, r3.json

    def test_directed_southern_and_prefecture_routing(self):
        # Kashgar (southern): JY4 goes to its directed committee
        shown, app = self.route_and_apply("653100", "JY4", "JY-YW")
        self.assertEqual(shown["id"], "653100-DX")
        self.assertEqual(shown["node"], "653100")
        self.assertIs(shown["directed"], True)
        self.assertIs(app["directed"], True)
        self.assertIs(app["committee"]["directed"], True)
        # Urumqi: GC3 goes to the prefecture's committee
        shown, app = self.route_and_apply("650100", "GC3", "GC-JZ")
        self.assertEqual(shown["id"], "650100-GC-Z")
        self.assertIs(shown["directed"], False)
        self.assertIs(app["directed"], False)
        # Kashgar has no engineering committee at level 4: the region's reviews it
        shown, app = self.route_and_apply("653100", "GC4", "GC-JZ")
        self.assertEqual(shown["id"], GC_G)
        self.assertIs(shown["directed"], False)


# ============================================================================================
# Creating an application
# ============================================================================================

class TestCreate(AppCase):
    def test_create_is_201_draft_with_committee_and_key_facts(self):
        u = self.new_unit()
        a = self.new_applicant()
        r = self.create(a, u.cc, "GC4", "GC-JZ")
        self.assertStatus(r, 201)
        j = r.json
        self.assertIsInstance(j["id"], str)
        self.assertEqual(j["status"], "draft")
        self.assertEqual(j["year"], this_year())
        self.assertEqual(j["qualification"]["code"], "GC4")
        self.assertEqual(j["specialty"]["code"], "GC-JZ")
        self.assertEqual(j["level"], 4)
        self.assertEqual(j["committee"]["id"], GC_G)
        self.assertEqual(j["committee"]["node"], REGION)
        self.assertEqual(j["submit_count"], 0)
        self.assertEqual(j["submit_limit"], 3)
        self.assertEqual(j["window"]["opens"], beijing_today().isoformat())
        self.assertIs(j["window"]["open"], True)
        self.assertEqual(j["unit"]["credit_code"], u.cc)
        self.assertIsNone(j["returned_by"])
        self.assertEqual([s["name"] for s in j["sections"]], SECTIONS)
        self.assertEqual(len(j["history"]), 1)
        self.assertEqual(j["history"][0]["action"], "create")
        # the same as GET shows, and in the applicant's list
        self.assertEqual(self.get_app(a, j["id"])["committee"]["id"], GC_G)
        items = a.get(API + "/applications").json["items"]
        self.assertEqual([x["id"] for x in items], [j["id"]])

    def test_basic_comes_filled_in_from_the_account_and_stays_editable(self):
        u = self.new_unit()
        a = self.new_applicant()
        idn = a.body["id_number"]
        j = self.create(a, u.cc, "GC4", "GC-JZ").json
        basic = next(s for s in j["sections"] if s["name"] == "basic")
        want = {"name": a.body["name"], "phone": a.body["phone"], "birth_date": f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}",
                "gender": "男" if int(idn[16]) % 2 else "女"}
        self.assertEqual(basic["data"], want)
        # a woman's number (even 17th digit) gives 女
        b = self.new_applicant(id_number=next(x for x in iter(id_number, None) if int(x[16]) % 2 == 0))
        j2 = self.create(b, u.cc, "GC4", "GC-JZ").json
        self.assertEqual(next(s for s in j2["sections"] if s["name"] == "basic")["data"]["gender"], "女")
        # corrected by the applicant, like any field
        self.assertStatus(self.save(a, "basic", dict(want, gender="女", phone="13900000000"), app_id=j["id"]), 200)
        basic = next(s for s in self.get_app(a, j["id"])["sections"] if s["name"] == "basic")
        self.assertEqual((basic["data"]["gender"], basic["data"]["phone"]), ("女", "13900000000"))

    def test_one_per_applicant_and_year(self):
        u = self.new_unit()
        a = self.new_app(u)
        e = self.assertError(self.create(a, u.cc, "GC5", "GC-DZ"), 409, "application_exists")
        self.assertIn(str(this_year()), e["message"])
        self.assertEqual(len(a.get(API + "/applications").json["items"]), 1)
        # next year is another year
        self.assertStatus(self.create(a, u.cc, "GC4", "GC-JZ", year=this_year() + 1), 201)
        self.assertError(self.create(a, u.cc, "GC4", "GC-JZ", year=this_year() + 1), 409, "application_exists")
        self.assertEqual(len(a.get(API + "/applications").json["items"]), 2)

    def test_year_other_than_this_or_next_is_400(self):
        u = self.new_unit()
        a = self.new_applicant()
        for y in (this_year() - 1, this_year() + 2, 1990, 0):
            self.assertError(self.create(a, u.cc, year=y), 400, "invalid_field", "year")
        self.assertError(a.post(API + "/applications", {"year": "今年", "qualification": "GC4",
                                                        "specialty": "GC-JZ", "unit": u.cc}), 400, field="year")
        self.assertEqual(a.get(API + "/applications").json["items"], [])

    def test_unknown_unit_is_404_and_bad_credit_code_400(self):
        a = self.new_applicant()
        self.assertError(self.create(a, credit_code()), 404, "unit_not_found", "unit")
        self.assertError(self.create(a, cc_bad_check()), 400, "invalid_credit_code", "unit")
        self.assertError(self.create(a, "12345"), 400, "invalid_credit_code", "unit")
        self.assertError(a.post(API + "/applications", {"year": this_year(), "qualification": "GC4",
                                                        "specialty": "GC-JZ"}), 400, "missing_field", "unit")
        self.assertEqual(a.get(API + "/applications").json["items"], [])

    def test_only_applicants_create(self):
        u = self.new_unit()
        body = {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ", "unit": u.cc}
        self.assertError(u.post(API + "/applications", body), 403, "unit_admin_cannot_apply")
        self.assertError(self.dept_admin().post(API + "/applications", body), 403)
        self.assertError(Client(self.node).post(API + "/applications", body), 401, "login_required")


# ============================================================================================
# Sections
# ============================================================================================

class TestSections(AppCase):
    def section(self, j, name):
        return next(s for s in j["sections"] if s["name"] == name)

    def test_sections_show_fields_data_and_attachments(self):
        a = self.new_app()
        j = self.get_app(a, a.app_id)
        basic = self.section(j, "basic")
        self.assertTrue(has_cjk(basic["title"]))
        f = {x["name"]: x for x in basic["fields"]}
        self.assertEqual(f["gender"]["type"], "select")
        self.assertEqual(f["gender"]["options"], ["男", "女"])
        self.assertIs(f["birth_date"]["required"], True)
        self.assertEqual(f["birth_date"]["type"], "date")
        self.assertIs(f["political"]["required"], False)
        self.assertEqual(self.section(j, "training")["fields"][0]["type"], "number")
        self.assertIs(self.section(j, "education")["attachments_required"], True)
        self.assertIs(self.section(j, "work")["attachments_required"], False)
        for s in j["sections"]:
            self.assertIsInstance(s["data"], dict)
            self.assertEqual(s["attachments"], [])
            for x in s["fields"]:
                self.assertIn(x["type"], ("text", "textarea", "date", "number", "select"))
                self.assertTrue(has_cjk(x["label"]))

    def test_save_merges_and_shows(self):
        a = self.new_app()
        r = self.save(a, "basic", {"gender": "女", "birth_date": "1988-02-29"})
        self.assertStatus(r, 200)
        self.assertEqual(self.section(r.json, "basic")["data"]["gender"], "女")
        r = self.save(a, "basic", {"ethnicity": "维吾尔族", "position": "主任"})
        self.assertStatus(r, 200)
        d = self.section(self.get_app(a, a.app_id), "basic")["data"]
        self.assertEqual(d["gender"], "女")
        self.assertEqual(d["birth_date"], "1988-02-29")
        self.assertEqual(d["ethnicity"], "维吾尔族")
        self.assertEqual(d["position"], "主任")
        self.assertEqual(d["name"], a.body["name"])      # prefilled from the account
        r = self.save(a, "training", {"hours": 72})
        self.assertEqual(self.section(r.json, "training")["data"]["hours"], 72)
        r = self.save(a, "papers", {"count": "3"})
        self.assertEqual(self.section(r.json, "papers")["data"]["count"], 3)

    def test_unknown_field_is_400_naming_it(self):
        a = self.new_app()
        before = self.snap(a)
        e = self.assertRefused(self.save(a, "basic", {"gender": "男", "salary": "1000"}), 400, "invalid_field",
                               a, before, field="salary")
        self.assertTrue(has_cjk(e["message"]))

    def test_bad_values_are_400(self):
        a = self.new_app()
        before = self.snap(a)
        cases = [
            ("basic", {"birth_date": "1985-02-30"}, "birth_date"),
            ("basic", {"birth_date": "1985/01/01"}, "birth_date"),
            ("basic", {"birth_date": "yesterday"}, "birth_date"),
            ("basic", {"gender": "男", "work_start": "2008-13-01"}, "work_start"),
            ("basic", {"gender": "未知"}, "gender"),
            ("assessment", {"year1": "很好"}, "year1"),
            ("training", {"hours": "很多"}, "hours"),
            ("training", {"hours": -5}, "hours"),
            ("training", {"hours": 1.5}, "hours"),
            ("papers", {"count": "12abc"}, "count"),
            ("basic", {"ethnicity": 5}, "ethnicity"),
            ("work", {"experience": ["a", "b"]}, "experience"),
        ]
        for section, data, field in cases:
            self.assertRefused(self.save(a, section, data), 400, "invalid_field", a, before, field=field)
        self.assertRefused(a.put(f"{API}/applications/{a.app_id}/sections/basic", {"data": "男"}), 400,
                           "invalid_field", a, before)
        self.assertRefused(a.put(f"{API}/applications/{a.app_id}/sections/basic", {"gender": "男"}), 400,
                           None, a, before)

    def test_unknown_section_is_404(self):
        a = self.new_app()
        before = self.snap(a)
        self.assertRefused(self.save(a, "hobbies", {"x": "y"}), 404, None, a, before)
        self.assertRefused(self.attach(a, "hobbies", PNG, "image/png"), 400, "invalid_field", a, before,
                           field="section")

    def test_key_facts_shown(self):
        a = self.new_app()
        j = self.get_app(a, a.app_id)
        for k in ("year", "qualification", "level", "status", "committee", "submit_count", "submit_limit", "window"):
            self.assertIn(k, j)
        self.assertEqual(j["window"]["closes"], (beijing_today() + datetime.timedelta(days=90)).isoformat())
        self.assertTrue(j["qualification"]["name"])
        self.assertTrue(j["status_name"])
        self.assertIs(j["editable"], True)


# ============================================================================================
# Attachments
# ============================================================================================

class TestAttachments(AppCase):
    def atts(self, a, section, app_id=None):
        j = self.get_app(a, app_id or a.app_id)
        return next(s for s in j["sections"] if s["name"] == section)["attachments"]

    def test_png_jpeg_pdf_are_201_and_listed(self):
        a = self.new_app()
        got = []
        for data, ctype, want, name in ((PNG, "image/png", "image/png", "学历证书.png"),
                                        (JPEG, "image/jpeg", "image/jpeg", "学位证书.jpg"),
                                        (PDF, "application/pdf", "application/pdf", "毕业证明.pdf")):
            r = self.attach(a, "education", data, ctype, name)
            self.assertStatus(r, 201)
            self.assertEqual(r.json["sha256"], hashlib.sha256(data).hexdigest())
            self.assertEqual(r.json["size"], len(data))
            self.assertEqual(r.json["type"], want)
            got.append((r.json["id"], name, len(data), want))
        listed = [(x["id"], x["name"], x["size"], x["type"]) for x in self.atts(a, "education")]
        self.assertEqual(sorted(listed), sorted(got))
        self.assertEqual(self.atts(a, "achievements"), [])

    def test_type_is_sniffed_not_taken_from_content_type(self):
        a = self.new_app()
        r = self.attach(a, "education", PDF, "image/png")
        self.assertStatus(r, 201)
        self.assertEqual(r.json["type"], "application/pdf")

    def test_over_2_mib_is_413(self):
        a = self.new_app()
        before = self.snap(a)
        self.assertRefused(self.attach(a, "education", png_of_size(2 * MIB + 1), "image/png"), 413, "too_large",
                           a, before)
        r = self.attach(a, "education", png_of_size(2 * MIB), "image/png")
        self.assertStatus(r, 201)
        self.assertEqual(r.json["size"], 2 * MIB)

    def test_gif_and_text_are_415(self):
        a = self.new_app()
        before = self.snap(a)
        self.assertRefused(self.attach(a, "education", GIF, "image/gif"), 415, "unsupported_type", a, before)
        self.assertRefused(self.attach(a, "education", "毕业证书".encode() * 10, "text/plain"), 415,
                           "unsupported_type", a, before)
        self.assertRefused(self.attach(a, "education", b"<html>not a png</html>", "image/png"), 415,
                           "unsupported_type", a, before)

    def test_same_bytes_twice_same_sha256(self):
        a = self.new_app()
        r1 = self.attach(a, "education", JPEG, "image/jpeg", "一")
        r2 = self.attach(a, "achievements", JPEG, "image/jpeg", "二")
        self.assertStatus(r1, 201)
        self.assertStatus(r2, 201)
        self.assertEqual(r1.json["sha256"], r2.json["sha256"])
        self.assertEqual(len(self.atts(a, "education")) + len(self.atts(a, "achievements")), 2)
        # another applicant uploading the same bytes gets the same digest
        b = self.new_app()
        self.assertEqual(self.attach(b, "education", JPEG, "image/jpeg").json["sha256"], r1.json["sha256"])

    def test_download_by_owner_and_unit_after_submit_only(self):
        a = self.new_app()
        self.fill(a)
        att = self.atts(a, "education")[0]
        url = f"{API}/applications/{a.app_id}/attachments/{att['id']}"
        r = a.get(url)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, PNG)
        self.assertIn("image/png", r.header("Content-Type") or "")
        # the unit does not see a draft
        self.assertError(a.unit_admin.get(url), 404)
        self.assertStatus(self.submit(a), 200)
        r = a.unit_admin.get(url)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, PNG)
        self.assertError(self.new_applicant().get(url), 404)
        self.assertError(self.new_unit().get(url), 404)
        self.assertError(Client(self.node).get(url), 401)
        self.assertError(a.get(f"{API}/applications/{a.app_id}/attachments/f000000000000000000000000"), 404)
        # an attachment of another application is not reachable through this one
        b = self.new_app()
        rb = self.attach(b, "education", PDF, "application/pdf")
        self.assertError(a.get(f"{API}/applications/{a.app_id}/attachments/{rb.json['id']}"), 404)
        self.assertError(b.get(f"{API}/applications/{a.app_id}/attachments/{rb.json['id']}"), 404)

    def test_at_most_20_per_section(self):
        a = self.new_app()
        for i in range(20):
            self.assertStatus(self.attach(a, "awards", PNG, "image/png", f"证书{i}"), 201)
        before = self.snap(a)
        self.assertRefused(self.attach(a, "awards", PNG, "image/png"), 409, "too_many_attachments", a, before)
        self.assertStatus(self.attach(a, "papers", PNG, "image/png"), 201)

    def test_empty_body_and_bad_name_are_400(self):
        a = self.new_app()
        before = self.snap(a)
        self.assertRefused(self.attach(a, "education", b"", "image/png"), 400, None, a, before)
        self.assertRefused(self.attach(a, "education", PNG, "image/png", name="n" * 101), 400, "invalid_field",
                           a, before, field="name")
        self.assertRefused(self.attach(a, "education", PNG, "image/png", name="证书\x01"), 400, "invalid_field",
                           a, before, field="name")
        q = urllib.parse.urlencode({"name": "无栏目"})
        self.assertRefused(a.post(f"{API}/applications/{a.app_id}/attachments?{q}", raw=PNG, ctype="image/png"),
                           400, "invalid_field", a, before, field="section")

    def test_a_long_chinese_name_is_kept_whole(self):
        # 90 characters are within the 100-character limit (270 bytes of UTF-8); the name is
        # stored as sent or refused, never cut
        a = self.new_app()
        name = "学" * 88 + "证书"
        r = self.attach(a, "education", PNG, "image/png", name=name)
        self.assertStatus(r, 201)
        self.assertEqual(r.json["name"], name, "the attachment's name was cut")
        self.assertEqual(self.atts(a, "education")[0]["name"], name)

    def test_delete_while_editable_and_not_after_submit(self):
        a = self.new_app()
        r = self.attach(a, "education", PNG, "image/png")
        extra = r.json["id"]
        r = a.delete(f"{API}/applications/{a.app_id}/attachments/{extra}")
        self.assertStatus(r, 200)
        self.assertEqual(self.atts(a, "education"), [])
        self.assertError(a.get(f"{API}/applications/{a.app_id}/attachments/{extra}"), 404)
        before = self.snap(a)
        self.assertRefused(a.delete(f"{API}/applications/{a.app_id}/attachments/{extra}"), 404, None, a, before)
        self.fill(a)
        self.assertStatus(self.submit(a), 200)
        att = self.atts(a, "education")[0]
        before = self.snap(a)
        self.assertRefused(a.delete(f"{API}/applications/{a.app_id}/attachments/{att['id']}"), 409, "not_editable",
                           a, before)
        self.assertRefused(self.attach(a, "education", PDF, "application/pdf"), 409, "not_editable", a, before)
        self.assertRefused(self.save(a, "work", {"experience": "改过"}), 409, "not_editable", a, before)
        # another applicant cannot delete it either
        self.assertRefused(self.new_applicant().delete(f"{API}/applications/{a.app_id}/attachments/{att['id']}"),
                           404, None, a, before)


# ============================================================================================
# Submitting
# ============================================================================================

class TestSubmit(AppCase):
    def test_submit_moves_to_unit_review_and_counts(self):
        a = self.new_app()
        self.fill(a)
        r = self.submit(a)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "unit_review")
        self.assertEqual(r.json["submit_count"], 1)
        self.assertIs(r.json["editable"], False)
        self.assertIs(r.json["withdrawable"], True)
        self.assertTrue(r.json["submitted"])
        self.assertEqual(len(self.history_actions(r.json, "submit")), 1)

    def test_required_field_empty_is_409_incomplete_naming_the_section(self):
        a = self.new_app()
        self.fill(a, skip_sections=("work",))
        before = self.snap(a)
        e = self.assertRefused(self.submit(a), 409, "incomplete", a, before)
        self.assertEqual(e.get("section"), "work")
        self.assertIn("工作经历", e["message"])
        # a required field cleared again
        self.assertStatus(self.save(a, "work", filled_sections("x")["work"]), 200)
        self.assertStatus(self.save(a, "assessment", {"year2": ""}), 200)
        before = self.snap(a)
        e = self.assertRefused(self.submit(a), 409, "incomplete", a, before)
        self.assertEqual(e.get("section"), "assessment")
        self.assertIn("年度考核", e["message"])

    def test_required_attachment_missing_is_409_incomplete(self):
        a = self.new_app()
        self.fill(a, skip_attachments=("achievements",))
        before = self.snap(a)
        e = self.assertRefused(self.submit(a), 409, "incomplete", a, before)
        self.assertEqual(e.get("section"), "achievements")
        self.assertIn("专业技术工作业绩", e["message"])
        self.assertEqual(before["status"], "draft")
        self.assertEqual(before["submit_count"], 0)

    def test_window_closed_is_409(self):
        cid = "650000-KJ-G"
        old = self.restore_committee_later(cid)
        a = self.new_app(qual="KJ4", sp="KJ-KJ")
        self.fill(a)
        wins = [{"specialty": w["specialty"], "opens": "2020-01-01", "closes": "2020-12-31"} for w in old["windows"]]
        self.assertStatus(self.node_admin().put(f"{API}/committees/{cid}", {"windows": wins}), 200)
        self.assertIs(self.get_app(a, a.app_id)["window"]["open"], False)
        before = self.snap(a)
        e = self.assertRefused(self.submit(a), 409, "window_closed", a, before)
        self.assertIn("2020-12-31", e["message"])
        # a window that opens later is closed too
        later = (beijing_today() + datetime.timedelta(days=10)).isoformat()
        wins = [{"specialty": w["specialty"], "opens": later, "closes": "2099-12-31"} for w in old["windows"]]
        self.assertStatus(self.node_admin().put(f"{API}/committees/{cid}", {"windows": wins}), 200)
        self.assertRefused(self.submit(a), 409, "window_closed", a, before)
        # no window at all for the specialty
        self.assertStatus(self.node_admin().put(f"{API}/committees/{cid}", {"windows": []}), 200)
        self.assertIsNone(self.get_app(a, a.app_id)["window"])
        self.assertRefused(self.submit(a), 409, "window_closed", a, before)
        # today is inside an open window (inclusive ends)
        today = beijing_today().isoformat()
        wins = [{"specialty": w["specialty"], "opens": today, "closes": today} for w in old["windows"]]
        self.assertStatus(self.node_admin().put(f"{API}/committees/{cid}", {"windows": wins}), 200)
        self.assertStatus(self.submit(a), 200)

    def test_submission_limit(self):
        cid = "650000-KJ-G"
        self.restore_committee_later(cid)
        self.assertStatus(self.committee_admin(cid).put(f"{API}/committees/{cid}", {"submit_limit": 1}), 200)
        a = self.new_app(qual="KJ4", sp="KJ-KJ")
        self.fill(a)
        r = self.submit(a)
        self.assertStatus(r, 200)
        self.assertEqual((r.json["submit_count"], r.json["submit_limit"]), (1, 1))
        r = self.review(a.unit_admin, a.app_id, "return", opinions={"basic": "请补充"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "returned")
        before = self.snap(a)
        e = self.assertRefused(self.submit(a), 409, "submission_limit", a, before)
        self.assertIn("1", e["message"])
        self.assertEqual(before["status"], "returned")

    def test_every_submit_counts_also_resubmissions(self):
        a = self.new_app()
        self.fill(a)
        self.assertEqual(self.submit(a).json["submit_count"], 1)
        r = self.withdraw(a)
        self.assertStatus(r, 200)
        self.assertEqual((r.json["status"], r.json["submit_count"]), ("draft", 1))
        self.assertEqual(self.submit(a).json["submit_count"], 2)
        self.assertStatus(self.review(a.unit_admin, a.app_id, "return", opinions={"work": "请写明起止时间"}), 200)
        r = self.submit(a)
        self.assertStatus(r, 200)
        self.assertEqual((r.json["status"], r.json["submit_count"]), ("unit_review", 3))
        self.assertEqual(len(self.history_actions(r.json, "submit")), 3)
        # the limit (3) is reached now
        self.assertStatus(self.review(a.unit_admin, a.app_id, "return", opinions={"work": "仍不完整"}), 200)
        before = self.snap(a)
        self.assertRefused(self.submit(a), 409, "submission_limit", a, before)

    def test_submit_twice_is_409(self):
        a = self.submitted_app()
        before = self.snap(a)
        self.assertRefused(self.submit(a), 409, "invalid_action", a, before)


# ============================================================================================
# Withdrawing (收回)
# ============================================================================================

class TestWithdraw(AppCase):
    def test_withdraw_while_unit_has_not_acted(self):
        a = self.submitted_app()
        r = self.withdraw(a)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "draft")
        self.assertIs(r.json["editable"], True)
        h = self.history_actions(r.json, "withdraw")
        self.assertEqual(len(h), 1)
        self.assertEqual((h[0]["from"], h[0]["to"]), ("unit_review", "draft"))
        # editable again, and out of the unit's queue
        self.assertStatus(self.save(a, "work", {"experience": "补充后的工作经历"}), 200)
        q = a.unit_admin.get(API + "/applications?view=queue").json["items"]
        self.assertNotIn(a.app_id, [x["id"] for x in q])
        before = self.snap(a)
        self.assertRefused(self.withdraw(a), 409, "invalid_action", a, before)

    def test_not_withdrawable_after_the_unit_saved_an_opinion(self):
        a = self.submitted_app()
        self.assertStatus(self.opinion(a.unit_admin, a.app_id, "work", "工作经历需写明起止年月"), 200)
        j = self.get_app(a, a.app_id)
        self.assertIs(j["withdrawable"], False)
        before = self.snap(a)
        e = self.assertRefused(self.withdraw(a), 409, "not_withdrawable", a, before)
        self.assertIn("单位", e["message"])
        self.assertEqual(before["status"], "unit_review")

    def test_withdrawable_again_after_a_return_and_resubmission(self):
        a = self.submitted_app()
        self.assertStatus(self.review(a.unit_admin, a.app_id, "return", opinions={"work": "请补充"}), 200)
        self.assertStatus(self.submit(a), 200)
        self.assertIs(self.get_app(a, a.app_id)["withdrawable"], True)
        r = self.withdraw(a)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "draft")

    def test_not_withdrawable_after_forward(self):
        a = self.at_dept()
        before = self.snap(a)
        self.assertRefused(self.withdraw(a), 409, None, a, before)


# ============================================================================================
# Changing the qualification (更改资格)
# ============================================================================================

class TestChangeQualification(AppCase):
    def change(self, a, qual, sp):
        return a.post(f"{API}/applications/{a.app_id}/qualification", {"qualification": qual, "specialty": sp})

    def test_in_draft_keeps_sections_and_attachments_and_recomputes_committee(self):
        a = self.new_app()
        self.fill(a)
        old = self.snap(a)
        r = self.change(a, "JJ4", "JJ-GS")
        self.assertStatus(r, 200)
        j = r.json
        self.assertEqual(j["qualification"]["code"], "JJ4")
        self.assertEqual(j["specialty"]["code"], "JJ-GS")
        self.assertEqual(j["committee"]["id"], "650000-JJ-G")
        self.assertEqual(j["status"], "draft")
        self.assertEqual(self.snap(a)["sections"], old["sections"], "更改资格 lost sections or attachments")
        h = self.history_actions(j, "change_qualification")
        self.assertEqual(len(h), 1)
        self.assertEqual(h[0]["detail"]["from"]["qualification"], "GC4")
        self.assertEqual(h[0]["detail"]["to"]["qualification"], "JJ4")
        self.assertEqual(h[0]["detail"]["to"]["committee"], "650000-JJ-G")
        self.assertTrue(h[0]["at"])
        self.assertEqual(h[0]["actor_name"], a.body["name"])
        self.assertStatus(self.submit(a), 200)

    def test_in_returned(self):
        a = self.submitted_app()
        self.assertStatus(self.review(a.unit_admin, a.app_id, "return", opinions={"basic": "资格选择有误"}), 200)
        old = self.snap(a)
        r = self.change(a, "GC5", "GC-DZ")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "returned")
        self.assertEqual(r.json["qualification"]["code"], "GC5")
        self.assertEqual(r.json["level"], 5)
        self.assertEqual(r.json["committee"]["id"], GC_G)
        self.assertEqual(self.snap(a)["sections"], old["sections"])
        self.assertEqual(len(self.history_actions(r.json, "change_qualification")), 1)
        r = self.submit(a)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "unit_review")

    def test_in_unit_review_is_409(self):
        a = self.submitted_app()
        before = self.snap(a)
        self.assertRefused(self.change(a, "JJ4", "JJ-GS"), 409, "not_editable", a, before)

    def test_choice_no_committee_covers_is_409(self):
        a = self.new_app()
        before = self.snap(a)
        e = self.assertRefused(self.change(a, "GC3", "GC-JZ"), 409, "wrong_jurisdiction", a, before)
        self.assertIn("高级工程师", e["message"])
        self.assertRefused(self.change(a, "GC4", "JY-YW"), 400, "invalid_field", a, before, field="specialty")
        self.assertRefused(self.change(a, "GC4", "GC-JZ"), 400, "invalid_field", a, before)     # unchanged
        self.assertRefused(self.change(a, "XX4", "GC-JZ"), 400, "invalid_field", a, before)
        self.assertRefused(self.new_applicant().post(f"{API}/applications/{a.app_id}/qualification",
                                                     {"qualification": "GC5", "specialty": "GC-JZ"}),
                           404, None, a, before)


# ============================================================================================
# Deleting a draft
# ============================================================================================

class TestDelete(AppCase):
    def test_a_never_submitted_draft_can_be_deleted(self):
        a = self.new_app()
        self.fill(a)
        r = a.delete(f"{API}/applications/{a.app_id}")
        self.assertStatus(r, 200)
        self.assertError(a.get(f"{API}/applications/{a.app_id}"), 404)
        self.assertEqual(a.get(API + "/applications").json["items"], [])
        # and the year is free again
        self.assertStatus(self.create(a, a.unit_admin.cc), 201)

    def test_a_submitted_one_cannot(self):
        a = self.submitted_app()
        before = self.snap(a)
        self.assertRefused(a.delete(f"{API}/applications/{a.app_id}"), 409, "not_editable", a, before)
        self.assertStatus(self.withdraw(a), 200)
        before = self.snap(a)
        self.assertRefused(a.delete(f"{API}/applications/{a.app_id}"), 409, "not_deletable", a, before)
        self.assertRefused(self.new_applicant().delete(f"{API}/applications/{a.app_id}"), 404, None, a, before)
