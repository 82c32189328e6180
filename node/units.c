/* units.c - basic units: registration, information, renaming, recommending units
 * (units.h). A unit's admin account is created with it; one account, one role. */
#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "claims.h"
#include "db.h"
#include "outbox.h"
#include "refdata.h"
#include "router.h"
#include "session.h"
#include "validate.h"

/* The unit's information fields: name, Chinese label, required for `complete`, and the
 * check its value must pass. One table drives PUT, `complete` and `missing`. */
typedef const char *(*field_check)(const char *zValue);
static const char *check_address(const char *z) { return validate_text(z, 100, 0); }
static const char *check_industry(const char *z) { return validate_text(z, 50, 0); }
static const char *check_postcode(const char *z) {
  if (strlen(z) != 6 || strspn(z, "0123456789") != 6) return "邮政编码应为6位数字";
  return NULL;
}
static const struct unit_field {
  const char *zName, *zLabel;
  int bRequired;
  field_check xCheck;
} g_unitFields[] = {
  {"address", "单位地址", 1, check_address},
  {"legal_person", "法定代表人", 1, validate_person_name},
  {"contact", "联系人", 1, validate_person_name},
  {"phone", "联系电话", 1, validate_phone},
  {"industry", "所属行业", 1, check_industry},
  {"email", "电子邮箱", 0, validate_email},
  {"postcode", "邮政编码", 0, check_postcode},
};
#define N_UNIT_FIELDS (sizeof g_unitFields / sizeof g_unitFields[0])
_Static_assert(N_UNIT_FIELDS == 7, "units_update_me binds exactly these fields");


const char *unit_field_label(const char *zName) {
  for (size_t i = 0; i < N_UNIT_FIELDS; i++)
    if (strcmp(g_unitFields[i].zName, zName) == 0) return g_unitFields[i].zLabel;
  return zName;
}

int unit_is_complete(zc_node *p, const char *zId, json_t **ppMissing) {
  json_t *u = db_row(p->db, "SELECT address, legal_person, contact, phone, industry FROM units"
                     " WHERE id = ?", "t", zId);
  json_t *aMissing = json_array();
  for (size_t i = 0; u && i < N_UNIT_FIELDS; i++) {
    const char *z = jstr(u, g_unitFields[i].zName);
    if (g_unitFields[i].bRequired && (!z || !*z))
      json_array_append_new(aMissing, json_string(g_unitFields[i].zName));
  }
  int bComplete = u && json_array_size(aMissing) == 0;
  json_decref(u);
  if (ppMissing) *ppMissing = aMissing;
  else json_decref(aMissing);
  return bComplete;
}

json_t *unit_json(zc_node *p, const char *zId) {
  json_t *u = db_row(p->db,
      "SELECT id, credit_code, name, short_name, node, address, legal_person, contact, phone,"
      " industry, email, postcode FROM units WHERE id = ?", "t", zId);
  json_t *aMissing = NULL, *v;
  size_t i;
  if (!u) return NULL;
  node_put_region_names(p, u, "node", "node_name");
  json_object_set_new(u, "complete", json_boolean(unit_is_complete(p, zId, &aMissing)));
  json_object_set_new(u, "missing", aMissing);
  json_t *aRec = db_rows(p->db, "SELECT d.id, d.name, d.name_ug, d.node FROM unit_recommenders r JOIN depts d"
                         " ON d.id = r.dept_id WHERE r.unit_id = ? ORDER BY r.position", "t", zId);
  json_array_foreach(aRec, i, v) node_put_region_names(p, v, "node", "node_name");
  json_object_set_new(u, "recommenders", aRec);
  json_t *aNames = db_rows(p->db, "SELECT name, short_name, changed_at FROM unit_names WHERE unit_id = ?"
                           " ORDER BY rowid", "t", zId);
  json_set_times(aNames, "changed_at");
  json_object_set_new(u, "names", aNames);
  return u;
}

/* What makes a unit unique: each field, how this node finds it held by another unit (its
 * own and the replicated ones), and the message; the registrar's claims hold the same
 * federation-wide (claims.h). */
static const struct unique_field {
  const char *zField, *zSql, *zMsg;
} g_unique[] = {
    {"credit_code", "SELECT 1 FROM units WHERE credit_code = ? AND id <> ?", "该统一社会信用代码已注册，每个单位只能注册一次"},
    {"name", "SELECT 1 FROM units WHERE (name = ? OR short_name = ?1) AND id <> ?2", "该单位全称已被其他单位使用"},
    {"short_name", "SELECT 1 FROM units WHERE (short_name = ? OR name = ?1) AND id <> ?2", "该单位简称已被其他单位使用"},
};

/* 409 unit_exists naming the field (one of g_unique's) that is taken. */
static int unit_taken(zc_req *r, const char *zField) {
  for (size_t i = 0; i < sizeof g_unique / sizeof g_unique[0]; i++)
    if (strcmp(g_unique[i].zField, zField) == 0)
      return http_field_error(r, 409, "unit_exists", g_unique[i].zField, g_unique[i].zMsg);
  return http_field_error(r, 409, "unit_exists", zField, "该单位信息已被其他单位使用");
}

/* 409 unit_exists naming which of credit code, name, short name is taken; 0 if none. */
static int refuse_existing(zc_req *r, const char *zCode, const char *zName, const char *zShort,
                           const char *zExceptId) {
  const char *aVal[] = {zCode, zName, zShort};
  for (int i = 0; i < 3; i++) {
    if (aVal[i] && db_int(r->node->db, 0, g_unique[i].zSql, "tt", aVal[i], zExceptId ? zExceptId : ""))
      return unit_taken(r, g_unique[i].zField), 1;
  }
  return 0;
}

/* A unit's registration or renaming between its checks and its commit, which waits for
 * the registrar's claim of its credit code and names (claims_then). */
typedef struct unit_change {
  char zUnit[40];
  char zHash[SECRET_HASH_MAX]; /* registration: the admin's password hash */
  json_t *d;                   /* credit_code (registration), name, short_name, contact, phone */
} unit_change;

static void unit_change_free(void *p) {
  unit_change *c = p;
  json_decref(c->d);
  memset(c, 0, sizeof *c);
  free(c);
}

/* Claim c's names (and credit code) at the registrar, then xCommit. */
static int claim_then(zc_req *r, unit_change *c, claims_commit_fn xCommit) {
  json_t *a = json_pack("{s:s, s:s, s:s}", "unit", c->zUnit, "name", jstr(c->d, "name"), "short_name",
                        jstr(c->d, "short_name"));
  if (a && jstr(c->d, "credit_code")) json_object_set_new(a, "credit_code", json_string(jstr(c->d, "credit_code")));
  return claims_then(r, "unit.claim", a, xCommit, unit_taken, c, unit_change_free);
}

/* At the registrar, inside the change's transaction: its own claims. 0, or as a handler
 * returns once it has answered (1 for taken). */
static int claim_here(zc_req *r, const unit_change *c, int *pbAnswered) {
  const char *zField = NULL;
  *pbAnswered = 0;
  if (!r->node->pTrust || !claims_is_registrar(r->node)) return 0;
  int rc = claims_take_unit(r->node, c->zUnit, jstr(c->d, "credit_code"), jstr(c->d, "name"),
                            jstr(c->d, "short_name"), r->node->cfg.zNode, &zField);
  if (rc > 0) {
    *pbAnswered = 1;
    return unit_taken(r, zField);
  }
  return rc;
}

/* A unit's name as it is compared and stored (normalize_org_name) into out[ORG_NAME_BUF];
 * answers 400 naming the field and returns 1 when it is refused. */
#define ORG_NAME_BUF 256
static int normal_name(zc_req *r, const char *zIn, const char *zField, const char *zLabel, char *out) {
  char zMsg[256];
  const char *zErr = normalize_org_name(zIn, out, ORG_NAME_BUF);
  if (!zErr) return 0;
  snprintf(zMsg, sizeof zMsg, "%s%s", zLabel, zErr);
  return http_field_error(r, 400, "invalid_field", zField, zMsg), 1;
}

static int check_names(zc_req *r, const char *zName, const char *zShort) {
  const char *zErr;
  if ((zErr = validate_org_name(zName, 0))) return http_field_error(r, 400, "invalid_field", "name", zErr), 1;
  if (zShort && (zErr = validate_org_name(zShort, 1)))
    return http_field_error(r, 400, "invalid_field", "short_name", zErr), 1;
  if (zShort && strcmp(zName, zShort) == 0)
    return http_field_error(r, 400, "invalid_field", "short_name", "单位简称不能与全称相同"), 1;
  return 0;
}

/* ---- registration (单位注册) ---- */

/* The entry zType announcing unit zUnit as it now is (entries.c): its names, its
 * recommending units or whether its information is complete; no contact data. */
int unit_announce(zc_node *p, const char *zUnit, const char *zType) {
  json_t *pBody = NULL;
  if (strcmp(zType, "unit.recommenders") == 0)
    pBody = db_row(p->db, "SELECT ?1 AS unit, (SELECT json_group_array(dept_id) FROM (SELECT dept_id FROM"
                   " unit_recommenders WHERE unit_id = ?1 ORDER BY position)) AS depts_json", "t", zUnit);
  else if (strcmp(zType, "unit.updated") == 0)
    pBody = json_pack("{s:s, s:b}", "unit", zUnit, "complete", unit_is_complete(p, zUnit, NULL));
  else if (strcmp(zType, "unit.renamed") == 0)
    pBody = db_row(p->db, "SELECT id AS unit, name, short_name FROM units WHERE id = ?", "t", zUnit);
  else
    pBody = db_row(p->db, "SELECT id AS unit, credit_code, name, short_name, node FROM units WHERE id = ?", "t", zUnit);
  return pBody ? outbox_record(p, zType, pBody, NULL) : -1;
}

/* The unit and its admin, once the registrar holds the claims. */
static int register_commit(zc_req *r, void *pCtx) {
  unit_change *c = pCtx;
  json_t *d = c->d;
  const char *zUnit = c->zUnit;
  char zAccount[40], zUser[24];
  time_t now = node_now(r->node);
  int bAnswered, rc;
  if (!claims_usable(r->node, zUnit)) return claims_unavailable(r); /* released meanwhile */
  /* checked again inside the transaction: a concurrent registration may have won */
  if (refuse_existing(r, jstr(d, "credit_code"), jstr(d, "name"), jstr(d, "short_name"), NULL)) return 0;
  if ((rc = claim_here(r, c, &bAnswered)) || bAnswered) return rc;
  if (db_exec(r->node->db, "INSERT INTO units(id, credit_code, name, short_name, node, contact, phone,"
              " created, updated) VALUES(?,?,?,?,?,?,?,?,?)", "tttttttII", zUnit, jstr(d, "credit_code"),
              jstr(d, "name"), jstr(d, "short_name"), r->node->cfg.zNode, jstr(d, "contact"), jstr(d, "phone"),
              (sqlite3_int64)now, (sqlite3_int64)now) ||
      db_exec(r->node->db, "INSERT INTO unit_names(unit_id, name, short_name, changed_at) VALUES(?,?,?,?)",
              "tttI", zUnit, jstr(d, "name"), jstr(d, "short_name"), (sqlite3_int64)now) ||
      unit_announce(r->node, zUnit, "unit.registered"))
    return -1;
  account_new a = {.zRole = "unit_admin", .zName = jstr(d, "contact"), .zPhone = jstr(d, "phone"),
                   .zPasswordHash = c->zHash, .zUnit = zUnit};
  if (account_insert(r->node, &a, zAccount, zUser) || session_open(r, zAccount)) return -1;
  return http_json(r, 201, json_pack("{s:o, s:o, s:s}", "unit", unit_json(r->node, zUnit), "account",
                                     account_json(r->node, zAccount), "csrf", r->pSess->zCsrf));
}

static int register_finish(zc_req *r, pw_job *j) {
  unit_change *c = calloc(1, sizeof *c);
  if (!c || !j->bHashed || account_new_id(c->zUnit, 'u')) {
    free(c);
    return -1;
  }
  snprintf(c->zHash, sizeof c->zHash, "%s", j->zNewHash);
  c->d = json_incref(j->pData);
  return claim_then(r, c, register_commit);
}

int units_register(zc_req *r) {
  char zCode[19], zName[ORG_NAME_BUF], zShort[ORG_NAME_BUF];
  const char *zErr, *zIn, *zPassword, *zContact, *zPhone, *zNode;
  if (!(zIn = json_str_field(r, "credit_code", "统一社会信用代码", 1))) return 0;
  if ((zErr = validate_credit_code(zIn, zCode)))
    return http_field_error(r, 400, "invalid_credit_code", "credit_code", zErr);
  if (!(zIn = json_str_field(r, "name", "单位全称", 1)) || normal_name(r, zIn, "name", "单位全称", zName)) return 0;
  if (!(zIn = json_str_field(r, "short_name", "单位简称", 1)) || normal_name(r, zIn, "short_name", "单位简称", zShort))
    return 0;
  if (check_names(r, zName, zShort)) return 0;
  if (!(zContact = json_str_field(r, "contact", "联系人", 1))) return 0;
  if ((zErr = validate_person_name(zContact))) return http_field_error(r, 400, "invalid_field", "contact", zErr);
  if (!(zPhone = json_str_field(r, "phone", "联系电话", 1))) return 0;
  if ((zErr = validate_phone(zPhone))) return http_field_error(r, 400, "invalid_field", "phone", zErr);
  zNode = json_str_field(r, "node", "所在评审区域", 0);
  if (r->status) return 0;
  if (zNode && strcmp(zNode, r->node->cfg.zNode) != 0) {
    const char *zRight = node_region_name(r->node, zNode);
    if (!zRight) return http_field_error(r, 400, "invalid_field", "node", "未知的评审区域");
    return http_error_extra(r, 400, "wrong_node", json_pack("{s:s}", "field", "node"),
                            "本门户为%s，%s的单位请在%s门户注册", r->node->zName, zRight, zRight);
  }
  if (!(zPassword = json_str_field(r, "password", "密码", 1))) return 0;
  if ((zErr = validate_password(zPassword, zCode))) return http_field_error(r, 400, "weak_password", "password", zErr);
  if (refuse_existing(r, zCode, zName, zShort, NULL)) return 0;
  json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "credit_code", zCode, "name", zName, "short_name", zShort,
                        "contact", zContact, "phone", zPhone);
  return password_then(r, NULL, NULL, zPassword, d, register_finish);
}

/* ---- the unit admin's own unit ---- */

static int answer_unit(zc_req *r, int status) {
  json_t *u = unit_json(r->node, r->pSess->zUnit);
  if (!u) return http_error(r, 404, "not_found", "单位不存在");
  return http_json(r, status, json_pack("{s:o}", "unit", u));
}

int units_me(zc_req *r) { return answer_unit(r, 200); }

int units_update_me(zc_req *r) {
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  const char *zKnown[N_UNIT_FIELDS];
  const char *zKey;
  json_t *v;
  for (size_t i = 0; i < N_UNIT_FIELDS; i++) zKnown[i] = g_unitFields[i].zName;
  /* every key must be a known field holding text; check all before writing any */
  json_object_foreach(r->pJson, zKey, v) {
    size_t i;
    for (i = 0; i < N_UNIT_FIELDS && strcmp(zKnown[i], zKey) != 0; i++) {}
    if (i == N_UNIT_FIELDS) return http_field_error(r, 400, "invalid_field", zKey, "不认识的字段");
    const char *z = json_str_field(r, zKey, g_unitFields[i].zLabel, 0);
    if (r->status) return 0;
    const char *zErr = z && *z ? g_unitFields[i].xCheck(z) : NULL;
    if (zErr) return http_field_error(r, 400, "invalid_field", zKey, zErr);
  }
  /* One statement for all fields: each is (given?, value); a field not given keeps its
   * value, an empty one is cleared. The order follows g_unitFields. */
  const char *aVal[N_UNIT_FIELDS];
  int aGiven[N_UNIT_FIELDS];
  for (size_t i = 0; i < N_UNIT_FIELDS; i++) {
    v = json_object_get(r->pJson, zKnown[i]);
    aGiven[i] = v != NULL;
    aVal[i] = v && json_string_length(v) ? json_string_value(v) : NULL;
  }
  if (db_exec(r->node->db,
              "UPDATE units SET address = iif(?, ?, address), legal_person = iif(?, ?, legal_person),"
              " contact = iif(?, ?, contact), phone = iif(?, ?, phone), industry = iif(?, ?, industry),"
              " email = iif(?, ?, email), postcode = iif(?, ?, postcode), updated = ? WHERE id = ?",
              "itititititititIt", aGiven[0], aVal[0], aGiven[1], aVal[1], aGiven[2], aVal[2], aGiven[3],
              aVal[3], aGiven[4], aVal[4], aGiven[5], aVal[5], aGiven[6], aVal[6], now, r->pSess->zUnit) ||
      unit_announce(r->node, r->pSess->zUnit, "unit.updated"))
    return -1;
  return answer_unit(r, 200);
}

/* The new names, once the registrar holds their claims. */
static int rename_commit(zc_req *r, void *pCtx) {
  unit_change *c = pCtx;
  const char *zName = jstr(c->d, "name"), *zShort = jstr(c->d, "short_name");
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  int bAnswered, rc;
  if (refuse_existing(r, NULL, zName, zShort, c->zUnit)) return 0; /* taken here meanwhile */
  if ((rc = claim_here(r, c, &bAnswered)) || bAnswered) return rc;
  if (db_exec(r->node->db, "UPDATE units SET name = ?, short_name = ?, updated = ? WHERE id = ?", "ttIt", zName, zShort,
              now, c->zUnit) ||
      db_exec(r->node->db, "INSERT INTO unit_names(unit_id, name, short_name, changed_at, changed_by)"
              " VALUES(?,?,?,?,?)", "tttIt", c->zUnit, zName, zShort, now, r->pSess->zAccount) ||
      unit_announce(r->node, c->zUnit, "unit.renamed"))
    return -1;
  return answer_unit(r, 200);
}

int units_rename(zc_req *r) {
  char zName[ORG_NAME_BUF], zNewShort[ORG_NAME_BUF];
  const char *zIn = json_str_field(r, "name", "新的单位全称", 1), *zShort;
  if (!zIn || normal_name(r, zIn, "name", "新的单位全称", zName)) return 0;
  zShort = json_str_field(r, "short_name", "新的单位简称", 0);
  if (r->status) return 0;
  if (zShort && *zShort) {
    if (normal_name(r, zShort, "short_name", "新的单位简称", zNewShort)) return 0;
    zShort = zNewShort;
  }
  json_t *u = db_row(r->node->db, "SELECT name, short_name FROM units WHERE id = ?", "t", r->pSess->zUnit);
  if (!u) return http_error(r, 404, "not_found", "单位不存在");
  if (!zShort || !*zShort) zShort = jstr(u, "short_name");
  int bSame = strcmp(zName, jstr(u, "name")) == 0 && strcmp(zShort, jstr(u, "short_name")) == 0;
  int rc = 0;
  if (bSame) rc = http_field_error(r, 400, "invalid_field", "name", "新名称与当前名称相同");
  else if (check_names(r, zName, zShort) || refuse_existing(r, NULL, zName, zShort, r->pSess->zUnit)) rc = 0;
  else {
    unit_change *c = calloc(1, sizeof *c);
    if (!c || !(c->d = json_pack("{s:s, s:s}", "name", zName, "short_name", zShort))) {
      free(c);
      rc = -1;
    } else {
      snprintf(c->zUnit, sizeof c->zUnit, "%s", r->pSess->zUnit);
      rc = claim_then(r, c, rename_commit);
    }
  }
  json_decref(u);
  return rc;
}

int units_recommenders(zc_req *r) {
  json_t *a = json_object_get(r->pJson, "depts"), *v;
  size_t i;
  if (!json_is_array(a)) return http_field_error(r, 400, "invalid_field", "depts", "请以列表形式选择推荐单位");
  if (json_array_size(a) > 2) return http_field_error(r, 400, "too_many_depts", "depts", "最多只能选择两个推荐单位");
  json_array_foreach(a, i, v) {
    if (!json_is_string(v) || !refdata_dept_exists(r->node, json_string_value(v)))
      return http_field_error(r, 400, "invalid_field", "depts", "所选推荐单位不存在");
    if (i == 1 && json_equal(v, json_array_get(a, 0)))
      return http_field_error(r, 400, "invalid_field", "depts", "两个推荐单位不能相同");
  }
  if (db_exec(r->node->db, "DELETE FROM unit_recommenders WHERE unit_id = ?", "t", r->pSess->zUnit)) return -1;
  json_array_foreach(a, i, v)
    if (db_exec(r->node->db, "INSERT INTO unit_recommenders(unit_id, position, dept_id) VALUES(?,?,?)", "tit",
                r->pSess->zUnit, (int)i + 1, json_string_value(v)))
      return -1;
  if (unit_announce(r->node, r->pSess->zUnit, "unit.recommenders")) return -1;
  return answer_unit(r, 200);
}

int units_search(zc_req *r) {
  char zQ[80] = "", zNorm[ORG_NAME_BUF], zLike[ORG_NAME_BUF + 3], zCode[19];
  if (http_query(r, "q", zQ, sizeof zQ) || strlen(zQ) < 2)
    return http_field_error(r, 400, "invalid_field", "q", "请输入至少两个字的单位名称或统一社会信用代码");
  if (!validate_credit_code(zQ, zCode))
    return http_json(r, 200, json_pack("{s:o}", "items", db_rows(r->node->db,
        "SELECT id, credit_code, name, short_name, node FROM units WHERE credit_code = ?", "t", zCode)));
  /* names are stored in their normal form: so is what is looked for */
  snprintf(zLike, sizeof zLike, "%%%s%%", normalize_org_name(zQ, zNorm, sizeof zNorm) ? zQ : zNorm);
  return http_json(r, 200, json_pack("{s:o}", "items", db_rows(r->node->db,
      "SELECT id, credit_code, name, short_name, node FROM units WHERE name LIKE ? OR short_name LIKE ?1"
      " ORDER BY name LIMIT 20", "t", zLike)));
}
