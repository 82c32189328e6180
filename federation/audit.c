/* audit.c - walk signed logs and report every broken rule (see audit.h). */
#include "audit.h"
#include "entry.h"
#include "fed_error.h"

#include <git2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_PREFIX "refs/fed/"

/* What was seen for one (origin, seq) in some log: the equivocation check, and a cache
 * so that the same entry and signature met in another log are not verified again. */
typedef struct seen_slot {
  int iOrigin;  /* index into aOrigin + 1; 0 = empty slot */
  long long iSeq;
  char aHash[64];  /* hex SHA-256 of entry.json */
  unsigned char aSig[FED_SIG_SIZE];
  int bVerified;  /* the signature verified with a valid key */
  size_t iLog;    /* index into azLog of where it was first seen */
} seen_slot;

struct fed_audit {
  const fed_manifest *m;
  fed_audit_finding_cb xFinding;
  void *payload;
  size_t nFindings;
  size_t nEntries;
  char **azOrigin;  /* interned origin names */
  size_t nOrigin;
  char **azLog;     /* labels of the logs audited */
  size_t nLog;
  seen_slot *aSeen;  /* open addressing, power-of-two size */
  size_t nSeenAlloc;
  size_t nSeen;
  int bGitInit;
};

/* The state of one chain walk: where findings go and what the last entry was. */
typedef struct chain_walk {
  fed_audit *a;
  git_repository *pRepo;
  const char *zLog;
  const char *zOrigin;
  size_t nFindings;
  long long iExpectSeq;
  char zPrevHash[FED_SHA256_HEX_SIZE];
  int bPrevKnown;  /* zPrevHash is the previous entry's (it could be read) */
  char zCommit[GIT_OID_HEXSZ + 1];
} chain_walk;

static void audit_report(fed_audit *a, size_t *pnLog, const char *zLog, const char *zOrigin, long long iSeq,
                         const char *zCommit, const char *zCode, const char *zFmt, ...)
    __attribute__((format(printf, 8, 9)));

static void audit_report(fed_audit *a, size_t *pnLog, const char *zLog, const char *zOrigin, long long iSeq,
                         const char *zCommit, const char *zCode, const char *zFmt, ...) {
  char zMessage[512];
  fed_audit_finding f;
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zMessage, sizeof(zMessage), zFmt, ap);
  va_end(ap);
  f.zCode = zCode;
  f.zLog = zLog;
  f.zOrigin = zOrigin ? zOrigin : "";
  f.iSeq = iSeq;
  f.zCommit = zCommit ? zCommit : "";
  f.zMessage = zMessage;
  a->nFindings++;
  (*pnLog)++;
  if (a->xFinding) a->xFinding(&f, a->payload);
}

static const char *git_message(void) {
  const git_error *e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

int fed_audit_new(fed_audit **out, const fed_manifest *m, fed_audit_finding_cb cb, void *payload) {
  fed_audit *a = calloc(1, sizeof(*a));
  *out = NULL;
  if (a == NULL) return fed_error_set(FED_ERROR, "out of memory");
  if (git_libgit2_init() < 0) {
    free(a);
    return fed_error_set(FED_ERROR, "libgit2: %s", git_message());
  }
  a->bGitInit = 1;
  a->m = m;
  a->xFinding = cb;
  a->payload = payload;
  *out = a;
  return FED_OK;
}

void fed_audit_free(fed_audit *a) {
  if (a == NULL) return;
  for (size_t i = 0; i < a->nOrigin; i++) free(a->azOrigin[i]);
  for (size_t i = 0; i < a->nLog; i++) free(a->azLog[i]);
  free(a->azOrigin);
  free(a->azLog);
  free(a->aSeen);
  if (a->bGitInit) git_libgit2_shutdown();
  free(a);
}

size_t fed_audit_findings(const fed_audit *a) {
  return a->nFindings;
}

size_t fed_audit_entries(const fed_audit *a) {
  return a->nEntries;
}

/* Append a copy of z to a string list; its index, or -1 when out of memory. */
static long strlist_add(char ***paz, size_t *pn, const char *z) {
  char **azNew = realloc(*paz, (*pn + 1) * sizeof(char *));
  if (azNew == NULL) return -1;
  *paz = azNew;
  azNew[*pn] = strdup(z);
  if (azNew[*pn] == NULL) return -1;
  return (long)(*pn)++;
}

/* The index + 1 of origin zOrigin, interning it; 0 when out of memory. */
static int origin_intern(fed_audit *a, const char *zOrigin) {
  for (size_t i = 0; i < a->nOrigin; i++) {
    if (strcmp(a->azOrigin[i], zOrigin) == 0) return (int)i + 1;
  }
  long i = strlist_add(&a->azOrigin, &a->nOrigin, zOrigin);
  return i < 0 ? 0 : (int)i + 1;
}

static size_t seen_hash(int iOrigin, long long iSeq) {
  uint64_t h = (uint64_t)iSeq * 0x9E3779B97F4A7C15ull ^ (uint64_t)iOrigin * 0xC2B2AE3D27D4EB4Full;
  return (size_t)(h ^ (h >> 29));
}

/* The slot for (iOrigin, iSeq): the one holding it, or the empty one where it belongs. */
static seen_slot *seen_find(const fed_audit *a, int iOrigin, long long iSeq) {
  size_t iMask = a->nSeenAlloc - 1;
  size_t i = seen_hash(iOrigin, iSeq) & iMask;
  while (a->aSeen[i].iOrigin != 0 && (a->aSeen[i].iOrigin != iOrigin || a->aSeen[i].iSeq != iSeq)) {
    i = (i + 1) & iMask;
  }
  return &a->aSeen[i];
}

/* Keep the table at most half full. */
static int seen_reserve(fed_audit *a) {
  seen_slot *aOld = a->aSeen;
  size_t nOld = a->nSeenAlloc;
  if (a->nSeenAlloc && (a->nSeen + 1) * 2 <= a->nSeenAlloc) return FED_OK;
  size_t nNew = nOld ? nOld * 2 : 1024;
  seen_slot *aNew = calloc(nNew, sizeof(*aNew));
  if (aNew == NULL) return fed_error_set(FED_ERROR, "out of memory");
  a->aSeen = aNew;
  a->nSeenAlloc = nNew;
  for (size_t i = 0; i < nOld; i++) {
    if (aOld[i].iOrigin) *seen_find(a, aOld[i].iOrigin, aOld[i].iSeq) = aOld[i];
  }
  free(aOld);
  return FED_OK;
}

#define WALK_REPORT(w, iSeq, zCode, ...) \
  audit_report((w)->a, &(w)->nFindings, (w)->zLog, (w)->zOrigin, (iSeq), (w)->zCommit, (zCode), __VA_ARGS__)

/* Read blob zName of tree pTree into *ppBlob; a finding when it is missing or no blob. */
static int tree_read_blob(git_blob **ppBlob, chain_walk *w, git_tree *pTree, const char *zName, long long iSeq) {
  const git_tree_entry *e = git_tree_entry_byname(pTree, zName);
  *ppBlob = NULL;
  if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
    WALK_REPORT(w, iSeq, "bad_tree", "the tree has no file %s", zName);
    return -1;
  }
  if (git_blob_lookup(ppBlob, w->pRepo, git_tree_entry_id(e)) != 0) {
    WALK_REPORT(w, iSeq, "unreadable", "cannot read %s: %s", zName, git_message());
    return -1;
  }
  return 0;
}

/* Findings about one entry go to the walk, placed at the entry's seq as far as known. */
typedef struct entry_report {
  chain_walk *w;
  const fed_entry_facts *pFacts;
} entry_report;

static void entry_report_problem(int rc, const char *zCode, const char *zMessage, void *payload) {
  entry_report *r = payload;
  (void)rc;
  WALK_REPORT(r->w, r->pFacts->iSeq, zCode, "%s", zMessage);
}

/* The slot of (origin, seq), making room for it; NULL when out of memory. */
static seen_slot *seen_slot_for(fed_audit *a, const char *zOrigin, long long iSeq, int *piOrigin) {
  *piOrigin = origin_intern(a, zOrigin);
  if (*piOrigin == 0 || seen_reserve(a) != FED_OK) return NULL;
  return seen_find(a, *piOrigin, iSeq);
}

/* The entry's bytes and signature already verified in another log at the seq expected. */
static int seen_verified(fed_audit *a, const char *zOrigin, long long iSeq, const char *zHash,
                         const unsigned char *aSig, size_t nSig) {
  int iOrigin = origin_intern(a, zOrigin);
  if (iOrigin == 0 || a->nSeenAlloc == 0 || aSig == NULL || nSig != FED_SIG_SIZE) return 0;
  const seen_slot *p = seen_find(a, iOrigin, iSeq);
  return p->iOrigin && p->bVerified && memcmp(p->aHash, zHash, 64) == 0 && memcmp(p->aSig, aSig, FED_SIG_SIZE) == 0;
}

/* Record (origin, seq) -> hash, reporting a different entry seen before as equivocation. */
static int seen_record(chain_walk *w, const fed_entry_facts *pFacts, const unsigned char *aSig, size_t nSig) {
  fed_audit *a = w->a;
  int iOrigin;
  seen_slot *pSlot = seen_slot_for(a, w->zOrigin, pFacts->iSeq, &iOrigin);
  if (pSlot == NULL) return fed_error_set(FED_ERROR, "out of memory");
  if (pSlot->iOrigin && memcmp(pSlot->aHash, pFacts->zHash, 64) != 0) {
    WALK_REPORT(w, pFacts->iSeq, "equivocation", "log %s holds a different entry %s/%lld (entry.json %.16s…, here %.16s…)",
                a->azLog[pSlot->iLog], w->zOrigin, pFacts->iSeq, pSlot->aHash, pFacts->zHash);
  }
  if (pSlot->iOrigin == 0) {
    pSlot->iOrigin = iOrigin;
    pSlot->iSeq = pFacts->iSeq;
    memcpy(pSlot->aHash, pFacts->zHash, 64);
    if (aSig && nSig == FED_SIG_SIZE) memcpy(pSlot->aSig, aSig, FED_SIG_SIZE);
    pSlot->bVerified = pFacts->bSigVerified;
    pSlot->iLog = a->nLog - 1;
    a->nSeen++;
  }
  return FED_OK;
}

/* Everything about one entry-commit; iPlace is its place in the chain (1 = first). */
static int entry_check(chain_walk *w, const git_oid *pOid, long long iPlace) {
  int rc = FED_OK;
  git_commit *pCommit = NULL;
  git_tree *pTree = NULL;
  git_blob *pJson = NULL;
  git_blob *pSig = NULL;
  const char *zJson;
  size_t nJson;
  const unsigned char *aSig;
  size_t nSig;
  char zHash[FED_SHA256_HEX_SIZE];
  fed_entry_facts facts;
  entry_report r = {w, &facts};
  fed_entry_expect x = {w->zOrigin, w->iExpectSeq, NULL, w->a->m, 0};
  git_oid_tostr(w->zCommit, sizeof(w->zCommit), pOid);
  w->a->nEntries++;
  if (git_commit_lookup(&pCommit, w->pRepo, pOid) != 0 || git_commit_tree(&pTree, pCommit) != 0) {
    WALK_REPORT(w, iPlace, "unreadable", "cannot read the commit or its tree: %s", git_message());
    goto unreadable;
  }
  if (git_tree_entrycount(pTree) != 2) {
    WALK_REPORT(w, iPlace, "bad_tree", "the tree holds %zu files, not exactly entry.json and entry.sig",
                git_tree_entrycount(pTree));
  }
  if (tree_read_blob(&pJson, w, pTree, "entry.json", iPlace) != 0) goto unreadable;
  tree_read_blob(&pSig, w, pTree, "entry.sig", iPlace);
  zJson = git_blob_rawcontent(pJson);
  nJson = (size_t)git_blob_rawsize(pJson);
  aSig = pSig ? git_blob_rawcontent(pSig) : NULL;
  nSig = pSig ? (size_t)git_blob_rawsize(pSig) : 0;
  fed_sha256_hex(zHash, zJson, nJson);
  x.zPrev = w->bPrevKnown ? w->zPrevHash : NULL;
  x.bSigKnownGood = seen_verified(w->a, w->zOrigin, w->iExpectSeq, zHash, aSig, nSig);
  fed_entry_check(&facts, &x, zJson, nJson, aSig, nSig, entry_report_problem, &r);
  rc = seen_record(w, &facts, aSig, nSig);
  w->iExpectSeq = facts.iSeq + 1;
  memcpy(w->zPrevHash, facts.zHash, sizeof(facts.zHash));
  w->bPrevKnown = 1;
  goto done;
unreadable:
  w->iExpectSeq = iPlace + 1;
  w->bPrevKnown = 0;
done:
  git_blob_free(pSig);
  git_blob_free(pJson);
  git_tree_free(pTree);
  git_commit_free(pCommit);
  return rc;
}

/* The commits of a chain from the tip back to its root, tip first, in *paOid. */
static int chain_collect(git_oid **paOid, size_t *pn, chain_walk *w, const git_oid *pTip) {
  int rc = FED_OK;
  git_oid *aOid = NULL;
  size_t n = 0, nAlloc = 0;
  git_oid oid = *pTip;
  for (;;) {
    git_commit *pCommit = NULL;
    unsigned nParent;
    if (n == nAlloc) {
      git_oid *aNew = realloc(aOid, (nAlloc ? nAlloc * 2 : 64) * sizeof(git_oid));
      if (aNew == NULL) {
        rc = fed_error_set(FED_ERROR, "out of memory");
        break;
      }
      aOid = aNew;
      nAlloc = nAlloc ? nAlloc * 2 : 64;
    }
    aOid[n++] = oid;
    if (git_commit_lookup(&pCommit, w->pRepo, &oid) != 0) break; /* entry_check reports it */
    nParent = git_commit_parentcount(pCommit);
    if (nParent > 1) {
      git_oid_tostr(w->zCommit, sizeof(w->zCommit), &oid);
      WALK_REPORT(w, 0, "bad_commit", "a merge commit (%u parents): an entry's commit has one parent, the previous entry's",
                  nParent);
    }
    if (nParent > 0) oid = *git_commit_parent_id(pCommit, 0);
    git_commit_free(pCommit);
    if (nParent == 0) break;
  }
  *paOid = aOid;
  *pn = n;
  return rc;
}

/* Walk one ref's chain, oldest entry first. */
static int chain_check(chain_walk *w, const git_oid *pTip) {
  int rc = FED_OK;
  git_oid *aOid = NULL;
  size_t n = 0;
  rc = chain_collect(&aOid, &n, w, pTip);
  w->iExpectSeq = 1;
  w->zPrevHash[0] = 0;
  w->bPrevKnown = 1;
  for (size_t i = 0; rc == FED_OK && i < n; i++) {
    rc = entry_check(w, &aOid[n - 1 - i], (long long)(i + 1));
  }
  free(aOid);
  return rc;
}

static int ref_check(fed_audit *a, git_repository *pRepo, const char *zLog, const char *zRef, size_t *pnFindings) {
  int rc = FED_OK;
  git_oid tip;
  chain_walk w;
  memset(&w, 0, sizeof(w));
  w.a = a;
  w.pRepo = pRepo;
  w.zLog = zLog;
  w.zOrigin = zRef + strlen(REF_PREFIX);
  if (fed_manifest_find_node(a->m, w.zOrigin) < 0) {
    WALK_REPORT(&w, 0, "unknown_origin", "%s: origin %.40s is not a node of the manifest", zRef, w.zOrigin);
  } else if (git_reference_name_to_id(&tip, pRepo, zRef) != 0) {
    WALK_REPORT(&w, 0, "unreadable", "%s: cannot resolve: %s", zRef, git_message());
  } else {
    rc = chain_check(&w, &tip);
  }
  *pnFindings += w.nFindings;
  return rc;
}

static int str_cmp(const void *pA, const void *pB) {
  return strcmp(*(char *const *)pA, *(char *const *)pB);
}

/* The names of every refs/fed/ ref, sorted so that output is stable: a malloc'd array
 * of n malloc'd strings. -1 with libgit2's error set, or when out of memory. */
static int refs_list(char ***pazRef, size_t *pn, git_repository *pRepo) {
  git_strarray refs = {0};
  char **azRef = NULL;
  size_t n = 0;
  int rc = git_reference_list(&refs, pRepo);
  if (rc == 0 && refs.count > 0) {
    azRef = calloc(refs.count, sizeof(char *));
    if (azRef == NULL) rc = -1;
  }
  for (size_t i = 0; rc == 0 && i < refs.count; i++) {
    if (strncmp(refs.strings[i], REF_PREFIX, strlen(REF_PREFIX)) != 0) continue;
    azRef[n] = strdup(refs.strings[i]);
    if (azRef[n] == NULL) rc = -1;
    else n++;
  }
  git_strarray_dispose(&refs);
  if (n > 1) qsort(azRef, n, sizeof(char *), str_cmp);
  *pazRef = azRef;
  *pn = n;
  return rc;
}

int fed_audit_log(fed_audit *a, const char *zLog, const char *zGitDir) {
  int rc = FED_OK;
  size_t nFindings = 0;
  git_repository *pRepo = NULL;
  char **azRef = NULL;
  size_t nRef = 0;
  if (strlist_add(&a->azLog, &a->nLog, zLog) < 0) return fed_error_set(FED_ERROR, "out of memory");
  if (git_repository_open_bare(&pRepo, zGitDir) != 0) {
    audit_report(a, &nFindings, zLog, "", 0, "", "unreadable", "cannot open the log %s: %s", zGitDir, git_message());
    goto done;
  }
  if (refs_list(&azRef, &nRef, pRepo) != 0) {
    audit_report(a, &nFindings, zLog, "", 0, "", "unreadable", "cannot list the refs of %s: %s", zGitDir, git_message());
    goto done;
  }
  for (size_t i = 0; rc == FED_OK && i < nRef; i++) {
    rc = ref_check(a, pRepo, zLog, azRef[i], &nFindings);
  }
done:
  for (size_t i = 0; i < nRef; i++) free(azRef[i]);
  free(azRef);
  git_repository_free(pRepo);
  return rc == FED_OK ? (int)nFindings : rc;
}
