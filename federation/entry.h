/* entry.h - the one answer to "is this a valid next entry of origin O's log?", shared by
 * the log store (fedlog.c refuses a bad entry) and the audit (audit.c reports it).
 *
 * An entry is entry.json's exact bytes and entry.sig's raw 64-byte Ed25519 signature of
 * them (DESIGN.md, "The signed log"). It is valid as the next entry of a chain when:
 * entry.json is canonical JSON (canon.h) of an object with exactly the fields body
 * (object), key (string), origin (the chain's origin), prev (lower-case hex SHA-256 of
 * the previous entry.json, "" for seq 1), seq (the expected positive integer), ts (RFC
 * 3339 UTC), type (non-empty string) and v (1); the key named by `key` belongs to the
 * origin and is valid at `ts` in the manifest; and entry.sig verifies with it. */
#ifndef ZC_FED_ENTRY_H
#define ZC_FED_ENTRY_H

#include <stddef.h>
#include <time.h>

#include "manifest.h"

/* What the chain expects of the entry. */
typedef struct fed_entry_expect {
  const char *zOrigin;     /* the chain's origin */
  long long iSeq;          /* the seq it must carry */
  const char *zPrev;       /* the previous entry's hash ("" before seq 1); NULL: unknown, unchecked */
  const fed_manifest *m;   /* keys and their validity; NULL: key and signature unchecked */
  int bSigKnownGood;       /* these bytes and this signature verified before: skip the Ed25519 check */
  fed_verifier_set *pVerifiers; /* the calling thread's prepared checks (keys.h); NULL: none */
  int bKeepParsed;         /* hand the parsed entry over in fed_entry_facts.pParsed */
} fed_entry_expect;

/* What the entry turned out to be. */
typedef struct fed_entry_facts {
  long long iSeq;                   /* its seq, or the expected one when it has none */
  char zHash[FED_SHA256_HEX_SIZE];  /* hex SHA-256 of entry.json: what the next entry's prev names */
  time_t tTs;                       /* its ts (0 when unreadable) */
  int bSigVerified;                 /* the signature verified (or was known good) with a valid key */
  json_t *pParsed;                  /* with bKeepParsed: the entry as an object (the caller's to
                                       json_decref), NULL when it is none */
} fed_entry_facts;

/* Called once per problem: rc is the FED_* code a refusal of it would carry (FED_EINVALID
 * for malformed content, origin, seq or prev; FED_ENOTFOUND / FED_EEXPIRED for the key;
 * FED_EBADSIG for the signature); zCode the audit's name for it (API.md, zc-audit):
 * not_canonical, bad_entry, wrong_origin, seq_gap, prev_mismatch, key_invalid,
 * bad_signature. */
typedef void (*fed_entry_problem_cb)(int rc, const char *zCode, const char *zMessage, void *payload);

/* Check zJson[0..nJson) and aSig[0..nSig) against x. aSig NULL: no signature to check (the
 * caller already knows it is missing). Every problem goes to cb (may be NULL), which may
 * read out->iSeq (the entry's seq as far as known) to place it. Returns the number of
 * problems; out is always filled. */
int fed_entry_check(fed_entry_facts *out, const fed_entry_expect *x, const char *zJson, size_t nJson,
                    const unsigned char *aSig, size_t nSig, fed_entry_problem_cb cb, void *payload);

/* The same as a yes or no: 0 when the entry is valid, else the first problem's code with
 * its message in fed_last_error(). */
int fed_entry_validate(fed_entry_facts *out, const fed_entry_expect *x, const char *zJson, size_t nJson,
                       const unsigned char *aSig, size_t nSig);

#endif
