#!/usr/bin/env python3
"""surge_setup.py - the untimed set-up of the "deadline surge" bench scenario (run.sh).

Registers N applicants on one node (POST /api/v1/accounts answers with the session cookie
and the CSRF token, so there is no separate login), creates one application each for the
demo unit, uploads one PNG to every section whose attachments_required is true and saves
every section once with valid data built from the section's field list (so that the
applications are complete and every body the load generator will send is known to be
accepted). Writes the plan the load generator (surge.c) reads, tab-separated:

    A <application id> <zc_session token> <csrf>
    S <section name> <JSON body of PUT .../sections/<name>>

Textarea values carry the marker @SEQ@, which the load generator replaces with a 5-digit
counter so that successive saves differ. Loopback only; stdlib only.

usage: surge_setup.py BASE_URL DEMO_ACCOUNTS_JSON NODE N PARALLEL PLAN_OUT
"""
import datetime
import http.client
import json
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor

SEQ = "@SEQ@"
PASSWORD = "Surge#2026x"
NAME = "压测申请人"


def png_1x1():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


PNG = png_1x1()


def id_number(i):
    """A valid GB 11643 number: Urumqi area code, a distinct birth date per applicant."""
    born = datetime.date(1970, 1, 1) + datetime.timedelta(days=i % 15000)
    head = "650102" + born.strftime("%Y%m%d") + "%03d" % (i // 15000 % 1000)
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return head + "10X98765432"[sum(int(c) * k for c, k in zip(head, w)) % 11]


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_check(code17):
    w = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    c = 31 - sum(CREDIT_ALPHABET.index(ch) * k for ch, k in zip(code17, w)) % 31
    return CREDIT_ALPHABET[0 if c == 31 else c]


def credit_code_ok(code):
    return (isinstance(code, str) and len(code) == 18 and all(ch in CREDIT_ALPHABET for ch in code)
            and credit_check(code[:17]) == code[17])


def field_value(f, name):
    t = f["type"]
    if t == "select":
        return f["options"][0]
    if t == "date":
        return "2001-09-01"
    if t == "number":
        return 12
    if t == "textarea":
        # ~450 bytes: 1999年起在某设计院从事建筑结构设计… (CJK, 3 bytes each) plus the marker
        return SEQ + "：" + "在自治区建筑设计研究院从事建筑结构设计与施工图审查工作，主持完成多项公共建筑项目。" * 3
    if f["name"] == "name":
        return name
    return "建筑结构设计"


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.c = http.client.HTTPConnection(host, port, timeout=60)
        self.token = self.csrf = None

    def call(self, method, path, body=None, ctype="application/json"):
        headers = {}
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, ensure_ascii=False).encode()
        if body is not None:
            headers["Content-Type"] = ctype
        if self.token:
            headers["Cookie"] = "zc_session=" + self.token
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        for attempt in range(2):
            try:
                self.c.request(method, path, body=body, headers=headers)
                r = self.c.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        cookie = r.getheader("Set-Cookie") or ""
        if cookie.startswith("zc_session="):
            self.token = cookie.split(";", 1)[0].split("=", 1)[1]
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return r.status, doc, data


def fail(what, status, raw):
    raise RuntimeError("%s answered %s: %s" % (what, status, raw[:400].decode("utf-8", "replace")))


def main():
    base, demo_path, node, n, par, out = sys.argv[1:7]
    n, par = int(n), int(par)
    u = urllib.parse.urlsplit(base)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    unit = next(e["credit_code"] for e in json.load(open(demo_path, encoding="utf-8"))
                if e.get("node") == node and e.get("role") == "unit_admin")
    note = ""
    if not credit_code_ok(unit):
        # The demo seed's code is unusable through the API (e.g. too short): register a unit
        # of our own instead, and say so.
        code = "91%sMA7BENCH0" % node[:6]
        code += credit_check(code)
        c = Client(u.hostname, u.port)
        st, _, raw = c.call("POST", "/api/v1/units", {"credit_code": code, "name": "压测建筑设计有限公司",
                                                      "short_name": "压测建筑", "password": "Bench#2026x",
                                                      "contact": "王建华", "phone": "0991-2345679", "node": node})
        if st != 201:
            fail("POST /api/v1/units", st, raw)
        note = ("; NOTE: the demo unit's credit_code %r in demo-accounts.json is not a valid 18-character code,"
                " so the applications use a unit registered by the bench (%s)" % (unit, code))
        unit = code
    year = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).year
    bodies = {}          # section name -> body (the same for every applicant)
    lock = threading.Lock()
    t_reg = []

    abort = threading.Event()  # the first failure stops the others at their next step

    def one(i):
        if abort.is_set():
            return None
        try:
            return one_applicant(i)
        except Exception:
            abort.set()
            raise

    def one_applicant(i):
        c = Client(u.hostname, u.port)
        t0 = time.monotonic()
        st, doc, raw = c.call("POST", "/api/v1/accounts", {"id_number": id_number(i), "name": NAME,
                                                           "password": PASSWORD, "phone": "139%08d" % i})
        if st != 201 or not c.token:
            fail("POST /api/v1/accounts", st, raw)
        with lock:
            t_reg.append(time.monotonic() - t0)
        c.csrf = doc["csrf"]
        st, doc, raw = c.call("POST", "/api/v1/applications", {"year": year, "qualification": "GC4",
                                                               "specialty": "GC-JZ", "unit": unit})
        if st != 201:
            fail("POST /api/v1/applications", st, raw)
        app = doc["id"]
        st, doc, raw = c.call("GET", "/api/v1/applications/" + app)
        if st != 200:
            fail("GET /api/v1/applications/{id}", st, raw)
        for s in doc["sections"]:
            if abort.is_set():
                raise RuntimeError("stopped after another applicant's failure")
            if s.get("attachments_required") and not s.get("attachments"):
                q = urllib.parse.urlencode({"section": s["name"], "name": "证明材料.png"})
                st, _, raw = c.call("POST", "/api/v1/applications/%s/attachments?%s" % (app, q), PNG, "image/png")
                if st != 201:
                    fail("POST .../attachments", st, raw)
            body = {"data": {f["name"]: field_value(f, NAME) for f in s["fields"]}}
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            with lock:
                bodies.setdefault(s["name"], text)
            st, _, raw = c.call("PUT", "/api/v1/applications/%s/sections/%s" % (app, s["name"]),
                                text.replace(SEQ, "%05d" % i).encode())
            if st != 200:
                fail("PUT .../sections/" + s["name"], st, raw)
        c.c.close()
        return app, c.token, c.csrf

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=par) as ex:
        rows = list(ex.map(one, range(n)))
    dt = time.monotonic() - t0
    with open(out, "w", encoding="utf-8") as f:
        for app, token, csrf in rows:
            f.write("A\t%s\t%s\t%s\n" % (app, token, csrf))
        for name, text in bodies.items():
            f.write("S\t%s\t%s\n" % (name, text))
    t_reg.sort()
    print("setup %d applicants in %.1f s (%d in parallel); registration p50 %.0f ms, max %.0f ms; %d sections,"
          " bodies %d-%d B" % (n, dt, par, 1000 * t_reg[len(t_reg) // 2], 1000 * t_reg[-1], len(bodies),
                               min(len(b.encode()) for b in bodies.values()),
                               max(len(b.encode()) for b in bodies.values())) + note)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the bench reports what broke, briefly
        print("surge_setup: %s" % e, file=sys.stderr)
        sys.exit(1)
