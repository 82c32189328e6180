/* fed_file.h - whole-file reads and crash-safe whole-file writes for keys and manifests. */
#ifndef ZC_FED_FILE_H
#define ZC_FED_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Read all of zPath into a malloc'd buffer, NUL-terminated (free() it), length in *pn.
 * FED_ENOTFOUND when it does not exist, FED_EINVALID when larger than nMax bytes. */
int fed_file_read(char **out, size_t *pn, const char *zPath, size_t nMax);

/* Replace zPath with a[0..n) atomically: a temporary file in the same directory, created
 * with exactly `mode`, written, fsynced, renamed over zPath, and the directory fsynced.
 * A crash leaves either the old file or the new one, never a mix. An existing zPath that
 * is not a regular file (a device, a directory, a symbolic link) is refused. */
int fed_file_write_atomic(const char *zPath, const void *a, size_t n, mode_t mode);

/* Create directory zPath and any missing parents with `mode` (existing ones are kept).
 * 0, or FED_ERROR with the reason. */
int fed_file_mkdir_p(const char *zPath, mode_t mode);

#endif
