"""The portal's Uyghur dictionary (web/i18n/ug.json, read by web/js/i18n.js): every Chinese
text the pages write and every text of the node that reaches a page (as tools/i18n_strings.py
finds them in web/js, node/*.c and schemas/conditions.json) has a Uyghur translation in the
Arabic script, without Chinese left in it, with the same {n} placeholders as its key; and the
dictionary keeps no key the portal no longer shows."""
import json
import os
import re
import subprocess
import sys
import unittest

from zc_test import ROOT

ARABIC = re.compile(r"[\u0600-\u06ff]")
CJK = re.compile(r"[\u3400-\u9fff]")
DICT = os.path.join(ROOT, "web", "i18n", "ug.json")


def portal_keys():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "i18n_strings.py")], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return json.loads(out)


class TestUyghurDictionary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DICT, encoding="utf-8") as f:
            cls.ug = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
        cls.keys = portal_keys()

    def test_every_text_of_the_portal_is_translated(self):
        self.assertGreater(len(self.keys), 500, "the scan found the portal's texts")
        self.assertEqual([k for k in self.keys if k not in self.ug], [], "texts without a Uyghur translation")

    def test_no_stale_keys(self):
        self.assertEqual(sorted(set(self.ug) - set(self.keys)), [], "translations of texts the portal no longer has")

    def test_each_translation_is_uyghur_with_the_same_placeholders(self):
        for k, v in self.ug.items():
            with self.subTest(key=k):
                self.assertFalse(CJK.search(v), f"Chinese left in {v!r}")
                if re.sub(r"\{\d\}|[\d\s\W]", "", k):
                    self.assertRegex(v, ARABIC)
                self.assertEqual(sorted(re.findall(r"\{\d\}", v)), sorted(re.findall(r"\{\d\}", k)))
