/* claims.h - one ID-card number, one account, federation-wide; and one applicant per
 * mobile number (claimed again when it changes). The region node (ZC_REGION_NODE) is the registrar: a registration at any
 * node becomes final only once the registrar has recorded the claim of the ID number's
 * keyed digest (and of the phone's) in its log (id.claimed). The registrar serializes
 * claims on its event loop, so of two nodes registering one ID at one moment exactly one
 * wins.
 *
 * A claim is matched when its account's account.registered reaches the registrar. One
 * still unmatched after cfg.iClaimCheckSecs (the registering node died between the claim
 * and its own commit, or the reply never reached it) is checked with that node
 * ("claim.check"): a node that never committed the account records it as revoked, so that
 * it never will, and says so; the registrar then releases the claim (id.released) and the
 * ID number can register again. A node's new claim of a digest it claimed before for an
 * account it never committed (a retry after a timeout) replaces the old claim at once.
 * zc-audit matches every claim with its account.
 *
 * Units are claimed the same way: a unit's credit code, full name and short name
 * (unit.claimed, the clear values: they are public), so that no two units anywhere share
 * one; a unit that never committed is released (unit.released). A renamed unit claims its
 * new names and gives up its former ones (unit.claimed without a credit code: the unit's
 * names are now these). */
#ifndef ZC_CLAIMS_H
#define ZC_CLAIMS_H

#include <libwebsockets.h>

#include "fedcall.h"
#include "node.h"

/* Registrar, inside a transaction: claim zIdDigest (and zPhoneDigest, may be NULL) for
 * account zAccount registering at node zNode. 0 claimed (id.claimed recorded, matched at
 * once when zNode is the registrar), 1 taken (*pzField: "id_number" or "phone"), -1 error. */
int claims_take(zc_node *p, const char *zIdDigest, const char *zPhoneDigest, const char *zAccount,
                const char *zNode, const char **pzField);

/* Is this node the registrar? */
int claims_is_registrar(const zc_node *p);

/* Registrar, inside a transaction: the applicant zAccount of node zNode changes its phone
 * to the one of digest zDigest, giving up its former one. 0 claimed (phone.claimed
 * recorded), 1 taken (*pzField "phone"), -1 error. */
int claims_take_phone(zc_node *p, const char *zAccount, const char *zDigest, const char *zNode, const char **pzField);

/* Registrar, inside a transaction: claim unit zUnit's credit code (NULL for a rename: kept;
 * its former names are then given up), name and short name for node zNode. 0 claimed (unit.claimed recorded), 1 taken
 * (*pzField: "credit_code", "name" or "short_name"), -1 error. */
int claims_take_unit(zc_node *p, const char *zUnit, const char *zCode, const char *zName, const char *zShort,
                     const char *zNode, const char **pzField);

/* Registrar: the account.registered (unit.registered, unit.renamed) of zAccount (a unit
 * id) arrived (replicas.c): its claims match. */
int claims_match(zc_node *p, const char *zAccount);

/* Registering node, inside the registration's transaction: may zAccount still be
 * committed? 0 when its claim was revoked meanwhile. */
int claims_usable(zc_node *p, const char *zAccount);

/* The methods: "id.claim", "phone.claim" and "unit.claim" (registrar), "claim.check"
 * (any node). */
int claims_serve_claim(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);
int claims_serve_unit_claim(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);
int claims_serve_phone_claim(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);
int claims_serve_check(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);

/* Registrar: check the unmatched claims now and then (a timer on the event loop). */
void claims_start(zc_node *p, struct lws_context *ctx);
void claims_stop(void);

/* The registering node's side. A change that needs the registrar's claim (a registration,
 * a unit's new name) asks it with method zMethod and pArgs (taken), then commits with
 * xCommit(r, pCtx) inside the request's transaction; a key already held answers through
 * xTaken(r, field); no answer: 503 registrar_unavailable. At the registrar itself, or a
 * node outside any federation, xCommit runs at once (taking the claims itself, at the
 * registrar). pCtx is freed with xFree (may be NULL) in every case. Returns as a handler
 * does (HTTP_PENDING while the registrar is asked). */
typedef int (*claims_commit_fn)(zc_req *r, void *pCtx);
typedef int (*claims_taken_fn)(zc_req *r, const char *zField);
int claims_then(zc_req *r, const char *zMethod, json_t *pArgs, claims_commit_fn xCommit, claims_taken_fn xTaken,
                void *pCtx, void (*xFree)(void *));

/* 503 registrar_unavailable, in Chinese, with Retry-After. */
int claims_unavailable(zc_req *r);

#endif
