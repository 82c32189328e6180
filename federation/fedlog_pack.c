/* fedlog_pack.c - in-memory undeltified packs and their geometric consolidation (see
 * fedlog_pack.h). */
#include "fedlog_pack.h"
#include "fed_error.h"
#include "fed_file.h"

#include <dirent.h>
#include <git2/sys/odb_backend.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORED_BLOCK_MAX 65535 /* bytes of one stored (uncompressed) deflate block */
#define IDX_HEADER_SIZE (8 + 256 * 4)
#define IDX_MAX ((size_t)1 << 31)
#define GEOMETRIC_FACTOR 2
/* A pack this large is left alone: copying it again and again (geometric merging of
 * everything makes each object travel log2(total) times) costs more than a few dozen
 * packs cost lookups. 16,384 objects are 4,096 entries. */
#define PACK_DONE_OBJECTS 16384

static int git_fail(const char *zWhat) {
  const git_error *e = git_error_last();
  return fed_error_set(FED_ERROR, "%s: %s", zWhat, e && e->message ? e->message : "unknown libgit2 error");
}

static void pack_put(fedlog_pack *p, const void *a, size_t n) {
  fed_buf_append(&p->b, a, n);
}

static void pack_put_be32(fedlog_pack *p, uint32_t v) {
  unsigned char a[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                        (unsigned char)v};
  pack_put(p, a, sizeof(a));
}

static uint32_t adler32(const unsigned char *a, size_t n) {
  uint32_t s1 = 1, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    s1 = (s1 + a[i]) % 65521;
    s2 = (s2 + s1) % 65521;
  }
  return (s2 << 16) | s1;
}

/* A zlib stream of a[0..n) in stored blocks: an entry is mostly a signature and hex
 * digests, nothing worth compressing, and no zlib dependency. */
static void pack_put_zlib_stored(fedlog_pack *p, const unsigned char *a, size_t n) {
  static const unsigned char aHeader[2] = {0x78, 0x01};
  size_t i = 0;
  pack_put(p, aHeader, sizeof(aHeader));
  do {
    size_t nBlock = n - i > STORED_BLOCK_MAX ? STORED_BLOCK_MAX : n - i;
    unsigned char aBlock[5] = {i + nBlock == n ? 1 : 0, (unsigned char)nBlock, (unsigned char)(nBlock >> 8),
                               (unsigned char)~nBlock, (unsigned char)(~nBlock >> 8)};
    pack_put(p, aBlock, sizeof(aBlock));
    pack_put(p, a + i, nBlock);
    i += nBlock;
  } while (i < n);
  pack_put_be32(p, adler32(a, n));
}

void fedlog_pack_start(fedlog_pack *p) {
  static const unsigned char aHeader[12] = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0};
  memset(p, 0, sizeof(*p));
  pack_put(p, aHeader, sizeof(aHeader));
}

void fedlog_pack_free(fedlog_pack *p) {
  free(p->b.a);
  memset(p, 0, sizeof(*p));
}

int fedlog_pack_object(git_oid *out, fedlog_pack *p, git_object_t type, const void *a, size_t n) {
  unsigned char aHead[16];
  size_t nHead = 0, nLeft = n >> 4;
  if (git_odb_hash(out, a, n, type) != 0) return git_fail("hashing an object");
  aHead[nHead++] = (unsigned char)(((unsigned)type << 4) | (n & 0x0F) | (nLeft ? 0x80 : 0));
  while (nLeft) {
    aHead[nHead++] = (unsigned char)((nLeft & 0x7F) | (nLeft >> 7 ? 0x80 : 0));
    nLeft >>= 7;
  }
  pack_put(p, aHead, nHead);
  pack_put_zlib_stored(p, a, n);
  p->nObjects++;
  return FED_OK;
}

int fedlog_pack_write(char zName[FEDLOG_PACK_NAME_SIZE], git_odb *pOdb, fedlog_pack *p) {
  int rc = FED_OK;
  git_odb_writepack *pWrite = NULL;
  git_indexer_progress stats;
  unsigned char aSha1[EVP_MAX_MD_SIZE];
  unsigned int nSha1 = 0;
  if (p->b.bOom) return fed_error_set(FED_ERROR, "out of memory building a pack");
  p->b.a[8] = (char)(p->nObjects >> 24);
  p->b.a[9] = (char)(p->nObjects >> 16);
  p->b.a[10] = (char)(p->nObjects >> 8);
  p->b.a[11] = (char)p->nObjects;
  if (EVP_Digest(p->b.a, p->b.n, aSha1, &nSha1, EVP_sha1(), NULL) != 1) {
    return fed_error_set(FED_ERROR, "SHA-1 of a pack failed");
  }
  pack_put(p, aSha1, nSha1);
  /* libgit2 names a pack by its checksum, the trailer */
  memcpy(zName, "pack-", 5);
  for (unsigned i = 0; i < nSha1 && i < 20; i++) snprintf(zName + 5 + 2 * i, 3, "%02x", aSha1[i]);
  if (p->b.bOom) return fed_error_set(FED_ERROR, "out of memory building a pack");
  memset(&stats, 0, sizeof(stats));
  if (git_odb_write_pack(&pWrite, pOdb, NULL, NULL) != 0 || pWrite->append(pWrite, p->b.a, p->b.n, &stats) != 0 ||
      pWrite->commit(pWrite, &stats) != 0) {
    rc = git_fail("cannot write a pack");
  }
  if (pWrite) pWrite->free(pWrite);
  return rc;
}

/* ---- consolidation ---------------------------------------------------------------- */

/* One pack on disk: "pack-<sha>" and its object count (from the .idx fan-out). */
typedef struct pack_file {
  char zName[64];
  uint32_t nObjects;
} pack_file;

static uint32_t be32(const unsigned char *a) {
  return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* Read a version 2 .idx: its object ids (malloc'd, *pn of them) or, with paOid NULL, the
 * count only. */
static int idx_read(git_oid **paOid, uint32_t *pn, const char *zPath) {
  int rc;
  char *z = NULL;
  size_t n = 0;
  const unsigned char *a;
  uint32_t nObjects;
  rc = fed_file_read(&z, &n, zPath, IDX_MAX);
  if (rc != FED_OK) return rc;
  a = (const unsigned char *)z;
  if (n < IDX_HEADER_SIZE || memcmp(a, "\377tOc\0\0\0\2", 8) != 0) {
    free(z);
    return fed_error_set(FED_ERROR, "%s: not a version 2 pack index", zPath);
  }
  nObjects = be32(a + 8 + 255 * 4);
  if ((size_t)nObjects * GIT_OID_RAWSZ > n - IDX_HEADER_SIZE) {
    free(z);
    return fed_error_set(FED_ERROR, "%s: truncated", zPath);
  }
  *pn = nObjects;
  if (paOid) {
    *paOid = malloc(((size_t)nObjects + 1) * sizeof(git_oid));
    if (*paOid == NULL) rc = fed_error_set(FED_ERROR, "out of memory");
    for (uint32_t i = 0; rc == FED_OK && i < nObjects; i++) {
      git_oid_fromraw(&(*paOid)[i], a + IDX_HEADER_SIZE + (size_t)i * GIT_OID_RAWSZ);
    }
  }
  free(z);
  return rc;
}

static int oid_cmp(const void *pA, const void *pB) {
  return git_oid_cmp(pA, pB);
}

static int pack_file_cmp(const void *pA, const void *pB) {
  const pack_file *a = pA, *b = pB;
  return (a->nObjects > b->nObjects) - (a->nObjects < b->nObjects);
}

/* The packs of zGitDir (with their counts when bCount), in *paPack. */
static int packs_list(pack_file **paPack, size_t *pn, const char *zGitDir, int bCount) {
  int rc = FED_OK;
  char zDir[4096], zPath[4096 + 2 * 256];
  DIR *pDir;
  struct dirent *d;
  pack_file *aPack = NULL;
  size_t n = 0, nAlloc = 0;
  snprintf(zDir, sizeof(zDir), "%s/objects/pack", zGitDir);
  *paPack = NULL;
  *pn = 0;
  pDir = opendir(zDir);
  if (pDir == NULL) return FED_OK;
  while (rc == FED_OK && (d = readdir(pDir)) != NULL) {
    size_t nName = strlen(d->d_name);
    if (strncmp(d->d_name, "pack-", 5) != 0 || nName < 5 || nName - 4 >= sizeof(aPack->zName) ||
        strcmp(d->d_name + nName - 4, ".idx") != 0) {
      continue;
    }
    snprintf(zPath, sizeof(zPath), "%s/%.*s.pack", zDir, (int)(nName - 4), d->d_name);
    if (access(zPath, F_OK) != 0) continue; /* an index whose pack a crash left unwritten */
    if (n == nAlloc) {
      pack_file *aNew = realloc(aPack, (nAlloc ? nAlloc * 2 : 16) * sizeof(*aPack));
      if (aNew == NULL) {
        rc = fed_error_set(FED_ERROR, "out of memory");
        break;
      }
      aPack = aNew;
      nAlloc = nAlloc ? nAlloc * 2 : 16;
    }
    snprintf(aPack[n].zName, sizeof(aPack[n].zName), "%.*s", (int)(nName - 4), d->d_name);
    aPack[n].nObjects = 0;
    if (bCount) {
      snprintf(zPath, sizeof(zPath), "%s/%s", zDir, d->d_name);
      rc = idx_read(NULL, &aPack[n].nObjects, zPath);
    }
    n++;
  }
  closedir(pDir);
  if (rc != FED_OK) {
    free(aPack);
    return rc;
  }
  *paPack = aPack;
  *pn = n;
  return FED_OK;
}

int fedlog_pack_count(size_t *out, const char *zGitDir) {
  pack_file *aPack = NULL;
  int rc = packs_list(&aPack, out, zGitDir, 0);
  free(aPack);
  return rc;
}

/* How many of the packs, smallest first, to merge so that the rest form a geometric
 * progression (each at least GEOMETRIC_FACTOR times all smaller ones together). */
static size_t geometric_split(const pack_file *aPack, size_t n) {
  size_t iSplit = 0;
  uint64_t nBelow = 0;
  for (size_t i = n; i-- > 1;) {
    if (aPack[i].nObjects < GEOMETRIC_FACTOR * (uint64_t)aPack[i - 1].nObjects) {
      iSplit = i;
      break;
    }
  }
  if (iSplit == 0) return 0;
  for (size_t i = 0; i < iSplit; i++) nBelow += aPack[i].nObjects;
  while (iSplit < n && aPack[iSplit].nObjects < GEOMETRIC_FACTOR * nBelow) nBelow += aPack[iSplit++].nObjects;
  return iSplit;
}

/* The ids of every object of the packs aPack[0..n), each once (a crash and its replay can
 * leave one object in two packs), sorted. */
static int packs_object_ids(git_oid **paOid, size_t *pn, const pack_file *aPack, size_t n, const char *zGitDir) {
  int rc = FED_OK;
  git_oid *aAll = NULL;
  size_t nAll = 0;
  for (size_t i = 0; rc == FED_OK && i < n; i++) {
    char zPath[4200];
    git_oid *aOid = NULL;
    uint32_t nOid = 0;
    snprintf(zPath, sizeof(zPath), "%s/objects/pack/%s.idx", zGitDir, aPack[i].zName);
    rc = idx_read(&aOid, &nOid, zPath);
    if (rc != FED_OK) break;
    git_oid *aNew = realloc(aAll, (nAll + nOid + 1) * sizeof(git_oid));
    if (aNew == NULL) rc = fed_error_set(FED_ERROR, "out of memory");
    else {
      aAll = aNew;
      memcpy(aAll + nAll, aOid, nOid * sizeof(git_oid));
      nAll += nOid;
    }
    free(aOid);
  }
  if (rc != FED_OK) {
    free(aAll);
    return rc;
  }
  if (nAll > 1) qsort(aAll, nAll, sizeof(git_oid), oid_cmp);
  size_t nUnique = 0;
  for (size_t i = 0; i < nAll; i++) {
    if (nUnique == 0 || git_oid_cmp(&aAll[nUnique - 1], &aAll[i]) != 0) aAll[nUnique++] = aAll[i];
  }
  *paOid = aAll;
  *pn = nUnique;
  return FED_OK;
}

/* Copy the objects aOid[0..n) into p. */
static int pack_copy_objects(fedlog_pack *p, git_odb *pOdb, const git_oid *aOid, size_t n) {
  int rc = FED_OK;
  for (size_t i = 0; rc == FED_OK && i < n; i++) {
    git_odb_object *pObject = NULL;
    if (git_odb_read(&pObject, pOdb, &aOid[i]) != 0) {
      rc = git_fail("reading an object to repack");
      break;
    }
    git_oid id;
    rc = fedlog_pack_object(&id, p, git_odb_object_type(pObject), git_odb_object_data(pObject),
                            git_odb_object_size(pObject));
    git_odb_object_free(pObject);
  }
  return rc;
}

int fedlog_pack_consolidate(size_t *pnAfter, git_odb *pOdb, const char *zGitDir) {
  int rc;
  pack_file *aPack = NULL;
  size_t n = 0, nSmall = 0, nMerge, nOid = 0;
  git_oid *aOid = NULL;
  char zNew[FEDLOG_PACK_NAME_SIZE];
  fedlog_pack pack;
  fedlog_pack_start(&pack);
  rc = packs_list(&aPack, &n, zGitDir, 1);
  if (rc != FED_OK) goto done;
  qsort(aPack, n, sizeof(*aPack), pack_file_cmp);
  while (nSmall < n && aPack[nSmall].nObjects < PACK_DONE_OBJECTS) nSmall++;
  nMerge = geometric_split(aPack, nSmall);
  *pnAfter = n;
  if (nMerge < 2) goto done;
  rc = packs_object_ids(&aOid, &nOid, aPack, nMerge, zGitDir);
  if (rc == FED_OK) rc = pack_copy_objects(&pack, pOdb, aOid, nOid);
  if (rc == FED_OK) rc = fedlog_pack_write(zNew, pOdb, &pack);
  if (rc != FED_OK) goto done;
  /* the merged pack is on disk (and synced): only now may the ones it replaces go */
  for (size_t i = 0; i < nMerge; i++) {
    char zPath[4200];
    if (strcmp(aPack[i].zName, zNew) == 0) continue; /* the same objects packed the same way */
    /* the index first: a pack without one is invisible to git and libgit2 alike */
    snprintf(zPath, sizeof(zPath), "%s/objects/pack/%s.idx", zGitDir, aPack[i].zName);
    unlink(zPath);
    snprintf(zPath, sizeof(zPath), "%s/objects/pack/%s.pack", zGitDir, aPack[i].zName);
    unlink(zPath);
  }
  *pnAfter = n - nMerge + 1;
done:
  fedlog_pack_free(&pack);
  free(aOid);
  free(aPack);
  return rc;
}

/* 1 when zDir/zName with its extension replaced by zOther exists. */
static int sibling_exists(const char *zDir, const char *zName, size_t nStem, const char *zOther) {
  char zPath[4096 + 2 * 256];
  snprintf(zPath, sizeof(zPath), "%s/%.*s%s", zDir, (int)nStem, zName, zOther);
  return access(zPath, F_OK) == 0;
}

void fedlog_pack_remove_orphans(const char *zGitDir) {
  char zDir[4096];
  DIR *pDir;
  struct dirent *d;
  snprintf(zDir, sizeof(zDir), "%s/objects/pack", zGitDir);
  pDir = opendir(zDir);
  if (pDir == NULL) return;
  while ((d = readdir(pDir)) != NULL) {
    size_t n = strlen(d->d_name);
    if (strncmp(d->d_name, "pack-", 5) != 0) continue;
    if ((n > 4 && strcmp(d->d_name + n - 4, ".idx") == 0 && !sibling_exists(zDir, d->d_name, n - 4, ".pack")) ||
        (n > 5 && strcmp(d->d_name + n - 5, ".pack") == 0 && !sibling_exists(zDir, d->d_name, n - 5, ".idx"))) {
      unlinkat(dirfd(pDir), d->d_name, 0);
    }
  }
  closedir(pDir);
}
