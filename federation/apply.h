/* apply.h - how received entries reach the node's state: the node registers one handler
 * per entry type and version it understands; the federation layer looks them up.
 *
 * federation/ knows nothing of the node's database: a handler gets the entry (its origin,
 * seq, type, v and parsed body) and the context the node registered with it, and says:
 *   FED_OK          applied (the caller records it as applied in the same transaction)
 *   FED_EAGAIN      not yet: it refers to something not seen yet; tried again later
 *   anything else   the entry cannot be applied here (kept, reported, not retried)
 * An entry whose (type, v) has no handler is stored and relayed like any other and stays
 * unapplied until a node that knows it (after an upgrade) applies it at start. */
#ifndef ZC_FED_APPLY_H
#define ZC_FED_APPLY_H

#include <jansson.h>

#define FED_EAGAIN (-20) /* apply later (apply.h); outside the fed_error.h range on purpose */
#define FED_APPLY_MAX 64  /* handlers one node may register */

typedef struct fed_entry_view {
  const char *zOrigin;
  long long iSeq;
  const char *zType;
  int v;
  const char *zTs;
  json_t *pBody; /* borrowed */
} fed_entry_view;

typedef int (*fed_apply_fn)(void *pCtx, const fed_entry_view *e);

/* Register xApply for (zType, v); zType must outlive the registry (a literal). A second
 * registration of one (type, v) replaces the first. FED_EINVALID when the table is full. */
int fed_apply_register(const char *zType, int v, fed_apply_fn xApply, void *pCtx);

/* The handler of (zType, v), or NULL (unknown: store, relay, apply later). */
fed_apply_fn fed_apply_find(const char *zType, int v, void **ppCtx);

/* Parse entry.json's bytes into a view (origin, seq, type, v, ts, body): the caller owns
 * *ppDoc (json_decref it), which keeps the view's strings alive. FED_EINVALID when it is
 * not an entry. */
int fed_entry_view_parse(fed_entry_view *out, json_t **ppDoc, const char *zJson, size_t nJson);

/* Apply one entry with its registered handler: FED_ENOTFOUND when none is registered, else
 * what the handler returned. */
int fed_apply(const fed_entry_view *e);

/* The types that have a handler, as a JSON array of strings (malloc'd text, free() it):
 * for a query of the entries that may be applied now. */
char *fed_apply_types_json(void);

void fed_apply_reset(void); /* forget every handler (tests) */

#endif
