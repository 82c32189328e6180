/* node_cmds.c - zc-admin's subcommands on a node's data directory (node_cmds.h). They
 * open the node exactly as zc-node does (migrations, reference data) and write through
 * the same functions the API uses, so demo data is never shaped differently from real. */
#include "node_cmds.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "node.h"
#include "committees.h"
#include "entries.h"
#include "fed_file.h"
#include "router.h"
#include "units.h"
#include "router.h"
#include "secret.h"
#include "units.h"
#include "validate.h"

const char *admin_opt(int argc, char **argv, const char *zName) {
  for (int i = 1; i + 1 < argc; i++)
    if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, zName) == 0) return argv[i + 1];
  return NULL;
}

int admin_flag(int argc, char **argv, const char *zName) {
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, zName) == 0) return 1;
  return 0;
}

/* Open the node named by --data/--node (and --pepper, --schemas) as zc-node would. */
static int open_node(zc_node *p, int argc, char **argv, const char *zArgv0) {
  zc_config cfg;
  const char *zData = admin_opt(argc, argv, "data"), *zNode = admin_opt(argc, argv, "node");
  const char *zPepper = admin_opt(argc, argv, "pepper"), *zSchemas = admin_opt(argc, argv, "schemas");
  if (!zData || !zNode) {
    fprintf(stderr, "zc-admin %s: --data DIR and --node ID are required\n", argv[0]);
    return -1;
  }
  node_config_defaults(&cfg, zArgv0);
  snprintf(cfg.zData, sizeof cfg.zData, "%s", zData);
  snprintf(cfg.zNode, sizeof cfg.zNode, "%s", zNode);
  if (zPepper) snprintf(cfg.zPepper, sizeof cfg.zPepper, "%s", zPepper);
  if (zSchemas) snprintf(cfg.zSchemas, sizeof cfg.zSchemas, "%s", zSchemas);
  /* entries name the key that will sign them: a node of a federation is opened with its
   * manifest and key, as zc-node is (a node run alone has none: its entries carry key "") */
  static const struct { const char *zOpt; size_t iOff; } aPath[] = {
    {"manifest", offsetof(zc_config, zManifest)}, {"root-pem", offsetof(zc_config, zRootPem)},
    {"key", offsetof(zc_config, zKey)},
  };
  for (size_t i = 0; i < sizeof aPath / sizeof aPath[0]; i++) {
    const char *z = admin_opt(argc, argv, aPath[i].zOpt);
    if (z) snprintf((char *)&cfg + aPath[i].iOff, sizeof cfg.zManifest, "%s", z);
  }
  return node_open(p, &cfg);
}

int cmd_pepper(int argc, char **argv) {
  unsigned char a[32];
  const char *zOut = admin_opt(argc, argv, "out");
  if (!zOut) {
    fprintf(stderr, "usage: zc-admin pepper --out FILE\n");
    return 2;
  }
  if (secret_load_key(zOut, a, 1)) {
    fprintf(stderr, "zc-admin pepper: cannot read or create %s\n", zOut);
    return 1;
  }
  return 0;
}

int cmd_regions(int argc, char **argv) {
  zc_config cfg;
  json_error_t err;
  char zPath[1100];
  const char *zSchemas = admin_opt(argc, argv, "schemas");
  node_config_defaults(&cfg, NULL);
  snprintf(zPath, sizeof zPath, "%s/regions.json", zSchemas ? zSchemas : cfg.zSchemas);
  json_t *pAll = json_load_file(zPath, 0, &err), *v;
  size_t i;
  if (!pAll) {
    fprintf(stderr, "zc-admin regions: %s: %s\n", zPath, err.text);
    return 1;
  }
  json_array_foreach(json_object_get(pAll, "nodes"), i, v)
    printf("%s\t%s\n", json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(v, "name")));
  json_decref(pAll);
  return 0;
}

int cmd_init(int argc, char **argv) {
  zc_node node;
  if (open_node(&node, argc, argv, NULL)) return 1;
  node_close(&node);
  return 0;
}

/* Create one account; password hashed here (no event loop to protect). */
static int add_account(zc_node *p, const account_new *pIn, const char *zPassword, char zId[40],
                       char zUser[24]) {
  account_new a = *pIn;
  char zHash[SECRET_HASH_MAX];
  const char *zErr = validate_password(zPassword, NULL);
  if (zErr) {
    fprintf(stderr, "zc-admin: password refused: %s\n", zErr);
    return -1;
  }
  if (secret_password_hash(zPassword, zHash)) return -1;
  a.zPasswordHash = zHash;
  return account_insert(p, &a, zId, zUser);
}

int cmd_account(int argc, char **argv) {
  zc_node node;
  char zId[40], zUser[24];
  char *zUnitId = NULL;
  int rc = 1;
  account_new a = {.zRole = admin_opt(argc, argv, "role"), .zName = admin_opt(argc, argv, "name"),
                   .zPhone = admin_opt(argc, argv, "phone"), .zDept = admin_opt(argc, argv, "dept"),
                   .zCommittee = admin_opt(argc, argv, "committee")};
  const char *zPassword = admin_opt(argc, argv, "password"), *zUnit = admin_opt(argc, argv, "unit");
  if (admin_opt(argc, argv, "id-number")) {
    /* one ID number, one account federation-wide: only the registrar's claim, made when
     * the portal registers someone (POST /api/v1/accounts), may give an account one */
    fprintf(stderr, "zc-admin account: no --id-number: an applicant with an ID number registers through the"
                    " portal, where the registrar (650000) claims it\n");
    return 2;
  }
  if (!a.zRole || !role_from_name(a.zRole) || !a.zName || !zPassword) {
    fprintf(stderr, "zc-admin account: --role (applicant, unit_admin, dept_admin, committee_admin,"
                    " node_admin, auditor), --name and --password are required\n");
    return 2;
  }
  const char *zErr = validate_person_name(a.zName);
  if (!zErr && a.zPhone) zErr = validate_phone(a.zPhone);
  if (zErr) {
    fprintf(stderr, "zc-admin account: %s\n", zErr);
    return 2;
  }
  if (open_node(&node, argc, argv, NULL)) return 1;
  if (zUnit && !(zUnitId = db_text(node.db, "SELECT id FROM units WHERE credit_code = ?", "t", zUnit))) {
    fprintf(stderr, "zc-admin account: no unit with credit code %s\n", zUnit);
    goto done;
  }
  a.zUnit = zUnitId;
  if (db_begin(node.db)) goto done;
  if (add_account(&node, &a, zPassword, zId, zUser) || db_commit(node.db)) {
    db_rollback(node.db);
    fprintf(stderr, "zc-admin account: not created (is the ID number or unit already used?)\n");
    goto done;
  }
  printf("{\"id\":\"%s\",\"username\":\"%s\",\"role\":\"%s\",\"node\":\"%s\"}\n", zId, zUser, a.zRole,
         node.cfg.zNode);
  rc = 0;
done:
  free(zUnitId);
  node_close(&node);
  return rc;
}

/* ---- demo seeding ---- */

static json_t *demo_entry(zc_node *p, const char *zRole, const char *zUser, const char *zPassword) {
  return json_pack("{s:s, s:s, s:s, s:s}", "node", p->cfg.zNode, "role", zRole, "login", zUser,
                   "password", zPassword);
}

/* The node's staff. Its demo unit and applicant register over HTTP once the federation
 * runs (tools/demo_register.py), so that the registrar claims their identifiers. */
static int seed_people(zc_node *p, json_t *aOut) {
  char zAcc[40], zUser[24];
  char *zDept = db_text(p->db, "SELECT id FROM depts WHERE node = ? ORDER BY id LIMIT 1", "t", p->cfg.zNode);
  int rc = -1;
  account_new aDept = {.zRole = "dept_admin", .zName = "王志强", .zDept = zDept};
  account_new aAdmin = {.zRole = "node_admin", .zName = "赵敏"};
  account_new aAudit = {.zRole = "auditor", .zName = "孙立"};
  if (!zDept || add_account(p, &aDept, "Dept#2026", zAcc, zUser)) goto done;
  json_t *e = demo_entry(p, "dept_admin", zUser, "Dept#2026");
  json_object_set_new(e, "dept", json_string(zDept));
  json_array_append_new(aOut, e);
  if (add_account(p, &aAdmin, "Admin#2026", zAcc, zUser)) goto done;
  json_array_append_new(aOut, demo_entry(p, "node_admin", zUser, "Admin#2026"));
  if (add_account(p, &aAudit, "Audit#2026", zAcc, zUser)) goto done;
  json_array_append_new(aOut, demo_entry(p, "auditor", zUser, "Audit#2026"));
  rc = 0;
done:
  free(zDept);
  return rc;
}

/* Every committee of this node: windows open from today for 90 days for each specialty
 * it covers, a limit of 3 submissions, and one committee admin each. */
static int seed_committees(zc_node *p, json_t *aOut) {
  char zAcc[40], zUser[24];
  json_t *aIds = db_rows(p->db, "SELECT id FROM committees WHERE node = ? ORDER BY id", "t", p->cfg.zNode), *v;
  size_t i;
  int rc = 0;
  json_array_foreach(aIds, i, v) {
    const char *zId = json_string_value(json_object_get(v, "id"));
    account_new a = {.zRole = "committee_admin", .zName = "刘评审", .zCommittee = zId};
    rc |= db_exec(p->db, "UPDATE committees SET submit_limit = 3 WHERE id = ?", "t", zId);
    rc |= db_exec(p->db, "INSERT OR REPLACE INTO committee_windows(committee_id, specialty, opens, closes)"
                  " SELECT DISTINCT ?1, sp.code, date('now', '+8 hours'), date('now', '+8 hours', '+90 days')"
                  " FROM committee_scopes s JOIN specialties sp ON sp.series = s.series"
                  " WHERE s.committee_id = ?1 AND (s.specialty IS NULL OR s.specialty = sp.code)", "t", zId);
    if (rc || committee_announce(p, zId) || add_account(p, &a, "Cmte#2026", zAcc, zUser)) {
      rc = -1;
      break;
    }
    json_t *e = demo_entry(p, "committee_admin", zUser, "Cmte#2026");
    json_object_set_new(e, "committee", json_string(zId));
    json_array_append_new(aOut, e);
  }
  json_decref(aIds);
  return rc ? -1 : 0;
}

/* Replace node zNode's entries in the JSON array file zPath with aNew (atomically). */
static int merge_demo_file(const char *zPath, const char *zNode, json_t *aNew) {
  json_t *aAll = json_load_file(zPath, 0, NULL), *v;
  json_t *aOut = json_array();
  size_t i;
  if (json_is_array(aAll))
    json_array_foreach(aAll, i, v) {
      const char *z = json_string_value(json_object_get(v, "node"));
      if (!z || strcmp(z, zNode) != 0) json_array_append(aOut, v);
    }
  json_array_extend(aOut, aNew);
  char *z = json_dumps(aOut, JSON_INDENT(1));
  int rc = !z || fed_file_write_atomic(zPath, z, strlen(z), 0600) ? -1 : 0;
  free(z);
  json_decref(aAll);
  json_decref(aOut);
  return rc;
}

int cmd_seed(int argc, char **argv) {
  zc_node node;
  const char *zOut = admin_opt(argc, argv, "out");
  int rc = 1;
  if (!admin_flag(argc, argv, "demo") || !zOut) {
    fprintf(stderr, "usage: zc-admin seed --demo --data DIR --node ID --out FILE [--pepper F]\n");
    return 2;
  }
  if (open_node(&node, argc, argv, NULL)) return 1;
  if (db_int(node.db, 0, "SELECT count(*) FROM accounts WHERE role = 'node_admin'", NULL) > 0) {
    rc = 0; /* seeded before: nothing to do */
    goto done;
  }
  json_t *aOut = json_array();
  if (db_begin(node.db) || seed_people(&node, aOut) ||
      seed_committees(&node, aOut) || db_commit(node.db)) {
    db_rollback(node.db);
    fprintf(stderr, "zc-admin seed: failed for node %s\n", node.cfg.zNode);
  } else if (merge_demo_file(zOut, node.cfg.zNode, aOut)) {
    fprintf(stderr, "zc-admin seed: cannot write %s\n", zOut);
  } else {
    rc = 0;
  }
  json_decref(aOut);
done:
  node_close(&node);
  return rc;
}

/* ---- the route table ---- */

/* Space-separated entry types as a JSON array: all of them (bWhen 0) or those marked '?',
 * emitted only when the call needs them (bWhen 1), without the mark. */
static json_t *entry_list(const char *zTypes, int bWhen) {
  json_t *a = json_array();
  while (zTypes && *zTypes) {
    size_t n = strcspn(zTypes, " ");
    int bMarked = n && zTypes[n - 1] == '?';
    if (n && (!bWhen || bMarked)) json_array_append_new(a, json_stringn(zTypes, n - (size_t)bMarked));
    zTypes += n + (zTypes[n] == ' ');
  }
  return a;
}

int cmd_routes(int argc, char **argv) {
  static const char *aMethod[] = {[HTTP_GET] = "GET", [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
                                  [HTTP_DELETE] = "DELETE"};
  json_t *aRoutes = json_array(), *aTypes = json_array();
  (void)argc;
  (void)argv;
  for (int i = 0; i < g_nRoutes; i++) {
    const zc_route *r = &g_routes[i];
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "method", aMethod[r->method], "path", r->zPattern, "entries",
                          entry_list(r->zEntries, 0), "entries_when_needed", entry_list(r->zEntries, 1));
    json_object_set_new(o, "local", r->zLocal ? json_string(r->zLocal) : json_null());
    json_array_append_new(aRoutes, o);
  }
  for (int i = 0; i < g_nEntryTypes; i++)
    json_array_append_new(aTypes, json_pack("{s:s, s:i, s:s}", "type", g_entryTypes[i].zType, "v", g_entryTypes[i].v,
                                            "body", g_entryTypes[i].zBody));
  json_t *pOut = json_pack("{s:o, s:o}", "routes", aRoutes, "entries", aTypes);
  int rc = json_dumpf(pOut, stdout, JSON_INDENT(1)) ? 1 : 0;
  putchar('\n');
  json_decref(pOut);
  return rc;
}
