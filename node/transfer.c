/* transfer.c - moving an applicant's home from node to node (transfer.h). */
#include "transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "blob.h"
#include "db.h"
#include "fed_error.h"
#include "handoff.h"
#include "outbox.h"
#include "refdata.h"
#include "router.h"
#include "secret.h"

#define TICK_MS 500
#define RETRY_MAX_SECS 30

static void fetch_soon(void);

/* The transfer as the API shows it. */
static json_t *transfer_json(zc_node *p, const char *zId) {
  json_t *t = db_row(p->db, "SELECT id, account, from_node AS 'from', to_node AS 'to', status, rfc3339(created) AS"
                     " created, rfc3339(updated) AS updated FROM transfers WHERE id = ?", "t", zId);
  if (t) {
    json_object_set_new(t, "from_name", json_string(node_region_name(p, jstr(t, "from"))));
    json_object_set_new(t, "to_name", json_string(node_region_name(p, jstr(t, "to"))));
  }
  return t;
}

/* Log the transfer's step zStatus (its row says the rest). */
static int announce(zc_node *p, const char *zId, const char *zStatus) {
  json_t *b = db_row(p->db, "SELECT id AS transfer, account, from_node AS 'from', to_node AS 'to' FROM transfers"
                     " WHERE id = ?", "t", zId);
  if (!b) return -1;
  json_object_set_new(b, "status", json_string(zStatus));
  return outbox_record(p, "account.transfer", b, NULL);
}

static int set_status(zc_node *p, const char *zId, const char *zStatus) {
  return db_exec(p->db, "UPDATE transfers SET status = ?, updated = ? WHERE id = ?", "tIt", zStatus,
                 (sqlite3_int64)node_now(p), zId);
}

json_t *transfer_open(zc_node *p) {
  return db_rows(p->db, "SELECT id, account, from_node AS 'from', to_node AS 'to', status, tries, rfc3339(created) AS"
                 " since FROM transfers WHERE status IN ('offered', 'accepted') ORDER BY created LIMIT 100", NULL);
}

int transfer_in_flight(zc_node *p, const char *zAccount) {
  return db_int(p->db, 0, "SELECT 1 FROM transfers WHERE account = ? AND from_node = ? AND status = 'offered'", "tt",
                zAccount, p->cfg.zNode) == 1;
}

/* ---- the API ---- */

int transfers_request(zc_req *r) {
  zc_node *p = r->node;
  char zId[40];
  if (!account_at_home(r)) return 0; /* also: no transfer under way */
  const char *zNode = json_str_field(r, "node", "评审区域", 1);
  if (!zNode) return 0;
  if (!node_region_name(p, zNode)) return http_field_error(r, 400, "invalid_field", "node", "未知的评审区域");
  if (strcmp(zNode, p->cfg.zNode) == 0)
    return http_field_error(r, 400, "invalid_field", "node", "您的评审区域已经是该地区");
  if (!handoff_reaches(p, zNode))
    return http_field_error(r, 409, "node_unavailable", "node", "该地区的网站尚未接入平台，暂不能转入");
  /* an application of the account still on its way here moves with it only once it arrived */
  if (db_int(p->db, 0, "SELECT 1 FROM handoffs_in h JOIN applications a ON a.id = h.application WHERE"
             " a.applicant_id = ?", "t", r->pSess->zAccount))
    return http_error(r, 409, "handoff_in_flight", "您的申请书正在转交到本地区，请稍后再申请变更评审区域");
  sqlite3_int64 now = (sqlite3_int64)node_now(p);
  if (account_new_id(zId, 't') ||
      db_exec(p->db, "INSERT INTO transfers(id, account, from_node, to_node, status, created, updated)"
              " VALUES(?,?,?,?,'offered',?,?)", "ttttII", zId, r->pSess->zAccount, p->cfg.zNode, zNode, now, now) ||
      announce(p, zId, "offered"))
    return -1;
  node_failpoint_at_commit(p->db, "transfer_offered"); /* tests: the offer committed, not yet logged */
  fprintf(stderr, "zc-node: transfer %s: %s offered to %s\n", zId, r->pSess->zAccount, zNode);
  return http_json(r, 202, json_pack("{s:o}", "transfer", transfer_json(p, zId)));
}

int transfers_get(zc_req *r) {
  json_t *t = transfer_json(r->node, r->aParam[0]);
  int bMine = t && (strcmp(jstr(t, "account"), r->pSess->zAccount) == 0 || r->pSess->role == ROLE_NODE_ADMIN ||
                    r->pSess->role == ROLE_AUDITOR);
  if (!bMine) {
    json_decref(t);
    return http_error(r, 404, "not_found", "没有该评审区域变更记录");
  }
  return http_json(r, 200, json_pack("{s:o}", "transfer", t));
}

/* ---- the old home ---- */

/* What only a home holds, for the new home (the ID number in clear: the channel is
 * encrypted, and each node keeps it under a key of its own). */
int transfer_serve_export(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zId = jstr(pArgs, "transfer");
  json_t *t = zId ? db_row(p->db, "SELECT account FROM transfers WHERE id = ? AND from_node = ? AND to_node = ? AND"
                           " status = 'offered'", "ttt", zId, p->cfg.zNode, pFrom->zNode)
                  : NULL;
  json_t *a = t ? db_row(p->db, "SELECT password_hash, id_enc, id_masked, phone, email, cred_epoch FROM accounts"
                         " WHERE id = ? AND home = ?", "tt", jstr(t, "account"), p->cfg.zNode)
                : NULL;
  char *zIdNumber = a && jstr(a, "id_enc") ? secret_decrypt(p->aDataKey, jstr(a, "id_enc")) : NULL;
  json_t *aCards = a ? db_rows(p->db, "SELECT side, sha256, type, size, uploaded FROM idcards WHERE account_id = ?", "t",
                               jstr(t, "account"))
                     : NULL, *c;
  size_t i;
  int bOk = a && jstr(a, "password_hash") && aCards;
  json_array_foreach(aCards, i, c) { /* the scans themselves, at most two of BLOB_MAX */
    char *zB64 = bOk ? blob_read_base64(p->cfg.zData, jstr(c, "sha256")) : NULL;
    bOk = bOk && zB64;
    if (zB64) json_object_set_new(c, "data", json_string(zB64));
    free(zB64);
  }
  if (bOk) {
    json_object_del(a, "id_enc");
    if (zIdNumber) json_object_set_new(a, "id_number", json_string(zIdNumber));
    json_object_set_new(a, "idcards", json_incref(aCards));
    fedcall_answer(pFrom, json_incref(a), NULL);
  } else {
    fedcall_answer(pFrom, NULL, "no_transfer");
  }
  if (zIdNumber) memset(zIdNumber, 0, strlen(zIdNumber));
  free(zIdNumber);
  json_decref(aCards);
  json_decref(a);
  json_decref(t);
  return 0;
}

/* The account's applications this node holds under review: the new home gets a read-only
 * copy of each (its reviewers keep them; their moves reach the new home). */
static int copy_reviewed(zc_node *p, const char *zAccount, const char *zTo) {
  json_t *a = db_rows(p->db, "SELECT id FROM applications WHERE applicant_id = ? AND holder = ? AND status NOT IN"
                      " ('draft', 'returned')", "tt", zAccount, p->cfg.zNode), *v;
  size_t i;
  int rc = a ? 0 : -1;
  json_array_foreach(a, i, v) rc = rc || handoff_copy_out(p, jstr(v, "id"), zTo);
  json_decref(a);
  return rc;
}

/* The new home accepted: the home moves, what only a home holds is erased here, the
 * account's drafts and returned applications follow it, those under review here are
 * copied to it; of those under review elsewhere this node keeps a copy only when one of
 * its reviewers (the unit or the recommending unit) is here. Inside the applier's
 * transaction. */
static int finish(zc_node *p, const char *zId, const char *zAccount, const char *zTo) {
  json_t *aApps = db_rows(p->db, "SELECT id FROM applications WHERE applicant_id = ? AND holder = ? AND status IN"
                          " ('draft', 'returned')", "tt", zAccount, p->cfg.zNode), *v;
  size_t i;
  int rc = db_exec(p->db, "UPDATE accounts SET home = ?, password_hash = NULL, id_enc = NULL, phone = NULL, email = NULL,"
                   " updated = ? WHERE id = ?", "tIt", zTo, (sqlite3_int64)node_now(p), zAccount) ||
           db_exec(p->db, "DELETE FROM idcards WHERE account_id = ?", "t", zAccount) || set_status(p, zId, "done") ||
           announce(p, zId, "done");
  json_array_foreach(aApps, i, v) rc = rc || handoff_out(p, jstr(v, "id"), zTo, 1);
  json_decref(aApps);
  rc = rc || copy_reviewed(p, zAccount, zTo) ||
       db_exec(p->db, "DELETE FROM applications WHERE applicant_id = ?1 AND holder <> ?2 AND unit_node <> ?2"
               " AND coalesce(dept_node, '') <> ?2", "tt", zAccount, p->cfg.zNode);
  if (rc == 0) {
    /* tests: died applying the acceptance (the entry is in git, not applied), or once done
     * committed (not yet logged) */
    node_failpoint("transfer_finishing");
    node_failpoint_at_commit(p->db, "transfer_done");
    fprintf(stderr, "zc-node: transfer %s: %s now at home at %s\n", zId, zAccount, zTo);
  }
  return rc;
}

/* ---- every node ---- */

int transfer_apply(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  const char *zId = jstr(b, "transfer"), *zAccount = jstr(b, "account"), *zFrom = jstr(b, "from"), *zTo = jstr(b, "to");
  const char *zStatus = jstr(b, "status");
  sqlite3_int64 now = (sqlite3_int64)node_now(p);
  if (!zId || !zAccount || !zFrom || !zTo || !zStatus)
    return fed_error_set(FED_EINVALID, "account.transfer without transfer, account, from, to or status");
  /* each step is logged by the node whose step it is */
  if (strcmp(e->zOrigin, strcmp(zStatus, "accepted") == 0 ? zTo : zFrom) != 0) return FED_OK;
  if (db_exec(p->db, "INSERT OR IGNORE INTO transfers(id, account, from_node, to_node, status, created, updated)"
              " VALUES(?,?,?,?,'offered',?,?)", "ttttII", zId, zAccount, zFrom, zTo, now, now))
    return FED_ERROR;
  if (strcmp(zTo, p->cfg.zNode) == 0 && strcmp(zStatus, "offered") == 0) fetch_soon();
  if (strcmp(zStatus, "accepted") == 0) {
    /* the old home decides, once: an acceptance after a rollback changes nothing */
    if (db_exec(p->db, "UPDATE transfers SET status = 'accepted', updated = ? WHERE id = ? AND status = 'offered'", "It",
                now, zId))
      return FED_ERROR;
    if (sqlite3_changes(p->db) == 1 && strcmp(zFrom, p->cfg.zNode) == 0 && finish(p, zId, zAccount, zTo))
      return FED_ERROR;
    return FED_OK;
  }
  if (strcmp(zStatus, "done") == 0) {
    if (strcmp(zTo, p->cfg.zNode) == 0) node_failpoint("transfer_moved"); /* tests: the new home died applying it */
    return set_status(p, zId, "done") ||
                   db_exec(p->db, "UPDATE accounts SET home = ?, updated = ? WHERE id = ?", "tIt", zTo, now, zAccount) ||
                   (strcmp(zTo, p->cfg.zNode) != 0 && copy_reviewed(p, zAccount, zTo))
               ? FED_ERROR : FED_OK;
  }
  if (strcmp(zStatus, "rolled_back") == 0) {
    int rc = set_status(p, zId, "rolled_back");
    if (rc == 0 && strcmp(zTo, p->cfg.zNode) == 0) /* what was fetched for it goes */
      rc = db_exec(p->db, "UPDATE accounts SET password_hash = NULL, id_enc = NULL, phone = NULL, email = NULL WHERE"
                   " id = ? AND home <> ?", "tt", zAccount, p->cfg.zNode) ||
           db_exec(p->db, "DELETE FROM idcards WHERE account_id = ?", "t", zAccount);
    return rc ? FED_ERROR : FED_OK;
  }
  return FED_OK; /* offered: the row above */
}

/* ---- the new home's fetch, the old home's rollback ---- */

static struct {
  zc_node *p;
  struct lws_context *ctx;
  lws_sorted_usec_list_t sul;
  char zBusy[40]; /* the transfer being fetched, "" when none */
} g_tr;

static void tick(lws_sorted_usec_list_t *sul);

/* An offer to this node arrived: fetch once its transaction has committed. */
static void fetch_soon(void) {
  if (g_tr.ctx && !g_tr.zBusy[0]) lws_sul_schedule(g_tr.ctx, 0, &g_tr.sul, tick, LWS_US_PER_MS);
}

static void fetch_failed(zc_node *p, const char *zId) {
  db_exec(p->db, "UPDATE transfers SET tries = tries + 1, next_try = ? + min(?, 1 << min(tries, 5)) WHERE id = ?", "IIt",
          (sqlite3_int64)node_now(p), (sqlite3_int64)RETRY_MAX_SECS, zId);
}

/* Take in what the old home sent and accept, in one transaction. */
static int accept_transfer(zc_node *p, const char *zId, const json_t *d) {
  char *zAccount = db_text(p->db, "SELECT account FROM transfers WHERE id = ? AND status = 'offered'", "t", zId);
  char *zEnc = jstr(d, "id_number") ? secret_encrypt(p->aDataKey, jstr(d, "id_number")) : NULL;
  const json_t *aCards = json_object_get(d, "idcards"), *c;
  size_t i;
  int rc = !zAccount || !jstr(d, "password_hash") || !json_is_array(aCards) || (jstr(d, "id_number") && !zEnc) ||
           db_begin(p->db);
  if (rc) {
    free(zAccount);
    free(zEnc);
    return -1;
  }
  rc = db_exec(p->db, "UPDATE accounts SET password_hash = ?, id_enc = ?, id_masked = coalesce(?, id_masked), phone = ?,"
               " email = ?, cred_epoch = max(cred_epoch, ?), updated = ? WHERE id = ?", "tttttIIt",
               jstr(d, "password_hash"), zEnc, jstr(d, "id_masked"), jstr(d, "phone"), jstr(d, "email"),
               (sqlite3_int64)json_integer_value(json_object_get(d, "cred_epoch")), (sqlite3_int64)node_now(p),
               zAccount);
  json_array_foreach(aCards, i, c) {
    rc = rc || blob_store_base64(p->cfg.zData, jstr(c, "data"), jstr(c, "sha256")) ||
         db_exec(p->db, "INSERT OR REPLACE INTO idcards(account_id, side, sha256, type, size, uploaded) VALUES(?,?,?,?,?,?)",
                 "ttttII", zAccount, jstr(c, "side"), jstr(c, "sha256"), jstr(c, "type"),
                 (sqlite3_int64)json_integer_value(json_object_get(c, "size")),
                 (sqlite3_int64)json_integer_value(json_object_get(c, "uploaded")));
  }
  if (rc == 0) node_failpoint("transfer_fetched"); /* tests: fetched and stored, not committed */
  rc = rc || set_status(p, zId, "accepted") || announce(p, zId, "accepted") || db_commit(p->db);
  if (rc) db_rollback(p->db);
  else fprintf(stderr, "zc-node: transfer %s: accepted %s\n", zId, zAccount);
  if (rc == 0) node_failpoint("transfer_accepted"); /* tests: accepted, not yet logged */
  free(zAccount);
  if (zEnc) memset(zEnc, 0, strlen(zEnc));
  free(zEnc);
  return rc;
}

static void on_export(void *pCtx, const fedcall_result *res) {
  (void)pCtx;
  zc_node *p = g_tr.p;
  if (!p) return;
  if (res->rc != FEDCALL_OK || accept_transfer(p, g_tr.zBusy, res->pResult)) fetch_failed(p, g_tr.zBusy);
  g_tr.zBusy[0] = 0;
}

/* The old home: offers nobody accepted in time are rolled back (logged). */
static void roll_back_stale(zc_node *p) {
  json_t *a = db_rows(p->db, "SELECT id FROM transfers WHERE from_node = ? AND status = 'offered' AND created <= ?"
                      " LIMIT 20", "tI", p->cfg.zNode, (sqlite3_int64)node_now(p) - p->cfg.iTransferRollbackSecs), *v;
  size_t i;
  json_array_foreach(a, i, v) {
    if (db_begin(p->db)) break;
    if (set_status(p, jstr(v, "id"), "rolled_back") || announce(p, jstr(v, "id"), "rolled_back") || db_commit(p->db))
      db_rollback(p->db);
    else {
      fprintf(stderr, "zc-node: transfer %s: no acceptance in time, rolled back\n", jstr(v, "id"));
      node_failpoint("transfer_rolled_back"); /* tests: rolled back, not yet logged */
    }
  }
  json_decref(a);
}

/* The new home: fetch what only the old home holds for the oldest offer due, one at a time. */
static void fetch_next_offer(zc_node *p) {
  if (g_tr.zBusy[0]) return;
  json_t *t = db_row(p->db, "SELECT id, from_node FROM transfers WHERE to_node = ? AND status = 'offered' AND"
                     " next_try <= ? ORDER BY created LIMIT 1", "tI", p->cfg.zNode, (sqlite3_int64)node_now(p));
  if (t) {
    snprintf(g_tr.zBusy, sizeof g_tr.zBusy, "%s", jstr(t, "id"));
    fedcall_send(jstr(t, "from_node"), "account.export", json_pack("{s:s}", "transfer", jstr(t, "id")), on_export, NULL);
  }
  json_decref(t);
}

static void tick(lws_sorted_usec_list_t *sul) {
  zc_node *p = g_tr.p;
  if (!p->bRecovering) { /* both write entries: not before a node restored from a backup has its own back */
    roll_back_stale(p);
    fetch_next_offer(p);
  }
  lws_sul_schedule(g_tr.ctx, 0, sul, tick, TICK_MS * LWS_US_PER_MS);
}

void transfer_start(zc_node *p, struct lws_context *ctx) {
  if (!p->pTrust) return;
  g_tr.p = p;
  g_tr.ctx = ctx;
  g_tr.zBusy[0] = 0;
  lws_sul_schedule(ctx, 0, &g_tr.sul, tick, TICK_MS * LWS_US_PER_MS);
}

void transfer_stop(void) {
  if (!g_tr.ctx) return;
  lws_sul_cancel(&g_tr.sul);
  g_tr.ctx = NULL;
  g_tr.p = NULL;
}
