/* fedlink.c - replication over zc-fed.1 (fedlink.h): the federation vhost, the links to
 * the peers, the protocol's messages, catch-up and live push. */
#include "fedlink.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "fed_error.h"
#include "checkpoint.h"
#include "fedcall.h"
#include "fedwire.h"
#include "http.h"
#include "logwriter.h"
#include "manifest.h"
#include "rfc3339.h"
#include "trust.h"

#define FED_MAX 32           /* nodes in one federation */
#define HEADS_EVERY_SECS 1   /* heads at most this often per link when they change */
#define HEADS_IDLE_SECS 10   /* and at least this often */
#define MSG_QUEUE_MAX 64     /* control messages queued on one link */
#define CHECKPOINT_SECS 10       /* a checkpoint of our heads when they changed since the last, */
#define CHECKPOINT_IDLE_SECS 300 /* and when idle this often */

enum { L_WAIT_CHALLENGE, L_WAIT_HELLO, L_WAIT_WELCOME, L_UP, L_CLOSING };
static const char *const g_azState[] = {"connecting", "authenticating", "authenticating", "up", "closing"};

typedef struct link_msg {
  struct link_msg *pNext;
  size_t n;
  unsigned char a[]; /* LWS_PRE bytes, then the text */
} link_msg;

typedef struct fed_link {
  struct fed_link *pNext;
  unsigned long long iId;
  struct lws *wsi;
  int bDialer;
  int iPeer;  /* manifest index of the peer, -1 until it is known */
  int eState;
  int bPinRefused; /* we refused the acceptor's certificate: that is the error to report */
  char zNonceS[FEDWIRE_NONCE_HEX], zNonceC[FEDWIRE_NONCE_HEX];
  char zBinding[2 * FEDWIRE_BINDING_SIZE + 1];
  zc_buf rx; /* a message being received, fragment by fragment */
  link_msg *pHead, *pTail;
  int nQueued;
  int bHeadsDirty;
  time_t tHeadsSent;
  int iServeNext; /* round robin over origins */
  /* serving: what the peer wants of each origin */
  unsigned char abWanted[FED_MAX], anInFlight[FED_MAX]; /* batches sent, not yet acknowledged */
  long long aiNext[FED_MAX];
} fed_link;

/* What this node knows of each other node, whether linked now or not. */
typedef struct fed_peer {
  lws_sorted_usec_list_t sul; /* the next dial */
  char zId[FED_NODE_ID_MAX + 1];
  char zHost[128], zPath[64];
  int iPort;
  char zPin[FED_SHA256_HEX_SIZE];
  int bDial;            /* we dial it (our id sorts first) */
  uint16_t nRetry;
  fed_link *pLink;      /* its authenticated link */
  fed_link *pDialing;
  time_t tContact;
  int bHeard;           /* its heads arrived since its link came up */
  char zLastError[320];
  long long aiHead[FED_MAX];                 /* what it last reported, per origin */
  char aazHash[FED_MAX][FED_SHA256_HEX_SIZE];
} fed_peer;

/* Each origin as held here, and the link it is pulled from. */
typedef struct fed_origin {
  char zId[FED_NODE_ID_MAX + 1];
  long long iHave;
  char zHash[FED_SHA256_HEX_SIZE];
  fed_link *pSource;
  long long iWantedFrom;
} fed_origin;

static struct {
  zc_node *p;
  struct lws_context *ctx;
  struct lws_vhost *vh;
  int iSelf;
  int nNodes;
  fed_peer aPeer[FED_MAX];
  fed_origin aOrigin[FED_MAX];
  fed_link *pLinks;
  unsigned long long iNextId;
  unsigned long long iGeneration; /* of fed_heads, as last read */
  lws_sorted_usec_list_t sulTick;
  long long nRefused;
  time_t tRecoverUntil; /* recovering: when to stop waiting for any peer to answer */
  long long iOwnAtStart;
  /* our newest checkpoint: sent to each link as it comes up */
  char *zCheckpoint;
  size_t nCheckpoint;
  unsigned char aCheckpointSig[FED_SIG_SIZE];
  time_t tCheckpoint;
  unsigned long long iCheckpointGeneration;
} g_fl;

/* Reconnect backoff: 1 s doubling to a minute, 30 % jitter; ping after 10 s idle, hang up
 * after 30 s without an answer. */
static const uint32_t g_aRetryMs[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000};
static const lws_retry_bo_t g_retry = {
    .retry_ms_table = g_aRetryMs,
    .retry_ms_table_count = LWS_ARRAY_SIZE(g_aRetryMs),
    .conceal_count = LWS_RETRY_CONCEAL_ALWAYS,
    .secs_since_valid_ping = 10,
    .secs_since_valid_hangup = 30,
    .jitter_percent = 30,
};

/* A string member of a message, "" when absent. */
static const char *field(const json_t *m, const char *zKey) {
  const char *z = jstr(m, zKey);
  return z ? z : "";
}

/* What went wrong with a peer last, for GET /fed/status. */
static void peer_error(fed_peer *q, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
static void peer_error(fed_peer *q, const char *zFmt, ...) {
  char z[sizeof q->zLastError];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(z, sizeof z, zFmt, ap);
  va_end(ap);
  memcpy(q->zLastError, z, sizeof z);
}

static int node_index(const char *zId) {
  for (int i = 0; zId && i < g_fl.nNodes; i++)
    if (strcmp(g_fl.aOrigin[i].zId, zId) == 0) return i;
  return -1;
}

/* ---- sending ---- */

static void send_text(fed_link *l, const char *z, size_t n) {
  /* a peer that reads nothing loses control chatter, not our memory; calls (fedcall.h)
   * have a bound of their own */
  if (l->nQueued >= MSG_QUEUE_MAX + FEDCALL_MAX_PENDING) return;
  link_msg *m = malloc(sizeof *m + LWS_PRE + n);
  if (!m) return;
  m->pNext = NULL;
  m->n = n;
  memcpy(m->a + LWS_PRE, z, n);
  if (l->pTail) l->pTail->pNext = m;
  else l->pHead = m;
  l->pTail = m;
  l->nQueued++;
  lws_callback_on_writable(l->wsi);
}

static void send_json(fed_link *l, json_t *v) {
  char *z = json_dumps(v, JSON_COMPACT);
  if (z) send_text(l, z, strlen(z));
  free(z);
  json_decref(v);
}

static void send_refused(fed_link *l, const char *zCode, const char *zMessage) {
  fprintf(stderr, "zc-node: federation: refusing a link: %s: %s\n", zCode, zMessage);
  g_fl.nRefused++;
  send_json(l, json_pack("{s:s, s:s, s:s}", "t", "refused", "code", zCode, "message", zMessage));
  l->eState = L_CLOSING;
}

static json_t *heads_json(void) {
  json_t *o = json_object();
  for (int i = 0; i < g_fl.nNodes; i++)
    if (g_fl.aOrigin[i].iHave > 0)
      json_object_set_new(o, g_fl.aOrigin[i].zId,
                          json_pack("[I, s]", (json_int_t)g_fl.aOrigin[i].iHave, g_fl.aOrigin[i].zHash));
  return o;
}

static void send_heads(fed_link *l) {
  l->bHeadsDirty = 0;
  l->tHeadsSent = time(NULL);
  send_json(l, json_pack("{s:s, s:o}", "t", "heads", "heads", heads_json()));
}

/* The next batch of an origin the peer wants, read from fed_entries: 1 when one was
 * written. */
static int write_entries(fed_link *l, int iOrigin) {
  zc_buf b = {0};
  const char *zOrigin = g_fl.aOrigin[iOrigin].zId;
  sqlite3_stmt *pStmt = db_prepare(g_fl.p->db, "SELECT seq, entry, sig FROM fed_entries WHERE origin = ? AND seq >= ?"
                                   " ORDER BY seq LIMIT ?", "tIi", zOrigin, (sqlite3_int64)l->aiNext[iOrigin],
                                   FEDLINK_BATCH);
  long long iFrom = 0, iLast = 0;
  buf_reserve(&b, LWS_PRE + 4096);
  b.n = LWS_PRE;
  while (pStmt && sqlite3_step(pStmt) == SQLITE_ROW) {
    long long iSeq = sqlite3_column_int64(pStmt, 0);
    char zSig[FEDWIRE_SIG_HEX];
    if (sqlite3_column_bytes(pStmt, 2) != FED_SIG_SIZE) break;
    if (iFrom == 0) {
      if (iSeq != l->aiNext[iOrigin]) break; /* not held here (yet): nothing to send */
      iFrom = iSeq;
      buf_printf(&b, "{\"t\":\"entries\",\"origin\":\"%s\",\"from\":%lld,\"items\":[", zOrigin, iSeq);
    } else if (iSeq != iLast + 1) {
      break;
    } else {
      buf_append(&b, ",", 1);
    }
    fedwire_hex(zSig, sqlite3_column_blob(pStmt, 2), FED_SIG_SIZE);
    buf_append(&b, "[", 1);
    buf_json_string(&b, sqlite3_column_blob(pStmt, 1), (size_t)sqlite3_column_bytes(pStmt, 1));
    buf_printf(&b, ",\"%s\"]", zSig);
    iLast = iSeq;
  }
  if (pStmt) sqlite3_reset(pStmt);
  if (iFrom == 0) {
    buf_free(&b);
    return 0;
  }
  buf_append(&b, "]}", 2);
  lws_write(l->wsi, (unsigned char *)b.z + LWS_PRE, b.n - LWS_PRE, LWS_WRITE_TEXT);
  buf_free(&b);
  l->aiNext[iOrigin] = iLast + 1;
  l->anInFlight[iOrigin]++;
  return 1;
}

int fedlink_send_to(const char *zNode, json_t *v, unsigned long long *piLink) {
  int i = node_index(zNode);
  fed_link *l = i >= 0 && i != g_fl.iSelf ? g_fl.aPeer[i].pLink : NULL;
  if (!l || l->eState != L_UP) {
    json_decref(v);
    return -1;
  }
  *piLink = l->iId;
  send_json(l, v);
  return 0;
}

unsigned long long fedlink_current(const char *zNode) {
  int i = node_index(zNode);
  fed_link *l = i >= 0 && i != g_fl.iSelf ? g_fl.aPeer[i].pLink : NULL;
  return l && l->eState == L_UP ? l->iId : 0;
}

static fed_link *link_by_id(unsigned long long iId);

int fedlink_send_on(unsigned long long iLink, json_t *v) {
  fed_link *l = link_by_id(iLink);
  if (!l || l->eState != L_UP) {
    json_decref(v);
    return -1;
  }
  send_json(l, v);
  return 0;
}

/* Writeable: one control message, else heads when due, else one batch of entries. */
static int on_writeable(fed_link *l) {
  if (l->pHead) {
    link_msg *m = l->pHead;
    l->pHead = m->pNext;
    if (!l->pHead) l->pTail = NULL;
    l->nQueued--;
    int n = lws_write(l->wsi, m->a + LWS_PRE, m->n, LWS_WRITE_TEXT);
    free(m);
    if (n < 0) return -1;
    if (l->pHead || l->eState == L_UP) lws_callback_on_writable(l->wsi);
    return 0;
  }
  if (l->eState == L_CLOSING) return -1; /* the refusal went out: close */
  if (l->eState != L_UP) return 0;
  if (l->bHeadsDirty && time(NULL) - l->tHeadsSent >= HEADS_EVERY_SECS) {
    send_heads(l);
    return 0;
  }
  for (int k = 0; k < g_fl.nNodes; k++) {
    int i = (l->iServeNext + k) % g_fl.nNodes;
    if (!l->abWanted[i] || l->anInFlight[i] >= FEDLINK_WINDOW || l->aiNext[i] > g_fl.aOrigin[i].iHave) continue;
    if (write_entries(l, i)) {
      l->iServeNext = i + 1;
      lws_callback_on_writable(l->wsi);
      return 0;
    }
  }
  return 0;
}

/* ---- choosing where each origin comes from ---- */

static void want(fed_link *l, int iOrigin) {
  fed_origin *o = &g_fl.aOrigin[iOrigin];
  o->pSource = l;
  o->iWantedFrom = o->iHave + 1;
  send_json(l, json_pack("{s:s, s:s, s:I}", "t", "want", "origin", o->zId, "from", (json_int_t)o->iWantedFrom));
}

/* The origin's own link when it is up, else the up link whose peer reported the most. */
static void choose_sources(void) {
  for (int i = 0; i < g_fl.nNodes; i++) {
    if (i == g_fl.iSelf && !g_fl.p->bRecovering) continue; /* our own entries: only to recover them */
    fed_origin *o = &g_fl.aOrigin[i];
    fed_link *pBest = NULL;
    long long iBest = o->iHave;
    if (g_fl.aPeer[i].pLink && g_fl.aPeer[i].aiHead[i] > o->iHave) {
      pBest = g_fl.aPeer[i].pLink;
    } else {
      for (int j = 0; j < g_fl.nNodes; j++) {
        fed_peer *q = &g_fl.aPeer[j];
        if (j != g_fl.iSelf && q->pLink && q->aiHead[i] > iBest) {
          iBest = q->aiHead[i];
          pBest = q->pLink;
        }
      }
    }
    if (!pBest || pBest == o->pSource) continue;
    if (o->pSource) send_json(o->pSource, json_pack("{s:s, s:s}", "t", "stop", "origin", o->zId));
    want(pBest, i);
  }
}

/* ---- recovery: a node restored from an older backup must not write again until it
 * holds every entry of its own that its peers hold (writing another entry at a seq it
 * used would be equivocation). At start it waits for the heads of at least one peer, pulls
 * what they hold beyond its own head (the log writer adopts those entries into the
 * outbox, so its next seq follows them), and only then lets changes that emit entries
 * through. When no peer answers within FEDLINK_RECOVER_SECS it goes on, with an alert. */

static void recovered(const char *zHow) {
  fed_origin *o = &g_fl.aOrigin[g_fl.iSelf];
  g_fl.p->bRecovering = 0;
  if (o->pSource) send_json(o->pSource, json_pack("{s:s, s:s}", "t", "stop", "origin", o->zId));
  o->pSource = NULL;
  fprintf(stderr, "zc-node: federation: own log %s at seq %lld (%lld recovered from peers): writing\n", zHow,
          o->iHave, o->iHave - g_fl.iOwnAtStart);
}

static void check_recovered(void) {
  long long iMost = 0;
  int nHeard = 0;
  if (!g_fl.p->bRecovering) return;
  for (int j = 0; j < g_fl.nNodes; j++) {
    fed_peer *q = &g_fl.aPeer[j];
    if (j == g_fl.iSelf || !q->bHeard) continue;
    nHeard++;
    if (q->aiHead[g_fl.iSelf] > iMost) iMost = q->aiHead[g_fl.iSelf];
  }
  if (nHeard && iMost <= g_fl.aOrigin[g_fl.iSelf].iHave) {
    recovered("checked against its peers");
  } else if (!nHeard && time(NULL) >= g_fl.tRecoverUntil) {
    logwriter_alert("recovery_unchecked", g_fl.p->cfg.zNode, g_fl.aOrigin[g_fl.iSelf].iHave,
                    "no peer answered at start: if this node was restored from an older backup, entries of its own "
                    "that only its peers hold were not checked (zc-audit will report an equivocation)");
    recovered("unchecked (no peer answered)");
  }
}

/* ---- receiving ---- */

static void on_heads(fed_link *l, json_t *m) {
  fed_peer *q = &g_fl.aPeer[l->iPeer];
  const char *zOrigin;
  json_t *v;
  json_object_foreach(json_object_get(m, "heads"), zOrigin, v) {
    int i = node_index(zOrigin);
    json_int_t iSeq = json_integer_value(json_array_get(v, 0));
    const char *zHash = json_string_value(json_array_get(v, 1));
    if (i < 0 || iSeq < 1 || !zHash || strlen(zHash) != FED_SHA256_HEX_SIZE - 1) continue;
    q->aiHead[i] = iSeq;
    snprintf(q->aazHash[i], sizeof q->aazHash[i], "%s", zHash);
    if (i == g_fl.iSelf && iSeq > g_fl.aOrigin[i].iHave)
      fprintf(stderr, "zc-node: federation: %s holds our entries up to %lld, we %lld: %s\n", q->zId, (long long)iSeq,
              g_fl.aOrigin[i].iHave, g_fl.p->bRecovering ? "recovering them before we write" : "restored from a backup?");
    if (iSeq <= g_fl.aOrigin[i].iHave) {
      char *zMine = db_text(g_fl.p->db, "SELECT hash FROM fed_entries WHERE origin = ? AND seq = ?", "tI", zOrigin,
                            (sqlite3_int64)iSeq);
      if (zMine && strcmp(zMine, zHash) != 0) {
        char zMsg[300];
        snprintf(zMsg, sizeof zMsg, "peer %s reports a different entry at seq %lld (%.16s…, ours %.16s…)", q->zId,
                 (long long)iSeq, zHash, zMine);
        logwriter_alert("equivocation", zOrigin, iSeq, zMsg);
      }
      free(zMine);
    }
  }
  if (q->pLink == l) q->bHeard = 1;
  choose_sources();
  check_recovered();
}

static void on_want(fed_link *l, json_t *m) {
  int i = node_index(field(m, "origin"));
  json_int_t iFrom = json_integer_value(json_object_get(m, "from"));
  if (i < 0 || iFrom < 1) return;
  l->abWanted[i] = 1;
  l->anInFlight[i] = 0;
  l->aiNext[i] = iFrom;
  lws_callback_on_writable(l->wsi);
}

static void on_stop(fed_link *l, json_t *m) {
  int i = node_index(field(m, "origin"));
  if (i >= 0) l->abWanted[i] = 0;
}

static void on_ack(fed_link *l, json_t *m) {
  int i = node_index(field(m, "origin"));
  if (i < 0) return;
  if (l->anInFlight[i]) l->anInFlight[i]--;
  lws_callback_on_writable(l->wsi);
}

/* A batch from the link we pull its origin from: to the log writer; acknowledged once
 * stored (received_done). */
static int on_entries(fed_link *l, json_t *m) {
  int i = node_index(field(m, "origin"));
  json_int_t iFrom = json_integer_value(json_object_get(m, "from"));
  json_t *aItems = json_object_get(m, "items"), *v;
  size_t k;
  if (i < 0 || (i == g_fl.iSelf && !g_fl.p->bRecovering) || g_fl.aOrigin[i].pSource != l || iFrom < 1 || !json_is_array(aItems) ||
      json_array_size(aItems) == 0 || json_array_size(aItems) > FEDLINK_BATCH)
    return 0; /* not asked for here (e.g. sent before our stop): ignored, never acknowledged */
  zc_batch *b = calloc(1, sizeof *b);
  if (!b) return -1;
  snprintf(b->zOrigin, sizeof b->zOrigin, "%s", g_fl.aOrigin[i].zId);
  b->iFirst = iFrom;
  b->iToken = l->iId;
  json_array_foreach(aItems, k, v) {
    const char *zJson = json_string_value(json_array_get(v, 0));
    unsigned char aSig[FED_SIG_SIZE];
    if (!zJson || fedwire_unhex(aSig, sizeof aSig, json_string_value(json_array_get(v, 1))) ||
        zc_batch_add(b, zJson, json_string_length(json_array_get(v, 0)), aSig)) {
      zc_batch_free(b);
      free(b);
      send_refused(l, "bad_entries", "a malformed batch of entries");
      return 0;
    }
  }
  logwriter_receive(b);
  return 0;
}

static fed_link *link_by_id(unsigned long long iId) {
  for (fed_link *l = g_fl.pLinks; l; l = l->pNext)
    if (l->iId == iId) return l;
  return NULL;
}

/* The log writer stored (or refused) a batch this link sent. */
static void received_done(unsigned long long iToken, const char *zOrigin, long long iSeq, int rc,
                          const char *zMessage) {
  fed_link *l = link_by_id(iToken);
  int i = node_index(zOrigin);
  if (!l || i < 0) return;
  if (rc == FED_OK) {
    send_json(l, json_pack("{s:s, s:s, s:I}", "t", "ack", "origin", zOrigin, "seq", (json_int_t)iSeq));
    return;
  }
  /* A peer that served a bad entry is not pulled from again on this link. */
  char zMsg[300];
  snprintf(zMsg, sizeof zMsg, "entry %s/%lld refused: %.200s", zOrigin, iSeq, zMessage);
  if (l->iPeer >= 0) peer_error(&g_fl.aPeer[l->iPeer], "%s", zMsg);
  send_refused(l, "entry_refused", zMsg);
  lws_callback_on_writable(l->wsi);
}

/* ---- authentication ---- */

static int channel_binding(fed_link *l) {
  unsigned char a[FEDWIRE_BINDING_SIZE];
  SSL *ssl = lws_get_ssl(l->wsi);
  if (!ssl || SSL_export_keying_material(ssl, a, sizeof a, FEDWIRE_BINDING_LABEL, strlen(FEDWIRE_BINDING_LABEL),
                                         NULL, 0, 0) != 1)
    return -1;
  fedwire_hex(l->zBinding, a, sizeof a);
  return 0;
}

/* The acceptor's certificate is the one the manifest pins for the node we dialed. */
static int pin_matches(fed_link *l, const fed_peer *q) {
  SSL *ssl = lws_get_ssl(l->wsi);
  X509 *x = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
  unsigned char *pDer = NULL;
  char zPin[FED_SHA256_HEX_SIZE];
  int n = x ? i2d_X509(x, &pDer) : -1;
  X509_free(x);
  if (n <= 0) return 0;
  fed_sha256_hex(zPin, pDer, (size_t)n);
  OPENSSL_free(pDer);
  return q->zPin[0] && strcmp(zPin, q->zPin) == 0;
}

/* The key we sign with now, its listing in *ppListed (trust.h); NULL when we hold none. */
static const fed_key *our_key(const fed_manifest_key **ppListed) {
  return trust_key_at(g_fl.p->pTrust, g_fl.p->cfg.zNode, node_now(g_fl.p), ppListed);
}

static void send_checkpoint(fed_link *l) {
  char *zSig = malloc(FEDWIRE_SIG_HEX);
  if (!g_fl.zCheckpoint || !zSig) {
    free(zSig);
    return;
  }
  fedwire_hex(zSig, g_fl.aCheckpointSig, FED_SIG_SIZE);
  send_json(l, json_pack("{s:s, s:s%, s:s}", "t", "checkpoint", "json", g_fl.zCheckpoint, g_fl.nCheckpoint, "sig",
                         zSig));
  free(zSig);
}

/* Sign the heads we hold now (checkpoint.h), keep it in our log, tell every link. */
static void make_checkpoint(void) {
  fed_checkpoint_head aHead[FED_MAX];
  size_t n = 0;
  const fed_manifest_key *k = NULL;
  const fed_key *pKey = our_key(&k);
  char *zJson = NULL;
  size_t nJson = 0;
  unsigned char aSig[FED_SIG_SIZE];
  memset(aHead, 0, sizeof aHead);
  for (int i = 0; i < g_fl.nNodes; i++) {
    if (g_fl.aOrigin[i].iHave < 1) continue;
    snprintf(aHead[n].zOrigin, sizeof aHead[n].zOrigin, "%s", g_fl.aOrigin[i].zId);
    aHead[n].iSeq = g_fl.aOrigin[i].iHave;
    snprintf(aHead[n].zHash, sizeof aHead[n].zHash, "%s", g_fl.aOrigin[i].zHash);
    n++;
  }
  if (!k || n == 0 || fed_checkpoint_make(&zJson, &nJson, aSig, g_fl.p->cfg.zNode, k->zId, pKey,
                                          node_now(g_fl.p), aHead, n))
    return;
  free(g_fl.zCheckpoint);
  g_fl.zCheckpoint = zJson;
  g_fl.nCheckpoint = nJson;
  memcpy(g_fl.aCheckpointSig, aSig, sizeof aSig);
  g_fl.tCheckpoint = time(NULL);
  g_fl.iCheckpointGeneration = g_fl.iGeneration;
  logwriter_checkpoint(g_fl.p->cfg.zNode, zJson, nJson, aSig);
  for (fed_link *l = g_fl.pLinks; l; l = l->pNext)
    if (l->eState == L_UP) send_checkpoint(l);
}

/* A peer's checkpoint: verified, compared with what we hold (a different hash at a seq
 * we hold: the peer showed another history), kept in our log as evidence either way. */
static void on_checkpoint(fed_link *l, json_t *m) {
  fed_checkpoint cp;
  unsigned char aSig[FED_SIG_SIZE];
  const char *zJson = field(m, "json");
  size_t nJson = json_string_length(json_object_get(m, "json"));
  fed_peer *q = &g_fl.aPeer[l->iPeer];
  memset(&cp, 0, sizeof cp);
  if (fedwire_unhex(aSig, sizeof aSig, field(m, "sig")) ||
      fed_checkpoint_verify(&cp, node_manifest(g_fl.p), zJson, nJson, aSig, sizeof aSig) || strcmp(cp.zNode, q->zId) != 0) {
    peer_error(q, "a checkpoint that does not verify: %.200s", fed_last_error());
    fed_checkpoint_dispose(&cp);
    return;
  }
  for (size_t k = 0; k < cp.nHead; k++) {
    int i = node_index(cp.aHead[k].zOrigin);
    if (i < 0 || cp.aHead[k].iSeq > g_fl.aOrigin[i].iHave) continue;
    char *zMine = db_text(g_fl.p->db, "SELECT hash FROM fed_entries WHERE origin = ? AND seq = ?", "tI",
                          cp.aHead[k].zOrigin, (sqlite3_int64)cp.aHead[k].iSeq);
    if (zMine && strcmp(zMine, cp.aHead[k].zHash) != 0) {
      char zMsg[300];
      snprintf(zMsg, sizeof zMsg, "%s signed a checkpoint naming a different entry at seq %lld (%.16s…, ours %.16s…)",
               q->zId, cp.aHead[k].iSeq, cp.aHead[k].zHash, zMine);
      logwriter_alert("checkpoint_mismatch", cp.aHead[k].zOrigin, cp.aHead[k].iSeq, zMsg);
    }
    free(zMine);
  }
  fed_checkpoint_dispose(&cp);
  logwriter_checkpoint(q->zId, zJson, nJson, aSig);
}

/* Our edition of the manifest (trust.h): sent as a link comes up and when it changes. */
static void send_manifest(fed_link *l) {
  const zc_trust *t = g_fl.p->pTrust;
  char zSig[FEDWIRE_SIG_HEX];
  fedwire_hex(zSig, t->aSig, FED_SIG_SIZE);
  send_json(l, json_pack("{s:s, s:s%, s:s}", "t", "manifest", "json", t->zJson, t->nJson, "sig", zSig));
}

/* A peer's edition: taken when the region's root signed it and it was issued after ours
 * (trust_install), and then passed on to every link (fedlink_trust). */
static void on_manifest(fed_link *l, json_t *m) {
  fed_peer *q = &g_fl.aPeer[l->iPeer];
  unsigned char aSig[FED_SIG_SIZE];
  zc_trust *t = NULL;
  const char *zJson = field(m, "json");
  size_t nJson = json_string_length(json_object_get(m, "json"));
  if (fedwire_unhex(aSig, sizeof aSig, field(m, "sig")) ||
      trust_new(&t, zJson, nJson, aSig, sizeof aSig, g_fl.p->pRoot, g_fl.p->cfg.zNode, g_fl.p->cfg.zKey)) {
    peer_error(q, "a manifest that does not verify: %.200s", fed_last_error());
    return;
  }
  trust_install(g_fl.p, t, q->zId);
}

static int parse_fed_url(fed_peer *q, const char *zUrl);

/* Where each peer answers and the pin of its certificate, as the manifest lists them. */
static void read_peers(const fed_manifest *m) {
  for (int i = 0; i < g_fl.nNodes; i++) {
    fed_peer *q = &g_fl.aPeer[i];
    const char *zPin = fed_manifest_node_tls_pin(m, (size_t)i);
    snprintf(q->zPin, sizeof q->zPin, "%s", zPin ? zPin : "");
    q->bDial = i != g_fl.iSelf && strcmp(g_fl.p->cfg.zNode, q->zId) < 0 &&
               parse_fed_url(q, fed_manifest_node_fed_url(m, (size_t)i)) == 0;
  }
}

void fedlink_trust(const zc_trust *t) {
  if (!g_fl.vh) return;
  read_peers(t->pManifest); /* trust_install took it only with the same nodes in order */
  for (fed_link *l = g_fl.pLinks; l; l = l->pNext)
    if (l->eState == L_UP) send_manifest(l);
}

static void link_up(fed_link *l) {
  fed_peer *q = &g_fl.aPeer[l->iPeer];
  if (q->pLink && q->pLink != l) { /* a newer link replaces the old one */
    q->pLink->eState = L_CLOSING;
    lws_callback_on_writable(q->pLink->wsi);
    for (int i = 0; i < g_fl.nNodes; i++)
      if (g_fl.aOrigin[i].pSource == q->pLink) g_fl.aOrigin[i].pSource = NULL;
  }
  q->pLink = l;
  q->nRetry = 0;
  q->bHeard = 0;
  q->tContact = time(NULL);
  q->zLastError[0] = 0;
  l->eState = L_UP;
  fprintf(stderr, "zc-node: federation: link with %s up (%s)\n", q->zId, l->bDialer ? "dialed" : "accepted");
  send_manifest(l); /* first: a newer key may sign the entries that follow */
  send_heads(l);
  send_checkpoint(l);
}

/* Dialer: the acceptor's challenge. */
static void on_challenge(fed_link *l, json_t *m) {
  fed_peer *q = &g_fl.aPeer[l->iPeer];
  const char *zNode = field(m, "node"), *zNonce = field(m, "nonce");
  const fed_manifest_key *k = NULL;
  const fed_key *pKey = our_key(&k);
  char zSig[FEDWIRE_SIG_HEX];
  if (strcmp(zNode, q->zId) != 0 || strlen(zNonce) != FEDWIRE_NONCE_HEX - 1 || !k || channel_binding(l) ||
      fedwire_nonce(l->zNonceC) ||
      fedwire_auth_sign(zSig, pKey, 0, g_fl.p->cfg.zNode, q->zId, zNonce, l->zNonceC, l->zBinding)) {
    send_refused(l, "bad_challenge", "the challenge is not the dialed node's");
    return;
  }
  snprintf(l->zNonceS, sizeof l->zNonceS, "%s", zNonce);
  send_json(l, json_pack("{s:s, s:s, s:s, s:s, s:s}", "t", "hello", "node", g_fl.p->cfg.zNode, "key", k->zId,
                         "nonce", l->zNonceC, "sig", zSig));
  l->eState = L_WAIT_WELCOME;
}

/* Acceptor: the dialer's proof; then ours. */
static void on_hello(fed_link *l, json_t *m) {
  const char *zNode = field(m, "node"), *zNonce = field(m, "nonce");
  const fed_manifest_key *k = NULL;
  const fed_key *pKey = our_key(&k);
  char zSig[FEDWIRE_SIG_HEX];
  int i = node_index(zNode);
  if (i < 0 || i == g_fl.iSelf) {
    send_refused(l, "unknown_node", "this node is not in the federation's manifest");
    return;
  }
  if (strlen(zNonce) != FEDWIRE_NONCE_HEX - 1 ||
      fedwire_auth_verify(node_manifest(g_fl.p), node_now(g_fl.p), field(m, "key"), field(m, "sig"), 0, zNode,
                          g_fl.p->cfg.zNode, l->zNonceS, zNonce, l->zBinding)) {
    char zMsg[300];
    snprintf(zMsg, sizeof zMsg, "%s did not prove its key: %.200s", zNode, fed_last_error());
    peer_error(&g_fl.aPeer[i], "%s", zMsg);
    send_refused(l, "bad_proof", zMsg);
    return;
  }
  snprintf(l->zNonceC, sizeof l->zNonceC, "%s", zNonce);
  if (!k || fedwire_auth_sign(zSig, pKey, 1, g_fl.p->cfg.zNode, zNode, l->zNonceS, l->zNonceC, l->zBinding)) {
    send_refused(l, "no_key", "this node has no valid key now");
    return;
  }
  l->iPeer = i;
  send_json(l, json_pack("{s:s, s:s, s:s}", "t", "welcome", "key", k->zId, "sig", zSig));
  link_up(l);
}

/* Dialer: the acceptor's proof. */
static void on_welcome(fed_link *l, json_t *m) {
  fed_peer *q = &g_fl.aPeer[l->iPeer];
  if (fedwire_auth_verify(node_manifest(g_fl.p), node_now(g_fl.p), field(m, "key"), field(m, "sig"), 1, q->zId,
                          g_fl.p->cfg.zNode, l->zNonceS, l->zNonceC, l->zBinding)) {
    peer_error(q, "%s did not prove its key: %.150s", q->zId, fed_last_error());
    send_refused(l, "bad_proof", q->zLastError);
    return;
  }
  link_up(l);
}

static int on_message(fed_link *l, const char *z, size_t n) {
  json_error_t err;
  json_t *m = json_loadb(z, n, 0, &err);
  const char *zT = field(m, "t");
  int rc = 0;
  if (!json_is_object(m)) {
    send_refused(l, "bad_message", "not a JSON object");
  } else if (strcmp(zT, "refused") == 0) {
    fprintf(stderr, "zc-node: federation: refused by the peer: %s: %s\n", field(m, "code"), field(m, "message"));
    if (l->iPeer >= 0)
      peer_error(&g_fl.aPeer[l->iPeer], "refused: %.250s", field(m, "message"));
    rc = -1;
  } else if (l->eState == L_WAIT_CHALLENGE && strcmp(zT, "challenge") == 0) {
    on_challenge(l, m);
  } else if (l->eState == L_WAIT_HELLO && strcmp(zT, "hello") == 0) {
    on_hello(l, m);
  } else if (l->eState == L_WAIT_WELCOME && strcmp(zT, "welcome") == 0) {
    on_welcome(l, m);
  } else if (l->eState == L_CLOSING && l->iPeer >= 0 && strcmp(zT, "reply") == 0) {
    /* replaced by a newer link: a reply to a call made on this one is still good */
    fedcall_on_message(g_fl.aPeer[l->iPeer].zId, l->iId, zT, m);
  } else if (l->eState != L_UP) {
    send_refused(l, "not_authenticated", "authenticate first");
  } else {
    g_fl.aPeer[l->iPeer].tContact = time(NULL);
    if (strcmp(zT, "heads") == 0) on_heads(l, m);
    else if (strcmp(zT, "want") == 0) on_want(l, m);
    else if (strcmp(zT, "stop") == 0) on_stop(l, m);
    else if (strcmp(zT, "ack") == 0) on_ack(l, m);
    else if (strcmp(zT, "entries") == 0) rc = on_entries(l, m);
    else if (strcmp(zT, "checkpoint") == 0) on_checkpoint(l, m);
    else if (strcmp(zT, "manifest") == 0) on_manifest(l, m);
    else if (strcmp(zT, "call") == 0 || strcmp(zT, "reply") == 0) fedcall_on_message(g_fl.aPeer[l->iPeer].zId, l->iId, zT, m);
    /* anything else: a newer protocol's message, ignored */
  }
  json_decref(m);
  return rc;
}

/* ---- links ---- */

static fed_link *link_new(struct lws *wsi, int bDialer, int iPeer) {
  fed_link *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->iId = ++g_fl.iNextId;
  l->wsi = wsi;
  l->bDialer = bDialer;
  l->iPeer = iPeer;
  l->eState = bDialer ? L_WAIT_CHALLENGE : L_WAIT_HELLO;
  l->pNext = g_fl.pLinks;
  g_fl.pLinks = l;
  return l;
}

static void dial_later(fed_peer *q);

static void link_free(fed_link *l) {
  for (fed_link **pp = &g_fl.pLinks; *pp; pp = &(*pp)->pNext) {
    if (*pp == l) {
      *pp = l->pNext;
      break;
    }
  }
  int bWasSource = 0;
  for (int i = 0; i < g_fl.nNodes; i++) {
    if (g_fl.aOrigin[i].pSource == l) {
      g_fl.aOrigin[i].pSource = NULL;
      bWasSource = 1;
    }
  }
  if (l->iPeer >= 0) {
    fed_peer *q = &g_fl.aPeer[l->iPeer];
    if (q->pLink == l) {
      q->pLink = NULL;
      fprintf(stderr, "zc-node: federation: link with %s down\n", q->zId);
    }
    if (q->pDialing == l) q->pDialing = NULL;
    if (q->bDial && !q->pLink && !q->pDialing && g_fl.ctx) dial_later(q);
  }
  fedcall_link_down(l->iId);
  while (l->pHead) {
    link_msg *m = l->pHead;
    l->pHead = m->pNext;
    free(m);
  }
  buf_free(&l->rx);
  free(l);
  if (bWasSource) choose_sources();
}

static void dial(lws_sorted_usec_list_t *sul) {
  fed_peer *q = lws_container_of(sul, fed_peer, sul);
  struct lws_client_connect_info ci;
  if (q->pLink || q->pDialing) return;
  memset(&ci, 0, sizeof ci);
  ci.context = g_fl.ctx;
  ci.vhost = g_fl.vh;
  ci.address = q->zHost;
  ci.port = q->iPort;
  ci.path = q->zPath;
  ci.host = q->zHost;
  ci.origin = q->zHost;
  ci.protocol = FEDWIRE_PROTOCOL;
  ci.ssl_connection = LCCSCF_USE_SSL;
  ci.retry_and_idle_policy = &g_retry;
  q->pDialing = link_new(NULL, 1, (int)(q - g_fl.aPeer));
  if (!q->pDialing) return;
  ci.opaque_user_data = q->pDialing;
  ci.pwsi = &q->pDialing->wsi;
  if (!lws_client_connect_via_info(&ci)) {
    fed_link *l = q->pDialing; /* the CONNECTION_ERROR callback may have freed it already */
    if (l && link_by_id(l->iId) == l) link_free(l);
  }
}

static void dial_later(fed_peer *q) {
  uint16_t nTry = q->nRetry;
  char bConceal;
  uint32_t ms = lws_retry_get_delay_ms(g_fl.ctx, &g_retry, &nTry, &bConceal);
  q->nRetry = nTry;
  lws_sul_schedule(g_fl.ctx, 0, &q->sul, dial, (lws_usec_t)ms * 1000);
}

/* Our heads from fed_heads, when the log writer stored something since the last look. */
static void reload_heads(void) {
  json_t *aRows = db_rows(g_fl.p->db, "SELECT origin, seq, hash FROM fed_heads", NULL), *v;
  size_t k;
  json_array_foreach(aRows, k, v) {
    int i = node_index(field(v, "origin"));
    if (i < 0) continue;
    g_fl.aOrigin[i].iHave = json_integer_value(json_object_get(v, "seq"));
    snprintf(g_fl.aOrigin[i].zHash, sizeof g_fl.aOrigin[i].zHash, "%s", field(v, "hash"));
  }
  json_decref(aRows);
}

void fedlink_poll(zc_node *p) {
  (void)p;
  if (!g_fl.vh || g_fl.iGeneration == logwriter_generation()) return;
  g_fl.iGeneration = logwriter_generation();
  reload_heads();
  for (fed_link *l = g_fl.pLinks; l; l = l->pNext) {
    if (l->eState != L_UP) continue;
    l->bHeadsDirty = 1;
    lws_callback_on_writable(l->wsi); /* live push: cursors may have entries to send now */
  }
  choose_sources();
  check_recovered();
}

/* Once a second: heads that waited for their turn, and heads now and then when idle. */
static void tick(lws_sorted_usec_list_t *sul) {
  time_t t = time(NULL);
  check_recovered();
  if (logwriter_ready() && ((g_fl.iCheckpointGeneration != g_fl.iGeneration && t - g_fl.tCheckpoint >= CHECKPOINT_SECS) ||
                            t - g_fl.tCheckpoint >= CHECKPOINT_IDLE_SECS))
    make_checkpoint();
  for (fed_link *l = g_fl.pLinks; l; l = l->pNext) {
    if (l->eState != L_UP) continue;
    if (t - l->tHeadsSent >= HEADS_IDLE_SECS) l->bHeadsDirty = 1;
    if (l->bHeadsDirty) lws_callback_on_writable(l->wsi);
  }
  lws_sul_schedule(g_fl.ctx, 0, sul, tick, LWS_US_PER_SEC);
}

static int callback_fed(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  fed_link *l = lws_get_opaque_user_data(wsi);
  (void)user;
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return -1; /* this port speaks zc-fed.1 only */
    case LWS_CALLBACK_ESTABLISHED:
      if (!(l = link_new(wsi, 0, -1)) || fedwire_nonce(l->zNonceS) || channel_binding(l)) return -1;
      lws_set_opaque_user_data(wsi, l);
      send_json(l, json_pack("{s:s, s:s, s:s}", "t", "challenge", "node", g_fl.p->cfg.zNode, "nonce", l->zNonceS));
      return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
      fed_peer *q = &g_fl.aPeer[l->iPeer];
      q->pDialing = NULL;
      if (!pin_matches(l, q)) {
        peer_error(q, "the certificate of %s is not the one the manifest pins", q->zId);
        l->bPinRefused = 1;
        fprintf(stderr, "zc-node: federation: %s\n", q->zLastError);
        return -1;
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (l) {
        fed_peer *q = &g_fl.aPeer[l->iPeer];
        if (!l->bPinRefused) peer_error(q, "cannot connect: %.150s", in ? (const char *)in : "?");
        q->pDialing = NULL;
        lws_set_opaque_user_data(wsi, NULL);
        link_free(l);
      }
      return 0;
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (!l) return -1;
      if (l->rx.n + len > FEDLINK_FRAME_MAX) return -1;
      buf_append(&l->rx, in, len);
      if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
      {
        int rc = on_message(l, l->rx.z, l->rx.n);
        l->rx.n = 0;
        return rc;
      }
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return l ? on_writeable(l) : -1;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (l) {
        lws_set_opaque_user_data(wsi, NULL);
        link_free(l);
      }
      return 0;
    default:
      break;
  }
  return 0;
}

static struct lws_protocols g_fedProtocols[] = {
    {FEDWIRE_PROTOCOL, callback_fed, 0, 64 << 10, 0, NULL, 256 << 10},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* wss://host:port/path of a peer, from the manifest's "fed" URL. */
static int parse_fed_url(fed_peer *q, const char *zUrl) {
  if (!zUrl || strncmp(zUrl, "wss://", 6) != 0) return -1;
  const char *zHost = zUrl + 6, *zColon = strchr(zHost, ':'), *zSlash = strchr(zHost, '/');
  if (!zColon || (zSlash && zSlash < zColon) || (size_t)(zColon - zHost) >= sizeof q->zHost) return -1;
  snprintf(q->zHost, sizeof q->zHost, "%.*s", (int)(zColon - zHost), zHost);
  q->iPort = atoi(zColon + 1);
  snprintf(q->zPath, sizeof q->zPath, "%s", zSlash ? zSlash : "/fed");
  return q->iPort > 0 && q->iPort < 65536 ? 0 : -1;
}

int fedlink_start(zc_node *p, struct lws_context *ctx) {
  const fed_manifest *m = node_manifest(p);
  struct lws_context_creation_info info;
  if (!m || !p->pTrust || !p->cfg.iFedPort) return 0;
  memset(&g_fl, 0, sizeof g_fl);
  g_fl.p = p;
  g_fl.ctx = ctx;
  g_fl.nNodes = (int)fed_manifest_node_count(m);
  if (g_fl.nNodes > FED_MAX) {
    fprintf(stderr, "zc-node: the manifest lists %d nodes; at most %d\n", g_fl.nNodes, FED_MAX);
    return -1;
  }
  g_fl.iSelf = fed_manifest_find_node(m, p->cfg.zNode);
  for (int i = 0; i < g_fl.nNodes; i++) {
    snprintf(g_fl.aPeer[i].zId, sizeof g_fl.aPeer[i].zId, "%s", fed_manifest_node_id(m, (size_t)i));
    snprintf(g_fl.aOrigin[i].zId, sizeof g_fl.aOrigin[i].zId, "%s", fed_manifest_node_id(m, (size_t)i));
  }
  read_peers(m);
  memset(&info, 0, sizeof info);
  info.port = p->cfg.iFedPort;
  info.iface = p->cfg.zBind[0] ? p->cfg.zBind : "127.0.0.1";
  info.protocols = g_fedProtocols;
  info.vhost_name = "fed";
  info.ssl_cert_filepath = p->cfg.zTlsCert;
  info.ssl_private_key_filepath = p->cfg.zTlsKey;
  info.client_ssl_ca_filepath = p->cfg.zTlsCa;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.retry_and_idle_policy = &g_retry;
  info.timeout_secs = 30;
  if (!p->cfg.zTlsCert[0] || !p->cfg.zTlsKey[0] || !p->cfg.zTlsCa[0]) {
    fprintf(stderr, "zc-node: --fed-port needs --tls-cert, --tls-key and --tls-ca\n");
    return -1;
  }
  g_fl.vh = lws_create_vhost(ctx, &info);
  if (!g_fl.vh) {
    fprintf(stderr, "zc-node: cannot listen on %s:%d (federation, TLS)\n", info.iface, info.port);
    return -1;
  }
  logwriter_on_received(received_done);
  g_fl.iGeneration = logwriter_generation();
  reload_heads();
  g_fl.iOwnAtStart = g_fl.aOrigin[g_fl.iSelf].iHave;
  for (int i = 0; i < g_fl.nNodes; i++)
    if (i != g_fl.iSelf && fed_manifest_node_fed_url(m, (size_t)i)) p->bRecovering = 1; /* someone to ask */
  g_fl.tRecoverUntil = time(NULL) + FEDLINK_RECOVER_SECS;
  for (int i = 0; i < g_fl.nNodes; i++)
    if (g_fl.aPeer[i].bDial) lws_sul_schedule(ctx, 0, &g_fl.aPeer[i].sul, dial, 1);
  lws_sul_schedule(ctx, 0, &g_fl.sulTick, tick, LWS_US_PER_SEC);
  fprintf(stderr, "zc-node %s federation on wss://%s:%d/fed\n", p->cfg.zNode, info.iface, info.port);
  return 0;
}

void fedlink_stop(void) {
  if (!g_fl.vh) return;
  lws_sul_cancel(&g_fl.sulTick);
  for (int i = 0; i < g_fl.nNodes; i++) lws_sul_cancel(&g_fl.aPeer[i].sul);
  g_fl.ctx = NULL; /* no more dials; the links are closed with the context */
  free(g_fl.zCheckpoint);
  g_fl.zCheckpoint = NULL;
  logwriter_on_received(NULL);
}

json_t *fedlink_status(zc_node *p) {
  json_t *a = json_array();
  (void)p;
  if (!g_fl.vh) return a;
  for (int i = 0; i < g_fl.nNodes; i++) {
    fed_peer *q = &g_fl.aPeer[i];
    char zTs[FED_RFC3339_SIZE] = "";
    if (i == g_fl.iSelf) continue;
    if (q->tContact) fed_rfc3339_format(zTs, q->tContact);
    json_t *pHeads = json_object();
    for (int j = 0; j < g_fl.nNodes; j++) {
      if (!q->aiHead[j]) continue;
      json_object_set_new(pHeads, g_fl.aOrigin[j].zId,
                          json_pack("{s:I, s:s, s:I}", "seq", (json_int_t)q->aiHead[j], "hash", q->aazHash[j], "lag",
                                    (json_int_t)(g_fl.aOrigin[j].iHave - q->aiHead[j])));
    }
    json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:o, s:s?, s:s?}", "node", q->zId, "state",
                                       q->pLink ? g_azState[q->pLink->eState]
                                       : q->pDialing ? "connecting" : "down",
                                       "dials", q->bDial, "heads", pHeads, "last_contact", zTs[0] ? zTs : NULL,
                                       "last_error", q->zLastError[0] ? q->zLastError : NULL));
  }
  return a;
}
