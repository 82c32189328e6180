/* notices.h - notices (通知公告) of a node or of one of its committees. The node admin
 * (for the node or any of its committees) or a committee's admin (for that committee)
 * writes a draft, adds attachments (PDF, JPEG, PNG) and publishes it: notice.published
 * carries the text and the attachments' names, types, sizes and hashes to every node,
 * whose public lists show it; the bytes stay at the publishing node (another node
 * redirects a download there). Withdrawing a published notice (notice.withdrawn) takes it
 * off every list. An applicant's home page lists the notices of the committees of their
 * applications beside those of the node and the region. */
#ifndef ZC_NOTICES_H
#define ZC_NOTICES_H

#include "apply.h"
#include "http.h"

int notices_create(zc_req *r);            /* POST /notices */
int notices_update(zc_req *r);            /* PUT /notices/{id} (a draft) */
int notices_attach(zc_req *r);            /* POST /notices/{id}/attachments?name= (a draft) */
int notices_attachment_delete(zc_req *r); /* DELETE /notices/{id}/attachments/{n} (a draft) */
int notices_publish(zc_req *r);           /* POST /notices/{id}/publish */
int notices_delete(zc_req *r);            /* DELETE /notices/{id}: a draft deleted, a notice withdrawn */
int notices_list(zc_req *r);              /* GET /notices[?node=][&committee=][&for=me][&drafts=1] */
int notices_get(zc_req *r);               /* GET /notices/{id} */
int notices_attachment_get(zc_req *r);    /* GET /notices/{id}/attachments/{n} */

/* notice.published / notice.withdrawn from another node. */
int notices_apply(void *pCtx, const fed_entry_view *e);

#endif
