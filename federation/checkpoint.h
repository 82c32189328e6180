/* checkpoint.h - signed checkpoints: a node's statement "these are the heads I hold", so
 * that an auditor comparing checkpoints with every copy of the logs catches a node that
 * showed two histories.
 *
 * Bytes (checkpoint.json): canonical JSON (canon.h)
 *   {"heads":{"<origin>":{"hash":"<sha256 hex of that entry.json>","seq":N},...},
 *    "key":"<key id>","node":"<node id>","ts":"RFC 3339 UTC","v":1}
 * Signature (checkpoint.sig): raw 64-byte Ed25519 by key `key` over the prefix
 * FED_CHECKPOINT_PREFIX ("zc-fed.1 checkpoint\n") followed by checkpoint.json's bytes; the
 * prefix makes sure a checkpoint's signature can never pass for a log entry's.
 *
 * Stored in a node's log (fedlog.h, fedlog_checkpoint_put) as refs/checkpoints/<node>, one
 * commit per checkpoint whose tree is exactly checkpoint.json and checkpoint.sig and whose
 * parent is that node's previous checkpoint.
 *
 * Checking one with git and openssl (key 650000#1's public key in 650000.pem):
 *   G='git --git-dir DATA/fedlog.git'
 *   $G show refs/checkpoints/650000:checkpoint.json > c
 *   $G show refs/checkpoints/650000:checkpoint.sig > s
 *   { printf 'zc-fed.1 checkpoint\n'; cat c; } > m
 *   openssl pkeyutl -verify -pubin -inkey 650000.pem -rawin -in m -sigfile s
 * and check that "key" belongs to "node" and is valid at "ts" in federation.json. */
#ifndef ZC_FED_CHECKPOINT_H
#define ZC_FED_CHECKPOINT_H

#include <stddef.h>
#include <time.h>

#include "keys.h"
#include "manifest.h"

#define FED_CHECKPOINT_PREFIX "zc-fed.1 checkpoint\n"
#define FED_CHECKPOINT_VERSION 1
#define FED_CHECKPOINT_MAX (1024 * 1024) /* bytes of one checkpoint.json */

/* One head a checkpoint names. */
typedef struct fed_checkpoint_head {
  char zOrigin[FED_NODE_ID_MAX + 1];
  long long iSeq;
  char zHash[FED_SHA256_HEX_SIZE];
} fed_checkpoint_head;

/* Build and sign the checkpoint of node zNode by its key zKeyId (private pKey) at t over
 * the heads a[0..n) (distinct valid origins, seq >= 1, lower-case hex hashes). *pzJson
 * (malloc'd, NUL-terminated: free() it) and *pnJson are checkpoint.json, aSig its
 * signature. FED_EINVALID for bad input (nothing is returned then). */
int fed_checkpoint_make(char **pzJson, size_t *pnJson, unsigned char aSig[FED_SIG_SIZE], const char *zNode,
                        const char *zKeyId, const fed_key *pKey, time_t t, const fed_checkpoint_head *a, size_t n);

/* What a checkpoint says. */
typedef struct fed_checkpoint {
  char zNode[FED_NODE_ID_MAX + 1];
  char zKeyId[64];
  time_t tTs;
  fed_checkpoint_head *aHead;  /* malloc'd, sorted by origin */
  size_t nHead;
} fed_checkpoint;

/* Parse checkpoint.json: FED_EINVALID when it is not canonical or not of the shape above
 * (out is then empty). Dispose of out in every case. */
int fed_checkpoint_parse(fed_checkpoint *out, const char *zJson, size_t nJson);

/* Parse and verify against manifest m: the shape (FED_EINVALID), the key belongs to the
 * checkpoint's node and is valid at its ts (FED_ENOTFOUND / FED_EEXPIRED), and the
 * signature (FED_EBADSIG). out is filled as far as the bytes could be parsed (NULL: only
 * check). The message is in fed_last_error(). */
int fed_checkpoint_verify(fed_checkpoint *out, const fed_manifest *m, const char *zJson, size_t nJson,
                          const unsigned char *aSig, size_t nSig);

void fed_checkpoint_dispose(fed_checkpoint *p);

#endif
