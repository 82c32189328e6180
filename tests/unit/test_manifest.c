/* test_manifest.c - the signed federation manifest: write and load, refusal of altered or
 * foreign-signed manifests, key validity windows and the public listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "fed_error.h"
#include "fed_file.h"
#include "manifest.h"
#include "rfc3339.h"

#define T0 1700000000  /* 2023-11-14T22:13:20Z */
#define DAY 86400

typedef struct fixture {
  char zDir[64];
  char zManifest[128];
  char zSig[128];
  char zRootPem[128];
  fed_key *pRoot;
  fed_key *pRegion;
  fed_key *pUrumqi;
} fixture;

static int teardown(void **state);

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL) return -1;
  *state = f;
  strcpy(f->zDir, "/tmp/zc-test-manifest-XXXXXX");
  if (mkdtemp(f->zDir) == NULL) {
    f->zDir[0] = 0;
    teardown(state);
    return -1;
  }
  snprintf(f->zManifest, sizeof(f->zManifest), "%s/federation.json", f->zDir);
  snprintf(f->zSig, sizeof(f->zSig), "%s/federation.sig", f->zDir);
  snprintf(f->zRootPem, sizeof(f->zRootPem), "%s/root.pem", f->zDir);
  if (fed_key_generate(&f->pRoot) || fed_key_generate(&f->pRegion) || fed_key_generate(&f->pUrumqi) ||
      fed_key_write_public(f->pRoot, f->zRootPem)) {
    teardown(state);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char zCmd[128];
  int rc = 0;
  if (f->zDir[0]) {
    snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", f->zDir);
    rc = system(zCmd);
  }
  fed_key_free(f->pRoot);
  fed_key_free(f->pRegion);
  fed_key_free(f->pUrumqi);
  free(f);
  return rc == 0 ? 0 : -1;
}

static void add_key(fed_manifest *m, const char *zNode, const char *zKeyId, const fed_key *k, time_t tFrom, time_t tTo) {
  char *zPem = NULL;
  assert_int_equal(fed_key_public_pem(&zPem, NULL, k), 0);
  assert_int_equal(fed_manifest_add_key(m, zNode, zKeyId, zPem, tFrom, tTo), 0);
  free(zPem);
}

/* Two nodes: the region with keys #1 (T0 .. T0+10d) and #2 (T0+10d+1s .. T0+1000d, the
 * same key pair, rotated), Urumqi with #1 (T0 .. T0+1000d). */
static fed_manifest *build(const fixture *f) {
  fed_manifest *m = NULL;
  assert_int_equal(fed_manifest_new(&m, f->pRoot, T0), 0);
  assert_int_equal(fed_manifest_add_node(m, "650000", "自治区", "http://127.0.0.1:8600"), 0);
  assert_int_equal(fed_manifest_add_node(m, "650100", "乌鲁木齐市", "http://127.0.0.1:8601"), 0);
  add_key(m, "650000", "650000#1", f->pRegion, T0, T0 + 10 * DAY);
  add_key(m, "650000", "650000#2", f->pUrumqi, T0 + 10 * DAY + 1, T0 + 1000 * DAY);
  add_key(m, "650100", "650100#1", f->pUrumqi, T0, T0 + 1000 * DAY);
  return m;
}

static void write_manifest(const fixture *f) {
  fed_manifest *m = build(f);
  assert_int_equal(fed_manifest_write(m, f->zManifest, f->pRoot), 0);
  fed_manifest_free(m);
}

static void test_write_load(void **state) {
  fixture *f = *state;
  fed_manifest *m = NULL;
  char *zJson = NULL, *aSig = NULL;
  size_t nJson = 0, nSig = 0;
  char zFingerprint[FED_FINGERPRINT_SIZE];
  write_manifest(f);
  assert_int_equal(fed_file_read(&zJson, &nJson, f->zManifest, 1 << 20), 0);
  assert_int_equal(fed_file_read(&aSig, &nSig, f->zSig, 1024), 0);
  assert_int_equal(nSig, FED_SIG_SIZE);
  assert_int_equal(fed_canon_parse(NULL, zJson, nJson), 0); /* written canonical */
  assert_non_null(strstr(zJson, "{\"federation\":\"zhicheng\",\"issued\":\"2023-11-14T22:13:20Z\",\"nodes\":[{\"id\":\"650000\""));
  assert_non_null(strstr(zJson, "\"name\":\"自治区\""));
  assert_non_null(strstr(zJson, "\"v\":1}"));

  assert_int_equal(fed_manifest_load(&m, f->zManifest, f->zRootPem), 0);
  assert_int_equal(fed_manifest_issued(m), T0);
  assert_int_equal(fed_manifest_node_count(m), 2);
  assert_string_equal(fed_manifest_node_id(m, 1), "650100");
  assert_string_equal(fed_manifest_node_name(m, 1), "乌鲁木齐市");
  assert_string_equal(fed_manifest_node_url(m, 0), "http://127.0.0.1:8600");
  assert_null(fed_manifest_node_id(m, 2));
  assert_int_equal(fed_manifest_find_node(m, "650100"), 1);
  assert_int_equal(fed_manifest_find_node(m, "653100"), FED_ENOTFOUND);
  assert_int_equal(fed_manifest_key_count(m, 0), 2);
  assert_string_equal(fed_manifest_key_get(m, 0, 1)->zId, "650000#2");
  assert_int_equal(fed_manifest_key_get(m, 0, 1)->tNotAfter, T0 + 1000 * DAY);
  assert_int_equal(fed_key_fingerprint(zFingerprint, f->pUrumqi), 0);
  assert_string_equal(fed_manifest_key_get(m, 1, 0)->zFingerprint, zFingerprint);

  /* written again from what was loaded: the same bytes */
  char zAgain[160];
  char *zJson2 = NULL;
  size_t nJson2 = 0;
  snprintf(zAgain, sizeof(zAgain), "%s/again.json", f->zDir);
  assert_int_equal(fed_manifest_write(m, zAgain, f->pRoot), 0);
  assert_int_equal(fed_file_read(&zJson2, &nJson2, zAgain, 1 << 20), 0);
  assert_int_equal(nJson2, nJson);
  assert_memory_equal(zJson2, zJson, nJson);
  free(zJson2);

  /* the signature is what `openssl pkeyutl -verify -rawin` checks */
  char zCmd[512];
  snprintf(zCmd, sizeof(zCmd), "openssl pkeyutl -verify -pubin -inkey '%s' -rawin -in '%s' -sigfile '%s' >/dev/null 2>&1",
           f->zRootPem, f->zManifest, f->zSig);
  assert_int_equal(system(zCmd), 0);

  fed_manifest_free(m);
  free(zJson);
  free(aSig);
}

static void test_tampered_refused(void **state) {
  fixture *f = *state;
  fed_manifest *m = NULL;
  char *zJson = NULL, *aSig = NULL;
  size_t nJson = 0, nSig = 0;
  char *p;
  write_manifest(f);
  assert_int_equal(fed_file_read(&zJson, &nJson, f->zManifest, 1 << 20), 0);
  assert_int_equal(fed_file_read(&aSig, &nSig, f->zSig, 1024), 0);
  /* redirect the region to another port */
  p = strstr(zJson, "8600");
  assert_non_null(p);
  p[3] = '9';
  assert_int_equal(fed_file_write_atomic(f->zManifest, zJson, nJson, 0644), 0);
  assert_int_equal(fed_manifest_load(&m, f->zManifest, f->zRootPem), FED_EBADSIG);
  assert_null(m);
  assert_non_null(strstr(fed_last_error(), "signature does not verify"));
  assert_int_equal(fed_manifest_load_unpinned(&m, f->zManifest), FED_EBADSIG);
  /* restored bytes with a damaged or short signature */
  p[3] = '0';
  assert_int_equal(fed_file_write_atomic(f->zManifest, zJson, nJson, 0644), 0);
  aSig[5] ^= 1;
  assert_int_equal(fed_file_write_atomic(f->zSig, aSig, nSig, 0644), 0);
  assert_int_equal(fed_manifest_load(&m, f->zManifest, f->zRootPem), FED_EBADSIG);
  aSig[5] ^= 1;
  assert_int_equal(fed_file_write_atomic(f->zSig, aSig, nSig - 1, 0644), 0);
  assert_int_equal(fed_manifest_load(&m, f->zManifest, f->zRootPem), FED_EBADSIG);
  assert_int_equal(fed_file_write_atomic(f->zSig, aSig, nSig, 0644), 0);
  assert_int_equal(fed_manifest_load(&m, f->zManifest, f->zRootPem), 0);
  fed_manifest_free(m);
  m = NULL;
  /* no signature file at all */
  assert_int_equal(remove(f->zSig), 0);
  assert_int_equal(fed_manifest_load(&m, f->zManifest, f->zRootPem), FED_ENOTFOUND);
  assert_non_null(strstr(fed_last_error(), "federation.sig"));
  free(zJson);
  free(aSig);
}

static void test_wrong_root_refused(void **state) {
  fixture *f = *state;
  fed_manifest *m = NULL;
  fed_key *pOtherRoot = NULL;
  char zOtherPem[160];
  write_manifest(f);
  assert_int_equal(fed_key_generate(&pOtherRoot), 0);
  snprintf(zOtherPem, sizeof(zOtherPem), "%s/other-root.pem", f->zDir);
  assert_int_equal(fed_key_write_public(pOtherRoot, zOtherPem), 0);
  assert_int_equal(fed_manifest_load(&m, f->zManifest, zOtherPem), FED_EBADSIG);
  assert_null(m);
  /* nor can another root sign a manifest naming this root */
  m = build(f);
  assert_int_equal(fed_manifest_write(m, f->zManifest, pOtherRoot), FED_EINVALID);
  assert_int_equal(fed_manifest_write(m, f->zManifest, f->pRegion), FED_EINVALID);
  fed_manifest_free(m);
  fed_key_free(pOtherRoot);
}

static void test_signed_but_malformed_refused(void **state) {
  fixture *f = *state;
  fed_manifest *m = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  const char *azDoc[] = {
      "{\"federation\":\"zhicheng\",\"v\":2}",
      "{\"federation\":\"other\",\"v\":1}",
      "[1,2]",
      "{\"federation\":\"zhicheng\",\"v\":1,\"issued\":\"yesterday\"}",
  };
  (void)state;
  for (size_t i = 0; i < sizeof(azDoc) / sizeof(azDoc[0]); i++) {
    assert_int_equal(fed_key_sign(aSig, f->pRoot, azDoc[i], strlen(azDoc[i])), 0);
    assert_int_equal(fed_manifest_load_buffer(&m, azDoc[i], strlen(azDoc[i]), aSig, sizeof(aSig), f->pRoot),
                     FED_EINVALID);
    assert_null(m);
  }
}

static void test_key_windows(void **state) {
  fixture *f = *state;
  fed_manifest *m = build(f);
  const fed_manifest_key *k = NULL;
  assert_int_equal(fed_manifest_key_at(&k, m, "650000#1", "650000", T0 - 1), FED_EEXPIRED);
  assert_null(k);
  assert_int_equal(fed_manifest_key_at(&k, m, "650000#1", "650000", T0), 0);
  assert_string_equal(k->zNode, "650000");
  assert_int_equal(fed_manifest_key_at(&k, m, "650000#1", NULL, T0 + 10 * DAY), 0); /* inclusive */
  assert_int_equal(fed_manifest_key_at(&k, m, "650000#1", "650000", T0 + 10 * DAY + 1), FED_EEXPIRED);
  assert_non_null(strstr(fed_last_error(), "not valid at"));
  assert_int_equal(fed_manifest_key_at(&k, m, "650000#2", "650000", T0 + 10 * DAY + 1), 0);
  /* a key speaks only for its own node */
  assert_int_equal(fed_manifest_key_at(&k, m, "650100#1", "650000", T0 + DAY), FED_ENOTFOUND);
  assert_int_equal(fed_manifest_key_at(&k, m, "650000#9", "650000", T0 + DAY), FED_ENOTFOUND);
  /* the current key follows the rotation */
  assert_int_equal(fed_manifest_current_key(&k, m, "650000", T0 + DAY), 0);
  assert_string_equal(k->zId, "650000#1");
  assert_int_equal(fed_manifest_current_key(&k, m, "650000", T0 + 20 * DAY), 0);
  assert_string_equal(k->zId, "650000#2");
  assert_int_equal(fed_manifest_current_key(&k, m, "650000", T0 + 2000 * DAY), FED_ENOTFOUND);
  assert_int_equal(fed_manifest_current_key(&k, m, "653100", T0), FED_ENOTFOUND);
  /* a node finds the id of its own key */
  assert_int_equal(fed_manifest_key_of(&k, m, "650100", f->pUrumqi, T0 + DAY), 0);
  assert_string_equal(k->zId, "650100#1");
  assert_int_equal(fed_manifest_key_of(&k, m, "650000", f->pRegion, T0 + 20 * DAY), FED_EEXPIRED);
  assert_int_equal(fed_manifest_key_of(&k, m, "650100", f->pRegion, T0 + DAY), FED_ENOTFOUND);
  fed_manifest_free(m);
}

static void test_building_refuses(void **state) {
  fixture *f = *state;
  fed_manifest *m = build(f);
  char *zPem = NULL;
  assert_int_equal(fed_key_public_pem(&zPem, NULL, f->pRegion), 0);
  assert_int_equal(fed_manifest_add_node(m, "650000", "again", "http://x"), FED_EEXISTS);
  assert_int_equal(fed_manifest_add_node(m, "65/00", "x", "http://x"), FED_EINVALID);
  assert_int_equal(fed_manifest_add_node(m, "", "x", "http://x"), FED_EINVALID);
  assert_int_equal(fed_manifest_add_node(m, "1234567890123456", "x", "http://x"), FED_EINVALID);
  assert_int_equal(fed_manifest_add_node(m, "653100", "", "http://x"), FED_EINVALID);
  assert_int_equal(fed_manifest_add_node(m, "653100", "喀什", "ftp://x"), FED_EINVALID);
  assert_int_equal(fed_manifest_add_key(m, "653100", "653100#1", zPem, T0, T0 + 1), FED_ENOTFOUND);
  assert_int_equal(fed_manifest_add_key(m, "650000", "650100#3", zPem, T0, T0 + 1), FED_EINVALID);
  assert_int_equal(fed_manifest_add_key(m, "650000", "650000#", zPem, T0, T0 + 1), FED_EINVALID);
  assert_int_equal(fed_manifest_add_key(m, "650000", "650000#1", zPem, T0, T0 + 1), FED_EEXISTS);
  assert_int_equal(fed_manifest_add_key(m, "650000", "650000#3", zPem, T0 + 1, T0), FED_EINVALID);
  assert_int_equal(fed_manifest_add_key(m, "650000", "650000#3", "not a pem", T0, T0 + 1), FED_EINVALID);
  assert_int_equal(fed_manifest_key_count(m, 0), 2);
  free(zPem);
  fed_manifest_free(m);
}

static void test_public_listing(void **state) {
  fixture *f = *state;
  fed_manifest *m = NULL;
  time_t tNow = time(NULL);
  char zFingerprint[FED_FINGERPRINT_SIZE];
  char *zPem = NULL;
  json_t *a;
  assert_int_equal(fed_manifest_new(&m, f->pRoot, tNow), 0);
  assert_int_equal(fed_manifest_add_node(m, "650000", "自治区", "http://127.0.0.1:8600"), 0);
  assert_int_equal(fed_manifest_add_node(m, "650100", "乌鲁木齐市", "http://127.0.0.1:8601"), 0);
  assert_int_equal(fed_key_public_pem(&zPem, NULL, f->pRegion), 0);
  assert_int_equal(fed_manifest_add_key(m, "650000", "650000#1", zPem, tNow - DAY, tNow + DAY), 0);
  free(zPem);
  assert_int_equal(fed_key_public_pem(&zPem, NULL, f->pUrumqi), 0);
  assert_int_equal(fed_manifest_add_key(m, "650100", "650100#1", zPem, tNow - 2 * DAY, tNow - DAY), 0); /* retired */
  free(zPem);
  a = fed_manifest_public(m);
  assert_non_null(a);
  assert_int_equal(json_array_size(a), 2);
  assert_int_equal(fed_key_fingerprint(zFingerprint, f->pRegion), 0);
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "id")), "650000");
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "name")), "自治区");
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "url")), "http://127.0.0.1:8600");
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "fingerprint")), zFingerprint);
  assert_true(json_is_null(json_object_get(json_array_get(a, 1), "fingerprint")));
  assert_int_equal(json_object_size(json_array_get(a, 1)), 4);
  json_decref(a);
  fed_manifest_free(m);
}

static void test_sig_path(void **state) {
  char *z;
  (void)state;
  z = fed_manifest_sig_path("/a/federation.json");
  assert_string_equal(z, "/a/federation.sig");
  free(z);
  z = fed_manifest_sig_path("manifest");
  assert_string_equal(z, "manifest.sig");
  free(z);
  z = fed_manifest_sig_path(".json");
  assert_string_equal(z, ".sig");
  free(z);
}

static void test_rfc3339(void **state) {
  char z[FED_RFC3339_SIZE];
  time_t t = 0;
  (void)state;
  assert_int_equal(fed_rfc3339_format(z, T0), 0);
  assert_string_equal(z, "2023-11-14T22:13:20Z");
  assert_int_equal(fed_rfc3339_parse(&t, z), 0);
  assert_int_equal(t, T0);
  assert_int_equal(fed_rfc3339_parse(&t, "2023-11-14T22:13:20.123456z"), 0);
  assert_int_equal(t, T0);
  assert_int_equal(fed_rfc3339_parse(&t, "2024-02-29T00:00:00Z"), 0);
  static const char *azBad[] = {"2023-02-29T00:00:00Z", "2023-11-14T22:13:20+08:00", "2023-11-14 22:13:20Z",
                                "2023-11-14T24:00:00Z", "2023-11-14T22:13:20", "2023-11-14T22:13:20.Z",
                                "2023-11-14T22:13:20Zx", "", "yesterday"};
  for (size_t i = 0; i < sizeof(azBad) / sizeof(azBad[0]); i++) {
    assert_int_equal(fed_rfc3339_parse(&t, azBad[i]), FED_EINVALID);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_write_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tampered_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_root_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_signed_but_malformed_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_windows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_building_refuses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_public_listing, setup, teardown),
      cmocka_unit_test(test_sig_path),
      cmocka_unit_test(test_rfc3339),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
