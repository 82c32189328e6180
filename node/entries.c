/* entries.c - the entry types of the signed log, one row each (entries.h). */
#include "entries.h"

#include <string.h>

#define APP_EVENT "application, action, from, to, actor, actor_role, holder, revision, detail"

const zc_entry_type g_entryTypes[] = {
  {"account.registered", 1,
   "account, username, role, home, name (the account's display name: accounts replicate everywhere), "
   "id_digest?, phone_digest?, unit?, dept?, committee?"},
  {"account.updated", 1, "account, changed (names of the contact fields changed, no values), phone_digest?"},
  {"account.credentials", 1, "account, changed (RFC 3339): the password changed, every node ends the "
                             "account's sessions; no hash"},
  {"unit.registered", 1, "unit, credit_code, name, short_name, node"},
  {"unit.updated", 1, "unit, complete (the unit's information is complete enough to review)"},
  {"unit.renamed", 1, "unit, name, short_name"},
  {"unit.recommenders", 1, "unit, depts (ids, in the order chosen)"},
  {"committee.updated", 1, "committee, node, name, fee, submit_limit, paper_rules, address, "
                           "windows [{specialty, opens, closes}]"},
  /* Every application_history row is one of these three: the row is keyed by the entry's
   * (origin, seq), so histories merge across nodes. */
  {"application.created", 1, APP_EVENT " (detail: qualification, specialty, committee)"},
  {"application.deleted", 1, "application, applicant"},
  {"application.qualification", 1, APP_EVENT " (detail: from and to {qualification, specialty, committee})"},
  {"application.moved", 1, APP_EVENT " (detail: recommendation?, opinions?, dept?, committee?)"},
  {"application.opinion", 1, "application, round, stage, section, text (empty: removed), author, revision"},
};

const int g_nEntryTypes = (int)(sizeof g_entryTypes / sizeof g_entryTypes[0]);

const zc_entry_type *entry_type_find(const char *zType) {
  for (int i = 0; zType && i < g_nEntryTypes; i++)
    if (strcmp(g_entryTypes[i].zType, zType) == 0) return &g_entryTypes[i];
  return NULL;
}
