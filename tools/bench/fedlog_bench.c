/* fedlog_bench.c - the signed log store against the signature ceiling, in one run:
 * Ed25519 verifications per second on this machine, then N signed entries appended to a
 * fresh DIR/fedlog.git in batches (every entry verified, one pack per batch, fsync on),
 * read back from seq 1, and replayed (an idempotent no-op). Prints "key value" lines.
 *
 *   fedlog_bench DIR [N=100000] [BATCH=1000] [FSYNC=1]   (FSYNC=0: no fsync, to see its cost)
 *   fedlog_bench --fill GITDIR MANIFEST ROOTPEM KEYFILE ORIGIN N [trusted]
 *       N more entries of ORIGIN signed by KEYFILE (the key the manifest lists for it now),
 *       appended to the log GITDIR: what the catch-up bench replicates (run.sh, catchup).
 *       "trusted": the log is opened without the manifest and without fsync, so the
 *       signatures just made are not checked again (fedlog_open with m NULL): how the
 *       audit bench fills 15 logs quickly (run.sh, audit)
 *
 * Built by tools/bench/run.sh (scenario fedlog) against build/libzcfed.a. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canon.h"
#include "fed_error.h"
#include "fedlog.h"
#include "keys.h"
#include "manifest.h"
#include "rfc3339.h"

#define T0 1700000000
#define VERIFY_SECONDS 2.0

typedef struct made {
  char *zJson;
  size_t nJson;
  unsigned char aSig[FED_SIG_SIZE];
} made;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *zWhat) {
  fprintf(stderr, "fedlog_bench: %s: %s\n", zWhat, fed_last_error());
  exit(1);
}

/* Entry iSeq of zOrigin after zPrev at tTs, body of a realistic size (an account registration). */
static void make_entry(made *out, const fed_key *pKey, const char *zOrigin, const char *zKeyId, long long iSeq,
                       const char *zPrev, time_t tTs) {
  char zTs[FED_RFC3339_SIZE], zDigest[FED_SHA256_HEX_SIZE], zAccount[48];
  /* one account per entry federation-wide: an audit of many such logs finds nothing */
  snprintf(zAccount, sizeof(zAccount), "acc-%s-%lld", zOrigin, iSeq);
  fed_sha256_hex(zDigest, zAccount, strlen(zAccount));
  fed_rfc3339_format(zTs, tTs);
  json_t *e = json_pack("{s:{s:s,s:s,s:s,s:s},s:s,s:s,s:s,s:I,s:s,s:s,s:i}", "body", "account", zAccount, "home",
                        zOrigin, "id_digest", zDigest, "name", "张三", "key", zKeyId, "origin", zOrigin, "prev",
                        zPrev, "seq", (json_int_t)iSeq, "ts", zTs, "type", "account.registered", "v", 1);
  out->zJson = fed_canon(e, &out->nJson);
  json_decref(e);
  if (out->zJson == NULL) die("canon");
  if (fed_key_sign(out->aSig, pKey, out->zJson, out->nJson) != FED_OK) die("sign");
}

static int count_read(const fed_log_entry *e, long long iSeq, void *payload) {
  long long *pn = payload;
  (void)e;
  if (iSeq != *pn + 1) return 1;
  *pn = iSeq;
  return 0;
}

/* --fill: N entries continuing ORIGIN's chain in GITDIR, appended in batches of 1,000. */
static int fill_main(int argc, char **argv) {
  fed_manifest *m = NULL;
  fed_key *pKey = NULL;
  const fed_manifest_key *pListed = NULL;
  fedlog *l = NULL;
  fed_log_head h;
  int bTrusted = argc == 9 && strcmp(argv[8], "trusted") == 0;
  fedlog_options opts = FEDLOG_OPTIONS_INIT;
  if (argc != 8 && !bTrusted) {
    fprintf(stderr, "usage: fedlog_bench --fill GITDIR MANIFEST ROOTPEM KEYFILE ORIGIN N [trusted]\n");
    return 2;
  }
  const char *zOrigin = argv[6];
  long long n = atoll(argv[7]);
  time_t tNow = time(NULL);
  opts.bNoFsync = bTrusted;
  if (fed_manifest_load(&m, argv[3], argv[4]) || fed_key_load_private(&pKey, argv[5]) ||
      fed_manifest_key_of(&pListed, m, zOrigin, pKey, tNow) || fedlog_open(&l, argv[2], bTrusted ? NULL : m, &opts) ||
      fedlog_head(&h, l, zOrigin))
    die("--fill set-up");
  made *a = calloc(1000, sizeof(made));
  fed_log_entry v[1000];
  char zPrev[FED_SHA256_HEX_SIZE];
  snprintf(zPrev, sizeof zPrev, "%s", h.zHash);
  for (long long i = 0; i < n;) {
    size_t k = 0;
    for (; k < 1000 && i < n; k++, i++) {
      make_entry(&a[k], pKey, zOrigin, pListed->zId, h.iSeq + i + 1, zPrev, tNow);
      fed_sha256_hex(zPrev, a[k].zJson, a[k].nJson);
      v[k] = (fed_log_entry){a[k].zJson, a[k].nJson, a[k].aSig, 0};
    }
    if (fedlog_append(l, zOrigin, v, k, NULL) != FED_OK) die("--fill append");
    for (size_t j = 0; j < k; j++) free(a[j].zJson);
  }
  free(a);
  fedlog_close(l);
  fed_key_free(pKey);
  fed_manifest_free(m);
  printf("filled %lld\n", n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--fill") == 0) return fill_main(argc, argv);
  const char *zDir = argc > 1 ? argv[1] : NULL;
  long long n = argc > 2 ? atoll(argv[2]) : 100000;
  long long nBatch = argc > 3 ? atoll(argv[3]) : 1000;
  fedlog_options opts = FEDLOG_OPTIONS_INIT;
  char zGit[4096], zPrev[FED_SHA256_HEX_SIZE] = "", *zPem = NULL;
  fed_key *pRoot = NULL, *pKey = NULL;
  fed_manifest *m = NULL;
  fedlog *l = NULL;
  made *aMade;
  fed_log_entry *aView;
  double t, tSign, tVerify, tAppend, tRead, tReplay;
  long long nVerify = 0, nRead = 0;
  size_t nBytes = 0;
  if (zDir == NULL || n < 1 || nBatch < 1) {
    fprintf(stderr, "usage: fedlog_bench DIR [N] [BATCH]\n");
    return 2;
  }
  snprintf(zGit, sizeof(zGit), "%s/fedlog.git", zDir);
  if (fed_key_generate(&pRoot) || fed_key_generate(&pKey) || fed_manifest_new(&m, pRoot, T0) ||
      fed_manifest_add_node(m, "650000", "自治区", "http://127.0.0.1:8600") ||
      fed_key_public_pem(&zPem, NULL, pKey) ||
      fed_manifest_add_key(m, "650000", "650000#1", zPem, T0 - 1, T0 + 100 * 365 * 86400LL)) {
    die("set-up");
  }
  aMade = calloc((size_t)n, sizeof(made));
  aView = calloc((size_t)n, sizeof(fed_log_entry));
  if (aMade == NULL || aView == NULL) die("out of memory");

  t = now();
  for (long long i = 0; i < n; i++) {
    make_entry(&aMade[i], pKey, "650000", "650000#1", i + 1, zPrev, T0 + i + 1);
    fed_sha256_hex(zPrev, aMade[i].zJson, aMade[i].nJson);
    aView[i] = (fed_log_entry){aMade[i].zJson, aMade[i].nJson, aMade[i].aSig, 0};
    nBytes += aMade[i].nJson;
  }
  tSign = now() - t;

  /* the ceiling: Ed25519 verifications of these entries, one core */
  t = now();
  do {
    for (int k = 0; k < 500; k++, nVerify++) {
      const made *p = &aMade[nVerify % n];
      if (fed_key_verify(pKey, p->zJson, p->nJson, p->aSig, FED_SIG_SIZE) != FED_OK) die("verify");
    }
    tVerify = now() - t;
  } while (tVerify < VERIFY_SECONDS);

  opts.bNoFsync = argc > 4 && strcmp(argv[4], "0") == 0;
  if (fedlog_open(&l, zGit, m, &opts) != FED_OK) die("open");
  t = now();
  for (long long i = 0; i < n; i += nBatch) {
    size_t k = (size_t)(n - i < nBatch ? n - i : nBatch);
    if (fedlog_append(l, "650000", aView + i, k, NULL) != FED_OK) die("append");
  }
  tAppend = now() - t;

  t = now();
  if (fedlog_read(l, "650000", 1, count_read, &nRead) != FED_OK || nRead != n) die("read");
  tRead = now() - t;

  t = now();
  for (long long i = 0; i < n; i += nBatch) {
    fed_log_append_result r;
    size_t k = (size_t)(n - i < nBatch ? n - i : nBatch);
    if (fedlog_append(l, "650000", aView + i, k, &r) != FED_OK || r.nPresent != k) die("replay");
  }
  tReplay = now() - t;
  fedlog_close(l);

  printf("fsync %d\n", !opts.bNoFsync);
  printf("entries %lld\nbatch %lld\nentry_bytes_avg %.0f\n", n, nBatch, (double)nBytes / (double)n);
  printf("sign_per_s %.0f\n", (double)n / tSign);
  printf("verify_per_s %.0f\n", (double)nVerify / tVerify);
  printf("append_per_s %.0f\n", (double)n / tAppend);
  printf("read_per_s %.0f\n", (double)n / tRead);
  printf("replay_per_s %.0f\n", (double)n / tReplay);
  printf("append_vs_verify %.2f\n", (double)n / tAppend / ((double)nVerify / tVerify));
  for (long long i = 0; i < n; i++) free(aMade[i].zJson);
  free(aMade);
  free(aView);
  free(zPem);
  fed_manifest_free(m);
  fed_key_free(pKey);
  fed_key_free(pRoot);
  return 0;
}
