"""POST /api/v1/accounts: applicant registration, and every way it refuses."""
import datetime
import http.client
import json
import re
import time

from zc_test import (PASSWORD, REGION, Client, ZcCase, id_bad_check, id_number, id_with_birth, mobile,
                     person_name)


class TestRegistration(ZcCase):
    def register(self, c=None, **over):
        c = c or self.client()
        body = self.applicant_body(**over)
        return c, body, c.remember(c.post("/api/v1/accounts", body))

    def assertNotCreated(self, body):
        """Nothing carries this registration's name (node admin's list)."""
        self.assertEqual(self.admin_lists(body["name"]), [], f"an account was created for {body['name']}")

    def assertIdFree(self, idn):
        """The ID number was not taken by the refused registration: it registers now."""
        _, _, r = self.register(id_number=idn)
        self.assertStatus(r, 201)

    # -- success --
    def test_register_returns_201_with_account(self):
        c, body, r = self.register()
        self.assertStatus(r, 201)
        a = r.json["account"]
        self.assertEqual(a["role"], "applicant")
        self.assertEqual(a["name"], body["name"])
        self.assertEqual(a["home"], REGION)
        self.assertIsInstance(a["id"], str)
        self.assertTrue(a["id"])

    def test_register_username_is_ten_digits(self):
        _, _, r = self.register()
        self.assertRegex(r.json["account"]["username"], r"^[1-9][0-9]{9}$")

    def test_register_masks_id_number(self):
        idn = id_number(area="650102")
        _, _, r = self.register(id_number=idn)
        self.assertEqual(r.json["account"]["id_number_masked"], idn[:4] + "*" * 10 + idn[-4:])
        self.assertRegex(r.json["account"]["id_number_masked"], r"^6501\*{10}\d{3}[\dX]$")

    def test_register_never_echoes_secrets(self):
        _, body, r = self.register()
        text = r.body.decode()
        self.assertNotIn(body["id_number"], text)
        self.assertNotIn(body["password"], text)
        self.assertNotIn("argon2", text)
        self.assertNotIn("password_hash", text)

    def test_register_sets_session_cookie(self):
        _, _, r = self.register()
        cookies = r.headers.get_all("Set-Cookie") or []
        sess = [x for x in cookies if x.startswith("zc_session=")]
        self.assertEqual(len(sess), 1, cookies)
        self.assertRegex(sess[0], r"^zc_session=[0-9a-f]{64};")
        self.assertIn("httponly", sess[0].lower())
        self.assertIn("samesite", sess[0].lower())

    def test_register_returns_csrf(self):
        _, _, r = self.register()
        self.assertRegex(r.json["csrf"], r"^[0-9a-f]{32,}$")

    def test_register_logs_in_right_away(self):
        c, body, r = self.register()
        me = c.me()
        self.assertStatus(me, 200)
        self.assertEqual(me.json["account"]["id"], r.json["account"]["id"])
        self.assertEqual(me.json["account"]["username"], r.json["account"]["username"])
        self.assertEqual(me.json["csrf"], r.json["csrf"])

    def test_register_then_login_with_username(self):
        _, body, r = self.register()
        r2 = self.client().login(r.json["account"]["username"], body["password"])
        self.assertStatus(r2, 200)
        self.assertEqual(r2.json["account"]["id"], r.json["account"]["id"])

    def test_register_lowercase_x_is_accepted_and_normalised(self):
        idn = id_number(want_x=True)
        self.assertTrue(idn.endswith("X"))
        _, body, r = self.register(id_number=idn.lower())
        self.assertStatus(r, 201)
        self.assertTrue(r.json["account"]["id_number_masked"].endswith("X"), r.json["account"])
        r2 = self.client().login(idn, body["password"])  # upper-case X
        self.assertStatus(r2, 200)
        self.assertEqual(r2.json["account"]["id"], r.json["account"]["id"])

    def test_register_id_number_surrounding_spaces(self):
        # either trimmed and accepted, or refused as invalid; never a 5xx or a half account
        _, body, r = self.register(id_number=" " + id_number() + " ")
        self.assertIn(r.status, (201, 400), r)
        if r.status == 400:
            self.assertError(r, 400, "invalid_id_number", "id_number")

    # -- invalid ID numbers --
    def test_bad_checksum_is_invalid_id_number(self):
        _, body, r = self.register(id_number=id_bad_check())
        self.assertError(r, 400, "invalid_id_number", "id_number")
        self.assertNotCreated(body)

    def test_feb_29_of_non_leap_year_is_invalid(self):
        _, body, r = self.register(id_number=id_with_birth("19990229"))
        self.assertError(r, 400, "invalid_id_number", "id_number")
        self.assertNotCreated(body)

    def test_feb_29_of_leap_year_is_valid(self):
        _, _, r = self.register(id_number=id_with_birth("19960229"))
        self.assertStatus(r, 201)

    def test_future_birth_date_is_invalid(self):
        future = (datetime.date.today() + datetime.timedelta(days=30)).strftime("%Y%m%d")
        _, body, r = self.register(id_number=id_with_birth(future))
        self.assertError(r, 400, "invalid_id_number", "id_number")
        self.assertNotCreated(body)

    def test_month_13_is_invalid(self):
        _, body, r = self.register(id_number=id_with_birth("19901301"))
        self.assertError(r, 400, "invalid_id_number", "id_number")
        self.assertNotCreated(body)

    def test_short_id_number_is_invalid(self):
        _, body, r = self.register(id_number=id_number()[:17])
        self.assertError(r, 400, "invalid_id_number", "id_number")
        self.assertNotCreated(body)

    def test_letters_in_id_number_are_invalid(self):
        _, body, r = self.register(id_number="65010219900101A23X")
        self.assertError(r, 400, "invalid_id_number", "id_number")
        self.assertNotCreated(body)

    # -- duplicates --
    def test_duplicate_id_number_is_409(self):
        idn = id_number()
        _, _, r = self.register(id_number=idn)
        self.assertStatus(r, 201)
        _, body2, r2 = self.register(id_number=idn)
        self.assertError(r2, 409, "id_number_taken")
        self.assertNotCreated(body2)

    def test_duplicate_id_number_lowercase_variant_is_409(self):
        idn = id_number(want_x=True)
        _, _, r = self.register(id_number=idn)
        self.assertStatus(r, 201)
        _, body2, r2 = self.register(id_number=idn.lower())
        self.assertError(r2, 409, "id_number_taken")
        self.assertNotCreated(body2)

    def test_duplicate_refusal_keeps_first_session_logged_out_for_second(self):
        idn = id_number()
        self.assertStatus(self.register(id_number=idn)[2], 201)
        c2, _, r2 = self.register(id_number=idn)
        self.assertError(r2, 409, "id_number_taken")
        self.assertNotIn("zc_session", c2.cookies)
        self.assertError(c2.me(), 401, "login_required")

    # -- phones --
    def test_phone_used_by_another_applicant_is_409(self):
        phone = mobile()
        self.assertStatus(self.register(phone=phone)[2], 201)
        idn = id_number()
        _, body, r = self.register(phone=phone, id_number=idn)
        self.assertError(r, 409, "phone_taken", "phone")
        self.assertNotCreated(body)
        # the ID number was not consumed: it registers with another phone
        self.assertStatus(self.register(id_number=idn)[2], 201)

    def test_bad_phone_is_400(self):
        for bad in ("12345", "23800000000", "1380000000a", "138000000001", "0991-2345678"):
            with self.subTest(phone=bad):
                _, body, r = self.register(phone=bad)
                self.assertError(r, 400, field="phone")
                self.assertNotCreated(body)

    # -- fields --
    def test_missing_fields_are_named(self):
        for field in ("id_number", "name", "password", "phone"):
            with self.subTest(field=field):
                body = self.applicant_body()
                del body[field]
                r = self.client().post("/api/v1/accounts", body)
                self.assertError(r, 400, "missing_field", field)
                if field != "name":
                    self.assertNotCreated(body)

    def test_empty_strings_are_missing(self):
        for field in ("id_number", "name", "password", "phone"):
            with self.subTest(field=field):
                body = self.applicant_body(**{field: ""})
                r = self.client().post("/api/v1/accounts", body)
                self.assertError(r, 400, "missing_field", field)
                if field != "id_number":
                    self.assertIdFree(body["id_number"])

    def test_empty_object_names_first_missing_field(self):
        self.assertError(self.client().post("/api/v1/accounts", {}), 400, "missing_field")

    def test_wrong_types_are_invalid_field(self):
        for field, value in (("name", 12345), ("name", ["王", "五"]), ("phone", 13800000000),
                             ("password", True), ("id_number", 650102199001011234)):
            with self.subTest(field=field, value=value):
                body = self.applicant_body(**{field: value})
                r = self.client().post("/api/v1/accounts", body)
                self.assertError(r, 400, "invalid_field", field)
                if field != "name":
                    self.assertNotCreated(body)
                if field != "id_number":
                    self.assertIdFree(body["id_number"])

    def test_invalid_name_is_refused(self):
        for bad in ("王", "A1", "王<script>", "王" * 31):
            with self.subTest(name=bad):
                body = self.applicant_body(name=bad)
                r = self.client().post("/api/v1/accounts", body)
                self.assertError(r, 400, "invalid_field", "name")
                self.assertIdFree(body["id_number"])

    def test_nul_in_name_is_refused(self):
        body = self.applicant_body()
        raw = json.dumps(body, ensure_ascii=False).replace(body["name"], body["name"] + "\\u0000x")
        r = self.client().post("/api/v1/accounts", raw.encode())
        self.assertError(r, 400)  # bad_json (the parser refuses NUL) or invalid_field name
        self.assertIn(r.code, ("bad_json", "invalid_field"))
        self.assertNotCreated(body)

    def test_bad_json_is_400(self):
        body = self.applicant_body()
        raw = json.dumps(body, ensure_ascii=False)[:-2].encode()  # cut short
        r = self.client().post("/api/v1/accounts", raw, ctype="application/json")
        self.assertError(r, 400, "bad_json")
        self.assertNotCreated(body)

    def test_json_array_body_is_bad_json(self):
        body = self.applicant_body()
        r = self.client().post("/api/v1/accounts", json.dumps([body]).encode())
        self.assertError(r, 400, "bad_json")
        self.assertNotCreated(body)

    def test_json_string_body_is_bad_json(self):
        self.assertError(self.client().post("/api/v1/accounts", b'"hello"'), 400, "bad_json")

    def test_duplicate_keys_are_bad_json(self):
        body = self.applicant_body()
        raw = json.dumps(body, ensure_ascii=False)[:-1] + ', "name": "李四"}'
        self.assertError(self.client().post("/api/v1/accounts", raw.encode()), 400, "bad_json")
        self.assertNotCreated(body)

    def test_invalid_utf8_is_refused(self):
        raw = b'{"id_number":"' + id_number().encode() + b'","name":"\xff\xfe","password":"' \
            + PASSWORD.encode() + b'","phone":"' + mobile().encode() + b'"}'
        r = self.client().post("/api/v1/accounts", raw)
        self.assertError(r, 400)

    # -- passwords --
    def test_weak_password_is_refused(self):
        idn = id_number()
        for bad in ("short1A", "alllowercase", "password1", "12345678", "ABCDEFGH1"):
            with self.subTest(password=bad):
                body = self.applicant_body(id_number=idn, password=bad)
                r = self.client().post("/api/v1/accounts", body)
                self.assertError(r, 400, "weak_password", "password")
                self.assertNotCreated(body)
        # nothing was half created: the ID number still registers
        self.assertStatus(self.register(id_number=idn)[2], 201)

    def test_password_containing_id_number_is_weak(self):
        idn = id_number()
        body = self.applicant_body(id_number=idn, password="Aa!" + idn)
        self.assertError(self.client().post("/api/v1/accounts", body), 400, "weak_password", "password")
        self.assertNotCreated(body)

    def test_password_containing_phone_is_weak(self):
        phone = mobile()
        body = self.applicant_body(phone=phone, password="Aa!" + phone)
        self.assertError(self.client().post("/api/v1/accounts", body), 400, "weak_password", "password")
        self.assertNotCreated(body)

    def test_overlong_password_is_refused(self):
        body = self.applicant_body(password="Aa1!" * 20)
        self.assertError(self.client().post("/api/v1/accounts", body), 400, "weak_password", "password")
        self.assertNotCreated(body)

    # -- size --
    def test_oversized_body_is_413_and_nothing_created(self):
        body = self.applicant_body(pad="x" * (100 * 1024))
        data = json.dumps(body, ensure_ascii=False).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=30)
        try:
            conn.request("POST", "/api/v1/accounts", body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()  # the client must receive the answer, not a reset
            raw = resp.read()
            status = resp.status
        finally:
            conn.close()
        self.assertEqual(status, 413, raw[:200])
        err = json.loads(raw)["error"]
        self.assertEqual(err["code"], "too_large")
        self.assertRegex(err["message"], r"[\u4e00-\u9fff]")
        self.assertNotCreated(body)

    def test_body_just_under_limit_is_read(self):
        body = self.applicant_body(pad="x" * (60 * 1024))
        r = self.client().post("/api/v1/accounts", body)
        self.assertIn(r.status, (201, 400), r)  # read and judged, whatever the verdict on `pad`
        self.assertNotEqual(r.status, 413)

    # -- registrations are not rate-limited the way logins are --
    def test_sixty_registrations_a_minute_from_one_address(self):
        t0 = time.monotonic()
        statuses = []
        for _ in range(60):
            _, _, r = self.register()
            statuses.append(r.status)
        took = time.monotonic() - t0
        self.assertEqual(statuses, [201] * 60, f"not all 201: {sorted(set(statuses))}")
        self.assertLess(took, 60, "60 registrations took longer than a minute")
