/* recovery.h - account recovery (找回用户名或密码) and appeals (账号申诉), at the
 * account's home node, which alone holds its password hash and contact details.
 *  - by phone or by e-mail: a six-digit code (with the username) goes to the account's
 *    mobile number or e-mail address; it expires in ten minutes, is single-use, allows five
 *    tries, and asking for one is rate-limited per login and per address;
 *  - by ID number with an ID-card scan, or for a unit by its credit code with a business
 *    licence or legal-person certificate: the node admin reviews the appeal and approves
 *    (a one-time link to set a new password goes to the contact the appeal gave) or
 *    rejects it with a reason.
 * No answer says whether an account exists: the same words for every login. */
#ifndef ZC_RECOVERY_H
#define ZC_RECOVERY_H

#include "http.h"

int recovery_code(zc_req *r);          /* POST /recovery/codes {login, channel: sms|email} */
int recovery_reset(zc_req *r);         /* POST /recovery/reset {login, code, password} */
int recovery_appeal(zc_req *r);        /* POST /appeals?kind=person|unit&name=&id_number|credit_code=&contact=&reason= */
int recovery_appeals(zc_req *r);       /* GET /appeals[?state=] (node admin) */
int recovery_appeal_scan(zc_req *r);   /* GET /appeals/{id}/scan (node admin) */
int recovery_decide(zc_req *r);        /* POST /appeals/{id}/decision {approve, reason} (node admin) */
int recovery_appeal_reset(zc_req *r);  /* POST /recovery/appeal-reset {appeal, token, password} */

#endif
