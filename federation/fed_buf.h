/* fed_buf.h - the federation library's one growable byte buffer (canonical JSON, packs).
 * The bytes are always followed by a NUL that n does not count. A failed allocation sets
 * bOom; later appends then do nothing, so callers check once at the end. */
#ifndef ZC_FED_BUF_H
#define ZC_FED_BUF_H

#include <stddef.h>

typedef struct fed_buf {
  char *a;
  size_t n;
  size_t nAlloc;
  int bOom;
} fed_buf;

void fed_buf_append(fed_buf *p, const void *z, size_t n);

#endif
