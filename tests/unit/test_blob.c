/* test_blob.c - unit tests of node/blob.c: recognising JPEG, PNG and PDF uploads (and
 * refusing truncated, disguised or foreign files), and storing blobs by SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blob.h"
#include "keys.h"
#include "secret.h"

/* ---- Samples -------------------------------------------------------------------------- */

/* A baseline JPEG's structure: SOI, APP0 (JFIF), SOF0, SOS, entropy-coded data with a
 * stuffed 0xFF, EOI. */
static const unsigned char aJpeg[] = {
    0xFF, 0xD8,                                                       /* SOI */
    0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',  0x00, 0x01, 0x01, /* APP0 */
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,                         /*  */
    0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, /* SOF0 */
    0x11, 0x00,                                                       /*  */
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00,       /* SOS */
    0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78,                   /* scan, RST0 */
    0xFF, 0xD9,                                                       /* EOI */
};

/* Progressive: SOF2 and two scans with a DHT between them; fill bytes before a marker. */
static const unsigned char aJpegProgressive[] = {
    0xFF, 0xD8,                                                       /* SOI */
    0xFF, 0xFF, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, /* SOF2 */
    0x01, 0x01, 0x11, 0x00,                                           /*  */
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,       /* SOS */
    0x9A, 0xBC,                                                       /*  */
    0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00,                               /* DHT */
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3F, 0x00,       /* SOS */
    0xDE, 0xF0,                                                       /*  */
    0xFF, 0xD9,                                                       /* EOI */
};

/* A truncated JPEG whose EXIF segment holds a complete thumbnail, EOI included: the
 * thumbnail's EOI must not be mistaken for the image's. */
static const unsigned char aJpegTruncatedThumb[] = {
    0xFF, 0xD8,                                                       /* SOI */
    0xFF, 0xE1, 0x00, 0x10, 'E',  'x',  'i',  'f',  0x00, 0x00, 0xFF, /* APP1 */
    0xD8, 0xFF, 0xD9, 0x00, 0x00, 0xFF, 0xD9,                         /*  */
    0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, /* SOF0 */
    0x11, 0x00,                                                       /*  */
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00,       /* SOS */
    0x12, 0x34,                                                       /* cut */
};

/* A real 1x1 PNG (made with zlib; correct CRCs). */
static const unsigned char aPng[69] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
    0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0xf8, 0xcf, 0x00, 0x00, 0x02, 0x02, 0x01, 0x00, 0x7b, 0x09, 0x81,
    0x78, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};
#define PNG_IDAT_AT 33 /* offset of the IDAT chunk's length */

static const char zPdf[] = "%PDF-1.4\n"
                           "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                           "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
                           "trailer << /Root 1 0 R >>\n"
                           "%%EOF\n";

static const char *sniff_str(const char *z)
{
  return blob_sniff(z, strlen(z));
}

/* A copy of a with extra bytes appended. */
static unsigned char *with_tail(const unsigned char *a, size_t n, const char *zTail,
                                size_t *pN)
{
  size_t nTail = strlen(zTail);
  unsigned char *p = malloc(n + nTail);
  assert_non_null(p);
  memcpy(p, a, n);
  memcpy(p + n, zTail, nTail);
  *pN = n + nTail;
  return p;
}

/* Every strict prefix shorter than nKeep bytes is refused; each in its own heap block of
 * exactly that size, so the address sanitizer sees any read past the end. */
static void assert_prefixes_refused(const void *data, size_t nKeep)
{
  size_t n;
  for (n = 0; n < nKeep; n++) {
    unsigned char *p = malloc(n ? n : 1);
    const char *zType;
    assert_non_null(p);
    memcpy(p, data, n);
    zType = blob_sniff(p, n);
    free(p);
    if (zType) fail_msg("prefix of %zu bytes recognised as %s", n, zType);
  }
}

/* ---- JPEG ----------------------------------------------------------------------------- */

static void test_sniff_jpeg(void **state)
{
  unsigned char *p;
  size_t n;
  (void)state;
  assert_string_equal(blob_sniff(aJpeg, sizeof aJpeg), "image/jpeg");
  assert_string_equal(blob_sniff(aJpegProgressive, sizeof aJpegProgressive), "image/jpeg");
  p = with_tail(aJpeg, sizeof aJpeg, "trailing camera data", &n);
  assert_string_equal(blob_sniff(p, n), "image/jpeg");
  free(p);
}

static void test_sniff_jpeg_truncated(void **state)
{
  (void)state;
  assert_prefixes_refused(aJpeg, sizeof aJpeg);
  assert_prefixes_refused(aJpegProgressive, sizeof aJpegProgressive);
  assert_null(blob_sniff(aJpegTruncatedThumb, sizeof aJpegTruncatedThumb));
}

static void test_sniff_jpeg_malformed(void **state)
{
  unsigned char a[sizeof aJpeg];
  (void)state;
  assert_null(blob_sniff("\xFF\xD8\xFF\xD9", 4));         /* SOI, EOI: no image */
  assert_null(blob_sniff("\xFF\xD8\xFF\xE0", 4));         /* the bare magic number */
  assert_null(blob_sniff("\xFF\xD8\xFF\x00\xFF\xD9", 6)); /* not a marker */
  memcpy(a, aJpeg, sizeof a);
  assert_int_equal(a[21], 0xC0);
  a[21] = 0xE1; /* SOF0 becomes APP1: no frame header before the scan */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aJpeg, sizeof a);
  assert_int_equal(a[5], 0x10);
  a[5] = 0xFF; /* APP0 length runs past the end */
  assert_null(blob_sniff(a, sizeof a));
  a[5] = 0x01; /* length below its own two bytes */
  assert_null(blob_sniff(a, sizeof a));
  a[5] = 0x11; /* one byte too long: the next segment no longer starts with 0xFF */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aJpeg, sizeof a);
  assert_int_equal(a[33], 0xFF);
  a[33] = 0x58; /* garbage between the frame header and the scan */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aJpeg, sizeof a);
  assert_int_equal(a[34], 0xDA);
  a[34] = 0xD9; /* EOI where the scan should start */
  assert_null(blob_sniff(a, sizeof a));
}

/* ---- PNG ------------------------------------------------------------------------------ */

static void test_sniff_png(void **state)
{
  unsigned char *p;
  size_t n;
  (void)state;
  assert_string_equal(blob_sniff(aPng, sizeof aPng), "image/png");
  p = with_tail(aPng, sizeof aPng, "appended", &n);
  assert_string_equal(blob_sniff(p, n), "image/png");
  free(p);
}

static void test_sniff_png_truncated(void **state)
{
  (void)state;
  assert_prefixes_refused(aPng, sizeof aPng);
}

static void test_sniff_png_malformed(void **state)
{
  unsigned char a[sizeof aPng];
  (void)state;
  memcpy(a, aPng, sizeof a);
  a[1] = 'p'; /* signature */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  a[6] = 0x00; /* the signature's ^Z, mangled by a text-mode transfer */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  a[11] = 12; /* IHDR length */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  memcpy(a + 12, "IDAT", 4); /* IHDR not first */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  assert_int_equal(a[19], 1);
  a[19] = 0; /* width 0 */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  assert_memory_equal(a + PNG_IDAT_AT + 4, "IDAT", 4);
  memcpy(a + PNG_IDAT_AT + 4, "tEXt", 4); /* no image data */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  memset(a + PNG_IDAT_AT, 0xFF, 4); /* chunk length 0xFFFFFFFF */
  assert_null(blob_sniff(a, sizeof a));
  memcpy(a, aPng, sizeof a);
  memcpy(a + PNG_IDAT_AT, "\x7F\xFF\xFF\xF0", 4); /* huge but under 2^31 */
  assert_null(blob_sniff(a, sizeof a));
}

/* ---- PDF ------------------------------------------------------------------------------ */

static void test_sniff_pdf(void **state)
{
  char *z = malloc(4096);
  (void)state;
  assert_non_null(z);
  assert_string_equal(sniff_str(zPdf), "application/pdf");
  assert_string_equal(sniff_str("%PDF-2.0\n%%EOF"), "application/pdf");
  assert_string_equal(sniff_str("%PDF-1.7\n%%EOF\r\n"), "application/pdf");
  /* %%EOF followed by 1000 bytes of padding: still within the last KiB */
  snprintf(z, 4096, "%s%1000s", zPdf, "");
  assert_string_equal(sniff_str(z), "application/pdf");
  free(z);
}

static void test_sniff_pdf_refused(void **state)
{
  char *z = malloc(4096);
  (void)state;
  assert_non_null(z);
  assert_prefixes_refused(zPdf, strlen(zPdf) - 1); /* up to the "%%EOF" without its \n */
  assert_null(sniff_str("%PDF-3.0\n%%EOF"));
  assert_null(sniff_str("%PDF-1.x\n%%EOF"));
  assert_null(sniff_str("%PDF-1\n%%EOF"));
  assert_null(sniff_str(" %PDF-1.4\n%%EOF"));
  assert_null(sniff_str("\xEF\xBB\xBF%PDF-1.4\n%%EOF"));
  assert_null(sniff_str("%pdf-1.4\n%%EOF"));
  assert_null(sniff_str("%PDF-1.4\n%%EO"));
  assert_null(sniff_str("%PDF-1.4\nno end marker at all\n"));
  /* %%EOF present, but more than a KiB before the end */
  snprintf(z, 4096, "%s%1100s", zPdf, "");
  assert_null(sniff_str(z));
  free(z);
}

/* ---- Everything else ------------------------------------------------------------------ */

static void test_sniff_other_formats(void **state)
{
  static const unsigned char aGif[] = {'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00,
                                       0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
                                       0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44,
                                       0x01, 0x00, 0x3B};
  (void)state;
  assert_null(blob_sniff(aGif, sizeof aGif));
  assert_null(sniff_str("GIF87a\x01\x00\x01\x00"));
  assert_null(sniff_str("PK\x03\x04 a zip, or a docx"));
  assert_null(sniff_str("\x7F" "ELF\x02\x01\x01"));
  assert_null(sniff_str("<html><body>%PDF-1.4 %%EOF</body></html>"));
  assert_null(sniff_str("RIFF\x24\x00\x00\x00WEBPVP8 "));
  assert_null(sniff_str("II*\x00 a TIFF"));
  assert_null(sniff_str("just some text that is not a file format"));
}

static void test_sniff_garbage(void **state)
{
  unsigned char a[4096];
  uint32_t x = 2463534242u;
  size_t i;
  int iRound;
  (void)state;
  assert_null(blob_sniff(NULL, 0));
  assert_null(blob_sniff(NULL, 10));
  assert_null(blob_sniff(aJpeg, 0));
  for (iRound = 0; iRound < 200; iRound++) {
    for (i = 0; i < sizeof a; i++) { /* xorshift32: reproducible noise */
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      a[i] = (unsigned char)x;
    }
    assert_null(blob_sniff(a, sizeof a));
    memcpy(a, "\xFF\xD8\xFF", 3); /* right magic, noise after */
    assert_null(blob_sniff(a, sizeof a));
    memcpy(a, aPng, 16);
    assert_null(blob_sniff(a, sizeof a));
  }
}

static void test_sniff_size_cap(void **state)
{
  char *z = malloc(BLOB_MAX + 1);
  (void)state;
  assert_non_null(z);
  memset(z, ' ', BLOB_MAX + 1);
  memcpy(z, "%PDF-1.4\n", 9);
  memcpy(z + BLOB_MAX - 6, "%%EOF\n", 6);
  assert_string_equal(blob_sniff(z, BLOB_MAX), "application/pdf");
  memcpy(z + BLOB_MAX - 5, "%%EOF\n", 6);
  assert_null(blob_sniff(z, BLOB_MAX + 1));
  free(z);
}

/* ---- Storage -------------------------------------------------------------------------- */

typedef struct tmp_data {
  char zDir[64];  /* the temporary directory */
  char zData[96]; /* DATA inside it, not yet created */
} tmp_data;

static int setup_data(void **state)
{
  tmp_data *p = calloc(1, sizeof *p);
  if (p == NULL) return -1;
  strcpy(p->zDir, "/tmp/zc-test-blob-XXXXXX");
  if (mkdtemp(p->zDir) == NULL) {
    free(p);
    return -1;
  }
  snprintf(p->zData, sizeof p->zData, "%s/data", p->zDir);
  *state = p;
  return 0;
}

static int remove_entry(const char *zPath, const struct stat *pSt, int iFlag, struct FTW *pFtw)
{
  (void)pSt;
  (void)iFlag;
  (void)pFtw;
  return remove(zPath);
}

static int teardown_data(void **state)
{
  tmp_data *p = *state;
  nftw(p->zDir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(p);
  return 0;
}

static int count_entries(const char *zDir)
{
  DIR *d = opendir(zDir);
  struct dirent *e;
  int n = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  }
  closedir(d);
  return n;
}

static void assert_file_holds(const char *zPath, const void *data, size_t n)
{
  FILE *f = fopen(zPath, "rb");
  unsigned char *a = malloc(n + 1);
  assert_non_null(f);
  assert_non_null(a);
  assert_int_equal(fread(a, 1, n + 1, f), n);
  if (n) assert_memory_equal(a, data, n);
  fclose(f);
  free(a);
}

static void test_store_layout(void **state)
{
  tmp_data *p = *state;
  char zSha[65], zWant[65], zPath[256], zExpect[256], zDir[200];
  struct stat st;

  assert_int_equal(blob_store(p->zData, zPdf, strlen(zPdf), zSha), 0);
  fed_sha256_hex(zWant, zPdf, strlen(zPdf));
  assert_string_equal(zSha, zWant);
  snprintf(zExpect, sizeof zExpect, "%s/blobs/%.2s/%s", p->zData, zSha, zSha);
  assert_int_equal(blob_path(p->zData, zSha, zPath, sizeof zPath), 0);
  assert_string_equal(zPath, zExpect);
  assert_file_holds(zPath, zPdf, strlen(zPdf));
  assert_int_equal(stat(zPath, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  snprintf(zDir, sizeof zDir, "%s/blobs/%.2s", p->zData, zSha);
  assert_int_equal(count_entries(zDir), 1); /* no temp file left behind */
}

static void test_store_twice(void **state)
{
  tmp_data *p = *state;
  char zSha1[65], zSha2[65], zPath[256];
  struct stat st1, st2;

  assert_int_equal(blob_store(p->zData, aPng, sizeof aPng, zSha1), 0);
  assert_int_equal(blob_path(p->zData, zSha1, zPath, sizeof zPath), 0);
  assert_int_equal(stat(zPath, &st1), 0);
  assert_int_equal(blob_store(p->zData, aPng, sizeof aPng, zSha2), 0);
  assert_string_equal(zSha1, zSha2);
  assert_int_equal(stat(zPath, &st2), 0);
  assert_int_equal(st1.st_ino, st2.st_ino); /* left alone, not rewritten */
  assert_file_holds(zPath, aPng, sizeof aPng);
}

static void test_store_distinct(void **state)
{
  tmp_data *p = *state;
  char zShaA[65], zShaB[65], zPath[256];

  assert_int_equal(blob_store(p->zData, aJpeg, sizeof aJpeg, zShaA), 0);
  assert_int_equal(blob_store(p->zData, aPng, sizeof aPng, zShaB), 0);
  assert_string_not_equal(zShaA, zShaB);
  assert_int_equal(blob_path(p->zData, zShaA, zPath, sizeof zPath), 0);
  assert_file_holds(zPath, aJpeg, sizeof aJpeg);
  assert_int_equal(blob_path(p->zData, zShaB, zPath, sizeof zPath), 0);
  assert_file_holds(zPath, aPng, sizeof aPng);
}

static void test_store_empty(void **state)
{
  tmp_data *p = *state;
  char zSha[65], zPath[256];
  assert_int_equal(blob_store(p->zData, "", 0, zSha), 0);
  assert_string_equal(zSha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_int_equal(blob_path(p->zData, zSha, zPath, sizeof zPath), 0);
  assert_file_holds(zPath, "", 0);
}

static void test_store_repairs_wrong_size(void **state)
{
  tmp_data *p = *state;
  char zSha[65], zPath[256];
  FILE *f;

  assert_int_equal(blob_store(p->zData, zPdf, strlen(zPdf), zSha), 0);
  assert_int_equal(blob_path(p->zData, zSha, zPath, sizeof zPath), 0);
  f = fopen(zPath, "wb");
  assert_non_null(f);
  fputs("%PDF-1.4 cut", f);
  fclose(f);
  assert_int_equal(blob_store(p->zData, zPdf, strlen(zPdf), zSha), 0);
  assert_file_holds(zPath, zPdf, strlen(zPdf));
}

static void test_store_failures(void **state)
{
  tmp_data *p = *state;
  char zSha[65], zFile[128];
  FILE *f;

  snprintf(zFile, sizeof zFile, "%s/not-a-dir", p->zDir);
  f = fopen(zFile, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(blob_store(zFile, zPdf, strlen(zPdf), zSha), -1);
  assert_int_equal(blob_store(p->zData, NULL, 5, zSha), -1);
  assert_int_equal(blob_store(NULL, zPdf, 3, zSha), -1);
  assert_int_equal(blob_store(p->zData, zPdf, BLOB_MAX + 1, zSha), -1); /* never read */
}

static void test_path_lookup(void **state)
{
  static const char *aBad[] = {
      "../../../../../../etc/passwd",
      "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/",
      "",
  };
  tmp_data *p = *state;
  char zSha[65], zPath[256];
  size_t i;

  assert_int_equal(blob_store(p->zData, aJpeg, sizeof aJpeg, zSha), 0);
  assert_int_equal(blob_path(p->zData, zSha, zPath, sizeof zPath), 0);
  for (i = 0; i < sizeof aBad / sizeof aBad[0]; i++) {
    strcpy(zPath, "unchanged");
    assert_int_equal(blob_path(p->zData, aBad[i], zPath, sizeof zPath), -1);
    assert_string_equal(zPath, "");
  }
  assert_int_equal(blob_path(p->zData, NULL, zPath, sizeof zPath), -1);
  /* a well-formed digest that is not stored */
  assert_int_equal(blob_path(p->zData, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                             zPath, sizeof zPath),
                   -1);
  /* too small a buffer */
  assert_int_equal(blob_path(p->zData, zSha, zPath, 20), -1);
  assert_string_equal(zPath, "");
}

/* Several processes storing the same blob at once: all succeed, one file results. */
static void test_store_concurrent(void **state)
{
  enum { N = 6 };
  tmp_data *p = *state;
  char zSha[65], zPath[256], zDir[200];
  pid_t aPid[N];
  int i, status;

  for (i = 0; i < N; i++) {
    aPid[i] = fork();
    assert_true(aPid[i] >= 0);
    if (aPid[i] == 0) {
      char zChild[65];
      _exit(blob_store(p->zData, zPdf, strlen(zPdf), zChild) == 0 ? 0 : 1);
    }
  }
  for (i = 0; i < N; i++) {
    assert_int_equal(waitpid(aPid[i], &status, 0), aPid[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  fed_sha256_hex(zSha, zPdf, strlen(zPdf));
  assert_int_equal(blob_path(p->zData, zSha, zPath, sizeof zPath), 0);
  assert_file_holds(zPath, zPdf, strlen(zPdf));
  snprintf(zDir, sizeof zDir, "%s/blobs/%.2s", p->zData, zSha);
  assert_int_equal(count_entries(zDir), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sniff_jpeg),
      cmocka_unit_test(test_sniff_jpeg_truncated),
      cmocka_unit_test(test_sniff_jpeg_malformed),
      cmocka_unit_test(test_sniff_png),
      cmocka_unit_test(test_sniff_png_truncated),
      cmocka_unit_test(test_sniff_png_malformed),
      cmocka_unit_test(test_sniff_pdf),
      cmocka_unit_test(test_sniff_pdf_refused),
      cmocka_unit_test(test_sniff_other_formats),
      cmocka_unit_test(test_sniff_garbage),
      cmocka_unit_test(test_sniff_size_cap),
      cmocka_unit_test_setup_teardown(test_store_layout, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_store_twice, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_store_distinct, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_store_empty, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_store_repairs_wrong_size, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_store_failures, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_path_lookup, setup_data, teardown_data),
      cmocka_unit_test_setup_teardown(test_store_concurrent, setup_data, teardown_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
