/* test_form_pdf.c - unit tests of node/form_pdf.c: the review form (评审表) is always two
 * A4 pages whatever the application holds, its Chinese comes out as text (read back with
 * poppler's pdfinfo, pdftotext and pdftoppm), the test form says so on every page, the
 * official one carries its number, watermark and QR code, and renders may run at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "form_pdf.h"

static char g_zDir[64]; /* the temporary directory of the PDFs */

static const char zIdNumber[] = "650102199001011234";
static const char zNumber[] = "650000-2026-000123";
static const char zVerifyCode[] = "650000-K7Q2-M9XD-4TPA";

/* ---- Samples -------------------------------------------------------------------------- */

/* A section of one textarea field holding zText. */
static json_t *text_section(const char *zName, const char *zTitle, const char *zText) {
  return json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}], s:{s:s}}", "name", zName, "title", zTitle, "fields", "name", "text",
                   "label", "情况说明", "type", "textarea", "data", "text", zText);
}

/* An application as GET /applications/{id} shows it, cut down to what the form prints;
 * zLong, when given, fills the textarea of every section. */
static json_t *sample_app(const char *zLong) {
  json_t *a = json_pack(
      "{s:i, s:i, s:{s:s, s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:s, s:[{s:i, s:s, s:s, s:s},"
      " {s:s, s:s}], s:[{s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}],"
      " s:{s:s, s:s, s:i}}]}",
      "year", 2026, "round", 0, "qualification", "name", "高级工程师", "series_name", "工程系列", "specialty", "name",
      "建筑工程", "applicant", "name", "李明远", "id_number_masked", "6501**********1234", "unit", "name",
      "自治区演示科技有限公司", "committee", "name", "自治区工程系列高级职称评审委员会", "recommendation",
      "同意推荐该同志申报高级工程师。", "opinions", "round", 0, "stage", "committee", "section", "basic", "text",
      "材料齐全，符合申报条件。", "section", "basic", "text", "没有阶段的意见", "sections", "name", "basic", "title",
      "基本信息", "fields", "name", "name", "label", "姓名", "type", "text", "name", "school", "label", "毕业院校",
      "type", "text", "name", "hours", "label", "继续教育学时", "type", "number", "data", "name", "李明远", "school",
      "新疆大学土木工程学院", "hours", 96);
  json_t *aSection = json_object_get(a, "sections"), *aOpinion = json_object_get(a, "opinions");
  static const char *const az[][2] = {{"work", "工作经历"},     {"achievements", "专业技术工作业绩"},
                                      {"papers", "论文著作"},   {"awards", "获奖情况"},
                                      {"training", "继续教育"}, {"other", "其他"}};
  assert_non_null(a);
  json_array_append_new(aOpinion, json_pack("{s:i, s:s, s:s, s:s}", "round", 0, "stage", "dept", "section", "work",
                                            "text", "工作经历属实。"));
  json_array_append_new(aOpinion, json_pack("{s:i, s:s, s:s, s:s}", "round", 1, "stage", "dept", "section", "work",
                                            "text", "另一轮的意见"));
  for (size_t i = 0; i < sizeof az / sizeof az[0]; i++)
    json_array_append_new(
        aSection, text_section(az[i][0], az[i][1], zLong ? zLong : "主持完成乌鲁木齐市多项公共建筑的结构设计。"));
  return a;
}

/* n bytes of Chinese text (3 bytes a character) with a marker at its end. */
static char *long_text(size_t n) {
  static const char zWords[] = "在自治区建筑设计研究院从事结构设计与施工图审查工作，";
  char *z = malloc(n + 1);
  size_t nWords = sizeof zWords - 1, i = 0;
  assert_non_null(z);
  for (; i + nWords <= n - 3; i += nWords) memcpy(z + i, zWords, nWords);
  memcpy(z + i, "END", 3);
  z[i + 3] = 0;
  return z;
}

static form_pdf_in test_in(const json_t *pApp) {
  form_pdf_in in = {pApp, zIdNumber, zNumber, 0, NULL, NULL, "自治区", "2026-12-03 10:20"};
  return in;
}

static form_pdf_in official_in(const json_t *pApp, const char *zNum) {
  form_pdf_in in = {pApp,     zIdNumber,         zNum, 1, zVerifyCode, "https://zc.example.cn/v/650000-K7Q2-M9XD-4TPA",
                    "自治区", "2026-12-03 10:20"};
  return in;
}

/* ---- Reading the PDF back ------------------------------------------------------------- */

/* Render in to g_zDir/zName; its path in zPath[256]. */
static void render_to(const form_pdf_in *in, const char *zName, char *zPath) {
  unsigned char *p = NULL;
  size_t n = 0;
  char zErr[200] = "";
  int rc = form_pdf_render(in, &p, &n, zErr, sizeof zErr);
  if (rc) fail_msg("render failed: %s", zErr);
  assert_true(n > 1000);
  assert_memory_equal(p, "%PDF-", 5);
  snprintf(zPath, 256, "%s/%s", g_zDir, zName);
  FILE *f = fopen(zPath, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
  free(p);
}

/* The whole output of a shell command (malloc'd); *pn its size. */
static char *run(size_t *pn, const char *zFormat, ...) {
  char zCmd[600];
  va_list ap;
  va_start(ap, zFormat);
  vsnprintf(zCmd, sizeof zCmd, zFormat, ap);
  va_end(ap);
  FILE *f = popen(zCmd, "r");
  assert_non_null(f);
  size_t n = 0, nAlloc = 4096;
  char *z = malloc(nAlloc + 1);
  assert_non_null(z);
  for (size_t nGot; (nGot = fread(z + n, 1, nAlloc - n, f)) > 0;) {
    n += nGot;
    if (n == nAlloc) {
      char *zMore = realloc(z, (nAlloc *= 2) + 1);
      assert_non_null(zMore);
      z = zMore;
    }
  }
  z[n] = 0;
  if (pclose(f) != 0) fail_msg("failed: %s", zCmd);
  if (pn) *pn = n;
  return z;
}

static int page_count(const char *zPath) {
  char *z = run(NULL, "pdfinfo '%s'", zPath);
  const char *p = strstr(z, "\nPages:");
  int n = p ? atoi(p + 7) : -1;
  free(z);
  return n;
}

/* The text of page iPage in content order (-raw) with all white space taken out, so that
 * the diagonal watermark, which comes out a character a line, reads as one string. */
static char *page_text(const char *zPath, int iPage) {
  char *z = run(NULL, "pdftotext -raw -f %d -l %d '%s' -", iPage, iPage, zPath);
  char *pOut = z;
  for (const char *p = z; *p; p++)
    if (!strchr(" \t\r\n\f", *p)) *pOut++ = *p;
  *pOut = 0;
  return z;
}

static int count_of(const char *z, const char *zWhat) {
  int n = 0;
  for (const char *p = z; (p = strstr(p, zWhat)) != NULL; p += strlen(zWhat)) n++;
  return n;
}

#define assert_contains(z, zWhat) \
  if (!strstr((z), (zWhat))) fail_msg("%s missing in: %.300s", (zWhat), (z))

/* The top right corner of page 1 at 300 dpi, where the QR code goes (right of the title,
 * above the code under it), nHeight pixels from 190 down, as grey levels: pdftoppm writes
 * a PGM to stdout. The test form's table starts 240 pixels down, the official one's
 * below the code. */
typedef struct grey_map {
  unsigned char *aAll, *a; /* the PGM; its pixels */
  int w, h;
} grey_map;

static void corner_load(const char *zPath, int nHeight, grey_map *m) {
  size_t n;
  int nMax, nHead = 0;
  m->aAll =
      (unsigned char *)run(&n, "pdftoppm -r 300 -gray -f 1 -l 1 -x 1860 -y 190 -W 620 -H %d '%s'", nHeight, zPath);
  assert_int_equal(sscanf((char *)m->aAll, "P5 %d %d %d%n", &m->w, &m->h, &nMax, &nHead), 3);
  m->a = m->aAll + nHead + 1; /* the single white space after the header */
  assert_true(n >= (size_t)(nHead + 1) + (size_t)m->w * m->h);
}

static int is_dark(const grey_map *m, int x, int y) { return m->a[y * m->w + x] < 96; }

static int corner_dark(const grey_map *m) {
  int nDark = 0;
  for (int y = 0; y < m->h; y++)
    for (int x = 0; x < m->w; x++) nDark += is_dark(m, x, y);
  return nDark;
}

/* Does the corner hold the QR code of zUrl? The dark pixels' bounding box is the symbol
 * without its quiet zone (finder patterns take three corners, the bottom right module
 * row and column have dark modules); the centre of each module must be dark exactly
 * where libqrencode's is. Decoding without a decoder. */
static int corner_has_qr(const grey_map *m, const char *zUrl) {
  QRcode *q = QRcode_encodeString(zUrl, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  int x0 = m->w, y0 = m->h, x1 = -1, y1 = -1, nWrong = 0;
  assert_non_null(q);
  for (int y = 0; y < m->h; y++)
    for (int x = 0; x < m->w; x++)
      if (is_dark(m, x, y)) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  double dx = (x1 - x0 + 1) / (double)q->width, dy = (y1 - y0 + 1) / (double)q->width;
  for (int iy = 0; x1 >= 0 && iy < q->width; iy++)
    for (int ix = 0; ix < q->width; ix++)
      nWrong +=
          is_dark(m, x0 + (int)((ix + 0.5) * dx), y0 + (int)((iy + 0.5) * dy)) != (q->data[iy * q->width + ix] & 1);
  QRcode_free(q);
  return x1 >= 0 && dx > 3 && nWrong == 0;
}

/* ---- The test form (测试表) ----------------------------------------------------------- */

static void test_test_form(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL);
  form_pdf_in in = test_in(a);
  render_to(&in, "test.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);

  char *z1 = page_text(zPath, 1), *z2 = page_text(zPath, 2);
  /* the warning in the header and the watermark on each page (the back's footer too) */
  assert_contains(z1, "测试表—形式审查通过前仅供核对，不作评审使用");
  assert_contains(z2, "测试表—形式审查通过前仅供核对，不作评审使用");
  assert_true(count_of(z1, "测试表") >= 2);
  assert_true(count_of(z2, "测试表") >= 3);
  assert_contains(z1, "专业技术职务任职资格评审表");
  assert_contains(z1, "李明远");
  assert_contains(z1, "高级工程师");
  assert_contains(z1, "工程系列");
  assert_contains(z1, "自治区演示科技有限公司");
  assert_contains(z1, zIdNumber);
  assert_contains(z1, zNumber);
  assert_contains(z1, "新疆大学土木工程学院"); /* a field of a section */
  assert_contains(z1, "96");                   /* a number field */
  assert_contains(z1, "一、基本信息");
  /* the back: the opinion boxes, the recommendation in the unit's, the issuer */
  assert_contains(z2, "同意推荐该同志申报高级工程师。");
  assert_contains(z2, "【基本信息】材料齐全，符合申报条件。");
  assert_contains(z2, "没有阶段的意见");
  assert_null(strstr(z2, "另一轮的意见")); /* only the current round's */
  /* each in its stage's box (the text follows its box's title) */
  const char *pUnit = strstr(z2, "基层单位意见"), *pDept = strstr(z2, "推荐单位意见");
  const char *pCommittee = strstr(z2, "评审委员会意见");
  assert_true(pUnit && pUnit < strstr(z2, "同意推荐") && strstr(z2, "没有阶段的意见") < pDept);
  assert_true(pDept < strstr(z2, "【工作经历】工作经历属实。") &&
              strstr(z2, "【工作经历】工作经历属实。") < pCommittee);
  assert_true(pCommittee < strstr(z2, "【基本信息】材料齐全"));
  assert_contains(z2, "（盖章）");
  assert_contains(z2, "签发：自治区");
  assert_contains(z2, "2026-12-03");
  grey_map m;
  corner_load(zPath, 230, &m);
  assert_int_equal(corner_dark(&m), 0); /* no QR code on the test form */
  free(m.aAll);
  free(z1);
  free(z2);
  json_decref(a);
}

/* Without the full ID number the masked one prints. */
static void test_masked_id(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL);
  form_pdf_in in = test_in(a);
  in.zIdNumber = NULL;
  render_to(&in, "masked.pdf", zPath);
  char *z1 = page_text(zPath, 1);
  assert_contains(z1, "6501**********1234");
  assert_null(strstr(z1, zIdNumber));
  free(z1);
  json_decref(a);
}

/* ---- The official form ---------------------------------------------------------------- */

static void test_official_form(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL);
  form_pdf_in in = official_in(a, zNumber);
  render_to(&in, "official.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);

  char *z1 = page_text(zPath, 1), *z2 = page_text(zPath, 2);
  char *zAll = run(NULL, "pdftotext '%s' -", zPath);
  for (int i = 0; i < 2; i++) {
    const char *z = i ? z2 : z1;
    assert_contains(z, "编号：650000-2026-000123");         /* the header */
    assert_contains(z, "自治区职称评审650000-2026-000123"); /* the watermark */
    assert_true(count_of(z, "自治区职称评审650000-2026-000123") >= 3);
  }
  assert_contains(z1, "验证码：650000-K7Q2-M9XD-4TPA");
  assert_contains(z1, "扫码或访问验证页面核验真伪");
  assert_contains(z2, "验证码：650000-K7Q2-M9XD-4TPA");
  assert_contains(z1, "李明远");
  assert_null(strstr(zAll, "测试表"));
  grey_map m;
  corner_load(zPath, 260, &m);
  assert_true(corner_has_qr(&m, in.zVerifyUrl));
  free(m.aAll);
  free(zAll);
  free(z1);
  free(z2);
  json_decref(a);
}

/* The title in the PDF's metadata. */
static void test_metadata(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL);
  form_pdf_in in = official_in(a, zNumber);
  render_to(&in, "meta.pdf", zPath);
  char *z = run(NULL, "pdfinfo '%s'", zPath);
  assert_contains(z, "专业技术职务任职资格评审表 650000-2026-000123");
  assert_contains(z, "A4");
  free(z);
  json_decref(a);
}

/* ---- Uyghur names --------------------------------------------------------------------- */
static void test_uyghur_name(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL);
  static const char zUg[] = "\u0626\u0627\u0628\u062f\u06c7\u0631\u06d0\u06be\u0649\u0645"; /* Abdurehim */
  assert_int_equal(json_object_set_new(json_object_get(a, "applicant"), "name", json_string(zUg)), 0);
  json_t *pBasic = json_array_get(json_object_get(a, "sections"), 0);
  assert_int_equal(json_object_set_new(json_object_get(pBasic, "data"), "name", json_string(zUg)), 0);
  form_pdf_in in = test_in(a);
  render_to(&in, "uyghur.pdf", zPath);
  char *z = run(NULL, "pdffonts '%s'", zPath);
  assert_contains(z, "UKIJTuzTom"); /* set in the Uyghur font, not a fallback's */
  assert_contains(z, "WenQuanYiMicroHei");
  free(z);
  assert_int_equal(page_count(zPath), 2);
  json_decref(a);
}

/* ---- Whatever the application holds, two pages ---------------------------------------- */

/* The lowest bottom of any word on page iPage (pdftotext -bbox), in points from the top:
 * text drawn past the foot of the page would be cut off by the printer. */
static double lowest_word(const char *zPath, int iPage) {
  char *z = run(NULL, "pdftotext -bbox -f %d -l %d '%s' -", iPage, iPage, zPath);
  double yLowest = 0, y;
  for (const char *p = z; (p = strstr(p, "yMax=\"")) != NULL; p++)
    if (sscanf(p, "yMax=\"%lf\"", &y) == 1 && y > yLowest) yLowest = y;
  free(z);
  return yLowest;
}

/* Nothing lower than the footer (A4 is 841.89 points high). */
static void assert_within_pages(const char *zPath) {
  for (int i = 1; i <= 2; i++) {
    double y = lowest_word(zPath, i);
    if (y > 820) fail_msg("page %d: text down to %.1f points", i, y);
  }
}

static void test_overflow(void **state) {
  char zPath[256];
  (void)state;
  char *zLong = long_text(20 * 1024);
  json_t *a = sample_app(zLong);
  form_pdf_in in = test_in(a);
  render_to(&in, "overflow.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);
  char *z1 = page_text(zPath, 1), *z2 = page_text(zPath, 2);
  assert_contains(z1, "详见申报材料");
  assert_contains(z2, "详见申报材料");
  assert_null(strstr(z1, "END")); /* cut before the end */
  assert_contains(z1, "李明远");  /* the head of the form is still all there */
  assert_contains(z2, "评审委员会意见");
  assert_contains(z2, "签发：自治区");
  assert_within_pages(zPath);
  free(z1);
  free(z2);
  free(zLong);
  json_decref(a);
}

/* The height of the first word zWord on page 1 as pdftotext -bbox measures it: the size
 * of its type, more or less. */
static double word_height(const char *zPath, const char *zWord) {
  char *z = run(NULL, "pdftotext -bbox -f 1 -l 1 '%s' -", zPath), zNeedle[64];
  double yMin = 0, yMax = 0;
  snprintf(zNeedle, sizeof zNeedle, ">%s</word>", zWord);
  char *p = strstr(z, zNeedle);
  assert_non_null(p);
  while (p > z && strncmp(p, "<word", 5) != 0) p--;
  assert_true(sscanf(p, "<word xMin=\"%*f\" yMin=\"%lf\" xMax=\"%*f\" yMax=\"%lf\"", &yMin, &yMax) == 2);
  free(z);
  return yMax - yMin;
}

/* Too much for the largest size but not for a smaller one: smaller type, nothing cut. */
static void test_shrinks_before_cutting(void **state) {
  char zPath[256];
  (void)state;
  json_t *pShort = sample_app(NULL);
  form_pdf_in in = test_in(pShort);
  render_to(&in, "short.pdf", zPath);
  double hLarge = word_height(zPath, "李明远");

  char *zLong = long_text(2000);
  json_t *a = sample_app(zLong);
  in = test_in(a);
  render_to(&in, "shrink.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);
  char *zAll = run(NULL, "pdftotext '%s' -", zPath);
  assert_null(strstr(zAll, "详见申报材料"));
  assert_int_equal(count_of(zAll, "END"), 6);
  assert_within_pages(zPath);
  double hSmall = word_height(zPath, "李明远");
  if (!(hSmall < 0.9 * hLarge)) fail_msg("type %.2f, at most %.2f expected", hSmall, 0.9 * hLarge);
  free(zAll);
  free(zLong);
  json_decref(a);
  json_decref(pShort);
}

/* Hundreds of fields: those that find no room are left out, and the form says so. */
static void test_too_many_fields(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL), *aField = json_array(), *pData = json_object();
  for (int i = 0; i < 600; i++) {
    char zName[16], zLabel[32];
    snprintf(zName, sizeof zName, "f%d", i);
    snprintf(zLabel, sizeof zLabel, "第%d项", i);
    json_array_append_new(aField, json_pack("{s:s, s:s, s:s}", "name", zName, "label", zLabel, "type", "text"));
    json_object_set_new(pData, zName, json_string("内容"));
  }
  json_array_append_new(json_object_get(a, "sections"), json_pack("{s:s, s:s, s:o, s:o}", "name", "many", "title",
                                                                  "很多项", "fields", aField, "data", pData));
  form_pdf_in in = test_in(a);
  render_to(&in, "many.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);
  char *z2 = page_text(zPath, 2);
  assert_contains(z2, "……（其余内容详见申报材料）");
  assert_contains(z2, "评审委员会意见");
  assert_within_pages(zPath);
  free(z2);
  json_decref(a);
}

/* 100 KB in a name, a value, a label and an opinion; quick, and still two pages. */
static void test_huge_strings(void **state) {
  char zPath[256];
  struct timespec t0, t1;
  (void)state;
  char *zHuge = long_text(100 * 1024);
  json_t *a = sample_app(NULL);
  json_object_set_new(json_object_get(a, "applicant"), "name", json_string(zHuge));
  json_object_set_new(json_object_get(a, "unit"), "name", json_string(zHuge));
  json_object_set_new(a, "recommendation", json_string(zHuge));
  json_t *s = text_section("x", zHuge, zHuge);
  json_object_set_new(json_array_get(json_object_get(s, "fields"), 0), "label", json_string(zHuge));
  json_array_append_new(json_object_get(a, "sections"), s);
  form_pdf_in in = official_in(a, zHuge);
  in.zVerifyCode = zHuge;
  in.zVerifyUrl = zHuge; /* too long for a QR code: none, no failure */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  render_to(&in, "huge.pdf", zPath);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  assert_true(t1.tv_sec - t0.tv_sec < 20);
  assert_int_equal(page_count(zPath), 2);
  assert_within_pages(zPath);
  free(zHuge);
  json_decref(a);
}

/* Bytes that are not UTF-8, control characters, markup: printed as text, no failure. */
static void test_odd_bytes(void **state) {
  char zPath[256];
  (void)state;
  json_t *a = sample_app(NULL);
  json_object_set_new(json_object_get(a, "applicant"), "name", json_string("<b>王&amp;</b>\t\x01"));
  form_pdf_in in = test_in(a);
  in.zIdNumber =
      "6501\xff\xfe"
      "01";
  in.zNumber = "650000-2026-0001234567890123456789012345X"; /* one more than a header takes */
  in.zNodeName = "自治区\n第二行";
  render_to(&in, "odd.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);
  char *z1 = page_text(zPath, 1);
  assert_contains(z1, "<b>王&amp;</b>");
  free(z1);
  json_decref(a);
}

static void test_missing_members(void **state) {
  char zPath[256];
  (void)state;
  json_t *pEmpty = json_object();
  form_pdf_in in = official_in(pEmpty, NULL);
  in.zIdNumber = in.zVerifyCode = in.zVerifyUrl = in.zNodeName = in.zIssued = NULL;
  render_to(&in, "empty.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);

  /* members of the wrong type, sections without fields, opinions without anything */
  json_t *a = json_pack("{s:s, s:[], s:i, s:[i, {}, {s:s}, {s:{s:i, s:b, s:[s,s], s:n}}], s:[i, {}, {s:i}]}", "year",
                        "2026", "applicant", "qualification", 3, "sections", 1, "title", "无字段", "data", "n", 5, "b",
                        1, "list", "甲", "乙", "nothing", "opinions", 7, "text", 8);
  assert_non_null(a);
  in = test_in(a);
  render_to(&in, "odd_types.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);
  char *z1 = page_text(zPath, 1);
  assert_contains(z1, "甲、乙");
  assert_contains(z1, "（2026年度）");
  free(z1);

  in.pApp = NULL;
  render_to(&in, "null.pdf", zPath);
  assert_int_equal(page_count(zPath), 2);
  json_decref(a);
  json_decref(pEmpty);
}

static void test_bad_arguments(void **state) {
  unsigned char *p = (unsigned char *)"x";
  size_t n = 1;
  char zErr[100] = "";
  (void)state;
  assert_int_equal(form_pdf_render(NULL, &p, &n, zErr, sizeof zErr), -1);
  assert_null(p);
  assert_int_equal(n, 0);
  assert_true(zErr[0] != 0);
}

/* ---- At once on several threads -------------------------------------------------------- */

#define N_THREADS 4

typedef struct render_job {
  const json_t *pApp;
  char zNumber[32];
  unsigned char *p;
  size_t n;
  int rc;
} render_job;

static void *render_thread(void *pArg) {
  render_job *j = pArg;
  char zErr[100];
  form_pdf_in in = official_in(j->pApp, j->zNumber);
  for (int i = 0; i < 2 && j->rc == 0; i++) {
    free(j->p);
    j->p = NULL;
    j->rc = form_pdf_render(&in, &j->p, &j->n, zErr, sizeof zErr);
  }
  return NULL;
}

static void test_threads(void **state) {
  render_job aJob[N_THREADS];
  pthread_t aThread[N_THREADS];
  (void)state;
  json_t *a = sample_app(NULL);
  memset(aJob, 0, sizeof aJob);
  for (int i = 0; i < N_THREADS; i++) {
    aJob[i].pApp = a;
    snprintf(aJob[i].zNumber, sizeof aJob[i].zNumber, "650000-2026-00010%d", i);
    assert_int_equal(pthread_create(&aThread[i], NULL, render_thread, &aJob[i]), 0);
  }
  for (int i = 0; i < N_THREADS; i++) assert_int_equal(pthread_join(aThread[i], NULL), 0);
  for (int i = 0; i < N_THREADS; i++) {
    char zPath[256], zName[32];
    assert_int_equal(aJob[i].rc, 0);
    snprintf(zName, sizeof zName, "thread%d.pdf", i);
    snprintf(zPath, sizeof zPath, "%s/%s", g_zDir, zName);
    FILE *f = fopen(zPath, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(aJob[i].p, 1, aJob[i].n, f), aJob[i].n);
    fclose(f);
    free(aJob[i].p);
    assert_int_equal(page_count(zPath), 2);
    char *z1 = page_text(zPath, 1), *z2 = page_text(zPath, 2);
    assert_contains(z1, aJob[i].zNumber);
    assert_contains(z2, aJob[i].zNumber);
    assert_contains(z1, "李明远");
    free(z1);
    free(z2);
  }
  json_decref(a);
}

/* ---- Setup ------------------------------------------------------------------------------ */

static int setup_dir(void **state) {
  (void)state;
  snprintf(g_zDir, sizeof g_zDir, "/tmp/zc-form-pdf-XXXXXX");
  return mkdtemp(g_zDir) ? 0 : -1;
}

static int remove_entry(const char *zPath, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(zPath);
}

/* Removes the PDFs (kept for a look when ZC_KEEP_PDFS is set), then lets go of what
 * pango, cairo and fontconfig keep for the whole
 * process (this thread's font map; cairo's caches and fontconfig's configuration through
 * form_pdf_shutdown, as the server does at its end), so that LeakSanitizer reports only
 * what the renders would leak. */
static int teardown_dir(void **state) {
  (void)state;
  if (!getenv("ZC_KEEP_PDFS")) nftw(g_zDir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  pango_cairo_font_map_set_default(NULL);
  form_pdf_shutdown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_test_form),       cmocka_unit_test(test_masked_id),
      cmocka_unit_test(test_official_form),   cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_overflow),        cmocka_unit_test(test_shrinks_before_cutting),
      cmocka_unit_test(test_too_many_fields), cmocka_unit_test(test_huge_strings),
      cmocka_unit_test(test_odd_bytes),       cmocka_unit_test(test_missing_members),
      cmocka_unit_test(test_bad_arguments),   cmocka_unit_test(test_threads),
      cmocka_unit_test(test_uyghur_name),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
