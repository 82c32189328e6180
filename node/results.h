/* results.h - after the meeting review: the committee publishes a publicity list (公示,
 * passed → publicized) for a period; once it is over, the HR admin of the committee's node
 * issues the approval document (批文: 文号, date, the approved people; → approved) and then
 * the certificates (证书, with 定向使用 for directed titles; → certified). Each is an entry
 * (publicity.published, approval.issued, certificate.issued) that every node stores, so
 * the applicant's home shows results the moment they are published and any node answers
 * for a certificate number. The lists, documents and certificates are public pages. */
#ifndef ZC_RESULTS_H
#define ZC_RESULTS_H

#include "apply.h"
#include "http.h"

int results_publicity_post(zc_req *r);     /* POST /committees/{id}/publicity */
int results_publicity_list(zc_req *r);     /* GET /publicity[?committee=][&node=] */
int results_publicity_get(zc_req *r);      /* GET /publicity/{id} */
int results_approval_post(zc_req *r);      /* POST /approvals */
int results_approval_list(zc_req *r);      /* GET /approvals[?node=] */
int results_approval_get(zc_req *r);       /* GET /approvals/{id} */
int results_certify(zc_req *r);            /* POST /approvals/{id}/certificates */
int results_certificate_get(zc_req *r);    /* GET /certificates/{number} */
int results_certificate_qr(zc_req *r);     /* GET /certificates/{number}/qr.png */

/* ,"results":{publicity?, approval?, certificate?} of application zAppId into b, when any. */
void results_put(zc_node *p, const char *zAppId, zc_buf *b);

/* publicity.published / approval.issued / certificate.issued from another node. */
int results_apply(void *pCtx, const fed_entry_view *e);

#endif
