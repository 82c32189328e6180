"""ID-card scans (POST/GET /api/v1/me/idcard, the node admin's GET /accounts/{id}/idcard)
and the node admin's account list, which shows masked ID numbers and phones only."""
import hashlib
import re

from zc_test import GIF, JPEG, PDF, PNG, ZcCase, png_of_size

MIB = 1024 * 1024


class TestIdcardUpload(ZcCase):
    def upload(self, c, side, data, ctype="application/octet-stream"):
        return c.post(f"/api/v1/me/idcard?side={side}", raw=data, ctype=ctype)

    def assertStored(self, r, data, side, ctype):
        self.assertStatus(r, 201)
        self.assertEqual(r.json["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(r.json["size"], len(data))
        self.assertEqual(r.json["type"], ctype)
        self.assertEqual(r.json.get("side"), side)

    def test_png_front(self):
        u = self.new_applicant()
        self.assertStored(self.upload(u, "front", PNG, "image/png"), PNG, "front", "image/png")

    def test_jpeg_back(self):
        u = self.new_applicant()
        self.assertStored(self.upload(u, "back", JPEG, "image/jpeg"), JPEG, "back", "image/jpeg")

    def test_pdf(self):
        u = self.new_applicant()
        self.assertStored(self.upload(u, "front", PDF, "application/pdf"), PDF, "front", "application/pdf")

    def test_type_is_sniffed_not_declared(self):
        u = self.new_applicant()
        self.assertStored(self.upload(u, "front", PNG, "application/pdf"), PNG, "front", "image/png")

    def test_gif_is_415(self):
        u = self.new_applicant()
        self.assertError(self.upload(u, "front", GIF, "image/gif"), 415, "unsupported_type")
        self.assertError(u.get("/api/v1/me/idcard?side=front"), 404)

    def test_text_is_415(self):
        u = self.new_applicant()
        self.assertError(self.upload(u, "front", "我的身份证".encode() * 10, "text/plain"), 415, "unsupported_type")
        self.assertEqual(u.me().json["account"]["idcard"], {"front": False, "back": False})

    def test_truncated_png_is_415(self):
        u = self.new_applicant()
        self.assertError(self.upload(u, "front", PNG[:40], "image/png"), 415, "unsupported_type")
        self.assertError(u.get("/api/v1/me/idcard?side=front"), 404)

    def test_refused_upload_keeps_previous_scan(self):
        u = self.new_applicant()
        self.assertStatus(self.upload(u, "front", PNG, "image/png"), 201)
        self.assertError(self.upload(u, "front", GIF, "image/gif"), 415, "unsupported_type")
        r = u.get("/api/v1/me/idcard?side=front")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, PNG)

    def test_over_2_mib_is_413(self):
        u = self.new_applicant()
        big = png_of_size(2 * MIB + 1)
        self.assertError(self.upload(u, "front", big, "image/png"), 413, "too_large")
        self.assertError(u.get("/api/v1/me/idcard?side=front"), 404)
        self.assertStatus(u.me(), 200)

    def test_exactly_2_mib_is_accepted(self):
        u = self.new_applicant()
        data = png_of_size(2 * MIB)
        self.assertStored(self.upload(u, "back", data, "image/png"), data, "back", "image/png")

    def test_bad_side_is_400(self):
        u = self.new_applicant()
        self.assertError(self.upload(u, "left", PNG, "image/png"), 400, field="side")
        self.assertError(u.post("/api/v1/me/idcard", raw=PNG, ctype="image/png"), 400, field="side")
        self.assertFalse(u.me().json["account"]["idcard"]["front"])

    def test_empty_body_is_400(self):
        u = self.new_applicant()
        self.assertError(self.upload(u, "front", b""), 400)
        self.assertEqual(u.me().json["account"]["idcard"], {"front": False, "back": False})

    def test_upload_needs_csrf(self):
        u = self.new_applicant()
        r = u.post("/api/v1/me/idcard?side=front", raw=PNG, ctype="image/png", csrf=False)
        self.assertError(r, 403, "csrf")
        self.assertError(u.get("/api/v1/me/idcard?side=front"), 404)

    def test_anonymous_upload_is_401(self):
        self.assertError(self.upload(self.client(), "front", PNG, "image/png"), 401, "login_required")

    def test_me_shows_which_sides_are_uploaded(self):
        u = self.new_applicant()
        self.assertEqual(u.me().json["account"]["idcard"], {"front": False, "back": False})
        self.upload(u, "back", JPEG, "image/jpeg")
        self.assertEqual(u.me().json["account"]["idcard"], {"front": False, "back": True})


class TestIdcardAccess(ZcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = None

    def owner_with_scans(self):
        if type(self).owner is None:
            u = self.new_applicant()
            self.assertStatus(u.post("/api/v1/me/idcard?side=front", raw=PNG, ctype="image/png"), 201)
            self.assertStatus(u.post("/api/v1/me/idcard?side=back", raw=PDF, ctype="application/pdf"), 201)
            type(self).owner = u
        return type(self).owner

    def test_owner_gets_same_bytes_and_type(self):
        u = self.owner_with_scans()
        r = u.get("/api/v1/me/idcard?side=front")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, PNG)
        self.assertTrue(r.header("Content-Type").startswith("image/png"), r.header("Content-Type"))
        r = u.get("/api/v1/me/idcard?side=back")
        self.assertEqual(r.body, PDF)
        self.assertTrue(r.header("Content-Type").startswith("application/pdf"))

    def test_scan_is_not_cached_by_shared_caches(self):
        r = self.owner_with_scans().get("/api/v1/me/idcard?side=front")
        cc = (r.header("Cache-Control") or "").lower()
        self.assertTrue("no-store" in cc or "private" in cc, cc)

    def test_another_applicant_gets_their_own_404(self):
        self.owner_with_scans()
        other = self.new_applicant()
        r = other.get("/api/v1/me/idcard?side=front")
        self.assertError(r, 404)
        self.assertNotIn(PNG, r.body)

    def test_unit_admin_gets_403(self):
        self.owner_with_scans()
        ua = self.demo_login("unit_admin")
        r = ua.get("/api/v1/me/idcard?side=front")
        self.assertError(r, 403)
        r = ua.post("/api/v1/me/idcard?side=front", raw=PNG, ctype="image/png")
        self.assertError(r, 403)

    def test_anonymous_gets_401(self):
        self.assertError(self.client().get("/api/v1/me/idcard?side=front"), 401, "login_required")

    def test_node_admin_gets_an_applicants_scan(self):
        u = self.owner_with_scans()
        adm = self.demo_login("node_admin")
        r = adm.get(f"/api/v1/accounts/{u.account['id']}/idcard?side=front")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, PNG)
        self.assertTrue(r.header("Content-Type").startswith("image/png"))
        r = adm.get(f"/api/v1/accounts/{u.account['id']}/idcard?side=back")
        self.assertEqual(r.body, PDF)

    def test_node_admin_unknown_account_is_404(self):
        adm = self.demo_login("node_admin")
        self.assertError(adm.get("/api/v1/accounts/a000000000000000000000000/idcard?side=front"), 404)

    def test_node_admin_bad_side_is_400(self):
        u = self.owner_with_scans()
        adm = self.demo_login("node_admin")
        self.assertError(adm.get(f"/api/v1/accounts/{u.account['id']}/idcard?side=x"), 400)

    def test_other_roles_cannot_use_admin_route(self):
        u = self.owner_with_scans()
        for role in ("dept_admin", "auditor", "unit_admin"):
            with self.subTest(role=role):
                r = self.demo_login(role).get(f"/api/v1/accounts/{u.account['id']}/idcard?side=front")
                self.assertError(r, 403)
        r = self.new_applicant().get(f"/api/v1/accounts/{u.account['id']}/idcard?side=front")
        self.assertError(r, 403)
        r = u.get(f"/api/v1/accounts/{u.account['id']}/idcard?side=front")
        self.assertError(r, 403)


class TestAccountList(ZcCase):
    def test_node_admin_list_masks_id_numbers_and_phones(self):
        u = self.new_applicant()
        adm = self.demo_login("node_admin")
        r = adm.get("/api/v1/accounts")
        self.assertStatus(r, 200)
        text = r.body.decode()
        self.assertIsNone(re.search(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])", text),
                          "a full ID number appears in the list")
        self.assertNotIn(u.body["id_number"], text)
        self.assertNotIn(u.body["phone"], text)
        mine = [a for a in r.json["items"] if a["username"] == u.username]
        self.assertEqual(len(mine), 1)
        idn, phone = u.body["id_number"], u.body["phone"]
        self.assertEqual(mine[0]["id_number_masked"], idn[:4] + "*" * 10 + idn[-4:])
        self.assertEqual(mine[0]["phone"], phone[:3] + "****" + phone[-4:])

    def test_no_list_entry_has_a_full_phone(self):
        adm = self.demo_login("node_admin")
        for a in adm.get("/api/v1/accounts").json["items"]:
            if a.get("phone"):
                self.assertIn("*", a["phone"], a)
            self.assertNotIn("password_hash", a)
            self.assertNotIn("id_enc", a)

    def test_list_search_by_name(self):
        u = self.new_applicant()
        items = self.admin_lists(u.body["name"])
        self.assertEqual([a["username"] for a in items], [u.username])

    def test_list_is_node_admin_only(self):
        self.assertError(self.client().get("/api/v1/accounts"), 401, "login_required")
        for role in ("auditor", "dept_admin", "unit_admin"):
            with self.subTest(role=role):
                self.assertError(self.demo_login(role).get("/api/v1/accounts"), 403)
        self.assertError(self.new_applicant().get("/api/v1/accounts"), 403)
