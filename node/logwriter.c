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
#include "fed_error.h"
#include "fedlog.h"
#include "http.h"
#include "keys.h"
#include "rfc3339.h"

enum { JOB_NONE, JOB_RECONCILE, JOB_APPEND };

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
  const fed_key *pKey;
  char zOrigin[16];
  void (*xWake)(void *);
  void *pWakeArg;
  /* under mu */
  int bStop, eJob, bDone, bTick;
  job_result res;
  /* the event loop's own */
  int bNotified, bInFlight, bReconcileAsked, bReconciled, bRefused;
  fed_log_head head;
  long long nAppends, nLogged;
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

/* The rows waiting, signed: entries and their copies of the bytes. */
typedef struct batch {
  fed_log_entry *a;
  unsigned char (*aSig)[FED_SIG_SIZE];
  char **azJson;
  size_t n;
} batch;

static void batch_free(batch *b) {
  for (size_t i = 0; i < b->n; i++) free(b->azJson[i]);
  free(b->a);
  free(b->aSig);
  free(b->azJson);
}

static int batch_read(batch *b, job_result *r) {
  sqlite3_stmt *pStmt = NULL;
  int rc = FED_OK;
  memset(b, 0, sizeof *b);
  b->a = calloc(LOGWRITER_BATCH, sizeof *b->a);
  b->aSig = calloc(LOGWRITER_BATCH, sizeof *b->aSig);
  b->azJson = calloc(LOGWRITER_BATCH, sizeof *b->azJson);
  if (!b->a || !b->aSig || !b->azJson ||
      sqlite3_prepare_v2(g_lw.dbRead, "SELECT seq, entry FROM outbox WHERE state = 'built' ORDER BY seq LIMIT ?", -1,
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
    if (b->n == 0) r->iFirst = iSeq;
    if (iSeq != r->iFirst + (long long)b->n || !pJson || !(b->azJson[b->n] = malloc(nJson))) {
      result_fail(r, FED_ERROR, iSeq, "the outbox's built rows are not contiguous");
      rc = FED_ERROR;
      break;
    }
    memcpy(b->azJson[b->n], pJson, nJson);
    b->a[b->n] = (fed_log_entry){b->azJson[b->n], nJson, b->aSig[b->n]};
    if (fed_key_sign(b->aSig[b->n], g_lw.pKey, pJson, nJson)) {
      result_fail(r, FED_ERROR, iSeq, fed_last_error());
      rc = FED_ERROR;
    }
    r->iLast = iSeq;
    b->n++;
  }
  sqlite3_finalize(pStmt);
  r->bFull = b->n == LOGWRITER_BATCH;
  return rc;
}

/* Sign what waits and append it in one call. */
static void job_append(job_result *r) {
  batch b;
  fed_log_append_result a;
  memset(&a, 0, sizeof a);
  if (batch_read(&b, r) == FED_OK && b.n > 0) {
    int rc = fedlog_append(g_lw.pLog, g_lw.zOrigin, b.a, b.n, &a);
    r->nAdded = a.nAdded;
    r->nPresent = a.nPresent;
    if (rc) {
      result_fail(r, rc, r->iFirst + (long long)a.iEntry, fed_last_error());
      r->bMismatch = rc == FED_EEQUIVOCATION;
    }
    fed_log_append_result_dispose(&a);
  }
  batch_free(&b);
  if (fedlog_head(&r->head, g_lw.pLog, g_lw.zOrigin) && r->rc == FED_OK) result_fail(r, FED_ERROR, 0, fed_last_error());
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
    pthread_mutex_unlock(&g_lw.mu);
    if (r.eJob == JOB_RECONCILE) job_reconcile(&r);
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

static void apply_result(zc_node *p, const job_result *r) {
  int nMarked = 0, nRequeued = 0;
  if (r->bMismatch) {
    refuse(p, r);
    return;
  }
  if (r->rc) {
    note_error(r->zMessage);
    return;
  }
  g_lw.head = r->head;
  if (r->iLast >= r->iFirst && mark_logged(p, r, r->eJob == JOB_RECONCILE, &nMarked, &nRequeued)) {
    note_error("cannot mark the outbox's rows logged (retried)");
    return;
  }
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

static void ask(int eJob) {
  pthread_mutex_lock(&g_lw.mu);
  g_lw.eJob = eJob;
  pthread_cond_signal(&g_lw.cv);
  pthread_mutex_unlock(&g_lw.mu);
  g_lw.bInFlight = 1;
}

void logwriter_poll(zc_node *p) {
  job_result r;
  int bDone, bTick;
  if (!g_lw.bRunning) return;
  pthread_mutex_lock(&g_lw.mu);
  bDone = g_lw.bDone;
  bTick = g_lw.bTick;
  if (bDone) r = g_lw.res;
  g_lw.bDone = g_lw.bTick = 0;
  pthread_mutex_unlock(&g_lw.mu);
  if (bDone) {
    g_lw.bInFlight = 0;
    apply_result(p, &r);
  }
  if (g_lw.bInFlight || g_lw.bRefused) return;
  if (!g_lw.bReconciled) {
    if (bTick || !g_lw.bReconcileAsked) ask(JOB_RECONCILE); /* at start, and on a tick after a failure */
    g_lw.bReconcileAsked = 1;
    return;
  }
  if ((g_lw.bNotified || bTick || bDone) && rows_wait(p)) ask(JOB_APPEND);
  g_lw.bNotified = 0;
}

int logwriter_start(zc_node *p, void (*xWake)(void *), void *pWakeArg) {
  char zGit[600], zDb[600];
  if (!p->pManifest || !p->pKey) return 0; /* no manifest, no log (logwriter.h) */
  snprintf(zGit, sizeof zGit, "%.580s/fedlog.git", p->cfg.zData);
  snprintf(zDb, sizeof zDb, "%.580s/node.db", p->cfg.zData);
  snprintf(g_lw.zOrigin, sizeof g_lw.zOrigin, "%s", p->cfg.zNode);
  if (fedlog_open(&g_lw.pLog, zGit, p->pManifest, NULL)) {
    fprintf(stderr, "zc-node: log writer: %s: %s\n", zGit, fed_last_error());
    return -1;
  }
  if (sqlite3_open_v2(zDb, &g_lw.dbRead, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    fprintf(stderr, "zc-node: log writer cannot read %s\n", zDb);
    logwriter_stop();
    return -1;
  }
  sqlite3_busy_timeout(g_lw.dbRead, 5000);
  g_lw.pKey = p->pKey;
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
  return json_pack("{s:s, s:b, s:o, s:o*, s:{s:b, s:b, s:b, s:I, s:I, s:s?, s:s?}, s:o, s:[], s:s}", "node",
                   p->cfg.zNode, "log", g_lw.bRunning, "origins", aOrigins, "outbox", pOutbox, "writer", "in_flight",
                   g_lw.bInFlight, "reconciled", g_lw.bReconciled, "refused", g_lw.bRefused, "appends",
                   (json_int_t)g_lw.nAppends, "entries_logged", (json_int_t)g_lw.nLogged, "last_error",
                   g_lw.zLastError[0] ? g_lw.zLastError : NULL, "last_error_at", zTs[0] ? zTs : NULL, "alerts",
                   g_lw.aAlerts ? json_incref(g_lw.aAlerts) : json_array(), "peers", "note",
                   "peers and their lag come with replication");
}

int logwriter_status_get(zc_req *r) { return http_json(r, 200, logwriter_status(r->node)); }
