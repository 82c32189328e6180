/* results.c - publicity lists, approval documents and certificates (results.h). A list is
 * made in one transaction: every application on it moves (workflow_move_listed, which
 * checks status, caller and holder) or nothing does. */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "committees.h"
#include "db.h"
#include "fed_error.h"
#include "forms.h"
#include "outbox.h"
#include "qr.h"
#include "rfc3339.h"
#include "secret.h"
#include "trust.h"
#include "validate.h"
#include "workflow.h"

#define LIST_MAX 500 /* applications on one list */
#define CERT_QR_MODULE 6 /* pixels per module of a certificate's QR code */
#define NO_CERTIFICATE_MSG "没有找到这个证书编号：请核对证书上的编号"

/* What a list prints of each application, from this node's rows. */
#define ITEM_SQL                                                                                       \
  "SELECT a.id AS application, a.year AS year, ac.name AS name, u.name AS unit, q.name AS qualification," \
  " a.directed AS directed FROM applications a JOIN accounts ac ON ac.id = a.applicant_id"             \
  " JOIN units u ON u.id = a.unit_id JOIN qualifications q ON q.code = a.qualification WHERE a.id = ?"

static json_t *item_of(zc_node *p, const char *zApp) {
  json_t *o = db_row(p->db, ITEM_SQL, "t", zApp);
  if (!o) return NULL;
  char zNumber[FORM_NUMBER_SIZE];
  forms_number(zNumber, zApp, json_integer_value(json_object_get(o, "year")));
  json_object_set_new(o, "number", json_string(zNumber));
  json_object_set_new(o, "directed", json_boolean(json_integer_value(json_object_get(o, "directed"))));
  json_object_del(o, "year");
  return o;
}

/* ---- storing, here and from other nodes' entries (one way each) ---- */

static int items_store(zc_node *p, const char *zKind, const char *zList, const json_t *aItems) {
  size_t i;
  json_t *o;
  json_array_foreach(aItems, i, o) {
    if (!jstr(o, "application") || !jstr(o, "number") || !jstr(o, "name") || !jstr(o, "unit") ||
        !jstr(o, "qualification"))
      return fed_error_set(FED_EINVALID, "a list item without application, number, name, unit or qualification");
    if (db_exec(p->db, "INSERT OR IGNORE INTO result_items(kind, list_id, application_id, number, name, unit,"
                " qualification, directed) VALUES(?,?,?,?,?,?,?,?)", "ttttttti", zKind, zList, jstr(o, "application"),
                jstr(o, "number"), jstr(o, "name"), jstr(o, "unit"), jstr(o, "qualification"),
                json_is_true(json_object_get(o, "directed"))))
      return FED_ERROR;
  }
  return FED_OK;
}

static int publicity_store(zc_node *p, const json_t *b, sqlite3_int64 tCreated) {
  const char *zId = jstr(b, "publicity");
  if (!zId || !jstr(b, "committee") || !jstr(b, "node") || !jstr(b, "title") || !jstr(b, "starts") ||
      !jstr(b, "ends") || !json_is_array(json_object_get(b, "items")))
    return fed_error_set(FED_EINVALID, "publicity.published without publicity, committee, node, title, dates or items");
  if (db_exec(p->db, "INSERT OR IGNORE INTO publicities(id, committee_id, node, title, starts, ends, created)"
              " VALUES(?,?,?,?,?,?,?)", "ttttttI", zId, jstr(b, "committee"), jstr(b, "node"), jstr(b, "title"),
              jstr(b, "starts"), jstr(b, "ends"), tCreated))
    return FED_ERROR;
  return items_store(p, "publicity", zId, json_object_get(b, "items"));
}

static int approval_store(zc_node *p, const json_t *b, sqlite3_int64 tCreated) {
  const char *zId = jstr(b, "approval");
  if (!zId || !jstr(b, "node") || !jstr(b, "doc_number") || !jstr(b, "doc_date") || !jstr(b, "title") ||
      !json_is_array(json_object_get(b, "items")))
    return fed_error_set(FED_EINVALID, "approval.issued without approval, node, doc_number, doc_date, title or items");
  if (db_exec(p->db, "INSERT OR IGNORE INTO approvals(id, node, doc_number, doc_date, title, created)"
              " VALUES(?,?,?,?,?,?)", "tttttI", zId, jstr(b, "node"), jstr(b, "doc_number"), jstr(b, "doc_date"),
              jstr(b, "title"), tCreated))
    return FED_ERROR;
  return items_store(p, "approval", zId, json_object_get(b, "items"));
}

static int certificate_store(zc_node *p, const json_t *b, sqlite3_int64 tIssued) {
  if (!jstr(b, "certificate") || !jstr(b, "application") || !jstr(b, "approval") || !jstr(b, "node") ||
      !jstr(b, "name") || !jstr(b, "unit") || !jstr(b, "qualification"))
    return fed_error_set(FED_EINVALID, "certificate.issued without certificate, application, approval, node or holder");
  return db_exec(p->db, "INSERT OR IGNORE INTO certificates(number, application_id, approval_id, node, name, unit,"
                 " qualification, directed, issued) VALUES(?,?,?,?,?,?,?,?,?)", "tttttttiI", jstr(b, "certificate"),
                 jstr(b, "application"), jstr(b, "approval"), jstr(b, "node"), jstr(b, "name"), jstr(b, "unit"),
                 jstr(b, "qualification"), json_is_true(json_object_get(b, "directed")), tIssued)
             ? FED_ERROR
             : FED_OK;
}

/* Record locally what the entry says, then the entry itself (pBody stolen). */
static int issue(zc_req *r, const char *zType, json_t *pBody,
                 int (*xStore)(zc_node *, const json_t *, sqlite3_int64)) {
  int rc = pBody ? xStore(r->node, pBody, (sqlite3_int64)node_now(r->node)) : -1;
  if (rc) {
    json_decref(pBody);
    return -1;
  }
  return outbox_record(r->node, zType, pBody, NULL);
}

int results_apply(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  time_t t = 0;
  fed_rfc3339_parse(&t, e->zTs);
  const char *zNode = jstr(e->pBody, "node");
  if (!zNode || strcmp(zNode, e->zOrigin) != 0) /* a node publishes only its own */
    return fed_error_set(FED_EINVALID, "%s for another node than its origin", e->zType);
  if (strcmp(e->zType, "publicity.published") == 0) return publicity_store(p, e->pBody, (sqlite3_int64)t);
  if (strcmp(e->zType, "approval.issued") == 0) return approval_store(p, e->pBody, (sqlite3_int64)t);
  return certificate_store(p, e->pBody, (sqlite3_int64)t);
}

/* ---- reading the body ---- */

/* A one-line text member of at most nMax characters, and a date; both required. */
static const char *body_text(zc_req *r, const char *zKey, const char *zLabel, size_t nMax) {
  return json_text_capped(r, zKey, zLabel, nMax, 0, 1);
}

static const char *body_date(zc_req *r, const char *zKey, const char *zLabel) {
  return json_date_field(r, zKey, zLabel, 1);
}

/* "applications": 1..LIST_MAX distinct ids. */
static json_t *body_ids(zc_req *r) {
  json_t *a = json_object_get(r->pJson, "applications"), *v;
  size_t i, k;
  if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > LIST_MAX) {
    http_field_error(r, 400, "invalid_field", "applications", "请选择要列入的申请书（1至500份）");
    return NULL;
  }
  json_array_foreach(a, i, v) {
    if (!json_is_string(v)) {
      http_field_error(r, 400, "invalid_field", "applications", "申请书编号应为文本");
      return NULL;
    }
    for (k = 0; k < i; k++)
      if (json_equal(v, json_array_get(a, k))) {
        http_field_error(r, 400, "invalid_field", "applications", "同一份申请书不能重复列入");
        return NULL;
      }
  }
  return a;
}

static char *new_id(char cKind) {
  char *z = malloc(26);
  if (z && secret_token_hex(z + 1, 12) == 0) {
    z[0] = cKind;
    return z;
  }
  free(z);
  return NULL;
}

/* Move every application of aIds by zAction, the list zList's items built as they go. */
static json_t *move_all(zc_req *r, json_t *aIds, const char *zAction, json_t *pDetail) {
  json_t *aItems = json_array(), *v;
  size_t i;
  json_array_foreach(aIds, i, v) {
    json_t *o = NULL;
    if (workflow_move_listed(r, json_string_value(v), zAction, pDetail) || r->status ||
        !(o = item_of(r->node, json_string_value(v)))) {
      json_decref(aItems);
      return NULL;
    }
    json_array_append_new(aItems, o);
  }
  return aItems;
}

/* ---- publicity (公示) ---- */

static int publicity_answer(zc_req *r, const char *zId, int status);
static int approval_answer(zc_req *r, const char *zId, int status);

int results_publicity_post(zc_req *r) {
  const char *zCommittee = r->aParam[0];
  if (!committee_managed_by(r, zCommittee)) return http_error(r, 404, "not_found", "评审委员会不存在或不归您管理");
  const char *zTitle = body_text(r, "title", "公示标题", 100), *zStarts = zTitle ? body_date(r, "starts", "公示开始日期") : NULL;
  const char *zEnds = zStarts ? body_date(r, "ends", "公示截止日期") : NULL;
  json_t *aIds = zEnds ? body_ids(r) : NULL;
  if (!aIds) return r->status ? 0 : -1;
  if (strcmp(zStarts, zEnds) > 0) return http_field_error(r, 400, "invalid_field", "ends", "公示截止日期不能早于开始日期");
  char *zId = new_id('g');
  json_t *pDetail = zId ? json_pack("{s:s}", "publicity", zId) : NULL;
  json_t *aItems = pDetail ? move_all(r, aIds, "publicize", pDetail) : NULL;
  int rc = -1;
  if (aItems) {
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "publicity", zId, "committee", zCommittee, "node",
                          r->node->cfg.zNode, "title", zTitle, "starts", zStarts, "ends", zEnds, "items", aItems);
    rc = issue(r, "publicity.published", b, publicity_store);
    if (rc == 0) rc = publicity_answer(r, zId, 201);
  }
  json_decref(aItems);
  json_decref(pDetail);
  free(zId);
  return r->status ? 0 : rc;
}

#define PUBLICITY_COLUMNS                                                                                \
  "SELECT g.id, g.committee_id AS committee, c.name AS committee_name, c.name_ug AS committee_name_ug, g.node, g.title, g.starts, g.ends,"  \
  " g.created, (SELECT count(*) FROM result_items i WHERE i.kind = 'publicity' AND i.list_id = g.id) AS count" \
  " FROM publicities g LEFT JOIN committees c ON c.id = g.committee_id"

static void put_node_name(zc_node *p, json_t *o) {
  node_put_region_names(p, o, "node", "node_name");
}

/* Is the period of a list (with starts, ends) running, over or to come, today in Beijing? */
static void put_period(zc_node *p, json_t *o) {
  char zToday[11];
  committee_today(p, zToday);
  const char *zState = strcmp(zToday, jstr(o, "starts")) < 0 ? "upcoming" : strcmp(zToday, jstr(o, "ends")) > 0 ? "ended" : "running";
  json_object_set_new(o, "period", json_string(zState));
  put_node_name(p, o);
}

static json_t *items_json(zc_node *p, const char *zKind, const char *zList) {
  json_t *a = db_rows(p->db, "SELECT i.application_id AS application, i.number, i.name, i.unit, i.qualification,"
                      " i.directed, a.status FROM result_items i LEFT JOIN applications a ON a.id = i.application_id"
                      " WHERE i.kind = ? AND i.list_id = ? ORDER BY i.number", "tt", zKind, zList);
  size_t i;
  json_t *o;
  json_array_foreach(a, i, o) json_object_set_new(o, "directed", json_boolean(json_integer_value(json_object_get(o, "directed"))));
  return a;
}

int results_publicity_list(zc_req *r) {
  char zCommittee[48] = "", zNode[16] = "";
  if (http_query(r, "committee", zCommittee, sizeof zCommittee) == HTTP_TOO_LONG ||
      http_query(r, "node", zNode, sizeof zNode) == HTTP_TOO_LONG)
    return http_error(r, 400, "invalid_query", "查询条件过长");
  json_t *a = db_rows(r->node->db, PUBLICITY_COLUMNS " WHERE (?1 = '' OR g.committee_id = ?1) AND (?2 = '' OR g.node = ?2)"
                      " ORDER BY g.created DESC, g.id LIMIT 200", "tt", zCommittee, zNode);
  size_t i;
  json_t *o;
  if (!a) return -1;
  json_array_foreach(a, i, o) put_period(r->node, o);
  json_set_times(a, "created");
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

static int publicity_answer(zc_req *r, const char *zId, int status) {
  json_t *o = db_row(r->node->db, PUBLICITY_COLUMNS " WHERE g.id = ?", "t", zId);
  if (!o) return http_error(r, 404, "not_found", "公示不存在");
  put_period(r->node, o);
  json_set_time(o, "created");
  json_object_set_new(o, "items", items_json(r->node, "publicity", zId));
  return http_json(r, status, json_pack("{s:o}", "publicity", o));
}

int results_publicity_get(zc_req *r) { return publicity_answer(r, r->aParam[0], 200); }

/* ---- approval documents (批文) and certificates ---- */

/* 409 unless every application's publicity is over (its last day before today). */
static int refuse_running_publicity(zc_req *r, json_t *aIds) {
  char zToday[11];
  size_t i;
  json_t *v;
  committee_today(r->node, zToday);
  json_array_foreach(aIds, i, v) {
    char *zEnds = db_text(r->node->db, "SELECT g.ends FROM result_items i JOIN publicities g ON g.id = i.list_id"
                          " WHERE i.kind = 'publicity' AND i.application_id = ? ORDER BY g.ends DESC LIMIT 1", "t",
                          json_string_value(v));
    int bRunning = zEnds && strcmp(zEnds, zToday) >= 0;
    if (bRunning)
      http_error_extra(r, 409, "publicity_running", json_pack("{s:s}", "application", json_string_value(v)),
                       "申请书 %s 的公示期至 %s 结束，公示期满后方可印发批文", json_string_value(v), zEnds);
    free(zEnds);
    if (bRunning) return 1;
  }
  return 0;
}

int results_approval_post(zc_req *r) {
  const char *zNumber = body_text(r, "doc_number", "批文文号", 60);
  const char *zDate = zNumber ? body_date(r, "doc_date", "批文日期") : NULL;
  const char *zTitle = zDate ? body_text(r, "title", "批文标题", 100) : NULL;
  json_t *aIds = zTitle ? body_ids(r) : NULL;
  if (!aIds) return r->status ? 0 : -1;
  if (db_int(r->node->db, 0, "SELECT count(*) FROM approvals WHERE node = ? AND doc_number = ?", "tt",
             r->node->cfg.zNode, zNumber))
    return http_field_error(r, 409, "doc_number_taken", "doc_number", "该文号的批文已经印发");
  if (refuse_running_publicity(r, aIds)) return 0;
  char *zId = new_id('w');
  json_t *pDetail = zId ? json_pack("{s:s, s:s}", "approval", zId, "doc_number", zNumber) : NULL;
  json_t *aItems = pDetail ? move_all(r, aIds, "approve", pDetail) : NULL;
  int rc = -1;
  if (aItems) {
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "approval", zId, "node", r->node->cfg.zNode, "doc_number",
                          zNumber, "doc_date", zDate, "title", zTitle, "items", aItems);
    rc = issue(r, "approval.issued", b, approval_store);
    if (rc == 0) rc = approval_answer(r, zId, 201);
  }
  json_decref(aItems);
  json_decref(pDetail);
  free(zId);
  return r->status ? 0 : rc;
}

#define APPROVAL_COLUMNS                                                                                 \
  "SELECT w.id, w.node, w.doc_number, w.doc_date, w.title, w.created,"                                   \
  " (SELECT count(*) FROM result_items i WHERE i.kind = 'approval' AND i.list_id = w.id) AS count,"     \
  " (SELECT count(*) FROM certificates c WHERE c.approval_id = w.id) AS certified FROM approvals w"

int results_approval_list(zc_req *r) {
  char zNode[16] = "";
  if (http_query(r, "node", zNode, sizeof zNode) == HTTP_TOO_LONG) return http_error(r, 400, "invalid_query", "查询条件过长");
  json_t *a = db_rows(r->node->db, APPROVAL_COLUMNS " WHERE ?1 = '' OR w.node = ?1 ORDER BY w.doc_date DESC, w.id"
                      " LIMIT 200", "t", zNode);
  size_t i;
  json_t *o;
  if (!a) return -1;
  json_array_foreach(a, i, o) put_node_name(r->node, o);
  json_set_times(a, "created");
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

static int approval_answer(zc_req *r, const char *zId, int status) {
  json_t *o = db_row(r->node->db, APPROVAL_COLUMNS " WHERE w.id = ?", "t", zId);
  if (!o) return http_error(r, 404, "not_found", "批文不存在");
  put_node_name(r->node, o);
  json_set_time(o, "created");
  json_t *aItems = items_json(r->node, "approval", zId), *it;
  size_t i;
  json_array_foreach(aItems, i, it) {
    char *zCert = db_text(r->node->db, "SELECT number FROM certificates WHERE application_id = ?", "t",
                          jstr(it, "application"));
    json_object_set_new(it, "certificate", zCert ? json_string(zCert) : json_null());
    free(zCert);
  }
  json_object_set_new(o, "items", aItems);
  return http_json(r, status, json_pack("{s:o}", "approval", o));
}

int results_approval_get(zc_req *r) { return approval_answer(r, r->aParam[0], 200); }

/* "650000-2026-000001": the node, the year of the approval document, the node's count. */
static int certificate_number(zc_req *r, const char *zDocDate, char zOut[32]) {
  char zPrefix[24];
  snprintf(zPrefix, sizeof zPrefix, "%s-%.4s-", r->node->cfg.zNode, zDocDate);
  sqlite3_int64 n = db_int(r->node->db, 0, "SELECT count(*) FROM certificates WHERE substr(number, 1, ?) = ?", "it",
                           (int)strlen(zPrefix), zPrefix);
  snprintf(zOut, 32, "%s%06lld", zPrefix, (long long)n + 1);
  return 0;
}

int results_certify(zc_req *r) {
  json_t *w = db_row(r->node->db, "SELECT id, doc_number, doc_date FROM approvals WHERE id = ? AND node = ?", "tt",
                     r->aParam[0], r->node->cfg.zNode);
  if (!w) return http_error(r, 404, "not_found", "批文不存在或不是本节点印发的");
  json_t *aIds = db_rows(r->node->db, "SELECT i.application_id AS id FROM result_items i JOIN applications a"
                         " ON a.id = i.application_id WHERE i.kind = 'approval' AND i.list_id = ? AND a.status = 'approved'"
                         " ORDER BY i.number", "t", r->aParam[0]);
  json_t *aOut = json_array(), *v;
  size_t i;
  int rc = 0;
  if (!aIds || json_array_size(aIds) == 0)
    rc = http_error(r, 409, "nothing_to_certify", "该批文中的人员均已颁发证书");
  json_array_foreach(aIds, i, v) {
    if (rc || r->status) break;
    char zCert[32];
    const char *zApp = jstr(v, "id");
    json_t *pDetail = json_pack("{s:s}", "approval", jstr(w, "id")), *o = NULL;
    certificate_number(r, jstr(w, "doc_date"), zCert);
    json_object_set_new(pDetail, "certificate", json_string(zCert));
    rc = workflow_move_listed(r, zApp, "certify", pDetail);
    json_decref(pDetail);
    if (rc || r->status) break;
    if (!(o = item_of(r->node, zApp))) {
      rc = -1;
      break;
    }
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s}", "certificate", zCert, "application", zApp,
                          "approval", jstr(w, "id"), "node", r->node->cfg.zNode, "name", jstr(o, "name"), "unit",
                          jstr(o, "unit"), "qualification", jstr(o, "qualification"), "directed",
                          json_object_get(o, "directed"), "doc_number", jstr(w, "doc_number"));
    json_decref(o);
    rc = issue(r, "certificate.issued", b, certificate_store);
    json_array_append_new(aOut, json_string(zCert));
  }
  json_decref(aIds);
  json_decref(w);
  if (rc || r->status) {
    json_decref(aOut);
    return r->status ? 0 : -1;
  }
  return http_json(r, 200, json_pack("{s:o}", "certificates", aOut));
}

int results_certificate_get(zc_req *r) {
  json_t *o = db_row(r->node->db, "SELECT c.number, c.node, c.name, c.unit, c.qualification, c.directed, c.issued,"
                     " w.doc_number, w.doc_date, w.title AS doc_title FROM certificates c LEFT JOIN approvals w"
                     " ON w.id = c.approval_id WHERE c.number = ?", "t", r->aParam[0]);
  if (!o) return http_error(r, 404, "not_found", NO_CERTIFICATE_MSG);
  json_object_set_new(o, "directed", json_boolean(json_integer_value(json_object_get(o, "directed"))));
  put_node_name(r->node, o);
  json_set_time(o, "issued");
  return http_json(r, 200, json_pack("{s:o}", "certificate", o));
}

/* The certificate's QR code: its page at the node that issued it, for a phone to open. */
int results_certificate_qr(zc_req *r) {
  char *zNode = db_text(r->node->db, "SELECT node FROM certificates WHERE number = ?", "t", r->aParam[0]);
  if (!zNode) return http_error(r, 404, "not_found", NO_CERTIFICATE_MSG);
  char zUrl[512];
  snprintf(zUrl, sizeof zUrl, "%s/#/certificate?number=%s", node_url(r->node, zNode), r->aParam[0]);
  free(zNode);
  return qr_answer_png(r, zUrl, CERT_QR_MODULE, "public, max-age=86400");
}

/* ---- on the application ---- */

void results_put(zc_node *p, const char *zAppId, zc_buf *b) {
  /* most applications are in no list yet: a look at the index spares them the sort below */
  if (!db_int(p->db, 0, "SELECT 1 FROM result_items WHERE application_id = ? LIMIT 1", "t", zAppId)) return;
  json_t *g = db_row(p->db, "SELECT g.id, g.title, g.starts, g.ends, g.node FROM result_items i JOIN publicities g"
                     " ON g.id = i.list_id WHERE i.kind = 'publicity' AND i.application_id = ? ORDER BY g.created DESC"
                     " LIMIT 1", "t", zAppId);
  if (!g) return;
  put_period(p, g);
  json_t *o = json_pack("{s:o}", "publicity", g);
  json_t *w = db_row(p->db, "SELECT w.id, w.doc_number, w.doc_date, w.title FROM result_items i JOIN approvals w"
                     " ON w.id = i.list_id WHERE i.kind = 'approval' AND i.application_id = ? LIMIT 1", "t", zAppId);
  if (w) json_object_set_new(o, "approval", w);
  json_t *c = db_row(p->db, "SELECT number, directed FROM certificates WHERE application_id = ?", "t", zAppId);
  if (c) {
    json_object_set_new(c, "directed", json_boolean(json_integer_value(json_object_get(c, "directed"))));
    json_object_set_new(o, "certificate", c);
  }
  buf_append(b, ",\"results\":", 11);
  buf_json(b, o);
  json_decref(o);
}
