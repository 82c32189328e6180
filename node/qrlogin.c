/* qrlogin.c - 扫码登录 (qrlogin.h). The code is 128 random bits; the asking browser's
 * cookie holds a second secret whose hash the row keeps, so a code seen elsewhere (a
 * screenshot, a shoulder) gives no session to anyone but that browser. Every step is a
 * compare-and-set on the row's state, so racing approvals or session requests let one
 * win. */
#include "qrlogin.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "keys.h"
#include "live.h"
#include "node.h"
#include "qr.h"
#include "secret.h"
#include "session.h"
#include "trust.h"

#define QR_CODE_BYTES 16
#define QR_CODE_LEN (2 * QR_CODE_BYTES)
#define QR_PER_ADDRESS 20 /* codes an address may ask for in QR_WINDOW */
#define QR_WINDOW 600
#define QR_MODULE 5 /* pixels per module of the PNG */
#define QR_AGENT_MAX 160

#define GONE_MSG "二维码已失效，请在电脑上刷新二维码"

static int code_ok(const char *z) {
  if (!z || strlen(z) != QR_CODE_LEN) return 0;
  for (const char *p = z; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

/* The row of code zCode with its state as it is now ('expired' once past its time), or
 * NULL (then 404 answered when r is given). */
static json_t *load(zc_node *p, zc_req *r, const char *zCode) {
  json_t *o = code_ok(zCode) ? db_row(p->db, "SELECT id, browser_hash, agent, address, created, expires,"
                                      " CASE WHEN state IN ('pending', 'approved') AND expires <= ? THEN 'expired'"
                                      " ELSE state END AS state, account_id FROM qr_logins WHERE id = ?",
                                      "It", (sqlite3_int64)node_now(p), zCode)
                             : NULL;
  if (!o && r) http_error(r, 404, "not_found", GONE_MSG);
  return o;
}

/* The browser's User-Agent as the phone shows it: printable ASCII only (RFC 9110 says no
 * more), cut at QR_AGENT_MAX. */
static void agent_text(const char *zIn, char zOut[QR_AGENT_MAX + 1]) {
  size_t n = 0;
  for (; *zIn && n < QR_AGENT_MAX; zIn++)
    if (*zIn >= 0x20 && *zIn < 0x7f) zOut[n++] = *zIn;
  zOut[n] = 0;
}

static void qr_url(zc_node *p, const char *zCode, char *zOut, size_t n) {
  snprintf(zOut, n, "%s/#/qr?code=%s", node_url(p, p->cfg.zNode), zCode);
}

int qrlogin_create(zc_req *r) {
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  if (db_int(r->node->db, 0, "SELECT count(*) FROM qr_logins WHERE address = ? AND created > ?", "tI", r->zPeer,
             now - QR_WINDOW) >= QR_PER_ADDRESS) {
    http_header(r, "Retry-After", "%d", QR_WINDOW);
    return http_error(r, 429, "too_many_requests", "获取二维码过于频繁，请%d分钟后再试", QR_WINDOW / 60);
  }
  char zCode[QR_CODE_LEN + 1], zSecret[65], zHash[FED_SHA256_HEX_SIZE], zUrl[512];
  if (secret_token_hex(zCode, QR_CODE_BYTES) || secret_token_hex(zSecret, 32)) return -1;
  fed_sha256_hex(zHash, zSecret, strlen(zSecret));
  char zAgent[QR_AGENT_MAX + 1];
  agent_text(r->zAgent, zAgent);
  if (db_exec(r->node->db, "DELETE FROM qr_logins WHERE expires < ?", "I", now - 86400) ||
      db_exec(r->node->db, "INSERT INTO qr_logins(id, browser_hash, agent, address, created, expires)"
              " VALUES(?,?,?,?,?,?)", "ttttII", zCode, zHash, zAgent, r->zPeer, now, now + QR_TTL))
    return -1;
  session_set_cookie(r, QR_COOKIE, zSecret, QR_COOKIE_PATH, QR_TTL);
  memset(zSecret, 0, sizeof zSecret);
  qr_url(r->node, zCode, zUrl, sizeof zUrl);
  return http_json(r, 201, json_pack("{s:s, s:s, s:i}", "code", zCode, "url", zUrl, "expires_in", QR_TTL));
}

int qrlogin_png(zc_req *r) {
  json_t *o = load(r->node, r, r->aParam[0]);
  if (!o) return 0;
  int bPending = strcmp(jstr(o, "state"), "pending") == 0;
  json_decref(o);
  if (!bPending) return http_error(r, 404, "not_found", GONE_MSG);
  char zUrl[512];
  qr_url(r->node, r->aParam[0], zUrl, sizeof zUrl);
  return qr_answer_png(r, zUrl, QR_MODULE, NULL); /* no-store: the code is gone in two minutes */
}

static const char *state_name(const char *zState) {
  static const char *const az[][2] = {{"pending", "等待确认"}, {"approved", "已确认登录"}, {"refused", "已拒绝"},
                                      {"used", "已登录"}, {"expired", "已过期"}};
  for (size_t i = 0; i < sizeof az / sizeof az[0]; i++)
    if (strcmp(az[i][0], zState) == 0) return az[i][1];
  return zState;
}

/* What the phone is shown before it decides: where and what asks. */
int qrlogin_get(zc_req *r) {
  json_t *o = load(r->node, r, r->aParam[0]);
  if (!o) return 0;
  json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "code", jstr(o, "id"), "state", jstr(o, "state"),
                        "state_name", state_name(jstr(o, "state")), "node", r->node->cfg.zNode, "agent",
                        jstr(o, "agent"), "created", json_object_get(o, "created"), "expires",
                        json_object_get(o, "expires"));
  node_put_region_names(r->node, a, "node", "node_name");
  json_object_set_new(a, "address", json_string(jstr(o, "address")));
  json_set_time(a, "created");
  json_set_time(a, "expires");
  json_decref(o);
  return http_json(r, 200, json_pack("{s:o}", "qr_login", a));
}

int qrlogin_decide(zc_req *r) {
  json_t *v = json_object_get(r->pJson, "approve");
  if (!json_is_boolean(v)) return http_field_error(r, 400, "invalid_field", "approve", "请选择确认登录或拒绝");
  json_t *o = load(r->node, r, r->aParam[0]);
  if (!o) return 0;
  const char *zState = json_is_true(v) ? "approved" : "refused";
  int bPending = strcmp(jstr(o, "state"), "pending") == 0;
  json_decref(o);
  if (!bPending) return http_error(r, 409, "qr_decided", "该二维码已处理或已过期，请在电脑上刷新二维码");
  if (db_exec(r->node->db, "UPDATE qr_logins SET state = ?, account_id = ?, decided = ? WHERE id = ?"
              " AND state = 'pending' AND expires > ?", "ttItI", zState, r->pSess->zAccount,
              (sqlite3_int64)node_now(r->node), r->aParam[0], (sqlite3_int64)node_now(r->node)))
    return -1;
  if (sqlite3_changes(r->node->db) != 1)
    return http_error(r, 409, "qr_decided", "该二维码已处理或已过期，请在电脑上刷新二维码");
  live_queue(r, json_pack("{s:s, s:s, s:s}", "type", "qr", "code", r->aParam[0], "state", zState));
  return http_json(r, 200, json_pack("{s:s, s:s}", "state", zState, "message",
                                     json_is_true(v) ? "已确认，电脑端将自动登录" : "已拒绝该登录请求"));
}

/* The desktop takes its session: only the browser that asked (its cookie), only once. */
int qrlogin_session(zc_req *r) {
  char zSecret[80], zHash[FED_SHA256_HEX_SIZE];
  json_t *o = load(r->node, r, r->aParam[0]);
  if (!o) return 0;
  int rc;
  if (http_cookie(r, QR_COOKIE, zSecret, sizeof zSecret) ||
      (fed_sha256_hex(zHash, zSecret, strlen(zSecret)), !secret_equal_hex(zHash, jstr(o, "browser_hash"))))
    rc = http_error(r, 403, "qr_other_browser", "该二维码不是由本浏览器获取的，请在本浏览器上刷新二维码");
  else if (strcmp(jstr(o, "state"), "pending") == 0)
    rc = http_error(r, 409, "qr_pending", "请在手机上确认登录");
  else if (strcmp(jstr(o, "state"), "approved") != 0)
    rc = http_error(r, 409, "qr_gone", GONE_MSG);
  else if (db_exec(r->node->db, "UPDATE qr_logins SET state = 'used', used = ? WHERE id = ? AND state = 'approved'",
                   "It", (sqlite3_int64)node_now(r->node), r->aParam[0]))
    rc = -1;
  else if (sqlite3_changes(r->node->db) != 1)
    rc = http_error(r, 409, "qr_gone", GONE_MSG);
  else {
    const char *zAccount = jstr(o, "account_id");
    session_set_cookie(r, QR_COOKIE, "", QR_COOKIE_PATH, 0);
    rc = session_open(r, zAccount) ? -1 : account_answer_with_session(r, 200, zAccount);
  }
  memset(zSecret, 0, sizeof zSecret);
  json_decref(o);
  return rc;
}

/* ---- the desktop's socket ---- */

typedef struct qr_conn {
  struct qr_conn *pNext;
  struct lws *wsi;
  char zCode[QR_CODE_LEN + 1];
  char zMsg[96];  /* the message to send next, "" when none */
  int bFinal;     /* close once zMsg is sent */
} qr_conn;

static qr_conn *g_qrConns;

/* The pending code the socket's URL names (?code=), or -1. */
static int socket_code(struct lws *wsi, char zCode[QR_CODE_LEN + 1], long *pnLeft) {
  char z[QR_CODE_LEN + 8];
  const char *zVal = lws_get_urlarg_by_name(wsi, "code=", z, sizeof z);
  zc_node *p = live_node();
  if (!p || !zVal || !code_ok(zVal)) return -1;
  json_t *o = load(p, NULL, zVal);
  int bPending = o && strcmp(jstr(o, "state"), "pending") == 0;
  if (bPending) {
    snprintf(zCode, QR_CODE_LEN + 1, "%s", zVal);
    *pnLeft = (long)(json_integer_value(json_object_get(o, "expires")) - node_now(p));
  }
  json_decref(o);
  return bPending ? 0 : -1;
}

int qrlogin_check_upgrade(struct lws *wsi, zc_req *r) {
  char zCode[QR_CODE_LEN + 1];
  long nLeft;
  if (!live_origin_ok(wsi)) return http_error(r, 403, "cross_origin", "不接受来自其他网站页面的连接"), -1;
  if (socket_code(wsi, zCode, &nLeft)) return http_error(r, 404, "not_found", GONE_MSG), -1;
  return 0;
}

static void conn_say(qr_conn *c, const char *zType, int bFinal) {
  snprintf(c->zMsg, sizeof c->zMsg, "{\"type\":\"%s\"}", zType);
  c->bFinal = bFinal;
  lws_callback_on_writable(c->wsi);
}

void qrlogin_deliver(const json_t *e) {
  for (qr_conn *c = g_qrConns; c; c = c->pNext)
    if (strcmp(c->zCode, jstr(e, "code")) == 0) conn_say(c, jstr(e, "state"), 1);
}

static void conn_drop(qr_conn *c) {
  for (qr_conn **pp = &g_qrConns; *pp; pp = &(*pp)->pNext)
    if (*pp == c) {
      *pp = c->pNext;
      return;
    }
}

static int callback_qr(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  qr_conn *c = (qr_conn *)user;
  long nLeft = 0;
  (void)in;
  (void)len;
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      memset(c, 0, sizeof(*c));
      return !live_origin_ok(wsi) || socket_code(wsi, c->zCode, &nLeft) ? 1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
      c->wsi = wsi;
      c->pNext = g_qrConns;
      g_qrConns = c;
      if (socket_code(wsi, c->zCode, &nLeft) || nLeft <= 0) {
        conn_say(c, "expired", 1);
        return 0;
      }
      snprintf(c->zMsg, sizeof c->zMsg, "{\"type\":\"waiting\",\"expires_in\":%ld}", nLeft);
      lws_callback_on_writable(wsi);
      lws_set_timer_usecs(wsi, (lws_usec_t)nLeft * LWS_USEC_PER_SEC);
      return 0;
    case LWS_CALLBACK_TIMER:
      if (!c->bFinal) conn_say(c, "expired", 1);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      size_t n = strlen(c->zMsg);
      if (!n) return c->bFinal ? -1 : 0;
      unsigned char a[LWS_PRE + sizeof c->zMsg];
      memcpy(a + LWS_PRE, c->zMsg, n);
      c->zMsg[0] = 0;
      if (lws_write(wsi, a + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) return -1;
      if (c->bFinal) lws_callback_on_writable(wsi); /* then close, once this frame is out */
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      return 0; /* the page has nothing to say */
    case LWS_CALLBACK_CLOSED:
      conn_drop(c);
      return 0;
    default:
      return 0;
  }
}

const struct lws_protocols g_qr_protocol = {"zc-qr", callback_qr, sizeof(qr_conn), 256, 0, NULL, 0};
