/* session.c - session cookies, CSRF tokens and the failed-login limits (session.h). */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "live.h"
#include "router.h"
#include "secret.h"

#define SESSION_SELECT                                                                 \
  "SELECT s.csrf, s.account_id, s.last_seen, a.username, a.role, a.unit_id, a.dept_id,"  \
  " a.committee_id FROM sessions s JOIN accounts a ON a.id = s.account_id"

/* The columns of SESSION_SELECT, in order. */
enum { SC_CSRF, SC_ACCOUNT, SC_LAST_SEEN, SC_USERNAME, SC_ROLE, SC_UNIT, SC_DEPT, SC_COMMITTEE };

/* Copy text column i of pStmt into z (size n); empty when NULL. */
static void column_copy(sqlite3_stmt *pStmt, int i, char *z, size_t n) {
  const char *zCol = (const char *)sqlite3_column_text(pStmt, i);
  snprintf(z, n, "%s", zCol ? zCol : "");
}

/* r->pSess from the session row pStmt is on (read straight from the row: this runs on
 * every request that carries a cookie). */
static void fill_session(zc_req *r, sqlite3_stmt *pStmt, const char *zHash) {
  zc_session *s = &r->sess;
  char zRole[24];
  memset(s, 0, sizeof(*s));
  snprintf(s->zTokenHash, sizeof s->zTokenHash, "%s", zHash);
  column_copy(pStmt, SC_CSRF, s->zCsrf, sizeof s->zCsrf);
  column_copy(pStmt, SC_ACCOUNT, s->zAccount, sizeof s->zAccount);
  column_copy(pStmt, SC_USERNAME, s->zUsername, sizeof s->zUsername);
  column_copy(pStmt, SC_ROLE, zRole, sizeof zRole);
  s->role = role_from_name(zRole);
  column_copy(pStmt, SC_UNIT, s->zUnit, sizeof s->zUnit);
  column_copy(pStmt, SC_DEPT, s->zDept, sizeof s->zDept);
  column_copy(pStmt, SC_COMMITTEE, s->zCommittee, sizeof s->zCommittee);
  r->pSess = s;
}

int session_load(zc_req *r) {
  char zToken[80], zHash[65];
  time_t now = node_now(r->node);
  r->pSess = NULL;
  if (http_cookie(r, SESSION_COOKIE, zToken, sizeof zToken) || strlen(zToken) != 64) return 0;
  secret_sha256_hex(zToken, 64, zHash);
  sqlite3_stmt *pStmt = db_prepare(r->node->db,
      SESSION_SELECT
      " WHERE s.token_hash = ? AND s.expires > ? AND s.last_seen > ? AND a.disabled = 0",
      "tII", zHash, (sqlite3_int64)now, (sqlite3_int64)(now - SESSION_IDLE));
  if (!pStmt) return 0;
  int bTouch = 0;
  if (sqlite3_step(pStmt) == SQLITE_ROW) {
    fill_session(r, pStmt, zHash);
    /* Touch at most once a minute: the idle limit needs no finer grain. */
    bTouch = sqlite3_column_int64(pStmt, SC_LAST_SEEN) < (sqlite3_int64)now - 60;
  }
  sqlite3_reset(pStmt);
  if (bTouch)
    db_exec(r->node->db, "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", "It",
            (sqlite3_int64)now, zHash);
  return 0;
}

int session_open(zc_req *r, const char *zAccount) {
  char zToken[65], zHash[65], zCsrf[65];
  time_t now = node_now(r->node);
  if (secret_token_hex(zToken, 32) || secret_token_hex(zCsrf, 32)) return -1;
  secret_sha256_hex(zToken, 64, zHash);
  db_exec(r->node->db, "DELETE FROM sessions WHERE expires <= ?", "I", (sqlite3_int64)now);
  if (db_exec(r->node->db,
              "INSERT INTO sessions(token_hash, account_id, csrf, peer, created, last_seen, expires)"
              " VALUES(?,?,?,?,?,?,?)", "ttttIII", zHash, zAccount, zCsrf, r->zPeer,
              (sqlite3_int64)now, (sqlite3_int64)now, (sqlite3_int64)(now + SESSION_TTL)))
    return -1;
  http_header(r, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d",
              SESSION_COOKIE, zToken, SESSION_TTL);
  sqlite3_stmt *pStmt = db_prepare(r->node->db, SESSION_SELECT " WHERE s.token_hash = ?", "t", zHash);
  int rc = pStmt && sqlite3_step(pStmt) == SQLITE_ROW ? 0 : -1;
  if (rc == 0) fill_session(r, pStmt, zHash);
  if (pStmt) sqlite3_reset(pStmt);
  return rc;
}

int session_close(zc_req *r) {
  if (r->pSess)
    db_exec(r->node->db, "DELETE FROM sessions WHERE token_hash = ?", "t", r->pSess->zTokenHash);
  http_header(r, "Set-Cookie", "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", SESSION_COOKIE);
  r->pSess = NULL;
  live_revalidate(r->node);
  return 0;
}

int session_end_others(zc_node *p, const char *zAccount, const char *zKeepHash) {
  int rc = db_exec(p->db, "DELETE FROM sessions WHERE account_id = ? AND token_hash <> ?", "tt",
                   zAccount, zKeepHash ? zKeepHash : "");
  live_revalidate(p);
  return rc;
}

/* ---- failed logins: a small open-addressing table, oldest entries reused ---- */

#define RL_SLOTS 4096
typedef struct rl_slot {
  char zKey[96];
  time_t tStart; /* window start */
  int nFail;
  int nBusy;     /* "busy:" keys: a password check is running */
} rl_slot;
static rl_slot g_rl[RL_SLOTS];

static unsigned rl_hash(const char *z) {
  unsigned h = 2166136261u;
  while (*z) h = (h ^ (unsigned char)*z++) * 16777619u;
  return h;
}

static int rl_limit(const char *zKind);

/* Is slot s blocking its key now? Such a slot is never reused before its window ends:
 * otherwise a flood of failures under other names would lift a lockout. */
static int rl_blocking(const rl_slot *s, time_t now) {
  char zKind[16];
  size_t n = strcspn(s->zKey, ":");
  if (s->nBusy) return 1;
  if (!s->zKey[0] || s->tStart + LOGIN_WINDOW <= now || n >= sizeof zKind) return 0;
  memcpy(zKind, s->zKey, n);
  zKind[n] = 0;
  return s->nFail >= rl_limit(zKind);
}

/* The slot for a key: its own, else an empty or expired one nearby, else the oldest
 * that is not blocking. */
static rl_slot *rl_find(const char *zKey, time_t now, int bCreate) {
  unsigned h = rl_hash(zKey);
  rl_slot *pFree = NULL, *pOldest = NULL;
  for (unsigned i = 0; i < 16; i++) {
    rl_slot *s = &g_rl[(h + i) % RL_SLOTS];
    if (strcmp(s->zKey, zKey) == 0) return s;
    if (!pFree && (s->zKey[0] == 0 || (s->tStart + LOGIN_WINDOW <= now && !s->nBusy))) pFree = s;
    if (!rl_blocking(s, now) && (!pOldest || s->tStart < pOldest->tStart)) pOldest = s;
  }
  if (bCreate && !pFree && !pOldest) pOldest = &g_rl[h % RL_SLOTS]; /* sixteen lockouts in one place */
  if (!bCreate) return NULL;
  rl_slot *s = pFree ? pFree : pOldest;
  snprintf(s->zKey, sizeof s->zKey, "%s", zKey);
  s->tStart = now;
  s->nFail = 0;
  return s;
}

static int rl_limit(const char *zKind) {
  return strcmp(zKind, "address") == 0 ? LOGIN_MAX_PER_ADDRESS : LOGIN_MAX_PER_ACCOUNT;
}

long ratelimit_wait(const char *zKind, const char *zKey, time_t now) {
  char zFull[96];
  snprintf(zFull, sizeof zFull, "%s:%s", zKind, zKey);
  rl_slot *s = rl_find(zFull, now, 0);
  if (!s || s->tStart + LOGIN_WINDOW <= now || s->nFail < rl_limit(zKind)) return 0;
  return (long)(s->tStart + LOGIN_WINDOW - now);
}

void ratelimit_fail(const char *zKind, const char *zKey, time_t now) {
  char zFull[96];
  snprintf(zFull, sizeof zFull, "%s:%s", zKind, zKey);
  rl_slot *s = rl_find(zFull, now, 1);
  if (s->tStart + LOGIN_WINDOW <= now) {
    s->tStart = now;
    s->nFail = 0;
  }
  s->nFail++;
}

int ratelimit_enter(const char *zKey, time_t now) {
  char zFull[96];
  snprintf(zFull, sizeof zFull, "busy:%s", zKey);
  rl_slot *s = rl_find(zFull, now, 1);
  if (s->nBusy > 0) return -1;
  s->nBusy = 1;
  return 0;
}

void ratelimit_leave(const char *zKey) {
  char zFull[96];
  snprintf(zFull, sizeof zFull, "busy:%s", zKey);
  rl_slot *s = rl_find(zFull, 0, 0);
  if (s) memset(s, 0, sizeof(*s));
}

void ratelimit_clear(const char *zKind, const char *zKey) {
  char zFull[96];
  snprintf(zFull, sizeof zFull, "%s:%s", zKind, zKey);
  rl_slot *s = rl_find(zFull, 0, 0);
  if (s) memset(s, 0, sizeof(*s));
}
