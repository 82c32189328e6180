/* trust.h - what a node trusts and signs with: the verified federation manifest (with its
 * exact bytes and signature, to hand to peers) and the private keys of its key file.
 *
 * One edition is current (zc_node.pTrust; pManifest points into it). A newer edition
 * replaces it while the node runs: the operator's files re-read on SIGHUP (after
 * `zc-admin rotate-key`), or a manifest a peer hands over the federation channel, checked
 * against the region's root key and taken only when issued later than ours. Replaced
 * editions stay allocated until the node closes: the log writer's thread may still hold
 * one for the job in hand. Key rotation: the key file holds old and new private keys; a
 * node signs what happens at t with the newest of its listed keys valid at t that it
 * holds, so a new key signs from its not_before and retired keys still verify old entries. */
#ifndef ZC_TRUST_H
#define ZC_TRUST_H

#include <stddef.h>
#include <time.h>

#include "keys.h"
#include "manifest.h"
#include "node.h"

typedef struct zc_trust {
  fed_manifest *pManifest;
  char *zJson; /* federation.json, as signed */
  size_t nJson;
  unsigned char aSig[FED_SIG_SIZE];
  fed_key **apKey; /* the private keys this node holds (its key file) */
  size_t nKey;
  char azFingerprint[FED_KEYS_MAX][FED_FINGERPRINT_SIZE];
  struct zc_trust *pOlder; /* the edition this one replaced */
} zc_trust;

/* An edition from a manifest's bytes (verified with pRoot; it must list node zNode) and
 * the private keys of zKeyFile. FED_EBADSIG, FED_EINVALID, FED_ENOTFOUND. */
int trust_new(zc_trust **out, const char *zJson, size_t nJson, const unsigned char *aSig, size_t nSig,
              const fed_key *pRoot, const char *zNode, const char *zKeyFile);

/* The edition of the node's files (--manifest, its .sig, --key). */
int trust_load(zc_trust **out, const zc_node *p);

/* The key node zNode signs with at t: the newest by not_before of its listed keys valid
 * at t whose private half we hold; its listing in *ppListed. NULL when there is none. */
const fed_key *trust_key_at(const zc_trust *t, const char *zNode, time_t tAt, const fed_manifest_key **ppListed);

/* The private key we hold for listed key zKeyId ("650000#2"), or NULL. */
const fed_key *trust_key_by_id(const zc_trust *t, const char *zKeyId);

/* The manifest of the node's current edition; NULL for a node run alone. Event loop only
 * (the log writer's thread keeps the edition it was handed). */
const fed_manifest *node_manifest(const zc_node *p);
/* The portal URL the manifest lists for node zNode ("http://127.0.0.1:8600"), or "" when
 * unknown (a node run on its own): links to another node's pages start with it. */
const char *node_url(const zc_node *p, const char *zNode);

/* Free t and every edition it replaced. */
void trust_free(zc_trust *t);

/* Make t the node's current edition (the node owns it from here, taken or not). zFrom:
 * the peer that handed it (then it is also written to the node's manifest files so that
 * a restart keeps it), or NULL for the operator's files. Taken only when issued later
 * than the current edition (from the files: also when as new, the keys may have
 * changed) and when it lists the same nodes in the same order; a changed node list is
 * written and waits for a restart. 1 when taken, 0 when not, -1 on error. The log
 * writer and the links hear of it; the links pass it on to every peer. */
int trust_install(zc_node *p, zc_trust *t, const char *zFrom);

/* SIGHUP: read the files again and take them when they are newer or as new. */
void trust_reload(zc_node *p);

#endif
