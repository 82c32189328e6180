/* entry.c - checks of one signed log entry against its chain (see entry.h). */
#include "entry.h"
#include "canon.h"
#include "fed_error.h"
#include "rfc3339.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Where problems go while one entry is checked. */
typedef struct entry_checker {
  fed_entry_problem_cb xProblem;
  void *payload;
  int nProblems;
} entry_checker;

static void problem(entry_checker *c, int rc, const char *zCode, const char *zFmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(entry_checker *c, int rc, const char *zCode, const char *zFmt, ...) {
  char zMessage[512];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zMessage, sizeof(zMessage), zFmt, ap);
  va_end(ap);
  c->nProblems++;
  if (c->xProblem) c->xProblem(rc, zCode, zMessage, c->payload);
}

/* The fields of entry.json; fills *piSeq, *pzKey and *ptTs (with *pbTs) when valid. */
static void check_fields(entry_checker *c, const fed_entry_expect *x, const json_t *pEntry, long long *piSeq,
                         const char **pzKey, time_t *ptTs, int *pbTs) {
  static const char *azField[] = {"body", "key", "origin", "prev", "seq", "ts", "type", "v"};
  const size_t nField = sizeof(azField) / sizeof(azField[0]);
  const json_t *pSeq = json_object_get(pEntry, "seq");
  const json_t *pV = json_object_get(pEntry, "v");
  const char *zOrigin = json_string_value(json_object_get(pEntry, "origin"));
  const char *zPrev = json_string_value(json_object_get(pEntry, "prev"));
  const char *zTs = json_string_value(json_object_get(pEntry, "ts"));
  const char *zType = json_string_value(json_object_get(pEntry, "type"));
  const char *zField;
  json_t *pValue;
  if (json_is_integer(pSeq) && json_integer_value(pSeq) > 0) *piSeq = json_integer_value(pSeq);
  else problem(c, FED_EINVALID, "bad_entry", "\"seq\" is not a positive integer");
  json_object_foreach((json_t *)pEntry, zField, pValue) {
    size_t i = 0;
    while (i < nField && strcmp(azField[i], zField) != 0) i++;
    if (i == nField) problem(c, FED_EINVALID, "bad_entry", "unexpected field \"%.40s\"", zField);
  }
  /* v is the version of the type's body: a newer node's is stored and relayed like any
   * other, and applied once this node learns it (apply.h) */
  if (!json_is_integer(pV) || json_integer_value(pV) < 1) {
    problem(c, FED_EINVALID, "bad_entry", "\"v\" is not a positive integer");
  }
  if (zOrigin == NULL || strcmp(zOrigin, x->zOrigin) != 0) {
    problem(c, FED_EINVALID, "wrong_origin", "\"origin\" is \"%.40s\", not the ref's origin %s", zOrigin ? zOrigin : "(missing)",
            x->zOrigin);
  }
  if (zPrev == NULL) {
    problem(c, FED_EINVALID, "prev_mismatch", "\"prev\" is not a string");
  } else if (x->zPrev && strcmp(zPrev, x->zPrev) != 0) {
    problem(c, FED_EINVALID, "prev_mismatch", "\"prev\" is \"%.64s\", not the previous entry's hash \"%s\"", zPrev, x->zPrev);
  }
  if (zType == NULL || zType[0] == 0) problem(c, FED_EINVALID, "bad_entry", "\"type\" is not a non-empty string");
  if (!json_is_object(json_object_get(pEntry, "body"))) problem(c, FED_EINVALID, "bad_entry", "\"body\" is not an object");
  *pbTs = zTs && fed_rfc3339_parse(ptTs, zTs) == FED_OK;
  if (!*pbTs) problem(c, FED_EINVALID, "bad_entry", "\"ts\" is not an RFC 3339 UTC time");
  *pzKey = json_string_value(json_object_get(pEntry, "key"));
  if (*pzKey == NULL) problem(c, FED_EINVALID, "bad_entry", "\"key\" is not a string");
}

/* The key named by the entry at its ts, then the signature. */
static void check_signature(entry_checker *c, fed_entry_facts *out, const fed_entry_expect *x, const char *zJson,
                            size_t nJson, const unsigned char *aSig, size_t nSig, const char *zKey, time_t tTs,
                            int bTs) {
  const fed_manifest_key *pKey = NULL;
  if (x->m == NULL) return;
  if (zKey && bTs) {
    int rc = fed_manifest_key_at(&pKey, x->m, zKey, x->zOrigin, tTs);
    if (rc != FED_OK) problem(c, rc, "key_invalid", "%s", fed_last_error());
  }
  if (aSig == NULL) return;
  if (nSig != FED_SIG_SIZE) {
    problem(c, FED_EBADSIG, "bad_signature", "entry.sig is %zu bytes, not %d", nSig, FED_SIG_SIZE);
  } else if (pKey) {
    out->bSigVerified = x->bSigKnownGood || fed_key_verify_in(x->pVerifiers, pKey->pKey, zJson, nJson, aSig, nSig) == FED_OK;
    if (!out->bSigVerified) problem(c, FED_EBADSIG, "bad_signature", "entry.sig does not verify with key %s", zKey);
  }
}

int fed_entry_check(fed_entry_facts *out, const fed_entry_expect *x, const char *zJson, size_t nJson,
                    const unsigned char *aSig, size_t nSig, fed_entry_problem_cb cb, void *payload) {
  entry_checker c = {cb, payload, 0};
  json_t *pEntry = NULL;
  const char *zKey = NULL;
  int bTs = 0;
  memset(out, 0, sizeof(*out));
  out->iSeq = x->iSeq;
  fed_sha256_hex(out->zHash, zJson, nJson);
  if (fed_canon_parse(&pEntry, zJson, nJson) != FED_OK) {
    problem(&c, FED_EINVALID, "not_canonical", "entry.json: %s", fed_last_error());
    /* go on with what it says, so that one defect does not hide the others */
    pEntry = json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
  }
  if (!json_is_object(pEntry)) {
    if (pEntry) problem(&c, FED_EINVALID, "bad_entry", "entry.json is not an object");
    goto done;
  }
  check_fields(&c, x, pEntry, &out->iSeq, &zKey, &out->tTs, &bTs);
  if (out->iSeq != x->iSeq) {
    problem(&c, FED_EINVALID, "seq_gap", "seq %lld where %lld was expected (%s)", out->iSeq, x->iSeq,
            out->iSeq > x->iSeq ? "a gap" : "repeated or out of order");
  }
  check_signature(&c, out, x, zJson, nJson, aSig, nSig, zKey, out->tTs, bTs);
done:
  if (x->bKeepParsed && json_is_object(pEntry)) out->pParsed = pEntry;
  else json_decref(pEntry);
  return c.nProblems;
}

/* Keep the first problem as the refusal. */
typedef struct first_problem {
  int rc;
  char zMessage[512];
} first_problem;

static void keep_first(int rc, const char *zCode, const char *zMessage, void *payload) {
  first_problem *p = payload;
  (void)zCode;
  if (p->rc != FED_OK) return;
  p->rc = rc;
  snprintf(p->zMessage, sizeof(p->zMessage), "%s", zMessage);
}

int fed_entry_validate(fed_entry_facts *out, const fed_entry_expect *x, const char *zJson, size_t nJson,
                       const unsigned char *aSig, size_t nSig) {
  first_problem p = {FED_OK, ""};
  fed_entry_check(out, x, zJson, nJson, aSig, nSig, keep_first, &p);
  if (p.rc == FED_OK) return FED_OK;
  return fed_error_set(p.rc, "%s", p.zMessage);
}
