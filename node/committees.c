/* committees.c - review committees and jurisdiction (committees.h). */
#include "committees.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "outbox.h"
#include "refdata.h"
#include "router.h"
#include "validate.h"


int committees_load(zc_node *p) {
  json_t *c, *s, *pAll = refdata_file(p, "committees.json");
  size_t i, j;
  int rc = 0;
  if (!pAll) return -1;
  json_array_foreach(json_object_get(pAll, "committees"), i, c) {
    rc |= db_exec(p->db, "INSERT OR IGNORE INTO committees(id, node, name, directed, submit_limit, fee,"
                  " paper_rules, address, contact, phone) VALUES(?,?,?,?,?,?,?,?,?,?)", "tttiiitttt",
                  jstr(c, "id"), jstr(c, "node"), jstr(c, "name"), json_is_true(json_object_get(c, "directed")),
                  (int)json_integer_value(json_object_get(c, "submit_limit")),
                  (int)json_integer_value(json_object_get(c, "fee")), jstr(c, "paper_rules"),
                  jstr(c, "address"), jstr(c, "contact"), jstr(c, "phone"));
    /* the scope comes with the committee: a committee already known keeps its own */
    int bNew = sqlite3_changes(p->db) > 0;
    rc |= refdata_name_ug(p, "committees", "id", jstr(c, "id"), c, 1);
    if (!bNew) continue;
    json_array_foreach(json_object_get(c, "scope"), j, s)
      rc |= db_exec(p->db, "INSERT OR IGNORE INTO committee_scopes(committee_id, series, level, specialty)"
                    " VALUES(?,?,?,?)", "ttit", jstr(c, "id"), jstr(s, "series"),
                    (int)json_integer_value(json_object_get(s, "level")), jstr(s, "specialty"));
  }
  json_decref(pAll);
  return rc ? -1 : 0;
}

void committee_today(zc_node *p, char out[11]) { node_beijing_time(p, "%Y-%m-%d", out, 11); }

json_t *committee_window(zc_node *p, const char *zCommittee, const char *zSpecialty) {
  char zToday[11];
  committee_today(p, zToday);
  json_t *w = db_row(p->db, "SELECT opens, closes, (opens <= ?1 AND ?1 <= closes) AS open FROM committee_windows"
                     " WHERE committee_id = ?2 AND specialty = ?3", "ttt", zToday, zCommittee, zSpecialty);
  if (w) json_object_set_new(w, "open", json_boolean(json_integer_value(json_object_get(w, "open"))));
  return w;
}

#define COMMITTEE_COLUMNS \
  "c.id, c.node, c.name, c.name_ug, c.directed, c.submit_limit, c.fee, c.paper_rules, c.paper_from, c.paper_until,"     \
  " c.paper_binding, c.address, c.contact, c.phone"

/* A committee row as the API shows it: directed as a boolean, with its node's name. */
static json_t *committee_shown(zc_node *p, json_t *c) {
  if (!c) return NULL;
  json_object_set_new(c, "directed", json_boolean(json_integer_value(json_object_get(c, "directed"))));
  node_put_region_names(p, c, "node", "node_name");
  return c;
}

json_t *committee_json(zc_node *p, const char *zId) {
  return committee_shown(p, db_row(p->db, "SELECT " COMMITTEE_COLUMNS " FROM committees c WHERE c.id = ?", "t", zId));
}

/* The committee of node zNode covering (series, level, specialty). */
static json_t *committee_at(zc_node *p, const char *zNode, const char *zSeries, int level, const char *zSpecialty) {
  return db_row(p->db, "SELECT " COMMITTEE_COLUMNS " FROM committees c JOIN committee_scopes s ON s.committee_id = c.id"
                " WHERE c.node = ? AND s.series = ? AND s.level = ? AND (s.specialty IS NULL OR s.specialty = ?)"
                " ORDER BY c.directed DESC, s.specialty IS NULL LIMIT 1", "ttit", zNode, zSeries, level, zSpecialty);
}

/* What can be applied for in zSeries from a unit at zUnitNode: "可申报：工程师（乌鲁木齐市…）、…". */
static char *possible_choices(zc_node *p, const char *zUnitNode, const char *zSeries) {
  json_t *a = db_rows(p->db,
      "SELECT q.name AS qname, c.name AS cname FROM qualifications q JOIN committee_scopes s"
      " ON s.series = q.series AND s.level = q.level JOIN committees c ON c.id = s.committee_id"
      " WHERE q.series = ?1 AND (c.node = ?2 OR (c.node = ?3 AND NOT EXISTS (SELECT 1 FROM"
      " committees c2 JOIN committee_scopes s2 ON s2.committee_id = c2.id WHERE c2.node = ?2"
      " AND s2.series = q.series AND s2.level = q.level))) GROUP BY q.code ORDER BY q.level", "ttt",
      zSeries, zUnitNode, ZC_REGION_NODE);
  zc_buf b = {0};
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) buf_printf(&b, "%s%s（%s）", i ? "、" : "", jstr(v, "qname"), jstr(v, "cname"));
  json_decref(a);
  if (!b.n) buf_printf(&b, "无");
  return b.z;
}

json_t *committee_for(zc_node *p, const char *zUnitNode, const char *zQualification, const char *zSpecialty,
                      char **pzWhy) {
  json_t *q = db_row(p->db, "SELECT q.series, q.level, q.name, s.name AS series_name FROM qualifications q"
                     " JOIN series s ON s.code = q.series WHERE q.code = ?", "t", zQualification);
  json_t *c = NULL;
  *pzWhy = NULL;
  if (!q) return NULL;
  const char *zSeries = jstr(q, "series");
  int level = (int)json_integer_value(json_object_get(q, "level"));
  c = committee_at(p, zUnitNode, zSeries, level, zSpecialty);
  if (!c && strcmp(zUnitNode, ZC_REGION_NODE) != 0) c = committee_at(p, ZC_REGION_NODE, zSeries, level, zSpecialty);
  if (c) {
    committee_shown(p, c);
  } else {
    char *zList = possible_choices(p, zUnitNode, zSeries);
    zc_buf b = {0};
    const char *zWhere = node_region_name(p, zUnitNode) ? node_region_name(p, zUnitNode) : zUnitNode;
    if (strcmp(zUnitNode, ZC_REGION_NODE) == 0)
      buf_printf(&b, "本单位所在评审区域（%s）没有评审“%s”的委员会。", zWhere, jstr(q, "name"));
    else
      buf_printf(&b, "本单位所在评审区域（%s）及自治区均没有评审“%s”的委员会。", zWhere, jstr(q, "name"));
    buf_printf(&b, "%s可申报：%s", jstr(q, "series_name"), zList);
    free(zList);
    *pzWhy = b.z;
  }
  json_decref(q);
  return c;
}

/* ---- API ---- */

static json_t *committee_full(zc_node *p, const char *zId) {
  json_t *c = committee_json(p, zId);
  if (!c) return NULL;
  json_object_set_new(c, "scope", db_rows(p->db, "SELECT s.series, s.level, s.specialty, se.name AS series_name,"
                      " se.name_ug AS series_name_ug"
                      " FROM committee_scopes s JOIN series se ON se.code = s.series WHERE s.committee_id = ?"
                      " ORDER BY s.series, s.level", "t", zId));
  json_object_set_new(c, "windows", db_rows(p->db, "SELECT w.specialty, sp.name AS specialty_name,"
                      " sp.name_ug AS specialty_name_ug, w.opens, w.closes"
                      " FROM committee_windows w JOIN specialties sp ON sp.code = w.specialty"
                      " WHERE w.committee_id = ? ORDER BY w.specialty", "t", zId));
  return c;
}

int committees_list(zc_req *r) {
  char zNode[16] = "";
  json_t *aIds, *v, *aOut;
  size_t i;
  if (http_query(r, "node", zNode, sizeof zNode) == HTTP_TOO_LONG || (zNode[0] && !node_region_name(r->node, zNode)))
    return http_error(r, 400, "invalid_node", "未知的评审区域");
  aOut = json_array();
  aIds = db_rows(r->node->db, "SELECT id FROM committees WHERE ?1 = '' OR node = ?1 ORDER BY node, id", "t", zNode);
  json_array_foreach(aIds, i, v) json_array_append_new(aOut, committee_full(r->node, jstr(v, "id")));
  json_decref(aIds);
  return http_json(r, 200, json_pack("{s:o}", "items", aOut));
}

int committees_get(zc_req *r) {
  json_t *c = committee_full(r->node, r->aParam[0]);
  if (!c) return http_error(r, 404, "not_found", "评审委员会不存在");
  return http_json(r, 200, json_pack("{s:o}", "committee", c));
}

int committee_set_name_ug(zc_node *p, const char *zId, const char *zName, const char *zNameUg) {
  return db_exec(p->db, "UPDATE committees SET name_ug = CASE WHEN ?1 IS NOT NULL THEN ?1"
                 " WHEN ?2 IS NOT NULL AND ?2 <> name THEN '' ELSE name_ug END WHERE id = ?3", "ttt",
                 zNameUg, zName, zId);
}

int committee_announce(zc_node *p, const char *zId) {
  json_t *pBody = db_row(p->db, "SELECT id AS committee, node, name, name_ug, fee, submit_limit, paper_rules, address,"
                         " contact, phone, paper_from, paper_until, paper_binding,"
                         " (SELECT json_group_array(json_object('specialty', specialty, 'opens', opens, 'closes',"
                         " closes)) FROM (SELECT * FROM committee_windows WHERE committee_id = ?1 ORDER BY specialty))"
                         " AS windows_json FROM committees WHERE id = ?1", "t", zId);
  return pBody ? outbox_record(p, "committee.updated", pBody, NULL) : -1;
}

/* Windows: [{"specialty","opens","closes"}], each specialty within the committee's scope. */
static int update_windows(zc_req *r, const char *zId, json_t *a) {
  json_t *w;
  size_t i;
  long dOpen, dClose;
  if (!json_is_array(a)) return http_field_error(r, 400, "invalid_field", "windows", "申报时间应为列表"), -1;
  json_array_foreach(a, i, w) {
    const char *zSp = jstr(w, "specialty"), *zOpen = jstr(w, "opens"), *zClose = jstr(w, "closes");
    if (!zSp || !db_int(r->node->db, 0, "SELECT 1 FROM specialties sp JOIN committee_scopes s ON s.series = sp.series"
                        " WHERE sp.code = ? AND s.committee_id = ?", "tt", zSp, zId))
      return http_field_error(r, 400, "invalid_field", "windows", "申报时间中的专业不在本委员会评审范围内"), -1;
    if (!zOpen || !zClose || validate_date(zOpen, &dOpen) || validate_date(zClose, &dClose))
      return http_field_error(r, 400, "invalid_field", "windows", "申报起止日期应为有效日期（YYYY-MM-DD）"), -1;
    if (dOpen > dClose) return http_field_error(r, 400, "invalid_field", "windows", "申报开始日期不能晚于截止日期"), -1;
  }
  db_exec(r->node->db, "DELETE FROM committee_windows WHERE committee_id = ?", "t", zId);
  json_array_foreach(a, i, w)
    if (db_exec(r->node->db, "INSERT OR REPLACE INTO committee_windows(committee_id, specialty, opens, closes)"
                " VALUES(?,?,?,?)", "tttt", zId, jstr(w, "specialty"), jstr(w, "opens"), jstr(w, "closes")))
      return -1;
  return 0;
}

int committee_managed_by(zc_req *r, const char *zId) {
  zc_session *s = r->pSess;
  char *zNode = s ? db_text(r->node->db, "SELECT node FROM committees WHERE id = ?", "t", zId) : NULL;
  int bMine = zNode && ((s->role == ROLE_NODE_ADMIN && strcmp(zNode, r->node->cfg.zNode) == 0) ||
                        (s->role == ROLE_COMMITTEE_ADMIN && strcmp(s->zCommittee, zId) == 0));
  free(zNode);
  return bMine;
}

/* 报送日期: paper_from and paper_until, dates ("" clears one), the first not after the
 * last (as they will stand after the change). 1 when it answered 400. */
static int refuse_bad_paper_dates(zc_req *r, const char *zId) {
  const char *zFrom = json_date_field(r, "paper_from", "纸质材料报送开始日期", 0);
  const char *zUntil = r->status ? NULL : json_date_field(r, "paper_until", "纸质材料报送截止日期", 0);
  if (r->status) return 1;
  char *zOldFrom = db_text(r->node->db, "SELECT coalesce(paper_from, '') FROM committees WHERE id = ?", "t", zId);
  char *zOldUntil = db_text(r->node->db, "SELECT coalesce(paper_until, '') FROM committees WHERE id = ?", "t", zId);
  const char *zF = zFrom ? zFrom : zOldFrom ? zOldFrom : "", *zU = zUntil ? zUntil : zOldUntil ? zOldUntil : "";
  int bBad = *zF && *zU && strcmp(zF, zU) > 0;
  free(zOldFrom);
  free(zOldUntil);
  if (bBad) http_field_error(r, 400, "invalid_field", "paper_until", "纸质材料报送截止日期不能早于开始日期");
  return bBad;
}

int committees_update(zc_req *r) {
  const char *zId = r->aParam[0];
  if (!committee_managed_by(r, zId)) return http_error(r, 404, "not_found", "评审委员会不存在或不归您管理");
  static const struct { const char *zKey, *zLabel; size_t nMax; int bMultiline; } aText[] = {
    {"name", "委员会名称", 60, 0}, {"name_ug", "委员会维吾尔文名称", 200, 0}, {"paper_rules", "纸质材料报送内容", 2000, 1}, {"paper_binding", "装订方式", 500, 1},
    {"address", "地址", 100, 0}, {"contact", "联系人", 30, 0}, {"phone", "联系电话", 30, 0},
  };
  for (size_t i = 0; i < sizeof aText / sizeof aText[0]; i++) {
    const char *z = aText[i].bMultiline ? json_text_field(r, aText[i].zKey, aText[i].zLabel, 0)
                                        : json_str_field(r, aText[i].zKey, aText[i].zLabel, 0), *zErr;
    if (r->status) return 0;
    if (!z) continue;
    if ((zErr = validate_text(z, aText[i].nMax, 1))) return http_field_error(r, 400, "invalid_field", aText[i].zKey, zErr);
    if (strcmp(aText[i].zKey, "name") == 0 && !*z) return http_field_error(r, 400, "missing_field", "name", "请填写委员会名称");
  }
  if (refuse_bad_paper_dates(r, zId)) return 0;
  long long nLimit = 0, nFee = 0;
  int bLimit = json_int_field(r, "submit_limit", "申报次数上限", 0, &nLimit);
  if (bLimit < 0) return 0;
  if (bLimit == 0 && (nLimit < 1 || nLimit > 9))
    return http_field_error(r, 400, "invalid_field", "submit_limit", "申报次数上限应为1至9次");
  int bFee = json_int_field(r, "fee", "评审费", 0, &nFee);
  if (bFee < 0) return 0;
  if (bFee == 0 && (nFee < 0 || nFee > 100000)) return http_field_error(r, 400, "invalid_field", "fee", "评审费金额不正确");
  json_t *o = r->pJson;
  if (committee_set_name_ug(r->node, zId, jstr(o, "name"), jstr(o, "name_ug")) ||
      db_exec(r->node->db,
              "UPDATE committees SET name = coalesce(?, name), paper_rules = coalesce(?, paper_rules),"
              " address = coalesce(?, address), contact = coalesce(?, contact), phone = coalesce(?, phone),"
              " paper_binding = coalesce(?, paper_binding), paper_from = coalesce(?, paper_from),"
              " paper_until = coalesce(?, paper_until),"
              " submit_limit = iif(?, ?, submit_limit), fee = iif(?, ?, fee), updated = ? WHERE id = ?",
              "ttttttttiiiiIt", jstr(o, "name"), jstr(o, "paper_rules"), jstr(o, "address"), jstr(o, "contact"),
              jstr(o, "phone"), jstr(o, "paper_binding"), jstr(o, "paper_from"), jstr(o, "paper_until"), bLimit == 0,
              (int)nLimit, bFee == 0, (int)nFee, (sqlite3_int64)node_now(r->node), zId))
    return -1;
  if (json_object_get(o, "windows") && update_windows(r, zId, json_object_get(o, "windows"))) return r->status ? 0 : -1;
  if (committee_announce(r->node, zId)) return -1;
  return http_json(r, 200, json_pack("{s:o}", "committee", committee_full(r->node, zId)));
}

int committees_route(zc_req *r) {
  char zUnit[40], zQual[16], zSp[16], *zWhy = NULL, zCode[19];
  if (http_query(r, "unit", zUnit, sizeof zUnit) || http_query(r, "qualification", zQual, sizeof zQual) ||
      http_query(r, "specialty", zSp, sizeof zSp))
    return http_error(r, 400, "missing_field", "请提供单位（统一社会信用代码）、资格名称和专业");
  json_t *u = validate_credit_code(zUnit, zCode) ? NULL
              : db_row(r->node->db, "SELECT id, name, node FROM units WHERE credit_code = ?", "t", zCode);
  if (!u) return http_field_error(r, 404, "unit_not_found", "unit", "未找到该统一社会信用代码对应的单位");
  if (!db_int(r->node->db, 0, "SELECT 1 FROM specialties sp JOIN qualifications q ON q.series = sp.series"
              " WHERE sp.code = ? AND q.code = ?", "tt", zSp, zQual)) {
    json_decref(u);
    return http_field_error(r, 400, "invalid_field", "specialty", "专业与资格名称不属于同一系列");
  }
  json_t *c = committee_for(r->node, jstr(u, "node"), zQual, zSp, &zWhy);
  if (!c) {
    http_error(r, 409, "wrong_jurisdiction", "%s", zWhy);
    free(zWhy);
    json_decref(u);
    return 0;
  }
  json_t *w = committee_window(r->node, jstr(c, "id"), zSp);
  json_object_set_new(c, "window", w ? w : json_null());
  return http_json(r, 200, json_pack("{s:o, s:o}", "committee", c, "unit", u));
}
