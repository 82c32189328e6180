/* form_pdf.c - the review form (评审表) as two A4 pages (form_pdf.h): the front holds the
 * title, who applies for what, and the sections' fields as a ruled table; the back the
 * rest of that table and the three opinion boxes. Everything must fit on one sheet, so
 * the form is built as rows first, measured, shrunk until it fits (smaller type, then
 * the longest texts cut), and only then drawn.
 *
 * Thread safety: every cairo and pango object is made per call; the only shared one is
 * pango's default font map, which is per thread. Texts go in with pango_layout_set_text,
 * never as markup, so nothing in an application can change how the form looks. */
#include "form_pdf.h"
#include "qr.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The page (units: PostScript points) ---------------------------------------------- */

#define PAGE_W 595.276 /* A4 */
#define PAGE_H 841.890
#define MARGIN_X 50.0
#define TABLE_W (PAGE_W - 2 * MARGIN_X)
#define HEAD_Y 24.0      /* the running header's text */
#define HEAD_RULE_Y 40.0 /* the line under it */
#define PAGE2_TOP 52.0   /* where the table continues on the back */
#define BODY_BOTTOM (PAGE_H - 46.0)
#define FOOT_Y (PAGE_H - 36.0)

#define LABEL_W 100.0                              /* every label column */
#define QUAD_VALUE_W ((TABLE_W - 2 * LABEL_W) / 2) /* a value beside another pair */
#define PAD_X 5.0
#define PAD_Y 4.0
#define BOX_MIN_H 112.0 /* an opinion box leaves room to write and stamp by hand */

/* Chinese in WenQuanYi (fonts-wqy-microhei); Uyghur names and text, in Arabic script, in
 * UKIJ Tuz Tom (fonts-ukij-uyghur), whose letters and joins are made for Uyghur: pango takes
 * each character from the first family of the list that has it, and sets it right to left. */
#define FONT_FAMILY "WenQuanYi Micro Hei,UKIJ Tuz Tom"
#define SIZE_BODY_MAX 10.5
#define SIZE_BODY_MIN 7.0
#define SIZE_STEP 0.5
#define SIZE_TITLE 20.0
#define SIZE_SMALL 8.0

#define A4_DIAGONAL 0.9553166181245093 /* atan(sqrt(2)): the sides of A4 are 1 : sqrt(2) */

/* The watermark runs along the diagonal (1 031 points): the official one three times, a
 * line WATERMARK_GAP apart, where the outer lines cross about 600 points of the page. */
#define WATERMARK_SIZE 24.0
#define WATERMARK_TEST_SIZE 150.0
#define WATERMARK_GAP 200.0
#define WATERMARK_MAX_W 540.0

#define QR_SIDE 64.0 /* the code with its quiet zone of 4 modules */
#define VERIFY_SIZE 7.0    /* the code under the QR code */
#define VERIFY_MAX_W 130.0 /* wider would reach the title */

/* Longer texts are cut before anything is measured: more would never fit on two pages
 * (a 7pt value column holds about 4 300 CJK characters a page), and it keeps the work
 * bounded whatever arrives. */
#define CAP_VALUE 6000
#define CAP_SHORT 200 /* labels, titles, names */
#define CUT_ROUNDS 400
#define ELLIPSIS "……（详见申报材料）"

/* ---- Texts as printed ------------------------------------------------------------------ */

/* A text of the form: all of it, and how much of it is shown. */
typedef struct form_text {
  char *zFull;  /* valid UTF-8 without control characters but newlines; g_malloc'd */
  size_t nChar; /* its characters */
  size_t nShow; /* characters shown; fewer than nChar: cut, with ELLIPSIS appended */
  char *zCut;   /* the cut text (g_malloc'd), NULL when all of it shows */
} form_text;

static const char *text_shown(const form_text *t) { return t->zCut ? t->zCut : t->zFull ? t->zFull : ""; }

static void text_free(form_text *t) {
  g_free(t->zFull);
  g_free(t->zCut);
  memset(t, 0, sizeof(*t));
}

/* Show only the first nShow characters (and the ellipsis), or all if there are no more. */
static void text_cut(form_text *t, size_t nShow) {
  g_free(t->zCut);
  t->zCut = NULL;
  if (nShow >= t->nChar) {
    t->nShow = t->nChar;
    return;
  }
  const char *zEnd = g_utf8_offset_to_pointer(t->zFull, (glong)nShow);
  size_t nByte = (size_t)(zEnd - t->zFull);
  while (nByte > 0 && (t->zFull[nByte - 1] == ' ' || t->zFull[nByte - 1] == '\n')) nByte--;
  t->zCut = g_malloc(nByte + sizeof(ELLIPSIS));
  memcpy(t->zCut, t->zFull, nByte);
  memcpy(t->zCut + nByte, ELLIPSIS, sizeof(ELLIPSIS));
  t->nShow = nShow;
}

/* Take z (may be NULL, may be any bytes) as valid UTF-8 whose only control character is
 * the newline (a tab becomes a space, a CR of CRLF goes), at most nCap characters shown. */
static void text_set(form_text *t, const char *z, size_t nCap) {
  text_free(t);
  t->zFull = g_utf8_make_valid(z ? z : "", -1);
  char *pOut = t->zFull;
  for (const char *p = t->zFull; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch == '\r' && p[1] == '\n') continue;
    *pOut++ = (ch < 0x20 && ch != '\n') || ch == 0x7F ? ' ' : (char)ch;
  }
  *pOut = 0;
  t->nChar = t->nShow = (size_t)g_utf8_strlen(t->zFull, -1);
  if (t->nChar > nCap) text_cut(t, nCap);
}

/* ---- Reading the application ------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *zKey) { return json_string_value(json_object_get(o, zKey)); }

/* The string member zKey of member zObj of o, e.g. ("unit", "name"); NULL if any is missing. */
static const char *jstr2(const json_t *o, const char *zObj, const char *zKey) {
  return jstr(json_object_get(o, zObj), zKey);
}

/* A JSON value as it prints in a cell (g_malloc'd): numbers as numbers, booleans as 是/否,
 * lists joined with 、, null or missing as nothing. */
static char *value_text(const json_t *v, int nDepth) {
  if (!v || json_is_null(v)) return g_strdup("");
  if (json_is_string(v)) return g_strdup(json_string_value(v));
  if (json_is_integer(v)) return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
  if (json_is_real(v)) return g_strdup_printf("%g", json_real_value(v));
  if (json_is_boolean(v)) return g_strdup(json_is_true(v) ? "是" : "否");
  if (nDepth > 3) return g_strdup("…");
  if (json_is_array(v)) {
    GString *s = g_string_new(NULL);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
      char *z = value_text(e, nDepth + 1);
      if (i) g_string_append(s, "、");
      g_string_append(s, z);
      g_free(z);
    }
    return g_string_free(s, FALSE);
  }
  char *zJson = json_dumps(v, JSON_COMPACT);
  char *z = g_strdup(zJson ? zJson : "");
  free(zJson);
  return z;
}

/* "一" .. "九十九": sections are numbered the Chinese way. */
static void chinese_number(int n, char *z, size_t nZ) {
  static const char *const aDigit[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  if (n < 1 || n > 99)
    snprintf(z, nZ, "%d", n);
  else if (n < 10)
    snprintf(z, nZ, "%s", aDigit[n]);
  else
    snprintf(z, nZ, "%s十%s", n >= 20 ? aDigit[n / 10] : "", aDigit[n % 10]);
}

/* ---- The form as rows ------------------------------------------------------------------- */

enum { CELL_LABEL, CELL_VALUE, CELL_HEADER };

typedef struct form_cell {
  int eKind;
  double x, w; /* from the table's left edge */
  form_text t;
  double h; /* the text's height at the current size */
} form_cell;

#define ROW_CELLS 4
typedef struct form_row {
  int nCell;
  form_cell a[ROW_CELLS];
  int iHeader; /* the row of this row's section title, -1 if none (or it is one) */
  double h;    /* measured */
  int iPage;   /* 1, 2, or 0 when it did not fit */
  double y;
} form_row;

/* An opinion box on the back: 基层单位意见, 推荐单位意见, 评审委员会意见. */
enum { BOX_UNIT, BOX_DEPT, BOX_COMMITTEE, N_BOX };
static const char *const g_azBoxTitle[N_BOX] = {"基层单位意见", "推荐单位意见", "评审委员会意见"};
static const char *const g_azBoxStage[N_BOX] = {"unit", "dept", "committee"};
#define STAMP_LINE "（盖章）　　　　　　年　　　月　　　日"

typedef struct form_box {
  form_text t;
  double hText, hStamp; /* measured */
  double h, y;          /* as placed: at least the measured height */
} form_box;

typedef struct form_doc {
  form_row *aRow;
  int nRow, nAlloc;
  form_box aBox[N_BOX];
  double size;   /* the body text's size */
  double yTop1;  /* where the table starts on the front */
  int iCont;     /* a row starting the back in the middle of a section, or -1 */
  int bDropped;  /* rows left out at the end, a note says so */
  double hNote;  /* that note's row */
  double yBoxes; /* where the boxes start */
} form_doc;

static form_row *doc_add_row(form_doc *d, int iHeader) {
  if (d->nRow == d->nAlloc) {
    d->nAlloc = d->nAlloc ? 2 * d->nAlloc : 32;
    d->aRow = g_realloc_n(d->aRow, (size_t)d->nAlloc, sizeof(form_row));
  }
  form_row *r = &d->aRow[d->nRow++];
  memset(r, 0, sizeof(*r));
  r->iHeader = iHeader;
  return r;
}

static void row_add_cell(form_row *r, int eKind, double w, const char *z, size_t nCap) {
  form_cell *c = &r->a[r->nCell];
  c->eKind = eKind;
  c->x = r->nCell ? r->a[r->nCell - 1].x + r->a[r->nCell - 1].w : 0;
  c->w = w;
  text_set(&c->t, z, nCap);
  r->nCell++;
}

/* label | value, the value across the rest of the table, at most nCap characters of it. */
static void doc_add_pair(form_doc *d, int iHeader, const char *zLabel, const char *zValue, size_t nCap) {
  form_row *r = doc_add_row(d, iHeader);
  row_add_cell(r, CELL_LABEL, LABEL_W, zLabel, CAP_SHORT);
  row_add_cell(r, CELL_VALUE, TABLE_W - LABEL_W, zValue, nCap);
}

/* label | value | label | value, for short values. */
static void doc_add_quad(form_doc *d, int iHeader, const char *zLabel1, const char *zValue1, const char *zLabel2,
                         const char *zValue2) {
  form_row *r = doc_add_row(d, iHeader);
  row_add_cell(r, CELL_LABEL, LABEL_W, zLabel1, CAP_SHORT);
  row_add_cell(r, CELL_VALUE, QUAD_VALUE_W, zValue1, CAP_SHORT);
  row_add_cell(r, CELL_LABEL, LABEL_W, zLabel2, CAP_SHORT);
  row_add_cell(r, CELL_VALUE, QUAD_VALUE_W, zValue2, CAP_SHORT);
}

/* Who applies for what: the rows above the sections. */
static void doc_add_applicant(form_doc *d, const form_pdf_in *in) {
  const json_t *a = in->pApp;
  const char *zSeries = jstr2(a, "qualification", "series_name");
  const char *zDept = jstr2(a, "dept", "name");
  doc_add_quad(d, -1, "姓名", jstr2(a, "applicant", "name"), "身份证号",
               in->zIdNumber ? in->zIdNumber : jstr2(a, "applicant", "id_number_masked"));
  doc_add_quad(d, -1, "申报系列", zSeries ? zSeries : jstr2(a, "qualification", "series"), "申报专业",
               jstr2(a, "specialty", "name"));
  doc_add_quad(d, -1, "申报资格", jstr2(a, "qualification", "name"), "编号", in->zNumber);
  doc_add_pair(d, -1, "工作单位", jstr2(a, "unit", "name"), CAP_SHORT);
  if (zDept && *zDept) doc_add_pair(d, -1, "推荐单位", zDept, CAP_SHORT);
  doc_add_pair(d, -1, "评审委员会", jstr2(a, "committee", "name"), CAP_SHORT);
  if (json_is_true(json_object_get(a, "directed")))
    doc_add_pair(d, -1, "评审方式", "定向评审（取得的职称限定向使用）", CAP_SHORT);
}

/* One field of a section, as its label and its value's text (g_malloc'd). */
typedef struct form_field {
  const char *zLabel;
  char *zValue;
  int bShort; /* fits half a row: pairs with the next short one */
} form_field;

static void field_read(form_field *f, const char *zLabel, const char *zType, const json_t *pValue) {
  f->zLabel = zLabel ? zLabel : "";
  f->zValue = value_text(pValue, 0);
  f->bShort = !(zType && strcmp(zType, "textarea") == 0) && g_utf8_strlen(f->zLabel, -1) <= 12 &&
              g_utf8_strlen(f->zValue, 64) <= 40;
}

/* A section's fields as the definition lists them, or, without one, its data's members. */
static int section_fields(const json_t *s, form_field **paField) {
  const json_t *aDef = json_object_get(s, "fields"), *pData = json_object_get(s, "data");
  form_field *a;
  int n = 0;
  if (json_is_array(aDef)) {
    size_t i;
    const json_t *f;
    a = g_new0(form_field, json_array_size(aDef) + 1);
    json_array_foreach(aDef, i, f) {
      const char *zName = jstr(f, "name"), *zLabel = jstr(f, "label");
      if (!json_is_object(f)) continue;
      field_read(&a[n++], zLabel ? zLabel : zName, jstr(f, "type"), zName ? json_object_get(pData, zName) : NULL);
    }
  } else {
    const char *zKey;
    const json_t *v;
    a = g_new0(form_field, json_object_size(pData) + 1);
    json_object_foreach((json_t *)pData, zKey, v) field_read(&a[n++], zKey, NULL, v);
  }
  *paField = a;
  return n;
}

/* A section: its numbered title across the table, then its fields, short ones two a row. */
static void doc_add_section(form_doc *d, const json_t *s, int iSection) {
  const char *zTitle = jstr(s, "title");
  char zNum[32], *zHead;
  form_field *aField;
  int nField = section_fields(s, &aField);
  int iHeader = d->nRow;

  if (!zTitle) zTitle = jstr(s, "name");
  chinese_number(iSection + 1, zNum, sizeof zNum);
  zHead = g_strdup_printf("%s、%s", zNum, zTitle ? zTitle : "");
  row_add_cell(doc_add_row(d, -1), CELL_HEADER, TABLE_W, zHead, CAP_SHORT);
  g_free(zHead);
  for (int i = 0; i < nField; i++) {
    form_field *f = &aField[i];
    if (f->bShort && i + 1 < nField && aField[i + 1].bShort) {
      doc_add_quad(d, iHeader, f->zLabel, f->zValue, aField[i + 1].zLabel, aField[i + 1].zValue);
      i++;
    } else {
      doc_add_pair(d, iHeader, f->zLabel, f->zValue, CAP_VALUE);
    }
  }
  for (int i = 0; i < nField; i++) g_free(aField[i].zValue);
  g_free(aField);
}

/* The title of the section called zName, for an opinion about it. */
static const char *section_title(const json_t *pApp, const char *zName) {
  size_t i;
  const json_t *s;
  if (!zName) return NULL;
  json_array_foreach(json_object_get(pApp, "sections"), i, s) {
    const char *z = jstr(s, "name");
    if (z && strcmp(z, zName) == 0) return jstr(s, "title") ? jstr(s, "title") : zName;
  }
  return zName;
}

/* Which box an opinion goes in: by its stage; one without a known stage in the first. */
static int opinion_box(const json_t *o) {
  const char *zStage = jstr(o, "stage");
  for (int i = 0; zStage && i < N_BOX; i++)
    if (strcmp(zStage, g_azBoxStage[i]) == 0) return i;
  return BOX_UNIT;
}

/* The opinions' texts per box: the unit's recommendation (单位推荐意见, given when it
 * forwards the application) first in the unit's box, then each stage's opinions of the
 * current round, "【section】text" one a line. */
static void doc_add_opinions(form_doc *d, const json_t *pApp) {
  GString *aText[N_BOX];
  const json_t *pRec = json_object_get(pApp, "recommendation");
  const json_t *pRound = json_object_get(pApp, "round");
  const char *zRec = json_is_string(pRec) ? json_string_value(pRec) : jstr(pRec, "text");
  size_t i;
  const json_t *o;

  for (int b = 0; b < N_BOX; b++) aText[b] = g_string_new(NULL);
  if (zRec && *zRec) g_string_append(aText[BOX_UNIT], zRec);
  json_array_foreach(json_object_get(pApp, "opinions"), i, o) {
    const char *zText = jstr(o, "text"), *zSection = section_title(pApp, jstr(o, "section"));
    const json_t *pOpRound = json_object_get(o, "round");
    GString *s;
    if (!zText || !*zText) continue;
    if (json_is_integer(pRound) && json_is_integer(pOpRound) &&
        json_integer_value(pRound) != json_integer_value(pOpRound))
      continue;
    s = aText[opinion_box(o)];
    if (s->len) g_string_append_c(s, '\n');
    if (zSection && *zSection) g_string_append_printf(s, "【%s】", zSection);
    g_string_append(s, zText);
  }
  for (int b = 0; b < N_BOX; b++) {
    text_set(&d->aBox[b].t, aText[b]->str, CAP_VALUE);
    g_string_free(aText[b], TRUE);
  }
}

static void doc_build(form_doc *d, const form_pdf_in *in) {
  size_t i;
  const json_t *s;
  d->iCont = -1;
  doc_add_applicant(d, in);
  json_array_foreach(json_object_get(in->pApp, "sections"), i, s) {
    if (json_is_object(s)) doc_add_section(d, s, (int)i);
  }
  doc_add_opinions(d, in->pApp);
}

static void doc_free(form_doc *d) {
  for (int i = 0; i < d->nRow; i++)
    for (int j = 0; j < d->aRow[i].nCell; j++) text_free(&d->aRow[i].a[j].t);
  for (int b = 0; b < N_BOX; b++) text_free(&d->aBox[b].t);
  g_free(d->aRow);
  memset(d, 0, sizeof(*d));
}

/* ---- Measuring and drawing text --------------------------------------------------------- */

typedef struct form_ctx {
  cairo_t *cr;
  PangoContext *pPango;
  PangoFontDescription *pFont; /* the family; sizes and weights are set per text */
} form_ctx;

enum { TEXT_LEFT = 0, TEXT_CENTER = 1, TEXT_RIGHT = 2, TEXT_BOLD = 4, TEXT_ONE_LINE = 8 };

/* A layout of z at size, wrapped at width w (no wrapping when w <= 0). */
static PangoLayout *layout_make(form_ctx *c, const char *z, double w, double size, int flags) {
  PangoLayout *l = pango_layout_new(c->pPango);
  PangoFontDescription *pFont = pango_font_description_copy_static(c->pFont);
  pango_font_description_set_absolute_size(pFont, size * PANGO_SCALE);
  if (flags & TEXT_BOLD) pango_font_description_set_weight(pFont, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description(l, pFont);
  pango_font_description_free(pFont);
  /* The form reads left to right: a Uyghur name keeps its own order within the line but
   * starts at the left like the Chinese beside it, not at the right of its cell. */
  pango_layout_set_auto_dir(l, FALSE);
  if (w > 0) {
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    if (flags & TEXT_ONE_LINE) pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    pango_layout_set_alignment(l, (flags & 3) == TEXT_CENTER  ? PANGO_ALIGN_CENTER
                                  : (flags & 3) == TEXT_RIGHT ? PANGO_ALIGN_RIGHT
                                                              : PANGO_ALIGN_LEFT);
  }
  pango_layout_set_text(l, z, -1);
  return l;
}

static double text_height(form_ctx *c, const char *z, double w, double size, int flags) {
  PangoLayout *l = layout_make(c, z, w, size, flags);
  int h;
  pango_layout_get_size(l, NULL, &h);
  g_object_unref(l);
  return (double)h / PANGO_SCALE;
}

static double text_width(form_ctx *c, const char *z, double size, int flags) {
  PangoLayout *l = layout_make(c, z, 0, size, flags);
  int w;
  pango_layout_get_size(l, &w, NULL);
  g_object_unref(l);
  return (double)w / PANGO_SCALE;
}

/* Draw z with its top left corner at (x, y), wrapped and aligned within w. */
static void text_draw(form_ctx *c, const char *z, double x, double y, double w, double size, int flags) {
  PangoLayout *l = layout_make(c, z, w, size, flags);
  cairo_move_to(c->cr, x, y);
  pango_cairo_show_layout(c->cr, l);
  g_object_unref(l);
}

/* ---- Fitting: measure at a size, flow over the two pages, shrink until it fits ----------- */

static double cell_text_w(const form_cell *p) { return p->w - 2 * PAD_X; }
static int cell_flags(const form_cell *p) {
  return p->eKind == CELL_LABEL ? TEXT_CENTER : p->eKind == CELL_HEADER ? TEXT_BOLD : TEXT_LEFT;
}
static double cell_size(const form_doc *d, const form_cell *p) {
  return p->eKind == CELL_HEADER ? d->size + 0.5 : d->size;
}

static void row_measure(form_ctx *c, form_doc *d, form_row *r) {
  double h = 0;
  for (int j = 0; j < r->nCell; j++) {
    form_cell *p = &r->a[j];
    p->h = text_height(c, text_shown(&p->t), cell_text_w(p), cell_size(d, p), cell_flags(p));
    if (p->h > h) h = p->h;
  }
  r->h = h + 2 * PAD_Y;
}

static double box_text_w(void) { return TABLE_W - LABEL_W - 2 * PAD_X; }

static void box_measure(form_ctx *c, form_doc *d, form_box *b) {
  const char *z = text_shown(&b->t);
  b->hText = *z ? text_height(c, z, box_text_w(), d->size, TEXT_LEFT) : 0;
  b->hStamp = text_height(c, STAMP_LINE, 0, d->size, TEXT_LEFT);
  b->h = 2 * PAD_Y + b->hText + 3 * PAD_Y + b->hStamp + 2 * PAD_Y;
  if (b->h < BOX_MIN_H) b->h = BOX_MIN_H;
}

static void doc_measure(form_ctx *c, form_doc *d) {
  for (int i = 0; i < d->nRow; i++) row_measure(c, d, &d->aRow[i]);
  for (int b = 0; b < N_BOX; b++) box_measure(c, d, &d->aBox[b]);
  d->hNote = text_height(c, ELLIPSIS, 0, d->size, TEXT_LEFT) + 2 * PAD_Y;
}

static double boxes_height(const form_doc *d) {
  double h = 0;
  for (int b = 0; b < N_BOX; b++) h += d->aBox[b].h;
  return h;
}

/* Place the rows on the front, then on the back above the boxes; a section's title never
 * ends the front alone, and a section broken by the page has its title repeated. 1 when
 * everything fits. With bDrop, the rows that do not fit are left out (room kept for a
 * note saying so) and 1 is returned. */
static int doc_flow(form_doc *d, int bDrop) {
  double y = d->yTop1, yEnd2 = BODY_BOTTOM - boxes_height(d) - (bDrop ? d->hNote : 0);
  int iPage = 1, bFits = 1;
  d->iCont = -1;
  d->bDropped = 0;
  for (int i = 0; i < d->nRow; i++) {
    form_row *r = &d->aRow[i];
    double hNeed = r->h;
    int bTitle = r->nCell == 1 && r->a[0].eKind == CELL_HEADER;
    if (bTitle && i + 1 < d->nRow && d->aRow[i + 1].iHeader == i) hNeed += d->aRow[i + 1].h;
    if (iPage == 1 && y + hNeed > BODY_BOTTOM) {
      iPage = 2;
      y = PAGE2_TOP;
      if (r->iHeader >= 0) {
        d->iCont = i;
        y += d->aRow[r->iHeader].h;
      }
    }
    if (iPage == 2 && (!bFits || y + r->h > yEnd2)) {
      bFits = 0;
      r->iPage = 0;
      d->bDropped = 1;
      continue;
    }
    r->iPage = iPage;
    r->y = y;
    y += r->h;
  }
  d->yBoxes = iPage == 2 ? y + (d->bDropped ? d->hNote : 0) : PAGE2_TOP;
  return bFits || bDrop;
}

/* How much too tall the form is, roughly (what the page break wastes is not counted). */
static double doc_excess(const form_doc *d) {
  double h = boxes_height(d);
  for (int i = 0; i < d->nRow; i++) h += d->aRow[i].h;
  return h - (BODY_BOTTOM - d->yTop1) - (BODY_BOTTOM - PAGE2_TOP);
}

/* The text that takes most height and can still be cut: a value, or an opinion that makes
 * its box taller than the least a box takes anyway. */
static form_text *doc_tallest(form_doc *d, double *pH, int *piRow) {
  form_text *pBest = NULL;
  double hBest = 0;
  for (int i = 0; i < d->nRow; i++)
    for (int j = 0; j < d->aRow[i].nCell; j++) {
      form_cell *p = &d->aRow[i].a[j];
      if (p->eKind == CELL_VALUE && p->t.nShow > 0 && p->h > hBest) {
        pBest = &p->t, hBest = p->h, *piRow = i;
      }
    }
  for (int b = 0; b < N_BOX; b++)
    if (d->aBox[b].t.nShow > 0 && d->aBox[b].h > BOX_MIN_H && d->aBox[b].hText > hBest) {
      pBest = &d->aBox[b].t, hBest = d->aBox[b].hText, *piRow = -1 - b;
    }
  *pH = hBest;
  return pBest;
}

/* Cut the tallest text by about the excess, by half at most, and measure it again; 0 when
 * no text is worth cutting any more. */
static int doc_cut_tallest(form_ctx *c, form_doc *d) {
  double h, hLine = d->size * 1.5, hExcess = doc_excess(d);
  int iRow = 0;
  form_text *t = doc_tallest(d, &h, &iRow);
  if (!t || h < 3 * d->size) return 0; /* two lines at most: cutting would only spoil it */
  if (hExcess < hLine) hExcess = hLine;
  double f = (h - hExcess) / h;
  if (f < 0.5) f = 0.5;
  if (f > 0.9) f = 0.9;
  text_cut(t, t->nShow < 8 ? 0 : (size_t)(t->nShow * f));
  if (iRow >= 0)
    row_measure(c, d, &d->aRow[iRow]);
  else
    box_measure(c, d, &d->aBox[-1 - iRow]);
  return 1;
}

/* The largest body size at which everything fits; failing that the smallest, with the
 * longest texts cut; failing that (hundreds of fields) the last rows left out. */
static void doc_fit(form_ctx *c, form_doc *d) {
  for (double size = SIZE_BODY_MAX; size >= SIZE_BODY_MIN - 0.01; size -= SIZE_STEP) {
    d->size = size;
    doc_measure(c, d);
    if (doc_flow(d, 0)) return;
  }
  for (int i = 0; i < CUT_ROUNDS && doc_cut_tallest(c, d); i++)
    if (doc_flow(d, 0)) return;
  doc_flow(d, 1);
}

/* ---- Drawing ------------------------------------------------------------------------------- */

static double max2(double a, double b) { return a > b ? a : b; }

static void set_gray(cairo_t *cr, double g) { cairo_set_source_rgb(cr, g, g, g); }

static void cell_draw(form_ctx *c, const form_doc *d, const form_cell *p, double y, double h) {
  double x = MARGIN_X + p->x;
  if (p->eKind != CELL_VALUE) {
    set_gray(c->cr, p->eKind == CELL_HEADER ? 0.88 : 0.96);
    cairo_rectangle(c->cr, x, y, p->w, h);
    cairo_fill(c->cr);
  }
  set_gray(c->cr, 0);
  cairo_set_line_width(c->cr, 0.6);
  cairo_rectangle(c->cr, x, y, p->w, h);
  cairo_stroke(c->cr);
  text_draw(c, text_shown(&p->t), x + PAD_X, y + (h - p->h) / 2, cell_text_w(p), cell_size(d, p), cell_flags(p));
}

static void row_draw(form_ctx *c, const form_doc *d, const form_row *r, double y) {
  for (int j = 0; j < r->nCell; j++) cell_draw(c, d, &r->a[j], y, r->h);
}

/* A full-width row of text: a section's title repeated, or the note on rows left out. */
static void banner_draw(form_ctx *c, const form_doc *d, const char *z, int eKind, double y, double h) {
  form_cell cell = {.eKind = eKind, .x = 0, .w = TABLE_W};
  cell.t.zFull = (char *)z;
  cell.h = text_height(c, z, cell_text_w(&cell), cell_size(d, &cell), cell_flags(&cell));
  cell_draw(c, d, &cell, y, h);
}

static void frame_draw(form_ctx *c, double yTop, double yBottom) {
  if (yBottom <= yTop) return;
  set_gray(c->cr, 0);
  cairo_set_line_width(c->cr, 1.2);
  cairo_rectangle(c->cr, MARGIN_X, yTop, TABLE_W, yBottom - yTop);
  cairo_stroke(c->cr);
}

/* The running header: the test form's warning or the official number, and the page. */
static void header_draw(form_ctx *c, const form_pdf_in *in, int iPage) {
  char *zLeft = in->bOfficial ? g_strdup_printf("%s%s编号：%s", in->zNodeName ? in->zNodeName : "",
                                                in->zNodeName ? "职称评审　" : "", in->zNumber ? in->zNumber : "")
                              : g_strdup("测试表 — 形式审查通过前仅供核对，不作评审使用");
  const char *zRight = iPage == 1 ? "第1页 共2页（正面）" : "第2页 共2页（反面）";
  if (in->bOfficial)
    set_gray(c->cr, 0.2);
  else
    cairo_set_source_rgb(c->cr, 0.7, 0.05, 0.05);
  text_draw(c, zLeft, MARGIN_X, HEAD_Y, TABLE_W * 0.75, SIZE_SMALL + (in->bOfficial ? 0 : 1),
            TEXT_LEFT | TEXT_ONE_LINE);
  set_gray(c->cr, 0.2);
  text_draw(c, zRight, MARGIN_X + TABLE_W * 0.75, HEAD_Y, TABLE_W * 0.25, SIZE_SMALL, TEXT_RIGHT | TEXT_ONE_LINE);
  cairo_set_line_width(c->cr, 0.5);
  cairo_move_to(c->cr, MARGIN_X, HEAD_RULE_Y);
  cairo_line_to(c->cr, MARGIN_X + TABLE_W, HEAD_RULE_Y);
  cairo_stroke(c->cr);
  g_free(zLeft);
}

/* The watermark across the page, on top of everything but light: "测试表" large on the
 * test form; on the official one the node and the number, three times. */
static void watermark_draw(form_ctx *c, const form_pdf_in *in) {
  char *z = in->bOfficial
                ? g_strdup_printf("%s职称评审 %s", in->zNodeName ? in->zNodeName : "", in->zNumber ? in->zNumber : "")
                : g_strdup("测试表");
  double size = in->bOfficial ? WATERMARK_SIZE : WATERMARK_TEST_SIZE;
  double w = text_width(c, z, size, TEXT_LEFT), h;
  if (w > WATERMARK_MAX_W) { /* a long node name or number: smaller, not off the page */
    size *= WATERMARK_MAX_W / w;
    w = WATERMARK_MAX_W;
  }
  h = text_height(c, z, 0, size, TEXT_LEFT);
  cairo_save(c->cr);
  cairo_translate(c->cr, PAGE_W / 2, PAGE_H / 2);
  cairo_rotate(c->cr, -A4_DIAGONAL);
  cairo_set_source_rgba(c->cr, 0.5, 0.5, 0.5, in->bOfficial ? 0.16 : 0.13);
  for (int i = in->bOfficial ? -1 : 0; i <= (in->bOfficial ? 1 : 0); i++)
    text_draw(c, z, -w / 2, i * WATERMARK_GAP - h / 2, 0, size, TEXT_LEFT);
  cairo_restore(c->cr);
  g_free(z);
}

/* The official form's QR code at the top right with the code under it; returns the lowest
 * point it takes. */
static double verify_draw(form_ctx *c, const form_pdf_in *in) {
  char *zCode = g_strdup_printf("验证码：%s", in->zVerifyCode ? in->zVerifyCode : "");
  const char *zHint = "扫码或访问验证页面核验真伪";
  double size = VERIFY_SIZE, w = max2(text_width(c, zCode, size, 0), text_width(c, zHint, size, 0));
  if (w > VERIFY_MAX_W) w = VERIFY_MAX_W;
  double x = MARGIN_X + TABLE_W - w, y = HEAD_RULE_Y + 6;
  if (qr_draw(c->cr, in->zVerifyUrl, x + (w - QR_SIDE) / 2, y, QR_SIDE)) y += QR_SIDE;
  set_gray(c->cr, 0);
  text_draw(c, zCode, x, y, w, size, TEXT_CENTER | TEXT_ONE_LINE);
  y += text_height(c, zCode, w, size, TEXT_CENTER | TEXT_ONE_LINE);
  set_gray(c->cr, 0.3);
  text_draw(c, zHint, x, y, w, size, TEXT_CENTER | TEXT_ONE_LINE);
  y += text_height(c, zHint, w, size, TEXT_CENTER | TEXT_ONE_LINE);
  g_free(zCode);
  return y;
}

/* The title and the year; returns the lowest point they take. */
static double title_draw(form_ctx *c, const form_pdf_in *in) {
  const json_t *pYear = json_object_get(in->pApp, "year");
  char *zYear = json_is_integer(pYear) ? g_strdup_printf("（%" JSON_INTEGER_FORMAT "年度）", json_integer_value(pYear))
                : json_is_string(pYear) ? g_strdup_printf("（%s年度）", json_string_value(pYear))
                                        : NULL;
  double y = HEAD_RULE_Y + 14;
  set_gray(c->cr, 0);
  text_draw(c, "专业技术职务任职资格评审表", MARGIN_X, y, TABLE_W, SIZE_TITLE, TEXT_CENTER | TEXT_BOLD);
  y += text_height(c, "专业技术职务任职资格评审表", TABLE_W, SIZE_TITLE, TEXT_CENTER | TEXT_BOLD) + 4;
  if (zYear) {
    form_text t = {0};
    text_set(&t, zYear, 20);
    text_draw(c, text_shown(&t), MARGIN_X, y, TABLE_W, 11, TEXT_CENTER);
    y += text_height(c, text_shown(&t), TABLE_W, 11, TEXT_CENTER);
    text_free(&t);
  }
  g_free(zYear);
  return y;
}

/* What the title block takes on the front, before the table: known before the fitting. */
static double front_table_top(form_ctx *c, const form_pdf_in *in) {
  double yTitle = HEAD_RULE_Y + 14 + text_height(c, "专", TABLE_W, SIZE_TITLE, TEXT_BOLD) + 4 +
                  text_height(c, "（", TABLE_W, 11, 0);
  double yVerify = HEAD_RULE_Y + 6 + QR_SIDE + 2 * text_height(c, "验", 0, VERIFY_SIZE, 0);
  return (in->bOfficial ? max2(yTitle, yVerify) : yTitle) + 10;
}

static void rows_draw(form_ctx *c, const form_doc *d, int iPage) {
  for (int i = 0; i < d->nRow; i++)
    if (d->aRow[i].iPage == iPage) row_draw(c, d, &d->aRow[i], d->aRow[i].y);
}

static void front_draw(form_ctx *c, const form_doc *d, const form_pdf_in *in) {
  double yEnd = d->yTop1;
  header_draw(c, in, 1);
  title_draw(c, in);
  if (in->bOfficial) verify_draw(c, in);
  rows_draw(c, d, 1);
  for (int i = 0; i < d->nRow; i++)
    if (d->aRow[i].iPage == 1) yEnd = d->aRow[i].y + d->aRow[i].h;
  frame_draw(c, d->yTop1, yEnd);
  watermark_draw(c, in);
}

/* An opinion box: its title on the left, the text at the top, the stamp line at the foot. */
static void box_draw(form_ctx *c, const form_doc *d, int b) {
  const form_box *p = &d->aBox[b];
  double xText = MARGIN_X + LABEL_W + PAD_X;
  form_cell label = {.eKind = CELL_LABEL, .x = 0, .w = LABEL_W};
  label.t.zFull = (char *)g_azBoxTitle[b];
  label.h = text_height(c, g_azBoxTitle[b], cell_text_w(&label), d->size + 1, TEXT_CENTER);
  set_gray(c->cr, 0.96);
  cairo_rectangle(c->cr, MARGIN_X, p->y, LABEL_W, p->h);
  cairo_fill(c->cr);
  set_gray(c->cr, 0);
  cairo_set_line_width(c->cr, 0.6);
  cairo_rectangle(c->cr, MARGIN_X, p->y, LABEL_W, p->h);
  cairo_rectangle(c->cr, MARGIN_X + LABEL_W, p->y, TABLE_W - LABEL_W, p->h);
  cairo_stroke(c->cr);
  text_draw(c, g_azBoxTitle[b], MARGIN_X + PAD_X, p->y + (p->h - label.h) / 2, cell_text_w(&label), d->size + 1,
            TEXT_CENTER | TEXT_BOLD);
  text_draw(c, text_shown(&p->t), xText, p->y + 2 * PAD_Y, box_text_w(), d->size, TEXT_LEFT);
  text_draw(c, STAMP_LINE, xText, p->y + p->h - 2 * PAD_Y - p->hStamp, box_text_w() - 2 * PAD_X, d->size, TEXT_RIGHT);
}

/* The boxes share what room the back has left, so the page ends at its foot. */
static void boxes_place(form_doc *d) {
  double y = d->yBoxes, hSpare = (BODY_BOTTOM - d->yBoxes - boxes_height(d)) / N_BOX;
  if (hSpare < 0) hSpare = 0;
  for (int b = 0; b < N_BOX; b++) {
    d->aBox[b].y = y;
    d->aBox[b].h += hSpare;
    y += d->aBox[b].h;
  }
}

static void footer_draw(form_ctx *c, const form_pdf_in *in) {
  char *zLeft =
      g_strdup_printf("签发：%s　　生成时间：%s", in->zNodeName ? in->zNodeName : "", in->zIssued ? in->zIssued : "");
  char *zRight = in->bOfficial ? g_strdup_printf("验证码：%s", in->zVerifyCode ? in->zVerifyCode : "")
                               : g_strdup("测试表（不作评审使用）");
  set_gray(c->cr, 0.2);
  text_draw(c, zLeft, MARGIN_X, FOOT_Y, TABLE_W * 0.6, SIZE_SMALL, TEXT_LEFT | TEXT_ONE_LINE);
  text_draw(c, zRight, MARGIN_X + TABLE_W * 0.6, FOOT_Y, TABLE_W * 0.4, SIZE_SMALL, TEXT_RIGHT | TEXT_ONE_LINE);
  g_free(zLeft);
  g_free(zRight);
}

static void back_draw(form_ctx *c, form_doc *d, const form_pdf_in *in) {
  header_draw(c, in, 2);
  if (d->iCont >= 0) {
    const form_row *pTitle = &d->aRow[d->aRow[d->iCont].iHeader];
    char *z = g_strdup_printf("%s（续）", text_shown(&pTitle->a[0].t));
    banner_draw(c, d, z, CELL_HEADER, PAGE2_TOP, pTitle->h);
    g_free(z);
  }
  rows_draw(c, d, 2);
  if (d->bDropped) banner_draw(c, d, "……（其余内容详见申报材料）", CELL_VALUE, d->yBoxes - d->hNote, d->hNote);
  boxes_place(d);
  for (int b = 0; b < N_BOX; b++) box_draw(c, d, b);
  frame_draw(c, PAGE2_TOP, d->aBox[N_BOX - 1].y + d->aBox[N_BOX - 1].h);
  footer_draw(c, in);
  watermark_draw(c, in);
}

/* ---- The PDF in memory ------------------------------------------------------------------- */

typedef struct pdf_buf {
  unsigned char *a;
  size_t n, nAlloc;
} pdf_buf;

static cairo_status_t pdf_write(void *pArg, const unsigned char *aData, unsigned int nData) {
  pdf_buf *b = pArg;
  if (b->n + nData > b->nAlloc) {
    size_t nNew = b->nAlloc ? b->nAlloc : 64 * 1024;
    while (nNew < b->n + nData) nNew *= 2;
    unsigned char *aNew = realloc(b->a, nNew);
    if (!aNew) return CAIRO_STATUS_WRITE_ERROR;
    b->a = aNew;
    b->nAlloc = nNew;
  }
  memcpy(b->a + b->n, aData, nData);
  b->n += nData;
  return CAIRO_STATUS_SUCCESS;
}

/* The pango context the form is measured and drawn with: the PDF's own units (points),
 * unhinted metrics so that what was measured is what is drawn. */
static void ctx_open(form_ctx *c, cairo_t *cr) {
  cairo_font_options_t *pOpt = cairo_font_options_create();
  c->cr = cr;
  c->pPango = pango_font_map_create_context(pango_cairo_font_map_get_default());
  cairo_font_options_set_hint_metrics(pOpt, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(pOpt, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options(c->pPango, pOpt);
  cairo_font_options_destroy(pOpt);
  pango_cairo_update_context(cr, c->pPango);
  c->pFont = pango_font_description_new();
  pango_font_description_set_family_static(c->pFont, FONT_FAMILY);
}

static void ctx_close(form_ctx *c) {
  if (c->pFont) pango_font_description_free(c->pFont);
  if (c->pPango) g_object_unref(c->pPango);
  memset(c, 0, sizeof(*c));
}

/* The input's own strings, each as it prints: valid UTF-8, one line, short enough for a
 * header (an absurd number must not push the header down the page). */
enum { IN_NUMBER, IN_NODE, IN_CODE, IN_ISSUED, IN_ID, N_IN };

static const char *in_safe(form_text *t, const char *z, size_t nCap) {
  if (!z) return NULL;
  text_set(t, z, (size_t)-1);
  if (t->nChar > nCap) {
    const char *zEnd = g_utf8_offset_to_pointer(t->zFull, (glong)nCap - 1);
    char *zCut = g_strdup_printf("%.*s…", (int)(zEnd - t->zFull), t->zFull);
    g_free(t->zFull);
    t->zFull = zCut;
    t->nChar = t->nShow = nCap;
  }
  for (char *p = t->zFull; *p; p++)
    if (*p == '\n') *p = ' ';
  return t->zFull;
}

static form_pdf_in in_make_safe(const form_pdf_in *in, form_text aIn[N_IN]) {
  form_pdf_in safe = *in;
  safe.zNumber = in_safe(&aIn[IN_NUMBER], in->zNumber, 40);
  safe.zNodeName = in_safe(&aIn[IN_NODE], in->zNodeName, 20);
  safe.zVerifyCode = in_safe(&aIn[IN_CODE], in->zVerifyCode, 40);
  safe.zIssued = in_safe(&aIn[IN_ISSUED], in->zIssued, 40);
  safe.zIdNumber = in_safe(&aIn[IN_ID], in->zIdNumber, 40);
  return safe;
}

int form_pdf_render(const form_pdf_in *pIn, unsigned char **ppPdf, size_t *pnPdf, char *zErr, size_t nErr) {
  int rc = -1;
  form_text aIn[N_IN] = {{0}};
  form_pdf_in safe, *in = &safe;
  pdf_buf b = {0};
  form_ctx c = {0};
  form_doc d = {0};
  cairo_surface_t *pSurf = NULL;
  cairo_t *cr = NULL;
  char *zTitle = NULL;
  cairo_status_t st = CAIRO_STATUS_NO_MEMORY;

  if (ppPdf) *ppPdf = NULL;
  if (pnPdf) *pnPdf = 0;
  if (!pIn || !ppPdf || !pnPdf) {
    if (zErr && nErr) snprintf(zErr, nErr, "form_pdf_render: no input or output");
    return -1;
  }
  safe = in_make_safe(pIn, aIn);
  pSurf = cairo_pdf_surface_create_for_stream(pdf_write, &b, PAGE_W, PAGE_H);
  zTitle = g_strdup_printf("专业技术职务任职资格评审表 %s", in->zNumber ? in->zNumber : "");
  cairo_pdf_surface_set_metadata(pSurf, CAIRO_PDF_METADATA_TITLE, zTitle);
  cairo_pdf_surface_set_metadata(pSurf, CAIRO_PDF_METADATA_CREATOR, "zhicheng");
  cr = cairo_create(pSurf);
  if ((st = cairo_status(cr)) != CAIRO_STATUS_SUCCESS) goto done;

  ctx_open(&c, cr);
  doc_build(&d, in);
  d.yTop1 = front_table_top(&c, in);
  doc_fit(&c, &d);
  front_draw(&c, &d, in);
  cairo_show_page(cr);
  back_draw(&c, &d, in);
  cairo_show_page(cr);
  cairo_destroy(cr);
  cr = NULL;
  cairo_surface_finish(pSurf);
  if ((st = cairo_surface_status(pSurf)) != CAIRO_STATUS_SUCCESS) goto done;
  *ppPdf = b.a;
  *pnPdf = b.n;
  b.a = NULL;
  rc = 0;

done:
  if (rc && zErr && nErr) snprintf(zErr, nErr, "form_pdf_render: %s", cairo_status_to_string(st));
  doc_free(&d);
  ctx_close(&c);
  if (cr) cairo_destroy(cr);
  cairo_surface_destroy(pSurf);
  g_free(zTitle);
  free(b.a);
  for (int i = 0; i < N_IN; i++) text_free(&aIn[i]);
  return rc;
}

void form_pdf_shutdown(void) {
  cairo_debug_reset_static_data();
  FcFini();
}
