"""Limits on failed logins for clients without a device cookie: per (account, address) 5 in
15 minutes, per address 20 (the account-wide limit, device cookies and attacks on the
limits: test_login_attacks.py). They run on their own node, each test from its own
loopback source address (127.0.0.x), so that the address limit of one test never touches
another test or the shared node."""
import re

from zc_test import ZcCase


class TestLoginLimits(ZcCase):
    NODE_LABEL = "limits"
    NODE_DEMO = False
    WRONG = "Wrong!Passw0rd#9"

    def assertTooMany(self, r):
        e = self.assertError(r, 429, "too_many_attempts")
        self.assertIsInstance(e.get("retry_after"), int, r)
        self.assertGreater(e["retry_after"], 0)
        self.assertLessEqual(e["retry_after"], 15 * 60)
        ra = r.header("Retry-After")
        self.assertIsNotNone(ra, "no Retry-After header")
        self.assertRegex(ra, r"^\d+$")
        self.assertGreater(int(ra), 0)
        return e

    def test_five_failures_block_the_account_even_with_the_right_password(self):
        src = "127.0.0.2"
        u = self.new_applicant(source=src)
        c = self.client(src)
        for i in range(5):
            self.assertError(c.login(u.username, self.WRONG), 401, "bad_credentials")
        r = c.login(u.username, u.password)
        self.assertTooMany(r)
        self.assertNotIn("zc_session", c.cookies)
        self.assertError(c.me(), 401, "login_required")

    def test_account_block_applies_to_every_login_name(self):
        src = "127.0.0.5"
        u = self.new_applicant(source=src)
        c = self.client(src)
        for i in range(5):
            self.assertError(c.login(u.username, self.WRONG), 401, "bad_credentials")
        self.assertTooMany(c.login(u.body["id_number"], u.password))
        self.assertTooMany(c.login(u.body["phone"], u.password))

    def test_four_failures_do_not_block(self):
        src = "127.0.0.8"
        u = self.new_applicant(source=src)
        c = self.client(src)
        for i in range(4):
            self.assertError(c.login(u.username, self.WRONG), 401, "bad_credentials")
        self.assertStatus(c.login(u.username, u.password), 200)

    def test_success_resets_the_account_count(self):
        src = "127.0.0.9"
        u = self.new_applicant(source=src)
        c = self.client(src)
        for i in range(4):
            self.assertError(c.login(u.username, self.WRONG), 401, "bad_credentials")
        self.assertStatus(c.login(u.username, u.password), 200)
        for i in range(4):
            self.assertError(self.client(src).login(u.username, self.WRONG), 401, "bad_credentials")
        self.assertStatus(self.client(src).login(u.username, u.password), 200)

    def test_other_accounts_are_not_blocked_by_one_account(self):
        src = "127.0.0.10"
        u, v = self.new_applicant(source=src), self.new_applicant(source=src)
        for i in range(5):
            self.client(src).login(u.username, self.WRONG)
        self.assertTooMany(self.client(src).login(u.username, u.password))
        self.assertStatus(self.client(src).login(v.username, v.password), 200)

    def test_unknown_login_is_limited_too(self):
        src = "127.0.0.11"
        for i in range(5):
            self.assertError(self.client(src).login("8888888888", self.WRONG), 401, "bad_credentials")
        self.assertTooMany(self.client(src).login("8888888888", self.WRONG))

    def test_twenty_failures_from_one_address_block_that_address(self):
        src = "127.0.0.3"
        users = [self.new_applicant(source="127.0.0.4") for _ in range(5)]
        n = 0
        for u in users[:4]:          # 4 accounts x 4 failures: no account reaches its own limit
            for i in range(4):
                self.assertError(self.client(src).login(u.username, self.WRONG), 401, "bad_credentials")
                n += 1
        for i in range(4):           # and 4 names nobody has
            self.assertError(self.client(src).login(f"77777777{i:02d}", self.WRONG), 401, "bad_credentials")
            n += 1
        self.assertEqual(n, 20)
        fresh = users[4]             # never failed, right password, from the blocked address
        c = self.client(src)
        self.assertTooMany(c.login(fresh.username, fresh.password))
        self.assertNotIn("zc_session", c.cookies)
        # the block is the address's, not the account's
        self.assertStatus(self.client("127.0.0.12").login(fresh.username, fresh.password), 200)

    def test_retry_after_message_is_chinese_minutes(self):
        src = "127.0.0.13"
        u = self.new_applicant(source=src)
        for i in range(5):
            self.client(src).login(u.username, self.WRONG)
        e = self.assertTooMany(self.client(src).login(u.username, self.WRONG))
        self.assertTrue(re.search(r"\d+\s*分钟", e["message"]), e["message"])
