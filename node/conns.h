/* conns.h - connection accounting for the server: how many connections each peer address
 * holds and how many there are in all, both capped (the global cap sits below the file
 * descriptor limit, so that a refusal can still be answered), and per connection how many
 * bytes the server has read from its socket (server.c uses it to see pipelined requests). */
#ifndef ZC_CONNS_H
#define ZC_CONNS_H

#include <stddef.h>
#include <stdint.h>

#define CONNS_PER_ADDR 256        /* connections one peer address may hold at once */
#define CONNS_HEADER_BYTES 16384  /* a request's header block (lws max_http_header_data) */
#define CONNS_HEADER_SECS 5       /* a request's header block must arrive within this */

struct lws;

/* Work out the caps from RLIMIT_NOFILE; once, before the server listens. */
void conns_init(void);
/* A socket just accepted (LWS_CALLBACK_FILTER_NETWORK_CONNECTION): 0 to take it; -1 when
 * its address or the node is at the cap, after a 503 in the error envelope was sent on
 * it (lws then closes it). */
int conns_admit(int fd);
/* The life of an accepted connection (LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED /
 * LWS_CALLBACK_WSI_DESTROY). */
void conns_opened(struct lws *wsi);
void conns_closed(struct lws *wsi);

/* The input of a request on this connection has been read whole: remember how many bytes
 * the server had read from the socket by then. */
void conns_mark_input_end(struct lws *wsi);
/* A request's headers reached the gate (it is being answered, or became a WebSocket). */
void conns_headers_seen(struct lws *wsi);
/* The server handed n bytes to lws_write: its own, not a refusal lws wrote by itself. */
void conns_wrote(struct lws *wsi, size_t n);
/* lws wrote on the server's behalf (a file it served): what the socket has taken so far
 * is the server's own. One getsockopt; conns_wrote costs none, so answers use that. */
void conns_sync_written(struct lws *wsi);
/* The connection is being closed (HTTP_DROP_PROTOCOL from __lws_close_free_wsi, before
 * lws shuts the socket): when bytes of a request came in that never reached the gate,
 * lws's parser refused them or they came too slowly, and lws closes without a word; answer
 * 431, 408 or 400 in the error envelope on the socket instead. */
void conns_answer_unparsed(struct lws *wsi);
/* Were the bytes in lws's hands when the previous request's input ended (no read from the
 * socket since the mark)? Then a request whose headers just completed was pipelined. */
int conns_nothing_read_since_mark(struct lws *wsi);

/* Connections open now (for tests and logs). */
int conns_count(void);
/* The connection's peer address as noted when it was accepted (IPv4-mapped IPv6 as IPv4):
 * a keep-alive connection's requests need no getpeername(2) each. */
void conns_peer(struct lws *wsi, char *z, size_t n);

#endif
