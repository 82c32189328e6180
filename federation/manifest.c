/* manifest.c - build, sign, write, load and query the federation manifest (manifest.h). */
#include "manifest.h"
#include "canon.h"
#include "fed_error.h"
#include "fed_file.h"
#include "rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_FILE_MAX (4 * 1024 * 1024)

typedef struct manifest_key {
  fed_manifest_key info;  /* what callers see; its strings point into the fields below */
  char *zId;
  char *zPem;
  fed_key *pKey;
  char zFingerprint[FED_FINGERPRINT_SIZE];
} manifest_key;

typedef struct manifest_node {
  char *zId;
  char *zName;
  char *zUrl;
  char *zFedUrl;  /* "wss://host:port/fed", or NULL */
  char *zTlsPin;  /* hex SHA-256 of its TLS certificate's DER, or NULL */
  manifest_key **apKey;  /* pointers, so that info stays put when the array grows */
  size_t nKey;
} manifest_node;

struct fed_manifest {
  time_t tIssued;
  char *zRootPem;
  char zRootFingerprint[FED_FINGERPRINT_SIZE];
  manifest_node *aNode;
  size_t nNode;
};

int fed_manifest_id_valid(const char *z) {
  size_t n = z ? strlen(z) : 0;
  if (n == 0 || n > FED_NODE_ID_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = z[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return 0;
    }
  }
  return 1;
}

/* "<zNode>#<suffix>", the suffix 1-32 of [A-Za-z0-9_.-]. */
static int key_id_valid(const char *zKeyId, const char *zNode) {
  size_t nNode = strlen(zNode);
  const char *zSuffix;
  if (strncmp(zKeyId, zNode, nNode) != 0 || zKeyId[nNode] != '#') return 0;
  zSuffix = zKeyId + nNode + 1;
  if (zSuffix[0] == 0 || strlen(zSuffix) > 32) return 0;
  for (const char *p = zSuffix; *p; p++) {
    char c = *p;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.')) {
      return 0;
    }
  }
  return 1;
}

static void key_free(manifest_key *k) {
  if (k == NULL) return;
  free(k->zId);
  free(k->zPem);
  fed_key_free(k->pKey);
  free(k);
}

static void node_clear(manifest_node *p) {
  for (size_t i = 0; i < p->nKey; i++) key_free(p->apKey[i]);
  free(p->apKey);
  free(p->zId);
  free(p->zName);
  free(p->zUrl);
  free(p->zFedUrl);
  free(p->zTlsPin);
}

void fed_manifest_free(fed_manifest *m) {
  if (m == NULL) return;
  for (size_t i = 0; i < m->nNode; i++) node_clear(&m->aNode[i]);
  free(m->aNode);
  free(m->zRootPem);
  free(m);
}

int fed_manifest_new(fed_manifest **out, const fed_key *pRoot, time_t tIssued) {
  int rc = FED_OK;
  fed_manifest *m = NULL;
  *out = NULL;
  m = calloc(1, sizeof(*m));
  if (m == NULL) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  m->tIssued = tIssued;
  rc = fed_key_public_pem(&m->zRootPem, NULL, pRoot);
  if (rc != FED_OK) goto done;
  rc = fed_key_fingerprint(m->zRootFingerprint, pRoot);
  if (rc != FED_OK) goto done;
  *out = m;
  m = NULL;
done:
  fed_manifest_free(m);
  return rc;
}

int fed_manifest_find_node(const fed_manifest *m, const char *zId) {
  for (size_t i = 0; i < m->nNode; i++) {
    if (strcmp(m->aNode[i].zId, zId) == 0) return (int)i;
  }
  return FED_ENOTFOUND;
}

static manifest_key *key_find(const fed_manifest *m, const char *zKeyId) {
  for (size_t i = 0; i < m->nNode; i++) {
    for (size_t j = 0; j < m->aNode[i].nKey; j++) {
      if (strcmp(m->aNode[i].apKey[j]->zId, zKeyId) == 0) return m->aNode[i].apKey[j];
    }
  }
  return NULL;
}

int fed_manifest_add_node(fed_manifest *m, const char *zId, const char *zName, const char *zUrl) {
  manifest_node *aNew;
  manifest_node *p;
  if (!fed_manifest_id_valid(zId)) {
    return fed_error_set(FED_EINVALID, "node id \"%.40s\" is not 1-%d of [A-Za-z0-9_-]", zId ? zId : "",
                         FED_NODE_ID_MAX);
  }
  if (zName == NULL || zName[0] == 0) return fed_error_set(FED_EINVALID, "node %s: empty name", zId);
  if (zUrl == NULL || (strncmp(zUrl, "http://", 7) != 0 && strncmp(zUrl, "https://", 8) != 0)) {
    return fed_error_set(FED_EINVALID, "node %s: URL \"%.80s\" is not http:// or https://", zId, zUrl ? zUrl : "");
  }
  if (fed_manifest_find_node(m, zId) >= 0) return fed_error_set(FED_EEXISTS, "node %s is listed twice", zId);
  aNew = realloc(m->aNode, (m->nNode + 1) * sizeof(*aNew));
  if (aNew == NULL) return fed_error_set(FED_ERROR, "out of memory");
  m->aNode = aNew;
  p = &m->aNode[m->nNode];
  memset(p, 0, sizeof(*p));
  p->zId = strdup(zId);
  p->zName = strdup(zName);
  p->zUrl = strdup(zUrl);
  if (p->zId == NULL || p->zName == NULL || p->zUrl == NULL) {
    node_clear(p);
    return fed_error_set(FED_ERROR, "out of memory");
  }
  m->nNode++;
  return FED_OK;
}

int fed_manifest_add_key(fed_manifest *m, const char *zNode, const char *zKeyId, const char *zPem,
                         time_t tNotBefore, time_t tNotAfter) {
  int rc = FED_OK;
  int iNode = fed_manifest_find_node(m, zNode);
  manifest_node *pNode;
  manifest_key *k = NULL;
  manifest_key **apNew;
  if (iNode < 0) return fed_error_set(FED_ENOTFOUND, "key %s: node %s is not listed", zKeyId, zNode);
  pNode = &m->aNode[iNode];
  if (!key_id_valid(zKeyId, zNode)) {
    return fed_error_set(FED_EINVALID, "key id \"%.60s\" is not \"%s#<suffix>\"", zKeyId, zNode);
  }
  if (key_find(m, zKeyId)) return fed_error_set(FED_EEXISTS, "key %s is listed twice", zKeyId);
  if (tNotBefore > tNotAfter) return fed_error_set(FED_EINVALID, "key %s: not_before is after not_after", zKeyId);
  k = calloc(1, sizeof(*k));
  if (k == NULL) {
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  rc = fed_key_from_pem(&k->pKey, zPem, strlen(zPem));
  if (rc != FED_OK) {
    fed_error_wrap(rc, "key %s", zKeyId);
    goto done;
  }
  rc = fed_key_fingerprint(k->zFingerprint, k->pKey);
  if (rc != FED_OK) goto done;
  k->zId = strdup(zKeyId);
  k->zPem = strdup(zPem);
  apNew = realloc(pNode->apKey, (pNode->nKey + 1) * sizeof(*apNew));
  if (k->zId == NULL || k->zPem == NULL || apNew == NULL) {
    if (apNew) pNode->apKey = apNew;
    rc = fed_error_set(FED_ERROR, "out of memory");
    goto done;
  }
  pNode->apKey = apNew;
  k->info.zId = k->zId;
  k->info.zNode = pNode->zId;
  k->info.zPem = k->zPem;
  k->info.zFingerprint = k->zFingerprint;
  k->info.tNotBefore = tNotBefore;
  k->info.tNotAfter = tNotAfter;
  k->info.pKey = k->pKey;
  pNode->apKey[pNode->nKey++] = k;
  k = NULL;
done:
  key_free(k);
  return rc;
}

/* Add {"key": "RFC 3339 of t"} to o; 0 or -1. */
static int json_set_time(json_t *o, const char *zKey, time_t t) {
  char zTime[FED_RFC3339_SIZE];
  if (fed_rfc3339_format(zTime, t) != FED_OK) return -1;
  return json_object_set_new(o, zKey, json_string(zTime));
}

static json_t *key_to_json(const manifest_key *k) {
  json_t *o = json_object();
  if (o == NULL || json_object_set_new(o, "id", json_string(k->zId)) ||
      json_object_set_new(o, "pem", json_string(k->zPem)) ||
      json_set_time(o, "not_before", k->info.tNotBefore) || json_set_time(o, "not_after", k->info.tNotAfter)) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *node_to_json(const manifest_node *p) {
  json_t *o = json_object();
  json_t *aKeys = json_array();
  if (o == NULL || aKeys == NULL) goto fail;
  for (size_t i = 0; i < p->nKey; i++) {
    if (json_array_append_new(aKeys, key_to_json(p->apKey[i]))) goto fail;
  }
  if (json_object_set_new(o, "id", json_string(p->zId)) || json_object_set_new(o, "name", json_string(p->zName)) ||
      json_object_set_new(o, "url", json_string(p->zUrl))) {
    goto fail;
  }
  if ((p->zFedUrl && json_object_set_new(o, "fed", json_string(p->zFedUrl))) ||
      (p->zTlsPin && json_object_set_new(o, "tls", json_string(p->zTlsPin)))) {
    goto fail;
  }
  if (json_object_set_new(o, "keys", aKeys)) {
    aKeys = NULL; /* json_object_set_new consumed it even on failure */
    goto fail;
  }
  return o;
fail:
  json_decref(aKeys);
  json_decref(o);
  return NULL;
}

json_t *fed_manifest_to_json(const fed_manifest *m) {
  json_t *o = json_object();
  json_t *aNodes = json_array();
  if (o == NULL || aNodes == NULL) goto fail;
  for (size_t i = 0; i < m->nNode; i++) {
    if (json_array_append_new(aNodes, node_to_json(&m->aNode[i]))) goto fail;
  }
  if (json_object_set_new(o, "federation", json_string(FED_MANIFEST_NAME)) ||
      json_object_set_new(o, "v", json_integer(FED_MANIFEST_VERSION)) || json_set_time(o, "issued", m->tIssued) ||
      json_object_set_new(o, "root", json_string(m->zRootPem))) {
    goto fail;
  }
  if (json_object_set_new(o, "nodes", aNodes)) {
    aNodes = NULL;
    goto fail;
  }
  return o;
fail:
  json_decref(aNodes);
  json_decref(o);
  fed_error_set(FED_ERROR, "out of memory (or a time out of range) building the manifest");
  return NULL;
}

char *fed_manifest_sig_path(const char *zPath) {
  size_t n = strlen(zPath);
  char *z = malloc(n + 5);
  if (z == NULL) return NULL;
  memcpy(z, zPath, n + 1);
  if (n >= 5 && strcmp(zPath + n - 5, ".json") == 0) {
    strcpy(z + n - 5, ".sig");
  } else {
    strcpy(z + n, ".sig");
  }
  return z;
}

int fed_manifest_write(const fed_manifest *m, const char *zPath, const fed_key *pRoot) {
  int rc = FED_OK;
  json_t *pDoc = NULL;
  char *zJson = NULL;
  size_t nJson = 0;
  char *zSigPath = NULL;
  unsigned char aSig[FED_SIG_SIZE];
  char zFingerprint[FED_FINGERPRINT_SIZE];
  if (!fed_key_has_private(pRoot)) {
    rc = fed_error_set(FED_EINVALID, "signing the manifest needs the root's private key");
    goto done;
  }
  rc = fed_key_fingerprint(zFingerprint, pRoot);
  if (rc != FED_OK) goto done;
  if (strcmp(zFingerprint, m->zRootFingerprint) != 0) {
    rc = fed_error_set(FED_EINVALID, "the signing key is not the root the manifest names");
    goto done;
  }
  pDoc = fed_manifest_to_json(m);
  if (pDoc == NULL) {
    rc = FED_ERROR;
    goto done;
  }
  zJson = fed_canon(pDoc, &nJson);
  zSigPath = fed_manifest_sig_path(zPath);
  if (zJson == NULL || zSigPath == NULL) {
    rc = zJson ? fed_error_set(FED_ERROR, "out of memory") : FED_EINVALID;
    goto done;
  }
  rc = fed_key_sign(aSig, pRoot, zJson, nJson);
  if (rc != FED_OK) goto done;
  rc = fed_file_write_atomic(zPath, zJson, nJson, 0644);
  if (rc != FED_OK) goto done;
  rc = fed_file_write_atomic(zSigPath, aSig, sizeof(aSig), 0644);
done:
  free(zSigPath);
  free(zJson);
  json_decref(pDoc);
  return rc;
}

/* A string member of o, or NULL (with the error set) when missing or not a string. */
static const char *json_need_string(const json_t *o, const char *zKey, const char *zWhere) {
  const char *z = json_string_value(json_object_get(o, zKey));
  if (z == NULL || z[0] == 0) fed_error_set(FED_EINVALID, "manifest: %s needs a non-empty string \"%s\"", zWhere, zKey);
  return z;
}

static int json_need_time(time_t *out, const json_t *o, const char *zKey, const char *zWhere) {
  const char *z = json_need_string(o, zKey, zWhere);
  if (z == NULL) return FED_EINVALID;
  if (fed_rfc3339_parse(out, z) != FED_OK) {
    return fed_error_set(FED_EINVALID, "manifest: %s \"%s\" is not an RFC 3339 UTC time", zWhere, zKey);
  }
  return FED_OK;
}

static int manifest_parse_key(fed_manifest *m, const char *zNode, const json_t *pKey) {
  const char *zId, *zPem;
  time_t tNotBefore, tNotAfter;
  char zWhere[64];
  snprintf(zWhere, sizeof(zWhere), "a key of node %s", zNode);
  if (!json_is_object(pKey)) return fed_error_set(FED_EINVALID, "manifest: %s is not an object", zWhere);
  if ((zId = json_need_string(pKey, "id", zWhere)) == NULL || (zPem = json_need_string(pKey, "pem", zWhere)) == NULL ||
      json_need_time(&tNotBefore, pKey, "not_before", zWhere) || json_need_time(&tNotAfter, pKey, "not_after", zWhere)) {
    return FED_EINVALID;
  }
  return fed_manifest_add_key(m, zNode, zId, zPem, tNotBefore, tNotAfter);
}

static int manifest_parse_node(fed_manifest *m, const json_t *pNode) {
  int rc = FED_OK;
  const char *zId, *zName, *zUrl;
  const json_t *aKeys;
  char zWhere[64];
  if (!json_is_object(pNode)) return fed_error_set(FED_EINVALID, "manifest: a node is not an object");
  if ((zId = json_need_string(pNode, "id", "a node")) == NULL) return FED_EINVALID;
  snprintf(zWhere, sizeof(zWhere), "node %.40s", zId);
  if ((zName = json_need_string(pNode, "name", zWhere)) == NULL || (zUrl = json_need_string(pNode, "url", zWhere)) == NULL) {
    return FED_EINVALID;
  }
  aKeys = json_object_get(pNode, "keys");
  if (!json_is_array(aKeys)) return fed_error_set(FED_EINVALID, "manifest: node %s has no \"keys\" array", zId);
  rc = fed_manifest_add_node(m, zId, zName, zUrl);
  const json_t *pFed = json_object_get(pNode, "fed"), *pTls = json_object_get(pNode, "tls");
  if (rc == FED_OK && (pFed || pTls)) {
    if (!json_is_string(pFed) || !json_is_string(pTls))
      return fed_error_set(FED_EINVALID, "manifest: node %s: \"fed\" and \"tls\" go together, as strings", zId);
    rc = fed_manifest_set_node_fed(m, zId, json_string_value(pFed), json_string_value(pTls));
  }
  for (size_t i = 0; rc == FED_OK && i < json_array_size(aKeys); i++) {
    rc = manifest_parse_key(m, zId, json_array_get(aKeys, i));
  }
  return rc;
}

/* Turn a parsed document into a manifest; pRoot is the key that verified it. */
static int manifest_from_json(fed_manifest **out, const json_t *pDoc, const fed_key *pRoot) {
  int rc = FED_OK;
  fed_manifest *m = NULL;
  const char *zRoot;
  const json_t *aNodes;
  time_t tIssued;
  char zFingerprint[FED_FINGERPRINT_SIZE];
  fed_key *pNamedRoot = NULL;
  *out = NULL;
  const char *zFederation = json_string_value(json_object_get(pDoc, "federation"));
  if (zFederation == NULL || strcmp(zFederation, FED_MANIFEST_NAME) != 0) {
    rc = fed_error_set(FED_EINVALID, "manifest: not a \"%s\" federation manifest", FED_MANIFEST_NAME);
    goto done;
  }
  if (!json_is_integer(json_object_get(pDoc, "v")) ||
      json_integer_value(json_object_get(pDoc, "v")) != FED_MANIFEST_VERSION) {
    rc = fed_error_set(FED_EINVALID, "manifest: version \"v\" is not %d", FED_MANIFEST_VERSION);
    goto done;
  }
  if ((zRoot = json_need_string(pDoc, "root", "the document")) == NULL) {
    rc = FED_EINVALID;
    goto done;
  }
  rc = json_need_time(&tIssued, pDoc, "issued", "the document");
  if (rc != FED_OK) goto done;
  aNodes = json_object_get(pDoc, "nodes");
  if (!json_is_array(aNodes)) {
    rc = fed_error_set(FED_EINVALID, "manifest: no \"nodes\" array");
    goto done;
  }
  rc = fed_key_from_pem(&pNamedRoot, zRoot, strlen(zRoot));
  if (rc != FED_OK) {
    fed_error_wrap(rc, "manifest: \"root\"");
    goto done;
  }
  rc = fed_manifest_new(&m, pNamedRoot, tIssued);
  if (rc != FED_OK) goto done;
  rc = fed_key_fingerprint(zFingerprint, pRoot);
  if (rc != FED_OK) goto done;
  if (strcmp(zFingerprint, m->zRootFingerprint) != 0) {
    rc = fed_error_set(FED_EINVALID, "manifest: it names root key %.16s…, not the root key given (%.16s…)",
                       m->zRootFingerprint, zFingerprint);
    goto done;
  }
  for (size_t i = 0; rc == FED_OK && i < json_array_size(aNodes); i++) {
    rc = manifest_parse_node(m, json_array_get(aNodes, i));
  }
  if (rc != FED_OK) goto done;
  *out = m;
  m = NULL;
done:
  fed_key_free(pNamedRoot);
  fed_manifest_free(m);
  return rc;
}

int fed_manifest_load_buffer(fed_manifest **out, const char *zJson, size_t nJson, const unsigned char *aSig,
                             size_t nSig, const fed_key *pRoot) {
  int rc = FED_OK;
  json_t *pDoc = NULL;
  json_error_t err;
  *out = NULL;
  if (fed_key_verify(pRoot, zJson, nJson, aSig, nSig) != FED_OK) {
    rc = fed_error_set(FED_EBADSIG, "manifest: the signature does not verify with the root key given "
                                    "(the manifest was altered, or signed by another root)");
    goto done;
  }
  pDoc = json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
  if (pDoc == NULL) {
    rc = fed_error_set(FED_EINVALID, "manifest: not JSON: %s (line %d)", err.text, err.line);
    goto done;
  }
  rc = manifest_from_json(out, pDoc, pRoot);
done:
  json_decref(pDoc);
  return rc;
}

int fed_manifest_read_files(char **pzJson, size_t *pnJson, char **paSig, size_t *pnSig, const char *zPath) {
  int rc = FED_OK;
  char *zSigPath = fed_manifest_sig_path(zPath);
  *paSig = NULL;
  if (zSigPath == NULL) return fed_error_set(FED_ERROR, "out of memory");
  rc = fed_file_read(pzJson, pnJson, zPath, MANIFEST_FILE_MAX);
  if (rc != FED_OK) goto done;
  rc = fed_file_read(paSig, pnSig, zSigPath, 1024);
  if (rc != FED_OK) {
    free(*pzJson);
    *pzJson = NULL;
    fed_error_wrap(rc, "manifest signature");
  }
done:
  free(zSigPath);
  return rc;
}

int fed_manifest_load(fed_manifest **out, const char *zPath, const char *zRootPemPath) {
  int rc = FED_OK;
  fed_key *pRoot = NULL;
  char *zJson = NULL;
  char *aSig = NULL;
  size_t nJson = 0, nSig = 0;
  *out = NULL;
  rc = fed_key_load_public(&pRoot, zRootPemPath);
  if (rc != FED_OK) {
    fed_error_wrap(rc, "root key");
    goto done;
  }
  rc = fed_manifest_read_files(&zJson, &nJson, &aSig, &nSig, zPath);
  if (rc != FED_OK) goto done;
  rc = fed_manifest_load_buffer(out, zJson, nJson, (const unsigned char *)aSig, nSig, pRoot);
  if (rc != FED_OK) fed_error_wrap(rc, "%s", zPath);
done:
  free(zJson);
  free(aSig);
  fed_key_free(pRoot);
  return rc;
}

int fed_manifest_load_unpinned(fed_manifest **out, const char *zPath) {
  int rc = FED_OK;
  fed_key *pRoot = NULL;
  json_t *pDoc = NULL;
  const char *zRoot;
  char *zJson = NULL;
  char *aSig = NULL;
  size_t nJson = 0, nSig = 0;
  *out = NULL;
  rc = fed_manifest_read_files(&zJson, &nJson, &aSig, &nSig, zPath);
  if (rc != FED_OK) goto done;
  pDoc = json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, NULL);
  zRoot = json_string_value(json_object_get(pDoc, "root"));
  if (zRoot == NULL) {
    rc = fed_error_set(FED_EINVALID, "%s: not a manifest with a \"root\" key", zPath);
    goto done;
  }
  rc = fed_key_from_pem(&pRoot, zRoot, strlen(zRoot));
  if (rc != FED_OK) {
    fed_error_wrap(rc, "%s: \"root\"", zPath);
    goto done;
  }
  rc = fed_manifest_load_buffer(out, zJson, nJson, (const unsigned char *)aSig, nSig, pRoot);
  if (rc != FED_OK) fed_error_wrap(rc, "%s", zPath);
done:
  json_decref(pDoc);
  free(zJson);
  free(aSig);
  fed_key_free(pRoot);
  return rc;
}

time_t fed_manifest_issued(const fed_manifest *m) {
  return m->tIssued;
}

const char *fed_manifest_root_pem(const fed_manifest *m) {
  return m->zRootPem;
}

size_t fed_manifest_node_count(const fed_manifest *m) {
  return m->nNode;
}

const char *fed_manifest_node_id(const fed_manifest *m, size_t iNode) {
  return iNode < m->nNode ? m->aNode[iNode].zId : NULL;
}

const char *fed_manifest_node_name(const fed_manifest *m, size_t iNode) {
  return iNode < m->nNode ? m->aNode[iNode].zName : NULL;
}

int fed_manifest_set_node_fed(fed_manifest *m, const char *zId, const char *zFedUrl, const char *zTlsPin) {
  int i = fed_manifest_find_node(m, zId);
  if (i < 0) return fed_error_set(FED_ENOTFOUND, "manifest: no node %s", zId);
  if (!zFedUrl || strncmp(zFedUrl, "wss://", 6) != 0 || strlen(zFedUrl) > 200)
    return fed_error_set(FED_EINVALID, "node %s: federation URL \"%.80s\" is not wss://", zId, zFedUrl ? zFedUrl : "");
  size_t n = zTlsPin ? strlen(zTlsPin) : 0;
  if (n != FED_SHA256_HEX_SIZE - 1 || strspn(zTlsPin, "0123456789abcdef") != n)
    return fed_error_set(FED_EINVALID, "node %s: the TLS pin is not 64 lower-case hex digits", zId);
  manifest_node *p = &m->aNode[i];
  char *zF = strdup(zFedUrl), *zP = strdup(zTlsPin);
  if (!zF || !zP) {
    free(zF);
    free(zP);
    return fed_error_set(FED_ERROR, "out of memory");
  }
  free(p->zFedUrl);
  free(p->zTlsPin);
  p->zFedUrl = zF;
  p->zTlsPin = zP;
  return FED_OK;
}

int fed_manifest_set_key_not_after(fed_manifest *m, const char *zKeyId, time_t tNotAfter) {
  manifest_key *k = key_find(m, zKeyId);
  if (!k) return fed_error_set(FED_ENOTFOUND, "manifest: no key %s", zKeyId);
  if (tNotAfter < k->info.tNotBefore)
    return fed_error_set(FED_EINVALID, "key %s: not_after would be before its not_before", zKeyId);
  k->info.tNotAfter = tNotAfter;
  return FED_OK;
}

void fed_manifest_set_issued(fed_manifest *m, time_t tIssued) { m->tIssued = tIssued; }

const char *fed_manifest_node_fed_url(const fed_manifest *m, size_t iNode) {
  return iNode < m->nNode ? m->aNode[iNode].zFedUrl : NULL;
}

const char *fed_manifest_node_tls_pin(const fed_manifest *m, size_t iNode) {
  return iNode < m->nNode ? m->aNode[iNode].zTlsPin : NULL;
}

const char *fed_manifest_node_url(const fed_manifest *m, size_t iNode) {
  return iNode < m->nNode ? m->aNode[iNode].zUrl : NULL;
}

size_t fed_manifest_key_count(const fed_manifest *m, size_t iNode) {
  return iNode < m->nNode ? m->aNode[iNode].nKey : 0;
}

const fed_manifest_key *fed_manifest_key_get(const fed_manifest *m, size_t iNode, size_t iKey) {
  if (iNode >= m->nNode || iKey >= m->aNode[iNode].nKey) return NULL;
  return &m->aNode[iNode].apKey[iKey]->info;
}

static int key_valid_at(const fed_manifest_key *k, time_t t) {
  return k->tNotBefore <= t && t <= k->tNotAfter;
}

int fed_manifest_key_at(const fed_manifest_key **out, const fed_manifest *m, const char *zKeyId,
                        const char *zNode, time_t t) {
  const manifest_key *k = key_find(m, zKeyId);
  char zTime[FED_RFC3339_SIZE];
  *out = NULL;
  if (k == NULL) return fed_error_set(FED_ENOTFOUND, "key %.60s is not in the manifest", zKeyId);
  if (zNode && strcmp(k->info.zNode, zNode) != 0) {
    return fed_error_set(FED_ENOTFOUND, "key %s belongs to node %s, not %.40s", zKeyId, k->info.zNode, zNode);
  }
  if (!key_valid_at(&k->info, t)) {
    fed_rfc3339_format(zTime, t);
    return fed_error_set(FED_EEXPIRED, "key %s is not valid at %s", zKeyId, zTime);
  }
  *out = &k->info;
  return FED_OK;
}

int fed_manifest_current_key(const fed_manifest_key **out, const fed_manifest *m, const char *zNode, time_t t) {
  int iNode = fed_manifest_find_node(m, zNode);
  const fed_manifest_key *pBest = NULL;
  *out = NULL;
  if (iNode < 0) return fed_error_set(FED_ENOTFOUND, "node %.40s is not in the manifest", zNode);
  for (size_t j = 0; j < m->aNode[iNode].nKey; j++) {
    const fed_manifest_key *k = &m->aNode[iNode].apKey[j]->info;
    if (key_valid_at(k, t) && (pBest == NULL || k->tNotBefore > pBest->tNotBefore)) pBest = k;
  }
  if (pBest == NULL) return fed_error_set(FED_ENOTFOUND, "node %s has no key valid now", zNode);
  *out = pBest;
  return FED_OK;
}

int fed_manifest_key_of(const fed_manifest_key **out, const fed_manifest *m, const char *zNode,
                        const fed_key *pKey, time_t t) {
  int rc;
  int iNode = fed_manifest_find_node(m, zNode);
  char zFingerprint[FED_FINGERPRINT_SIZE];
  *out = NULL;
  if (iNode < 0) return fed_error_set(FED_ENOTFOUND, "node %.40s is not in the manifest", zNode);
  rc = fed_key_fingerprint(zFingerprint, pKey);
  if (rc != FED_OK) return rc;
  for (size_t j = 0; j < m->aNode[iNode].nKey; j++) {
    const fed_manifest_key *k = &m->aNode[iNode].apKey[j]->info;
    if (strcmp(k->zFingerprint, zFingerprint) != 0) continue;
    if (!key_valid_at(k, t)) return fed_error_set(FED_EEXPIRED, "key %s is listed but not valid now", k->zId);
    *out = k;
    return FED_OK;
  }
  return fed_error_set(FED_ENOTFOUND, "this key (%.16s…) is not listed for node %s", zFingerprint, zNode);
}

json_t *fed_manifest_public(const fed_manifest *m) {
  json_t *aOut = json_array();
  time_t tNow = time(NULL);
  for (size_t i = 0; aOut && i < m->nNode; i++) {
    const fed_manifest_key *k = NULL;
    json_t *o;
    fed_manifest_current_key(&k, m, m->aNode[i].zId, tNow);
    o = json_pack("{s:s,s:s,s:s,s:o}", "id", m->aNode[i].zId, "name", m->aNode[i].zName, "url", m->aNode[i].zUrl,
                  "fingerprint", k ? json_string(k->zFingerprint) : json_null());
    if (json_array_append_new(aOut, o)) {
      json_decref(aOut);
      aOut = NULL;
    }
  }
  return aOut;
}
