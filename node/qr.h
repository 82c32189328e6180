/* qr.h - QR codes of URLs (libqrencode, error correction M), drawn as dark squares on white
 * with the standard quiet zone of four modules: into a cairo context (the official form's
 * verification code) or as a PNG (a certificate's, for a phone to scan). */
#ifndef ZC_QR_H
#define ZC_QR_H

#include <cairo.h>

struct zc_buf;

/* zUrl's code, side points wide including the quiet zone, at (x, y); 0 if it could not be
 * encoded (nothing is drawn then). */
int qr_draw(cairo_t *cr, const char *zUrl, double x, double y, double side);

/* zUrl's code as a PNG with nModule pixels per module, appended to pOut; 0 on success. */
int qr_png(const char *zUrl, int nModule, struct zc_buf *pOut);

#endif
