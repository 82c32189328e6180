/* server.h - the node's libwebsockets server: the portal's files (static.c), the JSON API under
 * /api/v1 (router.h), later the live-update and federation WebSockets. One event loop. */
#ifndef ZC_SERVER_H
#define ZC_SERVER_H

#include "node.h"

/* Serve until server_stop() (async-signal-safe) is called. 0 on a clean stop. */
int server_run(zc_node *p);
void server_stop(void);
/* SIGHUP (async-signal-safe): read the manifest and key files again (trust.h). */
void server_reload(void);

/* Our cookies alone ("zc_session=…; zc_device=…", those present) from a request's
 * headers into z, or "". */
struct lws;
void server_session_cookie(struct lws *wsi, char *z, size_t n);

#endif
