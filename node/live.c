/* live.c - live updates to browsers (live.h). Each connection is authenticated by the
 * session cookie when it opens and keeps who it is (account, role, unit, dept,
 * committee); an event goes to every connection it concerns. */
#include "live.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "applications.h"
#include "db.h"
#include "qrlogin.h"
#include "router.h"
#include "server.h"
#include "session.h"

#define LIVE_MAX_PENDING 64 /* a slow browser loses the oldest events, never the node's memory */

typedef struct live_msg {
  struct live_msg *pNext;
  size_t n;
  unsigned char a[]; /* LWS_PRE bytes, then the message */
} live_msg;

typedef struct live_conn {
  struct live_conn *pNext;
  struct lws *wsi;
  zc_session who;
  live_msg *pHead, *pTail;
  int nPending;
  int bClose; /* its session ended: close at the next writeable callback */
} live_conn;

static live_conn *g_conns;
static zc_node *g_liveNode;
static json_t *g_pNodeEvents; /* changes made by the node itself (live_node_changed), not yet flushed */

/* Note application zId as it now is in *ppEvents. */
static void note_changed(zc_node *p, json_t **ppEvents, const char *zId) {
  json_t *a = db_row(p->db, "SELECT id, status, returned_by, applicant_id, unit_id, dept_id, committee_id"
                     " FROM applications WHERE id = ?", "t", zId);
  if (!a) return;
  json_object_set_new(a, "status_name", json_string(app_status_label(jstr(a, "status"))));
  /* a reviewer hears only of applications that have reached it (application_access) */
  json_object_set_new(a, "reached", db_rows(p->db, "SELECT kind, ref FROM application_access"
                                            " WHERE application_id = ?", "t", zId));
  if (!*ppEvents) *ppEvents = json_array();
  json_array_append_new(*ppEvents, a);
}

void live_application_changed(zc_req *r, const char *zId) { note_changed(r->node, &r->pEvents, zId); }

void live_queue(zc_req *r, json_t *e) {
  if (!r->pEvents) r->pEvents = json_array();
  json_array_append_new(r->pEvents, e);
}

void live_node_changed(zc_node *p, const char *zId) { note_changed(p, &g_pNodeEvents, zId); }

static int has_reached(json_t *e, const char *zKind, const char *zRef) {
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(e, "reached"), i, v)
    if (strcmp(jstr(v, "kind"), zKind) == 0 && strcmp(jstr(v, "ref"), zRef) == 0) return 1;
  return 0;
}

/* Does event e concern connection c, and is it a new item in c's queue? */
static int concerns(const live_conn *c, json_t *e, int *pbQueue) {
  const zc_session *s = &c->who;
  const char *zStatus = jstr(e, "status"), *z;
  *pbQueue = 0;
  switch (s->role) {
    case ROLE_APPLICANT:
      return strcmp(jstr(e, "applicant_id"), s->zAccount) == 0;
    case ROLE_UNIT_ADMIN:
      *pbQueue = strcmp(zStatus, "unit_review") == 0 && strcmp(jstr(e, "unit_id"), s->zUnit) == 0;
      return has_reached(e, "unit", s->zUnit);
    case ROLE_DEPT_ADMIN:
      *pbQueue = strcmp(zStatus, "dept_review") == 0 && (z = jstr(e, "dept_id")) && strcmp(z, s->zDept) == 0;
      return has_reached(e, "dept", s->zDept);
    case ROLE_COMMITTEE_ADMIN:
      *pbQueue = strcmp(zStatus, "committee_review") == 0 && strcmp(jstr(e, "committee_id"), s->zCommittee) == 0;
      return has_reached(e, "committee", s->zCommittee);
    default:
      return 0;
  }
}

static void conn_push(live_conn *c, const char *z, size_t n) {
  live_msg *m = malloc(sizeof(*m) + LWS_PRE + n);
  if (!m) return;
  m->pNext = NULL;
  m->n = n;
  memcpy(m->a + LWS_PRE, z, n);
  if (c->pTail) c->pTail->pNext = m;
  else c->pHead = m;
  c->pTail = m;
  if (++c->nPending > LIVE_MAX_PENDING) {
    live_msg *pOld = c->pHead;
    c->pHead = pOld->pNext;
    c->nPending--;
    free(pOld);
  }
  lws_callback_on_writable(c->wsi);
}

/* Send the events of *ppEvents to the connections they concern (once committed), and
 * forget them. */
static void flush_events(json_t **ppEvents, int bCommitted) {
  size_t i;
  json_t *e;
  if (!*ppEvents) return;
  json_array_foreach(*ppEvents, i, e) {
    const char *zType = jstr(e, "type");
    if (zType && strcmp(zType, "qr") == 0) { /* a QR login decided: the desktop's socket */
      if (bCommitted) qrlogin_deliver(e);
      continue;
    }
    for (live_conn *c = g_conns; bCommitted && c; c = c->pNext) {
      int bQueue;
      if (!concerns(c, e, &bQueue)) continue;
      json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b}", "type", "application", "id", jstr(e, "id"), "status",
                            jstr(e, "status"), "status_name", jstr(e, "status_name"), "returned_by",
                            json_object_get(e, "returned_by"), "queue", bQueue);
      char *z = json_dumps(m, JSON_COMPACT);
      if (z) conn_push(c, z, strlen(z));
      free(z);
      json_decref(m);
    }
  }
  json_decref(*ppEvents);
  *ppEvents = NULL;
}

void live_flush(zc_req *r, int bCommitted) { flush_events(&r->pEvents, bCommitted); }

void live_node_flush(int bCommitted) { flush_events(&g_pNodeEvents, bCommitted); }

static void conn_drop(live_conn *c) {
  for (live_conn **pp = &g_conns; *pp; pp = &(*pp)->pNext) {
    if (*pp == c) {
      *pp = c->pNext;
      break;
    }
  }
  while (c->pHead) {
    live_msg *m = c->pHead;
    c->pHead = m->pNext;
    free(m);
  }
}

/* Who is opening the socket: the session of its cookie (headers are gone later). */
static int identify(struct lws *wsi, live_conn *c) {
  zc_req r;
  memset(&r, 0, sizeof r);
  r.node = g_liveNode;
  if (!r.node) return -1;
  server_session_cookie(wsi, r.zCookie, sizeof r.zCookie);
  session_load(&r);
  if (!r.pSess) return -1;
  c->who = r.sess;
  return 0;
}

void live_set_node(zc_node *p) { g_liveNode = p; }

zc_node *live_node(void) { return g_liveNode; }

#define LIVE_CHECK_USECS (60 * LWS_USEC_PER_SEC)

/* Is the socket's session still live (same rule as session_load: not expired, not idle
 * too long, not ended)? */
static int session_live(zc_node *p, const live_conn *c) {
  time_t now = node_now(p);
  return db_int(p->db, 0, "SELECT 1 FROM sessions WHERE token_hash = ? AND expires > ? AND last_seen > ?", "tII",
                c->who.zTokenHash, (sqlite3_int64)now, (sqlite3_int64)(now - SESSION_IDLE)) == 1;
}

static void close_if_ended(zc_node *p, live_conn *c) {
  if (c->bClose || session_live(p, c)) return;
  c->bClose = 1;
  lws_callback_on_writable(c->wsi);
}

void live_revalidate(zc_node *p) {
  for (live_conn *c = g_conns; c; c = c->pNext) close_if_ended(p, c);
}

/* A browser sends Origin: it must be this node's own page (Host), so that another site
 * cannot open a socket with the user's cookie. Clients that send no Origin are not pages. */
int live_origin_ok(struct lws *wsi) {
  char zOrigin[256], zHost[256];
  if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0) return 1;
  if (lws_hdr_copy(wsi, zOrigin, sizeof zOrigin, WSI_TOKEN_ORIGIN) < 0 ||
      lws_hdr_copy(wsi, zHost, sizeof zHost, WSI_TOKEN_HOST) < 0)
    return 0;
  const char *z = strstr(zOrigin, "://");
  return z && strcmp(z + 3, zHost) == 0;
}

int live_check_upgrade(struct lws *wsi, zc_req *r) {
  live_conn c;
  if (!live_origin_ok(wsi)) return http_error(r, 403, "cross_origin", "不接受来自其他网站页面的连接"), -1;
  if (identify(wsi, &c)) return http_error(r, 401, "login_required", "请先登录"), -1;
  return 0;
}

static int callback_live(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  live_conn *c = (live_conn *)user;
  (void)in;
  (void)len;
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      memset(c, 0, sizeof(*c));
      return !live_origin_ok(wsi) || identify(wsi, c) ? 1 : 0; /* non-zero refuses the upgrade */
    case LWS_CALLBACK_ESTABLISHED: {
      static const char zHello[] = "{\"type\":\"hello\"}";
      c->wsi = wsi;
      c->pNext = g_conns;
      g_conns = c;
      conn_push(c, zHello, sizeof zHello - 1);
      lws_set_timer_usecs(wsi, LIVE_CHECK_USECS);
      return 0;
    }
    case LWS_CALLBACK_TIMER:
      close_if_ended(g_liveNode, c);
      lws_set_timer_usecs(wsi, LIVE_CHECK_USECS);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      live_msg *m = c->pHead;
      if (c->bClose) return -1;
      if (!m) return 0;
      c->pHead = m->pNext;
      if (!c->pHead) c->pTail = NULL;
      c->nPending--;
      int n = lws_write(wsi, m->a + LWS_PRE, m->n, LWS_WRITE_TEXT);
      free(m);
      if (n < 0) return -1;
      if (c->pHead) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      return 0; /* the browser has nothing to say; pings are handled by lws */
    case LWS_CALLBACK_CLOSED:
      conn_drop(c);
      return 0;
    default:
      return 0;
  }
}

const struct lws_protocols g_live_protocol = {"zc-live", callback_live, sizeof(live_conn), 1024, 0, NULL, 0};
