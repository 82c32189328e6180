/* fedview.c - the auditor's log browser (fedview.h): fed_entries read a page at a time
 * through the indexes of schemas/006, each entry checked again on the way out with the
 * federation's one entry check (entry.h) against the manifest, on the event loop (the
 * only thread that reads node_manifest()). */
#include "fedview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "entries.h"
#include "entry.h"
#include "fed_error.h"
#include "keys.h"
#include "trust.h"

/* What a page asks for; empty strings: no such filter. */
typedef struct entries_query {
  char zOrigin[16];
  char zType[64];
  char zAccount[40];
  char zApplication[40];
  int nLimit;
  char zAfterOrigin[16]; /* the cursor: after entry (zAfterOrigin, iAfterSeq) */
  long long iAfterSeq;
} entries_query;

/* The filter expressions, the same text as the indexes of schemas/006_fed_entries_browse.sql. */
#define ENTRY_TEXT "CAST(entry AS TEXT)"
#define APPLICATION_OF "json_extract(" ENTRY_TEXT ", '$.body.application')"
#define ACCOUNT_OF                                                                                   \
  "coalesce(json_extract(" ENTRY_TEXT ", '$.body.account'), json_extract(" ENTRY_TEXT ", '$.body.applicant'), " \
  "json_extract(" ENTRY_TEXT ", '$.body.author'), json_extract(" ENTRY_TEXT ", '$.body.actor'))"

/* One origin's part of a page: ?1 origin, ?2 seqs below, ?3 type, ?4 application, ?5
 * account, ?6 how many. One literal per combination of filters (the statement cache keys
 * on the text's address; an "?3 IS NULL OR" would keep sqlite off the indexes). */
#define PAGE_SELECT                                                                                  \
  "SELECT origin, seq, type, entry, sig, hash, received, applied FROM fed_entries"                  \
  " WHERE origin = ?1 AND seq < ?2"
#define BY_TYPE " AND type = ?3"
#define BY_APPLICATION " AND " APPLICATION_OF " = ?4"
#define BY_ACCOUNT " AND " ACCOUNT_OF " = ?5"
#define PAGE_ORDER " ORDER BY seq DESC LIMIT ?6" /* ?6 last: every ?N up to it may be bound */
static const char *const g_azPageSql[8] = {
  PAGE_SELECT PAGE_ORDER,
  PAGE_SELECT BY_TYPE PAGE_ORDER,
  PAGE_SELECT BY_APPLICATION PAGE_ORDER,
  PAGE_SELECT BY_TYPE BY_APPLICATION PAGE_ORDER,
  PAGE_SELECT BY_ACCOUNT PAGE_ORDER,
  PAGE_SELECT BY_TYPE BY_ACCOUNT PAGE_ORDER,
  PAGE_SELECT BY_APPLICATION BY_ACCOUNT PAGE_ORDER,
  PAGE_SELECT BY_TYPE BY_APPLICATION BY_ACCOUNT PAGE_ORDER,
};

/* 1 when z is 1..nMax characters, each a letter, digit or one of zExtra. */
static int token_ok(const char *z, size_t nMax, const char *zExtra) {
  size_t n = strlen(z);
  if (n == 0 || n > nMax) return 0;
  for (; *z; z++)
    if (!((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') || (*z >= '0' && *z <= '9') || strchr(zExtra, *z)))
      return 0;
  return 1;
}

/* Each parameter's message when it is wrong. */
static const char *const g_azRefusal[][2] = {
  {"origin", "未知的节点"},
  {"type", "未知的条目类型"},
  {"account", "账号应为账号编号或用户名"},
  {"application", "申请书编号格式不正确"},
  {"limit", "每页条数应为1至200的整数"},
  {"cursor", "分页位置格式不正确，请从第一页重新查询"},
};

/* 400 invalid_field for parameter zName; -1. */
static int refuse(zc_req *r, const char *zName) {
  const char *zMsg = "参数不正确";
  for (size_t i = 0; i < sizeof g_azRefusal / sizeof g_azRefusal[0]; i++)
    if (strcmp(g_azRefusal[i][0], zName) == 0) zMsg = g_azRefusal[i][1];
  http_field_error(r, 400, "invalid_field", zName, zMsg);
  return -1;
}

/* Parameter zName into out ("" when absent); -1 when it does not fit (answered 400). */
static int query_param(zc_req *r, const char *zName, char *out, size_t nOut) {
  int rc = http_query(r, zName, out, nOut);
  if (rc == HTTP_TOO_LONG) return refuse(r, zName);
  if (rc) out[0] = 0;
  return 0;
}

/* A positive decimal integer of at most 15 digits (exact in JSON everywhere); -1 if not. */
static long long positive_int(const char *z) {
  long long v = 0;
  if (!z[0] || strlen(z) > 15) return -1;
  for (; *z; z++) {
    if (*z < '0' || *z > '9') return -1;
    v = v * 10 + (*z - '0');
  }
  return v > 0 ? v : -1;
}

/* The cursor "ORIGIN:SEQ" into q; -1 when malformed. */
static int cursor_parse(const zc_node *p, const char *z, entries_query *q) {
  const char *zColon = strchr(z, ':');
  size_t nOrigin = zColon ? (size_t)(zColon - z) : 0;
  if (nOrigin == 0 || nOrigin >= sizeof q->zAfterOrigin) return -1;
  memcpy(q->zAfterOrigin, z, nOrigin);
  q->zAfterOrigin[nOrigin] = 0;
  q->iAfterSeq = positive_int(zColon + 1);
  return node_region_name(p, q->zAfterOrigin) && q->iAfterSeq > 0 ? 0 : -1;
}

/* Entries name accounts by id: a username (digits only, an id never is) becomes the id of
 * its account, as this node knows it or as the account's registration entry says (an
 * account of another node: a scan of the registrations, the one filter without an index). */
static void account_of_username(zc_node *p, char zAccount[40]) {
  if (zAccount[strspn(zAccount, "0123456789")] != 0) return;
  char *zId = db_text(p->db, "SELECT id FROM accounts WHERE username = ?", "t", zAccount);
  if (!zId)
    zId = db_text(p->db, "SELECT json_extract(" ENTRY_TEXT ", '$.body.account') FROM fed_entries"
                  " WHERE type = 'account.registered' AND json_extract(" ENTRY_TEXT ", '$.body.username') = ?"
                  " LIMIT 1", "t", zAccount);
  if (zId) snprintf(zAccount, 40, "%s", zId);
  free(zId);
}

/* Read and check the query; -1 when it was answered 400. */
static int query_read(zc_req *r, entries_query *q) {
  zc_node *p = r->node;
  char zLimit[16], zCursor[48];
  memset(q, 0, sizeof *q);
  if (query_param(r, "origin", q->zOrigin, sizeof q->zOrigin) || query_param(r, "type", q->zType, sizeof q->zType) ||
      query_param(r, "account", q->zAccount, sizeof q->zAccount) ||
      query_param(r, "application", q->zApplication, sizeof q->zApplication) ||
      query_param(r, "limit", zLimit, sizeof zLimit) || query_param(r, "cursor", zCursor, sizeof zCursor))
    return -1;
  if (q->zOrigin[0] && !node_region_name(p, q->zOrigin)) return refuse(r, "origin");
  if (q->zType[0] && (!token_ok(q->zType, sizeof q->zType - 1, "._") ||
                      (!entry_type_find(q->zType) &&
                       !db_int(p->db, 0, "SELECT 1 FROM fed_entries WHERE type = ? LIMIT 1", "t", q->zType))))
    return refuse(r, "type");
  if (q->zAccount[0] && !token_ok(q->zAccount, sizeof q->zAccount - 1, "_-")) return refuse(r, "account");
  if (q->zApplication[0] && !token_ok(q->zApplication, sizeof q->zApplication - 1, "_-"))
    return refuse(r, "application");
  long long nLimit = zLimit[0] ? positive_int(zLimit) : FEDVIEW_LIMIT;
  if (nLimit < 1 || nLimit > FEDVIEW_LIMIT_MAX) return refuse(r, "limit");
  q->nLimit = (int)nLimit;
  if (zCursor[0] && cursor_parse(p, zCursor, q)) return refuse(r, "cursor");
  if (q->zAccount[0]) account_of_username(p, q->zAccount);
  return 0;
}

/* ---- checking one stored entry ---- */

static void problem_add(json_t *aProblems, const char *zCode, const char *zDetail) {
  json_array_append_new(aProblems, json_pack("{s:s, s:s}", "code", zCode, "detail", zDetail));
}

static void problem_cb(int rc, const char *zCode, const char *zMessage, void *payload) {
  (void)rc;
  problem_add(payload, zCode, zMessage);
}

/* The hash of the entry held just before (zOrigin, iSeq) into zOut ("" before seq 1);
 * -1 when this node does not hold it. */
static int prev_hash(zc_node *p, const char *zOrigin, long long iSeq, char zOut[FED_SHA256_HEX_SIZE]) {
  int rc = -1;
  zOut[0] = 0;
  if (iSeq == 1) return 0;
  sqlite3_stmt *pStmt = db_prepare(p->db, "SELECT entry FROM fed_entries WHERE origin = ? AND seq = ?", "tI", zOrigin,
                                   (sqlite3_int64)(iSeq - 1));
  if (pStmt && sqlite3_step(pStmt) == SQLITE_ROW) {
    fed_sha256_hex(zOut, sqlite3_column_blob(pStmt, 0), (size_t)sqlite3_column_bytes(pStmt, 0));
    rc = 0;
  }
  if (pStmt) sqlite3_reset(pStmt);
  return rc;
}

/* Every problem of the stored entry (origin, seq, bytes, signature, hash): an empty array
 * when it verifies. */
static json_t *entry_problems(zc_node *p, const char *zOrigin, long long iSeq, const char *zJson, size_t nJson,
                              const unsigned char *aSig, size_t nSig, const char *zStoredHash) {
  json_t *a = json_array();
  char zPrev[FED_SHA256_HEX_SIZE], zDetail[160];
  int bPrev = prev_hash(p, zOrigin, iSeq, zPrev) == 0;
  fed_entry_expect x = {zOrigin, iSeq, bPrev ? zPrev : NULL, node_manifest(p), 0, NULL, 0};
  fed_entry_facts f;
  if (!node_manifest(p)) problem_add(a, "no_manifest", "this node runs without a manifest: signatures are unchecked");
  fed_entry_check(&f, &x, zJson, nJson, aSig, nSig, problem_cb, a);
  if (!bPrev) {
    snprintf(zDetail, sizeof zDetail, "entry %lld of %s is not held here: prev unchecked", iSeq - 1, zOrigin);
    problem_add(a, "seq_gap", zDetail);
  }
  if (strcmp(f.zHash, zStoredHash) != 0) {
    snprintf(zDetail, sizeof zDetail, "the stored hash %.16s… is not the entry's (%.16s…)", zStoredHash, f.zHash);
    problem_add(a, "hash_mismatch", zDetail);
  }
  return a;
}

/* The page statement's current row as an item (fedview.h). */
static json_t *entry_item(zc_node *p, sqlite3_stmt *s) {
  const char *zOrigin = (const char *)sqlite3_column_text(s, 0);
  long long iSeq = sqlite3_column_int64(s, 1);
  const char *zJson = sqlite3_column_blob(s, 3);
  size_t nJson = (size_t)sqlite3_column_bytes(s, 3);
  const unsigned char *aSig = sqlite3_column_blob(s, 4);
  size_t nSig = (size_t)sqlite3_column_bytes(s, 4);
  const char *zHash = (const char *)sqlite3_column_text(s, 5);
  json_t *aProblems = entry_problems(p, zOrigin, iSeq, zJson ? zJson : "", nJson,
                                     aSig ? aSig : (const unsigned char *)"", nSig, zHash ? zHash : "");
  json_t *pDoc = json_loadb(zJson ? zJson : "", nJson, 0, NULL); /* what it says, even when it fails its checks */
  json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:I, s:b, s:o?}", "origin", zOrigin, "seq", (json_int_t)iSeq, "type",
                        (const char *)sqlite3_column_text(s, 2), "hash", zHash ? zHash : "", "own",
                        strcmp(zOrigin, p->cfg.zNode) == 0, "received_at", (json_int_t)sqlite3_column_int64(s, 6),
                        "applied", sqlite3_column_type(s, 7) != SQLITE_NULL, "applied_at",
                        sqlite3_column_type(s, 7) != SQLITE_NULL ? json_integer(sqlite3_column_int64(s, 7)) : NULL);
  static const char *azFromEntry[] = {"ts", "key", "prev", "v", "body"};
  for (size_t i = 0; i < sizeof azFromEntry / sizeof azFromEntry[0]; i++) {
    json_t *v = json_is_object(pDoc) ? json_object_get(pDoc, azFromEntry[i]) : NULL;
    json_object_set(o, azFromEntry[i], v ? v : json_null());
  }
  json_set_time(o, "received_at");
  json_set_time(o, "applied_at");
  json_object_set_new(o, "verification",
                      json_string(json_array_size(aProblems) ? jstr(json_array_get(aProblems, 0), "code") : "verified"));
  json_object_set_new(o, "problems", aProblems);
  json_decref(pDoc);
  return o;
}

/* ---- a page ---- */

/* Entries of one origin into aItems, newest first below iBefore: up to *pnLeft, and one
 * more when there is one (then *pbMore). -1 on a database error. */
static int origin_page(zc_node *p, const entries_query *q, const char *zOrigin, long long iBefore, json_t *aItems,
                       int *pnLeft, int *pbMore) {
  int iSql = (q->zType[0] ? 1 : 0) | (q->zApplication[0] ? 2 : 0) | (q->zAccount[0] ? 4 : 0);
  sqlite3_stmt *s = db_prepare(p->db, g_azPageSql[iSql], "tIttti", zOrigin, (sqlite3_int64)iBefore, q->zType,
                               q->zApplication, q->zAccount, *pnLeft + 1);
  int rc;
  if (!s) return -1;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (*pnLeft == 0) {
      *pbMore = 1;
      break;
    }
    json_array_append_new(aItems, entry_item(p, s));
    (*pnLeft)--;
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The origins this node holds, with their newest entry here. */
static json_t *heads_json(zc_node *p) {
  json_t *a = db_rows(p->db, "SELECT origin, seq, hash, updated FROM fed_heads ORDER BY origin", NULL), *v;
  size_t i;
  json_array_foreach(a, i, v) {
    node_put_region_names(p, v, "origin", "name");
    json_set_time(v, "updated");
  }
  return a;
}

int fedview_entries_get(zc_req *r) {
  zc_node *p = r->node;
  entries_query q;
  char zNext[48] = "";
  int nLeft, bMore = 0, rc = 0;
  if (query_read(r, &q)) return 0;
  json_t *aHeads = heads_json(p), *aItems = json_array(), *v;
  size_t i;
  nLeft = q.nLimit;
  json_array_foreach(aHeads, i, v) {
    const char *zOrigin = jstr(v, "origin");
    int iCmp = strcmp(zOrigin, q.zAfterOrigin);
    if ((q.zOrigin[0] && strcmp(zOrigin, q.zOrigin) != 0) || (q.zAfterOrigin[0] && iCmp < 0)) continue;
    rc = origin_page(p, &q, zOrigin, q.zAfterOrigin[0] && iCmp == 0 ? q.iAfterSeq : (long long)1 << 62, aItems, &nLeft,
                     &bMore);
    if (rc || bMore) break;
  }
  if (rc) {
    json_decref(aHeads);
    json_decref(aItems);
    return -1;
  }
  json_t *pLast = json_array_get(aItems, json_array_size(aItems) - 1);
  if (bMore && pLast)
    snprintf(zNext, sizeof zNext, "%s:%lld", jstr(pLast, "origin"), (long long)json_integer_value(json_object_get(pLast, "seq")));
  return http_json(r, 200, json_pack("{s:o, s:s?, s:o}", "items", aItems, "next", zNext[0] ? zNext : NULL, "heads", aHeads));
}
