/* handoff.h - applications follow their reviewer from node to node (属地化).
 *
 * When the next stage's reviewer is on another node (a committee of the region for a
 * prefecture's applicant; the applicant's home, for a committee's return), the node that
 * holds the application hands it over inside the move's own transaction: it sets the
 * application's `holder` to the receiving node (from then on it refuses every change),
 * keeps the snapshot's exact text (handoffs_out) and logs application.handoff with the
 * snapshot's and the attachments' SHA-256, no personal data. The receiving node fetches
 * the snapshot ("app.snapshot") and each attachment it lacks ("app.blob") over the
 * encrypted channel, checks them against those hashes, takes the application as its own
 * (holder: itself) and logs application.accepted. So at every moment exactly one node
 * may change an application, and one always may (the receiver, from the hand-off on).
 *
 * Every other copy (the applicant's home while a committee elsewhere reviews, any node
 * the application passed) is read-only and follows the holder's application.moved
 * entries: status, revision and history rows (keyed by the entry's origin and seq). */
#ifndef ZC_HANDOFF_H
#define ZC_HANDOFF_H

#include <libwebsockets.h>

#include "apply.h"
#include "fedcall.h"
#include "node.h"

/* Inside the move's transaction: hand application zApp (as it now is) to node zTo; with
 * bLeave this node keeps no copy once zTo accepted it (its applicant's home moved). */
int handoff_out(zc_node *p, const char *zApp, const char *zTo, int bLeave);

/* Inside a transaction: send node zTo a read-only copy of application zApp, which this
 * node keeps holding (application.copy; the applicant's home moved to zTo). */
int handoff_copy_out(zc_node *p, const char *zApp, const char *zTo);

/* Can this node hand an application to node zNode (another node of its federation)? */
int handoff_reaches(zc_node *p, const char *zNode);

/* Inside the move's transaction, once application zApp has taken its new status: the node
 * whose reviewer (or applicant) acts next, when it is another node of the federation, the
 * application is handed to (unit_review: the unit's node; dept_review: the recommending
 * unit's; committee_review: the committee's; returned: the applicant's home). 0 when it
 * stays or went. */
int handoff_follow(zc_node *p, const char *zApp);

/* Appliers (entries.c): application.handoff (to this node: fetch it; else the copy here
 * learns its holder) and application.moved (a read-only copy follows its holder). */
int handoff_apply_handoff(void *pCtx, const fed_entry_view *e);
/* application.accepted: the sender forgets the snapshot (and, leaving, its copy). */
int handoff_apply_accepted(void *pCtx, const fed_entry_view *e);

/* What is on its way, for the audit console: hand-offs to this node not yet fetched, and
 * from it not yet accepted. */
json_t *handoff_in_flight(zc_node *p);
int handoff_apply_moved(void *pCtx, const fed_entry_view *e);

/* The methods (routes.c): the node an application was handed to fetches it. */
int handoff_serve_snapshot(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);
int handoff_serve_blob(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);

/* Fetch the hand-offs addressed to this node, one at a time (a timer on the event loop). */
void handoff_start(zc_node *p, struct lws_context *ctx);
void handoff_stop(void);

#endif
