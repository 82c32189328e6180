/* transfer.h - an applicant moves the review region (修改评审区域): the account's home
 * moves from one node to another by a logged two-step hand-off, each step an
 * account.transfer entry {transfer, account, from, to, status}.
 *
 *   offered      the old home, on POST /me/region: from now on it refuses changes of the
 *                account's personal data (409 transfer_in_flight); it stays the home
 *   accepted     the new home, once it holds what only a home holds, fetched over the
 *                encrypted channel ("account.export"): the password hash, the ID number
 *                (re-encrypted under its own key), phone, e-mail and the ID-card scans;
 *                never in the log. It is not the home yet: logins still go to the old one
 *   done         the old home, on applying the acceptance: the home is the new node
 *                everywhere, the old home erases what only a home holds and hands the
 *                account's drafts and returned applications over (handoff.h)
 *   rolled_back  the old home, when no acceptance came within cfg.iTransferRollbackSecs
 *                (--transfer-rollback-secs, default 60);
 *                the new node erases what it fetched
 *
 * The old home alone decides (done or rolled_back), once: an acceptance that arrives after
 * a rollback changes nothing. So there are never two homes, and never none; a node killed
 * at any point resumes from its transfers table after a restart. */
#ifndef ZC_TRANSFER_H
#define ZC_TRANSFER_H

#include <libwebsockets.h>

#include "apply.h"
#include "fedcall.h"
#include "http.h"
#include "node.h"

/* POST /me/region {"node"} -> 202 {"transfer"}; GET /transfers/{id}. */
int transfers_request(zc_req *r);
int transfers_get(zc_req *r);

/* The transfers this node knows of that are not decided yet (the audit console). */
json_t *transfer_open(zc_node *p);

/* Is a transfer of zAccount under way (offered by this node, not yet decided)? */
int transfer_in_flight(zc_node *p, const char *zAccount);

/* The applier of account.transfer (entries.c) and the method the new home calls. */
int transfer_apply(void *pCtx, const fed_entry_view *e);
int transfer_serve_export(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);

/* The new home's fetches and the old home's rollbacks (a timer on the event loop). */
void transfer_start(zc_node *p, struct lws_context *ctx);
void transfer_stop(void);

#endif
