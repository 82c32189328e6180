/* fed_buf.c - the growable byte buffer (see fed_buf.h). */
#include "fed_buf.h"

#include <stdlib.h>
#include <string.h>

void fed_buf_append(fed_buf *p, const void *z, size_t n) {
  if (p->bOom) return;
  if (p->n + n + 1 > p->nAlloc) {
    size_t nNew = p->nAlloc ? p->nAlloc * 2 : 256;
    while (nNew < p->n + n + 1) nNew *= 2;
    char *aNew = realloc(p->a, nNew);
    if (aNew == NULL) {
      p->bOom = 1;
      return;
    }
    p->a = aNew;
    p->nAlloc = nNew;
  }
  if (n) memcpy(p->a + p->n, z, n);
  p->n += n;
  p->a[p->n] = 0;
}
