"""Account recovery (找回用户名或密码), appeals (账号申诉) and the sender.

Codes by e-mail and by phone: they name the username, set a new password once, end the
account's sessions, expire, allow five tries, and asking is rate-limited per login and
per address; no answer says whether an account exists. Appeals with an ID-card scan or a
unit's licence: the node admin rejects one with a reason and approves another, whose
one-time link sets a new password. Messages: the outbox the node admin reads (no
gateway), and real e-mail over SMTP with STARTTLS to an aiosmtpd server the test starts
(a server without STARTTLS is refused). Notifications: an applicant who opted in hears
of a return and of a formal pass with the fee due."""
import email
import email.policy
import json
import mailbox
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse

from test_applications import API, PDF, PNG, AppFlow
from zc_test import Client, Node, Send, ZcCase, fresh_source, free_port, id_number, person_name, race, until

NEW_PASSWORD = "Nw!Recover3d#2026"
RACERS = [f"Race!Passw0rd#{i}x" for i in range(6)]


class RecoveryFlow:
    def race_resets(self, path, bodies):
        """Each body (with its own password) POSTed to path from its own process at one
        moment -> [(password, status, code)]."""
        got = race([Send(self.node.port, path, b, source=fresh_source()) for b in bodies])
        return [(b["password"], status, code) for b, (status, code, _) in zip(bodies, got)]

    def assert_one_wins(self, got, username, loser_code):
        """Exactly one of the racing resets set its password; the others lost with loser_code."""
        wins = [pw for pw, status, _ in got if status == 200]
        self.assertEqual(len(wins), 1, got)
        self.assertEqual(sorted((s, c) for _, s, c in got if s != 200), [(400, loser_code)] * (len(got) - 1), got)
        for pw in RACERS:
            self.assertEqual(self.anon().login(username, pw).status, 200 if pw == wins[0] else 401, pw)

    def anon(self):
        return Client(self.node, source=fresh_source())

    def outbox(self):
        r = self.node_admin().get(f"{API}/messages")
        self.assertStatus(r, 200)
        return r.json["items"]

    def messages_to(self, to):
        return [m for m in self.outbox() if m["to"] == to]

    def code_for(self, to):
        m = self.messages_to(to)[0]   # the newest
        return re.search(r"验证码：(\d{6})", m["body"]).group(1)

    def ask(self, c, login, channel):
        return c.post(f"{API}/recovery/codes", {"login": login, "channel": channel})

    def reset(self, c, login, code, password=NEW_PASSWORD):
        return c.post(f"{API}/recovery/reset", {"login": login, "code": code, "password": password})

    def db(self, sql, *args):
        con = sqlite3.connect(os.path.join(self.node.data, "node.db"), timeout=10)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()

    def with_email(self):
        a = self.new_applicant()
        addr = f"u{a.username}@example.cn"
        self.assertStatus(a.put(f"{API}/me", {"email": addr}), 200)
        a.email = addr
        return a


class TestCodes(RecoveryFlow, AppFlow, ZcCase):
    NODE_LABEL = "recovery"

    def test_a_code_by_email_names_the_username_and_sets_the_password_once(self):
        a = self.with_email()
        c = self.anon()
        r = self.ask(c, a.username, "email")
        self.assertStatus(r, 202)
        self.assertIn("验证码已发送", r.json["message"])
        m = self.messages_to(a.email)
        self.assertEqual((len(m), m[0]["channel"], m[0]["state"], m[0]["username"]), (1, "email", "kept", a.username))
        self.assertIn(a.username, m[0]["body"])
        code = self.code_for(a.email)
        wrong = "000000" if code != "000000" else "111111"
        self.assertError(self.reset(c, a.username, wrong), 400, "invalid_code")
        self.assertError(self.reset(c, a.username, code, "short"), 400, "weak_password")
        self.assertStatus(self.reset(c, a.username, code), 200)
        self.assertError(a.me(), 401)                            # its sessions ended
        self.assertEqual(self.client().login(a.username, a.password).status, 401)
        self.assertStatus(self.client().login(a.username, NEW_PASSWORD), 200)
        self.assertError(self.reset(c, a.username, code, "An0ther!Passw0rd#1"), 400, "invalid_code")   # used once

    def test_a_code_by_phone_stays_in_the_outbox_and_any_login_names_the_account(self):
        a = self.new_applicant()
        c = self.anon()
        self.assertStatus(self.ask(c, a.body["phone"], "sms"), 202)
        m = self.messages_to(a.body["phone"])
        self.assertEqual((m[0]["channel"], m[0]["state"]), ("sms", "kept"))
        self.assertStatus(self.reset(c, a.body["id_number"], self.code_for(a.body["phone"])), 200)
        self.assertStatus(self.client().login(a.body["phone"], NEW_PASSWORD), 200)

    def test_the_answer_never_says_whether_an_account_exists(self):
        before = len(self.outbox())
        c = self.anon()
        nobody = self.ask(c, "1999999999", "email")
        no_email = self.ask(c, self.new_applicant().username, "email")    # an account with no e-mail
        a = self.with_email()
        real = self.ask(c, a.username, "email")
        self.assertEqual((nobody.status, no_email.status, real.status), (202, 202, 202))
        self.assertEqual(nobody.json, real.json)
        self.assertEqual(no_email.json, real.json)
        self.assertEqual(len(self.outbox()), before + 1)
        self.assertError(self.reset(c, "1999999999", "123456"), 400, "invalid_code")
        for body, field in (({"channel": "email"}, "login"), ({"login": "x", "channel": "fax"}, "channel"),
                            ({"login": "x" * 65, "channel": "sms"}, "login")):
            self.assertError(c.post(f"{API}/recovery/codes", body), 400, field=field)

    def test_racing_resets_with_one_code_set_one_password(self):
        a = self.new_applicant()
        self.assertStatus(self.ask(self.anon(), a.username, "sms"), 202)
        code = self.code_for(a.body["phone"])
        got = self.race_resets(f"{API}/recovery/reset",
                   [{"login": a.username, "code": code, "password": pw} for pw in RACERS])
        self.assert_one_wins(got, a.username, "invalid_code")

    def test_codes_expire_and_allow_five_tries(self):
        a = self.with_email()
        c = self.anon()
        self.assertStatus(self.ask(c, a.username, "email"), 202)
        code = self.code_for(a.email)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            self.assertError(self.reset(c, a.username, wrong), 400, "invalid_code")
        self.assertError(self.reset(c, a.username, code), 400, "invalid_code")           # tries used up
        # a new code (asked by another of its logins: the minute's gap is per login)
        self.assertStatus(self.ask(c, a.body["phone"], "email"), 202)
        code = self.code_for(a.email)
        self.db("UPDATE recovery_codes SET expires = 0 WHERE account_id = ?", a.account["id"])
        self.assertError(self.reset(c, a.username, code), 400, "invalid_code")           # expired
        self.assertStatus(self.ask(c, a.body["id_number"], "email"), 202)
        first = self.code_for(a.email)
        self.assertStatus(self.client().login(a.username, a.password), 200)              # nothing changed yet
        self.assertStatus(self.reset(c, a.username, first), 200)

    def test_asking_is_rate_limited_per_login_and_per_address(self):
        a = self.with_email()
        c = self.anon()
        self.assertStatus(self.ask(c, a.username, "email"), 202)
        self.assertError(self.ask(self.anon(), a.username, "email"), 429, "too_many_requests")
        self.assertStatus(self.ask(c, "1888888888", "sms"), 202)
        self.assertError(self.ask(self.anon(), "1888888888", "sms"), 429, "too_many_requests")  # nobody's: the same
        for i in range(18):
            self.assertStatus(self.ask(c, f"17{i:08d}", "sms"), 202)
        r = self.ask(c, "1666666666", "sms")
        self.assertError(r, 429, "too_many_requests")
        self.assertGreater(int(r.headers["Retry-After"]), 0)


class TestAppeals(RecoveryFlow, AppFlow, ZcCase):
    NODE_LABEL = "recovery"

    def appeal(self, c, kind, scan, ctype, **q):
        return c.post(f"{API}/appeals?" + urllib.parse.urlencode(dict(q, kind=kind)), raw=scan, ctype=ctype)

    def pending(self):
        r = self.node_admin().get(f"{API}/appeals?state=pending")
        self.assertStatus(r, 200)
        return {x["id"]: x for x in r.json["items"]}

    def decide(self, appeal_id, approve, reason=None):
        body = {"approve": approve}
        if reason is not None:
            body["reason"] = reason
        return self.node_admin().post(f"{API}/appeals/{appeal_id}/decision", body)

    def person_appeal(self, a, contact):
        r = self.appeal(self.anon(), "person", PNG, "image/png", name=a.body["name"], id_number=a.body["id_number"],
                        contact=contact, reason="手机号已停用，忘记密码")
        self.assertStatus(r, 201)
        return r.json["appeal"]["id"]

    def link_of(self, contact):
        m = self.messages_to(contact)[0]
        q = urllib.parse.parse_qs(m["body"].split("?", 1)[1].split()[0])
        return q["appeal"][0], q["token"][0]

    def test_an_appeal_rejected_with_a_reason(self):
        a = self.new_applicant()
        contact = f"p{a.username}@example.cn"
        pid = self.person_appeal(a, contact)
        p = self.pending()[pid]
        self.assertEqual((p["username"], p["kind"], p["state"]), (a.username, "person", "pending"))
        self.assertNotIn(a.body["id_number"], json.dumps(p))          # masked in the queue
        scan = self.node_admin().get(f"{API}/appeals/{pid}/scan")
        self.assertStatus(scan, 200)
        self.assertEqual(scan.body, PNG)
        self.assertError(self.decide(pid, False), 400, "missing_field")  # a rejection gives its reason
        r = self.decide(pid, False, "身份证扫描件模糊，请重新提交")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["appeal"]["state"], "rejected")
        self.assertIn("身份证扫描件模糊", self.messages_to(contact)[0]["body"])
        self.assertError(self.decide(pid, True), 409, "appeal_decided")
        self.assertNotIn(pid, self.pending())
        self.assertStatus(self.client().login(a.username, a.password), 200)  # nothing changed

    def test_an_approved_appeal_sets_a_new_password_once(self):
        a = self.new_applicant()
        contact = a.body["phone"]
        pid = self.person_appeal(a, contact)
        self.assertStatus(self.decide(pid, True), 200)
        appeal, token = self.link_of(contact)
        self.assertEqual(appeal, pid)
        self.assertIn(a.username, self.messages_to(contact)[0]["body"])
        c = self.anon()
        bad = "0" * 32 if token != "0" * 32 else "1" * 32
        self.assertError(c.post(f"{API}/recovery/appeal-reset", {"appeal": pid, "token": bad, "password": NEW_PASSWORD}),
                         400, "invalid_token")
        self.assertError(c.post(f"{API}/recovery/appeal-reset", {"appeal": pid, "token": token, "password": "weak"}),
                         400, "weak_password")
        self.assertStatus(c.post(f"{API}/recovery/appeal-reset", {"appeal": pid, "token": token, "password": NEW_PASSWORD}),
                          200)
        self.assertError(a.me(), 401)
        self.assertStatus(self.client().login(a.username, NEW_PASSWORD), 200)
        self.assertError(c.post(f"{API}/recovery/appeal-reset", {"appeal": pid, "token": token,
                                                                "password": "An0ther!Passw0rd#1"}), 400, "invalid_token")

    def test_racing_resets_with_one_link_set_one_password(self):
        a = self.new_applicant()
        pid = self.person_appeal(a, a.body["phone"])
        self.assertStatus(self.decide(pid, True), 200)
        appeal, token = self.link_of(a.body["phone"])
        got = self.race_resets(f"{API}/recovery/appeal-reset",
                   [{"appeal": appeal, "token": token, "password": pw} for pw in RACERS])
        self.assert_one_wins(got, a.username, "invalid_token")

    def test_a_unit_appeals_with_its_licence(self):
        u = self.new_unit_admin()
        contact = f"unit{u.username}@example.cn"
        r = self.appeal(self.anon(), "unit", PDF, "application/pdf", name=u.body["name"], credit_code=u.body["credit_code"],
                        contact=contact)
        self.assertStatus(r, 201)
        pid = r.json["appeal"]["id"]
        self.assertEqual(self.pending()[pid]["username"], u.username)
        self.assertStatus(self.decide(pid, True, "营业执照与登记信息一致"), 200)
        appeal, token = self.link_of(contact)
        self.assertStatus(self.anon().post(f"{API}/recovery/appeal-reset",
                                           {"appeal": appeal, "token": token, "password": NEW_PASSWORD}), 200)
        self.assertStatus(self.client().login(u.username, NEW_PASSWORD), 200)

    def test_an_appeal_naming_nobody_looks_the_same_and_is_only_rejected(self):
        a = self.new_applicant()
        r = self.appeal(self.anon(), "person", PNG, "image/png", name=person_name(), id_number=a.body["id_number"],
                        contact="13812345678")                  # the right ID number, another name
        self.assertStatus(r, 201)
        pid = r.json["appeal"]["id"]
        self.assertIsNone(self.pending()[pid]["username"])
        self.assertError(self.decide(pid, True), 409, "no_account")
        self.assertStatus(self.decide(pid, False, "信息不符"), 200)

    def test_an_approved_link_expires(self):
        a = self.new_applicant()
        contact = f"e{a.username}@example.cn"
        pid = self.person_appeal(a, contact)
        self.assertStatus(self.decide(pid, True), 200)
        appeal, token = self.link_of(contact)
        self.db("UPDATE appeals SET reset_expires = 0 WHERE id = ?", pid)
        self.assertError(self.anon().post(f"{API}/recovery/appeal-reset",
                                          {"appeal": appeal, "token": token, "password": NEW_PASSWORD}), 400, "invalid_token")

    def test_bad_appeals_are_refused_and_change_nothing(self):
        before = set(self.pending())
        ok = {"name": person_name(), "id_number": id_number(), "contact": "13912345678"}
        good = ok["id_number"]
        bad_id = good[:17] + ("0" if good[17] != "0" else "1")      # the check digit broken
        c = self.anon()
        cases = [("person", PNG, dict(ok, id_number=bad_id)), ("person", PNG, dict(ok, contact="邮箱")),
                 ("person", PNG, {k: v for k, v in ok.items() if k != "name"}), ("unit", PDF, dict(ok, credit_code="12")),
                 ("nobody", PNG, ok), ("person", PNG, dict(ok, reason="长" * 201))]
        for kind, scan, q in cases:
            r = self.appeal(c, kind, scan, "image/png", **q)
            self.assertEqual(r.status, 400, (kind, q, r.body[:200]))
        self.assertError(self.appeal(c, "person", b"", "image/png", **ok), 400, "empty_file")
        self.assertError(self.appeal(c, "person", b"GIF89a not allowed", "image/gif", **ok), 415, "unsupported_type")
        self.assertEqual(set(self.pending()), before)
        # nobody but the node admin reads the queue or a scan
        for who in (self.anon(), self.new_applicant(), self.committee_admin()):
            self.assertIn(who.get(f"{API}/appeals").status, (401, 403))

    def test_one_contact_has_few_appeals_pending(self):
        a = self.new_applicant()
        contact = f"many{a.username}@example.cn"
        for _ in range(3):
            self.person_appeal(a, contact)
        r = self.appeal(self.anon(), "person", PNG, "image/png", name=a.body["name"], id_number=a.body["id_number"],
                        contact=contact)
        self.assertError(r, 429, "too_many_requests")


class TestNotifications(RecoveryFlow, AppFlow, ZcCase):
    NODE_LABEL = "recovery"

    def test_an_applicant_who_opted_in_hears_of_a_return_and_the_fee_due(self):
        a = self.at_committee()
        addr = f"n{a.username}@example.cn"
        self.assertStatus(a.put(f"{API}/me", {"email": addr}), 200)
        self.assertError(a.put(f"{API}/me/notifications", {"enabled": "yes"}), 400, "invalid_field")
        self.assertStatus(a.put(f"{API}/me/notifications", {"enabled": True}), 200)
        self.assertTrue(a.me().json["account"]["notify"])
        cmte = self.committee_admin()
        self.assertStatus(self.review(cmte, a.app_id, "return", opinions={"papers": "请补充论文检索证明"}), 200)
        got = until(lambda: self.messages_to(addr), 10)
        self.assertTrue(got, "no notification of the return")
        self.assertIn("已被退回", got[0]["body"])
        self.assertStatus(self.submit(a), 200)                    # their own step: no message
        self.assertStatus(self.review(a.unit_admin, a.app_id, "forward", recommendation="同意推荐"), 200)
        self.assertStatus(self.review(self.dept_admin(), a.app_id, "forward"), 200)
        self.assertStatus(self.review(cmte, a.app_id, "forward"), 200)   # formal review passed: the fee is due
        fee = until(lambda: [m for m in self.messages_to(addr) if "形式审查" in m["body"]], 10)
        self.assertTrue(fee, self.messages_to(addr))
        self.assertIn("评审费300.00元", fee[0]["body"])
        bodies = [m["body"] for m in self.messages_to(addr)]
        self.assertFalse(any("基层单位审核" in b and "退回" in b for b in bodies))
        n = len(self.messages_to(addr))
        self.assertStatus(a.put(f"{API}/me/notifications", {"enabled": False}), 200)
        self.assertStatus(self.review(cmte, a.app_id, "meeting"), 200)
        time.sleep(0.5)
        self.assertEqual(len(self.messages_to(addr)), n)          # opted out: nothing more

    def test_nobody_is_told_without_asking(self):
        a = self.at_committee()
        addr = f"q{a.username}@example.cn"
        self.assertStatus(a.put(f"{API}/me", {"email": addr}), 200)
        self.assertStatus(self.review(self.committee_admin(), a.app_id, "return", opinions={"papers": "请补充"}), 200)
        time.sleep(0.5)
        self.assertEqual(self.messages_to(addr), [])


class SmtpServer:
    """Debian's aiosmtpd on a free loopback port, delivering into a Maildir; with STARTTLS
    (a self-signed certificate the node is told to trust) unless plain."""

    def __init__(self, plain=False):
        self.dir = tempfile.mkdtemp(prefix="zc-smtp-")
        self.port = free_port()
        self.cert = os.path.join(self.dir, "cert.pem")
        args = ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}"]
        if not plain:
            key = os.path.join(self.dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", self.cert,
                            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
            args += ["--tlscert", self.cert, "--tlskey", key]
        self.proc = subprocess.Popen(args + ["-c", "aiosmtpd.handlers.Mailbox", os.path.join(self.dir, "mail")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket
        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        assert until(up, 10), "aiosmtpd did not start"

    def config(self, starttls=True):
        c = {"url": f"smtp://127.0.0.1:{self.port}", "from": "zhicheng@hrss.xj.example.cn", "starttls": starttls}
        if os.path.exists(self.cert):
            c["cafile"] = self.cert
        return c

    def messages(self):
        box = mailbox.Maildir(os.path.join(self.dir, "mail"), create=True)
        return [email.message_from_bytes(box.get_file(k).read(), policy=email.policy.default) for k in box.keys()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class SmtpCase(RecoveryFlow, AppFlow, ZcCase):
    PLAIN = False

    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpServer(plain=cls.PLAIN)

        def prepare(node):
            os.makedirs(node.data, exist_ok=True)
            with open(os.path.join(node.data, "smtp.json"), "w") as f:
                json.dump(cls.smtp.config(starttls=True), f)
        cls.node = Node("smtp-plain" if cls.PLAIN else "smtp", prepare=prepare).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        cls.smtp.stop()


class TestSmtp(SmtpCase):
    def test_a_code_arrives_by_real_email_over_starttls(self):
        a = self.with_email()
        c = self.anon()
        self.assertStatus(self.ask(c, a.username, "email"), 202)
        got = until(lambda: [m for m in self.smtp.messages() if m["To"] == a.email], 20)
        self.assertTrue(got, "no e-mail arrived")
        m = got[0]
        self.assertEqual(m["Subject"], "职称申报评审系统：找回用户名或密码")
        self.assertEqual(m["From"], "zhicheng@hrss.xj.example.cn")
        body = m.get_content()
        self.assertIn(a.username, body)
        code = re.search(r"验证码：(\d{6})", body).group(1)
        out = until(lambda: [x for x in self.messages_to(a.email) if x["state"] == "sent"], 10)
        self.assertTrue(out)
        self.assertIsNone(out[0]["body"])                     # what went out is not shown again
        self.assertStatus(self.reset(c, a.username, code), 200)
        self.assertStatus(self.client().login(a.username, NEW_PASSWORD), 200)


class TestSmtpWithoutStarttls(SmtpCase):
    PLAIN = True

    def test_a_server_that_cannot_upgrade_gets_nothing(self):
        a = self.with_email()
        self.assertStatus(self.ask(self.anon(), a.username, "email"), 202)
        out = until(lambda: [x for x in self.messages_to(a.email) if x["state"] == "failed"], 20)
        self.assertTrue(out, self.messages_to(a.email))
        self.assertTrue(out[0]["detail"])
        self.assertEqual(self.smtp.messages(), [])
