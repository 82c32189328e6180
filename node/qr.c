/* qr.c - QR codes of URLs (qr.h). One rectangle per run of dark modules in a row, so a
 * PDF holds a few hundred rectangles, not a thousand. */
#include "qr.h"

#include <qrencode.h>

#include "http.h"

#define QR_QUIET 4 /* modules of white around the code, as the standard asks */

static QRcode *qr_encode(const char *zUrl) {
  return zUrl && *zUrl ? QRcode_encodeString(zUrl, 0, QR_ECLEVEL_M, QR_MODE_8, 1) : NULL;
}

static void qr_paint(cairo_t *cr, const QRcode *q, double x, double y, double side) {
  double m = side / (q->width + 2 * QR_QUIET);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, x, y, side, side);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (int iy = 0; iy < q->width; iy++)
    for (int ix = 0; ix < q->width;) {
      int iEnd = ix;
      while (iEnd < q->width && (q->data[iy * q->width + iEnd] & 1)) iEnd++;
      if (iEnd > ix) cairo_rectangle(cr, x + (QR_QUIET + ix) * m, y + (QR_QUIET + iy) * m, (iEnd - ix) * m, m);
      ix = iEnd > ix ? iEnd : ix + 1;
    }
  cairo_fill(cr);
}

int qr_draw(cairo_t *cr, const char *zUrl, double x, double y, double side) {
  QRcode *q = qr_encode(zUrl);
  if (!q) return 0;
  qr_paint(cr, q, x, y, side);
  QRcode_free(q);
  return 1;
}

static cairo_status_t png_append(void *pCtx, const unsigned char *a, unsigned int n) {
  buf_append((zc_buf *)pCtx, (const char *)a, n);
  return CAIRO_STATUS_SUCCESS;
}

static int qr_png(const char *zUrl, int nModule, zc_buf *pOut) {
  QRcode *q = qr_encode(zUrl);
  if (!q) return -1;
  int side = (q->width + 2 * QR_QUIET) * nModule;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side);
  cairo_t *cr = cairo_create(s);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE); /* whole pixels: crisp edges to scan */
  qr_paint(cr, q, 0, 0, side);
  cairo_destroy(cr);
  int rc = cairo_surface_write_to_png_stream(s, png_append, pOut) == CAIRO_STATUS_SUCCESS ? 0 : -1;
  cairo_surface_destroy(s);
  QRcode_free(q);
  return rc;
}

int qr_answer_png(zc_req *r, const char *zUrl, int nModule, const char *zCache) {
  r->out.n = 0;
  if (qr_png(zUrl, nModule, &r->out)) return -1;
  r->status = 200;
  r->zOutType = "image/png";
  if (zCache) http_header(r, "Cache-Control", "%s", zCache);
  return 0;
}
