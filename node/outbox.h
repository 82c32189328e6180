/* outbox.h - the one way a node records a change other nodes must learn of: the entry is
 * written in the same sqlite transaction as the change itself (a transactional outbox),
 * so a crash can lose neither half. The log writer (federation/) later moves outbox rows
 * into the signed log in order. Bodies never carry a password hash or a clear ID number. */
#ifndef ZC_OUTBOX_H
#define ZC_OUTBOX_H

#include <jansson.h>
#include "node.h"

/* Record an entry of zType ("account.registered", ...) with pBody (stolen). Must be
 * called inside the transaction that makes the change. 0 on success. */
int outbox_record(zc_node *p, const char *zType, json_t *pBody);

#endif
