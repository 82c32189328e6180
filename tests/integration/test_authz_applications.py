"""Who may do what to an application: every application endpoint, called by every kind of
caller, with the application at each stage (draft, unit_review, dept_review,
committee_review).

Callers: its applicant (owner), another applicant, its unit's admin, another unit's admin,
the dept admin (once it reached the dept), its committee's admin, another committee's
admin, the node admin, the auditor, and anonymous.

Rules: 401 anonymous; 404 for an application outside one's reach (another applicant's,
another unit's, a dept or committee it has not reached); 403 for a role the endpoint is not
for, and for a reviewer who can read it but is not the current stage's reviewer; 409 for the
owner when the action does not fit the stage; never 200 for a forbidden action, never 5xx,
and the application exactly as before after all of it. Calls that would legitimately
succeed (the owner editing a draft, the current reviewer acting) are left to
test_applications.py and test_workflow.py."""
import urllib.parse

from test_applications import API, AppFlow, GC_G, PNG, this_year
from zc_test import Client, ZcCase

OTHER_COMMITTEE = "650000-JJ-G"
ROLES = ["owner", "other_applicant", "unit", "other_unit", "dept", "committee", "other_committee",
         "node_admin", "auditor", "anonymous"]
REVIEWER_ROLES = {"unit", "other_unit", "dept", "committee", "other_committee"}
STAGE_REVIEWER = {"unit_review": "unit", "dept_review": "dept", "committee_review": "committee"}
# who has read access at each stage; the node admin and the auditor read every
# application once it has been submitted (a draft never submitted is the applicant's alone)
READERS = {
    "draft": {"owner"},
    "unit_review": {"owner", "unit"},
    "dept_review": {"owner", "unit", "dept"},
    "committee_review": {"owner", "unit", "dept", "committee"},
}
EDIT_ENDPOINTS = {"save_section", "attach", "delete_attachment", "qualification", "delete_app"}


class TestAuthorizationMatrix(AppFlow, ZcCase):
    NODE_LABEL = "authz_applications"

    def actors(self, a):
        return {
            "owner": a,
            "other_applicant": self.new_applicant(),
            "unit": a.unit_admin,
            "other_unit": self.new_unit(),
            "dept": self.dept_admin(),
            "committee": self.committee_admin(GC_G),
            "other_committee": self.committee_admin(OTHER_COMMITTEE),
            "node_admin": self.node_admin(),
            "auditor": self.auditor(),
            "anonymous": Client(self.node),
        }

    def endpoints(self, a, att_id):
        base = f"{API}/applications/{a.app_id}"
        q = urllib.parse.urlencode({"section": "education", "name": "越权附件"})
        return {
            "get": ("GET", base, None, None),
            "get_attachment": ("GET", f"{base}/attachments/{att_id}", None, None),
            "save_section": ("PUT", f"{base}/sections/work", {"data": {"experience": "越权修改"}}, None),
            "attach": ("POST", f"{base}/attachments?{q}", None, PNG),
            "delete_attachment": ("DELETE", f"{base}/attachments/{att_id}", None, None),
            "qualification": ("POST", f"{base}/qualification", {"qualification": "GC5", "specialty": "GC-DZ"}, None),
            "delete_app": ("DELETE", base, None, None),
            "submit": ("POST", f"{base}/submit", {}, None),
            "withdraw": ("POST", f"{base}/withdraw", {}, None),
            "forward": ("POST", f"{base}/review", {"action": "forward", "recommendation": "越权推荐"}, None),
            "return": ("POST", f"{base}/review", {"action": "return", "opinions": {"work": "越权退回"}}, None),
            "opinion": ("PUT", f"{base}/opinions/work", {"text": "越权意见"}, None),
        }

    def expected(self, endpoint, role, stage):
        """(status, code or None), or None when the call would legitimately succeed."""
        readers = READERS[stage]
        if role == "anonymous":
            return 401, "login_required"
        if endpoint in ("get", "get_attachment"):
            if role in readers or (role in ("node_admin", "auditor") and stage != "draft"):
                return 200, None
            return 404, "not_found"
        if endpoint in EDIT_ENDPOINTS or endpoint in ("submit", "withdraw"):
            if role == "unit" or role == "other_unit":
                return 403, "unit_admin_cannot_apply"
            if role not in ("owner", "other_applicant"):
                return 403, "forbidden"
            if role == "other_applicant":
                return 404, "not_found"
            # the owner
            if stage == "draft":
                return None if endpoint != "withdraw" else (409, "invalid_action")
            if endpoint in EDIT_ENDPOINTS:
                return 409, "not_editable"
            if endpoint == "withdraw" and stage == "unit_review":
                return None
            if endpoint == "withdraw":  # API.md: past the unit, a withdrawal is not_withdrawable
                return 409, "not_withdrawable"
            return 409, "invalid_action"
        # reviewer endpoints: forward, return, opinion
        if role not in REVIEWER_ROLES:
            return 403, "forbidden"
        if STAGE_REVIEWER.get(stage) == role:
            return None
        if role in readers:
            return 403, "not_current_reviewer"
        return 404, "not_found"

    def run_matrix(self, stage, a):
        att = next(s for s in self.get_app(a, a.app_id)["sections"] if s["name"] == "education")["attachments"][0]
        self.assertEqual(self.get_app(a, a.app_id)["status"], stage)
        actors = self.actors(a)
        before = self.snap(a)
        problems = []
        n = 0
        for endpoint, (method, path, body, raw) in self.endpoints(a, att["id"]).items():
            for role in ROLES:
                want = self.expected(endpoint, role, stage)
                if want is None:
                    continue
                n += 1
                who = actors[role]
                if raw is not None:
                    r = who.request(method, path, raw=raw, ctype="image/png")
                else:
                    r = who.request(method, path, body=body)
                status, code = want
                where = f"{stage}: {role} {method} {path.replace(API, '')}"
                if r.status >= 500:
                    problems.append(f"{where}: {r.status} (5xx) {r!r}")
                    continue
                if r.status != status:
                    problems.append(f"{where}: expected {status} {code or ''}, got {r!r}")
                    continue
                if status == 200:
                    if endpoint == "get_attachment" and r.body != PNG:
                        problems.append(f"{where}: attachment bytes differ")
                    if endpoint == "get" and (r.json or {}).get("id") != a.app_id:
                        problems.append(f"{where}: not the application {r!r}")
                    continue
                e = r.error
                if list((r.json or {}).keys()) != ["error"] or not isinstance(e.get("message"), str):
                    problems.append(f"{where}: not the error envelope {r!r}")
                elif not any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]):
                    problems.append(f"{where}: message not Chinese {r!r}")
                elif code and e.get("code") != code:
                    problems.append(f"{where}: expected code {code}, got {r!r}")
        self.assertGreater(n, 60)
        after = self.snap(a)
        if after != before:
            problems.append(f"{stage}: the application changed: {before} -> {after}")
        if problems:
            self.fail(f"{len(problems)} of {n} calls answered wrongly:\n" + "\n".join(problems))
        return actors

    def test_draft(self):
        a = self.new_app()
        self.fill(a)
        self.run_matrix("draft", a)

    def test_unit_review(self):
        self.run_matrix("unit_review", self.submitted_app())

    def test_dept_review(self):
        self.run_matrix("dept_review", self.at_dept())

    def test_committee_review(self):
        self.run_matrix("committee_review", self.at_committee())

    def test_read_only_views_show_no_actions(self):
        a = self.at_committee()
        for who in (a.unit_admin, self.dept_admin(), self.node_admin(), self.auditor()):
            j = self.get_app(who, a.app_id)
            self.assertEqual(j["actions"], [], f"{who.demo if hasattr(who, 'demo') else 'unit'} may act")
            self.assertIs(j["editable"], False)
            self.assertIs(j["withdrawable"], False)
        self.assertEqual({x["action"] for x in self.get_app(self.committee_admin(GC_G), a.app_id)["actions"]},
                         {"return", "forward"})
        self.assertEqual(self.get_app(a, a.app_id)["actions"], [])


class TestAuthorizationLists(AppFlow, ZcCase):
    NODE_LABEL = "authz_applications"

    def test_lists_show_only_what_one_may_see(self):
        a = self.at_dept()
        mine = self.new_app(a.unit_admin)          # a draft at the same unit
        other_applicant = self.new_applicant()
        other_unit = self.new_unit()

        def ids(who, q=""):
            r = who.get(f"{API}/applications{q}")
            self.assertStatus(r, 200)
            return {x["id"] for x in r.json["items"]}
        self.assertEqual(ids(a), {a.app_id})
        self.assertEqual(ids(other_applicant), set())
        self.assertIn(a.app_id, ids(a.unit_admin, "?view=all"))
        self.assertNotIn(mine.app_id, ids(a.unit_admin, "?view=all"))
        self.assertEqual(ids(other_unit, "?view=all"), set())
        self.assertEqual(ids(other_unit, "?view=queue"), set())
        self.assertIn(a.app_id, ids(self.dept_admin(), "?view=queue"))
        self.assertNotIn(a.app_id, ids(self.committee_admin(GC_G), "?view=all"))
        self.assertNotIn(a.app_id, ids(self.committee_admin(OTHER_COMMITTEE), "?view=all"))
        self.assertError(Client(self.node).get(API + "/applications"), 401, "login_required")
        # no list leaks an ID number
        for who in (a.unit_admin, self.dept_admin(), self.node_admin()):
            text = who.get(f"{API}/applications?view=all").body.decode("utf-8")
            self.assertNotIn(a.body["id_number"], text)

    def test_unknown_application_is_404_for_everyone(self):
        a = self.new_app()
        ghost = "p" + "0" * 24
        for who in (a, a.unit_admin, self.dept_admin(), self.committee_admin(GC_G), self.node_admin()):
            self.assertError(who.get(f"{API}/applications/{ghost}"), 404)
        self.assertError(a.post(f"{API}/applications/{ghost}/submit"), 404)
        self.assertError(a.put(f"{API}/applications/{ghost}/sections/work", {"data": {"experience": "x"}}), 404)
        self.assertError(a.unit_admin.post(f"{API}/applications/{ghost}/review", {"action": "return"}), 404)

    def test_csrf_is_required_for_changes(self):
        a = self.submitted_app()
        before = self.snap(a)
        r = a.unit_admin.post(f"{API}/applications/{a.app_id}/review",
                              {"action": "forward", "recommendation": "同意"}, csrf="wrong")
        self.assertRefused(r, 403, "csrf", a, before)
        r = a.request("POST", f"{API}/applications/{a.app_id}/withdraw", body={}, csrf=False,
                      headers={"X-CSRF-Token": ""})
        self.assertRefused(r, 403, "csrf", a, before)
        b = self.new_app()
        before_b = self.snap(b)
        r = b.put(f"{API}/applications/{b.app_id}/sections/work", {"data": {"experience": "跨站"}}, csrf="x")
        self.assertRefused(r, 403, "csrf", b, before_b)
        # and creating needs it too
        c = self.new_applicant()
        r = c.post(API + "/applications", {"year": this_year(), "qualification": "GC4", "specialty": "GC-JZ",
                                           "unit": a.unit_admin.cc}, csrf="x")
        self.assertError(r, 403, "csrf")
        self.assertEqual(c.get(API + "/applications").json["items"], [])
