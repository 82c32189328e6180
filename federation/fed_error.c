/* fed_error.c - the per-thread "last error" message of the federation library. */
#include "fed_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char zLastError[512];

const char *fed_last_error(void) {
  return zLastError;
}

int fed_error_set(int rc, const char *zFmt, ...) {
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zLastError, sizeof(zLastError), zFmt, ap);
  va_end(ap);
  return rc;
}

int fed_error_wrap(int rc, const char *zFmt, ...) {
  char zOld[sizeof(zLastError)];
  int n;
  va_list ap;
  memcpy(zOld, zLastError, sizeof(zOld));
  va_start(ap, zFmt);
  n = vsnprintf(zLastError, sizeof(zLastError), zFmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n + 3 < sizeof(zLastError) && zOld[0]) {
    /* the old message is cut to fit: a bounded copy, not snprintf (which would warn) */
    size_t nRoom = sizeof(zLastError) - (size_t)n - 3;
    size_t nOld = strnlen(zOld, nRoom);
    memcpy(zLastError + n, ": ", 2);
    memcpy(zLastError + n + 2, zOld, nOld);
    zLastError[n + 2 + nOld] = 0;
  }
  return rc;
}

void fed_error_clear(void) {
  zLastError[0] = 0;
}
