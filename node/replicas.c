/* replicas.c - what this node learns of other nodes' accounts and units from their
 * entries (replicas.h): rows whose home is another node, without secrets, so that anyone
 * can log in here, be found and be named at any node. */
#include "replicas.h"

#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "committees.h"
#include "db.h"
#include "fed_error.h"
#include "http.h"
#include "logwriter.h"

/* A collision of entry e's zWhat with what is held here, and what became of it: an alert,
 * never a stop of replication. */
static int reported(const fed_entry_view *e, const char *zWhat, const char *zOutcome) {
  char zMsg[300];
  snprintf(zMsg, sizeof zMsg, "%s of entry %s/%lld collides with one held here: %s", zWhat, e->zType, e->iSeq,
           zOutcome);
  logwriter_alert("collision", e->zOrigin, e->iSeq, zMsg);
  return FED_OK;
}

/* A replicated row that collides with one held here is not stored: the registrar's claims
 * decide who holds an ID number, and a collision means one side bypassed them. */
static int collision(const fed_entry_view *e, const char *zWhat) { return reported(e, zWhat, "not stored"); }

/* An applicant's phone digest, as an entry stored it, that another applicant here holds:
 * a bypass, or a number one applicant gave up and another claimed at the registrar, whose
 * entries came here in the other order. The row is stored (the registrar decided who holds
 * the ID number) and reported; a login by that number names neither of them
 * (account_find_login) until one of them gives it up. */
static void phone_collision(zc_node *p, const fed_entry_view *e, const char *zAccount) {
  if (db_int(p->db, 0, "SELECT 1 FROM accounts a JOIN accounts o ON o.phone_digest = a.phone_digest AND o.id <> a.id"
             " AND o.role = 'applicant' WHERE a.id = ? AND a.role = 'applicant'", "t", zAccount))
    reported(e, "the phone", "stored; that number logs in neither applicant here");
}

int replicas_apply_account(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  const char *zAccount = jstr(b, "account"), *zUnit = jstr(b, "unit"), *zDept = jstr(b, "dept");
  const char *zHome = jstr(b, "home");
  if (!zAccount || !jstr(b, "username") || !jstr(b, "role") || !zHome || !jstr(b, "name"))
    return fed_error_set(FED_EINVALID, "account.registered without account, username, role, home or name");
  if (strcmp(zHome, e->zOrigin) != 0) return fed_error_set(FED_EINVALID, "account.registered for another home");
  if (db_int(p->db, 0, "SELECT 1 FROM accounts WHERE id = ?", "t", zAccount)) return claims_match(p, zAccount) ? FED_ERROR : FED_OK;
  if (zUnit && !db_int(p->db, 0, "SELECT 1 FROM units WHERE id = ?", "t", zUnit))
    return fed_error_set(FED_EAGAIN, "the account's unit is not known here yet");
  if (db_int(p->db, 0, "SELECT 1 FROM accounts WHERE username = ?", "t", jstr(b, "username")))
    return collision(e, "the username");
  if (jstr(b, "id_digest") && db_int(p->db, 0, "SELECT 1 FROM accounts WHERE id_digest = ?", "t", jstr(b, "id_digest")))
    return collision(e, "the ID number");
  if (zDept && !db_int(p->db, 0, "SELECT 1 FROM depts WHERE id = ?", "t", zDept)) zDept = NULL; /* not one of ours */
  sqlite3_int64 now = (sqlite3_int64)node_now(p);
  if (db_exec(p->db, "INSERT INTO accounts(id, username, role, name, id_digest, phone_digest, home, unit_id, dept_id,"
              " committee_id, created, updated) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", "ttttttttttII", zAccount,
              jstr(b, "username"), jstr(b, "role"), jstr(b, "name"), jstr(b, "id_digest"), jstr(b, "phone_digest"),
              zHome, zUnit, zDept, jstr(b, "committee"), now, now) ||
      claims_match(p, zAccount))
    return FED_ERROR;
  phone_collision(p, e, zAccount);
  return FED_OK;
}

int replicas_apply_account_updated(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const char *zAccount = jstr(e->pBody, "account"), *zPhone = jstr(e->pBody, "phone_digest");
  if (!zAccount) return fed_error_set(FED_EINVALID, "account.updated without an account");
  if (!zPhone) return FED_OK; /* only e-mail changed: nothing held here */
  if (db_exec(p->db, "UPDATE accounts SET phone_digest = ?, updated = ? WHERE id = ? AND home = ?", "tItt", zPhone,
              (sqlite3_int64)node_now(p), zAccount, e->zOrigin) ||
      claims_match(p, zAccount))
    return FED_ERROR;
  phone_collision(p, e, zAccount);
  return FED_OK;
}

int replicas_apply_credentials(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const char *zAccount = jstr(e->pBody, "account");
  json_int_t iEpoch = json_integer_value(json_object_get(e->pBody, "epoch"));
  if (!zAccount) return fed_error_set(FED_EINVALID, "account.credentials without an account");
  if (db_exec(p->db, "DELETE FROM sessions WHERE account_id = ?", "t", zAccount) ||
      db_exec(p->db, "UPDATE accounts SET cred_epoch = max(cred_epoch, ?) WHERE id = ?", "It", (sqlite3_int64)iEpoch,
              zAccount))
    return FED_ERROR;
  return FED_OK;
}

int replicas_apply_unit(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  const char *zUnit = jstr(b, "unit"), *zNode = jstr(b, "node");
  if (!zUnit || !jstr(b, "credit_code") || !jstr(b, "name") || !jstr(b, "short_name") || !zNode)
    return fed_error_set(FED_EINVALID, "unit.registered without unit, credit_code, name, short_name or node");
  if (db_int(p->db, 0, "SELECT 1 FROM units WHERE id = ?", "t", zUnit)) return claims_match(p, zUnit) ? FED_ERROR : FED_OK;
  if (db_int(p->db, 0, "SELECT 1 FROM units WHERE credit_code = ?1 OR name IN (?2, ?3) OR short_name IN (?2, ?3)", "ttt",
             jstr(b, "credit_code"), jstr(b, "name"), jstr(b, "short_name")))
    return collision(e, "the unit's credit code or name");
  sqlite3_int64 now = (sqlite3_int64)node_now(p);
  if (db_exec(p->db, "INSERT INTO units(id, credit_code, name, short_name, node, created, updated)"
              " VALUES(?,?,?,?,?,?,?)", "tttttII", zUnit, jstr(b, "credit_code"), jstr(b, "name"),
              jstr(b, "short_name"), zNode, now, now) ||
      claims_match(p, zUnit))
    return FED_ERROR;
  return FED_OK;
}

int replicas_apply_unit_renamed(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  if (!jstr(b, "unit") || !jstr(b, "name") || !jstr(b, "short_name"))
    return fed_error_set(FED_EINVALID, "unit.renamed without unit, name or short_name");
  if (!db_int(p->db, 0, "SELECT 1 FROM units WHERE id = ?", "t", jstr(b, "unit")))
    return fed_error_set(FED_EAGAIN, "the unit is not known here yet");
  if (db_int(p->db, 0, "SELECT 1 FROM units WHERE id <> ?1 AND (name IN (?2, ?3) OR short_name IN (?2, ?3))", "ttt",
             jstr(b, "unit"), jstr(b, "name"), jstr(b, "short_name")))
    return collision(e, "the unit's new name");
  return db_exec(p->db, "UPDATE units SET name = ?, short_name = ?, updated = ? WHERE id = ?", "ttIt", jstr(b, "name"),
                 jstr(b, "short_name"), (sqlite3_int64)node_now(p), jstr(b, "unit")) ||
                 claims_match(p, jstr(b, "unit"))
             ? FED_ERROR
             : FED_OK;
}

/* committee.updated: a committee's own node sets its name, fee, limit, paper rules, directory
 * and submission windows; every node checks an application against these, wherever it is
 * (a node's own copy of another node's committee is reference data until then). */
int replicas_apply_committee(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody, *a = json_object_get(b, "windows"), *w;
  const char *zId = jstr(b, "committee");
  size_t i;
  if (!zId || !jstr(b, "name") || !json_is_array(a))
    return fed_error_set(FED_EINVALID, "committee.updated without committee, name or windows");
  char *zNode = db_text(p->db, "SELECT node FROM committees WHERE id = ?", "t", zId);
  int bOwner = zNode && strcmp(zNode, e->zOrigin) == 0;
  free(zNode);
  if (!bOwner) { /* unknown here, or another node's: never applied */
    char zMsg[200];
    snprintf(zMsg, sizeof zMsg, "committee.updated/%lld names committee %.40s, which is not %s's", e->iSeq, zId,
             e->zOrigin);
    logwriter_alert("not_owner", e->zOrigin, e->iSeq, zMsg);
    return FED_OK;
  }
  /* the directory's members came later: an entry without one leaves it as it is; one
   * without name_ug (from a node before it) renaming the committee leaves none */
  if (committee_set_name_ug(p, zId, jstr(b, "name"), jstr(b, "name_ug")) ||
      db_exec(p->db, "UPDATE committees SET name = ?, fee = ?, submit_limit = ?, paper_rules = ?, address = ?,"
              " contact = coalesce(?, contact), phone = coalesce(?, phone), paper_from = coalesce(?, paper_from),"
              " paper_until = coalesce(?, paper_until), paper_binding = coalesce(?, paper_binding),"
              " updated = ? WHERE id = ?", "tiitttttttIt", jstr(b, "name"),
              (int)json_integer_value(json_object_get(b, "fee")),
              (int)json_integer_value(json_object_get(b, "submit_limit")), jstr(b, "paper_rules"), jstr(b, "address"),
              jstr(b, "contact"), jstr(b, "phone"), jstr(b, "paper_from"), jstr(b, "paper_until"),
              jstr(b, "paper_binding"), (sqlite3_int64)node_now(p), zId) ||
      db_exec(p->db, "DELETE FROM committee_windows WHERE committee_id = ?", "t", zId))
    return FED_ERROR;
  json_array_foreach(a, i, w) {
    if (!jstr(w, "specialty") || !jstr(w, "opens") || !jstr(w, "closes")) continue;
    if (db_exec(p->db, "INSERT OR REPLACE INTO committee_windows(committee_id, specialty, opens, closes)"
                " VALUES(?,?,?,?)", "tttt", zId, jstr(w, "specialty"), jstr(w, "opens"), jstr(w, "closes")))
      return FED_ERROR;
  }
  return FED_OK;
}
