/* test_audit.c - the log audit on small fedlog.git repositories built here with libgit2:
 * a sound chain has no findings; each kind of damage is found and named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fed_error.h"
#include "log_fixture.h"

/* A log under construction: one repository, one origin's chain in it. */
typedef struct log_builder {
  git_repository *pRepo;
  const char *zOrigin;
  git_oid tip;
  int bHasTip;
  char zPrevHash[FED_SHA256_HEX_SIZE];
  long long iSeq;
} log_builder;

typedef struct findings {
  int n;
  char azMessage[32][600];
  long long aiSeq[32];
} findings;

static void on_finding(const fed_audit_finding *f, void *payload) {
  findings *p = payload;
  if (p->n < 32) {
    snprintf(p->azMessage[p->n], sizeof(p->azMessage[0]), "%s %s %s/%lld %.12s: %s", f->zCode, f->zLog, f->zOrigin,
             f->iSeq, f->zCommit, f->zMessage);
    p->aiSeq[p->n] = f->iSeq;
  }
  p->n++;
}

static int setup(void **state) {
  git_libgit2_init();
  return fixture_setup(state, "/tmp/zc-test-audit-XXXXXX");
}

static int teardown(void **state) {
  int rc = fixture_teardown(state);
  git_libgit2_shutdown();
  return rc;
}

static const char *repo_path(const fixture *f, const char *zName) {
  static char azPath[4][160];
  static unsigned iNext;
  char *z = azPath[iNext++ % 4];
  snprintf(z, sizeof(azPath[0]), "%s/%s/fedlog.git", f->zDir, zName);
  return z;
}

static void log_open(log_builder *b, const fixture *f, const char *zName, const char *zOrigin) {
  memset(b, 0, sizeof(*b));
  b->zOrigin = zOrigin;
  assert_int_equal(git_repository_init(&b->pRepo, repo_path(f, zName), 1), 0);
}

static void log_close(log_builder *b) {
  git_repository_free(b->pRepo);
}

/* Append one entry-commit to the builder's chain and move refs/fed/<origin> to it. */
static void log_append(log_builder *b, const fixture *f, const entry_opts *o) {
  made_entry e;
  char zRef[64];
  git_oid idJson, idSig, idExtra, idTree, idCommit;
  git_treebuilder *pBuilder = NULL;
  git_tree *pTree = NULL;
  git_commit *pParent = NULL;
  git_signature *pAuthor = NULL;
  git_reference *pRef = NULL;
  long long iSeq;
  entry_make(&e, f, b->zOrigin, b->iSeq + 1, b->zPrevHash, o);
  iSeq = o && o->iSeq ? o->iSeq : b->iSeq + 1;

  assert_int_equal(git_blob_create_from_buffer(&idJson, b->pRepo, e.zJson, e.nJson), 0);
  assert_int_equal(git_blob_create_from_buffer(&idSig, b->pRepo, e.aSig, sizeof(e.aSig)), 0);
  assert_int_equal(git_treebuilder_new(&pBuilder, b->pRepo, NULL), 0);
  assert_int_equal(git_treebuilder_insert(NULL, pBuilder, "entry.json", &idJson, GIT_FILEMODE_BLOB), 0);
  assert_int_equal(git_treebuilder_insert(NULL, pBuilder, "entry.sig", &idSig, GIT_FILEMODE_BLOB), 0);
  if (o && o->bExtraFile) {
    assert_int_equal(git_blob_create_from_buffer(&idExtra, b->pRepo, "x", 1), 0);
    assert_int_equal(git_treebuilder_insert(NULL, pBuilder, "extra", &idExtra, GIT_FILEMODE_BLOB), 0);
  }
  assert_int_equal(git_treebuilder_write(&idTree, pBuilder), 0);
  assert_int_equal(git_tree_lookup(&pTree, b->pRepo, &idTree), 0);
  /* a fixed time: the same entry makes the same commit in every repository */
  assert_int_equal(git_signature_new(&pAuthor, "zc-node", "zc@localhost", T0 + iSeq * 60, 0), 0);
  if (b->bHasTip) assert_int_equal(git_commit_lookup(&pParent, b->pRepo, &b->tip), 0);
  assert_int_equal(git_commit_create(&idCommit, b->pRepo, NULL, pAuthor, pAuthor, NULL, b->zOrigin, pTree,
                                     pParent ? 1 : 0, (const git_commit **)&pParent),
                   0);
  snprintf(zRef, sizeof(zRef), "refs/fed/%s", b->zOrigin);
  assert_int_equal(git_reference_create(&pRef, b->pRepo, zRef, &idCommit, 1, NULL), 0);

  b->tip = idCommit;
  b->bHasTip = 1;
  b->iSeq = iSeq;
  fed_sha256_hex(b->zPrevHash, e.zJson, e.nJson);
  git_reference_free(pRef);
  git_signature_free(pAuthor);
  git_commit_free(pParent);
  git_tree_free(pTree);
  git_treebuilder_free(pBuilder);
  free(e.zJson);
}

/* Append n sound entries. */
static void log_append_n(log_builder *b, const fixture *f, int n) {
  for (int i = 0; i < n; i++) log_append(b, f, NULL);
}

/* Audit the logs named in azName (NULL-terminated) in one audit; findings in *p, their
 * count returned. */
static int audit_logs(const fixture *f, findings *p, const char *const *azName) {
  fed_audit *a = NULL;
  int nTotal = 0;
  memset(p, 0, sizeof(*p));
  assert_int_equal(fed_audit_new(&a, f->m, on_finding, p), 0);
  for (; *azName; azName++) {
    int n = fed_audit_log(a, *azName, repo_path(f, *azName));
    assert_true(n >= 0);
    nTotal += n;
  }
  assert_int_equal((size_t)nTotal, fed_audit_findings(a));
  assert_int_equal(nTotal, p->n);
  for (int i = 0; i < p->n && i < 32; i++) print_message("    finding: %s\n", p->azMessage[i]);
  fed_audit_free(a);
  return nTotal;
}

#define LOGS(...) ((const char *const[]){__VA_ARGS__})

static int has_finding(const findings *p, long long iSeq, const char *zText) {
  for (int i = 0; i < p->n && i < 32; i++) {
    if (p->aiSeq[i] == iSeq && strstr(p->azMessage[i], zText)) return 1;
  }
  return 0;
}

/* A finding at iSeq whose code (API.md) is zCode. */
static int has_code(const findings *p, long long iSeq, const char *zCode) {
  size_t n = strlen(zCode);
  for (int i = 0; i < p->n && i < 32; i++) {
    if (p->aiSeq[i] == iSeq && strncmp(p->azMessage[i], zCode, n) == 0 && p->azMessage[i][n] == ' ') return 1;
  }
  return 0;
}

static void test_sound_log(void **state) {
  fixture *f = *state;
  log_builder b, c;
  findings r;
  fed_audit *a = NULL;
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 3);
  log_close(&b);
  log_open(&c, f, "n1", "650100"); /* a second origin in the same log */
  log_append_n(&c, f, 2);
  log_close(&c);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 0);
  assert_int_equal(fed_audit_new(&a, f->m, NULL, NULL), 0);
  assert_int_equal(fed_audit_log(a, "n1", repo_path(f, "n1")), 0);
  assert_int_equal(fed_audit_entries(a), 5);
  fed_audit_free(a);
}

static void test_git_and_openssl_agree(void **state) {
  fixture *f = *state;
  log_builder b;
  log_open(&b, f, "cli", "650000");
  log_append_n(&b, f, 2);
  log_close(&b);
  assert_int_equal(fixture_tools_agree(f, "cli", "refs/fed/650000"), 0);
}

static void test_broken_signature(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts o = {.bFlipSig = 1};
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, NULL);
  log_append(&b, f, &o);
  log_append(&b, f, NULL);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 1);
  assert_true(has_finding(&r, 2, "entry.sig does not verify with key 650000#1"));
  assert_true(has_code(&r, 2, "bad_signature"));
}

static void test_seq_gap(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts o = {.iSeq = 4};
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 2);
  log_append(&b, f, &o);
  log_append(&b, f, NULL); /* 5: counting goes on from the gap, no cascade */
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 1);
  assert_true(has_finding(&r, 4, "seq 4 where 3 was expected (a gap)"));
  assert_true(has_code(&r, 4, "seq_gap"));
}

static void test_first_seq_not_one(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts o = {.iSeq = 2};
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, &o);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 1);
  assert_true(has_finding(&r, 2, "seq 2 where 1 was expected"));
}

static void test_bad_prev(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts oFirst = {.zPrev = "00"};
  entry_opts oThird = {.zPrev = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, &oFirst);
  log_append(&b, f, NULL);
  log_append(&b, f, &oThird);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 2);
  assert_true(has_finding(&r, 1, "\"prev\" is \"00\", not the previous entry's hash \"\""));
  assert_true(has_code(&r, 1, "prev_mismatch"));
  assert_true(has_finding(&r, 3, "\"prev\" is \"e3b0"));
}

static void test_equivocation_across_logs(void **state) {
  fixture *f = *state;
  log_builder b, c;
  findings r;
  entry_opts o = {.zBodyNote = "the other story"};
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 3);
  log_close(&b);
  log_open(&c, f, "n2", "650000");
  log_append_n(&c, f, 2);
  log_append(&c, f, &o); /* a validly signed, different seq 3 */
  log_close(&c);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 0);
  assert_int_equal(audit_logs(f, &r, LOGS("n2", NULL)), 0);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", "n2", NULL)), 1);
  assert_true(has_finding(&r, 3, "log n1 holds a different entry 650000/3"));
  assert_true(has_code(&r, 3, "equivocation"));
}

static void test_wrong_and_expired_keys(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts oForeign = {.zKeyId = "650100#1", .pSignKey = NULL};
  entry_opts oRetired = {.zKeyId = "650000#0"};
  entry_opts oUnknown = {.zKeyId = "650000#7"};
  oForeign.pSignKey = f->pUrumqi;
  oRetired.pSignKey = f->pOld;
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, &oForeign);
  log_append(&b, f, &oRetired);
  log_append(&b, f, &oUnknown);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 3);
  assert_true(has_finding(&r, 1, "key 650100#1 belongs to node 650100, not 650000"));
  assert_true(has_code(&r, 1, "key_invalid"));
  assert_true(has_finding(&r, 2, "key 650000#0 is not valid at"));
  assert_true(has_code(&r, 2, "key_invalid"));
  assert_true(has_finding(&r, 3, "key 650000#7 is not in the manifest"));
}

static void test_malformed_entries(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts oSpace = {.bWhitespace = 1};
  entry_opts oExtra = {.bExtraFile = 1};
  entry_opts oTs = {.zTs = "2023-11-14 22:13:20"};
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, &oSpace);
  log_append(&b, f, &oExtra);
  log_append(&b, f, &oTs);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 3);
  assert_true(has_finding(&r, 1, "entry.json: not canonical JSON"));
  assert_true(has_code(&r, 1, "not_canonical"));
  assert_true(has_finding(&r, 2, "the tree holds 3 files"));
  assert_true(has_code(&r, 2, "bad_tree"));
  assert_true(has_finding(&r, 3, "\"ts\" is not an RFC 3339 UTC time"));
}

static void test_unknown_origin_and_missing_log(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  log_open(&b, f, "n1", "659999");
  log_append_n(&b, f, 1);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", "nowhere", NULL)), 2);
  assert_true(has_finding(&r, 0, "origin 659999 is not a node of the manifest"));
  assert_true(has_code(&r, 0, "unknown_origin"));
  assert_true(has_finding(&r, 0, "cannot open the log"));
  assert_true(has_code(&r, 0, "unreadable"));
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_sound_log),          T(test_git_and_openssl_agree),    T(test_broken_signature),
      T(test_seq_gap),            T(test_first_seq_not_one),        T(test_bad_prev),
      T(test_equivocation_across_logs), T(test_wrong_and_expired_keys), T(test_malformed_entries),
      T(test_unknown_origin_and_missing_log),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
