/* worker.c - a few threads for slow, pure work (worker.h). Jobs go in a queue; finished
 * jobs come back on a second list and the event loop is woken to resume them. */
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>

struct zc_job {
  zc_req *r;
  worker_fn xWork;
  worker_done_fn xDone;
  void *pCtx;
  void (*xFree)(void *);
  zc_job *pNext;
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  zc_job *pTodo, *pTodoTail;
  zc_job *pDone, *pDoneTail;
  int nTodo;
  pthread_t aThread[8];
  int nThread;
  int bStop;
  int bInline;
  void (*xWake)(void *);
  void *pWakeArg;
} g_w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void list_push(zc_job **ppHead, zc_job **ppTail, zc_job *j) {
  j->pNext = NULL;
  if (*ppTail) (*ppTail)->pNext = j;
  else *ppHead = j;
  *ppTail = j;
}

static zc_job *list_pop(zc_job **ppHead, zc_job **ppTail) {
  zc_job *j = *ppHead;
  if (j) {
    *ppHead = j->pNext;
    if (!*ppHead) *ppTail = NULL;
  }
  return j;
}

static void *worker_main(void *pArg) {
  (void)pArg;
  pthread_mutex_lock(&g_w.mu);
  for (;;) {
    while (!g_w.bStop && !g_w.pTodo) pthread_cond_wait(&g_w.cv, &g_w.mu);
    if (g_w.bStop) break;
    zc_job *j = list_pop(&g_w.pTodo, &g_w.pTodoTail);
    g_w.nTodo--;
    pthread_mutex_unlock(&g_w.mu);
    j->xWork(j->pCtx);
    pthread_mutex_lock(&g_w.mu);
    list_push(&g_w.pDone, &g_w.pDoneTail, j);
    if (g_w.xWake) g_w.xWake(g_w.pWakeArg);
  }
  pthread_mutex_unlock(&g_w.mu);
  return NULL;
}

int worker_start(int nThreads, void (*xWake)(void *), void *pWakeArg) {
  g_w.xWake = xWake;
  g_w.pWakeArg = pWakeArg;
  g_w.bStop = 0;
  if (nThreads > 8) nThreads = 8;
  for (g_w.nThread = 0; g_w.nThread < nThreads; g_w.nThread++)
    if (pthread_create(&g_w.aThread[g_w.nThread], NULL, worker_main, NULL)) return -1;
  return 0;
}

void worker_stop(void) {
  pthread_mutex_lock(&g_w.mu);
  g_w.bStop = 1;
  pthread_cond_broadcast(&g_w.cv);
  pthread_mutex_unlock(&g_w.mu);
  for (int i = 0; i < g_w.nThread; i++) pthread_join(g_w.aThread[i], NULL);
  g_w.nThread = 0;
  /* Jobs never resumed are simply dropped: the requests they belong to are gone too. */
  zc_job *j;
  while ((j = list_pop(&g_w.pTodo, &g_w.pTodoTail)) || (j = list_pop(&g_w.pDone, &g_w.pDoneTail)))
    job_free(j);
}

void worker_set_inline(int bInline) { g_w.bInline = bInline; }

int worker_defer(zc_req *r, worker_fn xWork, worker_done_fn xDone, void *pCtx,
                 void (*xFree)(void *pCtx)) {
  if (g_w.bInline || g_w.nThread == 0) {
    xWork(pCtx);
    int rc = xDone(r, pCtx);
    if (xFree) xFree(pCtx);
    return rc;
  }
  pthread_mutex_lock(&g_w.mu);
  int bFull = g_w.nTodo >= WORKER_MAX_QUEUE;
  pthread_mutex_unlock(&g_w.mu);
  if (bFull) {
    if (xFree) xFree(pCtx);
    return HTTP_BUSY;
  }
  zc_job *j = calloc(1, sizeof(*j));
  if (!j) return -1;
  j->r = r;
  j->xWork = xWork;
  j->xDone = xDone;
  j->pCtx = pCtx;
  j->xFree = xFree;
  pthread_mutex_lock(&g_w.mu);
  list_push(&g_w.pTodo, &g_w.pTodoTail, j);
  g_w.nTodo++;
  pthread_cond_signal(&g_w.cv);
  pthread_mutex_unlock(&g_w.mu);
  return HTTP_PENDING;
}

zc_job *worker_hold(zc_req *r, worker_done_fn xDone, void *pCtx, void (*xFree)(void *pCtx)) {
  zc_job *j = calloc(1, sizeof(*j));
  if (!j) return NULL;
  j->r = r;
  j->xDone = xDone;
  j->pCtx = pCtx;
  j->xFree = xFree;
  return j;
}

void worker_release(zc_job *j) {
  pthread_mutex_lock(&g_w.mu);
  list_push(&g_w.pDone, &g_w.pDoneTail, j);
  if (g_w.xWake) g_w.xWake(g_w.pWakeArg);
  pthread_mutex_unlock(&g_w.mu);
}

zc_job *worker_take_done(void) {
  pthread_mutex_lock(&g_w.mu);
  zc_job *j = list_pop(&g_w.pDone, &g_w.pDoneTail);
  pthread_mutex_unlock(&g_w.mu);
  return j;
}

zc_req *job_req(zc_job *j) { return j->r; }
int job_finish(zc_job *j) { return j->xDone(j->r, j->pCtx); }

void job_free(zc_job *j) {
  if (j->xFree) j->xFree(j->pCtx);
  free(j);
}
