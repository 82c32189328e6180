/* test_session.c - unit tests of node/session.c: a session opened is loaded back from its
 * cookie (HttpOnly, SameSite, only the token's hash stored), sessions end at their absolute
 * and idle limits (the node's clock replaced), logging out and ending the other sessions;
 * device cookies bound to their account. (The failed-login limits: test_limiter.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "http.h"
#include "node.h"
#include "router.h"
#include "keys.h"
#include "secret.h"
#include "session.h"
#include "worker.h"

/* ---- the clock ------------------------------------------------------------------------ */

static time_t g_now = 1780000000; /* 2026-05-28 */
static time_t fake_now(void) { return g_now; }

/* ---- an in-memory node with two accounts ---------------------------------------------- */

typedef struct fixture {
  zc_node node;
  char zAlice[40], zBob[40];
} fixture;

static void add_account(zc_node *p, const char *zRole, const char *zName, char zId[40])
{
  char zUser[24];
  account_new a = {.zRole = zRole, .zName = zName, .zPasswordHash = "$argon2id$v=19$m=8,t=1,p=1$x$y"};
  assert_int_equal(db_begin(p->db), 0); /* an account's entry is written with it */
  assert_int_equal(account_insert(p, &a, zId, zUser), 0);
  assert_int_equal(db_commit(p->db), 0);
}

static int setup_node(void **state)
{
  fixture *f = calloc(1, sizeof *f);
  zc_node *p;
  json_t *pAll;
  assert_non_null(f);
  p = &f->node;
  snprintf(p->cfg.zNode, sizeof p->cfg.zNode, "650000");
  snprintf(p->cfg.zSchemas, sizeof p->cfg.zSchemas, "schemas");
  snprintf(p->cfg.zData, sizeof p->cfg.zData, "/nonexistent");
  p->cfg.nMaxBody = 64 * 1024;
  snprintf(p->zName, sizeof p->zName, "自治区");
  pAll = json_load_file("schemas/regions.json", 0, NULL);
  assert_non_null(pAll);
  p->pRegions = json_incref(json_object_get(pAll, "nodes"));
  json_decref(pAll);
  assert_int_equal(db_open(&p->db, ":memory:"), 0);
  assert_int_equal(db_migrate(p->db, "schemas"), 0);
  g_now = 1780000000;
  p->xNow = fake_now;
  worker_set_inline(1);
  add_account(p, "applicant", "爱丽丝", f->zAlice);
  add_account(p, "auditor", "鲍勃", f->zBob);
  *state = f;
  return 0;
}

static int teardown_node(void **state)
{
  fixture *f = *state;
  node_close(&f->node);
  free(f);
  return 0;
}

/* ---- requests and cookies ------------------------------------------------------------- */

typedef struct opened {
  char zToken[80];  /* the cookie's value */
  char zHash[65];   /* its hash, as the session row's key */
  char zCsrf[65];
  char zHeader[256]; /* the Set-Cookie header line */
} opened;

static void req_init(zc_req *r, fixture *f)
{
  memset(r, 0, sizeof *r);
  r->node = &f->node;
  r->method = HTTP_GET;
  snprintf(r->zPeer, sizeof r->zPeer, "10.1.2.3");
}

/* Open a session for zAccount; what the client would hold afterwards goes into o. */
static void open_session(fixture *f, const char *zAccount, opened *o)
{
  zc_req r;
  const char *z;
  memset(o, 0, sizeof *o);
  req_init(&r, f);
  assert_int_equal(session_open(&r, zAccount), 0);
  assert_non_null(r.pSess);
  assert_string_equal(r.pSess->zAccount, zAccount);
  assert_non_null(r.outHeaders.z);
  z = strstr(r.outHeaders.z, "Set-Cookie: ");
  assert_non_null(z);
  snprintf(o->zHeader, sizeof o->zHeader, "%.*s", (int)strcspn(z, "\r"), z);
  z = strstr(o->zHeader, SESSION_COOKIE "=");
  assert_non_null(z);
  z += strlen(SESSION_COOKIE "=");
  snprintf(o->zToken, sizeof o->zToken, "%.*s", (int)strcspn(z, ";"), z);
  snprintf(o->zHash, sizeof o->zHash, "%s", r.pSess->zTokenHash);
  snprintf(o->zCsrf, sizeof o->zCsrf, "%s", r.pSess->zCsrf);
  http_req_reset(&r);
}

/* Load the session named by a Cookie header; returns r.pSess != NULL and copies it. */
static int load(fixture *f, const char *zCookieHeader, zc_session *out)
{
  zc_req r;
  int b;
  req_init(&r, f);
  snprintf(r.zCookie, sizeof r.zCookie, "%s", zCookieHeader);
  assert_int_equal(session_load(&r), 0);
  b = r.pSess != NULL;
  if (b && out) *out = *r.pSess;
  http_req_reset(&r);
  return b;
}

static int load_token(fixture *f, const char *zToken)
{
  char z[160];
  snprintf(z, sizeof z, SESSION_COOKIE "=%s", zToken);
  return load(f, z, NULL);
}

static int is_hex(const char *z, size_t n)
{
  if (strlen(z) != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((z[i] >= '0' && z[i] <= '9') || (z[i] >= 'a' && z[i] <= 'f'))) return 0;
  return 1;
}

/* ---- sessions ------------------------------------------------------------------------- */

static void test_open_sets_cookie_with_flags(void **state)
{
  fixture *f = *state;
  opened o;
  char zWant[64];
  open_session(f, f->zAlice, &o);
  assert_true(is_hex(o.zToken, 64)); /* 256 random bits */
  assert_non_null(strstr(o.zHeader, "; HttpOnly"));
  assert_non_null(strstr(o.zHeader, "; SameSite="));
  assert_non_null(strstr(o.zHeader, "; Path=/"));
  snprintf(zWant, sizeof zWant, "Max-Age=%d", SESSION_TTL);
  assert_non_null(strstr(o.zHeader, zWant));
  assert_true(is_hex(o.zCsrf, 64));
  assert_string_not_equal(o.zCsrf, o.zToken);
}

static void test_open_then_load_round_trip(void **state)
{
  fixture *f = *state;
  opened o;
  zc_session s;
  char zCookie[160];
  open_session(f, f->zAlice, &o);
  snprintf(zCookie, sizeof zCookie, SESSION_COOKIE "=%s", o.zToken);
  assert_true(load(f, zCookie, &s));
  assert_string_equal(s.zAccount, f->zAlice);
  assert_string_equal(s.zCsrf, o.zCsrf);
  assert_string_equal(s.zTokenHash, o.zHash);
  assert_int_equal(s.role, ROLE_APPLICANT);
  assert_true(strlen(s.zUsername) == 10);
}

static void test_load_finds_cookie_among_others(void **state)
{
  fixture *f = *state;
  opened o;
  zc_session s;
  char zCookie[300];
  open_session(f, f->zBob, &o);
  snprintf(zCookie, sizeof zCookie, "theme=dark; " SESSION_COOKIE "x=1; " SESSION_COOKIE "=%s; lang=zh", o.zToken);
  assert_true(load(f, zCookie, &s));
  assert_string_equal(s.zAccount, f->zBob);
  assert_int_equal(s.role, ROLE_AUDITOR);
}

static void test_only_the_hash_is_stored(void **state)
{
  fixture *f = *state;
  opened o;
  char zHash[65];
  open_session(f, f->zAlice, &o);
  fed_sha256_hex(zHash, o.zToken, strlen(o.zToken));
  assert_string_equal(zHash, o.zHash);
  assert_int_equal(db_int(f->node.db, -1, "SELECT count(*) FROM sessions WHERE token_hash = ?", "t", zHash), 1);
  assert_int_equal(db_int(f->node.db, -1, "SELECT count(*) FROM sessions WHERE token_hash = ? OR csrf = ?", "tt",
                          o.zToken, o.zToken), 0);
}

static void test_bad_cookies_load_nothing(void **state)
{
  fixture *f = *state;
  opened o;
  char zTok[100];
  open_session(f, f->zAlice, &o);
  assert_false(load(f, "", NULL));
  assert_false(load(f, "other=1", NULL));
  assert_false(load_token(f, ""));
  assert_false(load_token(f, "abc"));
  snprintf(zTok, sizeof zTok, "%.63s", o.zToken); /* one character short */
  assert_false(load_token(f, zTok));
  snprintf(zTok, sizeof zTok, "%.80sa", o.zToken); /* one too many */
  assert_false(load_token(f, zTok));
  snprintf(zTok, sizeof zTok, "%s", o.zToken);
  zTok[0] = zTok[0] == '0' ? '1' : '0';
  assert_false(load_token(f, zTok));
  assert_false(load_token(f, o.zHash)); /* the stored hash is not a token */
  assert_true(load_token(f, o.zToken));
}

static void test_sessions_are_distinct(void **state)
{
  fixture *f = *state;
  opened a, b;
  open_session(f, f->zAlice, &a);
  open_session(f, f->zAlice, &b);
  assert_string_not_equal(a.zToken, b.zToken);
  assert_string_not_equal(a.zCsrf, b.zCsrf);
  assert_true(load_token(f, a.zToken));
  assert_true(load_token(f, b.zToken));
}

static void test_absolute_expiry(void **state)
{
  fixture *f = *state;
  opened o;
  time_t t0 = g_now;
  open_session(f, f->zAlice, &o);
  /* used every hour: never idle, yet it ends SESSION_TTL after it began */
  for (g_now = t0 + 3600; g_now < t0 + SESSION_TTL; g_now += 3600) assert_true(load_token(f, o.zToken));
  g_now = t0 + SESSION_TTL - 1;
  assert_true(load_token(f, o.zToken));
  g_now = t0 + SESSION_TTL;
  assert_false(load_token(f, o.zToken));
  g_now = t0 + SESSION_TTL + 3600;
  assert_false(load_token(f, o.zToken));
}

static void test_idle_expiry(void **state)
{
  fixture *f = *state;
  opened o;
  time_t t0 = g_now;
  open_session(f, f->zAlice, &o);
  g_now = t0 + SESSION_IDLE - 1;
  assert_true(load_token(f, o.zToken)); /* used: the idle clock restarts */
  g_now = t0 + 2 * SESSION_IDLE - 2;
  assert_true(load_token(f, o.zToken));
  g_now += SESSION_IDLE + 1;
  assert_false(load_token(f, o.zToken));
}

static void test_idle_expiry_without_use(void **state)
{
  fixture *f = *state;
  opened o;
  time_t t0 = g_now;
  open_session(f, f->zAlice, &o);
  g_now = t0 + SESSION_IDLE;
  assert_false(load_token(f, o.zToken));
}

static void test_touch_at_most_once_a_minute(void **state)
{
  fixture *f = *state;
  opened o;
  time_t t0 = g_now;
  open_session(f, f->zAlice, &o);
  g_now = t0 + 30;
  assert_true(load_token(f, o.zToken));
  assert_int_equal(db_int(f->node.db, -1, "SELECT last_seen FROM sessions WHERE token_hash = ?", "t", o.zHash), t0);
  g_now = t0 + 61;
  assert_true(load_token(f, o.zToken));
  assert_int_equal(db_int(f->node.db, -1, "SELECT last_seen FROM sessions WHERE token_hash = ?", "t", o.zHash),
                   t0 + 61);
}

static void test_expired_sessions_are_swept(void **state)
{
  fixture *f = *state;
  opened o;
  time_t t0 = g_now;
  open_session(f, f->zAlice, &o);
  g_now = t0 + SESSION_TTL + 10;
  assert_false(load_token(f, o.zToken));
  /* expired rows are swept when the next session opens */
  open_session(f, f->zBob, &o);
  assert_int_equal(db_int(f->node.db, -1, "SELECT count(*) FROM sessions WHERE account_id = ?", "t", f->zAlice), 0);
}

static void test_disabled_account_has_no_session(void **state)
{
  fixture *f = *state;
  opened o;
  open_session(f, f->zAlice, &o);
  assert_int_equal(db_exec(f->node.db, "UPDATE accounts SET disabled = 1 WHERE id = ?", "t", f->zAlice), 0);
  assert_false(load_token(f, o.zToken));
}

static void test_close_ends_session_and_clears_cookie(void **state)
{
  fixture *f = *state;
  opened o;
  zc_req r;
  char zCookie[160];
  open_session(f, f->zAlice, &o);
  req_init(&r, f);
  snprintf(zCookie, sizeof zCookie, SESSION_COOKIE "=%s", o.zToken);
  snprintf(r.zCookie, sizeof r.zCookie, "%s", zCookie);
  session_load(&r);
  assert_non_null(r.pSess);
  assert_int_equal(session_close(&r), 0);
  assert_null(r.pSess);
  assert_non_null(strstr(r.outHeaders.z, "Set-Cookie: " SESSION_COOKIE "=;"));
  assert_non_null(strstr(r.outHeaders.z, "Max-Age=0"));
  http_req_reset(&r);
  assert_false(load_token(f, o.zToken));
  assert_int_equal(db_int(f->node.db, -1, "SELECT count(*) FROM sessions", NULL), 0);
}

static void test_close_without_session_is_harmless(void **state)
{
  fixture *f = *state;
  zc_req r;
  opened o;
  open_session(f, f->zAlice, &o);
  req_init(&r, f);
  assert_int_equal(session_close(&r), 0);
  http_req_reset(&r);
  assert_true(load_token(f, o.zToken));
}

static void test_end_others_keeps_one(void **state)
{
  fixture *f = *state;
  opened a1, a2, a3, b1;
  open_session(f, f->zAlice, &a1);
  open_session(f, f->zAlice, &a2);
  open_session(f, f->zAlice, &a3);
  open_session(f, f->zBob, &b1);
  assert_int_equal(session_end_others(&f->node, f->zAlice, a2.zHash), 0);
  assert_false(load_token(f, a1.zToken));
  assert_true(load_token(f, a2.zToken));
  assert_false(load_token(f, a3.zToken));
  assert_true(load_token(f, b1.zToken)); /* another account's session stays */
}

static void test_end_others_without_keep_ends_all(void **state)
{
  fixture *f = *state;
  opened a1, a2, b1;
  open_session(f, f->zAlice, &a1);
  open_session(f, f->zAlice, &a2);
  open_session(f, f->zBob, &b1);
  assert_int_equal(session_end_others(&f->node, f->zAlice, NULL), 0);
  assert_false(load_token(f, a1.zToken));
  assert_false(load_token(f, a2.zToken));
  assert_true(load_token(f, b1.zToken));
}

/* ---- device cookies ------------------------------------------------------------------- */

/* Issue a device cookie for zAccount; its value into zValue. */
static void issue_device(fixture *f, const char *zAccount, char zValue[256])
{
  zc_req r;
  req_init(&r, f);
  assert_int_equal(session_device_issue(&r, zAccount), 0);
  const char *z = strstr(r.outHeaders.z, "Set-Cookie: " DEVICE_COOKIE "=");
  assert_non_null(z);
  assert_non_null(strstr(z, "; HttpOnly"));
  assert_non_null(strstr(z, "; Path=" DEVICE_COOKIE_PATH));
  z += strlen("Set-Cookie: " DEVICE_COOKIE "=");
  snprintf(zValue, 256, "%.*s", (int)strcspn(z, ";"), z);
  http_req_reset(&r);
}

static int device_of(fixture *f, const char *zValue, const char *zAccount, char zId[33])
{
  zc_req r;
  req_init(&r, f);
  snprintf(r.zCookie, sizeof r.zCookie, "a=1; " DEVICE_COOKIE "=%s", zValue);
  int b = session_device_of(&r, zAccount, zId);
  http_req_reset(&r);
  return b;
}

static void test_device_cookie_is_bound_to_its_account(void **state)
{
  fixture *f = *state;
  char zValue[256], zOther[256], zId[33], zId2[33];
  issue_device(f, f->zAlice, zValue);
  assert_true(device_of(f, zValue, f->zAlice, zId));
  assert_int_equal(strlen(zId), 32);
  assert_false(device_of(f, zValue, f->zBob, zId2)); /* another account's login: untrusted */
  assert_string_equal(zId2, "");
  issue_device(f, f->zAlice, zOther);
  assert_true(device_of(f, zOther, f->zAlice, zId2));
  assert_string_not_equal(zId, zId2); /* each browser its own budget */
}

static void test_device_cookie_forgeries_are_untrusted(void **state)
{
  fixture *f = *state;
  char zValue[256], zBad[300], zId[33];
  issue_device(f, f->zAlice, zValue);
  snprintf(zBad, sizeof zBad, "%s", zValue);
  zBad[strlen(zBad) - 1] ^= 1; /* the MAC */
  assert_false(device_of(f, zBad, f->zAlice, zId));
  /* Bob's account id written over Alice's: the MAC no longer fits */
  snprintf(zBad, sizeof zBad, "%s%s", f->zBob, strchr(zValue, '.'));
  assert_false(device_of(f, zBad, f->zBob, zId));
  assert_false(device_of(f, "", f->zAlice, zId));
  assert_false(device_of(f, "garbage", f->zAlice, zId));
  assert_false(device_of(f, "a.b.c.d", f->zAlice, zId));
  g_now += DEVICE_TTL; /* expired */
  assert_false(device_of(f, zValue, f->zAlice, zId));
}

static void test_cookies_secure_when_configured(void **state)
{
  fixture *f = *state;
  opened o;
  open_session(f, f->zAlice, &o);
  assert_null(strstr(o.zHeader, "Secure"));
  f->node.cfg.bSecureCookies = 1;
  open_session(f, f->zAlice, &o);
  assert_non_null(strstr(o.zHeader, "; Secure"));
  zc_req r;
  req_init(&r, f);
  assert_int_equal(session_device_issue(&r, f->zAlice), 0);
  assert_non_null(strstr(r.outHeaders.z, "; Secure"));
  http_req_reset(&r);
  req_init(&r, f);
  assert_int_equal(session_close(&r), 0);
  assert_non_null(strstr(r.outHeaders.z, "; Secure"));
  http_req_reset(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_open_sets_cookie_with_flags, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_open_then_load_round_trip, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_load_finds_cookie_among_others, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_only_the_hash_is_stored, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_bad_cookies_load_nothing, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_sessions_are_distinct, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_absolute_expiry, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_idle_expiry, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_idle_expiry_without_use, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_touch_at_most_once_a_minute, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_expired_sessions_are_swept, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_disabled_account_has_no_session, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_close_ends_session_and_clears_cookie, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_close_without_session_is_harmless, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_end_others_keeps_one, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_end_others_without_keep_ends_all, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_device_cookie_is_bound_to_its_account, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_device_cookie_forgeries_are_untrusted, setup_node, teardown_node),
      cmocka_unit_test_setup_teardown(test_cookies_secure_when_configured, setup_node, teardown_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
