/* db.c - the node's one SQL helper: a per-connection cache of prepared statements,
 * parameters bound from a format string, rows as JSON, transactions and migrations. */
#include "db.h"

#include <dirent.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed_error.h"
#include "rfc3339.h"

/* The statement cache: keyed by the SQL text's address (callers pass string literals),
 * confirmed by comparing the text, so a different string with the same address after a
 * free cannot alias. Small and linear: a node has a few hundred distinct statements. */
#define CACHE_HINTS 256 /* where a key was last found, by its address: no scan on a hit */
typedef struct stmt_cache {
  sqlite3 *db;
  int n, nAlloc;
  struct { const char *zKey; sqlite3_stmt *pStmt; } *a;
  int aHint[CACHE_HINTS]; /* index into a, plus one (0: none) */
  struct stmt_cache *pNext;
} stmt_cache;

static int hint_of(const char *zSql) { return (int)(((uintptr_t)zSql >> 3) % CACHE_HINTS); }

static stmt_cache *g_caches;

static stmt_cache *cache_for(sqlite3 *db) {
  stmt_cache *c;
  for (c = g_caches; c; c = c->pNext)
    if (c->db == db) return c;
  c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->db = db;
  c->pNext = g_caches;
  g_caches = c;
  return c;
}

static void cache_drop(sqlite3 *db) {
  stmt_cache **pp = &g_caches;
  while (*pp) {
    stmt_cache *c = *pp;
    if (c->db == db) {
      for (int i = 0; i < c->n; i++) sqlite3_finalize(c->a[i].pStmt);
      free(c->a);
      *pp = c->pNext;
      free(c);
      return;
    }
    pp = &c->pNext;
  }
}

static sqlite3_stmt *cache_get(sqlite3 *db, const char *zSql) {
  stmt_cache *c = cache_for(db);
  sqlite3_stmt *pStmt = NULL;
  if (!c) return NULL;
  int *pHint = &c->aHint[hint_of(zSql)], iHint = *pHint - 1;
  if (iHint >= 0 && c->a[iHint].zKey == zSql && strcmp(sqlite3_sql(c->a[iHint].pStmt), zSql) == 0)
    return c->a[iHint].pStmt;
  for (int i = 0; i < c->n; i++) {
    if (c->a[i].zKey == zSql && strcmp(sqlite3_sql(c->a[i].pStmt), zSql) == 0) {
      *pHint = i + 1;
      return c->a[i].pStmt;
    }
  }
  if (sqlite3_prepare_v3(db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &pStmt, NULL) != SQLITE_OK) {
    fprintf(stderr, "db: prepare failed: %s\n  in: %s\n", sqlite3_errmsg(db), zSql);
    return NULL;
  }
  if (c->n == c->nAlloc) {
    int nNew = c->nAlloc ? c->nAlloc * 2 : 64;
    void *a = realloc(c->a, (size_t)nNew * sizeof(*c->a));
    if (!a) { sqlite3_finalize(pStmt); return NULL; }
    c->a = a;
    c->nAlloc = nNew;
  }
  c->a[c->n].zKey = zSql;
  c->a[c->n].pStmt = pStmt;
  c->n++;
  *pHint = c->n;
  return pStmt;
}

static int bind_args(sqlite3_stmt *pStmt, const char *zFmt, va_list ap) {
  int i = 1;
  /* one argument per parameter, checked before any is read: a format one letter too long
   * would read an integer as a pointer */
  if ((int)strlen(zFmt ? zFmt : "") != sqlite3_bind_parameter_count(pStmt)) {
    fprintf(stderr, "db: %d arguments for the %d parameters of %s\n", (int)strlen(zFmt ? zFmt : ""),
            sqlite3_bind_parameter_count(pStmt), sqlite3_sql(pStmt));
    return -1;
  }
  for (const char *f = zFmt ? zFmt : ""; *f; f++, i++) {
    int rc;
    switch (*f) {
      case 't': {
        const char *z = va_arg(ap, const char *);
        rc = z ? sqlite3_bind_text(pStmt, i, z, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(pStmt, i);
        break;
      }
      case 'i': rc = sqlite3_bind_int(pStmt, i, va_arg(ap, int)); break;
      case 'I': rc = sqlite3_bind_int64(pStmt, i, va_arg(ap, sqlite3_int64)); break;
      case 'b': {
        const void *p = va_arg(ap, const void *);
        int n = va_arg(ap, int);
        rc = sqlite3_bind_blob(pStmt, i, p, n, SQLITE_TRANSIENT);
        break;
      }
      default:
        fprintf(stderr, "db: bad format character '%c'\n", *f);
        return -1;
    }
    if (rc != SQLITE_OK) return -1;
  }
  return 0;
}

static sqlite3_stmt *prepare_v(sqlite3 *db, const char *zSql, const char *zFmt, va_list ap) {
  sqlite3_stmt *pStmt = cache_get(db, zSql);
  if (!pStmt) return NULL;
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  if (bind_args(pStmt, zFmt, ap)) {
    fprintf(stderr, "db: bind failed for: %s\n", zSql);
    return NULL;
  }
  return pStmt;
}

sqlite3_stmt *db_prepare(sqlite3 *db, const char *zSql, const char *zFmt, ...) {
  va_list ap;
  va_start(ap, zFmt);
  sqlite3_stmt *pStmt = prepare_v(db, zSql, zFmt, ap);
  va_end(ap);
  return pStmt;
}

int db_exec(sqlite3 *db, const char *zSql, const char *zFmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  sqlite3_stmt *pStmt = prepare_v(db, zSql, zFmt, ap);
  va_end(ap);
  if (!pStmt) return -1;
  rc = sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return 0;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return DB_CONSTRAINT;
  fprintf(stderr, "db: %s\n  in: %s\n", sqlite3_errmsg(db), zSql);
  return -1;
}

sqlite3_int64 db_int(sqlite3 *db, sqlite3_int64 dflt, const char *zSql, const char *zFmt, ...) {
  va_list ap;
  sqlite3_int64 v = dflt;
  va_start(ap, zFmt);
  sqlite3_stmt *pStmt = prepare_v(db, zSql, zFmt, ap);
  va_end(ap);
  if (pStmt && sqlite3_step(pStmt) == SQLITE_ROW && sqlite3_column_type(pStmt, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(pStmt, 0);
  if (pStmt) sqlite3_reset(pStmt);
  return v;
}

char *db_text(sqlite3 *db, const char *zSql, const char *zFmt, ...) {
  va_list ap;
  char *z = NULL;
  va_start(ap, zFmt);
  sqlite3_stmt *pStmt = prepare_v(db, zSql, zFmt, ap);
  va_end(ap);
  if (pStmt && sqlite3_step(pStmt) == SQLITE_ROW && sqlite3_column_type(pStmt, 0) != SQLITE_NULL)
    z = strdup((const char *)sqlite3_column_text(pStmt, 0));
  if (pStmt) sqlite3_reset(pStmt);
  return z;
}

/* The current row as an object; see db.h for the x_json convention. */
static json_t *row_to_json(sqlite3_stmt *pStmt) {
  json_t *o = json_object();
  int n = sqlite3_column_count(pStmt);
  for (int i = 0; i < n; i++) {
    const char *zName = sqlite3_column_name(pStmt, i);
    size_t nName = strlen(zName);
    int bJson = nName > 5 && strcmp(zName + nName - 5, "_json") == 0;
    json_t *v = NULL;
    switch (sqlite3_column_type(pStmt, i)) {
      case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(pStmt, i)); break;
      case SQLITE_FLOAT: v = json_real(sqlite3_column_double(pStmt, i)); break;
      case SQLITE_NULL: break;
      default: {
        /* Text in the database came in through the API's checks (valid UTF-8): no need to
         * validate it again on every read, the busiest path of a deadline. */
        const char *z = (const char *)sqlite3_column_text(pStmt, i);
        size_t n = (size_t)sqlite3_column_bytes(pStmt, i);
        v = bJson ? json_loadb(z, n, JSON_DECODE_ANY, NULL) : json_stringn_nocheck(z, n);
      }
    }
    json_object_setn_new_nocheck(o, zName, bJson ? nName - 5 : nName, v ? v : json_null());
  }
  return o;
}

json_t *db_row(sqlite3 *db, const char *zSql, const char *zFmt, ...) {
  va_list ap;
  json_t *o = NULL;
  va_start(ap, zFmt);
  sqlite3_stmt *pStmt = prepare_v(db, zSql, zFmt, ap);
  va_end(ap);
  if (pStmt && sqlite3_step(pStmt) == SQLITE_ROW) o = row_to_json(pStmt);
  if (pStmt) sqlite3_reset(pStmt);
  return o;
}

json_t *db_rows(sqlite3 *db, const char *zSql, const char *zFmt, ...) {
  va_list ap;
  json_t *a = json_array();
  va_start(ap, zFmt);
  sqlite3_stmt *pStmt = prepare_v(db, zSql, zFmt, ap);
  va_end(ap);
  while (pStmt && sqlite3_step(pStmt) == SQLITE_ROW) json_array_append_new(a, row_to_json(pStmt));
  if (pStmt) sqlite3_reset(pStmt);
  return a;
}

static int exec_plain(sqlite3 *db, const char *zSql) {
  char *zErr = NULL;
  if (sqlite3_exec(db, zSql, NULL, NULL, &zErr) != SQLITE_OK) {
    fprintf(stderr, "db: %s: %s\n", zSql, zErr ? zErr : "?");
    sqlite3_free(zErr);
    return -1;
  }
  return 0;
}

/* Cached statements like any other: every write request runs two of these. */
int db_begin(sqlite3 *db) { return db_exec(db, "BEGIN IMMEDIATE", NULL); }
int db_commit(sqlite3 *db) { return db_exec(db, "COMMIT", NULL); }
int db_rollback(sqlite3 *db) {
  return sqlite3_get_autocommit(db) ? 0 : db_exec(db, "ROLLBACK", NULL);
}

/* SQL rfc3339(t): integer seconds t as fed_rfc3339_format writes them; NULL stays NULL,
 * and anything else (or a time it cannot write) is returned as it is. */
static void sql_rfc3339(sqlite3_context *ctx, int nArg, sqlite3_value **apArg) {
  char zTime[FED_RFC3339_SIZE];
  (void)nArg;
  if (sqlite3_value_type(apArg[0]) == SQLITE_INTEGER &&
      fed_rfc3339_format(zTime, (time_t)sqlite3_value_int64(apArg[0])) == FED_OK)
    sqlite3_result_text(ctx, zTime, -1, SQLITE_TRANSIENT);
  else
    sqlite3_result_value(ctx, apArg[0]);
}

/* sqlite's own busy handler sleeps 1, 2, 5, 10, 15... ms between two looks: a waiter
 * oversleeps a lock held for a moment (a checkpoint's restart) by several ms, and one
 * that wants the write lock from a busy event loop, which lets go of it only between two
 * requests, finds it held at every look. This one looks every 100 us. */
static int busy_short_sleeps(void *pArg, int nTried) {
  if ((sqlite3_int64)nTried * 100 >= (sqlite3_int64)(intptr_t)pArg * 1000) return 0;
  usleep(100);
  return 1;
}

void db_busy_wait(sqlite3 *db, int nMs) { sqlite3_busy_handler(db, busy_short_sleeps, (void *)(intptr_t)nMs); }

int db_open(sqlite3 **out, const char *zPath) {
  static int bConfigured;
  sqlite3 *db = NULL;
  *out = NULL;
  /* No memory statistics: nobody reads them, and keeping them takes a global mutex on
   * every one of sqlite's allocations (hundreds per request). Only possible before the
   * library's first use; later calls are refused harmlessly. */
  if (!bConfigured) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    bConfigured = 1;
  }
  /* One connection per process, used by one thread (the event loop): no mutexes. */
  if (sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    fprintf(stderr, "db: cannot open %s: %s\n", zPath, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return -1;
  }
  db_busy_wait(db, 5000);
  if (exec_plain(db, "PRAGMA journal_mode=WAL") || exec_plain(db, "PRAGMA synchronous=NORMAL") ||
      exec_plain(db, "PRAGMA foreign_keys=ON") || exec_plain(db, "PRAGMA temp_store=MEMORY") ||
      sqlite3_create_function(db, "rfc3339", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                              sql_rfc3339, NULL, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  *out = db;
  return 0;
}

void db_close(sqlite3 *db) {
  if (!db) return;
  cache_drop(db);
  sqlite3_close(db);
}

/* Migration files are "NNN_name.sql"; NNN is the schema version it brings. */
static int migration_version(const char *zName) {
  int v = 0, n = 0;
  size_t len = strlen(zName);
  if (len < 8 || strcmp(zName + len - 4, ".sql") != 0) return 0;
  if (sscanf(zName, "%d_%n", &v, &n) != 1 || n == 0) return 0;
  return v;
}

static char *read_file(const char *zPath) {
  FILE *f = fopen(zPath, "rb");
  char *z = NULL;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (z = malloc((size_t)n + 1)) != NULL) {
    if (fread(z, 1, (size_t)n, f) != (size_t)n) { free(z); z = NULL; }
    else z[n] = 0;
  }
  fclose(f);
  return z;
}

static int cmp_names(const void *a, const void *b) {
  return migration_version(*(char *const *)a) - migration_version(*(char *const *)b);
}

int db_migrate(sqlite3 *db, const char *zSchemasDir) {
  int rc = 0, nFile = 0;
  char *aFile[256];
  int iCurrent = (int)db_int(db, 0, "PRAGMA user_version", NULL);
  DIR *d = opendir(zSchemasDir);
  struct dirent *e;
  if (!d) {
    fprintf(stderr, "db: cannot read migrations in %s\n", zSchemasDir);
    return -1;
  }
  while ((e = readdir(d)) != NULL && nFile < 256)
    if (migration_version(e->d_name) > iCurrent) aFile[nFile++] = strdup(e->d_name);
  closedir(d);
  qsort(aFile, (size_t)nFile, sizeof(char *), cmp_names);
  if (nFile == 0) return 0;
  if (db_begin(db)) rc = -1;
  for (int i = 0; i < nFile && rc == 0; i++) {
    char zPath[1024], zPragma[64];
    snprintf(zPath, sizeof zPath, "%s/%s", zSchemasDir, aFile[i]);
    char *zSql = read_file(zPath);
    snprintf(zPragma, sizeof zPragma, "PRAGMA user_version=%d", migration_version(aFile[i]));
    if (!zSql || exec_plain(db, zSql) || exec_plain(db, zPragma)) {
      fprintf(stderr, "db: migration %s failed\n", aFile[i]);
      rc = -1;
    }
    free(zSql);
  }
  if (rc == 0) rc = db_commit(db);
  else db_rollback(db);
  for (int i = 0; i < nFile; i++) free(aFile[i]);
  return rc;
}

/* ---- checkpoints off the event loop ---- */

static struct {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int bRunning, bStop, bLong; /* bLong: the WAL passed WAL_RESTART_FRAMES since the last look */
  char zPath[1024];
} g_ckpt = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* A WAL longer than this many frames (4 KiB pages) after a passive checkpoint is
 * restarted: under steady writes a passive checkpoint never finds the WAL idle, so the
 * WAL would never start over and would grow without end (600 MB in 15 s of a surge). */
#define WAL_RESTART_FRAMES 4096

/* Copy the WAL back into the database without waiting for anybody; when it is long, copy
 * again what came meanwhile (less each time), then the rest, and restart it: writers wait
 * for that rest only. */
static void checkpoint_once(sqlite3 *db) {
  int nLog = 0, nDone = 0;
  if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nLog, &nDone) != SQLITE_OK ||
      nLog <= WAL_RESTART_FRAMES)
    return;
  for (int i = 0; i < 2; i++) sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
}

/* Once a second, or when woken by wal_grew, copy the WAL back into the database on a
 * connection of its own. */
static void *checkpoint_main(void *pArg) {
  sqlite3 *db = NULL;
  (void)pArg;
  if (sqlite3_open_v2(g_ckpt.zPath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    fprintf(stderr, "db: checkpointer cannot open %s\n", g_ckpt.zPath);
    sqlite3_close(db);
    return NULL;
  }
  db_busy_wait(db, 200); /* and tries again a second later */
  /* a connection learns that the database is in WAL mode on its first read: until then a
   * checkpoint does nothing (and says -1 frames) */
  if (exec_plain(db, "PRAGMA journal_mode=WAL")) fprintf(stderr, "db: the checkpointer cannot read %s\n", g_ckpt.zPath);
  pthread_mutex_lock(&g_ckpt.mu);
  while (!g_ckpt.bStop) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 1;
    if (!g_ckpt.bLong) pthread_cond_timedwait(&g_ckpt.cv, &g_ckpt.mu, &t);
    if (g_ckpt.bStop) break;
    g_ckpt.bLong = 0;
    pthread_mutex_unlock(&g_ckpt.mu);
    checkpoint_once(db);
    pthread_mutex_lock(&g_ckpt.mu);
  }
  pthread_mutex_unlock(&g_ckpt.mu);
  sqlite3_close(db);
  return NULL;
}

/* After each commit of the event loop's connection: a long WAL wakes the checkpointer at
 * once (a surge writes 16 MiB of WAL in a fraction of a second). */
static int wal_grew(void *pArg, sqlite3 *db, const char *zDb, int nFrames) {
  (void)pArg, (void)db, (void)zDb;
  if (nFrames < WAL_RESTART_FRAMES) return SQLITE_OK;
  pthread_mutex_lock(&g_ckpt.mu);
  g_ckpt.bLong = 1;
  pthread_cond_signal(&g_ckpt.cv);
  pthread_mutex_unlock(&g_ckpt.mu);
  return SQLITE_OK;
}

int db_checkpoint_in_background(sqlite3 *db, const char *zPath) {
  snprintf(g_ckpt.zPath, sizeof g_ckpt.zPath, "%s", zPath);
  g_ckpt.bStop = g_ckpt.bLong = 0;
  if (pthread_create(&g_ckpt.thread, NULL, checkpoint_main, NULL)) return -1;
  g_ckpt.bRunning = 1;
  /* the connection of the event loop no longer checkpoints when a commit fills the WAL
   * (the pragma's own hook), it tells the checkpointer */
  if (exec_plain(db, "PRAGMA wal_autocheckpoint=0")) return -1;
  sqlite3_wal_hook(db, wal_grew, NULL);
  return 0;
}

void db_checkpoint_stop(void) {
  if (!g_ckpt.bRunning) return;
  pthread_mutex_lock(&g_ckpt.mu);
  g_ckpt.bStop = 1;
  pthread_cond_signal(&g_ckpt.cv);
  pthread_mutex_unlock(&g_ckpt.mu);
  pthread_join(g_ckpt.thread, NULL);
  g_ckpt.bRunning = 0;
}
