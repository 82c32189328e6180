/* payments.c - review fees (缴费): payment orders, the gateway's notifications, what every
 * node shows of an order and the committee's list of who has paid (payments.h). */
#include "payments.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applications.h"
#include "committees.h"
#include "db.h"
#include "fed_error.h"
#include "forms.h"
#include "logwriter.h"
#include "outbox.h"
#include "paysandbox.h"
#include "secret.h"
#include "validate.h"
#include "worker.h"

#define NOTICE_PREFIX "zc-pay.1\n"

/* The gateway this node's orders go through. */
static const paygate *gateway(void) { return &g_paySandbox; }

static const char *status_name(const char *zStatus) {
  static const char *const a[][2] = {{"unpaid", "未缴费"}, {"paid", "已缴费"}, {"refunded", "已退费"}};
  for (size_t i = 0; zStatus && i < sizeof a / sizeof a[0]; i++)
    if (strcmp(a[i][0], zStatus) == 0) return a[i][1];
  return "";
}

/* ---- the signed notification ---- */

void payments_notice_sign(const unsigned char aKey[32], const pay_notice *n, char zOut[65]) {
  char zMsg[PAY_ORDER_SIZE + PAY_TXN_MAX + FED_RFC3339_SIZE + 64];
  snprintf(zMsg, sizeof zMsg, NOTICE_PREFIX "%s\n%s\n%lld\n%s\n%s", n->zEvent, n->zOrder, n->nAmount, n->zTxn,
           n->zTs);
  secret_hmac_hex(aKey, 32, zMsg, zOut);
}

char *payments_notice_json(const unsigned char aKey[32], const pay_notice *n) {
  char zSig[65];
  payments_notice_sign(aKey, n, zSig);
  json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "event", n->zEvent, "order", n->zOrder, "amount",
                        (json_int_t)n->nAmount, "txn", n->zTxn, "ts", n->zTs, "sig", zSig);
  char *z = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return z;
}

/* ---- orders: one way to change each, here and from another node's entries ---- */

static int order_store(zc_node *p, const char *zOrder, const char *zApp, const char *zCommittee,
                       const char *zMerchant, long long nAmount, sqlite3_int64 tCreated) {
  return db_exec(p->db, "INSERT OR IGNORE INTO payment_orders(id, application_id, committee_id, merchant, amount,"
                 " status, created) VALUES(?,?,?,?,?,'unpaid',?)", "ttttII", zOrder, zApp, zCommittee, zMerchant,
                 (sqlite3_int64)nAmount, tCreated);
}

static int order_paid(zc_node *p, const char *zOrder, const char *zTxn, sqlite3_int64 t) {
  return db_exec(p->db, "UPDATE payment_orders SET status = 'paid', txn = ?, paid = ? WHERE id = ? AND status = 'unpaid'",
                 "tIt", zTxn, t, zOrder);
}

static int order_refunded(zc_node *p, const char *zOrder, sqlite3_int64 t) {
  return db_exec(p->db, "UPDATE payment_orders SET status = 'refunded', refunded = ? WHERE id = ? AND status = 'paid'",
                 "It", t, zOrder);
}

int payments_open(zc_req *r, const char *zAppId) {
  zc_node *p = r->node;
  json_t *a = db_row(p->db, "SELECT c.id AS committee, c.node AS node, c.fee AS fee FROM applications x"
                     " JOIN committees c ON c.id = x.committee_id WHERE x.id = ?", "t", zAppId);
  long long nFee = a ? json_integer_value(json_object_get(a, "fee")) : 0;
  char zOrder[PAY_ORDER_SIZE] = "p";
  int rc = 0;
  if (nFee > 0) { /* a committee that charges nothing opens no order */
    sqlite3_int64 now = (sqlite3_int64)node_now(p);
    if (secret_token_hex(zOrder + 1, 12) ||
        order_store(p, zOrder, zAppId, jstr(a, "committee"), p->cfg.zNode, nFee * 100, now) ||
        outbox_record(p, "payment.ordered",
                      json_pack("{s:s, s:s, s:s, s:s, s:I}", "order", zOrder, "application", zAppId, "committee",
                                jstr(a, "committee"), "merchant", p->cfg.zNode, "amount", (json_int_t)(nFee * 100)),
                      NULL))
      rc = -1;
  }
  json_decref(a);
  return rc;
}

void payments_put(zc_node *p, const char *zAppId, zc_buf *b) {
  json_t *o = db_row(p->db, "SELECT id AS order_id, amount, status, txn, merchant, paid, refunded FROM payment_orders"
                     " WHERE application_id = ?", "t", zAppId);
  if (!o) return;
  char zUrl[600], zYuan[32];
  long long n = json_integer_value(json_object_get(o, "amount"));
  snprintf(zYuan, sizeof zYuan, "%lld.%02lld", n / 100, n % 100);
  json_object_set_new(o, "amount_yuan", json_string(zYuan));
  json_object_set_new(o, "status_name", json_string(status_name(jstr(o, "status"))));
  json_set_time(o, "paid");
  json_set_time(o, "refunded");
  if (strcmp(jstr(o, "status"), "unpaid") == 0) {
    gateway()->xPayUrl(p, jstr(o, "merchant"), jstr(o, "order_id"), zUrl, sizeof zUrl);
    json_object_set_new(o, "pay_url", json_string(zUrl));
  }
  buf_append(b, ",\"payment\":", 11);
  buf_json(b, o);
  json_decref(o);
}

/* ---- the gateway's notifications ---- */

/* Keep a notification and its verdict. One that is refused is kept too: the request's
 * transaction (which changed nothing) ends first, so that the refusal's rollback cannot
 * take the record with it. */
static void notice_record(zc_req *r, const pay_notice *n, const char *zVerdict, int bRefused) {
  if (bRefused) db_rollback(r->node->db);
  db_exec(r->node->db, "INSERT INTO payment_notices(received, peer, order_id, event, txn, amount, verdict, body)"
          " VALUES(?,?,?,?,?,?,?,?)", "IttttItb", (sqlite3_int64)node_now(r->node), r->zPeer, n->zOrder,
          n->zEvent, n->zTxn, (sqlite3_int64)n->nAmount, zVerdict, r->body.z ? r->body.z : "", (int)r->body.n);
  if (strcmp(zVerdict, "applied") != 0)
    fprintf(stderr, "payments: notification %s of order %s (txn %s) from %s: %s\n", n->zEvent, n->zOrder,
            n->zTxn, r->zPeer, zVerdict);
}

/* Copy member zKey of the body into z[nMax]: 0, or -1 when absent, not a string or too long. */
static int notice_text(const json_t *o, const char *zKey, char *z, size_t nMax) {
  const char *v = jstr(o, zKey);
  if (!v || strlen(v) >= nMax || !*v || validate_text(v, nMax, 0)) return -1;
  memcpy(z, v, strlen(v) + 1);
  return 0;
}

static int notice_parse(const json_t *o, pay_notice *n, char zSig[65]) {
  json_t *pAmount = json_object_get(o, "amount");
  if (notice_text(o, "event", n->zEvent, sizeof n->zEvent) || notice_text(o, "order", n->zOrder, sizeof n->zOrder) ||
      notice_text(o, "txn", n->zTxn, sizeof n->zTxn) || notice_text(o, "ts", n->zTs, sizeof n->zTs) ||
      notice_text(o, "sig", zSig, 65) || !json_is_integer(pAmount))
    return -1;
  n->nAmount = json_integer_value(pAmount);
  return strcmp(n->zEvent, "paid") == 0 || strcmp(n->zEvent, "refunded") == 0 ? 0 : -1;
}

/* What an authentic notification does to the order o: the verdict, and the answer's
 * status (200 for what the gateway may stop sending: applied, repeated, late). */
static const char *notice_judge(const pay_notice *n, const json_t *o, int *pStatus) {
  const char *zStatus = jstr(o, "status"), *zTxn = jstr(o, "txn");
  int bSameTxn = zTxn && strcmp(zTxn, n->zTxn) == 0;
  *pStatus = 200;
  if (n->nAmount != json_integer_value(json_object_get(o, "amount"))) return *pStatus = 409, "amount_mismatch";
  if (strcmp(n->zEvent, "paid") == 0) {
    if (strcmp(zStatus, "unpaid") == 0) return "applied";
    if (bSameTxn) return strcmp(zStatus, "paid") == 0 ? "repeated" : "late"; /* paid again after its refund */
    return *pStatus = 409, "conflict"; /* paid twice by two transactions: the committee refunds one by hand */
  }
  if (strcmp(zStatus, "paid") == 0 && bSameTxn) return "applied";
  if (strcmp(zStatus, "refunded") == 0 && bSameTxn) return "repeated";
  return *pStatus = 409, "conflict";
}

static int notice_apply(zc_req *r, const pay_notice *n, const char *zApp) {
  zc_node *p = r->node;
  time_t t = 0;
  if (fed_rfc3339_parse(&t, n->zTs) != FED_OK) t = node_now(p);
  int bPaid = strcmp(n->zEvent, "paid") == 0;
  if (bPaid ? order_paid(p, n->zOrder, n->zTxn, t) : order_refunded(p, n->zOrder, t)) return -1;
  json_t *pBody = json_pack("{s:s, s:s, s:s, s:I, s:s}", "order", n->zOrder, "application", zApp, "txn", n->zTxn,
                            "amount", (json_int_t)n->nAmount, "at", n->zTs);
  return outbox_record(p, bPaid ? "payment.paid" : "payment.refunded", pBody, NULL);
}

int payments_notify(zc_req *r) {
  pay_notice n = {0};
  char zSig[65] = "", zWant[65];
  if (notice_parse(r->pJson, &n, zSig)) {
    notice_record(r, &n, "malformed", 1);
    return http_error(r, 400, "invalid_notice", "缴费通知格式不正确");
  }
  payments_notice_sign(r->node->aGatewayKey, &n, zWant);
  if (strlen(zSig) != 64 || CRYPTO_memcmp(zSig, zWant, 64) != 0) {
    notice_record(r, &n, "forged", 1);
    return http_error(r, 400, "bad_signature", "缴费通知的签名不正确，未予处理");
  }
  json_t *o = db_row(r->node->db, "SELECT application_id, amount, status, txn FROM payment_orders"
                     " WHERE id = ? AND merchant = ?", "tt", n.zOrder, r->node->cfg.zNode);
  if (!o) {
    notice_record(r, &n, "unknown_order", 1);
    return http_error(r, 404, "not_found", "缴费订单不存在");
  }
  int status = 200, rc = 0;
  const char *zVerdict = notice_judge(&n, o, &status);
  if (status != 200) {
    notice_record(r, &n, zVerdict, 1);
    rc = strcmp(zVerdict, "amount_mismatch") == 0
             ? http_error(r, 409, "amount_mismatch", "缴费通知的金额与订单金额不符，未予处理")
             : http_error(r, 409, "payment_conflict", "缴费通知与订单当前状态（%s）不符，未予处理",
                          status_name(jstr(o, "status")));
  } else if (strcmp(zVerdict, "applied") == 0 && notice_apply(r, &n, jstr(o, "application_id"))) {
    rc = -1;
  } else {
    notice_record(r, &n, zVerdict, 0);
    rc = http_json(r, 200, json_pack("{s:s, s:s}", "result", zVerdict, "order", n.zOrder));
  }
  json_decref(o);
  return rc;
}

/* ---- refunds, asked by the committee ---- */

static void refund_work(void *pCtx) {
  pay_refund_req *q = pCtx;
  if (gateway()->xRefund(q) && !q->zErr[0]) snprintf(q->zErr, sizeof q->zErr, "支付平台未受理退费");
}

static int refund_done(zc_req *r, void *pCtx) {
  pay_refund_req *q = pCtx;
  if (q->zErr[0]) return http_error(r, 502, "gateway_failed", "退费未完成：%s", q->zErr);
  json_t *o = db_row(r->node->db, "SELECT id AS order_id, status FROM payment_orders WHERE id = ?", "t", q->zOrder);
  if (o) json_object_set_new(o, "status_name", json_string(status_name(jstr(o, "status"))));
  return o ? http_json(r, 200, o) : -1;
}

static void refund_free(void *pCtx) {
  OPENSSL_cleanse(pCtx, sizeof(pay_refund_req));
  free(pCtx);
}

int payments_refund(zc_req *r) {
  json_t *o = db_row(r->node->db, "SELECT committee_id, amount, status, txn FROM payment_orders"
                     " WHERE id = ? AND merchant = ?", "tt", r->aParam[0], r->node->cfg.zNode);
  if (!o || !committee_managed_by(r, jstr(o, "committee_id"))) {
    json_decref(o);
    return http_error(r, 404, "not_found", "缴费订单不存在或不归您管理");
  }
  const char *zReason = json_text_field(r, "reason", "退费原因", 1);
  if (!zReason) {
    json_decref(o);
    return 0;
  }
  if (strcmp(jstr(o, "status"), "paid") != 0) {
    int rc = http_error(r, 409, "not_paid", "订单当前状态为“%s”，只有已缴费的订单可以退费", status_name(jstr(o, "status")));
    json_decref(o);
    return rc;
  }
  pay_refund_req *q = calloc(1, sizeof *q);
  if (!q) {
    json_decref(o);
    return -1;
  }
  snprintf(q->zOrder, sizeof q->zOrder, "%s", r->aParam[0]);
  snprintf(q->zTxn, sizeof q->zTxn, "%s", jstr(o, "txn"));
  q->nAmount = json_integer_value(json_object_get(o, "amount"));
  snprintf(q->zBind, sizeof q->zBind, "%s", r->node->cfg.zBind);
  q->iPort = r->node->cfg.iPort;
  memcpy(q->aKey, r->node->aGatewayKey, sizeof q->aKey);
  json_decref(o);
  fprintf(stderr, "payments: refund of order %s asked by %s: %s\n", q->zOrder, r->pSess->zUsername, zReason);
  int rc = worker_defer(r, refund_work, refund_done, q, refund_free);
  if (rc == HTTP_BUSY) return http_error(r, 503, "busy", "系统繁忙，请稍后再试");
  return rc;
}

/* ---- the committee's list ---- */

#define LIST_SQL                                                                                               \
  "SELECT o.id AS order_id, o.application_id AS application, x.year AS year, ac.name AS name,"               \
  " u.name AS unit, o.amount AS amount, o.status AS status, o.txn AS txn, o.paid AS paid, o.refunded AS refunded" \
  " FROM payment_orders o LEFT JOIN applications x ON x.id = o.application_id"                                \
  " LEFT JOIN accounts ac ON ac.id = x.applicant_id LEFT JOIN units u ON u.id = x.unit_id"                    \
  " WHERE o.committee_id = ? ORDER BY o.created, o.id"

/* A CSV field: quoted, quotes doubled, and a leading = + - @ defused (a spreadsheet would
 * run it as a formula). */
static void csv_field(zc_buf *b, const char *z) {
  buf_append(b, "\"", 1);
  if (z && strchr("=+-@", z[0]) && z[0]) buf_append(b, "'", 1);
  for (; z && *z; z++) {
    if (*z == '"') buf_append(b, "\"", 1);
    buf_append(b, z, 1);
  }
  buf_append(b, "\"", 1);
}

static int list_csv(zc_req *r, json_t *aRows, const char *zCommittee) {
  static const char *const aHead[] = {"申请书编号", "姓名", "工作单位", "金额（元）", "状态", "交易号", "缴费时间"};
  zc_buf *b = &r->out;
  size_t i;
  json_t *o;
  buf_append(b, "\xEF\xBB\xBF", 3); /* a BOM: spreadsheets then read the file as UTF-8 */
  for (i = 0; i < sizeof aHead / sizeof aHead[0]; i++) {
    if (i) buf_append(b, ",", 1);
    csv_field(b, aHead[i]);
  }
  buf_append(b, "\r\n", 2);
  json_array_foreach(aRows, i, o) {
    char zNumber[FORM_NUMBER_SIZE], zYuan[32];
    long long n = json_integer_value(json_object_get(o, "amount"));
    forms_number(zNumber, jstr(o, "application"), json_integer_value(json_object_get(o, "year")));
    snprintf(zYuan, sizeof zYuan, "%lld.%02lld", n / 100, n % 100);
    const char *aCell[] = {zNumber, jstr(o, "name"), jstr(o, "unit"), zYuan, jstr(o, "status_name"), jstr(o, "txn"),
                           jstr(o, "paid")};
    for (size_t k = 0; k < sizeof aCell / sizeof aCell[0]; k++) {
      if (k) buf_append(b, ",", 1);
      csv_field(b, aCell[k]);
    }
    buf_append(b, "\r\n", 2);
  }
  r->status = 200;
  r->zOutType = "text/csv; charset=utf-8";
  char zName[96];
  snprintf(zName, sizeof zName, "缴费名单-%s", zCommittee);
  http_download_name(r, zName, "payments", "text/csv");
  return 0;
}

int payments_committee_list(zc_req *r) {
  const char *zId = r->aParam[0];
  char zFormat[8] = "";
  if (!committee_managed_by(r, zId)) return http_error(r, 404, "not_found", "评审委员会不存在或不归您管理");
  if (http_query(r, "format", zFormat, sizeof zFormat) == HTTP_TOO_LONG || (zFormat[0] && strcmp(zFormat, "csv")))
    return http_error(r, 400, "invalid_query", "format 只能为 csv");
  json_t *aRows = db_rows(r->node->db, LIST_SQL, "t", zId);
  size_t i;
  json_t *o;
  if (!aRows) return -1;
  json_array_foreach(aRows, i, o) {
    char zNumber[FORM_NUMBER_SIZE];
    forms_number(zNumber, jstr(o, "application"), json_integer_value(json_object_get(o, "year")));
    json_object_set_new(o, "number", json_string(zNumber));
    json_object_set_new(o, "status_name", json_string(status_name(jstr(o, "status"))));
  }
  json_set_times(aRows, "paid");
  json_set_times(aRows, "refunded");
  if (zFormat[0]) {
    int rc = list_csv(r, aRows, zId);
    json_decref(aRows);
    return rc;
  }
  long long nPaid = 0, nAmount = 0;
  json_array_foreach(aRows, i, o) if (strcmp(jstr(o, "status"), "paid") == 0) {
    nPaid++;
    nAmount += json_integer_value(json_object_get(o, "amount"));
  }
  return http_json(r, 200, json_pack("{s:o, s:I, s:I}", "items", aRows, "paid", (json_int_t)nPaid, "paid_amount",
                                     (json_int_t)nAmount));
}

/* ---- entries from the merchant ---- */

int payments_apply(void *pCtx, const fed_entry_view *e) {
  zc_node *p = pCtx;
  const json_t *b = e->pBody;
  const char *zOrder = jstr(b, "order"), *zApp = jstr(b, "application");
  if (!zOrder || !zApp) return fed_error_set(FED_EINVALID, "%s without order or application", e->zType);
  if (strcmp(e->zType, "payment.ordered") == 0) {
    json_t *pAmount = json_object_get(b, "amount");
    if (!jstr(b, "committee") || !jstr(b, "merchant") || !json_is_integer(pAmount) || json_integer_value(pAmount) <= 0)
      return fed_error_set(FED_EINVALID, "payment.ordered without committee, merchant or a positive amount");
    if (strcmp(jstr(b, "merchant"), e->zOrigin) != 0) { /* only the merchant opens its orders */
      logwriter_alert("bad_payment", e->zOrigin, e->iSeq, "payment.ordered whose merchant is another node");
      return FED_OK;
    }
    time_t t = 0;
    fed_rfc3339_parse(&t, e->zTs);
    return order_store(p, zOrder, zApp, jstr(b, "committee"), e->zOrigin, json_integer_value(pAmount),
                       (sqlite3_int64)t)
               ? FED_ERROR
               : FED_OK;
  }
  char *zMerchant = db_text(p->db, "SELECT merchant FROM payment_orders WHERE id = ?", "t", zOrder);
  int bFromMerchant = zMerchant && strcmp(zMerchant, e->zOrigin) == 0;
  free(zMerchant);
  if (!bFromMerchant) { /* an order we do not know, or another node speaking for its merchant */
    logwriter_alert("bad_payment", e->zOrigin, e->iSeq, "a payment change not from the order's merchant");
    return FED_OK;
  }
  time_t t = 0;
  if (!jstr(b, "at") || fed_rfc3339_parse(&t, jstr(b, "at")) != FED_OK)
    return fed_error_set(FED_EINVALID, "%s without at", e->zType);
  if (strcmp(e->zType, "payment.paid") == 0)
    return jstr(b, "txn") && order_paid(p, zOrder, jstr(b, "txn"), (sqlite3_int64)t) == 0 ? FED_OK : FED_ERROR;
  return order_refunded(p, zOrder, (sqlite3_int64)t) ? FED_ERROR : FED_OK;
}
