/* entries.c - the entry types of the signed log, one row each (entries.h). */
#include "entries.h"

#include <string.h>

#include "forms.h"
#include "handoff.h"
#include "notices.h"
#include "payments.h"
#include "replicas.h"
#include "results.h"
#include "transfer.h"

#define APP_EVENT "application, action, from, to, actor, actor_role, holder, revision, detail"

const zc_entry_type g_entryTypes[] = {
  {"account.registered", 1,
   "account, username, role, home, name (the account's display name: accounts replicate everywhere), "
   "id_digest?, phone_digest?, unit?, dept?, committee?", replicas_apply_account},
  {"account.updated", 1, "account, changed (names of the contact fields changed, no values), phone_digest?",
   replicas_apply_account_updated},
  {"account.credentials", 1, "account, changed (RFC 3339), epoch (the home's count of password changes): every "
                             "node ends the account's sessions; no hash", replicas_apply_credentials},
  /* An applicant's home moving (transfer.h): offered / done / rolled_back by the old home,
   * accepted by the new one; what only a home holds travels over the encrypted channel. */
  {"account.transfer", 1, "transfer, account, from, to, status (offered | accepted | done | rolled_back)",
   transfer_apply},
  /* The registrar's (claims.h): who holds an ID number's (and an applicant phone's) digest. */
  {"id.claimed", 1, "id_digest, phone_digest?, account, node (where it registers)", NULL},
  {"phone.claimed", 1, "account, phone_digest, node: the applicant's new phone (the former one is given up)", NULL},
  {"id.released", 1, "id_digest, phone_digest?, account, reason (superseded | never_registered)", NULL},
  /* The registrar's claims of a unit's credit code and names (claims.h). */
  {"unit.claimed", 1, "unit, node (where it registers), credit_code? (absent for a rename), name, short_name", NULL},
  {"unit.released", 1, "unit, reason (superseded | never_registered)", NULL},
  {"unit.registered", 1, "unit, credit_code, name, short_name, node", replicas_apply_unit},
  {"unit.updated", 1, "unit, complete (the unit's information is complete enough to review)", NULL},
  {"unit.renamed", 1, "unit, name, short_name", replicas_apply_unit_renamed},
  {"unit.recommenders", 1, "unit, depts (ids, in the order chosen)", NULL},
  {"committee.updated", 1, "committee, node, name, name_ug? (its Uyghur name, '' for none), fee, submit_limit, paper_rules, address, contact?, phone? "
                           "(the office's), paper_from?, paper_until?, paper_binding?, windows [{specialty, opens, closes}]", replicas_apply_committee},
  /* Every application_history row is one of these three: the row is keyed by the entry's
   * (origin, seq), so histories merge across nodes. */
  {"application.created", 1, APP_EVENT " (detail: qualification, specialty, committee, unit_node: the routing the"
   " audit checks)", NULL},
  {"application.deleted", 1, "application, applicant", NULL},
  {"application.qualification", 1, APP_EVENT " (detail: from and to {qualification, specialty, committee}, unit_node)",
   NULL},
  {"application.moved", 1, APP_EVENT " (detail: recommendation?, opinions?, dept?, committee?): a read-only copy"
   " follows its holder", handoff_apply_moved},
  /* Applications follow their reviewer (handoff.h): no personal data, hashes only. */
  {"application.handoff", 1, "application, from, to, revision, status, snapshot (SHA-256 of the canonical snapshot),"
   " attachments (their SHA-256)", handoff_apply_handoff},
  {"application.copy", 1, "application, from, to, revision, status, snapshot, attachments: a read-only copy for the"
   " applicant's new home; the sender keeps holding it", handoff_apply_handoff},
  {"application.accepted", 1, "application, from, revision, copy: the receiver took it over (or its copy)",
   handoff_apply_accepted},
  {"application.opinion", 1, "application, round, stage, section, text (empty: removed), author, revision", NULL},
  /* The official review form (forms.h): its payload carries no personal data but the
   * applicant's masked name. */
  {"form.issued", 1, "application, number, code, payload (canonical JSON the signature covers), sig (base64 Ed25519"
   " over \"zc-form.1 verify\\n\" + payload)", forms_apply_issued},
  /* Review fees (payments.h), from the committee's node, the merchant: amounts in fen. */
  {"payment.ordered", 1, "order, application, committee, merchant, amount", payments_apply},
  {"payment.paid", 1, "order, application, txn (the gateway's), amount, at (RFC 3339)", payments_apply},
  {"payment.refunded", 1, "order, application, txn, amount, at", payments_apply},
  /* After the meeting review (results.h): public lists, as the paper ones print them. */
  {"publicity.published", 1, "publicity, committee, node, title, starts, ends (dates, Beijing time), items [{application,"
   " number, name, unit, qualification, directed}]", results_apply},
  {"approval.issued", 1, "approval, node, doc_number (文号), doc_date, title, items (as publicity.published's)",
   results_apply},
  {"certificate.issued", 1, "certificate (its number), application, approval, doc_number, node, name, unit,"
   " qualification, directed (定向使用)", results_apply},
  /* Notices (notices.h): public text; the attachments' bytes stay at the origin. */
  {"notice.published", 1, "notice, node, committee?, title, body, attachments [{n, name, type, size, sha256}]",
   notices_apply},
  {"notice.withdrawn", 1, "notice, node", notices_apply},
};

const int g_nEntryTypes = (int)(sizeof g_entryTypes / sizeof g_entryTypes[0]);

const zc_entry_type *entry_type_find(const char *zType) {
  for (int i = 0; zType && i < g_nEntryTypes; i++)
    if (strcmp(g_entryTypes[i].zType, zType) == 0) return &g_entryTypes[i];
  return NULL;
}

int entries_register_appliers(zc_node *p) {
  for (int i = 0; i < g_nEntryTypes; i++)
    if (g_entryTypes[i].xApply && fed_apply_register(g_entryTypes[i].zType, g_entryTypes[i].v, g_entryTypes[i].xApply, p))
      return -1;
  return 0;
}
