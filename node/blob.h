/* blob.h - uploaded files (ID-card scans, attachments): recognised by their content,
 * capped at 2 MiB, stored once under DATA/blobs/ab/<sha256> whatever their name. */
#ifndef ZC_BLOB_H
#define ZC_BLOB_H

#include <stddef.h>
#include <time.h>

#define BLOB_MAX (2u * 1024 * 1024)

/* "image/jpeg", "image/png" or "application/pdf" when the bytes are one of those
 * (checked by magic numbers and minimal structure), else NULL. */
const char *blob_sniff(const void *data, size_t n);

/* Write data under zDataDir/blobs/ (atomically: temp file + rename; a blob already
 * present is left alone) and put its hex SHA-256 in sha[65]. 0 on success, -1 on I/O
 * failure. */
int blob_store(const char *zDataDir, const void *data, size_t n, char sha[65]);

/* Remove stored blobs older than tBefore for which xUsed(sha, pArg) is 0: replaced ID-card
 * scans, deleted attachments, uploads whose transaction was rolled back. Returns how many
 * were removed. */
int blob_sweep(const char *zDataDir, time_t tBefore, int (*xUsed)(const char *zSha, void *pArg), void *pArg);

/* The path of a stored blob into out (size nOut); 0 if it exists, -1 if not. */
int blob_path(const char *zDataDir, const char *zSha, char *out, size_t nOut);

/* The stored blob zSha as base64 (malloc'd), or NULL when it is missing or unreadable; and
 * the way back: store the bytes of base64 zB64, 0 only when they hash to zWantSha. How
 * blobs travel between nodes (hand-offs, transfers). */
char *blob_read_base64(const char *zDataDir, const char *zSha);
int blob_store_base64(const char *zDataDir, const char *zB64, const char *zWantSha);

/* ---- references: the rows of the node's database that name a blob ---- */
struct zc_node;

/* Does any row (ID-card scan, attachment, notice attachment, appeal scan) refer to blob zSha? pArg is the
 * zc_node. */
int blob_in_use(const char *zSha, void *pArg);

/* Remove the files that rows released (table released_blobs, filled by triggers in the
 * transaction that released them) and that no row refers to now. Called after a commit,
 * on the event loop, where no other request's upload can run in between. Returns how
 * many files were removed. */
int blob_release(struct zc_node *p);

#endif
