/* logwriter.h - the log writer: moves this node's outbox (outbox.h) into its signed log,
 * DATA/fedlog.git, ref refs/fed/<node> (federation/fedlog.h).
 *
 * Rows in state 'built' are signed with the node's key, in seq order, and appended in
 * batches (everything pending, up to LOGWRITER_BATCH entries per append: fedlog fsyncs
 * once per append) on a thread of the writer's own, which reads the outbox on a
 * read-only connection of its own; the event loop then marks them 'logged' in one
 * transaction. At most one append is in flight. It runs after each turn of the event loop
 * in which an entry was recorded (outbox_record calls logwriter_notify), at start, and
 * every LOGWRITER_TICK_SECS so that nothing waits forever (a failed append is retried).
 *
 * At start the writer first reconciles: every entry git holds for this origin must be
 * the outbox row of its seq, byte for byte (same SHA-256). Rows the log already holds
 * (a crash between the append and the mark) become 'logged'; rows marked 'logged' that
 * the log lacks (a log restored from an older copy) become 'built' again and are
 * appended. A different entry at a seq of ours, or an entry beyond the outbox, would make
 * the next append equivocation: the writer then refuses to extend the log, says so on
 * stderr and in GET /fed/status (alerts), until an operator repairs it.
 *
 * A node run without a manifest has no key and no log: the writer does not start, its
 * entries (key "") stay 'built'. A row with key "" met by a node that has a manifest is
 * refused by the log (no such key): the writer reports it and stops there. */
#ifndef ZC_LOGWRITER_H
#define ZC_LOGWRITER_H

#include <jansson.h>

#include "fedlog.h"
#include "http.h"
#include "node.h"

#define LOGWRITER_BATCH 10000
#define LOGWRITER_TICK_SECS 2

/* Entries of one origin, contiguous from iFirst, with copies of their bytes and
 * signatures: what the writer appends, what replication hands over. */
typedef struct zc_batch {
  struct zc_batch *pNext;   /* the queue of received batches */
  char zOrigin[16];
  long long iFirst;
  size_t n, nAlloc;
  fed_log_entry *a;         /* a[i] points into azJson[i] and aSig[i] */
  unsigned char (*aSig)[FED_SIG_SIZE];
  char **azJson;
  unsigned long long iToken; /* who sent it (replication's link id) */
  int bCheckpoint;           /* not entries: one checkpoint of node zOrigin (checkpoint.h), a[0] */
} zc_batch;

/* Add a copy of one entry; -1 when out of memory. */
int zc_batch_add(zc_batch *b, const char *zJson, size_t nJson, const unsigned char *aSig);
void zc_batch_free(zc_batch *b); /* its contents; the struct itself stays the caller's */

/* Received entries (a malloc'd batch, taken over): verified and stored by the thread
 * (fedlog_append), then on the loop put into fed_entries and applied once (apply.h), in
 * the order handed over. When done, the callback hears how it went: rc FED_OK and the
 * last seq stored, or the refusal (FED_EEQUIVOCATION: evidence kept in DATA/evidence/,
 * an alert raised) with the seq refused. */
typedef void (*logwriter_received_fn)(unsigned long long iToken, const char *zOrigin, long long iSeq, int rc,
                                      const char *zMessage);
void logwriter_on_received(logwriter_received_fn x);
void logwriter_receive(zc_batch *b);

/* A newer edition of the manifest and keys (trust.h): the thread takes it before its next
 * job (signing, verifying received entries). The edition must outlive the writer. */
struct zc_trust;
void logwriter_trust(const struct zc_trust *t);

/* A signed checkpoint of node zNode (ours or a peer's, verified): stored in the log as
 * refs/checkpoints/<node> (fedlog_checkpoint_put), in turn with received batches. */
void logwriter_checkpoint(const char *zNode, const char *zJson, size_t nJson, const unsigned char *aSig);

/* An alert for GET /fed/status (and stderr), once per (code, origin, seq). */
void logwriter_alert(const char *zCode, const char *zOrigin, long long iSeq, const char *zMessage);

/* Grows whenever fed_entries and fed_heads changed: replication compares it. */
unsigned long long logwriter_generation(void);

/* The writer has reconciled and filled fed_entries from git: replication may serve. */
int logwriter_ready(void);

/* Open DATA/fedlog.git and start the writer's thread (nothing when p has no manifest).
 * xWake(pWakeArg) wakes the event loop from the thread (lws_cancel_service). 0 on
 * success; -1 with a message on stderr (e.g. another process holds the log). */
int logwriter_start(zc_node *p, void (*xWake)(void *), void *pWakeArg);
void logwriter_stop(void);

/* A committed or pending change recorded an entry: cheap, any thread of the loop. */
void logwriter_notify(void);

/* On the event loop, once per turn: apply what the thread finished, start the next append
 * when rows wait and none is in flight. */
void logwriter_poll(zc_node *p);

/* What GET /fed/status shows of this node's own log (a new object). */
json_t *logwriter_status(zc_node *p);
/* GET /api/v1/fed/status (routes.c): that, for node admins and auditors. */
int logwriter_status_get(zc_req *r);

#endif
