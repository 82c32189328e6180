/* live.h - live updates over WebSocket (WS /ws, subprotocol "zc-live"): a logged-in
 * browser hears about status changes of the applications it may see and about new items
 * in its queue without reloading. Events are queued during a request and sent only once
 * its transaction has committed. */
#ifndef ZC_LIVE_H
#define ZC_LIVE_H

#include "http.h"

/* Queue an event about application zId (its state as it is now in the transaction). */
void live_application_changed(zc_req *r, const char *zId);
/* Queue another kind of event e (stolen, with a "type"; e.g. qrlogin.c's "qr"), sent the
 * same way once the transaction commits. */
void live_queue(zc_req *r, json_t *e);
/* Send (bCommitted) or drop the request's queued events. Called by the router. */
void live_flush(zc_req *r, int bCommitted);

/* The same for changes the node makes outside a request (an entry from another node
 * applied, an application taken over): noted inside the transaction, flushed after it. */
void live_node_changed(zc_node *p, const char *zId);
void live_node_flush(int bCommitted);

/* The node whose sessions authenticate sockets (set once by the server). */
void live_set_node(zc_node *p);
zc_node *live_node(void);
/* Close the sockets whose session no longer exists (after a logout or a password
 * change ended sessions). */
void live_revalidate(zc_node *p);
/* May this upgrade request open a zc-live socket (its page's origin, its session)? 0, or
 * -1 with the refusal in r (http_error). Checked before the handshake is answered. */
struct lws;
int live_check_upgrade(struct lws *wsi, zc_req *r);
/* A browser's Origin, when it sends one, is this node's own page (its Host). */
int live_origin_ok(struct lws *wsi);
/* The WebSocket protocol for server.c's protocol list. */
struct lws_protocols;
extern const struct lws_protocols g_live_protocol;

#endif
