/* audit.h - check signed logs against the manifest: what zc-audit and the central
 * auditor's page run.
 *
 * For every ref refs/fed/<origin> of a log (a bare git repository, DATA/fedlog.git) the
 * chain of commits is walked from the first entry: each commit's tree holds exactly
 * entry.json and entry.sig; entry.json is canonical and well-formed, names the ref's
 * origin, counts seq 1, 2, 3, … without gaps, names its predecessor by `prev` (lower-case
 * hex SHA-256 of the previous entry.json, "" for seq 1); its commit has one parent, the
 * previous entry's (none for the first); entry.sig verifies with the key named by `key`,
 * which belongs to the origin and is valid at `ts`. Across all the logs one audit sees,
 * two different entries for one (origin, seq) are reported as equivocation. */
#ifndef ZC_FED_AUDIT_H
#define ZC_FED_AUDIT_H

#include <stddef.h>

#include "manifest.h"

/* One problem found. The strings live only during the callback. */
typedef struct fed_audit_finding {
  const char *zCode;     /* what kind (API.md, zc-audit): unreadable, bad_tree, not_canonical, bad_entry,
                          * wrong_origin, unknown_origin, bad_commit, bad_signature, key_invalid, seq_gap,
                          * prev_mismatch, equivocation */
  const char *zLog;      /* the label given to fed_audit_log(), e.g. a node id */
  const char *zOrigin;   /* the origin whose chain it is in ("" when not about a chain) */
  long long iSeq;        /* the entry's seq (its place in the chain if unreadable); 0: not an entry */
  const char *zCommit;   /* hex id of the commit concerned, or "" */
  const char *zMessage;  /* what is wrong, in English */
} fed_audit_finding;

typedef void (*fed_audit_finding_cb)(const fed_audit_finding *pFinding, void *payload);

typedef struct fed_audit fed_audit;

/* An audit against manifest m (which must outlive it); cb (may be NULL) is called once
 * per finding. */
int fed_audit_new(fed_audit **out, const fed_manifest *m, fed_audit_finding_cb cb, void *payload);

/* Check every refs/fed/<origin> chain of the bare repository zGitDir, labelled zLog in
 * findings. Returns the number of findings in this log (>= 0): a log that cannot be
 * opened or read is a finding, not an error. Negative only when out of memory. */
int fed_audit_log(fed_audit *a, const char *zLog, const char *zGitDir);

/* Totals over every log audited so far. */
size_t fed_audit_findings(const fed_audit *a);
size_t fed_audit_entries(const fed_audit *a);

void fed_audit_free(fed_audit *a);

#endif
