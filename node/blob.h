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

#endif
