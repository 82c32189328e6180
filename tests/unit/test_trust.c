/* test_trust.c - the node's manifest and keys across a key rotation (node/trust.c): a key
 * file of several keys, which key signs at which time, manifests the root did not sign,
 * and which edition a running node takes (newer only; from a peer, also kept on disk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed_error.h"
#include "fed_file.h"
#include "keys.h"
#include "manifest.h"
#include "trust.h"

#define T0 1700000000
#define HOUR 3600
#define DAY 86400
#define NODE "650100"

typedef struct fixture {
  char zDir[64], zKeys[128], zManifest[128];
  fed_key *pRoot, *pOther, *pOld, *pNew;
} fixture;

static time_t g_tNow = T0;
static time_t fake_now(void) { return g_tNow; }

static int teardown(void **state) {
  fixture *f = *state;
  char zCmd[128];
  int rc = 0;
  if (f->zDir[0]) {
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", f->zDir);
    rc = system(zCmd);
  }
  fed_key_free(f->pRoot);
  fed_key_free(f->pOther);
  fed_key_free(f->pOld);
  fed_key_free(f->pNew);
  free(f);
  return rc == 0 ? 0 : -1;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  *state = f;
  strcpy(f->zDir, "/tmp/zc-test-trust-XXXXXX");
  if (!mkdtemp(f->zDir)) {
    f->zDir[0] = 0;
    teardown(state);
    return -1;
  }
  snprintf(f->zKeys, sizeof f->zKeys, "%s/node.key", f->zDir);
  snprintf(f->zManifest, sizeof f->zManifest, "%s/federation.json", f->zDir);
  if (fed_key_generate(&f->pRoot) || fed_key_generate(&f->pOther) || fed_key_generate(&f->pOld) ||
      fed_key_generate(&f->pNew)) {
    teardown(state);
    return -1;
  }
  g_tNow = T0;
  return 0;
}

static void add_key(fed_manifest *m, const char *zKeyId, const fed_key *k, time_t tFrom, time_t tTo) {
  char *zPem = NULL;
  assert_int_equal(fed_key_public_pem(&zPem, NULL, k), 0);
  assert_int_equal(fed_manifest_add_key(m, NODE, zKeyId, zPem, tFrom, tTo), 0);
  free(zPem);
}

/* A manifest of node NODE (and, with bTwo, a second node) issued at tIssued: key #1 from
 * T0 retiring at tRetire, and with bRotated key #2 from T0 + DAY. Its bytes and signature
 * by pSigner (the root, or another key) in *pzJson / aSig. */
static void build(const fixture *f, time_t tIssued, time_t tRetire, int bRotated, int bTwo, const fed_key *pSigner,
                  char **pzJson, size_t *pnJson, unsigned char aSig[FED_SIG_SIZE]) {
  fed_manifest *m = NULL;
  char zPath[160], *zSig = NULL;
  size_t nSig = 0;
  assert_int_equal(fed_manifest_new(&m, f->pRoot, tIssued), 0);
  assert_int_equal(fed_manifest_add_node(m, NODE, "乌鲁木齐市", "http://127.0.0.1:8601"), 0);
  add_key(m, NODE "#1", f->pOld, T0, tRetire);
  if (bRotated) add_key(m, NODE "#2", f->pNew, T0 + DAY, T0 + 1000 * DAY);
  if (bTwo) assert_int_equal(fed_manifest_add_node(m, "653100", "喀什地区", "http://127.0.0.1:8602"), 0);
  snprintf(zPath, sizeof zPath, "%s/built.json", f->zDir);
  assert_int_equal(fed_manifest_write(m, zPath, f->pRoot), 0);
  fed_manifest_free(m);
  assert_int_equal(fed_manifest_read_files(pzJson, pnJson, &zSig, &nSig, zPath), 0);
  assert_int_equal(nSig, FED_SIG_SIZE);
  if (pSigner == f->pRoot) memcpy(aSig, zSig, FED_SIG_SIZE);
  else assert_int_equal(fed_key_sign(aSig, pSigner, *pzJson, *pnJson), 0);
  free(zSig);
}

static zc_trust *edition(const fixture *f, time_t tIssued, time_t tRetire, int bRotated, int bTwo) {
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  zc_trust *t = NULL;
  build(f, tIssued, tRetire, bRotated, bTwo, f->pRoot, &zJson, &nJson, aSig);
  assert_int_equal(trust_new(&t, zJson, nJson, aSig, sizeof aSig, f->pRoot, NODE, f->zKeys), 0);
  free(zJson);
  return t;
}

static void test_a_key_file_holds_several_keys_in_order(void **state) {
  fixture *f = *state;
  fed_key *a[2] = {f->pOld, f->pNew}, **pLoaded = NULL;
  size_t n = 0;
  char zA[FED_FINGERPRINT_SIZE], zB[FED_FINGERPRINT_SIZE];
  assert_int_equal(fed_keys_write_private(a, 2, f->zKeys), 0);
  assert_int_equal(fed_keys_load_private(&pLoaded, &n, f->zKeys), 0);
  assert_int_equal(n, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(fed_key_fingerprint(zA, a[i]), 0);
    assert_int_equal(fed_key_fingerprint(zB, pLoaded[i]), 0);
    assert_string_equal(zA, zB);
    assert_true(fed_key_has_private(pLoaded[i]));
  }
  fed_keys_free(pLoaded, n);
  /* one key, as keygen writes it, loads too; a file of no key does not */
  assert_int_equal(fed_key_write_private(f->pOld, f->zKeys), 0);
  assert_int_equal(fed_keys_load_private(&pLoaded, &n, f->zKeys), 0);
  assert_int_equal(n, 1);
  fed_keys_free(pLoaded, n);
  assert_int_equal(fed_file_write_atomic(f->zKeys, "nothing\n", 8, 0600), 0);
  assert_int_equal(fed_keys_load_private(&pLoaded, &n, f->zKeys), FED_EINVALID);
  assert_null(pLoaded);
}

static void test_the_new_key_signs_from_its_not_before(void **state) {
  fixture *f = *state;
  fed_key *a[2] = {f->pOld, f->pNew};
  const fed_manifest_key *k = NULL;
  assert_int_equal(fed_keys_write_private(a, 2, f->zKeys), 0);
  zc_trust *t = edition(f, T0 + DAY - HOUR, T0 + DAY + 24 * HOUR, 1, 0);
  assert_ptr_equal(trust_key_at(t, NODE, T0 + DAY - 1, &k), t->apKey[0]);
  assert_string_equal(k->zId, NODE "#1");
  assert_ptr_equal(trust_key_at(t, NODE, T0 + DAY, &k), t->apKey[1]); /* both valid: the newer */
  assert_string_equal(k->zId, NODE "#2");
  assert_ptr_equal(trust_key_at(t, NODE, T0 + 3 * DAY, &k), t->apKey[1]);
  assert_null(trust_key_at(t, NODE, T0 - 1, &k));
  assert_null(k);
  assert_null(trust_key_at(t, "653100", T0 + DAY, NULL)); /* not listed */
  /* the key an entry names, whatever its time */
  assert_ptr_equal(trust_key_by_id(t, NODE "#1"), t->apKey[0]);
  assert_ptr_equal(trust_key_by_id(t, NODE "#2"), t->apKey[1]);
  assert_null(trust_key_by_id(t, NODE "#3"));
  trust_free(t);
}

static void test_without_the_new_private_key_the_old_signs_until_it_retires(void **state) {
  fixture *f = *state;
  const fed_manifest_key *k = NULL;
  assert_int_equal(fed_key_write_private(f->pOld, f->zKeys), 0);
  zc_trust *t = edition(f, T0 + DAY - HOUR, T0 + DAY + 24 * HOUR, 1, 0);
  assert_ptr_equal(trust_key_at(t, NODE, T0 + DAY + HOUR, &k), t->apKey[0]);
  assert_string_equal(k->zId, NODE "#1");
  assert_null(trust_key_at(t, NODE, T0 + DAY + 24 * HOUR + 1, NULL));
  assert_null(trust_key_by_id(t, NODE "#2"));
  trust_free(t);
}

static void test_a_manifest_the_root_did_not_sign_is_refused(void **state) {
  fixture *f = *state;
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  zc_trust *t = NULL;
  assert_int_equal(fed_key_write_private(f->pOld, f->zKeys), 0);
  build(f, T0, T0 + 1000 * DAY, 1, 0, f->pOther, &zJson, &nJson, aSig);
  assert_int_equal(trust_new(&t, zJson, nJson, aSig, sizeof aSig, f->pRoot, NODE, f->zKeys), FED_EBADSIG);
  assert_null(t);
  free(zJson);
  /* the root's signature over other bytes (a later issue date written in) */
  build(f, T0, T0 + 1000 * DAY, 1, 0, f->pRoot, &zJson, &nJson, aSig);
  char *z = strstr(zJson, "\"issued\":\"2023");
  assert_non_null(z);
  z[13] = '9'; /* 2093 */
  assert_int_equal(trust_new(&t, zJson, nJson, aSig, sizeof aSig, f->pRoot, NODE, f->zKeys), FED_EBADSIG);
  assert_int_equal(trust_new(&t, zJson, nJson, aSig, 10, f->pRoot, NODE, f->zKeys), FED_EBADSIG);
  z[13] = '3';
  assert_int_equal(trust_new(&t, zJson, nJson, aSig, sizeof aSig, f->pRoot, "659999", f->zKeys), FED_ENOTFOUND);
  assert_int_equal(trust_new(&t, zJson, nJson, aSig, sizeof aSig, f->pRoot, NODE, f->zKeys), 0);
  trust_free(t);
  free(zJson);
}

static void test_a_running_node_takes_only_newer_editions(void **state) {
  fixture *f = *state;
  zc_node node;
  char *zJson = NULL, *zSig = NULL;
  size_t nJson = 0, nSig = 0;
  memset(&node, 0, sizeof node);
  snprintf(node.cfg.zNode, sizeof node.cfg.zNode, NODE);
  snprintf(node.cfg.zManifest, sizeof node.cfg.zManifest, "%s", f->zManifest);
  node.xNow = fake_now;
  assert_int_equal(fed_key_write_private(f->pOld, f->zKeys), 0);
  node.pTrust = edition(f, T0, T0 + 1000 * DAY, 0, 0);
  zc_trust *pFirst = node.pTrust;
  /* older, or as new from a peer: not taken */
  assert_int_equal(trust_install(&node, edition(f, T0 - 1, T0 + 1000 * DAY, 1, 0), NODE), 0);
  assert_int_equal(trust_install(&node, edition(f, T0, T0 + 1000 * DAY, 1, 0), "650000"), 0);
  assert_ptr_equal(node.pTrust, pFirst);
  /* as new from the operator's files: taken (the key file may have changed) */
  assert_int_equal(trust_install(&node, edition(f, T0, T0 + 1000 * DAY, 0, 0), NULL), 1);
  assert_ptr_equal(node.pTrust->pOlder, pFirst);
  /* newer from a peer: taken, and written where the node reads its manifest */
  zc_trust *pNewer = edition(f, T0 + HOUR, T0 + DAY + HOUR, 1, 0);
  assert_int_equal(trust_install(&node, pNewer, "650000"), 1);
  assert_ptr_equal(node.pTrust, pNewer);
  assert_ptr_equal(node_manifest(&node), pNewer->pManifest);
  assert_int_equal(fed_manifest_read_files(&zJson, &nJson, &zSig, &nSig, f->zManifest), 0);
  assert_int_equal(nJson, pNewer->nJson);
  assert_memory_equal(zJson, pNewer->zJson, nJson);
  assert_memory_equal(zSig, pNewer->aSig, FED_SIG_SIZE);
  free(zJson);
  free(zSig);
  /* a newer one that lists other nodes: kept for the next start, not taken now */
  assert_int_equal(trust_install(&node, edition(f, T0 + 2 * HOUR, T0 + DAY + HOUR, 1, 1), "650000"), 0);
  assert_ptr_equal(node.pTrust, pNewer);
  assert_int_equal(fed_manifest_read_files(&zJson, &nJson, &zSig, &nSig, f->zManifest), 0);
  assert_non_null(strstr(zJson, "653100"));
  free(zJson);
  free(zSig);
  trust_free(node.pTrust);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_key_file_holds_several_keys_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_new_key_signs_from_its_not_before, setup, teardown),
      cmocka_unit_test_setup_teardown(test_without_the_new_private_key_the_old_signs_until_it_retires, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_a_manifest_the_root_did_not_sign_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_running_node_takes_only_newer_editions, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
