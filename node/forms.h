/* forms.h - review forms (评审表): GET /applications/{id}/form.pdf, the official form's
 * verification code, and GET /verify/{code}.
 *
 * Before the formal review passes an application prints as the test form (测试表). The
 * move to formal_passed issues the official form at the node that made it: a payload
 * (application, number, digest of the printed content, issuer, key, time, what it
 * certifies) signed by the issuing node's key over FORM_SIG_PREFIX + payload, so that the
 * signature can never read as a log entry or a link's challenge. The code printed under
 * the form's QR code is 16 Crockford base32 digits of SHA-256(signature); a `form.issued`
 * entry takes payload, signature and code to every node, and any node checks a code
 * against the manifest's key of its issuer. */
#ifndef ZC_FORMS_H
#define ZC_FORMS_H

#include "apply.h"
#include "fedcall.h"
#include "http.h"

#define FORM_SIG_PREFIX "zc-form.1 verify\n"
#define FORM_NUMBER_SIZE 24 /* "2026-4F0A-0FE8-2E35" and the NUL */

int forms_pdf_get(zc_req *r);   /* GET /applications/{id}/form.pdf */
int forms_verify_get(zc_req *r); /* GET /verify/{code} */
/* form.render: the applicant's home renders the form a reviewer at another node asked for
 * (the form carries the full ID number, which only the home holds); the PDF goes back over
 * the encrypted link. */
int forms_serve_render(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);
#define FORM_PDF_MAX (8 * 1024 * 1024) /* bytes of a form that may come back over a link */

/* The application's number as forms print it: its year and the first 12 hex digits of its
 * id (random, so unique among any plausible number of applications), grouped by four. */
void forms_number(char zOut[FORM_NUMBER_SIZE], const char *zAppId, long long iYear);

/* 1 when an application in zStatus prints as the official form (formal review passed). */
int forms_status_official(const char *zStatus);

/* The current verification code of application zAppId, or NULL (malloc'd). */
char *forms_current_code(zc_node *p, const char *zAppId);

/* Issue the official form of application zAppId now (its formal review just passed):
 * sign, store, record `form.issued`. In the transaction of the
 * move. 0 on success. */
int forms_issue(zc_req *r, const char *zAppId);

/* Applier of another node's `form.issued` (entries.c). */
int forms_apply_issued(void *pCtx, const fed_entry_view *e);

#endif
