/* test_keys.c - Ed25519 keys: sign/verify, PEM files, fingerprints, and agreement with the
 * openssl command line that outside auditors use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fed_error.h"
#include "fed_file.h"
#include "keys.h"

static char zDir[64];

static int setup_dir(void **state) {
  (void)state;
  strcpy(zDir, "/tmp/zc-test-keys-XXXXXX");
  return mkdtemp(zDir) ? 0 : -1;
}

static int teardown_dir(void **state) {
  char zCmd[128];
  (void)state;
  snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", zDir);
  return system(zCmd) == 0 ? 0 : -1;
}

/* zDir/zName in one of four rotating buffers, so that one call may use up to four. */
static char *path_in_dir(const char *zName) {
  static char azPath[4][256];
  static unsigned iNext;
  char *zPath = azPath[iNext++ % 4];
  snprintf(zPath, sizeof(azPath[0]), "%s/%s", zDir, zName);
  return zPath;
}

static void test_sign_verify(void **state) {
  fed_key *k = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  const char *zMsg = "{\"seq\":1}";
  (void)state;
  assert_int_equal(fed_key_generate(&k), 0);
  assert_true(fed_key_has_private(k));
  assert_int_equal(fed_key_sign(aSig, k, zMsg, strlen(zMsg)), 0);
  assert_int_equal(fed_key_verify(k, zMsg, strlen(zMsg), aSig, sizeof(aSig)), 0);
  fed_key_free(k);
}

static void test_tampered_fails(void **state) {
  fed_key *k = NULL, *pOther = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  char zMsg[] = "{\"seq\":1}";
  (void)state;
  assert_int_equal(fed_key_generate(&k), 0);
  assert_int_equal(fed_key_generate(&pOther), 0);
  assert_int_equal(fed_key_sign(aSig, k, zMsg, strlen(zMsg)), 0);
  assert_int_equal(fed_key_verify(pOther, zMsg, strlen(zMsg), aSig, sizeof(aSig)), FED_EBADSIG);
  assert_int_equal(fed_key_verify(k, zMsg, strlen(zMsg), aSig, sizeof(aSig) - 1), FED_EBADSIG);
  zMsg[7] = '2';
  assert_int_equal(fed_key_verify(k, zMsg, strlen(zMsg), aSig, sizeof(aSig)), FED_EBADSIG);
  zMsg[7] = '1';
  aSig[10] ^= 1;
  assert_int_equal(fed_key_verify(k, zMsg, strlen(zMsg), aSig, sizeof(aSig)), FED_EBADSIG);
  fed_key_free(pOther);
  fed_key_free(k);
}

/* A verifier set answers as fed_key_verify does, signature after signature, keys mixed,
 * also right after a signature that did not verify. */
static void test_verifier_set_reuses_its_checks(void **state) {
  fed_key *k = NULL, *pOther = NULL;
  unsigned char aSig[FED_SIG_SIZE], aOther[FED_SIG_SIZE];
  char zMsg[] = "{\"seq\":1}";
  (void)state;
  fed_verifier_set *p = fed_verifier_set_new();
  assert_non_null(p);
  assert_int_equal(fed_key_generate(&k), 0);
  assert_int_equal(fed_key_generate(&pOther), 0);
  assert_int_equal(fed_key_sign(aSig, k, zMsg, strlen(zMsg)), 0);
  assert_int_equal(fed_key_sign(aOther, pOther, zMsg, strlen(zMsg)), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(fed_key_verify_in(p, k, zMsg, strlen(zMsg), aSig, sizeof aSig), 0);
    assert_int_equal(fed_key_verify_in(p, pOther, zMsg, strlen(zMsg), aOther, sizeof aOther), 0);
    assert_int_equal(fed_key_verify_in(p, k, zMsg, strlen(zMsg), aOther, sizeof aOther), FED_EBADSIG);
    zMsg[7] = '2';
    assert_int_equal(fed_key_verify_in(p, k, zMsg, strlen(zMsg), aSig, sizeof aSig), FED_EBADSIG);
    zMsg[7] = '1';
    assert_int_equal(fed_key_verify_in(p, k, zMsg, strlen(zMsg), aSig, sizeof aSig - 1), FED_EBADSIG);
  }
  assert_int_equal(fed_key_verify_in(NULL, k, zMsg, strlen(zMsg), aSig, sizeof aSig), 0);
  fed_verifier_set_free(p);
  fed_key_free(pOther);
  fed_key_free(k);
}

static void test_pem_roundtrip(void **state) {
  fed_key *k = NULL, *pPriv = NULL, *pPub = NULL, *pFromText = NULL;
  char zKeyPath[256], zPemPath[256];
  char *zText = NULL, *zPem = NULL;
  size_t nText = 0, nPem = 0;
  unsigned char aSig[FED_SIG_SIZE];
  struct stat st;
  (void)state;
  snprintf(zKeyPath, sizeof(zKeyPath), "%s", path_in_dir("n.key"));
  snprintf(zPemPath, sizeof(zPemPath), "%s", path_in_dir("n.pem"));
  assert_int_equal(fed_key_generate(&k), 0);
  assert_int_equal(fed_key_write_private(k, zKeyPath), 0);
  assert_int_equal(fed_key_write_public(k, zPemPath), 0);
  assert_int_equal(stat(zKeyPath, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  assert_int_equal(fed_file_read(&zText, &nText, zKeyPath, 4096), 0);
  assert_non_null(strstr(zText, "-----BEGIN PRIVATE KEY-----")); /* PKCS#8 */
  free(zText);
  assert_int_equal(fed_file_read(&zText, &nText, zPemPath, 4096), 0);
  assert_non_null(strstr(zText, "-----BEGIN PUBLIC KEY-----")); /* SubjectPublicKeyInfo */
  assert_int_equal(fed_key_public_pem(&zPem, &nPem, k), 0);
  assert_int_equal(nPem, nText);
  assert_memory_equal(zPem, zText, nPem);

  assert_int_equal(fed_key_load_private(&pPriv, zKeyPath), 0);
  assert_int_equal(fed_key_load_public(&pPub, zPemPath), 0);
  assert_int_equal(fed_key_from_pem(&pFromText, zText, nText), 0);
  assert_false(fed_key_has_private(pPub));
  assert_int_equal(fed_key_sign(aSig, pPriv, "x", 1), 0);
  assert_int_equal(fed_key_verify(pPub, "x", 1, aSig, sizeof(aSig)), 0);
  assert_int_equal(fed_key_verify(pFromText, "x", 1, aSig, sizeof(aSig)), 0);
  assert_int_equal(fed_key_verify(k, "x", 1, aSig, sizeof(aSig)), 0);

  /* a public key cannot sign nor be written as a private one */
  assert_int_equal(fed_key_sign(aSig, pPub, "x", 1), FED_EINVALID);
  assert_int_equal(fed_key_write_private(pPub, path_in_dir("bad.key")), FED_EINVALID);
  fed_key_free(pFromText);
  assert_int_equal(fed_key_load_public(&pFromText, path_in_dir("missing.pem")), FED_ENOTFOUND);
  assert_null(pFromText);
  assert_int_equal(fed_key_load_private(&pFromText, zPemPath), FED_EINVALID);
  assert_null(pFromText);
  /* only a regular file is ever replaced */
  assert_int_equal(mkdir(path_in_dir("a-dir"), 0755), 0);
  assert_int_equal(fed_key_write_public(k, path_in_dir("a-dir")), FED_EINVALID);

  free(zPem);
  free(zText);
  fed_key_free(pPub);
  fed_key_free(pPriv);
  fed_key_free(k);
}

static void test_fingerprint(void **state) {
  fed_key *k = NULL, *pPub = NULL, *pOther = NULL;
  char zA[FED_FINGERPRINT_SIZE], zB[FED_FINGERPRINT_SIZE], zC[FED_FINGERPRINT_SIZE];
  char zCmd[512], zWant[80] = "";
  FILE *pOut;
  (void)state;
  assert_int_equal(fed_key_generate(&k), 0);
  assert_int_equal(fed_key_generate(&pOther), 0);
  assert_int_equal(fed_key_write_public(k, path_in_dir("fp.pem")), 0);
  assert_int_equal(fed_key_load_public(&pPub, path_in_dir("fp.pem")), 0);
  assert_int_equal(fed_key_fingerprint(zA, k), 0);
  assert_int_equal(fed_key_fingerprint(zB, pPub), 0);
  assert_int_equal(fed_key_fingerprint(zC, pOther), 0);
  assert_string_equal(zA, zB);
  assert_string_not_equal(zA, zC);
  assert_int_equal(strlen(zA), 64);
  assert_int_equal(strspn(zA, "0123456789abcdef"), 64);
  /* the same as SHA-256 of the DER SubjectPublicKeyInfo computed by openssl */
  snprintf(zCmd, sizeof(zCmd), "openssl pkey -pubin -in '%s' -outform DER | sha256sum", path_in_dir("fp.pem"));
  pOut = popen(zCmd, "r");
  assert_non_null(pOut);
  assert_non_null(fgets(zWant, sizeof(zWant), pOut));
  assert_int_equal(pclose(pOut), 0);
  zWant[64] = 0;
  assert_string_equal(zA, zWant);
  fed_key_free(pOther);
  fed_key_free(pPub);
  fed_key_free(k);
}

static void test_sha256_hex(void **state) {
  char z[FED_SHA256_HEX_SIZE];
  (void)state;
  fed_sha256_hex(z, "abc", 3);
  assert_string_equal(z, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fed_sha256_hex(z, "", 0);
  assert_string_equal(z, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Run a shell command quietly; its exit status. */
static int run(const char *zFmt, ...) {
  char zCmd[1024];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zCmd, sizeof(zCmd), zFmt, ap);
  va_end(ap);
  strncat(zCmd, " >/dev/null 2>&1", sizeof(zCmd) - strlen(zCmd) - 1);
  return system(zCmd);
}

static void test_openssl_cli_verifies(void **state) {
  fed_key *k = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  const char *zMsg = "{\"body\":{},\"key\":\"650000#1\",\"origin\":\"650000\",\"prev\":\"\",\"seq\":1}";
  char zPem[256], zIn[256], zSigPath[256];
  (void)state;
  snprintf(zPem, sizeof(zPem), "%s", path_in_dir("cli.pem"));
  snprintf(zIn, sizeof(zIn), "%s", path_in_dir("cli.msg"));
  snprintf(zSigPath, sizeof(zSigPath), "%s", path_in_dir("cli.sig"));
  assert_int_equal(fed_key_generate(&k), 0);
  assert_int_equal(fed_key_write_public(k, zPem), 0);
  assert_int_equal(fed_key_sign(aSig, k, zMsg, strlen(zMsg)), 0);
  assert_int_equal(fed_file_write_atomic(zIn, zMsg, strlen(zMsg), 0644), 0);
  assert_int_equal(fed_file_write_atomic(zSigPath, aSig, sizeof(aSig), 0644), 0);
  assert_int_equal(run("openssl pkeyutl -verify -pubin -inkey '%s' -rawin -in '%s' -sigfile '%s'", zPem, zIn, zSigPath),
                   0);
  aSig[0] ^= 0x80;
  assert_int_equal(fed_file_write_atomic(zSigPath, aSig, sizeof(aSig), 0644), 0);
  assert_int_not_equal(
      run("openssl pkeyutl -verify -pubin -inkey '%s' -rawin -in '%s' -sigfile '%s'", zPem, zIn, zSigPath), 0);
  fed_key_free(k);
}

static void test_openssl_cli_keys_load(void **state) {
  fed_key *k = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  (void)state;
  /* a key made by openssl signs what openssl then verifies */
  assert_int_equal(run("openssl genpkey -algorithm ed25519 -out '%s'", path_in_dir("o.key")), 0);
  assert_int_equal(run("openssl pkey -in '%s' -pubout -out '%s'", path_in_dir("o.key"), path_in_dir("o.pem")), 0);
  assert_int_equal(fed_key_load_private(&k, path_in_dir("o.key")), 0);
  assert_int_equal(fed_key_sign(aSig, k, "hello", 5), 0);
  fed_key_free(k);
  assert_int_equal(fed_file_write_atomic(path_in_dir("o.msg"), "hello", 5, 0644), 0);
  assert_int_equal(fed_file_write_atomic(path_in_dir("o.sig"), aSig, sizeof(aSig), 0644), 0);
  assert_int_equal(run("openssl pkeyutl -verify -pubin -inkey '%s' -rawin -in '%s' -sigfile '%s'",
                       path_in_dir("o.pem"), path_in_dir("o.msg"), path_in_dir("o.sig")),
                   0);
  /* other algorithms are refused */
  assert_int_equal(run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%s'", path_in_dir("ec.key")),
                   0);
  k = NULL;
  assert_int_equal(fed_key_load_private(&k, path_in_dir("ec.key")), FED_EINVALID);
  assert_null(k);
  assert_non_null(strstr(fed_last_error(), "Ed25519"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sign_verify),          cmocka_unit_test(test_tampered_fails),
      cmocka_unit_test(test_pem_roundtrip),        cmocka_unit_test(test_fingerprint),
      cmocka_unit_test(test_sha256_hex),           cmocka_unit_test(test_openssl_cli_verifies),
      cmocka_unit_test(test_openssl_cli_keys_load), cmocka_unit_test(test_verifier_set_reuses_its_checks),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
