"""What requests may carry (issue 6): the JSON Content-Type exactly, the Origin compared by
scheme, host and port, one text check for every string of every body (NUL, control
characters, noncharacters refused 400 invalid_field; newline and tab only in multi-line
text), unit names compared and stored in one normal form (invisible characters cannot
make a second unit of the same name), downloads as attachments with a safe file name, and
no forward to a recommending unit of another node (nobody here could act on it then).

Every refusal is checked for its status, the Chinese error envelope, and that nothing
changed."""
import http.client
import json
import re
import sqlite3
import urllib.parse

from test_applications import API, DEPT, AppFlow
from zc_test import PDF, PNG, ZcCase, credit_code, unit_names

DEPT_OTHER = "650100-D01"   # a recommending unit of Urumqi's node (乌鲁木齐市)
DEPT2 = "650000-D02"
BAD = {"NUL": "\u0000", "SOH": "\u0001", "DEL": "\u007f", "NEL": "\u0085", "U+FFFF": "\uffff", "U+FDD0": "\ufdd0"}


def post_raw(node, path, body, headers):
    """A POST with exactly these headers (Host included when given) and body bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


# ============================================================================================
# Content-Type and Origin
# ============================================================================================

class TestContentType(ZcCase):
    # a unit registration with a bad credit code: 400 when the body is read, nothing created
    BODY = json.dumps({"credit_code": "bad"}).encode()

    def send(self, ctype):
        return post_raw(self.node, API + "/units", self.BODY, {"Content-Type": ctype})

    def test_json_and_a_utf8_charset_are_read(self):
        for ctype in ("application/json", "Application/JSON", "application/json; charset=utf-8",
                      "application/json;charset=UTF-8", 'application/json; charset="utf-8"'):
            status, j = self.send(ctype)
            self.assertEqual((status, j["error"]["code"]), (400, "invalid_credit_code"), ctype)

    def test_look_alike_types_are_415(self):
        for ctype in ("application/jsonx", "application/json-patch+json", "application/json5",
                      "application/json; charset=latin1", "application/json; foo=bar", "application/json;",
                      "text/plain", "application/x-www-form-urlencoded", ""):
            status, j = self.send(ctype)
            self.assertEqual((status, j["error"]["code"]), (415, "unsupported_type"), ctype)


class TestOrigin(ZcCase):
    BODY = json.dumps({"credit_code": "bad"}).encode()

    def send(self, origin, host=None):
        h = {"Content-Type": "application/json", "Origin": origin}
        if host is not None:
            h["Host"] = host
        return post_raw(self.node, API + "/units", self.BODY, h)

    def assertSame(self, origin, host=None):
        status, j = self.send(origin, host)
        self.assertEqual((status, j["error"]["code"]), (400, "invalid_credit_code"), (origin, host))

    def assertCross(self, origin, host=None):
        status, j = self.send(origin, host)
        self.assertEqual((status, j["error"]["code"]), (403, "cross_origin"), (origin, host))
        self.assertRegex(j["error"]["message"], "[\u4e00-\u9fff]")

    def test_own_origin_is_accepted(self):
        p = self.node.port
        self.assertSame(f"http://127.0.0.1:{p}")
        self.assertSame(f"HTTP://127.0.0.1:{p}")
        self.assertSame(f"http://Portal.Example:{p}", f"portal.example:{p}")  # host without regard to case
        self.assertSame("http://portal.example", "portal.example:80")        # the default port
        self.assertSame("http://portal.example:80", "portal.example")

    def test_another_scheme_is_cross_origin(self):
        p = self.node.port
        self.assertCross(f"https://127.0.0.1:{p}")
        self.assertCross(f"ws://127.0.0.1:{p}")
        self.assertCross("https://portal.example", "portal.example")

    def test_other_hosts_ports_and_null_are_cross_origin(self):
        p = self.node.port
        self.assertCross("null")
        self.assertCross(f"http://127.0.0.2:{p}")
        self.assertCross(f"http://127.0.0.1:{p + 1}")
        self.assertCross(f"http://127.0.0.1:{p}@evil.example")
        self.assertCross(f"http://127.0.0.1:{p}/")
        self.assertCross("http://portal.example:8080", "portal.example")
        self.assertCross("http://evil.example", "portal.example")


# ============================================================================================
# One text check for every string of every body
# ============================================================================================

class TextCase(AppFlow, ZcCase):
    NODE_LABEL = "hardening"

    def assertBad(self, r, field=None):
        return self.assertError(r, 400, "invalid_field", field)


class TestRegistrationText(TextCase):
    def test_applicant_fields(self):
        for key in ("name", "phone", "id_number", "password"):
            for what, ch in BAD.items():
                body = self.applicant_body()
                name = body["name"]
                body[key] = body[key][:2] + ch + body[key][2:]
                r = self.client().post(API + "/accounts", body)
                self.assertBad(r, key)
                self.assertEqual(self.admin_lists(name), [], f"{key} with {what} created an account")

    def test_unit_fields(self):
        for key in ("name", "short_name", "contact", "phone", "credit_code"):
            for what, ch in BAD.items():
                body = self.unit_body()
                name = body["name"]
                body[key] = body[key][:2] + ch + body[key][2:]
                r = self.client().post(API + "/units", body)
                self.assertIn(r.status, (400,), f"{key} with {what}: {r!r}")
                self.assertIn(r.code, ("invalid_field", "invalid_credit_code"), f"{key} with {what}: {r!r}")
                self.assertEqual(self.units_named(name), [], f"{key} with {what} created a unit")

    def test_a_newline_in_a_one_line_field_is_400(self):
        body = self.applicant_body()
        body["name"] = body["name"][:1] + "\n" + body["name"][1:]
        self.assertBad(self.client().post(API + "/accounts", body), "name")
        u = self.new_unit()
        for key in ("address", "industry", "email"):
            self.assertBad(u.put(API + "/units/me", {key: "乌鲁木齐\t人民路"}), key)

    def test_a_nul_in_a_chosen_recommending_unit_is_400(self):
        u = self.new_unit(depts=(DEPT2,))
        r = u.put(API + "/units/me/recommenders", {"depts": [DEPT + "\u0000x"]})
        self.assertBad(r, "depts")
        self.assertEqual([d["id"] for d in u.get(API + "/units/me").json["unit"]["recommenders"]], [DEPT2])

    def test_unit_info_fields(self):
        u = self.new_unit()
        before = u.get(API + "/units/me").json
        for key in ("address", "legal_person", "contact", "phone", "industry", "email", "postcode"):
            for what, ch in BAD.items():
                self.assertBad(u.put(API + "/units/me", {key: "乌鲁木齐" + ch + "人民路"}), key)
        self.assertEqual(u.get(API + "/units/me").json, before)


class TestReviewText(TextCase):
    def test_nul_and_controls_in_the_recommendation_are_400(self):
        a = self.submitted_app()
        before = self.snap(a)
        for what, ch in BAD.items():
            r = self.review(a.unit_admin, a.app_id, "forward", recommendation="同意推荐" + ch + "（后缀）")
            self.assertRefused(r, 400, "invalid_field", a, before, field="recommendation")

    def test_nul_in_the_dept_is_400(self):
        a = self.submitted_app()
        before = self.snap(a)
        for dept in (DEPT + "\u0000x", DEPT + "\t", DEPT + "\n", DEPT + "\u0085"):
            r = self.review(a.unit_admin, a.app_id, "forward", recommendation="同意推荐", dept=dept)
            self.assertRefused(r, 400, "invalid_field", a, before, field="dept")

    def test_nul_and_controls_in_opinions_are_400(self):
        a = self.submitted_app()
        before = self.snap(a)
        for what, ch in BAD.items():
            r = self.review(a.unit_admin, a.app_id, "return", opinions={"work": "经历不全" + ch + "请补充"})
            self.assertRefused(r, 400, "invalid_field", a, before, field="opinions")
            r = self.opinion(a.unit_admin, a.app_id, "work", "经历不全" + ch + "请补充")
            self.assertRefused(r, 400, "invalid_field", a, before, field="text")

    def test_multi_line_text_keeps_newlines_and_tabs(self):
        a = self.submitted_app()
        text = "第一行\n第二行\t（附注）\r\n第三行"
        self.assertStatus(self.opinion(a.unit_admin, a.app_id, "work", text), 200)
        r = self.review(a.unit_admin, a.app_id, "forward", recommendation="同意\n推荐", opinions={"general": text})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["recommendation"], "同意\n推荐")
        h = self.history_actions(r.json, "forward")[-1]
        self.assertEqual(h["detail"]["opinions"]["general"], text)

    def test_a_nul_in_a_member_name_is_400(self):
        a = self.submitted_app()
        before = self.snap(a)
        # jansson itself refuses a NUL in a member name; other controls are ours to refuse
        for raw, code in ((b'{"action":"return","opinions":{"wo\\u0000rk":"x"}}', "bad_json"),
                          (b'{"action":"return","opinions":{"wo\\u0001rk":"x"}}', "invalid_field"),
                          (b'{"action":"return","x\\u007f":1}', "invalid_field")):
            r = a.unit_admin.post(f"{API}/applications/{a.app_id}/review", raw, ctype="application/json")
            self.assertRefused(r, 400, code, a, before)

    def test_a_lone_surrogate_is_400(self):
        a = self.submitted_app()
        before = self.snap(a)
        for raw in (b'{"text":"\\ud800"}', b'{"text":"a\\udc00b"}', b'{"text":"\xed\xa0\x80"}'):
            r = a.unit_admin.put(f"{API}/applications/{a.app_id}/opinions/work", raw, ctype="application/json")
            self.assertRefused(r, 400, "bad_json", a, before)


class TestSectionText(TextCase):
    def test_every_kind_of_section_field(self):
        a = self.new_app()
        self.fill(a)
        before = self.snap(a)
        for section, key in (("basic", "name"), ("basic", "gender"), ("basic", "birth_date"),
                             ("work", "experience"), ("assessment", "year1"), ("papers", "count")):
            good = {"gender": "男", "year1": "优秀", "birth_date": "1985-03-14", "count": "1"}.get(key, "某某内容")
            for what, ch in BAD.items():
                r = self.save(a, section, {key: good + ch})
                self.assertRefused(r, 400, "invalid_field", a, before)

    def test_a_nul_after_a_valid_choice_is_400(self):
        a = self.new_app()
        before = self.snap(a)
        r = self.save(a, "basic", {"gender": "男\u0000女"})
        self.assertRefused(r, 400, "invalid_field", a, before)
        self.assertStatus(self.save(a, "work", {"experience": "一\n二\t三"}), 200)
        self.assertBad(self.save(a, "basic", {"position": "一\n二"}), "position")


class TestCommitteeText(TextCase):
    def test_paper_rules_are_multi_line_and_other_fields_one_line(self):
        adm = self.node_admin()
        cid = "650000-GC-G"
        self.restore_committee_later(cid)
        self.assertStatus(adm.put(f"{API}/committees/{cid}", {"paper_rules": "一、材料一式三份\n二、装订成册"}), 200)
        self.assertBad(adm.put(f"{API}/committees/{cid}", {"paper_rules": "一\u0000二"}), "paper_rules")
        self.assertBad(adm.put(f"{API}/committees/{cid}", {"address": "一\n二"}), "address")


# ============================================================================================
# Unit names: one normal form
# ============================================================================================

VARIANTS_SAME = {
    "ZWSP": lambda n: n[:2] + "\u200b" + n[2:],
    "ZWJ": lambda n: n[:2] + "\u200d" + n[2:],
    "WORD JOINER": lambda n: n[:2] + "\u2060" + n[2:],
    "BOM": lambda n: "\ufeff" + n,
    "SOFT HYPHEN": lambda n: n[:2] + "\u00ad" + n[2:],
    "trailing NBSP": lambda n: n + "\u00a0",
    "ideographic space": lambda n: "\u3000" + n,
    "tag characters": lambda n: n + "\U000e0041\U000e007f",
    "variation selector": lambda n: n[:2] + "\ufe0f" + n[2:],
    "VS17": lambda n: n[:2] + "\U000e0100" + n[2:],
}
VARIANTS_REFUSED = {
    "RLO": lambda n: n[:2] + "\u202e" + n[2:],
    "LRI": lambda n: n[:2] + "\u2066" + n[2:] + "\u2069",
    "RLM": lambda n: n + "\u200f",
    "combining acute": lambda n: n[:2] + "\u0301" + n[2:],
    "combining enclosing circle": lambda n: n + "\u20dd",
}


class TestUnitNames(TextCase):
    def test_invisible_variants_of_a_full_name_are_the_same_name(self):
        u = self.new_unit_admin()
        name = u.unit["name"]
        for what, f in VARIANTS_SAME.items():
            short = unit_names()[1]
            r = self.client().post(API + "/units", self.unit_body(name=f(name), short_name=short))
            self.assertError(r, 409, "unit_exists", "name")
            self.assertEqual(self.units_named(short), [], what)

    def test_invisible_variants_of_a_short_name_are_the_same_name(self):
        u = self.new_unit_admin()
        short = u.unit["short_name"]
        for what, f in VARIANTS_SAME.items():
            r = self.client().post(API + "/units", self.unit_body(short_name=f(short)))
            self.assertError(r, 409, "unit_exists", "short_name")

    def test_bidi_controls_and_stray_marks_are_400(self):
        u = self.new_unit_admin()
        for what, f in VARIANTS_REFUSED.items():
            body = self.unit_body(name=f(unit_names()[0]))
            e = self.assertError(self.client().post(API + "/units", body), 400, "invalid_field", "name")
            self.assertIn("单位全称", e["message"], what)
            body = self.unit_body(short_name=f(unit_names()[1]))
            self.assertError(self.client().post(API + "/units", body), 400, "invalid_field", "short_name")
            self.assertError(u.post(API + "/units/me/rename", {"name": f(unit_names()[0])}), 400,
                             "invalid_field", "name")

    def test_the_name_is_stored_in_its_normal_form(self):
        name, short = unit_names()
        c = self.client()
        r = c.post(API + "/units", self.unit_body(name="\ufeff" + name[:2] + "\u200b" + name[2:] + "\u00a0",
                                                  short_name="\uff21" + short))
        self.assertStatus(r, 201)
        self.assertEqual(r.json["unit"]["name"], name)
        self.assertEqual(r.json["unit"]["short_name"], "A" + short)   # NFKC: fullwidth A is A

    def test_a_search_with_invisible_characters_finds_the_unit(self):
        u = self.new_unit_admin()
        name = u.unit["name"]
        found = self.units_named(name[:2] + "\u200b" + name[2:4] + "\u00a0")
        self.assertIn(u.unit["id"], [x["id"] for x in found])

    def test_rename_to_an_invisible_variant_of_another_unit_is_409(self):
        other = self.new_unit_admin()
        u = self.new_unit_admin()
        for what, f in VARIANTS_SAME.items():
            r = u.post(API + "/units/me/rename", {"name": f(other.unit["name"])})
            self.assertError(r, 409, "unit_exists", "name")
            r = u.post(API + "/units/me/rename", {"name": unit_names()[0], "short_name": f(other.unit["short_name"])})
            self.assertError(r, 409, "unit_exists", "short_name")
        self.assertEqual(u.get(API + "/units/me").json["unit"]["name"], u.unit["name"])


# ============================================================================================
# Downloads
# ============================================================================================

def disposition(r):
    """(filename, filename*) of an attachment Content-Disposition, checked to be safe."""
    v = r.header("Content-Disposition") or ""
    m = re.fullmatch(r"attachment; filename=\"([A-Za-z0-9._-]*)\"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)", v)
    return (m.group(1), urllib.parse.unquote(m.group(2))) if m else (None, v)


class TestDownloads(TextCase):
    def test_attachment_download_has_a_safe_name(self):
        a = self.new_app()
        for name, want in (("学历证书", "学历证书.pdf"), ('a"b/c\\d;e', 'a"b_c_d;e.pdf')):
            r = self.attach(a, "education", PDF, name=name)
            self.assertStatus(r, 201)
            att = r.json["id"]
            d = a.get(f"{API}/applications/{a.app_id}/attachments/{att}")
            self.assertStatus(d, 200)
            self.assertEqual(d.body, PDF)
            ascii_name, utf8_name = disposition(d)
            self.assertEqual(ascii_name, att + ".pdf", d.header("Content-Disposition"))
            self.assertEqual(utf8_name, want)

    def test_idcard_download_is_an_attachment(self):
        u = self.new_applicant()
        self.assertStatus(u.post(API + "/me/idcard?side=back", raw=PNG), 201)
        d = u.get(API + "/me/idcard?side=back")
        self.assertStatus(d, 200)
        self.assertEqual(disposition(d), ("idcard-back.png", "身份证国徽面.png"))
        d = self.node_admin().get(f"{API}/accounts/{u.account['id']}/idcard?side=back")
        self.assertStatus(d, 200)
        self.assertEqual(disposition(d), ("idcard-back.png", "身份证国徽面.png"))


# ============================================================================================
# A forward to a recommending unit of another node
# ============================================================================================

class TestDeptOnOtherNode(TextCase):
    def test_picking_one_is_allowed_but_the_forward_is_409(self):
        u = self.new_unit(depts=(DEPT_OTHER,))
        self.assertEqual([d["id"] for d in u.get(API + "/units/me").json["unit"]["recommenders"]], [DEPT_OTHER])
        a = self.submitted_app(u)
        before = self.snap(a)
        e = self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意推荐"), 409,
                               "dept_on_other_node", a, before)
        self.assertIn("乌鲁木齐市", e["message"])
        self.assertIn(self.dept_name(DEPT_OTHER), e["message"])
        self.assertEqual(e.get("dept"), DEPT_OTHER)
        # still the unit's to act on: the applicant's application is not stuck
        self.assertIn("return", [x["action"] for x in self.get_app(u, a.app_id)["actions"]])
        self.assertStatus(self.review(u, a.app_id, "return", opinions={"general": "请改投本节点推荐单位"}), 200)

    def test_a_chosen_one_is_409_and_a_local_one_goes(self):
        u = self.new_unit(depts=(DEPT_OTHER, DEPT))
        a = self.submitted_app(u)
        before = self.snap(a)
        self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意", dept=DEPT_OTHER), 409,
                           "dept_on_other_node", a, before)
        self.assertRefused(self.review(u, a.app_id, "forward", recommendation="同意"), 409,
                           "dept_on_other_node", a, before)
        r = self.review(u, a.app_id, "forward", recommendation="同意", dept=DEPT)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["dept"]["id"], DEPT)

    def test_one_already_stuck_there_can_be_recalled_by_its_unit(self):
        u = self.new_unit(depts=(DEPT2,))
        a = self.submitted_app(u)
        self.assertStatus(self.review(u, a.app_id, "forward", recommendation="同意推荐"), 200)
        # what a forward before this fix left: the application waits at another node's dept
        db = sqlite3.connect(f"{self.node.data}/node.db", timeout=30)
        try:
            db.execute("UPDATE applications SET dept_id = ?, dept_node = '650100' WHERE id = ?", (DEPT_OTHER, a.app_id))
            db.commit()
        finally:
            db.close()
        j = self.get_app(u, a.app_id)
        self.assertEqual(j["status"], "dept_review")
        self.assertEqual([x["action"] for x in j["actions"]], ["recall"])
        # nobody else may recall it: not the applicant, not another unit
        self.assertIn(self.review(self.new_unit(), a.app_id, "recall").status, (403, 404))
        self.assertIn(a.post(f"{API}/applications/{a.app_id}/review", {"action": "recall"}).status, (403,))
        r = self.review(u, a.app_id, "recall")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "unit_review")
        self.assertEqual(self.history_actions(r.json, "recall")[-1]["from"], "dept_review")
        self.assertStatus(self.review(u, a.app_id, "forward", recommendation="同意", dept=DEPT2), 200)

    def test_recall_is_refused_while_the_dept_is_on_this_node(self):
        a = self.at_dept()
        before = self.snap(a)
        self.assertRefused(self.review(a.unit_admin, a.app_id, "recall"), 403, "not_current_reviewer", a, before)

    def dept_name(self, dept_id):
        r = self.client().get(API + "/depts")
        self.assertStatus(r, 200)
        return next(d["name"] for d in r.json["items"] if d["id"] == dept_id)
