"""Basic units: POST /api/v1/units (registration with the unit's admin), GET/PUT /units/me,
renaming and the recommending units; who may call them."""
import json

from zc_test import _CC_A, REGION, ZcCase, cc_bad_check, cc_check, credit_code, unit_names

INFO = {"address": "乌鲁木齐市天山区人民路8号", "legal_person": "张建国", "contact": "李娜",
        "phone": "0991-2345678", "industry": "信息技术"}


class TestUnitRegistration(ZcCase):
    def register(self, **over):
        c = self.client()
        body = self.unit_body(**over)
        return c, body, c.remember(c.post("/api/v1/units", body))

    def assertNotCreated(self, body, taken_code=False):
        """No unit with this name (or, unless the code belongs to another unit, this credit
        code) and no admin account named like its contact."""
        name, cc = body.get("name"), body.get("credit_code")
        if isinstance(name, str) and len(name) >= 2:
            same = [u for u in self.units_named(name) if u["name"] == name]
            self.assertEqual(same, [], f"a unit was created: {name}")
        if not taken_code and isinstance(cc, str) and len(cc) == 18:
            same = [u for u in self.units_named(cc) if u["credit_code"] == cc.upper()]
            self.assertEqual(same, [], f"a unit was created with {cc}")
        if isinstance(body.get("contact"), str):
            self.assertEqual(self.admin_lists(body["contact"]), [], "an admin account was created")

    def test_register_unit_201(self):
        c, body, r = self.register()
        self.assertStatus(r, 201)
        u = r.json["unit"]
        self.assertEqual(u["credit_code"], body["credit_code"])
        self.assertEqual(u["name"], body["name"])
        self.assertEqual(u["short_name"], body["short_name"])
        self.assertEqual(u["node"], REGION)
        self.assertIs(u["complete"], False)
        self.assertTrue(u["id"])

    def test_register_creates_logged_in_admin(self):
        c, body, r = self.register()
        a = r.json["account"]
        self.assertEqual(a["role"], "unit_admin")
        self.assertRegex(a["username"], r"^[1-9][0-9]{9}$")
        self.assertRegex(r.json["csrf"], r"^[0-9a-f]{32,}$")
        me = c.me()
        self.assertStatus(me, 200)
        self.assertEqual(me.json["account"]["role"], "unit_admin")
        self.assertEqual(me.json["account"]["unit"]["credit_code"], body["credit_code"])
        self.assertStatus(c.get("/api/v1/units/me"), 200)

    def test_admin_logs_in_again_with_username(self):
        c, body, r = self.register()
        c2 = self.client()
        self.assertStatus(c2.login(r.json["account"]["username"], body["password"]), 200)
        self.assertEqual(c2.get("/api/v1/units/me").json["unit"]["id"], r.json["unit"]["id"])

    def test_lowercase_credit_code_is_normalised(self):
        cc = credit_code()
        _, body, r = self.register(credit_code=cc.lower())
        self.assertStatus(r, 201)
        self.assertEqual(r.json["unit"]["credit_code"], cc)
        _, body2, r2 = self.register(credit_code=cc)
        self.assertError(r2, 409, "unit_exists", "credit_code")

    def test_bad_check_character_is_invalid_credit_code(self):
        _, body, r = self.register(credit_code=cc_bad_check())
        self.assertError(r, 400, "invalid_credit_code", "credit_code")
        self.assertNotCreated(body)

    def test_forbidden_letters_are_invalid_credit_code(self):
        for letter in "IOZSV":
            with self.subTest(letter=letter):
                s17 = "91650102MA7" + letter + "ABCD1"
                self.assertEqual(len(s17), 17)
                # a check character computed as if the letter were allowed (it is not)
                cc = s17 + cc_check(s17.replace(letter, "A"))
                _, body, r = self.register(credit_code=cc)
                self.assertError(r, 400, "invalid_credit_code", "credit_code")
                self.assertNotCreated(body)

    def test_wrong_length_credit_code(self):
        for cc in (credit_code()[:17], credit_code() + "1", ""):
            with self.subTest(cc=cc):
                _, body, r = self.register(credit_code=cc)
                self.assertEqual(r.status, 400, r)
                self.assertError(r, 400, field="credit_code")
                self.assertNotCreated(body)

    def test_duplicate_credit_code_is_409(self):
        cc = credit_code()
        self.assertStatus(self.register(credit_code=cc)[2], 201)
        _, body, r = self.register(credit_code=cc)
        self.assertError(r, 409, "unit_exists", "credit_code")
        self.assertNotCreated(body, taken_code=True)

    def test_duplicate_full_name_is_409(self):
        _, first, r = self.register()
        self.assertStatus(r, 201)
        _, body, r = self.register(name=first["name"])
        self.assertError(r, 409, "unit_exists", "name")
        self.assertEqual(len(self.units_named(first["name"])), 1)
        self.assertEqual(self.units_named(body["short_name"]), [])

    def test_duplicate_short_name_is_409(self):
        _, first, r = self.register()
        self.assertStatus(r, 201)
        _, body, r = self.register(short_name=first["short_name"])
        self.assertError(r, 409, "unit_exists", "short_name")
        self.assertNotCreated(body)

    def test_full_name_equal_to_another_short_name_is_409(self):
        _, first, r = self.register()
        self.assertStatus(r, 201)
        _, body, r = self.register(name=first["short_name"] + "")
        self.assertError(r, 409, "unit_exists")

    def test_refused_registration_creates_no_account(self):
        cc = credit_code()
        self.assertStatus(self.register(credit_code=cc)[2], 201)
        c, body, r = self.register(credit_code=cc)
        self.assertError(r, 409, "unit_exists")
        self.assertNotIn("zc_session", c.cookies)
        self.assertEqual(self.admin_lists(body["contact"]), [])

    def test_node_of_another_region_is_wrong_node(self):
        _, body, r = self.register(node="650100")
        self.assertError(r, 400, "wrong_node", "node")
        self.assertIn("乌鲁木齐市", r.json["error"]["message"])
        self.assertNotCreated(body)

    def test_unknown_node_is_400(self):
        _, body, r = self.register(node="123456")
        self.assertError(r, 400, field="node")
        self.assertNotCreated(body)

    def test_missing_fields_are_named(self):
        for field in ("credit_code", "name", "short_name", "password", "contact", "phone"):
            with self.subTest(field=field):
                body = self.unit_body()
                del body[field]
                r = self.client().post("/api/v1/units", body)
                self.assertError(r, 400, "missing_field", field)
                if field != "name":
                    self.assertNotCreated(body)

    def test_weak_password_is_400(self):
        _, body, r = self.register(password="password")
        self.assertError(r, 400, "weak_password", "password")
        self.assertNotCreated(body)

    def test_bad_phone_is_400(self):
        _, body, r = self.register(phone="12345")
        self.assertError(r, 400, "invalid_field", "phone")
        self.assertNotCreated(body)

    def test_short_name_same_as_name_is_400(self):
        name, _ = unit_names()
        _, body, r = self.register(name=name, short_name=name)
        self.assertError(r, 400, "invalid_field", "short_name")
        self.assertNotCreated(body)

    def test_too_short_name_is_400(self):
        _, body, r = self.register(name="新疆")
        self.assertError(r, 400, "invalid_field", "name")
        self.assertNotCreated(body)

    def test_wrong_type_is_invalid_field(self):
        _, body, r = self.register(name=12345)
        self.assertError(r, 400, "invalid_field", "name")
        self.assertNotCreated(body)

    def test_bad_json_is_400(self):
        body = self.unit_body()
        raw = json.dumps(body, ensure_ascii=False)[:-1].encode()
        self.assertError(self.client().post("/api/v1/units", raw), 400, "bad_json")
        self.assertNotCreated(body)


class TestUnitInformation(ZcCase):
    def test_new_unit_is_incomplete_with_missing_fields(self):
        ua = self.new_unit_admin()
        r = ua.get("/api/v1/units/me")
        self.assertStatus(r, 200)
        u = r.json["unit"]
        self.assertIs(u["complete"], False)
        self.assertEqual(sorted(u["missing"]), ["address", "industry", "legal_person"])
        self.assertEqual(u["recommenders"], [])
        self.assertEqual(len(u["names"]), 1)

    def test_put_all_fields_makes_unit_complete(self):
        ua = self.new_unit_admin()
        r = ua.put("/api/v1/units/me", INFO)
        self.assertStatus(r, 200)
        self.assertIs(r.json["unit"]["complete"], True)
        self.assertEqual(r.json["unit"]["missing"], [])
        u = ua.get("/api/v1/units/me").json["unit"]
        self.assertIs(u["complete"], True)
        for k, v in INFO.items():
            self.assertEqual(u[k], v, k)

    def test_partial_put_keeps_other_fields(self):
        ua = self.new_unit_admin()
        ua.put("/api/v1/units/me", INFO)
        r = ua.put("/api/v1/units/me", {"industry": "建筑业"})
        self.assertStatus(r, 200)
        u = r.json["unit"]
        self.assertEqual(u["industry"], "建筑业")
        self.assertEqual(u["address"], INFO["address"])
        self.assertIs(u["complete"], True)

    def test_clearing_a_required_field_makes_it_incomplete(self):
        ua = self.new_unit_admin()
        ua.put("/api/v1/units/me", INFO)
        r = ua.put("/api/v1/units/me", {"address": ""})
        self.assertStatus(r, 200)
        self.assertIs(r.json["unit"]["complete"], False)
        self.assertEqual(r.json["unit"]["missing"], ["address"])

    def test_optional_fields(self):
        ua = self.new_unit_admin()
        r = ua.put("/api/v1/units/me", {"email": "hr@example.cn", "postcode": "830000"})
        self.assertStatus(r, 200)
        self.assertEqual((r.json["unit"]["email"], r.json["unit"]["postcode"]), ("hr@example.cn", "830000"))

    def test_invalid_phone_is_400_and_nothing_changed(self):
        ua = self.new_unit_admin()
        before = ua.get("/api/v1/units/me").json["unit"]
        r = ua.put("/api/v1/units/me", dict(INFO, phone="12345"))
        self.assertError(r, 400, "invalid_field", "phone")
        self.assertEqual(ua.get("/api/v1/units/me").json["unit"], before)

    def test_invalid_postcode_is_400_and_nothing_changed(self):
        ua = self.new_unit_admin()
        before = ua.get("/api/v1/units/me").json["unit"]
        self.assertError(ua.put("/api/v1/units/me", dict(INFO, postcode="83000")), 400, "invalid_field", "postcode")
        self.assertEqual(ua.get("/api/v1/units/me").json["unit"], before)

    def test_unknown_field_is_400_and_nothing_changed(self):
        ua = self.new_unit_admin()
        before = ua.get("/api/v1/units/me").json["unit"]
        r = ua.put("/api/v1/units/me", dict(INFO, credit_code="91650102MA7ABCDEF0"))
        self.assertError(r, 400, "invalid_field", "credit_code")
        self.assertEqual(ua.get("/api/v1/units/me").json["unit"], before)
        r = ua.put("/api/v1/units/me", {"color": "红"})
        self.assertError(r, 400, "invalid_field", "color")

    def test_wrong_type_is_400(self):
        ua = self.new_unit_admin()
        self.assertError(ua.put("/api/v1/units/me", {"address": 5}), 400, "invalid_field", "address")

    def test_invalid_legal_person_is_400(self):
        ua = self.new_unit_admin()
        self.assertError(ua.put("/api/v1/units/me", {"legal_person": "X"}), 400, "invalid_field", "legal_person")

    def test_overlong_address_is_400(self):
        ua = self.new_unit_admin()
        self.assertError(ua.put("/api/v1/units/me", {"address": "路" * 101}), 400, "invalid_field", "address")

    def test_put_needs_csrf(self):
        ua = self.new_unit_admin()
        before = ua.get("/api/v1/units/me").json["unit"]
        self.assertError(ua.put("/api/v1/units/me", INFO, csrf=False), 403, "csrf")
        self.assertEqual(ua.get("/api/v1/units/me").json["unit"], before)

    def test_unit_admin_sees_only_own_unit(self):
        a, b = self.new_unit_admin(), self.new_unit_admin()
        self.assertEqual(a.get("/api/v1/units/me").json["unit"]["id"], a.unit["id"])
        self.assertEqual(b.get("/api/v1/units/me").json["unit"]["id"], b.unit["id"])
        a.put("/api/v1/units/me", INFO)
        self.assertIs(b.get("/api/v1/units/me").json["unit"]["complete"], False)


class TestRename(ZcCase):
    def test_rename_keeps_history(self):
        ua = self.new_unit_admin()
        old = ua.unit["name"]
        new, _ = unit_names()
        r = ua.post("/api/v1/units/me/rename", {"name": new})
        self.assertStatus(r, 200)
        u = r.json["unit"]
        self.assertEqual(u["name"], new)
        self.assertEqual([n["name"] for n in u["names"]], [old, new])
        for n in u["names"]:
            self.assertRegex(n["changed_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_rename_with_short_name(self):
        ua = self.new_unit_admin()
        new, short = unit_names()
        r = ua.post("/api/v1/units/me/rename", {"name": new, "short_name": short})
        self.assertStatus(r, 200)
        self.assertEqual((r.json["unit"]["name"], r.json["unit"]["short_name"]), (new, short))

    def test_old_name_is_free_after_rename(self):
        ua = self.new_unit_admin()
        old = ua.unit["name"]
        new, _ = unit_names()
        self.assertStatus(ua.post("/api/v1/units/me/rename", {"name": new}), 200)
        _, short = unit_names()
        r = self.client().post("/api/v1/units", self.unit_body(name=old, short_name=short))
        self.assertStatus(r, 201)

    def test_rename_to_another_units_name_is_409(self):
        a, b = self.new_unit_admin(), self.new_unit_admin()
        before = a.get("/api/v1/units/me").json["unit"]
        r = a.post("/api/v1/units/me/rename", {"name": b.unit["name"]})
        self.assertError(r, 409, "unit_exists", "name")
        self.assertEqual(a.get("/api/v1/units/me").json["unit"], before)

    def test_rename_to_another_units_short_name_is_409(self):
        a, b = self.new_unit_admin(), self.new_unit_admin()
        new, _ = unit_names()
        r = a.post("/api/v1/units/me/rename", {"name": new, "short_name": b.unit["short_name"]})
        self.assertError(r, 409, "unit_exists", "short_name")
        self.assertEqual(a.get("/api/v1/units/me").json["unit"]["name"], a.unit["name"])

    def test_rename_to_same_name_is_400(self):
        ua = self.new_unit_admin()
        self.assertError(ua.post("/api/v1/units/me/rename", {"name": ua.unit["name"]}), 400, field="name")

    def test_rename_missing_name_is_400(self):
        ua = self.new_unit_admin()
        self.assertError(ua.post("/api/v1/units/me/rename", {}), 400, "missing_field", "name")

    def test_rename_invalid_name_is_400(self):
        ua = self.new_unit_admin()
        before = ua.get("/api/v1/units/me").json["unit"]
        self.assertError(ua.post("/api/v1/units/me/rename", {"name": "新疆"}), 400, "invalid_field", "name")
        self.assertEqual(ua.get("/api/v1/units/me").json["unit"], before)

    def test_renamed_unit_is_found_by_new_name(self):
        ua = self.new_unit_admin()
        new, _ = unit_names()
        ua.post("/api/v1/units/me/rename", {"name": new})
        self.assertEqual([u["id"] for u in self.units_named(new)], [ua.unit["id"]])


class TestRecommenders(ZcCase):
    def put(self, ua, depts):
        return ua.put("/api/v1/units/me/recommenders", {"depts": depts})

    def current(self, ua):
        return [d["id"] for d in ua.get("/api/v1/units/me").json["unit"]["recommenders"]]

    def test_one_recommender(self):
        ua = self.new_unit_admin()
        r = self.put(ua, ["650000-D01"])
        self.assertStatus(r, 200)
        self.assertEqual([d["id"] for d in r.json["unit"]["recommenders"]], ["650000-D01"])
        self.assertEqual(self.current(ua), ["650000-D01"])

    def test_two_recommenders_region_and_prefecture(self):
        ua = self.new_unit_admin()
        r = self.put(ua, ["650000-D02", "650100-D01"])
        self.assertStatus(r, 200)
        recs = r.json["unit"]["recommenders"]
        self.assertEqual([d["id"] for d in recs], ["650000-D02", "650100-D01"])
        self.assertEqual([d["node"] for d in recs], ["650000", "650100"])
        self.assertEqual(recs[1]["node_name"], "乌鲁木齐市")

    def test_order_is_kept(self):
        ua = self.new_unit_admin()
        self.put(ua, ["650100-D01", "650000-D02"])
        self.assertEqual(self.current(ua), ["650100-D01", "650000-D02"])

    def test_three_is_too_many_and_nothing_changes(self):
        ua = self.new_unit_admin()
        self.put(ua, ["650000-D01"])
        r = self.put(ua, ["650000-D01", "650000-D02", "650100-D01"])
        self.assertError(r, 400, "too_many_depts", "depts")
        self.assertEqual(self.current(ua), ["650000-D01"])

    def test_duplicate_is_400_and_nothing_changes(self):
        ua = self.new_unit_admin()
        self.put(ua, ["650000-D03"])
        self.assertError(self.put(ua, ["650000-D01", "650000-D01"]), 400, field="depts")
        self.assertEqual(self.current(ua), ["650000-D03"])

    def test_unknown_dept_is_400_and_nothing_changes(self):
        ua = self.new_unit_admin()
        self.put(ua, ["650000-D03"])
        self.assertError(self.put(ua, ["650000-D99"]), 400, field="depts")
        self.assertError(self.put(ua, ["650000-D01", "nope"]), 400, field="depts")
        self.assertError(self.put(ua, [7]), 400, field="depts")
        self.assertEqual(self.current(ua), ["650000-D03"])

    def test_not_a_list_is_400(self):
        ua = self.new_unit_admin()
        self.put(ua, ["650000-D02"])
        self.assertError(ua.put("/api/v1/units/me/recommenders", {"depts": "650000-D01"}), 400, field="depts")
        self.assertError(ua.put("/api/v1/units/me/recommenders", {}), 400, field="depts")
        self.assertEqual(self.current(ua), ["650000-D02"])

    def test_change_later(self):
        ua = self.new_unit_admin()
        self.assertStatus(self.put(ua, ["650000-D01", "650100-D01"]), 200)
        self.assertStatus(self.put(ua, ["650100-D02"]), 200)
        self.assertEqual(self.current(ua), ["650100-D02"])
        self.assertStatus(self.put(ua, ["650000-D04", "650000-D05"]), 200)
        self.assertEqual(self.current(ua), ["650000-D04", "650000-D05"])

    def test_swap_order(self):
        ua = self.new_unit_admin()
        self.assertStatus(self.put(ua, ["650000-D01", "650100-D01"]), 200)
        self.assertStatus(self.put(ua, ["650100-D01", "650000-D01"]), 200)
        self.assertEqual(self.current(ua), ["650100-D01", "650000-D01"])


class TestUnitAccess(ZcCase):
    CALLS = [("GET", "/api/v1/units/me", None), ("PUT", "/api/v1/units/me", INFO),
             ("POST", "/api/v1/units/me/rename", {"name": "新疆越权改名有限公司"}),
             ("PUT", "/api/v1/units/me/recommenders", {"depts": ["650000-D01"]})]

    def test_applicant_gets_403(self):
        u = self.new_applicant()
        for method, path, body in self.CALLS:
            with self.subTest(method=method, path=path):
                self.assertError(u.request(method, path, body=body), 403)

    def test_other_roles_get_403(self):
        for role in ("dept_admin", "node_admin", "auditor"):
            c = self.demo_login(role)
            for method, path, body in self.CALLS:
                with self.subTest(role=role, method=method, path=path):
                    self.assertError(c.request(method, path, body=body), 403)

    def test_anonymous_gets_401(self):
        for method, path, body in self.CALLS:
            with self.subTest(method=method, path=path):
                self.assertError(self.client().request(method, path, body=body), 401, "login_required")

    def test_forbidden_calls_change_nothing(self):
        demo = self.demo_login("unit_admin")
        before = demo.get("/api/v1/units/me").json["unit"]
        u = self.new_applicant()
        for method, path, body in self.CALLS:
            u.request(method, path, body=body)
        self.assertEqual(demo.get("/api/v1/units/me").json["unit"], before)

    def test_search_units_needs_login(self):
        self.assertError(self.client().get("/api/v1/units?q=%E6%BC%94%E7%A4%BA"), 401, "login_required")

    def test_search_units_by_credit_code(self):
        ua = self.new_unit_admin()
        r = self.new_applicant().get("/api/v1/units?q=" + ua.unit["credit_code"])
        self.assertStatus(r, 200)
        self.assertEqual([u["id"] for u in r.json["items"]], [ua.unit["id"]])


class TestDemoUnit(ZcCase):
    """The demo data (zc-admin seed --demo) must be valid data: a unit whose credit code
    fails GB 32100 cannot be found or used through the API."""

    def test_demo_credit_code_is_valid(self):
        cc = self.node.account("unit_admin")["credit_code"]
        self.assertEqual(len(cc), 18)
        bad = [ch for ch in cc if ch not in _CC_A]
        self.assertEqual(bad, [], f"{cc} has characters outside the credit-code alphabet")
        self.assertEqual(cc[17], cc_check(cc[:17]), f"{cc}: wrong check character")

    def test_demo_unit_is_found_by_its_credit_code(self):
        demo = self.node.account("unit_admin")
        ua = self.demo_login("unit_admin")
        unit = ua.get("/api/v1/units/me").json["unit"]
        found = self.units_named(demo["credit_code"])
        self.assertEqual([u["id"] for u in found], [unit["id"]])
