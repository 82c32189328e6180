/* test_db.c - unit tests of node/db.c's WAL checkpoints on their own thread: what is
 * committed reaches the database file, and a writer that never pauses (a deadline surge)
 * still sees its WAL start over instead of growing without end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

typedef struct fixture {
  char zDir[64], zDb[96], zWal[100];
  sqlite3 *db;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->zDir, sizeof f->zDir, "/tmp/zc-test-db.XXXXXX");
  assert_non_null(mkdtemp(f->zDir));
  snprintf(f->zDb, sizeof f->zDb, "%s/node.db", f->zDir);
  snprintf(f->zWal, sizeof f->zWal, "%s-wal", f->zDb);
  assert_int_equal(db_open(&f->db, f->zDb), 0);
  assert_int_equal(db_exec(f->db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", NULL), 0);
  assert_int_equal(db_checkpoint_in_background(f->db, f->zDb), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  db_checkpoint_stop();
  db_close(f->db);
  char zCmd[128];
  snprintf(zCmd, sizeof zCmd, "rm -rf %s", f->zDir);
  assert_int_equal(system(zCmd), 0);
  free(f);
  return 0;
}

static double now_secs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int insert_row(sqlite3 *db, int id) {
  static const char aBlob[3000];
  return db_begin(db) || db_exec(db, "INSERT INTO t(id, v) VALUES(?, ?)", "ib", id, aBlob, (int)sizeof aBlob) ||
         db_commit(db);
}

/* Rows in the database file alone, the WAL ignored (immutable=1 reads the file as it is). */
static int rows_in_file(const char *zDb) {
  char zUri[160];
  sqlite3 *db = NULL;
  int n = -1;
  snprintf(zUri, sizeof zUri, "file:%s?immutable=1", zDb);
  if (sqlite3_open_v2(zUri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

/* The WAL header's checkpoint sequence number: one more each time the WAL starts over. */
static long wal_restarts(const char *zWal) {
  unsigned char a[16];
  FILE *f = fopen(zWal, "rb");
  if (!f) return -1;
  size_t n = fread(a, 1, sizeof a, f);
  fclose(f);
  if (n != sizeof a) return -1;
  return (long)((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15]);
}

static long file_size(const char *z) {
  struct stat st;
  return stat(z, &st) ? -1 : (long)st.st_size;
}

static void test_commits_reach_the_database_file(void **state) {
  fixture *f = *state;
  for (int i = 1; i <= 10; i++) assert_int_equal(insert_row(f->db, i), 0);
  assert_int_equal(db_int(f->db, -1, "SELECT count(*) FROM t", NULL), 10);
  int n = 0;
  for (double t0 = now_secs(); now_secs() - t0 < 5 && (n = rows_in_file(f->zDb)) != 10;) usleep(50 * 1000);
  assert_int_equal(n, 10); /* the checkpointer copied them back within a second or two */
}

/* A writer that commits again within 50 us, as the event loop of a node under a surge
 * does between two requests, leaves the checkpointer no idle moment: a passive checkpoint
 * alone never completes and the WAL never starts over. */
static void test_a_writer_that_never_pauses_keeps_a_bounded_wal(void **state) {
  fixture *f = *state;
  assert_int_equal(insert_row(f->db, 1), 0);
  long nFirst = wal_restarts(f->zWal), nMax = 0;
  assert_true(nFirst >= 0);
  int id = 2;
  for (double t0 = now_secs(); now_secs() - t0 < 8 && id < 20000; id++) {
    assert_int_equal(insert_row(f->db, id), 0);
    usleep(50); /* answering the request, reading the next */
    if (id % 500 == 0 && file_size(f->zWal) > nMax) nMax = file_size(f->zWal);
  }
  print_message("%d commits, WAL restarted %ld times, at most %ld KiB\n", id - 2, wal_restarts(f->zWal) - nFirst,
                nMax / 1024);
  assert_true(id > 5000); /* enough to pass the restart threshold several times over */
  assert_true(wal_restarts(f->zWal) > nFirst);
  /* unchecked, every commit would add at least a page of 4 KiB to it */
  assert_true(nMax < (long)id * 4096 / 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_commits_reach_the_database_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_writer_that_never_pauses_keeps_a_bounded_wal, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
