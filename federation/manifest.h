/* manifest.h - the federation manifest: which nodes exist, where they answer, and which
 * public keys speak for them when. Stored as federation.json, canonical JSON, with
 * federation.sig beside it: the raw Ed25519 signature of the file's exact bytes by the
 * region's root key.
 *
 *   {"federation":"zhicheng","issued":"…Z","nodes":[{"id":"650000","keys":[{"id":"650000#1",
 *    "not_after":"…Z","not_before":"…Z","pem":"-----BEGIN PUBLIC KEY-----…"}],"name":"自治区",
 *    "url":"http://127.0.0.1:8600"}],"root":"<root public key PEM>","v":1}
 *
 * A key is valid at t when not_before <= t <= not_after. Retired keys stay listed so
 * that old entries still verify. A key id is "<node id>#<suffix>", e.g. "650000#1".
 * A loaded manifest is never changed by the accessors: threads may share it. */
#ifndef ZC_FED_MANIFEST_H
#define ZC_FED_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "keys.h"

#define FED_MANIFEST_NAME "zhicheng"
#define FED_MANIFEST_VERSION 1
#define FED_NODE_ID_MAX 15  /* characters in a node id */

typedef struct fed_manifest fed_manifest;

/* One public key of a node, as listed. Owned by the manifest. */
typedef struct fed_manifest_key {
  const char *zId;           /* "650000#1" */
  const char *zNode;         /* "650000" */
  const char *zPem;          /* SubjectPublicKeyInfo PEM */
  const char *zFingerprint;  /* fed_key_fingerprint() */
  time_t tNotBefore;
  time_t tNotAfter;
  const fed_key *pKey;
} fed_manifest_key;

/* 1 when z can be a node id: 1 to FED_NODE_ID_MAX of [A-Za-z0-9_-]. */
int fed_manifest_id_valid(const char *z);

/* Building. A new, empty manifest signed by (the public half of) pRoot, issued at tIssued. */
int fed_manifest_new(fed_manifest **out, const fed_key *pRoot, time_t tIssued);
/* FED_EEXISTS for a node id already listed; FED_EINVALID for a bad id, an empty name or a
 * URL that is not http(s)://. */
int fed_manifest_add_node(fed_manifest *m, const char *zId, const char *zName, const char *zUrl);
/* Add a public key to node zNode. zKeyId must be "<zNode>#<suffix>" and unique; zPem a
 * public Ed25519 key; tNotBefore <= tNotAfter. FED_ENOTFOUND for an unknown node. */
int fed_manifest_add_key(fed_manifest *m, const char *zNode, const char *zKeyId, const char *zPem,
                         time_t tNotBefore, time_t tNotAfter);

/* Where node zId's federation port answers ("wss://host:port/fed") and the pin of its TLS
 * certificate (hex SHA-256 of the DER), listed as "fed" and "tls". Optional: a manifest
 * without them loads, and such a node takes no part in replication. */
int fed_manifest_set_node_fed(fed_manifest *m, const char *zId, const char *zFedUrl, const char *zTlsPin);

/* Rotation: shorten (or extend) key zKeyId's window to end at tNotAfter (FED_ENOTFOUND,
 * or FED_EINVALID before its not_before), and date the new edition. Nodes take a manifest
 * in place of theirs only when it was issued later. */
int fed_manifest_set_key_not_after(fed_manifest *m, const char *zKeyId, time_t tNotAfter);
void fed_manifest_set_issued(fed_manifest *m, time_t tIssued);

/* The manifest as a JSON document (a new reference), as it is written. */
json_t *fed_manifest_to_json(const fed_manifest *m);

/* Write zPath (canonical JSON) and its signature file (fed_manifest_sig_path) signed by
 * pRoot, both atomically. pRoot must be the private half of the manifest's root. */
int fed_manifest_write(const fed_manifest *m, const char *zPath, const fed_key *pRoot);

/* The signature file of a manifest: "x.json" -> "x.sig", any other name gets ".sig"
 * appended. malloc'd (free() it); NULL when out of memory. */
char *fed_manifest_sig_path(const char *zPath);

/* Load zPath, check its signature file against the root public key in zRootPemPath, and
 * check that the manifest names that same root. FED_EBADSIG when the signature does not
 * verify; FED_EINVALID when the document is malformed; FED_ENOTFOUND for a missing file. */
int fed_manifest_load(fed_manifest **out, const char *zPath, const char *zRootPemPath);

/* The same from memory, against a root key already loaded. */
int fed_manifest_load_buffer(fed_manifest **out, const char *zJson, size_t nJson, const unsigned char *aSig,
                             size_t nSig, const fed_key *pRoot);

/* The exact bytes of zPath and of its signature file, unverified (malloc'd; free() both):
 * what fed_manifest_load_buffer checks, and what a node hands its peers. */
int fed_manifest_read_files(char **pzJson, size_t *pnJson, char **paSig, size_t *pnSig, const char *zPath);

/* Load zPath checking its signature against the root key the manifest itself names.
 * This proves integrity only, not that the root is the one you trust: use it only when
 * no root key is at hand, and say so to the user. */
int fed_manifest_load_unpinned(fed_manifest **out, const char *zPath);

void fed_manifest_free(fed_manifest *m);

/* Accessors. Indexes run from 0 to fed_manifest_node_count() - 1; out of range -> NULL. */
time_t fed_manifest_issued(const fed_manifest *m);
const char *fed_manifest_root_pem(const fed_manifest *m);
size_t fed_manifest_node_count(const fed_manifest *m);
const char *fed_manifest_node_id(const fed_manifest *m, size_t iNode);
const char *fed_manifest_node_name(const fed_manifest *m, size_t iNode);
const char *fed_manifest_node_url(const fed_manifest *m, size_t iNode);
const char *fed_manifest_node_fed_url(const fed_manifest *m, size_t iNode); /* NULL when not listed */
const char *fed_manifest_node_tls_pin(const fed_manifest *m, size_t iNode);
size_t fed_manifest_key_count(const fed_manifest *m, size_t iNode);
const fed_manifest_key *fed_manifest_key_get(const fed_manifest *m, size_t iNode, size_t iKey);

/* Index of node zId, or FED_ENOTFOUND. */
int fed_manifest_find_node(const fed_manifest *m, const char *zId);

/* Key zKeyId valid at t. With zNode non-NULL the key must also belong to that node.
 * FED_ENOTFOUND when no such key (of that node) is listed; FED_EEXPIRED when it is listed
 * but t is outside its window. */
int fed_manifest_key_at(const fed_manifest_key **out, const fed_manifest *m, const char *zKeyId,
                        const char *zNode, time_t t);

/* Node zNode's key valid at t (the newest by not_before when windows overlap), or
 * FED_ENOTFOUND. */
int fed_manifest_current_key(const fed_manifest_key **out, const fed_manifest *m, const char *zNode, time_t t);

/* The listing of node zNode whose public half is pKey and which is valid at t: how a node
 * learns the key id to put in its entries. FED_ENOTFOUND or FED_EEXPIRED. */
int fed_manifest_key_of(const fed_manifest_key **out, const fed_manifest *m, const char *zNode,
                        const fed_key *pKey, time_t t);

/* GET /api/v1/federation: [{"id","name","url","fingerprint"}], fingerprint being that of
 * the node's key valid now (null if none). A new reference; NULL when out of memory. */
json_t *fed_manifest_public(const fed_manifest *m);

#endif
