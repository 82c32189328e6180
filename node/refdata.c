/* refdata.c - reference data: loading it from schemas/ and serving it (refdata.h). */
#include "refdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "committees.h"
#include "db.h"
#include "manifest.h"
#include "trust.h"

json_t *refdata_file(const zc_node *p, const char *zFile) {
  char zPath[1100];
  json_error_t err;
  snprintf(zPath, sizeof zPath, "%s/%s", p->cfg.zSchemas, zFile);
  json_t *v = json_load_file(zPath, 0, &err);
  if (!v) fprintf(stderr, "zc-node: %s:%d: %s\n", zPath, err.line, err.text);
  return v;
}

int refdata_name_ug(zc_node *p, const char *zTable, const char *zKeyColumn, const char *zKey, const json_t *x,
                    int bKeepSet) {
  char zSql[200];
  snprintf(zSql, sizeof zSql, "UPDATE %s SET name_ug = ? WHERE %s = ? AND name = ?%s", zTable, zKeyColumn,
           bKeepSet ? " AND name_ug = ''" : "");
  return jstr(x, "name_ug") ? db_exec(p->db, zSql, "ttt", jstr(x, "name_ug"), zKey, jstr(x, "name")) : 0;
}

static int load_catalog(zc_node *p) {
  json_t *pCat = refdata_file(p, "catalog.json"), *s, *x;
  size_t i, j;
  int rc = 0;
  if (!pCat) return -1;
  json_array_foreach(json_object_get(pCat, "series"), i, s) {
    rc |= db_exec(p->db, "INSERT OR IGNORE INTO series(code, name, position) VALUES(?,?,?)",
                  "tti", jstr(s, "code"), jstr(s, "name"), (int)i);
    rc |= refdata_name_ug(p, "series", "code", jstr(s, "code"), s, 0);
    json_array_foreach(json_object_get(s, "specialties"), j, x) {
      rc |= db_exec(p->db, "INSERT OR IGNORE INTO specialties(code, series, name, position)"
                    " VALUES(?,?,?,?)", "ttti", jstr(x, "code"), jstr(s, "code"), jstr(x, "name"), (int)j);
      rc |= refdata_name_ug(p, "specialties", "code", jstr(x, "code"), x, 0);
    }
    json_array_foreach(json_object_get(s, "qualifications"), j, x) {
      rc |= db_exec(p->db, "INSERT OR IGNORE INTO qualifications(code, series, level, name)"
                    " VALUES(?,?,?,?)", "ttIt", jstr(x, "code"), jstr(s, "code"),
                    (sqlite3_int64)json_integer_value(json_object_get(x, "level")), jstr(x, "name"));
      rc |= refdata_name_ug(p, "qualifications", "code", jstr(x, "code"), x, 0);
    }
  }
  json_decref(pCat);
  return rc ? -1 : 0;
}

static int load_depts(zc_node *p) {
  json_t *pAll = refdata_file(p, "depts.json"), *d;
  size_t i;
  int rc = 0;
  if (!pAll) return -1;
  json_array_foreach(json_object_get(pAll, "depts"), i, d) {
    rc |= db_exec(p->db, "INSERT OR IGNORE INTO depts(id, node, name, address, contact, phone)"
                  " VALUES(?,?,?,?,?,?)", "tttttt", jstr(d, "id"), jstr(d, "node"), jstr(d, "name"),
                  jstr(d, "address"), jstr(d, "contact"), jstr(d, "phone"));
    rc |= refdata_name_ug(p, "depts", "id", jstr(d, "id"), d, 0);
  }
  json_decref(pAll);
  return rc ? -1 : 0;
}

static const char *g_aLevel[] = {"", "员级", "助理级", "中级", "副高级", "正高级"};

/* The catalogue as served: series with their specialties and qualifications. */
static json_t *catalog_json(zc_node *p) {
  json_t *aSeries = db_rows(p->db, "SELECT code, name, name_ug FROM series ORDER BY position", NULL);
  json_t *s, *levels = json_object();
  size_t i;
  json_array_foreach(aSeries, i, s) {
    const char *zCode = jstr(s, "code");
    json_object_set_new(s, "specialties", db_rows(p->db,
        "SELECT code, name, name_ug FROM specialties WHERE series = ? ORDER BY position", "t", zCode));
    json_object_set_new(s, "qualifications", db_rows(p->db,
        "SELECT code, level, name, name_ug FROM qualifications WHERE series = ? ORDER BY level", "t", zCode));
  }
  for (int l = 1; l <= 5; l++) {
    char zKey[2] = {(char)('0' + l), 0};
    json_object_set_new(levels, zKey, json_string(g_aLevel[l]));
  }
  return json_pack("{s:o, s:o}", "series", aSeries, "levels", levels);
}

int refdata_load(zc_node *p) {
  if (db_begin(p->db)) return -1;
  if (load_catalog(p) || load_depts(p) || committees_load(p)) {
    db_rollback(p->db);
    return -1;
  }
  if (db_commit(p->db)) return -1;
  json_t *pCat = catalog_json(p);
  free(p->zCatalogJson);
  p->zCatalogJson = json_dumps(pCat, JSON_COMPACT);
  p->nCatalogJson = p->zCatalogJson ? strlen(p->zCatalogJson) : 0;
  json_decref(pCat);
  return p->zCatalogJson ? 0 : -1;
}

int refdata_health(zc_req *r) {
  /* recovering: the node serves, but holds changes back until its peers checked its log */
  const char *zNameUg = node_region_name_ug(r->node, r->node->cfg.zNode);
  return http_json(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:b}", "node", r->node->cfg.zNode, "name", r->node->zName,
                                     "name_ug", zNameUg ? zNameUg : "", "status", "ok", "recovering",
                                     r->node->bRecovering));
}

int refdata_federation(zc_req *r) {
  zc_node *p = r->node;
  json_t *aNodes = node_manifest(p)
      ? fed_manifest_public(node_manifest(p))
      : json_pack("[{s:s, s:s, s:n, s:n}]", "id", p->cfg.zNode, "name", p->zName, "url", "fingerprint");
  if (!aNodes) return -1;
  /* the manifest names nodes in Chinese; their Uyghur names are reference data here */
  size_t i;
  json_t *n;
  json_array_foreach(aNodes, i, n) {
    const char *zNameUg = node_region_name_ug(p, jstr(n, "id"));
    json_object_set_new(n, "name_ug", json_string(zNameUg ? zNameUg : ""));
  }
  return http_json(r, 200, json_pack("{s:s, s:o}", "node", p->cfg.zNode, "nodes", aNodes));
}

int refdata_catalog(zc_req *r) {
  /* Serialised once at start: the hottest public endpoint should not touch sqlite. */
  buf_append(&r->out, r->node->zCatalogJson, r->node->nCatalogJson);
  r->status = 200;
  r->zOutType = "application/json; charset=utf-8";
  return 0;
}

int refdata_depts(zc_req *r) {
  char zNode[16];
  json_t *a;
  int rc = http_query(r, "node", zNode, sizeof zNode);
  if (rc == HTTP_TOO_LONG || (rc == 0 && zNode[0])) {
    if (rc == HTTP_TOO_LONG || !node_region_name(r->node, zNode))
      return http_error(r, 400, "invalid_node", "未知的评审区域");
    a = db_rows(r->node->db, "SELECT id, node, name, name_ug, address, contact, phone FROM depts"
                " WHERE node = ? ORDER BY id", "t", zNode);
  } else {
    a = db_rows(r->node->db, "SELECT id, node, name, name_ug, address, contact, phone FROM depts ORDER BY id", NULL);
  }
  size_t i;
  json_t *d;
  json_array_foreach(a, i, d) node_put_region_names(r->node, d, "node", "node_name");
  return http_json(r, 200, json_pack("{s:o}", "items", a));
}

int refdata_qualification(zc_node *p, const char *zCode, char zSeries[16]) {
  json_t *q = db_row(p->db, "SELECT series, level FROM qualifications WHERE code = ?", "t", zCode);
  int level = 0;
  if (q) {
    snprintf(zSeries, 16, "%s", jstr(q, "series"));
    level = (int)json_integer_value(json_object_get(q, "level"));
    json_decref(q);
  }
  return level;
}

int refdata_dept_exists(zc_node *p, const char *zId) {
  return db_int(p->db, 0, "SELECT 1 FROM depts WHERE id = ?", "t", zId) == 1;
}
