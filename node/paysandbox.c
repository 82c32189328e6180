/* paysandbox.c - the sandbox payment gateway (paysandbox.h). Its notifications go to the
 * merchant's /api/v1/payments/notify over a plain HTTP connection from a worker thread,
 * as an outside gateway's would: nothing here calls the merchant's code directly. */
#include "paysandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "forms.h"
#include "secret.h"
#include "trust.h"
#include "worker.h"

#define NOTIFY_PATH "/api/v1/payments/notify"
#define NOTIFY_TIMEOUT_SECS 10

/* ---- one notification over HTTP ---- */

/* POST zBody to the merchant listening at zBind:iPort; the HTTP status it answered, or -1
 * (zErr says why). One request, Connection: close. */
static int notice_post(const char *zBind, int iPort, const char *zBody, char *zErr, size_t nErr) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)iPort)};
  struct timeval tv = {.tv_sec = NOTIFY_TIMEOUT_SECS};
  char zHead[256], zAnswer[64] = "";
  int fd = -1, status = -1;
  if (inet_pton(AF_INET, zBind[0] ? zBind : "127.0.0.1", &sa.sin_addr) != 1) {
    snprintf(zErr, nErr, "商户地址 %s 无法识别", zBind);
    return -1;
  }
  int nHead = snprintf(zHead, sizeof zHead,
                       "POST " NOTIFY_PATH " HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                       zBind[0] ? zBind : "127.0.0.1", iPort, strlen(zBody));
  if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) ||
      connect(fd, (struct sockaddr *)&sa, sizeof sa) || send(fd, zHead, (size_t)nHead, MSG_NOSIGNAL) != nHead ||
      send(fd, zBody, strlen(zBody), MSG_NOSIGNAL) != (ssize_t)strlen(zBody)) {
    snprintf(zErr, nErr, "无法把缴费通知送到商户（%s）", strerror(errno));
    goto done;
  }
  size_t n = 0;
  ssize_t k;
  while (n < sizeof zAnswer - 1 && (k = recv(fd, zAnswer + n, sizeof zAnswer - 1 - n, 0)) > 0) n += (size_t)k;
  zAnswer[n] = 0;
  if (sscanf(zAnswer, "HTTP/1.%*d %d", &status) != 1) {
    snprintf(zErr, nErr, "商户没有回答缴费通知");
    status = -1;
  }
done:
  if (fd >= 0) close(fd);
  return status;
}

/* Sign notification n with aKey and deliver it; 0 when the merchant took it (200). */
static int notice_send(const char *zBind, int iPort, const unsigned char aKey[32], pay_notice *n, char *zErr,
                       size_t nErr) {
  fed_rfc3339_format(n->zTs, time(NULL));
  char *zJson = payments_notice_json(aKey, n);
  int status = zJson ? notice_post(zBind, iPort, zJson, zErr, nErr) : -1;
  free(zJson);
  if (status > 0 && status != 200) snprintf(zErr, nErr, "商户拒绝了缴费通知（HTTP %d）", status);
  return status == 200 ? 0 : -1;
}

/* ---- the gateway interface ---- */

static void sandbox_pay_url(zc_node *p, const char *zMerchant, const char *zOrder, char *zOut, size_t nOut) {
  snprintf(zOut, nOut, "%s/#/paysandbox?order=%s", node_url(p, zMerchant), zOrder);
}

static int sandbox_refund(pay_refund_req *q) {
  pay_notice n = {.nAmount = q->nAmount};
  snprintf(n.zEvent, sizeof n.zEvent, "refunded");
  snprintf(n.zOrder, sizeof n.zOrder, "%s", q->zOrder);
  snprintf(n.zTxn, sizeof n.zTxn, "%s", q->zTxn);
  return notice_send(q->zBind, q->iPort, q->aKey, &n, q->zErr, sizeof q->zErr);
}

const paygate g_paySandbox = {"sandbox", sandbox_pay_url, sandbox_refund};

/* ---- the payer's page ---- */

#define ORDER_SQL                                                                                            \
  "SELECT o.id AS order_id, o.application_id AS application, x.year AS year, o.amount AS amount,"           \
  " o.status AS status, o.txn AS txn, c.name AS committee FROM payment_orders o"                            \
  " LEFT JOIN applications x ON x.id = o.application_id LEFT JOIN committees c ON c.id = o.committee_id"    \
  " WHERE o.id = ? AND o.merchant = ?"

/* The order as the gateway shows it (no name, no ID number: the order id is the payer's
 * only credential here, as on a real gateway). NULL and 404 answered when unknown. */
static json_t *order_load(zc_req *r) {
  json_t *o = db_row(r->node->db, ORDER_SQL, "tt", r->aParam[0], r->node->cfg.zNode);
  if (!o) {
    http_error(r, 404, "not_found", "缴费订单不存在");
    return NULL;
  }
  char zNumber[FORM_NUMBER_SIZE];
  forms_number(zNumber, jstr(o, "application"), json_integer_value(json_object_get(o, "year")));
  json_object_set_new(o, "number", json_string(zNumber));
  json_object_set_new(o, "merchant", json_string(r->node->zName));
  json_object_del(o, "application");
  json_object_del(o, "year");
  return o;
}

int paysandbox_order_get(zc_req *r) {
  json_t *o = order_load(r);
  return o ? http_json(r, 200, o) : 0;
}

typedef struct pay_job {
  char zBind[64];
  int iPort;
  unsigned char aKey[32];
  pay_notice n;
  char zErr[160];
} pay_job;

static void pay_work(void *pCtx) {
  pay_job *j = pCtx;
  memcpy(j->n.zTxn, "SBX", 3);
  if (secret_token_hex(j->n.zTxn + 3, 12)) {
    snprintf(j->zErr, sizeof j->zErr, "无法生成交易号");
    return;
  }
  notice_send(j->zBind, j->iPort, j->aKey, &j->n, j->zErr, sizeof j->zErr);
}

static int pay_done(zc_req *r, void *pCtx) {
  pay_job *j = pCtx;
  if (j->zErr[0]) return http_error(r, 502, "gateway_failed", "支付未完成：%s", j->zErr);
  json_t *o = order_load(r);
  return o ? http_json(r, 200, o) : 0;
}

static void pay_free(void *pCtx) {
  OPENSSL_cleanse(pCtx, sizeof(pay_job));
  free(pCtx);
}

int paysandbox_pay(zc_req *r) {
  json_t *o = order_load(r);
  if (!o) return 0;
  if (strcmp(jstr(o, "status"), "unpaid") != 0) {
    int rc = http_error(r, 409, "already_paid", "该订单已经缴费，无需重复支付");
    json_decref(o);
    return rc;
  }
  pay_job *j = calloc(1, sizeof *j);
  if (!j) {
    json_decref(o);
    return -1;
  }
  snprintf(j->zBind, sizeof j->zBind, "%s", r->node->cfg.zBind);
  j->iPort = r->node->cfg.iPort;
  memcpy(j->aKey, r->node->aGatewayKey, sizeof j->aKey);
  snprintf(j->n.zEvent, sizeof j->n.zEvent, "paid");
  snprintf(j->n.zOrder, sizeof j->n.zOrder, "%s", jstr(o, "order_id"));
  j->n.nAmount = json_integer_value(json_object_get(o, "amount"));
  json_decref(o);
  int rc = worker_defer(r, pay_work, pay_done, j, pay_free);
  if (rc == HTTP_BUSY) return http_error(r, 503, "busy", "系统繁忙，请稍后再试");
  return rc;
}
