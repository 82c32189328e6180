/* log_fixture.h - what the signed-log tests share (test_audit.c, test_fedlog.c): a
 * manifest with the region's, Urumqi's and a retired key, a temporary directory, and
 * signed entries made to order, sound or spoilt in one chosen way. Include after
 * <cmocka.h>. */
#ifndef ZC_TEST_LOG_FIXTURE_H
#define ZC_TEST_LOG_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "keys.h"
#include "manifest.h"
#include "rfc3339.h"

#define T0 1700000000
#define DAY 86400

typedef struct fixture {
  char zDir[64];
  fed_key *pRegion;  /* 650000#1 */
  fed_key *pUrumqi;  /* 650100#1 */
  fed_key *pOld;     /* 650000#0, retired before T0 */
  fed_key *pRoot;    /* signs the manifest */
  fed_manifest *m;
} fixture;

/* How to spoil one entry (all zero: a sound entry). */
typedef struct entry_opts {
  long long iSeq;           /* 0: the next seq */
  const char *zPrev;        /* NULL: the real hash */
  const char *zKeyId;       /* NULL: "<origin>#1" */
  const fed_key *pSignKey;  /* NULL: fixture's key of the origin */
  const char *zBodyNote;    /* a field in the body, to make two different entries */
  const char *zTs;          /* NULL: T0 + seq minutes */
  const char *zOrigin;      /* NULL: the chain's origin */
  int bFlipSig;
  int bWhitespace;          /* store non-canonical bytes (signed as stored) */
  int bExtraFile;           /* (audit's builder) a third file in the tree */
  int bTamper;              /* change entry.json after it was signed */
} entry_opts;

/* One signed entry: entry.json (malloc'd) and its signature. */
typedef struct made_entry {
  char *zJson;
  size_t nJson;
  unsigned char aSig[FED_SIG_SIZE];
} made_entry;

static inline void fixture_add_key(fed_manifest *m, const char *zNode, const char *zKeyId, const fed_key *k,
                                   time_t tFrom, time_t tTo) {
  char *zPem = NULL;
  assert_int_equal(fed_key_public_pem(&zPem, NULL, k), 0);
  assert_int_equal(fed_manifest_add_key(m, zNode, zKeyId, zPem, tFrom, tTo), 0);
  free(zPem);
}

static inline int fixture_teardown(void **state) {
  fixture *f = *state;
  char zCmd[128];
  int rc = 0;
  if (f->zDir[0] && getenv("ZC_TEST_KEEP") == NULL) { /* ZC_TEST_KEEP=1: leave it to look at */
    snprintf(zCmd, sizeof(zCmd), "rm -rf '%s'", f->zDir);
    rc = system(zCmd);
  }
  fed_manifest_free(f->m);
  fed_key_free(f->pRegion);
  fed_key_free(f->pUrumqi);
  fed_key_free(f->pOld);
  fed_key_free(f->pRoot);
  free(f);
  return rc == 0 ? 0 : -1;
}

/* A fresh fixture in a new directory zTemplate ("/tmp/zc-test-X-XXXXXX"). */
static inline int fixture_setup(void **state, const char *zTemplate) {
  fixture *f = calloc(1, sizeof(*f));
  int rc;
  if (f == NULL) return -1;
  *state = f;
  snprintf(f->zDir, sizeof(f->zDir), "%s", zTemplate);
  if (mkdtemp(f->zDir) == NULL) {
    f->zDir[0] = 0;
    fixture_teardown(state);
    return -1;
  }
  rc = fed_key_generate(&f->pRoot) || fed_key_generate(&f->pRegion) || fed_key_generate(&f->pUrumqi) ||
       fed_key_generate(&f->pOld) || fed_manifest_new(&f->m, f->pRoot, T0);
  if (rc) {
    fixture_teardown(state);
    return -1;
  }
  fed_manifest_add_node(f->m, "650000", "自治区", "http://127.0.0.1:8600");
  fed_manifest_add_node(f->m, "650100", "乌鲁木齐市", "http://127.0.0.1:8601");
  fixture_add_key(f->m, "650000", "650000#0", f->pOld, T0 - 100 * DAY, T0 - 50 * DAY);
  fixture_add_key(f->m, "650000", "650000#1", f->pRegion, T0 - DAY, T0 + 1000 * DAY);
  fixture_add_key(f->m, "650100", "650100#1", f->pUrumqi, T0 - DAY, T0 + 1000 * DAY);
  return 0;
}

/* Entry iSeq of zOrigin's chain after the entry hashed zPrevHash ("" before seq 1),
 * spoilt as o says (o may be NULL). */
static inline void entry_make(made_entry *out, const fixture *f, const char *zOrigin, long long iSeq,
                              const char *zPrevHash, const entry_opts *o) {
  static const entry_opts none;
  char zTs[FED_RFC3339_SIZE], zKeyId[32];
  const fed_key *pKey;
  json_t *pEntry;
  if (o == NULL) o = &none;
  if (o->iSeq) iSeq = o->iSeq;
  fed_rfc3339_format(zTs, T0 + iSeq * 60);
  snprintf(zKeyId, sizeof(zKeyId), "%s#1", zOrigin);
  pKey = o->pSignKey ? o->pSignKey : strcmp(zOrigin, "650000") == 0 ? f->pRegion : f->pUrumqi;
  /* of a type no rule of audit_rules.h reads: chains of several origins stay clean */
  pEntry = json_pack("{s:{s:s,s:s},s:s,s:s,s:s,s:I,s:s,s:s,s:i}", "body", "account", "a-1", "note",
                     o->zBodyNote ? o->zBodyNote : "", "key", o->zKeyId ? o->zKeyId : zKeyId, "origin",
                     o->zOrigin ? o->zOrigin : zOrigin, "prev", o->zPrev ? o->zPrev : zPrevHash, "seq",
                     (json_int_t)iSeq, "ts", o->zTs ? o->zTs : zTs, "type", "fixture.note", "v", 1);
  assert_non_null(pEntry);
  if (o->bWhitespace) {
    out->zJson = json_dumps(pEntry, JSON_SORT_KEYS | JSON_INDENT(1));
    assert_non_null(out->zJson);
    out->nJson = strlen(out->zJson);
  } else {
    out->zJson = fed_canon(pEntry, &out->nJson);
    assert_non_null(out->zJson);
  }
  assert_int_equal(fed_key_sign(out->aSig, pKey, out->zJson, out->nJson), 0);
  if (o->bFlipSig) out->aSig[17] ^= 0x04;
  if (o->bTamper) {
    char *z = strstr(out->zJson, "\"a-1\"");
    assert_non_null(z);
    z[3] = '2';
  }
  json_decref(pEntry);
}

/* DESIGN.md's recipe with the real tools, in the fixture's directory: `git show` the
 * entry at zRev (e.g. "refs/fed/650000~9") of log zLog/fedlog.git and its predecessor;
 * `openssl pkeyutl -verify` checks the signature with the region's key; the entry's prev
 * is the sha256sum of its predecessor; and `git fsck --strict` reports nothing (but that
 * HEAD is unborn, as in any bare repository without branches). 0 when all hold. */
static inline int fixture_tools_agree(const fixture *f, const char *zLog, const char *zRev) {
  char zCmd[1400], zPem[160];
  snprintf(zPem, sizeof(zPem), "%s/650000.pem", f->zDir);
  assert_int_equal(fed_key_write_public(f->pRegion, zPem), 0);
  snprintf(zCmd, sizeof(zCmd),
           "cd '%s' && G='git --git-dir %s/fedlog.git' && "
           "$G show '%s:entry.json' > e && $G show '%s:entry.sig' > s && $G show '%s~1:entry.json' > e1 && "
           "test \"$(sha256sum e1 | cut -c1-64)\" = \"$(sed 's/.*\"prev\":\"\\([0-9a-f]*\\)\".*/\\1/' e)\" && "
           "openssl pkeyutl -verify -pubin -inkey 650000.pem -rawin -in e -sigfile s >/dev/null 2>&1 && "
           "$G fsck --strict --no-dangling >fsck.out 2>&1 && ! grep -v '^notice: HEAD points to an unborn branch' fsck.out",
           f->zDir, zLog, zRev, zRev, zRev);
  return system(zCmd);
}

#endif
