/* entries.c - the entry types of the signed log, one row each (entries.h). */
#include "entries.h"

#include <string.h>

#include "accounts.h"

#define APP_EVENT "application, action, from, to, actor, actor_role, holder, revision, detail"

const zc_entry_type g_entryTypes[] = {
  {"account.registered", 1,
   "account, username, role, home, name (the account's display name: accounts replicate everywhere), "
   "id_digest?, phone_digest?, unit?, dept?, committee?", NULL},
  {"account.updated", 1, "account, changed (names of the contact fields changed, no values), phone_digest?", NULL},
  {"account.credentials", 1, "account, changed (RFC 3339): the password changed, every node ends the "
                             "account's sessions; no hash", accounts_apply_credentials},
  {"unit.registered", 1, "unit, credit_code, name, short_name, node", NULL},
  {"unit.updated", 1, "unit, complete (the unit's information is complete enough to review)", NULL},
  {"unit.renamed", 1, "unit, name, short_name", NULL},
  {"unit.recommenders", 1, "unit, depts (ids, in the order chosen)", NULL},
  {"committee.updated", 1, "committee, node, name, fee, submit_limit, paper_rules, address, "
                           "windows [{specialty, opens, closes}]", NULL},
  /* Every application_history row is one of these three: the row is keyed by the entry's
   * (origin, seq), so histories merge across nodes. */
  {"application.created", 1, APP_EVENT " (detail: qualification, specialty, committee)", NULL},
  {"application.deleted", 1, "application, applicant", NULL},
  {"application.qualification", 1, APP_EVENT " (detail: from and to {qualification, specialty, committee})", NULL},
  {"application.moved", 1, APP_EVENT " (detail: recommendation?, opinions?, dept?, committee?)", NULL},
  {"application.opinion", 1, "application, round, stage, section, text (empty: removed), author, revision", NULL},
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
