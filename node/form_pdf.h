/* form_pdf.h - the review form (评审表) of an application as a PDF: two A4 pages, to be
 * printed on the front and back of one sheet. A pure function of its input (no database,
 * no shared state), so several may render at once on the worker threads. */
#ifndef ZC_FORM_PDF_H
#define ZC_FORM_PDF_H

#include <jansson.h>
#include <stddef.h>

typedef struct form_pdf_in {
  const json_t *pApp;      /* the application as GET /api/v1/applications/{id} shows it */
  const char *zIdNumber;   /* the applicant's full ID-card number; NULL: the masked one of pApp */
  const char *zNumber;     /* the application's number, e.g. "650000-2026-000123" */
  int bOfficial;           /* 0: the test form (测试表); 1: the official form */
  const char *zVerifyCode; /* official only: the code printed under the QR code */
  const char *zVerifyUrl;  /* official only: the URL the QR code holds */
  const char *zNodeName;   /* the issuing node's name, e.g. "自治区" */
  const char *zIssued;     /* when it was rendered, already formatted (Beijing time) */
} form_pdf_in;

/* Render the form; *ppPdf is malloc'd (free() it) and *pnPdf its size. 0 on success, -1
 * on failure with the reason in zErr (size nErr). Every string of the input may be NULL
 * and any member of pApp missing: what is missing prints blank. Texts too long for two
 * pages are printed smaller, then cut with "……（详见申报材料）". */
int form_pdf_render(const form_pdf_in *in, unsigned char **ppPdf, size_t *pnPdf, char *zErr, size_t nErr);

/* Once every thread that rendered has stopped (the server's shutdown): free what cairo and
 * fontconfig keep for the whole process, so that a leak checker sees nothing left. */
void form_pdf_shutdown(void);

#endif
