/* fedlog_pack.h - packs for the log store (fedlog.c), built in memory: git's pack format
 * v2 with every object whole (no deltas), handed to libgit2's indexer in one piece; and
 * the consolidation that keeps their number logarithmic in the log's size. Internal to
 * the federation library. */
#ifndef ZC_FED_FEDLOG_PACK_H
#define ZC_FED_FEDLOG_PACK_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>

#include "fed_buf.h"

typedef struct fedlog_pack {
  fed_buf b;
  uint32_t nObjects;
} fedlog_pack;

/* An empty pack (its header). */
void fedlog_pack_start(fedlog_pack *p);

/* Add one object; its id in *out. */
int fedlog_pack_object(git_oid *out, fedlog_pack *p, git_object_t type, const void *a, size_t n);

/* Finish the pack and write it into pOdb: indexed, moved into objects/pack and, when
 * GIT_OPT_ENABLE_FSYNC_GITDIR is on, fsynced before this returns. Its file name without
 * the extension ("pack-<sha1 hex>") in zName. */
#define FEDLOG_PACK_NAME_SIZE 46
int fedlog_pack_write(char zName[FEDLOG_PACK_NAME_SIZE], git_odb *pOdb, fedlog_pack *p);

void fedlog_pack_free(fedlog_pack *p);

/* The packs in zGitDir/objects/pack (those with both .pack and .idx). */
int fedlog_pack_count(size_t *out, const char *zGitDir);

/* Merge the small packs of zGitDir so that, smallest first, each remaining small pack
 * holds at least twice the objects of all smaller ones together (git's "geometric"
 * repack; packs of 16,384 objects or more are left as they are): one new
 * pack is written (and synced) before the ones it replaces are removed, so a crash leaves
 * objects twice at worst, never missing. pOdb must be reopened afterwards (the removed
 * packs stay open in it). The number of packs left in *pnAfter. */
int fedlog_pack_consolidate(size_t *pnAfter, git_odb *pOdb, const char *zGitDir);

/* Remove what a writer killed mid-pack leaves in objects/pack: an index whose pack was
 * never renamed into place, or a pack whose index was removed by a merge. Only with the
 * writer's lock held (no pack is then half-written on purpose). */
void fedlog_pack_remove_orphans(const char *zGitDir);

#endif
