/* remote_login.h - an account logs in at any node: where it is not at home, the node
 * asks the account's home over the federation channel ("login.check", fedcall.h) to check
 * the password (the hash never leaves home) and opens a session of its own on a yes.
 * The home counts the attempt in its own limiter (limiter.h), with the client's address
 * as the node saw it, so that spreading guesses over nodes buys no extra tries. A yes
 * carries the home's count of password changes (cred_epoch): a node that already knows of
 * a newer change refuses it. With the home unreachable: 503 `home_unavailable`. */
#ifndef ZC_REMOTE_LOGIN_H
#define ZC_REMOTE_LOGIN_H

#include <jansson.h>

#include "fedcall.h"
#include "http.h"

/* POST /session for zAccount, at home at zHome: HTTP_PENDING (or the answer). */
int remote_login(zc_req *r, const char *zAccount, const char *zHome, const char *zPassword);

/* The home's side: {"account","password","address","device"} -> {"ok":bool,"epoch":N},
 * {"blocked":seconds} or {"in_flight":true}. */
int remote_login_serve(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);

#endif
