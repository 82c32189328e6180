/* workflow.c - the moves of an application between stages (workflow.h). */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applications.h"
#include "committees.h"
#include "db.h"
#include "forms.h"
#include "payments.h"
#include "handoff.h"
#include "live.h"
#include "outbox.h"
#include "router.h"
#include "sections.h"
#include "units.h"
#include "validate.h"


/* What a transition needs besides who and when. */
enum {
  T_RECOMMEND = 1, /* the unit's recommendation (单位推荐意见) is required */
  T_TO_DEPT = 2,   /* goes to one of the unit's recommending units */
  T_TO_COMMITTEE = 4,
  T_SUBMIT = 8,    /* completeness, window and submission limit are checked; counts */
  T_WITHDRAW = 16, /* only while the unit has not acted */
  T_DEPT_AWAY = 32, /* only while its dept is on another node, where nobody here can act */
  T_LISTED = 64,   /* made for a whole list at once (results.c), never by POST /review */
};

/* Every move an application can make. The first row matching (status, action, role) wins. */
static const struct transition {
  const char *zFrom, *zAction;
  unsigned role;
  const char *zTo, *zReturnedBy;
  unsigned flags;
  const char *zLabel;
} g_transitions[] = {
  {"draft", "submit", ROLE_APPLICANT, "unit_review", NULL, T_SUBMIT, "提交"},
  {"returned", "submit", ROLE_APPLICANT, "unit_review", NULL, T_SUBMIT, "重新提交"},
  {"unit_review", "withdraw", ROLE_APPLICANT, "draft", NULL, T_WITHDRAW, "收回"},
  {"unit_review", "return", ROLE_UNIT_ADMIN, "returned", "unit", 0, "退回"},
  {"unit_review", "forward", ROLE_UNIT_ADMIN, "dept_review", NULL, T_RECOMMEND | T_TO_DEPT, "提交推荐单位"},
  {"dept_review", "return", ROLE_DEPT_ADMIN, "returned", "dept", 0, "退回"},
  {"dept_review", "recall", ROLE_UNIT_ADMIN, "unit_review", NULL, T_DEPT_AWAY, "收回（推荐单位不在本节点）"},
  {"dept_review", "forward", ROLE_DEPT_ADMIN, "committee_review", NULL, T_TO_COMMITTEE, "报送评审委员会"},
  {"committee_review", "return", ROLE_COMMITTEE_ADMIN, "returned", "committee", 0, "退回"},
  {"committee_review", "forward", ROLE_COMMITTEE_ADMIN, "formal_passed", NULL, 0, "形式审查通过"},
  {"formal_passed", "meeting", ROLE_COMMITTEE_ADMIN, "meeting", NULL, 0, "提交会议评审"},
  {"meeting", "pass", ROLE_COMMITTEE_ADMIN, "passed", NULL, 0, "评审通过"},
  {"meeting", "fail", ROLE_COMMITTEE_ADMIN, "failed", NULL, 0, "评审未通过"},
  {"passed", "publicize", ROLE_COMMITTEE_ADMIN, "publicized", NULL, T_LISTED, "公示"},
  {"publicized", "approve", ROLE_NODE_ADMIN, "approved", NULL, T_LISTED, "批准（批文）"},
  {"approved", "certify", ROLE_NODE_ADMIN, "certified", NULL, T_LISTED, "颁发证书"},
};
#define N_TRANSITIONS (int)(sizeof g_transitions / sizeof g_transitions[0])

static const struct transition *transition_find(const char *zFrom, const char *zAction, unsigned role) {
  for (int i = 0; i < N_TRANSITIONS; i++)
    if (strcmp(g_transitions[i].zFrom, zFrom) == 0 && strcmp(g_transitions[i].zAction, zAction) == 0 &&
        g_transitions[i].role == role)
      return &g_transitions[i];
  return NULL;
}

/* An action a reviewer takes on one application (POST /review). */
static int action_known(const char *zAction) {
  for (int i = 0; i < N_TRANSITIONS; i++)
    if (strcmp(g_transitions[i].zAction, zAction) == 0 && !(g_transitions[i].flags & T_LISTED)) return 1;
  return 0;
}

const char *workflow_stage(const char *zStatus) {
  if (!zStatus) return NULL;
  if (strcmp(zStatus, "unit_review") == 0) return "unit";
  if (strcmp(zStatus, "dept_review") == 0) return "dept";
  if (strcmp(zStatus, "committee_review") == 0 || strcmp(zStatus, "formal_passed") == 0 ||
      strcmp(zStatus, "meeting") == 0)
    return "committee";
  return NULL;
}

/* Does application a wait, still held here, at a recommending unit of a node it cannot be
 * handed to (a forward made before hand-offs existed)? Nobody could move it; its unit may
 * recall it. */
static int dept_is_away(zc_req *r, json_t *a) {
  const char *zNode = jstr(a, "dept_node"), *zHolder = jstr(a, "holder");
  return strcmp(jstr(a, "status"), "dept_review") == 0 && zNode && strcmp(zNode, r->node->cfg.zNode) != 0 &&
         zHolder && strcmp(zHolder, r->node->cfg.zNode) == 0 && !handoff_reaches(r->node, zNode);
}

/* The unit admin of a's unit, while a is stuck at a dept of another node. */
static int may_recall(zc_req *r, json_t *a) {
  return r->pSess->role == ROLE_UNIT_ADMIN && strcmp(jstr(a, "unit_id"), r->pSess->zUnit) == 0 && dept_is_away(r, a);
}

static const char *stage_of_role(unsigned role) {
  return role == ROLE_UNIT_ADMIN ? "unit" : role == ROLE_DEPT_ADMIN ? "dept" : role == ROLE_COMMITTEE_ADMIN ? "committee" : NULL;
}

json_t *workflow_actions(zc_req *r, json_t *pApp, app_access acc) {
  json_t *a = json_array();
  unsigned role = r->pSess->role;
  const char *zStatus = jstr(pApp, "status");
  /* the caller acts only as the applicant (own) or as the current stage's reviewer */
  int bActs = acc == ACCESS_OWNER || acc == ACCESS_REVIEW || may_recall(r, pApp);
  for (int i = 0; bActs && i < N_TRANSITIONS; i++) {
    const struct transition *t = &g_transitions[i];
    if (strcmp(t->zFrom, zStatus) || t->role != role || (t->flags & T_LISTED)) continue;
    if ((t->flags & T_WITHDRAW) && json_integer_value(json_object_get(pApp, "unit_acted"))) continue;
    if ((t->flags & T_DEPT_AWAY) && !may_recall(r, pApp)) continue;
    json_array_append_new(a, json_pack("{s:s, s:s}", "action", t->zAction, "label", t->zLabel));
  }
  return a;
}

/* ---- checks before a move ---- */

/* The first section (in table order) with a required field not filled. */
typedef struct first_missing {
  int iSection; /* g_nSections when none */
  const section_field *pField;
} first_missing;

static int note_first_missing(int i, const char *zData, const section_field *pMissing, void *pArg) {
  first_missing *f = pArg;
  (void)zData;
  if (!pMissing) return 0;
  f->iSection = i;
  f->pField = pMissing;
  return 1; /* stop here */
}

/* Why the applicant cannot submit now (answered), or 0. */
static int refuse_submit(zc_req *r, json_t *a) {
  zc_node *p = r->node;
  const char *zId = jstr(a, "id");
  first_missing f = {g_nSections, NULL};
  if (section_saved_each(p->db, zId, note_first_missing, &f) < 0)
    return http_error(r, 500, "internal", "服务器内部错误，请稍后重试"), 1;
  for (int i = 0; i < g_nSections; i++) {
    const section_def *s = &g_sections[i];
    const section_field *pMissing = i == f.iSection ? f.pField : NULL;
    if (pMissing)
      return http_error_extra(r, 409, "incomplete",
                              json_pack("{s:s, s:s, s:s}", "section", s->zName, "field", pMissing->zName, "label",
                                        pMissing->zLabel),
                              "“%s”栏目的“%s”尚未填写", s->zTitle, pMissing->zLabel), 1;
    if (s->bAttachmentsRequired &&
        !db_int(p->db, 0, "SELECT 1 FROM application_attachments WHERE application_id = ? AND section = ?", "tt", zId, s->zName))
      return http_error_extra(r, 409, "incomplete", json_pack("{s:s}", "section", s->zName),
                              "“%s”栏目需要上传证明材料附件", s->zTitle), 1;
  }
  json_t *w = committee_window(p, jstr(a, "committee_id"), jstr(a, "specialty"));
  if (!w || !json_is_true(json_object_get(w, "open"))) {
    if (w) http_error(r, 409, "window_closed", "不在评审委员会规定的申报时间内（%s至%s）", jstr(w, "opens"), jstr(w, "closes"));
    else http_error(r, 409, "window_closed", "评审委员会尚未公布该专业的申报时间");
    json_decref(w);
    return 1;
  }
  json_decref(w);
  int nLimit = (int)db_int(p->db, 3, "SELECT submit_limit FROM committees WHERE id = ?", "t", jstr(a, "committee_id"));
  int nCount = (int)json_integer_value(json_object_get(a, "submit_count"));
  if (nCount >= nLimit)
    return http_error_extra(r, 409, "submission_limit", json_pack("{s:i, s:i}", "submit_count", nCount, "submit_limit", nLimit),
                            "已提交%d次，达到评审委员会规定的上限（%d次），不能再提交", nCount, nLimit), 1;
  return 0;
}

/* The recommending unit a unit forwards to: the requested one if it is among the unit's
 * recommenders now, else the first of them. Answers and returns NULL when none fits. */
static char *pick_dept(zc_req *r, json_t *a) {
  const char *zWant = json_str_field(r, "dept", "推荐单位", 0);
  char *zDept;
  if (r->status) return NULL;
  if (zWant && *zWant) {
    zDept = db_text(r->node->db, "SELECT dept_id FROM unit_recommenders WHERE unit_id = ? AND dept_id = ?", "tt",
                    jstr(a, "unit_id"), zWant);
    if (!zDept) http_field_error(r, 400, "invalid_field", "dept", "所选推荐单位不是本单位当前的推荐单位");
    return zDept;
  }
  zDept = db_text(r->node->db, "SELECT dept_id FROM unit_recommenders WHERE unit_id = ? ORDER BY position LIMIT 1", "t",
                  jstr(a, "unit_id"));
  if (!zDept) http_error(r, 409, "no_recommender", "本单位尚未选择推荐单位，请先在“推荐单位”中选择");
  return zDept;
}

/* Refuse (409) a forward to a recommending unit of a node this one cannot hand the
 * application to (not of its federation): it would wait there where nobody can act on it.
 * A dept of another node of the federation gets it (handoff_follow). */
static int refuse_dept_away(zc_req *r, const char *zDept) {
  json_t *d = db_row(r->node->db, "SELECT name, node FROM depts WHERE id = ?", "t", zDept);
  int bAway = d && strcmp(jstr(d, "node"), r->node->cfg.zNode) != 0 && !handoff_reaches(r->node, jstr(d, "node"));
  if (bAway) {
    const char *zNodeName = node_region_name(r->node, jstr(d, "node"));
    http_error_extra(r, 409, "dept_on_other_node",
                     json_pack("{s:s, s:s, s:s}", "field", "dept", "dept", zDept, "node", jstr(d, "node")),
                     "推荐单位“%s”属于%s节点（%s），目前还不能跨节点报送；请选择%s（本节点）的推荐单位",
                     jstr(d, "name"), zNodeName ? zNodeName : jstr(d, "node"), jstr(d, "node"), r->node->zName);
  }
  json_decref(d);
  return bAway;
}

static int refuse_incomplete_unit(zc_req *r) {
  json_t *aMissing = NULL;
  if (r->pSess->role != ROLE_UNIT_ADMIN || unit_is_complete(r->node, r->pSess->zUnit, &aMissing)) {
    json_decref(aMissing);
    return 0;
  }
  zc_buf b = {0};
  size_t i;
  json_t *v;
  json_array_foreach(aMissing, i, v) buf_printf(&b, "%s%s", b.n ? "、" : "", unit_field_label(json_string_value(v)));
  http_error_extra(r, 409, "unit_incomplete", json_pack("{s:o}", "missing", aMissing),
                   "本单位信息不完整（缺少：%s），请先完善单位信息再审核", b.z ? b.z : "");
  buf_free(&b);
  return 1;
}

/* Save the caller's opinions {"section": "text"} for the current round. */
static int save_opinions(zc_req *r, json_t *a, json_t *pOpinions) {
  const char *zSection;
  json_t *v;
  if (!pOpinions || json_is_null(pOpinions)) return 0;
  if (!json_is_object(pOpinions)) return http_field_error(r, 400, "invalid_field", "opinions", "审核意见应为“栏目: 意见”的对象"), 1;
  json_object_foreach(pOpinions, zSection, v) {
    const char *zErr;
    if (!section_find(zSection) && strcmp(zSection, "general") != 0)
      return http_field_error(r, 400, "invalid_field", "opinions", "审核意见针对的栏目不存在"), 1;
    if (!json_is_string(v) || (zErr = validate_text(json_string_value(v), 2000, 1)))
      return http_field_error(r, 400, "invalid_field", "opinions", "审核意见应为不超过2000字的文本"), 1;
    if (json_string_length(v) == 0) continue;
    if (db_exec(r->node->db, "INSERT OR REPLACE INTO application_opinions(application_id, round, stage, section, text,"
                " author_id, updated) VALUES(?,?,?,?,?,?,?)", "tittttI", jstr(a, "id"),
                (int)json_integer_value(json_object_get(a, "round")), stage_of_role(r->pSess->role), zSection,
                json_string_value(v), r->pSess->zAccount, (sqlite3_int64)node_now(r->node)))
      return -1;
  }
  if (r->pSess->role == ROLE_UNIT_ADMIN)
    db_exec(r->node->db, "UPDATE applications SET unit_acted = 1 WHERE id = ?", "t", jstr(a, "id"));
  return 0;
}

/* ---- a move ---- */

/* Apply transition t to application a (the row as the caller saw it). The guard in the
 * UPDATE (the status t starts from, the revision a was loaded at, and this node holding
 * it) makes a stale move a no-op that answers 409 instead of moving twice, whatever copy
 * of the application the caller acted on. */
static int move(zc_req *r, json_t *a, const struct transition *t, json_t *pExtra) {
  const char *zId = jstr(a, "id");
  char *zDept = NULL;
  const char *zRec = NULL;
  json_t *pDetail = pExtra ? json_deep_copy(pExtra) : json_object();
  int rc = 0;
  sqlite3_int64 now = (sqlite3_int64)node_now(r->node);
  if (t->flags & T_RECOMMEND) {
    if (!(zRec = json_text_field(r, "recommendation", "单位推荐意见", 1))) goto done;
    const char *zErr = validate_text(zRec, 2000, 1);
    if (zErr) {
      rc = http_field_error(r, 400, "invalid_field", "recommendation", zErr);
      goto done;
    }
    json_object_set_new(pDetail, "recommendation", json_string(zRec));
  }
  if ((t->flags & T_TO_DEPT) && (!(zDept = pick_dept(r, a)) || refuse_dept_away(r, zDept))) goto done;
  if ((t->flags & T_SUBMIT) && refuse_submit(r, a)) goto done;
  if ((t->flags & T_WITHDRAW) && json_integer_value(json_object_get(a, "unit_acted"))) {
    rc = http_error(r, 409, "not_withdrawable", "单位已开始审核，不能收回；如需修改请联系单位退回");
    goto done;
  }
  if (r->pSess->role != ROLE_APPLICANT && save_opinions(r, a, json_object_get(r->pJson, "opinions"))) goto done;
  if (json_object_get(r->pJson, "opinions") && r->pSess->role != ROLE_APPLICANT)
    json_object_set(pDetail, "opinions", json_object_get(r->pJson, "opinions"));
  if (db_exec(r->node->db,
              "UPDATE applications SET status = ?1, returned_by = ?2, updated = ?3,"
              " round = round + iif(?4, 1, 0), submit_count = submit_count + iif(?4, 1, 0),"
              " submitted = iif(?4, ?3, submitted), unit_acted = iif(?4, 0, unit_acted),"
              " dept_id = coalesce(?5, dept_id), dept_node = coalesce((SELECT node FROM depts WHERE id = ?5), dept_node),"
              " recommendation = coalesce(?6, recommendation), revision = revision + 1"
              " WHERE id = ?7 AND status = ?8 AND revision = ?9 AND holder = ?10",
              "ttIittttIt", t->zTo, t->zReturnedBy, now, (t->flags & T_SUBMIT) != 0, zDept, zRec, zId, t->zFrom,
              (sqlite3_int64)json_integer_value(json_object_get(a, "revision")), r->node->cfg.zNode)) {
    rc = -1;
    goto done;
  }
  if (sqlite3_changes(r->node->db) != 1) {
    rc = app_refuse_stale(r, a);
    goto done;
  }
  /* who may read it from now on */
  if (t->flags & T_SUBMIT)
    rc = db_exec(r->node->db, "INSERT OR IGNORE INTO application_access VALUES(?, 'unit', ?)", "tt", zId, jstr(a, "unit_id"));
  if (zDept) {
    json_object_set_new(pDetail, "dept", json_string(zDept));
    rc |= db_exec(r->node->db, "INSERT OR IGNORE INTO application_access VALUES(?, 'dept', ?)", "tt", zId, zDept);
  }
  if (t->flags & T_TO_COMMITTEE) {
    json_object_set_new(pDetail, "committee", json_string(jstr(a, "committee_id")));
    rc |= db_exec(r->node->db, "INSERT OR IGNORE INTO application_access VALUES(?, 'committee', ?)", "tt", zId,
                  jstr(a, "committee_id"));
  }
  if (rc || app_history(r, zId, t->zAction, t->zFrom, t->zTo, json_incref(pDetail))) {
    rc = -1;
    goto done;
  }
  if (strcmp(t->zTo, "formal_passed") == 0 && (forms_issue(r, zId) || payments_open(r, zId))) {
    /* the official form from now on, and the fee's payment order */
    rc = -1;
    goto done;
  }
  if (handoff_follow(r->node, zId)) { /* its next reviewer is on another node: it goes there */
    rc = -1;
    goto done;
  }
  live_application_changed(r, zId);
done:
  free(zDept);
  json_decref(pDetail);
  return rc;
}

/* move(), then the application as the caller now sees it. */
static int apply(zc_req *r, json_t *a, const struct transition *t) {
  int rc = move(r, a, t, NULL);
  return rc || r->status ? rc : app_answer(r, jstr(a, "id"));
}

int workflow_move_listed(zc_req *r, const char *zId, const char *zAction, json_t *pDetail) {
  app_access acc;
  json_t *a = app_load(r, zId, &acc);
  if (!a) return 0;
  const struct transition *t = transition_find(jstr(a, "status"), zAction, r->pSess->role);
  int bTheirs = r->pSess->role == ROLE_NODE_ADMIN ? strcmp(jstr(a, "committee_node"), r->node->cfg.zNode) == 0
                                                  : strcmp(jstr(a, "committee_id"), r->pSess->zCommittee) == 0;
  int rc = 0;
  if (!t || !(t->flags & T_LISTED) || !bTheirs)
    rc = http_error_extra(r, 409, "invalid_action", json_pack("{s:s}", "application", zId),
                          "申请书 %s 当前状态为“%s”，不能%s", zId, app_status_label(jstr(a, "status")),
                          t ? t->zLabel : "列入");
  else
    rc = move(r, a, t, pDetail);
  json_decref(a);
  return rc;
}

/* Load the application and run zAction for the caller: 404 outside their reach, 403 when
 * it is not theirs to move now, 409 when the action does not fit its status. */
static int run_action(zc_req *r, const char *zAction) {
  app_access acc;
  json_t *a = app_load(r, r->aParam[0], &acc);
  int rc = 0;
  if (!a) return 0;
  const struct transition *t = transition_find(jstr(a, "status"), zAction, r->pSess->role);
  if (acc == ACCESS_READ && !(t && (t->flags & T_DEPT_AWAY) && may_recall(r, a)))
    rc = http_error(r, 403, "not_current_reviewer", "该申请书当前处于“%s”环节，不由您办理", app_status_label(jstr(a, "status")));
  else if (!t && strcmp(zAction, "withdraw") == 0 && !app_editable(jstr(a, "status")))
    rc = http_error(r, 409, "not_withdrawable", "申请书当前状态为“%s”，单位已经办理，不能收回", app_status_label(jstr(a, "status")));
  else if (!t || ((t->flags & T_DEPT_AWAY) && !may_recall(r, a)))
    rc = http_error(r, 409, "invalid_action", "申请书当前状态为“%s”，不能进行此操作", app_status_label(jstr(a, "status")));
  else if (!refuse_incomplete_unit(r))
    rc = apply(r, a, t);
  json_decref(a);
  return rc;
}

int workflow_submit(zc_req *r) { return run_action(r, "submit"); }
int workflow_withdraw(zc_req *r) { return run_action(r, "withdraw"); }

int workflow_review(zc_req *r) {
  const char *zAction = json_str_field(r, "action", "办理操作", 1);
  if (!zAction) return 0;
  if (!action_known(zAction) || strcmp(zAction, "submit") == 0 || strcmp(zAction, "withdraw") == 0)
    return http_field_error(r, 400, "invalid_field", "action",
                            "办理操作只能是return、forward、recall、meeting、pass或fail");
  return run_action(r, zAction);
}

/* application.opinion: the caller's opinion on section aParam[1] of a (NULL: removed). */
static int announce_opinion(zc_req *r, json_t *a, const char *zText) {
  return outbox_record(r->node, "application.opinion",
                       json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "application", jstr(a, "id"), "round",
                                 json_integer_value(json_object_get(a, "round")), "stage", stage_of_role(r->pSess->role),
                                 "section", r->aParam[1], "text", zText ? zText : "", "author", r->pSess->zAccount,
                                 "revision", json_integer_value(json_object_get(a, "revision")) + 1),
                       NULL);
}

int workflow_opinion(zc_req *r) {
  app_access acc;
  const char *zText = json_text_field(r, "text", "审核意见", 0), *zErr;
  if (r->status) return 0;
  if (!section_find(r->aParam[1]) && strcmp(r->aParam[1], "general") != 0)
    return http_error(r, 404, "not_found", "申请书没有该栏目");
  if (zText && (zErr = validate_text(zText, 2000, 1))) return http_field_error(r, 400, "invalid_field", "text", zErr);
  json_t *a = app_load(r, r->aParam[0], &acc);
  if (!a) return 0;
  int rc;
  if (acc != ACCESS_REVIEW)
    rc = http_error(r, 403, "not_current_reviewer", "该申请书当前处于“%s”环节，不由您办理", app_status_label(jstr(a, "status")));
  else if (refuse_incomplete_unit(r))
    rc = 0;
  else if ((rc = app_claim(r, a)))
    rc = rc > 0 ? 0 : -1;
  else if (!zText || !*zText)
    rc = db_exec(r->node->db, "DELETE FROM application_opinions WHERE application_id = ? AND round = ? AND stage = ?"
                 " AND section = ?", "titt", jstr(a, "id"), (int)json_integer_value(json_object_get(a, "round")),
                 stage_of_role(r->pSess->role), r->aParam[1]) || announce_opinion(r, a, NULL)
             ? -1 : app_answer(r, r->aParam[0]);
  else {
    json_t *o = json_pack("{s:s}", r->aParam[1], zText);
    rc = save_opinions(r, a, o);
    json_decref(o);
    if (rc == 0 && !r->status) rc = announce_opinion(r, a, zText) ? -1 : app_answer(r, r->aParam[0]);
  }
  json_decref(a);
  return rc;
}
