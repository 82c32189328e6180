/* entries.h - THE table of federation entry types a node emits: name, version (`v`) and
 * what the body carries. outbox_record refuses a type not listed here; the appliers of
 * received entries (the next step) hang off the same table. Bodies carry ids, usernames,
 * roles, home nodes, statuses, keyed digests (id_digest, phone_digest) and the names of
 * units and committees; never a password hash, a clear ID number, an account's phone
 * number or e-mail, or a session token: personal data travels only over the encrypted
 * channel, to the nodes that need it (DESIGN.md). */
#ifndef ZC_ENTRIES_H
#define ZC_ENTRIES_H

#include "apply.h"
#include "node.h"

typedef struct zc_entry_type {
  const char *zType; /* "account.registered" */
  int v;             /* the body's version */
  const char *zBody; /* what the body carries, for readers and `zc-admin routes` */
  fed_apply_fn xApply; /* applies another origin's entry of this type here (NULL: nothing to do here
                        * yet: stored, relayed and left unapplied until a handler exists) */
} zc_entry_type;

extern const zc_entry_type g_entryTypes[];
extern const int g_nEntryTypes;

/* The listed type named zType, or NULL. */
const zc_entry_type *entry_type_find(const char *zType);

/* Register every listed xApply with the federation layer (apply.h), context p. */
int entries_register_appliers(zc_node *p);

#endif
