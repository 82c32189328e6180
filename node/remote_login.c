/* remote_login.c - logging in at a node other than the account's home (remote_login.h):
 * the node asks the home over the federation channel ("login.check"); the home counts the
 * attempt in its own limiter, checks the password against the hash only it holds, and
 * answers yes or no; the node then opens a session of its own. A former home that moved the
 * account by a finished transfer answers where to: the new home, which took the hash in
 * when it accepted, then checks the password itself before the done reaches it. */
#include "remote_login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "fedcall.h"
#include "limiter.h"
#include "secret.h"
#include "session.h"
#include "worker.h"

#define HOME_DOWN_MSG "该账号所属地区的网站暂时无法连接，请稍后再试或到所属地区网站登录"

/* ---- at the node the user logs in at ---- */

typedef struct login_ctx {
  char zAccount[40];
  char zPassword[PASSWORD_MAX_BYTES + 1]; /* for a check here after all (moved_here) */
} login_ctx;

/* Free what held a password: it does not linger in freed memory. */
static void free_wiped(void *p, size_t n) {
  memset(p, 0, n);
  free(p);
}

static void login_ctx_free(void *pCtx) { free_wiped(pCtx, sizeof(login_ctx)); }

/* The home said it has moved the account here, and this node accepted that transfer:
 * the old home's done is on its way in the log (the old home is the one that decides,
 * over the authenticated channel), so the password is checked here, where it now is. */
static int moved_here(zc_req *r, const json_t *v, const char *zAccount) {
  const char *zTo = json_string_value(json_object_get(v, "moved_to"));
  return zTo && strcmp(zTo, r->node->cfg.zNode) == 0 &&
         db_int(r->node->db, 0, "SELECT 1 FROM transfers WHERE account = ? AND to_node = ? AND status = 'accepted'",
                "tt", zAccount, r->node->cfg.zNode);
}

static int remote_login_done(zc_req *r, const fedcall_result *res, void *pCtx) {
  login_ctx *c = pCtx;
  if (res->rc == FEDCALL_OK && moved_here(r, res->pResult, c->zAccount))
    return accounts_login_moved_here(r, c->zAccount, c->zPassword);
  if (res->rc != FEDCALL_OK || json_object_get(res->pResult, "moved_to")) {
    http_header(r, "Retry-After", "10");
    return http_error(r, 503, "home_unavailable", HOME_DOWN_MSG);
  }
  json_t *v = res->pResult;
  if (json_object_get(v, "blocked"))
    return accounts_login_refused(r, LIMITER_BLOCKED, (long)json_integer_value(json_object_get(v, "blocked")));
  if (json_is_true(json_object_get(v, "in_flight"))) return accounts_login_refused(r, LIMITER_IN_FLIGHT, 1);
  /* a yes from before the newest password change we know of is a no */
  if (!json_is_true(json_object_get(v, "ok")) ||
      db_int(r->node->db, 1, "SELECT cred_epoch > ? OR disabled FROM accounts WHERE id = ?", "It",
             (sqlite3_int64)json_integer_value(json_object_get(v, "epoch")), c->zAccount))
    return http_error(r, 401, "bad_credentials", "用户名或密码错误");
  if (session_open(r, c->zAccount) || session_device_issue(r, c->zAccount)) return -1;
  return account_answer_with_session(r, 200, c->zAccount);
}

int remote_login(zc_req *r, const char *zAccount, const char *zHome, const char *zPassword) {
  char zDevice[33];
  login_ctx *c = calloc(1, sizeof *c);
  if (!c) return -1;
  snprintf(c->zAccount, sizeof c->zAccount, "%s", zAccount);
  snprintf(c->zPassword, sizeof c->zPassword, "%s", zPassword);
  session_device_of(r, zAccount, zDevice); /* a device this node issued: the home trusts our word for it */
  json_t *pArgs = json_pack("{s:s, s:s, s:s, s:s}", "account", zAccount, "password", zPassword, "address", r->zPeer,
                            "device", zDevice);
  return fedcall_request(r, zHome, "login.check", pArgs, remote_login_done, c, login_ctx_free);
}

/* ---- at the account's home ---- */

typedef struct check_job {
  zc_node *p;
  fedcall_from from;
  limiter_attempt at;
  char zAccount[40];
  char zPassword[PASSWORD_MAX_BYTES + 1];
  char zHash[SECRET_HASH_MAX];
  int bMatch;
} check_job;

static void check_work(void *pCtx) {
  check_job *j = pCtx;
  j->bMatch = secret_password_verify(j->zHash, j->zPassword) == 1;
}

static int check_done(zc_req *r, void *pCtx) {
  check_job *j = pCtx;
  zc_node *p = j->p;
  (void)r;
  int bCurrent = j->bMatch && account_credentials_current(p, j->zAccount, j->zHash);
  limiter_end(p->pLimiter, &j->at, !j->bMatch ? LIMITER_FAILED : bCurrent ? LIMITER_OK : LIMITER_VOID, node_now(p));
  sqlite3_int64 iEpoch = db_int(p->db, 0, "SELECT cred_epoch FROM accounts WHERE id = ?", "t", j->zAccount);
  fedcall_answer(&j->from, json_pack("{s:b, s:I}", "ok", bCurrent, "epoch", (json_int_t)iEpoch), NULL);
  return 0;
}

static void check_free(void *pCtx) { free_wiped(pCtx, sizeof(check_job)); }

int remote_login_serve(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zAccount = jstr(pArgs, "account"), *zPassword = jstr(pArgs, "password");
  long nWait = 0;
  if (!zAccount || !zPassword || strlen(zPassword) > PASSWORD_MAX_BYTES || !jstr(pArgs, "address")) {
    fedcall_answer(pFrom, NULL, "bad_arguments");
    return 0;
  }
  char *zHash = db_text(p->db, "SELECT password_hash FROM accounts WHERE id = ? AND home = ? AND disabled = 0", "tt",
                        zAccount, p->cfg.zNode);
  if (!zHash) { /* moved away by a transfer this node finished: say where to */
    char *zTo = db_text(p->db, "SELECT to_node FROM transfers WHERE account = ? AND from_node = ? AND status = 'done'"
                        " ORDER BY updated DESC LIMIT 1", "tt", zAccount, p->cfg.zNode);
    if (zTo) fedcall_answer(pFrom, json_pack("{s:s}", "moved_to", zTo), NULL);
    else fedcall_answer(pFrom, NULL, "not_home");
    free(zTo);
    return 0;
  }
  check_job *j = calloc(1, sizeof *j);
  if (!j) {
    free(zHash);
    return -1;
  }
  j->p = p;
  j->from = *pFrom;
  snprintf(j->zAccount, sizeof j->zAccount, "%s", zAccount);
  snprintf(j->zPassword, sizeof j->zPassword, "%s", zPassword);
  snprintf(j->zHash, sizeof j->zHash, "%s", zHash);
  free(zHash);
  /* the same counts as a login here: per account, per (account, address), per address */
  snprintf(j->at.zAccount, sizeof j->at.zAccount, "%s", zAccount);
  snprintf(j->at.zAddress, sizeof j->at.zAddress, "%s", jstr(pArgs, "address"));
  snprintf(j->at.zDevice, sizeof j->at.zDevice, "%s", jstr(pArgs, "device") ? jstr(pArgs, "device") : "");
  int rc = limiter_begin(p->pLimiter, &j->at, node_now(p), &nWait);
  if (rc) {
    if (rc == LIMITER_BLOCKED) fedcall_answer(pFrom, json_pack("{s:I}", "blocked", (json_int_t)nWait), NULL);
    else if (rc == LIMITER_IN_FLIGHT) fedcall_answer(pFrom, json_pack("{s:b}", "in_flight", 1), NULL);
    else fedcall_answer(pFrom, NULL, "busy");
    check_free(j);
    return 0;
  }
  limiter_attempt at = j->at;
  rc = worker_defer(NULL, check_work, check_done, j, check_free);
  if (rc == HTTP_PENDING) return 0;
  if (rc == HTTP_BUSY) { /* worker_defer freed j */
    limiter_end(p->pLimiter, &at, LIMITER_VOID, node_now(p));
    fedcall_answer(pFrom, NULL, "busy");
    return 0;
  }
  return rc; /* ran inline (no worker threads): answered */
}
