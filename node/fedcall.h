/* fedcall.h - calls from one node to another over their federation link (zc-fed.1, TLS,
 * both ends authenticated by their node keys: fedlink.h): identity claims at the
 * registrar, credential checks at an account's home node, claim checks. What travels here
 * may be personal (a password being checked): it never goes into the log.
 *
 * Messages on the link:
 *   call   {"t":"call","id":N,"m":"<method>","a":{..}}      N chosen by the caller
 *   reply  {"t":"reply","id":N,"r":{..}}                     the method's result, or
 *          {"t":"reply","id":N,"err":"<code>"}               it has none (unknown method,
 *                                                            bad arguments, busy)
 * A call whose node has no link up fails at once (FEDCALL_UNREACHABLE); one without a
 * reply within FEDCALL_TIMEOUT_SECS fails then (FEDCALL_TIMEOUT); a link that goes down
 * fails the calls waiting on it. The callee may answer later (after work on a worker
 * thread): it keeps the fedcall_from it was given and answers once with fedcall_answer.
 *
 * From an HTTP handler: fedcall_request() sends the call and returns HTTP_PENDING; the
 * request resumes (worker.h: in a transaction, like any handler) with the outcome. */
#ifndef ZC_FEDCALL_H
#define ZC_FEDCALL_H

#include <jansson.h>
#include <libwebsockets.h>

#include "http.h"
#include "node.h"

#define FEDCALL_TIMEOUT_SECS 5
#define FEDCALL_MAX_PENDING 1024 /* calls waiting for replies; more answer FEDCALL_BUSY */

enum fedcall_rc {
  FEDCALL_OK = 0,           /* the reply's result is in pResult */
  FEDCALL_UNREACHABLE = 1,  /* no link to that node is up */
  FEDCALL_TIMEOUT = 2,      /* no reply in time (the callee may still have acted) */
  FEDCALL_REFUSED = 3,      /* the callee answered an error code (zError) */
  FEDCALL_BUSY = 4,         /* too many calls wait here */
};

typedef struct fedcall_result {
  int rc;            /* enum fedcall_rc */
  json_t *pResult;   /* FEDCALL_OK: the result object (owned by the result) */
  char zError[64];   /* FEDCALL_REFUSED: the callee's code */
} fedcall_result;

/* Send zMethod(pArgs) (stolen) to node zNode for the request r: HTTP_PENDING, and r
 * resumes with xDone(r, result, pCtx) in a transaction; pCtx is freed with xFree after.
 * When the call cannot even be sent, xDone runs at once (rc UNREACHABLE or BUSY) and its
 * answer is returned. */
typedef int (*fedcall_done_fn)(zc_req *r, const fedcall_result *res, void *pCtx);
int fedcall_request(zc_req *r, const char *zNode, const char *zMethod, json_t *pArgs, fedcall_done_fn xDone,
                    void *pCtx, void (*xFree)(void *));

/* Send a call with no request behind it (e.g. a timer's): xReply(pCtx, result) runs on the
 * event loop, outside any transaction, exactly once (at once when it cannot be sent). */
typedef void (*fedcall_reply_fn)(void *pCtx, const fedcall_result *res);
void fedcall_send(const char *zNode, const char *zMethod, json_t *pArgs, fedcall_reply_fn xReply, void *pCtx);

/* ---- the callee's side ---- */

/* Who called, to answer later. */
typedef struct fedcall_from {
  char zNode[16];
  unsigned long long iLink; /* the link it came on (a reply goes back on it or nowhere) */
  json_int_t iCall;
} fedcall_from;

/* A method: runs on the event loop inside a transaction (committed when it returns 0,
 * rolled back otherwise). It answers with fedcall_answer(pFrom, ..) before it returns, or
 * keeps *pFrom and answers later; a method that returns non-zero without answering is
 * answered "internal". pArgs is borrowed. */
typedef int (*fedcall_method_fn)(zc_node *p, const fedcall_from *pFrom, json_t *pArgs);
typedef struct fedcall_method {
  const char *zName;
  fedcall_method_fn xServe;
} fedcall_method;

/* The methods this node serves: a table in routes.c, beside the routes, ending {NULL}. */
extern const fedcall_method g_fedMethods[];

/* Answer a call: pResult (stolen) or, when NULL, the error zError. Dropped when the link
 * it came on is gone. */
void fedcall_answer(const fedcall_from *pFrom, json_t *pResult, const char *zError);

/* ---- wiring (server.c, fedlink.c) ---- */

/* The methods this node serves (a table ending with {NULL}), the node, the event loop. */
void fedcall_start(zc_node *p, struct lws_context *ctx, const fedcall_method *aMethods);
void fedcall_stop(void);
/* fedlink.c: a call or reply arrived on link iLink from node zFrom. */
void fedcall_on_message(const char *zFrom, unsigned long long iLink, const char *zT, json_t *m);
/* fedlink.c: the link iLink went down: its calls fail now. */
void fedcall_link_down(unsigned long long iLink);

#endif
