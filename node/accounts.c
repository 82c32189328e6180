/* accounts.c - applicant registration, sessions, the profile, passwords and ID-card
 * scans (accounts.h). Argon2 runs on a worker thread (password_then); everything that
 * writes does so in the router's transaction when the work comes back, and only if the
 * credentials the work checked are still the account's then. */
#include "accounts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "blob.h"
#include "claims.h"
#include "transfer.h"
#include "db.h"
#include "fed_error.h"
#include "fedcall.h"
#include "limiter.h"
#include "outbox.h"
#include "remote_login.h"
#include "rfc3339.h"
#include "router.h"
#include "session.h"
#include "validate.h"
#include "worker.h"

/* ---- passwords off the event loop ---- */

/* A hash to check a password against when the login names nobody, so that both cases
 * take the same time and say the same thing. Made once, on a worker. */
static char g_zDummyHash[SECRET_HASH_MAX];
static void make_dummy_hash(void) { secret_password_hash("zc-no-such-account", g_zDummyHash); }

static void pw_work(void *pCtx) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pw_job *j = pCtx;
  if (j->zCheck[0] && j->zCheckHash[0]) {
    j->bChecked = secret_password_verify(j->zCheckHash, j->zCheck) == 1;
  } else if (j->zCheck[0]) { /* nobody to check against: the same work, never a match */
    pthread_once(&once, make_dummy_hash);
    secret_password_verify(g_zDummyHash, j->zCheck);
  }
  if (j->zNew[0] && (!j->zCheck[0] || j->bChecked)) j->bHashed = secret_password_hash(j->zNew, j->zNewHash) == 0;
}

static int pw_done(zc_req *r, void *pCtx) {
  pw_job *j = pCtx;
  return j->xThen(r, j);
}

static void pw_free(void *pCtx) {
  pw_job *j = pCtx;
  json_decref(j->pData);
  /* passwords do not linger in freed memory */
  memset(j, 0, sizeof(*j));
  free(j);
}

int password_then(zc_req *r, const char *zCheck, const char *zCheckHash, const char *zNew,
                  json_t *pData, int (*xThen)(zc_req *r, pw_job *j)) {
  pw_job *j = calloc(1, sizeof(*j));
  if (!j) {
    json_decref(pData);
    return -1;
  }
  snprintf(j->zCheck, sizeof j->zCheck, "%s", zCheck ? zCheck : "");
  snprintf(j->zCheckHash, sizeof j->zCheckHash, "%s", zCheckHash ? zCheckHash : "");
  snprintf(j->zNew, sizeof j->zNew, "%s", zNew ? zNew : "");
  j->pData = pData;
  j->xThen = xThen;
  int rc = worker_defer(r, pw_work, pw_done, j, pw_free);
  if (rc == HTTP_BUSY) return http_error(r, 503, "busy", "系统繁忙，请稍后再试");
  return rc;
}

/* ---- creating accounts ---- */

int account_new_id(char zOut[40], char cKind) {
  char zHex[25];
  if (secret_token_hex(zHex, 12)) return -1;
  snprintf(zOut, 40, "%c%s", cKind, zHex);
  return 0;
}

/* The node's place in schemas/regions.json (0 the region), or -1. */
static int node_place(const zc_node *p) {
  size_t i;
  json_t *v;
  json_array_foreach(p->pRegions, i, v)
    if (strcmp(jstr(v, "id"), p->cfg.zNode) == 0) return (int)i;
  return -1;
}

/* Usernames are ten digits like the existing platform's, never starting with 0. Each node
 * draws from a space of its own, so that two nodes never hand out the same one: the first
 * two digits are 10 plus the node's place in the region list, the other eight random (a
 * node not in the list draws from all ten digits, as a node alone did). */
static int new_username(zc_node *p, char zOut[24]) {
  int iPlace = node_place(p);
  for (int i = 0; i < 20; i++) {
    unsigned char a[8];
    if (secret_random(a, sizeof a)) return -1;
    unsigned long long v = 0;
    for (int k = 0; k < 8; k++) v = (v << 8) | a[k];
    if (iPlace >= 0 && iPlace < 90) snprintf(zOut, 24, "%d%08llu", 10 + iPlace, v % 100000000ULL);
    else snprintf(zOut, 24, "%llu", 1000000000ULL + v % 9000000000ULL);
    if (!db_int(p->db, 0, "SELECT 1 FROM accounts WHERE username = ?", "t", zOut)) return 0;
  }
  return -1;
}

int account_insert(zc_node *p, const account_new *a, char zIdOut[40], char zUserOut[24]) {
  char zDigest[65] = "", zMasked[20] = "", zPhoneDigest[65] = "";
  char *zEnc = NULL;
  time_t now = node_now(p);
  int rc;
  if (a->zId) snprintf(zIdOut, 40, "%s", a->zId);
  else if (account_new_id(zIdOut, 'a')) return -1;
  if (new_username(p, zUserOut)) return -1;
  if (a->zPhone) secret_hmac_hex(p->aPepper, sizeof p->aPepper, a->zPhone, zPhoneDigest);
  if (a->zIdNumber) {
    secret_hmac_hex(p->aPepper, sizeof p->aPepper, a->zIdNumber, zDigest);
    mask_id_number(a->zIdNumber, zMasked);
    if (!(zEnc = secret_encrypt(p->aDataKey, a->zIdNumber))) return -1;
  }
  rc = db_exec(p->db,
      "INSERT INTO accounts(id, username, role, name, phone, phone_digest, email, id_digest, id_enc, id_masked,"
      " password_hash, home, unit_id, dept_id, committee_id, created, updated)"
      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", "tttttttttttttttII",
      zIdOut, zUserOut, a->zRole, a->zName, a->zPhone, a->zPhone ? zPhoneDigest : NULL, a->zEmail,
      a->zIdNumber ? zDigest : NULL, zEnc, a->zIdNumber ? zMasked : NULL, a->zPasswordHash, p->cfg.zNode,
      a->zUnit, a->zDept, a->zCommittee, (sqlite3_int64)now, (sqlite3_int64)now);
  free(zEnc);
  if (rc) return rc;
  /* What the federation learns: no password hash, no clear ID number or phone. */
  json_t *pBody = json_pack("{s:s, s:s, s:s, s:s, s:s}", "account", zIdOut, "username", zUserOut,
                            "role", a->zRole, "home", p->cfg.zNode, "name", a->zName);
  if (a->zIdNumber) json_object_set_new(pBody, "id_digest", json_string(zDigest));
  if (a->zPhone) json_object_set_new(pBody, "phone_digest", json_string(zPhoneDigest));
  if (a->zUnit) json_object_set_new(pBody, "unit", json_string(a->zUnit));
  return outbox_record(p, "account.registered", pBody, NULL);
}

json_t *account_json(zc_node *p, const char *zId) {
  json_t *a = db_row(p->db,
      "SELECT id, username, name, role, home, phone, email, id_masked AS id_number_masked,"
      " unit_id, dept_id AS dept, committee_id AS committee, notify, lang, created FROM accounts WHERE id = ?",
      "t", zId);
  if (!a) return NULL;
  json_object_set_new(a, "notify", json_boolean(json_integer_value(json_object_get(a, "notify"))));
  unsigned role = role_from_name(json_string_value(json_object_get(a, "role")));
  json_object_set_new(a, "role_name", json_string(role_label(role)));
  node_put_region_names(p, a, "home", "home_name");
  json_set_time(a, "created");
  const char *zUnit = json_string_value(json_object_get(a, "unit_id"));
  json_object_set_new(a, "unit", zUnit ? db_row(p->db, "SELECT id, name, credit_code FROM units"
                                                " WHERE id = ?", "t", zUnit) : json_null());
  json_object_del(a, "unit_id");
  if (role == ROLE_APPLICANT) {
    json_t *sides = json_pack("{s:b, s:b}", "front",
        (int)db_int(p->db, 0, "SELECT 1 FROM idcards WHERE account_id = ? AND side = 'front'", "t", zId),
        "back",
        (int)db_int(p->db, 0, "SELECT 1 FROM idcards WHERE account_id = ? AND side = 'back'", "t", zId));
    json_object_set_new(a, "idcard", sides);
  }
  return a;
}

int account_at_home(zc_req *r) {
  char *zHome = db_text(r->node->db, "SELECT home FROM accounts WHERE id = ?", "t", r->pSess->zAccount);
  int bHome = zHome && strcmp(zHome, r->node->cfg.zNode) == 0;
  if (bHome && transfer_in_flight(r->node, r->pSess->zAccount)) {
    free(zHome);
    return http_error(r, 409, "transfer_in_flight", "评审区域变更正在办理中，完成后请到新的评审区域网站办理此项"), 0;
  }
  if (!bHome)
    http_error_extra(r, 409, "not_home", json_pack("{s:s?}", "home", zHome), "请到账号所属地区（%s）的网站办理此项",
                     zHome && node_region_name(r->node, zHome) ? node_region_name(r->node, zHome) : "所属地区");
  free(zHome);
  return bHome;
}

char *account_home_id_number(zc_node *p, const char *zAccount) {
  char *zEnc = db_text(p->db, "SELECT id_enc FROM accounts WHERE id = ? AND home = ?", "tt", zAccount, p->cfg.zNode);
  char *zId = zEnc ? secret_decrypt(p->aDataKey, zEnc) : NULL;
  free(zEnc);
  return zId;
}

int account_answer_with_session(zc_req *r, int status, const char *zAccount) {
  json_t *a = account_json(r->node, zAccount);
  if (!a || !r->pSess) {
    json_decref(a);
    return -1;
  }
  return http_json(r, status, json_pack("{s:o, s:s}", "account", a, "csrf", r->pSess->zCsrf));
}

/* ---- registration (申请人注册) ---- */

#define ID_TAKEN_MSG "该身份证号已注册，请直接登录；如非本人注册，请提交账号申诉"
#define PHONE_TAKEN_MSG "该手机号已被其他申请人账号使用"

static int taken(zc_req *r, const char *zField) {
  if (strcmp(zField, "phone") == 0) return http_field_error(r, 409, "phone_taken", "phone", PHONE_TAKEN_MSG);
  return http_field_error(r, 409, "id_number_taken", "id_number", ID_TAKEN_MSG);
}

/* A registration between its password hash and its commit: the account id the claim
 * names, the hash, and the form. */
typedef struct reg_ctx {
  char zAccount[40];
  char zHash[SECRET_HASH_MAX];
  json_t *d;
} reg_ctx;

static void reg_free(void *pCtx) {
  reg_ctx *c = pCtx;
  json_decref(c->d);
  memset(c, 0, sizeof *c);
  free(c);
}

/* The keyed digests the registrar's claim is made of. */
static void reg_digests(zc_node *p, const json_t *d, char zId[65], char zPhone[65]) {
  secret_hmac_hex(p->aPepper, sizeof p->aPepper, jstr(d, "id_number"), zId);
  secret_hmac_hex(p->aPepper, sizeof p->aPepper, jstr(d, "phone"), zPhone);
}

/* The account, once its claim is held (the registrar's own claims are taken here, in the
 * same transaction; a node on its own, outside any federation, takes none). */
static int register_commit(zc_req *r, void *pCtx) {
  reg_ctx *c = pCtx;
  char zId[40], zUser[24], zIdDigest[65], zPhoneDigest[65];
  const char *zField = NULL;
  json_t *d = c->d;
  account_new a = {.zRole = "applicant", .zName = jstr(d, "name"), .zPhone = jstr(d, "phone"),
                   .zIdNumber = jstr(d, "id_number"), .zPasswordHash = c->zHash, .zId = c->zAccount};
  if (!claims_usable(r->node, c->zAccount)) return claims_unavailable(r); /* released meanwhile */
  if (r->node->pTrust && claims_is_registrar(r->node)) {
    reg_digests(r->node, d, zIdDigest, zPhoneDigest);
    int rc = claims_take(r->node, zIdDigest, zPhoneDigest, c->zAccount, r->node->cfg.zNode, &zField);
    if (rc) return rc > 0 ? taken(r, zField) : -1;
  }
  int rc = account_insert(r->node, &a, zId, zUser);
  if (rc == DB_CONSTRAINT) /* registered meanwhile by a concurrent request */
    return taken(r, db_int(r->node->db, 0, "SELECT 1 FROM accounts WHERE phone = ? AND role = 'applicant'", "t", a.zPhone)
                        ? "phone" : "id_number");
  if (rc || session_open(r, zId)) return -1;
  return account_answer_with_session(r, 201, zId);
}

/* The password is hashed: claim the ID number at the registrar (or here, when this is
 * it), then commit. */
static int register_finish(zc_req *r, pw_job *j) {
  char zIdDigest[65], zPhoneDigest[65];
  reg_ctx *c = calloc(1, sizeof *c);
  if (!c || !j->bHashed || account_new_id(c->zAccount, 'a')) {
    free(c);
    return -1;
  }
  snprintf(c->zHash, sizeof c->zHash, "%s", j->zNewHash);
  c->d = json_incref(j->pData);
  reg_digests(r->node, c->d, zIdDigest, zPhoneDigest);
  return claims_then(r, "id.claim",
                     json_pack("{s:s, s:s, s:s}", "id_digest", zIdDigest, "phone_digest", zPhoneDigest, "account",
                               c->zAccount),
                     register_commit, taken, c, reg_free);
}

int accounts_register(zc_req *r) {
  char zIdNumber[19], zDigest[65], zPhoneDigest[65];
  const char *zErr;
  const char *zIn = json_str_field(r, "id_number", "身份证号", 1);
  if (!zIn) return 0;
  if ((zErr = validate_id_number(zIn, zIdNumber, node_now(r->node))))
    return http_field_error(r, 400, "invalid_id_number", "id_number", zErr);
  const char *zName = json_str_field(r, "name", "姓名", 1);
  if (!zName) return 0;
  if ((zErr = validate_person_name(zName))) return http_field_error(r, 400, "invalid_field", "name", zErr);
  const char *zPhone = json_str_field(r, "phone", "手机号", 1);
  if (!zPhone) return 0;
  if ((zErr = validate_mobile(zPhone))) return http_field_error(r, 400, "invalid_field", "phone", zErr);
  const char *zPassword = json_str_field(r, "password", "密码", 1);
  if (!zPassword) return 0;
  if ((zErr = validate_password(zPassword, zIdNumber)) || (zErr = validate_password(zPassword, zPhone)))
    return http_field_error(r, 400, "weak_password", "password", zErr);
  secret_hmac_hex(r->node->aPepper, sizeof r->node->aPepper, zIdNumber, zDigest);
  if (db_int(r->node->db, 0, "SELECT 1 FROM accounts WHERE id_digest = ?", "t", zDigest))
    return http_field_error(r, 409, "id_number_taken", "id_number", ID_TAKEN_MSG);
  secret_hmac_hex(r->node->aPepper, sizeof r->node->aPepper, zPhone, zPhoneDigest);
  /* known here (ours, or another node's as replicated): refused without asking the registrar */
  if (db_int(r->node->db, 0, "SELECT 1 FROM accounts WHERE (phone = ? OR phone_digest = ?) AND role = 'applicant'",
             "tt", zPhone, zPhoneDigest))
    return http_field_error(r, 409, "phone_taken", "phone", PHONE_TAKEN_MSG);
  json_t *d = json_pack("{s:s, s:s, s:s}", "id_number", zIdNumber, "name", zName, "phone", zPhone);
  return password_then(r, NULL, NULL, zPassword, d, register_finish);
}

/* ---- login (登录) ---- */

/* The account a login names: ID number, mobile number (when only one account has it)
 * or username; ours or another node's (replicated: its home checks the password). NULL
 * when none. */
#define LOGIN_COLUMNS "SELECT id, password_hash, home FROM accounts "
json_t *account_find_login(zc_node *p, const char *zLogin) {
  char zIdNumber[19], zDigest[65];
  if (strlen(zLogin) == 18 && !validate_id_number(zLogin, zIdNumber, node_now(p))) {
    secret_hmac_hex(p->aPepper, sizeof p->aPepper, zIdNumber, zDigest);
    return db_row(p->db, LOGIN_COLUMNS "WHERE id_digest = ? AND disabled = 0", "t", zDigest);
  }
  /* A mobile number names its one account; shared with a unit's contact phone, it names the
   * applicant (mobile numbers are unique among applicants, federation-wide); held by two
   * applicants here (a replicated collision, replicas.c), neither. */
  if (!validate_mobile(zLogin)) {
    secret_hmac_hex(p->aPepper, sizeof p->aPepper, zLogin, zDigest);
    json_t *a = db_row(p->db, LOGIN_COLUMNS "WHERE (phone = ?1 OR phone_digest = ?2) AND disabled = 0 AND"
                       " (SELECT iif(accounts.role = 'applicant', count(*) FILTER (WHERE x.role = 'applicant'), count(*))"
                       " FROM accounts x WHERE (x.phone = ?1 OR x.phone_digest = ?2) AND x.disabled = 0) = 1", "tt",
                       zLogin, zDigest);
    if (a) return a;
  }
  return db_row(p->db, LOGIN_COLUMNS "WHERE username = ? AND disabled = 0", "t", zLogin);
}

static int too_many(zc_req *r, long nWait) {
  long nMin = (nWait + 59) / 60;
  http_header(r, "Retry-After", "%ld", nWait);
  return http_error_extra(r, 429, "too_many_attempts", json_pack("{s:I}", "retry_after", (json_int_t)nWait),
                          "登录失败次数过多，请在%ld分钟后再试", nMin);
}

/* The limiter's view of a login, kept in the job's data while the check runs. */
static json_t *attempt_json(const limiter_attempt *a) {
  return json_pack("{s:s, s:s, s:s, s:b}", "key", a->zAccount, "address", a->zAddress, "device", a->zDevice,
                   "trusted", a->bTrusted);
}

static void attempt_of(const json_t *d, limiter_attempt *a) {
  memset(a, 0, sizeof(*a));
  snprintf(a->zAccount, sizeof a->zAccount, "%s", jstr(d, "key"));
  snprintf(a->zAddress, sizeof a->zAddress, "%s", jstr(d, "address"));
  snprintf(a->zDevice, sizeof a->zDevice, "%s", jstr(d, "device"));
  a->bTrusted = json_is_true(json_object_get(d, "trusted"));
}

/* Tell the limiter how the check ended, once. */
static void attempt_end(zc_req *r, json_t *d, int outcome) {
  limiter_attempt a;
  if (json_is_true(json_object_get(d, "ended"))) return;
  attempt_of(d, &a);
  limiter_end(r->node->pLimiter, &a, outcome, node_now(r->node));
  json_object_set_new(d, "ended", json_true());
}

/* Are the credentials a check was made against still the account's? A password change
 * (or a disabled account) committed while the check ran must win over it. */
int account_credentials_current(zc_node *p, const char *zAccount, const char *zHash) {
  return db_int(p->db, 0, "SELECT 1 FROM accounts WHERE id = ? AND password_hash = ? AND disabled = 0", "tt",
                zAccount, zHash) == 1;
}

static int login_finish(zc_req *r, pw_job *j) {
  const char *zAccount = jstr(j->pData, "account");
  if (!zAccount || !j->bChecked) {
    attempt_end(r, j->pData, LIMITER_FAILED);
    return http_error(r, 401, "bad_credentials", "用户名或密码错误");
  }
  if (!account_credentials_current(r->node, zAccount, j->zCheckHash)) {
    attempt_end(r, j->pData, LIMITER_VOID); /* says nothing about the guess */
    return http_error(r, 401, "bad_credentials", "用户名或密码错误");
  }
  attempt_end(r, j->pData, LIMITER_OK);
  if (session_open(r, zAccount) || session_device_issue(r, zAccount)) return -1;
  return account_answer_with_session(r, 200, zAccount);
}

int accounts_login_refused(zc_req *r, int rcLimit, long nWait) {
  if (rcLimit == LIMITER_BLOCKED) return too_many(r, nWait);
  if (rcLimit == LIMITER_IN_FLIGHT) {
    http_header(r, "Retry-After", "1");
    return http_error_extra(r, 429, "too_many_attempts", json_pack("{s:i}", "retry_after", 1),
                            "正在验证该账号的上一次登录，请稍后再试");
  }
  return http_error(r, 503, "busy", "系统繁忙，请稍后再试");
}

/* The password checked here against row a (id, password_hash: account_find_login's; the
 * caller keeps it), or, a NULL, a login that names nobody, counted under zLogin. */
static int login_here(zc_req *r, json_t *a, const char *zLogin, const char *zPassword) {
  limiter_attempt at;
  long nWait = 0;
  const char *zAccount = a ? jstr(a, "id") : NULL;
  memset(&at, 0, sizeof at);
  /* a login naming nobody is counted under its own name, never an account id's key */
  snprintf(at.zAccount, sizeof at.zAccount, "%s%s", zAccount ? "" : "name:", zAccount ? zAccount : zLogin);
  snprintf(at.zAddress, sizeof at.zAddress, "%s", r->zPeer);
  if (zAccount) session_device_of(r, zAccount, at.zDevice);
  /* Counted before the check starts (limiter.h): parallel guesses cannot outrun the limits. */
  int rc = limiter_begin(r->node->pLimiter, &at, node_now(r->node), &nWait);
  if (rc) return accounts_login_refused(r, rc, nWait);
  json_t *d = attempt_json(&at);
  if (!d) {
    limiter_end(r->node->pLimiter, &at, LIMITER_VOID, node_now(r->node));
    return -1;
  }
  if (zAccount) json_object_set_new(d, "account", json_string(zAccount));
  json_incref(d); /* ours too: to see whether the check ended when it ran inline */
  rc = password_then(r, zPassword, a ? jstr(a, "password_hash") : NULL, NULL, d, login_finish);
  if (rc != HTTP_PENDING) attempt_end(r, d, LIMITER_VOID); /* answered at once: busy */
  json_decref(d);
  return rc;
}

int accounts_login(zc_req *r) {
  const char *zLogin = json_str_field(r, "login", "用户名/身份证号/手机号", 1);
  if (!zLogin) return 0;
  const char *zPassword = json_str_field(r, "password", "密码", 1);
  if (!zPassword) return 0;
  if (strlen(zLogin) > 64 || strlen(zPassword) > PASSWORD_MAX_BYTES)
    return http_error(r, 401, "bad_credentials", "用户名或密码错误");
  json_t *a = account_find_login(r->node, zLogin);
  int rc = a && strcmp(jstr(a, "home"), r->node->cfg.zNode) != 0
               ? remote_login(r, jstr(a, "id"), jstr(a, "home"), zPassword) /* its home checks (remote_login.h) */
               : login_here(r, a, zLogin, zPassword);
  json_decref(a);
  return rc;
}

int accounts_login_moved_here(zc_req *r, const char *zAccount, const char *zPassword) {
  json_t *a = db_row(r->node->db, LOGIN_COLUMNS "WHERE id = ? AND disabled = 0 AND password_hash IS NOT NULL", "t",
                     zAccount);
  int rc = a ? login_here(r, a, zAccount, zPassword) : http_error(r, 401, "bad_credentials", "用户名或密码错误");
  json_decref(a);
  return rc;
}

int accounts_logout(zc_req *r) {
  session_close(r);
  return http_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- the profile (个人资料 / 编辑个人信息) ---- */

int accounts_me(zc_req *r) {
  json_t *a = account_json(r->node, r->pSess->zAccount);
  if (!a) return -1;
  return http_json(r, 200, json_pack("{s:o, s:s}", "account", a, "csrf", r->pSess->zCsrf));
}

/* account.updated: which contact fields changed, the phone only as its keyed digest (it
 * logs in); the values stay at the home node. */
static int announce_contact(zc_node *p, const char *zAccount, const char *zPhone, const char *zEmail) {
  char zPhoneDigest[65];
  json_t *aChanged = json_array();
  json_t *pBody = json_pack("{s:s, s:o}", "account", zAccount, "changed", aChanged);
  if (zPhone && *zPhone) {
    json_array_append_new(aChanged, json_string("phone"));
    secret_hmac_hex(p->aPepper, sizeof p->aPepper, zPhone, zPhoneDigest);
    json_object_set_new(pBody, "phone_digest", json_string(zPhoneDigest));
  }
  if (zEmail) json_array_append_new(aChanged, json_string("email"));
  return outbox_record(p, "account.updated", pBody, NULL);
}

/* The contact change, once the registrar holds an applicant's new phone (d: phone?,
 * email?, both checked). */
static int update_commit(zc_req *r, void *pCtx) {
  json_t *d = pCtx;
  const char *zPhone = jstr(d, "phone"), *zEmail = jstr(d, "email");
  char zDigest[65];
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  if (zPhone) {
    secret_hmac_hex(r->node->aPepper, sizeof r->node->aPepper, zPhone, zDigest);
    if (json_is_true(json_object_get(d, "new_phone")) && claims_is_registrar(r->node) && r->node->pTrust) {
      const char *zField;
      int rc = claims_take_phone(r->node, r->pSess->zAccount, zDigest, r->node->cfg.zNode, &zField);
      if (rc) return rc > 0 ? taken(r, zField) : -1;
    }
    if (db_exec(r->node->db, "UPDATE accounts SET phone = ?, phone_digest = ?, updated = ? WHERE id = ?", "ttIt",
                zPhone, zDigest, now, r->pSess->zAccount))
      return -1;
  }
  if (zEmail && db_exec(r->node->db, "UPDATE accounts SET email = ?, updated = ? WHERE id = ?", "tIt",
                        *zEmail ? zEmail : NULL, now, r->pSess->zAccount))
    return -1;
  if (announce_contact(r->node, r->pSess->zAccount, zPhone, zEmail)) return -1;
  json_t *a = account_json(r->node, r->pSess->zAccount);
  return a ? http_json(r, 200, json_pack("{s:o}", "account", a)) : -1;
}

static void json_free(void *p) { json_decref(p); }

int accounts_language(zc_req *r) {
  const char *zLang = json_str_field(r, "lang", "界面语言", 1);
  if (!zLang) return 0;
  if (strcmp(zLang, "zh-CN") != 0 && strcmp(zLang, "ug") != 0)
    return http_field_error(r, 400, "invalid_field", "lang", "界面语言应为中文(zh-CN)或维吾尔文(ug)");
  if (db_exec(r->node->db, "UPDATE accounts SET lang = ? WHERE id = ?", "tt", zLang, r->pSess->zAccount)) return -1;
  return http_json(r, 200, json_pack("{s:s}", "lang", zLang));
}

int accounts_update_me(zc_req *r) {
  if (!account_at_home(r)) return 0;
  const char *zErr;
  char zDigest[65];
  const char *zPhone = json_str_field(r, "phone", "手机号", 0);
  if (r->status) return 0;
  const char *zEmail = json_str_field(r, "email", "电子邮箱", 0);
  if (r->status) return 0;
  int bApplicant = r->pSess->role == ROLE_APPLICANT, bNewPhone = 0;
  json_t *d = json_object();
  if (zPhone && *zPhone) {
    if ((zErr = bApplicant ? validate_mobile(zPhone) : validate_phone(zPhone)))
      return json_decref(d), http_field_error(r, 400, "invalid_field", "phone", zErr);
    secret_hmac_hex(r->node->aPepper, sizeof r->node->aPepper, zPhone, zDigest);
    /* another applicant's, here or (as its digest) anywhere this node knows of */
    if (bApplicant && db_int(r->node->db, 0, "SELECT 1 FROM accounts WHERE (phone = ? OR phone_digest = ?) AND"
                             " role = 'applicant' AND id <> ?", "ttt", zPhone, zDigest, r->pSess->zAccount))
      return json_decref(d), http_field_error(r, 409, "phone_taken", "phone", PHONE_TAKEN_MSG);
    bNewPhone = bApplicant && !db_int(r->node->db, 0, "SELECT 1 FROM accounts WHERE id = ? AND phone = ?", "tt",
                                      r->pSess->zAccount, zPhone);
    json_object_set_new(d, "phone", json_string(zPhone));
    json_object_set_new(d, "new_phone", json_boolean(bNewPhone));
  } else if (zPhone && bApplicant) {
    json_decref(d);
    return http_field_error(r, 400, "missing_field", "phone", "申请人必须保留手机号");
  }
  if (zEmail) {
    if (*zEmail && (zErr = validate_email(zEmail)))
      return json_decref(d), http_field_error(r, 400, "invalid_field", "email", zErr);
    json_object_set_new(d, "email", json_string(zEmail));
  }
  /* an applicant's new phone logs in: claimed at the registrar first, like at registration */
  if (!bNewPhone) {
    int rc = update_commit(r, d);
    json_decref(d);
    return rc;
  }
  return claims_then(r, "phone.claim", json_pack("{s:s, s:s}", "account", r->pSess->zAccount, "phone_digest", zDigest),
                     update_commit, taken, d, json_free);
}

int account_credentials_changed(zc_node *p, const char *zAccount, const char *zKeepSession) {
  if (session_end_others(p, zAccount, zKeepSession)) return -1;
  /* every node ends the account's sessions when it learns of this; the hash stays here */
  char zTs[FED_RFC3339_SIZE];
  sqlite3_int64 iEpoch = db_int(p->db, 0, "UPDATE accounts SET cred_epoch = cred_epoch + 1 WHERE id = ?"
                                " RETURNING cred_epoch", "t", zAccount);
  if (iEpoch < 1 || fed_rfc3339_format(zTs, node_now(p))) return -1;
  return outbox_record(p, "account.credentials", json_pack("{s:s, s:s, s:I}", "account", zAccount, "changed", zTs,
                                                           "epoch", (json_int_t)iEpoch), NULL);
}

static int password_finish(zc_req *r, pw_job *j) {
  if (!j->bChecked) return http_field_error(r, 400, "wrong_password", "old", "原密码不正确");
  if (!j->bHashed) return -1;
  /* Only over the hash the old password was checked against: a change that committed
   * meanwhile (another session's) is not overwritten on the strength of a stale check. */
  if (db_exec(r->node->db, "UPDATE accounts SET password_hash = ?, updated = ? WHERE id = ? AND"
              " password_hash = ? AND disabled = 0", "tItt", j->zNewHash, (sqlite3_int64)node_now(r->node),
              r->pSess->zAccount, j->zCheckHash))
    return -1;
  if (sqlite3_changes(r->node->db) != 1)
    return http_field_error(r, 400, "wrong_password", "old", "原密码已失效：密码刚刚在别处被修改");
  if (account_credentials_changed(r->node, r->pSess->zAccount, r->pSess->zTokenHash)) return -1;
  return http_json(r, 200, json_pack("{s:b, s:s}", "ok", 1, "message", "密码已修改，其他设备上的登录已退出"));
}

/* The strength rule, also against everything the account logs in with: username, phone
 * and ID number (kept encrypted: decrypted here for the check only). */
const char *account_weak_password(zc_node *p, const char *zPassword, const char *zAccount) {
  json_t *a = db_row(p->db, "SELECT username, phone, id_enc FROM accounts WHERE id = ?", "t", zAccount);
  const char *zErr = validate_password(zPassword, json_string_value(json_object_get(a, "username")));
  if (!zErr && json_string_value(json_object_get(a, "phone")))
    zErr = validate_password(zPassword, json_string_value(json_object_get(a, "phone")));
  if (!zErr && json_string_value(json_object_get(a, "id_enc"))) {
    char *zId = secret_decrypt(p->aDataKey, json_string_value(json_object_get(a, "id_enc")));
    if (zId) zErr = validate_password(zPassword, zId);
    free(zId);
  }
  json_decref(a);
  return zErr;
}

int accounts_password(zc_req *r) {
  if (!account_at_home(r)) return 0;
  const char *zErr;
  const char *zOld = json_str_field(r, "old", "原密码", 1);
  if (!zOld) return 0;
  const char *zNew = json_str_field(r, "new", "新密码", 1);
  if (!zNew) return 0;
  if ((zErr = account_weak_password(r->node, zNew, r->pSess->zAccount)))
    return http_field_error(r, 400, "weak_password", "new", zErr);
  if (strcmp(zOld, zNew) == 0) return http_field_error(r, 400, "invalid_field", "new", "新密码不能与原密码相同");
  char *zHash = db_text(r->node->db, "SELECT password_hash FROM accounts WHERE id = ?", "t", r->pSess->zAccount);
  if (!zHash) return -1;
  int rc = password_then(r, zOld, zHash, zNew, NULL, password_finish);
  free(zHash);
  return rc;
}

/* ---- ID-card scans (身份证扫描件) ---- */

static int side_param(zc_req *r, char zSide[8]) {
  if (http_query(r, "side", zSide, 8) || (strcmp(zSide, "front") && strcmp(zSide, "back"))) {
    http_field_error(r, 400, "invalid_field", "side", "请指定身份证的人像面(front)或国徽面(back)");
    return -1;
  }
  return 0;
}

int accounts_idcard_put(zc_req *r) {
  if (!account_at_home(r)) return 0;
  char zSide[8], zSha[65];
  if (side_param(r, zSide)) return 0;
  if (r->body.n == 0) return http_error(r, 400, "empty_file", "请选择要上传的文件");
  const char *zType = blob_sniff(r->body.z, r->body.n);
  if (!zType) return http_error(r, 415, "unsupported_type", "只能上传JPEG、PNG或PDF格式的文件");
  if (blob_store(r->node->cfg.zData, r->body.z, r->body.n, zSha)) return -1;
  /* an upsert, not REPLACE: the replaced scan's trigger releases its file (blob.h) */
  if (db_exec(r->node->db,
              "INSERT INTO idcards(account_id, side, sha256, type, size, uploaded)"
              " VALUES(?,?,?,?,?,?) ON CONFLICT(account_id, side) DO UPDATE SET sha256 = excluded.sha256,"
              " type = excluded.type, size = excluded.size, uploaded = excluded.uploaded",
              "ttttII", r->pSess->zAccount, zSide, zSha, zType, (sqlite3_int64)r->body.n,
              (sqlite3_int64)node_now(r->node)))
    return -1;
  return http_json(r, 201, json_pack("{s:s, s:s, s:I, s:s}", "side", zSide, "sha256", zSha, "size",
                                     (json_int_t)r->body.n, "type", zType));
}

static int send_idcard(zc_req *r, const char *zAccount) {
  char zSide[8], zPath[700];
  if (side_param(r, zSide)) return 0;
  json_t *c = db_row(r->node->db, "SELECT sha256, type FROM idcards WHERE account_id = ? AND side = ?",
                     "tt", zAccount, zSide);
  if (!c) return http_error(r, 404, "not_found", "尚未上传该面的身份证扫描件");
  int rc = blob_path(r->node->cfg.zData, json_string_value(json_object_get(c, "sha256")), zPath, sizeof zPath);
  if (rc == 0) {
    http_file(r, zPath, jstr(c, "type"));
    http_download_name(r, strcmp(zSide, "front") == 0 ? "身份证人像面" : "身份证国徽面",
                       strcmp(zSide, "front") == 0 ? "idcard-front" : "idcard-back", jstr(c, "type"));
  }
  json_decref(c);
  return rc == 0 ? 0 : http_error(r, 404, "not_found", "文件不存在");
}

int accounts_idcard_get(zc_req *r) { return send_idcard(r, r->pSess->zAccount); }

int accounts_idcard_admin(zc_req *r) {
  if (!db_int(r->node->db, 0, "SELECT 1 FROM accounts WHERE id = ? AND home = ?", "tt", r->aParam[0],
              r->node->cfg.zNode))
    return http_error(r, 404, "not_found", "账号不存在");
  return send_idcard(r, r->aParam[0]);
}

/* Node admin's account list: masked ID numbers and phones only. */
int accounts_list(zc_req *r) {
  char zQ[64] = "", zLike[80];
  if (http_query(r, "q", zQ, sizeof zQ) == HTTP_TOO_LONG)
    return http_field_error(r, 400, "invalid_field", "q", "搜索内容过长");
  snprintf(zLike, sizeof zLike, "%%%s%%", zQ);
  json_t *a = db_rows(r->node->db,
      "SELECT id, username, name, role, home, phone, id_masked AS id_number_masked FROM accounts"
      " WHERE name LIKE ? OR username LIKE ? ORDER BY created DESC LIMIT 200", "tt", zLike, zLike);
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    const char *zPhone = json_string_value(json_object_get(v, "phone"));
    if (zPhone) {
      char *zMasked = strdup(zPhone); /* masking keeps the length */
      if (!zMasked) continue;
      mask_phone(zPhone, zMasked);
      json_object_set_new(v, "phone", json_string(zMasked));
      free(zMasked);
    }
  }
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}
