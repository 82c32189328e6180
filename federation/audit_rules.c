/* audit_rules.c - the federation's invariants over claims and registrations (see
 * audit_rules.h). Facts are kept as a flat array; judging sorts them: by (origin, seq) to
 * drop copies, the registrar's claims by (digest, seq) to follow each digest's holder, the
 * registrations by account to find its home. */
#include "audit_rules.h"
#include "fed_error.h"
#include "rfc3339.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FACT_CLAIMED, FACT_RELEASED, FACT_REGISTERED, FACT_PHONE, /* claims and accounts */
       FACT_APP_CHANGE, FACT_HANDOFF, FACT_ACCEPTED,               /* an application's holders */
       FACT_TRANSFER,                                              /* an account's home moving */
       FACT_ROUTED };                                              /* an application's committee */

typedef struct rule_fact {
  char *zOrigin;
  long long iSeq;
  int eType;
  time_t tTs;
  char *zAccount;
  char *zNode;       /* FACT_CLAIMED: the node the claim is for; FACT_HANDOFF: to; FACT_ACCEPTED: from */
  char *zApp;        /* the application of FACT_APP_CHANGE, FACT_HANDOFF, FACT_ACCEPTED; the transfer */
  char *zFrom;       /* FACT_TRANSFER: the old home (zNode: the new one) */
  char cStep;        /* FACT_TRANSFER: 'o'ffered, 'a'ccepted, 'd'one, 'r'olled back */
  time_t tOffer;     /* FACT_TRANSFER: when its transfer was offered (its first step's ts) */
  char *zCommittee, *zQual, *zSpecialty, *zUnitNode; /* FACT_ROUTED: the choice and what it was made for */
  long long iRev;    /* ... at this revision */
  char *zIdDigest;   /* may be NULL for a registration (staff have no ID number here) */
  char *zPhoneDigest;
  int bStanding;     /* FACT_CLAIMED: still holds its ID digest at the end */
} rule_fact;

/* One digest's part in a claim or release: the registrar's facts, by digest. */
typedef struct digest_event {
  char cKind;        /* 'i' ID number, 'p' phone */
  const char *zDigest;
  size_t iFact;
  int bRelease;      /* the fact gives the digest up (id.released; a phone.claimed's former phone) */
} digest_event;

struct fed_rules {
  pthread_mutex_t mu; /* guards the facts: the audit's threads add them at once */
  rule_fact *aFact;
  size_t nFact, nAlloc;
  json_t *pCommittees; /* [{id, node, directed, scope: [{series, level, specialty?}]}], or NULL */
  json_t *pSeries;     /* [{code, qualifications: [{code, level}]}] */
};

#define TYPE_KEY "\"type\":\"" /* how the type begins in canonical entry.json */

static const struct {
  const char *zNeedle; /* TYPE_KEY, the type, its closing quote */
  int eType;
} g_types[] = {
    {TYPE_KEY "id.claimed\"", FACT_CLAIMED},
    {TYPE_KEY "id.released\"", FACT_RELEASED},
    {TYPE_KEY "account.registered\"", FACT_REGISTERED},
    {TYPE_KEY "phone.claimed\"", FACT_PHONE},
    {TYPE_KEY "application.created\"", FACT_APP_CHANGE},
    {TYPE_KEY "application.moved\"", FACT_APP_CHANGE},
    {TYPE_KEY "application.qualification\"", FACT_APP_CHANGE},
    {TYPE_KEY "application.opinion\"", FACT_APP_CHANGE},
    {TYPE_KEY "application.handoff\"", FACT_HANDOFF},
    {TYPE_KEY "application.accepted\"", FACT_ACCEPTED},
    {TYPE_KEY "account.transfer\"", FACT_TRANSFER},
};
#define N_TYPES (sizeof g_types / sizeof g_types[0])

fed_rules *fed_rules_new(void) {
  fed_rules *r = calloc(1, sizeof(fed_rules));
  if (r && pthread_mutex_init(&r->mu, NULL) != 0) {
    free(r);
    return NULL;
  }
  return r;
}

static void fact_free(rule_fact *f) {
  free(f->zOrigin);
  free(f->zAccount);
  free(f->zNode);
  free(f->zApp);
  free(f->zFrom);
  free(f->zCommittee);
  free(f->zQual);
  free(f->zSpecialty);
  free(f->zUnitNode);
  free(f->zIdDigest);
  free(f->zPhoneDigest);
}

void fed_rules_free(fed_rules *r) {
  if (r == NULL) return;
  for (size_t i = 0; i < r->nFact; i++) fact_free(&r->aFact[i]);
  free(r->aFact);
  json_decref(r->pCommittees);
  json_decref(r->pSeries);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

/* Is zType the type of needle zNeedle? */
static int type_is(const char *zType, const char *zNeedle) {
  size_t n = strlen(zNeedle) - strlen(TYPE_KEY) - 1;
  return strlen(zType) == n && memcmp(zType, zNeedle + strlen(TYPE_KEY), n) == 0;
}

/* The type's index in g_types, or -1. */
static int type_of(const char *zJson, size_t nJson) {
  for (size_t i = 0; i < N_TYPES; i++) {
    const char *z = g_types[i].zNeedle;
    if (memmem(zJson, nJson, z, strlen(z)) != NULL) return (int)i;
  }
  return -1;
}

int fed_rules_wants(const char *zJson, size_t nJson) {
  return type_of(zJson, nJson) >= 0;
}

static const char *jstr_of(const json_t *o, const char *zName) {
  return json_string_value(json_object_get(o, zName));
}

/* Append fact *f (taken, zeroed) to r: 0, or -1 when out of memory (f untouched). */
static int push(fed_rules *r, rule_fact *f) {
  int rc = 0;
  pthread_mutex_lock(&r->mu);
  if (r->nFact == r->nAlloc) {
    size_t n = r->nAlloc ? r->nAlloc * 2 : 64;
    rule_fact *aNew = realloc(r->aFact, n * sizeof(*aNew));
    if (aNew == NULL) rc = -1;
    else {
      r->aFact = aNew;
      r->nAlloc = n;
    }
  }
  if (rc == 0) {
    r->aFact[r->nFact++] = *f;
    memset(f, 0, sizeof *f);
  }
  pthread_mutex_unlock(&r->mu);
  return rc;
}

int fed_rules_set_jurisdiction(fed_rules *r, json_t *pCommittees, json_t *pSeries) {
  if (!json_is_array(pCommittees) || !json_is_array(pSeries)) return fed_error_set(FED_EINVALID, "no committees or series");
  json_decref(r->pCommittees);
  json_decref(r->pSeries);
  r->pCommittees = json_incref(pCommittees);
  r->pSeries = json_incref(pSeries);
  return FED_OK;
}

/* A copy of the string field zName of o, or NULL when it has none. *pbOom on failure. */
static char *field_dup(const json_t *o, const char *zName, int *pbOom) {
  const char *z = json_string_value(json_object_get(o, zName));
  char *zCopy = z ? strdup(z) : NULL;
  if (z && !zCopy) *pbOom = 1;
  return zCopy;
}

int fed_rules_add(fed_rules *r, const char *zJson, size_t nJson, const json_t *pParsed) {
  json_t *e = pParsed ? json_incref((json_t *)pParsed) : json_loadb(zJson, nJson, 0, NULL);
  const json_t *b = json_object_get(e, "body");
  const char *zType = json_string_value(json_object_get(e, "type"));
  const char *zTs = json_string_value(json_object_get(e, "ts"));
  rule_fact f = {0};
  int bOom = 0, i = type_of(zJson, nJson);
  /* the needle may have matched inside the body: the entry's own type decides */
  if (i < 0 || !zType || !type_is(zType, g_types[i].zNeedle) || !json_is_object(b) ||
      !json_is_integer(json_object_get(e, "seq")) || !zTs || fed_rfc3339_parse(&f.tTs, zTs) != 0)
    goto done;
  f.eType = g_types[i].eType;
  f.iSeq = json_integer_value(json_object_get(e, "seq"));
  f.zOrigin = field_dup(e, "origin", &bOom);
  f.zAccount = field_dup(b, "account", &bOom);
  f.zNode = field_dup(b, f.eType == FACT_HANDOFF || f.eType == FACT_TRANSFER ? "to" : f.eType == FACT_ACCEPTED ? "from"
                                                                                    : "node", &bOom);
  if (f.eType == FACT_TRANSFER) {
    const char *zStep = json_string_value(json_object_get(b, "status"));
    f.zApp = field_dup(b, "transfer", &bOom);
    f.zFrom = field_dup(b, "from", &bOom);
    f.cStep = zStep && strchr("oadr", zStep[0]) && strlen(zStep) > 1 ? zStep[0] : 0;
    if (bOom || !f.zOrigin || !f.zAccount || !f.zApp || !f.zFrom || !f.zNode || !f.cStep) goto done;
    goto keep;
  }
  f.zApp = field_dup(b, "application", &bOom);
  f.iRev = json_integer_value(json_object_get(b, "revision"));
  if (f.eType >= FACT_APP_CHANGE) {
    if (bOom || !f.zOrigin || !f.zApp || !json_is_integer(json_object_get(b, "revision")) ||
        (f.eType != FACT_APP_CHANGE && !f.zNode))
      goto done;
    goto keep;
  }
  f.zIdDigest = field_dup(b, "id_digest", &bOom);
  f.zPhoneDigest = field_dup(b, "phone_digest", &bOom);
  if (bOom || !f.zOrigin || !f.zAccount || ((f.eType == FACT_CLAIMED || f.eType == FACT_RELEASED) && !f.zIdDigest) ||
      (f.eType == FACT_PHONE && !f.zPhoneDigest) || (f.eType == FACT_CLAIMED && !f.zNode))
    goto done;
keep:;
  int eKept = f.eType;
  long long iKeptSeq = f.iSeq;
  time_t tKeptTs = f.tTs;
  if (push(r, &f)) {
    bOom = 1;
    goto done;
  }
  /* a routing (application.created, application.qualification) is also a choice of committee */
  const json_t *d = json_object_get(b, "detail"), *to = json_object_get(d, "to");
  if (eKept == FACT_APP_CHANGE && jstr_of(d, "unit_node") && (jstr_of(d, "committee") || jstr_of(to, "committee"))) {
    const json_t *c = jstr_of(d, "committee") ? d : to;
    rule_fact g = {0};
    g.eType = FACT_ROUTED;
    g.iSeq = iKeptSeq;
    g.tTs = tKeptTs;
    g.zOrigin = field_dup(e, "origin", &bOom);
    g.zApp = field_dup(b, "application", &bOom);
    g.zUnitNode = field_dup(d, "unit_node", &bOom);
    g.zCommittee = field_dup(c, "committee", &bOom);
    g.zQual = field_dup(c, "qualification", &bOom);
    g.zSpecialty = field_dup(c, "specialty", &bOom);
    if (bOom || !g.zOrigin || !g.zApp || !g.zQual || !g.zSpecialty || push(r, &g)) fact_free(&g);
  }
done:
  fact_free(&f);
  json_decref(e);
  return bOom ? fed_error_set(FED_ERROR, "out of memory") : FED_OK;
}

/* ---- judging ---- */

/* By (origin, seq), then kind: one entry may make two facts (a change and a routing). */
static int fact_cmp(const void *pA, const void *pB) {
  const rule_fact *a = pA, *b = pB;
  int c = strcmp(a->zOrigin, b->zOrigin);
  if (!c) c = (a->iSeq > b->iSeq) - (a->iSeq < b->iSeq);
  return c ? c : (a->eType > b->eType) - (a->eType < b->eType);
}

/* Sort by (origin, seq) and drop the copies of one entry held by several logs. */
static void facts_unique(fed_rules *r) {
  size_t n = 0;
  if (r->nFact == 0) return; /* no array at all to sort */
  qsort(r->aFact, r->nFact, sizeof(rule_fact), fact_cmp);
  for (size_t i = 0; i < r->nFact; i++) {
    if (n > 0 && fact_cmp(&r->aFact[n - 1], &r->aFact[i]) == 0) fact_free(&r->aFact[i]);
    else r->aFact[n++] = r->aFact[i];
  }
  r->nFact = n;
}

typedef struct judge {
  fed_rules *r;
  time_t tSettled; /* entries at or before this are no longer in flight */
  fed_rules_report_cb cb;
  void *payload;
  int n;
  digest_event *aEvent;
  size_t nEvent;
  size_t *aReg;  /* registrations (indexes into aFact), by account */
  size_t nReg;
  size_t *aApp;  /* the applications' facts, by (application, revision, kind) */
  size_t nApp;
  size_t *aMove; /* the transfers' steps, by (account, the offer's time, transfer, step) */
  size_t nMove;
} judge;

static void report(judge *j, const char *zCode, const rule_fact *f, const char *zFmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(judge *j, const char *zCode, const rule_fact *f, const char *zFmt, ...) {
  char zMessage[600];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zMessage, sizeof zMessage, zFmt, ap);
  va_end(ap);
  j->n++;
  if (j->cb) j->cb(zCode, f->zOrigin, f->iSeq, zMessage, j->payload);
}

static int is_registrar(const rule_fact *f) {
  return strcmp(f->zOrigin, FED_REGISTRAR) == 0;
}

static int is_claim(const rule_fact *f) {
  return f->eType == FACT_CLAIMED || f->eType == FACT_RELEASED || f->eType == FACT_PHONE;
}

static const rule_fact *g_sortFacts; /* qsort has no context argument in C11 */

static int event_cmp(const void *pA, const void *pB) {
  const digest_event *a = pA, *b = pB;
  int c = (a->cKind > b->cKind) - (a->cKind < b->cKind);
  if (!c) c = strcmp(a->zDigest, b->zDigest);
  return c ? c : fact_cmp(&g_sortFacts[a->iFact], &g_sortFacts[b->iFact]);
}

/* By application, revision, then what happened at it: changes, the hand-off that follows
 * them in the same transaction, its acceptance; then by origin and seq. */
static int app_cmp(const void *pA, const void *pB) {
  const rule_fact *a = &g_sortFacts[*(const size_t *)pA], *b = &g_sortFacts[*(const size_t *)pB];
  int c = strcmp(a->zApp, b->zApp);
  if (!c) c = (a->iRev > b->iRev) - (a->iRev < b->iRev);
  if (!c) c = (a->eType > b->eType) - (a->eType < b->eType);
  return c ? c : fact_cmp(a, b);
}

/* By account, then transfer by transfer in the order they were offered (each offered by the
 * home of the moment, so the offers' times are one node's clock after another's done), the
 * steps of each in order. */
static int move_cmp(const void *pA, const void *pB) {
  const rule_fact *a = &g_sortFacts[*(const size_t *)pA], *b = &g_sortFacts[*(const size_t *)pB];
  int c = strcmp(a->zAccount, b->zAccount);
  if (!c) c = (a->tOffer > b->tOffer) - (a->tOffer < b->tOffer);
  if (!c) c = strcmp(a->zApp, b->zApp);
  if (!c) c = (int)(strchr("oadr", a->cStep) - "oadr") - (int)(strchr("oadr", b->cStep) - "oadr");
  return c ? c : fact_cmp(a, b);
}

static int reg_cmp(const void *pA, const void *pB) {
  const rule_fact *a = &g_sortFacts[*(const size_t *)pA], *b = &g_sortFacts[*(const size_t *)pB];
  int c = strcmp(a->zAccount, b->zAccount);
  return c ? c : fact_cmp(a, b);
}

/* The phone the registrar last gave zAccount before fact iBefore (facts in the registrar's
 * order), or NULL. Phone changes are few: a scan back is enough. */
static const char *phone_before(const fed_rules *r, size_t iBefore, const char *zAccount) {
  while (iBefore-- > 0) {
    const rule_fact *g = &r->aFact[iBefore];
    if (!is_registrar(g) || !is_claim(g) || strcmp(g->zAccount, zAccount) != 0) continue;
    return g->eType == FACT_RELEASED ? NULL : g->zPhoneDigest;
  }
  return NULL;
}

/* The registrar's claims and releases as digest events, by (kind, digest, seq); the other
 * facts into aReg, by account. A claim from any other node is bad_claim and left out. */
static int judge_collect(judge *j) {
  fed_rules *r = j->r;
  j->aEvent = malloc((2 * r->nFact + 1) * sizeof(digest_event)); /* at most two per fact */
  j->aReg = malloc((r->nFact + 1) * sizeof(size_t));
  j->aApp = malloc((r->nFact + 1) * sizeof(size_t));
  j->aMove = malloc((r->nFact + 1) * sizeof(size_t));
  if (!j->aEvent || !j->aReg || !j->aApp || !j->aMove) return -1;
  for (size_t i = 0; i < r->nFact; i++) {
    const rule_fact *f = &r->aFact[i];
    if (f->eType == FACT_TRANSFER) {
      j->aMove[j->nMove++] = i;
    } else if (f->eType >= FACT_APP_CHANGE && f->eType <= FACT_ACCEPTED) {
      j->aApp[j->nApp++] = i;
    } else if (f->eType == FACT_ROUTED) {
      /* judged by judge_routes */
    } else if (f->eType == FACT_REGISTERED) {
      j->aReg[j->nReg++] = i;
    } else if (!is_registrar(f)) {
      report(j, "bad_claim", f, "%s of account %s logged by node %s, not by the registrar %s",
             f->eType == FACT_CLAIMED ? "id.claimed" : f->eType == FACT_PHONE ? "phone.claimed" : "id.released",
             f->zAccount, f->zOrigin, FED_REGISTRAR);
    } else if (f->eType == FACT_PHONE) {
      const char *zFormer = phone_before(r, i, f->zAccount);
      if (zFormer && strcmp(zFormer, f->zPhoneDigest) != 0) j->aEvent[j->nEvent++] = (digest_event){'p', zFormer, i, 1};
      j->aEvent[j->nEvent++] = (digest_event){'p', f->zPhoneDigest, i, 0};
    } else {
      int bRelease = f->eType == FACT_RELEASED;
      j->aEvent[j->nEvent++] = (digest_event){'i', f->zIdDigest, i, bRelease};
      if (f->zPhoneDigest) j->aEvent[j->nEvent++] = (digest_event){'p', f->zPhoneDigest, i, bRelease};
    }
  }
  g_sortFacts = r->aFact;
  qsort(j->aEvent, j->nEvent, sizeof(digest_event), event_cmp);
  qsort(j->aReg, j->nReg, sizeof(size_t), reg_cmp);
  qsort(j->aApp, j->nApp, sizeof(size_t), app_cmp);
  for (size_t i = 0; i < j->nMove; i++) { /* each step knows when its transfer began */
    rule_fact *f = &r->aFact[j->aMove[i]];
    f->tOffer = f->tTs;
    for (size_t k = 0; k < j->nMove; k++) {
      const rule_fact *g = &r->aFact[j->aMove[k]];
      if (strcmp(g->zApp, f->zApp) == 0 && g->tTs < f->tOffer) f->tOffer = g->tTs;
    }
  }
  qsort(j->aMove, j->nMove, sizeof(size_t), move_cmp);
  return 0;
}

/* Follow each digest's holder through its claims and releases in the registrar's order. */
static void judge_claims(judge *j) {
  rule_fact *a = j->r->aFact;
  for (size_t i = 0; i < j->nEvent;) {
    size_t k = i;
    long iHolder = -1;
    for (; k < j->nEvent && j->aEvent[k].cKind == j->aEvent[i].cKind &&
           strcmp(j->aEvent[k].zDigest, j->aEvent[i].zDigest) == 0;
         k++) {
      rule_fact *f = &a[j->aEvent[k].iFact];
      const rule_fact *h = iHolder >= 0 ? &a[iHolder] : NULL;
      if (j->aEvent[k].bRelease) {
        if (h && strcmp(h->zAccount, f->zAccount) == 0) iHolder = -1;
        continue;
      }
      if (h && strcmp(h->zAccount, f->zAccount) != 0)
        report(j, "id_claimed_twice", f, "the %s digest %.16s… is claimed for account %s while account %s holds it "
               "(claimed at seq %lld, never released)", j->aEvent[i].cKind == 'i' ? "ID number" : "phone",
               j->aEvent[k].zDigest, f->zAccount, h->zAccount, h->iSeq);
      iHolder = (long)j->aEvent[k].iFact;
    }
    if (iHolder >= 0 && j->aEvent[i].cKind == 'i') a[iHolder].bStanding = 1;
    i = k;
  }
}

/* The first registration of zAccount (index into aReg), or -1. */
static long reg_find(const judge *j, const char *zAccount) {
  size_t lo = 0, hi = j->nReg;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (strcmp(j->r->aFact[j->aReg[mid]].zAccount, zAccount) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < j->nReg && strcmp(j->r->aFact[j->aReg[lo]].zAccount, zAccount) == 0 ? (long)lo : -1;
}

/* Did the registrar ever claim ID digest zDigest for zAccount? */
static int claimed_for(const judge *j, const char *zDigest, const char *zAccount) {
  size_t lo = 0, hi = j->nEvent;
  while (lo < hi) { /* the first event of ('i', zDigest) */
    size_t mid = (lo + hi) / 2;
    const digest_event *e = &j->aEvent[mid];
    if (e->cKind < 'i' || (e->cKind == 'i' && strcmp(e->zDigest, zDigest) < 0)) lo = mid + 1;
    else hi = mid;
  }
  for (; lo < j->nEvent && j->aEvent[lo].cKind == 'i' && strcmp(j->aEvent[lo].zDigest, zDigest) == 0; lo++) {
    const rule_fact *f = &j->r->aFact[j->aEvent[lo].iFact];
    if (f->eType == FACT_CLAIMED && strcmp(f->zAccount, zAccount) == 0) return 1;
  }
  return 0;
}

/* One home per account; every standing claim registered where it was claimed for; every
 * registration with an ID number claimed. */
static void judge_homes(judge *j, int bRegistrarSeen) {
  const rule_fact *a = j->r->aFact;
  for (size_t i = 0; i < j->nReg; i++) {
    const rule_fact *f = &a[j->aReg[i]];
    const rule_fact *g = i > 0 ? &a[j->aReg[i - 1]] : NULL;
    if (g && strcmp(g->zAccount, f->zAccount) == 0 && strcmp(g->zOrigin, f->zOrigin) != 0)
      report(j, "two_homes", f, "account %s is registered by node %s and by node %s (seq %lld)", f->zAccount,
             f->zOrigin, g->zOrigin, g->iSeq);
    if (bRegistrarSeen && f->zIdDigest && f->tTs <= j->tSettled && !claimed_for(j, f->zIdDigest, f->zAccount))
      report(j, "account_unclaimed", f, "account %s is registered with ID digest %.16s…, which the registrar never "
             "claimed for it", f->zAccount, f->zIdDigest);
  }
  for (size_t i = 0; i < j->r->nFact; i++) {
    const rule_fact *f = &a[i];
    if (!f->bStanding || f->tTs > j->tSettled) continue;
    long k = reg_find(j, f->zAccount);
    int bThere = 0;
    for (; k >= 0 && (size_t)k < j->nReg && strcmp(a[j->aReg[k]].zAccount, f->zAccount) == 0; k++)
      bThere |= strcmp(a[j->aReg[k]].zOrigin, f->zNode) == 0;
    if (!bThere)
      report(j, "claim_unmatched", f, "the claim of account %s for node %s stands, but node %s never registered it",
             f->zAccount, f->zNode, f->zNode);
  }
}

/* One home per account at every moment: from its registration, each transfer is offered and
 * decided by the home of that moment, done only once the new home accepted, decided once;
 * a done moves the home (else two_homes). */
static void judge_moves(judge *j) {
  const rule_fact *a = j->r->aFact;
  for (size_t i = 0; i < j->nMove;) {
    const char *zAccount = a[j->aMove[i]].zAccount;
    long k = reg_find(j, zAccount);
    const char *zHome = k >= 0 ? a[j->aReg[k]].zOrigin : a[j->aMove[i]].zFrom;
    while (i < j->nMove && strcmp(a[j->aMove[i]].zAccount, zAccount) == 0) {
      const char *zTransfer = a[j->aMove[i]].zApp;
      int bAccepted = 0, bDecided = 0;
      for (; i < j->nMove && strcmp(a[j->aMove[i]].zAccount, zAccount) == 0 &&
             strcmp(a[j->aMove[i]].zApp, zTransfer) == 0;
           i++) {
        const rule_fact *f = &a[j->aMove[i]];
        if (f->cStep == 'a') {
          bAccepted |= strcmp(f->zOrigin, f->zNode) == 0;
          continue;
        }
        if (strcmp(f->zOrigin, zHome) != 0 || strcmp(f->zFrom, zHome) != 0)
          report(j, "two_homes", f, "node %s moves account %s (transfer %s) while node %s is its home", f->zOrigin,
                 zAccount, zTransfer, zHome);
        else if (f->cStep != 'o' && bDecided)
          report(j, "two_homes", f, "transfer %s of account %s is decided twice", zTransfer, zAccount);
        else if (f->cStep == 'd' && !bAccepted)
          report(j, "two_homes", f, "transfer %s of account %s is done before node %s accepted it", zTransfer, zAccount,
                 f->zNode);
        if (f->cStep == 'd' || f->cStep == 'r') bDecided = 1;
        if (f->cStep == 'd' && strcmp(f->zOrigin, zHome) == 0) zHome = f->zNode;
      }
    }
  }
}

/* The series and level of qualification zQual (the catalogue), 0 when unknown. */
static int qualification_of(const fed_rules *r, const char *zQual, const char **pzSeries) {
  size_t i, k;
  json_t *s, *q;
  json_array_foreach(r->pSeries, i, s) json_array_foreach(json_object_get(s, "qualifications"), k, q) {
    if (jstr_of(q, "code") && strcmp(jstr_of(q, "code"), zQual) == 0) {
      *pzSeries = jstr_of(s, "code");
      return (int)json_integer_value(json_object_get(q, "level"));
    }
  }
  return 0;
}

/* The committee of node zNode for (series, level, specialty), as node/committees.c routes:
 * a directed one first, then one named for the specialty; NULL when none. */
static const char *committee_at(const fed_rules *r, const char *zNode, const char *zSeries, int level,
                                const char *zSpecialty) {
  const char *zBest = NULL;
  int best = -1;
  size_t i, k;
  json_t *c, *sc;
  json_array_foreach(r->pCommittees, i, c) {
    if (!jstr_of(c, "node") || strcmp(jstr_of(c, "node"), zNode) != 0) continue;
    json_array_foreach(json_object_get(c, "scope"), k, sc) {
      const char *zSp = jstr_of(sc, "specialty");
      if (!jstr_of(sc, "series") || strcmp(jstr_of(sc, "series"), zSeries) != 0 ||
          json_integer_value(json_object_get(sc, "level")) != level || (zSp && strcmp(zSp, zSpecialty) != 0))
        continue;
      int rank = 2 * json_is_true(json_object_get(c, "directed")) + (zSp != NULL);
      if (rank > best) {
        best = rank;
        zBest = jstr_of(c, "id");
      }
    }
  }
  return zBest;
}

/* Every routing names the committee jurisdiction gives: the unit's node's, else the region's. */
static void judge_routes(judge *j) {
  const fed_rules *r = j->r;
  if (!r->pCommittees) return;
  for (size_t i = 0; i < r->nFact; i++) {
    const rule_fact *f = &r->aFact[i];
    const char *zSeries = NULL;
    if (f->eType != FACT_ROUTED) continue;
    int level = qualification_of(r, f->zQual, &zSeries);
    const char *zWant = level ? committee_at(r, f->zUnitNode, zSeries, level, f->zSpecialty) : NULL;
    if (level && !zWant) zWant = committee_at(r, FED_REGISTRAR, zSeries, level, f->zSpecialty);
    if (!zWant || !f->zCommittee || strcmp(zWant, f->zCommittee) != 0)
      report(j, "wrong_jurisdiction", f, "application %s (%s, %s) of a unit at node %s is routed to %s; jurisdiction "
             "names %s", f->zApp, f->zQual, f->zSpecialty, f->zUnitNode, f->zCommittee ? f->zCommittee : "none",
             zWant ? zWant : "no committee");
  }
}

/* Follow each application's holder through its changes and hand-offs in revision order:
 * only the holder changes it or hands it on (else held_twice), and every hand-off is
 * accepted by the node it went to, at its revision (else handoff_unmatched). */
static void judge_apps(judge *j) {
  const rule_fact *a = j->r->aFact;
  for (size_t i = 0; i < j->nApp;) {
    size_t k = i;
    const char *zHolder = NULL;
    for (; k < j->nApp && strcmp(a[j->aApp[k]].zApp, a[j->aApp[i]].zApp) == 0; k++) {
      const rule_fact *f = &a[j->aApp[k]];
      if (f->eType == FACT_ACCEPTED) continue; /* matched with its hand-off below */
      if (zHolder && strcmp(zHolder, f->zOrigin) != 0)
        report(j, "held_twice", f, "node %s %s application %s at revision %lld while node %s holds it", f->zOrigin,
               f->eType == FACT_HANDOFF ? "hands on" : "changes", f->zApp, f->iRev, zHolder);
      zHolder = f->eType == FACT_HANDOFF ? f->zNode : f->zOrigin;
      if (f->eType != FACT_HANDOFF || f->tTs > j->tSettled) continue;
      int bAccepted = 0;
      for (size_t m = k + 1; m < j->nApp && !bAccepted; m++) {
        const rule_fact *g = &a[j->aApp[m]];
        if (strcmp(g->zApp, f->zApp) != 0 || g->iRev != f->iRev) break;
        bAccepted = g->eType == FACT_ACCEPTED && strcmp(g->zOrigin, f->zNode) == 0 && strcmp(g->zNode, f->zOrigin) == 0;
      }
      if (!bAccepted)
        report(j, "handoff_unmatched", f, "the hand-off of application %s (revision %lld) to node %s was never accepted"
               " there", f->zApp, f->iRev, f->zNode);
    }
    i = k;
  }
}

int fed_rules_judge(fed_rules *r, time_t tNow, long nInFlightSecs, int bRegistrarSeen, fed_rules_report_cb cb,
                    void *payload) {
  judge j = {r, tNow - nInFlightSecs, cb, payload, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
  facts_unique(r);
  if (judge_collect(&j) == 0) {
    judge_claims(&j);
    judge_homes(&j, bRegistrarSeen);
    judge_apps(&j);
    judge_moves(&j);
    judge_routes(&j);
  } else {
    j.n = -1;
  }
  free(j.aEvent);
  free(j.aReg);
  free(j.aApp);
  free(j.aMove);
  return j.n;
}
