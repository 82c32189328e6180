/* fedcall.c - calls from node to node over the federation links (fedcall.h): the calls
 * waiting for a reply, their deadlines, and the methods this node serves. */
#include "fedcall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "fedlink.h"
#include "worker.h"

typedef struct fc_call {
  struct fc_call *pNext;
  json_int_t iId;
  char zNode[16];           /* the callee: its reply is taken from it alone */
  unsigned long long iLink; /* the link it went out on (re-homed when that link is replaced) */
  time_t tDeadline;
  fedcall_result res;
  /* from a request: */
  zc_job *pJob;
  fedcall_done_fn xDone;
  void *pCtx;
  void (*xFree)(void *);
  /* or not: */
  fedcall_reply_fn xReply;
} fc_call;

static struct {
  zc_node *p;
  struct lws_context *ctx;
  const fedcall_method *aMethods;
  fc_call *pCalls; /* waiting for a reply */
  int nCalls;
  json_int_t iNextId;
  lws_sorted_usec_list_t sul;
} g_fc;

static fc_call *call_new(void) {
  if (g_fc.nCalls >= FEDCALL_MAX_PENDING) return NULL;
  fc_call *c = calloc(1, sizeof *c);
  if (c) c->iId = ++g_fc.iNextId;
  return c;
}

static void call_free(void *pCall) {
  fc_call *c = pCall;
  if (c->xFree) c->xFree(c->pCtx);
  json_decref(c->res.pResult);
  free(c);
}

/* The request's turn: worker.c runs this in the router's transaction. */
static int call_resume(zc_req *r, void *pCall) {
  fc_call *c = pCall;
  return c->xDone(r, &c->res, c->pCtx);
}

/* The outcome is known: hand it to whoever waits (once), forget the call. */
static void call_finish(fc_call *c) {
  if (c->pJob) {
    worker_release(c->pJob); /* the job owns c now: call_free runs with it */
  } else {
    if (c->xReply) c->xReply(c->pCtx, &c->res);
    call_free(c);
  }
}

static void call_unlink(fc_call *c) {
  for (fc_call **pp = &g_fc.pCalls; *pp; pp = &(*pp)->pNext) {
    if (*pp == c) {
      *pp = c->pNext;
      g_fc.nCalls--;
      return;
    }
  }
}

/* Send c's message; 0, or -1 when no link to zNode is up. */
static int call_send(fc_call *c, const char *zNode, const char *zMethod, json_t *pArgs) {
  json_t *m = json_pack("{s:s, s:I, s:s, s:o}", "t", "call", "id", c->iId, "m", zMethod, "a",
                        pArgs ? pArgs : json_object());
  if (!m || fedlink_send_to(zNode, m, &c->iLink)) return -1;
  snprintf(c->zNode, sizeof c->zNode, "%s", zNode);
  c->tDeadline = time(NULL) + FEDCALL_TIMEOUT_SECS;
  c->pNext = g_fc.pCalls;
  g_fc.pCalls = c;
  g_fc.nCalls++;
  return 0;
}

int fedcall_request(zc_req *r, const char *zNode, const char *zMethod, json_t *pArgs, fedcall_done_fn xDone,
                    void *pCtx, void (*xFree)(void *)) {
  fc_call *c = call_new();
  if (!c) {
    fedcall_result res = {.rc = FEDCALL_BUSY};
    json_decref(pArgs);
    int rc = xDone(r, &res, pCtx);
    if (xFree) xFree(pCtx);
    return rc;
  }
  c->xDone = xDone;
  c->pCtx = pCtx;
  c->xFree = xFree;
  if (!g_fc.ctx || call_send(c, zNode, zMethod, pArgs)) {
    c->res.rc = FEDCALL_UNREACHABLE;
    int rc = xDone(r, &c->res, pCtx);
    call_free(c);
    return rc;
  }
  if (!(c->pJob = worker_hold(r, call_resume, c, call_free))) {
    call_unlink(c);
    call_free(c);
    return -1;
  }
  return HTTP_PENDING;
}

void fedcall_send(const char *zNode, const char *zMethod, json_t *pArgs, fedcall_reply_fn xReply, void *pCtx) {
  fc_call *c = call_new();
  if (!c) {
    fedcall_result res = {.rc = FEDCALL_BUSY};
    json_decref(pArgs);
    xReply(pCtx, &res);
    return;
  }
  c->xReply = xReply;
  c->pCtx = pCtx;
  if (!g_fc.ctx || call_send(c, zNode, zMethod, pArgs)) {
    c->res.rc = FEDCALL_UNREACHABLE;
    call_finish(c);
  }
}

/* ---- replies, deadlines, links going down ---- */

static void on_reply(const char *zFrom, json_t *m) {
  json_int_t iId = json_integer_value(json_object_get(m, "id"));
  for (fc_call *c = g_fc.pCalls; c; c = c->pNext) {
    if (c->iId != iId || strcmp(c->zNode, zFrom) != 0) continue; /* only the callee answers */
    call_unlink(c);
    json_t *pResult = json_object_get(m, "r");
    if (json_is_object(pResult)) {
      c->res.rc = FEDCALL_OK;
      c->res.pResult = json_incref(pResult);
    } else {
      c->res.rc = FEDCALL_REFUSED;
      snprintf(c->res.zError, sizeof c->res.zError, "%s", jstr(m, "err") ? jstr(m, "err") : "bad_reply");
    }
    call_finish(c);
    return;
  }
  /* late (timed out already) or unknown: nothing waits for it */
}

/* Fail every waiting call that matches (iLink, or the deadline passed); a call on iLink
 * whose callee has another link up now waits on that one. */
static void fail_calls(unsigned long long iLink, time_t tNow) {
  fc_call **pp = &g_fc.pCalls;
  while (*pp) {
    fc_call *c = *pp;
    unsigned long long iNow;
    if (iLink && c->iLink == iLink && (iNow = fedlink_current(c->zNode)) && iNow != iLink) c->iLink = iNow;
    int bDown = iLink && c->iLink == iLink, bLate = tNow && c->tDeadline <= tNow;
    if (!bDown && !bLate) {
      pp = &c->pNext;
      continue;
    }
    *pp = c->pNext;
    g_fc.nCalls--;
    c->res.rc = bDown ? FEDCALL_UNREACHABLE : FEDCALL_TIMEOUT;
    call_finish(c);
  }
}

void fedcall_link_down(unsigned long long iLink) {
  if (iLink) fail_calls(iLink, 0);
}

static void tick(lws_sorted_usec_list_t *sul) {
  fail_calls(0, time(NULL));
  lws_sul_schedule(g_fc.ctx, 0, sul, tick, LWS_US_PER_SEC / 4);
}

/* ---- serving ---- */

void fedcall_answer(const fedcall_from *pFrom, json_t *pResult, const char *zError) {
  json_t *m = pResult ? json_pack("{s:s, s:I, s:o}", "t", "reply", "id", pFrom->iCall, "r", pResult)
                      : json_pack("{s:s, s:I, s:s}", "t", "reply", "id", pFrom->iCall, "err", zError);
  /* on the link the call came on; if a newer link to the caller replaced it meanwhile,
   * on that one (the caller matches replies by node and id, not by link) */
  unsigned long long iIgnored;
  if (m && fedlink_send_on(pFrom->iLink, json_incref(m))) fedlink_send_to(pFrom->zNode, json_incref(m), &iIgnored);
  json_decref(m);
}

static void on_call(const char *zFrom, unsigned long long iLink, json_t *m) {
  fedcall_from from;
  const char *zMethod = jstr(m, "m");
  json_t *pArgs = json_object_get(m, "a");
  memset(&from, 0, sizeof from);
  snprintf(from.zNode, sizeof from.zNode, "%s", zFrom);
  from.iLink = iLink;
  from.iCall = json_integer_value(json_object_get(m, "id"));
  for (const fedcall_method *pM = g_fc.aMethods; pM && pM->zName; pM++) {
    if (!zMethod || strcmp(pM->zName, zMethod) != 0) continue;
    if (!json_is_object(pArgs)) {
      fedcall_answer(&from, NULL, "bad_arguments");
      return;
    }
    if (db_begin(g_fc.p->db)) {
      fedcall_answer(&from, NULL, "busy");
      return;
    }
    if (pM->xServe(g_fc.p, &from, pArgs) == 0) {
      if (db_commit(g_fc.p->db) == 0) return;
      fprintf(stderr, "zc-node: federation: cannot commit %s for %s\n", zMethod, zFrom);
    }
    db_rollback(g_fc.p->db);
    fedcall_answer(&from, NULL, "internal"); /* a caller that already had an answer ignores this one */
    return;
  }
  fedcall_answer(&from, NULL, "unknown_method");
}

void fedcall_on_message(const char *zFrom, unsigned long long iLink, const char *zT, json_t *m) {
  if (strcmp(zT, "call") == 0) on_call(zFrom, iLink, m);
  else if (strcmp(zT, "reply") == 0) on_reply(zFrom, m);
}

void fedcall_start(zc_node *p, struct lws_context *ctx, const fedcall_method *aMethods) {
  g_fc.p = p;
  g_fc.ctx = ctx;
  g_fc.aMethods = aMethods;
  lws_sul_schedule(ctx, 0, &g_fc.sul, tick, LWS_US_PER_SEC / 4);
}

void fedcall_stop(void) {
  if (!g_fc.ctx) return;
  lws_sul_cancel(&g_fc.sul);
  g_fc.ctx = NULL;
  while (g_fc.pCalls) { /* their requests are gone with the server: freed, not resumed */
    fc_call *c = g_fc.pCalls;
    g_fc.pCalls = c->pNext;
    if (c->pJob) {
      job_free(c->pJob);
    } else {
      c->res.rc = FEDCALL_UNREACHABLE;
      call_finish(c); /* its owner frees what it gave */
    }
  }
  g_fc.nCalls = 0;
}
