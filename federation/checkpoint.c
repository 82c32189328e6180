/* checkpoint.c - build, sign, parse and verify checkpoints of a node's heads (see
 * checkpoint.h). */
#include "checkpoint.h"
#include "canon.h"
#include "fed_error.h"
#include "rfc3339.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int hash_valid(const char *z) {
  size_t n = z ? strlen(z) : 0;
  if (n != FED_SHA256_HEX_SIZE - 1) return 0;
  for (size_t i = 0; i < n; i++) {
    if (!((z[i] >= '0' && z[i] <= '9') || (z[i] >= 'a' && z[i] <= 'f'))) return 0;
  }
  return 1;
}

/* Sign the prefix followed by zJson[0..nJson). */
static int checkpoint_sign(unsigned char aSig[FED_SIG_SIZE], const fed_key *pKey, const char *zJson, size_t nJson) {
  size_t nPrefix = strlen(FED_CHECKPOINT_PREFIX);
  char *zMsg = malloc(nPrefix + nJson);
  int rc;
  if (zMsg == NULL) return fed_error_set(FED_ERROR, "out of memory");
  memcpy(zMsg, FED_CHECKPOINT_PREFIX, nPrefix);
  memcpy(zMsg + nPrefix, zJson, nJson);
  rc = fed_key_sign(aSig, pKey, zMsg, nPrefix + nJson);
  free(zMsg);
  return rc;
}

static int checkpoint_check_sig(const fed_key *pKey, const char *zJson, size_t nJson, const unsigned char *aSig,
                                size_t nSig) {
  size_t nPrefix = strlen(FED_CHECKPOINT_PREFIX);
  char *zMsg = malloc(nPrefix + nJson);
  int rc;
  if (zMsg == NULL) return fed_error_set(FED_ERROR, "out of memory");
  memcpy(zMsg, FED_CHECKPOINT_PREFIX, nPrefix);
  memcpy(zMsg + nPrefix, zJson, nJson);
  rc = fed_key_verify(pKey, zMsg, nPrefix + nJson, aSig, nSig);
  free(zMsg);
  return rc;
}

/* The heads object {"<origin>":{"hash","seq"}}; NULL with the error set. */
static json_t *heads_json(const fed_checkpoint_head *a, size_t n) {
  json_t *pHeads = json_object();
  for (size_t i = 0; pHeads && i < n; i++) {
    if (!fed_manifest_id_valid(a[i].zOrigin) || a[i].iSeq < 1 || !hash_valid(a[i].zHash)) {
      fed_error_set(FED_EINVALID, "head %zu: origin, seq or hash is not valid", i);
      goto fail;
    }
    if (json_object_get(pHeads, a[i].zOrigin)) {
      fed_error_set(FED_EINVALID, "origin %s named twice", a[i].zOrigin);
      goto fail;
    }
    if (json_object_set_new(pHeads, a[i].zOrigin,
                            json_pack("{s:s,s:I}", "hash", a[i].zHash, "seq", (json_int_t)a[i].iSeq)) != 0) {
      fed_error_set(FED_ERROR, "out of memory");
      goto fail;
    }
  }
  if (pHeads == NULL) fed_error_set(FED_ERROR, "out of memory");
  return pHeads;
fail:
  json_decref(pHeads);
  return NULL;
}

int fed_checkpoint_make(char **pzJson, size_t *pnJson, unsigned char aSig[FED_SIG_SIZE], const char *zNode,
                        const char *zKeyId, const fed_key *pKey, time_t t, const fed_checkpoint_head *a, size_t n) {
  int rc = FED_OK;
  char zTs[FED_RFC3339_SIZE];
  json_t *pHeads = NULL, *pDoc = NULL;
  char *zJson = NULL;
  size_t nJson = 0;
  *pzJson = NULL;
  *pnJson = 0;
  if (zNode == NULL || !fed_manifest_id_valid(zNode) || zKeyId == NULL || zKeyId[0] == 0 || pKey == NULL) {
    return fed_error_set(FED_EINVALID, "a checkpoint needs a node id, a key id and a private key");
  }
  if (fed_rfc3339_format(zTs, t) != FED_OK) return fed_error_set(FED_EINVALID, "time %lld out of range", (long long)t);
  pHeads = heads_json(a, n);
  if (pHeads == NULL) return n == 0 ? FED_ERROR : FED_EINVALID;
  pDoc = json_pack("{s:o,s:s,s:s,s:s,s:i}", "heads", pHeads, "key", zKeyId, "node", zNode, "ts", zTs, "v",
                   FED_CHECKPOINT_VERSION);
  if (pDoc == NULL) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  zJson = fed_canon(pDoc, &nJson);
  if (zJson == NULL) {
    rc = fed_error_wrap(FED_EINVALID, "checkpoint");
    goto done;
  }
  rc = checkpoint_sign(aSig, pKey, zJson, nJson);
  if (rc != FED_OK) goto done;
  *pzJson = zJson;
  *pnJson = nJson;
  zJson = NULL;
done:
  free(zJson);
  json_decref(pDoc);
  return rc;
}

void fed_checkpoint_dispose(fed_checkpoint *p) {
  if (p == NULL) return;
  free(p->aHead);
  memset(p, 0, sizeof(*p));
}

/* One member of "heads" into *pHead. */
static int head_parse(fed_checkpoint_head *pHead, const char *zOrigin, const json_t *v) {
  const json_t *pSeq = json_object_get(v, "seq");
  const char *zHash = json_string_value(json_object_get(v, "hash"));
  if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(pSeq) || json_integer_value(pSeq) < 1 ||
      !hash_valid(zHash) || !fed_manifest_id_valid(zOrigin)) {
    return fed_error_set(FED_EINVALID, "checkpoint.json: head \"%.40s\" is not {\"hash\",\"seq\"}", zOrigin);
  }
  snprintf(pHead->zOrigin, sizeof(pHead->zOrigin), "%s", zOrigin);
  pHead->iSeq = json_integer_value(pSeq);
  memcpy(pHead->zHash, zHash, FED_SHA256_HEX_SIZE);
  return FED_OK;
}

static int doc_parse(fed_checkpoint *out, const json_t *pDoc) {
  const json_t *pHeads = json_object_get(pDoc, "heads");
  const json_t *pV = json_object_get(pDoc, "v");
  const char *zKey = json_string_value(json_object_get(pDoc, "key"));
  const char *zNode = json_string_value(json_object_get(pDoc, "node"));
  const char *zTs = json_string_value(json_object_get(pDoc, "ts"));
  const char *zOrigin;
  json_t *v;
  if (!json_is_object(pDoc) || json_object_size(pDoc) != 5 || !json_is_object(pHeads) || !json_is_integer(pV) ||
      json_integer_value(pV) != FED_CHECKPOINT_VERSION || zKey == NULL || strlen(zKey) >= sizeof(out->zKeyId) ||
      zNode == NULL || !fed_manifest_id_valid(zNode) || zTs == NULL || fed_rfc3339_parse(&out->tTs, zTs) != FED_OK) {
    return fed_error_set(FED_EINVALID, "checkpoint.json is not {\"heads\",\"key\",\"node\",\"ts\",\"v\":1}");
  }
  snprintf(out->zNode, sizeof(out->zNode), "%s", zNode);
  snprintf(out->zKeyId, sizeof(out->zKeyId), "%s", zKey);
  out->aHead = calloc(json_object_size(pHeads) + 1, sizeof(*out->aHead));
  if (out->aHead == NULL) return fed_error_set(FED_ERROR, "out of memory");
  json_object_foreach((json_t *)pHeads, zOrigin, v) {
    int rc = head_parse(&out->aHead[out->nHead], zOrigin, v);
    if (rc != FED_OK) return rc;
    out->nHead++;
  }
  return FED_OK;
}

int fed_checkpoint_parse(fed_checkpoint *out, const char *zJson, size_t nJson) {
  int rc;
  json_t *pDoc = NULL;
  memset(out, 0, sizeof(*out));
  rc = fed_canon_parse(&pDoc, zJson, nJson);
  if (rc != FED_OK) return fed_error_wrap(FED_EINVALID, "checkpoint.json");
  rc = doc_parse(out, pDoc);
  json_decref(pDoc);
  if (rc != FED_OK) fed_checkpoint_dispose(out);
  return rc;
}

int fed_checkpoint_verify(fed_checkpoint *out, const fed_manifest *m, const char *zJson, size_t nJson,
                          const unsigned char *aSig, size_t nSig) {
  fed_checkpoint local = {0};
  fed_checkpoint *p = out ? out : &local;
  const fed_manifest_key *pKey = NULL;
  int rc = fed_checkpoint_parse(p, zJson, nJson);
  if (rc == FED_OK) rc = fed_manifest_key_at(&pKey, m, p->zKeyId, p->zNode, p->tTs);
  if (rc == FED_OK && (nSig != FED_SIG_SIZE || checkpoint_check_sig(pKey->pKey, zJson, nJson, aSig, nSig) != FED_OK)) {
    rc = fed_error_set(FED_EBADSIG, "checkpoint.sig does not verify with key %s", p->zKeyId);
  }
  if (p == &local) fed_checkpoint_dispose(p);
  return rc;
}
