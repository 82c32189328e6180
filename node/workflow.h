/* workflow.h - how an application moves: one table of transitions (from status, action,
 * who, to status) drives submit, withdraw and every reviewer's decision; each move is
 * authorised, recorded in the history and atomic (a double click never moves twice). */
#ifndef ZC_WORKFLOW_H
#define ZC_WORKFLOW_H

#include "applications.h"
#include "http.h"

int workflow_submit(zc_req *r);    /* POST /applications/{id}/submit */
int workflow_withdraw(zc_req *r);  /* POST /applications/{id}/withdraw */
int workflow_review(zc_req *r);    /* POST /applications/{id}/review */
int workflow_opinion(zc_req *r);   /* PUT /applications/{id}/opinions/{section} */

/* Move application zId by zAction, one of the moves made for a whole list (results.c):
 * publicize (committee admin), approve and certify (the admin of the committee's node).
 * pDetail (borrowed, may be NULL) joins the history row. 0 when moved or answered with a
 * refusal (r->status >= 400: 404 beyond the caller's reach, 409 invalid_action naming the
 * application); -1 on error. */
int workflow_move_listed(zc_req *r, const char *zId, const char *zAction, json_t *pDetail);

/* The stage ("unit", "dept", "committee") whose reviewer acts in zStatus, or NULL. */
const char *workflow_stage(const char *zStatus);
/* The actions the caller could take now (for the portal's buttons), as a JSON array. */
json_t *workflow_actions(zc_req *r, json_t *pApp, app_access acc);

#endif
