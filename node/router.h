/* router.h - where a request goes. Routes are one table (routes.c): method, path pattern
 * with {param} segments, handler, the roles allowed and how the body is read. The router
 * runs the same steps for every request, in this order: match, session, CSRF (any non-GET
 * carrying a live session), login, role, body, then the handler inside one transaction
 * that is rolled back on any 4xx/5xx.
 */
#ifndef ZC_ROUTER_H
#define ZC_ROUTER_H

#include "http.h"

/* Roles, one per account (DESIGN.md). ROLE_ANY_USER: any logged-in account. */
enum zc_role {
  ROLE_APPLICANT = 1 << 0,
  ROLE_UNIT_ADMIN = 1 << 1,
  ROLE_DEPT_ADMIN = 1 << 2,
  ROLE_COMMITTEE_ADMIN = 1 << 3,
  ROLE_NODE_ADMIN = 1 << 4,
  ROLE_AUDITOR = 1 << 5,
};
#define ROLE_ANYONE 0 /* no login needed */
#define ROLE_ANY_USER (ROLE_APPLICANT | ROLE_UNIT_ADMIN | ROLE_DEPT_ADMIN | \
                       ROLE_COMMITTEE_ADMIN | ROLE_NODE_ADMIN | ROLE_AUDITOR)
#define ROLE_REVIEWER (ROLE_UNIT_ADMIN | ROLE_DEPT_ADMIN | ROLE_COMMITTEE_ADMIN)

/* How the body is taken. */
enum zc_body { BODY_NONE = 0, BODY_JSON = 1, BODY_RAW = 2 /* up to BLOB_MAX */ };

typedef int (*zc_handler)(zc_req *r);

typedef struct zc_route {
  int method;
  const char *zPattern; /* "/applications/{id}/submit" */
  zc_handler xHandler;
  unsigned roles;       /* ROLE_ANYONE or a mask of enum zc_role */
  int body;             /* enum zc_body */
  /* What a successful non-GET call records for the federation (outbox.c): the entry
   * types it emits, space-separated (entries.c), a type ending in '?' only when the call
   * needs it (a claim the registrar logs when this node is it, a hand-off when the next
   * reviewer is elsewhere), or NULL with zLocal saying why the change stays on this node.
   * Written with EMITS() or LOCAL(); GET routes leave both. */
  const char *zEntries;
  const char *zLocal;
} zc_route;
#define EMITS(zTypes) zTypes, NULL
#define LOCAL(zWhy) NULL, zWhy
#define READS NULL, NULL /* a GET changes nothing */

/* Role names as the API and database spell them. */
const char *role_name(unsigned role);
unsigned role_from_name(const char *zName); /* 0 when unknown */
const char *role_label(unsigned role);       /* "申请人", ... */

/* Find the route for method + path; fills r->aParam. NULL when none; *pbPathKnown tells
 * whether the path exists for another method (405 rather than 404). */
const zc_route *router_match(zc_req *r, int *pbPathKnown);
/* Largest body the matched route accepts (0 when it takes none). */
long router_body_limit(const zc_node *p, const zc_route *pRoute);
/* Run every step for a request whose body has been read; fills r's answer.
 * Returns HTTP_PENDING when a handler deferred its answer. */
int router_dispatch(zc_req *r);

/* Would the caller (by session cookie) be let in by the route's roles? */
int router_may_call(zc_req *r);

/* Run xRun(r, pArg) as router_dispatch runs a handler: in one transaction for any
 * method but GET, rolled back unless the answer is a success (worker.c resumes with it). */
int router_run(zc_req *r, int (*xRun)(zc_req *, void *), void *pArg);

/* The route table, in routes.c. */
extern const zc_route g_routes[];
extern const int g_nRoutes;

#endif
