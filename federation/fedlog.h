/* fedlog.h - the signed log store: a node's DATA/fedlog.git, written with libgit2.
 *
 * One ref per origin, refs/fed/<origin>; one commit per entry whose only parent is the
 * same origin's previous entry; each commit's tree holds exactly entry.json and entry.sig
 * (DESIGN.md, "The signed log"). The commit itself is derived from the entry alone (its
 * time is the entry's ts, its message "<origin>/<seq>"), so every node that stores an
 * entry stores the same commit.
 *
 * Writes come in batches: every entry of a batch is checked (entry.h: canonical, origin,
 * contiguous seq, prev, a key of the origin valid at ts, the signature) before anything is
 * written; then the batch's objects go into ONE pack built in memory (never a loose object
 * per entry), and only then does the ref move, by compare-and-swap against the tip the
 * checks were made on. So a reader (in this process or another) sees a batch whole or not
 * at all, and a crash at any instant leaves either the old tip or the new one; at worst
 * an unreferenced pack, which replaying the batch reuses harmlessly. Every 8 batches the
 * small packs are merged (fedlog_pack.h), so lookups never wade through thousands.
 *
 * Durability: the log is opened with libgit2's GIT_OPT_ENABLE_FSYNC_GITDIR (process-wide):
 * the pack, its index, the ref and their directories are fsynced before fedlog_append
 * returns, so a power cut loses no batch that was acknowledged; a batch cut off mid-way
 * is absent as a whole. (fedlog_options.bNoFsync trades that for speed, in benches.)
 * That is about six fsyncs per fedlog_append, whatever its size: hand over everything
 * pending in one call (the bench: ~150 appends/s of one entry, ~4,000 entries/s in
 * batches of 1,000, bound by the Ed25519 checks).
 *
 * One writer: a handle holds an exclusive lock (flock) on the repository's fedlog.lock
 * for its lifetime, so a second writer, in this process or another, is refused. Other
 * processes may read the repository with git or libgit2 at any time. A handle is used by
 * one thread at a time. */
#ifndef ZC_FED_FEDLOG_H
#define ZC_FED_FEDLOG_H

#include <stddef.h>

#include "keys.h"
#include "manifest.h"

#define FEDLOG_ENTRY_MAX (1024 * 1024) /* bytes of one entry.json */
#define FEDLOG_BATCH_MAX 100000        /* entries in one fedlog_append */
#define FEDLOG_OID_HEX_SIZE 41

typedef struct fedlog fedlog;

/* One entry: entry.json's exact bytes and its raw Ed25519 signature (FED_SIG_SIZE bytes).
 * bSignedHere: the caller signed these bytes a moment ago with the private key of the key
 * id they name, so the Ed25519 check is skipped (a verify costs twice a sign); everything
 * else, the key's validity at ts included, is checked as for any entry. */
typedef struct fed_log_entry {
  const char *zJson;
  size_t nJson;
  const unsigned char *aSig;
  int bSignedHere;
} fed_log_entry;

/* An origin's newest entry. */
typedef struct fed_log_head {
  long long iSeq;                       /* 0: the origin has no entry here */
  char zHash[FED_SHA256_HEX_SIZE];      /* hex SHA-256 of its entry.json ("" when none) */
  char zCommit[FEDLOG_OID_HEX_SIZE];    /* hex id of its commit ("" when none) */
} fed_log_head;

typedef struct fedlog_options {
  unsigned int version;
  int bNoFsync;  /* do not fsync (a power cut may then lose acknowledged batches) */
} fedlog_options;
#define FEDLOG_OPTIONS_VERSION 1
#define FEDLOG_OPTIONS_INIT {FEDLOG_OPTIONS_VERSION, 0}

/* What one fedlog_append did. On FED_EEQUIVOCATION, zHeld/aHeld are the entry this log
 * holds at iSeq and a[iEntry] the different one offered: both validly signed, both
 * evidence (copies owned by the result: fed_log_append_result_dispose). */
typedef struct fed_log_append_result {
  size_t nAdded;    /* entries that became visible */
  size_t nPresent;  /* entries already held, byte for byte: nothing to do */
  size_t iEntry;    /* on a refusal: the index in the batch of the entry refused */
  long long iSeq;   /* on FED_EEQUIVOCATION: the seq both entries claim */
  char *zHeld;
  size_t nHeld;
  unsigned char aHeld[FED_SIG_SIZE];
} fed_log_append_result;

void fed_log_append_result_dispose(fed_log_append_result *r);

/* Open (creating it when absent) the bare repository zGitDir as the log; entries are
 * checked against manifest m (which must outlive the handle; NULL: keys and signatures
 * go unchecked, for tools that re-pack what they already trust). opts may be NULL.
 * FED_EEXISTS when another handle holds the log for writing. */
int fedlog_open(fedlog **out, const char *zGitDir, const fed_manifest *m, const fedlog_options *opts);
/* Check with m (a newer edition of the manifest) from the next call on; only between
 * calls, on the thread that uses the handle. m must outlive the handle. */
void fedlog_set_manifest(fedlog *log, const fed_manifest *m);

void fedlog_close(fedlog *l);

/* The newest entry of zOrigin (iSeq 0 when none). FED_EINVALID for a bad origin id. */
int fedlog_head(fed_log_head *out, fedlog *l, const char *zOrigin);

/* Append a[0..n), the next entries of zOrigin's chain in seq order, all or nothing.
 * The signatures are checked on up to 4 threads (one per core) for batches of 128 or more.
 * Entries at seqs already held must be the same bytes (counted in nPresent, not written
 * again: replaying a batch is a no-op); the rest must continue the chain from the head.
 *   FED_EINVALID, FED_ENOTFOUND, FED_EEXPIRED, FED_EBADSIG  a[r->iEntry] is refused (see
 *                       entry.h; the message says why); nothing became visible
 *   FED_EEQUIVOCATION   a[r->iEntry] is a validly signed, different entry at a seq held
 *   FED_ECONFLICT       the ref moved while the batch was written (another writer)
 * r may be NULL; when given it is filled in every case (dispose it after). */
int fedlog_append(fedlog *l, const char *zOrigin, const fed_log_entry *a, size_t n, fed_log_append_result *r);

/* Called for each entry in seq order; the entry lives only during the call. A non-zero
 * return stops the walk and is what fedlog_read returns. */
typedef int (*fedlog_read_cb)(const fed_log_entry *pEntry, long long iSeq, void *payload);

/* The entries of zOrigin from seq iFromSeq (1 or more) to the head, oldest first. Memory
 * stays bounded whatever the length: the chain is walked back in chunks of
 * FEDLOG_READ_CHUNK commits, each handed over in order. */
#define FEDLOG_READ_CHUNK 1024
int fedlog_read(fedlog *l, const char *zOrigin, long long iFromSeq, fedlog_read_cb cb, void *payload);

/* ---- checkpoints (checkpoint.h) ---------------------------------------------------
 * refs/checkpoints/<node>: one commit per checkpoint of node zNode, its tree exactly
 * checkpoint.json and checkpoint.sig, its parent that node's previous checkpoint, its
 * time the checkpoint's ts. Nothing that lists refs/fed/ sees them. */
#define FEDLOG_CHECKPOINT_REF_PREFIX "refs/checkpoints/"

/* Store node zNode's checkpoint zJson[0..nJson) with its signature. When the log has a
 * manifest the checkpoint is verified first (fed_checkpoint_verify) and must be zNode's.
 * A checkpoint byte for byte the same as the newest stored is not stored again (FED_OK).
 * FED_ECONFLICT when the ref moved meanwhile; errors as fed_checkpoint_verify. */
int fedlog_checkpoint_put(fedlog *l, const char *zNode, const char *zJson, size_t nJson,
                          const unsigned char aSig[FED_SIG_SIZE]);

/* Node zNode's newest checkpoint: *pzJson (malloc'd, NUL-terminated: free() it), *pnJson
 * and aSig. FED_ENOTFOUND when there is none. */
int fedlog_checkpoint_latest(char **pzJson, size_t *pnJson, unsigned char aSig[FED_SIG_SIZE], fedlog *l,
                             const char *zNode);

#endif
