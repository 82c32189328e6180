/* router.c - from a request to its handler, always through the same steps (router.h). */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blob.h"
#include "db.h"
#include "live.h"
#include "session.h"

static const struct { unsigned role; const char *zName, *zLabel; } g_roleNames[] = {
  {ROLE_APPLICANT, "applicant", "申请人"},
  {ROLE_UNIT_ADMIN, "unit_admin", "基层单位管理员"},
  {ROLE_DEPT_ADMIN, "dept_admin", "推荐单位管理员"},
  {ROLE_COMMITTEE_ADMIN, "committee_admin", "评审委员会管理员"},
  {ROLE_NODE_ADMIN, "node_admin", "节点管理员"},
  {ROLE_AUDITOR, "auditor", "审计员"},
};
#define N_ROLES (int)(sizeof g_roleNames / sizeof g_roleNames[0])

const char *role_name(unsigned role) {
  for (int i = 0; i < N_ROLES; i++)
    if (g_roleNames[i].role == role) return g_roleNames[i].zName;
  return "";
}

const char *role_label(unsigned role) {
  for (int i = 0; i < N_ROLES; i++)
    if (g_roleNames[i].role == role) return g_roleNames[i].zLabel;
  return "";
}

unsigned role_from_name(const char *zName) {
  for (int i = 0; zName && i < N_ROLES; i++)
    if (strcmp(g_roleNames[i].zName, zName) == 0) return g_roleNames[i].role;
  return 0;
}

/* Does zPath match zPattern? Captures {…} segments into r->aParam. */
static int pattern_match(zc_req *r, const char *zPattern, const char *zPath) {
  const char *p = zPattern, *s = zPath;
  size_t nBuf = 0;
  r->nParam = 0;
  while (*p && *s) {
    if (*p == '{') {
      const char *pEnd = strchr(p, '}');
      size_t n = strcspn(s, "/");
      if (!pEnd || n == 0 || r->nParam == HTTP_MAX_PARAMS || nBuf + n + 1 > sizeof r->zParamBuf)
        return 0;
      memcpy(r->zParamBuf + nBuf, s, n);
      r->zParamBuf[nBuf + n] = 0;
      r->aParam[r->nParam++] = r->zParamBuf + nBuf;
      nBuf += n + 1;
      p = pEnd + 1;
      s += n;
    } else if (*p++ != *s++) {
      return 0;
    }
  }
  return *p == 0 && (*s == 0 || (s[0] == '/' && s[1] == 0));
}

const zc_route *router_match(zc_req *r, int *pbPathKnown) {
  *pbPathKnown = 0;
  for (int i = 0; i < g_nRoutes; i++) {
    if (!pattern_match(r, g_routes[i].zPattern, r->zPath)) continue;
    if (g_routes[i].method == r->method) return &g_routes[i];
    *pbPathKnown = 1;
  }
  r->nParam = 0;
  return NULL;
}

long router_body_limit(const zc_node *p, const zc_route *pRoute) {
  return pRoute && pRoute->body == BODY_RAW ? (long)BLOB_MAX : p->cfg.nMaxBody;
}

/* Why this caller may not use this route, in words a person understands. */
static int deny_role(zc_req *r) {
  unsigned want = r->pRoute->roles, have = r->pSess->role;
  if (want == ROLE_APPLICANT && have == ROLE_UNIT_ADMIN && strncmp(r->pRoute->zPattern, "/applications", 13) == 0)
    return http_error(r, 403, "unit_admin_cannot_apply",
                      "本账号为基层单位管理员账号，不能申报职称（一个账号只有一个角色）；请使用个人申请人账号申报");
  return http_error(r, 403, "forbidden", "您的账号角色（%s）无权进行此操作", role_label(have));
}

/* Is the Content-Type `application/json`, with at most a UTF-8 charset parameter (RFC
 * 8259: JSON is UTF-8)? `application/jsonx` or `application/json-patch+json` is not. */
static int is_json_type(const char *z) {
  static const char zType[] = "application/json";
  z += strspn(z, " \t");
  if (strncasecmp(z, zType, sizeof zType - 1) != 0) return 0;
  z += sizeof zType - 1;
  z += strspn(z, " \t");
  if (*z == 0) return 1;
  if (*z++ != ';') return 0;
  z += strspn(z, " \t");
  if (strncasecmp(z, "charset=", 8) != 0) return 0;
  z += 8;
  int bQuoted = *z == '"';
  z += bQuoted;
  if (strncasecmp(z, "utf-8", 5) != 0) return 0;
  z += 5;
  if (bQuoted && *z++ != '"') return 0;
  return z[strspn(z, " \t")] == 0;
}

static int parse_json_body(zc_req *r) {
  json_error_t err;
  if (r->body.n == 0) {
    r->pJson = json_object();
    return 0;
  }
  /* JSON only as JSON: a cross-site form can send text/plain without asking first */
  if (!is_json_type(r->zContentType))
    return http_error(r, 415, "unsupported_type", "请求内容须为JSON（Content-Type: application/json）"), -1;
  /* NUL inside strings is let through so that the check below names the field. */
  r->pJson = json_loadb(r->body.z, r->body.n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
  if (!r->pJson || !json_is_object(r->pJson)) {
    json_decref(r->pJson);
    r->pJson = NULL;
    return http_error(r, 400, "bad_json", "请求内容不是有效的JSON对象"), -1;
  }
  return http_check_body_text(r);
}

/* The node speaks plain HTTP (TLS, where used, ends in front of it at the same host and
 * port as the Host header names): its pages' origin is http://HOST. */
#define NODE_SCHEME "http"
#define NODE_DEFAULT_PORT 80

/* Split "host[:port]" (a [v6] literal keeps its brackets) into its host (length *pnHost)
 * and port; -1 when it is not of that form. */
static int split_host_port(const char *z, size_t *pnHost, long *pPort) {
  const char *zColon;
  if (*z == '[') {
    const char *zEnd = strchr(z, ']');
    if (!zEnd) return -1;
    zColon = zEnd[1] == ':' ? zEnd + 1 : NULL;
    if (!zColon && zEnd[1]) return -1;
  } else {
    zColon = strchr(z, ':');
  }
  *pnHost = zColon ? (size_t)(zColon - z) : strlen(z);
  *pPort = NODE_DEFAULT_PORT;
  if (*pnHost == 0 || z[strcspn(z, "/?#@ \\")]) return -1; /* no path, user or space */
  if (zColon) {
    char *zEnd = NULL;
    if (zColon[1] < '0' || zColon[1] > '9') return -1;
    *pPort = strtol(zColon + 1, &zEnd, 10);
    if (*zEnd || *pPort <= 0 || *pPort > 65535) return -1;
  }
  return 0;
}

/* Origin "scheme://host[:port]" names this node as the Host header does: same scheme, the
 * host compared without regard to case, the port with its default. "null" (a sandboxed
 * or file page) is another origin. */
static int same_origin(const zc_req *r) {
  static const char zScheme[] = NODE_SCHEME "://";
  size_t nOrigin, nHost;
  long iOrigin, iHost;
  if (strncasecmp(r->zOrigin, zScheme, sizeof zScheme - 1) != 0) return 0;
  const char *zOrigin = r->zOrigin + sizeof zScheme - 1;
  if (split_host_port(zOrigin, &nOrigin, &iOrigin) || split_host_port(r->zHost, &nHost, &iHost)) return 0;
  return nOrigin == nHost && strncasecmp(zOrigin, r->zHost, nHost) == 0 && iOrigin == iHost;
}

/* The checks before any handler runs; 0 to go on, -1 when the answer is already set. */
static int check_access(zc_req *r) {
  const zc_route *pRoute = r->pRoute;
  /* A browser says where a page came from: only this node's own pages may change things
   * (this also stops a foreign page from logging a visitor into someone else's account). */
  if (r->method != HTTP_GET && r->zOrigin[0] && !same_origin(r))
    return http_error(r, 403, "cross_origin", "不接受来自其他网站页面的请求"), -1;
  session_load(r);
  /* API.md: every non-GET request carrying a live session cookie sends its CSRF token,
   * whatever the route (a login or registration too). */
  if (r->pSess && r->method != HTTP_GET && strcmp(r->zCsrf, r->pSess->zCsrf) != 0)
    return http_error(r, 403, "csrf", "页面已过期或缺少安全令牌，请刷新页面后重试"), -1;
  if (pRoute->roles == ROLE_ANYONE) return 0;
  if (!r->pSess) return http_error(r, 401, "login_required", "请先登录"), -1;
  if (!(pRoute->roles & r->pSess->role)) return deny_role(r), -1;
  return 0;
}

int router_may_call(zc_req *r) {
  session_load(r);
  return r->pRoute->roles == ROLE_ANYONE || (r->pSess && (r->pRoute->roles & r->pSess->role));
}

/* Remove Set-Cookie lines from the answer's headers. */
static void drop_cookies(zc_req *r) {
  zc_buf keep = {0};
  const char *z = r->outHeaders.z;
  while (z && *z) {
    const char *zEol = strstr(z, "\r\n");
    size_t n = zEol ? (size_t)(zEol - z) + 2 : strlen(z);
    if (strncasecmp(z, "Set-Cookie:", 11) != 0) buf_append(&keep, z, n);
    z += n;
  }
  buf_free(&r->outHeaders);
  r->outHeaders = keep;
}

/* Run a handler inside a transaction for anything that may write; roll back unless it
 * answered with success. */
int router_run(zc_req *r, int (*xRun)(zc_req *, void *), void *pArg) {
  int bWrite = r->method != HTTP_GET;
  sqlite3 *db = r->node->db;
  if (bWrite && db_begin(db)) return http_error(r, 503, "busy", "系统繁忙，请稍后重试");
  int rc = xRun(r, pArg);
  if (rc == HTTP_PENDING) {
    if (bWrite) db_rollback(db); /* a deferring handler writes only when it resumes */
    return HTTP_PENDING;
  }
  if (rc != 0 && r->status < 400) http_error(r, 500, "internal", "服务器内部错误，请稍后重试");
  if (r->status == 0) http_error(r, 500, "internal", "服务器内部错误，请稍后重试");
  if (r->status >= 400) drop_cookies(r); /* no cookie for a session that was rolled back */
  if (bWrite) {
    if (r->status >= 400) db_rollback(db);
    else if (db_commit(db)) {
      db_rollback(db);
      r->out.n = 0;
      http_error(r, 500, "internal", "保存失败，请稍后重试");
    } else
      blob_release(r->node); /* files the committed change stopped using */
  }
  live_flush(r, r->status < 400);
  return 0;
}

static int run_route_handler(zc_req *r, void *pArg) {
  (void)pArg;
  return r->pRoute->xHandler(r);
}

int router_dispatch(zc_req *r) {
  int bKnown = 0;
  if (!r->pRoute) r->pRoute = router_match(r, &bKnown);
  if (!r->pRoute) {
    if (bKnown) return http_error(r, 405, "method_not_allowed", "不支持此请求方法");
    return http_error(r, 404, "not_found", "接口不存在");
  }
  if (check_access(r)) return 0;
  /* A node restored from a backup must not write a different entry at a seq it used. */
  if (r->pRoute->zEntries && r->node->bRecovering)
    return http_error(r, 503, "recovering", "本节点正在与其他节点核对本节点的记录，请稍候几秒再试");
  if (r->pRoute->body == BODY_JSON && parse_json_body(r)) return 0;
  return router_run(r, run_route_handler, NULL);
}
