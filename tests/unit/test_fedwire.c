/* test_fedwire.c - zc-fed.1's mutual authentication (fedwire.h) and the manifest fields
 * replication reads (fed, tls), and the table of entry handlers (apply.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "fed_error.h"
#include "fedwire.h"
#include "keys.h"
#include "manifest.h"

#define PIN_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct fixture {
  fed_key *pRoot, *pA, *pB;
  fed_manifest *m;
  time_t t;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  char *zPemA = NULL, *zPemB = NULL;
  f->t = 1800000000;
  if (fed_key_generate(&f->pRoot) || fed_key_generate(&f->pA) || fed_key_generate(&f->pB) ||
      fed_key_public_pem(&zPemA, NULL, f->pA) || fed_key_public_pem(&zPemB, NULL, f->pB) ||
      fed_manifest_new(&f->m, f->pRoot, f->t) ||
      fed_manifest_add_node(f->m, "650000", "region", "http://127.0.0.1:1") ||
      fed_manifest_add_node(f->m, "650100", "urumqi", "http://127.0.0.1:2") ||
      fed_manifest_add_key(f->m, "650000", "650000#1", zPemA, f->t - 100, f->t + 100) ||
      fed_manifest_add_key(f->m, "650100", "650100#1", zPemB, f->t - 100, f->t + 100))
    return -1;
  free(zPemA);
  free(zPemB);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  fed_manifest_free(f->m);
  fed_key_free(f->pRoot);
  fed_key_free(f->pA);
  fed_key_free(f->pB);
  free(f);
  return 0;
}

static const char *NS = "aa", *NC = "bb", *BIND = "cc";

static void test_payload_has_its_own_prefix_and_names_everything(void **state) {
  size_t n;
  (void)state;
  char *z = fedwire_auth_payload(&n, 0, "650100", "650000", NS, NC, BIND);
  assert_non_null(z);
  assert_int_equal(strncmp(z, FEDWIRE_AUTH_PREFIX, strlen(FEDWIRE_AUTH_PREFIX)), 0);
  assert_true(z[0] != '{'); /* never reads as an entry */
  assert_non_null(strstr(z, "role: client\n"));
  assert_non_null(strstr(z, "signer: 650100\npeer: 650000\n"));
  assert_non_null(strstr(z, "binding: cc\n"));
  assert_int_equal(n, strlen(z));
  free(z);
}

static void test_a_proof_verifies_only_for_what_it_was_made_for(void **state) {
  fixture *f = *state;
  char zSig[FEDWIRE_SIG_HEX];
  assert_int_equal(fedwire_auth_sign(zSig, f->pB, 0, "650100", "650000", NS, NC, BIND), 0);
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 0, "650100", "650000", NS, NC, BIND), 0);
  /* another role, peer, nonce or TLS session: no */
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 1, "650100", "650000", NS, NC, BIND), FED_EBADSIG);
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 0, "650100", "653100", NS, NC, BIND), FED_EBADSIG);
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 0, "650100", "650000", "ab", NC, BIND), FED_EBADSIG);
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 0, "650100", "650000", NS, NC, "cd"), FED_EBADSIG);
  /* a key of another node, an unknown node, a key outside its window, bad hex */
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650000#1", zSig, 0, "650100", "650000", NS, NC, BIND),
                   FED_ENOTFOUND);
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "659999#1", zSig, 0, "659999", "650000", NS, NC, BIND),
                   FED_ENOTFOUND);
  assert_int_equal(fedwire_auth_verify(f->m, f->t + 1000, "650100#1", zSig, 0, "650100", "650000", NS, NC, BIND),
                   FED_EEXPIRED);
  zSig[0] = 'Z';
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 0, "650100", "650000", NS, NC, BIND), FED_EINVALID);
  /* signed by the wrong key */
  assert_int_equal(fedwire_auth_sign(zSig, f->pA, 0, "650100", "650000", NS, NC, BIND), 0);
  assert_int_equal(fedwire_auth_verify(f->m, f->t, "650100#1", zSig, 0, "650100", "650000", NS, NC, BIND), FED_EBADSIG);
}

static void test_nonces_are_fresh_hex(void **state) {
  char a[FEDWIRE_NONCE_HEX], b[FEDWIRE_NONCE_HEX];
  unsigned char aBytes[32];
  (void)state;
  assert_int_equal(fedwire_nonce(a), 0);
  assert_int_equal(fedwire_nonce(b), 0);
  assert_int_equal(strlen(a), 64);
  assert_string_not_equal(a, b);
  assert_int_equal(fedwire_unhex(aBytes, sizeof aBytes, a), 0);
  assert_int_equal(fedwire_unhex(aBytes, sizeof aBytes, "00"), FED_EINVALID);
}

static void test_manifest_fed_fields_round_trip_and_are_checked(void **state) {
  fixture *f = *state;
  fed_manifest *m2 = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  assert_null(fed_manifest_node_fed_url(f->m, 0));
  assert_int_equal(fed_manifest_set_node_fed(f->m, "650000", "wss://127.0.0.1:9600/fed", PIN_A), 0);
  assert_int_equal(fed_manifest_set_node_fed(f->m, "650100", "ws://127.0.0.1:9601/fed", PIN_A), FED_EINVALID);
  assert_int_equal(fed_manifest_set_node_fed(f->m, "650100", "wss://127.0.0.1:9601/fed", "ABC"), FED_EINVALID);
  assert_int_equal(fed_manifest_set_node_fed(f->m, "659999", "wss://127.0.0.1:9601/fed", PIN_A), FED_ENOTFOUND);
  json_t *d = fed_manifest_to_json(f->m);
  size_t n = 0;
  char *z = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
  n = strlen(z);
  assert_int_equal(fed_key_sign(aSig, f->pRoot, z, n), 0);
  assert_int_equal(fed_manifest_load_buffer(&m2, z, n, aSig, sizeof aSig, f->pRoot), 0);
  assert_string_equal(fed_manifest_node_fed_url(m2, 0), "wss://127.0.0.1:9600/fed");
  assert_string_equal(fed_manifest_node_tls_pin(m2, 0), PIN_A);
  assert_null(fed_manifest_node_tls_pin(m2, 1));
  fed_manifest_free(m2);
  free(z);
  /* "fed" without "tls" is refused */
  json_object_del(json_array_get(json_object_get(d, "nodes"), 0), "tls");
  z = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
  assert_int_equal(fed_key_sign(aSig, f->pRoot, z, strlen(z)), 0);
  assert_int_equal(fed_manifest_load_buffer(&m2, z, strlen(z), aSig, sizeof aSig, f->pRoot), FED_EINVALID);
  free(z);
  json_decref(d);
}

static int g_nApplied;
static int apply_count(void *pCtx, const fed_entry_view *e) {
  (void)pCtx;
  g_nApplied++;
  return strcmp(e->zOrigin, "650100") == 0 ? FED_OK : FED_EAGAIN;
}

static void test_apply_table(void **state) {
  fed_entry_view v;
  json_t *pDoc = NULL;
  const char *zEntry = "{\"body\":{\"account\":\"a1\"},\"key\":\"650100#1\",\"origin\":\"650100\",\"prev\":\"\","
                       "\"seq\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"type\":\"account.credentials\",\"v\":1}";
  (void)state;
  fed_apply_reset();
  assert_int_equal(fed_entry_view_parse(&v, &pDoc, zEntry, strlen(zEntry)), 0);
  assert_int_equal(fed_apply(&v), FED_ENOTFOUND); /* no handler: stored, applied later */
  assert_int_equal(fed_apply_register("account.credentials", 1, apply_count, NULL), 0);
  assert_int_equal(fed_apply(&v), FED_OK);
  assert_int_equal(g_nApplied, 1);
  v.v = 2; /* a newer version this node does not know */
  assert_int_equal(fed_apply(&v), FED_ENOTFOUND);
  char *zTypes = fed_apply_types_json();
  assert_string_equal(zTypes, "[\"account.credentials\"]");
  free(zTypes);
  json_decref(pDoc);
  assert_int_equal(fed_entry_view_parse(&v, &pDoc, "{\"seq\":1}", 9), FED_EINVALID);
  assert_null(pDoc);
  fed_apply_reset();
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_payload_has_its_own_prefix_and_names_everything),
    cmocka_unit_test(test_a_proof_verifies_only_for_what_it_was_made_for),
    cmocka_unit_test(test_nonces_are_fresh_hex),
    cmocka_unit_test(test_manifest_fed_fields_round_trip_and_are_checked),
    cmocka_unit_test(test_apply_table),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
