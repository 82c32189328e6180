/* qr.h - QR codes of URLs (libqrencode, error correction M), drawn as dark squares on white
 * with the standard quiet zone of four modules: into a cairo context (the official form's
 * verification code) or as a PNG answer (a certificate's or a QR login's, for a phone). */
#ifndef ZC_QR_H
#define ZC_QR_H

#include <cairo.h>

struct zc_req;

/* zUrl's code, side points wide including the quiet zone, at (x, y); 0 if it could not be
 * encoded (nothing is drawn then). */
int qr_draw(cairo_t *cr, const char *zUrl, double x, double y, double side);

/* Answer r with zUrl's code as a PNG, nModule pixels per module; zCache its Cache-Control
 * (NULL: the answers' default, no-store). 0, or -1 when it could not be made. */
int qr_answer_png(struct zc_req *r, const char *zUrl, int nModule, const char *zCache);

#endif
