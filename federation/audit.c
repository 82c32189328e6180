/* audit.c - walk signed logs and checkpoints and report every broken rule (see audit.h).
 *
 * The work is a list of units, one per (log, ref), taken by worker threads in turn. Each
 * unit keeps its own findings; they are handed to the callback after the threads are
 * done, in unit order, so that output does not depend on scheduling. What the logs share
 * (the entries seen per (origin, seq), the verified checkpoints) sits behind one mutex. */
#include "audit.h"
#include "audit_rules.h"
#include "checkpoint.h"
#include "entry.h"
#include "fed_error.h"
#include "rfc3339.h"

#include <git2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REF_PREFIX "refs/fed/"
#define CHECKPOINT_REF_PREFIX "refs/checkpoints/"
#define THREADS_MAX 64
#define HASH_HEX 64 /* hex digits of a SHA-256 */

/* One finding kept until the threads are done. */
typedef struct finding_rec {
  const char *zCode;
  char *zOrigin;
  long long iSeq;
  char zCommit[GIT_OID_HEXSZ + 1];
  char *zMessage;
} finding_rec;

/* One commit of a chain and its tree (bTree 0: the commit could not be read). */
typedef struct chain_link {
  git_oid commit;
  git_oid tree;
  int bTree;
} chain_link;

/* Where a walk stands between two entries. */
typedef struct walk_state {
  long long iExpectSeq;
  char zPrevHash[FED_SHA256_HEX_SIZE];
  int bPrevKnown; /* zPrevHash is the previous entry's (it could be read) */
} walk_state;

/* What a unit is: the log itself (opening it, listing its refs); a refs/fed/ ref, whose
 * chain of commits is collected; a refs/checkpoints/ ref, checked whole; or a segment
 * of a collected chain, whose entries are checked (after every chain is collected, so
 * that the work splits evenly over the threads however long the chains). */
enum { UNIT_LOG, UNIT_CHAIN, UNIT_CHECKPOINTS, UNIT_SEGMENT };

/* One unit of work; it keeps its own findings. */
typedef struct audit_unit {
  int eKind;
  size_t iLog;
  char *zRef;         /* UNIT_CHAIN, UNIT_CHECKPOINTS: owned; UNIT_SEGMENT: its chain's */
  chain_link *aLink;  /* the chain, root first: UNIT_CHAIN owns it, its segments borrow it */
  size_t nLink;
  size_t iFrom, iTo;  /* UNIT_SEGMENT: its links [iFrom, iTo) */
  walk_state end;     /* UNIT_SEGMENT: the state after its last entry, once bDone */
  int bDone;
  finding_rec *aFinding;
  size_t nFinding;
  size_t nEntries;
  int rc;
} audit_unit;

/* A different entry held for a seen (origin, seq): equivocation. */
typedef struct seen_alt {
  char aHash[HASH_HEX];
  uint64_t mLogs;
  long iNext; /* next alternative of the same slot, -1 at the end */
} seen_alt;

/* The validly signed entries seen for one (origin, seq) over all the logs. */
typedef struct seen_slot {
  int iOrigin;  /* index into azOrigin + 1; 0 = empty slot */
  long long iSeq;
  char aHash[HASH_HEX];  /* hex SHA-256 of entry.json: the first entry seen */
  unsigned char aSig[FED_SIG_SIZE];
  uint64_t mLogs;  /* the logs holding that entry (bit = index into azLog) */
  long iAlt;       /* first different entry (index into aAlt), -1 when none */
} seen_slot;

/* A verified checkpoint, kept once however many logs hold it. */
typedef struct checkpoint_rec {
  char aHash[FED_SHA256_HEX_SIZE];  /* of checkpoint.json */
  unsigned char aSig[FED_SIG_SIZE];
  fed_checkpoint c;
  size_t iLog;  /* where it was first met */
  char zCommit[GIT_OID_HEXSZ + 1];
} checkpoint_rec;

/* An (origin, seq) with more than one entry. */
typedef struct equiv_key {
  int iOrigin;
  long long iSeq;
} equiv_key;

struct fed_audit {
  const fed_manifest *m;
  fed_audit_finding_cb xFinding;
  void *payload;
  size_t nFindings;
  size_t nEntries;
  char **azLog;  /* labels of the logs audited */
  size_t nLog;
  int bFinished;
  int bGitInit;
  pthread_mutex_t mu; /* guards what follows */
  char **azOrigin;    /* interned origin names */
  size_t nOrigin;
  seen_slot *aSeen;   /* open addressing, power-of-two size */
  size_t nSeenAlloc;
  size_t nSeen;
  seen_alt *aAlt;
  size_t nAlt;
  equiv_key *aEquiv;
  size_t nEquiv;
  checkpoint_rec *aCkpt;
  size_t nCkpt;
  fed_rules *pRules;  /* the federation's invariants (audit_rules.h) */
  long nInFlightSecs;
};

/* The state of one unit's walk. */
typedef struct chain_walk {
  fed_audit *a;
  audit_unit *u;
  fed_verifier_set *pVerifiers;  /* the worker's prepared signature checks (keys.h) */
  git_repository *pRepo;
  const char *zOrigin;  /* the ref's origin (or checkpoint's node) */
  walk_state s;
  char zCommit[GIT_OID_HEXSZ + 1];
} chain_walk;

static const char *git_message(void) {
  const git_error *e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

/* ---- findings --------------------------------------------------------------------- */

static void unit_report(audit_unit *u, const char *zCode, const char *zOrigin, long long iSeq, const char *zCommit,
                        const char *zFmt, ...) __attribute__((format(printf, 6, 7)));

/* Keep a finding in the unit; out of memory sets u->rc. */
static void unit_report(audit_unit *u, const char *zCode, const char *zOrigin, long long iSeq, const char *zCommit,
                        const char *zFmt, ...) {
  char zMessage[600];
  va_list ap;
  finding_rec *aNew = realloc(u->aFinding, (u->nFinding + 1) * sizeof(*aNew));
  if (aNew == NULL) {
    u->rc = FED_ERROR;
    return;
  }
  u->aFinding = aNew;
  va_start(ap, zFmt);
  vsnprintf(zMessage, sizeof(zMessage), zFmt, ap);
  va_end(ap);
  finding_rec *p = &aNew[u->nFinding];
  memset(p, 0, sizeof(*p));
  p->zCode = zCode;
  p->iSeq = iSeq;
  snprintf(p->zCommit, sizeof(p->zCommit), "%s", zCommit ? zCommit : "");
  p->zOrigin = strdup(zOrigin ? zOrigin : "");
  p->zMessage = strdup(zMessage);
  if (p->zOrigin == NULL || p->zMessage == NULL) {
    free(p->zOrigin);
    free(p->zMessage);
    u->rc = FED_ERROR;
    return;
  }
  u->nFinding++;
}

/* Hand one finding to the callback and count it. */
static void audit_emit(fed_audit *a, const char *zCode, size_t iLog, const char *zOrigin, long long iSeq,
                       const char *zCommit, const char *zMessage) {
  fed_audit_finding f = {zCode, a->azLog[iLog], zOrigin, iSeq, zCommit, zMessage};
  a->nFindings++;
  if (a->xFinding) a->xFinding(&f, a->payload);
}

/* Append z to zOut at *pn with control characters as '?'. */
static void append_clean(char *zOut, size_t nOut, size_t *pn, const char *z) {
  for (; *z && *pn + 1 < nOut; z++) zOut[(*pn)++] = (unsigned char)*z < 0x20 || *z == 0x7f ? '?' : *z;
  zOut[*pn < nOut ? *pn : nOut - 1] = 0;
}

int fed_audit_finding_format(char *zOut, size_t nOut, const fed_audit_finding *f) {
  char zHead[160], zSeq[24];
  size_t n = 0;
  int nWant;
  if (f->iSeq > 0) snprintf(zSeq, sizeof(zSeq), "%lld", f->iSeq);
  else snprintf(zSeq, sizeof(zSeq), "-");
  if (nOut == 0) return 0;
  zOut[0] = 0;
  nWant = snprintf(zHead, sizeof(zHead), "%s %s %s log %s", f->zCode, f->zOrigin[0] ? f->zOrigin : "-", zSeq,
                   f->zLog);
  append_clean(zOut, nOut, &n, zHead);
  if (f->zCommit[0]) {
    snprintf(zHead, sizeof(zHead), " commit %.12s", f->zCommit);
    append_clean(zOut, nOut, &n, zHead);
    nWant += (int)strlen(zHead);
  }
  append_clean(zOut, nOut, &n, ": ");
  append_clean(zOut, nOut, &n, f->zMessage);
  return nWant + 2 + (int)strlen(f->zMessage);
}

/* ---- the audit -------------------------------------------------------------------- */

int fed_audit_new(fed_audit **out, const fed_manifest *m, fed_audit_finding_cb cb, void *payload) {
  fed_audit *a = calloc(1, sizeof(*a));
  *out = NULL;
  if (a == NULL) return fed_error_set(FED_ERROR, "out of memory");
  if (git_libgit2_init() < 0 ||
      /* each object is read once: libgit2's cache of them would only cost (a hash insert
       * per object, and most of the audit's memory) */
      git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0) < 0) {
    free(a);
    return fed_error_set(FED_ERROR, "libgit2: %s", git_message());
  }
  if (pthread_mutex_init(&a->mu, NULL) != 0) {
    git_libgit2_shutdown();
    free(a);
    return fed_error_set(FED_ERROR, "cannot create a mutex");
  }
  a->bGitInit = 1;
  a->pRules = fed_rules_new();
  if (a->pRules == NULL) {
    fed_audit_free(a);
    return fed_error_set(FED_ERROR, "out of memory");
  }
  a->nInFlightSecs = FED_RULES_IN_FLIGHT_SECS;
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
  for (size_t i = 0; i < a->nCkpt; i++) fed_checkpoint_dispose(&a->aCkpt[i].c);
  free(a->azOrigin);
  free(a->azLog);
  free(a->aSeen);
  free(a->aAlt);
  free(a->aEquiv);
  free(a->aCkpt);
  fed_rules_free(a->pRules);
  pthread_mutex_destroy(&a->mu);
  if (a->bGitInit) git_libgit2_shutdown();
  free(a);
}

int fed_audit_set_jurisdiction(fed_audit *a, json_t *pCommittees, json_t *pSeries) {
  return fed_rules_set_jurisdiction(a->pRules, pCommittees, pSeries);
}

void fed_audit_set_in_flight(fed_audit *a, long nSecs) {
  a->nInFlightSecs = nSecs < 0 ? 0 : nSecs;
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

/* ---- what the logs share (callers hold a->mu) ------------------------------------ */

/* The index + 1 of origin zOrigin; interned when bAdd, else 0 when unknown. 0 when out
 * of memory. */
static int origin_index(fed_audit *a, const char *zOrigin, int bAdd) {
  for (size_t i = 0; i < a->nOrigin; i++) {
    if (strcmp(a->azOrigin[i], zOrigin) == 0) return (int)i + 1;
  }
  if (!bAdd) return 0;
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

/* The slot holding (zOrigin, iSeq), or NULL. */
static seen_slot *seen_lookup(fed_audit *a, const char *zOrigin, long long iSeq) {
  int iOrigin = origin_index(a, zOrigin, 0);
  if (iOrigin == 0 || a->nSeenAlloc == 0) return NULL;
  seen_slot *p = seen_find(a, iOrigin, iSeq);
  return p->iOrigin ? p : NULL;
}

/* Keep the table at most half full with nMore more entries. */
static int seen_reserve(fed_audit *a, size_t nMore) {
  seen_slot *aOld = a->aSeen;
  size_t nOld = a->nSeenAlloc;
  if (a->nSeenAlloc && (a->nSeen + nMore) * 2 <= a->nSeenAlloc) return FED_OK;
  size_t nNew = nOld ? nOld * 2 : 1024;
  while (nNew < (a->nSeen + nMore) * 2) nNew *= 2;
  seen_slot *aNew = calloc(nNew, sizeof(*aNew));
  if (aNew == NULL) return FED_ERROR;
  a->aSeen = aNew;
  a->nSeenAlloc = nNew;
  for (size_t i = 0; i < nOld; i++) {
    if (aOld[i].iOrigin) *seen_find(a, aOld[i].iOrigin, aOld[i].iSeq) = aOld[i];
  }
  free(aOld);
  return FED_OK;
}

/* Note another entry (hash zHash) for the slot, held by log iLog. */
static int seen_add_alt(fed_audit *a, seen_slot *pSlot, const char *zHash, size_t iLog) {
  long iLast = -1; /* the last alternative of the slot, -1: none yet */
  for (long i = pSlot->iAlt; i >= 0; i = a->aAlt[i].iNext) {
    if (memcmp(a->aAlt[i].aHash, zHash, HASH_HEX) == 0) {
      a->aAlt[i].mLogs |= (uint64_t)1 << iLog;
      return FED_OK;
    }
    iLast = i;
  }
  if (iLast < 0) {
    equiv_key *aNew = realloc(a->aEquiv, (a->nEquiv + 1) * sizeof(*aNew));
    if (aNew == NULL) return FED_ERROR;
    a->aEquiv = aNew;
    aNew[a->nEquiv++] = (equiv_key){pSlot->iOrigin, pSlot->iSeq};
  }
  seen_alt *aNew = realloc(a->aAlt, (a->nAlt + 1) * sizeof(*aNew));
  if (aNew == NULL) return FED_ERROR;
  a->aAlt = aNew;
  memcpy(aNew[a->nAlt].aHash, zHash, HASH_HEX);
  aNew[a->nAlt].mLogs = (uint64_t)1 << iLog;
  aNew[a->nAlt].iNext = -1;
  if (iLast < 0) pSlot->iAlt = (long)a->nAlt;
  else aNew[iLast].iNext = (long)a->nAlt;
  a->nAlt++;
  return FED_OK;
}

/* Record that log iLog holds the validly signed entry (zOrigin, iSeq) hashed zHash. */
static int seen_record(fed_audit *a, size_t iLog, const char *zOrigin, long long iSeq, const char *zHash,
                       const unsigned char *aSig) {
  int rc = FED_OK;
  pthread_mutex_lock(&a->mu);
  int iOrigin = origin_index(a, zOrigin, 1);
  seen_slot *pSlot = NULL;
  if (iOrigin == 0 || seen_reserve(a, 1) != FED_OK) {
    rc = FED_ERROR;
    goto done;
  }
  pSlot = seen_find(a, iOrigin, iSeq);
  if (pSlot->iOrigin == 0) {
    pSlot->iOrigin = iOrigin;
    pSlot->iSeq = iSeq;
    memcpy(pSlot->aHash, zHash, HASH_HEX);
    memcpy(pSlot->aSig, aSig, FED_SIG_SIZE);
    pSlot->iAlt = -1;
    a->nSeen++;
  }
  if (memcmp(pSlot->aHash, zHash, HASH_HEX) == 0) pSlot->mLogs |= (uint64_t)1 << iLog;
  else rc = seen_add_alt(a, pSlot, zHash, iLog);
done:
  pthread_mutex_unlock(&a->mu);
  return rc;
}

/* The entry's bytes and signature verified before (in another log). */
static int seen_verified(fed_audit *a, const char *zOrigin, long long iSeq, const char *zJson, size_t nJson,
                         const unsigned char *aSig, size_t nSig) {
  char zHash[FED_SHA256_HEX_SIZE], aHash[HASH_HEX], aSlotSig[FED_SIG_SIZE];
  int bSlot = 0;
  if (aSig == NULL || nSig != FED_SIG_SIZE) return 0;
  pthread_mutex_lock(&a->mu);
  const seen_slot *p = seen_lookup(a, zOrigin, iSeq);
  if (p) {
    bSlot = 1;
    memcpy(aHash, p->aHash, HASH_HEX);
    memcpy(aSlotSig, p->aSig, FED_SIG_SIZE);
  }
  pthread_mutex_unlock(&a->mu);
  if (!bSlot) return 0; /* the usual case for the first copy: no hash to compute */
  fed_sha256_hex(zHash, zJson, nJson);
  return memcmp(aHash, zHash, HASH_HEX) == 0 && memcmp(aSlotSig, aSig, FED_SIG_SIZE) == 0;
}

/* Keep a verified checkpoint (taking c) unless the same one is kept already. */
static int checkpoint_record(fed_audit *a, fed_checkpoint *c, const char *zHash, const unsigned char *aSig,
                             size_t iLog, const char *zCommit) {
  int rc = FED_OK;
  pthread_mutex_lock(&a->mu);
  for (size_t i = 0; i < a->nCkpt; i++) {
    if (strcmp(a->aCkpt[i].aHash, zHash) == 0 && memcmp(a->aCkpt[i].aSig, aSig, FED_SIG_SIZE) == 0) goto done;
  }
  checkpoint_rec *aNew = realloc(a->aCkpt, (a->nCkpt + 1) * sizeof(*aNew));
  if (aNew == NULL) {
    rc = FED_ERROR;
    goto done;
  }
  a->aCkpt = aNew;
  checkpoint_rec *p = &aNew[a->nCkpt++];
  memcpy(p->aHash, zHash, FED_SHA256_HEX_SIZE);
  memcpy(p->aSig, aSig, FED_SIG_SIZE);
  p->c = *c;
  memset(c, 0, sizeof(*c));
  p->iLog = iLog;
  snprintf(p->zCommit, sizeof(p->zCommit), "%s", zCommit);
done:
  pthread_mutex_unlock(&a->mu);
  return rc;
}

/* ---- one chain of entries --------------------------------------------------------- */

#define WALK_REPORT(w, zCode, iSeq, ...) unit_report((w)->u, (zCode), (w)->zOrigin, (iSeq), (w)->zCommit, __VA_ARGS__)

/* Blob zName of tree pTree into *ppBlob: 0, or -1 when it is missing (*pbMissing set) or
 * unreadable. */
static int tree_blob(git_blob **ppBlob, int *pbMissing, git_repository *pRepo, git_tree *pTree, const char *zName) {
  const git_tree_entry *e = git_tree_entry_byname(pTree, zName);
  *ppBlob = NULL;
  *pbMissing = e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB;
  if (*pbMissing) return -1;
  return git_blob_lookup(ppBlob, pRepo, git_tree_entry_id(e)) == 0 ? 0 : -1;
}

/* The same, a finding when it is missing or no blob. */
static int tree_read_blob(git_blob **ppBlob, chain_walk *w, git_tree *pTree, const char *zName, long long iSeq) {
  int bMissing;
  if (tree_blob(ppBlob, &bMissing, w->pRepo, pTree, zName) == 0) return 0;
  if (bMissing) WALK_REPORT(w, "bad_tree", iSeq, "the tree has no file %s", zName);
  else WALK_REPORT(w, "unreadable", iSeq, "cannot read %s: %s", zName, git_message());
  return -1;
}

/* The tree of a chain's commit. */
static int link_tree(git_tree **ppTree, git_repository *pRepo, const chain_link *pLink) {
  git_commit *pCommit = NULL;
  *ppTree = NULL;
  if (pLink->bTree) return git_tree_lookup(ppTree, pRepo, &pLink->tree);
  int rc = git_commit_lookup(&pCommit, pRepo, &pLink->commit) || git_commit_tree(ppTree, pCommit);
  git_commit_free(pCommit);
  return rc;
}

/* Findings about one entry go to the walk, placed at the entry's seq as far as known. */
typedef struct entry_report {
  chain_walk *w;
  const fed_entry_facts *pFacts;
} entry_report;

static void entry_report_problem(int rc, const char *zCode, const char *zMessage, void *payload) {
  entry_report *r = payload;
  (void)rc;
  WALK_REPORT(r->w, zCode, r->pFacts->iSeq, "%s", zMessage);
}

/* Everything about one entry-commit; iPlace is its place in the chain (1 = first). */
static int entry_check(chain_walk *w, const chain_link *pLink, long long iPlace) {
  int rc = FED_OK;
  git_tree *pTree = NULL;
  git_blob *pJson = NULL;
  git_blob *pSig = NULL;
  const char *zJson;
  size_t nJson;
  const unsigned char *aSig;
  size_t nSig;
  fed_entry_facts facts;
  entry_report r = {w, &facts};
  fed_entry_expect x = {w->zOrigin, w->s.iExpectSeq, NULL, w->a->m, 0, w->pVerifiers, 0};
  git_oid_tostr(w->zCommit, sizeof(w->zCommit), &pLink->commit);
  w->u->nEntries++;
  if (link_tree(&pTree, w->pRepo, pLink) != 0) {
    WALK_REPORT(w, "unreadable", iPlace, "cannot read the commit or its tree: %s", git_message());
    goto unreadable;
  }
  if (git_tree_entrycount(pTree) != 2) {
    WALK_REPORT(w, "bad_tree", iPlace, "the tree holds %zu files, not exactly entry.json and entry.sig",
                git_tree_entrycount(pTree));
  }
  if (tree_read_blob(&pJson, w, pTree, "entry.json", iPlace) != 0) goto unreadable;
  tree_read_blob(&pSig, w, pTree, "entry.sig", iPlace);
  zJson = git_blob_rawcontent(pJson);
  nJson = (size_t)git_blob_rawsize(pJson);
  aSig = pSig ? git_blob_rawcontent(pSig) : NULL;
  nSig = pSig ? (size_t)git_blob_rawsize(pSig) : 0;
  x.zPrev = w->s.bPrevKnown ? w->s.zPrevHash : NULL;
  x.bSigKnownGood = seen_verified(w->a, w->zOrigin, w->s.iExpectSeq, zJson, nJson, aSig, nSig);
  x.bKeepParsed = fed_rules_wants(zJson, nJson); /* the rules read it: parsed once */
  fed_entry_check(&facts, &x, zJson, nJson, aSig, nSig, entry_report_problem, &r);
  /* only a validly signed entry is evidence of what the origin said */
  if (facts.bSigVerified) rc = seen_record(w->a, w->u->iLog, w->zOrigin, facts.iSeq, facts.zHash, aSig);
  if (rc == FED_OK && facts.bSigVerified && facts.pParsed) rc = fed_rules_add(w->a->pRules, zJson, nJson, facts.pParsed);
  json_decref(facts.pParsed);
  w->s.iExpectSeq = facts.iSeq + 1;
  memcpy(w->s.zPrevHash, facts.zHash, sizeof(facts.zHash));
  w->s.bPrevKnown = 1;
  goto done;
unreadable:
  w->s.iExpectSeq = iPlace + 1;
  w->s.bPrevKnown = 0;
done:
  git_blob_free(pSig);
  git_blob_free(pJson);
  git_tree_free(pTree);
  return rc == FED_OK ? FED_OK : fed_error_set(FED_ERROR, "out of memory");
}

/* Where entry_check leaves a walk after the entry at iPlace, into *out, when that does not
 * depend on the entries before it: 1 then; 0 for an entry without a valid seq (the walk
 * then expects the seq it expected before). Reports nothing. */
static int state_after(walk_state *out, chain_walk *w, const chain_link *pLink, long long iPlace) {
  git_tree *pTree = NULL;
  git_blob *pJson = NULL;
  int bMissing, bExact = 1;
  out->iExpectSeq = iPlace + 1;
  out->zPrevHash[0] = 0;
  out->bPrevKnown = 0;
  if (link_tree(&pTree, w->pRepo, pLink) == 0 && tree_blob(&pJson, &bMissing, w->pRepo, pTree, "entry.json") == 0) {
    fed_entry_facts facts;
    fed_entry_expect x = {w->zOrigin, 0, NULL, NULL, 0, NULL, 0}; /* seq 0: none valid */
    fed_entry_check(&facts, &x, git_blob_rawcontent(pJson), (size_t)git_blob_rawsize(pJson), NULL, 0, NULL, NULL);
    bExact = facts.iSeq > 0;
    out->iExpectSeq = facts.iSeq + 1;
    memcpy(out->zPrevHash, facts.zHash, sizeof(facts.zHash));
    out->bPrevKnown = 1;
  }
  git_blob_free(pJson);
  git_tree_free(pTree);
  return bExact;
}

/* The commits of a chain from its root to the tip pTip, with their trees, in *paLink. */
static int chain_collect(chain_link **paLink, size_t *pn, chain_walk *w, const git_oid *pTip) {
  int rc = FED_OK;
  chain_link *aLink = NULL;
  size_t n = 0, nAlloc = 0;
  git_oid oid = *pTip;
  for (;;) {
    git_commit *pCommit = NULL;
    unsigned nParent;
    if (n == nAlloc) {
      chain_link *aNew = realloc(aLink, (nAlloc ? nAlloc * 2 : 64) * sizeof(chain_link));
      if (aNew == NULL) {
        rc = fed_error_set(FED_ERROR, "out of memory");
        break;
      }
      aLink = aNew;
      nAlloc = nAlloc ? nAlloc * 2 : 64;
    }
    memset(&aLink[n], 0, sizeof(aLink[n]));
    aLink[n++].commit = oid;
    if (git_commit_lookup(&pCommit, w->pRepo, &oid) != 0) break; /* entry_check reports it */
    aLink[n - 1].tree = *git_commit_tree_id(pCommit);
    aLink[n - 1].bTree = 1;
    nParent = git_commit_parentcount(pCommit);
    if (nParent > 1) {
      git_oid_tostr(w->zCommit, sizeof(w->zCommit), &oid);
      WALK_REPORT(w, "bad_commit", 0,
                  "a merge commit (%u parents): an entry's commit has one parent, the previous entry's", nParent);
    }
    if (nParent > 0) oid = *git_commit_parent_id(pCommit, 0);
    git_commit_free(pCommit);
    if (nParent == 0) break;
  }
  for (size_t i = 0; i < n / 2; i++) { /* root first */
    chain_link t = aLink[i];
    aLink[i] = aLink[n - 1 - i];
    aLink[n - 1 - i] = t;
  }
  *paLink = aLink;
  *pn = n;
  return rc;
}

/* ---- one chain of checkpoints ----------------------------------------------------- */

static const char *checkpoint_problem_code(int rc) {
  if (rc == FED_EBADSIG) return "bad_signature";
  if (rc == FED_ENOTFOUND || rc == FED_EEXPIRED) return "key_invalid";
  if (rc == FED_EINVALID) return "not_canonical";
  return "unreadable";
}

/* Verify one checkpoint commit's tree and keep it when sound. */
static int checkpoint_check(chain_walk *w, git_tree *pTree) {
  int rc = FED_OK;
  git_blob *pJson = NULL, *pSig = NULL;
  fed_checkpoint c = {0};
  char zHash[FED_SHA256_HEX_SIZE];
  if (git_tree_entrycount(pTree) != 2) {
    WALK_REPORT(w, "bad_tree", 0, "the checkpoint's tree holds %zu files, not exactly checkpoint.json and checkpoint.sig",
                git_tree_entrycount(pTree));
  }
  if (tree_read_blob(&pJson, w, pTree, "checkpoint.json", 0) != 0 ||
      tree_read_blob(&pSig, w, pTree, "checkpoint.sig", 0) != 0) {
    goto done;
  }
  const char *zJson = git_blob_rawcontent(pJson);
  size_t nJson = (size_t)git_blob_rawsize(pJson);
  const unsigned char *aSig = git_blob_rawcontent(pSig);
  size_t nSig = (size_t)git_blob_rawsize(pSig);
  int rcCheck = fed_checkpoint_verify(&c, w->a->m, zJson, nJson, aSig, nSig);
  if (rcCheck != FED_OK) {
    WALK_REPORT(w, checkpoint_problem_code(rcCheck), 0, "checkpoint: %s", fed_last_error());
  } else if (strcmp(c.zNode, w->zOrigin) != 0) {
    WALK_REPORT(w, "misplaced", 0, "a checkpoint of node %s under refs/checkpoints/%s", c.zNode, w->zOrigin);
  } else {
    fed_sha256_hex(zHash, zJson, nJson);
    rc = checkpoint_record(w->a, &c, zHash, aSig, w->u->iLog, w->zCommit);
  }
done:
  fed_checkpoint_dispose(&c);
  git_blob_free(pJson);
  git_blob_free(pSig);
  return rc == FED_OK ? FED_OK : fed_error_set(FED_ERROR, "out of memory");
}

/* Every checkpoint of the ref, newest first. */
static int checkpoint_chain_check(chain_walk *w, const git_oid *pTip) {
  int rc = FED_OK;
  git_oid oid = *pTip;
  for (int bMore = 1; rc == FED_OK && bMore;) {
    git_commit *pCommit = NULL;
    git_tree *pTree = NULL;
    git_oid_tostr(w->zCommit, sizeof(w->zCommit), &oid);
    if (git_commit_lookup(&pCommit, w->pRepo, &oid) != 0 || git_commit_tree(&pTree, pCommit) != 0) {
      WALK_REPORT(w, "unreadable", 0, "cannot read the checkpoint's commit or its tree: %s", git_message());
      bMore = 0;
    } else {
      rc = checkpoint_check(w, pTree);
      bMore = git_commit_parentcount(pCommit) > 0;
      if (bMore) oid = *git_commit_parent_id(pCommit, 0);
    }
    git_tree_free(pTree);
    git_commit_free(pCommit);
  }
  return rc;
}

/* ---- units and threads ------------------------------------------------------------ */

#define SEGMENT_ENTRIES 1024 /* entries of a chain in one unit of the second phase */

/* What the worker threads share. */
typedef struct unit_queue {
  fed_audit *a;
  audit_unit *aUnit;
  size_t nUnit;
  const char *const *azGitDir; /* by unit's iLog - iLogBase */
  size_t iLogBase;
  int bSegments;               /* the phase: chains and checkpoints, then segments */
  size_t iNext;
  pthread_mutex_t mu;
  pthread_cond_t done;         /* a segment is done */
} unit_queue;

/* One worker thread's own: its verifiers, and the log it has open (units come log by
 * log: one at a time keeps what libgit2 caches and maps of a log to one copy per thread). */
typedef struct worker {
  unit_queue *q;
  fed_verifier_set *pVerifiers; /* NULL when out of memory: plain checks */
  git_repository *pRepo;
  size_t iRepoLog;
} worker;

/* The worker's handle on log iLog; NULL when it cannot be opened (git_message() says why). */
static git_repository *worker_repo(worker *k, size_t iLog) {
  if (k->pRepo && k->iRepoLog == iLog) return k->pRepo;
  git_repository_free(k->pRepo);
  k->pRepo = NULL;
  if (git_repository_open_bare(&k->pRepo, k->q->azGitDir[iLog - k->q->iLogBase]) != 0) k->pRepo = NULL;
  k->iRepoLog = iLog;
  return k->pRepo;
}

static void walk_init(chain_walk *w, worker *k, audit_unit *u) {
  memset(w, 0, sizeof(*w));
  w->a = k->q->a;
  w->u = u;
  w->pVerifiers = k->pVerifiers;
  w->zOrigin = u->zRef + strlen(u->eKind == UNIT_CHECKPOINTS ? CHECKPOINT_REF_PREFIX : REF_PREFIX);
}

/* First phase: a chain collected, or every checkpoint of a ref checked. */
static void unit_run(worker *k, audit_unit *u) {
  git_oid tip;
  chain_walk w;
  walk_init(&w, k, u);
  git_repository *pRepo = worker_repo(k, u->iLog);
  if (pRepo == NULL) {
    WALK_REPORT(&w, "unreadable", 0, "cannot open the log %s: %s", k->q->azGitDir[u->iLog - k->q->iLogBase],
                git_message());
  } else if (u->eKind == UNIT_CHAIN && fed_manifest_find_node(w.a->m, w.zOrigin) < 0) {
    WALK_REPORT(&w, "unknown_origin", 0, "%s: origin %.40s is not a node of the manifest", u->zRef, w.zOrigin);
  } else if (git_reference_name_to_id(&tip, pRepo, u->zRef) != 0) {
    WALK_REPORT(&w, "unreadable", 0, "%s: cannot resolve: %s", u->zRef, git_message());
  } else {
    w.pRepo = pRepo;
    int rc = u->eKind == UNIT_CHECKPOINTS ? checkpoint_chain_check(&w, &tip) : chain_collect(&u->aLink, &u->nLink, &w, &tip);
    if (rc != FED_OK) u->rc = rc;
  }
}

/* Second phase: the entries of one segment. It starts where the one before it (the unit
 * just before) ends, which the entry before its first tells, or else (an entry without a
 * valid seq) the one before it, when done, does; so the findings are those of a single
 * walk down the chain. That one is ahead in the queue: taken already, never waiting for
 * this one. */
static void segment_run(worker *k, size_t iUnit) {
  unit_queue *q = k->q;
  audit_unit *u = &q->aUnit[iUnit];
  chain_walk w;
  walk_init(&w, k, u);
  w.pRepo = worker_repo(k, u->iLog);
  w.s.iExpectSeq = 1;
  w.s.bPrevKnown = 1;
  if (w.pRepo == NULL) {
    WALK_REPORT(&w, "unreadable", 0, "cannot open the log %s: %s", q->azGitDir[u->iLog - q->iLogBase], git_message());
  } else {
    if (u->iFrom > 0 && !state_after(&w.s, &w, &u->aLink[u->iFrom - 1], (long long)u->iFrom)) {
      pthread_mutex_lock(&q->mu);
      while (!q->aUnit[iUnit - 1].bDone) pthread_cond_wait(&q->done, &q->mu);
      w.s = q->aUnit[iUnit - 1].end;
      pthread_mutex_unlock(&q->mu);
    }
    for (size_t i = u->iFrom; u->rc == FED_OK && i < u->iTo; i++) {
      int rc = entry_check(&w, &u->aLink[i], (long long)(i + 1));
      if (rc != FED_OK) u->rc = rc;
    }
  }
  pthread_mutex_lock(&q->mu);
  u->end = w.s;
  u->bDone = 1;
  pthread_cond_broadcast(&q->done);
  pthread_mutex_unlock(&q->mu);
}

static void *unit_worker(void *pArg) {
  worker *k = pArg;
  unit_queue *q = k->q;
  for (;;) {
    pthread_mutex_lock(&q->mu);
    size_t i = q->iNext++;
    pthread_mutex_unlock(&q->mu);
    if (i >= q->nUnit) break;
    audit_unit *u = &q->aUnit[i];
    if (q->bSegments && u->eKind == UNIT_SEGMENT) segment_run(k, i);
    else if (!q->bSegments && (u->eKind == UNIT_CHAIN || u->eKind == UNIT_CHECKPOINTS)) unit_run(k, u);
  }
  return NULL;
}

static size_t thread_count(size_t nUnit) {
  long nCpu = sysconf(_SC_NPROCESSORS_ONLN);
  size_t n = nCpu < 1 ? 1 : nCpu > THREADS_MAX ? THREADS_MAX : (size_t)nCpu;
  return n < nUnit ? n : nUnit ? nUnit : 1;
}

/* Every unit of the phase, on up to one thread per core (this one among them). */
static int units_run(unit_queue *q) {
  pthread_t aThread[THREADS_MAX];
  int abStarted[THREADS_MAX] = {0};
  size_t nThread = thread_count(q->nUnit);
  worker *aWorker = calloc(nThread, sizeof(worker));
  if (aWorker == NULL) return fed_error_set(FED_ERROR, "out of memory");
  q->iNext = 0;
  for (size_t t = 0; t < nThread; t++) {
    aWorker[t].q = q;
    aWorker[t].pVerifiers = fed_verifier_set_new();
  }
  for (size_t t = 1; t < nThread; t++) abStarted[t] = pthread_create(&aThread[t], NULL, unit_worker, &aWorker[t]) == 0;
  unit_worker(&aWorker[0]);
  for (size_t t = 1; t < nThread; t++) {
    if (abStarted[t]) pthread_join(aThread[t], NULL);
  }
  for (size_t t = 0; t < nThread; t++) {
    fed_verifier_set_free(aWorker[t].pVerifiers);
    git_repository_free(aWorker[t].pRepo);
  }
  free(aWorker);
  return FED_OK;
}

static int str_cmp(const void *pA, const void *pB) {
  return strcmp(*(char *const *)pA, *(char *const *)pB);
}

static int unit_add(audit_unit **paUnit, size_t *pn, size_t iLog, const char *zRef, int eKind) {
  audit_unit *aNew = realloc(*paUnit, (*pn + 1) * sizeof(*aNew));
  if (aNew == NULL) return FED_ERROR;
  *paUnit = aNew;
  memset(&aNew[*pn], 0, sizeof(aNew[0]));
  aNew[*pn].iLog = iLog;
  aNew[*pn].eKind = eKind;
  if (zRef && (aNew[*pn].zRef = strdup(zRef)) == NULL) return FED_ERROR;
  (*pn)++;
  return FED_OK;
}

/* The log's own unit (its opening and listing), then one per refs/fed/ and
 * refs/checkpoints/ ref, sorted by name so that output is stable. */
static int units_of_log(audit_unit **paUnit, size_t *pn, size_t iLog, const char *zGitDir) {
  int rc = unit_add(paUnit, pn, iLog, NULL, UNIT_LOG);
  git_repository *pRepo = NULL;
  git_strarray refs = {0};
  size_t iOwn = *pn - 1;
  if (rc != FED_OK) return rc;
  if (git_repository_open_bare(&pRepo, zGitDir) != 0) {
    unit_report(&(*paUnit)[iOwn], "unreadable", "", 0, "", "cannot open the log %s: %s", zGitDir, git_message());
  } else if (git_reference_list(&refs, pRepo) != 0) {
    unit_report(&(*paUnit)[iOwn], "unreadable", "", 0, "", "cannot list the refs of %s: %s", zGitDir, git_message());
  } else if (refs.count > 1) {
    qsort(refs.strings, refs.count, sizeof(char *), str_cmp);
  }
  for (int bCheckpoint = 0; rc == FED_OK && bCheckpoint < 2; bCheckpoint++) {
    const char *zPrefix = bCheckpoint ? CHECKPOINT_REF_PREFIX : REF_PREFIX;
    for (size_t i = 0; rc == FED_OK && i < refs.count; i++) {
      if (strncmp(refs.strings[i], zPrefix, strlen(zPrefix)) != 0) continue;
      rc = unit_add(paUnit, pn, iLog, refs.strings[i], bCheckpoint ? UNIT_CHECKPOINTS : UNIT_CHAIN);
    }
  }
  git_strarray_dispose(&refs);
  git_repository_free(pRepo);
  return rc;
}

/* After the first phase: each collected chain followed by its segments, in order; the
 * number of entries they hold in *pnEntries. */
static int units_split(unit_queue *q, size_t *pnEntries) {
  size_t n = 0;
  *pnEntries = 0;
  for (size_t i = 0; i < q->nUnit; i++) n += 1 + (q->aUnit[i].nLink + SEGMENT_ENTRIES - 1) / SEGMENT_ENTRIES;
  audit_unit *aNew = calloc(n, sizeof(*aNew));
  if (aNew == NULL) return FED_ERROR;
  n = 0;
  for (size_t i = 0; i < q->nUnit; i++) {
    const audit_unit *u = &q->aUnit[i];
    aNew[n++] = *u;
    for (size_t iFrom = 0; iFrom < u->nLink; iFrom += SEGMENT_ENTRIES) {
      audit_unit *pSeg = &aNew[n++];
      pSeg->eKind = UNIT_SEGMENT;
      pSeg->iLog = u->iLog;
      pSeg->zRef = u->zRef;
      pSeg->aLink = u->aLink;
      pSeg->nLink = u->nLink;
      pSeg->iFrom = iFrom;
      pSeg->iTo = iFrom + SEGMENT_ENTRIES < u->nLink ? iFrom + SEGMENT_ENTRIES : u->nLink;
    }
    *pnEntries += u->nLink;
  }
  free(q->aUnit);
  q->aUnit = aNew;
  q->nUnit = n;
  return FED_OK;
}

/* Hand the units' findings over in order; the number of findings. */
static int units_emit(fed_audit *a, audit_unit *aUnit, size_t nUnit) {
  int n = 0;
  for (size_t i = 0; i < nUnit; i++) {
    audit_unit *u = &aUnit[i];
    a->nEntries += u->nEntries;
    for (size_t k = 0; k < u->nFinding; k++) {
      finding_rec *p = &u->aFinding[k];
      audit_emit(a, p->zCode, u->iLog, p->zOrigin, p->iSeq, p->zCommit, p->zMessage);
      n++;
    }
  }
  return n;
}

static void units_free(audit_unit *aUnit, size_t nUnit) {
  for (size_t i = 0; i < nUnit; i++) {
    for (size_t k = 0; k < aUnit[i].nFinding; k++) {
      free(aUnit[i].aFinding[k].zOrigin);
      free(aUnit[i].aFinding[k].zMessage);
    }
    free(aUnit[i].aFinding);
    if (aUnit[i].eKind == UNIT_SEGMENT) continue; /* the rest is its chain's */
    free(aUnit[i].zRef);
    free(aUnit[i].aLink);
  }
  free(aUnit);
}

/* Both phases: chains collected (and checkpoints checked), then their entries. */
static int units_run_all(unit_queue *q) {
  size_t nEntries = 0;
  int rc = units_run(q);
  for (size_t i = 0; rc == FED_OK && i < q->nUnit; i++) {
    if (q->aUnit[i].rc != FED_OK) rc = FED_ERROR;
  }
  if (rc == FED_OK) rc = units_split(q, &nEntries);
  if (rc == FED_OK) {
    pthread_mutex_lock(&q->a->mu);
    rc = seen_reserve(q->a, nEntries); /* once, rather than while the threads wait on it */
    pthread_mutex_unlock(&q->a->mu);
  }
  q->bSegments = 1;
  if (rc == FED_OK) rc = units_run(q);
  return rc;
}

int fed_audit_logs(fed_audit *a, const char *const *azLog, const char *const *azGitDir, size_t n) {
  int rc = FED_OK;
  unit_queue q;
  size_t iLogBase = a->nLog;
  memset(&q, 0, sizeof(q));
  if (a->nLog + n > FED_AUDIT_LOGS_MAX) {
    return fed_error_set(FED_EINVALID, "%zu logs: one audit checks at most %d", a->nLog + n, FED_AUDIT_LOGS_MAX);
  }
  for (size_t i = 0; i < n; i++) {
    if (strlist_add(&a->azLog, &a->nLog, azLog[i]) < 0) return fed_error_set(FED_ERROR, "out of memory");
  }
  for (size_t i = 0; rc == FED_OK && i < n; i++) rc = units_of_log(&q.aUnit, &q.nUnit, iLogBase + i, azGitDir[i]);
  if (rc == FED_OK) {
    q.a = a;
    q.azGitDir = azGitDir;
    q.iLogBase = iLogBase;
    if (pthread_mutex_init(&q.mu, NULL) != 0 || pthread_cond_init(&q.done, NULL) != 0) {
      units_free(q.aUnit, q.nUnit);
      return fed_error_set(FED_ERROR, "cannot create a mutex");
    }
    rc = units_run_all(&q);
    pthread_cond_destroy(&q.done);
    pthread_mutex_destroy(&q.mu);
  }
  for (size_t i = 0; rc == FED_OK && i < q.nUnit; i++) {
    if (q.aUnit[i].rc != FED_OK) rc = FED_ERROR;
  }
  int nFound = rc == FED_OK ? units_emit(a, q.aUnit, q.nUnit) : 0;
  units_free(q.aUnit, q.nUnit);
  if (rc != FED_OK) return fed_error_set(FED_ERROR, "out of memory");
  return nFound;
}

int fed_audit_log(fed_audit *a, const char *zLog, const char *zGitDir) {
  return fed_audit_logs(a, &zLog, &zGitDir, 1);
}

/* ---- what only the logs together show --------------------------------------------- */

static int lowest_log(uint64_t m) {
  return m ? __builtin_ctzll(m) : -1;
}

/* The labels of the logs in m, ", "-separated, into zOut. */
static void logs_describe(char *zOut, size_t nOut, const fed_audit *a, uint64_t m) {
  size_t n = 0;
  zOut[0] = 0;
  for (size_t i = 0; i < a->nLog && n + 1 < nOut; i++) {
    if (!(m & ((uint64_t)1 << i))) continue;
    int k = snprintf(zOut + n, nOut - n, "%s%s", n ? ", " : "", a->azLog[i]);
    if (k < 0) break;
    n += (size_t)k;
  }
}

/* One entry of a slot: the first seen (iAlt -1) or an alternative. */
typedef struct variant {
  const char *aHash;
  uint64_t mLogs;
} variant;

static size_t slot_variants(variant *aOut, size_t nMax, const fed_audit *a, const seen_slot *p) {
  size_t n = 0;
  aOut[n++] = (variant){p->aHash, p->mLogs};
  for (long i = p->iAlt; i >= 0 && n < nMax; i = a->aAlt[i].iNext) aOut[n++] = (variant){a->aAlt[i].aHash, a->aAlt[i].mLogs};
  return n;
}

static int equiv_cmp(const void *pA, const void *pB, void *pAudit) {
  const equiv_key *x = pA, *y = pB;
  const fed_audit *a = pAudit;
  int c = strcmp(a->azOrigin[x->iOrigin - 1], a->azOrigin[y->iOrigin - 1]);
  return c ? c : x->iSeq < y->iSeq ? -1 : x->iSeq > y->iSeq;
}

#define VARIANTS_MAX 64

/* Every log holding another entry than the log that comes first holds. */
static int equivocation_report(fed_audit *a) {
  int n = 0;
  variant aVar[VARIANTS_MAX];
  if (a->nEquiv > 1) qsort_r(a->aEquiv, a->nEquiv, sizeof(equiv_key), equiv_cmp, a);
  for (size_t i = 0; i < a->nEquiv; i++) {
    const seen_slot *p = seen_find(a, a->aEquiv[i].iOrigin, a->aEquiv[i].iSeq);
    const char *zOrigin = a->azOrigin[p->iOrigin - 1];
    size_t nVar = slot_variants(aVar, VARIANTS_MAX, a, p), iRef = 0;
    for (size_t v = 1; v < nVar; v++) {
      if (lowest_log(aVar[v].mLogs) < lowest_log(aVar[iRef].mLogs)) iRef = v;
    }
    int iRefLog = lowest_log(aVar[iRef].mLogs);
    for (size_t v = 0; v < nVar; v++) {
      if (v == iRef) continue;
      for (size_t iLog = 0; iLog < a->nLog; iLog++) {
        char zMessage[400];
        if (!(aVar[v].mLogs & ((uint64_t)1 << iLog))) continue;
        snprintf(zMessage, sizeof(zMessage),
                 "equivocation: log %s holds a different entry %s/%lld (entry.json %.16s…, here %.16s…)",
                 a->azLog[iRefLog], zOrigin, p->iSeq, aVar[iRef].aHash, aVar[v].aHash);
        audit_emit(a, "equivocation", iLog, zOrigin, p->iSeq, "", zMessage);
        n++;
      }
    }
  }
  return n;
}

static int checkpoint_cmp(const void *pA, const void *pB) {
  const checkpoint_rec *x = pA, *y = pB;
  int c = strcmp(x->c.zNode, y->c.zNode);
  if (c == 0) c = x->c.tTs < y->c.tTs ? -1 : x->c.tTs > y->c.tTs;
  return c ? c : strcmp(x->aHash, y->aHash);
}

/* Every head of every checkpoint against every copy holding that (origin, seq). */
static int checkpoint_mismatch_report(fed_audit *a) {
  int n = 0;
  variant aVar[VARIANTS_MAX];
  if (a->nCkpt > 1) qsort(a->aCkpt, a->nCkpt, sizeof(checkpoint_rec), checkpoint_cmp);
  for (size_t i = 0; i < a->nCkpt; i++) {
    const checkpoint_rec *pC = &a->aCkpt[i];
    char zTs[FED_RFC3339_SIZE];
    fed_rfc3339_format(zTs, pC->c.tTs);
    for (size_t h = 0; h < pC->c.nHead; h++) {
      const fed_checkpoint_head *pH = &pC->c.aHead[h];
      const seen_slot *p = seen_lookup(a, pH->zOrigin, pH->iSeq);
      if (p == NULL) continue; /* no copy holds it (yet): nothing to compare */
      size_t nVar = slot_variants(aVar, VARIANTS_MAX, a, p);
      for (size_t v = 0; v < nVar; v++) {
        char zMessage[600], zLogs[300];
        if (memcmp(aVar[v].aHash, pH->zHash, HASH_HEX) == 0) continue;
        logs_describe(zLogs, sizeof(zLogs), a, aVar[v].mLogs);
        snprintf(zMessage, sizeof(zMessage),
                 "the checkpoint of node %s at %s (in log %s) names entry.json %.16s… for %s/%lld; "
                 "log %s holds %.16s…",
                 pC->c.zNode, zTs, a->azLog[pC->iLog], pH->zHash, pH->zOrigin, pH->iSeq, zLogs, aVar[v].aHash);
        audit_emit(a, "checkpoint_mismatch", (size_t)lowest_log(aVar[v].mLogs), pH->zOrigin, pH->iSeq, pC->zCommit,
                   zMessage);
        n++;
      }
    }
  }
  return n;
}

/* A finding of the rules, placed in the first log holding its entry (callers hold a->mu). */
static void rule_report(const char *zCode, const char *zOrigin, long long iSeq, const char *zMessage, void *payload) {
  fed_audit *a = payload;
  const seen_slot *p = seen_lookup(a, zOrigin, iSeq);
  int iLog = p ? lowest_log(p->mLogs) : -1;
  audit_emit(a, zCode, iLog < 0 ? 0 : (size_t)iLog, zOrigin, iSeq, "", zMessage);
}

int fed_audit_finish(fed_audit *a) {
  int n = 0, nRules;
  if (a->bFinished) return 0;
  a->bFinished = 1;
  pthread_mutex_lock(&a->mu);
  n = equivocation_report(a);
  n += checkpoint_mismatch_report(a);
  nRules = a->nLog == 0 ? 0 : fed_rules_judge(a->pRules, time(NULL), a->nInFlightSecs,
                                               origin_index(a, FED_REGISTRAR, 0) != 0, rule_report, a);
  pthread_mutex_unlock(&a->mu);
  return nRules < 0 ? fed_error_set(FED_ERROR, "out of memory") : n + nRules;
}
