/* session.h - logins that last: random 256-bit tokens in an HttpOnly SameSite cookie,
 * stored only as their SHA-256, each with its CSRF token; and the device cookies that
 * give a browser its own budget of failed logins (the limits themselves: limiter.h). */
#ifndef ZC_SESSION_H
#define ZC_SESSION_H

#include "http.h"

#define SESSION_COOKIE "zc_session"
#define SESSION_TTL (12 * 3600)  /* absolute lifetime, seconds */
#define SESSION_IDLE (2 * 3600)  /* ends after this long unused */

/* Fill r->pSess from the cookie when it names a live session; 0 either way. */
int session_load(zc_req *r);
/* Open a session for zAccount: row, Set-Cookie header, r->pSess filled (csrf inside). */
int session_open(zc_req *r, const char *zAccount);
/* End the caller's session and clear the cookie. */
int session_close(zc_req *r);
/* End every session of zAccount except the one with zKeepHash (may be NULL). */
int session_end_others(zc_node *p, const char *zAccount, const char *zKeepHash);

/* Set-Cookie zName=zValue for zPath: HttpOnly, SameSite=Lax, and Secure when the node
 * is configured for HTTPS (--secure-cookies). nMaxAge 0 removes the cookie. */
void session_set_cookie(zc_req *r, const char *zName, const char *zValue, const char *zPath, int nMaxAge);

/* Device cookies: a browser that logged in to an account gets its own budget of failed
 * logins for it (limiter.h), so that attackers elsewhere cannot lock it out. Only sent
 * with logins (its path); bound to the account by an HMAC under the node's key. */
#define DEVICE_COOKIE "zc_device"
#define DEVICE_COOKIE_PATH "/api/v1/session"
#define DEVICE_TTL (180 * 24 * 3600)
/* 扫码登录's binding (qrlogin.h): the secret of the browser that asked for a code. */
#define QR_COOKIE "zc_qr"
#define QR_COOKIE_PATH "/api/v1/qr-login"
/* Set a new device cookie for zAccount (after a successful login). */
int session_device_issue(zc_req *r, const char *zAccount);
/* 1 with the device's id in zIdOut when the request carries a valid, unexpired device
 * cookie of zAccount; else 0 (zIdOut ""). */
int session_device_of(const zc_req *r, const char *zAccount, char zIdOut[33]);

#endif
