"""POST/DELETE /api/v1/session and the CSRF token. Every failed login here counts toward
the per-address limit of the shared node (20 in 15 minutes), so this module fails only a few:
the limits themselves are tested on their own node (test_ratelimit.py)."""
from zc_test import Client, ZcCase, id_number, mobile


class TestLogin(ZcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = None

    def applicant(self):
        if type(self).user is None:
            type(self).user = self.new_applicant()
        return type(self).user

    def test_login_by_username(self):
        u = self.applicant()
        c = self.client()
        r = c.login(u.username, u.password)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["username"], u.username)
        self.assertRegex(r.json["csrf"], r"^[0-9a-f]{32,}$")
        self.assertIn("zc_session", c.cookies)

    def test_login_by_id_number(self):
        u = self.applicant()
        r = self.client().login(u.body["id_number"], u.password)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["username"], u.username)

    def test_login_by_phone(self):
        u = self.applicant()
        r = self.client().login(u.body["phone"], u.password)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["username"], u.username)

    def test_login_by_phone_shared_with_a_unit_admin(self):
        # API.md: login = username or ID number or phone. A unit may register with the
        # applicant's mobile as its contact phone (phones are unique among applicants only);
        # the applicant must still be able to log in with it. (Own address: a failure here
        # must not count toward the shared node's per-address limit.)
        src = "127.0.0.20"
        u = self.new_applicant(source=src)
        self.new_unit_admin(source=src, phone=u.body["phone"])
        r = self.client(src).login(u.body["phone"], u.password)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["username"], u.username)

    def test_login_by_lowercase_x_id_number(self):
        idn = id_number(want_x=True)
        u = self.new_applicant(id_number=idn)
        r = self.client().login(idn.lower(), u.password)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["username"], u.username)

    def test_login_session_cookie_flags(self):
        u = self.applicant()
        r = self.client().login(u.username, u.password)
        c = [x for x in r.headers.get_all("Set-Cookie") or [] if x.startswith("zc_session=")]
        self.assertEqual(len(c), 1)
        low = c[0].lower()
        self.assertIn("httponly", low)
        self.assertIn("samesite=", low)
        self.assertIn("path=/", low)

    def test_each_login_is_its_own_session(self):
        u = self.applicant()
        a, b = self.client(), self.client()
        ra, rb = a.login(u.username, u.password), b.login(u.username, u.password)
        self.assertNotEqual(a.cookies["zc_session"], b.cookies["zc_session"])
        self.assertNotEqual(ra.json["csrf"], rb.json["csrf"])
        self.assertStatus(a.me(), 200)
        self.assertStatus(b.me(), 200)

    def test_wrong_password_is_401_bad_credentials(self):
        u = self.applicant()
        c = self.client()
        r = c.login(u.username, "Wrong!Passw0rd")
        self.assertError(r, 401, "bad_credentials")
        self.assertNotIn("zc_session", c.cookies)
        self.assertError(c.me(), 401, "login_required")

    def test_unknown_user_has_the_same_answer(self):
        u = self.applicant()
        known = self.client().login(u.username, "Wrong!Passw0rd#1")
        unknown = self.client().login("9999999999", "Wrong!Passw0rd#1")
        self.assertError(unknown, 401, "bad_credentials")
        self.assertEqual(unknown.json, known.json, "the answer tells whether the account exists")

    def test_missing_login_fields(self):
        self.assertError(self.client().post("/api/v1/session", {"password": "x"}), 400, "missing_field", "login")
        self.assertError(self.client().post("/api/v1/session", {"login": "x"}), 400, "missing_field", "password")

    def test_login_wrong_types(self):
        self.assertError(self.client().post("/api/v1/session", {"login": 123, "password": "x"}), 400,
                         "invalid_field", "login")

    def test_login_bad_json(self):
        self.assertError(self.client().post("/api/v1/session", b"{login: a", ctype="application/json"),
                         400, "bad_json")

    def test_login_as_a_form_is_refused(self):
        # a cross-site form can post text/plain or urlencoded without asking: JSON routes take JSON only
        self.assertError(self.client().post("/api/v1/session", b"login=a&password=b",
                                            ctype="application/x-www-form-urlencoded"), 415, "unsupported_type")
        self.assertError(self.client().post("/api/v1/session", b'{"login":"a","password":"b"}',
                                            ctype="text/plain"), 415, "unsupported_type")

    def test_login_from_another_site_is_refused(self):
        u = self.new_applicant()
        c = self.client()
        r = c.post("/api/v1/session", {"login": u.username, "password": u.password},
                   headers={"Origin": "https://evil.example"})
        self.assertError(r, 403, "cross_origin")
        self.assertNotIn("zc_session", c.cookies)

    def test_get_me_without_session_is_401(self):
        self.assertError(self.client().me(), 401, "login_required")

    def test_forged_cookie_is_401(self):
        c = self.client()
        c.cookies["zc_session"] = "0" * 64
        self.assertError(c.me(), 401, "login_required")
        c.cookies["zc_session"] = "garbage"
        self.assertError(c.me(), 401, "login_required")

    def test_me_shows_role_and_home(self):
        u = self.applicant()
        r = u.me()
        self.assertStatus(r, 200)
        a = r.json["account"]
        self.assertEqual(a["role"], "applicant")
        self.assertEqual(a["home"], "650000")
        self.assertTrue(a["role_name"])
        self.assertTrue(a["home_name"])


class TestLogout(ZcCase):
    def test_logout_ends_session(self):
        u = self.new_applicant()
        self.assertStatus(u.me(), 200)
        r = u.delete("/api/v1/session")
        self.assertStatus(r, 200)
        self.assertError(u.me(), 401, "login_required")

    def test_logout_kills_the_token_server_side(self):
        u = self.new_applicant()
        stolen = dict(u.cookies)
        self.assertStatus(u.delete("/api/v1/session"), 200)
        replay = self.client()
        replay.cookies.update(stolen)
        self.assertError(replay.me(), 401, "login_required")

    def test_logout_clears_cookie(self):
        u = self.new_applicant()
        r = u.delete("/api/v1/session")
        sc = [x for x in r.headers.get_all("Set-Cookie") or [] if x.startswith("zc_session=")]
        self.assertTrue(sc, "no Set-Cookie clearing the session")
        self.assertNotIn("zc_session", u.cookies)

    def test_logout_needs_csrf(self):
        u = self.new_applicant()
        r = u.delete("/api/v1/session", csrf=False)
        self.assertError(r, 403, "csrf")
        self.assertStatus(u.me(), 200)

    def test_logout_anonymous_is_401(self):
        self.assertError(self.client().delete("/api/v1/session"), 401, "login_required")

    def test_logout_ends_only_this_session(self):
        u = self.new_applicant()
        other = self.client()
        self.assertStatus(other.login(u.username, u.password), 200)
        self.assertStatus(u.delete("/api/v1/session"), 200)
        self.assertStatus(other.me(), 200)


class TestCsrf(ZcCase):
    def test_put_me_without_token_is_403_and_changes_nothing(self):
        u = self.new_applicant()
        before = u.me().json["account"]
        r = u.put("/api/v1/me", {"email": "csrf-attack@example.com"}, csrf=False)
        self.assertError(r, 403, "csrf")
        self.assertEqual(u.me().json["account"], before)

    def test_put_me_with_wrong_token_is_403(self):
        u = self.new_applicant()
        before = u.me().json["account"]
        r = u.put("/api/v1/me", {"email": "csrf-attack@example.com"}, csrf="0" * 64)
        self.assertError(r, 403, "csrf")
        self.assertEqual(u.me().json["account"], before)

    def test_put_me_with_another_sessions_token_is_403(self):
        u, v = self.new_applicant(), self.new_applicant()
        before = u.me().json["account"]
        r = u.put("/api/v1/me", {"email": "csrf-attack@example.com"}, csrf=v.csrf)
        self.assertError(r, 403, "csrf")
        self.assertEqual(u.me().json["account"], before)

    def test_put_me_with_empty_token_is_403(self):
        u = self.new_applicant()
        r = u.put("/api/v1/me", {"email": "csrf-attack@example.com"}, headers={"X-CSRF-Token": ""}, csrf=False)
        self.assertError(r, 403, "csrf")

    def test_put_me_with_token_succeeds(self):
        u = self.new_applicant()
        r = u.put("/api/v1/me", {"email": "ok@example.com"})
        self.assertStatus(r, 200)
        self.assertEqual(u.me().json["account"]["email"], "ok@example.com")

    def test_password_change_without_token_is_403(self):
        u = self.new_applicant()
        r = u.post("/api/v1/me/password", {"old": u.password, "new": "New!Passw0rd#77"}, csrf=False)
        self.assertError(r, 403, "csrf")
        self.assertStatus(self.client().login(u.username, u.password), 200)

    def test_csrf_token_is_stable_for_the_session(self):
        u = self.new_applicant()
        self.assertEqual(u.me().json["csrf"], u.csrf)

    def test_login_while_logged_in_without_token_is_403(self):
        # API.md: "every non-GET request carrying the cookie must send header X-CSRF-Token"
        u = self.new_applicant()
        other = self.new_applicant()
        r = u.post("/api/v1/session", {"login": other.username, "password": other.password}, csrf=False)
        self.assertError(r, 403, "csrf")
        self.assertEqual(u.me().json["account"]["username"], u.username)
