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
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit.h"
#include "checkpoint.h"
#include "fed_error.h"
#include "fedlog.h"
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
  char azCode[32][32];
  long long aiSeq[32];
} findings;

static void on_finding(const fed_audit_finding *f, void *payload) {
  findings *p = payload;
  if (p->n < 32) {
    snprintf(p->azMessage[p->n], sizeof(p->azMessage[0]), "%s %s/%lld %.12s: %s", f->zLog, f->zOrigin, f->iSeq,
             f->zCommit, f->zMessage);
    snprintf(p->azCode[p->n], sizeof(p->azCode[0]), "%s", f->zCode);
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
  const char *azDir[8];
  size_t nLog = 0;
  memset(p, 0, sizeof(*p));
  assert_int_equal(fed_audit_new(&a, f->m, on_finding, p), 0);
  for (; azName[nLog]; nLog++) {
    assert_true(nLog < 8);
    azDir[nLog] = strdup(repo_path(f, azName[nLog]));
  }
  nTotal = fed_audit_logs(a, azName, azDir, nLog); /* in parallel */
  assert_true(nTotal >= 0);
  nTotal += fed_audit_finish(a);
  for (size_t i = 0; i < nLog; i++) free((char *)azDir[i]);
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

/* A finding of code zCode at iSeq whose message holds zText. */
static int has_code(const findings *p, const char *zCode, long long iSeq, const char *zText) {
  for (int i = 0; i < p->n && i < 32; i++) {
    if (strcmp(p->azCode[i], zCode) == 0 && p->aiSeq[i] == iSeq && strstr(p->azMessage[i], zText)) return 1;
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
  assert_true(has_code(&r, "bad_signature", 2, "n1 650000/2"));
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
  assert_true(has_code(&r, "seq_gap", 4, "a gap"));
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
  assert_true(has_finding(&r, 3, "\"prev\" is \"e3b0"));
  assert_true(has_code(&r, "prev_mismatch", 1, "\"prev\""));
  assert_true(has_code(&r, "prev_mismatch", 3, "\"prev\""));
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
  assert_true(has_finding(&r, 3, "equivocation: log n1 holds a different entry 650000/3"));
  assert_true(has_code(&r, "equivocation", 3, "n2 650000/3"));
  /* the same, listed the other way round: the first log given is the reference */
  assert_int_equal(audit_logs(f, &r, LOGS("n2", "n1", NULL)), 1);
  assert_true(has_code(&r, "equivocation", 3, "n1 650000/3 : equivocation: log n2 holds"));
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
  assert_true(has_finding(&r, 2, "key 650000#0 is not valid at"));
  assert_true(has_finding(&r, 3, "key 650000#7 is not in the manifest"));
  assert_true(has_code(&r, "key_invalid", 1, "650100#1"));
  assert_true(has_code(&r, "key_invalid", 2, "650000#0"));
  assert_true(has_code(&r, "key_invalid", 3, "650000#7"));
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
  assert_true(has_finding(&r, 2, "the tree holds 3 files"));
  assert_true(has_finding(&r, 3, "\"ts\" is not an RFC 3339 UTC time"));
  assert_true(has_code(&r, "not_canonical", 1, "not canonical"));
  assert_true(has_code(&r, "bad_tree", 2, "3 files"));
  assert_true(has_code(&r, "bad_entry", 3, "\"ts\""));
}

/* A chain long enough to be checked in several pieces at once (audit.c, SEGMENT_ENTRIES
 * 1024) finds what one walk down it finds: an entry without a valid seq as the last of a
 * piece (the next piece must go on counting from what the walk expected), a gap as the
 * first of one, and nothing at the other joins. */
static void test_long_chain_in_pieces(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  fed_audit *a = NULL;
  entry_opts oNoSeq = {.iSeq = -1}, oAfter = {.iSeq = 1025}, oGap = {.iSeq = 2050};
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 1023);
  log_append(&b, f, &oNoSeq); /* place 1024 */
  log_append(&b, f, &oAfter);
  log_append_n(&b, f, 2048 - 1025);
  log_append(&b, f, &oGap); /* place 2049 */
  log_append_n(&b, f, 2600 - 2049);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 2);
  assert_true(has_code(&r, "bad_entry", 1024, "\"seq\" is not a positive integer"));
  assert_true(has_code(&r, "seq_gap", 2050, "seq 2050 where 2049 was expected"));
  assert_int_equal(fed_audit_new(&a, f->m, NULL, NULL), 0);
  assert_int_equal(fed_audit_log(a, "n1", repo_path(f, "n1")), 2);
  assert_int_equal(fed_audit_entries(a), 2600);
  fed_audit_free(a);
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
  assert_true(has_finding(&r, 0, "cannot open the log"));
  assert_true(has_code(&r, "unknown_origin", 0, "659999"));
  assert_true(has_code(&r, "unreadable", 0, "nowhere"));
}

static void test_tampered_entry(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts o = {.bTamper = 1};
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, NULL);
  log_append(&b, f, &o);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 1);
  assert_true(has_code(&r, "bad_signature", 2, "does not verify"));
}

static void test_wrong_origin(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  entry_opts o = {.zOrigin = "650100"};
  log_open(&b, f, "n1", "650000");
  log_append(&b, f, &o);
  log_close(&b);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 1);
  assert_true(has_code(&r, "wrong_origin", 1, "\"origin\" is \"650100\""));
}

/* ---- checkpoints ---- */

/* The head of zOrigin in log zLog (hash and seq), read with fedlog. */
static void head_of(fed_checkpoint_head *out, const fixture *f, const char *zLog, const char *zOrigin) {
  fedlog *l = NULL;
  fed_log_head h;
  assert_int_equal(fedlog_open(&l, repo_path(f, zLog), NULL, NULL), 0);
  assert_int_equal(fedlog_head(&h, l, zOrigin), 0);
  fedlog_close(l);
  snprintf(out->zOrigin, sizeof(out->zOrigin), "%s", zOrigin);
  out->iSeq = h.iSeq;
  memcpy(out->zHash, h.zHash, FED_SHA256_HEX_SIZE);
}

/* Store in log zLog node zNode's checkpoint of a[0..n), signed at t by key zKeyId (k),
 * its signature spoilt when bFlip. */
static void checkpoint_store(const fixture *f, const char *zLog, const char *zNode, const char *zKeyId,
                             const fed_key *k, time_t t, const fed_checkpoint_head *a, size_t n, int bFlip) {
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  fedlog *l = NULL;
  assert_int_equal(fed_checkpoint_make(&zJson, &nJson, aSig, zNode, zKeyId, k, t, a, n), 0);
  if (bFlip) aSig[5] ^= 1;
  assert_int_equal(fedlog_open(&l, repo_path(f, zLog), NULL, NULL), 0); /* no manifest: stored unchecked */
  assert_int_equal(fedlog_checkpoint_put(l, zNode, zJson, nJson, aSig), 0);
  fedlog_close(l);
  free(zJson);
}

/* Store raw bytes as refs/checkpoints/zNode (no parent), bypassing every check. */
static void checkpoint_store_raw(const fixture *f, const char *zLog, const char *zNode, const char *zJson) {
  git_repository *pRepo = NULL;
  git_oid idJson, idSig, idTree, idCommit;
  git_treebuilder *pBuilder = NULL;
  git_tree *pTree = NULL;
  git_signature *pWho = NULL;
  git_reference *pRef = NULL;
  unsigned char aSig[FED_SIG_SIZE] = {0};
  char zRef[64];
  assert_int_equal(git_repository_open_bare(&pRepo, repo_path(f, zLog)), 0);
  assert_int_equal(git_blob_create_from_buffer(&idJson, pRepo, zJson, strlen(zJson)), 0);
  assert_int_equal(git_blob_create_from_buffer(&idSig, pRepo, aSig, sizeof(aSig)), 0);
  assert_int_equal(git_treebuilder_new(&pBuilder, pRepo, NULL), 0);
  assert_int_equal(git_treebuilder_insert(NULL, pBuilder, "checkpoint.json", &idJson, GIT_FILEMODE_BLOB), 0);
  assert_int_equal(git_treebuilder_insert(NULL, pBuilder, "checkpoint.sig", &idSig, GIT_FILEMODE_BLOB), 0);
  assert_int_equal(git_treebuilder_write(&idTree, pBuilder), 0);
  assert_int_equal(git_tree_lookup(&pTree, pRepo, &idTree), 0);
  assert_int_equal(git_signature_new(&pWho, "t", "t@localhost", T0, 0), 0);
  assert_int_equal(git_commit_create(&idCommit, pRepo, NULL, pWho, pWho, NULL, "c", pTree, 0, NULL), 0);
  snprintf(zRef, sizeof(zRef), "refs/checkpoints/%s", zNode);
  assert_int_equal(git_reference_create(&pRef, pRepo, zRef, &idCommit, 1, NULL), 0);
  git_reference_free(pRef);
  git_signature_free(pWho);
  git_tree_free(pTree);
  git_treebuilder_free(pBuilder);
  git_repository_free(pRepo);
}

static void test_checkpoint_sound(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  fed_checkpoint_head a[2];
  fed_audit *pAudit = NULL;
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 3);
  log_close(&b);
  head_of(&a[0], f, "n1", "650000");
  /* a seq beyond every copy: the checkpoint may be newer than the copies */
  snprintf(a[1].zOrigin, sizeof(a[1].zOrigin), "650100");
  a[1].iSeq = 9;
  memset(a[1].zHash, 'c', 64);
  a[1].zHash[64] = 0;
  checkpoint_store(f, "n1", "650100", "650100#1", f->pUrumqi, T0 + 3600, a, 2, 0);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 0);
  /* refs/checkpoints/ is no chain of entries */
  assert_int_equal(fed_audit_new(&pAudit, f->m, NULL, NULL), 0);
  assert_int_equal(fed_audit_log(pAudit, "n1", repo_path(f, "n1")), 0);
  assert_int_equal(fed_audit_entries(pAudit), 3);
  fed_audit_free(pAudit);
}

static void test_checkpoint_mismatch(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  fed_checkpoint_head h = {0};
  entry_opts o = {.zBodyNote = "the story told to the signer"};
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 2);
  log_close(&b);
  log_open(&b, f, "n2", "650000"); /* n2 was shown another seq 2... */
  log_append(&b, f, NULL);
  log_append(&b, f, &o);
  log_close(&b);
  head_of(&h, f, "n2", "650000");
  /* ...and n3 (which holds no copy of 650000) signed that it saw it */
  log_open(&b, f, "n3", "650100");
  log_append_n(&b, f, 1);
  log_close(&b);
  checkpoint_store(f, "n3", "650100", "650100#1", f->pUrumqi, T0 + 3600, &h, 1, 0);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", "n3", NULL)), 1);
  assert_true(has_code(&r, "checkpoint_mismatch", 2, "n1 650000/2"));
  assert_true(has_finding(&r, 2, "the checkpoint of node 650100 at 2023-11-14T23:13:20Z (in log n3)"));
  assert_true(has_finding(&r, 2, "log n1 holds"));
  /* with n2's copy too: the equivocation, and still n1's copy disagrees with the checkpoint */
  assert_int_equal(audit_logs(f, &r, LOGS("n1", "n2", "n3", NULL)), 2);
  assert_true(has_code(&r, "equivocation", 2, "n2 650000/2"));
  assert_true(has_code(&r, "checkpoint_mismatch", 2, "log n1 holds"));
  /* the checkpoint agrees with n2: no mismatch */
  assert_int_equal(audit_logs(f, &r, LOGS("n2", "n3", NULL)), 0);
}

static void test_checkpoint_bad(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  fed_checkpoint_head h = {0};
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 1);
  log_close(&b);
  head_of(&h, f, "n1", "650000");
  /* the older of two checkpoints is checked too */
  checkpoint_store(f, "n1", "650100", "650100#1", f->pUrumqi, T0 + 60, &h, 1, 1);
  checkpoint_store(f, "n1", "650100", "650100#1", f->pUrumqi, T0 + 120, &h, 1, 0);
  checkpoint_store(f, "n1", "650000", "650000#1", f->pRegion, T0 + 2000 * DAY, &h, 1, 0);
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 2);
  assert_true(has_code(&r, "bad_signature", 0, "n1 650100/0"));
  assert_true(has_code(&r, "key_invalid", 0, "n1 650000/0"));
}

static void test_checkpoint_not_canonical(void **state) {
  fixture *f = *state;
  log_builder b;
  findings r;
  log_open(&b, f, "n1", "650000");
  log_append_n(&b, f, 1);
  log_close(&b);
  checkpoint_store_raw(f, "n1", "650100", "{\"v\": 1}");
  assert_int_equal(audit_logs(f, &r, LOGS("n1", NULL)), 1);
  assert_true(has_code(&r, "not_canonical", 0, "n1 650100/0"));
}

static void test_finding_format(void **state) {
  char z[256];
  fed_audit_finding f1 = {"bad_signature", "650100", "650000", 7, "0123456789abcdef0123", "entry.sig does not verify"};
  fed_audit_finding f2 = {"unreadable", "n1", "", 0, "", "cannot open\nthe log"};
  (void)state;
  fed_audit_finding_format(z, sizeof(z), &f1);
  assert_string_equal(z, "bad_signature 650000 7 log 650100 commit 0123456789ab: entry.sig does not verify");
  fed_audit_finding_format(z, sizeof(z), &f2);
  assert_string_equal(z, "unreadable - - log n1: cannot open?the log");
}

/* A zc-fed directory: federation.json, keys/root.pem and the logs <node>/fedlog.git. */
static void fed_dir_write(const fixture *f) {
  char zPath[160];
  snprintf(zPath, sizeof(zPath), "%s/keys", f->zDir);
  assert_int_equal(mkdir(zPath, 0755), 0);
  snprintf(zPath, sizeof(zPath), "%s/keys/root.pem", f->zDir);
  assert_int_equal(fed_key_write_public(f->pRoot, zPath), 0);
  snprintf(zPath, sizeof(zPath), "%s/federation.json", f->zDir);
  assert_int_equal(fed_manifest_write(f->m, zPath, f->pRoot), 0);
}

/* Run bin/zc-audit on the fixture's directory: its exit status, stdout in zOut. */
static int cli_run(const fixture *f, char *zOut, size_t nOut) {
  char zCmd[512], zFile[160];
  FILE *p;
  size_t n;
  snprintf(zFile, sizeof(zFile), "%s/audit.out", f->zDir);
  snprintf(zCmd, sizeof(zCmd), "%s '%s' > '%s' 2>/dev/null", ZC_AUDIT_BIN, f->zDir, zFile);
  int rc = system(zCmd);
  p = fopen(zFile, "r");
  assert_non_null(p);
  n = fread(zOut, 1, nOut - 1, p);
  zOut[n] = 0;
  fclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_cli_clean(void **state) {
  fixture *f = *state;
  log_builder b;
  char zOut[4096];
  log_open(&b, f, "650000", "650000");
  log_append_n(&b, f, 3);
  log_close(&b);
  log_open(&b, f, "650100", "650000"); /* a replica */
  log_append_n(&b, f, 3);
  log_close(&b);
  fed_dir_write(f);
  assert_int_equal(cli_run(f, zOut, sizeof(zOut)), 0);
  assert_string_equal(zOut, "");
}

static void test_cli_lines(void **state) {
  fixture *f = *state;
  log_builder b;
  char zOut[4096], zWant[1024], zTip[GIT_OID_HEXSZ + 1];
  entry_opts oFlip = {.bFlipSig = 1};
  entry_opts oOther = {.zBodyNote = "other"};
  log_open(&b, f, "650000", "650000");
  log_append(&b, f, NULL);
  log_append(&b, f, &oFlip);
  git_oid_tostr(zTip, sizeof(zTip), &b.tip);
  log_close(&b);
  log_open(&b, f, "650100", "650000");
  log_append(&b, f, &oOther);
  log_close(&b);
  fed_dir_write(f);
  assert_int_equal(cli_run(f, zOut, sizeof(zOut)), 1);
  print_message("%s", zOut);
  /* the region's seq 2 is badly signed; 650100's copy holds another seq 1: equivocation */
  snprintf(zWant, sizeof(zWant), "bad_signature 650000 2 log 650000 commit %.12s: entry.sig does not verify with key 650000#1\n",
           zTip);
  assert_non_null(strstr(zOut, zWant));
  assert_non_null(strstr(zOut, "\nequivocation 650000 1 log 650100: equivocation: log 650000 holds a different entry 650000/1"));
  /* every line is CODE ORIGIN SEQ detail */
  int nLines = 0;
  for (char *z = strtok(zOut, "\n"); z; z = strtok(NULL, "\n"), nLines++) {
    char zCode[32], zOrigin[32], zSeq[32];
    assert_int_equal(sscanf(z, "%31s %31s %31s", zCode, zOrigin, zSeq), 3);
    assert_true(strcmp(zSeq, "-") == 0 || atoll(zSeq) > 0);
  }
  assert_int_equal(nLines, 2);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_sound_log),          T(test_git_and_openssl_agree),    T(test_broken_signature),
      T(test_seq_gap),            T(test_first_seq_not_one),        T(test_bad_prev),
      T(test_equivocation_across_logs), T(test_wrong_and_expired_keys), T(test_malformed_entries),
      T(test_unknown_origin_and_missing_log), T(test_tampered_entry), T(test_wrong_origin), T(test_checkpoint_sound),
      T(test_checkpoint_mismatch), T(test_checkpoint_bad), T(test_checkpoint_not_canonical),
      T(test_finding_format), T(test_cli_clean), T(test_cli_lines), T(test_long_chain_in_pieces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
