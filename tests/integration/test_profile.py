"""PUT /api/v1/me (the profile) and POST /api/v1/me/password."""
from zc_test import ZcCase, mobile


class TestProfile(ZcCase):
    def test_change_phone(self):
        u = self.new_applicant()
        phone = mobile()
        r = u.put("/api/v1/me", {"phone": phone})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["phone"], phone)
        self.assertEqual(u.me().json["account"]["phone"], phone)

    def test_login_by_new_phone(self):
        u = self.new_applicant()
        phone = mobile()
        self.assertStatus(u.put("/api/v1/me", {"phone": phone}), 200)
        self.assertStatus(self.client().login(phone, u.password), 200)

    def test_change_email(self):
        u = self.new_applicant()
        r = u.put("/api/v1/me", {"email": "zhang.san@example.cn"})
        self.assertStatus(r, 200)
        self.assertEqual(u.me().json["account"]["email"], "zhang.san@example.cn")

    def test_change_phone_and_email_together(self):
        u = self.new_applicant()
        phone = mobile()
        self.assertStatus(u.put("/api/v1/me", {"phone": phone, "email": "both@example.cn"}), 200)
        a = u.me().json["account"]
        self.assertEqual((a["phone"], a["email"]), (phone, "both@example.cn"))

    def test_bad_email_is_400_and_unchanged(self):
        u = self.new_applicant()
        self.assertStatus(u.put("/api/v1/me", {"email": "good@example.cn"}), 200)
        before = u.me().json["account"]
        for bad in ("not-an-email", "a@b", "a@@example.cn", "a b@example.cn", "x@" + "e" * 100 + ".cn"):
            with self.subTest(email=bad):
                self.assertError(u.put("/api/v1/me", {"email": bad}), 400, "invalid_field", "email")
                self.assertEqual(u.me().json["account"], before)

    def test_bad_email_with_good_phone_changes_neither(self):
        u = self.new_applicant()
        before = u.me().json["account"]
        r = u.put("/api/v1/me", {"phone": mobile(), "email": "bad"})
        self.assertError(r, 400, "invalid_field", "email")
        self.assertEqual(u.me().json["account"], before)

    def test_bad_phone_is_400_and_unchanged(self):
        u = self.new_applicant()
        before = u.me().json["account"]
        self.assertError(u.put("/api/v1/me", {"phone": "12345"}), 400, "invalid_field", "phone")
        self.assertEqual(u.me().json["account"], before)

    def test_phone_of_another_applicant_is_409(self):
        u, v = self.new_applicant(), self.new_applicant()
        before = u.me().json["account"]
        self.assertError(u.put("/api/v1/me", {"phone": v.body["phone"]}), 409, "phone_taken", "phone")
        self.assertEqual(u.me().json["account"], before)

    def test_applicant_cannot_remove_phone(self):
        u = self.new_applicant()
        before = u.me().json["account"]
        self.assertError(u.put("/api/v1/me", {"phone": ""}), 400, field="phone")
        self.assertEqual(u.me().json["account"], before)

    def test_wrong_type_is_invalid_field(self):
        u = self.new_applicant()
        self.assertError(u.put("/api/v1/me", {"email": 5}), 400, "invalid_field", "email")

    def test_profile_cannot_change_identity(self):
        u = self.new_applicant()
        before = u.me().json["account"]
        r = u.put("/api/v1/me", {"role": "node_admin", "id_number_masked": "x", "home": "650100",
                                 "username": "1234567890"})
        self.assertIn(r.status, (200, 400), r)
        after = u.me().json["account"]
        for k in ("role", "id_number_masked", "home", "username", "id"):
            self.assertEqual(after[k], before[k], k)

    def test_unit_admin_can_set_landline(self):
        ua = self.new_unit_admin()
        self.assertStatus(ua.put("/api/v1/me", {"phone": "0991-7654321"}), 200)
        self.assertEqual(ua.me().json["account"]["phone"], "0991-7654321")


class TestPassword(ZcCase):
    NEW = "New!Passw0rd#2027"

    def test_wrong_old_password_is_400_wrong_password(self):
        u = self.new_applicant()
        r = u.post("/api/v1/me/password", {"old": "Not!TheOld#123", "new": self.NEW})
        self.assertError(r, 400, "wrong_password", "old")
        self.assertStatus(u.me(), 200)

    def test_weak_new_password_is_400(self):
        u = self.new_applicant()
        r = u.post("/api/v1/me/password", {"old": u.password, "new": "weakweak"})
        self.assertError(r, 400, "weak_password", "new")

    def test_new_password_containing_username_is_weak(self):
        u = self.new_applicant()
        r = u.post("/api/v1/me/password", {"old": u.password, "new": "Aa!" + u.username})
        self.assertError(r, 400, "weak_password", "new")

    def test_new_password_containing_id_number_is_weak(self):
        # the rule registration applies (密码不能包含用户名、身份证号或手机号) holds for a change too
        u = self.new_applicant()
        r = u.post("/api/v1/me/password", {"old": u.password, "new": "Aa!" + u.body["id_number"]})
        self.assertError(r, 400, "weak_password", "new")
        self.assertStatus(self.client().login(u.username, u.password), 200)

    def test_new_password_containing_phone_is_weak(self):
        u = self.new_applicant()
        r = u.post("/api/v1/me/password", {"old": u.password, "new": "Aa!" + u.body["phone"]})
        self.assertError(r, 400, "weak_password", "new")
        self.assertStatus(self.client().login(u.username, u.password), 200)

    def test_same_password_is_refused(self):
        u = self.new_applicant()
        self.assertError(u.post("/api/v1/me/password", {"old": u.password, "new": u.password}), 400, field="new")

    def test_missing_fields(self):
        u = self.new_applicant()
        self.assertError(u.post("/api/v1/me/password", {"new": self.NEW}), 400, "missing_field", "old")
        self.assertError(u.post("/api/v1/me/password", {"old": u.password}), 400, "missing_field", "new")

    def test_refused_change_keeps_old_password(self):
        u = self.new_applicant()
        u.post("/api/v1/me/password", {"old": "Not!TheOld#123", "new": self.NEW})
        u.post("/api/v1/me/password", {"old": u.password, "new": "weakweak"})
        self.assertStatus(self.client().login(u.username, u.password), 200)

    def test_change_ends_other_sessions_and_keeps_this_one(self):
        u = self.new_applicant()
        other = self.client()
        self.assertStatus(other.login(u.username, u.password), 200)
        self.assertStatus(other.me(), 200)
        r = u.post("/api/v1/me/password", {"old": u.password, "new": self.NEW})
        self.assertStatus(r, 200)
        self.assertError(other.me(), 401, "login_required")
        self.assertStatus(u.me(), 200)
        # and the current session still writes (its CSRF token is unchanged)
        self.assertStatus(u.put("/api/v1/me", {"email": "still@example.cn"}), 200)

    def test_new_password_works_and_old_does_not(self):
        u = self.new_applicant()
        self.assertStatus(u.post("/api/v1/me/password", {"old": u.password, "new": self.NEW}), 200)
        self.assertStatus(self.client().login(u.username, self.NEW), 200)
        self.assertError(self.client().login(u.username, u.password), 401, "bad_credentials")

    def test_unit_admin_changes_password(self):
        ua = self.new_unit_admin()
        self.assertStatus(ua.post("/api/v1/me/password", {"old": ua.password, "new": self.NEW}), 200)
        self.assertStatus(self.client().login(ua.username, self.NEW), 200)


class TestLanguage(ZcCase):
    def test_the_chosen_language_is_kept_with_the_account(self):
        a = self.new_applicant()
        self.assertIsNone(a.me().json["account"]["lang"])
        for lang in ("ug", "zh-CN", "ug"):
            r = a.put("/api/v1/me/language", {"lang": lang})
            self.assertStatus(r, 200)
            self.assertEqual(r.json["lang"], lang)
            self.assertEqual(a.me().json["account"]["lang"], lang)
        # a new session of the same account finds it
        again = self.client()
        self.assertStatus(again.login(a.username, a.password), 200)
        self.assertEqual(again.me().json["account"]["lang"], "ug")

    def test_bad_languages_change_nothing(self):
        a = self.new_applicant()
        self.assertStatus(a.put("/api/v1/me/language", {"lang": "ug"}), 200)
        for body in ({"lang": "en"}, {"lang": "UG"}, {"lang": 1}, {}):
            with self.subTest(body=body):
                self.assertError(a.put("/api/v1/me/language", body), 400)
        self.assertEqual(a.me().json["account"]["lang"], "ug")
        self.assertError(self.client().put("/api/v1/me/language", {"lang": "ug"}), 401, "login_required")
