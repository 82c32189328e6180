/* test_router.c - unit tests of node/router.c: matching paths to the route table (with
 * {id} captures, a trailing slash, 404 against 405), and router_dispatch on an in-memory
 * node with the real routes and handlers: the CSRF token of a live session, login, role and
 * body checks in that order, and a handler's refusal rolling back everything it wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts.h"
#include "blob.h"
#include "canon.h"
#include "db.h"
#include "entries.h"
#include "http.h"
#include "keys.h"
#include "node.h"
#include "outbox.h"
#include "refdata.h"
#include "router.h"
#include "session.h"
#include "units.h"
#include "worker.h"

#define PASSWORD "Zc!Passw0rd#2026"

/* ---- an in-memory node ---------------------------------------------------------------- */

typedef struct fixture {
  zc_node node;
  char zDir[64];
  int iPeer; /* each request of a test from its own address: the login limits stay apart */
} fixture;

static int setup_node(void **state)
{
  fixture *f = calloc(1, sizeof *f);
  zc_node *p;
  json_t *pAll;

  assert_non_null(f);
  p = &f->node;
  snprintf(f->zDir, sizeof f->zDir, "/tmp/zc-test-router-XXXXXX");
  assert_non_null(mkdtemp(f->zDir));
  snprintf(p->cfg.zNode, sizeof p->cfg.zNode, "650000");
  snprintf(p->cfg.zData, sizeof p->cfg.zData, "%s", f->zDir);
  snprintf(p->cfg.zSchemas, sizeof p->cfg.zSchemas, "schemas");
  snprintf(p->cfg.zWeb, sizeof p->cfg.zWeb, "web");
  p->cfg.nMaxBody = 64 * 1024;
  snprintf(p->zName, sizeof p->zName, "自治区");
  pAll = json_load_file("schemas/regions.json", 0, NULL);
  assert_non_null(pAll);
  p->pRegions = json_incref(json_object_get(pAll, "nodes"));
  json_decref(pAll);
  assert_non_null(p->pRegions);
  memset(p->aPepper, 0x11, sizeof p->aPepper);
  memset(p->aDataKey, 0x22, sizeof p->aDataKey);
  assert_int_equal(db_open(&p->db, ":memory:"), 0);
  assert_int_equal(db_migrate(p->db, "schemas"), 0);
  assert_int_equal(refdata_load(p), 0);
  worker_set_inline(1);
  *state = f;
  return 0;
}

static int teardown_node(void **state)
{
  fixture *f = *state;
  node_close(&f->node);
  rmdir(f->zDir);
  free(f);
  return 0;
}

/* ---- requests ------------------------------------------------------------------------- */

/* A client: the cookie and CSRF token it was given. */
typedef struct client {
  char zCookie[128];
  char zCsrf[128];
} client;

static zc_req *req_new(fixture *f, int method, const char *zPath, const char *zBody)
{
  zc_req *r = calloc(1, sizeof *r);
  assert_non_null(r);
  r->node = &f->node;
  r->method = method;
  snprintf(r->zPath, sizeof r->zPath, "%s", zPath);
  snprintf(r->zPeer, sizeof r->zPeer, "10.9.%d.%d", f->iPeer / 250, f->iPeer % 250 + 1);
  f->iPeer++;
  if (zBody) {
    buf_append(&r->body, zBody, strlen(zBody));
    snprintf(r->zContentType, sizeof r->zContentType, "application/json; charset=utf-8");
  }
  return r;
}

static void req_free(zc_req *r)
{
  http_req_reset(r);
  free(r);
}

static void req_as(zc_req *r, const client *c, int bCsrf)
{
  if (!c) return;
  snprintf(r->zCookie, sizeof r->zCookie, "%s", c->zCookie);
  if (bCsrf) snprintf(r->zCsrf, sizeof r->zCsrf, "%s", c->zCsrf);
}

/* Dispatch and return the status; the answer stays in r. */
static int dispatch(zc_req *r)
{
  int rc = router_dispatch(r);
  assert_int_not_equal(rc, HTTP_PENDING); /* worker_set_inline(1): nothing is deferred */
  assert_true(sqlite3_get_autocommit(r->node->db)); /* no transaction left open */
  return r->status;
}

static json_t *answer(const zc_req *r)
{
  json_t *v = json_loadb(r->out.z ? r->out.z : "", r->out.n, 0, NULL);
  assert_non_null(v);
  return v;
}

/* Does z contain a CJK ideograph (U+4E00..U+9FFF: lead bytes E4..E9 in UTF-8)? */
static int has_cjk(const char *z)
{
  for (; *z; z++)
    if ((unsigned char)z[0] >= 0xE4 && (unsigned char)z[0] <= 0xE9 && z[1] && z[2]) return 1;
  return 0;
}

/* The error code of an answer; checks the envelope {"error":{"code","message"}}. */
static void assert_error(const zc_req *r, int status, const char *zCode)
{
  json_t *v = answer(r), *e;
  const char *zMsg;
  if (r->status != status) fail_msg("status %d, wanted %d: %.*s", r->status, status, (int)r->out.n, r->out.z);
  assert_int_equal(json_object_size(v), 1);
  e = json_object_get(v, "error");
  assert_true(json_is_object(e));
  assert_string_equal(json_string_value(json_object_get(e, "code")), zCode);
  zMsg = json_string_value(json_object_get(e, "message"));
  assert_non_null(zMsg);
  assert_true(strlen(zMsg) > 0);
  assert_true(has_cjk(zMsg));
  json_decref(v);
}

/* Take the session cookie and csrf from a login or registration answer. */
static void take_session(const zc_req *r, client *c)
{
  const char *z = r->outHeaders.z ? strstr(r->outHeaders.z, "Set-Cookie: zc_session=") : NULL;
  json_t *v;
  memset(c, 0, sizeof *c);
  assert_non_null(z);
  z += strlen("Set-Cookie: ");
  snprintf(c->zCookie, sizeof c->zCookie, "%.*s", (int)strcspn(z, ";\r"), z);
  v = answer(r);
  snprintf(c->zCsrf, sizeof c->zCsrf, "%s", json_string_value(json_object_get(v, "csrf")));
  json_decref(v);
  assert_int_equal(strlen(c->zCsrf), 64);
}

/* A valid ID number: 650102 19900101 nnn + check. */
static void make_id(char out[19], int iSeq)
{
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int s = 0;
  snprintf(out, 19, "65010219900101%03d", iSeq % 1000);
  for (int i = 0; i < 17; i++) s += (out[i] - '0') * w[i];
  out[17] = "10X98765432"[s % 11];
  out[18] = 0;
}

/* A valid credit code from a 9-character organisation code. */
static void make_credit_code(char out[19], const char *zOrg)
{
  static const char *zA = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  int s = 0, c;
  snprintf(out, 19, "91650102%.9s", zOrg);
  for (int i = 0; i < 17; i++) s += (int)(strchr(zA, out[i]) - zA) * w[i];
  c = 31 - s % 31;
  out[17] = zA[c == 31 ? 0 : c];
  out[18] = 0;
}

/* Register an applicant through the API; c gets its session. */
static void register_applicant(fixture *f, client *c, int iSeq)
{
  char zBody[512], zId[19];
  zc_req *r;
  make_id(zId, iSeq);
  snprintf(zBody, sizeof zBody,
           "{\"id_number\":\"%s\",\"name\":\"王小明\",\"password\":\"%s\",\"phone\":\"138%08d\"}", zId,
           PASSWORD, iSeq);
  r = req_new(f, HTTP_POST, "/accounts", zBody);
  if (dispatch(r) != 201) fail_msg("registration: %d %.*s", r->status, (int)r->out.n, r->out.z);
  take_session(r, c);
  req_free(r);
}

static void register_unit(fixture *f, client *c, const char *zOrg, const char *zName, const char *zShort)
{
  char zBody[512], zCode[19];
  zc_req *r;
  make_credit_code(zCode, zOrg);
  snprintf(zBody, sizeof zBody,
           "{\"credit_code\":\"%s\",\"name\":\"%s\",\"short_name\":\"%s\",\"password\":\"%s\","
           "\"contact\":\"李娜\",\"phone\":\"0991-2345678\",\"node\":\"650000\"}",
           zCode, zName, zShort, PASSWORD);
  r = req_new(f, HTTP_POST, "/units", zBody);
  if (dispatch(r) != 201) fail_msg("unit registration: %d %.*s", r->status, (int)r->out.n, r->out.z);
  if (c) take_session(r, c);
  req_free(r);
}

static sqlite3_int64 count(fixture *f, const char *zSql)
{
  return db_int(f->node.db, -1, zSql, NULL);
}

/* ---- matching ------------------------------------------------------------------------- */

static const zc_route *match(zc_req *r, int method, const char *zPath, int *pbKnown)
{
  memset(r, 0, sizeof *r);
  r->method = method;
  snprintf(r->zPath, sizeof r->zPath, "%s", zPath);
  return router_match(r, pbKnown);
}

static void test_match_plain(void **state)
{
  zc_req r;
  int bKnown = 0;
  const zc_route *p = match(&r, HTTP_GET, "/health", &bKnown);
  (void)state;
  assert_non_null(p);
  assert_ptr_equal(p->xHandler, refdata_health);
  assert_string_equal(p->zPattern, "/health");
  assert_int_equal(r.nParam, 0);
}

static void test_match_method_picks_route(void **state)
{
  zc_req r;
  int bKnown = 0;
  (void)state;
  assert_ptr_equal(match(&r, HTTP_GET, "/me", &bKnown)->xHandler, accounts_me);
  assert_ptr_equal(match(&r, HTTP_PUT, "/me", &bKnown)->xHandler, accounts_update_me);
  assert_ptr_equal(match(&r, HTTP_POST, "/session", &bKnown)->xHandler, accounts_login);
  assert_ptr_equal(match(&r, HTTP_DELETE, "/session", &bKnown)->xHandler, accounts_logout);
  assert_ptr_equal(match(&r, HTTP_POST, "/units", &bKnown)->xHandler, units_register);
  assert_ptr_equal(match(&r, HTTP_GET, "/units", &bKnown)->xHandler, units_search);
}

static void test_match_capture(void **state)
{
  zc_req r;
  int bKnown = 0;
  const zc_route *p = match(&r, HTTP_GET, "/accounts/a0123456789abcdef/idcard", &bKnown);
  (void)state;
  assert_non_null(p);
  assert_ptr_equal(p->xHandler, accounts_idcard_admin);
  assert_int_equal(r.nParam, 1);
  assert_string_equal(r.aParam[0], "a0123456789abcdef");
}

static void test_match_two_captures(void **state)
{
  zc_req r;
  int bKnown = 0;
  const zc_route *p = match(&r, HTTP_PUT, "/applications/p42/sections/basic", &bKnown);
  (void)state;
  assert_non_null(p);
  assert_int_equal(r.nParam, 2);
  assert_string_equal(r.aParam[0], "p42");
  assert_string_equal(r.aParam[1], "basic");
}

static void test_match_capture_is_one_segment(void **state)
{
  zc_req r;
  int bKnown = 0;
  (void)state;
  assert_null(match(&r, HTTP_GET, "/accounts/a/b/idcard", &bKnown));
  assert_int_equal(bKnown, 0);
  assert_null(match(&r, HTTP_GET, "/accounts//idcard", &bKnown)); /* empty capture */
  assert_int_equal(r.nParam, 0);
}

static void test_match_trailing_slash(void **state)
{
  zc_req r;
  int bKnown = 0;
  (void)state;
  assert_ptr_equal(match(&r, HTTP_GET, "/health/", &bKnown)->xHandler, refdata_health);
  assert_ptr_equal(match(&r, HTTP_GET, "/units/me/", &bKnown)->xHandler, units_me);
  assert_non_null(match(&r, HTTP_GET, "/accounts/x1/idcard/", &bKnown));
  assert_string_equal(r.aParam[0], "x1");
  assert_null(match(&r, HTTP_GET, "/health//", &bKnown));
  assert_null(match(&r, HTTP_GET, "//health", &bKnown));
}

static void test_match_no_prefix_or_partial(void **state)
{
  zc_req r;
  int bKnown = 0;
  (void)state;
  assert_null(match(&r, HTTP_GET, "/healthz", &bKnown));
  assert_int_equal(bKnown, 0);
  assert_null(match(&r, HTTP_GET, "/healt", &bKnown));
  assert_null(match(&r, HTTP_GET, "/", &bKnown));
  assert_null(match(&r, HTTP_GET, "", &bKnown));
  assert_null(match(&r, HTTP_GET, "/HEALTH", &bKnown));
  assert_null(match(&r, HTTP_GET, "/units/me/rename/x", &bKnown));
}

static void test_match_404_vs_405(void **state)
{
  zc_req r;
  int bKnown = 1;
  (void)state;
  assert_null(match(&r, HTTP_GET, "/no-such-path", &bKnown));
  assert_int_equal(bKnown, 0);
  assert_null(match(&r, HTTP_DELETE, "/catalog", &bKnown));
  assert_int_equal(bKnown, 1);
  assert_null(match(&r, HTTP_POST, "/me", &bKnown));
  assert_int_equal(bKnown, 1);
  assert_null(match(&r, HTTP_PUT, "/accounts/x/idcard", &bKnown));
  assert_int_equal(bKnown, 1);
  assert_int_equal(r.nParam, 0); /* a failed match leaves no captures behind */
  assert_null(match(&r, 0, "/health", &bKnown)); /* a method the server does not know */
  assert_int_equal(bKnown, 1);
}

static void test_every_route_matches_itself(void **state)
{
  (void)state;
  for (int i = 0; i < g_nRoutes; i++) {
    char zPath[256];
    const char *p = g_routes[i].zPattern;
    size_t n = 0;
    zc_req r;
    int bKnown = 0;
    while (*p && n + 8 < sizeof zPath) { /* {param} -> "v1" */
      if (*p == '{') {
        memcpy(zPath + n, "v1", 2);
        n += 2;
        p = strchr(p, '}') + 1;
      } else zPath[n++] = *p++;
    }
    zPath[n] = 0;
    if (match(&r, g_routes[i].method, zPath, &bKnown) != &g_routes[i])
      fail_msg("route %s does not match its own path %s", g_routes[i].zPattern, zPath);
    for (int k = 0; k < r.nParam; k++) assert_string_equal(r.aParam[k], "v1");
  }
}

static void test_route_table_is_sane(void **state)
{
  (void)state;
  for (int i = 0; i < g_nRoutes; i++) {
    const zc_route *a = &g_routes[i];
    assert_non_null(a->xHandler);
    assert_true(a->zPattern[0] == '/');
    assert_true(a->roles == ROLE_ANYONE || (a->roles & ~(unsigned)ROLE_ANY_USER) == 0);
    if (a->method == HTTP_GET) assert_int_equal(a->body, BODY_NONE);
    for (int k = 0; k < i; k++)
      if (g_routes[k].method == a->method && strcmp(g_routes[k].zPattern, a->zPattern) == 0)
        fail_msg("route %s listed twice", a->zPattern);
  }
}

static void test_role_names(void **state)
{
  static const char *a[] = {"applicant", "unit_admin", "dept_admin", "committee_admin", "node_admin", "auditor"};
  (void)state;
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
    unsigned role = role_from_name(a[i]);
    assert_int_not_equal(role, 0);
    assert_true(role & ROLE_ANY_USER);
    assert_string_equal(role_name(role), a[i]);
    assert_true((unsigned char)role_label(role)[0] >= 0x80); /* a Chinese label */
  }
  assert_int_equal(role_from_name("emperor"), 0);
  assert_int_equal(role_from_name(NULL), 0);
  assert_string_equal(role_name(0), "");
  assert_int_equal(role_from_name("applicant"), ROLE_APPLICANT);
  assert_int_equal(role_from_name("unit_admin"), ROLE_UNIT_ADMIN);
}

static void test_body_limit(void **state)
{
  fixture *f = *state;
  zc_req r;
  int bKnown;
  assert_int_equal(router_body_limit(&f->node, match(&r, HTTP_POST, "/me/idcard", &bKnown)), (long)BLOB_MAX);
  assert_int_equal(router_body_limit(&f->node, match(&r, HTTP_POST, "/accounts", &bKnown)), 64 * 1024);
  assert_int_equal(router_body_limit(&f->node, NULL), 64 * 1024);
}

/* ---- dispatch: the checks before a handler -------------------------------------------- */

static void test_dispatch_404_and_405(void **state)
{
  fixture *f = *state;
  zc_req *r = req_new(f, HTTP_GET, "/no-such", NULL);
  dispatch(r);
  assert_error(r, 404, "not_found");
  req_free(r);
  r = req_new(f, HTTP_DELETE, "/catalog", NULL);
  dispatch(r);
  assert_error(r, 405, "method_not_allowed");
  req_free(r);
}

static void test_dispatch_public_route(void **state)
{
  fixture *f = *state;
  zc_req *r = req_new(f, HTTP_GET, "/health", NULL);
  json_t *v;
  assert_int_equal(dispatch(r), 200);
  v = answer(r);
  assert_string_equal(json_string_value(json_object_get(v, "node")), "650000");
  json_decref(v);
  req_free(r);
}

static void test_dispatch_anonymous_is_401(void **state)
{
  fixture *f = *state;
  static const struct { int method; const char *zPath, *zBody; } a[] = {
    {HTTP_GET, "/me", NULL},
    {HTTP_PUT, "/me", "not json"},              /* login is checked before the body */
    {HTTP_DELETE, "/session", NULL},
    {HTTP_GET, "/units/me", NULL},
    {HTTP_GET, "/accounts", NULL},
    {HTTP_POST, "/me/idcard", "raw"},
  };
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
    zc_req *r = req_new(f, a[i].method, a[i].zPath, a[i].zBody);
    dispatch(r);
    assert_error(r, 401, "login_required");
    req_free(r);
  }
}

static void test_dispatch_unknown_cookie_is_401(void **state)
{
  fixture *f = *state;
  zc_req *r = req_new(f, HTTP_GET, "/me", NULL);
  snprintf(r->zCookie, sizeof r->zCookie, "zc_session=%064d", 0);
  dispatch(r);
  assert_error(r, 401, "login_required");
  req_free(r);
}

static void test_dispatch_wrong_role_is_403(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 1);
  r = req_new(f, HTTP_GET, "/units/me", NULL);
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 403, "forbidden");
  req_free(r);
  r = req_new(f, HTTP_GET, "/accounts", NULL);
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 403, "forbidden");
  req_free(r);
  /* the role is checked before the body: bad JSON with the token still says forbidden */
  r = req_new(f, HTTP_PUT, "/units/me", "{");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 403, "forbidden");
  req_free(r);
  /* a live session without its token is refused first, whatever the route */
  r = req_new(f, HTTP_PUT, "/units/me", "{}");
  req_as(r, &c, 0);
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
}

/* API.md: every non-GET request carrying the session cookie sends the token, public
 * routes included (a login or a registration made while logged in). */
static void test_dispatch_public_route_with_session_needs_csrf(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  sqlite3_int64 nAcc;
  register_applicant(f, &c, 11);
  nAcc = count(f, "SELECT count(*) FROM accounts");
  r = req_new(f, HTTP_POST, "/session", "{\"login\":\"x\",\"password\":\"y\"}");
  req_as(r, &c, 0);
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
  r = req_new(f, HTTP_POST, "/units", "{}");
  req_as(r, &c, 0);
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts"), nAcc);
  /* without a cookie there is no token to send */
  r = req_new(f, HTTP_POST, "/units", "{}");
  dispatch(r);
  assert_error(r, 400, "missing_field");
  req_free(r);
}

static void test_dispatch_unit_admin_cannot_apply(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  int bKnown;
  zc_req m;
  register_unit(f, &c, "MA7RQUTE1", "新疆路由测试有限公司", "路由测试");
  /* applicant-only routes that are not about applying say so plainly */
  r = req_new(f, HTTP_POST, "/me/idcard", "x");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 403, "forbidden");
  req_free(r);
  assert_true(match(&m, HTTP_POST, "/applications", &bKnown));
  r = req_new(f, HTTP_POST, "/applications", "{}");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 403, "unit_admin_cannot_apply");
  req_free(r);
}

static void test_dispatch_missing_csrf_is_403(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 2);
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"a@example.cn\"}");
  req_as(r, &c, 0);
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts WHERE email IS NOT NULL"), 0);
}

static void test_dispatch_wrong_csrf_is_403(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 3);
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"a@example.cn\"}");
  req_as(r, &c, 1);
  r->zCsrf[0] = r->zCsrf[0] == 'a' ? 'b' : 'a';
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
  /* a prefix of the token is not the token */
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"a@example.cn\"}");
  req_as(r, &c, 1);
  r->zCsrf[10] = 0;
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts WHERE email IS NOT NULL"), 0);
}

static void test_dispatch_csrf_checked_before_body(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 4);
  r = req_new(f, HTTP_PUT, "/me", "{ not json");
  req_as(r, &c, 0);
  dispatch(r);
  assert_error(r, 403, "csrf");
  req_free(r);
}

static void test_dispatch_get_needs_no_csrf(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 5);
  r = req_new(f, HTTP_GET, "/me", NULL);
  req_as(r, &c, 0);
  assert_int_equal(dispatch(r), 200);
  req_free(r);
}

static void test_dispatch_with_csrf_succeeds(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 6);
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"ok@example.cn\"}");
  req_as(r, &c, 1);
  assert_int_equal(dispatch(r), 200);
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts WHERE email = 'ok@example.cn'"), 1);
}

/* JSON routes take JSON only, and no page of another site may change anything. */
static void test_dispatch_form_or_foreign_origin_is_refused(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 8);
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"a@b.cn\"}");
  snprintf(r->zContentType, sizeof r->zContentType, "text/plain");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 415, "unsupported_type");
  req_free(r);
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"a@b.cn\"}");
  snprintf(r->zOrigin, sizeof r->zOrigin, "https://evil.example");
  snprintf(r->zHost, sizeof r->zHost, "127.0.0.1:8600");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 403, "cross_origin");
  req_free(r);
  r = req_new(f, HTTP_PUT, "/me", "{\"email\":\"a@b.cn\"}");
  snprintf(r->zOrigin, sizeof r->zOrigin, "http://127.0.0.1:8600");
  snprintf(r->zHost, sizeof r->zHost, "127.0.0.1:8600");
  req_as(r, &c, 1);
  dispatch(r);
  assert_int_equal(r->status, 200);
  req_free(r);
}

static void test_dispatch_bad_json_is_400(void **state)
{
  fixture *f = *state;
  static const char *a[] = {"{", "[1,2]", "\"text\"", "42", "null", "{\"a\":1,\"a\":2}", "{\"a\":1} x"};
  client c;
  register_applicant(f, &c, 7);
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
    zc_req *r = req_new(f, HTTP_PUT, "/me", a[i]);
    req_as(r, &c, 1);
    dispatch(r);
    assert_error(r, 400, "bad_json");
    req_free(r);
  }
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) { /* public routes too */
    zc_req *r = req_new(f, HTTP_POST, "/accounts", a[i]);
    dispatch(r);
    assert_error(r, 400, "bad_json");
    req_free(r);
  }
}

static void test_dispatch_empty_body_is_empty_object(void **state)
{
  fixture *f = *state;
  zc_req *r = req_new(f, HTTP_POST, "/accounts", NULL);
  dispatch(r);
  assert_error(r, 400, "missing_field");
  req_free(r);
}

/* ---- dispatch: transactions ----------------------------------------------------------- */

static void test_success_commits_change_and_entry(void **state)
{
  fixture *f = *state;
  client c;
  sqlite3_int64 nAcc = count(f, "SELECT count(*) FROM accounts");
  sqlite3_int64 nOut = count(f, "SELECT count(*) FROM outbox");
  register_applicant(f, &c, 8);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts"), nAcc + 1);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox"), nOut + 1);
  assert_int_equal(count(f, "SELECT count(*) FROM sessions"), 1);
}

static void test_duplicate_unit_rolls_back(void **state)
{
  fixture *f = *state;
  char zBody[512], zCode[19];
  zc_req *r;
  register_unit(f, NULL, "MA7RQUTE2", "新疆回滚测试有限公司", "回滚测试");
  sqlite3_int64 nUnits = count(f, "SELECT count(*) FROM units");
  sqlite3_int64 nNames = count(f, "SELECT count(*) FROM unit_names");
  sqlite3_int64 nAcc = count(f, "SELECT count(*) FROM accounts");
  sqlite3_int64 nOut = count(f, "SELECT count(*) FROM outbox");
  sqlite3_int64 nSess = count(f, "SELECT count(*) FROM sessions");
  make_credit_code(zCode, "MA7RQUTE3");
  snprintf(zBody, sizeof zBody,
           "{\"credit_code\":\"%s\",\"name\":\"新疆回滚测试有限公司\",\"short_name\":\"另一简称\","
           "\"password\":\"%s\",\"contact\":\"李娜\",\"phone\":\"0991-2345678\"}", zCode, PASSWORD);
  r = req_new(f, HTTP_POST, "/units", zBody);
  dispatch(r);
  assert_error(r, 409, "unit_exists");
  assert_null(r->outHeaders.z ? strstr(r->outHeaders.z, "zc_session=") : NULL);
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM units"), nUnits);
  assert_int_equal(count(f, "SELECT count(*) FROM unit_names"), nNames);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts"), nAcc);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox"), nOut);
  assert_int_equal(count(f, "SELECT count(*) FROM sessions"), nSess);
}

/* PUT /me writes the phone, then refuses the e-mail: the phone must not stay written. */
static void test_handler_refusal_rolls_back_earlier_writes(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 9); /* phone 13800000009 */
  r = req_new(f, HTTP_PUT, "/me", "{\"phone\":\"13912345678\",\"email\":\"not-an-email\"}");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 400, "invalid_field");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts WHERE phone = '13912345678'"), 0);
  assert_int_equal(count(f, "SELECT count(*) FROM accounts WHERE phone = '13800000009'"), 1);
}

/* POST /units/me/rename to a taken name: no rename, no history row, no log entry. */
static void test_rename_refusal_rolls_back(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_unit(f, NULL, "MA7RQUTE4", "新疆甲方测试有限公司", "甲方测试");
  register_unit(f, &c, "MA7RQUTE5", "新疆乙方测试有限公司", "乙方测试");
  sqlite3_int64 nNames = count(f, "SELECT count(*) FROM unit_names");
  sqlite3_int64 nOut = count(f, "SELECT count(*) FROM outbox");
  r = req_new(f, HTTP_POST, "/units/me/rename", "{\"name\":\"新疆甲方测试有限公司\"}");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 409, "unit_exists");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM unit_names"), nNames);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox"), nOut);
  assert_int_equal(count(f, "SELECT count(*) FROM units WHERE name = '新疆乙方测试有限公司'"), 1);
}

/* Recommenders: three is refused after nothing was deleted. */
static void test_recommenders_refusal_keeps_old(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_unit(f, &c, "MA7RQUTE6", "新疆推荐测试有限公司", "推荐测试");
  r = req_new(f, HTTP_PUT, "/units/me/recommenders", "{\"depts\":[\"650000-D01\"]}");
  req_as(r, &c, 1);
  assert_int_equal(dispatch(r), 200);
  req_free(r);
  r = req_new(f, HTTP_PUT, "/units/me/recommenders", "{\"depts\":[\"650000-D02\",\"no-such\"]}");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 400, "invalid_field");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM unit_recommenders WHERE dept_id = '650000-D01'"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM unit_recommenders"), 1);
}

/* ---- the write path: entries (outbox.c, entries.c) ------------------------------------ */

/* Every non-GET route names its entry types (each in entries.c) or why it is local, not
 * both; GET routes neither. */
static void test_route_table_names_entries(void **state)
{
  (void)state;
  for (int i = 0; i < g_nRoutes; i++) {
    const zc_route *r = &g_routes[i];
    if (r->method == HTTP_GET) {
      assert_null(r->zEntries);
      assert_null(r->zLocal);
      continue;
    }
    if ((r->zEntries == NULL) == (r->zLocal == NULL)) fail_msg("%s: entries or local, exactly one", r->zPattern);
    for (const char *z = r->zEntries; z && *z;) {
      char zType[64];
      size_t n = strcspn(z, " ");
      assert_true(n > 0 && n < sizeof zType);
      snprintf(zType, sizeof zType, "%.*s", (int)(n - (z[n - 1] == '?')), z); /* '?': when the call needs it */
      if (!entry_type_find(zType)) fail_msg("%s: entry type %s is not in entries.c", r->zPattern, zType);
      z += n + (z[n] == ' ');
    }
  }
}

/* Outside a transaction outbox_record refuses: an assertion in a debug build, -1 in a
 * release build; either way the child below does not report success. */
static void test_outbox_record_outside_transaction_fails(void **state)
{
  fixture *f = *state;
  int status = 0;
  assert_true(sqlite3_get_autocommit(f->node.db));
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int rc = outbox_record(&f->node, "unit.renamed", json_pack("{s:s}", "unit", "u-1"), NULL);
    _exit(rc == 0 ? 0 : 3);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Inside one: canonical bytes, seq 1, 2 and prev the SHA-256 of the previous entry; an
 * unknown type is refused. */
static void test_outbox_record_builds_the_chain(void **state)
{
  fixture *f = *state;
  zc_node *p = &f->node;
  sqlite3_int64 seq1 = 0, seq2 = 0;
  sqlite3_int64 n0 = count(f, "SELECT count(*) FROM outbox");
  assert_int_equal(db_begin(p->db), 0);
  assert_int_equal(outbox_record(p, "unit.renamed", json_pack("{s:s, s:s}", "unit", "u-1", "name", "甲\n\x01"), &seq1), 0);
  assert_int_equal(outbox_record(p, "unit.renamed", json_pack("{s:s}", "unit", "u-2"), &seq2), 0);
  assert_int_not_equal(outbox_record(p, "no.such.type", json_pack("{s:s}", "unit", "u-3"), NULL), 0);
  assert_int_equal(db_commit(p->db), 0);
  assert_int_equal(seq1, n0 + 1);
  assert_int_equal(seq2, n0 + 2);
  json_t *a = db_rows(p->db, "SELECT seq, entry, hash, state FROM outbox WHERE seq >= ? ORDER BY seq", "I", seq1);
  assert_int_equal(json_array_size(a), 2);
  char zPrev[FED_SHA256_HEX_SIZE] = "";
  char *zFirstPrev = db_text(p->db, "SELECT hash FROM outbox WHERE seq = ?", "I", seq1 - 1);
  snprintf(zPrev, sizeof zPrev, "%s", zFirstPrev ? zFirstPrev : "");
  free(zFirstPrev);
  for (size_t i = 0; i < 2; i++) {
    json_t *row = json_array_get(a, i), *e = NULL;
    const char *zEntry = json_string_value(json_object_get(row, "entry"));
    char zHash[FED_SHA256_HEX_SIZE];
    assert_non_null(zEntry);
    assert_int_equal(fed_canon_parse(&e, zEntry, strlen(zEntry)), 0);
    assert_string_equal(json_string_value(json_object_get(e, "prev")), zPrev);
    assert_string_equal(json_string_value(json_object_get(e, "origin")), "650000");
    assert_string_equal(json_string_value(json_object_get(e, "type")), "unit.renamed");
    assert_string_equal(json_string_value(json_object_get(e, "key")), ""); /* no manifest here */
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), seq1 + (sqlite3_int64)i);
    assert_int_equal(json_integer_value(json_object_get(e, "v")), entry_type_find("unit.renamed")->v);
    fed_sha256_hex(zHash, zEntry, strlen(zEntry));
    assert_string_equal(zHash, json_string_value(json_object_get(row, "hash")));
    assert_string_equal(json_string_value(json_object_get(row, "state")), "built");
    if (i == 0) assert_non_null(strstr(zEntry, "\"甲\\n\\u0001\"")); /* canon's escapes */
    snprintf(zPrev, sizeof zPrev, "%s", zHash);
    json_decref(e);
  }
  json_decref(a);
}

/* The guard of a workflow move: another writer changes the application between the
 * handler's read and its UPDATE (here a trigger fires on the opinion the move saves
 * first, as a concurrent request on another connection would commit in between). The
 * move must answer 409 state_changed and leave the other writer's state, with no history
 * row and no entry of its own. Without `WHERE status = ? AND revision = ?` it would
 * overwrite the other change and answer 200. */
static void test_workflow_move_refuses_a_stale_read(void **state)
{
  fixture *f = *state;
  zc_node *p = &f->node;
  client cUnit, cApp;
  register_unit(f, &cUnit, "MA7RQUTE9", "新疆并发测试有限公司", "并发测试");
  register_applicant(f, &cApp, 31);
  char *zUnit = db_text(p->db, "SELECT id FROM units WHERE short_name = '并发测试'", NULL);
  char *zApplicant = db_text(p->db, "SELECT id FROM accounts WHERE role = 'applicant' ORDER BY created DESC LIMIT 1", NULL);
  char *zCommittee = db_text(p->db, "SELECT id FROM committees ORDER BY id LIMIT 1", NULL);
  assert_non_null(zUnit);
  assert_non_null(zApplicant);
  assert_non_null(zCommittee);
  assert_int_equal(db_exec(p->db, "UPDATE units SET address = '人民路1号', legal_person = '张建国', industry = '信息技术'"
                           " WHERE id = ?", "t", zUnit), 0);
  assert_int_equal(db_exec(p->db, "INSERT INTO applications(id, applicant_id, year, series, specialty, qualification,"
                           " level, unit_id, unit_node, committee_id, committee_node, status, round, submit_count,"
                           " created, updated, holder, revision) SELECT 'p-race', ?, 2026, series, 'GC-JZ', code, level,"
                           " ?, '650000', ?, '650000', 'unit_review', 1, 1, 0, 0, '650000', 5 FROM qualifications"
                           " WHERE code = 'GC4'", "ttt", zApplicant, zUnit, zCommittee), 0);
  assert_int_equal(db_exec(p->db, "INSERT INTO application_access VALUES('p-race', 'unit', ?)", "t", zUnit), 0);
  assert_int_equal(db_exec(p->db, "CREATE TEMP TRIGGER concurrent_withdraw AFTER INSERT ON application_opinions BEGIN"
                           " UPDATE applications SET status = 'draft', revision = revision + 1 WHERE id = NEW.application_id;"
                           " END", NULL), 0);
  sqlite3_int64 nOut = count(f, "SELECT count(*) FROM outbox");
  zc_req *r = req_new(f, HTTP_POST, "/applications/p-race/review",
                      "{\"action\":\"return\",\"opinions\":{\"work\":\"请补充\"}}");
  req_as(r, &cUnit, 1);
  dispatch(r);
  if (r->status != 409) fail_msg("stale move answered %d %.*s", r->status, (int)r->out.n, r->out.z);
  json_t *v = answer(r);
  assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "code")), "state_changed");
  json_decref(v);
  req_free(r);
  /* the rollback took the trigger's change too; what matters is what the move left */
  assert_int_equal(count(f, "SELECT count(*) FROM applications WHERE id = 'p-race' AND status = 'unit_review'"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM application_history WHERE application_id = 'p-race'"), 0);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox"), nOut);
  assert_int_equal(db_exec(p->db, "DROP TRIGGER concurrent_withdraw", NULL), 0);
  free(zUnit);
  free(zApplicant);
  free(zCommittee);
}

static void test_wrong_password_rolls_back_nothing_written(void **state)
{
  fixture *f = *state;
  client c;
  zc_req *r;
  register_applicant(f, &c, 10);
  sqlite3_int64 nSess = count(f, "SELECT count(*) FROM sessions");
  r = req_new(f, HTTP_POST, "/me/password", "{\"old\":\"Wrong!Passw0rd1\",\"new\":\"New!Passw0rd#77\"}");
  req_as(r, &c, 1);
  dispatch(r);
  assert_error(r, 400, "wrong_password");
  req_free(r);
  assert_int_equal(count(f, "SELECT count(*) FROM sessions"), nSess);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_match_plain),
      cmocka_unit_test(test_match_method_picks_route),
      cmocka_unit_test(test_match_capture),
      cmocka_unit_test(test_match_two_captures),
      cmocka_unit_test(test_match_capture_is_one_segment),
      cmocka_unit_test(test_match_trailing_slash),
      cmocka_unit_test(test_match_no_prefix_or_partial),
      cmocka_unit_test(test_match_404_vs_405),
      cmocka_unit_test(test_every_route_matches_itself),
      cmocka_unit_test(test_route_table_is_sane),
      cmocka_unit_test(test_role_names),
      cmocka_unit_test_setup_teardown(test_body_limit, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_404_and_405, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_public_route, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_anonymous_is_401, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_unknown_cookie_is_401, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_wrong_role_is_403, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_public_route_with_session_needs_csrf, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_unit_admin_cannot_apply, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_missing_csrf_is_403, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_wrong_csrf_is_403, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_csrf_checked_before_body, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_get_needs_no_csrf, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_with_csrf_succeeds, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_form_or_foreign_origin_is_refused, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_bad_json_is_400, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_dispatch_empty_body_is_empty_object, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_success_commits_change_and_entry, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_duplicate_unit_rolls_back, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_handler_refusal_rolls_back_earlier_writes, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_rename_refusal_rolls_back, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_recommenders_refusal_keeps_old, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_wrong_password_rolls_back_nothing_written, setup_node, teardown_node),
      cmocka_unit_test(test_route_table_names_entries),
      cmocka_unit_test_setup_teardown(test_outbox_record_outside_transaction_fails, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_outbox_record_builds_the_chain, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_workflow_move_refuses_a_stale_read, setup_node, teardown_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
