/* fedview.h - the auditor's log browser: GET /api/v1/fed/entries (routes.c; node admins
 * and auditors), the entries this node holds of every origin's signed log, each checked
 * again as it is shown.
 *
 * Query (every parameter optional; an empty one counts as absent; anything else wrong is
 * answered 400 invalid_field naming the parameter, in Chinese):
 *   origin       a node id: that origin's entries only
 *   type         an entry type (entries.c, or one this node holds from a newer node)
 *   account      an account id or username: entries whose body names that account
 *                (`account`, `applicant`, `author` or `actor`, whichever the type has)
 *   application  an application id: entries whose body names it (`application`)
 *   limit        entries per page, 1..FEDVIEW_LIMIT_MAX (default FEDVIEW_LIMIT)
 *   cursor       where the page starts: the `next` of the page before
 * Order: by origin (ascending id), then newest first (seq descending). A cursor is
 * "ORIGIN:SEQ", the last entry of the page before: the page goes on after it.
 *
 * Answer: {"items":[..], "next":"ORIGIN:SEQ" or null when nothing follows, "heads":[..]}.
 * An item: origin, seq, type, ts, key, prev, hash (as stored), v, body (entries carry no
 * personal data), own (this node's own entry), received_at, applied, applied_at, and
 * `verification`: "verified" when the stored bytes are canonical, the chain holds (seq,
 * prev naming the entry held before it), the stored hash is theirs and the stored
 * signature verifies with the origin's manifest key valid at the entry's ts; otherwise the
 * first problem's code, with every problem in `problems` [{"code","detail"}] (codes of
 * entry.h and zc-audit, and hash_mismatch, no_manifest). `heads` lists every origin this
 * node holds with its newest entry here: origin, name, seq, hash, updated. */
#ifndef ZC_FEDVIEW_H
#define ZC_FEDVIEW_H

#include "http.h"

#define FEDVIEW_LIMIT 50
#define FEDVIEW_LIMIT_MAX 200

int fedview_entries_get(zc_req *r);

#endif
