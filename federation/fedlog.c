/* fedlog.c - the signed log store: checked batches, one in-memory pack each, refs moved
 * by compare-and-swap (see fedlog.h). */
#include "fedlog.h"
#include "checkpoint.h"
#include "entry.h"
#include "fedlog_pack.h"
#include "fed_error.h"
#include "fed_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define REF_PREFIX "refs/fed/"
#define LOCK_NAME "fedlog.lock"
#define COMMIT_IDENT "zc-fedlog <fedlog@zhicheng.invalid>"
#define PACKS_SLACK 8 /* packs written since the last consolidation that trigger the next */

struct fedlog {
  git_repository *pRepo;
  git_odb *pOdb;
  char *zGitDir;
  size_t nPacks;      /* packs in objects/pack, as far as this handle knows */
  size_t nPacksBase;  /* ... after the last consolidation */
  const fed_manifest *m;
  int fdLock;
  int bGitInit;
};

static const char *git_message(void) {
  const git_error *e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

static int git_fail(const char *zWhat) {
  return fed_error_set(FED_ERROR, "%s: %s", zWhat, git_message());
}

/* ---- opening ---------------------------------------------------------------------- */

/* Remove what a writer killed mid-way leaves behind: ref lock files (which would refuse
 * every later update of that ref) and the indexer's temporary packs. Only ever called
 * under the writer's lock, so no live writer owns them. */
static void remove_stale_files(const char *zGitDir, const char *zSub, const char *zPrefix, const char *zSuffix) {
  char zDir[4096];
  DIR *pDir;
  struct dirent *d;
  snprintf(zDir, sizeof(zDir), "%s/%s", zGitDir, zSub);
  pDir = opendir(zDir);
  if (pDir == NULL) return;
  while ((d = readdir(pDir)) != NULL) {
    size_t nName = strlen(d->d_name), nSuffix = strlen(zSuffix);
    if (strncmp(d->d_name, zPrefix, strlen(zPrefix)) != 0) continue;
    if (nName < nSuffix || strcmp(d->d_name + nName - nSuffix, zSuffix) != 0) continue;
    unlinkat(dirfd(pDir), d->d_name, 0);
  }
  closedir(pDir);
}

static int lock_take(fedlog *l, const char *zGitDir) {
  char zPath[4096];
  snprintf(zPath, sizeof(zPath), "%s/%s", zGitDir, LOCK_NAME);
  l->fdLock = open(zPath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (l->fdLock < 0) return fed_error_set(FED_ERROR, "%s: %s", zPath, strerror(errno));
  if (flock(l->fdLock, LOCK_EX | LOCK_NB) != 0) {
    int bBusy = errno == EWOULDBLOCK;
    return fed_error_set(bBusy ? FED_EEXISTS : FED_ERROR, "%s: %s", zPath,
                         bBusy ? "the log is open for writing elsewhere" : strerror(errno));
  }
  remove_stale_files(zGitDir, ".", "HEAD", ".lock");   /* an interrupted init */
  remove_stale_files(zGitDir, ".", "config", ".lock");
  remove_stale_files(zGitDir, "refs/fed", "", ".lock");
  remove_stale_files(zGitDir, "objects/pack", "pack_git2_", "");
  remove_stale_files(zGitDir, "objects/pack", "pack-", ".lock");
  fedlog_pack_remove_orphans(zGitDir);
  return FED_OK;
}

/* (Re)open the repository and its object database: after a consolidation the removed
 * packs must be forgotten. */
static int repo_open(fedlog *l) {
  git_odb_free(l->pOdb);
  git_repository_free(l->pRepo);
  l->pOdb = NULL;
  l->pRepo = NULL;
  if (git_repository_open_bare(&l->pRepo, l->zGitDir) != 0) {
    return fed_error_wrap(git_fail("cannot open the log"), "%s", l->zGitDir);
  }
  if (git_repository_odb(&l->pOdb, l->pRepo) != 0) return git_fail("the log's object database");
  return FED_OK;
}

void fedlog_set_manifest(fedlog *log, const fed_manifest *m) { log->m = m; }

int fedlog_open(fedlog **out, const char *zGitDir, const fed_manifest *m, const fedlog_options *opts) {
  int rc = FED_OK;
  fedlog *l = calloc(1, sizeof(*l));
  *out = NULL;
  if (l == NULL) return fed_error_set(FED_ERROR, "out of memory");
  l->fdLock = -1;
  l->m = m;
  if (git_libgit2_init() < 0) {
    rc = git_fail("libgit2");
    goto done;
  }
  l->bGitInit = 1;
  if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, opts && opts->bNoFsync ? 0 : 1) < 0) {
    rc = git_fail("libgit2 fsync option");
    goto done;
  }
  l->zGitDir = strdup(zGitDir);
  if (l->zGitDir == NULL) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  /* The writer's lock first: then whatever a writer killed mid-way left behind, even in
   * the middle of creating the repository, is its own to clear. */
  rc = fed_file_mkdir_p(zGitDir, 0755); /* as git makes it: readable by auditors */
  if (rc == FED_OK) rc = lock_take(l, zGitDir);
  if (rc != FED_OK) goto done;
  if (git_repository_open_bare(&l->pRepo, zGitDir) != 0 && git_repository_init(&l->pRepo, zGitDir, 1) != 0) {
    rc = fed_error_wrap(git_fail("cannot open or create the log"), "%s", zGitDir);
    goto done;
  }
  git_repository_free(l->pRepo);
  l->pRepo = NULL;
  rc = repo_open(l);
  if (rc == FED_OK) rc = fedlog_pack_count(&l->nPacks, zGitDir);
  if (rc != FED_OK) goto done;
  l->nPacksBase = l->nPacks;
  *out = l;
  l = NULL;
done:
  fedlog_close(l);
  return rc;
}

void fedlog_close(fedlog *l) {
  if (l == NULL) return;
  git_odb_free(l->pOdb);
  git_repository_free(l->pRepo);
  if (l->fdLock >= 0) close(l->fdLock); /* releases the flock */
  if (l->bGitInit) git_libgit2_shutdown();
  free(l->zGitDir);
  free(l);
}

void fed_log_append_result_dispose(fed_log_append_result *r) {
  if (r == NULL) return;
  free(r->zHeld);
  r->zHeld = NULL;
  r->nHeld = 0;
}

/* ---- reading entries out of commits ---------------------------------------------- */

static int ref_name(char *zOut, size_t nOut, const char *zOrigin) {
  if (zOrigin == NULL || !fed_manifest_id_valid(zOrigin)) {
    return fed_error_set(FED_EINVALID, "\"%.40s\" is not a node id", zOrigin ? zOrigin : "(null)");
  }
  snprintf(zOut, nOut, REF_PREFIX "%s", zOrigin);
  return FED_OK;
}

/* One stored entry: its blobs (owned) and its commit's parent. */
typedef struct stored_entry {
  git_blob *pJson;
  git_blob *pSig;
  git_oid parent;
  int bHasParent;
} stored_entry;

static void stored_entry_free(stored_entry *p) {
  git_blob_free(p->pJson);
  git_blob_free(p->pSig);
  memset(p, 0, sizeof(*p));
}

static int tree_blob(git_blob **out, git_repository *pRepo, git_tree *pTree, const char *zName) {
  const git_tree_entry *e = git_tree_entry_byname(pTree, zName);
  if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
    return fed_error_set(FED_ERROR, "the log is damaged: a tree without %s", zName);
  }
  if (git_blob_lookup(out, pRepo, git_tree_entry_id(e)) != 0) return git_fail(zName);
  return FED_OK;
}

/* Read the entry of commit *pOid, or only its parent when bParentOnly. */
static int stored_entry_read(stored_entry *out, fedlog *l, const git_oid *pOid, int bParentOnly) {
  int rc = FED_OK;
  git_commit *pCommit = NULL;
  git_tree *pTree = NULL;
  memset(out, 0, sizeof(*out));
  if (git_commit_lookup(&pCommit, l->pRepo, pOid) != 0) {
    rc = git_fail("cannot read an entry's commit");
    goto done;
  }
  out->bHasParent = git_commit_parentcount(pCommit) > 0;
  if (out->bHasParent) out->parent = *git_commit_parent_id(pCommit, 0);
  if (bParentOnly) goto done;
  if (git_commit_tree(&pTree, pCommit) != 0) {
    rc = git_fail("cannot read an entry's tree");
    goto done;
  }
  rc = tree_blob(&out->pJson, l->pRepo, pTree, "entry.json");
  if (rc == FED_OK) rc = tree_blob(&out->pSig, l->pRepo, pTree, "entry.sig");
  if (rc == FED_OK && git_blob_rawsize(out->pSig) != FED_SIG_SIZE) {
    rc = fed_error_set(FED_ERROR, "the log is damaged: an entry.sig of %lld bytes",
                       (long long)git_blob_rawsize(out->pSig));
  }
done:
  if (rc != FED_OK) stored_entry_free(out);
  git_tree_free(pTree);
  git_commit_free(pCommit);
  return rc;
}

static void stored_entry_view(fed_log_entry *out, const stored_entry *p) {
  out->zJson = git_blob_rawcontent(p->pJson);
  out->nJson = (size_t)git_blob_rawsize(p->pJson);
  out->aSig = git_blob_rawcontent(p->pSig);
}

/* The "seq" of entry.json bytes, or 0 when they do not say. */
static long long entry_seq(const char *zJson, size_t nJson) {
  json_t *v = json_loadb(zJson, nJson, JSON_ALLOW_NUL, NULL);
  json_t *pSeq = json_object_get(v, "seq");
  long long iSeq = json_is_integer(pSeq) ? (long long)json_integer_value(pSeq) : 0;
  json_decref(v);
  return iSeq;
}

/* The head, and its commit in *pTip (zeroed when there is none). */
static int head_read(fed_log_head *out, git_oid *pTip, fedlog *l, const char *zRef) {
  int rc = FED_OK;
  stored_entry e;
  fed_log_entry v;
  memset(out, 0, sizeof(*out));
  memset(pTip, 0, sizeof(*pTip));
  if (l->pRepo == NULL && (rc = repo_open(l)) != FED_OK) return rc; /* a reopen after a merge failed */
  int rcGit = git_reference_name_to_id(pTip, l->pRepo, zRef);
  if (rcGit == GIT_ENOTFOUND) return FED_OK;
  if (rcGit != 0) return git_fail(zRef);
  rc = stored_entry_read(&e, l, pTip, 0);
  if (rc != FED_OK) return rc;
  stored_entry_view(&v, &e);
  out->iSeq = entry_seq(v.zJson, v.nJson);
  fed_sha256_hex(out->zHash, v.zJson, v.nJson);
  git_oid_tostr(out->zCommit, sizeof(out->zCommit), pTip);
  stored_entry_free(&e);
  if (out->iSeq <= 0) rc = fed_error_set(FED_ERROR, "the log is damaged: the head of %s has no seq", zRef);
  return rc;
}

int fedlog_head(fed_log_head *out, fedlog *l, const char *zOrigin) {
  char zRef[64];
  git_oid tip;
  memset(out, 0, sizeof(*out));
  int rc = ref_name(zRef, sizeof(zRef), zOrigin);
  if (rc == FED_OK) rc = head_read(out, &tip, l, zRef);
  return rc;
}

/* Step *pOid back nSteps commits along first parents. */
static int chain_back(git_oid *pOid, fedlog *l, long long nSteps) {
  for (long long i = 0; i < nSteps; i++) {
    stored_entry e;
    int rc = stored_entry_read(&e, l, pOid, 1);
    if (rc != FED_OK) return rc;
    if (!e.bHasParent) return fed_error_set(FED_ERROR, "the log is damaged: the chain ends early");
    *pOid = e.parent;
  }
  return FED_OK;
}

/* ---- the pack of a batch --------------------------------------------------------- */

/* The four objects of one entry; its commit's id in *pCommit. pParent NULL: the first. */
static int pack_entry(git_oid *pCommit, fedlog_pack *p, const fed_log_entry *e, const char *zOrigin, long long iSeq,
                      time_t tTs, const git_oid *pParent) {
  int rc;
  git_oid idJson, idSig, idTree;
  unsigned char aTree[2 * (sizeof("100644 entry.json") + GIT_OID_RAWSZ)];
  size_t nTree = 0;
  char zCommit[512], zTree[GIT_OID_HEXSZ + 1], zParent[GIT_OID_HEXSZ + 1];
  int nCommit;
  rc = fedlog_pack_object(&idJson, p, GIT_OBJECT_BLOB, e->zJson, e->nJson);
  if (rc == FED_OK) rc = fedlog_pack_object(&idSig, p, GIT_OBJECT_BLOB, e->aSig, FED_SIG_SIZE);
  if (rc != FED_OK) return rc;
  /* a tree's entries are sorted by name: entry.json before entry.sig */
  memcpy(aTree + nTree, "100644 entry.json", sizeof("100644 entry.json"));
  nTree += sizeof("100644 entry.json");
  memcpy(aTree + nTree, idJson.id, GIT_OID_RAWSZ);
  nTree += GIT_OID_RAWSZ;
  memcpy(aTree + nTree, "100644 entry.sig", sizeof("100644 entry.sig"));
  nTree += sizeof("100644 entry.sig");
  memcpy(aTree + nTree, idSig.id, GIT_OID_RAWSZ);
  nTree += GIT_OID_RAWSZ;
  rc = fedlog_pack_object(&idTree, p, GIT_OBJECT_TREE, aTree, nTree);
  if (rc != FED_OK) return rc;
  git_oid_tostr(zTree, sizeof(zTree), &idTree);
  if (pParent) git_oid_tostr(zParent, sizeof(zParent), pParent);
  nCommit = snprintf(zCommit, sizeof(zCommit),
                     "tree %s\n%s%s%sauthor " COMMIT_IDENT " %lld +0000\ncommitter " COMMIT_IDENT
                     " %lld +0000\n\n%s/%lld\n",
                     zTree, pParent ? "parent " : "", pParent ? zParent : "", pParent ? "\n" : "", (long long)tTs,
                     (long long)tTs, zOrigin, iSeq);
  if (nCommit < 0 || (size_t)nCommit >= sizeof(zCommit)) return fed_error_set(FED_ERROR, "commit text too long");
  return fedlog_pack_object(pCommit, p, GIT_OBJECT_COMMIT, zCommit, (size_t)nCommit);
}

/* ---- appending -------------------------------------------------------------------- */

static int refuse(fed_log_append_result *r, size_t iEntry, int rc) {
  r->iEntry = iEntry;
  return fed_error_wrap(rc, "entry %zu of the batch", iEntry);
}

/* Keep the entry held at iSeq beside the different one offered (hashed zOfferedHash). */
static int evidence_keep(fed_log_append_result *r, const fed_log_entry *pHeld, const char *zOrigin, long long iSeq,
                         const char *zOfferedHash) {
  char zHeldHash[FED_SHA256_HEX_SIZE];
  r->zHeld = malloc(pHeld->nJson + 1);
  if (r->zHeld == NULL) return fed_error_set(FED_ERROR, "out of memory");
  memcpy(r->zHeld, pHeld->zJson, pHeld->nJson);
  r->zHeld[pHeld->nJson] = 0;
  r->nHeld = pHeld->nJson;
  memcpy(r->aHeld, pHeld->aSig, FED_SIG_SIZE);
  r->iSeq = iSeq;
  fed_sha256_hex(zHeldHash, pHeld->zJson, pHeld->nJson);
  return fed_error_set(FED_EEQUIVOCATION, "equivocation: %s/%lld is held as entry.json %.16s…, offered as %.16s…",
                       zOrigin, iSeq, zHeldHash, zOfferedHash);
}

/* The offered a[0..n) at seqs iFirst.. that the log already holds (iFirst + n - 1 <= head):
 * each the same bytes, or refused; a validly signed different one is equivocation. */
static int compare_held(fedlog *l, const char *zOrigin, const git_oid *pTip, long long iHead, long long iFirst,
                        const fed_log_entry *a, size_t n, fed_log_append_result *r) {
  int rc;
  git_oid oid = *pTip;
  long long iSeq = iFirst + (long long)n - 1;
  rc = chain_back(&oid, l, iHead - iSeq);
  for (; rc == FED_OK && iSeq >= iFirst; iSeq--) {
    stored_entry e;
    fed_log_entry held;
    const fed_log_entry *pNew = &a[iSeq - iFirst];
    rc = stored_entry_read(&e, l, &oid, 0);
    if (rc != FED_OK) break;
    stored_entry_view(&held, &e);
    if (held.nJson == pNew->nJson && memcmp(held.zJson, pNew->zJson, held.nJson) == 0) {
      r->nPresent++;
    } else {
      /* prev is left unchecked: two signed entries for one seq are evidence whatever they chain to */
      fed_entry_expect x = {zOrigin, iSeq, NULL, l->m, 0, NULL, 0};
      fed_entry_facts facts;
      rc = fed_entry_validate(&facts, &x, pNew->zJson, pNew->nJson, pNew->aSig, FED_SIG_SIZE);
      if (rc == FED_OK) rc = evidence_keep(r, &held, zOrigin, iSeq, facts.zHash);
      if (rc != FED_OK) rc = refuse(r, (size_t)(iSeq - iFirst), rc);
    }
    oid = e.parent;
    stored_entry_free(&e);
  }
  return rc;
}

/* Checks of a[iFrom..iTo) of a batch whose a[0] is seq iFirstSeq, run on any thread:
 * each entry's prev is the hash of the one before it (zPrev for a[iFrom]). */
typedef struct validate_job {
  const fedlog *l;
  const char *zOrigin;
  const fed_log_entry *a;
  size_t iFrom, iTo;
  long long iFirstSeq;
  char zPrev[FED_SHA256_HEX_SIZE];
  fed_entry_facts *aFacts;  /* aFacts[i] for a[i] */
  size_t iBad;              /* the first entry refused (when rc != FED_OK) */
  int rc;
  char zMessage[512];       /* its reason: fed_last_error() is per thread */
} validate_job;

static void *validate_range(void *pArg) {
  validate_job *j = pArg;
  const char *zPrev = j->zPrev;
  fed_verifier_set *pVerifiers = fed_verifier_set_new(); /* NULL: plain checks */
  j->rc = FED_OK;
  for (size_t i = j->iFrom; i < j->iTo; i++) {
    fed_entry_expect x = {j->zOrigin, j->iFirstSeq + (long long)i, zPrev, j->l->m, j->a[i].bSignedHere, pVerifiers, 0};
    j->rc = fed_entry_validate(&j->aFacts[i], &x, j->a[i].zJson, j->a[i].nJson, j->a[i].aSig, FED_SIG_SIZE);
    if (j->rc != FED_OK) {
      j->iBad = i;
      snprintf(j->zMessage, sizeof(j->zMessage), "%s", fed_last_error());
      break;
    }
    zPrev = j->aFacts[i].zHash;
  }
  fed_verifier_set_free(pVerifiers);
  return NULL;
}

/* Threads for the signature checks of one batch: Ed25519 verification is what bounds an
 * append, and entries verify independently. Small batches stay on the caller's thread. */
#define VALIDATE_THREADS_MAX 4
#define VALIDATE_MIN_PER_THREAD 64

static size_t validate_thread_count(size_t n) {
  long nCpu = sysconf(_SC_NPROCESSORS_ONLN);
  size_t nThread = nCpu < 1 ? 1 : nCpu > VALIDATE_THREADS_MAX ? VALIDATE_THREADS_MAX : (size_t)nCpu;
  while (nThread > 1 && n / nThread < VALIDATE_MIN_PER_THREAD) nThread--;
  return nThread;
}

/* Check a[0..n) as the continuation of the head (seq iHead, hash zHeadHash): 0 with every
 * entry's facts in aFacts, or the first refusal (its index in *piBad). */
static int validate_batch(fed_entry_facts *aFacts, size_t *piBad, const fedlog *l, const char *zOrigin,
                          long long iHead, const char *zHeadHash, const fed_log_entry *a, size_t n) {
  validate_job aJob[VALIDATE_THREADS_MAX];
  pthread_t aThread[VALIDATE_THREADS_MAX];
  int abStarted[VALIDATE_THREADS_MAX] = {0};
  size_t nThread = validate_thread_count(n);
  for (size_t t = 0; t < nThread; t++) {
    validate_job *j = &aJob[t];
    memset(j, 0, sizeof(*j));
    j->l = l;
    j->zOrigin = zOrigin;
    j->a = a;
    j->iFrom = n * t / nThread;
    j->iTo = n * (t + 1) / nThread;
    j->iFirstSeq = iHead + 1;
    j->aFacts = aFacts;
    if (j->iFrom == 0) snprintf(j->zPrev, sizeof(j->zPrev), "%s", zHeadHash);
    else fed_sha256_hex(j->zPrev, a[j->iFrom - 1].zJson, a[j->iFrom - 1].nJson);
    if (t > 0) abStarted[t] = pthread_create(&aThread[t], NULL, validate_range, j) == 0;
  }
  validate_range(&aJob[0]);
  for (size_t t = 1; t < nThread; t++) {
    if (abStarted[t]) pthread_join(aThread[t], NULL);
    else validate_range(&aJob[t]); /* no thread to be had: do it here */
  }
  for (size_t t = 0; t < nThread; t++) {
    if (aJob[t].rc != FED_OK) {
      *piBad = aJob[t].iBad;
      return fed_error_set(aJob[t].rc, "%s", aJob[t].zMessage);
    }
  }
  return FED_OK;
}

/* Check the new entries a[0..n) as the continuation of the head and pack them. */
static int pack_new_entries(git_oid *pNewTip, fedlog_pack *p, fedlog *l, const char *zOrigin, const fed_log_head *pHead,
                            const git_oid *pTip, const fed_log_entry *a, size_t n, size_t iOffset,
                            fed_log_append_result *r) {
  int rc = FED_OK;
  git_oid parent = *pTip;
  size_t iBad = 0;
  fed_entry_facts *aFacts = malloc(n * sizeof(*aFacts));
  if (aFacts == NULL) return fed_error_set(FED_ERROR, "out of memory");
  rc = validate_batch(aFacts, &iBad, l, zOrigin, pHead->iSeq, pHead->zHash, a, n);
  if (rc != FED_OK) rc = refuse(r, iOffset + iBad, rc);
  for (size_t i = 0; rc == FED_OK && i < n; i++) {
    rc = pack_entry(pNewTip, p, &a[i], zOrigin, pHead->iSeq + 1 + (long long)i, aFacts[i].tTs,
                    i > 0 || pHead->iSeq > 0 ? &parent : NULL);
    parent = *pNewTip;
  }
  free(aFacts);
  return rc;
}

/* Move zRef from *pOld (all zero: absent) to *pNew, or FED_ECONFLICT when it moved. */
static int ref_swap(fedlog *l, const char *zRef, const git_oid *pOld, int bHadOld, const git_oid *pNew) {
  git_reference *pRef = NULL;
  int rcGit = bHadOld ? git_reference_create_matching(&pRef, l->pRepo, zRef, pNew, 1, pOld, "fedlog: append")
                      : git_reference_create(&pRef, l->pRepo, zRef, pNew, 0, "fedlog: first entry");
  git_reference_free(pRef);
  if (rcGit == GIT_EMODIFIED || rcGit == GIT_EEXISTS || rcGit == GIT_ELOCKED) {
    return fed_error_set(FED_ECONFLICT, "%s moved while a batch was written: %s", zRef, git_message());
  }
  return rcGit == 0 ? FED_OK : git_fail(zRef);
}

/* Sizes and presence of every entry of the batch. */
static int batch_shape_check(const fed_log_entry *a, size_t n, fed_log_append_result *r) {
  if (n > FEDLOG_BATCH_MAX) return fed_error_set(FED_EINVALID, "a batch of %zu entries (at most %d)", n, FEDLOG_BATCH_MAX);
  for (size_t i = 0; i < n; i++) {
    if (a[i].zJson == NULL || a[i].aSig == NULL) {
      return refuse(r, i, fed_error_set(FED_EINVALID, "no entry.json or no entry.sig"));
    }
    if (a[i].nJson > FEDLOG_ENTRY_MAX) {
      return refuse(r, i, fed_error_set(FED_EINVALID, "entry.json of %zu bytes (at most %d)", a[i].nJson,
                                        FEDLOG_ENTRY_MAX));
    }
  }
  return FED_OK;
}

/* Every PACKS_SLACK batches, merge small packs (fedlog_pack.h): many packs slow every
 * object lookup. The batch is already visible: a failure here only postpones the merge. */
static void packs_consolidate(fedlog *l) {
  size_t nAfter = l->nPacks;
  if (l->nPacks < l->nPacksBase + PACKS_SLACK) return;
  if (fedlog_pack_consolidate(&nAfter, l->pOdb, l->zGitDir) == FED_OK && nAfter < l->nPacks) {
    if (repo_open(l) != FED_OK) return; /* the next call finds pRepo NULL and says so */
  }
  l->nPacks = nAfter;
  l->nPacksBase = nAfter;
}

int fedlog_append(fedlog *l, const char *zOrigin, const fed_log_entry *a, size_t n, fed_log_append_result *r) {
  int rc = FED_OK;
  fed_log_append_result rLocal;
  char zRef[64];
  fed_log_head head = {0};
  git_oid tip, newTip;
  fedlog_pack pack = {0};
  char zPack[FEDLOG_PACK_NAME_SIZE];
  long long iFirst;
  size_t nHeld = 0;
  if (r == NULL) r = &rLocal;
  memset(r, 0, sizeof(*r));
  rc = ref_name(zRef, sizeof(zRef), zOrigin);
  if (rc == FED_OK) rc = batch_shape_check(a, n, r);
  if (rc == FED_OK) rc = head_read(&head, &tip, l, zRef);
  if (rc != FED_OK || n == 0) goto done;
  iFirst = entry_seq(a[0].zJson, a[0].nJson);
  if (iFirst >= 1 && iFirst <= head.iSeq) {
    nHeld = (size_t)(head.iSeq - iFirst + 1) < n ? (size_t)(head.iSeq - iFirst + 1) : n;
    rc = compare_held(l, zOrigin, &tip, head.iSeq, iFirst, a, nHeld, r);
    if (rc != FED_OK || nHeld == n) goto done;
  }
  fedlog_pack_start(&pack);
  rc = pack_new_entries(&newTip, &pack, l, zOrigin, &head, &tip, a + nHeld, n - nHeld, nHeld, r);
  if (rc == FED_OK) rc = fedlog_pack_write(zPack, l->pOdb, &pack);
  if (rc == FED_OK) l->nPacks++;
  if (rc == FED_OK) rc = ref_swap(l, zRef, &tip, head.iSeq > 0, &newTip);
  if (rc == FED_OK) {
    r->nAdded = n - nHeld;
    packs_consolidate(l);
  }
done:
  fedlog_pack_free(&pack);
  if (r == &rLocal) fed_log_append_result_dispose(r);
  return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

/* Hand over the nCount entries from the commit *pTop (at seq iTop) down, oldest first. */
static int read_chunk(fedlog *l, git_oid *aOid, const git_oid *pTop, long long iTop, size_t nCount, fedlog_read_cb cb,
                      void *payload) {
  int rc = FED_OK;
  git_oid oid = *pTop;
  for (size_t i = 0; rc == FED_OK && i < nCount; i++) {
    aOid[nCount - 1 - i] = oid;
    if (i + 1 < nCount) rc = chain_back(&oid, l, 1);
  }
  for (size_t i = 0; rc == FED_OK && i < nCount; i++) {
    stored_entry e;
    fed_log_entry v;
    rc = stored_entry_read(&e, l, &aOid[i], 0);
    if (rc != FED_OK) break;
    stored_entry_view(&v, &e);
    rc = cb(&v, iTop - (long long)nCount + 1 + (long long)i, payload);
    stored_entry_free(&e);
  }
  return rc;
}

int fedlog_read(fedlog *l, const char *zOrigin, long long iFromSeq, fedlog_read_cb cb, void *payload) {
  int rc = FED_OK;
  char zRef[64];
  fed_log_head head = {0};
  git_oid tip, oid;
  git_oid *aTop = NULL;   /* the newest commit of each chunk, oldest chunk first */
  git_oid *aChunk = NULL;
  size_t nChunk;
  rc = ref_name(zRef, sizeof(zRef), zOrigin);
  if (rc == FED_OK && iFromSeq < 1) rc = fed_error_set(FED_EINVALID, "seq %lld: entries count from 1", iFromSeq);
  if (rc == FED_OK) rc = head_read(&head, &tip, l, zRef);
  if (rc != FED_OK || iFromSeq > head.iSeq) goto done;
  nChunk = (size_t)((head.iSeq - iFromSeq) / FEDLOG_READ_CHUNK) + 1;
  aTop = malloc(nChunk * sizeof(git_oid));
  aChunk = malloc(FEDLOG_READ_CHUNK * sizeof(git_oid));
  if (aTop == NULL || aChunk == NULL) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  /* walk back once, noting where each chunk starts from the top */
  oid = tip;
  for (size_t k = nChunk; rc == FED_OK && k-- > 0;) {
    long long iTop = k + 1 == nChunk ? head.iSeq : iFromSeq + (long long)(k + 1) * FEDLOG_READ_CHUNK - 1;
    aTop[k] = oid;
    if (k > 0) rc = chain_back(&oid, l, iTop - (iFromSeq + (long long)k * FEDLOG_READ_CHUNK) + 1);
  }
  for (size_t k = 0; rc == FED_OK && k < nChunk; k++) {
    long long iStart = iFromSeq + (long long)k * FEDLOG_READ_CHUNK;
    long long iTop = k + 1 == nChunk ? head.iSeq : iStart + FEDLOG_READ_CHUNK - 1;
    rc = read_chunk(l, aChunk, &aTop[k], iTop, (size_t)(iTop - iStart + 1), cb, payload);
  }
done:
  free(aChunk);
  free(aTop);
  return rc;
}

/* ---- checkpoints ------------------------------------------------------------------ */

static int checkpoint_ref_name(char *zOut, size_t nOut, const char *zNode) {
  if (zNode == NULL || !fed_manifest_id_valid(zNode)) {
    return fed_error_set(FED_EINVALID, "\"%.40s\" is not a node id", zNode ? zNode : "(null)");
  }
  snprintf(zOut, nOut, FEDLOG_CHECKPOINT_REF_PREFIX "%s", zNode);
  return FED_OK;
}

/* The checkpoint of commit *pOid: both blobs, owned by the caller. */
static int checkpoint_blobs(git_blob **ppJson, git_blob **ppSig, fedlog *l, const git_oid *pOid) {
  int rc = FED_OK;
  git_commit *pCommit = NULL;
  git_tree *pTree = NULL;
  *ppJson = *ppSig = NULL;
  if (git_commit_lookup(&pCommit, l->pRepo, pOid) != 0 || git_commit_tree(&pTree, pCommit) != 0) {
    rc = git_fail("cannot read a checkpoint's commit");
  }
  if (rc == FED_OK) rc = tree_blob(ppJson, l->pRepo, pTree, "checkpoint.json");
  if (rc == FED_OK) rc = tree_blob(ppSig, l->pRepo, pTree, "checkpoint.sig");
  if (rc != FED_OK) {
    git_blob_free(*ppJson);
    git_blob_free(*ppSig);
    *ppJson = *ppSig = NULL;
  }
  git_tree_free(pTree);
  git_commit_free(pCommit);
  return rc;
}

/* 1 when the commit *pOid holds exactly these bytes and this signature. */
static int checkpoint_same(fedlog *l, const git_oid *pOid, const char *zJson, size_t nJson, const unsigned char *aSig) {
  git_blob *pJson = NULL, *pSig = NULL;
  int bSame = checkpoint_blobs(&pJson, &pSig, l, pOid) == FED_OK && (size_t)git_blob_rawsize(pJson) == nJson &&
              memcmp(git_blob_rawcontent(pJson), zJson, nJson) == 0 && git_blob_rawsize(pSig) == FED_SIG_SIZE &&
              memcmp(git_blob_rawcontent(pSig), aSig, FED_SIG_SIZE) == 0;
  git_blob_free(pJson);
  git_blob_free(pSig);
  return bSame;
}

/* Write the checkpoint's blobs, tree and commit (parent *pParent when bParent). */
static int checkpoint_commit(git_oid *out, fedlog *l, const char *zNode, const char *zJson, size_t nJson,
                             const unsigned char *aSig, time_t tTs, const git_oid *pParent, int bParent) {
  int rc = FED_OK;
  git_oid idJson, idSig, idTree;
  git_treebuilder *pBuilder = NULL;
  git_tree *pTree = NULL;
  git_commit *pParentCommit = NULL;
  git_signature *pWho = NULL;
  char zMessage[64];
  snprintf(zMessage, sizeof(zMessage), "checkpoint %s\n", zNode);
  if (git_blob_create_from_buffer(&idJson, l->pRepo, zJson, nJson) != 0 ||
      git_blob_create_from_buffer(&idSig, l->pRepo, aSig, FED_SIG_SIZE) != 0 ||
      git_treebuilder_new(&pBuilder, l->pRepo, NULL) != 0 ||
      git_treebuilder_insert(NULL, pBuilder, "checkpoint.json", &idJson, GIT_FILEMODE_BLOB) != 0 ||
      git_treebuilder_insert(NULL, pBuilder, "checkpoint.sig", &idSig, GIT_FILEMODE_BLOB) != 0 ||
      git_treebuilder_write(&idTree, pBuilder) != 0 || git_tree_lookup(&pTree, l->pRepo, &idTree) != 0 ||
      git_signature_new(&pWho, "zc-fedlog", "fedlog@zhicheng.invalid", (git_time_t)tTs, 0) != 0 ||
      (bParent && git_commit_lookup(&pParentCommit, l->pRepo, pParent) != 0) ||
      git_commit_create(out, l->pRepo, NULL, pWho, pWho, NULL, zMessage, pTree, bParent ? 1 : 0,
                        (const git_commit **)&pParentCommit) != 0) {
    rc = git_fail("cannot write a checkpoint");
  }
  git_commit_free(pParentCommit);
  git_signature_free(pWho);
  git_tree_free(pTree);
  git_treebuilder_free(pBuilder);
  return rc;
}

int fedlog_checkpoint_put(fedlog *l, const char *zNode, const char *zJson, size_t nJson,
                          const unsigned char aSig[FED_SIG_SIZE]) {
  int rc = FED_OK;
  char zRef[64];
  git_oid tip, newTip;
  int bHadTip = 0;
  git_reference *pRef = NULL;
  fed_checkpoint c = {0};
  rc = checkpoint_ref_name(zRef, sizeof(zRef), zNode);
  if (rc == FED_OK && (zJson == NULL || aSig == NULL || nJson > FED_CHECKPOINT_MAX)) {
    rc = fed_error_set(FED_EINVALID, "no checkpoint.json or checkpoint.sig, or one over %d bytes", FED_CHECKPOINT_MAX);
  }
  if (rc == FED_OK) {
    rc = l->m ? fed_checkpoint_verify(&c, l->m, zJson, nJson, aSig, FED_SIG_SIZE) : fed_checkpoint_parse(&c, zJson, nJson);
  }
  if (rc == FED_OK && strcmp(c.zNode, zNode) != 0) {
    rc = fed_error_set(FED_EINVALID, "a checkpoint of node %s offered as %s's", c.zNode, zNode);
  }
  if (rc == FED_OK && l->pRepo == NULL) rc = repo_open(l);
  if (rc != FED_OK) goto done;
  int rcGit = git_reference_name_to_id(&tip, l->pRepo, zRef);
  if (rcGit != 0 && rcGit != GIT_ENOTFOUND) {
    rc = git_fail(zRef);
    goto done;
  }
  bHadTip = rcGit == 0;
  if (bHadTip && checkpoint_same(l, &tip, zJson, nJson, aSig)) goto done;
  rc = checkpoint_commit(&newTip, l, zNode, zJson, nJson, aSig, c.tTs, &tip, bHadTip);
  if (rc != FED_OK) goto done;
  rcGit = bHadTip ? git_reference_create_matching(&pRef, l->pRepo, zRef, &newTip, 1, &tip, "fedlog: checkpoint")
                  : git_reference_create(&pRef, l->pRepo, zRef, &newTip, 0, "fedlog: first checkpoint");
  if (rcGit == GIT_EMODIFIED || rcGit == GIT_EEXISTS || rcGit == GIT_ELOCKED) {
    rc = fed_error_set(FED_ECONFLICT, "%s moved while a checkpoint was written: %s", zRef, git_message());
  } else if (rcGit != 0) {
    rc = git_fail(zRef);
  }
done:
  git_reference_free(pRef);
  fed_checkpoint_dispose(&c);
  return rc;
}

int fedlog_checkpoint_latest(char **pzJson, size_t *pnJson, unsigned char aSig[FED_SIG_SIZE], fedlog *l,
                             const char *zNode) {
  int rc = FED_OK;
  char zRef[64];
  git_oid tip;
  git_blob *pJson = NULL, *pSig = NULL;
  *pzJson = NULL;
  *pnJson = 0;
  rc = checkpoint_ref_name(zRef, sizeof(zRef), zNode);
  if (rc == FED_OK && l->pRepo == NULL) rc = repo_open(l);
  if (rc != FED_OK) return rc;
  int rcGit = git_reference_name_to_id(&tip, l->pRepo, zRef);
  if (rcGit == GIT_ENOTFOUND) return fed_error_set(FED_ENOTFOUND, "no checkpoint of node %s", zNode);
  if (rcGit != 0) return git_fail(zRef);
  rc = checkpoint_blobs(&pJson, &pSig, l, &tip);
  if (rc == FED_OK && git_blob_rawsize(pSig) != FED_SIG_SIZE) {
    rc = fed_error_set(FED_ERROR, "the log is damaged: a checkpoint.sig of %lld bytes", (long long)git_blob_rawsize(pSig));
  }
  if (rc == FED_OK) {
    size_t n = (size_t)git_blob_rawsize(pJson);
    *pzJson = malloc(n + 1);
    if (*pzJson == NULL) {
      rc = fed_error_set(FED_ERROR, "out of memory");
    } else {
      memcpy(*pzJson, git_blob_rawcontent(pJson), n);
      (*pzJson)[n] = 0;
      *pnJson = n;
      memcpy(aSig, git_blob_rawcontent(pSig), FED_SIG_SIZE);
    }
  }
  git_blob_free(pJson);
  git_blob_free(pSig);
  return rc;
}
