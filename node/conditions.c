/* conditions.c - qualification conditions (conditions.h). One function lists a level's
 * conditions; given an application's saved sections it also says of each whether it is
 * met (met | unmet | unknown: not filled in yet | review: for the reviewers to judge).
 * Years are counted as of 31 December of the application year, as the rules count them. */
#include "conditions.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applications.h"
#include "db.h"
#include "refdata.h"

int conditions_load(zc_node *p) {
  json_decref(p->pConditions);
  p->pConditions = refdata_file(p, "conditions.json");
  return p->pConditions && json_is_array(json_object_get(p->pConditions, "levels")) ? 0 : -1;
}

/* ---- the rules ---- */

static const json_t *level_rules(const zc_node *p, int level) {
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(p->pConditions, "levels"), i, l)
    if (json_integer_value(json_object_get(l, "level")) == level) return l;
  return NULL;
}

/* The rank of degree z (0 the lowest), or -1 when it is none of schemas' degrees. */
static int degree_rank(const zc_node *p, const char *z) {
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(p->pConditions, "degrees"), i, d)
    if (z && strcmp(json_string_value(d), z) == 0) return (int)i;
  return -1;
}

/* The series' own text for zKey ("results", "practice"), else the level's. */
static const char *rule_text(const zc_node *p, const json_t *pLevel, const char *zSeries, const char *zKey) {
  const char *z = jstr(json_object_get(json_object_get(p->pConditions, "series"), zSeries), zKey);
  return z ? z : jstr(pLevel, zKey);
}

static const char *since_label(const json_t *pRule) {
  return strcmp(jstr(pRule, "since"), "title") == 0 ? "取得现资格后" : "毕业后";
}

static char *years_text(const json_t *pLevel) {
  char z[600];
  size_t i, n = 0;
  json_t *y;
  z[0] = 0;
  /* one clause per degree, each a text of its own for the Uyghur dictionary: "；" apart */
  json_array_foreach(json_object_get(pLevel, "years"), i, y) {
    if (i) n += (size_t)snprintf(z + n, n < sizeof z ? sizeof z - n : 0, "；");
    n += (size_t)snprintf(z + n, n < sizeof z ? sizeof z - n : 0, "%s学历%s从事本专业技术工作满%lld年", jstr(y, "degree"),
                          since_label(y), (long long)json_integer_value(json_object_get(y, "years")));
  }
  return strdup(z);
}

/* ---- an application's facts ---- */

typedef struct facts {
  json_t *pSections; /* {"basic": {...}, "education": {...}, ...} as saved */
  int year;          /* the application year: years count to its 31 December */
} facts;

static const char *fact_text(const facts *f, const char *zSection, const char *zField) {
  const char *z = jstr(json_object_get(f->pSections, zSection), zField);
  return z && *z ? z : NULL;
}

/* A number field (stored as a number, or as its text); -1 when not filled in. */
static long long fact_number(const facts *f, const char *zSection, const char *zField) {
  json_t *v = json_object_get(json_object_get(f->pSections, zSection), zField);
  if (json_is_integer(v)) return json_integer_value(v);
  if (json_is_real(v)) return (long long)json_real_value(v);
  return json_is_string(v) && *json_string_value(v) ? atoll(json_string_value(v)) : -1;
}

static json_t *facts_sections(zc_node *p, const char *zApp) {
  json_t *o = json_object(), *a = db_rows(p->db, "SELECT section, data_json FROM application_sections"
                                          " WHERE application_id = ?", "t", zApp), *v;
  size_t i;
  json_array_foreach(a, i, v) /* data_json arrives parsed, as "data" (db.h) */
    if (json_is_object(json_object_get(v, "data"))) json_object_set(o, jstr(v, "section"), json_object_get(v, "data"));
  json_decref(a);
  return o;
}

/* ---- the checks: each sets *pzStatus and writes its detail ---- */

typedef struct check {
  const char *zStatus;
  char zDetail[200];
} check;

static void verdict(check *c, const char *zStatus, const char *zFmt, ...) __attribute__((format(printf, 3, 4)));
static void verdict(check *c, const char *zStatus, const char *zFmt, ...) {
  va_list ap;
  c->zStatus = zStatus;
  va_start(ap, zFmt);
  vsnprintf(c->zDetail, sizeof c->zDetail, zFmt, ap);
  va_end(ap);
}

static void check_degree(const zc_node *p, const json_t *pLevel, const facts *f, check *c) {
  const char *zDegree = fact_text(f, "education", "degree");
  if (!zDegree) return verdict(c, "unknown", "尚未填写最高学历");
  if (degree_rank(p, zDegree) < degree_rank(p, jstr(pLevel, "degree_min")))
    return verdict(c, "unmet", "最高学历为%s，低于%s", zDegree, jstr(pLevel, "degree_min"));
  verdict(c, "met", "最高学历为%s", zDegree);
}

/* The rule of years for the highest degree it names at or below the applicant's. */
static const json_t *years_rule(const zc_node *p, const json_t *pLevel, int rank) {
  const json_t *pBest = NULL, *y;
  size_t i;
  json_array_foreach(json_object_get(pLevel, "years"), i, y) {
    int r = degree_rank(p, jstr(y, "degree"));
    if (r <= rank && (!pBest || r > degree_rank(p, jstr(pBest, "degree")))) pBest = y;
  }
  return pBest;
}

static void check_years(const zc_node *p, const json_t *pLevel, const facts *f, check *c) {
  const char *zDegree = fact_text(f, "education", "degree");
  if (!zDegree) return verdict(c, "unknown", "尚未填写最高学历");
  const json_t *pRule = years_rule(p, pLevel, degree_rank(p, zDegree));
  if (!pRule) return verdict(c, "unmet", "%s学历不在申报条件之列", zDegree);
  int bTitle = strcmp(jstr(pRule, "since"), "title") == 0;
  const char *zSince = bTitle ? fact_text(f, "basic", "current_title_date") : fact_text(f, "education", "graduated");
  if (!zSince) return verdict(c, "unknown", "尚未填写%s", bTitle ? "现资格取得时间" : "毕业时间");
  int nHave = f->year - atoi(zSince), nWant = (int)json_integer_value(json_object_get(pRule, "years"));
  verdict(c, nHave >= nWant ? "met" : "unmet", "%s（%.10s）至%d年底满%d年，%s学历需满%d年", bTitle ? "取得现资格" : "毕业",
          zSince, f->year, nHave < 0 ? 0 : nHave, zDegree, nWant);
}

static void check_hours(const zc_node *p, const json_t *pLevel, const facts *f, check *c) {
  (void)p;
  long long n = fact_number(f, "training", "hours"), nMin = json_integer_value(json_object_get(pLevel, "hours_min"));
  if (n < 0) return verdict(c, "unknown", "尚未填写继续教育学时");
  verdict(c, n >= nMin ? "met" : "unmet", "已填写%lld学时，需不少于%lld学时", n, nMin);
}

static void check_assessment(const zc_node *p, const json_t *pLevel, const facts *f, check *c) {
  (void)p, (void)pLevel;
  static const char *const azYear[] = {"year1", "year2", "year3"};
  for (int i = 0; i < 3; i++) {
    const char *z = fact_text(f, "assessment", azYear[i]);
    if (!z) return verdict(c, "unknown", "尚未填写近三年年度考核");
    if (strcmp(z, "不合格") == 0) return verdict(c, "unmet", "近三年年度考核有“不合格”");
  }
  verdict(c, "met", "近三年年度考核均为合格以上");
}

static void check_papers(const zc_node *p, const json_t *pLevel, const facts *f, check *c) {
  (void)p;
  long long n = fact_number(f, "papers", "count"), nMin = json_integer_value(json_object_get(pLevel, "papers_min"));
  if (n < 0) return verdict(c, nMin ? "unknown" : "met", nMin ? "尚未填写论文著作数量" : "本级别不要求论文");
  verdict(c, n >= nMin ? "met" : "unmet", "已填写%lld篇（部），需不少于%lld篇（部）", n, nMin);
}

/* ---- the list ---- */

static json_t *item(const char *zKey, const char *zLabel, const char *zRequirement) {
  return json_pack("{s:s, s:s, s:s}", "key", zKey, "label", zLabel, "requirement", zRequirement ? zRequirement : "");
}

/* The conditions of qualification level pLevel of series zSeries; with f, each judged. */
static json_t *conditions_list(const zc_node *p, const json_t *pLevel, const char *zSeries, const facts *f) {
  static const struct {
    const char *zKey, *zLabel;
    void (*xCheck)(const zc_node *, const json_t *, const facts *, check *);
  } aChecked[] = {
    {"degree", "学历", check_degree},
    {"years", "任职年限", check_years},
    {"hours", "继续教育", check_hours},
    {"assessment", "年度考核", check_assessment},
    {"papers", "论文著作", check_papers},
  };
  char zReq[5][200];
  char *zYears = years_text(pLevel);
  snprintf(zReq[0], sizeof zReq[0], "%s及以上学历", jstr(pLevel, "degree_min"));
  snprintf(zReq[1], sizeof zReq[1], "%s", zYears ? zYears : "");
  snprintf(zReq[2], sizeof zReq[2], "每年继续教育不少于%lld学时",
           (long long)json_integer_value(json_object_get(pLevel, "hours_min")));
  snprintf(zReq[3], sizeof zReq[3], "近三年年度考核均为合格以上");
  snprintf(zReq[4], sizeof zReq[4], "公开发表本专业论文或著作不少于%lld篇（部）",
           (long long)json_integer_value(json_object_get(pLevel, "papers_min")));
  free(zYears);
  json_t *a = json_array();
  for (size_t i = 0; i < sizeof aChecked / sizeof aChecked[0]; i++) {
    json_t *o = item(aChecked[i].zKey, aChecked[i].zLabel, zReq[i]);
    if (f) {
      check c = {"unknown", ""};
      aChecked[i].xCheck(p, pLevel, f, &c);
      json_object_set_new(o, "status", json_string(c.zStatus));
      json_object_set_new(o, "detail", json_string(c.zDetail));
    }
    json_array_append_new(a, o);
  }
  static const struct { const char *zKey, *zLabel; } aReviewed[] = {{"results", "业绩成果"}, {"practice", "专业能力与实践"}};
  for (size_t i = 0; i < 2; i++) {
    json_t *o = item(aReviewed[i].zKey, aReviewed[i].zLabel, rule_text(p, pLevel, zSeries, aReviewed[i].zKey));
    if (f) {
      json_object_set_new(o, "status", json_string("review"));
      json_object_set_new(o, "detail", json_string("由评审委员会审核"));
    }
    json_array_append_new(a, o);
  }
  return a;
}

/* {qualification, name, name_ug, level, level_name, items} for qualification zCode, or NULL. */
static json_t *conditions_of(zc_node *p, const char *zCode, const facts *f) {
  char zSeries[16];
  int level = zCode ? refdata_qualification(p, zCode, zSeries) : 0;
  const json_t *pLevel = level ? level_rules(p, level) : NULL;
  if (!pLevel) return NULL;
  json_t *o = db_row(p->db, "SELECT code AS qualification, name, name_ug, level FROM qualifications WHERE code = ?",
                     "t", zCode);
  if (!o) return NULL;
  json_object_set_new(o, "level_name", json_string(jstr(pLevel, "name")));
  json_object_set_new(o, "items", conditions_list(p, pLevel, zSeries, f));
  return o;
}

int conditions_get(zc_req *r) {
  char zCode[16] = "";
  if (http_query(r, "qualification", zCode, sizeof zCode) == HTTP_TOO_LONG) zCode[0] = 0;
  json_t *o = conditions_of(r->node, zCode, NULL);
  if (!o) return http_field_error(r, 400, "invalid_query", "qualification", "请选择有效的申报资格");
  return http_json(r, 200, json_pack("{s:o}", "conditions", o));
}

int conditions_of_application(zc_req *r) {
  app_access acc;
  json_t *a = app_load(r, r->aParam[0], &acc);
  if (!a) return 0;
  facts f = {facts_sections(r->node, r->aParam[0]), (int)json_integer_value(json_object_get(a, "year"))};
  json_t *o = conditions_of(r->node, jstr(a, "qualification"), &f);
  json_decref(f.pSections);
  json_decref(a);
  if (!o) return http_error(r, 409, "no_conditions", "该资格暂无任职资格条件");
  size_t i, nUnmet = 0;
  json_t *v;
  json_array_foreach(json_object_get(o, "items"), i, v) nUnmet += strcmp(jstr(v, "status"), "unmet") == 0;
  json_object_set_new(o, "unmet", json_integer((json_int_t)nUnmet));
  char zAsOf[16];
  snprintf(zAsOf, sizeof zAsOf, "%d-12-31", f.year);
  json_object_set_new(o, "as_of", json_string(zAsOf));
  return http_json(r, 200, json_pack("{s:o}", "conditions", o));
}
