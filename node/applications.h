/* applications.h - applications (申请书) as the applicant writes them: create, sections,
 * attachments, change of qualification; and reading them, for the applicant and for
 * every reviewer it has reached. The moves between stages live in workflow.h. */
#ifndef ZC_APPLICATIONS_H
#define ZC_APPLICATIONS_H

#include "http.h"

int applications_create(zc_req *r);          /* POST /applications */
int applications_list(zc_req *r);            /* GET /applications[?view=queue|all] */
int applications_get(zc_req *r);             /* GET /applications/{id} */
int applications_delete(zc_req *r);          /* DELETE /applications/{id} (never submitted) */
int applications_save_section(zc_req *r);    /* PUT /applications/{id}/sections/{name} */
int applications_attach(zc_req *r);          /* POST /applications/{id}/attachments?section=&name= */
int applications_attachment_get(zc_req *r);  /* GET /applications/{id}/attachments/{att} */
int applications_attachment_delete(zc_req *r); /* DELETE /applications/{id}/attachments/{att} */
int applications_qualification(zc_req *r);   /* POST /applications/{id}/qualification */

/* What the caller may do with an application. */
typedef enum app_access { ACCESS_NONE = 0, ACCESS_READ, ACCESS_OWNER, ACCESS_REVIEW } app_access;

/* The application row when the caller may see it; otherwise answers 404 and returns NULL. */
json_t *app_load(zc_req *r, const char *zId, app_access *pAccess);
/* Answer 200 with the application as GET shows it to the caller. */
int app_answer(zc_req *r, const char *zId);
/* Every write to application a (a row as loaded) claims it first: this node holds it and
 * nobody wrote since a was loaded; the revision grows by one. 0; 1 when refused (409
 * state_changed or held_elsewhere, answered); -1 on error. */
int app_claim(zc_req *r, json_t *a);
/* Answer why a write to a found no row to change (409); returns 1. */
int app_refuse_stale(zc_req *r, json_t *a);
/* Record a history row and the entry announcing it (application.created / .qualification
 * / .moved, keyed by its origin and seq) for the caller's action; pDetail (stolen) may be
 * NULL. Call after the application's own change. */
int app_history(zc_req *r, const char *zId, const char *zAction, const char *zFrom, const char *zTo,
                json_t *pDetail);
/* Status codes' Chinese names. */
const char *app_status_label(const char *zStatus);
/* 1 when the applicant may edit (draft or returned). */
int app_editable(const char *zStatus);

#endif
