/* server.c - moves bytes between libwebsockets and the router. Each connection is counted
 * (conns.c) and each request passes the gate (gate.c) before anything else; each API
 * request then gets a zc_req; its body is refused before it is buffered when it would pass
 * the route's limit (answered 413 once the client has sent it, so that the client sees the
 * answer); the answer goes out as one buffer (headers + body) when small; one log line per
 * request. While a worker has a request its connection's input is paused: bytes the client
 * pipelined behind it wait in lws's buflist, and lws 4.1.6 polls with no timeout for as
 * long as a connection that is not flow-controlled has buffered input, so the loop would
 * spin at 100 % until the worker is done. Input resumes just before the answer is asked
 * for (an h1 connection paused that way gets no writeable callback in 4.1.6). */
#include "server.h"
#include "sender.h"
#include "trust.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "claims.h"
#include "handoff.h"
#include "transfer.h"
#include "conns.h"
#include "gate.h"
#include "http.h"
#include "live.h"
#include "messages.h"
#include "qrlogin.h"
#include "db.h"
#include "fedcall.h"
#include "form_pdf.h"
#include "fedlink.h"
#include "logwriter.h"
#include "rfc3339.h"
#include "router.h"
#include "session.h"
#include "static.h"
#include "worker.h"

#define API_PREFIX "/v1"        /* the mount is /api; requests arrive as /v1/... */
#define DISCARD_MAX (16L << 20) /* past this much refused body we just close */

/* A request and the connection it came on (wsi NULL once the client has gone). It lives
 * from LWS_CALLBACK_HTTP until its answer is handed to lws; then the connection is free
 * for the next request (keep-alive) and callbacks that still arrive find no request. */
typedef struct pss_http pss_http;
typedef struct conn_req {
  zc_req r;
  struct lws *wsi;
  pss_http *pPss;
  struct timespec t0;
  long nLimit;      /* body limit for this request */
  long nSeen;       /* body bytes received */
  int bTooLarge;    /* refused: discard the rest, then answer 413 */
  int bDispatched;  /* handed to the router: never again, whatever lws calls later */
  int bPending;     /* a worker has it */
  int bDiscard;     /* the caller may not upload here: read the body without keeping it */
  int bQueryTooLong; /* answered 414 */
  const char *zMethod; /* for the log: "GET", ..., "OTHER" */
  char zLogPath[160];
} conn_req;

struct pss_http {
  conn_req *pCr;
};

static struct lws_context *g_ctx;
static lws_retry_bo_t g_idle; /* the portal WebSockets' ping and hang-up (cfg.iWsPingSecs) */
static volatile sig_atomic_t g_bStop, g_bReload;
static zc_node *g_node;

void server_stop(void) {
  g_bStop = 1;
  if (g_ctx) lws_cancel_service(g_ctx);
}

void server_reload(void) {
  g_bReload = 1;
  if (g_ctx) lws_cancel_service(g_ctx);
}

static void wake_loop(void *pArg) { lws_cancel_service((struct lws_context *)pArg); }

/* Hundredths of a millisecond since t0 (the log shows "1.23ms"). */
static long centi_ms_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ns = (long)(t1.tv_sec - t0->tv_sec) * 1000000000L + (t1.tv_nsec - t0->tv_nsec);
  return ns < 0 ? 0 : (ns + 5000) / 10000;
}

/* z with control bytes, spaces, backslashes and bytes past ASCII as \xHH: a path (lws
 * has URL-decoded it) can neither forge log lines nor break the line's fields. */
static void log_escape(const char *z, char *zOut, size_t nOut) {
  size_t i = 0;
  for (; *z && i + 5 < nOut; z++) {
    unsigned char ch = (unsigned char)*z;
    if (ch > 0x20 && ch < 0x7F && ch != '\\') zOut[i++] = (char)ch; /* ASCII graphic (isgraph in the C locale) */
    else i += (size_t)snprintf(zOut + i, nOut - i, "\\x%02x", ch);
  }
  zOut[i] = 0;
}

/* The request log: stderr's file, through a buffer of its own that server_run flushes
 * once per turn of the event loop (one write(2) per answer cost as much as answering the
 * catalogue). Everything else written to stderr stays unbuffered. */
static FILE *g_log;

static void log_open(void) {
  int fd = dup(STDERR_FILENO);
  g_log = fd >= 0 ? fdopen(fd, "a") : NULL;
  if (!g_log) {
    if (fd >= 0) close(fd);
    g_log = stderr;
    return;
  }
  setvbuf(g_log, NULL, _IOFBF, 64 << 10);
}

static void log_close(void) {
  if (g_log && g_log != stderr) fclose(g_log);
  g_log = NULL;
}

/* A log line being put together: appends that cut at the end rather than overflow. */
typedef struct log_line {
  char z[512];
  size_t n;
} log_line;

static void line_text(log_line *l, const char *z) {
  size_t n = strlen(z), nRoom = sizeof l->z - 2 - l->n; /* keeps room for "\n" and a NUL */
  if (n > nRoom) n = nRoom;
  memcpy(l->z + l->n, z, n);
  l->n += n;
}

/* v in decimal, with at least nDigits digits. */
static void line_number(log_line *l, unsigned long v, int nDigits) {
  char zDigits[24];
  int n = 0;
  do {
    zDigits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v || n < nDigits);
  while (n > 0 && l->n < sizeof l->z - 2) l->z[l->n++] = zDigits[--n];
}

/* "2026-12-01T10:00:00Z 127.0.0.1 PUT /api/v1/... 200 8321B 1.23ms", put together by hand:
 * fprintf's formatting of it was a tenth of a catalogue answer's cost. */
static void log_request(conn_req *c, const char *zPath) {
  static time_t tLast;
  static char zTime[FED_RFC3339_SIZE];
  time_t t = time(NULL);
  log_line l = {.n = 0};
  char zSafe[4 * sizeof c->zLogPath + 1];
  log_escape(zPath, zSafe, sizeof zSafe);
  if (t != tLast) { /* the same second for every line of a busy second */
    if (fed_rfc3339_format(zTime, t)) zTime[0] = 0;
    tLast = t;
  }
  long cms = centi_ms_since(&c->t0);
  line_text(&l, zTime);
  line_text(&l, " ");
  line_text(&l, c->r.zPeer);
  line_text(&l, " ");
  line_text(&l, c->zMethod);
  line_text(&l, " ");
  line_text(&l, zSafe);
  line_text(&l, " ");
  line_number(&l, (unsigned long)c->r.status, 1);
  line_text(&l, " ");
  line_number(&l, c->r.zFile[0] ? 0UL : (unsigned long)c->r.out.n, 1);
  line_text(&l, "B ");
  line_number(&l, (unsigned long)(cms / 100), 1);
  line_text(&l, ".");
  line_number(&l, (unsigned long)(cms % 100), 2);
  line_text(&l, "ms");
  l.z[l.n++] = '\n';
  fwrite(l.z, 1, l.n, g_log ? g_log : stderr);
}

/* Request records of finished requests, kept with their body and answer buffers for the
 * next ones (one event loop: no lock): a fresh 6 KiB record, a growing body and a 16 KiB
 * answer buffer per request were a tenth of a section save's own instructions. Buffers
 * larger than CONN_KEEP_BUF (an upload, a long list) are not kept. */
#define CONN_POOL 64
#define CONN_KEEP_BUF (64u << 10)
static conn_req *g_aPool[CONN_POOL];
static int g_nPool;

/* b's allocation taken out of b when it is small enough to keep (empty otherwise). */
static zc_buf buf_take_small(zc_buf *b) {
  zc_buf keep = {0};
  if (b->nAlloc && b->nAlloc <= CONN_KEEP_BUF) {
    keep.z = b->z;
    keep.nAlloc = b->nAlloc;
    keep.z[0] = 0;
    *b = (zc_buf){0};
  }
  return keep;
}

static conn_req *conn_new(void) {
  if (!g_nPool) return calloc(1, sizeof(conn_req));
  conn_req *c = g_aPool[--g_nPool];
  zc_buf body = c->r.body, out = c->r.out;
  memset(c, 0, sizeof(*c));
  c->r.body = body;
  c->r.out = out;
  return c;
}

static void conn_free(conn_req *c) {
  if (!c) return;
  zc_buf body = buf_take_small(&c->r.body), out = buf_take_small(&c->r.out);
  http_req_reset(&c->r);
  if (g_nPool == CONN_POOL) {
    buf_free(&body);
    buf_free(&out);
    free(c);
    return;
  }
  c->r.body = body;
  c->r.out = out;
  g_aPool[g_nPool++] = c;
}

static void conn_pool_drain(void) {
  while (g_nPool) {
    conn_req *c = g_aPool[--g_nPool];
    http_req_reset(&c->r);
    free(c);
  }
}

static int method_of(struct lws *wsi, const char **pzMethod, int *pMethod) {
  static const struct { enum lws_token_indexes tok; int m; const char *z; } a[] = {
    {WSI_TOKEN_GET_URI, HTTP_GET, "GET"},
    {WSI_TOKEN_POST_URI, HTTP_POST, "POST"},
    {WSI_TOKEN_PUT_URI, HTTP_PUT, "PUT"},
    {WSI_TOKEN_DELETE_URI, HTTP_DELETE, "DELETE"},
  };
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
    if (lws_hdr_total_length(wsi, a[i].tok) > 0) {
      *pzMethod = a[i].z;
      *pMethod = a[i].m;
      return 0;
    }
  }
  *pzMethod = "OTHER";
  return -1;
}

/* z (size n) = zPrefix then zSrc, cut to fit (as snprintf "%s%s" would, without its cost:
 * this runs on every request). */
static void copy_cut(char *z, size_t n, const char *zPrefix, const char *zSrc) {
  size_t nPrefix = strlen(zPrefix), nSrc = strlen(zSrc);
  if (nPrefix > n - 1) nPrefix = n - 1;
  memcpy(z, zPrefix, nPrefix);
  if (nSrc > n - 1 - nPrefix) nSrc = n - 1 - nPrefix;
  memcpy(z + nPrefix, zSrc, nSrc);
  z[nPrefix + nSrc] = 0;
}

/* Copy a header into a fixed buffer; empty when absent or too long. */
static void copy_header(struct lws *wsi, enum lws_token_indexes tok, char *z, int n) {
  z[0] = 0;
  if (lws_hdr_total_length(wsi, tok) < n && lws_hdr_copy(wsi, z, n, tok) < 0) z[0] = 0;
}

void server_session_cookie(struct lws *wsi, char *z, size_t n) {
  static const char *const azOurs[] = {SESSION_COOKIE, DEVICE_COOKIE, QR_COOKIE};
  size_t used = 0;
  z[0] = 0;
  /* only our cookies: other cookies of the site may make the header long */
  for (size_t i = 0; i < sizeof azOurs / sizeof azOurs[0]; i++) {
    char zVal[256];
    size_t nVal = sizeof zVal;
    if (lws_http_cookie_get(wsi, azOurs[i], zVal, &nVal) == 0 && nVal < sizeof zVal) {
      zVal[nVal] = 0;
      int k = snprintf(z + used, n - used, "%s%s=%s", used ? "; " : "", azOurs[i], zVal);
      if (k < 0 || (size_t)k >= n - used) z[used] = 0; /* does not fit: left out whole */
      else used += (size_t)k;
    }
  }
}

/* The query's arguments, already URL-decoded by lws, one fragment each, separated by
 * HTTP_QUERY_SEP (a decoded value may contain '&'). Too long a query is dropped whole. */
static int copy_query(struct lws *wsi, char *z, size_t n) {
  size_t used = 0;
  z[0] = 0;
  for (int i = 0;; i++) {
    char zFrag[1024];
    int nFrag = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (nFrag <= 0) break;
    if (nFrag >= (int)sizeof zFrag) return -1;
    int len = lws_hdr_copy_fragment(wsi, zFrag, sizeof zFrag, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (len <= 0) break;
    if (used + (size_t)len + 2 > n) {
      z[0] = 0;
      return -1;
    }
    if (used) z[used++] = HTTP_QUERY_SEP;
    memcpy(z + used, zFrag, (size_t)len);
    used += (size_t)len;
    z[used] = 0;
  }
  return 0;
}

static conn_req *conn_from_headers(struct lws *wsi, const char *zPathBelowApi) {
  conn_req *c = conn_new();
  zc_req *r;
  if (!c) return NULL;
  clock_gettime(CLOCK_MONOTONIC, &c->t0);
  c->wsi = wsi;
  r = &c->r;
  r->node = g_node;
  if (method_of(wsi, &c->zMethod, &r->method)) r->method = 0;
  copy_cut(c->zLogPath, sizeof c->zLogPath, "/api", zPathBelowApi);
  if (strncmp(zPathBelowApi, API_PREFIX, strlen(API_PREFIX)) == 0 &&
      strlen(zPathBelowApi + strlen(API_PREFIX)) < sizeof r->zPath) /* too long: no route, 404 */
    copy_cut(r->zPath, sizeof r->zPath, "", zPathBelowApi + strlen(API_PREFIX));
  c->bQueryTooLong = copy_query(wsi, r->zQuery, sizeof r->zQuery) != 0;
  server_session_cookie(wsi, r->zCookie, sizeof r->zCookie);
  copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, r->zContentType, sizeof r->zContentType);
  copy_header(wsi, WSI_TOKEN_ORIGIN, r->zOrigin, sizeof r->zOrigin);
  copy_header(wsi, WSI_TOKEN_HOST, r->zHost, sizeof r->zHost);
  copy_header(wsi, WSI_TOKEN_HTTP_USER_AGENT, r->zAgent, sizeof r->zAgent);
  char zAccept[256];
  copy_header(wsi, WSI_TOKEN_HTTP_ACCEPT_LANGUAGE, zAccept, sizeof zAccept);
  r->iLang = messages_pick(zAccept);
  if (lws_hdr_custom_length(wsi, "x-csrf-token:", 13) < (int)sizeof r->zCsrf &&
      lws_hdr_custom_copy(wsi, r->zCsrf, sizeof r->zCsrf, "x-csrf-token:", 13) < 0)
    r->zCsrf[0] = 0;
  conns_peer(wsi, r->zPeer, sizeof r->zPeer);
  return c;
}

/* The answer is with lws: forget the request, and finish the transaction (keep-alive)
 * or close. Returns what the lws callback should return. */
static int answer_done(conn_req *c, int bClose) {
  struct lws *wsi = c->wsi;
  if (c->pPss) c->pPss->pCr = NULL;
  conn_free(c);
  return bClose || lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Add "Name: value\r\n" lines from r->outHeaders to the header block. */
static int add_extra_headers(struct lws *wsi, const zc_buf *h, unsigned char **pp,
                             unsigned char *end) {
  const char *z = h->z;
  while (z && *z) {
    const char *zColon = strchr(z, ':'), *zEol = strstr(z, "\r\n");
    if (!zColon || !zEol || zColon > zEol) break;
    char zName[64];
    snprintf(zName, sizeof zName, "%.*s:", (int)(zColon - z), z);
    const char *zVal = zColon + 1;
    while (*zVal == ' ') zVal++;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)zName, (const unsigned char *)zVal,
                                    (int)(zEol - zVal), pp, end))
      return -1;
    z = zEol + 2;
  }
  return 0;
}

/* Does h (the "Name: value\r\n" lines of an answer) hold a header zName ("name:")? */
static int has_header(const zc_buf *h, const char *zName) {
  size_t n = strlen(zName);
  for (const char *z = h->z; z && *z;) {
    if (strncasecmp(z, zName, n) == 0) return 1;
    const char *zEol = strstr(z, "\r\n");
    if (!zEol) break;
    z = zEol + 2;
  }
  return 0;
}

/* The buffer answers are written from, kept between them (one event loop): a fresh
 * 10 KiB malloc per answer cost more than building its headers. lws copies what a
 * send() does not take, so the buffer is free again once lws_write returns. */
static unsigned char *write_buffer(size_t n) {
  static unsigned char *aBuf;
  static size_t nBuf;
  if (n > nBuf) {
    unsigned char *a = realloc(aBuf, n);
    if (!a) return NULL;
    aBuf = a;
    nBuf = n;
  }
  return aBuf;
}

/* Write the answer: headers and body in one lws_write (HTTP/1.1). Returns what the lws
 * callback should return. */
static int write_answer(conn_req *c, int bClose) {
  struct lws *wsi = c->wsi;
  zc_req *r = &c->r;
  int rc = 0;
  int bOwnCache = has_header(&r->outHeaders, "cache-control:"); /* a static file's (static.c) */
  if (r->zFile[0] && r->status == 200) {
    unsigned char aHead[1024], *p = aHead, *end = aHead + sizeof aHead;
    if (add_extra_headers(wsi, &r->outHeaders, &p, end) ||
        (!bOwnCache && lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                                   (const unsigned char *)"private, no-store", 17, &p, end)))
      return -1;
    log_request(c, c->zLogPath);
    int n = lws_serve_http_file(wsi, r->zFile, r->zFileType, (const char *)aHead, (int)(p - aHead));
    if (c->pPss) c->pPss->pCr = NULL;
    conn_free(c); /* lws sends the file; FILE_COMPLETION ends the transaction */
      return (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) ? -1 : 0;
  }
  size_t nHead = 2048 + r->outHeaders.n;
  unsigned char *aBuf = write_buffer(LWS_PRE + nHead + r->out.n);
  if (!aBuf) return -1;
  unsigned char *start = aBuf + LWS_PRE, *p = start, *end = start + nHead;
  int bBody = r->status != 304; /* a 304 has neither body nor the body's type and length */
  if (lws_add_http_header_status(wsi, (unsigned)r->status, &p, end) ||
      (bBody && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                             (const unsigned char *)r->zOutType, (int)strlen(r->zOutType), &p, end)) ||
      (bBody && lws_add_http_header_content_length(wsi, r->out.n, &p, end)) ||
      (!bOwnCache && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                                  (const unsigned char *)"no-store", 8, &p, end)) ||
      add_extra_headers(wsi, &r->outHeaders, &p, end) ||
      (bClose && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                              (const unsigned char *)"close", 5, &p, end)) ||
      lws_finalize_http_header(wsi, &p, end))
    return -1;
  if (r->out.n) memcpy(p, r->out.z, r->out.n);
  p += r->out.n;
  log_request(c, c->zLogPath);
  conns_wrote(wsi, (size_t)(p - start));
  if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start)) rc = -1;
  return answer_done(c, bClose || rc != 0);
}

/* Route, run and answer a request whose body is complete. */
static int handle_request(conn_req *c) {
  zc_req *r = &c->r;
  if (c->bTooLarge) {
    http_error(r, 413, "too_large", "请求内容超过上限（%ld 字节）", c->nLimit);
    return write_answer(c, 1);
  }
  if (c->bQueryTooLong) {
    http_error(r, 414, "too_long", "请求参数过长");
    return write_answer(c, 0);
  }
  c->bDispatched = 1;
  if (router_dispatch(r) == HTTP_PENDING) {
    c->bPending = 1;
    lws_rx_flow_control(c->wsi, 0); /* resumed in resume_finished_jobs (see the top) */
    return 0;
  }
  return write_answer(c, 0);
}

static int run_job(zc_req *r, void *pJob) {
  (void)r;
  return job_finish((zc_job *)pJob);
}

/* A finished job with no request behind it: its continuation in a transaction,
 * committed when it returns 0. */
static void run_detached(zc_job *j) {
  sqlite3 *db = g_node->db;
  if (db_begin(db) == 0) {
    if (job_finish(j) || db_commit(db)) db_rollback(db);
  }
  job_free(j);
}

/* Resume requests whose slow work has finished (on the event loop). */
static void resume_finished_jobs(void) {
  zc_job *j;
  while ((j = worker_take_done()) != NULL) {
    conn_req *c = (conn_req *)job_req(j);
    if (!c) { /* work for another node (remote_login.c): a transaction of its own */
      run_detached(j);
      continue;
    }
    int rc = router_run(&c->r, run_job, j);
    job_free(j);
    if (rc == HTTP_PENDING) continue; /* it deferred again (e.g. a call to another node after a hash) */
    c->bPending = 0;
    if (c->wsi) {
      lws_rx_flow_control(c->wsi, 1);
      lws_callback_on_writable(c->wsi);
    } else {
      conn_free(c); /* the client went away; the work is done all the same */
    }
  }
}

/* Is this request under /api/? Everything else comes to this protocol too (serve_static). */
static int is_api_request(struct lws *wsi) {
  static const enum lws_token_indexes aTok[] = {WSI_TOKEN_GET_URI,   WSI_TOKEN_POST_URI,    WSI_TOKEN_PUT_URI,
                                                WSI_TOKEN_DELETE_URI, WSI_TOKEN_PATCH_URI,   WSI_TOKEN_OPTIONS_URI,
                                                WSI_TOKEN_HEAD_URI};
  static char z[16384 + 1]; /* lws copies a header whole or not at all; one event loop */
  for (size_t i = 0; i < sizeof aTok / sizeof aTok[0]; i++)
    if (lws_hdr_total_length(wsi, aTok[i]) >= 4 && lws_hdr_copy(wsi, z, sizeof z, aTok[i]) >= 4)
      return strncmp(z, "/api", 4) == 0 && (z[4] == '/' || z[4] == 0);
  return 0;
}

/* Expect: 100-continue is answered at once when the body will be read; any other
 * expectation is refused 417. Returns 0 to go on, 1 when c must be answered now, -1 when
 * the connection must close (the 100 could not be written). */
static int handle_expect(struct lws *wsi, conn_req *c, long nLen) {
  static const char zContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  unsigned char aBuf[LWS_PRE + sizeof zContinue];
  char zExpect[32];
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_EXPECT) <= 0) return 0;
  if (lws_hdr_copy(wsi, zExpect, sizeof zExpect, WSI_TOKEN_HTTP_EXPECT) < 0 ||
      strcasecmp(zExpect, "100-continue") != 0) {
    http_error(&c->r, 417, "expectation_failed", "不支持该Expect请求头");
    return 1;
  }
  if (c->bTooLarge) return 1; /* 413 before the client sends the body */
  if (nLen <= 0) return 0;
  memcpy(aBuf + LWS_PRE, zContinue, sizeof zContinue - 1);
  conns_wrote(wsi, sizeof zContinue - 1);
  return lws_write(wsi, aBuf + LWS_PRE, sizeof zContinue - 1, LWS_WRITE_HTTP) < 0 ? -1 : 0;
}

/* A GET or HEAD outside /api: a file of the web root (static.c), logged like any request.
 * Anything else there, and a file that is not there, is 404. */
static int serve_static(struct lws *wsi) {
  char zUri[512], zAccept[256], zMatch[256];
  static_answer a;
  enum lws_token_indexes tok = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 ? WSI_TOKEN_GET_URI : WSI_TOKEN_HEAD_URI;
  a.status = 404;
  if (lws_hdr_total_length(wsi, tok) > 0 && lws_hdr_total_length(wsi, tok) < (int)sizeof zUri &&
      lws_hdr_copy(wsi, zUri, sizeof zUri, tok) > 0) {
    copy_header(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING, zAccept, sizeof zAccept);
    copy_header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, zMatch, sizeof zMatch);
    static_lookup(g_node->cfg.zWeb, zUri, zAccept, zMatch, &a);
  }
  if (a.status == 404)
    return lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "页面不存在") ||
           lws_http_transaction_completed(wsi) ? -1 : 0;
  conn_req *c = conn_from_headers(wsi, "");
  if (!c) return -1;
  copy_cut(c->zLogPath, sizeof c->zLogPath, "", zUri);
  if (tok == WSI_TOKEN_HEAD_URI) c->zMethod = "HEAD";
  c->r.status = a.status;
  buf_append(&c->r.outHeaders, a.zHeaders, strlen(a.zHeaders));
  if (a.status == 200) http_file(&c->r, a.zFile, a.zType);
  return write_answer(c, 0);
}

static int begin_request(struct lws *wsi, pss_http *pss, const char *zIn) {
  if (!is_api_request(wsi)) return serve_static(wsi);
  conn_req *c = conn_from_headers(wsi, zIn);
  if (!c) return -1;
  c->pPss = pss;
  pss->pCr = c;
  int bKnown = 0;
  c->r.pRoute = c->r.method ? router_match(&c->r, &bKnown) : NULL;
  c->nLimit = router_body_limit(g_node, c->r.pRoute);
  /* An upload is kept only for a caller who may make it: anyone else's body is read and
   * dropped, and the router answers 401/403 once it is in (the client sees the answer). */
  if (c->r.pRoute && c->r.pRoute->body == BODY_RAW && !router_may_call(&c->r)) c->bDiscard = 1;
  long nLen = gate_content_length(wsi); /* framing was checked by the gate */
  c->bTooLarge = nLen > c->nLimit;
  int bExpect = handle_expect(wsi, c, nLen);
  if (bExpect < 0) return -1; /* CLOSED_HTTP frees c */
  if (bExpect) return c->r.status ? write_answer(c, 1) : handle_request(c);
  if (nLen > 0) return 0; /* the body comes in LWS_CALLBACK_HTTP_BODY */
  return handle_request(c);
}

/* The request a callback is about. user is our pss only for these reasons (for others,
 * e.g. FILTER_NETWORK_CONNECTION, it may be something else of lws's). */
static conn_req *conn_of(pss_http *pss, enum lws_callback_reasons reason) {
  switch (reason) {
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    case LWS_CALLBACK_HTTP_WRITEABLE:
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      return pss ? pss->pCr : NULL;
    default:
      return NULL;
  }
}

/* Answer a request refused before it reached a handler and close its connection; returns
 * what the lws callback should return (non-zero). */
static int answer_refusal(const char *zUri, conn_req *c) {
  if (!c) return -1;
  if (zUri) copy_cut(c->zLogPath, sizeof c->zLogPath, "", zUri);
  (void)write_answer(c, 1);
  return -1;
}

/* LWS_CALLBACK_FILTER_HTTP_CONNECTION: every HTTP request, static or API. */
static int gate_http(struct lws *wsi, const char *zUri) {
  gate_refusal g;
  if (gate_request(wsi, DISCARD_MAX, &g) == 0) return 0;
  conn_req *c = conn_from_headers(wsi, "");
  if (c) http_error(&c->r, g.status, g.zCode, "%s", g.zMsg);
  return answer_refusal(zUri, c);
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: only what gate_upgrade() allows gets a 101. */
static int gate_ws(struct lws *wsi, const char *zUpgrade) {
  char zUri[160];
  conn_req *c = conn_from_headers(wsi, "");
  if (!c) return -1;
  if (gate_upgrade(wsi, zUpgrade, &c->r) == 0) {
    conn_free(c);
    return 0;
  }
  if (lws_hdr_copy(wsi, zUri, sizeof zUri, WSI_TOKEN_GET_URI) <= 0) snprintf(zUri, sizeof zUri, "(upgrade)");
  return answer_refusal(zUri, c);
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len) {
  pss_http *pss = (pss_http *)user;
  conn_req *c = conn_of(pss, reason);
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
      return conns_admit((int)(intptr_t)in) ? 1 : 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: /* the first call with its socket set */
      conns_opened(wsi);
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      conns_closed(wsi);
      return 0;
    case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
      return gate_http(wsi, (const char *)in);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return gate_ws(wsi, (const char *)in);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return 1; /* no WebSocket on the HTTP protocol (gate_ws lets only zc-live and zc-qr through) */
    case LWS_CALLBACK_HTTP:
      return begin_request(wsi, pss, (const char *)in);
    case LWS_CALLBACK_HTTP_BODY:
      if (!c) return 0; /* answered already (e.g. refused as too large): discard */
      c->nSeen += (long)len;
      if (c->bDiscard) return c->nSeen > DISCARD_MAX ? -1 : 0;
      if (c->nSeen > c->nLimit) {
        c->bTooLarge = 1;
        buf_free(&c->r.body);
        if (c->nSeen > DISCARD_MAX) return -1;
        return 0;
      }
      buf_append(&c->r.body, in, len);
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      conns_mark_input_end(wsi);
      if (!c || c->bDispatched) return 0; /* answered at once, or already with the router */
      return handle_request(c);
    case LWS_CALLBACK_HTTP_WRITEABLE:
      if (!c || c->bPending || c->r.status == 0) return 0;
      return write_answer(c, 0);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
      conns_sync_written(wsi);
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      /* lws's close names itself here, before it shuts the socket (a rebind names its
       * caller): a request its parser refused can still be answered */
      if (in && strcmp((const char *)in, "__lws_close_free_wsi") == 0) conns_answer_unparsed(wsi);
      /* fallthrough */
    case LWS_CALLBACK_CLOSED_HTTP:
      if (c) {
        pss->pCr = NULL;
        c->pPss = NULL;
        if (c->bPending) c->wsi = NULL; /* freed when its job comes back */
        else conn_free(c);
      }
      return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      if (g_bReload) {
        g_bReload = 0;
        trust_reload(g_node);
      }
      resume_finished_jobs();
      return 0;
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* tx_packet_size: lws hands at most this much of one lws_write to send() and sends the
 * rest on later writeable callbacks; its default (4 KiB) cut an application's answer
 * (8-12 KiB) into three sends. */
#define HTTP_TX_PACKET (64 << 10)
static struct lws_protocols g_protocols[] = {
  {"zc-http", callback_http, sizeof(pss_http), 0, 0, NULL, HTTP_TX_PACKET},
  {NULL, NULL, 0, 0, 0, NULL, 0}, /* zc-live, filled in at start (live.c) */
  {NULL, NULL, 0, 0, 0, NULL, 0}, /* zc-qr (qrlogin.c) */
  {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Headers on every answer, static or not. */
static const struct lws_protocol_vhost_options g_hdr_ref = {NULL, NULL, "referrer-policy:", "same-origin"};
static const struct lws_protocol_vhost_options g_hdr_frame = {&g_hdr_ref, NULL, "x-frame-options:", "DENY"};
static const struct lws_protocol_vhost_options g_hdr_csp = {&g_hdr_frame, NULL, "content-security-policy:",
  "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'"};
static const struct lws_protocol_vhost_options g_hdr_nosniff = {&g_hdr_csp, NULL, "x-content-type-options:", "nosniff"};

int server_run(zc_node *p) {
  struct lws_context_creation_info info;
  struct lws_http_mount mApi; /* anything else is a file of the web root: serve_static */
  g_node = p;
  g_protocols[1] = g_live_protocol;
  g_protocols[2] = g_qr_protocol;
  conns_init();
  live_set_node(p);

  memset(&mApi, 0, sizeof mApi);
  mApi.mountpoint = "/api";
  mApi.mountpoint_len = 4;
  mApi.origin = "zc-http";
  mApi.protocol = "zc-http";
  mApi.origin_protocol = LWSMPRO_CALLBACK;

  memset(&info, 0, sizeof info);
  info.port = p->cfg.iPort;
  info.iface = p->cfg.zBind[0] ? p->cfg.zBind : "127.0.0.1";
  info.protocols = g_protocols;
  info.mounts = &mApi;
  info.headers = &g_hdr_nosniff;
  info.keepalive_timeout = 15;
  info.timeout_secs_ah_idle = CONNS_HEADER_SECS;
  /* Room for long cookies and URLs, so that they get a 4xx rather than a dropped connection. */
  info.max_http_header_data = CONNS_HEADER_BYTES;
  info.timeout_secs = 15; /* e.g. between parts of a body */
  info.vhost_name = p->cfg.zNode;
  /* A browser's WebSocket that has gone quiet (a phone that lost its network, a laptop
   * shut) is pinged, and closed when it answers nothing: its slot and socket come back. */
  g_idle.secs_since_valid_ping = (uint16_t)p->cfg.iWsPingSecs;
  g_idle.secs_since_valid_hangup = (uint16_t)(2 * p->cfg.iWsPingSecs);
  info.retry_and_idle_policy = &g_idle;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* the federation's vhost (fedlink.c) speaks TLS */

  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
  g_ctx = lws_create_context(&info);
  if (!g_ctx) {
    fprintf(stderr, "zc-node: cannot listen on %s:%d\n", info.iface, info.port);
    return -1;
  }
  if (worker_start(2, wake_loop, g_ctx) || logwriter_start(p, wake_loop, g_ctx) || fedlink_start(p, g_ctx)) {
    fedlink_stop();
    logwriter_stop();
    worker_stop();
    lws_context_destroy(g_ctx);
    return -1;
  }
  fedcall_start(p, g_ctx, g_fedMethods);
  claims_start(p, g_ctx);
  handoff_start(p, g_ctx);
  transfer_start(p, g_ctx);
  if (sender_start(p, wake_loop, g_ctx)) fprintf(stderr, "zc-node: cannot start the mail thread: e-mail waits\n");
  fprintf(stderr, "zc-node %s (%s) listening on http://%s:%d\n", p->cfg.zNode, p->zName,
          info.iface, info.port);
  log_open();
  while (!g_bStop) {
    if (lws_service(g_ctx, 0) < 0) break;
    logwriter_poll(p); /* entries this turn committed go to the log */
    fedlink_poll(p);    /* and what the log holds now, to the peers */
    sender_flush(p);    /* notifications of what changed, mail to send and sent */
    fflush(g_log); /* what this turn logged, in one write; nothing when it logged nothing */
  }
  log_close();
  claims_stop();
  sender_stop();
  handoff_stop();
  transfer_stop();
  fedcall_stop();
  fedlink_stop();
  logwriter_stop();
  worker_stop();
  form_pdf_shutdown(); /* the workers that rendered forms are gone */
  lws_context_destroy(g_ctx);
  g_ctx = NULL;
  conn_pool_drain(); /* after the context: closing its connections frees their records */
  fprintf(stderr, "zc-node %s stopped\n", p->cfg.zNode);
  return 0;
}
