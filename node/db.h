/* db.h - the one way to talk to sqlite: cached prepared statements with parameters bound
 * from a format string, rows turned into JSON, transactions, and migrations.
 *
 * Format characters for bound parameters, one per '?' in order:
 *   t  const char *      text (NULL binds NULL)
 *   i  int               integer
 *   I  sqlite3_int64     integer
 *   b  const void *, int blob
 */
#ifndef ZC_DB_H
#define ZC_DB_H

#include <sqlite3.h>
#include <jansson.h>

/* Open zPath in WAL mode with foreign keys and a busy timeout. Its statements may use
 * rfc3339(t): integer seconds as RFC 3339 text (fed_rfc3339_format), for JSON made by
 * sqlite (json_object) that shows times as the API does. */
int db_open(sqlite3 **out, const char *zPath);
void db_close(sqlite3 *db);

/* Apply every schemas/NNN_*.sql newer than PRAGMA user_version, all in one transaction. */
int db_migrate(sqlite3 *db, const char *zSchemasDir);

/* A prepared statement for zSql, cached per connection, reset and bound. Owned by the
 * cache: step it, never finalize it. NULL on error (logged). */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *zSql, const char *zFmt, ...);

/* Run a statement that returns no rows. SQLITE_DONE/OK -> 0, a constraint violation ->
 * DB_CONSTRAINT, anything else -> -1 (logged). */
#define DB_CONSTRAINT 19
int db_exec(sqlite3 *db, const char *zSql, const char *zFmt, ...);

/* First column of the first row as an integer (dflt when no row). */
sqlite3_int64 db_int(sqlite3 *db, sqlite3_int64 dflt, const char *zSql, const char *zFmt, ...);
/* First column of the first row as a malloc'd string (NULL when no row or NULL). */
char *db_text(sqlite3 *db, const char *zSql, const char *zFmt, ...);

/* The first row as an object keyed by column names (NULL when no row); every row as an
 * array of such objects. Integer columns become JSON integers, NULL becomes null.
 * A column named "x_json" holding JSON text becomes key "x" with the parsed value. */
json_t *db_row(sqlite3 *db, const char *zSql, const char *zFmt, ...);
json_t *db_rows(sqlite3 *db, const char *zSql, const char *zFmt, ...);

/* Wait up to nMs for a lock another connection holds, looking every 100 us. */
void db_busy_wait(sqlite3 *db, int nMs);

/* Checkpoint the WAL of database zPath on a thread and connection of its own, once a
 * second and whenever a commit of db leaves a long WAL, and stop db's own checkpoints: a
 * commit on the event loop never waits for one. */
int db_checkpoint_in_background(sqlite3 *db, const char *zPath);
void db_checkpoint_stop(void);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 on success. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
int db_rollback(sqlite3 *db);

#endif
