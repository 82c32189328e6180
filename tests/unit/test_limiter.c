/* test_limiter.c - unit tests of node/limiter.c: the rules' windows and budgets (per
 * (account, address), per address, account-wide, a trusted device's own), checks in
 * flight counted, no flush by other keys, counts kept across a reopen, storage pruned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limiter.h"

static const time_t T0 = 1800000000;

static int setup(void **state) {
  zc_limiter *p = NULL;
  assert_int_equal(limiter_open(&p, ":memory:", "schemas"), 0);
  *state = p;
  return 0;
}

static int teardown(void **state) {
  limiter_close(*state);
  return 0;
}

static limiter_attempt attempt(const char *zAccount, const char *zAddress, const char *zDevice) {
  limiter_attempt a;
  memset(&a, 0, sizeof a);
  snprintf(a.zAccount, sizeof a.zAccount, "%s", zAccount);
  snprintf(a.zAddress, sizeof a.zAddress, "%s", zAddress);
  snprintf(a.zDevice, sizeof a.zDevice, "%s", zDevice ? zDevice : "");
  return a;
}

/* Begin and end one check; the answer of limiter_begin. */
static int try_once(zc_limiter *p, const char *zAccount, const char *zAddress, const char *zDevice, int outcome,
                    time_t now, long *pnWait) {
  long nWait = 0;
  limiter_attempt a = attempt(zAccount, zAddress, zDevice);
  int rc = limiter_begin(p, &a, now, &nWait);
  if (rc == 0) limiter_end(p, &a, outcome, now);
  if (pnWait) *pnWait = nWait;
  return rc;
}

static void fail_n(zc_limiter *p, const char *zAccount, const char *zAddress, int n, time_t now) {
  for (int i = 0; i < n; i++) assert_int_equal(try_once(p, zAccount, zAddress, NULL, LIMITER_FAILED, now, NULL), 0);
}

static void test_pair_window(void **state) {
  zc_limiter *p = *state;
  long nWait;
  fail_n(p, "acct", "10.0.0.1", LIMIT_PAIR_MAX - 1, T0);
  assert_int_equal(try_once(p, "acct", "10.0.0.1", NULL, LIMITER_FAILED, T0 + 10, NULL), 0);
  /* blocked until the window that began with the first check ends */
  assert_int_equal(try_once(p, "acct", "10.0.0.1", NULL, LIMITER_OK, T0 + 100, &nWait), LIMITER_BLOCKED);
  assert_int_equal(nWait, LIMIT_SHORT_WINDOW - 100);
  assert_int_equal(try_once(p, "acct", "10.0.0.1", NULL, LIMITER_OK, T0 + LIMIT_SHORT_WINDOW - 1, &nWait),
                   LIMITER_BLOCKED);
  assert_int_equal(nWait, 1);
  assert_int_equal(try_once(p, "acct", "10.0.0.1", NULL, LIMITER_OK, T0 + LIMIT_SHORT_WINDOW, NULL), 0);
}

/* Failures from one address do not lock the account for another address. */
static void test_pair_does_not_reach_other_addresses(void **state) {
  zc_limiter *p = *state;
  fail_n(p, "acct", "10.0.0.1", LIMIT_PAIR_MAX, T0);
  assert_int_equal(try_once(p, "acct", "10.0.0.1", NULL, LIMITER_OK, T0, NULL), LIMITER_BLOCKED);
  assert_int_equal(try_once(p, "acct", "10.0.0.2", NULL, LIMITER_OK, T0, NULL), 0);
  assert_int_equal(try_once(p, "other", "10.0.0.1", NULL, LIMITER_OK, T0, NULL), 0);
}

static void test_success_clears_the_pair_only(void **state) {
  zc_limiter *p = *state;
  fail_n(p, "acct", "10.0.0.1", LIMIT_PAIR_MAX - 1, T0);
  assert_int_equal(try_once(p, "acct", "10.0.0.1", NULL, LIMITER_OK, T0, NULL), 0);
  fail_n(p, "acct", "10.0.0.1", LIMIT_PAIR_MAX - 1, T0); /* a fresh count */
  /* the address and the account keep theirs: 8 + 8 failures so far */
  for (int i = 0; i < LIMIT_ADDRESS_MAX - 2 * (LIMIT_PAIR_MAX - 1); i++) {
    char z[32];
    snprintf(z, sizeof z, "name-%d", i);
    assert_int_equal(try_once(p, z, "10.0.0.1", NULL, LIMITER_FAILED, T0, NULL), 0);
  }
  assert_int_equal(try_once(p, "fresh", "10.0.0.1", NULL, LIMITER_OK, T0, NULL), LIMITER_BLOCKED);
}

static void test_address_limit_over_accounts(void **state) {
  zc_limiter *p = *state;
  char z[32];
  for (int i = 0; i < LIMIT_ADDRESS_MAX; i++) {
    snprintf(z, sizeof z, "guess-%d", i);
    assert_int_equal(try_once(p, z, "10.0.0.3", NULL, LIMITER_FAILED, T0, NULL), 0);
  }
  assert_int_equal(try_once(p, "someone", "10.0.0.3", NULL, LIMITER_OK, T0, NULL), LIMITER_BLOCKED);
  assert_int_equal(try_once(p, "someone", "10.0.0.4", NULL, LIMITER_OK, T0, NULL), 0);
}

/* Untrusted clients together have a slower account-wide limit; a trusted device of the
 * account is not held by it, nor by its address's limit. */
static void test_account_wide_limit_and_trusted_device(void **state) {
  zc_limiter *p = *state;
  char zAddr[32];
  long nWait;
  int i;
  for (i = 0; i * LIMIT_PAIR_MAX < LIMIT_ACCOUNT_MAX; i++) {
    snprintf(zAddr, sizeof zAddr, "10.1.0.%d", i);
    fail_n(p, "victim", zAddr, LIMIT_PAIR_MAX, T0 + i);
  }
  assert_int_equal(try_once(p, "victim", "10.2.0.1", NULL, LIMITER_OK, T0 + 60, &nWait), LIMITER_BLOCKED);
  assert_int_equal(nWait, LIMIT_LONG_WINDOW - 60);
  assert_int_equal(try_once(p, "victim", "10.1.0.0", "dev1", LIMITER_OK, T0 + 60, NULL), 0);
  /* the device's own budget: five failures, then it counts as untrusted (blocked here) */
  for (i = 0; i < LIMIT_DEVICE_MAX; i++)
    assert_int_equal(try_once(p, "victim", "10.2.0.9", "dev2", LIMITER_FAILED, T0 + 61, NULL), 0);
  assert_int_equal(try_once(p, "victim", "10.2.0.9", "dev2", LIMITER_OK, T0 + 61, NULL), LIMITER_BLOCKED);
  assert_int_equal(try_once(p, "victim", "10.2.0.9", "dev1", LIMITER_OK, T0 + 61, NULL), 0);
}

/* Checks in flight count: parallel attempts cannot start more checks than the limit. */
static void test_checks_in_flight_count(void **state) {
  zc_limiter *p = *state;
  limiter_attempt a[LIMIT_ADDRESS_MAX + 1];
  long nWait;
  for (int i = 0; i <= LIMIT_ADDRESS_MAX; i++) {
    char z[32];
    snprintf(z, sizeof z, "parallel-%d", i);
    a[i] = attempt(z, "10.0.0.5", NULL);
    int rc = limiter_begin(p, &a[i], T0, &nWait);
    assert_int_equal(rc, i < LIMIT_ADDRESS_MAX ? 0 : LIMITER_BLOCKED);
  }
  assert_int_equal(nWait, 1); /* held only by checks in flight: soon */
  for (int i = 0; i < LIMIT_ADDRESS_MAX / 2; i++) limiter_end(p, &a[i], LIMITER_VOID, T0);
  assert_int_equal(try_once(p, "late", "10.0.0.5", NULL, LIMITER_FAILED, T0, NULL), 0);
}

/* One check at a time per client budget, which locks out nobody else. */
static void test_one_check_at_a_time_per_client(void **state) {
  zc_limiter *p = *state;
  long nWait;
  limiter_attempt a = attempt("acct", "10.0.0.6", NULL), b = attempt("acct", "10.0.0.6", NULL);
  assert_int_equal(limiter_begin(p, &a, T0, &nWait), 0);
  assert_int_equal(limiter_begin(p, &b, T0, &nWait), LIMITER_IN_FLIGHT);
  assert_int_equal(try_once(p, "acct", "10.0.0.7", NULL, LIMITER_OK, T0, NULL), 0);
  assert_int_equal(try_once(p, "acct", "10.0.0.6", "dev", LIMITER_OK, T0, NULL), 0);
  limiter_end(p, &a, LIMITER_FAILED, T0);
  assert_int_equal(limiter_begin(p, &b, T0, &nWait), 0);
  limiter_end(p, &b, LIMITER_OK, T0);
}

/* A burst of failures for other keys (crafted names, many addresses) never lifts a block. */
static void test_block_survives_many_other_keys(void **state) {
  zc_limiter *p = *state;
  char zName[32], zAddr[32];
  fail_n(p, "target", "10.0.0.8", LIMIT_PAIR_MAX, T0);
  for (int i = 0; i < 20000; i++) {
    snprintf(zName, sizeof zName, "crafted-%d", i);
    snprintf(zAddr, sizeof zAddr, "192.0.%d.%d", i / 250, i % 250);
    try_once(p, zName, zAddr, NULL, LIMITER_FAILED, T0 + 1 + i / 100, NULL);
  }
  assert_int_equal(try_once(p, "target", "10.0.0.8", NULL, LIMITER_OK, T0 + 300, NULL), LIMITER_BLOCKED);
}

/* Rows end with their window: storage is bounded by what the limits let through. */
static void test_rows_are_pruned(void **state) {
  zc_limiter *p = *state;
  char zName[32], zAddr[32];
  for (int i = 0; i < 2000; i++) {
    snprintf(zName, sizeof zName, "n-%d", i);
    snprintf(zAddr, sizeof zAddr, "198.51.%d.%d", i / 200, i % 200);
    try_once(p, zName, zAddr, NULL, LIMITER_FAILED, T0, NULL);
  }
  assert_true(limiter_rows(p) >= 2000);
  try_once(p, "later", "203.0.113.1", NULL, LIMITER_OK, T0 + LIMIT_LONG_WINDOW, NULL);
  assert_int_equal(limiter_rows(p), 0);
}

/* A restart keeps the counts; checks it had in flight no longer hold anyone. */
static void test_counts_survive_a_reopen(void **state) {
  char zPath[] = "/tmp/zc-limiter-XXXXXX";
  char zDb[64];
  zc_limiter *p = NULL;
  limiter_attempt a = attempt("acct", "10.0.0.9", NULL);
  long nWait;
  (void)state;
  assert_non_null(mkdtemp(zPath));
  snprintf(zDb, sizeof zDb, "%s/limits.db", zPath);
  assert_int_equal(limiter_open(&p, zDb, "schemas"), 0);
  fail_n(p, "acct", "10.0.0.9", LIMIT_PAIR_MAX, T0);
  a = attempt("busy", "10.0.0.10", NULL);
  assert_int_equal(limiter_begin(p, &a, T0, &nWait), 0); /* never ended: the process stops */
  limiter_close(p);
  assert_int_equal(limiter_open(&p, zDb, "schemas"), 0);
  assert_int_equal(limiter_reset_in_flight(p), 0);
  assert_int_equal(try_once(p, "acct", "10.0.0.9", NULL, LIMITER_OK, T0 + 60, NULL), LIMITER_BLOCKED);
  assert_int_equal(try_once(p, "busy", "10.0.0.10", NULL, LIMITER_OK, T0 + 60, NULL), 0);
  limiter_close(p);
  char zCmd[128];
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", zPath);
  assert_int_equal(system(zCmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pair_window, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pair_does_not_reach_other_addresses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_success_clears_the_pair_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_address_limit_over_accounts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_account_wide_limit_and_trusted_device, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checks_in_flight_count, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_check_at_a_time_per_client, setup, teardown),
      cmocka_unit_test_setup_teardown(test_block_survives_many_other_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rows_are_pruned, setup, teardown),
      cmocka_unit_test(test_counts_survive_a_reopen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
