/* paysandbox.h - the sandbox payment gateway: a page that plays the non-tax payment
 * platform (非税缴费) for the demo and the tests, and its two calls. "Paying" there makes
 * the gateway send the merchant a signed "paid" notification over HTTP, exactly as a
 * real gateway would (payments.h); a refund the committee asks for comes back as a
 * signed "refunded" one. It shares the gateway key with the node (DATA/gateway.key). */
#ifndef ZC_PAYSANDBOX_H
#define ZC_PAYSANDBOX_H

#include "payments.h"

extern const paygate g_paySandbox;

int paysandbox_order_get(zc_req *r); /* GET /sandbox/orders/{order}: what the payer sees */
int paysandbox_pay(zc_req *r);       /* POST /sandbox/orders/{order}/pay */

#endif
