"""Review forms (评审表): GET /applications/{id}/form.pdf is the test form (测试表) before the
formal review passes and the official form after it, with the application's number and a
verification code; GET /verify/{code} proves the official form genuine at the node that
issued it and at any other (the code travels as a form.issued entry), and the signature
checks with openssl and the issuer's public key alone. The PDFs are read back with
poppler's pdfinfo and pdftotext."""
import base64
import os
import re
import subprocess
import tempfile

from test_applications import API, AppFlow
from zc_test import Client, Federation, NodePort, ZcCase, qr_texts, until

URUMQI = "650100"
NUMBER = r"^\d{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$"
CODE = r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$"
PREFIX = b"zc-form.1 verify\n"


def pdf_tool(args, body):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(body)
        f.flush()
        return subprocess.run(args + [f.name, "-"] if args[0] == "pdftotext" else args + [f.name],
                              capture_output=True, text=True, timeout=60, check=True).stdout


def pdf_pages(body):
    return int(re.search(r"^Pages:\s+(\d+)", pdf_tool(["pdfinfo"], body), re.M).group(1))


def pdf_page_png(body, page, dpi=150):
    """Page `page` as a PNG, as a scanner would see the printed sheet."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "form.pdf")
        with open(src, "wb") as f:
            f.write(body)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                        src, os.path.join(d, "page")], capture_output=True, timeout=60, check=True)
        with open(os.path.join(d, "page.png"), "rb") as f:
            return f.read()


def pdf_page_text(body, page):
    return pdf_tool(["pdftotext", "-f", str(page), "-l", str(page)], body)


class FormsCase(AppFlow, ZcCase):
    @classmethod
    def setUpClass(cls):
        cls.fed = Federation("forms", nodes=2).start()
        cls.node = cls.fed

    @classmethod
    def tearDownClass(cls):
        cls.fed.stop()

    def form(self, who, app_id):
        r = who.get(f"{API}/applications/{app_id}/form.pdf")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        self.assertIn("attachment", r.header("Content-Disposition"))
        self.assertTrue(r.body.startswith(b"%PDF-"))
        self.assertEqual(pdf_pages(r.body), 2, "one sheet, printed on both sides")
        return r.body

    def verify_at(self, port, code):
        return Client(NodePort(port)).get(f"{API}/verify/{code}")


class TestForms(FormsCase):
    def test_the_test_form_then_the_official_form_and_its_code(self):
        a = self.at_committee()
        j = self.get_app(a, a.app_id)
        number = j["number"]
        self.assertRegex(number, NUMBER)
        self.assertNotIn("verify_code", j)
        # before the formal review: the test form, marked on both pages, with the full ID number at home
        body = self.form(a, a.app_id)
        pages = [pdf_page_text(body, 1), pdf_page_text(body, 2)]
        for text in pages:
            self.assertIn("测试表", text)
        text = "".join(pages)
        for want in (a.body["name"], a.body["id_number"], number, "高级工程师", "专业技术职务任职资格评审表"):
            self.assertIn(want, text)
        # the committee passes the formal review: the official form, with its code
        r = self.review(self.committee_admin(), a.app_id, "forward")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["status"], "formal_passed")
        self.assertEqual(r.json["number"], number)
        code = self.get_app(a, a.app_id)["verify_code"]
        self.assertRegex(code, CODE)
        body = self.form(a, a.app_id)
        pages = [pdf_page_text(body, 1), pdf_page_text(body, 2)]
        for text in pages:
            self.assertIn(number, text)
            self.assertIn("职称评审", text)  # the watermark, on every page
            self.assertNotIn("测试表", text)
        self.assertIn(code, "".join(pages))
        self.assertIn(a.body["id_number"], "".join(pages))
        # its QR code, scanned from the printed page, opens the issuing node's 评审表验证
        self.assertEqual(qr_texts(pdf_page_png(body, 1)),
                         [f"http://127.0.0.1:{self.fed.port_of('650000')}/#/verify?code={code}"])
        # the committee prints the same official form; it is not the applicant's home: masked ID
        body = self.form(self.committee_admin(), a.app_id)
        self.assertIn(code, pdf_page_text(body, 1) + pdf_page_text(body, 2))

        # anyone checks the code at the issuing node, however it is typed
        for typed in (code, code.lower(), code.replace("-", ""), code.replace("0", "O")):
            v = self.verify_at(self.fed.port_of("650000"), typed)
            self.assertStatus(v, 200)
            f = v.json["verify"]
            self.assertEqual((f["genuine"], f["kind"], f["number"], f["application"], f["code"], f["node"]),
                             (True, "form", number, a.app_id, code, "650000"))
            self.assertEqual(f["qualification_name"], "高级工程师")
            self.assertEqual(f["applicant"][0], a.body["name"][0])
            self.assertIn("*", f["applicant"])
        # the signature needs nothing but openssl and the issuer's public key
        with tempfile.TemporaryDirectory() as d:
            msg, sig = os.path.join(d, "msg"), os.path.join(d, "sig")
            with open(msg, "wb") as fh:
                fh.write(PREFIX + f["payload"].encode())
            with open(sig, "wb") as fh:
                fh.write(base64.b64decode(f["sig"]))
            pem = os.path.join(self.fed.dir, "keys", "650000.pem")
            out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", msg,
                                  "-sigfile", sig], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            with open(msg, "wb") as fh:  # one byte changed: no longer the form that was issued
                other = number[:-1] + ("1" if number.endswith("0") else "0")
                fh.write(PREFIX + f["payload"].replace(number, other).encode())
            out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", msg,
                                  "-sigfile", sig], capture_output=True, text=True)
            self.assertNotEqual(out.returncode, 0)
        # and at another node, once the form.issued entry has reached it
        urumqi = self.fed.port_of(URUMQI)
        self.assertTrue(until(lambda: self.verify_at(urumqi, code).status == 200))
        f2 = self.verify_at(urumqi, code).json["verify"]
        self.assertEqual((f2["number"], f2["node"], f2["node_name"], f2["payload"]), (number, "650000", "自治区",
                                                                                       f["payload"]))

    def test_codes_that_were_never_issued_are_404(self):
        a = self.at_committee()
        self.assertStatus(self.review(self.committee_admin(), a.app_id, "forward"), 200)
        code = self.get_app(a, a.app_id)["verify_code"]
        last = "1" if code[-1] != "1" else "2"
        for bad in (code[:-1] + last, "0000-0000-0000-0000", "K7Q2", code + "X", "U" * 16, "%E4%B8%AD" * 4):
            for port in (self.fed.port_of("650000"), self.fed.port_of(URUMQI)):
                self.assertError(self.verify_at(port, bad), 404, "not_found")

    def test_only_the_owner_and_its_reviewers_get_the_form(self):
        a = self.submitted_app()
        self.form(a, a.app_id)
        self.form(a.unit_admin, a.app_id)
        self.assertError(self.new_applicant().get(f"{API}/applications/{a.app_id}/form.pdf"), 404)
        self.assertError(self.new_unit().get(f"{API}/applications/{a.app_id}/form.pdf"), 404)
        self.assertError(self.client().get(f"{API}/applications/{a.app_id}/form.pdf"), 401)
        self.assertError(a.get(f"{API}/applications/pnothere000000000000000000/form.pdf"), 404)

    def test_a_draft_prints_as_a_test_form_with_what_is_saved(self):
        a = self.new_app()
        self.assertStatus(self.save(a, "work", {"experience": "2010年7月至今 新疆某设计院 结构工程师"}), 200)
        body = self.form(a, a.app_id)
        text = pdf_page_text(body, 1) + pdf_page_text(body, 2)
        self.assertIn("测试表", text)
        self.assertIn("新疆某设计院", text)
