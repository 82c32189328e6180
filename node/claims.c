/* claims.c - claims at the registrar (claims.h): ID numbers and phones of accounts,
 * credit codes and names of units; taking, matching, checking and releasing them, each a
 * logged entry; and the registering node's side: claim, then commit. */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "outbox.h"

#define SWEEP_SECS 5 /* how often the registrar looks for claims to check */

int claims_is_registrar(const zc_node *p) { return strcmp(p->cfg.zNode, ZC_REGION_NODE) == 0; }

/* The kinds of claim: what already holds the key in the registrar's own state (its
 * accounts and units, its own and replicated), ?1 the key, ?2 the claimant. */
static const struct claim_kind {
  const char *zKind;
  const char *zHeldSql;
} g_kinds[] = {
    {"id", "SELECT 1 FROM accounts WHERE id_digest = ?1 AND id <> ?2"},
    {"phone", "SELECT 1 FROM accounts WHERE phone_digest = ?1 AND id <> ?2 AND role = 'applicant'"},
    /* a unit with claims of its own is judged by them (its row here may lag a rename) */
    {"credit_code", "SELECT 1 FROM units u WHERE credit_code = ?1 AND id <> ?2 AND NOT EXISTS (SELECT 1 FROM"
                    " id_claims c WHERE c.account = u.id AND c.kind = 'credit_code')"},
    {"unit_name", "SELECT 1 FROM units u WHERE (name = ?1 OR short_name = ?1) AND id <> ?2 AND NOT EXISTS (SELECT 1"
                  " FROM id_claims c WHERE c.account = u.id AND c.kind = 'unit_name')"},
};

static const char *held_sql(const char *zKind) {
  for (size_t i = 0; i < sizeof g_kinds / sizeof g_kinds[0]; i++)
    if (strcmp(g_kinds[i].zKind, zKind) == 0) return g_kinds[i].zHeldSql;
  return NULL;
}

static int is_unit(const char *zClaimant) { return zClaimant[0] == 'u'; }

/* Release every claim of a unit that never registered, logged with its reason. */
static int release_unit(zc_node *p, const char *zUnit, const char *zReason) {
  if (db_exec(p->db, "DELETE FROM id_claims WHERE account = ?", "t", zUnit)) return -1;
  return outbox_record(p, "unit.released", json_pack("{s:s, s:s}", "unit", zUnit, "reason", zReason), NULL);
}

/* Release every claim of zAccount (or of a unit), logged with its reason. */
static int release(zc_node *p, const char *zAccount, const char *zReason) {
  if (is_unit(zAccount)) return release_unit(p, zAccount, zReason);
  json_t *pBody = json_pack("{s:s, s:s}", "account", zAccount, "reason", zReason);
  char *zId = db_text(p->db, "SELECT digest FROM id_claims WHERE account = ? AND kind = 'id'", "t", zAccount);
  char *zPhone = db_text(p->db, "SELECT digest FROM id_claims WHERE account = ? AND kind = 'phone'", "t", zAccount);
  int rc = -1;
  if (!pBody || !zId) goto done;
  json_object_set_new(pBody, "id_digest", json_string(zId));
  if (zPhone) json_object_set_new(pBody, "phone_digest", json_string(zPhone));
  rc = db_exec(p->db, "DELETE FROM id_claims WHERE account = ?", "t", zAccount);
  if (rc == 0) {
    rc = outbox_record(p, "id.released", pBody, NULL);
    pBody = NULL;
  }
  if (rc == 0) fprintf(stderr, "zc-node: registrar: claim of %s released (%s)\n", zAccount, zReason);
done:
  json_decref(pBody);
  free(zId);
  free(zPhone);
  return rc;
}

/* Is this key free for claimant zAccount of zNode? 0 free, 1 taken; an old unmatched claim
 * of the same node for another claimant is replaced (released first). */
static int free_for(zc_node *p, const char *zKind, const char *zDigest, const char *zAccount, const char *zNode) {
  if (db_int(p->db, 0, held_sql(zKind), "tt", zDigest, zAccount)) return 1;
  json_t *c = db_row(p->db, "SELECT account, node, matched FROM id_claims WHERE kind = ? AND digest = ?", "tt", zKind,
                     zDigest);
  int rc = 0;
  if (c && strcmp(jstr(c, "account"), zAccount) != 0) {
    if (!json_is_null(json_object_get(c, "matched")) || strcmp(jstr(c, "node"), zNode) != 0) rc = 1;
    else rc = release(p, jstr(c, "account"), "superseded") ? -1 : 0; /* the same node's retry */
  }
  json_decref(c);
  return rc;
}

/* Take the keys aKey[i] of kinds azKind[i] (NULL keys skipped) for zClaimant of zNode, all
 * or none: 0 taken, 1 one is held by another (*pzField its azField[i]), -1 error. */
static int take_all(zc_node *p, int n, const char *const *azKind, const char *const *azKey,
                    const char *const *azField, const char *zClaimant, const char *zNode, const char **pzField) {
  sqlite3_int64 now = (sqlite3_int64)node_now(p);
  for (int i = 0; i < n; i++) {
    int rc = azKey[i] ? free_for(p, azKind[i], azKey[i], zClaimant, zNode) : 0;
    *pzField = azField[i];
    if (rc) return rc;
  }
  /* our own registrations commit with their claim: matched at once */
  sqlite3_int64 matched = strcmp(zNode, p->cfg.zNode) == 0 ? now : 0;
  for (int i = 0; i < n; i++)
    if (azKey[i] && db_exec(p->db, "INSERT OR REPLACE INTO id_claims(kind, digest, account, node, claimed, matched)"
                            " VALUES(?,?,?,?,?,NULLIF(?,0))", "ttttII", azKind[i], azKey[i], zClaimant, zNode, now,
                            matched))
      return -1;
  return 0;
}

int claims_take(zc_node *p, const char *zIdDigest, const char *zPhoneDigest, const char *zAccount,
                const char *zNode, const char **pzField) {
  static const char *const azKind[] = {"id", "phone"}, *const azField[] = {"id_number", "phone"};
  const char *azKey[] = {zIdDigest, zPhoneDigest};
  int rc = take_all(p, 2, azKind, azKey, azField, zAccount, zNode, pzField);
  if (rc) return rc;
  json_t *pBody = json_pack("{s:s, s:s, s:s}", "id_digest", zIdDigest, "account", zAccount, "node", zNode);
  if (pBody && zPhoneDigest) json_object_set_new(pBody, "phone_digest", json_string(zPhoneDigest));
  return outbox_record(p, "id.claimed", pBody, NULL) ? -1 : 0;
}

int claims_take_phone(zc_node *p, const char *zAccount, const char *zDigest, const char *zNode, const char **pzField) {
  static const char *const azKind[] = {"phone"}, *const azField[] = {"phone"};
  const char *azKey[] = {zDigest};
  int rc = take_all(p, 1, azKind, azKey, azField, zAccount, zNode, pzField);
  if (rc) return rc;
  /* the former number is given up: another applicant may take it */
  if (db_exec(p->db, "DELETE FROM id_claims WHERE kind = 'phone' AND account = ? AND digest <> ?", "tt", zAccount,
              zDigest))
    return -1;
  return outbox_record(p, "phone.claimed",
                       json_pack("{s:s, s:s, s:s}", "account", zAccount, "phone_digest", zDigest, "node", zNode), NULL)
             ? -1
             : 0;
}

int claims_take_unit(zc_node *p, const char *zUnit, const char *zCode, const char *zName, const char *zShort,
                     const char *zNode, const char **pzField) {
  static const char *const azKind[] = {"credit_code", "unit_name", "unit_name"};
  static const char *const azField[] = {"credit_code", "name", "short_name"};
  const char *azKey[] = {zCode, zName, zShort};
  int rc = take_all(p, 3, azKind, azKey, azField, zUnit, zNode, pzField);
  if (rc) return rc;
  /* a rename gives up the former names: another unit may take them */
  if (!zCode && db_exec(p->db, "DELETE FROM id_claims WHERE kind = 'unit_name' AND account = ? AND digest NOT IN (?, ?)",
                        "ttt", zUnit, zName, zShort))
    return -1;
  json_t *pBody = json_pack("{s:s, s:s, s:s, s:s}", "unit", zUnit, "node", zNode, "name", zName, "short_name", zShort);
  if (pBody && zCode) json_object_set_new(pBody, "credit_code", json_string(zCode));
  return outbox_record(p, "unit.claimed", pBody, NULL) ? -1 : 0;
}

int claims_match(zc_node *p, const char *zAccount) {
  if (!claims_is_registrar(p)) return 0;
  return db_exec(p->db, "UPDATE id_claims SET matched = ? WHERE account = ? AND matched IS NULL", "It",
                 (sqlite3_int64)node_now(p), zAccount);
}

int claims_usable(zc_node *p, const char *zAccount) {
  return !db_int(p->db, 0, "SELECT 1 FROM claims_revoked WHERE account = ?", "t", zAccount);
}

/* ---- the methods ---- */

/* A claim method's arguments are usable here (else answered with an error). */
static int claim_args_ok(zc_node *p, const fedcall_from *pFrom, int bOk) {
  if (!claims_is_registrar(p)) fedcall_answer(pFrom, NULL, "not_registrar");
  else if (!bOk) fedcall_answer(pFrom, NULL, "bad_arguments");
  return claims_is_registrar(p) && bOk;
}

/* The answer to a claim: {"claimed":true} or {"taken": field}. */
static int claim_answer(const fedcall_from *pFrom, int rc, const char *zField) {
  if (rc < 0) return -1;
  fedcall_answer(pFrom, rc ? json_pack("{s:s}", "taken", zField) : json_pack("{s:b}", "claimed", 1), NULL);
  return 0;
}

/* {"id_digest","phone_digest"?,"account"} from a registering node; the taken field is
 * "id_number" or "phone". */
int claims_serve_claim(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zId = jstr(pArgs, "id_digest"), *zPhone = jstr(pArgs, "phone_digest"), *zAccount = jstr(pArgs, "account");
  const char *zField = NULL;
  if (!claim_args_ok(p, pFrom, zId && strlen(zId) == 64 && (!zPhone || strlen(zPhone) == 64) && zAccount &&
                                   zAccount[0] == 'a'))
    return 0;
  int rc = claims_take(p, zId, zPhone, zAccount, pFrom->zNode, &zField); /* sets zField: before the answer reads it */
  return claim_answer(pFrom, rc, zField);
}

/* {"account","phone_digest"} from an applicant's home changing the phone; the taken field
 * is "phone". */
int claims_serve_phone_claim(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zAccount = jstr(pArgs, "account"), *zDigest = jstr(pArgs, "phone_digest"), *zField = NULL;
  if (!claim_args_ok(p, pFrom, zAccount && zAccount[0] == 'a' && zDigest && strlen(zDigest) == 64)) return 0;
  /* only the account's home changes its phone */
  if (!db_int(p->db, 0, "SELECT 1 FROM accounts WHERE id = ?1 AND home = ?2"
              " UNION ALL SELECT 1 FROM id_claims WHERE account = ?1 AND node = ?2", "tt", zAccount, pFrom->zNode)) {
    fedcall_answer(pFrom, NULL, "not_home");
    return 0;
  }
  int rc = claims_take_phone(p, zAccount, zDigest, pFrom->zNode, &zField);
  return claim_answer(pFrom, rc, zField);
}

/* {"unit","credit_code"?,"name","short_name"} from a node registering (or renaming) a
 * unit; the taken field is "credit_code", "name" or "short_name". */
int claims_serve_unit_claim(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zUnit = jstr(pArgs, "unit"), *zCode = jstr(pArgs, "credit_code");
  const char *zName = jstr(pArgs, "name"), *zShort = jstr(pArgs, "short_name"), *zField = NULL;
  if (!claim_args_ok(p, pFrom, zUnit && zUnit[0] == 'u' && zName && *zName && zShort && *zShort &&
                                   (!zCode || strlen(zCode) == 18)))
    return 0;
  int rc = claims_take_unit(p, zUnit, zCode, zName, zShort, pFrom->zNode, &zField);
  return claim_answer(pFrom, rc, zField);
}

/* {"account"} (an account or unit id) from the registrar -> {"registered":bool}; "no"
 * is a promise, kept by claims_usable. */
int claims_serve_check(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zAccount = jstr(pArgs, "account");
  if (!zAccount || strcmp(pFrom->zNode, ZC_REGION_NODE) != 0) {
    fedcall_answer(pFrom, NULL, "bad_arguments");
    return 0;
  }
  int bHave = db_int(p->db, 0, "SELECT 1 FROM accounts WHERE id = ?1 AND home = ?2"
                     " UNION ALL SELECT 1 FROM units WHERE id = ?1 AND node = ?2", "tt", zAccount, p->cfg.zNode) == 1;
  if (!bHave && db_exec(p->db, "INSERT OR IGNORE INTO claims_revoked(account, revoked) VALUES(?,?)", "tI", zAccount,
                        (sqlite3_int64)node_now(p)))
    return -1;
  fedcall_answer(pFrom, json_pack("{s:b}", "registered", bHave), NULL);
  return 0;
}

/* ---- the registrar's sweep ---- */

static struct {
  zc_node *p;
  struct lws_context *ctx;
  lws_sorted_usec_list_t sul;
  int nAsking;
} g_cl;

typedef struct check_ctx {
  char zAccount[40];
} check_ctx;

static void on_checked(void *pCtx, const fedcall_result *res) {
  check_ctx *c = pCtx;
  zc_node *p = g_cl.p;
  g_cl.nAsking--;
  /* registered: its entry is on its way, or what was claimed was a unit's new name whose
   * rename never committed (the unit keeps the claim until it renames again) */
  if (p && res->rc == FEDCALL_OK && json_is_true(json_object_get(res->pResult, "registered")) &&
      claims_match(p, c->zAccount))
    fprintf(stderr, "zc-node: registrar: cannot mark the claims of %s matched\n", c->zAccount);
  if (p && res->rc == FEDCALL_OK && json_is_false(json_object_get(res->pResult, "registered"))) {
    if (db_begin(p->db) == 0) {
      /* still unmatched: its entry may have arrived while we asked */
      int bOpen = db_int(p->db, 0, "SELECT 1 FROM id_claims WHERE account = ? AND matched IS NULL", "t", c->zAccount);
      if ((bOpen && release(p, c->zAccount, "never_registered")) || db_commit(p->db)) db_rollback(p->db);
    }
  }
  free(c);
}

static void sweep(lws_sorted_usec_list_t *sul) {
  zc_node *p = g_cl.p;
  if (g_cl.nAsking == 0 && !p->bRecovering) { /* a release is an entry: not while recovering */
    json_t *a = db_rows(p->db, "SELECT DISTINCT account, node FROM id_claims WHERE matched IS NULL AND claimed <= ?"
                        " LIMIT 100", "I", (sqlite3_int64)(node_now(p) - p->cfg.iClaimCheckSecs)), *v;
    size_t i;
    json_array_foreach(a, i, v) {
      check_ctx *c = calloc(1, sizeof *c);
      if (!c) break;
      snprintf(c->zAccount, sizeof c->zAccount, "%s", jstr(v, "account"));
      g_cl.nAsking++;
      fedcall_send(jstr(v, "node"), "claim.check", json_pack("{s:s}", "account", c->zAccount), on_checked, c);
    }
    json_decref(a);
  }
  lws_sul_schedule(g_cl.ctx, 0, sul, sweep, SWEEP_SECS * LWS_US_PER_SEC);
}

void claims_start(zc_node *p, struct lws_context *ctx) {
  if (!claims_is_registrar(p) || !p->pTrust) return;
  g_cl.p = p;
  g_cl.ctx = ctx;
  lws_sul_schedule(ctx, 0, &g_cl.sul, sweep, SWEEP_SECS * LWS_US_PER_SEC);
}

void claims_stop(void) {
  if (!g_cl.ctx) return;
  lws_sul_cancel(&g_cl.sul);
  g_cl.ctx = NULL;
  g_cl.p = NULL; /* replies still due find nothing to do */
}

/* ---- the registering node: claim, then commit ---- */

#define REGISTRAR_DOWN_MSG "自治区注册中心暂时无法连接，请稍后再试（本次注册未生效）"

int claims_unavailable(zc_req *r) {
  http_header(r, "Retry-After", "10");
  return http_error(r, 503, "registrar_unavailable", REGISTRAR_DOWN_MSG);
}

typedef struct then_ctx {
  claims_commit_fn xCommit;
  claims_taken_fn xTaken;
  void *pCtx;
  void (*xFree)(void *);
} then_ctx;

static void then_free(void *p) {
  then_ctx *t = p;
  if (t->xFree) t->xFree(t->pCtx);
  free(t);
}

static int then_claimed(zc_req *r, const fedcall_result *res, void *p) {
  then_ctx *t = p;
  if (res->rc != FEDCALL_OK) return claims_unavailable(r);
  if (jstr(res->pResult, "taken")) return t->xTaken(r, jstr(res->pResult, "taken"));
  if (!json_is_true(json_object_get(res->pResult, "claimed"))) return claims_unavailable(r);
  node_failpoint("after_claim"); /* tests: died between the registrar's claim and our commit */
  return t->xCommit(r, t->pCtx);
}

int claims_then(zc_req *r, const char *zMethod, json_t *pArgs, claims_commit_fn xCommit, claims_taken_fn xTaken,
                void *pCtx, void (*xFree)(void *)) {
  then_ctx *t = calloc(1, sizeof *t);
  if (!r->node->pTrust || claims_is_registrar(r->node) || !t) {
    int rc = t ? xCommit(r, pCtx) : -1;
    json_decref(pArgs);
    if (xFree) xFree(pCtx);
    free(t);
    return rc;
  }
  *t = (then_ctx){xCommit, xTaken, pCtx, xFree};
  return fedcall_request(r, ZC_REGION_NODE, zMethod, pArgs, then_claimed, t, then_free);
}
