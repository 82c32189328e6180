/* routes.c - every API endpoint: where a request under /api/v1 goes, who may call it and
 * how its body is read. The one table a newcomer reads to find a handler. */
#include "router.h"

#include "accounts.h"
#include "refdata.h"
#include "units.h"

const zc_route g_routes[] = {
  /* reference data */
  {HTTP_GET, "/health", refdata_health, ROLE_ANYONE, BODY_NONE},
  {HTTP_GET, "/federation", refdata_federation, ROLE_ANYONE, BODY_NONE},
  {HTTP_GET, "/catalog", refdata_catalog, ROLE_ANYONE, BODY_NONE},
  {HTTP_GET, "/depts", refdata_depts, ROLE_ANYONE, BODY_NONE},

  /* accounts and sessions */
  {HTTP_POST, "/accounts", accounts_register, ROLE_ANYONE, BODY_JSON},
  {HTTP_GET, "/accounts", accounts_list, ROLE_NODE_ADMIN, BODY_NONE},
  {HTTP_GET, "/accounts/{id}/idcard", accounts_idcard_admin, ROLE_NODE_ADMIN, BODY_NONE},
  {HTTP_POST, "/session", accounts_login, ROLE_ANYONE, BODY_JSON},
  {HTTP_DELETE, "/session", accounts_logout, ROLE_ANY_USER, BODY_NONE},
  {HTTP_GET, "/me", accounts_me, ROLE_ANY_USER, BODY_NONE},
  {HTTP_PUT, "/me", accounts_update_me, ROLE_ANY_USER, BODY_JSON},
  {HTTP_POST, "/me/password", accounts_password, ROLE_ANY_USER, BODY_JSON},
  {HTTP_POST, "/me/idcard", accounts_idcard_put, ROLE_APPLICANT, BODY_RAW},
  {HTTP_GET, "/me/idcard", accounts_idcard_get, ROLE_APPLICANT, BODY_NONE},

  /* basic units */
  {HTTP_POST, "/units", units_register, ROLE_ANYONE, BODY_JSON},
  {HTTP_GET, "/units", units_search, ROLE_ANY_USER, BODY_NONE},
  {HTTP_GET, "/units/me", units_me, ROLE_UNIT_ADMIN, BODY_NONE},
  {HTTP_PUT, "/units/me", units_update_me, ROLE_UNIT_ADMIN, BODY_JSON},
  {HTTP_POST, "/units/me/rename", units_rename, ROLE_UNIT_ADMIN, BODY_JSON},
  {HTTP_PUT, "/units/me/recommenders", units_recommenders, ROLE_UNIT_ADMIN, BODY_JSON},
};

const int g_nRoutes = (int)(sizeof g_routes / sizeof g_routes[0]);
