/* limiter.c - the failed-login limiter (limiter.h): a table of rules, counters in a
 * database of their own (DIR/limits.db), written at once outside any request's
 * transaction (a failed login's transaction is rolled back; its failure must stay). */
#include "limiter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

struct zc_limiter {
  sqlite3 *db;
  time_t tPruned; /* when expired rows were last removed */
};

/* THE rules: who a count belongs to, how many checks it allows, over what window. */
typedef struct limit_rule {
  const char *zKind;
  int nMax;
  int nWindow;
} limit_rule;
enum { RULE_DEVICE, RULE_PAIR, RULE_ADDRESS, RULE_ACCOUNT, N_RULES };
static const limit_rule g_rules[N_RULES] = {
  [RULE_DEVICE] = {"device", LIMIT_DEVICE_MAX, LIMIT_SHORT_WINDOW},
  [RULE_PAIR] = {"pair", LIMIT_PAIR_MAX, LIMIT_SHORT_WINDOW},
  [RULE_ADDRESS] = {"address", LIMIT_ADDRESS_MAX, LIMIT_SHORT_WINDOW},
  [RULE_ACCOUNT] = {"account", LIMIT_ACCOUNT_MAX, LIMIT_LONG_WINDOW},
};
/* The rules an attempt falls under: a trusted device only its own; anyone else three. The
 * first is the client's own budget: one check of it at a time, cleared by a success. */
static const int g_trusted[] = {RULE_DEVICE};
static const int g_untrusted[] = {RULE_PAIR, RULE_ADDRESS, RULE_ACCOUNT};

#define PRUNE_EVERY 60 /* seconds */

int limiter_open(zc_limiter **out, const char *zPath, const char *zSchemasDir) {
  char zDir[1024];
  zc_limiter *p = calloc(1, sizeof(*p));
  *out = NULL;
  if (!p) return -1;
  snprintf(zDir, sizeof zDir, "%s/limits", zSchemasDir);
  if (db_open(&p->db, zPath) || db_migrate(p->db, zDir)) {
    limiter_close(p);
    return -1;
  }
  *out = p;
  return 0;
}

void limiter_close(zc_limiter *p) {
  if (!p) return;
  db_close(p->db);
  free(p);
}

int limiter_reset_in_flight(zc_limiter *p) {
  return db_exec(p->db, "UPDATE login_limits SET busy = 0 WHERE busy <> 0", NULL) ||
         db_exec(p->db, "DELETE FROM login_limits WHERE failures = 0", NULL);
}

long limiter_rows(zc_limiter *p) {
  return (long)db_int(p->db, -1, "SELECT count(*) FROM login_limits", NULL);
}

static void rule_key(const limiter_attempt *a, int iRule, char *zOut, size_t nOut) {
  switch (iRule) {
    case RULE_DEVICE: snprintf(zOut, nOut, "device:%s", a->zDevice); break;
    case RULE_PAIR: snprintf(zOut, nOut, "pair:%s|%s", a->zAccount, a->zAddress); break;
    case RULE_ADDRESS: snprintf(zOut, nOut, "address:%s", a->zAddress); break;
    default: snprintf(zOut, nOut, "account:%s", a->zAccount); break;
  }
}

/* Where one key stands now: 0 when another check may start, LIMITER_IN_FLIGHT when the
 * client's own budget has a check running, LIMITER_BLOCKED with *pnWait. */
static int key_state(zc_limiter *p, const limiter_attempt *a, int iRule, int bOwnBudget, time_t now,
                     long *pnWait) {
  char zKey[256];
  const limit_rule *pRule = &g_rules[iRule];
  int rc = 0;
  rule_key(a, iRule, zKey, sizeof zKey);
  sqlite3_stmt *pStmt = db_prepare(p->db, "SELECT failures, busy, expires FROM login_limits WHERE key = ?",
                                   "t", zKey);
  if (!pStmt) return -1;
  if (sqlite3_step(pStmt) == SQLITE_ROW) {
    time_t tExpires = (time_t)sqlite3_column_int64(pStmt, 2);
    int nFail = tExpires > now ? sqlite3_column_int(pStmt, 0) : 0;
    int nBusy = sqlite3_column_int(pStmt, 1);
    if (bOwnBudget && nBusy > 0) {
      rc = LIMITER_IN_FLIGHT;
    } else if (nFail + nBusy >= pRule->nMax) {
      /* blocked by failures until the window ends; by checks in flight only until they end */
      *pnWait = nFail >= pRule->nMax ? (long)(tExpires - now) : 1;
      rc = LIMITER_BLOCKED;
    }
  }
  sqlite3_reset(pStmt);
  return rc;
}

/* Every rule of the list allows a check now? The longest wait when not. */
static int rules_state(zc_limiter *p, const limiter_attempt *a, const int *aRule, int nRule, time_t now,
                       long *pnWait) {
  int rc = 0;
  *pnWait = 0;
  for (int i = 0; i < nRule; i++) {
    long nWait = 0;
    int rcKey = key_state(p, a, aRule[i], i == 0, now, &nWait);
    if (rcKey == -1 || rcKey == LIMITER_IN_FLIGHT) return rcKey;
    if (rcKey == LIMITER_BLOCKED) {
      rc = LIMITER_BLOCKED;
      if (nWait > *pnWait) *pnWait = nWait;
    }
  }
  return rc;
}

/* A check starts: counted in flight under every rule (a new window if the old one ended). */
static int count_in_flight(zc_limiter *p, const limiter_attempt *a, const int *aRule, int nRule, time_t now) {
  int rc = db_begin(p->db);
  for (int i = 0; i < nRule && rc == 0; i++) {
    char zKey[256];
    rule_key(a, aRule[i], zKey, sizeof zKey);
    rc = db_exec(p->db,
        "INSERT INTO login_limits(key, window_start, expires, failures, busy) VALUES(?1, ?2, ?2 + ?3, 0, 1)"
        " ON CONFLICT(key) DO UPDATE SET busy = busy + 1,"
        " failures = CASE WHEN expires <= ?2 THEN 0 ELSE failures END,"
        " window_start = CASE WHEN expires <= ?2 THEN ?2 ELSE window_start END,"
        " expires = CASE WHEN expires <= ?2 THEN ?2 + ?3 ELSE expires END",
        "tIi", zKey, (sqlite3_int64)now, g_rules[aRule[i]].nWindow);
  }
  if (rc == 0) return db_commit(p->db);
  db_rollback(p->db);
  return -1;
}

static void prune(zc_limiter *p, time_t now) {
  if (now >= p->tPruned && now - p->tPruned < PRUNE_EVERY) return;
  p->tPruned = now;
  db_exec(p->db, "DELETE FROM login_limits WHERE expires <= ? AND busy = 0", "I", (sqlite3_int64)now);
}

int limiter_begin(zc_limiter *p, limiter_attempt *a, time_t now, long *pnWait) {
  int rc = 0;
  *pnWait = 0;
  if (!p) return -1; /* a node opened without its counters checks no password */
  prune(p, now);
  a->bTrusted = 0;
  if (a->zDevice[0]) {
    /* A device out of its own budget is treated like any other client (OWASP). */
    rc = rules_state(p, a, g_trusted, 1, now, pnWait);
    if (rc == 0) a->bTrusted = 1;
    else if (rc != LIMITER_BLOCKED) return rc;
  }
  const int *aRule = a->bTrusted ? g_trusted : g_untrusted;
  int nRule = a->bTrusted ? 1 : (int)(sizeof g_untrusted / sizeof g_untrusted[0]);
  if (!a->bTrusted && (rc = rules_state(p, a, aRule, nRule, now, pnWait)) != 0) return rc;
  return count_in_flight(p, a, aRule, nRule, now);
}

static void end_key(zc_limiter *p, const limiter_attempt *a, int iRule, int bOwnBudget, int outcome,
                    time_t now) {
  char zKey[256];
  rule_key(a, iRule, zKey, sizeof zKey);
  if (outcome == LIMITER_FAILED) {
    db_exec(p->db,
        "INSERT INTO login_limits(key, window_start, expires, failures, busy) VALUES(?1, ?2, ?2 + ?3, 1, 0)"
        " ON CONFLICT(key) DO UPDATE SET busy = max(busy - 1, 0),"
        " failures = CASE WHEN expires <= ?2 THEN 1 ELSE failures + 1 END,"
        " window_start = CASE WHEN expires <= ?2 THEN ?2 ELSE window_start END,"
        " expires = CASE WHEN expires <= ?2 THEN ?2 + ?3 ELSE expires END",
        "tIi", zKey, (sqlite3_int64)now, g_rules[iRule].nWindow);
    return;
  }
  if (outcome == LIMITER_OK && bOwnBudget)
    db_exec(p->db, "UPDATE login_limits SET busy = max(busy - 1, 0), failures = 0 WHERE key = ?", "t", zKey);
  else
    db_exec(p->db, "UPDATE login_limits SET busy = max(busy - 1, 0) WHERE key = ?", "t", zKey);
  db_exec(p->db, "DELETE FROM login_limits WHERE key = ? AND busy = 0 AND failures = 0", "t", zKey);
}

void limiter_end(zc_limiter *p, const limiter_attempt *a, int outcome, time_t now) {
  if (!p) return;
  const int *aRule = a->bTrusted ? g_trusted : g_untrusted;
  int nRule = a->bTrusted ? 1 : (int)(sizeof g_untrusted / sizeof g_untrusted[0]);
  int bTx = db_begin(p->db) == 0;
  for (int i = 0; i < nRule; i++) end_key(p, a, aRule[i], i == 0, outcome, now);
  if (bTx && db_commit(p->db)) db_rollback(p->db);
}
