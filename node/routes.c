/* routes.c - every API endpoint: where a request under /api/v1 goes, who may call it, how
 * its body is read and what a successful change records for the federation: the entry
 * types it emits (entries.c), or LOCAL and why it stays on this node. The one table a
 * newcomer reads to find a handler; `zc-admin routes` prints it as JSON, and
 * tests/integration/test_write_path.py checks every non-GET route against it. */
#include "router.h"

#include "accounts.h"
#include "applications.h"
#include "claims.h"
#include "committees.h"
#include "conditions.h"
#include "fedview.h"
#include "forms.h"
#include "handoff.h"
#include "logwriter.h"
#include "notices.h"
#include "payments.h"
#include "qrlogin.h"
#include "paysandbox.h"
#include "recovery.h"
#include "refdata.h"
#include "remote_login.h"
#include "results.h"
#include "sender.h"
#include "transfer.h"
#include "units.h"
#include "workflow.h"

/* Drafts (sections and attachments) stay at the applicant's home node until they are
 * submitted (DESIGN.md): the submit's entry announces the application. */
#define DRAFT_STAYS "a draft stays at the applicant's home node"
#define RECOVERY_STAYS "codes, scans and contact details stay at the account's home node"
#define NOTICE_DRAFT "a draft notice stays at its node until it is published"

const zc_route g_routes[] = {
  /* reference data */
  {HTTP_GET, "/health", refdata_health, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/federation", refdata_federation, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/fed/status", logwriter_status_get, ROLE_NODE_ADMIN | ROLE_AUDITOR, BODY_NONE, READS},
  {HTTP_GET, "/fed/entries", fedview_entries_get, ROLE_NODE_ADMIN | ROLE_AUDITOR, BODY_NONE, READS},
  {HTTP_GET, "/catalog", refdata_catalog, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/depts", refdata_depts, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/conditions", conditions_get, ROLE_ANYONE, BODY_NONE, READS},

  /* accounts and sessions */
  {HTTP_POST, "/accounts", accounts_register, ROLE_ANYONE, BODY_JSON, EMITS("account.registered id.claimed?")},
  {HTTP_GET, "/accounts", accounts_list, ROLE_NODE_ADMIN, BODY_NONE, READS},
  {HTTP_GET, "/accounts/{id}/idcard", accounts_idcard_admin, ROLE_NODE_ADMIN, BODY_NONE, READS},
  {HTTP_POST, "/session", accounts_login, ROLE_ANYONE, BODY_JSON,
   LOCAL("sessions are per node; failed-login counts live in limits.db")},
  {HTTP_DELETE, "/session", accounts_logout, ROLE_ANY_USER, BODY_NONE, LOCAL("sessions are per node")},
  /* 扫码登录 (qrlogin.c): the desktop asks and takes its session, the phone decides */
  {HTTP_POST, "/qr-login", qrlogin_create, ROLE_ANYONE, BODY_JSON, LOCAL("a QR login code lives two minutes at its node")},
  {HTTP_GET, "/qr-login/{code}/qr.png", qrlogin_png, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/qr-login/{code}", qrlogin_get, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_POST, "/qr-login/{code}/decision", qrlogin_decide, ROLE_ANY_USER, BODY_JSON,
   LOCAL("a QR login code lives two minutes at its node")},
  {HTTP_POST, "/qr-login/{code}/session", qrlogin_session, ROLE_ANYONE, BODY_JSON, LOCAL("sessions are per node")},
  {HTTP_GET, "/me", accounts_me, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_PUT, "/me", accounts_update_me, ROLE_ANY_USER, BODY_JSON, EMITS("account.updated phone.claimed?")},
  {HTTP_POST, "/me/region", transfers_request, ROLE_APPLICANT, BODY_JSON, EMITS("account.transfer")},
  {HTTP_GET, "/transfers/{id}", transfers_get, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_POST, "/me/password", accounts_password, ROLE_ANY_USER, BODY_JSON, EMITS("account.credentials")},
  {HTTP_POST, "/me/idcard", accounts_idcard_put, ROLE_APPLICANT, BODY_RAW,
   LOCAL("ID-card scans are personal data: they stay at the home node")},
  {HTTP_GET, "/me/idcard", accounts_idcard_get, ROLE_APPLICANT, BODY_NONE, READS},
  {HTTP_PUT, "/me/language", accounts_language, ROLE_ANY_USER, BODY_JSON,
   LOCAL("the portal language, a preference of the node where it was chosen")},
  {HTTP_PUT, "/me/notifications", sender_notify_setting, ROLE_ANY_USER, BODY_JSON,
   LOCAL("a preference of the home node, which alone holds the contact details and sends")},

  /* recovery and appeals (recovery.c), at the account's home: codes, scans, contacts and the
   * outbox are personal data; a new password ends sessions everywhere like any change */
  {HTTP_POST, "/recovery/codes", recovery_code, ROLE_ANYONE, BODY_JSON, LOCAL(RECOVERY_STAYS)},
  {HTTP_POST, "/recovery/reset", recovery_reset, ROLE_ANYONE, BODY_JSON, EMITS("account.credentials")},
  {HTTP_POST, "/appeals", recovery_appeal, ROLE_ANYONE, BODY_RAW, LOCAL(RECOVERY_STAYS)},
  {HTTP_GET, "/appeals", recovery_appeals, ROLE_NODE_ADMIN, BODY_NONE, READS},
  {HTTP_GET, "/appeals/{id}/scan", recovery_appeal_scan, ROLE_NODE_ADMIN, BODY_NONE, READS},
  {HTTP_POST, "/appeals/{id}/decision", recovery_decide, ROLE_NODE_ADMIN, BODY_JSON, LOCAL(RECOVERY_STAYS)},
  {HTTP_POST, "/recovery/appeal-reset", recovery_appeal_reset, ROLE_ANYONE, BODY_JSON, EMITS("account.credentials")},
  {HTTP_GET, "/messages", sender_messages, ROLE_NODE_ADMIN, BODY_NONE, READS},

  /* basic units */
  {HTTP_POST, "/units", units_register, ROLE_ANYONE, BODY_JSON, EMITS("unit.registered account.registered unit.claimed?")},
  {HTTP_GET, "/units", units_search, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_GET, "/units/me", units_me, ROLE_UNIT_ADMIN, BODY_NONE, READS},
  {HTTP_PUT, "/units/me", units_update_me, ROLE_UNIT_ADMIN, BODY_JSON, EMITS("unit.updated")},
  {HTTP_POST, "/units/me/rename", units_rename, ROLE_UNIT_ADMIN, BODY_JSON, EMITS("unit.renamed unit.claimed?")},
  {HTTP_PUT, "/units/me/recommenders", units_recommenders, ROLE_UNIT_ADMIN, BODY_JSON, EMITS("unit.recommenders")},

  /* review committees and jurisdiction */
  {HTTP_GET, "/committees", committees_list, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/committees/{id}", committees_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_PUT, "/committees/{id}", committees_update, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN, BODY_JSON,
   EMITS("committee.updated")},
  {HTTP_GET, "/jurisdiction", committees_route, ROLE_ANY_USER, BODY_NONE, READS},

  /* applications: the applicant's side */
  {HTTP_POST, "/applications", applications_create, ROLE_APPLICANT, BODY_JSON, EMITS("application.created")},
  {HTTP_GET, "/applications", applications_list, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_GET, "/applications/{id}", applications_get, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_GET, "/applications/{id}/conditions", conditions_of_application, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_DELETE, "/applications/{id}", applications_delete, ROLE_APPLICANT, BODY_NONE, EMITS("application.deleted")},
  {HTTP_PUT, "/applications/{id}/sections/{name}", applications_save_section, ROLE_APPLICANT, BODY_JSON,
   LOCAL(DRAFT_STAYS)},
  {HTTP_POST, "/applications/{id}/attachments", applications_attach, ROLE_APPLICANT, BODY_RAW, LOCAL(DRAFT_STAYS)},
  {HTTP_GET, "/applications/{id}/attachments/{att}", applications_attachment_get, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_DELETE, "/applications/{id}/attachments/{att}", applications_attachment_delete, ROLE_APPLICANT, BODY_NONE,
   LOCAL(DRAFT_STAYS)},
  {HTTP_POST, "/applications/{id}/qualification", applications_qualification, ROLE_APPLICANT, BODY_JSON,
   EMITS("application.qualification")},

  /* applications: moving between stages (workflow.c) */
  {HTTP_POST, "/applications/{id}/submit", workflow_submit, ROLE_APPLICANT, BODY_JSON,
   EMITS("application.moved application.handoff?")},
  {HTTP_POST, "/applications/{id}/withdraw", workflow_withdraw, ROLE_APPLICANT, BODY_JSON, EMITS("application.moved")},
  {HTTP_POST, "/applications/{id}/review", workflow_review, ROLE_REVIEWER, BODY_JSON,
   EMITS("application.moved application.handoff? form.issued? payment.ordered?")},
  {HTTP_PUT, "/applications/{id}/opinions/{section}", workflow_opinion, ROLE_REVIEWER, BODY_JSON,
   EMITS("application.opinion")},

  /* review forms (forms.c): rendered on a worker thread; codes checked at any node */
  {HTTP_GET, "/applications/{id}/form.pdf", forms_pdf_get, ROLE_ANY_USER, BODY_NONE, READS},
  {HTTP_GET, "/verify/{code}", forms_verify_get, ROLE_ANYONE, BODY_NONE, READS},

  /* review fees (payments.c): the committee's node is the merchant; a gateway calls back.
   * A refund, and a payment in the sandbox gateway, emit their entry through that call-back
   * (POST /payments/notify), before they answer. */
  {HTTP_POST, "/payments/notify", payments_notify, ROLE_ANYONE, BODY_JSON, EMITS("payment.paid? payment.refunded?")},
  {HTTP_POST, "/payments/{order}/refund", payments_refund, ROLE_COMMITTEE_ADMIN | ROLE_NODE_ADMIN, BODY_JSON,
   EMITS("payment.refunded")},
  {HTTP_GET, "/committees/{id}/payments", payments_committee_list, ROLE_COMMITTEE_ADMIN | ROLE_NODE_ADMIN, BODY_NONE,
   READS},
  /* after the meeting review (results.c): 公示, 批文, certificates; public to read */
  {HTTP_POST, "/committees/{id}/publicity", results_publicity_post, ROLE_COMMITTEE_ADMIN, BODY_JSON,
   EMITS("publicity.published application.moved")},
  {HTTP_GET, "/publicity", results_publicity_list, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/publicity/{id}", results_publicity_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_POST, "/approvals", results_approval_post, ROLE_NODE_ADMIN, BODY_JSON, EMITS("approval.issued application.moved")},
  {HTTP_GET, "/approvals", results_approval_list, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/approvals/{id}", results_approval_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_POST, "/approvals/{id}/certificates", results_certify, ROLE_NODE_ADMIN, BODY_JSON,
   EMITS("certificate.issued application.moved")},
  {HTTP_GET, "/certificates/{number}", results_certificate_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/certificates/{number}/qr.png", results_certificate_qr, ROLE_ANYONE, BODY_NONE, READS},

  /* notices (通知公告, notices.c): a draft stays with its writers until it is published */
  {HTTP_POST, "/notices", notices_create, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN, BODY_JSON, LOCAL(NOTICE_DRAFT)},
  {HTTP_GET, "/notices", notices_list, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_GET, "/notices/{id}", notices_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_PUT, "/notices/{id}", notices_update, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN, BODY_JSON, LOCAL(NOTICE_DRAFT)},
  {HTTP_DELETE, "/notices/{id}", notices_delete, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN, BODY_NONE,
   EMITS("notice.withdrawn?")},
  {HTTP_POST, "/notices/{id}/attachments", notices_attach, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN, BODY_RAW,
   LOCAL(NOTICE_DRAFT)},
  {HTTP_GET, "/notices/{id}/attachments/{n}", notices_attachment_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_DELETE, "/notices/{id}/attachments/{n}", notices_attachment_delete, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN,
   BODY_NONE, LOCAL(NOTICE_DRAFT)},
  {HTTP_POST, "/notices/{id}/publish", notices_publish, ROLE_NODE_ADMIN | ROLE_COMMITTEE_ADMIN, BODY_NONE,
   EMITS("notice.published")},

  /* the sandbox gateway (paysandbox.c), playing the non-tax payment platform */
  {HTTP_GET, "/sandbox/orders/{order}", paysandbox_order_get, ROLE_ANYONE, BODY_NONE, READS},
  {HTTP_POST, "/sandbox/orders/{order}/pay", paysandbox_pay, ROLE_ANYONE, BODY_JSON, EMITS("payment.paid")},
};

const int g_nRoutes = (int)(sizeof g_routes / sizeof g_routes[0]);

/* Calls from other nodes (fedcall.h): method name, handler. */
const fedcall_method g_fedMethods[] = {
    {"id.claim", claims_serve_claim},      /* the registrar: claim an ID number for a registration */
    {"unit.claim", claims_serve_unit_claim}, /* the registrar: claim a unit's credit code and names */
    {"phone.claim", claims_serve_phone_claim}, /* the registrar: an applicant's new phone */
    {"claim.check", claims_serve_check},   /* the registrar asks: was this claimed account committed? */
    {"login.check", remote_login_serve},   /* an account's home: check a password for a login elsewhere */
    {"app.snapshot", handoff_serve_snapshot}, /* the node an application was handed to fetches it */
    {"app.blob", handoff_serve_blob},      /* ... and its attachments */
    {"form.render", forms_serve_render},   /* a reviewer elsewhere prints the applicant's form */
    {"account.export", transfer_serve_export}, /* the new home of a transfer fetches the account */
    {NULL, NULL},
};
