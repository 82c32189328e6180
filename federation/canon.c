/* canon.c - canonical JSON serialisation (see canon.h for the form). */
#include "canon.h"
#include "fed_buf.h"
#include "fed_error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct canon_key {
  const char *z;
  size_t n;
  json_t *pValue;
} canon_key;

static void buf_char(fed_buf *p, char c) {
  fed_buf_append(p, &c, 1);
}

/* Length of the well-formed UTF-8 sequence at z (at most n bytes), or 0 when it is
 * malformed: overlong forms, surrogates and code points above U+10FFFF are refused. */
static size_t utf8_sequence_len(const unsigned char *z, size_t n) {
  unsigned c = z[0];
  size_t nSeq;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    nSeq = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    nSeq = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    nSeq = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (nSeq > n) return 0;
  for (size_t i = 1; i < nSeq; i++) {
    if ((z[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (z[i] & 0x3F);
  }
  if (nSeq == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (nSeq == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  return nSeq;
}

static int canon_string(fed_buf *p, const char *z, size_t n) {
  static const char aHex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)z;
  size_t i = 0;
  buf_char(p, '"');
  while (i < n) {
    unsigned c = u[i];
    const char *zEsc = NULL;
    switch (c) {
      case '"': zEsc = "\\\""; break;
      case '\\': zEsc = "\\\\"; break;
      case '\b': zEsc = "\\b"; break;
      case '\f': zEsc = "\\f"; break;
      case '\n': zEsc = "\\n"; break;
      case '\r': zEsc = "\\r"; break;
      case '\t': zEsc = "\\t"; break;
      default: break;
    }
    if (zEsc) {
      fed_buf_append(p, zEsc, 2);
      i++;
    } else if (c < 0x20) {
      char aU[6] = {'\\', 'u', '0', '0', aHex[c >> 4], aHex[c & 0xF]};
      fed_buf_append(p, aU, sizeof(aU));
      i++;
    } else {
      size_t nSeq = utf8_sequence_len(u + i, n - i);
      if (nSeq == 0) {
        return fed_error_set(FED_EINVALID, "canonical JSON: invalid UTF-8 at byte %zu of a string", i);
      }
      fed_buf_append(p, u + i, nSeq);
      i += nSeq;
    }
  }
  buf_char(p, '"');
  return FED_OK;
}

static int canon_key_cmp(const void *pA, const void *pB) {
  const canon_key *a = pA;
  const canon_key *b = pB;
  size_t n = a->n < b->n ? a->n : b->n;
  int c = memcmp(a->z, b->z, n);
  if (c) return c;
  return (a->n > b->n) - (a->n < b->n);
}

static int canon_value(fed_buf *p, const json_t *v, int iDepth);

static int canon_object(fed_buf *p, const json_t *v, int iDepth) {
  int rc = FED_OK;
  size_t nKey = json_object_size(v);
  canon_key *aKey = NULL;
  size_t i = 0;
  if (nKey > 0) {
    aKey = calloc(nKey, sizeof(*aKey));
    if (aKey == NULL) {
      rc = fed_error_set(FED_ERROR, "canonical JSON: out of memory");
      goto done;
    }
  }
  for (void *it = json_object_iter((json_t *)v); it && i < nKey; it = json_object_iter_next((json_t *)v, it)) {
    aKey[i].z = json_object_iter_key(it);
    aKey[i].n = json_object_iter_key_len(it);
    aKey[i].pValue = json_object_iter_value(it);
    i++;
  }
  if (nKey > 1) qsort(aKey, nKey, sizeof(*aKey), canon_key_cmp);
  buf_char(p, '{');
  for (i = 0; i < nKey && rc == FED_OK; i++) {
    if (i > 0) buf_char(p, ',');
    rc = canon_string(p, aKey[i].z, aKey[i].n);
    if (rc == FED_OK) {
      buf_char(p, ':');
      rc = canon_value(p, aKey[i].pValue, iDepth + 1);
    }
  }
  buf_char(p, '}');
done:
  free(aKey);
  return rc;
}

static int canon_array(fed_buf *p, const json_t *v, int iDepth) {
  int rc = FED_OK;
  buf_char(p, '[');
  for (size_t i = 0; i < json_array_size(v) && rc == FED_OK; i++) {
    if (i > 0) buf_char(p, ',');
    rc = canon_value(p, json_array_get(v, i), iDepth + 1);
  }
  buf_char(p, ']');
  return rc;
}

static int canon_value(fed_buf *p, const json_t *v, int iDepth) {
  char aNum[32];
  if (v == NULL) return fed_error_set(FED_EINVALID, "canonical JSON: missing value");
  if (iDepth > FED_CANON_MAX_DEPTH) {
    return fed_error_set(FED_EINVALID, "canonical JSON: nested deeper than %d", FED_CANON_MAX_DEPTH);
  }
  switch (json_typeof(v)) {
    case JSON_OBJECT: return canon_object(p, v, iDepth);
    case JSON_ARRAY: return canon_array(p, v, iDepth);
    case JSON_STRING: return canon_string(p, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
      snprintf(aNum, sizeof(aNum), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
      fed_buf_append(p, aNum, strlen(aNum));
      return FED_OK;
    case JSON_REAL: return fed_error_set(FED_EINVALID, "canonical JSON: real numbers are refused (integers only)");
    case JSON_TRUE: fed_buf_append(p, "true", 4); return FED_OK;
    case JSON_FALSE: fed_buf_append(p, "false", 5); return FED_OK;
    case JSON_NULL: fed_buf_append(p, "null", 4); return FED_OK;
  }
  return fed_error_set(FED_EINVALID, "canonical JSON: unknown value type");
}

char *fed_canon(const json_t *v, size_t *pn) {
  fed_buf b = {0};
  int rc = canon_value(&b, v, 0);
  if (rc == FED_OK && b.bOom) rc = fed_error_set(FED_ERROR, "canonical JSON: out of memory");
  if (rc != FED_OK) {
    free(b.a);
    return NULL;
  }
  if (b.a == NULL) return NULL; /* unreachable: every value writes at least one byte */
  if (pn) *pn = b.n;
  return b.a;
}

int fed_canon_parse(json_t **out, const char *z, size_t n) {
  int rc = FED_OK;
  json_error_t err;
  json_t *v = NULL;
  char *zCanon = NULL;
  size_t nCanon = 0;
  if (out) *out = NULL;
  v = json_loadb(z, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  if (v == NULL) {
    rc = fed_error_set(FED_EINVALID, "not JSON: %s at byte %d", err.text, err.position);
    goto done;
  }
  zCanon = fed_canon(v, &nCanon);
  if (zCanon == NULL) {
    rc = FED_EINVALID; /* fed_canon said why */
    goto done;
  }
  if (nCanon != n || memcmp(zCanon, z, n) != 0) {
    size_t i = 0;
    while (i < n && i < nCanon && z[i] == zCanon[i]) i++;
    rc = fed_error_set(FED_EINVALID, "not canonical JSON: differs from its canonical form at byte %zu", i);
    goto done;
  }
  if (out) {
    *out = v;
    v = NULL;
  }
done:
  free(zCanon);
  json_decref(v);
  return rc;
}
