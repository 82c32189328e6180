/* applications.c - the applicant's side of an application and reading it (applications.h). */
#include "applications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "blob.h"
#include "committees.h"
#include "db.h"
#include "forms.h"
#include "payments.h"
#include "results.h"
#include "outbox.h"
#include "fed_error.h"
#include "rfc3339.h"
#include "live.h"
#include "refdata.h"
#include "router.h"
#include "sections.h"
#include "validate.h"
#include "workflow.h"

static int app_answer_row(zc_req *r, json_t *a, app_access acc);

static const struct { const char *zCode, *zLabel; } g_status[] = {
  {"draft", "草稿"},           {"unit_review", "单位审核中"},     {"dept_review", "推荐单位审核中"},
  {"committee_review", "评委会形式审查中"}, {"returned", "已退回"}, {"formal_passed", "形式审查通过"},
  {"meeting", "会议评审中"},   {"passed", "评审通过"},           {"failed", "评审未通过"},
  {"publicized", "公示中"},    {"approved", "已批准"},           {"certified", "已发证"},
};

const char *app_status_label(const char *zStatus) {
  for (size_t i = 0; zStatus && i < sizeof g_status / sizeof g_status[0]; i++)
    if (strcmp(g_status[i].zCode, zStatus) == 0) return g_status[i].zLabel;
  return "";
}

int app_editable(const char *zStatus) {
  return strcmp(zStatus, "draft") == 0 || strcmp(zStatus, "returned") == 0;
}

/* ---- access ---- */

static int has_access(zc_node *p, const char *zApp, const char *zKind, const char *zRef) {
  return zRef && *zRef &&
         db_int(p->db, 0, "SELECT 1 FROM application_access WHERE application_id = ? AND kind = ? AND ref = ?",
                "ttt", zApp, zKind, zRef) == 1;
}

json_t *app_load(zc_req *r, const char *zId, app_access *pAccess) {
  zc_session *s = r->pSess;
  json_t *a = db_row(r->node->db, "SELECT * FROM applications WHERE id = ?", "t", zId);
  app_access acc = ACCESS_NONE;
  if (a) {
    const char *zStage = workflow_stage(jstr(a, "status"));
    switch (s->role) {
      case ROLE_APPLICANT:
        if (strcmp(jstr(a, "applicant_id"), s->zAccount) == 0) acc = ACCESS_OWNER;
        break;
      case ROLE_UNIT_ADMIN:
        if (has_access(r->node, zId, "unit", s->zUnit))
          acc = zStage && strcmp(zStage, "unit") == 0 && strcmp(jstr(a, "unit_id"), s->zUnit) == 0 ? ACCESS_REVIEW
                                                                                                : ACCESS_READ;
        break;
      case ROLE_DEPT_ADMIN:
        if (has_access(r->node, zId, "dept", s->zDept))
          acc = zStage && strcmp(zStage, "dept") == 0 && jstr(a, "dept_id") && strcmp(jstr(a, "dept_id"), s->zDept) == 0
                    ? ACCESS_REVIEW : ACCESS_READ;
        break;
      case ROLE_COMMITTEE_ADMIN:
        if (has_access(r->node, zId, "committee", s->zCommittee))
          acc = zStage && strcmp(zStage, "committee") == 0 && strcmp(jstr(a, "committee_id"), s->zCommittee) == 0
                    ? ACCESS_REVIEW : ACCESS_READ;
        break;
      case ROLE_NODE_ADMIN:
      case ROLE_AUDITOR: /* a draft never submitted is the applicant's alone */
        if (json_integer_value(json_object_get(a, "submit_count")) > 0) acc = ACCESS_READ;
        break;
    }
  }
  if (acc == ACCESS_NONE) {
    json_decref(a);
    http_error(r, 404, "not_found", "申请书不存在或您无权查看");
    return NULL;
  }
  *pAccess = acc;
  return a;
}

/* Load for the applicant's own edits: 404 if not theirs, 409 if not editable now. */
static json_t *load_editable(zc_req *r, const char *zId) {
  app_access acc;
  json_t *a = app_load(r, zId, &acc);
  if (!a) return NULL;
  if (acc != ACCESS_OWNER) {
    json_decref(a);
    http_error(r, 403, "forbidden", "只有申请人本人可以修改申请书");
    return NULL;
  }
  if (!app_editable(jstr(a, "status"))) {
    http_error(r, 409, "not_editable", "申请书当前状态为“%s”，不能修改；如需修改请先收回", app_status_label(jstr(a, "status")));
    json_decref(a);
    return NULL;
  }
  return a;
}

int app_claim(zc_req *r, json_t *a) {
  if (db_exec(r->node->db, "UPDATE applications SET revision = revision + 1, updated = ? WHERE id = ? AND revision = ?"
              " AND holder = ?", "ItIt", (sqlite3_int64)node_now(r->node), jstr(a, "id"),
              (sqlite3_int64)json_integer_value(json_object_get(a, "revision")), r->node->cfg.zNode))
    return -1;
  if (sqlite3_changes(r->node->db) == 1) return 0;
  return app_refuse_stale(r, a);
}

int app_refuse_stale(zc_req *r, json_t *a) {
  const char *zHolder = jstr(a, "holder");
  if (zHolder && strcmp(zHolder, r->node->cfg.zNode) != 0)
    return http_error(r, 409, "held_elsewhere", "申请书已转至“%s”办理，本节点不能修改", node_region_name(r->node, zHolder)), 1;
  return http_error(r, 409, "state_changed", "申请书状态已变化，请刷新后再操作"), 1;
}

/* The entry type an application_history row is announced by (entries.c). */
static const char *history_entry_type(const char *zAction) {
  if (strcmp(zAction, "create") == 0) return "application.created";
  if (strcmp(zAction, "change_qualification") == 0) return "application.qualification";
  return "application.moved";
}

int app_history(zc_req *r, const char *zId, const char *zAction, const char *zFrom, const char *zTo, json_t *pDetail) {
  char *zDetail = pDetail ? json_dumps(pDetail, JSON_COMPACT) : NULL;
  char *zName = db_text(r->node->db, "SELECT name FROM accounts WHERE id = ?", "t", r->pSess->zAccount);
  json_t *pBody = db_row(r->node->db, "SELECT id AS application, holder, revision, returned_by FROM applications"
                         " WHERE id = ?", "t", zId);
  sqlite3_int64 seq = 0;
  int rc = -1;
  if (!pBody) goto done;
  json_object_set_new(pBody, "action", json_string(zAction));
  json_object_set_new(pBody, "from", zFrom ? json_string(zFrom) : json_null());
  json_object_set_new(pBody, "to", json_string(zTo));
  json_object_set_new(pBody, "actor", json_string(r->pSess->zAccount));
  json_object_set_new(pBody, "actor_role", json_string(role_name(r->pSess->role)));
  json_object_set(pBody, "detail", pDetail ? pDetail : json_null());
  /* the row is the entry's: (origin, seq) keys it wherever histories merge */
  if (outbox_record(r->node, history_entry_type(zAction), pBody, &seq)) goto done;
  rc = db_exec(r->node->db, "INSERT INTO application_history(application_id, at, actor_id, actor_name, actor_role,"
               " action, from_status, to_status, detail_json, origin, seq) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
               "tIttttttttI", zId, (sqlite3_int64)node_now(r->node), r->pSess->zAccount, zName ? zName : "",
               role_name(r->pSess->role), zAction, zFrom, zTo, zDetail, r->node->cfg.zNode, seq);
done:
  free(zDetail);
  free(zName);
  json_decref(pDetail);
  return rc;
}

/* ---- the application as shown ----
 * This answer follows every section save and every move, the busiest requests of a
 * deadline. It is written as JSON text straight into the answer, members in a fixed
 * order: values of the application's row by hand, the rows around it as JSON text made
 * by sqlite (json_object, one statement) and spliced in, the fixed section definitions as
 * text made once, the saved section data as stored (compact JSON this node wrote). */

/* ,"zKey": (every member but the first, which app_head writes itself) */
static void put_key(zc_buf *b, const char *zKey) {
  buf_append(b, ",\"", 2);
  buf_append(b, zKey, strlen(zKey));
  buf_append(b, "\":", 2);
}

static void put_text(zc_buf *b, const char *zKey, const char *z) {
  put_key(b, zKey);
  if (z) buf_json_string(b, z, strlen(z));
  else buf_append(b, "null", 4);
}

static void put_int(zc_buf *b, const char *zKey, json_int_t v) {
  put_key(b, zKey);
  buf_json_int(b, v);
}

static void put_bool(zc_buf *b, const char *zKey, int bTrue) {
  put_key(b, zKey);
  if (bTrue) buf_append(b, "true", 4);
  else buf_append(b, "false", 5);
}

/* v as JSON (null when NULL). */
static void put_value(zc_buf *b, const char *zKey, const json_t *v) {
  put_key(b, zKey);
  if (v) buf_json(b, v);
  else buf_append(b, "null", 4);
}

/* Integer seconds v as RFC 3339 text (other values as they are, as json_set_time does). */
static void put_time(zc_buf *b, const char *zKey, const json_t *v) {
  char zTime[FED_RFC3339_SIZE];
  if (json_is_integer(v) && fed_rfc3339_format(zTime, (time_t)json_integer_value(v)) == FED_OK)
    put_text(b, zKey, zTime);
  else
    put_value(b, zKey, v);
}

/* Column i of pStmt, JSON text (as stored), as it is (null when NULL). */
static void put_column(zc_buf *b, const char *zKey, sqlite3_stmt *pStmt, int i) {
  const char *z = (const char *)sqlite3_column_text(pStmt, i);
  put_key(b, zKey);
  if (z) buf_append(b, z, (size_t)sqlite3_column_bytes(pStmt, i));
  else buf_append(b, "null", 4);
}

/* Columns i0..i0+n-1 of pStmt's row as an object, members named as the columns:
 * integers as numbers, text as strings, NULL as null (no JSON made by sqlite: its
 * json_object costs more than the row's lookup). */
static void put_row_object(zc_buf *b, sqlite3_stmt *pStmt, int i0, int n) {
  buf_append(b, "{", 1);
  for (int i = i0; i < i0 + n; i++) {
    const char *zName = sqlite3_column_name(pStmt, i);
    if (i > i0) buf_append(b, ",", 1);
    buf_json_string(b, zName, strlen(zName));
    buf_append(b, ":", 1);
    switch (sqlite3_column_type(pStmt, i)) {
      case SQLITE_INTEGER: buf_json_int(b, sqlite3_column_int64(pStmt, i)); break;
      case SQLITE_TEXT:
        buf_json_string(b, (const char *)sqlite3_column_text(pStmt, i), (size_t)sqlite3_column_bytes(pStmt, i));
        break;
      case SQLITE_FLOAT: {
        json_t *v = json_real(sqlite3_column_double(pStmt, i));
        buf_json(b, v);
        json_decref(v);
        break;
      }
      default: buf_append(b, "null", 4);
    }
  }
  buf_append(b, "}", 1);
}

/* Member zKey: columns i0..i0+n-1 as an object, or null when column i0 (the key of the
 * joined row) is NULL: there is no such row. */
static void put_row(zc_buf *b, const char *zKey, sqlite3_stmt *pStmt, int i0, int n) {
  put_key(b, zKey);
  if (sqlite3_column_type(pStmt, i0) == SQLITE_NULL) buf_append(b, "null", 4);
  else put_row_object(b, pStmt, i0, n);
}

/* The rows around application ? as the answer shows them, in column groups: its
 * qualification, specialty, applicant, unit and recommending unit (NULL when none). */
enum { AROUND_QUALIFICATION = 0, AROUND_SPECIALTY = 7, AROUND_APPLICANT = 10, AROUND_UNIT = 14, AROUND_DEPT = 18,
       AROUND_END = 22 };
#define AROUND_SQL                                                                                               \
  "SELECT q.code AS code, q.name AS name, q.name_ug AS name_ug, q.level AS level, s.code AS series,"              \
  " s.name AS series_name, s.name_ug AS series_name_ug, sp.code AS code, sp.name AS name, sp.name_ug AS name_ug,"   \
  " x.id AS id, x.name AS name, x.username AS username, x.id_masked AS id_number_masked,"                         \
  " u.id AS id, u.name AS name, u.credit_code AS credit_code, u.node AS node,"                                    \
  " d.id AS id, d.name AS name, d.name_ug AS name_ug, d.node AS node"                                             \
  " FROM applications a LEFT JOIN qualifications q ON q.code = a.qualification LEFT JOIN series s ON s.code = q.series" \
  " LEFT JOIN specialties sp ON sp.code = a.specialty LEFT JOIN accounts x ON x.id = a.applicant_id"              \
  " LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN depts d ON d.id = a.dept_id WHERE a.id = ?"

/* The history of application zId, written from its rows in C (sqlite's json_object and
 * json_group_array over them cost more than all the rest of this statement), detail_json
 * spliced in as stored (compact JSON written by app_history). For the applicant the
 * opinions of a move other than a return are taken out: they reach the applicant with a
 * return, never before (only details holding them are parsed: compact JSON names a member
 * "opinions" as exactly that text). */
static int put_history(sqlite3 *db, zc_buf *b, const char *zId, int bOwner) {
  static const char *const azKey[] = {"actor_name", "actor_role", "action", "from", "to"};
  char zTime[FED_RFC3339_SIZE];
  int step, n = 0;
  sqlite3_stmt *pStmt = db_prepare(db, "SELECT at, actor_name, actor_role, action, from_status, to_status,"
                                   " CASE WHEN ?2 AND action <> 'return' AND instr(detail_json, '\"opinions\":')"
                                   " THEN json_remove(detail_json, '$.opinions') ELSE detail_json END"
                                   " FROM application_history WHERE application_id = ?1 ORDER BY id",
                                   "ti", zId, bOwner);
  if (!pStmt) return -1;
  put_key(b, "history");
  buf_append(b, "[", 1);
  while ((step = sqlite3_step(pStmt)) == SQLITE_ROW) {
    if (n++) buf_append(b, ",", 1);
    buf_append(b, "{\"at\":", 6);
    if (fed_rfc3339_format(zTime, (time_t)sqlite3_column_int64(pStmt, 0)) == FED_OK)
      buf_json_string(b, zTime, strlen(zTime));
    else
      buf_json_int(b, sqlite3_column_int64(pStmt, 0));
    for (int i = 0; i < 5; i++) put_text(b, azKey[i], (const char *)sqlite3_column_text(pStmt, i + 1));
    put_column(b, "detail", pStmt, 6);
    buf_append(b, "}", 1);
  }
  sqlite3_reset(pStmt);
  buf_append(b, "]", 1);
  return step == SQLITE_DONE ? 0 : -1;
}

/* Lists of objects as JSON text: the application's opinions (all the caller may read)
 * and, per section, its attachments and opinions, each "a,b,c" without the brackets. */
typedef struct app_lists {
  zc_buf opinions;
  zc_buf aAtt[MAX_SECTIONS], aOpinions[MAX_SECTIONS];
} app_lists;

static void list_add(zc_buf *b, const zc_buf *pItem) {
  if (b->n) buf_append(b, ",", 1);
  buf_append(b, pItem->z, pItem->n);
}

static void put_list(zc_buf *b, const zc_buf *pList) {
  buf_append(b, "[", 1);
  if (pList->n) buf_append(b, pList->z, pList->n);
  buf_append(b, "]", 1);
}

static void lists_free(app_lists *l) {
  buf_free(&l->opinions);
  for (int i = 0; i < g_nSections; i++) {
    buf_free(&l->aAtt[i]);
    buf_free(&l->aOpinions[i]);
  }
}

/* Rows of pStmt, each its section then the columns of an object, into per-section lists
 * (and all of them into pAll). */
static int lists_fill(sqlite3_stmt *pStmt, zc_buf *aBySection, zc_buf *pAll) {
  zc_buf item = {0};
  int step;
  if (!pStmt) return -1;
  while ((step = sqlite3_step(pStmt)) == SQLITE_ROW) {
    const section_def *s = section_find((const char *)sqlite3_column_text(pStmt, 0));
    item.n = 0;
    put_row_object(&item, pStmt, 1, sqlite3_column_count(pStmt) - 1);
    if (pAll) list_add(pAll, &item);
    if (s) list_add(&aBySection[s - g_sections], &item);
  }
  sqlite3_reset(pStmt);
  buf_free(&item);
  return step == SQLITE_DONE ? 0 : -1;
}

/* The attachments, and the opinions the caller may read: reviewers all; the applicant
 * those of past rounds and of the current one once it came back. */
static int lists_load(zc_node *p, json_t *a, app_access acc, app_lists *l) {
  const char *zId = jstr(a, "id");
  int round = (int)json_integer_value(json_object_get(a, "round"));
  int bAll = acc != ACCESS_OWNER || strcmp(jstr(a, "status"), "returned") == 0;
  memset(l, 0, sizeof(*l));
  return lists_fill(db_prepare(p->db, "SELECT o.section, o.round AS round, o.stage AS stage, o.section AS section,"
                               " o.text AS text, rfc3339(o.updated) AS updated, x.name AS author"
                               " FROM application_opinions o LEFT JOIN accounts x ON x.id = o.author_id"
                               " WHERE o.application_id = ? AND (? OR o.round < ?) ORDER BY o.round, o.stage, o.section",
                               "tii", zId, bAll, round), l->aOpinions, &l->opinions) ||
         lists_fill(db_prepare(p->db, "SELECT section, id AS id, section AS section, name AS name, sha256 AS sha256,"
                               " type AS type, size AS size, rfc3339(uploaded) AS uploaded"
                               " FROM application_attachments WHERE application_id = ? ORDER BY uploaded, id",
                               "t", zId), l->aAtt, NULL);
}

/* What the writer of each section's JSON needs besides the section itself. */
typedef struct section_text_ctx {
  zc_buf *b;
  const app_lists *pLists;
} section_text_ctx;

static int section_text(int i, const char *zData, const section_field *pMissing, void *pArg) {
  section_text_ctx *x = pArg;
  const section_def *s = &g_sections[i];
  size_t nHead;
  const char *zHead = section_head_text(s, &nHead);
  const char *zMissing = pMissing ? pMissing->zLabel : ""; /* labels: fixed text, nothing to escape */
  if (i) buf_append(x->b, ",", 1);
  buf_append(x->b, zHead, nHead);
  buf_append(x->b, ",\"data\":", 8);
  buf_append(x->b, zData, strlen(zData));
  buf_append(x->b, ",\"attachments\":", 15);
  put_list(x->b, &x->pLists->aAtt[i]);
  buf_append(x->b, ",\"opinions\":", 12);
  put_list(x->b, &x->pLists->aOpinions[i]);
  buf_append(x->b, ",\"missing\":\"", 12);
  buf_append(x->b, zMissing, strlen(zMissing));
  buf_append(x->b, "\"}", 2);
  return 0;
}

/* Every section with its definition, saved data, attachments and opinions (one query for
 * the saved data; what is missing found by sqlite without parsing the data here). */
static int sections_text(zc_node *p, const char *zId, const app_lists *pLists, zc_buf *b) {
  section_text_ctx x = {b, pLists};
  buf_append(b, "[", 1);
  int rc = section_saved_each(p->db, zId, section_text, &x);
  buf_append(b, "]", 1);
  return rc;
}

/* The application but its sections, as GET /applications/{id} answers it for a caller
 * with access acc, without the closing brace; -1 when a query failed. */
static int app_head(zc_req *r, json_t *a, app_access acc, const app_lists *pLists, zc_buf *b) {
  static const char *const aRetName[][2] = {{"unit", "基层单位"}, {"dept", "推荐单位"}, {"committee", "评审委员会"}};
  zc_node *p = r->node;
  const char *zId = jstr(a, "id"), *zStatus = jstr(a, "status"), *zRet = jstr(a, "returned_by");
  sqlite3_stmt *pAround = db_prepare(p->db, AROUND_SQL, "t", zId);
  if (!pAround || sqlite3_step(pAround) != SQLITE_ROW) {
    if (pAround) sqlite3_reset(pAround);
    return -1;
  }
  char zNumber[FORM_NUMBER_SIZE];
  forms_number(zNumber, zId, json_integer_value(json_object_get(a, "year")));
  buf_append(b, "{\"id\":", 6);
  buf_json_string(b, zId, strlen(zId));
  put_text(b, "number", zNumber);
  if (forms_status_official(zStatus)) { /* only then is there an official form to name */
    char *zCode = forms_current_code(p, zId);
    put_text(b, "verify_code", zCode);
    free(zCode);
  }
  payments_put(p, zId, b);
  results_put(p, zId, b);
  put_int(b, "year", json_integer_value(json_object_get(a, "year")));
  put_text(b, "status", zStatus);
  put_text(b, "status_name", app_status_label(zStatus));
  put_text(b, "returned_by", zRet);
  for (int i = 0; zRet && i < 3; i++)
    if (strcmp(aRetName[i][0], zRet) == 0) put_text(b, "returned_by_name", aRetName[i][1]);
  put_row(b, "qualification", pAround, AROUND_QUALIFICATION, AROUND_SPECIALTY - AROUND_QUALIFICATION);
  put_row(b, "specialty", pAround, AROUND_SPECIALTY, AROUND_APPLICANT - AROUND_SPECIALTY);
  put_int(b, "level", json_integer_value(json_object_get(a, "level")));
  put_row(b, "applicant", pAround, AROUND_APPLICANT, AROUND_UNIT - AROUND_APPLICANT);
  put_row(b, "unit", pAround, AROUND_UNIT, AROUND_DEPT - AROUND_UNIT);
  put_row(b, "dept", pAround, AROUND_DEPT, AROUND_END - AROUND_DEPT);
  json_t *c = committee_json(p, jstr(a, "committee_id"));
  put_bool(b, "directed", (int)json_integer_value(json_object_get(a, "directed")));
  put_int(b, "submit_count", json_integer_value(json_object_get(a, "submit_count")));
  put_int(b, "submit_limit", json_integer_value(json_object_get(c, "submit_limit")));
  json_t *w = committee_window(p, jstr(a, "committee_id"), jstr(a, "specialty"));
  put_value(b, "window", w);
  json_decref(w);
  put_value(b, "committee", c);
  json_decref(c);
  put_int(b, "round", json_integer_value(json_object_get(a, "round")));
  put_value(b, "recommendation", json_object_get(a, "recommendation"));
  put_bool(b, "editable", acc == ACCESS_OWNER && app_editable(zStatus));
  put_bool(b, "withdrawable", acc == ACCESS_OWNER && strcmp(zStatus, "unit_review") == 0 &&
                                  !json_integer_value(json_object_get(a, "unit_acted")));
  put_key(b, "opinions");
  put_list(b, &pLists->opinions);
  sqlite3_reset(pAround);
  if (put_history(p->db, b, zId, acc == ACCESS_OWNER)) return -1;
  json_t *aActions = workflow_actions(r, a, acc);
  put_value(b, "actions", aActions);
  json_decref(aActions);
  put_time(b, "created", json_object_get(a, "created"));
  put_time(b, "updated", json_object_get(a, "updated"));
  put_time(b, "submitted", json_object_get(a, "submitted"));
  return 0;
}

int app_answer(zc_req *r, const char *zId) {
  app_access acc;
  json_t *a = app_load(r, zId, &acc);
  return a ? app_answer_row(r, a, acc) : 0;
}

/* The answer for application row a (stolen) as the caller with access acc sees it. */
static int app_answer_row(zc_req *r, json_t *a, app_access acc) {
  app_lists l;
  zc_buf *b = &r->out;
  int rc = lists_load(r->node, a, acc, &l);
  b->n = 0;
  buf_reserve(b, 16384); /* an application's answer is about 8-12 KiB */
  if (rc == 0) rc = app_head(r, a, acc, &l, b);
  if (rc == 0) {
    buf_append(b, ",\"sections\":", 12);
    rc = sections_text(r->node, jstr(a, "id"), &l, b);
  }
  buf_append(b, "}", 1);
  lists_free(&l);
  json_decref(a);
  return rc ? -1 : http_json_text(r, 200);
}

int applications_get(zc_req *r) { return app_answer(r, r->aParam[0]); }

/* ---- creating (新增申请书) ---- */

/* Check qualification + specialty and find the committee by jurisdiction for a unit at
 * zUnitNode. Answers the refusal and returns NULL when there is none. */
static json_t *route_choice(zc_req *r, const char *zQual, const char *zSp, const char *zUnitNode, char zSeries[16]) {
  char *zWhy = NULL;
  int level = refdata_qualification(r->node, zQual, zSeries);
  if (!level) return http_field_error(r, 400, "invalid_field", "qualification", "资格名称不存在"), NULL;
  if (!db_int(r->node->db, 0, "SELECT 1 FROM specialties WHERE code = ? AND series = ?", "tt", zSp, zSeries))
    return http_field_error(r, 400, "invalid_field", "specialty", "专业不属于所选资格的系列"), NULL;
  json_t *c = committee_for(r->node, zUnitNode, zQual, zSp, &zWhy);
  if (!c) {
    http_error(r, 409, "wrong_jurisdiction", "%s", zWhy);
    free(zWhy);
  }
  return c;
}

/* A new application's 基本信息 from what the account already says: name and phone, and,
 * where this node holds the ID number (the account's home), gender and birth date from
 * it (GB 11643: digits 7-14 the birth date, the 17th odd for men). All stay editable. */
static int basic_insert(zc_node *p, const char *zApp, const char *zAccount, sqlite3_int64 now) {
  json_t *a = db_row(p->db, "SELECT name, phone FROM accounts WHERE id = ?", "t", zAccount);
  json_t *d = json_object();
  if (jstr(a, "name")) json_object_set_new(d, "name", json_string(jstr(a, "name")));
  char *zIdNumber = account_home_id_number(p, zAccount);
  if (zIdNumber && strlen(zIdNumber) == 18) { /* in the fields' order (sections.c) */
    char zBirth[11];
    snprintf(zBirth, sizeof zBirth, "%.4s-%.2s-%.2s", zIdNumber + 6, zIdNumber + 10, zIdNumber + 12);
    json_object_set_new(d, "gender", json_string((zIdNumber[16] - '0') % 2 ? "男" : "女"));
    json_object_set_new(d, "birth_date", json_string(zBirth));
  }
  if (jstr(a, "phone") && *jstr(a, "phone")) json_object_set_new(d, "phone", json_string(jstr(a, "phone")));
  if (zIdNumber) {
    memset(zIdNumber, 0, strlen(zIdNumber));
    free(zIdNumber);
  }
  char *zData = json_dumps(d, JSON_COMPACT);
  int rc = !zData || db_exec(p->db, "INSERT INTO application_sections(application_id, section, data_json, updated)"
                             " VALUES(?, 'basic', ?, ?)", "ttI", zApp, zData, now);
  free(zData);
  json_decref(d);
  json_decref(a);
  return rc ? -1 : 0;
}

int applications_create(zc_req *r) {
  long long year;
  char zCode[19], zId[40], zSeries[16];
  const char *zQual, *zSp, *zUnitIn, *zErr;
  if (json_int_field(r, "year", "申报年度", 1, &year)) return 0;
  char zToday[11];
  committee_today(r->node, zToday);
  int thisYear = atoi(zToday);
  if (year < thisYear || year > thisYear + 1)
    return http_field_error(r, 400, "invalid_field", "year", "申报年度只能是今年或明年");
  if (!(zQual = json_str_field(r, "qualification", "资格名称", 1))) return 0;
  if (!(zSp = json_str_field(r, "specialty", "专业", 1))) return 0;
  if (!(zUnitIn = json_str_field(r, "unit", "工作单位（统一社会信用代码）", 1))) return 0;
  if ((zErr = validate_credit_code(zUnitIn, zCode))) return http_field_error(r, 400, "invalid_credit_code", "unit", zErr);
  json_t *u = db_row(r->node->db, "SELECT id, node FROM units WHERE credit_code = ?", "t", zCode);
  if (!u) return http_field_error(r, 404, "unit_not_found", "unit", "未找到该单位，请确认统一社会信用代码或让单位先完成注册");
  int rc = 0;
  json_t *c = route_choice(r, zQual, zSp, jstr(u, "node"), zSeries);
  const char *zWant = json_str_field(r, "committee", "评审委员会", 0);
  if (!c || r->status) goto done;
  if (zWant && *zWant && strcmp(zWant, jstr(c, "id")) != 0) {
    rc = http_error(r, 409, "wrong_jurisdiction", "按属地化原则，该申报应由“%s”评审", jstr(c, "name"));
    goto done;
  }
  if (db_int(r->node->db, 0, "SELECT 1 FROM applications WHERE applicant_id = ? AND year = ? AND status <> 'failed'",
             "tI", r->pSess->zAccount, (sqlite3_int64)year)) {
    rc = http_error(r, 409, "application_exists", "您%lld年度已有一份申请书，每人每年只能申报一份", year);
    goto done;
  }
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  if (account_new_id(zId, 'p') ||
      db_exec(r->node->db, "INSERT INTO applications(id, applicant_id, year, series, specialty, qualification, level,"
              " unit_id, unit_node, committee_id, committee_node, directed, status, created, updated, holder)"
              " SELECT ?, ?, ?, q.series, ?, q.code, q.level, ?, ?, ?, ?, ?, 'draft', ?, ?, ? FROM qualifications q"
              " WHERE q.code = ?", "ttItttttiIItt", zId, r->pSess->zAccount, (sqlite3_int64)year, zSp, jstr(u, "id"),
              jstr(u, "node"), jstr(c, "id"), jstr(c, "node"), json_is_true(json_object_get(c, "directed")), now, now,
              r->node->cfg.zNode, zQual) ||
      basic_insert(r->node, zId, r->pSess->zAccount, now) ||
      app_history(r, zId, "create", NULL, "draft", json_pack("{s:s, s:s, s:s, s:s}", "qualification", zQual, "specialty",
                                                               zSp, "committee", jstr(c, "id"), "unit_node",
                                                               jstr(u, "node")))) {
    rc = -1;
    goto done;
  }
  rc = app_answer(r, zId);
  r->status = 201;
done:
  json_decref(u);
  json_decref(c);
  return rc;
}

/* ---- lists (我的申请书, 申请书审核, 申请书查询) ---- */

#define LIST_COLUMNS                                                                                    \
  "SELECT a.id, a.year, a.status, a.returned_by, a.submit_count, a.updated, x.name AS applicant_name,"   \
  " x.id_masked AS applicant_id_masked, q.name AS qualification_name, q.name_ug AS qualification_name_ug,"  \
  " q.level, sp.name AS specialty_name, sp.name_ug AS specialty_name_ug, u.name AS unit_name,"             \
  " c.name AS committee_name, c.name_ug AS committee_name_ug, c.submit_limit FROM applications a"          \
  " JOIN accounts x ON x.id = a.applicant_id JOIN qualifications q ON q.code = a.qualification"          \
  " JOIN specialties sp ON sp.code = a.specialty JOIN units u ON u.id = a.unit_id"                       \
  " JOIN committees c ON c.id = a.committee_id "

int applications_list(zc_req *r) {
  char zView[8] = "all", zStatus[24] = "";
  zc_session *s = r->pSess;
  json_t *a = NULL;
  http_query(r, "view", zView, sizeof zView);
  http_query(r, "status", zStatus, sizeof zStatus);
  int bQueue = strcmp(zView, "queue") == 0;
  if (!bQueue && strcmp(zView, "all") != 0) return http_field_error(r, 400, "invalid_field", "view", "view只能是queue或all");
  sqlite3 *db = r->node->db;
  switch (s->role) {
    case ROLE_APPLICANT:
      a = db_rows(db, LIST_COLUMNS "WHERE a.applicant_id = ? ORDER BY a.year DESC, a.created DESC", "t", s->zAccount);
      break;
    case ROLE_UNIT_ADMIN:
      a = bQueue ? db_rows(db, LIST_COLUMNS "WHERE a.unit_id = ? AND a.status = 'unit_review' ORDER BY a.submitted", "t", s->zUnit)
                 : db_rows(db, LIST_COLUMNS "JOIN application_access g ON g.application_id = a.id AND g.kind = 'unit'"
                           " AND g.ref = ? WHERE ?2 = '' OR a.status = ?2 ORDER BY a.updated DESC", "tt", s->zUnit, zStatus);
      break;
    case ROLE_DEPT_ADMIN:
      a = bQueue ? db_rows(db, LIST_COLUMNS "WHERE a.dept_id = ? AND a.status = 'dept_review' ORDER BY a.updated", "t", s->zDept)
                 : db_rows(db, LIST_COLUMNS "JOIN application_access g ON g.application_id = a.id AND g.kind = 'dept'"
                           " AND g.ref = ? WHERE ?2 = '' OR a.status = ?2 ORDER BY a.updated DESC", "tt", s->zDept, zStatus);
      break;
    case ROLE_COMMITTEE_ADMIN:
      a = bQueue ? db_rows(db, LIST_COLUMNS "WHERE a.committee_id = ? AND a.status IN ('committee_review', 'formal_passed',"
                           " 'meeting') ORDER BY a.updated", "t", s->zCommittee)
                 : db_rows(db, LIST_COLUMNS "JOIN application_access g ON g.application_id = a.id AND g.kind = 'committee'"
                           " AND g.ref = ? WHERE ?2 = '' OR a.status = ?2 ORDER BY a.updated DESC", "tt", s->zCommittee, zStatus);
      break;
    default:
      a = db_rows(db, LIST_COLUMNS "WHERE a.submit_count > 0 AND (?1 = '' OR a.status = ?1) ORDER BY a.updated DESC"
                  " LIMIT 500", "t", zStatus);
  }
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    json_object_set_new(v, "status_name", json_string(app_status_label(jstr(v, "status"))));
    json_set_time(v, "updated");
  }
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

int applications_delete(zc_req *r) {
  json_t *a = load_editable(r, r->aParam[0]);
  if (!a) return 0;
  int rc;
  if (json_integer_value(json_object_get(a, "submit_count")) > 0)
    rc = http_error(r, 409, "not_deletable", "已提交过的申请书不能删除");
  else if (db_exec(r->node->db, "DELETE FROM applications WHERE id = ? AND revision = ? AND holder = ?", "tIt",
                   r->aParam[0], (sqlite3_int64)json_integer_value(json_object_get(a, "revision")), r->node->cfg.zNode))
    rc = -1;
  else if (sqlite3_changes(r->node->db) != 1)
    rc = app_refuse_stale(r, a);
  else if (outbox_record(r->node, "application.deleted",
                         json_pack("{s:s, s:s}", "application", r->aParam[0], "applicant", r->pSess->zAccount), NULL))
    rc = -1;
  else
    rc = http_json(r, 200, json_pack("{s:b}", "ok", 1));
  json_decref(a);
  return rc;
}

/* ---- sections (编辑申请书 → 保存) ---- */

int applications_save_section(zc_req *r) {
  const section_def *s = section_find(r->aParam[1]);
  const char *zField = NULL, *zErr;
  json_t *pClean = NULL;
  if (!s) return http_error(r, 404, "not_found", "申请书没有该栏目");
  json_t *pData = json_object_get(r->pJson, "data");
  json_t *a = load_editable(r, r->aParam[0]);
  if (!a) return 0;
  if (!pData) {
    json_decref(a);
    return http_field_error(r, 400, "missing_field", "data", "请提交栏目内容（data）");
  }
  if ((zErr = section_check(s, pData, &pClean, &zField))) {
    json_decref(a);
    return http_field_error(r, 400, "invalid_field", zField, zErr);
  }
  /* merged into what was saved (a form may send only the fields it shows) by sqlite's
   * json_patch: the clean values are strings and numbers, never null or objects, so the
   * merge replaces or adds top-level fields, in place or at the end, as the form sent them */
  zc_buf new = {0};
  buf_json(&new, pClean);
  json_decref(pClean);
  const char *zNew = new.z;
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  int rc = !zNew ||
           db_exec(r->node->db, "INSERT INTO application_sections(application_id, section, data_json, updated)"
                   " VALUES(?,?,?,?) ON CONFLICT(application_id, section) DO UPDATE SET"
                   " data_json = json_patch(data_json, excluded.data_json), updated = excluded.updated",
                   "tttI", r->aParam[0], s->zName, zNew, now) ||
           section_missing_store(r->node->db, r->aParam[0], s->zName) ||
           app_claim(r, a);
  buf_free(&new);
  if (rc) {
    json_decref(a);
    return r->status ? 0 : -1;
  }
  /* the row loaded above is the application now, but for the time it was updated and its
   * revision (app_claim) */
  json_object_set_new(a, "updated", json_integer(now));
  json_object_set_new(a, "revision", json_integer(json_integer_value(json_object_get(a, "revision")) + 1));
  return app_answer_row(r, a, ACCESS_OWNER);
}

/* ---- attachments ---- */

#define MAX_ATTACHMENTS_PER_SECTION 20
/* Storage quotas (README): an application's attachments, and everything an account has
 * uploaded (ID-card scans and the attachments of all its applications). */
#define APPLICATION_QUOTA (8 * (sqlite3_int64)BLOB_MAX) /* 16 MiB */
#define ACCOUNT_QUOTA (16 * (sqlite3_int64)BLOB_MAX)    /* 32 MiB */

/* 413 quota_exceeded when n more bytes would not fit the application's or its
 * applicant's quota; 0 when they fit. */
static int refuse_over_quota(zc_req *r, const char *zApp, size_t n) {
  sqlite3_int64 nApp =
      db_int(r->node->db, 0, "SELECT total(size) FROM application_attachments WHERE application_id = ?", "t", zApp);
  sqlite3_int64 nAccount =
      db_int(r->node->db, 0,
             "SELECT (SELECT total(size) FROM idcards WHERE account_id = ?1) + (SELECT total(t.size) FROM"
             " application_attachments t JOIN applications a ON a.id = t.application_id WHERE a.applicant_id = ?1)",
             "t", r->pSess->zAccount);
  int bApp = nApp + (sqlite3_int64)n > APPLICATION_QUOTA;
  if (!bApp && nAccount + (sqlite3_int64)n <= ACCOUNT_QUOTA) return 0;
  sqlite3_int64 nUsed = bApp ? nApp : nAccount, nQuota = bApp ? APPLICATION_QUOTA : ACCOUNT_QUOTA;
  http_error_extra(r, 413, "quota_exceeded", json_pack("{s:I, s:I}", "used", nUsed, "quota", nQuota),
                   "%s不能超过%lld MiB（已用%.1f MiB），请删除不需要的附件后再上传",
                   bApp ? "每份申请书的附件合计" : "每个账号上传的文件（身份证扫描件和所有申请书的附件）合计",
                   (long long)(nQuota / (1024 * 1024)), (double)nUsed / (1024 * 1024));
  return 1;
}

int applications_attach(zc_req *r) {
  char zSection[32] = "", zName[512] = "", zSha[65], zId[40];
  const char *zErr;
  if (http_query(r, "section", zSection, sizeof zSection) || !section_find(zSection))
    return http_field_error(r, 400, "invalid_field", "section", "请指定附件所属的栏目");
  int rcName = http_query(r, "name", zName, sizeof zName);
  if (rcName == HTTP_TOO_LONG) return http_field_error(r, 400, "invalid_field", "name", "附件名称过长（最多100个字）");
  if (rcName || !zName[0]) snprintf(zName, sizeof zName, "附件");
  if ((zErr = validate_text(zName, 100, 0))) return http_field_error(r, 400, "invalid_field", "name", zErr);
  json_t *a = load_editable(r, r->aParam[0]);
  if (!a) return 0;
  int rcClaim = app_claim(r, a);
  json_decref(a);
  if (rcClaim) return rcClaim > 0 ? 0 : -1;
  if (r->body.n == 0) return http_error(r, 400, "empty_file", "请选择要上传的文件");
  const char *zType = blob_sniff(r->body.z, r->body.n);
  if (!zType) return http_error(r, 415, "unsupported_type", "附件只能是JPEG、PNG或PDF格式（按文件内容识别）");
  if (db_int(r->node->db, 0, "SELECT count(*) FROM application_attachments WHERE application_id = ? AND section = ?",
             "tt", r->aParam[0], zSection) >= MAX_ATTACHMENTS_PER_SECTION)
    return http_error(r, 409, "too_many_attachments", "每个栏目最多上传%d个附件", MAX_ATTACHMENTS_PER_SECTION);
  if (refuse_over_quota(r, r->aParam[0], r->body.n)) return 0;
  if (blob_store(r->node->cfg.zData, r->body.z, r->body.n, zSha) || account_new_id(zId, 'f')) return -1;
  if (db_exec(r->node->db, "INSERT INTO application_attachments(id, application_id, section, name, sha256, type, size,"
              " uploaded) VALUES(?,?,?,?,?,?,?,?)", "ttttttII", zId, r->aParam[0], zSection, zName, zSha, zType,
              (sqlite3_int64)r->body.n, (sqlite3_int64)node_now(r->node)))
    return -1;
  return http_json(r, 201, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", zId, "section", zSection, "name", zName,
                                     "sha256", zSha, "size", (json_int_t)r->body.n, "type", zType));
}

int applications_attachment_get(zc_req *r) {
  app_access acc;
  char zPath[700];
  json_t *a = app_load(r, r->aParam[0], &acc);
  if (!a) return 0;
  json_decref(a);
  json_t *f = db_row(r->node->db,
                     "SELECT sha256, type, name FROM application_attachments WHERE id = ?"
                     " AND application_id = ?",
                     "tt", r->aParam[1], r->aParam[0]);
  if (!f || blob_path(r->node->cfg.zData, jstr(f, "sha256"), zPath, sizeof zPath)) {
    json_decref(f);
    return http_error(r, 404, "not_found", "附件不存在");
  }
  http_file(r, zPath, jstr(f, "type"));
  http_download_name(r, jstr(f, "name"), r->aParam[1], jstr(f, "type"));
  json_decref(f);
  return 0;
}

int applications_attachment_delete(zc_req *r) {
  json_t *a = load_editable(r, r->aParam[0]);
  if (!a) return 0;
  int rcClaim = app_claim(r, a);
  json_decref(a);
  if (rcClaim) return rcClaim > 0 ? 0 : -1;
  if (!db_int(r->node->db, 0, "SELECT 1 FROM application_attachments WHERE id = ? AND application_id = ?", "tt",
              r->aParam[1], r->aParam[0]))
    return http_error(r, 404, "not_found", "附件不存在");
  if (db_exec(r->node->db, "DELETE FROM application_attachments WHERE id = ?", "t", r->aParam[1])) return -1;
  return app_answer(r, r->aParam[0]);
}

/* ---- 更改资格 ---- */

int applications_qualification(zc_req *r) {
  char zSeries[16];
  const char *zQual = json_str_field(r, "qualification", "资格名称", 1), *zSp;
  if (!zQual) return 0;
  if (!(zSp = json_str_field(r, "specialty", "专业", 1))) return 0;
  json_t *a = load_editable(r, r->aParam[0]);
  if (!a) return 0;
  int rc = 0;
  json_t *c = route_choice(r, zQual, zSp, jstr(a, "unit_node"), zSeries);
  if (!c) goto done;
  if (strcmp(zQual, jstr(a, "qualification")) == 0 && strcmp(zSp, jstr(a, "specialty")) == 0) {
    rc = http_field_error(r, 400, "invalid_field", "qualification", "资格名称和专业均未改变");
    goto done;
  }
  json_t *pDetail = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s}", "from", "qualification",
                              jstr(a, "qualification"), "specialty", jstr(a, "specialty"), "committee",
                              jstr(a, "committee_id"), "to", "qualification", zQual, "specialty", zSp, "committee",
                              jstr(c, "id"), "unit_node", jstr(a, "unit_node"));
  if (app_claim(r, a)) rc = r->status ? 0 : -1;
  else if (db_exec(r->node->db, "UPDATE applications SET (series, qualification, level) = (SELECT series, code, level FROM"
              " qualifications WHERE code = ?), specialty = ?, committee_id = ?, committee_node = ?, directed = ?,"
              " updated = ? WHERE id = ?", "ttttiIt", zQual, zSp, jstr(c, "id"), jstr(c, "node"),
              json_is_true(json_object_get(c, "directed")), (sqlite3_int64)node_now(r->node), r->aParam[0]) ||
      app_history(r, r->aParam[0], "change_qualification", jstr(a, "status"), jstr(a, "status"),
                  json_incref(pDetail)))
    rc = -1;
  else
    rc = app_answer(r, r->aParam[0]);
  json_decref(pDetail);
done:
  json_decref(c);
  json_decref(a);
  return rc;
}
