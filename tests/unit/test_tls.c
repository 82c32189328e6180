/* test_tls.c - the federation's TLS certificates (tls.h): a node's certificate chains to
 * the root certificate made from the root key and to no other; the pin is the SHA-256 of
 * the certificate's DER, as `openssl x509 -outform der | sha256sum` computes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fed_error.h"
#include "keys.h"
#include "tls.h"

static char zDir[64];

static int setup_dir(void **state) {
  (void)state;
  strcpy(zDir, "/tmp/zc-test-tls-XXXXXX");
  return mkdtemp(zDir) ? 0 : -1;
}

static int teardown_dir(void **state) {
  char zCmd[128];
  (void)state;
  snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", zDir);
  return system(zCmd) == 0 ? 0 : -1;
}

static char *in_dir(const char *zName) {
  static char azPath[6][256];
  static unsigned iNext;
  char *z = azPath[iNext++ % 6];
  snprintf(z, sizeof azPath[0], "%s/%s", zDir, zName);
  return z;
}

static X509 *read_cert(const char *zPath) {
  FILE *f = fopen(zPath, "r");
  X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  return x;
}

/* 1 when the certificate zCert chains to zCa. */
static int chains_to(const char *zCert, const char *zCa) {
  X509 *x = read_cert(zCert), *ca = read_cert(zCa);
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *c = X509_STORE_CTX_new();
  int ok = x && ca && X509_STORE_add_cert(st, ca) && X509_STORE_CTX_init(c, st, x, NULL) &&
           X509_verify_cert(c) == 1;
  X509_STORE_CTX_free(c);
  X509_STORE_free(st);
  X509_free(x);
  X509_free(ca);
  return ok;
}

static void test_node_certificate_chains_to_its_root_only(void **state) {
  fed_key *pRoot = NULL, *pOther = NULL;
  struct stat st;
  (void)state;
  assert_int_equal(fed_key_generate(&pRoot), 0);
  assert_int_equal(fed_key_generate(&pOther), 0);
  assert_int_equal(fed_tls_root_cert(pRoot, in_dir("root.crt"), time(NULL)), 0);
  assert_int_equal(fed_tls_root_cert(pOther, in_dir("other.crt"), time(NULL)), 0);
  assert_int_equal(fed_tls_node_cert(pRoot, in_dir("root.crt"), "650100", in_dir("n.key"), in_dir("n.crt"), time(NULL)), 0);
  assert_true(chains_to(in_dir("n.crt"), in_dir("root.crt")));
  assert_false(chains_to(in_dir("n.crt"), in_dir("other.crt")));
  assert_int_equal(stat(in_dir("n.key"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* the root key must be the one of the root certificate */
  assert_int_equal(fed_tls_node_cert(pOther, in_dir("root.crt"), "650100", in_dir("m.key"), in_dir("m.crt"), time(NULL)),
                   FED_EINVALID);
  /* a public key alone makes no root */
  char *zPem = NULL;
  fed_key *pPub = NULL;
  assert_int_equal(fed_key_public_pem(&zPem, NULL, pRoot), 0);
  assert_int_equal(fed_key_from_pem(&pPub, zPem, strlen(zPem)), 0);
  assert_int_not_equal(fed_tls_root_cert(pPub, in_dir("pub.crt"), time(NULL)), 0);
  free(zPem);
  fed_key_free(pPub);
  fed_key_free(pRoot);
  fed_key_free(pOther);
}

static void test_pin_is_the_sha256_of_the_der(void **state) {
  fed_key *pRoot = NULL;
  char zPin[FED_SHA256_HEX_SIZE], zCmd[600], zOut[100] = "";
  (void)state;
  assert_int_equal(fed_key_generate(&pRoot), 0);
  assert_int_equal(fed_tls_root_cert(pRoot, in_dir("r.crt"), time(NULL)), 0);
  assert_int_equal(fed_tls_node_cert(pRoot, in_dir("r.crt"), "653100", in_dir("k.key"), in_dir("k.crt"), time(NULL)), 0);
  assert_int_equal(fed_tls_cert_pin(zPin, in_dir("k.crt")), 0);
  snprintf(zCmd, sizeof zCmd, "openssl x509 -in '%s' -outform der | sha256sum", in_dir("k.crt"));
  FILE *p = popen(zCmd, "r");
  assert_non_null(p);
  assert_non_null(fgets(zOut, sizeof zOut, p));
  pclose(p);
  assert_int_equal(strncmp(zOut, zPin, 64), 0);
  assert_int_equal(fed_tls_cert_pin(zPin, in_dir("k.key")), FED_EINVALID); /* not a certificate */
  assert_int_equal(fed_tls_cert_pin(zPin, in_dir("absent.crt")), FED_EINVALID);
  fed_key_free(pRoot);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_node_certificate_chains_to_its_root_only),
    cmocka_unit_test(test_pin_is_the_sha256_of_the_der),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
