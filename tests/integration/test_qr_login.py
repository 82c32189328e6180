"""扫码登录 (node/qrlogin.c): a desktop browser asks for a code and shows its QR code; a
phone logged in to the node approves it; the desktop hears of it on WS /ws/qr (zc-qr,
the pending code alone authenticates) and takes its own session with the secret cookie
it got with the code. Approve, refuse, expire (on the socket too), reuse, a second
browser presenting the same code, an approval from another account once one has
decided, racing approvals and racing session requests from separate processes, the
phone's session and CSRF token required, bad codes, and the per-address limit."""
import os
import sqlite3
import time

from test_applications import API, AppFlow
from test_live import Closed, LiveSocket
from zc_test import Client, Send, ZcCase, fresh_source, qr_texts, race

DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
class QrCase(AppFlow, ZcCase):
    NODE_LABEL = "qrlogin"

    def desktop(self):
        """A browser on the login page that asked for a code: (client, code, url)."""
        d = Client(self.node, source=fresh_source())
        r = d.post(f"{API}/qr-login", headers={"User-Agent": DESKTOP_UA})
        self.assertStatus(r, 201)
        self.assertIn("zc_qr", d.cookies, "the code comes with the browser's secret cookie")
        self.assertEqual(r.json["expires_in"], 120)
        return d, r.json["code"], r.json["url"]

    def decide(self, phone, code, approve=True):
        return phone.post(f"{API}/qr-login/{code}/decision", {"approve": approve})

    def take(self, d, code):
        r = d.post(f"{API}/qr-login/{code}/session")
        if r.status == 200:
            d.csrf = r.json["csrf"]
        return r

    def socket(self, code):
        return LiveSocket(self.node.port, protocol="zc-qr", path=f"/ws/qr?code={code}")

    def db(self, sql, *args):
        con = sqlite3.connect(os.path.join(self.node.data, "node.db"), timeout=10)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()


class TestQrLogin(QrCase):
    def test_approved_on_the_phone_the_desktop_hears_it_and_logs_in_once(self):
        d, code, url = self.desktop()
        self.assertRegex(code, r"^[0-9a-f]{32}$")
        self.assertEqual(url, f"http://127.0.0.1:{self.node.port}/#/qr?code={code}")
        # the QR code the page shows opens that URL
        png = Client(self.node).get(f"{API}/qr-login/{code}/qr.png")
        self.assertStatus(png, 200)
        self.assertEqual(png.headers.get("Content-Type"), "image/png")
        self.assertEqual(qr_texts(png.body), [url])
        ws = self.socket(code)
        self.assertEqual(ws.status, 101)
        first = ws.recv_json()
        self.assertEqual(first["type"], "waiting")
        self.assertTrue(100 < first["expires_in"] <= 120, first)
        self.assertError(self.take(d, code), 409, "qr_pending")

        phone = self.new_applicant()
        seen = phone.get(f"{API}/qr-login/{code}")
        self.assertStatus(seen, 200)
        q = seen.json["qr_login"]
        self.assertEqual((q["state"], q["node"], q["node_name"], q["agent"]), ("pending", "650000", "自治区", DESKTOP_UA))
        self.assertStatus(self.decide(phone, code), 200)
        self.assertEqual(ws.recv_json()["type"], "approved")
        with self.assertRaises(Closed):
            ws.recv_json()

        # another browser holding the code (a screenshot) gets nothing
        thief = Client(self.node, source=fresh_source())
        self.assertError(self.take(thief, code), 403, "qr_other_browser")
        other, _, _ = self.desktop()          # a browser with a secret of its own
        self.assertError(self.take(other, code), 403, "qr_other_browser")
        kept = dict(d.cookies)                # the secret as it was, to replay
        r = self.take(d, code)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["account"]["username"], phone.username)
        self.assertNotIn("zc_qr", d.cookies, "the secret cookie is cleared")
        self.assertEqual(d.get(f"{API}/me").json["account"]["username"], phone.username)
        self.assertStatus(phone.get(f"{API}/me"), 200)   # the phone stays logged in
        # used once: the same browser's secret replayed gets nothing more
        replay = Client(self.node)
        replay.cookies = {"zc_qr": kept["zc_qr"]}
        self.assertError(self.take(replay, code), 409, "qr_gone")
        self.assertError(self.decide(phone, code), 409, "qr_decided")
        self.assertError(Client(self.node).get(f"{API}/qr-login/{code}/qr.png"), 404, "not_found")
        self.assertEqual(phone.get(f"{API}/qr-login/{code}").json["qr_login"]["state"], "used")

    def test_refused_on_the_phone(self):
        d, code, _ = self.desktop()
        ws = self.socket(code)
        self.assertEqual(ws.recv_json()["type"], "waiting")
        phone = self.new_applicant()
        r = self.decide(phone, code, approve=False)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["state"], "refused")
        self.assertEqual(ws.recv_json()["type"], "refused")
        self.assertError(self.take(d, code), 409, "qr_gone")
        self.assertError(d.get(f"{API}/me"), 401)

    def test_once_one_account_decided_another_cannot(self):
        d, code, _ = self.desktop()
        a, b = self.new_applicant(), self.new_applicant()
        self.assertStatus(self.decide(a, code), 200)
        self.assertError(self.decide(b, code), 409, "qr_decided")
        self.assertError(self.decide(b, code, approve=False), 409, "qr_decided")
        self.assertEqual(self.take(d, code).json["account"]["username"], a.username)

    def test_an_expired_code_is_refused_and_the_socket_says_so(self):
        d, code, _ = self.desktop()
        phone = self.new_applicant()
        self.db("UPDATE qr_logins SET expires = ? WHERE id = ?", int(time.time()) - 1, code)
        self.assertEqual(phone.get(f"{API}/qr-login/{code}").json["qr_login"]["state"], "expired")
        self.assertError(self.decide(phone, code), 409, "qr_decided")
        self.assertError(self.take(d, code), 409, "qr_gone")
        self.assertEqual(self.socket(code).status, 404, "no socket for an expired code")
        # approved, then expired before the desktop took it
        d, code, _ = self.desktop()
        self.assertStatus(self.decide(phone, code), 200)
        self.db("UPDATE qr_logins SET expires = ? WHERE id = ?", int(time.time()) - 1, code)
        self.assertError(self.take(d, code), 409, "qr_gone")
        # the socket of a code about to expire hears of it when it does
        d, code, _ = self.desktop()
        self.db("UPDATE qr_logins SET expires = ? WHERE id = ?", int(time.time()) + 2, code)
        ws = self.socket(code)
        self.assertLessEqual(ws.recv_json()["expires_in"], 2)
        self.assertEqual(ws.recv_json(timeout=6)["type"], "expired")

    def test_the_phone_needs_its_session_and_csrf_token(self):
        d, code, _ = self.desktop()
        self.assertError(Client(self.node).get(f"{API}/qr-login/{code}"), 401, "login_required")
        self.assertError(Client(self.node).post(f"{API}/qr-login/{code}/decision", {"approve": True}), 401,
                         "login_required")
        phone = self.new_applicant()
        self.assertError(phone.post(f"{API}/qr-login/{code}/decision", {"approve": True}, csrf=False), 403, "csrf")
        self.assertError(phone.post(f"{API}/qr-login/{code}/decision", {"approve": "yes"}), 400, "invalid_field")
        self.assertError(phone.post(f"{API}/qr-login/{code}/decision", {}), 400, "invalid_field")
        self.assertEqual(phone.get(f"{API}/qr-login/{code}").json["qr_login"]["state"], "pending", "nothing changed")

    def test_bad_codes(self):
        phone = self.new_applicant()
        for bad in ("0" * 32, "xyz", "A" * 32, "0" * 31, "0" * 33):
            with self.subTest(code=bad):
                self.assertError(phone.get(f"{API}/qr-login/{bad}"), 404, "not_found")
                self.assertError(self.decide(phone, bad), 404, "not_found")
                self.assertError(Client(self.node).post(f"{API}/qr-login/{bad}/session"), 404, "not_found")
                self.assertEqual(self.socket(bad).status, 404)
        self.assertEqual(LiveSocket(self.node.port, protocol="zc-qr", path="/ws/qr").status, 404)
        d, code, _ = self.desktop()
        self.assertEqual(LiveSocket(self.node.port, protocol="zc-live", path=f"/ws/qr?code={code}").status, 400,
                         "only zc-qr on /ws/qr")

    def test_an_address_asks_for_a_limited_number_of_codes(self):
        c = Client(self.node, source=fresh_source())
        for _ in range(20):
            self.assertStatus(c.post(f"{API}/qr-login"), 201)
        r = c.post(f"{API}/qr-login")
        self.assertError(r, 429, "too_many_requests")
        self.assertTrue(r.headers.get("Retry-After"))
        self.assertStatus(Client(self.node, source=fresh_source()).post(f"{API}/qr-login"), 201)


class TestQrLoginRaces(QrCase):
    def test_racing_approvals_from_two_accounts_let_one_decide(self):
        for _ in range(3):
            d, code, _ = self.desktop()
            phones = [self.new_applicant() for _ in range(4)]
            got = race([Send(self.node.port, f"{API}/qr-login/{code}/decision", {"approve": True}, client=p)
                        for p in phones])
            self.assertEqual(sorted(s for s, _, _ in got), [200, 409, 409, 409], got)
            self.assertEqual({c for s, c, _ in got if s == 409}, {"qr_decided"})
            self.assertIn(self.take(d, code).json["account"]["username"], {p.username for p in phones})

    def test_racing_session_requests_of_one_browser_get_one_session(self):
        for _ in range(3):
            d, code, _ = self.desktop()
            phone = self.new_applicant()
            self.assertStatus(self.decide(phone, code), 200)
            got = race([Send(self.node.port, f"{API}/qr-login/{code}/session", client=d) for _ in range(4)])
            self.assertEqual(sorted(s for s, _, _ in got), [200, 409, 409, 409], got)
            self.assertEqual([j["account"]["username"] for s, _, j in got if s == 200], [phone.username])
