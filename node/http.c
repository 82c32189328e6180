/* http.c - building answers (JSON, errors, files, headers) and reading the parts of a
 * request a handler needs (query, cookies, typed JSON fields). No libwebsockets here:
 * server.c moves bytes, this file decides what they say. */
#include "http.h"
#include "messages.h"

#include <stdint.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed_error.h"
#include "rfc3339.h"
#include "validate.h"

_Static_assert((int)HTTP_PENDING < (int)FED_EEXPIRED && (int)HTTP_TOO_LONG < (int)FED_EEXPIRED &&
                   (int)HTTP_BUSY < (int)FED_EEXPIRED && (int)FED_EEXPIRED == -6 && (int)FED_ERROR == -1,
               "the HTTP layer's return codes lie outside FED_*'s -1..-6");

void buf_reserve(zc_buf *b, size_t n) {
  if (b->nAlloc >= n) return;
  char *z = realloc(b->z, n);
  if (!z) abort();
  b->z = z;
  b->nAlloc = n;
}

void buf_grow(zc_buf *b, size_t n) {
  if (b->n + n + 1 <= b->nAlloc) return;
  size_t nNew = b->nAlloc ? b->nAlloc : 256;
  while (nNew < b->n + n + 1) nNew *= 2;
  char *z = realloc(b->z, nNew);
  if (!z) abort(); /* out of memory: nothing sensible is left to do */
  b->z = z;
  b->nAlloc = nNew;
}

void buf_printf(zc_buf *b, const char *zFmt, ...) {
  char zSmall[512];
  va_list ap;
  va_start(ap, zFmt);
  int n = vsnprintf(zSmall, sizeof zSmall, zFmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof zSmall) {
    buf_append(b, zSmall, (size_t)n);
    return;
  }
  char *z = malloc((size_t)n + 1);
  if (!z) abort();
  va_start(ap, zFmt);
  vsnprintf(z, (size_t)n + 1, zFmt, ap);
  va_end(ap);
  buf_append(b, z, (size_t)n);
  free(z);
}

void buf_free(zc_buf *b) {
  free(b->z);
  memset(b, 0, sizeof(*b));
}

void http_req_reset(zc_req *r) {
  buf_free(&r->body);
  buf_free(&r->out);
  buf_free(&r->outHeaders);
  json_decref(r->pJson);
  json_decref(r->pEvents);
  r->pJson = NULL;
  r->pEvents = NULL;
  r->status = 0;
  r->zOutType = NULL;
  r->zFile[0] = 0;
  r->zFileType[0] = 0;
}

/* ---- JSON text: the node's own writer of jansson values ----
 * Every answer leaves through here. jansson's dumper checks and walks each string one
 * UTF-8 character at a time through a callback (a fifth of a section save, whose answer is
 * mostly Chinese text); the strings of an answer are valid UTF-8 already (the API checks
 * what comes in, this node writes what is stored), so runs of bytes that need no escape
 * are copied whole. The text is what json_dumps(v, JSON_COMPACT) writes: members in
 * insertion order, '/' and non-ASCII unescaped, reals as jansson writes "%.17g". */

/* Does any of the 8 bytes in x need an escape (below 0x20, '"' or '\\')? Exact as a yes
 * or no (the classic "has a byte less than n" and "has a zero byte" word tricks). */
static int word_needs_escape(uint64_t x) {
  const uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  uint64_t q = x ^ (k01 * '"'), s = x ^ (k01 * '\\');
  return (((x - k01 * 0x20) & ~x) | ((q - k01) & ~q) | ((s - k01) & ~s)) & k80 ? 1 : 0;
}

void buf_json_string(zc_buf *b, const char *z, size_t n) {
  static const char aHex[] = "0123456789ABCDEF";
  size_t i = 0, iRun = 0;
  buf_append(b, "\"", 1);
  while (i < n) {
    uint64_t x;
    if (i + 8 <= n) { /* eight bytes at a time while none needs an escape (most of a text) */
      memcpy(&x, z + i, 8);
      if (!word_needs_escape(x)) {
        i += 8;
        continue;
      }
    }
    unsigned char c = (unsigned char)z[i++];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    buf_append(b, z + iRun, i - 1 - iRun);
    char zEsc[6] = {'\\', (char)c, 0, 0, 0, 0};
    size_t nEsc = 2;
    switch (c) {
      case '"': case '\\': break;
      case '\b': zEsc[1] = 'b'; break;
      case '\f': zEsc[1] = 'f'; break;
      case '\n': zEsc[1] = 'n'; break;
      case '\r': zEsc[1] = 'r'; break;
      case '\t': zEsc[1] = 't'; break;
      default:
        memcpy(zEsc + 1, "u00", 3);
        zEsc[4] = aHex[c >> 4];
        zEsc[5] = aHex[c & 15];
        nEsc = 6;
    }
    buf_append(b, zEsc, nEsc);
    iRun = i;
  }
  buf_append(b, z + iRun, n - iRun);
  buf_append(b, "\"", 1);
}

void buf_json_int(zc_buf *b, json_int_t v) {
  char z[24], *p = z + sizeof z;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do *--p = (char)('0' + u % 10); while ((u /= 10) != 0);
  if (v < 0) *--p = '-';
  buf_append(b, p, (size_t)(z + sizeof z - p));
}

static void buf_json_real(zc_buf *b, double d) {
  char z[40];
  int n = snprintf(z, sizeof z - 2, "%.17g", d);
  if (n < 0 || (size_t)n >= sizeof z - 2) return;
  char *e = strchr(z, 'e');
  if (e) { /* jansson's form of the exponent: no '+', no leading zeros ("1e300", "1e-10") */
    char *q = e + 1, *d0 = e + 1;
    if (*q == '+') q++;
    else if (*q == '-') q++, d0++;
    while (*q == '0' && q[1]) q++;
    memmove(d0, q, strlen(q) + 1);
    n = (int)strlen(z);
  } else if (!strchr(z, '.')) {
    memcpy(z + n, ".0", 3);
    n += 2;
  }
  buf_append(b, z, (size_t)n);
}

void buf_json(zc_buf *b, const json_t *v) {
  const char *zKey;
  json_t *m;
  size_t i;
  int n = 0;
  switch (json_typeof(v)) {
    case JSON_OBJECT:
      buf_append(b, "{", 1);
      json_object_foreach((json_t *)v, zKey, m) {
        if (n++) buf_append(b, ",", 1);
        buf_json_string(b, zKey, strlen(zKey));
        buf_append(b, ":", 1);
        buf_json(b, m);
      }
      buf_append(b, "}", 1);
      break;
    case JSON_ARRAY:
      buf_append(b, "[", 1);
      json_array_foreach(v, i, m) {
        if (i) buf_append(b, ",", 1);
        buf_json(b, m);
      }
      buf_append(b, "]", 1);
      break;
    case JSON_STRING: buf_json_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: buf_json_int(b, json_integer_value(v)); break;
    case JSON_REAL: buf_json_real(b, json_real_value(v)); break;
    case JSON_TRUE: buf_append(b, "true", 4); break;
    case JSON_FALSE: buf_append(b, "false", 5); break;
    case JSON_NULL: buf_append(b, "null", 4); break;
  }
}

int http_json_text(zc_req *r, int status) {
  r->status = status;
  r->zOutType = "application/json; charset=utf-8";
  return 0;
}

int http_json(zc_req *r, int status, json_t *pBody) {
  r->out.n = 0;
  if (pBody) buf_json(&r->out, pBody);
  json_decref(pBody);
  return http_json_text(r, status);
}

/* vsnprintf into z (size n) and, if it was cut, cut further to a whole UTF-8 character. */
static void format_message(char *z, size_t n, const char *zFmt, va_list ap) {
  int len = vsnprintf(z, n, zFmt, ap);
  if (len < 0) {
    z[0] = 0;
  } else if ((size_t)len >= n) {
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)z[k] & 0xC0) == 0x80) k--; /* back to a lead byte */
    z[k] = 0;
  }
}

/* The error envelope in the caller's language: in Chinese the call site's message (it names
 * the field or the limit), else the catalogue's message for the code (messages.h). */
static int error_with(zc_req *r, int status, const char *zCode, json_t *pExtra, const char *zMsg) {
  const char *zOther = r->iLang > LANG_ZH ? message_for(r->node, r->iLang, zCode) : NULL;
  json_t *e = json_pack("{s:s, s:s}", "code", zCode, "message", zOther ? zOther : zMsg);
  if (!e) { /* zMsg was not UTF-8 */
    const char *zPlain = message_for(r->node, LANG_ZH, zCode);
    e = json_pack("{s:s, s:s}", "code", zCode, "message", zPlain ? zPlain : "请求有误");
  }
  if (zOther) http_header(r, "Content-Language", "%s", message_lang_tag(r->iLang));
  if (pExtra) json_object_update(e, pExtra);
  json_decref(pExtra);
  r->out.n = 0;
  return http_json(r, status, json_pack("{s:o}", "error", e));
}

int http_error(zc_req *r, int status, const char *zCode, const char *zFmt, ...) {
  char zMsg[2048];
  va_list ap;
  va_start(ap, zFmt);
  format_message(zMsg, sizeof zMsg, zFmt, ap);
  va_end(ap);
  return error_with(r, status, zCode, NULL, zMsg);
}

int http_error_extra(zc_req *r, int status, const char *zCode, json_t *pExtra, const char *zFmt, ...) {
  char zMsg[2048];
  va_list ap;
  va_start(ap, zFmt);
  format_message(zMsg, sizeof zMsg, zFmt, ap);
  va_end(ap);
  return error_with(r, status, zCode, pExtra, zMsg);
}

int http_field_error(zc_req *r, int status, const char *zCode, const char *zField, const char *zMsg) {
  return error_with(r, status, zCode, json_pack("{s:s}", "field", zField), zMsg);
}

int http_file(zc_req *r, const char *zPath, const char *zType) {
  snprintf(r->zFile, sizeof r->zFile, "%s", zPath);
  snprintf(r->zFileType, sizeof r->zFileType, "%s", zType);
  r->status = 200;
  return 0;
}

void http_header(zc_req *r, const char *zName, const char *zFmt, ...) {
  char zVal[1024];
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(zVal, sizeof zVal, zFmt, ap);
  va_end(ap);
  buf_printf(&r->outHeaders, "%s: %s\r\n", zName, zVal);
}

/* The file name extension of a stored upload's type. */
static const char *type_extension(const char *zType) {
  if (zType && strcmp(zType, "image/jpeg") == 0) return ".jpg";
  if (zType && strcmp(zType, "image/png") == 0) return ".png";
  if (zType && strcmp(zType, "application/pdf") == 0) return ".pdf";
  return "";
}

/* RFC 5987 attr-char: what filename*= may carry unencoded. */
static int is_attr_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c);
}

void http_download_name(zc_req *r, const char *zName, const char *zAscii, const char *zType) {
  static const char aHex[] = "0123456789ABCDEF";
  const char *zExt = type_extension(zType);
  zc_buf *b = &r->outHeaders;
  /* the plain fallback: only letters, digits, '-', '_' and '.', never a quote or a path */
  buf_printf(b, "Content-Disposition: attachment; filename=\"");
  for (const char *z = zAscii; *z; z++) {
    char c = strchr("-_.", *z) || (*z >= '0' && *z <= '9') || ((*z | 0x20) >= 'a' && (*z | 0x20) <= 'z') ? *z : '_';
    buf_append(b, &c, 1);
  }
  buf_printf(b, "%s\"; filename*=UTF-8''", zExt);
  /* the real name, percent-encoded; path separators become '_' first */
  for (const unsigned char *z = (const unsigned char *)zName; *z; z++) {
    unsigned char c = *z == '/' || *z == '\\' || *z < 0x20 || *z == 0x7F ? '_' : *z;
    if (is_attr_char(c)) buf_append(b, &c, 1);
    else buf_printf(b, "%%%c%c", aHex[c >> 4], aHex[c & 15]);
  }
  buf_printf(b, "%s\r\n", zExt);
}

int http_query(const zc_req *r, const char *zName, char *out, size_t nOut) {
  size_t nName = strlen(zName);
  const char *z = r->zQuery;
  while (*z) {
    const char *zEnd = strchr(z, HTTP_QUERY_SEP);
    size_t n = zEnd ? (size_t)(zEnd - z) : strlen(z);
    if (n > nName && strncmp(z, zName, nName) == 0 && z[nName] == '=') {
      if (n - nName - 1 >= nOut) return HTTP_TOO_LONG; /* never a silently cut value */
      snprintf(out, nOut, "%.*s", (int)(n - nName - 1), z + nName + 1);
      return 0;
    }
    if (n == nName && strncmp(z, zName, nName) == 0) {
      out[0] = 0;
      return 0;
    }
    z += n;
    if (*z == HTTP_QUERY_SEP) z++;
  }
  return -1;
}

int http_cookie(const zc_req *r, const char *zName, char *out, size_t nOut) {
  size_t nName = strlen(zName);
  const char *z = r->zCookie;
  while (*z) {
    while (*z == ' ' || *z == ';') z++;
    const char *zEnd = strchr(z, ';');
    size_t n = zEnd ? (size_t)(zEnd - z) : strlen(z);
    if (n > nName && strncmp(z, zName, nName) == 0 && z[nName] == '=') {
      size_t nVal = n - nName - 1;
      if (nVal >= nOut) return -1;
      memcpy(out, z + nName + 1, nVal);
      out[nVal] = 0;
      return 0;
    }
    z += n;
  }
  return -1;
}

const char *http_status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

void json_set_time(json_t *o, const char *zKey) {
  json_t *v = json_object_get(o, zKey);
  char zTime[FED_RFC3339_SIZE];
  if (!json_is_integer(v) || fed_rfc3339_format(zTime, (time_t)json_integer_value(v))) return;
  json_object_set_new(o, zKey, json_string(zTime));
}

void json_set_times(json_t *a, const char *zKey) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) json_set_time(v, zKey);
}

/* A string's own check: whole (no NUL inside), valid UTF-8 without control characters
 * (newline and tab only in multi-line text) or noncharacters. */
static const char *string_error(const json_t *v, int bMultiline) {
  const char *z = json_string_value(v);
  if (strlen(z) != json_string_length(v)) return "含有不允许的字符（NUL）";
  return validate_text(z, SIZE_MAX, bMultiline);
}

static const char *text_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired, int bMultiline) {
  json_t *v = r->pJson ? json_object_get(r->pJson, zKey) : NULL;
  const char *zErr;
  char zMsg[256];
  if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
    if (!bRequired) return v && json_is_string(v) ? json_string_value(v) : NULL;
    snprintf(zMsg, sizeof zMsg, "请填写%s", zLabel);
    http_field_error(r, 400, "missing_field", zKey, zMsg);
    return NULL;
  }
  if (!json_is_string(v)) {
    snprintf(zMsg, sizeof zMsg, "%s应为文本", zLabel);
    http_field_error(r, 400, "invalid_field", zKey, zMsg);
    return NULL;
  }
  if ((zErr = string_error(v, bMultiline))) {
    snprintf(zMsg, sizeof zMsg, "%s%s", zLabel,
             bMultiline ? "含有不允许的字符" : "应为一行文本，不能含有换行、制表符等控制字符");
    http_field_error(r, 400, "invalid_field", zKey, zMsg);
    return NULL;
  }
  return json_string_value(v);
}

const char *json_str_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired) {
  return text_field(r, zKey, zLabel, bRequired, 0);
}

const char *json_text_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired) {
  return text_field(r, zKey, zLabel, bRequired, 1);
}

const char *json_text_capped(zc_req *r, const char *zKey, const char *zLabel, size_t nMax, int bMultiline,
                             int bRequired) {
  const char *z = text_field(r, zKey, zLabel, bRequired, bMultiline);
  const char *zErr = z ? validate_text(z, nMax, bMultiline) : NULL;
  if (zErr) {
    http_field_error(r, 400, "invalid_field", zKey, zErr);
    return NULL;
  }
  return z;
}

const char *json_date_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired) {
  const char *z = text_field(r, zKey, zLabel, bRequired, 0);
  long d;
  if (z && *z && validate_date(z, &d)) {
    char zMsg[96];
    snprintf(zMsg, sizeof zMsg, "%s应为有效日期（YYYY-MM-DD）", zLabel);
    http_field_error(r, 400, "invalid_field", zKey, zMsg);
    return NULL;
  }
  return z;
}

/* Is member name zKey of nKey bytes one that a body may use (no NUL, one line)? */
static int key_ok(const char *zKey, size_t nKey) {
  return strlen(zKey) == nKey && validate_text(zKey, SIZE_MAX, 0) == NULL;
}

/* Does v hold, anywhere, a string (member name or value) that not even multi-line text
 * may hold? */
static int holds_bad_string(json_t *v) {
  json_t *e;
  size_t i;
  switch (json_typeof(v)) {
    case JSON_STRING: return string_error(v, 1) != NULL;
    case JSON_ARRAY:
      json_array_foreach(v, i, e) if (holds_bad_string(e)) return 1;
      return 0;
    case JSON_OBJECT:
      for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it))
        if (!key_ok(json_object_iter_key(it), json_object_iter_key_len(it)) ||
            holds_bad_string(json_object_iter_value(it)))
          return 1;
      return 0;
    default: return 0;
  }
}

int http_check_body_text(zc_req *r) {
  for (void *it = json_object_iter(r->pJson); it; it = json_object_iter_next(r->pJson, it)) {
    const char *zKey = json_object_iter_key(it);
    int bKeyOk = key_ok(zKey, json_object_iter_key_len(it));
    if (bKeyOk && !holds_bad_string(json_object_iter_value(it))) continue;
    if (bKeyOk)
      http_field_error(r, 400, "invalid_field", zKey, "提交的内容含有不允许的字符（NUL、控制字符或非字符码位）");
    else
      http_error(r, 400, "invalid_field", "字段名含有不允许的字符（NUL、控制字符或非字符码位）");
    return -1;
  }
  return 0;
}

int json_int_field(zc_req *r, const char *zKey, const char *zLabel, int bRequired, long long *out) {
  json_t *v = r->pJson ? json_object_get(r->pJson, zKey) : NULL;
  char zMsg[256];
  if (!v || json_is_null(v)) {
    if (!bRequired) return 1;
    snprintf(zMsg, sizeof zMsg, "请填写%s", zLabel);
    http_field_error(r, 400, "missing_field", zKey, zMsg);
    return -1;
  }
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return 0;
  }
  if (json_is_string(v)) { /* forms send numbers as text: accept plain decimal digits */
    const char *z = json_string_value(v);
    char *zEnd = NULL;
    long long n = strtoll(z, &zEnd, 10);
    if (*z && zEnd && *zEnd == 0 && strlen(z) < 18) {
      *out = n;
      return 0;
    }
  }
  snprintf(zMsg, sizeof zMsg, "%s应为整数", zLabel);
  http_field_error(r, 400, "invalid_field", zKey, zMsg);
  return -1;
}

/* The q parameter among the parameters z[0..zEnd) of a list element; 1000 when absent. */
static int pref_weight(const char *z, const char *zEnd) {
  for (const char *zQ = z; zQ < zEnd && (zQ = memchr(zQ, ';', (size_t)(zEnd - zQ))) != NULL;) {
    zQ++;
    while (zQ < zEnd && (*zQ == ' ' || *zQ == '\t')) zQ++;
    if (zEnd - zQ < 2 || (zQ[0] != 'q' && zQ[0] != 'Q') || zQ[1] != '=') continue;
    zQ += 2;
    if (zQ >= zEnd || (*zQ != '0' && *zQ != '1')) return -1;
    int w = (*zQ - '0') * 1000, scale = 100;
    if (++zQ < zEnd && *zQ == '.')
      for (zQ++; zQ < zEnd && *zQ >= '0' && *zQ <= '9' && scale; zQ++, scale /= 10) w += (*zQ - '0') * scale;
    while (zQ < zEnd && (*zQ == ' ' || *zQ == '\t')) zQ++;
    return (zQ < zEnd && *zQ != ';') || w > 1000 ? -1 : w;
  }
  return 1000;
}

int http_pref_next(const char **pz, http_pref *p) {
  const char *z = *pz;
  while (*z == ',' || *z == ' ' || *z == '\t') z++;
  *pz = z;
  if (!*z) return 0;
  const char *zEnd = strchr(z, ',');
  if (!zEnd) zEnd = z + strlen(z);
  size_t n = 0;
  while (z + n < zEnd && z[n] != ';' && z[n] != ' ' && z[n] != '\t') n++;
  p->z = z;
  p->n = n;
  p->q = pref_weight(z + n, zEnd);
  *pz = zEnd;
  return 1;
}
