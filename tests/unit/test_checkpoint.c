/* test_checkpoint.c - signed checkpoints (checkpoint.h): their exact bytes, signature
 * with its prefix, verification against the manifest, and their storage in the log as
 * refs/checkpoints/<node> (fedlog.h), checked with real git and openssl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fed_error.h"
#include "fedlog.h"
#include "log_fixture.h"

static int setup(void **state) {
  return fixture_setup(state, "/tmp/zc-test-ckpt-XXXXXX");
}

static int teardown(void **state) {
  return fixture_teardown(state);
}

static void heads_fill(fed_checkpoint_head a[2]) {
  memset(a, 0, 2 * sizeof(a[0]));
  snprintf(a[0].zOrigin, sizeof(a[0].zOrigin), "650100");
  a[0].iSeq = 3;
  memset(a[0].zHash, 'b', 64);
  snprintf(a[1].zOrigin, sizeof(a[1].zOrigin), "650000");
  a[1].iSeq = 12;
  memset(a[1].zHash, 'a', 64);
}

static void test_bytes_and_verify(void **state) {
  fixture *f = *state;
  fed_checkpoint_head a[2];
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  fed_checkpoint c;
  char zWant[512];
  heads_fill(a);
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, "650100", "650100#1", f->pUrumqi, T0, a, 2), 0);
  snprintf(zWant, sizeof(zWant),
           "{\"heads\":{\"650000\":{\"hash\":\"%s\",\"seq\":12},\"650100\":{\"hash\":\"%s\",\"seq\":3}},"
           "\"key\":\"650100#1\",\"node\":\"650100\",\"ts\":\"2023-11-14T22:13:20Z\",\"v\":1}",
           a[1].zHash, a[0].zHash);
  assert_string_equal(zJson, zWant);
  assert_int_equal(nJson, strlen(zWant));
  assert_int_equal(fed_checkpoint_verify(&c, f->m, zJson, nJson, aSig, FED_SIG_SIZE), 0);
  assert_string_equal(c.zNode, "650100");
  assert_int_equal(c.tTs, T0);
  assert_int_equal(c.nHead, 2);
  assert_string_equal(c.aHead[0].zOrigin, "650000");
  assert_int_equal(c.aHead[0].iSeq, 12);
  assert_string_equal(c.aHead[0].zHash, a[1].zHash);
  assert_string_equal(c.aHead[1].zOrigin, "650100");
  fed_checkpoint_dispose(&c);
  /* the signature covers the prefix: the bare bytes' signature does not pass */
  unsigned char aBare[FED_SIG_SIZE];
  assert_int_equal(fed_key_sign(aBare, f->pUrumqi, zJson, nJson), 0);
  assert_int_equal(fed_checkpoint_verify(NULL, f->m, zJson, nJson, aBare, FED_SIG_SIZE), FED_EBADSIG);
  aSig[0] ^= 1;
  assert_int_equal(fed_checkpoint_verify(NULL, f->m, zJson, nJson, aSig, FED_SIG_SIZE), FED_EBADSIG);
  free(zJson);
}

static void test_keys(void **state) {
  fixture *f = *state;
  fed_checkpoint_head a[2];
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  heads_fill(a);
  /* another node's key */
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, "650100", "650000#1", f->pRegion, T0, a, 2), 0);
  assert_int_equal(fed_checkpoint_verify(NULL, f->m, zJson, nJson, aSig, FED_SIG_SIZE), FED_ENOTFOUND);
  free(zJson);
  /* outside the key's window */
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, "650000", "650000#0", f->pOld, T0, a, 2), 0);
  assert_int_equal(fed_checkpoint_verify(NULL, f->m, zJson, nJson, aSig, FED_SIG_SIZE), FED_EEXPIRED);
  free(zJson);
}

static void test_bad_input(void **state) {
  fixture *f = *state;
  fed_checkpoint_head a[2];
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  fed_checkpoint c;
  heads_fill(a);
  snprintf(a[1].zOrigin, sizeof(a[1].zOrigin), "650100"); /* twice */
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, "650100", "650100#1", f->pUrumqi, T0, a, 2),
                   FED_EINVALID);
  assert_null(zJson);
  heads_fill(a);
  a[0].zHash[3] = 'X';
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, "650100", "650100#1", f->pUrumqi, T0, a, 2),
                   FED_EINVALID);
  assert_null(zJson);
  assert_int_equal(fed_checkpoint_parse(&c, "{\"v\":1}", 7), FED_EINVALID);
  fed_checkpoint_dispose(&c);
  assert_int_equal(fed_checkpoint_parse(&c, "{ \"v\":1}", 8), FED_EINVALID);
  fed_checkpoint_dispose(&c);
}

static void log_path(char *zOut, size_t nOut, const fixture *f) {
  snprintf(zOut, nOut, "%s/n1/fedlog.git", f->zDir);
}

/* The commit refs/checkpoints/650100 points at, as hex ("" when none). */
static void ref_tip(char zOut[GIT_OID_HEXSZ + 1], const fixture *f) {
  char zPath[160], zCmd[400];
  FILE *p;
  log_path(zPath, sizeof(zPath), f);
  snprintf(zCmd, sizeof(zCmd), "git --git-dir '%s' rev-parse -q --verify refs/checkpoints/650100 2>/dev/null", zPath);
  p = popen(zCmd, "r");
  assert_non_null(p);
  zOut[0] = 0;
  if (fgets(zOut, GIT_OID_HEXSZ + 1, p) == NULL) zOut[0] = 0;
  pclose(p);
}

static void test_store(void **state) {
  fixture *f = *state;
  fed_checkpoint_head a[2];
  char *zJson = NULL, *zJson2 = NULL, *zGot = NULL;
  size_t nJson = 0, nJson2 = 0, nGot = 0;
  unsigned char aSig[FED_SIG_SIZE], aSig2[FED_SIG_SIZE], aGot[FED_SIG_SIZE];
  char zPath[160], zTip1[GIT_OID_HEXSZ + 1], zTip2[GIT_OID_HEXSZ + 1], zCmd[1200];
  fedlog *l = NULL;
  fed_log_head h;
  heads_fill(a);
  log_path(zPath, sizeof(zPath), f);
  assert_int_equal(fedlog_open(&l, zPath, f->m, NULL), 0);
  assert_int_equal(fedlog_checkpoint_latest(&zGot, &nGot, aGot, l, "650100"), FED_ENOTFOUND);
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, "650100", "650100#1", f->pUrumqi, T0, a, 2), 0);
  assert_int_equal(fed_checkpoint_make(&zJson2, &nJson2, aSig2, "650100", "650100#1", f->pUrumqi, T0 + 60, a, 2), 0);
  /* refused, nothing stored: a bad signature; another node's checkpoint */
  aSig[1] ^= 1;
  assert_int_equal(fedlog_checkpoint_put(l, "650100", zJson, nJson, aSig), FED_EBADSIG);
  aSig[1] ^= 1;
  assert_int_equal(fedlog_checkpoint_put(l, "650000", zJson, nJson, aSig), FED_EINVALID);
  ref_tip(zTip1, f);
  assert_string_equal(zTip1, "");
  assert_int_equal(fedlog_checkpoint_put(l, "650100", zJson, nJson, aSig), 0);
  ref_tip(zTip1, f);
  assert_int_equal(fedlog_checkpoint_put(l, "650100", zJson, nJson, aSig), 0); /* the same: not again */
  ref_tip(zTip2, f);
  assert_string_equal(zTip1, zTip2);
  assert_int_equal(fedlog_checkpoint_put(l, "650100", zJson2, nJson2, aSig2), 0);
  ref_tip(zTip2, f);
  assert_string_not_equal(zTip1, zTip2);
  assert_int_equal(fedlog_checkpoint_latest(&zGot, &nGot, aGot, l, "650100"), 0);
  assert_int_equal(nGot, nJson2);
  assert_memory_equal(zGot, zJson2, nJson2);
  assert_memory_equal(aGot, aSig2, FED_SIG_SIZE);
  /* refs/fed/ knows nothing of it */
  assert_int_equal(fedlog_head(&h, l, "650100"), 0);
  assert_int_equal(h.iSeq, 0);
  fedlog_close(l);
  /* with git and openssl: parent, time, exactly two files, the signature over prefix + bytes */
  snprintf(zCmd, sizeof(zCmd), "%s/650100.pem", f->zDir);
  assert_int_equal(fed_key_write_public(f->pUrumqi, zCmd), 0);
  snprintf(zCmd, sizeof(zCmd),
           "cd '%s' && G='git --git-dir %s' && R=refs/checkpoints/650100 && "
           "test \"$($G rev-parse $R^)\" = %s && test \"$($G log -1 --format=%%ct $R)\" = %d && "
           "test \"$($G ls-tree --name-only $R | tr '\\n' ' ')\" = 'checkpoint.json checkpoint.sig ' && "
           "$G show $R:checkpoint.json > c && $G show $R:checkpoint.sig > s && "
           "{ printf 'zc-fed.1 checkpoint\\n'; cat c; } > m && "
           "openssl pkeyutl -verify -pubin -inkey 650100.pem -rawin -in m -sigfile s >/dev/null 2>&1 && "
           "! openssl pkeyutl -verify -pubin -inkey 650100.pem -rawin -in c -sigfile s >/dev/null 2>&1",
           f->zDir, zPath, zTip1, T0 + 60);
  assert_int_equal(system(zCmd), 0);
  free(zJson);
  free(zJson2);
  free(zGot);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_bytes_and_verify), T(test_keys), T(test_bad_input), T(test_store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
