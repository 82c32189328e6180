/* trust.c - the node's manifest and keys, and replacing them while it runs (trust.h). */
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed_error.h"
#include "fed_file.h"
#include "fedlink.h"
#include "logwriter.h"
#include "rfc3339.h"

int trust_new(zc_trust **out, const char *zJson, size_t nJson, const unsigned char *aSig, size_t nSig,
              const fed_key *pRoot, const char *zNode, const char *zKeyFile) {
  zc_trust *t = calloc(1, sizeof *t);
  int rc = FED_OK;
  *out = NULL;
  if (!t || !(t->zJson = malloc(nJson + 1))) {
    free(t);
    return fed_error_set(FED_ERROR, "out of memory");
  }
  memcpy(t->zJson, zJson, nJson);
  t->zJson[nJson] = 0;
  t->nJson = nJson;
  if (nSig != FED_SIG_SIZE) {
    rc = fed_error_set(FED_EBADSIG, "manifest: the signature is not %d bytes", FED_SIG_SIZE);
  } else if ((rc = fed_manifest_load_buffer(&t->pManifest, zJson, nJson, aSig, nSig, pRoot)) == FED_OK) {
    memcpy(t->aSig, aSig, FED_SIG_SIZE);
    if (fed_manifest_find_node(t->pManifest, zNode) < 0)
      rc = fed_error_set(FED_ENOTFOUND, "the manifest does not list node %s", zNode);
  }
  if (rc == FED_OK && zKeyFile && zKeyFile[0] && (rc = fed_keys_load_private(&t->apKey, &t->nKey, zKeyFile)) == FED_OK) {
    for (size_t i = 0; i < t->nKey && rc == FED_OK; i++) rc = fed_key_fingerprint(t->azFingerprint[i], t->apKey[i]);
  }
  if (rc != FED_OK) {
    t->pOlder = NULL;
    trust_free(t);
    return rc;
  }
  *out = t;
  return FED_OK;
}

int trust_load(zc_trust **out, const zc_node *p) {
  char *zJson = NULL, *aSig = NULL;
  size_t nJson = 0, nSig = 0;
  int rc = fed_manifest_read_files(&zJson, &nJson, &aSig, &nSig, p->cfg.zManifest);
  if (rc == FED_OK)
    rc = trust_new(out, zJson, nJson, (const unsigned char *)aSig, nSig, p->pRoot, p->cfg.zNode, p->cfg.zKey);
  if (rc != FED_OK) fed_error_wrap(rc, "%s", p->cfg.zManifest);
  free(zJson);
  free(aSig);
  return rc;
}

/* Index of the held private key whose public half is listed key k, or -1. */
static int held_index(const zc_trust *t, const fed_manifest_key *k) {
  for (size_t i = 0; i < t->nKey; i++)
    if (strcmp(t->azFingerprint[i], k->zFingerprint) == 0) return (int)i;
  return -1;
}

const fed_key *trust_key_at(const zc_trust *t, const char *zNode, time_t tAt, const fed_manifest_key **ppListed) {
  const fed_manifest_key *pBest = NULL;
  int iBest = -1;
  int iNode = t ? fed_manifest_find_node(t->pManifest, zNode) : -1;
  if (ppListed) *ppListed = NULL;
  if (iNode < 0) return NULL;
  for (size_t j = 0; j < fed_manifest_key_count(t->pManifest, (size_t)iNode); j++) {
    const fed_manifest_key *k = fed_manifest_key_get(t->pManifest, (size_t)iNode, j);
    int i = held_index(t, k);
    if (i < 0 || tAt < k->tNotBefore || tAt > k->tNotAfter) continue;
    if (!pBest || k->tNotBefore > pBest->tNotBefore) pBest = k, iBest = i;
  }
  if (ppListed) *ppListed = pBest;
  return pBest ? t->apKey[iBest] : NULL;
}

const fed_key *trust_key_by_id(const zc_trust *t, const char *zKeyId) {
  for (size_t n = 0; t && n < fed_manifest_node_count(t->pManifest); n++) {
    for (size_t j = 0; j < fed_manifest_key_count(t->pManifest, n); j++) {
      const fed_manifest_key *k = fed_manifest_key_get(t->pManifest, n, j);
      if (strcmp(k->zId, zKeyId) != 0) continue;
      int i = held_index(t, k);
      return i < 0 ? NULL : t->apKey[i];
    }
  }
  return NULL;
}

const fed_manifest *node_manifest(const zc_node *p) { return p->pTrust ? p->pTrust->pManifest : NULL; }

const char *node_url(const zc_node *p, const char *zNode) {
  const fed_manifest *m = node_manifest(p);
  int i = m && zNode ? fed_manifest_find_node(m, zNode) : -1;
  const char *zBase = i >= 0 ? fed_manifest_node_url(m, (size_t)i) : NULL;
  return zBase ? zBase : "";
}

void trust_free(zc_trust *t) {
  while (t) {
    zc_trust *pOlder = t->pOlder;
    fed_manifest_free(t->pManifest);
    fed_keys_free(t->apKey, t->nKey);
    free(t->zJson);
    free(t);
    t = pOlder;
  }
}

/* 1 when a and b list the same node ids in the same order (the links are laid out by it). */
static int same_nodes(const fed_manifest *a, const fed_manifest *b) {
  size_t n = fed_manifest_node_count(a);
  if (n != fed_manifest_node_count(b)) return 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(fed_manifest_node_id(a, i), fed_manifest_node_id(b, i)) != 0) return 0;
  return 1;
}

/* A peer's edition, kept for the next start: the signature first, so that a crash
 * between the two writes leaves a pair that fails loudly, never a silent old one. */
static int write_files(const zc_node *p, const zc_trust *t) {
  char *zSigPath = fed_manifest_sig_path(p->cfg.zManifest);
  int rc = zSigPath ? fed_file_write_atomic(zSigPath, t->aSig, FED_SIG_SIZE, 0644) : FED_ERROR;
  if (rc == FED_OK) rc = fed_file_write_atomic(p->cfg.zManifest, t->zJson, t->nJson, 0644);
  free(zSigPath);
  return rc;
}

int trust_install(zc_node *p, zc_trust *t, const char *zFrom) {
  zc_trust *pOld = p->pTrust;
  time_t tNew = fed_manifest_issued(t->pManifest), tOld = pOld ? fed_manifest_issued(pOld->pManifest) : 0;
  char zIssued[FED_RFC3339_SIZE] = "";
  fed_rfc3339_format(zIssued, tNew);
  if (pOld && (tNew < tOld || (tNew == tOld && zFrom))) {
    trust_free(t);
    return 0;
  }
  if (zFrom && write_files(p, t) != FED_OK) {
    fprintf(stderr, "zc-node: cannot keep the manifest of %s from %s: %s\n", zIssued, zFrom, fed_last_error());
    trust_free(t);
    return -1;
  }
  if (pOld && !same_nodes(pOld->pManifest, t->pManifest)) {
    fprintf(stderr, "zc-node: the manifest of %s lists other nodes: kept, taken at the next start\n", zIssued);
    trust_free(t);
    return 0;
  }
  if (!trust_key_at(t, p->cfg.zNode, node_now(p), NULL))
    logwriter_alert("no_key", p->cfg.zNode, 0,
                    "the manifest lists no key of this node valid now whose private half it holds: "
                    "it cannot write until the key file holds one (zc-admin rotate-key, then SIGHUP)");
  t->pOlder = pOld;
  p->pTrust = t;
  fprintf(stderr, "zc-node: manifest of %s taken (%s%s)\n", zIssued, zFrom ? "from " : "from the files",
          zFrom ? zFrom : "");
  logwriter_trust(t);
  fedlink_trust(t);
  return 1;
}

void trust_reload(zc_node *p) {
  zc_trust *t = NULL;
  if (!p->pTrust) return; /* a node alone has nothing to reload */
  if (trust_load(&t, p) != FED_OK) {
    fprintf(stderr, "zc-node: reload: %s (the current manifest and keys stay)\n", fed_last_error());
    return;
  }
  trust_install(p, t, NULL);
}
