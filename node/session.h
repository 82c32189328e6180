/* session.h - logins that last: random 256-bit tokens in an HttpOnly SameSite cookie,
 * stored only as their SHA-256, each with its CSRF token; and the limits on failed
 * logins per account and per address. */
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

/* Failed logins. Limits: per account 5 failures in 15 minutes, per address 20; a blocked
 * key stays blocked until its window ends. Kept in memory: a restart forgets them. */
#define LOGIN_WINDOW (15 * 60)
#define LOGIN_MAX_PER_ACCOUNT 5
#define LOGIN_MAX_PER_ADDRESS 20
/* Seconds until zKind:zKey may try again, 0 when allowed now. */
long ratelimit_wait(const char *zKind, const char *zKey, time_t now);
void ratelimit_fail(const char *zKind, const char *zKey, time_t now);
void ratelimit_clear(const char *zKind, const char *zKey);
/* A password check for account key zKey starts (0) or one is already running (-1);
 * ratelimit_leave() when it ends. */
int ratelimit_enter(const char *zKey, time_t now);
void ratelimit_leave(const char *zKey);

#endif
