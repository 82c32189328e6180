/* qrlogin.h - 扫码登录: a desktop browser asks for a code (POST /qr-login) and shows it as a
 * QR code; a phone already logged in to this node opens the URL it holds, sees which
 * browser and region asks, and approves or refuses (POST /qr-login/{code}/decision, its
 * session and CSRF token); the desktop, waiting on WS /ws/qr (subprotocol "zc-qr",
 * authenticated by the pending code alone), hears of it and only then takes its own
 * session by an ordinary request (POST /qr-login/{code}/session) that carries the secret
 * cookie it got with the code. A code lives two minutes and is used once. */
#ifndef ZC_QRLOGIN_H
#define ZC_QRLOGIN_H

#include "http.h"

#define QR_TTL 120 /* seconds a code lives */

int qrlogin_create(zc_req *r);   /* POST /qr-login */
int qrlogin_png(zc_req *r);      /* GET /qr-login/{code}/qr.png */
int qrlogin_get(zc_req *r);      /* GET /qr-login/{code} (the phone) */
int qrlogin_decide(zc_req *r);   /* POST /qr-login/{code}/decision {"approve"} (the phone) */
int qrlogin_session(zc_req *r);  /* POST /qr-login/{code}/session (the desktop) */

/* A decision committed (a live.c event {"type":"qr","code","state"}): tell the desktop. */
void qrlogin_deliver(const json_t *e);

/* The WebSocket side for gate.c's upgrade rules and server.c's protocol list. */
struct lws;
int qrlogin_check_upgrade(struct lws *wsi, zc_req *r);
struct lws_protocols;
extern const struct lws_protocols g_qr_protocol;

#endif
