/* blob.c - uploaded files (ID-card scans, certificates, attachments): recognising JPEG,
 * PNG and PDF by their bytes rather than their names, and storing each distinct content
 * once under DATA/blobs/<first two hex digits>/<sha256>, written atomically. */
#include "blob.h"
#include "db.h"
#include "fed_file.h"
#include "keys.h"
#include "node.h"
#include "secret.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOB_DIR_MODE 0700  /* scans of ID cards: nobody else on the host reads them */
#define BLOB_FILE_MODE 0600
#define PDF_EOF_WINDOW 1024 /* "%%EOF" must lie in the last KiB, as readers expect */

/* ---------------------------------------------------------------------------------------
 * Sniffing
 * ------------------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *a)
{
  return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* Markers followed by a 2-byte segment length: all of C0..FE except RSTn, SOI and EOI. */
static int jpeg_has_length(unsigned m)
{
  return m >= 0xC0 && m <= 0xFE && !(m >= 0xD0 && m <= 0xD9);
}

/* Start of frame: C0..CF apart from DHT (C4), JPG (C8) and DAC (CC). */
static int jpeg_is_sof(unsigned m)
{
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* SOI, then well-formed segments including a frame header up to the first scan, then an
 * EOI somewhere after it. In entropy-coded data 0xFF is always followed by 0x00 or a
 * restart marker, so FF D9 there is the real end; bytes after it (camera trailers,
 * motion-photo videos) are allowed. A cut-off upload has no EOI and is refused. */
static int is_jpeg(const unsigned char *a, size_t n)
{
  size_t i = 2;
  int bSof = 0;

  if (n < 4 || a[0] != 0xFF || a[1] != 0xD8 || a[2] != 0xFF) return 0;
  while (i < n && a[i] == 0xFF) {
    unsigned m;
    size_t nSeg;
    while (i < n && a[i] == 0xFF) i++; /* fill bytes */
    if (i + 3 > n) return 0;
    m = a[i];
    if (!jpeg_has_length(m)) return 0;
    nSeg = (size_t)a[i + 1] << 8 | a[i + 2];
    if (nSeg < 2 || nSeg > n - i - 1) return 0;
    i += 1 + nSeg;
    bSof |= jpeg_is_sof(m);
    if (m == 0xDA) return bSof && memmem(a + i, n - i, "\xFF\xD9", 2) != NULL;
  }
  return 0;
}

/* The 8-byte signature, IHDR first with length 13 and a non-zero size, then chunks
 * that fit in the data up to IEND, with image data (IDAT) before it. Trailing bytes
 * after IEND are tolerated; a truncated file is not. CRCs are not checked. */
static int is_png(const unsigned char *a, size_t n)
{
  static const unsigned char aSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  size_t i = 8;
  int bIdat = 0;

  if (n < 8 + 25 || memcmp(a, aSig, 8) != 0) return 0;
  if (be32(a + 8) != 13 || memcmp(a + 12, "IHDR", 4) != 0) return 0;
  if (be32(a + 16) == 0 || be32(a + 20) == 0) return 0;
  while (n - i >= 12) {
    uint32_t nChunk = be32(a + i);
    if (nChunk > 0x7FFFFFFFu || nChunk > n - i - 12) return 0;
    if (memcmp(a + i + 4, "IEND", 4) == 0) return bIdat;
    if (memcmp(a + i + 4, "IDAT", 4) == 0) bIdat = 1;
    i += 12 + (size_t)nChunk;
  }
  return 0;
}

/* "%PDF-1.x" or "%PDF-2.x" at the very start and "%%EOF" within the last KiB. */
static int is_pdf(const unsigned char *a, size_t n)
{
  size_t nTail = n < PDF_EOF_WINDOW ? n : PDF_EOF_WINDOW;

  if (n < 8 + 5) return 0;
  if (memcmp(a, "%PDF-1.", 7) != 0 && memcmp(a, "%PDF-2.", 7) != 0) return 0;
  if (a[7] < '0' || a[7] > '9') return 0;
  return memmem(a + n - nTail, nTail, "%%EOF", 5) != NULL;
}

const char *blob_sniff(const void *data, size_t n)
{
  const unsigned char *a = data;

  if (a == NULL || n == 0 || n > BLOB_MAX) return NULL;
  if (is_jpeg(a, n)) return "image/jpeg";
  if (is_png(a, n)) return "image/png";
  if (is_pdf(a, n)) return "application/pdf";
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Storage
 * ------------------------------------------------------------------------------------- */

static int is_sha256_hex(const char *z)
{
  int i;
  for (i = 0; i < 64; i++) {
    if (!((z[i] >= '0' && z[i] <= '9') || (z[i] >= 'a' && z[i] <= 'f'))) return 0;
  }
  return z[64] == '\0';
}

/* zDataDir/blobs/ab and zDataDir/blobs/ab/<sha>; -1 when they do not fit. */
static int blob_paths(const char *zDataDir, const char *zSha, char *zDir, size_t nDir,
                      char *zPath, size_t nPath)
{
  int n = snprintf(zDir, nDir, "%s/blobs/%.2s", zDataDir, zSha);
  if (n < 0 || (size_t)n >= nDir) return -1;
  n = snprintf(zPath, nPath, "%s/%s", zDir, zSha);
  return n < 0 || (size_t)n >= nPath ? -1 : 0;
}

/* mkdir -p: create zDir and any missing parents. */
static int make_dirs(const char *zDir)
{
  char zPart[PATH_MAX];
  size_t n = strlen(zDir), i;
  struct stat st;

  if (n == 0 || n >= sizeof zPart) return -1;
  memcpy(zPart, zDir, n + 1);
  for (i = 1; i <= n; i++) {
    if (zPart[i] != '/' && zPart[i] != '\0') continue;
    zPart[i] = '\0';
    if (mkdir(zPart, BLOB_DIR_MODE) != 0 && errno != EEXIST) return -1;
    zPart[i] = zDir[i];
  }
  return stat(zDir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* A stored blob is never rewritten; the size check only guards against a file that is
 * not what its name promises (say, truncated by hand), which is then replaced. */
static int is_stored(const char *zPath, size_t n)
{
  struct stat st;
  return stat(zPath, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == n;
}

int blob_store(const char *zDataDir, const void *data, size_t n, char sha[65])
{
  char zDir[PATH_MAX], zPath[PATH_MAX];

  if (zDataDir == NULL || sha == NULL) return -1;
  sha[0] = '\0';
  if ((data == NULL && n > 0) || n > BLOB_MAX) return -1;
  fed_sha256_hex(sha, data ? data : "", n);
  if (sha[0] == '\0') return -1;
  if (blob_paths(zDataDir, sha, zDir, sizeof zDir, zPath, sizeof zPath) != 0) return -1;
  if (is_stored(zPath, n)) return 0;
  if (make_dirs(zDir) != 0) return -1;
  /* a reader sees no file or the whole of it, even after a crash; two writers of the same
   * blob race harmlessly, since both rename identical content into place */
  return fed_file_write_atomic(zPath, data ? data : "", n, BLOB_FILE_MODE) ? -1 : 0;
}

int blob_path(const char *zDataDir, const char *zSha, char *out, size_t nOut)
{
  char zDir[PATH_MAX];
  struct stat st;

  if (out && nOut > 0) out[0] = '\0';
  if (zDataDir == NULL || zSha == NULL || out == NULL || !is_sha256_hex(zSha)) return -1;
  if (blob_paths(zDataDir, zSha, zDir, sizeof zDir, out, nOut) != 0) {
    out[0] = '\0';
    return -1;
  }
  return stat(out, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

/* One blob file: removed when not used and older than tBefore. */
static int sweep_file(const char *zPath, const char *zName, time_t tBefore, int (*xUsed)(const char *, void *),
                      void *pArg)
{
  struct stat st;
  if (!is_sha256_hex(zName) || stat(zPath, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  if (st.st_mtime >= tBefore || xUsed(zName, pArg)) return 0;
  return unlink(zPath) == 0;
}

int blob_sweep(const char *zDataDir, time_t tBefore, int (*xUsed)(const char *zSha, void *pArg), void *pArg)
{
  char zTop[PATH_MAX];
  int nRemoved = 0;
  DIR *pTop, *pSub;
  struct dirent *e, *f;

  if (snprintf(zTop, sizeof zTop, "%s/blobs", zDataDir) >= (int)sizeof zTop) return 0;
  if ((pTop = opendir(zTop)) == NULL) return 0;
  while ((e = readdir(pTop)) != NULL) {
    char zSub[PATH_MAX];
    if (strlen(e->d_name) != 2 || !isxdigit((unsigned char)e->d_name[0])) continue;
    if (snprintf(zSub, sizeof zSub, "%s/%s", zTop, e->d_name) >= (int)sizeof zSub) continue;
    if ((pSub = opendir(zSub)) == NULL) continue;
    while ((f = readdir(pSub)) != NULL) {
      char zPath[PATH_MAX];
      if (snprintf(zPath, sizeof zPath, "%s/%s", zSub, f->d_name) >= (int)sizeof zPath) continue;
      nRemoved += sweep_file(zPath, f->d_name, tBefore, xUsed, pArg);
    }
    closedir(pSub);
  }
  closedir(pTop);
  return nRemoved;
}

/* ---------------------------------------------------------------------------------------
 * References
 * ------------------------------------------------------------------------------------- */

int blob_in_use(const char *zSha, void *pArg)
{
  zc_node *p = pArg;
  return db_int(p->db, 1, "SELECT EXISTS (SELECT 1 FROM idcards WHERE sha256 = ?1)"
                " OR EXISTS (SELECT 1 FROM application_attachments WHERE sha256 = ?1)"
                " OR EXISTS (SELECT 1 FROM notice_attachments WHERE sha256 = ?1)"
                " OR EXISTS (SELECT 1 FROM appeals WHERE scan_sha = ?1)", "t", zSha) != 0;
}

int blob_release(zc_node *p)
{
  char zPath[PATH_MAX];
  int nRemoved = 0;
  size_t i;
  json_t *v, *aSha;

  if (!db_int(p->db, 0, "SELECT EXISTS (SELECT 1 FROM released_blobs)", NULL)) return 0; /* most commits */
  aSha = db_rows(p->db, "SELECT sha256 FROM released_blobs", NULL);

  json_array_foreach(aSha, i, v) {
    const char *zSha = json_string_value(json_object_get(v, "sha256"));
    /* in use again (the same bytes uploaded since): the row keeps the file */
    if (zSha && !blob_in_use(zSha, p) && blob_path(p->cfg.zData, zSha, zPath, sizeof zPath) == 0 &&
        unlink(zPath) == 0)
      nRemoved++;
    if (zSha) db_exec(p->db, "DELETE FROM released_blobs WHERE sha256 = ?", "t", zSha);
  }
  json_decref(aSha);
  return nRemoved;
}

char *blob_read_base64(const char *zDataDir, const char *zSha)
{
  char zPath[PATH_MAX];
  if (blob_path(zDataDir, zSha, zPath, sizeof zPath) != 0) return NULL;
  FILE *f = fopen(zPath, "rb");
  unsigned char *a = f ? malloc(BLOB_MAX + 1) : NULL;
  size_t n = a ? fread(a, 1, BLOB_MAX + 1, f) : 0;
  char *zB64 = a && n <= BLOB_MAX ? secret_base64_encode(a, n) : NULL;
  if (f) fclose(f);
  free(a);
  return zB64;
}

int blob_store_base64(const char *zDataDir, const char *zB64, const char *zWantSha)
{
  size_t n = 0;
  char zSha[65];
  unsigned char *a = zB64 ? secret_base64_decode(zB64, BLOB_MAX, &n) : NULL;
  int rc = a && zWantSha && blob_store(zDataDir, a, n, zSha) == 0 && strcmp(zSha, zWantSha) == 0 ? 0 : -1;
  free(a);
  return rc;
}
