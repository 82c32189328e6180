"""The application's answer as written by hand (applications.c): what its history shows
to whom. A reviewer's opinions travel with the move they were given with; the applicant
reads them with a return only, never with a forward (nor before it), while the reviewers
see them in every move's detail. The rest of the detail (the recommendation, the
recommending unit) reaches the applicant as well."""
from test_applications import AppFlow
from zc_test import ZcCase


class TestHistoryOpinions(AppFlow, ZcCase):
    NODE_LABEL = "answer-history"

    def forward_with_opinions(self):
        a = self.submitted_app()
        ops = {"general": "材料齐全，同意推荐", "work": "经历清楚"}
        r = self.review(a.unit_admin, a.app_id, "forward", recommendation="同意推荐", opinions=ops)
        self.assertStatus(r, 200)
        return a, ops

    def test_the_applicant_never_reads_a_forwards_opinions(self):
        a, ops = self.forward_with_opinions()
        mine = self.history_actions(self.get_app(a, a.app_id), "forward")[-1]
        self.assertNotIn("opinions", mine["detail"])
        self.assertEqual(mine["detail"]["recommendation"], "同意推荐")
        self.assertTrue(mine["detail"].get("dept"))
        theirs = self.history_actions(self.get_app(a.unit_admin, a.app_id), "forward")[-1]
        self.assertEqual(theirs["detail"]["opinions"], ops)
        self.assertEqual(theirs["detail"]["recommendation"], "同意推荐")

    def test_the_applicant_reads_a_returns_opinions(self):
        a = self.submitted_app()
        ops = {"work": "请写明起止年月"}
        self.assertStatus(self.review(a.unit_admin, a.app_id, "return", opinions=ops), 200)
        j = self.get_app(a, a.app_id)
        self.assertEqual(self.history_actions(j, "return")[-1]["detail"]["opinions"], ops)
        first = j["history"][0]
        self.assertEqual((first["action"], first["from"], first["to"]), ("create", None, "draft"))
