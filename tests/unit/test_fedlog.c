/* test_fedlog.c - the signed log store: batches appended, heads and reads; every kind of
 * bad entry refused with nothing made visible; equivocation reported with its evidence;
 * replays are no-ops; real git and openssl agree with what was written; and a writer
 * killed with SIGKILL at random instants leaves a valid prefix that a replay completes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <git2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "fed_error.h"
#include "fedlog.h"
#include "log_fixture.h"

/* A chain of sound entries made in advance: aEntry[i] is seq i + 1. */
typedef struct chain {
  const char *zOrigin;
  size_t n;
  made_entry *aEntry;
  fed_log_entry *aView;
} chain;

static int setup(void **state) {
  return fixture_setup(state, "/tmp/zc-test-fedlog-XXXXXX");
}

static void chain_make(chain *c, const fixture *f, const char *zOrigin, size_t n) {
  char zPrev[FED_SHA256_HEX_SIZE] = "";
  c->zOrigin = zOrigin;
  c->n = n;
  c->aEntry = calloc(n, sizeof(made_entry));
  c->aView = calloc(n, sizeof(fed_log_entry));
  assert_non_null(c->aEntry);
  assert_non_null(c->aView);
  for (size_t i = 0; i < n; i++) {
    entry_make(&c->aEntry[i], f, zOrigin, (long long)i + 1, zPrev, NULL);
    fed_sha256_hex(zPrev, c->aEntry[i].zJson, c->aEntry[i].nJson);
    c->aView[i] = (fed_log_entry){c->aEntry[i].zJson, c->aEntry[i].nJson, c->aEntry[i].aSig, 0};
  }
}

static void chain_free(chain *c) {
  for (size_t i = 0; i < c->n; i++) free(c->aEntry[i].zJson);
  free(c->aEntry);
  free(c->aView);
}

static const char *log_path(const fixture *f, const char *zName) {
  static char azPath[2][160];
  static unsigned iNext;
  char *z = azPath[iNext++ % 2];
  snprintf(z, sizeof(azPath[0]), "%s/%s/fedlog.git", f->zDir, zName);
  return z;
}

static fedlog *log_open(const fixture *f, const char *zName) {
  fedlog *l = NULL;
  int rc = fedlog_open(&l, log_path(f, zName), f->m, NULL);
  if (rc != FED_OK) print_error("fedlog_open: %s\n", fed_last_error());
  assert_int_equal(rc, FED_OK);
  return l;
}

static long long head_seq(fedlog *l, const char *zOrigin) {
  fed_log_head h;
  assert_int_equal(fedlog_head(&h, l, zOrigin), FED_OK);
  return h.iSeq;
}

/* Append c's entries [iFrom, iFrom + n) and expect rc. */
static int append_range(fedlog *l, const chain *c, size_t iFrom, size_t n, fed_log_append_result *r) {
  return fedlog_append(l, c->zOrigin, c->aView + iFrom, n, r);
}

static void append_ok(fedlog *l, const chain *c, size_t iFrom, size_t n) {
  fed_log_append_result r;
  int rc = append_range(l, c, iFrom, n, &r);
  if (rc != FED_OK) print_error("fedlog_append: %s\n", fed_last_error());
  assert_int_equal(rc, FED_OK);
  fed_log_append_result_dispose(&r);
}

/* What fedlog_read handed over, checked against a chain as it goes. */
typedef struct read_check {
  const chain *c;
  long long iNext;  /* the seq expected next */
  long long nSeen;
  int bMismatch;
} read_check;

static int on_entry(const fed_log_entry *e, long long iSeq, void *payload) {
  read_check *p = payload;
  const made_entry *m = &p->c->aEntry[iSeq - 1];
  if (iSeq != p->iNext || e->nJson != m->nJson || memcmp(e->zJson, m->zJson, m->nJson) != 0 ||
      memcmp(e->aSig, m->aSig, FED_SIG_SIZE) != 0) {
    p->bMismatch = 1;
  }
  p->iNext = iSeq + 1;
  p->nSeen++;
  return 0;
}

/* Read from iFrom and expect exactly c's entries iFrom..iHead, in order. */
static void read_expect(fedlog *l, const chain *c, long long iFrom, long long iHead) {
  read_check r = {c, iFrom, 0, 0};
  assert_int_equal(fedlog_read(l, c->zOrigin, iFrom, on_entry, &r), 0);
  assert_false(r.bMismatch);
  assert_int_equal(r.nSeen, iHead >= iFrom ? iHead - iFrom + 1 : 0);
}

static int count_packs(const fixture *f, const char *zName, int *pnLoose) {
  char zDir[256];
  DIR *d;
  struct dirent *e;
  int n = 0;
  snprintf(zDir, sizeof(zDir), "%s/objects/pack", log_path(f, zName));
  d = opendir(zDir);
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".pack") != NULL;
  closedir(d);
  /* loose objects live in objects/xx/ */
  *pnLoose = 0;
  snprintf(zDir, sizeof(zDir), "%s/objects", log_path(f, zName));
  d = opendir(zDir);
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) *pnLoose += strlen(e->d_name) == 2 && e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void test_append_head_read(void **state) {
  fixture *f = *state;
  chain c;
  fed_log_head h;
  fed_log_append_result r;
  int nLoose;
  char zHash[FED_SHA256_HEX_SIZE];
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 2100);
  assert_int_equal(head_seq(l, "650000"), 0);
  assert_int_equal(append_range(l, &c, 0, 5, &r), FED_OK);
  assert_int_equal(r.nAdded, 5);
  assert_int_equal(r.nPresent, 0);
  assert_int_equal(fedlog_head(&h, l, "650000"), FED_OK);
  assert_int_equal(h.iSeq, 5);
  fed_sha256_hex(zHash, c.aEntry[4].zJson, c.aEntry[4].nJson);
  assert_string_equal(h.zHash, zHash);
  assert_int_equal(strlen(h.zCommit), 40);
  append_ok(l, &c, 5, 3);
  append_ok(l, &c, 8, 2092); /* more than two read chunks */
  assert_int_equal(head_seq(l, "650000"), 2100);
  assert_int_equal(head_seq(l, "650100"), 0);
  /* one pack per batch, no loose object */
  assert_int_equal(count_packs(f, "n1", &nLoose), 3);
  assert_int_equal(nLoose, 0);
  for (long long i = 1; i <= 2101; i += 1023) read_expect(l, &c, i, 2100);
  read_expect(l, &c, 1024, 2100);
  read_expect(l, &c, 1025, 2100);
  read_expect(l, &c, 2048, 2100);
  read_expect(l, &c, 2049, 2100);
  read_expect(l, &c, 2100, 2100);
  read_expect(l, &c, 2101, 2100);
  assert_int_equal(fedlog_read(l, "650000", 0, on_entry, NULL), FED_EINVALID);
  assert_int_equal(fedlog_head(&h, l, "../x"), FED_EINVALID);
  fedlog_close(l);
  /* what was acknowledged is there after reopening */
  l = log_open(f, "n1");
  assert_int_equal(head_seq(l, "650000"), 2100);
  read_expect(l, &c, 2000, 2100);
  fedlog_close(l);
  chain_free(&c);
}

/* A stop after 7 entries: the callback's value comes back. */
static int stop_at_seven(const fed_log_entry *e, long long iSeq, void *payload) {
  (void)e;
  *(long long *)payload = iSeq;
  return iSeq == 7 ? 42 : 0;
}

static void test_read_stops_when_asked(void **state) {
  fixture *f = *state;
  chain c;
  long long iLast = 0;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650100", 10);
  append_ok(l, &c, 0, 10);
  assert_int_equal(fedlog_read(l, "650100", 3, stop_at_seven, &iLast), 42);
  assert_int_equal(iLast, 7);
  fedlog_close(l);
  chain_free(&c);
}

/* One kind of bad entry: how it is spoilt, and the code its refusal carries. */
typedef struct bad_case {
  const char *zName;
  entry_opts o;
  int bTamper;  /* change a byte of entry.json after signing */
  int rc;
  const char *zMessage;
} bad_case;

static void test_bad_entries_refused(void **state) {
  fixture *f = *state;
  bad_case aCase[] = {
      {"tampered bytes", {0}, 1, FED_EBADSIG, "does not verify"},
      {"bad signature", {.bFlipSig = 1}, 0, FED_EBADSIG, "entry.sig does not verify with key 650000#1"},
      {"other node's key", {.zKeyId = "650100#1"}, 0, FED_ENOTFOUND, "belongs to node 650100"},
      {"unknown key", {.zKeyId = "650000#7"}, 0, FED_ENOTFOUND, "not in the manifest"},
      {"retired key", {.zKeyId = "650000#0"}, 0, FED_EEXPIRED, "is not valid at"},
      {"ts outside the key's window", {.zTs = "2031-01-01T00:00:00Z"}, 0, FED_EEXPIRED, "is not valid at"},
      {"gap", {.iSeq = 5}, 0, FED_EINVALID, "seq 5 where 4 was expected (a gap)"},
      {"repeat", {.iSeq = 2}, 0, FED_EINVALID, "seq 2 where 4 was expected"},
      {"wrong prev", {.zPrev = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}, 0,
       FED_EINVALID, "\"prev\" is \"e3b0"},
      {"wrong origin", {.zOrigin = "650100"}, 0, FED_EINVALID, "\"origin\" is \"650100\""},
      {"non-canonical", {.bWhitespace = 1}, 0, FED_EINVALID, "not canonical JSON"},
      {"bad ts", {.zTs = "2023-11-14 22:13:20"}, 0, FED_EINVALID, "\"ts\" is not an RFC 3339"},
  };
  chain c;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 3);
  append_ok(l, &c, 0, 2);
  aCase[2].o.pSignKey = f->pUrumqi;
  aCase[4].o.pSignKey = f->pOld;
  for (size_t i = 0; i < sizeof(aCase) / sizeof(aCase[0]); i++) {
    bad_case *k = &aCase[i];
    made_entry bad;
    fed_log_append_result r;
    fed_log_entry a[2];
    int rc, nLoose, nPacks = count_packs(f, "n1", &nLoose);
    char zPrev[FED_SHA256_HEX_SIZE];
    fed_sha256_hex(zPrev, c.aEntry[2].zJson, c.aEntry[2].nJson);
    entry_make(&bad, f, "650000", 4, zPrev, &k->o);
    if (k->bTamper) {
      char *p = strstr(bad.zJson, "a-1");
      assert_non_null(p);
      p[2] = '2';
    }
    /* a sound entry 3 first: the whole batch must stay invisible */
    a[0] = c.aView[2];
    a[1] = (fed_log_entry){bad.zJson, bad.nJson, bad.aSig, 0};
    rc = fedlog_append(l, "650000", a, 2, &r);
    print_message("    %s: %d %s\n", k->zName, rc, fed_last_error());
    assert_int_equal(rc, k->rc);
    assert_non_null(strstr(fed_last_error(), k->zMessage));
    assert_int_equal(r.iEntry, 1);
    assert_int_equal(r.nAdded, 0);
    assert_int_equal(head_seq(l, "650000"), 2);
    assert_int_equal(count_packs(f, "n1", &nLoose), nPacks);
    fed_log_append_result_dispose(&r);
    free(bad.zJson);
  }
  read_expect(l, &c, 1, 2);
  fedlog_close(l);
  chain_free(&c);
}

/* An entry its writer has just signed (bSignedHere) skips the Ed25519 check and nothing
 * else: its key must still be listed and valid at its ts, and seq and prev must follow. */
static void test_signed_here_skips_only_the_signature(void **state) {
  fixture *f = *state;
  chain c;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 2);
  append_ok(l, &c, 0, 1);
  char zPrev[FED_SHA256_HEX_SIZE];
  fed_sha256_hex(zPrev, c.aEntry[0].zJson, c.aEntry[0].nJson);
  struct {
    entry_opts o;
    int rc;
  } aCase[] = {
      {{.zKeyId = "650000#0"}, FED_EEXPIRED},  /* retired key */
      {{.zKeyId = "650000#7"}, FED_ENOTFOUND}, /* not in the manifest */
      {{.zPrev = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}, FED_EINVALID},
      {{.iSeq = 3}, FED_EINVALID},
      {{.bFlipSig = 1}, FED_OK}, /* the one check it is spared */
  };
  aCase[0].o.pSignKey = f->pOld;
  for (size_t i = 0; i < sizeof aCase / sizeof aCase[0]; i++) {
    made_entry e;
    fed_log_append_result r;
    entry_make(&e, f, "650000", 2, zPrev, &aCase[i].o);
    fed_log_entry a = {e.zJson, e.nJson, e.aSig, 1};
    int rc = fedlog_append(l, "650000", &a, 1, &r);
    print_message("    case %zu: %d %s\n", i, rc, rc ? fed_last_error() : "");
    assert_int_equal(rc, aCase[i].rc);
    assert_int_equal(head_seq(l, "650000"), rc == FED_OK ? 2 : 1);
    fed_log_append_result_dispose(&r);
    free(e.zJson);
  }
  /* the same flipped signature without the mark is refused */
  fedlog_close(l);
  l = log_open(f, "n2");
  append_ok(l, &c, 0, 1);
  made_entry e;
  fed_log_append_result r;
  entry_make(&e, f, "650000", 2, zPrev, &(entry_opts){.bFlipSig = 1});
  fed_log_entry a = {e.zJson, e.nJson, e.aSig, 0};
  assert_int_equal(fedlog_append(l, "650000", &a, 1, &r), FED_EBADSIG);
  fed_log_append_result_dispose(&r);
  free(e.zJson);
  fedlog_close(l);
  chain_free(&c);
}

/* Large batches are checked on several threads: the first bad entry is the one reported,
 * wherever it falls, and nothing of the batch becomes visible. */
static void test_refusal_deep_in_a_large_batch(void **state) {
  fixture *f = *state;
  chain c;
  fed_log_append_result r;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 600);
  append_ok(l, &c, 0, 10);
  c.aEntry[450].aSig[5] ^= 1;
  assert_int_equal(append_range(l, &c, 10, 590, &r), FED_EBADSIG);
  assert_int_equal(r.iEntry, 440);
  c.aEntry[20].zJson[2] = 'B'; /* "body" -> "Body": an unexpected field, no body */
  assert_int_equal(append_range(l, &c, 10, 590, &r), FED_EINVALID);
  assert_int_equal(r.iEntry, 10);
  assert_int_equal(head_seq(l, "650000"), 10);
  c.aEntry[20].zJson[2] = 'b';
  c.aEntry[450].aSig[5] ^= 1;
  append_ok(l, &c, 10, 590);
  read_expect(l, &c, 1, 600);
  fedlog_close(l);
  chain_free(&c);
}

static void test_equivocation_reported(void **state) {
  fixture *f = *state;
  chain c;
  made_entry other;
  fed_log_append_result r;
  fed_log_entry e;
  char zPrev[FED_SHA256_HEX_SIZE];
  entry_opts o = {.zBodyNote = "the other story"};
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 3);
  append_ok(l, &c, 0, 3);
  fed_sha256_hex(zPrev, c.aEntry[0].zJson, c.aEntry[0].nJson);
  entry_make(&other, f, "650000", 2, zPrev, &o);
  e = (fed_log_entry){other.zJson, other.nJson, other.aSig, 0};
  assert_int_equal(fedlog_append(l, "650000", &e, 1, &r), FED_EEQUIVOCATION);
  assert_non_null(strstr(fed_last_error(), "equivocation: 650000/2 is held as entry.json"));
  assert_int_equal(r.iSeq, 2);
  assert_int_equal(r.iEntry, 0);
  assert_int_equal(r.nHeld, c.aEntry[1].nJson);
  assert_memory_equal(r.zHeld, c.aEntry[1].zJson, r.nHeld);
  assert_memory_equal(r.aHeld, c.aEntry[1].aSig, FED_SIG_SIZE);
  fed_log_append_result_dispose(&r);
  /* a badly signed different entry is no evidence: plainly refused */
  other.aSig[3] ^= 1;
  assert_int_equal(fedlog_append(l, "650000", &e, 1, &r), FED_EBADSIG);
  assert_null(r.zHeld);
  assert_int_equal(head_seq(l, "650000"), 3);
  read_expect(l, &c, 1, 3);
  free(other.zJson);
  fedlog_close(l);
  chain_free(&c);
}

static void test_replay_is_a_no_op(void **state) {
  fixture *f = *state;
  chain c;
  fed_log_append_result r;
  int nLoose;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 8);
  append_ok(l, &c, 0, 5);
  assert_int_equal(append_range(l, &c, 0, 5, &r), FED_OK);
  assert_int_equal(r.nPresent, 5);
  assert_int_equal(r.nAdded, 0);
  assert_int_equal(count_packs(f, "n1", &nLoose), 1);
  assert_int_equal(append_range(l, &c, 1, 2, &r), FED_OK); /* the middle of what is held */
  assert_int_equal(r.nPresent, 2);
  assert_int_equal(append_range(l, &c, 2, 6, &r), FED_OK); /* overlapping the head */
  assert_int_equal(r.nPresent, 3);
  assert_int_equal(r.nAdded, 3);
  assert_int_equal(head_seq(l, "650000"), 8);
  assert_int_equal(count_packs(f, "n1", &nLoose), 2);
  read_expect(l, &c, 1, 8);
  assert_int_equal(append_range(l, &c, 0, 0, &r), FED_OK);
  fedlog_close(l);
  chain_free(&c);
}

/* Entries one at a time (the node's outbox, when quiet): the packs are merged as they
 * accumulate, so their number stays small, and nothing is lost by the merging. */
static void test_small_batches_are_merged(void **state) {
  fixture *f = *state;
  chain c;
  int nLoose, nPacks = 0, nMost = 0;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 300);
  for (size_t i = 0; i < c.n; i++) {
    append_ok(l, &c, i, 1);
    nPacks = count_packs(f, "n1", &nLoose);
    if (nPacks > nMost) nMost = nPacks;
    if (i % 97 == 0) read_expect(l, &c, 1, (long long)i + 1);
  }
  print_message("    300 entries one by one: %d packs at the end, %d at the most\n", nPacks, nMost);
  assert_true(nMost <= 20);
  assert_int_equal(nLoose, 0);
  read_expect(l, &c, 1, 300);
  fedlog_close(l);
  assert_int_equal(fixture_tools_agree(f, "n1", "refs/fed/650000"), 0);
  l = log_open(f, "n1");
  read_expect(l, &c, 1, 300);
  fedlog_close(l);
  chain_free(&c);
}

/* What a writer killed at the wrong instant leaves: a ref lock, an indexer's temporary
 * pack, an index without its pack and a pack without its index. Reopening clears them
 * all, so the ref can move again and git finds nothing amiss. */
static void test_leftovers_of_a_crash_are_removed(void **state) {
  fixture *f = *state;
  chain c;
  char zCmd[1200];
  int nLoose;
  const char *zGit;
  fedlog *l = log_open(f, "n1");
  chain_make(&c, f, "650000", 6);
  append_ok(l, &c, 0, 3);
  fedlog_close(l);
  zGit = log_path(f, "n1");
  snprintf(zCmd, sizeof(zCmd),
           "cd '%s' && : > refs/fed/650000.lock && : > objects/pack/pack_git2_Xq1 && "
           "i=$(ls objects/pack/*.idx | head -n 1) && p=${i%%.idx}.pack && "
           "cp \"$i\" objects/pack/pack-0000000000000000000000000000000000000001.idx && "
           "cp \"$p\" objects/pack/pack-0000000000000000000000000000000000000002.pack",
           zGit);
  assert_int_equal(system(zCmd), 0);
  l = log_open(f, "n1");
  append_ok(l, &c, 3, 3);
  read_expect(l, &c, 1, 6);
  fedlog_close(l);
  snprintf(zCmd, sizeof(zCmd),
           "cd '%s' && ! test -e refs/fed/650000.lock && ! test -e objects/pack/pack_git2_Xq1 && "
           "! ls objects/pack | grep -q pack-00000000000000000000000000000000000000",
           zGit);
  assert_int_equal(system(zCmd), 0);
  assert_int_equal(count_packs(f, "n1", &nLoose), 2);
  assert_int_equal(fixture_tools_agree(f, "n1", "refs/fed/650000"), 0);
  chain_free(&c);
}

/* A writer killed while it created the repository leaves a directory with no HEAD but
 * its HEAD.lock: the next open clears it and creates the log. */
static void test_an_interrupted_creation_is_finished(void **state) {
  fixture *f = *state;
  char zCmd[1200];
  chain c;
  snprintf(zCmd, sizeof(zCmd), "mkdir -p '%s' && : > '%s/HEAD.lock' && : > '%s/config.lock'", log_path(f, "n2"),
           log_path(f, "n2"), log_path(f, "n2"));
  assert_int_equal(system(zCmd), 0);
  fedlog *l = log_open(f, "n2");
  chain_make(&c, f, "650000", 2);
  append_ok(l, &c, 0, 2);
  read_expect(l, &c, 1, 2);
  fedlog_close(l);
  chain_free(&c);
}

static void test_one_writer(void **state) {
  fixture *f = *state;
  fedlog *l = log_open(f, "n1");
  fedlog *l2 = NULL;
  assert_int_equal(fedlog_open(&l2, log_path(f, "n1"), f->m, NULL), FED_EEXISTS);
  assert_null(l2);
  fedlog_close(l);
  l = log_open(f, "n1");
  fedlog_close(l);
}

static void test_git_openssl_and_audit_agree(void **state) {
  fixture *f = *state;
  chain c, d;
  char zCmd[600];
  fed_audit *a = NULL;
  fedlog *l = log_open(f, "cli");
  chain_make(&c, f, "650000", 40);
  chain_make(&d, f, "650100", 7);
  append_ok(l, &c, 0, 30);
  append_ok(l, &d, 0, 7);
  append_ok(l, &c, 30, 10);
  fedlog_close(l);
  /* the head, and seq 31 whose prev crosses the batch boundary */
  assert_int_equal(fixture_tools_agree(f, "cli", "refs/fed/650000"), 0);
  assert_int_equal(fixture_tools_agree(f, "cli", "refs/fed/650000~9"), 0);
  snprintf(zCmd, sizeof(zCmd),
           "cd '%s' && G='git --git-dir cli/fedlog.git' && "
           "$G show refs/fed/650000~9:entry.json | grep -q '\"seq\":31,' && "
           "test \"$($G rev-list --count refs/fed/650000)\" = 40 && "
           "test \"$($G rev-list --count refs/fed/650100)\" = 7 && "
           "test \"$($G ls-tree --name-only refs/fed/650100~3 | tr '\\n' ' ')\" = 'entry.json entry.sig '",
           f->zDir);
  assert_int_equal(system(zCmd), 0);
  assert_int_equal(fed_audit_new(&a, f->m, NULL, NULL), 0);
  assert_int_equal(fed_audit_log(a, "cli", log_path(f, "cli")), 0);
  assert_int_equal(fed_audit_entries(a), 47);
  fed_audit_free(a);
  chain_free(&c);
  chain_free(&d);
}

/* The child of the crash test: append the chain from wherever the log's head is, in
 * batches of 1 to 40, until it is complete or killed. */
static void crash_child(const fixture *f, const chain *c, unsigned iSeed) {
  fedlog *l = NULL;
  fed_log_head h;
  srand(iSeed);
  if (fedlog_open(&l, log_path(f, "crash"), f->m, NULL) != FED_OK) _exit(2);
  for (;;) {
    size_t nBatch = 1 + (size_t)rand() % 40;
    if (fedlog_head(&h, l, c->zOrigin) != FED_OK) _exit(3);
    if ((size_t)h.iSeq >= c->n) break;
    if ((size_t)h.iSeq + nBatch > c->n) nBatch = c->n - (size_t)h.iSeq;
    if (fedlog_append(l, c->zOrigin, c->aView + h.iSeq, nBatch, NULL) != FED_OK) _exit(4);
  }
  fedlog_close(l);
  _exit(0);
}

static void test_kill_9_at_random_instants(void **state) {
  fixture *f = *state;
  chain c;
  long long iLast = 0;
  int nKilled = 0;
  fed_log_append_result r;
  fedlog *l;
  time_t tEnd = time(NULL) + 60;
  chain_make(&c, f, "650000", 1200);
  srand((unsigned)getpid());
  for (int iRound = 0; iRound < 60 && time(NULL) < tEnd; iRound++) {
    int iStatus;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) crash_child(f, &c, (unsigned)iRound * 7919u);
    usleep((useconds_t)(rand() % 120000));
    if (kill(pid, SIGKILL) == 0) nKilled++;
    assert_int_equal(waitpid(pid, &iStatus, 0), pid);
    /* killed, or done: never failed of itself */
    assert_true(WIFSIGNALED(iStatus) || (WIFEXITED(iStatus) && WEXITSTATUS(iStatus) == 0));
    /* a valid prefix: contiguous from 1, every entry the one offered, never shorter than before */
    l = log_open(f, "crash");
    long long iHead = head_seq(l, "650000");
    assert_true(iHead >= iLast);
    read_expect(l, &c, 1, iHead);
    fedlog_close(l);
    iLast = iHead;
    if ((size_t)iHead == c.n) break;
  }
  print_message("    %d writers killed, %lld of %zu entries written by them\n", nKilled, iLast, c.n);
  assert_true(nKilled >= 3);
  /* replaying everything completes the chain without writing anything twice */
  l = log_open(f, "crash");
  assert_int_equal(append_range(l, &c, 0, c.n, &r), FED_OK);
  assert_int_equal(r.nPresent, (size_t)iLast);
  assert_int_equal(r.nAdded, c.n - (size_t)iLast);
  read_expect(l, &c, 1, (long long)c.n);
  fedlog_close(l);
  assert_int_equal(fixture_tools_agree(f, "crash", "refs/fed/650000"), 0);
  chain_free(&c);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
  const struct CMUnitTest tests[] = {
      T(test_append_head_read),      T(test_read_stops_when_asked),       T(test_bad_entries_refused), T(test_signed_here_skips_only_the_signature),
      T(test_refusal_deep_in_a_large_batch), T(test_equivocation_reported), T(test_replay_is_a_no_op),           T(test_small_batches_are_merged), T(test_leftovers_of_a_crash_are_removed), T(test_an_interrupted_creation_is_finished),
      T(test_one_writer),
      T(test_git_openssl_and_audit_agree), T(test_kill_9_at_random_instants),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
