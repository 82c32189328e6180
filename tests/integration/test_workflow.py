"""The review workflow: returns (退回) by unit, dept and committee with per-section opinions,
the reviewers' queues and query lists, opinions, forwarding (with the unit's recommendation
to its recommending unit), incomplete units, the committee's formal review, meeting and
result, and atomicity of concurrent moves.

Every refusal is checked for its status, the Chinese error envelope, and that the
application is exactly as before (AppFlow.assertRefused)."""
import threading

from test_applications import API, DEPT, GC_G, AppFlow
from zc_test import ZcCase

DEPT2 = "650000-D02"   # a recommending unit without a demo admin
DEPT3 = "650000-D03"
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class WorkflowCase(AppFlow, ZcCase):
    NODE_LABEL = "workflow"

    def ids(self, who, query):
        r = who.get(f"{API}/applications?{query}")
        self.assertStatus(r, 200)
        return {x["id"]: x for x in r.json["items"]}

    def section(self, j, name):
        return next(s for s in j["sections"] if s["name"] == name)


# ============================================================================================
# Returns
# ============================================================================================

class TestReturned(WorkflowCase):
    def check_returned(self, a, by, stage, actor_role, opinions):
        """The applicant's view after a return: status, returned_by, opinions per section, history."""
        j = self.get_app(a, a.app_id)
        self.assertEqual(j["status"], "returned")
        self.assertEqual(j["returned_by"], by)
        self.assertTrue(j.get("returned_by_name"))
        self.assertIs(j["editable"], True)
        for section, text in opinions.items():
            mine = [o for o in self.section(j, section)["opinions"] if o["stage"] == stage]
            self.assertEqual([o["text"] for o in mine], [text], f"opinion on {section} not shown to the applicant")
            self.assertTrue(mine[0].get("author"))
        h = j["history"][-1]
        self.assertEqual(h["action"], "return")
        self.assertEqual(h["to"], "returned")
        self.assertEqual(h["actor_role"], actor_role)
        self.assertTrue(h["actor_name"])
        self.assertRegex(h["at"], RFC3339)
        return j

    def resubmit(self, a):
        self.assertStatus(self.save(a, "work", {"experience": "2008年7月—2026年6月 某公司 工程师（已补充）"}), 200)
        r = self.submit(a)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "unit_review")
        self.assertIsNone(r.json["returned_by"])
        self.assertEqual(self.history_actions(r.json, "submit")[-1]["from"], "returned")
        self.assertIn(a.app_id, self.ids(a.unit_admin, "view=queue"))
        return r.json

    def test_unit_return(self):
        a = self.submitted_app()
        ops = {"work": "请写明起止年月", "education": "学历证书复印件不清晰"}
        r = self.review(a.unit_admin, a.app_id, "return", opinions=ops)
        self.assertStatus(r, 200)
        self.assertEqual((r.json["status"], r.json["returned_by"]), ("returned", "unit"))
        j = self.check_returned(a, "unit", "unit", "unit_admin", ops)
        self.assertEqual(j["history"][-1]["actor_name"], a.unit_admin.body["contact"])
        self.assertNotIn(a.app_id, self.ids(a.unit_admin, "view=queue"))
        j = self.resubmit(a)
        self.assertEqual(j["submit_count"], 2)
        # the earlier round's opinion stays readable
        self.assertEqual([o["text"] for o in self.section(self.get_app(a, a.app_id), "work")["opinions"]],
                         ["请写明起止年月"])

    def test_dept_return(self):
        a = self.at_dept()
        ops = {"achievements": "业绩证明需加盖公章"}
        r = self.review(self.dept_admin(), a.app_id, "return", opinions=ops)
        self.assertStatus(r, 200)
        self.check_returned(a, "dept", "dept", "dept_admin", ops)
        self.assertNotIn(a.app_id, self.ids(self.dept_admin(), "view=queue"))
        self.resubmit(a)

    def test_committee_return(self):
        a = self.at_committee()
        ops = {"papers": "论文需提供检索证明", "basic": "出生日期与身份证不符"}
        r = self.review(self.committee_admin(), a.app_id, "return", opinions=ops)
        self.assertStatus(r, 200)
        self.check_returned(a, "committee", "committee", "committee_admin", ops)
        self.assertNotIn(a.app_id, self.ids(self.committee_admin(), "view=queue"))
        self.resubmit(a)

    def test_opinions_in_progress_are_not_shown_to_the_applicant(self):
        a = self.submitted_app()
        self.assertStatus(self.opinion(a.unit_admin, a.app_id, "work", "内部意见：待核实"), 200)
        j = self.get_app(a, a.app_id)
        self.assertEqual(self.section(j, "work")["opinions"], [])
        self.assertEqual(j["opinions"], [])
        # the unit sees it
        ju = self.get_app(a.unit_admin, a.app_id)
        self.assertEqual([o["text"] for o in self.section(ju, "work")["opinions"]], ["内部意见：待核实"])

    def test_return_with_bad_opinions_is_400(self):
        a = self.submitted_app()
        before = self.snap(a)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "return", opinions={"hobbies": "无此栏目"}),
                           400, "invalid_field", a, before)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "return", opinions={"work": 5}),
                           400, "invalid_field", a, before)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "return", opinions="请修改"),
                           400, "invalid_field", a, before)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "return", opinions={"work": "长" * 2001}),
                           400, "invalid_field", a, before)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "approve"), 400, "invalid_field", a, before)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "submit"), 400, "invalid_field", a, before)
        self.assertRefused(a.unit_admin.post(f"{API}/applications/{a.app_id}/review", {}), 400, "missing_field",
                           a, before)


# ============================================================================================
# Reviewers: queues, opinions, forwarding
# ============================================================================================

class TestUnitReview(WorkflowCase):
    def test_queue_has_only_what_awaits_the_unit_and_all_has_everything(self):
        u = self.new_unit()
        waiting = self.submitted_app(u)
        forwarded = self.at_dept(u)
        returned = self.submitted_app(u)
        self.assertStatus(self.review(u, returned.app_id, "return", opinions={"basic": "请核对"}), 200)
        draft = self.new_app(u)
        elsewhere = self.submitted_app()          # another unit's
        q = self.ids(u, "view=queue")
        self.assertEqual(set(q), {waiting.app_id})
        self.assertEqual(q[waiting.app_id]["status"], "unit_review")
        everything = self.ids(u, "view=all")
        self.assertEqual(set(everything), {waiting.app_id, forwarded.app_id, returned.app_id})
        self.assertEqual(everything[forwarded.app_id]["status"], "dept_review")
        self.assertEqual(everything[returned.app_id]["status"], "returned")
        self.assertEqual(everything[returned.app_id]["returned_by"], "unit")
        self.assertEqual(set(self.ids(u, "view=all&status=returned")), {returned.app_id})
        self.assertNotIn(draft.app_id, everything)
        self.assertNotIn(elsewhere.app_id, everything)
        self.assertEqual(set(self.ids(u, "")), set(everything))     # all is the default
        self.assertError(u.get(API + "/applications?view=mine"), 400)
        # list items carry what a reviewer's table shows; ID numbers only masked
        item = q[waiting.app_id]
        self.assertEqual(item["applicant_name"], waiting.body["name"])
        self.assertNotIn(waiting.body["id_number"], repr(item))
        self.assertRegex(item["applicant_id_masked"], r"^\d{4}\*+\d{3}[\dX]$")
        # read-only: what is not at the unit's stage shows no actions and cannot be moved
        j = self.get_app(u, forwarded.app_id)
        self.assertEqual(j["actions"], [])
        self.assertIs(j["editable"], False)
        before = self.snap(forwarded)
        self.assertRefused(self.review(u, forwarded.app_id, "return", opinions={"work": "x意见"}), 403,
                           "not_current_reviewer", forwarded, before)
        self.assertRefused(self.opinion(u, forwarded.app_id, "work", "迟到的意见"), 403, "not_current_reviewer",
                           forwarded, before)
        # what is at the unit's stage shows the unit's actions
        acts = {x["action"] for x in self.get_app(u, waiting.app_id)["actions"]}
        self.assertEqual(acts, {"return", "forward"})

    def test_opinion_per_section(self):
        a = self.submitted_app()
        u = a.unit_admin
        r = self.opinion(u, a.app_id, "education", "学历证书需原件核验")
        self.assertStatus(r, 200)
        ops = [o for o in self.section(r.json, "education")["opinions"] if o["stage"] == "unit"]
        self.assertEqual([o["text"] for o in ops], ["学历证书需原件核验"])
        self.assertStatus(self.opinion(u, a.app_id, "education", "已核验"), 200)        # replaces
        self.assertStatus(self.opinion(u, a.app_id, "general", "总体符合条件"), 200)
        j = self.get_app(u, a.app_id)
        self.assertEqual([o["text"] for o in self.section(j, "education")["opinions"]], ["已核验"])
        self.assertIn("总体符合条件", [o["text"] for o in j["opinions"]])
        before = self.snap(a)
        self.assertRefused(self.opinion(u, a.app_id, "hobbies", "无"), 404, None, a, before)
        self.assertRefused(self.opinion(u, a.app_id, "work", "长" * 2001), 400, "invalid_field", a, before)
        self.assertRefused(u.put(f"{API}/applications/{a.app_id}/opinions/work", {"text": 7}), 400, None, a, before)

    def test_empty_opinion_clears_it(self):
        a = self.submitted_app()
        u = a.unit_admin
        self.assertStatus(self.opinion(u, a.app_id, "education", "学历证书需原件核验"), 200)
        self.assertStatus(self.opinion(u, a.app_id, "work", "工作经历属实"), 200)
        r = self.opinion(u, a.app_id, "education", "")
        self.assertStatus(r, 200)
        self.assertEqual(self.section(r.json, "education")["opinions"], [], "an empty opinion did not clear it")
        j = self.get_app(u, a.app_id)
        self.assertEqual(self.section(j, "education")["opinions"], [])
        self.assertEqual([o["text"] for o in self.section(j, "work")["opinions"]], ["工作经历属实"])

    def test_forward_requires_the_recommendation(self):
        a = self.submitted_app()
        before = self.snap(a)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "forward"), 400, "missing_field", a, before,
                           field="recommendation")
        self.assertRefused(self.review(a.unit_admin, a.app_id, "forward", recommendation=""), 400, "missing_field",
                           a, before, field="recommendation")
        self.assertRefused(self.review(a.unit_admin, a.app_id, "forward", recommendation="荐" * 2001), 400,
                           "invalid_field", a, before, field="recommendation")

    def test_forward_goes_to_the_first_recommending_unit(self):
        u = self.new_unit(depts=(DEPT, DEPT2))
        a = self.submitted_app(u)
        r = self.review(u, a.app_id, "forward", recommendation="该同志业绩突出，同意推荐。",
                        opinions={"achievements": "业绩属实"})
        self.assertStatus(r, 200)
        j = r.json
        self.assertEqual(j["status"], "dept_review")
        self.assertEqual(j["dept"]["id"], DEPT)
        self.assertEqual(j["recommendation"], "该同志业绩突出，同意推荐。")
        h = self.history_actions(j, "forward")
        self.assertEqual(len(h), 1)
        self.assertEqual(h[0]["detail"]["dept"], DEPT)
        self.assertEqual(h[0]["detail"]["recommendation"], "该同志业绩突出，同意推荐。")
        self.assertEqual((h[0]["from"], h[0]["to"]), ("unit_review", "dept_review"))
        self.assertIn(a.app_id, self.ids(self.dept_admin(), "view=queue"))
        self.assertEqual(self.get_app(self.dept_admin(), a.app_id)["recommendation"], "该同志业绩突出，同意推荐。")
        # the applicant sees the new status, not the unit's unreturned opinion
        ja = self.get_app(a, a.app_id)
        self.assertEqual(ja["status"], "dept_review")

    def test_forward_to_a_chosen_recommending_unit(self):
        u = self.new_unit(depts=(DEPT2, DEPT))
        a = self.submitted_app(u)
        before = self.snap(a)
        self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意", dept=DEPT3), 400,
                           "invalid_field", a, before, field="dept")
        self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意", dept="650000-D99"), 400,
                           "invalid_field", a, before, field="dept")
        r = self.review(u, a.app_id, "forward", recommendation="同意", dept=DEPT)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["dept"]["id"], DEPT)
        self.assertIn(a.app_id, self.ids(self.dept_admin(), "view=queue"))

    def test_changing_recommenders_mid_review_affects_the_next_forward(self):
        u = self.new_unit(depts=(DEPT,))
        a1 = self.submitted_app(u)
        a2 = self.submitted_app(u)
        self.assertEqual(self.review(u, a1.app_id, "forward", recommendation="同意").json["dept"]["id"], DEPT)
        self.assertStatus(u.put(API + "/units/me/recommenders", {"depts": [DEPT2]}), 200)
        r = self.review(u, a2.app_id, "forward", recommendation="同意")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["dept"]["id"], DEPT2)
        dq = self.ids(self.dept_admin(), "view=queue")
        self.assertIn(a1.app_id, dq)
        self.assertNotIn(a2.app_id, dq)
        self.assertError(self.dept_admin().get(f"{API}/applications/{a2.app_id}"), 404)
        # the old recommender may no longer be chosen
        a3 = self.submitted_app(u)
        before = self.snap(a3)
        self.assertRefused(self.review(u, a3.app_id, "forward", recommendation="同意", dept=DEPT), 400,
                           "invalid_field", a3, before, field="dept")

    def test_incomplete_unit_cannot_review(self):
        u = self.new_unit(complete=False)
        a = self.submitted_app(u)
        missing = u.get(API + "/units/me").json["unit"]["missing"]
        self.assertTrue(missing)
        before = self.snap(a)
        e = self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意"), 409, "unit_incomplete",
                               a, before)
        self.assertEqual(sorted(e.get("missing") or []), sorted(missing))
        for label in ("单位地址", "法定代表人", "所属行业"):
            self.assertIn(label, e["message"])
        self.assertRefused(self.review(u, a.app_id, "return", opinions={"work": "请修改"}), 409, "unit_incomplete",
                           a, before)
        self.assertRefused(self.opinion(u, a.app_id, "work", "请修改"), 409, "unit_incomplete", a, before)
        self.assertIs(self.get_app(a, a.app_id)["withdrawable"], True)
        # once complete, it reviews
        self.assertStatus(u.put(API + "/units/me", self.unit_info()), 200)
        self.assertStatus(self.review(u, a.app_id, "forward", recommendation="同意"), 200)

    def test_unit_without_recommenders_cannot_forward(self):
        u = self.new_unit(depts=None)
        a = self.submitted_app(u)
        before = self.snap(a)
        self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意"), 409, "no_recommender",
                           a, before)


class TestDeptAndCommittee(WorkflowCase):
    def test_dept_queue_all_and_forward(self):
        d = self.dept_admin()
        a = self.at_dept()
        other = self.submitted_app()            # still at its unit
        self.assertIn(a.app_id, self.ids(d, "view=queue"))
        self.assertNotIn(other.app_id, self.ids(d, "view=all"))
        self.assertError(d.get(f"{API}/applications/{other.app_id}"), 404)
        self.assertEqual({x["action"] for x in self.get_app(d, a.app_id)["actions"]}, {"return", "forward"})
        self.assertStatus(self.opinion(d, a.app_id, "awards", "获奖证书需核验"), 200)
        r = self.review(d, a.app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "committee_review")
        h = self.history_actions(r.json, "forward")[-1]
        self.assertEqual((h["from"], h["to"], h["actor_role"]), ("dept_review", "committee_review", "dept_admin"))
        self.assertEqual(h["detail"]["committee"], GC_G)
        self.assertNotIn(a.app_id, self.ids(d, "view=queue"))
        alls = self.ids(d, "view=all")
        self.assertEqual(alls[a.app_id]["status"], "committee_review")
        j = self.get_app(d, a.app_id)                   # still readable, read-only
        self.assertEqual(j["actions"], [])
        before = self.snap(a)
        self.assertRefused(self.review(d, a.app_id, "return", opinions={"work": "晚了"}), 403,
                           "not_current_reviewer", a, before)
        self.assertIn(a.app_id, self.ids(self.committee_admin(), "view=queue"))

    def test_committee_formal_review_meeting_and_pass(self):
        c = self.committee_admin()
        a = self.at_committee()
        before = self.snap(a)
        self.assertRefused(self.review(c, a.app_id, "pass"), 409, "invalid_action", a, before)
        self.assertRefused(self.review(c, a.app_id, "meeting"), 409, "invalid_action", a, before)
        r = self.review(c, a.app_id, "forward", opinions={"general": "形式审查合格"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "formal_passed")
        self.assertIn(a.app_id, self.ids(c, "view=queue"))
        before = self.snap(a)
        self.assertRefused(self.review(c, a.app_id, "return", opinions={"work": "x改"}), 409, "invalid_action",
                           a, before)
        self.assertRefused(self.review(c, a.app_id, "pass"), 409, "invalid_action", a, before)
        r = self.review(c, a.app_id, "meeting")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "meeting")
        self.assertEqual({x["action"] for x in r.json["actions"]}, {"pass", "fail"})
        r = self.review(c, a.app_id, "pass")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "passed")
        self.assertEqual(r.json["actions"], [])
        j = self.get_app(a, a.app_id)
        self.assertEqual(j["status"], "passed")
        self.assertEqual([h["action"] for h in j["history"]],
                         ["create", "submit", "forward", "forward", "forward", "meeting", "pass"])
        self.assertEqual([h["to"] for h in j["history"]][1:],
                         ["unit_review", "dept_review", "committee_review", "formal_passed", "meeting", "passed"])
        # everyone it reached still reads it
        for who in (a.unit_admin, self.dept_admin(), c):
            self.assertEqual(self.get_app(who, a.app_id)["status"], "passed")
        before = self.snap(a)
        # passed is no stage of the committee's any more: it reads, it does not act
        self.assertRefused(self.review(c, a.app_id, "fail"), 403, "not_current_reviewer", a, before)

    def test_committee_fail(self):
        c = self.committee_admin()
        a = self.at_committee()
        self.assertStatus(self.review(c, a.app_id, "forward"), 200)
        self.assertStatus(self.review(c, a.app_id, "meeting"), 200)
        r = self.review(c, a.app_id, "fail", opinions={"general": "业绩不足"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "failed")
        self.assertEqual(self.get_app(a, a.app_id)["status"], "failed")

    def test_other_committee_cannot_touch_it(self):
        a = self.at_committee()
        other = self.committee_admin("650000-JJ-G")
        before = self.snap(a)
        self.assertRefused(self.review(other, a.app_id, "forward"), 404, None, a, before)
        self.assertRefused(self.opinion(other, a.app_id, "work", "越权"), 404, None, a, before)
        self.assertNotIn(a.app_id, self.ids(other, "view=all"))
        self.assertNotIn(a.app_id, self.ids(other, "view=queue"))


# ============================================================================================
# Atomicity
# ============================================================================================

class TestAtomicity(WorkflowCase):
    N = 10

    def fire(self, fn):
        barrier = threading.Barrier(self.N)
        out = [None] * self.N

        def run(i):
            try:
                barrier.wait(10)
                out[i] = fn()
            except Exception as e:      # a dropped connection is a result too
                out[i] = e
        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return out

    def check(self, out, loser_codes):
        bad = [r for r in out if isinstance(r, Exception)]
        self.assertEqual(bad, [], "requests failed at the transport")
        statuses = sorted(r.status for r in out)
        self.assertEqual(statuses.count(200), 1, f"not exactly one success: {statuses} {out!r}")
        for r in out:
            if r.status != 200:
                self.assertIn(r.status, (403, 409), r)
                self.assertError(r, r.status)
                self.assertIn(r.code, loser_codes, r)

    # These check what clients see when they race; they cannot exercise the UPDATE's guard:
    # one node runs each request's read and write inside one BEGIN IMMEDIATE transaction on
    # one event loop, so two moves never interleave here. The guard (status, revision,
    # holder) is proved where a write does come between the read and the UPDATE:
    # tests/unit/test_router.c, test_workflow_move_refuses_a_stale_read.
    def test_concurrent_forward_happens_once(self):
        a = self.submitted_app()
        u = a.unit_admin
        out = self.fire(lambda: self.review(u, a.app_id, "forward", recommendation="同意推荐"))
        self.check(out, ("state_changed", "invalid_action", "not_current_reviewer"))
        j = self.get_app(a, a.app_id)
        self.assertEqual(j["status"], "dept_review")
        self.assertEqual(len(self.history_actions(j, "forward")), 1, j["history"])

    def test_concurrent_submit_happens_once(self):
        a = self.new_app()
        self.fill(a)
        out = self.fire(lambda: self.submit(a))
        self.check(out, ("state_changed", "invalid_action"))
        j = self.get_app(a, a.app_id)
        self.assertEqual(j["status"], "unit_review")
        self.assertEqual(j["submit_count"], 1)
        self.assertEqual(len(self.history_actions(j, "submit")), 1, j["history"])

    def test_concurrent_return_and_forward(self):
        a = self.submitted_app()
        u = a.unit_admin
        flip = [0]
        lock = threading.Lock()

        def one():
            with lock:
                flip[0] += 1
                k = flip[0]
            if k % 2:
                return self.review(u, a.app_id, "forward", recommendation="同意")
            return self.review(u, a.app_id, "return", opinions={"work": "请补充"})
        out = self.fire(one)
        self.check(out, ("state_changed", "invalid_action", "not_current_reviewer"))
        j = self.get_app(a, a.app_id)
        moves = self.history_actions(j, "forward") + self.history_actions(j, "return")
        self.assertEqual(len(moves), 1, j["history"])
        self.assertEqual(j["status"], moves[0]["to"])
