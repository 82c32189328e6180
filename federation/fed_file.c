/* fed_file.c - whole-file reads and atomic writes (see fed_file.h). */
#include "fed_file.h"
#include "fed_error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fed_file_read(char **out, size_t *pn, const char *zPath, size_t nMax) {
  int rc = FED_OK;
  int fd = -1;
  struct stat st;
  char *a = NULL;
  size_t n = 0;
  *out = NULL;
  fd = open(zPath, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = fed_error_set(errno == ENOENT ? FED_ENOTFOUND : FED_ERROR, "%s: %s", zPath, strerror(errno));
    goto done;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = fed_error_set(FED_EINVALID, "%s: not a regular file", zPath);
    goto done;
  }
  if ((size_t)st.st_size > nMax) {
    rc = fed_error_set(FED_EINVALID, "%s: larger than %zu bytes", zPath, nMax);
    goto done;
  }
  a = malloc((size_t)st.st_size + 1);
  if (a == NULL) {
    rc = fed_error_set(FED_ERROR, "%s: out of memory", zPath);
    goto done;
  }
  while (n < (size_t)st.st_size) {
    ssize_t k = read(fd, a + n, (size_t)st.st_size - n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      rc = fed_error_set(FED_ERROR, "%s: read failed: %s", zPath, k < 0 ? strerror(errno) : "file shrank");
      goto done;
    }
    n += (size_t)k;
  }
  a[n] = 0;
  *out = a;
  a = NULL;
  if (pn) *pn = n;
done:
  free(a);
  if (fd >= 0) close(fd);
  return rc;
}

static int write_all(int fd, const void *a, size_t n) {
  const char *p = a;
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* fsync the directory holding zPath so that a rename survives a power cut. */
static void fsync_parent(const char *zPath) {
  char *zCopy = strdup(zPath);
  if (zCopy == NULL) return;
  int fd = open(dirname(zCopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(zCopy);
}

int fed_file_write_atomic(const char *zPath, const void *a, size_t n, mode_t mode) {
  static _Thread_local unsigned iSerial;
  int rc = FED_OK;
  int fd = -1;
  char *zTmp = NULL;
  struct stat st;
  /* replace only a regular file: never a device, a directory or what a link points at */
  if (lstat(zPath, &st) == 0 && !S_ISREG(st.st_mode)) {
    return fed_error_set(FED_EINVALID, "%s: exists and is not a regular file; not replaced", zPath);
  }
  if (asprintf(&zTmp, "%s.tmp.%ld.%u", zPath, (long)getpid(), iSerial++) < 0) {
    zTmp = NULL;
    rc = fed_error_set(FED_ERROR, "%s: out of memory", zPath);
    goto done;
  }
  fd = open(zTmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    rc = fed_error_set(FED_ERROR, "%s: cannot create: %s", zTmp, strerror(errno));
    goto done;
  }
  if (fchmod(fd, mode) != 0 || write_all(fd, a, n) != 0 || fsync(fd) != 0) {
    rc = fed_error_set(FED_ERROR, "%s: cannot write: %s", zTmp, strerror(errno));
    goto done;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = fed_error_set(FED_ERROR, "%s: cannot write: %s", zTmp, strerror(errno));
    goto done;
  }
  fd = -1;
  if (rename(zTmp, zPath) != 0) {
    rc = fed_error_set(FED_ERROR, "%s: cannot replace: %s", zPath, strerror(errno));
    goto done;
  }
  fsync_parent(zPath);
done:
  if (fd >= 0) close(fd);
  if (rc != FED_OK && zTmp) unlink(zTmp);
  free(zTmp);
  return rc;
}

int fed_file_mkdir_p(const char *zPath, mode_t mode) {
  char z[4096];
  if (snprintf(z, sizeof z, "%s", zPath) >= (int)sizeof z) return fed_error_set(FED_ERROR, "%.80s…: path too long", zPath);
  for (char *p = z + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(z, mode) && errno != EEXIST) return fed_error_set(FED_ERROR, "%s: %s", z, strerror(errno));
    *p = '/';
  }
  if (mkdir(z, mode) && errno != EEXIST) return fed_error_set(FED_ERROR, "%s: %s", z, strerror(errno));
  return FED_OK;
}
