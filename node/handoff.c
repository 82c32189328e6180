/* handoff.c - applications handed from node to node (handoff.h): the snapshot, the
 * hand-off entry, fetching and taking over at the receiver, and the read-only copies. */
#include "handoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "canon.h"
#include "db.h"
#include "fed_error.h"
#include "http.h"
#include "keys.h"
#include "live.h"
#include "outbox.h"
#include "rfc3339.h"
#include "secret.h"
#include "trust.h"

#define TICK_MS 500        /* how often the receiver looks for hand-offs to fetch */
#define RETRY_MAX_SECS 30  /* the longest wait between two tries of one hand-off */

/* ---- the snapshot: the application's rows as JSON arrays, column by column ----
 * One table of what travels; the export and import statements are made from it once. */
typedef struct snap_table {
  const char *zTable, *zKey;   /* the table, its member in the snapshot */
  const char *zColumns;        /* travelling columns (application_id is implied) */
  const char *zWhere;          /* which rows travel (NULL: all of the application's) */
  const char *zOrder;
  int bMerge;                  /* rows keyed elsewhere (history: origin, seq): kept, merged */
  char *zExport, *zDelete, *zImport;
} snap_table;

#define APP_COLUMNS                                                                                              \
  "id, applicant_id, year, series, specialty, qualification, level, unit_id, unit_node, dept_id, dept_node,"     \
  " committee_id, committee_node, directed, status, returned_by, round, submit_count, unit_acted,"               \
  " recommendation, created, updated, submitted, revision"

static snap_table g_tables[] = {
    {"application_sections", "sections", "section, data_json, updated, missing", NULL, "section", 0, 0, 0, 0},
    {"application_attachments", "attachments", "id, section, name, sha256, type, size, uploaded", NULL, "id", 0, 0, 0, 0},
    {"application_access", "access", "kind, ref", NULL, "kind, ref", 0, 0, 0, 0},
    {"application_opinions", "opinions", "round, stage, section, text, author_id, updated", NULL,
     "round, stage, section", 0, 0, 0, 0},
    {"application_history", "history",
     "at, actor_id, actor_name, actor_role, action, from_status, to_status, detail_json, origin, seq",
     "origin IS NOT NULL", "origin, seq", 1, 0, 0, 0},
};
#define N_TABLES (sizeof g_tables / sizeof g_tables[0])

static char *g_zExport, *g_zImportApp; /* the whole snapshot; the application's row */

static void fetch_soon(void);

/* Each column of "c1, c2, ..." as `zPrefix<index>` (bIndex) or `c = excluded.c`, joined
 * by ", ". */
static void each_column(zc_buf *b, const char *zColumns, const char *zPrefix, int bIndex) {
  int i = 0;
  for (const char *z = zColumns; *z; i++) {
    while (*z == ' ' || *z == ',') z++;
    int n = (int)strcspn(z, ",");
    if (bIndex) buf_printf(b, "%s%s%d", i ? ", " : "", zPrefix, i);
    else buf_printf(b, "%s%.*s = excluded.%.*s", i ? ", " : "", n, z, n, z);
    z += n;
  }
}

static int snapshot_sql_make(void) {
  zc_buf e = {0}, a = {0};
  if (g_zExport) return 0;
  buf_printf(&e, "SELECT json_object('application', json((SELECT json_array(" APP_COLUMNS
                 ") FROM applications WHERE id = ?1))");
  buf_printf(&a, "INSERT INTO applications(" APP_COLUMNS ", holder) SELECT ");
  each_column(&a, APP_COLUMNS, "j->>", 1);
  buf_printf(&a, ", ?2 FROM (SELECT ?1->'$.application' AS j) WHERE j IS NOT NULL ON CONFLICT(id) DO UPDATE SET ");
  each_column(&a, APP_COLUMNS, NULL, 0);
  buf_printf(&a, ", holder = excluded.holder");
  for (size_t i = 0; i < N_TABLES; i++) {
    snap_table *t = &g_tables[i];
    zc_buf d = {0}, m = {0};
    buf_printf(&e, ", '%s', json((SELECT json_group_array(json_array(%s)) FROM (SELECT * FROM %s WHERE"
               " application_id = ?1%s%s ORDER BY %s)))", t->zKey, t->zColumns, t->zTable, t->zWhere ? " AND " : "",
               t->zWhere ? t->zWhere : "", t->zOrder);
    buf_printf(&d, "DELETE FROM %s WHERE application_id = ?1->>'$.application[0]'", t->zTable);
    buf_printf(&m, "INSERT OR IGNORE INTO %s(application_id, %s) SELECT ?1->>'$.application[0]', ", t->zTable,
               t->zColumns);
    each_column(&m, t->zColumns, "value->>", 1);
    buf_printf(&m, " FROM json_each(?1, '$.%s')", t->zKey);
    t->zDelete = t->bMerge ? NULL : d.z;
    if (t->bMerge) buf_free(&d);
    t->zImport = m.z;
  }
  buf_printf(&e, ") AS snapshot");
  g_zExport = e.z;
  g_zImportApp = a.z;
  return g_zExport && g_zImportApp ? 0 : -1;
}

/* The application's snapshot as text, and its hash (of the canonical form). */
static char *snapshot_text(zc_node *p, const char *zApp, char zSha[FED_SHA256_HEX_SIZE]) {
  if (snapshot_sql_make()) return NULL;
  char *z = db_text(p->db, g_zExport, "t", zApp);
  json_t *v = z ? json_loads(z, 0, NULL) : NULL;
  size_t n = 0;
  char *zCanon = v ? fed_canon(v, &n) : NULL;
  if (zCanon) fed_sha256_hex(zSha, zCanon, n);
  json_decref(v);
  if (!zCanon) {
    free(z);
    z = NULL;
  }
  free(zCanon);
  return z;
}

/* Does snapshot v hash to zSha? */
static int snapshot_matches(const json_t *v, const char *zSha) {
  char zGot[FED_SHA256_HEX_SIZE];
  size_t n = 0;
  char *zCanon = fed_canon(v, &n);
  if (!zCanon) return 0;
  fed_sha256_hex(zGot, zCanon, n);
  free(zCanon);
  return strcmp(zGot, zSha) == 0;
}

/* ---- the sender ---- */

/* Keep the snapshot of zApp as it now is for zTo and log zType (application.handoff or
 * application.copy) with its hashes. */
static int send_snapshot(zc_node *p, const char *zApp, const char *zTo, int bLeave, const char *zType) {
  char zSha[FED_SHA256_HEX_SIZE];
  sqlite3_int64 now = (sqlite3_int64)node_now(p);
  char *zSnap = snapshot_text(p, zApp, zSha);
  json_t *pBody = zSnap ? db_row(p->db, "SELECT id AS application, ?2 AS 'from', ?3 AS 'to', revision, status,"
                                 " (SELECT json_group_array(sha256) FROM (SELECT DISTINCT sha256 FROM"
                                 " application_attachments WHERE application_id = ?1 ORDER BY sha256)) AS attachments_json"
                                 " FROM applications WHERE id = ?1", "ttt", zApp, p->cfg.zNode, zTo)
                        : NULL;
  int rc = -1;
  if (pBody) {
    json_object_set_new(pBody, "snapshot", json_string(zSha));
    rc = db_exec(p->db, "INSERT OR REPLACE INTO handoffs_out(application, revision, to_node, snapshot, sha256, created,"
                 " leave) VALUES(?,?,?,?,?,?,?)", "tItttIi", zApp,
                 (sqlite3_int64)json_integer_value(json_object_get(pBody, "revision")), zTo, zSnap, zSha, now, bLeave);
  }
  if (rc == 0) {
    fprintf(stderr, "zc-node: %s: %s to %s (revision %lld)\n", zType, zApp, zTo,
            (long long)json_integer_value(json_object_get(pBody, "revision")));
    rc = outbox_record(p, zType, pBody, NULL);
    pBody = NULL;
  }
  json_decref(pBody);
  free(zSnap);
  return rc;
}

int handoff_out(zc_node *p, const char *zApp, const char *zTo, int bLeave) {
  /* a hand-off is a write like any other: its revision orders it among the holders' changes */
  if (db_exec(p->db, "UPDATE applications SET holder = ?, revision = revision + 1 WHERE id = ? AND holder = ?", "ttt", zTo,
              zApp, p->cfg.zNode) ||
      sqlite3_changes(p->db) != 1)
    return -1;
  return send_snapshot(p, zApp, zTo, bLeave, "application.handoff");
}

int handoff_copy_out(zc_node *p, const char *zApp, const char *zTo) {
  return send_snapshot(p, zApp, zTo, 0, "application.copy");
}

int handoff_reaches(zc_node *p, const char *zNode) {
  const fed_manifest *m = p->pTrust ? node_manifest(p) : NULL;
  return m && zNode && strcmp(zNode, p->cfg.zNode) != 0 && fed_manifest_find_node(m, zNode) >= 0;
}

int handoff_follow(zc_node *p, const char *zApp) {
  char *zNext = db_text(p->db, "SELECT CASE status WHEN 'unit_review' THEN unit_node WHEN 'dept_review' THEN dept_node"
                        " WHEN 'committee_review' THEN committee_node WHEN 'returned' THEN (SELECT home FROM accounts"
                        " WHERE accounts.id = applicant_id) END FROM applications WHERE id = ? AND holder = ?", "tt",
                        zApp, p->cfg.zNode);
  int rc = handoff_reaches(p, zNext) ? handoff_out(p, zApp, zNext, 0) : 0;
  free(zNext);
  return rc;
}

/* The hand-off of zApp at revision iRev to the caller, as kept here; NULL when there is none. */
static json_t *handoff_to_caller(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  const char *zApp = jstr(pArgs, "application");
  json_int_t iRev = json_integer_value(json_object_get(pArgs, "revision"));
  if (!zApp) return NULL;
  return db_row(p->db, "SELECT snapshot, sha256 FROM handoffs_out WHERE application = ? AND revision = ? AND to_node = ?",
                "tIt", zApp, (sqlite3_int64)iRev, pFrom->zNode);
}

int handoff_serve_snapshot(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  json_t *h = handoff_to_caller(p, pFrom, pArgs);
  json_t *v = h ? json_loads(jstr(h, "snapshot"), 0, NULL) : NULL;
  if (v) fedcall_answer(pFrom, json_pack("{s:o}", "snapshot", v), NULL);
  else fedcall_answer(pFrom, NULL, "no_handoff");
  json_decref(h);
  return 0;
}

int handoff_serve_blob(zc_node *p, const fedcall_from *pFrom, json_t *pArgs) {
  json_t *h = handoff_to_caller(p, pFrom, pArgs);
  const char *zSha = jstr(pArgs, "sha256");
  int bOk = h && zSha &&
            db_int(p->db, 0, "SELECT 1 FROM application_attachments WHERE application_id = ? AND sha256 = ?", "tt",
                   jstr(pArgs, "application"), zSha);
  json_decref(h);
  char *zB64 = bOk ? blob_read_base64(p->cfg.zData, zSha) : NULL;
  if (zB64) fedcall_answer(pFrom, json_pack("{s:s}", "data", zB64), NULL);
  else fedcall_answer(pFrom, NULL, "no_blob");
  free(zB64);
  return 0;
}

/* ---- the receiver ---- */

int handoff_apply_handoff(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  const char *zApp = jstr(b, "application"), *zTo = jstr(b, "to"), *zSha = jstr(b, "snapshot");
  json_int_t iRev = json_integer_value(json_object_get(b, "revision"));
  if (!zApp || !zTo || !zSha || !json_is_array(json_object_get(b, "attachments")))
    return fed_error_set(FED_EINVALID, "application.handoff without application, to, snapshot or attachments");
  int bCopy = strcmp(e->zType, "application.copy") == 0;
  if (strcmp(zTo, p->cfg.zNode) != 0) /* a copy here learns who holds it now */
    return bCopy || db_exec(p->db, "UPDATE applications SET holder = ? WHERE id = ? AND revision <= ? AND holder <> ?",
                            "ttIt", zTo, zApp, (sqlite3_int64)iRev, p->cfg.zNode)
               ? (bCopy ? FED_OK : FED_ERROR) : FED_OK;
  char *zAtt = json_dumps(json_object_get(b, "attachments"), JSON_COMPACT);
  /* a copy never displaces a hand-off waiting to be fetched */
  int rc = zAtt ? db_exec(p->db, bCopy ? "INSERT OR IGNORE INTO handoffs_in(application, from_node, revision, sha256,"
                          " attachments_json, received, copy) VALUES(?,?,?,?,?,?,1)"
                          : "INSERT OR REPLACE INTO handoffs_in(application, from_node, revision, sha256,"
                          " attachments_json, received) VALUES(?,?,?,?,?,?)", "ttIttI", zApp, e->zOrigin,
                          (sqlite3_int64)iRev, zSha, zAtt, (sqlite3_int64)node_now(p))
                : -1;
  free(zAtt);
  if (rc == 0) fetch_soon(); /* once this transaction has committed, not at the next tick */
  return rc ? FED_ERROR : FED_OK;
}

int handoff_apply_accepted(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const char *zApp = jstr(e->pBody, "application"), *zFrom = jstr(e->pBody, "from");
  json_int_t iRev = json_integer_value(json_object_get(e->pBody, "revision"));
  if (!zApp || !zFrom || strcmp(zFrom, p->cfg.zNode) != 0) return FED_OK;
  int bLeave = (int)db_int(p->db, 0, "SELECT leave FROM handoffs_out WHERE application = ? AND revision = ? AND to_node = ?",
                           "tIt", zApp, (sqlite3_int64)iRev, e->zOrigin);
  if (db_exec(p->db, "DELETE FROM handoffs_out WHERE application = ? AND revision = ? AND to_node = ?", "tIt", zApp,
              (sqlite3_int64)iRev, e->zOrigin))
    return FED_ERROR;
  /* leaving: the application's rows go, and its attachments' bytes with the next sweep */
  if (bLeave && db_exec(p->db, "DELETE FROM applications WHERE id = ? AND holder = ?", "tt", zApp, e->zOrigin))
    return FED_ERROR;
  return FED_OK;
}

json_t *handoff_in_flight(zc_node *p) {
  return json_pack("{s:o, s:o}", "incoming",
                   db_rows(p->db, "SELECT application, from_node AS 'from', revision, tries, rfc3339(received) AS since"
                           " FROM handoffs_in ORDER BY received LIMIT 100", NULL),
                   "outgoing",
                   db_rows(p->db, "SELECT application, to_node AS 'to', revision, rfc3339(created) AS since FROM"
                           " handoffs_out ORDER BY created LIMIT 100", NULL));
}

int handoff_apply_moved(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  const char *zApp = jstr(b, "application"), *zTo = jstr(b, "to");
  json_int_t iRev = json_integer_value(json_object_get(b, "revision"));
  if (!zApp || !zTo) return FED_OK; /* the entry's own checks are the origin's */
  /* only a copy whose holder is the entry's origin follows it */
  if (!db_int(p->db, 0, "SELECT 1 FROM applications WHERE id = ? AND holder = ? AND holder <> ?", "ttt", zApp, e->zOrigin,
              p->cfg.zNode))
    return FED_OK;
  char *zDetail = json_object_get(b, "detail") ? json_dumps(json_object_get(b, "detail"), JSON_COMPACT | JSON_ENCODE_ANY)
                                                : NULL;
  time_t tAt = 0;
  if (e->zTs) fed_rfc3339_parse(&tAt, e->zTs);
  int rc = db_exec(p->db, "UPDATE applications SET status = ?, returned_by = ?, revision = max(revision, ?), updated = ?"
                   " WHERE id = ?", "ttIIt", zTo, jstr(b, "returned_by"), (sqlite3_int64)iRev, (sqlite3_int64)tAt, zApp) ||
           db_exec(p->db, "INSERT OR IGNORE INTO application_history(application_id, at, actor_id, actor_name, actor_role,"
                   " action, from_status, to_status, detail_json, origin, seq) VALUES(?,?,?,coalesce((SELECT name FROM"
                   " accounts WHERE id = ?3), ''),?,?,?,?,?,?,?)", "tItttttttI", zApp, (sqlite3_int64)tAt,
                   jstr(b, "actor"), jstr(b, "actor_role"), jstr(b, "action"), jstr(b, "from"), zTo, zDetail,
                   e->zOrigin, (sqlite3_int64)e->iSeq);
  free(zDetail);
  if (rc == 0) live_node_changed(p, zApp); /* the applicant at home sees the move at once */
  return rc ? FED_ERROR : FED_OK;
}

/* ---- fetching, one hand-off at a time ---- */

static struct {
  zc_node *p;
  struct lws_context *ctx;
  lws_sorted_usec_list_t sul;
  int bBusy;
  json_t *pIn;       /* the handoffs_in row being fetched */
  json_t *pSnap;     /* its snapshot, once fetched and checked */
  size_t iBlob;      /* the next attachment to look at */
} g_ho;

static void fetch_end(int bOk) {
  zc_node *p = g_ho.p;
  if (p && !bOk && g_ho.pIn) {
    json_int_t nTries = json_integer_value(json_object_get(g_ho.pIn, "tries")) + 1;
    sqlite3_int64 wait = nTries < 5 ? (sqlite3_int64)1 << nTries : RETRY_MAX_SECS;
    db_exec(p->db, "UPDATE handoffs_in SET tries = ?, next_try = ? WHERE application = ?", "IIt", (sqlite3_int64)nTries,
            (sqlite3_int64)node_now(p) + (wait < RETRY_MAX_SECS ? wait : RETRY_MAX_SECS), jstr(g_ho.pIn, "application"));
  }
  json_decref(g_ho.pIn);
  json_decref(g_ho.pSnap);
  g_ho.pIn = g_ho.pSnap = NULL;
  g_ho.iBlob = 0;
  g_ho.bBusy = 0;
}

/* Take the application over: its rows as the snapshot has them, held here. */
static int take_over(zc_node *p) {
  const char *zApp = jstr(g_ho.pIn, "application");
  char *zSnap = json_dumps(g_ho.pSnap, JSON_COMPACT);
  int rc = zSnap ? db_begin(p->db) : -1;
  if (rc == 0) {
    for (size_t i = 0; rc == 0 && i < N_TABLES; i++)
      if (g_tables[i].zDelete) rc = db_exec(p->db, g_tables[i].zDelete, "t", zSnap);
    /* a copy stays held by its sender; a hand-off is held here from now on */
    int bCopy = json_integer_value(json_object_get(g_ho.pIn, "copy")) == 1;
    rc = rc || db_exec(p->db, g_zImportApp, "tt", zSnap, bCopy ? jstr(g_ho.pIn, "from_node") : p->cfg.zNode);
    for (size_t i = 0; rc == 0 && i < N_TABLES; i++) rc = db_exec(p->db, g_tables[i].zImport, "t", zSnap);
    if (rc == 0) live_node_changed(p, zApp); /* a new item in the reviewer's queue here */
    rc = rc || db_exec(p->db, "DELETE FROM handoffs_in WHERE application = ?", "t", zApp) ||
         outbox_record(p, "application.accepted",
                       json_pack("{s:s, s:s, s:I, s:b}", "application", zApp, "from", jstr(g_ho.pIn, "from_node"),
                                 "revision", json_integer_value(json_object_get(g_ho.pIn, "revision")), "copy",
                                 json_integer_value(json_object_get(g_ho.pIn, "copy")) == 1), NULL) ||
         db_commit(p->db);
    if (rc) db_rollback(p->db);
    live_node_flush(rc == 0);
  }
  if (rc == 0) fprintf(stderr, "zc-node: hand-off: took %s over from %s\n", zApp, jstr(g_ho.pIn, "from_node"));
  else fprintf(stderr, "zc-node: hand-off: cannot take %s over yet; retried\n", zApp);
  free(zSnap);
  return rc;
}

static void fetch_next_blob(void);

static void on_blob(void *pCtx, const fedcall_result *res) {
  char *zSha = pCtx;
  const char *zData = res->rc == FEDCALL_OK ? jstr(res->pResult, "data") : NULL;
  int bOk = g_ho.p && blob_store_base64(g_ho.p->cfg.zData, zData, zSha) == 0;
  if (!g_ho.p) {
    free(zSha);
    return;
  }
  if (!bOk) {
    fprintf(stderr, "zc-node: hand-off: attachment %.16s… of %s did not arrive intact\n", zSha,
            jstr(g_ho.pIn, "application"));
    free(zSha);
    fetch_end(0);
    return;
  }
  free(zSha);
  g_ho.iBlob++;
  fetch_next_blob();
}

/* The attachments this node lacks, one call each, then the take-over. */
static void fetch_next_blob(void) {
  zc_node *p = g_ho.p;
  json_t *a = json_loads(jstr(g_ho.pIn, "atts"), 0, NULL);
  char zPath[4096];
  for (; g_ho.iBlob < json_array_size(a); g_ho.iBlob++) {
    const char *zSha = json_string_value(json_array_get(a, g_ho.iBlob));
    char *zWant = zSha && blob_path(p->cfg.zData, zSha, zPath, sizeof zPath) != 0 ? strdup(zSha) : NULL;
    if (zWant) {
      fedcall_send(jstr(g_ho.pIn, "from_node"), "app.blob",
                   json_pack("{s:s, s:O, s:s}", "application", jstr(g_ho.pIn, "application"), "revision",
                             json_object_get(g_ho.pIn, "revision"), "sha256", zWant),
                   on_blob, zWant);
      json_decref(a);
      return;
    }
  }
  json_decref(a);
  fetch_end(take_over(p) == 0);
}

static void on_snapshot(void *pCtx, const fedcall_result *res) {
  (void)pCtx;
  if (!g_ho.p) return;
  json_t *v = res->rc == FEDCALL_OK ? json_object_get(res->pResult, "snapshot") : NULL;
  const json_t *pApp = json_object_get(v, "application");
  if (!json_is_object(v) || !json_is_array(pApp) ||
      strcmp(json_string_value(json_array_get(pApp, 0)) ? json_string_value(json_array_get(pApp, 0)) : "",
             jstr(g_ho.pIn, "application")) != 0 ||
      !snapshot_matches(v, jstr(g_ho.pIn, "sha256"))) {
    fprintf(stderr, "zc-node: hand-off: the snapshot of %s from %s is %s\n", jstr(g_ho.pIn, "application"),
            jstr(g_ho.pIn, "from_node"), res->rc == FEDCALL_OK ? "not the one logged: refused" : "not available yet");
    fetch_end(0);
    return;
  }
  g_ho.pSnap = json_incref(v);
  fetch_next_blob();
}

static void tick(lws_sorted_usec_list_t *sul) {
  zc_node *p = g_ho.p;
  if (!g_ho.bBusy && !p->bRecovering) { /* a take-over writes entries: not while recovering */
    g_ho.pIn = db_row(p->db, "SELECT application, from_node, revision, sha256, attachments_json AS atts, tries, copy"
                      " FROM handoffs_in WHERE next_try <= ? ORDER BY received LIMIT 1", "I",
                      (sqlite3_int64)node_now(p));
    if (g_ho.pIn) {
      g_ho.bBusy = 1;
      fedcall_send(jstr(g_ho.pIn, "from_node"), "app.snapshot",
                   json_pack("{s:s, s:O}", "application", jstr(g_ho.pIn, "application"), "revision",
                             json_object_get(g_ho.pIn, "revision")),
                   on_snapshot, NULL);
    }
  }
  lws_sul_schedule(g_ho.ctx, 0, sul, tick, TICK_MS * LWS_US_PER_MS);
}

static void fetch_soon(void) {
  if (g_ho.ctx && !g_ho.bBusy) lws_sul_schedule(g_ho.ctx, 0, &g_ho.sul, tick, LWS_US_PER_MS);
}

void handoff_start(zc_node *p, struct lws_context *ctx) {
  if (!p->pTrust || snapshot_sql_make()) return;
  g_ho.p = p;
  g_ho.ctx = ctx;
  lws_sul_schedule(ctx, 0, &g_ho.sul, tick, TICK_MS * LWS_US_PER_MS);
}

void handoff_stop(void) {
  if (!g_ho.ctx) return;
  lws_sul_cancel(&g_ho.sul);
  g_ho.ctx = NULL;
  json_decref(g_ho.pIn);
  json_decref(g_ho.pSnap);
  g_ho.pIn = g_ho.pSnap = NULL;
  g_ho.p = NULL; /* replies still due find nothing to do */
}
