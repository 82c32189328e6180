/* session.c - session cookies, CSRF tokens and device cookies (session.h). */
#include "session.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "keys.h"
#include "live.h"
#include "messages.h"
#include "router.h"
#include "secret.h"

#define SESSION_SELECT                                                                 \
  "SELECT s.csrf, s.account_id, s.last_seen, a.username, a.role, a.unit_id, a.dept_id,"  \
  " a.committee_id, a.lang FROM sessions s JOIN accounts a ON a.id = s.account_id"

/* The columns of SESSION_SELECT, in order. */
enum { SC_CSRF, SC_ACCOUNT, SC_LAST_SEEN, SC_USERNAME, SC_ROLE, SC_UNIT, SC_DEPT, SC_COMMITTEE, SC_LANG };

/* Copy text column i of pStmt into z (size n), cut to fit as snprintf would; empty when
 * NULL. No formatting: this runs seven times on every request with a session. */
static void column_copy(sqlite3_stmt *pStmt, int i, char *z, size_t n) {
  const char *zCol = (const char *)sqlite3_column_text(pStmt, i);
  size_t nCol = zCol ? (size_t)sqlite3_column_bytes(pStmt, i) : 0;
  if (nCol >= n) nCol = n - 1;
  if (nCol) memcpy(z, zCol, nCol);
  z[nCol] = 0;
}

/* r->pSess from the session row pStmt is on (read straight from the row: this runs on
 * every request that carries a cookie). An Accept-Language that names neither of our
 * languages leaves the answer's language to the account's setting. */
static void fill_session(zc_req *r, sqlite3_stmt *pStmt, const char *zHash) {
  zc_session *s = &r->sess;
  char zRole[24];
  memset(s, 0, sizeof(*s));
  memcpy(s->zTokenHash, zHash, sizeof s->zTokenHash); /* 64 hex digits and the NUL */
  column_copy(pStmt, SC_CSRF, s->zCsrf, sizeof s->zCsrf);
  column_copy(pStmt, SC_ACCOUNT, s->zAccount, sizeof s->zAccount);
  column_copy(pStmt, SC_USERNAME, s->zUsername, sizeof s->zUsername);
  column_copy(pStmt, SC_ROLE, zRole, sizeof zRole);
  s->role = role_from_name(zRole);
  column_copy(pStmt, SC_UNIT, s->zUnit, sizeof s->zUnit);
  column_copy(pStmt, SC_DEPT, s->zDept, sizeof s->zDept);
  column_copy(pStmt, SC_COMMITTEE, s->zCommittee, sizeof s->zCommittee);
  s->iLang = messages_pick((const char *)sqlite3_column_text(pStmt, SC_LANG));
  if (r->iLang == LANG_NONE) r->iLang = s->iLang;
  r->pSess = s;
}

void session_set_cookie(zc_req *r, const char *zName, const char *zValue, const char *zPath, int nMaxAge) {
  http_header(r, "Set-Cookie", "%s=%s; Path=%s; HttpOnly; SameSite=Lax; Max-Age=%d%s", zName, zValue, zPath,
              nMaxAge, r->node->cfg.bSecureCookies ? "; Secure" : "");
}

int session_load(zc_req *r) {
  char zToken[80], zHash[65];
  time_t now = node_now(r->node);
  r->pSess = NULL;
  if (http_cookie(r, SESSION_COOKIE, zToken, sizeof zToken) || strlen(zToken) != 64) return 0;
  fed_sha256_hex(zHash, zToken, 64);
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
  fed_sha256_hex(zHash, zToken, 64);
  db_exec(r->node->db, "DELETE FROM sessions WHERE expires <= ?", "I", (sqlite3_int64)now);
  if (db_exec(r->node->db,
              "INSERT INTO sessions(token_hash, account_id, csrf, peer, created, last_seen, expires)"
              " VALUES(?,?,?,?,?,?,?)", "ttttIII", zHash, zAccount, zCsrf, r->zPeer,
              (sqlite3_int64)now, (sqlite3_int64)now, (sqlite3_int64)(now + SESSION_TTL)))
    return -1;
  session_set_cookie(r, SESSION_COOKIE, zToken, "/", SESSION_TTL);
  sqlite3_stmt *pStmt = db_prepare(r->node->db, SESSION_SELECT " WHERE s.token_hash = ?", "t", zHash);
  int rc = pStmt && sqlite3_step(pStmt) == SQLITE_ROW ? 0 : -1;
  if (rc == 0) fill_session(r, pStmt, zHash);
  if (pStmt) sqlite3_reset(pStmt);
  return rc;
}

int session_close(zc_req *r) {
  if (r->pSess)
    db_exec(r->node->db, "DELETE FROM sessions WHERE token_hash = ?", "t", r->pSess->zTokenHash);
  session_set_cookie(r, SESSION_COOKIE, "", "/", 0);
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

/* ---- device cookies (OWASP "slow brute force": a browser that logged in keeps its own
 * budget of failed logins). The value is ACCOUNT.EXPIRES.ID.MAC, MAC an HMAC-SHA256 of
 * the rest under a key derived from the node's data key: the node keeps nothing. */

static void device_mac(const zc_node *p, const char *zSigned, char zMac[65]) {
  char zKey[65];
  secret_hmac_hex(p->aDataKey, sizeof p->aDataKey, "zc-device-cookie-v1", zKey);
  secret_hmac_hex((const unsigned char *)zKey, 64, zSigned, zMac);
  OPENSSL_cleanse(zKey, sizeof zKey);
}

int session_device_issue(zc_req *r, const char *zAccount) {
  char zId[33], zSigned[160], zMac[65], zValue[240];
  long long tExpires = (long long)node_now(r->node) + DEVICE_TTL;
  if (secret_token_hex(zId, 16)) return -1;
  snprintf(zSigned, sizeof zSigned, "%.39s.%lld.%s", zAccount, tExpires, zId);
  device_mac(r->node, zSigned, zMac);
  snprintf(zValue, sizeof zValue, "%s.%s", zSigned, zMac);
  session_set_cookie(r, DEVICE_COOKIE, zValue, DEVICE_COOKIE_PATH, DEVICE_TTL);
  return 0;
}

int session_device_of(const zc_req *r, const char *zAccount, char zIdOut[33]) {
  char zValue[256], zMac[65];
  zIdOut[0] = 0;
  if (http_cookie(r, DEVICE_COOKIE, zValue, sizeof zValue)) return 0;
  char *zDot = strrchr(zValue, '.');
  if (!zDot || strlen(zDot + 1) != 64) return 0;
  *zDot = 0;
  device_mac(r->node, zValue, zMac);
  if (CRYPTO_memcmp(zMac, zDot + 1, 64) != 0) return 0;
  /* signed by this node: ACCOUNT.EXPIRES.ID, all three as written */
  char *zExp = strchr(zValue, '.');
  char *zId = zExp ? strchr(zExp + 1, '.') : NULL;
  if (!zId || strlen(zId + 1) != 32) return 0;
  *zExp++ = 0;
  *zId++ = 0;
  if (strcmp(zValue, zAccount) != 0 || strtoll(zExp, NULL, 10) <= (long long)node_now(r->node)) return 0;
  snprintf(zIdOut, 33, "%s", zId);
  return 1;
}
