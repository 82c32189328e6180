/* outbox.c - recording federation entries beside the changes they announce (outbox.h).
 *
 * The entry's exact bytes are built here, once, canonically (fed_canon), inside the
 * transaction of the change: origin, seq (the origin's next, read from the outbox itself:
 * BEGIN IMMEDIATE holds the write lock, so no other writer can take the same seq), prev
 * (SHA-256 hex of the previous entry's stored bytes), ts (RFC 3339 UTC), key (the node's
 * key id valid at ts) and v (entries.c). The log writer only signs and stores them. */
#include "outbox.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "db.h"
#include "entries.h"
#include "fed_error.h"
#include "keys.h"
#include "logwriter.h"
#include "manifest.h"
#include "rfc3339.h"
#include "trust.h"
#include "apply.h"

/* The id of the key this node signs with at t ("650000#1"; trust.h). A node run without a
 * manifest (alone, in tests) has no key: its entries carry key "" and stay unsigned. */
static int key_id_at(const zc_node *p, time_t t, const char **out) {
  const fed_manifest_key *pListed = NULL;
  *out = "";
  if (!p->pTrust) return 0;
  if (!trust_key_at(p->pTrust, p->cfg.zNode, t, &pListed)) {
    fprintf(stderr, "zc-node: no key of node %s that this node holds is valid now\n", p->cfg.zNode);
    return -1;
  }
  *out = pListed->zId;
  return 0;
}

/* Build entry seq of zType with pBody (borrowed) at t, store its bytes, hash and the
 * body's canonical text: INSERT for a new row, UPDATE for a row written before 004. */
static int build_and_store(zc_node *p, sqlite3_int64 seq, const char *zType, json_t *pBody, time_t t, int bUpdate) {
  const zc_entry_type *pType = entry_type_find(zType);
  char zTs[FED_RFC3339_SIZE], zHash[FED_SHA256_HEX_SIZE];
  const char *zKey = NULL;
  char *zEntry = NULL, *zBody = NULL, *zPrev = NULL;
  size_t nEntry = 0;
  json_t *pEntry = NULL;
  int rc = -1;
  if (!pType || !json_is_object(pBody)) {
    fprintf(stderr, "zc-node: entry type %s is not in entries.c or has no body\n", zType ? zType : "(null)");
    goto done;
  }
  if (fed_rfc3339_format(zTs, t) || key_id_at(p, t, &zKey)) goto done;
  zPrev = db_text(p->db, "SELECT hash FROM outbox WHERE seq < ? AND hash IS NOT NULL ORDER BY seq DESC LIMIT 1",
                  "I", seq);
  pEntry = json_pack("{s:O, s:s, s:s, s:s, s:I, s:s, s:s, s:i}", "body", pBody, "key", zKey, "origin",
                     p->cfg.zNode, "prev", zPrev ? zPrev : "", "seq", (json_int_t)seq, "ts", zTs, "type", zType,
                     "v", pType->v);
  if (!pEntry || !(zEntry = fed_canon(pEntry, &nEntry)) || !(zBody = fed_canon(pBody, NULL))) {
    fprintf(stderr, "zc-node: entry %s cannot be canonical: %s\n", zType, fed_last_error());
    goto done;
  }
  fed_sha256_hex(zHash, zEntry, nEntry);
  if (bUpdate)
    rc = db_exec(p->db, "UPDATE outbox SET body_json = ?, entry = ?, hash = ?, state = 'built' WHERE seq = ?",
                 "tbtI", zBody, zEntry, (int)nEntry, zHash, seq);
  else
    rc = db_exec(p->db, "INSERT INTO outbox(seq, type, body_json, created, entry, hash, state)"
                 " VALUES(?,?,?,?,?,?,'built')", "IttIbt", seq, zType, zBody, (sqlite3_int64)t, zEntry,
                 (int)nEntry, zHash);
done:
  json_decref(pEntry);
  free(zEntry);
  free(zBody);
  free(zPrev);
  return rc;
}

int outbox_record(zc_node *p, const char *zType, json_t *pBody, sqlite3_int64 *pSeq) {
  int rc = -1;
  /* The entry and the change commit together or not at all. */
  assert(!sqlite3_get_autocommit(p->db));
  if (sqlite3_get_autocommit(p->db)) {
    fprintf(stderr, "zc-node: entry %s recorded outside a transaction: refused\n", zType ? zType : "(null)");
    goto done;
  }
  sqlite3_int64 seq = db_int(p->db, 0, "SELECT coalesce(max(seq), 0) + 1 FROM outbox", NULL);
  rc = build_and_store(p, seq, zType, pBody, node_now(p), 0);
  if (rc == 0) logwriter_notify(); /* looked at once the loop's turn is over (committed or not) */
  if (rc == 0 && pSeq) *pSeq = seq;
done:
  json_decref(pBody);
  return rc;
}

int outbox_adopt(zc_node *p, sqlite3_int64 seq, const char *zEntry, size_t nEntry, const char *zHash) {
  fed_entry_view v;
  json_t *pDoc = NULL;
  char *zBody = NULL;
  time_t t = 0;
  int rc = -1;
  if (fed_entry_view_parse(&v, &pDoc, zEntry, nEntry) == FED_OK && v.iSeq == seq &&
      fed_rfc3339_parse(&t, v.zTs) == FED_OK && (zBody = fed_canon(v.pBody, NULL)) != NULL) {
    rc = db_exec(p->db, "INSERT INTO outbox(seq, type, body_json, created, entry, hash, state)"
                 " VALUES(?,?,?,?,?,?,'logged') ON CONFLICT(seq) DO UPDATE SET state = 'logged'"
                 " WHERE outbox.hash = excluded.hash", "IttIbt", seq, v.zType, zBody, (sqlite3_int64)t, zEntry,
                 (int)nEntry, zHash);
    if (rc == 0 && sqlite3_changes(p->db) == 0) {
      fprintf(stderr, "zc-node: our entry %lld as a peer holds it differs from the outbox's\n", (long long)seq);
      rc = -1;
    }
  }
  json_decref(pDoc);
  free(zBody);
  return rc;
}

int outbox_build_legacy(zc_node *p) {
  json_t *aRows = db_rows(p->db, "SELECT seq, type, body_json, created FROM outbox WHERE state = 'legacy'"
                          " ORDER BY seq", NULL), *v;
  size_t i;
  int rc = aRows ? 0 : -1;
  if (rc || json_array_size(aRows) == 0) goto done;
  if ((rc = db_begin(p->db))) goto done;
  json_array_foreach(aRows, i, v) {
    json_t *pBody = json_object_get(v, "body");
    rc = build_and_store(p, json_integer_value(json_object_get(v, "seq")), json_string_value(json_object_get(v, "type")),
                         pBody, (time_t)json_integer_value(json_object_get(v, "created")), 1);
    if (rc) break;
  }
  if (rc || (rc = db_commit(p->db))) db_rollback(p->db);
done:
  json_decref(aRows);
  return rc;
}
