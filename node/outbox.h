/* outbox.h - the one way a node records a change other nodes must learn of: the entry is
 * built and written in the same sqlite transaction as the change itself (a transactional
 * outbox), so a crash can lose neither half. The log writer (federation/) later signs the
 * stored bytes and moves them into the signed log in order. Entry types and what their
 * bodies carry: entries.c; which route emits which: routes.c. */
#ifndef ZC_OUTBOX_H
#define ZC_OUTBOX_H

#include <jansson.h>
#include "node.h"

/* Record an entry of zType (listed in entries.c) with pBody (stolen): its canonical
 * bytes with origin, seq, prev, ts, key and v, state 'built'. Must be called inside the
 * transaction that makes the change (asserted; -1 in a release build). 0 on success and
 * the entry's seq in *pSeq (pSeq may be NULL). */
int outbox_record(zc_node *p, const char *zType, json_t *pBody, sqlite3_int64 *pSeq);

/* An entry of our own that a peer held and we did not (a node restored from an older
 * backup, fedlink.c): recorded as logged at its seq, so that the next entry follows it.
 * Inside a transaction. 0 when recorded or already there with the same bytes; -1 when the
 * outbox holds different bytes at that seq (never overwritten) or the entry is malformed. */
int outbox_adopt(zc_node *p, sqlite3_int64 seq, const char *zEntry, size_t nEntry, const char *zHash);

/* Build the bytes of outbox rows written before schema 004 (node_open, once). 0 on success. */
int outbox_build_legacy(zc_node *p);

#endif
