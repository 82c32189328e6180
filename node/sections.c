/* sections.c - the sections of an application and their fields (sections.h). One table:
 * the portal renders forms from it, the API checks saves and submits against it. */
#include "sections.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "validate.h"

static const char *const g_gender[] = {"男", "女", NULL};
static const char *const g_political[] = {"中共党员", "中共预备党员", "共青团员", "民主党派", "群众", NULL};
static const char *const g_degree[] = {"博士研究生", "硕士研究生", "大学本科", "大学专科", "中等专科", NULL};
static const char *const g_rating[] = {"优秀", "合格", "基本合格", "不合格", NULL};

static const section_field f_basic[] = {
  {"name", "姓名", "text", 1, NULL},
  {"gender", "性别", "select", 1, g_gender},
  {"birth_date", "出生日期", "date", 1, NULL},
  {"phone", "联系电话", "text", 0, NULL},
  {"ethnicity", "民族", "text", 1, NULL},
  {"political", "政治面貌", "select", 0, g_political},
  {"work_start", "参加工作时间", "date", 1, NULL},
  {"position", "现任职务/岗位", "text", 1, NULL},
  {"current_title", "现专业技术资格", "text", 0, NULL},
  {"current_title_date", "现资格取得时间", "date", 0, NULL},
};
static const section_field f_education[] = {
  {"degree", "最高学历", "select", 1, g_degree},
  {"school", "毕业院校", "text", 1, NULL},
  {"major", "所学专业", "text", 1, NULL},
  {"graduated", "毕业时间", "date", 1, NULL},
};
static const section_field f_work[] = {
  {"experience", "工作经历（起止时间、单位、职务）", "textarea", 1, NULL},
};
static const section_field f_achievements[] = {
  {"summary", "任现职以来专业技术工作业绩", "textarea", 1, NULL},
  {"projects", "主持或参与的项目", "textarea", 0, NULL},
};
static const section_field f_papers[] = {
  {"papers", "论文、著作（题目、刊物、时间、作者排名）", "textarea", 0, NULL},
  {"count", "论文著作数量", "number", 0, NULL},
};
static const section_field f_awards[] = {
  {"awards", "获奖情况（名称、等级、时间）", "textarea", 0, NULL},
};
static const section_field f_training[] = {
  {"hours", "继续教育学时", "number", 1, NULL},
  {"description", "继续教育情况", "textarea", 0, NULL},
};
static const section_field f_assessment[] = {
  {"year1", "近三年年度考核（第一年）", "select", 1, g_rating},
  {"year2", "近三年年度考核（第二年）", "select", 1, g_rating},
  {"year3", "近三年年度考核（第三年）", "select", 1, g_rating},
};

#define SECTION(name, title, attach, fields) {name, title, attach, fields, (int)(sizeof fields / sizeof fields[0])}
const section_def g_sections[] = {
  SECTION("basic", "基本信息", 0, f_basic),
  SECTION("education", "学历", 1, f_education),
  SECTION("work", "工作经历", 0, f_work),
  SECTION("achievements", "专业技术工作业绩", 1, f_achievements),
  SECTION("papers", "论文著作", 0, f_papers),
  SECTION("awards", "获奖情况", 0, f_awards),
  SECTION("training", "继续教育", 0, f_training),
  SECTION("assessment", "年度考核", 0, f_assessment),
};
const int g_nSections = (int)(sizeof g_sections / sizeof g_sections[0]);

const section_def *section_find(const char *zName) {
  for (int i = 0; zName && i < g_nSections; i++)
    if (strcmp(g_sections[i].zName, zName) == 0) return &g_sections[i];
  return NULL;
}

/* A section's field list never changes: built once, then shared by reference (the event
 * loop is the only thread that answers requests). */
_Static_assert(sizeof g_sections / sizeof g_sections[0] <= MAX_SECTIONS, "raise MAX_SECTIONS");

static json_t *fields_json(const section_def *s) {
  static json_t *aCache[MAX_SECTIONS];
  int i = (int)(s - g_sections);
  assert(i >= 0 && i < g_nSections);
  if (aCache[i]) return aCache[i];
  json_t *aFields = json_array();
  for (int k = 0; k < s->nField; k++) {
    const section_field *f = &s->aField[k];
    json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", f->zName, "label", f->zLabel, "type", f->zType,
                          "required", f->bRequired);
    if (f->azOptions) {
      json_t *a = json_array();
      for (int n = 0; f->azOptions[n]; n++) json_array_append_new(a, json_string(f->azOptions[n]));
      json_object_set_new(o, "options", a);
    }
    json_array_append_new(aFields, o);
  }
  aCache[i] = aFields; /* kept for the life of the process */
  return aFields;
}

json_t *section_json(const section_def *s) {
  return json_pack("{s:s, s:s, s:O, s:b}", "name", s->zName, "title", s->zTitle, "fields", fields_json(s),
                   "attachments_required", s->bAttachmentsRequired);
}

const char *section_head_text(const section_def *s, size_t *pn) {
  static char *azHead[MAX_SECTIONS];
  static size_t anHead[MAX_SECTIONS];
  int i = (int)(s - g_sections);
  assert(i >= 0 && i < g_nSections);
  if (!azHead[i]) {
    json_t *o = section_json(s);
    azHead[i] = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!azHead[i]) abort(); /* out of memory at the first answer: nothing sensible left */
    anHead[i] = strlen(azHead[i]) - 1; /* without the closing '}' */
  }
  *pn = anHead[i];
  return azHead[i];
}

static const section_field *field_find(const section_def *s, const char *zName) {
  for (int i = 0; i < s->nField; i++)
    if (strcmp(s->aField[i].zName, zName) == 0) return &s->aField[i];
  return NULL;
}

/* One value: the cleaned JSON to store, or NULL with *pzErr set. */
static json_t *check_value(const section_field *f, json_t *v, const char **pzErr) {
  static char zMsg[160];
  long nDays;
  if (json_is_null(v)) return json_string("");
  if (strcmp(f->zType, "number") == 0) {
    long long n = -1;
    if (json_is_integer(v)) n = json_integer_value(v);
    else if (json_is_string(v) && json_string_length(v) == 0) return json_string("");
    else if (json_is_string(v) && strspn(json_string_value(v), "0123456789") == json_string_length(v) &&
             json_string_length(v) < 7)
      sscanf(json_string_value(v), "%lld", &n);
    if (n < 0 || n > 100000) {
      snprintf(zMsg, sizeof zMsg, "%s应为0至100000之间的整数", f->zLabel);
      *pzErr = zMsg;
      return NULL;
    }
    return json_integer(n);
  }
  if (!json_is_string(v)) {
    snprintf(zMsg, sizeof zMsg, "%s应为文本", f->zLabel);
    *pzErr = zMsg;
    return NULL;
  }
  const char *z = json_string_value(v);
  if (!*z) return json_string("");
  if (strcmp(f->zType, "date") == 0) {
    if (validate_date(z, &nDays)) {
      snprintf(zMsg, sizeof zMsg, "%s应为有效日期（YYYY-MM-DD）", f->zLabel);
      *pzErr = zMsg;
      return NULL;
    }
  } else if (strcmp(f->zType, "select") == 0) {
    int k;
    for (k = 0; f->azOptions[k] && strcmp(f->azOptions[k], z) != 0; k++) {}
    if (!f->azOptions[k]) {
      snprintf(zMsg, sizeof zMsg, "%s只能从给定选项中选择", f->zLabel);
      *pzErr = zMsg;
      return NULL;
    }
  } else {
    int bLong = strcmp(f->zType, "textarea") == 0;
    const char *zErr = validate_text(z, bLong ? 5000 : 200, bLong);
    if (zErr || strlen(z) != json_string_length(v)) {
      snprintf(zMsg, sizeof zMsg, "%s：%s", f->zLabel, zErr ? zErr : "含有不允许的字符");
      *pzErr = zMsg;
      return NULL;
    }
  }
  return json_incref(v);
}

const char *section_check(const section_def *s, json_t *pData, json_t **ppClean, const char **pzField) {
  const char *zKey, *zErr = NULL;
  json_t *v, *pClean = json_object();
  *ppClean = NULL;
  if (!json_is_object(pData)) {
    json_decref(pClean);
    *pzField = "data";
    return "data应为对象（字段名: 值）";
  }
  json_object_foreach(pData, zKey, v) {
    const section_field *f = field_find(s, zKey);
    if (!f) {
      json_decref(pClean);
      *pzField = zKey;
      return "此栏目没有该字段";
    }
    json_t *c = check_value(f, v, &zErr);
    if (!c) {
      json_decref(pClean);
      *pzField = zKey;
      return zErr;
    }
    json_object_set_new(pClean, zKey, c);
  }
  *ppClean = pClean;
  return NULL;
}

/* One WHEN arm per section: the first required field whose stored value is absent or "". */
static void missing_case_arm(zc_buf *b, const section_def *s) {
  int n = 0;
  for (int i = 0; i < s->nField; i++) {
    if (!s->aField[i].bRequired) continue;
    if (n++ == 0) buf_printf(b, " WHEN '%s' THEN CASE", s->zName);
    buf_printf(b, " WHEN ifnull(json_extract(data_json, '$.%s'), '') = '' THEN '%s'", s->aField[i].zName,
               s->aField[i].zName);
  }
  if (n) buf_printf(b, " ELSE '' END"); /* a section without required fields: the outer ELSE */
}

/* The name of the section's first required field absent or empty in data_json ('' when
 * all are filled), as an SQL expression on a row of application_sections. */
static void missing_expr(zc_buf *b) {
  buf_printf(b, "CASE section");
  for (int i = 0; i < g_nSections; i++) missing_case_arm(b, &g_sections[i]);
  buf_printf(b, " ELSE '' END");
}

/* Statements made once from the table and kept (the statement cache keys on them). */
static const char *missing_rule(void) {
  static zc_buf sql;
  if (!sql.n) missing_expr(&sql);
  return sql.z;
}

/* Application ?1's saved sections (in the primary key's order; section_saved_each puts
 * them in table order): section, data_json, and missing as stored or, when not known,
 * found by sqlite in the stored JSON. */
static const char *saved_rows_sql(void) {
  static zc_buf sql;
  if (!sql.n)
    buf_printf(&sql, "SELECT section, data_json, ifnull(missing, %s) AS missing FROM application_sections"
               " WHERE application_id = ?", missing_rule());
  return sql.z;
}

int section_missing_store(sqlite3 *db, const char *zApp, const char *zSection) {
  static zc_buf sql;
  if (!sql.n)
    buf_printf(&sql, "UPDATE application_sections SET missing = %s WHERE application_id = ? AND section = ?",
               missing_rule());
  return db_exec(db, sql.z, "tt", zApp, zSection);
}

int section_missing_sync(sqlite3 *db) {
  /* a database made by schemas before 005 (zc-admin run with an older schemas/) */
  if (!db_int(db, 0, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'section_missing_rule'", NULL))
    return 0;
  char *zStored = db_text(db, "SELECT rule FROM section_missing_rule", NULL);
  int bSame = zStored && strcmp(zStored, missing_rule()) == 0, rc = 0;
  free(zStored);
  if (bSame) return 0;
  rc = db_begin(db) || db_exec(db, "UPDATE application_sections SET missing = NULL WHERE missing IS NOT NULL", NULL) ||
       db_exec(db, "DELETE FROM section_missing_rule", NULL) ||
       db_exec(db, "INSERT INTO section_missing_rule(rule) VALUES(?)", "t", missing_rule()) || db_commit(db);
  if (rc) db_rollback(db);
  return rc ? -1 : 0;
}

static const section_field *first_required(const section_def *s) {
  for (int k = 0; k < s->nField; k++)
    if (s->aField[k].bRequired) return &s->aField[k];
  return NULL;
}

/* The saved rows, copied into one buffer and put in table order in C: 8 rows need no
 * sorter (ORDER BY CASE section ... was a third of the query). */
int section_saved_each(sqlite3 *db, const char *zApp, section_saved_fn xEach, void *pArg) {
  sqlite3_stmt *pStmt = db_prepare(db, saved_rows_sql(), "t", zApp);
  zc_buf b = {0};
  size_t aAt[MAX_SECTIONS];
  const section_field *apMissing[MAX_SECTIONS];
  int aSaved[MAX_SECTIONS] = {0}, rc = 0, step;
  if (!pStmt) return -1;
  while ((step = sqlite3_step(pStmt)) == SQLITE_ROW) {
    const section_def *s = section_find((const char *)sqlite3_column_text(pStmt, 0));
    const char *zMissing = (const char *)sqlite3_column_text(pStmt, 2);
    if (!s) continue; /* a section this version no longer has */
    int i = (int)(s - g_sections);
    aSaved[i] = 1;
    aAt[i] = b.n;
    buf_append(&b, sqlite3_column_text(pStmt, 1), (size_t)sqlite3_column_bytes(pStmt, 1));
    buf_append(&b, "", 1); /* each text keeps its NUL */
    apMissing[i] = zMissing && *zMissing ? field_find(s, zMissing) : NULL;
  }
  sqlite3_reset(pStmt);
  if (step != SQLITE_DONE) rc = -1;
  for (int i = 0; i < g_nSections && rc == 0; i++) {
    if (aSaved[i]) rc = xEach(i, b.z + aAt[i], apMissing[i], pArg);
    else rc = xEach(i, "{}", first_required(&g_sections[i]), pArg); /* never saved: nothing is filled */
  }
  buf_free(&b);
  return rc;
}
