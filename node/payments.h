/* payments.h - review fees (缴费). When an application passes the formal review at a
 * committee that charges a fee, the committee's node (the merchant) opens a payment
 * order for the committee's amount. The payer pays at the gateway's page; the gateway
 * tells the merchant by a notification signed with the key they share (HMAC-SHA256,
 * payments_notice_sign), POSTed to /api/v1/payments/notify. A notification is applied
 * once: a repeated, late, forged or amount-altered one changes nothing and is kept in
 * payment_notices with its verdict. Every change of an order is an entry
 * (payment.ordered / .paid / .refunded), so the applicant's home and every portal show it.
 *
 * The gateway is an interface (paygate below): a deployment plugs in the non-tax payment
 * platform (非税缴费) there; the node ships a sandbox that plays it (paysandbox.c). */
#ifndef ZC_PAYMENTS_H
#define ZC_PAYMENTS_H

#include "apply.h"
#include "http.h"
#include "rfc3339.h"

#define PAY_ORDER_SIZE 26 /* "p" + 24 hex digits + NUL */
#define PAY_TXN_MAX 64

/* What a gateway tells the merchant: event "paid" or "refunded" of order zOrder for
 * nAmount fen, the gateway's transaction zTxn, at zTs (RFC 3339). */
typedef struct pay_notice {
  char zEvent[16];
  char zOrder[PAY_ORDER_SIZE];
  long long nAmount;
  char zTxn[PAY_TXN_MAX];
  char zTs[FED_RFC3339_SIZE];
} pay_notice;

/* HMAC-SHA256 under the gateway key of "zc-pay.1\n" event "\n" order "\n" amount "\n"
 * txn "\n" ts, as hex into zOut[65]: what the gateway signs and the merchant checks. */
void payments_notice_sign(const unsigned char aKey[32], const pay_notice *n, char zOut[65]);
/* The notification's JSON body, signed (malloc'd). */
char *payments_notice_json(const unsigned char aKey[32], const pay_notice *n);

/* A payment gateway. xPayUrl: where the payer's browser pays an order (a page of the
 * gateway; zMerchant: the node the order pays). xRefund runs on a worker thread with what it needs copied into pReq: ask the
 * gateway to refund; the refund itself arrives as a "refunded" notification. */
typedef struct pay_refund_req {
  char zOrder[PAY_ORDER_SIZE];
  char zTxn[PAY_TXN_MAX];
  long long nAmount;
  char zBind[64]; /* where the merchant listens: the notification's address */
  int iPort;
  unsigned char aKey[32];
  char zErr[160];
} pay_refund_req;
typedef struct paygate {
  const char *zName;
  void (*xPayUrl)(zc_node *p, const char *zMerchant, const char *zOrder, char *zOut, size_t nOut);
  int (*xRefund)(pay_refund_req *pReq);
} paygate;

/* At the formal pass, in its transaction: open the order when the committee charges a
 * fee (a payment.ordered entry). 0 when done or nothing to do. */
int payments_open(zc_req *r, const char *zAppId);
/* "payment":{...} (with a leading comma) of application zAppId into b, when it has one. */
void payments_put(zc_node *p, const char *zAppId, zc_buf *b);

int payments_notify(zc_req *r);         /* POST /payments/notify: the gateway calls back */
int payments_refund(zc_req *r);         /* POST /payments/{order}/refund: the committee */
int payments_committee_list(zc_req *r); /* GET /committees/{id}/payments[?format=csv] */

/* payment.ordered / .paid / .refunded from another node. */
int payments_apply(void *pCtx, const fed_entry_view *e);

#endif
