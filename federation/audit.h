/* audit.h - check signed logs against the manifest: what zc-audit and the central
 * auditor's page run.
 *
 * For every ref refs/fed/<origin> of a log (a bare git repository, DATA/fedlog.git) the
 * chain of commits is walked from the first entry: each commit's tree holds exactly
 * entry.json and entry.sig; entry.json is canonical and well-formed, names the ref's
 * origin, counts seq 1, 2, 3, … without gaps, names its predecessor by `prev` (lower-case
 * hex SHA-256 of the previous entry.json, "" for seq 1); its commit has one parent, the
 * previous entry's (none for the first); entry.sig verifies with the key named by `key`,
 * which belongs to the origin and is valid at `ts`.
 *
 * Every commit of every refs/checkpoints/<node> (checkpoint.h) is verified too: tree,
 * shape, key of that node valid at its ts, signature.
 *
 * Across all the logs one audit sees (reported by fed_audit_finish): two different
 * entries for one (origin, seq) are equivocation; a verified checkpoint naming, for an
 * (origin, seq) some copy holds, another hash than that copy's is checkpoint_mismatch (a
 * checkpoint naming a seq no copy holds is not a finding: it may be newer); and the
 * federation's invariants over claims and registrations (audit_rules.h).
 *
 * Work is spread over threads, one per core, by (log, ref); findings come out in a stable
 * order whatever the threads did: by log in the order given, by ref name, by place in the
 * chain, then the cross-log findings sorted by origin and seq. */
#ifndef ZC_FED_AUDIT_H
#define ZC_FED_AUDIT_H

#include <jansson.h>
#include <stddef.h>

#include "manifest.h"

#define FED_AUDIT_LOGS_MAX 64 /* logs in one audit */

/* One problem found. The strings live only during the callback. zCode is one of:
 *   unreadable       a log, commit or blob cannot be read
 *   bad_tree         a tree that is not exactly entry.json + entry.sig (or the
 *                    checkpoint's two files)
 *   bad_commit       an entry's commit with more than one parent
 *   unknown_origin   refs/fed/<origin> for an origin the manifest does not list
 *   not_canonical    entry.json / checkpoint.json is not canonical JSON or not of its shape
 *   bad_entry        a field of entry.json is wrong (ts, type, body, v, key, …)
 *   wrong_origin     entry.json names another origin than its ref
 *   bad_signature    the signature does not verify
 *   key_invalid      the key is unknown, another node's, or not valid at ts
 *   seq_gap          a seq other than the next one
 *   prev_mismatch    prev is not the previous entry's hash
 *   misplaced        a checkpoint of node A under refs/checkpoints/B
 *   equivocation     two different entries for one (origin, seq) in two logs
 *   checkpoint_mismatch  a checkpoint names another hash than a copy holds
 *   id_claimed_twice, claim_unmatched, account_unclaimed, two_homes, bad_claim:
 *                    the federation's invariants (audit_rules.h) */
typedef struct fed_audit_finding {
  const char *zCode;     /* see above */
  const char *zLog;      /* the label given to fed_audit_log(), e.g. a node id */
  const char *zOrigin;   /* the origin (or a checkpoint's node) concerned; "" when none */
  long long iSeq;        /* the entry's seq (its place in the chain if unreadable); 0: not an entry */
  const char *zCommit;   /* hex id of the commit concerned, or "" */
  const char *zMessage;  /* what is wrong, in English */
} fed_audit_finding;

typedef void (*fed_audit_finding_cb)(const fed_audit_finding *pFinding, void *payload);

/* The finding as one line "CODE ORIGIN SEQ detail" (ORIGIN and SEQ "-" when none; the
 * detail names the log and commit; control characters become '?'), no newline. Returns
 * what snprintf would. */
int fed_audit_finding_format(char *zOut, size_t nOut, const fed_audit_finding *f);

typedef struct fed_audit fed_audit;

/* An audit against manifest m (which must outlive it); cb (may be NULL) is called once
 * per finding, always on the calling thread. Turns libgit2's object cache off for the
 * process: an audit reads each object once. */
int fed_audit_new(fed_audit **out, const fed_manifest *m, fed_audit_finding_cb cb, void *payload);

/* Check the n bare repositories azGitDir[i], labelled azLog[i] in findings, on up to one
 * thread per core. Returns the number of findings in them (>= 0): a log that cannot be
 * opened or read is a finding, not an error. Negative when out of memory or past
 * FED_AUDIT_LOGS_MAX logs in all. */
int fed_audit_logs(fed_audit *a, const char *const *azLog, const char *const *azGitDir, size_t n);

/* The same for one log. */
int fed_audit_log(fed_audit *a, const char *zLog, const char *zGitDir);

/* Report what only the logs together show (equivocation, checkpoint_mismatch, the
 * invariants of audit_rules.h) among all the logs audited so far; the number of such
 * findings, negative when out of memory. Once: later logs are no longer compared (a
 * second call returns 0). */
int fed_audit_finish(fed_audit *a);

/* Entries younger than nSecs at fed_audit_finish are in flight for the invariants that
 * wait for a second node's half (audit_rules.h); default FED_RULES_IN_FLIGHT_SECS. */
void fed_audit_set_in_flight(fed_audit *a, long nSecs);

/* The committees and the catalogue's series wrong_jurisdiction judges routings by
 * (audit_rules.h, fed_rules_set_jurisdiction); without them routings are not judged. */
int fed_audit_set_jurisdiction(fed_audit *a, json_t *pCommittees, json_t *pSeries);

/* Totals over every log audited so far. */
size_t fed_audit_findings(const fed_audit *a);
size_t fed_audit_entries(const fed_audit *a);

void fed_audit_free(fed_audit *a);

#endif
