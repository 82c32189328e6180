/* recovery.c - codes, resets and appeals (recovery.h). Codes and reset tokens are kept
 * only as HMACs under the node's data key; what a refused try must still record (a wrong
 * code's count) is written after the request's transaction has rolled back. */
#include "recovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "blob.h"
#include "db.h"
#include "router.h"
#include "secret.h"
#include "sender.h"
#include "trust.h"
#include "validate.h"

#define CODE_TTL (10 * 60)
#define CODE_TRIES 5
#define CODE_GAP 60              /* seconds between two codes for one login */
#define CODES_PER_HOUR 5         /* per login */
#define REQUESTS_PER_HOUR 20     /* codes per address */
#define APPEALS_PER_DAY 20       /* per address (an office behind one NAT) */
#define APPEALS_PENDING 3        /* per contact */
#define RESET_TTL (7 * 24 * 3600)

#define NOT_SENT_MSG "如果该账号存在且登记了%s，验证码已发送，10分钟内有效；请在账号注册地区的门户找回"
#define BAD_CODE_MSG "验证码错误或已过期，请重新获取"

/* ---- keyed digests ---- */

static void keyed(zc_node *p, const char *zWhat, const char *zA, const char *zB, char zOut[65]) {
  char z[512];
  snprintf(z, sizeof z, "zc-recovery.1 %s\n%s\n%s", zWhat, zA, zB ? zB : "");
  secret_hmac_hex(p->aDataKey, sizeof p->aDataKey, z, zOut);
}

/* ---- rate limits: counts of recovery_requests rows in a window ---- */

static sqlite3_int64 requests_since(zc_node *p, const char *zKey, long nSecs) {
  return db_int(p->db, 0, "SELECT count(*) FROM recovery_requests WHERE key = ? AND at > ?", "tI", zKey,
                (sqlite3_int64)(node_now(p) - nSecs));
}

static int note_request(zc_node *p, const char *zKey) {
  return db_exec(p->db, "DELETE FROM recovery_requests WHERE at < ?", "I", (sqlite3_int64)(node_now(p) - 86400)) ||
         db_exec(p->db, "INSERT INTO recovery_requests(key, at) VALUES(?,?)", "tI", zKey, (sqlite3_int64)node_now(p));
}

static int too_often(zc_req *r, long nWait, const char *zWhat) {
  http_header(r, "Retry-After", "%ld", nWait);
  return http_error_extra(r, 429, "too_many_requests", json_pack("{s:I}", "retry_after", (json_int_t)nWait),
                          "%s过于频繁，请%ld分钟后再试", zWhat, (nWait + 59) / 60);
}

static void address_key(const zc_req *r, const char *zWhat, char zOut[96]) {
  snprintf(zOut, 96, "%s:%s", zWhat, r->zPeer);
}

/* ---- the account a login names, when it lives here ---- */

static json_t *home_account(zc_node *p, const char *zLogin) {
  json_t *a = account_find_login(p, zLogin);
  const char *zId = a ? jstr(a, "id") : NULL;
  json_t *o = zId ? db_row(p->db, "SELECT id, username, phone, email FROM accounts WHERE id = ? AND home = ? AND"
                           " password_hash IS NOT NULL AND disabled = 0", "tt", zId, p->cfg.zNode)
                  : NULL;
  json_decref(a);
  return o;
}

/* ---- codes (验证码) ---- */

static int new_code(char zCode[7]) {
  unsigned char b[4];
  unsigned v;
  do {
    if (secret_random(b, sizeof b)) return -1;
    v = ((unsigned)b[0] << 24 | (unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3]) & 0x7fffffff;
  } while (v >= 2000000000u); /* no bias towards small codes */
  snprintf(zCode, 7, "%06u", v % 1000000);
  return 0;
}

static int send_code(zc_node *p, const json_t *a, const char *zChannel) {
  const char *zTo = jstr(a, strcmp(zChannel, "email") == 0 ? "email" : "phone");
  char zId[40], zCode[7], zHash[65], zBody[400];
  if (!zTo || !*zTo) return 0; /* nothing to send to: the answer is the same */
  if (account_new_id(zId, 'r') || new_code(zCode)) return -1;
  keyed(p, "code", zId, zCode, zHash);
  snprintf(zBody, sizeof zBody, "您的用户名：%s\n找回密码验证码：%s（%d分钟内有效，仅可使用一次）。\n如非本人操作，请忽略本消息。",
           jstr(a, "username"), zCode, CODE_TTL / 60);
  int rc = db_exec(p->db, "UPDATE recovery_codes SET used = ? WHERE account_id = ? AND used IS NULL", "It",
                   (sqlite3_int64)node_now(p), jstr(a, "id")) ||
           db_exec(p->db, "INSERT INTO recovery_codes(id, account_id, channel, code_hash, created, expires)"
                   " VALUES(?,?,?,?,?,?)", "ttttII", zId, jstr(a, "id"), zChannel, zHash, (sqlite3_int64)node_now(p),
                   (sqlite3_int64)(node_now(p) + CODE_TTL)) ||
           sender_queue(p, jstr(a, "id"), zChannel, zTo, "职称申报评审系统：找回用户名或密码", zBody);
  memset(zCode, 0, sizeof zCode);
  return rc;
}

int recovery_code(zc_req *r) {
  const char *zLogin = json_text_capped(r, "login", "用户名、身份证号或手机号", 64, 0, 1);
  const char *zChannel = zLogin ? json_str_field(r, "channel", "找回方式", 1) : NULL;
  if (!zChannel) return 0;
  if (strcmp(zChannel, "sms") && strcmp(zChannel, "email"))
    return http_field_error(r, 400, "invalid_field", "channel", "找回方式应为手机验证码(sms)或邮箱验证码(email)");
  char zLoginKey[96], zAddrKey[96], zDigest[65];
  keyed(r->node, "login", zLogin, NULL, zDigest);
  snprintf(zLoginKey, sizeof zLoginKey, "login:%s", zDigest);
  address_key(r, "addr", zAddrKey);
  if (requests_since(r->node, zLoginKey, CODE_GAP) > 0) return too_often(r, CODE_GAP, "获取验证码");
  if (requests_since(r->node, zLoginKey, 3600) >= CODES_PER_HOUR ||
      requests_since(r->node, zAddrKey, 3600) >= REQUESTS_PER_HOUR)
    return too_often(r, 3600, "获取验证码");
  json_t *a = home_account(r->node, zLogin);
  int rc = note_request(r->node, zLoginKey) || note_request(r->node, zAddrKey) || (a && send_code(r->node, a, zChannel));
  json_decref(a);
  if (rc) return -1;
  char zMsg[256];
  snprintf(zMsg, sizeof zMsg, NOT_SENT_MSG, strcmp(zChannel, "email") == 0 ? "电子邮箱" : "手机号");
  return http_json(r, 202, json_pack("{s:b, s:s}", "ok", 1, "message", zMsg));
}

/* ---- setting the new password (after a code or an approved appeal) ---- */

/* What the password job carries: the account, and the code or appeal it was allowed by. */
static int reset_finish(zc_req *r, pw_job *j) {
  const char *zAccount = jstr(j->pData, "account"), *zCode = jstr(j->pData, "code"), *zAppeal = jstr(j->pData, "appeal");
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  if (!j->bHashed) return -1;
  /* used once: a second reset with the same code or link that raced this one loses */
  if (zCode ? db_exec(r->node->db, "UPDATE recovery_codes SET used = ? WHERE id = ? AND used IS NULL", "It", now, zCode)
            : db_exec(r->node->db, "UPDATE appeals SET reset_used = ? WHERE id = ? AND reset_used IS NULL", "It", now,
                      zAppeal))
    return -1;
  if (sqlite3_changes(r->node->db) != 1)
    return zCode ? http_field_error(r, 400, "invalid_code", "code", BAD_CODE_MSG)
                 : http_error(r, 400, "invalid_token", "链接无效或已过期");
  if (db_exec(r->node->db, "UPDATE accounts SET password_hash = ?, updated = ? WHERE id = ? AND disabled = 0", "tIt",
              j->zNewHash, now, zAccount) ||
      account_credentials_changed(r->node, zAccount, NULL))
    return -1;
  return http_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "message", "新密码已设置，请使用新密码登录；其他设备上的登录已退出"));
}

static int set_password_then(zc_req *r, const char *zAccount, const char *zPassword, json_t *pData) {
  const char *zErr = account_weak_password(r->node, zPassword, zAccount);
  if (zErr) {
    json_decref(pData);
    return http_field_error(r, 400, "weak_password", "password", zErr);
  }
  json_object_set_new(pData, "account", json_string(zAccount));
  return password_then(r, NULL, NULL, zPassword, pData, reset_finish);
}

int recovery_reset(zc_req *r) {
  const char *zLogin = json_text_capped(r, "login", "用户名、身份证号或手机号", 64, 0, 1);
  const char *zCode = zLogin ? json_str_field(r, "code", "验证码", 1) : NULL;
  const char *zPassword = zCode ? json_str_field(r, "password", "新密码", 1) : NULL;
  if (!zPassword) return 0;
  json_t *a = home_account(r->node, zLogin);
  json_t *c = a ? db_row(r->node->db, "SELECT id, code_hash, attempts FROM recovery_codes WHERE account_id = ? AND"
                         " used IS NULL AND expires > ? ORDER BY created DESC LIMIT 1", "tI", jstr(a, "id"),
                         (sqlite3_int64)node_now(r->node))
                : NULL;
  char zHash[65] = "";
  if (c) keyed(r->node, "code", jstr(c, "id"), zCode, zHash);
  int bGood = c && json_integer_value(json_object_get(c, "attempts")) < CODE_TRIES &&
              secret_equal_hex(zHash, jstr(c, "code_hash"));
  if (!bGood) {
    if (c) { /* the try counts, whatever this request's transaction does */
      db_rollback(r->node->db);
      db_exec(r->node->db, "UPDATE recovery_codes SET attempts = attempts + 1 WHERE id = ?", "t", jstr(c, "id"));
    }
    json_decref(a);
    json_decref(c);
    return http_field_error(r, 400, "invalid_code", "code", BAD_CODE_MSG);
  }
  int rc = set_password_then(r, jstr(a, "id"), zPassword, json_pack("{s:s}", "code", jstr(c, "id")));
  json_decref(a);
  json_decref(c);
  return rc;
}

/* ---- appeals (账号申诉) ---- */

/* A query member of at most nMax characters, or NULL after answering 400. */
static const char *query_text(zc_req *r, const char *zKey, const char *zLabel, size_t nMax, char *z, size_t n,
                              int bRequired) {
  char zMsg[128];
  int rc = http_query(r, zKey, z, n);
  if (rc == HTTP_TOO_LONG || (rc == 0 && validate_text(z, nMax, 0))) {
    snprintf(zMsg, sizeof zMsg, "%s过长或含有不允许的字符", zLabel);
    http_field_error(r, 400, "invalid_field", zKey, zMsg);
    return NULL;
  }
  if (rc || !*z) {
    z[0] = 0;
    if (!bRequired) return z;
    snprintf(zMsg, sizeof zMsg, "请填写%s", zLabel);
    http_field_error(r, 400, "missing_field", zKey, zMsg);
    return NULL;
  }
  return z;
}

/* The account an appeal names, when its name and identifier match one living here. */
static char *appeal_account(zc_node *p, int bUnit, const char *zName, const char *zIdent) {
  if (bUnit)
    return db_text(p->db, "SELECT a.id FROM accounts a JOIN units u ON u.id = a.unit_id WHERE u.credit_code = ? AND"
                   " u.name = ? AND a.role = 'unit_admin' AND a.home = ? AND a.disabled = 0 ORDER BY a.created LIMIT 1",
                   "ttt", zIdent, zName, p->cfg.zNode);
  char zDigest[65];
  secret_hmac_hex(p->aPepper, sizeof p->aPepper, zIdent, zDigest);
  return db_text(p->db, "SELECT id FROM accounts WHERE id_digest = ? AND name = ? AND home = ? AND disabled = 0", "ttt",
                 zDigest, zName, p->cfg.zNode);
}

int recovery_appeal(zc_req *r) {
  char zKind[8], zName[256], zIdentIn[64], zContact[256], zReason[1024], zIdent[19], zMasked[19], zSha[65], zId[40];
  const char *zErr;
  if (http_query(r, "kind", zKind, sizeof zKind) || (strcmp(zKind, "person") && strcmp(zKind, "unit")))
    return http_field_error(r, 400, "invalid_field", "kind", "请选择申诉类型：个人(person)或单位(unit)");
  int bUnit = strcmp(zKind, "unit") == 0;
  const char *zIdKey = bUnit ? "credit_code" : "id_number";
  if (!query_text(r, "name", bUnit ? "单位名称" : "姓名", 60, zName, sizeof zName, 1) ||
      !query_text(r, zIdKey, bUnit ? "统一社会信用代码" : "身份证号", 18, zIdentIn, sizeof zIdentIn, 1) ||
      !query_text(r, "contact", "联系方式", 60, zContact, sizeof zContact, 1) ||
      !query_text(r, "reason", "申诉理由", 200, zReason, sizeof zReason, 0))
    return 0;
  zErr = bUnit ? validate_credit_code(zIdentIn, zIdent) : validate_id_number(zIdentIn, zIdent, node_now(r->node));
  if (zErr) return http_field_error(r, 400, "invalid_field", zIdKey, zErr);
  int bEmail = strcmp(sender_channel_of(zContact), "email") == 0;
  if ((zErr = bEmail ? validate_email(zContact) : validate_mobile(zContact)))
    return http_field_error(r, 400, "invalid_field", "contact", "联系方式应为手机号或电子邮箱");
  if (r->body.n == 0)
    return http_error(r, 400, "empty_file", bUnit ? "请上传营业执照或法人证书扫描件" : "请上传身份证扫描件");
  const char *zType = blob_sniff(r->body.z, r->body.n);
  if (!zType) return http_error(r, 415, "unsupported_type", "扫描件只能是JPEG、PNG或PDF格式（按文件内容识别）");
  char zAddrKey[96];
  address_key(r, "appeal", zAddrKey);
  if (requests_since(r->node, zAddrKey, 86400) >= APPEALS_PER_DAY ||
      db_int(r->node->db, 0, "SELECT count(*) FROM appeals WHERE state = 'pending' AND contact = ?", "t", zContact) >=
          APPEALS_PENDING)
    return too_often(r, 86400, "提交申诉");
  mask_id_number(zIdent, zMasked); /* a credit code too: its first 4 and last 4 */
  char *zAccount = appeal_account(r->node, bUnit, zName, zIdent);
  int rc = blob_store(r->node->cfg.zData, r->body.z, r->body.n, zSha) || account_new_id(zId, 'p') ||
           note_request(r->node, zAddrKey) ||
           db_exec(r->node->db, "INSERT INTO appeals(id, kind, account_id, name, identifier_masked, contact, reason,"
                   " scan_sha, scan_type, state, created) VALUES(?,?,?,?,?,?,?,?,?,'pending',?)", "tttttttttI", zId,
                   zKind, zAccount, zName, zMasked, zContact, zReason, zSha, zType, (sqlite3_int64)node_now(r->node));
  free(zAccount);
  if (rc) return -1;
  return http_json(r, 201, json_pack("{s:{s:s, s:s}, s:s}", "appeal", "id", zId, "state", "pending", "message",
                                     "申诉已提交。节点管理员审核后，结果将发送至您留下的联系方式。"));
}

#define APPEAL_COLUMNS                                                                                   \
  "SELECT p.id, p.kind, p.name, p.identifier_masked, p.contact, p.reason, p.state, p.decision, p.created,"  \
  " p.decided, p.scan_type, p.account_id AS account, ac.username, ac.name AS account_name, ac.role AS account_role" \
  " FROM appeals p LEFT JOIN accounts ac ON ac.id = p.account_id"

int recovery_appeals(zc_req *r) {
  char zState[12] = "";
  if (http_query(r, "state", zState, sizeof zState) == HTTP_TOO_LONG ||
      (zState[0] && strcmp(zState, "pending") && strcmp(zState, "approved") && strcmp(zState, "rejected")))
    return http_error(r, 400, "invalid_query", "状态应为pending、approved或rejected");
  json_t *a = db_rows(r->node->db, APPEAL_COLUMNS " WHERE ?1 = '' OR p.state = ?1 ORDER BY p.state = 'pending' DESC,"
                      " p.created DESC LIMIT 200", "t", zState);
  if (!a) return -1;
  json_set_times(a, "created");
  json_set_times(a, "decided");
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

int recovery_appeal_scan(zc_req *r) {
  char zPath[700];
  json_t *o = db_row(r->node->db, "SELECT scan_sha, scan_type FROM appeals WHERE id = ?", "t", r->aParam[0]);
  if (!o || blob_path(r->node->cfg.zData, jstr(o, "scan_sha"), zPath, sizeof zPath)) {
    json_decref(o);
    return http_error(r, 404, "not_found", "申诉不存在");
  }
  http_file(r, zPath, jstr(o, "scan_type"));
  http_download_name(r, "申诉扫描件", "appeal-scan", jstr(o, "scan_type"));
  json_decref(o);
  return 0;
}

/* The portal's link that sets the new password of an approved appeal. */
static void reset_link(zc_node *p, const char *zAppeal, const char *zToken, char *zOut, size_t nOut) {
  snprintf(zOut, nOut, "%s/#/recover/appeal?appeal=%s&token=%s", node_url(p, p->cfg.zNode), zAppeal, zToken);
}

int recovery_decide(zc_req *r) {
  json_t *o = db_row(r->node->db, APPEAL_COLUMNS " WHERE p.id = ?", "t", r->aParam[0]);
  if (!o) return http_error(r, 404, "not_found", "申诉不存在");
  json_t *v = json_object_get(r->pJson, "approve");
  const char *zReason = json_is_boolean(v) ? json_text_capped(r, "reason", "审核意见", 200, 0, json_is_false(v)) : NULL;
  int rc = -1;
  char zBody[700], zToken[33], zHash[65], zLink[400];
  if (!json_is_boolean(v)) rc = http_field_error(r, 400, "invalid_field", "approve", "请选择通过或驳回");
  else if (r->status) rc = 0;
  else if (strcmp(jstr(o, "state"), "pending") != 0) rc = http_error(r, 409, "appeal_decided", "该申诉已处理");
  else if (json_is_true(v) && !jstr(o, "account"))
    rc = http_error(r, 409, "no_account", "未找到与申诉信息相符的账号，只能驳回");
  else if (json_is_true(v)) {
    if (secret_token_hex(zToken, 16) == 0) {
      keyed(r->node, "appeal", jstr(o, "id"), zToken, zHash);
      reset_link(r->node, jstr(o, "id"), zToken, zLink, sizeof zLink);
      snprintf(zBody, sizeof zBody, "您的账号申诉已通过。\n用户名：%s\n请在7天内打开以下链接设置新密码（仅可使用一次）：\n%s",
               jstr(o, "username"), zLink);
      rc = db_exec(r->node->db, "UPDATE appeals SET state = 'approved', decision = ?, decided_by = ?, decided = ?,"
                   " reset_hash = ?, reset_expires = ? WHERE id = ?", "ttItIt",
                   zReason && *zReason ? zReason : "审核通过", r->pSess->zAccount, (sqlite3_int64)node_now(r->node),
                   zHash, (sqlite3_int64)(node_now(r->node) + RESET_TTL), jstr(o, "id"));
      memset(zToken, 0, sizeof zToken);
    }
  } else {
    snprintf(zBody, sizeof zBody, "您的账号申诉未通过。\n原因：%s\n如有疑问，请联系节点管理员。", zReason);
    rc = db_exec(r->node->db, "UPDATE appeals SET state = 'rejected', decision = ?, decided_by = ?, decided = ?"
                 " WHERE id = ?", "ttIt", zReason, r->pSess->zAccount, (sqlite3_int64)node_now(r->node), jstr(o, "id"));
  }
  if (rc == 0 && !r->status)
    rc = sender_queue(r->node, jstr(o, "account"), sender_channel_of(jstr(o, "contact")), jstr(o, "contact"),
                      "职称申报评审系统：账号申诉结果", zBody);
  memset(zLink, 0, sizeof zLink);
  json_decref(o);
  if (rc || r->status) return rc;
  o = db_row(r->node->db, APPEAL_COLUMNS " WHERE p.id = ?", "t", r->aParam[0]);
  json_set_time(o, "created");
  json_set_time(o, "decided");
  return http_json(r, 200, json_pack("{s:o}", "appeal", o));
}

int recovery_appeal_reset(zc_req *r) {
  const char *zAppeal = json_str_field(r, "appeal", "申诉编号", 1);
  const char *zToken = zAppeal ? json_str_field(r, "token", "链接", 1) : NULL;
  const char *zPassword = zToken ? json_str_field(r, "password", "新密码", 1) : NULL;
  if (!zPassword) return 0;
  json_t *o = db_row(r->node->db, "SELECT id, account_id, reset_hash FROM appeals WHERE id = ? AND state = 'approved'"
                     " AND reset_used IS NULL AND reset_expires > ? AND account_id IS NOT NULL", "tI", zAppeal,
                     (sqlite3_int64)node_now(r->node));
  char zHash[65] = "";
  if (o) keyed(r->node, "appeal", zAppeal, zToken, zHash);
  if (!o || !secret_equal_hex(zHash, jstr(o, "reset_hash"))) {
    json_decref(o);
    return http_error(r, 400, "invalid_token", "链接无效或已过期");
  }
  int rc = set_password_then(r, jstr(o, "account_id"), zPassword, json_pack("{s:s}", "appeal", zAppeal));
  json_decref(o);
  return rc;
}
