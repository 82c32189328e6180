/* surge.c - the load generator of the "deadline surge" bench scenario (tools/bench/run.sh).
 *
 * C keep-alive connections to one node on 127.0.0.1, each owning every C-th applicant of
 * the plan (written by surge_setup.py). Timed phase: every connection repeatedly saves
 * (PUT /api/v1/applications/{id}/sections/{name}) each section of each of its applicants
 * in turn, one request in flight per connection, for a warm-up and then DURATION seconds;
 * the latency of every request sent during the measurement is kept. Then every
 * application is submitted once (POST .../submit), all connections at once. Prints
 * "key value" lines for run.sh; any answer other than 200 counts as an error, and the
 * first one is printed with its body.
 *
 * Plain sockets and poll(2); one thread, so a connection's latency includes no queueing in
 * the generator beyond one poll round. Bounded: gives up when nothing moves for 60 s.
 *
 * usage: surge PORT PLAN CONNS DURATION_S WARMUP_S [SUBMIT [NODE_PID]]
 *   SUBMIT 0 skips the submits (to profile saves repeatedly on the same applications).
 *   NODE_PID: also report the CPU the node, this generator and everything else on the
 *   machine used during the measurement (from /proc), so a busy machine shows.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define MAX_SAMPLES (1 << 22) /* latencies kept; beyond this, requests are counted only */
#define IN_MAX (16 << 20)     /* an answer larger than this is an error */
#define OUT_CAP (64 << 10)
#define STALL_S 60.0

typedef struct {
  char *zId, *zToken, *zCsrf;
} applicant;

typedef struct {
  char *zName, *zBody;
  size_t nBody;
  long iSeq; /* offset of the @SEQ@ marker in zBody, or -1 */
} section;

enum { PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_SUBMIT, PH_DONE };
enum { OP_SAVE, OP_SUBMIT };

typedef struct {
  int fd;
  int *aOwn, nOwn;
  int iApp, iSec, iSubmit;
  int bBusy, op, phase, iAppReq, iSecReq;
  char aOut[OUT_CAP];
  size_t nOut, iOut;
  char *aIn;
  size_t nIn, nInCap;
  double t0;
} conn;

static applicant *g_aApp;
static int g_nApp;
static section *g_aSec;
static int g_nSec;
static int g_port;
static unsigned g_seq;

typedef struct {
  float *a;
  long n, nTotal;
} samples;

static samples g_save, g_submit;
static long g_nSaveInWindow;
static long g_nErr, g_nErrSubmit, g_nReconnect;
static long g_aStatus[600];
static char g_zFirstErr[700];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *zMsg) {
  fprintf(stderr, "surge: %s\n", zMsg);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) die("out of memory");
  return p;
}

static void sample_add(samples *s, double ms) {
  if (s->n < MAX_SAMPLES) s->a[s->n++] = (float)ms;
  s->nTotal++;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of sorted a[0..n). */
static double quantile(const float *a, long n, double q) {
  if (n == 0) return 0;
  long k = (long)(q * (double)n + 0.999999);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return a[k - 1];
}

/* ---- CPU accounting (seconds) ---- */

typedef struct {
  double tWall, busy, node, self;
} cpu_snap;

static double proc_stat_busy(void) {
  unsigned long long v[10] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return 0;
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  if (n < 8) return 0;
  /* user nice system idle iowait irq softirq steal: all but idle and iowait */
  return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double proc_pid_cpu(int pid) {
  char zPath[64], zBuf[1024];
  unsigned long long ut = 0, st = 0;
  snprintf(zPath, sizeof zPath, "/proc/%d/stat", pid);
  FILE *f = fopen(zPath, "r");
  if (!f) return 0;
  size_t n = fread(zBuf, 1, sizeof zBuf - 1, f);
  fclose(f);
  zBuf[n] = 0;
  char *z = strrchr(zBuf, ')'); /* after the command name: state is field 3, utime 14, stime 15 */
  if (!z || sscanf(z + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void cpu_take(cpu_snap *s, int nodePid) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s->tWall = now_s();
  s->busy = proc_stat_busy();
  s->node = nodePid > 0 ? proc_pid_cpu(nodePid) : 0;
  s->self = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
            (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the plan ---- */

static char *field(char **pz) {
  char *z = *pz, *t = strchr(z, '\t');
  if (t) {
    *t = 0;
    *pz = t + 1;
  } else {
    *pz = z + strlen(z);
  }
  return z;
}

static void read_plan(const char *zPath) {
  FILE *f = fopen(zPath, "r");
  char *zLine = NULL;
  size_t nCap = 0;
  ssize_t n;
  int nAppCap = 0, nSecCap = 0;
  if (!f) die("cannot open the plan");
  while ((n = getline(&zLine, &nCap, f)) > 0) {
    if (zLine[n - 1] == '\n') zLine[--n] = 0;
    char *z = zLine, *zKind = field(&z);
    if (strcmp(zKind, "A") == 0) {
      if (g_nApp == nAppCap) {
        nAppCap = nAppCap ? 2 * nAppCap : 256;
        g_aApp = realloc(g_aApp, (size_t)nAppCap * sizeof *g_aApp);
        if (!g_aApp) die("out of memory");
      }
      applicant *a = &g_aApp[g_nApp++];
      a->zId = strdup(field(&z));
      a->zToken = strdup(field(&z));
      a->zCsrf = strdup(field(&z));
      if (!a->zId[0] || !a->zToken[0] || !a->zCsrf[0]) die("bad applicant line in the plan");
    } else if (strcmp(zKind, "S") == 0) {
      if (g_nSec == nSecCap) {
        nSecCap = nSecCap ? 2 * nSecCap : 16;
        g_aSec = realloc(g_aSec, (size_t)nSecCap * sizeof *g_aSec);
        if (!g_aSec) die("out of memory");
      }
      section *s = &g_aSec[g_nSec++];
      s->zName = strdup(field(&z));
      s->zBody = strdup(z);
      s->nBody = strlen(s->zBody);
      char *zSeq = strstr(s->zBody, "@SEQ@");
      s->iSeq = zSeq ? zSeq - s->zBody : -1;
      if (s->nBody > OUT_CAP / 2) die("section body too large");
    }
  }
  free(zLine);
  fclose(f);
  if (g_nApp == 0 || g_nSec == 0) die("the plan has no applicants or no sections");
}

/* ---- connections ---- */

static int connect_node(void) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0) die("socket failed");
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)g_port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("surge: connect");
    exit(1);
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static void reconnect(conn *c) {
  if (++g_nReconnect > 10000) die("too many reconnections");
  close(c->fd);
  c->fd = connect_node();
  c->nIn = 0;
  c->bBusy = 0;
}

/* Queue a request on c; the body is copied after the headers. */
static void send_request(conn *c, const char *zMethod, const char *zPath, const applicant *a, const char *zBody,
                         size_t nBody, long iSeq) {
  int n = snprintf(c->aOut, OUT_CAP,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: zc_session=%s\r\nX-CSRF-Token: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   zMethod, zPath, g_port, a->zToken, a->zCsrf, nBody);
  if (n < 0 || (size_t)n + nBody > OUT_CAP) die("request too large");
  memcpy(c->aOut + n, zBody, nBody);
  if (iSeq >= 0) {
    char z[8];
    snprintf(z, sizeof z, "%05u", g_seq++ % 100000u);
    memcpy(c->aOut + n + iSeq, z, 5);
  }
  c->nOut = (size_t)n + nBody;
  c->iOut = 0;
  c->nIn = 0;
  c->bBusy = 1;
  c->t0 = now_s();
  ssize_t nSent = send(c->fd, c->aOut, c->nOut, MSG_NOSIGNAL); /* poll(2) sends the rest, or sees the error */
  if (nSent > 0) c->iOut = (size_t)nSent;
}

static void next_save(conn *c, int phase) {
  char zPath[256];
  const applicant *a = &g_aApp[c->aOwn[c->iApp]];
  const section *s = &g_aSec[c->iSec];
  snprintf(zPath, sizeof zPath, "/api/v1/applications/%s/sections/%s", a->zId, s->zName);
  c->op = OP_SAVE;
  c->phase = phase;
  c->iAppReq = c->iApp;
  c->iSecReq = c->iSec;
  send_request(c, "PUT", zPath, a, s->zBody, s->nBody, s->iSeq);
  if (++c->iSec == g_nSec) {
    c->iSec = 0;
    c->iApp = (c->iApp + 1) % c->nOwn;
  }
}

static void next_submit(conn *c) {
  char zPath[256];
  const applicant *a = &g_aApp[c->aOwn[c->iSubmit++]];
  snprintf(zPath, sizeof zPath, "/api/v1/applications/%s/submit", a->zId);
  c->op = OP_SUBMIT;
  c->phase = PH_SUBMIT;
  c->iAppReq = c->iSubmit - 1;
  send_request(c, "POST", zPath, a, "{}", 2, -1);
}

static void note_error(conn *c, int status, const char *zBody, size_t nBody) {
  if (c->op == OP_SUBMIT) g_nErrSubmit++;
  else g_nErr++;
  if (g_zFirstErr[0]) return;
  const applicant *a = &g_aApp[c->aOwn[c->iAppReq]];
  if (c->op == OP_SUBMIT)
    snprintf(g_zFirstErr, sizeof g_zFirstErr, "%d POST /api/v1/applications/%s/submit: %.*s", status, a->zId,
             (int)(nBody > 400 ? 400 : nBody), zBody ? zBody : "");
  else
    snprintf(g_zFirstErr, sizeof g_zFirstErr, "%d PUT /api/v1/applications/%s/sections/%s: %.*s", status, a->zId,
             g_aSec[c->iSecReq].zName, (int)(nBody > 400 ? 400 : nBody), zBody ? zBody : "");
}

/* A request is over (answered with status, or status 0 when the connection broke). */
static void finish(conn *c, int status, const char *zBody, size_t nBody, double tEnd, double tMeasEnd) {
  double ms = (tEnd - c->t0) * 1e3;
  c->bBusy = 0;
  if (status >= 0 && status < 600) g_aStatus[status]++;
  if (status != 200) note_error(c, status, zBody, nBody);
  if (c->op == OP_SUBMIT) {
    sample_add(&g_submit, ms);
  } else if (c->phase == PH_MEASURE) {
    sample_add(&g_save, ms);
    if (status == 200 && tEnd <= tMeasEnd) g_nSaveInWindow++;
  }
}

/* Try to parse one whole answer from c->aIn. 1 when done (and *pbClose set), 0 when more
 * is needed, -1 when it cannot be parsed. */
static int parse_answer(conn *c, int *pStatus, size_t *pBodyOff, size_t *pBodyLen, int *pbClose) {
  char *zEnd = memmem(c->aIn, c->nIn, "\r\n\r\n", 4);
  if (!zEnd) return c->nIn > 65536 ? -1 : 0;
  size_t nHead = (size_t)(zEnd - c->aIn) + 4;
  long nLen = -1;
  int status = 0;
  *pbClose = 0;
  if (sscanf(c->aIn, "HTTP/1.%*d %d", &status) != 1) return -1;
  for (char *z = c->aIn; z < zEnd;) {
    char *zEol = memmem(z, (size_t)(zEnd + 2 - z), "\r\n", 2);
    if (!zEol) break;
    if ((size_t)(zEol - z) > 15 && strncasecmp(z, "content-length:", 15) == 0) nLen = atol(z + 15);
    else if ((size_t)(zEol - z) > 11 && strncasecmp(z, "connection:", 11) == 0 && memmem(z, (size_t)(zEol - z), "close", 5))
      *pbClose = 1;
    else if ((size_t)(zEol - z) > 18 && strncasecmp(z, "transfer-encoding:", 18) == 0)
      return -1; /* the API always sends a length */
    z = zEol + 2;
  }
  if (nLen < 0 || nLen > IN_MAX) return -1;
  if (c->nIn < nHead + (size_t)nLen) return 0;
  *pStatus = status;
  *pBodyOff = nHead;
  *pBodyLen = (size_t)nLen;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 6 || argc > 8) {
    fprintf(stderr, "usage: surge PORT PLAN CONNS DURATION_S WARMUP_S [SUBMIT [NODE_PID]]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  g_port = atoi(argv[1]);
  int nConn = atoi(argv[3]);
  double duration = atof(argv[4]), warmup = atof(argv[5]);
  int bSubmit = argc >= 7 ? atoi(argv[6]) != 0 : 1;
  int nodePid = argc >= 8 ? atoi(argv[7]) : 0;
  cpu_snap cpu0 = {0}, cpu1 = {0};
  if (g_port <= 0 || g_port > 65535 || nConn <= 0 || nConn > 4096 || duration <= 0 || duration > 3600 || warmup < 0 ||
      warmup > 600)
    die("bad arguments");
  read_plan(argv[2]);
  if (nConn > g_nApp) nConn = g_nApp;
  g_save.a = xmalloc(MAX_SAMPLES * sizeof(float));
  g_submit.a = xmalloc((size_t)g_nApp * sizeof(float) + sizeof(float));

  conn *aConn = calloc((size_t)nConn, sizeof *aConn);
  struct pollfd *aPoll = calloc((size_t)nConn, sizeof *aPoll);
  if (!aConn || !aPoll) die("out of memory");
  for (int i = 0; i < nConn; i++) {
    conn *c = &aConn[i];
    c->aOwn = xmalloc(((size_t)g_nApp / (size_t)nConn + 1) * sizeof(int));
    for (int k = i; k < g_nApp; k += nConn) c->aOwn[c->nOwn++] = k;
    c->iSec = i % g_nSec; /* spread the sections over the connections from the start */
    c->nInCap = 256 << 10;
    c->aIn = xmalloc(c->nInCap);
    c->fd = connect_node();
  }

  double tStart = now_s(), tMeas = tStart + warmup, tMeasEnd = tMeas + duration, tSub = 0, tSubEnd = 0;
  double tLastProgress = tStart;
  int phase = warmup > 0 ? PH_WARMUP : PH_MEASURE;
  if (phase == PH_MEASURE) cpu_take(&cpu0, nodePid);
  while (phase != PH_DONE) {
    double t = now_s();
    int nBusy = 0, nLeft = 0;
    if (phase == PH_WARMUP && t >= tMeas) {
      phase = PH_MEASURE;
      cpu_take(&cpu0, nodePid);
    }
    if (phase == PH_MEASURE && t >= tMeasEnd) {
      phase = PH_DRAIN;
      cpu_take(&cpu1, nodePid);
    }
    for (int i = 0; i < nConn; i++) nBusy += aConn[i].bBusy;
    if (phase == PH_DRAIN && nBusy == 0) {
      phase = PH_SUBMIT;
      tSub = now_s();
    }
    for (int i = 0; i < nConn; i++) {
      conn *c = &aConn[i];
      if (c->bBusy) continue;
      if (phase == PH_WARMUP || phase == PH_MEASURE) next_save(c, phase);
      else if (phase == PH_SUBMIT && bSubmit && c->iSubmit < c->nOwn) next_submit(c);
    }
    if (phase == PH_SUBMIT) {
      for (int i = 0; i < nConn; i++) nLeft += aConn[i].bBusy || (bSubmit && aConn[i].iSubmit < aConn[i].nOwn);
      if (nLeft == 0) {
        tSubEnd = now_s();
        phase = PH_DONE;
        break;
      }
    }
    if (t - tLastProgress > STALL_S) die("no answer for 60 s: giving up");

    for (int i = 0; i < nConn; i++) {
      conn *c = &aConn[i];
      aPoll[i].fd = c->bBusy ? c->fd : -1;
      aPoll[i].events = c->bBusy ? (c->iOut < c->nOut ? POLLOUT : POLLIN) : 0;
      aPoll[i].revents = 0;
    }
    int nReady = poll(aPoll, (nfds_t)nConn, 50);
    if (nReady < 0) {
      if (errno == EINTR) continue;
      die("poll failed");
    }
    for (int i = 0; i < nConn && nReady > 0; i++) {
      conn *c = &aConn[i];
      if (!aPoll[i].revents) continue;
      nReady--;
      if (c->iOut < c->nOut) {
        ssize_t n = send(c->fd, c->aOut + c->iOut, c->nOut - c->iOut, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
          finish(c, 0, "connection broken while sending", 31, now_s(), tMeasEnd);
          reconnect(c);
          continue;
        }
        c->iOut += (size_t)n;
        continue;
      }
      for (;;) {
        if (c->nIn + 1 >= c->nInCap) { /* room for a terminating NUL */
          if (c->nInCap >= IN_MAX) break;
          c->nInCap *= 2;
          c->aIn = realloc(c->aIn, c->nInCap);
          if (!c->aIn) die("out of memory");
        }
        ssize_t n = recv(c->fd, c->aIn + c->nIn, c->nInCap - c->nIn - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
          finish(c, 0, "connection closed by the node", 29, now_s(), tMeasEnd);
          reconnect(c);
          break;
        }
        c->nIn += (size_t)n;
        c->aIn[c->nIn] = 0;
        int status = 0, bClose = 0;
        size_t iBody = 0, nBody = 0;
        int rc = parse_answer(c, &status, &iBody, &nBody, &bClose);
        if (rc == 0) continue;
        tLastProgress = now_s();
        if (rc < 0) {
          finish(c, 0, "unparsable answer", 17, tLastProgress, tMeasEnd);
          reconnect(c);
          break;
        }
        finish(c, status, c->aIn + iBody, nBody, tLastProgress, tMeasEnd);
        if (bClose) reconnect(c);
        break;
      }
    }
  }

  qsort(g_save.a, (size_t)g_save.n, sizeof(float), cmp_float);
  qsort(g_submit.a, (size_t)g_submit.n, sizeof(float), cmp_float);
  double subDur = tSubEnd - tSub;
  printf("conns %d\napplicants %d\nsections %d\nduration %.3f\n", nConn, g_nApp, g_nSec, duration);
  printf("saves %ld\nsaves_in_window %ld\nsave_rps %.1f\n", g_save.nTotal, g_nSaveInWindow,
         (double)g_nSaveInWindow / duration);
  printf("save_p50_ms %.2f\nsave_p90_ms %.2f\nsave_p99_ms %.2f\nsave_max_ms %.2f\n", quantile(g_save.a, g_save.n, 0.50),
         quantile(g_save.a, g_save.n, 0.90), quantile(g_save.a, g_save.n, 0.99), g_save.n ? g_save.a[g_save.n - 1] : 0.0);
  printf("save_errors %ld\n", g_nErr);
  printf("submits %ld\nsubmit_seconds %.3f\nsubmit_rps %.1f\n", g_submit.nTotal, subDur,
         subDur > 0 ? (double)g_submit.nTotal / subDur : 0.0);
  printf("submit_p50_ms %.2f\nsubmit_p99_ms %.2f\nsubmit_max_ms %.2f\nsubmit_errors %ld\n",
         quantile(g_submit.a, g_submit.n, 0.50), quantile(g_submit.a, g_submit.n, 0.99),
         g_submit.n ? g_submit.a[g_submit.n - 1] : 0.0, g_nErrSubmit);
  printf("reconnects %ld\n", g_nReconnect);
  double w = cpu1.tWall - cpu0.tWall;
  if (w > 0) {
    double node = (cpu1.node - cpu0.node) / w, self = (cpu1.self - cpu0.self) / w, busy = (cpu1.busy - cpu0.busy) / w;
    printf("cpu_cores %ld\ncpu_node %.2f\ncpu_generator %.2f\ncpu_other %.2f\n", sysconf(_SC_NPROCESSORS_ONLN),
           nodePid > 0 ? node : -1.0, self, busy - self - (nodePid > 0 ? node : 0));
    if (nodePid > 0 && g_save.nTotal > 0)
      printf("cpu_node_ms_per_save %.3f\n", 1e3 * (cpu1.node - cpu0.node) / (double)g_save.nTotal);
  }
  printf("statuses");
  for (int i = 0; i < 600; i++)
    if (g_aStatus[i]) printf(" %d:%ld", i, g_aStatus[i]);
  printf("\n");
  if (g_zFirstErr[0]) {
    for (char *z = g_zFirstErr; *z; z++)
      if (*z == '\n' || *z == '\r') *z = ' ';
    printf("first_error %s\n", g_zFirstErr);
  }
  for (int i = 0; i < nConn; i++) close(aConn[i].fd);
  return 0;
}
