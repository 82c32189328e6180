/* gate.c - the server's refusals before any handler (gate.h). Framing is checked for every
 * request, static or API: libwebsockets frames a body by atoll(Content-Length) and ignores
 * Transfer-Encoding, so anything it could read differently from the client (a smuggled
 * request behind a body, or a body taken for the next request) is refused and the
 * connection closed. Upgrades are allowed only by the table below. */
#include "gate.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conns.h"
#include "live.h"
#include "qrlogin.h"

#define CL_MAX_DIGITS 18 /* fits in a long; anything longer is refused before it can wrap */

static int refuse(gate_refusal *pOut, int status, const char *zCode, const char *zMsg) {
  pOut->status = status;
  pOut->zCode = zCode;
  pOut->zMsg = zMsg;
  return -1;
}

/* The Content-Length header: 0 (absent) or its value; -1 when it is not one plain run of
 * digits (negative, signed, spaced, non-numeric, too long) or the header is repeated. */
static long content_length(struct lws *wsi) {
  char z[CL_MAX_DIGITS + 2];
  int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (n <= 0) return 0;
  if (n > CL_MAX_DIGITS || lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, 1) > 0 ||
      lws_hdr_copy(wsi, z, sizeof z, WSI_TOKEN_HTTP_CONTENT_LENGTH) != n)
    return -1;
  for (int i = 0; i < n; i++)
    if (z[i] < '0' || z[i] > '9') return -1;
  return strtol(z, NULL, 10);
}

long gate_content_length(struct lws *wsi) {
  long n = content_length(wsi);
  return n > 0 ? n : 0;
}

static int method_has_body(struct lws *wsi) {
  return lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0 ||
         lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI) > 0;
}

int gate_request(struct lws *wsi, long nMaxBody, gate_refusal *pOut) {
  conns_headers_seen(wsi);
  int bLength = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
  long nLen = content_length(wsi);
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
    return bLength ? refuse(pOut, 400, "bad_framing", "请求不能同时带Content-Length与Transfer-Encoding")
                   : refuse(pOut, 411, "length_required", "请求须带Content-Length（不支持分块传输的请求体）");
  if (nLen < 0) return refuse(pOut, 400, "bad_content_length", "Content-Length须为一个非负整数");
  /* lws would wait for 100 MB of body behind a POST/PUT without a length */
  if (!bLength && method_has_body(wsi)) return refuse(pOut, 411, "length_required", "请求须带Content-Length");
  if (nLen > nMaxBody) return refuse(pOut, 413, "too_large", "请求内容过大");
  /* A body pipelined behind another request in one read: lws 4.1.6 keeps those bytes in
   * the connection's buflist, and lws_http_action() then feeds that buflist from its head,
   * which still holds this request's own headers, to the body parser (the body seen is
   * the request line), and once the transaction completes lws_read_h1() consumes nothing
   * in LRS_DEFERRING_ACTION, so that loop never ends: the event loop spins for good and
   * SIGTERM is never seen. Whatever the callbacks do after this point is wrong (an
   * endless loop, or lws reading the freed buflist segment); only refusing here, before
   * lws_http_action() reaches that loop, is safe. Requests without a body are served. */
  if (nLen > 0 && conns_nothing_read_since_mark(wsi))
    return refuse(pOut, 400, "pipelined_body", "带请求体的请求须等上一个请求的回答到达后再发送");
  if (nLen == 0) conns_mark_input_end(wsi);
  return 0;
}

/* ---- WebSocket upgrades -------------------------------------------------------------- */

typedef struct upgrade_rule {
  const char *zPath;
  const char *zProtocol;
  int (*xCheck)(struct lws *wsi, zc_req *r); /* who may open it: 0, or http_error in r */
} upgrade_rule;

static const upgrade_rule g_aUpgrade[] = {
  {"/ws", "zc-live", live_check_upgrade},
  {"/ws/qr", "zc-qr", qrlogin_check_upgrade},
};

/* Does the client's Sec-WebSocket-Protocol list offer zProtocol, and no protocol of the
 * plain HTTP side (lws picks the first name it knows)? */
static int offers_protocol(struct lws *wsi, const char *zProtocol) {
  char z[256], *zSave = NULL;
  int bFound = 0;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) <= 0 || lws_hdr_copy(wsi, z, sizeof z, WSI_TOKEN_PROTOCOL) < 0)
    return 0;
  for (char *zTok = strtok_r(z, ", \t", &zSave); zTok; zTok = strtok_r(NULL, ", \t", &zSave)) {
    if (strcmp(zTok, "zc-http") == 0) return 0;
    if (strcmp(zTok, zProtocol) == 0) bFound = 1;
  }
  return bFound;
}

int gate_upgrade(struct lws *wsi, const char *zUpgrade, zc_req *r) {
  char zPath[64];
  const upgrade_rule *pRule = NULL;
  conns_headers_seen(wsi);
  if (!zUpgrade || strcasecmp(zUpgrade, "websocket") != 0)
    return http_error(r, 400, "bad_upgrade", "只支持升级为WebSocket"), -1;
  if (lws_hdr_copy(wsi, zPath, sizeof zPath, WSI_TOKEN_GET_URI) <= 0) zPath[0] = 0;
  for (size_t i = 0; i < sizeof g_aUpgrade / sizeof g_aUpgrade[0]; i++)
    if (strcmp(zPath, g_aUpgrade[i].zPath) == 0) pRule = &g_aUpgrade[i];
  if (!pRule) return http_error(r, 404, "not_found", "没有这个WebSocket地址"), -1;
  if (!offers_protocol(wsi, pRule->zProtocol))
    return http_error(r, 400, "bad_subprotocol", "须使用子协议 %s", pRule->zProtocol), -1;
  return pRule->xCheck(wsi, r);
}
