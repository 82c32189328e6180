/* sqlite_insert.c - the baseline of the "deadline surge" bench scenario (tools/bench/run.sh):
 * how many rows of ~500 B JSON this machine inserts into a fresh WAL database with
 * synchronous=NORMAL, one transaction (autocommit) per row, for SECONDS seconds.
 * A second figure writes what one section save writes (an upsert of a section row keyed by
 * application and section plus an update of the application's row, in one transaction),
 * over as many keys as the scenario has, for the same time: the write cost of a save
 * without HTTP, sessions, checks or the answer.
 *
 * usage: sqlite_insert DBPATH SECONDS ROW_BYTES KEYS
 * prints: insert_rows N / insert_rps R / save_txns N / save_tps R
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(sqlite3 *db, int rc, const char *zWhat) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "sqlite_insert: %s: %s\n", zWhat, sqlite3_errmsg(db));
    exit(1);
  }
}

/* A JSON object of about nBytes bytes whose first value carries the counter i. */
static int make_row(char *z, size_t nCap, int nBytes, long i) {
  int n = snprintf(z, nCap, "{\"seq\":%ld,\"summary\":\"", i);
  for (; n < nBytes - 2 && (size_t)n < nCap - 3; n++) z[n] = (char)('a' + (i + n) % 26);
  z[n++] = '"';
  z[n++] = '}';
  z[n] = 0;
  return n;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: sqlite_insert DBPATH SECONDS ROW_BYTES KEYS\n");
    return 2;
  }
  double seconds = atof(argv[2]);
  int nBytes = atoi(argv[3]), nKeys = atoi(argv[4]);
  if (seconds <= 0 || seconds > 600 || nBytes < 16 || nBytes > 60000 || nKeys < 1) {
    fprintf(stderr, "sqlite_insert: bad arguments\n");
    return 2;
  }
  sqlite3 *db;
  sqlite3_stmt *pIns, *pUp, *pApp;
  char zRow[65536], zKey[32];
  static const char *const azSec[] = {"basic", "education", "work", "achievements", "papers", "awards", "training", "assessment"};
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
    fprintf(stderr, "sqlite_insert: cannot open %s\n", argv[1]);
    return 1;
  }
  check(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                             "CREATE TABLE rows(id INTEGER PRIMARY KEY, data_json TEXT NOT NULL, created INTEGER NOT NULL);"
                             "CREATE TABLE apps(id TEXT PRIMARY KEY, updated INTEGER NOT NULL);"
                             "CREATE TABLE secs(app TEXT NOT NULL, section TEXT NOT NULL, data_json TEXT NOT NULL,"
                             " updated INTEGER NOT NULL, PRIMARY KEY(app, section));", NULL, NULL, NULL), "schema");

  /* 1. plain inserts, autocommit */
  check(db, sqlite3_prepare_v2(db, "INSERT INTO rows(data_json, created) VALUES(?, ?)", -1, &pIns, NULL), "prepare");
  long n = 0;
  double t0 = now_s(), t = t0;
  while (t - t0 < seconds) {
    int nRow = make_row(zRow, sizeof zRow, nBytes, n);
    sqlite3_bind_text(pIns, 1, zRow, nRow, SQLITE_STATIC);
    sqlite3_bind_int64(pIns, 2, (sqlite3_int64)n);
    check(db, sqlite3_step(pIns), "insert");
    sqlite3_reset(pIns);
    if (++n % 64 == 0) t = now_s();
  }
  t = now_s();
  printf("insert_rows %ld\ninsert_rps %.0f\n", n, (double)n / (t - t0));

  /* 2. what a section save writes, one transaction each */
  check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
  check(db, sqlite3_prepare_v2(db, "INSERT INTO apps VALUES(?, 0)", -1, &pApp, NULL), "prepare");
  for (int k = 0; k < nKeys; k++) {
    snprintf(zKey, sizeof zKey, "p%08d", k);
    sqlite3_bind_text(pApp, 1, zKey, -1, SQLITE_TRANSIENT);
    check(db, sqlite3_step(pApp), "seed");
    sqlite3_reset(pApp);
  }
  sqlite3_finalize(pApp);
  check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
  check(db, sqlite3_prepare_v2(db, "INSERT INTO secs VALUES(?,?,?,?) ON CONFLICT(app, section) DO UPDATE SET"
                                   " data_json = excluded.data_json, updated = excluded.updated", -1, &pUp, NULL), "prepare");
  check(db, sqlite3_prepare_v2(db, "UPDATE apps SET updated = ? WHERE id = ?", -1, &pApp, NULL), "prepare");
  n = 0;
  t0 = t = now_s();
  while (t - t0 < seconds) {
    int nRow = make_row(zRow, sizeof zRow, nBytes, n);
    snprintf(zKey, sizeof zKey, "p%08d", (int)(n / 8 % nKeys));
    check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    sqlite3_bind_text(pUp, 1, zKey, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pUp, 2, azSec[n % 8], -1, SQLITE_STATIC);
    sqlite3_bind_text(pUp, 3, zRow, nRow, SQLITE_STATIC);
    sqlite3_bind_int64(pUp, 4, (sqlite3_int64)n);
    check(db, sqlite3_step(pUp), "upsert");
    sqlite3_reset(pUp);
    sqlite3_bind_int64(pApp, 1, (sqlite3_int64)n);
    sqlite3_bind_text(pApp, 2, zKey, -1, SQLITE_TRANSIENT);
    check(db, sqlite3_step(pApp), "update");
    sqlite3_reset(pApp);
    check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    if (++n % 64 == 0) t = now_s();
  }
  t = now_s();
  printf("save_txns %ld\nsave_tps %.0f\n", n, (double)n / (t - t0));
  sqlite3_finalize(pIns);
  sqlite3_finalize(pUp);
  sqlite3_finalize(pApp);
  sqlite3_close(db);
  return 0;
}
