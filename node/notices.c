/* notices.c - notices (通知公告, notices.h): drafts at the publishing node, published to
 * every node by notice.published, withdrawn by notice.withdrawn. Who may write one: the
 * node admin (for the node, or for one of its committees) and a committee's admin (for
 * that committee); each sees and edits only the drafts they could have written. */
#include "notices.h"

#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "blob.h"
#include "committees.h"
#include "db.h"
#include "fed_error.h"
#include "outbox.h"
#include "rfc3339.h"
#include "router.h"
#include "trust.h"
#include "validate.h"

#define NOTICE_ATTACHMENTS_MAX 5
#define NOTICE_TITLE_MAX 100
#define NOTICE_BODY_MAX 10000

#define NOTICE_COLUMNS                                                                              \
  "SELECT n.id, n.node, n.committee_id AS committee, c.name AS committee_name, c.name_ug AS committee_name_ug, n.title, n.body,"     \
  " n.state, n.created, n.published FROM notices n LEFT JOIN committees c ON c.id = n.committee_id"

/* ---- who may write a notice ---- */

/* May the caller write notices for committee zCommittee (NULL: for the node itself)? */
static int may_write_for(zc_req *r, const char *zCommittee) {
  if (zCommittee) return committee_managed_by(r, zCommittee);
  return r->pSess && r->pSess->role == ROLE_NODE_ADMIN;
}

/* Notice zId as JSON when it exists and the caller may see it: published ones anyone,
 * drafts only those who may write them. Otherwise answers 404 and returns NULL. */
static json_t *notice_visible(zc_req *r, const char *zId) {
  json_t *o = db_row(r->node->db, NOTICE_COLUMNS " WHERE n.id = ? AND n.state <> 'withdrawn'", "t", zId);
  int bDraft = o && strcmp(jstr(o, "state"), "draft") == 0;
  if (o && (!bDraft || (strcmp(jstr(o, "node"), r->node->cfg.zNode) == 0 && may_write_for(r, jstr(o, "committee")))))
    return o;
  json_decref(o);
  http_error(r, 404, "not_found", "通知不存在或已撤回");
  return NULL;
}

/* The same for a draft the caller is to change: 409 once it is published. */
static json_t *draft_of(zc_req *r, const char *zId) {
  json_t *o = notice_visible(r, zId);
  if (o && strcmp(jstr(o, "state"), "draft") != 0) {
    json_decref(o);
    http_error(r, 409, "notice_published", "通知已发布，不能再修改；如需更正，请撤回后重新发布");
    return NULL;
  }
  if (o && !may_write_for(r, jstr(o, "committee"))) { /* a published one, seen but not ours */
    json_decref(o);
    http_error(r, 404, "not_found", "通知不存在或已撤回");
    return NULL;
  }
  return o;
}

/* ---- answers ---- */

/* The attachments of notice o, each with the URL that serves its bytes: at the
 * publishing node (this one's path, or another's portal). */
static json_t *attachments_json(zc_node *p, const json_t *o) {
  json_t *a = db_rows(p->db, "SELECT n, name, type, size, sha256 FROM notice_attachments WHERE notice_id = ? ORDER BY n",
                      "t", jstr(o, "id"));
  const char *zBase = strcmp(jstr(o, "node"), p->cfg.zNode) == 0 ? "" : node_url(p, jstr(o, "node"));
  size_t i;
  json_t *f;
  json_array_foreach(a, i, f) {
    char zUrl[512];
    snprintf(zUrl, sizeof zUrl, "%s/api/v1/notices/%s/attachments/%lld", zBase, jstr(o, "id"),
             (long long)json_integer_value(json_object_get(f, "n")));
    json_object_set_new(f, "url", json_string(zUrl));
  }
  return a;
}

static void put_names(zc_node *p, json_t *o) {
  node_put_region_names(p, o, "node", "node_name");
  json_set_time(o, "created");
  json_set_time(o, "published");
}

static int notice_answer(zc_req *r, json_t *o, int status) {
  put_names(r->node, o);
  json_object_set_new(o, "attachments", attachments_json(r->node, o));
  return http_json(r, status, json_pack("{s:o}", "notice", o));
}

/* ---- drafts ---- */

int notices_create(zc_req *r) {
  const char *zCommittee = json_str_field(r, "committee", "评审委员会", 0);
  if (r->status) return 0;
  if (zCommittee && !*zCommittee) zCommittee = NULL;
  if (!zCommittee && r->pSess->role == ROLE_COMMITTEE_ADMIN) zCommittee = r->pSess->zCommittee;
  if (!may_write_for(r, zCommittee)) return http_error(r, 404, "not_found", "评审委员会不存在或不归您管理");
  const char *zTitle = json_text_capped(r, "title", "通知标题", NOTICE_TITLE_MAX, 0, 1);
  const char *zBody = zTitle ? json_text_capped(r, "body", "通知正文", NOTICE_BODY_MAX, 1, 1) : NULL;
  char zId[40];
  if (!zBody) return 0;
  if (account_new_id(zId, 'n') ||
      db_exec(r->node->db, "INSERT INTO notices(id, node, committee_id, title, body, state, created)"
              " VALUES(?,?,?,?,?,'draft',?)", "tttttI", zId, r->node->cfg.zNode, zCommittee, zTitle, zBody,
              (sqlite3_int64)node_now(r->node)))
    return -1;
  json_t *o = notice_visible(r, zId);
  return o ? notice_answer(r, o, 201) : -1;
}

int notices_update(zc_req *r) {
  json_t *o = draft_of(r, r->aParam[0]);
  if (!o) return 0;
  json_decref(o);
  const char *zTitle = json_text_capped(r, "title", "通知标题", NOTICE_TITLE_MAX, 0, 0);
  const char *zBody = r->status ? NULL : json_text_capped(r, "body", "通知正文", NOTICE_BODY_MAX, 1, 0);
  if (r->status) return 0;
  if (zTitle && !*zTitle) return http_field_error(r, 400, "missing_field", "title", "请填写通知标题");
  if (zBody && !*zBody) return http_field_error(r, 400, "missing_field", "body", "请填写通知正文");
  if (db_exec(r->node->db, "UPDATE notices SET title = coalesce(?, title), body = coalesce(?, body) WHERE id = ?",
              "ttt", zTitle, zBody, r->aParam[0]))
    return -1;
  o = notice_visible(r, r->aParam[0]);
  return o ? notice_answer(r, o, 200) : -1;
}

int notices_attach(zc_req *r) {
  char zName[512] = "", zSha[65];
  json_t *o = draft_of(r, r->aParam[0]);
  if (!o) return 0;
  json_decref(o);
  int rcName = http_query(r, "name", zName, sizeof zName);
  const char *zErr = rcName == HTTP_TOO_LONG ? "附件名称过长（最多100个字）" : NULL;
  if (!zErr && (rcName || !zName[0])) snprintf(zName, sizeof zName, "附件");
  if (zErr || (zErr = validate_text(zName, 100, 0))) return http_field_error(r, 400, "invalid_field", "name", zErr);
  if (r->body.n == 0) return http_error(r, 400, "empty_file", "请选择要上传的文件");
  const char *zType = blob_sniff(r->body.z, r->body.n);
  if (!zType) return http_error(r, 415, "unsupported_type", "附件只能是JPEG、PNG或PDF格式（按文件内容识别）");
  sqlite3_int64 n = db_int(r->node->db, 0, "SELECT count(*) FROM notice_attachments WHERE notice_id = ?", "t", r->aParam[0]);
  if (n >= NOTICE_ATTACHMENTS_MAX)
    return http_error(r, 409, "too_many_attachments", "每条通知最多上传%d个附件", NOTICE_ATTACHMENTS_MAX);
  if (blob_store(r->node->cfg.zData, r->body.z, r->body.n, zSha) ||
      db_exec(r->node->db, "INSERT INTO notice_attachments(notice_id, n, name, type, size, sha256) VALUES(?,"
              " (SELECT coalesce(max(n), 0) + 1 FROM notice_attachments WHERE notice_id = ?1), ?,?,?,?)", "tttIt",
              r->aParam[0], zName, zType, (sqlite3_int64)r->body.n, zSha))
    return -1;
  o = notice_visible(r, r->aParam[0]);
  return o ? notice_answer(r, o, 201) : -1;
}

int notices_attachment_delete(zc_req *r) {
  json_t *o = draft_of(r, r->aParam[0]);
  if (!o) return 0;
  json_decref(o);
  if (db_exec(r->node->db, "DELETE FROM notice_attachments WHERE notice_id = ? AND n = ?", "tt", r->aParam[0],
              r->aParam[1]))
    return -1;
  if (sqlite3_changes(r->node->db) == 0) return http_error(r, 404, "not_found", "附件不存在");
  o = notice_visible(r, r->aParam[0]);
  return o ? notice_answer(r, o, 200) : -1;
}

/* ---- publishing and withdrawing: the entries every node applies ---- */

int notices_publish(zc_req *r) {
  json_t *o = draft_of(r, r->aParam[0]);
  if (!o) return 0;
  json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:o}", "notice", jstr(o, "id"), "node", r->node->cfg.zNode, "title",
                        jstr(o, "title"), "body", jstr(o, "body"), "attachments",
                        db_rows(r->node->db, "SELECT n, name, type, size, sha256 FROM notice_attachments"
                                " WHERE notice_id = ? ORDER BY n", "t", jstr(o, "id")));
  if (jstr(o, "committee")) json_object_set_new(b, "committee", json_string(jstr(o, "committee")));
  json_decref(o);
  if (db_exec(r->node->db, "UPDATE notices SET state = 'published', published = ? WHERE id = ?", "It",
              (sqlite3_int64)node_now(r->node), r->aParam[0]) ||
      outbox_record(r->node, "notice.published", b, NULL))
    return -1;
  o = notice_visible(r, r->aParam[0]);
  return o ? notice_answer(r, o, 200) : -1;
}

int notices_delete(zc_req *r) {
  json_t *o = notice_visible(r, r->aParam[0]);
  if (!o) return 0;
  int bMine = strcmp(jstr(o, "node"), r->node->cfg.zNode) == 0 && may_write_for(r, jstr(o, "committee"));
  int bDraft = strcmp(jstr(o, "state"), "draft") == 0;
  json_decref(o);
  if (!bMine) return http_error(r, 404, "not_found", "通知不存在或不归您管理");
  if (bDraft) {
    if (db_exec(r->node->db, "DELETE FROM notices WHERE id = ?", "t", r->aParam[0])) return -1;
    return http_json(r, 200, json_pack("{s:s, s:s}", "id", r->aParam[0], "state", "deleted"));
  }
  if (db_exec(r->node->db, "UPDATE notices SET state = 'withdrawn' WHERE id = ?", "t", r->aParam[0]) ||
      outbox_record(r->node, "notice.withdrawn", json_pack("{s:s, s:s}", "notice", r->aParam[0], "node",
                                                           r->node->cfg.zNode), NULL))
    return -1;
  return http_json(r, 200, json_pack("{s:s, s:s}", "id", r->aParam[0], "state", "withdrawn"));
}

static int published_store(zc_node *p, const fed_entry_view *e) {
  const json_t *b = e->pBody, *a = json_object_get(b, "attachments"), *f;
  const char *zId = jstr(b, "notice");
  time_t t = 0;
  size_t i;
  if (!zId || !jstr(b, "title") || !jstr(b, "body") || !json_is_array(a))
    return fed_error_set(FED_EINVALID, "notice.published without notice, title, body or attachments");
  fed_rfc3339_parse(&t, e->zTs);
  if (db_exec(p->db, "INSERT OR IGNORE INTO notices(id, node, committee_id, title, body, state, created, published)"
              " VALUES(?,?,?,?,?,'published',?6,?6)", "tttttI", zId, e->zOrigin, jstr(b, "committee"), jstr(b, "title"),
              jstr(b, "body"), (sqlite3_int64)t))
    return FED_ERROR;
  json_array_foreach(a, i, f) {
    if (!json_is_integer(json_object_get(f, "n")) || !jstr(f, "name") || !jstr(f, "type") || !jstr(f, "sha256"))
      return fed_error_set(FED_EINVALID, "notice.published with an attachment lacking n, name, type or sha256");
    if (db_exec(p->db, "INSERT OR IGNORE INTO notice_attachments(notice_id, n, name, type, size, sha256)"
                " VALUES(?,?,?,?,?,?)", "tIttIt", zId, (sqlite3_int64)json_integer_value(json_object_get(f, "n")),
                jstr(f, "name"), jstr(f, "type"), (sqlite3_int64)json_integer_value(json_object_get(f, "size")),
                jstr(f, "sha256")))
      return FED_ERROR;
  }
  return FED_OK;
}

int notices_apply(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const char *zNode = jstr(e->pBody, "node");
  if (!zNode || strcmp(zNode, e->zOrigin) != 0) /* a node publishes only its own */
    return fed_error_set(FED_EINVALID, "%s for another node than its origin", e->zType);
  if (strcmp(e->zType, "notice.published") == 0) return published_store(p, e);
  if (!jstr(e->pBody, "notice")) return fed_error_set(FED_EINVALID, "notice.withdrawn without notice");
  return db_exec(p->db, "UPDATE notices SET state = 'withdrawn' WHERE id = ? AND node = ?", "tt",
                 jstr(e->pBody, "notice"), e->zOrigin)
             ? FED_ERROR
             : FED_OK;
}

/* ---- reading ---- */

/* With ?3 an applicant's account: the notices their home page shows, those of the
 * committees of their applications and the node's and the region's own. */
#define FOR_ME_SQL                                                                                     \
  " AND (?3 = '' OR n.committee_id IN (SELECT committee_id FROM applications WHERE applicant_id = ?3)"  \
  " OR (n.committee_id IS NULL AND n.node IN (?4, '" ZC_REGION_NODE "')))"

#define PUBLISHED_SQL \
  NOTICE_COLUMNS " WHERE n.state = 'published' AND (?1 = '' OR n.committee_id = ?1) AND (?2 = '' OR n.node = ?2)"
#define LIST_ORDER " ORDER BY n.published DESC, n.id LIMIT 200"

int notices_list(zc_req *r) {
  char zCommittee[48] = "", zNode[16] = "", zFor[8] = "", zDrafts[4] = "";
  if (http_query(r, "committee", zCommittee, sizeof zCommittee) == HTTP_TOO_LONG ||
      http_query(r, "node", zNode, sizeof zNode) == HTTP_TOO_LONG ||
      http_query(r, "for", zFor, sizeof zFor) == HTTP_TOO_LONG || http_query(r, "drafts", zDrafts, sizeof zDrafts) == HTTP_TOO_LONG)
    return http_error(r, 400, "invalid_query", "查询条件过长");
  int bForMe = strcmp(zFor, "me") == 0, bDrafts = strcmp(zDrafts, "1") == 0;
  if ((zFor[0] && !bForMe) || (zDrafts[0] && !bDrafts)) return http_error(r, 400, "invalid_query", "查询条件不正确");
  if (bForMe && !r->pSess) return http_error(r, 401, "unauthenticated", "请先登录");
  json_t *a;
  if (bDrafts) { /* the caller's own drafts: what they may write at this node */
    unsigned role = r->pSess ? r->pSess->role : 0;
    if (role != ROLE_NODE_ADMIN && role != ROLE_COMMITTEE_ADMIN)
      return http_error(r, 403, "forbidden", "只有节点管理员和评审委员会管理员可以查看通知草稿");
    a = db_rows(r->node->db, NOTICE_COLUMNS " WHERE n.state = 'draft' AND n.node = ?1 AND (?2 = '' OR n.committee_id = ?2)"
                " ORDER BY n.created DESC LIMIT 200", "tt", r->node->cfg.zNode,
                role == ROLE_COMMITTEE_ADMIN ? r->pSess->zCommittee : "");
  } else {
    a = db_rows(r->node->db, PUBLISHED_SQL FOR_ME_SQL LIST_ORDER, "tttt", zCommittee,
                zNode, bForMe ? r->pSess->zAccount : "", r->node->cfg.zNode);
  }
  size_t i;
  json_t *o;
  if (!a) return -1;
  json_array_foreach(a, i, o) {
    put_names(r->node, o);
    json_object_set_new(o, "attachments", attachments_json(r->node, o));
    json_object_del(o, "body"); /* a list shows titles; the detail has the text */
  }
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

int notices_get(zc_req *r) {
  json_t *o = notice_visible(r, r->aParam[0]);
  return o ? notice_answer(r, o, 200) : 0;
}

int notices_attachment_get(zc_req *r) {
  json_t *o = notice_visible(r, r->aParam[0]);
  if (!o) return 0;
  json_t *f = db_row(r->node->db, "SELECT n, name, type, sha256 FROM notice_attachments WHERE notice_id = ? AND n = ?",
                     "tt", r->aParam[0], r->aParam[1]);
  int bHere = strcmp(jstr(o, "node"), r->node->cfg.zNode) == 0;
  char zPath[700];
  if (f && !bHere && *node_url(r->node, jstr(o, "node"))) { /* the bytes are at the publishing node */
    http_header(r, "Location", "%s/api/v1/notices/%s/attachments/%s", node_url(r->node, jstr(o, "node")),
                r->aParam[0], r->aParam[1]);
    json_decref(o);
    json_decref(f);
    return http_error(r, 302, "elsewhere", "附件保存在发布通知的节点");
  }
  json_decref(o);
  if (!f || blob_path(r->node->cfg.zData, jstr(f, "sha256"), zPath, sizeof zPath)) {
    json_decref(f);
    return http_error(r, 404, "not_found", "附件不存在");
  }
  http_file(r, zPath, jstr(f, "type"));
  http_download_name(r, jstr(f, "name"), "notice-attachment", jstr(f, "type"));
  json_decref(f);
  return 0;
}
