/* logwriter.c - the outbox moved into DATA/fedlog.git (logwriter.h).
 *
 * Two sides. The thread owns the log handle and a read-only sqlite connection of its
 * own (the statement cache of db.c belongs to the event loop's connection): it reconciles
 * at start and appends batches, and never writes sqlite. The event loop asks for one job
 * at a time, and when the thread is done applies the result in a transaction of its own
 * connection: rows marked 'logged', fed_heads updated, errors and alerts noted. */
#include "logwriter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "entries.h"
#include "fed_error.h"
#include "fedlog.h"
#include "handoff.h"
#include "live.h"
#include "transfer.h"
#include "fedlink.h"
#include "http.h"
#include "keys.h"
#include "rfc3339.h"
#include "apply.h"
#include "fed_file.h"
#include "trust.h"
#include "outbox.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

enum { JOB_NONE, JOB_RECONCILE, JOB_BACKFILL, JOB_APPEND, JOB_RECEIVE };

/* What the thread did, handed to the loop. */
typedef struct job_result {
  int eJob;
  int rc;                /* FED_OK or the FED_* code of the failure */
  int bMismatch;         /* the log holds something the outbox does not: never extend it */
  long long iSeq;        /* the seq the mismatch or failure is about (0: none) */
  long long iFirst, iLast; /* the seqs appended (or, reconciling, 1..head) */
  size_t nAdded, nPresent;
  int bFull;             /* the batch was full: more rows wait */
  fed_log_head head;     /* this origin's head afterwards */
  zc_batch out;          /* entries now in git that sqlite's fed_entries must hold */
  zc_batch *pIn;         /* JOB_RECEIVE: the batch received (the loop's, handed back) */
  char zMessage[512];
} job_result;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  /* set at start, read-only after */
  int bRunning;
  fedlog *pLog;
  sqlite3 *dbRead;
  char zData[600];
  char zOrigin[16];
  void (*xWake)(void *);
  void *pWakeArg;
  /* under mu */
  int bStop, eJob, bDone, bTick;
  const zc_trust *pTrustNext; /* a newer edition (trust.h), taken before the next job */
  /* the thread's own */
  const zc_trust *pTrust;
  zc_batch *pJobIn;      /* JOB_RECEIVE's batch */
  job_result res;
  /* the event loop's own */
  int bNotified, bInFlight, bReconcileAsked, bReconciled, bRefused, bOwnTurn;
  fed_log_head head;
  long long nAppends, nLogged, nReceived;
  unsigned long long iGeneration; /* grows with every change of fed_entries / fed_heads */
  int bBackfilled;
  zc_batch *pRecvHead, *pRecvTail; /* received batches waiting for the thread, in order */
  int nRecvQueued;
  logwriter_received_fn xReceived;
  char zLastError[512];
  time_t tLastError;
  json_t *aAlerts;
} g_lw = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void logwriter_notify(void) { g_lw.bNotified = 1; }

/* ---- the thread ---- */

static void result_fail(job_result *r, int rc, long long iSeq, const char *zMessage) {
  r->rc = rc;
  r->iSeq = iSeq;
  snprintf(r->zMessage, sizeof r->zMessage, "%s", zMessage);
}

typedef struct reconcile_ctx {
  sqlite3_stmt *pRows; /* the outbox's seq, hash in seq order */
  job_result *r;
} reconcile_ctx;

/* One entry the log holds: it must be the outbox row of its seq. */
static int reconcile_entry(const fed_log_entry *e, long long iSeq, void *payload) {
  reconcile_ctx *c = payload;
  char zHash[FED_SHA256_HEX_SIZE], zMsg[512];
  fed_sha256_hex(zHash, e->zJson, e->nJson);
  int rc = sqlite3_step(c->pRows);
  if (rc != SQLITE_ROW) {
    snprintf(zMsg, sizeof zMsg, "the log holds entry %lld (%.16s…) that this node's outbox does not: the database "
             "is older than the log (restore the newer entries first)", iSeq, zHash);
  } else if (sqlite3_column_int64(c->pRows, 0) != iSeq) {
    snprintf(zMsg, sizeof zMsg, "the outbox has no row %lld but the log holds it", iSeq);
  } else if (strcmp((const char *)sqlite3_column_text(c->pRows, 1), zHash) != 0) {
    snprintf(zMsg, sizeof zMsg, "the log holds a different entry at seq %lld (%.16s…, the outbox %.16s…): "
             "extending it would be equivocation", iSeq, zHash, (const char *)sqlite3_column_text(c->pRows, 1));
  } else {
    return 0;
  }
  c->r->bMismatch = 1;
  result_fail(c->r, FED_EEQUIVOCATION, iSeq, zMsg);
  return FED_EEQUIVOCATION;
}

/* Every entry of ours in git against the outbox, oldest first. */
static void job_reconcile(job_result *r) {
  reconcile_ctx c = {NULL, r};
  int rc = fedlog_head(&r->head, g_lw.pLog, g_lw.zOrigin);
  if (rc) {
    result_fail(r, rc, 0, fed_last_error());
    return;
  }
  r->iFirst = 1;
  r->iLast = r->head.iSeq;
  if (r->head.iSeq == 0) return;
  if (sqlite3_prepare_v2(g_lw.dbRead, "SELECT seq, hash FROM outbox WHERE hash IS NOT NULL ORDER BY seq", -1,
                         &c.pRows, NULL) != SQLITE_OK) {
    result_fail(r, FED_ERROR, 0, sqlite3_errmsg(g_lw.dbRead));
    return;
  }
  rc = fedlog_read(g_lw.pLog, g_lw.zOrigin, 1, reconcile_entry, &c);
  if (rc && !r->bMismatch) result_fail(r, rc, 0, fed_last_error());
  sqlite3_finalize(c.pRows);
}

/* ---- batches: entries of one origin, contiguous, with copies of their bytes ---- */

void zc_batch_free(zc_batch *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n; i++) free(b->azJson[i]);
  free(b->a);
  free(b->aSig);
  free(b->azJson);
  memset(b, 0, sizeof *b);
}

int zc_batch_add(zc_batch *b, const char *zJson, size_t nJson, const unsigned char *aSig) {
  if (b->n == b->nAlloc) {
    size_t nNew = b->nAlloc ? 2 * b->nAlloc : 64;
    fed_log_entry *a = realloc(b->a, nNew * sizeof *a);
    if (a) b->a = a;
    unsigned char(*aS)[FED_SIG_SIZE] = realloc(b->aSig, nNew * sizeof *aS);
    if (aS) b->aSig = aS;
    char **az = realloc(b->azJson, nNew * sizeof *az);
    if (az) b->azJson = az;
    if (!a || !aS || !az) return -1;
    b->nAlloc = nNew;
    for (size_t i = 0; i < b->n; i++) b->a[i].aSig = b->aSig[i];
  }
  char *z = malloc(nJson + 1);
  if (!z) return -1;
  memcpy(z, zJson, nJson);
  z[nJson] = 0;
  b->azJson[b->n] = z;
  if (aSig) memcpy(b->aSig[b->n], aSig, FED_SIG_SIZE);
  b->a[b->n] = (fed_log_entry){z, nJson, b->aSig[b->n], 0};
  b->n++;
  return 0;
}

/* The private key for the key id an entry was built with (outbox.c chose it by its ts). */
static const fed_key *entry_key(const void *pJson, size_t nJson) {
  json_t *pDoc = json_loadb(pJson, nJson, 0, NULL);
  const char *zKey = json_string_value(json_object_get(pDoc, "key"));
  const fed_key *pKey = zKey ? trust_key_by_id(g_lw.pTrust, zKey) : NULL;
  if (!pKey) fed_error_set(FED_ENOTFOUND, "this node holds no private key for the key its entry names");
  json_decref(pDoc);
  return pKey;
}

static int batch_read(zc_batch *b, job_result *r) {
  sqlite3_stmt *pStmt = NULL;
  int rc = FED_OK;
  memset(b, 0, sizeof *b);
  snprintf(b->zOrigin, sizeof b->zOrigin, "%s", g_lw.zOrigin);
  if (sqlite3_prepare_v2(g_lw.dbRead, "SELECT seq, entry FROM outbox WHERE state = 'built' ORDER BY seq LIMIT ?", -1,
                         &pStmt, NULL) != SQLITE_OK) {
    result_fail(r, FED_ERROR, 0, "cannot read the outbox");
    sqlite3_finalize(pStmt);
    return FED_ERROR;
  }
  sqlite3_bind_int(pStmt, 1, LOGWRITER_BATCH);
  while (rc == FED_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    long long iSeq = sqlite3_column_int64(pStmt, 0);
    size_t nJson = (size_t)sqlite3_column_bytes(pStmt, 1);
    const void *pJson = sqlite3_column_blob(pStmt, 1);
    unsigned char aSig[FED_SIG_SIZE];
    if (b->n == 0) r->iFirst = b->iFirst = iSeq;
    if (iSeq != r->iFirst + (long long)b->n || !pJson) {
      result_fail(r, FED_ERROR, iSeq, "the outbox's built rows are not contiguous");
      rc = FED_ERROR;
      break;
    }
    const fed_key *pKey = entry_key(pJson, nJson);
    if (!pKey || fed_key_sign(aSig, pKey, pJson, nJson) || zc_batch_add(b, pJson, nJson, aSig)) {
      result_fail(r, FED_ERROR, iSeq, fed_last_error());
      rc = FED_ERROR;
      break;
    }
    /* the first of each batch is verified in full: a private key that does not match
     * the manifest's public key is caught before anything is written */
    b->a[b->n - 1].bSignedHere = b->n > 1;
    r->iLast = iSeq;
  }
  sqlite3_finalize(pStmt);
  r->bFull = b->n == LOGWRITER_BATCH;
  return rc;
}

/* The event loop's commits are durable only once sqlite's WAL reaches the disk
 * (synchronous=NORMAL fsyncs it at checkpoints); git's objects and refs are fsynced as
 * they are written. Entries go to git only after the rows they came from are on disk, so
 * that a power cut can never leave the log holding an entry the outbox lost. fsync works
 * on the file, whichever descriptor wrote it. */
static int sync_outbox(job_result *r) {
  char zWal[700];
  snprintf(zWal, sizeof zWal, "%s/node.db-wal", g_lw.zData);
  int fd = open(zWal, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0; /* no WAL: everything is in the database file, synced at checkpoint */
  int rc = fsync(fd);
  close(fd);
  if (rc) result_fail(r, FED_ERROR, 0, "cannot sync the database's WAL to disk");
  return rc;
}

/* Sign what waits and append it in one call. */
static void job_append(job_result *r) {
  zc_batch b;
  fed_log_append_result a;
  memset(&a, 0, sizeof a);
  if (batch_read(&b, r) == FED_OK && b.n > 0 && sync_outbox(r) == 0) {
    /* tests: each of our changes reaches our log, and so the peers, 3 s late (what happens
     * between a change and its entry's arrival elsewhere) */
    if (node_failpoint_named("slow_log")) sleep(3);
    int rc = fedlog_append(g_lw.pLog, g_lw.zOrigin, b.a, b.n, &a);
    r->nAdded = a.nAdded;
    r->nPresent = a.nPresent;
    if (rc) {
      result_fail(r, rc, r->iFirst + (long long)a.iEntry, fed_last_error());
      r->bMismatch = rc == FED_EEQUIVOCATION;
    } else {
      r->out = b; /* fed_entries gets them too: what peers are served from */
      memset(&b, 0, sizeof b);
    }
    fed_log_append_result_dispose(&a);
  }
  zc_batch_free(&b);
  if (fedlog_head(&r->head, g_lw.pLog, g_lw.zOrigin) && r->rc == FED_OK) result_fail(r, FED_ERROR, 0, fed_last_error());
}

/* Evidence of equivocation kept beside the log: both signed entries, as received. */
static void keep_evidence(const char *zOrigin, long long iSeq, const char *zHeld, size_t nHeld,
                          const unsigned char *aHeld, const fed_log_entry *pOffered) {
  char zPath[700], zDir[640];
  snprintf(zDir, sizeof zDir, "%s/evidence", g_lw.zData);
  mkdir(zDir, 0755);
  snprintf(zPath, sizeof zPath, "%s/%s.%lld.held.json", zDir, zOrigin, iSeq);
  fed_file_write_atomic(zPath, zHeld, nHeld, 0644);
  snprintf(zPath, sizeof zPath, "%s/%s.%lld.held.sig", zDir, zOrigin, iSeq);
  fed_file_write_atomic(zPath, aHeld, FED_SIG_SIZE, 0644);
  snprintf(zPath, sizeof zPath, "%s/%s.%lld.offered.json", zDir, zOrigin, iSeq);
  fed_file_write_atomic(zPath, pOffered->zJson, pOffered->nJson, 0644);
  snprintf(zPath, sizeof zPath, "%s/%s.%lld.offered.sig", zDir, zOrigin, iSeq);
  fed_file_write_atomic(zPath, pOffered->aSig, FED_SIG_SIZE, 0644);
}

/* Entries of another origin from a peer: verified and stored by fedlog_append, all or
 * nothing; what it refused is said in r, an equivocation kept as evidence. */
static void job_receive(job_result *r, zc_batch *b) {
  fed_log_append_result a;
  memset(&a, 0, sizeof a);
  r->pIn = b;
  if (b->bCheckpoint) {
    int rc = fedlog_checkpoint_put(g_lw.pLog, b->zOrigin, b->a[0].zJson, b->a[0].nJson, b->aSig[0]);
    if (rc) result_fail(r, rc, 0, fed_last_error());
    return;
  }
  r->iFirst = b->iFirst;
  r->iLast = b->iFirst + (long long)b->n - 1;
  int rc = fedlog_append(g_lw.pLog, b->zOrigin, b->a, b->n, &a);
  r->nAdded = a.nAdded;
  r->nPresent = a.nPresent;
  if (rc) {
    result_fail(r, rc, b->iFirst + (long long)a.iEntry, fed_last_error());
    if (rc == FED_EEQUIVOCATION) keep_evidence(b->zOrigin, a.iSeq, a.zHeld, a.nHeld, a.aHeld, &b->a[a.iEntry]);
  }
  fed_log_append_result_dispose(&a);
  if (fedlog_head(&r->head, g_lw.pLog, b->zOrigin) && r->rc == FED_OK) result_fail(r, FED_ERROR, 0, fed_last_error());
}

/* Collects what git holds beyond sqlite's fed_entries, up to LOGWRITER_BATCH entries. */
static int backfill_entry(const fed_log_entry *e, long long iSeq, void *payload) {
  zc_batch *b = payload;
  if (b->n == 0) b->iFirst = iSeq;
  if (zc_batch_add(b, e->zJson, e->nJson, e->aSig)) return FED_ERROR;
  return b->n >= LOGWRITER_BATCH ? 1 : 0;
}

/* The first origin whose entries in git are not all in fed_entries (a crash between the
 * append and the loop's commit, or a database older than the log): its missing entries. */
static void job_backfill(job_result *r) {
  for (size_t i = 0; i < fed_manifest_node_count(g_lw.pTrust->pManifest); i++) {
    const char *zOrigin = fed_manifest_node_id(g_lw.pTrust->pManifest, i);
    fed_log_head h;
    sqlite3_stmt *pStmt = NULL;
    long long iHave = 0;
    if (fedlog_head(&h, g_lw.pLog, zOrigin) || h.iSeq == 0) continue;
    if (sqlite3_prepare_v2(g_lw.dbRead, "SELECT coalesce(max(seq), 0) FROM fed_entries WHERE origin = ?", -1, &pStmt,
                           NULL) == SQLITE_OK) {
      sqlite3_bind_text(pStmt, 1, zOrigin, -1, SQLITE_STATIC);
      if (sqlite3_step(pStmt) == SQLITE_ROW) iHave = sqlite3_column_int64(pStmt, 0);
    }
    sqlite3_finalize(pStmt);
    if (iHave >= h.iSeq) continue;
    snprintf(r->out.zOrigin, sizeof r->out.zOrigin, "%s", zOrigin);
    int rc = fedlog_read(g_lw.pLog, zOrigin, iHave + 1, backfill_entry, &r->out);
    if (rc < 0) result_fail(r, rc, iHave + 1, fed_last_error());
    r->head = h;
    r->bFull = 1; /* look again: more origins or more entries may lack */
    return;
  }
}

static void *writer_main(void *pArg) {
  (void)pArg;
  pthread_mutex_lock(&g_lw.mu);
  while (!g_lw.bStop) {
    if (g_lw.eJob == JOB_NONE) {
      struct timespec t;
      clock_gettime(CLOCK_REALTIME, &t);
      t.tv_sec += LOGWRITER_TICK_SECS;
      if (pthread_cond_timedwait(&g_lw.cv, &g_lw.mu, &t) && g_lw.eJob == JOB_NONE && !g_lw.bStop) {
        g_lw.bTick = 1; /* nothing asked for a while: let the loop look again */
        g_lw.xWake(g_lw.pWakeArg);
      }
      continue;
    }
    job_result r;
    memset(&r, 0, sizeof r);
    r.eJob = g_lw.eJob;
    zc_batch *pIn = g_lw.pJobIn;
    if (g_lw.pTrustNext) { /* between jobs: nothing of the old edition is in use */
      g_lw.pTrust = g_lw.pTrustNext;
      g_lw.pTrustNext = NULL;
      fedlog_set_manifest(g_lw.pLog, g_lw.pTrust->pManifest);
    }
    pthread_mutex_unlock(&g_lw.mu);
    if (r.eJob == JOB_RECONCILE) job_reconcile(&r);
    else if (r.eJob == JOB_BACKFILL) job_backfill(&r);
    else if (r.eJob == JOB_RECEIVE) job_receive(&r, pIn);
    else job_append(&r);
    pthread_mutex_lock(&g_lw.mu);
    g_lw.res = r;
    g_lw.bDone = 1;
    g_lw.eJob = JOB_NONE;
    g_lw.xWake(g_lw.pWakeArg);
  }
  pthread_mutex_unlock(&g_lw.mu);
  return NULL;
}

/* ---- the event loop ---- */

static void note_error(const char *zMessage) {
  if (strcmp(zMessage, g_lw.zLastError) != 0)
    fprintf(stderr, "zc-node: log writer: %s\n", zMessage); /* once per distinct error */
  snprintf(g_lw.zLastError, sizeof g_lw.zLastError, "%s", zMessage);
  g_lw.tLastError = time(NULL);
}

/* The log and the outbox disagree: stop for good, loudly. */
static void refuse(zc_node *p, const job_result *r) {
  char zTs[FED_RFC3339_SIZE] = "";
  fed_rfc3339_format(zTs, node_now(p));
  g_lw.bRefused = 1;
  fprintf(stderr, "zc-node: LOG MISMATCH: %s; the log writer REFUSES to extend refs/fed/%s\n", r->zMessage,
          g_lw.zOrigin);
  note_error(r->zMessage);
  json_array_append_new(g_lw.aAlerts, json_pack("{s:s, s:s, s:I, s:s, s:s}", "code", "log_mismatch", "origin",
                                                g_lw.zOrigin, "seq", (json_int_t)r->iSeq, "message", r->zMessage,
                                                "at", zTs));
}

/* The rows [iFirst, iLast] are in the log (and none past the head when bRequeue). */
static int mark_logged(zc_node *p, const job_result *r, int bRequeue, int *pnMarked, int *pnRequeued) {
  int rc = db_begin(p->db);
  if (!rc) rc = db_exec(p->db, "UPDATE outbox SET state = 'logged' WHERE state = 'built' AND seq BETWEEN ? AND ?",
                        "II", (sqlite3_int64)r->iFirst, (sqlite3_int64)r->iLast);
  *pnMarked = rc ? 0 : sqlite3_changes(p->db);
  if (!rc && bRequeue)
    rc = db_exec(p->db, "UPDATE outbox SET state = 'built' WHERE state = 'logged' AND seq > ?", "I",
                 (sqlite3_int64)r->head.iSeq);
  *pnRequeued = rc || !bRequeue ? 0 : sqlite3_changes(p->db);
  if (!rc && r->head.iSeq > 0)
    rc = db_exec(p->db, "INSERT INTO fed_heads(origin, seq, hash, updated) VALUES(?,?,?,?) ON CONFLICT(origin)"
                 " DO UPDATE SET seq = excluded.seq, hash = excluded.hash, updated = excluded.updated",
                 "tItI", g_lw.zOrigin, (sqlite3_int64)r->head.iSeq, r->head.zHash, (sqlite3_int64)node_now(p));
  if (rc || (rc = db_commit(p->db))) db_rollback(p->db);
  return rc;
}

void logwriter_alert(const char *zCode, const char *zOrigin, long long iSeq, const char *zMessage) {
  char zTs[FED_RFC3339_SIZE] = "";
  if (!g_lw.aAlerts) return;
  for (size_t i = 0; i < json_array_size(g_lw.aAlerts); i++) { /* once per (code, origin, seq) */
    json_t *a = json_array_get(g_lw.aAlerts, i);
    if (strcmp(jstr(a, "code"), zCode) == 0 && strcmp(jstr(a, "origin"), zOrigin) == 0 &&
        json_integer_value(json_object_get(a, "seq")) == iSeq)
      return;
  }
  fed_rfc3339_format(zTs, time(NULL));
  fprintf(stderr, "zc-node: ALERT %s %s %lld: %s\n", zCode, zOrigin, iSeq, zMessage);
  if (json_array_size(g_lw.aAlerts) >= 100) json_array_remove(g_lw.aAlerts, 0); /* the newest hundred */
  json_array_append_new(g_lw.aAlerts, json_pack("{s:s, s:s, s:I, s:s, s:s}", "code", zCode, "origin", zOrigin, "seq",
                                                (json_int_t)iSeq, "message", zMessage, "at", zTs));
}

/* Apply one stored entry of another origin through the handler the node registered:
 * 1 applied, 0 not (yet). */
static int apply_entry(zc_node *p, const char *zJson, size_t nJson) {
  fed_entry_view v;
  json_t *pDoc = NULL;
  if (fed_entry_view_parse(&v, &pDoc, zJson, nJson)) return 0;
  int rc = fed_apply(&v);
  if (rc && rc != FED_EAGAIN && rc != FED_ENOTFOUND)
    fprintf(stderr, "zc-node: entry %s/%lld (%s) cannot be applied: %s\n", v.zOrigin, v.iSeq, v.zType,
            fed_last_error());
  if (rc == FED_OK)
    db_exec(p->db, "UPDATE fed_entries SET applied = ? WHERE origin = ? AND seq = ?", "ItI",
            (sqlite3_int64)node_now(p), v.zOrigin, (sqlite3_int64)v.iSeq);
  json_decref(pDoc);
  return rc == FED_OK;
}

/* Entries now in git into fed_entries (what peers are served from and the log browser
 * reads), each applied once: the row and its effects commit together. */
static int store_entries(zc_node *p, const zc_batch *b, int bReceived, int *pnApplied) {
  int bOwn = strcmp(b->zOrigin, g_lw.zOrigin) == 0, rc = db_begin(p->db);
  sqlite3_int64 tNow = (sqlite3_int64)node_now(p);
  for (size_t i = 0; rc == 0 && i < b->n; i++) {
    char zHash[FED_SHA256_HEX_SIZE], zType[64] = "";
    /* canonical order puts the entry's own "type" after body: its last occurrence */
    for (const char *z = b->azJson[i], *zT; (zT = strstr(z, ",\"type\":\"")); z = zT + 1)
      sscanf(zT + 9, "%63[^\"]", zType);
    fed_sha256_hex(zHash, b->a[i].zJson, b->a[i].nJson);
    rc = db_exec(p->db, "INSERT INTO fed_entries(origin, seq, type, entry, sig, hash, received, applied)"
                 " VALUES(?,?,?,?,?,?,?,NULLIF(?, 0)) ON CONFLICT DO NOTHING", "tItbbtII", b->zOrigin,
                 (sqlite3_int64)(b->iFirst + (long long)i), zType, b->a[i].zJson, (int)b->a[i].nJson, b->aSig[i],
                 FED_SIG_SIZE, zHash, tNow, bOwn ? tNow : (sqlite3_int64)0);
    if (rc == 0 && !bOwn && sqlite3_changes(p->db) == 1) *pnApplied += apply_entry(p, b->a[i].zJson, b->a[i].nJson);
    /* ours, recovered from a peer (fedlink.c): the outbox goes on after it */
    if (rc == 0 && bOwn && bReceived)
      rc = outbox_adopt(p, (sqlite3_int64)(b->iFirst + (long long)i), b->a[i].zJson, b->a[i].nJson, zHash);
    if (rc == 0 && (!bOwn || bReceived) && i + 1 == b->n)
      rc = db_exec(p->db, "INSERT INTO fed_heads(origin, seq, hash, updated) VALUES(?,?,?,?) ON CONFLICT(origin)"
                   " DO UPDATE SET seq = excluded.seq, hash = excluded.hash, updated = excluded.updated"
                   " WHERE excluded.seq > fed_heads.seq", "tItI", b->zOrigin,
                   (sqlite3_int64)(b->iFirst + (long long)i), zHash, tNow);
  }
  if (rc || (rc = db_commit(p->db))) db_rollback(p->db);
  else g_lw.iGeneration++;
  live_node_flush(rc == 0); /* what the entries applied changed, to the browsers it concerns */
  return rc;
}

unsigned long long logwriter_generation(void) { return g_lw.iGeneration; }

/* Entries that waited (a type this node learnt since, or something they refer to that
 * arrived since): tried again, oldest first. */
static void apply_waiting(zc_node *p) {
  char *zTypes = fed_apply_types_json();
  json_t *aRows = db_rows(p->db, "SELECT origin, seq, CAST(entry AS TEXT) AS entry FROM fed_entries"
                          " WHERE applied IS NULL AND type IN (SELECT value FROM json_each(?))"
                          " ORDER BY received, origin, seq LIMIT 1000", "t", zTypes ? zTypes : "[]");
  free(zTypes);
  size_t i;
  json_t *v;
  if (!aRows || json_array_size(aRows) == 0 || db_begin(p->db)) {
    json_decref(aRows);
    return;
  }
  json_array_foreach(aRows, i, v) {
    const char *z = jstr(v, "entry");
    apply_entry(p, z, strlen(z));
  }
  int rc = db_commit(p->db);
  if (rc) db_rollback(p->db);
  live_node_flush(rc == 0);
  json_decref(aRows);
}

static void apply_received(zc_node *p, const job_result *r) {
  zc_batch *b = r->pIn;
  int rc = r->rc, nApplied = 0;
  if (b->bCheckpoint) {
    if (rc && rc != FED_ECONFLICT) logwriter_alert("checkpoint_refused", b->zOrigin, 0, r->zMessage);
    zc_batch_free(b);
    free(b);
    return;
  }
  if (rc == FED_EEQUIVOCATION) {
    logwriter_alert("equivocation", b->zOrigin, r->iSeq, r->zMessage);
  } else if (rc) {
    logwriter_alert("entry_refused", b->zOrigin, r->iSeq, r->zMessage);
  } else if (store_entries(p, b, 1, &nApplied)) {
    rc = FED_ERROR;
    note_error("cannot store received entries (they are in the log: stored at the next start)");
  } else {
    g_lw.nReceived += (long long)r->nAdded;
    if (strcmp(b->zOrigin, g_lw.zOrigin) == 0) g_lw.head = r->head; /* our own, recovered */
    if (nApplied) apply_waiting(p); /* what waited may refer to what just came */
  }
  if (g_lw.xReceived) g_lw.xReceived(b->iToken, b->zOrigin, rc ? r->iSeq : r->iLast, rc, r->zMessage);
  zc_batch_free(b);
  free(b);
}

static void apply_result(zc_node *p, job_result *r) {
  int nMarked = 0, nRequeued = 0, nApplied = 0;
  if (r->eJob == JOB_RECEIVE) {
    apply_received(p, r);
    return;
  }
  if (r->bMismatch) {
    refuse(p, r);
    zc_batch_free(&r->out);
    return;
  }
  if (r->rc) {
    note_error(r->zMessage);
    zc_batch_free(&r->out);
    return;
  }
  if (r->eJob == JOB_BACKFILL) {
    if (r->out.n && store_entries(p, &r->out, 0, &nApplied)) note_error("cannot store the log's entries in fed_entries");
    else if (!r->bFull) {
      g_lw.bBackfilled = 1;
      apply_waiting(p); /* at start: entries of types this build learnt to apply */
    }
    zc_batch_free(&r->out);
    return;
  }
  g_lw.head = r->head;
  if (r->iLast >= r->iFirst && mark_logged(p, r, r->eJob == JOB_RECONCILE, &nMarked, &nRequeued)) {
    note_error("cannot mark the outbox's rows logged (retried)");
    zc_batch_free(&r->out);
    return;
  }
  if (r->out.n && store_entries(p, &r->out, 0, &nApplied)) note_error("cannot store our entries in fed_entries");
  zc_batch_free(&r->out);
  if (r->eJob == JOB_RECONCILE) {
    g_lw.bReconciled = 1;
    if (nMarked || nRequeued)
      fprintf(stderr, "zc-node: log writer: %d entries found in the log marked logged, %d re-queued\n", nMarked,
              nRequeued);
  } else {
    g_lw.nAppends++;
    g_lw.nLogged += (long long)r->nAdded;
  }
  g_lw.zLastError[0] = 0;
  if (r->bFull) g_lw.bNotified = 1;
}

static int rows_wait(zc_node *p) {
  return db_int(p->db, 0, "SELECT EXISTS(SELECT 1 FROM outbox WHERE state = 'built')", NULL) != 0;
}

static void ask(int eJob, zc_batch *pIn) {
  pthread_mutex_lock(&g_lw.mu);
  g_lw.eJob = eJob;
  g_lw.pJobIn = pIn;
  pthread_cond_signal(&g_lw.cv);
  pthread_mutex_unlock(&g_lw.mu);
  g_lw.bInFlight = 1;
}

/* The thread's next job, if any waits. */
static void next_job(zc_node *p, int bDone, int bTick) {
  if (g_lw.bInFlight || g_lw.bRefused) return;
  if (!g_lw.bReconciled) {
    if (bTick || !g_lw.bReconcileAsked) ask(JOB_RECONCILE, NULL); /* at start, and on a tick after a failure */
    g_lw.bReconcileAsked = 1;
    return;
  }
  if (!g_lw.bBackfilled) {
    if (bTick || bDone) ask(JOB_BACKFILL, NULL);
    return;
  }
  /* Received batches and our own appends take turns: neither starves the other. */
  int bOwnWaits = (g_lw.bNotified || bTick || bDone || g_lw.bOwnTurn) && rows_wait(p);
  if (g_lw.pRecvHead && !(bOwnWaits && g_lw.bOwnTurn)) {
    zc_batch *b = g_lw.pRecvHead;
    g_lw.pRecvHead = b->pNext;
    if (!g_lw.pRecvHead) g_lw.pRecvTail = NULL;
    g_lw.nRecvQueued--;
    b->pNext = NULL;
    g_lw.bOwnTurn = bOwnWaits;
    ask(JOB_RECEIVE, b);
  } else if (bOwnWaits) {
    g_lw.bOwnTurn = 0;
    ask(JOB_APPEND, NULL);
  }
  g_lw.bNotified = 0;
}

void logwriter_poll(zc_node *p) {
  job_result r;
  int bDone, bTick, bAfter = 0;
  if (!g_lw.bRunning) return;
  pthread_mutex_lock(&g_lw.mu);
  bDone = g_lw.bDone;
  bTick = g_lw.bTick;
  if (bDone) r = g_lw.res;
  g_lw.bDone = g_lw.bTick = 0;
  pthread_mutex_unlock(&g_lw.mu);
  if (bDone) {
    g_lw.bInFlight = 0;
    /* A received batch now in git goes into sqlite while the thread already verifies the
     * next one (a crash in between: git holds more than fed_entries, stored at start). */
    bAfter = r.eJob == JOB_RECEIVE && r.rc == FED_OK && !r.pIn->bCheckpoint;
    if (!bAfter) apply_result(p, &r);
  }
  next_job(p, bDone, bTick);
  if (bAfter) apply_result(p, &r);
}

void logwriter_trust(const zc_trust *t) {
  if (!g_lw.bRunning) return;
  pthread_mutex_lock(&g_lw.mu);
  g_lw.pTrustNext = t;
  pthread_mutex_unlock(&g_lw.mu);
}

void logwriter_checkpoint(const char *zNode, const char *zJson, size_t nJson, const unsigned char *aSig) {
  zc_batch *b = calloc(1, sizeof *b);
  if (!b || !g_lw.bRunning) {
    free(b);
    return;
  }
  snprintf(b->zOrigin, sizeof b->zOrigin, "%s", zNode);
  b->bCheckpoint = 1;
  if (zc_batch_add(b, zJson, nJson, aSig)) {
    zc_batch_free(b);
    free(b);
    return;
  }
  logwriter_receive(b);
}

int logwriter_ready(void) { return g_lw.bRunning && g_lw.bReconciled && g_lw.bBackfilled && !g_lw.bRefused; }

void logwriter_on_received(logwriter_received_fn x) { g_lw.xReceived = x; }

void logwriter_receive(zc_batch *b) {
  b->pNext = NULL;
  if (g_lw.pRecvTail) g_lw.pRecvTail->pNext = b;
  else g_lw.pRecvHead = b;
  g_lw.pRecvTail = b;
  g_lw.nRecvQueued++;
}

int logwriter_start(zc_node *p, void (*xWake)(void *), void *pWakeArg) {
  char zGit[600], zDb[600];
  if (!p->pTrust) return 0; /* no manifest, no log (logwriter.h) */
  snprintf(zGit, sizeof zGit, "%.580s/fedlog.git", p->cfg.zData);
  snprintf(zDb, sizeof zDb, "%.580s/node.db", p->cfg.zData);
  snprintf(g_lw.zOrigin, sizeof g_lw.zOrigin, "%s", p->cfg.zNode);
  if (fedlog_open(&g_lw.pLog, zGit, p->pTrust->pManifest, NULL)) {
    fprintf(stderr, "zc-node: log writer: %s: %s\n", zGit, fed_last_error());
    return -1;
  }
  if (sqlite3_open_v2(zDb, &g_lw.dbRead, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    fprintf(stderr, "zc-node: log writer cannot read %s\n", zDb);
    logwriter_stop();
    return -1;
  }
  db_busy_wait(g_lw.dbRead, 5000);
  if (entries_register_appliers(p)) return -1;
  g_lw.pTrust = p->pTrust;
  g_lw.pTrustNext = NULL;
  snprintf(g_lw.zData, sizeof g_lw.zData, "%s", p->cfg.zData);
  g_lw.bBackfilled = 0;
  g_lw.xWake = xWake;
  g_lw.pWakeArg = pWakeArg;
  g_lw.aAlerts = json_array();
  g_lw.bStop = g_lw.bDone = g_lw.bTick = g_lw.bInFlight = g_lw.bReconcileAsked = g_lw.bReconciled = g_lw.bRefused = 0;
  g_lw.eJob = JOB_NONE;
  if (pthread_create(&g_lw.thread, NULL, writer_main, NULL)) {
    fprintf(stderr, "zc-node: log writer: no thread\n");
    logwriter_stop();
    return -1;
  }
  g_lw.bRunning = 1;
  logwriter_poll(p); /* reconcile first */
  return 0;
}

void logwriter_stop(void) {
  if (g_lw.bRunning) {
    pthread_mutex_lock(&g_lw.mu);
    g_lw.bStop = 1;
    pthread_cond_signal(&g_lw.cv);
    pthread_mutex_unlock(&g_lw.mu);
    pthread_join(g_lw.thread, NULL); /* an append in flight ends first; restart reconciles */
    g_lw.bRunning = 0;
  }
  while (g_lw.pRecvHead) {
    zc_batch *b = g_lw.pRecvHead;
    g_lw.pRecvHead = b->pNext;
    zc_batch_free(b);
    free(b);
  }
  g_lw.pRecvTail = NULL;
  g_lw.nRecvQueued = 0;
  fedlog_close(g_lw.pLog);
  g_lw.pLog = NULL;
  sqlite3_close(g_lw.dbRead);
  g_lw.dbRead = NULL;
  json_decref(g_lw.aAlerts);
  g_lw.aAlerts = NULL;
}

json_t *logwriter_status(zc_node *p) {
  char zTs[FED_RFC3339_SIZE] = "";
  json_t *pOutbox = db_row(p->db, "SELECT count(*) FILTER (WHERE state = 'built') AS built,"
                           " count(*) FILTER (WHERE state = 'logged') AS logged FROM outbox", NULL);
  if (g_lw.tLastError) fed_rfc3339_format(zTs, g_lw.tLastError);
  json_t *aOrigins = json_array();
  if (g_lw.bRunning && g_lw.bReconciled)
    json_array_append_new(aOrigins, json_pack("{s:s, s:I, s:s, s:s}", "origin", g_lw.zOrigin, "seq",
                                              (json_int_t)g_lw.head.iSeq, "hash", g_lw.head.zHash, "commit",
                                              g_lw.head.zCommit));
  return json_pack("{s:s, s:b, s:o, s:o*, s:{s:b, s:b, s:b, s:I, s:I, s:s?, s:s?}, s:o, s:I}", "node",
                   p->cfg.zNode, "log", g_lw.bRunning, "origins", aOrigins, "outbox", pOutbox, "writer", "in_flight",
                   g_lw.bInFlight, "reconciled", g_lw.bReconciled, "refused", g_lw.bRefused, "appends",
                   (json_int_t)g_lw.nAppends, "entries_logged", (json_int_t)g_lw.nLogged, "last_error",
                   g_lw.zLastError[0] ? g_lw.zLastError : NULL, "last_error_at", zTs[0] ? zTs : NULL, "alerts",
                   g_lw.aAlerts ? json_incref(g_lw.aAlerts) : json_array(), "received",
                   (json_int_t)g_lw.nReceived);
}

int logwriter_status_get(zc_req *r) {
  json_t *v = logwriter_status(r->node);
  json_object_set_new(v, "peers", fedlink_status(r->node));
  json_object_set_new(v, "handoffs", handoff_in_flight(r->node));
  json_object_set_new(v, "transfers", transfer_open(r->node));
  return http_json(r, 200, v);
}
