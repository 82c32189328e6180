"""The portal's files as the node serves them (node/static.c) from make's build/web
(tools/build_web.py): hashed names immutable for a year, index.html no-cache and revalidated
by ETag, gzip when the client accepts it (and the same bytes once decoded), every name the
pages and modules reference hashed and there, the usual security headers, 404 for the rest."""
import gzip
import http.client
import os
import posixpath
import re

from zc_test import ROOT, WEB, ZcCase

IMMUTABLE = "public, max-age=31536000, immutable"
HASHED = re.compile(r"\.[0-9a-f]{8}\.(js|css)$")
HTML_REF = re.compile(r"""\b(?:src|href)\s*=\s*["'](?!data:)([^"'#][^"']*)["']""")
PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)">')
PAGE_IMPORT = re.compile(r"""\bimport\(\s*["'](\./pages/[^"']+)["']\s*\)""")
JS_REF = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
CSS_REF = re.compile(r"""url\(\s*["']?([^"')\s]+)["']?\s*\)|@import\s+["']([^"']+)["']""")


class TestStaticFiles(ZcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(WEB, "index.html"), encoding="utf-8") as f:
            cls.index = f.read()
        refs = HTML_REF.findall(cls.index)
        cls.css = next(r for r in refs if r.endswith(".css"))
        cls.app = re.search(r'<script type="module" src="([^"]+)"', cls.index).group(1)

    def get(self, path, **headers):
        return self.client().get(path, headers=headers)

    def test_the_node_serves_the_build(self):
        self.assertEqual(WEB, os.path.join(ROOT, "build", "web"), "build/web is missing: run make")
        r = self.get("/")
        self.assertStatus(r, 200)
        self.assertEqual(r.body.decode(), self.index)

    def test_index_is_no_cache_with_etag(self):
        r = self.get("/")
        self.assertTrue(r.header("Content-Type").startswith("text/html"), r.header("Content-Type"))
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        self.assertNotIn("immutable", r.header("Cache-Control"))
        self.assertTrue(r.header("ETag"))
        self.assertEqual(self.get("/index.html").body, r.body)

    def test_index_revalidates_to_304(self):
        etag = self.get("/").header("ETag")
        r = self.get("/", **{"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        self.assertEqual(r.header("ETag"), etag)
        self.assertEqual(self.get("/", **{"If-None-Match": '"other"'}).status, 200)

    def test_hashed_asset_is_immutable(self):
        for path in (self.app, self.css):
            self.assertRegex(path, HASHED)
            r = self.get("/" + path)
            self.assertStatus(r, 200)
            self.assertEqual(r.header("Cache-Control"), IMMUTABLE, path)
            self.assertEqual(r.header("Vary"), "Accept-Encoding", path)
        self.assertTrue(self.get("/" + self.app).header("Content-Type").startswith("text/javascript"))
        self.assertTrue(self.get("/" + self.css).header("Content-Type").startswith("text/css"))

    def test_gzip_when_accepted_identity_otherwise_same_bytes(self):
        for path in ("/", "/" + self.app, "/" + self.css):
            plain = self.get(path)
            self.assertStatus(plain, 200)
            self.assertIsNone(plain.header("Content-Encoding"), path)
            with open(os.path.join(WEB, path.lstrip("/") or "index.html"), "rb") as f:
                self.assertEqual(plain.body, f.read(), path)
            for accept in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"):
                z = self.get(path, **{"Accept-Encoding": accept})
                self.assertStatus(z, 200)
                self.assertEqual(z.header("Content-Encoding"), "gzip", f"{path} {accept}")
                self.assertEqual(z.header("Vary"), "Accept-Encoding")
                self.assertLess(len(z.body), len(plain.body), path)
                self.assertEqual(gzip.decompress(z.body), plain.body, path)
            for accept in ("identity", "gzip;q=0", "br", "deflate"):
                r = self.get(path, **{"Accept-Encoding": accept})
                self.assertIsNone(r.header("Content-Encoding"), f"{path} {accept}")
                self.assertEqual(r.body, plain.body)

    def test_every_reference_is_hashed_and_there(self):
        """From index.html through every module it reaches: each name referenced is hashed
        and answers 200 immutable; together they are every module of the build."""
        seen, todo = set(), [(p, "") for p in HTML_REF.findall(self.index)]
        self.assertTrue(any("modulepreload" in line for line in self.index.splitlines()))
        while todo:
            ref, base = todo.pop()
            path = posixpath.normpath(posixpath.join(posixpath.dirname(base), ref))
            self.assertRegex(path, HASHED, f"{base or 'index.html'} references {ref}")
            if path in seen:
                continue
            seen.add(path)
            r = self.get("/" + path, **{"Accept-Encoding": "gzip"})
            self.assertStatus(r, 200)
            self.assertEqual(r.header("Cache-Control"), IMMUTABLE, path)
            text = gzip.decompress(r.body).decode() if r.header("Content-Encoding") == "gzip" else r.body.decode()
            if path.endswith(".js"):
                todo += [(m, path) for m in JS_REF.findall(text)]
            else:
                todo += [(a or b, path) for a, b in CSS_REF.findall(text) if not (a or b).startswith("data:")]
        built = {posixpath.relpath(os.path.join(d, f), WEB).replace(os.sep, "/")
                 for d, _, fs in os.walk(WEB) for f in fs if f.endswith((".js", ".css"))}
        self.assertEqual(seen, built)

    def test_pages_load_lazily_under_hashed_immutable_names(self):
        """app.js import()s each page: the build rewrote those to hashed names that answer
        200 immutable, and index.html preloads the shell only, not the pages."""
        app = self.get("/" + self.app).body.decode()
        pages = PAGE_IMPORT.findall(app)
        self.assertGreater(len(pages), 10, "app.js loads its pages with import()")
        self.assertIsNone(re.search(r"""\bfrom\s*["']\./pages/""", app), "app.js imports no page statically")
        home = next(p for p in pages if posixpath.basename(p).startswith("home."))
        path = posixpath.normpath(posixpath.join(posixpath.dirname(self.app), home))
        self.assertRegex(path, HASHED)
        r = self.get("/" + path)
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Cache-Control"), IMMUTABLE)
        self.assertTrue(r.header("Content-Type").startswith("text/javascript"))
        self.assertIn("export", r.body.decode())
        preloaded = PRELOAD.findall(self.index)
        self.assertTrue(preloaded)
        self.assertFalse([p for p in preloaded if "/pages/" in p], "only the shell is preloaded")
        self.assertIn('rel="icon"', self.index, "no favicon.ico request")

    def test_security_headers_on_static_answers(self):
        etag = self.get("/").header("ETag")
        for r in (self.get("/"), self.get("/" + self.app, **{"Accept-Encoding": "gzip"}),
                  self.get("/", **{"If-None-Match": etag})):
            self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
            self.assertIn("default-src 'self'", r.header("Content-Security-Policy") or "")

    def test_head_has_headers_and_no_body(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=10)
        try:
            conn.request("HEAD", "/" + self.app)
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"")
            self.assertEqual(r.getheader("Cache-Control"), IMMUTABLE)
            conn.request("GET", "/api/v1/health")  # the connection is still good
            self.assertEqual(conn.getresponse().status, 200)
        finally:
            conn.close()

    def test_one_connection_serves_files_and_api(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=10)
        try:
            for path in ("/", "/" + self.app, "/api/v1/health", "/" + self.css, "/no-such.js", "/"):
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 404 if "no-such" in path else 200, path)
        finally:
            conn.close()

    def test_missing_file_is_404(self):
        hashed_missing = re.sub(r"\.[0-9a-f]{8}\.js$", ".00000000.js", self.app)
        for path in ("/no-such-file.js", "/css/no-such.css", "/" + hashed_missing, "/js/app.js",
                     "/index.html.gz", "/" + self.app + ".gz", "/js/", "/.hidden", "/js/.x.js"):
            self.assertEqual(self.get(path).status, 404, path)
            self.assertEqual(self.get(path, **{"Accept-Encoding": "gzip"}).status, 404, path)

    def test_path_traversal_is_refused(self):
        for path in ("/../schemas/regions.json", "/%2e%2e/schemas/regions.json", "/js/../../schemas/regions.json",
                     "/js/%2e%2e/%2e%2e/Makefile"):
            self.assertNotEqual(self.get(path).status, 200, path)

    def test_other_methods_are_not_served(self):
        r = self.client().request("POST", "/index.html", raw=b"x=1", ctype="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 404)
