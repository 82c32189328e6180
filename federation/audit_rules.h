/* audit_rules.h - the federation's invariants over what the logs say, judged by the audit
 * (audit.h) once every chain is verified. Facts are taken from the validly signed entries
 * of a few types (the registrar's id.claimed, id.released and phone.claimed; every node's
 * account.registered and account.transfer; the application entries that carry a revision, application.handoff
 * and application.accepted), once per (origin, seq) however many logs hold them, and
 * judged together at the end:
 *
 *   id_claimed_twice   the registrar's id.claimed gives an ID (or phone) digest to one
 *                      account while another account's claim of it stands unreleased
 *   claim_unmatched    a standing claim whose account the node it was claimed for never
 *                      registered
 *   account_unclaimed  an account registered with an ID digest the registrar never
 *                      claimed for it (judged only when the registrar's chain is audited)
 *   two_homes          one account registered by two nodes; a transfer of its home
 *                      (account.transfer) offered or decided by a node that is not its home
 *                      of the moment, done before the new home accepted, or decided twice
 *   bad_claim          id.claimed or id.released logged by a node that is not the registrar
 *   held_twice         a node changes an application, or hands it on, at a revision at which
 *                      another node holds it (the holder passes with each hand-off)
 *   handoff_unmatched  a hand-off never accepted by the node it went to, at its revision
 *   wrong_jurisdiction an application routed (application.created, .qualification) to another
 *                      committee than the one of its unit's node for the title, else the
 *                      region's (node/committees.c's rule)
 *
 * A claim and its account (a hand-off and its acceptance) are written a moment apart by
 * two nodes, so the rules that wait for the other half (claim_unmatched,
 * account_unclaimed, handoff_unmatched) spare entries younger than the in-flight window:
 * the registrar releases a claim whose account never came after a minute (node/claims.c),
 * well inside the default window. */
#ifndef ZC_FED_AUDIT_RULES_H
#define ZC_FED_AUDIT_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define FED_REGISTRAR "650000"          /* the region's node: it claims ID numbers */
#define FED_RULES_IN_FLIGHT_SECS 300    /* the default in-flight window */

typedef struct fed_rules fed_rules;

/* One finding: zCode as above, at (zOrigin, iSeq); zMessage in English. */
typedef void (*fed_rules_report_cb)(const char *zCode, const char *zOrigin, long long iSeq, const char *zMessage,
                                    void *payload);

fed_rules *fed_rules_new(void);
void fed_rules_free(fed_rules *r);

/* Does entry.json's text have a type the rules read? Cheap, no parse: a few entries in a
 * log are parsed again, not all. */
int fed_rules_wants(const char *zJson, size_t nJson);

/* Take the facts of one validly signed entry (origin and seq are in it; pParsed: its
 * text parsed already, or NULL). An entry the rules
 * do not read, or whose body lacks what they read, is ignored. FED_OK, or FED_ERROR when
 * out of memory. Thread-safe: the entry is read without a lock, only its facts are added
 * under one. */
int fed_rules_add(fed_rules *r, const char *zJson, size_t nJson, const json_t *pParsed);

/* What jurisdiction says (wrong_jurisdiction): the committees, each {id, node, directed,
 * scope: [{series, level, specialty?}]}, and the catalogue's series, each {code,
 * qualifications: [{code, level}]} (schemas/committees.json, catalog.json). Without them
 * routings are not judged. FED_OK, or FED_EINVALID when either is not an array. */
int fed_rules_set_jurisdiction(fed_rules *r, json_t *pCommittees, json_t *pSeries);

/* Judge every fact taken; entries whose ts is later than tNow - nInFlightSecs are in
 * flight for the rules that wait; bRegistrarSeen: the audit verified entries of the
 * registrar's chain (without it account_unclaimed cannot be judged). Returns the number of
 * findings (each given to cb), or -1 when out of memory. */
int fed_rules_judge(fed_rules *r, time_t tNow, long nInFlightSecs, int bRegistrarSeen, fed_rules_report_cb cb,
                    void *payload);

#endif
