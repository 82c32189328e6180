/* conns.c - connection accounting (conns.h). Every accepted socket is counted against its
 * peer address and against the node; past either cap it gets a 503 in the error envelope
 * and is closed at once, so that one address cannot take the file descriptors that other
 * clients, the database and the workers need. The node's cap leaves headroom below
 * RLIMIT_NOFILE: accept() must still succeed for the refusal to be sent. */
#include "conns.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "http.h"

#define ADDR_BUCKETS 1024

typedef struct addr_count {
  struct addr_count *pNext;
  int n;
  char zAddr[INET6_ADDRSTRLEN];
} addr_count;

/* One accepted connection, found by its wsi (the user space of a wsi is replaced at each
 * protocol change, and its opaque user data may belong to other code, e.g. clients). */
typedef struct conn_acct {
  struct conn_acct *pNext;
  const struct lws *wsi;
  addr_count *pAddr;
  uint64_t nReadMark; /* bytes read from the socket when the last request's input ended */
  int bMarked;        /* a request's input has ended on it */
  int bHeadersSeen;   /* the headers of a request after the mark reached the gate */
  uint64_t nWritten;  /* the socket's count of bytes written when it was last read (io_of) */
  uint64_t nOurs;     /* bytes the server has handed to lws_write since then */
  time_t tMark;       /* when (CLOCK_MONOTONIC seconds): the connection opened or the mark */
} conn_acct;

static addr_count *g_aAddr[ADDR_BUCKETS];
static conn_acct *g_aConn[ADDR_BUCKETS];
static int g_nOpen;
static int g_nMax = 1024;

void conns_init(void) {
  struct rlimit rl;
  long nFiles = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) nFiles = (long)rl.rlim_cur;
  /* headroom: the database and its WAL, the log, uploads being written, worker pipes,
   * federation clients, and the refusals themselves */
  long nReserve = 48 + nFiles / 16;
  g_nMax = nFiles > nReserve + 16 ? (int)(nFiles - nReserve) : 16;
}

int conns_count(void) { return g_nOpen; }

static unsigned addr_hash(const char *z) {
  unsigned h = 2166136261u;
  while (*z) h = (h ^ (unsigned char)*z++) * 16777619u;
  return h % ADDR_BUCKETS;
}

static unsigned wsi_hash(const struct lws *wsi) { return (unsigned)(((uintptr_t)wsi >> 4) % ADDR_BUCKETS); }

static conn_acct *acct_of(const struct lws *wsi) {
  for (conn_acct *a = g_aConn[wsi_hash(wsi)]; a; a = a->pNext)
    if (a->wsi == wsi) return a;
  return NULL;
}

/* The peer's address as text, IPv4-mapped IPv6 written as IPv4. */
static int peer_of(int fd, char *z, size_t n) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  const void *pAddr;
  int family;
  if (getpeername(fd, (struct sockaddr *)&ss, &len)) return -1;
  if (ss.ss_family == AF_INET) {
    family = AF_INET;
    pAddr = &((struct sockaddr_in *)&ss)->sin_addr;
  } else if (ss.ss_family == AF_INET6) {
    const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    family = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
    pAddr = family == AF_INET ? (const void *)&a6->s6_addr[12] : (const void *)a6;
  } else {
    return -1;
  }
  return inet_ntop(family, pAddr, z, (socklen_t)n) ? 0 : -1;
}

static addr_count *addr_find(const char *zAddr, int bCreate) {
  addr_count **pp = &g_aAddr[addr_hash(zAddr)];
  for (addr_count *p = *pp; p; p = p->pNext)
    if (strcmp(p->zAddr, zAddr) == 0) return p;
  if (!bCreate) return NULL;
  addr_count *p = calloc(1, sizeof(*p));
  if (!p) return NULL;
  snprintf(p->zAddr, sizeof p->zAddr, "%s", zAddr);
  p->pNext = *pp;
  *pp = p;
  return p;
}

static void addr_release(addr_count *pAddr) {
  if (--pAddr->n > 0) return;
  for (addr_count **pp = &g_aAddr[addr_hash(pAddr->zAddr)]; *pp; pp = &(*pp)->pNext) {
    if (*pp == pAddr) {
      *pp = pAddr->pNext;
      free(pAddr);
      return;
    }
  }
}

static time_t now_secs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

/* An error answer written straight to a socket lws is about to close, without waiting (its
 * send buffer is empty: nothing else is being sent on it). What the client sent that was
 * not read is read first, so that the close is a FIN, not a reset that could overtake the
 * answer. */
static void send_error_and_close(int fd, int status, const char *zCode, const char *zMsg) {
  zc_req r;
  char zHead[256], aDrain[4096];
  memset(&r, 0, sizeof r);
  http_error(&r, status, zCode, "%s", zMsg);
  int nHead = snprintf(zHead, sizeof zHead,
                       "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n"
                       "%scache-control: no-store\r\nconnection: close\r\n\r\n",
                       status, http_status_text(status), r.zOutType, r.out.n, status == 503 ? "retry-after: 5\r\n" : "");
  while (recv(fd, aDrain, sizeof aDrain, MSG_DONTWAIT) > 0) {
  }
  if (send(fd, zHead, (size_t)nHead, MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE) == nHead)
    (void)send(fd, r.out.z, r.out.n, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  http_req_reset(&r);
}

int conns_admit(int fd) {
  char zAddr[INET6_ADDRSTRLEN];
  addr_count *pAddr = peer_of(fd, zAddr, sizeof zAddr) ? NULL : addr_find(zAddr, 0);
  if (g_nOpen < g_nMax && (!pAddr || pAddr->n < CONNS_PER_ADDR)) return 0;
  send_error_and_close(fd, 503, "too_many_connections", "连接数已达上限，请稍后再试");
  return -1;
}

void conns_opened(struct lws *wsi) {
  char zAddr[INET6_ADDRSTRLEN];
  int fd = (int)lws_get_socket_fd(wsi);
  conn_acct *a;
  if (fd < 0 || peer_of(fd, zAddr, sizeof zAddr) || !(a = calloc(1, sizeof(*a)))) return;
  a->pAddr = addr_find(zAddr, 1);
  if (!a->pAddr) {
    free(a);
    return;
  }
  a->pAddr->n++;
  a->tMark = now_secs();
  a->wsi = wsi;
  a->pNext = g_aConn[wsi_hash(wsi)];
  g_aConn[wsi_hash(wsi)] = a;
  g_nOpen++;
}

void conns_peer(struct lws *wsi, char *z, size_t n) {
  const conn_acct *a = acct_of(wsi);
  int fd = (int)lws_get_socket_fd(wsi);
  z[0] = 0;
  if (a) snprintf(z, n, "%s", a->pAddr->zAddr);
  else if (fd < 0 || peer_of(fd, z, n)) z[0] = 0;
}

void conns_closed(struct lws *wsi) {
  conn_acct **pp = &g_aConn[wsi_hash(wsi)], *a;
  while (*pp && (*pp)->wsi != wsi) pp = &(*pp)->pNext;
  if (!(a = *pp)) return;
  *pp = a->pNext;
  addr_release(a->pAddr);
  g_nOpen--;
  free(a);
}

/* What the kernel counts for a connection's socket. nRead: bytes the server has taken out
 * of it (received in order, less what still waits in the receive queue, less the FIN,
 * counted as one received byte); nUnread: what waits; nWritten: a count that grows with
 * every byte the server writes (sent, retransmitted or still queued). */
typedef struct io_counts {
  uint64_t nRead, nUnread, nWritten;
} io_counts;

/* The socket's TCP counters, and with bReads what waits unread, as of one moment: bytes
 * that arrive between the getsockopt and the ioctl count as unread but not as received
 * (the server would seem to have taken out less than it did, and a client that sends its
 * body a moment after its headers would look like one that pipelines: 1 request in about
 * 1,000 so sent was refused), so the counters are read again until they agree. */
static int tcp_counts(int fd, int bReads, struct tcp_info *ti, int *pnInq) {
  socklen_t n = sizeof *ti;
  memset(ti, 0, sizeof *ti);
  *pnInq = 0;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &n) || n < offsetof(struct tcp_info, tcpi_bytes_retrans)) return -1;
  for (int i = 0; bReads && i < 8; i++) {
    uint64_t nBefore = ti->tcpi_bytes_received;
    if (ioctl(fd, SIOCINQ, pnInq) || getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &n)) return -1;
    if (ti->tcpi_bytes_received == nBefore) return 0;
  }
  return bReads ? -1 : 0; /* still arriving after 8 looks: the caller takes the safe side */
}

/* One getsockopt, and an ioctl and a getsockopt more when bReads (else nRead counts what
 * waits too). */
static int io_of(struct lws *wsi, int bReads, io_counts *p) {
  struct tcp_info ti;
  int fd = (int)lws_get_socket_fd(wsi), nInq = 0;
  if (fd < 0 || tcp_counts(fd, bReads, &ti, &nInq)) return -1;
  /* TCP states after the peer's FIN (the kernel's tcp_states.h numbering, a stable ABI):
   * TIME_WAIT 6, CLOSE 7, CLOSE_WAIT 8, LAST_ACK 9, CLOSING 11 */
  int bFin = ti.tcpi_state == 6 || ti.tcpi_state == 7 || ti.tcpi_state == 8 || ti.tcpi_state == 9 ||
             ti.tcpi_state == 11;
  p->nRead = ti.tcpi_bytes_received - (uint64_t)nInq - (uint64_t)bFin;
  p->nUnread = (uint64_t)nInq;
  p->nWritten = ti.tcpi_bytes_sent + ti.tcpi_notsent_bytes;
  return 0;
}

static int bytes_read(struct lws *wsi, uint64_t *pOut) {
  io_counts io;
  if (io_of(wsi, 1, &io)) return -1;
  *pOut = io.nRead;
  return 0;
}

/* The mark is what the socket has received by then, without the ioctl that would take off
 * what still waits in the kernel: that is nothing unless the client sent its next request
 * before this one's answer, so the mark is exact for a client that waits, and too high for
 * one that pipelines. Too high can only make a later request look pipelined (refused, the
 * safe side), never let one from lws's buffer pass; and it saves a syscall per request. */
void conns_mark_input_end(struct lws *wsi) {
  conn_acct *a = acct_of(wsi);
  io_counts io;
  if (!a) return;
  a->bMarked = io_of(wsi, 0, &io) == 0;
  if (a->bMarked) a->nReadMark = io.nRead;
  a->bHeadersSeen = 0;
  a->tMark = now_secs();
}

void conns_headers_seen(struct lws *wsi) {
  conn_acct *a = acct_of(wsi);
  if (a) a->bHeadersSeen = 1;
}

void conns_wrote(struct lws *wsi, size_t n) {
  conn_acct *a = acct_of(wsi);
  if (a) a->nOurs += n;
}

void conns_sync_written(struct lws *wsi) {
  conn_acct *a = acct_of(wsi);
  io_counts io;
  if (!a) return;
  a->nWritten = io_of(wsi, 0, &io) ? UINT64_MAX : io.nWritten;
  a->nOurs = 0;
}

void conns_answer_unparsed(struct lws *wsi) {
  conn_acct *a = acct_of(wsi);
  io_counts io;
  /* answer only bytes that reached no gate, on a connection where nothing was written
   * since the server's last answer (lws answers a few refusals itself, e.g. 403) */
  if (!a || a->bHeadersSeen || io_of(wsi, 1, &io) || io.nRead <= a->nReadMark ||
      io.nWritten != a->nWritten + a->nOurs)
    return;
  int fd = (int)lws_get_socket_fd(wsi);
  if (io.nRead + io.nUnread - a->nReadMark >= CONNS_HEADER_BYTES)
    send_error_and_close(fd, 431, "header_too_large", "请求头过大（上限 16384 字节）");
  else if (now_secs() - a->tMark >= CONNS_HEADER_SECS)
    send_error_and_close(fd, 408, "request_timeout", "请求头未能及时发送完毕");
  else
    send_error_and_close(fd, 400, "bad_request", "请求格式错误，或请求头、查询参数过多");
  a->bHeadersSeen = 1; /* answered */
}

int conns_nothing_read_since_mark(struct lws *wsi) {
  conn_acct *a = acct_of(wsi);
  uint64_t nNow;
  if (!a || !a->bMarked) return 0;
  /* without the counters we cannot tell: count it as pipelined (the safe side) */
  if (bytes_read(wsi, &nNow)) return 1;
  return nNow <= a->nReadMark;
}
