/* test_audit_rules.c - the federation's invariants (federation/audit_rules.h) over facts
 * given as entry.json texts: each rule fires on the history that breaks it, and only
 * there; in-flight entries are spared; copies of one entry count once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_rules.h"
#include "canon.h"
#include "fed_error.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z: every entry's ts is T0 + seq seconds */
#define NOW (T0 + 100000)

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define PHONE "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

typedef struct seen {
  int n;
  char azLine[16][700];
} seen;

static void on_report(const char *zCode, const char *zOrigin, long long iSeq, const char *zMessage, void *payload) {
  seen *s = payload;
  if (s->n < 16) snprintf(s->azLine[s->n], sizeof s->azLine[0], "%s %s %lld %s", zCode, zOrigin, iSeq, zMessage);
  s->n++;
}

/* Add the entry (zOrigin, iSeq) of zType with body pBody (taken) to r, as canonical JSON. */
static void add(fed_rules *r, const char *zOrigin, long long iSeq, const char *zType, json_t *pBody) {
  char zTs[32];
  time_t t = T0 + iSeq;
  strftime(zTs, sizeof zTs, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  json_t *e = json_pack("{s:o, s:s, s:s, s:s, s:I, s:s, s:s, s:i}", "body", pBody, "key", "k#1", "origin", zOrigin,
                        "prev", "", "seq", (json_int_t)iSeq, "ts", zTs, "type", zType, "v", 1);
  size_t n;
  char *z = fed_canon(e, &n);
  assert_non_null(z);
  assert_true(fed_rules_wants(z, n));
  assert_int_equal(fed_rules_add(r, z, n, e), FED_OK);
  free(z);
  json_decref(e);
}

/* A claim of zId (and, for accounts named a-1 and a-2, of PHONE: the two share a phone). */
static void claim(fed_rules *r, long long iSeq, const char *zId, const char *zAccount, const char *zNode) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "id_digest", zId, "account", zAccount, "node", zNode);
  if (strcmp(zAccount, "a-1") == 0 || strcmp(zAccount, "a-2") == 0)
    json_object_set_new(b, "phone_digest", json_string(PHONE));
  add(r, FED_REGISTRAR, iSeq, "id.claimed", b);
}

static void release(fed_rules *r, long long iSeq, const char *zId, const char *zAccount) {
  add(r, FED_REGISTRAR, iSeq, "id.released",
      json_pack("{s:s, s:s, s:s, s:s}", "id_digest", zId, "phone_digest", PHONE, "account", zAccount, "reason",
                "never_registered"));
}

static void registered(fed_rules *r, const char *zOrigin, long long iSeq, const char *zAccount, const char *zId) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "account", zAccount, "role", "applicant", "home", zOrigin);
  if (zId) json_object_set_new(b, "id_digest", json_string(zId));
  add(r, zOrigin, iSeq, "account.registered", b);
}

static int judge(fed_rules *r, seen *s, long nInFlight) {
  memset(s, 0, sizeof *s);
  int n = fed_rules_judge(r, NOW, nInFlight, 1, on_report, s);
  for (int i = 0; i < s->n && i < 16; i++) print_message("    %s\n", s->azLine[i]);
  return n;
}

static void assert_one(const seen *s, const char *zStart) {
  assert_int_equal(s->n, 1);
  assert_int_equal(strncmp(s->azLine[0], zStart, strlen(zStart)), 0);
}

/* A claim, its account at the node it was for, a release and a new claim: clean. Copies
 * of the same entries (several logs hold them) change nothing. */
static void test_sound_history_is_clean(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  for (int copy = 0; copy < 2; copy++) {
    claim(r, 1, ID_A, "a-1", "650100");
    registered(r, "650100", 1, "a-1", ID_A);
    claim(r, 2, ID_B, "a-4", "650100");  /* never registered: released */
    release(r, 3, ID_B, "a-4");
    claim(r, 4, ID_B, "a-3", "653100");
    registered(r, "653100", 7, "a-3", ID_B);
    registered(r, "650000", 5, "s-1", NULL); /* staff: no ID number, no claim */
  }
  assert_int_equal(judge(r, &s, 0), 0);
  fed_rules_free(r);
}

static void test_a_digest_claimed_while_held(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100");
  registered(r, "650100", 1, "a-1", ID_A);
  claim(r, 2, ID_A, "a-2", "653100");
  registered(r, "653100", 1, "a-2", ID_A);
  /* the ID digest and the phone digest: both held by a-1 */
  assert_int_equal(judge(r, &s, 0), 2);
  assert_non_null(strstr(s.azLine[0], "id_claimed_twice 650000 2 the ID number digest"));
  assert_non_null(strstr(s.azLine[1], "id_claimed_twice 650000 2 the phone digest"));
  fed_rules_free(r);
}

static void test_a_claim_never_registered(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100");
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "claim_unmatched 650000 1 ");
  fed_rules_free(r);
  /* still in flight: not yet a finding */
  r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100");
  assert_int_equal(judge(r, &s, NOW - T0), 0);
  fed_rules_free(r);
  /* registered, but by another node than it was claimed for */
  r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100");
  registered(r, "653100", 1, "a-1", ID_A);
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "claim_unmatched 650000 1 ");
  fed_rules_free(r);
}

static void test_an_account_without_a_claim(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100");
  registered(r, "650100", 1, "a-1", ID_A);
  registered(r, "650100", 2, "a-2", ID_B);
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "account_unclaimed 650100 2 ");
  assert_int_equal(judge(r, &s, NOW - T0), 0); /* in flight */
  /* without the registrar's chain it cannot be judged */
  memset(&s, 0, sizeof s);
  assert_int_equal(fed_rules_judge(r, NOW, 0, 0, on_report, &s), 0);
  fed_rules_free(r);
}

static void test_two_homes_and_a_claim_elsewhere(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100");
  registered(r, "650100", 1, "a-1", ID_A);
  registered(r, "653100", 1, "a-1", ID_A);
  add(r, "650100", 2, "id.claimed",
      json_pack("{s:s, s:s, s:s}", "id_digest", ID_B, "account", "a-9", "node", "650100"));
  assert_int_equal(judge(r, &s, 0), 2);
  assert_non_null(strstr(s.azLine[0], "bad_claim 650100 2 "));
  assert_non_null(strstr(s.azLine[1], "two_homes 653100 1 "));
  fed_rules_free(r);
}

/* An applicant's new phone (phone.claimed) gives up the former one: another may claim it,
 * but not the new one. */
static void test_a_phone_change_moves_the_claim(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  claim(r, 1, ID_A, "a-1", "650100"); /* with PHONE */
  registered(r, "650100", 1, "a-1", ID_A);
  add(r, FED_REGISTRAR, 2, "phone.claimed", json_pack("{s:s, s:s, s:s}", "account", "a-1", "phone_digest", ID_B,
                                                     "node", "650100"));
  claim(r, 3, "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "a-2", "650100"); /* PHONE again */
  registered(r, "650100", 2, "a-2", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
  assert_int_equal(judge(r, &s, 0), 0);
  add(r, FED_REGISTRAR, 4, "phone.claimed", json_pack("{s:s, s:s, s:s}", "account", "a-2", "phone_digest", ID_B,
                                                     "node", "650100"));
  assert_int_equal(judge(r, &s, 0), 1);
  assert_non_null(strstr(s.azLine[0], "id_claimed_twice 650000 4 the phone digest bbbbbbbbbbbbbbbb… is claimed for "
                                      "account a-2 while account a-1 holds it"));
  fed_rules_free(r);
}

static void app_change(fed_rules *r, const char *zOrigin, long long iSeq, long long iRev) {
  add(r, zOrigin, iSeq, "application.moved", json_pack("{s:s, s:I}", "application", "p-1", "revision", (json_int_t)iRev));
}

static void app_handoff(fed_rules *r, const char *zFrom, long long iSeq, long long iRev, const char *zTo) {
  add(r, zFrom, iSeq, "application.handoff",
      json_pack("{s:s, s:I, s:s, s:s}", "application", "p-1", "revision", (json_int_t)iRev, "from", zFrom, "to", zTo));
}

static void app_accepted(fed_rules *r, const char *zAt, long long iSeq, long long iRev, const char *zFrom) {
  add(r, zAt, iSeq, "application.accepted",
      json_pack("{s:s, s:I, s:s}", "application", "p-1", "revision", (json_int_t)iRev, "from", zFrom));
}

/* Home -> the region's committee -> home: one holder at every revision. */
static void test_handoffs_one_holder_at_a_time(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  app_change(r, "650100", 1, 1);
  app_change(r, "650100", 2, 4);
  app_handoff(r, "650100", 3, 4, "650000");
  app_accepted(r, "650000", 1, 4, "650100");
  app_change(r, "650000", 2, 5);
  app_handoff(r, "650000", 3, 5, "650100");
  app_accepted(r, "650100", 4, 5, "650000");
  app_change(r, "650100", 5, 7);
  assert_int_equal(judge(r, &s, 0), 0);
  /* the old holder changes it after handing it on */
  app_change(r, "650000", 4, 8);
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "held_twice 650000 4 node 650000 changes application p-1 at revision 8 while node 650100 holds it");
  fed_rules_free(r);
  /* a hand-off never accepted: in flight for a while, then a finding */
  r = fed_rules_new();
  app_change(r, "650100", 1, 1);
  app_handoff(r, "650100", 2, 1, "650000");
  assert_int_equal(judge(r, &s, NOW - T0), 0);
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "handoff_unmatched 650100 2 ");
  /* accepted by another node than it went to: still unmatched */
  app_accepted(r, "653100", 1, 1, "650100");
  assert_int_equal(judge(r, &s, 0), 1);
  fed_rules_free(r);
}

static void step(fed_rules *r, const char *zOrigin, long long iSeq, const char *zTransfer, const char *zFrom,
                 const char *zTo, const char *zStatus) {
  add(r, zOrigin, iSeq, "account.transfer", json_pack("{s:s, s:s, s:s, s:s, s:s}", "transfer", zTransfer, "account",
                                                      "a-1", "from", zFrom, "to", zTo, "status", zStatus));
}

/* One home at every moment: moved by its home of the moment, done once accepted. */
static void test_transfers_one_home_at_a_time(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  registered(r, "650000", 1, "a-1", NULL);
  step(r, "650000", 2, "t-1", "650000", "653100", "offered");
  step(r, "653100", 1, "t-1", "650000", "653100", "accepted");
  step(r, "650000", 3, "t-1", "650000", "653100", "done");
  step(r, "653100", 2, "t-2", "653100", "650100", "offered"); /* the new home moves on */
  step(r, "653100", 3, "t-2", "653100", "650100", "rolled_back");
  step(r, "650100", 1, "t-2", "653100", "650100", "accepted"); /* too late: changes nothing */
  assert_int_equal(judge(r, &s, 0), 0);
  /* the old home offers again after it handed the account on */
  step(r, "650000", 10, "t-3", "650000", "650100", "offered");
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "two_homes 650000 10 node 650000 moves account a-1 (transfer t-3) while node 653100 is its home");
  fed_rules_free(r);
  /* done without the new home's acceptance; decided twice */
  r = fed_rules_new();
  registered(r, "650000", 1, "a-1", NULL);
  step(r, "650000", 2, "t-1", "650000", "653100", "offered");
  step(r, "650000", 3, "t-1", "650000", "653100", "done");
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "two_homes 650000 3 transfer t-1 of account a-1 is done before node 653100 accepted it");
  step(r, "650000", 4, "t-1", "650000", "653100", "rolled_back");
  assert_int_equal(judge(r, &s, 0), 2);
  fed_rules_free(r);
}

static void routed(fed_rules *r, long long iSeq, const char *zQual, const char *zUnitNode, const char *zCommittee) {
  add(r, "650100", iSeq, "application.created",
      json_pack("{s:s, s:i, s:{s:s, s:s, s:s, s:s}}", "application", "p-9", "revision", 0, "detail", "qualification",
                zQual, "specialty", "JY-YW", "committee", zCommittee, "unit_node", zUnitNode));
}

/* The committee of the unit's node for the title, a directed one first, else the region's. */
static void test_routing_follows_jurisdiction(void **state) {
  (void)state;
  seen s;
  json_t *c = json_loads("[{\"id\":\"R-JY\",\"node\":\"650000\",\"scope\":[{\"series\":\"JY\",\"level\":4}]},"
                         "{\"id\":\"K-JY\",\"node\":\"653100\",\"scope\":[{\"series\":\"JY\",\"level\":3}]},"
                         "{\"id\":\"K-DX\",\"node\":\"653100\",\"directed\":true,\"scope\":[{\"series\":\"JY\","
                         "\"level\":4}]}]", 0, NULL);
  json_t *q = json_loads("[{\"code\":\"JY\",\"qualifications\":[{\"code\":\"JY3\",\"level\":3},"
                         "{\"code\":\"JY4\",\"level\":4}]}]", 0, NULL);
  fed_rules *r = fed_rules_new();
  assert_int_equal(fed_rules_set_jurisdiction(r, c, q), FED_OK);
  routed(r, 1, "JY4", "653100", "K-DX"); /* Kashgar's directed committee */
  routed(r, 2, "JY3", "653100", "K-JY");
  routed(r, 3, "JY4", "650100", "R-JY"); /* Urumqi has none for JY4: the region's */
  assert_int_equal(judge(r, &s, 0), 0);
  routed(r, 4, "JY4", "653100", "R-JY");
  assert_int_equal(judge(r, &s, 0), 1);
  assert_one(&s, "wrong_jurisdiction 650100 4 application p-9 (JY4, JY-YW) of a unit at node 653100 is routed to R-JY;"
                 " jurisdiction names K-DX");
  fed_rules_free(r);
  json_decref(c);
  json_decref(q);
}

/* The type is the entry's own: a body that quotes another type is not read as one. */
static void test_only_the_entry_type_counts(void **state) {
  (void)state;
  seen s;
  fed_rules *r = fed_rules_new();
  json_t *e = json_pack("{s:{s:{s:s}, s:s}, s:s, s:s, s:s, s:i, s:s, s:s, s:i}", "body", "inner", "type",
                        "id.claimed", "account", "a-1", "key", "k#1", "origin", FED_REGISTRAR, "prev", "", "seq", 1,
                        "ts", "2023-11-14T22:13:21Z", "type", "application.opinion", "v", 1);
  size_t n;
  char *z = fed_canon(e, &n);
  assert_true(fed_rules_wants(z, n)); /* the cheap test is only a first sieve */
  assert_int_equal(fed_rules_add(r, z, n, NULL), FED_OK);
  assert_int_equal(judge(r, &s, 0), 0);
  free(z);
  json_decref(e);
  fed_rules_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sound_history_is_clean),     cmocka_unit_test(test_a_digest_claimed_while_held),
      cmocka_unit_test(test_a_claim_never_registered),   cmocka_unit_test(test_an_account_without_a_claim),
      cmocka_unit_test(test_two_homes_and_a_claim_elsewhere), cmocka_unit_test(test_only_the_entry_type_counts),
      cmocka_unit_test(test_a_phone_change_moves_the_claim), cmocka_unit_test(test_handoffs_one_holder_at_a_time),
      cmocka_unit_test(test_transfers_one_home_at_a_time), cmocka_unit_test(test_routing_follows_jurisdiction),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
