"""The role matrix: every route of node/routes.c (read from the source, so new routes are
covered as they arrive) called as anonymous and as each role. Anonymous gets 401
login_required on protected routes; a role the route does not allow gets 403 and never a
2xx; nobody ever gets a 5xx. Bodies are empty objects, so nothing is created."""
import json
import os
import re
import subprocess

from zc_test import ROOT, ZcCase, tool

ROLES = ["applicant", "unit_admin", "dept_admin", "committee_admin", "node_admin", "auditor"]


def role_macros():
    """ROLE_* names to sets of role names, from node/router.h."""
    with open(os.path.join(ROOT, "node", "router.h"), encoding="utf-8") as f:
        text = f.read()
    out = {"ROLE_ANYONE": set()}
    for name in ROLES:
        out["ROLE_" + name.upper()] = {name}
    for m in re.finditer(r"#define\s+(ROLE_\w+)\s+\(([^)]*)\)", text.replace("\\\n", " ")):
        parts = [p.strip() for p in m.group(2).split("|")]
        if all(p in out for p in parts):
            out[m.group(1)] = set().union(*(out[p] for p in parts))
    return out


def routes():
    with open(os.path.join(ROOT, "node", "routes.c"), encoding="utf-8") as f:
        text = f.read()
    macros = role_macros()
    out = []
    for m in re.finditer(r'\{\s*HTTP_(GET|POST|PUT|DELETE)\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*([A-Z_|\s]+?)\s*,'
                         r'\s*BODY_(\w+)\s*,', text):
        method, pattern, handler, roles, body = m.groups()
        allowed = set()
        for part in roles.split("|"):
            part = part.strip()
            if part not in macros:
                raise AssertionError(f"unknown role macro {part} in routes.c")
            allowed |= macros[part]
        out.append({"method": method, "pattern": pattern, "handler": handler, "allowed": allowed,
                    "anyone": roles.strip() == "ROLE_ANYONE", "body": body})
    return out


def concrete(pattern):
    path = re.sub(r"\{[^}]+\}", "x0000000000000000000000000", pattern)
    return "/api/v1" + path


class TestRoleMatrix(ZcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.routes = routes()
        cls.clients = {}

    def test_route_table_is_read(self):
        self.assertGreaterEqual(len(self.routes), 20)
        # every row of the real table (zc-admin routes prints it) was parsed
        out = subprocess.run([tool("zc-admin"), "routes"], capture_output=True, text=True, timeout=30)
        real = {(r["method"], r["path"]) for r in json.loads(out.stdout)["routes"]}
        self.assertEqual({(r["method"], r["pattern"]) for r in self.routes}, real)
        self.assertIn(("GET", "/health"), [(r["method"], r["pattern"]) for r in self.routes])

    def caller(self, role):
        c = type(self).clients.get(role)
        if c is None:
            c = self.login_role(role)
            type(self).clients[role] = c
        return c

    def login_role(self, role):
        if role == "anonymous":
            return self.client()
        if role == "applicant":
            return self.new_applicant()
        if role == "unit_admin":
            return self.new_unit_admin()
        if self.node.account(role) is None:
            return None
        return self.demo_login(role)

    def call(self, c, rt):
        kw = {}
        if rt["body"] == "JSON":
            kw["body"] = {}
        elif rt["body"] == "RAW":
            kw["raw"] = b""
        return c.request(rt["method"], concrete(rt["pattern"]), **kw)

    def check_role(self, role):
        c = self.caller(role)
        if c is None:
            self.fail(f"the demo data has no {role} account (API.md: one account per role)")
        for rt in self.routes:
            name = f"{rt['method']} {rt['pattern']} as {role}"
            with self.subTest(route=name):
                if rt["method"] == "DELETE" and rt["pattern"] == "/session" and role != "anonymous":
                    target = self.login_role(role)   # logging out: a session of its own
                else:
                    target = c
                r = self.call(target, rt)
                self.assertLess(r.status, 500, f"{name}: {r!r}")
                if rt["anyone"]:
                    self.assertNotIn(r.status, (401, 403), f"{name}: {r!r}")
                elif role == "anonymous":
                    self.assertError(r, 401, "login_required")
                elif role in rt["allowed"]:
                    self.assertNotEqual(r.status, 401, f"{name}: {r!r}")
                    if r.status == 403:
                        self.assertNotEqual(r.code, "csrf", f"{name}: {r!r}")
                else:
                    self.assertNotIn(r.status, (200, 201, 202, 204), f"{name}: {r!r}")
                    self.assertError(r, 403)

    def test_anonymous(self):
        self.check_role("anonymous")

    def test_applicant(self):
        self.check_role("applicant")

    def test_unit_admin(self):
        self.check_role("unit_admin")

    def test_dept_admin(self):
        self.check_role("dept_admin")

    def test_committee_admin(self):
        self.check_role("committee_admin")

    def test_node_admin(self):
        self.check_role("node_admin")

    def test_auditor(self):
        self.check_role("auditor")

    def test_sessions_still_valid_after_matrix(self):
        # the matrix logged out only its throw-away sessions
        for role in ("applicant", "unit_admin", "node_admin"):
            self.assertStatus(self.caller(role).me(), 200)

    def test_forbidden_writes_without_csrf_are_still_403_or_401(self):
        # no role check is skipped because CSRF is missing, and vice versa
        for role in ("applicant", "auditor"):
            c = self.caller(role)
            for rt in self.routes:
                if rt["method"] == "GET" or rt["anyone"]:
                    continue
                with self.subTest(route=f"{rt['method']} {rt['pattern']} as {role} without csrf"):
                    r = c.request(rt["method"], concrete(rt["pattern"]),
                                  body={} if rt["body"] == "JSON" else None, csrf=False)
                    self.assertError(r, 403)


class TestUnitAdminCannotApply(ZcCase):
    """DESIGN.md: since 2019 a unit admin account cannot apply (one account, one role)."""

    def body(self, cc):
        return {"year": 2026, "qualification": "GC4", "specialty": "GC-JZ", "unit": cc}

    def test_demo_unit_admin_post_application_is_403(self):
        ua = self.demo_login("unit_admin")
        r = ua.post("/api/v1/applications", self.body(ua.demo.get("credit_code", "")))
        self.assertError(r, 403, "unit_admin_cannot_apply")

    def test_new_unit_admin_post_application_is_403(self):
        ua = self.new_unit_admin()
        r = ua.post("/api/v1/applications", self.body(ua.unit["credit_code"]))
        self.assertError(r, 403, "unit_admin_cannot_apply")
        # nothing was created: the new unit has no application at all
        r = ua.get("/api/v1/applications?view=all")
        self.assertLess(r.status, 500)
        if r.status == 200:
            self.assertEqual(r.json.get("items"), [])
