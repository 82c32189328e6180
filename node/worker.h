/* worker.h - slow work (Argon2 password hashing, later PDFs) off the event loop. A handler
 * calls worker_defer() and returns HTTP_PENDING; xWork runs on a worker thread with no
 * access to the database; xDone then runs back on the event loop, inside a transaction
 * like any handler, and writes the answer. If the client has gone by then, xDone still
 * runs (so nothing is half done) and its answer is dropped. */
#ifndef ZC_WORKER_H
#define ZC_WORKER_H

#include "http.h"

typedef void (*worker_fn)(void *pCtx);
typedef int (*worker_done_fn)(zc_req *r, void *pCtx);

int worker_defer(zc_req *r, worker_fn xWork, worker_done_fn xDone, void *pCtx,
                 void (*xFree)(void *pCtx));
/* worker_defer answers HTTP_BUSY when WORKER_MAX_QUEUE jobs already wait: the caller
 * answers 503 (a flood of registrations or logins must not grow memory or starve everyone). */
#define WORKER_MAX_QUEUE 256

/* Started by the server with the function that wakes the event loop (lws_cancel_service). */
int worker_start(int nThreads, void (*xWake)(void *), void *pWakeArg);
void worker_stop(void);

/* On the event loop: take the next finished job (NULL when none). The caller runs
 * job_finish() in a transaction, then frees it with job_free(). */
typedef struct zc_job zc_job;
zc_job *worker_take_done(void);
zc_req *job_req(zc_job *j);
int job_finish(zc_job *j); /* runs xDone */
void job_free(zc_job *j);

/* A job with no work of its own, held until worker_release() (e.g. until another node
 * answers a call: fedcall.c); then xDone runs as for any job. On the event loop only. */
zc_job *worker_hold(zc_req *r, worker_done_fn xDone, void *pCtx, void (*xFree)(void *pCtx));
void worker_release(zc_job *j);

/* Run synchronously (zc-admin and unit tests have no event loop). */
void worker_set_inline(int bInline);

#endif
