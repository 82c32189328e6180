/* fedlink.h - replication: this node's links to the other nodes of the federation, over
 * wss:// (TLS) on the node's federation port, WebSocket subprotocol zc-fed.1.
 *
 * Every pair of nodes keeps one link: the node whose id sorts first dials, the other
 * accepts; a dial that fails is retried with exponential backoff and jitter, and an idle
 * link is pinged (lws's retry and idle policy). The dialer checks the acceptor's TLS
 * certificate against the federation's root and the pin the manifest lists; then both
 * prove their node key (fedwire.h). A peer not in the manifest, with a wrong key or a bad
 * signature, is refused and logged. The HTTP port never speaks zc-fed.1.
 *
 * Messages are JSON text frames {"t": ...}:
 *   heads     {"heads":{"<origin>":[seq,"<hash>"],..}}  what the sender holds; sent when
 *             the link comes up and whenever its heads change (at most once a second)
 *   want      {"origin","from"}  send me origin's entries from seq `from` on, and keep
 *             sending as they come (catch-up then live push, one cursor per origin)
 *   stop      {"origin"}  no more of that origin on this link
 *   entries   {"origin","from","items":[["<entry.json>","<sig hex>"],..]}  at most
 *             FEDLINK_BATCH entries, contiguous
 *   ack       {"origin","seq"}  stored up to seq: the sender may send the next batch
 *   checkpoint {"json","sig"}  the sender's signed checkpoint of its heads (checkpoint.h):
 *             made within CHECKPOINT_SECS of a change, and every CHECKPOINT_IDLE_SECS
 *             when idle; verified, compared with what we hold (a different hash at a
 *             seq we hold raises a checkpoint_mismatch alert) and kept in our log under
 *             refs/checkpoints/<node>, where zc-audit compares every node's checkpoints
 *             with every copy
 *   manifest  {"json","sig"}  the sender's edition of the signed manifest (trust.h), first
 *             as the link comes up and again when it changes: taken when the region's
 *             root signed it and it was issued after ours, then passed on to every link,
 *             so that a rotated key reaches every running node
 *   call, reply  a call to a method of the peer and its answer (fedcall.h)
 *   refused   {"code","message"}  then the link closes
 * Back-pressure: at most FEDLINK_WINDOW unacknowledged batches per (link, origin), read
 * from sqlite only when the link is writeable; nothing is buffered beyond that (the
 * receiver verifies one batch while the next is on its way). Any node serves any origin's
 * entries (they are self-authenticating): a node pulls each origin from one link, the
 * origin's own when it is up, else the peer with the highest head (so a prefecture that
 * cannot reach another catches up through the region). A received batch is verified and
 * stored by the log writer (logwriter_receive) before it is acknowledged. Heads of a peer
 * that disagree with ours at a seq we hold (a different hash) raise an equivocation
 * alert; an entry that does is refused by the log, kept as evidence. */
#ifndef ZC_FEDLINK_H
#define ZC_FEDLINK_H

#include <jansson.h>
#include <libwebsockets.h>

#include "node.h"

#define FEDLINK_BATCH 2000           /* entries per frame */
#define FEDLINK_WINDOW 2             /* unacknowledged batches per (link, origin) */
#define FEDLINK_RECOVER_SECS 30      /* at start, how long to wait for a peer to check our log */
#define FEDLINK_FRAME_MAX (16 << 20) /* bytes of one received message */

/* Create the federation vhost on ctx (listening on cfg.iFedPort, TLS) and start dialing
 * the peers. Nothing when the node has no manifest or no federation port. 0 or -1. */
int fedlink_start(zc_node *p, struct lws_context *ctx);
void fedlink_stop(void);

/* Once per turn of the event loop: our heads may have changed (new entries, own or
 * received): tell the links. */
void fedlink_poll(zc_node *p);

/* A newer edition of the manifest was taken (trust_install): peers' addresses and pins
 * from it, and it goes to every link. */
struct zc_trust;
void fedlink_trust(const struct zc_trust *t);

/* Send v (stolen) to node zNode on its link, the link's id in *piLink: 0, or -1 when no
 * authenticated link to it is up. fedlink_send_on: on link iLink (a reply), -1 when it
 * is gone. For fedcall.c; calls and replies arrive at fedcall_on_message. */
int fedlink_send_to(const char *zNode, json_t *v, unsigned long long *piLink);
int fedlink_send_on(unsigned long long iLink, json_t *v);

/* The id of the authenticated link up to node zNode now, 0 when none. */
unsigned long long fedlink_current(const char *zNode);

/* GET /fed/status's "peers": per peer its state, what it last reported, lag, last
 * contact (a new array). */
json_t *fedlink_status(zc_node *p);

#endif
