/* replicas.h - appliers of other nodes' account, unit and committee entries (entries.c): each node
 * holds every account and unit of the federation, those of other homes as replicas
 * without secrets (no password hash, no clear ID number, phone or e-mail), so that an
 * account logs in at any node (its home checks the password: remote_login.h) and a unit
 * of one node can be named at another. Rows that collide with local ones are reported
 * (alert "collision") and skipped, never a stop of replication. */
#ifndef ZC_REPLICAS_H
#define ZC_REPLICAS_H

#include "apply.h"

int replicas_apply_account(void *pCtx, const fed_entry_view *e);         /* account.registered */
int replicas_apply_account_updated(void *pCtx, const fed_entry_view *e); /* account.updated */
int replicas_apply_credentials(void *pCtx, const fed_entry_view *e);     /* account.credentials: sessions end */
int replicas_apply_unit(void *pCtx, const fed_entry_view *e);            /* unit.registered */
int replicas_apply_unit_renamed(void *pCtx, const fed_entry_view *e);    /* unit.renamed */
int replicas_apply_committee(void *pCtx, const fed_entry_view *e);      /* committee.updated: its node's terms */

#endif
