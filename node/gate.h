/* gate.h - what the server refuses as soon as a request's headers are in, before any
 * handler (static or API) sees it: ambiguous framing (Content-Length with
 * Transfer-Encoding, a negative, non-numeric, oversized or repeated Content-Length, a body
 * without a length), a body pipelined behind another request, and every WebSocket upgrade
 * but an authenticated zc-live one. Each refusal is a status, a code and a Chinese message
 * for the error envelope; the connection is closed after it. */
#ifndef ZC_GATE_H
#define ZC_GATE_H

#include "http.h"

struct lws;

typedef struct gate_refusal {
  int status;
  const char *zCode;
  const char *zMsg;
} gate_refusal;

/* LWS_CALLBACK_FILTER_HTTP_CONNECTION: 0 to let the request in; -1 with *pOut filled. */
int gate_request(struct lws *wsi, long nMaxBody, gate_refusal *pOut);
/* The request's Content-Length once gate_request has let it in (0 when absent). */
long gate_content_length(struct lws *wsi);

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE (zUpgrade: the Upgrade header): 0 to let the upgrade
 * go on; -1 with the error answer in r (http_error). */
int gate_upgrade(struct lws *wsi, const char *zUpgrade, zc_req *r);

#endif
