/* test_static.c - unit tests of node/static.c: which names are hashed, which
 * Accept-Encoding headers accept gzip, and static_lookup over a web root made here
 * (hashed and page cache policies, the .gz chosen, ETag and 304, refused paths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "static.h"

static char g_zRoot[64];

static void put(const char *zRel, const char *zText) {
  char zPath[256];
  snprintf(zPath, sizeof zPath, "%s/%s", g_zRoot, zRel);
  FILE *f = fopen(zPath, "wb");
  assert_non_null(f);
  fputs(zText, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  snprintf(g_zRoot, sizeof g_zRoot, "/tmp/zc-static-XXXXXX");
  if (!mkdtemp(g_zRoot)) return -1;
  char zJs[128];
  snprintf(zJs, sizeof zJs, "%s/js", g_zRoot);
  if (mkdir(zJs, 0700)) return -1;
  put("index.html", "<!doctype html>");
  put("index.html.gz", "gz of index");
  put("js/app.0123abcd.js", "export {};");
  put("js/app.0123abcd.js.gz", "gz of app");
  put("js/plain.js", "export {};");
  put("js/.hidden.js", "x");
  put("js/blob.bin", "x");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char zCmd[128];
  snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", g_zRoot);
  return system(zCmd) == 0 ? 0 : -1;
}

static void test_hashed_names(void **state) {
  (void)state;
  assert_true(static_is_hashed("/js/app.0123abcd.js"));
  assert_true(static_is_hashed("/css/site.dddf4f38.css"));
  assert_true(static_is_hashed("x.00000000.woff2"));
  assert_false(static_is_hashed("/js/app.js"));
  assert_false(static_is_hashed("/js/app.0123ABCD.js")); /* the build writes lowercase */
  assert_false(static_is_hashed("/js/app.0123abc.js"));
  assert_false(static_is_hashed("/js/app.0123abcde.js"));
  assert_false(static_is_hashed("/js/app0123abcd.js"));
  assert_false(static_is_hashed("/js.0123abcd/app.js"));
  assert_false(static_is_hashed("/index.html"));
  assert_false(static_is_hashed("/"));
}

static void test_accepts_gzip(void **state) {
  (void)state;
  assert_true(static_accepts_gzip("gzip"));
  assert_true(static_accepts_gzip("gzip, deflate, br"));
  assert_true(static_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  assert_true(static_accepts_gzip("deflate, x-gzip"));
  assert_true(static_accepts_gzip("*"));
  assert_true(static_accepts_gzip("gzip;q=0.001"));
  assert_false(static_accepts_gzip(""));
  assert_false(static_accepts_gzip("identity"));
  assert_false(static_accepts_gzip("br, deflate"));
  assert_false(static_accepts_gzip("gzip;q=0"));
  assert_false(static_accepts_gzip("gzip; q=0.000, br"));
  assert_false(static_accepts_gzip("*, gzip;q=0")); /* named beats the wildcard */
  assert_false(static_accepts_gzip("gzipx"));
  assert_false(static_accepts_gzip("*;q=0"));
}

static void test_hashed_file_is_immutable_and_gzipped(void **state) {
  (void)state;
  static_answer a;
  char zWant[128];
  static_lookup(g_zRoot, "/js/app.0123abcd.js", "gzip", "", &a);
  assert_int_equal(a.status, 200);
  snprintf(zWant, sizeof zWant, "%s/js/app.0123abcd.js.gz", g_zRoot);
  assert_string_equal(a.zFile, zWant);
  assert_string_equal(a.zType, "text/javascript; charset=utf-8");
  assert_non_null(strstr(a.zHeaders, "cache-control: public, max-age=31536000, immutable\r\n"));
  assert_non_null(strstr(a.zHeaders, "vary: Accept-Encoding\r\n"));
  assert_non_null(strstr(a.zHeaders, "content-encoding: gzip\r\n"));

  static_lookup(g_zRoot, "/js/app.0123abcd.js", "br", "", &a);
  assert_int_equal(a.status, 200);
  snprintf(zWant, sizeof zWant, "%s/js/app.0123abcd.js", g_zRoot);
  assert_string_equal(a.zFile, zWant);
  assert_null(strstr(a.zHeaders, "content-encoding"));
  assert_non_null(strstr(a.zHeaders, "vary: Accept-Encoding\r\n"));
}

static void test_page_is_no_cache_and_revalidates(void **state) {
  (void)state;
  static_answer a, b;
  char zEtag[64];
  static_lookup(g_zRoot, "/", "", "", &a);
  assert_int_equal(a.status, 200);
  assert_string_equal(a.zType, "text/html; charset=utf-8");
  assert_non_null(strstr(a.zHeaders, "cache-control: no-cache\r\n"));
  assert_null(strstr(a.zHeaders, "immutable"));
  const char *z = strstr(a.zHeaders, "etag: ");
  assert_non_null(z);
  snprintf(zEtag, sizeof zEtag, "%.*s", (int)(strstr(z, "\r\n") - z - 6), z + 6);
  static_lookup(g_zRoot, "/index.html", "", zEtag, &b);
  assert_int_equal(b.status, 304);
  assert_non_null(strstr(b.zHeaders, "cache-control: no-cache\r\n"));
  static_lookup(g_zRoot, "/index.html", "gzip", zEtag, &b); /* the .gz has its own tag */
  assert_int_equal(b.status, 200);
  assert_non_null(strstr(b.zHeaders, "content-encoding: gzip\r\n"));
  static_lookup(g_zRoot, "/js/plain.js", "gzip", "", &b); /* no .gz beside it */
  assert_int_equal(b.status, 200);
  assert_null(strstr(b.zHeaders, "content-encoding"));
  assert_non_null(strstr(b.zHeaders, "cache-control: no-cache\r\n"));
}

static void test_refused_paths(void **state) {
  (void)state;
  static const char *const az[] = {
    "/js/nothere.js", "/js/.hidden.js", "/../etc/passwd", "/js/../index.html", "js/app.0123abcd.js",
    "/js/app.0123abcd.js.gz", "/js/blob.bin", "/js", "/js/", "/index.html?x=1", "/a b.js", "/%2e%2e/x", "",
  };
  for (size_t i = 0; i < sizeof az / sizeof az[0]; i++) {
    static_answer a;
    static_lookup(g_zRoot, az[i], "gzip", "", &a);
    if (a.status != 404) fail_msg("%s: %d, not 404", az[i], a.status);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hashed_names),
    cmocka_unit_test(test_accepts_gzip),
    cmocka_unit_test(test_hashed_file_is_immutable_and_gzipped),
    cmocka_unit_test(test_page_is_no_cache_and_revalidates),
    cmocka_unit_test(test_refused_paths),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
