"""Error messages in Chinese and Uyghur (node/messages.c, schemas/messages/<lang>.json).

Every error code the node's C source can answer with has a message in each catalogue, and
no catalogue keeps a code the source no longer has; the Uyghur messages are in the Arabic
script, the Chinese ones in Chinese. A live node answers in the language Accept-Language
asks for (q-values respected, Chinese the default and the fallback), with Content-Language,
and the envelope keeps its code and field whatever the language."""
import glob
import json
import os
import re
import unittest

from zc_test import ROOT, Client, ZcCase, has_cjk

API = "/api/v1"
LANGS = ("zh-CN", "ug")
ARABIC = re.compile(r"[\u0600-\u06ff]")
# every way the C source answers with an error code: the code is the string after the status
CALL = re.compile(r'\b(?:http_error|http_error_extra|http_field_error|refuse|send_error_and_close)\(\s*[^,()]+,\s*'
                  r'(?:\d{3}|[A-Za-z_]+)\s*,\s*"([a-z_0-9]+)"')


def source_codes():
    codes = set()
    for path in glob.glob(os.path.join(ROOT, "node", "*.c")) + glob.glob(os.path.join(ROOT, "federation", "*.c")):
        with open(path, encoding="utf-8") as f:
            codes |= set(CALL.findall(f.read()))
    return codes


def catalogue(lang):
    with open(os.path.join(ROOT, "schemas", "messages", f"{lang}.json"), encoding="utf-8") as f:
        return json.load(f)


class TestCatalogues(unittest.TestCase):
    def test_every_code_has_a_message_in_every_language(self):
        codes = source_codes()
        self.assertGreater(len(codes), 60, "the source scan found the codes")
        for lang in LANGS:
            with self.subTest(lang=lang):
                c = catalogue(lang)
                self.assertEqual(sorted(codes - set(c)), [], f"codes without a {lang} message")
                self.assertEqual(sorted(set(c) - codes), [], f"{lang} messages of codes the node no longer has")

    def test_each_catalogue_is_in_its_script(self):
        for code, msg in catalogue("ug").items():
            self.assertRegex(msg, ARABIC, code)
            self.assertFalse(has_cjk(msg), code)
        for code, msg in catalogue("zh-CN").items():
            self.assertTrue(has_cjk(msg), code)


class TestAnswers(ZcCase):
    def ask(self, lang, path="/me"):
        return Client(self.node).get(API + path, headers={"Accept-Language": lang} if lang is not None else None)

    def test_the_language_asked_for(self):
        ug, zh = catalogue("ug"), catalogue("zh-CN")
        for header, want in (("ug", "ug"), ("ug-CN", "ug"), ("UG", "ug"), ("zh-CN;q=0.4, ug;q=0.9", "ug"),
                             ("en-US,en;q=0.9,ug;q=0.8", "ug"), ("zh-CN,ug;q=0.5", "zh-CN"), ("en-US", "zh-CN"),
                             ("ug;q=0", "zh-CN"), ("ug;q=2", "zh-CN"), ("", "zh-CN"), (None, "zh-CN")):
            with self.subTest(header=header):
                r = self.ask(header)
                e = self.assertError(r, 401, "login_required")
                if want == "ug":
                    self.assertEqual(e["message"], ug["login_required"])
                    self.assertEqual(r.headers.get("Content-Language"), "ug")
                else:
                    self.assertEqual(e["message"], "请先登录")
                    self.assertIsNone(r.headers.get("Content-Language"))
        self.assertNotEqual(ug["login_required"], zh["login_required"])

    def test_a_field_error_keeps_its_field_in_uyghur(self):
        c = Client(self.node)
        r = c.post(API + "/accounts", {"id_number": "123", "name": "阿依古丽", "phone": "13900000000",
                                       "password": "Xj-title2024"}, headers={"Accept-Language": "ug"})
        self.assertEqual(r.status, 400)
        e = r.json["error"]
        self.assertEqual(e["field"], "id_number")
        self.assertEqual(e["message"], catalogue("ug")[e["code"]])
        self.assertRegex(e["message"], ARABIC)
        # the same in Chinese names the field itself
        r = c.post(API + "/accounts", {"id_number": "123", "name": "阿依古丽", "phone": "13900000000",
                                       "password": "Xj-title2024"})
        self.assertEqual(r.json["error"]["field"], "id_number")
        self.assertTrue(has_cjk(r.json["error"]["message"]))

    def test_the_accounts_language_when_the_header_names_neither(self):
        ug = catalogue("ug")
        a = self.new_applicant()
        bad = {"lang": "en"}  # 400 invalid_field, answered once the session is known
        self.assertStatus(a.put(API + "/me/language", {"lang": "ug"}), 200)
        for header, want in ((None, "ug"), ("en-US,en;q=0.9", "ug"), ("ug;q=0", "ug"), ("zh-CN", "zh-CN"),
                             ("ug", "ug")):
            with self.subTest(header=header):
                r = a.put(API + "/me/language", bad, headers={"Accept-Language": header} if header is not None else None)
                e = self.assertError(r, 400, "invalid_field")
                if want == "ug":
                    self.assertEqual(e["message"], ug["invalid_field"])
                    self.assertEqual(r.headers.get("Content-Language"), "ug")
                else:
                    self.assertTrue(has_cjk(e["message"]))
                    self.assertIsNone(r.headers.get("Content-Language"))
        # back to Chinese: the header that names neither gets Chinese again
        self.assertStatus(a.put(API + "/me/language", {"lang": "zh-CN"}), 200)
        r = a.put(API + "/me/language", bad, headers={"Accept-Language": "en-US"})
        self.assertTrue(has_cjk(self.assertError(r, 400, "invalid_field")["message"]))
        # a visitor without a session is answered in Chinese
        e = self.assertError(self.ask("en-US"), 401, "login_required")
        self.assertEqual(e["message"], "请先登录")

    def test_an_unknown_route_in_uyghur(self):
        e = self.assertError(self.ask("ug", "/no/such/route"), 404, "not_found")
        self.assertEqual(e["message"], catalogue("ug")["not_found"])
