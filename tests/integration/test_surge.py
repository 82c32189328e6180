"""The deadline surge's hot path (issue 6): what a section save answers and what it stores,
now that sqlite merges the saved fields (json_patch) and finds what a section lacks in the
stored JSON (json_extract), and the request log that is written once per turn of the event
loop instead of once per answer.

Each test has its own applicant and application on the shared "applications" node.
"""
import os
import re
import sqlite3
import time

from test_applications import API, SECTIONS, AppFlow, filled_sections
from zc_test import Node, ZcCase

LABELS = {"basic.position": "现任职务/岗位", "basic.name": "姓名", "education.degree": "最高学历",
          "work.experience": "工作经历（起止时间、单位、职务）", "achievements.summary": "任现职以来专业技术工作业绩",
          "training.hours": "继续教育学时", "assessment.year2": "近三年年度考核（第二年）"}


class SurgeCase(AppFlow, ZcCase):
    NODE_LABEL = "applications"

    def sections(self, j):
        self.assertEqual([s["name"] for s in j["sections"]], SECTIONS, "sections out of table order")
        return {s["name"]: s for s in j["sections"]}

    def missing(self, j):
        return {name: s["missing"] for name, s in self.sections(j).items()}


class TestMissing(SurgeCase):
    def test_never_saved_sections_lack_their_first_required_field(self):
        a = self.new_app()
        m = self.missing(self.get_app(a, a.app_id))
        self.assertEqual(m["education"], LABELS["education.degree"])
        self.assertEqual(m["work"], LABELS["work.experience"])
        self.assertEqual(m["training"], LABELS["training.hours"])
        self.assertEqual(m["papers"], "", "a section without required fields lacks nothing")
        self.assertEqual(m["awards"], "")
        # basic was created from the account (name, gender, birth date, phone): the next
        # required field is what it lacks
        self.assertEqual(m["basic"], "民族")

    def test_missing_follows_every_save_in_the_answer_and_in_get(self):
        a = self.new_app()
        full = filled_sections(a.body["name"])
        for name, data in full.items():
            self.assertStatus(self.save(a, name, data), 200)
        j = self.get_app(a, a.app_id)
        self.assertEqual(set(self.missing(j).values()), {""}, j)
        # an empty string is not filled; the answer to the save says so at once
        r = self.save(a, "basic", {"position": ""})
        self.assertStatus(r, 200)
        self.assertEqual(self.missing(r.json)["basic"], LABELS["basic.position"])
        self.assertEqual(self.missing(self.get_app(a, a.app_id))["basic"], LABELS["basic.position"])
        # the first required field in the table's order is named, not any other
        r = self.save(a, "assessment", {"year2": "", "year3": ""})
        self.assertEqual(self.missing(r.json)["assessment"], LABELS["assessment.year2"])
        # a number 0 is a value: filled
        r = self.save(a, "training", {"hours": 0})
        self.assertStatus(r, 200)
        self.assertEqual(self.missing(r.json)["training"], "")
        self.assertEqual(self.sections(r.json)["training"]["data"]["hours"], 0)
        # filled again: nothing lacking there any more
        r = self.save(a, "basic", {"position": "主任"})
        self.assertEqual(self.missing(r.json)["basic"], "")

    def test_submit_names_the_same_first_section_and_field(self):
        a = self.new_app()
        self.fill(a)
        self.assertStatus(self.save(a, "work", {"experience": ""}), 200)
        self.assertStatus(self.save(a, "training", {"hours": ""}), 200)
        before = self.snap(a)
        e = self.assertRefused(self.submit(a), 409, "incomplete", a, before)
        self.assertEqual((e.get("section"), e.get("field"), e.get("label")),
                         ("work", "experience", LABELS["work.experience"]))
        self.assertEqual(self.missing(self.get_app(a, a.app_id))["work"], e["label"])
        self.assertStatus(self.save(a, "work", filled_sections(a.body["name"])["work"]), 200)
        e = self.assertRefused(self.submit(a), 409, "incomplete", a, self.snap(a))
        self.assertEqual((e.get("section"), e.get("field")), ("training", "hours"))
        self.assertStatus(self.save(a, "training", {"hours": 8}), 200)
        self.assertStatus(self.submit(a), 200)



class TestMissingStored(SurgeCase):
    """What a section lacks is stored when it is saved (application_sections.missing), and
    forgotten when its data changes by any other statement, or when the stored values were
    found by another field table than the node's: then it is found in the data again. On a
    node of its own, stopped and started again with its data edited in between."""

    @classmethod
    def setUpClass(cls):
        cls.node = Node("surge-missing").start()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def edit_db(self, *statements):
        self.node.halt()
        try:
            db = sqlite3.connect(os.path.join(self.node.data, "node.db"))
            with db:
                for sql, args in statements:
                    db.execute(sql, args)
            db.close()
        finally:
            self.node.resume()

    def test_data_changed_elsewhere_is_looked_at_again(self):
        a = self.new_app()
        self.fill(a)
        self.assertEqual(self.missing(self.get_app(a, a.app_id))["work"], "")
        # another statement empties the saved data: the stored "nothing lacking" is forgotten
        self.edit_db(("UPDATE application_sections SET data_json = '{}' WHERE application_id = ? AND section = 'work'",
                      (a.app_id,)))
        self.assertEqual(self.missing(self.get_app(a, a.app_id))["work"], LABELS["work.experience"])
        self.assertStatus(self.save(a, "work", {"experience": "2001年至今在某设计院工作"}), 200)
        self.assertEqual(self.missing(self.get_app(a, a.app_id))["work"], "")

    def test_values_stored_under_another_field_table_are_not_trusted(self):
        a = self.new_app()
        self.fill(a)
        # as if stored by a version whose table had another required field
        self.edit_db(("UPDATE application_sections SET missing = 'experience' WHERE application_id = ?"
                      " AND section = 'work'", (a.app_id,)),
                     ("UPDATE section_missing_rule SET rule = 'an older rule'", ()))
        m = self.missing(self.get_app(a, a.app_id))
        self.assertEqual(set(m.values()), {""}, m)
        self.assertStatus(self.submit(a), 200)


class TestMerge(SurgeCase):
    def test_saved_fields_keep_their_place_and_new_ones_follow(self):
        a = self.new_app()
        self.assertStatus(self.save(a, "basic", {"gender": "女", "birth_date": "1988-02-29"}), 200)
        r = self.save(a, "basic", {"ethnicity": "回族", "gender": "男"})
        self.assertStatus(r, 200)
        d = self.sections(r.json)["basic"]["data"]
        self.assertEqual(list(d), ["name", "gender", "birth_date", "phone", "ethnicity"])
        self.assertEqual((d["gender"], d["birth_date"], d["ethnicity"]), ("男", "1988-02-29", "回族"))
        self.assertEqual(self.sections(self.get_app(a, a.app_id))["basic"]["data"], d)

    def test_an_empty_value_is_kept_not_dropped(self):
        a = self.new_app()
        self.assertStatus(self.save(a, "basic", {"political": "群众"}), 200)
        r = self.save(a, "basic", {"political": ""})
        d = self.sections(r.json)["basic"]["data"]
        self.assertIn("political", d)
        self.assertEqual(d["political"], "")
        r = self.save(a, "basic", {"political": None})  # null clears a field, it never removes it
        self.assertEqual(self.sections(r.json)["basic"]["data"].get("political"), "")

    def test_text_round_trips_exactly(self):
        a = self.new_app()
        texts = ['引号"与反斜杠\\，换行\n与制表\t', "emoji 🏗️ 与 \u2028 行分隔", "</script><b>不是标签</b>", "x" * 4000]
        for t in texts:
            r = self.save(a, "work", {"experience": t})
            self.assertStatus(r, 200)
            self.assertEqual(self.sections(r.json)["work"]["data"]["experience"], t)
            self.assertEqual(self.sections(self.get_app(a, a.app_id))["work"]["data"]["experience"], t)


class TestRequestLog(SurgeCase):
    def log_line(self, path, status, deadline_s=5.0):
        """The log line of the request to path, waiting briefly: lines are written once per
        turn of the event loop, right after the answers of that turn."""
        pat = re.compile(r"^(\S+) (\S+) (\S+) " + re.escape(path) + r" (\d{3}) (\d+)B (\d+\.\d\d)ms$", re.M)
        end = time.monotonic() + deadline_s
        while True:
            hits = [m for m in pat.finditer(self.node.log_text()) if int(m.group(4)) == status]
            if hits or time.monotonic() > end:
                return hits
            time.sleep(0.05)

    def test_each_answer_is_logged_promptly_with_peer_size_and_time(self):
        a = self.new_app()
        r = self.save(a, "work", {"experience": "日志检查"})
        self.assertStatus(r, 200)
        t0 = time.monotonic()
        hits = self.log_line(f"{API}/applications/{a.app_id}/sections/work", 200, deadline_s=2.0)
        self.assertEqual(len(hits), 1, "the save was not logged within 2 s")
        self.assertLess(time.monotonic() - t0, 1.0, "the log line came late: is the log flushed every turn?")
        m = hits[0]
        self.assertRegex(m.group(1), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(m.group(2), "127.0.0.1", "the peer is the client's address")
        self.assertEqual(m.group(3), "PUT")
        self.assertGreater(int(m.group(5)), 1000, "the size is the answer's")
        # a refusal is logged too, with its status
        before = self.snap(a)
        self.assertRefused(self.save(a, "hobbies", {"x": "y"}), 404, None, a, before)
        self.assertEqual(len(self.log_line(f"{API}/applications/{a.app_id}/sections/hobbies", 404)), 1)
