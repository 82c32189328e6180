"""Reference data and plumbing: health, federation, catalogue, recommending units, unknown
paths and wrong methods (static files: test_static.py). Every reference name served (a
node's, a series', a specialty's, a qualification's, a committee's, a recommending unit's,
and the node, series and specialty names embedded beside them) carries its Uyghur name
(name_ug, Arabic script) for the portal in Uyghur."""
import json
import os
import re

from zc_test import REGION, ROOT, ZcCase


ARABIC = re.compile(r"[\u0600-\u06ff]")
HAN = re.compile(r"[\u3400-\u9fff]")


class UyghurNames:
    """assertUyghur(obj, key): obj[key + "_ug"] is a non-empty name in Arabic script."""

    def assertUyghur(self, obj, key="name"):
        v = obj.get(key + "_ug")
        self.assertIsInstance(v, str, f"{key}_ug missing beside {key} {obj.get(key)!r}")
        self.assertRegex(v, ARABIC, f"{key}_ug of {obj.get(key)!r} is not in Arabic script: {v!r}")
        self.assertNotRegex(v, HAN, f"{key}_ug of {obj.get(key)!r} has Chinese in it: {v!r}")


class TestUyghurNames(UyghurNames, ZcCase):
    def get(self, path):
        r = self.client().get(path)
        self.assertStatus(r, 200)
        return r.json

    def test_nodes_have_uyghur_names(self):
        self.assertUyghur(self.get("/api/v1/health"))
        nodes = self.get("/api/v1/federation")["nodes"]
        self.assertTrue(nodes)
        for n in nodes:
            self.assertUyghur(n)

    def test_series_have_uyghur_names(self):
        for s in self.get("/api/v1/catalog")["series"]:
            self.assertUyghur(s)

    def test_specialties_have_uyghur_names(self):
        for s in self.get("/api/v1/catalog")["series"]:
            for x in s["specialties"]:
                self.assertUyghur(x)

    def test_qualifications_have_uyghur_names(self):
        for s in self.get("/api/v1/catalog")["series"]:
            for x in s["qualifications"]:
                self.assertUyghur(x)

    def test_committees_have_uyghur_names(self):
        items = self.get("/api/v1/committees")["items"]
        self.assertEqual(len(items), 94)
        for c in items:
            self.assertUyghur(c)
            self.assertUyghur(c, "node_name")
            for s in c["scope"]:
                self.assertUyghur(s, "series_name")
            for w in c["windows"]:
                self.assertUyghur(w, "specialty_name")
        one = self.get("/api/v1/committees/650000-GC-G")["committee"]
        self.assertUyghur(one)
        self.assertUyghur(one, "node_name")

    def test_depts_have_uyghur_names(self):
        items = self.get("/api/v1/depts")["items"]
        self.assertTrue(items)
        for d in items:
            self.assertUyghur(d)
            self.assertUyghur(d, "node_name")

    def test_conditions_name_the_qualification_in_uyghur(self):
        self.assertUyghur(self.get("/api/v1/conditions?qualification=GC4")["conditions"])


class TestHealthAndFederation(ZcCase):
    def test_health_names_the_node(self):
        r = self.client().get("/api/v1/health")
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"node": REGION, "name": "自治区", "name_ug": "ئاپتونوم رايون", "status": "ok",
                                  "recovering": False})
        self.assertIn("application/json", r.header("Content-Type"))

    def test_federation_lists_this_node(self):
        r = self.client().get("/api/v1/federation")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["node"], REGION)
        nodes = {n["id"]: n for n in r.json["nodes"]}
        self.assertIn(REGION, nodes)
        for key in ("id", "name", "url", "fingerprint"):
            self.assertIn(key, nodes[REGION])
        if self.node.via_fed:  # started with a signed manifest
            self.assertEqual(nodes[REGION]["url"].rstrip("/"), self.node.base)
            self.assertTrue(nodes[REGION]["fingerprint"])

    def test_answers_carry_security_headers(self):
        r = self.client().get("/api/v1/health")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertIn("no-store", r.header("Cache-Control") or "")


class TestCatalog(ZcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(ROOT, "schemas", "catalog.json"), encoding="utf-8") as f:
            cls.want = json.load(f)

    def catalog(self):
        r = self.client().get("/api/v1/catalog")
        self.assertStatus(r, 200)
        return r.json

    def test_catalog_has_all_six_series_in_order(self):
        got = [s["code"] for s in self.catalog()["series"]]
        self.assertEqual(got, ["GC", "WS", "JY", "JJ", "KJ", "NY"])
        self.assertEqual(got, [s["code"] for s in self.want["series"]])

    def test_catalog_series_have_chinese_names(self):
        for s in self.catalog()["series"]:
            self.assertTrue(s["name"].endswith("系列"), s)

    def test_catalog_specialties_match_schema(self):
        want = {s["code"]: [x["code"] for x in s["specialties"]] for s in self.want["series"]}
        for s in self.catalog()["series"]:
            self.assertTrue(s["specialties"], f"{s['code']} has no specialty")
            self.assertEqual([x["code"] for x in s["specialties"]], want[s["code"]])
            for x in s["specialties"]:
                self.assertTrue(x["name"])

    def test_catalog_qualifications_have_levels_1_to_5(self):
        want = {s["code"]: {q["code"]: q["level"] for q in s["qualifications"]} for s in self.want["series"]}
        for s in self.catalog()["series"]:
            got = {q["code"]: q["level"] for q in s["qualifications"]}
            self.assertEqual(got, want[s["code"]])
            levels = [q["level"] for q in s["qualifications"]]
            self.assertEqual(levels, sorted(levels), "qualifications ordered by level")
            for q in s["qualifications"]:
                self.assertIsInstance(q["level"], int)
                self.assertIn(q["level"], range(1, 6))
                self.assertTrue(q["name"])

    def test_catalog_level_names(self):
        self.assertEqual(self.catalog()["levels"],
                         {"1": "员级", "2": "助理级", "3": "中级", "4": "副高级", "5": "正高级"})

    def test_catalog_every_level_is_offered_somewhere(self):
        levels = {q["level"] for s in self.catalog()["series"] for q in s["qualifications"]}
        self.assertEqual(levels, {1, 2, 3, 4, 5})


class TestDepts(ZcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(ROOT, "schemas", "depts.json"), encoding="utf-8") as f:
            cls.want = json.load(f)["depts"]

    def test_all_depts_without_node(self):
        r = self.client().get("/api/v1/depts")
        self.assertStatus(r, 200)
        self.assertEqual(sorted(d["id"] for d in r.json["items"]), sorted(d["id"] for d in self.want))

    def test_depts_of_a_prefecture(self):
        r = self.client().get("/api/v1/depts?node=650100")
        self.assertStatus(r, 200)
        items = r.json["items"]
        want = sorted(d["id"] for d in self.want if d["node"] == "650100")
        self.assertTrue(want)
        self.assertEqual(sorted(d["id"] for d in items), want)
        for d in items:
            self.assertEqual(d["node"], "650100")
            self.assertEqual(d["node_name"], "乌鲁木齐市")
            self.assertTrue(d["name"])

    def test_depts_of_the_region(self):
        r = self.client().get("/api/v1/depts?node=650000")
        self.assertStatus(r, 200)
        self.assertTrue(r.json["items"])
        self.assertTrue(all(d["node"] == REGION and d["node_name"] == "自治区" for d in r.json["items"]))

    def test_depts_of_unknown_node_is_400(self):
        self.assertError(self.client().get("/api/v1/depts?node=999999"), 400)

    def test_depts_of_overlong_node_is_400(self):
        self.assertError(self.client().get("/api/v1/depts?node=" + "6" * 40), 400)


class TestUnknownPathsAndMethods(ZcCase):
    def test_unknown_api_path_is_404(self):
        self.assertError(self.client().get("/api/v1/no-such-thing"), 404, "not_found")

    def test_unknown_api_version_is_404(self):
        self.assertError(self.client().get("/api/v9/health"), 404)

    def test_wrong_method_is_405(self):
        self.assertError(self.client().delete("/api/v1/catalog"), 405, "method_not_allowed")
        self.assertError(self.client().post("/api/v1/health", {}), 405, "method_not_allowed")

    def test_unsupported_method_is_405(self):
        self.assertError(self.client().request("PATCH", "/api/v1/me", body={}), 405)

    def test_trailing_slash_is_the_same_route(self):
        r = self.client().get("/api/v1/health/")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["node"], REGION)
